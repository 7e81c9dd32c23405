//! The interface's HTTP surface: page, assets, content types, caching and security headers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

async fn get(path: &str, headers: &[(&str, &str)]) -> axum::response::Response {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    tradia_web::router()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

async fn text(response: axum::response::Response) -> String {
    let bytes = to_bytes(response.into_body(), 1 << 22).await.expect("body");
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

fn header(response: &axum::response::Response, name: header::HeaderName) -> &str {
    response.headers().get(&name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn index_is_french_by_default_with_a_strict_policy() {
    let response = get("/", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, header::CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(header(&response, header::CACHE_CONTROL), "no-cache");
    assert_eq!(header(&response, header::VARY), "Accept-Language");
    let csp = header(&response, header::CONTENT_SECURITY_POLICY).to_string();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("http"), "{csp}");
    assert_eq!(header(&response, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let html = text(response).await;
    assert!(html.contains(r#"<html lang="fr" dir="ltr">"#), "{}", &html[..200]);
    assert!(!html.contains("__LANG__") && !html.contains("__DIR__"));
}

#[tokio::test]
async fn index_follows_accept_language() {
    let response = get("/", &[("accept-language", "ar-MA,ar;q=0.9,fr;q=0.5")]).await;
    assert_eq!(header(&response, header::CONTENT_LANGUAGE), "ar");
    assert!(text(response).await.contains(r#"<html lang="ar" dir="rtl">"#));
    let response = get("/", &[("accept-language", "en-US,en;q=0.9")]).await;
    assert!(text(response).await.contains(r#"<html lang="en" dir="ltr">"#));
}

#[tokio::test]
async fn page_loads_nothing_from_another_host() {
    let html = text(get("/", &[]).await).await;
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let url = &html[i + attr.len()..];
            let url = &url[..url.find('"').expect("closed")];
            assert!(url.starts_with('/') || url.starts_with('#'), "external reference {url}");
        }
    }
    assert!(!html.contains("<script>") && !html.contains(" style="), "inline script or style");
}

#[tokio::test]
async fn assets_have_content_types_and_etags() {
    for (path, kind) in [
        ("/assets/js/app.js", "text/javascript; charset=utf-8"),
        ("/assets/css/app.css", "text/css; charset=utf-8"),
        ("/assets/i18n/ar.json", "application/json"),
        ("/assets/icon.svg", "image/svg+xml"),
    ] {
        let response = get(path, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&response, header::CONTENT_TYPE), kind, "{path}");
        assert_eq!(header(&response, header::CACHE_CONTROL), "no-cache", "{path}");
        assert!(!header(&response, header::CONTENT_SECURITY_POLICY).is_empty(), "{path}");
        let etag = header(&response, header::ETAG).to_string();
        assert!(etag.starts_with('"') && etag.len() == 66, "{path}: {etag}");
        let again = get(path, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(header(&again, header::ETAG), etag);
        let stale = get(path, &[("if-none-match", "\"0000\"")]).await;
        assert_eq!(stale.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn unknown_assets_and_the_template_are_not_served() {
    for path in ["/assets/nope.js", "/assets/index.html", "/assets/../Cargo.toml", "/assets/js/"] {
        assert_eq!(get(path, &[]).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
}
