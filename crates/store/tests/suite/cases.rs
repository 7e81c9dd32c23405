//! The storage test cases, each a function of a fresh, empty store. The same functions run on
//! SQLite and on PostgreSQL (see `main.rs`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tradia_core::LanguageTag;
use tradia_store::{
    BlobKey, ClaimOptions, Claimed, ErrorInfo, FileExtracted, JobId, JobStatus, NewJob, NewJobFile,
    RenewOutcome, Store, StoreError, StoredSegment,
};

pub type S = Arc<dyn Store>;

fn lang(tag: &str) -> LanguageTag {
    LanguageTag::parse(tag).expect("valid tag")
}

pub fn new_job(files: usize) -> NewJob {
    NewJob {
        source_lang: None,
        target_lang: lang("en"),
        model: Some("m1".into()),
        files: (0..files)
            .map(|i| NewJobFile {
                name: format!("file{i}.xml"),
                format: Some("scenari".into()),
                input_blob: BlobKey::generate(),
                size: 100 + i as u64,
            })
            .collect(),
    }
}

fn opts(worker: &str, ttl_ms: u64) -> ClaimOptions {
    ClaimOptions {
        worker: worker.into(),
        lease_ttl: Duration::from_millis(ttl_ms),
        max_attempts: 10,
        max_running_per_owner: 0,
    }
}

pub fn seg(file: u32, id: u32, text: &str) -> StoredSegment {
    StoredSegment {
        file_index: file,
        segment_id: id,
        content: text.into(),
        kept_code: None,
        kept_message: None,
        flags: Vec::new(),
    }
}

pub async fn claim(store: &S, worker: &str, ttl_ms: u64) -> Option<Claimed> {
    store.claim_next_job(&opts(worker, ttl_ms)).await.expect("claim")
}

fn assert_lease_lost<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::LeaseLost(_)) => {}
        other => panic!("expected LeaseLost, got {other:?}"),
    }
}

