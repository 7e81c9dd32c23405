//! The shared half on its own: stored values the model cannot hold become `Corrupt` naming their
//! column (both in the row conversions and end to end, through a SQLite file edited by hand), and
//! values too large for a column are refused before anything is written.

use sqlx::{Connection, SqliteConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::rows::{FileRow, JobRow, StatusCountRow, status_counts};
use super::{FileUpdate, check_new_job};
use crate::error::StoreError;
use crate::model::{FileExtracted, JobStatus, NewJob, NewJobFile};
use crate::{BlobKey, SqliteStore, Store};

fn job_row() -> JobRow<OffsetDateTime> {
    JobRow {
        id: Uuid::now_v7(),
        owner: None,
        status: "queued".into(),
        source_lang: None,
        target_lang: "fr".into(),
        model: None,
        error_code: None,
        error_message: None,
        attempts: 0,
        lease_owner: None,
        lease_expires_at: None,
        created_at: OffsetDateTime::UNIX_EPOCH,
        updated_at: OffsetDateTime::UNIX_EPOCH,
        started_at: None,
        finished_at: None,
    }
}

fn file_row() -> FileRow {
    FileRow {
        file_index: 0,
        name: "a.md".into(),
        format: None,
        input_blob: BlobKey::generate().as_str().to_string(),
        size: 1,
        extracted: false,
        total: 0,
        detected_lang: None,
        title: None,
        output_blob: None,
        error_code: None,
        error_message: None,
        done: 0,
        kept: 0,
    }
}

/// The message of a `Corrupt` error; panics on any other outcome.
fn corrupt_message<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Corrupt(message)) => message,
        other => panic!("expected corrupt data, got {other:?}"),
    }
}

#[test]
fn rows_convert_to_the_model() {
    let job = job_row().into_job(vec![file_row()]).unwrap();
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.target_lang.as_str(), "fr");
    assert_eq!(job.files.len(), 1);
    assert_eq!(job.files[0].size, 1);
}

#[test]
fn bad_stored_values_name_their_column() {
    let mut bad_status = job_row();
    bad_status.status = "paused".into();
    assert_eq!(corrupt_message(bad_status.into_job(vec![])), "column status holds `paused`");

    let mut bad_lang = job_row();
    bad_lang.target_lang = "not a tag!".into();
    assert!(corrupt_message(bad_lang.into_job(vec![])).starts_with("column target_lang"));

    let mut negative = file_row();
    negative.size = -1;
    assert_eq!(corrupt_message(job_row().into_job(vec![negative])), "column size holds `-1`");

    let mut bad_blob = file_row();
    bad_blob.output_blob = Some("../../etc/passwd".into());
    assert!(corrupt_message(job_row().into_job(vec![bad_blob])).starts_with("column output_blob"));
}

#[test]
fn status_counts_list_every_status() {
    let rows = vec![StatusCountRow { status: "done".into(), n: 3 }];
    let counts = status_counts(rows).unwrap();
    assert_eq!(counts.counts.len(), JobStatus::ALL.len());
    assert_eq!(counts.get(JobStatus::Done), 3);
    assert_eq!(counts.get(JobStatus::Queued), 0);

    let unknown = vec![StatusCountRow { status: "paused".into(), n: 1 }];
    assert_eq!(corrupt_message(status_counts(unknown)), "column status holds `paused`");
}

#[test]
fn values_too_large_for_a_column_are_refused() {
    let extracted =
        FileExtracted { total: u64::MAX, format: None, detected_source_lang: None, title: None };
    assert!(matches!(FileUpdate::extracted(extracted), Err(StoreError::Invalid(_))));

    let mut job = new_job();
    job.files[0].size = u64::MAX;
    assert!(matches!(check_new_job(&job), Err(StoreError::Invalid(_))));
}

fn new_job() -> NewJob {
    NewJob {
        source_lang: None,
        target_lang: "fr".parse().unwrap(),
        model: None,
        files: vec![NewJobFile {
            name: "a.md".into(),
            format: None,
            input_blob: BlobKey::generate(),
            size: 1,
        }],
    }
}

