//! Signing in with a local password, signing out, and the first-start set-up.
//!
//! Guessing passwords is slowed twice: the sign-in routes have their own per-address rate limit
//! ([`crate::access::rate`]), and failures are counted in the database per login and per address
//! (so replicas share them), each failure past a few free ones doubling the wait before the next
//! attempt is even checked (`429 sign_in_throttled` with `Retry-After`); the rule itself is
//! `tradia_auth::throttle`'s. An unknown login and a
//! wrong password get the same answer after the same work (a decoy hash is checked).
//!
//! First start: while no administrator exists, a one-time token is printed in the log and on
//! the console; `POST /api/v1/auth/setup` with it creates the first administrator, who adopts
//! the jobs created before accounts existed.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use tradia_auth::throttle::{self, RecentFailures};
use tradia_store::{FailureKey, NewSession, NewUser, Role, StoreError, User, UserState};
use utoipa::ToSchema;

use super::caller::{Identity, SESSION_COOKIE, Via};
use super::me::{Me, me_of};
use super::secrets::{
    check_password_strength, csrf_token_for, hash_password, hash_token, random_token, same_hash,
    verify_password,
};
use crate::access::RequestOrigin;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::settings::AuthMode;
use crate::state::AppState;

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    /// Sign-in name (any letter case).
    pub login: String,
    /// Password.
    pub password: String,
}

/// Body of `POST /api/v1/auth/setup`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetupBody {
    /// The one-time token from the log.
    #[serde(default)]
    pub token: String,
    /// The administrator's sign-in name.
    pub login: String,
    /// Their password (at least 10 characters).
    pub password: String,
    /// Their name shown in the page.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// Answer of sign-in and set-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    /// The signed-in user.
    pub user: Me,
    /// The token to send as `X-CSRF-Token` with every change.
    pub csrf_token: String,
}

fn storage(e: StoreError) -> ApiError {
    ApiError::internal("cannot sign in", e)
}

/// The `Set-Cookie` value of a session.
pub(crate) fn session_cookie(
    state: &AppState,
    origin: &RequestOrigin,
    token: &str,
    max_age: Option<u64>,
) -> HeaderValue {
    let age = max_age.map_or_else(|| "Max-Age=0".to_string(), |s| format!("Max-Age={s}"));
    let value = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; {age}{}",
        if secure_cookies(state, origin) { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value)
        .unwrap_or_else(|_| HeaderValue::from_static("tradia_session=; Max-Age=0"))
}

/// Whether cookies get `Secure`: the request came over TLS, or the public URL is https.
pub(crate) fn secure_cookies(state: &AppState, origin: &RequestOrigin) -> bool {
    origin.tls || state.settings.access.public_url.as_ref().is_some_and(|p| p.is_https())
}

/// Creates a session for `user` (and records the sign-in): the answer's body and the
/// `Set-Cookie` value that carries the session.
pub(crate) async fn create_session(
    state: &AppState,
    origin: &RequestOrigin,
    user: &User,
) -> ApiResult<(SignedIn, HeaderValue)> {
    let token = random_token()?;
    let csrf_token = csrf_token_for(&token);
    let lifetime = state.settings.access.session_lifetime;
    let session = state
        .jobs
        .store()
        .create_session(NewSession {
            user: user.id,
            token_hash: hash_token(&token),
            csrf_hash: hash_token(&csrf_token),
            expires_at: OffsetDateTime::now_utc() + lifetime,
        })
        .await
        .map_err(storage)?;
    if let Err(e) = state.jobs.store().record_sign_in(user.id).await {
        tracing::warn!(error = %e, "cannot record the sign-in time");
    }
    let via = Via::Session { id: session.id, csrf_token: csrf_token.clone() };
    let me = me_of(state, user, &via).await?;
    let cookie = session_cookie(state, origin, &token, Some(lifetime.as_secs()));
    Ok((SignedIn { user: me, csrf_token }, cookie))
}

/// Opens a session for `user` and answers with it.
async fn open_session(
    state: &AppState,
    origin: &RequestOrigin,
    user: &User,
) -> ApiResult<Response> {
    let (signed_in, cookie) = create_session(state, origin, user).await?;
    let mut response = Json(signed_in).into_response();
    response.headers_mut().insert(SET_COOKIE, cookie);
    Ok(response)
}

fn local_enabled(state: &AppState) -> ApiResult<()> {
    match &state.settings.access.mode {
        AuthMode::Accounts(m) if m.local => Ok(()),
        AuthMode::Accounts(_) => Err(ApiError::new(
            ErrorCode::Forbidden,
            "local sign-in is not enabled here (TRADIA_AUTH)",
        )),
        AuthMode::SingleUser => {
            Err(ApiError::new(ErrorCode::Forbidden, "single-user mode: there is no sign-in"))
        }
    }
}

