//! Signing in: the first-start set-up, throttled password guessing (and its audit trail),
//! CSRF with a valid cookie, sign-out, key revocation, disabled accounts, the trusted proxy.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tradia_server::settings::AccessSettings;
use tradia_server::settings::access::{AuthMethods, AuthMode, ProxyAuth, parse_trusted_proxies};
use tradia_server::{PseudoGateway, ServerSettings};

use crate::harness::{App, Auth, Client, PASSWORD, databases, unique};

#[tokio::test]
async fn the_first_administrator_is_created_with_the_one_time_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = ServerSettings::for_tests(dir.path());
    settings.access = AccessSettings::default();
    let server =
        tradia_server::start(settings, std::sync::Arc::new(PseudoGateway), None).await.unwrap();
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let config: Value =
        http.get(format!("{base}/api/v1/config")).send().await.unwrap().json().await.unwrap();
    assert_eq!(config["auth"]["setup_required"], true, "{config}");
    assert_eq!(config["auth"]["mode"], "local");
    let token = server.state().setup_token.lock().unwrap().clone().expect("a set-up token");
    let setup = |token: String| {
        http.post(format!("{base}/api/v1/auth/setup"))
            .json(&json!({"token": token, "login": "dsi", "password": PASSWORD, "display_name": "DSI"}))
            .send()
    };
    let wrong = setup("not-the-token".into()).await.unwrap();
    assert_eq!(wrong.status(), 403);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["code"], "setup_token_invalid");
    let done = setup(token.clone()).await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.headers()["set-cookie"].to_str().unwrap().starts_with("tradia_session="));
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(body["user"]["display_name"], "DSI");
    let again = setup(token).await.unwrap();
    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"]["code"], "setup_done");
    let config: Value =
        http.get(format!("{base}/api/v1/config")).send().await.unwrap().json().await.unwrap();
    assert_eq!(config["auth"]["setup_required"], false);
    let anonymous = http.get(format!("{base}/api/v1/jobs")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    server.shutdown().await.unwrap();
}

