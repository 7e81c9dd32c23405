//! The `tradia` command line, run as a process: exit codes, refusals, outputs, JSON shapes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tradia(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradia"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run tradia")
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenari")
}

fn copy_example(dir: &Path, name: &str) -> PathBuf {
    let target = dir.join(name);
    std::fs::copy(examples().join(name), &target).expect("copy example");
    target
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn translates_examples_with_pseudo_and_reports_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path(), "cours-meteo.xml");
    copy_example(dir.path(), "qcm-meteo.quiz");
    let out = tradia(
        &["translate", "cours-meteo.xml", "qcm-meteo.quiz", "--to", "EN", "--engine", "pseudo"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("2 file(s) translated to en by pseudo, 0 failed"), "{stdout}");
    let translated = std::fs::read_to_string(dir.path().join("translated-en/cours-meteo.xml"))
        .expect("output written in the default folder");
    assert!(translated.contains("⟦"), "pseudo-translation visible");
    assert!(translated.contains("<sc:textLeaf role=\"mathtex\">\\pi r^2</sc:textLeaf>"));
    assert!(translated.contains("print(\"ne pas traduire\")"));
    // The input is untouched.
    let input = std::fs::read(dir.path().join("cours-meteo.xml")).unwrap();
    assert_eq!(input, std::fs::read(examples().join("cours-meteo.xml")).unwrap());
}

#[test]
fn identity_engine_gives_back_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path(), "cours-meteo.xml");
    let out = tradia(
        &["translate", "cours-meteo.xml", "--to", "en", "--engine", "identity", "-o", "out"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        std::fs::read(dir.path().join("out/cours-meteo.xml")).unwrap(),
        std::fs::read(dir.path().join("cours-meteo.xml")).unwrap()
    );
}

#[test]
fn json_summary_has_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path(), "pression.ref");
    let out = tradia(
        &["translate", "pression.ref", "--to", "ar", "--json", "--engine", "pseudo"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(json["files"], 1);
    assert_eq!(json["failed"], 0);
    assert_eq!(json["target"], "ar");
    assert!(json["segments"].as_u64().unwrap() >= 2);
    assert!(json["inline_codes"].as_u64().unwrap() >= 1);
    assert_eq!(json["kept_as_source"], 0);
    assert!(json["seconds"].is_number());
    assert_eq!(json["details"][0]["error"], serde_json::Value::Null);
}

#[test]
fn a_failing_file_does_not_stop_the_others_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path(), "pression.ref");
    std::fs::write(dir.path().join("broken.xml"), b"<sc:item><oops></sc:item>").unwrap();
    let out = tradia(
        &["translate", "broken.xml", "pression.ref", "--to", "en", "--engine", "pseudo"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("broken.xml"), "{err}");
    assert!(dir.path().join("translated-en/pression.ref").exists());
    assert!(!dir.path().join("translated-en/broken.xml").exists());
}

#[test]
fn unsupported_format_names_the_supported_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("image.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01")
        .unwrap();
    let out = tradia(&["translate", "image.png", "--to", "en", "--engine", "pseudo"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("unsupported format") && err.contains("Scenari"), "{err}");
}

