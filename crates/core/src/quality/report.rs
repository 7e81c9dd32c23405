//! The quality report's shape: per file, the segments worth a look, and counts by flag.
//!
//! One type for every output (the service's JSON, the command line's `--report` file, the
//! page's summary), so they cannot drift apart. Segments with nothing to report (no flag but
//! the model, not kept) are counted, not listed: a long document's report stays short.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::guidance::SegmentFlag;
use crate::segment::{KeptReason, Segment, SegmentId, SegmentResult};

/// The key under which kept segments are counted beside the flags.
pub const KEPT: &str = "kept";

/// Severity of a kept segment: above every flag (see [`SegmentFlag::severity`]).
const KEPT_SEVERITY: u32 = 4;

/// The quality report of a job or of a command-line run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualityReport {
    /// Segments with a result, over all files.
    pub segments: u64,
    /// Segments per flag (a segment counts once per kind of flag; `kept` counts the segments
    /// kept as source; the model is counted in `models`), over all files.
    pub counts: BTreeMap<String, u64>,
    /// Segments per model that translated them, over all files.
    pub models: BTreeMap<String, u64>,
    /// The files, in job (or command-line) order.
    pub files: Vec<FileReport>,
}

/// One file's part of the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileReport {
    /// Its index (upload order in a job, argument order on the command line).
    pub index: u32,
    /// Its name.
    pub name: String,
    /// Segments with a result.
    pub segments: u64,
    /// Segments per flag, as in [`QualityReport::counts`].
    pub counts: BTreeMap<String, u64>,
    /// Segments per model.
    pub models: BTreeMap<String, u64>,
    /// The segments with a flag (other than the model) or kept as source, in document order.
    pub flagged: Vec<SegmentReport>,
}

/// One segment worth a look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentReport {
    /// Its id in the file (document order).
    pub id: SegmentId,
    /// Where it sits in the document, for people.
    pub location: String,
    /// The source, with its inline codes as `<g1>…</g1>` / `<x2/>` (empty when the source
    /// could not be read again).
    pub source: String,
    /// The output (the translation, or the source when kept), rendered the same way.
    pub target: String,
    /// What happened to it.
    pub flags: Vec<SegmentFlag>,
    /// Why its source was kept, when it was.
    pub kept: Option<KeptReason>,
    /// 0 (informative) to 4 (kept as source): the highest of its flags'; orders the worst
    /// segments.
    pub severity: u32,
}

impl FileReport {
    /// The report of one file: its `segments` (for sources and locations) and the `results`
    /// obtained for them (in any order).
    pub fn new<'r>(
        index: u32,
        name: impl Into<String>,
        segments: &[Segment],
        results: impl IntoIterator<Item = &'r SegmentResult>,
    ) -> Self {
        let mut file = FileReport { index, name: name.into(), ..FileReport::default() };
        let mut results: Vec<&SegmentResult> = results.into_iter().collect();
        results.sort_by_key(|r| r.id);
        for result in results {
            file.segments += 1;
            count(&mut file.counts, &mut file.models, result);
            let listed = result.kept.is_some()
                || result.flags.iter().any(|f| !matches!(f, SegmentFlag::Model { .. }));
            if !listed {
                continue;
            }
            let segment = segments.get(result.id as usize).filter(|s| s.id == result.id);
            let flag_severity = result.flags.iter().map(SegmentFlag::severity).max();
            let kept_severity = result.kept.as_ref().map(|_| KEPT_SEVERITY);
            file.flagged.push(SegmentReport {
                id: result.id,
                location: segment.map(|s| s.location.clone()).unwrap_or_default(),
                source: segment.map(|s| s.content.render()).unwrap_or_default(),
                target: result.content.render(),
                flags: result.flags.clone(),
                kept: result.kept.clone(),
                severity: flag_severity.max(kept_severity).unwrap_or(0),
            });
        }
        file
    }
}

