//! A server with local accounts, an administrator made through the store, and clients that
//! sign in with a cookie or an API key.

use std::sync::Arc;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tradia_server::accounts::secrets::hash_password;
use tradia_server::settings::AccessSettings;
use tradia_server::{PseudoGateway, RunningServer, ServerSettings};
use tradia_store::{NewUser, Role};

/// The databases to run on: SQLite always, PostgreSQL when configured.
pub fn databases() -> Vec<Option<String>> {
    let mut out = vec![None];
    match std::env::var("TRADIA_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => out.push(Some(url)),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "TRADIA_TEST_DATABASE_URL is not set and CI=true: the PostgreSQL runs must happen"
            );
            println!("PostgreSQL runs skipped: TRADIA_TEST_DATABASE_URL is not set");
        }
    }
    out
}

/// A login unique to this run (PostgreSQL databases are shared between runs).
pub fn unique(login: &str) -> String {
    format!("{login}-{}", &uuid::Uuid::now_v7().simple().to_string()[20..])
}

/// A running server and its administrator.
pub struct App {
    pub server: RunningServer,
    pub base: String,
    pub admin: Client,
    _dir: tempfile::TempDir,
}

/// A password good enough for the service.
pub const PASSWORD: &str = "correct horse battery staple";

impl App {
    /// Starts a server with `access` (local accounts by default) on SQLite or `database`.
    pub async fn start(database: Option<&str>, access: AccessSettings) -> App {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = ServerSettings::for_tests(dir.path());
        settings.access = access;
        if let Some(url) = database {
            settings.database_url = url.to_string();
        }
        Self::start_with(dir, settings, Arc::new(PseudoGateway)).await
    }

    /// Starts a server with these settings and gateway, keeping `dir` alive with it.
    pub async fn start_with(
        dir: tempfile::TempDir,
        settings: ServerSettings,
        gateway: Arc<dyn tradia_server::LlmGateway>,
    ) -> App {
        let server = tradia_server::start(settings, gateway, None).await.unwrap();
        let base = format!("http://{}", server.addr);
        let login = unique("admin");
        let mut admin = NewUser::new(&login, Role::Admin);
        admin.password_hash = Some(hash_password(PASSWORD).await.unwrap());
        server.state().jobs.store().create_user(admin).await.unwrap();
        let admin = Client::sign_in(&base, &login, PASSWORD).await;
        App { server, base, admin, _dir: dir }
    }

    /// Creates a user (through the admin API) and signs them in.
    pub async fn user(&self, name: &str) -> Client {
        let login = unique(name);
        let (status, body) = self
            .admin
            .json(
                Method::POST,
                "/api/v1/admin/users",
                json!({"login": login, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        Client::sign_in(&self.base, &login, PASSWORD).await
    }

    /// An anonymous client.
    pub fn anonymous(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: http(),
            auth: Auth::None,
            login: String::new(),
            id: String::new(),
        }
    }

    pub async fn stop(self) {
        self.server.shutdown().await.unwrap();
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap()
}

/// How a client authenticates.
#[derive(Clone)]
pub enum Auth {
    None,
    Cookie { cookie: String, csrf: String },
    Key(String),
}

/// A client of one user.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub auth: Auth,
    pub login: String,
    pub id: String,
}

impl Client {
    /// Signs in with a password; the client then sends the session cookie and CSRF token.
    pub async fn sign_in(base: &str, login: &str, password: &str) -> Client {
        let http = http();
        let response = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"login": login, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "sign-in of {login}");
        let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
            "{set_cookie}"
        );
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        let body: Value = response.json().await.unwrap();
        let csrf = body["csrf_token"].as_str().unwrap().to_string();
        Client {
            base: base.to_string(),
            http,
            auth: Auth::Cookie { cookie, csrf },
            login: login.to_string(),
            id: body["user"]["id"].as_str().unwrap().to_string(),
        }
    }

    /// The same user with a new API key instead of the cookie.
    pub async fn with_key(&self) -> Client {
        let (status, body) =
            self.json(Method::POST, "/api/v1/me/keys", json!({"name": "tests"})).await;
        assert_eq!(status, 201, "{body}");
        let key = body["key"].as_str().unwrap().to_string();
        assert!(key.starts_with("tdk_"));
        Client { auth: Auth::Key(key), ..self.clone() }
    }

    /// A request with this client's credentials (and CSRF token for a cookie).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match &self.auth {
            Auth::None => builder,
            Auth::Cookie { cookie, csrf } => {
                builder.header("cookie", cookie).header("x-csrf-token", csrf)
            }
            Auth::Key(key) => builder.bearer_auth(key),
        }
    }

    /// Sends a JSON body; returns status and JSON answer (`null` when none).
    pub async fn json(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self.request(method, path).json(&body).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Sends a bodiless request; returns status and JSON answer (`null` when none).
    pub async fn call(&self, method: Method, path: &str) -> (StatusCode, Value) {
        let response = self.request(method, path).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Uploads a small Markdown document; returns the job id.
    pub async fn create_job(&self) -> String {
        self.upload("secret-notes.md", b"# Bonjour\n\nLe monde est grand.\n".to_vec()).await
    }

    /// Uploads one file to translate into English; returns the job id.
    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> String {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
        let form = reqwest::multipart::Form::new().part("file", part).text("target_lang", "en");
        let response =
            self.request(Method::POST, "/api/v1/jobs").multipart(form).send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 202, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Waits until the caller's job is done.
    pub async fn wait_done(&self, id: &str) {
        for _ in 0..600 {
            let (_, job) = self.call(Method::GET, &format!("/api/v1/jobs/{id}")).await;
            if job["status"] == "done" {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("job {id} did not finish");
    }
}
