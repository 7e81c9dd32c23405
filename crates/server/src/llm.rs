//! The bridge to the LLM crate: [`LlmGateway`] over [`tradia_llm::LlmEngine`].
//!
//! One engine per model: the engine translates documents with the model of its settings, so a
//! job asking for another model gets (and keeps, for the life of the process) an engine built
//! from the same settings with that model.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use futures::StreamExt;
use tradia_core::{BoxFuture, Engine, EngineStats, redact_url};
use tradia_llm::{ChatRequest, LlmEngine, LlmError, LlmSettings};

use crate::gateway::{
    GatewayError, LlmGateway, ModelInfo, StructuredRequest, TextRequest, TokenSender,
};
use crate::settings::{ServerSettings, mask_secret};

/// The service's gateway over the configured LLM backends.
pub struct LlmBackends {
    default: LlmEngine,
    settings: LlmSettings,
    vision_model: Option<String>,
    per_model: Mutex<HashMap<String, LlmEngine>>,
    /// Set when a health check found `tradia simulate-llm` behind a backend (its version
    /// carries the `tradia-simulator` tag).
    simulated: AtomicBool,
}

/// The pre-release tag of the version the simulator reports.
const SIMULATOR_TAG: &str = "tradia-simulator";

impl LlmBackends {
    /// Builds the engine (no network access yet).
    pub fn new(settings: LlmSettings, vision_model: Option<String>) -> anyhow::Result<Self> {
        let default = LlmEngine::new(settings.clone())?;
        Ok(LlmBackends {
            default,
            settings,
            vision_model,
            per_model: Mutex::new(HashMap::new()),
            simulated: AtomicBool::new(false),
        })
    }

    fn engine_for(&self, model: Option<&str>) -> LlmEngine {
        let Some(model) = model.filter(|m| !m.trim().is_empty() && *m != self.settings.model)
        else {
            return self.default.clone();
        };
        let Ok(mut cache) = self.per_model.lock() else { return self.default.clone() };
        if let Some(engine) = cache.get(model) {
            return engine.clone();
        }
        let mut settings = self.settings.clone();
        settings.model = model.to_string();
        match LlmEngine::new(settings) {
            Ok(engine) => {
                cache.insert(model.to_string(), engine.clone());
                engine
            }
            Err(e) => {
                tracing::error!(model, error = %e, "cannot build an engine for this model; using the default");
                self.default.clone()
            }
        }
    }
}

fn gateway_error(e: LlmError) -> GatewayError {
    match e {
        LlmError::Answer(m) => GatewayError::InvalidAnswer(m),
        e if e.is_backend_failure() || e.is_retryable() => GatewayError::Unavailable(e.to_string()),
        e => GatewayError::Rejected(e.to_string()),
    }
}

impl LlmGateway for LlmBackends {
    fn backend_name(&self) -> String {
        self.settings.kind.as_str().to_string()
    }

    fn default_model(&self) -> String {
        self.settings.model.clone()
    }

    fn models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, GatewayError>> {
        Box::pin(async move {
            let models = self.default.models().await.map_err(gateway_error)?;
            let backend = self.backend_name();
            Ok(models
                .into_iter()
                .map(|m| ModelInfo {
                    default: m.name == self.settings.model,
                    name: m.name,
                    backend: backend.clone(),
                })
                .collect())
        })
    }

