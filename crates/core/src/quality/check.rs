//! The post-check of one finished segment: flags for the quality report, never a rejection.
//!
//! The LLM engine refuses answers that are plainly broken (`tradia_llm::answer::check`); this
//! check only *reports*, with rules meant for a reader rather than for a retry:
//!
//! - **Numbers** of the source must appear in the translation, compared by *value as digits*:
//!   a number is a run of digits (any script's decimal digits: `٣` is `3`) in which `.`, `,`
//!   and the Arabic decimal sign may separate digits, and a space (also no-break, narrow
//!   no-break, thin), `'` or `’` may separate groups of exactly three digits; the number's key is
//!   its digits with the separators and leading zeros removed. So `1,000.5`, `1 000,5` and
//!   `1000.5` are the same number, and so are `2,5` and `2.5` (the decimal comma of French,
//!   German…): a translation that rewrites a number in its language's convention is not flagged.
//!   The price is that `1.5` and `15` compare equal too; the check never cries wolf over a
//!   separator, and a changed digit is always seen. `2,50` and `2.5` differ (a trailing zero).
//! - **URLs and e-mail addresses** (`http://`, `https://`, `www.`, `user@host.tld`) of the
//!   source must appear unchanged in the translation.
//! - **Length**: the translation's length (in Latin-letter equivalents: a Han, kana or Hangul
//!   character counts three) over the source's is compared with what the language pair leads to
//!   expect ([`expected_length_percent`]); outside half to twice that, for sources of at least
//!   [`MIN_LENGTH_CHECKED`] characters, it is flagged.
//! - **Same as source**: when the languages differ (or the source language is unknown), a
//!   translation with exactly the source's letters (spacing and punctuation aside) of a source
//!   that has words is flagged.
//!
//! A kept segment is not checked: its content *is* the source, and its kept reason says why.

use std::collections::BTreeSet;

use crate::guidance::SegmentFlag;
use crate::lang::LanguageTag;
use crate::segment::{Segment, SegmentResult};

/// Sources shorter than this (in Latin-letter equivalents) have no length check: "OK" for
/// "D'accord" is a fine translation.
pub const MIN_LENGTH_CHECKED: f64 = 20.0;

/// At most this many number or URL flags per segment (a table row of figures stays readable).
const MAX_VERBATIM_FLAGS: usize = 5;

/// The flags the post-check raises for `target`, the translation of `source`.
pub fn post_check(
    source: &str,
    target: &str,
    source_lang: Option<&LanguageTag>,
    target_lang: &LanguageTag,
) -> Vec<SegmentFlag> {
    let mut flags = Vec::new();
    let have: BTreeSet<String> = numbers(target).into_iter().map(|(_, key)| key).collect();
    let mut seen = BTreeSet::new();
    for (raw, key) in numbers(source) {
        if !have.contains(&key) && seen.insert(key) && flags.len() < MAX_VERBATIM_FLAGS {
            flags.push(SegmentFlag::NumberMissing { value: raw });
        }
    }
    let mut urls = 0;
    for url in source.split_whitespace().map(verbatim_token) {
        if !url.is_empty() && !target.contains(url) && urls < MAX_VERBATIM_FLAGS {
            urls += 1;
            flags.push(SegmentFlag::UrlMissing { url: url.to_string() });
        }
    }
    let src_len = weighted_len(source);
    if src_len >= MIN_LENGTH_CHECKED {
        let expected = expected_length_percent(source_lang, target_lang);
        let ratio = weighted_len(target) * 100.0 / src_len;
        let e = f64::from(expected);
        if ratio < e / 2.0 || ratio > e * 2.0 {
            let ratio_percent = ratio.round().clamp(0.0, f64::from(u16::MAX)) as u16;
            flags.push(SegmentFlag::LengthOff { ratio_percent, expected_percent: expected });
        }
    }
    let languages_differ = source_lang.is_none_or(|s| !s.same_language(target_lang));
    if languages_differ && has_words(source) && letters(source) == letters(target) {
        flags.push(SegmentFlag::SameAsSource);
    }
    flags
}

