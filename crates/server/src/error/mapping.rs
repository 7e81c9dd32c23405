//! Which [`ErrorCode`] each library error stands for.
//!
//! Each mapping is an exhaustive `match` without a wildcard arm, on purpose: a variant added to
//! a library error does not compile here until someone decides its code, instead of silently
//! becoming a generic one. The HTTP messages of the errors clients see are built here too.

use axum::extract::multipart::MultipartError;
use axum::http::StatusCode;
use tradia_core::{EngineError, InvalidLanguage};
use tradia_formats::FormatError;
use tradia_oidc::OidcError;
use tradia_store::{BlobError, StoreError};

use crate::error::{ApiError, ErrorCode};
use crate::gateway::GatewayError;

impl From<&FormatError> for ErrorCode {
    fn from(error: &FormatError) -> Self {
        match error {
            FormatError::Unsupported { .. } => ErrorCode::UnsupportedFormat,
            FormatError::Malformed { .. } => ErrorCode::MalformedDocument,
            FormatError::Doctype { .. } => ErrorCode::DoctypeRefused,
            FormatError::UnsafeEntryName { .. } => ErrorCode::UnsafeArchiveEntry,
            FormatError::LimitExceeded { .. } => ErrorCode::ArchiveLimitExceeded,
            FormatError::Archive(_) => ErrorCode::InvalidArchive,
            FormatError::Encoding { .. } => ErrorCode::UnknownEncoding,
            FormatError::TranslationCount { .. } => ErrorCode::TranslationCountMismatch,
            FormatError::InvalidTranslation { .. } => ErrorCode::InvalidTranslation,
            FormatError::Invalid(_) => ErrorCode::InvalidDocument,
        }
    }
}

impl From<&EngineError> for ErrorCode {
    fn from(error: &EngineError) -> Self {
        match error {
            EngineError::Cancelled => ErrorCode::Cancelled,
            EngineError::Unavailable(_) => ErrorCode::LlmUnavailable,
            EngineError::Rejected(_) => ErrorCode::RequestRejected,
        }
    }
}

impl From<&GatewayError> for ErrorCode {
    fn from(error: &GatewayError) -> Self {
        match error {
            GatewayError::Unavailable(_) => ErrorCode::LlmUnavailable,
            GatewayError::Rejected(_) => ErrorCode::RequestRejected,
            GatewayError::InvalidAnswer(_) => ErrorCode::LlmInvalidAnswer,
        }
    }
}

impl From<&InvalidLanguage> for ErrorCode {
    fn from(error: &InvalidLanguage) -> Self {
        // Destructured so that the type growing variants or fields is noticed here.
        let InvalidLanguage(_) = error;
        ErrorCode::InvalidLanguage
    }
}

impl From<&OidcError> for ErrorCode {
    fn from(error: &OidcError) -> Self {
        match error {
            OidcError::InvalidSettings(_)
            | OidcError::Unreachable { .. }
            | OidcError::InvalidProvider { .. }
            | OidcError::ClientRejected(_) => ErrorCode::OidcUnavailable,
            OidcError::StateMismatch
            | OidcError::InvalidPendingLogin(_)
            | OidcError::LoginExpired
            | OidcError::Denied { .. }
            | OidcError::TokenRejected(_)
            | OidcError::InvalidTokenResponse(_)
            | OidcError::InvalidIdToken(_)
            | OidcError::InvalidUserInfo(_) => ErrorCode::OidcFailed,
        }
    }
}

