//! Users and teams: the statements, and the rules that hold across them (the first
//! administrator adopts the ownerless jobs; the last active administrator stays).
//!
//! Every change that may alter who is an active administrator runs in the backend's
//! [`SqlBackend::begin_admin_write`] transaction, which never runs beside another one: the count
//! of administrators read at its start still holds at its end.

use sqlx::{Encode, Executor, FromRow, IntoArguments, Type};
use uuid::Uuid;

use super::account_rows::{
    TeamRow, UserRow, check_name, check_new_user, check_quotas, is_foreign_key_violation,
    is_unique_violation, name_key, user_columns,
};
use super::account_store::Accounts;
use super::records::{DELETE_EMPTY_FAILURES, FORGET_FAILURES_OF_LOGIN};
use super::{Dialect, SqlBackend, StoredTime, corrupt, now};
use crate::blob::BlobKey;
use crate::error::StoreError;
use crate::model::{
    JobId, NewUser, OidcIdentity, Role, Team, TeamId, User, UserId, UserState, UserUpdate,
};
use crate::store::{Purged, StoreResult};

const USER_BY_ID: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");

const USER_BY_LOGIN: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE login_key = $1");

const USER_BY_OIDC: &str =
    concat!("SELECT ", user_columns!(), " FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2");

const ALL_USERS: &str = concat!("SELECT ", user_columns!(), " FROM users ORDER BY login_key, id");

const INSERT_USER: &str = "INSERT INTO users (id, login, login_key, display_name, email, role, \
     state, password_hash, oidc_issuer, oidc_subject, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10)";

/// Writes back every column a [`UserUpdate`] may change.
const WRITE_USER: &str = "UPDATE users SET display_name = $2, email = $3, role = $4, state = $5, \
     password_hash = $6, oidc_issuer = $7, oidc_subject = $8, quota_chars_per_day = $9, \
     quota_chars_per_month = $10, quota_documents_in_progress = $11, quota_upload_bytes = $12 \
     WHERE id = $1";

const SET_LAST_SIGN_IN: &str = "UPDATE users SET last_sign_in_at = $2 WHERE id = $1";

const COUNT_ACTIVE_ADMINS: &str =
    "SELECT COUNT(*) FROM users WHERE role = 'admin' AND state = 'active'";

const ADOPT_OWNERLESS_JOBS: &str = "UPDATE jobs SET owner = $1 WHERE owner IS NULL";

const BLOBS_OF_JOBS_OF_OWNER: &str = "SELECT f.input_blob, f.output_blob FROM job_files f \
     JOIN jobs j ON j.id = f.job_id WHERE j.owner = $1";

const DELETE_JOBS_OF_OWNER: &str = "DELETE FROM jobs WHERE owner = $1";

const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";

const DELETE_SESSIONS_OF_USER: &str = "DELETE FROM sessions WHERE user_id = $1";

const INSERT_TEAM: &str =
    "INSERT INTO teams (id, name, name_key, created_at) VALUES ($1, $2, $3, $4)";

const TEAM_BY_ID: &str = "SELECT id, name, created_at FROM teams WHERE id = $1";

const ALL_TEAMS: &str = "SELECT id, name, created_at FROM teams ORDER BY name_key, id";

const DELETE_TEAM: &str = "DELETE FROM teams WHERE id = $1";

const ADD_MEMBER: &str =
    "INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";

const REMOVE_MEMBER: &str = "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2";

const MEMBERS_OF_TEAM: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE id IN (SELECT user_id FROM team_members WHERE team_id = $1) \
     ORDER BY login_key, id"
);

const TEAMS_OF_USER: &str = "SELECT id, name, created_at FROM teams \
     WHERE id IN (SELECT team_id FROM team_members WHERE user_id = $1) ORDER BY name_key, id";

/// A user insert or update that hit a unique index names the login or identity already taken.
fn taken(err: sqlx::Error, login: &str) -> StoreError {
    if is_unique_violation(&err, "login_key") {
        StoreError::LoginTaken(login.to_string())
    } else if is_unique_violation(&err, "oidc") {
        StoreError::IdentityTaken
    } else {
        StoreError::Database(err)
    }
}

