//! Answer bodies: Ollama's final object (with its `omitempty` metrics), OpenAI's
//! `chat.completion`, and the streamed forms (NDJSON lines, server-sent event chunks ending with
//! `data: [DONE]`), built from the simulated decoding's [`Event`]s.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::request::Api;
use crate::engine::{Event, InFlight, Timings};

/// `created_at` values.
pub(super) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// OpenAI `created` values.
pub(super) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// What every answer of one request repeats.
pub(super) struct Meta {
    pub(super) model: String,
    pub(super) id: String,
    pub(super) created: u64,
    pub(super) include_usage: bool,
    pub(super) raw: bool,
    /// llama-server's shapes on `/v1` (stream deltas, `timings`, fingerprint).
    pub(super) llama: bool,
    /// Whether llama-server's role-only first chunk went out.
    pub(super) role_sent: std::sync::atomic::AtomicBool,
}

fn insert_metrics(obj: &mut Map<String, Value>, t: &Timings) {
    // Metric fields are `omitempty` in Ollama: absent when 0.
    for (name, value) in [
        ("total_duration", t.total_ns),
        ("load_duration", t.load_ns),
        ("prompt_eval_count", u64::from(t.prompt_eval_count)),
        ("prompt_eval_duration", t.prompt_eval_ns),
        ("eval_count", u64::from(t.eval_count)),
        ("eval_duration", t.eval_ns),
    ] {
        if value != 0 {
            obj.insert(name.to_string(), json!(value));
        }
    }
}

fn fake_context(t: &Timings) -> Value {
    let n = (t.prompt_eval_count + t.eval_count).min(4096);
    Value::Array((0..n).map(|i| json!(1000 + i % 30000)).collect())
}

fn ollama_final(api: Api, meta: &Meta, content: &str, thinking: &str, t: &Timings) -> Value {
    let mut obj = Map::new();
    obj.insert("model".into(), json!(meta.model));
    obj.insert("created_at".into(), json!(now_rfc3339()));
    if api == Api::Chat {
        let mut msg = json!({ "role": "assistant", "content": content });
        if !thinking.is_empty() {
            msg["thinking"] = json!(thinking);
        }
        obj.insert("message".into(), msg);
    } else {
        obj.insert("response".into(), json!(content));
        if !thinking.is_empty() {
            obj.insert("thinking".into(), json!(thinking));
        }
    }
    obj.insert("done".into(), json!(true));
    obj.insert("done_reason".into(), json!(t.done_reason));
    if api == Api::Generate && !meta.raw {
        obj.insert("context".into(), fake_context(t));
    }
    insert_metrics(&mut obj, t);
    Value::Object(obj)
}

fn usage(t: &Timings) -> Value {
    json!({
        "prompt_tokens": t.prompt_eval_count,
        "completion_tokens": t.eval_count,
        "total_tokens": t.prompt_eval_count + t.eval_count
    })
}

/// llama-server's `timings` object.
fn llama_timings(t: &Timings) -> Value {
    let ms = |ns: u64| ns as f64 / 1e6;
    let per_s = |n: u32, ns: u64| if ns == 0 { 0.0 } else { f64::from(n) * 1e9 / ns as f64 };
    json!({
        "cache_n": 0,
        "prompt_n": t.prompt_eval_count,
        "prompt_ms": ms(t.prompt_eval_ns),
        "prompt_per_second": per_s(t.prompt_eval_count, t.prompt_eval_ns),
        "predicted_n": t.eval_count,
        "predicted_ms": ms(t.eval_ns),
        "predicted_per_second": per_s(t.eval_count, t.eval_ns)
    })
}

fn fingerprint(meta: &Meta) -> &'static str {
    if meta.llama { "b0-unknown" } else { "fp_ollama" }
}

/// The non-streamed answer.
pub(super) fn full_response(
    api: Api,
    meta: &Meta,
    content: &str,
    thinking: &str,
    t: &Timings,
) -> Response {
    let body = match api {
        Api::Chat | Api::Generate => ollama_final(api, meta, content, thinking, t),
        Api::OpenAi => {
            let mut message = json!({ "role": "assistant", "content": content });
            if !thinking.is_empty() {
                message["reasoning"] = json!(thinking);
            }
            let mut body = json!({
                "id": meta.id,
                "object": "chat.completion",
                "created": meta.created,
                "model": meta.model,
                "system_fingerprint": fingerprint(meta),
                "choices": [{ "index": 0, "message": message, "finish_reason": t.done_reason }],
                "usage": usage(t)
            });
            if meta.llama {
                body["timings"] = llama_timings(t);
            }
            body
        }
    };
    axum::Json(body).into_response()
}

