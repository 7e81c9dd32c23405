//! Throughput and peak memory of the Scenari filter on a large generated item, beside a bare
//! quick-xml event pass over the same bytes, measured in the same run.
//!
//! `cargo bench -p tradia-formats --bench scenari_throughput`
//!
//! The parent process generates nothing itself: it runs each phase in a child process (this
//! same binary with `--phase NAME`), so that each phase's peak resident memory is its own. A
//! child generates the item (≥ 50 MB of one-line Opale-style XML with realistic inline markup),
//! resets its peak-RSS counter (`/proc/self/clear_refs`), runs the phase three times and prints
//! the best time and its peak RSS (`VmHWM`), which includes the input held in memory.
//!
//! Phases: `bare` (quick-xml `read_event` loop), `bare_checked` (the same plus UTF-8
//! validation of the bytes and reading each tag's attributes, printed for reference only),
//! `strict` (the strict reader every XML filter tokenizes with, alone; for reference),
//! `extract` (the filter's extraction) and
//! `merge` (merging pseudo-translations into the extracted document; the translations are
//! prepared before timing). Extract + merge throughput is the input size over the sum of both
//! times; the goal is at least 40 % of the bare pass's MB/s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag};
use tradia_formats::{ExtractOptions, Format, Limits, MergeOptions, extract_as};

/// The allocator of the `tradia` binary, so that the figures are those of the product.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TARGET_BYTES: usize = 50 * 1024 * 1024 + 1;
const RUNS: usize = 3;

fn generate() -> String {
    let mut s = String::with_capacity(TARGET_BYTES + 4096);
    s.push_str(r#"<?xml version="1.0"?><sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3"><op:expUc><op:expUcM><sp:title>Météorologie générale</sp:title></op:expUcM>"#);
    let mut i = 0u64;
    while s.len() < TARGET_BYTES {
        i += 1;
        s.push_str(&format!(
            concat!(
                r#"<sp:pb><op:pb><op:block><op:blockM><sp:title>Partie {i} : les nuages et la pluie</sp:title></op:blockM><sp:txt><op:txt>"#,
                r#"<sc:para xml:space="preserve">Les <sc:inlineStyle role="emp">cumulonimbus</sc:inlineStyle> se forment quand l'air chaud et humide monte rapidement ; voir le <sc:uLink role="glos" sc:refUri="/glossaire/cisaillement_{i}.ref">cisaillement du vent</sc:uLink> et la note {i}.</sc:para>"#,
                r#"<sc:para xml:space="preserve">Consultez le <sc:phrase role="url"><op:urlM xml:space="default"><sp:url>https://example.org/meteo/{i}</sp:url><sp:title>Guide officiel {i}</sp:title></op:urlM>guide en ligne</sc:phrase> avant le vol. La surface vaut <sc:textLeaf role="mathtex">\pi r^2</sc:textLeaf>, soit environ 3 m<sc:textLeaf role="exp">2</sc:textLeaf> &amp; plus.</sc:para>"#,
                r#"<sc:itemizedList><sc:listItem><sc:para xml:space="preserve">Le mot <sc:inlineStyle role="spec"><op:txtM><sp:lang><op:langM><sp:code>de</sp:code></op:langM></sp:lang></op:txtM>Zeitgeist</sc:inlineStyle> n'a pas d'équivalent exact.</sc:para></sc:listItem>"#,
                r#"<sc:listItem><sc:para xml:space="preserve">Cliquez <sc:uLink role="resLnk" sc:refUri="/img/save.png"><sc:inlineImg role="ico" sc:refUri="/img/save.png"/></sc:uLink> puis <sc:inlineStyle role="emp">validez <sc:inlineStyle role="spec">OK</sc:inlineStyle></sc:inlineStyle>.</sc:para></sc:listItem></sc:itemizedList>"#,
                r#"<sc:table role=""><sc:column width="50"/><sc:row><sc:cell><sc:para xml:space="preserve">Altitude de vol {i}</sc:para></sc:cell><sc:cell><sc:para xml:space="preserve">Écrivez &lt;TITRE&gt; puis la valeur.</sc:para></sc:cell></sc:row></sc:table>"#,
                r#"</op:txt></sp:txt></op:block></op:pb></sp:pb>"#
            ),
            i = i
        ));
    }
    s.push_str("</op:expUc></sc:item>");
    s
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn reset_peak_rss() {
    // Linux: writing 5 resets VmHWM to the current RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Best of [`RUNS`] timings of `f`; what `f` returns is dropped after the clock stops.
fn best<T, F: FnMut() -> T>(mut f: F, check: impl Fn(&T) -> u64) -> (Duration, u64) {
    let mut best = Duration::MAX;
    let mut value = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let result = std::hint::black_box(f());
        best = best.min(start.elapsed());
        value = check(&result);
        drop(result);
    }
    (best, value)
}

fn options() -> ExtractOptions {
    ExtractOptions {
        limits: Limits { max_entry_bytes: 1 << 30, max_total_bytes: 1 << 31, ..Limits::default() },
        ..ExtractOptions::default()
    }
}

fn merge_options() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("en").expect("tag") }
}