/// The wait still due before `login` may try again from `addr`, if any: the store counts the
/// recent failures of each, and `tradia_auth::throttle` decides.
async fn throttled(
    state: &AppState,
    login: &str,
    addr: Option<IpAddr>,
) -> ApiResult<Option<Duration>> {
    let now = OffsetDateTime::now_utc();
    let account = recent_failures(state, FailureKey::Login(login), &throttle::ACCOUNT, now).await?;
    let address = match addr {
        Some(addr) => {
            recent_failures(state, FailureKey::Address(addr), &throttle::ADDRESS, now).await?
        }
        None => RecentFailures::default(),
    };
    let answer = throttle::next_attempt(&account, &address, now);
    Ok(answer.retry_after(now).filter(|wait| !wait.is_zero()))
}

/// The failures of one dimension the throttle `policy` looks at.
async fn recent_failures(
    state: &AppState,
    key: FailureKey<'_>,
    policy: &throttle::Policy,
    now: OffsetDateTime,
) -> ApiResult<RecentFailures> {
    let store = state.jobs.store();
    let remembered =
        store.count_sign_in_failures(key, now - policy.memory).await.map_err(storage)?;
    let burst =
        store.count_sign_in_failures(key, now - policy.burst_window).await.map_err(storage)?;
    Ok(RecentFailures {
        count: remembered.count,
        in_burst_window: burst.count,
        last_at: remembered.last_at,
    })
}

/// `POST /api/v1/auth/login`.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginBody,
    responses((status = 200, body = SignedIn), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<Arc<AppState>>,
    origin: axum::Extension<RequestOrigin>,
    Json(body): Json<LoginBody>,
) -> ApiResult<Response> {
    local_enabled(&state)?;
    let origin = origin.0;
    let login = body.login.trim();
    let store = state.jobs.store();
    if let Some(wait) = throttled(&state, login, origin.client).await? {
        super::audit::record(
            &state,
            None,
            "sign_in_throttled",
            None,
            origin.client,
            Some(json!({ "login": login })),
        )
        .await;
        return Err(ApiError::new(
            ErrorCode::SignInThrottled,
            format!("too many failed sign-ins; try again in {} s", wait.as_secs().max(1)),
        )
        .with_retry_after(wait));
    }
    let user = store.find_user_by_login(login).await.map_err(storage)?;
    let hash = user.as_ref().and_then(|u| u.password_hash.as_ref());
    if !verify_password(&body.password, hash).await {
        if let Err(e) = store.record_sign_in_failure(Some(login), origin.client).await {
            tracing::error!(error = %e, "cannot record a failed sign-in");
        }
        super::audit::record(
            &state,
            user.as_ref().map(|u| u.id),
            "sign_in_failed",
            None,
            origin.client,
            Some(json!({ "login": login })),
        )
        .await;
        return Err(ApiError::new(ErrorCode::InvalidCredentials, "wrong login or password"));
    }
    let Some(user) = user else {
        return Err(ApiError::new(ErrorCode::InvalidCredentials, "wrong login or password"));
    };
    if user.state != UserState::Active {
        super::audit::record(
            &state,
            Some(user.id),
            "sign_in_refused",
            None,
            origin.client,
            Some(json!({ "reason": "disabled" })),
        )
        .await;
        return Err(ApiError::new(
            ErrorCode::AccountDisabled,
            "this account is disabled; ask an administrator",
        ));
    }
    if let Err(e) = store.clear_sign_in_failures(login).await {
        tracing::warn!(error = %e, "cannot clear the sign-in failures");
    }
    super::audit::record(
        &state,
        Some(user.id),
        "sign_in",
        None,
        origin.client,
        Some(json!({ "method": "local" })),
    )
    .await;
    open_session(&state, &origin, &user).await
}

/// Answer of `POST /api/v1/auth/logout` for a user who signed in through OpenID Connect.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedOut {
    /// The provider's sign-out page (RP-initiated logout), to end the provider's session too.
    pub logout_url: String,
}

