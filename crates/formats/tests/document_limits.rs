//! The work one document may cause is bounded (issue 14, point 3): segments per file and XML
//! per document, each refused with its own error naming the limit, before the work is done.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use tradia_formats::{ExtractOptions, Format, FormatError, Limits};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

/// A `.docx` of `paragraphs` small paragraphs.
fn docx(paragraphs: usize) -> Vec<u8> {
    let mut w = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    w.start_file("[Content_Types].xml", deflated).unwrap();
    w.write_all(CONTENT_TYPES.as_bytes()).unwrap();
    w.start_file("word/document.xml", deflated).unwrap();
    w.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#).unwrap();
    for n in 0..paragraphs {
        write!(w, "<w:p><w:r><w:t>Paragraphe {n}</w:t></w:r></w:p>").unwrap();
    }
    w.write_all(b"</w:body></w:document>").unwrap();
    w.finish().unwrap().into_inner()
}

fn options(limits: Limits) -> ExtractOptions {
    ExtractOptions { limits, ..ExtractOptions::default() }
}

#[test]
fn a_docx_over_the_segment_limit_is_refused_naming_it() {
    let bytes = docx(120);
    let at = |max_segments| options(Limits { max_segments, ..Limits::default() });
    let doc = tradia_formats::extract("a.docx", &bytes, &at(120)).unwrap();
    assert_eq!(doc.segments.len(), 120);
    let err = tradia_formats::extract("a.docx", &bytes, &at(119)).unwrap_err();
    assert!(matches!(err, FormatError::TooManySegments { limit: 119 }), "{err:?}");
    assert_eq!(err.code(), "segment_limit_exceeded");
    assert!(err.to_string().contains("TRADIA_MAX_SEGMENTS_PER_FILE"), "{err}");
    // The same from a file (the path the service and the command line take).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.docx");
    std::fs::write(&path, &bytes).unwrap();
    let err = tradia_formats::extract_path("a.docx", &path, &at(10)).unwrap_err();
    assert!(matches!(err, FormatError::TooManySegments { limit: 10 }), "{err:?}");
}

#[test]
fn a_docx_over_the_xml_limit_is_refused_before_parsing_and_at_precheck() {
    let bytes = docx(2_000); // about 90 KB of XML, deflated to a few KB
    let limits = Limits { max_xml_bytes: 50_000, ..Limits::default() };
    let err = tradia_formats::extract("a.docx", &bytes, &options(limits)).unwrap_err();
    assert!(matches!(err, FormatError::XmlTooLarge { limit: 50_000 }), "{err:?}");
    assert_eq!(err.code(), "xml_limit_exceeded");
    assert!(err.to_string().contains("TRADIA_MAX_XML_MB"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.docx");
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(tradia_formats::detect_path("a.docx", &path).unwrap(), Format::Docx);
    let err = tradia_formats::precheck_path(Format::Docx, &path, &limits).unwrap_err();
    assert!(matches!(err, FormatError::XmlTooLarge { .. }), "{err:?}");
    let err = tradia_formats::extract_path("a.docx", &path, &options(limits)).unwrap_err();
    assert!(matches!(err, FormatError::XmlTooLarge { .. }), "{err:?}");
    // Under the limit: accepted by both.
    let roomy = Limits { max_xml_bytes: 1 << 20, ..Limits::default() };
    tradia_formats::precheck_path(Format::Docx, &path, &roomy).unwrap();
    assert_eq!(
        tradia_formats::extract_path("a.docx", &path, &options(roomy)).unwrap().segments.len(),
        2_000
    );
}

#[test]
fn xml_files_and_other_formats_hold_the_limits_too() {
    let item = format!(
        r#"<?xml version="1.0"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:op="utc.fr:ics/opale3" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive"><op:expUc><op:expUcM><sp:title>{}</sp:title></op:expUcM></op:expUc></sc:item>"#,
        "Le titre ".repeat(100)
    );
    let limits = Limits { max_xml_bytes: 500, ..Limits::default() };
    let err = tradia_formats::extract("cours.xml", item.as_bytes(), &options(limits)).unwrap_err();
    assert!(matches!(err, FormatError::XmlTooLarge { limit: 500 }), "{err:?}");

    let text: String = (0..50).map(|n| format!("Paragraphe {n}.\n\n")).collect();
    let at = |max_segments| options(Limits { max_segments, ..Limits::default() });
    assert_eq!(
        tradia_formats::extract("a.txt", text.as_bytes(), &at(50)).unwrap().segments.len(),
        50
    );
    let err = tradia_formats::extract("a.txt", text.as_bytes(), &at(49)).unwrap_err();
    assert!(matches!(err, FormatError::TooManySegments { limit: 49 }), "{err:?}");
}
