//! The HTTP client the OpenID library talks through: the workspace's reqwest (rustls), with
//! the limits a relying party needs. Redirects are never followed (the OpenID Connect library
//! asks for this: a redirect could turn a token request into a request to another host), every
//! request has a time limit, and a body larger than [`MAX_BODY_BYTES`] is refused while it is
//! read. A 5xx answer is an error here, so that "the provider is down" is told apart from "the
//! provider said no".

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse, http};
use tradia_core::redact_url;

use crate::error::describe;

/// The largest answer read from the provider: discovery documents and key sets are a few KiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A request to the provider that did not produce an answer worth parsing.
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct HttpError {
    /// The URL asked, redacted.
    pub url: String,
    /// What happened.
    pub reason: String,
}

/// reqwest behind `openidconnect`'s [`AsyncHttpClient`].
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    /// A client whose every request is bounded by `timeout`.
    pub(crate) fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let inner = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("tradia/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { inner })
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = redact_url(&request.uri().to_string());
        let fail = |reason: String| HttpError { url: url.clone(), reason };
        let request = reqwest::Request::try_from(request).map_err(|e| fail(describe(&e)))?;
        let mut response =
            self.inner.execute(request).await.map_err(|e| fail(describe(&e.without_url())))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(fail(format!("the provider answered {status}")));
        }
        let mut builder = http::Response::builder().status(status.as_u16());
        for (name, value) in response.headers() {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let mut body = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|e| fail(describe(&e.without_url())))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(fail(format!("answer larger than {MAX_BODY_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        builder.body(body).map_err(|e| fail(describe(&e)))
    }
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
