//! Whether a batch answer's entries can be matched to the request's segments at all.
//!
//! A real small model shifts every id by one, invents ids, leaves some out or repeats them
//! (issue 18: 21 of 443 answers shifted, 50 with unknown ids, 32 with ids left out). Matching
//! such an answer by id puts one segment's translation into another. So an answer is trusted
//! only as a whole: its id set must be exactly the request's (in any order, each once), or, when
//! the output was cut at the limit, the request's first ids in order. A single-segment request
//! needs no id: its one entry is its answer. Anything else is [`Alignment::Misaligned`] and
//! every segment of it is asked again in smaller requests.

use std::collections::{HashMap, HashSet};

use super::ParsedAnswer;

/// How an answer lines up with the ids of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alignment {
    /// One text per requested id, in the request's order.
    Aligned(Vec<String>),
    /// A cut answer: texts of the request's first ids, in order (fewer than requested).
    Prefix(Vec<String>),
    /// No entry at all.
    Empty,
    /// The ids do not match the request's: nothing in it is trusted. Says how.
    Misaligned(String),
}

/// Aligns `parsed` with the ids the request sent, in order. `truncated`: the output hit its
/// limit, so entries may be missing at the end.
pub fn align(request_ids: &[String], parsed: &ParsedAnswer, truncated: bool) -> Alignment {
    let entries = &parsed.entries;
    if entries.is_empty() {
        return Alignment::Empty;
    }
    if request_ids.len() == 1 {
        // One segment: no id is needed to know whose answer it is, unless it is several.
        let first = &entries[0].1;
        return if entries.iter().all(|(_, t)| t == first) {
            Alignment::Aligned(vec![first.clone()])
        } else {
            Alignment::Misaligned(format!("{} different entries for one segment", entries.len()))
        };
    }
    let wanted: HashSet<&str> = request_ids.iter().map(String::as_str).collect();
    let mut seen: HashMap<&str, &str> = HashMap::new();
    let mut unknown = Vec::new();
    let mut repeated = Vec::new();
    for (id, text) in entries {
        if !wanted.contains(id.as_str()) {
            unknown.push(id.as_str());
        } else if seen.insert(id.as_str(), text.as_str()).is_some() {
            repeated.push(id.as_str());
        }
    }
    let missing: Vec<&str> =
        request_ids.iter().map(String::as_str).filter(|id| !seen.contains_key(id)).collect();
    if unknown.is_empty() && repeated.is_empty() {
        if missing.is_empty() {
            return Alignment::Aligned(
                request_ids.iter().map(|id| seen[id.as_str()].to_string()).collect(),
            );
        }
        let in_order = entries.iter().zip(request_ids).all(|((got, _), want)| got == want);
        if truncated && in_order {
            return Alignment::Prefix(entries.iter().map(|(_, t)| t.clone()).collect());
        }
    }
    let mut how = Vec::new();
    for (what, ids) in [("unknown", &unknown), ("repeated", &repeated), ("missing", &missing)] {
        if !ids.is_empty() {
            let shown: Vec<&str> = ids.iter().take(5).copied().collect();
            how.push(format!("{what} ids {}", shown.join(", ")));
        }
    }
    if how.is_empty() {
        how.push("entries out of order in a cut answer".to_string());
    }
    Alignment::Misaligned(how.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::parse_translations;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn answer(entries: &[(&str, &str)]) -> ParsedAnswer {
        let list: Vec<serde_json::Value> =
            entries.iter().map(|(i, t)| serde_json::json!({"id": i, "text": t})).collect();
        parse_translations(&serde_json::json!({ "translations": list }).to_string())
    }

    #[test]
    fn the_same_id_set_in_any_order_is_aligned() {
        let a = answer(&[("2", "b"), ("1", "a")]);
        assert_eq!(align(&ids(&["1", "2"]), &a, false), Alignment::Aligned(ids(&["a", "b"])));
    }

    #[test]
    fn shifted_unknown_missing_and_repeated_ids_are_misaligned() {
        let req = ids(&["1", "2", "3"]);
        for bad in [
            answer(&[("2", "a"), ("3", "b"), ("4", "c")]),
            answer(&[("2", "b"), ("3", "c")]),
            answer(&[("1", "a"), ("2", "b"), ("3", "c"), ("9", "x")]),
            answer(&[("1", "a"), ("2", "b"), ("2", "b"), ("3", "c")]),
        ] {
            assert!(matches!(align(&req, &bad, false), Alignment::Misaligned(_)), "{bad:?}");
        }
        let Alignment::Misaligned(how) = align(&req, &answer(&[("2", "a"), ("3", "b")]), false)
        else {
            panic!()
        };
        assert_eq!(how, "missing ids 1");
    }

    #[test]
    fn a_cut_answer_is_trusted_only_as_a_prefix() {
        let req = ids(&["1", "2", "3"]);
        let cut = answer(&[("1", "a"), ("2", "b")]);
        assert_eq!(align(&req, &cut, true), Alignment::Prefix(ids(&["a", "b"])));
        assert!(matches!(align(&req, &cut, false), Alignment::Misaligned(_)));
        let shifted = answer(&[("2", "a"), ("3", "b")]);
        assert!(matches!(align(&req, &shifted, true), Alignment::Misaligned(_)));
    }

    #[test]
    fn a_single_segment_needs_no_id() {
        let req = ids(&["7"]);
        assert_eq!(align(&req, &answer(&[("8", "a")]), false), Alignment::Aligned(ids(&["a"])));
        assert!(matches!(
            align(&req, &answer(&[("7", "a"), ("8", "b")]), false),
            Alignment::Misaligned(_)
        ));
        assert_eq!(align(&req, &answer(&[]), false), Alignment::Empty);
    }
}
