//! Hard cases of the office filters, on small documents built here: moved formatting, links,
//! notes, fields, tabs, tracked changes, merged cells, right-to-left targets, spreadsheets and
//! OpenDocument specifics. Outputs are checked with an independent XML parser (roxmltree).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Read, Write};

use tradia_core::{Content, LanguageTag};
use tradia_formats::{Document, ExtractOptions, Format, MergeOptions, detect, extract};
use zip::write::SimpleFileOptions;

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const A: &str = "http://schemas.openxmlformats.org/drawingml/2006/main";
const CT_DOC: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml";
const CT_FOOTNOTES: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml";

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

fn read_entry(bytes: &[u8], name: &str) -> String {
    let mut a = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut f = a.by_name(name).unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    s
}

fn content_types(parts: &[(&str, &str)]) -> String {
    let mut s = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>"#,
    );
    for (name, ct) in parts {
        s.push_str(&format!(r#"<Override PartName="/{name}" ContentType="{ct}"/>"#));
    }
    s.push_str("</Types>");
    s
}

/// A DOCX whose body is `body` (inside `w:body`), plus extra parts (name, content type, xml).
fn docx(body: &str, extra: &[(&str, &str, &str)]) -> Vec<u8> {
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>{body}</w:body></w:document>"#
    );
    let mut cts = vec![("word/document.xml", CT_DOC)];
    cts.extend(extra.iter().map(|(n, c, _)| (*n, *c)));
    let ct = content_types(&cts);
    let mut entries =
        vec![("[Content_Types].xml", ct.as_str()), ("word/document.xml", document.as_str())];
    entries.extend(extra.iter().map(|(n, _, x)| (*n, *x)));
    zip_of(&entries)
}

fn fr() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("fr").unwrap() }
}

fn open(bytes: &[u8]) -> Document {
    extract("test", bytes, &ExtractOptions::default()).unwrap()
}

/// Merges translations given as renderings, in segment order.
fn merge(doc: &Document, renderings: &[&str], options: &MergeOptions) -> Vec<u8> {
    assert_eq!(doc.segments.len(), renderings.len(), "segments: {:?}", rendered(doc));
    let t: Vec<Content> = renderings.iter().map(|r| Content::parse(r).unwrap()).collect();
    doc.merge(&t, options).unwrap()
}

fn rendered(doc: &Document) -> Vec<String> {
    doc.segments.iter().map(|s| s.content.render()).collect()
}

/// The runs of the first paragraph containing text: (text, has `w:b`, has `w:i`).
fn word_runs(xml: &str) -> Vec<(String, bool, bool)> {
    let d = roxmltree::Document::parse(xml).unwrap();
    let mut out = Vec::new();
    for r in d.descendants().filter(|n| n.has_tag_name((W, "r"))) {
        let text: String = r
            .children()
            .filter(|c| c.has_tag_name((W, "t")))
            .map(|t| t.text().unwrap_or(""))
            .collect();
        let rpr = r.children().find(|c| c.has_tag_name((W, "rPr")));
        let has = |name: &str| rpr.is_some_and(|p| p.children().any(|c| c.has_tag_name((W, name))));
        if !text.is_empty() {
            out.push((text, has("b"), has("i")));
        }
    }
    out
}

#[test]
fn bold_word_moved_by_translation_keeps_its_bold() {
    let body = r#"<w:p><w:r><w:t xml:space="preserve">The </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>red</w:t></w:r><w:r><w:t xml:space="preserve"> car </w:t></w:r><w:r><w:rPr><w:rFonts w:hint="eastAsia"/></w:rPr><w:t>is fast.</w:t></w:r></w:p>"#;
    let bytes = docx(body, &[]);
    let doc = open(&bytes);
    // Adjacent runs with the same (no) properties are one piece of text.
    assert_eq!(rendered(&doc), ["The <g1>red</g1> car is fast."]);
    let out = merge(&doc, &["La voiture <g1>rouge</g1> est rapide."], &fr());
    let runs = word_runs(&read_entry(&out, "word/document.xml"));
    assert_eq!(
        runs,
        [
            ("La voiture ".to_string(), false, false),
            ("rouge".to_string(), true, false),
            (" est rapide.".to_string(), false, false)
        ]
    );
}

#[test]
fn identity_is_byte_exact_and_dominant_format_needs_no_code() {
    let body = r#"<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r w:rsidR="00A1"><w:rPr><w:i/></w:rPr><w:t>Mostly italic </w:t></w:r><w:proofErr w:type="spellStart"/><w:r><w:rPr><w:i/><w:lang w:val="fr-FR"/></w:rPr><w:t>text</w:t></w:r><w:proofErr w:type="spellEnd"/><w:r><w:t xml:space="preserve"> plain</w:t></w:r></w:p>"#;
    let bytes = docx(body, &[]);
    let doc = open(&bytes);
    assert_eq!(rendered(&doc), ["Mostly italic text<g1> plain</g1>"]);
    assert_eq!(doc.merge_identity(&fr()).unwrap(), bytes);
    let out = merge(&doc, &["Surtout italique<g1> normal</g1>"], &fr());
    let xml = read_entry(&out, "word/document.xml");
    assert_eq!(
        word_runs(&xml),
        [("Surtout italique".to_string(), false, true), (" normal".to_string(), false, false)]
    );
    // Paragraph properties and the first run's attributes are kept.
    assert!(xml.contains(
        r#"<w:pPr><w:jc w:val="center"/></w:pPr><w:r w:rsidR="00A1"><w:rPr><w:i/></w:rPr>"#
    ));
}

