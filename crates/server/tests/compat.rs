#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The LibreTranslate and DeepL APIs against their real, unchanged client libraries: the
//! Python scripts of `tests/compat/` drive `libretranslatepy` and `deepl` (PyPI, installed by
//! `.ci/run` into the venv `TRADIA_PYTHON` names) against a server with local accounts and the
//! LLM simulator, and assert on the objects the clients return. Without `TRADIA_PYTHON` the tests
//! skip, or fail when `CI=true`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use tradia_server::accounts::secrets::{hash_token, new_api_key, shown_prefix};
use tradia_server::settings::AccessSettings;
use tradia_server::{RunningServer, ServerSettings};
use tradia_store::{NewApiKey, NewUser, QuotaOverrides, Role, UserUpdate};

/// The Python interpreter with the clients installed, or `None` (skip) outside CI.
fn python() -> Option<PathBuf> {
    match std::env::var("TRADIA_PYTHON") {
        Ok(p) if !p.trim().is_empty() => Some(PathBuf::from(p)),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "TRADIA_PYTHON is not set and CI=true: the client tests must run"
            );
            println!("skipped: TRADIA_PYTHON is not set (a venv with libretranslatepy and deepl)");
            None
        }
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/compat").join(name)
}

/// A server with local accounts driving the simulator, and API keys: a user's, and a user's
/// whose daily quota is 40 characters.
struct Fixture {
    server: RunningServer,
    key: String,
    small_quota_key: String,
    _sim: tradia_llm_sim::SimHandle,
    _dir: tempfile::TempDir,
}