#[test]
fn usage_errors_exit_2_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path(), "pression.ref");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::copy(examples().join("pression.ref"), dir.path().join("sub/pression.ref")).unwrap();

    let bad_lang = tradia(&["translate", "pression.ref", "--to", "english!"], dir.path());
    assert_eq!(bad_lang.status.code(), Some(2));
    assert!(stderr(&bad_lang).contains("not a language code"));

    let same = tradia(&["translate", "pression.ref", "--to", "fr", "--from", "FR"], dir.path());
    assert_eq!(same.status.code(), Some(2));

    let duplicate =
        tradia(&["translate", "pression.ref", "sub/pression.ref", "--to", "en"], dir.path());
    assert_eq!(duplicate.status.code(), Some(2));
    assert!(stderr(&duplicate).contains("two inputs are named pression.ref"));

    let overwrite =
        tradia(&["translate", "sub/pression.ref", "--to", "en", "-o", "sub"], dir.path());
    assert_eq!(overwrite.status.code(), Some(2));
    assert!(stderr(&overwrite).contains("would overwrite the input"));

    assert!(!dir.path().join("translated-en").exists(), "nothing ran");
    let missing = tradia(&["translate", "--to", "en"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn inspect_lists_segments_codes_and_kept_fields() {
    let out = tradia(&["inspect", "cours-meteo.xml"], &examples());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("<g1>vent</g1>"), "{text}");

    let out = tradia(&["inspect", "cours-meteo.xml", "--json"], &examples());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let segments = json["segments"].as_array().unwrap();
    assert!(segments.iter().any(|s| s["text"].as_str().unwrap().contains("<x1/>")));
    assert!(
        !segments.iter().any(|s| s["text"].as_str().unwrap().contains("ne pas traduire")),
        "code is never a segment"
    );
    assert!(json["kept"].as_array().is_some());
}

#[test]
fn help_is_available_on_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in [vec!["--help"], vec!["translate", "--help"], vec!["inspect", "--help"]] {
        let out = tradia(&cmd, dir.path());
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage"));
    }
}

/// A `tradia simulate-llm` process on a free port, killed on drop.
struct Simulator {
    child: std::process::Child,
    url: String,
}

impl Simulator {
    fn start() -> Simulator {
        Simulator::start_with(&["--time-scale", "200"])
    }

    fn with_args(extra: &[&str]) -> Simulator {
        let mut args = vec!["--time-scale", "200"];
        args.extend_from_slice(extra);
        Simulator::start_with(&args)
    }

