//! `GET /api/v1/config`: what the page needs before anyone signs in — upload limits, formats,
//! the engine, and how to sign in (or that the first administrator must be created first).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use tradia_formats::Format;
use utoipa::ToSchema;

use crate::error::ApiResult;
use crate::settings::{AuthMode, EngineKind};
use crate::state::AppState;

/// A document format the service translates.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormatInfo {
    /// Stable name (`docx`, `scenari`…).
    pub name: &'static str,
    /// Label for people.
    pub label: &'static str,
}

/// How to sign in.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthConfig {
    /// The main method: `local`, `oidc`, `proxy` or `none`.
    pub mode: &'static str,
    /// Local accounts (login and password) are enabled.
    pub local: bool,
    /// Single sign-on (OpenID Connect) is enabled.
    pub oidc: bool,
    /// The single-sign-on button's label.
    pub oidc_label: Option<String>,
    /// No administrator exists yet: the page offers only the first-start set-up.
    pub setup_required: bool,
    /// Single-user mode (`TRADIA_AUTH=none`): no sign-in; the page shows a warning.
    pub single_user: bool,
    /// `TRADIA_PUBLIC_URL` is not set: the `Host` check is off (the set-up page says so).
    pub host_check_off: bool,
}

/// Answer of `GET /api/v1/config`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigResponse {
    /// Largest upload per request, in bytes.
    pub max_upload_bytes: u64,
    /// The same, in megabytes.
    pub max_upload_mb: u64,
    /// Most files per job.
    pub max_files: usize,
    /// File extensions the page's picker offers, without the dot (`docx`), sorted. Formats are
    /// detected by content, so the API also reads a file with another extension; Scenari items
    /// have no fixed extension, and the list holds the common ones.
    pub extensions: Vec<&'static str>,
    /// Formats translated.
    pub formats: Vec<FormatInfo>,
    /// `llm` or `pseudo`.
    pub engine: &'static str,
    /// True with the pseudo engine or the LLM simulator (`tradia simulate-llm`): a
    /// demonstration without a model, which the page labels as such.
    pub demo: bool,
    /// Features on: `documents`, `text`, `assistants`, and `vision` when a vision model is set
    /// (`TRADIA_VISION_MODEL`: photos in meeting summaries).
    pub features: Vec<&'static str>,
    /// How to sign in.
    pub auth: AuthConfig,
}

/// The service's public configuration.
#[utoipa::path(get, path = "/api/v1/config", tag = "accounts",
    responses((status = 200, body = ConfigResponse)))]
pub async fn config(State(state): State<Arc<AppState>>) -> ApiResult<Json<ConfigResponse>> {
    let settings = &state.settings;
    let access = &settings.access;
    let auth = match &access.mode {
        AuthMode::SingleUser => AuthConfig {
            mode: "none",
            local: false,
            oidc: false,
            oidc_label: None,
            setup_required: false,
            single_user: true,
            host_check_off: access.public_url.is_none(),
        },
        AuthMode::Accounts(methods) => {
            let admins = state.jobs.store().count_active_admins().await?;
            let mode = if methods.local {
                "local"
            } else if methods.oidc.is_some() {
                "oidc"
            } else {
                "proxy"
            };
            AuthConfig {
                mode,
                local: methods.local,
                oidc: methods.oidc.is_some(),
                oidc_label: methods.oidc.as_ref().map(|o| o.label.clone()),
                setup_required: admins == 0,
                single_user: false,
                host_check_off: access.public_url.is_none(),
            }
        }
    };
    // Whether the model is the simulator is known once a health check has seen it.
    if settings.engine == EngineKind::Llm && !state.gateway.simulated() {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), state.check_llm()).await;
    }
    let engine = match settings.engine {
        EngineKind::Llm => "llm",
        EngineKind::Pseudo => "pseudo",
    };
    Ok(Json(ConfigResponse {
        max_upload_bytes: settings.max_upload_bytes,
        max_upload_mb: settings.max_upload_bytes / (1024 * 1024),
        max_files: settings.max_files,
        extensions: extensions(),
        formats: Format::ALL
            .iter()
            .map(|f| FormatInfo { name: f.as_str(), label: f.label() })
            .collect(),
        engine,
        demo: settings.engine == EngineKind::Pseudo || state.gateway.simulated(),
        features: {
            let mut on = vec!["documents", "text", "assistants"];
            if settings.vision_model.is_some() {
                on.push("vision");
            }
            on
        },
        auth,
    }))
}

/// Every format's usual extensions, once each, sorted.
fn extensions() -> Vec<&'static str> {
    let mut all: Vec<&'static str> =
        Format::ALL.iter().flat_map(|f| f.extensions().iter().copied()).collect();
    all.sort_unstable();
    all.dedup();
    all
}
