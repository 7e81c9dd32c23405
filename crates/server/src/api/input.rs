//! One body reader for the text endpoints: JSON, URL-encoded form or multipart form all become
//! a JSON object (repeated form keys become arrays) plus any uploaded files, so each endpoint
//! declares its fields once as a serde struct.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, ErrorCode};

/// A file part of a multipart body.
#[derive(Debug, Clone)]
pub struct FilePart {
    /// Form field name.
    pub field: String,
    /// The file name the client gave.
    pub name: String,
    /// Bytes.
    pub bytes: Bytes,
}

/// A request body read as fields plus files.
#[derive(Debug, Default)]
pub struct Payload {
    /// Fields as a JSON object.
    pub fields: Map<String, Value>,
    /// Uploaded files (multipart only).
    pub files: Vec<FilePart>,
}

impl Payload {
    /// Deserialises the fields into `T`, with a message naming the problem.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_value(Value::Object(self.fields.clone()))
            .map_err(|e| ApiError::new(ErrorCode::InvalidRequest, format!("invalid request: {e}")))
    }
}

fn insert(fields: &mut Map<String, Value>, key: String, value: String) {
    match fields.get_mut(&key) {
        Some(Value::Array(items)) => items.push(Value::String(value)),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, Value::String(value)]);
        }
        None => {
            fields.insert(key, Value::String(value));
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for Payload {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(request, state)
                .await
                .map_err(|e| ApiError::new(ErrorCode::MalformedMultipart, e.body_text()))?;
            let mut payload = Payload::default();
            while let Some(field) = multipart.next_field().await? {
                let name = field.name().unwrap_or_default().to_string();
                if let Some(file_name) = field.file_name().map(str::to_string) {
                    let bytes = field.bytes().await?;
                    payload.files.push(FilePart { field: name, name: file_name, bytes });
                } else {
                    let text = field.text().await?;
                    insert(&mut payload.fields, name, text);
                }
            }
            return Ok(payload);
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::RequestTooLarge, "the request body is too large")
            } else {
                ApiError::new(ErrorCode::InvalidRequest, e.body_text())
            }
        })?;
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let mut fields = Map::new();
            for (k, v) in form_urlencoded::parse(&bytes) {
                insert(&mut fields, k.into_owned(), v.into_owned());
            }
            return Ok(Payload { fields, files: vec![] });
        }
        // JSON, also when the client sent no content type.
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(fields)) => Ok(Payload { fields, files: vec![] }),
            Ok(_) => Err(ApiError::new(ErrorCode::InvalidJson, "the JSON body must be an object")),
            Err(e) => Err(ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON body: {e}"))),
        }
    }
}