    fn start_with(extra: &[&str]) -> Simulator {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_tradia"))
            .args(["simulate-llm", "--port", "0"])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the simulator");
        let stdout = child.stdout.take().expect("simulator stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).expect("simulator prints its address");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Simulator { child, url }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Simulator {
    /// Its `/sim/stats` counters (a plain HTTP/1.0 GET: the tests need no HTTP client).
    fn stats(&self) -> serde_json::Value {
        use std::io::{Read, Write};
        let address = self.url.trim_start_matches("http://").trim_end_matches('/');
        let mut stream = std::net::TcpStream::connect(address).expect("connect to the simulator");
        write!(stream, "GET /sim/stats HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response.split_once("\r\n\r\n").expect("an HTTP answer").1;
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
    }
}

/// Two one-paragraph files (one request each) sent through `sim` with `extra` flags.
fn two_small_files(sim: &Simulator, extra: &[&str]) -> (Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = translate_two(sim, dir.path(), extra);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    for name in ["a.txt", "b.txt"] {
        let translated = std::fs::read_to_string(dir.path().join("translated-en").join(name));
        assert!(translated.unwrap().contains('⟦'), "{name} translated");
    }
    (out, sim.stats())
}

#[test]
fn several_files_are_sent_to_the_llm_at_once() {
    let sim = Simulator::start_with(&["--time-scale", "20"]);
    let (out, stats) = two_small_files(&sim, &[]);
    assert_eq!(stats["requests"], 2, "one request per file: {stats}");
    assert_eq!(
        stats["max_in_flight"], 2,
        "both files' requests were in the server at once: {stats}"
    );
    // Without a terminal, each file says when it starts and ends, on stderr.
    let err = stderr(&out);
    for name in ["a.txt", "b.txt"] {
        assert!(err.contains(&format!("progress: {name}: started (1 segments)")), "{err}");
        assert!(err.contains(&format!("progress: {name}: done, 0 kept as source")), "{err}");
    }

    let sim = Simulator::start_with(&["--time-scale", "20"]);
    let (_, stats) = two_small_files(&sim, &["--parallel-files", "1"]);
    assert_eq!(stats["requests"], 2, "{stats}");
    assert_eq!(stats["max_in_flight"], 1, "one file after the other: {stats}");
}

/// Two one-paragraph files in `dir`, translated through `sim` with `extra` flags.
fn translate_two(sim: &Simulator, dir: &Path, extra: &[&str]) -> Output {
    std::fs::write(dir.join("a.txt"), "Le vent souffle fort sur la côte ce matin.\n").unwrap();
    std::fs::write(dir.join("b.txt"), "La pluie arrive par l'ouest dans la soirée.\n").unwrap();
    let mut args = vec!["translate", "a.txt", "b.txt", "--to", "en", "--from", "fr"];
    args.extend(["--ollama-base-url", &sim.url]);
    args.extend(extra);
    tradia(&args, dir)
}

#[test]
fn a_run_that_kept_every_segment_exits_3_and_says_why() {
    // The model answers every segment with its source: every segment is kept, for one reason.
    let sim = Simulator::start_with(&["--time-scale", "200", "--faults", "echo=1"]);
    let dir = tempfile::tempdir().unwrap();
    let out = translate_two(&sim, dir.path(), &["--json"]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("error: every request failed for the same reason"), "{err}");
    assert!(err.contains("copy_of_source"), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(json["warning"]["code"], "same_failure");
    assert_eq!(json["kept_as_source"], 2);
    assert_eq!(json["failed"], 0, "the files were written");
    assert!(dir.path().join("translated-en/a.txt").exists());

    // A share of 100 % allows any number of kept segments, not one reason for all of them.
    let out = translate_two(&sim, dir.path(), &["--max-kept-percent", "100"]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));

    // A server that refuses the key: every file fails for that reason, and the run says so.
    let locked = Simulator::start_with(&["--time-scale", "200", "--api-key", "s3cret-key"]);
    let out = translate_two(&locked, dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("every request failed for the same reason: all 2 files"), "{err}");
}

#[test]
fn a_run_with_few_kept_segments_succeeds_and_the_limit_is_a_flag() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path(), "cours-meteo.xml");
    let sim = Simulator::start_with(&["--time-scale", "200"]);
    let args = ["translate", "cours-meteo.xml", "--to", "en", "--from", "fr", "--json"];
    let out = tradia(&[&args[..], &["--ollama-base-url", &sim.url]].concat(), dir.path());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(json["warning"], serde_json::Value::Null);
    let bad = tradia(&[&args[..], &["--max-kept-percent", "101"]].concat(), dir.path());
    assert_eq!(bad.status.code(), Some(2), "stderr: {}", stderr(&bad));
    assert!(stderr(&bad).contains("--max-kept-percent"), "{}", stderr(&bad));
}

#[test]
fn translates_through_an_ollama_server_by_default() {
    let sim = Simulator::start();
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path(), "cours-meteo.xml");
    copy_example(dir.path(), "qcm-meteo.quiz");
    let out = tradia(
        &[
            "translate",
            "cours-meteo.xml",
            "qcm-meteo.quiz",
            "--to",
            "en",
            "--from",
            "fr",
            "--json",
            "--ollama-base-url",
            &sim.url,
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(json["engine"], "ollama");
    assert_eq!(json["kept_as_source"], 0);
    assert!(json["llm"]["requests"].as_u64().unwrap() >= 1);
    assert!(json["llm"]["output_tokens"].as_u64().unwrap() > 0);
    let translated =
        std::fs::read_to_string(dir.path().join("translated-en/cours-meteo.xml")).unwrap();
    assert!(translated.contains("<sc:inlineStyle role=\"emp\">⟦"), "{translated}");
    assert!(translated.contains("print(\"ne pas traduire\")"));

    let models = tradia(&["models", "--ollama-base-url", &sim.url], dir.path());
    assert_eq!(models.status.code(), Some(0), "stderr: {}", stderr(&models));
    assert!(String::from_utf8_lossy(&models.stdout).contains("mistral-small3.2:latest"));
    let check = tradia(&["check", "--ollama-base-url", &sim.url], dir.path());
    assert_eq!(check.status.code(), Some(0), "stderr: {}", stderr(&check));
    let missing = tradia(
        &["check", "--ollama-base-url", &sim.url, "--ollama-model", "llama-absent:7b"],
        dir.path(),
    );
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn an_unreachable_llm_server_fails_each_file_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path(), "pression.ref");
    copy_example(dir.path(), "qcm-meteo.quiz");
    // Port 9 (discard) is closed on test machines: connections are refused at once.
    let out = tradia(
        &[
            "translate",
            "pression.ref",
            "qcm-meteo.quiz",
            "--to",
            "en",
            "--ollama-base-url",
            "http://127.0.0.1:9",
            "--ollama-timeout",
            "2",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("pression.ref") && err.contains("qcm-meteo.quiz"), "{err}");
    assert!(err.contains("no LLM backend is available"), "{err}");
    assert!(!dir.path().join("translated-en/pression.ref").exists());

    let check = tradia(&["check", "--ollama-base-url", "http://127.0.0.1:9"], dir.path());
    assert_eq!(check.status.code(), Some(1));
}

/// A text long enough for language detection to be sure it is English.
const ENGLISH: &str = "The weather service publishes a forecast every morning. It describes the \
wind, the clouds and the chance of rain for the next three days, and it explains how the \
pressure changes over the region.\n";

#[test]
fn detects_each_files_source_language_and_copies_a_file_already_in_the_target() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path(), "cours-meteo.xml");
    std::fs::write(dir.path().join("notes.txt"), ENGLISH).unwrap();
    let out = tradia(
        &[
            "translate",
            "cours-meteo.xml",
            "notes.txt",
            "--to",
            "en",
            "--engine",
            "pseudo",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("cours-meteo.xml: source language detected: fr"), "{err}");
    assert!(err.contains("notes.txt: source language detected: en"), "{err}");
    assert!(
        err.contains("warning: notes.txt: already in en (detected); copied unchanged"),
        "{err}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(json["failed"], 0);
    assert_eq!(json["copied_unchanged"], 1);
    assert_eq!(json["details"][0]["detected_source_lang"], "fr");
    assert_eq!(json["details"][0]["copied_unchanged"], false);
    assert_eq!(json["details"][1]["detected_source_lang"], "en");
    assert_eq!(json["details"][1]["copied_unchanged"], true);
    let translated =
        std::fs::read_to_string(dir.path().join("translated-en/cours-meteo.xml")).unwrap();
    assert!(translated.contains("⟦"), "the French file is translated");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("translated-en/notes.txt")).unwrap(),
        ENGLISH,
        "the English file is copied as it is"
    );

