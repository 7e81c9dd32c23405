//! An exported TMX read by an independent parser: translate-toolkit's `translate.storage.tmx`
//! (PyPI), in the Python named by `TRADIA_PYTHON` (`.ci/run` makes the virtual environment).
//! Without it the test says it skipped, except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use tradia_core::Content;
use tradia_formats::exchange::tmx::{TmxEntry, TmxLimits, read_tmx, write_tmx};

fn python() -> Option<String> {
    match std::env::var("TRADIA_PYTHON") {
        Ok(p) if !p.trim().is_empty() => Some(p),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true but TRADIA_PYTHON is not set: translate-toolkit cannot check the TMX"
                );
            }
            eprintln!("skipped: TRADIA_PYTHON is not set (translate-toolkit TMX check)");
            None
        }
    }
}

const READ: &str = r#"
import json, sys
from translate.storage import tmx
store = tmx.tmxfile.parsefile(sys.argv[1])
out = []
for unit in store.units:
    langs = [n.get("{http://www.w3.org/XML/1998/namespace}lang") for n in unit.getlanguageNodes()]
    out.append({"source": unit.source, "target": unit.target, "langs": langs})
print(json.dumps(out))
"#;

#[test]
fn translate_toolkit_reads_the_same_entries() {
    let Some(python) = python() else { return };
    let entry = |s: &str, t: &str| TmxEntry {
        source_lang: "fr".parse().unwrap(),
        target_lang: "en".parse().unwrap(),
        source: Content::parse(s).unwrap(),
        target: Content::parse(t).unwrap(),
        creation_date: Some("20261202T120000Z".into()),
    };
    let entries = vec![
        entry("Bonjour tout le monde.", "Hello everyone."),
        entry(
            "Lisez le <g1>guide</g1> &amp; la <x2/> notice.",
            "Read the <g1>guide</g1> &amp; the <x2/> leaflet.",
        ),
        entry("Élève « cité » &lt;ici&gt;", "Pupil “quoted” &lt;here&gt;"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.tmx");
    std::fs::write(&path, write_tmx(&entries, "test")).unwrap();
    let output = Command::new(&python).arg("-c").arg(READ).arg(&path).output().expect("run python");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let units: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(units.len(), entries.len());
    for (unit, entry) in units.iter().zip(&entries) {
        // translate-toolkit gives the text of a segment without its inline elements.
        assert_eq!(unit["source"], entry.source.plain_text(), "{unit}");
        assert_eq!(unit["target"], entry.target.plain_text(), "{unit}");
        assert_eq!(unit["langs"], serde_json::json!(["fr", "en"]), "{unit}");
    }
    // And it reads back here as it was written.
    let back = read_tmx(&std::fs::read(&path).unwrap(), TmxLimits::default()).unwrap();
    assert_eq!(back.entries, entries);
}
