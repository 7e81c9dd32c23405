//! Every fault kind is observable, and draws are deterministic for a fixed seed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use tradia_core::Content;
use tradia_llm_sim::{FaultKind, FaultSpec, SimConfig, SimHandle, start};

async fn sim_with(spec: &str, scale: f64, seed: u64) -> SimHandle {
    let c = SimConfig {
        port: 0,
        time_scale: scale,
        faults: FaultSpec::parse(spec).unwrap(),
        seed,
        hang_real_s: 30.0,
        ..SimConfig::default()
    };
    start(c).await.unwrap()
}

const SOURCES: [(&str, &str); 3] = [
    ("1", "Ouvrez <g1>le menu</g1> puis <x2/> cliquez."),
    ("2", "Deuxième <g1>phrase</g1>."),
    ("3", "Troisième phrase <x1/>."),
];

fn batch() -> String {
    let segs: Vec<Value> = SOURCES.iter().map(|(id, t)| json!({"id": id, "text": t})).collect();
    json!({"task":"translate","source_lang":"French","target_lang":"English","segments":segs})
        .to_string()
}

fn chat(stream: bool) -> Value {
    // A JSON constraint, as the client sends: without one the answer comes in a fence.
    json!({"model": "m", "stream": stream, "think": false, "format": "json",
           "messages": [{"role": "system", "content": "Translate."}, {"role": "user", "content": batch()}]})
}

