#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Operations: `--check-config` masks secrets and names wrong settings; a database that cannot be
//! opened is named without its secrets; expired jobs and their files are purged.

mod common;

use std::process::Command;
use std::sync::Arc;

use common::*;

/// A database URL with a secret in both places a URL can carry one.
const SECRET_URL: &str = "postgres://u:pw@127.0.0.1:1/db?password=pw2";

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

#[test]
fn check_config_hides_the_password_and_the_password_parameter_of_database_url() {
    // `tradia serve --check-config` runs the same `tradia_server::run` as this binary.
    let out = Command::new(env!("CARGO_BIN_EXE_tradia-serve"))
        .arg("--check-config")
        .env("DATABASE_URL", "postgres://u:pw@h/db?password=pw2")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("DATABASE_URL=postgres://u:***@h/db?password=***"), "{stdout}");
    assert!(
        !stdout.contains("pw") && !stderr.contains("pw"),
        "a secret is printed:\n{stdout}\n{stderr}"
    );

    // The report the command prints, built from the same settings in-process.
    let mut settings = tradia_server::ServerSettings::for_tests("/tmp/unused");
    settings.database_url = SECRET_URL.into();
    let report = tradia_server::serve::check_config_report(&settings);
    assert!(report.contains("password=***") && report.ends_with("configuration OK\n"), "{report}");
    assert!(!report.contains("pw"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_cannot_be_opened_is_named_without_its_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = tradia_server::ServerSettings::for_tests(dir.path());
    settings.database_url = SECRET_URL.into();
    let gateway = Arc::new(tradia_server::PseudoGateway);
    let Err(error) = tradia_server::start(settings, gateway, None).await else {
        panic!("a server started on a database that does not exist");
    };
    // As the command line prints it (`{:#}`), and as `main` returning the error does (`{:?}`).
    for text in [format!("{error:#}"), format!("{error:?}")] {
        assert!(text.contains("DATABASE_URL"), "{text}");
        assert!(text.contains("postgres://u:***@127.0.0.1:1/db?password=***"), "{text}");
        assert!(!text.contains("pw"), "a secret is printed: {text}");
    }
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
