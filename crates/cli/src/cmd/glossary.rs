//! Glossaries on the command line: `tradia translate --glossary FILE --formality more
//! --instructions "…"` ([`GuidanceArgs`]), and `tradia glossary import|export|list`, which work
//! on the configured store (`TRADIA_DATA_DIR` / `DATABASE_URL`) as the user named by `--user`.
//!
//! A glossary file is CSV, TSV or TBX, told by its extension (`.csv`; `.tsv`, `.tab`; `.tbx`),
//! read by `tradia_formats::exchange`. `glossary import` stores it through the store's checks
//! (empty, over-long or repeated terms are refused with the entry's number); `translate
//! --glossary` uses the entries as read (the engine ignores entries with an empty source).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use tradia_core::{Formality, Guidance, LanguageTag, Term};
use tradia_formats::exchange::tbx::{read_tbx, write_tbx};
use tradia_formats::exchange::term_csv::{Separator, read_terms, write_terms};
use tradia_server::accounts::offline::StoreArgs;
use tradia_store::{GlossaryId, NewGlossary, Owner, Store, User};

use super::keys::block_on;
use crate::Outcome;

/// Most characters of `--instructions` (the API's limit too).
pub(crate) const MAX_INSTRUCTIONS_CHARS: usize = 2_000;
/// Most characters of `--brief` (the API's limit too).
pub(crate) const MAX_BRIEF_CHARS: usize = 500;

/// The form of address wanted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormalityArg {
    /// The model's choice.
    #[default]
    Default,
    /// Formal (vous, Sie, usted).
    More,
    /// Informal (tu, du, tú).
    Less,
}

impl From<FormalityArg> for Formality {
    fn from(f: FormalityArg) -> Self {
        match f {
            FormalityArg::Default => Formality::Default,
            FormalityArg::More => Formality::More,
            FormalityArg::Less => Formality::Less,
        }
    }
}

/// What `tradia translate` tells the engine besides the segments.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct GuidanceArgs {
    /// A glossary file (CSV, TSV or TBX, by its extension) whose terms the translation uses.
    #[arg(long, value_name = "FILE")]
    glossary: Option<PathBuf>,
    /// Form of address: default, more (formal) or less (informal).
    #[arg(long, value_enum, default_value_t = FormalityArg::Default)]
    formality: FormalityArg,
    /// Free-form instructions to the model (at most 2,000 characters).
    #[arg(long, value_name = "TEXT")]
    instructions: Option<String>,
    /// What the documents are (title, domain; at most 500 characters). Without it each file's
    /// own title, when it records one, is the brief.
    #[arg(long, value_name = "TEXT")]
    brief: Option<String>,
}

