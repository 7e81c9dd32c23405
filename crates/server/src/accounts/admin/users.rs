//! Administration of users: list, create, change (role, state, quotas, password), delete, and
//! create a key for one.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tradia_store::{
    NewUser, QuotaOverrides, Role, StoreError, User, UserId, UserState, UserUpdate,
};
use utoipa::ToSchema;

use crate::access::RequestOrigin;
use crate::accounts::caller::Identity;
use crate::accounts::me::{CreatedKey, NewKeyBody, create_key_for};
use crate::accounts::secrets::{check_password_strength, hash_password};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

use super::time_text;

/// A user as administrators see them.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminUser {
    /// Id.
    pub id: String,
    /// Sign-in name.
    pub login: String,
    /// Name shown.
    pub display_name: String,
    /// E-mail.
    pub email: Option<String>,
    /// `user` or `admin`.
    pub role: String,
    /// `active` or `disabled`.
    pub state: String,
    /// Overrides of the default quotas (`null`: the default).
    #[schema(value_type = Object)]
    pub quotas: QuotaOverrides,
    /// Whether a local password is set.
    pub has_password: bool,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Latest sign-in (RFC 3339).
    pub last_sign_in_at: Option<String>,
}

impl From<&User> for AdminUser {
    fn from(u: &User) -> Self {
        AdminUser {
            id: u.id.to_string(),
            login: u.login.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            role: u.role.as_str().to_string(),
            state: u.state.as_str().to_string(),
            quotas: u.quotas,
            has_password: u.password_hash.is_some(),
            created_at: time_text(u.created_at),
            last_sign_in_at: u.last_sign_in_at.map(time_text),
        }
    }
}

/// `{ "users": [...] }`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// Every user, by login.
    pub users: Vec<AdminUser>,
}

pub(crate) fn user_id(raw: &str) -> ApiResult<UserId> {
    raw.parse()
        .map_err(|_| ApiError::new(ErrorCode::UserNotFound, format!("no user with id {raw}")))
}

fn parse_role(raw: &str) -> ApiResult<Role> {
    Role::parse(raw)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "`role` is `user` or `admin`"))
}

pub(crate) fn invalid_or(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid(m) => ApiError::new(ErrorCode::InvalidRequest, m),
        e => ApiError::from(e),
    }
}

/// Every user.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses((status = 200, body = UserList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_users(State(state): State<Arc<AppState>>) -> ApiResult<Json<UserList>> {
    let users = state.jobs.store().list_users().await?;
    Ok(Json(UserList { users: users.iter().map(AdminUser::from).collect() }))
}

/// Body of user creation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserBody {
    /// Sign-in name.
    pub login: String,
    /// Local password (none: the user signs in through single sign-on or the proxy).
    #[serde(default)]
    pub password: Option<String>,
    /// Name shown.
    #[serde(default)]
    pub display_name: Option<String>,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// `user` (default) or `admin`.
    #[serde(default)]
    pub role: Option<String>,
}

/// Creates a user.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUserBody,
    responses((status = 201, body = AdminUser), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_user(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Extension(origin): Extension<RequestOrigin>,
    Json(body): Json<NewUserBody>,
) -> ApiResult<Response> {
    let role = body.role.as_deref().map(parse_role).transpose()?.unwrap_or(Role::User);
    let mut new = NewUser::new(body.login.trim(), role);
    new.display_name = body.display_name.unwrap_or_default().trim().to_string();
    new.email = body.email.map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
    if let Some(password) = &body.password {
        check_password_strength(password)?;
        new.password_hash = Some(hash_password(password).await?);
    }
    let user = state.jobs.store().create_user(new).await.map_err(invalid_or)?;
    crate::accounts::audit::record(
        &state,
        Some(identity.user.id),
        "user_created",
        Some(user.id.to_string()),
        origin.client,
        Some(json!({ "role": role.as_str() })),
    )
    .await;
    Ok((StatusCode::CREATED, Json(AdminUser::from(&user))).into_response())
}

/// Body of a user change.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UserPatch {
    /// `user` or `admin`.
    #[serde(default)]
    pub role: Option<String>,
    /// `active` or `disabled`.
    #[serde(default)]
    pub state: Option<String>,
    /// Name shown.
    #[serde(default)]
    pub display_name: Option<String>,
    /// New quota overrides (all four; `null` each: the default).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub quotas: Option<QuotaOverrides>,
    /// New local password.
    #[serde(default)]
    pub password: Option<String>,
}

