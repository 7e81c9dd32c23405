//! Backends against a mock server answering the shapes transcribed in
//! `shared/docs/llm-servers.md` (§1 Ollama, §4 OpenAI-compatible servers), streaming and not,
//! and every error body listed there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use tradia_llm::backend::{
    Backend, ChatRequest, Finish, StreamEvent, build_client, collect_stream,
};
use tradia_llm::settings::{AuthScheme, BackendSettings, EngineKind, LlmArgs, LlmSettings};
use tradia_llm::{LlmEngine, LlmError, diagnostics};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn settings(kind: EngineKind, url: &str) -> LlmSettings {
    let mut s = match kind {
        EngineKind::Ollama => LlmSettings::for_ollama(url, "mistral-small3.2:24b"),
        EngineKind::Openai => LlmSettings::for_openai(&format!("{url}/v1"), "mistral-small3.2:24b"),
    };
    s.timeout = Duration::from_secs(5);
    s.retry_base_delay = Duration::from_millis(10);
    s
}

fn backend(kind: EngineKind, url: &str) -> Backend {
    let s = settings(kind, url);
    Backend::new(&s.backends[0], &s, build_client(&s).unwrap())
}

fn req(schema: bool) -> ChatRequest {
    ChatRequest {
        model: "mistral-small3.2:24b".into(),
        system: "sys".into(),
        user: "Bonjour".into(),
        images: vec![],
        schema: schema.then(|| json!({"type":"object"})),
        max_tokens: 100,
        temperature: 0.1,
    }
}

// Ollama §1.2 non-stream response, verbatim.
const OLLAMA_CHAT: &str = r#"{
  "model": "mistral-small3.2:24b",
  "created_at": "2025-07-07T20:32:53.844124Z",
  "message": {"role": "assistant", "content": "Hello"},
  "done": true,
  "done_reason": "stop",
  "total_duration": 3244883583,
  "load_duration": 2969184542,
  "prompt_eval_count": 169,
  "prompt_eval_duration": 141656333,
  "eval_count": 18,
  "eval_duration": 133293625
}"#;

#[tokio::test]
async fn ollama_chat_sends_the_documented_request_and_reads_the_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .and(body_partial_json(json!({
            "model": "mistral-small3.2:24b",
            "stream": false,
            "think": false,
            "format": {"type": "object"},
            "options": {"num_ctx": 8192, "num_predict": 100},
            "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "Bonjour"}],
        })))
        .respond_with(ResponseTemplate::new(200).set_body_raw(OLLAMA_CHAT, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let out = backend(EngineKind::Ollama, &server.uri()).chat(&req(true)).await.unwrap();
    assert_eq!(out.content, "Hello");
    assert_eq!(out.finish, Finish::Stop);
    assert_eq!(out.prompt_tokens, Some(169));
    assert_eq!(out.output_tokens, Some(18));
    assert_eq!(out.busy, Some(Duration::from_nanos(141656333 + 133293625)));
    assert_eq!(out.total, Some(Duration::from_nanos(3244883583)));
    assert!(out.structured);
}

#[tokio::test]
async fn ollama_minimal_answers_are_accepted() {
    // Metric fields are omitempty; a bare answer must still be read.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"message":{"content":"x"},"done":true,"done_reason":"length"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let out = backend(EngineKind::Ollama, &server.uri()).chat(&req(false)).await.unwrap();
    assert_eq!(out.content, "x");
    assert_eq!(out.finish, Finish::Length);
    assert_eq!(out.prompt_tokens, None);
}

#[tokio::test]
async fn ollama_ndjson_stream_is_read_token_by_token() {
    let body = concat!(
        r#"{"model":"m","created_at":"t","message":{"role":"assistant","content":"Hel"},"done":false}"#,
        "\n",
        r#"{"model":"m","created_at":"t","message":{"role":"assistant","content":"lo"},"done":false}"#,
        "\n",
        r#"{"model":"m","created_at":"t","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":10,"prompt_eval_count":5,"prompt_eval_duration":2,"eval_count":2,"eval_duration":3}"#,
        "\n",
    );
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/x-ndjson"))
        .mount(&server)
        .await;
    let b = backend(EngineKind::Ollama, &server.uri());
    let events: Vec<_> = b.chat_stream(&req(false)).await.unwrap().collect().await;
    let deltas: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Delta(t)) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, ["Hel", "lo"]);
    let out = collect_stream(b.chat_stream(&req(false)).await.unwrap()).await.unwrap();
    assert_eq!(out.content, "Hello");
    assert_eq!(out.finish, Finish::Stop);
    assert_eq!(out.output_tokens, Some(2));
    assert_eq!(out.busy, Some(Duration::from_nanos(5)));
}

