//! Each filter that records a title gives it as `Document::title` (and the office packages their
//! subject or keywords as `domain`), on documents built here; the others give none.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Write};

use tradia_formats::{Document, ExtractOptions, MAX_TITLE_CHARS, extract, extract_path};
use zip::write::SimpleFileOptions;

fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        let method = if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        w.start_file(*name, SimpleFileOptions::default().compression_method(method)).unwrap();
        w.write_all(data.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn open(name: &str, bytes: &[u8]) -> Document {
    extract(name, bytes, &ExtractOptions::default()).unwrap()
}

const CT_DOC: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";

fn docx(core: Option<&str>) -> Vec<u8> {
    let mut ct = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>"#,
    );
    ct.push_str(&format!(r#"<Override PartName="/word/document.xml" ContentType="{CT_DOC}"/>"#));
    ct.push_str(r#"<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"#);
    let document = r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Le vent souffle.</w:t></w:r></w:p></w:body></w:document>"#;
    let mut entries = vec![("[Content_Types].xml", ct.as_str()), ("word/document.xml", document)];
    if let Some(core) = core {
        entries.push(("docProps/core.xml", core));
    }
    zip_of(&entries)
}

#[test]
fn docx_title_and_subject_come_from_the_core_properties() {
    let core = r#"<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Les bases de la
    météorologie</dc:title><dc:subject>Sciences &amp; climat</dc:subject><cp:keywords>vent</cp:keywords></cp:coreProperties>"#;
    let doc = open("cours.docx", &docx(Some(core)));
    assert_eq!(doc.title.as_deref(), Some("Les bases de la météorologie"));
    assert_eq!(doc.domain.as_deref(), Some("Sciences & climat"));
    assert_eq!(doc.brief().as_deref(), Some("Les bases de la météorologie — Sciences & climat"));
    // Reading the title changes nothing of what is translated.
    assert!(doc.segments.iter().any(|s| s.content.plain_text() == "Le vent souffle."));

    let keywords_only = r#"<cp:coreProperties xmlns:cp="c" xmlns:dc="d"><dc:title></dc:title><cp:keywords>vent, pression</cp:keywords></cp:coreProperties>"#;
    let doc = open("cours.docx", &docx(Some(keywords_only)));
    assert_eq!((doc.title.as_deref(), doc.domain.as_deref()), (None, Some("vent, pression")));
    let doc = open("cours.docx", &docx(None));
    assert_eq!((doc.title.as_deref(), doc.domain.as_deref(), doc.brief()), (None, None, None));
}

#[test]
fn odt_title_and_keywords_come_from_meta_xml() {
    let ns = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/""#;
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}><office:body><office:text><text:p>Bonjour.</text:p></office:text></office:body></office:document-content>"#
    );
    let meta = format!(
        r#"<office:document-meta {ns}><office:meta><meta:keyword>budget</meta:keyword><dc:title>Rapport annuel</dc:title></office:meta></office:document-meta>"#
    );
    let bytes = zip_of(&[
        ("mimetype", "application/vnd.oasis.opendocument.text"),
        ("content.xml", &content),
        ("meta.xml", &meta),
    ]);
    let doc = open("rapport.odt", &bytes);
    assert_eq!(doc.title.as_deref(), Some("Rapport annuel"));
    assert_eq!(doc.domain.as_deref(), Some("budget"));
}

#[test]
fn html_title_is_the_title_element_not_a_title_attribute() {
    let page = r#"<html><head><title>  Guide &amp; FAQ </title></head><body><p title="tip">Text.</p></body></html>"#;
    assert_eq!(open("page.html", page.as_bytes()).title.as_deref(), Some("Guide & FAQ"));
    let untitled = r#"<html><body><p title="tip">Text.</p></body></html>"#;
    assert_eq!(open("page.html", untitled.as_bytes()).title, None);
}

#[test]
fn markdown_title_is_the_front_matter_title_else_the_first_top_heading() {
    let front = "---\ntitle: Installer Tradia\n---\n\n# Autre chose\n\nTexte.\n";
    assert_eq!(open("a.md", front.as_bytes()).title.as_deref(), Some("Installer Tradia"));
    let heading = "Intro text.\n\n## Sub\n\n# The *real* title\n\nMore.\n";
    assert_eq!(open("a.md", heading.as_bytes()).title.as_deref(), Some("The real title"));
    assert_eq!(open("a.md", b"## Only a sub-heading\n\nText.\n").title, None);
}

const SCENARI_NS: &str = r#"xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3""#;

fn scenari_item(title: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><sc:item {SCENARI_NS}><op:expUc><op:uM>{title}</op:uM><sp:pb><op:pb><sp:info><op:pbTi><sp:title><op:title><sc:para xml:space="preserve">Un bloc</sc:para></op:title></sp:title></op:pbTi><op:res><sp:txt><op:txt><sc:para xml:space="preserve">Le <sc:phrase role="url"><op:urlM xml:space="default"><sp:url>https://example.org</sp:url><sp:title>Infobulle</sp:title></op:urlM>guide</sc:phrase>.</sc:para></op:txt></sp:txt></op:res></sp:info></op:pb></sp:pb></op:expUc></sc:item>"#
    )
}

#[test]
fn scenari_title_is_the_items_metadata_title_plain_or_rich() {
    let rich = scenari_item(
        r#"<sp:title><op:title><sc:para xml:space="preserve">Les bases de la <sc:inlineStyle role="emp">météo</sc:inlineStyle></sc:para></op:title></sp:title>"#,
    );
    assert_eq!(open("c.xml", rich.as_bytes()).title.as_deref(), Some("Les bases de la météo"));
    let plain = scenari_item("<sp:title>Quiz sur le vent</sp:title>");
    assert_eq!(open("c.xml", plain.as_bytes()).title.as_deref(), Some("Quiz sur le vent"));
    // A template placeholder says nothing; a block or link title is not the item's.
    let template = scenari_item("<sp:title>$$title$$</sp:title>");
    assert_eq!(open("c.xml", template.as_bytes()).title, None);
    assert_eq!(open("c.xml", scenari_item("").as_bytes()).title, None);
}

#[test]
fn a_scenari_archive_takes_the_first_titled_item_read_from_bytes_or_a_file() {
    let untitled = scenari_item("");
    let titled = scenari_item("<sp:title>Module 2</sp:title>");
    let bytes = zip_of(&[("a/untitled.xml", &untitled), ("b/titled.xml", &titled)]);
    assert_eq!(open("export.scar", &bytes).title.as_deref(), Some("Module 2"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.scar");
    std::fs::write(&path, &bytes).unwrap();
    let doc = extract_path("export.scar", &path, &ExtractOptions::default()).unwrap();
    assert_eq!(doc.title.as_deref(), Some("Module 2"));
}

#[test]
fn titles_are_bounded_and_formats_without_one_give_none() {
    let long = format!("<html><head><title>{}</title></head></html>", "Mot ".repeat(100));
    let title = open("p.html", long.as_bytes()).title.unwrap();
    assert_eq!(title.chars().count(), MAX_TITLE_CHARS);
    assert_eq!(open("notes.txt", b"Just some text.\n").title, None);
    let po = "msgid \"\"\nmsgstr \"Project-Id-Version: x\\n\"\n\nmsgid \"Hello\"\nmsgstr \"\"\n";
    assert_eq!(open("m.po", po.as_bytes()).title, None);
}
