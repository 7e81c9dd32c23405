//! What the store records about use of the service: the audit log and sign-in failures.
//!
//! Neither ever holds document text: an audit entry names an action, who did it, from where, and
//! the object's identifier, with at most a small JSON detail ([`MAX_AUDIT_DETAIL_BYTES`]).

use std::net::IpAddr;

use time::OffsetDateTime;

use super::ids::{AuditId, UserId};

/// The largest audit detail accepted, serialised.
pub const MAX_AUDIT_DETAIL_BYTES: usize = 4096;

/// What appending to the audit log takes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    /// Who acted; `None` for an anonymous request (a failed sign-in) or the service itself.
    pub actor: Option<UserId>,
    /// A stable code, lower-case letters, digits, `_` and `.`, at most 64 characters:
    /// `sign_in`, `sign_in_failed`, `key_created`, `job_deleted`…
    pub action: String,
    /// The identifier of the object acted on (a job, user or key id), if any.
    pub object: Option<String>,
    /// Where the request came from.
    pub remote_addr: Option<IpAddr>,
    /// Small structured detail (a role before and after, a login tried…); never document text.
    pub detail: Option<serde_json::Value>,
}

impl NewAuditEntry {
    /// An entry with only an actor and an action.
    pub fn new(actor: Option<UserId>, action: impl Into<String>) -> Self {
        NewAuditEntry {
            actor,
            action: action.into(),
            object: None,
            remote_addr: None,
            detail: None,
        }
    }
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Identifier (time-ordered): the cursor for the next page.
    pub id: AuditId,
    /// When it was recorded.
    pub at: OffsetDateTime,
    /// Who acted.
    pub actor: Option<UserId>,
    /// The action's code.
    pub action: String,
    /// The object acted on.
    pub object: Option<String>,
    /// Where the request came from.
    pub remote_addr: Option<IpAddr>,
    /// Structured detail.
    pub detail: Option<serde_json::Value>,
}

/// Which sign-in failures to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKey<'a> {
    /// Those for a login (whatever its letter case), from any address.
    Login(&'a str),
    /// Those from an address, for any login. To throttle IPv6 clients by network rather than by
    /// address, record and count their network's address (the /64 with the rest zeroed).
    Address(IpAddr),
}

/// Sign-in failures counted since a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureCount {
    /// How many.
    pub count: u64,
    /// The latest one.
    pub last_at: Option<OffsetDateTime>,
}
