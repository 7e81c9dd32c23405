//! Server-sent event helpers shared by every streaming endpoint: events carrying JSON, the
//! `error` event, streams that end at shutdown, and the bridge from a streaming task's messages
//! to an SSE response.
//!
//! A module of its own so the job endpoints and the text endpoints both use it without
//! depending on each other (or on the router that mounts them).

use std::convert::Infallible;
use std::sync::Arc;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::error::ApiError;
use crate::state::AppState;

/// Ends `stream` when `token` is cancelled, so open SSE connections never hold up shutdown.
pub fn until_shutdown<S: Stream + Send + 'static>(
    stream: S,
    token: CancellationToken,
) -> impl Stream<Item = S::Item> + Send + 'static {
    stream.take_until(token.cancelled_owned())
}

/// An SSE event carrying `value` as JSON.
pub fn json_event<T: Serialize>(name: &str, value: &T) -> Event {
    Event::default().event(name).data(serde_json::to_string(value).unwrap_or_else(|_| "{}".into()))
}

/// An SSE `error` event with the standard error body.
pub fn error_event(error: &ApiError) -> Event {
    json_event("error", &error.body())
}

/// A message of a streaming task to its SSE stream.
pub(crate) enum StreamMsg<T> {
    /// A piece of the answer to input `index`.
    Token(usize, String),
    /// The final result.
    Done(T),
    /// The failure that ended the work.
    Failed(ApiError),
}

/// Turns a streaming task's messages into SSE events: `token` (`{"index", "text"}`), then `done`
/// or `error`. Dropping the stream aborts the task.
pub(crate) fn sse_from_messages<T: Serialize + Send + 'static>(
    state: Arc<AppState>,
    rx: mpsc::UnboundedReceiver<StreamMsg<T>>,
    guard: AbortOnDropHandle<()>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream =
        futures::stream::unfold((rx, guard, false), |(mut rx, guard, finished)| async move {
            if finished {
                return None;
            }
            let msg = rx.recv().await?;
            let (event, finished) = match msg {
                StreamMsg::Token(index, text) => (
                    Event::default()
                        .event("token")
                        .data(serde_json::json!({"index": index, "text": text}).to_string()),
                    false,
                ),
                StreamMsg::Done(response) => (json_event("done", &response), true),
                StreamMsg::Failed(error) => (error_event(&error), true),
            };
            Some((Ok(event), (rx, guard, finished)))
        });
    let stream = until_shutdown(stream, state.shutdown.clone());
    Sse::new(stream).keep_alive(KeepAlive::default())
}
