//! The fuzzy index's terms: which words of a source are indexed, the keys they are stored
//! under, and which of a segment's terms are looked up.
//!
//! Why a word index rather than trigrams: a near-identical sentence shares most of its *words*
//! with the entry it resembles, and a word that few entries contain says much more than a
//! character trigram that half the memory contains. The FTS5 trigram index (and pg_trgm's GIN
//! index) had to intersect or count long posting lists of common trigrams: 96 ms p50 at
//! 100,000 entries. Here each entry's distinct terms go into a plain posting table
//! (`memory_postings (term_key, entry_id)`) and each term's document frequency into
//! `memory_term_df`; a lookup reads the frequencies of the segment's terms, keeps its
//! *rarest* few ([`choose`]), reads their posting lists (one row per term: its ids in one value,
//! newest first, at most their share of [`POSTINGS_CAP`]) and counts here, per entry, how many
//! of them it contains ([`best_sharing`]; the database's `GROUP BY` over the same postings cost
//! 4 to 10 times more, building a temporary table of every posting). Only the entries sharing
//! the most are fetched whole and ranked by [`tradia_core::memory::similarity`]. The same
//! tables and the same choice on SQLite and PostgreSQL; the tables are kept by triggers from
//! the entry's `terms` column, so every deletion (a purge, a job's, a user's cascade) removes
//! its postings too.
//!
//! A term key is the first 8 bytes of the SHA-256 of (scope id, languages, term): a scope's
//! postings and frequencies are its own (a common word elsewhere does not make a lookup here
//! slower), and the tables hold no text. Two terms sharing a key only add candidates: the
//! entries fetched are still filtered by scope and languages, so a collision can never leak.
//!
//! Measured (`TRADIA_BENCH_ENTRIES=1000000 cargo test -p tradia-store --release --test
//! memory_bench -- --ignored --nocapture`, one memory of 1,000,000 entries, this project's
//! 2-core machine with nothing else running, two runs): SQLite exact p50 0.11 ms / p99
//! 0.21–0.34 ms, fuzzy p50 0.85–0.96 ms / p99 1.8–2.4 ms, the original among the candidates of
//! a one-word variant in 990 of 1,000; PostgreSQL exact 0.19–0.25 / 0.44–0.52 ms, fuzzy
//! 1.4–1.5 / 3.4–4.2 ms (990 of 1,000; 3.2–3.6 ms p99 right after a `VACUUM`), 11,200
//! entries/s written, its tables vacuumed by the store every 100,000 entries
//! (`postgres/memory.rs`), all the chosen terms' postings read in one statement. Before the
//! counting moved here: SQLite fuzzy p99 9–11 ms; before PostgreSQL read the terms in one
//! round trip (one statement per term, ids as text): its fuzzy p99 5.3 ms.
//!
//! Terms: lower-cased runs of letters and digits of at least two characters; in scripts
//! written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar) each pair of neighbouring
//! characters, so that a Chinese sentence is not one single "word". At most [`MAX_TERMS`]
//! distinct terms per text (the first ones), so a 64 KiB entry costs what a paragraph does.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Distinct terms indexed (or looked up) per text, the first ones in text order.
pub(crate) const MAX_TERMS: usize = 64;

/// Terms a lookup reads the postings of, at most: its rarest.
const LOOKUP_TERMS: usize = 5;

/// Terms a lookup reads the postings of, at least (when the segment has them), whatever their
/// frequencies: with a single term, every entry containing it ties, and at 1,000,000 entries
/// the one sought was then missed in 4.6 % of the benchmark's lookups.
const MIN_LOOKUP_TERMS: usize = 2;

/// Postings the chosen terms may add up to before no further term is taken.
const POSTINGS_BUDGET: i64 = 6_000;

/// Postings a lookup reads at most, whatever its terms (a segment of common words only).
const POSTINGS_CAP: i64 = 12_000;

/// Entries fetched whole and ranked, at least (the best-sharing ones).
pub(crate) const RANKED_CANDIDATES: usize = 20;

/// Whether `c` belongs to a script written without spaces between words.
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF // Thai, Lao
        | 0x1000..=0x109F // Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0x20000..=0x2FFFF // CJK extensions B and later
    )
}

