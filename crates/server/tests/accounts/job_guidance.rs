//! Glossary and style options of jobs and text requests, against the simulator (which uses the
//! glossary terms it receives): a job naming a glossary, or falling back on the owner's default
//! for the pair, has the target terms in its output; another user's glossary is not found; a bad
//! `formality` or over-long `instructions` or `brief` are refused naming the problem; the job
//! shows its options to its owner, and each file's own title.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tradia_llm_sim::{DEFAULT_MODEL, SimConfig};
use tradia_server::ServerSettings;
use tradia_server::settings::AccessSettings;

use crate::harness::{App, Client, databases};

const DOC: &[u8] = b"# Bonjour\n\nLe cours commence demain matin.\n";

/// Posts a job on `DOC` with these fields; the status and the body.
async fn post(who: &Client, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(DOC.to_vec()).file_name("notes.md");
    let mut form = reqwest::multipart::Form::new()
        .part("file", part)
        .text("source_lang", "fr")
        .text("target_lang", "en")
        // The same document each time: an exact memory match would not ask the model.
        .text("memory", "off");
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    let response = who.request(Method::POST, "/api/v1/jobs").multipart(form).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The translated text of a finished job.
async fn result(who: &Client, id: &str) -> String {
    who.wait_done(id).await;
    let response =
        who.request(Method::GET, &format!("/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn glossary(who: &Client, target: &str, is_default: bool) -> String {
    let (status, created) = who
        .json(
            Method::POST,
            "/api/v1/glossaries",
            json!({"name": "Cours", "source_lang": "fr", "target_lang": "en",
                "is_default": is_default,
                "entries": [{"source": "cours", "target": target}]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().unwrap().to_string()
}

async fn scenario(database: Option<&str>) {
    let sim = tradia_llm_sim::start(SimConfig {
        port: 0,
        slots: 2,
        time_scale: 2000.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings =
        ServerSettings::for_tests_with_ollama(dir.path(), &sim.base_url(), DEFAULT_MODEL);
    settings.access = AccessSettings::default();
    if let Some(url) = database {
        settings.database_url = url.to_string();
    }
    let gateway = tradia_server::llm::gateway_from_settings(&settings).unwrap();
    let app = App::start_with(dir, settings, gateway).await;
    let a = app.user("glossa").await;
    let b = app.user("glossb").await;

    // Without a glossary, the simulator's own translation: no target term.
    let (status, job) = post(&a, &[]).await;
    assert_eq!(status, 202, "{job}");
    let plain = result(&a, job["id"].as_str().unwrap()).await;
    assert!(!plain.contains("Zcoursework"), "{plain}");

    // A named glossary: its target term is in the output.
    let named = glossary(&a, "Zcoursework", false).await;
    let (status, job) = post(
        &a,
        &[("glossary_id", &named), ("formality", "more"), ("instructions", "Keep it short.")],
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let out = result(&a, job["id"].as_str().unwrap()).await;
    assert!(out.contains("Zcoursework"), "the glossary's target term: {out}");
    // The job shows its options to its owner, and the document's own title (its brief here).
    let (status, view) =
        a.call(Method::GET, &format!("/api/v1/jobs/{}", job["id"].as_str().unwrap())).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        view["options"],
        json!({"memory": "off", "keep_memory": false, "glossary_id": named, "formality": "more",
            "instructions": "Keep it short.", "brief": null}),
        "{view}"
    );
    assert_eq!(view["files"][0]["title"], "Bonjour", "the Markdown's first heading: {view}");
    // Without a brief of the user's, the document's title is the model's brief.
    let briefs = sim.stats().briefs;
    assert!(briefs.get("Bonjour").is_some_and(|n| *n > 0), "{briefs:?}");
    // A brief of the user's is kept with the job; lists carry no options.
    let (status, job) = post(&a, &[("brief", "  Un cours de météo  ")]).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    a.wait_done(&id).await;
    let (_, view) = a.call(Method::GET, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(view["options"]["brief"], "Un cours de météo", "{view}");
    let briefs = sim.stats().briefs;
    assert!(
        briefs.get("Un cours de météo").is_some_and(|n| *n > 0),
        "the user's brief wins: {briefs:?}"
    );
    assert_eq!(briefs.len(), 2, "no other brief was sent: {briefs:?}");
    let (_, jobs) = a.call(Method::GET, "/api/v1/jobs").await;
    assert!(jobs["jobs"][0].get("options").is_none(), "{jobs}");

    // No glossary named: the owner's default for the pair applies.
    glossary(&a, "Zdefaultcourse", true).await;
    let (status, job) = post(&a, &[]).await;
    assert_eq!(status, 202, "{job}");
    let out = result(&a, job["id"].as_str().unwrap()).await;
    assert!(out.contains("Zdefaultcourse"), "the default glossary's target term: {out}");

    // Another user's glossary, or no glossary at all: not found, and no job is created.
    for id in [named.as_str(), "not-an-id"] {
        let (status, err) = post(&b, &[("glossary_id", id)]).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("glossary_not_found")),
            "{err}"
        );
    }
    let (_, jobs) = b.call(Method::GET, "/api/v1/jobs").await;
    assert_eq!(jobs["jobs"].as_array().map(Vec::len), Some(0), "{jobs}");

    // Bad options name the problem.
    let (status, err) = post(&a, &[("formality", "very")]).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_formality")),
        "{err}"
    );
    let long = "x".repeat(2001);
    let (status, err) = post(&a, &[("instructions", &long)]).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("instructions_too_long")),
        "{err}"
    );
    let (status, err) = post(&a, &[("brief", &"b".repeat(501))]).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("brief_too_long")),
        "{err}"
    );
    let at_limit = "é".repeat(2000);
    let (status, job) = post(&a, &[("instructions", &at_limit)]).await;
    assert_eq!(status, 202, "2000 characters are accepted: {job}");
    a.wait_done(job["id"].as_str().unwrap()).await;

    // Text requests: the named glossary, and another user's is not found.
    let (status, body) = a
        .json(
            Method::POST,
            "/api/v1/translate",
            json!({"text": "Le cours est fini.", "source_lang": "fr", "target_lang": "en",
                "glossary_id": named, "formality": "less", "memory": "off"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let text = body["translations"][0]["text"].as_str().unwrap();
    assert!(text.contains("Zcoursework"), "{body}");
    let (status, err) = b
        .json(
            Method::POST,
            "/api/v1/translate",
            json!({"text": "Le cours.", "source_lang": "fr", "target_lang": "en",
                "glossary_id": named}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("glossary_not_found")),
        "{err}"
    );
    let (status, err) = a
        .json(
            Method::POST,
            "/api/v1/translate",
            json!({"text": "Le cours.", "target_lang": "en", "formality": "x"}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_formality")),
        "{err}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_and_texts_use_the_glossary_and_style_they_are_given() {
    for database in databases() {
        scenario(database.as_deref()).await;
    }
}

/// A retried job keeps its options: memory, glossary, formality, instructions and brief.
async fn retry_scenario(database: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = ServerSettings::for_tests(dir.path());
    settings.access = AccessSettings::default();
    settings.workers = 0; // API only: the job stays queued until cancelled.
    if let Some(url) = database {
        settings.database_url = url.to_string();
    }
    let app =
        App::start_with(dir, settings, std::sync::Arc::new(tradia_server::PseudoGateway)).await;
    let a = app.user("retrier").await;
    let named = glossary(&a, "Zcoursework", false).await;
    let (status, job) = post(
        &a,
        &[
            ("glossary_id", &named),
            ("formality", "less"),
            ("instructions", "Tutoyer."),
            ("brief", "Un cours"),
            ("keep_memory", "true"),
        ],
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let (status, cancelled) = a.call(Method::POST, &format!("/api/v1/jobs/{id}/cancel")).await;
    assert!(status.is_success(), "{cancelled}");
    let (_, before) = a.call(Method::GET, &format!("/api/v1/jobs/{id}")).await;
    let (status, retried) = a.call(Method::POST, &format!("/api/v1/jobs/{id}/retry")).await;
    assert_eq!(status, 202, "{retried}");
    let new_id = retried["id"].as_str().unwrap();
    assert_ne!(new_id, id);
    let (_, after) = a.call(Method::GET, &format!("/api/v1/jobs/{new_id}")).await;
    assert_eq!(
        after["options"],
        json!({"memory": "off", "keep_memory": true, "glossary_id": named, "formality": "less",
            "instructions": "Tutoyer.", "brief": "Un cours"}),
        "{after}"
    );
    assert_eq!(after["options"], before["options"], "{before} {after}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_job_keeps_its_options() {
    for database in databases() {
        retry_scenario(database.as_deref()).await;
    }
}
