//! Single sign-on through the service against a real OpenID provider: sign in with the
//! provider's forms, come back signed in with the role the claim gives, see only one's own
//! jobs, sign out (with the provider's sign-out URL); a tampered state or ID token is refused
//! and opens no session.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;
use tradia_server::settings::access::{AuthMethods, OidcSettings, PublicUrl};
use tradia_server::settings::{AccessSettings, AuthMode};
use tradia_server::{PseudoGateway, ServerSettings};
use url::Url;

use crate::harness::{App, Auth, Client};
use crate::provider::{Browser, CLIENT_ID, CLIENT_SECRET, Provider, sign_in_until_callback};

/// A service with local and OpenID sign-in on a port chosen beforehand (the provider must know
/// the callback), and its provider (`tamper`: `OIDC_TAMPER`). `None` when the test skips.
async fn start(tamper: Option<&str>) -> Option<(App, Provider, Url)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let public = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let env: Vec<(&str, &str)> = tamper.map(|t| ("OIDC_TAMPER", t)).into_iter().collect();
    let provider = crate::provider::start(&public, &env).await?;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = ServerSettings::for_tests(dir.path());
    settings.listen = format!("127.0.0.1:{port}").parse().unwrap();
    let oidc = OidcSettings {
        issuer: Url::parse(&provider.issuer).unwrap(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        role_claim: Some("realm_access.roles".into()),
        admin_values: vec!["tradia-admin".into()],
        label: "Test provider".into(),
    };
    settings.access = AccessSettings {
        mode: AuthMode::Accounts(AuthMethods {
            local: true,
            oidc: Some(Box::new(oidc)),
            proxy: None,
        }),
        public_url: Some(PublicUrl::parse(public.as_str()).unwrap()),
        ..AccessSettings::default()
    };
    let app = App::start_with(dir, settings, Arc::new(PseudoGateway)).await;
    Some((app, provider, public))
}

fn start_url(public: &Url, return_to: &str) -> Url {
    let mut url = public.join("api/v1/auth/oidc/start").unwrap();
    url.query_pairs_mut().append_pair("return_to", return_to);
    url
}

/// Signs `login` in through the provider; the client then carries the session.
async fn sign_in(app: &App, public: &Url, login: &str) -> Client {
    let mut browser = Browser::new();
    let callback =
        sign_in_until_callback(&mut browser, &start_url(public, "/?view=jobs"), login).await;
    assert!(callback.url.path().ends_with("/api/v1/auth/oidc/callback"), "{}", callback.url);
    assert!(browser.cookies.contains_key("tradia_oidc"), "the pending login rides in a cookie");
    let response = browser.get(&callback.url).await;
    assert_eq!(response.status(), 302);
    assert_eq!(crate::provider::location(&response), "/?view=jobs", "back to return_to");
    assert!(!browser.cookies.contains_key("tradia_oidc"), "the pending cookie is cleared");
    let cookie = browser.cookies.get("tradia_session").expect("a session cookie");
    let cookie = format!("tradia_session={cookie}");
    let http = reqwest::Client::new();
    let me: Value = http
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Client {
        base: app.base.clone(),
        http,
        auth: Auth::Cookie { cookie, csrf: me["csrf_token"].as_str().unwrap().to_string() },
        login: me["login"].as_str().unwrap().to_string(),
        id: me["id"].as_str().unwrap().to_string(),
    }
}

