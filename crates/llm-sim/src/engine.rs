//! The simulated inference engine: model loading, slots with a FIFO queue, per-slot prompt
//! cache, step-based decode timing, statistics (`llm-servers.md` §5).
//!
//! Time: the simulated clock runs `time_scale` times faster than the real one. Every wait is a
//! real sleep of `simulated / time_scale`, scheduled against absolute deadlines so timer
//! overshoot does not accumulate. Statistics measured on the real clock are multiplied by the
//! time scale, so they are in simulated seconds.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::config::{FaultKind, SimConfig};

/// Counters served by `GET /sim/stats` (simulated seconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SimStats {
    /// API requests received (translation and other generation requests, errors included).
    pub requests: u64,
    /// Requests that went through a slot to the end of their answer.
    pub completed: u64,
    /// Prompt tokens of the requests that reached a slot (whole prompts, cache hits included).
    pub prompt_tokens: u64,
    /// Prompt tokens actually prefilled (not served from a slot's prompt cache).
    pub prefilled_tokens: u64,
    /// Output tokens generated (thinking included).
    pub output_tokens: u64,
    /// Σ over requests of the time each held a slot.
    pub busy_slot_seconds: f64,
    /// From the first request's arrival to the last completion.
    pub wall_seconds: f64,
    /// Σ of the modelled prefill and decode durations (`prompt_eval_duration + eval_duration`).
    pub eval_seconds: f64,
    /// What the same work would take on a server kept exactly full (`llm-servers.md` §3.8,
    /// `I_eff/P + O/G_agg(S)`): Σ prefill times (prefill is serialized) + Σ over output tokens
    /// of the step time with every slot decoding, divided by the slots. Excludes model loads,
    /// injected delays and the tail; compare with `wall_seconds`.
    pub ceiling_seconds: f64,
    /// `busy_slot_seconds / (slots × wall_seconds)` (0 before any completion).
    pub occupancy: f64,
    /// Σ of the time requests waited for a slot.
    pub queue_seconds: f64,
    /// Most slots held at once (never more than `slots`).
    pub max_concurrent: u32,
    /// Most requests inside the server at once (queued, loading or in a slot).
    pub max_in_flight: u32,
    /// Model loads (first use and reloads).
    pub loads: u64,
    /// Loads caused by a `num_ctx` change of an already loaded model.
    pub reloads: u64,
    /// Slots configured.
    pub slots: u32,
    /// Time scale configured.
    pub time_scale: f64,
    /// Per distinct source segment text (batch requests), how many times it was asked.
    pub segments: BTreeMap<String, u64>,
    /// Per example source text (WIRE.md §1, `segments[].examples`), how many times it was sent
    /// with a segment.
    pub examples: BTreeMap<String, u64>,
    /// Per `brief` (WIRE.md §1), how many batch requests carried it.
    pub briefs: BTreeMap<String, u64>,
    /// Per segment text (WIRE.md §1, `segments[].text`), the notes for translators
    /// (`segments[].note`) that came with it: shows which note reached the model with which
    /// segment.
    pub notes: BTreeMap<String, BTreeSet<String>>,
    /// Faults injected, per kind.
    pub faults: BTreeMap<String, u64>,
    /// Error responses sent, per HTTP status.
    pub http_errors: BTreeMap<u16, u64>,
}

#[derive(Default)]
struct StatsState {
    s: SimStats,
    ceiling_prefill: f64,
    ceiling_decode: f64,
    first_arrival: Option<Instant>,
    last_completion: Option<Instant>,
    held: u32,
    in_flight: u32,
}

struct Slot {
    busy: bool,
    last_prompt: String,
}

struct LoadedModel {
    num_ctx: u32,
}

