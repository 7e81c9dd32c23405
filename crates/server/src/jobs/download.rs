//! The result download: one translated file as itself, several as a zip, each under its
//! uploaded name (made unique), with a `Content-Disposition` any browser reads.

use std::collections::HashMap;
use std::io::Write;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ApiResult};
use crate::jobs::repo::Output;

/// The response carrying `outputs` (at least one): the file itself, or a zip named `zip_name`.
pub async fn download(mut outputs: Vec<Output>, zip_name: String) -> ApiResult<Response> {
    if outputs.len() == 1
        && let Some(single) = outputs.pop()
    {
        let body = Body::from(single.bytes);
        return Ok(attachment_response("application/octet-stream", &single.name, body));
    }
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
    fn attachment_header_is_ascii() {
        let h = attachment("café \"x\".xml");
        assert!(h.is_ascii());
        assert!(h.contains("filename*=UTF-8''caf%C3%A9%20%22x%22.xml"));
    }
}
