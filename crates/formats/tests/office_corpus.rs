//! Office corpus round trips: identity (byte-exact per zip entry) and pseudo-translation
//! (well-formed, same structure outside text, visible text changed, opens in LibreOffice).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod office_common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use office_common::*;
use tradia_core::{Content, LanguageTag, pseudo::pseudo_content};
use tradia_formats::{Document, ExtractOptions, MergeOptions, extract};

/// Files that cannot round-trip byte-exactly, with the reason. Empty: every corpus file does.
const IDENTITY_EXCEPTIONS: &[(&str, &str)] = &[];

/// The language the pseudo round trip translates into.
const TARGET: &str = "fr";

fn options() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse(TARGET).expect("tag") }
}

fn load(path: &Path) -> (Vec<u8>, Document) {
    let bytes = std::fs::read(path).expect("read corpus file");
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let doc = extract(name, &bytes, &ExtractOptions::default())
        .unwrap_or_else(|e| panic!("{}: extract failed: {e}", path.display()));
    (bytes, doc)
}

#[test]
fn identity_round_trip_is_byte_exact_per_entry() {
    let Some(files) = corpus_files("identity_round_trip_is_byte_exact_per_entry") else { return };
    let mut exact = 0;
    let mut failures = Vec::new();
    for path in &files {
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let (bytes, doc) = load(path);
        let out = doc.merge_identity(&options()).expect("identity merge");
        let a = entries(&bytes);
        let b = entries(&out);
        let mut problems = Vec::new();
        if a.len() != b.len() {
            problems.push(format!("{} entries instead of {}", b.len(), a.len()));
        }
        for (x, y) in a.iter().zip(&b) {
            if x.name != y.name {
                problems.push(format!("entry `{}` became `{}`", x.name, y.name));
            } else if x.data != y.data {
                problems.push(format!("entry `{}` differs", x.name));
            } else if x.stored != y.stored {
                problems.push(format!("entry `{}` changed compression", x.name));
            }
        }
        let excused = IDENTITY_EXCEPTIONS.iter().any(|(f, _)| *f == file);
        if problems.is_empty() {
            exact += 1;
        } else if !excused {
            failures.push(format!("{file}: {}", problems.join("; ")));
        }
    }
    println!("identity: {exact}/{} office files byte-exact per entry", files.len());
    assert!(IDENTITY_EXCEPTIONS.len() * 20 <= files.len(), "more than 5 % exceptions");
    assert!(failures.is_empty(), "identity failures:\n{}", failures.join("\n"));
}

struct PseudoOutput {
    input: PathBuf,
    output: Vec<u8>,
    /// The same pseudo-translation merged for a right-to-left target (paragraphs marked RTL).
    rtl_output: Vec<u8>,
}

