//! Glossary and style options of jobs and text requests: their parsing at the API edge, and the
//! [`Guidance`] (glossary terms, formality, instructions, brief) an engine is given from them.
//! A job's brief is the one its user wrote, else each file's own title and domain
//! (`tradia_formats::Document::brief`).
//!
//! Why here: the store keeps the options and the glossaries, the engine knows only `Guidance`;
//! this module reads one into the other as the caller. A request that names a glossary uses it
//! (one the caller may not read is `glossary_not_found`, checked on acceptance); one that names
//! none uses the caller's default glossary for the language pair, when the source language is
//! known. A glossary that cannot be read when a job runs (deleted since) is logged and counted
//! (`tradia_glossary_errors_total`) and the job goes on without it.

use tradia_core::{Formality, Guidance, LanguageTag, Term};
use tradia_store::{
    Caller, GlossaryId, Job, JobGuidance, MAX_BRIEF_CHARS, MAX_INSTRUCTIONS_CHARS, Role,
    StoreError, StoreResult,
};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// The most bytes of an `instructions` form field (four per character at most).
pub const MAX_INSTRUCTIONS_BYTES: usize = MAX_INSTRUCTIONS_CHARS * 4;

/// The `formality` option: `default` (or absent), `more` or `less` (DeepL's `prefer_more` and
/// `prefer_less` too, read as `more` and `less`: DeepL document uploads go through here).
pub fn parse_formality(value: Option<&str>) -> ApiResult<Formality> {
    match value.map(str::trim).unwrap_or_default() {
        "" | "default" => Ok(Formality::Default),
        "more" | "prefer_more" => Ok(Formality::More),
        "less" | "prefer_less" => Ok(Formality::Less),
        other => Err(ApiError::new(
            ErrorCode::InvalidFormality,
            format!("`formality` is `{other}`; use `default`, `more` or `less`"),
        )),
    }
}

/// The `instructions` option, trimmed (`None` when empty), at most [`MAX_INSTRUCTIONS_CHARS`].
pub fn check_instructions(value: Option<&str>) -> ApiResult<Option<String>> {
    let text = value.map(str::trim).unwrap_or_default();
    if text.chars().count() > MAX_INSTRUCTIONS_CHARS {
        return Err(instructions_too_long());
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// The `brief` option (what the document is), trimmed (`None` when empty), at most
/// [`MAX_BRIEF_CHARS`] characters.
pub fn check_brief(value: Option<&str>) -> ApiResult<Option<String>> {
    let text = value.map(str::trim).unwrap_or_default();
    if text.chars().count() > MAX_BRIEF_CHARS {
        return Err(ApiError::new(
            ErrorCode::BriefTooLong,
            format!("`brief` is longer than {MAX_BRIEF_CHARS} characters"),
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}

/// `instructions` over the limit.
pub fn instructions_too_long() -> ApiError {
    ApiError::new(
        ErrorCode::InstructionsTooLong,
        format!("`instructions` is longer than {MAX_INSTRUCTIONS_CHARS} characters"),
    )
}

/// The `glossary_id` option (`None` when absent or empty; anything not an id is not found).
pub fn parse_glossary(value: Option<&str>) -> ApiResult<Option<GlossaryId>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => crate::api::glossaries::parse_id(v).map(Some),
    }
}

/// The terms of the glossary `named`, or of the caller's default for the pair when none is
/// named and the source is known.
pub async fn terms(
    state: &AppState,
    caller: &Caller,
    named: Option<GlossaryId>,
    source: Option<&LanguageTag>,
    target: &LanguageTag,
) -> StoreResult<Vec<Term>> {
    let store = state.jobs.store();
    let id = match named {
        Some(id) => id,
        None => {
            let Some(source) = source else { return Ok(Vec::new()) };
            match store.default_glossary_for(caller, source, target).await? {
                Some(g) => g.id,
                None => return Ok(Vec::new()),
            }
        }
    };
    Ok(store.glossary_entries_for(caller, id).await?.1)
}

/// The terms for a text request: a named glossary the caller may not read is
/// `glossary_not_found`.
pub async fn terms_for_text(
    state: &AppState,
    caller: &Caller,
    named: Option<GlossaryId>,
    source: Option<&LanguageTag>,
    target: &LanguageTag,
) -> ApiResult<Vec<Term>> {
    terms(state, caller, named, source, target).await.map_err(crate::api::glossaries::store_error)
}

/// The guidance of a job (as its owner), for its detected or given `source`, for a file whose
/// document describes itself as `document_brief` (its title and domain): the user's brief wins,
/// else the document's. Unreadable options or glossary are logged and skipped: the job runs
/// without them.
pub async fn for_job(
    state: &AppState,
    job: &Job,
    source: Option<&LanguageTag>,
    document_brief: Option<String>,
) -> Guidance {
    let Some(owner) = job.owner else {
        return Guidance { brief: document_brief, ..Guidance::default() };
    };
    let options = match state.jobs.store().job_guidance(job.id).await {
        Ok(o) => o,
        Err(e) => {
            skipped(job, "job guidance options unreadable", &e);
            JobGuidance::default()
        }
    };
    let caller = Caller { user: owner, role: Role::User };
    let terms = match terms(state, &caller, options.glossary, source, &job.target_lang).await {
        Ok(t) => t,
        Err(e) => {
            skipped(job, "glossary unreadable: translated without it", &e);
            Vec::new()
        }
    };
    Guidance {
        terms,
        formality: options.formality,
        instructions: options.instructions,
        brief: options.brief.or(document_brief),
        ..Guidance::default()
    }
}

fn skipped(job: &Job, what: &str, e: &StoreError) {
    metrics::counter!("tradia_glossary_errors_total").increment(1);
    tracing::warn!(job.id = %job.id, error = %e, "{what}");
}
