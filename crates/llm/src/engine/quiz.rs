//! Quiz terms translated together: one request per group (`tradia_core::quiz`).
//!
//! A cloze gap's answer, options and synonyms, or a short answer's accepted values, are sent in
//! one request of the ordinary wire shape: the terms are its segments, the sentence around the
//! gap (the gap shown as `___`) or the question is its read-only context, and a `quiz` object
//! names each term's role and says what must hold. The answer is checked entry by entry (codes,
//! chatter, emptiness; a term equal to its source is accepted: names stay names) and then as a
//! whole with [`tradia_core::quiz::check_group`]: terms equal in the source must be equal in the
//! translation, so the answer is still one of the options. A failed group is asked once more
//! with a stricter note; when that fails too, every term of the group keeps its source (the quiz
//! works, in the source language) and is flagged [`SegmentFlag::QuizKept`] with the reason.
//!
//! The glossary works as for ordinary batches (`terms.rs`): the request carries the glossary
//! terms whose source occurs in the group's terms (not in its context, sent with its own
//! batch), the formality, brief and instructions, in the same user-message fields, so the
//! system message stays the same. An answer that holds together but misses a term's target is
//! the group's one retry too, told so by the `glossary_note` (the quiz's stricter note is for a
//! group that broke); after the retry a group that holds together is kept translated, each term
//! missing a target flagged [`SegmentFlag::GlossaryTermMissing`], the first answer standing if
//! the second failed. A missing term never makes a group keep its source.
//!
//! Only groups whose terms are all pending take this path (a resumed job whose group was
//! partly saved sends the rest as ordinary segments).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;

use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{Map, Value, json};
use tradia_core::quiz::check_group;
use tradia_core::{
    Content, EngineError, Piece, QuizGroup, QuizKind, Segment, SegmentFlag, SegmentId,
    SegmentResult, TranslateRequest,
};

use super::budget::{TEMPLATE_TOKENS, output_allowance, prompt_tokens};
use super::terms::Terms;
use super::{LlmEngine, est_tokens};
use crate::answer::{Alignment, EntryContext, align, check_entry, parse_translations};
use crate::backend::{ChatRequest, Finish};
use crate::error::LlmError;
use crate::prompt::{self, CLOZE_NOTE, QUIZ_STRICT_NOTE, SHORT_ANSWER_NOTE, WireSegment};
use crate::runaway::RunawayGuard;

/// The groups of `request` this path translates: those whose terms are all pending.
pub(super) fn groups_to_send<'r>(request: &'r TranslateRequest<'_>) -> Vec<&'r QuizGroup> {
    let pending: HashSet<SegmentId> = request.pending.iter().copied().collect();
    request
        .guidance
        .quiz
        .iter()
        .filter(|g| g.terms.iter().all(|(id, _)| pending.contains(id)))
        .filter(|g| g.term_ids().all(|id| request.segments.get(id as usize).is_some()))
        .collect()
}

