//! The checks one answer entry must pass against its own source before it is used.
//!
//! Codes must be the source's, the text non-empty, free of thinking and chatter; beyond that a
//! real model's failures are caught here (issue 18): an entry that carries another segment's
//! source (a shifted or copied answer), a copy of its own source (kept and reported, never
//! silently accepted, short texts included), numbers, URLs and e-mail addresses of the source
//! missing from the answer, and a length outside a wide band (a runaway loop, or a fragment).

use std::collections::HashSet;

use tradia_core::quality::verbatim_token;
use tradia_core::{Content, MarkupError};

/// Why one segment's answer was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No entry for this id.
    Missing,
    /// Several different entries for this id.
    Duplicate,
    /// The answer's ids are not the request's (unknown, missing, repeated or shifted ids): no
    /// entry of it is trusted.
    Misaligned(String),
    /// The inline codes do not match the source's.
    InvalidCodes(MarkupError),
    /// Nothing translated where the source has text.
    Empty,
    /// The source returned unchanged.
    CopyOfSource,
    /// The text of another segment's source.
    ForeignSource,
    /// A number, URL or e-mail address of the source is absent from the answer.
    MissingVerbatim(String),
    /// Thinking or chatter inside the text.
    Thinking,
    /// The answer was cut (output limit) before this entry was complete.
    Truncated,
    /// Far longer than the source (a runaway or looping generation).
    TooLong,
    /// Far shorter than the source (a fragment).
    TooShort,
    /// The request failed or did not fit the context.
    RequestFailed(String),
}

impl Rejection {
    /// Stable code (also the [`tradia_core::KeptReason`] code when the source is kept).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Missing => "missing_answer",
            Rejection::Duplicate => "duplicate_answer",
            Rejection::Misaligned(_) => "misaligned_answer",
            Rejection::InvalidCodes(_) => "invalid_codes",
            Rejection::Empty => "empty_answer",
            Rejection::CopyOfSource => "copy_of_source",
            Rejection::ForeignSource => "foreign_source",
            Rejection::MissingVerbatim(_) => "missing_verbatim",
            Rejection::Thinking => "chatter",
            Rejection::Truncated => "truncated",
            Rejection::TooLong => "too_long",
            Rejection::TooShort => "too_short",
            Rejection::RequestFailed(_) => "request_failed",
        }
    }

    /// For people.
    pub fn message(&self) -> String {
        match self {
            Rejection::Missing => "the model did not answer this segment".into(),
            Rejection::Duplicate => {
                "the model answered this segment several times, differently".into()
            }
            Rejection::Misaligned(why) => {
                format!("the model's answer did not match the request's segments ({why})")
            }
            Rejection::InvalidCodes(e) => format!("the answer's inline codes are wrong: {e}"),
            Rejection::Empty => "the answer was empty".into(),
            Rejection::CopyOfSource => "the model returned the source text untranslated".into(),
            Rejection::ForeignSource => {
                "the model answered with the source text of another segment".into()
            }
            Rejection::MissingVerbatim(what) => {
                format!("the answer lost {what:?}, which the source has")
            }
            Rejection::Thinking => "the answer contained the model's thinking or comments".into(),
            Rejection::Truncated => "the answer was cut off (output limit reached)".into(),
            Rejection::TooLong => {
                "the answer was far longer than the source (runaway generation)".into()
            }
            Rejection::TooShort => "the answer was far shorter than the source".into(),
            Rejection::RequestFailed(m) => format!("the request failed: {m}"),
        }
    }
}

/// Preambles a model puts before a translation (never the start of a real one).
pub const CHATTER: &[&str] = &[
    "here is the translation",
    "here's the translation",
    "here is the translated",
    "translation:",
    "translated text:",
    "voici la traduction",
    "traduction :",
    "traduction:",
    "sure, here",
    "certainly! here",
];

/// What an entry is checked against besides its own source.
#[derive(Debug, Clone, Copy)]
pub struct EntryContext<'a> {
    /// Whether a copy of the source counts as a failure (source and target languages differ,
    /// or the source language is unknown).
    pub languages_differ: bool,
    /// The sources of the document's segments as the model saw them (rendered cores) and as
    /// plain text: an answer equal to one of them, other than its own, is another's source.
    pub sources: &'a HashSet<String>,
}

