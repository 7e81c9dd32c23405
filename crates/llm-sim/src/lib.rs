//! Simulated LLM server for Tradia (`tradia simulate-llm`).
//!
//! Why: no GPU runs in CI, yet the LLM engine must be tested against servers that queue,
//! saturate, truncate, chatter and fail the way Ollama and OpenAI-compatible servers do. This
//! crate is a server that
//! - speaks the Ollama native API (`/api/chat`, `/api/generate`, `/api/tags`, `/api/version`,
//!   `/api/ps`, `/api/show`) and the OpenAI-compatible API (`/v1/chat/completions`,
//!   `/v1/models`) on one port, with the shapes and error bodies of `llm-servers.md` §1 and §4;
//! - translates deterministically: requests following the batch wire contract ([`wire`],
//!   `WIRE.md`) get each segment pseudo-translated with `tradia_core::pseudo`, anything else gets
//!   a pseudo-translation of its last user text;
//! - models time per `llm-servers.md` §5: S slots, a FIFO queue, a per-slot prompt cache,
//!   prefill at P tok/s, decode steps of `τ1·n^(1−α)` plus KV reads shared by the `n` sequences
//!   decoding, model load on first use and on a `num_ctx` change, all scaled by `time_scale`;
//! - injects faults drawn per request from a seeded generator ([`FaultSpec`]);
//! - counts what happened (`GET /sim/stats`, `POST /sim/reset`, [`SimHandle::stats`]).
//!
//! It deliberately depends on no client code (`tradia-llm`), only on the segment model.

#![forbid(unsafe_code)]

pub mod answer;
pub mod config;
pub mod engine;
pub mod server;
pub mod wire;

use std::net::IpAddr;

pub use config::{ConfigError, DEFAULT_MODEL, FaultKind, FaultSpec, FaultSpecError, Latency, SimConfig};
pub use engine::SimStats;
pub use server::{SimHandle, StartError, start};

/// Options of `tradia simulate-llm`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
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
    /// Faults to inject: comma-separated kind=p (p in [0,1]); all=p sets every kind.
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
    println!("tradia LLM simulator listening on {}", handle.base_url());
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
