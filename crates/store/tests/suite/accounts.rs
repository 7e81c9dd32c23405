//! Accounts: users, teams, sessions, API keys, the audit log, usage and sign-in failures.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::json;
use time::{Date, Month, OffsetDateTime};
use tradia_store::{
    Caller, FailureKey, NewApiKey, NewAuditEntry, NewSession, NewUser, OidcIdentity, PasswordHash,
    QuotaOverrides, Role, StoreError, TokenHash, User, UserId, UserState, UserUpdate,
};

use super::cases::S;

async fn user(store: &S, login: &str, role: Role) -> User {
    store.create_user(NewUser::new(login, role)).await.expect("create user")
}

fn hash(byte: u8) -> TokenHash {
    TokenHash([byte; 32])
}

fn in_hours(hours: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::hours(hours)
}

fn session(user: UserId, token: u8, expires_at: OffsetDateTime) -> NewSession {
    NewSession { user, token_hash: hash(token), csrf_hash: hash(token + 100), expires_at }
}

fn api_key(user: UserId, key: u8, name: &str) -> NewApiKey {
    NewApiKey { user, name: name.into(), key_hash: hash(key), prefix: format!("tdk_{key:02x}") }
}

fn day(year: i32, month: Month, day: u8) -> Date {
    Date::from_calendar_date(year, month, day).expect("a date")
}

fn addr(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

pub async fn users_crud(store: S) {
    let mut new = NewUser::new("Alice", Role::User);
    new.display_name = "  Alice Martin ".into();
    new.email = Some("alice@example.org".into());
    new.password_hash = Some(PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()));
    let alice = store.create_user(new).await.expect("create");
    assert_eq!(alice.login, "Alice");
    assert_eq!(alice.display_name, "Alice Martin");
    assert_eq!((alice.role, alice.state), (Role::User, UserState::Active));
    assert_eq!(alice.quotas, QuotaOverrides::default());
    assert!(alice.last_sign_in_at.is_none() && alice.oidc.is_none());
    assert_eq!(store.get_user(alice.id).await.unwrap(), Some(alice.clone()));
    assert_eq!(store.get_user(UserId::new()).await.unwrap(), None);

    // The login is one account whatever its letter case.
    for spelling in ["alice", "ALICE", "Alice"] {
        let found = store.find_user_by_login(spelling).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(alice.id), "{spelling}");
    }
    assert_eq!(store.find_user_by_login("alicia").await.unwrap(), None);
    match store.create_user(NewUser::new("aLiCe", Role::Admin)).await {
        Err(e @ StoreError::LoginTaken(_)) => assert_eq!(e.code(), "login_taken"),
        other => panic!("expected LoginTaken, got {other:?}"),
    }
    for bad in ["", " bob", "bob ", "a\u{7}b", &"x".repeat(201)] {
        assert!(
            matches!(
                store.create_user(NewUser::new(bad, Role::User)).await,
                Err(StoreError::Invalid(_))
            ),
            "{bad:?} accepted"
        );
    }

    // OpenID Connect identities: found by issuer and subject, one user each.
    let identity = OidcIdentity { issuer: "https://sso.example.org".into(), subject: "42".into() };
    let mut oidc_user = NewUser::new("zoe", Role::User);
    oidc_user.oidc = Some(identity.clone());
    let zoe = store.create_user(oidc_user).await.unwrap();
    assert_eq!(zoe.display_name, "zoe", "the login stands in for a missing display name");
    assert_eq!(store.find_user_by_oidc(&identity).await.unwrap().map(|u| u.id), Some(zoe.id));
    let other_subject = OidcIdentity { subject: "43".into(), ..identity.clone() };
    assert_eq!(store.find_user_by_oidc(&other_subject).await.unwrap(), None);
    let mut twin = NewUser::new("zoe2", Role::User);
    twin.oidc = Some(identity.clone());
    assert!(matches!(store.create_user(twin).await, Err(StoreError::IdentityTaken)));
    let link = UserUpdate { oidc: Some(Some(identity.clone())), ..Default::default() };
    assert!(matches!(store.update_user(alice.id, link).await, Err(StoreError::IdentityTaken)));

    // Updates replace what they name and keep the rest.
    let quotas = QuotaOverrides {
        chars_per_day: Some(10_000),
        chars_per_month: None,
        documents_in_progress: Some(3),
        upload_bytes: Some(5 << 20),
    };
    let update = UserUpdate {
        display_name: Some("A. Martin".into()),
        email: Some(None),
        password_hash: Some(None),
        quotas: Some(quotas),
        ..Default::default()
    };
    let updated = store.update_user(alice.id, update).await.expect("update");
    assert_eq!(updated.display_name, "A. Martin");
    assert_eq!(updated.email, None);
    assert_eq!(updated.password_hash, None);
    assert_eq!(updated.quotas, quotas);
    assert_eq!((updated.login.as_str(), updated.role), ("Alice", Role::User));
    assert_eq!(store.get_user(alice.id).await.unwrap(), Some(updated.clone()));
    let too_large = QuotaOverrides { upload_bytes: Some(u64::MAX), ..Default::default() };
    let update = UserUpdate { quotas: Some(too_large), ..Default::default() };
    assert!(matches!(store.update_user(alice.id, update).await, Err(StoreError::Invalid(_))));
    assert!(matches!(
        store.update_user(UserId::new(), UserUpdate::default()).await,
        Err(StoreError::UserNotFound(_))
    ));

    store.record_sign_in(alice.id).await.expect("sign-in recorded");
    let signed_in = store.get_user(alice.id).await.unwrap().unwrap();
    assert!(signed_in.last_sign_in_at.is_some_and(|t| t >= signed_in.created_at));
    assert!(matches!(store.record_sign_in(UserId::new()).await, Err(StoreError::UserNotFound(_))));

    let logins: Vec<String> =
        store.list_users().await.unwrap().into_iter().map(|u| u.login).collect();
    assert_eq!(logins, vec!["Alice", "zoe"]);
}

