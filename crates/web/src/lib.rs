//! Tradia's browser interface, served by `tradia serve` from files embedded in the binary.
//!
//! The service runs on networks without internet access and is installed by IT departments that
//! do not want a second server for a front end, so the interface is plain HTML, CSS and ES
//! modules under `web/` at the repository root, embedded at compile time (rust-embed with
//! `debug-embed`, so debug and release builds behave the same) and served by [`router`]:
//!
//! - `/` is `web/index.html`, with its `lang`/`dir` attributes set from the browser's
//!   `Accept-Language` (French unless the browser prefers English or Arabic), so the first paint
//!   is already in the right language and direction; the page may then switch to the language the
//!   user chose before (kept in `localStorage`).
//! - `/assets/{path}` is any other file under `web/` (scripts, styles, icon, and the interface
//!   string catalogues `web/i18n/{fr,en,ar}.json`).
//!
//! Every response carries a strict Content-Security-Policy (`'self'` only, no inline script or
//! style), so the page cannot load anything from another host even if a bug tried to.
//! The page only talks to the HTTP API under `/api/v1` served by the same process.
#![forbid(unsafe_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::header::{
    ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_LANGUAGE, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, REFERRER_POLICY, VARY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

/// The files of the interface: `web/` at the repository root.
#[derive(RustEmbed)]
#[folder = "../../web/"]
struct Files;

/// The Content-Security-Policy sent with every page and asset.
///
/// Only the server itself may be contacted. `img-src blob:` lets the meeting-summary assistant
/// preview a photo the user picked, without it leaving the browser before the upload.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Interface languages, in order of preference when the browser states none of them.
pub const INTERFACE_LANGUAGES: [&str; 3] = ["fr", "en", "ar"];

/// The interface's routes: `/` (the page) and `/assets/{*path}` (scripts, styles, catalogues).
///
/// The router has no state; the server merges it into its own (`app.merge(tradia_web::router())`).
pub fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{*path}", get(asset))
        .layer(axum::middleware::map_response(security_headers))
}

/// Picks the interface language from an `Accept-Language` header value: the supported language
/// with the highest quality, French when none is acceptable or the header is absent.
pub fn negotiate_language(accept_language: Option<&str>) -> &'static str {
    let Some(header) = accept_language else { return INTERFACE_LANGUAGES[0] };
    let mut best: Option<(&'static str, f32)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let primary = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        let Some(lang) = INTERFACE_LANGUAGES.iter().find(|l| **l == primary) else { continue };
        // Equal qualities keep the earlier entry: the browser lists its preferences in order.
        if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
            best = Some((lang, quality));
        }
    }
    best.map_or(INTERFACE_LANGUAGES[0], |(lang, _)| lang)
}

/// Whether an interface language is written right to left.
fn is_rtl(lang: &str) -> bool {
    lang == "ar"
}

async fn index(headers: HeaderMap) -> Response {
    let accept = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let lang = negotiate_language(accept);
    let Some(file) = Files::get("index.html") else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "web/index.html missing from the build")
            .into_response();
    };
    let html = String::from_utf8_lossy(&file.data)
        .replace("__LANG__", lang)
        .replace("__DIR__", if is_rtl(lang) { "rtl" } else { "ltr" });
    let mut response = Response::new(Body::from(html));
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    // The page is tiny and names its assets without a version: always revalidate.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(VARY, HeaderValue::from_static("Accept-Language"));
    if let Ok(value) = HeaderValue::from_str(lang) {
        h.insert(CONTENT_LANGUAGE, value);
    }
    response
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    // index.html is a template: it is only served, filled in, at `/`.
    let file = if path == "index.html" { None } else { Files::get(&path) };
    let Some(file) = file else {
        return (StatusCode::NOT_FOUND, [(CONTENT_TYPE, "text/plain; charset=utf-8")], "not found")
            .into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()));
    // Assets have stable names (no hash in the URL), so a new release must be picked up at once:
    // the browser keeps its copy but asks each time, and gets a 304 while the ETag matches.
    let cache = HeaderValue::from_static("no-cache");
    let etag_value = HeaderValue::from_str(&etag).ok();
    let matches = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(Body::from(file.data.into_owned()));
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type(&path)));
        r
    };
    let h = response.headers_mut();
    h.insert(CACHE_CONTROL, cache);
    if let Some(value) = etag_value {
        h.insert(ETAG, value);
    }
    response
}

/// The media type of an asset, from its extension.
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::negotiate_language;

    #[test]
    fn negotiates_interface_language() {
        assert_eq!(negotiate_language(None), "fr");
        assert_eq!(negotiate_language(Some("")), "fr");
        assert_eq!(negotiate_language(Some("de-DE,de;q=0.9")), "fr");
        assert_eq!(negotiate_language(Some("en-GB,en;q=0.9,fr;q=0.8")), "en");
        assert_eq!(negotiate_language(Some("de;q=1, ar-MA;q=0.7, en;q=0.5")), "ar");
        assert_eq!(negotiate_language(Some("fr-FR;q=0.4, en;q=0.6")), "en");
        assert_eq!(negotiate_language(Some("en;q=0, ar")), "ar");
        assert_eq!(negotiate_language(Some("EN_us")), "en");
        assert_eq!(negotiate_language(Some("ar;q=zz")), "ar");
    }
}