fn bare_pass(text: &str) -> u64 {
    let mut reader = quick_xml::Reader::from_str(text);
    let config = reader.config_mut();
    config.trim_markup_names_in_closing_tags = false;
    config.check_end_names = false;
    let mut events = 0u64;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => events += 1,
            Err(e) => panic!("bare pass: {e}"),
        }
    }
    events
}

/// The bare pass plus the minimum any checking consumer of untrusted bytes does and the bare
/// pass skips: UTF-8 validation of the input bytes and reading every start tag's attributes
/// (quick-xml's own syntax and duplicate checks). Reported beside the bare pass, for reference.
fn bare_checked_pass(bytes: &[u8]) -> u64 {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    let mut reader = quick_xml::Reader::from_str(text);
    let config = reader.config_mut();
    config.trim_markup_names_in_closing_tags = false;
    config.check_end_names = false;
    let mut events = 0u64;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                for attribute in e.attributes() {
                    let attribute = attribute.expect("attribute");
                    events += attribute.value.len() as u64 & 1;
                }
                events += 1;
            }
            Ok(_) => events += 1,
            Err(e) => panic!("bare pass: {e}"),
        }
    }
    events
}

fn child(phase: &str) {
    let text = generate();
    let bytes = text.as_bytes();
    let (elapsed, check) = match phase {
        "bare" => {
            reset_peak_rss();
            best(|| bare_pass(&text), |n| *n)
        }
        "bare_checked" => {
            reset_peak_rss();
            best(|| bare_checked_pass(bytes), |n| *n)
        }
        "strict" => {
            reset_peak_rss();
            best(|| tradia_formats::bench::strict_pass(bytes).expect("well-formed"), |n| *n)
        }
        "extract" => {
            reset_peak_rss();
            best(
                || extract_as(Format::Scenari, "big.xml", bytes, &options()).expect("extract"),
                |doc| doc.segments.len() as u64,
            )
        }
        "merge" => {
            let doc = extract_as(Format::Scenari, "big.xml", bytes, &options()).expect("extract");
            let pseudo: Vec<Content> =
                doc.segments.iter().map(|s| pseudo_content(&s.content)).collect();
            reset_peak_rss();
            best(|| doc.merge(&pseudo, &merge_options()).expect("merge"), |out| out.len() as u64)
        }
        other => panic!("unknown phase {other}"),
    };
    let mb = bytes.len() as f64 / 1e6;
    println!(
        "RESULT {phase} bytes={} secs={:.4} mbps={:.1} peak_kib={} check={check}",
        bytes.len(),
        elapsed.as_secs_f64(),
        mb / elapsed.as_secs_f64(),
        peak_rss_kib().unwrap_or(0)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--phase") {
        child(&args[pos + 1]);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    let mut rows = Vec::new();
    for phase in ["bare", "extract", "merge", "bare_checked", "strict"] {
        let out = Command::new(&exe).args(["--phase", phase]).output().expect("child runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find(|l| l.starts_with("RESULT "))
            .unwrap_or_else(|| {
                panic!("phase {phase} failed: {}", String::from_utf8_lossy(&out.stderr))
            })
            .to_string();
        println!("{line}");
        let field = |name: &str| -> f64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        rows.push((phase, field("mbps"), field("peak_kib"), field("bytes")));
    }
    println!("\nscenari_throughput: input {:.1} MB (one generated Opale item)", rows[0].3 / 1e6);
    println!("{:<10} {:>10} {:>16}", "phase", "MB/s", "peak RSS (MiB)");
    for (phase, mbps, peak, _) in &rows {
        println!("{phase:<10} {mbps:>10.1} {:>16.1}", peak / 1024.0);
    }
    let bare = rows[0].1;
    // Extract then merge the same bytes: the times add up.
    let combined = 1.0 / (1.0 / rows[1].1 + 1.0 / rows[2].1);
    println!(
        "extract + merge: {combined:.1} MB/s = {:.1} % of the bare quick-xml pass (goal ≥ 40 %)",
        100.0 * combined / bare
    );
    println!(
        "  (for reference: {:.1} % of a bare pass that also validates UTF-8 and reads attributes)",
        100.0 * combined / rows[3].1
    );
    println!(
        "  (the strict reader alone, without filter work, runs at {:.1} % of the bare pass)",
        100.0 * rows[4].1 / bare
    );
    // If the filter's own work (frames, rules, segments) took no time at all, extraction would
    // run at the strict reader's speed: the best extract + merge could then do.
    let ceiling = 1.0 / (1.0 / rows[4].1 + 1.0 / rows[2].1);
    println!(
        "  (ceiling with a filter that costs nothing beyond the strict reader: {ceiling:.1} MB/s = {:.1} % of the bare pass)",
        100.0 * ceiling / bare
    );
}