/// Shared simulator state.
pub struct Sim {
    /// The configuration it runs with.
    pub config: SimConfig,
    sem: Semaphore,
    slots: Mutex<Vec<Slot>>,
    decoding: AtomicU32,
    prefill_lock: tokio::sync::Mutex<()>,
    prefill_total_ns: AtomicU64,
    models: tokio::sync::Mutex<HashMap<String, LoadedModel>>,
    stats: Mutex<StatsState>,
    occurrences: Mutex<HashMap<u64, u64>>,
    request_counter: AtomicU32,
    /// Becomes true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// FNV-1a, stable across Rust versions (unlike `DefaultHasher`).
pub fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// One generation event sent to the HTTP layer.
#[derive(Debug)]
pub enum Event {
    /// The prompt is processed and decoding starts (sent once, before any token).
    Started(Started),
    /// One output token.
    Token {
        /// Part of the thinking trace rather than of the content.
        thinking: bool,
        /// Its text.
        text: String,
    },
    /// End of the answer, with its timings.
    Done(Timings),
}

/// What happened before the first token (simulated seconds), sent as `x-sim-*` headers.
#[derive(Debug, Clone, Default)]
pub struct Started {
    /// Time spent on (or waiting for) the model load.
    pub load_s: f64,
    /// Time waited for a slot.
    pub queue_s: f64,
    /// Prefill time of the uncached prompt part (waiting for the shared prefill excluded).
    pub prefill_s: f64,
    /// Prompt tokens served from the slot's cache.
    pub cached_tokens: u32,
    /// Index of the slot used.
    pub slot: usize,
}

/// Timings and counts of one answer (Ollama metrics, in simulated nanoseconds).
#[derive(Debug, Clone, Default)]
pub struct Timings {
    /// Arrival to completion.
    pub total_ns: u64,
    /// Model load (or the time waited for the loaded model).
    pub load_ns: u64,
    /// Whole prompt.
    pub prompt_eval_count: u32,
    /// Prefill of the uncached part.
    pub prompt_eval_ns: u64,
    /// Output tokens.
    pub eval_count: u32,
    /// Decode time.
    pub eval_ns: u64,
    /// `stop` or `length`.
    pub done_reason: &'static str,
}

/// A generation to run: what to emit and how it is shaped.
#[derive(Debug, Clone)]
pub struct Job {
    /// Model name.
    pub model: String,
    /// Context size requested (a change reloads the model).
    pub num_ctx: u32,
    /// The prompt as text, for the per-slot prompt cache.
    pub prompt_text: String,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Output tokens: (is thinking, text).
    pub tokens: Vec<(bool, String)>,
    /// `stop` or `length`.
    pub done_reason: &'static str,
    /// `slow_stream` fault drawn.
    pub slow: bool,
    /// When the request arrived.
    pub arrival: Instant,
}

fn sim_secs(real: Duration, scale: f64) -> f64 {
    real.as_secs_f64() * scale
}

fn to_ns(sim_s: f64) -> u64 {
    // Saturating float-to-int conversion is the intent.
    (sim_s * 1e9).max(0.0) as u64
}

impl Sim {
    /// New state for `config` (already validated).
    pub fn new(config: SimConfig, shutdown: watch::Receiver<bool>) -> Sim {
        let slots =
            (0..config.slots).map(|_| Slot { busy: false, last_prompt: String::new() }).collect();
        let stats = StatsState {
            s: SimStats {
                slots: config.slots,
                time_scale: config.time_scale,
                ..SimStats::default()
            },
            ..StatsState::default()
        };
        Sim {
            sem: Semaphore::new(config.slots as usize),
            slots: Mutex::new(slots),
            decoding: AtomicU32::new(0),
            prefill_lock: tokio::sync::Mutex::new(()),
            prefill_total_ns: AtomicU64::new(0),
            models: tokio::sync::Mutex::new(HashMap::new()),
            stats: Mutex::new(stats),
            occurrences: Mutex::new(HashMap::new()),
            request_counter: AtomicU32::new(0),
            shutdown,
            config,
        }
    }

    /// Real duration of `sim_s` simulated seconds.
    pub fn real(&self, sim_s: f64) -> Duration {
        Duration::from_secs_f64((sim_s / self.config.time_scale).clamp(0.0, 1e9))
    }

