use super::*;
use std::sync::atomic::AtomicUsize;

fn sched(slots: &[usize]) -> Scheduler {
    Scheduler::new(slots, 3, Duration::from_millis(200))
}

async fn take(s: &Scheduler, owner: &str) -> Permit {
    s.acquire(Priority::Document, owner, s.lane(), &CancelFlag::new()).await.unwrap()
}

#[tokio::test]
async fn slots_are_never_exceeded() {
    let s = sched(&[3, 2]);
    let live = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        let live = live.clone();
        let peak = peak.clone();
        tasks.push(tokio::spawn(async move {
            let mut p = take(&s, &format!("o{}", i % 3)).await;
            let n = live.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
            live.fetch_sub(1, Ordering::SeqCst);
            p.record(Outcome::Success);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stats = s.stats();
    assert!(stats[0].max_in_flight <= 3 && stats[1].max_in_flight <= 2, "{stats:?}");
    assert_eq!(peak.load(Ordering::SeqCst), 5, "both backends were used to the full");
    assert_eq!(stats.iter().map(|b| b.dispatched).sum::<u64>(), 40);
    assert!(stats.iter().all(|b| b.in_flight == 0));
}

/// One waiter: its priority, owner, lane (waiters naming the same lane share it) and label.
type Spec<'a> = (Priority, &'a str, &'a str, &'a str);

/// Queues the waiters in order while the only slot is held, then records the order in which
/// they are served.
async fn service_order(specs: &[Spec<'_>]) -> Vec<String> {
    let s = sched(&[1]);
    let hold = take(&s, "holder").await;
    let mut lanes: HashMap<String, Lane> = HashMap::new();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (prio, owner, lane, label) in specs {
        let lane = *lanes.entry(format!("{owner}/{lane}")).or_insert_with(|| s.lane());
        let s2 = s.clone();
        let order = order.clone();
        let (prio, owner, label) = (*prio, owner.to_string(), label.to_string());
        tasks.push(tokio::spawn(async move {
            let _p = s2.acquire(prio, &owner, lane, &CancelFlag::new()).await.unwrap();
            order.lock().unwrap().push(label);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }));
        // Enqueue in a known order.
        while s.queued() < tasks.len() {
            tokio::task::yield_now().await;
        }
    }
    drop(hold);
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(order).unwrap().into_inner().unwrap()
}

use std::collections::HashMap;
const DOC: Priority = Priority::Document;

#[tokio::test]
async fn interactive_work_goes_first() {
    let order = service_order(&[
        (DOC, "doc", "j", "doc0"),
        (DOC, "doc", "j", "doc1"),
        (DOC, "doc", "j", "doc2"),
        (Priority::Interactive, "chat", "t", "chat0"),
        (Priority::Interactive, "chat", "t", "chat1"),
    ])
    .await;
    assert_eq!(order, ["chat0", "chat1", "doc0", "doc1", "doc2"]);
}

#[tokio::test]
async fn owners_take_turns() {
    let mut specs: Vec<Spec<'_>> = Vec::new();
    let big = ["big0", "big1", "big2", "big3", "big4", "big5"];
    specs.extend(big.iter().map(|l| (DOC, "big", "j", *l)));
    specs.extend(["small0", "small1"].iter().map(|l| (DOC, "small", "j", *l)));
    let order = service_order(&specs).await;
    // The small job, queued after six requests of the big one, is served second and fourth.
    assert_eq!(order, ["big0", "small0", "big1", "small1", "big2", "big3", "big4", "big5"]);
}

#[tokio::test]
async fn users_take_turns_then_their_jobs_do() {
    let mut specs: Vec<Spec<'_>> = Vec::new();
    // User A queues four batches of job 1, then four of job 2; then user B two of its job.
    specs.extend(["a1.0", "a1.1", "a1.2", "a1.3"].iter().map(|l| (DOC, "A", "job1", *l)));
    specs.extend(["a2.0", "a2.1", "a2.2", "a2.3"].iter().map(|l| (DOC, "A", "job2", *l)));
    specs.extend(["b.0", "b.1"].iter().map(|l| (DOC, "B", "job", *l)));
    let order = service_order(&specs).await;
    // B gets every other turn; A's turns alternate between its two jobs.
    assert_eq!(
        order,
        ["a1.0", "b.0", "a2.0", "b.1", "a1.1", "a2.1", "a1.2", "a2.2", "a1.3", "a2.3"]
    );
}

#[tokio::test]
async fn one_users_two_hundred_requests_do_not_hold_up_anothers_one() {
    // 200 text requests of A, each its own lane, queued before B's single one.
    let labels: Vec<String> = (0..200).map(|i| format!("a{i}")).collect();
    let mut specs: Vec<Spec<'_>> = Vec::new();
    specs.extend(labels.iter().map(|l| (Priority::Interactive, "A", l.as_str(), l.as_str())));
    specs.push((Priority::Interactive, "B", "t", "b"));
    let order = service_order(&specs).await;
    let position = order.iter().position(|l| l == "b").unwrap();
    assert_eq!(position, 1, "B is served right after A's first: {:?}", &order[..4]);
}

#[tokio::test]
async fn cancelled_waiters_leave_the_queue() {
    let s = sched(&[1]);
    let hold = take(&s, "a").await;
    let cancel = CancelFlag::new();
    let s2 = s.clone();
    let c2 = cancel.clone();
    let waiting = tokio::spawn(async move {
        s2.acquire(Priority::Document, "b", s2.lane(), &c2).await.map(|_| ())
    });
    while s.queued() == 0 {
        tokio::task::yield_now().await;
    }
    cancel.cancel();
    assert_eq!(waiting.await.unwrap().unwrap_err(), LlmError::Cancelled);
    drop(hold);
    // The slot is free again for others.
    let p = take(&s, "c").await;
    assert_eq!(p.backend(), 0);
    drop(p);
    assert_eq!(s.stats()[0].in_flight, 0);
}

#[tokio::test]
async fn dropping_a_waiting_acquire_never_leaks_a_slot() {
    let s = sched(&[1]);
    for round in 0..50 {
        let hold = take(&s, "a").await;
        let s2 = s.clone();
        let waiting = tokio::spawn(async move {
            let _p = s2.acquire(Priority::Document, "b", s2.lane(), &CancelFlag::new()).await;
            std::future::pending::<()>().await;
        });
        while s.queued() == 0 {
            tokio::task::yield_now().await;
        }
        // Free the slot (handing it to the waiter) and abort the waiter at about the same
        // time, in both orders.
        if round % 2 == 0 {
            drop(hold);
            waiting.abort();
        } else {
            waiting.abort();
            drop(hold);
        }
        let _ = waiting.await;
        assert_eq!(s.stats()[0].in_flight, 0, "round {round}");
    }
}

#[tokio::test]
async fn a_failing_backend_is_skipped_then_probed() {
    let s = sched(&[1, 1]);
    for _ in 0..3 {
        // Force backend 0 by holding backend 1.
        let p1 = take(&s, "x").await;
        let p2 = take(&s, "x").await;
        let (mut bad, _good) = if p1.backend() == 0 { (p1, p2) } else { (p2, p1) };
        bad.record(Outcome::Failure);
    }
    assert_eq!(s.stats()[0].breaker, BreakerState::Open);
    assert_eq!(s.all_down_since(), None, "backend 1 still serves");
    for _ in 0..5 {
        let p = take(&s, "x").await;
        assert_eq!(p.backend(), 1, "the open backend is skipped");
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(s.stats()[0].breaker, BreakerState::HalfOpen);
    let hold = take(&s, "x").await;
    let mut probe = take(&s, "x").await;
    assert_ne!(hold.backend(), probe.backend());
    let probe_backend = probe.backend();
    assert!(probe.is_probe() || hold.is_probe());
    probe.record(Outcome::Success);
    drop(probe);
    drop(hold);
    assert_eq!(s.stats()[probe_backend].breaker, BreakerState::Closed);
}

/// A one-backend scheduler whose breaker opened (first cooldown `cooldown`), with no patience
/// left: a waiter gives up as soon as nothing can end the outage.
async fn down(slots: usize, cooldown: Duration) -> Scheduler {
    let s = Scheduler::new(&[slots], 1, cooldown).with_no_backend_wait(Duration::ZERO);
    assert_eq!(s.all_down_since(), None);
    let mut p = take(&s, "x").await;
    p.record(Outcome::Failure);
    drop(p);
    assert!(s.all_down_since().is_some(), "every backend is down");
    s
}

#[tokio::test]
async fn with_every_backend_open_and_nothing_in_flight_waiters_give_up() {
    let s = down(1, Duration::from_secs(30)).await;
    let err = s
        .acquire(Priority::Document, "x", s.lane(), &CancelFlag::new())
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.code(), "llm_no_backend");
    assert_eq!(s.queued(), 0);
}

/// Waits until the breaker lets its probe through.
async fn until_half_open(s: &Scheduler) {
    while s.stats()[0].breaker != BreakerState::HalfOpen {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Spawns `n` waiters of distinct owners; they report whether they were served.
fn waiters(s: &Scheduler, n: usize) -> Vec<tokio::task::JoinHandle<Result<(), LlmError>>> {
    (0..n)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut p = s
                    .acquire(Priority::Document, &format!("w{i}"), s.lane(), &CancelFlag::new())
                    .await?;
                p.record(Outcome::Success);
                Ok(())
            })
        })
        .collect()
}

#[tokio::test]
async fn waiters_wait_for_the_probe_and_its_success_serves_them_all() {
    let s = down(2, Duration::from_millis(50)).await;
    until_half_open(&s).await;
    // The first request after the cooldown is the probe, and it is really handed out.
    let mut probe = take(&s, "prober").await;
    assert!(probe.is_probe());
    let waiting = waiters(&s, 6);
    // Many scheduler ticks later, with the outage older than the (zero) wait, nobody gave up:
    // they wait on the probe.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(waiting.iter().all(|w| !w.is_finished()), "a waiter gave up during the probe");
    }
    assert_eq!(s.queued(), 6);
    probe.record(Outcome::Success);
    drop(probe);
    assert_eq!(s.all_down_since(), None, "the probe's success ends the outage");
    for w in waiting {
        w.await.unwrap().expect("served once the probe succeeded");
    }
    assert_eq!(s.stats()[0].breaker, BreakerState::Closed);
}

