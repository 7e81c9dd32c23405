//! Quiz terms of a Scenari item (`docs/scenari-format.md` I9, Q4, Q5), translated by default.
//!
//! A cloze gap (`sc:textLeaf role="gap"`) stays a standalone code in its sentence; inside it,
//! the expected answer (the gap's text after `op:gapM`) and each `sp:option` and `sp:synonym`
//! become segments of their own, nested in that code's markup, so the skeleton splices them back
//! where they were. A short-answer field's `sp:asw/sc:SFSolution/sc:value` becomes a segment
//! too. [`QuizRecorder`] notes, while the item is walked, which segments (by the byte offset
//! where each starts, since nested segments finish before their parents) make one group, and
//! turns that into [`QuizGroup`]s with segment ids once the segments are in document order.
//!
//! Terms that are whitespace, a single character or hold no letter are not segments: they are
//! kept exactly (Q4), and their texts go into [`QuizGroup::fixed`].

use tradia_core::{QuizGroup, QuizKind, QuizRole};

use super::rules::Ns;

type Range = (usize, usize);

/// Whether an element inside an open quiz group is one of its terms (besides the cloze
/// answer, which is the gap's own text): an option or a synonym of a gap, a value of a
/// short-answer solution.
pub(crate) fn term_role(kind: QuizKind, ns: Ns, local: &str) -> Option<QuizRole> {
    match (kind, ns, local) {
        (QuizKind::Cloze, Ns::Primitive, "option") => Some(QuizRole::Option),
        (QuizKind::Cloze, Ns::Primitive, "synonym") => Some(QuizRole::Synonym),
        (QuizKind::ShortAnswer, Ns::Core, "value") => Some(QuizRole::Answer),
        _ => None,
    }
}

/// A group being walked or walked through: offsets, not ids yet.
struct Pending {
    kind: QuizKind,
    /// Where the context segments start (the gap's sentence), or the range they start in
    /// (the short-answer question).
    context_starts: Vec<usize>,
    context_range: Option<Range>,
    terms: Vec<(usize, QuizRole)>,
    fixed: Vec<String>,
}

/// Collects the quiz groups of one item during extraction.
#[derive(Default)]
pub(crate) struct QuizRecorder {
    open: Vec<Pending>,
    done: Vec<Pending>,
    /// The byte range of the last `sc:question`, and the start of one being walked.
    question: Option<Range>,
    question_open: Option<usize>,
}

impl QuizRecorder {
    /// The kind of the innermost open group.
    pub(crate) fn open_kind(&self) -> Option<QuizKind> {
        self.open.last().map(|p| p.kind)
    }

    /// A `sc:question` starts (its paragraphs are a short answer's context).
    pub(crate) fn question_start(&mut self, at: usize) {
        self.question_open = Some(at);
    }

    /// The `sc:question` ends.
    pub(crate) fn question_end(&mut self, at: usize) {
        if let Some(start) = self.question_open.take() {
            self.question = Some((start, at));
        }
    }

    /// A cloze gap opens inside the sentence segment starting at `sentence`.
    pub(crate) fn open_gap(&mut self, sentence: usize) {
        self.open.push(Pending {
            kind: QuizKind::Cloze,
            context_starts: vec![sentence],
            context_range: None,
            terms: Vec::new(),
            fixed: Vec::new(),
        });
    }

    /// A short-answer solution (`sp:asw`) opens.
    pub(crate) fn open_short_answer(&mut self) {
        self.open.push(Pending {
            kind: QuizKind::ShortAnswer,
            context_starts: Vec::new(),
            context_range: self.question,
            terms: Vec::new(),
            fixed: Vec::new(),
        });
    }

    /// A term of the innermost open group was walked: a segment starting at `start`, or
    /// (`None`) a term kept exactly, whose trimmed text is `text`.
    pub(crate) fn term(&mut self, role: QuizRole, start: Option<usize>, text: &str) {
        let Some(group) = self.open.last_mut() else { return };
        match start {
            Some(start) => group.terms.push((start, role)),
            None => {
                let t = text.trim().to_string();
                if !group.fixed.contains(&t) {
                    group.fixed.push(t);
                }
            }
        }
    }

    /// The innermost open group ends.
    pub(crate) fn close(&mut self) {
        if let Some(group) = self.open.pop() {
            self.done.push(group);
        }
    }

    /// The groups with segment ids, given where each segment starts (`starts[id]`, sorted);
    /// groups left without any term are dropped.
    pub(crate) fn finish(self, starts: &[usize]) -> Vec<QuizGroup> {
        let id_at = |at: usize| starts.binary_search(&at).ok().map(|i| i as u32);
        let mut groups: Vec<(usize, QuizGroup)> = self
            .done
            .into_iter()
            .filter_map(|p| {
                let mut terms: Vec<_> =
                    p.terms.iter().filter_map(|&(at, role)| Some((id_at(at)?, role))).collect();
                terms.sort_unstable_by_key(|(id, _)| *id);
                let first = terms.first()?.0 as usize;
                let mut context: Vec<u32> =
                    p.context_starts.iter().filter_map(|&at| id_at(at)).collect();
                if let Some((from, to)) = p.context_range {
                    let lo = starts.partition_point(|&s| s < from);
                    let hi = starts.partition_point(|&s| s < to);
                    context.extend((lo..hi).map(|i| i as u32));
                }
                let group = QuizGroup { kind: p.kind, context, terms, fixed: p.fixed };
                Some((first, group))
            })
            .collect();
        groups.sort_by_key(|(first, _)| *first);
        groups.into_iter().map(|(_, g)| g).collect()
    }
}
