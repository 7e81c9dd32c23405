//! The writing assistants: correction, reformulation and meeting summaries (from notes or from a
//! photo of notes), each with a plain and a streaming endpoint.
//!
//! Answers are structured: the gateway completes against a JSON schema (with the engine's
//! tolerance for broken answers), and the result is read into typed structs whose list fields
//! default to empty, so a model that forgets an optional part still gives a usable answer.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use base64::Engine as _;
use futures::Stream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::task::AbortOnDropHandle;
use tradia_core::{LanguageTag, Priority};
use utoipa::ToSchema;

use crate::accounts::{Identity, quota};
use crate::api::input::Payload;
use crate::detect::{detect_language, parse_language};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::gateway::StructuredRequest;
use crate::sse::{StreamMsg, sse_from_messages};
use crate::state::AppState;

/// Most characters of text an assistant reads.
const MAX_CHARS: usize = 30_000;
/// Largest image, in bytes.
const MAX_IMAGE_BYTES: usize = 10 * 1024 * 1024;

/// Body of the correction and reformulation assistants.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AssistBody {
    /// The text to work on.
    pub text: String,
    /// Language of the text (and of the answer); detected when omitted.
    pub lang: Option<String>,
    /// Reformulation only: the wanted style (`formal`, `simple`, `concise`, …).
    pub style: Option<String>,
    /// Model; omitted for the default.
    pub model: Option<String>,
}

/// Body of the meeting summary assistant (JSON, form, or multipart with an `image` file).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SummaryBody {
    /// Meeting notes, as text.
    pub notes: Option<String>,
    /// A photo or scan of the notes, base64-encoded (JSON) — or an `image` file part (multipart).
    pub image: Option<String>,
    /// Language of the summary; default: the notes' language.
    pub lang: Option<String>,
    /// Model; omitted for the default (the vision model when an image is given).
    pub model: Option<String>,
}

/// One correction with its explanation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Explanation {
    /// The wrong passage.
    #[serde(default)]
    pub original: String,
    /// Its correction.
    #[serde(default)]
    pub correction: String,
    /// Why.
    #[serde(default)]
    pub explanation: String,
}

/// Answer of the correction assistant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Correction {
    /// The corrected text.
    pub corrected: String,
    /// What was changed and why.
    #[serde(default)]
    pub explanations: Vec<Explanation>,
}

/// A notable change in a reformulation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Highlight {
    /// The new wording.
    #[serde(default)]
    pub text: String,
    /// Why it reads better.
    #[serde(default)]
    pub reason: String,
}

/// Answer of the reformulation assistant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Reformulation {
    /// The reformulated text.
    pub text: String,
    /// The main changes.
    #[serde(default)]
    pub highlights: Vec<Highlight>,
}

/// An action decided in a meeting.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActionItem {
    /// What to do.
    #[serde(default)]
    pub task: String,
    /// Who does it, when the notes say.
    #[serde(default)]
    pub owner: Option<String>,
    /// By when, when the notes say.
    #[serde(default)]
    pub due: Option<String>,
}

/// Answer of the meeting summary assistant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    /// The summary.
    pub summary: String,
    /// Decisions taken.
    #[serde(default)]
    pub decisions: Vec<String>,
    /// Actions to take.
    #[serde(default)]
    pub action_items: Vec<ActionItem>,
}

fn correction_schema() -> serde_json::Value {
    json!({"type": "object", "required": ["corrected", "explanations"], "properties": {
        "corrected": {"type": "string"},
        "explanations": {"type": "array", "items": {"type": "object",
            "required": ["original", "correction", "explanation"], "properties": {
            "original": {"type": "string"}, "correction": {"type": "string"},
            "explanation": {"type": "string"}}}}}})
}

fn reformulation_schema() -> serde_json::Value {
    json!({"type": "object", "required": ["text", "highlights"], "properties": {
        "text": {"type": "string"},
        "highlights": {"type": "array", "items": {"type": "object", "required": ["text", "reason"],
            "properties": {"text": {"type": "string"}, "reason": {"type": "string"}}}}}})
}

