//! Storage faults on a real full disk (SQLite): the data folder on a 2 MiB `tmpfs` mounted by the
//! test (root is needed; without it the test says it skipped, except under `CI=true`, where it
//! fails). A write on the full disk fails with `storage_full`, and once space is freed the same
//! store writes again, without a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/tmpfs.rs"]
mod tmpfs;

use tmpfs::Tmpfs;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use tradia_core::LanguageTag;
use tradia_store::{
    BlobKey, BlobStore, ClaimOptions, FsBlobStore, JobStatus, NewJob, NewJobFile, SqliteStore,
    Store, StoreError, StoredSegment,
};

fn new_job() -> NewJob {
    NewJob {
        source_lang: None,
        target_lang: LanguageTag::parse("fr").expect("tag"),
        model: None,
        files: vec![NewJobFile {
            name: "a.txt".into(),
            format: None,
            input_blob: BlobKey::generate(),
            size: 1,
        }],
    }
}

fn segment(id: u32, content: &str) -> StoredSegment {
    StoredSegment {
        file_index: 0,
        segment_id: id,
        content: content.into(),
        kept_code: None,
        kept_message: None,
        flags: Vec::new(),
    }
}

/// Writes `bytes` bytes of zeros to `path` (or as many as fit).
fn ballast(path: &PathBuf, bytes: usize) {
    let mut file = std::fs::File::create(path).expect("create ballast");
    file.write_all(&vec![0u8; bytes]).expect("ballast fits");
    file.sync_all().expect("sync ballast");
}

fn assert_full(result: Result<(), StoreError>, what: &str) {
    match result {
        Err(err) => assert_eq!(err.code(), "storage_full", "{what}: {err}"),
        Ok(()) => panic!("{what}: the write succeeded on a full disk"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_and_the_store_recovers_once_space_is_freed() {
    let Some(fs) = Tmpfs::mount("2m") else { return };
    let store = SqliteStore::open(&fs.path().join("tradia.db")).await.expect("open");
    let blobs = FsBlobStore::open(fs.path().join("files")).await.expect("blob folder");
    // Something that took space and can be deleted (an upload, a log).
    let ballast_path = fs.path().join("ballast");
    ballast(&ballast_path, 768 << 10);

    store.create_job(new_job()).await.expect("create");
    let options = ClaimOptions {
        worker: "w".into(),
        lease_ttl: Duration::from_secs(600),
        max_attempts: 10,
        max_running_per_owner: 0,
    };
    let claimed = store.claim_next_job(&options).await.expect("claim").expect("job");
    let lease = &claimed.lease;

    // Fill the disk with translated segments until a write fails.
    let big = "x".repeat(64 << 10);
    let mut saved = 0u32;
    let err = loop {
        match store.save_segment(lease, segment(saved, &big)).await {
            Ok(()) => saved += 1,
            Err(err) => break err,
        }
        assert!(saved < 64, "2 MiB never filled");
    };
    assert!(saved > 0, "the first write already failed: {err}");
    assert_eq!(err.code(), "storage_full", "{err}");
    // While the disk stays full, writes keep failing as full (not with a broken connection).
    assert_full(store.save_segment(lease, segment(1000, &big)).await, "second write");
    match blobs.put_bytes(vec![1u8; 256 << 10]).await {
        Err(err) => assert_eq!(err.code(), "storage_full", "{err}"),
        Ok(_) => panic!("a blob was written on a full disk"),
    }

    // The readiness probes say so.
    assert_full(store.check_writable().await, "store probe");
    match blobs.check_writable().await {
        Err(err) => assert_eq!(err.code(), "storage_full", "{err}"),
        Ok(()) => panic!("the blob probe wrote on a full disk"),
    }
    // Space is freed: the same store writes again.
    std::fs::remove_file(&ballast_path).expect("free space");
    for id in 2000..2004 {
        store.save_segment(lease, segment(id, &big)).await.expect("write after freeing space");
    }
    store.check_writable().await.expect("writable again");
    blobs.check_writable().await.expect("blob folder writable again");
    let done = store.finish_job(lease).await.expect("finish after freeing space");
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(store.saved_segments(done.id, 0).await.expect("read").len(), saved as usize + 4);
    store.create_job(new_job()).await.expect("a new job after freeing space");
    store.close().await;
}