/// Edits the database file behind the store's back, as a person with `sqlite3` might.
async fn edit_by_hand(path: &std::path::Path, statement: &str) {
    let mut conn = SqliteConnection::connect(&format!("sqlite:{}", path.display())).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string())).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn hand_edited_rows_read_back_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tradia.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let id = store.create_job(new_job()).await.unwrap().id;

    // A time SQLite holds but no date can be (Unix milliseconds far past the year 9999).
    edit_by_hand(&path, &format!("UPDATE jobs SET created_at = {}", i64::MAX)).await;
    let message = corrupt_message(store.get_job(id).await);
    assert_eq!(message, format!("column created_at holds `{}`", i64::MAX));
    assert!(matches!(store.list_jobs(10, None).await, Err(StoreError::Corrupt(_))));

    edit_by_hand(&path, "UPDATE jobs SET created_at = 0; UPDATE job_files SET size = -5").await;
    assert_eq!(corrupt_message(store.get_job(id).await), "column size holds `-5`");

    edit_by_hand(&path, "UPDATE job_files SET size = 5").await;
    assert_eq!(store.get_job(id).await.unwrap().files[0].size, 5);
    store.close().await;
}

// ---- Account rows.

use super::account_rows::{SessionRow, UserRow, check_name, name_key};
use super::{StoredTime, to_millis};

fn user_row() -> UserRow<OffsetDateTime> {
    UserRow {
        id: Uuid::now_v7(),
        login: "Alice".into(),
        display_name: "Alice".into(),
        email: None,
        role: "user".into(),
        state: "active".into(),
        password_hash: None,
        oidc_issuer: None,
        oidc_subject: None,
        quota_chars_per_day: None,
        quota_chars_per_month: Some(5),
        quota_documents_in_progress: None,
        quota_upload_bytes: None,
        created_at: OffsetDateTime::UNIX_EPOCH,
        last_sign_in_at: None,
    }
}

#[test]
fn user_rows_convert_and_name_bad_columns() {
    let user = user_row().into_user().unwrap();
    assert_eq!(user.quotas.chars_per_month, Some(5));
    assert_eq!(user.role, crate::Role::User);

    let mut bad_role = user_row();
    bad_role.role = "root".into();
    assert_eq!(corrupt_message(bad_role.into_user()), "column role holds `root`");
    let mut half_identity = user_row();
    half_identity.oidc_issuer = Some("https://sso".into());
    assert!(corrupt_message(half_identity.into_user()).starts_with("column oidc_subject"));
    let mut negative = user_row();
    negative.quota_upload_bytes = Some(-1);
    assert_eq!(corrupt_message(negative.into_user()), "column quota_upload_bytes holds `-1`");

    let session = SessionRow {
        session_id: Uuid::now_v7(),
        session_user: Uuid::now_v7(),
        csrf_hash: vec![0; 16],
        session_created_at: OffsetDateTime::UNIX_EPOCH,
        expires_at: OffsetDateTime::UNIX_EPOCH,
        last_seen_at: OffsetDateTime::UNIX_EPOCH,
    };
    assert_eq!(corrupt_message(session.into_session()), "column csrf_hash holds `16 bytes`");
}

#[test]
fn names_fold_case_and_refuse_padding() {
    assert_eq!(name_key("ÉLodie"), name_key("élodie"));
    assert!(check_name("login", "jean.dupont@example.org").is_ok());
    for bad in ["", " x", "x ", "a\tb", "\u{0}"] {
        assert!(matches!(check_name("login", bad), Err(StoreError::Invalid(_))), "{bad:?}");
    }
}

#[test]
fn times_keep_milliseconds_on_both_backends() {
    let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
    let kept = to_millis(t);
    assert_eq!(kept.unix_timestamp_nanos(), 1_700_000_000_123_000_000);
    let sqlite = crate::sqlite::UnixMillis::from_time(t).into_time("t").unwrap();
    let postgres = <OffsetDateTime as StoredTime>::from_time(t);
    assert_eq!((sqlite, postgres), (kept, kept));
}
