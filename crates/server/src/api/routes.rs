//! The route table: every route of the API with its method, path and access class, in one list
//! that builds the router.
//!
//! Declaring access next to the path, rather than inside each handler, keeps the rule visible
//! in one place, and lets a test enumerate the routes: the isolation tests walk [`table`] and
//! fail when a route has no case, so a new route cannot ship without deciding who may call it.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

use super::{assist, config, detect, docs, glossaries, meta, text};
use crate::accounts::{admin, me, oidc, sign_in};
use crate::jobs::api as jobs;
use crate::memory::api as memory;
use crate::state::AppState;

/// Largest language-detection request body (a sample of 20 000 characters, in any script).
const DETECT_BODY_LIMIT: usize = 128 * 1024;
/// Largest text or assistant request body.
const TEXT_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Anyone: the page's configuration, the API description, the version-less health page.
    Public,
    /// Anyone, whatever the `Host`, never rate-limited: liveness, readiness, metrics.
    Probe,
    /// Anyone, under the stricter sign-in rate limit: sign-in and first-start set-up.
    SignIn,
    /// A signed-in caller (session, API key, trusted proxy, or single-user mode).
    User,
    /// An administrator.
    Admin,
    /// An API key only, never the session cookie: the LibreTranslate and DeepL APIs, whose
    /// handlers read the key where those APIs carry it (`api_key`, `DeepL-Auth-Key`).
    Key,
}

/// One route of the table.
pub struct Route {
    /// Its method.
    pub method: Method,
    /// Its path, in axum's syntax (`/api/v1/jobs/{id}`); the compatible APIs' paths carry their
    /// configured prefix.
    pub path: Cow<'static, str>,
    /// Who may call it.
    pub access: Access,
    handler: MethodRouter<Arc<AppState>>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({:?})", self.method, self.path, self.access)
    }
}

macro_rules! constructors {
    ($( $name:ident: $method:ident; )*) => {
        $(
            #[doc = concat!("A `", stringify!($method), "` route calling `handler`.")]
            pub fn $name<H, T>(path: impl Into<Cow<'static, str>>, access: Access, handler: H) -> Self
            where
                H: Handler<T, Arc<AppState>>,
                T: 'static,
            {
                Route {
                    method: Method::$method,
                    path: path.into(),
                    access,
                    handler: on(MethodFilter::$method, handler),
                }
            }
        )*
    };
}

impl Route {
    constructors! {
        get: GET;
        post: POST;
        put: PUT;
        patch: PATCH;
        delete: DELETE;
        options: OPTIONS;
    }

    /// The same route with a body limit of `bytes`.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.handler = self.handler.layer(DefaultBodyLimit::max(bytes));
        self
    }

    /// The same route with its handler wrapped by `wrap` (a layer of its own, e.g. CORS headers).
    pub fn wrap(
        mut self,
        wrap: impl FnOnce(MethodRouter<Arc<AppState>>) -> MethodRouter<Arc<AppState>>,
    ) -> Self {
        self.handler = wrap(self.handler);
        self
    }

    /// Splits the route into its path and its method router.
    pub fn into_parts(self) -> (Cow<'static, str>, Access, MethodRouter<Arc<AppState>>) {
        (self.path, self.access, self.handler)
    }
}

