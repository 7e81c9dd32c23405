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