#[tokio::test]
async fn ollama_mid_stream_error_line_is_an_error() {
    let body = concat!(
        r#"{"message":{"content":"Hel"},"done":false}"#,
        "\n",
        r#"{"error":"an error was encountered while running the model"}"#,
        "\n",
    );
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/x-ndjson"))
        .mount(&server)
        .await;
    let b = backend(EngineKind::Ollama, &server.uri());
    let err = collect_stream(b.chat_stream(&req(false)).await.unwrap()).await.unwrap_err();
    assert!(
        matches!(&err, LlmError::Stream { message, .. } if message.contains("running the model")),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn ollama_stream_cut_before_done_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "{\"message\":{\"content\":\"Hel\"},\"done\":false}\n",
            "application/x-ndjson",
        ))
        .mount(&server)
        .await;
    let b = backend(EngineKind::Ollama, &server.uri());
    let err = collect_stream(b.chat_stream(&req(false)).await.unwrap()).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

/// Every error of llm-servers.md §1.5: status, exact body, and how the client classifies it.
#[tokio::test]
async fn ollama_error_bodies_are_read_and_classified() {
    let cases: &[(u16, &str, &str, bool)] = &[
        (400, r#"{"error":"missing request body"}"#, "llm_rejected", false),
        (400, r#"{"error":"model is required"}"#, "llm_rejected", false),
        (404, r#"{"error":"model 'mistral-small3.2:24b' not found"}"#, "llm_not_found", false),
        (
            404,
            r#"{"error":"model \"mistral-small3.2:24b\" not found, try pulling it first"}"#,
            "llm_not_found",
            false,
        ),
        (
            400,
            r#"{"error":"\"mistral-small3.2:24b\" does not support thinking"}"#,
            "llm_rejected",
            false,
        ),
        (400, r#"{"error":"\"m\" does not support generate"}"#, "llm_rejected", false),
        (
            503,
            r#"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#,
            "llm_server_error",
            true,
        ),
        (499, r#"{"error":"request canceled"}"#, "llm_rejected", false),
        (
            400,
            r#"{"error":"the input length exceeds the context length"}"#,
            "llm_context_overflow",
            false,
        ),
        (
            500,
            r#"{"error":"llama runner process has terminated: exit status 2"}"#,
            "llm_server_error",
            true,
        ),
        (429, r#"{"error":"too many requests"}"#, "llm_rate_limited", true),
        (401, r#"{"error":"unauthorized"}"#, "llm_unauthorized", false),
    ];
    for (status, body, code, retryable) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/chat"))
            .respond_with(ResponseTemplate::new(*status).set_body_raw(*body, "application/json"))
            .mount(&server)
            .await;
        let err = backend(EngineKind::Ollama, &server.uri()).chat(&req(false)).await.unwrap_err();
        let expected: Value = serde_json::from_str(body).unwrap();
        match &err {
            LlmError::Http { status: s, message, .. } => {
                assert_eq!(s, status);
                assert_eq!(message, expected["error"].as_str().unwrap());
            }
            other => panic!("{status}: {other:?}"),
        }
        assert_eq!(err.code(), *code, "{status} {body}");
        assert_eq!(err.is_retryable(), *retryable, "{status} {body}");
    }
}

#[tokio::test]
async fn ollama_tags_version_ps_and_show() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/version"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"version":"0.5.1"}"#, "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path("/api/tags"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"models":[{"name":"mistral-small3.2:24b","model":"mistral-small3.2:24b","modified_at":"2025-07-01T10:00:00Z","size":15000000000,"digest":"abc","details":{"parent_model":"","format":"gguf","family":"mistral3","families":["mistral3"],"parameter_size":"24.0B","quantization_level":"Q4_K_M"},"capabilities":["completion","vision"]},{"model":"llama3:8b"}]}"#, "application/json"))
        .mount(&server).await;
    Mock::given(method("GET")).and(path("/api/ps"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"models":[{"name":"mistral-small3.2:24b","model":"mistral-small3.2:24b","size":20000000000,"digest":"abc","details":{},"expires_at":"2024-06-04T14:38:31.83753-07:00","size_vram":20000000000,"context_length":8192}]}"#, "application/json"))
        .mount(&server).await;
    Mock::given(method("POST")).and(path("/api/show"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"modelfile":"","parameters":"","template":"","details":{},"model_info":{"general.parameter_count":23572403200,"mistral3.context_length":131072},"capabilities":["completion","vision"]}"#, "application/json"))
        .mount(&server).await;
    let b = backend(EngineKind::Ollama, &server.uri());
    assert_eq!(b.version().await.unwrap().as_deref(), Some("0.5.1"));
    let models = b.models().await.unwrap();
    assert_eq!(models.len(), 2);
    assert_eq!(models[0].parameter_size.as_deref(), Some("24.0B"));
    assert_eq!(models[0].quantization.as_deref(), Some("Q4_K_M"));
    assert_eq!(models[1].name, "llama3:8b");
    let ps = b.running().await.unwrap();
    assert_eq!(ps[0].context_length, Some(8192));
    let show = b.show("mistral-small3.2:24b").await.unwrap();
    assert_eq!(show.context_length, Some(131072));
    assert!(show.capabilities.contains(&"vision".to_string()));
}

// OpenAI §4.1 non-stream response, verbatim.
const OPENAI_CHAT: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1735142223,"model":"m",
 "choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],
 "usage":{"prompt_tokens":44,"completion_tokens":48,"total_tokens":92}}"#;

#[tokio::test]
async fn openai_chat_sends_response_format_and_reads_the_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({
            "model": "mistral-small3.2:24b",
            "stream": false,
            "max_tokens": 100,
            "temperature": 0.1f32,
            "top_p": 1.0,
            "response_format": {"type": "json_schema", "json_schema": {"schema": {"type":"object"}}},
        })))
        .respond_with(ResponseTemplate::new(200).set_body_raw(OPENAI_CHAT, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let out = backend(EngineKind::Openai, &server.uri()).chat(&req(true)).await.unwrap();
    assert_eq!(out.content, "Hello");
    assert_eq!(out.finish, Finish::Stop);
    assert_eq!(out.prompt_tokens, Some(44));
    assert_eq!(out.output_tokens, Some(48));
    assert!(out.structured);
}

#[tokio::test]
async fn openai_llama_cpp_timings_give_busy_time() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"choices":[{"message":{"content":"x"},"finish_reason":"length"}],"timings":{"cache_n":0,"prompt_n":10,"prompt_ms":100.0,"predicted_n":5,"predicted_ms":400.0}}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let out = backend(EngineKind::Openai, &server.uri()).chat(&req(false)).await.unwrap();
    assert_eq!(out.finish, Finish::Length);
    assert_eq!(out.busy, Some(Duration::from_millis(500)));
}

#[tokio::test]
async fn openai_refused_response_format_falls_back_without_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"response_format": {"type": "json_schema"}})))
        .respond_with(ResponseTemplate::new(400).set_body_raw(
            r#"{"error":{"code":400,"message":"response_format json_schema is not supported","type":"invalid_request_error"}}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(OPENAI_CHAT, "application/json"))
        .mount(&server)
        .await;
    let b = backend(EngineKind::Openai, &server.uri());
    let out = b.chat(&req(true)).await.unwrap();
    assert_eq!(out.content, "Hello");
    assert!(!out.structured);
    assert!(b.schema_refused());
    // Remembered: the next request does not try again (the refusing mock expects one call).
    b.chat(&req(true)).await.unwrap();
}

#[tokio::test]
async fn openai_sse_stream_with_usage_chunk() {
    let body = concat!(
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"hmm\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,\"total_tokens\":9}}\n\n",
        "data: [DONE]\n\n",
    );
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(json!({"stream": true, "stream_options": {"include_usage": true}})))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
        .mount(&server)
        .await;
    let b = backend(EngineKind::Openai, &server.uri());
    let out = collect_stream(b.chat_stream(&req(false)).await.unwrap()).await.unwrap();
    assert_eq!(out.content, "Hello");
    assert_eq!(out.thinking.as_deref(), Some("hmm"));
    assert_eq!(out.finish, Finish::Stop);
    assert_eq!(out.prompt_tokens, Some(7));
    assert_eq!(out.output_tokens, Some(2));
}