fn summary_schema() -> serde_json::Value {
    json!({"type": "object", "required": ["summary", "decisions", "action_items"], "properties": {
        "summary": {"type": "string"},
        "decisions": {"type": "array", "items": {"type": "string"}},
        "action_items": {"type": "array", "items": {"type": "object", "required": ["task"],
            "properties": {"task": {"type": "string"}, "owner": {"type": "string"},
            "due": {"type": "string"}}}}}})
}

fn language_name(lang: Option<&LanguageTag>) -> String {
    lang.map_or_else(|| "the same language as the input".to_string(), |l| l.english_name())
}

/// Counts an assistant request's characters against the caller's quota, and in their usage
/// (on acceptance: what was sent is what is counted).
async fn charge(state: &AppState, identity: &Identity, chars: usize) -> ApiResult<()> {
    let chars = u64::try_from(chars).unwrap_or(u64::MAX);
    quota::check_chars(state, &identity.user, chars).await?;
    quota::add_usage(state, identity.user.id, chars).await;
    Ok(())
}

fn check_text(text: &str) -> ApiResult<()> {
    if text.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::MissingText, "the `text` field is empty"));
    }
    let n = text.chars().count();
    if n > MAX_CHARS {
        return Err(ApiError::new(
            ErrorCode::TextTooLong,
            format!("at most {MAX_CHARS} characters, got {n}"),
        ));
    }
    Ok(())
}

fn require(payload: &Payload, field: &str) -> ApiResult<()> {
    if payload.fields.contains_key(field) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::MissingText, format!("the `{field}` field is required")))
    }
}

async fn correction_request(
    state: &AppState,
    identity: &Identity,
    payload: &Payload,
) -> ApiResult<StructuredRequest> {
    require(payload, "text")?;
    let body: AssistBody = payload.parse()?;
    check_text(&body.text)?;
    let lang = match &body.lang {
        Some(l) if !l.trim().is_empty() && l != "auto" => Some(parse_language("lang", l)?),
        _ => detect_language(&body.text),
    };
    let model = state.check_model(body.model.as_deref()).await?;
    Ok(StructuredRequest {
        owner: identity.user.id.to_string(),
        system: format!(
            "You are a careful proofreader. Correct spelling, grammar, punctuation and typography \
             of the user's text, written in {}. Keep its meaning, tone and layout; change nothing \
             that is correct. Answer in JSON: `corrected` is the whole corrected text, \
             `explanations` lists each change (original passage, correction, short explanation \
             written in {}).",
            language_name(lang.as_ref()),
            language_name(lang.as_ref())
        ),
        prompt: body.text,
        schema: correction_schema(),
        images: vec![],
        model,
        priority: Priority::Interactive,
    })
}

async fn reformulation_request(
    state: &AppState,
    identity: &Identity,
    payload: &Payload,
) -> ApiResult<StructuredRequest> {
    require(payload, "text")?;
    let body: AssistBody = payload.parse()?;
    check_text(&body.text)?;
    let lang = match &body.lang {
        Some(l) if !l.trim().is_empty() && l != "auto" => Some(parse_language("lang", l)?),
        _ => detect_language(&body.text),
    };
    let style = body.style.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("clear");
    if style.chars().count() > 100 {
        return Err(ApiError::new(ErrorCode::InvalidStyle, "`style` is at most 100 characters"));
    }
    let model = state.check_model(body.model.as_deref()).await?;
    Ok(StructuredRequest {
        owner: identity.user.id.to_string(),
        system: format!(
            "You rewrite texts. Reformulate the user's text, written in {lang}, in a {style} \
             style, keeping all of its information and its language. Answer in JSON: `text` is \
             the reformulated text, `highlights` lists the main changes (the new wording and \
             why it reads better, written in {lang}).",
            lang = language_name(lang.as_ref()),
        ),
        prompt: body.text,
        schema: reformulation_schema(),
        images: vec![],
        model,
        priority: Priority::Interactive,
    })
}