/// Checks one segment's answer against its source core, with no other segment to compare to.
/// `languages_differ`: whether a copy of the source counts as a failure.
pub fn check_answer(
    core: &Content,
    answer: &str,
    languages_differ: bool,
) -> Result<Content, Rejection> {
    let none = HashSet::new();
    check_entry(core, answer, &EntryContext { languages_differ, sources: &none })
}

/// Checks one segment's answer against its own source core and the document's other sources.
pub fn check_entry(
    core: &Content,
    answer: &str,
    ctx: &EntryContext<'_>,
) -> Result<Content, Rejection> {
    let lower = answer.to_lowercase();
    if lower.contains("<think>") || lower.contains("</think>") {
        return Err(Rejection::Thinking);
    }
    let head = lower.trim_start();
    let source_plain = core.plain_text();
    let source_head = source_plain.to_lowercase();
    if CHATTER.iter().any(|c| head.starts_with(c) && !source_head.trim_start().starts_with(c)) {
        return Err(Rejection::Thinking);
    }
    let parsed = Content::parse_answer(core, answer.trim()).map_err(Rejection::InvalidCodes)?;
    let plain = parsed.plain_text();
    if plain.trim().is_empty() && !source_plain.trim().is_empty() {
        return Err(Rejection::Empty);
    }
    let (src_len, out_len) = (weighted_len(&source_plain), weighted_len(&plain));
    if out_len > src_len * 4.0 + 60.0 {
        return Err(Rejection::TooLong);
    }
    if src_len >= 24.0 && out_len * 5.0 < src_len {
        return Err(Rejection::TooShort);
    }
    let own_rendered = core.render();
    let rendered = parsed.render();
    let (plain_t, source_t) = (plain.trim(), source_plain.trim());
    let foreign = (rendered != own_rendered && ctx.sources.contains(&rendered))
        || (plain_t != source_t && ctx.sources.contains(plain_t));
    if foreign {
        return Err(Rejection::ForeignSource);
    }
    if ctx.languages_differ && has_words(&source_plain) && letters(&plain) == letters(&source_plain)
    {
        return Err(Rejection::CopyOfSource);
    }
    if let Some(lost) = lost_verbatim(&source_plain, &plain) {
        return Err(Rejection::MissingVerbatim(lost));
    }
    Ok(parsed)
}

/// The keys under which a source goes into [`EntryContext::sources`]: its rendering and its
/// trimmed plain text.
pub(crate) fn source_keys(core: &Content) -> [String; 2] {
    [core.render(), core.plain_text().trim().to_string()]
}

/// Whether a text has words to translate: a token of two letters or more (apostrophes and
/// hyphens inside), with a vowel when it is in ASCII. Symbols, single letters, codes (`S1.1`),
/// TeX commands (`\pm`) and consonant clusters (`xx`, `PDF`) are not words: answering them
/// unchanged is no copy.
fn has_words(text: &str) -> bool {
    text.split_whitespace().any(|token| {
        let t = token.trim_matches(|c: char| !c.is_alphanumeric() && c != '\\');
        let letters = t.chars().filter(|c| c.is_alphabetic()).count();
        letters >= 2
            && !t.starts_with('\\')
            && t.chars().all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-'))
            && (!t.is_ascii() || t.chars().any(|c| "aeiouyAEIOUY".contains(c)))
    })
}

/// The letters of a text, in order, case kept: a copy differs from its source by spacing and
/// punctuation at most ("Merci beaucoup !" / "Merci beaucoup!").
fn letters(text: &str) -> Vec<char> {
    text.chars().filter(|c| c.is_alphabetic()).collect()
}

/// Length in Latin-character equivalents: a Han, kana or Hangul character carries about as
/// much as three Latin letters, so a Chinese answer to an English source is not "far shorter".
fn weighted_len(text: &str) -> f64 {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            let u = u32::from(c);
            let dense = (0x3040..=0x30ff).contains(&u)
                || (0x3400..=0x9fff).contains(&u)
                || (0xac00..=0xd7af).contains(&u)
                || (0xf900..=0xfaff).contains(&u);
            if dense { 3.0 } else { 1.0 }
        })
        .sum()
}

/// The first number, URL or e-mail address of `source` that `answer` lacks. Numbers compare
/// by their digit runs, so `1,000.5` matches `1 000,5` and a reordered date matches.
fn lost_verbatim(source: &str, answer: &str) -> Option<String> {
    let have = digit_runs(answer);
    for run in digit_runs(source) {
        if !have.contains(&run) {
            return Some(run);
        }
    }
    source
        .split_whitespace()
        .map(verbatim_token)
        .find(|t| !t.is_empty() && !answer.contains(*t))
        .map(str::to_string)
}

