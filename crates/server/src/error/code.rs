//! Every error code the service answers with or stores on a job, as one enum.
//!
//! Codes are a published contract: clients branch on them and the web interface translates them,
//! so a code's string never changes once published (new codes may appear). Listing them in one
//! table here, rather than as string literals where each error is built, makes the set closed:
//! an error cannot carry a code that is not here, `docs/ERROR-CODES.md` is generated from
//! [`ErrorCode::ALL`] (a test fails when it is stale), and a code read back from the database is
//! parsed into this enum ([`ErrorCode::from_stored`]).

use std::fmt;
use std::str::FromStr;

use axum::http::StatusCode;

/// Declares [`ErrorCode`] and its tables from one list, so [`ErrorCode::ALL`] cannot miss a
/// variant: `Variant = "code", status, "meaning";` where `status` is the HTTP status the code is
/// answered with, or `None` for codes only ever stored on a job or a file.
macro_rules! error_codes {
    ($( $variant:ident = $code:literal, $status:expr, $meaning:literal; )*) => {
        /// A stable, machine-readable error code (`invalid_language`, `upload_too_large`, …).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( #[doc = $meaning] $variant, )*
        }

        impl ErrorCode {
            /// Every code, in the order of the documentation.
            pub const ALL: &'static [ErrorCode] = &[$( ErrorCode::$variant, )*];

            /// The code as clients see it (snake_case).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $code, )*
                }
            }

            /// The HTTP status this code is answered with; `None` for a code only stored on a
            /// job or a file (an [`ApiError`](crate::ApiError) carrying one answers `500`).
            pub const fn status(self) -> Option<StatusCode> {
                match self {
                    $( ErrorCode::$variant => $status, )*
                }
            }

            /// When the code is given, for people (the documentation's wording).
            pub const fn meaning(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $meaning, )*
                }
            }
        }
    };
}

const BAD_REQUEST: Option<StatusCode> = Some(StatusCode::BAD_REQUEST);
const NOT_FOUND: Option<StatusCode> = Some(StatusCode::NOT_FOUND);
const CONFLICT: Option<StatusCode> = Some(StatusCode::CONFLICT);
const TOO_LARGE: Option<StatusCode> = Some(StatusCode::PAYLOAD_TOO_LARGE);
const UNPROCESSABLE: Option<StatusCode> = Some(StatusCode::UNPROCESSABLE_ENTITY);
const UNAVAILABLE: Option<StatusCode> = Some(StatusCode::SERVICE_UNAVAILABLE);
const UNAUTHORIZED: Option<StatusCode> = Some(StatusCode::UNAUTHORIZED);
const FORBIDDEN: Option<StatusCode> = Some(StatusCode::FORBIDDEN);
const TOO_MANY: Option<StatusCode> = Some(StatusCode::TOO_MANY_REQUESTS);
/// Only stored on a job or a file, never answered.
const STORED_ONLY: Option<StatusCode> = None;

