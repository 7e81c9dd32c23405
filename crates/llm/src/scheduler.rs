//! Who sends the next request, and to which server.
//!
//! The GPU is the scarce resource: each backend gets exactly its number of slots in flight (what
//! `OLLAMA_NUM_PARALLEL` allows; more would only queue inside the server, where it can neither be
//! prioritised nor cancelled). Everything else waits here, in a queue ordered by [`Priority`]
//! (interactive text first) and, within a priority, round robin over owners (jobs), so that a
//! large document cannot starve a small one.
//!
//! Callers [`Scheduler::acquire`] a [`Permit`] naming a backend, run one request, and report
//! the outcome on the permit; dropping it frees the slot and hands it to the next waiter at
//! once (no dispatcher task, no polling on the hot path). Each backend has a small circuit
//! breaker: after `threshold` consecutive transport failures or 5xx it is skipped for a cooldown,
//! then one probe request decides whether it is back. While every backend is open, waiters wait
//! (up to a limit) instead of failing, so a short outage does not burn their retries.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tradia_core::{CancelFlag, Priority};

use crate::error::LlmError;

/// State of a backend's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests flow.
    Closed,
    /// Skipped until the cooldown ends.
    Open,
    /// One probe request is allowed.
    HalfOpen,
}

#[derive(Debug)]
struct Breaker {
    threshold: u32,
    base_cooldown: Duration,
    cooldown: Duration,
    failures: u32,
    open_until: Option<Instant>,
    probe_in_flight: bool,
}

impl Breaker {
    fn new(threshold: u32, cooldown: Duration) -> Self {
        Breaker {
            threshold: threshold.max(1),
            base_cooldown: cooldown,
            cooldown,
            failures: 0,
            open_until: None,
            probe_in_flight: false,
        }
    }

    fn state(&self, now: Instant) -> BreakerState {
        match self.open_until {
            None => BreakerState::Closed,
            Some(t) if now < t => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    /// True when a new request may go to this backend now.
    fn admits(&self, now: Instant) -> bool {
        match self.state(now) {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => !self.probe_in_flight,
        }
    }

    fn on_dispatch(&mut self, now: Instant) {
        if self.state(now) == BreakerState::HalfOpen {
            self.probe_in_flight = true;
        }
    }

    fn on_success(&mut self) {
        self.failures = 0;
        self.open_until = None;
        self.probe_in_flight = false;
        self.cooldown = self.base_cooldown;
    }

    fn on_failure(&mut self, now: Instant) {
        if self.probe_in_flight || self.open_until.is_some() {
            // A failed probe (or a late failure while open): open again, for longer.
            self.probe_in_flight = false;
            self.cooldown = (self.cooldown * 2).min(Duration::from_secs(60));
            self.open_until = Some(now + self.cooldown);
            return;
        }
        self.failures += 1;
        if self.failures >= self.threshold {
            self.open_until = Some(now + self.cooldown);
        }
    }

    fn on_neutral(&mut self) {
        self.probe_in_flight = false;
    }
}

#[derive(Debug)]
struct BackendSlots {
    slots: usize,
    in_flight: usize,
    max_in_flight: usize,
    dispatched: u64,
    breaker: Breaker,
}

struct Waiter {
    tx: oneshot::Sender<usize>,
    cancel: CancelFlag,
}

#[derive(Default)]
struct FairQueue {
    ring: VecDeque<String>,
    per_owner: HashMap<String, VecDeque<Waiter>>,
}

impl FairQueue {
    fn push(&mut self, owner: &str, w: Waiter) {
        let q = self.per_owner.entry(owner.to_string()).or_default();
        if q.is_empty() && !self.ring.iter().any(|o| o == owner) {
            self.ring.push_back(owner.to_string());
        }
        q.push_back(w);
    }

    /// Next waiter: the front owner of the ring gives one, then goes to the back.
    fn pop(&mut self) -> Option<Waiter> {
        while let Some(owner) = self.ring.pop_front() {
            let Some(q) = self.per_owner.get_mut(&owner) else { continue };
            let Some(w) = q.pop_front() else {
                self.per_owner.remove(&owner);
                continue;
            };
            if q.is_empty() {
                self.per_owner.remove(&owner);
            } else {
                self.ring.push_back(owner);
            }
            return Some(w);
        }
        None
    }

    /// Waiters still waiting (those that gave up are skipped lazily by `pop`'s caller).
    fn len(&self) -> usize {
        self.per_owner.values().flat_map(|q| q.iter()).filter(|w| !w.tx.is_closed()).count()
    }
}

struct State {
    backends: Vec<BackendSlots>,
    interactive: FairQueue,
    document: FairQueue,
    /// Since when no backend's breaker has been closed (shared by every waiter, so that once an
    /// outage has lasted the no-backend wait, later requests fail at once instead of each
    /// waiting again).
    all_down_since: Option<Instant>,
}

/// A snapshot of one backend's scheduling state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotStats {
    /// Configured slots.
    pub slots: usize,
    /// Requests in flight now.
    pub in_flight: usize,
    /// Highest number in flight ever seen.
    pub max_in_flight: usize,
    /// Requests dispatched so far.
    pub dispatched: u64,
    /// Its circuit breaker.
    pub breaker: BreakerState,
}

/// A waiter's side of the queue: on drop, leaves the queue and gives back a slot that was
/// handed over but never used.
struct Pending {
    sched: Scheduler,
    rx: Option<oneshot::Receiver<usize>>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(mut rx) = self.rx.take() else { return };
        // Closing under the lock orders this against `pump`: either a slot was sent before
        // (and is returned now) or none will be.
        let st = self.sched.lock();
        rx.close();
        drop(st);
        if let Ok(backend) = rx.try_recv() {
            drop(Permit { sched: self.sched.clone(), backend, outcome: Some(Outcome::Neutral) });
        }
    }
}

