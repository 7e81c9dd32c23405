//! Documents translated in batches, with the repair ladder.
//!
//! A translation request becomes *units* (the pending segments' cores, as
//! [`tradia_core::Segment::edges`] cuts them, identical cores sent once), grouped in document
//! order into batches bounded by `BATCH_SIZE` and an output-token budget, each with the preceding
//! source text as read-only context; a batch's prompt and output allowance fit in the server's
//! context per slot, and a segment too long for it alone is sent in parts of whole sentences
//! (`split`), or fails the file with an error naming the context size. Batches are handed to
//! the scheduler a window at a time, so
//! the backends' slots never idle while work remains. The request's owner (its user) takes turns
//! with other users; within that user, each request is a scheduler lane taking turns with the
//! user's other jobs, and its retries are a second lane, so that retries share the slots with the
//! job's first-time batches instead of starving the rest of the document.
//!
//! Each batch request is streamed and watched by a [`RunawayGuard`]: an answer caught in a
//! repetition loop, or longer than its sources allow, is cut at once (its tokens counted as
//! wasted) and read as a truncated answer. The answer is parsed tolerantly, then aligned with
//! the request ([`crate::answer::align`]): an answer whose ids are not the request's (shifted,
//! unknown, missing, repeated) is not used at all, and all its segments are asked again. In an
//! aligned answer each entry is checked against its own source and the document's other
//! sources ([`crate::answer::check_entry`]); good answers are accepted and reported to the sink
//! at once; only the failed ids are sent again, in halves and then alone (where no id is
//! needed), with a stricter note. Placeholders that are the whole text of a paired code travel
//! as codes ([`crate::answer::protect_placeholders`]). What still fails has its codes reinserted
//! by alignment when that is safe ([`crate::answer::reinsert_codes`]); otherwise the source is
//! kept and the segment reported with a [`tradia_core::KeptReason`].

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::stream::{FuturesUnordered, StreamExt};
use tradia_core::{Content, EngineError, Segment, SegmentFlag, SegmentResult, TranslateRequest};

use super::{LlmEngine, est_tokens};
use crate::answer::{
    Alignment, EntryContext, Protected, Rejection, align, check_entry, parse_translations,
    protect_placeholders, reinsert_codes,
};
use crate::backend::{ChatRequest, Finish};
use crate::error::LlmError;
use crate::prompt::{self, WireSegment};
use crate::runaway::RunawayGuard;
use crate::scheduler::Lane;

use super::budget::{
    TEMPLATE_TOKENS, fixed_prompt_tokens, input_tokens, minimal_need, output_allowance,
    prompt_tokens, too_small,
};
use super::split::{join_parts, split_sentences};
use super::terms::{Terms, Verdict};

/// Characters of preceding source text given as context to a batch.
pub(super) const CONTEXT_CHARS: usize = 600;
/// Rounds of the repair ladder: the whole batch, halves, then single segments twice.
const LADDER_ROUNDS: usize = 4;

pub(super) struct Unit<'a> {
    /// The first segment with this core (its id goes on the wire).
    seg: &'a Segment,
    /// The core as the model sees it (placeholders wrapped in pairs made codes), and how to
    /// turn an answer back.
    prot: Protected,
    pub(super) rendered: String,
    pub(super) est_out: u32,
    /// Translation-memory examples sent with it (`examples.rs`).
    pub(super) examples: Vec<prompt::WireExample>,
    /// The document's note for translators about it, bounded (`notes.rs`).
    pub(super) note: Option<String>,
    /// (position in `pending`, segment) of every segment sharing this core (none for the
    /// part of a segment cut at sentences: its group has them).
    members: Vec<(usize, &'a Segment)>,
    /// The id on the wire: the segment's, `id.k` for part `k` of a cut segment.
    wire_id: String,
    /// For the part of a cut segment: its group and its index in it.
    part: Option<(usize, usize)>,
}

/// A segment too long for the context, sent in parts of whole sentences.
struct Group<'a> {
    /// The whole core as the model sees it, for the placeholders' restoration.
    prot: Protected,
    /// Whitespace between consecutive parts.
    seps: Vec<String>,
    members: Vec<(usize, &'a Segment)>,
    /// Translated parts so far; `None` once a part failed (the source is then kept).
    done: Mutex<Option<Vec<Option<Content>>>>,
    /// Whether a part's codes were reinserted by alignment.
    repaired: AtomicBool,
}