pub async fn disabled_users_are_not_found(store: S) {
    let bob = user(&store, "bob", Role::User).await;
    store.create_session(session(bob.id, 1, in_hours(1))).await.unwrap();
    store.create_api_key(api_key(bob.id, 2, "script")).await.unwrap();
    assert!(store.find_session(hash(1)).await.unwrap().is_some());
    assert!(store.find_api_key(hash(2)).await.unwrap().is_some());

    let disable = UserUpdate { state: Some(UserState::Disabled), ..Default::default() };
    store.update_user(bob.id, disable).await.expect("disable");
    assert!(store.find_session(hash(1)).await.unwrap().is_none());
    assert!(store.find_api_key(hash(2)).await.unwrap().is_none());

    // Enabled again: the key works again, the session was deleted with the disabling.
    let enable = UserUpdate { state: Some(UserState::Active), ..Default::default() };
    store.update_user(bob.id, enable).await.expect("enable");
    assert!(store.find_session(hash(1)).await.unwrap().is_none());
    let (key, owner) = store.find_api_key(hash(2)).await.unwrap().expect("key works again");
    assert_eq!((key.user, owner.id), (bob.id, bob.id));
}

pub async fn sessions(store: S) {
    let carol = user(&store, "carol", Role::User).await;
    let expires = in_hours(8);
    let created = store.create_session(session(carol.id, 1, expires)).await.expect("create");
    assert_eq!(created.user, carol.id);
    assert_eq!(created.csrf_hash, hash(101));
    assert_eq!(created.last_seen_at, created.created_at);
    assert!((created.expires_at - expires).abs() < time::Duration::milliseconds(1));
    let (found, owner) = store.find_session(hash(1)).await.unwrap().expect("found by hash");
    assert_eq!(found, created, "a session reads back as it was created");
    assert_eq!(owner.id, carol.id);
    assert!(store.find_session(hash(9)).await.unwrap().is_none());

    // Expired: not found, and purged.
    store.create_session(session(carol.id, 2, in_hours(-1))).await.unwrap();
    assert!(store.find_session(hash(2)).await.unwrap().is_none());
    assert_eq!(store.purge_expired_sessions().await.unwrap(), 1);
    assert!(store.find_session(hash(1)).await.unwrap().is_some(), "the live one stays");

    // A touch within a minute of the last one writes nothing (not even the new expiry).
    store.touch_session(created.id, in_hours(24)).await.unwrap();
    let (again, _) = store.find_session(hash(1)).await.unwrap().unwrap();
    assert_eq!(again, created);

    store.create_session(session(carol.id, 3, in_hours(1))).await.unwrap();
    assert!(store.delete_session(created.id).await.unwrap());
    assert!(!store.delete_session(created.id).await.unwrap());
    assert!(store.find_session(hash(1)).await.unwrap().is_none());
    assert_eq!(store.delete_user_sessions(carol.id).await.unwrap(), 1);
    assert!(store.find_session(hash(3)).await.unwrap().is_none());
    assert!(matches!(
        store.create_session(session(UserId::new(), 4, in_hours(1))).await,
        Err(StoreError::UserNotFound(_))
    ));
}