#[tokio::test]
async fn openai_sse_error_object_is_an_error() {
    let body = "data: {\"error\":{\"message\":\"llama runner process has terminated\",\"type\":\"api_error\"}}\n\n";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
        .mount(&server)
        .await;
    let b = backend(EngineKind::Openai, &server.uri());
    let err = collect_stream(b.chat_stream(&req(false)).await.unwrap()).await.unwrap_err();
    assert!(matches!(err, LlmError::Stream { .. }), "{err:?}");
}

/// Error bodies of §4.2–4.5: vLLM (current and old), llama.cpp (incl. the 2026 variant),
/// Ollama's OpenAI layer, TGI.
#[tokio::test]
async fn openai_error_bodies_are_read_and_classified() {
    let cases: &[(u16, &str, &str, &str, bool)] = &[
        (
            400,
            r#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens","type":"BadRequestError","param":null,"code":400}}"#,
            "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens",
            "llm_context_overflow",
            false,
        ),
        (
            404,
            r#"{"error":{"message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}}"#,
            "The model `x` does not exist.",
            "llm_not_found",
            false,
        ),
        (
            500,
            r#"{"error":{"message":"boom","type":"InternalServerError","param":null,"code":500}}"#,
            "boom",
            "llm_server_error",
            true,
        ),
        (
            400,
            r#"{"object":"error","message":"bad input","type":"BadRequestError","param":null,"code":400}"#,
            "bad input",
            "llm_rejected",
            false,
        ),
        (
            503,
            r#"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#,
            "Loading model",
            "llm_server_error",
            true,
        ),
        (
            503,
            r#"{"error":{"code":null,"message":"Loading model","type":"service_unavailable_error"}}"#,
            "Loading model",
            "llm_server_error",
            true,
        ),
        (
            400,
            r#"{"error":{"code":400,"message":"request (4476 tokens) exceeds the available context size (4096 tokens)","type":"exceed_context_size_error","n_prompt_tokens":4476,"n_ctx":4096}}"#,
            "request (4476 tokens) exceeds the available context size (4096 tokens)",
            "llm_context_overflow",
            false,
        ),
        (
            401,
            r#"{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}"#,
            "Invalid API Key",
            "llm_unauthorized",
            false,
        ),
        (
            503,
            r#"{"error":{"message":"server busy, please try again.  maximum pending requests exceeded","type":"api_error","param":null,"code":null}}"#,
            "server busy, please try again.  maximum pending requests exceeded",
            "llm_server_error",
            true,
        ),
        (
            404,
            r#"{"error":{"message":"model \"x\" not found, try pulling it first","type":"not_found_error","param":null,"code":null}}"#,
            "model \"x\" not found, try pulling it first",
            "llm_not_found",
            false,
        ),
        (
            429,
            r#"{"error":"Model is overloaded","error_type":"overloaded"}"#,
            "Model is overloaded",
            "llm_rate_limited",
            true,
        ),
        (
            422,
            r#"{"error":"Input validation error","error_type":"validation"}"#,
            "Input validation error",
            "llm_rejected",
            false,
        ),
        (
            429,
            r#"{"error":{"message":"too many requests","type":"rate_limit_error","param":null,"code":null}}"#,
            "too many requests",
            "llm_rate_limited",
            true,
        ),
    ];
    for (status, body, message, code, retryable) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(ResponseTemplate::new(*status).set_body_raw(*body, "application/json"))
            .mount(&server)
            .await;
        let err = backend(EngineKind::Openai, &server.uri()).chat(&req(false)).await.unwrap_err();
        match &err {
            LlmError::Http { status: s, message: m, .. } => {
                assert_eq!(s, status);
                assert_eq!(m, message);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(err.code(), *code, "{body}");
        assert_eq!(err.is_retryable(), *retryable, "{body}");
    }
}

#[tokio::test]
async fn openai_models_list() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(r#"{"object":"list","data":[{"id":"mistral-small3.2:24b","object":"model","created":1,"owned_by":"library"},{"object":"model"}]}"#, "application/json"))
        .mount(&server).await;
    let models = backend(EngineKind::Openai, &server.uri()).models().await.unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!(models[0].name, "mistral-small3.2:24b");
}

#[tokio::test]
async fn retry_after_is_read() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "7")
                .set_body_raw(r#"{"error":"slow down"}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let err = backend(EngineKind::Ollama, &server.uri()).chat(&req(false)).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
}

