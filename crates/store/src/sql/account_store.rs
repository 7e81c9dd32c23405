//! [`AccountStore`](crate::AccountStore) for both backends, written once.
//!
//! The account statements are generic over the database ([`Accounts`], in `users.rs`,
//! `credentials.rs` and `records.rs`) and need from a backend only how it begins a write
//! ([`SqlBackend`](super::SqlBackend)). What cannot be generic is the trait impl itself: its boxed
//! futures must be `Send`, which the compiler proves only for a concrete database. So
//! [`impl_account_store!`] writes the impl for one backend type, each method a one-line forward,
//! and each backend invokes it once.

use std::marker::PhantomData;

/// The shared account operations for one dialect: `Accounts<Sqlite>` and `Accounts<Postgres>`.
/// Each takes the backend (`&impl SqlBackend<Db = D>`) it runs on.
pub(crate) struct Accounts<D>(PhantomData<D>);

/// Implements [`AccountStore`](crate::AccountStore) for `$backend` (a `SqlBackend` whose
/// database is `$db`) by forwarding every method to [`Accounts`].
macro_rules! impl_account_store {
    ($backend:ty, $db:ty) => {
        impl $crate::accounts::AccountStore for $backend {
            fn create_user(
                &self,
                user: $crate::model::NewUser,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::model::User>> {
                Box::pin($crate::sql::Accounts::<$db>::create_user(self, user))
            }

            fn get_user(
                &self,
                id: $crate::model::UserId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<Option<$crate::model::User>>>
            {
                Box::pin($crate::sql::Accounts::<$db>::get_user(self, id))
            }

            fn find_user_by_login<'a>(
                &'a self,
                login: &'a str,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<Option<$crate::model::User>>>
            {
                Box::pin($crate::sql::Accounts::<$db>::find_user_by_login(self, login))
            }

            fn find_user_by_oidc<'a>(
                &'a self,
                identity: &'a $crate::model::OidcIdentity,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<Option<$crate::model::User>>>
            {
                Box::pin($crate::sql::Accounts::<$db>::find_user_by_oidc(self, identity))
            }

            fn list_users(
                &self,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<Vec<$crate::model::User>>> {
                Box::pin($crate::sql::Accounts::<$db>::list_users(self))
            }

            fn update_user(
                &self,
                id: $crate::model::UserId,
                update: $crate::model::UserUpdate,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::model::User>> {
                Box::pin($crate::sql::Accounts::<$db>::update_user(self, id, update))
            }

            fn record_sign_in(
                &self,
                id: $crate::model::UserId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<()>> {
                Box::pin($crate::sql::Accounts::<$db>::record_sign_in(self, id))
            }

            fn delete_user(
                &self,
                id: $crate::model::UserId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::Purged>> {
                Box::pin($crate::sql::Accounts::<$db>::delete_user(self, id))
            }

            fn count_active_admins(&self) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<u64>> {
                Box::pin($crate::sql::Accounts::<$db>::count_active_admins(self))
            }

            fn create_team<'a>(
                &'a self,
                name: &'a str,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::model::Team>> {
                Box::pin($crate::sql::Accounts::<$db>::create_team(self, name))
            }

            fn list_teams(
                &self,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<Vec<$crate::model::Team>>> {
                Box::pin($crate::sql::Accounts::<$db>::list_teams(self))
            }

            fn delete_team(
                &self,
                id: $crate::model::TeamId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<()>> {
                Box::pin($crate::sql::Accounts::<$db>::delete_team(self, id))
            }

            fn add_team_member(
                &self,
                team: $crate::model::TeamId,
                user: $crate::model::UserId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<()>> {
                Box::pin($crate::sql::Accounts::<$db>::add_team_member(self, team, user))
            }

            fn remove_team_member(
                &self,
                team: $crate::model::TeamId,
                user: $crate::model::UserId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<bool>> {
                Box::pin($crate::sql::Accounts::<$db>::remove_team_member(self, team, user))
            }

            fn team_members(
                &self,
                team: $crate::model::TeamId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<Vec<$crate::model::User>>> {
                Box::pin($crate::sql::Accounts::<$db>::team_members(self, team))
            }

            fn teams_of_user(
                &self,
                user: $crate::model::UserId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<Vec<$crate::model::Team>>> {
                Box::pin($crate::sql::Accounts::<$db>::teams_of_user(self, user))
            }

            fn create_session(
                &self,
                session: $crate::model::NewSession,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::model::Session>> {
                Box::pin($crate::sql::Accounts::<$db>::create_session(self, session))
            }

            fn find_session(
                &self,
                token_hash: $crate::model::TokenHash,
            ) -> ::tradia_core::BoxFuture<
                '_,
                $crate::StoreResult<Option<($crate::model::Session, $crate::model::User)>>,
            > {
                Box::pin($crate::sql::Accounts::<$db>::find_session(self, token_hash))
            }

            fn touch_session(
                &self,
                id: $crate::model::SessionId,
                expires_at: ::time::OffsetDateTime,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<()>> {
                Box::pin($crate::sql::Accounts::<$db>::touch_session(self, id, expires_at))
            }

            fn delete_session(
                &self,
                id: $crate::model::SessionId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<bool>> {
                Box::pin($crate::sql::Accounts::<$db>::delete_session(self, id))
            }

            fn delete_user_sessions(
                &self,
                user: $crate::model::UserId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<u64>> {
                Box::pin($crate::sql::Accounts::<$db>::delete_user_sessions(self, user))
            }

            fn purge_expired_sessions(
                &self,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<u64>> {
                Box::pin($crate::sql::Accounts::<$db>::purge_expired_sessions(self))
            }

            fn create_api_key(
                &self,
                key: $crate::model::NewApiKey,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::model::ApiKey>> {
                Box::pin($crate::sql::Accounts::<$db>::create_api_key(self, key))
            }

            fn find_api_key(
                &self,
                key_hash: $crate::model::TokenHash,
            ) -> ::tradia_core::BoxFuture<
                '_,
                $crate::StoreResult<Option<($crate::model::ApiKey, $crate::model::User)>>,
            > {
                Box::pin($crate::sql::Accounts::<$db>::find_api_key(self, key_hash))
            }

            fn list_api_keys(
                &self,
                user: $crate::model::UserId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<Vec<$crate::model::ApiKey>>>
            {
                Box::pin($crate::sql::Accounts::<$db>::list_api_keys(self, user))
            }

            fn revoke_api_key<'a>(
                &'a self,
                caller: &'a $crate::model::Caller,
                id: $crate::model::ApiKeyId,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::model::ApiKey>> {
                Box::pin($crate::sql::Accounts::<$db>::revoke_api_key(self, caller, id))
            }

            fn touch_api_key(
                &self,
                id: $crate::model::ApiKeyId,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<()>> {
                Box::pin($crate::sql::Accounts::<$db>::touch_api_key(self, id))
            }

            fn append_audit(
                &self,
                entry: $crate::model::NewAuditEntry,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<$crate::model::AuditEntry>> {
                Box::pin($crate::sql::Accounts::<$db>::append_audit(self, entry))
            }

            fn list_audit(
                &self,
                since: ::time::OffsetDateTime,
                after: Option<$crate::model::AuditId>,
                limit: u32,
            ) -> ::tradia_core::BoxFuture<
                '_,
                $crate::StoreResult<Vec<$crate::model::AuditEntry>>,
            > {
                Box::pin($crate::sql::Accounts::<$db>::list_audit(self, since, after, limit))
            }

            fn purge_audit(
                &self,
                before: ::time::OffsetDateTime,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<u64>> {
                Box::pin($crate::sql::Accounts::<$db>::purge_audit(self, before))
            }

            fn add_usage(
                &self,
                user: $crate::model::UserId,
                day: ::time::Date,
                characters: u64,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<()>> {
                Box::pin($crate::sql::Accounts::<$db>::add_usage(self, user, day, characters))
            }

            fn usage_between(
                &self,
                user: $crate::model::UserId,
                first: ::time::Date,
                last: ::time::Date,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<u64>> {
                Box::pin($crate::sql::Accounts::<$db>::usage_between(self, user, first, last))
            }

            fn usage_by_user(
                &self,
                first: ::time::Date,
                last: ::time::Date,
            ) -> ::tradia_core::BoxFuture<
                '_,
                $crate::StoreResult<Vec<($crate::model::UserId, u64)>>,
            > {
                Box::pin($crate::sql::Accounts::<$db>::usage_by_user(self, first, last))
            }

            fn record_sign_in_failure<'a>(
                &'a self,
                login: Option<&'a str>,
                address: Option<::std::net::IpAddr>,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<()>> {
                Box::pin($crate::sql::Accounts::<$db>::record_sign_in_failure(
                    self, login, address,
                ))
            }

            fn count_sign_in_failures<'a>(
                &'a self,
                key: $crate::model::FailureKey<'a>,
                since: ::time::OffsetDateTime,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<$crate::model::FailureCount>>
            {
                Box::pin($crate::sql::Accounts::<$db>::count_sign_in_failures(self, key, since))
            }

            fn clear_sign_in_failures<'a>(
                &'a self,
                login: &'a str,
            ) -> ::tradia_core::BoxFuture<'a, $crate::StoreResult<u64>> {
                Box::pin($crate::sql::Accounts::<$db>::clear_sign_in_failures(self, login))
            }

            fn purge_sign_in_failures(
                &self,
                before: ::time::OffsetDateTime,
            ) -> ::tradia_core::BoxFuture<'_, $crate::StoreResult<u64>> {
                Box::pin($crate::sql::Accounts::<$db>::purge_sign_in_failures(self, before))
            }
        }
    };
}
pub(crate) use impl_account_store;
