//! The engine interface: what turns a document's segments into translations.
//!
//! Every engine (the LLM engine, and the `identity` and `pseudo` engines that need no LLM)
//! implements [`Engine`]. Callers (the command line, the service's job runner) hand it the whole
//! segment list, for context, and the ids still to translate (a resumed job skips what is done);
//! the engine reports each finished segment through a [`ResultSink`] as soon as it has it, so the
//! caller can persist it before anything else happens.
//!
//! The trait returns boxed futures rather than using `async fn` so that it stays usable as
//! `dyn Engine` and this crate stays free of any async runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::guidance::Guidance;
use crate::lang::LanguageTag;
use crate::pseudo::pseudo_content;
use crate::segment::{Segment, SegmentId, SegmentResult};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who is waiting: interactive text goes before documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    /// A person is waiting for this answer (pasted text, assistants).
    Interactive,
    /// A document job.
    Document,
}

/// A shared flag that stops a translation; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag that is not raised.
    pub fn new() -> Self {
        Self::default()
    }
    /// Raises the flag: engines stop sending requests for this work.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// True once [`CancelFlag::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Receives each segment's result as soon as the engine has it.
pub trait ResultSink: Send + Sync {
    /// Called once per translated (or kept) segment, in completion order.
    fn segment_done(&self, result: &SegmentResult);
}

/// A sink that ignores results.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSink;

impl ResultSink for NoSink {
    fn segment_done(&self, _result: &SegmentResult) {}
}

/// What to translate.
pub struct TranslateRequest<'a> {
    /// Source language; `None` lets the engine detect it or leave it to the model.
    pub source: Option<LanguageTag>,
    /// Target language.
    pub target: LanguageTag,
    /// The whole document's segments, in order (context for the ones to translate).
    pub segments: &'a [Segment],
    /// Ids of the segments to translate, in order; the others are context only.
    pub pending: Vec<SegmentId>,
    /// Scheduling priority.
    pub priority: Priority,
    /// Fairness key (a job id): work of one owner cannot starve another's.
    pub owner: String,
    /// Stops the work when raised.
    pub cancel: CancelFlag,
    /// Told about each finished segment.
    pub sink: &'a dyn ResultSink,
    /// Memory examples, glossary terms and style for this request (empty: none).
    pub guidance: Arc<Guidance>,
}

impl<'a> TranslateRequest<'a> {
    /// A document request for every segment, with no sink and a fresh cancel flag.
    pub fn all(source: Option<LanguageTag>, target: LanguageTag, segments: &'a [Segment]) -> Self {
        TranslateRequest {
            source,
            target,
            pending: segments.iter().map(|s| s.id).collect(),
            segments,
            priority: Priority::Document,
            owner: String::new(),
            cancel: CancelFlag::new(),
            sink: &NoSink,
            guidance: Arc::default(),
        }
    }

    /// The pending segments themselves, in pending order (unknown ids are skipped).
    pub fn pending_segments(&self) -> impl Iterator<Item = &'a Segment> + '_ {
        self.pending.iter().filter_map(|id| self.segments.get(*id as usize))
    }
}

/// Why an engine could not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The request's cancel flag was raised.
    #[error("translation cancelled")]
    Cancelled,
    /// No backend could be reached or all failed (the message says which and why).
    #[error("translation engine unavailable: {0}")]
    Unavailable(String),
    /// The request itself is wrong (unknown model, unsupported language…).
    #[error("{0}")]
    Rejected(String),
}

/// Counters an engine keeps, for summaries and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineStats {
    /// Requests sent to LLM backends.
    pub requests: u64,
    /// Of which retries.
    pub retries: u64,
    /// Prompt tokens reported by backends.
    pub prompt_tokens: u64,
    /// Output tokens reported by backends.
    pub output_tokens: u64,
}

/// Translates segments.
pub trait Engine: Send + Sync {
    /// Short name (`identity`, `pseudo`, `ollama`…).
    fn name(&self) -> &str;

    /// Translates `request.pending`; returns their results in pending order, having passed each
    /// to `request.sink` as it finished.
    fn translate<'a>(
        &'a self,
        request: TranslateRequest<'a>,
    ) -> BoxFuture<'a, Result<Vec<SegmentResult>, EngineError>>;

    /// Counters so far (engines without backends report zeros).
    fn stats(&self) -> EngineStats {
        EngineStats::default()
    }
}

/// Returns each segment unchanged: checks a document's round trip.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdentityEngine;

/// Deterministic pseudo-translation (see [`crate::pseudo`]): checks a round trip visibly.
#[derive(Debug, Default, Clone, Copy)]
pub struct PseudoEngine;

fn run_local<'a>(
    request: TranslateRequest<'a>,
    f: impl Fn(&Segment) -> SegmentResult + Send + 'a,
) -> BoxFuture<'a, Result<Vec<SegmentResult>, EngineError>> {
    Box::pin(async move {
        let mut out = Vec::with_capacity(request.pending.len());
        for segment in request.pending_segments() {
            if request.cancel.is_cancelled() {
                return Err(EngineError::Cancelled);
            }
            let result = f(segment);
            request.sink.segment_done(&result);
            out.push(result);
        }
        Ok(out)
    })
}

impl Engine for IdentityEngine {
    fn name(&self) -> &str {
        "identity"
    }
    fn translate<'a>(
        &'a self,
        request: TranslateRequest<'a>,
    ) -> BoxFuture<'a, Result<Vec<SegmentResult>, EngineError>> {
        run_local(request, |s| SegmentResult {
            id: s.id,
            content: s.content.clone(),
            kept: None,
            flags: Vec::new(),
        })
    }
}

impl Engine for PseudoEngine {
    fn name(&self) -> &str {
        "pseudo"
    }
    fn translate<'a>(
        &'a self,
        request: TranslateRequest<'a>,
    ) -> BoxFuture<'a, Result<Vec<SegmentResult>, EngineError>> {
        run_local(request, |s| SegmentResult {
            id: s.id,
            content: pseudo_content(&s.content),
            kept: None,
            flags: Vec::new(),
        })
    }
}
