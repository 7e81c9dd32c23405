#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Crash test: a server process killed with SIGKILL in the middle of a multi-file job, then
//! restarted on the same data folder. The job finishes; the simulator's per-segment counts show
//! that no segment saved before the kill was asked again; the output equals an uninterrupted
//! run's.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tradia_formats::{ExtractOptions, extract};

const BATCH_SIZE: usize = 3;

fn spawn_server(data_dir: &Path, port: u16, sim_url: &str, log: &Path) -> Child {
    let log_file = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_tradia-serve"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TRADIA_HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("TRADIA_DATA_DIR", data_dir)
        .env("OLLAMA_BASE_URL", sim_url)
        .env("OLLAMA_MODEL", model())
        .env("BATCH_SIZE", BATCH_SIZE.to_string())
        .env("TRADIA_JOB_LEASE_SECS", "3")
        .env("TRADIA_WORKERS", "1")
        // A crash test, not an accounts test: one implicit user.
        .env("TRADIA_AUTH", "none")
        .env("LOG_LEVEL", "info")
        .stdout(Stdio::from(log_file.try_clone().unwrap()))
        .stderr(Stdio::from(log_file))
        .spawn()
        .expect("server binary starts")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_ready(base: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client().get(format!("{base}/livez")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not start:\n{}", std::fs::read_to_string(log).unwrap_or_default());
}

async fn download(base: &str, id: &str) -> Vec<(String, Vec<u8>)> {
    let r = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    unzip(&r.bytes().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_server_resumes_without_asking_again() {
    let sim = start_sim(1, 40.0).await;
    let files: Vec<(String, Vec<u8>)> =
        ["un", "deux", "trois"].iter().map(|s| (format!("{s}.xml"), scenari_item(s, 24))).collect();
    let file_refs: Vec<(&str, Vec<u8>)> =
        files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let fields = [("source_lang", "fr"), ("target_lang", "en")];

    // 1. The uninterrupted run (in-process, same simulator, same batch size).
    let clean_dir = tempfile::tempdir().unwrap();
    let mut settings = settings(clean_dir.path(), &sim);
    if let Some(llm) = settings.llm.as_mut() {
        llm.batch_size = BATCH_SIZE;
    }
    let server = start_with(settings).await;
    let clean_base = base(&server);
    let (status, job) = post_job(&clean_base, &file_refs, &fields).await;
    assert_eq!(status, 202, "{job}");
    let clean_id = job["id"].as_str().unwrap().to_string();
    let done = wait_job(&clean_base, &clean_id, 120, |j| j["status"] == "done").await;
    let total = done["progress"]["total"].as_u64().unwrap();
    let reference = download(&clean_base, &clean_id).await;
    server.shutdown().await.unwrap();

    // 2. The same job in a separate process, killed with SIGKILL about a third of the way.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log1 = dir.path().join("first.log");
    let mut first = spawn_server(dir.path(), port, &sim.base_url(), &log1);
    wait_ready(&base, &log1).await;
    let (status, job) = post_job(&base, &file_refs, &fields).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let at_kill =
        wait_job(&base, &id, 120, |j| j["progress"]["done"].as_u64().unwrap_or(0) >= total / 3)
            .await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let done_at_kill = at_kill["progress"]["done"].as_u64().unwrap();
    assert!(
        done_at_kill < total,
        "the job finished before the kill; slow the simulator down ({done_at_kill}/{total})"
    );

    // What was saved when the process died, read from its database.
    let url = format!("sqlite://{}", dir.path().join("tradia.db").display());
    let store = tradia_store::connect(&url).await.unwrap();
    let job_id: tradia_store::JobId = id.parse().unwrap();
    let mut saved_keys = HashSet::new();
    let mut unsaved_keys = HashSet::new();
    let mut saved_count = 0;
    for (index, (name, bytes)) in files.iter().enumerate() {
        let saved: HashSet<u32> = store
            .saved_segments(job_id, index as u32)
            .await
            .unwrap()
            .iter()
            .map(|s| s.segment_id)
            .collect();
        saved_count += saved.len();
        let doc = extract(name, bytes, &ExtractOptions::default()).unwrap();
        for segment in &doc.segments {
            let key = segment.edges().core.render();
            if saved.contains(&segment.id) {
                saved_keys.insert(key);
            } else {
                unsaved_keys.insert(key);
            }
        }
    }
    drop(store);
    assert!(saved_count > 0, "nothing was saved before the kill");
    assert!((saved_count as u64) < total, "everything was saved before the kill");
    let before: BTreeMap<String, u64> = sim.stats().segments;

    // 3. Restart on the same data: the job resumes (once the dead process's lease expires).
    let log2 = dir.path().join("second.log");
    let mut second = spawn_server(dir.path(), port, &sim.base_url(), &log2);
    wait_ready(&base, &log2).await;
    let done =
        wait_job(&base, &id, 120, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(
        done["status"],
        "done",
        "{done}\n{}",
        std::fs::read_to_string(&log2).unwrap_or_default()
    );
    assert_eq!(done["progress"]["done"].as_u64(), Some(total));
    let after = sim.stats().segments;

    let mut asked_again = 0;
    for (key, count) in &after {
        let asked = count - before.get(key).copied().unwrap_or(0);
        if asked == 0 {
            continue;
        }
        asked_again += 1;
        assert!(
            unsaved_keys.contains(key) || !saved_keys.contains(key),
            "segment saved before the kill was asked again: {key}"
        );
    }
    assert!(asked_again > 0, "the restarted process asked nothing");
    assert_eq!(
        asked_again,
        unsaved_keys.difference(&saved_keys).count(),
        "the restart should ask exactly the segments not saved"
    );

    // 4. Same output as the uninterrupted run.
    let output = download(&base, &id).await;
    assert_eq!(output.len(), reference.len());
    for ((name_a, a), (name_b, b)) in output.iter().zip(&reference) {
        assert_eq!(name_a, name_b);
        assert!(a == b, "{name_a} differs from the uninterrupted run's");
    }
    println!(
        "killed at {done_at_kill}/{total} segments ({saved_count} saved); the restart asked {asked_again} segments, none of them saved; {} files equal",
        output.len()
    );
    second.kill().unwrap();
    second.wait().unwrap();
}
