//! Connection and engine settings, from flags and the environment variables the deployment
//! guides already use.
//!
//! [`LlmArgs`] is a clap `Args` struct meant to be flattened into the command line and the
//! server; every flag is also an environment variable. Values stay strings there and are checked
//! by [`LlmArgs::settings`], so that a wrong value stops the program with a message naming the
//! variable (`OLLAMA_TIMEOUT: "2m" is not a number of seconds`) instead of a generic parse error.
//! The API keys are [`SecretString`]s from the moment they are read: `Debug` shows them redacted
//! and no error message contains them. URLs (servers, proxies) may carry a password too: `Debug`
//! and the error messages show them through [`redact_url`].

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use secrecy::SecretString;
use tradia_core::redact_url;

mod debug;

/// Which API the backends speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// Ollama's native API (`/api/chat`).
    Ollama,
    /// An OpenAI-compatible server (`/v1/chat/completions`: vLLM, llama.cpp, LM Studio…).
    Openai,
}

impl EngineKind {
    /// Lower-case name (`ollama`, `openai`).
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Ollama => "ollama",
            EngineKind::Openai => "openai",
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ollama" => Ok(EngineKind::Ollama),
            "openai" | "openai-compatible" | "vllm" => Ok(EngineKind::Openai),
            other => Err(format!("`{other}` is not an engine (expected ollama or openai)")),
        }
    }
}

/// How an API key is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthScheme {
    /// HTTP Basic with user `api` and the key as password (the split-server guide's proxy).
    Basic,
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// `X-API-Key: <key>`.
    XApiKey,
}

impl FromStr for AuthScheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "basic" => Ok(AuthScheme::Basic),
            "bearer" => Ok(AuthScheme::Bearer),
            "x-api-key" | "x_api_key" | "xapikey" | "header" => Ok(AuthScheme::XApiKey),
            other => Err(format!(
                "`{other}` is not an authentication scheme (expected basic, bearer or x-api-key)"
            )),
        }
    }
}

/// A wrong setting: names the variable (and its flag) and says what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} (--{flag}): {message}")]
pub struct SettingsError {
    /// The environment variable.
    pub variable: &'static str,
    /// The command-line flag, without dashes.
    pub flag: &'static str,
    /// What is wrong.
    pub message: String,
}

impl SettingsError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        "invalid_llm_setting"
    }
}

fn secret_parser(s: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(s.to_string()))
}

