//! [`LlmEngine`]: documents in, validated translations out, one segment at a time.
//!
//! This module holds the engine itself (backends, scheduler, counters), single completions
//! with retries ([`LlmEngine::call`]), streamed text, structured completions for the
//! assistants, and the `tradia_core::Engine` implementation. The translation of documents in
//! batches, with its repair ladder, lives in `batch`, with `budget` (what of the context a
//! batch takes), `guarded` (batch requests streamed under a runaway guard) and `split` (a
//! segment too long for the context cut at sentences); quiz terms (a cloze gap's answer and
//! options) in `quiz`, one request per group; the removal of thinking from token streams in
//! `think`.
//!
//! Transport failures are retried with exponential backoff and jitter; a request refused for
//! good (401, unknown model) or a backend that stays down fails the whole call with an
//! [`EngineError`] instead of filling a document with kept sources.

mod batch;
mod budget;
mod examples;
mod guarded;
mod notes;
mod quiz;
mod split;
mod terms;
mod think;

pub(crate) use budget::fixed_prompt_tokens;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use think::ThinkFilter;

use backon::BackoffBuilder;
use futures::stream::{BoxStream, StreamExt};
use serde_json::Value;
use tradia_core::{
    BoxFuture, CancelFlag, Engine, EngineError, EngineStats, LanguageTag, Priority, SegmentResult,
    TranslateRequest,
};

use crate::answer::extract_json;
use crate::backend::{Backend, ChatOutcome, ChatRequest, ModelInfo, StreamEvent, build_client};
use crate::error::LlmError;
use crate::prompt;
use crate::scheduler::{Outcome, Scheduler, SlotStats};
use crate::settings::LlmSettings;

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
    cut_answers: AtomicU64,
    wasted_tokens: AtomicU64,
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
    /// Batch answers cut while streaming (a repetition loop, or longer than the sources allow).
    pub cut_answers: u64,
    /// Output tokens of answers cut or stopped at the output limit: generated for nothing, or
    /// mostly so.
    pub wasted_tokens: u64,
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
    /// The context per slot, once the servers said (or said they do not say).
    context: std::sync::Mutex<Option<u32>>,
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
            .with_max_cooldown(settings.breaker_max_cooldown)
            .with_no_backend_wait(settings.timeout);
        Ok(LlmEngine {
            inner: std::sync::Arc::new(Inner {
                settings,
                backends,
                sched,
                counters: Counters::default(),
                context: std::sync::Mutex::new(None),
            }),
        })
    }

    /// The context per slot requests must fit in: the smallest the servers report
    /// ([`Backend::context_size`]), else the configured `num_ctx`. Asked once, when every
    /// server answered; until then (a server down) the configured size is used.
    pub async fn context_size(&self) -> u32 {
        if let Some(n) = self.cached_context() {
            return n;
        }
        let s = &self.inner.settings;
        let wait = s.timeout.min(Duration::from_secs(10));
        let mut smallest: Option<u32> = None;
        let mut all_answered = true;
        for b in &self.inner.backends {
            match tokio::time::timeout(wait, b.context_size(&s.model)).await {
                Ok(Ok(Some(n))) => smallest = Some(smallest.map_or(n, |m| m.min(n))),
                Ok(Ok(None)) => {}
                _ => all_answered = false,
            }
        }
        let n = smallest.unwrap_or(s.num_ctx);
        if all_answered || smallest.is_some() {
            *self.inner.context.lock().unwrap_or_else(|e| e.into_inner()) = Some(n);
        }
        n
    }

    /// The context size known now, without asking: see [`LlmEngine::context_size`].
    pub fn known_context(&self) -> u32 {
        self.cached_context().unwrap_or(self.inner.settings.num_ctx)
    }

    fn cached_context(&self) -> Option<u32> {
        *self.inner.context.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Since when every backend has been out of service (each circuit breaker open or only
    /// probing), `None` while one serves. Cheap (no request): for health reports.
    pub fn all_down_since(&self) -> Option<std::time::SystemTime> {
        self.inner.sched.all_down_since()
    }

    /// Requests waiting for a slot now.
    pub fn queued(&self) -> usize {
        self.inner.sched.queued()
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
            cut_answers: c.cut_answers.load(Ordering::Relaxed),
            wasted_tokens: c.wasted_tokens.load(Ordering::Relaxed),
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

    /// Runs one completion through the scheduler with retries (non-streaming), in a lane of its
    /// own among `owner`'s requests.
    pub async fn call(
        &self,
        req: &ChatRequest,
        priority: Priority,
        owner: &str,
        cancel: &CancelFlag,
    ) -> Result<ChatOutcome, LlmError> {
        let mut delays = self.backoff();
        let lane = self.inner.sched.lane();
        loop {
            let mut permit = self.inner.sched.acquire(priority, owner, lane, cancel).await?;
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
                Err(e) => {
                    let d = self.retry_delay(&e, &mut delays).ok_or(e)?;
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = cancelled(cancel) => return Err(LlmError::Cancelled),
                    }
                }
            }
        }
    }

    /// How long to wait before trying `e`'s request again, counted as a retry; `None` when it
    /// is not retryable or the retries are spent.
    fn retry_delay(
        &self,
        e: &LlmError,
        delays: &mut impl Iterator<Item = Duration>,
    ) -> Option<Duration> {
        if !e.is_retryable() {
            return None;
        }
        let d = delays.next()?;
        let d = e.retry_after().map_or(d, |ra| ra.max(d)).min(Duration::from_secs(60));
        tracing::warn!(error = %e, delay_ms = d.as_millis() as u64, "LLM request failed; retrying");
        self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
        Some(d)
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
                // The build of a llama-server (its simulator says so there).
                crate::settings::EngineKind::Openai => match b.models().await {
                    Ok(_) => Ok(b.build_info().await),
                    Err(e) => Err(e),
                },
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

    /// Streams the translation of a plain text, token by token (interactive priority, taking
    /// turns with other owners: `owner` is the user's id).
    pub fn translate_text_stream(
        &self,
        text: &str,
        source: Option<LanguageTag>,
        target: LanguageTag,
        model: Option<&str>,
        owner: &str,
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
        self.stream_call(req, owner.to_string(), CancelFlag::new())
    }

    /// Streams a completion's answer text (retrying until the first token is out), with
    /// `<think>` blocks removed; interactive priority, in a lane of its own among `owner`'s
    /// requests.
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
            let lane = engine.inner.sched.lane();
            loop {
                // A reader that went away while this waited in the queue costs nothing.
                let acquired = tokio::select! {
                    p = engine.inner.sched.acquire(Priority::Interactive, &owner, lane, &cancel) => p,
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
    /// JSON object with the schema's required properties. `owner` (the user's id) takes turns
    /// with other users' interactive requests.
    pub async fn complete_structured(
        &self,
        system: &str,
        user: &str,
        schema: &Value,
        images: Vec<String>,
        model: Option<&str>,
        owner: &str,
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
            let out = self.call(&req, Priority::Interactive, owner, &cancel).await?;
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
}

async fn cancelled(flag: &CancelFlag) {
    while !flag.is_cancelled() {
        tokio::time::sleep(Duration::from_millis(20)).await;
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
        Box::pin(self.translate_with_quiz(request))
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