async fn guessing(database: Option<&str>) {
    let app = App::start(database, AccessSettings::default()).await;
    let victim = app.user("carol").await;
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut last = None;
    for i in 0..10 {
        let response = http
            .post(format!("{}/api/v1/auth/login", app.base))
            .json(&json!({"login": victim.login, "password": format!("wrong password {i}")}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        last = Some(response);
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert_eq!(statuses[9], 429, "the tenth wrong password in a minute is refused: {statuses:?}");
    let last = last.unwrap();
    assert!(last.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    let body: Value = last.json().await.unwrap();
    assert_eq!(body["error"]["code"], "sign_in_throttled");
    // Even the right password waits now.
    let right = http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"login": victim.login, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 429);
    // An unknown login gets the same answer as a wrong password.
    let unknown = http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"login": unique("nobody"), "password": "whatever it is"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_credentials");

    let audit = app.admin.request(Method::GET, "/api/v1/admin/audit").send().await.unwrap();
    let audit: Value = audit.json().await.unwrap();
    let entries = audit["entries"].as_array().unwrap();
    let failed = entries
        .iter()
        .filter(|e| {
            e["action"] == "sign_in_failed" && e["detail"]["login"] == victim.login.as_str()
        })
        .count();
    assert_eq!(failed, 5, "each checked failure is in the audit log");
    let throttled = entries
        .iter()
        .filter(|e| {
            e["action"] == "sign_in_throttled" && e["detail"]["login"] == victim.login.as_str()
        })
        .count();
    assert!(throttled >= 5, "each refused attempt is in the audit log: {throttled}");
    assert!(entries.iter().all(|e| e["remote_addr"].is_null() || e["remote_addr"] == "127.0.0.1"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenth_wrong_password_in_a_minute_is_refused_and_audited() {
    for database in databases() {
        guessing(database.as_deref()).await;
    }
}

async fn cookies_and_keys(database: Option<&str>) {
    let app = App::start(database, AccessSettings::default()).await;
    let a = app.user("alice").await;
    let Auth::Cookie { cookie, csrf } = a.auth.clone() else { panic!("a cookie client") };
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/translate", app.base);
    // A form on another site, sent by A's browser with A's valid cookie.
    let forged = http
        .post(&url)
        .header("cookie", &cookie)
        .header("origin", "https://evil.example.net")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("text=Bonjour&target_lang=en")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let body: Value = forged.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_failed");
    let no_token = http
        .post(&url)
        .header("cookie", &cookie)
        .json(&json!({"text": "Bonjour", "target_lang": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403, "a cookie change needs the CSRF token");
    let wrong_token = http
        .post(&url)
        .header("cookie", &cookie)
        .header("x-csrf-token", "forged")
        .json(&json!({"text": "Bonjour", "target_lang": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_token.status(), 403);
    let good = http
        .post(&url)
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .header("origin", &app.base)
        .json(&json!({"text": "Bonjour", "target_lang": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
    let (_, me) = a.call(Method::GET, "/api/v1/me").await;
    assert_eq!(me["csrf_token"], csrf.as_str(), "the page gets the token back after a reload");
    assert_eq!(me["auth"], "session");

    // Keys: listed without the secret, revoked by their owner, then refused.
    let keyed = a.with_key().await;
    let (_, me_key) = keyed.call(Method::GET, "/api/v1/me").await;
    assert_eq!(me_key["auth"], "api_key");
    assert!(me_key["csrf_token"].is_null());
    let (_, keys) = a.call(Method::GET, "/api/v1/me/keys").await;
    let Auth::Key(secret) = &keyed.auth else { panic!() };
    assert!(!keys.to_string().contains(secret.as_str()), "the key is shown once only");
    let id = keys["keys"][0]["id"].as_str().unwrap();
    assert!(secret.starts_with(keys["keys"][0]["prefix"].as_str().unwrap()));
    let (status, _) = a.call(Method::DELETE, &format!("/api/v1/me/keys/{id}")).await;
    assert_eq!(status, 204);
    let (status, body) = keyed.call(Method::GET, "/api/v1/me").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_credentials");

    // Sign-out ends the session.
    let (status, _) = a.call(Method::POST, "/api/v1/auth/logout").await;
    assert_eq!(status, 204);
    let (status, _) = a.call(Method::GET, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the cookie no longer works");

    // A disabled account cannot sign in, and its sessions end.
    let b = app.user("bob").await;
    let (status, body) = app
        .admin
        .json(Method::PATCH, &format!("/api/v1/admin/users/{}", b.id), json!({"state": "disabled"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = b.call(Method::GET, "/api/v1/me").await;
    assert_eq!(status, 401);
    let refused = http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"login": b.login, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "account_disabled");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_need_their_csrf_token_and_keys_stop_when_revoked() {
    for database in databases() {
        cookies_and_keys(database.as_deref()).await;
    }
}

fn proxy_access(trusted: &str) -> AccessSettings {
    AccessSettings {
        mode: AuthMode::Accounts(AuthMethods {
            local: true,
            oidc: None,
            proxy: Some(ProxyAuth { header: "x-remote-user".parse().unwrap() }),
        }),
        trusted_proxies: parse_trusted_proxies(trusted).unwrap(),
        ..AccessSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_header_counts_from_a_trusted_address_only() {
    for database in databases() {
        let login = unique("dora");
        let app = App::start(database.as_deref(), proxy_access("127.0.0.1")).await;
        let http = reqwest::Client::new();
        let me = http
            .get(format!("{}/api/v1/me", app.base))
            .header("x-remote-user", &login)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        let me: Value = me.json().await.unwrap();
        assert_eq!(me["login"], login.as_str());
        assert_eq!(me["role"], "user");
        assert_eq!(me["auth"], "proxy");
        let proxied = Client { auth: Auth::None, ..app.anonymous() };
        let job_list = proxied
            .request(Method::GET, "/api/v1/jobs")
            .header("x-remote-user", &login)
            .send()
            .await
            .unwrap();
        assert_eq!(job_list.status(), 200);
        app.stop().await;

        let app = App::start(database.as_deref(), proxy_access("10.0.0.0/8")).await;
        let ignored = http
            .get(format!("{}/api/v1/me", app.base))
            .header("x-remote-user", &login)
            .send()
            .await
            .unwrap();
        assert_eq!(ignored.status(), 401, "the header from an untrusted address is ignored");
        app.stop().await;
    }
}
