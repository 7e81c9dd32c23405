//! `tradia translate` on Scenari archives far larger than the memory it may use: untouched
//! entries are streamed from the input file to the output file, so peak memory stays bounded by
//! the parsed items whatever the archive's size (issue 13, point 6).
//!
//! The archive is a zip64 one (entries written with zip64 headers) built by the test in a temporary
//! folder, streamed (the big entry is written in 1 MiB pieces, never held whole). The command
//! runs as a child process under GNU `time -v`, whose "Maximum resident set size" is the peak RSS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::process::Command;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

const ITEM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:op="utc.fr:ics/opale3" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive"><op:expUc><op:expUcM><sp:title>Le cycle de l'eau</sp:title></op:expUcM><sp:content><op:res><sp:txt><op:txt><sc:para xml:space="preserve">L'eau s'évapore puis retombe en pluie.</sc:para></op:txt></sp:txt></op:res></sp:content></op:expUc></sc:item>
"#;

/// Writes a `.scar` with two items, a `.wspmeta` and a stored media entry of `big` bytes
/// (pseudo-random, so that no layer could shortcut it), all with zip64 headers.
fn build_archive(path: &Path, big: u64) {
    let mut w = ZipWriter::new(BufWriter::new(File::create(path).unwrap()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    w.start_file(".wspmeta", deflated).unwrap();
    w.write_all(b"<wspmeta/>").unwrap();
    w.start_file("cours/eau.xml", deflated.large_file(true)).unwrap();
    w.write_all(ITEM.as_bytes()).unwrap();
    let stored =
        SimpleFileOptions::default().compression_method(CompressionMethod::Stored).large_file(true);
    w.start_file("media/video.mp4", stored).unwrap();
    let mut chunk = vec![0u8; 1 << 20];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut left = big;
    while left > 0 {
        for b in chunk.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        let n = left.min(chunk.len() as u64) as usize;
        w.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    w.start_file("cours/pluie.xml", deflated).unwrap();
    w.write_all(ITEM.replace("Le cycle de l'eau", "La pluie").as_bytes()).unwrap();
    w.finish().unwrap().flush().unwrap();
}

/// Name, size, CRC and method of every entry, in order.
fn listing(path: &Path) -> Vec<(String, u64, u32, CompressionMethod)> {
    let mut archive = ZipArchive::new(File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let f = archive.by_index_raw(i).unwrap();
            (f.name().unwrap().to_string(), f.size(), f.crc32(), f.compression())
        })
        .collect()
}

fn peak_rss_kib(stderr: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.contains("Maximum resident set size"))
        .unwrap_or_else(|| panic!("no peak RSS in GNU time's output: {stderr}"));
    line.rsplit(':').next().unwrap().trim().parse().unwrap()
}

fn translate_under_time(big: u64, rss_limit_mib: u64) {
    assert!(
        Path::new("/usr/bin/time").exists(),
        "GNU time is needed (Debian package `time`, installed by .ci/run)"
    );
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cours.scar");
    build_archive(&input, big);
    let before = listing(&input);
    let started = std::time::Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_tradia"))
        .args(["translate", "cours.scar", "--from", "fr", "--to", "en", "--engine", "pseudo"])
        .args(["-o", "out"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let rss = peak_rss_kib(&stderr);
    println!("{big} byte entry: peak RSS {} MiB in {:?}", rss / 1024, started.elapsed());
    assert!(rss < rss_limit_mib * 1024, "peak RSS {rss} KiB over {rss_limit_mib} MiB");

    let output = dir.path().join("out/cours.scar");
    let after = listing(&output);
    // Every entry kept: names, order, sizes, methods; only the items' checksums change.
    assert_eq!(after.len(), before.len());
    for (a, b) in after.iter().zip(&before) {
        assert_eq!((&a.0, a.3), (&b.0, b.3));
        if a.0.ends_with(".xml") {
            assert_ne!(a.2, b.2, "{} translated", a.0);
        } else {
            assert_eq!((a.1, a.2), (b.1, b.2), "{} copied", a.0);
        }
    }
    // The media entry reads back whole with a valid checksum, and the items are translated.
    let mut archive = ZipArchive::new(File::open(&output).unwrap()).unwrap();
    let copied =
        std::io::copy(&mut archive.by_name("media/video.mp4").unwrap(), &mut std::io::sink());
    assert_eq!(copied.unwrap(), big);
    let mut item = String::new();
    archive.by_name("cours/eau.xml").unwrap().read_to_string(&mut item).unwrap();
    assert!(item.contains('⟦') && item.contains("<sc:para xml:space=\"preserve\">"), "{item}");
}

/// Always run: a 64 MiB media entry; the memory bound is far below the archive's size.
#[test]
fn a_large_stored_entry_is_streamed_not_held() {
    translate_under_time(64 << 20, 48);
}

/// The acceptance case: a 1 GiB stored entry in a zip64 archive, under 300 MiB of peak memory.
/// About 13 s on the 2-core development machine (2 GiB of temporary files, deleted after).
#[test]
fn a_one_gib_stored_entry_in_a_zip64_archive() {
    translate_under_time(1 << 30, 300);
}