/// LLM connection flags, each also an environment variable. Flatten it with `#[command(flatten)]`.
#[derive(Clone, Args)]
pub struct LlmArgs {
    /// Which API the LLM servers speak: ollama (native API) or openai (OpenAI-compatible).
    #[arg(long = "llm-engine", env = "TRADIA_LLM_ENGINE", default_value = "ollama")]
    pub engine: String,
    /// Ollama server URL; several servers as a comma-separated list.
    #[arg(
        long = "ollama-base-url",
        env = "OLLAMA_BASE_URL",
        default_value = "http://localhost:11434"
    )]
    pub ollama_base_url: String,
    /// Model used for translation.
    #[arg(long = "ollama-model", env = "OLLAMA_MODEL", default_value = "mistral-small3.2:latest")]
    pub ollama_model: String,
    /// Seconds allowed for one request to the LLM server.
    #[arg(long = "ollama-timeout", env = "OLLAMA_TIMEOUT", default_value = "120")]
    pub ollama_timeout: String,
    /// Retries of a failed request (429, 5xx, timeouts, broken connections).
    #[arg(long = "ollama-max-retries", env = "OLLAMA_MAX_RETRIES", default_value = "3")]
    pub ollama_max_retries: String,
    /// API key for the Ollama server (or the proxy in front of it).
    #[arg(long = "ollama-api-key", env = "OLLAMA_API_KEY", hide_env_values = true, value_parser = secret_parser)]
    pub ollama_api_key: Option<SecretString>,
    /// How the API key is sent: basic (user `api`), bearer, or x-api-key.
    #[arg(long = "llm-auth", env = "TRADIA_LLM_AUTH", default_value = "basic")]
    pub llm_auth: String,
    /// Extra CA certificates (PEM bundle) trusted for the LLM servers (internal PKI).
    #[arg(long = "llm-ca-bundle", env = "TRADIA_LLM_CA_BUNDLE")]
    pub llm_ca_bundle: Option<PathBuf>,
    /// Proxy for http:// LLM URLs (by default the HTTP_PROXY/http_proxy variables are honoured).
    #[arg(long = "http-proxy", env = "HTTP_PROXY")]
    pub http_proxy: Option<String>,
    /// Proxy for https:// LLM URLs.
    #[arg(long = "https-proxy", env = "HTTPS_PROXY")]
    pub https_proxy: Option<String>,
    /// Hosts reached without proxy (comma-separated: host names, domains, IPs, CIDR ranges).
    #[arg(long = "no-proxy", env = "NO_PROXY")]
    pub no_proxy: Option<String>,
    /// Segments per request at most.
    #[arg(long = "batch-size", env = "BATCH_SIZE", default_value = "10")]
    pub batch_size: String,
    /// Several segments per request (on) or one segment per request (off, for small models).
    #[arg(long = "llm-batching", env = "TRADIA_LLM_BATCHING", default_value = "on")]
    pub batching: String,
    /// OpenAI-compatible server URL, including `/v1`; several as a comma-separated list.
    #[arg(
        long = "openai-base-url",
        env = "OPENAI_BASE_URL",
        default_value = "http://localhost:8000/v1"
    )]
    pub openai_base_url: String,
    /// API key for the OpenAI-compatible server (sent as Bearer).
    #[arg(long = "openai-api-key", env = "OPENAI_API_KEY", hide_env_values = true, value_parser = secret_parser)]
    pub openai_api_key: Option<SecretString>,
    /// Model for the OpenAI-compatible server (default: OLLAMA_MODEL).
    #[arg(long = "openai-model", env = "OPENAI_MODEL")]
    pub openai_model: Option<String>,
    /// Requests in flight per backend (set it to the server's parallel slots, e.g. OLLAMA_NUM_PARALLEL).
    #[arg(long = "llm-slots", env = "TRADIA_LLM_SLOTS", default_value = "4")]
    pub slots: String,
    /// Context size sent with every Ollama request (identical on each, so the model is never reloaded).
    #[arg(long = "llm-num-ctx", env = "TRADIA_LLM_NUM_CTX", default_value = "8192")]
    pub num_ctx: String,
    /// Longest segment sent to the model in one piece, in characters: a longer one is sent in
    /// parts of whole sentences (of whole words for a sentence longer than that).
    #[arg(long = "max-segment-chars", env = "TRADIA_MAX_SEGMENT_CHARS", default_value = "4000")]
    pub max_segment_chars: String,
}

impl Default for LlmArgs {
    fn default() -> Self {
        LlmArgs {
            engine: "ollama".into(),
            ollama_base_url: "http://localhost:11434".into(),
            ollama_model: "mistral-small3.2:latest".into(),
            ollama_timeout: "120".into(),
            ollama_max_retries: "3".into(),
            ollama_api_key: None,
            llm_auth: "basic".into(),
            llm_ca_bundle: None,
            http_proxy: None,
            https_proxy: None,
            no_proxy: None,
            batch_size: "10".into(),
            batching: "on".into(),
            openai_base_url: "http://localhost:8000/v1".into(),
            openai_api_key: None,
            openai_model: None,
            slots: "4".into(),
            num_ctx: "8192".into(),
            max_segment_chars: "4000".into(),
        }
    }
}

/// One LLM server.
#[derive(Clone)]
pub struct BackendSettings {
    /// Its API.
    pub kind: EngineKind,
    /// Base URL without trailing slash (`http://host:11434`, `https://host/v1`).
    pub base_url: String,
    /// Credential, if any.
    pub api_key: Option<SecretString>,
    /// How the credential is sent.
    pub auth: AuthScheme,
}