/// What one segment's last attempt left.
#[derive(Clone)]
struct Failure {
    why: Rejection,
    answer: Option<String>,
}

struct Job<'a, 'r> {
    request: &'r TranslateRequest<'a>,
    units: Vec<Unit<'a>>,
    source_name: String,
    target_name: String,
    languages_differ: bool,
    /// Every unit's source as the model sees it, rendered and plain: an answer equal to
    /// another unit's source is refused.
    sources: HashSet<String>,
    /// Context per slot every request must fit in (prompt and output).
    ctx: u32,
    groups: Vec<Group<'a>>,
    results: Mutex<Vec<Option<SegmentResult>>>,
    /// The scheduler lanes of this request's first-time batches and of its retries.
    lane: Lane,
    retry_lane: Lane,
    /// The glossary terms and style of the request, and what the answers missed.
    terms: Terms<'r>,
}

impl LlmEngine {
    pub(super) async fn run_translate(
        &self,
        request: TranslateRequest<'_>,
    ) -> Result<Vec<SegmentResult>, EngineError> {
        if request.cancel.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        let ctx = self.context_size().await;
        let (job, immediate) = self.prepare(&request);
        if let Some(u) = job.units.iter().find(|u| minimal_need(u) > ctx) {
            return Err(EngineError::Rejected(too_small(ctx, u.seg.id, minimal_need(u))));
        }
        for (pos, result) in immediate {
            job.finish(self, pos, result);
        }
        let job = &job;
        // A window of batches per job keeps every slot fed (and the scheduler's round robin
        // meaningful) without thousands of idle waiters for a long document.
        let window = (self.inner.settings.slots * self.inner.backends.len() * 2).max(4);
        let mut batches = self.plan(&job.units, job.ctx).into_iter();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < window {
                match batches.next() {
                    Some(b) => running.push(self.run_ladder(job, b)),
                    None => break,
                }
            }
            match running.next().await {
                Some(r) => r?,
                None => break,
            }
        }
        if request.cancel.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        let results = job.results.lock().unwrap_or_else(|e| e.into_inner());
        Ok(results.iter().flatten().cloned().collect())
    }

    /// Units (distinct cores to translate) of a request, and the results known at once.
    fn prepare<'a, 'r>(
        &self,
        request: &'r TranslateRequest<'a>,
    ) -> (Job<'a, 'r>, Vec<(usize, SegmentResult)>) {
        let pending: Vec<&'a Segment> =
            request.pending.iter().filter_map(|id| request.segments.get(*id as usize)).collect();
        let languages_differ =
            request.source.as_ref().is_none_or(|s| !s.same_language(&request.target));
        let mut job = Job {
            request,
            units: Vec::new(),
            source_name: prompt::language_name(request.source.as_ref()),
            target_name: request.target.english_name(),
            languages_differ,
            sources: HashSet::new(),
            ctx: self.known_context(),
            groups: Vec::new(),
            results: Mutex::new(vec![None; pending.len()]),
            lane: self.inner.sched.lane(),
            retry_lane: self.inner.sched.lane(),
            terms: Terms::new(&request.guidance),
        };
        let mut immediate = Vec::new();
        let mut by_core: HashMap<String, usize> = HashMap::new();
        for (pos, seg) in pending.into_iter().enumerate() {
            let original = seg.edges().core;
            let prot = protect_placeholders(&original);
            if !prot.core.has_letters() {
                // Nothing a model could translate (codes, numbers, punctuation): unchanged.
                immediate.push((
                    pos,
                    SegmentResult {
                        id: seg.id,
                        content: seg.content.clone(),
                        kept: None,
                        flags: Vec::new(),
                    },
                ));
                continue;
            }
            // Identical sources are sent once; the key is the source itself, since two
            // placeholders can look alike once protected, and its note (one that differs may
            // call for another translation).
            let note = super::notes::for_segment(&request.guidance, seg.id);
            let key = format!("{}\u{0}{}", original.render(), note.as_deref().unwrap_or(""));
            if let Some(&u) = by_core.get(&key) {
                job.units[u].members.push((pos, seg));
                continue;
            }
            by_core.insert(key, job.units.len());
            job.sources.extend(crate::answer::source_keys(&prot.core));
            let mut unit = Unit::new(seg, prot, vec![(pos, seg)], seg.id.to_string(), None);
            unit.examples = super::examples::for_members(&request.guidance, &unit.members);
            unit.note.clone_from(&note);
            let max_chars = self.inner.settings.max_segment_chars;
            if minimal_need(&unit) <= job.ctx && unit.rendered.chars().count() <= max_chars {
                job.units.push(unit);
                continue;
            }
            // Too long for the context alone, or longer than the longest segment sent whole:
            // parts of whole sentences (of words for an over-long sentence).
            let room = job.ctx.saturating_sub(fixed_prompt_tokens() + 28);
            let max_bytes = (usize::try_from(room).unwrap_or(usize::MAX) * 6 / 5)
                .saturating_sub(16)
                .min(max_chars);
            let Some((parts, seps)) = split_sentences(&unit.prot.core, max_bytes) else {
                job.units.push(unit);
                continue;
            };
            let group = job.groups.len();
            for (k, part) in parts.iter().enumerate() {
                let prot = Protected { core: part.clone(), restore: Vec::new() };
                job.sources.extend(crate::answer::source_keys(part));
                let wire = format!("{}.{}", seg.id, k + 1);
                let mut part = Unit::new(seg, prot, Vec::new(), wire, Some((group, k)));
                part.note.clone_from(&note);
                job.units.push(part);
            }
            tracing::info!(
                segment = seg.id,
                parts = parts.len(),
                "segment too long for the context: sent in parts"
            );
            job.groups.push(Group {
                prot: unit.prot,
                seps,
                members: unit.members,
                done: Mutex::new(Some(vec![None; parts.len()])),
                repaired: AtomicBool::new(false),
            });
        }
        let Job { units, terms, .. } = &mut job;
        for unit in units.iter() {
            terms.add_unit(&unit.prot.core);
        }
        (job, immediate)
    }

    /// The first-attempt requests a translation sends (no retry or repair), in order: lets a
    /// benchmark replay the same request mix with a minimal load generator.
    pub fn batch_requests(&self, request: &TranslateRequest<'_>) -> Vec<ChatRequest> {
        let (job, _) = self.prepare(request);
        self.plan(&job.units, job.ctx).iter().map(|b| self.chat_request(&job, b, false)).collect()
    }

    /// The request for units `units` of `job`.
    fn chat_request(&self, job: &Job<'_, '_>, units: &[usize], strict: bool) -> ChatRequest {
        let first = job.units[units[0]].seg.id;
        let context = preceding_context(job.request.segments, first);
        let wire: Vec<WireSegment<'_>> = units
            .iter()
            .map(|&u| WireSegment {
                id: job.units[u].wire_id.clone(),
                text: &job.units[u].rendered,
                examples: &job.units[u].examples,
                note: job.units[u].note.as_deref(),
            })
            .collect();
        let est: u32 = units.iter().map(|&u| job.units[u].est_out).sum();
        let s = &self.inner.settings;
        let guidance = job.terms.wire(units);
        let user = prompt::batch_user_message(
            &job.source_name,
            &job.target_name,
            &context,
            &wire,
            strict,
            &guidance,
        );
        // The output fits in what the prompt leaves of the context.
        let prompt = prompt_tokens(prompt::BATCH_SYSTEM.len() + user.len()) + TEMPLATE_TOKENS;
        ChatRequest {
            model: s.model.clone(),
            system: prompt::BATCH_SYSTEM.to_string(),
            user,
            images: Vec::new(),
            schema: Some(prompt::translations_schema().clone()),
            max_tokens: output_allowance(est).min(job.ctx.saturating_sub(prompt)).max(1),
            temperature: s.temperature,
        }
    }

    /// Cuts units (document order) into batches bounded by BATCH_SIZE, the output budget and
    /// the context: the fixed prompt, the batch's segments and its output allowance must fit
    /// in `ctx` tokens.
    fn plan(&self, units: &[Unit<'_>], ctx: u32) -> Vec<Vec<usize>> {
        let s = &self.inner.settings;
        let mut batches = Vec::new();
        let mut cur: Vec<usize> = Vec::new();
        let (mut cur_out, mut cur_in) = (0u32, 0u32);
        for (i, u) in units.iter().enumerate() {
            let (out, input) = (cur_out + u.est_out, cur_in + input_tokens(u));
            let fits = fixed_prompt_tokens() + input + output_allowance(out) <= ctx;
            if !cur.is_empty() && (cur.len() >= s.batch_size || out > s.output_budget || !fits) {
                batches.push(std::mem::take(&mut cur));
                (cur_out, cur_in) = (0, 0);
            }
            cur.push(i);
            cur_out += u.est_out;
            cur_in += input_tokens(u);
        }
        if !cur.is_empty() {
            batches.push(cur);
        }
        batches
    }

    async fn run_ladder(&self, job: &Job<'_, '_>, batch: Vec<usize>) -> Result<(), EngineError> {
        let mut todo = batch;
        let mut failures: HashMap<usize, Failure> = HashMap::new();
        for round in 0..LADDER_ROUNDS {
            if todo.is_empty() {
                break;
            }
            if round > 0 {
                self.inner.counters.resent.fetch_add(todo.len() as u64, Ordering::Relaxed);
            }
            let size = match round {
                0 => todo.len(),
                1 => todo.len().div_ceil(2),
                _ => 1,
            };
            let chunks: Vec<Vec<usize>> = todo.chunks(size).map(<[usize]>::to_vec).collect();
            let mut running: FuturesUnordered<_> =
                chunks.into_iter().map(|c| self.attempt(job, c, round)).collect();
            let mut next = Vec::new();
            while let Some(r) = running.next().await {
                for (u, outcome) in r? {
                    match outcome {
                        Ok(content) => match job.terms.review(u, &content, job.segment_ids(u)) {
                            Verdict::Accept => job.accept(self, u, &content, false),
                            Verdict::Retry => {
                                failures
                                    .insert(u, Failure { why: Rejection::Missing, answer: None });
                                next.push(u);
                            }
                        },
                        // A glossary retry that failed otherwise: the first answer stands.
                        Err(_) if let Some(first) = job.terms.fallback(u, job.segment_ids(u)) => {
                            job.accept(self, u, &first, false);
                        }
                        Err(f) => {
                            failures.insert(u, f);
                            next.push(u);
                        }
                    }
                }
            }
            next.sort_unstable();
            todo = next;
        }
        for u in todo {
            if let Some(first) = job.terms.fallback(u, job.segment_ids(u)) {
                job.accept(self, u, &first, false);
                continue;
            }
            let f =
                failures.remove(&u).unwrap_or(Failure { why: Rejection::Missing, answer: None });
            let unit = &job.units[u];
            if let (Rejection::InvalidCodes(_), Some(answer)) = (&f.why, &f.answer)
                && let Some(fixed) = reinsert_codes(&unit.prot.core, answer)
                && check_entry(&unit.prot.core, &fixed.render(), &job.entry_context()).is_ok()
            {
                tracing::info!(segment = unit.seg.id, "inline codes reinserted by alignment");
                job.accept(self, u, &fixed, true);
                continue;
            }
            // A copy of the source, short texts included (a name the model keeps as is), is
            // kept and reported: whether it was right to keep it is for a person to say.
            tracing::warn!(
                segment = unit.seg.id,
                code = f.why.code(),
                "source kept: {}",
                f.why.message()
            );
            job.keep(self, u, &f.why);
        }
        Ok(())
    }

    /// One request for `units`; per unit, the accepted content or why it failed.
    #[allow(clippy::type_complexity)]
    async fn attempt(
        &self,
        job: &Job<'_, '_>,
        units: Vec<usize>,
        round: usize,
    ) -> Result<Vec<(usize, Result<Content, Failure>)>, EngineError> {
        let strict = round > 0;
        let last_round = round + 1 >= LADDER_ROUNDS;
        let request = job.request;
        let req = self.chat_request(job, &units, strict);
        // Retries queue in their own lane: the scheduler's round robin then gives the job's
        // first-time batches and its retries alternate turns.
        let lane = if round == 0 { job.lane } else { job.retry_lane };
        let sources: String = units.iter().map(|&u| job.units[u].rendered.as_str()).collect();
        let bound = RunawayGuard::bound(sources.chars().count(), units.len());
        let guard = || RunawayGuard::new(sources.clone(), bound);
        let outcome = match self
            .call_batch(&req, request.priority, &request.owner, lane, &request.cancel, guard)
            .await
        {
            Ok((o, cut)) => {
                let c = &self.inner.counters;
                if let Some(cut) = cut {
                    c.cut_answers.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        segments = units.len(),
                        "answer cut: {cut}; asking again in smaller requests"
                    );
                }
                if o.finish == Finish::Length {
                    c.wasted_tokens.fetch_add(o.output_tokens.unwrap_or(0), Ordering::Relaxed);
                }
                o
            }
            Err(LlmError::Cancelled) => return Err(EngineError::Cancelled),
            // Every backend stayed out of service for the whole no-backend wait: smaller
            // requests cannot help, and each further round would wait that long again.
            Err(e @ LlmError::NoBackend(_)) => return Err(EngineError::Unavailable(e.to_string())),
            // One segment alone exceeds the server's context: no smaller request exists, and
            // the file cannot be translated with this server.
            Err(e) if e.is_context_overflow() && units.len() == 1 => {
                let id = job.units[units[0]].seg.id;
                return Err(EngineError::Rejected(format!(
                    "{} ({e})",
                    too_small(job.ctx, id, minimal_need(&job.units[units[0]]))
                )));
            }
            // A transient failure that outlived its retries: the ids go to the next round
            // (smaller requests, fresh retries); only the last round gives up on the job.
            Err(e)
                if e.is_context_overflow()
                    || e.code() == "llm_bad_response"
                    || (e.is_retryable() && !last_round) =>
            {
                let why = Rejection::RequestFailed(e.to_string());
                return Ok(units
                    .into_iter()
                    .map(|u| (u, Err(Failure { why: why.clone(), answer: None })))
                    .collect());
            }
            Err(e @ LlmError::Http { status: 400 | 404 | 422, .. }) => {
                return Err(EngineError::Rejected(e.to_string()));
            }
            Err(e) => return Err(EngineError::Unavailable(e.to_string())),
        };
        let parsed = parse_translations(&outcome.content);
        let truncated = outcome.finish == Finish::Length;
        let ids: Vec<String> = units.iter().map(|&u| job.units[u].wire_id.clone()).collect();
        let texts: Vec<Option<String>> = match align(&ids, &parsed, truncated) {
            Alignment::Aligned(texts) => texts.into_iter().map(Some).collect(),
            Alignment::Prefix(texts) => {
                let mut t: Vec<Option<String>> = texts.into_iter().map(Some).collect();
                t.resize(units.len(), None);
                t
            }
            Alignment::Empty => {
                let why = if truncated { Rejection::Truncated } else { Rejection::Missing };
                return Ok(units
                    .into_iter()
                    .map(|u| (u, Err(Failure { why: why.clone(), answer: None })))
                    .collect());
            }
            Alignment::Misaligned(how) => {
                self.inner.counters.misaligned.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    segments = units.len(),
                    "answer ids do not match the request ({how}); asking again in smaller requests"
                );
                let why = Rejection::Misaligned(how);
                return Ok(units
                    .into_iter()
                    .map(|u| (u, Err(Failure { why: why.clone(), answer: None })))
                    .collect());
            }
        };
        let ctx = job.entry_context();
        Ok(units
            .into_iter()
            .zip(texts)
            .map(|(u, text)| {
                let unit = &job.units[u];
                let result = match text {
                    None => Err(Failure { why: Rejection::Truncated, answer: None }),
                    Some(text) => check_entry(&unit.prot.core, &text, &ctx)
                        .map_err(|why| Failure { why, answer: Some(text) }),
                };
                (u, result)
            })
            .collect())
    }
}

