//! One storage test suite, run on both backends.
//!
//! Every case (jobs and the queue in `cases.rs`, owners and isolation in `owners.rs`, fair
//! claiming in `fairness.rs`, the translation memory in `memory.rs`, accounts in `accounts.rs`) gets a fresh, empty store: on SQLite a new file in a temporary
//! folder; on PostgreSQL a new schema `tradia_t_<random>` in the database named by
//! `TRADIA_TEST_DATABASE_URL`, reached through `search_path` and dropped afterwards (even when the
//! case fails), so no test sees another's rows and cases run in parallel. Without the variable the PostgreSQL cases print that
//! they skipped, except under `CI=true`, where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod cases;
mod fairness;
mod glossaries;
mod memory;
mod owners;

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use tradia_core::Content;
use tradia_store::{
    AccountStore, MemoryOrigin, MemoryScope, MemoryStore, NewMemoryEntry, NewUser, PgStore, Role,
    SqliteStore, Store,
};

async fn run_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("nested/tradia.db").display());
    let store = tradia_store::connect(&url).await.expect("open sqlite");
    assert_eq!(store.backend(), "sqlite");
    tokio::spawn(case(store)).await.expect("case panicked");
}

fn postgres_admin() -> Option<PgConnectOptions> {
    match std::env::var("TRADIA_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            Some(PgConnectOptions::from_str(url.trim()).expect("TRADIA_TEST_DATABASE_URL"))
        }
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true but TRADIA_TEST_DATABASE_URL is not set: the PostgreSQL half cannot run"
                );
            }
            eprintln!("skipped: TRADIA_TEST_DATABASE_URL is not set (PostgreSQL storage tests)");
            None
        }
    }
}

async fn run_postgres<F, Fut>(case: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    in_postgres_schema(|options| async move {
        let store = PgStore::connect_with(options).await.expect("open postgres");
        assert_eq!(store.backend(), "postgres");
        let store = Arc::new(store);
        let result = tokio::spawn(case(store.clone() as Arc<dyn Store>)).await;
        store.close().await;
        result
    })
    .await;
}

/// Runs `case` with options reaching a fresh schema `tradia_t_<random>` of the test database
/// (much faster than a database per case, and as isolated: the store only sees its schema
/// through `search_path`), dropped afterwards; then re-raises the case's panic, if any.
async fn in_postgres_schema<F, Fut>(case: F)
where
    F: FnOnce(PgConnectOptions) -> Fut,
    Fut: Future<Output = Result<(), tokio::task::JoinError>>,
{
    let Some(admin) = postgres_admin() else { return };
    let name = format!("tradia_t_{:016x}", rand::random::<u64>());
    let mut conn: PgConnection = admin.connect().await.expect("connect to the test database");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .execute(&mut conn)
        .await
        .expect("create test schema");
    let result = case(admin.clone().options([("search_path", name.as_str())])).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {name} CASCADE")))
        .execute(&mut conn)
        .await
        .expect("drop test schema");
    conn.close().await.ok();
    if let Err(err) = result {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// One test per case and backend: `sqlite::<file>::<case>` and `postgres::<file>::<case>`.
macro_rules! suite {
    ($($file:ident { $($case:ident),* $(,)? })*) => {
        mod sqlite {
            $(
                mod $file {
                    $(
                        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                        async fn $case() {
                            crate::run_sqlite(crate::$file::$case).await;
                        }
                    )*
                }
            )*
        }
        mod postgres {
            $(
                mod $file {
                    $(
                        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                        async fn $case() {
                            crate::run_postgres(crate::$file::$case).await;
                        }
                    )*
                }
            )*
        }
    };
}

suite! {
    glossaries {
        entries_round_trip_in_order,
        bad_entries_are_refused_naming_the_problem,
        only_owners_and_team_members_reach_a_glossary,
        one_default_per_owner_and_pair,
        deleting_the_owner_deletes_the_glossaries,
        job_guidance_is_set_by_the_owner_with_a_glossary_they_can_read,
    }
    memory {
        exact_and_fuzzy_lookups,
        two_users_same_sentence_no_leak,
        team_memory_is_for_members,
        deleting_a_user_deletes_their_memory,
        jobs_and_their_memory,
        bad_entries_are_refused,
    }
    cases {
        create_and_get,
        pagination_newest_first,
        claim_work_finish,
        fail_job_records_error,
        concurrent_claimers_never_share,
        expired_lease_is_reclaimed,
        a_dead_holders_lease_is_retaken_at_once,
        same_worker_id_after_restart_is_fenced,
        renewal_keeps_the_lease,
        requeue_on_shutdown,
        save_segment_is_idempotent,
        resume_data_per_file,
        cancel,
        delete_returns_blobs,
        purge_expired,
        too_many_attempts,
        count_by_status,
        referenced_blobs_and_the_write_probe,
        close_then_fail,
    }
    owners {
        users_see_only_their_own_jobs,
        owner_pages_hold_only_the_owners_jobs,
        first_admin_adopts_ownerless_jobs,
        promoting_the_first_admin_adopts_ownerless_jobs,
        the_last_active_admin_stays,
        concurrent_demotions_keep_an_admin,
        deleting_a_user_deletes_their_jobs,
        scope_follows_the_callers_role,
    }
    fairness {
        owners_take_turns,
        owners_take_turns_when_each_job_ends_before_the_next_claim,
        ownerless_jobs_count_as_one_owner,
        an_owner_at_the_cap_leaves_free_workers_to_others,
        concurrent_claims_keep_the_cap,
    }
    accounts {
        users_crud,
        disabled_users_are_not_found,
        sessions,
        api_keys,
        teams,
        audit_log,
        usage_sums,
        sign_in_failures,
        key_revocation_follows_the_callers_role,
    }
}

/// SQLite only: the state survives closing and reopening the file (a process restart), and a job
/// left running by the dead process is taken over once its lease expires.
#[tokio::test]
async fn sqlite_survives_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data dir #1/tradia.db");
    let job_id;
    {
        let store = SqliteStore::open(&path).await.expect("open");
        job_id = store.create_job(cases_new_job()).await.expect("create").id;
        let c = store
            .claim_next_job(&tradia_store::ClaimOptions {
                worker: "before".into(),
                lease_ttl: std::time::Duration::from_millis(200),
                max_attempts: 10,
                max_running_per_owner: 0,
            })
            .await
            .expect("claim")
            .expect("job");
        store
            .save_segment(
                &c.lease,
                tradia_store::StoredSegment {
                    file_index: 0,
                    segment_id: 3,
                    content: "saved".into(),
                    kept_code: None,
                    kept_message: None,
                    flags: Vec::new(),
                },
            )
            .await
            .expect("save");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let store =
        tradia_store::connect(&format!("sqlite://{}", path.display())).await.expect("reopen");
    let c = store
        .claim_next_job(&tradia_store::ClaimOptions {
            worker: "after".into(),
            lease_ttl: std::time::Duration::from_secs(30),
            max_attempts: 10,
            max_running_per_owner: 0,
        })
        .await
        .expect("claim")
        .expect("the dead process's job");
    assert_eq!(c.job.id, job_id);
    assert_eq!(c.job.attempts, 2);
    let saved = store.saved_segments(job_id, 0).await.expect("saved");
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].segment_id, 3);
}

