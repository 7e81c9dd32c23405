//! `tradia tm import|export`: a translation memory in or out of TMX 1.4b, on the configured store
//! (`TRADIA_DATA_DIR` / `DATABASE_URL`), as the local user (`--user`, default the single-user
//! mode's `local`, created when missing as `TRADIA_AUTH=none` does); and the same memory behind
//! `tradia translate --memory` ([`local_memory`]).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use tradia_formats::exchange::tmx::{TmxLimits, read_tmx, write_tmx};
use tradia_store::{Caller, MemoryScope, NewUser, Role, Store};

use crate::accounts::offline::StoreArgs;
use crate::accounts::sign_in::SINGLE_USER_LOGIN;

/// `tradia tm`.
#[derive(Debug, Clone, Args)]
pub struct TmArgs {
    #[command(subcommand)]
    pub command: TmCommand,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Whose memory (a login); default the local user of single-user mode.
    #[arg(long, global = true, default_value = SINGLE_USER_LOGIN)]
    pub user: String,
    /// Which memory: `own` (default) or `team:<id>`.
    #[arg(long, global = true, default_value = "own")]
    pub scope: String,
}

/// The `tm` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum TmCommand {
    /// Import a TMX file into the memory (a source already there is replaced).
    Import {
        /// The TMX file.
        file: PathBuf,
    },
    /// Export the memory as a TMX 1.4b file.
    Export {
        /// The TMX file to write.
        file: PathBuf,
    },
}

/// The caller `tradia` acts as on the store.
pub async fn local_caller(store: &dyn Store, login: &str) -> anyhow::Result<Caller> {
    if let Some(user) = store.find_user_by_login(login).await? {
        return Ok(user.caller());
    }
    anyhow::ensure!(login == SINGLE_USER_LOGIN, "no user with the login {login:?}");
    let mut new = NewUser::new(SINGLE_USER_LOGIN, Role::Admin);
    new.display_name = "Local user".into();
    Ok(store.create_user(new).await?.caller())
}

/// `tradia translate --memory`: the memory `scope` (`own` or `team:<id>`) of the local user on
/// the configured store, its records stamped with `model` and the current prompt version. The
/// store is handed back too, to be closed when the run ends.
pub async fn local_memory(
    store: &StoreArgs,
    scope: &str,
    model: Option<String>,
) -> anyhow::Result<(Arc<dyn Store>, super::StoreMemory)> {
    let scope: MemoryScope = scope.parse()?;
    anyhow::ensure!(scope != MemoryScope::Off, "--memory-scope off: leave out --memory instead");
    let store = store.open().await?;
    let caller = local_caller(store.as_ref(), SINGLE_USER_LOGIN).await?;
    let memory = super::StoreMemory {
        store: store.clone(),
        caller,
        scope,
        job: None,
        model,
        prompt_version: tradia_llm::prompt::PROMPT_VERSION.to_string(),
    };
    Ok((store, memory))
}

/// Runs `tradia tm …`.
pub async fn run_tm(args: TmArgs) -> anyhow::Result<()> {
    let scope: MemoryScope = args.scope.parse()?;
    let store = args.store.open().await?;
    let caller = local_caller(store.as_ref(), &args.user).await?;
    match args.command {
        TmCommand::Import { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let read = read_tmx(&bytes, TmxLimits::default())
                .with_context(|| format!("{}", file.display()))?;
            let mut skipped = read.skipped_count;
            let mut entries = Vec::new();
            for entry in read.entries {
                match super::api::as_core(entry) {
                    Some(e) => entries.push(e),
                    None => skipped += 1,
                }
            }
            let mut imported = 0;
            for chunk in entries.chunks(5_000) {
                imported += store.record_memory_for(&caller, scope, chunk.to_vec()).await?;
            }
            for why in read.skipped.iter().take(20) {
                eprintln!("skipped: {why}");
            }
            println!("{imported} entries imported, {skipped} skipped");
        }
        TmCommand::Export { file } => {
            let entries = super::api::all_entries(store.as_ref(), &caller, scope).await?;
            let tmp = file.with_extension("tmx.part");
            std::fs::write(&tmp, write_tmx(&entries, env!("CARGO_PKG_VERSION")))
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &file)
                .with_context(|| format!("cannot write {}", file.display()))?;
            println!("{} entries exported to {}", entries.len(), file.display());
        }
    }
    store.close().await;
    Ok(())
}