#[test]
fn hyperlink_in_the_middle_of_a_sentence() {
    let body = r#"<w:p><w:r><w:t xml:space="preserve">Visit </w:t></w:r><w:hyperlink r:id="rId7" w:history="1"><w:r><w:rPr><w:rStyle w:val="Hyperlink"/></w:rPr><w:t>our site</w:t></w:r></w:hyperlink><w:r><w:t xml:space="preserve"> today.</w:t></w:r></w:p>"#;
    let doc = open(&docx(body, &[]));
    assert_eq!(rendered(&doc), ["Visit <g1>our site</g1> today."]);
    let out = merge(&doc, &["Visitez aujourd'hui <g1>notre site</g1>."], &fr());
    let xml = read_entry(&out, "word/document.xml");
    let d = roxmltree::Document::parse(&xml).unwrap();
    let link = d.descendants().find(|n| n.has_tag_name((W, "hyperlink"))).unwrap();
    assert_eq!(
        link.attribute((
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
            "id"
        )),
        Some("rId7")
    );
    let link_text: String =
        link.descendants().filter(|n| n.has_tag_name((W, "t"))).filter_map(|n| n.text()).collect();
    assert_eq!(link_text, "notre site");
    assert!(link.descendants().any(|n| n.has_tag_name((W, "rStyle"))));
    let all: String =
        d.descendants().filter(|n| n.has_tag_name((W, "t"))).filter_map(|n| n.text()).collect();
    assert_eq!(all, "Visitez aujourd'hui notre site.");
}

#[test]
fn footnote_reference_moves_with_its_word_and_the_note_is_translated() {
    let body = r#"<w:p><w:r><w:t>Cats</w:t></w:r><w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteReference w:id="2"/></w:r><w:r><w:t xml:space="preserve"> sleep a lot.</w:t></w:r></w:p>"#;
    let notes = format!(
        r#"<w:footnotes xmlns:w="{W}"><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:id="2"><w:p><w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> A study.</w:t></w:r></w:p></w:footnote></w:footnotes>"#
    );
    let doc = open(&docx(body, &[("word/footnotes.xml", CT_FOOTNOTES, &notes)]));
    assert_eq!(rendered(&doc), ["Cats<x1/> sleep a lot.", "<x1/> A study."]);
    let out = merge(&doc, &["Les chats dorment beaucoup<x1/>.", "<x1/> Une étude."], &fr());
    let xml = read_entry(&out, "word/document.xml");
    let d = roxmltree::Document::parse(&xml).unwrap();
    // Document order of text and the reference.
    let mut seq = Vec::new();
    for n in d.descendants() {
        if n.has_tag_name((W, "t")) {
            seq.push(n.text().unwrap_or("").to_string());
        } else if n.has_tag_name((W, "footnoteReference")) {
            seq.push(format!("[ref {}]", n.attribute((W, "id")).unwrap()));
        }
    }
    assert_eq!(seq, ["Les chats dorment beaucoup", "[ref 2]", "."]);
    // The reference keeps its run style.
    let r = d
        .descendants()
        .find(|n| n.has_tag_name((W, "footnoteReference")))
        .unwrap()
        .parent()
        .unwrap();
    assert!(
        r.descendants().any(|n| n.has_tag_name((W, "rStyle"))
            && n.attribute((W, "val")) == Some("FootnoteReference"))
    );
    let notes_out = read_entry(&out, "word/footnotes.xml");
    assert!(notes_out.contains("Une étude."), "{notes_out}");
    assert!(notes_out.contains("<w:separator/>"));
}