fn cases_new_job() -> tradia_store::NewJob {
    tradia_store::NewJob {
        source_lang: None,
        target_lang: tradia_core::LanguageTag::parse("ar").expect("tag"),
        model: None,
        files: vec![tradia_store::NewJobFile {
            name: "a.md".into(),
            format: None,
            input_blob: tradia_store::BlobKey::generate(),
            size: 1,
        }],
    }
}

#[tokio::test]
async fn connect_rejects_unknown_schemes() {
    for url in ["mysql://localhost/x", "tradia.db", ""] {
        match tradia_store::connect(url).await {
            Err(err) => assert_eq!(err.code(), "unsupported_database_url", "{url}"),
            Ok(_) => panic!("{url} accepted"),
        }
    }
}

#[tokio::test]
async fn sqlite_in_memory_keeps_its_rows() {
    let store = tradia_store::connect("sqlite::memory:").await.expect("open in memory");
    let job = store.create_job(cases_new_job()).await.expect("create");
    // Several operations, possibly on other pool connections: still one database.
    assert_eq!(store.get_job(job.id).await.expect("get").id, job.id);
    assert_eq!(store.list_jobs(10, None).await.expect("list").jobs.len(), 1);
    // Its write probe writes no file (there is no folder to probe).
    store.check_writable().await.expect("writable");
    let probes: Vec<_> = std::fs::read_dir(".")
        .expect("cwd")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with("-probe"))
        .collect();
    assert!(probes.is_empty(), "{probes:?}");
}

#[tokio::test]
async fn an_unreachable_postgres_is_unavailable_storage() {
    // Port 1 on the loopback: nothing listens, the connection is refused at once.
    let options = PgConnectOptions::from_str("postgres://tradia@127.0.0.1:1/tradia").unwrap();
    match PgStore::connect_with(options).await {
        Err(err) => assert_eq!(err.code(), "storage_unavailable", "{err}"),
        Ok(_) => panic!("connected to a closed port"),
    }
}

#[tokio::test]
async fn postgres_memory_tables_are_vacuumed_after_many_writes() {
    in_postgres_schema(|options| async move {
        tokio::spawn(async move {
            let store = PgStore::connect_with(options.clone())
                .await
                .expect("open postgres")
                .with_memory_tidy_every(25);
            let mut conn: PgConnection = options.connect().await.expect("connect");
            let last_vacuum = async |conn: &mut PgConnection| -> Option<time::OffsetDateTime> {
                sqlx::query_scalar(
                    "SELECT last_vacuum FROM pg_stat_user_tables \
                     WHERE schemaname = current_schema() AND relname = 'memory_postings'",
                )
                .fetch_one(conn)
                .await
                .expect("statistics")
            };
            let user = store.create_user(NewUser::new("ada", Role::User)).await.unwrap().caller();
            let entry = |i: usize| NewMemoryEntry {
                source_lang: "fr".parse().unwrap(),
                target_lang: "en".parse().unwrap(),
                source: Content::text(format!("La phrase numéro {i} du cours.")),
                target: Content::text(format!("Sentence number {i} of the course.")),
                origin: MemoryOrigin::Imported,
                model: None,
                prompt_version: None,
                job: None,
            };
            let batch = |from: usize| (from..from + 10).map(entry).collect::<Vec<_>>();
            for from in [0, 10] {
                store.record_memory_for(&user, MemoryScope::Own, batch(from)).await.unwrap();
            }
            assert_eq!(last_vacuum(&mut conn).await, None, "20 entries: not yet due");
            store.record_memory_for(&user, MemoryScope::Own, batch(20)).await.unwrap();
            assert!(last_vacuum(&mut conn).await.is_some(), "30 entries: vacuumed");
            // Still found afterwards.
            let near = Content::text("La phrase numéro 27 du cours, ce matin.");
            let found = store
                .memory_fuzzy_for(
                    &user,
                    MemoryScope::Own,
                    &"fr".parse().unwrap(),
                    &"en".parse().unwrap(),
                    &near,
                    3,
                )
                .await
                .unwrap();
            assert_eq!(found[0].source.render(), "La phrase numéro 27 du cours.");
            conn.close().await.ok();
            store.close().await;
        })
        .await
    })
    .await;
}
