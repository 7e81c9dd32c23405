//! The accounts half of the store: users and teams, sessions and API keys, the audit log, usage
//! for quotas and sign-in failures for throttling.
//!
//! Why a second trait: [`Store`](crate::Store) is about jobs and their queue; this one is about
//! people. Both backends implement both, and `Store: AccountStore`, so the `Arc<dyn Store>` from
//! [`connect`](crate::connect) answers both (on a `dyn Store` these methods need no import).
//!
//! Secrets never reach the store: sessions and keys are created and found by the SHA-256 hash of
//! their token ([`TokenHash`]), passwords are PHC hashes made by `tradia-auth`. A disabled user's
//! sessions and keys are "not found", like expired sessions and revoked keys.
//!
//! Times: the store stamps records with this process's clock, at millisecond precision, on both
//! backends; times given in arguments (`expires_at`, `since`, `before`) are kept to the
//! millisecond too.

use std::net::IpAddr;

use time::{Date, OffsetDateTime};
use tradia_core::BoxFuture;

use crate::model::{
    ApiKey, ApiKeyId, AuditEntry, AuditId, Caller, FailureCount, FailureKey, NewApiKey,
    NewAuditEntry, NewSession, NewUser, OidcIdentity, Session, SessionId, Team, TeamId, TokenHash,
    User, UserId, UserUpdate,
};
use crate::store::{Purged, StoreResult};