    fn health(&self) -> BoxFuture<'_, Result<(), GatewayError>> {
        Box::pin(async move {
            let report = self.default.health().await;
            let simulator = report
                .iter()
                .any(|b| b.version.as_deref().is_some_and(|v| v.contains(SIMULATOR_TAG)));
            if simulator {
                self.simulated.store(true, Ordering::Relaxed);
            }
            if report.iter().any(|b| b.reachable) {
                return Ok(());
            }
            let reasons: Vec<String> = report
                .iter()
                .map(|b| format!("{}: {}", b.url, b.error.clone().unwrap_or_default()))
                .collect();
            Err(GatewayError::Unavailable(reasons.join("; ")))
        })
    }

    /// Reads the default engine's scheduler (the engines of other models have their own
    /// breakers over the same backends, and open on the same outage).
    fn all_backends_down(&self) -> bool {
        let slots = self.default.detailed_stats().slots;
        !slots.is_empty()
            && slots
                .iter()
                .all(|s| !matches!(s.breaker, tradia_llm::scheduler::BreakerState::Closed))
    }

    fn engine(&self, model: Option<&str>) -> Arc<dyn Engine> {
        Arc::new(self.engine_for(model))
    }

    fn stats(&self) -> EngineStats {
        let mut total = self.default.stats();
        if let Ok(cache) = self.per_model.lock() {
            for engine in cache.values() {
                let s = engine.stats();
                total.requests += s.requests;
                total.retries += s.retries;
                total.prompt_tokens += s.prompt_tokens;
                total.output_tokens += s.output_tokens;
            }
        }
        total
    }

    fn simulated(&self) -> bool {
        self.simulated.load(Ordering::Relaxed)
    }

    fn unreachable(&self) -> bool {
        // The scheduler's breakers: open (or probing) on every backend means none answered lately.
        let slots = self.default.detailed_stats().slots;
        !slots.is_empty()
            && slots
                .iter()
                .all(|s| !matches!(s.breaker, tradia_llm::scheduler::BreakerState::Closed))
    }

    fn export_metrics(&self) {
        let detailed = self.default.detailed_stats();
        metrics::counter!("tradia_llm_busy_seconds_total")
            .absolute(detailed.busy_seconds.max(0.0) as u64);
        metrics::counter!("tradia_llm_responses_total").absolute(detailed.responses);
        metrics::counter!("tradia_segments_repaired_total").absolute(detailed.repaired);
        metrics::counter!("tradia_segments_resent_total").absolute(detailed.resent);
        for (backend, slots) in self.default.backends().iter().zip(&detailed.slots) {
            let url = redact_url(backend.url());
            metrics::gauge!("tradia_llm_in_flight", "backend" => url.clone())
                .set(slots.in_flight as f64);
            metrics::gauge!("tradia_llm_slots", "backend" => url.clone()).set(slots.slots as f64);
            metrics::counter!("tradia_llm_dispatched_total", "backend" => url.clone())
                .absolute(slots.dispatched);
            let open = !matches!(slots.breaker, tradia_llm::scheduler::BreakerState::Closed);
            metrics::gauge!("tradia_llm_breaker_open", "backend" => url).set(if open {
                1.0
            } else {
                0.0
            });
        }
    }

    fn all_down_since(&self) -> Option<std::time::SystemTime> {
        // Every engine (one per model) drives the same backends: the earliest outage any of
        // them has seen.
        let mut since = self.default.all_down_since();
        if let Ok(cache) = self.per_model.lock() {
            for t in cache.values().filter_map(LlmEngine::all_down_since) {
                since = Some(since.map_or(t, |s| s.min(t)));
            }
        }
        since
    }

    fn translate_text(
        &self,
        request: TextRequest,
        tokens: Option<TokenSender>,
    ) -> BoxFuture<'_, Result<String, GatewayError>> {
        Box::pin(async move {
            let mut stream = self.default.translate_text_stream(
                &request.text,
                request.source,
                request.target,
                request.model.as_deref(),
                &request.owner,
            );
            let mut out = String::new();
            while let Some(piece) = stream.next().await {
                let piece = piece.map_err(gateway_error)?;
                if let Some(t) = &tokens {
                    let _ = t.send(piece.clone());
                }
                out.push_str(&piece);
            }
            Ok(out.trim().to_string())
        })
    }

    fn complete_structured(
        &self,
        request: StructuredRequest,
        tokens: Option<TokenSender>,
    ) -> BoxFuture<'_, Result<serde_json::Value, GatewayError>> {
        Box::pin(async move {
            let b64 = base64::engine::general_purpose::STANDARD;
            let images: Vec<String> = request.images.iter().map(|i| b64.encode(i)).collect();
            let model = match (&request.model, images.is_empty(), &self.vision_model) {
                (Some(m), _, _) => Some(m.clone()),
                (None, false, Some(v)) => Some(v.clone()),
                _ => None,
            };
            let Some(tokens) = tokens else {
                return self
                    .default
                    .complete_structured(
                        &request.system,
                        &request.prompt,
                        &request.schema,
                        images,
                        model.as_deref(),
                        &request.owner,
                    )
                    .await
                    .map_err(gateway_error);
            };
            // Streaming: forward the answer as it is written, then read it; an unusable answer
            // is asked again through the engine's tolerant, retrying path.
            let required: Vec<String> = request
                .schema
                .get("required")
                .and_then(|r| r.as_array())
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let settings = self.default.settings();
            let chat = ChatRequest {
                model: model.clone().unwrap_or_else(|| settings.model.clone()),
                system: request.system.clone(),
                user: request.prompt.clone(),
                images: images.clone(),
                schema: Some(request.schema.clone()),
                max_tokens: (settings.num_ctx / 2).max(512),
                temperature: settings.temperature,
            };
            let mut stream = self.default.stream_call(
                chat,
                request.owner.clone(),
                tradia_core::CancelFlag::new(),
            );
            let mut answer = String::new();
            while let Some(piece) = stream.next().await {
                let piece = piece.map_err(gateway_error)?;
                let _ = tokens.send(piece.clone());
                answer.push_str(&piece);
            }
            if let Some(v) = tradia_llm::answer::extract_json(&answer)
                && required.iter().all(|k| v.get(k).is_some())
            {
                return Ok(v);
            }
            self.default
                .complete_structured(
                    &request.system,
                    &request.prompt,
                    &request.schema,
                    images,
                    model.as_deref(),
                    &request.owner,
                )
                .await
                .map_err(gateway_error)
        })
    }
}

