//! Who is calling: the [`Identity`] of a request, worked out once by [`resolve`] from its
//! credentials, and the route layers that demand one ([`require_user`], [`require_admin`]).
//!
//! Credentials, in order: single-user mode (`TRADIA_AUTH=none`: everyone is the one local
//! user); an API key (`Authorization: Bearer tdk_…`); the trusted proxy's header, believed only
//! from a `TRADIA_AUTH_PROXY_TRUSTED` address; the session cookie. A wrong API key is refused at
//! once (`401 invalid_credentials`): a script should hear its key is bad, not be treated as
//! anonymous. An unknown or expired cookie is simply no identity. A cookie-authenticated change
//! must carry the session's `X-CSRF-Token` (the other half of [`crate::access::csrf`]).

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use tradia_store::{ApiKeyId, Caller, NewUser, Role, SessionId, StoreError, User, UserState};

use super::secrets::{csrf_token_for, hash_token, same_hash};
use crate::access::csrf::is_unsafe;
use crate::access::rate::RateKey;
use crate::access::{RequestOrigin, origin};
use crate::error::{ApiError, ErrorCode};
use crate::settings::AuthMode;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tradia_session";

/// The header carrying a session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A sign-in session (cookie); its CSRF token is derived from the cookie.
    Session {
        /// The session.
        id: SessionId,
        /// Its CSRF token.
        csrf_token: String,
    },
    /// An API key.
    ApiKey(ApiKeyId),
    /// The trusted reverse proxy's header.
    Proxy,
    /// Single-user mode.
    SingleUser,
    /// LibreTranslate's keyless mode: the configured account anonymous calls run as.
    Keyless,
}

impl Via {
    /// The name `GET /api/v1/me` gives it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Via::Session { .. } => "session",
            Via::ApiKey(_) => "api_key",
            Via::Proxy => "proxy",
            Via::SingleUser => "none",
            Via::Keyless => "keyless",
        }
    }
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The user, as the request found them.
    pub user: User,
    /// How they proved it.
    pub via: Via,
}

impl Identity {
    /// The value owner-scoped store queries take.
    pub fn caller(&self) -> Caller {
        self.user.caller()
    }

    /// True for an administrator.
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Identity>().cloned().ok_or_else(unauthenticated)
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Identity {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Identity>().cloned())
    }
}

/// `401 unauthenticated`.
pub fn unauthenticated() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthenticated,
        "sign in, or send an API key as `Authorization: Bearer <key>`",
    )
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn storage(error: StoreError) -> ApiError {
    ApiError::internal("cannot read the caller's credentials", error)
}

/// The user a trusted proxy names, created on first sight (as a `user`).
pub(crate) async fn proxy_user(state: &AppState, login: &str) -> Result<User, ApiError> {
    let store = state.jobs.store();
    if let Some(user) = store.find_user_by_login(login).await.map_err(storage)? {
        return Ok(user);
    }
    match store.create_user(NewUser::new(login, Role::User)).await {
        Ok(user) => {
            tracing::info!(user.id = %user.id, "user created on first sign-in through the proxy");
            Ok(user)
        }
        // Two first requests at once: the other one created it.
        Err(StoreError::LoginTaken(_)) => store
            .find_user_by_login(login)
            .await
            .map_err(storage)?
            .ok_or_else(|| ApiError::internal("proxy sign-in", "the user vanished")),
        Err(StoreError::Invalid(message)) => Err(ApiError::new(
            ErrorCode::InvalidCredentials,
            format!("the proxy's login: {message}"),
        )),
        Err(e) => Err(storage(e)),
    }
}

/// The identity a request's credentials prove, if any.
pub async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    origin: RequestOrigin,
) -> Result<Option<Identity>, ApiError> {
    let methods = match &state.settings.access.mode {
        AuthMode::SingleUser => {
            return Ok(state
                .single_user
                .get()
                .map(|user| Identity { user: user.clone(), via: Via::SingleUser }));
        }
        AuthMode::Accounts(methods) => methods,
    };
    let store = state.jobs.store();
    if let Some(key) = bearer(headers) {
        let Some((api_key, user)) = store.find_api_key(hash_token(key)).await.map_err(storage)?
        else {
            return Err(ApiError::new(ErrorCode::InvalidCredentials, "unknown or revoked API key"));
        };
        if let Err(e) = store.touch_api_key(api_key.id).await {
            tracing::warn!(error = %e, "cannot record the API key's use");
        }
        return Ok(Some(Identity { user, via: Via::ApiKey(api_key.id) }));
    }
    if let Some(proxy) = &methods.proxy
        && origin.via_trusted_proxy
        && let Some(login) = headers.get(&proxy.header).and_then(|v| v.to_str().ok())
        && !login.trim().is_empty()
    {
        let user = proxy_user(state, login.trim()).await?;
        if user.state != UserState::Active {
            return Err(ApiError::new(ErrorCode::AccountDisabled, "this account is disabled"));
        }
        return Ok(Some(Identity { user, via: Via::Proxy }));
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        let Some((session, user)) = store.find_session(hash_token(token)).await.map_err(storage)?
        else {
            return Ok(None);
        };
        let expires_at = OffsetDateTime::now_utc() + state.settings.access.session_lifetime;
        if let Err(e) = store.touch_session(session.id, expires_at).await {
            tracing::warn!(error = %e, "cannot extend the session");
        }
        return Ok(Some(Identity {
            user,
            via: Via::Session { id: session.id, csrf_token: csrf_token_for(token) },
        }));
    }
    Ok(None)
}

/// Layer: works out the request's [`Identity`] and keeps it in its extensions (and its user as
/// the rate-limit key); refuses a cookie-authenticated change without the session's CSRF token.
pub async fn resolve(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    // The compatible APIs take keys only, where their clients send them: no cookie identity.
    if crate::compat::owns(&state, request.uri().path()) {
        return next.run(request).await;
    }
    let origin = origin::of(&request);
    let identity = match identify(&state, request.headers(), origin).await {
        Ok(identity) => identity,
        Err(e) => return e.into_response(),
    };
    if let Some(identity) = identity {
        if let Via::Session { csrf_token, .. } = &identity.via
            && is_unsafe(request.method())
        {
            let sent =
                request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !same_hash(&hash_token(sent), &hash_token(csrf_token)) {
                return ApiError::new(
                    ErrorCode::CsrfFailed,
                    "a change made with the session cookie needs the session's X-CSRF-Token header",
                )
                .into_response();
            }
        }
        request.extensions_mut().insert(RateKey::User(identity.user.id.to_string()));
        request.extensions_mut().insert(identity);
    }
    next.run(request).await
}

/// Route layer: `401` without an identity.
pub async fn require_user(request: Request, next: Next) -> Response {
    if request.extensions().get::<Identity>().is_none() {
        return unauthenticated().into_response();
    }
    next.run(request).await
}

/// Route layer: `401` without an identity, `403 forbidden` for a user who is not an
/// administrator.
pub async fn require_admin(request: Request, next: Next) -> Response {
    match request.extensions().get::<Identity>() {
        None => unauthenticated().into_response(),
        Some(identity) if !identity.is_admin() => {
            ApiError::new(ErrorCode::Forbidden, "administrators only").into_response()
        }
        Some(_) => next.run(request).await,
    }
}
