//! Transport-level faults, drawn per request before any work: they replace the answer.
//! `reset` closes the connection without a response, `timeout` hangs (for `hang_real_s`, or
//! until shutdown) and then closes it, `http_503`/`http_500`/`http_429` answer the exact error
//! a real server or proxy sends.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;

use super::errors::{Dialect, sim_error};
use super::{ConnKill, MSG_QUEUE_FULL, MSG_RATE_LIMIT, MSG_RUNNER_DIED};
use crate::config::FaultKind;
use crate::engine::Sim;

/// The answer that replaces the real one when a transport fault was drawn, or `None`. A
/// connection closed by `reset` or `timeout` never gets an answer: this then waits forever
/// (the connection task is ended under it).
pub(super) async fn transport_fault(
    sim: &Sim,
    dialect: Dialect,
    drawn: &BTreeSet<FaultKind>,
    kill: Option<ConnKill>,
) -> Option<Response> {
    if drawn.contains(&FaultKind::Reset) {
        sim.record_faults(&[FaultKind::Reset]);
        close(kill).await;
        return Some(sim_error(sim, dialect, StatusCode::INTERNAL_SERVER_ERROR, MSG_RUNNER_DIED));
    }
    if drawn.contains(&FaultKind::Timeout) {
        sim.record_faults(&[FaultKind::Timeout]);
        let mut shutdown = sim.shutdown.clone();
        let hang = Duration::try_from_secs_f64(sim.config.hang_real_s)
            .unwrap_or(Duration::from_secs(86_400));
        tokio::select! {
            () = tokio::time::sleep(hang) => {}
            _ = shutdown.changed() => {}
        }
        close(kill).await;
        return Some(sim_error(sim, dialect, StatusCode::INTERNAL_SERVER_ERROR, MSG_RUNNER_DIED));
    }
    for (kind, status, msg) in [
        (FaultKind::Http503, StatusCode::SERVICE_UNAVAILABLE, MSG_QUEUE_FULL),
        (FaultKind::Http500, StatusCode::INTERNAL_SERVER_ERROR, MSG_RUNNER_DIED),
        (FaultKind::Http429, StatusCode::TOO_MANY_REQUESTS, MSG_RATE_LIMIT),
    ] {
        if drawn.contains(&kind) {
            sim.record_faults(&[kind]);
            return Some(sim_error(sim, dialect, status, msg));
        }
    }
    None
}

/// Closes the connection and never returns; returns at once when the request did not come
/// through the accept loop (no connection to close).
async fn close(kill: Option<ConnKill>) {
    if let Some(ConnKill(k)) = kill {
        k.notify_one();
        std::future::pending::<()>().await;
    }
}
