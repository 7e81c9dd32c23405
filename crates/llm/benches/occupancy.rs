//! Slot occupancy benchmark (not a test): how close does the engine drive a 4-slot server to its
//! limit? (`llm-servers.md` §6.)
//!
//! Runs against the simulator (crates/llm-sim, profile A latency model, no faults):
//! 1. the engine on a generated document set of ≥ 50k source tokens (several documents at once,
//!    one owner each, as a server's job runner would submit them);
//! 2. the *ceiling*: the same first-attempt request bodies replayed by a minimal load generator
//!    that keeps exactly 4 requests in flight (no client logic);
//! 3. a naive client: one segment per request, one request at a time (what the reference tool
//!    does).
//!
//! Reported, all in simulated time from `/sim/stats`: elapsed, slot occupancy = busy
//! slot-seconds ÷ (4 × elapsed) (cross-checked against the prompt_eval + eval durations the client
//! saw in the responses), prompt tokens sent ÷ source tokens, output tokens ÷ source tokens,
//! retries, and η = T_ceiling ÷ T_engine (also against the simulator's own analytic ceiling,
//! `ceiling_seconds` in `/sim/stats`).
//!
//! `cargo bench -p tradia-llm --bench occupancy` (env `OCC_TIME_SCALE`, default 50;
//! `OCC_TOKENS`, default 52000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tradia_core::{
    CancelFlag, ContentBuilder, Engine, LanguageTag, NoSink, Priority, Segment, TranslateRequest,
};
use tradia_llm::backend::{Backend, ChatRequest, build_client};
use tradia_llm::{LlmEngine, LlmSettings};
use tradia_llm_sim::{SimConfig, SimHandle, SimStats, start};

const SLOTS: usize = 4;

const VOCAB: &[&str] = &[
    "le",
    "la",
    "les",
    "des",
    "un",
    "une",
    "projet",
    "pédagogique",
    "établissement",
    "élèves",
    "enseignants",
    "compétences",
    "évaluation",
    "formation",
    "numérique",
    "ressources",
    "classe",
    "activité",
    "séquence",
    "objectif",
    "apprentissage",
    "lecture",
    "écriture",
    "mathématiques",
    "sciences",
    "histoire",
    "géographie",
    "citoyenneté",
    "accompagnement",
    "personnalisé",
    "semaine",
    "trimestre",
    "document",
    "consigne",
    "exercice",
    "correction",
    "réponse",
    "question",
    "travail",
    "groupe",
    "autonomie",
    "progression",
    "dans",
    "avec",
    "pour",
    "sur",
    "par",
    "et",
    "ou",
    "mais",
    "donc",
    "chaque",
    "plusieurs",
    "nouveau",
    "important",
    "nécessaire",
    "permet",
    "propose",
    "présente",
    "développe",
    "renforce",
    "organise",
    "favorise",
    "explique",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn sentence(rng: &mut Rng, words: usize, b: &mut ContentBuilder, codes: bool) {
    for w in 0..words {
        if w > 0 {
            b.text(" ");
        }
        let word = VOCAB[rng.below(VOCAB.len() as u64) as usize];
        if codes && rng.below(12) == 0 && w + 2 < words {
            b.open();
            b.text(word);
            if rng.below(3) == 0 {
                b.text(" ");
                b.open();
                b.text(VOCAB[rng.below(VOCAB.len() as u64) as usize]);
                b.close();
            }
            b.close();
        } else if codes && rng.below(40) == 0 {
            b.standalone();
        } else {
            b.text(word);
        }
    }
    b.text(".");
}

/// One document: headings, short cells and paragraphs of varied length.
fn document(seed: u64, target_tokens: usize) -> Vec<Segment> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut segs = Vec::new();
    let mut tokens = 0usize;
    while tokens < target_tokens {
        let mut b = ContentBuilder::new();
        match rng.below(10) {
            0 => {
                let n = 3 + rng.below(6) as usize;
                sentence(&mut rng, n, &mut b, false)
            }
            1 | 2 => {
                let n = 1 + rng.below(3) as usize;
                sentence(&mut rng, n, &mut b, false)
            }
            _ => {
                let n = 30 + rng.below(90) as usize;
                let mut left = n;
                while left > 0 {
                    let k = left.min(8 + rng.below(14) as usize);
                    sentence(&mut rng, k, &mut b, true);
                    left -= k;
                    if left > 0 {
                        b.text(" ");
                    }
                }
            }
        }
        let content = b.finish().expect("balanced");
        tokens += content.render().len().div_ceil(4);
        segs.push(Segment {
            id: segs.len() as u32,
            content,
            location: String::new(),
            field: "p".into(),
        });
    }
    segs
}

