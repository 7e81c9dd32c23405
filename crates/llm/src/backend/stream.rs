//! Streamed answers: the response body cut into lines, Ollama's NDJSON lines and the
//! OpenAI-style server-sent events turned into [`StreamEvent`]s (text deltas, thinking, then one
//! [`StreamEvent::Done`] with the whole answer and the server's counters).
//!
//! A stream ends at its first error: a broken connection, an unreadable line or an error the
//! server reports mid-answer is yielded once and nothing follows it.

use std::time::Duration;

use futures::stream::{BoxStream, StreamExt};

use super::ollama::OllamaChat;
use super::openai::{OpenAiChat, apply_usage};
use super::{ChatOutcome, Finish, StreamEvent, map_reqwest};
use crate::error::LlmError;

/// Reads a stream to its end and returns the outcome (what [`Backend::chat`](super::Backend::chat) would return).
pub async fn collect_stream(
    mut stream: BoxStream<'static, Result<StreamEvent, LlmError>>,
) -> Result<ChatOutcome, LlmError> {
    while let Some(ev) = stream.next().await {
        if let StreamEvent::Done(outcome) = ev? {
            return Ok(outcome);
        }
    }
    Err(LlmError::Connection {
        url: String::new(),
        detail: "the stream ended without its final message".into(),
    })
}

/// Splits a response body into lines (without the line break).
pub(super) fn byte_lines(
    resp: reqwest::Response,
    url: String,
    timeout: Duration,
) -> BoxStream<'static, Result<String, LlmError>> {
    struct St {
        body: BoxStream<'static, Result<bytes::Bytes, reqwest::Error>>,
        buf: Vec<u8>,
        done: bool,
    }
    let st = St { body: resp.bytes_stream().boxed(), buf: Vec::new(), done: false };
    futures::stream::unfold(st, move |mut st| {
        let url = url.clone();
        async move {
            loop {
                if let Some(pos) = st.buf.iter().position(|b| *b == b'\n') {
                    let mut line: Vec<u8> = st.buf.drain(..=pos).collect();
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    return Some((Ok(String::from_utf8_lossy(&line).into_owned()), st));
                }
                if st.done {
                    if st.buf.is_empty() {
                        return None;
                    }
                    let line = String::from_utf8_lossy(&std::mem::take(&mut st.buf)).into_owned();
                    return Some((Ok(line), st));
                }
                match st.body.next().await {
                    Some(Ok(chunk)) => st.buf.extend_from_slice(&chunk),
                    Some(Err(e)) => {
                        st.done = true;
                        st.buf.clear();
                        return Some((Err(map_reqwest(&url, timeout, e)), st));
                    }
                    None => st.done = true,
                }
            }
        }
    })
    .boxed()
}

/// Ollama's NDJSON answer lines as events.
pub(super) fn ollama_events(
    lines: BoxStream<'static, Result<String, LlmError>>,
    url: String,
    structured: bool,
) -> BoxStream<'static, Result<StreamEvent, LlmError>> {
    let mut content = String::new();
    let mut thinking = String::new();
    let mut finished = false;
    lines
        .filter_map(move |line| {
            let out: Option<Vec<Result<StreamEvent, LlmError>>> = (|| {
                if finished {
                    return None;
                }
                let line = match line {
                    Ok(l) => l,
                    Err(e) => {
                        finished = true;
                        return Some(vec![Err(e)]);
                    }
                };
                if line.trim().is_empty() {
                    return None;
                }
                let r: OllamaChat = match serde_json::from_str(&line) {
                    Ok(r) => r,
                    Err(e) => {
                        finished = true;
                        return Some(vec![Err(LlmError::BadResponse {
                            url: url.clone(),
                            detail: format!("stream line: {e}"),
                        })]);
                    }
                };
                if let Some(err) = r.error.clone() {
                    finished = true;
                    return Some(vec![Err(LlmError::Stream { url: url.clone(), message: err })]);
                }
                let mut evs = Vec::new();
                if let Some(m) = &r.message {
                    if let Some(t) = m.thinking.as_ref().filter(|t| !t.is_empty()) {
                        thinking.push_str(t);
                        evs.push(Ok(StreamEvent::Thinking(t.clone())));
                    }
                    if let Some(c) = m.content.as_ref().filter(|c| !c.is_empty()) {
                        content.push_str(c);
                        evs.push(Ok(StreamEvent::Delta(c.clone())));
                    }
                }
                if r.done == Some(true) {
                    finished = true;
                    let mut out = r.outcome();
                    out.content = std::mem::take(&mut content);
                    out.thinking = Some(std::mem::take(&mut thinking)).filter(|t| !t.is_empty());
                    out.structured = structured;
                    evs.push(Ok(StreamEvent::Done(out)));
                }
                Some(evs)
            })();
            futures::future::ready(out)
        })
        .flat_map(futures::stream::iter)
        .boxed()
}

/// An OpenAI-style server-sent event stream as events.
pub(super) fn sse_events(
    lines: BoxStream<'static, Result<String, LlmError>>,
    url: String,
    structured: bool,
) -> BoxStream<'static, Result<StreamEvent, LlmError>> {
    let mut out = ChatOutcome { structured, ..ChatOutcome::default() };
    let mut thinking = String::new();
    let mut finished = false;
    let events = lines.filter_map(move |line| {
        let res: Option<Vec<Result<StreamEvent, LlmError>>> = (|| {
            if finished {
                return None;
            }
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    finished = true;
                    return Some(vec![Err(e)]);
                }
            };
            let data = line.strip_prefix("data:")?.trim_start();
            if data == "[DONE]" {
                finished = true;
                let mut done = std::mem::take(&mut out);
                done.thinking = Some(std::mem::take(&mut thinking)).filter(|t| !t.is_empty());
                return Some(vec![Ok(StreamEvent::Done(done))]);
            }
            let chunk: OpenAiChat = match serde_json::from_str(data) {
                Ok(c) => c,
                Err(e) => {
                    finished = true;
                    return Some(vec![Err(LlmError::BadResponse {
                        url: url.clone(),
                        detail: format!("stream event: {e}"),
                    })]);
                }
            };
            if let Some(err) = &chunk.error {
                finished = true;
                return Some(vec![Err(LlmError::Stream {
                    url: url.clone(),
                    message: err.message(),
                })]);
            }
            let mut evs = Vec::new();
            for choice in chunk.choices.as_deref().unwrap_or_default() {
                if let Some(d) = &choice.delta {
                    if let Some(t) = d
                        .reasoning_content
                        .as_ref()
                        .or(d.reasoning.as_ref())
                        .filter(|t| !t.is_empty())
                    {
                        thinking.push_str(t);
                        evs.push(Ok(StreamEvent::Thinking(t.clone())));
                    }
                    if let Some(c) = d.content.as_ref().filter(|c| !c.is_empty()) {
                        out.content.push_str(c);
                        evs.push(Ok(StreamEvent::Delta(c.clone())));
                    }
                }
                if choice.finish_reason.is_some() {
                    out.finish = Finish::parse(choice.finish_reason.as_deref());
                }
            }
            apply_usage(&mut out, chunk.usage.as_ref(), chunk.timings.as_ref());
            Some(evs)
        })();
        futures::future::ready(res)
    });
    events.flat_map(futures::stream::iter).boxed()
}
