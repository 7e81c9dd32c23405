//! What `/healthz` and `/readyz` report, as stable codes.
//!
//! A database that answers reads can still refuse every write (a full disk, a read-only mount):
//! reading alone said `healthy` while every upload failed. So storage health is a write probe
//! (the store's and the blob folder's `check_writable`) plus the free space of the data folder
//! against `TRADIA_MIN_FREE_MB`, run on demand and cached for [`PROBE_TTL`], so probes that
//! scrape often cost one small write every few seconds. Nothing has to be reset when the fault
//! goes away: the next probe after the cache expires sees writes work again.
//!
//! The report is public (load balancers and people read it), so it only carries codes; what the
//! codes hide (error texts, backend URLs) is in [`HealthDetails`], shown to a signed-in
//! administrator and on the separate metrics address only.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Mutex;
use utoipa::ToSchema;

use crate::error::ErrorCode;
use crate::state::AppState;

/// How long a storage probe's result is reused.
pub const PROBE_TTL: Duration = Duration::from_secs(2);

/// How long one probe step may take before the storage counts as unavailable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// `healthy`, or `degraded` when `reason` says why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Everything works.
    Healthy,
    /// Something does not; `reason` says what.
    Degraded,
}

/// The state of the database and the data folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StorageState {
    /// Reads and writes work and there is space.
    Ok,
    /// Free space in the data folder is below `TRADIA_MIN_FREE_MB`: new uploads are refused.
    LowDiskSpace,
    /// A write failed because the disk is full.
    StorageFull,
    /// Writes fail (read-only, I/O error, no answer in time).
    StorageUnavailable,
    /// The database file is damaged.
    DatabaseDamaged,
    /// The database does not answer reads.
    Unreachable,
}

/// The state of the language model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LlmState {
    /// At least one backend answers.
    Ok,
    /// Every backend's circuit breaker is open: jobs wait for the model.
    AllBackendsDown,
    /// No backend answers the health check.
    Unreachable,
}

/// Why the service is degraded: the first problem found, storage first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthReason {
    /// See [`StorageState::Unreachable`].
    DatabaseUnreachable,
    /// See [`StorageState::DatabaseDamaged`].
    DatabaseDamaged,
    /// See [`StorageState::StorageFull`].
    StorageFull,
    /// See [`StorageState::StorageUnavailable`].
    StorageUnavailable,
    /// See [`StorageState::LowDiskSpace`].
    LowDiskSpace,
    /// See [`LlmState::AllBackendsDown`].
    LlmAllBackendsDown,
    /// See [`LlmState::Unreachable`].
    LlmUnreachable,
    /// The service is stopping (`/readyz` only).
    ShuttingDown,
}

/// What the codes leave out: error texts and backend URLs (URLs with secrets masked).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct HealthDetails {
    /// The storage error, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// The language-model error (backend URLs and their errors), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<String>,
    /// Free space in the data folder, in megabytes, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_mb: Option<u64>,
    /// `TRADIA_MIN_FREE_MB`.
    pub min_free_mb: u64,
}

/// Health report: stable codes for everyone, details for administrators.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// `healthy` or `degraded`.
    pub status: HealthStatus,
    /// The database and the data folder.
    pub database: StorageState,
    /// The language model.
    pub llm: LlmState,
    /// Why the service is degraded (absent when healthy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<HealthReason>,
    /// Service version.
    pub version: &'static str,
    /// Error texts and URLs: for a signed-in administrator and on the metrics address only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<HealthDetails>,
}

/// One storage probe's outcome.
#[derive(Debug, Clone)]
pub struct StorageCheck {
    /// Its code.
    pub state: StorageState,
    /// The error behind it.
    pub error: Option<String>,
    /// Free bytes in the data folder.
    pub free_bytes: Option<u64>,
}

/// The cached storage probe.
#[derive(Debug, Default)]
pub struct StorageProbe {
    last: Mutex<Option<(Instant, StorageCheck)>>,
}

impl StorageProbe {
    /// Forgets the cached result, so the next check probes again (after a failed write).
    pub async fn invalidate(&self) {
        *self.last.lock().await = None;
    }
}

/// Free bytes for an unprivileged user on the file system holding `path`.
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(path)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// The storage code of a failed write's error code.
fn storage_state(code: ErrorCode) -> StorageState {
    match code {
        ErrorCode::StorageFull => StorageState::StorageFull,
        ErrorCode::DatabaseDamaged => StorageState::DatabaseDamaged,
        _ => StorageState::StorageUnavailable,
    }
}

