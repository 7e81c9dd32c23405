//! The content faults of WIRE.md §5 applied to a batch answer: codes dropped, duplicated,
//! invented or reordered, ids missing, extra, repeated or shifted, another segment's source,
//! short copies, an echo.

use std::collections::BTreeSet;

use rand::Rng;
use rand::rngs::StdRng;
use tradia_core::content::escape_text;
use tradia_core::{Content, Piece};

use super::senses::senses;
use super::{pseudo_run, pseudo_segment, pseudo_with_terms};
use crate::config::{FaultKind, SimMode};
use crate::wire::{BatchAnswer, BatchRequest, WireSegment};

pub(super) fn batch_answer(
    req: &BatchRequest,
    mode: SimMode,
    drawn: &BTreeSet<FaultKind>,
    rng: &mut StdRng,
    applied: &mut Vec<FaultKind>,
) -> BatchAnswer {
    // Pieces of each answer, kept unvalidated so that code faults can break them.
    // Glossary terms are applied (WIRE.md §4); `term_miss` answers one segment that carries a
    // term as if that term had not been given.
    let mut applied_terms: Vec<Vec<usize>> = Vec::new();
    let mut answers: Vec<(String, Option<Vec<Piece>>)> = req
        .segments
        .iter()
        .map(|s| match Content::parse(&s.text) {
            Ok(c) => {
                let (out, used) = pseudo_with_terms(&c, &req.glossary, None);
                applied_terms.push(used);
                (s.id.clone(), Some(out.pieces().to_vec()))
            }
            Err(_) => {
                applied_terms.push(Vec::new());
                (s.id.clone(), None)
            }
        })
        .collect();
    if drawn.contains(&FaultKind::TermMiss) {
        let candidates: Vec<usize> =
            (0..answers.len()).filter(|&i| !applied_terms[i].is_empty()).collect();
        if !candidates.is_empty() {
            let i = candidates[rng.random_range(0..candidates.len())];
            let skip = applied_terms[i][rng.random_range(0..applied_terms[i].len())];
            if let Ok(c) = Content::parse(&req.segments[i].text) {
                let (out, _) = pseudo_with_terms(&c, &req.glossary, Some(skip));
                answers[i].1 = Some(out.pieces().to_vec());
                applied.push(FaultKind::TermMiss);
            }
        }
    }
    senses(req, mode, drawn.contains(&FaultKind::TermDrift), &mut answers, applied);
    let mut texts: Vec<Option<String>> = vec![None; answers.len()];

    for kind in
        [FaultKind::DropCode, FaultKind::DupCode, FaultKind::InventCode, FaultKind::ReorderCodes]
    {
        if !drawn.contains(&kind) {
            continue;
        }
        let candidates: Vec<usize> = answers
            .iter()
            .enumerate()
            .filter(|(_, (_, p))| p.as_ref().is_some_and(|p| code_fault_applies(kind, p)))
            .map(|(i, _)| i)
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let i = candidates[rng.random_range(0..candidates.len())];
        if let Some(pieces) = answers[i].1.as_mut() {
            apply_code_fault(kind, pieces, rng);
            applied.push(kind);
        }
    }
    if drawn.contains(&FaultKind::Echo) {
        let i = rng.random_range(0..answers.len());
        texts[i] = Some(req.segments[i].text.clone());
        applied.push(FaultKind::Echo);
    }
    if drawn.contains(&FaultKind::CopyShort) {
        let mut any = false;
        for (i, src) in req.segments.iter().enumerate() {
            let words = Content::parse(&src.text)
                .map_or_else(|_| src.text.clone(), |c| c.plain_text())
                .split_whitespace()
                .count();
            if (1..=3).contains(&words) {
                texts[i] = Some(src.text.clone());
                any = true;
            }
        }
        if any {
            applied.push(FaultKind::CopyShort);
        }
    }
    if drawn.contains(&FaultKind::ForeignSource) && req.segments.len() >= 2 {
        let i = rng.random_range(0..req.segments.len());
        let j = (i + rng.random_range(1..req.segments.len())) % req.segments.len();
        texts[i] = Some(req.segments[j].text.clone());
        applied.push(FaultKind::ForeignSource);
    }
    let mut out: Vec<WireSegment> = answers
        .into_iter()
        .zip(texts)
        .zip(&req.segments)
        .map(|(((id, pieces), text), src)| WireSegment {
            id,
            text: text.unwrap_or_else(|| match pieces {
                Some(p) => render_pieces(&p),
                None => pseudo_run(&src.text),
            }),
            examples: Vec::new(),
            note: None,
        })
        .collect();
    if drawn.contains(&FaultKind::ShiftIds) {
        // Entry n answered under the id of segment n+1; the last one under an unused id.
        let next = unused_id(req);
        for (i, entry) in out.iter_mut().enumerate() {
            entry.id = req.segments.get(i + 1).map_or_else(|| next.clone(), |s| s.id.clone());
        }
        applied.push(FaultKind::ShiftIds);
    }
    if drawn.contains(&FaultKind::MissingId) {
        let i = rng.random_range(0..out.len());
        out.remove(i);
        applied.push(FaultKind::MissingId);
    }
    if drawn.contains(&FaultKind::ExtraId) {
        let id = unused_id(req);
        let src = &req.segments[rng.random_range(0..req.segments.len())];
        let at = rng.random_range(0..=out.len());
        out.insert(
            at,
            WireSegment { id, text: pseudo_segment(&src.text), examples: Vec::new(), note: None },
        );
        applied.push(FaultKind::ExtraId);
    }
    if drawn.contains(&FaultKind::DupId) && !out.is_empty() {
        let i = rng.random_range(0..out.len());
        let id = out[i].id.clone();
        let text = req
            .segments
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| format!("{} (bis)", out[i].text), |s| format!("{} ⟦bís⟧", s.text));
        out.insert(i + 1, WireSegment { id, text, examples: Vec::new(), note: None });
        applied.push(FaultKind::DupId);
    }
    BatchAnswer { translations: out }
}

