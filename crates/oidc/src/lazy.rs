//! Discovery that does not have to succeed at start-up. A service whose provider is down when
//! it starts should still start (local accounts keep working) and sign people in through the
//! provider as soon as it is back: [`LazyOidcClient`] discovers on first use, keeps the client
//! once discovery succeeds, and after a failure answers the same error without asking the
//! provider again until `retry_after` has passed, so that a burst of sign-in attempts does not
//! become a burst of requests to a provider that is struggling.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::client::OidcClient;
use crate::error::OidcError;
use crate::settings::OidcSettings;

/// How long a failed discovery is remembered before the provider is asked again.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(10);

/// An [`OidcClient`] discovered when first needed.
#[derive(Debug)]
pub struct LazyOidcClient {
    settings: OidcSettings,
    retry_after: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
enum State {
    Pending,
    Ready(Arc<OidcClient>),
    Failed { error: OidcError, at: Instant },
}

impl LazyOidcClient {
    /// Nothing is asked yet; the first [`LazyOidcClient::get`] discovers.
    pub fn new(settings: OidcSettings) -> Self {
        Self::with_retry_after(settings, DEFAULT_RETRY_AFTER)
    }

    /// As [`LazyOidcClient::new`], remembering a failure for `retry_after`.
    pub fn with_retry_after(settings: OidcSettings, retry_after: Duration) -> Self {
        Self { settings, retry_after, state: Mutex::new(State::Pending) }
    }

    /// The settings it discovers with (for [`crate::is_admin`] and the role claim).
    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// The discovered client, discovering now if it has not been yet or if the last failure is
    /// older than `retry_after`. Concurrent callers wait for one discovery.
    pub async fn get(&self) -> Result<Arc<OidcClient>, OidcError> {
        let mut state = self.state.lock().await;
        match &*state {
            State::Ready(client) => return Ok(Arc::clone(client)),
            State::Failed { error, at } if at.elapsed() < self.retry_after => {
                return Err(error.clone());
            }
            State::Failed { .. } | State::Pending => {}
        }
        match OidcClient::discover(self.settings.clone()).await {
            Ok(client) => {
                let client = Arc::new(client);
                *state = State::Ready(Arc::clone(&client));
                Ok(client)
            }
            Err(error) => {
                tracing::warn!(error = %error, "OpenID provider discovery failed");
                *state = State::Failed { error: error.clone(), at: Instant::now() };
                Err(error)
            }
        }
    }
}
