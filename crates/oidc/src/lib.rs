//! OpenID Connect relying party for Tradia: issuer discovery, the authorisation-code flow with
//! PKCE, ID-token validation, and the claims turned into an [`Identity`]. It knows no store and
//! no HTTP server: the server keeps the [`PendingLogin`] between the redirect and the callback,
//! turns an [`Identity`] into a user and a session, and maps each [`OidcError`] to its code.
//!
//! ```no_run
//! # async fn sign_in(settings: tradia_oidc::OidcSettings, callback: url::Url)
//! # -> Result<(), tradia_oidc::OidcError> {
//! let client = tradia_oidc::OidcClient::discover(settings).await?; // once, at start-up
//! // GET /api/v1/auth/oidc/start?return_to=/jobs
//! let (authorize_url, pending) = client.begin(&callback, "/jobs");
//! // … keep `pending` under `pending.state()`, redirect to `authorize_url` …
//! // GET /api/v1/auth/oidc/callback?code=…&state=…: take `pending` back (and delete it)
//! let identity = client.complete(pending, "code", "state").await?;
//! let admin = tradia_oidc::is_admin(&identity, client.settings());
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