    // The summary line counts the copied file apart.
    let again = tradia(
        &["translate", "cours-meteo.xml", "notes.txt", "--to", "en", "--engine", "pseudo"],
        dir.path(),
    );
    assert_eq!(again.status.code(), Some(0), "stderr: {}", stderr(&again));
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        stdout.contains(
            "1 file(s) translated to en by pseudo, 1 copied unchanged (already in en), 0 failed"
        ),
        "{stdout}"
    );
}

#[test]
fn a_given_source_language_is_not_detected_and_is_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), ENGLISH).unwrap();
    let out = tradia(
        &["translate", "notes.txt", "--from", "fr", "--to", "en", "--engine", "pseudo", "--json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(!stderr(&out).contains("detected"), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(json["details"][0]["detected_source_lang"], serde_json::Value::Null);
    assert_eq!(json["details"][0]["copied_unchanged"], false);
    assert_eq!(json["copied_unchanged"], 0);
    let translated = std::fs::read_to_string(dir.path().join("translated-en/notes.txt")).unwrap();
    assert!(translated.contains("⟦"), "translated as asked: {translated}");
}

#[test]
fn unknown_language_codes_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path(), "pression.ref");
    let to = tradia(&["translate", "pression.ref", "--to", "xx", "--engine", "pseudo"], dir.path());
    assert_eq!(to.status.code(), Some(2));
    let err = stderr(&to);
    assert!(
        err.contains("--to") && err.contains("`xx` is not a language code Tradia knows"),
        "{err}"
    );

    let from = tradia(
        &["translate", "pression.ref", "--from", "zz", "--to", "en", "--engine", "pseudo"],
        dir.path(),
    );
    assert_eq!(from.status.code(), Some(2));
    let err = stderr(&from);
    assert!(
        err.contains("--from") && err.contains("`zz` is not a language code Tradia knows"),
        "{err}"
    );

    // Known codes in any case and with a region pass the same rule.
    let ok =
        tradia(&["translate", "pression.ref", "--to", "PT-br", "--engine", "identity"], dir.path());
    assert_eq!(ok.status.code(), Some(0), "stderr: {}", stderr(&ok));
    assert!(!dir.path().join("translated-xx").exists(), "nothing ran for a refused code");
}