pub async fn api_keys(store: S) {
    let admin = user(&store, "root", Role::Admin).await.caller();
    let dave = user(&store, "dave", Role::User).await;
    let eve = user(&store, "eve", Role::User).await.caller();
    let first = store.create_api_key(api_key(dave.id, 1, " CI ")).await.expect("create");
    assert_eq!((first.name.as_str(), first.prefix.as_str()), ("CI", "tdk_01"));
    assert!(first.last_used_at.is_none() && first.revoked_at.is_none());
    let second = store.create_api_key(api_key(dave.id, 2, "Moodle")).await.unwrap();
    let (found, owner) = store.find_api_key(hash(1)).await.unwrap().expect("found by hash");
    assert_eq!((found, owner.id), (first.clone(), dave.id));
    assert!(store.find_api_key(hash(7)).await.unwrap().is_none());
    let listed = store.list_api_keys(dave.id).await.unwrap();
    assert_eq!(listed, vec![second.clone(), first.clone()], "newest first");
    assert!(store.list_api_keys(eve.user).await.unwrap().is_empty());

    // Another user cannot revoke it, nor tell it exists.
    match store.revoke_api_key(&eve, first.id).await {
        Err(e @ StoreError::ApiKeyNotFound(_)) => assert_eq!(e.code(), "api_key_not_found"),
        other => panic!("expected ApiKeyNotFound, got {other:?}"),
    }
    assert!(store.find_api_key(hash(1)).await.unwrap().is_some(), "still valid");

    let revoked = store.revoke_api_key(&dave.caller(), first.id).await.expect("owner revokes");
    let revoked_at = revoked.revoked_at.expect("revocation time");
    assert!(store.find_api_key(hash(1)).await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(5)).await;
    let again = store.revoke_api_key(&dave.caller(), first.id).await.unwrap();
    assert_eq!(again.revoked_at, Some(revoked_at), "the first revocation time stays");
    store.revoke_api_key(&admin, second.id).await.expect("an administrator revokes any key");
    assert!(store.find_api_key(hash(2)).await.unwrap().is_none());
    let missing = tradia_store::ApiKeyId::new();
    assert!(matches!(
        store.revoke_api_key(&admin, missing).await,
        Err(StoreError::ApiKeyNotFound(_))
    ));

    let third = store.create_api_key(api_key(dave.id, 3, "")).await.unwrap();
    store.touch_api_key(third.id).await.unwrap();
    let (used, _) = store.find_api_key(hash(3)).await.unwrap().unwrap();
    assert!(used.last_used_at.is_some_and(|t| t >= third.created_at));
    assert!(matches!(
        store.create_api_key(api_key(dave.id, 4, "bad\nname")).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_api_key(api_key(UserId::new(), 5, "x")).await,
        Err(StoreError::UserNotFound(_))
    ));
}

