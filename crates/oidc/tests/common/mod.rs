//! The real OpenID provider (`tests/oidc/provider.mjs`, npm `oidc-provider`) started on
//! 127.0.0.1 for one test, and a small scripted browser that signs in through its development
//! login and consent forms.
//!
//! The provider is found through `TRADIA_OIDC_PROVIDER` (set by `.ci/run`, after `npm ci` in
//! `tests/oidc`). Without it, or without `node`, a test skips with a message, and fails when
//! `CI=true`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tradia_oidc::{OidcClient, OidcSettings};
use url::Url;

pub const CLIENT_ID: &str = "tradia-test";
pub const CLIENT_SECRET: &str = "tradia-test-secret-0123456789";
/// Never served: the scripted browser stops at the provider's redirect to it.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/api/v1/auth/oidc/callback";
pub const POST_LOGOUT_URI: &str = "http://127.0.0.1:9/";

/// A running provider; killed when dropped.
pub struct Provider {
    pub issuer: String,
    child: Child,
}

impl Provider {
    /// Starts the provider, or returns `None` (after saying why) when the test must skip.
    pub async fn start() -> Option<Self> {
        Self::start_with(&[]).await
    }

    /// Starts the provider with extra environment variables (`OIDC_TAMPER`…).
    pub async fn start_with(env: &[(&str, &str)]) -> Option<Self> {
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
            .env("OIDC_REDIRECT_URIS", REDIRECT_URI)
            .env("OIDC_POST_LOGOUT_REDIRECT_URIS", POST_LOGOUT_URI)
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

    /// The settings for this provider's test client, reading `realm_access.roles`.
    pub fn settings(&self) -> OidcSettings {
        let mut settings = OidcSettings::new(&self.issuer, CLIENT_ID, CLIENT_SECRET.into());
        settings.role_claim = Some("realm_access.roles".into());
        settings.admin_values = vec!["tradia-admin".into()];
        settings.http_timeout = Duration::from_secs(10);
        settings
    }

    pub async fn client(&self) -> OidcClient {
        OidcClient::discover(self.settings()).await.expect("discovery")
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

pub fn redirect_uri() -> Url {
    Url::parse(REDIRECT_URI).unwrap()
}

/// What the provider sent the browser back to Tradia's callback with.
#[derive(Debug)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// A scripted browser: no automatic redirects, its own cookie jar (name → value; the
/// provider's cookies are all host-only on one host, so paths do not matter here).
pub struct Browser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self { http, cookies: BTreeMap::new() }
    }

    /// Follows the authorisation URL through the login form (as `login`, any password) and
    /// the consent form until the provider redirects to [`REDIRECT_URI`].
    pub async fn sign_in(&mut self, authorize_url: &Url, login: &str) -> Callback {
        let mut url = authorize_url.clone();
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
                let location = response.headers()["location"].to_str().unwrap().to_string();
                url = url.join(&location).unwrap();
                if url.as_str().starts_with(REDIRECT_URI) {
                    let query: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
                    return Callback {
                        code: query.get("code").cloned(),
                        state: query.get("state").cloned(),
                        error: query.get("error").cloned(),
                    };
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
        panic!("the sign-in did not come back to the callback in 20 steps");
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
            let expired = text.to_ascii_lowercase().contains("expires=thu, 01 jan 1970");
            if value.is_empty() || expired {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().to_string(), value.to_string());
            }
        }
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

fn html_unescape(text: &str) -> String {
    text.replace("&#x2F;", "/").replace("&#47;", "/").replace("&amp;", "&")
}

/// Runs the whole flow for `login` and returns the pending login with the callback.
pub async fn sign_in(client: &OidcClient, login: &str) -> (tradia_oidc::PendingLogin, Callback) {
    let (authorize_url, pending) = client.begin(&redirect_uri(), "/jobs");
    let callback = Browser::new().sign_in(&authorize_url, login).await;
    (pending, callback)
}
