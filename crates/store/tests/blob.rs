//! The filesystem blob store: streaming writes with a limit, atomic rename, safe keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tradia_store::{BlobError, BlobKey, BlobStore, FsBlobStore};

/// Names of the files in `dir` (recursively), so tests can check nothing was left behind.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_dir() {
            out.extend(files_in(&entry.path()));
        } else {
            out.push(entry.path().display().to_string());
        }
    }
    out
}

/// A reader that yields `chunks` chunks of `size` bytes, then fails if `fail` is set.
struct Chunks {
    left: usize,
    size: usize,
    fail: bool,
}

impl AsyncRead for Chunks {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.left == 0 {
            if self.fail {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "client went away",
                )));
            }
            return Poll::Ready(Ok(()));
        }
        let n = self.size.min(buf.remaining());
        buf.put_slice(&vec![b'a'; n]);
        self.left -= 1;
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn put_read_delete_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = FsBlobStore::open(dir.path().join("files")).await.unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let stored = blobs.put(&mut data.as_slice(), 200_000).await.expect("exactly at the limit");
    assert_eq!(stored.size, 200_000);
    assert_eq!(blobs.read(&stored.key).await.unwrap(), data);
    let mut opened = blobs.open(&stored.key).await.unwrap();
    assert_eq!(opened.size, 200_000);
    let mut streamed = Vec::new();
    opened.reader.read_to_end(&mut streamed).await.unwrap();
    assert_eq!(streamed, data);

    let other = blobs.put_bytes(b"second".to_vec()).await.unwrap();
    assert_ne!(other.key, stored.key);
    assert_eq!(blobs.read(&other.key).await.unwrap(), b"second");
    let empty = blobs.put_bytes(Vec::new()).await.unwrap();
    assert_eq!(empty.size, 0);
    assert!(blobs.read(&empty.key).await.unwrap().is_empty());

    assert!(blobs.delete(&stored.key).await.unwrap());
    assert!(!blobs.delete(&stored.key).await.unwrap(), "second delete finds nothing");
    match blobs.read(&stored.key).await {
        Err(e @ BlobError::NotFound(_)) => assert_eq!(e.code(), "blob_not_found"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(files_in(blobs.root()).len(), 2);
}

#[tokio::test]
async fn over_the_limit_is_refused_and_nothing_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = FsBlobStore::open(dir.path()).await.unwrap();
    let mut reader = Chunks { left: 100, size: 1000, fail: false };
    match blobs.put(&mut reader, 50_000).await {
        Err(e @ BlobError::TooLarge { limit: 50_000 }) => {
            assert_eq!(e.code(), "too_large");
            assert!(e.to_string().contains("50000 bytes"), "{e}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(reader.left > 0, "the upload stops at the limit instead of reading everything");
    assert!(files_in(dir.path()).is_empty(), "partial file left: {:?}", files_in(dir.path()));
    // One byte over.
    let over = vec![0u8; 1001];
    assert!(matches!(blobs.put(&mut over.as_slice(), 1000).await, Err(BlobError::TooLarge { .. })));
    assert!(files_in(dir.path()).is_empty());
}

#[tokio::test]
async fn failing_source_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = FsBlobStore::open(dir.path()).await.unwrap();
    let mut reader = Chunks { left: 3, size: 100, fail: true };
    match blobs.put(&mut reader, 1 << 20).await {
        Err(e @ BlobError::Source(_)) => assert_eq!(e.code(), "upload_read_failed"),
        other => panic!("expected Source, got {other:?}"),
    }
    assert!(files_in(dir.path()).is_empty());
}

#[tokio::test]
async fn keys_cannot_escape_the_folder() {
    for bad in ["", ".", "..", "../etc/passwd", "a/b", "a\\b", "/abs", "x.y", "é", &"k".repeat(65)]
    {
        match BlobKey::parse(bad) {
            Err(e @ BlobError::InvalidKey(_)) => assert_eq!(e.code(), "invalid_blob_key"),
            other => panic!("{bad:?} accepted: {other:?}"),
        }
        assert!(serde_json_like(bad).is_err(), "{bad:?} deserialised");
    }
    for good in ["abc", "0190f3a2-aaaa_BBB", &BlobKey::generate().to_string()] {
        assert_eq!(BlobKey::parse(good).unwrap().as_str(), good);
    }
}

/// Deserialises a key the way a JSON payload would (through `TryFrom<String>`).
fn serde_json_like(s: &str) -> Result<BlobKey, BlobError> {
    BlobKey::try_from(s.to_string())
}

#[tokio::test]
async fn stale_temporary_files_are_removed_on_open_and_live_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join(".tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let host = tradia_store::process::host_name();
    // A process that has exited: its upload is abandoned.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    std::fs::write(tmp.join(format!("{host}:{gone_pid}:k1.part")), b"half").unwrap();
    // A process that is still running (another `serve` on this folder): its upload stays.
    let mut alive = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    let live = tmp.join(format!("{host}:{}:k2.part", alive.id()));
    std::fs::write(&live, b"in flight").unwrap();
    // Another host's upload, recent: kept; an unnamed one two days old: removed.
    let other = tmp.join("elsewhere:12:k3.part");
    std::fs::write(&other, b"remote").unwrap();
    let old = tmp.join("crashed.part");
    std::fs::write(&old, b"old").unwrap();
    let two_days = std::time::SystemTime::now() - std::time::Duration::from_secs(48 * 3600);
    std::fs::File::options().write(true).open(&old).unwrap().set_modified(two_days).unwrap();

    let blobs = FsBlobStore::open(dir.path()).await.unwrap();
    let mut left: Vec<String> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    let mut expected = vec![
        other.file_name().unwrap().to_string_lossy().into_owned(),
        live.file_name().unwrap().to_string_lossy().into_owned(),
    ];
    expected.sort();
    assert_eq!(left, expected);
    alive.kill().unwrap();
    let _ = alive.wait();

    let kept = blobs.put_bytes(b"x".to_vec()).await.unwrap();
    // Reopening keeps finished blobs.
    let again = FsBlobStore::open(dir.path()).await.unwrap();
    assert_eq!(again.read(&kept.key).await.unwrap(), b"x");
}
