//! Tests only (a dev-dependency of `tradia-oidc` and `tradia-server`): the real OpenID provider
//! (`tests/oidc/provider.mjs`, npm `oidc-provider`) started on 127.0.0.1, and a scripted browser
//! (no automatic redirects, its own cookie jar) that goes through the provider's development
//! login and consent forms.
//!
//! Both test suites drive the same provider the same way; what differs (the relying party's
//! client in `tradia-oidc`, the whole service in `tradia-server`) stays in each suite.
//!
//! The provider is found through `TRADIA_OIDC_PROVIDER` (set by `.ci/run`, after `npm ci` in
//! `tests/oidc`). Without it, or without `node`, [`Provider::start`] says why and returns `None`
//! (the test skips), and panics when `CI=true`.
//!
//! Test code: a failure here is a failed test, so it panics rather than returning errors.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

/// The test client registered with the provider.
pub const CLIENT_ID: &str = "tradia-test";
/// Its secret.
pub const CLIENT_SECRET: &str = "tradia-test-secret-0123456789";

/// A running provider; killed when dropped.
pub struct Provider {
    /// Its issuer URL.
    pub issuer: String,
    child: Child,
}

impl Provider {
    /// Starts the provider with the test client's `redirect_uri` and `post_logout_uri`, and
    /// extra environment variables (`OIDC_TAMPER`…); `None` (after saying why) to skip.
    pub async fn start(
        redirect_uri: &str,
        post_logout_uri: &str,
        env: &[(&str, &str)],
    ) -> Option<Self> {
        let script = match std::env::var("TRADIA_OIDC_PROVIDER") {
            Ok(path) if !path.is_empty() => path,
            _ => return skip("TRADIA_OIDC_PROVIDER is not set (see tests/oidc/provider.mjs)"),
        };
        let node_found = Command::new("node")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|status| status.success());
        if !node_found {
            return skip("node is not installed");
        }
        let mut command = Command::new("node");
        command
            .arg(&script)
            .env("OIDC_PORT", "0")
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_REDIRECT_URIS", redirect_uri)
            .env("OIDC_POST_LOGOUT_REDIRECT_URIS", post_logout_uri)
            .env("OIDC_EXIT_ON_STDIN_CLOSE", "1")
            .env_remove("OIDC_TAMPER")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("spawn node");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await.ok().flatten() {
                if let Some(issuer) = line.strip_prefix("ready ") {
                    return Some(issuer.to_string());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let Some(issuer) = ready else {
            let _ = child.start_kill();
            let mut stderr = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr).await;
            panic!("the provider {script} did not start (npm ci in tests/oidc?):\n{stderr}");
        };
        // Keep reading its output so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        if let Some(mut stderr) = child.stderr.take() {
            tokio::spawn(async move {
                let mut sink = Vec::new();
                let _ = stderr.read_to_end(&mut sink).await;
            });
        }
        Some(Self { issuer, child })
    }

    /// Stops the provider and waits until it has exited.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn skip<T>(why: &str) -> Option<T> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and the OpenID provider test cannot run: {why}");
    }
    eprintln!("skipping the OpenID provider test: {why}");
    None
}

/// A scripted browser: no automatic redirects, one cookie jar (name → value: the provider's
/// cookies are host-only, and the service and the provider listen on the same host, where
/// browsers do not separate cookies by port).
pub struct Browser {
    http: reqwest::Client,
    /// The jar.
    pub cookies: BTreeMap<String, String>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A browser with an empty jar.
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self { http, cookies: BTreeMap::new() }
    }

    /// A GET with the jar's cookies, keeping those answered.
    pub async fn get(&mut self, url: &Url) -> reqwest::Response {
        let request = self.with_cookies(self.http.get(url.clone()));
        let response = request.send().await.unwrap();
        self.keep_cookies(&response);
        response
    }

    /// From `url` (the provider's authorisation URL), follows redirects and fills the login
    /// form (as `login`, any password) and the consent form, until a redirect goes to a URL for
    /// which `arrived` is true; returns that URL without going there.
    pub async fn through_provider(
        &mut self,
        mut url: Url,
        login: &str,
        arrived: impl Fn(&Url) -> bool,
    ) -> Url {
        let mut form: Option<Vec<(String, String)>> = None;
        for _ in 0..20 {
            let request = match form.take() {
                Some(fields) => {
                    let body = url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(fields)
                        .finish();
                    self.http
                        .post(url.clone())
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body)
                }
                None => self.http.get(url.clone()),
            };
            let response = self.with_cookies(request).send().await.unwrap();
            self.keep_cookies(&response);
            let status = response.status();
            if status.is_redirection() {
                url = url.join(location(&response)).unwrap();
                if arrived(&url) {
                    return url;
                }
                continue;
            }
            let page = response.text().await.unwrap();
            assert!(status.is_success(), "{status} at {url}: {page}");
            let action = between(&page, "action=\"", "\"").expect("a form");
            let prompt = between(&page, "name=\"prompt\" value=\"", "\"").expect("a prompt");
            let mut fields = vec![("prompt".to_string(), prompt.to_string())];
            if prompt == "login" {
                fields.push(("login".into(), login.into()));
                fields.push(("password".into(), "any password".into()));
            }
            url = url.join(&html_unescape(action)).unwrap();
            form = Some(fields);
        }
        panic!("the sign-in did not come back from the provider in 20 steps");
    }

    fn with_cookies(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.cookies.is_empty() {
            return request;
        }
        let header =
            self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        request.header("cookie", header)
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let Some((name, value)) = pair.split_once('=') else { continue };
            let lower = text.to_ascii_lowercase();
            let expired = lower.contains("expires=thu, 01 jan 1970") || lower.contains("max-age=0");
            if value.is_empty() || expired {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().to_string(), value.to_string());
            }
        }
    }
}

/// The `Location` of a redirect.
pub fn location(response: &reqwest::Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

fn html_unescape(text: &str) -> String {
    text.replace("&#x2F;", "/").replace("&#47;", "/").replace("&amp;", "&")
}