/// `user` with `update` applied (nothing written yet).
fn apply(mut user: User, update: UserUpdate) -> StoreResult<User> {
    if let Some(name) = update.display_name {
        let name = name.trim();
        user.display_name = if name.is_empty() { user.login.clone() } else { name.to_string() };
    }
    if let Some(email) = update.email {
        user.email = email;
    }
    if let Some(role) = update.role {
        user.role = role;
    }
    if let Some(state) = update.state {
        user.state = state;
    }
    if let Some(hash) = update.password_hash {
        user.password_hash = hash;
    }
    if let Some(oidc) = update.oidc {
        user.oidc = oidc;
    }
    if let Some(quotas) = update.quotas {
        check_quotas(&quotas)?;
        user.quotas = quotas;
    }
    Ok(user)
}

impl<D> Accounts<D>
where
    D: Dialect,
    D::Arguments: IntoArguments<D>,
    for<'c> &'c mut D::Connection: Executor<'c, Database = D>,
    for<'q> Uuid: Encode<'q, D> + Type<D>,
    for<'q> i64: Encode<'q, D> + Type<D>,
    for<'q> &'q str: Encode<'q, D> + Type<D>,
    for<'q> D::Time: Encode<'q, D> + Type<D>,
    for<'q> Option<&'q str>: Encode<'q, D> + Type<D>,
    for<'q> Option<i64>: Encode<'q, D> + Type<D>,
    for<'r> UserRow<D::Time>: FromRow<'r, D::Row>,
    for<'r> TeamRow<D::Time>: FromRow<'r, D::Row>,
    for<'r> (i64,): FromRow<'r, D::Row>,
    for<'r> (Uuid,): FromRow<'r, D::Row>,
    for<'r> (String, Option<String>): FromRow<'r, D::Row>,
{
    async fn user_by_id(conn: &mut D::Connection, id: UserId) -> StoreResult<Option<User>> {
        let row: Option<UserRow<D::Time>> =
            sqlx::query_as(USER_BY_ID).bind(id.0).fetch_optional(&mut *conn).await?;
        row.map(UserRow::into_user).transpose()
    }

    async fn existing_user(conn: &mut D::Connection, id: UserId) -> StoreResult<User> {
        Self::user_by_id(conn, id).await?.ok_or(StoreError::UserNotFound(id))
    }

    async fn active_admins(conn: &mut D::Connection) -> StoreResult<u64> {
        let (n,): (i64,) = sqlx::query_as(COUNT_ACTIVE_ADMINS).fetch_one(&mut *conn).await?;
        u64::try_from(n).map_err(|_| corrupt("count", n))
    }

    /// Gives every ownerless job to `admin`, the first active administrator.
    async fn adopt_ownerless_jobs(conn: &mut D::Connection, admin: &User) -> StoreResult<()> {
        let done = sqlx::query(ADOPT_OWNERLESS_JOBS).bind(admin.id.0).execute(&mut *conn).await?;
        let adopted = D::rows_affected(&done);
        if adopted > 0 {
            tracing::info!(user = %admin.id, login = %admin.login, jobs = adopted,
                "the first administrator now owns the jobs created before accounts existed");
        }
        Ok(())
    }

    pub(crate) async fn create_user(
        b: &impl SqlBackend<Db = D>,
        user: NewUser,
    ) -> StoreResult<User> {
        let display_name = check_new_user(&user)?;
        let (issuer, subject) = user.oidc.as_ref().map(|o| (&o.issuer, &o.subject)).unzip();
        let mut tx = b.begin_admin_write().await?;
        let first_admin = user.role == Role::Admin && Self::active_admins(&mut tx).await? == 0;
        let id = UserId::new();
        sqlx::query(INSERT_USER)
            .bind(id.0)
            .bind(user.login.as_str())
            .bind(name_key(&user.login).as_str())
            .bind(display_name.as_str())
            .bind(user.email.as_deref())
            .bind(user.role.as_str())
            .bind(user.password_hash.as_ref().map(|h| h.as_str()))
            .bind(issuer.map(String::as_str))
            .bind(subject.map(String::as_str))
            .bind(D::Time::from_time(now()))
            .execute(&mut *tx)
            .await
            .map_err(|e| taken(e, &user.login))?;
        let created = Self::existing_user(&mut tx, id).await?;
        if first_admin {
            Self::adopt_ownerless_jobs(&mut tx, &created).await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    pub(crate) async fn get_user(
        b: &impl SqlBackend<Db = D>,
        id: UserId,
    ) -> StoreResult<Option<User>> {
        Self::user_by_id(&mut *b.reader().acquire().await?, id).await
    }

    pub(crate) async fn find_user_by_login(
        b: &impl SqlBackend<Db = D>,
        login: &str,
    ) -> StoreResult<Option<User>> {
        let row: Option<UserRow<D::Time>> = sqlx::query_as(USER_BY_LOGIN)
            .bind(name_key(login).as_str())
            .fetch_optional(b.reader())
            .await?;
        row.map(UserRow::into_user).transpose()
    }

    pub(crate) async fn find_user_by_oidc(
        b: &impl SqlBackend<Db = D>,
        identity: &OidcIdentity,
    ) -> StoreResult<Option<User>> {
        let row: Option<UserRow<D::Time>> = sqlx::query_as(USER_BY_OIDC)
            .bind(identity.issuer.as_str())
            .bind(identity.subject.as_str())
            .fetch_optional(b.reader())
            .await?;
        row.map(UserRow::into_user).transpose()
    }

    pub(crate) async fn list_users(b: &impl SqlBackend<Db = D>) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow<D::Time>> = sqlx::query_as(ALL_USERS).fetch_all(b.reader()).await?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    pub(crate) async fn update_user(
        b: &impl SqlBackend<Db = D>,
        id: UserId,
        update: UserUpdate,
    ) -> StoreResult<User> {
        let mut tx = b.begin_admin_write().await?;
        let before = Self::existing_user(&mut tx, id).await?;
        let after = apply(before.clone(), update)?;
        let admins = Self::active_admins(&mut tx).await?;
        if before.is_active_admin() && !after.is_active_admin() && admins <= 1 {
            return Err(StoreError::LastAdmin);
        }
        let [per_day, per_month, documents, upload] = check_quotas(&after.quotas)?;
        let (issuer, subject) = after.oidc.as_ref().map(|o| (&o.issuer, &o.subject)).unzip();
        sqlx::query(WRITE_USER)
            .bind(id.0)
            .bind(after.display_name.as_str())
            .bind(after.email.as_deref())
            .bind(after.role.as_str())
            .bind(after.state.as_str())
            .bind(after.password_hash.as_ref().map(|h| h.as_str()))
            .bind(issuer.map(String::as_str))
            .bind(subject.map(String::as_str))
            .bind(per_day)
            .bind(per_month)
            .bind(documents)
            .bind(upload)
            .execute(&mut *tx)
            .await
            .map_err(|e| taken(e, &after.login))?;
        if before.state == UserState::Active && after.state == UserState::Disabled {
            sqlx::query(DELETE_SESSIONS_OF_USER).bind(id.0).execute(&mut *tx).await?;
        }
        if !before.is_active_admin() && after.is_active_admin() && admins == 0 {
            Self::adopt_ownerless_jobs(&mut tx, &after).await?;
        }
        let updated = Self::existing_user(&mut tx, id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    pub(crate) async fn record_sign_in(b: &impl SqlBackend<Db = D>, id: UserId) -> StoreResult<()> {
        let mut tx = b.begin_write().await?;
        let done = sqlx::query(SET_LAST_SIGN_IN)
            .bind(id.0)
            .bind(D::Time::from_time(now()))
            .execute(&mut *tx)
            .await?;
        if D::rows_affected(&done) == 0 {
            return Err(StoreError::UserNotFound(id));
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn delete_user(
        b: &impl SqlBackend<Db = D>,
        id: UserId,
    ) -> StoreResult<Purged> {
        let mut tx = b.begin_admin_write().await?;
        let user = Self::existing_user(&mut tx, id).await?;
        if user.is_active_admin() && Self::active_admins(&mut tx).await? <= 1 {
            return Err(StoreError::LastAdmin);
        }
        let jobs: Vec<(Uuid,)> =
            sqlx::query_as(D::JOBS_OF_OWNER_TO_DELETE).bind(id.0).fetch_all(&mut *tx).await?;
        let files: Vec<(String, Option<String>)> =
            sqlx::query_as(BLOBS_OF_JOBS_OF_OWNER).bind(id.0).fetch_all(&mut *tx).await?;
        let mut blobs = Vec::with_capacity(files.len());
        for (input, output) in files {
            blobs.push(BlobKey::parse(&input).map_err(|_| corrupt("input_blob", &input))?);
            if let Some(output) = output {
                blobs.push(BlobKey::parse(&output).map_err(|_| corrupt("output_blob", &output))?);
            }
        }
        sqlx::query(DELETE_JOBS_OF_OWNER).bind(id.0).execute(&mut *tx).await?;
        // The login is forgotten; the failures still count for their addresses.
        sqlx::query(FORGET_FAILURES_OF_LOGIN)
            .bind(name_key(&user.login).as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(DELETE_EMPTY_FAILURES).execute(&mut *tx).await?;
        // Sessions, keys, memberships and usage go with the row (ON DELETE CASCADE).
        sqlx::query(DELETE_USER).bind(id.0).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Purged { jobs: jobs.into_iter().map(|(id,)| JobId(id)).collect(), blobs })
    }

    pub(crate) async fn count_active_admins(b: &impl SqlBackend<Db = D>) -> StoreResult<u64> {
        Self::active_admins(&mut *b.reader().acquire().await?).await
    }

    // ---- Teams.

    async fn team_by_id(conn: &mut D::Connection, id: TeamId) -> StoreResult<Team> {
        let row: Option<TeamRow<D::Time>> =
            sqlx::query_as(TEAM_BY_ID).bind(id.0).fetch_optional(&mut *conn).await?;
        row.ok_or(StoreError::TeamNotFound(id))?.into_team()
    }

    pub(crate) async fn create_team(b: &impl SqlBackend<Db = D>, name: &str) -> StoreResult<Team> {
        check_name("team name", name)?;
        let id = TeamId::new();
        let mut tx = b.begin_write().await?;
        sqlx::query(INSERT_TEAM)
            .bind(id.0)
            .bind(name)
            .bind(name_key(name).as_str())
            .bind(D::Time::from_time(now()))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e, "name_key") {
                    StoreError::TeamNameTaken(name.to_string())
                } else {
                    StoreError::Database(e)
                }
            })?;
        let team = Self::team_by_id(&mut tx, id).await?;
        tx.commit().await?;
        Ok(team)
    }

    pub(crate) async fn list_teams(b: &impl SqlBackend<Db = D>) -> StoreResult<Vec<Team>> {
        let rows: Vec<TeamRow<D::Time>> = sqlx::query_as(ALL_TEAMS).fetch_all(b.reader()).await?;
        rows.into_iter().map(TeamRow::into_team).collect()
    }

    pub(crate) async fn delete_team(b: &impl SqlBackend<Db = D>, id: TeamId) -> StoreResult<()> {
        let mut tx = b.begin_write().await?;
        let done = sqlx::query(DELETE_TEAM).bind(id.0).execute(&mut *tx).await?;
        if D::rows_affected(&done) == 0 {
            return Err(StoreError::TeamNotFound(id));
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn add_team_member(
        b: &impl SqlBackend<Db = D>,
        team: TeamId,
        user: UserId,
    ) -> StoreResult<()> {
        let mut tx = b.begin_write().await?;
        Self::team_by_id(&mut tx, team).await?;
        Self::existing_user(&mut tx, user).await?;
        sqlx::query(ADD_MEMBER).bind(team.0).bind(user.0).execute(&mut *tx).await.map_err(|e| {
            // Only if the team or the user was deleted meanwhile (PostgreSQL).
            if is_foreign_key_violation(&e) {
                StoreError::TeamNotFound(team)
            } else {
                StoreError::Database(e)
            }
        })?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn remove_team_member(
        b: &impl SqlBackend<Db = D>,
        team: TeamId,
        user: UserId,
    ) -> StoreResult<bool> {
        let mut tx = b.begin_write().await?;
        let done = sqlx::query(REMOVE_MEMBER).bind(team.0).bind(user.0).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(D::rows_affected(&done) > 0)
    }

    pub(crate) async fn team_members(
        b: &impl SqlBackend<Db = D>,
        team: TeamId,
    ) -> StoreResult<Vec<User>> {
        let mut conn = b.reader().acquire().await?;
        Self::team_by_id(&mut conn, team).await?;
        let rows: Vec<UserRow<D::Time>> =
            sqlx::query_as(MEMBERS_OF_TEAM).bind(team.0).fetch_all(&mut *conn).await?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    pub(crate) async fn teams_of_user(
        b: &impl SqlBackend<Db = D>,
        user: UserId,
    ) -> StoreResult<Vec<Team>> {
        let rows: Vec<TeamRow<D::Time>> =
            sqlx::query_as(TEAMS_OF_USER).bind(user.0).fetch_all(b.reader()).await?;
        rows.into_iter().map(TeamRow::into_team).collect()
    }
}
