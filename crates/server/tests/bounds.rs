#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The work one upload may cause is bounded (issue 14, point 3), and archives travel through
//! the service as files (issue 13, point 6):
//! - a limit an upload already shows (the XML an office package declares) is a 422 naming it,
//!   and nothing is stored;
//! - a file past the segment limit, or past the job's, fails with the limit's code while the
//!   job's other files are translated;
//! - a `.scar` with a large stored entry comes back with that entry byte for byte.

mod common;

use std::io::Write;
use std::sync::Arc;

use common::*;
use serde_json::Value;
use tradia_server::{PseudoGateway, RunningServer, ServerSettings};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

/// A `.docx` of `paragraphs` small paragraphs.
fn docx(seed: &str, paragraphs: usize) -> Vec<u8> {
    let mut w = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    w.start_file("[Content_Types].xml", deflated).unwrap();
    w.write_all(CONTENT_TYPES.as_bytes()).unwrap();
    w.start_file("word/document.xml", deflated).unwrap();
    w.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#).unwrap();
    for n in 0..paragraphs {
        write!(w, "<w:p><w:r><w:t>Le paragraphe {n} du rapport {seed}.</w:t></w:r></w:p>").unwrap();
    }
    w.write_all(b"</w:body></w:document>").unwrap();
    w.finish().unwrap().into_inner()
}

async fn pseudo_server(settings: ServerSettings) -> RunningServer {
    tradia_server::start(settings, Arc::new(PseudoGateway), None).await.unwrap()
}

fn stored_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("files"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_file())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_upload_past_the_xml_limit_is_refused_naming_it_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = ServerSettings::for_tests(dir.path());
    settings.limits.document.max_xml_bytes = 64 * 1024;
    let server = pseudo_server(settings).await;
    let base = base(&server);
    // About 100 KB of XML, deflated to a few KB: under the upload limit, over the XML one.
    let (status, body) =
        post_job(&base, &[("rapport.docx", docx("a", 2_000))], &[("target_lang", "en")]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "xml_limit_exceeded", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("rapport.docx") && message.contains("TRADIA_MAX_XML_MB"), "{body}");
    assert_eq!(stored_files(dir.path()), 0, "a refused upload leaves no file");
    // Under the limit, the same kind of file is accepted.
    let (status, body) =
        post_job(&base, &[("court.docx", docx("b", 20))], &[("target_lang", "en")]).await;
    assert_eq!(status, 202, "{body}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_past_the_segment_limits_fail_with_their_codes_and_the_others_are_translated() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = ServerSettings::for_tests(dir.path());
    settings.limits.document.max_segments = 100;
    settings.limits.max_segments_per_job = 150;
    let server = pseudo_server(settings).await;
    let base = base(&server);
    let files = [
        ("un.docx", docx("un", 80)),
        // 80 more would make 160 in the job: over the job's limit, not the file's.
        ("deux.docx", docx("deux", 80)),
        // Over the file's limit.
        ("trois.docx", docx("trois", 120)),
        // Still fits after the refused ones.
        ("quatre.docx", docx("quatre", 60)),
    ];
    let (status, job) =
        post_job(&base, &files, &[("source_lang", "fr"), ("target_lang", "en")]).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap();
    let done = wait_job(&base, id, 60, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(done["status"], "done", "{done}");
    let file = |i: usize| &done["files"][i];
    assert_eq!(file(0)["done"], true, "{done}");
    assert_eq!(file(1)["error"]["code"], "job_segment_limit_exceeded", "{done}");
    let message = file(1)["error"]["message"].as_str().unwrap();
    assert!(message.contains("TRADIA_MAX_SEGMENTS_PER_JOB"), "{message}");
    assert_eq!(file(2)["error"]["code"], "segment_limit_exceeded", "{done}");
    let message = file(2)["error"]["message"].as_str().unwrap();
    assert!(message.contains("TRADIA_MAX_SEGMENTS_PER_FILE"), "{message}");
    assert!(message.contains("trois.docx"), "{message}");
    // 80 + 60 = 140 segments: within the job's limit.
    assert_eq!(file(3)["done"], true, "{done}");
    let response = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let entries = unzip(&response.bytes().await.unwrap());
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["un.docx", "quatre.docx"]);
    let options = tradia_formats::ExtractOptions::default();
    let translated = tradia_formats::extract("un.docx", &entries[0].1, &options).unwrap();
    assert_eq!(translated.segments.len(), 80);
    assert!(translated.segments.iter().all(|s| s.content.plain_text().contains('⟦')));
    server.shutdown().await.unwrap();
}

/// A `.scar` with one Scenari item and a stored media entry of `big` pseudo-random bytes.
fn scar(big: usize) -> (Vec<u8>, Vec<u8>) {
    let mut media = vec![0u8; big];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in media.iter_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *b = state as u8;
    }
    let mut w = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    w.start_file("cours/eau.xml", deflated).unwrap();
    w.write_all(&scenari_item("eau", 3)).unwrap();
    w.start_file("media/video.mp4", stored).unwrap();
    w.write_all(&media).unwrap();
    w.start_file("cours/pluie.xml", deflated).unwrap();
    w.write_all(&scenari_item("pluie", 2)).unwrap();
    (w.finish().unwrap().into_inner(), media)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_archive_with_a_large_stored_entry_comes_back_with_it_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let server = pseudo_server(ServerSettings::for_tests(dir.path())).await;
    let base = base(&server);
    let (archive, media) = scar(24 << 20);
    let (status, job) = post_job(
        &base,
        &[("cours.scar", archive.clone())],
        &[("source_lang", "fr"), ("target_lang", "en")],
    )
    .await;
    assert_eq!(status, 202, "{job}");
    assert_eq!(job["files"][0]["format"], "scenari_archive", "{job}");
    let id = job["id"].as_str().unwrap();
    let done: Value =
        wait_job(&base, id, 120, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(done["status"], "done", "{done}");
    assert!(done["files"][0]["error"].is_null(), "{done}");
    let response = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let output = response.bytes().await.unwrap();
    let entries = unzip(&output);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["cours/eau.xml", "media/video.mp4", "cours/pluie.xml"]);
    assert!(entries[1].1 == media, "the media entry is not the same bytes");
    for (_, item) in [&entries[0], &entries[2]] {
        assert!(String::from_utf8_lossy(item).contains('⟦'), "item translated");
    }
    // The raw copy keeps the entry's compressed bytes: the output is the input's size give or
    // take the items' translations.
    assert!(
        output.len().abs_diff(archive.len()) < 64 * 1024,
        "{} vs {}",
        output.len(),
        archive.len()
    );
    // No temporary output is left behind.
    let spool = dir.path().join("spool");
    if spool.exists() {
        assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0, "spool not emptied");
    }
    server.shutdown().await.unwrap();
}
