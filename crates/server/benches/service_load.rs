#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Load benchmark (not a test): 200 concurrent text translations and 500 open SSE streams
//! against the LLM simulator, with the service in its own process.
//!
//! The simulator runs with a very high time scale, so its modelled generation time is close to
//! zero and what remains is HTTP and scheduling. "Added by Tradia" is the latency through the
//! service minus the latency of the same number of concurrent chat requests sent straight to the
//! simulator. Peak memory is the service process's `VmHWM` (Linux).
//!
//! Run: `cargo bench -p tradia-server --bench service_load`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use tradia_llm_sim::{DEFAULT_MODEL, SimConfig};

const TRANSLATIONS: usize = 200;
const STREAMS: usize = 500;
const SENTENCE: &str = "Les élèves de seconde préparent une présentation orale sur la transition énergétique de leur commune.";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn summary(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    (percentile(&ms, 50.0), percentile(&ms, 99.0))
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn direct(client: &reqwest::Client, sim_url: &str) -> Vec<f64> {
    let body = json!({
        "model": DEFAULT_MODEL,
        "stream": false,
        "messages": [
            {"role": "system", "content": "Translate the user's text from French into English. Answer with the translation only."},
            {"role": "user", "content": SENTENCE}
        ]
    });
    let tasks = (0..TRANSLATIONS).map(|_| {
        let client = client.clone();
        let body = body.clone();
        let url = format!("{sim_url}/api/chat");
        tokio::spawn(async move {
            let start = Instant::now();
            let r = client.post(url).json(&body).send().await.expect("sim request");
            assert!(r.status().is_success());
            let _ = r.bytes().await;
            start.elapsed().as_secs_f64() * 1000.0
        })
    });
    futures::future::join_all(tasks).await.into_iter().map(|r| r.expect("task")).collect()
}

async fn through_tradia(client: &reqwest::Client, base: &str) -> Vec<f64> {
    let tasks = (0..TRANSLATIONS).map(|i| {
        let client = client.clone();
        let url = format!("{base}/api/v1/translate");
        tokio::spawn(async move {
            let body = json!({"text": format!("{SENTENCE} ({i})"), "source_lang": "fr", "target_lang": "en"});
            let start = Instant::now();
            let r = client.post(url).json(&body).send().await.expect("tradia request");
            assert!(r.status().is_success(), "{}", r.status());
            let _ = r.bytes().await;
            start.elapsed().as_secs_f64() * 1000.0
        })
    });
    futures::future::join_all(tasks).await.into_iter().map(|r| r.expect("task")).collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let sim = tradia_llm_sim::start(SimConfig {
        port: 0,
        slots: 4,
        time_scale: 100_000.0,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_tradia-serve"))
        .env("TRADIA_HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("TRADIA_DATA_DIR", dir.path())
        .env("OLLAMA_BASE_URL", sim.base_url())
        .env("OLLAMA_MODEL", DEFAULT_MODEL)
        .env("TRADIA_WORKERS", "0")
        // A load test, not an accounts test: one implicit user, and 700 requests at once from
        // one address must not meet the rate limit.
        .env("TRADIA_AUTH", "none")
        .env("TRADIA_RATE_LIMIT_PER_MINUTE", "0")
        .env("LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tradia-serve");
    let pid = child.id();
    let _server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().pool_max_idle_per_host(1000).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/livez")).send().await.is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Warm-up (connections, model list, first allocations).
    let _ = direct(&client, &sim.base_url()).await;
    let _ = through_tradia(&client, &base).await;
    let idle_rss = peak_rss_kib(pid);

    let (d50, d99) = summary(direct(&client, &sim.base_url()).await);
    let (t50, t99) = summary(through_tradia(&client, &base).await);

    // 500 SSE streams on one queued job (no workers: it stays queued, the streams stay open).
    let item = br#"<?xml version="1.0"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3"><op:expUc><sp:txt><op:txt><sc:para xml:space="preserve">Bonjour tout le monde.</sc:para></op:txt></sp:txt></op:expUc></sc:item>"#;
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(item.to_vec()).file_name("a.xml"))
        .text("target_lang", "en");
    let job: serde_json::Value = client
        .post(format!("{base}/api/v1/jobs"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().expect("job id").to_string();
    let (first_tx, mut first_rx) = tokio::sync::mpsc::unbounded_channel::<f64>();
    let (end_tx, mut end_rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let mut streams = Vec::new();
    for _ in 0..STREAMS {
        let client = client.clone();
        let url = format!("{base}/api/v1/jobs/{id}/events");
        let first_tx = first_tx.clone();
        let end_tx = end_tx.clone();
        streams.push(tokio::spawn(async move {
            let start = Instant::now();
            let r = client.get(url).send().await.expect("sse");
            let mut body = r.bytes_stream();
            let mut seen = String::new();
            let mut first = true;
            while let Some(Ok(chunk)) = body.next().await {
                if first {
                    let _ = first_tx.send(start.elapsed().as_secs_f64() * 1000.0);
                    first = false;
                }
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains("event: end") {
                    let _ = end_tx.send(Instant::now());
                    return;
                }
            }
        }));
    }
    let mut first_ms = Vec::new();
    while first_ms.len() < STREAMS {
        first_ms.push(first_rx.recv().await.expect("first event"));
    }
    let (f50, f99) = summary(first_ms);
    let (w50, w99) = summary(through_tradia(&client, &base).await);
    let rss_with_streams = peak_rss_kib(pid);
    let cancelled_at = Instant::now();
    let r = client.post(format!("{base}/api/v1/jobs/{id}/cancel")).send().await.unwrap();
    assert!(r.status().is_success());
    let mut end_ms = Vec::new();
    while end_ms.len() < STREAMS {
        let at = end_rx.recv().await.expect("end event");
        end_ms.push(at.duration_since(cancelled_at).as_secs_f64() * 1000.0);
    }
    for s in streams {
        let _ = s.await;
    }
    let (e50, e99) = summary(end_ms);

    println!(
        "tradia service load benchmark ({TRANSLATIONS} concurrent translations, {STREAMS} SSE streams)"
    );
    println!(
        "  simulator alone, {TRANSLATIONS} concurrent chats:     p50 {d50:7.1} ms   p99 {d99:7.1} ms"
    );
    println!(
        "  through Tradia, {TRANSLATIONS} concurrent translations: p50 {t50:7.1} ms   p99 {t99:7.1} ms"
    );
    println!(
        "  added by Tradia:                              p50 {:7.1} ms   p99 {:7.1} ms",
        t50 - d50,
        t99 - d99
    );
    println!(
        "  same with {STREAMS} SSE streams open:              p50 {w50:7.1} ms   p99 {w99:7.1} ms (added p50 {:.1} ms, p99 {:.1} ms)",
        w50 - d50,
        w99 - d99
    );
    println!("  SSE: first event after connect:               p50 {f50:7.1} ms   p99 {f99:7.1} ms");
    println!(
        "  SSE: `end` reaching all {STREAMS} streams after cancel: p50 {e50:7.1} ms   p99 {e99:7.1} ms"
    );
    if let (Some(idle), Some(peak)) = (idle_rss, rss_with_streams) {
        println!(
            "  service peak memory (VmHWM): {:.1} MiB after warm-up, {:.1} MiB at peak",
            idle as f64 / 1024.0,
            peak as f64 / 1024.0
        );
    }
}
