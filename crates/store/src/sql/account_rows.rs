//! Account rows as both backends read them, their conversion to the model, and the checks on
//! account values on their way in.
//!
//! As in [`rows`](super::rows), each struct is one statement's result decoded by one `FromRow`
//! derive, and a stored value the model cannot hold becomes [`StoreError::Corrupt`] naming its
//! column. Columns that two joined tables share a name for (`id`, `created_at`) are selected under
//! an alias (`session_id`, `key_created_at`…), so a session or a key and its user decode from one
//! row.

use std::net::IpAddr;

use sqlx::types::Json;
use uuid::Uuid;

use super::StoredTime;
use super::rows::corrupt;
use crate::error::StoreError;
use crate::model::{
    ApiKey, ApiKeyId, AuditEntry, AuditId, MAX_AUDIT_DETAIL_BYTES, NewAuditEntry, NewUser,
    OidcIdentity, PasswordHash, QuotaOverrides, Role, Session, SessionId, Team, TeamId, TokenHash,
    User, UserId, UserState,
};

/// The columns of [`UserRow`], optionally prefixed by a table alias (`user_columns!(u.)`), as a
/// literal for `concat!`.
macro_rules! user_columns {
    ($($t:ident .)?) => {
        concat!(
            $(stringify!($t), ".",)? "id, ",
            $(stringify!($t), ".",)? "login, ",
            $(stringify!($t), ".",)? "display_name, ",
            $(stringify!($t), ".",)? "email, ",
            $(stringify!($t), ".",)? "role, ",
            $(stringify!($t), ".",)? "state, ",
            $(stringify!($t), ".",)? "password_hash, ",
            $(stringify!($t), ".",)? "oidc_issuer, ",
            $(stringify!($t), ".",)? "oidc_subject, ",
            $(stringify!($t), ".",)? "quota_chars_per_day, ",
            $(stringify!($t), ".",)? "quota_chars_per_month, ",
            $(stringify!($t), ".",)? "quota_documents_in_progress, ",
            $(stringify!($t), ".",)? "quota_upload_bytes, ",
            $(stringify!($t), ".",)? "created_at, ",
            $(stringify!($t), ".",)? "last_sign_in_at"
        )
    };
}
pub(crate) use user_columns;

/// A `users` row; `T` is how the backend stores a time.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow<T> {
    pub id: Uuid,
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: String,
    pub state: String,
    pub password_hash: Option<String>,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
    pub quota_chars_per_day: Option<i64>,
    pub quota_chars_per_month: Option<i64>,
    pub quota_documents_in_progress: Option<i64>,
    pub quota_upload_bytes: Option<i64>,
    pub created_at: T,
    pub last_sign_in_at: Option<T>,
}

/// A `teams` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TeamRow<T> {
    pub id: Uuid,
    pub name: String,
    pub created_at: T,
}

/// The columns of [`SessionRow`] from `sessions` aliased `s`, as a literal for `concat!`.
macro_rules! session_columns {
    () => {
        "s.id AS session_id, s.user_id AS session_user, s.csrf_hash, \
         s.created_at AS session_created_at, s.expires_at, s.last_seen_at"
    };
}
pub(crate) use session_columns;

/// A `sessions` row (under `session_columns!`' aliases).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow<T> {
    pub session_id: Uuid,
    pub session_user: Uuid,
    pub csrf_hash: Vec<u8>,
    pub session_created_at: T,
    pub expires_at: T,
    pub last_seen_at: T,
}

/// A session with its user, from one joined row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionUserRow<T> {
    #[sqlx(flatten)]
    pub session: SessionRow<T>,
    #[sqlx(flatten)]
    pub user: UserRow<T>,
}

/// The columns of [`ApiKeyRow`] from `api_keys` aliased `k`, as a literal for `concat!`.
macro_rules! key_columns {
    () => {
        "k.id AS key_id, k.user_id AS key_user, k.name AS key_name, k.prefix, \
         k.created_at AS key_created_at, k.last_used_at, k.revoked_at"
    };
}
pub(crate) use key_columns;