// ------------------------------------------------------------------------------------------
// Authentication, proxies, transport errors.

fn with_key(kind: EngineKind, url: &str, auth: AuthScheme) -> Backend {
    let s = settings(kind, url);
    let server = BackendSettings {
        kind,
        base_url: s.backends[0].base_url.clone(),
        api_key: Some("k3y-value".to_string().into()),
        auth,
    };
    Backend::new(&server, &s, build_client(&s).unwrap())
}

#[tokio::test]
async fn api_key_is_sent_as_basic_bearer_or_header() {
    let server = MockServer::start().await;
    // base64("api:k3y-value")
    Mock::given(method("GET"))
        .and(path("/api/version"))
        .and(header("authorization", "Basic YXBpOmszeS12YWx1ZQ=="))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"version":"basic"}"#, "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/version"))
        .and(header("authorization", "Bearer k3y-value"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"version":"bearer"}"#, "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/version"))
        .and(header("x-api-key", "k3y-value"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"version":"header"}"#, "application/json"),
        )
        .mount(&server)
        .await;
    for (auth, expected) in [
        (AuthScheme::Basic, "basic"),
        (AuthScheme::Bearer, "bearer"),
        (AuthScheme::XApiKey, "header"),
    ] {
        let b = with_key(EngineKind::Ollama, &server.uri(), auth);
        assert_eq!(b.version().await.unwrap().as_deref(), Some(expected));
        assert!(!format!("{b:?}").contains("k3y-value"));
    }
}

