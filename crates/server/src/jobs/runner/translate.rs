//! Stage 3 of a file: its segments translated, each saved the moment the engine reports it.
//!
//! An LLM outage (Ollama restarting, a GPU server rebooting) does not fail the job at once: what
//! was translated is saved, the job waits and tries again, and only an outage that outlasts every
//! pause fails it. Each try starts from the segments saved so far, which is also how a job
//! claimed again after a crash resumes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tradia_core::{
    CancelFlag, EngineError, LanguageTag, Priority, ResultSink, SegmentId, SegmentResult,
    TranslateRequest,
};
use tradia_formats::Document;
use tradia_store::Lease;

use super::{FileTask, Stop, publish};
use crate::error::ErrorCode;
use crate::state::AppState;

/// Least time between two progress events of one job.
const PUBLISH_EVERY: Duration = Duration::from_millis(200);

/// Every segment of the file with its result: the saved ones and the ones translated now.
pub(super) async fn translate_segments(
    task: &FileTask<'_>,
    document: &Document,
    source: Option<LanguageTag>,
) -> Result<HashMap<SegmentId, SegmentResult>, Stop> {
    let FileTask { state, lease, job, file, cancel } = *task;
    let engine =
        crate::memory::for_job(state, job, state.gateway.engine(job.model.as_deref())).await;
    let mut outage_pauses = 0u32;
    loop {
        let mut results: HashMap<SegmentId, SegmentResult> = state
            .jobs
            .saved_results(job.id, file.index)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let pending: Vec<SegmentId> = document
            .segments
            .iter()
            .map(|s| s.id)
            .filter(|sid| !results.contains_key(sid))
            .collect();
        if !results.is_empty() && outage_pauses == 0 {
            metrics::counter!("tradia_segments_resumed_total").increment(results.len() as u64);
            tracing::info!(job.id = %job.id, file.index = file.index, saved = results.len(), pending = pending.len(), "file resumed");
        }
        publish(state, job.id).await;
        if pending.is_empty() {
            return Ok(results);
        }
        let (tx, rx) = mpsc::unbounded_channel::<SegmentResult>();
        let writer = tokio::spawn(write_segments(
            state.clone(),
            lease.clone(),
            file.index,
            rx,
            cancel.clone(),
        ));
        let sink = ChannelSink(tx);
        let request = TranslateRequest {
            source: source.clone(),
            target: job.target_lang.clone(),
            segments: &document.segments,
            pending,
            priority: Priority::Document,
            // Round robin by user, so one person's large job does not hold up another's;
            // jobs from before accounts (no owner) are each their own owner.
            owner: job.owner.map_or_else(|| job.id.to_string(), |user| user.to_string()),
            cancel: cancel.clone(),
            sink: &sink,
            guidance: Default::default(),
        };
        let outcome = engine.translate(request).await;
        drop(sink);
        let written =
            writer.await.unwrap_or_else(|_| Err(Stop::internal("the segment writer stopped")));
        match outcome {
            Ok(translated) => {
                written?;
                results.extend(translated.into_iter().map(|r| (r.id, r)));
                return Ok(results);
            }
            Err(EngineError::Cancelled) => return Err(Stop::Cancelled),
            Err(error @ EngineError::Unavailable(_)) => {
                written?;
                if outage_pauses >= state.settings.outage_pauses {
                    return Err(Stop::Failed {
                        code: ErrorCode::from(&error),
                        message: engine_message(error),
                    });
                }
                outage_pauses += 1;
                tracing::warn!(job.id = %job.id, file.index = file.index, pause = outage_pauses, error = %error, "LLM unavailable: the job waits, then resumes");
                pause_unless_cancelled(cancel, state.settings.outage_pause).await?;
            }
            Err(error @ EngineError::Rejected(_)) => {
                return Err(Stop::Failed {
                    code: ErrorCode::from(&error),
                    message: engine_message(error),
                });
            }
        }
    }
}

/// The engine's own words for a job's error.
fn engine_message(error: EngineError) -> String {
    match error {
        EngineError::Unavailable(m) | EngineError::Rejected(m) => m,
        EngineError::Cancelled => error.to_string(),
    }
}

/// Sends each finished segment to the writer task.
struct ChannelSink(mpsc::UnboundedSender<SegmentResult>);

impl ResultSink for ChannelSink {
    fn segment_done(&self, result: &SegmentResult) {
        let _ = self.0.send(result.clone());
    }
}

/// Sleeps for `pause`, or stops early with [`Stop::Cancelled`] when the job is cancelled or the
/// process shuts down.
async fn pause_unless_cancelled(cancel: &CancelFlag, pause: Duration) -> Result<(), Stop> {
    let deadline = Instant::now() + pause;
    while Instant::now() < deadline {
        if cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

/// Saves each finished segment as it arrives and publishes progress now and then. A refused
/// write (lease lost: the job was cancelled or taken over) raises the cancel flag so the engine
/// stops asking the model.
async fn write_segments(
    state: Arc<AppState>,
    lease: Lease,
    file_index: u32,
    mut rx: mpsc::UnboundedReceiver<SegmentResult>,
    cancel: CancelFlag,
) -> Result<(), Stop> {
    let id = lease.job;
    let mut last_publish = Instant::now();
    let mut outcome = Ok(());
    while let Some(result) = rx.recv().await {
        if outcome.is_err() {
            continue;
        }
        let mut attempt = 0;
        loop {
            match state.jobs.save_segment(&lease, file_index, &result).await {
                Ok(()) => break,
                Err(e) => {
                    attempt += 1;
                    if e.is_lease_lost() || attempt >= 3 {
                        tracing::warn!(job.id = %id, segment.id = result.id, error = %e, "cannot save a segment");
                        cancel.cancel();
                        outcome = Err(Stop::from(e));
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
            }
        }
        if outcome.is_ok() {
            metrics::counter!("tradia_segments_translated_total").increment(1);
            if result.kept.is_some() {
                metrics::counter!("tradia_segments_kept_total").increment(1);
            }
            if last_publish.elapsed() >= PUBLISH_EVERY {
                last_publish = Instant::now();
                publish(&state, id).await;
            }
        }
    }
    outcome
}
