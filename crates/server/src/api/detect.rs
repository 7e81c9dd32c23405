//! `POST /api/v1/detect`: the language of a text. The upload form sends a sample of each file it
//! can read (text formats) and warns, before anything is uploaded, when a file already is in the
//! target language; the job would copy such a file unchanged (the service never stops to ask).

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::Identity;
use crate::api::input::Payload;
use crate::detect::detect_language;
use crate::error::{ApiError, ApiResult, ErrorCode};

/// Longest sample read, in characters (detection reads less than this).
const MAX_SAMPLE_CHARS: usize = 20_000;

/// Body of `POST /api/v1/detect`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DetectBody {
    /// The text (a sample of a document is enough; at most 20 000 characters).
    pub text: String,
}

/// Answer of `POST /api/v1/detect`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetectResponse {
    /// The language's code (`fr`, `en`…); `null` when the text does not tell (too short, mixed).
    pub lang: Option<String>,
}

/// Detects the language of a text.
#[utoipa::path(post, path = "/api/v1/detect", tag = "text", request_body = DetectBody,
    responses((status = 200, body = DetectResponse), (status = 400, body = crate::error::ErrorBody)))]
pub async fn detect(_identity: Identity, payload: Payload) -> ApiResult<Json<DetectResponse>> {
    let body: DetectBody = payload.parse()?;
    if body.text.chars().count() > MAX_SAMPLE_CHARS {
        return Err(ApiError::new(
            ErrorCode::TextTooLong,
            format!("a sample to detect is at most {MAX_SAMPLE_CHARS} characters"),
        ));
    }
    Ok(Json(DetectResponse { lang: detect_language(&body.text).map(|l| l.to_string()) }))
}
