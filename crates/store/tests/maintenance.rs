//! The embedded store's data folder over its life (SQLite): a deleted job's text is gone from
//! every file of the folder, orphan blobs are found, a damaged database refuses to open naming
//! the problem, a deleted job's memory entries are gone from every file too, and a backup taken while a job runs restores the same jobs and files, and that
//! job then finishes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, SystemTime};

use tradia_core::Content;
use tradia_core::LanguageTag;
use tradia_store::{
    AccountStore, BlobStore, ClaimOptions, DataLayout, FsBlobStore, JobMemory, JobStatus,
    MaintenanceError, MemoryOrigin, MemoryScope, MemoryStore, NewJob, NewJobFile, NewMemoryEntry,
    NewUser, Role, SqliteStore, Store, StoreError, StoredSegment, orphan_blobs,
};

async fn open(dir: &Path) -> (SqliteStore, FsBlobStore) {
    let layout = DataLayout::of_dir(dir);
    let store = SqliteStore::open(&layout.database).await.expect("open store");
    let blobs = FsBlobStore::open(&layout.files).await.expect("open blobs");
    (store, blobs)
}

async fn upload(
    store: &SqliteStore,
    blobs: &FsBlobStore,
    name: &str,
    text: &str,
) -> tradia_store::Job {
    let blob = blobs.put_bytes(text.as_bytes().to_vec()).await.expect("put");
    let mut job = new_job_of(blob.key, blob.size);
    job.files[0].name = name.into();
    store.create_job(job).await.expect("create")
}

fn options(worker: &str, ttl: Duration) -> ClaimOptions {
    ClaimOptions {
        worker: worker.into(),
        lease_ttl: ttl,
        max_attempts: 10,
        max_running_per_owner: 0,
    }
}

fn segment(id: u32, content: String) -> StoredSegment {
    StoredSegment {
        file_index: 0,
        segment_id: id,
        content,
        kept_code: None,
        kept_message: None,
        flags: Vec::new(),
    }
}

/// The files under `dir` still holding `marker` two seconds after a deletion answered (the
/// checkpoint runs right after it, in the background); polled, so usually at once.
async fn files_still_containing(dir: &Path, marker: &[u8]) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let found = files_containing(dir, marker);
        if found.is_empty() || std::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The files under `dir` (recursively) whose bytes contain `marker`.
fn files_containing(dir: &Path, marker: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(marker.len()).any(|w| w == marker)
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_jobs_text_is_in_no_file_of_the_data_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, blobs) = open(dir.path()).await;
    let marker = "Zeitgeist-7f3a9c";
    let kept = upload(&store, &blobs, "kept.txt", "other text").await;
    let job = upload(&store, &blobs, &format!("{marker}.txt"), &format!("{marker} original")).await;
    let claimed =
        store.claim_next_job(&options("w", Duration::from_secs(60))).await.expect("claim");
    let claimed = claimed.expect("a job");
    assert_eq!(claimed.job.id, kept.id);
    let claimed_job = store.claim_next_job(&options("w", Duration::from_secs(60))).await;
    let lease = claimed_job.expect("claim").expect("the marked job").lease;
    assert_eq!(lease.job, job.id);
    // Enough text to span many pages, some of it overflowing them.
    for id in 0..200 {
        let text = format!(
            "{marker} segment {id} {}",
            "lorem ipsum ".repeat(if id % 10 == 0 { 900 } else { 20 })
        );
        store.save_segment(&lease, segment(id, text)).await.expect("save");
    }
    let output =
        blobs.put_bytes(format!("{marker} translated").into_bytes()).await.expect("output");
    store.set_file_output(&lease, 0, output.key).await.expect("output");
    store.finish_job(&lease).await.expect("finish");
    assert!(!files_containing(dir.path(), marker.as_bytes()).is_empty(), "the marker was written");

    for key in store.delete_job(job.id).await.expect("delete") {
        blobs.delete(&key).await.expect("delete blob");
    }
    // The store is still open (a serving process): the database, its -wal and -shm, the blobs.
    assert_eq!(files_still_containing(dir.path(), marker.as_bytes()).await, Vec::<String>::new());
    assert_eq!(store.get_job(kept.id).await.expect("the other job stays").id, kept.id);

    // Deleting a user deletes their jobs' text just as thoroughly.
    let user = store.create_user(NewUser::new("erika", Role::User)).await.expect("user");
    let marker = "Weltschmerz-42b1";
    let blob = blobs.put_bytes(marker.as_bytes().to_vec()).await.expect("put");
    let mut new = new_job_of(blob.key, blob.size);
    new.files[0].name = format!("{marker}.txt");
    store.create_job_for(&user.caller(), new).await.expect("create for the user");
    assert!(!files_containing(dir.path(), marker.as_bytes()).is_empty(), "the marker was written");
    for key in store.delete_user(user.id).await.expect("delete user").blobs {
        blobs.delete(&key).await.expect("delete blob");
    }
    assert_eq!(files_still_containing(dir.path(), marker.as_bytes()).await, Vec::<String>::new());
    store.close().await;
}

