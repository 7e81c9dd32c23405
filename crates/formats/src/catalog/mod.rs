//! JSON and YAML message catalogues (i18next, Rails i18n, vue-i18n, ARB…): string values are
//! translated, keys and everything else kept.
//!
//! Both are validated with serde first (a malformed file is refused with the parser's message),
//! then scanned by a small tokenizer that knows the byte range of every string value, and each
//! translated value is re-escaped in place: nothing is re-serialised, so key order, indentation,
//! comments (YAML), anchors and number formats stay as they were. Placeholders (`{name}`,
//! `{{count}}`, `%{count}`, `%s`, ICU `{n, plural, …}`) and HTML tags become inline codes.
//! In JSON, keys starting with `@` (ARB metadata) are kept, and an ARB message's
//! `@key.description` is its segment's note. In YAML, plain scalars that YAML
//! would read as booleans, nulls or numbers are not text; a translation that a plain scalar
//! cannot hold (a leading indicator, `: `, ` #`…) is written double-quoted.

mod json;
mod yaml;

use std::collections::HashMap;
use std::ops::Range;

use tradia_core::Content;

use crate::encoding::{self, Decoded, Unmappable};
use crate::splice::{self, Collected, Edit};
use crate::{
    Document, ExtractOptions, Format, FormatError, KeptField, MergeOptions, Report, Skeleton,
};
pub(crate) use json::offset_of as json_offset;
use json::{JsonScanner, json_quote, json_quote_with, offset_of};
pub(crate) use yaml::yaml_scalars;
use yaml::{collect_strings, plain_safe, yaml_double, yaml_double_with};

/// How a scalar is written in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Style {
    /// A JSON string (range includes the quotes).
    Json,
    /// YAML double-quoted (range includes the quotes).
    Double,
    /// YAML single-quoted (range includes the quotes).
    Single,
    /// YAML plain scalar; `flow` inside `[…]`/`{…}`.
    Plain { flow: bool },
    /// YAML block scalar content lines, with their indentation; `folded` for `>`.
    Block { indent: String, folded: bool },
}

/// A string scalar: where it is, its decoded value, how it is written, its key path.
#[derive(Debug, Clone)]
pub(crate) struct Scalar {
    pub range: Range<usize>,
    pub value: String,
    pub style: Style,
    pub path: String,
}

/// Recognises JSON objects/arrays and YAML mappings; `name` breaks ties for YAML.
pub(crate) fn sniff(name: &str, bytes: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        let full = std::str::from_utf8(bytes).ok()?.trim_start_matches('\u{feff}');
        if serde_json::from_str::<serde_json::Value>(full).is_ok() {
            return Some(Format::Json);
        }
    }
    let lname = name.to_ascii_lowercase();
    let yaml_name = lname.ends_with(".yml") || lname.ends_with(".yaml");
    let key_lines = t
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .take(5)
        .filter(|l| {
            let l = l.trim_start().trim_start_matches("- ");
            l.starts_with("---")
                || l.split_once(':').is_some_and(|(k, v)| {
                    !k.is_empty() && !k.contains(' ') && (v.is_empty() || v.starts_with(' '))
                })
        })
        .count();
    let looks_yaml = t.starts_with("---") || key_lines >= 2;
    let other_text = [".md", ".markdown", ".txt", ".srt", ".vtt", ".po", ".pot"]
        .iter()
        .any(|e| lname.ends_with(e));
    if !looks_yaml || other_text || !(yaml_name || key_lines >= 3) {
        return None;
    }
    // Front matter followed by prose is not a catalogue: the whole text must be one YAML mapping.
    let full = std::str::from_utf8(bytes).ok()?;
    matches!(
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(full),
        Ok(serde_yaml_ng::Value::Mapping(_))
    )
    .then_some(Format::Yaml)
}

