//! Glossary entries as TBX-Basic (ISO 30042 TBX 2, the `martif` form that CAT tools and
//! translate-toolkit read), and TBX v3's `tbx`/`conceptEntry` form on import.
//!
//! Written: one `termEntry` per entry with a `langSet` per language, each holding one
//! `tig`/`term`; a note is the entry's `<note>`. Two things TBX-Basic has no data category for
//! are written as `descrip`s at the entry level, which other tools read as plain descriptions:
//! "do not translate" as `<descrip type="Translation needed">no</descrip>` (the convention
//! translate-toolkit and Weblate read) and case sensitivity as
//! `<descrip type="caseSensitive">yes</descrip>`.
//!
//! Read: every `termEntry` (or `conceptEntry`) with a term in a `langSet` (`langSec`) of the
//! source language and one of the target language (primary subtags compared, so `en-GB` terms
//! belong to an `en` glossary); the first term of each language is taken. An entry marked "do
//! not translate" needs only its source term. Entries that lack either language are counted in
//! [`Imported::skipped`], not refused: a multilingual term base holds more pairs than one.
//! DOCTYPE declarations are ignored (nothing is fetched or expanded); only the predefined
//! entities and character references are resolved.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use tradia_core::{LanguageTag, Term};

use super::{ExchangeError, MAX_EXCHANGE_ENTRIES};
use crate::xml::{attribute, local_name, resolve_entity};

/// What a TBX import found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Imported {
    /// The entries of the language pair, in file order.
    pub terms: Vec<Term>,
    /// Entries without a term in the source or the target language.
    pub skipped: usize,
}

/// One entry while it is read.
#[derive(Default)]
struct Entry {
    /// (language, first term) per langSet.
    terms: Vec<(Option<String>, String)>,
    note: Option<String>,
    do_not_translate: bool,
    case_sensitive: bool,
}

fn malformed(message: impl Into<String>) -> ExchangeError {
    ExchangeError::Malformed { format: "TBX", message: message.into() }
}

fn lang_of(e: &BytesStart<'_>) -> Option<String> {
    attribute(e, "xml:lang").or_else(|| attribute(e, "lang")).map(|l| l.into_owned())
}

