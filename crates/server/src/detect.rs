//! Validation of the language codes clients send, answered as API errors. Detection itself and
//! the rule for known languages live in `tradia_core::detect`, shared with the command line.

use tradia_core::LanguageTag;
pub use tradia_core::detect::detect_language;
use tradia_core::detect::is_known_language;

use crate::error::{ApiError, ErrorCode};

/// A language the client may ask for: a valid tag whose language Tradia lists or can detect.
pub fn parse_language(field: &str, input: &str) -> Result<LanguageTag, ApiError> {
    let tag = LanguageTag::parse(input).map_err(|_| invalid(field, input))?;
    if is_known_language(&tag) { Ok(tag) } else { Err(invalid(field, input)) }
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
        Some(source) if source == target => Err(ApiError::new(
            ErrorCode::SameLanguage,
            format!("source and target languages are the same ({target}); pick another target"),
        )),
        _ => Ok(()),
    }
}

fn invalid(field: &str, input: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidLanguage,
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
    fn validates_codes() {
        assert!(parse_language("target_lang", "FR").is_ok());
        assert!(parse_language("target_lang", "pt_br").is_ok());
        assert_eq!(
            parse_language("target_lang", "xx").unwrap_err().code,
            ErrorCode::InvalidLanguage
        );
        assert_eq!(
            parse_language("target_lang", "french!").unwrap_err().code,
            ErrorCode::InvalidLanguage
        );
        assert!(parse_source(Some("auto")).unwrap().is_none());
        let fr = LanguageTag::parse("fr").unwrap();
        assert_eq!(check_pair(Some(&fr), &fr).unwrap_err().code, ErrorCode::SameLanguage);
        let en = LanguageTag::parse("en").unwrap();
        assert!(check_pair(Some(&fr), &en).is_ok());
    }
}
