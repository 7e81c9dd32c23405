//! [`LlmEngine`]: documents in, validated translations out, one segment at a time.
//!
//! A translation request becomes *units* (the pending segments' cores, as
//! [`tradia_core::Segment::edges`] cuts them, identical cores sent once), grouped in document
//! order into batches bounded by `BATCH_SIZE` and an output-token budget, each with the preceding
//! source text as read-only context. All batches are handed to the [`Scheduler`] at once, so the
//! backends' slots never idle while work remains.
//!
//! Each batch runs the repair ladder: the answer is parsed tolerantly, then aligned with the
//! request ([`crate::answer::align`]): an answer whose ids are not the request's (shifted,
//! unknown, missing, repeated) is not used at all, and all its segments are asked again. In an
//! aligned answer each entry is checked against its own source and the document's other sources
//! ([`crate::answer::check_entry`]); good answers are accepted and reported to the sink at once;
//! only the failed ids are sent again, in halves and then alone (where no id is needed), with a
//! stricter note. Placeholders that are the whole text of a paired code travel as codes
//! ([`crate::answer::protect_placeholders`]).
//! What still fails has its codes reinserted by alignment when that is safe
//! ([`crate::answer::reinsert_codes`]); otherwise the source is kept and the segment reported
//! with a [`tradia_core::KeptReason`]. Transport failures are retried with exponential backoff and
//! jitter; a request refused for good (401, unknown model) or a backend that stays down fails
//! the whole call with an [`EngineError`] instead of filling a document with kept sources.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::BackoffBuilder;
use futures::stream::{BoxStream, FuturesUnordered, StreamExt};
use serde_json::Value;
use tradia_core::{
    BoxFuture, CancelFlag, Content, Engine, EngineError, EngineStats, LanguageTag, Priority,
    Segment, SegmentResult, TranslateRequest,
};

use crate::answer::{
    Alignment, EntryContext, Protected, Rejection, align, check_entry, extract_json,
    parse_translations, protect_placeholders, reinsert_codes,
};
use crate::backend::{
    Backend, ChatOutcome, ChatRequest, Finish, ModelInfo, StreamEvent, build_client,
};
use crate::error::LlmError;
use crate::prompt::{self, WireSegment};
use crate::scheduler::{Outcome, Scheduler, SlotStats};
use crate::settings::LlmSettings;

/// Characters of preceding source text given as context to a batch.
const CONTEXT_CHARS: usize = 600;
/// Rounds of the repair ladder: the whole batch, halves, then single segments twice.
const LADDER_ROUNDS: usize = 4;

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    prompt_tokens: AtomicU64,
    output_tokens: AtomicU64,
    responses: AtomicU64,
    busy_nanos: AtomicU64,
    segments: AtomicU64,
    kept: AtomicU64,
    repaired: AtomicU64,
    resent: AtomicU64,
    misaligned: AtomicU64,
}

/// Counters beyond [`EngineStats`], for benchmarks and metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetailedStats {
    /// Requests, retries and tokens.
    pub engine: EngineStats,
    /// Successful responses.
    pub responses: u64,
    /// Server slot time the responses reported (prompt evaluation + generation), in seconds.
    pub busy_seconds: f64,
    /// Segments finished (translated or kept).
    pub segments: u64,
    /// Segments whose source was kept.
    pub kept: u64,
    /// Segments whose codes were reinserted by alignment.
    pub repaired: u64,
    /// Segments sent again after a rejected answer (per attempt).
    pub resent: u64,
    /// Answers whose ids did not match their request's (none of their entries was used).
    pub misaligned: u64,
    /// Per-backend slot counters.
    pub slots: Vec<SlotStats>,
}

/// State of one backend, as `health()` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendHealth {
    /// Its URL (without credentials).
    pub url: String,
    /// Whether it answered.
    pub reachable: bool,
    /// Its version, when it says.
    pub version: Option<String>,
    /// The error, when it did not answer.
    pub error: Option<String>,
    /// Scheduling counters and breaker state.
    pub slots: SlotStats,
}

