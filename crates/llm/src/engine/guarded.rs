//! Batch requests streamed under a [`RunawayGuard`], through the scheduler with retries.

use std::sync::atomic::Ordering;

use futures::stream::StreamExt;
use tradia_core::{CancelFlag, Priority};

use super::{LlmEngine, cancelled};
use crate::backend::{Backend, ChatOutcome, ChatRequest, Finish, StreamEvent};
use crate::error::LlmError;
use crate::runaway::{Cut, RunawayGuard};
use crate::scheduler::{Lane, Outcome};

impl LlmEngine {
    /// One batch completion through the scheduler with retries, streamed and watched by a fresh
    /// guard on each try.
    pub(super) async fn call_batch(
        &self,
        req: &ChatRequest,
        priority: Priority,
        owner: &str,
        lane: Lane,
        cancel: &CancelFlag,
        guard: impl Fn() -> RunawayGuard,
    ) -> Result<(ChatOutcome, Option<Cut>), LlmError> {
        let mut delays = self.backoff();
        loop {
            let mut permit = self.inner.sched.acquire(priority, owner, lane, cancel).await?;
            let backend = &self.inner.backends[permit.backend()];
            self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
            let mut g = guard();
            let result = tokio::select! {
                r = stream_guarded(backend, req, &mut g) => r,
                _ = cancelled(cancel) => Err(LlmError::Cancelled),
            };
            match &result {
                Ok((o, _)) => {
                    permit.record(Outcome::Success);
                    self.count_outcome(o);
                }
                Err(e) if e.is_backend_failure() => permit.record(Outcome::Failure),
                Err(_) => permit.record(Outcome::Neutral),
            }
            drop(permit);
            match result {
                Ok(r) => return Ok(r),
                Err(e) => {
                    let d = self.retry_delay(&e, &mut delays).ok_or(e)?;
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = cancelled(cancel) => return Err(LlmError::Cancelled),
                    }
                }
            }
        }
    }
}

/// Reads a streamed completion, cutting it as soon as `guard` says so (dropping the stream
/// closes the connection, which stops the server generating). A cut answer comes back as
/// truncated (`Finish::Length`), with its streamed pieces counted as its output tokens.
async fn stream_guarded(
    backend: &Backend,
    req: &ChatRequest,
    guard: &mut RunawayGuard,
) -> Result<(ChatOutcome, Option<Cut>), LlmError> {
    let mut stream = backend.chat_stream(req).await?;
    let mut content = String::new();
    let mut pieces = 0u64;
    while let Some(ev) = stream.next().await {
        match ev? {
            StreamEvent::Delta(t) => {
                pieces += 1;
                content.push_str(&t);
                if let Some(cut) = guard.push(&t) {
                    let outcome = ChatOutcome {
                        content,
                        finish: Finish::Length,
                        output_tokens: Some(pieces),
                        structured: req.schema.is_some(),
                        ..ChatOutcome::default()
                    };
                    return Ok((outcome, Some(cut)));
                }
            }
            StreamEvent::Thinking(_) => {}
            StreamEvent::Done(o) => return Ok((o, None)),
        }
    }
    Err(LlmError::Connection {
        url: backend.url().to_string(),
        detail: "the stream ended without its final message".into(),
    })
}