#[test]
fn fields_keep_instructions_and_only_safe_results_are_translated() {
    let body = concat!(
        r#"<w:p><w:r><w:t xml:space="preserve">Page </w:t></w:r>"#,
        r#"<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE \* MERGEFORMAT </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>3</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>"#,
        r#"<w:r><w:t xml:space="preserve"> of the guide, see </w:t></w:r>"#,
        r#"<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> HYPERLINK "https://example.org" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>the website</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>"#,
        r#"<w:r><w:t xml:space="preserve"> and </w:t></w:r><w:fldSimple w:instr=" DATE "><w:r><w:t>today</w:t></w:r></w:fldSimple><w:r><w:t>.</w:t></w:r></w:p>"#
    );
    let doc = open(&docx(body, &[]));
    // PAGE and DATE are kept whole (one code each); the hyperlink field's result is text.
    assert_eq!(rendered(&doc), ["Page <x1/> of the guide, see <x2/>the website<x3/> and <x4/>."]);
    let out = merge(&doc, &["Page <x1/> du guide, voir <x2/>le site<x3/> et <x4/>."], &fr());
    let xml = read_entry(&out, "word/document.xml");
    assert!(
        xml.contains(r#"<w:instrText xml:space="preserve"> PAGE \* MERGEFORMAT </w:instrText>"#)
    );
    assert!(xml.contains(
        r#"<w:instrText xml:space="preserve"> HYPERLINK "https://example.org" </w:instrText>"#
    ));
    assert!(
        xml.contains(r#"<w:fldSimple w:instr=" DATE "><w:r><w:t>today</w:t></w:r></w:fldSimple>"#)
    );
    let d = roxmltree::Document::parse(&xml).unwrap();
    let texts: Vec<&str> =
        d.descendants().filter(|n| n.has_tag_name((W, "t"))).filter_map(|n| n.text()).collect();
    assert_eq!(texts, ["Page ", "3", " du guide, voir ", "le site", " et ", "today", "."]);
    // begin/separate/end still balanced.
    let kinds: Vec<&str> = d
        .descendants()
        .filter(|n| n.has_tag_name((W, "fldChar")))
        .filter_map(|n| n.attribute((W, "fldCharType")))
        .collect();
    assert_eq!(kinds, ["begin", "separate", "end", "begin", "separate", "end"]);
}

#[test]
fn tab_is_a_standalone_code_inside_its_run() {
    let body = r#"<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>Name:</w:t><w:tab/><w:t>value here</w:t></w:r><w:r><w:t xml:space="preserve"> and a normal tail end</w:t></w:r></w:p>"#;
    let doc = open(&docx(body, &[]));
    assert_eq!(rendered(&doc), ["<g1>Name:<x2/>value here</g1> and a normal tail end"]);
    let out = merge(&doc, &["<g1>Nom :<x2/>valeur ici</g1> et une fin normale"], &fr());
    let xml = read_entry(&out, "word/document.xml");
    let d = roxmltree::Document::parse(&xml).unwrap();
    let tab = d.descendants().find(|n| n.has_tag_name((W, "tab"))).unwrap();
    let run = tab.parent().unwrap();
    assert!(run.has_tag_name((W, "r")));
    assert!(run.descendants().any(|n| n.has_tag_name((W, "b"))), "the tab stays in a bold run");
    assert_eq!(word_runs(&xml)[0], ("Nom :valeur ici".to_string(), true, false));
}

#[test]
fn tracked_insertion_is_translated_and_deletion_kept() {
    let body = r#"<w:p><w:r><w:t xml:space="preserve">The plan </w:t></w:r><w:ins w:id="1" w:author="Ann" w:date="2024-01-01T00:00:00Z"><w:r><w:t>was approved</w:t></w:r></w:ins><w:del w:id="2" w:author="Ann" w:date="2024-01-01T00:00:00Z"><w:r><w:delText>is pending</w:delText></w:r></w:del><w:r><w:t xml:space="preserve"> yesterday.</w:t></w:r></w:p>"#;
    let doc = open(&docx(body, &[]));
    assert_eq!(rendered(&doc), ["The plan <g1>was approved</g1><x2/> yesterday."]);
    let out = merge(&doc, &["Le plan <g1>a été approuvé</g1><x2/> hier."], &fr());
    let xml = read_entry(&out, "word/document.xml");
    assert!(xml.contains(r#"<w:ins w:id="1" w:author="Ann" w:date="2024-01-01T00:00:00Z"><w:r><w:t xml:space="preserve">a été approuvé</w:t></w:r></w:ins>"#), "{xml}");
    assert!(xml.contains(r#"<w:del w:id="2" w:author="Ann" w:date="2024-01-01T00:00:00Z"><w:r><w:delText>is pending</w:delText></w:r></w:del>"#));
}

#[test]
fn merged_cells_keep_their_properties() {
    let body = r#"<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr><w:p><w:r><w:t>Wide cell</w:t></w:r></w:p></w:tc></w:tr><w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>Tall cell</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Other</w:t></w:r></w:p></w:tc></w:tr><w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc><w:p><w:r><w:t>42</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"#;
    let doc = open(&docx(body, &[]));
    // The number-only cell is left alone.
    assert_eq!(rendered(&doc), ["Wide cell", "Tall cell", "Other"]);
    let out = merge(&doc, &["Cellule large", "Cellule haute", "Autre"], &fr());
    let xml = read_entry(&out, "word/document.xml");
    assert!(xml.contains(r#"<w:tcPr><w:gridSpan w:val="2"/></w:tcPr><w:p><w:r><w:t xml:space="preserve">Cellule large</w:t></w:r></w:p>"#));
    assert!(xml.contains(r#"<w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t xml:space="preserve">Cellule haute</w:t></w:r></w:p>"#));
    assert!(xml.contains(r#"<w:tcPr><w:vMerge/></w:tcPr><w:p/>"#));
    assert!(xml.contains("<w:t>42</w:t>"));
}

#[test]
fn right_to_left_target_marks_paragraphs_bidi() {
    let body = r#"<w:p><w:pPr><w:pStyle w:val="Title"/><w:jc w:val="left"/></w:pPr><w:r><w:rPr><w:b/><w:lang w:val="en-GB"/></w:rPr><w:t>Hello world</w:t></w:r></w:p><w:p><w:r><w:t>Second line</w:t></w:r></w:p><w:p><w:pPr><w:bidi/></w:pPr><w:r><w:t>Already bidi</w:t></w:r></w:p><w:p><w:r><w:t>Kept as is</w:t></w:r></w:p>"#;
    let bytes = docx(body, &[]);
    let doc = open(&bytes);
    let ar = MergeOptions { target: LanguageTag::parse("ar").unwrap() };
    // Identity into Arabic changes nothing (nothing was translated).
    assert_eq!(doc.merge_identity(&ar).unwrap(), bytes);
    let out = merge(&doc, &["مرحبا بالعالم", "السطر الثاني", "ثنائي الاتجاه", "Kept as is"], &ar);
    let xml = read_entry(&out, "word/document.xml");
    // w:bidi goes before w:jc (schema order); a paragraph without pPr gets one.
    assert!(
        xml.contains(r#"<w:pPr><w:pStyle w:val="Title"/><w:bidi/><w:jc w:val="left"/></w:pPr>"#),
        "{xml}"
    );
    assert!(
        xml.contains(
            r#"<w:p><w:pPr><w:bidi/></w:pPr><w:r><w:rPr><w:rtl/></w:rPr><w:t xml:space="preserve">السطر الثاني</w:t>"#
        ),
        "{xml}"
    );
    // Runs are marked right to left too, keeping their other properties in schema order.
    assert_eq!(xml.matches("<w:rtl/>").count(), 3, "{xml}");
    assert!(xml.contains(r#"<w:rPr><w:b/><w:rtl/><w:lang w:val="en-GB"/></w:rPr>"#), "{xml}");
    assert_eq!(
        xml.matches("<w:bidi/>").count(),
        3,
        "an untranslated paragraph is not marked: {xml}"
    );
    // Into French nothing is marked.
    let out = merge(&doc, &["Bonjour", "Deuxième", "Déjà", "Kept as is"], &fr());
    assert_eq!(read_entry(&out, "word/document.xml").matches("<w:bidi/>").count(), 1);
}

#[test]
fn translated_word_text_is_tagged_with_the_target_language() {
    const CT_STYLES: &str =
        "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml";
    let styles = format!(
        r#"<w:styles xmlns:w="{W}"><w:docDefaults><w:rPrDefault><w:rPr><w:lang w:val="fr-FR" w:eastAsia="en-US" w:bidi="ar-SA"/></w:rPr></w:rPrDefault></w:docDefaults><w:style w:type="paragraph" w:styleId="Normal"><w:name w:val="Normal"/></w:style></w:styles>"#
    );
    let body = r#"<w:p><w:r><w:rPr><w:i/><w:lang w:val="fr-FR"/></w:rPr><w:t>Bonjour le monde</w:t></w:r></w:p><w:p><w:r><w:rPr><w:lang w:val="fr-FR" w:bidi="ar-SA"/></w:rPr><w:t>Gardé tel quel</w:t></w:r></w:p>"#;
    let bytes = docx(body, &[("word/styles.xml", CT_STYLES, &styles)]);
    let doc = open(&bytes);
    let en = MergeOptions { target: LanguageTag::parse("en-GB").unwrap() };
    // Nothing translated: nothing retagged, byte for byte.
    assert_eq!(doc.merge_identity(&en).unwrap(), bytes);

    let out = merge(&doc, &["Hello world", "Gardé tel quel"], &en);
    let xml = read_entry(&out, "word/document.xml");
    assert!(xml.contains(r#"<w:rPr><w:i/><w:lang w:val="en-GB"/></w:rPr>"#), "{xml}");
    // The untranslated paragraph still says what it is written in.
    assert!(xml.contains(r#"<w:lang w:val="fr-FR" w:bidi="ar-SA"/></w:rPr><w:t>Gardé"#), "{xml}");
    // Text without a tag of its own takes the document default, retagged too; the East Asian
    // and complex-script defaults name other scripts and stay.
    let styles_out = read_entry(&out, "word/styles.xml");
    assert!(
        styles_out.contains(r#"<w:lang w:val="en-GB" w:eastAsia="en-US" w:bidi="ar-SA"/>"#),
        "{styles_out}"
    );

    // Arabic is a complex script: Word reads its language from `w:bidi`.
    let ar = MergeOptions { target: LanguageTag::parse("ar").unwrap() };
    let out = merge(&doc, &["مرحبا بالعالم", "Gardé tel quel"], &ar);
    let styles_out = read_entry(&out, "word/styles.xml");
    assert!(
        styles_out.contains(r#"<w:lang w:val="fr-FR" w:eastAsia="en-US" w:bidi="ar"/>"#),
        "{styles_out}"
    );
    let xml = read_entry(&out, "word/document.xml");
    assert!(xml.contains(r#"<w:lang w:val="fr-FR" w:bidi="ar-SA"/></w:rPr><w:t>Gardé"#), "{xml}");
}

fn pptx(slide_body: &str) -> Vec<u8> {
    let slide = format!(
        r#"<p:sld xmlns:a="{A}" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:nvSpPr><p:cNvPr id="2" name="Text" descr="A red apple"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:txBody><a:bodyPr/>{slide_body}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#
    );
    let layout = format!(
        r#"<p:sldLayout xmlns:a="{A}" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:nvSpPr><p:cNvPr id="2" name="Title"/><p:cNvSpPr/><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>Click to edit title</a:t></a:r></a:p></p:txBody></p:sp><p:sp><p:nvSpPr><p:cNvPr id="3" name="Logo text"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:txBody><a:p><a:r><a:t>Ministry of Education</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sldLayout>"#
    );
    let ct = content_types(&[
        (
            "ppt/slides/slide1.xml",
            "application/vnd.openxmlformats-officedocument.presentationml.slide+xml",
        ),
        (
            "ppt/slideLayouts/slideLayout1.xml",
            "application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml",
        ),
    ]);
    zip_of(&[
        ("[Content_Types].xml", &ct),
        ("ppt/slides/slide1.xml", &slide),
        ("ppt/slideLayouts/slideLayout1.xml", &layout),
    ])
}

#[test]
fn presentation_bold_moves_alt_text_layouts_and_rtl() {
    let bytes = pptx(
        r#"<a:p><a:pPr algn="l"/><a:r><a:rPr lang="en-US" dirty="0"/><a:t>Press </a:t></a:r><a:r><a:rPr lang="en-US" b="1"/><a:t>Start</a:t></a:r><a:r><a:rPr lang="en-US" err="1"/><a:t> now</a:t></a:r><a:endParaRPr lang="en-US"/></a:p>"#,
    );
    assert_eq!(detect("x.bin", &bytes).unwrap(), Format::Pptx);
    let doc = open(&bytes);
    // Slide alt text, the slide paragraph, and only the layout's non-placeholder text.
    assert_eq!(
        rendered(&doc),
        ["A red apple", "Press <g1>Start</g1> now", "Ministry of Education"]
    );
    // The placeholder's prompt is kept, and the report says so.
    let kept: Vec<_> = doc.report.kept.iter().filter(|k| k.field == "p:sp").collect();
    assert_eq!(kept.len(), 1, "{:?}", doc.report.kept);
    assert!(kept[0].location.contains("(title): `Click to edit title`"), "{:?}", kept[0]);
    assert!(kept[0].reason.contains("placeholder prompt"));
    let ar = MergeOptions { target: LanguageTag::parse("ar").unwrap() };
    let out = merge(&doc, &["تفاحة حمراء", "<g1>ابدأ</g1> الآن اضغط", "وزارة التربية"], &ar);
    let xml = read_entry(&out, "ppt/slides/slide1.xml");
    assert!(xml.contains(r#"descr="تفاحة حمراء""#));
    assert!(xml.contains(r#"<a:pPr algn="l" rtl="1"/><a:r><a:rPr lang="ar" b="1"/><a:t>ابدأ</a:t></a:r><a:r><a:rPr lang="ar" dirty="0"/><a:t> الآن اضغط</a:t></a:r><a:endParaRPr lang="ar"/>"#), "{xml}");
    let layout = read_entry(&out, "ppt/slideLayouts/slideLayout1.xml");
    assert!(layout.contains("Click to edit title") && layout.contains("وزارة التربية"));
}

const S: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

fn xlsx(shared: &str, sheet1_data: &str, workbook_extra: &str) -> Vec<u8> {
    let wb = format!(
        r#"<workbook xmlns="{S}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Budget" sheetId="1" r:id="rId1"/><sheet name="Notes" sheetId="2" r:id="rId2"/></sheets>{workbook_extra}</workbook>"#
    );
    let sst = format!(r#"<sst xmlns="{S}" count="4" uniqueCount="4">{shared}</sst>"#);
    let sheet =
        format!(r#"<worksheet xmlns="{S}"><sheetData>{sheet1_data}</sheetData></worksheet>"#);
    let ct = content_types(&[
        (
            "xl/workbook.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        ),
        (
            "xl/sharedStrings.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
        ),
        (
            "xl/worksheets/sheet1.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
        ),
    ]);
    zip_of(&[
        ("[Content_Types].xml", &ct),
        ("xl/workbook.xml", &wb),
        ("xl/sharedStrings.xml", &sst),
        ("xl/worksheets/sheet1.xml", &sheet),
    ])
}

#[test]
fn spreadsheet_strings_sheet_names_and_values() {
    let shared = r#"<si><t>Total cost</t></si><si><t>2024-01-01</t></si><si><r><t xml:space="preserve">Very </t></r><r><rPr><b/></rPr><t>important</t></r><r><t xml:space="preserve"> note for you</t></r></si><si><t>12.5</t></si>"#;
    let data = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><f>SUM(B2:B3)</f><v>7</v></c><c r="C1" t="inlineStr"><is><t>Inline label</t></is></c><c r="D1" t="str"><f>"x"&amp;"y"</f><v>xy</v></c></row>"#;
    // "Notes" is referred to by a defined name: it must be kept.
    let bytes = xlsx(
        shared,
        data,
        r#"<definedNames><definedName name="n">Notes!$A$1</definedName></definedNames>"#,
    );
    assert_eq!(detect("x", &bytes).unwrap(), Format::Xlsx);
    let doc = open(&bytes);
    assert_eq!(
        rendered(&doc),
        ["Budget", "Total cost", "Very <g1>important</g1> note for you", "Inline label"]
    );
    assert!(doc.report.kept.iter().any(|k| k.location.contains("Notes")));
    let out = merge(
        &doc,
        &["Budget FR", "Coût total", "Note <g1>très importante</g1> pour vous", "Libellé"],
        &fr(),
    );
    let wb = read_entry(&out, "xl/workbook.xml");
    assert!(
        wb.contains(r#"<sheet name="Budget FR" sheetId="1""#)
            && wb.contains(r#"<sheet name="Notes""#)
    );
    let sst = read_entry(&out, "xl/sharedStrings.xml");
    assert!(sst.contains(r#"<si><t>Coût total</t></si><si><t>2024-01-01</t></si>"#), "{sst}");
    assert!(sst.contains(r#"<r><t xml:space="preserve">Note </t></r><r><rPr><b/></rPr><t xml:space="preserve">très importante</t></r><r><t xml:space="preserve"> pour vous</t></r>"#), "{sst}");
    assert!(sst.contains("<si><t>12.5</t></si>"));
    let sheet = read_entry(&out, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<c r="B1"><f>SUM(B2:B3)</f><v>7</v></c>"#));
    assert!(sheet.contains(r#"<is><t>Libellé</t></is>"#));
    assert!(sheet.contains(r#"<f>"x"&amp;"y"</f><v>xy</v>"#));
}

#[test]
fn invalid_sheet_name_translation_keeps_the_source_name() {
    let bytes = xlsx("<si><t>Word</t></si>", "", "");
    let doc = open(&bytes);
    assert_eq!(rendered(&doc), ["Budget", "Notes", "Word"]);
    let out = merge(&doc, &["Budget: 2024/25 [draft]", "Remarques", "Mot"], &fr());
    let wb = read_entry(&out, "xl/workbook.xml");
    assert!(wb.contains(r#"name="Budget""#) && wb.contains(r#"name="Remarques""#), "{wb}");
    // Two sheets may not end up with the same name.
    let out = merge(&doc, &["Feuille", "feuille", "Mot"], &fr());
    let wb = read_entry(&out, "xl/workbook.xml");
    assert!(wb.contains(r#"name="Feuille""#) && wb.contains(r#"name="Notes""#), "{wb}");
}

const ODF_NS: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:dc="http://purl.org/dc/elements/1.1/""#;

fn odf(mime: &str, body: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODF_NS}><office:body>{body}</office:body></office:document-content>"#
    );
    let meta = format!(
        r#"<office:document-meta {ODF_NS}><office:meta><dc:title>Annual report</dc:title></office:meta></office:document-meta>"#
    );
    zip_of(&[("mimetype", mime), ("content.xml", &content), ("meta.xml", &meta)])
}

#[test]
fn odt_spans_spaces_notes_and_tracked_changes() {
    let body = concat!(
        r#"<office:text><text:tracked-changes><text:changed-region text:id="c1"><text:deletion><text:p>Deleted words</text:p></text:deletion></text:changed-region></text:tracked-changes>"#,
        r#"<text:p text:style-name="P1">The <text:span text:style-name="T1">red</text:span><text:span text:style-name="T1"> car</text:span> is <text:a xlink:href="https://example.org">here</text:a>.<text:note text:id="n1" text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body><text:p>A note.</text:p></text:note-body></text:note></text:p>"#,
        r#"<text:p>Two<text:s text:c="2"/>spaces<text:tab/>and tab<text:change-start text:change-id="c1"/></text:p>"#,
        "<text:p>\n   Indented   source   text\n</text:p></office:text>"
    );
    let bytes = odf("application/vnd.oasis.opendocument.text", body);
    assert_eq!(detect("x", &bytes).unwrap(), Format::Odt);
    let doc = open(&bytes);
    assert_eq!(
        rendered(&doc),
        [
            "Annual report",
            "The <g1>red car</g1> is <g2>here</g2>.<x3/>",
            "A note.",
            "Two  spaces<x1/>and tab<x2/>",
            "Indented source text "
        ]
    );
    assert_eq!(doc.merge_identity(&fr()).unwrap(), bytes);
    let out = merge(
        &doc,
        &[
            "Rapport annuel",
            "La <g2>voici</g2>, <g1>voiture rouge</g1>.<x3/>",
            "Une note.",
            " Deux  espaces<x1/>et tab<x2/>",
            "Texte  décalé ",
        ],
        &fr(),
    );
    let xml = read_entry(&out, "content.xml");
    assert!(xml.contains(r#"<text:p text:style-name="P1">La <text:a xlink:href="https://example.org">voici</text:a>, <text:span text:style-name="T1">voiture rouge</text:span>.<text:note text:id="n1" text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body><text:p>Une note.</text:p></text:note-body></text:note></text:p>"#), "{xml}");
    assert!(xml.contains(r#"<text:p><text:s/>Deux <text:s/>espaces<text:tab/>et tab<text:change-start text:change-id="c1"/></text:p>"#), "{xml}");
    assert!(xml.contains(r#"<text:p>Texte <text:s/>décalé </text:p>"#), "{xml}");
    assert!(xml.contains("<text:p>Deleted words</text:p>"));
    assert!(read_entry(&out, "meta.xml").contains("<dc:title>Rapport annuel</dc:title>"));
    // mimetype still first and stored.
    let mut a = zip::ZipArchive::new(Cursor::new(&out)).unwrap();
    let first = a.by_index(0).unwrap();
    assert_eq!(first.name().unwrap(), "mimetype");
    assert_eq!(first.compression(), zip::CompressionMethod::Stored);
}

#[test]
fn ods_values_and_formulas_are_left_alone() {
    let body = r#"<office:spreadsheet><table:table table:name="Data"><table:table-row><table:table-cell office:value-type="string"><text:p>Label</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="3"><text:p>3</text:p></table:table-cell><table:table-cell office:value-type="date" office:date-value="2024-01-01"><text:p>Jan 1, 2024</text:p></table:table-cell><table:table-cell table:formula="of:=[.A1]" office:value-type="string" office:string-value="Label"><text:p>Label</text:p></table:table-cell><table:table-cell table:number-columns-spanned="2"><text:p>Merged text</text:p></table:table-cell><table:covered-table-cell/></table:table-row></table:table></office:spreadsheet>"#;
    let bytes = odf("application/vnd.oasis.opendocument.spreadsheet", body);
    assert_eq!(detect("x", &bytes).unwrap(), Format::Ods);
    let doc = open(&bytes);
    assert_eq!(rendered(&doc), ["Annual report", "Data", "Label", "Merged text"]);
    let out = merge(&doc, &["Rapport", "Données", "Libellé", "Texte fusionné"], &fr());
    let xml = read_entry(&out, "content.xml");
    assert!(xml.contains(r#"table:name="Données""#));
    assert!(xml.contains("<text:p>Jan 1, 2024</text:p>"));
    assert!(xml.contains(r#"office:string-value="Label"><text:p>Label</text:p>"#));
    assert!(xml.contains(r#"<table:table-cell table:number-columns-spanned="2"><text:p>Texte fusionné</text:p></table:table-cell><table:covered-table-cell/>"#));
}

#[test]
fn translations_with_wrong_codes_are_refused() {
    let body = r#"<w:p><w:r><w:t xml:space="preserve">The </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>red</w:t></w:r><w:r><w:t xml:space="preserve"> car</w:t></w:r></w:p>"#;
    let doc = open(&docx(body, &[]));
    let bad = vec![Content::parse("La voiture rouge").unwrap()];
    let err = doc.merge(&bad, &fr()).unwrap_err();
    assert_eq!(err.code(), "invalid_translation");
}

#[test]
fn broken_packages_give_clear_errors() {
    // Not a zip at all but starting like one.
    let mut junk = b"PK\x03\x04".to_vec();
    junk.extend_from_slice(&[0u8; 64]);
    assert!(
        tradia_formats::extract_as(Format::Docx, "x.docx", &junk, &ExtractOptions::default())
            .is_err()
    );
    // Malformed XML in the main part.
    let bytes = docx("<w:p><w:r><w:t>Oops</w:r></w:p>", &[]);
    let err = extract("x.docx", &bytes, &ExtractOptions::default()).unwrap_err();
    assert_eq!(err.code(), "malformed_document", "{err}");
    // A DOCTYPE is refused.
    let ct = content_types(&[("word/document.xml", CT_DOC)]);
    let evil = zip_of(&[
        ("[Content_Types].xml", &ct),
        (
            "word/document.xml",
            r#"<!DOCTYPE w [<!ENTITY e "x">]><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>"#,
        ),
    ]);
    assert_eq!(
        extract("x.docx", &evil, &ExtractOptions::default()).unwrap_err().code(),
        "doctype_refused"
    );
    // Too many entries.
    let mut options = ExtractOptions::default();
    options.limits.max_entries = 1;
    assert_eq!(extract("x.docx", &bytes, &options).unwrap_err().code(), "archive_limit_exceeded");
}

#[test]
fn odt_right_to_left_target_sets_writing_mode_on_paragraph_styles() {
    let ns = format!(
        r#"{ODF_NS} xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0""#
    );
    let content = format!(
        r#"<office:document-content {ns}><office:automatic-styles><style:style style:name="P1" style:family="paragraph"><style:paragraph-properties fo:text-align="start"/></style:style><style:style style:name="P2" style:family="paragraph"><style:paragraph-properties style:writing-mode="lr-tb"></style:paragraph-properties></style:style><style:style style:name="T1" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style></office:automatic-styles><office:body><office:text><text:p text:style-name="P1">Hello world</text:p></office:text></office:body></office:document-content>"#
    );
    let styles = format!(
        r#"<office:document-styles {ns}><office:styles><style:default-style style:family="paragraph"><style:text-properties fo:font-size="12pt"/></style:default-style></office:styles></office:document-styles>"#
    );
    let bytes = zip_of(&[
        ("mimetype", "application/vnd.oasis.opendocument.text"),
        ("content.xml", &content),
        ("styles.xml", &styles),
    ]);
    let doc = open(&bytes);
    assert_eq!(rendered(&doc), ["Hello world"]);
    let ar = MergeOptions { target: LanguageTag::parse("ar").unwrap() };
    assert_eq!(doc.merge_identity(&ar).unwrap(), bytes, "nothing translated: nothing marked");
    let out = merge(&doc, &["مرحبا بالعالم"], &ar);
    let c = read_entry(&out, "content.xml");
    assert!(
        c.contains(
            r#"<style:paragraph-properties fo:text-align="start" style:writing-mode="rl-tb"/>"#
        ),
        "{c}"
    );
    assert!(c.contains(r#"<style:paragraph-properties style:writing-mode="rl-tb"></style:paragraph-properties>"#), "{c}");
    assert!(c.contains(r#"<style:style style:name="T1" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style>"#));
    let s = read_entry(&out, "styles.xml");
    assert!(s.contains(r#"<style:default-style style:family="paragraph"><style:paragraph-properties style:writing-mode="rl-tb"/><style:text-properties"#), "{s}");
    let out = merge(&doc, &["Bonjour le monde"], &fr());
    assert!(!read_entry(&out, "content.xml").contains("rl-tb"));
    assert_eq!(read_entry(&out, "styles.xml"), styles);
}

#[test]
fn spreadsheet_table_column_headers_are_translated_with_the_table() {
    let table = format!(
        r#"<table xmlns="{S}" id="1" name="Inventory" displayName="Inventory" ref="A1:B3"><tableColumns count="2"><tableColumn id="1" name="Item"/><tableColumn id="2" name="Quantity"/></tableColumns></table>"#
    );
    let sst = format!(
        r#"<sst xmlns="{S}"><si><t>Item</t></si><si><t>Quantity</t></si><si><t>Apple</t></si></sst>"#
    );
    let ct = content_types(&[
        (
            "xl/sharedStrings.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
        ),
        (
            "xl/tables/table1.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml",
        ),
    ]);
    let bytes = zip_of(&[
        ("[Content_Types].xml", &ct),
        ("xl/sharedStrings.xml", &sst),
        ("xl/tables/table1.xml", &table),
    ]);
    let doc = open(&bytes);
    assert_eq!(rendered(&doc), ["Item", "Quantity", "Apple"]);
    assert!(doc.report.kept.is_empty());
    let out = merge(&doc, &["Article", "Quantité", "Pomme"], &fr());
    assert!(read_entry(&out, "xl/sharedStrings.xml").contains("<si><t>Article</t></si>"));
    let table = read_entry(&out, "xl/tables/table1.xml");
    assert!(
        table.contains(
            r#"<tableColumn id="1" name="Article"/><tableColumn id="2" name="Quantité"/>"#
        ),
        "{table}"
    );
}

#[test]
fn odt_language_tags_become_the_target() {
    const STYLE_NS: &str = r#"xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0""#;
    let body = format!(
        r#"<office:automatic-styles {STYLE_NS}><style:style style:name="P1" style:family="paragraph"><style:text-properties fo:language="fr" fo:country="FR" style:language-complex="ar" style:country-complex="SA"/></style:style><style:style style:name="Code" style:family="text"><style:text-properties fo:language="zxx" fo:country="none"/></style:style></office:automatic-styles><office:text><text:p text:style-name="P1">Bonjour le monde</text:p></office:text>"#
    );
    let bytes = odf("application/vnd.oasis.opendocument.text", &body);
    let doc = open(&bytes);
    assert_eq!(doc.merge_identity(&fr()).unwrap(), bytes, "identity is byte-exact");
    let pt_br = MergeOptions { target: LanguageTag::parse("pt-BR").unwrap() };
    let out = merge(&doc, &["Olá mundo", "Relatório anual"], &pt_br);
    let c = read_entry(&out, "content.xml");
    assert!(
        c.contains(r#"<style:text-properties fo:language="pt" fo:country="BR" style:language-complex="ar" style:country-complex="SA"/>"#),
        "{c}"
    );
    assert!(c.contains(r#"fo:language="zxx" fo:country="none""#), "code stays untagged: {c}");
    // Arabic names the complex-script language; a target without a region has no country.
    let ar = MergeOptions { target: LanguageTag::parse("ar").unwrap() };
    let c = read_entry(&merge(&doc, &["مرحبا", "تقرير"], &ar), "content.xml");
    assert!(c.contains(r#"fo:language="fr" fo:country="FR" style:language-complex="ar" style:country-complex="none""#), "{c}");
    // Nothing translated: nothing retagged.
    let c = read_entry(&merge(&doc, &["Annual report", "Bonjour le monde"], &pt_br), "content.xml");
    assert!(c.contains(r#"fo:language="fr" fo:country="FR""#), "{c}");
}