/// Reads the entries of `source` → `target`.
pub fn read_tbx(
    bytes: &[u8],
    source: &LanguageTag,
    target: &LanguageTag,
) -> Result<Imported, ExchangeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| malformed(format!("not UTF-8: {e}")))?;
    let mut reader = Reader::from_str(text.strip_prefix('\u{feff}').unwrap_or(text));
    let mut out = Imported::default();
    let mut entry: Option<Entry> = None;
    let mut lang: Option<String> = None;
    // The element whose text is being collected: `term`, `note` or a `descrip` type.
    let mut collecting: Option<(String, String)> = None;
    let mut depth_in_collect = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| malformed(format!("at byte {}: {e}", reader.error_position())))?;
        match event {
            Event::Start(e) => {
                let qname = e.name().into_inner().to_string();
                let name = local_name(&qname);
                if collecting.is_some() {
                    depth_in_collect += 1;
                    continue;
                }
                match name {
                    "termEntry" | "conceptEntry" => entry = Some(Entry::default()),
                    "langSet" | "langSec" => lang = lang_of(&e),
                    "term" if entry.is_some() => collecting = Some(("term".into(), String::new())),
                    "note" if entry.is_some() && lang.is_none() => {
                        collecting = Some(("note".into(), String::new()));
                    }
                    "descrip" if entry.is_some() => {
                        let kind = attribute(&e, "type").unwrap_or_default().into_owned();
                        collecting = Some((format!("descrip:{kind}"), String::new()));
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                let qname = e.name().into_inner().to_string();
                let name = local_name(&qname);
                if collecting.is_some() && depth_in_collect > 0 {
                    depth_in_collect -= 1;
                    continue;
                }
                if let Some((what, text)) = collecting.take() {
                    if let Some(entry) = entry.as_mut() {
                        let text = text.trim().to_string();
                        match what.as_str() {
                            "term" if !entry.terms.iter().any(|(l, _)| *l == lang) => {
                                entry.terms.push((lang.clone(), text));
                            }
                            "note" if entry.note.is_none() && !text.is_empty() => {
                                entry.note = Some(text);
                            }
                            "descrip:Translation needed" => {
                                entry.do_not_translate = text.eq_ignore_ascii_case("no");
                            }
                            "descrip:caseSensitive" => {
                                entry.case_sensitive = text.eq_ignore_ascii_case("yes");
                            }
                            _ => {}
                        }
                    }
                    continue;
                }
                match name {
                    "langSet" | "langSec" => lang = None,
                    "termEntry" | "conceptEntry" => {
                        if let Some(done) = entry.take() {
                            if out.terms.len() == MAX_EXCHANGE_ENTRIES {
                                return Err(ExchangeError::TooManyEntries);
                            }
                            match pair(done, source, target) {
                                Some(term) => out.terms.push(term),
                                None => out.skipped += 1,
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some((_, text)) = collecting.as_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some((_, text)) = collecting.as_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, text)) = collecting.as_mut() {
                    let name: &str = &r;
                    let ch = resolve_entity(name)
                        .ok_or_else(|| malformed(format!("unknown entity `&{name};`")))?;
                    text.push(ch);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// The entry's term of `source` → `target`, if it has both (or only the source, marked "do not
/// translate").
fn pair(entry: Entry, source: &LanguageTag, target: &LanguageTag) -> Option<Term> {
    let find = |wanted: &LanguageTag| {
        entry.terms.iter().find_map(|(lang, term)| {
            let lang = LanguageTag::parse(lang.as_deref()?).ok()?;
            (lang.same_language(wanted) && !term.is_empty()).then(|| term.clone())
        })
    };
    let source_term = find(source)?;
    let target_term = match find(target) {
        Some(t) => t,
        None if entry.do_not_translate => source_term.clone(),
        None => return None,
    };
    Some(Term {
        source: source_term,
        target: target_term,
        do_not_translate: entry.do_not_translate,
        case_sensitive: entry.case_sensitive,
        note: entry.note,
    })
}

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// Writes entries as a TBX-Basic document titled `title`.
pub fn write_tbx(
    title: &str,
    source: &LanguageTag,
    target: &LanguageTag,
    terms: &[Term],
) -> String {
    let (s, t) = (escape(source.as_str()), escape(target.as_str()));
    let mut out = String::with_capacity(256 + terms.len() * 256);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!("<martif type=\"TBX-Basic\" xml:lang=\"{s}\">\n"));
    out.push_str("  <martifHeader>\n    <fileDesc>\n      <titleStmt><title>");
    out.push_str(&escape(title));
    out.push_str(
        "</title></titleStmt>\n      <sourceDesc><p>Exported by Tradia</p></sourceDesc>\n",
    );
    out.push_str("    </fileDesc>\n  </martifHeader>\n  <text>\n    <body>\n");
    for (i, term) in terms.iter().enumerate() {
        out.push_str(&format!("      <termEntry id=\"e{}\">\n", i + 1));
        if term.do_not_translate {
            out.push_str("        <descrip type=\"Translation needed\">no</descrip>\n");
        }
        if term.case_sensitive {
            out.push_str("        <descrip type=\"caseSensitive\">yes</descrip>\n");
        }
        if let Some(note) = &term.note {
            out.push_str(&format!("        <note>{}</note>\n", escape(note)));
        }
        for (lang, text) in [(&s, &term.source), (&t, &term.target)] {
            out.push_str(&format!(
                "        <langSet xml:lang=\"{lang}\">\n          <tig>\n            <term>{}</term>\n          </tig>\n        </langSet>\n",
                escape(text)
            ));
        }
        out.push_str("      </termEntry>\n");
    }
    out.push_str("    </body>\n  </text>\n</martif>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(s: &str) -> LanguageTag {
        s.parse().unwrap()
    }

    #[test]
    fn reads_tbx_v3_and_skips_other_pairs() {
        let doc = r#"<?xml version="1.0"?><tbx type="TBX-Basic" xml:lang="fr" xmlns="urn:iso:std:iso:30042:ed-2">
<text><body>
<conceptEntry id="1"><langSec xml:lang="fr"><termSec><term>cours &amp; TD</term></termSec></langSec>
<langSec xml:lang="en-GB"><termSec><term>lectures &#38; tutorials</term></termSec></langSec></conceptEntry>
<conceptEntry id="2"><langSec xml:lang="fr"><termSec><term>seul</term></termSec></langSec>
<langSec xml:lang="de"><termSec><term>allein</term></termSec></langSec></conceptEntry>
</body></text></tbx>"#;
        let got = read_tbx(doc.as_bytes(), &tag("fr"), &tag("en")).unwrap();
        assert_eq!(got.skipped, 1);
        assert_eq!(got.terms.len(), 1);
        assert_eq!(got.terms[0].source, "cours & TD");
        assert_eq!(got.terms[0].target, "lectures & tutorials");
    }

    #[test]
    fn malformed_xml_is_an_error() {
        let err = read_tbx(b"<martif><text><body><termEntry></body>", &tag("fr"), &tag("en"));
        assert!(matches!(err, Err(ExchangeError::Malformed { format: "TBX", .. })), "{err:?}");
    }
}