fn pseudo_one(path: &Path) -> Result<PseudoOutput, String> {
    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
    let (bytes, doc) = load(path);
    let translations: Vec<Content> =
        doc.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = doc.merge(&translations, &options()).map_err(|e| format!("{file}: merge: {e}"))?;
    let a = entries(&bytes);
    let b = entries(&out);
    let names_a: Vec<&str> = a.iter().map(|e| e.name.as_str()).collect();
    let names_b: Vec<&str> = b.iter().map(|e| e.name.as_str()).collect();
    if names_a != names_b {
        return Err(format!("{file}: entry names or order changed"));
    }
    if let Some(first) = a.first()
        && first.name == "mimetype"
        && !(b[0].name == "mimetype" && b[0].stored)
    {
        return Err(format!("{file}: mimetype is not first and stored"));
    }
    let mut letters_total = 0usize;
    let mut letters_marked = 0usize;
    // Letters in presentation templates (layouts and masters), whose placeholder prompts
    // ("Click to edit…") never show in a slide show and are not translated.
    let mut template_letters = 0usize;
    let template = |name: &str| {
        let n = name.to_ascii_lowercase();
        n.contains("slidelayouts/")
            || n.contains("slidemasters/")
            || n.contains("notesmasters/")
            || n.contains("handoutmasters/")
    };
    let mut changed_parts = 0;
    let mut retagged_total = 0usize;
    let mut retagged_parts = 0usize;
    for (x, y) in a.iter().zip(&b) {
        if x.stored != y.stored {
            return Err(format!("{file}: {} changed compression", x.name));
        }
        if !is_xml_name(&x.name) {
            if x.data != y.data {
                return Err(format!("{file}: non-XML entry {} changed", x.name));
            }
            continue;
        }
        let (Ok(tx), Ok(ty)) = (std::str::from_utf8(&x.data), std::str::from_utf8(&y.data)) else {
            if x.data != y.data {
                return Err(format!("{file}: non-UTF-8 entry {} changed", x.name));
            }
            continue;
        };
        well_formed(ty).map_err(|e| format!("{file}: {} is not well-formed: {e}", x.name))?;
        if x.data == y.data {
            let n = visible_text(tx).chars().filter(|c| c.is_alphabetic()).count();
            letters_total += n;
            if template(&x.name) {
                template_letters += n;
            }
            continue;
        }
        changed_parts += 1;
        let (seq_a, props_a) = structure(tx);
        let (seq_b, props_b) = structure(ty);
        if seq_a != seq_b {
            let at = seq_a
                .iter()
                .zip(&seq_b)
                .position(|(p, q)| p != q)
                .unwrap_or(seq_a.len().min(seq_b.len()));
            return Err(format!(
                "{file}: structure of {} changed at element {at}: {:?} vs {:?}",
                x.name,
                seq_a.get(at),
                seq_b.get(at)
            ));
        }
        let invented: BTreeSet<_> = props_b.difference(&props_a).collect();
        if !invented.is_empty() {
            return Err(format!(
                "{file}: {} has run properties not in the source: {invented:?}",
                x.name
            ));
        }
        // Language tags change only to the target's (runs merge, so their number may drop).
        let (langs_a, langs_b) = (language_values(tx), language_values(ty));
        // (OpenDocument's country attributes say `none` for a target without a region.)
        if let Some(q) =
            langs_b.iter().find(|q| *q != TARGET && *q != "none" && !langs_a.contains(q))
        {
            return Err(format!(
                "{file}: {} has language {q}, neither a source one nor the target",
                x.name
            ));
        }
        let target_tags = |langs: &[String]| langs.iter().filter(|v| *v == TARGET).count();
        let retagged = target_tags(&langs_b).saturating_sub(target_tags(&langs_a));
        retagged_total += retagged;
        let va = visible_text(tx);
        let vb = visible_text(ty);
        if va == vb {
            // Language defaults (Word styles) retagged: nothing else may differ.
            if mask_languages(tx) == mask_languages(ty) {
                retagged_parts += 1;
                continue;
            }
            return Err(format!("{file}: {} changed but its visible text did not", x.name));
        }
        let n = va.chars().filter(|c| c.is_alphabetic()).count();
        letters_total += n;
        let mut marked_here = 0;
        // Letters inside pseudo marks ⟦…⟧ in the output.
        let mut inside = false;
        for ch in vb.chars() {
            match ch {
                '⟦' => inside = true,
                '⟧' => inside = false,
                c if inside && c.is_alphabetic() => marked_here += 1,
                _ => {}
            }
        }
        letters_marked += marked_here;
        if template(&x.name) {
            template_letters += n - marked_here.min(n);
        }
    }
    let coverage = if letters_total == 0 {
        100.0
    } else {
        100.0 * letters_marked as f64 / letters_total as f64
    };
    let content_total = letters_total - template_letters.min(letters_total);
    let content_coverage = if content_total == 0 {
        100.0
    } else {
        100.0 * letters_marked.min(content_total) as f64 / content_total as f64
    };
    println!(
        "pseudo: {file}: {} segments, {changed_parts} parts changed, coverage {coverage:.1} % of \
         visible letters ({content_coverage:.1} % outside slide layouts and masters), \
         {retagged_total} language tags set to the target ({retagged_parts} parts changed only so)",
        doc.segments.len()
    );
    if !doc.segments.is_empty() && changed_parts == 0 {
        return Err(format!("{file}: segments but no part changed"));
    }
    // The right-to-left variant differs only by direction markup: it must stay well-formed.
    let ar = MergeOptions { target: LanguageTag::parse("ar").expect("tag") };
    let rtl = doc.merge(&translations, &ar).map_err(|e| format!("{file}: merge (ar): {e}"))?;
    for (x, y) in a.iter().zip(entries(&rtl)) {
        if is_xml_name(&x.name)
            && let Ok(text) = std::str::from_utf8(&y.data)
        {
            well_formed(text)
                .map_err(|e| format!("{file}: {} (ar) is not well-formed: {e}", x.name))?;
        }
    }
    Ok(PseudoOutput { input: path.to_path_buf(), output: out, rtl_output: rtl })
}