error_codes! {
    InvalidRequest = "invalid_request", BAD_REQUEST,
        "A field has the wrong type or value (the message names it).";
    InvalidJson = "invalid_json", BAD_REQUEST, "The body is not a JSON object.";
    InvalidQuery = "invalid_query", BAD_REQUEST,
        "The query string cannot be read (e.g. a `limit` that is not a number).";
    InvalidCursor = "invalid_cursor", BAD_REQUEST, "`before` is not a job id.";
    MalformedMultipart = "malformed_multipart", BAD_REQUEST,
        "The upload is not a readable `multipart/form-data` body.";
    MissingFile = "missing_file", BAD_REQUEST, "A job upload without any `file` part.";
    MissingTargetLang = "missing_target_lang", BAD_REQUEST, "`target_lang` is absent.";
    MissingText = "missing_text", BAD_REQUEST,
        "`text` (or `notes`/`image` for summaries) is absent or empty.";
    EmptyFile = "empty_file", BAD_REQUEST, "An uploaded file has no bytes.";
    TooManyFiles = "too_many_files", BAD_REQUEST, "More than `TRADIA_MAX_FILES` files in one job.";
    TooManyTexts = "too_many_texts", BAD_REQUEST,
        "More than 100 texts in one translation request.";
    InvalidLanguage = "invalid_language", BAD_REQUEST, "A language code Tradia does not know.";
    SameLanguage = "same_language", BAD_REQUEST, "Source and target are the same.";
    InvalidMemoryScope = "invalid_memory_scope", BAD_REQUEST,
        "The `memory` option (or `scope`) is none of `off`, `own`, `teams`, `team:<id>`.";
    InvalidTmx = "invalid_tmx", UNPROCESSABLE,
        "The file is not a TMX document Tradia can read (the message says why and where).";
    TmxTooLarge = "tmx_too_large", TOO_LARGE,
        "The TMX file, one of its segments or its number of entries is over the limit.";
    UnknownModel = "unknown_model", BAD_REQUEST,
        "`model` is not one the LLM servers list (the message lists them).";
    InvalidGlossaryFile = "invalid_glossary_file", BAD_REQUEST,
        "A glossary file (CSV, TSV or TBX) cannot be read; the message says where.";
    InvalidFormality = "invalid_formality", BAD_REQUEST,
        "`formality` is none of `default`, `more`, `less`.";
    InstructionsTooLong = "instructions_too_long", UNPROCESSABLE,
        "`instructions` is longer than 2000 characters.";
    BriefTooLong = "brief_too_long", UNPROCESSABLE,
        "`brief` (what the document is) is longer than 500 characters.";
    InvalidStyle = "invalid_style", BAD_REQUEST,
        "Reformulation `style` longer than 100 characters.";
    InvalidImage = "invalid_image", BAD_REQUEST,
        "The summary's image is empty, not valid base64, or not a PNG, JPEG, GIF or WebP file.";
    RequestRejected = "request_rejected", BAD_REQUEST,
        "The LLM server refused the request itself (e.g. the model does not exist there); also \
         a job's error.";
    OidcFailed = "oidc_failed", BAD_REQUEST,
        "Single sign-on failed: a tampered or expired state, or an ID token that does not \
         validate; no session was opened.";
    OidcUnavailable = "oidc_unavailable", UNAVAILABLE,
        "Single sign-on cannot be used right now: the OpenID provider is unreachable or \
         unusable, or refuses this service's client credentials; an administrator has \
         something to fix. Local sign-in keeps working.";
    Unauthenticated = "unauthenticated", UNAUTHORIZED,
        "No credentials, or expired ones: sign in, or send `Authorization: Bearer <API key>`.";
    InvalidCredentials = "invalid_credentials", UNAUTHORIZED,
        "Wrong login or password (the same answer for both), or an unknown or revoked API key.";
    AccountDisabled = "account_disabled", FORBIDDEN,
        "The account exists but an administrator disabled it.";
    CsrfFailed = "csrf_failed", FORBIDDEN,
        "A cookie-authenticated change without the `X-CSRF-Token` header of the session, or \
         sent from another site (`Origin`).";
    Forbidden = "forbidden", FORBIDDEN, "An administrator's route called by a user.";
    SetupTokenInvalid = "setup_token_invalid", FORBIDDEN,
        "First-start set-up with a wrong or missing one-time token (the log prints it).";
    JobNotFound = "job_not_found", NOT_FOUND,
        "No such job (never existed, deleted, or purged after the retention period).";
    NotFound = "not_found", NOT_FOUND, "No such endpoint under `/api/`.";
    UserNotFound = "user_not_found", NOT_FOUND, "No user with this id or login.";
    KeyNotFound = "key_not_found", NOT_FOUND,
        "No API key with this id among the caller's (another user's key answers this too).";
    TeamNotFound = "team_not_found", NOT_FOUND, "No team with this id.";
    GlossaryNotFound = "glossary_not_found", NOT_FOUND,
        "No glossary with this id among the caller's and their teams' (another user's glossary \
         answers this too).";
    MisdirectedRequest = "misdirected_request", Some(StatusCode::MISDIRECTED_REQUEST),
        "The request's `Host` is not the address in `TRADIA_PUBLIC_URL`; nothing was done.";
    JobNotFinished = "job_not_finished", CONFLICT,
        "Result asked for before the job is `done`.";
    JobNotRetryable = "job_not_retryable", CONFLICT,
        "Retry asked for a job that is not `failed` or `cancelled`, or whose uploads were purged.";
    NoResult = "no_result", CONFLICT,
        "The job is `done` but none of its files could be translated.";
    SetupDone = "setup_done", CONFLICT,
        "First-start set-up asked for while an administrator already exists.";
    LoginTaken = "login_taken", CONFLICT, "Another user already has this login.";
    IdentityTaken = "identity_taken", CONFLICT,
        "Another user already signs in with this single-sign-on identity.";
    TeamNameTaken = "team_name_taken", CONFLICT, "Another team already has this name.";
    LastAdmin = "last_admin", CONFLICT,
        "The change would leave no active administrator: name another one first.";
    UploadTooLarge = "upload_too_large", TOO_LARGE,
        "The upload exceeds `MAX_UPLOAD_MB` (all files of the request together).";
    RequestTooLarge = "request_too_large", TOO_LARGE,
        "A text or assistant request body over 16 MB.";
    TextTooLong = "text_too_long", TOO_LARGE,
        "Over 100,000 characters to translate, or 30,000 for an assistant.";
    ImageTooLarge = "image_too_large", TOO_LARGE, "A summary image over 10 MB.";
    UnsupportedFormat = "unsupported_format", Some(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        "A file's format is not one Tradia translates (the message lists them); at upload, or \
         as a file's error.";
    MalformedDocument = "malformed_document", UNPROCESSABLE,
        "A file is not well-formed (XML, JSON…), or a zip-based file is not a zip; at upload, \
         or as a file's error.";
    DoctypeRefused = "doctype_refused", UNPROCESSABLE,
        "A file has a DOCTYPE or entity declarations, refused for security.";
    UnsafeArchiveEntry = "unsafe_archive_entry", UNPROCESSABLE,
        "An archive entry name is absolute or climbs out with `..`.";
    ArchiveLimitExceeded = "archive_limit_exceeded", UNPROCESSABLE,
        "An archive exceeds a limit (entries, sizes, nesting, compression ratio).";
    XmlLimitExceeded = "xml_limit_exceeded", UNPROCESSABLE,
        "A document expands to more XML than `TRADIA_MAX_XML_MB` (sum over its parsed parts).";
    SegmentLimitExceeded = "segment_limit_exceeded", UNPROCESSABLE,
        "A file yields more segments than `TRADIA_MAX_SEGMENTS_PER_FILE`.";
    JobSegmentLimitExceeded = "job_segment_limit_exceeded", UNPROCESSABLE,
        "A job's files together yield more segments than `TRADIA_MAX_SEGMENTS_PER_JOB`.";
    InvalidArchive = "invalid_archive", UNPROCESSABLE,
        "An archive is unreadable, encrypted or uses an unsupported compression.";
    UnknownEncoding = "unknown_encoding", UNPROCESSABLE,
        "A file's text encoding is unknown or could not be decided.";
    InvalidDocument = "invalid_document", UNPROCESSABLE,
        "Something else is wrong with a file's content (the message says what).";
    TranslationCountMismatch = "translation_count_mismatch", UNPROCESSABLE,
        "A file could not be written back: the number of translations did not match.";
    InvalidTranslation = "invalid_translation", UNPROCESSABLE,
        "A file could not be written back: a translation's inline codes did not match.";
    QuotaExceeded = "quota_exceeded", TOO_MANY,
        "Over a quota (characters a day or a month, documents in progress); the message names \
         it and when it resets, `Retry-After` gives the seconds until then.";
    RateLimited = "rate_limited", TOO_MANY,
        "Too many requests a minute from this user or address; `Retry-After` says when to \
         try again.";
    SignInThrottled = "sign_in_throttled", TOO_MANY,
        "Too many failed sign-ins for this account or address; `Retry-After` says when to \
         try again.";
    InternalError = "internal_error", Some(StatusCode::INTERNAL_SERVER_ERROR),
        "A fault on the server's side; the log has the cause (a storage failure during a \
         request is answered with this code too).";
    LlmInvalidAnswer = "llm_invalid_answer", Some(StatusCode::BAD_GATEWAY),
        "The model's answer to an assistant could not be used, even after the retries.";
    LlmUnavailable = "llm_unavailable", UNAVAILABLE,
        "The LLM server cannot be reached right now; try again shortly (a job does not fail \
         with this code: it waits, see `llm_outage_too_long`).";
    Cancelled = "cancelled", UNAVAILABLE,
        "A text translation was interrupted because the server is shutting down.";
    StorageFull = "storage_full", Some(StatusCode::INSUFFICIENT_STORAGE),
        "The server's disk is full: nothing of the request was kept; it works again as soon as \
         space is freed, with no restart.";
    RequestTooSlow = "request_too_slow", Some(StatusCode::REQUEST_TIMEOUT),
        "The request body arrived slower than `TRADIA_BODY_MIN_RATE_KBPS` (after \
         `TRADIA_BODY_GRACE_SECS`); the connection is closed.";
    StorageLow = "storage_low", Some(StatusCode::INSUFFICIENT_STORAGE),
        "The server's data folder has less free space than `TRADIA_MIN_FREE_MB`: new uploads \
         are refused before the disk is full; they are accepted again once space is freed.";
    StorageUnavailable = "storage_unavailable", UNAVAILABLE,
        "The server's storage cannot be written right now (read-only, I/O error, database \
         unreachable); try again shortly.";
    DatabaseDamaged = "database_damaged", UNAVAILABLE,
        "The database file is damaged; an administrator must restore it from a backup \
         (`tradia restore`).";
    StorageError = "storage_error", STORED_ONLY,
        "A job's error: the database or the file storage failed while the job ran.";
    NoFile = "no_file", STORED_ONLY, "A job's error: the job has no file to translate.";
    LlmOutageTooLong = "llm_outage_too_long", STORED_ONLY,
        "A job's error: every LLM server stayed unreachable for longer than \
         `TRADIA_LLM_OUTAGE_MAX_SECS`; what was translated is kept, and the job can be submitted \
         again once the LLM server is back.";
    TooManyAttempts = "too_many_attempts", STORED_ONLY,
        "A job's error: the job was started too many times without finishing (its workers \
         kept stopping) and was given up.";
    FileFailed = "file_failed", STORED_ONLY,
        "A job's or file's error stored with a code this version does not know (written by \
         another version); the message says what happened.";
}

/// A string that is not one of the [`ErrorCode`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an error code of this version")]
pub struct UnknownErrorCode(pub String);

impl ErrorCode {
    /// The code a stored error (`ErrorInfo.code` in the database) stands for; a code this
    /// version does not know becomes [`ErrorCode::FileFailed`], with its message kept.
    pub fn from_stored(code: &str) -> ErrorCode {
        code.parse().unwrap_or(ErrorCode::FileFailed)
    }

    /// The code list as a Markdown document (`docs/ERROR-CODES.md`).
    pub fn markdown_table() -> String {
        let mut out = String::from(concat!(
            "# Error codes\n\n",
            "<!-- Generated from `ErrorCode` (crates/server/src/error/code.rs): do not edit.\n",
            "     After changing the enum, run\n",
            "     `UPDATE_DOCS=1 cargo test -p tradia-server error_codes_doc` to rewrite it. -->\n\n",
            "Every error the API answers, or stores on a job or a file, carries one of these\n",
            "codes: `{\"error\": {\"code\": \"…\", \"message\": \"…\"}}` (see\n",
            "[API-DESIGN.md](API-DESIGN.md#errors)). A code never changes once published; new\n",
            "codes may appear. Status `—`: the code is only stored on a job or a file (its\n",
            "`error` field), never answered as a response.\n\n",
            "| Code | Status | Meaning |\n",
            "|---|---|---|\n",
        ));
        for code in ErrorCode::ALL {
            let status = code.status().map_or_else(|| "—".to_string(), |s| s.as_u16().to_string());
            out.push_str(&format!("| `{}` | {status} | {} |\n", code.as_str(), code.meaning()));
        }
        out
    }
}

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_string()))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_parse_back() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} is listed twice");
            assert!(
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s} is not snake_case"
            );
            assert_eq!(s.parse::<ErrorCode>(), Ok(*code));
            assert_eq!(code.to_string(), s);
            assert!(code.meaning().ends_with('.'), "{s}: the meaning is a sentence");
        }
        assert_eq!(
            "no_such_code".parse::<ErrorCode>(),
            Err(UnknownErrorCode("no_such_code".into()))
        );
        assert_eq!(ErrorCode::from_stored("too_many_attempts"), ErrorCode::TooManyAttempts);
        assert_eq!(ErrorCode::from_stored("written_by_a_later_version"), ErrorCode::FileFailed);
    }

    /// The codes clients already rely on (the web interface translates most of them) keep their
    /// strings and statuses: a rename fails here, not in a client.
    #[test]
    fn published_codes_keep_their_strings_and_statuses() {
        let published: &[(&str, Option<u16>)] = &[
            ("invalid_memory_scope", Some(400)),
            ("invalid_tmx", Some(422)),
            ("tmx_too_large", Some(413)),
            ("invalid_request", Some(400)),
            ("invalid_json", Some(400)),
            ("invalid_query", Some(400)),
            ("invalid_cursor", Some(400)),
            ("malformed_multipart", Some(400)),
            ("missing_file", Some(400)),
            ("missing_target_lang", Some(400)),
            ("missing_text", Some(400)),
            ("empty_file", Some(400)),
            ("too_many_files", Some(400)),
            ("too_many_texts", Some(400)),
            ("invalid_language", Some(400)),
            ("same_language", Some(400)),
            ("unknown_model", Some(400)),
            ("invalid_glossary_file", Some(400)),
            ("invalid_formality", Some(400)),
            ("instructions_too_long", Some(422)),
            ("brief_too_long", Some(422)),
            ("invalid_style", Some(400)),
            ("invalid_image", Some(400)),
            ("request_rejected", Some(400)),
            ("oidc_failed", Some(400)),
            ("oidc_unavailable", Some(503)),
            ("unauthenticated", Some(401)),
            ("invalid_credentials", Some(401)),
            ("account_disabled", Some(403)),
            ("csrf_failed", Some(403)),
            ("forbidden", Some(403)),
            ("setup_token_invalid", Some(403)),
            ("job_not_found", Some(404)),
            ("not_found", Some(404)),
            ("user_not_found", Some(404)),
            ("key_not_found", Some(404)),
            ("team_not_found", Some(404)),
            ("glossary_not_found", Some(404)),
            ("misdirected_request", Some(421)),
            ("job_not_finished", Some(409)),
            ("job_not_retryable", Some(409)),
            ("no_result", Some(409)),
            ("setup_done", Some(409)),
            ("login_taken", Some(409)),
            ("identity_taken", Some(409)),
            ("team_name_taken", Some(409)),
            ("last_admin", Some(409)),
            ("upload_too_large", Some(413)),
            ("request_too_large", Some(413)),
            ("text_too_long", Some(413)),
            ("image_too_large", Some(413)),
            ("unsupported_format", Some(415)),
            ("malformed_document", Some(422)),
            ("doctype_refused", Some(422)),
            ("unsafe_archive_entry", Some(422)),
            ("archive_limit_exceeded", Some(422)),
            ("xml_limit_exceeded", Some(422)),
            ("segment_limit_exceeded", Some(422)),
            ("job_segment_limit_exceeded", Some(422)),
            ("invalid_archive", Some(422)),
            ("unknown_encoding", Some(422)),
            ("invalid_document", Some(422)),
            ("translation_count_mismatch", Some(422)),
            ("invalid_translation", Some(422)),
            ("quota_exceeded", Some(429)),
            ("rate_limited", Some(429)),
            ("sign_in_throttled", Some(429)),
            ("internal_error", Some(500)),
            ("llm_invalid_answer", Some(502)),
            ("llm_unavailable", Some(503)),
            ("cancelled", Some(503)),
            ("storage_full", Some(507)),
            ("storage_low", Some(507)),
            ("request_too_slow", Some(408)),
            ("storage_unavailable", Some(503)),
            ("database_damaged", Some(503)),
            ("storage_error", None),
            ("no_file", None),
            ("llm_outage_too_long", None),
            ("too_many_attempts", None),
            ("file_failed", None),
        ];
        for (s, status) in published {
            let code: ErrorCode = s.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(code.status().map(|s| s.as_u16()), *status, "{s}");
        }
        assert_eq!(published.len(), ErrorCode::ALL.len(), "a new code: add it to this list too");
    }

    /// Every `error_<code>` key the web interface translates names a code of the API, or one of
    /// the interface's own messages.
    #[test]
    fn the_web_interface_translates_existing_codes_only() {
        let own = [
            "network",
            "generic",
            "with_message",
            "empty_notes",
            "empty_text",
            "stream_interrupted",
        ];
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web/i18n/en.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let keys: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
        let mut checked = 0;
        for key in keys.keys() {
            let Some(code) = key.strip_prefix("error_") else { continue };
            if own.contains(&code) {
                continue;
            }
            assert!(
                code.parse::<ErrorCode>().is_ok(),
                "web/i18n/en.json translates `{code}`, which the API never answers"
            );
            checked += 1;
        }
        assert!(checked > 30, "only {checked} codes found in {}", path.display());
    }

    /// Every code the API answers, and every message the page's scripts name, exists in the
    /// three catalogues of the interface: a French page never shows a backend's raw English.
    #[test]
    fn every_code_and_page_message_has_its_three_translations() {
        let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web");
        let catalogue = |lang: &str| -> serde_json::Map<String, serde_json::Value> {
            let path = web.join(format!("i18n/{lang}.json"));
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
        };
        let catalogues: Vec<_> = ["fr", "en", "ar"].map(|l| (l, catalogue(l))).into();
        let mut missing = Vec::new();
        for code in ErrorCode::ALL {
            for (lang, keys) in &catalogues {
                let key = format!("error_{}", code.as_str());
                if keys.get(&key).and_then(|v| v.as_str()).is_none_or(|v| v.trim().is_empty()) {
                    missing.push(format!("{lang}: {key}"));
                }
            }
        }
        // The page's own messages: every key one catalogue has, the others have too, and every
        // key a script names literally (`t('…')`, `has('…')`) is in the catalogues.
        let mut named = Vec::new();
        for entry in std::fs::read_dir(web.join("js")).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            for call in ["t('", "has('"] {
                for (at, _) in source.match_indices(call) {
                    let before = source[..at].chars().last();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                        continue;
                    }
                    let rest = &source[at + call.len()..];
                    if let Some(end) = rest.find('\'')
                        && rest[..end]
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    {
                        named.push(rest[..end].to_string());
                    }
                }
            }
        }
        assert!(named.len() > 100, "only {} message keys found in web/js", named.len());
        let all: std::collections::BTreeSet<&String> =
            catalogues.iter().flat_map(|(_, keys)| keys.keys()).collect();
        for key in all.iter().copied().chain(named.iter()) {
            for (lang, keys) in &catalogues {
                if !keys.contains_key(key) {
                    missing.push(format!("{lang}: {key}"));
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "messages without their translation: {missing:#?}");
    }

    #[test]
    fn error_codes_doc_is_up_to_date() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/ERROR-CODES.md");
        let generated = ErrorCode::markdown_table();
        if std::env::var("UPDATE_DOCS").as_deref() == Ok("1") {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "{} is stale: run `UPDATE_DOCS=1 cargo test -p tradia-server error_codes_doc` and \
             commit it",
            path.display()
        );
    }
}
