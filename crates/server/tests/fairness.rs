#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Two users share a 4-slot simulated LLM through the service: user A's two large jobs do not
//! make user B's small one wait for them. With the default settings (two workers, one running
//! job per user) A's second job waits for her first while B's starts on the free worker; with no
//! cap and enough workers, A's two jobs take turns with each other in the LLM scheduler.
//!
//! Judged on what the simulator was asked (per-segment counts), not on seconds: when B's job
//! is done, A's jobs are both under way and still have segments the simulator has not been
//! asked yet.

mod common;
#[path = "accounts/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::sync::Arc;
use std::time::Duration;

use harness::App;
use reqwest::Method;
use serde_json::Value;
use tradia_server::settings::AccessSettings;

/// Segments of the simulator's per-segment counts whose text belongs to `seed`'s item.
fn asked(segments: &std::collections::BTreeMap<String, u64>, seed: &str) -> u64 {
    let marks = [format!("groupe {seed} "), format!("module {seed} ")];
    segments.iter().filter(|(text, _)| marks.iter().any(|m| text.contains(m))).map(|(_, n)| n).sum()
}

async fn job(client: &harness::Client, id: &str) -> Value {
    client.call(Method::GET, &format!("/api/v1/jobs/{id}")).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_cap_two_users_documents_interleave_on_a_four_slot_llm() {
    let sim = common::start_sim(4, 4.0).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::settings(dir.path(), &sim);
    settings.access = AccessSettings::default();
    // Enough workers for the three jobs to run at once: the scheduler, not the job queue,
    // shares the LLM.
    settings.workers = 3;
    settings.max_running_jobs_per_user = 0;
    let gateway = tradia_server::llm::gateway_from_settings(&settings).unwrap();
    let app = App::start_with(dir, settings, Arc::clone(&gateway)).await;
    let a = app.user("alice").await.with_key().await;
    let b = app.user("bob").await.with_key().await;

    // A submits two documents of 40 batches each, then B one of a single batch.
    const A_PARAS: usize = 400;
    let a1 = a.upload("a1.xml", common::scenari_item("a1", A_PARAS)).await;
    let a2 = a.upload("a2.xml", common::scenari_item("a2", A_PARAS)).await;
    for id in [&a1, &a2] {
        for _ in 0..1200 {
            if job(&a, id).await["progress"]["done"].as_u64() >= Some(1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let b1 = b.upload("b1.xml", common::scenari_item("b1", 6)).await;
    b.wait_done(&b1).await;
    let at_b_done = sim.stats().segments;
    let (a1_view, a2_view) = (job(&a, &a1).await, job(&a, &a2).await);

    // B's batch was served while A still had work queued: A's jobs are neither finished nor
    // even fully sent.
    assert_eq!(asked(&at_b_done, "b1"), 6, "B's segments were each asked once");
    let total_a = 2 * A_PARAS as u64;
    let asked_a = asked(&at_b_done, "a1") + asked(&at_b_done, "a2");
    assert!(asked_a < total_a, "A's work was all sent before B's job ended: {asked_a}/{total_a}");
    for view in [&a1_view, &a2_view] {
        assert_ne!(view["status"], "done", "an A job finished before B's: {view}");
    }
    // A's jobs took turns: both were served, neither waited for the other's whole job.
    let (n1, n2) = (asked(&at_b_done, "a1"), asked(&at_b_done, "a2"));
    println!("when B's job was done, A's jobs had been asked {n1} and {n2} of {A_PARAS} segments");
    assert!(n1 > 0 && n2 > 0, "both A jobs are under way: {n1}, {n2}");
    assert!(n1 < A_PARAS as u64 && n2 < A_PARAS as u64, "neither A job was sent whole: {n1}, {n2}");

    app.stop().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_default_two_workers_a_users_second_job_leaves_the_other_worker_free() {
    let sim = common::start_sim(4, 4.0).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::settings(dir.path(), &sim);
    settings.access = AccessSettings::default();
    let defaults = tradia_server::settings::ServerSettings::for_tests(dir.path());
    settings.workers = defaults.workers;
    settings.max_running_jobs_per_user = defaults.max_running_jobs_per_user;
    assert_eq!((settings.workers, settings.max_running_jobs_per_user), (2, 1));
    let gateway = tradia_server::llm::gateway_from_settings(&settings).unwrap();
    let app = App::start_with(dir, settings, Arc::clone(&gateway)).await;
    let a = app.user("alice").await.with_key().await;
    let b = app.user("bob").await.with_key().await;

    const A_PARAS: usize = 400;
    let a1 = a.upload("a1.xml", common::scenari_item("a1", A_PARAS)).await;
    let a2 = a.upload("a2.xml", common::scenari_item("a2", A_PARAS)).await;
    for _ in 0..1200 {
        if job(&a, &a1).await["progress"]["done"].as_u64() >= Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A's second job waits for her first, although a worker is free.
    assert_eq!(job(&a, &a2).await["status"], "queued");
    let b1 = b.upload("b1.xml", common::scenari_item("b1", 6)).await;
    b.wait_done(&b1).await;
    let at_b_done = sim.stats().segments;
    assert_eq!(asked(&at_b_done, "b1"), 6, "B's segments were each asked once");
    let n1 = asked(&at_b_done, "a1");
    println!("when B's job was done, A's first job had been asked {n1} of {A_PARAS} segments");
    assert!(n1 < A_PARAS as u64, "A's first job was sent whole before B's job ended");
    assert_eq!(asked(&at_b_done, "a2"), 0, "A's second job started beside her first");
    // A's second job starts as soon as her first one ends (here: cancelled).
    let (status, _) = a.call(Method::POST, &format!("/api/v1/jobs/{a1}/cancel")).await;
    assert!(status.is_success(), "cancel: {status}");
    let mut started = false;
    for _ in 0..600 {
        if job(&a, &a2).await["progress"]["done"].as_u64() >= Some(1) {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started, "A's second job did not start after her first one ended");
    app.stop().await;
    sim.shutdown().await;
}
