//! The authorisation-code flow end to end against the real `oidc-provider`: identities and
//! roles come out right (from the user info, or from the ID token alone when it carries them),
//! and a forged state, a wrong PKCE verifier, a replayed code or a stale pending login are
//! refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Provider, sign_in};
use tradia_oidc::{OidcError, OidcErrorKind, PendingLogin, is_admin};

#[tokio::test]
async fn alice_signs_in_with_her_claims_and_the_admin_role() {
    let Some(provider) = Provider::start().await else { return };
    let client = provider.client().await;
    assert_eq!(client.issuer(), provider.issuer);
    let (pending, callback) = sign_in(&client, "alice").await;
    assert_eq!(pending.return_to(), "/jobs");
    assert_eq!(callback.state.as_deref(), Some(pending.state()));
    let code = callback.code.expect("a code");
    let state = callback.state.unwrap();

    // As the server keeps it between the redirect and the callback: sealed in a cookie.
    let key = tradia_oidc::SealKey::derive(common::CLIENT_SECRET.as_bytes()).unwrap();
    let cookie = pending.seal(&key).unwrap();
    let pending = PendingLogin::unseal(&cookie, &key).unwrap();
    let identity = client.complete(pending, &code, &state).await.unwrap();
    assert_eq!(identity.issuer, provider.issuer);
    assert_eq!(identity.subject, "alice");
    assert_eq!(identity.login, "alice");
    assert_eq!(identity.email.as_deref(), Some("alice@example.org"));
    assert_eq!(identity.email_verified, Some(true));
    assert_eq!(identity.display_name, "Alice Martin");
    assert_eq!(identity.roles, ["tradia-admin", "staff"]);
    assert!(is_admin(&identity, client.settings()));
}

#[tokio::test]
async fn bob_is_a_user_and_another_role_claim_can_be_a_plain_string() {
    let Some(provider) = Provider::start().await else { return };
    let client = provider.client().await;
    let (pending, callback) = sign_in(&client, "bob").await;
    let identity =
        client.complete(pending, &callback.code.unwrap(), &callback.state.unwrap()).await.unwrap();
    assert_eq!(identity.subject, "bob");
    assert_eq!(identity.display_name, "Bob Durand");
    assert_eq!(identity.email_verified, Some(false));
    assert_eq!(identity.roles, ["staff"]);
    assert!(!is_admin(&identity, client.settings()));

    let mut settings = provider.settings();
    settings.role_claim = Some("groups".into());
    settings.admin_values = vec!["translators".into()];
    let client = tradia_oidc::OidcClient::discover(settings).await.unwrap();
    let (pending, callback) = sign_in(&client, "bob").await;
    let identity =
        client.complete(pending, &callback.code.unwrap(), &callback.state.unwrap()).await.unwrap();
    assert_eq!(identity.roles, ["translators"]);
    assert!(is_admin(&identity, client.settings()));
}

#[tokio::test]
async fn a_forged_state_is_refused_before_the_code_is_spent() {
    let Some(provider) = Provider::start().await else { return };
    let client = provider.client().await;
    let (pending, callback) = sign_in(&client, "alice").await;
    let code = callback.code.unwrap();
    let mut forged = callback.state.clone().unwrap();
    forged.push('x');
    let err = client.complete(pending.clone(), &code, &forged).await.unwrap_err();
    assert!(matches!(err, OidcError::StateMismatch), "{err:?}");
    assert_eq!(err.kind(), OidcErrorKind::Failed);
    // The state is checked first: the code was not sent, so the right state still works.
    client.complete(pending, &code, &callback.state.unwrap()).await.unwrap();
}

#[tokio::test]
async fn a_replayed_code_or_a_wrong_pkce_verifier_is_refused_by_the_provider() {
    let Some(provider) = Provider::start().await else { return };
    let client = provider.client().await;
    let (pending, callback) = sign_in(&client, "alice").await;
    let (code, state) = (callback.code.unwrap(), callback.state.unwrap());

    let mut json: serde_json::Value = serde_json::to_value(&pending).unwrap();
    json["pkce_verifier"] = "a-verifier-that-is-long-enough-but-not-the-one-sent-0123456789".into();
    let wrong_verifier: PendingLogin = serde_json::from_value(json).unwrap();
    let err = client.complete(wrong_verifier, &code, &state).await.unwrap_err();
    assert!(
        matches!(err, OidcError::TokenRejected(ref m) if m.contains("invalid_grant")),
        "{err:?}"
    );

    // The provider revokes a code on a failed attempt too, so a second sign-in is needed to
    // show a replay being refused.
    let (pending, callback) = sign_in(&client, "alice").await;
    let (code, state) = (callback.code.unwrap(), callback.state.unwrap());
    client.complete(pending.clone(), &code, &state).await.unwrap();
    let err = client.complete(pending, &code, &state).await.unwrap_err();
    assert!(matches!(err, OidcError::TokenRejected(_)), "{err:?}");
    assert_eq!(err.kind(), OidcErrorKind::Failed);
}

