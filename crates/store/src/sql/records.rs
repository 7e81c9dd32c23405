//! The audit log, daily usage and sign-in failures: rows appended as things happen, counted or
//! listed later, and purged after their retention.

use std::net::IpAddr;

use sqlx::types::Json;
use sqlx::{Encode, Executor, FromRow, IntoArguments, Type};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::account_rows::{AuditRow, FailureCountRow, check_audit_entry, name_key};
use super::account_store::Accounts;
use super::rows::check_limit;
use super::{Dialect, SqlBackend, StoredTime, corrupt, to_millis};
use crate::error::StoreError;
use crate::model::{AuditEntry, AuditId, FailureCount, FailureKey, NewAuditEntry, UserId};
use crate::store::StoreResult;

const INSERT_AUDIT: &str = "INSERT INTO audit_log \
     (id, at, actor, action, object_id, remote_addr, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Ordered by id: an id is time-ordered and carries the entry's time (see [`audit_time`]), so
/// this is time order, and the last id of a page is the cursor for the next.
const AUDIT_SINCE: &str = "SELECT id, at, actor, action, object_id, remote_addr, detail \
     FROM audit_log WHERE at >= $1 AND id > $2 ORDER BY id LIMIT $3";

const PURGE_AUDIT: &str = "DELETE FROM audit_log WHERE at < $1";

const ADD_USAGE: &str = "INSERT INTO daily_usage (user_id, day, characters) VALUES ($1, $2, $3) \
     ON CONFLICT (user_id, day) DO UPDATE SET \
       characters = daily_usage.characters + excluded.characters";

// PostgreSQL's SUM of BIGINT is NUMERIC: cast back so both databases answer a BIGINT.
const USAGE_OF_USER: &str = "SELECT CAST(COALESCE(SUM(characters), 0) AS BIGINT) \
     FROM daily_usage WHERE user_id = $1 AND day >= $2 AND day <= $3";

const USAGE_BY_USER: &str = "SELECT user_id, CAST(SUM(characters) AS BIGINT) \
     FROM daily_usage WHERE day >= $1 AND day <= $2 GROUP BY user_id ORDER BY user_id";

const INSERT_FAILURE: &str =
    "INSERT INTO sign_in_failures (login_key, remote_addr, at) VALUES ($1, $2, $3)";

const FAILURES_OF_LOGIN: &str = "SELECT COUNT(*) AS n, MAX(at) AS last_at \
     FROM sign_in_failures WHERE login_key = $1 AND at >= $2";

const FAILURES_OF_ADDRESS: &str = "SELECT COUNT(*) AS n, MAX(at) AS last_at \
     FROM sign_in_failures WHERE remote_addr = $1 AND at >= $2";

/// Forgetting a login's failures keeps them counted for their address: a successful sign-in
/// proves the account's owner is there, not that the address is harmless.
pub(crate) const FORGET_FAILURES_OF_LOGIN: &str =
    "UPDATE sign_in_failures SET login_key = NULL WHERE login_key = $1";

pub(crate) const DELETE_EMPTY_FAILURES: &str =
    "DELETE FROM sign_in_failures WHERE login_key IS NULL AND remote_addr IS NULL";

const PURGE_FAILURES: &str = "DELETE FROM sign_in_failures WHERE at < $1";

/// The time an audit id was made, at millisecond precision: the entry's time.
fn audit_time(id: AuditId) -> OffsetDateTime {
    let millis = id.0.get_timestamp().map(|t| {
        let (secs, nanos) = t.to_unix();
        i128::from(secs) * 1000 + i128::from(nanos / 1_000_000)
    });
    millis
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok())
        .unwrap_or_else(super::now)
}

fn count(row: FailureCountRow<impl StoredTime>) -> StoreResult<FailureCount> {
    Ok(FailureCount {
        count: u64::try_from(row.n).map_err(|_| corrupt("count", row.n))?,
        last_at: row.last_at.map(|t| t.into_time("at")).transpose()?,
    })
}

fn characters(n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| corrupt("characters", n))
}