/// Fair, slot-bounded dispatch of requests over backends. Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    state: Arc<Mutex<State>>,
    no_backend_wait: Duration,
}

/// What a request's outcome says about its backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It answered.
    Success,
    /// Transport failure or 5xx (counts towards opening the breaker).
    Failure,
    /// Neither (a refused request, a cancellation).
    Neutral,
}

/// The right to send one request to backend [`Permit::backend`]; dropping it frees the slot.
pub struct Permit {
    sched: Scheduler,
    backend: usize,
    outcome: Option<Outcome>,
}

impl Permit {
    /// Index of the backend to use.
    pub fn backend(&self) -> usize {
        self.backend
    }

    /// Records what happened (feeds the circuit breaker when the permit is dropped).
    pub fn record(&mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut st = self.sched.lock();
        let now = Instant::now();
        if let Some(b) = st.backends.get_mut(self.backend) {
            b.in_flight = b.in_flight.saturating_sub(1);
            match self.outcome.unwrap_or(Outcome::Neutral) {
                Outcome::Success => b.breaker.on_success(),
                Outcome::Failure => b.breaker.on_failure(now),
                Outcome::Neutral => b.breaker.on_neutral(),
            }
        }
        Scheduler::pump(&mut st);
    }
}

impl Scheduler {
    /// A scheduler for backends with the given slot counts.
    pub fn new(slots: &[usize], breaker_threshold: u32, breaker_cooldown: Duration) -> Self {
        let backends = slots
            .iter()
            .map(|&s| BackendSlots {
                slots: s.max(1),
                in_flight: 0,
                max_in_flight: 0,
                dispatched: 0,
                breaker: Breaker::new(breaker_threshold, breaker_cooldown),
            })
            .collect();
        Scheduler {
            state: Arc::new(Mutex::new(State {
                backends,
                interactive: FairQueue::default(),
                document: FairQueue::default(),
                all_down_since: None,
            })),
            no_backend_wait: Duration::from_secs(120),
        }
    }

