#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The quality report of a fault-injected job (issue 15): the simulator drops inline codes and
//! echoes sources, so some segments end with their codes reinserted by alignment and some kept
//! as source; `GET /api/v1/jobs/{id}/report` must list every one the engine counted (its
//! counters as `/metrics` exports them, and the job's kept count), with source, target and
//! location. Alone in its test binary: the Prometheus counters are process-wide, so no other
//! test's segments are counted in them.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;

/// The value of each sample of `/metrics`, by its name with labels.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(name, value)| Some((name.to_string(), value.parse().ok()?)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_report_lists_every_kept_and_repaired_segment_the_engine_counted() {
    let sim = tradia_llm_sim::start(tradia_llm_sim::SimConfig {
        port: 0,
        slots: 4,
        time_scale: 2000.0,
        faults: tradia_llm_sim::FaultSpec::parse("drop_code=0.8,echo=0.7").unwrap(),
        seed: 9,
        ..tradia_llm_sim::SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let inputs = [("a.xml", scenari_item("alpha", 45)), ("b.xml", scenari_item("beta", 30))];
    let (status, job) =
        post_job(&base, &inputs, &[("source_lang", "fr"), ("target_lang", "en")]).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap();
    let done = wait_job(&base, id, 120, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(done["status"], "done", "{done}");

    let response = client().get(format!("{base}/api/v1/jobs/{id}/report")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    let metrics = client().get(format!("{base}/metrics")).send().await.unwrap();
    let metrics = samples(&metrics.text().await.unwrap());
    let metric = |name: &str| metrics.get(name).copied().unwrap_or(0.0) as u64;

    // The engine's counts: what it kept, what it repaired.
    let kept = done["kept_segments"].as_u64().unwrap();
    let repaired = metric("tradia_segments_repaired_total");
    assert!(kept > 0 && repaired > 0, "the faults must bite: kept {kept}, repaired {repaired}");
    assert_eq!(metric("tradia_segments_kept_total"), kept);
    assert_eq!(report["counts"]["kept"].as_u64(), Some(kept), "{report}");
    assert_eq!(report["counts"]["codes_repaired"].as_u64(), Some(repaired), "{report}");
    assert_eq!(metric(r#"tradia_segment_flags_total{flag="kept"}"#), kept);
    assert_eq!(metric(r#"tradia_segment_flags_total{flag="codes_repaired"}"#), repaired);
    assert_eq!(report["segments"], done["progress"]["total"]);

    // Listed one by one, per file, with what a reader needs.
    let options = tradia_formats::ExtractOptions::default();
    let (mut listed_kept, mut listed_repaired) = (0, 0);
    for (file, (name, input)) in report["files"].as_array().unwrap().iter().zip(&inputs) {
        assert_eq!(file["name"], *name);
        let source = tradia_formats::extract(name, input, &options).unwrap();
        let kept_here = done["files"][file["index"].as_u64().unwrap() as usize]["kept"].as_u64();
        let mut kept_in_file = 0;
        for s in file["flagged"].as_array().unwrap() {
            let segment = &source.segments[s["id"].as_u64().unwrap() as usize];
            assert_eq!(s["source"], segment.content.render(), "{s}");
            assert_eq!(s["location"], segment.location.as_str());
            if !s["kept"].is_null() {
                kept_in_file += 1;
                assert_eq!(s["target"], s["source"], "a kept segment is its source: {s}");
                assert!(!s["kept"]["code"].as_str().unwrap().is_empty());
            }
            let flags = s["flags"].as_array().unwrap();
            if flags.iter().any(|f| f["flag"] == "codes_repaired") {
                listed_repaired += 1;
                assert_eq!(s["kept"], Value::Null, "a repaired segment is translated: {s}");
                assert!(flags.iter().any(|f| f["flag"] == "model" && f["name"] == model()), "{s}");
            }
        }
        assert_eq!(Some(kept_in_file), kept_here, "{name}");
        listed_kept += kept_in_file;
    }
    assert_eq!((listed_kept, listed_repaired), (kept, repaired));
    println!(
        "report of a faulty job: {kept} kept, {repaired} repaired, counts {}",
        report["counts"]
    );
    server.shutdown().await.unwrap();
}
