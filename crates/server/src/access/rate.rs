//! Request rate limits: per user (once a caller is known) or per address, with a stricter one
//! for sign-in and set-up.
//!
//! A GCRA limiter (`governor`) per key answers in constant time and memory per key, without a
//! timer per client. The general limit defaults to a few hundred requests a minute, so ordinary
//! scripted use is never refused; the sign-in limit is what makes guessing passwords from one
//! address slow even before the per-account throttle of the sign-in itself. Over a limit the
//! answer is `429 rate_limited` with `Retry-After`. Probes and metrics are never limited.

use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::origin;
use crate::error::{ApiError, ErrorCode};
use crate::settings::AccessSettings;
use crate::state::AppState;

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// A signed-in user, by id, wherever the requests come from.
    User(String),
    /// An address, for requests without a known user.
    Addr(IpAddr),
}

/// Forget keys unseen for a while every this many checks, so the maps do not grow without end.
const SWEEP_EVERY: u64 = 4096;

/// The service's limiters.
pub struct RateLimits {
    general: Option<DefaultKeyedRateLimiter<RateKey>>,
    sign_in: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").field("general", &self.general.is_some()).finish()
    }
}

/// A quota of `n` a minute, allowing the whole minute's worth at once.
fn per_minute(n: NonZeroU32) -> Quota {
    Quota::per_minute(n).allow_burst(n)
}

/// The address requests without a socket (router tests) are counted against.
const NO_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl RateLimits {
    /// Limiters for these settings.
    pub fn new(settings: &AccessSettings) -> Self {
        RateLimits {
            general: settings.rate_limit_per_minute.map(|n| RateLimiter::keyed(per_minute(n))),
            sign_in: RateLimiter::keyed(per_minute(settings.sign_in_rate_per_minute)),
            checks: AtomicU64::new(0),
        }
    }

    fn sweep(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            if let Some(general) = &self.general {
                general.retain_recent();
            }
            self.sign_in.retain_recent();
        }
    }

    /// Counts one request against `key`; `Err` holds how long to wait.
    pub fn check(&self, key: &RateKey) -> Result<(), Duration> {
        self.sweep();
        let Some(general) = &self.general else { return Ok(()) };
        general
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Counts one sign-in or set-up attempt from `addr`; `Err` holds how long to wait.
    pub fn check_sign_in(&self, addr: Option<IpAddr>) -> Result<(), Duration> {
        self.sign_in
            .check_key(&addr.unwrap_or(NO_ADDRESS))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

fn limited(wait: Duration, what: &str) -> Response {
    ApiError::new(
        ErrorCode::RateLimited,
        format!("too many {what}; try again in {} s", wait.as_secs().max(1)),
    )
    .with_retry_after(wait)
    .into_response()
}

/// The key of a request: its user when one is known (set by the caller layer), else its client
/// address.
pub fn key_of(request: &Request) -> RateKey {
    match request.extensions().get::<RateKey>() {
        Some(key) => key.clone(),
        None => RateKey::Addr(origin::of(request).client.unwrap_or(NO_ADDRESS)),
    }
}

/// Layer: the general limit.
pub async fn limit(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if super::is_probe(request.uri().path()) {
        return next.run(request).await;
    }
    match state.rate_limits.check(&key_of(&request)) {
        Ok(()) => next.run(request).await,
        Err(wait) => limited(wait, "requests"),
    }
}

/// Route layer of sign-in and set-up: the stricter limit, per client address.
pub async fn limit_sign_in(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    match state.rate_limits.check_sign_in(origin::of(&request).client) {
        Ok(()) => next.run(request).await,
        Err(wait) => limited(wait, "sign-in attempts"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_has_its_own_budget_and_the_wait_is_given() {
        let settings = AccessSettings {
            rate_limit_per_minute: NonZeroU32::new(3),
            sign_in_rate_per_minute: NonZeroU32::MIN,
            ..AccessSettings::default()
        };
        let limits = RateLimits::new(&settings);
        let a = RateKey::User("a".into());
        let b = RateKey::User("b".into());
        for _ in 0..3 {
            assert!(limits.check(&a).is_ok());
        }
        let wait = limits.check(&a).unwrap_err();
        assert!(wait > Duration::from_secs(10) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limits.check(&b).is_ok(), "another user is not slowed down");
        assert!(limits.check(&RateKey::Addr(NO_ADDRESS)).is_ok());
        assert!(limits.check_sign_in(None).is_ok());
        assert!(limits.check_sign_in(None).is_err());
        assert!(limits.check_sign_in(Some("192.0.2.1".parse().unwrap())).is_ok());
        let off = RateLimits::new(&AccessSettings { rate_limit_per_minute: None, ..settings });
        for _ in 0..100 {
            assert!(off.check(&a).is_ok());
        }
    }
}
