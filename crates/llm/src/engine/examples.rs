//! Translation-memory examples on the wire: what [`tradia_core::Guidance::examples`] holds for a
//! unit's segments, bounded, as `segments[].examples` of the batch request (WIRE.md §1).
//!
//! Kept apart from the batching code so that the examples' shape and bounds live in one place:
//! a few per segment, each side at most [`MAX_EXAMPLE_CHARS`], so examples can never crowd a
//! batch out of the context.

use tradia_core::{Guidance, Segment};

use crate::prompt::WireExample;

/// Examples per segment on the wire at most.
pub(super) const MAX_EXAMPLES: usize = 3;
/// Longest example side sent, in characters (longer examples are left out).
pub(super) const MAX_EXAMPLE_CHARS: usize = 1000;

/// The examples of the first of `members` that has some, best first, bounded.
pub(super) fn for_members(guidance: &Guidance, members: &[(usize, &Segment)]) -> Vec<WireExample> {
    let Some(examples) = members.iter().find_map(|(_, s)| guidance.examples.get(&s.id)) else {
        return Vec::new();
    };
    examples
        .iter()
        .map(|e| WireExample { source: e.source.render(), target: e.target.render() })
        .filter(|e| {
            e.source.chars().count() <= MAX_EXAMPLE_CHARS
                && e.target.chars().count() <= MAX_EXAMPLE_CHARS
        })
        .take(MAX_EXAMPLES)
        .collect()
}

/// Bytes the examples add to a request (for the prompt budget).
pub(super) fn wire_len(examples: &[WireExample]) -> usize {
    examples.iter().map(|e| e.source.len() + e.target.len() + 24).sum()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tradia_core::{Content, Example};

    use super::*;

    #[test]
    fn examples_are_bounded_and_taken_from_the_first_member_that_has_some() {
        let seg = |id| Segment {
            id,
            content: Content::text("x"),
            location: String::new(),
            field: String::new(),
        };
        let (a, b) = (seg(1), seg(2));
        let ex =
            |s: &str| Example { source: Content::text(s), target: Content::text("t"), score: 0.9 };
        let long = "l".repeat(MAX_EXAMPLE_CHARS + 1);
        let guidance = Guidance {
            examples: BTreeMap::from([(
                2,
                vec![ex("one"), ex(&long), ex("two"), ex("three"), ex("four")],
            )]),
            ..Guidance::default()
        };
        let got = for_members(&guidance, &[(0, &a), (1, &b)]);
        let sources: Vec<&str> = got.iter().map(|e| e.source.as_str()).collect();
        assert_eq!(sources, ["one", "two", "three"]);
        assert!(for_members(&guidance, &[(0, &a)]).is_empty());
    }
}
