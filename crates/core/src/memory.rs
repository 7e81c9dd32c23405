//! Translation memory: earlier validated translations reused before a segment reaches a model.
//!
//! Why here: the job runner, the text endpoint and the command line all wrap their engine the
//! same way, and the store (which knows SQL) and the engines (which know models) must not know
//! each other. So the domain crate defines the [`TranslationMemory`] interface (implemented over
//! the store by its callers, already bound to one owner scope) and [`WithMemory`], an [`Engine`]
//! around any engine:
//!
//! 1. each pending segment's *core* (its content without edges, see [`Content::split_edges`]) is
//!    looked up exactly, all at once: a hit is answered from memory (flag
//!    [`SegmentFlag::MemoryExact`]), given to the sink like any result, and the inner engine is
//!    never asked for it — unless the request's glossary has a term whose source occurs in the
//!    segment and whose target the remembered translation lacks
//!    ([`crate::quality::missing_terms`], the engine's own check): a glossary added after the
//!    entry was recorded is not bypassed, the segment goes to the inner engine with the terms;
//! 2. for the others, fuzzy candidates are scored here ([`similarity`], the same on every
//!    backend) and the best few above the threshold go into [`Guidance::examples`]; those
//!    segments' results carry [`SegmentFlag::MemoryFuzzy`];
//! 3. every translation the inner engine validated (not a kept source) is recorded.
//!
//! Cores, not whole contents, are stored and matched: the same sentence with other surrounding
//! whitespace or wrapping codes is the same entry, and a hit is put back between the *new*
//! segment's edges. The exact key ([`memory_key`]) is the core's rendering (inline codes
//! included, so codes must match too) with runs of whitespace collapsed.
//!
//! A memory that fails (storage down) never fails a translation: the lookup is skipped or the
//! record dropped, and the error handed to [`WithMemory::on_error`] (the caller logs it).

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::content::{Content, Piece};
use crate::engine::{BoxFuture, Engine, EngineError, EngineStats, ResultSink, TranslateRequest};
use crate::guidance::{Example, Guidance, SegmentFlag};
use crate::lang::LanguageTag;
use crate::quality::missing_terms;
use crate::segment::{Segment, SegmentId, SegmentResult};

/// Fuzzy candidates below this similarity are not shown to the model.
pub const DEFAULT_FUZZY_THRESHOLD: f32 = 0.7;
/// Examples given per segment at most.
pub const DEFAULT_MAX_EXAMPLES: usize = 3;
/// Candidates asked of the memory per segment (scored here, the best kept).
pub const FUZZY_CANDIDATES: usize = 10;

/// The language pair an entry translates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguagePair {
    /// Source language.
    pub source: LanguageTag,
    /// Target language.
    pub target: LanguageTag,
}

/// A memory entry as a lookup returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryMatch {
    /// The earlier source core.
    pub source: Content,
    /// Its validated translation (a core too).
    pub target: Content,
}

/// A translation to record.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryRecord {
    /// The source core.
    pub source: Content,
    /// Its validated translation.
    pub target: Content,
}

/// Why the memory could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("translation memory unavailable: {0}")]
pub struct MemoryError(pub String);

/// A translation memory bound to one owner scope (read and written there only).
pub trait TranslationMemory: Send + Sync {
    /// For each of `sources` (cores), the entry with the same [`memory_key`], if any, in the
    /// same order.
    fn exact<'a>(
        &'a self,
        pair: &'a LanguagePair,
        sources: &'a [Content],
    ) -> BoxFuture<'a, Result<Vec<Option<MemoryMatch>>, MemoryError>>;

    /// Up to `limit` entries whose source resembles `source` (the index's own ranking; the
    /// caller scores them with [`similarity`]).
    fn fuzzy<'a>(
        &'a self,
        pair: &'a LanguagePair,
        source: &'a Content,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<MemoryMatch>, MemoryError>>;

    /// Records validated translations (origin `llm`; the implementation knows the model, the
    /// prompt version and the job).
    fn record<'a>(
        &'a self,
        pair: &'a LanguagePair,
        records: Vec<MemoryRecord>,
    ) -> BoxFuture<'a, Result<(), MemoryError>>;
}

