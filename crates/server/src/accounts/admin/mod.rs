//! Administration (`/api/v1/admin/…`, administrators only): users, their quotas and keys, teams,
//! every job's metadata, usage per user and month, and the audit log.
//!
//! These are not owner-scoped objects, so a user who is not an administrator gets `403
//! forbidden` (from the route table's access class). Job metadata never includes file names or
//! text: names can be content.
//!
//! [`users`]: users, their roles, states, quotas and keys; [`reports`]: teams, every job's
//! metadata, usage per user and month, the audit log.

pub mod reports;
pub mod users;

pub use reports::*;
pub use users::*;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An RFC 3339 time, as every admin answer gives it.
pub(crate) fn time_text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}
