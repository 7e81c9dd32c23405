#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every kind of bad input answers a 4xx with a stable code and a readable message, and stores
//! nothing (no job row, no file left in blob storage).

mod common;

use common::*;
use serde_json::{Value, json};

async fn assert_nothing_stored(base: &str, dir: &std::path::Path) {
    let list: Value =
        client().get(format!("{base}/api/v1/jobs")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["jobs"].as_array().unwrap().len(), 0, "a job was stored: {list}");
    let files = std::fs::read_dir(dir.join("files"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_file())
        .count();
    assert_eq!(files, 0, "a file was left in blob storage");
}

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.len() > 10, "message too short: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_job_uploads_are_refused_and_nothing_is_stored() {
    let sim = start_sim(2, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(dir.path(), &sim);
    settings.max_upload_bytes = 64 * 1024;
    settings.max_files = 3;
    let server = start_with(settings).await;
    let base = base(&server);
    let good = scenari_item("ok", 2);
    let en = [("source_lang", "fr"), ("target_lang", "en")];
    let mut checked = 0;

    // Unsupported format.
    let (s, b) =
        post_job(&base, &[("photo.bin", vec![0u8, 159, 146, 150, 1, 2, 3, 255])], &en).await;
    assert_error(s, &b, 415, "unsupported_format");
    assert!(b["error"]["message"].as_str().unwrap().contains("supported"), "{b}");
    checked += 1;
    // A damaged document keeps its own code and message (it is not "unsupported").
    let (s, b) = post_job(&base, &[("rapport.docx", b"plain text, not a zip".to_vec())], &en).await;
    assert_error(s, &b, 422, "malformed_document");
    let message = b["error"]["message"].as_str().unwrap();
    assert!(message.contains("rapport.docx") && message.contains("zip"), "{b}");
    assert!(!message.contains("not supported"), "{b}");
    checked += 1;
    // Empty file.
    let (s, b) = post_job(&base, &[("vide.xml", vec![])], &en).await;
    assert_error(s, &b, 400, "empty_file");
    checked += 1;
    // Wrong language codes.
    let (s, b) = post_job(&base, &[("a.xml", good.clone())], &[("target_lang", "klingon!")]).await;
    assert_error(s, &b, 400, "invalid_language");
    let (s, b) = post_job(
        &base,
        &[("a.xml", good.clone())],
        &[("source_lang", "zz"), ("target_lang", "en")],
    )
    .await;
    assert_error(s, &b, 400, "invalid_language");
    checked += 2;
    // Missing target.
    let (s, b) = post_job(&base, &[("a.xml", good.clone())], &[]).await;
    assert_error(s, &b, 400, "missing_target_lang");
    checked += 1;
    // Same source and target.
    let (s, b) = post_job(
        &base,
        &[("a.xml", good.clone())],
        &[("source_lang", "fr"), ("target_lang", "FR")],
    )
    .await;
    assert_error(s, &b, 400, "same_language");
    checked += 1;
    // Unknown model.
    let (s, b) = post_job(
        &base,
        &[("a.xml", good.clone())],
        &[("target_lang", "en"), ("model", "no-such-model:1b")],
    )
    .await;
    assert_error(s, &b, 400, "unknown_model");
    checked += 1;
    // Oversized upload (over 64 KiB in all).
    let big = vec![b'a'; 50 * 1024];
    let (s, b) = post_job(&base, &[("a.txt", big.clone()), ("b.txt", big)], &en).await;
    assert_error(s, &b, 413, "upload_too_large");
    assert!(b["error"]["message"].as_str().unwrap().contains("MAX_UPLOAD_MB"));
    checked += 1;
    // Too many files.
    let four: Vec<(&str, Vec<u8>)> =
        ["1.xml", "2.xml", "3.xml", "4.xml"].iter().map(|n| (*n, good.clone())).collect();
    let (s, b) = post_job(&base, &four, &en).await;
    assert_error(s, &b, 400, "too_many_files");
    checked += 1;
    // No file.
    let (s, b) = post_job(&base, &[], &en).await;
    assert_error(s, &b, 400, "missing_file");
    checked += 1;
    // Not multipart at all.
    let response = client()
        .post(format!("{base}/api/v1/jobs"))
        .json(&json!({"target_lang": "en"}))
        .send()
        .await
        .unwrap();
    let s = response.status().as_u16();
    let b: Value = response.json().await.unwrap();
    assert_error(s, &b, 400, "malformed_multipart");
    checked += 1;
    // Malformed multipart body (boundary never closed, garbage inside).
    let response = client()
        .post(format!("{base}/api/v1/jobs"))
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xml\"\r\n\r\nhello")
        .send()
        .await
        .unwrap();
    let s = response.status().as_u16();
    let b: Value = response.json().await.unwrap();
    assert_error(s, &b, 400, "malformed_multipart");
    checked += 1;

    assert_nothing_stored(&base, dir.path()).await;
    println!("checked {checked} bad uploads");

    // Unknown job ids.
    for path in ["/api/v1/jobs/0190a0a0-0000-7000-8000-000000000000", "/api/v1/jobs/not-an-id"] {
        let r = client().get(format!("{base}{path}")).send().await.unwrap();
        let s = r.status().as_u16();
        assert_error(s, &r.json().await.unwrap(), 404, "job_not_found");
    }
    let r = client().get(format!("{base}/api/v1/nothing-here")).send().await.unwrap();
    let s = r.status().as_u16();
    assert_error(s, &r.json().await.unwrap(), 404, "not_found");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_text_requests_are_refused() {
    let sim = start_sim(2, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let cases = [
        (json!({"target_lang": "en"}), 400, "missing_text"),
        (json!({"text": "Bonjour"}), 400, "missing_target_lang"),
        (json!({"text": "Bonjour", "target_lang": "xx-!"}), 400, "invalid_language"),
        (
            json!({"text": "Bonjour", "source_lang": "en", "target_lang": "en"}),
            400,
            "same_language",
        ),
        (json!({"text": "Bonjour", "target_lang": "en", "model": "nope"}), 400, "unknown_model"),
        (json!({"text": [], "target_lang": "en"}), 400, "missing_text"),
        (json!({"text": 12, "target_lang": "en"}), 400, "invalid_request"),
        (json!({"text": "x".repeat(100_001), "target_lang": "en"}), 413, "text_too_long"),
    ];
    for (body, status, code) in &cases {
        for path in ["/api/v1/translate", "/api/v1/translate/stream"] {
            let r = client().post(format!("{base}{path}")).json(body).send().await.unwrap();
            let s = r.status().as_u16();
            assert_error(s, &r.json().await.unwrap(), *status, code);
        }
    }
    let r = client()
        .post(format!("{base}/api/v1/translate"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    assert_error(s, &r.json().await.unwrap(), 400, "invalid_json");
    let assist = [
        ("/api/v1/assist/correct", json!({"text": "  "}), 400, "missing_text"),
        ("/api/v1/assist/reformulate", json!({}), 400, "missing_text"),
        ("/api/v1/assist/summary", json!({}), 400, "missing_text"),
        ("/api/v1/assist/summary", json!({"image": "%%%"}), 400, "invalid_image"),
        ("/api/v1/assist/summary", json!({"image": "aGVsbG8="}), 400, "invalid_image"),
        ("/api/v1/assist/correct", json!({"text": "abc", "lang": "??"}), 400, "invalid_language"),
    ];
    for (path, body, status, code) in &assist {
        let r = client().post(format!("{base}{path}")).json(body).send().await.unwrap();
        let s = r.status().as_u16();
        assert_error(s, &r.json().await.unwrap(), *status, code);
    }
    println!("checked {} bad text requests", cases.len() * 2 + 1 + assist.len());
    server.shutdown().await.unwrap();
}