/// The exact-match key of a core: its rendering with whitespace runs collapsed to one space
/// and trimmed.
pub fn memory_key(core: &Content) -> String {
    normalise_text(&core.render())
}

/// Whitespace runs collapsed to one space, ends trimmed.
pub fn normalise_text(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Similarity of two texts in `0.0..=1.0`: one minus their character edit distance over the
/// longer length (normalised Levenshtein), on the normalised plain texts.
pub fn similarity(a: &Content, b: &Content) -> f32 {
    let (a, b) = (normalise_text(&a.plain_text()), normalise_text(&b.plain_text()));
    strsim::normalized_levenshtein(&a, &b) as f32
}

/// The translated core of `result`, given the edges its segment was cut with: `content` minus
/// the segment's lead and trail pieces. `None` when the content does not start and end with them.
pub fn result_core(segment: &Segment, result: &Content) -> Option<Content> {
    let edges = segment.edges();
    let mut pieces: Vec<Piece> = result.pieces().to_vec();
    for lead in &edges.lead {
        let first = pieces.first_mut()?;
        match (lead, first) {
            (Piece::Text(l), Piece::Text(t)) => {
                let rest = t.strip_prefix(l.as_str())?.to_string();
                if rest.is_empty() {
                    pieces.remove(0);
                } else {
                    *t = rest;
                }
            }
            (l, f) if l == f => {
                pieces.remove(0);
            }
            _ => return None,
        }
    }
    for trail in edges.trail.iter().rev() {
        let last = pieces.last_mut()?;
        match (trail, last) {
            (Piece::Text(l), Piece::Text(t)) => {
                let keep = t.strip_suffix(l.as_str())?.len();
                t.truncate(keep);
                if t.is_empty() {
                    pieces.pop();
                }
            }
            (l, f) if l == f => {
                pieces.pop();
            }
            _ => return None,
        }
    }
    Content::from_pieces(pieces).ok()
}

/// Counters of a [`WithMemory`] engine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Segments answered from memory.
    pub exact: u64,
    /// Segments sent with fuzzy examples.
    pub fuzzy: u64,
    /// Translations recorded.
    pub recorded: u64,
    /// Memory operations that failed (skipped).
    pub errors: u64,
}

type ErrorHook = Box<dyn Fn(&MemoryError) + Send + Sync>;

/// An engine that answers exact memory matches itself, gives fuzzy ones to `inner` as examples
/// and records what `inner` translates (see the module documentation).
pub struct WithMemory<E> {
    inner: E,
    memory: Arc<dyn TranslationMemory>,
    threshold: f32,
    max_examples: usize,
    on_error: ErrorHook,
    exact: AtomicU64,
    fuzzy: AtomicU64,
    recorded: AtomicU64,
    errors: AtomicU64,
}

