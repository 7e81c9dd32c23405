//! Text translation: `POST /api/v1/translate` and its streaming twin.
//!
//! Plain requests go through the document engine with interactive priority (validation,
//! batching and fairness are the engine's); streaming requests use the gateway's token stream so
//! the first words appear while the model is still writing.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use futures::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::task::AbortOnDropHandle;
use tradia_core::{CancelFlag, Content, LanguageTag, NoSink, Priority, Segment, TranslateRequest};
use utoipa::ToSchema;

use crate::accounts::{Identity, quota};
use crate::api::input::Payload;
use crate::detect::{check_pair, detect_language, parse_language, parse_source};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::gateway::TextRequest;
use crate::sse::{StreamMsg, sse_from_messages};
use crate::state::AppState;

/// Most texts in one request.
const MAX_TEXTS: usize = 100;
/// Most characters in all texts of one request.
const MAX_CHARS: usize = 100_000;

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TextInput {
    /// One text.
    One(String),
    /// Several texts, translated separately.
    Many(Vec<String>),
}

/// Body of `POST /api/v1/translate` (JSON or form).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TranslateBody {
    /// The text(s) to translate.
    pub text: TextInput,
    /// Source language; omitted or `auto` to detect it.
    pub source_lang: Option<String>,
    /// Target language (BCP 47).
    pub target_lang: String,
    /// Model; omitted for the default.
    pub model: Option<String>,
    /// Translation memory: `own` (default), `teams`, `team:<id>` or `off`.
    pub memory: Option<String>,
    /// Glossary to apply; omitted for the caller's default for the language pair.
    pub glossary_id: Option<String>,
    /// `default` (omitted), `more` (formal address) or `less` (informal).
    pub formality: Option<String>,
}

/// One translated text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Translation {
    /// The translation.
    pub text: String,
    /// The source language used (`null` when it could not be detected).
    pub source_lang: Option<String>,
    /// True when the source language was detected rather than given.
    pub detected: bool,
    /// Set when no usable translation was obtained and the source text was returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::error::ErrorDetail>)]
    pub kept: Option<tradia_core::KeptReason>,
}

/// Answer of `POST /api/v1/translate`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TranslateResponse {
    /// One entry per input text, in order.
    pub translations: Vec<Translation>,
}

/// A checked text request.
struct Checked {
    texts: Vec<String>,
    source: Option<LanguageTag>,
    target: LanguageTag,
    model: Option<String>,
    memory: tradia_store::MemoryScope,
    glossary: Option<tradia_store::GlossaryId>,
    formality: tradia_core::Formality,
}

async fn check(state: &AppState, payload: &Payload) -> ApiResult<Checked> {
    if !payload.fields.contains_key("text") {
        return Err(ApiError::new(ErrorCode::MissingText, "the `text` field is required"));
    }
    if !payload.fields.contains_key("target_lang") {
        return Err(ApiError::new(
            ErrorCode::MissingTargetLang,
            "the `target_lang` field is required (a language code such as en, fr or ar)",
        ));
    }
    let body: TranslateBody = payload.parse()?;
    let texts = match body.text {
        TextInput::One(t) => vec![t],
        TextInput::Many(v) => v,
    };
    if texts.is_empty() {
        return Err(ApiError::new(ErrorCode::MissingText, "`text` is an empty list"));
    }
    if texts.len() > MAX_TEXTS {
        return Err(ApiError::new(
            ErrorCode::TooManyTexts,
            format!("at most {MAX_TEXTS} texts per request, got {}", texts.len()),
        ));
    }
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    if chars > MAX_CHARS {
        return Err(ApiError::new(
            ErrorCode::TextTooLong,
            format!("at most {MAX_CHARS} characters per request, got {chars}; send a document"),
        ));
    }
    let target = parse_language("target_lang", &body.target_lang)?;
    let source = parse_source(body.source_lang.as_deref())?;
    check_pair(source.as_ref(), &target)?;
    let model = state.check_model(body.model.as_deref()).await?;
    let memory = crate::memory::api::parse_scope(body.memory.as_deref())?;
    let glossary = crate::guidance::parse_glossary(body.glossary_id.as_deref())?;
    let formality = crate::guidance::parse_formality(body.formality.as_deref())?;
    Ok(Checked { texts, source, target, model, memory, glossary, formality })
}

/// The source to use for one text: given, or detected.
fn source_for(given: &Option<LanguageTag>, text: &str) -> (Option<LanguageTag>, bool) {
    match given {
        Some(s) => (Some(s.clone()), false),
        None => (detect_language(text), true),
    }
}

/// Counts the texts' characters against the caller's quota, and in their usage (on acceptance:
/// what was sent is what is counted).
async fn charge(state: &AppState, identity: &Identity, checked: &Checked) -> ApiResult<()> {
    let chars: usize = checked.texts.iter().map(|t| t.chars().count()).sum();
    let chars = u64::try_from(chars).unwrap_or(u64::MAX);
    quota::check_chars(state, &identity.user, chars).await?;
    quota::add_usage(state, identity.user.id, chars).await;
    Ok(())
}

