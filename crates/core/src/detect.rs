//! Source-language detection, and the one rule for which language codes Tradia accepts.
//!
//! Detection runs on whole texts (a pasted text, or the first few thousand characters of a
//! document), never per segment: whatlang is fast but unreliable on short strings, so an
//! unreliable guess is reported as unknown and the model is left to work it out. It lives here,
//! not in the service, so the command line detects the source language the same way.

use crate::{LANGUAGES, LanguageTag, Segment};

/// How much text detection reads.
pub const SAMPLE_CHARS: usize = 4000;

/// ISO 639-3 codes whatlang returns, with their ISO 639-1 tags.
const ISO3_TO_1: &[(&str, &str)] = &[
    ("afr", "af"),
    ("aka", "ak"),
    ("amh", "am"),
    ("ara", "ar"),
    ("aze", "az"),
    ("bel", "be"),
    ("ben", "bn"),
    ("bul", "bg"),
    ("cat", "ca"),
    ("ces", "cs"),
    ("cmn", "zh"),
    ("dan", "da"),
    ("deu", "de"),
    ("ell", "el"),
    ("eng", "en"),
    ("epo", "eo"),
    ("est", "et"),
    ("fin", "fi"),
    ("fra", "fr"),
    ("guj", "gu"),
    ("heb", "he"),
    ("hin", "hi"),
    ("hrv", "hr"),
    ("hun", "hu"),
    ("hye", "hy"),
    ("ind", "id"),
    ("ita", "it"),
    ("jav", "jv"),
    ("jpn", "ja"),
    ("kan", "kn"),
    ("kat", "ka"),
    ("khm", "km"),
    ("kor", "ko"),
    ("lat", "la"),
    ("lav", "lv"),
    ("lit", "lt"),
    ("mal", "ml"),
    ("mar", "mr"),
    ("mkd", "mk"),
    ("mya", "my"),
    ("nep", "ne"),
    ("nld", "nl"),
    ("nob", "nb"),
    ("ori", "or"),
    ("pan", "pa"),
    ("pes", "fa"),
    ("pol", "pl"),
    ("por", "pt"),
    ("ron", "ro"),
    ("rus", "ru"),
    ("sin", "si"),
    ("slk", "sk"),
    ("slv", "sl"),
    ("sna", "sn"),
    ("spa", "es"),
    ("srp", "sr"),
    ("swe", "sv"),
    ("tam", "ta"),
    ("tel", "te"),
    ("tgl", "tl"),
    ("tha", "th"),
    ("tuk", "tk"),
    ("tur", "tr"),
    ("ukr", "uk"),
    ("urd", "ur"),
    ("uzb", "uz"),
    ("vie", "vi"),
    ("yid", "yi"),
    ("zul", "zu"),
    ("cym", "cy"),
    ("gle", "ga"),
    ("isl", "is"),
    ("kaz", "kk"),
    ("mon", "mn"),
    ("sqi", "sq"),
    ("swa", "sw"),
    ("tgk", "tg"),
    ("kir", "ky"),
];

/// Detects the language of `text`; `None` when the guess is not reliable enough.
pub fn detect_language(text: &str) -> Option<LanguageTag> {
    detect_language_scored(text).map(|(tag, _)| tag)
}

/// Like [`detect_language`], with the detector's confidence (0 to 1), for APIs that report it.
pub fn detect_language_scored(text: &str) -> Option<(LanguageTag, f64)> {
    let sample: String = text.chars().take(SAMPLE_CHARS).collect();
    let info = whatlang::detect(&sample)?;
    if !info.is_reliable() && info.confidence() < 0.25 {
        return None;
    }
    let code = info.lang().code();
    let (_, iso1) = ISO3_TO_1.iter().find(|(iso3, _)| *iso3 == code)?;
    LanguageTag::parse(iso1).ok().map(|tag| (tag, info.confidence()))
}

/// Detects the language of a document from the plain text of its first segments (about
/// [`SAMPLE_CHARS`] characters); `None` when the guess is not reliable enough.
pub fn detect_segments_language(segments: &[Segment]) -> Option<LanguageTag> {
    let mut sample = String::new();
    for segment in segments {
        sample.push_str(&segment.content.plain_text());
        sample.push('\n');
        if sample.len() > SAMPLE_CHARS {
            break;
        }
    }
    detect_language(&sample)
}

/// True when `tag`'s language is one Tradia lists or can detect: the rule the API and the
/// command line share for the languages a user may ask for.
pub fn is_known_language(tag: &LanguageTag) -> bool {
    let primary = tag.primary();
    LANGUAGES.iter().any(|l| l.code == primary || l.code == tag.as_str())
        || ISO3_TO_1.iter().any(|(_, iso1)| *iso1 == primary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_french_and_english() {
        let fr = detect_language("Bonjour tout le monde, comment allez-vous aujourd'hui ?");
        assert_eq!(fr.unwrap().as_str(), "fr");
        let en = detect_language(
            "The committee will meet next week to discuss the budget and the new school calendar.",
        );
        assert_eq!(en.unwrap().as_str(), "en");
        assert!(detect_language("ok").is_none());
    }

    #[test]
    fn known_languages() {
        for (code, known) in [("fr", true), ("pt-BR", true), ("ar", true), ("xx", false)] {
            let tag = LanguageTag::parse(code).unwrap();
            assert_eq!(is_known_language(&tag), known, "{code}");
        }
    }
}