/// Validated settings of the LLM engine.
#[derive(Clone)]
pub struct LlmSettings {
    /// The API the backends speak.
    pub kind: EngineKind,
    /// The servers, tried in turn when one fails.
    pub backends: Vec<BackendSettings>,
    /// Model name.
    pub model: String,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Retries of a transient failure.
    pub max_retries: u32,
    /// First retry delay (doubles each time, with jitter).
    pub retry_base_delay: Duration,
    /// Segments per request at most (1 when batching is off).
    pub batch_size: usize,
    /// Requests in flight per backend.
    pub slots: usize,
    /// Context size (Ollama `options.num_ctx`).
    pub num_ctx: u32,
    /// Output tokens one batch may ask for (batches are cut to stay under it).
    pub output_budget: u32,
    /// Longest segment sent in one piece, in characters (rendered bytes, which are never fewer):
    /// a longer one is cut at sentence boundaries, then between words (`TRADIA_MAX_SEGMENT_CHARS`).
    pub max_segment_chars: usize,
    /// Extra trusted CA certificates (PEM), read from the bundle file.
    pub ca_pem: Option<Vec<u8>>,
    /// Explicit proxy for http:// URLs (None: the environment is honoured by the HTTP client).
    pub http_proxy: Option<String>,
    /// Explicit proxy for https:// URLs.
    pub https_proxy: Option<String>,
    /// Hosts reached directly.
    pub no_proxy: Option<String>,
    /// Sampling temperature for translation.
    pub temperature: f32,
    /// Repetition penalty sent to Ollama (`options.repeat_penalty`, over the last 64 tokens);
    /// 1.0 turns it off. Curbs the loops a small model falls into.
    pub repeat_penalty: f32,
    /// `frequency_penalty` sent to OpenAI-compatible servers (the standard parameter: llama.cpp
    /// applies it over its last 64 tokens, vLLM over the whole answer); 0 turns it off.
    pub frequency_penalty: f32,
    /// Consecutive backend failures that open its circuit breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker first stays open before one probe request (doubled after each
    /// failed probe, up to `breaker_max_cooldown`).
    pub breaker_cooldown: Duration,
    /// The longest an open breaker waits between two probes (60 s).
    pub breaker_max_cooldown: Duration,
}

/// Ollama's own default repetition penalty, sent explicitly so that a Modelfile cannot turn
/// it off.
pub const DEFAULT_REPEAT_PENALTY: f32 = 1.1;
/// A mild frequency penalty: enough to push a model out of a loop, too little to make it
/// avoid words a translation must repeat.
pub const DEFAULT_FREQUENCY_PENALTY: f32 = 0.2;

impl LlmSettings {
    /// Settings for one Ollama server at `base_url` with model `model` and defaults otherwise
    /// (nothing is checked: a malformed URL is reported when requests are made).
    pub fn for_ollama(base_url: &str, model: &str) -> Self {
        LlmSettings {
            kind: EngineKind::Ollama,
            backends: vec![BackendSettings {
                kind: EngineKind::Ollama,
                base_url: base_url.trim_end_matches('/').to_string(),
                api_key: None,
                auth: AuthScheme::Basic,
            }],
            model: model.to_string(),
            timeout: Duration::from_secs(120),
            max_retries: 3,
            retry_base_delay: Duration::from_millis(500),
            batch_size: 10,
            slots: 4,
            num_ctx: 8192,
            output_budget: 2048,
            max_segment_chars: 4000,
            ca_pem: None,
            http_proxy: None,
            https_proxy: None,
            no_proxy: None,
            temperature: 0.1,
            repeat_penalty: DEFAULT_REPEAT_PENALTY,
            frequency_penalty: DEFAULT_FREQUENCY_PENALTY,
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(5),
            breaker_max_cooldown: Duration::from_secs(60),
        }
    }

