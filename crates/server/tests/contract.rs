#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The published contract as checked-in snapshots: the OpenAPI document, the job JSON (as
//! created, as finished with one failed file, as listed) and the error body. A change to any of
//! these shapes is a visible diff in `tests/snapshots/`, reviewed like code.
//!
//! Ids and times are replaced by placeholders so the snapshots are the same on every run. After
//! an intended change, run `UPDATE_SNAPSHOTS=1 cargo test -p tradia-server --test contract` and
//! commit the rewritten files.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::*;
use serde_json::Value;

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(format!("{name}.json"))
}

/// Compares `value` with the snapshot `name`, or rewrites it when `UPDATE_SNAPSHOTS=1`.
fn assert_snapshot(name: &str, value: &Value) {
    let path = snapshot_path(name);
    let actual = format!("{}\n", serde_json::to_string_pretty(value).unwrap());
    if std::env::var("UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        println!("wrote {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "snapshot {} cannot be read ({e}); run with UPDATE_SNAPSHOTS=1 to write it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "the contract changed: {} differs from the service's answer from line {} on \
             (expected `{}`, got `{}`).\nIf the change is intended, run \
             `UPDATE_SNAPSHOTS=1 cargo test -p tradia-server --test contract` and commit the \
             diff.\n--- actual ---\n{actual}",
            path.display(),
            first + 1,
            expected.lines().nth(first).unwrap_or("<end>"),
            actual.lines().nth(first).unwrap_or("<end>"),
        );
    }
}

/// Replaces the fields that differ on every run (ids, times) with placeholders.
fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let volatile = matches!(
                    key.as_str(),
                    "id" | "next" | "created_at" | "started_at" | "finished_at" | "updated_at"
                );
                if volatile && !v.is_null() {
                    *v = Value::String(format!("[{key}]"));
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn openapi_document_and_job_json_match_their_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let settings = tradia_server::ServerSettings::for_tests(dir.path());
    let server =
        tradia_server::start(settings, Arc::new(tradia_server::PseudoGateway), None).await.unwrap();
    let base = base(&server);

    let (status, mut openapi) = get_json(&format!("{base}/api/openapi.json")).await;
    assert_eq!(status, 200);
    // The crate version is not part of the contract.
    openapi["info"]["version"] = Value::String("[version]".into());
    assert_snapshot("openapi", &openapi);

    // One good file and one that is detected as Scenari but breaks further on.
    let good = scenari_item("contract", 4);
    let mut broken = scenari_item("broken", 2);
    broken.truncate(broken.len() - 30);
    let (status, mut created) = post_job(
        &base,
        &[("cours.xml", good), ("casse.xml", broken)],
        &[("source_lang", "fr"), ("target_lang", "en")],
    )
    .await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    redact(&mut created);
    assert_snapshot("job_created", &created);

    let mut done =
        wait_job(&base, &id, 30, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(done["status"], "done", "{done}");
    redact(&mut done);
    assert_snapshot("job_done", &done);

    let (status, mut list) = get_json(&format!("{base}/api/v1/jobs")).await;
    assert_eq!(status, 200);
    redact(&mut list);
    assert_snapshot("job_list", &list);

    let (status, error) = get_json(&format!("{base}/api/v1/jobs/not-a-job-id")).await;
    assert_eq!(status, 404);
    assert_snapshot("error_job_not_found", &error);
    server.shutdown().await.unwrap();
}