#[tokio::test]
async fn explicit_proxy_is_used_and_no_proxy_is_honoured() {
    let proxy = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/version"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"version":"via-proxy"}"#, "application/json"),
        )
        .mount(&proxy)
        .await;
    // A port nothing listens on: reached only through the proxy.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let args = LlmArgs {
        ollama_base_url: format!("http://localhost:{port}"),
        http_proxy: Some(proxy.uri()),
        ollama_timeout: "3".into(),
        ..LlmArgs::default()
    };
    let s = args.settings().unwrap();
    let b = Backend::new(&s.backends[0], &s, build_client(&s).unwrap());
    assert_eq!(b.version().await.unwrap().as_deref(), Some("via-proxy"));
    let seen = proxy.received_requests().await.unwrap();
    assert_eq!(seen[0].url.port(), Some(port), "absolute-form request through the proxy");

    let args = LlmArgs { no_proxy: Some("localhost".into()), ..args };
    let s = args.settings().unwrap();
    let b = Backend::new(&s.backends[0], &s, build_client(&s).unwrap());
    let err = b.version().await.unwrap_err();
    assert_eq!(err.code(), "llm_unreachable", "direct connection to the closed port: {err:?}");
}

#[tokio::test]
async fn unreachable_and_timeout_are_told_apart() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = backend(EngineKind::Ollama, &format!("http://127.0.0.1:{port}"))
        .version()
        .await
        .unwrap_err();
    assert_eq!(err.code(), "llm_unreachable", "{err:?}");
    assert!(err.is_retryable());

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(OLLAMA_CHAT, "application/json")
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let mut s = settings(EngineKind::Ollama, &server.uri());
    s.timeout = Duration::from_millis(300);
    let b = Backend::new(&s.backends[0], &s, build_client(&s).unwrap());
    let err = b.chat(&req(false)).await.unwrap_err();
    assert_eq!(err.code(), "llm_timeout", "{err:?}");
}

#[tokio::test]
async fn check_reports_a_model_that_is_not_pulled_and_a_refused_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/tags"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"models":[{"name":"llama3:8b"}]}"#, "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/version"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"version":"0.12.0"}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let engine = LlmEngine::new(settings(EngineKind::Ollama, &server.uri())).unwrap();
    let report = diagnostics::check(&engine).await;
    assert!(!report.ok());
    let text = report.to_string();
    assert!(text.contains("ollama pull mistral-small3.2:24b"), "{text}");
    assert!(text.contains("llama3:8b"), "{text}");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/tags"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_raw(r#"{"error":"unauthorized"}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let engine = LlmEngine::new(settings(EngineKind::Ollama, &server.uri())).unwrap();
    let text = diagnostics::check(&engine).await.to_string();
    assert!(text.contains("OLLAMA_API_KEY"), "{text}");
}

#[tokio::test]
async fn check_reports_a_context_too_small() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/tags"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(
                r#"{"models":[{"name":"mistral-small3.2:24b"}]}"#,
                "application/json",
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/show"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(
                r#"{"model_info":{"mistral3.context_length":4096}}"#,
                "application/json",
            ),
        )
        .mount(&server)
        .await;
    let engine = LlmEngine::new(settings(EngineKind::Ollama, &server.uri())).unwrap();
    let report = diagnostics::check(&engine).await;
    let text = report.to_string();
    assert!(!report.ok(), "{text}");
    assert!(text.contains("context of 4096 tokens"), "{text}");
}

