//! Conformance of the simulator's responses with the shapes transcribed from
//! `llm-servers.md` §1 and §4 (expected JSON written here), both APIs, streaming and not,
//! authentication and error bodies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tradia_llm_sim::{FaultSpec, SimConfig, SimHandle, start};

async fn sim(f: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut c = SimConfig { port: 0, time_scale: 1000.0, ..SimConfig::default() };
    f(&mut c);
    start(c).await.expect("simulator starts")
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

const BATCH: &str = r#"{"task":"translate","source_lang":"French","target_lang":"English","context":["Avant."],"segments":[{"id":"12","text":"Lisez le <g1>guide</g1>."},{"id":"13","text":"Cliquez <x1/> puis &lt;OK&gt;"}]}"#;
const BATCH_ANSWER: &str = r#"{"translations":[{"id":"12","text":"⟦Líséz lé⟧ <g1>⟦gúídé⟧</g1>⟦.⟧"},{"id":"13","text":"⟦Çlíqúéz⟧ <x1/> ⟦púís &lt;ÓK&gt;⟧"}]}"#;

fn chat_body(stream: bool) -> Value {
    json!({
        "model": "mistral-small3.2:latest",
        "messages": [
            {"role": "system", "content": "You translate. Answer with JSON only."},
            {"role": "user", "content": BATCH}
        ],
        "stream": stream,
        "think": false,
        "format": serde_json::from_str::<Value>(tradia_llm_sim::wire::TRANSLATIONS_SCHEMA).unwrap(),
        "options": {"num_ctx": 8192, "temperature": 0.1, "num_predict": 2048}
    })
}

const METRICS: [&str; 6] = [
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
];

fn check_metrics(v: &Value) {
    for m in METRICS {
        assert!(v[m].as_u64().is_some_and(|n| n > 0), "{m} in {v}");
    }
    assert!(v["total_duration"].as_u64() >= v["eval_duration"].as_u64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ollama_chat_non_streaming() {
    let s = sim(|_| {}).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/chat", s.base_url()))
        .json(&chat_body(false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Hidden headers with the simulated timings (llm-servers.md §5.3).
    let header = |name: &str| r.headers()[name].to_str().unwrap().parse::<u64>().unwrap();
    assert!(header("x-sim-load-ms") >= 10_000);
    assert!(header("x-sim-prefill-ms") > 0);
    assert_eq!(header("x-sim-cached-tokens"), 0);
    assert!(header("x-sim-slot") < 4);
    let _ = header("x-sim-queue-ms");
    let v: Value = r.json().await.unwrap();
    let mut want = set(&["model", "created_at", "message", "done", "done_reason"]);
    want.extend(METRICS.iter().map(|s| s.to_string()));
    assert_eq!(keys(&v), want);
    assert_eq!(v["model"], "mistral-small3.2:latest");
    assert_eq!(v["done"], true);
    assert_eq!(v["done_reason"], "stop");
    assert_eq!(v["message"], json!({"role": "assistant", "content": BATCH_ANSWER}));
    assert!(v["created_at"].as_str().unwrap().ends_with('Z'));
    check_metrics(&v);
    // Word pieces of at most 4 characters, punctuation by twos: between bytes/4 and bytes/2.
    let eval = v["eval_count"].as_u64().unwrap();
    let bytes = BATCH_ANSWER.len() as u64;
    assert!(
        eval >= bytes.div_ceil(4) && eval <= bytes.div_ceil(2),
        "{eval} tokens for {bytes} bytes"
    );
    // First request loads the model: 10 s simulated.
    assert!(v["load_duration"].as_u64().unwrap() >= 9_000_000_000, "{v}");
    let st = s.stats();
    assert_eq!((st.requests, st.completed, st.loads, st.reloads), (1, 1, 1, 0));
    assert_eq!(st.segments.get("Lisez le <g1>guide</g1>."), Some(&1));
    assert_eq!(st.output_tokens, eval);
    assert_eq!(st.prompt_tokens, v["prompt_eval_count"].as_u64().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ollama_chat_streaming_ndjson() {
    let s = sim(|_| {}).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/chat", s.base_url()))
        .json(&chat_body(true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() > 3);
    let (last, body) = lines.split_last().unwrap();
    let mut content = String::new();
    for l in body {
        assert_eq!(keys(l), set(&["model", "created_at", "message", "done"]));
        assert_eq!(l["done"], false);
        assert_eq!(l["message"]["role"], "assistant");
        content.push_str(l["message"]["content"].as_str().unwrap());
    }
    assert_eq!(content, BATCH_ANSWER);
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert_eq!(last["message"], json!({"role": "assistant", "content": ""}));
    check_metrics(last);
    assert_eq!(last["eval_count"].as_u64().unwrap(), body.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ollama_generate_plain_prompt_and_load_unload() {
    let s = sim(|_| {}).await;
    let c = reqwest::Client::new();
    let url = format!("{}/api/generate", s.base_url());
    // Load request: empty prompt.
    let v: Value =
        c.post(&url).json(&json!({"model": "m"})).send().await.unwrap().json().await.unwrap();
    assert_eq!(keys(&v), set(&["model", "created_at", "response", "done", "done_reason"]));
    assert_eq!((v["done"].clone(), v["done_reason"].clone()), (json!(true), json!("load")));
    let ps: Value =
        c.get(format!("{}/api/ps", s.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(ps["models"][0]["name"], "m");
    assert_eq!(ps["models"][0]["context_length"], 8192);
    assert_eq!(
        keys(&ps["models"][0]),
        set(&[
            "name",
            "model",
            "size",
            "digest",
            "details",
            "expires_at",
            "size_vram",
            "context_length"
        ])
    );

    let v: Value = c
        .post(&url)
        .json(&json!({"model": "m", "prompt": "Bonjour le monde", "stream": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut want = set(&["model", "created_at", "response", "done", "done_reason", "context"]);
    want.extend(METRICS.iter().map(|s| s.to_string()));
    assert_eq!(keys(&v), want);
    assert_eq!(v["response"], "⟦Bóñjóúr lé móñdé⟧");
    assert!(v["context"].as_array().is_some_and(|a| !a.is_empty()));
    // Already loaded: load_duration is small.
    assert!(v["load_duration"].as_u64().unwrap() < 1_000_000_000, "{v}");

    // Streaming generate.
    let text = c
        .post(&url)
        .json(&json!({"model": "m", "prompt": "Bonjour", "raw": true}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (last, body) = lines.split_last().unwrap();
    let joined: String = body.iter().map(|l| l["response"].as_str().unwrap()).collect();
    assert_eq!(joined, "⟦Bóñjóúr⟧");
    assert!(body.iter().all(|l| keys(l) == set(&["model", "created_at", "response", "done"])));
    assert_eq!(last["response"], "");
    assert!(last.get("context").is_none(), "raw: no context");

    // Unload.
    let v: Value = c
        .post(&url)
        .json(&json!({"model": "m", "keep_alive": 0}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["done_reason"], "unload");
    let ps: Value =
        c.get(format!("{}/api/ps", s.base_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(ps, json!({"models": []}));
    // Empty chat loads too.
    let v: Value = c
        .post(format!("{}/api/chat", s.base_url()))
        .json(&json!({"model": "m", "messages": []}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["done_reason"], "load");
    assert_eq!(v["message"], json!({"role": "assistant", "content": ""}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ollama_info_endpoints() {
    let s = sim(|c| c.models = Some(vec!["mistral-small3.2:24b".into(), "qwen3:8b".into()])).await;
    let c = reqwest::Client::new();
    let b = s.base_url();
    let v: Value = c.get(format!("{b}/api/version")).send().await.unwrap().json().await.unwrap();
    assert_eq!(keys(&v), set(&["version"]));
    assert!(v["version"].is_string());
    let v: Value = c.get(format!("{b}/api/tags")).send().await.unwrap().json().await.unwrap();
    let models = v["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!(models[0]["name"], "mistral-small3.2:24b");
    assert_eq!(
        keys(&models[0]),
        set(&["name", "model", "modified_at", "size", "digest", "details"])
    );
    assert_eq!(
        keys(&models[0]["details"]),
        set(&[
            "parent_model",
            "format",
            "family",
            "families",
            "parameter_size",
            "quantization_level"
        ])
    );
    assert_eq!(models[0]["digest"].as_str().unwrap().len(), 64);
    let v: Value = c
        .post(format!("{b}/api/show"))
        .json(&json!({"model": "qwen3:8b"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for k in ["modelfile", "parameters", "template", "details", "model_info", "capabilities"] {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }
    assert!(v["capabilities"].as_array().unwrap().contains(&json!("thinking")));
    assert!(v["capabilities"].as_array().unwrap().contains(&json!("vision")));
    let r = c.post(format!("{b}/api/show")).json(&json!({"model": "nope"})).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": "model 'nope' not found"}));
    let v: Value = c.get(format!("{b}/v1/models")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"][1]["id"], "qwen3:8b");
    assert_eq!(keys(&v["data"][0]), set(&["id", "object", "created", "owned_by"]));
    assert_eq!(v["data"][0]["object"], "model");
    let r = c.get(format!("{b}/v1/models/qwen3:8b")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = c.get(format!("{b}/v1/models/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let t = c.get(format!("{b}/")).send().await.unwrap().text().await.unwrap();
    assert_eq!(t, "Ollama is running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_chat_non_streaming_and_streaming() {
    let s = sim(|_| {}).await;
    let c = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", s.base_url());
    let schema: Value = serde_json::from_str(tradia_llm_sim::wire::TRANSLATIONS_SCHEMA).unwrap();
    let body = json!({
        "model": "mistral-small3.2:latest",
        "messages": [{"role": "system", "content": "Translate."}, {"role": "user", "content": BATCH}],
        "temperature": 0.1, "top_p": 1, "max_tokens": 2048, "seed": 42,
        "response_format": {"type": "json_schema", "json_schema": {"name": "tradia_translations", "schema": schema, "strict": true}}
    });
    let r = c.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        keys(&v),
        set(&["id", "object", "created", "model", "system_fingerprint", "choices", "usage"])
    );
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(
        v["choices"],
        json!([{"index": 0, "message": {"role": "assistant", "content": BATCH_ANSWER}, "finish_reason": "stop"}])
    );
    assert_eq!(keys(&v["usage"]), set(&["prompt_tokens", "completion_tokens", "total_tokens"]));
    let u = &v["usage"];
    assert_eq!(
        u["total_tokens"].as_u64().unwrap(),
        u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap()
    );

    let mut sbody = body.clone();
    sbody["stream"] = json!(true);
    sbody["stream_options"] = json!({"include_usage": true});
    let r = c.post(&url).json(&sbody).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let text = r.text().await.unwrap();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert!(events.iter().all(|e| e.starts_with("data: ")), "{text}");
    assert_eq!(*events.last().unwrap(), "data: [DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(&e["data: ".len()..]).unwrap())
        .collect();
    let n = chunks.len();
    let mut content = String::new();
    for ch in &chunks[..n - 2] {
        assert_eq!(ch["object"], "chat.completion.chunk");
        assert_eq!(ch["id"], chunks[0]["id"]);
        assert_eq!(ch["choices"][0]["finish_reason"], Value::Null);
        content.push_str(ch["choices"][0]["delta"]["content"].as_str().unwrap());
    }
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(content, BATCH_ANSWER);
    assert_eq!(
        chunks[n - 2]["choices"],
        json!([{"index": 0, "delta": {}, "finish_reason": "stop"}])
    );
    assert_eq!(chunks[n - 1]["choices"], json!([]));
    assert_eq!(chunks[n - 1]["usage"]["completion_tokens"].as_u64().unwrap(), (n - 2) as u64);

    // Without include_usage: no usage chunk.
    sbody["stream_options"] = json!({"include_usage": false});
    let text = c.post(&url).json(&sbody).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains("\"usage\""));
    assert!(text.ends_with("data: [DONE]\n\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_variants() {
    let s = sim(|c| c.api_key = Some("s3cret".into())).await;
    let c = reqwest::Client::new();
    let b = s.base_url();
    let r = c.get(format!("{b}/api/tags")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": "unauthorized"}));
    let r = c.get(format!("{b}/v1/models")).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": {"message": "unauthorized", "type": "authentication_error", "param": null, "code": null}})
    );
    let r = c.get(format!("{b}/api/tags")).basic_auth("api", Some("wrong")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        c.get(format!("{b}/api/tags")).bearer_auth("s3cret").send().await.unwrap().status(),
        200
    );
    assert_eq!(
        c.get(format!("{b}/api/tags"))
            .basic_auth("api", Some("s3cret"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("{b}/v1/models"))
            .header("X-API-Key", "s3cret")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = c
        .post(format!("{b}/api/chat"))
        .basic_auth("api", Some("s3cret"))
        .json(&chat_body(false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(s.stats().http_errors.get(&401), Some(&3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bodies() {
    let s = sim(|c| c.models = Some(vec!["mistral-small3.2:24b".into(), "qwen3:8b".into()])).await;
    let c = reqwest::Client::new();
    let b = s.base_url();
    let post = |path: &str, body: Value| {
        let c = c.clone();
        let url = format!("{b}{path}");
        async move {
            let r = c.post(url).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let msgs = json!([{"role": "user", "content": "Bonjour"}]);
    assert_eq!(
        post("/api/chat", json!({"model": "gemma3", "messages": msgs})).await,
        (404, json!({"error": "model 'gemma3' not found"}))
    );
    assert_eq!(
        post("/v1/chat/completions", json!({"model": "gemma3", "messages": msgs})).await,
        (
            404,
            json!({"error": {"message": "model 'gemma3' not found", "type": "not_found_error", "param": null, "code": null}})
        )
    );
    assert_eq!(
        post("/api/chat", json!({"messages": msgs})).await,
        (400, json!({"error": "model is required"}))
    );
    assert_eq!(
        post(
            "/api/chat",
            json!({"model": "mistral-small3.2:24b", "messages": msgs, "think": true})
        )
        .await,
        (400, json!({"error": "\"mistral-small3.2:24b\" does not support thinking"}))
    );
    let long = "word ".repeat(2000);
    assert_eq!(
        post(
            "/api/generate",
            json!({"model": "mistral-small3.2:24b", "prompt": long, "options": {"num_ctx": 1024}})
        )
        .await,
        (400, json!({"error": "the input length exceeds the context length"}))
    );
    let r = c.post(format!("{b}/api/chat")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": "missing request body"}));
    let r = c.post(format!("{b}/api/chat")).body("{not json").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thinking_num_predict_images_and_other_schemas() {
    let s = sim(|_| {}).await;
    let c = reqwest::Client::new();
    let b = s.base_url();
    let msgs = json!([{"role": "user", "content": "Bonjour", "images": ["iVBORw0KGgo="]}]);
    // A thinking-capable model thinks when `think` is unset.
    let v: Value = c
        .post(format!("{b}/api/chat"))
        .json(&json!({"model": "qwen3:8b", "messages": msgs, "stream": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["message"]["content"], "⟦Bóñjóúr⟧");
    assert!(v["message"]["thinking"].as_str().is_some_and(|t| t.len() > 100), "{v}");
    assert!(v["eval_count"].as_u64().unwrap() >= 100);
    assert!(v["prompt_eval_count"].as_u64().unwrap() >= 256, "image tokens counted: {v}");
    // `think: false` stops it.
    let v: Value = c
        .post(format!("{b}/api/chat"))
        .json(&json!({"model": "qwen3:8b", "messages": msgs, "stream": false, "think": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v["message"].get("thinking").is_none());
    // num_predict reached: truncated, done_reason length.
    let v: Value = c
        .post(format!("{b}/api/chat"))
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "Bonjour tout le monde, comment allez-vous ?"}],
                      "stream": false, "options": {"num_predict": 3}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["done_reason"], "length");
    assert_eq!(v["eval_count"], 3);
    // /v1 max_tokens.
    let v: Value = c
        .post(format!("{b}/v1/chat/completions"))
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "Bonjour tout le monde"}], "max_tokens": 2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    assert_eq!(v["usage"]["completion_tokens"], 2);
    // Another schema: its required string fields get the pseudo-translation.
    let v: Value = c
        .post(format!("{b}/api/chat"))
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "Bonjour"}], "stream": false,
            "format": {"type": "object", "properties": {"summary": {"type": "string"}, "points": {"type": "array"}},
                       "required": ["summary", "points"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let answer: Value = serde_json::from_str(v["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(answer, json!({"summary": "⟦Bóñjóúr⟧", "points": []}));
    // OpenAI content parts with an image.
    let v: Value = c
        .post(format!("{b}/v1/chat/completions"))
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Salut"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}],
            "response_format": {"type": "json_object"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], r#"{"text":"⟦Sálút⟧"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn num_ctx_change_reloads_and_stats_reset() {
    let s = sim(|_| {}).await;
    let c = reqwest::Client::new();
    let url = format!("{}/api/chat", s.base_url());
    let mut body = chat_body(false);
    let first: Value = c.post(&url).json(&body).send().await.unwrap().json().await.unwrap();
    let second: Value = c.post(&url).json(&body).send().await.unwrap().json().await.unwrap();
    assert!(first["load_duration"].as_u64().unwrap() > 9_000_000_000);
    assert!(second["load_duration"].as_u64().unwrap() < 1_000_000_000);
    // Same system prompt and batch: the slot's prompt cache serves most of the prompt.
    assert!(
        second["prompt_eval_duration"].as_u64().unwrap()
            < first["prompt_eval_duration"].as_u64().unwrap(),
        "{first} {second}"
    );
    body["options"]["num_ctx"] = json!(16384);
    let third: Value = c.post(&url).json(&body).send().await.unwrap().json().await.unwrap();
    assert!(third["load_duration"].as_u64().unwrap() > 9_000_000_000);
    let st = s.stats();
    assert_eq!((st.loads, st.reloads), (2, 1));
    assert_eq!(st.segments.get("Lisez le <g1>guide</g1>."), Some(&3));
    assert!(st.prefilled_tokens < st.prompt_tokens);
    assert!(st.busy_slot_seconds > 0.0 && st.wall_seconds >= 30.0, "{st:?}");

    // The HTTP view of the stats.
    let v: Value =
        c.get(format!("{}/sim/stats", s.base_url())).send().await.unwrap().json().await.unwrap();
    for k in [
        "requests",
        "prompt_tokens",
        "output_tokens",
        "busy_slot_seconds",
        "wall_seconds",
        "max_concurrent",
        "segments",
        "faults",
    ] {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }
    assert_eq!(v["requests"], 3);
    assert_eq!(v["segments"]["Cliquez <x1/> puis &lt;OK&gt;"], 3);
    let r = c.post(format!("{}/sim/reset", s.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let st = s.stats();
    assert_eq!((st.requests, st.output_tokens, st.segments.len()), (0, 0, 0));
    assert_eq!(st.wall_seconds, 0.0);
    let _ = FaultSpec::none();
}

/// The llama.cpp flavor answers as a real `llama-server` build did (issue 18, observed side by
/// side): `/health`, `/props`, `/v1/models` with `meta.n_ctx`, 404 on `/v1/models/{id}`, its
/// error bodies (500 for a malformed body, 400 `exceed_context_size_error` with its fields, a
/// refused schema), its stream chunks (role alone first, bare content deltas, `delta:{}` with
/// the finish reason, a usage chunk with `choices:[]` and `timings`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llama_cpp_flavor_matches_llama_server() {
    let s = sim(|c| {
        c.flavor = tradia_llm_sim::Flavor::LlamaCpp;
        c.models = Some(vec!["SmolLM2-135M-Instruct".into()]);
        c.latency.default_num_ctx = 512;
        c.slots = 2;
    })
    .await;
    let c = reqwest::Client::new();
    let b = s.base_url();
    let get = |p: &str| c.get(format!("{b}{p}")).send();
    assert_eq!(
        get("/health").await.unwrap().json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
    let props: Value = get("/props").await.unwrap().json().await.unwrap();
    assert_eq!(props["default_generation_settings"]["n_ctx"], 512);
    assert_eq!(props["total_slots"], 2);
    assert_eq!(props["model_alias"], "SmolLM2-135M-Instruct");
    let models: Value = get("/v1/models").await.unwrap().json().await.unwrap();
    assert_eq!(models["data"][0]["id"], "SmolLM2-135M-Instruct");
    assert_eq!(models["data"][0]["meta"]["n_ctx"], 512);
    assert_eq!(models["data"][0]["owned_by"], "llamacpp");
    let r = get("/v1/models/SmolLM2-135M-Instruct").await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}})
    );
    assert_eq!(get("/api/tags").await.unwrap().status(), 404, "no Ollama API");

    let url = format!("{b}/v1/chat/completions");
    let post =
        |body: String| c.post(&url).header("content-type", "application/json").body(body).send();
    let r = post("{bad".into()).await.unwrap();
    assert_eq!(r.status(), 500);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "server_error");
    assert_eq!(v["error"]["code"], 500);
    assert!(
        v["error"]["message"].as_str().unwrap().starts_with("[json.exception.parse_error.101]")
    );
    let r = post(json!({"model": "x"}).to_string()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": {"code": 400, "message": "'messages' is required", "type": "invalid_request_error"}})
    );
    let long = "Bonjour tout le monde, ceci est un texte. ".repeat(80);
    let r =
        post(json!({"messages": [{"role": "user", "content": long}]}).to_string()).await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "exceed_context_size_error");
    assert_eq!(v["error"]["n_ctx"], 512);
    let n = v["error"]["n_prompt_tokens"].as_u64().unwrap();
    assert!(n > 512, "{v}");
    assert_eq!(
        v["error"]["message"],
        format!(
            "request ({n} tokens) exceeds the available context size (512 tokens), try increasing it"
        )
    );
    let bad_schema = json!({"messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "bogus"}}}});
    let r = post(bad_schema.to_string()).await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["error"]["message"],
        "Unable to generate parser for this template. Automatic parser generation failed: JSON schema error at #: unrecognized type bogus"
    );

    // Any model name is served by the one model, under its alias; the answer carries timings.
    let body = json!({"model": "whatever", "max_tokens": 64, "messages": [{"role": "user", "content": "Bonjour"}]});
    let v: Value = post(body.to_string()).await.unwrap().json().await.unwrap();
    assert_eq!(v["model"], "SmolLM2-135M-Instruct");
    assert!(v["timings"]["predicted_n"].as_u64().is_some(), "{v}");
    let mut sbody = body.clone();
    sbody["stream"] = json!(true);
    sbody["stream_options"] = json!({"include_usage": true});
    let text = post(sbody.to_string()).await.unwrap().text().await.unwrap();
    let chunks: Vec<Value> = text
        .split("\n\n")
        .filter(|e| !e.is_empty() && *e != "data: [DONE]")
        .map(|e| serde_json::from_str(&e["data: ".len()..]).unwrap())
        .collect();
    assert!(text.ends_with("data: [DONE]\n\n"));
    let n = chunks.len();
    assert_eq!(chunks[0]["choices"][0]["delta"], json!({"role": "assistant", "content": null}));
    for ch in &chunks[1..n - 2] {
        let delta = ch["choices"][0]["delta"].as_object().unwrap();
        assert_eq!(delta.keys().collect::<Vec<_>>(), ["content"], "{ch}");
    }
    assert_eq!(
        chunks[n - 2]["choices"],
        json!([{"index": 0, "delta": {}, "finish_reason": "stop"}])
    );
    assert_eq!(chunks[n - 1]["choices"], json!([]));
    assert!(chunks[n - 1]["usage"]["completion_tokens"].as_u64().is_some());
    assert!(chunks[n - 1]["timings"].is_object());
}
