//! Following one job over SSE: the job as it is now, then each changed snapshot, then `end`.
//!
//! Snapshots come from this process's event hub; the database is re-read every 2 seconds too,
//! because another replica may be running the job. A re-read can overtake snapshots the hub
//! queued before it: those are then older than the last one sent, and are dropped
//! ([`is_older`]) rather than taking the job back (a file seen translating shown reading again).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
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
        if self.last.as_ref().is_some_and(|last| last == &job || is_older(&job, last)) {
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

/// True when snapshot `job` was taken before `last`: written earlier, or at the same instant
/// with less done (a saved segment does not touch the job's time).
fn is_older(job: &JobView, last: &JobView) -> bool {
    let at = |v: &JobView| OffsetDateTime::parse(&v.updated_at, &Rfc3339).ok();
    match (at(job), at(last)) {
        (Some(a), Some(b)) => (a, job.progress.done) < (b, last.progress.done),
        _ => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn view(updated_at: &str, done: u64) -> JobView {
        serde_json::from_value(serde_json::json!({
            "id": "0190f8a4-6c2e-7b61-9a4e-3f1c2d5e6a7b", "status": "running",
            "source_lang": "fr", "source_detected": false, "target_lang": "en", "model": null,
            "progress": {"done": done, "total": 10}, "files": [], "kept_segments": 0,
            "warning": null, "error": null, "notice": null, "attempts": 1,
            "created_at": "2026-12-02T10:00:00Z", "started_at": null, "finished_at": null,
            "updated_at": updated_at,
        }))
        .expect("a job view")
    }

    #[test]
    fn a_snapshot_written_before_the_last_one_sent_is_older() {
        let last = view("2026-12-02T10:00:01.5Z", 3);
        assert!(is_older(&view("2026-12-02T10:00:01Z", 9), &last), "an earlier write");
        assert!(is_older(&view("2026-12-02T10:00:01.5Z", 2), &last), "same instant, less done");
        assert!(!is_older(&view("2026-12-02T10:00:01.5Z", 3), &last), "the same");
        assert!(!is_older(&view("2026-12-02T10:00:01.5Z", 4), &last), "same instant, more done");
        // Compared as times, not as text ("…01Z" sorts after "…01.5Z").
        assert!(!is_older(&view("2026-12-02T10:00:02Z", 0), &last), "a later write, retried");
        assert!(!is_older(&view("not a time", 0), &last), "unreadable: sent");
    }
}
