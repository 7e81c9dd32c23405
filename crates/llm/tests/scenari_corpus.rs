//! Every Scenari file of the real corpus (`$TRADIA_CORPUS/scenari`, never copied into the
//! repository) translated through the simulator: with every fault kind enabled
//! (`--faults all=0.015`) and without faults.
//!
//! Checked here, independently of the engine's own validator: every output is well-formed XML
//! with the same element/attribute structure as its input (archives: the same entries in the same
//! order, XML entries compared likewise, others byte for byte); the inline codes of every merged
//! segment are those of its source (a multiset comparison of the rendered tags); every kept
//! segment was reported; at most 1 % of segments are kept with faults, none without.
//!
//! Without `TRADIA_CORPUS` the test prints that it skipped, except with `CI=true` where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use tradia_core::{
    CancelFlag, Content, Engine, LanguageTag, Priority, ResultSink, SegmentResult, TranslateRequest,
};
use tradia_formats::{ExtractOptions, Format, MergeOptions, extract};
use tradia_llm::{LlmEngine, LlmSettings};
use tradia_llm_sim::{FaultSpec, SimConfig, start};

fn corpus_files() -> Option<Vec<PathBuf>> {
    let Ok(root) = std::env::var("TRADIA_CORPUS") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but TRADIA_CORPUS is not set: the Scenari corpus test cannot run");
        }
        println!("skipped: TRADIA_CORPUS is not set");
        return None;
    };
    let dir = Path::new(&root).join("scenari");
    assert!(dir.is_dir(), "{} is not a directory", dir.display());
    let mut files = Vec::new();
    collect(&dir, &mut files);
    files.retain(|f| f.file_name().is_some_and(|n| n != "SOURCES.md"));
    files.sort();
    assert!(!files.is_empty(), "no Scenari file under {}", dir.display());
    Some(files)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Inline code tags of a rendering, as a multiset.
fn code_multiset(rendered: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let b = rendered.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' {
            let mut j = i + 1;
            if j < b.len() && b[j] == b'/' {
                j += 1;
            }
            if j < b.len() && (b[j] == b'g' || b[j] == b'x') {
                let mut k = j + 1;
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
                if k < b.len() && b[k] == b'/' {
                    k += 1;
                }
                if k > j + 1 && k < b.len() && b[k] == b'>' {
                    *out.entry(rendered[i..=k].to_string()).or_insert(0) += 1;
                    i = k + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

/// Element structure of an XML document: each element's depth, expanded name and sorted
/// attribute names, plus comments and processing instructions, in document order.
fn structure(bytes: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let opts = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for node in doc.descendants() {
        let depth = node.ancestors().count();
        if node.is_element() {
            let mut attrs: Vec<String> = node
                .attributes()
                .map(|a| format!("{}:{}", a.namespace().unwrap_or(""), a.name()))
                .collect();
            attrs.sort();
            out.push(format!(
                "{depth} <{}:{}> {}",
                node.tag_name().namespace().unwrap_or(""),
                node.tag_name().name(),
                attrs.join(" ")
            ));
        } else if node.is_comment() {
            out.push(format!("{depth} comment"));
        } else if node.is_pi() {
            out.push(format!("{depth} pi"));
        }
    }
    Ok(out)
}

fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            (f.name().unwrap().to_string(), data)
        })
        .collect()
}

fn check_same_structure(label: &str, input: &[u8], output: &[u8]) {
    match structure(input) {
        Ok(before) => {
            let after = structure(output)
                .unwrap_or_else(|e| panic!("{label}: output is not well-formed: {e}"));
            assert_eq!(before, after, "{label}: element/attribute structure changed");
        }
        // Not XML in the input (binary, text): must come back unchanged.
        Err(_) => assert!(input == output, "{label}: a non-XML entry changed"),
    }
}

