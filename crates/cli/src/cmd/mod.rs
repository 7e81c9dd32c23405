//! One module per subcommand, and what they share: reading a document with errors worded
//! once, and writing to a standard output that may be closed early (`tradia inspect … | head`).

pub(crate) mod glossary;
pub(crate) mod inspect;
pub(crate) mod keys;
pub(crate) mod llm;
pub(crate) mod serve;
pub(crate) mod simulate;
pub(crate) mod storage;
pub(crate) mod tm;
pub(crate) mod translate;
pub(crate) mod users;

use std::io::Write;
use std::path::Path;

use clap::Args;
use tradia_formats::{CsvOptions, Document, ExtractOptions};

/// How files are read, shared by `translate` and `inspect`.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ReadArgs {
    /// CSV/TSV: translate the first row too (by default it is a header and kept).
    #[arg(long)]
    csv_translate_header: bool,
    /// CSV/TSV: translate only these columns (header names or 1-based numbers, comma-separated).
    #[arg(long, value_name = "COLUMNS", value_delimiter = ',')]
    csv_columns: Option<Vec<String>>,
    /// Scenari quizzes: keep cloze gap answers, their options and synonyms, and short-answer
    /// values as they are (by default they are translated together, the answer checked against
    /// the translated options, and kept with a `quiz_kept` flag when they do not match).
    #[arg(long)]
    keep_quiz_answers: bool,
    /// Segments per file and XML per document (the service's limits, same variables).
    #[command(flatten)]
    limits: tradia_server::settings::DocumentLimitArgs,
}

impl ReadArgs {
    /// The extraction options these arguments ask for; a wrong limit is a usage error naming
    /// its variable.
    pub(crate) fn extract_options(&self) -> Result<ExtractOptions, String> {
        Ok(ExtractOptions {
            csv: CsvOptions {
                translate_header: self.csv_translate_header,
                columns: self.csv_columns.clone(),
            },
            limits: self.limits.limits().map_err(|e| e.to_string())?,
            keep_quiz_answers: self.keep_quiz_answers,
        })
    }
}

/// The file name of `path`, as the filters name the file in their messages.
pub(crate) fn file_label(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `message` about `path` without the file name a filter already put in front of it, so that
/// a line reads `error: dir/pic.png: unsupported format…`, never `pic.png: pic.png: …`.
pub(crate) fn without_name(path: &Path, message: &str) -> String {
    let name = file_label(path);
    match message.strip_prefix(&name).and_then(|rest| rest.strip_prefix(": ")) {
        Some(rest) if !name.is_empty() => rest.to_string(),
        _ => message.to_string(),
    }
}

/// Reads and extracts a file; the message of a failure does not repeat the file name. An empty
/// file is refused as such (there is nothing to translate, and the filters would only say that
/// it is not a well-formed whatever its name promises).
///
/// Archives are read from the file itself ([`tradia_formats::extract_path`]): their untouched
/// entries are never loaded, and merging with [`Document::merge_to_path`] streams them.
pub(crate) fn read_document(path: &Path, options: &ExtractOptions) -> Result<Document, String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if metadata.len() == 0 {
        return Err("the file is empty (0 bytes): nothing to translate".to_string());
    }
    tradia_formats::extract_path(&file_label(path), path, options)
        .map_err(|e| without_name(path, &e.to_string()))
}

/// Writes `text` to standard output. A closed pipe (the reader, such as `head`, has all it
/// wants) is not an error: `Ok(false)` tells the caller to stop writing and end normally.
pub(crate) fn print_stdout(text: &str) -> std::io::Result<bool> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_is_said_once() {
        let path = Path::new("dir/pic.png");
        assert_eq!(without_name(path, "pic.png: unsupported format"), "unsupported format");
        assert_eq!(
            without_name(path, "word/document.xml: not well-formed"),
            "word/document.xml: not well-formed"
        );
        assert_eq!(without_name(path, "pic.pngx: other"), "pic.pngx: other");
    }
}