async fn summary_request(
    state: &AppState,
    identity: &Identity,
    payload: &Payload,
) -> ApiResult<StructuredRequest> {
    let body: SummaryBody = payload.parse()?;
    let mut images = Vec::new();
    for file in payload.files.iter().filter(|f| f.field == "image") {
        images.push(file.bytes.to_vec());
    }
    if let Some(b64) = body.image.as_deref().filter(|s| !s.trim().is_empty()) {
        let b64 = b64.rsplit_once("base64,").map_or(b64, |(_, data)| data);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| ApiError::new(ErrorCode::InvalidImage, "`image` is not valid base64"))?;
        images.push(bytes);
    }
    for image in &images {
        if image.is_empty() {
            return Err(ApiError::new(ErrorCode::InvalidImage, "the image is empty"));
        }
        if image.len() > MAX_IMAGE_BYTES {
            return Err(ApiError::new(
                ErrorCode::ImageTooLarge,
                format!("images are limited to {} MB", MAX_IMAGE_BYTES / (1024 * 1024)),
            ));
        }
        if !is_image(image) {
            return Err(ApiError::new(
                ErrorCode::InvalidImage,
                "the image must be a PNG, JPEG, GIF or WebP file",
            ));
        }
    }
    let notes = body.notes.unwrap_or_default();
    if notes.trim().is_empty() && images.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingText,
            "give meeting notes as `notes` text or as an `image`",
        ));
    }
    if !notes.is_empty() {
        check_text(&notes)?;
    }
    let lang = match &body.lang {
        Some(l) if !l.trim().is_empty() && l != "auto" => Some(parse_language("lang", l)?),
        _ => detect_language(&notes),
    };
    let model = state.check_model(body.model.as_deref()).await?;
    let source = if images.is_empty() {
        "the meeting notes the user gives"
    } else {
        "the meeting notes shown in the image(s) (read them carefully) and any text the user gives"
    };
    Ok(StructuredRequest {
        owner: identity.user.id.to_string(),
        system: format!(
            "You write meeting minutes. From {source}, write in {}: `summary` (a few \
             sentences), `decisions` (each decision taken), `action_items` (task, owner and due \
             date when the notes say). Do not invent anything the notes do not say.",
            language_name(lang.as_ref())
        ),
        prompt: notes,
        schema: summary_schema(),
        images,
        model,
        priority: Priority::Interactive,
    })
}

fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG")
        || bytes.starts_with(b"\xFF\xD8\xFF")
        || bytes.starts_with(b"GIF8")
        || (bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP")
}

async fn complete<T: DeserializeOwned>(
    state: &AppState,
    kind: &str,
    request: StructuredRequest,
    tokens: Option<crate::gateway::TokenSender>,
) -> ApiResult<T> {
    let started = std::time::Instant::now();
    let result = state.gateway.complete_structured(request, tokens).await;
    state.record_llm(kind, started, result.is_ok());
    let value = result?;
    serde_json::from_value(value).map_err(|e| {
        ApiError::new(
            ErrorCode::LlmInvalidAnswer,
            format!("the model's answer could not be used: {e}"),
        )
    })
}

fn stream<T: DeserializeOwned + Serialize + Send + 'static>(
    state: Arc<AppState>,
    kind: &'static str,
    request: StructuredRequest,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::unbounded_channel::<StreamMsg<T>>();
    let task_state = state.clone();
    let task = tokio::spawn(async move {
        let (token_tx, mut token_rx) = mpsc::unbounded_channel::<String>();
        let forward_tx = tx.clone();
        let forward = tokio::spawn(async move {
            while let Some(piece) = token_rx.recv().await {
                let _ = forward_tx.send(StreamMsg::Token(0, piece));
            }
        });
        let result = complete::<T>(&task_state, kind, request, Some(token_tx)).await;
        let _ = forward.await;
        let _ = tx.send(match result {
            Ok(value) => StreamMsg::Done(value),
            Err(e) => StreamMsg::Failed(e),
        });
    });
    sse_from_messages(state, rx, AbortOnDropHandle::new(task))
}

