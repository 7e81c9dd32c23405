//! The caller's own account: `GET /api/v1/me` (profile, usage, quotas, CSRF token) and their API
//! keys (`/api/v1/me/keys`: list, create — the key shown once —, revoke).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tradia_store::{ApiKeyId, NewApiKey, StoreError, User, UserId};
use utoipa::ToSchema;

use super::caller::{Identity, Via};
use super::quota::{Quotas, Usage, quotas_of, usage_of};
use super::secrets::{hash_token, new_api_key, shown_prefix};
use crate::access::RequestOrigin;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// A team the user belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TeamRef {
    /// Team id.
    pub id: String,
    /// Team name.
    pub name: String,
}

/// The signed-in user, as the page shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    /// User id.
    pub id: String,
    /// Sign-in name.
    pub login: String,
    /// Name shown.
    pub display_name: String,
    /// E-mail address.
    pub email: Option<String>,
    /// `user` or `admin`.
    pub role: String,
    /// Teams.
    pub teams: Vec<TeamRef>,
    /// What they used.
    pub usage: Usage,
    /// Their limits.
    pub quotas: Quotas,
    /// The token to send as `X-CSRF-Token` with changes (session only; `null` otherwise).
    pub csrf_token: Option<String>,
    /// How this request was authenticated: `session`, `api_key`, `proxy` or `none`.
    pub auth: String,
}

fn storage(e: StoreError) -> ApiError {
    ApiError::internal("cannot read the account", e)
}

/// The [`Me`] of `user` reached through `via`.
pub async fn me_of(state: &AppState, user: &User, via: &Via) -> ApiResult<Me> {
    let teams = state.jobs.store().teams_of_user(user.id).await.map_err(storage)?;
    Ok(Me {
        id: user.id.to_string(),
        login: user.login.clone(),
        display_name: user.display_name.clone(),
        email: user.email.clone(),
        role: user.role.as_str().to_string(),
        teams: teams.into_iter().map(|t| TeamRef { id: t.id.to_string(), name: t.name }).collect(),
        usage: usage_of(state, user.id).await?,
        quotas: quotas_of(state, user),
        csrf_token: match via {
            Via::Session { csrf_token, .. } => Some(csrf_token.clone()),
            _ => None,
        },
        auth: via.as_str().to_string(),
    })
}

/// The caller's profile.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(State(state): State<Arc<AppState>>, identity: Identity) -> ApiResult<Json<Me>> {
    Ok(Json(me_of(&state, &identity.user, &identity.via).await?))
}

/// An API key as listed (never the key itself).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyInfo {
    /// Key id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its first characters.
    pub prefix: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it was last used (RFC 3339).
    pub last_used_at: Option<String>,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// `{ "keys": [...] }`.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    /// The caller's keys that are not revoked, newest first.
    pub keys: Vec<KeyInfo>,
}

/// A key just created: the only time `key` is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// Key id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its first characters.
    pub prefix: String,
    /// The key: send it as `Authorization: Bearer <key>`. Not shown again.
    pub key: String,
}

/// Body of key creation.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewKeyBody {
    /// A name to tell keys apart ("CI", "Moodle").
    #[serde(default)]
    pub name: Option<String>,
}

/// The caller's keys.
#[utoipa::path(get, path = "/api/v1/me/keys", tag = "accounts", responses((status = 200, body = KeyList)))]
pub async fn list_keys(
    State(state): State<Arc<AppState>>,
    identity: Identity,
) -> ApiResult<Json<KeyList>> {
    let keys = state.jobs.store().list_api_keys(identity.user.id).await.map_err(storage)?;
    let keys = keys
        .into_iter()
        .filter(|k| k.revoked_at.is_none())
        .map(|k| KeyInfo {
            id: k.id.to_string(),
            name: k.name,
            prefix: k.prefix,
            created_at: rfc3339(k.created_at),
            last_used_at: k.last_used_at.map(rfc3339),
        })
        .collect();
    Ok(Json(KeyList { keys }))
}

/// Creates a key for `user`, audited as done by `actor` from `origin`.
pub async fn create_key_for(
    state: &AppState,
    user: UserId,
    name: Option<String>,
    actor: UserId,
    origin: RequestOrigin,
) -> ApiResult<CreatedKey> {
    let name = name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "API key".into());
    if name.chars().count() > 100 {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "`name` must have at most 100 characters",
        ));
    }
    let key = new_api_key()?;
    let prefix = shown_prefix(&key);
    let stored = state
        .jobs
        .store()
        .create_api_key(NewApiKey { user, name, key_hash: hash_token(&key), prefix })
        .await
        .map_err(storage)?;
    super::audit::record(
        state,
        Some(actor),
        "key_created",
        Some(stored.id.to_string()),
        origin.client,
        Some(serde_json::json!({ "user": user.to_string(), "name": stored.name })),
    )
    .await;
    Ok(CreatedKey { id: stored.id.to_string(), name: stored.name, prefix: stored.prefix, key })
}

/// Creates a key for the caller.
#[utoipa::path(post, path = "/api/v1/me/keys", tag = "accounts", request_body = NewKeyBody,
    responses((status = 201, body = CreatedKey)))]
pub async fn create_key(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    origin: axum::Extension<RequestOrigin>,
    body: Option<Json<NewKeyBody>>,
) -> ApiResult<Response> {
    let name = body.and_then(|Json(b)| b.name);
    let created =
        create_key_for(&state, identity.user.id, name, identity.user.id, origin.0).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// Revokes one of the caller's keys (an administrator: anyone's).
#[utoipa::path(delete, path = "/api/v1/me/keys/{id}", tag = "accounts",
    params(("id" = String, Path, description = "Key id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_key(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    origin: axum::Extension<RequestOrigin>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let not_found = || ApiError::new(ErrorCode::KeyNotFound, format!("no API key with id {id}"));
    let key_id: ApiKeyId = id.parse().map_err(|_| not_found())?;
    // Through this route only one's own keys: an administrator revokes others' on the admin side.
    let caller = tradia_store::Caller { user: identity.user.id, role: tradia_store::Role::User };
    match state.jobs.store().revoke_api_key(&caller, key_id).await {
        Ok(_) => {}
        Err(StoreError::ApiKeyNotFound(_)) => return Err(not_found()),
        Err(e) => return Err(storage(e)),
    }
    super::audit::record(
        &state,
        Some(identity.user.id),
        "key_revoked",
        Some(id),
        origin.0.client,
        None,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
