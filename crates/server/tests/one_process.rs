#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One process per SQLite data folder: with a first `tradia-serve` receiving an upload, a second
//! one on the same folder exits non-zero naming the first, and the first one's upload (whose
//! temporary file the second would once have removed) succeeds and its job finishes.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn spawn_server(dir: &Path, port: u16, log: &Path) -> Child {
    let log_file = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_tradia-serve"))
        .env("TRADIA_DATA_DIR", dir)
        .env("TRADIA_HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("TRADIA_ENGINE", "pseudo")
        .env("TRADIA_AUTH", "none")
        .env("TRADIA_MIN_FREE_MB", "0")
        .env("LOG_LEVEL", "info")
        .stdout(Stdio::from(log_file.try_clone().unwrap()))
        .stderr(Stdio::from(log_file))
        .spawn()
        .expect("server binary starts")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_serve_on_the_same_folder_exits_and_the_first_ones_upload_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log1 = dir.path().join("first.log");
    let mut first = spawn_server(dir.path(), port, &log1);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client().get(format!("{base}/livez")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "{}", std::fs::read_to_string(&log1).unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // An upload in flight: the first half of the body now, the rest after the second start.
    let item = scenari_item("verrou", 30);
    let boundary = "XTRADIAX";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"target_lang\"\r\n\r\nen\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cours.xml\"\r\n\
         Content-Type: application/xml\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&item);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let (second_half, first_half) = {
        let mid = body.len() - item.len() / 2;
        (body[mid..].to_vec(), body[..mid].to_vec())
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let upload = tokio::spawn({
        let base = base.clone();
        let length = body.len();
        async move {
            client()
                .post(format!("{base}/api/v1/jobs"))
                .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                .header("content-length", length)
                .body(reqwest::Body::wrap_stream(stream))
                .send()
                .await
        }
    });
    tx.send(Ok(first_half)).await.unwrap();
    // The part is being written to a temporary file of the first process.
    let tmp = dir.path().join("files/.tmp");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "the upload never reached a temporary file");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let log2 = dir.path().join("second.log");
    let second = spawn_server(dir.path(), free_port(), &log2).wait_with_output().unwrap();
    assert!(!second.status.success(), "the second serve started");
    let said = std::fs::read_to_string(&log2).unwrap();
    assert!(said.contains("another Tradia process"), "{said}");
    assert!(said.contains(&format!("pid={}", first.id())), "the holder is not named: {said}");
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 1, "the upload in flight was touched");

    tx.send(Ok(second_half)).await.unwrap();
    drop(tx);
    let response = upload.await.unwrap().expect("upload answered");
    assert_eq!(response.status().as_u16(), 202);
    let job: serde_json::Value = response.json().await.unwrap();
    let id = job["id"].as_str().unwrap();
    let done = wait_job(&base, id, 60, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(done["status"], "done", "{done}");

    first.kill().unwrap();
    first.wait().unwrap();
}