impl Job<'_, '_> {
    /// Reports one segment's result, with the glossary's and the post-check's flags
    /// (`tradia_core::quality`), and counts it.
    fn finish(&self, engine: &LlmEngine, pos: usize, mut result: SegmentResult) {
        if result.kept.is_none() {
            result.flags.extend(self.terms.flags(result.id));
        }
        let request = self.request;
        let segment = request.segments.get(result.id as usize).filter(|s| s.id == result.id);
        if let Some(seg) = segment {
            let source = request.source.as_ref();
            tradia_core::quality::annotate(seg, &mut result, source, &request.target);
        }
        let c = &engine.inner.counters;
        c.segments.fetch_add(1, Ordering::Relaxed);
        if result.kept.is_some() {
            c.kept.fetch_add(1, Ordering::Relaxed);
        }
        if result.flags.contains(&SegmentFlag::CodesRepaired) {
            c.repaired.fetch_add(1, Ordering::Relaxed);
        }
        self.request.sink.segment_done(&result);
        let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = results.get_mut(pos) {
            *slot = Some(result);
        }
    }

    /// The segments unit `u`'s translation goes to.
    fn segment_ids(&self, u: usize) -> Vec<tradia_core::SegmentId> {
        let unit = &self.units[u];
        let mut ids = vec![unit.seg.id];
        ids.extend(unit.members.iter().map(|(_, seg)| seg.id));
        if let Some((g, _)) = unit.part {
            ids.extend(self.groups[g].members.iter().map(|(_, seg)| seg.id));
        }
        ids
    }