#[tokio::test]
async fn a_failed_probe_sends_the_waiters_away() {
    let s = down(2, Duration::from_millis(50)).await;
    let since = s.all_down_since();
    until_half_open(&s).await;
    let mut probe = take(&s, "prober").await;
    let waiting = waiters(&s, 3);
    while s.queued() < 3 {
        tokio::task::yield_now().await;
    }
    probe.record(Outcome::Failure);
    drop(probe);
    for w in waiting {
        assert_eq!(w.await.unwrap().unwrap_err().code(), "llm_no_backend");
    }
    assert_eq!(s.all_down_since(), since, "one outage, from its start");
}

#[tokio::test]
async fn a_probe_given_up_unsent_passes_to_the_next_waiter() {
    let s = down(2, Duration::from_millis(50)).await;
    until_half_open(&s).await;
    let probe = take(&s, "prober").await;
    assert!(probe.is_probe());
    drop(probe); // never sent: neutral
    let next = take(&s, "next").await;
    assert!(next.is_probe(), "the probe slot went to the next request");
}

#[test]
fn failed_probes_double_the_cooldown_up_to_its_ceiling() {
    let mut b = Breaker::new(1, Duration::from_secs(5));
    b.set_max_cooldown(Duration::from_secs(12));
    let t0 = Instant::now();
    b.on_failure(t0);
    assert_eq!(b.state(t0 + Duration::from_secs(4)), BreakerState::Open);
    let mut now = t0 + Duration::from_secs(5);
    for expected in [10, 12, 12] {
        assert_eq!(b.state(now), BreakerState::HalfOpen);
        b.on_dispatch(now);
        assert!(!b.admits(now), "one probe at a time");
        b.on_failure(now);
        let open = Duration::from_secs(expected);
        assert_eq!(b.state(now + open - Duration::from_millis(1)), BreakerState::Open);
        now += open;
    }
    b.on_dispatch(now);
    b.on_success();
    assert_eq!(b.state(now), BreakerState::Closed);
}