    /// A fresh request number (for OpenAI ids).
    pub fn next_request_number(&self) -> u32 {
        self.request_counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The random generator of one request: seeded from the configured seed, the request body
    /// and how many times this exact body was seen before (so a retry draws anew, and the same
    /// sequence of requests always draws the same faults whatever the arrival interleaving).
    pub fn request_rng(&self, body: &[u8]) -> StdRng {
        let h = fnv1a(body, FNV_OFFSET);
        let n = {
            let mut occ = lock(&self.occurrences);
            let e = occ.entry(h).or_insert(0);
            *e += 1;
            *e
        };
        let mut seed = fnv1a(&self.config.seed.to_le_bytes(), FNV_OFFSET);
        seed = fnv1a(&h.to_le_bytes(), seed);
        seed = fnv1a(&n.to_le_bytes(), seed);
        StdRng::seed_from_u64(seed)
    }

    /// Draws every fault kind independently.
    pub fn draw_faults(&self, rng: &mut StdRng) -> std::collections::BTreeSet<FaultKind> {
        let mut out = std::collections::BTreeSet::new();
        for kind in FaultKind::ALL {
            if FaultKind::DRAWN_WHEN_SET.contains(&kind) && self.config.faults.get(kind) == 0.0 {
                continue;
            }
            let x: f64 = rng.random();
            if x < self.config.faults.get(kind) {
                out.insert(kind);
            }
        }
        out
    }

    /// Requests inside the server that hold no slot (waiting for a load or a slot).
    pub fn waiting(&self) -> u32 {
        let st = lock(&self.stats);
        st.in_flight.saturating_sub(st.held)
    }

    /// Records a request's arrival; the guard records its departure.
    pub fn arrive(self: &Arc<Self>) -> InFlight {
        let mut st = lock(&self.stats);
        st.s.requests += 1;
        st.first_arrival.get_or_insert_with(Instant::now);
        st.in_flight += 1;
        st.s.max_in_flight = st.s.max_in_flight.max(st.in_flight);
        InFlight { sim: Arc::clone(self) }
    }

    /// Records the source segments of a batch request.
    pub fn record_segments(&self, sources: &[String]) {
        let mut st = lock(&self.stats);
        for s in sources {
            *st.s.segments.entry(s.clone()).or_insert(0) += 1;
        }
    }

    /// Records the examples and notes that came with the segments of a batch request, and
    /// its brief.
    pub fn record_examples(&self, request: &crate::wire::BatchRequest) {
        let mut st = lock(&self.stats);
        for example in request.segments.iter().flat_map(|s| &s.examples) {
            *st.s.examples.entry(example.source.clone()).or_insert(0) += 1;
        }
        if let Some(brief) = &request.brief {
            *st.s.briefs.entry(brief.clone()).or_insert(0) += 1;
        }
        for segment in &request.segments {
            if let Some(note) = &segment.note {
                st.s.notes.entry(segment.text.clone()).or_default().insert(note.clone());
            }
        }
    }

    /// Records injected faults.
    pub fn record_faults(&self, kinds: &[FaultKind]) {
        let mut st = lock(&self.stats);
        for k in kinds {
            *st.s.faults.entry(k.name().to_string()).or_insert(0) += 1;
        }
    }

    /// Records an error response (and counts as a completion for `wall_seconds`).
    pub fn record_error(&self, status: u16) {
        let mut st = lock(&self.stats);
        *st.s.http_errors.entry(status).or_insert(0) += 1;
        st.last_completion = Some(Instant::now());
    }

    /// Current statistics.
    pub fn stats(&self) -> SimStats {
        let st = lock(&self.stats);
        let mut s = st.s.clone();
        if let (Some(a), Some(b)) = (st.first_arrival, st.last_completion) {
            s.wall_seconds = sim_secs(b.saturating_duration_since(a), self.config.time_scale);
        }
        let slots = f64::from(self.config.slots);
        s.ceiling_seconds = st.ceiling_prefill + st.ceiling_decode / slots;
        if s.wall_seconds > 0.0 {
            s.occupancy = s.busy_slot_seconds / (slots * s.wall_seconds);
        }
        s
    }

    /// Zeroes the statistics and the per-body occurrence counts (requests in flight keep
    /// counting into the new period).
    pub fn reset(&self) {
        let mut st = lock(&self.stats);
        let (held, in_flight) = (st.held, st.in_flight);
        *st = StatsState {
            s: SimStats {
                slots: self.config.slots,
                time_scale: self.config.time_scale,
                ..SimStats::default()
            },
            held,
            in_flight,
            ..StatsState::default()
        };
        lock(&self.occurrences).clear();
    }

    /// Models currently loaded, with their context size.
    pub async fn loaded_models(&self) -> Vec<(String, u32)> {
        let m = self.models.lock().await;
        let mut v: Vec<(String, u32)> = m.iter().map(|(k, v)| (k.clone(), v.num_ctx)).collect();
        v.sort();
        v
    }

    /// Loads `model` with `num_ctx` if it is not loaded that way; returns the simulated
    /// seconds this request spent on it.
    pub async fn ensure_loaded(&self, model: &str, num_ctx: u32) -> f64 {
        let started = Instant::now();
        let mut models = self.models.lock().await;
        let need = match models.get(model) {
            Some(m) if m.num_ctx == num_ctx => None,
            Some(_) => Some(true),
            None => Some(false),
        };
        if let Some(reload) = need {
            tokio::time::sleep(self.real(self.config.latency.load_s)).await;
            models.insert(model.to_string(), LoadedModel { num_ctx });
            let mut st = lock(&self.stats);
            st.s.loads += 1;
            if reload {
                st.s.reloads += 1;
            }
        }
        drop(models);
        sim_secs(started.elapsed(), self.config.time_scale).max(0.001)
    }

    /// Unloads `model`.
    pub async fn unload(&self, model: &str) {
        self.models.lock().await.remove(model);
    }

    /// Runs `job`: load, queue for a slot, prefill, decode; sends events to `tx`. Stops early
    /// (freeing its slot) as soon as the receiver is dropped.
    pub async fn run_job(self: Arc<Self>, job: Job, tx: mpsc::Sender<Event>) {
        let scale = self.config.time_scale;
        let lat = self.config.latency.clone();
        let load_s = tokio::select! {
            s = self.ensure_loaded(&job.model, job.num_ctx) => s,
            () = tx.closed() => return,
        };
        let queued = Instant::now();
        let permit = tokio::select! {
            p = self.sem.acquire() => match p { Ok(p) => p, Err(_) => return },
            () = tx.closed() => return,
        };
        let slot = SlotGuard::take(&self, &job.prompt_text, queued);
        let cached = slot.cached_tokens.min(job.prompt_tokens.saturating_sub(1));
        let uncached = job.prompt_tokens - cached;
        let prefill_s = f64::from(uncached) / lat.prefill_tps;
        {
            let mut st = lock(&self.stats);
            st.s.prompt_tokens += u64::from(job.prompt_tokens);
            st.s.prefilled_tokens += u64::from(uncached);
        }
        // Prefill is serialized (llama.cpp batches every slot's prompt chunks into the same
        // steps, so prompts share one prefill rate) and stalls the other slots' decode.
        let prefill_guard = tokio::select! {
            g = self.prefill_lock.lock() => g,
            () = tx.closed() => return,
        };
        if !wait_until(Instant::now() + self.real(prefill_s), &tx).await {
            return;
        }
        self.prefill_total_ns.fetch_add(to_ns(prefill_s), Ordering::SeqCst);
        drop(prefill_guard);

        let started = Started {
            load_s,
            queue_s: sim_secs(slot.acquired.saturating_duration_since(queued), scale),
            prefill_s,
            cached_tokens: cached,
            slot: slot.index,
        };
        if tx.send(Event::Started(started)).await.is_err() {
            return;
        }
        let decoding = DecodingGuard::new(&self.decoding);
        let decode_start = Instant::now();
        let n_tokens = job.tokens.len();
        let gaps: Vec<usize> = if job.slow && n_tokens > 0 {
            (1..=lat.slow_gaps as usize)
                .map(|k| k * n_tokens / (lat.slow_gaps as usize + 1))
                .collect()
        } else {
            Vec::new()
        };
        let mut sim_t = 0.0;
        let full = f64::from(self.config.slots);
        let mut full_t = 0.0;
        let mut stalls_seen = self.prefill_total_ns.load(Ordering::SeqCst);
        let mut emitted: u32 = 0;
        for (i, (thinking, text)) in job.tokens.into_iter().enumerate() {
            let n = f64::from(decoding.active());
            let ctx = f64::from(job.prompt_tokens) + i as f64;
            sim_t += lat.step_s(n, ctx);
            full_t += lat.step_s(full, ctx);
            // Other requests' prefills that ran meanwhile stalled this sequence.
            let stalls = self.prefill_total_ns.load(Ordering::SeqCst);
            sim_t += stalls.saturating_sub(stalls_seen) as f64 / 1e9;
            stalls_seen = stalls;
            if gaps.contains(&i) {
                sim_t += lat.slow_gap_s;
            }
            let deadline = decode_start + self.real(sim_t);
            if deadline > Instant::now() + Duration::from_millis(1)
                && !wait_until(deadline, &tx).await
            {
                return;
            }
            if tx.send(Event::Token { thinking, text }).await.is_err() {
                return;
            }
            emitted += 1;
            lock(&self.stats).s.output_tokens += 1;
        }
        if !wait_until(decode_start + self.real(sim_t), &tx).await {
            return;
        }
        drop(decoding);
        let timings = Timings {
            total_ns: to_ns(sim_secs(job.arrival.elapsed(), scale)),
            load_ns: to_ns(load_s),
            prompt_eval_count: job.prompt_tokens,
            prompt_eval_ns: to_ns(prefill_s),
            eval_count: emitted,
            eval_ns: to_ns(sim_t),
            done_reason: job.done_reason,
        };
        {
            let mut st = lock(&self.stats);
            st.s.completed += 1;
            st.s.eval_seconds += prefill_s + sim_t;
            st.ceiling_prefill += prefill_s;
            st.ceiling_decode += full_t;
        }
        slot.release(&job.prompt_text);
        drop(permit);
        let _ = tx.send(Event::Done(timings)).await;
    }
}

/// Sleeps until `deadline`; false if the receiver went away first.
async fn wait_until(deadline: Instant, tx: &mpsc::Sender<Event>) -> bool {
    tokio::select! {
        () = tokio::time::sleep_until(deadline.into()) => true,
        () = tx.closed() => false,
    }
}

/// A request inside the server; counts `in_flight` down when dropped.
pub struct InFlight {
    sim: Arc<Sim>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut st = lock(&self.sim.stats);
        st.in_flight = st.in_flight.saturating_sub(1);
    }
}

struct DecodingGuard<'a> {
    counter: &'a AtomicU32,
}

