//! `tradia models` and `tradia check`: what the configured LLM server offers, and what is wrong
//! with the connection, in plain words.

use clap::Args;
use tradia_llm::LlmArgs;

use crate::Outcome;

/// Arguments of `tradia models` and `tradia check`.
#[derive(Debug, Args)]
pub(crate) struct LlmCommandArgs {
    /// LLM connection settings.
    #[command(flatten)]
    llm: LlmArgs,
}

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => Some(rt),
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            None
        }
    }
}

/// Runs `tradia models`: lists the server's models.
pub(crate) fn models(args: LlmCommandArgs) -> Outcome {
    let Some(rt) = runtime() else { return Outcome::Failed };
    match rt.block_on(tradia_llm::models_command(&args.llm)) {
        Ok(listing) => {
            println!("{listing}");
            Outcome::Success
        }
        Err(error) => {
            eprintln!("error: {error}");
            Outcome::Failed
        }
    }
}

/// Runs `tradia check`: reaches the server, authenticates, looks for the model, checks context.
pub(crate) fn check(args: LlmCommandArgs) -> Outcome {
    let Some(rt) = runtime() else { return Outcome::Failed };
    match rt.block_on(tradia_llm::check_command(&args.llm)) {
        Ok(report) => {
            print!("{report}");
            if report.ok() { Outcome::Success } else { Outcome::Failed }
        }
        Err(error) => {
            eprintln!("error: {error}");
            Outcome::Failed
        }
    }
}