#[test]
fn a_failing_file_is_named_once_and_an_empty_one_is_said_to_be_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pic.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01").unwrap();
    std::fs::write(dir.path().join("empty.docx"), b"").unwrap();
    let out = tradia(
        &["translate", "pic.png", "empty.docx", "--to", "en", "--engine", "pseudo"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error: pic.png: unsupported format"), "{err}");
    assert!(!err.contains("pic.png: pic.png"), "{err}");
    assert!(err.contains("error: empty.docx: the file is empty (0 bytes)"), "{err}");
    let out = tradia(&["inspect", "empty.docx"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("the file is empty"), "{}", stderr(&out));
}

#[test]
fn inspect_into_a_closed_pipe_ends_quietly_with_success() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let text: String =
        (0..6000).map(|i| format!("Paragraph number {i} of a long file.\n\n")).collect();
    std::fs::write(dir.path().join("long.txt"), text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tradia"))
        .args(["inspect", "long.txt"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0u8; 64];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout); // like `head -c 64`: the reader goes away with most of the output unread
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(stderr(&out).is_empty(), "no panic, no message: {}", stderr(&out));
    assert!(String::from_utf8_lossy(&head).starts_with("long.txt (plain text)"));
}

#[test]
fn csv_options_choose_the_header_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), "label,note\nHello world,Internal note\n").unwrap();
    let out = tradia(&["inspect", "t.csv", "--json"], dir.path());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let texts: Vec<&str> =
        json["segments"].as_array().unwrap().iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Hello world", "Internal note"]);
    let out = tradia(
        &["inspect", "t.csv", "--json", "--csv-translate-header", "--csv-columns", "label"],
        dir.path(),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let texts: Vec<&str> =
        json["segments"].as_array().unwrap().iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["label", "Hello world"]);
}

/// `--report` writes the service's report shape; with faults injected it lists every segment the
/// run kept (the summary's count), each with its reason, source and location.
#[test]
fn the_report_file_lists_every_kept_segment_of_a_faulty_run() {
    let sim = Simulator::with_args(&["--faults", "echo=1", "--seed", "5"]);
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path(), "cours-meteo.xml");
    let args = [
        "translate",
        "cours-meteo.xml",
        "--to",
        "en",
        "--from",
        "fr",
        "--json",
        "--report",
        "report.json",
        "--ollama-base-url",
        &sim.url,
        "--ollama-model",
        "sim-model",
    ];
    let out = tradia(&args, dir.path());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let kept = summary["kept_as_source"].as_u64().unwrap();
    assert!(kept > 0, "the faults must bite: {summary}");
    assert_eq!(report["counts"]["kept"], kept, "{report}");
    assert_eq!(report["segments"], summary["segments"]);
    let file = &report["files"][0];
    assert_eq!(file["name"], "cours-meteo.xml");
    let listed: Vec<&serde_json::Value> =
        file["flagged"].as_array().unwrap().iter().filter(|s| !s["kept"].is_null()).collect();
    assert_eq!(listed.len() as u64, kept);
    for s in listed {
        assert!(!s["kept"]["code"].as_str().unwrap().is_empty(), "{s}");
        assert!(!s["location"].as_str().unwrap().is_empty(), "{s}");
        assert_eq!(s["source"], s["target"], "a kept segment's output is its source: {s}");
    }
    // Translated segments name their model (those without letters were never sent to one).
    let translated = report["segments"].as_u64().unwrap() - kept;
    let by_model = report["models"]["sim-model"].as_u64().unwrap_or(0);
    assert!(by_model > 0 && by_model <= translated, "{report}");

    // The report may not overwrite an input.
    let refused = tradia(
        &[
            "translate",
            "cours-meteo.xml",
            "--to",
            "en",
            "--engine",
            "pseudo",
            "--report",
            "cours-meteo.xml",
        ],
        dir.path(),
    );
    assert_eq!(refused.status.code(), Some(2), "stderr: {}", stderr(&refused));
}