pub async fn teams(store: S) {
    let ann = user(&store, "ann", Role::User).await;
    let ben = user(&store, "ben", Role::User).await;
    let lab = store.create_team("Langues").await.expect("create");
    let ops = store.create_team("DSI").await.unwrap();
    match store.create_team("langues").await {
        Err(e @ StoreError::TeamNameTaken(_)) => assert_eq!(e.code(), "team_name_taken"),
        other => panic!("expected TeamNameTaken, got {other:?}"),
    }
    let names: Vec<String> =
        store.list_teams().await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, vec!["DSI", "Langues"]);

    store.add_team_member(lab.id, ben.id).await.unwrap();
    store.add_team_member(lab.id, ann.id).await.unwrap();
    store.add_team_member(lab.id, ann.id).await.expect("adding twice changes nothing");
    store.add_team_member(ops.id, ann.id).await.unwrap();
    let members: Vec<UserId> =
        store.team_members(lab.id).await.unwrap().iter().map(|u| u.id).collect();
    assert_eq!(members, vec![ann.id, ben.id]);
    let teams: Vec<_> =
        store.teams_of_user(ann.id).await.unwrap().into_iter().map(|t| t.id).collect();
    assert_eq!(teams, vec![ops.id, lab.id]);

    assert!(store.remove_team_member(lab.id, ann.id).await.unwrap());
    assert!(!store.remove_team_member(lab.id, ann.id).await.unwrap());
    assert_eq!(store.teams_of_user(ann.id).await.unwrap(), vec![ops.clone()]);

    let missing = tradia_store::TeamId::new();
    assert!(matches!(
        store.add_team_member(missing, ann.id).await,
        Err(StoreError::TeamNotFound(_))
    ));
    assert!(matches!(
        store.add_team_member(lab.id, UserId::new()).await,
        Err(StoreError::UserNotFound(_))
    ));
    assert!(matches!(store.team_members(missing).await, Err(StoreError::TeamNotFound(_))));
    store.delete_team(ops.id).await.expect("delete");
    assert!(store.teams_of_user(ann.id).await.unwrap().is_empty());
    assert!(matches!(store.delete_team(ops.id).await, Err(StoreError::TeamNotFound(_))));
    assert!(matches!(store.create_team(" padded").await, Err(StoreError::Invalid(_))));
}

pub async fn audit_log(store: S) {
    let actor = user(&store, "root", Role::Admin).await.id;
    let mut appended = Vec::new();
    for i in 0..5 {
        let mut entry = NewAuditEntry::new(Some(actor), "job_deleted");
        entry.object = Some(format!("job-{i}"));
        entry.remote_addr = Some(if i % 2 == 0 { addr("192.0.2.7") } else { addr("2001:db8::1") });
        entry.detail = Some(json!({ "n": i, "files": ["a.docx"] }));
        appended.push(store.append_audit(entry).await.expect("append"));
        // Distinct milliseconds, so `since` can fall between two entries.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let anonymous = store.append_audit(NewAuditEntry::new(None, "sign_in_failed")).await.unwrap();

    let epoch = OffsetDateTime::UNIX_EPOCH;
    let first = store.list_audit(epoch, None, 3).await.unwrap();
    assert_eq!(first, appended[..3].to_vec(), "oldest first, read back as written");
    let rest = store.list_audit(epoch, first.last().map(|e| e.id), 10).await.unwrap();
    let mut expected = appended[3..].to_vec();
    expected.push(anonymous.clone());
    assert_eq!(rest, expected);
    assert_eq!(rest[2].actor, None);

    let since = store.list_audit(appended[2].at, None, 10).await.unwrap();
    assert_eq!(since.first().map(|e| e.id), Some(appended[2].id));
    assert_eq!(since.len(), 4);
    assert_eq!(store.purge_audit(appended[3].at).await.unwrap(), 3);
    let left: Vec<_> =
        store.list_audit(epoch, None, 10).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(left, vec![appended[3].id, appended[4].id, anonymous.id]);

    for bad in ["", "Sign_in", "1st", "job deleted", &"a".repeat(65)] {
        let entry = NewAuditEntry::new(None, bad);
        assert!(matches!(store.append_audit(entry).await, Err(StoreError::Invalid(_))), "{bad:?}");
    }
    let mut big = NewAuditEntry::new(None, "note");
    big.detail = Some(json!({ "text": "x".repeat(5000) }));
    assert!(matches!(store.append_audit(big).await, Err(StoreError::Invalid(_))));
    assert!(matches!(store.list_audit(epoch, None, 0).await, Err(StoreError::Invalid(_))));
}

pub async fn usage_sums(store: S) {
    let fay = user(&store, "fay", Role::User).await.id;
    let gus = user(&store, "gus", Role::User).await.id;
    let (d1, d2, d3) =
        (day(2026, Month::March, 30), day(2026, Month::March, 31), day(2026, Month::April, 1));
    store.add_usage(fay, d1, 100).await.unwrap();
    store.add_usage(fay, d1, 50).await.unwrap();
    store.add_usage(fay, d2, 30).await.unwrap();
    store.add_usage(fay, d3, 1).await.unwrap();
    store.add_usage(gus, d2, 7).await.unwrap();

    assert_eq!(store.usage_between(fay, d1, d1).await.unwrap(), 150);
    assert_eq!(store.usage_between(fay, d1, d2).await.unwrap(), 180, "a month so far");
    assert_eq!(store.usage_between(fay, d3, d3).await.unwrap(), 1);
    assert_eq!(store.usage_between(gus, d1, d1).await.unwrap(), 0);
    let mut by_user = store.usage_by_user(d1, d2).await.unwrap();
    by_user.sort();
    let mut expected = vec![(fay, 180), (gus, 7)];
    expected.sort();
    assert_eq!(by_user, expected);
    assert!(
        store
            .usage_by_user(day(2025, Month::January, 1), day(2025, Month::December, 31))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.add_usage(UserId::new(), d1, 1).await,
        Err(StoreError::UserNotFound(_))
    ));
    assert!(matches!(store.add_usage(fay, d1, u64::MAX).await, Err(StoreError::Invalid(_))));
}