impl<D> Accounts<D>
where
    D: Dialect,
    D::Arguments: IntoArguments<D>,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> Uuid: Encode<'q, D> + Type<D>,
    for<'q> i64: Encode<'q, D> + Type<D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    for<'q> Date: Encode<'q, D> + Type<D>,
    for<'q> Json<serde_json::Value>: Encode<'q, D> + Type<D>,
    for<'q> D::Time: Encode<'q, D> + Type<D>,
    for<'q> Option<&'q str>: Encode<'q, D> + Type<D>,
    for<'q> Option<Uuid>: Encode<'q, D> + Type<D>,
    for<'q> Option<Json<serde_json::Value>>: Encode<'q, D> + Type<D>,
    for<'r> AuditRow<D::Time>: FromRow<'r, D::Row>,
    for<'r> FailureCountRow<D::Time>: FromRow<'r, D::Row>,
    for<'r> (i64,): FromRow<'r, D::Row>,
    for<'r> (Uuid, i64): FromRow<'r, D::Row>,
{
    pub(crate) async fn append_audit(
        b: &impl SqlBackend<Db = D>,
        entry: NewAuditEntry,
    ) -> StoreResult<AuditEntry> {
        check_audit_entry(&entry)?;
        let id = AuditId::new();
        let at = audit_time(id);
        let remote_addr = entry.remote_addr.map(|a| a.to_string());
        sqlx::query(INSERT_AUDIT)
            .bind(id.0)
            .bind(D::Time::from_time(at))
            .bind(entry.actor.map(|a| a.0))
            .bind(entry.action.as_str())
            .bind(entry.object.as_deref())
            .bind(remote_addr.as_deref())
            .bind(entry.detail.clone().map(Json))
            .execute(b.writer())
            .await?;
        Ok(AuditEntry {
            id,
            at,
            actor: entry.actor,
            action: entry.action,
            object: entry.object,
            remote_addr: entry.remote_addr,
            detail: entry.detail,
        })
    }

    pub(crate) async fn list_audit(
        b: &impl SqlBackend<Db = D>,
        since: OffsetDateTime,
        after: Option<AuditId>,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        let limit = check_limit(limit)?;
        let rows: Vec<AuditRow<D::Time>> = sqlx::query_as(AUDIT_SINCE)
            .bind(D::Time::from_time(to_millis(since)))
            .bind(after.map_or(Uuid::nil(), |a| a.0))
            .bind(limit)
            .fetch_all(b.reader())
            .await?;
        rows.into_iter().map(AuditRow::into_entry).collect()
    }

    pub(crate) async fn purge_audit(
        b: &impl SqlBackend<Db = D>,
        before: OffsetDateTime,
    ) -> StoreResult<u64> {
        let done = sqlx::query(PURGE_AUDIT)
            .bind(D::Time::from_time(to_millis(before)))
            .execute(b.writer())
            .await?;
        Ok(D::rows_affected(&done))
    }

    pub(crate) async fn add_usage(
        b: &impl SqlBackend<Db = D>,
        user: UserId,
        day: Date,
        chars: u64,
    ) -> StoreResult<()> {
        let chars = i64::try_from(chars)
            .map_err(|_| StoreError::Invalid(format!("{chars} characters is too large")))?;
        sqlx::query(ADD_USAGE)
            .bind(user.0)
            .bind(day)
            .bind(chars)
            .execute(b.writer())
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    StoreError::UserNotFound(user)
                }
                _ => StoreError::Database(e),
            })?;
        Ok(())
    }

    pub(crate) async fn usage_between(
        b: &impl SqlBackend<Db = D>,
        user: UserId,
        first: Date,
        last: Date,
    ) -> StoreResult<u64> {
        let (n,): (i64,) = sqlx::query_as(USAGE_OF_USER)
            .bind(user.0)
            .bind(first)
            .bind(last)
            .fetch_one(b.reader())
            .await?;
        characters(n)
    }

    pub(crate) async fn usage_by_user(
        b: &impl SqlBackend<Db = D>,
        first: Date,
        last: Date,
    ) -> StoreResult<Vec<(UserId, u64)>> {
        let rows: Vec<(Uuid, i64)> =
            sqlx::query_as(USAGE_BY_USER).bind(first).bind(last).fetch_all(b.reader()).await?;
        rows.into_iter().map(|(user, n)| Ok((UserId(user), characters(n)?))).collect()
    }

    pub(crate) async fn record_sign_in_failure(
        b: &impl SqlBackend<Db = D>,
        login: Option<&str>,
        address: Option<IpAddr>,
    ) -> StoreResult<()> {
        let login = login.map(name_key);
        let address = address.map(|a| a.to_string());
        sqlx::query(INSERT_FAILURE)
            .bind(login.as_deref())
            .bind(address.as_deref())
            .bind(D::Time::from_time(super::now()))
            .execute(b.writer())
            .await?;
        Ok(())
    }

    pub(crate) async fn count_sign_in_failures(
        b: &impl SqlBackend<Db = D>,
        key: FailureKey<'_>,
        since: OffsetDateTime,
    ) -> StoreResult<FailureCount> {
        let (statement, value) = match key {
            FailureKey::Login(login) => (FAILURES_OF_LOGIN, name_key(login)),
            FailureKey::Address(address) => (FAILURES_OF_ADDRESS, address.to_string()),
        };
        let row: FailureCountRow<D::Time> = sqlx::query_as(statement)
            .bind(value.as_str())
            .bind(D::Time::from_time(to_millis(since)))
            .fetch_one(b.reader())
            .await?;
        count(row)
    }

    pub(crate) async fn clear_sign_in_failures(
        b: &impl SqlBackend<Db = D>,
        login: &str,
    ) -> StoreResult<u64> {
        let mut tx = b.begin_write().await?;
        let done = sqlx::query(FORGET_FAILURES_OF_LOGIN)
            .bind(name_key(login).as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(DELETE_EMPTY_FAILURES).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(D::rows_affected(&done))
    }

    pub(crate) async fn purge_sign_in_failures(
        b: &impl SqlBackend<Db = D>,
        before: OffsetDateTime,
    ) -> StoreResult<u64> {
        let done = sqlx::query(PURGE_FAILURES)
            .bind(D::Time::from_time(to_millis(before)))
            .execute(b.writer())
            .await?;
        Ok(D::rows_affected(&done))
    }
}