impl GuidanceArgs {
    /// The guidance these arguments ask for; an error names the problem (a usage error).
    pub(crate) fn load(
        &self,
        from: Option<&LanguageTag>,
        to: &LanguageTag,
    ) -> Result<Guidance, String> {
        let instructions = self.instructions.as_deref().map(str::trim).filter(|i| !i.is_empty());
        if let Some(i) = instructions
            && i.chars().count() > MAX_INSTRUCTIONS_CHARS
        {
            return Err(format!(
                "--instructions has {} characters; the limit is {MAX_INSTRUCTIONS_CHARS}",
                i.chars().count()
            ));
        }
        let brief = self.brief.as_deref().map(str::trim).filter(|b| !b.is_empty());
        if let Some(b) = brief
            && b.chars().count() > MAX_BRIEF_CHARS
        {
            return Err(format!(
                "--brief has {} characters; the limit is {MAX_BRIEF_CHARS}",
                b.chars().count()
            ));
        }
        let terms = match &self.glossary {
            None => Vec::new(),
            Some(path) => read_glossary_file(path, from, to).map_err(|e| format!("{e:#}"))?,
        };
        Ok(Guidance {
            terms,
            formality: self.formality.into(),
            instructions: instructions.map(str::to_string),
            brief: brief.map(str::to_string),
            ..Guidance::default()
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FileFormat {
    Csv,
    Tsv,
    Tbx,
}

fn format_of(path: &Path) -> anyhow::Result<FileFormat> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("csv") => Ok(FileFormat::Csv),
        Some("tsv" | "tab") => Ok(FileFormat::Tsv),
        Some("tbx") => Ok(FileFormat::Tbx),
        _ => bail!("{}: a glossary file ends in .csv, .tsv or .tbx", path.display()),
    }
}

/// Reads and checks a glossary file; TBX needs the source language (`--from`).
fn read_glossary_file(
    path: &Path,
    from: Option<&LanguageTag>,
    to: &LanguageTag,
) -> anyhow::Result<Vec<Term>> {
    let format = format_of(path)?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let terms = match format {
        FileFormat::Csv => read_terms(&bytes, Separator::Comma),
        FileFormat::Tsv => read_terms(&bytes, Separator::Tab),
        FileFormat::Tbx => {
            let Some(from) = from else {
                bail!(
                    "{}: a TBX glossary needs --from (the language of its source terms)",
                    path.display()
                );
            };
            read_tbx(&bytes, from, to).map(|i| i.terms)
        }
    };
    terms.with_context(|| path.display().to_string())
}

/// `tradia glossary`.
#[derive(Debug, Clone, Args)]
pub(crate) struct GlossaryArgs {
    #[command(subcommand)]
    command: GlossaryCommand,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Clone, Subcommand)]
enum GlossaryCommand {
    /// Create a glossary from a CSV, TSV or TBX file; prints its id on the last line.
    Import {
        /// The file.
        file: PathBuf,
        /// Whose glossary.
        #[arg(long)]
        user: String,
        /// Its name (default: the file's name).
        #[arg(long)]
        name: Option<String>,
        /// Source language.
        #[arg(long)]
        from: LanguageTag,
        /// Target language.
        #[arg(long)]
        to: LanguageTag,
        /// Make it the user's default for the pair.
        #[arg(long)]
        default: bool,
    },
    /// Write a glossary as CSV, TSV or TBX (to standard output, or to --output).
    Export {
        /// The glossary's id (from `tradia glossary list`).
        id: String,
        /// Whose glossary.
        #[arg(long)]
        user: String,
        /// File format.
        #[arg(long, value_enum, default_value_t = FileFormat::Csv)]
        format: FileFormat,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// List a user's glossaries and their teams'.
    List {
        /// Whose glossaries.
        #[arg(long)]
        user: String,
    },
}

async fn find_user(store: &dyn Store, login: &str) -> anyhow::Result<User> {
    store.find_user_by_login(login).await?.with_context(|| format!("no user with login `{login}`"))
}

/// Runs `tradia glossary …`.
pub(crate) fn run(args: GlossaryArgs) -> Outcome {
    block_on(run_async(args))
}

async fn run_async(args: GlossaryArgs) -> anyhow::Result<()> {
    let store = args.store.open().await?;
    match args.command {
        GlossaryCommand::Import { file, user, name, from, to, default } => {
            let user = find_user(store.as_ref(), &user).await?;
            let entries = read_glossary_file(&file, Some(&from), &to)?;
            let name = name.unwrap_or_else(|| {
                file.file_stem().map_or_else(|| "glossary".into(), |s| s.to_string_lossy().into())
            });
            let glossary = NewGlossary {
                owner: Owner::User(user.id),
                name,
                source_lang: from,
                target_lang: to,
                is_default: default,
                entries,
            };
            let created = store.create_glossary_for(&user.caller(), glossary).await?;
            eprintln!("imported {} entries into \"{}\"", created.entry_count, created.name);
            println!("{}", created.id);
        }
        GlossaryCommand::Export { id, user, format, output } => {
            let user = find_user(store.as_ref(), &user).await?;
            let id: GlossaryId =
                id.parse().with_context(|| format!("`{id}` is not a glossary id"))?;
            let (glossary, entries) = store.glossary_entries_for(&user.caller(), id).await?;
            let bytes = match format {
                FileFormat::Csv => write_terms(&entries, Separator::Comma),
                FileFormat::Tsv => write_terms(&entries, Separator::Tab),
                FileFormat::Tbx => write_tbx(
                    &glossary.name,
                    &glossary.source_lang,
                    &glossary.target_lang,
                    &entries,
                )
                .into_bytes(),
            };
            match output {
                Some(path) => std::fs::write(&path, bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => {
                    super::print_stdout(&String::from_utf8_lossy(&bytes))?;
                }
            }
        }
        GlossaryCommand::List { user } => {
            let user = find_user(store.as_ref(), &user).await?;
            for g in store.list_glossaries_for(&user.caller()).await? {
                let owner = match g.owner {
                    Owner::User(_) => "own".to_string(),
                    Owner::Team(t) => format!("team {t}"),
                };
                let default = if g.is_default { " (default)" } else { "" };
                let line = format!(
                    "{}  {} → {}  {:>5} entries  {}  {}{default}\n",
                    g.id, g.source_lang, g.target_lang, g.entry_count, owner, g.name
                );
                if !super::print_stdout(&line)? {
                    break;
                }
            }
        }
    }
    Ok(())
}