/// Changes a user (role, state, name, quotas, password).
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "admin", request_body = UserPatch,
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = AdminUser), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn update_user(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Extension(origin): Extension<RequestOrigin>,
    Path(id): Path<String>,
    Json(patch): Json<UserPatch>,
) -> ApiResult<Json<AdminUser>> {
    let id = user_id(&id)?;
    let store = state.jobs.store();
    let before =
        store.get_user(id).await?.ok_or_else(|| ApiError::from(StoreError::UserNotFound(id)))?;
    let role = patch.role.as_deref().map(parse_role).transpose()?;
    let user_state = match patch.state.as_deref() {
        Some(s) => Some(UserState::parse(s).ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidRequest, "`state` is `active` or `disabled`")
        })?),
        None => None,
    };
    let password_hash = match &patch.password {
        Some(p) => {
            check_password_strength(p)?;
            Some(Some(hash_password(p).await?))
        }
        None => None,
    };
    let update = UserUpdate {
        display_name: patch.display_name.map(|n| n.trim().to_string()),
        email: None,
        role,
        state: user_state,
        password_hash,
        oidc: None,
        quotas: patch.quotas,
    };
    let user = store.update_user(id, update).await.map_err(invalid_or)?;
    let actor = Some(identity.user.id);
    let object = Some(id.to_string());
    if before.role != user.role {
        crate::accounts::audit::record(
            &state,
            actor,
            "role_changed",
            object.clone(),
            origin.client,
            Some(json!({ "from": before.role.as_str(), "to": user.role.as_str() })),
        )
        .await;
    }
    if before.quotas != user.quotas {
        crate::accounts::audit::record(
            &state,
            actor,
            "quota_changed",
            object.clone(),
            origin.client,
            Some(json!({ "from": before.quotas, "to": user.quotas })),
        )
        .await;
    }
    if before.state != user.state {
        crate::accounts::audit::record(
            &state,
            actor,
            "state_changed",
            object.clone(),
            origin.client,
            Some(json!({ "from": before.state.as_str(), "to": user.state.as_str() })),
        )
        .await;
    }
    if patch.password.is_some() {
        crate::accounts::audit::record(&state, actor, "password_set", object, origin.client, None)
            .await;
    }
    Ok(Json(AdminUser::from(&user)))
}

/// Deletes a user with their jobs, sessions and keys.
#[utoipa::path(delete, path = "/api/v1/admin/users/{id}", tag = "admin",
    params(("id" = String, Path, description = "User id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete_user(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Extension(origin): Extension<RequestOrigin>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = user_id(&id)?;
    let purged = state.jobs.store().delete_user(id).await?;
    state.jobs.delete_blobs(&purged.blobs).await;
    crate::accounts::audit::record(
        &state,
        Some(identity.user.id),
        "user_deleted",
        Some(id.to_string()),
        origin.client,
        Some(json!({ "jobs": purged.jobs.len() })),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates an API key for a user (shown once).
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/keys", tag = "admin", request_body = NewKeyBody,
    params(("id" = String, Path, description = "User id")),
    responses((status = 201, body = CreatedKey), (status = 404, body = crate::error::ErrorBody)))]
pub async fn create_user_key(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    Extension(origin): Extension<RequestOrigin>,
    Path(id): Path<String>,
    body: Option<Json<NewKeyBody>>,
) -> ApiResult<Response> {
    let id = user_id(&id)?;
    state
        .jobs
        .store()
        .get_user(id)
        .await?
        .ok_or_else(|| ApiError::from(StoreError::UserNotFound(id)))?;
    let created =
        create_key_for(&state, id, body.and_then(|Json(b)| b.name), identity.user.id, origin)
            .await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}