/// Extracts a JSON or YAML catalogue.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let decoded = encoding::decode(name, bytes, None)?;
    let mut report = Report::default();
    report.warnings.extend(decoded.warnings.iter().cloned());
    let text = &decoded.text;
    let mut json = None;
    let scalars = if format == Format::Json {
        json = Some(serde_json::from_str::<serde_json::Value>(text).map_err(|e| {
            FormatError::Malformed {
                part: name.to_string(),
                offset: offset_of(text, e.line(), e.column()),
                message: e.to_string(),
            }
        })?);
        let mut scanner = JsonScanner { s: text.as_bytes(), src: text, pos: 0, out: Vec::new() };
        scanner.value("", false).map_err(|offset| FormatError::Malformed {
            part: name.to_string(),
            offset: offset as u64,
            message: "unexpected token".into(),
        })?;
        scanner.out
    } else {
        let value = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text).map_err(|e| {
            FormatError::Malformed {
                part: name.to_string(),
                offset: e.location().map_or(0, |l| l.index() as u64),
                message: e.to_string(),
            }
        })?;
        let mut scalars = yaml_scalars(text).map_err(|(offset, message)| {
            FormatError::Malformed { part: name.to_string(), offset: offset as u64, message }
        })?;
        // Cross-check with the YAML library: a scalar whose value it does not read the same way
        // (a construct this scanner does not model, such as a multi-line plain scalar) is kept.
        let mut known: HashMap<String, usize> = HashMap::new();
        collect_strings(&value, &mut known);
        scalars.retain(|scalar| match known.get_mut(scalar.value.trim_end()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => {
                report.kept.push(KeptField {
                    location: format!("{name}: {}", scalar.path),
                    field: scalar.path.clone(),
                    reason: "YAML construct not handled".into(),
                });
                false
            }
        });
        scalars
    };
    let mut collected = Collected::default();
    let mut kept = Vec::new();
    for scalar in scalars {
        let (content, slot) = splice::placeholder_slot(&scalar.value, scalar.range.clone());
        if collected.push(content, slot, format!("{name}: {}", scalar.path), &scalar.path) {
            kept.push(scalar);
        }
    }
    if let Some(json) = &json {
        arb_notes(json, &collected, &kept, &mut report);
    }
    let segments = collected.segments.clone();
    Ok(Document::new(
        format,
        segments,
        report,
        Box::new(CatalogSkeleton {
            yaml: format == Format::Yaml,
            decoded,
            collected,
            scalars: kept,
        }),
    ))
}

/// Flutter ARB: the `description` of a message's `@key` metadata is its segment's note.
fn arb_notes(
    json: &serde_json::Value,
    collected: &Collected,
    kept: &[Scalar],
    report: &mut Report,
) {
    for (segment, scalar) in collected.segments.iter().zip(kept) {
        let description = json
            .get(format!("@{}", scalar.path))
            .and_then(|meta| meta.get("description"))
            .and_then(serde_json::Value::as_str)
            .filter(|d| !d.trim().is_empty());
        if let Some(description) = description {
            report.notes.insert(segment.id, description.to_string());
        }
    }
}

struct CatalogSkeleton {
    yaml: bool,
    decoded: Decoded,
    collected: Collected,
    scalars: Vec<Scalar>,
}

impl Skeleton for CatalogSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        _options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        let edits = splice::changed(&self.collected.segments, translations)?
            .map(|(i, translation)| {
                let scalar = &self.scalars[i];
                let slot = &self.collected.slots[i];
                let value = splice::render_codes(slot, translation, &splice::escape_none);
                Edit {
                    range: scalar.range.clone(),
                    text: write_scalar(&value, &scalar.style, &|c| !self.decoded.can_encode(c)),
                }
            })
            .collect();
        let text = splice::apply(&self.decoded.text, edits);
        if self.yaml
            && text != self.decoded.text
            && let Err(e) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text)
        {
            return Err(FormatError::Invalid(format!(
                "the translated YAML would not parse ({e}); nothing was written"
            )));
        }
        Ok(self.decoded.encode(&text, Unmappable::Question))
    }
}