impl LlmEngine {
    /// A translation request: its quiz groups (see [`groups_to_send`]) one request each, the
    /// other pending segments in batches, both at once; results in pending order.
    pub(super) async fn translate_with_quiz(
        &self,
        request: TranslateRequest<'_>,
    ) -> Result<Vec<SegmentResult>, EngineError> {
        let groups = groups_to_send(&request);
        if groups.is_empty() {
            return self.run_translate(request).await;
        }
        let in_groups: HashSet<SegmentId> = groups.iter().flat_map(|g| g.term_ids()).collect();
        let rest = TranslateRequest {
            source: request.source.clone(),
            target: request.target.clone(),
            segments: request.segments,
            pending: request.pending.iter().copied().filter(|id| !in_groups.contains(id)).collect(),
            priority: request.priority,
            owner: request.owner.clone(),
            cancel: request.cancel.clone(),
            sink: request.sink,
            guidance: request.guidance.clone(),
        };
        let batches = async {
            if rest.pending.is_empty() { Ok(Vec::new()) } else { self.run_translate(rest).await }
        };
        let (quiz, batches) = futures::join!(self.run_quiz(&request, &groups), batches);
        let mut by_id: HashMap<SegmentId, SegmentResult> =
            quiz?.into_iter().chain(batches?).map(|r| (r.id, r)).collect();
        Ok(request.pending.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Translates `groups` (see [`groups_to_send`]); every term's result goes to the sink.
    pub(super) async fn run_quiz(
        &self,
        request: &TranslateRequest<'_>,
        groups: &[&QuizGroup],
    ) -> Result<Vec<SegmentResult>, EngineError> {
        let window = (self.inner.settings.slots * self.inner.backends.len() * 2).max(4);
        // The glossary prepared once for the request; each group's terms are its units, the
        // first group's numbered from 0, the next group's after them.
        let mut glossary = Terms::new(&request.guidance);
        let mut firsts = Vec::with_capacity(groups.len());
        let mut next_unit = 0;
        for group in groups {
            firsts.push(next_unit);
            for seg in group.term_ids().filter_map(|id| request.segments.get(id as usize)) {
                glossary.add_unit(&seg.edges().core);
                next_unit += 1;
            }
        }
        let glossary = &glossary;
        let mut todo = groups.iter().zip(firsts);
        let mut running = FuturesUnordered::new();
        let mut out = Vec::new();
        loop {
            while running.len() < window {
                match todo.next() {
                    Some((g, first)) => running.push(self.quiz_group(request, g, glossary, first)),
                    None => break,
                }
            }
            match running.next().await {
                Some(r) => out.extend(r?),
                None => break,
            }
        }
        Ok(out)
    }

    /// One group, its terms being `glossary`'s units from `first` on: asked once more when its
    /// answer does not hold together or misses a glossary term, then translated (missing terms
    /// flagged) or kept as in the source.
    async fn quiz_group(
        &self,
        request: &TranslateRequest<'_>,
        group: &QuizGroup,
        glossary: &Terms<'_>,
        first: usize,
    ) -> Result<Vec<SegmentResult>, EngineError> {
        let terms: Vec<&Segment> =
            group.term_ids().filter_map(|id| request.segments.get(id as usize)).collect();
        let units: Vec<usize> = (first..first + terms.len()).collect();
        let mut retry = None;
        // A first answer that held together but missed terms: it stands if the second fails.
        let mut held: Option<(Vec<Content>, Vec<Vec<String>>)> = None;
        let mut why = String::new();
        for strict in [false, true] {
            if request.cancel.is_cancelled() {
                return Err(EngineError::Cancelled);
            }
            let guidance = glossary.wire_noting(&units, retry == Some(Retry::Terms));
            let broke = retry == Some(Retry::Broken);
            match self.quiz_attempt(request, group, &terms, guidance, strict, broke).await? {
                Ok(cores) => {
                    let missing: Vec<Vec<String>> =
                        units.iter().zip(&cores).map(|(&u, c)| glossary.missing_in(u, c)).collect();
                    if !strict && missing.iter().any(|m| !m.is_empty()) {
                        tracing::debug!(segments = terms.len(), "quiz terms missed glossary terms");
                        self.inner.counters.resent.fetch_add(terms.len() as u64, Relaxed);
                        held = Some((cores, missing));
                        retry = Some(Retry::Terms);
                        continue;
                    }
                    return Ok(self.quiz_results(request, &terms, &cores, &missing));
                }
                Err(reason) => {
                    tracing::warn!(segments = terms.len(), "quiz terms rejected: {reason}");
                    if let Some((cores, missing)) = held.take() {
                        return Ok(self.quiz_results(request, &terms, &cores, &missing));
                    }
                    if !strict {
                        self.inner.counters.resent.fetch_add(terms.len() as u64, Relaxed);
                        retry = Some(Retry::Broken);
                    }
                    why = reason;
                }
            }
        }
        let reason = format!("quiz terms kept as in the source: {why}");
        let c = &self.inner.counters;
        Ok(terms
            .iter()
            .map(|seg| {
                let mut r = SegmentResult::kept_source(seg, "quiz_kept", reason.clone());
                r.flags.push(SegmentFlag::QuizKept { reason: why.clone() });
                c.segments.fetch_add(1, Relaxed);
                c.kept.fetch_add(1, Relaxed);
                request.sink.segment_done(&r);
                r
            })
            .collect())
    }

    /// The results of a group's accepted translation, `missing` its terms' missing glossary
    /// terms, each reported to the sink.
    fn quiz_results(
        &self,
        request: &TranslateRequest<'_>,
        terms: &[&Segment],
        cores: &[Content],
        missing: &[Vec<String>],
    ) -> Vec<SegmentResult> {
        terms
            .iter()
            .zip(cores)
            .zip(missing)
            .map(|((seg, core), missing)| self.quiz_result(request, seg, core, missing))
            .collect()
    }

    fn quiz_result(
        &self,
        request: &TranslateRequest<'_>,
        seg: &Segment,
        core: &Content,
        missing: &[String],
    ) -> SegmentResult {
        let mut result = SegmentResult::from_core(seg, core).unwrap_or_else(|e| {
            SegmentResult::kept_source(
                seg,
                "invalid_codes",
                format!("cannot put the edges back: {e}"),
            )
        });
        if result.kept.is_none() {
            result.flags.push(SegmentFlag::Model { name: self.inner.settings.model.clone() });
            result.flags.extend(
                missing.iter().map(|term| SegmentFlag::GlossaryTermMissing { term: term.clone() }),
            );
        }
        tradia_core::quality::annotate(seg, &mut result, request.source.as_ref(), &request.target);
        let c = &self.inner.counters;
        c.segments.fetch_add(1, Relaxed);
        if result.kept.is_some() {
            c.kept.fetch_add(1, Relaxed);
        }
        request.sink.segment_done(&result);
        result
    }

    /// One request for a group, with `guidance` (the glossary and style fields of the user
    /// message; `strict`: the second try, `broke`: after an answer that did not hold together):
    /// the translated cores, or why they do not hold together.
    async fn quiz_attempt(
        &self,
        request: &TranslateRequest<'_>,
        group: &QuizGroup,
        terms: &[&Segment],
        mut guidance: Map<String, Value>,
        strict: bool,
        broke: bool,
    ) -> Result<Result<Vec<Content>, String>, EngineError> {
        let cores: Vec<Content> = terms.iter().map(|s| s.edges().core).collect();
        let rendered: Vec<String> = cores.iter().map(Content::render).collect();
        let ids: Vec<String> = terms.iter().map(|s| s.id.to_string()).collect();
        let wire: Vec<WireSegment<'_>> = ids
            .iter()
            .zip(&rendered)
            .map(|(id, text)| WireSegment { id: id.clone(), text, examples: &[], note: None })
            .collect();
        let context: Vec<String> = group
            .context
            .iter()
            .filter_map(|id| request.segments.get(*id as usize))
            .map(|s| with_gaps(&s.content))
            .filter(|t| !t.is_empty())
            .collect();
        let mut quiz = Map::new();
        quiz.insert(
            "kind".into(),
            json!(match group.kind {
                QuizKind::Cloze => "cloze",
                QuizKind::ShortAnswer => "short_answer",
            }),
        );
        let roles: Vec<Value> = group
            .terms
            .iter()
            .map(|(id, role)| json!({"id": id.to_string(), "role": role.name()}))
            .collect();
        quiz.insert("terms".into(), Value::Array(roles));
        let note = match group.kind {
            QuizKind::Cloze => CLOZE_NOTE,
            QuizKind::ShortAnswer => SHORT_ANSWER_NOTE,
        };
        let note = if broke { format!("{note} {QUIZ_STRICT_NOTE}") } else { note.to_string() };
        quiz.insert("note".into(), Value::String(note));
        guidance.insert("quiz".into(), Value::Object(quiz));
        let source_name = prompt::language_name(request.source.as_ref());
        let target_name = request.target.english_name();
        let user = prompt::batch_user_message(
            &source_name,
            &target_name,
            &context,
            &wire,
            strict,
            &guidance,
        );
        let s = &self.inner.settings;
        let est: u32 = rendered.iter().map(|r| est_tokens(r) * 2 + 16).sum();
        let prompt_len = prompt_tokens(prompt::BATCH_SYSTEM.len() + user.len()) + TEMPLATE_TOKENS;
        let ctx = self.known_context();
        let req = ChatRequest {
            model: s.model.clone(),
            system: prompt::BATCH_SYSTEM.to_string(),
            user,
            images: Vec::new(),
            schema: Some(prompt::translations_schema().clone()),
            max_tokens: output_allowance(est).min(ctx.saturating_sub(prompt_len)).max(1),
            temperature: s.temperature,
        };
        let sources: String = rendered.concat();
        let bound = RunawayGuard::bound(sources.chars().count(), rendered.len());
        let guard = || RunawayGuard::new(sources.clone(), bound);
        let lane = self.inner.sched.lane();
        let outcome = match self
            .call_batch(&req, request.priority, &request.owner, lane, &request.cancel, guard)
            .await
        {
            Ok((o, _)) => o,
            Err(LlmError::Cancelled) => return Err(EngineError::Cancelled),
            Err(e @ LlmError::NoBackend(_)) => return Err(EngineError::Unavailable(e.to_string())),
            Err(e) => return Ok(Err(format!("the request failed: {e}"))),
        };
        let parsed = parse_translations(&outcome.content);
        let texts = match align(&ids, &parsed, outcome.finish == Finish::Length) {
            Alignment::Aligned(texts) => texts,
            Alignment::Prefix(_) | Alignment::Empty => {
                return Ok(Err("the answer left terms out".into()));
            }
            Alignment::Misaligned(how) => return Ok(Err(format!("the answer's ids: {how}"))),
        };
        // A term may come back as it was (a name, a term the target language shares).
        let no_sources = HashSet::new();
        let ctx = EntryContext { languages_differ: false, sources: &no_sources };
        let mut out = Vec::with_capacity(cores.len());
        for (core, text) in cores.iter().zip(&texts) {
            match check_entry(core, text, &ctx) {
                Ok(c) => out.push(c),
                Err(why) => {
                    return Ok(Err(format!("{:?}: {}", core.plain_text().trim(), why.message())));
                }
            }
        }
        let pairs: Vec<(String, String)> =
            cores.iter().zip(&out).map(|(s, t)| (s.plain_text(), t.plain_text())).collect();
        Ok(check_group(group, &pairs).map(|()| out))
    }
}

/// Why a group is asked a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Its answer did not hold together (`QUIZ_STRICT_NOTE`).
    Broken,
    /// Its answer held together but missed glossary terms (the `glossary_note`).
    Terms,
}

/// A context segment's text for a model: its words, each standalone code (the gap, among
/// others) shown as `___`.
fn with_gaps(content: &Content) -> String {
    let mut out = String::new();
    for p in content.pieces() {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Standalone(_) => out.push_str("___"),
            Piece::Open(_) | Piece::Close(_) => {}
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gap_shows_in_the_context() {
        let c = Content::parse("Le <g1>chat</g1> est un <x2/>.").unwrap();
        assert_eq!(with_gaps(&c), "Le chat est un ___.");
    }
}
