#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Slow clients cannot hold the server: a client sending its headers a byte at a time, one
//! trickling a body, and an idle keep-alive connection are disconnected within the configured
//! (short, test) limits, while a normal client is served meanwhile. No timing is asserted beyond
//! generous upper bounds: each wait is bounded so a regression fails instead of hanging.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tradia_server::http_server::HttpLimits;
use tradia_server::{PseudoGateway, RunningServer, ServerSettings};

async fn server(dir: &std::path::Path) -> RunningServer {
    let mut settings = ServerSettings::for_tests(dir);
    settings.http = HttpLimits {
        header_timeout: Duration::from_secs(1),
        body_min_rate: 1024,
        body_grace: Duration::from_secs(1),
        max_connections: 64,
    };
    tradia_server::start(settings, Arc::new(PseudoGateway), None).await.expect("server starts")
}

/// Reads until the server closes the connection (or `limit` passes: then panics); returns what
/// was read.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open for {limit:?}");
    String::from_utf8_lossy(&out).into_owned()
}

async fn normal_client_is_served(base: &str) {
    let r = client().get(format!("{base}/livez")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_slow_body_and_idle_connections_are_closed_while_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path()).await;
    let base = base(&server);

    // 1. Headers a byte at a time, never finished.
    let mut slowloris = TcpStream::connect(server.addr).await.unwrap();
    let trickle = tokio::spawn({
        let mut writer = TcpStream::connect(server.addr).await.unwrap();
        async move {
            // A second slowloris whose bytes keep coming: the timeout is for the whole head.
            for b in b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa".iter() {
                if writer.write_all(&[*b]).await.is_err() {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let mut buf = [0u8; 64];
            matches!(
                tokio::time::timeout(Duration::from_secs(10), writer.read(&mut buf)).await,
                Ok(Ok(0) | Err(_))
            )
        }
    });
    slowloris.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    normal_client_is_served(&base).await;
    read_until_closed(&mut slowloris, Duration::from_secs(10)).await;
    assert!(trickle.await.unwrap(), "the trickling slowloris was not disconnected");

    // 2. A body announced at 200 kB, sent at about 20 bytes per second.
    let mut slow_body = TcpStream::connect(server.addr).await.unwrap();
    let head = "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\n\
                Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 200000\r\n\r\n\
                --XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n";
    slow_body.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = slow_body.into_split();
    let dripping = tokio::spawn(async move {
        for _ in 0..200 {
            if writer.write_all(b"abcd").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    normal_client_is_served(&base).await;
    let answer = tokio::time::timeout(Duration::from_secs(20), async {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
    .expect("the slow upload was not disconnected");
    dripping.abort();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_too_slow"), "{answer}");
    assert!(answer.contains("TRADIA_BODY_MIN_RATE_KBPS"), "{answer}");

    // 3. A keep-alive connection left idle after its request.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let served = read_until_closed(&mut idle, Duration::from_secs(10)).await;
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");

    normal_client_is_served(&base).await;
    server.shutdown().await.unwrap();
}
