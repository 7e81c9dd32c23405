//! Detection never takes structure for prose: the cases of issue 13 (prefixed XLIFF roots,
//! UTF-16/UTF-32 catalogues, SVG, generic XML, YAML anchors) are translated with their markup
//! and keys unchanged; an extension the content contradicts, and structure that does not parse,
//! are refused with both facts in the message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag};
use tradia_formats::{
    Document, ExtractOptions, Format, FormatError, MergeOptions, detect, extract,
};

fn fr() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("fr").unwrap() }
}

/// Detects and extracts, checks identity, returns the document and its pseudo translation.
fn translate(name: &str, bytes: &[u8], format: Format) -> (Document, Vec<u8>) {
    assert_eq!(detect(name, bytes).unwrap(), format, "{name}");
    let d = extract(name, bytes, &ExtractOptions::default()).unwrap();
    assert!(!d.segments.is_empty(), "{name}: nothing to translate");
    assert_eq!(d.merge_identity(&fr()).unwrap(), bytes, "{name}: identity");
    let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = d.merge(&pseudo, &fr()).unwrap();
    (d, out)
}

fn utf16le(text: &str, bom: bool) -> Vec<u8> {
    let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
    text.encode_utf16().for_each(|u| out.extend_from_slice(&u.to_le_bytes()));
    out
}

fn utf32be(text: &str) -> Vec<u8> {
    let mut out = vec![0, 0, 0xFE, 0xFF];
    text.chars().for_each(|c| out.extend_from_slice(&u32::from(c).to_be_bytes()));
    out
}

fn json_keys(value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                json_keys(v, &format!("{path}.{k}"), out);
            }
        }
        other => out.push(format!("{path}={}", other.is_string())),
    }
}

#[test]
fn a_prefixed_xliff_root_is_xliff_and_its_targets_take_the_prefix() {
    let src = "<?xml version=\"1.0\"?>\n<xlf:xliff xmlns:xlf=\"urn:oasis:names:tc:xliff:document:1.2\" version=\"1.2\">\n <xlf:file source-language=\"en\" datatype=\"plaintext\" original=\"a\">\n  <xlf:body>\n   <xlf:trans-unit id=\"1\">\n    <xlf:source>Save the <xlf:g id=\"b\">file</xlf:g></xlf:source>\n   </xlf:trans-unit>\n  </xlf:body>\n </xlf:file>\n</xlf:xliff>\n";
    let (d, out) = translate("a.xlf", src.as_bytes(), Format::Xliff);
    assert_eq!(d.segments[0].content.render(), "Save the <g1>file</g1>");
    let out = String::from_utf8(out).unwrap();
    let doc = roxmltree::Document::parse(&out).unwrap();
    let target = doc.descendants().find(|n| n.has_tag_name("target")).expect("a target");
    assert_eq!(target.tag_name().namespace(), Some("urn:oasis:names:tc:xliff:document:1.2"));
    assert!(out.contains("<xlf:target state=\"needs-review-translation\""), "{out}");
    assert!(out.contains("<xlf:g id=\"b\">⟦fílé⟧</xlf:g></xlf:target>"), "{out}");
}

