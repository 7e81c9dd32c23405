//! Reading a job upload: each multipart `file` part is streamed into blob storage with a running
//! byte count over the whole request, then everything is checked (count, emptiness, format,
//! languages, model) before the job is created.
//!
//! A refused upload leaves nothing behind: the blobs written so far are deleted before the error
//! is answered. The format detected here is stored with each file, and the runner extracts with
//! it: a document is detected once.

use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use futures::TryStreamExt;
use tokio_util::io::StreamReader;
use tradia_core::LanguageTag;
use tradia_formats::FormatError;
use tradia_store::{BlobError, BlobKey, JobGuidance, JobMemory, NewJob, NewJobFile, StoredBlob};

use crate::detect::{check_pair, parse_language, parse_source};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// Longest accepted value of a text field.
const MAX_FIELD_BYTES: usize = 1024;

/// True for a character that changes how a name is shown without being seen: bidirectional
/// embeddings, overrides and isolates (`facture\u{202E}txt.exe` shows as `facturexe.txt`),
/// directional marks, zero-width spaces and joiners used as separators, invisible operators,
/// the byte-order mark, interlinear annotation and tag characters.
///
/// The zero-width non-joiner and joiner (U+200C, U+200D) are kept: Persian, Urdu and Indic
/// scripts need them to spell words, and emoji sequences are built with them; alone they cannot
/// reorder what a name shows.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' // soft hyphen
        | '\u{061C}' // Arabic letter mark
        | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
        | '\u{180E}' // Mongolian vowel separator
        | '\u{200B}' // zero-width space
        | '\u{200E}' | '\u{200F}' // left-to-right and right-to-left marks
        | '\u{202A}'..='\u{202E}' // embeddings, pop, overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{206F}' // isolates, deprecated format characters
        | '\u{FEFF}' // byte-order mark, zero-width no-break space
        | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
        | '\u{E0000}'..='\u{E007F}' // tag characters
    )
}

/// Keeps the last path component of a client file name, without control characters and without
/// the invisible characters of [`is_invisible`].
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base.chars().filter(|c| !c.is_control() && !is_invisible(*c)).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    let mut out: String = cleaned.chars().take(200).collect();
    if out.is_empty() {
        out = "document".into();
    }
    out
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        ErrorCode::UploadTooLarge,
        format!(
            "the upload is larger than {} MB (MAX_UPLOAD_MB, for all files of one request \
             together); send fewer or smaller files",
            limit / (1024 * 1024)
        ),
    )
}

/// A multipart read error; the request body limit becomes the upload limit's message.
fn field_error(limit: u64) -> impl Fn(MultipartError) -> ApiError {
    move |e| {
        if let Some(message) = crate::http_server::too_slow(&e) {
            return ApiError::new(ErrorCode::RequestTooSlow, message);
        }
        let e = ApiError::from(e);
        if e.code == ErrorCode::UploadTooLarge { too_large(limit) } else { e }
    }
}

/// Why storing one uploaded file failed, as the client is told.
fn store_error(error: BlobError, file_name: &str, limit: u64) -> ApiError {
    match error {
        BlobError::TooLarge { .. } => too_large(limit),
        BlobError::Source(source) if crate::http_server::too_slow(&source).is_some() => {
            let message = crate::http_server::too_slow(&source).unwrap_or_default();
            ApiError::new(ErrorCode::RequestTooSlow, message)
        }
        BlobError::Source(source) => {
            // The part's stream failed; the multipart reader's own error says whether it was the
            // request body limit.
            let over_limit = source
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<MultipartError>())
                .is_some_and(|e| e.status() == StatusCode::PAYLOAD_TOO_LARGE);
            if over_limit {
                too_large(limit)
            } else {
                ApiError::new(
                    ErrorCode::MalformedMultipart,
                    format!("the upload of `{file_name}` could not be read: {source}"),
                )
            }
        }
        e @ (BlobError::InvalidKey(_) | BlobError::NotFound(_) | BlobError::Io(_)) => {
            crate::error::storage_fault(ErrorCode::from(&e), e)
        }
    }
}

/// Reads and checks a `POST /api/v1/jobs` form; the files are in blob storage when it returns
/// `Ok`, and none are left behind when it returns `Err`.
/// `limit` is the most bytes the request's files may hold together (`MAX_UPLOAD_MB`, or the
/// user's upload quota when smaller).
pub async fn read_upload(
    state: &AppState,
    multipart: Multipart,
    limit: u64,
) -> ApiResult<(NewJob, JobMemory, JobGuidance)> {
    crate::health::check_upload_space(state)?;
    let mut keys: Vec<BlobKey> = Vec::new();
    let result = read_parts(state, multipart, &mut keys, limit).await;
    if result.is_err() {
        state.jobs.delete_blobs(&keys).await;
    }
    result
}

