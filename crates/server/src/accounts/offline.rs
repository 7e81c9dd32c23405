//! `tradia users …` and `tradia keys …`: account administration on the configured store
//! (`TRADIA_DATA_DIR` / `DATABASE_URL`) while the service is stopped — the first administrator
//! without the set-up link, a key for a script, a revoked key — with the same rules as the
//! administration API (argon2id hashes, keys shown once, audit entries).

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use time::format_description::well_known::Rfc3339;
use tradia_store::{
    ApiKeyId, Caller, NewApiKey, NewAuditEntry, NewUser, Role, Store, StoreError, User,
};

use super::secrets::{
    check_password_strength, hash_password, hash_token, new_api_key, shown_prefix,
};

/// Where the accounts are: the same settings as `tradia serve`.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Folder holding the SQLite database.
    #[arg(long, env = "TRADIA_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…`); default: SQLite file in the data folder.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
}

impl StoreArgs {
    /// Opens the configured store (`DATABASE_URL`, else the SQLite file under `TRADIA_DATA_DIR`).
    pub async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        let url = match self.database_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => url.to_string(),
            None => {
                std::fs::create_dir_all(&self.data_dir).with_context(|| {
                    format!(
                        "cannot create the data folder {} (TRADIA_DATA_DIR)",
                        self.data_dir.display()
                    )
                })?;
                format!("sqlite://{}", self.data_dir.join("tradia.db").display())
            }
        };
        tradia_store::connect(&url).await.with_context(|| {
            format!("cannot open the database {} (DATABASE_URL)", tradia_core::redact_url(&url))
        })
    }
}

/// `tradia users`.
#[derive(Debug, Clone, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub command: UsersCommand,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// What `tradia users` does.
#[derive(Debug, Clone, Subcommand)]
pub enum UsersCommand {
    /// Create a user (an administrator with `--admin`; the first one adopts the jobs created
    /// before accounts existed).
    Add {
        /// Sign-in name.
        login: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input (first line); without it the user has no local
        /// password (single sign-on or proxy only, until an administrator sets one).
        #[arg(long)]
        password_stdin: bool,
        /// Name shown in the page (default: the login).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List the users.
    List,
}

/// `tradia keys`.
#[derive(Debug, Clone, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// What `tradia keys` does.
#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Create an API key; the key alone is printed on the last line (shown only this once).
    Create {
        /// Whose key.
        #[arg(long)]
        user: String,
        /// A name to tell keys apart.
        #[arg(long)]
        name: Option<String>,
    },
    /// List a user's keys (never the keys themselves).
    List {
        /// Whose keys.
        #[arg(long)]
        user: String,
    },
    /// Revoke a key by its id.
    Revoke {
        /// The key's id (from `tradia keys list`).
        id: String,
    },
}

async fn find_user(store: &dyn Store, login: &str) -> anyhow::Result<User> {
    store.find_user_by_login(login).await?.with_context(|| format!("no user with login `{login}`"))
}

async fn audit(store: &dyn Store, action: &str, object: String) {
    let mut entry = NewAuditEntry::new(None, action);
    entry.object = Some(object);
    entry.detail = Some(serde_json::json!({ "via": "command line" }));
    if let Err(e) = store.append_audit(entry).await {
        eprintln!("warning: cannot write the audit log: {e}");
    }
}

/// Runs `tradia users …`, printing to standard output.
pub async fn run_users(args: UsersArgs, stdin: &mut dyn Read) -> anyhow::Result<()> {
    let store = args.store.open().await?;
    match args.command {
        UsersCommand::Add { login, admin, password_stdin, display_name } => {
            let role = if admin { Role::Admin } else { Role::User };
            let mut new = NewUser::new(login.trim(), role);
            new.display_name = display_name.unwrap_or_default();
            if password_stdin {
                let mut input = String::new();
                stdin
                    .read_to_string(&mut input)
                    .context("cannot read the password from standard input")?;
                let password = input.lines().next().unwrap_or_default().to_string();
                check_password_strength(&password).map_err(|e| anyhow::anyhow!(e.message))?;
                new.password_hash =
                    Some(hash_password(&password).await.map_err(|e| anyhow::anyhow!(e.message))?);
            }
            let user = match store.create_user(new).await {
                Ok(user) => user,
                Err(StoreError::LoginTaken(login)) => {
                    bail!("a user with login `{login}` exists already")
                }
                Err(e) => return Err(e.into()),
            };
            audit(&*store, "user_created", user.id.to_string()).await;
            println!("created {} `{}` ({})", user.role, user.login, user.id);
            if user.password_hash.is_none() {
                println!(
                    "no password: sign-in through single sign-on or the proxy only (or pass --password-stdin)"
                );
            }
        }
        UsersCommand::List => {
            for user in store.list_users().await? {
                println!("{}\t{}\t{}\t{}", user.id, user.login, user.role, user.state);
            }
        }
    }
    store.close().await;
    Ok(())
}

/// Runs `tradia keys …`, printing to standard output.
pub async fn run_keys(args: KeysArgs) -> anyhow::Result<()> {
    let store = args.store.open().await?;
    match args.command {
        KeysCommand::Create { user, name } => {
            let user = find_user(&*store, &user).await?;
            let key = new_api_key().map_err(|e| anyhow::anyhow!(e.message))?;
            let name = name
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "API key".into());
            let stored = store
                .create_api_key(NewApiKey {
                    user: user.id,
                    name,
                    key_hash: hash_token(&key),
                    prefix: shown_prefix(&key),
                })
                .await?;
            audit(&*store, "key_created", stored.id.to_string()).await;
            println!(
                "created key `{}` ({}) for `{}`; it is shown only now:",
                stored.name, stored.id, user.login
            );
            println!("{key}");
        }
        KeysCommand::List { user } => {
            let user = find_user(&*store, &user).await?;
            for key in store.list_api_keys(user.id).await? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                let last = key
                    .last_used_at
                    .and_then(|t| t.format(&Rfc3339).ok())
                    .unwrap_or_else(|| "never used".into());
                println!("{}\t{}\t{}\t{state}\t{last}", key.id, key.prefix, key.name);
            }
        }
        KeysCommand::Revoke { id } => {
            let key_id: ApiKeyId =
                id.parse().map_err(|_| anyhow::anyhow!("`{id}` is not a key id"))?;
            // The command line acts as an administrator: any user's key.
            let caller = Caller { user: tradia_store::UserId::new(), role: Role::Admin };
            match store.revoke_api_key(&caller, key_id).await {
                Ok(key) => {
                    audit(&*store, "key_revoked", key.id.to_string()).await;
                    println!("revoked key `{}` ({})", key.name, key.id);
                }
                Err(StoreError::ApiKeyNotFound(_)) => bail!("no API key with id {id}"),
                Err(e) => return Err(e.into()),
            }
        }
    }
    store.close().await;
    Ok(())
}
