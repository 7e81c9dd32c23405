//! Service configuration: command-line flags that are also environment variables, checked once
//! at start-up into [`ServerSettings`].
//!
//! The names the deployment guides already use (`PORT`, `DATABASE_URL`, `MAX_UPLOAD_MB`,
//! `LOG_LEVEL`) stay as they are; Tradia's own settings are prefixed `TRADIA_`. A wrong value
//! stops start-up with a message naming the variable. `--check-config` prints the effective
//! configuration with secrets masked. Who may use the service (sign-in, the public address,
//! quotas, rate limits) is in [`access`].

pub mod access;
pub mod compat;
pub mod limits;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use tradia_core::redact_url;

pub use access::{AccessArgs, AccessSettings, AuthMode};
pub use compat::{CompatArgs, CompatSettings, Mount};
pub use limits::{DocumentLimitArgs, LimitArgs, WorkLimits};

/// Which translation engine the service drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// The configured LLM backends.
    Llm,
    /// Deterministic pseudo-translation, no model (trying the service, demonstrations).
    Pseudo,
}

/// `tradia serve` options.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TRADIA_HOST", default_value = "0.0.0.0")]
    pub host: String,
    /// Port to listen on.
    #[arg(long, env = "PORT", default_value_t = 8000)]
    pub port: u16,
    /// Folder holding the SQLite database and the uploaded and produced files.
    #[arg(long, env = "TRADIA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…`); default: SQLite file in the data folder.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Largest upload per request, in megabytes.
    #[arg(long, env = "MAX_UPLOAD_MB", default_value_t = 50)]
    pub max_upload_mb: u64,
    /// Most files in one document job.
    #[arg(long, env = "TRADIA_MAX_FILES", default_value_t = 20)]
    pub max_files: usize,
    /// Free space (megabytes) below which the data folder refuses new uploads, before the disk
    /// is full; `/healthz` says `low_disk_space` meanwhile (0: no threshold).
    #[arg(long, env = "TRADIA_MIN_FREE_MB", default_value_t = 200)]
    pub min_free_mb: u64,
    /// Seconds a client has to send a request's headers; also how long an idle keep-alive
    /// connection stays open.
    #[arg(long, env = "TRADIA_HEADER_TIMEOUT_SECS", default_value_t = 30)]
    pub header_timeout_secs: u64,
    /// Kilobytes per second a request body must average after the grace period (0: no minimum).
    #[arg(long, env = "TRADIA_BODY_MIN_RATE_KBPS", default_value_t = 16)]
    pub body_min_rate_kbps: u64,
    /// Seconds a request body is given before the minimum rate applies.
    #[arg(long, env = "TRADIA_BODY_GRACE_SECS", default_value_t = 30)]
    pub body_grace_secs: u64,
    /// Open client connections at most; more wait until one closes.
    #[arg(long, env = "TRADIA_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Work one upload may cause (segments per file and job, XML per document).
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Hours after which uploaded and produced files (and their jobs) are purged; translation
    /// memory entries are kept (deleting a job, a user or a purge by the owner removes them).
    #[arg(long, env = "TRADIA_RETENTION_HOURS", default_value_t = 24)]
    pub retention_hours: u64,
    /// Log filter (`error`, `warn`, `info`, `debug`, `trace`, or a tracing directive list).
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
    /// Serve `/metrics` on this separate address instead of the main port (e.g. 127.0.0.1:9100).
    #[arg(long, env = "TRADIA_METRICS_ADDR")]
    pub metrics_addr: Option<String>,
    /// Document jobs run at the same time by this process (0: none, API only).
    #[arg(long, env = "TRADIA_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Document jobs of one user running at once, across workers and replicas (0: no cap). A
    /// job keeps every LLM slot busy by itself: a user's second job would only take the worker
    /// that another user's job starts on, so by default each user's documents run one at a time
    /// while other users' run beside them.
    #[arg(long, env = "TRADIA_MAX_RUNNING_JOBS_PER_USER", default_value_t = 1)]
    pub max_running_jobs_per_user: u32,
    /// Seconds a job's lease lasts without renewal before another worker may take it over.
    #[arg(long, env = "TRADIA_JOB_LEASE_SECS", default_value_t = 60)]
    pub lease_secs: u64,
    /// Seconds graceful shutdown may take before the process exits anyway.
    #[arg(long, env = "TRADIA_SHUTDOWN_TIMEOUT", default_value_t = 20)]
    pub shutdown_timeout_secs: u64,
    /// Seconds between two attempts of a document job while every LLM server is unreachable.
    #[arg(long, env = "TRADIA_LLM_OUTAGE_PAUSE_SECS", default_value_t = 15)]
    pub outage_pause_secs: u64,
    /// Seconds a document job waits through an LLM outage before it fails with
    /// `llm_outage_too_long` (counted from when the job found no server answering).
    #[arg(long, env = "TRADIA_LLM_OUTAGE_MAX_SECS", default_value_t = 1800)]
    pub outage_max_secs: u64,
    /// Retired (replaced by `TRADIA_LLM_OUTAGE_MAX_SECS`): start-up stops when it is set.
    #[arg(long, env = "TRADIA_LLM_OUTAGE_PAUSES", hide = true)]
    pub retired_outage_pauses: Option<String>,
    /// A `done` job with more than this share (percent) of its segments kept as source is shown
    /// with a `mostly_kept` warning.
    #[arg(long, env = "TRADIA_MAX_KEPT_PERCENT", default_value_t = tradia_core::DEFAULT_MAX_KEPT_PERCENT)]
    pub max_kept_percent: u8,
    /// Scenari quiz answers (cloze gap answers, options, synonyms, short-answer values):
    /// `translate` them together, checked against each other, or `keep` them as they are.
    #[arg(long, env = "TRADIA_QUIZ_ANSWERS", default_value = "translate")]
    pub quiz_answers: String,
    /// Translation engine: `llm`, or `pseudo` to try the service without a model.
    #[arg(long = "engine", env = "TRADIA_ENGINE", value_enum, default_value_t = EngineKind::Llm)]
    pub engine_kind: EngineKind,
    /// Model for meeting summaries from images (default: the translation model).
    #[arg(long, env = "TRADIA_VISION_MODEL")]
    pub vision_model: Option<String>,
    /// Print the effective configuration (secrets masked) and exit.
    #[arg(long)]
    pub check_config: bool,
    /// LLM backends (Ollama or OpenAI-compatible).
    #[command(flatten)]
    pub llm: tradia_llm::LlmArgs,
    /// Sign-in, public address, quotas and rate limits.
    #[command(flatten)]
    pub access: Box<AccessArgs>,
    /// The LibreTranslate and DeepL APIs.
    #[command(flatten)]
    pub compat: CompatArgs,
}

