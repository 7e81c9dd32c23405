//! Drives the simulator with a minimal load generator (llm-servers.md §6: "keep exactly S
//! requests in flight, no client logic") and prints occupancy and efficiency against the
//! simulator's ceiling. A check of the simulator's own accounting, not of Tradia's client.
//!
//! `cargo run -p tradia-llm-sim --example saturate -- [requests] [concurrency] [time_scale]`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tradia_llm_sim::{SimConfig, start};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(Ok(40), |s| s.parse())?;
    let conc: usize = args.get(2).map_or(Ok(4), |s| s.parse())?;
    let scale: f64 = args.get(3).map_or(Ok(100.0), |s| s.parse())?;
    let sim = start(SimConfig { port: 0, time_scale: scale, ..SimConfig::default() }).await?;
    let url = format!("{}/api/chat", sim.base_url());
    let client = reqwest::Client::new();
    // Load the model first, as the benchmark protocol's warm-up does.
    client.post(&url).json(&json!({"model": "m", "messages": []})).send().await?;
    sim.reset_stats();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..conc {
        let (client, url, next) = (client.clone(), url.clone(), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    break;
                }
                let segs: Vec<_> = (0..10)
                    .map(|k| json!({"id": k.to_string(), "text": format!(
                        "Segment {k} de la requête {i} : le <g1>chat</g1> dort sur le tapis rouge près de la fenêtre ouverte, <x2/> tranquille.")}))
                    .collect();
                let user = json!({"task": "translate", "source_lang": "French", "target_lang": "English",
                                  "segments": segs}).to_string();
                let body = json!({"model": "m", "stream": false, "think": false, "options": {"num_ctx": 8192},
                    "messages": [{"role": "system", "content": "You are a translator. ".repeat(50)},
                                 {"role": "user", "content": user}]});
                let r = client.post(&url).json(&body).send().await.expect("request");
                assert!(r.status().is_success());
                let _ = r.bytes().await;
            }
        }));
    }
    for w in workers {
        w.await?;
    }
    let st = sim.stats();
    println!(
        "requests {} concurrency {conc} slots {} time_scale {scale}: wall {:.1} s, busy {:.1} slot-s, \
         occupancy {:.3}, ceiling {:.1} s, ceiling/wall {:.3}, prompt {} (prefilled {}), output {} tokens, \
         output rate {:.1} tok/s, max_concurrent {}",
        st.completed,
        st.slots,
        st.wall_seconds,
        st.busy_slot_seconds,
        st.occupancy,
        st.ceiling_seconds,
        st.ceiling_seconds / st.wall_seconds,
        st.prompt_tokens,
        st.prefilled_tokens,
        st.output_tokens,
        st.output_tokens as f64 / st.wall_seconds,
        st.max_concurrent
    );
    sim.shutdown().await;
    Ok(())
}
