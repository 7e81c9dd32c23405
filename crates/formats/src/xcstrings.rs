//! Apple String Catalogs (`.xcstrings`): each string translated into the target language's
//! localization, everything else kept byte for byte.
//!
//! A catalogue is JSON: `strings` maps each key to its `localizations` by language, each with a
//! `stringUnit` (`state`, `value`). The source text of a key is its source-language value, or
//! the key itself when there is none (Xcode's default). Merging writes the translation into the
//! target language's `stringUnit` — replacing its value, or adding the localization — with
//! `state` `needs_review`, since a machine translation needs a human look. Keys with
//! `"shouldTranslate": false` are kept, and so are plural and device `variations`, reported. A key's
//! `comment` is its segment's note. The file is never re-serialised: the JSON is indexed by byte
//! range and edited in place.

use std::ops::Range;

use tradia_core::Content;

use crate::catalog::json_offset;
use crate::encoding::{self, Decoded, Unmappable};
use crate::splice::{self, Collected, Edit};
use crate::{
    Document, ExtractOptions, Format, FormatError, KeptField, MergeOptions, Report, Skeleton,
};

/// Recognises `.xcstrings` by name.
pub(crate) fn sniff(name: &str, _bytes: &[u8]) -> Option<Format> {
    name.to_ascii_lowercase().ends_with(".xcstrings").then_some(Format::XcStrings)
}

/// A JSON value by byte range.
#[derive(Debug, Clone)]
enum Node {
    /// Members (key, value) and the object's range (braces included).
    Object(Vec<(String, Node)>, Range<usize>),
    /// A string's range (quotes included) and value.
    Str(Range<usize>, String),
    /// Anything else, by range.
    Other(Range<usize>),
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Object(members, _) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn str(&self) -> Option<&str> {
        match self {
            Node::Str(_, s) => Some(s),
            _ => None,
        }
    }
}

