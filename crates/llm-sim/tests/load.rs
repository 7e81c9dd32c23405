//! The latency model under load: slots never exceeded, queueing visible, decode shared between
//! slots, time scale honoured (lower bounds only: sleeping never ends early, so these cannot
//! flake on a slow machine).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tradia_llm_sim::{SimConfig, SimHandle, start};

async fn sim(slots: u32, scale: f64) -> SimHandle {
    start(SimConfig { port: 0, slots, time_scale: scale, ..SimConfig::default() }).await.unwrap()
}

fn body(i: usize, words: usize) -> Value {
    let text = format!("Phrase numéro {i}. ") + &"Le chat dort sur le tapis. ".repeat(words);
    json!({"model": "m", "stream": false, "think": false,
           "messages": [{"role": "system", "content": "Translate."}, {"role": "user", "content": text}]})
}

async fn preload(s: &SimHandle) {
    let r = reqwest::Client::new()
        .post(format!("{}/api/generate", s.base_url()))
        .json(&json!({"model": "m"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn concurrent(s: &SimHandle, n: usize, words: usize) -> Vec<Value> {
    let c = reqwest::Client::new();
    let url = format!("{}/api/chat", s.base_url());
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (c, url) = (c.clone(), url.clone());
            tokio::spawn(async move {
                c.post(url)
                    .json(&body(i, words))
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_are_never_exceeded_and_excess_requests_queue() {
    let s = sim(2, 1000.0).await;
    preload(&s).await;
    let answers = concurrent(&s, 12, 20).await;
    assert!(answers.iter().all(|a| a["done"] == true));
    let st = s.stats();
    assert_eq!(st.max_concurrent, 2, "{st:?}");
    assert!(st.max_in_flight > 2, "{st:?}");
    assert!(st.queue_seconds > 0.0, "{st:?}");
    assert_eq!(st.completed, 12);
    // Occupancy cannot exceed the slots, and nothing beats the ceiling.
    assert!(st.busy_slot_seconds <= 2.0 * st.wall_seconds * 1.01, "{st:?}");
    assert!(st.occupancy > 0.0 && st.occupancy <= 1.01, "{st:?}");
    assert!(st.ceiling_seconds > 0.0 && st.ceiling_seconds <= st.wall_seconds * 1.01, "{st:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_ollamas_503() {
    let s = start(SimConfig {
        port: 0,
        slots: 1,
        time_scale: 10.0,
        max_queue: 2,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    preload(&s).await;
    let c = reqwest::Client::new();
    let url = format!("{}/api/chat", s.base_url());
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (c, url) = (c.clone(), url.clone());
            tokio::spawn(async move {
                let r = c.post(url).json(&body(i, 10)).send().await.unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut ok = 0;
    let mut full = 0;
    for t in tasks {
        let (status, v) = t.await.unwrap();
        match status {
            200 => ok += 1,
            503 => {
                assert_eq!(
                    v,
                    json!({"error": "server busy, please try again.  maximum pending requests exceeded"})
                );
                full += 1;
            }
            other => panic!("status {other}: {v}"),
        }
    }
    assert!(ok >= 2 && full >= 1, "{ok} answered, {full} refused");
    assert_eq!(s.stats().max_concurrent, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_time_shows_in_total_duration() {
    let s = sim(1, 1000.0).await;
    preload(&s).await;
    let answers = concurrent(&s, 3, 60).await;
    let mut totals: Vec<u64> =
        answers.iter().map(|a| a["total_duration"].as_u64().unwrap()).collect();
    totals.sort_unstable();
    // One slot: the last of three equal requests waits for the two others.
    assert!(totals[2] >= 2 * totals[0], "{totals:?}");
    let evals: Vec<u64> = answers.iter().map(|a| a["eval_duration"].as_u64().unwrap()).collect();
    assert!(totals[2] >= evals.iter().sum::<u64>() * 9 / 10, "{totals:?} {evals:?}");
    assert!(s.stats().queue_seconds > 0.0);
    // The waits are also in the hidden `x-sim-queue-ms` header.
    let c = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", s.base_url());
    let tasks: Vec<_> = (0..3)
        .map(|i| {
            let (c, url) = (c.clone(), url.clone());
            let mut b = body(i, 60);
            b["stream"] = json!(true);
            tokio::spawn(async move {
                let r = c.post(url).json(&b).send().await.unwrap();
                let q: u64 = r.headers()["x-sim-queue-ms"].to_str().unwrap().parse().unwrap();
                let _ = r.text().await.unwrap();
                q
            })
        })
        .collect();
    let mut queued = Vec::new();
    for t in tasks {
        queued.push(t.await.unwrap());
    }
    queued.sort_unstable();
    assert!(queued[2] > 0 && queued[2] >= queued[0], "{queued:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sequences_share_decode() {
    let s = sim(4, 100.0).await;
    preload(&s).await;
    let alone = concurrent(&s, 1, 30).await;
    let together = concurrent(&s, 4, 30).await;
    let per_token =
        |a: &Value| a["eval_duration"].as_f64().unwrap() / a["eval_count"].as_f64().unwrap();
    let t1 = per_token(&alone[0]);
    let t4 = together.iter().map(per_token).fold(0.0, f64::max);
    // Step time grows as n^(1−α) = 4^0.35 ≈ 1.62 with 4 sequences decoding.
    assert!(t4 > 1.15 * t1, "per-token alone {t1} ns, with 4: {t4} ns");
    // …while the aggregate rate still rises (each step serves every sequence).
    assert!(t4 < 4.0 * t1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_scale_is_honoured() {
    let s = sim(4, 100.0).await;
    let started = Instant::now();
    let a = &concurrent(&s, 1, 20).await[0];
    let real = started.elapsed();
    // Load (10 s) + prefill + decode, simulated, divided by the time scale.
    let simulated_ns = a["load_duration"].as_u64().unwrap()
        + a["prompt_eval_duration"].as_u64().unwrap()
        + a["eval_duration"].as_u64().unwrap();
    let expected = Duration::from_nanos(simulated_ns / 100);
    assert!(expected >= Duration::from_millis(100), "load alone is 10 s simulated: {a}");
    assert!(real >= expected.mul_f64(0.95), "real {real:?} < simulated/100 {expected:?}");
    assert!(real < expected + Duration::from_secs(20), "real {real:?} for {expected:?}");
    // The reported total is measured on the scaled clock.
    assert!(a["total_duration"].as_u64().unwrap() >= simulated_ns * 95 / 100);
    let st = s.stats();
    assert!(
        st.wall_seconds >= 10.0 && st.wall_seconds <= real.as_secs_f64() * 100.0 * 1.05,
        "{st:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefill_is_shared_between_slots() {
    // A slow time scale (one real second is ten simulated): each prefill lasts some 50 ms of
    // real time, so the two requests overlap even when a loaded machine sends the second late.
    const SCALE: f64 = 10.0;
    let s = sim(2, SCALE).await;
    preload(&s).await;
    // Two long prompts (≈ 2,000 tokens each) with short answers arriving together on two free
    // slots: the prompts share one prefill rate, so both are answered only after the time of
    // both prefills, not of one (as two independent slots would).
    let c = reqwest::Client::new();
    let url = format!("{}/api/chat", s.base_url());
    let started = Instant::now();
    let tasks: Vec<_> = (0..2)
        .map(|i| {
            let (c, url) = (c.clone(), url.clone());
            let mut b = body(i, 300);
            b["options"] = json!({"num_predict": 5});
            tokio::spawn(async move {
                c.post(url).json(&b).send().await.unwrap().json::<Value>().await.unwrap()
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let simulated_ns = started.elapsed().as_secs_f64() * SCALE * 1e9;
    let prefill: Vec<u64> =
        answers.iter().map(|a| a["prompt_eval_duration"].as_u64().unwrap()).collect();
    assert!(prefill.iter().all(|p| *p >= 500_000_000), "{prefill:?}");
    // Measured from before the first request, so a late second one cannot shorten it: one
    // shared rate takes at least the sum (independent slots would take about the longest).
    let sum = prefill.iter().sum::<u64>() as f64;
    assert!(simulated_ns >= sum * 0.95, "{simulated_ns} ns for prefills {prefill:?}");
    assert_eq!(s.stats().max_concurrent, 2);
}
