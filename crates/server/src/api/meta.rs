//! Models, languages, health, readiness and metrics.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::Identity;
use crate::error::ApiResult;
use crate::gateway::ModelInfo;
pub use crate::health::Health;
use crate::health::{HealthReason, HealthStatus};
use crate::state::AppState;

/// Answer of `GET /api/v1/models`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelsResponse {
    /// Available models, the default first.
    pub models: Vec<ModelInfo>,
    /// Name of the default model.
    pub default: String,
}

/// Lists the models of the configured backends, default first.
#[utoipa::path(get, path = "/api/v1/models", tag = "models",
    responses((status = 200, body = ModelsResponse), (status = 503, body = crate::error::ErrorBody)))]
pub async fn models(State(state): State<Arc<AppState>>) -> ApiResult<Json<ModelsResponse>> {
    let default = state.gateway.default_model();
    let mut models = state.gateway.models().await?;
    for m in &mut models {
        m.default = m.name == default;
    }
    // Stable sort: the default first, the backends' order otherwise.
    models.sort_by_key(|m| !m.default);
    state.remember_models(&models);
    Ok(Json(ModelsResponse { models, default }))
}

/// A language offered by the interface.
#[derive(Debug, Serialize, ToSchema)]
pub struct LanguageEntry {
    /// BCP 47 code.
    pub code: &'static str,
    /// Name in the language itself.
    pub name: &'static str,
    /// English name.
    pub english: &'static str,
    /// Written right to left.
    pub rtl: bool,
}

/// Answer of `GET /api/v1/languages`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LanguagesResponse {
    /// Languages, French, English and Arabic first.
    pub languages: Vec<LanguageEntry>,
}

/// Lists the languages the interface offers.
#[utoipa::path(get, path = "/api/v1/languages", tag = "models",
    responses((status = 200, body = LanguagesResponse)))]
pub async fn languages() -> Json<LanguagesResponse> {
    let languages = tradia_core::LANGUAGES
        .iter()
        .map(|l| LanguageEntry { code: l.code, name: l.native, english: l.english, rtl: l.rtl })
        .collect();
    Json(LanguagesResponse { languages })
}

/// Health: always 200 while the process serves; `degraded` says what is wrong with stable codes
/// (`status`, `database`, `llm`, `reason`). `details` (error texts, backend URLs) only for a
/// signed-in administrator.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz(
    State(state): State<Arc<AppState>>,
    identity: Option<Identity>,
) -> Json<Health> {
    let admin = identity.is_some_and(|i| i.is_admin());
    Json(crate::health::report(&state, admin).await)
}

/// `/healthz` on the separate metrics address: always with the details.
pub async fn healthz_details(State(state): State<Arc<AppState>>) -> Json<Health> {
    Json(crate::health::report(&state, true).await)
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/livez", tag = "operations", responses((status = 200)))]
pub async fn livez() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "alive"}))
}

/// Readiness: 200 when storage can be written (with space for uploads) and the language model
/// is reachable, else 503 with the same report as `/healthz`.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Health>) {
    let mut report = crate::health::report(&state, false).await;
    if state.shutdown.is_cancelled() {
        report.status = HealthStatus::Degraded;
        report.reason = Some(HealthReason::ShuttingDown);
    }
    let status = if report.status == HealthStatus::Healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}

/// Prometheus metrics (text format).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    state.refresh_gauges().await;
    match crate::telemetry::prometheus() {
        Some(handle) => {
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render())
                .into_response()
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics unavailable: another metrics recorder is installed in this process\n",
        )
            .into_response(),
    }
}