    fn entry_context(&self) -> EntryContext<'_> {
        EntryContext { languages_differ: self.languages_differ, sources: &self.sources }
    }

    /// Keeps the source of unit `u`'s segments, with the reason (for a part: of its whole
    /// segment, once).
    fn keep(&self, engine: &LlmEngine, u: usize, why: &Rejection) {
        let unit = &self.units[u];
        let members = match unit.part {
            None => &unit.members,
            Some((g, _)) => {
                let group = &self.groups[g];
                let mut done = group.done.lock().unwrap_or_else(|e| e.into_inner());
                if done.take().is_none() {
                    return;
                }
                &group.members
            }
        };
        for &(pos, seg) in members {
            self.finish(engine, pos, SegmentResult::kept_source(seg, why.code(), why.message()));
        }
    }

    /// Uses `core` as unit `u`'s translation (`repaired`: its codes were reinserted by
    /// alignment).
    fn accept(&self, engine: &LlmEngine, u: usize, core: &Content, repaired: bool) {
        let unit = &self.units[u];
        let (core, prot, members, repaired) = match unit.part {
            None => (core.clone(), &unit.prot, &unit.members, repaired),
            Some((g, k)) => {
                let group = &self.groups[g];
                if repaired {
                    group.repaired.store(true, Ordering::Relaxed);
                }
                let mut done = group.done.lock().unwrap_or_else(|e| e.into_inner());
                let Some(parts) = done.as_mut() else { return };
                if let Some(slot) = parts.get_mut(k) {
                    *slot = Some(core.clone());
                }
                if parts.iter().any(Option::is_none) {
                    return;
                }
                let all: Vec<Content> = parts.iter().flatten().cloned().collect();
                *done = None;
                match join_parts(&all, &group.seps) {
                    Some(joined) => (
                        joined,
                        &group.prot,
                        &group.members,
                        group.repaired.load(Ordering::Relaxed),
                    ),
                    None => {
                        let why = Rejection::InvalidCodes(tradia_core::MarkupError::Missing(0));
                        for &(pos, seg) in &group.members {
                            let r = SegmentResult::kept_source(seg, why.code(), why.message());
                            self.finish(engine, pos, r);
                        }
                        return;
                    }
                }
            }
        };
        let restored = prot.restore(&core);
        for &(pos, seg) in members {
            let result = restored
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|core| SegmentResult::from_core(seg, core))
                .map(|mut r| {
                    if repaired {
                        r.flags.push(SegmentFlag::CodesRepaired);
                    }
                    r.flags.push(SegmentFlag::Model { name: engine.inner.settings.model.clone() });
                    r
                })
                .unwrap_or_else(|e| {
                    SegmentResult::kept_source(
                        seg,
                        "invalid_codes",
                        format!("cannot put the edges back: {e}"),
                    )
                });
            self.finish(engine, pos, result);
        }
    }
}