/// An `api_keys` row (under `key_columns!`' aliases).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ApiKeyRow<T> {
    pub key_id: Uuid,
    pub key_user: Uuid,
    pub key_name: String,
    pub prefix: String,
    pub key_created_at: T,
    pub last_used_at: Option<T>,
    pub revoked_at: Option<T>,
}

/// A key with its user, from one joined row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ApiKeyUserRow<T> {
    #[sqlx(flatten)]
    pub key: ApiKeyRow<T>,
    #[sqlx(flatten)]
    pub user: UserRow<T>,
}

/// An `audit_log` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRow<T> {
    pub id: Uuid,
    pub at: T,
    pub actor: Option<Uuid>,
    pub action: String,
    pub object_id: Option<String>,
    pub remote_addr: Option<String>,
    pub detail: Option<Json<serde_json::Value>>,
}

/// A count of sign-in failures with the latest one's time.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct FailureCountRow<T> {
    pub n: i64,
    pub last_at: Option<T>,
}

// ---- Rows to the model.

fn unsigned(column: &str, value: Option<i64>) -> Result<Option<u64>, StoreError> {
    value.map(|v| u64::try_from(v).map_err(|_| corrupt(column, v))).transpose()
}

fn opt_time<T: StoredTime>(
    column: &str,
    value: Option<T>,
) -> Result<Option<time::OffsetDateTime>, StoreError> {
    value.map(|v| v.into_time(column)).transpose()
}

fn token_hash(column: &str, bytes: Vec<u8>) -> Result<TokenHash, StoreError> {
    let len = bytes.len();
    <[u8; 32]>::try_from(bytes).map(TokenHash).map_err(|_| corrupt(column, format!("{len} bytes")))
}

fn address(column: &str, value: Option<String>) -> Result<Option<IpAddr>, StoreError> {
    value.map(|v| v.parse().map_err(|_| corrupt(column, &v))).transpose()
}

impl<T: StoredTime> UserRow<T> {
    pub(crate) fn into_user(self) -> Result<User, StoreError> {
        let oidc = match (self.oidc_issuer, self.oidc_subject) {
            (Some(issuer), Some(subject)) => Some(OidcIdentity { issuer, subject }),
            (None, None) => None,
            (Some(issuer), None) => {
                return Err(corrupt("oidc_subject", format!("NULL ({issuer})")));
            }
            (None, Some(_)) => return Err(corrupt("oidc_issuer", "NULL")),
        };
        Ok(User {
            id: UserId(self.id),
            role: Role::parse(&self.role).ok_or_else(|| corrupt("role", &self.role))?,
            state: UserState::parse(&self.state).ok_or_else(|| corrupt("state", &self.state))?,
            login: self.login,
            display_name: self.display_name,
            email: self.email,
            password_hash: self.password_hash.map(PasswordHash),
            oidc,
            quotas: QuotaOverrides {
                chars_per_day: unsigned("quota_chars_per_day", self.quota_chars_per_day)?,
                chars_per_month: unsigned("quota_chars_per_month", self.quota_chars_per_month)?,
                documents_in_progress: unsigned(
                    "quota_documents_in_progress",
                    self.quota_documents_in_progress,
                )?,
                upload_bytes: unsigned("quota_upload_bytes", self.quota_upload_bytes)?,
            },
            created_at: self.created_at.into_time("created_at")?,
            last_sign_in_at: opt_time("last_sign_in_at", self.last_sign_in_at)?,
        })
    }
}

impl<T: StoredTime> TeamRow<T> {
    pub(crate) fn into_team(self) -> Result<Team, StoreError> {
        Ok(Team {
            id: TeamId(self.id),
            name: self.name,
            created_at: self.created_at.into_time("created_at")?,
        })
    }
}

impl<T: StoredTime> SessionRow<T> {
    pub(crate) fn into_session(self) -> Result<Session, StoreError> {
        Ok(Session {
            id: SessionId(self.session_id),
            user: UserId(self.session_user),
            csrf_hash: token_hash("csrf_hash", self.csrf_hash)?,
            created_at: self.session_created_at.into_time("created_at")?,
            expires_at: self.expires_at.into_time("expires_at")?,
            last_seen_at: self.last_seen_at.into_time("last_seen_at")?,
        })
    }
}