/// Checked service settings.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Main listening address.
    pub listen: SocketAddr,
    /// Data folder.
    pub data_dir: PathBuf,
    /// Database URL (already defaulted).
    pub database_url: String,
    /// Upload limit per request, in bytes.
    pub max_upload_bytes: u64,
    /// Most files per job.
    pub max_files: usize,
    /// Free space below which uploads are refused, in bytes.
    pub min_free_bytes: u64,
    /// Timeouts, body rate and connection cap of the HTTP server.
    pub http: crate::http_server::HttpLimits,
    /// Segments per file and job, XML per document.
    pub limits: WorkLimits,
    /// How long inputs and outputs are kept.
    pub retention: Duration,
    /// Log filter.
    pub log_level: String,
    /// Separate metrics address, if any.
    pub metrics_addr: Option<SocketAddr>,
    /// Concurrent document jobs.
    pub workers: usize,
    /// Running jobs per user (0: no cap).
    pub max_running_jobs_per_user: u32,
    /// Job lease duration.
    pub lease: Duration,
    /// Graceful shutdown deadline.
    pub shutdown_timeout: Duration,
    /// Interval between a job's attempts while every LLM server is unreachable.
    pub outage_pause: Duration,
    /// Longest LLM outage a job waits through before it fails.
    pub outage_max: Duration,
    /// Share of kept segments (percent) over which a `done` job carries a warning.
    pub max_kept_percent: u8,
    /// Keep Scenari quiz answers as they are instead of translating them together.
    pub keep_quiz_answers: bool,
    /// Engine kind.
    pub engine: EngineKind,
    /// LLM settings (`None`: the pseudo engine only).
    pub llm: Option<tradia_llm::LlmSettings>,
    /// Model for image summaries.
    pub vision_model: Option<String>,
    /// Sign-in, public address, quotas and rate limits.
    pub access: AccessSettings,
    /// The LibreTranslate and DeepL APIs: on or off, prefixes, keyless mode.
    pub compat: CompatSettings,
}