    /// How long a waiter waits while every backend's breaker is open before giving up.
    pub fn with_no_backend_wait(mut self, wait: Duration) -> Self {
        self.no_backend_wait = wait;
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counters inconsistent in a way that
        // matters more than stopping the whole engine would.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands free slots to waiters: interactive first, round robin over owners.
    fn pump(st: &mut State) {
        let now = Instant::now();
        loop {
            let best = st
                .backends
                .iter()
                .enumerate()
                .filter(|(_, b)| b.in_flight < b.slots && b.breaker.admits(now))
                .max_by_key(|(i, b)| (b.slots - b.in_flight, std::cmp::Reverse(*i)))
                .map(|(i, _)| i);
            let Some(idx) = best else { return };
            let waiter = match st.interactive.pop() {
                Some(w) => w,
                None => match st.document.pop() {
                    Some(w) => w,
                    None => return,
                },
            };
            if waiter.cancel.is_cancelled() {
                continue; // dropping the sender wakes the waiter, which sees its flag
            }
            if waiter.tx.send(idx).is_ok() {
                let b = &mut st.backends[idx];
                b.in_flight += 1;
                b.max_in_flight = b.max_in_flight.max(b.in_flight);
                b.dispatched += 1;
                b.breaker.on_dispatch(now);
            }
        }
    }

    /// How long every backend has been out of service (each breaker open or only probing);
    /// `None` while one is closed.
    fn down_for(&self) -> Option<Duration> {
        let now = Instant::now();
        let mut st = self.lock();
        if st.backends.iter().all(|b| b.breaker.state(now) != BreakerState::Closed) {
            Some(now.duration_since(*st.all_down_since.get_or_insert(now)))
        } else {
            st.all_down_since = None;
            None
        }
    }

    /// Waits for a slot on some backend. Fails with [`LlmError::Cancelled`] when `cancel` is
    /// raised, and with [`LlmError::NoBackend`] when every backend stayed out of service for the
    /// whole no-backend wait.
    pub async fn acquire(
        &self,
        priority: Priority,
        owner: &str,
        cancel: &CancelFlag,
    ) -> Result<Permit, LlmError> {
        if cancel.is_cancelled() {
            return Err(LlmError::Cancelled);
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.lock();
            if st.backends.is_empty() {
                return Err(LlmError::NoBackend("no backend configured".into()));
            }
            let w = Waiter { tx, cancel: cancel.clone() };
            match priority {
                Priority::Interactive => st.interactive.push(owner, w),
                Priority::Document => st.document.push(owner, w),
            }
            Self::pump(&mut st);
        }
        // From here on, dropping this future (a caller gave up) cannot leak a slot handed over
        // meanwhile: the guard gives it back.
        let mut pending = Pending { sched: self.clone(), rx: Some(rx) };
        loop {
            let Some(rx) = pending.rx.as_mut() else { return Err(LlmError::Cancelled) };
            match tokio::time::timeout(Duration::from_millis(50), rx).await {
                Ok(Ok(backend)) => {
                    pending.rx = None;
                    let permit = Permit { sched: self.clone(), backend, outcome: None };
                    if cancel.is_cancelled() {
                        return Err(LlmError::Cancelled); // the permit's drop frees the slot
                    }
                    return Ok(permit);
                }
                Ok(Err(_)) => {
                    pending.rx = None;
                    return Err(LlmError::Cancelled);
                }
                Err(_) => {
                    if cancel.is_cancelled() {
                        return Err(LlmError::Cancelled);
                    }
                    if self.down_for().is_some_and(|d| d >= self.no_backend_wait) {
                        return Err(LlmError::NoBackend(
                            "every backend failed repeatedly (circuit open)".into(),
                        ));
                    }
                    // A breaker reaching half-open needs someone to hand out its probe slot.
                    let mut st = self.lock();
                    Self::pump(&mut st);
                }
            }
        }
    }

    /// Per-backend counters.
    pub fn stats(&self) -> Vec<SlotStats> {
        let now = Instant::now();
        let st = self.lock();
        st.backends
            .iter()
            .map(|b| SlotStats {
                slots: b.slots,
                in_flight: b.in_flight,
                max_in_flight: b.max_in_flight,
                dispatched: b.dispatched,
                breaker: b.breaker.state(now),
            })
            .collect()
    }

    /// Waiters in the queue.
    pub fn queued(&self) -> usize {
        let st = self.lock();
        st.interactive.len() + st.document.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn sched(slots: &[usize]) -> Scheduler {
        Scheduler::new(slots, 3, Duration::from_millis(200))
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
                let mut p = s
                    .acquire(Priority::Document, &format!("o{}", i % 3), &CancelFlag::new())
                    .await
                    .unwrap();
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

    /// Queues `n` waiters per (priority, owner) spec while the only slot is held, then records
    /// the order in which they are served.
    async fn service_order(specs: &[(Priority, &str, usize)]) -> Vec<String> {
        let s = sched(&[1]);
        let hold = s.acquire(Priority::Document, "holder", &CancelFlag::new()).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (prio, owner, n) in specs {
            for k in 0..*n {
                let s2 = s.clone();
                let order = order.clone();
                let label = format!("{owner}{k}");
                let (prio, owner) = (*prio, owner.to_string());
                tasks.push(tokio::spawn(async move {
                    let _p = s2.acquire(prio, &owner, &CancelFlag::new()).await.unwrap();
                    order.lock().unwrap().push(label);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }));
                // Enqueue in a known order.
                while s.queued() < tasks.len() {
                    tokio::task::yield_now().await;
                }
            }
        }
        drop(hold);
        for t in tasks {
            t.await.unwrap();
        }
        Arc::try_unwrap(order).unwrap().into_inner().unwrap()
    }

    #[tokio::test]
    async fn interactive_work_goes_first() {
        let order =
            service_order(&[(Priority::Document, "doc", 3), (Priority::Interactive, "chat", 2)])
                .await;
        assert_eq!(order, ["chat0", "chat1", "doc0", "doc1", "doc2"]);
    }

    #[tokio::test]
    async fn owners_take_turns() {
        let order =
            service_order(&[(Priority::Document, "big", 6), (Priority::Document, "small", 2)])
                .await;
        // The small job, queued after six requests of the big one, is served second and fourth.
        assert_eq!(order, ["big0", "small0", "big1", "small1", "big2", "big3", "big4", "big5"]);
    }

    #[tokio::test]
    async fn cancelled_waiters_leave_the_queue() {
        let s = sched(&[1]);
        let hold = s.acquire(Priority::Document, "a", &CancelFlag::new()).await.unwrap();
        let cancel = CancelFlag::new();
        let s2 = s.clone();
        let c2 = cancel.clone();
        let waiting =
            tokio::spawn(async move { s2.acquire(Priority::Document, "b", &c2).await.map(|_| ()) });
        tokio::time::sleep(Duration::from_millis(20)).await;
        cancel.cancel();
        assert_eq!(waiting.await.unwrap().unwrap_err(), LlmError::Cancelled);
        drop(hold);
        // The slot is free again for others.
        let p = s.acquire(Priority::Document, "c", &CancelFlag::new()).await.unwrap();
        assert_eq!(p.backend(), 0);
        drop(p);
        assert_eq!(s.stats()[0].in_flight, 0);
    }

    #[tokio::test]
    async fn dropping_a_waiting_acquire_never_leaks_a_slot() {
        let s = sched(&[1]);
        for round in 0..50 {
            let hold = s.acquire(Priority::Document, "a", &CancelFlag::new()).await.unwrap();
            let s2 = s.clone();
            let waiting = tokio::spawn(async move {
                let _p = s2.acquire(Priority::Document, "b", &CancelFlag::new()).await;
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
            let p1 = s.acquire(Priority::Document, "x", &CancelFlag::new()).await.unwrap();
            let p2 = s.acquire(Priority::Document, "x", &CancelFlag::new()).await.unwrap();
            let (mut bad, _good) = if p1.backend() == 0 { (p1, p2) } else { (p2, p1) };
            bad.record(Outcome::Failure);
        }
        assert_eq!(s.stats()[0].breaker, BreakerState::Open);
        for _ in 0..5 {
            let p = s.acquire(Priority::Document, "x", &CancelFlag::new()).await.unwrap();
            assert_eq!(p.backend(), 1, "the open backend is skipped");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(s.stats()[0].breaker, BreakerState::HalfOpen);
        let hold = s.acquire(Priority::Document, "x", &CancelFlag::new()).await.unwrap();
        let mut probe = s.acquire(Priority::Document, "x", &CancelFlag::new()).await.unwrap();
        assert_ne!(hold.backend(), probe.backend());
        let probe_backend = probe.backend();
        probe.record(Outcome::Success);
        drop(probe);
        drop(hold);
        assert_eq!(s.stats()[probe_backend].breaker, BreakerState::Closed);
    }

    #[tokio::test]
    async fn with_every_backend_open_waiters_give_up_after_the_limit() {
        let s = Scheduler::new(&[1], 1, Duration::from_secs(30))
            .with_no_backend_wait(Duration::from_millis(120));
        let mut p = s.acquire(Priority::Document, "x", &CancelFlag::new()).await.unwrap();
        p.record(Outcome::Failure);
        drop(p);
        let err =
            s.acquire(Priority::Document, "x", &CancelFlag::new()).await.map(|_| ()).unwrap_err();
        assert_eq!(err.code(), "llm_no_backend");
        assert_eq!(s.queued(), 0);
    }

    #[tokio::test]
    async fn once_an_outage_outlasted_the_limit_later_waiters_fail_at_once() {
        let s = Scheduler::new(&[1], 1, Duration::from_secs(30))
            .with_no_backend_wait(Duration::from_millis(300));
        let mut p = s.acquire(Priority::Document, "x", &CancelFlag::new()).await.unwrap();
        p.record(Outcome::Failure);
        drop(p);
        let first = s.acquire(Priority::Document, "a", &CancelFlag::new()).await.map(|_| ());
        assert_eq!(first.unwrap_err().code(), "llm_no_backend");
        let started = std::time::Instant::now();
        let second = s.acquire(Priority::Document, "b", &CancelFlag::new()).await.map(|_| ());
        assert_eq!(second.unwrap_err().code(), "llm_no_backend");
        assert!(started.elapsed() < Duration::from_millis(250), "no second full wait");
    }
}
