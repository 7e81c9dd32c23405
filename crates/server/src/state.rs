//! What every handler and worker shares: settings, the language-model gateway, the job store,
//! the progress event hub, the rate limiters, the OpenID client and the shutdown token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;
use tradia_core::CancelFlag;
use tradia_store::{JobId, User};

use crate::access::RateLimits;
use crate::accounts::oidc::OidcState;
use crate::error::{ApiError, ErrorCode};
use crate::gateway::{LlmGateway, ModelInfo};
use crate::jobs::model::{JobNotice, JobStatus, JobView};
use crate::jobs::repo::JobRepo;
use crate::settings::ServerSettings;

/// How long a health or model-list answer is reused.
const CACHE_TTL: Duration = Duration::from_secs(5);

/// Shared service state.
pub struct AppState {
    /// Checked settings.
    pub settings: Arc<ServerSettings>,
    /// Language-model features.
    pub gateway: Arc<dyn LlmGateway>,
    /// Jobs, segments and files.
    pub jobs: JobRepo,
    /// Job snapshots published as they change (SSE subscribers filter by id).
    pub events: broadcast::Sender<Arc<JobView>>,
    /// Cancelled when the service shuts down.
    pub shutdown: CancellationToken,
    /// Woken when a job is queued, so an idle worker starts at once.
    pub job_queued: Notify,
    /// Request rate limits per user and per address.
    pub rate_limits: RateLimits,
    /// The one local user of single-user mode (`TRADIA_AUTH=none`), set at start-up.
    pub single_user: OnceLock<User>,
    /// The one-time first-start set-up token, while no administrator exists.
    pub setup_token: Mutex<Option<String>>,
    /// Single sign-on through OpenID Connect, when enabled.
    pub oidc: Option<OidcState>,
    /// The cached storage write probe (`/healthz`, `/readyz`).
    pub storage: crate::health::StorageProbe,
    /// Cancel flags of the jobs this process is running.
    running: Mutex<HashMap<JobId, CancelFlag>>,
    models: Mutex<Option<(Instant, Vec<ModelInfo>)>>,
    llm_health: Mutex<Option<(Instant, Result<(), String>)>>,
}

impl AppState {
    /// Assembles the state.
    pub fn new(settings: ServerSettings, gateway: Arc<dyn LlmGateway>, jobs: JobRepo) -> Self {
        let (events, _) = broadcast::channel(1024);
        let rate_limits = RateLimits::new(&settings.access);
        let oidc = OidcState::from_settings(&settings);
        let jobs = jobs.with_max_kept_percent(settings.max_kept_percent);
        AppState {
            settings: Arc::new(settings),
            gateway,
            jobs,
            events,
            shutdown: CancellationToken::new(),
            job_queued: Notify::new(),
            rate_limits,
            single_user: OnceLock::new(),
            setup_token: Mutex::new(None),
            oidc,
            storage: crate::health::StorageProbe::default(),
            running: Mutex::new(HashMap::new()),
            models: Mutex::new(None),
            llm_health: Mutex::new(None),
        }
    }

    /// Publishes a job snapshot to its SSE subscribers.
    pub fn publish(&self, mut job: JobView) {
        self.annotate(&mut job);
        let _ = self.events.send(Arc::new(job));
    }

    /// Sets the job's `notice`: why a job that should move does not, from what this process
    /// can see now (the model's backends, the lease of the worker holding the job).
    pub fn annotate(&self, job: &mut JobView) {
        job.notice = match job.status {
            JobStatus::Running if self.lease_abandoned(job) => Some(JobNotice::Resuming),
            JobStatus::Running if self.gateway.unreachable() => Some(JobNotice::WaitingForModel),
            JobStatus::Running if job.attempts > 1 => Some(JobNotice::Resumed),
            // Put back in the queue by a shutdown, or by a worker whose lease ran out.
            JobStatus::Queued if job.attempts > 0 => Some(JobNotice::Resuming),
            _ => None,
        };
    }

    /// True when the worker holding a running job has missed two renewals of its lease (it
    /// renews every third of the lease): it is gone, and the job waits for its lease to run out.
    fn lease_abandoned(&self, job: &JobView) -> bool {
        let Some(expires) = job.lease_expires_at else { return false };
        let left = expires - time::OffsetDateTime::now_utc();
        left < self.settings.lease / 3
    }