/// An id the request does not use.
fn unused_id(req: &BatchRequest) -> String {
    let max_numeric = req.segments.iter().filter_map(|s| s.id.parse::<u64>().ok()).max();
    let mut candidate = match max_numeric {
        Some(n) => (n + 1).to_string(),
        None => "extra".to_string(),
    };
    while req.segments.iter().any(|s| s.id == candidate) {
        candidate.push('x');
    }
    candidate
}

fn code_fault_applies(kind: FaultKind, pieces: &[Piece]) -> bool {
    let codes = pieces.iter().filter(|p| !matches!(p, Piece::Text(_))).count();
    match kind {
        FaultKind::InventCode => true,
        FaultKind::ReorderCodes => pieces.iter().any(|p| matches!(p, Piece::Open(_))) || codes >= 2,
        _ => codes >= 1,
    }
}

fn code_ids(pieces: &[Piece]) -> Vec<u32> {
    let mut ids: Vec<u32> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Open(id) | Piece::Standalone(id) => Some(*id),
            _ => None,
        })
        .collect();
    ids.dedup();
    ids
}

fn apply_code_fault(kind: FaultKind, pieces: &mut Vec<Piece>, rng: &mut StdRng) {
    let ids = code_ids(pieces);
    match kind {
        FaultKind::DropCode => {
            let id = ids[rng.random_range(0..ids.len())];
            pieces.retain(|p| !matches!(p, Piece::Open(i) | Piece::Close(i) | Piece::Standalone(i) if *i == id));
        }
        FaultKind::DupCode => {
            let id = ids[rng.random_range(0..ids.len())];
            let paired = pieces.contains(&Piece::Open(id));
            if paired {
                pieces.push(Piece::Open(id));
                pieces.push(Piece::Close(id));
            } else {
                pieces.push(Piece::Standalone(id));
            }
        }
        FaultKind::InventCode => {
            let id = ids.iter().max().map_or(99, |m| (m + 1).max(99));
            pieces.push(Piece::Standalone(id));
        }
        FaultKind::ReorderCodes => {
            let paired: Vec<u32> = pieces
                .iter()
                .filter_map(|p| if let Piece::Open(i) = p { Some(*i) } else { None })
                .collect();
            if !paired.is_empty() {
                // `</gN>…<gN>`: closed before it is opened.
                let id = paired[rng.random_range(0..paired.len())];
                for p in pieces.iter_mut() {
                    let swapped = match p {
                        Piece::Open(i) if *i == id => Piece::Close(id),
                        Piece::Close(i) if *i == id => Piece::Open(id),
                        _ => continue,
                    };
                    *p = swapped;
                }
            } else {
                // Two standalone codes swap places.
                let pos: Vec<usize> = pieces
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| matches!(p, Piece::Standalone(_)))
                    .map(|(i, _)| i)
                    .collect();
                pieces.swap(pos[0], pos[pos.len() - 1]);
            }
        }
        _ => {}
    }
}

/// Renders pieces like [`Content::render`], without checking them (faults break structure).
pub fn render_pieces(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(&escape_text(t)),
            Piece::Open(id) => out.push_str(&format!("<g{id}>")),
            Piece::Close(id) => out.push_str(&format!("</g{id}>")),
            Piece::Standalone(id) => out.push_str(&format!("<x{id}/>")),
        }
    }
    out
}