/// A setting with a wrong value.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {message}")]
pub struct SettingsError {
    /// The variable (and flag) name.
    pub name: &'static str,
    /// What is wrong.
    pub message: String,
}

pub(crate) fn err(name: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError { name, message: message.into() }
}

impl ServeArgs {
    /// Checks every value; the error names the first wrong variable.
    pub fn settings(&self) -> Result<ServerSettings, SettingsError> {
        let listen: SocketAddr = format!("{}:{}", self.host, self.port)
            .parse()
            .or_else(|_| format!("[{}]:{}", self.host, self.port).parse())
            .map_err(|_| err("TRADIA_HOST", format!("`{}` is not an IP address", self.host)))?;
        if self.max_upload_mb == 0 {
            return Err(err("MAX_UPLOAD_MB", "must be at least 1"));
        }
        if self.max_files == 0 {
            return Err(err("TRADIA_MAX_FILES", "must be at least 1"));
        }
        if self.header_timeout_secs == 0 {
            return Err(err("TRADIA_HEADER_TIMEOUT_SECS", "must be at least 1"));
        }
        if self.max_connections == 0 {
            return Err(err("TRADIA_MAX_CONNECTIONS", "must be at least 1"));
        }
        if self.retention_hours == 0 {
            return Err(err("TRADIA_RETENTION_HOURS", "must be at least 1"));
        }
        if self.lease_secs < 3 {
            return Err(err("TRADIA_JOB_LEASE_SECS", "must be at least 3 seconds"));
        }
        if self.retired_outage_pauses.is_some() {
            return Err(err(
                "TRADIA_LLM_OUTAGE_PAUSES",
                "this setting is retired: a job now waits through an LLM outage for up to \
                 TRADIA_LLM_OUTAGE_MAX_SECS (default 1800), trying again every \
                 TRADIA_LLM_OUTAGE_PAUSE_SECS; remove it",
            ));
        }
        if self.outage_pause_secs == 0 {
            return Err(err("TRADIA_LLM_OUTAGE_PAUSE_SECS", "must be at least 1 second"));
        }
        if self.outage_max_secs == 0 {
            return Err(err("TRADIA_LLM_OUTAGE_MAX_SECS", "must be at least 1 second"));
        }
        if self.max_kept_percent > 100 {
            return Err(err("TRADIA_MAX_KEPT_PERCENT", "must be a percentage from 0 to 100"));
        }
        let keep_quiz_answers = match self.quiz_answers.trim().to_ascii_lowercase().as_str() {
            "translate" => false,
            "keep" => true,
            other => {
                return Err(err(
                    "TRADIA_QUIZ_ANSWERS",
                    format!("`{other}`: expected translate or keep"),
                ));
            }
        };
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .map_err(|e| err("LOG_LEVEL", format!("`{}`: {e}", self.log_level)))?;
        let metrics_addr = match &self.metrics_addr {
            Some(a) if !a.trim().is_empty() => Some(a.trim().parse().map_err(|_| {
                err("TRADIA_METRICS_ADDR", format!("`{a}` is not an address like 127.0.0.1:9100"))
            })?),
            _ => None,
        };
        let database_url = match &self.database_url {
            Some(url) if !url.trim().is_empty() => {
                let url = url.trim();
                if !(url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://"))
                {
                    return Err(err(
                        "DATABASE_URL",
                        format!("`{}`: expected sqlite:… or postgres://…", redact_url(url)),
                    ));
                }
                url.to_string()
            }
            _ => format!("sqlite://{}", self.data_dir.join("tradia.db").display()),
        };
        Ok(ServerSettings {
            listen,
            data_dir: self.data_dir.clone(),
            database_url,
            max_upload_bytes: self.max_upload_mb.saturating_mul(1024 * 1024),
            max_files: self.max_files,
            min_free_bytes: self.min_free_mb.saturating_mul(1024 * 1024),
            http: crate::http_server::HttpLimits {
                header_timeout: Duration::from_secs(self.header_timeout_secs),
                body_min_rate: self.body_min_rate_kbps.saturating_mul(1024),
                body_grace: Duration::from_secs(self.body_grace_secs),
                max_connections: self.max_connections,
            },
            limits: self.limits.settings()?,
            retention: Duration::from_secs(self.retention_hours.saturating_mul(3600)),
            log_level: self.log_level.clone(),
            metrics_addr,
            workers: self.workers,
            max_running_jobs_per_user: self.max_running_jobs_per_user,
            lease: Duration::from_secs(self.lease_secs),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_secs),
            outage_pause: Duration::from_secs(self.outage_pause_secs),
            outage_max: Duration::from_secs(self.outage_max_secs),
            max_kept_percent: self.max_kept_percent,
            keep_quiz_answers,
            engine: self.engine_kind,
            llm: Some(
                self.llm
                    .settings()
                    .map_err(|e| SettingsError { name: e.variable, message: e.message.clone() })?,
            ),
            vision_model: self.vision_model.clone().filter(|m| !m.trim().is_empty()),
            access: self.access.settings()?,
            compat: self.compat.settings()?,
        })
    }
}

