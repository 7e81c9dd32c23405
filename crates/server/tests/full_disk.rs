#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A full disk through the service: the data folder on a small `tmpfs` mounted by the test (root
//! is needed; without it the test says it skipped, except under `CI=true`, where it fails).
//! Below `TRADIA_MIN_FREE_MB` uploads are refused with `storage_low` and `/healthz` says
//! `low_disk_space`; once the disk is full, `storage_full` and `/readyz` 503, with the storage
//! error counted; once space is freed, the next upload succeeds and every job finishes, with no
//! restart.

mod common;

#[path = "../../store/tests/support/tmpfs.rs"]
mod tmpfs;

use tmpfs::Tmpfs;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tradia_server::{PseudoGateway, ServerSettings};

/// Writes zeros to `path` until the disk is full or `bytes` are written.
fn ballast(path: &PathBuf, bytes: u64) {
    let mut file = std::fs::File::create(path).expect("create ballast");
    let chunk = vec![0u8; 64 << 10];
    let mut written = 0u64;
    while written < bytes {
        let n = chunk.len().min((bytes - written) as usize);
        if file.write_all(&chunk[..n]).is_err() {
            break;
        }
        written += n as u64;
    }
    let _ = file.sync_all();
}

fn free_bytes(path: &Path) -> u64 {
    tradia_server::health::free_bytes(path).expect("statvfs")
}

async fn health(url: &str) -> Value {
    client().get(url).send().await.unwrap().json().await.unwrap()
}

/// Polls `url` until its `database` field is `want` (the probe is cached for two seconds).
async fn wait_database(url: &str, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let h = health(url).await;
        if h["database"] == want {
            return h;
        }
        assert!(Instant::now() < deadline, "database never became {want}: {h}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_degrades_health_refuses_uploads_and_recovers_without_restart() {
    let Some(fs) = Tmpfs::mount("24m") else { return };
    let mut settings = ServerSettings::for_tests(fs.path());
    settings.min_free_bytes = 4 << 20;
    settings.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let server = tradia_server::start(settings, Arc::new(PseudoGateway), None).await.unwrap();
    let base = base(&server);
    let details = format!("http://{}/healthz", server.metrics_addr.unwrap());
    let item = |seed: &str| vec![(format!("{seed}.xml"), scenari_item(seed, 12))];
    let post = |files: Vec<(String, Vec<u8>)>| {
        let base = base.clone();
        async move {
            let refs: Vec<(&str, Vec<u8>)> =
                files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
            post_job(&base, &refs, &[("target_lang", "en")]).await
        }
    };

    let (status, before) = post(item("avant")).await;
    assert_eq!(status, 202, "{before}");
    let before = before["id"].as_str().unwrap().to_string();
    wait_job(&base, &before, 60, |j| j["status"] == "done").await;
    assert_eq!(health(&format!("{base}/healthz")).await["status"], "healthy");

    // 1. Below the threshold: refused before the disk is full.
    let low = fs.path().join("ballast-low");
    ballast(&low, free_bytes(fs.path()).saturating_sub(2 << 20));
    let (status, refused) = post(item("bas")).await;
    assert_eq!(status, 507, "{refused}");
    assert_eq!(refused["error"]["code"], "storage_low", "{refused}");
    let h = wait_database(&format!("{base}/healthz"), "low_disk_space").await;
    assert_eq!(h["status"], "degraded");
    assert_eq!(h["reason"], "low_disk_space");

    // 2. Full: the write probe fails, readiness turns 503, the error is counted.
    let full = fs.path().join("ballast-full");
    ballast(&full, u64::MAX);
    let h = wait_database(&details, "storage_full").await;
    assert_eq!(h["reason"], "storage_full", "{h}");
    assert!(h["details"]["storage"].as_str().is_some(), "{h}");
    let ready = client().get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let (status, refused) = post(item("plein")).await;
    assert_eq!(status, 507, "{refused}");
    let metrics = client()
        .get(format!("http://{}/metrics", server.metrics_addr.unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("tradia_storage_errors_total{kind=\"storage_full\"}")),
        "{metrics}"
    );

    // 3. Space freed: healthy again by itself; uploads and jobs work.
    std::fs::remove_file(&full).unwrap();
    std::fs::remove_file(&low).unwrap();
    let h = wait_database(&format!("{base}/healthz"), "ok").await;
    assert_eq!(h["status"], "healthy", "{h}");
    assert_eq!(client().get(format!("{base}/readyz")).send().await.unwrap().status().as_u16(), 200);
    let (status, after) = post(item("apres")).await;
    assert_eq!(status, 202, "{after}");
    let after = after["id"].as_str().unwrap().to_string();
    for id in [&before, &after] {
        let job =
            wait_job(&base, id, 60, |j| j["status"] == "done" || j["status"] == "failed").await;
        assert_eq!(job["status"], "done", "{job}");
    }
    server.shutdown().await.unwrap();
}