/// `POST /api/v1/auth/logout`: ends the session (cookie cleared); `204`, or `200` with the
/// provider's sign-out URL for an OpenID user whose provider has one.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    responses((status = 204), (status = 200, body = LoggedOut)))]
pub async fn logout(
    State(state): State<Arc<AppState>>,
    origin: axum::Extension<RequestOrigin>,
    identity: Option<Identity>,
) -> ApiResult<Response> {
    let mut logout_url = None;
    if let Some(identity) = &identity {
        if let Via::Session { id, .. } = &identity.via {
            state.jobs.store().delete_session(*id).await.map_err(storage)?;
        }
        super::audit::record(
            &state,
            Some(identity.user.id),
            "sign_out",
            None,
            origin.0.client,
            None,
        )
        .await;
        if identity.user.oidc.is_some() {
            logout_url = super::oidc::logout_url(&state).await;
        }
    }
    let mut response = match logout_url {
        Some(url) => Json(LoggedOut { logout_url: url.to_string() }).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    };
    response.headers_mut().insert(SET_COOKIE, session_cookie(&state, &origin.0, "", None));
    Ok(response)
}

/// `POST /api/v1/auth/setup`: creates the first administrator with the one-time token.
#[utoipa::path(post, path = "/api/v1/auth/setup", tag = "accounts", request_body = SetupBody,
    responses((status = 200, body = SignedIn), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn setup(
    State(state): State<Arc<AppState>>,
    origin: axum::Extension<RequestOrigin>,
    Json(body): Json<SetupBody>,
) -> ApiResult<Response> {
    local_enabled(&state)?;
    let origin = origin.0;
    let store = state.jobs.store();
    if store.count_active_admins().await.map_err(storage)? > 0 {
        return Err(ApiError::new(
            ErrorCode::SetupDone,
            "an administrator exists: sign in instead",
        ));
    }
    let expected = state.setup_token.lock().ok().and_then(|t| t.clone());
    let valid =
        expected.is_some_and(|t| same_hash(&hash_token(&t), &hash_token(body.token.trim())));
    if !valid {
        super::audit::record(&state, None, "setup_refused", None, origin.client, None).await;
        return Err(ApiError::new(
            ErrorCode::SetupTokenInvalid,
            "wrong set-up token: use the one printed in the service's log at start-up",
        ));
    }
    check_password_strength(&body.password)?;
    let mut new = NewUser::new(body.login.trim(), Role::Admin);
    new.display_name = body.display_name.unwrap_or_default().trim().to_string();
    new.password_hash = Some(hash_password(&body.password).await?);
    let user = match store.create_user(new).await {
        Ok(user) => user,
        Err(StoreError::Invalid(m)) => return Err(ApiError::new(ErrorCode::InvalidRequest, m)),
        Err(e) => return Err(ApiError::from(e)),
    };
    if let Ok(mut token) = state.setup_token.lock() {
        *token = None;
    }
    tracing::info!(user.id = %user.id, "first administrator created; set-up is done");
    super::audit::record(
        &state,
        Some(user.id),
        "setup",
        Some(user.id.to_string()),
        origin.client,
        None,
    )
    .await;
    open_session(&state, &origin, &user).await
}

/// Prepares accounts at start-up: the local user of single-user mode, or the set-up token while
/// no administrator exists (printed in the log and on the console).
pub async fn prepare(state: &AppState) -> anyhow::Result<()> {
    let store = state.jobs.store();
    match &state.settings.access.mode {
        AuthMode::SingleUser => {
            let user = match store.find_user_by_login(SINGLE_USER_LOGIN).await? {
                Some(user) => user,
                None => {
                    let mut new = NewUser::new(SINGLE_USER_LOGIN, Role::Admin);
                    new.display_name = "Local user".into();
                    store.create_user(new).await?
                }
            };
            let _ = state.single_user.set(user);
        }
        AuthMode::Accounts(_) => {
            // The decoy hash of unknown logins is made now, not on the first sign-in.
            tokio::task::spawn_blocking(tradia_auth::password::warm_up).await?;
            if store.count_active_admins().await? == 0 {
                let token = random_token().map_err(|e| anyhow::anyhow!(e.message))?;
                let base = state.settings.access.public_url.as_ref().map_or_else(
                    || format!("http://{}", state.settings.listen),
                    |p| p.origin.clone(),
                );
                let link = format!("{base}/?setup={token}");
                tracing::warn!(setup_link = %link, "no administrator yet: open this one-time set-up link to create the first one (or run `tradia users add <LOGIN> --admin` while the service is stopped)");
                eprintln!(
                    "\nTradia has no administrator yet. Create the first one at:\n\n    {link}\n\nor stop the service and run `tradia users add <LOGIN> --admin`.\n"
                );
                if let Ok(mut slot) = state.setup_token.lock() {
                    *slot = Some(token);
                }
            }
        }
    }
    Ok(())
}

/// The login of single-user mode's one local user.
pub const SINGLE_USER_LOGIN: &str = "local";
