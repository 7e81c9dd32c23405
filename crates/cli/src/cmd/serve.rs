//! `tradia serve`: the service (crates/server) with the web interface (crates/web) mounted at `/`.

use crate::Outcome;

/// Runs the service until SIGTERM or Ctrl-C.
pub(crate) fn run(args: tradia_server::ServeArgs) -> Outcome {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return Outcome::Failed;
        }
    };
    match runtime.block_on(tradia_server::run(args, Some(tradia_web::router()))) {
        Ok(()) => Outcome::Success,
        Err(error) => {
            eprintln!("error: {error:#}");
            Outcome::Failed
        }
    }
}
