//! Writing the audit log: who did what, when, from where, to which object — never document text.
//!
//! An audit write that fails is logged and does not fail the request: refusing to translate
//! because the log is briefly unavailable would punish the user for the storage's fault, and the
//! service log still has the event. Entries past `TRADIA_AUDIT_RETENTION_DAYS` are purged with
//! the expired jobs ([`purge_expired`]).

use std::net::IpAddr;

use serde_json::Value;
use time::OffsetDateTime;
use tradia_store::{NewAuditEntry, UserId};

use crate::state::AppState;

/// Appends an entry: `actor` did `action` on `object`, from `addr`, with a small `detail`.
pub async fn record(
    state: &AppState,
    actor: Option<UserId>,
    action: &str,
    object: Option<String>,
    addr: Option<IpAddr>,
    detail: Option<Value>,
) {
    let entry =
        NewAuditEntry { actor, action: action.to_string(), object, remote_addr: addr, detail };
    if let Err(e) = state.jobs.store().append_audit(entry).await {
        tracing::error!(error = %e, action, "cannot write the audit log");
    }
}

/// Forgets what is past its time: audit entries older than `TRADIA_AUDIT_RETENTION_DAYS`,
/// expired sessions, sign-in failures older than the throttling window. Run with the job purge.
pub async fn purge_expired(state: &AppState) {
    let store = state.jobs.store();
    let now = OffsetDateTime::now_utc();
    match store.purge_audit(now - state.settings.access.audit_retention).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(entries = n, "purged audit entries past their retention"),
        Err(e) => tracing::error!(error = %e, "purge of the audit log failed"),
    }
    if let Err(e) = store.purge_expired_sessions().await {
        tracing::error!(error = %e, "purge of expired sessions failed");
    }
    if let Err(e) = store.purge_sign_in_failures(now - tradia_auth::throttle::memory()).await {
        tracing::error!(error = %e, "purge of old sign-in failures failed");
    }
}
