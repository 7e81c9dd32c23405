//! `tradia backup`, `restore`, `purge` and `check-storage`, run as processes on a data folder
//! filled through `tradia_store`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

use tradia_core::LanguageTag;
use tradia_store::{
    BlobKey, BlobStore, DataLayout, FsBlobStore, Job, NewJob, NewJobFile, SqliteStore, Store,
};

fn tradia(args: &[&str], data_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradia"))
        .args(args)
        .env("TRADIA_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run tradia")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// A data folder with two jobs (their input files stored) and one file without a job.
async fn fill(dir: &Path) -> (Vec<Job>, BlobKey) {
    let layout = DataLayout::of_dir(dir);
    let store = SqliteStore::open(&layout.database).await.expect("open");
    let blobs = FsBlobStore::open(&layout.files).await.expect("blobs");
    let mut jobs = Vec::new();
    for text in ["premier", "second"] {
        let blob = blobs.put_bytes(text.as_bytes().to_vec()).await.expect("put");
        let job = NewJob {
            source_lang: None,
            target_lang: LanguageTag::parse("en").expect("tag"),
            model: None,
            files: vec![NewJobFile {
                name: format!("{text}.txt"),
                format: None,
                input_blob: blob.key,
                size: blob.size,
            }],
        };
        jobs.push(store.create_job(job).await.expect("create"));
    }
    let orphan = blobs.put_bytes(b"no job".to_vec()).await.expect("orphan").key;
    store.close().await;
    (jobs, orphan)
}

async fn jobs_in(dir: &Path) -> Vec<Job> {
    let store = SqliteStore::open(&DataLayout::of_dir(dir).database).await.expect("open");
    let mut jobs = store.list_jobs(100, None).await.expect("list").jobs;
    jobs.reverse();
    store.close().await;
    jobs
}

#[test]
fn backup_then_restore_gives_the_same_jobs_and_files() {
    let data = tempfile::tempdir().unwrap();
    let (jobs, orphan) = runtime().block_on(fill(data.path()));
    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("b1");
    let backup_arg = backup.to_str().unwrap();

    let out = tradia(&["backup", backup_arg], data.path());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(stdout(&out).contains("and 2 files"), "{}", stdout(&out));
    assert!(!backup.join("files").join(orphan.as_str()).exists(), "a file without a job");
    let again = tradia(&["backup", backup_arg], data.path());
    assert_eq!(again.status.code(), Some(1), "a backup folder is never overwritten");
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));

    // The data folder holds data: refused without --force, and left as it was.
    let refused = tradia(&["restore", backup_arg], data.path());
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert!(data.path().join("files").join(orphan.as_str()).exists());

    let restored = tempfile::tempdir().unwrap();
    let out = tradia(&["restore", backup_arg], restored.path());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(runtime().block_on(jobs_in(restored.path())), jobs);
    for (job, text) in jobs.iter().zip(["premier", "second"]) {
        let file = restored.path().join("files").join(job.files[0].input_blob.as_str());
        assert_eq!(std::fs::read(file).expect("restored file"), text.as_bytes());
    }

    let forced = tradia(&["restore", backup_arg, "--force"], data.path());
    assert_eq!(forced.status.code(), Some(0), "stderr: {}", stderr(&forced));
    assert!(!data.path().join("files").join(orphan.as_str()).exists(), "replaced by the backup");
    assert_eq!(runtime().block_on(jobs_in(data.path())), jobs);
}

#[test]
fn purge_lists_then_deletes_only_files_without_a_job() {
    let data = tempfile::tempdir().unwrap();
    let (jobs, orphan) = runtime().block_on(fill(data.path()));
    let files = data.path().join("files");

    let young = tradia(&["purge", "--dry-run"], data.path());
    assert_eq!(young.status.code(), Some(0), "stderr: {}", stderr(&young));
    assert!(stdout(&young).contains("would delete 0 files"), "{}", stdout(&young));

    let dry = tradia(&["purge", "--dry-run", "--min-age-minutes", "0"], data.path());
    assert_eq!(dry.status.code(), Some(0), "stderr: {}", stderr(&dry));
    assert!(stdout(&dry).contains(&format!("would delete {orphan}")), "{}", stdout(&dry));
    assert!(files.join(orphan.as_str()).exists(), "a dry run deletes nothing");

    let out = tradia(&["purge", "--min-age-minutes", "0"], data.path());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(stdout(&out).contains("deleted 1 files"), "{}", stdout(&out));
    assert!(!files.join(orphan.as_str()).exists());
    for job in &jobs {
        assert!(files.join(job.files[0].input_blob.as_str()).exists(), "a job's file stays");
    }
}

#[test]
fn check_storage_passes_a_sound_folder_and_names_a_damaged_database() {
    let data = tempfile::tempdir().unwrap();
    runtime().block_on(fill(data.path()));
    let out = tradia(&["check-storage"], data.path());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("integrity: ok"), "{text}");
    assert!(text.contains("database writable: ok"), "{text}");
    assert!(text.contains("files: 3"), "{text}");
    assert!(text.contains("0 missing, 1 without a job"), "{text}");

    let database = DataLayout::of_dir(data.path()).database;
    std::fs::write(&database, vec![0x42u8; 16384]).expect("damage");
    let out = tradia(&["check-storage"], data.path());
    assert_eq!(out.status.code(), Some(1), "stdout: {}", stdout(&out));
    let text = stderr(&out);
    assert!(text.contains("damaged") && text.contains("tradia restore"), "{text}");
    let out = tradia(&["backup", data.path().join("b").to_str().unwrap()], data.path());
    assert_eq!(out.status.code(), Some(1), "a damaged database is not backed up");
}

#[test]
fn postgres_backups_are_left_to_pg_dump() {
    let data = tempfile::tempdir().unwrap();
    for command in ["backup", "restore"] {
        let out = Command::new(env!("CARGO_BIN_EXE_tradia"))
            .args([command, "/nonexistent/backup"])
            .env("TRADIA_DATA_DIR", data.path())
            .env("DATABASE_URL", "postgres://tradia:secret@db.invalid/tradia")
            .output()
            .expect("run tradia");
        assert_eq!(out.status.code(), Some(1), "{command}");
        let text = stderr(&out);
        assert!(text.contains("pg_dump") && text.contains("pg_restore"), "{command}: {text}");
        assert!(!text.contains("secret"), "{text}");
    }
}
