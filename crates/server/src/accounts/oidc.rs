//! Single sign-on through OpenID Connect (`TRADIA_AUTH=oidc`): the two routes of the
//! authorisation-code flow, and the users it creates.
//!
//! `GET /api/v1/auth/oidc/start` seals the pending login (state, nonce, PKCE verifier,
//! `return_to`) into a short-lived cookie scoped to the callback's path, so that any replica can
//! finish it, and redirects to the provider. `GET /api/v1/auth/oidc/callback` opens the cookie
//! (cleared whatever happens), lets `tradia-oidc` check the answer and the ID token, then finds
//! the user by `(issuer, subject)` — never by login or e-mail, which the provider's user could
//! choose — or creates them, opens a session and redirects to `return_to`. A failure redirects to
//! the page with `?auth_error=<code>` and never opens a session.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use tradia_oidc::{LazyOidcClient, OidcError, PendingLogin, SealKey};
use tradia_store::{NewUser, OidcIdentity, Role, StoreError, User, UserState, UserUpdate};
use url::Url;
use utoipa::IntoParams;

use super::caller::cookie;
use super::secrets::random_token;
use super::sign_in::{create_session, secure_cookies};
use crate::access::RequestOrigin;
use crate::error::ErrorCode;
use crate::settings::ServerSettings;
use crate::settings::access::OidcSettings;
use crate::state::AppState;

/// The cookie that carries the sealed pending login between start and callback.
pub const PENDING_COOKIE: &str = "tradia_oidc";
/// The pending-login cookie's path: only the callback needs it.
const PENDING_PATH: &str = "/api/v1/auth/oidc";
/// The callback, relative to `TRADIA_PUBLIC_URL`.
const CALLBACK: &str = "api/v1/auth/oidc/callback";
/// Other logins tried when an OpenID user's login is taken, before giving up.
const LOGIN_ATTEMPTS: u32 = 20;

/// What the service keeps to sign people in through OpenID Connect.
pub struct OidcState {
    /// The provider's client, discovered on first use and again after failures.
    pub client: Arc<LazyOidcClient>,
    /// The key pending logins are sealed with.
    seal: SealKey,
}

impl OidcState {
    /// The OpenID state of these settings, when OpenID Connect is enabled. The sealing key is
    /// derived from the client secret (the same on every replica); a public client, or a secret
    /// too short to derive from, gets a random key, which suits a single replica only.
    pub fn from_settings(settings: &ServerSettings) -> Option<OidcState> {
        let oidc = settings.access.methods()?.oidc.as_deref()?;
        let from_secret = oidc
            .client_secret
            .as_ref()
            .and_then(|s| SealKey::derive(s.expose_secret().as_bytes()).ok());
        let seal = match from_secret {
            Some(key) => key,
            None => {
                tracing::warn!(
                    "OpenID Connect: no client secret to seal pending sign-ins with; a random key is used, so a sign-in must end on the replica that started it"
                );
                let random = random_token().ok()?;
                match SealKey::derive(random.as_bytes()) {
                    Ok(key) => key,
                    Err(e) => {
                        tracing::error!(error = %e, "OpenID Connect disabled: no sealing key");
                        return None;
                    }
                }
            }
        };
        Some(OidcState { client: Arc::new(LazyOidcClient::new(client_settings(oidc))), seal })
    }
}

/// The crate's settings from the server's.
fn client_settings(s: &OidcSettings) -> tradia_oidc::OidcSettings {
    let mut oidc = match &s.client_secret {
        Some(secret) => {
            tradia_oidc::OidcSettings::new(s.issuer.as_str(), &s.client_id, secret.clone())
        }
        None => tradia_oidc::OidcSettings::public(s.issuer.as_str(), &s.client_id),
    };
    oidc.role_claim = s.role_claim.clone();
    oidc.admin_values = s.admin_values.clone();
    oidc
}

/// Logs at start-up whether the provider answers; local sign-in works either way.
pub async fn check_provider(state: &AppState) {
    let Some(oidc) = &state.oidc else { return };
    match oidc.client.get().await {
        Ok(client) => tracing::info!(issuer = %client.issuer(), "OpenID provider reachable"),
        Err(e) => {
            tracing::warn!(error = %e, "OpenID provider not usable yet; retried on the next sign-in")
        }
    }
}

/// The provider's sign-out URL, coming back to the page, when it has one.
pub async fn logout_url(state: &AppState) -> Option<Url> {
    let oidc = state.oidc.as_ref()?;
    let public = state.settings.access.public_url.as_ref()?;
    let client = oidc.client.get().await.ok()?;
    client.logout_url(Some(&public.url))
}

/// Query of `GET /api/v1/auth/oidc/start`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StartQuery {
    /// A local path to come back to once signed in (default `/`).
    pub return_to: Option<String>,
}