    /// Settings for one OpenAI-compatible server at `base_url` (including `/v1`).
    pub fn for_openai(base_url: &str, model: &str) -> Self {
        let mut s = Self::for_ollama(base_url, model);
        s.kind = EngineKind::Openai;
        s.backends[0].kind = EngineKind::Openai;
        s.backends[0].auth = AuthScheme::Bearer;
        s
    }
}

fn err(variable: &'static str, flag: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError { variable, flag, message: message.into() }
}

fn parse_urls(
    raw: &str,
    variable: &'static str,
    flag: &'static str,
) -> Result<Vec<String>, SettingsError> {
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let parsed = reqwest::Url::parse(part).map_err(|e| {
            err(variable, flag, format!("`{}` is not a URL ({e})", redact_url(part)))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(err(
                variable,
                flag,
                format!("`{}` must be an http:// or https:// URL with a host", redact_url(part)),
            ));
        }
        out.push(part.trim_end_matches('/').to_string());
    }
    if out.is_empty() {
        return Err(err(variable, flag, "no URL given"));
    }
    Ok(out)
}

fn parse_num<T: FromStr>(
    raw: &str,
    variable: &'static str,
    flag: &'static str,
    what: &str,
) -> Result<T, SettingsError> {
    raw.trim()
        .parse::<T>()
        .map_err(|_| err(variable, flag, format!("`{}` is not {what}", raw.trim())))
}

