//! The document's notes for translators on the wire: what [`tradia_core::Guidance::notes`]
//! holds for a unit's segment, bounded, as `segments[].note` of the batch request (WIRE.md §1).
//!
//! A note travels in the user message with its segment, never in the system message (which
//! stays byte-identical for the servers' prompt cache). It is cut at [`MAX_NOTE_CHARS`] so that
//! a file with long comments cannot crowd its segments out of the context. Two segments with
//! the same text and different notes are different units (the note may be what tells "Open" the
//! verb from "Open" the state), so the note is part of the key that merges identical sources.

use tradia_core::{Guidance, SegmentId};

/// Longest note sent, in characters (a longer one is cut and ends with `…`).
pub(super) const MAX_NOTE_CHARS: usize = 500;

/// The note of segment `id`, trimmed and bounded; `None` when it has none or it is blank.
pub(super) fn for_segment(guidance: &Guidance, id: SegmentId) -> Option<String> {
    let note = guidance.notes.get(&id)?.trim();
    if note.is_empty() {
        return None;
    }
    if note.chars().count() <= MAX_NOTE_CHARS {
        return Some(note.to_string());
    }
    let mut cut: String = note.chars().take(MAX_NOTE_CHARS - 1).collect();
    cut.push('…');
    Some(cut)
}

/// Bytes a note adds to a request (for the prompt budget).
pub(super) fn wire_len(note: Option<&str>) -> usize {
    note.map_or(0, |n| n.len() + 12)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn notes_are_trimmed_bounded_and_blank_ones_dropped() {
        let long = "n".repeat(MAX_NOTE_CHARS + 40);
        let guidance = Guidance {
            notes: BTreeMap::from([
                (1, "  Button label, at most 12 characters \n".to_string()),
                (2, "   ".to_string()),
                (3, long),
            ]),
            ..Guidance::default()
        };
        assert_eq!(
            for_segment(&guidance, 1).as_deref(),
            Some("Button label, at most 12 characters")
        );
        assert_eq!(for_segment(&guidance, 2), None);
        assert_eq!(for_segment(&guidance, 4), None);
        let cut = for_segment(&guidance, 3).unwrap();
        assert_eq!(cut.chars().count(), MAX_NOTE_CHARS);
        assert!(cut.ends_with('…'));
    }
}
