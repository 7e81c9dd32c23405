//! People and teams: who may use the service, with which role, and the [`Caller`] every
//! owner-scoped query takes.
//!
//! A login is unique whatever its letter case ("Alice" and "alice" are one account), an OpenID
//! Connect identity (issuer + subject) belongs to one user at most, and there is always at least
//! one active administrator once the first one exists (the store refuses the change that would
//! remove the last one, see [`StoreError::LastAdmin`](crate::StoreError::LastAdmin)).

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::{TeamId, UserId};

/// What a user may do. Stored as the lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Translates; sees only their own jobs, keys and usage.
    User,
    /// Also manages users, teams, quotas and keys, and sees every job's metadata.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 2] = [Role::User, Role::Admin];

    /// The stored and serialised name: `user` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a user may sign in. Stored as the lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserState {
    /// May sign in and use their sessions and keys.
    Active,
    /// Kept (with their jobs) but refused: their sessions are deleted and their keys stop
    /// working until they are active again.
    Disabled,
}

impl UserState {
    /// Every state.
    pub const ALL: [UserState; 2] = [UserState::Active, UserState::Disabled];

    /// The stored and serialised name: `active` or `disabled`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Disabled => "disabled",
        }
    }

    /// Parses a stored name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        UserState::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for UserState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A password hash as a PHC string (`$argon2id$v=19$…`), made and checked by `tradia-auth`.
///
/// Not a secret the way a password is, but worth an offline attack: its `Debug` shows only the
/// algorithm part, so it never lands whole in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl PasswordHash {
    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algorithm = self.0.split('$').find(|part| !part.is_empty()).unwrap_or("");
        write!(f, "PasswordHash(${algorithm}$…)")
    }
}

/// An OpenID Connect identity: the provider's issuer URL and its subject for the user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OidcIdentity {
    /// The issuer (`iss`), as the provider's discovery document gives it.
    pub issuer: String,
    /// The subject (`sub`): stable for the user at that issuer.
    pub subject: String,
}

/// Per-user limits set by an administrator; `None` means "the service's default" for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QuotaOverrides {
    /// Characters translated per day.
    pub chars_per_day: Option<u64>,
    /// Characters translated per calendar month.
    pub chars_per_month: Option<u64>,
    /// Documents (files of queued or running jobs) at once.
    pub documents_in_progress: Option<u64>,
    /// Size of one upload, in bytes.
    pub upload_bytes: Option<u64>,
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// The sign-in name, as first written (its letter case is kept for display; lookups ignore
    /// it).
    pub login: String,
    /// The name shown in the page.
    pub display_name: String,
    /// E-mail address, when known.
    pub email: Option<String>,
    /// What the user may do.
    pub role: Role,
    /// Whether the user may sign in.
    pub state: UserState,
    /// The local password's hash; `None` for users who sign in only through OpenID Connect or a
    /// trusted proxy.
    pub password_hash: Option<PasswordHash>,
    /// The OpenID Connect identity the user signs in with, if any.
    pub oidc: Option<OidcIdentity>,
    /// Limits that differ from the service's defaults.
    pub quotas: QuotaOverrides,
    /// When the account was created.
    pub created_at: OffsetDateTime,
    /// The latest successful sign-in.
    pub last_sign_in_at: Option<OffsetDateTime>,
}

impl User {
    /// The caller this user is, for the owner-scoped queries.
    pub fn caller(&self) -> Caller {
        Caller { user: self.id, role: self.role }
    }

    /// True for an active administrator.
    pub fn is_active_admin(&self) -> bool {
        self.role == Role::Admin && self.state == UserState::Active
    }
}

/// What creating a user takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Sign-in name: 1 to 200 characters, no control characters, no leading or trailing space;
    /// unique whatever its letter case.
    pub login: String,
    /// The name shown in the page (the login when empty).
    pub display_name: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Role.
    pub role: Role,
    /// A local password's hash.
    pub password_hash: Option<PasswordHash>,
    /// An OpenID Connect identity (unique).
    pub oidc: Option<OidcIdentity>,
}

impl NewUser {
    /// An active user with `login` as display name, no e-mail, no password and no identity.
    pub fn new(login: impl Into<String>, role: Role) -> Self {
        NewUser {
            login: login.into(),
            display_name: String::new(),
            email: None,
            role,
            password_hash: None,
            oidc: None,
        }
    }
}

/// A change to a user: each `Some` field replaces the stored value (for the `Option<Option<…>>`
/// ones, `Some(None)` clears it); `None` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserUpdate {
    /// New display name.
    pub display_name: Option<String>,
    /// New e-mail address, or none.
    pub email: Option<Option<String>>,
    /// New role.
    pub role: Option<Role>,
    /// New state; disabling deletes the user's sessions.
    pub state: Option<UserState>,
    /// New password hash, or none (no local sign-in).
    pub password_hash: Option<Option<PasswordHash>>,
    /// New OpenID Connect identity, or none.
    pub oidc: Option<Option<OidcIdentity>>,
    /// New quota overrides (all four at once).
    pub quotas: Option<QuotaOverrides>,
}

/// Who is asking: the value every owner-scoped query takes.
///
/// A [`Role::User`] caller sees only what they own; another user's object is simply "not found"
/// (never "forbidden": its existence is not revealed). A [`Role::Admin`] caller sees every job;
/// the server decides which routes still refuse document content to administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Caller {
    /// The signed-in user.
    pub user: UserId,
    /// Their role at the time of the request.
    pub role: Role,
}

impl Caller {
    /// True for an administrator.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A team: a group of users that later shares translation memories and glossaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// Identifier.
    pub id: TeamId,
    /// Its name, unique whatever its letter case.
    pub name: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for state in UserState::ALL {
            assert_eq!(UserState::parse(state.as_str()), Some(state));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(UserState::parse("Active"), None);
    }

    #[test]
    fn password_hash_debug_hides_the_hash() {
        let hash = PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
        assert_eq!(format!("{hash:?}"), "PasswordHash($argon2id$…)");
    }
}