#[test]
fn pseudo_round_trip_keeps_structure_and_opens() {
    let Some(files) = corpus_files("pseudo_round_trip_keeps_structure_and_opens") else { return };
    let mut outputs = Vec::new();
    let mut failures = Vec::new();
    for path in &files {
        match pseudo_one(path) {
            Ok(o) => outputs.push(o),
            Err(e) => failures.push(e),
        }
    }
    println!("pseudo: {}/{} office files passed the XML checks", outputs.len(), files.len());
    assert!(failures.is_empty(), "pseudo failures:\n{}", failures.join("\n"));
    libreoffice_check(&outputs);
}

fn soffice() -> Option<PathBuf> {
    for candidate in ["soffice", "libreoffice"] {
        if let Ok(out) =
            Command::new("sh").arg("-c").arg(format!("command -v {candidate}")).output()
            && out.status.success()
        {
            let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !p.is_empty() {
                return Some(PathBuf::from(p));
            }
        }
    }
    None
}

/// Converts `files` to PDF in `out_dir` with one soffice call and a private profile.
fn convert(soffice: &Path, files: &[PathBuf], out_dir: &Path, profile: &Path) {
    let status = Command::new(soffice)
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--norestore", "--convert-to", "pdf", "--outdir"])
        .arg(out_dir)
        .args(files)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run soffice");
    assert!(status.success(), "soffice failed to run");
}

fn libreoffice_check(outputs: &[PseudoOutput]) {
    let Some(soffice) = soffice() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "soffice is required when CI=true (apt: libreoffice-core libreoffice-writer libreoffice-calc libreoffice-impress)"
            );
        }
        eprintln!("LibreOffice check skipped: soffice not found");
        return;
    };
    let tmp = std::env::temp_dir().join(format!("tradia-office-lo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let (files_dir, pdf_dir, profile) = (tmp.join("files"), tmp.join("pdf"), tmp.join("profile"));
    for d in [&files_dir, &pdf_dir] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    // One soffice call for everything: the input, its French and its Arabic output, told apart
    // by a name prefix.
    let mut all = Vec::new();
    let mut triples = Vec::new();
    for o in outputs {
        let name = o.input.file_name().and_then(|n| n.to_str()).expect("name").to_string();
        let a = files_dir.join(format!("in__{name}"));
        std::fs::copy(&o.input, &a).expect("copy input");
        let b = files_dir.join(format!("fr__{name}"));
        std::fs::write(&b, &o.output).expect("write output");
        let c = files_dir.join(format!("ar__{name}"));
        std::fs::write(&c, &o.rtl_output).expect("write rtl output");
        all.extend([a.clone(), b.clone(), c.clone()]);
        triples.push((name, a, b, c));
    }
    convert(&soffice, &all, &pdf_dir, &profile);
    let opens = |p: &Path| {
        pdf_dir.join(Path::new(p.file_name().expect("name")).with_extension("pdf")).is_file()
    };
    let mut opened_inputs = 0;
    let mut failures = Vec::new();
    for (name, a, b, c) in &triples {
        if !opens(a) {
            println!("libreoffice: input {name} does not open in LibreOffice itself (not checked)");
        } else {
            opened_inputs += 1;
            if !opens(b) || !opens(c) {
                failures.push(name.clone());
            }
        }
    }
    println!(
        "libreoffice: {opened_inputs}/{} inputs open; {} of them have an output (fr or ar) that does not",
        triples.len(),
        failures.len()
    );
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(failures.is_empty(), "outputs LibreOffice cannot open: {failures:?}");
    // A broken LibreOffice installation must not make this check pass vacuously.
    assert!(
        opened_inputs * 10 >= triples.len() * 9,
        "LibreOffice opened only {opened_inputs} of {} corpus inputs; is it working?",
        triples.len()
    );
}
