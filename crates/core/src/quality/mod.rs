//! The quality report: what a person should look at in a translation, segment by segment.
//!
//! Two halves. [`post_check`] looks at one finished segment against its source and flags what a
//! reader would want to know even though the engine accepted it (a number or URL gone, a length
//! far from what the language pair leads to expect, the source's letters given back); the LLM
//! engine runs it on every segment it reports, beside the flags of its own stages (codes
//! repaired, the model used) and those of the translation memory and glossaries. [`missing_terms`]
//! is the glossary rule the engine's answer check and the memory's exact matches share.
//! [`QualityReport`] gathers the flags of a job's (or a command-line run's) files, with counts
//! by flag and the segments worth reading; the service's `GET /api/v1/jobs/{id}/report` and
//! `tradia translate --report FILE` write this one type, so both have the same JSON shape.
//!
//! It lives in the domain crate because producers (engine) and consumers (service, command line)
//! must agree on it without depending on each other; it does no I/O.

mod check;
mod report;
mod terms;

pub use check::{annotate, expected_length_percent, post_check, verbatim_token};
pub use report::{FileReport, KEPT, QualityReport, SegmentReport, counted_keys};
pub use terms::{contains_word, fold_term, missing_terms, term_in_source, term_in_target};