impl LlmArgs {
    /// Checks every value and builds the settings; the error names the first wrong variable.
    pub fn settings(&self) -> Result<LlmSettings, SettingsError> {
        let kind: EngineKind =
            self.engine.parse().map_err(|m: String| err("TRADIA_LLM_ENGINE", "llm-engine", m))?;
        let auth: AuthScheme =
            self.llm_auth.parse().map_err(|m: String| err("TRADIA_LLM_AUTH", "llm-auth", m))?;
        let timeout_s: f64 = parse_num(
            &self.ollama_timeout,
            "OLLAMA_TIMEOUT",
            "ollama-timeout",
            "a number of seconds",
        )?;
        if !(timeout_s.is_finite() && timeout_s > 0.0 && timeout_s <= 86_400.0) {
            return Err(err(
                "OLLAMA_TIMEOUT",
                "ollama-timeout",
                "must be between 0 and 86400 seconds",
            ));
        }
        let max_retries: u32 = parse_num(
            &self.ollama_max_retries,
            "OLLAMA_MAX_RETRIES",
            "ollama-max-retries",
            "a whole number",
        )?;
        if max_retries > 20 {
            return Err(err("OLLAMA_MAX_RETRIES", "ollama-max-retries", "must be at most 20"));
        }
        let mut batch_size: usize =
            parse_num(&self.batch_size, "BATCH_SIZE", "batch-size", "a whole number")?;
        if !(1..=200).contains(&batch_size) {
            return Err(err("BATCH_SIZE", "batch-size", "must be between 1 and 200"));
        }
        let batching = match self.batching.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => true,
            "off" | "false" | "0" | "no" | "single" => false,
            other => {
                return Err(err(
                    "TRADIA_LLM_BATCHING",
                    "llm-batching",
                    format!("`{other}` is not on or off"),
                ));
            }
        };
        if !batching {
            batch_size = 1;
        }
        let slots: usize =
            parse_num(&self.slots, "TRADIA_LLM_SLOTS", "llm-slots", "a whole number")?;
        if !(1..=1024).contains(&slots) {
            return Err(err("TRADIA_LLM_SLOTS", "llm-slots", "must be between 1 and 1024"));
        }
        let max_segment_chars: usize = parse_num(
            &self.max_segment_chars,
            "TRADIA_MAX_SEGMENT_CHARS",
            "max-segment-chars",
            "a whole number of characters",
        )?;
        if max_segment_chars < 200 {
            return Err(err(
                "TRADIA_MAX_SEGMENT_CHARS",
                "max-segment-chars",
                "must be at least 200 characters",
            ));
        }
        let num_ctx: u32 = parse_num(
            &self.num_ctx,
            "TRADIA_LLM_NUM_CTX",
            "llm-num-ctx",
            "a whole number of tokens",
        )?;
        if !(1024..=1_048_576).contains(&num_ctx) {
            return Err(err(
                "TRADIA_LLM_NUM_CTX",
                "llm-num-ctx",
                "must be between 1024 and 1048576 tokens",
            ));
        }
        let model = match kind {
            EngineKind::Openai => {
                self.openai_model.clone().unwrap_or_else(|| self.ollama_model.clone())
            }
            EngineKind::Ollama => self.ollama_model.clone(),
        };
        if model.trim().is_empty() {
            return Err(err("OLLAMA_MODEL", "ollama-model", "no model name given"));
        }
        let backends = match kind {
            EngineKind::Ollama => {
                parse_urls(&self.ollama_base_url, "OLLAMA_BASE_URL", "ollama-base-url")?
                    .into_iter()
                    .map(|base_url| BackendSettings {
                        kind,
                        base_url,
                        api_key: self.ollama_api_key.clone(),
                        auth,
                    })
                    .collect()
            }
            EngineKind::Openai => {
                parse_urls(&self.openai_base_url, "OPENAI_BASE_URL", "openai-base-url")?
                    .into_iter()
                    .map(|base_url| BackendSettings {
                        kind,
                        base_url,
                        api_key: self.openai_api_key.clone(),
                        auth: AuthScheme::Bearer,
                    })
                    .collect()
            }
        };
        let ca_pem = match &self.llm_ca_bundle {
            None => None,
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    err(
                        "TRADIA_LLM_CA_BUNDLE",
                        "llm-ca-bundle",
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                reqwest::Certificate::from_pem_bundle(&bytes).map_err(|e| {
                    err(
                        "TRADIA_LLM_CA_BUNDLE",
                        "llm-ca-bundle",
                        format!("{} is not a PEM bundle: {e}", path.display()),
                    )
                })?;
                if !String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") {
                    return Err(err(
                        "TRADIA_LLM_CA_BUNDLE",
                        "llm-ca-bundle",
                        format!("{} holds no PEM certificate", path.display()),
                    ));
                }
                Some(bytes)
            }
        };
        let check_proxy = |v: &Option<String>, variable: &'static str, flag: &'static str| match v
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(None),
            Some(p) => reqwest::Url::parse(p).map(|_| Some(p.to_string())).map_err(|e| {
                err(variable, flag, format!("`{}` is not a URL ({e})", redact_url(p)))
            }),
        };
        let http_proxy = check_proxy(&self.http_proxy, "HTTP_PROXY", "http-proxy")?;
        let https_proxy = check_proxy(&self.https_proxy, "HTTPS_PROXY", "https-proxy")?;
        Ok(LlmSettings {
            kind,
            backends,
            model: model.trim().to_string(),
            timeout: Duration::from_secs_f64(timeout_s),
            max_retries,
            retry_base_delay: Duration::from_millis(500),
            batch_size,
            slots,
            num_ctx,
            output_budget: (num_ctx / 4).clamp(256, 2048),
            max_segment_chars,
            ca_pem,
            http_proxy,
            https_proxy,
            no_proxy: self.no_proxy.clone().filter(|s| !s.trim().is_empty()),
            temperature: 0.1,
            repeat_penalty: DEFAULT_REPEAT_PENALTY,
            frequency_penalty: DEFAULT_FREQUENCY_PENALTY,
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(5),
            breaker_max_cooldown: Duration::from_secs(60),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use secrecy::ExposeSecret;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        llm: LlmArgs,
    }

    fn parse(args: &[&str]) -> LlmArgs {
        let mut all = vec!["tradia"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap().llm
    }

    #[test]
    fn defaults_match_the_deployment_guides() {
        let s = LlmArgs::default().settings().unwrap();
        assert_eq!(s.kind, EngineKind::Ollama);
        assert_eq!(s.backends.len(), 1);
        assert_eq!(s.backends[0].base_url, "http://localhost:11434");
        assert_eq!(s.backends[0].auth, AuthScheme::Basic);
        assert_eq!(s.model, "mistral-small3.2:latest");
        assert_eq!(s.timeout, Duration::from_secs(120));
        assert_eq!(s.max_retries, 3);
        assert_eq!(s.batch_size, 10);
        assert_eq!(s.slots, 4);
    }

    #[test]
    fn programmatic_defaults_equal_the_flag_defaults() {
        let a = LlmArgs::default().settings().unwrap();
        let b = LlmSettings::for_ollama("http://localhost:11434", "mistral-small3.2:latest");
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn flags_are_parsed_and_several_backends_listed() {
        let a = parse(&[
            "--ollama-base-url",
            "http://gpu1:11434/, http://gpu2:11434",
            "--ollama-api-key",
            "s3cret",
            "--llm-auth",
            "x-api-key",
            "--llm-batching",
            "off",
            "--llm-slots",
            "8",
        ]);
        let s = a.settings().unwrap();
        assert_eq!(s.backends.len(), 2);
        assert_eq!(s.backends[0].base_url, "http://gpu1:11434");
        assert_eq!(s.backends[1].auth, AuthScheme::XApiKey);
        assert_eq!(s.backends[1].api_key.as_ref().unwrap().expose_secret(), "s3cret");
        assert_eq!(s.batch_size, 1);
        assert_eq!(s.slots, 8);
    }

    #[test]
    fn wrong_values_name_their_variable() {
        let cases: [(&[&str], &str); 7] = [
            (&["--ollama-timeout", "2m"], "OLLAMA_TIMEOUT"),
            (&["--ollama-max-retries=-1"], "OLLAMA_MAX_RETRIES"),
            (&["--batch-size", "0"], "BATCH_SIZE"),
            (&["--llm-auth", "kerberos"], "TRADIA_LLM_AUTH"),
            (&["--ollama-base-url", "localhost:11434"], "OLLAMA_BASE_URL"),
            (&["--llm-slots", "many"], "TRADIA_LLM_SLOTS"),
            (&["--llm-engine", "gpt"], "TRADIA_LLM_ENGINE"),
        ];
        for (args, var) in cases {
            let e = parse(args).settings().unwrap_err();
            assert_eq!(e.variable, var, "{args:?}");
            assert!(e.to_string().starts_with(var), "{e}");
        }
    }

    #[test]
    fn the_key_never_shows_in_debug_or_errors() {
        let a = parse(&["--ollama-api-key", "hunter2-key", "--ollama-timeout", "x"]);
        assert!(!format!("{a:?}").contains("hunter2-key"));
        let e = a.settings().unwrap_err();
        assert!(!e.to_string().contains("hunter2-key"));
        let s = parse(&["--ollama-api-key", "hunter2-key"]).settings().unwrap();
        assert!(!format!("{s:?}").contains("hunter2-key"));
        let e = parse(&["--ollama-base-url", "http://api:hunter2-key@"]).settings().unwrap_err();
        assert!(!e.to_string().contains("hunter2-key"), "{e}");
    }

    #[test]
    fn openai_kind_uses_its_own_url_and_bearer() {
        let s = parse(&["--llm-engine", "openai", "--openai-base-url", "https://vllm.local/v1"])
            .settings()
            .unwrap();
        assert_eq!(s.kind, EngineKind::Openai);
        assert_eq!(s.backends[0].base_url, "https://vllm.local/v1");
        assert_eq!(s.backends[0].auth, AuthScheme::Bearer);
    }

    #[test]
    fn a_missing_or_invalid_ca_bundle_is_refused() {
        let e = parse(&["--llm-ca-bundle", "/nonexistent/ca.pem"]).settings().unwrap_err();
        assert_eq!(e.variable, "TRADIA_LLM_CA_BUNDLE");
    }
}
