//! `tradia`: the command line and the service, in one binary.
//!
//! This file only parses the command line and dispatches; each subcommand lives in
//! `cmd/<name>.rs`. Exit status: 0 when everything succeeded, 1 when some work failed (each failure
//! is named on stderr), 2 for a usage error (bad flag, bad language code, conflicting inputs).

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod engine;

/// mimalloc instead of the system allocator: filters allocate many small strings (one per text
/// piece), and the system allocator doubled the time of a large merge in the Scenari benchmark
/// (`cargo bench -p tradia-formats --bench scenari_throughput`, which uses the same allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tradia: translate documents and text with a local LLM, keeping their formatting.
#[derive(Debug, Parser)]
#[command(name = "tradia", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the translation service: web interface and HTTP API (port 8000 by default).
    Serve(tradia_server::ServeArgs),
    /// Translate files (Scenari items and archives, and every other supported format).
    Translate(cmd::translate::TranslateArgs),
    /// List the segments a file yields, with their inline codes, and the fields it keeps.
    Inspect(cmd::inspect::InspectArgs),
    /// List the models the configured LLM server offers.
    Models(cmd::llm::LlmCommandArgs),
    /// Check the connection to the LLM server and explain what is wrong, in plain words.
    Check(cmd::llm::LlmCommandArgs),
    /// Run a simulated Ollama/OpenAI-compatible server (no GPU needed).
    #[command(name = "simulate-llm")]
    SimulateLlm(tradia_llm_sim::SimulateArgs),
    /// Manage accounts on the configured store while the service is stopped.
    Users(tradia_server::accounts::offline::UsersArgs),
    /// Manage API keys on the configured store while the service is stopped.
    Keys(tradia_server::accounts::offline::KeysArgs),
    /// Import, export and list glossaries on the configured store.
    Glossary(cmd::glossary::GlossaryArgs),
    /// Back up the embedded database and its files into a new folder, while serving.
    Backup(cmd::storage::BackupArgs),
    /// Restore a backup into a data folder that holds no data (or replace it with --force).
    Restore(cmd::storage::RestoreArgs),
    /// Delete the files no job refers to (--dry-run lists them).
    Purge(cmd::storage::PurgeArgs),
    /// Check the storage in full: database integrity, a test write, missing and extra files.
    #[command(name = "check-storage")]
    CheckStorage(cmd::storage::CheckStorageArgs),
}

/// How a command ended, mapped to the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything succeeded.
    Success,
    /// Some work failed; the failures were reported on stderr.
    Failed,
    /// The command line was wrong; nothing ran.
    Usage,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        match outcome {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Failed => ExitCode::from(1),
            Outcome::Usage => ExitCode::from(2),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => cmd::serve::run(args),
        Command::Translate(args) => cmd::translate::run(args),
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Models(args) => cmd::llm::models(args),
        Command::Check(args) => cmd::llm::check(args),
        Command::SimulateLlm(args) => cmd::simulate::run(args),
        Command::Users(args) => cmd::users::run(args),
        Command::Keys(args) => cmd::keys::run(args),
        Command::Glossary(args) => cmd::glossary::run(args),
        Command::Backup(args) => cmd::storage::backup(args),
        Command::Restore(args) => cmd::storage::restore(args),
        Command::Purge(args) => cmd::storage::purge(args),
        Command::CheckStorage(args) => cmd::storage::check_storage(args),
    };
    outcome.into()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