pub async fn create_and_get(store: S) {
    store.ping().await.expect("ping");
    let mut nj = new_job(2);
    nj.source_lang = Some(lang("fr"));
    let created = store.create_job(nj.clone()).await.expect("create");
    assert_eq!(created.status, JobStatus::Queued);
    assert_eq!(created.source_lang, Some(lang("fr")));
    assert_eq!(created.target_lang, lang("en"));
    assert_eq!(created.model.as_deref(), Some("m1"));
    assert_eq!(created.attempts, 0);
    assert_eq!(created.files.len(), 2);
    for (i, f) in created.files.iter().enumerate() {
        assert_eq!(f.index as usize, i);
        assert_eq!(f.name, nj.files[i].name);
        assert_eq!(f.input_blob, nj.files[i].input_blob);
        assert_eq!(f.size, nj.files[i].size);
        assert!(!f.extracted);
        assert_eq!((f.progress.done, f.progress.total), (0, 0));
        assert!(f.output_blob.is_none() && f.error.is_none());
    }
    assert!(created.started_at.is_none() && created.finished_at.is_none());
    assert!(created.lease_owner.is_none());
    let got = store.get_job(created.id).await.expect("get");
    assert_eq!(got, created);

    let missing = JobId::new();
    match store.get_job(missing).await {
        Err(e @ StoreError::NotFound(_)) => assert_eq!(e.code(), "job_not_found"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    match store.create_job(new_job(0)).await {
        Err(e @ StoreError::Invalid(_)) => assert_eq!(e.code(), "invalid_request"),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

pub async fn pagination_newest_first(store: S) {
    let mut ids = Vec::new();
    for _ in 0..7 {
        ids.push(store.create_job(new_job(1)).await.expect("create").id);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let page = store.list_jobs(3, before).await.expect("list");
        pages += 1;
        assert!(page.jobs.len() <= 3);
        seen.extend(page.jobs.iter().map(|j| j.id));
        match page.next {
            Some(next) => {
                assert_eq!(Some(next), page.jobs.last().map(|j| j.id));
                before = Some(next);
            }
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, ids, "pages must list every job once, newest first");
    assert_eq!(pages, 3);
    let first = store.list_jobs(7, None).await.expect("list");
    assert_eq!(first.jobs.len(), 7);
    assert!(first.next.is_none(), "an exactly full last page has no next cursor");
    assert!(matches!(store.list_jobs(0, None).await, Err(StoreError::Invalid(_))));
}

pub async fn claim_work_finish(store: S) {
    let job = store.create_job(new_job(2)).await.expect("create");
    let c = claim(&store, "w1", 30_000).await.expect("a queued job");
    assert_eq!(c.job.id, job.id);
    assert_eq!(c.job.status, JobStatus::Running);
    assert_eq!(c.job.attempts, 1);
    assert_eq!(c.lease.attempt, 1);
    assert_eq!(c.job.lease_owner.as_deref(), Some("w1"));
    assert!(c.job.lease_expires_at.is_some() && c.job.started_at.is_some());
    assert!(claim(&store, "w2", 30_000).await.is_none(), "a held job is not claimable");

    store
        .set_file_extracted(
            &c.lease,
            0,
            FileExtracted {
                total: 3,
                format: Some("scenari-item".into()),
                detected_source_lang: Some(lang("fr")),
                title: Some("Les bases de la météo".into()),
            },
        )
        .await
        .expect("extracted 0");
    store
        .set_file_extracted(
            &c.lease,
            1,
            FileExtracted { total: 2, format: None, detected_source_lang: None, title: None },
        )
        .await
        .expect("extracted 1");
    store.save_segment(&c.lease, seg(0, 0, "Hello")).await.expect("save");
    store
        .save_segments(&c.lease, vec![seg(0, 1, "<g1>World</g1>"), seg(1, 0, "One")])
        .await
        .expect("save batch");
    let mut kept = seg(0, 2, "Source kept");
    kept.kept_code = Some("invalid_codes".into());
    kept.kept_message = Some("the answer lost a tag".into());
    store.save_segment(&c.lease, kept).await.expect("save kept");

    let mid = store.get_job(job.id).await.expect("get");
    assert_eq!(mid.files[0].format.as_deref(), Some("scenari-item"));
    assert_eq!(mid.files[0].title.as_deref(), Some("Les bases de la météo"));
    assert_eq!(mid.files[1].title, None);
    assert_eq!(mid.files[1].format.as_deref(), Some("scenari"), "None keeps the upload format");
    assert_eq!(mid.files[0].detected_source_lang, Some(lang("fr")));
    assert_eq!(mid.detected_source_lang(), Some(&lang("fr")));
    assert!(mid.files[0].extracted && mid.files[1].extracted);
    assert_eq!((mid.files[0].progress.done, mid.files[0].progress.total), (3, 3));
    assert_eq!((mid.files[1].progress.done, mid.files[1].progress.total), (1, 2));
    assert_eq!((mid.progress().done, mid.progress().total), (4, 5));
    assert_eq!(mid.files[0].kept, 1);
    assert_eq!(mid.kept(), 1);

    let out0 = BlobKey::generate();
    store.set_file_output(&c.lease, 0, out0.clone()).await.expect("output");
    store
        .set_file_failed(&c.lease, 1, ErrorInfo::new("malformed", "file1.xml is broken"))
        .await
        .expect("file failed");
    match store.set_file_output(&c.lease, 9, BlobKey::generate()).await {
        Err(e @ StoreError::FileNotFound { index: 9, .. }) => {
            assert_eq!(e.code(), "file_not_found")
        }
        other => panic!("expected FileNotFound, got {other:?}"),
    }
    assert!(matches!(
        store.save_segment(&c.lease, seg(5, 0, "x")).await,
        Err(StoreError::FileNotFound { index: 5, .. })
    ));

    let done = store.finish_job(&c.lease).await.expect("finish");
    assert_eq!(done.status, JobStatus::Done);
    assert!(done.finished_at.is_some());
    assert!(done.lease_owner.is_none() && done.lease_expires_at.is_none());
    assert_eq!(done.files[0].output_blob.as_ref(), Some(&out0));
    assert_eq!(done.files[1].error.as_ref().map(|e| e.code.as_str()), Some("malformed"));
    assert!(done.updated_at >= job.updated_at);
    // The lease ended with the job.
    assert_lease_lost(store.save_segment(&c.lease, seg(0, 0, "late")).await);
    assert_eq!(
        store.renew_lease(&c.lease, Duration::from_secs(5)).await.unwrap(),
        RenewOutcome::Lost
    );
    assert!(claim(&store, "w2", 30_000).await.is_none(), "a done job is not claimable");
}

pub async fn fail_job_records_error(store: S) {
    let job = store.create_job(new_job(1)).await.expect("create");
    let c = claim(&store, "w1", 30_000).await.expect("claim");
    let failed = store
        .fail_job(&c.lease, ErrorInfo::new("backend_failed", "the model server is down"))
        .await
        .expect("fail");
    assert_eq!(failed.id, job.id);
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error, Some(ErrorInfo::new("backend_failed", "the model server is down")));
    assert!(failed.finished_at.is_some());
    assert_lease_lost(store.finish_job(&c.lease).await);
}

pub async fn concurrent_claimers_never_share(store: S) {
    const JOBS: usize = 24;
    let mut created = HashSet::new();
    for _ in 0..JOBS {
        created.insert(store.create_job(new_job(1)).await.expect("create").id);
    }
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(c) = claim(&store, &format!("worker-{w}"), 60_000).await {
                assert_eq!(c.job.lease_owner.as_deref(), Some(format!("worker-{w}").as_str()));
                mine.push(c.job.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("claimer task"));
    }
    let unique: HashSet<JobId> = all.iter().copied().collect();
    assert_eq!(all.len(), unique.len(), "a job was handed to two claimers");
    assert_eq!(unique, created, "every job is claimed exactly once");
    let counts = store.count_by_status().await.expect("counts");
    assert_eq!(counts.get(JobStatus::Running), JOBS as u64);
    assert_eq!(counts.get(JobStatus::Queued), 0);
}

pub async fn expired_lease_is_reclaimed(store: S) {
    let job = store.create_job(new_job(1)).await.expect("create");
    let a = claim(&store, "dead-replica", 300).await.expect("claim");
    store.save_segment(&a.lease, seg(0, 0, "before the crash")).await.expect("save");
    assert!(claim(&store, "other", 30_000).await.is_none(), "not before expiry");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let b = claim(&store, "other", 30_000).await.expect("expired lease reclaimed");
    assert_eq!(b.job.id, job.id);
    assert_eq!(b.job.attempts, 2);
    assert_eq!(b.lease.attempt, 2);
    assert_eq!(b.job.lease_owner.as_deref(), Some("other"));
    // The dead worker, if it wakes up, can no longer write.
    assert_lease_lost(store.save_segment(&a.lease, seg(0, 1, "zombie")).await);
    assert_lease_lost(store.finish_job(&a.lease).await);
    assert_lease_lost(store.fail_job(&a.lease, ErrorInfo::new("x", "y")).await);
    assert_lease_lost(store.save_segments(&a.lease, vec![seg(0, 2, "zombie")]).await);
    let extracted =
        FileExtracted { total: 9, format: None, detected_source_lang: None, title: None };
    assert_lease_lost(store.set_file_extracted(&a.lease, 0, extracted).await);
    assert_lease_lost(store.set_file_output(&a.lease, 0, BlobKey::generate()).await);
    assert_lease_lost(store.set_file_failed(&a.lease, 0, ErrorInfo::new("x", "y")).await);
    assert_lease_lost(store.requeue_job(&a.lease).await);
    assert_eq!(
        store.renew_lease(&a.lease, Duration::from_secs(5)).await.unwrap(),
        RenewOutcome::Lost
    );
    let untouched = store.get_job(job.id).await.unwrap();
    assert_eq!(untouched.status, JobStatus::Running);
    assert_eq!(untouched.lease_owner.as_deref(), Some("other"));
    assert!(untouched.files[0].output_blob.is_none() && untouched.files[0].error.is_none());
    assert!(!untouched.files[0].extracted);
    // The new holder sees what was saved before the crash.
    let saved = store.saved_segments(job.id, 0).await.expect("saved");
    assert_eq!(saved, vec![seg(0, 0, "before the crash")]);
    assert!(matches!(
        store.renew_lease(&b.lease, Duration::from_secs(5)).await.unwrap(),
        RenewOutcome::Renewed(_)
    ));
    store.finish_job(&b.lease).await.expect("finish by new holder");
}

/// A lease whose holder (`host:pid:…`) is a process of this host that has exited is taken over
/// at the next claim, long before it would expire; a live holder's lease is not.
pub async fn a_dead_holders_lease_is_retaken_at_once(store: S) {
    let host = tradia_store::process::host_name();
    // A job held by this live process, and one by a process of another host, stay theirs.
    let live = store.create_job(new_job(1)).await.expect("create").id;
    let me = format!("{}:run:0", tradia_store::process::holder_prefix());
    assert_eq!(claim(&store, &me, 600_000).await.expect("claim").job.id, live);
    let remote = store.create_job(new_job(1)).await.expect("create").id;
    let c = claim(&store, &format!("x{host}:1:run:0"), 600_000).await.expect("claim");
    assert_eq!(c.job.id, remote);
    // A job whose holder has exited (its pid is free).
    let dead = store.create_job(new_job(1)).await.expect("create").id;
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let pid = child.id();
    child.wait().expect("wait");
    let a = claim(&store, &format!("{host}:{pid}:run:0"), 600_000).await.expect("claim");
    assert_eq!(a.job.id, dead);
    store.save_segment(&a.lease, seg(0, 0, "before the kill")).await.expect("save");

    let b = claim(&store, "other:1:run:0", 30_000).await.expect("the dead holder's job");
    assert_eq!(b.job.id, dead);
    assert_eq!(b.lease.attempt, 2);
    let saved = store.saved_segments(dead, 0).await.expect("saved");
    assert_eq!(saved, vec![seg(0, 0, "before the kill")]);
    assert_lease_lost(store.save_segment(&a.lease, seg(0, 1, "zombie")).await);
    assert!(claim(&store, "other:1:run:1", 30_000).await.is_none(), "live leases are kept");
}

pub async fn same_worker_id_after_restart_is_fenced(store: S) {
    let job = store.create_job(new_job(1)).await.expect("create");
    let first = claim(&store, "node-1", 300).await.expect("claim");
    tokio::time::sleep(Duration::from_millis(600)).await;
    // The restarted process reuses its worker id.
    let second = claim(&store, "node-1", 30_000).await.expect("reclaim");
    assert_eq!(second.job.id, job.id);
    assert_eq!(second.lease.attempt, first.lease.attempt + 1);
    assert_lease_lost(store.save_segment(&first.lease, seg(0, 0, "old incarnation")).await);
    store.save_segment(&second.lease, seg(0, 0, "new incarnation")).await.expect("save");
}

pub async fn renewal_keeps_the_lease(store: S) {
    store.create_job(new_job(1)).await.expect("create");
    let c = claim(&store, "w1", 400).await.expect("claim");
    let before = c.job.lease_expires_at.expect("expiry");
    match store.renew_lease(&c.lease, Duration::from_secs(30)).await.expect("renew") {
        RenewOutcome::Renewed(until) => assert!(until > before, "{until} <= {before}"),
        other => panic!("expected Renewed, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(claim(&store, "w2", 30_000).await.is_none(), "a renewed lease is not reclaimable");
    store.save_segment(&c.lease, seg(0, 0, "still mine")).await.expect("save");
}

pub async fn requeue_on_shutdown(store: S) {
    let j1 = store.create_job(new_job(1)).await.expect("create");
    let j2 = store.create_job(new_job(1)).await.expect("create");
    let j3 = store.create_job(new_job(1)).await.expect("create");
    let a1 = claim(&store, "stopping", 60_000).await.expect("claim");
    let a2 = claim(&store, "stopping", 60_000).await.expect("claim");
    let b = claim(&store, "staying", 60_000).await.expect("claim");
    assert_eq!((a1.job.id, a2.job.id, b.job.id), (j1.id, j2.id, j3.id));
    store.save_segment(&a1.lease, seg(0, 0, "done before shutdown")).await.expect("save");

    assert_eq!(store.requeue_worker_jobs("stopping").await.expect("requeue"), 2);
    for id in [j1.id, j2.id] {
        let j = store.get_job(id).await.expect("get");
        assert_eq!(j.status, JobStatus::Queued);
        assert!(j.lease_owner.is_none() && j.lease_expires_at.is_none());
    }
    assert_eq!(store.get_job(j3.id).await.unwrap().status, JobStatus::Running);
    assert_lease_lost(store.save_segment(&a1.lease, seg(0, 1, "after requeue")).await);

    // Another worker (or the restarted one) picks them up at once, with the saved work.
    let c1 = claim(&store, "next", 60_000).await.expect("claim requeued");
    assert_eq!(c1.job.id, j1.id);
    assert_eq!(c1.job.attempts, 2);
    assert_eq!(c1.job.progress().done, 1);
    assert_eq!(store.saved_segments(j1.id, 0).await.unwrap().len(), 1);

    // One job at a time.
    store.requeue_job(&b.lease).await.expect("requeue one");
    assert_eq!(store.get_job(j3.id).await.unwrap().status, JobStatus::Queued);
    assert_lease_lost(store.requeue_job(&b.lease).await);
    assert_eq!(store.requeue_worker_jobs("nobody").await.unwrap(), 0);
}

pub async fn save_segment_is_idempotent(store: S) {
    let job = store.create_job(new_job(1)).await.expect("create");
    let c = claim(&store, "w1", 60_000).await.expect("claim");
    store
        .set_file_extracted(
            &c.lease,
            0,
            FileExtracted { total: 2, format: None, detected_source_lang: None, title: None },
        )
        .await
        .unwrap();
    store.save_segment(&c.lease, seg(0, 1, "first")).await.expect("save");
    store.save_segment(&c.lease, seg(0, 1, "first")).await.expect("save again");
    let mut replaced = seg(0, 1, "second");
    replaced.kept_code = Some("empty_answer".into());
    replaced.kept_message = Some("the model answered nothing".into());
    // The flags come back as saved (issue 15, the quality report), in order.
    replaced.flags = vec![
        tradia_core::SegmentFlag::CodesRepaired,
        tradia_core::SegmentFlag::NumberMissing { value: "1 000,5".into() },
        tradia_core::SegmentFlag::Model { name: "mistral-small3.2:latest".into() },
    ];
    store.save_segment(&c.lease, replaced.clone()).await.expect("replace");
    let saved = store.saved_segments(job.id, 0).await.unwrap();
    assert_eq!(saved, vec![replaced]);
    let j = store.get_job(job.id).await.unwrap();
    assert_eq!(j.files[0].progress.done, 1, "one row per segment");
    assert_eq!(j.files[0].kept, 1);
    // Replacing a kept segment by a translation clears the reason and the flags.
    store.save_segment(&c.lease, seg(0, 1, "third")).await.unwrap();
    let saved = store.saved_segments(job.id, 0).await.unwrap();
    assert_eq!(saved, vec![seg(0, 1, "third")]);
    assert_eq!(store.get_job(job.id).await.unwrap().files[0].kept, 0);
}

pub async fn resume_data_per_file(store: S) {
    let job = store.create_job(new_job(2)).await.expect("create");
    let other = store.create_job(new_job(1)).await.expect("create other");
    let c = claim(&store, "w1", 60_000).await.expect("claim");
    assert_eq!(c.job.id, job.id);
    let content = "Un <g1>texte</g1> avec <x2/> &amp; des accents é, عربى";
    for (file, id) in [(0, 5), (1, 1), (0, 0), (0, 2)] {
        store.save_segment(&c.lease, seg(file, id, &format!("{content} {id}"))).await.unwrap();
    }
    let f0 = store.saved_segments(job.id, 0).await.unwrap();
    assert_eq!(f0.iter().map(|s| s.segment_id).collect::<Vec<_>>(), vec![0, 2, 5]);
    assert_eq!(f0[1].content, format!("{content} 2"));
    assert!(f0.iter().all(|s| s.file_index == 0));
    let f1 = store.saved_segments(job.id, 1).await.unwrap();
    assert_eq!(f1, vec![seg(1, 1, &format!("{content} 1"))]);
    assert!(store.saved_segments(other.id, 0).await.unwrap().is_empty());
    assert!(store.saved_segments(job.id, 7).await.unwrap().is_empty());
}

pub async fn cancel(store: S) {
    let queued = store.create_job(new_job(1)).await.expect("create");
    let running = store.create_job(new_job(1)).await.expect("create");
    let cancelled = store.cancel_job(queued.id).await.expect("cancel queued");
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert!(cancelled.finished_at.is_some());

    let c = claim(&store, "w1", 60_000).await.expect("claim");
    assert_eq!(c.job.id, running.id, "a cancelled job is not claimed");
    let cancelled = store.cancel_job(running.id).await.expect("cancel running");
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert!(cancelled.lease_owner.is_none());
    assert_eq!(
        store.renew_lease(&c.lease, Duration::from_secs(5)).await.unwrap(),
        RenewOutcome::Cancelled
    );
    assert_lease_lost(store.save_segment(&c.lease, seg(0, 0, "after cancel")).await);
    assert_lease_lost(store.finish_job(&c.lease).await);
    assert!(claim(&store, "w2", 60_000).await.is_none());

    // Cancelling a finished job changes nothing.
    let third = store.create_job(new_job(1)).await.unwrap();
    let c3 = claim(&store, "w1", 60_000).await.unwrap();
    assert_eq!(c3.job.id, third.id);
    let done = store.finish_job(&c3.lease).await.unwrap();
    assert_eq!(store.cancel_job(third.id).await.unwrap(), done);
    assert!(matches!(store.cancel_job(JobId::new()).await, Err(StoreError::NotFound(_))));
}

pub async fn delete_returns_blobs(store: S) {
    let nj = new_job(2);
    let job = store.create_job(nj.clone()).await.expect("create");
    let c = claim(&store, "w1", 60_000).await.expect("claim");
    store.save_segment(&c.lease, seg(0, 0, "x")).await.unwrap();
    let out = BlobKey::generate();
    store.set_file_output(&c.lease, 1, out.clone()).await.unwrap();
    let mut keys = store.delete_job(job.id).await.expect("delete running job");
    keys.sort();
    let mut expected = vec![nj.files[0].input_blob.clone(), nj.files[1].input_blob.clone(), out];
    expected.sort();
    assert_eq!(keys, expected);
    assert!(matches!(store.get_job(job.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.delete_job(job.id).await, Err(StoreError::NotFound(_))));
    assert!(store.saved_segments(job.id, 0).await.unwrap().is_empty());
    assert_lease_lost(store.save_segment(&c.lease, seg(0, 1, "after delete")).await);
    assert_eq!(
        store.renew_lease(&c.lease, Duration::from_secs(5)).await.unwrap(),
        RenewOutcome::Lost
    );
}

pub async fn purge_expired(store: S) {
    let keep_queued = store.create_job(new_job(1)).await.unwrap();
    let old = store.create_job(new_job(1)).await.unwrap();
    let cancelled = store.create_job(new_job(1)).await.unwrap();
    // The queue is in creation order: take keep_queued (then put it back) to reach `old`.
    let c1 = claim(&store, "w1", 60_000).await.unwrap();
    let c2 = claim(&store, "w1", 60_000).await.unwrap();
    assert_eq!((c1.job.id, c2.job.id), (keep_queued.id, old.id));
    store.requeue_job(&c1.lease).await.unwrap();
    let out = BlobKey::generate();
    store.set_file_output(&c2.lease, 0, out.clone()).await.unwrap();
    store.finish_job(&c2.lease).await.unwrap();
    store.cancel_job(cancelled.id).await.unwrap();

    let nothing = store.purge_expired(Duration::from_secs(3600)).await.unwrap();
    assert!(nothing.jobs.is_empty() && nothing.blobs.is_empty(), "{nothing:?}");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let purged = store.purge_expired(Duration::ZERO).await.unwrap();
    let mut ids = purged.jobs.clone();
    ids.sort();
    let mut expected_ids = vec![old.id, cancelled.id];
    expected_ids.sort();
    assert_eq!(ids, expected_ids);
    assert_eq!(purged.blobs.len(), 3, "two inputs and one output");
    assert!(purged.blobs.contains(&out));
    assert!(purged.blobs.contains(&old.files[0].input_blob));
    assert!(purged.blobs.contains(&cancelled.files[0].input_blob));
    assert_eq!(store.get_job(keep_queued.id).await.unwrap().status, JobStatus::Queued);
    assert!(matches!(store.get_job(old.id).await, Err(StoreError::NotFound(_))));
    assert!(store.purge_expired(Duration::ZERO).await.unwrap().jobs.is_empty());
}

pub async fn too_many_attempts(store: S) {
    let job = store.create_job(new_job(1)).await.unwrap();
    let second = store.create_job(new_job(1)).await.unwrap();
    let options = ClaimOptions {
        worker: "w".into(),
        lease_ttl: Duration::from_millis(200),
        max_attempts: 1,
        max_running_per_owner: 0,
    };
    let c = store.claim_next_job(&options).await.unwrap().expect("first attempt");
    assert_eq!(c.job.id, job.id);
    tokio::time::sleep(Duration::from_millis(450)).await;
    // The poisoned job is failed, and the claim goes on to the next one.
    let next = store.claim_next_job(&options).await.unwrap().expect("next job");
    assert_eq!(next.job.id, second.id);
    let failed = store.get_job(job.id).await.unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error.as_ref().map(|e| e.code.as_str()), Some("too_many_attempts"));
    assert!(failed.finished_at.is_some() && failed.lease_owner.is_none());
}

pub async fn count_by_status(store: S) {
    let empty = store.count_by_status().await.unwrap();
    assert_eq!(empty.counts.len(), 5);
    assert!(empty.counts.iter().all(|(_, n)| *n == 0));
    for _ in 0..4 {
        store.create_job(new_job(1)).await.unwrap();
    }
    let c1 = claim(&store, "w", 60_000).await.unwrap();
    let c2 = claim(&store, "w", 60_000).await.unwrap();
    let c3 = claim(&store, "w", 60_000).await.unwrap();
    store.finish_job(&c1.lease).await.unwrap();
    store.fail_job(&c2.lease, ErrorInfo::new("x", "y")).await.unwrap();
    store.cancel_job(c3.job.id).await.unwrap();
    let counts = store.count_by_status().await.unwrap();
    assert_eq!(counts.get(JobStatus::Queued), 1);
    assert_eq!(counts.get(JobStatus::Running), 0);
    assert_eq!(counts.get(JobStatus::Done), 1);
    assert_eq!(counts.get(JobStatus::Failed), 1);
    assert_eq!(counts.get(JobStatus::Cancelled), 1);
}

pub async fn close_then_fail(store: S) {
    store.ping().await.expect("ping");
    store.close().await;
    assert!(store.ping().await.is_err(), "a closed store does not answer");
    assert!(store.create_job(new_job(1)).await.is_err());
}

pub async fn referenced_blobs_and_the_write_probe(store: S) {
    store.check_writable().await.expect("an empty store is writable");
    store.check_writable().await.expect("the probe can be written again");
    assert!(store.referenced_blobs().await.expect("none yet").is_empty());
    let nj = new_job(2);
    let job = store.create_job(nj.clone()).await.expect("create");
    let c = claim(&store, "w1", 60_000).await.expect("claim");
    let out = BlobKey::generate();
    store.set_file_output(&c.lease, 1, out.clone()).await.unwrap();
    let mut keys = store.referenced_blobs().await.expect("referenced");
    keys.sort();
    let mut expected = vec![nj.files[0].input_blob.clone(), nj.files[1].input_blob.clone(), out];
    expected.sort();
    assert_eq!(keys, expected);
    store.delete_job(job.id).await.expect("delete");
    assert!(store.referenced_blobs().await.expect("after delete").is_empty());
}