/// Query of `GET /api/v1/auth/oidc/callback`, as the provider sends it.
#[derive(Debug, Deserialize, IntoParams)]
pub struct CallbackQuery {
    /// The authorisation code.
    pub code: Option<String>,
    /// The state the sign-in was started with.
    pub state: Option<String>,
    /// The provider's error, instead of a code.
    pub error: Option<String>,
    /// Its description.
    pub error_description: Option<String>,
}

/// A `302` to `location`.
fn redirect(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(location) {
        Ok(value) => response.headers_mut().insert(LOCATION, value),
        Err(_) => response.headers_mut().insert(LOCATION, HeaderValue::from_static("/")),
    };
    response
}

/// The pending-login cookie: `value` for `max_age` seconds, or cleared.
fn pending_cookie(
    state: &AppState,
    origin: &RequestOrigin,
    value: Option<(&str, u64)>,
) -> HeaderValue {
    let (value, age) = value.unwrap_or(("", 0));
    let text = format!(
        "{PENDING_COOKIE}={value}; Path={PENDING_PATH}; HttpOnly; SameSite=Lax; Max-Age={age}{}",
        if secure_cookies(state, origin) { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text)
        .unwrap_or_else(|_| HeaderValue::from_static("tradia_oidc=; Max-Age=0"))
}

/// The page, told that single sign-on failed with `code`.
fn failure_page(code: ErrorCode) -> Response {
    redirect(&format!("/?auth_error={}", code.as_str()))
}

/// A failed sign-in: logged, audited, and answered as a redirect to the page.
async fn failed(state: &AppState, origin: &RequestOrigin, error: &OidcError) -> Response {
    let code = ErrorCode::from(error);
    tracing::warn!(error = %error, code = code.as_str(), "OpenID sign-in failed");
    super::audit::record(
        state,
        None,
        "sign_in_failed",
        None,
        origin.client,
        Some(json!({ "method": "oidc", "code": code.as_str() })),
    )
    .await;
    failure_page(code)
}

/// `GET /api/v1/auth/oidc/start`: redirects to the provider to sign in.
#[utoipa::path(get, path = "/api/v1/auth/oidc/start", tag = "accounts", params(StartQuery),
    responses((status = 302, description = "to the provider's sign-in page, or to the page with `?auth_error=` when single sign-on is not usable")))]
pub async fn start(
    State(state): State<Arc<AppState>>,
    origin: axum::Extension<RequestOrigin>,
    Query(query): Query<StartQuery>,
) -> Response {
    let origin = origin.0;
    let (Some(oidc), Some(public)) = (&state.oidc, &state.settings.access.public_url) else {
        return failure_page(ErrorCode::OidcUnavailable);
    };
    let client = match oidc.client.get().await {
        Ok(client) => client,
        Err(e) => return failed(&state, &origin, &e).await,
    };
    let redirect_uri = match public.url.join(CALLBACK) {
        Ok(url) => url,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the OpenID redirect URI from TRADIA_PUBLIC_URL");
            return failure_page(ErrorCode::OidcUnavailable);
        }
    };
    let (authorize, pending) =
        client.begin(&redirect_uri, query.return_to.as_deref().unwrap_or("/"));
    let sealed = match pending.seal(&oidc.seal) {
        Ok(sealed) => sealed,
        Err(e) => return failed(&state, &origin, &e).await,
    };
    let max_age = oidc.client.settings().login_timeout.as_secs();
    let mut response = redirect(authorize.as_str());
    response
        .headers_mut()
        .insert(SET_COOKIE, pending_cookie(&state, &origin, Some((&sealed, max_age))));
    response
}

/// `GET /api/v1/auth/oidc/callback`: where the provider sends the browser back.
#[utoipa::path(get, path = "/api/v1/auth/oidc/callback", tag = "accounts", params(CallbackQuery),
    responses((status = 302, description = "signed in: to `return_to` with the session cookie; refused: to the page with `?auth_error=oidc_failed` (or `oidc_unavailable`, `account_disabled`), no session")))]
pub async fn callback(
    State(state): State<Arc<AppState>>,
    origin: axum::Extension<RequestOrigin>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let origin = origin.0;
    let mut response = match sign_in(&state, &origin, &headers, query).await {
        Ok(Some(response)) => response,
        Ok(None) => failure_page(ErrorCode::AccountDisabled),
        Err(SignInError::Oidc(e)) => failed(&state, &origin, &e).await,
        Err(SignInError::Service(code)) => failure_page(code),
    };
    response.headers_mut().append(SET_COOKIE, pending_cookie(&state, &origin, None));
    response
}

/// Why a callback did not sign anyone in.
enum SignInError {
    /// The sign-in itself failed.
    Oidc(OidcError),
    /// The service failed (logged where it happened).
    Service(ErrorCode),
}

impl From<OidcError> for SignInError {
    fn from(e: OidcError) -> Self {
        SignInError::Oidc(e)
    }
}

