//! Simulated LLM server for Tradia (`tradia simulate-llm`).
//!
//! Why: no GPU runs in CI, yet the LLM engine must be tested against servers that queue,
//! saturate, truncate, chatter and fail the way Ollama and OpenAI-compatible servers do. This
//! crate is a server that
//! - speaks the Ollama native API (`/api/chat`, `/api/generate`, `/api/tags`, `/api/version`,
//!   `/api/ps`, `/api/show`) and the OpenAI-compatible API (`/v1/chat/completions`,
//!   `/v1/models`) on one port, with the shapes and error bodies of `llm-servers.md` §1 and §4;
//!   or, with [`Flavor::LlamaCpp`], behaves like llama.cpp's `llama-server` where it differs
//!   (`/health`, `/props`, `/v1/models` `meta`, error bodies and statuses, context-overflow
//!   errors, stream chunk shapes, `timings`), as observed on a real build;
//! - translates deterministically: requests following the batch wire contract ([`wire`],
//!   `WIRE.md`) get each segment pseudo-translated with `tradia_core::pseudo`, anything else gets
//!   a pseudo-translation of its last user text;
//! - models time per `llm-servers.md` §5: S slots, a FIFO queue, a per-slot prompt cache,
//!   prefill at P tok/s shared by all slots (serialized, stalling the others' decode, as in
//!   llama.cpp), decode steps of `τ1·n^(1−α)` plus KV reads shared by the `n` sequences
//!   decoding, model load on first use and on a `num_ctx` change, Ollama's 503 beyond
//!   `max_queue` waiting requests, all scaled by `time_scale`;
//! - injects faults drawn per request from a seeded generator ([`FaultSpec`]);
//! - counts what happened (`GET /sim/stats`, `POST /sim/reset`, [`SimHandle::stats`]).
//!
//! It deliberately depends on no client code (`tradia-llm`), only on the segment model.
//!
//! Statistics (`GET /sim/stats`, JSON of [`SimStats`]; `POST /sim/reset` zeroes them, and the
//! per-body fault draw counters): `requests`, `completed`, `prompt_tokens`,
//! `prefilled_tokens`, `output_tokens`, `busy_slot_seconds`, `wall_seconds` (first arrival to
//! last completion), `eval_seconds`, `ceiling_seconds` (the same work on a server kept exactly
//! full), `occupancy`, `queue_seconds`, `max_concurrent` (slots held at once), `max_in_flight`,
//! `loads`, `reloads`, `segments` (source text → times asked), `examples` (example source →
//! times sent), `briefs` (brief → batch requests carrying it), `faults` (kind → count),
//! `http_errors` (status → count). All durations are simulated seconds. They are measured on
//! the real clock times the time scale, so client gaps count as they would on a real server;
//! timer granularity (about 1 ms real) is magnified by the scale too, so measure occupancy at a
//! time scale of 100 or less.
//!
//! The `/sim` endpoints and `GET /` need no API key; `/api/*` and `/v1/*` do when one is set.

#![forbid(unsafe_code)]

pub mod answer;
pub mod config;
pub mod engine;
pub mod server;
pub mod wire;

use std::net::IpAddr;

pub use config::{
    ConfigError, DEFAULT_MODEL, FaultKind, FaultSpec, FaultSpecError, Flavor, Latency, SimConfig,
    SimMode,
};
pub use engine::SimStats;
pub use server::{SimHandle, StartError, start};

/// Options of `tradia simulate-llm`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// The server to behave like: ollama, or llamacpp (llama.cpp's llama-server).
    #[arg(long, default_value = "ollama")]
    pub flavor: Flavor,
    /// How it translates: pseudo (each segment by itself), or contextual (a term's sense mark
    /// chosen by the whole request, as a model reading around it).
    #[arg(long, default_value = "pseudo")]
    pub mode: SimMode,
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 11434)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Decode slots (like OLLAMA_NUM_PARALLEL).
    #[arg(long, default_value_t = 4)]
    pub slots: u32,
    /// How many times faster than real time the simulated clock runs.
    #[arg(long = "time-scale", default_value_t = 1.0)]
    pub time_scale: f64,
    /// Faults to inject: comma-separated kind=p (p from 0 to 1); all=p sets every kind.
    #[arg(long, value_parser = parse_faults)]
    pub faults: Option<FaultSpec>,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Models served, comma-separated (default: any name is accepted).
    #[arg(long, value_delimiter = ',')]
    pub models: Option<Vec<String>>,
    /// API key required on every API request (Bearer, Basic api:KEY or X-API-Key).
    #[arg(long = "api-key")]
    pub api_key: Option<String>,
}

fn parse_faults(s: &str) -> Result<FaultSpec, String> {
    FaultSpec::parse(s).map_err(|e| e.to_string())
}

impl SimulateArgs {
    /// The configuration these options describe (latency model: profile A defaults).
    pub fn to_config(&self) -> SimConfig {
        SimConfig {
            flavor: self.flavor,
            mode: self.mode,
            host: self.host,
            port: self.port,
            slots: self.slots,
            time_scale: self.time_scale,
            faults: self.faults.clone().unwrap_or_default(),
            seed: self.seed,
            models: self.models.as_ref().map(|m| {
                m.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
            }),
            api_key: self.api_key.clone(),
            ..SimConfig::default()
        }
    }
}

/// Runs the simulator until Ctrl-C or SIGTERM, after printing the address it listens on.
pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let handle = start(args.to_config()).await?;
    // Built from the bound address, so it holds no credential; redacted like every shown URL.
    println!("tradia LLM simulator listening on {}", tradia_core::redact_url(&handle.base_url()));
    wait_for_signal().await;
    handle.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimulateArgs,
    }

    #[test]
    fn defaults_match_the_interface() {
        let c = Cli::try_parse_from(["t"]).unwrap().args.to_config();
        assert_eq!(c.port, 11434);
        assert_eq!(c.host.to_string(), "127.0.0.1");
        assert_eq!(c.slots, 4);
        assert_eq!(c.time_scale, 1.0);
        assert_eq!(c.seed, 0);
        assert!(c.faults.is_empty() && c.models.is_none() && c.api_key.is_none());
    }

    #[test]
    fn every_option_parses() {
        let c = Cli::try_parse_from([
            "t",
            "--port",
            "0",
            "--host",
            "0.0.0.0",
            "--slots",
            "8",
            "--time-scale",
            "50",
            "--faults",
            "all=0.015,drop_code=0.1",
            "--seed",
            "42",
            "--models",
            "a:7b, b",
            "--api-key",
            "k",
        ])
        .unwrap()
        .args
        .to_config();
        assert_eq!((c.port, c.slots, c.time_scale, c.seed), (0, 8, 50.0, 42));
        assert_eq!(c.faults.get(FaultKind::DropCode), 0.1);
        assert_eq!(c.faults.get(FaultKind::Echo), 0.015);
        assert_eq!(c.models, Some(vec!["a:7b".to_string(), "b".to_string()]));
        assert_eq!(c.api_key.as_deref(), Some("k"));
    }

    #[test]
    fn a_bad_fault_spec_names_the_kind() {
        let Err(e) = Cli::try_parse_from(["t", "--faults", "drop=0.1"]) else {
            panic!("accepted a bad spec");
        };
        assert!(e.to_string().contains("\"drop\""), "{e}");
    }
}