impl ServerSettings {
    /// Settings for tests and embedding: listens on `127.0.0.1:0`, data in `data_dir`, in
    /// single-user mode (`TRADIA_AUTH=none`: tests that are not about accounts need no sign-in;
    /// those that are set [`ServerSettings::access`] themselves).
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: format!("sqlite://{}", data_dir.join("tradia.db").display()),
            data_dir,
            max_upload_bytes: 50 * 1024 * 1024,
            max_files: 20,
            min_free_bytes: 0,
            http: crate::http_server::HttpLimits::default(),
            limits: WorkLimits::default(),
            retention: Duration::from_secs(24 * 3600),
            log_level: "info".into(),
            metrics_addr: None,
            workers: 2,
            max_running_jobs_per_user: 1,
            lease: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(10),
            outage_pause: Duration::from_secs(15),
            outage_max: Duration::from_secs(1800),
            max_kept_percent: tradia_core::DEFAULT_MAX_KEPT_PERCENT,
            keep_quiz_answers: false,
            engine: EngineKind::Pseudo,
            llm: None,
            vision_model: None,
            access: AccessSettings::single_user(),
            compat: CompatSettings::default(),
        }
    }

    /// Test settings driving the LLM engine at `base_url` (an Ollama-compatible server).
    pub fn for_tests_with_ollama(
        data_dir: impl Into<PathBuf>,
        base_url: &str,
        model: &str,
    ) -> Self {
        let mut s = Self::for_tests(data_dir);
        s.engine = EngineKind::Llm;
        s.llm = Some(tradia_llm::LlmSettings::for_ollama(base_url, model));
        s
    }

    /// The effective configuration, one `NAME=value` per line, secrets masked.
    pub fn describe(&self) -> String {
        let lines = [
            ("listen (TRADIA_HOST, PORT)", self.listen.to_string()),
            ("TRADIA_DATA_DIR", self.data_dir.display().to_string()),
            ("DATABASE_URL", redact_url(&self.database_url)),
            ("MAX_UPLOAD_MB", (self.max_upload_bytes / (1024 * 1024)).to_string()),
            ("TRADIA_MAX_FILES", self.max_files.to_string()),
            ("TRADIA_MIN_FREE_MB", (self.min_free_bytes / (1024 * 1024)).to_string()),
            ("TRADIA_HEADER_TIMEOUT_SECS", self.http.header_timeout.as_secs().to_string()),
            ("TRADIA_BODY_MIN_RATE_KBPS", (self.http.body_min_rate / 1024).to_string()),
            ("TRADIA_BODY_GRACE_SECS", self.http.body_grace.as_secs().to_string()),
            ("TRADIA_MAX_CONNECTIONS", self.http.max_connections.to_string()),
            ("TRADIA_RETENTION_HOURS", (self.retention.as_secs() / 3600).to_string()),
            ("LOG_LEVEL", self.log_level.clone()),
            (
                "TRADIA_METRICS_ADDR",
                self.metrics_addr.map_or("(main port)".into(), |a| a.to_string()),
            ),
            ("TRADIA_WORKERS", self.workers.to_string()),
            ("TRADIA_MAX_RUNNING_JOBS_PER_USER", self.max_running_jobs_per_user.to_string()),
            ("TRADIA_JOB_LEASE_SECS", self.lease.as_secs().to_string()),
            ("TRADIA_SHUTDOWN_TIMEOUT", self.shutdown_timeout.as_secs().to_string()),
            ("TRADIA_LLM_OUTAGE_PAUSE_SECS", self.outage_pause.as_secs().to_string()),
            ("TRADIA_LLM_OUTAGE_MAX_SECS", self.outage_max.as_secs().to_string()),
            ("TRADIA_MAX_KEPT_PERCENT", self.max_kept_percent.to_string()),
            (
                "TRADIA_QUIZ_ANSWERS",
                if self.keep_quiz_answers { "keep" } else { "translate" }.to_string(),
            ),
            (
                "TRADIA_ENGINE",
                match self.engine {
                    EngineKind::Llm => "llm".into(),
                    EngineKind::Pseudo => "pseudo".into(),
                },
            ),
        ];
        let own: String = lines
            .into_iter()
            .chain(self.limits.describe())
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        own + &self.access.describe() + &self.compat.describe()
    }
}

