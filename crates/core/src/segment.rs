//! Segments: the units a document is translated in.
//!
//! A segment is one unit of meaning (a paragraph, a title, a table cell, a subtitle cue), never
//! a fragment cut at an inline tag. Filters produce them in document order with ids `0..n`; the
//! merge step receives one [`Content`] per segment, in the same order.

use serde::{Deserialize, Serialize};

use crate::content::{Content, Edges, MarkupError};
use crate::guidance::SegmentFlag;

/// Index of a segment in its document (0-based, document order).
pub type SegmentId = u32;

/// One translatable unit of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Position in the document's segment list.
    pub id: SegmentId,
    /// Text and inline codes, as extracted.
    pub content: Content,
    /// Where the segment sits, for people (`entry.xml › sc:para #12`, `word/document.xml`).
    pub location: String,
    /// The field it comes from (`sc:para`, `sp:title`, `w:p`, `msgid`…), useful context for a
    /// model and for reports.
    pub field: String,
}

impl Segment {
    /// What a model needs to see of this segment, and the edges to put back afterwards.
    pub fn edges(&self) -> Edges {
        self.content.split_edges()
    }
}

/// Why a segment's source text was kept in the output instead of a translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeptReason {
    /// Stable machine-readable code (`invalid_codes`, `empty_answer`, `backend_failed`…).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// The outcome for one segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentResult {
    /// Which segment.
    pub id: SegmentId,
    /// The content to merge: a translation, or the source when `kept` is set.
    pub content: Content,
    /// Set when no acceptable translation was obtained and the source was kept.
    pub kept: Option<KeptReason>,
    /// What happened on the way (memory reuse, repairs, glossary misses), for the quality report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<SegmentFlag>,
}

impl SegmentResult {
    /// A successful translation of `segment` whose *core* (see [`Segment::edges`]) was translated
    /// into `core`; the edges are put back.
    pub fn from_core(segment: &Segment, core: &Content) -> Result<Self, MarkupError> {
        let content = segment.edges().rejoin(core)?;
        Ok(SegmentResult { id: segment.id, content, kept: None, flags: Vec::new() })
    }

    /// The source kept for `segment`, with the reason.
    pub fn kept_source(segment: &Segment, code: &str, message: impl Into<String>) -> Self {
        SegmentResult {
            id: segment.id,
            content: segment.content.clone(),
            kept: Some(KeptReason { code: code.to_string(), message: message.into() }),
            flags: Vec::new(),
        }
    }
}