fn frame(api: Api, meta: &Meta, ev: Event) -> Vec<Bytes> {
    let line = |v: Value| Bytes::from(format!("{v}\n"));
    let sse = |v: Value| Bytes::from(format!("data: {v}\n\n"));
    match (api, ev) {
        (_, Event::Started(_)) => Vec::new(),
        (Api::Chat, Event::Token { thinking, text }) => {
            let msg = if thinking {
                json!({ "role": "assistant", "content": "", "thinking": text })
            } else {
                json!({ "role": "assistant", "content": text })
            };
            vec![line(
                json!({"model": meta.model, "created_at": now_rfc3339(), "message": msg, "done": false}),
            )]
        }
        (Api::Generate, Event::Token { thinking, text }) => {
            let v = if thinking {
                json!({"model": meta.model, "created_at": now_rfc3339(), "response": "", "thinking": text, "done": false})
            } else {
                json!({"model": meta.model, "created_at": now_rfc3339(), "response": text, "done": false})
            };
            vec![line(v)]
        }
        (Api::Chat | Api::Generate, Event::Done(t)) => {
            vec![line(ollama_final(api, meta, "", "", &t))]
        }
        (Api::OpenAi, Event::Token { thinking, text }) if meta.llama => {
            // llama-server: the role alone in a first chunk, then bare content deltas.
            let mut out = Vec::new();
            if !meta.role_sent.swap(true, std::sync::atomic::Ordering::Relaxed) {
                let first = json!({ "role": "assistant", "content": null });
                out.push(sse(chunk(
                    meta,
                    json!([{ "index": 0, "delta": first, "finish_reason": null }]),
                )));
            }
            let delta = if thinking {
                json!({ "reasoning_content": text })
            } else {
                json!({ "content": text })
            };
            out.push(sse(chunk(
                meta,
                json!([{ "index": 0, "delta": delta, "finish_reason": null }]),
            )));
            out
        }
        (Api::OpenAi, Event::Token { thinking, text }) => {
            let delta = if thinking {
                json!({ "role": "assistant", "content": "", "reasoning": text })
            } else {
                json!({ "role": "assistant", "content": text })
            };
            vec![sse(chunk(meta, json!([{ "index": 0, "delta": delta, "finish_reason": null }])))]
        }
        (Api::OpenAi, Event::Done(t)) => {
            let mut out = vec![sse(chunk(
                meta,
                json!([{ "index": 0, "delta": {}, "finish_reason": t.done_reason }]),
            ))];
            if meta.include_usage {
                let mut c = chunk(meta, json!([]));
                c["usage"] = usage(&t);
                if meta.llama {
                    c["timings"] = llama_timings(&t);
                }
                out.push(sse(c));
            }
            out.push(Bytes::from_static(b"data: [DONE]\n\n"));
            out
        }
    }
}

fn chunk(meta: &Meta, choices: Value) -> Value {
    json!({
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "system_fingerprint": fingerprint(meta),
        "choices": choices
    })
}

/// The streamed answer: `first` (an event already received), then the rest of `rx`; `in_flight`
/// is held until the stream ends.
pub(super) fn stream_response(
    api: Api,
    meta: Meta,
    first: Option<Event>,
    rx: mpsc::Receiver<Event>,
    in_flight: InFlight,
) -> Response {
    let meta = Arc::new(meta);
    let m = Arc::clone(&meta);
    let head = futures::stream::iter(first.map(|ev| frame(api, &meta, ev)).unwrap_or_default());
    let rest = futures::stream::unfold((rx, in_flight), |(mut rx, guard)| async move {
        rx.recv().await.map(|ev| (ev, (rx, guard)))
    })
    .flat_map(move |ev| futures::stream::iter(frame(api, &m, ev)));
    let body = Body::from_stream(head.chain(rest).map(Ok::<_, Infallible>));
    let content_type =
        if api == Api::OpenAi { "text/event-stream" } else { "application/x-ndjson" };
    let mut resp = Response::new(body);
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if api == Api::OpenAi {
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

/// Reads the events of a non-streamed answer to the end and builds it; `None` when decoding
/// stopped before its end (the server is shutting down).
pub(super) async fn collect_full(
    api: Api,
    meta: &Meta,
    first: Option<Event>,
    rx: &mut mpsc::Receiver<Event>,
) -> Option<Response> {
    let mut content = String::new();
    let mut thinking = String::new();
    let mut event = match first {
        Some(ev) => Some(ev),
        None => rx.recv().await,
    };
    while let Some(ev) = event {
        match ev {
            Event::Token { thinking: true, text } => thinking.push_str(&text),
            Event::Token { thinking: false, text } => content.push_str(&text),
            Event::Started(_) => {}
            Event::Done(t) => return Some(full_response(api, meta, &content, &thinking, &t)),
        }
        event = rx.recv().await;
    }
    None
}