/// The gateway over the configured LLM backends.
pub fn gateway_from_settings(settings: &ServerSettings) -> anyhow::Result<Arc<dyn LlmGateway>> {
    let llm = settings.llm.clone().ok_or_else(|| {
        anyhow::anyhow!("no LLM settings; use TRADIA_ENGINE=pseudo to run without")
    })?;
    Ok(Arc::new(LlmBackends::new(llm, settings.vision_model.clone())?))
}

/// The LLM part of `--check-config`, secrets masked.
pub fn describe_llm_settings(settings: &ServerSettings) -> String {
    let Some(llm) = &settings.llm else { return String::new() };
    let mut out = String::new();
    out.push_str(&format!("TRADIA_LLM_ENGINE={}\n", llm.kind.as_str()));
    for (i, b) in llm.backends.iter().enumerate() {
        let key = b.api_key.as_ref().map(|k| secrecy::ExposeSecret::expose_secret(k).to_string());
        out.push_str(&format!(
            "backend[{i}]={} (api key: {}, auth: {:?})\n",
            redact_url(&b.base_url),
            mask_secret(key.as_deref()),
            b.auth
        ));
    }
    out.push_str(&format!("model={}\n", llm.model));
    out.push_str(&format!(
        "TRADIA_VISION_MODEL={}\n",
        settings.vision_model.clone().unwrap_or_else(|| "(the model)".into())
    ));
    out.push_str(&format!("OLLAMA_TIMEOUT={}\n", llm.timeout.as_secs_f64()));
    out.push_str(&format!("OLLAMA_MAX_RETRIES={}\n", llm.max_retries));
    out.push_str(&format!("BATCH_SIZE={}\n", llm.batch_size));
    out.push_str(&format!("TRADIA_LLM_SLOTS={}\n", llm.slots));
    out.push_str(&format!("TRADIA_LLM_NUM_CTX={}\n", llm.num_ctx));
    out.push_str(&format!(
        "HTTP_PROXY={}\nHTTPS_PROXY={}\nNO_PROXY={}\n",
        llm.http_proxy.as_deref().map_or("(not set)".into(), redact_url),
        llm.https_proxy.as_deref().map_or("(not set)".into(), redact_url),
        llm.no_proxy.as_deref().unwrap_or("(not set)")
    ));
    out.push_str(&format!(
        "TRADIA_LLM_CA_BUNDLE={}\n",
        if llm.ca_pem.is_some() { "(set)" } else { "(not set)" }
    ));
    out
}
