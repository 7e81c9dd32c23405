//! The isolation matrix: for every route of the route table, what user B (with a cookie and
//! with an API key), an anonymous caller and an administrator get for user A's job. A route
//! the matrix has no case for fails the test, so a new route cannot ship without one.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tradia_server::api::routes::{Access, table};
use tradia_server::compat::deepl::document::document_key;
use tradia_server::compat::libretranslate::KEY_REQUIRED;
use tradia_server::settings::AccessSettings;

use crate::harness::{App, Client, databases};

/// What a route is, for the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// Takes a job id: B gets `404 job_not_found`, and A's job is unchanged.
    OwnJob,
    /// Lists the caller's jobs: B's list does not show A's job.
    JobList,
    /// Creates a job for the caller.
    CreateJob,
    /// The caller's own data without another user's object in the path (text, assistants,
    /// profile, keys, models): anonymous gets `401`.
    Caller,
    /// Takes a key id: B gets `404 key_not_found` for A's key.
    OwnKey,
    /// Takes a glossary id: B gets `404 glossary_not_found` for A's glossary, unchanged.
    OwnGlossary,
    /// Lists the caller's glossaries: B's list does not show A's.
    GlossaryList,
    /// Administrators only: B gets `403 forbidden`.
    Admin,
    /// The caller's translation memory: B's export holds nothing of A's, B's purge deletes
    /// none of A's entries.
    Memory,
    /// Public (configuration, sign-in, documentation, probes).
    Public,
    /// A compatible API's route (LibreTranslate, DeepL): a key only; anonymous and the session
    /// cookie get that API's own refusal.
    Key,
    /// A DeepL document (a job): B's key gets `404` for A's, even with A's document key.
    KeyJob,
    /// A DeepL glossary: B's key gets `404` for A's.
    KeyGlossary,
    /// LibreTranslate's download URL, its own credential: A's job id with any other token is
    /// `404` for everyone.
    DownloadUrl,
}

fn case_of(method: &Method, path: &str, access: Access) -> Option<Case> {
    let case = match (method.as_str(), path) {
        ("POST", "/api/v1/jobs") => Case::CreateJob,
        ("GET", "/api/v1/jobs") => Case::JobList,
        (_, p) if p.starts_with("/api/v1/jobs/{id}") => Case::OwnJob,
        ("DELETE", "/api/v1/me/keys/{id}") => Case::OwnKey,
        ("GET", "/api/v1/glossaries") => Case::GlossaryList,
        ("POST", "/api/v1/glossaries" | "/api/v1/glossaries/import") => Case::Caller,
        (_, p) if p.starts_with("/api/v1/glossaries/{id}") => Case::OwnGlossary,
        (_, p) if p.starts_with("/api/v1/memory") => Case::Memory,
        (_, p) if p.starts_with("/api/v1/admin/") => Case::Admin,
        ("POST", "/api/v1/translate" | "/api/v1/translate/stream" | "/api/v1/detect") => {
            Case::Caller
        }
        ("POST", p) if p.starts_with("/api/v1/assist/") => Case::Caller,
        ("GET", "/api/v1/me" | "/api/v1/me/keys" | "/api/v1/models" | "/api/v1/languages") => {
            Case::Caller
        }
        ("POST", "/api/v1/me/keys") => Case::Caller,
        ("POST", "/v2/document/{id}" | "/v2/document/{id}/result") => Case::KeyJob,
        (_, p) if p.starts_with("/v2/glossaries/{id}") => Case::KeyGlossary,
        ("GET" | "POST", "/v2/glossaries") | ("GET", "/v2/glossary-language-pairs") => Case::Key,
        ("POST", "/v2/translate" | "/v2/document") | ("GET", "/v2/languages" | "/v2/usage") => {
            Case::Key
        }
        ("POST", "/translate" | "/detect" | "/translate_file") => Case::Key,
        ("GET", "/download_file/{id}/{token}/{name}") => Case::DownloadUrl,
        ("GET", "/languages" | "/frontend/settings") | ("POST", "/suggest") | ("OPTIONS", _) => {
            Case::Public
        }
        ("GET", "/api/v1/config" | "/healthz" | "/livez" | "/readyz" | "/metrics")
        | ("GET", "/api/openapi.json" | "/api/docs" | "/api/docs/docs.js" | "/api/docs/docs.css")
        | ("GET", "/api/v1/auth/oidc/start" | "/api/v1/auth/oidc/callback")
        | ("POST", "/api/v1/auth/login" | "/api/v1/auth/setup" | "/api/v1/auth/logout") => {
            Case::Public
        }
        _ => return None,
    };
    let expected_access = match case {
        Case::Admin => Access::Admin,
        Case::Key | Case::KeyJob | Case::KeyGlossary => Access::Key,
        Case::DownloadUrl => Access::Public,
        Case::Public => {
            return Some(case).filter(|_| !matches!(access, Access::User | Access::Admin));
        }
        _ => Access::User,
    };
    (access == expected_access).then_some(case)
}

