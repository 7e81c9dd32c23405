//! Stage 3 of a file: its segments translated, each saved the moment the engine reports it.
//!
//! An LLM outage (Ollama restarting, a GPU server rebooting) does not fail the job: what was
//! translated is saved, and the job tries again every `TRADIA_LLM_OUTAGE_PAUSE_SECS` (each try's
//! first request past the circuit breaker's cooldown is the breaker's probe, whose success serves
//! every waiting request) until the LLM answers; only an outage longer than
//! `TRADIA_LLM_OUTAGE_MAX_SECS` fails it, with `llm_outage_too_long`. Each try starts from the
//! segments saved so far, which is also how a job claimed again after a crash resumes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    // The job's guidance, with this file's brief, notes for translators (sent with their
    // segments) and quiz terms (translated together, `tradia_core::quiz`).
    let mut guidance = crate::guidance::for_job(state, job, source.as_ref(), document.brief())
        .await
        .with_notes(&document.report.notes);
    guidance.quiz = document.quiz.clone();
    let guidance = Arc::new(guidance);
    // Since when this file has found no LLM server answering (`None` while they answer).
    let mut outage_since: Option<Instant> = None;
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
        if !results.is_empty() && outage_since.is_none() {
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
        let sink = ChannelSink { tx, sent: AtomicUsize::new(0) };
        let request = TranslateRequest {
            source: source.clone(),
            target: job.target_lang.clone(),
            segments: &document.segments,
            pending,
            priority: Priority::Document,
            // Round robin by user, so one person's large job does not hold up another's (the
            // engine then takes turns between that user's jobs); jobs from before accounts (no
            // owner) are each their own owner.
            owner: job.owner.map_or_else(|| job.id.to_string(), |user| user.to_string()),
            cancel: cancel.clone(),
            sink: &sink,
            guidance: guidance.clone(),
        };
        let outcome = engine.translate(request).await;
        let progressed = sink.sent.load(Ordering::Relaxed) > 0;
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
                let now = Instant::now();
                // A try that saved something had the LLM answering: the outage starts anew.
                let since = match outage_since {
                    Some(t) if !progressed => t,
                    _ => now,
                };
                outage_since = Some(since);
                let waited = now.duration_since(since);
                let max = state.settings.outage_max;
                if waited >= max {
                    return Err(Stop::Failed {
                        code: ErrorCode::LlmOutageTooLong,
                        message: format!(
                            "no LLM server answered for {} s (TRADIA_LLM_OUTAGE_MAX_SECS={}); \
                             what was translated is kept: {}",
                            waited.as_secs(),
                            max.as_secs(),
                            engine_message(error)
                        ),
                    });
                }
                tracing::warn!(job.id = %job.id, file.index = file.index, waited_s = waited.as_secs(), error = %error, "LLM unavailable: the job waits, then tries again");
                let pause = state.settings.outage_pause.min(max - waited);
                pause_unless_cancelled(cancel, pause).await?;
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

/// Sends each finished segment to the writer task, counting them.
struct ChannelSink {
    tx: mpsc::UnboundedSender<SegmentResult>,
    sent: AtomicUsize,
}

impl ResultSink for ChannelSink {
    fn segment_done(&self, result: &SegmentResult) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(result.clone());
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
            for flag in tradia_core::quality::counted_keys(&result) {
                metrics::counter!("tradia_segment_flags_total", "flag" => flag).increment(1);
            }
            if last_publish.elapsed() >= PUBLISH_EVERY {
                last_publish = Instant::now();
                publish(&state, id).await;
            }
        }
    }
    outcome
}