pub async fn sign_in_failures(store: S) {
    let (near, far) = (addr("198.51.100.4"), addr("2001:db8:1::"));
    let start = OffsetDateTime::now_utc() - time::Duration::seconds(1);
    for _ in 0..3 {
        store.record_sign_in_failure(Some("Alice"), Some(near)).await.unwrap();
    }
    store.record_sign_in_failure(Some("bob"), Some(near)).await.unwrap();
    store.record_sign_in_failure(Some("bob"), Some(near)).await.unwrap();
    store.record_sign_in_failure(Some("alice"), Some(far)).await.unwrap();
    store.record_sign_in_failure(None, Some(far)).await.unwrap();

    let alice = store.count_sign_in_failures(FailureKey::Login("ALICE"), start).await.unwrap();
    assert_eq!(alice.count, 4, "the login counts whatever its letter case");
    assert!(alice.last_at.is_some_and(|t| t >= start));
    let near_count = store.count_sign_in_failures(FailureKey::Address(near), start).await.unwrap();
    assert_eq!(near_count.count, 5);
    assert_eq!(
        store.count_sign_in_failures(FailureKey::Address(far), start).await.unwrap().count,
        2
    );
    let later = OffsetDateTime::now_utc() + time::Duration::minutes(1);
    let none = store.count_sign_in_failures(FailureKey::Login("alice"), later).await.unwrap();
    assert_eq!((none.count, none.last_at), (0, None));

    // A successful sign-in forgets the account's failures, not the addresses'.
    assert_eq!(store.clear_sign_in_failures("alice").await.unwrap(), 4);
    assert_eq!(
        store.count_sign_in_failures(FailureKey::Login("alice"), start).await.unwrap().count,
        0
    );
    assert_eq!(
        store.count_sign_in_failures(FailureKey::Address(near), start).await.unwrap().count,
        5
    );
    assert_eq!(
        store.count_sign_in_failures(FailureKey::Login("bob"), start).await.unwrap().count,
        2
    );

    assert_eq!(store.purge_sign_in_failures(later).await.unwrap(), 7);
    assert_eq!(
        store.count_sign_in_failures(FailureKey::Address(near), start).await.unwrap().count,
        0
    );
}

/// A caller value is all the scoped key methods need: an administrator's id with the user role
/// revokes only its own keys.
pub async fn key_revocation_follows_the_callers_role(store: S) {
    let root = user(&store, "root", Role::Admin).await;
    let hal = user(&store, "hal", Role::User).await;
    let key = store.create_api_key(api_key(hal.id, 1, "x")).await.unwrap();
    let as_user = Caller { user: root.id, role: Role::User };
    assert!(matches!(
        store.revoke_api_key(&as_user, key.id).await,
        Err(StoreError::ApiKeyNotFound(_))
    ));
    assert!(store.find_api_key(hash(1)).await.unwrap().is_some());
}