/// The keys a result is counted under: each kind of flag it carries once, `kept` when it was
/// kept, never `model` (models are counted apart). What the report's counts and the service's
/// `tradia_segment_flags_total{flag}` counter add up.
pub fn counted_keys(result: &SegmentResult) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = Vec::new();
    if result.kept.is_some() {
        keys.push(KEPT);
    }
    for flag in &result.flags {
        let key = flag.key();
        if !matches!(flag, SegmentFlag::Model { .. }) && !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// Counts one result under its keys, and its model.
fn count(
    counts: &mut BTreeMap<String, u64>,
    models: &mut BTreeMap<String, u64>,
    result: &SegmentResult,
) {
    for key in counted_keys(result) {
        *counts.entry(key.to_string()).or_default() += 1;
    }
    for flag in &result.flags {
        if let SegmentFlag::Model { name } = flag {
            *models.entry(name.clone()).or_default() += 1;
        }
    }
}

impl QualityReport {
    /// The report of these files, with the totals.
    pub fn new(files: Vec<FileReport>) -> Self {
        let mut report = QualityReport::default();
        for file in &files {
            report.segments += file.segments;
            for (k, n) in &file.counts {
                *report.counts.entry(k.clone()).or_default() += n;
            }
            for (k, n) in &file.models {
                *report.models.entry(k.clone()).or_default() += n;
            }
        }
        report.files = files;
        report
    }

    /// The `n` segments of highest severity over all files (ties in file and document order),
    /// with their file's index; segments of severity 0 are not "worst".
    pub fn worst(&self, n: usize) -> Vec<(u32, &SegmentReport)> {
        let mut all: Vec<(u32, &SegmentReport)> = self
            .files
            .iter()
            .flat_map(|f| f.flagged.iter().map(move |s| (f.index, s)))
            .filter(|(_, s)| s.severity > 0)
            .collect();
        all.sort_by_key(|s| std::cmp::Reverse(s.1.severity));
        all.truncate(n);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Content;

    fn seg(id: u32, text: &str) -> Segment {
        Segment {
            id,
            content: Content::parse(text).unwrap(),
            location: format!("p #{id}"),
            field: "p".into(),
        }
    }

    fn done(id: u32, text: &str, flags: Vec<SegmentFlag>) -> SegmentResult {
        SegmentResult { id, content: Content::parse(text).unwrap(), kept: None, flags }
    }

    #[test]
    fn flagged_and_kept_segments_are_listed_and_counted() {
        let segments = vec![seg(0, "Un"), seg(1, "Deux <g1>x</g1>"), seg(2, "Trois 3")];
        let model = || SegmentFlag::Model { name: "m".into() };
        let results = vec![
            SegmentResult::kept_source(&segments[2], "copy_of_source", "copied"),
            done(0, "One", vec![model()]),
            done(1, "Two <g1>x</g1>", vec![SegmentFlag::CodesRepaired, model()]),
        ];
        let file = FileReport::new(0, "a.xml", &segments, &results);
        assert_eq!(file.segments, 3);
        assert_eq!(file.models, BTreeMap::from([("m".to_string(), 2)]));
        assert_eq!(
            file.counts,
            BTreeMap::from([("codes_repaired".to_string(), 1), (KEPT.to_string(), 1)])
        );
        let ids: Vec<u32> = file.flagged.iter().map(|s| s.id).collect();
        assert_eq!(ids, [1, 2]);
        assert_eq!(file.flagged[0].source, "Deux <g1>x</g1>");
        assert_eq!(file.flagged[0].location, "p #1");
        assert_eq!(file.flagged[0].severity, 2);
        assert_eq!(file.flagged[1].severity, KEPT_SEVERITY);

        let other = FileReport::new(
            1,
            "b.xml",
            &[],
            &[done(0, "Zero", vec![SegmentFlag::NumberMissing { value: "0".into() }])],
        );
        let report = QualityReport::new(vec![file, other]);
        assert_eq!(report.segments, 4);
        assert_eq!(report.counts.values().sum::<u64>(), 3);
        let worst: Vec<(u32, u32)> = report.worst(2).iter().map(|(f, s)| (*f, s.id)).collect();
        assert_eq!(worst, [(0, 2), (1, 0)]);
        // The unknown source is left empty rather than guessed.
        assert_eq!(report.files[1].flagged[0].source, "");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["files"][0]["flagged"][0]["flags"][0]["flag"], "codes_repaired");
        assert_eq!(serde_json::from_value::<QualityReport>(json).unwrap(), report);
    }

    #[test]
    fn a_segment_counts_once_per_kind_of_flag() {
        let r = done(
            0,
            "x",
            vec![
                SegmentFlag::NumberMissing { value: "1".into() },
                SegmentFlag::NumberMissing { value: "2".into() },
            ],
        );
        let file = FileReport::new(0, "a", &[], [&r]);
        assert_eq!(file.counts, BTreeMap::from([("number_missing".to_string(), 1)]));
    }
}