/// A job of one file already in memory (the compatible APIs' uploads, whose key may come after
/// the file in the form): stored, checked and detected as [`read_upload`] does.
pub async fn job_from_bytes(
    state: &AppState,
    file_name: &str,
    bytes: &[u8],
    source: Option<&str>,
    target: Option<&str>,
    limit: u64,
) -> ApiResult<NewJob> {
    let target = match target.map(str::trim) {
        Some(t) if !t.is_empty() => parse_language("target_lang", t)?,
        _ => {
            return Err(ApiError::new(
                ErrorCode::MissingTargetLang,
                "the target language is required (a language code such as en, fr or ar)",
            ));
        }
    };
    let source: Option<LanguageTag> = parse_source(source)?;
    check_pair(source.as_ref(), &target)?;
    let mut reader = bytes;
    let stored = state
        .jobs
        .put_upload(&mut reader, limit)
        .await
        .map_err(|e| store_error(e, file_name, limit))?;
    let mut file = NewJobFile {
        name: clean_name(file_name),
        format: None,
        input_blob: stored.key,
        size: stored.size,
    };
    if let Err(e) = detect_format(state, &mut file).await {
        state.jobs.delete_blobs(std::slice::from_ref(&file.input_blob)).await;
        return Err(e);
    }
    Ok(NewJob { source_lang: source, target_lang: target, model: None, files: vec![file] })
}

/// The text fields of the form.
#[derive(Default)]
struct Fields {
    source_lang: Option<String>,
    target_lang: Option<String>,
    model: Option<String>,
    memory: Option<String>,
    keep_memory: Option<String>,
    glossary_id: Option<String>,
    formality: Option<String>,
    instructions: Option<String>,
    brief: Option<String>,
}

async fn read_parts(
    state: &AppState,
    mut multipart: Multipart,
    keys: &mut Vec<BlobKey>,
    limit: u64,
) -> ApiResult<(NewJob, JobMemory, JobGuidance)> {
    let max_files = state.settings.max_files;
    let mut files: Vec<NewJobFile> = Vec::new();
    let mut fields = Fields::default();
    let mut total: u64 = 0;

    while let Some(field) = multipart.next_field().await.map_err(field_error(limit))? {
        let name = field.name().unwrap_or_default().to_string();
        let Some(file_name) = field.file_name().map(str::to_string) else {
            let value = read_text_field(field, &name, limit).await?;
            // The long texts are checked in characters once read (their own error codes).
            if name != "instructions" && name != "brief" && value.len() > MAX_FIELD_BYTES {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!("field `{name}` is too long"),
                ));
            }
            match name.as_str() {
                "source_lang" => fields.source_lang = Some(value),
                "target_lang" => fields.target_lang = Some(value),
                "model" => fields.model = Some(value),
                "memory" => fields.memory = Some(value),
                "keep_memory" => fields.keep_memory = Some(value),
                "glossary_id" => fields.glossary_id = Some(value),
                "formality" => fields.formality = Some(value),
                "instructions" => fields.instructions = Some(value),
                "brief" => fields.brief = Some(value),
                _ => {}
            }
            continue;
        };
        if name != "file" && name != "files" && name != "file[]" {
            return Err(ApiError::new(
                ErrorCode::MalformedMultipart,
                format!("unexpected file field `{name}`; send each file as a `file` part"),
            ));
        }
        if files.len() >= max_files {
            return Err(ApiError::new(
                ErrorCode::TooManyFiles,
                format!("at most {max_files} files per job (TRADIA_MAX_FILES)"),
            ));
        }
        let stored = store_file(state, field, limit.saturating_sub(total))
            .await
            .map_err(|e| store_error(e, &file_name, limit))?;
        keys.push(stored.key.clone());
        // A file that took the data folder below the threshold is refused with the others.
        crate::health::check_upload_space(state)?;
        total += stored.size;
        files.push(NewJobFile {
            name: clean_name(&file_name),
            format: None,
            input_blob: stored.key,
            size: stored.size,
        });
    }

    if files.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingFile,
            "no file was sent; add at least one `file` part",
        ));
    }
    let target = match fields.target_lang.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => parse_language("target_lang", t)?,
        _ => {
            return Err(ApiError::new(
                ErrorCode::MissingTargetLang,
                "the `target_lang` field is required (a language code such as en, fr or ar)",
            ));
        }
    };
    let source: Option<LanguageTag> = parse_source(fields.source_lang.as_deref())?;
    check_pair(source.as_ref(), &target)?;
    let model = state.check_model(fields.model.as_deref()).await?;
    let memory = JobMemory {
        scope: crate::memory::api::parse_scope(fields.memory.as_deref())?,
        keep: crate::memory::api::parse_flag("keep_memory", fields.keep_memory.as_deref())?,
    };
    let guidance = JobGuidance {
        glossary: crate::guidance::parse_glossary(fields.glossary_id.as_deref())?,
        formality: crate::guidance::parse_formality(fields.formality.as_deref())?,
        instructions: crate::guidance::check_instructions(fields.instructions.as_deref())?,
        brief: crate::guidance::check_brief(fields.brief.as_deref())?,
    };
    for file in &mut files {
        detect_format(state, file).await?;
    }
    Ok((NewJob { source_lang: source, target_lang: target, model, files }, memory, guidance))
}

