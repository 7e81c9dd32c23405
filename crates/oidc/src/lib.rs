//! OpenID Connect relying party for Tradia: issuer discovery, the authorisation-code flow with
//! PKCE, ID-token validation, and the claims turned into an [`Identity`]. It knows no store and
//! no HTTP server: the server keeps the [`PendingLogin`] between the redirect and the callback,
//! turns an [`Identity`] into a user and a session, and maps each [`OidcError`] to its code.
//!
//! ```no_run
//! # async fn sign_in(settings: tradia_oidc::OidcSettings, callback: url::Url)
//! # -> Result<(), tradia_oidc::OidcError> {
//! use tradia_oidc::{LazyOidcClient, PendingLogin, SealKey};
//! let oidc = LazyOidcClient::new(settings); // at start-up; discovers on first use
//! let key = SealKey::derive(b"a secret every replica shares")?;
//! // GET /api/v1/auth/oidc/start?return_to=/jobs
//! let (authorize_url, pending) = oidc.get().await?.begin(&callback, "/jobs");
//! let cookie = pending.seal(&key)?; // … set it, redirect to `authorize_url` …
//! // GET /api/v1/auth/oidc/callback?code=…&state=…
//! let pending = PendingLogin::unseal(&cookie, &key)?;
//! let identity = oidc.get().await?.complete(pending, "code", "state").await?;
//! let admin = tradia_oidc::is_admin(&identity, oidc.settings());
//! # let _ = (authorize_url, admin); Ok(()) }
//! ```
//!
//! `README.md` beside this crate says what the server does with each piece, route by route,
//! and which API code each [`OidcError`] becomes.

#![forbid(unsafe_code)]

mod claims;
mod client;
mod error;
mod http;
mod lazy;
mod mapping;
mod pending;
mod seal;
mod settings;

pub use claims::{Identity, is_admin};
pub use client::OidcClient;
pub use error::{OidcError, OidcErrorKind};
pub use http::MAX_BODY_BYTES;
pub use lazy::{DEFAULT_RETRY_AFTER, LazyOidcClient};
pub use pending::{PendingLogin, local_return_to};
pub use seal::SealKey;
pub use settings::{DEFAULT_HTTP_TIMEOUT, DEFAULT_LOGIN_TIMEOUT, DEFAULT_SCOPES, OidcSettings};
