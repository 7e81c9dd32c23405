#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What every request passes before a handler, against a real server on 127.0.0.1: the `Host`
//! check, cross-site request refusal, rate limits with `Retry-After`, forwarding headers believed
//! only from a trusted proxy, and the security headers of every kind of response.

mod common;

use std::num::NonZeroU32;
use std::sync::Arc;

use common::*;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tradia_server::settings::access::{AccessSettings, PublicUrl, parse_trusted_proxies};
use tradia_server::{PseudoGateway, RunningServer, ServerSettings};

async fn start(dir: &std::path::Path, access: AccessSettings) -> RunningServer {
    let mut settings = ServerSettings::for_tests(dir);
    settings.access = access;
    tradia_server::start(settings, Arc::new(PseudoGateway), None).await.unwrap()
}

/// Local accounts (anonymous requests are counted by address) with `TRADIA_PUBLIC_URL`.
fn public(url: &str) -> AccessSettings {
    AccessSettings { public_url: Some(PublicUrl::parse(url).unwrap()), ..AccessSettings::default() }
}

fn assert_security_headers(headers: &HeaderMap, what: &str) {
    let csp = headers.get("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
    let csp = csp.to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
}

#[tokio::test]
async fn a_foreign_host_is_refused_except_for_probes() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), public("http://tradia.example.org")).await;
    let url = |path: &str| format!("{}{path}", base(&server));
    let c = client();

    let refused = c.get(url("/api/v1/jobs")).send().await.unwrap();
    assert_eq!(refused.status(), 421, "Host 127.0.0.1:port is not the public host");
    assert_security_headers(refused.headers(), "421");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "misdirected_request");

    let post = c
        .post(url("/api/v1/translate"))
        .header("host", "evil.example.net")
        .json(&json!({"text": "Bonjour", "target_lang": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 421, "nothing is translated for another host");

    for probe in ["/livez", "/readyz", "/metrics"] {
        let r = c.get(url(probe)).header("host", "10.1.2.3:8000").send().await.unwrap();
        assert_eq!(r.status(), 200, "{probe} answers whatever the Host");
    }
    for host in ["tradia.example.org", "TRADIA.example.org:80"] {
        let r = c.get(url("/api/v1/config")).header("host", host).send().await.unwrap();
        assert_eq!(r.status(), 200, "Host {host} is the public host");
    }
    // A proxy that is not trusted cannot vouch for the host.
    let r = c
        .get(url("/api/v1/jobs"))
        .header("x-forwarded-host", "tradia.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 421);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_trusted_proxy_vouches_for_host_address_and_tls_and_another_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut access = public("https://tradia.example.org");
    access.trusted_proxies = parse_trusted_proxies("127.0.0.1").unwrap();
    access.rate_limit_per_minute = NonZeroU32::new(2);
    let server = start(dir.path(), access).await;
    let url = format!("{}/api/v1/config", base(&server));
    let c = client();
    let via_proxy = |client_addr: &'static str| {
        c.get(&url)
            .header("x-forwarded-host", "tradia.example.org")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-for", client_addr)
    };
    let r = via_proxy("192.0.2.1").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000",
        "TLS as the proxy says"
    );
    assert!(via_proxy("192.0.2.1").send().await.unwrap().status().is_success());
    let limited = via_proxy("192.0.2.1").send().await.unwrap();
    assert_eq!(limited.status(), 429, "the third request a minute from one client");
    assert!(limited.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(
        via_proxy("192.0.2.2").send().await.unwrap().status(),
        200,
        "another client's budget"
    );
    server.shutdown().await.unwrap();

    // The same headers from an address that is not trusted are ignored.
    let dir = tempfile::tempdir().unwrap();
    let mut access = public("https://tradia.example.org");
    access.trusted_proxies = parse_trusted_proxies("10.0.0.0/8").unwrap();
    access.rate_limit_per_minute = NonZeroU32::new(2);
    let server = start(dir.path(), access).await;
    let url = format!("{}/api/v1/config", base(&server));
    let r = c
        .get(&url)
        .header("host", "tradia.example.org")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-for", "192.0.2.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(!r.headers().contains_key("strict-transport-security"), "no HSTS over plain HTTP");
    for client_addr in ["192.0.2.2", "192.0.2.3"] {
        let r = c
            .get(&url)
            .header("host", "tradia.example.org")
            .header("x-forwarded-for", client_addr)
            .send()
            .await
            .unwrap();
        if client_addr == "192.0.2.3" {
            assert_eq!(r.status(), 429, "a claimed address does not escape the limit");
        }
    }
    let probe = c.get(format!("{}/livez", base(&server))).send().await.unwrap();
    assert_eq!(probe.status(), 200, "probes are never rate-limited");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn cross_site_changes_are_refused_and_same_site_ones_pass() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), AccessSettings::single_user()).await;
    let base = base(&server);
    let c = client();
    let own_origin = base.clone();

    // A form on another site posting to the translation API.
    let forged = c
        .post(format!("{base}/api/v1/translate"))
        .header("origin", "https://evil.example.net")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("text=Bonjour&target_lang=en")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_security_headers(forged.headers(), "403");
    let body: Value = forged.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_failed");

    let (status, _) = {
        let r = c
            .post(format!("{base}/api/v1/jobs"))
            .header("origin", "null")
            .multipart(form(&[("a.txt", b"Bonjour".to_vec())], &[("target_lang", "en")]))
            .send()
            .await
            .unwrap();
        (r.status(), ())
    };
    assert_eq!(status, 403, "an opaque origin is not ours");
    let cross_site = c
        .post(format!("{base}/api/v1/translate"))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"text": "Bonjour", "target_lang": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403, "the browser says cross-site");

    let ours = c
        .post(format!("{base}/api/v1/translate"))
        .header("origin", &own_origin)
        .json(&json!({"text": "Bonjour", "target_lang": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ours.status(), 200, "the page's own origin");
    let script = c
        .post(format!("{base}/api/v1/translate"))
        .json(&json!({"text": "Bonjour", "target_lang": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200, "a script sends no Origin");
    let keyed = c
        .post(format!("{base}/api/v1/translate"))
        .header("origin", "https://integration.example.net")
        .header("authorization", "Bearer tdk_x")
        .json(&json!({"text": "Bonjour", "target_lang": "en"}))
        .send()
        .await
        .unwrap();
    assert_ne!(keyed.status(), 403, "API-key requests are not subject to the Origin check");
    let read = c
        .get(format!("{base}/api/v1/jobs"))
        .header("origin", "https://evil.example.net")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200, "reads change nothing");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), AccessSettings::single_user()).await;
    let base = base(&server);
    let c = client();

    let (status, job) = post_job(
        &base,
        &[("note.md", b"# Bonjour\n\nLe monde.\n".to_vec())],
        &[("target_lang", "en")],
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    wait_job(&base, &id, 30, |j| j["status"] == "done").await;

    for path in [
        "/api/v1/jobs".to_string(),
        format!("/api/v1/jobs/{id}"),
        format!("/api/v1/jobs/{id}/result"),
        format!("/api/v1/jobs/{id}/events"),
        "/api/v1/jobs/00000000-0000-0000-0000-000000000000".to_string(),
        "/api/v1/nowhere".to_string(),
        "/api/openapi.json".to_string(),
        "/api/docs".to_string(),
        "/api/docs/docs.js".to_string(),
        "/api/docs/docs.css".to_string(),
        "/livez".to_string(),
        "/metrics".to_string(),
    ] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_security_headers(r.headers(), &path);
        assert!(!r.headers().contains_key("strict-transport-security"), "{path}: no TLS, no HSTS");
    }

    // The API description page works under that policy: nothing inline.
    let page = c.get(format!("{base}/api/docs")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("<style"), "inline style in /api/docs");
    assert!(page.contains(r#"<script src="/api/docs/docs.js"></script>"#), "{page}");
    assert_eq!(page.matches("<script").count(), 1, "only the external script");
    assert!(page.contains(r#"href="/api/docs/docs.css""#));
    let script = c.get(format!("{base}/api/docs/docs.js")).send().await.unwrap();
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(script.text().await.unwrap().contains("/api/openapi.json"));
    let style = c.get(format!("{base}/api/docs/docs.css")).send().await.unwrap();
    assert!(style.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    server.shutdown().await.unwrap();
}