fn digit_runs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Content {
        Content::parse(s).unwrap()
    }

    #[test]
    fn answers_are_checked() {
        let core = c("Lisez le <g1>guide</g1> <x2/>.");
        assert!(check_answer(&core, "Read the <g1>guide</g1> <x2/>.", true).is_ok());
        assert!(matches!(
            check_answer(&core, "Read the guide <x2/>.", true),
            Err(Rejection::InvalidCodes(_))
        ));
        assert!(matches!(check_answer(&core, "<g1></g1><x2/>", true), Err(Rejection::Empty)));
        assert_eq!(
            check_answer(&core, "Lisez le <g1>guide</g1> <x2/>.", true),
            Err(Rejection::CopyOfSource)
        );
        assert!(check_answer(&core, "Lisez le <g1>guide</g1> <x2/>.", false).is_ok());
        assert_eq!(
            check_answer(&core, "<think></think>Read <g1>it</g1><x2/>", true),
            Err(Rejection::Thinking)
        );
    }

    #[test]
    fn short_copies_are_copies_whatever_the_spacing() {
        let core = c("Merci beaucoup !");
        assert_eq!(check_answer(&core, "Merci beaucoup !", true), Err(Rejection::CopyOfSource));
        assert_eq!(check_answer(&core, "Merci beaucoup!", true), Err(Rejection::CopyOfSource));
        assert!(check_answer(&core, "Thank you very much!", true).is_ok());
        // Case counts as a change: "MERCI" is not the source's letters.
        assert!(check_answer(&core, "MERCI BEAUCOUP !", true).is_ok());
        for no_words in ["S1.1", "xx", "\\pm", "Q", "PDF", "(2015)"] {
            assert!(check_answer(&c(no_words), no_words, true).is_ok(), "{no_words}");
        }
        assert_eq!(check_answer(&c("Moodle"), "Moodle", true), Err(Rejection::CopyOfSource));
        assert_eq!(check_answer(&c("Привет"), "Привет", true), Err(Rejection::CopyOfSource));
    }

    #[test]
    fn another_segments_source_is_refused() {
        let one = c("Premier paragraphe du texte.");
        let two = c("Deuxième paragraphe du texte.");
        let sources: HashSet<String> = [&one, &two].iter().flat_map(|c| source_keys(c)).collect();
        let ctx = EntryContext { languages_differ: true, sources: &sources };
        assert_eq!(
            check_entry(&two, "Premier paragraphe du texte.", &ctx),
            Err(Rejection::ForeignSource)
        );
        assert_eq!(
            check_entry(&two, "Deuxième paragraphe du texte.", &ctx),
            Err(Rejection::CopyOfSource)
        );
        assert!(check_entry(&two, "Second paragraph of the text.", &ctx).is_ok());
    }

    #[test]
    fn numbers_urls_and_addresses_must_survive() {
        let core = c("Le 12 mars 2024, 1 000,5 € ; voir https://example.org/a?b=1 ou a.b@c.fr.");
        assert!(
            check_answer(
                &core,
                "On March 12, 2024, €1,000.5; see https://example.org/a?b=1 or a.b@c.fr.",
                true
            )
            .is_ok()
        );
        assert_eq!(
            check_answer(
                &core,
                "On March 13, 2024, €1,000.5; see https://example.org/a?b=1 or a.b@c.fr.",
                true
            ),
            Err(Rejection::MissingVerbatim("12".into()))
        );
        assert_eq!(
            check_answer(&core, "On March 12, 2024, €1,000.5; see the site or a.b@c.fr.", true),
            Err(Rejection::MissingVerbatim("https://example.org/a?b=1".into()))
        );
    }

    #[test]
    fn the_length_band_is_wide_and_counts_dense_scripts() {
        let core = c("Ce paragraphe est assez long pour que sa longueur compte vraiment ici.");
        assert_eq!(check_answer(&core, "This.", true), Err(Rejection::TooShort));
        assert!(check_answer(&core, "这一段足够长所以它的长度真的很重要。", true).is_ok());
        let long = "loop ".repeat(80);
        assert_eq!(check_answer(&core, &long, true), Err(Rejection::TooLong));
        // Short sources have no lower bound: "Oui." → "Yes.".
        assert!(check_answer(&c("D'accord, merci."), "OK.", true).is_ok());
    }
}
