//! Source-language detection and validation of the language codes clients send.
//!
//! Detection runs on whole texts (a pasted text, or the first few thousand characters of a
//! document), never per segment: whatlang is fast but unreliable on short strings, so an
//! unreliable guess is reported as unknown and the model is left to work it out.

use tradia_core::{LANGUAGES, LanguageTag};

use crate::error::ApiError;

/// How much text detection reads.
const SAMPLE_CHARS: usize = 4000;

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
    let sample: String = text.chars().take(SAMPLE_CHARS).collect();
    let info = whatlang::detect(&sample)?;
    if !info.is_reliable() && info.confidence() < 0.25 {
        return None;
    }
    let code = info.lang().code();
    let (_, iso1) = ISO3_TO_1.iter().find(|(iso3, _)| *iso3 == code)?;
    LanguageTag::parse(iso1).ok()
}

/// A language the client may ask for: a valid tag whose language Tradia lists or can detect.
pub fn parse_language(field: &str, input: &str) -> Result<LanguageTag, ApiError> {
    let tag = LanguageTag::parse(input).map_err(|_| invalid(field, input))?;
    let primary = tag.primary();
    let known = LANGUAGES.iter().any(|l| l.code == primary || l.code == tag.as_str())
        || ISO3_TO_1.iter().any(|(_, iso1)| *iso1 == primary);
    if known { Ok(tag) } else { Err(invalid(field, input)) }
}

/// The source language the client gave: `None` for omitted, empty or `auto` (detect).
pub fn parse_source(input: Option<&str>) -> Result<Option<LanguageTag>, ApiError> {
    match input.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.eq_ignore_ascii_case("auto") => Ok(None),
        Some(s) => parse_language("source_lang", s).map(Some),
    }
}

/// Refuses a source equal to the target.
pub fn check_pair(source: Option<&LanguageTag>, target: &LanguageTag) -> Result<(), ApiError> {
    match source {
        Some(source) if source == target => Err(ApiError::bad_request(
            "same_language",
            format!("source and target languages are the same ({target}); pick another target"),
        )),
        _ => Ok(()),
    }
}

fn invalid(field: &str, input: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_language",
        format!(
            "{field} `{input}` is not a language code Tradia knows (use a code such as fr, en, ar \
             or pt-BR; GET /api/v1/languages lists them)"
        ),
    )
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
    fn validates_codes() {
        assert!(parse_language("target_lang", "FR").is_ok());
        assert!(parse_language("target_lang", "pt_br").is_ok());
        assert_eq!(parse_language("target_lang", "xx").unwrap_err().code, "invalid_language");
        assert_eq!(parse_language("target_lang", "french!").unwrap_err().code, "invalid_language");
        assert!(parse_source(Some("auto")).unwrap().is_none());
        let fr = LanguageTag::parse("fr").unwrap();
        assert_eq!(check_pair(Some(&fr), &fr).unwrap_err().code, "same_language");
        let en = LanguageTag::parse("en").unwrap();
        assert!(check_pair(Some(&fr), &en).is_ok());
    }
}
