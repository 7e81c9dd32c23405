//! Hostile archives: every refusal is asserted with its exact error, and the expansion limits are
//! shown to fire before more than the configured number of bytes has been expanded (counted by
//! `SafeZip::bytes_expanded`, which counts every decompressed byte handed out by the reader).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{Cursor, Write};

use tradia_formats::{FormatError, Limits, SafeZip};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Overwrites every occurrence of `from` (a 4-byte little-endian size) in headers by `to`.
/// Used to make headers lie about the uncompressed size.
fn patch_declared_size(bytes: &mut [u8], real: u32, fake: u32) -> usize {
    let from = real.to_le_bytes();
    let mut patched = 0;
    let mut i = 0;
    while i + 4 <= bytes.len() {
        // local header: signature PK\x03\x04, uncompressed size at +22
        if bytes[i..].starts_with(b"PK\x03\x04") && bytes[i + 22..i + 26] == from {
            bytes[i + 22..i + 26].copy_from_slice(&fake.to_le_bytes());
            patched += 1;
        }
        // central header: PK\x01\x02, uncompressed size at +24
        if bytes[i..].starts_with(b"PK\x01\x02") && bytes[i + 24..i + 28] == from {
            bytes[i + 24..i + 28].copy_from_slice(&fake.to_le_bytes());
            patched += 1;
        }
        i += 1;
    }
    patched
}

fn small_limits() -> Limits {
    Limits {
        max_entries: 10,
        max_entry_bytes: 1_000_000,
        max_total_bytes: 1_500_000,
        max_copied_entry_bytes: 2_000_000,
        max_copied_total_bytes: 3_000_000,
        max_nesting: 2,
        ..Limits::default()
    }
}

fn assert_limit(err: FormatError, what: &str, limit: u64) {
    match err {
        FormatError::LimitExceeded { what: w, limit: l } => {
            assert_eq!((w.as_str(), l), (what, limit));
        }
        other => panic!("expected LimitExceeded({what}), got {other:?}"),
    }
}

#[test]
fn declared_entry_size_over_the_parsing_limit_is_refused_before_expanding() {
    let big = vec![0u8; 1_000_001];
    let bytes = zip_of(&[("a.xml", &big)]);
    // Only copied, the entry is fine: the parsing limits hold entries that are read.
    let mut zip = SafeZip::open(&bytes, &small_limits()).unwrap();
    assert_limit(zip.read(0).unwrap_err(), "entry size", 1_000_000);
    assert_eq!(zip.bytes_expanded(), 0, "refused on the declared size, before expanding");
    assert!(zip.rewrite(&std::collections::BTreeMap::new()).unwrap() == bytes);
}

#[test]
fn declared_total_over_the_parsing_limit_is_refused_before_expanding() {
    let part = vec![0u8; 800_000];
    let bytes = zip_of(&[("a.xml", &part), ("b.xml", &part)]);
    let mut zip = SafeZip::open(&bytes, &small_limits()).unwrap();
    assert_eq!(zip.read(0).unwrap().len(), 800_000);
    assert_limit(zip.read(1).unwrap_err(), "total size", 1_500_000);
    assert_eq!(zip.bytes_expanded(), 800_000);
}

#[test]
fn declared_sizes_over_the_copy_limits_are_refused_at_open() {
    let big = vec![0u8; 2_000_001];
    let bytes = zip_of(&[("video.mp4", &big)]);
    assert_limit(
        SafeZip::open(&bytes, &small_limits()).unwrap_err(),
        "copied entry size",
        2_000_000,
    );
    let part = vec![0u8; 1_600_000];
    let bytes = zip_of(&[("a.mp4", &part), ("b.mp4", &part)]);
    assert_limit(
        SafeZip::open(&bytes, &small_limits()).unwrap_err(),
        "copied total size",
        3_000_000,
    );
}

#[test]
fn an_entry_over_the_parsing_limit_is_copied_when_another_is_replaced() {
    let video = vec![7u8; 1_900_000];
    let bytes = zip_of(&[("a.xml", b"<a/>"), ("video.mp4", &video)]);
    let zip = SafeZip::open(&bytes, &small_limits()).unwrap();
    let mut replacement = std::collections::BTreeMap::new();
    replacement.insert(0, b"<b/>".to_vec());
    let out = zip.rewrite(&replacement).unwrap();
    let limits =
        Limits { max_entry_bytes: 2_000_000, max_total_bytes: 2_000_000, ..small_limits() };
    let mut again = SafeZip::open(&out, &limits).unwrap();
    assert_eq!(again.read(0).unwrap(), b"<b/>");
    assert_eq!(again.read(1).unwrap(), video);
}

