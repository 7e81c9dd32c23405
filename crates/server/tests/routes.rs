#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The route table is the router: every route it lists is served (none falls through to the
//! `not_found` fallback), and the OpenAPI document describes exactly the table's API routes.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use tradia_server::api::routes::{Access, table};
use tradia_server::settings::AccessSettings;
use tradia_server::{PseudoGateway, ServerSettings};

/// Routes the OpenAPI document leaves out on purpose: the document itself and its page (and,
/// below, the CORS preflights).
const UNDOCUMENTED: [&str; 4] =
    ["/api/openapi.json", "/api/docs", "/api/docs/docs.js", "/api/docs/docs.css"];

#[tokio::test]
async fn the_table_is_what_is_served_and_documented() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = ServerSettings::for_tests(dir.path());
    settings.access = AccessSettings::single_user();
    let server = tradia_server::start(settings, Arc::new(PseudoGateway), None).await.unwrap();
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let routes = table(server.state());

    let mut seen = BTreeSet::new();
    for route in &routes {
        assert!(
            seen.insert((route.method.to_string(), route.path.clone())),
            "{route:?} is listed twice"
        );
        let path = route.path.replace("{id}", "00000000-0000-0000-0000-000000000000");
        let response = client
            .request(route.method.clone(), format!("{base}{path}"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        if response.status() == 404 {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert_ne!(body["error"]["code"], "not_found", "{route:?} is not served");
        }
        if route.path.starts_with("/api/v1/") {
            assert!(
                matches!(
                    route.access,
                    Access::User | Access::Admin | Access::SignIn | Access::Public
                ),
                "{route:?}"
            );
        }
    }

    let doc: Value =
        client.get(format!("{base}/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let served: BTreeSet<(String, String)> = routes
        .iter()
        .filter(|r| !UNDOCUMENTED.contains(&r.path.as_ref()))
        // CORS preflights of LibreTranslate's routes are not operations of their own.
        .filter(|r| r.method != reqwest::Method::OPTIONS)
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(served, documented, "the OpenAPI document and the route table differ");
    server.shutdown().await.unwrap();
}
