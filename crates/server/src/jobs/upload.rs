//! Reading a job upload: multipart parts streamed to temporary files with a running byte count,
//! then checked (count, emptiness, format, languages, model) before anything is stored.
//!
//! Files go to a temporary folder inside the data folder first, so a refused upload leaves
//! nothing behind (the temporary files are deleted when dropped) and an accepted one is moved
//! into blob storage in one step.

use std::path::PathBuf;

use axum::extract::Multipart;
use axum::http::StatusCode;
use tempfile::NamedTempFile;
use tokio::io::AsyncWriteExt;
use tradia_core::LanguageTag;

use crate::api::input::multipart_error;
use crate::detect::{check_pair, parse_language, parse_source};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Longest accepted value of a text field.
const MAX_FIELD_BYTES: usize = 1024;

/// One uploaded file, on disk, checked.
#[derive(Debug)]
pub struct UploadedFile {
    /// Display name (no folders, no control characters).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Detected format (snake_case name).
    pub format: String,
    /// The temporary file (deleted when dropped).
    pub temp: NamedTempFile,
}

/// A checked job request.
#[derive(Debug)]
pub struct NewJob {
    /// Source language; `None` to detect.
    pub source: Option<LanguageTag>,
    /// Target language.
    pub target: LanguageTag,
    /// Model; `None` for the default.
    pub model: Option<String>,
    /// Files, in upload order.
    pub files: Vec<UploadedFile>,
}

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

/// Reads and checks a `POST /api/v1/jobs` form.
pub async fn read_upload(state: &AppState, mut multipart: Multipart) -> ApiResult<NewJob> {
    let limit = state.settings.max_upload_bytes;
    let max_files = state.settings.max_files;
    let temp_dir: PathBuf = state.settings.data_dir.join("tmp");
    tokio::fs::create_dir_all(&temp_dir)
        .await
        .map_err(|e| ApiError::internal("cannot create the upload folder", e))?;
    let mut files: Vec<(String, u64, NamedTempFile)> = Vec::new();
    let mut source_lang: Option<String> = None;
    let mut target_lang: Option<String> = None;
    let mut model: Option<String> = None;
    let mut total: u64 = 0;

    while let Some(mut field) = multipart.next_field().await.map_err(|e| {
        let e = multipart_error(e);
        if e.code == "upload_too_large" { too_large(limit) } else { e }
    })? {
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
            let temp = NamedTempFile::new_in(&temp_dir)
                .map_err(|e| ApiError::internal("cannot create a temporary file", e))?;
            let std_file =
                temp.reopen().map_err(|e| ApiError::internal("cannot open a temporary file", e))?;
            let mut out = tokio::fs::File::from_std(std_file);
            let mut size: u64 = 0;
            while let Some(chunk) = field.chunk().await.map_err(|e| {
                let e = multipart_error(e);
                if e.code == "upload_too_large" { too_large(limit) } else { e }
            })? {
                size += chunk.len() as u64;
                total += chunk.len() as u64;
                if total > limit {
                    return Err(too_large(limit));
                }
                out.write_all(&chunk)
                    .await
                    .map_err(|e| ApiError::internal("cannot write an uploaded file", e))?;
            }
            out.flush()
                .await
                .map_err(|e| ApiError::internal("cannot write an uploaded file", e))?;
            files.push((clean_name(&file_name), size, temp));
        } else {
            let mut value = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
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
    let source = parse_source(source_lang.as_deref())?;
    check_pair(source.as_ref(), &target)?;
    let model = state.check_model(model.as_deref()).await?;

    let mut checked = Vec::with_capacity(files.len());
    for (name, size, temp) in files {
        if size == 0 {
            return Err(ApiError::bad_request("empty_file", format!("`{name}` is empty")));
        }
        let path = temp.path().to_path_buf();
        let probe_name = name.clone();
        let format = tokio::task::spawn_blocking(move || {
            let bytes = std::fs::read(&path)?;
            Ok::<_, std::io::Error>(tradia_formats::detect(&probe_name, &bytes))
        })
        .await
        .map_err(|e| ApiError::internal("format detection failed", e))?
        .map_err(|e| ApiError::internal("cannot read an uploaded file", e))?;
        let format = format.map_err(|e| {
            let mut error = ApiError::from(e);
            error.message = format!(
                "`{name}`: this file type is not supported; supported: {}",
                tradia_formats::Format::supported_list()
            );
            error
        })?;
        let format = serde_json::to_value(format)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        checked.push(UploadedFile { name, size, format, temp });
    }
    Ok(NewJob { source, target, model, files: checked })
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