async fn key_for(server: &RunningServer, login: &str, quota: Option<u64>) -> String {
    let store = server.state().jobs.store().clone();
    let login = format!("{login}-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let user = store.create_user(NewUser::new(&login, Role::User)).await.unwrap();
    if let Some(chars) = quota {
        let quotas = QuotaOverrides { chars_per_day: Some(chars), ..Default::default() };
        store
            .update_user(user.id, UserUpdate { quotas: Some(quotas), ..Default::default() })
            .await
            .unwrap();
    }
    let key = new_api_key().unwrap();
    store
        .create_api_key(NewApiKey {
            user: user.id,
            name: "compat".into(),
            key_hash: hash_token(&key),
            prefix: shown_prefix(&key),
        })
        .await
        .unwrap();
    key
}

async fn fixture(tune: impl FnOnce(&mut ServerSettings)) -> Fixture {
    let sim = start_sim(4, 2000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(dir.path(), &sim);
    settings.access = AccessSettings::default();
    tune(&mut settings);
    let server = start_with(settings).await;
    let key = key_for(&server, "compat", None).await;
    let small_quota_key = key_for(&server, "small", Some(40)).await;
    Fixture { server, key, small_quota_key, _sim: sim, _dir: dir }
}

/// Runs `script` with the server's URL and the keys; panics with its output when it fails.
fn run(python: &Path, name: &str, url: &str, fixture: &Fixture) {
    run_with(Command::new(python).arg(script(name)), name, url, fixture);
}

fn run_with(command: &mut Command, name: &str, url: &str, fixture: &Fixture) {
    let output = command
        .env("TRADIA_URL", url)
        .env("TRADIA_KEY", &fixture.key)
        .env("TRADIA_SMALL_QUOTA_KEY", &fixture.small_quota_key)
        .output()
        .expect("python starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "{name} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("ALL PASSED"), "{name} did not finish:\n{stdout}\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn libretranslatepy_translates_detects_and_lists_languages() {
    let Some(python) = python() else { return };
    let fixture = fixture(|_| {}).await;
    let url = format!("{}/", base(&fixture.server));
    let f = &fixture;
    tokio::task::block_in_place(|| run(&python, "libretranslate_client.py", &url, f));
    // Usage was counted for the caller, and the audit log has the calls.
    let since = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let audit = fixture.server.state().jobs.store().list_audit(since, None, 1000).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "compat.translate"
            && e.detail.as_ref().is_some_and(|d| d["api"] == "libretranslate")),
        "no audit entry for the LibreTranslate calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn libretranslate_under_a_prefix_and_in_keyless_mode() {
    let Some(python) = python() else { return };
    let fixture = fixture(|s| {
        s.compat.libretranslate.prefix = "/lt".into();
        s.compat.libretranslate_keyless_user = Some("anonymous-lt".into());
    })
    .await;
    let url = format!("{}/lt/", base(&fixture.server));
    let f = &fixture;
    tokio::task::block_in_place(|| run(&python, "libretranslate_keyless.py", &url, f));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_deepl_python_client_translates_texts_and_documents() {
    let Some(python) = python() else { return };
    let fixture = fixture(|_| {}).await;
    let url = base(&fixture.server);
    let f = &fixture;
    tokio::task::block_in_place(|| run(&python, "deepl_client.py", &url, f));
    let since = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let audit = fixture.server.state().jobs.store().list_audit(since, None, 1000).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "compat.translate"
            && e.detail.as_ref().is_some_and(|d| d["api"] == "deepl")),
        "no audit entry for the DeepL calls"
    );
    assert!(audit.iter().any(|e| e.action == "job_created"), "document uploads are audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deepl_document_still_translating_is_not_ready() {
    let Some(python) = python() else { return };
    // No worker: the document stays queued for as long as the test needs.
    let fixture = fixture(|s| s.workers = 0).await;
    let url = base(&fixture.server);
    let f = &fixture;
    tokio::task::block_in_place(|| run(&python, "deepl_not_ready.py", &url, f));
}

/// `tests/compat/node_modules` with deepl-node (`npm ci` in `.ci/run`), or `None` (skip) outside
/// CI.
fn deepl_node() -> Option<PathBuf> {
    let modules = script("node_modules/deepl-node");
    if modules.is_dir() {
        return Some(script("deepl_node.mjs"));
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "tests/compat/node_modules is missing and CI=true: run `npm ci` in tests/compat"
    );
    println!("skipped: run `npm ci` in tests/compat for the deepl-node test");
    None
}

/// A zip of `entries` (name, text).
fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        w.write_all(data.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn content_types(part: &str, content_type: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/{part}" ContentType="{content_type}"/></Types>"#
    )
}

fn entry(zip: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut text = String::new();
    archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_deepl_node_client_translates_texts_and_documents() {
    let Some(script) = deepl_node() else { return };
    let fixture = fixture(|_| {}).await;
    let docs = tempfile::tempdir().unwrap();
    let word = "word/document.xml";
    let document = r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Your order </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>has shipped</w:t></w:r></w:p></w:body></w:document>"#;
    let ct = content_types(
        word,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    );
    std::fs::write(
        docs.path().join("letter.docx"),
        zip_of(&[("[Content_Types].xml", &ct), (word, document)]),
    )
    .unwrap();
    let slide = "ppt/slides/slide1.xml";
    let body = r#"<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:nvSpPr><p:cNvPr id="2" name="Text"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:txBody><a:bodyPr/><a:p><a:r><a:t>Quarterly results</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#;
    let ct = content_types(
        slide,
        "application/vnd.openxmlformats-officedocument.presentationml.slide+xml",
    );
    std::fs::write(
        docs.path().join("slides.pptx"),
        zip_of(&[("[Content_Types].xml", &ct), (slide, body)]),
    )
    .unwrap();
    let url = base(&fixture.server);
    let f = &fixture;
    let mut node = Command::new("node");
    node.arg(&script).env("TRADIA_DOCS", docs.path());
    tokio::task::block_in_place(|| run_with(&mut node, "deepl_node.mjs", &url, f));

    let letter = std::fs::read(docs.path().join("out-letter.docx")).unwrap();
    let xml = entry(&letter, word);
    assert!(
        xml.contains(">⟦Ýóúr órdér⟧ </w:t>")
            && xml.contains("<w:rPr><w:b/></w:rPr><w:t xml:space=\"preserve\">⟦hás shíppéd⟧</w:t>"),
        "{xml}"
    );
    let slides = std::fs::read(docs.path().join("out-slides.pptx")).unwrap();
    assert!(entry(&slides, slide).contains("<a:t>⟦Qúártérlý résúlts⟧</a:t>"));
}