impl<T: StoredTime> ApiKeyRow<T> {
    pub(crate) fn into_key(self) -> Result<ApiKey, StoreError> {
        Ok(ApiKey {
            id: ApiKeyId(self.key_id),
            user: UserId(self.key_user),
            name: self.key_name,
            prefix: self.prefix,
            created_at: self.key_created_at.into_time("created_at")?,
            last_used_at: opt_time("last_used_at", self.last_used_at)?,
            revoked_at: opt_time("revoked_at", self.revoked_at)?,
        })
    }
}

impl<T: StoredTime> AuditRow<T> {
    pub(crate) fn into_entry(self) -> Result<AuditEntry, StoreError> {
        Ok(AuditEntry {
            id: AuditId(self.id),
            at: self.at.into_time("at")?,
            actor: self.actor.map(UserId),
            action: self.action,
            object: self.object_id,
            remote_addr: address("remote_addr", self.remote_addr)?,
            detail: self.detail.map(|d| d.0),
        })
    }
}

// ---- Values on their way in.

/// The longest login or team name accepted, in characters.
const MAX_NAME_CHARS: usize = 200;

/// The form of a login or team name that uniqueness and lookups use: lower case, folded here
/// (not by the database, whose `lower()` differs between SQLite and PostgreSQL).
pub(crate) fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// Checks a login or team name: 1 to 200 characters, no control characters, nothing to trim.
pub(crate) fn check_name(what: &str, name: &str) -> Result<(), StoreError> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(StoreError::Invalid(format!(
            "a {what} has 1 to {MAX_NAME_CHARS} characters, not {chars}"
        )));
    }
    if name.trim() != name || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "a {what} has no leading or trailing space and no control character"
        )));
    }
    Ok(())
}

/// Checks a new user; returns the display name to store (the login when none was given).
pub(crate) fn check_new_user(user: &NewUser) -> Result<String, StoreError> {
    check_name("login", &user.login)?;
    let display = user.display_name.trim();
    Ok(if display.is_empty() { user.login.clone() } else { display.to_string() })
}

/// The quota overrides as the columns store them.
pub(crate) fn check_quotas(quotas: &QuotaOverrides) -> Result<[Option<i64>; 4], StoreError> {
    let column = |what: &str, value: Option<u64>| {
        value
            .map(|v| {
                i64::try_from(v)
                    .map_err(|_| StoreError::Invalid(format!("quota {what} {v} is too large")))
            })
            .transpose()
    };
    Ok([
        column("chars_per_day", quotas.chars_per_day)?,
        column("chars_per_month", quotas.chars_per_month)?,
        column("documents_in_progress", quotas.documents_in_progress)?,
        column("upload_bytes", quotas.upload_bytes)?,
    ])
}

/// Checks an audit entry's action code and detail size.
pub(crate) fn check_audit_entry(entry: &NewAuditEntry) -> Result<(), StoreError> {
    let action = entry.action.as_str();
    let well_formed = (1..=64).contains(&action.len())
        && action.starts_with(|c: char| c.is_ascii_lowercase())
        && action.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.".contains(c));
    if !well_formed {
        return Err(StoreError::Invalid(format!(
            "audit action `{action}` is not a lower-case code of at most 64 characters"
        )));
    }
    if let Some(detail) = &entry.detail {
        let size = serde_json::to_vec(detail).map_or(usize::MAX, |bytes| bytes.len());
        if size > MAX_AUDIT_DETAIL_BYTES {
            return Err(StoreError::Invalid(format!(
                "audit detail of {size} bytes is larger than {MAX_AUDIT_DETAIL_BYTES}"
            )));
        }
    }
    Ok(())
}

/// True when `err` is a unique violation on the index or column named with `needle`: the
/// PostgreSQL constraint name (`users_login_key_unique`) or the SQLite message (`UNIQUE
/// constraint failed: users.login_key`) contains it.
pub(crate) fn is_unique_violation(err: &sqlx::Error, needle: &str) -> bool {
    match err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            db.constraint().is_some_and(|c| c.contains(needle)) || db.message().contains(needle)
        }
        _ => false,
    }
}

/// True when `err` is a foreign key violation (a row naming a user or team that is not there).
pub(crate) fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}