    /// Notes that this process runs job `id`, stopped by raising `cancel`.
    pub fn track_running(&self, id: JobId, cancel: CancelFlag) {
        if let Ok(mut running) = self.running.lock() {
            running.insert(id, cancel);
        }
    }

    /// Notes that this process no longer runs job `id`.
    pub fn untrack_running(&self, id: JobId) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&id);
        }
    }

    /// Raises the cancel flag of job `id` if this process runs it.
    pub fn cancel_running(&self, id: JobId) {
        if let Some(flag) = self.running.lock().ok().and_then(|r| r.get(&id).cloned()) {
            flag.cancel();
        }
    }

    /// Keeps the model list for validation.
    pub fn remember_models(&self, models: &[ModelInfo]) {
        if let Ok(mut cache) = self.models.lock() {
            *cache = Some((Instant::now(), models.to_vec()));
        }
    }

    /// Checks a requested model against the backends' list; `None` means the default.
    /// When the list cannot be fetched the name is accepted: the request then fails (or the
    /// job waits) on the backend, with its own message.
    pub async fn check_model(&self, model: Option<&str>) -> Result<Option<String>, ApiError> {
        let Some(model) = model.map(str::trim).filter(|m| !m.is_empty()) else {
            return Ok(None);
        };
        let cached = self.models.lock().ok().and_then(|c| {
            c.as_ref().filter(|(t, _)| t.elapsed() < CACHE_TTL).map(|(_, m)| m.clone())
        });
        let models = match cached {
            Some(m) => m,
            None => match self.gateway.models().await {
                Ok(m) => {
                    self.remember_models(&m);
                    m
                }
                Err(e) => {
                    tracing::warn!(error = %e, model, "model list unavailable; accepting the model name");
                    return Ok(Some(model.to_string()));
                }
            },
        };
        if models.iter().any(|m| m.name == model) {
            Ok(Some(model.to_string()))
        } else {
            let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
            Err(ApiError::new(
                ErrorCode::UnknownModel,
                format!("unknown model `{model}`; available: {}", names.join(", ")),
            ))
        }
    }

    /// Records one LLM call's duration and outcome.
    pub fn record_llm(&self, kind: &str, started: Instant, ok: bool) {
        let backend = self.gateway.backend_name();
        metrics::histogram!("tradia_llm_request_duration_seconds", "backend" => backend.clone(), "kind" => kind.to_string())
            .record(started.elapsed().as_secs_f64());
        if !ok {
            metrics::counter!("tradia_llm_errors_total", "backend" => backend, "kind" => kind.to_string())
                .increment(1);
        }
    }

    /// Ok when the database answers.
    pub async fn check_database(&self) -> Result<(), String> {
        match tokio::time::timeout(Duration::from_secs(3), self.jobs.ping()).await {
            Ok(r) => r,
            Err(_) => Err("no answer within 3 s".into()),
        }
    }

    /// Ok when the language model answers (cached for a few seconds).
    pub async fn check_llm(&self) -> Result<(), String> {
        if let Some((_, r)) = self
            .llm_health
            .lock()
            .ok()
            .and_then(|c| c.clone().filter(|(t, _)| t.elapsed() < CACHE_TTL))
        {
            return r;
        }
        let result = match tokio::time::timeout(Duration::from_secs(3), self.gateway.health()).await
        {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("no answer within 3 s".into()),
        };
        if let Ok(mut c) = self.llm_health.lock() {
            *c = Some((Instant::now(), result.clone()));
        }
        result
    }

    /// Updates the gauges read at scrape time: jobs by state, queue depth, engine counters.
    pub async fn refresh_gauges(&self) {
        if let Ok(counts) = self.jobs.count_by_status().await {
            for (status, n) in &counts.counts {
                metrics::gauge!("tradia_jobs", "state" => status.as_str()).set(*n as f64);
            }
            metrics::gauge!("tradia_queue_depth")
                .set(counts.get(tradia_store::JobStatus::Queued) as f64);
        }
        self.gateway.export_metrics();
        let stats = self.gateway.stats();
        metrics::counter!("tradia_llm_requests_total").absolute(stats.requests);
        metrics::counter!("tradia_llm_retries_total").absolute(stats.retries);
        metrics::counter!("tradia_tokens_translated_total").absolute(stats.output_tokens);
    }
}
