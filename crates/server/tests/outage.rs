#![allow(clippy::unwrap_used, clippy::expect_used)]
//! An LLM outage in the middle of a document job: the job waits instead of failing, and once
//! the LLM server is back it finishes, without losing what was translated before the outage.

mod common;

use std::time::Duration;

use common::*;
use tradia_llm_sim::SimConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_survives_an_llm_outage_and_finishes_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(4, 10.0).await;
    let port = sim.addr().port();
    let mut settings = settings(dir.path(), &sim);
    settings.outage_pause = Duration::from_millis(300);
    settings.outage_pauses = 200;
    if let Some(llm) = settings.llm.as_mut() {
        llm.timeout = Duration::from_secs(10);
        llm.retry_base_delay = Duration::from_millis(50);
    }
    let server = start_with(settings).await;
    let base = base(&server);

    let files = [("a.xml", scenari_item("a", 60)), ("b.xml", scenari_item("b", 60))];
    let (status, job) =
        post_job(&base, &files, &[("target_lang", "en"), ("source_lang", "fr")]).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();

    // Stop the LLM once some work is saved, and keep it away for a while.
    let before = wait_job(&base, &id, 60, |j| j["progress"]["done"].as_u64() >= Some(1)).await;
    sim.shutdown().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let during = wait_job(&base, &id, 5, |_| true).await;
    assert_eq!(during["status"], "running", "the job waits during the outage: {during}");
    let saved = during["progress"]["done"].as_u64().unwrap();
    assert!(saved >= before["progress"]["done"].as_u64().unwrap());
    assert!(saved < during["progress"]["total"].as_u64().unwrap(), "work remained: {during}");

    // The LLM comes back on the same address: the job resumes and finishes.
    let config = SimConfig { port, slots: 4, time_scale: 50.0, ..SimConfig::default() };
    let sim = tradia_llm_sim::start(config).await.expect("simulator restarts on its port");
    let done =
        wait_job(&base, &id, 120, |j| j["status"] != "running" && j["status"] != "queued").await;
    assert_eq!(done["status"], "done", "{done}");

    let response = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let entries = unzip(&response.bytes().await.unwrap());
    assert_eq!(entries.len(), 2);
    for ((name, input), (out_name, output)) in files.iter().zip(&entries) {
        assert_eq!(name, out_name);
        assert_translated(name, input, output);
    }
    // Segments saved before the outage were not asked again after it.
    let asked_after: u64 = sim.stats().segments.values().sum();
    let total = done["progress"]["total"].as_u64().unwrap();
    assert!(asked_after <= total - saved, "asked {asked_after}, {saved} of {total} were saved");
    sim.shutdown().await;
    server.shutdown().await.unwrap();
}
