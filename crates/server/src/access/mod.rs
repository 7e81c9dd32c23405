//! The protections every request passes before a handler sees it, whatever its credentials:
//! where it really comes from ([`origin`]), the `Host` check against DNS rebinding ([`host`]),
//! cross-site request forgery ([`csrf`]), request rate limits ([`rate`]) and the security
//! headers of every response ([`headers`]).
//!
//! They are layers rather than handler code so that a new route cannot forget them; the router
//! ([`crate::api::router`]) stacks them in the order [`origin`] → [`headers`] → [`host`] →
//! the caller ([`crate::accounts::caller::resolve`]) → [`rate`] → [`csrf`] (outermost first), so
//! even a refused request gets the security headers, nothing is counted for a request with the
//! wrong `Host`, and a signed-in user is limited as a user wherever their requests come from.

pub mod csrf;
pub mod headers;
pub mod host;
pub mod origin;
pub mod rate;

pub use origin::RequestOrigin;
pub use rate::RateLimits;

/// Paths that monitoring calls without credentials and whatever `Host` it uses (a probe
/// addresses the pod or container directly): exempt from the `Host` check and rate limits.
pub const PROBE_PATHS: [&str; 3] = ["/livez", "/readyz", "/metrics"];

/// True for one of [`PROBE_PATHS`].
pub fn is_probe(path: &str) -> bool {
    PROBE_PATHS.contains(&path)
}