fn memory_entry(source: String, target: String, job: tradia_store::JobId) -> NewMemoryEntry {
    NewMemoryEntry {
        source_lang: LanguageTag::parse("fr").expect("tag"),
        target_lang: LanguageTag::parse("de").expect("tag"),
        source: Content::text(source),
        target: Content::text(target),
        origin: MemoryOrigin::Llm,
        model: None,
        prompt_version: None,
        job: Some(job),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_jobs_memory_entries_are_in_no_file_of_the_data_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, blobs) = open(dir.path()).await;
    let user = store.create_user(NewUser::new("erika", Role::User)).await.expect("user").caller();
    let blob = blobs.put_bytes(b"x".to_vec()).await.expect("put");
    let gone = store.create_job_for(&user, new_job_of(blob.key.clone(), 1)).await.expect("job");
    let kept = store.create_job_for(&user, new_job_of(blob.key, 1)).await.expect("job");
    store
        .set_job_memory_for(&user, kept.id, JobMemory { scope: MemoryScope::Own, keep: true })
        .await
        .expect("keep option");
    // The deleted job's entries: many (several pages of the table and of the word index), some
    // long enough to overflow a page; the marker in the source (plain text, the exact key, the
    // word index) and in the target.
    let marker = "Zeitgeist7f3a9c";
    let entries: Vec<NewMemoryEntry> = (0..300)
        .map(|i| {
            let filler = "lorem ipsum ".repeat(if i % 30 == 0 { 800 } else { 10 });
            memory_entry(
                format!("{marker} Satz {i} {filler}"),
                format!("phrase {i} {marker}-target {filler}"),
                gone.id,
            )
        })
        .collect();
    store.record_memory_for(&user, MemoryScope::Own, entries).await.expect("record");
    let other = "Weltschmerz42b1";
    store
        .record_memory_for(
            &user,
            MemoryScope::Own,
            vec![memory_entry(format!("{other} bleibt"), format!("{other} reste"), kept.id)],
        )
        .await
        .expect("record kept");
    assert!(!files_containing(dir.path(), marker.as_bytes()).is_empty(), "the marker was written");

    // keep_memory off (the default): the job's entries go with it.
    store.delete_job_with_memory_for(&user, gone.id, None).await.expect("delete");
    assert_eq!(files_still_containing(dir.path(), marker.as_bytes()).await, Vec::<String>::new());
    // The kept job's entry stays, and is still found by the word index.
    store.delete_job_with_memory_for(&user, kept.id, None).await.expect("delete kept");
    let fr = LanguageTag::parse("fr").expect("tag");
    let de = LanguageTag::parse("de").expect("tag");
    let near = Content::text(format!("{other} bleibt hier"));
    let found =
        store.memory_fuzzy_for(&user, MemoryScope::Own, &fr, &de, &near, 5).await.expect("fuzzy");
    assert_eq!(found.len(), 1);
    assert!(!files_containing(dir.path(), other.as_bytes()).is_empty(), "kept entries stay");
    let none = Content::text(format!("{marker} Satz 1"));
    let found =
        store.memory_fuzzy_for(&user, MemoryScope::Own, &fr, &de, &none, 5).await.expect("fuzzy");
    assert!(found.is_empty(), "{found:?}");
    store.close().await;
}

