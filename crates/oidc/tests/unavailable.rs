//! A provider that cannot be used gives an `oidc_unavailable`-class error, quickly and with
//! its URL redacted: nothing listening, silence past the time limit, a 5xx, an oversized
//! answer, the wrong issuer, Tradia's client refused, the provider gone between the redirect
//! and the callback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Provider, sign_in};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tradia_oidc::{OidcClient, OidcError, OidcErrorKind, OidcSettings};

fn settings(issuer: &str) -> OidcSettings {
    let mut settings = OidcSettings::new(issuer, "tradia", "secret".into());
    settings.http_timeout = Duration::from_secs(1);
    settings
}

/// A port on 127.0.0.1 where nothing listens.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Serves `answer` (a whole HTTP response, or nothing at all when `None`) to every connection.
async fn fixed_server(answer: Option<Vec<u8>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                match answer {
                    Some(bytes) => {
                        let _ = stream.write_all(&bytes).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    port
}

fn unreachable_reason(err: &OidcError) -> &str {
    assert_eq!(err.kind(), OidcErrorKind::Unavailable, "{err:?}");
    match err {
        OidcError::Unreachable { reason, .. } => reason,
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn nothing_listening_is_unreachable_and_the_message_hides_credentials() {
    let port = closed_port().await;
    let err =
        OidcClient::discover(settings(&format!("http://admin:hunter2@127.0.0.1:{port}/realm")))
            .await
            .unwrap_err();
    unreachable_reason(&err);
    let shown = err.to_string();
    assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[tokio::test]
async fn a_silent_provider_is_given_up_on_within_the_time_limit() {
    let port = fixed_server(None).await;
    let started = Instant::now();
    let err =
        OidcClient::discover(settings(&format!("http://127.0.0.1:{port}"))).await.unwrap_err();
    unreachable_reason(&err);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_server_error_is_unreachable_and_an_oversized_answer_is_cut_short() {
    let port = fixed_server(Some(
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            .to_vec(),
    ))
    .await;
    let err =
        OidcClient::discover(settings(&format!("http://127.0.0.1:{port}"))).await.unwrap_err();
    assert!(unreachable_reason(&err).contains("503"), "{err}");

    let body = vec![b' '; tradia_oidc::MAX_BODY_BYTES + 1];
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    let port = fixed_server(Some(answer)).await;
    let err =
        OidcClient::discover(settings(&format!("http://127.0.0.1:{port}"))).await.unwrap_err();
    assert!(unreachable_reason(&err).contains("larger than"), "{err}");
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_before_any_request() {
    for issuer in ["not a url", "ftp://127.0.0.1/"] {
        let err = OidcClient::discover(settings(issuer)).await.unwrap_err();
        assert!(matches!(err, OidcError::InvalidSettings(_)), "{issuer}: {err:?}");
        assert_eq!(err.kind(), OidcErrorKind::Unavailable);
    }
    let mut bad_scope = settings("http://127.0.0.1:9");
    bad_scope.scopes = vec!["profile email".into()];
    let err = OidcClient::discover(bad_scope).await.unwrap_err();
    assert!(matches!(err, OidcError::InvalidSettings(_)), "{err:?}");
}

#[tokio::test]
async fn a_wrong_issuer_is_an_unusable_provider() {
    let Some(provider) = Provider::start().await else { return };
    // A path the provider does not serve: its discovery URL answers 404.
    let mut wrong = provider.settings();
    wrong.issuer = format!("{}/realms/other", provider.issuer);
    let err = OidcClient::discover(wrong).await.unwrap_err();
    assert!(matches!(err, OidcError::InvalidProvider { .. }), "{err:?}");
    assert_eq!(err.kind(), OidcErrorKind::Unavailable);
    // Another host's name for itself (a document served here but naming another issuer)
    // cannot be mistaken for this one.
    let mut other = provider.settings();
    other.issuer = provider.issuer.replace("127.0.0.1", "localhost");
    let err = OidcClient::discover(other).await.unwrap_err();
    let OidcError::InvalidProvider { reason, .. } = &err else { panic!("{err:?}") };
    assert!(reason.contains(&provider.issuer), "{reason}");
}

#[tokio::test]
async fn an_issuer_differing_only_by_a_final_slash_is_taken_as_the_provider_spells_it() {
    let Some(provider) = Provider::start().await else { return };
    // What `Url::parse(issuer).to_string()` gives for a host-only issuer.
    let mut slash = provider.settings();
    slash.issuer = format!("{}/", provider.issuer);
    let client = OidcClient::discover(slash).await.unwrap();
    assert_eq!(client.issuer(), provider.issuer);
    let (pending, callback) = sign_in(&client, "bob").await;
    let identity =
        client.complete(pending, &callback.code.unwrap(), &callback.state.unwrap()).await.unwrap();
    assert_eq!(identity.issuer, provider.issuer, "the spelling ID tokens carry");
}

#[tokio::test]
async fn a_wrong_client_secret_is_the_settings_fault_not_the_users() {
    let Some(provider) = Provider::start().await else { return };
    let mut settings = provider.settings();
    settings.client_secret = Some("not-the-secret".into());
    let client = OidcClient::discover(settings).await.unwrap();
    let (pending, callback) = sign_in(&client, "alice").await;
    let err = client
        .complete(pending, &callback.code.unwrap(), &callback.state.unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, OidcError::ClientRejected(_)), "{err:?}");
    assert_eq!(err.kind(), OidcErrorKind::Unavailable);
    assert!(!err.to_string().contains("not-the-secret"), "{err}");
}

#[tokio::test]
async fn a_provider_gone_between_the_redirect_and_the_callback_is_unreachable() {
    let Some(provider) = Provider::start().await else { return };
    let client = provider.client().await;
    let (pending, callback) = sign_in(&client, "alice").await;
    provider.stop().await;
    let err = client
        .complete(pending, &callback.code.unwrap(), &callback.state.unwrap())
        .await
        .unwrap_err();
    unreachable_reason(&err);
}

#[tokio::test]
async fn a_provider_down_at_start_up_is_used_once_it_is_back() {
    let port = closed_port().await;
    let issuer = format!("http://127.0.0.1:{port}");
    let retry_after = Duration::from_secs(2);
    let lazy = tradia_oidc::LazyOidcClient::with_retry_after(
        OidcSettings::new(&issuer, common::CLIENT_ID, common::CLIENT_SECRET.into()),
        retry_after,
    );
    // The failure is remembered from a moment between these two.
    let before = Instant::now();
    unreachable_reason(&lazy.get().await.unwrap_err());
    let after = Instant::now();

    let port_text = port.to_string();
    let Some(provider) = Provider::start_with(&[("OIDC_PORT", &port_text)]).await else { return };
    assert_eq!(provider.issuer, issuer);
    let remembered = lazy.get().await;
    if before.elapsed() < retry_after {
        // The provider is up, so only the remembered failure can answer this.
        unreachable_reason(&remembered.unwrap_err());
    }
    tokio::time::sleep(retry_after.saturating_sub(after.elapsed())).await;
    let client = lazy.get().await.expect("discovered once retry_after has passed");
    assert_eq!(client.issuer(), issuer);
    let again = lazy.get().await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&client, &again), "discovered once, then kept");
}
