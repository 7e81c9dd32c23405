//! How much work one upload may cause (issue 14): segments per file and per job, and XML per
//! document. The archive limits of [`tradia_formats::Limits`] (entries, expanded and copied
//! sizes) keep their defaults; the longest segment sent whole to a model is an LLM setting
//! (`TRADIA_MAX_SEGMENT_CHARS`, [`tradia_llm::LlmArgs`]).
//!
//! Why these bounds: a 609 KB `.docx` can expand to 209 MB of valid XML and 4.1 million
//! paragraphs; without them such a file held a worker for twenty minutes and took gigabytes
//! of memory. With them it is refused while its XML is being read (its declared sizes already
//! tell at upload), and a file that passes costs memory in proportion to
//! `TRADIA_MAX_XML_MB` (see the ceiling in the README).

use clap::Args;

use super::{SettingsError, err};

/// Limits per document, shared by `tradia serve` and the command line (`translate`,
/// `inspect`).
#[derive(Debug, Clone, Args)]
pub struct DocumentLimitArgs {
    /// Most segments (paragraphs, cells, entries) one file may yield; a file with more is
    /// refused (`segment_limit_exceeded`) as soon as extraction passes the limit.
    #[arg(long, env = "TRADIA_MAX_SEGMENTS_PER_FILE", default_value_t = 100_000)]
    pub max_segments_per_file: usize,
    /// Most XML one document may expand to, in MiB (the sum over an archive's parsed parts,
    /// or an XML file's size); more is refused (`xml_limit_exceeded`).
    #[arg(long, env = "TRADIA_MAX_XML_MB", default_value_t = 64)]
    pub max_xml_mb: u64,
}

impl Default for DocumentLimitArgs {
    fn default() -> Self {
        DocumentLimitArgs { max_segments_per_file: 100_000, max_xml_mb: 64 }
    }
}

impl DocumentLimitArgs {
    /// The extraction limits these values give, the others at their defaults.
    pub fn limits(&self) -> Result<tradia_formats::Limits, SettingsError> {
        if self.max_segments_per_file == 0 {
            return Err(err("TRADIA_MAX_SEGMENTS_PER_FILE", "must be at least 1"));
        }
        if !(1..=4096).contains(&self.max_xml_mb) {
            return Err(err("TRADIA_MAX_XML_MB", "must be between 1 and 4096"));
        }
        Ok(tradia_formats::Limits {
            max_segments: self.max_segments_per_file,
            max_xml_bytes: self.max_xml_mb << 20,
            ..tradia_formats::Limits::default()
        })
    }
}

/// The service's limits: per document, and segments per job.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Per document.
    #[command(flatten)]
    pub document: DocumentLimitArgs,
    /// Most segments all files of one job may yield together; the file that would pass it
    /// fails (`job_segment_limit_exceeded`), the files before it are translated.
    #[arg(long, env = "TRADIA_MAX_SEGMENTS_PER_JOB", default_value_t = 200_000)]
    pub max_segments_per_job: usize,
}

/// Checked limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkLimits {
    /// What extracting one document may cost.
    pub document: tradia_formats::Limits,
    /// Most segments per job.
    pub max_segments_per_job: usize,
}

impl Default for WorkLimits {
    fn default() -> Self {
        WorkLimits { document: tradia_formats::Limits::default(), max_segments_per_job: 200_000 }
    }
}

impl LimitArgs {
    /// Checks the values.
    pub fn settings(&self) -> Result<WorkLimits, SettingsError> {
        if self.max_segments_per_job == 0 {
            return Err(err("TRADIA_MAX_SEGMENTS_PER_JOB", "must be at least 1"));
        }
        Ok(WorkLimits {
            document: self.document.limits()?,
            max_segments_per_job: self.max_segments_per_job,
        })
    }
}

impl WorkLimits {
    /// `NAME=value` lines for `--check-config`.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TRADIA_MAX_SEGMENTS_PER_FILE", self.document.max_segments.to_string()),
            ("TRADIA_MAX_SEGMENTS_PER_JOB", self.max_segments_per_job.to_string()),
            ("TRADIA_MAX_XML_MB", (self.document.max_xml_bytes >> 20).to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        limits: LimitArgs,
    }

    #[test]
    fn defaults_match_the_formats_defaults_and_bad_values_name_their_variable() {
        let limits = Cli::try_parse_from(["x"]).unwrap().limits.settings().unwrap();
        assert_eq!(limits, WorkLimits::default());
        assert_eq!(
            DocumentLimitArgs::default().limits().unwrap(),
            tradia_formats::Limits::default()
        );
        let cli = Cli::try_parse_from(["x", "--max-xml-mb", "0"]).unwrap();
        assert_eq!(cli.limits.settings().unwrap_err().name, "TRADIA_MAX_XML_MB");
        let cli = Cli::try_parse_from(["x", "--max-segments-per-file", "0"]).unwrap();
        assert_eq!(cli.limits.settings().unwrap_err().name, "TRADIA_MAX_SEGMENTS_PER_FILE");
        let cli = Cli::try_parse_from(["x", "--max-segments-per-job", "0"]).unwrap();
        assert_eq!(cli.limits.settings().unwrap_err().name, "TRADIA_MAX_SEGMENTS_PER_JOB");
        let cli = Cli::try_parse_from(["x", "--max-xml-mb", "8", "--max-segments-per-file", "9"])
            .unwrap();
        let limits = cli.limits.settings().unwrap();
        assert_eq!((limits.document.max_xml_bytes, limits.document.max_segments), (8 << 20, 9));
    }
}