/// Writes `value` in the scalar's style (or double-quoted when the style cannot hold it).
///
/// Characters the file's encoding cannot hold (`unmappable`) are written as `\u` escapes, in a
/// double-quoted scalar for YAML: a `?` in their place could change the document's structure.
pub(crate) fn write_scalar(
    value: &str,
    style: &Style,
    unmappable: &dyn Fn(char) -> bool,
) -> String {
    // A block scalar cannot hold escapes; a `?` written there by the encoder is harmless.
    if !matches!(style, Style::Block { .. }) && value.chars().any(unmappable) {
        return match style {
            Style::Json => json_quote_with(value, unmappable),
            _ => yaml_double_with(value, unmappable),
        };
    }
    match style {
        Style::Json => json_quote(value),
        Style::Double => yaml_double(value),
        Style::Single if !value.contains('\n') => format!("'{}'", value.replace('\'', "''")),
        Style::Single => yaml_double(value),
        Style::Plain { flow } if plain_safe(value, *flow) => value.to_string(),
        Style::Plain { .. } => yaml_double(value),
        Style::Block { indent, folded } => {
            let text = if *folded { value.replace('\n', "\n\n") } else { value.to_string() };
            text.split('\n')
                .map(|l| if l.is_empty() { String::new() } else { format!("{indent}{l}") })
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradia_core::LanguageTag;
    use tradia_core::pseudo::pseudo_content;

    fn fr() -> MergeOptions {
        MergeOptions { target: LanguageTag::parse("fr").unwrap() }
    }

    #[test]
    fn json_placeholder_is_a_standalone_code() {
        let src = "{\n  \"greeting\": \"Hello {name}!\",\n  \"count\": 3,\n  \"nested\": {\"items\": \"{{count}} items\\n\", \"@meta\": \"keep\"}\n}\n";
        assert_eq!(sniff("x.json", src.as_bytes()), Some(Format::Json));
        let d =
            extract(Format::Json, "x.json", src.as_bytes(), &ExtractOptions::default()).unwrap();
        let rendered: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(rendered, vec!["Hello <x1/>!", "<x1/> items\n"]);
        assert_eq!(d.segments[1].location, "x.json: nested.items");
        assert_eq!(d.merge_identity(&fr()).unwrap(), src.as_bytes());
        let t = vec![
            Content::parse("Bonjour \"<x1/>\" !").unwrap(),
            Content::parse("<x1/> éléments\n").unwrap(),
        ];
        let out = String::from_utf8(d.merge(&t, &fr()).unwrap()).unwrap();
        assert_eq!(
            out,
            "{\n  \"greeting\": \"Bonjour \\\"{name}\\\" !\",\n  \"count\": 3,\n  \"nested\": {\"items\": \"{{count}} éléments\\n\", \"@meta\": \"keep\"}\n}\n"
        );
    }

    #[test]
    fn arb_descriptions_are_notes_and_metadata_is_kept() {
        let src = "{\n  \"@@locale\": \"en\",\n  \"hello\": \"Hello {name}\",\n  \"@hello\": {\"description\": \"Greeting on the home screen\", \"placeholders\": {\"name\": {\"type\": \"String\"}}},\n  \"bye\": \"Goodbye\"\n}\n";
        let d = extract(Format::Json, "app_en.arb", src.as_bytes(), &ExtractOptions::default())
            .unwrap();
        let rendered: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(rendered, ["Hello <x1/>", "Goodbye"]);
        assert_eq!(d.report.notes.get(&0).map(String::as_str), Some("Greeting on the home screen"));
        assert_eq!(d.report.notes.get(&1), None);
        assert_eq!(crate::detect("app_en.arb", src.as_bytes()).unwrap(), Format::Json);
    }

    #[test]
    fn characters_a_legacy_encoding_lacks_are_escaped() {
        let text = "fr:\n  hello: Café crème\n  other: Déjà vu\n  third: Voilà tout\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
        let d = extract(Format::Yaml, "fr.yml", &bytes, &ExtractOptions::default()).unwrap();
        let t = vec![Content::text("مقهى ? ok"), Content::text("Déjà"), Content::text("🙂 x")];
        let out = d.merge(&t, &fr()).unwrap();
        let (decoded, _, _) = encoding_rs::WINDOWS_1252.decode(&out);
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&decoded).unwrap();
        assert_eq!(value["fr"]["hello"].as_str(), Some("مقهى ? ok"));
        assert_eq!(value["fr"]["other"].as_str(), Some("Déjà"));
        assert_eq!(value["fr"]["third"].as_str(), Some("🙂 x"));
    }

    #[test]
    fn yaml_styles_are_kept_or_quoted_when_needed() {
        let src = "fr:\n  date:\n    abbr_day_names: [dim, lun, mar]\n    formats:\n      default: \"%d/%m/%Y\"\n  hello: Hello world # greeting\n  quoted: 'It''s %{count} days'\n  flag: true\n  long: |\n    Line one\n    Line two\n  items:\n    - First item\n    - \"Second\"\n";
        assert_eq!(sniff("fr.yml", src.as_bytes()), Some(Format::Yaml));
        let d =
            extract(Format::Yaml, "fr.yml", src.as_bytes(), &ExtractOptions::default()).unwrap();
        let rendered: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(
            rendered,
            vec![
                "dim",
                "lun",
                "mar",
                "Hello world",
                "It's <x1/> days",
                "Line one\nLine two",
                "First item",
                "Second"
            ]
        );
        assert_eq!(d.merge_identity(&fr()).unwrap(), src.as_bytes());
        let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
        let out = String::from_utf8(d.merge(&pseudo, &fr()).unwrap()).unwrap();
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&out).unwrap();
        assert_eq!(value["fr"]["hello"].as_str(), Some("⟦Hélló wórld⟧"));
        assert_eq!(value["fr"]["quoted"].as_str(), Some("⟦Ít's⟧ %{count} ⟦dáýs⟧"));
        assert_eq!(value["fr"]["long"].as_str(), Some("⟦Líñé óñé\nLíñé twó⟧\n"));
        assert_eq!(value["fr"]["flag"].as_bool(), Some(true));
        assert_eq!(value["fr"]["date"]["abbr_day_names"][1].as_str(), Some("⟦lúñ⟧"));
        assert!(out.contains("hello: ⟦Hélló wórld⟧ # greeting\n"), "{out}");
        let colon =
            d.merge(&[vec![Content::text("a: b")], pseudo[1..].to_vec()].concat(), &fr()).unwrap();
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_slice(&colon).unwrap();
        assert_eq!(value["fr"]["date"]["abbr_day_names"][0].as_str(), Some("a: b"));
    }
}
