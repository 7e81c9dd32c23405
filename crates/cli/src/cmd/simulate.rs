//! `tradia simulate-llm`: a simulated Ollama/OpenAI server, for tests, benchmarks and trying
//! Tradia without a GPU (see crates/llm-sim).

use crate::Outcome;

/// Runs the simulator until interrupted.
pub(crate) fn run(args: tradia_llm_sim::SimulateArgs) -> Outcome {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return Outcome::Failed;
        }
    };
    match runtime.block_on(tradia_llm_sim::run(args)) {
        Ok(()) => Outcome::Success,
        Err(error) => {
            eprintln!("error: {error:#}");
            Outcome::Failed
        }
    }
}