/// The callback's work: `Ok(None)` when the account is disabled.
async fn sign_in(
    state: &AppState,
    origin: &RequestOrigin,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> Result<Option<Response>, SignInError> {
    let oidc = state.oidc.as_ref().ok_or(SignInError::Service(ErrorCode::OidcUnavailable))?;
    let sealed = cookie(headers, PENDING_COOKIE).ok_or_else(|| {
        OidcError::InvalidPendingLogin("no sign-in in progress in this browser".into())
    })?;
    let pending = PendingLogin::unseal(sealed, &oidc.seal)?;
    if let Some(error) = &query.error {
        return Err(OidcError::denied(error, query.error_description.as_deref()).into());
    }
    let (Some(code), Some(returned_state)) = (&query.code, &query.state) else {
        return Err(
            OidcError::InvalidTokenResponse("the callback has no code or state".into()).into()
        );
    };
    let return_to = pending.return_to().to_string();
    let client = oidc.client.get().await?;
    let identity = client.complete(pending, code, returned_state).await?;
    let admin = tradia_oidc::is_admin(&identity, oidc.client.settings());
    let user = find_or_create(state, oidc, &identity, admin).await?;
    if user.state != UserState::Active {
        super::audit::record(
            state,
            Some(user.id),
            "sign_in_refused",
            None,
            origin.client,
            Some(json!({ "method": "oidc", "reason": "disabled" })),
        )
        .await;
        return Ok(None);
    }
    let (_, session_cookie) =
        create_session(state, origin, &user).await.map_err(|e| SignInError::Service(e.code))?;
    super::audit::record(
        state,
        Some(user.id),
        "sign_in",
        None,
        origin.client,
        Some(json!({ "method": "oidc" })),
    )
    .await;
    let mut response = redirect(&return_to);
    response.headers_mut().insert(SET_COOKIE, session_cookie);
    Ok(Some(response))
}

/// A store failure during the callback: logged, the page told.
fn store_failure(e: &StoreError) -> SignInError {
    tracing::error!(error = %e, "OpenID sign-in: the accounts cannot be read or written");
    SignInError::Service(ErrorCode::from(e))
}

/// The user of this identity, created on the first sign-in, their profile (and, with a role
/// claim, their role) refreshed on the next ones.
async fn find_or_create(
    state: &AppState,
    oidc: &OidcState,
    identity: &tradia_oidc::Identity,
    admin: bool,
) -> Result<User, SignInError> {
    let store = state.jobs.store();
    let key = OidcIdentity { issuer: identity.issuer.clone(), subject: identity.subject.clone() };
    let role = if admin { Role::Admin } else { Role::User };
    let roles_from_provider = oidc.client.settings().role_claim.is_some();
    if let Some(user) = store.find_user_by_oidc(&key).await.map_err(|e| store_failure(&e))? {
        if user.state != UserState::Active {
            return Ok(user);
        }
        let mut update = UserUpdate {
            display_name: Some(identity.display_name.clone()),
            email: Some(identity.email.clone()),
            ..UserUpdate::default()
        };
        if roles_from_provider && user.role != role {
            update.role = Some(role);
        }
        return match store.update_user(user.id, update.clone()).await {
            Ok(user) => Ok(user),
            Err(StoreError::LastAdmin) => {
                tracing::warn!(user.id = %user.id, "the provider no longer makes this user an administrator, but they are the last one: the role is kept");
                update.role = None;
                store.update_user(user.id, update).await.map_err(|e| store_failure(&e))
            }
            Err(e) => Err(store_failure(&e)),
        };
    }
    let host = Url::parse(&identity.issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "oidc".into());
    let mut login = identity.login.clone();
    for attempt in 0..LOGIN_ATTEMPTS {
        let new = NewUser {
            login: login.clone(),
            display_name: identity.display_name.clone(),
            email: identity.email.clone(),
            role,
            password_hash: None,
            oidc: Some(key.clone()),
        };
        match store.create_user(new).await {
            Ok(user) => {
                tracing::info!(user.id = %user.id, "OpenID user created on first sign-in");
                super::audit::record(
                    state,
                    Some(user.id),
                    "user_created",
                    Some(user.id.to_string()),
                    None,
                    Some(json!({ "method": "oidc" })),
                )
                .await;
                return Ok(user);
            }
            Err(StoreError::LoginTaken(_)) => {
                login = match attempt {
                    0 => format!("{}@{host}", identity.login),
                    n => format!("{}@{host}-{}", identity.login, n + 1),
                };
            }
            // Another callback of the same person created the user meanwhile.
            Err(StoreError::IdentityTaken) => {
                return store
                    .find_user_by_oidc(&key)
                    .await
                    .map_err(|e| store_failure(&e))?
                    .ok_or(SignInError::Service(ErrorCode::IdentityTaken));
            }
            Err(e) => return Err(store_failure(&e)),
        }
    }
    tracing::error!("OpenID sign-in: no free login for this user after {LOGIN_ATTEMPTS} attempts");
    Err(SignInError::Service(ErrorCode::LoginTaken))
}
