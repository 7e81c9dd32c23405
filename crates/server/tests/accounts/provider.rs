//! The real OpenID provider (`tests/oidc/provider.mjs`, npm `oidc-provider`) registered with a
//! service's redirect URI, and the sign-in through the service and the provider's forms by the
//! scripted browser of `tradia-test-oidc` (shared with `tradia-oidc`'s tests).
//!
//! Without `TRADIA_OIDC_PROVIDER` or `node`, a test skips with a message, and fails when
//! `CI=true`.

use url::Url;

pub use tradia_test_oidc::{Browser, CLIENT_ID, CLIENT_SECRET, Provider, location};

/// Starts the provider for a service at `public` (its callback and page registered), with extra
/// environment variables (`OIDC_TAMPER`…); `None` (after saying why) to skip.
pub async fn start(public: &Url, env: &[(&str, &str)]) -> Option<Provider> {
    let callback = public.join("api/v1/auth/oidc/callback").unwrap();
    Provider::start(callback.as_str(), public.as_str(), env).await
}

/// Where the provider sent the browser back, before the browser went there.
pub struct Callback {
    pub url: Url,
}

/// Starts signing in at the service (`start`) and goes through the provider's forms as `login`
/// until the provider redirects to the service's callback, which it returns.
pub async fn sign_in_until_callback(browser: &mut Browser, start: &Url, login: &str) -> Callback {
    let response = browser.get(start).await;
    assert_eq!(response.status(), 302, "start: {}", response.text().await.unwrap());
    let url = start.join(location(&response)).unwrap();
    let service_origin = start.origin();
    let url = browser.through_provider(url, login, |url| url.origin() == service_origin).await;
    Callback { url }
}