/// Masks a secret for display: `(set, 12 characters)` or `(not set)`.
pub fn mask_secret(secret: Option<&str>) -> String {
    match secret {
        Some(s) if !s.is_empty() => format!("*** (set, {} characters)", s.chars().count()),
        _ => "(not set)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn masks_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://u:pw@h/db?password=pw2"),
            "postgres://u:***@h/db?password=***"
        );
        assert_eq!(
            redact_url("postgres://tradia:s3cret@db:5432/t"),
            "postgres://tradia:***@db:5432/t"
        );
        assert_eq!(redact_url("postgres://db/t"), "postgres://db/t");
        assert_eq!(redact_url("sqlite://./data/tradia.db"), "sqlite://./data/tradia.db");
        assert_eq!(redact_url("postgres://u:p@ss@h/x"), "postgres://u:***@h/x");
    }

    #[test]
    fn defaults_and_errors() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        let s = cli.serve.settings().unwrap();
        assert_eq!(s.listen.port(), 8000);
        assert!(s.database_url.starts_with("sqlite://"));
        assert_eq!(s.outage_max, Duration::from_secs(1800));
        assert!(!s.keep_quiz_answers, "quiz answers are translated by default");
        let cli = Cli::try_parse_from(["x", "--quiz-answers", "Keep"]).unwrap();
        assert!(cli.serve.settings().unwrap().keep_quiz_answers);
        let cli = Cli::try_parse_from(["x", "--quiz-answers", "maybe"]).unwrap();
        let e = cli.serve.settings().unwrap_err();
        assert_eq!(e.name, "TRADIA_QUIZ_ANSWERS");
        assert!(e.message.contains("translate or keep"), "{e}");
        let cli = Cli::try_parse_from(["x", "--retired-outage-pauses", "20"]).unwrap();
        let e = cli.serve.settings().unwrap_err();
        assert_eq!(e.name, "TRADIA_LLM_OUTAGE_PAUSES");
        assert!(e.message.contains("TRADIA_LLM_OUTAGE_MAX_SECS"), "{e}");
        let cli = Cli::try_parse_from(["x", "--outage-max-secs", "0"]).unwrap();
        assert_eq!(cli.serve.settings().unwrap_err().name, "TRADIA_LLM_OUTAGE_MAX_SECS");
        let cli = Cli::try_parse_from(["x", "--max-upload-mb", "0"]).unwrap();
        assert_eq!(cli.serve.settings().unwrap_err().name, "MAX_UPLOAD_MB");
        let cli = Cli::try_parse_from(["x", "--database-url", "mysql://u:pw@h/d"]).unwrap();
        let e = cli.serve.settings().unwrap_err();
        assert_eq!(e.name, "DATABASE_URL");
        assert!(!e.to_string().contains("pw"));
        let cli =
            Cli::try_parse_from(["x", "--database-url", "mysql://u:pw@h/d?password=pw2"]).unwrap();
        let e = cli.serve.settings().unwrap_err().to_string();
        assert!(!e.contains("pw"), "{e}");
    }

    #[test]
    fn describe_masks_database_password() {
        let mut s = ServerSettings::for_tests("/tmp/x");
        s.database_url = "postgres://a:topsecret@h/db".into();
        let text = s.describe();
        assert!(text.contains("DATABASE_URL=postgres://a:***@h/db"));
        assert!(!text.contains("topsecret"));
    }
}