#[test]
fn an_undeclared_prefix_on_a_tool_element_is_read_without_a_namespace() {
    let src = "<xliff xmlns=\"urn:oasis:names:tc:xliff:document:1.2\" version=\"1.2\"><file source-language=\"en\" datatype=\"plaintext\" original=\"a\"><body><trans-unit id=\"1\" mq:status=\"ok\"><source>Hello world</source><mq:history>edited</mq:history></trans-unit></body></file></xliff>";
    let d = extract("u.xlf", src.as_bytes(), &ExtractOptions::default()).unwrap();
    assert_eq!(d.segments.len(), 1);
    assert!(d.report.warnings.iter().any(|w| w.contains("`mq`")), "{:?}", d.report.warnings);
    let out = d.merge(&[Content::text("Bonjour le monde")], &fr()).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("<mq:history>edited</mq:history>")
            && out.contains(">Bonjour le monde</target>")
    );
    // Declared on a sibling only: which namespace was meant cannot be told.
    let ambiguous = src.replace("<body>", "<body><mq:x xmlns:mq=\"urn:mq\"/>");
    match extract("u.xlf", ambiguous.as_bytes(), &ExtractOptions::default()) {
        Err(FormatError::Malformed { message, .. }) => {
            assert!(message.contains("`mq` is declared elsewhere"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn utf16_and_utf32_catalogues_are_decoded_and_written_back_as_such() {
    let json = "{\n  \"menu\": {\"open\": \"Open file\", \"count\": 3},\n  \"title\": \"Hello {name}\"\n}\n";
    let yaml = "fr:\n  hello: Hello world\n  bye: Goodbye now\n";
    let cases: [(&str, Vec<u8>, Format); 4] = [
        ("cat.json", utf16le(json, true), Format::Json),
        ("cat", utf16le(json, false), Format::Json),
        ("cat.json", utf32be(json), Format::Json),
        ("fr.yml", utf16le(yaml, true), Format::Yaml),
    ];
    for (name, bytes, format) in cases {
        let (d, out) = translate(name, &bytes, format);
        assert_eq!(out.len() % 2, 0);
        assert_eq!(&out[..2], &bytes[..2], "{name}: same byte-order mark or first unit");
        let text = match format {
            Format::Json if bytes.starts_with(&[0, 0]) => out
                .chunks(4)
                .skip(1)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])).unwrap())
                .collect::<String>(),
            _ => {
                let units: Vec<u16> = out
                    .chunks(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .skip_while(|u| *u == 0xFEFF)
                    .collect();
                String::from_utf16(&units).unwrap()
            }
        };
        if format == Format::Json {
            let (a, b): (serde_json::Value, serde_json::Value) =
                (serde_json::from_str(json).unwrap(), serde_json::from_str(&text).unwrap());
            let (mut ka, mut kb) = (Vec::new(), Vec::new());
            json_keys(&a, "", &mut ka);
            json_keys(&b, "", &mut kb);
            assert_eq!(ka, kb, "{name}: same keys");
            assert_eq!(b["menu"]["open"], "⟦Ópéñ fílé⟧");
            assert_eq!(b["title"], "⟦Hélló⟧ {name}");
            assert_eq!(d.segments.len(), 2);
        } else {
            let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
            assert_eq!(v["fr"]["bye"].as_str(), Some("⟦Góódbýé ñów⟧"));
        }
    }
}

#[test]
fn the_five_structured_cases_are_translated_with_markup_and_keys_unchanged() {
    // SVG and a generic XML vocabulary: XML, never prose.
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><text x=\"1\">Hello world</text></svg>";
    let (_, out) = translate("c.svg", svg.as_bytes(), Format::Xml);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><text x=\"1\">⟦Hélló wórld⟧</text></svg>"
    );
    let xml = "<inventory><item sku=\"A1\"><label>Hello world</label></item></inventory>";
    let (_, out) = translate("data.xml", xml.as_bytes(), Format::Xml);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "<inventory><item sku=\"A1\"><label>⟦Hélló wórld⟧</label></item></inventory>"
    );
    // YAML anchors, aliases and merge keys stay; the anchored value is translated once.
    let yaml = "defaults: &defaults\n  title: Hello world\n  button: Save file\nen:\n  <<: *defaults\n  other: Goodbye now\n  alias: *defaults\n";
    let (d, out) = translate("en.yml", yaml.as_bytes(), Format::Yaml);
    assert_eq!(d.segments.len(), 3, "the aliased values are not separate segments");
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("defaults: &defaults\n") && out.contains("<<: *defaults\n"), "{out}");
    assert!(out.contains("alias: *defaults\n"), "{out}");
    let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(&out).unwrap();
    let mut merged = v["en"].clone();
    merged.apply_merge().unwrap();
    assert_eq!(merged["title"].as_str(), Some("⟦Hélló wórld⟧"));
    assert_eq!(merged["alias"]["button"].as_str(), Some("⟦Sávé fílé⟧"));
}

