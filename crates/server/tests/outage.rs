#![allow(clippy::unwrap_used, clippy::expect_used)]
//! An LLM outage in the middle of a document job: the job waits instead of failing, through an
//! outage longer than the request timeout and the circuit breaker's longest cool-down, and once
//! the LLM server is back it finishes, without asking again what was translated before; an
//! outage longer than `TRADIA_LLM_OUTAGE_MAX_SECS` fails it with `llm_outage_too_long`.

mod common;

use std::time::Duration;

use common::*;
use tradia_llm_sim::SimConfig;
use tradia_server::ServerSettings;

/// Short outage settings: requests time out after `timeout`, breakers open after 5 failures
/// and probe every 200 ms at first, at most every `max_cooldown`.
fn outage_settings(
    dir: &std::path::Path,
    sim: &tradia_llm_sim::SimHandle,
    timeout: Duration,
    max_cooldown: Duration,
    outage_max: Duration,
) -> ServerSettings {
    let mut settings = settings(dir, sim);
    settings.outage_pause = Duration::from_millis(300);
    settings.outage_max = outage_max;
    if let Some(llm) = settings.llm.as_mut() {
        llm.timeout = timeout;
        llm.retry_base_delay = Duration::from_millis(50);
        llm.breaker_cooldown = Duration::from_millis(200);
        llm.breaker_max_cooldown = max_cooldown;
    }
    settings
}

/// The `tradia_llm_breaker_open` gauge of the only backend, from `/metrics`.
async fn breaker_open(base: &str) -> Option<f64> {
    let text = client().get(format!("{base}/metrics")).send().await.ok()?.text().await.ok()?;
    text.lines()
        .find(|l| l.starts_with("tradia_llm_breaker_open"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_survives_an_llm_outage_and_finishes_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(4, 10.0).await;
    let port = sim.addr().port();
    let timeout = Duration::from_secs(5);
    let max_cooldown = Duration::from_secs(1);
    let settings =
        outage_settings(dir.path(), &sim, timeout, max_cooldown, Duration::from_secs(600));
    let server = start_with(settings).await;
    let base = base(&server);

    let files = [("a.xml", scenari_item("a", 60)), ("b.xml", scenari_item("b", 60))];
    let (status, job) =
        post_job(&base, &files, &[("target_lang", "en"), ("source_lang", "fr")]).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();

    // Stop the LLM once some work is saved, and keep it away for longer than the request
    // timeout plus the breaker's longest cool-down: every waiting request would have given up
    // several times over, and the breaker has gone through failed probes.
    let before = wait_job(&base, &id, 60, |j| j["progress"]["done"].as_u64() >= Some(1)).await;
    sim.shutdown().await;
    let outage = timeout + max_cooldown + Duration::from_secs(3);
    tokio::time::sleep(outage).await;
    let during = wait_job(&base, &id, 5, |_| true).await;
    assert_eq!(during["status"], "running", "the job waits during the outage: {during}");
    assert_eq!(breaker_open(&base).await, Some(1.0), "the breaker is open during the outage");
    let saved = during["progress"]["done"].as_u64().unwrap();
    assert!(saved >= before["progress"]["done"].as_u64().unwrap());
    assert!(saved < during["progress"]["total"].as_u64().unwrap(), "work remained: {during}");

    // The LLM comes back on the same address: a probe finds it, and the job resumes and
    // finishes by itself.
    let config = SimConfig { port, slots: 4, time_scale: 50.0, ..SimConfig::default() };
    let sim = tradia_llm_sim::start(config).await.expect("simulator restarts on its port");
    let done =
        wait_job(&base, &id, 120, |j| j["status"] != "running" && j["status"] != "queued").await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(breaker_open(&base).await, Some(0.0), "the probe's success closed the breaker");

    let response = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let entries = unzip(&response.bytes().await.unwrap());
    assert_eq!(entries.len(), 2);
    for ((name, input), (out_name, output)) in files.iter().zip(&entries) {
        assert_eq!(name, out_name);
        assert_translated(name, input, output);
    }
    // Segments saved before the outage were not asked again after it: the restarted
    // simulator's per-segment counts cover only the rest.
    let asked_after = sim.stats().segments;
    let total = done["progress"]["total"].as_u64().unwrap();
    let asked: u64 = asked_after.values().sum();
    assert!(asked <= total - saved, "asked {asked}, {saved} of {total} were saved");
    sim.shutdown().await;
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_longer_than_the_maximum_fails_the_job_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(4, 50.0).await;
    let settings = outage_settings(
        dir.path(),
        &sim,
        Duration::from_secs(3),
        Duration::from_millis(400),
        Duration::from_secs(4),
    );
    let server = start_with(settings).await;
    let base = base(&server);
    let files = [("a.xml", scenari_item("a", 80))];
    let (status, job) =
        post_job(&base, &files, &[("target_lang", "en"), ("source_lang", "fr")]).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    wait_job(&base, &id, 60, |j| j["progress"]["done"].as_u64() >= Some(1)).await;
    sim.shutdown().await;

    let failed =
        wait_job(&base, &id, 90, |j| j["status"] != "running" && j["status"] != "queued").await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = &failed["files"][0]["error"];
    let error = if error.is_null() { &failed["error"] } else { error };
    assert_eq!(error["code"], "llm_outage_too_long", "{failed}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("TRADIA_LLM_OUTAGE_MAX_SECS=4"), "{message}");
    assert!(failed["progress"]["done"].as_u64().unwrap() >= 1, "saved work is kept: {failed}");
    server.shutdown().await.unwrap();
}