fn source_tokens(docs: &[Vec<Segment>]) -> u64 {
    docs.iter()
        .flatten()
        .map(|s| {
            let core = s.edges().core;
            if core.has_letters() { core.render().len().div_ceil(4) as u64 } else { 0 }
        })
        .sum()
}

fn request<'a>(segs: &'a [Segment], owner: String) -> TranslateRequest<'a> {
    TranslateRequest {
        source: Some(LanguageTag::parse("fr").unwrap()),
        target: LanguageTag::parse("en").unwrap(),
        segments: segs,
        pending: segs.iter().map(|s| s.id).collect(),
        priority: Priority::Document,
        owner,
        cancel: CancelFlag::new(),
        sink: &NoSink,
        guidance: Default::default(),
    }
}

struct Figures {
    name: &'static str,
    sim: SimStats,
    real: Duration,
    client_busy: f64,
    requests: u64,
    retries: u64,
    prompt: u64,
    output: u64,
    kept: u64,
}

fn print(f: &Figures, src: u64, ceiling: f64) {
    let occ = f.sim.busy_slot_seconds / (SLOTS as f64 * f.sim.wall_seconds);
    let occ_client = f.client_busy / (SLOTS as f64 * f.sim.wall_seconds);
    println!("── {} ──", f.name);
    println!(
        "  elapsed: {:.1} s simulated ({:.1} s real); requests {}, retries {}, kept {}",
        f.sim.wall_seconds,
        f.real.as_secs_f64(),
        f.requests,
        f.retries,
        f.kept
    );
    println!(
        "  slot occupancy: {:.1} % (server busy slot-seconds {:.1}); cross-check from response durations: {:.1} % ({:.1} slot-s seen by the client; server eval time {:.1} s)",
        occ * 100.0,
        f.sim.busy_slot_seconds,
        occ_client * 100.0,
        f.client_busy,
        f.sim.eval_seconds
    );
    println!(
        "  prompt tokens sent / source tokens: {:.2} ({} / {src}); prefilled (not cached): {:.2}; output / source: {:.2} ({})",
        f.prompt as f64 / src as f64,
        f.prompt,
        f.sim.prefilled_tokens as f64 / src as f64,
        f.output as f64 / src as f64,
        f.output
    );
    println!(
        "  max concurrent in server: {}; reloads: {}; elapsed / replay ceiling: {:.3} (η = {:.3}); \
         elapsed / simulator's analytic ceiling ({:.1} s, same work with every slot decoding): {:.3}",
        f.sim.max_concurrent,
        f.sim.reloads,
        f.sim.wall_seconds / ceiling,
        ceiling / f.sim.wall_seconds,
        f.sim.ceiling_seconds,
        f.sim.wall_seconds / f.sim.ceiling_seconds
    );
}

fn settings(url: &str) -> LlmSettings {
    let mut s = LlmSettings::for_ollama(url, "mistral-small3.2:latest");
    s.timeout = Duration::from_secs(600);
    s.slots = SLOTS;
    s
}

async fn warm(handle: &SimHandle, url: &str) {
    // Load the model once, outside the measured runs.
    let s = settings(url);
    let b = Backend::new(&s.backends[0], &s, build_client(&s).unwrap());
    let req = ChatRequest {
        model: s.model.clone(),
        system: "warm".into(),
        user: "warm".into(),
        max_tokens: 4,
        temperature: 0.1,
        ..ChatRequest::default()
    };
    b.chat(&req).await.expect("simulator answers");
    handle.reset_stats();
}