async fn ask(s: &SimHandle) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}/api/chat", s.base_url()))
        .json(&chat(false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn translations(content: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(content).unwrap_or_else(|e| panic!("{e}: {content}"));
    v["translations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap().to_string(), t["text"].as_str().unwrap().to_string()))
        .collect()
}

/// How many answer entries fail the code check against their source (checked here with the
/// segment model, not with any client code).
fn bad_code_segments(content: &str) -> usize {
    translations(content)
        .iter()
        .filter(|(id, text)| {
            let src = SOURCES.iter().find(|(i, _)| i == id).unwrap().1;
            Content::parse_answer(&Content::parse(src).unwrap(), text).is_err()
        })
        .count()
}

fn faults_counted(s: &SimHandle, kind: FaultKind) -> u64 {
    s.stats().faults.get(kind.name()).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_faults_are_observable() {
    // Baseline: no fault, every segment valid, every id once.
    let s = sim_with("", 1000.0, 0).await;
    let base = ask(&s).await["message"]["content"].as_str().unwrap().to_string();
    assert_eq!(bad_code_segments(&base), 0);
    assert_eq!(translations(&base).len(), 3);

    for kind in
        [FaultKind::DropCode, FaultKind::DupCode, FaultKind::InventCode, FaultKind::ReorderCodes]
    {
        let s = sim_with(&format!("{kind}=1"), 1000.0, 0).await;
        let content = ask(&s).await["message"]["content"].as_str().unwrap().to_string();
        assert_eq!(bad_code_segments(&content), 1, "{kind}: {content}");
        assert_eq!(faults_counted(&s, kind), 1, "{kind}");
    }
    let ids =
        |content: &str| translations(content).into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    let s = sim_with("missing_id=1", 1000.0, 0).await;
    assert_eq!(ids(ask(&s).await["message"]["content"].as_str().unwrap()).len(), 2);
    let s = sim_with("extra_id=1", 1000.0, 0).await;
    let got = ids(ask(&s).await["message"]["content"].as_str().unwrap());
    assert_eq!(got.len(), 4);
    assert!(got.contains(&"4".to_string()), "{got:?}");
    let s = sim_with("dup_id=1", 1000.0, 0).await;
    let mut got = ids(ask(&s).await["message"]["content"].as_str().unwrap());
    assert_eq!(got.len(), 4);
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 3);
    let s = sim_with("echo=1", 1000.0, 0).await;
    let got = translations(ask(&s).await["message"]["content"].as_str().unwrap());
    let echoed =
        got.iter().filter(|(id, t)| SOURCES.iter().any(|(i, src)| i == id && src == t)).count();
    assert_eq!(echoed, 1);

    let s = sim_with("chatter=1", 1000.0, 0).await;
    let c = ask(&s).await["message"]["content"].as_str().unwrap().to_string();
    assert!(serde_json::from_str::<Value>(&c).is_err());
    assert!(c.contains(&base) && !c.starts_with('{') && !c.ends_with('}'), "{c}");
    let s = sim_with("fences=1", 1000.0, 0).await;
    let c = ask(&s).await["message"]["content"].as_str().unwrap().to_string();
    assert_eq!(c, format!("```json\n{base}\n```"));
    let s = sim_with("think=1", 1000.0, 0).await;
    let c = ask(&s).await["message"]["content"].as_str().unwrap().to_string();
    assert!(c.starts_with("<think>") && c.contains("</think>") && c.ends_with(&base), "{c}");
    assert_eq!(faults_counted(&s, FaultKind::Think), 1);

    let s = sim_with("truncate=1", 1000.0, 0).await;
    let v = ask(&s).await;
    assert_eq!(v["done_reason"], "length");
    let c = v["message"]["content"].as_str().unwrap();
    assert!(base.starts_with(c) && c.len() < base.len(), "{c}");
    // On /v1 too.
    let v: Value = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", s.base_url()))
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": batch()}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "length");

    // Plain-text requests: echo returns the input, wrappers still apply.
    let s = sim_with("echo=1,fences=1", 1000.0, 0).await;
    let v: Value = reqwest::Client::new()
        .post(format!("{}/api/generate", s.base_url()))
        .json(&json!({"model": "m", "prompt": "Bonjour", "stream": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["response"], "```json\nBonjour\n```");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_faults_have_exact_bodies() {
    let cases = [
        ("http429", 429, "too many requests", "rate_limit_error"),
        ("http500", 500, "llama runner process has terminated: exit status 2", "api_error"),
        (
            "http503",
            503,
            "server busy, please try again.  maximum pending requests exceeded",
            "api_error",
        ),
    ];
    for (kind, status, msg, ty) in cases {
        let s = sim_with(&format!("{kind}=1"), 1000.0, 0).await;
        let c = reqwest::Client::new();
        let r =
            c.post(format!("{}/api/chat", s.base_url())).json(&chat(true)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), status);
        assert_eq!(r.json::<Value>().await.unwrap(), json!({"error": msg}));
        let r = c
            .post(format!("{}/v1/chat/completions", s.base_url()))
            .json(&json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status);
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"error": {"message": msg, "type": ty, "param": null, "code": null}})
        );
        let st = s.stats();
        assert_eq!(st.faults.get(kind), Some(&2));
        assert_eq!(st.http_errors.get(&status), Some(&2));
        assert_eq!(st.completed, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_and_reset() {
    let s = sim_with("timeout=1", 1000.0, 0).await;
    let started = Instant::now();
    let err = reqwest::Client::new()
        .post(format!("{}/api/chat", s.base_url()))
        .timeout(Duration::from_millis(300))
        .json(&chat(false))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(faults_counted(&s, FaultKind::Timeout), 1);
    // Shutting down does not wait for the held request.
    let t = Instant::now();
    s.shutdown().await;
    assert!(t.elapsed() < Duration::from_secs(10));

    let s = sim_with("reset=1", 1000.0, 0).await;
    let err = reqwest::Client::new()
        .post(format!("{}/api/chat", s.base_url()))
        .timeout(Duration::from_secs(20))
        .json(&chat(false))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && !err.is_status(), "{err:?}");
    assert_eq!(faults_counted(&s, FaultKind::Reset), 1);
    // The server still serves other connections.
    let r = reqwest::get(format!("{}/api/version", s.base_url())).await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_stream_leaves_long_gaps() {
    // 3 gaps of 20 s simulated at time scale 100: 0.2 s each in real time.
    let s = sim_with("slow_stream=1", 100.0, 0).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/chat", s.base_url()))
        .json(&chat(true))
        .send()
        .await
        .unwrap();
    let mut stream = r.bytes_stream();
    let mut last = Instant::now();
    let mut gaps = Vec::new();
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let now = Instant::now();
        gaps.push(now - last);
        last = now;
        body.extend_from_slice(&chunk.unwrap());
    }
    // Each gap is a 200 ms sleep; ordinary gaps are microseconds. A gap measured on the client
    // can come out shorter than the sleep when the chunk before it arrived late (a loaded
    // machine), so anything from 120 ms counts as one of the long gaps.
    let long = gaps.iter().skip(1).filter(|g| **g >= Duration::from_millis(120)).count();
    assert!(long >= 3, "gaps: {gaps:?}");
    let text = String::from_utf8(body).unwrap();
    let last_line: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last_line["done"], true);
    assert!(last_line["eval_duration"].as_u64().unwrap() >= 60_000_000_000);
    assert_eq!(faults_counted(&s, FaultKind::SlowStream), 1);
}

/// What a client sees for a fixed request sequence: status and body of each answer.
async fn replay(seed: u64) -> Vec<(u16, String)> {
    let s = sim_with("all=0.3,timeout=0,reset=0", 1000.0, seed).await;
    let c = reqwest::Client::new();
    let mut out = Vec::new();
    for i in 0..20 {
        let mut body = chat(false);
        body["messages"][0]["content"] = json!(format!("Translate. Request {}", i % 10));
        let r = c.post(format!("{}/api/chat", s.base_url())).json(&body).send().await.unwrap();
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap();
        let text = v["message"]["content"].as_str().map_or_else(|| v.to_string(), str::to_string);
        out.push((status, format!("{text} {}", v["done_reason"])));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draws_are_deterministic_for_a_seed() {
    let a = replay(7).await;
    let b = replay(7).await;
    assert_eq!(a, b);
    let c = replay(8).await;
    assert_ne!(a, c);
    // A repeated body (i and i+10) draws anew: not every pair is identical.
    assert!((0..10).any(|i| a[i] != a[i + 10]));
    // Faults were really drawn.
    assert!(a.iter().any(|(s, _)| *s != 200));
}
