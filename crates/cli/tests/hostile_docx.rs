//! The amplification case of issue 14: a small `.docx` (1.2 MB as the `zip` crate deflates it,
//! 600 KB with a stronger deflate) whose `word/document.xml`
//! expands to about 200 MB of valid XML (4.1 million small paragraphs). Run as a child process
//! under GNU `time -v`, `tradia translate --engine pseudo` refuses it with the XML limit's
//! message, at once and within the documented memory ceiling, instead of building millions of
//! segments.
//!
//! The archive is written by the test, streamed (the XML in 51 KB pieces, deflated as it
//! goes); building it takes most of the test's time, hence `#[ignore]`: run it with
//! `cargo test -p tradia --test hostile_docx -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

/// The memory ceiling documented in the README for a hostile upload refused by the XML limit.
const REFUSED_CEILING_MIB: u64 = 64;

/// Writes a `.docx` of `paragraphs` small paragraphs (51 bytes of XML each).
fn build(path: &Path, paragraphs: usize) {
    let mut w = ZipWriter::new(BufWriter::new(File::create(path).unwrap()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    w.start_file("[Content_Types].xml", deflated).unwrap();
    w.write_all(CONTENT_TYPES.as_bytes()).unwrap();
    w.start_file("word/document.xml", deflated.large_file(true)).unwrap();
    w.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#).unwrap();
    let chunk = "<w:p><w:r><w:t>Bonjour le monde</w:t></w:r></w:p>".repeat(1000);
    for _ in 0..paragraphs / 1000 {
        w.write_all(chunk.as_bytes()).unwrap();
    }
    w.write_all(b"</w:body></w:document>").unwrap();
    w.finish().unwrap().flush().unwrap();
}

fn peak_rss_kib(stderr: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.contains("Maximum resident set size"))
        .unwrap_or_else(|| panic!("no peak RSS in GNU time's output: {stderr}"));
    line.rsplit(':').next().unwrap().trim().parse().unwrap()
}

#[test]
#[ignore = "builds a 200 MB-XML document (about a minute); run with --ignored"]
fn the_209_mb_xml_docx_is_refused_by_the_xml_limit_within_the_ceiling() {
    assert!(
        Path::new("/usr/bin/time").exists(),
        "GNU time is needed (Debian package `time`, installed by .ci/run)"
    );
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("rapport.docx");
    build(&input, 4_100_000);
    let size = std::fs::metadata(&input).unwrap().len();
    println!("rapport.docx: {} KB for about 209 MB of XML", size / 1000);
    assert!(size < 2 << 20, "the test document should be small: {size} bytes");
    let started = std::time::Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_tradia"))
        .args(["translate", "rapport.docx", "--from", "fr", "--to", "en", "--engine", "pseudo"])
        .args(["-o", "out"])
        .env_remove("TRADIA_MAX_XML_MB")
        .env_remove("TRADIA_MAX_SEGMENTS_PER_FILE")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the file fails: {stderr}");
    assert!(stderr.contains("rapport.docx"), "{stderr}");
    assert!(stderr.contains("TRADIA_MAX_XML_MB"), "the message names the limit: {stderr}");
    assert!(!dir.path().join("out/rapport.docx").exists(), "no output for a refused file");
    let rss = peak_rss_kib(&stderr);
    println!("refused in {:?}, peak RSS {} MiB", started.elapsed(), rss / 1024);
    assert!(rss < REFUSED_CEILING_MIB * 1024, "peak RSS {rss} KiB over {REFUSED_CEILING_MIB} MiB");
}
