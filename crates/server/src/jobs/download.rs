//! The result download: one translated file as itself, named for its language
//! (`cours.docx` → `cours.en.docx`) with its format's media type; several as a zip named after
//! the first file (`cours.en.zip`) or as the client chose, in which each file keeps its uploaded
//! name (made unique) — so a folder of translations replaces the originals name for name, as
//! `tradia translate` writes `<DIR>/<original name>`. A Scenari archive's entries keep their
//! names (the filter never renames them: items refer to each other by name). Every name goes
//! out in a `Content-Disposition` any browser reads.

use std::collections::HashMap;
use std::io::Write;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tradia_core::LanguageTag;
use tradia_core::detect::is_known_language;
use tradia_formats::Format;

use crate::error::{ApiError, ApiResult};
use crate::jobs::repo::Output;
use crate::jobs::upload::clean_name;

/// The response carrying `outputs` (at least one) translated into `target`: the file itself,
/// or a zip named `zip_name` (cleaned, `.zip` added) or after the first file.
pub async fn download(
    mut outputs: Vec<Output>,
    target: &LanguageTag,
    zip_name: Option<&str>,
) -> ApiResult<Response> {
    if outputs.len() == 1
        && let Some(single) = outputs.pop()
    {
        let media_type = single
            .format
            .as_deref()
            .and_then(|f| f.parse::<Format>().ok())
            .map_or("application/octet-stream", Format::media_type);
        let body = Body::from(single.bytes);
        return Ok(attachment_response(media_type, &language_name(&single.name, target), body));
    }
    let zip_name = match zip_name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(chosen) => {
            let chosen = clean_name(chosen);
            if chosen.to_ascii_lowercase().ends_with(".zip") {
                chosen
            } else {
                format!("{chosen}.zip")
            }
        }
        None => {
            let first = outputs.first().map_or("tradia", |o| o.name.as_str());
            let (stem, _) = split_extension(first);
            format!("{}.{target}.zip", strip_language(stem))
        }
    };
    let names = unique_names(&outputs.iter().map(|o| o.name.clone()).collect::<Vec<_>>());
    let entries: Vec<(String, Vec<u8>)> =
        names.into_iter().zip(outputs).map(|(name, output)| (name, output.bytes)).collect();
    let zip = tokio::task::spawn_blocking(move || build_zip(entries))
        .await
        .map_err(|e| ApiError::internal("cannot build the zip", e))?
        .map_err(|e| ApiError::internal("cannot build the zip", e))?;
    Ok(attachment_response("application/zip", &zip_name, Body::from(zip)))
}

fn attachment_response(content_type: &str, name: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, attachment(name)),
        ],
        body,
    )
        .into_response()
}

/// `cours.docx` → `cours.en.docx`; a name already ending in a language (`cours.fr.docx`) has it
/// replaced (`cours.en.docx`); a name without extension gets the language last (`README.en`).
pub fn language_name(name: &str, target: &LanguageTag) -> String {
    match split_extension(name) {
        (stem, Some(ext)) => format!("{}.{target}.{ext}", strip_language(stem)),
        (stem, None) => format!("{stem}.{target}"),
    }
}

/// The name without its extension, and the extension (`None` for `README` or `.profile`).
fn split_extension(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => (stem, Some(ext)),
        _ => (name, None),
    }
}

/// `cours.fr` → `cours`: a stem ending in a language code Tradia knows loses it.
fn strip_language(stem: &str) -> &str {
    match stem.rsplit_once('.') {
        Some((base, lang))
            if !base.is_empty()
                && (2..=3).contains(&lang.len())
                && LanguageTag::parse(lang).is_ok_and(|tag| is_known_language(&tag)) =>
        {
            base
        }
        _ => stem,
    }
}

/// Gives each name once: `a.xml`, `a (2).xml`, …
fn unique_names(names: &[String]) -> Vec<String> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mut candidate = name.clone();
        let mut n = 1;
        while seen.contains_key(&candidate.to_lowercase()) {
            n += 1;
            candidate = match name.rsplit_once('.') {
                Some((stem, ext)) if !stem.is_empty() => format!("{stem} ({n}).{ext}"),
                _ => format!("{name} ({n})"),
            };
        }
        seen.insert(candidate.to_lowercase(), n);
        out.push(candidate);
    }
    out
}

/// `attachment; filename="…"` with an ASCII fallback and the UTF-8 name (RFC 6266).
fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn build_zip(entries: Vec<(String, Vec<u8>)>) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(name, options)?;
        writer.write_all(&bytes)?;
    }
    Ok(writer.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_names_get_numbers() {
        let names = vec!["a.xml".to_string(), "b.xml".into(), "a.xml".into(), "A.xml".into()];
        assert_eq!(unique_names(&names), vec!["a.xml", "b.xml", "a (2).xml", "A (3).xml"]);
    }

    #[test]
    fn translations_are_named_for_their_language() {
        let en = LanguageTag::parse("en").unwrap();
        let ar = LanguageTag::parse("ar").unwrap();
        assert_eq!(language_name("cours.docx", &en), "cours.en.docx");
        assert_eq!(language_name("cours.xml", &ar), "cours.ar.xml");
        assert_eq!(language_name("cours.fr.docx", &en), "cours.en.docx");
        assert_eq!(language_name("v1.2.notes.txt", &en), "v1.2.notes.en.txt");
        assert_eq!(language_name("README", &en), "README.en");
        assert_eq!(language_name("archive.tar.gz", &en), "archive.tar.en.gz");
    }

    #[test]
    fn attachment_header_is_ascii() {
        let h = attachment("café \"x\".xml");
        assert!(h.is_ascii());
        assert!(h.contains("filename*=UTF-8''caf%C3%A9%20%22x%22.xml"));
    }
}