async fn translate_one(
    state: &AppState,
    checked: &Checked,
    text: &str,
    caller: &tradia_store::Caller,
) -> ApiResult<Translation> {
    let owner = caller.user.to_string();
    let (source, detected) = source_for(&checked.source, text);
    if text.trim().is_empty() {
        return Ok(Translation {
            text: text.to_string(),
            source_lang: source.map(|s| s.to_string()),
            detected,
            kept: None,
        });
    }
    let terms = crate::guidance::terms_for_text(
        state,
        caller,
        checked.glossary,
        source.as_ref(),
        &checked.target,
    )
    .await?;
    let guidance =
        tradia_core::Guidance { terms, formality: checked.formality, ..Default::default() };
    let engine = crate::memory::wrap(
        state,
        state.gateway.engine(checked.model.as_deref()),
        *caller,
        checked.memory,
        None,
        checked.model.as_deref(),
    );
    let segments = [Segment {
        id: 0,
        content: Content::text(text),
        location: "text".into(),
        field: "text".into(),
    }];
    let request = TranslateRequest {
        source: source.clone(),
        target: checked.target.clone(),
        segments: &segments,
        pending: vec![0],
        priority: Priority::Interactive,
        // Round robin by user: one user's many requests do not hold up another's.
        owner: owner.to_string(),
        cancel: CancelFlag::new(),
        sink: &NoSink,
        guidance: std::sync::Arc::new(guidance),
    };
    let started = std::time::Instant::now();
    let results = engine.translate(request).await;
    state.record_llm("translate", started, results.is_ok());
    let mut results = results?;
    let result = results.pop().ok_or_else(|| {
        ApiError::internal("text translation failed", "the engine returned no result")
    })?;
    Ok(Translation {
        text: result.content.plain_text(),
        source_lang: source.map(|s| s.to_string()),
        detected,
        kept: result.kept,
    })
}

/// Translates one or several texts.
#[utoipa::path(post, path = "/api/v1/translate", tag = "text",
    request_body(content = TranslateBody, description = "JSON or form"),
    responses((status = 200, body = TranslateResponse), (status = 400, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody)))]
pub async fn translate(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    payload: Payload,
) -> ApiResult<Json<TranslateResponse>> {
    let checked = check(&state, &payload).await?;
    crate::memory::api::check_scope(&state, &identity.caller(), checked.memory).await?;
    charge(&state, &identity, &checked).await?;
    let caller = identity.caller();
    let futures = checked.texts.iter().map(|t| translate_one(&state, &checked, t, &caller));
    let translations = futures::future::try_join_all(futures).await?;
    Ok(Json(TranslateResponse { translations }))
}

/// Translates texts, streaming `token` events (`{"index", "text"}`) then `done`.
#[utoipa::path(post, path = "/api/v1/translate/stream", tag = "text",
    request_body(content = TranslateBody, description = "JSON or form"),
    responses((status = 200, description = "text/event-stream: `token` events {\"index\", \"text\"}, then `done` with the TranslateResponse, or `error` with an ErrorBody"),
        (status = 400, body = crate::error::ErrorBody)))]
pub async fn translate_stream(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    payload: Payload,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let checked = check(&state, &payload).await?;
    charge(&state, &identity, &checked).await?;
    let (tx, rx) = mpsc::unbounded_channel::<StreamMsg<TranslateResponse>>();
    let task_state = state.clone();
    let owner = identity.user.id.to_string();
    let task = tokio::spawn(async move {
        let mut translations = Vec::with_capacity(checked.texts.len());
        for (index, text) in checked.texts.iter().enumerate() {
            let (source, detected) = source_for(&checked.source, text);
            let (token_tx, mut token_rx) = mpsc::unbounded_channel::<String>();
            let forward_tx = tx.clone();
            let forward = tokio::spawn(async move {
                while let Some(piece) = token_rx.recv().await {
                    let _ = forward_tx.send(StreamMsg::Token(index, piece));
                }
            });
            let request = TextRequest {
                text: text.clone(),
                source: source.clone(),
                target: checked.target.clone(),
                model: checked.model.clone(),
                // Round robin by user, as for plain requests.
                owner: owner.clone(),
            };
            let started = std::time::Instant::now();
            let result = if text.trim().is_empty() {
                Ok(text.clone())
            } else {
                task_state.gateway.translate_text(request, Some(token_tx)).await
            };
            task_state.record_llm("translate_stream", started, result.is_ok());
            let _ = forward.await;
            match result {
                Ok(out) => translations.push(Translation {
                    text: out,
                    source_lang: source.map(|s| s.to_string()),
                    detected,
                    kept: None,
                }),
                Err(e) => {
                    let _ = tx.send(StreamMsg::Failed(e.into()));
                    return;
                }
            }
        }
        let _ = tx.send(StreamMsg::Done(TranslateResponse { translations }));
    });
    let guard = AbortOnDropHandle::new(task);
    Ok(sse_from_messages(state, rx, guard))
}
