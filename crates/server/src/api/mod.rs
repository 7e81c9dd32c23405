//! The HTTP surface: routes, middleware, the OpenAPI document and its browsable page.

pub mod assist;
pub mod input;
pub mod meta;
pub mod text;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::error::{ApiError, ErrorCode, catch_panic_layer};
use crate::jobs::api as jobs;
use crate::state::AppState;

/// The OpenAPI description of the service.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tradia", description = "Self-hosted document and text translation with a local LLM."),
    paths(
        jobs::create_job, jobs::list_jobs, jobs::get_job, jobs::job_events, jobs::job_result,
        jobs::cancel_job, jobs::delete_job,
        text::translate, text::translate_stream,
        assist::correct, assist::correct_stream, assist::reformulate, assist::reformulate_stream,
        assist::summary, assist::summary_stream,
        meta::models, meta::languages, meta::healthz, meta::livez, meta::readyz, meta::metrics,
    ),
    tags(
        (name = "jobs", description = "Document translation jobs"),
        (name = "text", description = "Text translation"),
        (name = "assistants", description = "Correction, reformulation, meeting summaries"),
        (name = "models", description = "Models and languages"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

async fn openapi_json() -> impl IntoResponse {
    match ApiDoc::openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => ApiError::internal("cannot render the OpenAPI document", e).into_response(),
    }
}

async fn api_docs_page() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such endpoint")
}

/// The metrics route alone (for a separate metrics address).
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new().route("/metrics", get(meta::metrics)).with_state(state)
}

/// Every route of the service. `extra` (the web interface) is merged in; its routes must not
/// overlap the API's.
pub fn router(state: Arc<AppState>, extra: Option<Router>) -> Router {
    let upload_limit = (state.settings.max_upload_bytes as usize).saturating_add(1024 * 1024);
    let text_limit = 16 * 1024 * 1024;
    let jobs_routes = Router::new()
        .route("/api/v1/jobs", post(jobs::create_job).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/api/v1/jobs", get(jobs::list_jobs))
        .route("/api/v1/jobs/{id}", get(jobs::get_job).delete(jobs::delete_job))
        .route("/api/v1/jobs/{id}/events", get(jobs::job_events))
        .route("/api/v1/jobs/{id}/result", get(jobs::job_result))
        .route("/api/v1/jobs/{id}/cancel", post(jobs::cancel_job));
    let text_routes = Router::new()
        .route("/api/v1/translate", post(text::translate))
        .route("/api/v1/translate/stream", post(text::translate_stream))
        .route("/api/v1/assist/correct", post(assist::correct))
        .route("/api/v1/assist/correct/stream", post(assist::correct_stream))
        .route("/api/v1/assist/reformulate", post(assist::reformulate))
        .route("/api/v1/assist/reformulate/stream", post(assist::reformulate_stream))
        .route("/api/v1/assist/summary", post(assist::summary))
        .route("/api/v1/assist/summary/stream", post(assist::summary_stream))
        .layer(DefaultBodyLimit::max(text_limit));
    let mut app = Router::new()
        .merge(jobs_routes)
        .merge(text_routes)
        .route("/api/v1/models", get(meta::models))
        .route("/api/v1/languages", get(meta::languages))
        .route("/healthz", get(meta::healthz))
        .route("/livez", get(meta::livez))
        .route("/readyz", get(meta::readyz))
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/docs", get(api_docs_page));
    if state.settings.metrics_addr.is_none() {
        app = app.route("/metrics", get(meta::metrics));
    }
    let mut app = app.route("/api/{*rest}", axum::routing::any(not_found)).with_state(state);
    if let Some(extra) = extra {
        app = app.merge(extra);
    }
    app.layer(axum::middleware::from_fn(crate::telemetry::track_http))
        .layer(catch_panic_layer())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            let request_id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!(
                "http.request",
                method = %request.method(),
                path = %request.uri().path(),
                request_id = %request_id,
            )
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}
