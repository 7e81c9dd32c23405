//! The HTTP surface: the route table ([`routes`]), the handlers, the OpenAPI document and its
//! browsable page ([`docs`]).

pub mod assist;
pub mod config;
pub mod detect;
pub mod docs;
pub mod glossaries;
pub mod input;
pub mod meta;
pub mod routes;
pub mod text;

use std::sync::Arc;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::access::{csrf, headers, host, origin, rate};
use crate::accounts::{admin, caller, me, oidc, sign_in};
use crate::compat::deepl::{
    document as deepl_document, glossary as deepl_glossary, text as deepl_text,
};
use crate::compat::libretranslate as lt;
use crate::compat::lt_files;
use crate::error::{ApiError, ErrorCode, catch_panic_layer};
use crate::jobs::api as jobs;
use crate::state::AppState;
use routes::Access;

/// The OpenAPI description of the service.
#[derive(OpenApi)]
#[openapi(
    info(title = "Tradia", description = "Self-hosted document and text translation with a local LLM."),
    paths(
        jobs::create_job, jobs::list_jobs, jobs::get_job, jobs::job_events, jobs::job_result,
        crate::jobs::report::job_report,
        jobs::cancel_job, jobs::delete_job, crate::jobs::retry::retry_job,
        crate::memory::api::summary, crate::memory::api::purge, crate::memory::api::export_tmx, crate::memory::api::import_tmx,
        text::translate, text::translate_stream, detect::detect,
        assist::correct, assist::correct_stream, assist::reformulate, assist::reformulate_stream,
        assist::summary, assist::summary_stream,
        meta::models, meta::languages, meta::healthz, meta::livez, meta::readyz, meta::metrics,
        config::config, sign_in::login, sign_in::logout, sign_in::setup, oidc::start,
        oidc::callback,
        me::me, me::list_keys, me::create_key, me::revoke_key,
        admin::list_users, admin::create_user, admin::update_user, admin::delete_user,
        admin::create_user_key, admin::list_teams, admin::create_team, admin::add_member,
        admin::remove_member, admin::list_jobs, admin::usage, admin::audit,
        glossaries::create_glossary, glossaries::import_glossary, glossaries::list_glossaries,
        glossaries::get_glossary, glossaries::glossary_entries, glossaries::export_glossary,
        glossaries::update_glossary, glossaries::delete_glossary,
        lt::translate, lt::detect, lt::languages, lt::frontend_settings, lt::suggest,
        lt_files::translate_file, lt_files::download_file,
        deepl_text::translate, deepl_text::languages, deepl_text::usage,
        deepl_document::upload, deepl_document::status, deepl_document::result,
        deepl_glossary::create, deepl_glossary::list, deepl_glossary::get, deepl_glossary::delete,
        deepl_glossary::entries, deepl_glossary::language_pairs,
    ),
    tags(
        (name = "jobs", description = "Document translation jobs"),
        (name = "text", description = "Text translation"),
        (name = "memory", description = "The caller's translation memory: purge, TMX export and import"),
        (name = "assistants", description = "Correction, reformulation, meeting summaries"),
        (name = "models", description = "Models and languages"),
        (name = "operations", description = "Health and metrics"),
        (name = "accounts", description = "Configuration, sign-in, the caller's profile and API keys"),
        (name = "glossaries", description = "Glossaries (term bases) and their CSV/TSV/TBX exchange"),
        (name = "admin", description = "Administration: users, teams, quotas, job metadata, usage, audit"),
        (name = "libretranslate", description = "LibreTranslate's API (TRADIA_LIBRETRANSLATE; paths below TRADIA_LIBRETRANSLATE_PREFIX), keys in `api_key`"),
        (name = "deepl", description = "DeepL's API v2 (TRADIA_DEEPL; paths below TRADIA_DEEPL_PREFIX), keys as `Authorization: DeepL-Auth-Key …`"),
    )
)]
pub struct ApiDoc;

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such endpoint")
}

/// The metrics route alone (for a separate metrics address).
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(meta::metrics))
        .route("/healthz", get(meta::healthz_details))
        .with_state(state)
}

/// Every route of the service, with the access layers around them. `extra` (the web interface)
/// is merged in; its routes must not overlap the API's.
pub fn router(state: Arc<AppState>, extra: Option<Router>) -> Router {
    let mut app = Router::new();
    for route in routes::table(&state) {
        let (path, access, handler) = route.into_parts();
        let handler = match access {
            Access::SignIn => {
                handler.route_layer(from_fn_with_state(state.clone(), rate::limit_sign_in))
            }
            Access::User => handler.route_layer(from_fn(caller::require_user)),
            Access::Admin => handler.route_layer(from_fn(caller::require_admin)),
            Access::Public | Access::Probe | Access::Key => handler,
        };
        app = app.route(&path, handler);
    }
    let mut app =
        app.route("/api/{*rest}", axum::routing::any(not_found)).with_state(state.clone());
    if let Some(extra) = extra {
        app = app.merge(extra);
    }
    app.layer(from_fn_with_state(state.clone(), csrf::check))
        .layer(from_fn_with_state(state.clone(), rate::limit))
        .layer(from_fn_with_state(state.clone(), caller::resolve))
        .layer(from_fn_with_state(state.clone(), host::check))
        .layer(axum::middleware::from_fn(crate::telemetry::track_http))
        .layer(catch_panic_layer())
        .layer(axum::middleware::from_fn(headers::add))
        .layer(from_fn_with_state(state, origin::identify))
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
