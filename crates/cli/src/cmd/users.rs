//! `tradia users`: create and list accounts on the configured store while the service is
//! stopped (the logic is the server crate's, shared with the administration API's rules).

use crate::Outcome;

/// Runs `tradia users …`.
pub(crate) fn run(args: tradia_server::accounts::offline::UsersArgs) -> Outcome {
    super::keys::block_on(tradia_server::accounts::offline::run_users(args, &mut std::io::stdin()))
}
