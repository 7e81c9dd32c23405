//! Tradia's domain model: segments with inline codes, language tags, and the engine interface.
//!
//! This crate does no I/O and knows no async runtime, file format, protocol or database: every
//! other crate depends on it and it depends on none of them. See `ARCHITECTURE.md` at the
//! repository root for the map.

#![forbid(unsafe_code)]

pub mod content;
pub mod detect;
pub mod engine;
pub mod guidance;
pub mod lang;
pub mod memory;
pub mod outcome;
pub mod pseudo;
pub mod quality;
pub mod quiz;
pub mod redact;
pub mod segment;

pub use content::{CodeId, CodeKind, Content, ContentBuilder, Edges, MarkupError, Piece};
pub use engine::{
    BoxFuture, CancelFlag, Engine, EngineError, EngineStats, IdentityEngine, NoSink, Priority,
    PseudoEngine, ResultSink, TranslateRequest,
};
pub use guidance::{Example, Formality, Guidance, SegmentFlag, Term};
pub use lang::{InvalidLanguage, LANGUAGES, LanguageInfo, LanguageTag};
pub use outcome::{DEFAULT_MAX_KEPT_PERCENT, RunWarning};
pub use quality::{FileReport, QualityReport, SegmentReport};
pub use quiz::{QuizGroup, QuizKind, QuizRole};
pub use redact::redact_url;
pub use segment::{KeptReason, Segment, SegmentId, SegmentResult};