#[tokio::test]
async fn a_pending_login_older_than_the_login_timeout_is_refused() {
    let Some(provider) = Provider::start().await else { return };
    let client = provider.client().await;
    let (pending, callback) = sign_in(&client, "alice").await;
    let mut json: serde_json::Value = serde_json::to_value(&pending).unwrap();
    let created = json["created"].as_i64().unwrap();
    json["created"] = (created - 11 * 60).into();
    let stale: PendingLogin = serde_json::from_value(json).unwrap();
    let err = client
        .complete(stale, &callback.code.unwrap(), &callback.state.unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, OidcError::LoginExpired), "{err:?}");
}

#[tokio::test]
async fn the_authorisation_request_asks_for_pkce_and_the_logout_url_names_the_client() {
    let Some(provider) = Provider::start().await else { return };
    let client = provider.client().await;
    let (url, pending) = client.begin(&common::redirect_uri(), "https://evil.example/");
    assert_eq!(pending.return_to(), "/", "an absolute return_to is an open redirect");
    let query: std::collections::BTreeMap<String, String> =
        url.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], common::CLIENT_ID);
    assert_eq!(query["redirect_uri"], common::REDIRECT_URI);
    assert_eq!(query["state"], pending.state());
    assert!(query["scope"].split(' ').eq(["openid", "profile", "email"]), "{}", query["scope"]);
    assert!(!url.as_str().contains(common::CLIENT_SECRET));

    let end_session = client.end_session_endpoint().expect("rpInitiatedLogout is enabled");
    assert!(end_session.as_str().starts_with(&provider.issuer), "{end_session}");
    let post_logout = url::Url::parse(common::POST_LOGOUT_URI).unwrap();
    let logout = client.logout_url(Some(&post_logout)).unwrap();
    let query: std::collections::BTreeMap<String, String> =
        logout.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], common::CLIENT_ID);
    assert_eq!(query["post_logout_redirect_uri"], common::POST_LOGOUT_URI);
    // The provider accepts it: it shows its logout confirmation rather than an error.
    let answer = reqwest::get(logout).await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
}

#[tokio::test]
async fn claims_in_the_id_token_spare_the_user_info_request() {
    // This provider's user-info endpoint answers 503: asking it would fail the sign-in.
    let Some(provider) = Provider::start_with(&[("OIDC_TAMPER", "id-token-claims")]).await else {
        return;
    };
    let client = provider.client().await;
    let (pending, callback) = sign_in(&client, "alice").await;
    let identity =
        client.complete(pending, &callback.code.unwrap(), &callback.state.unwrap()).await.unwrap();
    assert_eq!(identity.login, "alice");
    assert_eq!(identity.display_name, "Alice Martin");
    assert_eq!(identity.roles, ["tradia-admin", "staff"]);
}

#[tokio::test]
async fn user_info_that_is_needed_and_down_is_unavailable() {
    let Some(provider) = Provider::start_with(&[("OIDC_TAMPER", "userinfo-down")]).await else {
        return;
    };
    let client = provider.client().await;
    let (pending, callback) = sign_in(&client, "alice").await;
    let err = client
        .complete(pending, &callback.code.unwrap(), &callback.state.unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err, OidcError::Unreachable { ref url, .. } if url.ends_with("/me")),
        "{err:?}"
    );
    assert_eq!(err.kind(), OidcErrorKind::Unavailable);
}

#[tokio::test]
async fn a_public_client_signs_in_with_pkce_alone() {
    let Some(provider) = Provider::start().await else { return };
    let mut settings = tradia_oidc::OidcSettings::public(
        &provider.issuer,
        format!("{}-public", common::CLIENT_ID),
    );
    settings.role_claim = Some("realm_access.roles".into());
    let client = tradia_oidc::OidcClient::discover(settings).await.unwrap();
    let (pending, callback) = sign_in(&client, "alice").await;
    let identity =
        client.complete(pending, &callback.code.unwrap(), &callback.state.unwrap()).await.unwrap();
    assert_eq!(identity.subject, "alice");
    assert_eq!(identity.roles, ["tradia-admin", "staff"]);
}