/// Corrects a text and explains each change.
#[utoipa::path(post, path = "/api/v1/assist/correct", tag = "assistants",
    request_body(content = AssistBody, description = "JSON or form"),
    responses((status = 200, body = Correction), (status = 400, body = crate::error::ErrorBody)))]
pub async fn correct(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    payload: Payload,
) -> ApiResult<Json<Correction>> {
    let request = correction_request(&state, &identity, &payload).await?;
    charge(&state, &identity, request.prompt.chars().count()).await?;
    Ok(Json(complete(&state, "correct", request, None).await?))
}

/// Streaming correction: `token` events with the raw answer, then `done` with a Correction.
#[utoipa::path(post, path = "/api/v1/assist/correct/stream", tag = "assistants",
    request_body(content = AssistBody, description = "JSON or form"),
    responses((status = 200, description = "text/event-stream: `token`, then `done` (Correction) or `error`")))]
pub async fn correct_stream(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    payload: Payload,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let request = correction_request(&state, &identity, &payload).await?;
    charge(&state, &identity, request.prompt.chars().count()).await?;
    Ok(stream::<Correction>(state, "correct", request))
}

/// Reformulates a text and lists the main changes.
#[utoipa::path(post, path = "/api/v1/assist/reformulate", tag = "assistants",
    request_body(content = AssistBody, description = "JSON or form"),
    responses((status = 200, body = Reformulation), (status = 400, body = crate::error::ErrorBody)))]
pub async fn reformulate(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    payload: Payload,
) -> ApiResult<Json<Reformulation>> {
    let request = reformulation_request(&state, &identity, &payload).await?;
    charge(&state, &identity, request.prompt.chars().count()).await?;
    Ok(Json(complete(&state, "reformulate", request, None).await?))
}

/// Streaming reformulation: `token` events, then `done` with a Reformulation.
#[utoipa::path(post, path = "/api/v1/assist/reformulate/stream", tag = "assistants",
    request_body(content = AssistBody, description = "JSON or form"),
    responses((status = 200, description = "text/event-stream: `token`, then `done` (Reformulation) or `error`")))]
pub async fn reformulate_stream(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    payload: Payload,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let request = reformulation_request(&state, &identity, &payload).await?;
    charge(&state, &identity, request.prompt.chars().count()).await?;
    Ok(stream::<Reformulation>(state, "reformulate", request))
}

/// Summarises meeting notes (text, or an image of notes).
#[utoipa::path(post, path = "/api/v1/assist/summary", tag = "assistants",
    request_body(content = SummaryBody, description = "JSON, form, or multipart with an `image` file"),
    responses((status = 200, body = Summary), (status = 400, body = crate::error::ErrorBody)))]
pub async fn summary(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    payload: Payload,
) -> ApiResult<Json<Summary>> {
    let request = summary_request(&state, &identity, &payload).await?;
    charge(&state, &identity, request.prompt.chars().count()).await?;
    Ok(Json(complete(&state, "summary", request, None).await?))
}

/// Streaming summary: `token` events, then `done` with a Summary.
#[utoipa::path(post, path = "/api/v1/assist/summary/stream", tag = "assistants",
    request_body(content = SummaryBody, description = "JSON, form, or multipart with an `image` file"),
    responses((status = 200, description = "text/event-stream: `token`, then `done` (Summary) or `error`")))]
pub async fn summary_stream(
    State(state): State<Arc<AppState>>,
    identity: Identity,
    payload: Payload,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let request = summary_request(&state, &identity, &payload).await?;
    charge(&state, &identity, request.prompt.chars().count()).await?;
    Ok(stream::<Summary>(state, "summary", request))
}
