//! Property tests of the line-based message formats (Java properties, CSV/TSV, Apple strings,
//! String Catalogs): for random input built from each syntax's own characters, extraction never
//! panics; what extracts merges back byte-exactly, and a pseudo translation merges into a file
//! that extracts again with the same number of segments holding the pseudo text (for String
//! Catalogs, bilingual, the pseudo text is in the target's localization).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag};
use tradia_formats::{ExtractOptions, Format, MergeOptions, extract_as};

fn check(format: Format, name: &str, text: &str) -> Result<(), TestCaseError> {
    let options = ExtractOptions::default();
    let Ok(d) = extract_as(format, name, text.as_bytes(), &options) else { return Ok(()) };
    let merge = MergeOptions { target: LanguageTag::parse("fr").unwrap() };
    prop_assert_eq!(d.merge_identity(&merge).unwrap(), text.as_bytes().to_vec());
    let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = d.merge(&pseudo, &merge).unwrap();
    let again = extract_as(format, name, &out, &options)
        .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&out))))?;
    let expected: Vec<String> = pseudo.iter().map(Content::plain_text).collect();
    if format == Format::XcStrings {
        // Bilingual: the source stays, the translation is the target's localization.
        prop_assert_eq!(again.segments.len(), d.segments.len());
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        for (segment, text) in d.segments.iter().zip(&expected) {
            let unit = &json["strings"][&segment.field]["localizations"]["fr"]["stringUnit"];
            // The value holds the placeholders the plain text leaves out.
            let value = unit["value"].as_str().unwrap_or_default().replace("%@", "");
            prop_assert_eq!(&value, text);
            prop_assert_eq!(unit["state"].as_str(), Some("needs_review"));
        }
        return Ok(());
    }
    let found: Vec<String> = again.segments.iter().map(|s| s.content.plain_text()).collect();
    prop_assert_eq!(found, expected, "{}", String::from_utf8_lossy(&out));
    Ok(())
}

fn text_of(pieces: Vec<&'static str>) -> String {
    pieces.concat()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn java_properties(pieces in prop::collection::vec(prop::sample::select(vec![
        "key", "=", ":", " ", "\t", "\n", "\r\n", "\\", "\\u00e9", "#", "!", "Hello world", "{0}",
        "%s", "é", "\\n", "\\\n  ", "a.b",
    ]), 0..30)) {
        check(Format::JavaProperties, "p.properties", &text_of(pieces))?;
    }

    #[test]
    fn csv_tables(pieces in prop::collection::vec(prop::sample::select(vec![
        "id", ",", ";", "\"", "\"\"", "\n", "\r\n", " ", "Hello world", "Red apple", "42",
        "SKU-1", "é",
    ]), 0..30)) {
        check(Format::Csv, "t.csv", &text_of(pieces))?;
    }

    #[test]
    fn apple_strings(pieces in prop::collection::vec(prop::sample::select(vec![
        "\"key\"", " = ", "\"Hello world\"", ";", "\n", "/* note */", "// line\n", "okKey",
        "\"a \\\"quoted\\\" word\"", "\"%@ items\"", " ",
    ]), 0..20)) {
        check(Format::AppleStrings, "L.strings", &text_of(pieces))?;
    }

    #[test]
    fn string_catalogs(keys in prop::collection::vec(prop::sample::select(vec![
        "Hello world", "Save %@", "Bye now", "é à", "A \\\"quoted\\\" word",
    ]), 0..5), shapes in prop::collection::vec(0u8..4, 5)) {
        let mut entries = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let body = match shapes[i] {
                0 => String::new(),
                1 => "\"comment\" : \"a note\"".to_string(),
                2 => format!("\"localizations\" : {{ \"en\" : {{ \"stringUnit\" : {{ \"state\" : \"translated\", \"value\" : \"{key}\" }} }} }}"),
                _ => "\"localizations\" : { \"fr\" : { \"stringUnit\" : { \"state\" : \"new\", \"value\" : \"\" } } }".to_string(),
            };
            entries.push(format!("\"{key}{i}\" : {{ {body} }}"));
        }
        let text = format!("{{ \"sourceLanguage\" : \"en\", \"strings\" : {{ {} }}, \"version\" : \"1.0\" }}", entries.join(", "));
        check(Format::XcStrings, "L.xcstrings", &text)?;
    }
}