impl<E: Engine> WithMemory<E> {
    /// `inner` with `memory`, the default threshold and number of examples.
    pub fn new(inner: E, memory: Arc<dyn TranslationMemory>) -> Self {
        WithMemory {
            inner,
            memory,
            threshold: DEFAULT_FUZZY_THRESHOLD,
            max_examples: DEFAULT_MAX_EXAMPLES,
            on_error: Box::new(|_| {}),
            exact: AtomicU64::new(0),
            fuzzy: AtomicU64::new(0),
            recorded: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }

    /// Fuzzy candidates below `threshold` (`0.0..=1.0`) are not given; `0` examples turns fuzzy
    /// matching off.
    pub fn with_fuzzy(mut self, threshold: f32, max_examples: usize) -> Self {
        self.threshold = threshold.clamp(0.0, 1.0);
        self.max_examples = max_examples;
        self
    }

    /// Called with each memory error (the translation goes on without memory).
    pub fn on_error(mut self, hook: impl Fn(&MemoryError) + Send + Sync + 'static) -> Self {
        self.on_error = Box::new(hook);
        self
    }

    /// The wrapped engine.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    /// Counters so far.
    pub fn memory_stats(&self) -> MemoryStats {
        MemoryStats {
            exact: self.exact.load(Ordering::Relaxed),
            fuzzy: self.fuzzy.load(Ordering::Relaxed),
            recorded: self.recorded.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }

    fn failed(&self, err: &MemoryError) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        (self.on_error)(err);
    }

    async fn run<'a>(
        &'a self,
        request: TranslateRequest<'a>,
    ) -> Result<Vec<SegmentResult>, EngineError> {
        let Some(source) = request.source.clone() else {
            // Without a known source language there is no pair to look up or record under.
            return self.inner.translate(request).await;
        };
        let pair = LanguagePair { source, target: request.target.clone() };
        let pending: Vec<&Segment> = request.pending_segments().collect();
        let cores: Vec<Content> = pending.iter().map(|s| s.edges().core).collect();

        // 1. Exact matches.
        let hits = match self.memory.exact(&pair, &cores).await {
            Ok(hits) if hits.len() == cores.len() => hits,
            Ok(_) => {
                self.failed(&MemoryError("exact lookup answered a wrong count".into()));
                vec![None; cores.len()]
            }
            Err(err) => {
                self.failed(&err);
                vec![None; cores.len()]
            }
        };
        let mut answered: BTreeMap<SegmentId, SegmentResult> = BTreeMap::new();
        let mut rest: Vec<(&Segment, &Content)> = Vec::new();
        // Quiz terms are translated with their group, never answered alone from memory: an
        // answer taken from memory would not be checked against its options.
        let quiz_terms: HashSet<SegmentId> =
            request.guidance.quiz.iter().flat_map(|g| g.term_ids()).collect();
        for ((segment, core), hit) in pending.iter().zip(&cores).zip(hits) {
            // A remembered translation that lacks a glossary term's target (the glossary was
            // added or changed since) is not reused: the model translates it with the terms.
            let hit = hit
                .filter(|m| missing_terms(&request.guidance.terms, core, &m.target).is_empty())
                .filter(|_| !quiz_terms.contains(&segment.id));
            let from_memory = hit.and_then(|m| SegmentResult::from_core(segment, &m.target).ok());
            match from_memory {
                Some(mut result) if !core.is_empty() => {
                    if request.cancel.is_cancelled() {
                        return Err(EngineError::Cancelled);
                    }
                    result.flags.push(SegmentFlag::MemoryExact);
                    request.sink.segment_done(&result);
                    self.exact.fetch_add(1, Ordering::Relaxed);
                    answered.insert(segment.id, result);
                }
                _ => rest.push((segment, core)),
            }
        }
        if rest.is_empty() {
            return Ok(request.pending.iter().filter_map(|id| answered.remove(id)).collect());
        }

        // 2. Fuzzy examples for the others (identical cores looked up once).
        let mut guidance: Guidance = (*request.guidance).clone();
        let mut best_score: BTreeMap<SegmentId, u8> = BTreeMap::new();
        if self.max_examples > 0 {
            let mut seen: BTreeMap<String, Vec<Example>> = BTreeMap::new();
            for (segment, core) in &rest {
                if !core.has_letters() {
                    continue;
                }
                let key = memory_key(core);
                let examples = match seen.get(&key) {
                    Some(e) => e.clone(),
                    None => {
                        let e = self.examples_for(&pair, core).await;
                        seen.insert(key, e.clone());
                        e
                    }
                };
                if let Some(best) = examples.first() {
                    best_score.insert(segment.id, (best.score * 100.0).round() as u8);
                    guidance.examples.entry(segment.id).or_default().extend(examples);
                }
            }
        }
        self.fuzzy.fetch_add(best_score.len() as u64, Ordering::Relaxed);

        // 3. The inner engine for the rest, recording what it validated.
        let sink =
            Collecting { outer: request.sink, fuzzy: &best_score, done: Mutex::new(Vec::new()) };
        let inner_request = TranslateRequest {
            source: request.source.clone(),
            target: request.target.clone(),
            segments: request.segments,
            pending: rest.iter().map(|(s, _)| s.id).collect(),
            priority: request.priority,
            owner: request.owner.clone(),
            cancel: request.cancel.clone(),
            sink: &sink,
            guidance: Arc::new(guidance),
        };
        let outcome = self.inner.translate(inner_request).await;
        let done = std::mem::take(&mut *sink.done.lock().unwrap_or_else(|p| p.into_inner()));
        self.record(&pair, request.segments, &done).await;
        let results = outcome?;
        for mut result in results {
            add_fuzzy_flag(&mut result, &best_score);
            answered.insert(result.id, result);
        }
        Ok(request.pending.iter().filter_map(|id| answered.remove(id)).collect())
    }

