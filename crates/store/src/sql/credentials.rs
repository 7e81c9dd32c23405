//! Sessions and API keys: created from their token's hash, found by it, and accepted only while
//! they hold (a session until it expires, a key until it is revoked) and their user is active.

use sqlx::{Encode, Executor, FromRow, IntoArguments, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use super::account_rows::{
    ApiKeyRow, ApiKeyUserRow, SessionUserRow, is_foreign_key_violation, key_columns,
    session_columns, user_columns,
};
use super::account_store::Accounts;
use super::{Dialect, SqlBackend, StoredTime, now, to_millis};
use crate::error::StoreError;
use crate::model::{
    ApiKey, ApiKeyId, Caller, NewApiKey, NewSession, Session, SessionId, TokenHash, User, UserId,
};
use crate::store::StoreResult;

/// How often a session's or key's use is written down at most: more often would make every
/// request a write (SQLite has one writer) for a time nobody needs to the second.
pub(crate) const TOUCH_INTERVAL: time::Duration = time::Duration::minutes(1);

/// The longest API key name accepted, in characters.
const MAX_KEY_NAME_CHARS: usize = 200;

const INSERT_SESSION: &str = "INSERT INTO sessions \
     (id, user_id, token_hash, csrf_hash, created_at, expires_at, last_seen_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $5)";

const FIND_SESSION: &str = concat!(
    "SELECT ",
    session_columns!(),
    ", ",
    user_columns!(u.),
    " FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.state = 'active'"
);

const TOUCH_SESSION: &str = "UPDATE sessions SET last_seen_at = $2, expires_at = $3 \
     WHERE id = $1 AND last_seen_at <= $4";

const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id = $1";

const DELETE_SESSIONS_OF_USER: &str = "DELETE FROM sessions WHERE user_id = $1";

const PURGE_EXPIRED_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";

const INSERT_KEY: &str = "INSERT INTO api_keys (id, user_id, name, key_hash, prefix, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

const FIND_KEY: &str = concat!(
    "SELECT ",
    key_columns!(),
    ", ",
    user_columns!(u.),
    " FROM api_keys k JOIN users u ON u.id = k.user_id \
     WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.state = 'active'"
);

const KEY_BY_ID: &str = concat!("SELECT ", key_columns!(), " FROM api_keys k WHERE k.id = $1");

const KEYS_OF_USER: &str =
    concat!("SELECT ", key_columns!(), " FROM api_keys k WHERE k.user_id = $1 ORDER BY k.id DESC");

const REVOKE_KEY: &str = "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";

const TOUCH_KEY: &str = "UPDATE api_keys SET last_used_at = $2 \
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)";

/// An insert naming a user that is not there.
fn user_missing(err: sqlx::Error, user: UserId) -> StoreError {
    if is_foreign_key_violation(&err) {
        StoreError::UserNotFound(user)
    } else {
        StoreError::Database(err)
    }
}

impl<D> Accounts<D>
where
    D: Dialect,
    D::Arguments: IntoArguments<D>,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> Uuid: Encode<'q, D> + Type<D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    for<'q> &'q [u8]: Encode<'q, D> + Type<D>,
    for<'q> D::Time: Encode<'q, D> + Type<D>,
    for<'r> SessionUserRow<D::Time>: FromRow<'r, D::Row>,
    for<'r> ApiKeyRow<D::Time>: FromRow<'r, D::Row>,
    for<'r> ApiKeyUserRow<D::Time>: FromRow<'r, D::Row>,
{
    pub(crate) async fn create_session(
        b: &impl SqlBackend<Db = D>,
        session: NewSession,
    ) -> StoreResult<Session> {
        let id = SessionId::new();
        let created_at = now();
        let expires_at = to_millis(session.expires_at);
        sqlx::query(INSERT_SESSION)
            .bind(id.0)
            .bind(session.user.0)
            .bind(&session.token_hash.0[..])
            .bind(&session.csrf_hash.0[..])
            .bind(D::Time::from_time(created_at))
            .bind(D::Time::from_time(expires_at))
            .execute(b.writer())
            .await
            .map_err(|e| user_missing(e, session.user))?;
        Ok(Session {
            id,
            user: session.user,
            csrf_hash: session.csrf_hash,
            created_at,
            expires_at,
            last_seen_at: created_at,
        })
    }

    pub(crate) async fn find_session(
        b: &impl SqlBackend<Db = D>,
        token_hash: TokenHash,
    ) -> StoreResult<Option<(Session, User)>> {
        let row: Option<SessionUserRow<D::Time>> = sqlx::query_as(FIND_SESSION)
            .bind(&token_hash.0[..])
            .bind(D::Time::from_time(now()))
            .fetch_optional(b.reader())
            .await?;
        row.map(|r| Ok((r.session.into_session()?, r.user.into_user()?))).transpose()
    }

    pub(crate) async fn touch_session(
        b: &impl SqlBackend<Db = D>,
        id: SessionId,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        let now = now();
        sqlx::query(TOUCH_SESSION)
            .bind(id.0)
            .bind(D::Time::from_time(now))
            .bind(D::Time::from_time(to_millis(expires_at)))
            .bind(D::Time::from_time(now - TOUCH_INTERVAL))
            .execute(b.writer())
            .await?;
        Ok(())
    }

    pub(crate) async fn delete_session(
        b: &impl SqlBackend<Db = D>,
        id: SessionId,
    ) -> StoreResult<bool> {
        let done = sqlx::query(DELETE_SESSION).bind(id.0).execute(b.writer()).await?;
        Ok(D::rows_affected(&done) > 0)
    }

    pub(crate) async fn delete_user_sessions(
        b: &impl SqlBackend<Db = D>,
        user: UserId,
    ) -> StoreResult<u64> {
        let done = sqlx::query(DELETE_SESSIONS_OF_USER).bind(user.0).execute(b.writer()).await?;
        Ok(D::rows_affected(&done))
    }

    pub(crate) async fn purge_expired_sessions(b: &impl SqlBackend<Db = D>) -> StoreResult<u64> {
        let done = sqlx::query(PURGE_EXPIRED_SESSIONS)
            .bind(D::Time::from_time(now()))
            .execute(b.writer())
            .await?;
        Ok(D::rows_affected(&done))
    }

    pub(crate) async fn create_api_key(
        b: &impl SqlBackend<Db = D>,
        key: NewApiKey,
    ) -> StoreResult<ApiKey> {
        let name = key.name.trim();
        if name.chars().count() > MAX_KEY_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(format!(
                "a key name has at most {MAX_KEY_NAME_CHARS} characters and no control character"
            )));
        }
        let id = ApiKeyId::new();
        let created_at = now();
        sqlx::query(INSERT_KEY)
            .bind(id.0)
            .bind(key.user.0)
            .bind(name)
            .bind(&key.key_hash.0[..])
            .bind(key.prefix.as_str())
            .bind(D::Time::from_time(created_at))
            .execute(b.writer())
            .await
            .map_err(|e| user_missing(e, key.user))?;
        Ok(ApiKey {
            id,
            user: key.user,
            name: name.to_string(),
            prefix: key.prefix,
            created_at,
            last_used_at: None,
            revoked_at: None,
        })
    }

    pub(crate) async fn find_api_key(
        b: &impl SqlBackend<Db = D>,
        key_hash: TokenHash,
    ) -> StoreResult<Option<(ApiKey, User)>> {
        let row: Option<ApiKeyUserRow<D::Time>> =
            sqlx::query_as(FIND_KEY).bind(&key_hash.0[..]).fetch_optional(b.reader()).await?;
        row.map(|r| Ok((r.key.into_key()?, r.user.into_user()?))).transpose()
    }

    pub(crate) async fn list_api_keys(
        b: &impl SqlBackend<Db = D>,
        user: UserId,
    ) -> StoreResult<Vec<ApiKey>> {
        let rows: Vec<ApiKeyRow<D::Time>> =
            sqlx::query_as(KEYS_OF_USER).bind(user.0).fetch_all(b.reader()).await?;
        rows.into_iter().map(ApiKeyRow::into_key).collect()
    }

    async fn key_by_id(conn: &mut D::Connection, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        let row: Option<ApiKeyRow<D::Time>> =
            sqlx::query_as(KEY_BY_ID).bind(id.0).fetch_optional(&mut *conn).await?;
        row.map(ApiKeyRow::into_key).transpose()
    }

    pub(crate) async fn revoke_api_key(
        b: &impl SqlBackend<Db = D>,
        caller: &Caller,
        id: ApiKeyId,
    ) -> StoreResult<ApiKey> {
        let mut tx = b.begin_write().await?;
        match Self::key_by_id(&mut tx, id).await? {
            Some(key) if caller.is_admin() || key.user == caller.user => {}
            // Another user's key is not told apart from a key that does not exist.
            _ => return Err(StoreError::ApiKeyNotFound(id)),
        }
        sqlx::query(REVOKE_KEY)
            .bind(id.0)
            .bind(D::Time::from_time(now()))
            .execute(&mut *tx)
            .await?;
        let revoked = Self::key_by_id(&mut tx, id).await?.ok_or(StoreError::ApiKeyNotFound(id))?;
        tx.commit().await?;
        Ok(revoked)
    }

    pub(crate) async fn touch_api_key(
        b: &impl SqlBackend<Db = D>,
        id: ApiKeyId,
    ) -> StoreResult<()> {
        let now = now();
        sqlx::query(TOUCH_KEY)
            .bind(id.0)
            .bind(D::Time::from_time(now))
            .bind(D::Time::from_time(now - TOUCH_INTERVAL))
            .execute(b.writer())
            .await?;
        Ok(())
    }
}
