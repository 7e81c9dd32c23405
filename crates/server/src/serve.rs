//! Starting and stopping the service.
//!
//! Shutdown order (SIGTERM or Ctrl-C): the shutdown token is cancelled; the listener stops
//! accepting; open SSE streams end (they all watch the token); workers raise their jobs' cancel
//! flags, the engine stops sending requests, and each running job is put back in the queue with
//! what it had saved; then the process exits. If that takes longer than the deadline, the
//! remaining tasks are abandoned: their leases expire and the jobs resume on the next start.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use tokio::task::JoinHandle;
use tokio_util::task::TaskTracker;

use crate::data_lock::DataDirLock;
use crate::gateway::{LlmGateway, PseudoGateway};
use crate::jobs::repo::JobRepo;
use crate::settings::{EngineKind, ServerSettings};
use crate::state::AppState;

/// A started service.
pub struct RunningServer {
    /// Where the API listens.
    pub addr: SocketAddr,
    /// Where `/metrics` listens when on a separate address.
    pub metrics_addr: Option<SocketAddr>,
    state: Arc<AppState>,
    server: JoinHandle<std::io::Result<()>>,
    metrics_server: Option<JoinHandle<std::io::Result<()>>>,
    tracker: TaskTracker,
    /// The data folder's lock (SQLite), held until the server is dropped.
    _lock: Option<DataDirLock>,
}

impl RunningServer {
    /// The shared state (tests inspect it).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops gracefully, waiting at most the configured deadline.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let deadline = self.state.settings.shutdown_timeout;
        tracing::info!(deadline_s = deadline.as_secs(), "shutting down");
        self.state.shutdown.cancel();
        self.tracker.close();
        let tracker = self.tracker.clone();
        let server = self.server;
        let metrics_server = self.metrics_server;
        let drained = tokio::time::timeout(deadline, async move {
            let served = server.await;
            tracker.wait().await;
            if let Some(m) = metrics_server {
                let _ = m.await;
            }
            served
        })
        .await;
        match drained {
            Ok(Ok(Ok(()))) => {
                tracing::info!("stopped");
                Ok(())
            }
            Ok(Ok(Err(e))) => Err(e).context("the HTTP server failed"),
            Ok(Err(e)) => Err(e).context("the HTTP server task failed"),
            Err(_) => {
                tracing::warn!("shutdown deadline reached; unfinished jobs resume on next start");
                Ok(())
            }
        }
    }
}

/// Builds the gateway the settings ask for.
fn gateway_for(settings: &ServerSettings) -> anyhow::Result<Arc<dyn LlmGateway>> {
    match settings.engine {
        EngineKind::Pseudo => Ok(Arc::new(PseudoGateway)),
        EngineKind::Llm => crate::llm::gateway_from_settings(settings),
    }
}

