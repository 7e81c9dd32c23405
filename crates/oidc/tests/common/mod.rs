//! The real OpenID provider (`tests/oidc/provider.mjs`, npm `oidc-provider`) started on
//! 127.0.0.1 for one test with this crate's client, and the whole sign-in through its forms by
//! the scripted browser of `tradia-test-oidc` (shared with the service's tests).
//!
//! Without `TRADIA_OIDC_PROVIDER` or `node`, a test skips with a message, and fails when
//! `CI=true`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use tradia_oidc::{OidcClient, OidcSettings};
use tradia_test_oidc::Browser;
use url::Url;

pub use tradia_test_oidc::{CLIENT_ID, CLIENT_SECRET};

/// Never served: the scripted browser stops at the provider's redirect to it.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/api/v1/auth/oidc/callback";
pub const POST_LOGOUT_URI: &str = "http://127.0.0.1:9/";

/// A running provider with this crate's test client; killed when dropped.
pub struct Provider {
    pub issuer: String,
    inner: tradia_test_oidc::Provider,
}

impl Provider {
    /// Starts the provider, or returns `None` (after saying why) when the test must skip.
    pub async fn start() -> Option<Self> {
        Self::start_with(&[]).await
    }

    /// Starts the provider with extra environment variables (`OIDC_TAMPER`…).
    pub async fn start_with(env: &[(&str, &str)]) -> Option<Self> {
        let inner = tradia_test_oidc::Provider::start(REDIRECT_URI, POST_LOGOUT_URI, env).await?;
        Some(Self { issuer: inner.issuer.clone(), inner })
    }

    /// The settings for this provider's test client, reading `realm_access.roles`.
    pub fn settings(&self) -> OidcSettings {
        let mut settings = OidcSettings::new(&self.issuer, CLIENT_ID, CLIENT_SECRET.into());
        settings.role_claim = Some("realm_access.roles".into());
        settings.admin_values = vec!["tradia-admin".into()];
        settings.http_timeout = Duration::from_secs(10);
        settings
    }

    pub async fn client(&self) -> OidcClient {
        OidcClient::discover(self.settings()).await.expect("discovery")
    }

    /// Stops the provider and waits until it has exited.
    pub async fn stop(self) {
        self.inner.stop().await;
    }
}

pub fn redirect_uri() -> Url {
    Url::parse(REDIRECT_URI).unwrap()
}

/// What the provider sent the browser back to Tradia's callback with.
#[derive(Debug)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Runs the whole flow for `login` and returns the pending login with the callback.
pub async fn sign_in(client: &OidcClient, login: &str) -> (tradia_oidc::PendingLogin, Callback) {
    let (authorize_url, pending) = client.begin(&redirect_uri(), "/jobs");
    let url = Browser::new()
        .through_provider(authorize_url, login, |url| url.as_str().starts_with(REDIRECT_URI))
        .await;
    let query: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    let callback = Callback {
        code: query.get("code").cloned(),
        state: query.get("state").cloned(),
        error: query.get("error").cloned(),
    };
    (pending, callback)
}
