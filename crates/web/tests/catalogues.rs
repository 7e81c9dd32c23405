//! Every interface string exists in every language, and every key the page uses is defined.
//!
//! The catalogues are plain JSON objects (web/i18n/{fr,en,ar}.json); keys are found in the page
//! by the `data-i18n="key"` / `data-i18n-attr="attr:key"` attributes and in scripts by literal
//! `t('key'…)` and `setStatus('key')` calls. Keys built at run time (`error_${code}`,
//! `status_${status}`, `kept_${code}`) are checked against the codes the page expects.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

fn catalogue(lang: &str) -> serde_json::Map<String, serde_json::Value> {
    let path = web_dir().join("i18n").join(format!("{lang}.json"));
    let text = std::fs::read_to_string(&path).expect("catalogue readable");
    match serde_json::from_str(&text).expect("catalogue is JSON") {
        serde_json::Value::Object(map) => map,
        other => panic!("{} is not an object: {other}", path.display()),
    }
}

/// Every `prefix…'key'` literal in `text`.
fn literals_after(text: &str, prefix: &str, out: &mut BTreeSet<String>) {
    for (i, _) in text.match_indices(prefix) {
        let rest = &text[i + prefix.len()..];
        let key: String =
            rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !key.is_empty() && rest[key.len()..].starts_with(['\'', '"']) {
            out.insert(key);
        }
    }
}

fn used_keys() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let html = std::fs::read_to_string(web_dir().join("index.html")).expect("index.html");
    literals_after(&html, "data-i18n=\"", &mut keys);
    for (i, _) in html.match_indices("data-i18n-attr=\"") {
        let rest = &html[i + "data-i18n-attr=\"".len()..];
        let value = &rest[..rest.find('"').expect("closed attribute")];
        for pair in value.split(';') {
            let (_, key) = pair.split_once(':').expect("attr:key");
            keys.insert(key.trim().to_string());
        }
    }
    let js_dir = web_dir().join("js");
    let mut scripts = 0;
    for entry in std::fs::read_dir(&js_dir).expect("web/js") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "js") {
            scripts += 1;
            let js = std::fs::read_to_string(&path).expect("script");
            for prefix in ["t('", "t(\"", "setStatus('", "? '", ": '"] {
                literals_after(&js, prefix, &mut keys);
            }
        }
    }
    assert!(scripts >= 5, "expected the page's scripts in {}", js_dir.display());
    keys
}

#[test]
fn every_key_exists_in_all_three_languages() {
    let fr = catalogue("fr");
    assert!(fr.len() > 50, "French catalogue looks truncated: {} keys", fr.len());
    for lang in ["en", "ar"] {
        let other = catalogue(lang);
        let missing: Vec<_> = fr.keys().filter(|k| !other.contains_key(*k)).collect();
        let extra: Vec<_> = other.keys().filter(|k| !fr.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{lang}.json lacks {missing:?}");
        assert!(extra.is_empty(), "{lang}.json has keys French lacks: {extra:?}");
        for (key, value) in &other {
            let text = value.as_str().unwrap_or_else(|| panic!("{lang}.{key} is not a string"));
            assert!(!text.trim().is_empty(), "{lang}.{key} is empty");
            // The same placeholders in every language, or a message would show a raw `{name}`.
            let fr_text = fr[key].as_str().expect("string");
            assert_eq!(placeholders(text), placeholders(fr_text), "{lang}.{key} placeholders");
        }
    }
    println!("checked {} keys in fr, en and ar", fr.len());
}

fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(p, _)| p.to_string())).collect()
}

#[test]
fn every_key_the_page_uses_is_defined() {
    let fr = catalogue("fr");
    let used = used_keys();
    // Literals such as `? 'auto'` are caught by the wide patterns above; only keys that look like
    // catalogue keys (lowercase with an underscore, or a known single word) must be defined.
    let missing: Vec<_> = used
        .iter()
        .filter(|k| k.contains('_') && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .filter(|k| !fr.contains_key(k.as_str()))
        .collect();
    assert!(missing.is_empty(), "keys used by the page but missing from fr.json: {missing:?}");
    assert!(used.len() > 60, "found only {} keys in the page: the scan is broken", used.len());
    println!("{} keys used by the page are defined", used.len());
}

#[test]
fn dynamic_keys_are_defined() {
    let fr = catalogue("fr");
    for status in ["queued", "running", "done", "failed", "cancelled"] {
        assert!(fr.contains_key(&format!("status_{status}")), "status_{status}");
    }
    // The quality report's flags (`SegmentFlag::key`, and `kept`), named by web/js/report.js.
    for flag in [
        "kept",
        "codes_repaired",
        "glossary_term_missing",
        "number_missing",
        "url_missing",
        "length_off",
        "same_as_source",
        "quiz_kept",
        "memory_exact",
        "memory_fuzzy",
    ] {
        assert!(fr.contains_key(&format!("flag_{flag}")), "flag_{flag}");
    }
    // Error codes the API returns (issue 4, point 8) must each have a message.
    for code in [
        "unsupported_format",
        "empty_file",
        "upload_too_large",
        "too_many_files",
        "invalid_language",
        "same_language",
        "unknown_model",
        "malformed_multipart",
        "missing_target_lang",
        "invalid_document",
        "job_not_found",
        "job_not_finished",
        "llm_unavailable",
        "internal_error",
    ] {
        assert!(fr.contains_key(&format!("error_{code}")), "error_{code}");
    }
}
