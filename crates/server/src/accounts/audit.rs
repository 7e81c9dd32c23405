//! Writing the audit log: who did what, when, from where, to which object — never document text.
//!
//! An audit write that fails is logged and does not fail the request: refusing to translate
//! because the log is briefly unavailable would punish the user for the storage's fault, and the
//! service log still has the event.

use std::net::IpAddr;

use serde_json::Value;
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
