//! HTTP layer: the Ollama native API and the OpenAI-compatible API on one port, with the exact
//! shapes and error bodies of `llm-servers.md` §1 and §4, authentication, and the `/sim`
//! control endpoints. Connections are served by a hand-written accept loop so that the `reset`
//! fault can close a connection without any response.
//!
//! This module starts the server and routes; the parts of a request's way through it live in
//! `auth` (API key), `models` (model information endpoints), `request` (what a generation
//! request asks, whatever its API), `faults` (transport faults that replace the answer),
//! `generation` (the generation endpoints) and `respond` (answer bodies and streams), with
//! `errors` giving each dialect its error body.

mod auth;
mod errors;
mod faults;
mod generation;
mod models;
mod request;
mod respond;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::config::{ConfigError, Flavor, SimConfig};
use crate::engine::{Sim, SimStats};

/// Version reported by `GET /api/version`: a real Ollama release with a pre-release tag naming
/// the simulator, so that a client can tell it is not a model (the service labels itself a
/// demonstration then) while version parsers still read `0.12.6`.
pub const OLLAMA_VERSION: &str = "0.12.6-tradia-simulator";

/// Exact Ollama 503 message (two spaces after the period, as in `server/sched.go`).
pub const MSG_QUEUE_FULL: &str =
    "server busy, please try again.  maximum pending requests exceeded";
/// Message of the simulated 500 (a crashed runner).
pub const MSG_RUNNER_DIED: &str = "llama runner process has terminated: exit status 2";
/// Message of the simulated 429 (a rate-limiting proxy or cloud).
pub const MSG_RATE_LIMIT: &str = "too many requests";
/// Message of a 401.
pub const MSG_UNAUTHORIZED: &str = "unauthorized";
/// Message when the prompt exceeds the context.
pub const MSG_CONTEXT: &str = "the input length exceeds the context length";

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Invalid configuration.
    #[error("invalid simulator configuration: {0}")]
    Config(ConfigError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause (in the message, so not repeated as an error source).
        error: std::io::Error,
    },
}

impl From<ConfigError> for StartError {
    fn from(e: ConfigError) -> Self {
        StartError::Config(e)
    }
}

/// A running simulator. Dropping it stops the server.
pub struct SimHandle {
    addr: SocketAddr,
    sim: Arc<Sim>,
    shutdown_tx: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Current statistics.
    pub fn stats(&self) -> SimStats {
        self.sim.stats()
    }

    /// Zeroes the statistics (as `POST /sim/reset`).
    pub fn reset_stats(&self) {
        self.sim.reset();
    }

    /// Stops accepting, closes every connection and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
    }
}

/// Closes the current connection without a response (the `reset` fault).
#[derive(Clone)]
struct ConnKill(Arc<Notify>);

/// Binds and starts serving in the background.
pub async fn start(config: SimConfig) -> Result<SimHandle, StartError> {
    config.validate()?;
    let addr = SocketAddr::new(config.host, config.port);
    let listener =
        TcpListener::bind(addr).await.map_err(|error| StartError::Bind { addr, error })?;
    let addr = listener.local_addr().map_err(|error| StartError::Bind { addr, error })?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let sim = Arc::new(Sim::new(config, shutdown_rx.clone()));
    let app = router(Arc::clone(&sim));
    let task = tokio::spawn(accept_loop(listener, app, shutdown_rx));
    Ok(SimHandle { addr, sim, shutdown_tx, task: Some(task) })
}

async fn accept_loop(listener: TcpListener, app: Router, mut shutdown: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors and the like: back off briefly and keep serving.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                conns.spawn(serve_connection(stream, app));
            }
            _ = shutdown.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

async fn serve_connection(stream: tokio::net::TcpStream, app: Router) {
    let kill = Arc::new(Notify::new());
    let k = Arc::clone(&kill);
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnKill(Arc::clone(&k)));
        let app = app.clone();
        async move {
            use tower::ServiceExt;
            app.oneshot(req.map(Body::new)).await
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
    tokio::select! {
        _ = conn => {}
        () = kill.notified() => {}
    }
}

fn router(sim: Arc<Sim>) -> Router {
    let llama = sim.config.flavor == Flavor::LlamaCpp;
    let mut api = Router::new()
        .route("/v1/chat/completions", post(generation::openai_chat))
        .route("/v1/models", get(models::openai_models))
        .route("/v1/models/{model}", get(models::openai_model));
    if llama {
        api = api.route("/props", get(models::llama_props));
    } else {
        api = api
            .route("/api/chat", post(generation::ollama_chat))
            .route("/api/generate", post(generation::ollama_generate))
            .route("/api/tags", get(models::ollama_tags))
            .route("/api/version", get(models::ollama_version))
            .route("/api/ps", get(models::ollama_ps))
            .route("/api/show", post(models::ollama_show));
    }
    let api = api.route_layer(middleware::from_fn_with_state(Arc::clone(&sim), auth::auth));
    let root = if llama {
        // llama-server answers `/health` without a key, and its web page at `/`.
        Router::new()
            .route("/health", get(|| async { axum::Json(json!({ "status": "ok" })) }))
            .route("/", get(|| async { "llama-server" }))
    } else {
        Router::new().route("/", get(|| async { "Ollama is running" }).head(|| async { "" }))
    };
    root.route("/sim/stats", get(sim_stats))
        .route("/sim/reset", post(sim_reset))
        .merge(api)
        .fallback(|| async { (StatusCode::NOT_FOUND, "404 page not found") })
        .with_state(sim)
}

async fn sim_stats(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(sim.stats()).into_response()
}

async fn sim_reset(State(sim): State<Arc<Sim>>) -> Response {
    sim.reset();
    axum::Json(json!({ "reset": true })).into_response()
}
