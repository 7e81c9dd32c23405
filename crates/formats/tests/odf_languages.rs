//! OpenDocument language tags after translation, on a text document built here: a style used by
//! translated and by kept paragraphs is retagged and copied, the kept paragraphs pointing to the
//! copy with the source language (automatic styles of `content.xml` and common styles of
//! `styles.xml` alike); a style only kept text uses keeps its language; the default style takes
//! the target. The output is checked with an independent XML parser and, where LibreOffice is
//! installed (required under `CI=true`), opened by it: each paragraph reads in its real language.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Read, Write};
use std::path::PathBuf;
use std::process::Command;

use tradia_core::{Content, LanguageTag};
use tradia_formats::{ExtractOptions, MergeOptions, extract};
use zip::write::SimpleFileOptions;

const NS: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" office:version="1.3""#;
const FR: &str = r#"fo:language="fr" fo:country="FR""#;

fn odt() -> Vec<u8> {
    let styles = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-styles {NS}><office:styles><style:default-style style:family="paragraph"><style:text-properties {FR}/></style:default-style><style:style style:name="Standard" style:family="paragraph"/><style:style style:name="Quote" style:display-name="Quotation" style:family="paragraph" style:parent-style-name="Standard"><style:paragraph-properties fo:margin-left="1cm"/><style:text-properties {FR} fo:font-style="italic"/></style:style></office:styles></office:document-styles>"#
    );
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS}><office:automatic-styles><style:style style:name="P1" style:family="paragraph" style:parent-style-name="Standard"><style:text-properties {FR} fo:font-weight="bold"/></style:style><style:style style:name="P2" style:family="paragraph" style:parent-style-name="Standard"><style:text-properties {FR}/></style:style><style:style style:name="T1" style:family="text"><style:text-properties {FR}/></style:style></office:automatic-styles><office:body><office:text><text:p text:style-name="P1">Bonjour tout le monde</text:p><text:p text:style-name="P1">Ceci reste en français</text:p><text:p text:style-name="P2">Texte conservé <text:span text:style-name="T1">tel quel</text:span></text:p><text:p text:style-name="Quote">Une citation traduite</text:p><text:p text:style-name="Quote">Une citation gardée</text:p></office:text></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in [
        ("mimetype", "application/vnd.oasis.opendocument.text"),
        ("META-INF/manifest.xml", manifest),
        ("content.xml", content.as_str()),
        ("styles.xml", styles.as_str()),
    ] {
        let method = if name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        w.start_file(name, SimpleFileOptions::default().compression_method(method)).unwrap();
        w.write_all(data.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn read_entry(bytes: &[u8], name: &str) -> String {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    a.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

/// Translates the paragraphs that do not say they stay (`reste`, `conservé`, `gardée`).
fn translated() -> (Vec<u8>, Vec<u8>) {
    let input = odt();
    let doc = extract("lettre.odt", &input, &ExtractOptions::default()).unwrap();
    let target = MergeOptions { target: LanguageTag::parse("en-GB").unwrap() };
    assert_eq!(doc.merge_identity(&target).unwrap(), input, "identity is byte-exact");
    let translations: Vec<Content> = doc
        .segments
        .iter()
        .map(|s| match s.content.plain_text().as_str() {
            "Bonjour tout le monde" => Content::text("Hello everyone"),
            "Une citation traduite" => Content::text("A translated quotation"),
            _ => s.content.clone(),
        })
        .collect();
    let output = doc.merge(&translations, &target).unwrap();
    (input, output)
}

#[test]
fn a_style_shared_by_translated_and_kept_paragraphs_is_copied_for_the_kept_ones() {
    let (_, out) = translated();
    let c = read_entry(&out, "content.xml");
    roxmltree::Document::parse(&c).unwrap();
    // P1: retagged for the translated paragraph, copied with French for the kept one.
    assert!(c.contains(r#"<style:style style:name="P1" style:family="paragraph" style:parent-style-name="Standard"><style:text-properties fo:language="en" fo:country="GB" fo:font-weight="bold"/></style:style><style:style style:name="P1_src" style:family="paragraph" style:parent-style-name="Standard"><style:text-properties fo:language="fr" fo:country="FR" fo:font-weight="bold"/></style:style>"#), "{c}");
    assert!(c.contains(r#"<text:p text:style-name="P1">Hello everyone</text:p><text:p text:style-name="P1_src">Ceci reste en français</text:p>"#), "{c}");
    // Only kept text uses P2 and T1: their language stays, and they get no copy.
    assert!(c.contains(r#"<style:style style:name="P2" style:family="paragraph" style:parent-style-name="Standard"><style:text-properties fo:language="fr" fo:country="FR"/></style:style><style:style style:name="T1" style:family="text"><style:text-properties fo:language="fr" fo:country="FR"/></style:style>"#), "{c}");
    assert!(!c.contains("P2_src") && !c.contains("T1_src"), "{c}");
    // A common style of styles.xml used from content.xml: copied there, with its display name.
    assert!(c.contains(r#"<text:p text:style-name="Quote">A translated quotation</text:p><text:p text:style-name="Quote_src">Une citation gardée</text:p>"#), "{c}");
    let s = read_entry(&out, "styles.xml");
    roxmltree::Document::parse(&s).unwrap();
    assert!(s.contains(r#"<style:default-style style:family="paragraph"><style:text-properties fo:language="en" fo:country="GB"/></style:default-style>"#), "the default style takes the target: {s}");
    assert!(s.contains(r#"<style:style style:name="Quote_src" style:display-name="Quotation (source)" style:family="paragraph" style:parent-style-name="Standard"><style:paragraph-properties fo:margin-left="1cm"/><style:text-properties fo:language="fr" fo:country="FR" fo:font-style="italic"/></style:style>"#), "{s}");
    assert!(s.contains(r#"style:name="Quote" style:display-name="Quotation" style:family="paragraph" style:parent-style-name="Standard"><style:paragraph-properties fo:margin-left="1cm"/><style:text-properties fo:language="en" fo:country="GB""#), "{s}");
    // The output reads back, with the same paragraphs.
    let again = extract("lettre.odt", &out, &ExtractOptions::default()).unwrap();
    assert_eq!(again.segments.len(), 5);
}

#[test]
fn everything_kept_or_everything_translated_makes_no_copy() {
    let input = odt();
    let doc = extract("lettre.odt", &input, &ExtractOptions::default()).unwrap();
    let target = MergeOptions { target: LanguageTag::parse("en").unwrap() };
    let all: Vec<Content> =
        doc.segments.iter().map(|s| tradia_core::pseudo::pseudo_content(&s.content)).collect();
    let out = doc.merge(&all, &target).unwrap();
    let c = read_entry(&out, "content.xml");
    assert!(!c.contains("_src"), "{c}");
    assert!(!c.contains(r#"fo:language="fr""#), "every style takes the target: {c}");
    assert!(c.contains(r#"fo:language="en" fo:country="none""#), "{c}");
    assert!(!read_entry(&out, "styles.xml").contains("_src"));
    // Nothing translated: nothing retagged, nothing copied.
    let out =
        doc.merge(&doc.segments.iter().map(|s| s.content.clone()).collect::<Vec<_>>(), &target);
    assert_eq!(out.unwrap(), input);
}

fn soffice() -> Option<PathBuf> {
    let found = ["soffice", "libreoffice"].into_iter().find_map(|c| {
        let out = Command::new("sh").arg("-c").arg(format!("command -v {c}")).output().ok()?;
        let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !p.is_empty()).then(|| PathBuf::from(p))
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "soffice is required when CI=true (apt: libreoffice-writer)"
        );
        eprintln!("LibreOffice check skipped: soffice not found");
    }
    found
}

/// The language LibreOffice gives the paragraph holding `text` in its flat ODF: the paragraph's
/// style's, else its parents', else the default paragraph style's.
fn language_of(fodt: &str, text: &str) -> Option<String> {
    let d = roxmltree::Document::parse(fodt).unwrap();
    let text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0";
    let style_ns = "urn:oasis:names:tc:opendocument:xmlns:style:1.0";
    let fo_ns = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0";
    let p = d.descendants().find(|n| {
        n.has_tag_name((text_ns, "p")) && n.descendants().any(|t| t.text() == Some(text))
    })?;
    let lang_of = |n: roxmltree::Node<'_, '_>| {
        n.children()
            .find(|c| c.has_tag_name((style_ns, "text-properties")))
            .and_then(|t| t.attribute((fo_ns, "language")))
            .map(str::to_string)
    };
    let mut name = p.attribute((text_ns, "style-name")).map(str::to_string);
    while let Some(n) = name {
        let style = d.descendants().find(|s| {
            s.has_tag_name((style_ns, "style"))
                && s.attribute((style_ns, "family")) == Some("paragraph")
                && s.attribute((style_ns, "name")) == Some(n.as_str())
        })?;
        if let Some(lang) = lang_of(style) {
            return Some(lang);
        }
        name = style.attribute((style_ns, "parent-style-name")).map(str::to_string);
    }
    let default = d.descendants().find(|s| {
        s.has_tag_name((style_ns, "default-style"))
            && s.attribute((style_ns, "family")) == Some("paragraph")
    })?;
    lang_of(default)
}

#[test]
fn libreoffice_opens_the_output_and_reads_each_paragraph_in_its_language() {
    let Some(soffice) = soffice() else { return };
    let (_, out) = translated();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lettre.odt");
    std::fs::write(&file, &out).unwrap();
    let status = Command::new(soffice)
        .arg(format!("-env:UserInstallation=file://{}", dir.path().join("profile").display()))
        .args(["--headless", "--norestore", "--convert-to", "fodt", "--outdir"])
        .arg(dir.path().join("flat"))
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let fodt = std::fs::read_to_string(dir.path().join("flat/lettre.fodt"))
        .expect("LibreOffice opened the output and wrote it back");
    for (text, lang) in [
        ("Hello everyone", "en"),
        ("Ceci reste en français", "fr"),
        ("A translated quotation", "en"),
        ("Une citation gardée", "fr"),
    ] {
        assert_eq!(language_of(&fodt, text).as_deref(), Some(lang), "{text}");
    }
}