impl From<&StoreError> for ErrorCode {
    fn from(error: &StoreError) -> Self {
        match error {
            StoreError::NotFound(_) => ErrorCode::JobNotFound,
            StoreError::UserNotFound(_) => ErrorCode::UserNotFound,
            StoreError::TeamNotFound(_) => ErrorCode::TeamNotFound,
            StoreError::ApiKeyNotFound(_) => ErrorCode::KeyNotFound,
            StoreError::GlossaryNotFound(_) => ErrorCode::GlossaryNotFound,
            StoreError::LoginTaken(_) => ErrorCode::LoginTaken,
            StoreError::IdentityTaken => ErrorCode::IdentityTaken,
            StoreError::TeamNameTaken(_) => ErrorCode::TeamNameTaken,
            StoreError::LastAdmin => ErrorCode::LastAdmin,
            StoreError::StorageFull(_) => ErrorCode::StorageFull,
            StoreError::StorageUnavailable(_) => ErrorCode::StorageUnavailable,
            StoreError::DatabaseDamaged(_) => ErrorCode::DatabaseDamaged,
            // The rest are faults of the storage or of the service's use of it, never of the
            // client's request: a job records them as `storage_error`, a request answers
            // `internal_error` (see `ApiError::internal`).
            StoreError::FileNotFound { .. }
            | StoreError::LeaseLost(_)
            | StoreError::WrongStatus { .. }
            | StoreError::Invalid(_)
            | StoreError::UnsupportedUrl(_)
            | StoreError::Corrupt(_)
            | StoreError::Migration(_)
            | StoreError::Database(_)
            | StoreError::Io(_) => ErrorCode::StorageError,
        }
    }
}

impl From<&BlobError> for ErrorCode {
    fn from(error: &BlobError) -> Self {
        match error {
            BlobError::TooLarge { .. } => ErrorCode::UploadTooLarge,
            // Reading the client's data failed: the upload itself is broken.
            BlobError::Source(_) => ErrorCode::MalformedMultipart,
            BlobError::Io(io) => storage_io_code(io),
            BlobError::InvalidKey(_) | BlobError::NotFound(_) => ErrorCode::StorageError,
        }
    }
}

/// The code of a failed file-system operation: a full disk and a storage that refuses writes
/// have their own codes; anything else is a storage fault.
pub(crate) fn storage_io_code(error: &std::io::Error) -> ErrorCode {
    match error.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            ErrorCode::StorageFull
        }
        std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => {
            ErrorCode::StorageUnavailable
        }
        _ => ErrorCode::StorageError,
    }
}

/// The answer to a request that storage could not serve: the code says which fault, the detail
/// goes to the log only (it names files and statements).
pub(crate) fn storage_fault(code: ErrorCode, error: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %error, error.code = code.as_str(), "storage fault");
    let message = match code {
        ErrorCode::StorageFull => {
            "the server's disk is full: nothing was kept; try again once space has been freed"
        }
        ErrorCode::StorageUnavailable => {
            "the server's storage cannot be written right now; nothing was kept; try again shortly"
        }
        ErrorCode::DatabaseDamaged => {
            "the server's database is damaged; an administrator must restore it from a backup"
        }
        _ => return ApiError::internal("the database failed", error),
    };
    ApiError::new(code, message)
}

impl From<FormatError> for ApiError {
    fn from(error: FormatError) -> Self {
        ApiError::new(ErrorCode::from(&error), error.to_string())
    }
}

impl From<StoreError> for ApiError {
    /// A client-facing store error (not found, taken, last administrator) with its code; any
    /// other is a fault of the storage, answered `500` and logged.
    fn from(error: StoreError) -> Self {
        match ErrorCode::from(&error) {
            code @ (ErrorCode::StorageError
            | ErrorCode::StorageFull
            | ErrorCode::StorageUnavailable
            | ErrorCode::DatabaseDamaged) => storage_fault(code, error),
            code => ApiError::new(code, error.to_string()),
        }
    }
}

impl From<InvalidLanguage> for ApiError {
    fn from(error: InvalidLanguage) -> Self {
        ApiError::new(ErrorCode::from(&error), error.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        let code = ErrorCode::from(&error);
        let message = match error {
            EngineError::Unavailable(m) => unreachable_message(&m),
            EngineError::Rejected(m) => m,
            EngineError::Cancelled => {
                "the translation was cancelled (the server is shutting down)".to_string()
            }
        };
        ApiError::new(code, message)
    }
}

impl From<GatewayError> for ApiError {
    fn from(error: GatewayError) -> Self {
        let code = ErrorCode::from(&error);
        let message = match error {
            GatewayError::Unavailable(m) => unreachable_message(&m),
            GatewayError::Rejected(m) => m,
            GatewayError::InvalidAnswer(m) => format!("the model's answer could not be used: {m}"),
        };
        ApiError::new(code, message)
    }
}

impl From<MultipartError> for ApiError {
    /// The request body limit is `upload_too_large` (its status says so); anything else is a
    /// broken form.
    fn from(error: MultipartError) -> Self {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::UploadTooLarge, "the upload is larger than allowed")
        } else {
            ApiError::new(
                ErrorCode::MalformedMultipart,
                format!("the multipart form could not be read: {}", error.body_text()),
            )
        }
    }
}