async fn run_engine(
    name: &'static str,
    handle: &SimHandle,
    engine: LlmEngine,
    docs: &[Vec<Segment>],
    concurrent: bool,
) -> Figures {
    warm(handle, &handle.base_url()).await;
    let t0 = Instant::now();
    if concurrent {
        let futs = docs.iter().enumerate().map(|(i, d)| {
            let engine = engine.clone();
            async move { engine.translate(request(d, format!("doc{i}"))).await }
        });
        for r in futures::future::join_all(futs).await {
            r.expect("translation");
        }
    } else {
        for (i, d) in docs.iter().enumerate() {
            engine.translate(request(d, format!("doc{i}"))).await.expect("translation");
        }
    }
    let real = t0.elapsed();
    let ds = engine.detailed_stats();
    Figures {
        name,
        sim: handle.stats(),
        real,
        client_busy: ds.busy_seconds,
        requests: ds.engine.requests,
        retries: ds.engine.retries,
        prompt: ds.engine.prompt_tokens,
        output: ds.engine.output_tokens,
        kept: ds.kept,
    }
}

/// Replays request bodies keeping exactly `SLOTS` in flight, with no other logic.
async fn replay(handle: &SimHandle, requests: Vec<ChatRequest>) -> SimStats {
    let url = handle.base_url();
    warm(handle, &url).await;
    let s = settings(&url);
    let backend = Backend::new(&s.backends[0], &s, build_client(&s).unwrap());
    let queue = Arc::new(std::sync::Mutex::new(requests.into_iter()));
    let workers = (0..SLOTS).map(|_| {
        let queue = queue.clone();
        let backend = backend.clone();
        async move {
            loop {
                let next = queue.lock().unwrap().next();
                let Some(req) = next else { break };
                backend.chat(&req).await.expect("replayed request");
            }
        }
    });
    futures::future::join_all(workers).await;
    handle.stats()
}

fn main() {
    let time_scale: f64 =
        std::env::var("OCC_TIME_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(50.0);
    let total: usize =
        std::env::var("OCC_TOKENS").ok().and_then(|v| v.parse().ok()).unwrap_or(52_000);
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async move {
        let handle = start(SimConfig { port: 0, slots: SLOTS as u32, time_scale, ..SimConfig::default() })
            .await
            .expect("simulator");
        let url = handle.base_url();
        let per_doc = [0.30, 0.25, 0.20, 0.10, 0.08, 0.05, 0.02];
        let docs: Vec<Vec<Segment>> =
            per_doc.iter().enumerate().map(|(i, f)| document(i as u64 + 1, (total as f64 * f) as usize)).collect();
        let src = source_tokens(&docs);
        let nseg: usize = docs.iter().map(Vec::len).sum();
        println!(
            "occupancy benchmark: {} documents, {nseg} segments, {src} source tokens (ceil(bytes/4) of what is sent), \
             simulator 4 slots, time scale {time_scale}",
            docs.len()
        );

        let batched = run_engine("engine (batched, 4 slots)", &handle, LlmEngine::new(settings(&url)).unwrap(), &docs, true).await;

        let planner = LlmEngine::new(settings(&url)).unwrap();
        let mut bodies = Vec::new();
        for (i, d) in docs.iter().enumerate() {
            bodies.extend(planner.batch_requests(&request(d, format!("doc{i}"))));
        }
        let n_bodies = bodies.len();
        let ceiling = replay(&handle, bodies).await;
        println!(
            "── ceiling: the same {n_bodies} first-attempt requests replayed with exactly 4 in flight ──\n  elapsed: {:.1} s simulated; occupancy {:.1} %; simulator's analytic ceiling {:.1} s",
            ceiling.wall_seconds,
            ceiling.busy_slot_seconds / (SLOTS as f64 * ceiling.wall_seconds) * 100.0,
            ceiling.ceiling_seconds
        );
        print(&batched, src, ceiling.wall_seconds);

        let mut naive_settings = settings(&url);
        naive_settings.slots = 1;
        naive_settings.batch_size = 1;
        let naive = run_engine("naive (one segment per request, sequential)", &handle, LlmEngine::new(naive_settings).unwrap(), &docs, false).await;
        print(&naive, src, ceiling.wall_seconds);
        handle.shutdown().await;
    });
}
