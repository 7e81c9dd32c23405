//! `tradia keys`: create, list and revoke API keys on the configured store while the service is
//! stopped. `create` prints the new key alone on the last line, for scripts.

use crate::Outcome;

/// Runs `tradia keys …`.
pub(crate) fn run(args: tradia_server::accounts::offline::KeysArgs) -> Outcome {
    block_on(tradia_server::accounts::offline::run_keys(args))
}

/// Runs an account command to its end: `Failed` (the error on stderr) when it fails.
pub(crate) fn block_on(work: impl std::future::Future<Output = anyhow::Result<()>>) -> Outcome {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return Outcome::Failed;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => Outcome::Success,
        Err(error) => {
            eprintln!("error: {error:#}");
            Outcome::Failed
        }
    }
}