/// Adds the post-check's flags to `result`, the translation of `segment` (none to a kept
/// segment, and none already there).
pub fn annotate(
    segment: &Segment,
    result: &mut SegmentResult,
    source_lang: Option<&LanguageTag>,
    target_lang: &LanguageTag,
) {
    if result.kept.is_some() {
        return;
    }
    let (source, target) = (segment.content.plain_text(), result.content.plain_text());
    for flag in post_check(&source, &target, source_lang, target_lang) {
        if !result.flags.contains(&flag) {
            result.flags.push(flag);
        }
    }
}

/// The length a translation from `source` to `target` is expected to have, as a percentage
/// of the source's (100 when a language is unknown). Rough figures of text expansion relative
/// to English, as localisation guides give them, measured in Latin-letter equivalents; the
/// band around them is wide (half to twice).
pub fn expected_length_percent(source: Option<&LanguageTag>, target: &LanguageTag) -> u16 {
    let factor = |lang: Option<&LanguageTag>| match lang.map(LanguageTag::primary) {
        Some("fr" | "es" | "pt" | "nl" | "ca") => 115.0,
        Some("de" | "fi" | "el") => 120.0,
        Some("it" | "ru" | "pl" | "uk" | "cs" | "tr") => 110.0,
        Some("ar" | "fa") => 90.0,
        Some("he") => 80.0,
        Some("zh") => 90.0,
        Some("ja") => 120.0,
        Some("ko") => 150.0,
        _ => 100.0,
    };
    let percent: f64 = factor(Some(target)) / factor(source) * 100.0;
    percent.round() as u16
}

/// A character's value as a decimal digit, in any of the scripts whose digits models write
/// (ASCII, Arabic-Indic, Eastern Arabic-Indic, Devanagari, Bengali, full width).
fn digit(c: char) -> Option<char> {
    if c.is_ascii_digit() {
        return Some(c);
    }
    let zero = match u32::from(c) {
        0x0660..=0x0669 => 0x0660,
        0x06f0..=0x06f9 => 0x06f0,
        0x0966..=0x096f => 0x0966,
        0x09e6..=0x09ef => 0x09e6,
        0xff10..=0xff19 => 0xff10,
        _ => return None,
    };
    char::from_digit(u32::from(c) - zero, 10)
}

/// Separates digits anywhere in a number: the decimal point or comma (or a group separator in
/// another convention), the Arabic decimal separator.
fn is_point(c: char) -> bool {
    matches!(c, '.' | ',' | '\u{066b}')
}

/// Separates groups of three digits: spaces (no-break, narrow no-break, thin), apostrophes
/// (Swiss), the Arabic thousands separator.
fn is_group_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\'' | '’' | '\u{066c}')
}

/// The numbers of a text: each as written, and its key (see the module documentation).
fn numbers(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        loop {
            while let Some(d) = chars.get(i).copied().and_then(digit) {
                digits.push(d);
                i += 1;
            }
            let Some(&sep) = chars.get(i) else { break };
            let run = chars[i + 1..].iter().take_while(|c| digit(**c).is_some()).count();
            let joins = run > 0 && (is_point(sep) || (is_group_space(sep) && run == 3));
            if !joins {
                break;
            }
            i += 1;
        }
        let raw: String = chars[start..i].iter().collect();
        let key = digits.trim_start_matches('0');
        out.push((raw, if key.is_empty() { "0".to_string() } else { key.to_string() }));
    }
    out
}

/// The URL or e-mail address a whitespace-separated word is, without surrounding punctuation;
/// empty when it is neither. Shared with the LLM engine's answer check, which refuses an answer
/// that lost one, so that both agree on what a URL is.
pub fn verbatim_token(word: &str) -> &str {
    let t = word
        .trim_start_matches(['(', '[', '<', '«', '"', '\''])
        .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '>', '»', '"', '\'']);
    let lower = t.to_ascii_lowercase();
    let url =
        lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.");
    let email = t.split_once('@').is_some_and(|(user, host)| {
        !user.is_empty() && host.contains('.') && !host.starts_with('.') && !host.ends_with('.')
    });
    if url || email { t } else { "" }
}

