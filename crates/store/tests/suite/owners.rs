//! Owners: a user never reaches another user's job through any scoped method, an administrator
//! sees every job, the first administrator adopts the jobs that had no owner, and deleting a user
//! takes their jobs with them.

use tradia_store::{
    BlobKey, Caller, FailureKey, JobId, JobStatus, NewApiKey, NewSession, NewUser, Role,
    StoreError, TokenHash, User, UserState, UserUpdate,
};

use super::cases::{S, claim, new_job};

async fn user(store: &S, login: &str, role: Role) -> User {
    store.create_user(NewUser::new(login, role)).await.expect("create user")
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, id: JobId) {
    match result {
        Err(StoreError::NotFound(missing)) => assert_eq!(missing, id),
        other => panic!("expected NotFound({id}), got {other:?}"),
    }
}

fn hash(byte: u8) -> TokenHash {
    TokenHash([byte; 32])
}

pub async fn users_see_only_their_own_jobs(store: S) {
    let admin = user(&store, "root", Role::Admin).await.caller();
    let a = user(&store, "alice", Role::User).await.caller();
    let b = user(&store, "bob", Role::User).await.caller();
    let job_a = store.create_job_for(&a, new_job(2)).await.expect("create for alice");
    assert_eq!(job_a.owner, Some(a.user));
    let job_b = store.create_job_for(&b, new_job(1)).await.expect("create for bob");
    let ownerless = store.create_job(new_job(1)).await.expect("unscoped create");
    assert_eq!(ownerless.owner, None);

    // Bob reaches none of Alice's jobs, and cannot tell them from jobs that do not exist.
    assert_not_found(store.get_job_for(&b, job_a.id).await, job_a.id);
    assert_not_found(store.get_job_for(&b, ownerless.id).await, ownerless.id);
    let missing = JobId::new();
    assert_not_found(store.get_job_for(&b, missing).await, missing);
    let listed = store.list_jobs_for(&b, 100, None).await.expect("bob's list");
    assert_eq!(listed.jobs.iter().map(|j| j.id).collect::<Vec<_>>(), vec![job_b.id]);
    assert!(listed.next.is_none());
    let listed = store.list_jobs_for(&b, 100, Some(job_b.id)).await.expect("bob's next page");
    assert!(listed.jobs.is_empty(), "a cursor does not open other users' jobs");

    // Cancelling or deleting Alice's job as Bob changes nothing.
    assert_not_found(store.cancel_job_for(&b, job_a.id).await, job_a.id);
    assert_not_found(store.delete_job_for(&b, job_a.id).await, job_a.id);
    assert_not_found(store.delete_job_for(&b, ownerless.id).await, ownerless.id);
    assert_eq!(store.get_job_for(&a, job_a.id).await.expect("still alice's"), job_a);
    assert_eq!(store.get_job(ownerless.id).await.expect("still there").status, JobStatus::Queued);
    let in_progress = store.jobs_in_progress(a.user).await.unwrap();
    assert_eq!((in_progress.jobs, in_progress.files), (1, 2));

    // A worker runs Alice's job all the same: the queue is not scoped.
    let running = claim(&store, "w", 60_000).await.expect("claim");
    assert_eq!(running.job.id, job_a.id);
    assert_not_found(store.cancel_job_for(&b, job_a.id).await, job_a.id);
    assert_eq!(store.get_job(job_a.id).await.unwrap().status, JobStatus::Running);

    // The administrator sees every job, ownerless ones included.
    let all = store.list_jobs_for(&admin, 100, None).await.expect("admin's list");
    let ids: Vec<JobId> = all.jobs.iter().map(|j| j.id).collect();
    assert_eq!(ids, vec![ownerless.id, job_b.id, job_a.id]);
    assert_eq!(store.get_job_for(&admin, job_b.id).await.unwrap().owner, Some(b.user));

    // Alice's own actions work.
    let cancelled = store.cancel_job_for(&a, job_a.id).await.expect("alice cancels");
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert_eq!(store.jobs_in_progress(a.user).await.unwrap().jobs, 0);
    let blobs = store.delete_job_for(&a, job_a.id).await.expect("alice deletes");
    assert_eq!(blobs.len(), 2);
    assert_not_found(store.get_job_for(&a, job_a.id).await, job_a.id);
    let cancelled = store.cancel_job_for(&admin, job_b.id).await.expect("admin cancels");
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    store.delete_job_for(&admin, ownerless.id).await.expect("admin deletes");
}

