//! The glossary API end to end: create, import and export (CSV, TSV, TBX) with the entries
//! kept through a round trip, update and delete, errors that name the problem.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tradia_server::settings::AccessSettings;

use crate::harness::{App, Client, databases};

async fn import(who: &Client, query: &str, body: &str) -> (StatusCode, Value) {
    let response = who
        .request(Method::POST, &format!("/api/v1/glossaries/import?{query}"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn export(who: &Client, id: &str, format: &str) -> String {
    let response = who
        .request(Method::GET, &format!("/api/v1/glossaries/{id}/export?format={format}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn entries(who: &Client, id: &str) -> Value {
    let (status, body) = who.call(Method::GET, &format!("/api/v1/glossaries/{id}/entries")).await;
    assert_eq!(status, 200, "{body}");
    body["entries"].clone()
}

async fn api(database: Option<&str>) {
    let app = App::start(database, AccessSettings::default()).await;
    let a = app.user("gloria").await;
    let csv = "source,target,do_not_translate,case_sensitive,note\n\
               cours,course,no,no,\"school, not race\"\n\
               Scenari,Scenari,yes,yes,\n\
               \"R&D\",R&D,no,no,\n";
    let (status, created) =
        import(&a, "name=Cours&source_lang=fr&target_lang=en&format=csv&is_default=true", csv)
            .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["entry_count"], 3);
    assert_eq!(created["is_default"], true);
    let id = created["id"].as_str().unwrap().to_string();
    let first = entries(&a, &id).await;
    assert_eq!(first[0]["note"], "school, not race");
    assert_eq!(first[1]["do_not_translate"], true);

    // Export → import gives the same entries, in every format.
    for format in ["csv", "tsv", "tbx"] {
        let file = export(&a, &id, format).await;
        let (status, again) =
            import(&a, &format!("name=again&source_lang=fr&target_lang=en&format={format}"), &file)
                .await;
        assert_eq!(status, 201, "{format}: {again}");
        let copy = again["id"].as_str().unwrap();
        assert_eq!(entries(&a, copy).await, first, "{format}");
        let (status, _) = a.call(Method::DELETE, &format!("/api/v1/glossaries/{copy}")).await;
        assert_eq!(status, 204);
    }

    // Update: name and entries.
    let (status, updated) = a
        .json(
            Method::PATCH,
            &format!("/api/v1/glossaries/{id}"),
            json!({"name": "Cours 2", "entries": [{"source": "leçon", "target": "lesson"}]}),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (updated["name"].as_str(), updated["entry_count"].as_u64()),
        (Some("Cours 2"), Some(1))
    );

    // Errors name the problem.
    let (status, err) =
        import(&a, "name=x&source_lang=fr&target_lang=en&format=csv", "a,b\nc\n").await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "invalid_glossary_file");
    assert!(err["error"]["message"].as_str().unwrap().contains("line 2"), "{err}");
    let (status, err) = a
        .json(
            Method::POST,
            "/api/v1/glossaries",
            json!({"name": "x", "source_lang": "fr", "target_lang": "en",
                "entries": [{"source": "a", "target": "b"}, {"source": "A", "target": "c"}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "invalid_request");
    assert!(err["error"]["message"].as_str().unwrap().contains("twice"), "{err}");
    let (status, err) = a
        .json(
            Method::POST,
            "/api/v1/glossaries",
            json!({"name": "x", "source_lang": "fr", "target_lang": "xx-nope"}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_language"))
    );
    let (status, err) = a.call(Method::GET, "/api/v1/glossaries/not-an-id").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("glossary_not_found"))
    );

    let (status, _) = a.call(Method::DELETE, &format!("/api/v1/glossaries/{id}")).await;
    assert_eq!(status, 204);
    let (status, _) = a.call(Method::GET, &format!("/api/v1/glossaries/{id}")).await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glossaries_import_export_update_delete() {
    for database in databases() {
        api(database.as_deref()).await;
    }
}
