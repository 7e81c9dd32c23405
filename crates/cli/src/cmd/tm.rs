//! `tradia tm import|export`: the translation memory in and out of TMX on the configured store
//! (the logic is the server crate's, shared with the `/api/v1/memory/tmx` routes).

use crate::Outcome;

/// Runs `tradia tm …`.
pub(crate) fn run(args: tradia_server::memory::offline::TmArgs) -> Outcome {
    super::keys::block_on(tradia_server::memory::offline::run_tm(args))
}