/// Streams a file part into blob storage, at most `remaining` bytes.
async fn store_file(
    state: &AppState,
    field: Field<'_>,
    remaining: u64,
) -> Result<StoredBlob, BlobError> {
    // The multipart error travels inside the I/O error, so `store_error` can tell the body limit
    // from a broken upload by its type.
    let stream = field.map_err(std::io::Error::other);
    let mut reader = StreamReader::new(stream);
    state.jobs.put_upload(&mut reader, remaining).await
}

async fn read_text_field(mut field: Field<'_>, name: &str, limit: u64) -> ApiResult<String> {
    let mut value = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(field_error(limit))? {
        value.extend_from_slice(&chunk);
        // The longest field is `instructions`; the others are checked against
        // `MAX_FIELD_BYTES` once read.
        if value.len() > crate::guidance::MAX_INSTRUCTIONS_BYTES {
            return Err(if name == "instructions" {
                crate::guidance::instructions_too_long()
            } else {
                ApiError::new(ErrorCode::InvalidRequest, format!("field `{name}` is too long"))
            });
        }
    }
    String::from_utf8(value).map_err(|_| {
        ApiError::new(ErrorCode::InvalidRequest, format!("field `{name}` is not UTF-8"))
    })
}

/// Refuses an empty file, one whose format Tradia does not read (with the format error's own
/// code and message), or one that already shows it is past a limit (the XML an office
/// package's parts declare, an XML file's size: `xml_limit_exceeded`, 422), and records the
/// detected format. The file is read from blob storage as a file: an archive's central
/// directory is enough, it is never loaded whole.
async fn detect_format(state: &AppState, file: &mut NewJobFile) -> ApiResult<()> {
    if file.size == 0 {
        return Err(ApiError::new(ErrorCode::EmptyFile, format!("`{}` is empty", file.name)));
    }
    let input = state
        .jobs
        .blob_file(&file.input_blob)
        .await
        .map_err(|e| ApiError::internal("cannot read an uploaded file", e))?;
    let name = file.name.clone();
    let limits = state.settings.limits.document;
    let format = tokio::task::spawn_blocking(move || {
        let format = tradia_formats::detect_path(&name, input.path())?;
        tradia_formats::precheck_path(format, input.path(), &limits).map_err(|e| {
            // Name the file: the limit's message is about a document, not which one.
            match e {
                e @ (FormatError::XmlTooLarge { .. } | FormatError::TooManySegments { .. }) => {
                    LimitedFile { name, error: e }.into()
                }
                e => ApiError::from(e),
            }
        })?;
        Ok::<_, ApiError>(format)
    })
    .await
    .map_err(|e| ApiError::internal("format detection failed", e))??;
    file.format = Some(format.as_str().to_string());
    Ok(())
}

/// A file refused at upload for a limit, with its name.
struct LimitedFile {
    name: String,
    error: FormatError,
}

impl From<LimitedFile> for ApiError {
    fn from(limited: LimitedFile) -> Self {
        let code = ErrorCode::from(&limited.error);
        ApiError::new(code, format!("`{}`: {}", limited.name, limited.error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("C:\\Users\\x\\cours.xml"), "cours.xml");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("a\u{0}b.txt"), "ab.txt");
        assert_eq!(clean_name(""), "document");
        assert_eq!(clean_name(".hidden"), "hidden");
    }

    #[test]
    fn bidirectional_controls_and_invisible_characters_are_removed() {
        assert_eq!(clean_name("facture\u{202E}txt.exe"), "facturetxt.exe");
        assert_eq!(clean_name("\u{2067}a\u{2069}\u{200B}b\u{FEFF}.txt\u{200F}"), "ab.txt");
        assert_eq!(clean_name("x\u{E0041}\u{00AD}y.md"), "xy.md");
        assert_eq!(clean_name("\u{202E}\u{202C}"), "document");
        // Kept: letters of every script, and the joiners Persian spelling needs.
        assert_eq!(clean_name("می\u{200C}خواهم.docx"), "می\u{200C}خواهم.docx");
        assert_eq!(clean_name("تقرير.odt"), "تقرير.odt");
    }

    #[test]
    fn a_stream_over_the_body_limit_is_told_by_its_type() {
        let limit = 2 * 1024 * 1024;
        let too_big = store_error(BlobError::TooLarge { limit }, "a.xml", limit);
        assert_eq!(too_big.code, ErrorCode::UploadTooLarge);
        assert!(too_big.message.contains("MAX_UPLOAD_MB"), "{}", too_big.message);
        // A source error that merely says "limit" is still a broken upload, not a size problem.
        let broken = store_error(
            BlobError::Source(std::io::Error::other("connection reset past the limit")),
            "a.xml",
            limit,
        );
        assert_eq!(broken.code, ErrorCode::MalformedMultipart);
        assert!(broken.message.contains("`a.xml`"), "{}", broken.message);
        let disk = store_error(BlobError::Io(std::io::Error::other("disk full")), "a.xml", limit);
        assert_eq!(disk.code, ErrorCode::InternalError);
    }
}
