#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `tradia users add` and `tradia keys create|list|revoke` on a stopped service's store: the
//! administrator they create signs in, the key printed alone on the last line is accepted by
//! the service started afterwards on the same data folder, and a revoked key is refused.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use serde_json::{Value, json};
use tradia_server::settings::AccessSettings;
use tradia_server::{PseudoGateway, ServerSettings};

fn tradia(args: &[&str], data_dir: &Path, stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tradia"))
        .args(args)
        .env("TRADIA_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// One HTTP/1.1 request (the crate has no HTTP client); returns status and JSON body.
async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let (head, rest) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let json_text = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        // One chunk is enough for these small answers: size line, data, terminator.
        rest.split_once("\r\n")
            .map_or("", |(_, data)| data.rsplit_once("\r\n0\r\n").map_or(data, |(d, _)| d))
    } else {
        rest
    };
    (status, serde_json::from_str(json_text.trim()).unwrap_or(Value::Null))
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn an_administrator_and_a_key_made_offline_work_in_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let password = "a long enough password";
    let out = tradia(
        &["users", "add", "Alice", "--admin", "--password-stdin"],
        dir.path(),
        Some(&format!("{password}\n")),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("created admin `Alice`"), "{}", stdout(&out));
    let again = tradia(&["users", "add", "alice"], dir.path(), None);
    assert_eq!(again.status.code(), Some(1), "the login is taken whatever its case");
    let short = tradia(&["users", "add", "bob", "--password-stdin"], dir.path(), Some("short\n"));
    assert_eq!(short.status.code(), Some(1), "a too short password is refused");

    let out = tradia(&["keys", "create", "--user", "alice", "--name", "CI"], dir.path(), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    let key = text.lines().last().unwrap().trim().to_string();
    assert!(
        key.starts_with("tdk_") && !key.contains(' '),
        "the key alone on the last line: {text}"
    );
    let unknown = tradia(&["keys", "create", "--user", "nobody"], dir.path(), None);
    assert_eq!(unknown.status.code(), Some(1));

    let list = stdout(&tradia(&["keys", "list", "--user", "Alice"], dir.path(), None));
    assert!(list.contains("\tCI\tactive"), "{list}");
    assert!(!list.contains(&key), "the key itself is never listed");
    let key_id = list.split('\t').next().unwrap().to_string();

    // The service, started afterwards on the same folder, accepts both.
    let mut settings = ServerSettings::for_tests(dir.path());
    settings.access = AccessSettings::default();
    let server = tradia_server::start(settings, Arc::new(PseudoGateway), None).await.unwrap();
    let bearer = format!("Bearer {key}");
    let (status, me) =
        http(server.addr, "GET", "/api/v1/me", &[("Authorization", &bearer)], None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["login"], "Alice");
    assert_eq!(me["role"], "admin");
    let (_, config) = http(server.addr, "GET", "/api/v1/config", &[], None).await;
    assert_eq!(
        config["auth"]["setup_required"], false,
        "no set-up link once an administrator exists"
    );
    let (status, signed_in) = http(
        server.addr,
        "POST",
        "/api/v1/auth/login",
        &[],
        Some(json!({"login": "ALICE", "password": password})),
    )
    .await;
    assert_eq!(status, 200, "{signed_in}");
    assert_eq!(signed_in["user"]["login"], "Alice");
    server.shutdown().await.unwrap();

    let out = tradia(&["keys", "revoke", &key_id], dir.path(), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut settings = ServerSettings::for_tests(dir.path());
    settings.access = AccessSettings::default();
    let server = tradia_server::start(settings, Arc::new(PseudoGateway), None).await.unwrap();
    let (status, _) =
        http(server.addr, "GET", "/api/v1/me", &[("Authorization", &bearer)], None).await;
    assert_eq!(status, 401, "a revoked key is refused");
    server.shutdown().await.unwrap();
}
