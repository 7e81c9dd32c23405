//! Shared test harness: a simulated LLM, a real server on 127.0.0.1:0, small Scenari items
//! composed here, and helpers for multipart uploads and SSE streams.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tradia_llm_sim::{DEFAULT_MODEL, SimConfig, SimHandle};
use tradia_server::{RunningServer, ServerSettings};

const HEAD: &str = r#"<?xml version="1.0"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3"><op:expUc><sp:txt><op:txt>"#;
const TAIL: &str = "</op:txt></sp:txt></op:expUc></sc:item>";

/// A Scenari item with `paragraphs` paragraphs (some with emphasis), distinct per `seed`.
pub fn scenari_item(seed: &str, paragraphs: usize) -> Vec<u8> {
    let mut body = String::new();
    for i in 0..paragraphs {
        if i % 3 == 0 {
            body.push_str(&format!(
                r#"<sc:para xml:space="preserve">Les élèves du groupe {seed} lisent le <sc:inlineStyle role="emphasis">chapitre {i}</sc:inlineStyle> avant la séance.</sc:para>"#
            ));
        } else {
            body.push_str(&format!(
                r#"<sc:para xml:space="preserve">Paragraphe {i} du module {seed} : la classe prépare une courte présentation orale.</sc:para>"#
            ));
        }
    }
    format!("{HEAD}{body}{TAIL}").into_bytes()
}

/// A simulator answering fast.
pub async fn start_sim(slots: u32, time_scale: f64) -> SimHandle {
    tradia_llm_sim::start(SimConfig { port: 0, slots, time_scale, ..SimConfig::default() })
        .await
        .expect("simulator starts")
}

/// The model the simulator lists.
pub fn model() -> &'static str {
    DEFAULT_MODEL
}

/// A server on `data_dir` driving the simulator.
pub async fn start_server(data_dir: &Path, sim: &SimHandle) -> RunningServer {
    let settings = settings(data_dir, sim);
    start_with(settings).await
}

/// Settings for a server on `data_dir` driving the simulator.
pub fn settings(data_dir: &Path, sim: &SimHandle) -> ServerSettings {
    ServerSettings::for_tests_with_ollama(data_dir, &sim.base_url(), model())
}

/// Starts a server with these settings and the LLM gateway they name.
pub async fn start_with(settings: ServerSettings) -> RunningServer {
    let gateway = tradia_server::llm::gateway_from_settings(&settings).expect("gateway");
    tradia_server::start(settings, gateway, None).await.expect("server starts")
}

/// `http://addr`.
pub fn base(server: &RunningServer) -> String {
    format!("http://{}", server.addr)
}

/// An HTTP client.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client")
}

/// A multipart form with files and fields.
pub fn form(files: &[(&str, Vec<u8>)], fields: &[(&str, &str)]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (name, bytes) in files {
        let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string());
        form = form.part("file", part);
    }
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form
}

/// Posts a job; returns status and JSON body.
pub async fn post_job(
    base: &str,
    files: &[(&str, Vec<u8>)],
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let response = client()
        .post(format!("{base}/api/v1/jobs"))
        .multipart(form(files, fields))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// `event:` name.
    pub event: String,
    /// `data:` lines joined.
    pub data: String,
}

/// Reads a whole SSE response into events.
pub async fn read_sse(response: reqwest::Response) -> Vec<SseEvent> {
    let mut events = Vec::new();
    let mut buffer = String::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(pos) = buffer.find("\n\n") {
            let block = buffer[..pos].to_string();
            buffer.drain(..pos + 2);
            let mut event = SseEvent { event: "message".into(), data: String::new() };
            let mut has_data = false;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event.event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    if has_data {
                        event.data.push('\n');
                    }
                    event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    has_data = true;
                }
            }
            if has_data {
                events.push(event);
            }
        }
    }
    events
}

/// Follows a job's SSE stream to its end; returns every event.
pub async fn follow_job(base: &str, id: &str) -> Vec<SseEvent> {
    let response = client()
        .get(format!("{base}/api/v1/jobs/{id}/events"))
        .send()
        .await
        .expect("events request");
    assert_eq!(response.status().as_u16(), 200);
    read_sse(response).await
}

/// Polls a job until `done(job)` or the deadline.
pub async fn wait_job(base: &str, id: &str, secs: u64, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(response) = client().get(format!("{base}/api/v1/jobs/{id}")).send().await
            && let Ok(job) = response.json::<Value>().await
            && done(&job)
        {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job {id} did not reach the state in {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Entries of a zip: (name, bytes), in order.
pub fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read entry");
        out.push((entry.name().expect("entry name").to_string(), data));
    }
    out
}

/// Checks that `output` is `input` with only its text changed and every text translated:
/// re-extracting the output gives the same number of segments, each segment with letters is
/// pseudo-translated (the simulator's answer), and putting the source text back into the
/// output's skeleton gives the input bytes exactly.
pub fn assert_translated(name: &str, input: &[u8], output: &[u8]) {
    use tradia_formats::{ExtractOptions, MergeOptions, extract};
    let options = ExtractOptions::default();
    let source = extract(name, input, &options).expect("input extracts");
    let translated = extract(name, output, &options).expect("output extracts");
    assert_eq!(source.segments.len(), translated.segments.len(), "{name}: segment count");
    for (s, t) in source.segments.iter().zip(&translated.segments) {
        if s.content.has_letters() {
            let text = t.content.plain_text();
            assert!(text.contains('⟦'), "{name}: segment {} not translated: {text}", s.id);
        }
    }
    let sources: Vec<_> = source.segments.iter().map(|s| s.content.clone()).collect();
    let target = tradia_core::LanguageTag::parse("fr").expect("tag");
    let back = translated.merge(&sources, &MergeOptions { target }).expect("merge back");
    assert_eq!(back, input, "{name}: something other than text changed");
}
