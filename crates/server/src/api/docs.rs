//! The API description: the OpenAPI document and the page that renders it (`/api/docs`).
//!
//! The page's script and style are files served beside it, not inline, so that the strict
//! Content-Security-Policy of every response (`script-src 'self'`) holds for it too.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use utoipa::OpenApi;

use super::ApiDoc;
use crate::error::ApiError;

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => ApiError::internal("cannot render the OpenAPI document", e).into_response(),
    }
}

/// `GET /api/docs`.
pub async fn page() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}

/// `GET /api/docs/docs.js`.
pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("docs.js"))
        .into_response()
}

/// `GET /api/docs/docs.css`.
pub async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("docs.css")).into_response()
}
