//! Every check on the ID token refuses a token that fails only that check. The real provider
//! alters its own token answers (`OIDC_TAMPER`, see `tests/oidc/provider.mjs`): re-signed with
//! its real key when one claim is changed, so that the signature is good and only the claim
//! check can catch it, or signed by a key it does not publish.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Provider, sign_in};
use tradia_oidc::{OidcError, OidcErrorKind};

/// Signs in as alice through a provider started with `OIDC_TAMPER=mode` and returns the
/// reason the ID token was refused.
async fn refusal(mode: &str) -> Option<String> {
    let provider = Provider::start_with(&[("OIDC_TAMPER", mode)]).await?;
    let client = provider.client().await;
    let (pending, callback) = sign_in(&client, "alice").await;
    let result = client.complete(pending, &callback.code.unwrap(), &callback.state.unwrap()).await;
    match result {
        Err(err @ OidcError::InvalidIdToken(_)) => {
            assert_eq!(err.kind(), OidcErrorKind::Failed);
            let OidcError::InvalidIdToken(reason) = err else { unreachable!() };
            eprintln!("OIDC_TAMPER={mode}: {reason}");
            Some(reason.to_lowercase())
        }
        other => panic!("OIDC_TAMPER={mode}: expected InvalidIdToken, got {other:?}"),
    }
}

#[tokio::test]
async fn a_payload_changed_under_the_same_signature_is_refused() {
    let Some(reason) = refusal("signature").await else { return };
    assert!(reason.contains("signature"), "{reason}");
}

#[tokio::test]
async fn a_token_for_another_nonce_is_refused() {
    let Some(reason) = refusal("nonce").await else { return };
    assert!(reason.contains("nonce"), "{reason}");
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let Some(reason) = refusal("audience").await else { return };
    assert!(reason.contains("audience"), "{reason}");
}

#[tokio::test]
async fn a_token_from_another_issuer_is_refused() {
    let Some(reason) = refusal("issuer").await else { return };
    assert!(reason.contains("issuer"), "{reason}");
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let Some(reason) = refusal("expired").await else { return };
    assert!(reason.contains("expired"), "{reason}");
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_the_published_key_id_is_refused() {
    let Some(reason) = refusal("foreign-key").await else { return };
    assert!(reason.contains("signature"), "{reason}");
}

#[tokio::test]
async fn an_unsigned_token_is_refused() {
    let Some(reason) = refusal("unsigned").await else { return };
    assert!(reason.contains("no signature"), "{reason}");
}

#[tokio::test]
async fn a_token_naming_an_unpublished_key_is_refused_after_fetching_the_keys_again() {
    let Some(reason) = refusal("unknown-key").await else { return };
    assert!(reason.contains("key the provider does not publish"), "{reason}");
}

#[tokio::test]
async fn a_token_signed_by_a_key_published_after_discovery_is_accepted() {
    // The provider's first key-set answer (read at discovery) leaves out the key it signs
    // with; the client fetches the set again and finds it.
    let Some(provider) = Provider::start_with(&[("OIDC_TAMPER", "rotate")]).await else { return };
    let client = provider.client().await;
    let (pending, callback) = sign_in(&client, "alice").await;
    let identity =
        client.complete(pending, &callback.code.unwrap(), &callback.state.unwrap()).await.unwrap();
    assert_eq!(identity.subject, "alice");
}
