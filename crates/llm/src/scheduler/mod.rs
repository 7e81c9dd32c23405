//! Who sends the next request, and to which server.
//!
//! The GPU is the scarce resource: each backend gets exactly its number of slots in flight (what
//! `OLLAMA_NUM_PARALLEL` allows; more would only queue inside the server, where it can neither be
//! prioritised nor cancelled). Everything else waits here, in a queue ordered by [`Priority`]
//! (interactive text first) and, within a priority, round robin over owners (users), then over
//! each owner's [`Lane`]s (a job's file, one text request: `queue`), so that neither a user with
//! many jobs nor one large document can starve anybody.
//!
//! Callers [`Scheduler::acquire`] a [`Permit`] naming a backend, run one request, and report
//! the outcome on the permit; dropping it frees the slot and hands it to the next waiter at
//! once (no dispatcher task, no polling on the hot path). Each backend has a circuit breaker
//! (`breaker`). While every backend is out of service, waiters wait: for the half-open probe
//! (a real request, handed to the first waiter in line) and for requests still in flight, whose
//! success closes a breaker and serves every waiter; a waiter gives up with
//! [`LlmError::NoBackend`] only once the outage has lasted the no-backend wait and nothing that
//! could end it is in flight. [`Scheduler::all_down_since`] says since when every backend has
//! been down, for health reports.

mod breaker;
mod queue;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::oneshot;
use tradia_core::{CancelFlag, Priority};

use breaker::Breaker;
pub use breaker::BreakerState;
use queue::{FairQueue, Grant, Waiter};

use crate::error::LlmError;

/// A stream of requests of one owner that takes its own turns: a job's file, its retries, one
/// text request. Get fresh ones from [`Scheduler::lane`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lane(u64);

#[derive(Debug)]
struct BackendSlots {
    slots: usize,
    in_flight: usize,
    max_in_flight: usize,
    dispatched: u64,
    breaker: Breaker,
}

struct State {
    backends: Vec<BackendSlots>,
    interactive: FairQueue,
    document: FairQueue,
    /// Since when no backend's breaker has been closed (kept up to date by every outcome).
    all_down_since: Option<(Instant, SystemTime)>,
}

impl State {
    /// Records whether every backend is down now, after an outcome changed a breaker.
    fn refresh_down(&mut self, now: Instant) {
        let down = self.backends.iter().all(|b| b.breaker.state(now) != BreakerState::Closed);
        match (down, self.all_down_since) {
            (true, None) => self.all_down_since = Some((now, SystemTime::now())),
            (false, Some(_)) => self.all_down_since = None,
            _ => {}
        }
    }

    /// True when a waiter should stop waiting: every backend has been down for `wait`, none
    /// can take a probe now, and no request that could close a breaker is in flight.
    fn hopeless(&self, now: Instant, wait: Duration) -> bool {
        let Some((since, _)) = self.all_down_since else { return false };
        now.duration_since(since) >= wait
            && self
                .backends
                .iter()
                .all(|b| !b.breaker.admits(now) && b.in_flight == 0 && !b.breaker.probing())
    }
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
    rx: Option<oneshot::Receiver<Grant>>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(mut rx) = self.rx.take() else { return };
        // Closing under the lock orders this against `pump`: either a slot was sent before
        // (and is returned now) or none will be.
        let st = self.sched.lock();
        rx.close();
        drop(st);
        if let Ok(grant) = rx.try_recv() {
            drop(self.sched.permit(grant, Some(Outcome::Neutral)));
        }
    }
}

/// Fair, slot-bounded dispatch of requests over backends. Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    state: Arc<Mutex<State>>,
    lanes: Arc<AtomicU64>,
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
    probe: bool,
    outcome: Option<Outcome>,
}

impl Permit {
    /// Index of the backend to use.
    pub fn backend(&self) -> usize {
        self.backend
    }

    /// True when this request is its backend's half-open probe: its outcome decides whether
    /// the backend is back.
    pub fn is_probe(&self) -> bool {
        self.probe
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
                Outcome::Neutral if self.probe => b.breaker.on_probe_neutral(),
                Outcome::Neutral => {}
            }
        }
        st.refresh_down(now);
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
            lanes: Arc::new(AtomicU64::new(0)),
            no_backend_wait: Duration::from_secs(120),
        }
    }

    /// How long every backend must have been out of service before a waiter gives up (when
    /// nothing that could end the outage is in flight).
    pub fn with_no_backend_wait(mut self, wait: Duration) -> Self {
        self.no_backend_wait = wait;
        self
    }

    /// The longest an open breaker waits between two probes (default 60 s, never less than the
    /// first cooldown).
    pub fn with_max_cooldown(self, max: Duration) -> Self {
        for b in &mut self.lock().backends {
            b.breaker.set_max_cooldown(max);
        }
        self
    }

    /// A lane no one else uses.
    pub fn lane(&self) -> Lane {
        Lane(self.lanes.fetch_add(1, Ordering::Relaxed))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counters inconsistent in a way that
        // matters more than stopping the whole engine would.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn permit(&self, grant: Grant, outcome: Option<Outcome>) -> Permit {
        Permit { sched: self.clone(), backend: grant.backend, probe: grant.probe, outcome }
    }

    /// Hands free slots to waiters: interactive first, round robin over owners, then lanes.
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
            if waiter.cancel.is_cancelled() || waiter.tx.is_closed() {
                continue; // dropping the sender wakes the waiter, which sees its flag
            }
            let b = &mut st.backends[idx];
            let probe = b.breaker.state(now) == BreakerState::HalfOpen;
            if waiter.tx.send(Grant { backend: idx, probe }).is_ok() {
                b.in_flight += 1;
                b.max_in_flight = b.max_in_flight.max(b.in_flight);
                b.dispatched += 1;
                b.breaker.on_dispatch(now);
            }
        }
    }

    /// Since when every backend has been out of service (each breaker open or probing);
    /// `None` while one is closed. Cheap: no request is made.
    pub fn all_down_since(&self) -> Option<SystemTime> {
        self.lock().all_down_since.map(|(_, at)| at)
    }

    /// Waits for a slot on some backend, taking turns with the other owners and, within
    /// `owner`, with its other lanes. Fails with [`LlmError::Cancelled`] when `cancel` is
    /// raised, and with [`LlmError::NoBackend`] when every backend has been out of service for
    /// the no-backend wait and no probe or other request that could end that is in flight.
    pub async fn acquire(
        &self,
        priority: Priority,
        owner: &str,
        lane: Lane,
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
                Priority::Interactive => st.interactive.push(owner, lane, w),
                Priority::Document => st.document.push(owner, lane, w),
            }
            Self::pump(&mut st);
        }
        // From here on, dropping this future (a caller gave up) cannot leak a slot handed over
        // meanwhile: the guard gives it back.
        let mut pending = Pending { sched: self.clone(), rx: Some(rx) };
        loop {
            let Some(rx) = pending.rx.as_mut() else { return Err(LlmError::Cancelled) };
            match tokio::time::timeout(Duration::from_millis(50), rx).await {
                Ok(Ok(grant)) => {
                    pending.rx = None;
                    let permit = self.permit(grant, None);
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
                    // A breaker reaching half-open needs someone to hand out its probe slot.
                    let mut st = self.lock();
                    Self::pump(&mut st);
                    if st.hopeless(Instant::now(), self.no_backend_wait) {
                        // Our guard returns a slot the pump may just have handed us.
                        drop(st);
                        return Err(LlmError::NoBackend(
                            "every backend failed repeatedly (circuit open)".into(),
                        ));
                    }
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
