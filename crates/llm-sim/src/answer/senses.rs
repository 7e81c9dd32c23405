//! The context-dependent mode ([`SimMode::Contextual`]) and the `term_drift` fault: which
//! *sense* of a term a batch answer gives, marked in the pseudo-translation.
//!
//! A real model translates a short term by what surrounds it ("tour": tower or turn). The
//! contextual mode imitates that: the sense (`¹`, `²` or `³`, written before each closing `⟧`)
//! is chosen by a hash of the whole request — its context and the text of every segment — so a
//! cloze answer and its options get the same translation only when one request carries them
//! all. `term_drift` breaks that within a request: the second and later segments whose source
//! repeats an earlier one's get the next sense (in the pseudo mode, a sense mark where the first
//! copy has none).

use std::collections::HashMap;

use tradia_core::Piece;
use tradia_core::pseudo::CLOSE_MARK;

use crate::config::{FaultKind, SimMode};
use crate::wire::BatchRequest;

/// The sense marks, in order.
pub const SENSES: [char; 3] = ['¹', '²', '³'];

/// The sense the contextual mode gives every term of `req`: an index into [`SENSES`].
pub fn request_sense(req: &BatchRequest) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let parts = req.context.iter().chain(req.segments.iter().map(|s| &s.text));
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    (h % SENSES.len() as u64) as usize
}

/// Marks the answers' senses: the request's sense in the contextual mode, another one for a
/// repeated source under `drift` (then recorded in `applied`).
pub(super) fn senses(
    req: &BatchRequest,
    mode: SimMode,
    drift: bool,
    answers: &mut [(String, Option<Vec<Piece>>)],
    applied: &mut Vec<FaultKind>,
) {
    let base = (mode == SimMode::Contextual).then(|| request_sense(req));
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut drifted = false;
    for (src, (_, pieces)) in req.segments.iter().zip(answers.iter_mut()) {
        let Some(pieces) = pieces.as_mut() else { continue };
        let copies = seen.entry(src.text.trim()).or_insert(0);
        let mut sense = base;
        if drift && *copies > 0 {
            sense = Some((base.unwrap_or(0) + *copies) % SENSES.len());
            drifted = true;
        }
        *copies += 1;
        if let Some(sense) = sense {
            mark(pieces, SENSES[sense]);
        }
    }
    if drifted {
        applied.push(FaultKind::TermDrift);
    }
}

/// Writes `sense` before every closing mark of the text pieces.
fn mark(pieces: &mut [Piece], sense: char) {
    for piece in pieces {
        if let Piece::Text(t) = piece
            && t.contains(CLOSE_MARK)
        {
            *t = t.replace(CLOSE_MARK, &format!("{sense}{CLOSE_MARK}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::WireSegment;

    fn req(context: &str, texts: &[&str]) -> BatchRequest {
        BatchRequest {
            task: "translate".into(),
            source_lang: "French".into(),
            target_lang: "English".into(),
            context: vec![context.into()],
            segments: texts
                .iter()
                .enumerate()
                .map(|(i, t)| WireSegment {
                    id: i.to_string(),
                    text: (*t).to_string(),
                    examples: Vec::new(),
                    note: None,
                })
                .collect(),
            glossary: Vec::new(),
            formality: None,
            brief: None,
        }
    }

    fn answers(r: &BatchRequest) -> Vec<(String, Option<Vec<Piece>>)> {
        r.segments
            .iter()
            .map(|s| (s.id.clone(), Some(vec![Piece::Text(format!("⟦{}⟧", s.text))])))
            .collect()
    }

    fn texts(a: &[(String, Option<Vec<Piece>>)]) -> Vec<String> {
        a.iter().map(|(_, p)| super::super::render_pieces(p.as_ref().unwrap())).collect()
    }

    #[test]
    fn the_sense_follows_the_request_and_drift_breaks_equal_terms() {
        let r = req("Le ___ est plein.", &["tour", "tour", "virage"]);
        let mut a = answers(&r);
        let mut applied = Vec::new();
        senses(&r, SimMode::Contextual, false, &mut a, &mut applied);
        let t = texts(&a);
        assert_eq!(t[0], t[1]);
        assert!(t[0].contains(SENSES[request_sense(&r)]));
        // Other text around the same term: the sense is chosen anew, and differs for some.
        let others: Vec<usize> =
            (0..12).map(|i| request_sense(&req(&format!("autre {i}"), &["tour"]))).collect();
        assert!(others.iter().any(|s| *s != others[0]), "{others:?}");
        let mut a = answers(&r);
        senses(&r, SimMode::Contextual, true, &mut a, &mut applied);
        let t = texts(&a);
        assert_ne!(t[0], t[1]);
        assert_eq!(applied, [FaultKind::TermDrift]);
        // The pseudo mode marks nothing unless it drifts.
        let mut a = answers(&r);
        senses(&r, SimMode::Pseudo, false, &mut a, &mut Vec::new());
        assert_eq!(texts(&a), ["⟦tour⟧", "⟦tour⟧", "⟦virage⟧"]);
    }
}