/// The LLM translation engine. Cheap to clone (shared state).
#[derive(Clone)]
pub struct LlmEngine {
    inner: std::sync::Arc<Inner>,
}

struct Inner {
    settings: LlmSettings,
    backends: Vec<Backend>,
    sched: Scheduler,
    counters: Counters,
}

struct Unit<'a> {
    /// The first segment with this core (its id goes on the wire).
    seg: &'a Segment,
    /// The core as the model sees it (placeholders wrapped in pairs made codes), and how to
    /// turn an answer back.
    prot: Protected,
    rendered: String,
    est_out: u32,
    /// (position in `pending`, segment) of every segment sharing this core.
    members: Vec<(usize, &'a Segment)>,
}

/// What one segment's last attempt left.
#[derive(Clone)]
struct Failure {
    why: Rejection,
    answer: Option<String>,
}

struct Job<'a, 'r> {
    request: &'r TranslateRequest<'a>,
    units: Vec<Unit<'a>>,
    source_name: String,
    target_name: String,
    languages_differ: bool,
    /// Every unit's source as the model sees it, rendered and plain: an answer equal to
    /// another unit's source is refused.
    sources: HashSet<String>,
    results: Mutex<Vec<Option<SegmentResult>>>,
}

fn est_tokens(text: &str) -> u32 {
    (text.len() as u32).div_ceil(4)
}

impl LlmEngine {
    /// An engine for the configured backends.
    pub fn new(settings: LlmSettings) -> Result<Self, LlmError> {
        let client = build_client(&settings)?;
        let backends: Vec<Backend> =
            settings.backends.iter().map(|b| Backend::new(b, &settings, client.clone())).collect();
        let slots = vec![settings.slots; backends.len()];
        let sched = Scheduler::new(&slots, settings.breaker_threshold, settings.breaker_cooldown)
            .with_no_backend_wait(settings.timeout);
        Ok(LlmEngine {
            inner: std::sync::Arc::new(Inner {
                settings,
                backends,
                sched,
                counters: Counters::default(),
            }),
        })
    }

    /// The settings in use.
    pub fn settings(&self) -> &LlmSettings {
        &self.inner.settings
    }

    /// The backends.
    pub fn backends(&self) -> &[Backend] {
        &self.inner.backends
    }

