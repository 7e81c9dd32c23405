//! `tradia-serve`: the service alone, the same as `tradia serve` (used by the crash test, which
//! needs a process it can kill).

use clap::Parser;

/// Runs the Tradia service.
#[derive(Debug, Parser)]
#[command(name = "tradia-serve", version, about = "Runs the Tradia translation service")]
struct Cli {
    #[command(flatten)]
    serve: tradia_server::ServeArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tradia_server::run(Cli::parse().serve, None).await
}
