//! `tradia translate --report FILE`: the run's quality report, in the shape of the service's
//! `GET /api/v1/jobs/{id}/report` (`tradia_core::QualityReport`, one type for both).
//!
//! The report is written once every file is done, through a temporary file renamed into place
//! (as outputs are); a report path that is one of the inputs is refused before anything runs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tradia_core::QualityReport;
use tradia_core::quality::FileReport;

use super::absolute;

/// Refuses a report path that would overwrite an input.
pub(super) fn check_usage(report: Option<&Path>, files: &[PathBuf]) -> Result<(), String> {
    let Some(report) = report else { return Ok(()) };
    let target = absolute(report);
    match files.iter().find(|f| absolute(f) == target) {
        Some(input) => Err(format!("the report {} would overwrite an input", input.display())),
        None => Ok(()),
    }
}

/// Writes the report of `files` to `path` as pretty JSON.
pub(super) fn write(path: &Path, files: Vec<FileReport>) -> anyhow::Result<()> {
    let report = QualityReport::new(files);
    let json = serde_json::to_vec_pretty(&report).context("cannot serialise the quality report")?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tradia-partial"));
    let written = std::fs::write(&tmp, json).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(error).with_context(|| format!("cannot write the report {}", path.display()));
    }
    Ok(())
}