/// Durable state about the people using the service.
pub trait AccountStore: Send + Sync + 'static {
    // ---- Users.

    /// Creates an active user. Fails with [`StoreError::LoginTaken`](crate::StoreError::LoginTaken)
    /// when the login is used (whatever its letter case),
    /// [`StoreError::IdentityTaken`](crate::StoreError::IdentityTaken) for an OpenID Connect
    /// identity another user has, [`StoreError::Invalid`](crate::StoreError::Invalid) for a
    /// malformed login.
    ///
    /// The first active administrator, in the same transaction, becomes the owner of every job
    /// that has none (those created before accounts existed).
    fn create_user(&self, user: NewUser) -> BoxFuture<'_, StoreResult<User>>;

    /// The user with this id, if any.
    fn get_user(&self, id: UserId) -> BoxFuture<'_, StoreResult<Option<User>>>;

    /// The user with this login, whatever its letter case, if any.
    fn find_user_by_login<'a>(&'a self, login: &'a str)
    -> BoxFuture<'a, StoreResult<Option<User>>>;

    /// The user who signs in with this OpenID Connect identity, if any.
    fn find_user_by_oidc<'a>(
        &'a self,
        identity: &'a OidcIdentity,
    ) -> BoxFuture<'a, StoreResult<Option<User>>>;

    /// Every user, by login.
    fn list_users(&self) -> BoxFuture<'_, StoreResult<Vec<User>>>;

    /// Applies `update` and returns the user as it now is. Disabling deletes the user's sessions.
    /// Fails with [`StoreError::LastAdmin`](crate::StoreError::LastAdmin) when it would demote or
    /// disable the last active administrator; promoting the first one adopts the ownerless jobs
    /// (as [`AccountStore::create_user`] does).
    fn update_user(&self, id: UserId, update: UserUpdate) -> BoxFuture<'_, StoreResult<User>>;

    /// Records a successful sign-in now ([`User::last_sign_in_at`]).
    fn record_sign_in(&self, id: UserId) -> BoxFuture<'_, StoreResult<()>>;

    /// Deletes a user with their jobs, sessions, keys, memberships and usage, and forgets their
    /// login in the sign-in failures (which still count for their addresses); audit entries
    /// stay, naming their id. Returns the deleted jobs and the blobs they
    /// referenced, for the caller to delete from the blob store. Fails with
    /// [`StoreError::LastAdmin`](crate::StoreError::LastAdmin) for the last active administrator.
    fn delete_user(&self, id: UserId) -> BoxFuture<'_, StoreResult<Purged>>;

    /// How many active administrators there are: zero means the service is not set up yet.
    fn count_active_admins(&self) -> BoxFuture<'_, StoreResult<u64>>;

    // ---- Teams.

    /// Creates a team. Fails with
    /// [`StoreError::TeamNameTaken`](crate::StoreError::TeamNameTaken) when the name is used.
    fn create_team<'a>(&'a self, name: &'a str) -> BoxFuture<'a, StoreResult<Team>>;

    /// Every team, by name.
    fn list_teams(&self) -> BoxFuture<'_, StoreResult<Vec<Team>>>;

    /// Deletes a team and its memberships.
    fn delete_team(&self, id: TeamId) -> BoxFuture<'_, StoreResult<()>>;

    /// Makes `user` a member of `team` (already one: nothing changes).
    fn add_team_member(&self, team: TeamId, user: UserId) -> BoxFuture<'_, StoreResult<()>>;

    /// Removes `user` from `team`; false when they were not a member.
    fn remove_team_member(&self, team: TeamId, user: UserId) -> BoxFuture<'_, StoreResult<bool>>;

    /// The members of a team, by login.
    fn team_members(&self, team: TeamId) -> BoxFuture<'_, StoreResult<Vec<User>>>;

    /// The teams a user belongs to, by name.
    fn teams_of_user(&self, user: UserId) -> BoxFuture<'_, StoreResult<Vec<Team>>>;

    // ---- Sessions.

    /// Stores a new session.
    fn create_session(&self, session: NewSession) -> BoxFuture<'_, StoreResult<Session>>;

    /// The session whose token hashes to `token_hash`, with its user, when it has not expired and
    /// the user is active.
    fn find_session(
        &self,
        token_hash: TokenHash,
    ) -> BoxFuture<'_, StoreResult<Option<(Session, User)>>>;

    /// Records that the session was used now and moves its expiry to `expires_at`, unless that
    /// was done less than a minute ago (then nothing is written: call it on every request, or
    /// only when [`Session::last_seen_at`] is a minute old to spare the write lock).
    fn touch_session(
        &self,
        id: SessionId,
        expires_at: OffsetDateTime,
    ) -> BoxFuture<'_, StoreResult<()>>;

    /// Deletes a session (sign-out); false when there was none.
    fn delete_session(&self, id: SessionId) -> BoxFuture<'_, StoreResult<bool>>;

    /// Deletes every session of a user (password changed, "sign out everywhere"); returns how
    /// many.
    fn delete_user_sessions(&self, user: UserId) -> BoxFuture<'_, StoreResult<u64>>;

    /// Deletes the expired sessions; returns how many.
    fn purge_expired_sessions(&self) -> BoxFuture<'_, StoreResult<u64>>;

    // ---- API keys.

    /// Stores a new key.
    fn create_api_key(&self, key: NewApiKey) -> BoxFuture<'_, StoreResult<ApiKey>>;

    /// The key that hashes to `key_hash`, with its user, when it is not revoked and the user is
    /// active.
    fn find_api_key(
        &self,
        key_hash: TokenHash,
    ) -> BoxFuture<'_, StoreResult<Option<(ApiKey, User)>>>;

    /// A user's keys, revoked ones included, newest first.
    fn list_api_keys(&self, user: UserId) -> BoxFuture<'_, StoreResult<Vec<ApiKey>>>;

    /// Revokes a key of the caller's (any key for an administrator) and returns it; revoking it
    /// again keeps the first revocation time. Another user's key is
    /// [`StoreError::ApiKeyNotFound`](crate::StoreError::ApiKeyNotFound), like a missing one.
    fn revoke_api_key<'a>(
        &'a self,
        caller: &'a Caller,
        id: ApiKeyId,
    ) -> BoxFuture<'a, StoreResult<ApiKey>>;

    /// Records that the key was used now, unless that was done less than a minute ago.
    fn touch_api_key(&self, id: ApiKeyId) -> BoxFuture<'_, StoreResult<()>>;

    // ---- Audit log.

    /// Appends an entry stamped now. Fails with [`StoreError::Invalid`](crate::StoreError::Invalid)
    /// for a malformed action code or a detail over
    /// [`MAX_AUDIT_DETAIL_BYTES`](crate::model::MAX_AUDIT_DETAIL_BYTES).
    fn append_audit(&self, entry: NewAuditEntry) -> BoxFuture<'_, StoreResult<AuditEntry>>;

    /// Entries recorded at or after `since`, oldest first, at most `limit` (1 to 1000); pass the
    /// last entry's id as `after` for the next page.
    fn list_audit(
        &self,
        since: OffsetDateTime,
        after: Option<AuditId>,
        limit: u32,
    ) -> BoxFuture<'_, StoreResult<Vec<AuditEntry>>>;

    /// Deletes the entries recorded before `before` (retention); returns how many.
    fn purge_audit(&self, before: OffsetDateTime) -> BoxFuture<'_, StoreResult<u64>>;

    // ---- Usage.

    /// Adds `characters` translated by `user` on `day` (UTC) to their usage.
    fn add_usage(&self, user: UserId, day: Date, characters: u64)
    -> BoxFuture<'_, StoreResult<()>>;

    /// Characters `user` translated from `first` to `last`, both days included.
    fn usage_between(
        &self,
        user: UserId,
        first: Date,
        last: Date,
    ) -> BoxFuture<'_, StoreResult<u64>>;

    /// Characters each user translated from `first` to `last` (users with none are left out),
    /// by user id.
    fn usage_by_user(
        &self,
        first: Date,
        last: Date,
    ) -> BoxFuture<'_, StoreResult<Vec<(UserId, u64)>>>;

    // ---- Sign-in failures.

    /// Records a failed sign-in now, for the login tried (whether or not it exists) and the
    /// address it came from.
    fn record_sign_in_failure<'a>(
        &'a self,
        login: Option<&'a str>,
        address: Option<IpAddr>,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// The failures recorded at or after `since` for a login or an address.
    fn count_sign_in_failures<'a>(
        &'a self,
        key: FailureKey<'a>,
        since: OffsetDateTime,
    ) -> BoxFuture<'a, StoreResult<FailureCount>>;

    /// Forgets a login's failures after a successful sign-in (they still count for their
    /// addresses); returns how many.
    fn clear_sign_in_failures<'a>(&'a self, login: &'a str) -> BoxFuture<'a, StoreResult<u64>>;

    /// Deletes the failures recorded before `before`; returns how many.
    fn purge_sign_in_failures(&self, before: OffsetDateTime) -> BoxFuture<'_, StoreResult<u64>>;
}