/// The message of `llm_unavailable`.
pub(crate) fn unreachable_message(error: &dyn std::fmt::Display) -> String {
    format!("the translation model is not reachable right now: {error}")
}

#[cfg(test)]
mod tests {
    use tradia_core::MarkupError;
    use tradia_store::{BlobKey, JobId, JobStatus};

    use super::*;
    use crate::jobs::repo::RepoError;

    #[test]
    fn every_format_error_has_its_code() {
        let cases = [
            (FormatError::Unsupported { name: "a.bin".into() }, "unsupported_format", 415),
            (
                FormatError::Malformed { part: "a.xml".into(), offset: 3, message: "x".into() },
                "malformed_document",
                422,
            ),
            (FormatError::Doctype { part: "a.xml".into() }, "doctype_refused", 422),
            (FormatError::UnsafeEntryName { name: "../x".into() }, "unsafe_archive_entry", 422),
            (
                FormatError::LimitExceeded { what: "entries".into(), limit: 1 },
                "archive_limit_exceeded",
                422,
            ),
            (FormatError::Archive("encrypted".into()), "invalid_archive", 422),
            (
                FormatError::Encoding { part: "a.txt".into(), message: "?".into() },
                "unknown_encoding",
                422,
            ),
            (
                FormatError::TranslationCount { expected: 2, got: 1 },
                "translation_count_mismatch",
                422,
            ),
            (
                FormatError::InvalidTranslation { segment: 4, error: MarkupError::Missing(9) },
                "invalid_translation",
                422,
            ),
            (FormatError::Invalid("empty".into()), "invalid_document", 422),
        ];
        for (error, code, status) in cases {
            let message = error.to_string();
            let api = ApiError::from(error);
            assert_eq!(api.code.as_str(), code);
            assert_eq!(api.status().as_u16(), status, "{code}");
            assert_eq!(api.message, message, "{code}: the error keeps its own message");
        }
    }

    #[test]
    fn every_oidc_error_has_its_code() {
        let text = || "x".to_string();
        let unavailable = [
            OidcError::InvalidSettings(text()),
            OidcError::Unreachable { url: text(), reason: text() },
            OidcError::InvalidProvider { issuer: text(), reason: text() },
            OidcError::ClientRejected(text()),
        ];
        for error in &unavailable {
            assert_eq!(ErrorCode::from(error), ErrorCode::OidcUnavailable, "{error}");
            assert_eq!(ErrorCode::from(error).status().map(|s| s.as_u16()), Some(503));
        }
        let failed = [
            OidcError::StateMismatch,
            OidcError::InvalidPendingLogin(text()),
            OidcError::LoginExpired,
            OidcError::denied("access_denied", None),
            OidcError::TokenRejected(text()),
            OidcError::InvalidTokenResponse(text()),
            OidcError::InvalidIdToken(text()),
            OidcError::InvalidUserInfo(text()),
        ];
        for error in &failed {
            assert_eq!(ErrorCode::from(error), ErrorCode::OidcFailed, "{error}");
            assert_eq!(ErrorCode::from(error).status().map(|s| s.as_u16()), Some(400));
        }
    }

    #[test]
    fn every_engine_and_gateway_error_has_its_code() {
        let engine = [
            (EngineError::Cancelled, "cancelled", 503),
            (EngineError::Unavailable("down".into()), "llm_unavailable", 503),
            (EngineError::Rejected("no such model".into()), "request_rejected", 400),
        ];
        for (error, code, status) in engine {
            let api = ApiError::from(error);
            assert_eq!((api.code.as_str(), api.status().as_u16()), (code, status));
        }
        let gateway = [
            (GatewayError::Unavailable("down".into()), "llm_unavailable", 503),
            (GatewayError::Rejected("no vision".into()), "request_rejected", 400),
            (GatewayError::InvalidAnswer("not JSON".into()), "llm_invalid_answer", 502),
        ];
        for (error, code, status) in gateway {
            let api = ApiError::from(error);
            assert_eq!((api.code.as_str(), api.status().as_u16()), (code, status));
        }
    }