#[test]
fn lying_header_bomb_stops_at_the_entry_limit() {
    let real = 8_000_000u32;
    let bomb = vec![0u8; real as usize];
    let mut bytes = zip_of(&[("bomb.xml", &bomb)]);
    assert!(bytes.len() < 100_000, "deflated zeros should be small: {}", bytes.len());
    assert_eq!(patch_declared_size(&mut bytes, real, 100), 2);
    let mut zip = SafeZip::open(&bytes, &small_limits()).expect("headers claim 100 bytes");
    assert_eq!(zip.entries()[0].declared_size, 100);
    let err = zip.read(0).unwrap_err();
    let expanded = zip.bytes_expanded();
    // Either the reader stops at the declared size (and the checksum fails), or the limit
    // fires: in both cases no more than limit + 1 bytes were expanded.
    assert!(expanded <= 1_000_001, "expanded {expanded} bytes");
    println!("lying header: {err} after {expanded} bytes expanded");
    match err {
        FormatError::LimitExceeded { .. } | FormatError::Archive(_) => {}
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn per_entry_limit_fires_while_expanding() {
    // Headers tell the truth but the limits are lowered after opening: the reader must still
    // stop at the limit, not trust the check done at open.
    let data = vec![b'a'; 3_000_000];
    let bytes = zip_of(&[("a.xml", &data)]);
    let open_limits = Limits {
        max_entry_bytes: 4_000_000,
        max_total_bytes: 4_000_000,
        max_copied_entry_bytes: 4_000_000,
        max_copied_total_bytes: 4_000_000,
        ..small_limits()
    };
    let mut zip = SafeZip::open(&bytes, &open_limits).unwrap();
    assert_eq!(zip.read(0).unwrap().len(), 3_000_000);
    assert_eq!(zip.bytes_expanded(), 3_000_000);

    // Same archive, headers patched to claim 10 bytes: the entry limit of 1 MB must fire.
    let mut lying = bytes.clone();
    assert_eq!(patch_declared_size(&mut lying, 3_000_000, 10), 2);
    let mut zip = SafeZip::open(&lying, &small_limits()).unwrap();
    match zip.read(0) {
        Err(FormatError::LimitExceeded { what, limit }) => {
            assert_eq!((what.as_str(), limit), ("entry size", 1_000_000));
            assert_eq!(zip.bytes_expanded(), 1_000_001);
        }
        Err(other) => {
            // The zip reader refused to go past the declared size: still bounded.
            assert!(zip.bytes_expanded() <= 1_000_001);
            println!("reader stopped at declared size: {other}");
        }
        Ok(data) => panic!("read {} bytes from a lying header", data.len()),
    }
}

#[test]
fn cumulative_limit_counts_every_entry() {
    let data = vec![b'a'; 600_000];
    let bytes = zip_of(&[("a.xml", &data), ("b.xml", &data), ("c.xml", &data)]);
    let limits = Limits { max_total_bytes: 2_000_000, ..small_limits() };
    let mut zip = SafeZip::open(&bytes, &limits).unwrap();
    // Lower the budget below what the declared sizes need by reading entries twice.
    assert!(zip.read(0).is_ok());
    assert!(zip.read(1).is_ok());
    assert!(zip.read(2).is_ok());
    // The fourth read is refused on its declared size, before anything is expanded.
    assert_limit(zip.read(0).unwrap_err(), "total size", 2_000_000);
    assert_eq!(zip.bytes_expanded(), 1_800_000);
    // Headers that understate the size: the count while expanding stops the read.
    let mut lying = bytes.clone();
    assert_eq!(patch_declared_size(&mut lying, 600_000, 10), 6);
    let mut zip = SafeZip::open(&lying, &limits).unwrap();
    let mut total = 0;
    for index in [0, 1, 2, 0] {
        if let Ok(data) = zip.read(index) {
            total += data.len() as u64;
        }
    }
    assert!(zip.bytes_expanded() <= 2_000_001, "expanded {}", zip.bytes_expanded());
    assert!(total <= 2_000_000);
}

#[test]
fn too_many_entries_are_refused() {
    let names: Vec<String> = (0..11).map(|i| format!("f{i}.xml")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let bytes = zip_of(&entries);
    assert_limit(SafeZip::open(&bytes, &small_limits()).unwrap_err(), "entries", 10);
}

#[test]
fn unsafe_names_are_refused() {
    for name in ["../evil.xml", "a/../../evil.xml", "/etc/passwd", "C:/windows/x", "a\\..\\..\\x"] {
        let bytes = zip_of(&[(name, b"<x/>")]);
        match SafeZip::open(&bytes, &Limits::default()) {
            Err(FormatError::UnsafeEntryName { name: got }) => assert_eq!(got, name),
            other => panic!("{name}: expected UnsafeEntryName, got {other:?}"),
        }
    }
}

#[test]
fn not_a_zip_is_an_archive_error() {
    let err = SafeZip::open(b"<sc:item/>", &Limits::default()).unwrap_err();
    assert_eq!(err.code(), "invalid_archive");
}

#[test]
fn rewrite_copies_untouched_entries_raw() {
    let bytes = zip_of(&[("a.xml", b"<a>one</a>"), ("b.xml", b"<b>two</b>")]);
    let zip = SafeZip::open(&bytes, &Limits::default()).unwrap();
    let mut rep = BTreeMap::new();
    rep.insert(1, b"<b>deux</b>".to_vec());
    let out = zip.rewrite(&rep).unwrap();
    // The compressed bytes of a.xml appear unchanged in the output.
    let mut original = zip::ZipArchive::new(Cursor::new(&bytes[..])).unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut original.by_index_raw(0).unwrap(), &mut raw).unwrap();
    assert_eq!(raw.len() as u64, zip.entries()[0].compressed_size);
    assert!(out.windows(raw.len()).any(|w| w == raw));
    let mut again = SafeZip::open(&out, &Limits::default()).unwrap();
    assert_eq!(again.read(0).unwrap(), b"<a>one</a>");
    assert_eq!(again.read(1).unwrap(), b"<b>deux</b>");
}
