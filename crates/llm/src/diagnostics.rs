//! `tradia check` and `tradia models`: what is wrong with the LLM configuration, in plain words.
//!
//! A DSI deploying Tradia next to (or far from) its GPU server meets the same few problems: the
//! server is not reachable, its certificate is not trusted, the key is refused, the model is not
//! pulled, the context is too small for the batches. [`check`] tries each step in order for every
//! backend and says which one failed and what to change, naming the variable; its last step is
//! a real structured translation, which reports the context per slot the server gives, whether
//! the JSON schema is enforced, and the speed in tokens per second.
//!
//! Dependencies point one way: this module reads the engine ([`LlmEngine::settings`],
//! [`LlmEngine::backends`]) and the backends; the engine knows nothing of it.

use std::fmt;

use crate::answer::{Alignment, align, parse_translations};
use crate::backend::{ChatRequest, ModelInfo};
use crate::engine::LlmEngine;
use crate::error::LlmError;
use crate::prompt;
use crate::settings::EngineKind;

/// How a check line went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// Fine.
    Ok,
    /// Works, but something should be changed.
    Warning,
    /// Does not work.
    Error,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckLine {
    /// How it went.
    pub status: CheckStatus,
    /// What was found, in plain words.
    pub message: String,
}

/// Everything `check` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Findings in order.
    pub lines: Vec<CheckLine>,
}

impl CheckReport {
    /// True when nothing is an error.
    pub fn ok(&self) -> bool {
        self.lines.iter().all(|l| l.status != CheckStatus::Error)
    }

    fn push(&mut self, status: CheckStatus, message: impl Into<String>) {
        self.lines.push(CheckLine { status, message: message.into() });
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            let tag = match l.status {
                CheckStatus::Ok => "ok   ",
                CheckStatus::Warning => "warn ",
                CheckStatus::Error => "ERROR",
            };
            writeln!(f, "{tag} {}", l.message)?;
        }
        if self.ok() {
            writeln!(f, "The LLM configuration works.")
        } else {
            writeln!(f, "The LLM configuration does not work: see the ERROR lines above.")
        }
    }
}

/// Explains a failed request in plain words, naming what to change.
pub fn explain(e: &LlmError, kind: EngineKind) -> String {
    let (url_var, key_var) = match kind {
        EngineKind::Ollama => {
            ("OLLAMA_BASE_URL", "OLLAMA_API_KEY (and TRADIA_LLM_AUTH: basic, bearer or x-api-key)")
        }
        EngineKind::Openai => ("OPENAI_BASE_URL", "OPENAI_API_KEY"),
    };
    match e {
        LlmError::Unreachable { url, detail } => format!(
            "cannot reach the LLM server at {url}: is it running, and is {url_var} right? A proxy in \
             HTTP_PROXY/HTTPS_PROXY may also be in the way (NO_PROXY lists hosts reached directly). ({detail})"
        ),
        LlmError::Tls { url, detail } => format!(
            "TLS error with {url}: its certificate is not trusted or not valid for this name. For an \
             internal certificate authority, set TRADIA_LLM_CA_BUNDLE to its PEM file. ({detail})"
        ),
        LlmError::Timeout { url, seconds } => format!(
            "{url} did not answer within {seconds} s (OLLAMA_TIMEOUT): the server may be overloaded or \
             a firewall may drop the connection"
        ),
        LlmError::Http { url, status: 401 | 403, .. } => {
            format!("{url} refused the credentials (HTTP 401/403): check {key_var}")
        }
        LlmError::Http { url, status: 404, message, .. } => format!(
            "{url} answered 404 ({message}): check that {url_var} points at the server itself{}",
            if kind == EngineKind::Openai {
                " and ends with /v1"
            } else {
                " (without /api or /v1)"
            }
        ),
        other => other.to_string(),
    }
}

fn model_matches(available: &str, wanted: &str) -> bool {
    let norm = |s: &str| if s.contains(':') { s.to_string() } else { format!("{s}:latest") };
    available == wanted || norm(available) == norm(wanted)
}

/// Context a batch needs: system prompt + batch input + context + batch output, with margin.
pub fn needed_context(settings: &crate::settings::LlmSettings) -> u32 {
    let system = (prompt::BATCH_SYSTEM.len() as u32).div_ceil(4);
    let input = settings.output_budget / 2 + 200;
    system + input + settings.output_budget + 64
}