    /// Fingerprint of the prompt templates, to record with each translation.
    pub fn prompt_fingerprint(&self) -> &'static str {
        prompt::fingerprint()
    }

    /// All counters.
    pub fn detailed_stats(&self) -> DetailedStats {
        let c = &self.inner.counters;
        DetailedStats {
            engine: self.stats(),
            responses: c.responses.load(Ordering::Relaxed),
            busy_seconds: c.busy_nanos.load(Ordering::Relaxed) as f64 / 1e9,
            segments: c.segments.load(Ordering::Relaxed),
            kept: c.kept.load(Ordering::Relaxed),
            repaired: c.repaired.load(Ordering::Relaxed),
            resent: c.resent.load(Ordering::Relaxed),
            misaligned: c.misaligned.load(Ordering::Relaxed),
            slots: self.inner.sched.stats(),
        }
    }

    fn count_outcome(&self, o: &ChatOutcome) {
        let c = &self.inner.counters;
        c.responses.fetch_add(1, Ordering::Relaxed);
        c.prompt_tokens.fetch_add(o.prompt_tokens.unwrap_or(0), Ordering::Relaxed);
        c.output_tokens.fetch_add(o.output_tokens.unwrap_or(0), Ordering::Relaxed);
        if let Some(b) = o.busy {
            c.busy_nanos.fetch_add(b.as_nanos() as u64, Ordering::Relaxed);
        }
    }

    fn backoff(&self) -> impl Iterator<Item = Duration> + use<> {
        let s = &self.inner.settings;
        backon::ExponentialBuilder::default()
            .with_min_delay(s.retry_base_delay)
            .with_max_delay(Duration::from_secs(30))
            .with_max_times(s.max_retries as usize)
            .with_jitter()
            .build()
    }

    /// Runs one completion through the scheduler with retries (non-streaming).
    pub async fn call(
        &self,
        req: &ChatRequest,
        priority: Priority,
        owner: &str,
        cancel: &CancelFlag,
    ) -> Result<ChatOutcome, LlmError> {
        let mut delays = self.backoff();
        loop {
            let mut permit = self.inner.sched.acquire(priority, owner, cancel).await?;
            let backend = &self.inner.backends[permit.backend()];
            self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
            let result = tokio::select! {
                r = backend.chat(req) => r,
                _ = cancelled(cancel) => Err(LlmError::Cancelled),
            };
            match &result {
                Ok(o) => {
                    permit.record(Outcome::Success);
                    self.count_outcome(o);
                }
                Err(e) if e.is_backend_failure() => permit.record(Outcome::Failure),
                Err(_) => permit.record(Outcome::Neutral),
            }
            drop(permit);
            match result {
                Ok(o) => return Ok(o),
                Err(e) if e.is_retryable() => match delays.next() {
                    Some(d) => {
                        let d =
                            e.retry_after().map_or(d, |ra| ra.max(d)).min(Duration::from_secs(60));
                        tracing::warn!(error = %e, delay_ms = d.as_millis() as u64, "LLM request failed; retrying");
                        self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                        tokio::select! {
                            _ = tokio::time::sleep(d) => {}
                            _ = cancelled(cancel) => return Err(LlmError::Cancelled),
                        }
                    }
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }

    fn model<'m>(&'m self, model: Option<&'m str>) -> &'m str {
        model.filter(|m| !m.trim().is_empty()).unwrap_or(&self.inner.settings.model)
    }

    /// The models offered by the backends (union, sorted by name); fails only when no backend
    /// answers.
    pub async fn models(&self) -> Result<Vec<ModelInfo>, LlmError> {
        let mut all: Vec<ModelInfo> = Vec::new();
        let mut last_err = None;
        for b in &self.inner.backends {
            match b.models().await {
                Ok(ms) => {
                    for m in ms {
                        if !all.iter().any(|x| x.name == m.name) {
                            all.push(m);
                        }
                    }
                }
                Err(e) => last_err = Some(e),
            }
        }
        if all.is_empty()
            && let Some(e) = last_err
        {
            return Err(e);
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// Whether each backend answers now, with its scheduling state.
    pub async fn health(&self) -> Vec<BackendHealth> {
        let slots = self.inner.sched.stats();
        let mut out = Vec::new();
        for (i, b) in self.inner.backends.iter().enumerate() {
            let probe = match b.kind() {
                crate::settings::EngineKind::Ollama => b.version().await,
                crate::settings::EngineKind::Openai => b.models().await.map(|_| None),
            };
            let (reachable, version, error) = match probe {
                Ok(v) => (true, v, None),
                Err(e) => (false, None, Some(e.to_string())),
            };
            out.push(BackendHealth {
                url: b.url().to_string(),
                reachable,
                version,
                error,
                slots: slots[i].clone(),
            });
        }
        out
    }

    /// Streams the translation of a plain text, token by token (interactive priority).
    pub fn translate_text_stream(
        &self,
        text: &str,
        source: Option<LanguageTag>,
        target: LanguageTag,
        model: Option<&str>,
    ) -> BoxStream<'static, Result<String, LlmError>> {
        let req = ChatRequest {
            model: self.model(model).to_string(),
            system: prompt::TEXT_SYSTEM.to_string(),
            user: prompt::text_user_message(source.as_ref(), &target, text),
            images: Vec::new(),
            schema: None,
            max_tokens: (est_tokens(text) * 3 + 256).min(self.inner.settings.num_ctx / 2),
            temperature: self.inner.settings.temperature,
        };
        self.stream_call(req, "interactive".to_string(), CancelFlag::new())
    }

    /// Streams a completion's answer text (retrying until the first token is out), with
    /// `<think>` blocks removed.
    pub fn stream_call(
        &self,
        req: ChatRequest,
        owner: String,
        cancel: CancelFlag,
    ) -> BoxStream<'static, Result<String, LlmError>> {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, LlmError>>(64);
        let engine = self.clone();
        tokio::spawn(async move {
            let mut delays = engine.backoff();
            loop {
                // A reader that went away while this waited in the queue costs nothing.
                let acquired = tokio::select! {
                    p = engine.inner.sched.acquire(Priority::Interactive, &owner, &cancel) => p,
                    _ = tx.closed() => return,
                };
                let mut permit = match acquired {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                let backend = engine.inner.backends[permit.backend()].clone();
                engine.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
                let mut sent_any = false;
                let mut filter = ThinkFilter::default();
                let result: Result<(), LlmError> = async {
                    let mut stream = backend.chat_stream(&req).await?;
                    while let Some(ev) = stream.next().await {
                        if cancel.is_cancelled() || tx.is_closed() {
                            return Err(LlmError::Cancelled);
                        }
                        match ev? {
                            StreamEvent::Delta(t) => {
                                let out = filter.push(&t);
                                if !out.is_empty() {
                                    sent_any = true;
                                    if tx.send(Ok(out)).await.is_err() {
                                        return Err(LlmError::Cancelled);
                                    }
                                }
                            }
                            StreamEvent::Thinking(_) => {}
                            StreamEvent::Done(o) => {
                                engine.count_outcome(&o);
                                let rest = filter.finish();
                                if !rest.is_empty() {
                                    let _ = tx.send(Ok(rest)).await;
                                }
                                return Ok(());
                            }
                        }
                    }
                    Err(LlmError::Connection {
                        url: backend.url().to_string(),
                        detail: "the stream ended without its final message".into(),
                    })
                }
                .await;
                match &result {
                    Ok(()) => permit.record(Outcome::Success),
                    Err(e) if e.is_backend_failure() => permit.record(Outcome::Failure),
                    Err(_) => permit.record(Outcome::Neutral),
                }
                drop(permit);
                match result {
                    Ok(()) | Err(LlmError::Cancelled) => return,
                    Err(e) if e.is_retryable() && !sent_any => {
                        if let Some(d) = delays.next() {
                            engine.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(e.retry_after().map_or(d, |ra| ra.max(d))).await;
                            continue;
                        }
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        });
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) })
            .boxed()
    }

    /// A structured completion for the assistants (correction, reformulation, summaries): the
    /// answer is constrained by `schema`, read tolerantly, and asked again once when it is not a
    /// JSON object with the schema's required properties.
    pub async fn complete_structured(
        &self,
        system: &str,
        user: &str,
        schema: &Value,
        images: Vec<String>,
        model: Option<&str>,
    ) -> Result<Value, LlmError> {
        let required: Vec<String> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let mut req = ChatRequest {
            model: self.model(model).to_string(),
            system: system.to_string(),
            user: user.to_string(),
            images,
            schema: Some(schema.clone()),
            max_tokens: (self.inner.settings.num_ctx / 2).max(512),
            temperature: self.inner.settings.temperature,
        };
        let cancel = CancelFlag::new();
        let mut last = String::new();
        for attempt in 0..2 {
            let out = self.call(&req, Priority::Interactive, "assistant", &cancel).await?;
            if let Some(v) = extract_json(&out.content)
                && required.iter().all(|k| v.get(k).is_some())
            {
                return Ok(v);
            }
            last = out.content.chars().take(200).collect();
            if attempt == 0 {
                self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                req.user = format!(
                    "{user}\n\nAnswer with one JSON object only, with the properties {required:?}."
                );
            }
        }
        Err(LlmError::Answer(format!(
            "no JSON object with the required properties in the answer: {last:?}"
        )))
    }

    async fn run_translate(
        &self,
        request: TranslateRequest<'_>,
    ) -> Result<Vec<SegmentResult>, EngineError> {
        if request.cancel.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        let (job, immediate) = self.prepare(&request);
        for (pos, result) in immediate {
            job.finish(self, pos, result);
        }
        let job = &job;
        // A window of batches per job keeps every slot fed (and the scheduler's round robin
        // meaningful) without thousands of idle waiters for a long document.
        let window = (self.inner.settings.slots * self.inner.backends.len() * 2).max(4);
        let mut batches = self.plan(&job.units).into_iter();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < window {
                match batches.next() {
                    Some(b) => running.push(self.run_ladder(job, b)),
                    None => break,
                }
            }
            match running.next().await {
                Some(r) => r?,
                None => break,
            }
        }
        if request.cancel.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        let results = job.results.lock().unwrap_or_else(|e| e.into_inner());
        Ok(results.iter().flatten().cloned().collect())
    }

    /// Units (distinct cores to translate) of a request, and the results known at once.
    fn prepare<'a, 'r>(
        &self,
        request: &'r TranslateRequest<'a>,
    ) -> (Job<'a, 'r>, Vec<(usize, SegmentResult)>) {
        let pending: Vec<&'a Segment> =
            request.pending.iter().filter_map(|id| request.segments.get(*id as usize)).collect();
        let languages_differ =
            request.source.as_ref().is_none_or(|s| !s.same_language(&request.target));
        let mut job = Job {
            request,
            units: Vec::new(),
            source_name: prompt::language_name(request.source.as_ref()),
            target_name: request.target.english_name(),
            languages_differ,
            sources: HashSet::new(),
            results: Mutex::new(vec![None; pending.len()]),
        };
        let mut immediate = Vec::new();
        let mut by_core: HashMap<String, usize> = HashMap::new();
        for (pos, seg) in pending.into_iter().enumerate() {
            let original = seg.edges().core;
            let prot = protect_placeholders(&original);
            if !prot.core.has_letters() {
                // Nothing a model could translate (codes, numbers, punctuation): unchanged.
                immediate.push((
                    pos,
                    SegmentResult { id: seg.id, content: seg.content.clone(), kept: None },
                ));
                continue;
            }
            // Identical sources are sent once; the key is the source itself, since two
            // placeholders can look alike once protected.
            let key = original.render();
            if let Some(&u) = by_core.get(&key) {
                job.units[u].members.push((pos, seg));
                continue;
            }
            by_core.insert(key, job.units.len());
            let rendered = prot.core.render();
            let est_out = est_tokens(&rendered) * 2 + 16;
            job.sources.extend(crate::answer::source_keys(&prot.core));
            job.units.push(Unit { seg, prot, rendered, est_out, members: vec![(pos, seg)] });
        }
        (job, immediate)
    }

    /// The first-attempt requests a translation sends (no retry or repair), in order: lets a
    /// benchmark replay the same request mix with a minimal load generator.
    pub fn batch_requests(&self, request: &TranslateRequest<'_>) -> Vec<ChatRequest> {
        let (job, _) = self.prepare(request);
        self.plan(&job.units).iter().map(|b| self.chat_request(&job, b, false)).collect()
    }

    /// The request for units `units` of `job`.
    fn chat_request(&self, job: &Job<'_, '_>, units: &[usize], strict: bool) -> ChatRequest {
        let first = job.units[units[0]].seg.id;
        let context = preceding_context(job.request.segments, first);
        let wire: Vec<WireSegment<'_>> = units
            .iter()
            .map(|&u| WireSegment {
                id: job.units[u].seg.id.to_string(),
                text: &job.units[u].rendered,
            })
            .collect();
        let est: u32 = units.iter().map(|&u| job.units[u].est_out).sum();
        let s = &self.inner.settings;
        ChatRequest {
            model: s.model.clone(),
            system: prompt::BATCH_SYSTEM.to_string(),
            user: prompt::batch_user_message(
                &job.source_name,
                &job.target_name,
                &context,
                &wire,
                strict,
            ),
            images: Vec::new(),
            schema: Some(prompt::translations_schema().clone()),
            max_tokens: (est * 3 / 2 + 128).min(s.num_ctx / 2),
            temperature: s.temperature,
        }
    }

    /// Cuts units (document order) into batches bounded by BATCH_SIZE and the output budget.
    fn plan(&self, units: &[Unit<'_>]) -> Vec<Vec<usize>> {
        let s = &self.inner.settings;
        let mut batches = Vec::new();
        let mut cur: Vec<usize> = Vec::new();
        let mut cur_out = 0u32;
        for (i, u) in units.iter().enumerate() {
            if !cur.is_empty()
                && (cur.len() >= s.batch_size || cur_out + u.est_out > s.output_budget)
            {
                batches.push(std::mem::take(&mut cur));
                cur_out = 0;
            }
            cur.push(i);
            cur_out += u.est_out;
        }
        if !cur.is_empty() {
            batches.push(cur);
        }
        batches
    }

    async fn run_ladder(&self, job: &Job<'_, '_>, batch: Vec<usize>) -> Result<(), EngineError> {
        let mut todo = batch;
        let mut failures: HashMap<usize, Failure> = HashMap::new();
        for round in 0..LADDER_ROUNDS {
            if todo.is_empty() {
                break;
            }
            if round > 0 {
                self.inner.counters.resent.fetch_add(todo.len() as u64, Ordering::Relaxed);
            }
            let size = match round {
                0 => todo.len(),
                1 => todo.len().div_ceil(2),
                _ => 1,
            };
            let chunks: Vec<Vec<usize>> = todo.chunks(size).map(<[usize]>::to_vec).collect();
            let mut running: FuturesUnordered<_> =
                chunks.into_iter().map(|c| self.attempt(job, c, round)).collect();
            let mut next = Vec::new();
            while let Some(r) = running.next().await {
                for (u, outcome) in r? {
                    match outcome {
                        Ok(content) => job.accept(self, u, &content),
                        Err(f) => {
                            failures.insert(u, f);
                            next.push(u);
                        }
                    }
                }
            }
            next.sort_unstable();
            todo = next;
        }
        for u in todo {
            let f =
                failures.remove(&u).unwrap_or(Failure { why: Rejection::Missing, answer: None });
            let unit = &job.units[u];
            if let (Rejection::InvalidCodes(_), Some(answer)) = (&f.why, &f.answer)
                && let Some(fixed) = reinsert_codes(&unit.prot.core, answer)
                && check_entry(&unit.prot.core, &fixed.render(), &job.entry_context()).is_ok()
            {
                self.inner
                    .counters
                    .repaired
                    .fetch_add(unit.members.len() as u64, Ordering::Relaxed);
                tracing::info!(segment = unit.seg.id, "inline codes reinserted by alignment");
                job.accept(self, u, &fixed);
                continue;
            }
            // A copy of the source, short texts included (a name the model keeps as is), is
            // kept and reported: whether it was right to keep it is for a person to say.
            tracing::warn!(
                segment = unit.seg.id,
                code = f.why.code(),
                "source kept: {}",
                f.why.message()
            );
            for &(pos, seg) in &unit.members {
                job.finish(
                    self,
                    pos,
                    SegmentResult::kept_source(seg, f.why.code(), f.why.message()),
                );
            }
        }
        Ok(())
    }

    /// One request for `units`; per unit, the accepted content or why it failed.
    #[allow(clippy::type_complexity)]
    async fn attempt(
        &self,
        job: &Job<'_, '_>,
        units: Vec<usize>,
        round: usize,
    ) -> Result<Vec<(usize, Result<Content, Failure>)>, EngineError> {
        let strict = round > 0;
        let last_round = round + 1 >= LADDER_ROUNDS;
        let request = job.request;
        let req = self.chat_request(job, &units, strict);
        let outcome = match self.call(&req, request.priority, &request.owner, &request.cancel).await
        {
            Ok(o) => o,
            Err(LlmError::Cancelled) => return Err(EngineError::Cancelled),
            // Every backend stayed out of service for the whole no-backend wait: smaller
            // requests cannot help, and each further round would wait that long again.
            Err(e @ LlmError::NoBackend(_)) => return Err(EngineError::Unavailable(e.to_string())),
            // A transient failure that outlived its retries: the ids go to the next round
            // (smaller requests, fresh retries); only the last round gives up on the job.
            Err(e)
                if e.is_context_overflow()
                    || e.code() == "llm_bad_response"
                    || (e.is_retryable() && !last_round) =>
            {
                let why = Rejection::RequestFailed(e.to_string());
                return Ok(units
                    .into_iter()
                    .map(|u| (u, Err(Failure { why: why.clone(), answer: None })))
                    .collect());
            }
            Err(e @ LlmError::Http { status: 400 | 404 | 422, .. }) => {
                return Err(EngineError::Rejected(e.to_string()));
            }
            Err(e) => return Err(EngineError::Unavailable(e.to_string())),
        };
        let parsed = parse_translations(&outcome.content);
        let truncated = outcome.finish == Finish::Length;
        let ids: Vec<String> = units.iter().map(|&u| job.units[u].seg.id.to_string()).collect();
        let texts: Vec<Option<String>> = match align(&ids, &parsed, truncated) {
            Alignment::Aligned(texts) => texts.into_iter().map(Some).collect(),
            Alignment::Prefix(texts) => {
                let mut t: Vec<Option<String>> = texts.into_iter().map(Some).collect();
                t.resize(units.len(), None);
                t
            }
            Alignment::Empty => {
                let why = if truncated { Rejection::Truncated } else { Rejection::Missing };
                return Ok(units
                    .into_iter()
                    .map(|u| (u, Err(Failure { why: why.clone(), answer: None })))
                    .collect());
            }
            Alignment::Misaligned(how) => {
                self.inner.counters.misaligned.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    segments = units.len(),
                    "answer ids do not match the request ({how}); asking again in smaller requests"
                );
                let why = Rejection::Misaligned(how);
                return Ok(units
                    .into_iter()
                    .map(|u| (u, Err(Failure { why: why.clone(), answer: None })))
                    .collect());
            }
        };
        let ctx = job.entry_context();
        Ok(units
            .into_iter()
            .zip(texts)
            .map(|(u, text)| {
                let unit = &job.units[u];
                let result = match text {
                    None => Err(Failure { why: Rejection::Truncated, answer: None }),
                    Some(text) => check_entry(&unit.prot.core, &text, &ctx)
                        .map_err(|why| Failure { why, answer: Some(text) }),
                };
                (u, result)
            })
            .collect())
    }
}

impl Job<'_, '_> {
    fn finish(&self, engine: &LlmEngine, pos: usize, result: SegmentResult) {
        let c = &engine.inner.counters;
        c.segments.fetch_add(1, Ordering::Relaxed);
        if result.kept.is_some() {
            c.kept.fetch_add(1, Ordering::Relaxed);
        }
        self.request.sink.segment_done(&result);
        let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = results.get_mut(pos) {
            *slot = Some(result);
        }
    }

    fn entry_context(&self) -> EntryContext<'_> {
        EntryContext { languages_differ: self.languages_differ, sources: &self.sources }
    }

    fn accept(&self, engine: &LlmEngine, u: usize, core: &Content) {
        let unit = &self.units[u];
        let restored = unit.prot.restore(core);
        for &(pos, seg) in &unit.members {
            let result = restored
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|core| SegmentResult::from_core(seg, core))
                .unwrap_or_else(|e| {
                    SegmentResult::kept_source(
                        seg,
                        "invalid_codes",
                        format!("cannot put the edges back: {e}"),
                    )
                });
            self.finish(engine, pos, result);
        }
    }
}