/// Indexes valid JSON (already checked by serde_json).
struct Indexer<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Indexer<'_> {
    fn ws(&mut self) {
        while self.s.get(self.pos).is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn string(&mut self) -> Option<(Range<usize>, String)> {
        let start = self.pos;
        self.pos += 1;
        while let Some(&b) = self.s.get(self.pos) {
            match b {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    let range = start..self.pos;
                    let value = serde_json::from_str::<String>(&self.text[range.clone()]).ok()?;
                    return Some((range, value));
                }
                _ => self.pos += 1,
            }
        }
        None
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        self.ws();
        match *self.s.get(self.pos)? {
            b'{' if depth < 64 => {
                let start = self.pos;
                self.pos += 1;
                let mut members = Vec::new();
                loop {
                    self.ws();
                    match *self.s.get(self.pos)? {
                        b'}' => {
                            self.pos += 1;
                            return Some(Node::Object(members, start..self.pos));
                        }
                        b',' => self.pos += 1,
                        b'"' => {
                            let (_, key) = self.string()?;
                            self.ws();
                            self.pos += 1; // ':'
                            let value = self.value(depth + 1)?;
                            members.push((key, value));
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(|(r, v)| Node::Str(r, v)),
            _ => {
                // Arrays, numbers, literals: skipped with their nesting.
                let start = self.pos;
                let mut nesting = 0usize;
                let mut in_string = false;
                while let Some(&b) = self.s.get(self.pos) {
                    if in_string {
                        match b {
                            b'\\' => self.pos += 1,
                            b'"' => in_string = false,
                            _ => {}
                        }
                    } else {
                        match b {
                            b'"' => in_string = true,
                            b'[' | b'{' => nesting += 1,
                            b']' | b'}' if nesting == 0 => {
                                return Some(Node::Other(start..self.pos));
                            }
                            b']' | b'}' => nesting -= 1,
                            b',' if nesting == 0 => return Some(Node::Other(start..self.pos)),
                            _ => {}
                        }
                    }
                    self.pos += 1;
                }
                Some(Node::Other(start..self.pos))
            }
        }
    }
}

/// Where a translation goes.
#[derive(Debug, Clone)]
enum Place {
    /// The target's existing `stringUnit`: its value string and state string (if any).
    Existing { value: Range<usize>, state: Option<Range<usize>> },
    /// Before the closing brace of `localizations` (its range given).
    AddLocalization(Range<usize>),
    /// Before the closing brace of the key's object, which has no `localizations`.
    AddLocalizations(Range<usize>),
}

/// Extracts a String Catalog.
pub(crate) fn extract(
    format: Format,
    name: &str,
    bytes: &[u8],
    _options: &ExtractOptions,
) -> Result<Document, FormatError> {
    let decoded = encoding::decode(name, bytes, None)?;
    let text = &decoded.text;
    serde_json::from_str::<serde_json::Value>(text).map_err(|e| FormatError::Malformed {
        part: name.to_string(),
        offset: json_offset(text, e.line(), e.column()),
        message: e.to_string(),
    })?;
    let mut indexer = Indexer { s: text.as_bytes(), text, pos: 0 };
    let root = indexer.value(0).ok_or_else(|| FormatError::Malformed {
        part: name.to_string(),
        offset: 0,
        message: "a String Catalog is a JSON object".into(),
    })?;
    let source_language =
        root.get("sourceLanguage").and_then(Node::str).unwrap_or("en").to_string();
    let Some(Node::Object(strings, _)) = root.get("strings") else {
        return Err(FormatError::Malformed {
            part: name.to_string(),
            offset: 0,
            message: "a String Catalog has a `strings` object".into(),
        });
    };
    let mut report = Report::default();
    let mut collected = Collected::default();
    let mut entries = Vec::new();
    for (key, entry) in strings {
        let Node::Object(_, entry_range) = entry else { continue };
        let location = format!("{name}: {key}");
        if let Some(Node::Other(flag)) = entry.get("shouldTranslate")
            && text[flag.clone()].trim() == "false"
        {
            report.kept.push(KeptField {
                location,
                field: key.clone(),
                reason: "shouldTranslate is false".into(),
            });
            continue;
        }
        let localizations = entry.get("localizations");
        let source_unit = localizations.and_then(|l| l.get(&source_language));
        if source_unit.and_then(|u| u.get("variations")).is_some() {
            report.kept.push(KeptField {
                location,
                field: key.clone(),
                reason: "plural or device variations".into(),
            });
            continue;
        }
        let source = source_unit
            .and_then(|u| u.get("stringUnit"))
            .and_then(|u| u.get("value"))
            .and_then(Node::str)
            .unwrap_or(key);
        let (content, slot) = splice::placeholder_slot(source, 0..0);
        if !collected.push(content, slot, location, key) {
            continue;
        }
        if let Some(comment) = entry.get("comment").and_then(Node::str) {
            report.notes.insert(collected.segments.len() as u32 - 1, comment.to_string());
        }
        entries.push((localizations.cloned(), entry_range.clone()));
    }
    let segments = collected.segments.clone();
    Ok(Document::new(
        format,
        segments,
        report,
        Box::new(XcSkeleton { decoded, collected, entries }),
    ))
}

struct XcSkeleton {
    decoded: Decoded,
    collected: Collected,
    /// Per segment: the key's `localizations` (if any) and the key's object range.
    entries: Vec<(Option<Node>, Range<usize>)>,
}

impl XcSkeleton {
    fn place(&self, i: usize, target: &str) -> Place {
        let (localizations, entry) = &self.entries[i];
        let Some(localizations) = localizations else {
            return Place::AddLocalizations(entry.clone());
        };
        let unit = localizations.get(target).and_then(|l| l.get("stringUnit"));
        match unit.and_then(|u| u.get("value")) {
            Some(Node::Str(value, _)) => Place::Existing {
                value: value.clone(),
                state: match unit.and_then(|u| u.get("state")) {
                    Some(Node::Str(r, _)) => Some(r.clone()),
                    _ => None,
                },
            },
            _ => match localizations {
                Node::Object(_, range) => Place::AddLocalization(range.clone()),
                _ => Place::AddLocalizations(entry.clone()),
            },
        }
    }
}

impl Skeleton for XcSkeleton {
    fn merge(
        &self,
        translations: &[Content],
        options: &MergeOptions,
    ) -> Result<Vec<u8>, FormatError> {
        let src = &self.decoded.text;
        let target = options.target.as_str();
        let mut edits = Vec::new();
        for (i, translation) in splice::changed(&self.collected.segments, translations)? {
            let value =
                splice::render_codes(&self.collected.slots[i], translation, &splice::escape_none);
            let quoted = serde_json::to_string(&value).unwrap_or_default();
            let unit = format!(
                "{{ \"stringUnit\" : {{ \"state\" : \"needs_review\", \"value\" : {quoted} }} }}"
            );
            let target_key = serde_json::to_string(target).unwrap_or_default();
            match self.place(i, target) {
                Place::Existing { value, state } => {
                    edits.push(Edit { range: value, text: quoted });
                    if let Some(state) = state {
                        edits.push(Edit { range: state, text: "\"needs_review\"".into() });
                    }
                }
                Place::AddLocalization(range) => {
                    let close = range.end - 1;
                    let empty = src[range.start + 1..close].trim().is_empty();
                    let sep = if empty { "" } else { "," };
                    let at = src[..close].trim_end().len();
                    edits
                        .push(Edit { range: at..at, text: format!("{sep} {target_key} : {unit}") });
                }
                Place::AddLocalizations(range) => {
                    let close = range.end - 1;
                    let empty = src[range.start + 1..close].trim().is_empty();
                    let sep = if empty { "" } else { "," };
                    let at = src[..close].trim_end().len();
                    edits.push(Edit {
                        range: at..at,
                        text: format!("{sep} \"localizations\" : {{ {target_key} : {unit} }} "),
                    });
                }
            }
        }
        let text = splice::apply(src, edits);
        Ok(self.decoded.encode(&text, Unmappable::Question))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradia_core::LanguageTag;

    const SRC: &str = r#"{
  "sourceLanguage" : "en",
  "strings" : {
    "Bye" : {

    },
    "greeting" : {
      "comment" : "Home screen title",
      "localizations" : {
        "en" : {
          "stringUnit" : {
            "state" : "translated",
            "value" : "Hello %@"
          }
        }
      }
    },
    "Save" : {
      "localizations" : {
        "en" : { "stringUnit" : { "state" : "translated", "value" : "Save" } },
        "fr" : { "stringUnit" : { "state" : "translated", "value" : "Enregistrer" } }
      }
    },
    "ID-42" : {
      "shouldTranslate" : false
    },
    "%lld items" : {
      "localizations" : {
        "en" : { "variations" : { "plural" : { "one" : { "stringUnit" : { "state" : "translated", "value" : "%lld item" } } } } }
      }
    }
  },
  "version" : "1.0"
}
"#;

    #[test]
    fn translations_go_into_the_target_localization() {
        let d = extract(
            Format::XcStrings,
            "Localizable.xcstrings",
            SRC.as_bytes(),
            &ExtractOptions::default(),
        )
        .unwrap();
        let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
        assert_eq!(texts, ["Bye", "Hello <x1/>", "Save"]);
        assert_eq!(d.report.notes.get(&1).map(String::as_str), Some("Home screen title"));
        let reasons: Vec<&str> = d.report.kept.iter().map(|k| k.reason.as_str()).collect();
        assert_eq!(reasons, ["shouldTranslate is false", "plural or device variations"]);
        let fr = MergeOptions { target: LanguageTag::parse("fr").unwrap() };
        assert_eq!(d.merge_identity(&fr).unwrap(), SRC.as_bytes());
        let t = vec![
            Content::text("Au revoir"),
            Content::parse("Bonjour <x1/>").unwrap(),
            Content::text("Sauver \"tout\""),
        ];
        let out = String::from_utf8(d.merge(&t, &fr).unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let unit = |key: &str| &v["strings"][key]["localizations"]["fr"]["stringUnit"];
        assert_eq!(unit("Bye")["value"], "Au revoir");
        assert_eq!(unit("greeting")["value"], "Bonjour %@");
        assert_eq!(unit("greeting")["state"], "needs_review");
        assert_eq!(unit("Save")["value"], "Sauver \"tout\"");
        assert_eq!(
            v["strings"]["greeting"]["localizations"]["en"]["stringUnit"]["value"],
            "Hello %@"
        );
        assert_eq!(v["strings"]["ID-42"]["shouldTranslate"], false);
        assert_eq!(v["version"], "1.0");
    }
}