/// The distinct terms of `text`, in text order, at most [`MAX_TERMS`].
pub(crate) fn terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let push = |term: String, out: &mut Vec<String>| {
        if out.len() < MAX_TERMS && !out.contains(&term) {
            out.push(term);
        }
    };
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let lower = word.to_lowercase();
        let chars: Vec<char> = lower.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let kind = unspaced(chars[i]);
            let start = i;
            while i < chars.len() && unspaced(chars[i]) == kind {
                i += 1;
            }
            let run = &chars[start..i];
            if kind {
                if run.len() == 1 {
                    push(run.iter().collect(), &mut out);
                }
                for pair in run.windows(2) {
                    push(pair.iter().collect(), &mut out);
                }
            } else if run.len() >= 2 {
                push(run.iter().collect(), &mut out);
            }
        }
        if out.len() >= MAX_TERMS {
            break;
        }
    }
    out
}

/// The key of `term` in the memory of `scope` for a language pair.
fn term_key(scope: Uuid, source_lang: &str, target_lang: &str, term: &str) -> i64 {
    let mut hash = Sha256::new();
    hash.update(scope.as_bytes());
    for part in [source_lang, target_lang, term] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// The distinct keys of the terms of `text` (the normalised plain source) in one scope's memory
/// for a language pair.
pub(crate) fn term_keys(scope: Uuid, source_lang: &str, target_lang: &str, text: &str) -> Vec<i64> {
    let mut keys: Vec<i64> = Vec::new();
    for term in terms(text) {
        let key = term_key(scope, source_lang, target_lang, &term);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// Keys as a JSON array (how SQLite's `terms` column and statements take them).
pub(crate) fn keys_json(keys: &[i64]) -> String {
    let items: Vec<String> = keys.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(","))
}

/// The terms a lookup reads, and how many of them a candidate must contain.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Chosen {
    /// Their keys, rarest first.
    pub keys: Vec<i64>,
    /// A candidate contains at least this many of them (half, rounded up).
    pub min_shared: usize,
    /// Postings read of each term (the newest), in the order of `keys`: all of them, except
    /// when the terms together have more than [`POSTINGS_CAP`], which is then shared out.
    pub limits: Vec<i64>,
}

/// The rarest of a segment's terms the memory holds, from their document frequencies
/// (`(key, df)`, terms absent from the memory left out): at least [`MIN_LOOKUP_TERMS`], then
/// up to [`LOOKUP_TERMS`] while their postings stay within [`POSTINGS_BUDGET`]. `None` when the
/// memory holds none of them.
pub(crate) fn choose(mut frequencies: Vec<(i64, i64)>) -> Option<Chosen> {
    frequencies.retain(|(_, df)| *df > 0);
    frequencies.sort_by_key(|&(key, df)| (df, key));
    let mut taken: Vec<(i64, i64)> = Vec::new();
    let mut postings = 0;
    for (key, df) in frequencies {
        if taken.len() == LOOKUP_TERMS
            || (taken.len() >= MIN_LOOKUP_TERMS && postings + df > POSTINGS_BUDGET)
        {
            break;
        }
        taken.push((key, df));
        postings += df;
    }
    if taken.is_empty() {
        return None;
    }
    // Shared out rarest first: a term under its share leaves the rest to the commoner ones.
    let mut left = POSTINGS_CAP;
    let mut limits = Vec::with_capacity(taken.len());
    for (i, (_, df)) in taken.iter().enumerate() {
        let share = left / (taken.len() - i) as i64;
        let limit = (*df).min(share);
        limits.push(limit);
        left -= limit;
    }
    let min_shared = taken.len().div_ceil(2);
    Some(Chosen { keys: taken.into_iter().map(|(key, _)| key).collect(), min_shared, limits })
}

/// The ids of the `n` entries appearing in the most of `lists` (the postings read, one list per
/// term, each without repeats), at least `min_shared` of them; ties go to the newest (highest
/// id). Counted here rather than by the database's `GROUP BY`: sorting a few thousand integers
/// costs microseconds, where a grouped statement built a temporary table of every posting.
pub(crate) fn best_sharing(lists: Vec<Vec<i64>>, min_shared: usize, n: usize) -> Vec<i64> {
    let mut all: Vec<i64> = lists.into_iter().flatten().collect();
    all.sort_unstable();
    let mut counted: Vec<(usize, i64)> = Vec::new();
    for run in all.chunk_by(|a, b| a == b) {
        if run.len() >= min_shared {
            counted.push((run.len(), run[0]));
        }
    }
    counted.sort_unstable_by(|a, b| b.cmp(a));
    counted.into_iter().take(n).map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_lowercased_distinct_words_and_pairs_in_unspaced_scripts() {
        assert_eq!(
            terms("Le chat, le CHAT à 12 h : l'été."),
            vec!["le", "chat", "12", "été"],
            "one-character words are left out"
        );
        assert_eq!(terms("東京都に行く"), vec!["東京", "京都", "都に", "に行", "行く"]);
        assert_eq!(terms("Tokyo 東"), vec!["tokyo", "東"]);
        assert!(terms("a b c -- !").is_empty());
        let long: String = (0..500).map(|i| format!("w{i} ")).collect();
        assert_eq!(terms(&long).len(), MAX_TERMS);
        assert_eq!(terms(&long)[0], "w0");
    }

    #[test]
    fn keys_belong_to_a_scope_and_a_pair() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let key = |scope, sl, tl| term_keys(scope, sl, tl, "chat");
        assert_eq!(key(a, "fr", "en"), key(a, "fr", "en"));
        assert_ne!(key(a, "fr", "en"), key(b, "fr", "en"));
        assert_ne!(key(a, "fr", "en"), key(a, "fr", "de"));
        // The separators keep the parts apart.
        assert_ne!(term_keys(a, "fr", "en", "xy"), term_keys(a, "f", "ren", "xy"));
        assert_eq!(term_keys(a, "fr", "en", "Le chat le").len(), 2);
        assert_eq!(keys_json(&[1, -2]), "[1,-2]");
        assert_eq!(keys_json(&[]), "[]");
    }

    #[test]
    fn the_rarest_terms_are_chosen_within_the_budget() {
        let chosen = choose(vec![(1, 900_000), (2, 40), (3, 0), (4, 300), (5, 2_000)]).unwrap();
        assert_eq!(
            chosen,
            Chosen { keys: vec![2, 4, 5], min_shared: 2, limits: vec![40, 300, 2_000] }
        );
        let many: Vec<(i64, i64)> = (0..10).map(|k| (k, 10 + k)).collect();
        assert_eq!(choose(many).unwrap().keys, vec![0, 1, 2, 3, 4]);
        // Two terms even beyond the budget, the cap shared out between them; a third only
        // within the budget.
        let common = choose(vec![(7, 50_000), (8, 60_000), (9, 70_000)]).unwrap();
        let half = POSTINGS_CAP / 2;
        assert_eq!(common, Chosen { keys: vec![7, 8], min_shared: 1, limits: vec![half, half] });
        // A rare term leaves the rest of the cap to the common one.
        let mixed = choose(vec![(1, 100), (2, 80_000)]).unwrap();
        assert_eq!(mixed.limits, vec![100, POSTINGS_CAP - 100]);
        assert_eq!(choose(vec![(1, 5_000), (2, 5_500), (3, 5_600)]).unwrap().keys, vec![1, 2]);
        assert_eq!(
            choose(vec![(1, 30)]).unwrap(),
            Chosen { keys: vec![1], min_shared: 1, limits: vec![30] }
        );
        assert_eq!(choose(vec![(1, 0)]), None);
        assert_eq!(choose(Vec::new()), None);
    }

    #[test]
    fn the_entries_sharing_the_most_terms_come_first_then_the_newest() {
        let lists = vec![vec![9, 4, 2], vec![8, 4, 3, 2], vec![4, 3, 1]];
        assert_eq!(best_sharing(lists.clone(), 1, 10), vec![4, 3, 2, 9, 8, 1]);
        assert_eq!(best_sharing(lists.clone(), 2, 10), vec![4, 3, 2]);
        assert_eq!(best_sharing(lists.clone(), 2, 2), vec![4, 3]);
        assert_eq!(best_sharing(lists, 4, 10), Vec::<i64>::new());
        assert_eq!(best_sharing(Vec::new(), 1, 10), Vec::<i64>::new());
    }
}