/// Starts the service with an explicit gateway (tests, embedding); returns once listening.
pub async fn start(
    settings: ServerSettings,
    gateway: Arc<dyn LlmGateway>,
    extra: Option<Router>,
) -> anyhow::Result<RunningServer> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!("cannot create the data folder {} (TRADIA_DATA_DIR)", settings.data_dir.display())
    })?;
    // Before anything else touches the folder (opening the blob store removes stale temporary
    // files): a second process on the same SQLite folder stops here.
    let lock = if settings.database_url.starts_with("sqlite:") {
        Some(crate::data_lock::lock(&settings.data_dir)?)
    } else {
        None
    };
    let _ = crate::telemetry::prometheus();
    let repo =
        JobRepo::open(&settings.database_url, &settings.data_dir).await.with_context(|| {
            format!(
                "cannot open the database {} (DATABASE_URL)",
                tradia_core::redact_url(&settings.database_url)
            )
        })?;
    let listen = settings.listen;
    let metrics_listen = settings.metrics_addr;
    let state = Arc::new(AppState::new(settings, gateway, repo));
    crate::accounts::sign_in::prepare(&state).await.context("cannot prepare the accounts")?;
    crate::accounts::oidc::check_provider(&state).await;

    match state.check_llm().await {
        Ok(()) => {
            tracing::info!(backend = %state.gateway.backend_name(), model = %state.gateway.default_model(), "LLM backend reachable")
        }
        Err(e) => {
            tracing::warn!(backend = %state.gateway.backend_name(), error = %e, "LLM backend unreachable; the service starts anyway and jobs wait for it")
        }
    }

    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (PORT / TRADIA_HOST)"))?;
    let addr = listener.local_addr()?;
    let tracker = TaskTracker::new();
    crate::jobs::runner::spawn_workers(&state, &tracker);

    let app = crate::api::router(state.clone(), extra);
    let server = tokio::spawn(crate::http_server::serve(
        listener,
        app,
        state.settings.http,
        state.shutdown.clone(),
    ));

    let (metrics_addr, metrics_server) = match metrics_listen {
        Some(m) => {
            let listener = tokio::net::TcpListener::bind(m)
                .await
                .with_context(|| format!("cannot listen on {m} (TRADIA_METRICS_ADDR)"))?;
            let bound = listener.local_addr()?;
            let app = crate::api::metrics_router(state.clone());
            let token = state.shutdown.clone();
            let handle = tokio::spawn(async move {
                axum::serve(listener, app).with_graceful_shutdown(token.cancelled_owned()).await
            });
            tracing::info!(metrics.addr = %bound, "metrics served separately");
            (Some(bound), Some(handle))
        }
        None => (None, None),
    };
    log_access_settings(&state.settings.access);
    tracing::info!(addr = %addr, workers = state.settings.workers, "Tradia is listening");
    Ok(RunningServer { addr, metrics_addr, state, server, metrics_server, tracker, _lock: lock })
}

/// Says at start-up what protects the service, and what does not.
fn log_access_settings(access: &crate::settings::AccessSettings) {
    match &access.public_url {
        Some(public) => {
            tracing::info!(public_url = %public.origin, "Host check on: requests for another host are refused")
        }
        None => tracing::warn!(
            "TRADIA_PUBLIC_URL is not set: the Host check is off (DNS rebinding is not prevented); set it to the address people use"
        ),
    }
    if access.mode == crate::settings::AuthMode::SingleUser {
        tracing::warn!(
            "TRADIA_AUTH=none: single-user mode, no sign-in; everyone who reaches this port acts as the one local user"
        );
    }
    if access.trusted_proxies.is_empty() {
        tracing::info!(
            "no trusted proxy (TRADIA_AUTH_PROXY_TRUSTED): forwarding headers are ignored"
        );
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// `tradia serve`: runs until SIGTERM or Ctrl-C. `extra` is merged into the router (the web
/// interface's `tradia_web::router()`).
pub async fn serve(settings: ServerSettings, extra: Option<Router>) -> anyhow::Result<()> {
    crate::telemetry::init_logging(&settings.log_level);
    let gateway = gateway_for(&settings)?;
    let running = start(settings, gateway, extra).await?;
    shutdown_signal().await;
    running.shutdown().await
}

/// Runs `tradia serve` from its arguments: checks the configuration, prints it with
/// `--check-config`, otherwise serves.
pub async fn run(args: crate::settings::ServeArgs, extra: Option<Router>) -> anyhow::Result<()> {
    let settings = args.settings()?;
    if args.check_config {
        print!("{}", check_config_report(&settings));
        return Ok(());
    }
    serve(settings, extra).await
}

/// What `--check-config` prints: the effective configuration, one `NAME=value` per line, every
/// secret masked (passwords in URLs, `password=` parameters, API keys).
pub fn check_config_report(settings: &ServerSettings) -> String {
    format!(
        "{}{}configuration OK\n",
        settings.describe(),
        crate::llm::describe_llm_settings(settings)
    )
}
