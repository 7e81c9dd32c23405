//! Operations: `--check-config` masks secrets and names wrong settings; expired jobs and their
//! files are purged.

mod common;

use std::process::Command;

use common::*;

#[test]
fn check_config_prints_effective_configuration_with_secrets_masked() {
    let out = Command::new(env!("CARGO_BIN_EXE_tradia-serve"))
        .arg("--check-config")
        .env("DATABASE_URL", "postgres://tradia:hunter2secret@db.internal:5432/tradia")
        .env("OLLAMA_API_KEY", "sk-verysecretkey")
        .env("OLLAMA_BASE_URL", "http://gpu.internal:11434")
        .env("PORT", "8123")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("0.0.0.0:8123"), "{stdout}");
    assert!(stdout.contains("postgres://tradia:***@db.internal:5432/tradia"), "{stdout}");
    assert!(stdout.contains("http://gpu.internal:11434"), "{stdout}");
    assert!(!stdout.contains("hunter2secret") && !stdout.contains("sk-verysecretkey"), "{stdout}");
    assert!(stdout.contains("configuration OK"));

    let out = Command::new(env!("CARGO_BIN_EXE_tradia-serve"))
        .arg("--check-config")
        .env("MAX_UPLOAD_MB", "0")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("MAX_UPLOAD_MB"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_jobs_and_files_are_purged() {
    let sim = start_sim(2, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let (status, job) = post_job(
        &base,
        &[("a.xml", scenari_item("purge", 2))],
        &[("source_lang", "fr"), ("target_lang", "en")],
    )
    .await;
    assert_eq!(status, 202);
    let id = job["id"].as_str().unwrap().to_string();
    wait_job(&base, &id, 30, |j| j["status"] == "done").await;
    server.shutdown().await.unwrap();
    let count_files = || {
        std::fs::read_dir(dir.path().join("files"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_file())
            .count()
    };
    assert_eq!(count_files(), 2, "input and output stored");

    // A restart with a retention shorter than the job's age purges it at once.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut settings = settings(dir.path(), &sim);
    settings.retention = std::time::Duration::from_secs(1);
    let server = start_with(settings).await;
    let base = common::base(&server);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = client().get(format!("{base}/api/v1/jobs/{id}")).send().await.unwrap();
        if r.status().as_u16() == 404 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "job not purged");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(count_files(), 0, "files left after purge");
    server.shutdown().await.unwrap();
}
