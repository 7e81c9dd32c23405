//! The generation endpoints (`/api/chat`, `/api/generate`, `/v1/chat/completions`): a request
//! is read, checked against the queue limit, given its faults, composed into output tokens,
//! decoded by the latency model ([`Sim::run_job`]) and answered, streamed or whole, with the
//! simulated timings in `x-sim-*` headers.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::json;
use tokio::sync::mpsc;

use super::errors::{context_error, sim_error};
use super::faults::transport_fault;
use super::models::thinking_capable;
use super::request::{Api, Ask, parse_body, read_ask};
use super::respond::{Meta, collect_full, now_rfc3339, stream_response, unix_now};
use super::{ConnKill, MSG_QUEUE_FULL, MSG_RUNNER_DIED};
use crate::answer::{self, Composed};
use crate::config::{FaultKind, Flavor};
use crate::engine::{Event, Job, Sim, Started};

/// `POST /api/chat`.
pub(super) async fn ollama_chat(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    generation(sim, Api::Chat, req).await
}

/// `POST /api/generate`.
pub(super) async fn ollama_generate(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    generation(sim, Api::Generate, req).await
}

/// `POST /v1/chat/completions`.
pub(super) async fn openai_chat(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    generation(sim, Api::OpenAi, req).await
}

async fn generation(sim: Arc<Sim>, api: Api, req: Request) -> Response {
    let arrival = Instant::now();
    let in_flight = sim.arrive();
    let kill = req.extensions().get::<ConnKill>().cloned();
    let dialect = api.dialect();
    let body = match axum::body::to_bytes(req.into_body(), 64 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return sim_error(&sim, dialect, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let v = match parse_body(&body) {
        Ok(v) => v,
        // llama-server lets its JSON parser's exception through as a 500.
        Err(msg) if api == Api::OpenAi && sim.config.flavor == Flavor::LlamaCpp => {
            let msg = format!("[json.exception.parse_error.101] parse error: {msg}");
            return sim_error(&sim, dialect, StatusCode::INTERNAL_SERVER_ERROR, &msg);
        }
        Err(msg) => return sim_error(&sim, dialect, StatusCode::BAD_REQUEST, &msg),
    };
    let ask = match read_ask(&sim, api, &v) {
        Ok(a) => a,
        Err(resp) => return *resp,
    };

    // Ollama's pending queue (`OLLAMA_MAX_QUEUE`): beyond it, 503 with the exact message.
    if sim.waiting() > sim.config.max_queue {
        return sim_error(&sim, dialect, StatusCode::SERVICE_UNAVAILABLE, MSG_QUEUE_FULL);
    }

    if let Some(unload) = ask.load {
        return load_request(&sim, api, &ask, unload).await;
    }

    let mut rng = sim.request_rng(&body);
    let drawn = sim.draw_faults(&mut rng);
    if let Some(resp) = transport_fault(&sim, dialect, &drawn, kill).await {
        return resp;
    }

    let composed =
        answer::compose_in(sim.config.mode, &ask.user_text, &ask.structured, &drawn, &mut rng);
    if let Some(sources) = &composed.batch_sources {
        sim.record_segments(sources);
        if let Some(request) = crate::wire::BatchRequest::from_user_text(&ask.user_text) {
            sim.record_examples(&request);
        }
    }
    if ask.prompt_tokens > ask.num_ctx {
        return context_error(&sim, dialect, ask.prompt_tokens, ask.num_ctx);
    }
    let mut applied = composed.applied.clone();
    let slow = drawn.contains(&FaultKind::SlowStream);
    if slow {
        applied.push(FaultKind::SlowStream);
    }
    sim.record_faults(&applied);

    let (tokens, done_reason) = output_tokens(&sim, &ask, &composed, &mut rng);
    let job = Job {
        model: ask.model.clone(),
        num_ctx: ask.num_ctx,
        prompt_text: ask.prompt_text.clone(),
        prompt_tokens: ask.prompt_tokens,
        tokens,
        done_reason,
        slow,
        arrival,
    };
    let (tx, mut rx) = mpsc::channel(64);
    tokio::spawn(Arc::clone(&sim).run_job(job, tx));

    // Like Ollama, nothing is sent before decoding starts (queue, load and prefill included).
    let mut first = rx.recv().await;
    let started = match first {
        Some(Event::Started(ref s)) => {
            let s = s.clone();
            first = None;
            Some(s)
        }
        None => return sim_error(&sim, dialect, StatusCode::SERVICE_UNAVAILABLE, MSG_QUEUE_FULL),
        _ => None,
    };
    let meta = Meta {
        model: ask.model.clone(),
        id: format!("chatcmpl-{}", sim.next_request_number()),
        created: unix_now(),
        include_usage: ask.include_usage,
        raw: ask.raw,
        llama: sim.config.flavor == Flavor::LlamaCpp,
        role_sent: std::sync::atomic::AtomicBool::new(false),
    };
    let mut resp = if ask.stream {
        stream_response(api, meta, first, rx, in_flight)
    } else {
        match collect_full(api, &meta, first, &mut rx).await {
            Some(resp) => resp,
            None => {
                return sim_error(
                    &sim,
                    dialect,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    MSG_RUNNER_DIED,
                );
            }
        }
    };
    if let Some(st) = started {
        timing_headers(&mut resp, &st);
    }
    resp
}

/// The output tokens (`true` for the thinking trace, which comes first when the model thinks,
/// then the content) and the `done_reason`: `length` when the `truncate` fault or the request's
/// output limit cuts them, or when the `repeat_loop` fault loops up to that limit.
fn output_tokens(
    sim: &Sim,
    ask: &Ask,
    composed: &Composed,
    rng: &mut StdRng,
) -> (Vec<(bool, String)>, &'static str) {
    let thinks = ask.think.unwrap_or_else(|| thinking_capable(&ask.model));
    let mut tokens: Vec<(bool, String)> = Vec::new();
    if thinks {
        let (lo, hi) = sim.config.latency.think_tokens;
        let n = if hi > lo { rng.random_range(lo..=hi) } else { lo };
        let trace = answer::thinking_trace(&ask.user_text, n);
        tokens.extend(answer::tokenize(&trace).into_iter().map(|t| (true, t.to_string())));
    }
    let content_tokens = answer::tokenize(&composed.content);
    let content_len = content_tokens.len();
    let keep =
        if composed.truncate || composed.repeat_loop { content_len / 2 } else { content_len };
    tokens.extend(content_tokens.into_iter().take(keep).map(|t| (false, t.to_string())));
    let mut done_reason = if composed.truncate { "length" } else { "stop" };
    if composed.repeat_loop {
        // Like a small model stuck in a loop: the same sentence until the output limit, or
        // until the context is full when the request set none.
        let room = u64::from(ask.num_ctx.saturating_sub(ask.prompt_tokens)).max(1);
        let limit = usize::try_from(ask.max_tokens.unwrap_or(room).min(room)).unwrap_or(usize::MAX);
        let phrase = answer::tokenize(LOOP_PHRASE);
        let mut i = 0;
        while tokens.len() < limit {
            tokens.push((false, phrase[i % phrase.len()].to_string()));
            i += 1;
        }
        done_reason = "length";
    }
    // Generation stops where the context is full, whatever the output limit.
    let room = u64::from(ask.num_ctx.saturating_sub(ask.prompt_tokens)).max(1);
    let max = usize::try_from(ask.max_tokens.map_or(room, |m| m.min(room))).unwrap_or(usize::MAX);
    if tokens.len() > max {
        tokens.truncate(max);
        done_reason = "length";
    }
    (tokens, done_reason)
}

/// What the `repeat_loop` fault repeats (seen on a real small model, issue 18).
const LOOP_PHRASE: &str = " C'est la foi.";

/// The simulated load, queue and prefill times, cached prompt tokens and slot of a request.
fn timing_headers(resp: &mut Response, st: &Started) {
    let h = resp.headers_mut();
    let ms = |s: f64| HeaderValue::from(to_ms(s));
    h.insert("x-sim-load-ms", ms(st.load_s));
    h.insert("x-sim-queue-ms", ms(st.queue_s));
    h.insert("x-sim-prefill-ms", ms(st.prefill_s));
    h.insert("x-sim-cached-tokens", HeaderValue::from(st.cached_tokens));
    h.insert("x-sim-slot", HeaderValue::from(st.slot));
}

fn to_ms(sim_s: f64) -> u64 {
    // Saturating float-to-int conversion is the intent.
    (sim_s * 1000.0).round().max(0.0) as u64
}

/// Ollama's load (empty prompt) and unload (`keep_alive: 0`) requests.
async fn load_request(sim: &Sim, api: Api, ask: &Ask, unload: bool) -> Response {
    let reason = if unload {
        sim.unload(&ask.model).await;
        "unload"
    } else {
        sim.ensure_loaded(&ask.model, ask.num_ctx).await;
        "load"
    };
    let mut body = json!({ "model": ask.model, "created_at": now_rfc3339() });
    if api == Api::Chat {
        body["message"] = json!({ "role": "assistant", "content": "" });
    } else {
        body["response"] = json!("");
    }
    body["done_reason"] = json!(reason);
    body["done"] = json!(true);
    axum::Json(body).into_response()
}