#[test]
fn an_extension_the_content_contradicts_is_refused_with_both_facts() {
    let cases: [(&str, &[u8], &[&str]); 6] = [
        ("report.docx", b"", &[".docx file is a zip archive", "it is empty"]),
        ("report.docx", b"{\"a\": \"b\"}", &[".docx file is a zip archive", "JSON catalogue"]),
        (
            "fr.json",
            b"{\"a\": \"b\",}",
            &[".json file holds JSON", "does not parse", "trailing comma"],
        ),
        ("fr.json", b"Hello there\n", &[".json file holds JSON", "does not parse"]),
        ("a.xlf", b"<root><x/></root>", &[".xlf file holds XLIFF", "root element is <root>"]),
        ("pic.svg", b"<svg><text>x</svg>", &[".svg file holds SVG", "not well-formed"]),
    ];
    for (name, bytes, needles) in cases {
        let error = detect(name, bytes).unwrap_err();
        assert_eq!(error.code(), "malformed_document", "{name}");
        let message = error.to_string();
        assert!(message.starts_with(name), "{message}");
        for needle in needles {
            assert!(message.contains(needle), "{name}: `{needle}` not in: {message}");
        }
    }
    // `.xml` names many vocabularies; `.txt` says nothing about structure.
    assert_eq!(detect("data.xml", b"{\"a\": \"b\"}").unwrap(), Format::Json);
    assert_eq!(detect("notes.txt", b"Dear all,\n\nsee you.\n").unwrap(), Format::PlainText);
}

#[test]
fn structure_that_does_not_parse_is_refused_not_translated_as_prose() {
    let error = detect("data", b"{\"a\": \"b\",}").unwrap_err();
    assert!(error.to_string().contains("starts and ends like JSON"), "{error}");
    let error = detect("page.txt", b"<config><a>1</b></config>").unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("starts like XML (<config>)") && message.contains("expected </a>"),
        "{message}"
    );
    let error = detect("x", b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"y\">]><x>&e;</x>")
        .unwrap_err();
    assert_eq!(error.code(), "doctype_refused");
    // Prose that merely starts with `<` or `[` stays prose.
    for text in ["<3 you all\n", "<john@example.com> wrote:\nhello\n", "[citation needed] text\n"] {
        assert_eq!(detect("a.txt", text.as_bytes()).unwrap(), Format::PlainText, "{text}");
    }
}

mod arbitrary_input {
    use proptest::prelude::*;
    use tradia_core::LanguageTag;
    use tradia_formats::{ExtractOptions, MergeOptions, detect, extract};

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        let pieces = prop::sample::select(vec![
            &b"<"[..],
            b">",
            b"</",
            b"<?xml version=\"1.0\"?>",
            b"<a:b xmlns:a=\"u\">",
            b"{",
            b"}",
            b"[",
            b"]",
            b"\"",
            b"\\",
            b"=",
            b";",
            b",",
            b"\n",
            b"\0",
            b"\xFF\xFE",
            b"\xFE\xFF",
            b"\xC3\xA9",
            b"\xE2\x9F\xA6",
            b"\xFF",
            b"key",
            b"msgid \"a\"\n",
            b"msgstr[0]\n",
            b"<xliff>",
            b"<svg>",
            b"%s",
            b"@",
            b"-- ",
            b": ",
            b"\\u00",
            b"/*",
            b"*/",
        ]);
        prop::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

        /// Whatever the bytes and the name, detection and extraction answer without panicking,
        /// and what extracts merges back byte-exactly.
        #[test]
        fn detection_and_extraction_never_panic(data in bytes(), name in prop::sample::select(vec![
            "a.json", "a.yml", "a.xml", "a.svg", "a.xlf", "a.po", "a.properties", "a.csv",
            "a.tsv", "a.strings", "a.xcstrings", "a.arb", "a.txt", "a", "a.docx", "a.srt",
        ])) {
            let _ = detect(name, &data);
            if let Ok(d) = extract(name, &data, &ExtractOptions::default()) {
                let options = MergeOptions { target: LanguageTag::parse("fr").unwrap() };
                prop_assert_eq!(d.merge_identity(&options).unwrap(), data);
            }
        }
    }
}
