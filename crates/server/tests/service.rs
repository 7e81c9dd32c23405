#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Text translation, assistants, models, languages, health, metrics and the OpenAPI document,
//! over HTTP against the simulator.

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn text_translation_plain_form_and_streamed() {
    let sim = start_sim(2, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);

    let body: Value = client()
        .post(format!("{base}/api/v1/translate"))
        .json(&json!({"text": ["Bonjour tout le monde, comment allez-vous aujourd'hui ?", "Merci beaucoup pour votre aide précieuse."], "target_lang": "en"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = body["translations"].as_array().unwrap();
    assert_eq!(t.len(), 2, "{body}");
    assert_eq!(t[0]["source_lang"], "fr");
    assert_eq!(t[0]["detected"], true);
    assert!(t[0]["text"].as_str().unwrap().contains('⟦'), "{body}");

    // Form body, source given.
    let body: Value = client()
        .post(format!("{base}/api/v1/translate"))
        .form(&[
            ("text", "Le conseil se réunit demain."),
            ("source_lang", "fr"),
            ("target_lang", "ar"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["translations"][0]["detected"], false, "{body}");
    assert_eq!(body["translations"][0]["source_lang"], "fr");

    // Streamed: tokens, then done with the same text.
    let response = client()
        .post(format!("{base}/api/v1/translate/stream"))
        .json(&json!({"text": "Les élèves préparent une présentation orale pour vendredi.", "target_lang": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let events = read_sse(response).await;
    let tokens: String = events
        .iter()
        .filter(|e| e.event == "token")
        .map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["text"].as_str().unwrap().to_string()
        })
        .collect();
    let done = events.iter().find(|e| e.event == "done").expect("done event");
    let done: Value = serde_json::from_str(&done.data).unwrap();
    let text = done["translations"][0]["text"].as_str().unwrap();
    assert!(events.iter().filter(|e| e.event == "token").count() >= 1);
    assert_eq!(tokens.trim(), text, "streamed tokens differ from the final text");
    assert!(text.contains('⟦'));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn assistants_answer_structured_json() {
    let sim = start_sim(2, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);

    let r = client()
        .post(format!("{base}/api/v1/assist/correct"))
        .json(&json!({"text": "Les enfant mange des pomme."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(body["corrected"].is_string(), "{body}");
    assert!(body["explanations"].is_array(), "{body}");

    let body: Value = client()
        .post(format!("{base}/api/v1/assist/reformulate"))
        .json(&json!({"text": "La réunion est reportée à une date ultérieure.", "style": "simple"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["text"].is_string(), "{body}");
    assert!(body["highlights"].is_array(), "{body}");

    // Summary from an image (a PNG header is enough for the simulator), as multipart.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    let form = reqwest::multipart::Form::new()
        .part("image", reqwest::multipart::Part::bytes(png).file_name("notes.png"))
        .text("lang", "fr");
    let r = client()
        .post(format!("{base}/api/v1/assist/summary"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(body["summary"].is_string(), "{body}");
    assert!(body["decisions"].is_array() && body["action_items"].is_array(), "{body}");

    // Streaming assistant: tokens then a done event with the structured answer.
    let r = client()
        .post(format!("{base}/api/v1/assist/summary/stream"))
        .json(&json!({"notes": "Réunion du 3 mars : budget voté, Paul prépare le calendrier pour lundi."}))
        .send()
        .await
        .unwrap();
    let events = read_sse(r).await;
    let done = events.iter().find(|e| e.event == "done").unwrap_or_else(|| panic!("{events:?}"));
    let done: Value = serde_json::from_str(&done.data).unwrap();
    assert!(done["summary"].is_string(), "{done}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn models_languages_health_metrics_openapi() {
    let sim = start_sim(2, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);

    let models: Value =
        client().get(format!("{base}/api/v1/models")).send().await.unwrap().json().await.unwrap();
    assert_eq!(models["models"][0]["name"], model(), "{models}");
    assert_eq!(models["models"][0]["default"], true);
    assert_eq!(models["default"], model());

    let langs: Value = client()
        .get(format!("{base}/api/v1/languages"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ar = langs["languages"].as_array().unwrap().iter().find(|l| l["code"] == "ar").unwrap();
    assert_eq!(ar["rtl"], true);
    assert_eq!(ar["name"], "العربية");

    let health: Value =
        client().get(format!("{base}/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "healthy", "{health}");
    assert_eq!(client().get(format!("{base}/livez")).send().await.unwrap().status().as_u16(), 200);
    assert_eq!(client().get(format!("{base}/readyz")).send().await.unwrap().status().as_u16(), 200);

    // Some traffic, then metrics by route template.
    let _ = client()
        .get(format!("{base}/api/v1/jobs/0190a0a0-0000-7000-8000-000000000000"))
        .send()
        .await;
    let metrics =
        client().get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    for name in [
        "tradia_http_requests_total",
        "tradia_jobs",
        "tradia_queue_depth",
        "tradia_http_request_duration_seconds",
    ] {
        assert!(metrics.contains(name), "{name} missing from metrics:\n{metrics}");
    }
    assert!(metrics.contains("route=\"/api/v1/jobs/{id}\""), "{metrics}");
    assert!(!metrics.contains("0190a0a0"), "raw paths must not be labels");

    let spec: Value = client()
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/jobs",
        "/api/v1/jobs/{id}/events",
        "/api/v1/translate",
        "/api/v1/assist/summary",
        "/healthz",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
    }
    let page = client().get(format!("{base}/api/docs")).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("/api/openapi.json") && !page.contains("cdn"),
        "self-contained docs page"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn starts_without_llm_and_reports_degraded() {
    // Nothing listens on this port (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = tradia_server::ServerSettings::for_tests_with_ollama(
        dir.path(),
        &format!("http://127.0.0.1:{port}"),
        model(),
    );
    settings.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let server = start_with(settings).await;
    let base = base(&server);
    let health = client().get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["reason"], "llm_unreachable", "{health}");
    assert_eq!(health["llm"], "unreachable", "{health}");
    assert_eq!(health["database"], "ok", "{health}");
    assert_eq!(client().get(format!("{base}/readyz")).send().await.unwrap().status().as_u16(), 503);
    // Metrics live on their own address, not on the main port.
    assert_eq!(
        client().get(format!("{base}/metrics")).send().await.unwrap().status().as_u16(),
        404
    );
    let metrics_addr = server.metrics_addr.unwrap();
    let r = client().get(format!("http://{metrics_addr}/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // The metrics address tells what the codes leave out: the backend and its error.
    let details: Value = client()
        .get(format!("http://{metrics_addr}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let llm = details["details"]["llm"].as_str().unwrap_or_default();
    assert!(llm.contains(&format!("127.0.0.1:{port}")), "{details}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_closes_sse_streams_and_requeues_running_jobs() {
    let sim = start_sim(1, 5.0).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let (status, job) = post_job(
        &base,
        &[("long.xml", scenari_item("omega", 40))],
        &[("source_lang", "fr"), ("target_lang", "en")],
    )
    .await;
    assert_eq!(status, 202);
    let id = job["id"].as_str().unwrap().to_string();
    wait_job(&base, &id, 30, |j| j["status"] == "running").await;
    let sse = tokio::spawn({
        let base = base.clone();
        let id = id.clone();
        async move { follow_job(&base, &id).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    server.shutdown().await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "shutdown took too long");
    let events = tokio::time::timeout(std::time::Duration::from_secs(5), sse)
        .await
        .expect("SSE stream closed at shutdown")
        .unwrap();
    assert!(!events.is_empty());
    // The job is back in the queue, with what it had saved.
    let store =
        tradia_store::connect(&format!("sqlite://{}", dir.path().join("tradia.db").display()))
            .await
            .unwrap();
    let job = store.get_job(id.parse().unwrap()).await.unwrap();
    assert_eq!(job.status, tradia_store::JobStatus::Queued);
}

/// The page labels itself a demonstration with either flavour of the simulator: Ollama's (its
/// version says so) and llama.cpp's (its `/props` build says so); a real server is no demo.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_simulator_is_a_demonstration_in_both_flavours() {
    use tradia_llm_sim::{Flavor, SimConfig};
    for flavor in [Flavor::Ollama, Flavor::LlamaCpp] {
        let sim = tradia_llm_sim::start(SimConfig {
            port: 0,
            time_scale: 2000.0,
            flavor,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings(dir.path(), &sim);
        if flavor == Flavor::LlamaCpp {
            settings.llm = Some(tradia_llm::LlmSettings::for_openai(
                &format!("{}/v1", sim.base_url()),
                model(),
            ));
        }
        let server = start_with(settings).await;
        let config: Value = client()
            .get(format!("{}/api/v1/config", base(&server)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(config["engine"], "llm", "{flavor:?}: {config}");
        assert_eq!(config["demo"], true, "{flavor:?}: {config}");
        server.shutdown().await.unwrap();
    }
}
