//! Text translation shared by the compatible APIs: plain texts, or texts with inline markup
//! (LibreTranslate `format=html`, DeepL `tag_handling=html|xml`), charged to the caller's quota
//! and usage and written to the audit log.
//!
//! Marked-up texts go through Tradia's HTML filter, as a one-page document: tags become inline
//! codes the model sees as placeholders, and the translations are spliced back into the
//! original markup, so tags come back intact around the translated words (the same guarantee
//! documents get).

use std::sync::Arc;

use serde_json::json;
use tradia_core::detect::detect_segments_language;
use tradia_core::{
    CancelFlag, Content, Guidance, LanguageTag, NoSink, Priority, Segment, TranslateRequest,
};
use tradia_formats::{ExtractOptions, Format, MergeOptions};

use crate::accounts::{Identity, audit, quota};
use crate::detect::detect_language;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// Most texts in one request.
pub const MAX_TEXTS: usize = 100;
/// Most characters in all texts of one request.
pub const MAX_CHARS: usize = 100_000;

/// How a text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    /// Plain text.
    Text,
    /// HTML or XML with inline tags, kept as they are.
    Tags,
}

/// A batch of texts to translate for one caller.
pub struct TextBatch {
    /// The texts, translated separately.
    pub texts: Vec<String>,
    /// Source language; `None`: detected per text.
    pub source: Option<LanguageTag>,
    /// Target language.
    pub target: LanguageTag,
    /// How the texts are read.
    pub markup: Markup,
    /// Glossary terms and formality.
    pub guidance: Guidance,
    /// Which API asked, for the audit log (`libretranslate`, `deepl`).
    pub api: &'static str,
}

/// One translated text.
#[derive(Debug, Clone)]
pub struct Translated {
    /// The translation (the source when it is empty or already in the target language).
    pub text: String,
    /// The source language used: given, or detected (`None`: could not be detected).
    pub source: Option<LanguageTag>,
    /// Characters billed (code points of the source).
    pub chars: u64,
}

/// Refuses batches over the bounds, with a message naming the bound.
pub fn check_bounds(texts: &[String]) -> ApiResult<()> {
    if texts.is_empty() {
        return Err(ApiError::new(ErrorCode::MissingText, "no text to translate"));
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
    Ok(())
}

fn chars_of(text: &str) -> u64 {
    u64::try_from(text.chars().count()).unwrap_or(u64::MAX)
}

/// Translates the batch for `identity`: bounds, quota, usage, audit, then the engine.
pub async fn translate_batch(
    state: &AppState,
    identity: &Identity,
    batch: TextBatch,
) -> ApiResult<Vec<Translated>> {
    check_bounds(&batch.texts)?;
    let chars: u64 = batch.texts.iter().map(|t| chars_of(t)).sum();
    quota::check_chars(state, &identity.user, chars).await?;
    quota::add_usage(state, identity.user.id, chars).await;
    audit::record(
        state,
        Some(identity.user.id),
        "compat.translate",
        None,
        None,
        Some(json!({"api": batch.api, "texts": batch.texts.len(), "chars": chars,
            "target": batch.target.as_str()})),
    )
    .await;
    let owner = identity.user.id.to_string();
    let guidance = Arc::new(batch.guidance.clone());
    let futures =
        batch.texts.iter().map(|text| translate_one(state, &batch, text, &owner, guidance.clone()));
    futures::future::try_join_all(futures).await
}

async fn translate_one(
    state: &AppState,
    batch: &TextBatch,
    text: &str,
    owner: &str,
    guidance: Arc<Guidance>,
) -> ApiResult<Translated> {
    let chars = chars_of(text);
    let (segments, document) = match batch.markup {
        Markup::Text => {
            let segment = Segment {
                id: 0,
                content: Content::text(text),
                location: "text".into(),
                field: "text".into(),
            };
            (vec![segment], None)
        }
        Markup::Tags => {
            // A fragment as it is: the HTML filter translates text outside any block too.
            let document = tradia_formats::extract_as(
                Format::Html,
                "text.html",
                text.as_bytes(),
                &ExtractOptions::default(),
            )?;
            (document.segments.clone(), Some(document))
        }
    };
    let source = match &batch.source {
        Some(s) => Some(s.clone()),
        None if document.is_some() => detect_segments_language(&segments),
        None => detect_language(text),
    };
    let same = source.as_ref().is_some_and(|s| s.same_language(&batch.target));
    if segments.is_empty() || text.trim().is_empty() || same {
        return Ok(Translated { text: text.to_string(), source, chars });
    }
    let engine = state.gateway.engine(None);
    let request = TranslateRequest {
        source: source.clone(),
        target: batch.target.clone(),
        pending: segments.iter().map(|s| s.id).collect(),
        segments: &segments,
        priority: Priority::Interactive,
        owner: owner.to_string(),
        cancel: CancelFlag::new(),
        sink: &NoSink,
        guidance,
    };
    let started = std::time::Instant::now();
    let results = engine.translate(request).await;
    state.record_llm("compat_translate", started, results.is_ok());
    let mut results = results?;
    results.sort_by_key(|r| r.id);
    let out = match document {
        None => results.into_iter().next().map(|r| r.content.plain_text()).ok_or_else(|| {
            ApiError::internal("text translation failed", "the engine returned no result")
        })?,
        Some(document) => {
            let contents: Vec<Content> = results.into_iter().map(|r| r.content).collect();
            let options = MergeOptions { target: batch.target.clone() };
            let bytes = document.merge(&contents, &options)?;
            String::from_utf8(bytes)
                .map_err(|e| ApiError::internal("the translated markup is not UTF-8", e))?
        }
    };
    Ok(Translated { text: out, source, chars })
}
