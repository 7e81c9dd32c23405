//! The records the store keeps: jobs and their files, segments and leases; users, teams,
//! sessions and API keys; the audit log and sign-in failures.
//!
//! These are plain data types with no SQL in them, so the server can build its JSON from them and
//! tests can compare them. Secrets never appear here: sessions and keys are known by the hash of
//! their token ([`TokenHash`]), passwords by their PHC hash ([`PasswordHash`]).

mod accounts;
mod credentials;
mod glossaries;
mod ids;
mod jobs;
mod memory;
mod records;

pub use accounts::{
    Caller, NewUser, OidcIdentity, PasswordHash, QuotaOverrides, Role, Team, User, UserState,
    UserUpdate,
};
pub use credentials::{ApiKey, NewApiKey, NewSession, Session, TokenHash};
pub use glossaries::{
    Glossary, GlossaryUpdate, JobGuidance, MAX_BRIEF_CHARS, MAX_GLOSSARY_ENTRIES,
    MAX_INSTRUCTIONS_CHARS, MAX_NOTE_CHARS, MAX_TERM_CHARS, NewGlossary, Owner,
};
pub use ids::{ApiKeyId, AuditId, GlossaryId, JobId, SessionId, TeamId, UserId};
pub use jobs::{
    ClaimOptions, Claimed, ErrorInfo, FileExtracted, InProgress, Job, JobFile, JobPage, JobStatus,
    Lease, NewJob, NewJobFile, Progress, RenewOutcome, StatusCounts, StoredSegment,
};
pub use memory::{
    InvalidMemoryScope, JobMemory, MemoryEntry, MemoryOrigin, MemoryOwner, MemoryScope,
    NewMemoryEntry,
};
pub use records::{AuditEntry, FailureCount, FailureKey, MAX_AUDIT_DETAIL_BYTES, NewAuditEntry};
