//! Following one job over SSE: the job as it is now, then each changed snapshot, then `end`.
//!
//! Snapshots come from this process's event hub; the database is re-read every 2 seconds too,
//! because another replica may be running the job.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast;
use tradia_store::JobId;

use crate::error::ApiError;
use crate::jobs::model::JobView;
use crate::sse::{error_event, json_event, until_shutdown};
use crate::state::AppState;

/// How often the job is re-read from the database.
const POLL_EVERY: Duration = Duration::from_secs(2);

/// State of one SSE subscription.
struct Follow {
    state: Arc<AppState>,
    id: JobId,
    rx: broadcast::Receiver<Arc<JobView>>,
    queue: VecDeque<Event>,
    last: Option<JobView>,
    ended: bool,
    poll: tokio::time::Interval,
}

impl Follow {
    /// Queues `job` as a `progress` event (and `end` when final) unless nothing changed.
    fn push(&mut self, mut job: JobView) {
        self.state.annotate(&mut job);
        if self.last.as_ref() == Some(&job) {
            return;
        }
        self.queue.push_back(json_event("progress", &job));
        if job.status.is_terminal() {
            self.queue.push_back(json_event("end", &job));
            self.ended = true;
        }
        self.last = Some(job);
    }

    async fn reload(&mut self) {
        match self.state.jobs.get_job(self.id).await {
            Ok(Some(job)) => self.push(job),
            Ok(None) => {
                self.queue.push_back(error_event(&ApiError::job_not_found(self.id)));
                self.ended = true;
            }
            Err(e) => tracing::warn!(job.id = %self.id, error = %e, "cannot reload job for SSE"),
        }
    }

    async fn next_event(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some((Ok(event), self));
            }
            if self.ended {
                return None;
            }
            tokio::select! {
                msg = self.rx.recv() => match msg {
                    Ok(job) if job.id == self.id => self.push((*job).clone()),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => self.reload().await,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                // Another replica may run the job: the database is the source of truth.
                _ = self.poll.tick() => self.reload().await,
            }
        }
    }
}

/// The event stream of job `job`, starting from this snapshot. `rx` must have been subscribed
/// before `job` was read, so no change in between is missed.
pub fn follow_job(
    state: Arc<AppState>,
    rx: broadcast::Receiver<Arc<JobView>>,
    job: JobView,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut poll = tokio::time::interval(POLL_EVERY);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.reset();
    let shutdown = state.shutdown.clone();
    let mut follow =
        Follow { state, id: job.id, rx, queue: VecDeque::new(), last: None, ended: false, poll };
    follow.push(job);
    let stream = futures::stream::unfold(follow, Follow::next_event);
    Sse::new(until_shutdown(stream, shutdown)).keep_alive(KeepAlive::default())
}