    async fn examples_for(&self, pair: &LanguagePair, core: &Content) -> Vec<Example> {
        let candidates = match self.memory.fuzzy(pair, core, FUZZY_CANDIDATES).await {
            Ok(c) => c,
            Err(err) => {
                self.failed(&err);
                return Vec::new();
            }
        };
        let mut scored: Vec<Example> = candidates
            .into_iter()
            .map(|m| {
                let score = similarity(core, &m.source);
                Example { source: m.source, target: m.target, score }
            })
            .filter(|e| e.score >= self.threshold)
            .collect();
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut distinct = HashSet::new();
        scored.retain(|e| distinct.insert(e.source.render()));
        scored.truncate(self.max_examples);
        scored
    }

    async fn record(&self, pair: &LanguagePair, segments: &[Segment], done: &[SegmentResult]) {
        let mut seen = HashSet::new();
        let records: Vec<MemoryRecord> = done
            .iter()
            .filter(|r| r.kept.is_none() && !r.flags.contains(&SegmentFlag::MemoryExact))
            .filter_map(|r| {
                let segment = segments.get(r.id as usize)?;
                let source = segment.edges().core;
                let target = result_core(segment, &r.content)?;
                (!source.is_empty() && seen.insert(memory_key(&source)))
                    .then_some(MemoryRecord { source, target })
            })
            .collect();
        if records.is_empty() {
            return;
        }
        let n = records.len() as u64;
        match self.memory.record(pair, records).await {
            Ok(()) => {
                self.recorded.fetch_add(n, Ordering::Relaxed);
            }
            Err(err) => self.failed(&err),
        }
    }
}

fn add_fuzzy_flag(result: &mut SegmentResult, best: &BTreeMap<SegmentId, u8>) {
    if let Some(score) = best.get(&result.id) {
        let flag = SegmentFlag::MemoryFuzzy { score_percent: *score };
        if !result.flags.contains(&flag) {
            result.flags.push(flag);
        }
    }
}

/// Adds the fuzzy flag before the outer sink sees a result, and keeps a copy to record.
struct Collecting<'a> {
    outer: &'a dyn ResultSink,
    fuzzy: &'a BTreeMap<SegmentId, u8>,
    done: Mutex<Vec<SegmentResult>>,
}

impl ResultSink for Collecting<'_> {
    fn segment_done(&self, result: &SegmentResult) {
        let mut result = result.clone();
        add_fuzzy_flag(&mut result, self.fuzzy);
        self.outer.segment_done(&result);
        self.done.lock().unwrap_or_else(|p| p.into_inner()).push(result);
    }
}

impl<E: Engine> Engine for WithMemory<E> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn translate<'a>(
        &'a self,
        request: TranslateRequest<'a>,
    ) -> BoxFuture<'a, Result<Vec<SegmentResult>, EngineError>> {
        Box::pin(self.run(request))
    }

    fn stats(&self) -> EngineStats {
        self.inner.stats()
    }
}

#[cfg(test)]
#[path = "memory_tests.rs"]
mod tests;