pub async fn owner_pages_hold_only_the_owners_jobs(store: S) {
    let a = user(&store, "alice", Role::User).await.caller();
    let b = user(&store, "bob", Role::User).await.caller();
    let mut mine = Vec::new();
    for i in 0..7 {
        mine.push(store.create_job_for(&a, new_job(1)).await.unwrap().id);
        if i % 2 == 0 {
            store.create_job_for(&b, new_job(1)).await.unwrap();
        }
    }
    mine.reverse();
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store.list_jobs_for(&a, 3, before).await.unwrap();
        assert!(page.jobs.iter().all(|j| j.owner == Some(a.user)));
        seen.extend(page.jobs.iter().map(|j| j.id));
        match page.next {
            Some(next) => before = Some(next),
            None => break,
        }
        assert!(seen.len() <= mine.len(), "pagination does not end");
    }
    assert_eq!(seen, mine);
    assert!(matches!(store.list_jobs_for(&a, 0, None).await, Err(StoreError::Invalid(_))));
}

pub async fn first_admin_adopts_ownerless_jobs(store: S) {
    let old1 = store.create_job(new_job(1)).await.unwrap();
    let old2 = store.create_job(new_job(1)).await.unwrap();
    // A plain user does not adopt anything.
    let plain = user(&store, "early", Role::User).await.caller();
    assert_eq!(store.get_job(old1.id).await.unwrap().owner, None);
    assert!(store.list_jobs_for(&plain, 10, None).await.unwrap().jobs.is_empty());
    assert_eq!(store.count_active_admins().await.unwrap(), 0);

    let admin = user(&store, "root", Role::Admin).await;
    assert_eq!(store.count_active_admins().await.unwrap(), 1);
    for id in [old1.id, old2.id] {
        assert_eq!(store.get_job(id).await.unwrap().owner, Some(admin.id));
    }
    // Jobs created without an owner later, and a second administrator, change nothing more.
    let later = store.create_job(new_job(1)).await.unwrap();
    user(&store, "second", Role::Admin).await;
    assert_eq!(store.get_job(later.id).await.unwrap().owner, None);
    assert_eq!(store.get_job(old1.id).await.unwrap().owner, Some(admin.id));
    assert_eq!(store.count_active_admins().await.unwrap(), 2);
}

pub async fn promoting_the_first_admin_adopts_ownerless_jobs(store: S) {
    let old = store.create_job(new_job(1)).await.unwrap();
    let alice = user(&store, "alice", Role::User).await;
    let promoted = store
        .update_user(alice.id, UserUpdate { role: Some(Role::Admin), ..Default::default() })
        .await
        .expect("promote");
    assert_eq!(promoted.role, Role::Admin);
    assert_eq!(store.get_job(old.id).await.unwrap().owner, Some(alice.id));
}

pub async fn the_last_active_admin_stays(store: S) {
    let root = user(&store, "root", Role::Admin).await;
    let demote = UserUpdate { role: Some(Role::User), ..Default::default() };
    let disable = UserUpdate { state: Some(UserState::Disabled), ..Default::default() };
    for update in [demote.clone(), disable.clone()] {
        match store.update_user(root.id, update).await {
            Err(e @ StoreError::LastAdmin) => assert_eq!(e.code(), "last_admin"),
            other => panic!("expected LastAdmin, got {other:?}"),
        }
    }
    assert!(matches!(store.delete_user(root.id).await, Err(StoreError::LastAdmin)));
    assert_eq!(store.get_user(root.id).await.unwrap(), Some(root.clone()), "nothing changed");

    // With a second administrator, one of them may go; then the other must stay.
    let other = user(&store, "other", Role::Admin).await;
    store.update_user(root.id, demote).await.expect("demote one of two");
    assert!(matches!(store.update_user(other.id, disable).await, Err(StoreError::LastAdmin)));
    // A disabled administrator does not count.
    let third = user(&store, "third", Role::Admin).await;
    let disable = UserUpdate { state: Some(UserState::Disabled), ..Default::default() };
    store.update_user(third.id, disable).await.expect("disable one of two");
    assert!(matches!(store.delete_user(other.id).await, Err(StoreError::LastAdmin)));
    assert_eq!(store.count_active_admins().await.unwrap(), 1);
    store.delete_user(third.id).await.expect("a disabled admin may be deleted");
}