impl<'a> Unit<'a> {
    fn new(
        seg: &'a Segment,
        prot: Protected,
        members: Vec<(usize, &'a Segment)>,
        wire_id: String,
        part: Option<(usize, usize)>,
    ) -> Self {
        let rendered = prot.core.render();
        let est_out = est_tokens(&rendered) * 2 + 16;
        Unit {
            seg,
            prot,
            rendered,
            est_out,
            examples: Vec::new(),
            note: None,
            members,
            wire_id,
            part,
        }
    }
}

/// Plain text of the segments before `first`, at most [`CONTEXT_CHARS`] characters, in order.
fn preceding_context(segments: &[Segment], first: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut budget = CONTEXT_CHARS;
    for seg in segments[..(first as usize).min(segments.len())].iter().rev() {
        if budget == 0 {
            break;
        }
        let text = seg.content.plain_text();
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let n = text.chars().count();
        let piece = if n > budget {
            let skip = n - budget;
            format!("…{}", text.chars().skip(skip).collect::<String>())
        } else {
            text.to_string()
        };
        budget = budget.saturating_sub(n);
        out.push(piece);
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_the_preceding_text_bounded() {
        let segs: Vec<Segment> = (0..5)
            .map(|i| Segment {
                id: i,
                content: Content::text(format!("Paragraph {i}.")),
                location: String::new(),
                field: String::new(),
            })
            .collect();
        assert_eq!(preceding_context(&segs, 0), Vec::<String>::new());
        assert_eq!(preceding_context(&segs, 2), vec!["Paragraph 0.", "Paragraph 1."]);
    }
}