/// Plain-words diagnostics of the configuration (what `tradia check` prints): runs the checks
/// against every backend of `engine`.
pub async fn check(engine: &LlmEngine) -> CheckReport {
    let mut report = CheckReport::default();
    let settings = engine.settings();
    let model = settings.model.as_str();
    let needed = needed_context(settings);
    if settings.num_ctx < needed {
        report.push(
            CheckStatus::Error,
            format!(
                "TRADIA_LLM_NUM_CTX={} is too small for batches of {} segments: at least {needed} tokens are needed \
                 (raise TRADIA_LLM_NUM_CTX or lower BATCH_SIZE)",
                settings.num_ctx, settings.batch_size
            ),
        );
    }
    for b in engine.backends() {
        let url = b.url();
        // 1. Reachable, TLS, authentication: listing models needs all three.
        let models = match b.models().await {
            Ok(m) => m,
            Err(e) => {
                report.push(CheckStatus::Error, explain(&e, b.kind()));
                continue;
            }
        };
        match b.version().await {
            Ok(Some(v)) => report
                .push(CheckStatus::Ok, format!("{url} answers (Ollama {v}), credentials accepted")),
            _ => report.push(CheckStatus::Ok, format!("{url} answers, credentials accepted")),
        }
        // 2. The model.
        if !models.iter().any(|m| model_matches(&m.name, model)) {
            let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).take(10).collect();
            let how = match b.kind() {
                EngineKind::Ollama => {
                    format!("run `ollama pull {model}` on the server, or set OLLAMA_MODEL")
                }
                EngineKind::Openai => {
                    "set OPENAI_MODEL (or OLLAMA_MODEL) to a model the server serves".to_string()
                }
            };
            report.push(
                CheckStatus::Error,
                format!(
                    "model {model} is not available on {url} ({how}); available: {}",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ),
            );
            continue;
        }
        report.push(CheckStatus::Ok, format!("model {model} is available on {url}"));
        // 3. The context per slot the server gives, and a real structured translation in it.
        let (ctx, from) = match b.context_size(model).await {
            Ok(Some(n)) => (n, "reported by the server"),
            _ => (settings.num_ctx, "configured, TRADIA_LLM_NUM_CTX"),
        };
        let minimum = crate::engine::fixed_prompt_tokens() + 256;
        if ctx < minimum {
            report.push(
                CheckStatus::Error,
                format!(
                    "{url} gives a context of {ctx} tokens per slot ({from}): too small for Tradia's \
                     requests, which need at least {minimum}. Raise it on the server (llama-server: \
                     --ctx-size = slots x per-slot context; Ollama: TRADIA_LLM_NUM_CTX)"
                ),
            );
            continue;
        }
        trial_translation(&mut report, b, settings, ctx, from).await;
        // 4. Ollama: what the model supports, and what it runs with if loaded.
        if b.kind() == EngineKind::Ollama {
            if let Ok(details) = b.show(model).await
                && let Some(trained) = details.context_length
                && (trained as u32) < settings.num_ctx
            {
                report.push(
                    CheckStatus::Error,
                    format!(
                        "model {model} supports a context of {trained} tokens, less than TRADIA_LLM_NUM_CTX={}: \
                         lower TRADIA_LLM_NUM_CTX (at least {needed} is needed) or choose another model",
                        settings.num_ctx
                    ),
                );
            }
            if let Ok(running) = b.running().await
                && let Some(r) = running.iter().find(|r| model_matches(&r.name, model))
            {
                if let Some(ctx) = r.context_length
                    && ctx < u64::from(needed)
                {
                    report.push(
                        CheckStatus::Warning,
                        format!(
                            "{model} is loaded on {url} with a context of {ctx} tokens, too small for batches \
                             (needs {needed}); Tradia sends num_ctx={} which reloads it once",
                            settings.num_ctx
                        ),
                    );
                }
                if let (Some(size), Some(vram)) = (r.size, r.size_vram)
                    && vram < size
                {
                    report.push(
                        CheckStatus::Warning,
                        format!(
                            "{model} is only {}% in GPU memory on {url}: it will be slow (lower \
                             OLLAMA_NUM_PARALLEL or the context on the server)",
                            vram * 100 / size.max(1)
                        ),
                    );
                }
            }
        }
    }
    report
}