#[tokio::test]
async fn structured_completion_tolerates_broken_json_and_asks_again() {
    let server = MockServer::start().await;
    let answers = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let a2 = answers.clone();
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(move |r: &Request| {
            let n = a2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(body["messages"][1]["images"][0], "iVBORw0KGgo=");
            let content = if n == 0 {
                "Sure! {\"summary\": "
            } else {
                "```json\n{\"summary\":\"ok\",\"points\":[]}\n```"
            };
            ResponseTemplate::new(200).set_body_json(
                json!({"message":{"content":content},"done":true,"done_reason":"stop"}),
            )
        })
        .mount(&server)
        .await;
    let engine = LlmEngine::new(settings(EngineKind::Ollama, &server.uri())).unwrap();
    let schema = json!({"type":"object","properties":{"summary":{"type":"string"},"points":{"type":"array"}},"required":["summary","points"]});
    let v = engine
        .complete_structured(
            "Summarise.",
            "Meeting notes",
            &schema,
            vec!["iVBORw0KGgo=".into()],
            None,
            "user",
        )
        .await
        .unwrap();
    assert_eq!(v["summary"], "ok");
    assert_eq!(answers.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn text_stream_yields_tokens_without_thinking() {
    let body = concat!(
        r#"{"message":{"content":"<think>"},"done":false}"#,
        "\n",
        r#"{"message":{"content":"hmm</think>"},"done":false}"#,
        "\n",
        r#"{"message":{"content":"Hello"},"done":false}"#,
        "\n",
        r#"{"message":{"content":" world"},"done":false}"#,
        "\n",
        r#"{"message":{"content":""},"done":true,"done_reason":"stop","eval_count":3}"#,
        "\n",
    );
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/x-ndjson"))
        .mount(&server)
        .await;
    let engine = LlmEngine::new(settings(EngineKind::Ollama, &server.uri())).unwrap();
    let tokens: Vec<String> = engine
        .translate_text_stream("Bonjour le monde", None, "en".parse().unwrap(), None, "user")
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(tokens.concat(), "Hello world");
    assert!(tokens.len() >= 2, "streamed in pieces: {tokens:?}");
    assert_eq!(tradia_core::Engine::stats(&engine).output_tokens, 3);
}

#[tokio::test]
async fn credentials_in_the_url_never_show_in_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    for kind in [EngineKind::Ollama, EngineKind::Openai] {
        let url = format!("http://api:pa55word-xyz@127.0.0.1:{port}");
        let b = backend(kind, &url);
        let chat = b.chat(&req(false)).await.unwrap_err();
        assert_eq!(chat.code(), "llm_unreachable", "{chat:?}");
        let streamed = b.chat_stream(&req(false)).await.map(|_| ()).unwrap_err();
        let models = b.models().await.unwrap_err();
        let engine = LlmEngine::new(settings(kind, &url)).unwrap();
        let report = diagnostics::check(&engine).await;
        assert!(!report.ok());
        let mut shown = format!("{b:?} {} {report} {report:?}", b.url());
        for err in [&chat, &streamed, &models] {
            shown.push_str(&format!(" {err} {err:?} {}", diagnostics::explain(err, kind)));
        }
        assert!(!shown.contains("pa55word-xyz"), "{shown}");
        // The redacted URL still says which server failed.
        assert!(chat.to_string().contains(&format!("127.0.0.1:{port}")), "{chat}");
    }
    let b = backend(EngineKind::Ollama, &format!("http://127.0.0.1:{port}/?api_key=k3y-xyz"));
    let err = b.models().await.unwrap_err();
    assert!(!format!("{err} {err:?} {b:?}").contains("k3y-xyz"), "{err}");
}

#[test]
fn a_pem_ca_bundle_is_loaded_and_other_files_are_refused() {
    // A public root certificate (Let's Encrypt ISRG Root X1) stands for an internal CA.
    let pem = std::path::PathBuf::from("tests/data/isrg-root-x1.pem");
    let args = LlmArgs { llm_ca_bundle: Some(pem), ..LlmArgs::default() };
    let s = args.settings().unwrap();
    assert!(s.ca_pem.as_ref().is_some_and(|b| !b.is_empty()));
    build_client(&s).expect("the client accepts the extra root");

    let not_pem = std::path::PathBuf::from("Cargo.toml");
    let err =
        LlmArgs { llm_ca_bundle: Some(not_pem), ..LlmArgs::default() }.settings().unwrap_err();
    assert_eq!(err.variable, "TRADIA_LLM_CA_BUNDLE");
}