/// A cloze quiz: its answer, options and synonym are segments by default, translated in one
/// request; with the simulator breaking equal terms apart (`term_drift`) the group keeps its
/// source and the report counts it `quiz_kept`; `--keep-quiz-answers` keeps the gap whole.
#[test]
fn quiz_terms_are_translated_together_kept_when_they_disagree_or_on_request() {
    let quiz = r#"<?xml version="1.0" encoding="UTF-8"?>
<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core"><op:cloze xmlns:op="utc.fr:ics/opale3" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive"><sc:gapText><op:clozeTxt><sc:para xml:space="preserve">Le <sc:textLeaf role="gap"><op:gapM><sp:options><sp:option>respect des règles</sp:option><sp:option>mépris des autres</sp:option><sp:option>X</sp:option></sp:options><sp:synonyms><sp:synonym>respect des consignes</sp:synonym></sp:synonyms></op:gapM>respect des règles</sc:textLeaf> fait gagner l'équipe.</sc:para><sc:para>Chaque joueur écoute l'arbitre.</sc:para><sc:para>Les remplaçants attendent sur le banc.</sc:para><sc:para>Le capitaine parle au nom de l'équipe.</sc:para><sc:para>Le match dure deux mi-temps.</sc:para><sc:para>Le public encourage les deux équipes.</sc:para></op:clozeTxt></sc:gapText></op:cloze></sc:item>"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cloze.quiz"), quiz).unwrap();
    let texts = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["inspect", "cloze.quiz", "--json"];
        args.extend_from_slice(extra);
        let out = tradia(&args, dir.path());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let segments = json["segments"].as_array().unwrap();
        segments.iter().map(|s| s["text"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(
        texts(&[])[..5],
        [
            "Le <x1/> fait gagner l'équipe.",
            "<x1/>respect des règles",
            "respect des règles",
            "mépris des autres",
            "respect des consignes"
        ]
    );
    let kept = texts(&["--keep-quiz-answers"]);
    assert_eq!((kept.len(), kept[0].as_str()), (6, "Le <x1/> fait gagner l'équipe."));

    let sim = Simulator::with_args(&["--mode", "contextual", "--faults", "term_drift=1"]);
    let args = [
        "translate",
        "cloze.quiz",
        "--to",
        "en",
        "--from",
        "fr",
        "--report",
        "report.json",
        "--ollama-base-url",
        &sim.url,
        "--ollama-model",
        "sim-model",
    ];
    let out = tradia(&args, dir.path());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["counts"]["quiz_kept"], 4, "{report}");
    let output = std::fs::read_to_string(dir.path().join("translated-en/cloze.quiz")).unwrap();
    assert!(output.contains("<sp:option>respect des règles</sp:option>"), "{output}");
    assert!(output.contains("</op:gapM>respect des règles</sc:textLeaf>"), "{output}");
    assert!(output.contains("⟦Lé"), "the sentence is translated: {output}");
}