impl<'a> DecodingGuard<'a> {
    fn new(counter: &'a AtomicU32) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        DecodingGuard { counter }
    }
    fn active(&self) -> u32 {
        self.counter.load(Ordering::SeqCst).max(1)
    }
}

impl Drop for DecodingGuard<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A held slot; frees it (and accounts its busy time) when dropped.
struct SlotGuard<'a> {
    sim: &'a Sim,
    index: usize,
    acquired: Instant,
    cached_tokens: u32,
    new_prompt: Option<String>,
}

impl<'a> SlotGuard<'a> {
    /// Takes the free slot whose cached prompt shares the longest prefix with `prompt`.
    fn take(sim: &'a Sim, prompt: &str, queued: Instant) -> Self {
        let mut slots = lock(&sim.slots);
        let mut best: Option<(usize, usize)> = None;
        for (i, s) in slots.iter().enumerate().filter(|(_, s)| !s.busy) {
            let common = common_prefix(&s.last_prompt, prompt);
            if best.is_none_or(|(_, c)| common > c) {
                best = Some((i, common));
            }
        }
        // The semaphore guarantees a free slot; fall back to slot 0 defensively.
        let (index, common) = best.unwrap_or((0, 0));
        slots[index].busy = true;
        drop(slots);
        let acquired = Instant::now();
        let mut st = lock(&sim.stats);
        st.held += 1;
        st.s.max_concurrent = st.s.max_concurrent.max(st.held);
        st.s.queue_seconds +=
            sim_secs(acquired.saturating_duration_since(queued), sim.config.time_scale);
        drop(st);
        SlotGuard {
            sim,
            index,
            acquired,
            cached_tokens: u32::try_from(common / 4).unwrap_or(u32::MAX),
            new_prompt: None,
        }
    }

    fn release(mut self, prompt: &str) {
        self.new_prompt = Some(prompt.to_string());
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        {
            let mut slots = lock(&self.sim.slots);
            let slot = &mut slots[self.index];
            slot.busy = false;
            if let Some(p) = self.new_prompt.take() {
                slot.last_prompt = p;
            }
        }
        let now = Instant::now();
        let mut st = lock(&self.sim.stats);
        st.held = st.held.saturating_sub(1);
        st.s.busy_slot_seconds +=
            sim_secs(now.saturating_duration_since(self.acquired), self.sim.config.time_scale);
        st.last_completion = Some(now);
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}