#[derive(Default)]
struct Collect(Mutex<Vec<SegmentResult>>);
impl ResultSink for Collect {
    fn segment_done(&self, r: &SegmentResult) {
        self.0.lock().unwrap().push(r.clone());
    }
}

async fn translate_corpus(files: &[PathBuf], faults: &str) -> (usize, usize) {
    let handle = start(SimConfig {
        port: 0,
        time_scale: 1000.0,
        faults: FaultSpec::parse(faults).unwrap(),
        seed: 3,
        hang_real_s: 30.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut settings = LlmSettings::for_ollama(&handle.base_url(), "mistral-small3.2:latest");
    settings.timeout = Duration::from_secs(2);
    settings.retry_base_delay = Duration::from_millis(20);
    settings.max_retries = 4;
    let engine = LlmEngine::new(settings).unwrap();
    let (mut total, mut kept) = (0usize, 0usize);
    for path in files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc = extract(&name, &bytes, &ExtractOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let sink = Collect::default();
        let request = TranslateRequest {
            source: Some(LanguageTag::parse("fr").unwrap()),
            target: LanguageTag::parse("en").unwrap(),
            segments: &doc.segments,
            pending: doc.segments.iter().map(|s| s.id).collect(),
            priority: Priority::Document,
            owner: name.clone(),
            cancel: CancelFlag::new(),
            sink: &sink,
            // The document's quiz groups, as the command line and the service pass them.
            guidance: std::sync::Arc::new(tradia_core::Guidance {
                quiz: doc.quiz.clone(),
                ..Default::default()
            }),
        };
        let results =
            engine.translate(request).await.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(results.len(), doc.segments.len(), "{name}");
        let reported = sink.0.into_inner().unwrap();
        for (seg, r) in doc.segments.iter().zip(&results) {
            assert_eq!(r.id, seg.id);
            assert_eq!(
                code_multiset(&r.content.render()),
                code_multiset(&seg.content.render()),
                "{name} segment {}: {} → {}",
                seg.id,
                seg.content.render(),
                r.content.render()
            );
            if r.kept.is_some() {
                kept += 1;
                assert_eq!(r.content, seg.content, "{name}: a kept segment is its source");
                assert!(
                    reported.iter().any(|x| x == r),
                    "{name}: kept segment {} not reported",
                    r.id
                );
            }
        }
        assert_eq!(reported.len(), results.len(), "{name}: every segment reported once");
        total += results.len();
        let contents: Vec<Content> = results.into_iter().map(|r| r.content).collect();
        let out = doc
            .merge(&contents, &MergeOptions { target: LanguageTag::parse("en").unwrap() })
            .unwrap_or_else(|e| panic!("{name}: merge: {e}"));
        if doc.format == Format::ScenariArchive {
            let before = entries(&bytes);
            let after = entries(&out);
            let names = |v: &[(String, Vec<u8>)]| v.iter().map(|e| e.0.clone()).collect::<Vec<_>>();
            assert_eq!(names(&before), names(&after), "{name}: entry names/order");
            for ((entry, input), (_, output)) in before.iter().zip(&after) {
                check_same_structure(&format!("{name}!{entry}"), input, output);
            }
        } else {
            check_same_structure(&name, &bytes, &out);
        }
    }
    let stats = handle.stats();
    println!(
        "faults {faults:?}: {} files, {total} segments, {kept} kept, {} requests, {} retries, faults injected {:?}",
        files.len(),
        engine.stats().requests,
        engine.stats().retries,
        stats.faults
    );
    (total, kept)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenari_corpus_through_the_simulator() {
    let Some(files) = corpus_files() else { return };
    let (total, kept) = translate_corpus(&files, "").await;
    assert_eq!(kept, 0, "no segment may be kept without faults");
    let (total_f, kept_f) = translate_corpus(&files, "all=0.015").await;
    assert_eq!(total, total_f);
    assert!(kept_f * 100 <= total_f, "{kept_f} of {total_f} segments kept as source");
    println!("checked {} files", files.len());
}
