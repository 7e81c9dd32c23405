//! The translation memory in the service, against the simulator: a document translated twice
//! asks the model nothing the second time and comes back byte-identical; a near-identical
//! paragraph travels with its fuzzy match as an example; `memory=off` reads nothing; deleting a
//! job deletes its entries; the TMX export and import round-trip through the API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;

async fn translate(
    base: &str,
    name: &str,
    input: &[u8],
    fields: &[(&str, &str)],
) -> (String, Vec<u8>) {
    let mut all = vec![("source_lang", "fr"), ("target_lang", "en")];
    all.extend_from_slice(fields);
    let (status, job) = post_job(base, &[(name, input.to_vec())], &all).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let done = wait_job(base, &id, 120, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(done["status"], "done", "{done}");
    let result = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(result.status(), 200);
    (id, result.bytes().await.unwrap().to_vec())
}

fn asked(sim: &tradia_llm_sim::SimHandle) -> u64 {
    sim.stats().segments.values().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_document_translated_twice_asks_the_model_nothing_the_second_time() {
    let sim = start_sim(4, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let input = scenari_item("mémoire", 12);

    let (first_id, first) = translate(&base, "cours.xml", &input, &[]).await;
    let first_asked = asked(&sim);
    assert!(first_asked >= 12, "the first run asks the model: {first_asked}");
    assert_translated("cours.xml", &input, &first);

    sim.reset_stats();
    let (_, second) = translate(&base, "cours.xml", &input, &[]).await;
    let stats = sim.stats();
    assert!(stats.segments.is_empty(), "the second run asked for {:?}", stats.segments);
    assert_eq!(stats.requests, 0);
    assert_eq!(second, first, "the output is byte-identical");

    // A near-identical paragraph: asked, with the original as an example.
    sim.reset_stats();
    let edited = String::from_utf8(input.clone()).unwrap().replace(
        "la classe prépare une courte présentation orale",
        "la classe prépare une longue présentation orale",
    );
    let (_, _) = translate(&base, "cours.xml", edited.as_bytes(), &[]).await;
    let stats = sim.stats();
    assert!(!stats.segments.is_empty());
    assert!(
        stats.examples.keys().any(|s| s.contains("une courte présentation orale")),
        "fuzzy examples sent: {:?}",
        stats.examples
    );

    // `memory=off`: nothing read, the model is asked again.
    sim.reset_stats();
    translate(&base, "cours.xml", &input, &[("memory", "off")]).await;
    assert!(asked(&sim) >= 12);

    // Deleting the first job deletes the entries it recorded ("delete" means gone).
    let deleted = client().delete(format!("{base}/api/v1/jobs/{first_id}")).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    sim.reset_stats();
    let (_, again) = translate(&base, "cours.xml", &input, &[]).await;
    assert!(asked(&sim) > 0, "the memory of a deleted job is gone");
    assert_eq!(again, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tmx_export_import_and_purge_through_the_api() {
    let sim = start_sim(4, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let input = scenari_item("tmx", 4);
    let (job, _) = translate(&base, "cours.xml", &input, &[("keep_memory", "true")]).await;

    let export = client().get(format!("{base}/api/v1/memory/tmx")).send().await.unwrap();
    assert_eq!(export.status(), 200);
    let tmx = export.bytes().await.unwrap().to_vec();
    let entries =
        tradia_formats::exchange::tmx::read_tmx(&tmx, Default::default()).unwrap().entries;
    assert_eq!(entries.len(), 4, "{}", String::from_utf8_lossy(&tmx));
    let count = |base: String| async move {
        let summary = client().get(format!("{base}/api/v1/memory")).send().await.unwrap();
        assert_eq!(summary.status(), 200);
        summary.json::<Value>().await.unwrap()
    };
    assert_eq!(count(base.clone()).await, serde_json::json!({"scope": "own", "entries": 4}));

    // The job was created with keep_memory: deleting it keeps the entries.
    let deleted = client().delete(format!("{base}/api/v1/jobs/{job}")).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let purge = client().delete(format!("{base}/api/v1/memory")).send().await.unwrap();
    let purged: Value = purge.json().await.unwrap();
    assert_eq!(purged["deleted"], 4);
    assert_eq!(count(base.clone()).await["entries"], 0);

    // Importing the export gives the same entries back, and they answer the next run.
    let import =
        client().post(format!("{base}/api/v1/memory/tmx")).body(tmx.clone()).send().await.unwrap();
    let imported: Value = import.json().await.unwrap();
    assert_eq!(imported["imported"], 4, "{imported}");
    let again = client()
        .get(format!("{base}/api/v1/memory/tmx"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let back = tradia_formats::exchange::tmx::read_tmx(&again, Default::default()).unwrap().entries;
    let strip = |e: &[tradia_formats::exchange::tmx::TmxEntry]| {
        e.iter().map(|e| (e.source.clone(), e.target.clone())).collect::<Vec<_>>()
    };
    assert_eq!(strip(&back), strip(&entries));
    sim.reset_stats();
    translate(&base, "cours.xml", &input, &[]).await;
    assert_eq!(asked(&sim), 0, "imported entries answer exactly");

    // Bad input is told by its code.
    let bad =
        client().post(format!("{base}/api/v1/memory/tmx")).body("<html/>").send().await.unwrap();
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_tmx");
    let (status, body) = post_job(
        &base,
        &[("a.xml", input.clone())],
        &[("target_lang", "en"), ("memory", "everything")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_memory_scope");
}