/// Sends one small batch the way a translation does and reports how it went.
async fn trial_translation(
    report: &mut CheckReport,
    b: &crate::backend::Backend,
    settings: &crate::settings::LlmSettings,
    ctx: u32,
    from: &str,
) {
    let url = b.url();
    let segments = [
        prompt::WireSegment {
            id: "1".into(),
            text: "Bonjour tout le monde.",
            examples: &[],
            note: None,
        },
        prompt::WireSegment {
            id: "2".into(),
            text: "Merci beaucoup pour votre aide.",
            examples: &[],
            note: None,
        },
    ];
    let req = ChatRequest {
        model: settings.model.clone(),
        system: prompt::BATCH_SYSTEM.to_string(),
        user: prompt::batch_user_message(
            "French",
            "English",
            &[],
            &segments,
            false,
            &serde_json::Map::new(),
        ),
        images: Vec::new(),
        schema: Some(prompt::translations_schema().clone()),
        max_tokens: 160,
        temperature: settings.temperature,
    };
    let started = std::time::Instant::now();
    let outcome = match b.chat(&req).await {
        Ok(o) => o,
        Err(e) if e.is_context_overflow() => {
            report.push(
                CheckStatus::Error,
                format!(
                    "{url} refused a small translation request: its context ({ctx} tokens per slot, \
                     {from}) is too small ({e})"
                ),
            );
            return;
        }
        Err(e) => {
            report.push(
                CheckStatus::Error,
                format!("a trial translation failed on {url}: {}", explain(&e, b.kind())),
            );
            return;
        }
    };
    let seconds = outcome.busy.unwrap_or_else(|| started.elapsed()).as_secs_f64().max(1e-3);
    let tps = outcome.output_tokens.map(|n| n as f64 / seconds);
    let schema = if outcome.structured && !b.schema_refused() {
        "JSON schema enforced"
    } else {
        "JSON schema NOT enforced (the server refused response_format: answers are checked and \
         repaired, expect more re-asked segments)"
    };
    let speed = tps.map_or_else(|| "speed unknown".to_string(), |t| format!("{t:.1} tokens/s"));
    let ids = ["1".to_string(), "2".to_string()];
    let parsed = parse_translations(&outcome.content);
    let enforced = outcome.structured && !b.schema_refused();
    let (aligned, answer) = match align(&ids, &parsed, false) {
        Alignment::Aligned(_) => (true, "answered in the batch format".to_string()),
        Alignment::Misaligned(how) => (false, format!("answered with the wrong ids ({how})")),
        _ => (false, "did not answer in the batch format".to_string()),
    };
    let status = if aligned && enforced { CheckStatus::Ok } else { CheckStatus::Warning };
    report.push(
        status,
        format!(
            "a trial translation on {url} {answer}: context of {ctx} tokens per slot ({from}), \
             {schema}, {speed}"
        ),
    );
}

/// Why `tradia models` / `tradia check` could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// A wrong setting (names the variable).
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    /// The servers could not be asked (explained in plain words).
    #[error("{0}")]
    Llm(String),
}

impl CommandError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::Settings(e) => e.code(),
            CommandError::Llm(_) => "llm_unavailable",
        }
    }
}

/// `tradia models`: the models the configured servers offer, one per line, ready to print.
pub async fn models_command(args: &crate::settings::LlmArgs) -> Result<String, CommandError> {
    let settings = args.settings()?;
    let kind = settings.kind;
    let engine = LlmEngine::new(settings).map_err(|e| CommandError::Llm(explain(&e, kind)))?;
    let models = engine.models().await.map_err(|e| CommandError::Llm(explain(&e, kind)))?;
    if models.is_empty() {
        return Ok(
            "The server offers no model (pull one, e.g. `ollama pull mistral-small3.2`).\n".into()
        );
    }
    Ok(format_models(&models))
}

/// `tradia check`: the report to print; the command should exit non-zero when
/// [`CheckReport::ok`] is false.
pub async fn check_command(args: &crate::settings::LlmArgs) -> Result<CheckReport, CommandError> {
    let settings = args.settings()?;
    let kind = settings.kind;
    let engine = LlmEngine::new(settings).map_err(|e| CommandError::Llm(explain(&e, kind)))?;
    Ok(check(&engine).await)
}

/// A printable list of models (what `tradia models` prints).
pub fn format_models(models: &[ModelInfo]) -> String {
    let mut out = String::new();
    for m in models {
        let mut extra = Vec::new();
        if let Some(p) = &m.parameter_size {
            extra.push(p.clone());
        }
        if let Some(q) = &m.quantization {
            extra.push(q.clone());
        }
        if let Some(s) = m.size {
            extra.push(format!("{:.1} GB", s as f64 / 1e9));
        }
        if extra.is_empty() {
            out.push_str(&format!("{}\n", m.name));
        } else {
            out.push_str(&format!("{}  ({})\n", m.name, extra.join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_match_with_or_without_latest() {
        assert!(model_matches("mistral-small3.2:latest", "mistral-small3.2"));
        assert!(model_matches("mistral-small3.2", "mistral-small3.2:latest"));
        assert!(!model_matches("mistral-small3.2:24b", "mistral-small3.2"));
    }

    #[test]
    fn errors_are_explained_with_the_variable_to_change() {
        let e = LlmError::Http {
            url: "http://x".into(),
            status: 401,
            message: "unauthorized".into(),
            retry_after: None,
        };
        assert!(explain(&e, EngineKind::Ollama).contains("OLLAMA_API_KEY"));
        let e = LlmError::Tls { url: "https://x".into(), detail: "UnknownIssuer".into() };
        assert!(explain(&e, EngineKind::Ollama).contains("TRADIA_LLM_CA_BUNDLE"));
        let e = LlmError::Unreachable { url: "http://x".into(), detail: "refused".into() };
        assert!(explain(&e, EngineKind::Openai).contains("OPENAI_BASE_URL"));
    }
}