#[tokio::test]
async fn sign_in_through_the_provider_sees_own_jobs_and_signs_out() {
    let Some((app, provider, public)) = start(None).await else { return };
    let (status, config) = app.anonymous().call(Method::GET, "/api/v1/config").await;
    assert_eq!(status, 200);
    assert_eq!(config["auth"]["oidc"], true, "{config}");
    assert_eq!(config["auth"]["oidc_label"], "Test provider");

    let alice = sign_in(&app, &public, "alice").await;
    let (_, me) = alice.call(Method::GET, "/api/v1/me").await;
    assert_eq!(me["login"], "alice");
    assert_eq!(me["display_name"], "Alice Martin");
    assert_eq!(me["role"], "admin", "realm_access.roles has tradia-admin");
    let bob = sign_in(&app, &public, "bob").await;
    let (_, me) = bob.call(Method::GET, "/api/v1/me").await;
    assert_eq!(me["login"], "bob");
    assert_eq!(me["role"], "user");

    // A second sign-in finds the same user by (issuer, subject).
    let again = sign_in(&app, &public, "bob").await;
    assert_eq!(again.id, bob.id);

    let alices = alice.create_job().await;
    let bobs = bob.create_job().await;
    for (client, own, other) in [(&alice, &alices, &bobs), (&bob, &bobs, &alices)] {
        let (status, list) = client.call(Method::GET, "/api/v1/jobs").await;
        assert_eq!(status, 200, "{list}");
        let text = list.to_string();
        assert!(text.contains(own.as_str()), "{} sees their job: {text}", client.login);
        assert!(!text.contains(other.as_str()), "{} sees another's job: {text}", client.login);
    }
    let (status, _) = bob.call(Method::GET, &format!("/api/v1/jobs/{alices}")).await;
    assert_eq!(status, 404);

    // The audit log has the OpenID sign-ins.
    let (status, audit) = app.admin.call(Method::GET, "/api/v1/admin/audit").await;
    assert_eq!(status, 200);
    let oidc_sign_ins = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.to_string().contains("sign_in") && e.to_string().contains("oidc"))
        .count();
    assert!(oidc_sign_ins >= 3, "{audit}");

    let (status, body) = bob.call(Method::POST, "/api/v1/auth/logout").await;
    assert_eq!(status, 200, "an OpenID user gets the provider's sign-out URL");
    let logout_url = Url::parse(body["logout_url"].as_str().unwrap()).unwrap();
    assert!(logout_url.as_str().starts_with(&provider.issuer), "{logout_url}");
    let pairs: Vec<(String, String)> = logout_url.query_pairs().into_owned().collect();
    assert!(pairs.contains(&("client_id".into(), CLIENT_ID.into())), "{logout_url}");
    assert!(pairs.contains(&("post_logout_redirect_uri".into(), public.to_string())));
    let (status, _) = bob.call(Method::GET, "/api/v1/me").await;
    assert_eq!(status, 401, "signed out");
    let (status, _) = alice.call(Method::GET, "/api/v1/me").await;
    assert_eq!(status, 200, "another session is untouched");

    // A local user signs out as before.
    let (status, _) = app.admin.call(Method::POST, "/api/v1/auth/logout").await;
    assert_eq!(status, 204);
    app.stop().await;
}

/// How many users have this login (an OpenID user is created on their first sign-in).
async fn users_named(app: &App, login: &str) -> usize {
    let users = app.server.state().jobs.store().list_users().await.unwrap();
    users.iter().filter(|u| u.login == login).count()
}

async fn assert_refused(browser: &mut Browser, app: &App, callback: &Url) {
    let response = browser.get(callback).await;
    assert_eq!(response.status(), 302);
    assert_eq!(crate::provider::location(&response), "/?auth_error=oidc_failed");
    assert!(!browser.cookies.contains_key("tradia_session"), "no session cookie");
    assert!(!browser.cookies.contains_key("tradia_oidc"), "the pending cookie is cleared");
    let (_, audit) = app.admin.call(Method::GET, "/api/v1/admin/audit").await;
    assert!(audit.to_string().contains("sign_in_failed"), "{audit}");
}

#[tokio::test]
async fn a_tampered_state_is_refused_without_a_session() {
    let Some((app, _provider, public)) = start(None).await else { return };
    let mut browser = Browser::new();
    let callback = sign_in_until_callback(&mut browser, &start_url(&public, "/"), "bob").await;
    let mut tampered = callback.url.clone();
    let pairs: Vec<(String, String)> = callback.url.query_pairs().into_owned().collect();
    tampered.query_pairs_mut().clear();
    for (name, value) in pairs {
        let value = if name == "state" { format!("{value}x") } else { value };
        tampered.query_pairs_mut().append_pair(&name, &value);
    }
    assert_refused(&mut browser, &app, &tampered).await;
    assert_eq!(users_named(&app, "bob").await, 0, "no user was created");
    // The untampered callback cannot be replayed once the pending cookie is gone.
    assert_refused(&mut browser, &app, &callback.url).await;
    app.stop().await;
}

#[tokio::test]
async fn a_tampered_id_token_is_refused_without_a_session() {
    let Some((app, _provider, public)) = start(Some("signature")).await else { return };
    let mut browser = Browser::new();
    let callback = sign_in_until_callback(&mut browser, &start_url(&public, "/"), "alice").await;
    assert_refused(&mut browser, &app, &callback.url).await;
    assert_eq!(users_named(&app, "alice").await, 0, "no user was created");
    app.stop().await;
}
