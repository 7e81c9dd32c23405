#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The service on PostgreSQL (the scale-out storage): a multi-file job end to end, listing,
//! cancel and delete. Runs when `TRADIA_TEST_DATABASE_URL` names a database; says it skipped
//! otherwise, and fails instead when `CI=true`. Touches only its own rows.

mod common;

use common::*;
use serde_json::Value;

fn database_url() -> Option<String> {
    match std::env::var("TRADIA_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "TRADIA_TEST_DATABASE_URL is not set and CI=true: the PostgreSQL test must run"
            );
            println!("skipped: TRADIA_TEST_DATABASE_URL is not set (PostgreSQL test)");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn jobs_run_on_postgresql() {
    let Some(url) = database_url() else { return };
    let sim = start_sim(4, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(dir.path(), &sim);
    settings.database_url = url;
    let server = start_with(settings).await;
    let base = base(&server);

    let files = vec![("a.xml", scenari_item("pg-a", 5)), ("b.xml", scenari_item("pg-b", 3))];
    let (status, job) =
        post_job(&base, &files, &[("source_lang", "fr"), ("target_lang", "en")]).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let events = follow_job(&base, &id).await;
    let last: Value = serde_json::from_str(&events.last().unwrap().data).unwrap();
    assert_eq!(last["status"], "done", "{last}");
    let r = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    let entries = unzip(&r.bytes().await.unwrap());
    for ((name, input), (_, output)) in files.iter().zip(&entries) {
        assert_translated(name, input, output);
    }

    // The list holds it (other tests may share the database: look for this id only).
    let list: Value = client()
        .get(format!("{base}/api/v1/jobs?limit=200"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list["jobs"].as_array().unwrap().iter().any(|j| j["id"] == id.as_str()));

    let r = client().post(format!("{base}/api/v1/jobs/{id}/cancel")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "done", "a finished job stays as it is");
    let r = client().delete(format!("{base}/api/v1/jobs/{id}")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let r = client().get(format!("{base}/api/v1/jobs/{id}")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    println!("checked {} files on PostgreSQL", entries.len());
    server.shutdown().await.unwrap();
}