fn new_job_of(input_blob: tradia_store::BlobKey, size: u64) -> NewJob {
    NewJob {
        source_lang: None,
        target_lang: LanguageTag::parse("de").expect("tag"),
        model: None,
        files: vec![NewJobFile { name: "a.txt".into(), format: None, input_blob, size }],
    }
}

#[tokio::test]
async fn orphan_blobs_are_those_no_job_refers_to() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, blobs) = open(dir.path()).await;
    let job = upload(&store, &blobs, "a.txt", "referenced").await;
    let orphan = blobs.put_bytes(b"left behind".to_vec()).await.expect("orphan");
    let listed = blobs.list().await.expect("list");
    assert_eq!(listed.len(), 2);
    let referenced = store.referenced_blobs().await.expect("referenced");
    assert_eq!(referenced, vec![job.files[0].input_blob.clone()]);
    let later = SystemTime::now() + Duration::from_secs(7200);
    let orphans = orphan_blobs(listed.clone(), &referenced, Duration::from_secs(3600), later);
    assert_eq!(orphans.iter().map(|b| &b.key).collect::<Vec<_>>(), vec![&orphan.key]);
    assert_eq!(orphans[0].size, 11);
    // A blob younger than the grace period may be an upload whose job is being created.
    let now = orphan_blobs(listed, &referenced, Duration::from_secs(3600), SystemTime::now());
    assert!(now.is_empty(), "{now:?}");
}

#[tokio::test]
async fn a_damaged_database_refuses_to_open_naming_the_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = DataLayout::of_dir(dir.path()).database;
    {
        let (store, blobs) = open(dir.path()).await;
        for i in 0..40 {
            upload(&store, &blobs, &format!("file {i} {}.txt", "n".repeat(200)), "x").await;
        }
        assert_eq!(store.integrity_check().await.expect("full check"), Vec::<String>::new());
        store.close().await;
    }
    // Damage the pages after the schema (page 1 stays, so the file is still a SQLite file).
    let mut bytes = std::fs::read(&path).expect("read db");
    assert!(bytes.len() >= 6 * 4096, "database too small: {}", bytes.len());
    for b in &mut bytes[2 * 4096 + 8..6 * 4096] {
        *b = 0x5a;
    }
    std::fs::write(&path, bytes).expect("damage db");

    match SqliteStore::open(&path).await {
        Err(err @ StoreError::DatabaseDamaged(_)) => {
            let message = err.to_string();
            assert_eq!(err.code(), "database_damaged");
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(message.contains("tradia restore"), "{message}");
        }
        Err(other) => panic!("expected DatabaseDamaged, got {other:?}"),
        Ok(_) => panic!("a damaged database opened"),
    }
}