/// Every route of the API for this service (the router and the tests use the same list).
/// `/metrics` is here only when it is served on the main port.
pub fn table(state: &AppState) -> Vec<Route> {
    use Access::{Admin, Probe, Public, SignIn, User};
    let upload_limit = usize::try_from(state.settings.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    let mut routes = vec![
        Route::post("/api/v1/jobs", User, jobs::create_job).body_limit(upload_limit),
        Route::get("/api/v1/jobs", User, jobs::list_jobs),
        Route::get("/api/v1/jobs/{id}", User, jobs::get_job),
        Route::delete("/api/v1/jobs/{id}", User, jobs::delete_job),
        Route::get("/api/v1/jobs/{id}/events", User, jobs::job_events),
        Route::get("/api/v1/jobs/{id}/result", User, jobs::job_result),
        Route::get("/api/v1/jobs/{id}/report", User, crate::jobs::report::job_report),
        Route::post("/api/v1/jobs/{id}/cancel", User, jobs::cancel_job),
        Route::post("/api/v1/jobs/{id}/retry", User, crate::jobs::retry::retry_job),
        Route::post("/api/v1/translate", User, text::translate).body_limit(TEXT_BODY_LIMIT),
        Route::post("/api/v1/detect", User, detect::detect).body_limit(DETECT_BODY_LIMIT),
        Route::post("/api/v1/translate/stream", User, text::translate_stream)
            .body_limit(TEXT_BODY_LIMIT),
        Route::post("/api/v1/assist/correct", User, assist::correct).body_limit(TEXT_BODY_LIMIT),
        Route::post("/api/v1/assist/correct/stream", User, assist::correct_stream)
            .body_limit(TEXT_BODY_LIMIT),
        Route::post("/api/v1/assist/reformulate", User, assist::reformulate)
            .body_limit(TEXT_BODY_LIMIT),
        Route::post("/api/v1/assist/reformulate/stream", User, assist::reformulate_stream)
            .body_limit(TEXT_BODY_LIMIT),
        Route::post("/api/v1/assist/summary", User, assist::summary).body_limit(TEXT_BODY_LIMIT),
        Route::post("/api/v1/assist/summary/stream", User, assist::summary_stream)
            .body_limit(TEXT_BODY_LIMIT),
        Route::post("/api/v1/glossaries", User, glossaries::create_glossary)
            .body_limit(TEXT_BODY_LIMIT),
        Route::post("/api/v1/glossaries/import", User, glossaries::import_glossary)
            .body_limit(TEXT_BODY_LIMIT),
        Route::get("/api/v1/glossaries", User, glossaries::list_glossaries),
        Route::get("/api/v1/glossaries/{id}", User, glossaries::get_glossary),
        Route::get("/api/v1/glossaries/{id}/entries", User, glossaries::glossary_entries),
        Route::get("/api/v1/glossaries/{id}/export", User, glossaries::export_glossary),
        Route::patch("/api/v1/glossaries/{id}", User, glossaries::update_glossary)
            .body_limit(TEXT_BODY_LIMIT),
        Route::delete("/api/v1/glossaries/{id}", User, glossaries::delete_glossary),
        Route::get("/api/v1/memory", User, memory::summary),
        Route::delete("/api/v1/memory", User, memory::purge),
        Route::get("/api/v1/memory/tmx", User, memory::export_tmx),
        Route::post("/api/v1/memory/tmx", User, memory::import_tmx).body_limit(upload_limit),
        Route::get("/api/v1/models", User, meta::models),
        Route::get("/api/v1/languages", User, meta::languages),
        Route::get("/api/v1/config", Public, config::config),
        Route::post("/api/v1/auth/login", SignIn, sign_in::login),
        Route::post("/api/v1/auth/setup", SignIn, sign_in::setup),
        Route::post("/api/v1/auth/logout", Public, sign_in::logout),
        Route::get("/api/v1/auth/oidc/start", SignIn, oidc::start),
        Route::get("/api/v1/auth/oidc/callback", SignIn, oidc::callback),
        Route::get("/api/v1/me", User, me::me),
        Route::get("/api/v1/me/keys", User, me::list_keys),
        Route::post("/api/v1/me/keys", User, me::create_key),
        Route::delete("/api/v1/me/keys/{id}", User, me::revoke_key),
        Route::get("/api/v1/admin/users", Admin, admin::list_users),
        Route::post("/api/v1/admin/users", Admin, admin::create_user),
        Route::patch("/api/v1/admin/users/{id}", Admin, admin::update_user),
        Route::delete("/api/v1/admin/users/{id}", Admin, admin::delete_user),
        Route::post("/api/v1/admin/users/{id}/keys", Admin, admin::create_user_key),
        Route::get("/api/v1/admin/teams", Admin, admin::list_teams),
        Route::post("/api/v1/admin/teams", Admin, admin::create_team),
        Route::put("/api/v1/admin/teams/{id}/members/{user}", Admin, admin::add_member),
        Route::delete("/api/v1/admin/teams/{id}/members/{user}", Admin, admin::remove_member),
        Route::get("/api/v1/admin/jobs", Admin, admin::list_jobs),
        Route::get("/api/v1/admin/usage", Admin, admin::usage),
        Route::get("/api/v1/admin/audit", Admin, admin::audit),
        Route::get("/healthz", Public, meta::healthz),
        Route::get("/livez", Probe, meta::livez),
        Route::get("/readyz", Probe, meta::readyz),
        Route::get("/api/openapi.json", Public, docs::openapi_json),
        Route::get("/api/docs", Public, docs::page),
        Route::get("/api/docs/docs.js", Public, docs::script),
        Route::get("/api/docs/docs.css", Public, docs::style),
    ];
    routes.extend(crate::compat::routes(state));
    if state.settings.metrics_addr.is_none() {
        routes.push(Route::get("/metrics", Probe, meta::metrics));
    }
    routes
}