/// Length in Latin-character equivalents, whitespace aside (a Han, kana or Hangul character
/// counts three).
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

/// Whether a text has words to translate: a token of two letters or more, with a vowel when
/// it is ASCII (codes such as `S1.1`, `PDF` or `\pm` are not words: kept as they are, they are
/// no copy).
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

/// The letters of a text, in order, case kept.
fn letters(text: &str) -> Vec<char> {
    text.chars().filter(|c| c.is_alphabetic()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(tag: &str) -> LanguageTag {
        LanguageTag::parse(tag).unwrap()
    }

    fn check(source: &str, target: &str, from: &str, to: &str) -> Vec<SegmentFlag> {
        post_check(source, target, Some(&lang(from)), &lang(to))
    }

    #[test]
    fn a_faithful_translation_raises_nothing() {
        let flags = check(
            "Le 12 mars 2024, 1 000,5 € ont été versés ; voir https://example.org/a?b=1.",
            "On 12 March 2024, €1,000.5 was paid; see https://example.org/a?b=1.",
            "fr",
            "en",
        );
        assert_eq!(flags, vec![]);
    }

    #[test]
    fn a_number_rewritten_in_the_target_convention_is_the_same_number() {
        for (en, fr) in [
            ("It costs 2.5 euros.", "Cela coûte 2,5 euros."),
            ("1,000,000 people came.", "1 000 000 personnes sont venues."),
            ("1,000,000 people came.", "1\u{202f}000\u{202f}000 personnes sont venues."),
            ("The value is 1000.5 here.", "La valeur est 1 000,5 ici."),
            ("Version 1.2.3 is out.", "La version 1.2.3 est sortie."),
            ("See chapter 07.", "Voir le chapitre 7."),
        ] {
            assert_eq!(check(en, fr, "en", "fr"), vec![], "{en} → {fr}");
        }
        // Arabic-Indic digits are digits.
        assert_eq!(check("Page 12 of 30.", "الصفحة ١٢ من ٣٠.", "en", "ar"), vec![]);
    }

    #[test]
    fn a_lost_or_changed_number_is_flagged() {
        assert_eq!(
            check("Le 12 mars 2024.", "On 13 March 2024.", "fr", "en"),
            vec![SegmentFlag::NumberMissing { value: "12".into() }]
        );
        assert_eq!(
            check("Il y a 1 000,5 litres.", "There are 1,000.6 litres.", "fr", "en"),
            vec![SegmentFlag::NumberMissing { value: "1 000,5".into() }]
        );
        // Written out is not the same: a person should look.
        assert_eq!(
            check("Prenez 2 comprimés.", "Take two tablets.", "fr", "en"),
            vec![SegmentFlag::NumberMissing { value: "2".into() }]
        );
        // A trailing zero is a different key (documented).
        assert_eq!(
            check("Prix : 2,50 €.", "Price: €2.5.", "fr", "en"),
            vec![SegmentFlag::NumberMissing { value: "2,50".into() }]
        );
    }

    #[test]
    fn separators_join_only_real_groups() {
        let keys = |t: &str| numbers(t).into_iter().map(|(_, k)| k).collect::<Vec<_>>();
        assert_eq!(keys("March 12, 2024"), ["12", "2024"]);
        assert_eq!(keys("01 23 45 67 89"), ["1", "23", "45", "67", "89"]);
        assert_eq!(keys("3 000 000 ou 1'234'567"), ["3000000", "1234567"]);
        assert_eq!(keys("1, 2, 3."), ["1", "2", "3"]);
        assert_eq!(keys("0 et 000"), ["0", "0"]);
    }

    #[test]
    fn urls_and_addresses_must_survive() {
        assert_eq!(
            check(
                "Écrivez à a.b@c.fr ou voyez (www.tradia.example).",
                "Write to a.b@c.fr or see the web site itself.",
                "fr",
                "en"
            ),
            vec![SegmentFlag::UrlMissing { url: "www.tradia.example".into() }]
        );
        assert_eq!(
            check("Voir https://x.example/p.", "See https://x.example/p.", "fr", "en"),
            vec![]
        );
    }

    #[test]
    fn length_is_judged_against_the_language_pair() {
        let source = "Ce paragraphe est assez long pour que sa longueur compte vraiment ici.";
        assert_eq!(
            check(source, "This paragraph.", "fr", "en"),
            vec![SegmentFlag::LengthOff { ratio_percent: 24, expected_percent: 87 }]
        );
        assert_eq!(
            check(
                source,
                "This paragraph is long enough for its length to matter here.",
                "fr",
                "en"
            ),
            vec![]
        );
        let long = "This paragraph is long enough, and then it goes on and on and on, \
                    repeating itself over and over, far longer than anything it says.";
        assert!(matches!(
            check(source, &format!("{long} {long}"), "fr", "en").as_slice(),
            [SegmentFlag::LengthOff { .. }]
        ));
        // Dense scripts count three per character: Chinese is not "far shorter".
        assert_eq!(check(source, "这一段足够长所以它的长度真的很重要。", "fr", "zh"), vec![]);
        // Short sources are not judged.
        assert_eq!(check("D'accord, merci.", "OK.", "fr", "en"), vec![]);
    }

    #[test]
    fn the_expected_ratio_follows_the_pair() {
        assert_eq!(expected_length_percent(Some(&lang("en")), &lang("fr")), 115);
        assert_eq!(expected_length_percent(Some(&lang("fr")), &lang("en")), 87);
        assert_eq!(expected_length_percent(Some(&lang("fr")), &lang("fr-CA")), 100);
        assert_eq!(expected_length_percent(None, &lang("de")), 120);
    }

    #[test]
    fn the_source_given_back_is_flagged_when_letters_should_change() {
        assert_eq!(
            check("Merci beaucoup !", "Merci beaucoup!", "fr", "en"),
            vec![SegmentFlag::SameAsSource]
        );
        assert_eq!(
            post_check("Merci beaucoup !", "Merci beaucoup !", None, &lang("en")),
            vec![SegmentFlag::SameAsSource]
        );
        // Same language (a regional variant): nothing should change.
        assert_eq!(check("Merci beaucoup !", "Merci beaucoup !", "fr", "fr-CA"), vec![]);
        // Codes, acronyms and symbols are no words: unchanged is right.
        for no_words in ["S1.1", "PDF", "\\pm", "(2015)"] {
            assert_eq!(check(no_words, no_words, "fr", "en"), vec![], "{no_words}");
        }
        // Case is a change.
        assert_eq!(check("Merci beaucoup", "MERCI BEAUCOUP", "fr", "en"), vec![]);
    }

    #[test]
    fn kept_segments_are_not_checked_and_flags_are_not_repeated() {
        use crate::content::Content;
        let segment = Segment {
            id: 3,
            content: Content::text("Le 12 mars."),
            location: String::new(),
            field: String::new(),
        };
        let mut kept = SegmentResult::kept_source(&segment, "copy_of_source", "copy");
        annotate(&segment, &mut kept, Some(&lang("fr")), &lang("en"));
        assert!(kept.flags.is_empty());
        let mut result = SegmentResult {
            id: 3,
            content: Content::text("On March 13."),
            kept: None,
            flags: vec![SegmentFlag::NumberMissing { value: "12".into() }],
        };
        annotate(&segment, &mut result, Some(&lang("fr")), &lang("en"));
        assert_eq!(result.flags, vec![SegmentFlag::NumberMissing { value: "12".into() }]);
    }
}
