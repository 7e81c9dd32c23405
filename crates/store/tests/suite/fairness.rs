//! Fair claiming: owners take turns in the queue, so one user's batch does not make another
//! user's single job wait behind all of it.

use tradia_store::{Caller, JobId, NewUser, Role};

use super::cases::{S, claim, new_job};

async fn caller(store: &S, login: &str) -> Caller {
    store.create_user(NewUser::new(login, Role::User)).await.expect("create user").caller()
}

async fn queue(store: &S, owner: Option<&Caller>, n: usize) -> Vec<JobId> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let job = match owner {
            Some(owner) => store.create_job_for(owner, new_job(1)).await,
            None => store.create_job(new_job(1)).await,
        };
        ids.push(job.expect("create").id);
    }
    ids
}

/// One worker claims everything while holding every lease.
async fn claim_all(store: &S) -> Vec<JobId> {
    let mut order = Vec::new();
    while let Some(claimed) = claim(store, "w", 60_000).await {
        order.push(claimed.job.id);
        assert!(order.len() <= 10, "claimed more jobs than were queued");
    }
    order
}

pub async fn owners_take_turns(store: S) {
    let a = caller(&store, "alice").await;
    let b = caller(&store, "bob").await;
    let of_a = queue(&store, Some(&a), 3).await;
    let of_b = queue(&store, Some(&b), 1).await;
    // Bob's job comes second, not fourth.
    assert_eq!(claim_all(&store).await, vec![of_a[0], of_b[0], of_a[1], of_a[2]]);
}

pub async fn owners_take_turns_when_each_job_ends_before_the_next_claim(store: S) {
    let a = caller(&store, "alice").await;
    let b = caller(&store, "bob").await;
    let of_a = queue(&store, Some(&a), 3).await;
    let of_b = queue(&store, Some(&b), 1).await;
    // Nobody has a running job at any claim: the owner served least recently goes first.
    let mut order = Vec::new();
    while let Some(claimed) = claim(&store, "w", 60_000).await {
        order.push(claimed.job.id);
        store.finish_job(&claimed.lease).await.expect("finish");
        assert!(order.len() <= 4, "claimed more jobs than were queued");
    }
    assert_eq!(order, vec![of_a[0], of_b[0], of_a[1], of_a[2]]);
}

pub async fn ownerless_jobs_count_as_one_owner(store: S) {
    let a = caller(&store, "alice").await;
    let ownerless = queue(&store, None, 2).await;
    let of_a = queue(&store, Some(&a), 2).await;
    assert_eq!(claim_all(&store).await, vec![ownerless[0], of_a[0], ownerless[1], of_a[1]]);
}

/// Claims with at most `cap` running jobs per owner.
async fn claim_capped(store: &S, worker: &str, cap: u32) -> Option<tradia_store::Claimed> {
    store
        .claim_next_job(&tradia_store::ClaimOptions {
            worker: worker.into(),
            lease_ttl: std::time::Duration::from_secs(60),
            max_attempts: 10,
            max_running_per_owner: cap,
        })
        .await
        .expect("claim")
}

pub async fn an_owner_at_the_cap_leaves_free_workers_to_others(store: S) {
    let a = caller(&store, "alice").await;
    let b = caller(&store, "bob").await;
    let of_a = queue(&store, Some(&a), 2).await;
    // Alice's first job runs; her second waits although a worker is free.
    let first = claim_capped(&store, "w1", 1).await.expect("alice's first job");
    assert_eq!(first.job.id, of_a[0]);
    assert!(claim_capped(&store, "w2", 1).await.is_none(), "alice is at her cap");
    // Bob's job, queued later, starts on the free worker at once.
    let of_b = queue(&store, Some(&b), 1).await;
    let second = claim_capped(&store, "w2", 1).await.expect("bob's job");
    assert_eq!(second.job.id, of_b[0]);
    // When Alice's first job ends, her second one is claimable.
    store.finish_job(&first.lease).await.expect("finish");
    let third = claim_capped(&store, "w1", 1).await.expect("alice's second job");
    assert_eq!(third.job.id, of_a[1]);
    // With the cap at 2, one owner may run two jobs at once.
    let more = queue(&store, Some(&b), 1).await;
    assert!(claim_capped(&store, "w3", 1).await.is_none(), "both owners at a cap of 1");
    assert_eq!(claim_capped(&store, "w3", 2).await.expect("bob's second job").job.id, more[0]);
}

pub async fn concurrent_claims_keep_the_cap(store: S) {
    let a = caller(&store, "alice").await;
    queue(&store, Some(&a), 6).await;
    let claims: Vec<_> = (0..6)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { claim_capped(&store, &format!("w{n}"), 2).await })
        })
        .collect();
    let mut claimed = 0;
    for c in claims {
        claimed += usize::from(c.await.expect("claim task").is_some());
    }
    assert_eq!(claimed, 2, "six workers claiming at once, two jobs at most for one owner");
}