#[tokio::test]
async fn not_a_database_refuses_to_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = DataLayout::of_dir(dir.path()).database;
    std::fs::write(&path, vec![0x42u8; 8192]).expect("write garbage");
    match SqliteStore::open(&path).await {
        Err(err) => assert_eq!(err.code(), "database_damaged", "{err}"),
        Ok(_) => panic!("garbage opened as a database"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_a_job_runs_restores_and_the_job_finishes() {
    let data = tempfile::tempdir().expect("data dir");
    let (store, blobs) = open(data.path()).await;
    let done = upload(&store, &blobs, "done.txt", "finished before").await;
    let ttl = Duration::from_millis(300);
    let first = store.claim_next_job(&options("w1", ttl)).await.expect("claim").expect("job");
    store.save_segment(&first.lease, segment(0, "fertig".into())).await.expect("save");
    let out = blobs.put_bytes(b"fertig".to_vec()).await.expect("output");
    store.set_file_output(&first.lease, 0, out.key.clone()).await.expect("output");
    store.finish_job(&first.lease).await.expect("finish");
    let running = upload(&store, &blobs, "running.txt", "half done").await;
    let lease = store.claim_next_job(&options("w1", ttl)).await.expect("claim").expect("job").lease;
    store.save_segment(&lease, segment(0, "halb".into())).await.expect("save");
    // An upload in flight (no job yet) is not part of the backup.
    let stray = blobs.put_bytes(b"in flight".to_vec()).await.expect("stray");

    let backups = tempfile::tempdir().expect("backups");
    let target = backups.path().join("2026-12-01");
    let report = tradia_store::backup_sqlite(&store, blobs.root(), &target).await.expect("backup");
    assert_eq!((report.files, report.missing.len()), (3, 0), "{report:?}");
    assert!(!target.join("files").join(stray.key.as_str()).exists());
    // The service goes on after the backup; the backup does not see this.
    store.save_segment(&lease, segment(1, "später".into())).await.expect("save after backup");
    let before = store.list_jobs(100, None).await.expect("list").jobs;
    assert!(matches!(
        tradia_store::backup_sqlite(&store, blobs.root(), &target).await,
        Err(MaintenanceError::NotEmpty(..))
    ));
    store.close().await;

    // A data folder with data is not overwritten without --force.
    let refused =
        tradia_store::restore_sqlite(&target, &DataLayout::of_dir(data.path()), false).await;
    assert!(matches!(refused, Err(MaintenanceError::NotEmpty(..))), "{refused:?}");

    let restored_dir = tempfile::tempdir().expect("restore dir");
    let layout = DataLayout::of_dir(restored_dir.path());
    let report = tradia_store::restore_sqlite(&target, &layout, false).await.expect("restore");
    assert_eq!((report.files, report.missing.len()), (3, 0), "{report:?}");
    let (restored, restored_blobs) = open(restored_dir.path()).await;
    let after = restored.list_jobs(100, None).await.expect("list").jobs;
    assert_eq!(after.len(), 2);
    for (a, b) in after.iter().zip(&before) {
        assert_eq!((a.id, &a.files.len()), (b.id, &b.files.len()));
        assert_eq!(a.files[0].input_blob, b.files[0].input_blob);
    }
    assert_eq!(restored.get_job(done.id).await.expect("done job"), before[1]);
    assert_eq!(restored_blobs.read(&out.key).await.expect("output restored"), b"fertig");
    assert_eq!(
        restored_blobs.read(&done.files[0].input_blob).await.expect("input"),
        b"finished before"
    );
    assert_eq!(
        restored_blobs.read(&running.files[0].input_blob).await.expect("input"),
        b"half done"
    );

    // The job that was running is taken over once its lease expires, and resumes.
    tokio::time::sleep(ttl + Duration::from_millis(100)).await;
    let resumed = restored.claim_next_job(&options("w2", ttl * 10)).await.expect("claim");
    let resumed = resumed.expect("the running job");
    assert_eq!(resumed.job.id, running.id);
    let saved = restored.saved_segments(running.id, 0).await.expect("saved");
    assert_eq!(saved.iter().map(|s| s.content.as_str()).collect::<Vec<_>>(), vec!["halb"]);
    let finished = restored.finish_job(&resumed.lease).await.expect("finish");
    assert_eq!(finished.status, JobStatus::Done);
    restored.close().await;

    // --force replaces the data.
    let forced =
        tradia_store::restore_sqlite(&target, &layout, true).await.expect("forced restore");
    assert_eq!(forced.files, 3);
    let (again, _) = open(restored_dir.path()).await;
    assert_eq!(again.get_job(running.id).await.expect("job").status, JobStatus::Running);
    again.close().await;
}