/// Plain text of the segments before `first`, at most [`CONTEXT_CHARS`] characters, in order.
fn preceding_context(segments: &[Segment], first: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut budget = CONTEXT_CHARS;
    for seg in segments[..(first as usize).min(segments.len())].iter().rev() {
        if budget == 0 {
            break;
        }
        let text = seg.content.plain_text();
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let n = text.chars().count();
        let piece = if n > budget {
            let skip = n - budget;
            format!("…{}", text.chars().skip(skip).collect::<String>())
        } else {
            text.to_string()
        };
        budget = budget.saturating_sub(n);
        out.push(piece);
    }
    out.reverse();
    out
}

async fn cancelled(flag: &CancelFlag) {
    while !flag.is_cancelled() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Removes a leading `<think>…</think>` block from a token stream.
#[derive(Default)]
struct ThinkFilter {
    buf: String,
    state: ThinkState,
}

#[derive(Default, PartialEq)]
enum ThinkState {
    #[default]
    Start,
    Thinking,
    Passing,
}

impl ThinkFilter {
    fn push(&mut self, t: &str) -> String {
        match self.state {
            ThinkState::Passing => t.to_string(),
            ThinkState::Start => {
                self.buf.push_str(t);
                let head = self.buf.trim_start();
                if head.len() < "<think>".len() && "<think>".starts_with(head) {
                    return String::new();
                }
                if head.starts_with("<think>") {
                    self.state = ThinkState::Thinking;
                    return self.push("");
                }
                self.state = ThinkState::Passing;
                std::mem::take(&mut self.buf)
            }
            ThinkState::Thinking => {
                self.buf.push_str(t);
                match self.buf.find("</think>") {
                    Some(end) => {
                        let rest = self.buf[end + "</think>".len()..].trim_start().to_string();
                        self.buf.clear();
                        self.state = ThinkState::Start;
                        if rest.is_empty() { String::new() } else { self.push(&rest) }
                    }
                    None => String::new(),
                }
            }
        }
    }

    fn finish(&mut self) -> String {
        match self.state {
            ThinkState::Start => std::mem::take(&mut self.buf),
            _ => String::new(),
        }
    }
}

impl Engine for LlmEngine {
    fn name(&self) -> &str {
        self.inner.settings.kind.as_str()
    }

    fn translate<'a>(
        &'a self,
        request: TranslateRequest<'a>,
    ) -> BoxFuture<'a, Result<Vec<SegmentResult>, EngineError>> {
        Box::pin(self.run_translate(request))
    }

    fn stats(&self) -> EngineStats {
        let c = &self.inner.counters;
        EngineStats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            prompt_tokens: c.prompt_tokens.load(Ordering::Relaxed),
            output_tokens: c.output_tokens.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_blocks_are_filtered_from_streams() {
        let mut f = ThinkFilter::default();
        let mut out = String::new();
        for t in ["<th", "ink>reasoning", " more</thi", "nk>\n", "Bon", "jour"] {
            out.push_str(&f.push(t));
        }
        out.push_str(&f.finish());
        assert_eq!(out, "Bonjour");
        let mut g = ThinkFilter::default();
        let mut out = String::new();
        for t in ["<", "b>Hi</b>"] {
            out.push_str(&g.push(t));
        }
        out.push_str(&g.finish());
        assert_eq!(out, "<b>Hi</b>");
    }

    #[test]
    fn context_is_the_preceding_text_bounded() {
        let segs: Vec<Segment> = (0..5)
            .map(|i| Segment {
                id: i,
                content: Content::text(format!("Paragraph {i}.")),
                location: String::new(),
                field: String::new(),
            })
            .collect();
        assert_eq!(preceding_context(&segs, 0), Vec::<String>::new());
        assert_eq!(preceding_context(&segs, 2), vec!["Paragraph 0.", "Paragraph 1."]);
    }
}
