//! Logs and metrics: JSON logs (text on a terminal), and the Prometheus recorder with the HTTP
//! middleware that labels requests by route template, never by raw path.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Installs the global log subscriber: JSON lines unless stdout is a terminal. Does nothing when
/// one is already installed (the command line, or another server in the same test process).
pub fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = if std::io::stdout().is_terminal() {
        builder.try_init()
    } else {
        builder.json().with_current_span(true).with_span_list(false).try_init()
    };
    // An already-installed subscriber is fine: it was set by whoever embeds the service.
    drop(result);
}

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide Prometheus recorder, installed on first use. `None` when another recorder was
/// installed by someone else (then `/metrics` says so).
pub fn prometheus() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".into()),
                    &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0],
                )
                .ok()?;
            let handle = builder.install_recorder().ok()?;
            describe();
            Some(handle)
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!("tradia_http_requests_total", "HTTP requests by route template and status");
    describe_histogram!("tradia_http_request_duration_seconds", "HTTP request durations");
    describe_gauge!("tradia_jobs", "Document jobs by state");
    describe_gauge!("tradia_queue_depth", "Document jobs waiting to run");
    describe_counter!("tradia_segments_translated_total", "Segments finished by document jobs");
    describe_counter!("tradia_segments_kept_total", "Segments whose source was kept");
    describe_counter!("tradia_tokens_translated_total", "Tokens produced by the models");
    describe_counter!("tradia_llm_requests_total", "Requests sent to LLM backends");
    describe_counter!("tradia_llm_retries_total", "Retried LLM requests");
    describe_counter!("tradia_llm_errors_total", "Failed LLM calls by backend");
    describe_histogram!("tradia_llm_request_duration_seconds", "LLM call durations by backend");
    describe_counter!(
        "tradia_segments_resumed_total",
        "Segments found saved when a job resumed (not asked again)"
    );
    describe_counter!("tradia_jobs_finished_total", "Document jobs finished, by final state");
    describe_counter!("tradia_llm_busy_seconds_total", "Backend time spent on Tradia's requests");
    describe_counter!("tradia_llm_responses_total", "Successful LLM responses");
    describe_counter!(
        "tradia_segments_repaired_total",
        "Segments whose inline codes were repaired"
    );
    describe_counter!("tradia_segments_resent_total", "Segments sent again after a bad answer");
    describe_counter!(
        "tradia_segment_flags_total",
        "Saved segments by quality-report flag (kept, codes_repaired, number_missing…)"
    );
    describe_gauge!("tradia_llm_in_flight", "LLM requests in flight, by backend");
    describe_gauge!("tradia_llm_slots", "Configured request slots, by backend");
    describe_counter!("tradia_llm_dispatched_total", "LLM requests dispatched, by backend");
    describe_gauge!("tradia_llm_breaker_open", "1 while a backend's circuit breaker is open");
    describe_counter!(
        "tradia_storage_errors_total",
        "Storage errors (failed writes of requests, jobs and the health probe), by error code"
    );
}

/// Middleware recording `tradia_http_requests_total` and `tradia_http_request_duration_seconds`
/// labelled by route template (`/api/v1/jobs/{id}`), method and status.
pub async fn track_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("tradia_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("tradia_http_request_duration_seconds", "route" => route, "method" => method)
        .record(start.elapsed().as_secs_f64());
    response
}