async fn text(client: &Client, method: Method, path: &str) -> String {
    let response = client.request(method, path).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

fn body_for(path: &str) -> Value {
    match path {
        p if p.contains("translate") => json!({"text": "Bonjour", "target_lang": "en"}),
        p if p.contains("detect") => json!({"text": "Bonjour à tous"}),
        p if p.contains("assist/summary") => json!({"notes": "Réunion du lundi", "lang": "fr"}),
        p if p.contains("assist/") => json!({"text": "Bonjour le monde", "lang": "fr"}),
        _ => json!({}),
    }
}

async fn matrix(database: Option<&str>) {
    let app = App::start(database, AccessSettings::default()).await;
    let a = app.user("alice").await;
    let b = app.user("bob").await;
    let a_key = a.with_key().await;
    let b_key = b.with_key().await;
    let anonymous = app.anonymous();
    let job = a.create_job().await;
    a.wait_done(&job).await;
    let glossary_body = json!({"name": "A's terms", "source_lang": "fr", "target_lang": "en",
        "entries": [{"source": "secret-term", "target": "hidden"}]});
    let (status, glossary) = a.json(Method::POST, "/api/v1/glossaries", glossary_body).await;
    assert_eq!(status, 201, "{glossary}");
    let glossary = glossary["id"].as_str().unwrap().to_string();
    let (_, a_keys) = a.call(Method::GET, "/api/v1/me/keys").await;
    let a_key_id = a_keys["keys"][0]["id"].as_str().unwrap().to_string();

    // A's memory holds a sentence (imported, so it does not depend on language detection).
    let tmx = r#"<tmx version="1.4"><header srclang="fr"/><body><tu><tuv xml:lang="fr"><seg>Le projet secret avance.</seg></tuv><tuv xml:lang="en"><seg>The secret project moves on.</seg></tuv></tu></body></tmx>"#;
    let imported = a.request(Method::POST, "/api/v1/memory/tmx").body(tmx).send().await.unwrap();
    assert_eq!(imported.status(), 200);

    let routes = table(app.server.state());
    let mut unknown = Vec::new();
    // Changes last, so the reads see the job as it was.
    let mut ordered: Vec<_> = routes.iter().collect();
    ordered.sort_by_key(|r| r.method != Method::GET);
    for route in ordered {
        let Some(case) = case_of(&route.method, &route.path, route.access) else {
            unknown.push(format!("{route:?}"));
            continue;
        };
        let object = if route.path.starts_with("/api/v1/glossaries")
            || route.path.starts_with("/v2/glossaries")
        {
            &glossary
        } else {
            &job
        };
        let path = route.path.replace("{id}", object).replace("{user}", &b.id);
        let body = body_for(&route.path);
        let what = format!("{} {}", route.method, route.path);
        match case {
            Case::OwnJob
            | Case::OwnKey
            | Case::OwnGlossary
            | Case::GlossaryList
            | Case::JobList
            | Case::CreateJob
            | Case::Caller
            | Case::Memory
            | Case::Admin => {
                let (status, answer) =
                    anonymous.json(route.method.clone(), &path, body.clone()).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "anonymous {what}: {answer}");
                assert_eq!(answer["error"]["code"], "unauthenticated", "{what}");
            }
            Case::Key | Case::KeyJob | Case::KeyGlossary => {
                // No key: the API's own refusal; B's session cookie counts for nothing here.
                for caller in [&anonymous, &b] {
                    let (status, answer) =
                        caller.json(route.method.clone(), &path, body.clone()).await;
                    if route.path.starts_with("/v2/") {
                        assert_eq!(status, StatusCode::FORBIDDEN, "no key, {what}: {answer}");
                        assert!(answer["message"].is_string(), "DeepL's error body: {answer}");
                    } else {
                        assert_eq!(status, StatusCode::BAD_REQUEST, "no key, {what}: {answer}");
                        assert_eq!(answer["error"], KEY_REQUIRED, "{what}");
                    }
                }
            }
            Case::Public | Case::DownloadUrl => {}
        }
        match case {
            Case::KeyGlossary => {
                let (status, answer) = b_key.json(route.method.clone(), &path, json!({})).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "B on A's glossary, {what}: {answer}");
                let message = answer["message"].as_str().unwrap_or_default().to_lowercase();
                assert!(message.contains("not found"), "{what}: {answer}");
            }
            Case::KeyJob => {
                let job_id: tradia_store::JobId = job.parse().unwrap();
                let a_user: tradia_store::UserId = a.id.parse().unwrap();
                let body = json!({ "document_key": document_key(job_id, a_user) });
                let (status, answer) = b_key.json(route.method.clone(), &path, body).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "B on A's document, {what}: {answer}");
                assert_eq!(answer["message"], "Document not found", "{what}");
            }
            Case::OwnJob => {
                for other in [&b, &b_key] {
                    let (status, answer) =
                        other.json(route.method.clone(), &path, body.clone()).await;
                    assert_eq!(status, StatusCode::NOT_FOUND, "B on A's job, {what}: {answer}");
                    assert_eq!(answer["error"]["code"], "job_not_found", "{what}");
                }
            }
            Case::JobList => {
                for other in [&b, &b_key] {
                    let (status, list) = other.call(Method::GET, &path).await;
                    assert_eq!(status, 200);
                    assert_eq!(list["jobs"], json!([]), "B sees no job of A's: {list}");
                }
                let (_, list) = a_key.call(Method::GET, &path).await;
                assert_eq!(list["jobs"][0]["id"], job.as_str(), "A sees their job with a key too");
            }
            Case::OwnKey => {
                let path = route.path.replace("{id}", &a_key_id);
                for other in [&b, &b_key] {
                    let (status, answer) = other.call(route.method.clone(), &path).await;
                    assert_eq!(status, StatusCode::NOT_FOUND, "B revoking A's key: {answer}");
                    assert_eq!(answer["error"]["code"], "key_not_found");
                }
            }
            Case::OwnGlossary => {
                for other in [&b, &b_key, &app.admin] {
                    let (status, answer) =
                        other.json(route.method.clone(), &path, body.clone()).await;
                    assert_eq!(
                        status,
                        StatusCode::NOT_FOUND,
                        "B on A's glossary, {what}: {answer}"
                    );
                    assert_eq!(answer["error"]["code"], "glossary_not_found", "{what}");
                }
            }
            Case::GlossaryList => {
                for other in [&b, &b_key, &app.admin] {
                    let (status, list) = other.call(Method::GET, &path).await;
                    assert_eq!(status, 200);
                    assert_eq!(list["glossaries"], json!([]), "B sees no glossary of A's: {list}");
                }
                let (_, list) = a_key.call(Method::GET, &path).await;
                assert_eq!(list["glossaries"][0]["id"], glossary.as_str());
            }
            Case::Admin => {
                for other in [&b, &b_key] {
                    let (status, answer) =
                        other.json(route.method.clone(), &path, body.clone()).await;
                    assert_eq!(status, StatusCode::FORBIDDEN, "B on {what}: {answer}");
                    assert_eq!(answer["error"]["code"], "forbidden");
                }
            }
            Case::Memory => {
                for other in [&b, &b_key] {
                    let (status, answer) =
                        other.json(route.method.clone(), &path, body.clone()).await;
                    assert!(status.is_success() || status == 422, "B on {what}: {status} {answer}");
                    assert!(!answer.to_string().contains("secret"), "B sees A's memory: {answer}");
                    if route.method == Method::GET && path == "/api/v1/memory" {
                        // A count leaks no text: B's own memory is empty, A's entries not counted.
                        assert_eq!(answer["entries"], 0, "B counts A's memory: {answer}");
                    }
                }
                let export = text(&a, Method::GET, "/api/v1/memory/tmx").await;
                assert!(export.contains("secret"), "A's memory survives B's {what}: {export}");
                let b_export = text(&b, Method::GET, "/api/v1/memory/tmx").await;
                assert!(!b_export.contains("<tu"), "B's export holds none of A's: {b_export}");
            }
            Case::DownloadUrl => {
                let path = path.replace("{token}", &"0".repeat(64)).replace("{name}", "x.md");
                for caller in [&anonymous, &b, &b_key, &a_key] {
                    let (status, answer) = caller.call(route.method.clone(), &path).await;
                    assert_eq!(
                        status,
                        StatusCode::NOT_FOUND,
                        "{what} with a wrong token: {answer}"
                    );
                }
            }
            Case::CreateJob | Case::Caller | Case::Public | Case::Key => {}
        }
    }
    assert!(unknown.is_empty(), "routes without a case in the isolation matrix: {unknown:?}");

    // A's job and key survived B's attempts.
    let (status, _) = a.call(Method::GET, &format!("/api/v1/jobs/{job}/result")).await;
    assert_eq!(status, 200, "A still downloads their result");
    let (status, report) = a.call(Method::GET, &format!("/api/v1/jobs/{job}/report")).await;
    assert_eq!(status, 200, "A reads their quality report: {report}");
    assert_eq!(report["files"][0]["name"], "secret-notes.md", "{report}");
    let (status, _) = a_key.call(Method::GET, "/api/v1/me").await;
    assert_eq!(status, 200, "A's key still works");
    let (status, entries) =
        a.call(Method::GET, &format!("/api/v1/glossaries/{glossary}/entries")).await;
    assert_eq!(status, 200, "A's glossary survived: {entries}");
    assert_eq!(entries["entries"][0]["source"], "secret-term");

    // The administrator sees the job's metadata, not its content.
    let (status, meta) = app.admin.call(Method::GET, &format!("/api/v1/jobs/{job}")).await;
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["status"], "done");
    assert!(!meta.to_string().contains("secret-notes"), "no file name: {meta}");
    for content in ["result", "events", "report"] {
        let (status, answer) =
            app.admin.call(Method::GET, &format!("/api/v1/jobs/{job}/{content}")).await;
        assert_eq!(status, 404, "admin on /{content}: {answer}");
    }
    // Retrying copies the files: content too, so the owner's only.
    let (status, answer) =
        app.admin.json(Method::POST, &format!("/api/v1/jobs/{job}/retry"), json!({})).await;
    assert_eq!(status, 404, "admin retrying another user's job: {answer}");
    let (_, all) = app.admin.call(Method::GET, "/api/v1/admin/jobs").await;
    let listed = all["jobs"].as_array().unwrap().iter().find(|j| j["id"] == job.as_str()).unwrap();
    assert_eq!(listed["owner"], a.id.as_str());
    assert_eq!(listed["formats"], json!(["markdown"]));
    assert!(!all.to_string().contains("secret-notes"), "no file names in the admin list");
    let (_, own) = app.admin.call(Method::GET, "/api/v1/jobs").await;
    assert_eq!(own["jobs"], json!([]), "an administrator's own list is their own jobs");

    // Deleting is audited, with the object's id and never its name.
    let (status, _) = a.call(Method::DELETE, &format!("/api/v1/jobs/{job}")).await;
    assert_eq!(status, 204);
    let audit =
        app.admin.request(Method::GET, "/api/v1/admin/audit?format=jsonl").send().await.unwrap();
    assert_eq!(audit.headers()["content-type"], "application/x-ndjson");
    let text = audit.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for action in
        ["job_created", "job_downloaded", "job_deleted", "key_created", "sign_in", "user_created"]
    {
        assert!(
            lines.iter().any(|l| l["action"] == action),
            "no {action} in the audit log:\n{text}"
        );
    }
    assert!(lines.iter().any(|l| l["action"] == "job_deleted"
        && l["object"] == job.as_str()
        && l["actor"] == a.id.as_str()));
    assert!(
        !text.contains("secret-notes") && !text.contains("Bonjour"),
        "no content in the audit log"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_reaches_another_users_jobs_through_any_route() {
    for database in databases() {
        matrix(database.as_deref()).await;
    }
}

/// Quotas: over the daily limit `429 quota_exceeded` with `Retry-After`; usage counts exactly
/// the characters sent.
async fn quotas(database: Option<&str>) {
    let app = App::start(database, AccessSettings::default()).await;
    let b: Client = app.user("bob").await;
    let (status, patched) = app
        .admin
        .json(
            Method::PATCH,
            &format!("/api/v1/admin/users/{}", b.id),
            json!({"quotas": {"chars_per_day": 30, "chars_per_month": null, "documents_in_progress": null, "upload_bytes": null}}),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let text = "Bonjour le monde entier";
    let (status, _) =
        b.json(Method::POST, "/api/v1/translate", json!({"text": text, "target_lang": "en"})).await;
    assert_eq!(status, 200);
    let over = b
        .request(Method::POST, "/api/v1/translate")
        .json(&json!({"text": text, "target_lang": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 429);
    let retry: u64 = over.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry), "seconds to the next UTC midnight: {retry}");
    let body: Value = over.json().await.unwrap();
    assert_eq!(body["error"]["code"], "quota_exceeded");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("daily quota of 30 characters") && message.contains("resets"),
        "{message}"
    );
    let (_, me) = b.call(Method::GET, "/api/v1/me").await;
    assert_eq!(me["usage"]["chars_today"], text.chars().count(), "{me}");
    assert_eq!(me["usage"]["chars_month"], text.chars().count());
    assert_eq!(me["quotas"]["chars_per_day"], 30);
    let (_, usage) = app.admin.call(Method::GET, "/api/v1/admin/usage").await;
    let row =
        usage["users"].as_array().unwrap().iter().find(|u| u["user"] == b.id.as_str()).unwrap();
    assert_eq!(row["characters"], text.chars().count());
    let audit = app.admin.request(Method::GET, "/api/v1/admin/audit").send().await.unwrap();
    let audit: Value = audit.json().await.unwrap();
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "quota_changed" && e["object"] == b.id.as_str()),
        "{audit}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_refuses_with_retry_after_and_usage_counts_the_characters_sent() {
    for database in databases() {
        quotas(database.as_deref()).await;
    }
}
