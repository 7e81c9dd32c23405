//! `tradia translate --memory` against the simulator: a file translated twice asks the model
//! nothing the second time and gives the same bytes; and (ignored, run by hand) the
//! re-translation benchmark of a 1,000-segment document with 10 % of its segments edited.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

fn tradia(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradia"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("TRADIA_DATA_DIR")
        .output()
        .expect("run tradia")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A `tradia simulate-llm` process on a free port, killed on drop.
struct Simulator {
    child: std::process::Child,
    url: String,
}

impl Simulator {
    fn start(extra: &[&str]) -> Simulator {
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

    /// Its `/sim/stats` counters (a plain HTTP/1.0 GET).
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

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tradia translate FILE --memory` through `sim` into `out`, with the store under `data`.
fn translate_with_memory(sim: &Simulator, dir: &Path, file: &str, out: &str) -> serde_json::Value {
    let args = [
        "translate",
        file,
        "--to",
        "en",
        "--from",
        "fr",
        "--json",
        "--memory",
        "--data-dir",
        "data",
        "-o",
        out,
        "--ollama-base-url",
        &sim.url,
    ];
    let run = tradia(&args, dir);
    assert_eq!(run.status.code(), Some(0), "stderr: {}", stderr(&run));
    serde_json::from_slice(&run.stdout).expect("JSON summary")
}

fn sum_counts(stats: &serde_json::Value, key: &str) -> u64 {
    stats[key].as_object().map_or(0, |m| m.values().filter_map(|v| v.as_u64()).sum())
}

#[test]
fn a_file_translated_twice_with_the_memory_asks_the_model_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenari");
    std::fs::copy(example.join("cours-meteo.xml"), dir.path().join("cours-meteo.xml")).unwrap();
    let sim = Simulator::start(&["--time-scale", "200"]);

    let first = translate_with_memory(&sim, dir.path(), "cours-meteo.xml", "out1");
    let after_first = sim.stats();
    let asked = sum_counts(&after_first, "segments");
    assert!(after_first["requests"].as_u64().unwrap() > 0, "{after_first}");
    assert!(asked > 0, "the first run sent its segments: {after_first}");
    assert_eq!(first["memory"]["exact"], 0, "{first}");
    assert!(first["memory"]["recorded"].as_u64().unwrap() > 0, "{first}");

    let second = translate_with_memory(&sim, dir.path(), "cours-meteo.xml", "out2");
    let after_second = sim.stats();
    assert_eq!(after_second["requests"], after_first["requests"], "no request: {after_second}");
    assert_eq!(sum_counts(&after_second, "segments"), asked, "no segment sent: {after_second}");
    assert_eq!(second["llm"]["requests"], 0, "{second}");
    assert_eq!(second["memory"]["exact"], first["memory"]["recorded"], "{second}");
    assert_eq!(second["kept_as_source"], 0, "{second}");
    assert_eq!(
        std::fs::read(dir.path().join("out2/cours-meteo.xml")).unwrap(),
        std::fs::read(dir.path().join("out1/cours-meteo.xml")).unwrap(),
        "the second run's output is byte-identical"
    );
    // Without --memory the same file goes to the model again.
    let args = ["translate", "cours-meteo.xml", "--to", "en", "--from", "fr", "-o", "out3"];
    let run = tradia(&[&args[..], &["--ollama-base-url", &sim.url]].concat(), dir.path());
    assert_eq!(run.status.code(), Some(0), "stderr: {}", stderr(&run));
    assert!(sim.stats()["requests"].as_u64() > after_second["requests"].as_u64());
}
