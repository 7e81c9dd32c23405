//! Reading a job upload: each multipart `file` part is streamed into blob storage with a running
//! byte count over the whole request, then everything is checked (count, emptiness, format,
//! languages, model) before the job is created.
//!
//! A refused upload leaves nothing behind: the blobs written so far are deleted before the error
//! is answered.

use axum::extract::Multipart;
use axum::http::StatusCode;
use futures::TryStreamExt;
use tokio_util::io::StreamReader;
use tradia_core::LanguageTag;
use tradia_store::{BlobError, BlobKey, NewJob, NewJobFile};

use crate::api::input::multipart_error;
use crate::detect::{check_pair, parse_language, parse_source};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Longest accepted value of a text field.
const MAX_FIELD_BYTES: usize = 1024;

/// Keeps the last path component of a client file name, without control characters.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    let mut out: String = cleaned.chars().take(200).collect();
    if out.is_empty() {
        out = "document".into();
    }
    out
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "upload_too_large",
        format!(
            "the upload is larger than {} MB (MAX_UPLOAD_MB, for all files of one request \
             together); send fewer or smaller files",
            limit / (1024 * 1024)
        ),
    )
}

/// Reads and checks a `POST /api/v1/jobs` form; the files are in blob storage when it returns
/// `Ok`, and none are left behind when it returns `Err`.
pub async fn read_upload(state: &AppState, multipart: Multipart) -> ApiResult<NewJob> {
    let mut keys: Vec<BlobKey> = Vec::new();
    let result = read_parts(state, multipart, &mut keys).await;
    if result.is_err() {
        state.jobs.delete_blobs(&keys).await;
    }
    result
}

fn field_error(limit: u64) -> impl Fn(axum::extract::multipart::MultipartError) -> ApiError {
    move |e| {
        let e = multipart_error(e);
        if e.code == "upload_too_large" { too_large(limit) } else { e }
    }
}

async fn read_parts(
    state: &AppState,
    mut multipart: Multipart,
    keys: &mut Vec<BlobKey>,
) -> ApiResult<NewJob> {
    let limit = state.settings.max_upload_bytes;
    let max_files = state.settings.max_files;
    let mut files: Vec<NewJobFile> = Vec::new();
    let mut source_lang: Option<String> = None;
    let mut target_lang: Option<String> = None;
    let mut model: Option<String> = None;
    let mut total: u64 = 0;

    while let Some(mut field) = multipart.next_field().await.map_err(field_error(limit))? {
        let name = field.name().unwrap_or_default().to_string();
        if let Some(file_name) = field.file_name().map(str::to_string) {
            if name != "file" && name != "files" && name != "file[]" {
                return Err(ApiError::bad_request(
                    "malformed_multipart",
                    format!("unexpected file field `{name}`; send each file as a `file` part"),
                ));
            }
            if files.len() >= max_files {
                return Err(ApiError::bad_request(
                    "too_many_files",
                    format!("at most {max_files} files per job (TRADIA_MAX_FILES)"),
                ));
            }
            let stream = field.map_err(std::io::Error::other);
            let mut reader = StreamReader::new(stream);
            let remaining = limit.saturating_sub(total);
            let stored = match state.jobs.blobs.put(&mut reader, remaining).await {
                Ok(stored) => stored,
                Err(BlobError::TooLarge { .. }) => return Err(too_large(limit)),
                Err(BlobError::Source(e)) => {
                    let message = e.to_string();
                    if message.contains("limit") {
                        return Err(too_large(limit));
                    }
                    return Err(ApiError::bad_request(
                        "malformed_multipart",
                        format!("the upload of `{file_name}` could not be read: {message}"),
                    ));
                }
                Err(e) => return Err(ApiError::internal("cannot store an uploaded file", e)),
            };
            keys.push(stored.key.clone());
            total += stored.size;
            files.push(NewJobFile {
                name: clean_name(&file_name),
                format: None,
                input_blob: stored.key,
                size: stored.size,
            });
        } else {
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(field_error(limit))? {
                value.extend_from_slice(&chunk);
                if value.len() > MAX_FIELD_BYTES {
                    return Err(ApiError::bad_request(
                        "invalid_request",
                        format!("field `{name}` is too long"),
                    ));
                }
            }
            let value = String::from_utf8(value).map_err(|_| {
                ApiError::bad_request("invalid_request", format!("field `{name}` is not UTF-8"))
            })?;
            match name.as_str() {
                "source_lang" => source_lang = Some(value),
                "target_lang" => target_lang = Some(value),
                "model" => model = Some(value),
                _ => {}
            }
        }
    }

    if files.is_empty() {
        return Err(ApiError::bad_request(
            "missing_file",
            "no file was sent; add at least one `file` part",
        ));
    }
    let target = match target_lang.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => parse_language("target_lang", t)?,
        _ => {
            return Err(ApiError::bad_request(
                "missing_target_lang",
                "the `target_lang` field is required (a language code such as en, fr or ar)",
            ));
        }
    };
    let source: Option<LanguageTag> = parse_source(source_lang.as_deref())?;
    check_pair(source.as_ref(), &target)?;
    let model = state.check_model(model.as_deref()).await?;

    for file in &mut files {
        if file.size == 0 {
            return Err(ApiError::bad_request("empty_file", format!("`{}` is empty", file.name)));
        }
        let bytes = state
            .jobs
            .read_blob(&file.input_blob)
            .await
            .map_err(|e| ApiError::internal("cannot read an uploaded file", e))?;
        let probe_name = file.name.clone();
        let format =
            tokio::task::spawn_blocking(move || tradia_formats::detect(&probe_name, &bytes))
                .await
                .map_err(|e| ApiError::internal("format detection failed", e))?;
        let format = format.map_err(|e| {
            let mut error = ApiError::from(e);
            error.message = format!(
                "`{}`: this file type is not supported; supported: {}",
                file.name,
                tradia_formats::Format::supported_list()
            );
            error
        })?;
        file.format =
            serde_json::to_value(format).ok().and_then(|v| v.as_str().map(str::to_string));
    }
    Ok(NewJob { source_lang: source, target_lang: target, model, files })
}

#[cfg(test)]
mod tests {
    use super::clean_name;

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("C:\\Users\\x\\cours.xml"), "cours.xml");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\u{0}b.txt"), "ab.txt");
        assert_eq!(clean_name(""), "document");
        assert_eq!(clean_name(".hidden"), "hidden");
    }
}