/// Two administrators demoting each other at the same moment: one wins, one is refused, and one
/// administrator is left (each change reads the count and writes in one serialised transaction).
pub async fn concurrent_demotions_keep_an_admin(store: S) {
    for round in 0..5 {
        let a = user(&store, &format!("a{round}"), Role::Admin).await;
        let b = user(&store, &format!("b{round}"), Role::Admin).await;
        // Leave exactly these two active (the previous round's survivor steps down).
        for other in store.list_users().await.unwrap() {
            if other.is_active_admin() && other.id != a.id && other.id != b.id {
                let demote = UserUpdate { role: Some(Role::User), ..Default::default() };
                store.update_user(other.id, demote).await.unwrap();
            }
        }
        let demote = || UserUpdate { role: Some(Role::User), ..Default::default() };
        let (ra, rb) =
            tokio::join!(store.update_user(a.id, demote()), store.update_user(b.id, demote()));
        let refused = [&ra, &rb].iter().filter(|r| matches!(r, Err(StoreError::LastAdmin))).count();
        assert_eq!(refused, 1, "round {round}: {ra:?} / {rb:?}");
        assert!(ra.is_ok() || rb.is_ok());
        assert_eq!(store.count_active_admins().await.unwrap(), 1);
    }
}

pub async fn deleting_a_user_deletes_their_jobs(store: S) {
    let admin = user(&store, "root", Role::Admin).await;
    let alice = user(&store, "alice", Role::User).await;
    let bob = user(&store, "bob", Role::User).await.caller();
    let a = alice.caller();
    let first = store.create_job_for(&a, new_job(2)).await.unwrap();
    let second = store.create_job_for(&a, new_job(1)).await.unwrap();
    let kept = store.create_job_for(&bob, new_job(1)).await.unwrap();
    let running = claim(&store, "w", 60_000).await.unwrap();
    assert_eq!(running.job.id, first.id);
    let output = BlobKey::generate();
    store.set_file_output(&running.lease, 1, output.clone()).await.unwrap();
    let session = NewSession {
        user: alice.id,
        token_hash: hash(1),
        csrf_hash: hash(2),
        expires_at: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    store.create_session(session).await.unwrap();
    let key =
        NewApiKey { user: alice.id, name: "ci".into(), key_hash: hash(3), prefix: "tdk_x".into() };
    store.create_api_key(key).await.unwrap();
    let team = store.create_team("Lab").await.unwrap();
    store.add_team_member(team.id, alice.id).await.unwrap();
    let address: std::net::IpAddr = "192.0.2.9".parse().unwrap();
    store.record_sign_in_failure(Some("alice"), Some(address)).await.unwrap();

    let purged = store.delete_user(alice.id).await.expect("delete alice");
    let mut jobs = purged.jobs.clone();
    jobs.sort();
    assert_eq!(jobs, vec![first.id, second.id]);
    let mut blobs = purged.blobs.clone();
    blobs.sort();
    let mut expected: Vec<BlobKey> = first
        .files
        .iter()
        .chain(&second.files)
        .map(|f| f.input_blob.clone())
        .chain([output])
        .collect();
    expected.sort();
    assert_eq!(blobs, expected);

    assert_eq!(store.get_user(alice.id).await.unwrap(), None);
    assert!(matches!(store.get_job(first.id).await, Err(StoreError::NotFound(_))));
    assert!(store.find_session(hash(1)).await.unwrap().is_none());
    assert!(store.find_api_key(hash(3)).await.unwrap().is_none());
    assert!(store.team_members(team.id).await.unwrap().is_empty());
    let epoch = time::OffsetDateTime::UNIX_EPOCH;
    let by_login = store.count_sign_in_failures(FailureKey::Login("alice"), epoch).await.unwrap();
    assert_eq!(by_login.count, 0, "the login is forgotten");
    let by_address =
        store.count_sign_in_failures(FailureKey::Address(address), epoch).await.unwrap();
    assert_eq!(by_address.count, 1, "the address still counts");
    assert!(matches!(
        store.save_segment(&running.lease, super::cases::seg(0, 0, "late")).await,
        Err(StoreError::LeaseLost(_))
    ));
    assert_eq!(store.get_job_for(&bob, kept.id).await.unwrap().id, kept.id);
    assert!(matches!(store.delete_user(alice.id).await, Err(StoreError::UserNotFound(_))));
    assert_eq!(store.get_user(admin.id).await.unwrap().map(|u| u.id), Some(admin.id));
}

/// The caller's role decides, not the user row: a caller built as a plain user sees only their
/// jobs even when the id is an administrator's.
pub async fn scope_follows_the_callers_role(store: S) {
    let root = user(&store, "root", Role::Admin).await;
    let alice = user(&store, "alice", Role::User).await.caller();
    let job = store.create_job_for(&alice, new_job(1)).await.unwrap();
    let as_user = Caller { user: root.id, role: Role::User };
    assert_not_found(store.get_job_for(&as_user, job.id).await, job.id);
    assert_eq!(store.get_job_for(&root.caller(), job.id).await.unwrap().id, job.id);
}
