//! Stand-alone simulator, the same as `tradia simulate-llm`:
//! `cargo run -p tradia-llm-sim --example simulate_llm -- --port 0 --time-scale 100`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;

#[derive(Parser)]
#[command(about = "Simulated Ollama / OpenAI-compatible LLM server")]
struct Cli {
    #[command(flatten)]
    args: tradia_llm_sim::SimulateArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tradia_llm_sim::run(Cli::parse().args).await
}