/// Counts one storage error in `tradia_storage_errors_total{kind}`: `kind` is the error code
/// (`storage_full`, `storage_unavailable`, `database_damaged`, `storage_error`).
pub fn count_storage_error(code: ErrorCode) {
    metrics::counter!("tradia_storage_errors_total", "kind" => code.as_str()).increment(1);
}

/// Runs one probe: reads, then writes (database, then blob folder), then free space.
async fn probe(state: &AppState) -> StorageCheck {
    let free = free_bytes(&state.settings.data_dir).ok();
    let failed = |state: StorageState, error: String| StorageCheck {
        state,
        error: Some(error),
        free_bytes: free,
    };
    if let Err(e) = state.check_database().await {
        return failed(StorageState::Unreachable, e);
    }
    match tokio::time::timeout(PROBE_TIMEOUT, state.jobs.check_writable()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let code = ErrorCode::from(&e);
            count_storage_error(code);
            return failed(storage_state(code), e.to_string());
        }
        Err(_) => {
            count_storage_error(ErrorCode::StorageUnavailable);
            return failed(StorageState::StorageUnavailable, "no write within 3 s".into());
        }
    }
    let min_free = state.settings.min_free_bytes;
    match free {
        Some(bytes) if bytes < min_free => failed(
            StorageState::LowDiskSpace,
            format!(
                "{} MB free in {}, below TRADIA_MIN_FREE_MB={}",
                bytes >> 20,
                state.settings.data_dir.display(),
                min_free >> 20
            ),
        ),
        _ => StorageCheck { state: StorageState::Ok, error: None, free_bytes: free },
    }
}

/// The storage state, probed at most every [`PROBE_TTL`].
pub async fn check_storage(state: &AppState) -> StorageCheck {
    let mut last = state.storage.last.lock().await;
    if let Some((at, check)) = last.as_ref()
        && at.elapsed() < PROBE_TTL
    {
        return check.clone();
    }
    let check = probe(state).await;
    if check.state != StorageState::Ok {
        tracing::warn!(state = ?check.state, error = check.error.as_deref().unwrap_or(""), "storage degraded");
    }
    *last = Some((Instant::now(), check.clone()));
    check
}

/// The health report; `details` adds error texts and URLs.
pub async fn report(state: &AppState, details: bool) -> Health {
    let (storage, llm) = tokio::join!(check_storage(state), state.check_llm());
    let llm_state = match &llm {
        Err(_) => LlmState::Unreachable,
        Ok(()) if state.gateway.all_backends_down() => LlmState::AllBackendsDown,
        Ok(()) => LlmState::Ok,
    };
    let reason = match storage.state {
        StorageState::Ok => None,
        StorageState::Unreachable => Some(HealthReason::DatabaseUnreachable),
        StorageState::DatabaseDamaged => Some(HealthReason::DatabaseDamaged),
        StorageState::StorageFull => Some(HealthReason::StorageFull),
        StorageState::StorageUnavailable => Some(HealthReason::StorageUnavailable),
        StorageState::LowDiskSpace => Some(HealthReason::LowDiskSpace),
    }
    .or(match llm_state {
        LlmState::Ok => None,
        LlmState::AllBackendsDown => Some(HealthReason::LlmAllBackendsDown),
        LlmState::Unreachable => Some(HealthReason::LlmUnreachable),
    });
    let details = details.then(|| HealthDetails {
        storage: storage.error.clone(),
        llm: match (&llm, llm_state) {
            (Err(e), _) => Some(e.clone()),
            (Ok(()), LlmState::AllBackendsDown) => {
                Some("every backend's circuit breaker is open".into())
            }
            _ => None,
        },
        free_mb: storage.free_bytes.map(|b| b >> 20),
        min_free_mb: state.settings.min_free_bytes >> 20,
    });
    Health {
        status: if reason.is_some() { HealthStatus::Degraded } else { HealthStatus::Healthy },
        database: storage.state,
        llm: llm_state,
        reason,
        version: env!("CARGO_PKG_VERSION"),
        details,
    }
}

/// Refuses a new upload while the data folder has less than `TRADIA_MIN_FREE_MB` free (read
/// now, not from the probe's cache: an upload that just filled the disk counts).
pub fn check_upload_space(state: &AppState) -> Result<(), crate::error::ApiError> {
    let Ok(free) = free_bytes(&state.settings.data_dir) else { return Ok(()) };
    let min_free = state.settings.min_free_bytes;
    if free >= min_free {
        return Ok(());
    }
    tracing::warn!(
        free_mb = free >> 20,
        min_free_mb = min_free >> 20,
        "upload refused: low disk space"
    );
    Err(crate::error::ApiError::new(
        ErrorCode::StorageLow,
        "the server is running out of disk space, so new documents are refused for now; \
         try again once an administrator has freed space",
    ))
}