    #[test]
    fn an_invalid_language_has_its_code() {
        let error = tradia_core::LanguageTag::parse("not a tag!").unwrap_err();
        let api = ApiError::from(error);
        assert_eq!((api.code.as_str(), api.status().as_u16()), ("invalid_language", 400));
    }

    #[test]
    fn every_store_error_has_its_code() {
        let job = JobId::new();
        let cases = [
            (StoreError::NotFound(job), "job_not_found"),
            (StoreError::UserNotFound(tradia_store::UserId::new()), "user_not_found"),
            (StoreError::TeamNotFound(tradia_store::TeamId::new()), "team_not_found"),
            (StoreError::ApiKeyNotFound(tradia_store::ApiKeyId::new()), "key_not_found"),
            (StoreError::GlossaryNotFound(tradia_store::GlossaryId::new()), "glossary_not_found"),
            (StoreError::LoginTaken("alice".into()), "login_taken"),
            (StoreError::IdentityTaken, "identity_taken"),
            (StoreError::TeamNameTaken("dsi".into()), "team_name_taken"),
            (StoreError::LastAdmin, "last_admin"),
            (StoreError::FileNotFound { job, index: 2 }, "storage_error"),
            (StoreError::LeaseLost(job), "storage_error"),
            (
                StoreError::WrongStatus { job, status: JobStatus::Done, action: "claim" },
                "storage_error",
            ),
            (StoreError::Invalid("no files".into()), "storage_error"),
            (StoreError::UnsupportedUrl("mysql://h/d".into()), "storage_error"),
            (StoreError::Corrupt("bad status".into()), "storage_error"),
            (
                StoreError::Migration(sqlx::migrate::MigrateError::VersionMissing(3)),
                "storage_error",
            ),
            (StoreError::Database(sqlx::Error::PoolTimedOut), "storage_error"),
            (StoreError::Io(std::io::Error::other("disk full")), "storage_error"),
            (StoreError::StorageFull(sqlx::Error::PoolTimedOut), "storage_full"),
            (StoreError::StorageUnavailable(sqlx::Error::PoolTimedOut), "storage_unavailable"),
            (StoreError::DatabaseDamaged("page 3 is malformed".into()), "database_damaged"),
        ];
        for (error, code) in cases {
            assert_eq!(ErrorCode::from(&error).as_str(), code, "{error}");
            assert_eq!(ErrorCode::from(&RepoError::Store(error)).as_str(), code);
        }
    }

    #[test]
    fn every_blob_and_repo_error_has_its_code() {
        let key = BlobKey::generate();
        let cases = [
            (BlobError::TooLarge { limit: 10 }, "upload_too_large"),
            (BlobError::InvalidKey("../x".into()), "storage_error"),
            (BlobError::NotFound(key), "storage_error"),
            (BlobError::Source(std::io::Error::other("client gone")), "malformed_multipart"),
            (BlobError::Io(std::io::Error::other("disk full")), "storage_error"),
            (BlobError::Io(std::io::ErrorKind::StorageFull.into()), "storage_full"),
            (BlobError::Io(std::io::ErrorKind::ReadOnlyFilesystem.into()), "storage_unavailable"),
        ];
        for (error, code) in cases {
            assert_eq!(ErrorCode::from(&error).as_str(), code, "{error}");
            assert_eq!(ErrorCode::from(&RepoError::Blob(error)).as_str(), code);
        }
        let segment = RepoError::Segment { file: 0, segment: 1, message: "bad markup".into() };
        assert_eq!(ErrorCode::from(&segment), ErrorCode::StorageError);
    }

    #[test]
    fn a_full_disk_is_answered_as_such_without_internals() {
        let api = ApiError::from(StoreError::StorageFull(sqlx::Error::PoolTimedOut));
        assert_eq!((api.code.as_str(), api.status().as_u16()), ("storage_full", 507));
        assert!(api.message.contains("disk is full"), "{}", api.message);
        assert!(!api.message.contains("pool"), "{}", api.message);
        let api = ApiError::from(StoreError::DatabaseDamaged("/data/tradia.db: page 3".into()));
        assert_eq!(api.code.as_str(), "database_damaged");
        assert!(!api.message.contains("/data"), "{}", api.message);
    }
}
