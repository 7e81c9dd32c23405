#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Document jobs end to end over HTTP on SQLite, against the LLM simulator: upload several
//! Scenari items, follow the SSE stream to `done`, download the zip, check every file.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_scenari_files_are_translated_and_zipped() {
    let sim = start_sim(4, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);

    let files = vec![
        ("intro.xml", scenari_item("alpha", 7)),
        ("module 2.xml", scenari_item("beta", 5)),
        ("quiz.xml", scenari_item("gamma", 4)),
    ];
    let (status, job) =
        post_job(&base, &files, &[("source_lang", "fr"), ("target_lang", "en")]).await;
    assert_eq!(status, 202, "{job}");
    assert_eq!(job["status"], "queued");
    assert_eq!(job["progress"]["total"], 0);
    assert_eq!(job["files"].as_array().unwrap().len(), 3);
    let id = job["id"].as_str().unwrap().to_string();

    let events = follow_job(&base, &id).await;
    let last = events.last().expect("events");
    assert_eq!(last.event, "end", "{events:?}");
    let final_job: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(final_job["status"], "done", "{final_job}");
    assert_eq!(final_job["progress"]["total"], 16);
    assert_eq!(final_job["progress"]["done"], 16);
    assert!(events.iter().filter(|e| e.event == "progress").count() >= 2);
    // Each file's stages follow each other in order, and the total, once translation started,
    // is every file's (all files are read first) and never changes.
    let order = ["waiting", "reading", "translating", "merging", "done"];
    let mut stages: Vec<Vec<String>> = vec![Vec::new(); 3];
    let mut totals = Vec::new();
    for event in events.iter().filter(|e| e.event == "progress") {
        let job: Value = serde_json::from_str(&event.data).unwrap();
        for (i, f) in job["files"].as_array().unwrap().iter().enumerate() {
            let stage = f["stage"].as_str().unwrap().to_string();
            if stages[i].last() != Some(&stage) {
                stages[i].push(stage);
            }
        }
        if job["progress"]["done"].as_u64().unwrap() > 0 {
            totals.push(job["progress"]["total"].as_u64().unwrap());
        }
    }
    for (i, seen) in stages.iter().enumerate() {
        let positions: Vec<usize> =
            seen.iter().map(|s| order.iter().position(|o| o == s).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "file {i}: {seen:?}");
        assert_eq!(seen.last().map(String::as_str), Some("done"), "file {i}: {seen:?}");
    }
    assert!(!totals.is_empty() && totals.iter().all(|&t| t == 16), "totals: {totals:?}");
    for f in final_job["files"].as_array().unwrap() {
        assert_eq!(f["done"], true);
        assert_eq!(f["format"], "scenari");
        assert!(f["error"].is_null());
    }

    // The list shows it, newest first.
    let list: Value =
        client().get(format!("{base}/api/v1/jobs")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["jobs"][0]["id"], id.as_str());

    let response = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let zip = response.bytes().await.unwrap();
    let entries = unzip(&zip);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["intro.xml", "module 2.xml", "quiz.xml"]);
    for ((name, input), (_, output)) in files.iter().zip(&entries) {
        assert_translated(name, input, output);
    }
    println!("checked {} translated files", entries.len());

    // Delete: gone, and its files too.
    let response = client().delete(format!("{base}/api/v1/jobs/{id}")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let response = client().get(format!("{base}/api/v1/jobs/{id}")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let blobs = std::fs::read_dir(dir.path().join("files"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_file())
        .count();
    assert_eq!(blobs, 0, "files left after delete");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_file_comes_back_under_its_own_name_and_source_is_detected() {
    let sim = start_sim(2, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let input = scenari_item("delta", 4);
    let (status, job) =
        post_job(&base, &[("cours.xml", input.clone())], &[("target_lang", "en")]).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap();

    // Before it is done, the result is refused with 409 (the job may already be done on a fast
    // machine: then the download must work).
    let early = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert!(matches!(early.status().as_u16(), 409 | 200));
    if early.status().as_u16() == 409 {
        let body: Value = early.json().await.unwrap();
        assert_eq!(body["error"]["code"], "job_not_finished");
    }

    let done = wait_job(&base, id, 30, |j| j["status"] == "done").await;
    assert_eq!(done["source_lang"], "fr", "{done}");
    assert_eq!(done["source_detected"], true);
    let response = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // Named for its language, with its format's media type.
    assert_eq!(response.headers()["content-type"], "application/xml");
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains("filename=\"cours.en.xml\""), "{disposition}");
    assert_eq!(done["files"][0]["stage"], "done");
    assert_eq!(done["files"][0]["source_lang"], "fr");
    assert_eq!(done["files"][0]["copied_unchanged"], false);
    let output = response.bytes().await.unwrap();
    assert_translated("cours.xml", &input, &output);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_job_stops_and_says_so() {
    // Slow simulator: the job is still running when cancelled.
    let sim = start_sim(1, 5.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let (status, job) = post_job(
        &base,
        &[("long.xml", scenari_item("epsilon", 40))],
        &[("source_lang", "fr"), ("target_lang", "en")],
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap();
    wait_job(&base, id, 30, |j| j["status"] == "running").await;
    let response = client().post(format!("{base}/api/v1/jobs/{id}/cancel")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "cancelled");
    let events = follow_job(&base, id).await;
    assert_eq!(events.last().unwrap().event, "end");
    let requests_then = sim.stats().requests;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let after: Value = client()
        .get(format!("{base}/api/v1/jobs/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after["status"], "cancelled");
    assert!(sim.stats().requests <= requests_then + 2, "requests went on after cancel");
    let result = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(result.status().as_u16(), 409);

    // Retried: a new job with the same file and options, the cancelled one left as it was.
    let response = client().post(format!("{base}/api/v1/jobs/{id}/retry")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let again: Value = response.json().await.unwrap();
    let again_id = again["id"].as_str().unwrap().to_string();
    assert_ne!(again_id, id);
    assert_eq!(again["files"][0]["name"], "long.xml");
    assert_eq!(again["files"][0]["stage"], "waiting");
    assert_eq!(again["source_lang"], "fr");
    assert_eq!(again["target_lang"], "en");
    // Deleting the first job does not take the retried one's upload.
    let response = client().delete(format!("{base}/api/v1/jobs/{id}")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 204);
    wait_job(&base, &again_id, 60, |j| j["progress"]["done"].as_u64().unwrap_or(0) > 0).await;
    // A job that is neither failed nor cancelled is not retried.
    let response =
        client().post(format!("{base}/api/v1/jobs/{again_id}/retry")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "job_not_retryable");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_that_cannot_be_read_fails_alone() {
    let sim = start_sim(2, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let good = scenari_item("zeta", 3);
    // Detected as Scenari (the root is right) but not well-formed further on.
    let mut broken = scenari_item("eta", 2);
    let cut = broken.len() - 30;
    broken.truncate(cut);
    let (status, job) = post_job(
        &base,
        &[("good.xml", good.clone()), ("broken.xml", broken)],
        &[("source_lang", "fr"), ("target_lang", "ar")],
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap();
    let done = wait_job(&base, id, 30, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["files"][0]["done"], true);
    assert_eq!(done["files"][1]["done"], false);
    assert_eq!(done["files"][1]["error"]["code"], "malformed_document", "{done}");
    // Only the good file is in the result, under its own name.
    let response = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let output = response.bytes().await.unwrap();
    assert_translated("good.xml", &good, &output);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn segments_the_model_cannot_translate_are_kept_and_reported() {
    // The model echoes the source every time: the engine keeps the source, with a reason.
    let sim = tradia_llm_sim::start(tradia_llm_sim::SimConfig {
        port: 0,
        slots: 2,
        time_scale: 2000.0,
        faults: tradia_llm_sim::FaultSpec::parse("echo=1").unwrap(),
        ..tradia_llm_sim::SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let input = scenari_item("kept", 2);
    let (status, job) = post_job(
        &base,
        &[("k.xml", input.clone())],
        &[("source_lang", "fr"), ("target_lang", "en")],
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap();
    let done = wait_job(&base, id, 60, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(done["status"], "done", "{done}");
    let kept_total = done["kept_segments"].as_u64().unwrap();
    assert!(kept_total >= 1, "{done}");
    assert_eq!(done["files"][0]["kept"].as_u64(), Some(kept_total));
    let kept = done["files"][0]["kept_segments"].as_array().expect("kept details");
    assert_eq!(kept.len() as u64, kept_total);
    assert!(kept.iter().all(|k| k["code"].as_str().is_some_and(|c| !c.is_empty())), "{done}");
    // A job that kept at most half of its segments carries no warning (TRADIA_MAX_KEPT_PERCENT
    // is 50 by default); one that kept more is done, with a warning saying it mostly failed.
    let total = done["progress"]["total"].as_u64().unwrap();
    assert_eq!(done["warning"].is_null(), kept_total * 100 <= total * 50, "{done}");
    let (_, lone) = post_job(
        &base,
        &[("lone.xml", scenari_item("lone", 1))],
        &[("source_lang", "fr"), ("target_lang", "en")],
    )
    .await;
    let lone_id = lone["id"].as_str().unwrap();
    let lone =
        wait_job(&base, lone_id, 60, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(lone["status"], "done", "{lone}");
    assert_eq!(lone["kept_segments"], 1, "one segment, always echoed: {lone}");
    assert_eq!(lone["warning"]["code"], "mostly_kept", "{lone}");
    let message = lone["warning"]["message"].as_str().unwrap();
    assert!(message.contains("1 of 1 segments (100%)"), "{message}");
    assert!(message.contains("more than 50%"), "{message}");
    // The document is whole, with the source text in place of each kept segment.
    let r = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    let output = r.bytes().await.unwrap();
    let options = tradia_formats::ExtractOptions::default();
    let source = tradia_formats::extract("k.xml", &input, &options).unwrap();
    let result = tradia_formats::extract("k.xml", &output, &options).unwrap();
    assert_eq!(source.segments.len(), result.segments.len());
    for k in kept {
        let i = k["segment"].as_u64().unwrap() as usize;
        assert_eq!(result.segments[i].content, source.segments[i].content);
    }
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_job_list_is_newest_first_and_paginated() {
    let sim = start_sim(2, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(dir.path(), &sim);
    settings.workers = 0; // API only: the jobs stay queued.
    let server = start_with(settings).await;
    let base = base(&server);
    let mut ids = Vec::new();
    for n in 0..3 {
        let (status, job) = post_job(
            &base,
            &[(&format!("{n}.xml"), scenari_item("page", 1))],
            &[("target_lang", "en")],
        )
        .await;
        assert_eq!(status, 202);
        ids.push(job["id"].as_str().unwrap().to_string());
    }
    let page: Value = client()
        .get(format!("{base}/api/v1/jobs?limit=2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: Vec<&str> =
        page["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    let next = page["next"].as_str().expect("a next cursor");
    let page: Value = client()
        .get(format!("{base}/api/v1/jobs?limit=2&before={next}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let got: Vec<&str> =
        page["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(got, [ids[0].as_str()]);
    assert!(page.get("next").is_none(), "{page}");
    let r = client().get(format!("{base}/api/v1/jobs?limit=abc")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_query");
    server.shutdown().await.unwrap();
}

/// A file's notes for translators (here Flutter `.arb` descriptions) reach the model with
/// their segments: the simulator saw each note next to its segment's text.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_files_notes_for_translators_reach_the_model_with_their_segments() {
    let sim = start_sim(2, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let arb = "{\n  \"@@locale\": \"fr\",\n  \"open\": \"Ouvrir le fichier\",\n  \"@open\": {\"description\": \"Menu item that opens a file\"},\n  \"bye\": \"Au revoir et à bientôt\"\n}\n";
    let fields = [("source_lang", "fr"), ("target_lang", "en")];
    let (status, job) = post_job(&base, &[("app_fr.arb", arb.as_bytes().to_vec())], &fields).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let done = wait_job(&base, &id, 60, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(done["status"], "done", "{done}");
    let notes = sim.stats().notes;
    let sent: Vec<&str> =
        notes.get("Ouvrir le fichier").into_iter().flatten().map(String::as_str).collect();
    assert_eq!(sent, ["Menu item that opens a file"], "{notes:?}");
    assert_eq!(notes.len(), 1, "only the segment with a description had a note: {notes:?}");
    server.shutdown().await.unwrap();
}
