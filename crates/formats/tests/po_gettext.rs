//! PO catalogues with every construct GNU gettext reads, translated into languages with one to
//! six plural forms: identity is byte-exact, plural entries get the target's number of forms and
//! its `Plural-Forms` header, and GNU `msgfmt --check` (Debian package `gettext`) accepts the
//! input and every output (fuzzy entries included, with `--use-fuzzy`, since a machine
//! translation is marked fuzzy). Without `msgfmt` the check is skipped, except under `CI=true`
//! where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag};
use tradia_formats::{ExtractOptions, Format, MergeOptions, extract};

/// A French catalogue: `domain`, a header, a c-format plural entry whose strings start on the
/// next line, strings continued over lines, `msgctxt`, a trailing newline, an obsolete entry.
const FRENCH: &str = r#"domain "demo"

# French catalogue
msgid ""
msgstr ""
"Project-Id-Version: demo 1.0\n"
"PO-Revision-Date: 2026-01-01 00:00+0000\n"
"Last-Translator: A <a@example.org>\n"
"Language-Team: French <fr@example.org>\n"
"Language: fr\n"
"MIME-Version: 1.0\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Content-Transfer-Encoding: 8bit\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\n"

#: src/main.c:10
#, c-format
msgid "%d fichier pour %s"
msgid_plural "%d fichiers pour %s"
msgstr[0]
"%d fichier pour %s"
msgstr[1] ""
"%d fichiers pour %s"

msgctxt "menu"
msgid ""
"Ouvrir le "
"document"
msgstr ""

#, c-format
msgid "Ligne avec un retour %s\n"
msgstr ""

#~ msgid "Ancien message"
#~ msgstr "Vieux"
"#;

fn msgfmt_available() -> bool {
    let found = Command::new("msgfmt").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "msgfmt (Debian package gettext) is required in CI"
        );
        println!("skipped: msgfmt is not installed");
    }
    found
}

/// Runs `msgfmt --check --use-fuzzy` on `po` (in its own folder, since `domain` names the
/// output file); returns its complaint on failure.
fn msgfmt_check(dir: &Path, name: &str, po: &[u8]) -> Result<(), String> {
    let sub = dir.join(name.replace('.', "_"));
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join(name), po).unwrap();
    let out = Command::new("msgfmt")
        .args(["--check", "--use-fuzzy", name])
        .current_dir(&sub)
        .output()
        .expect("run msgfmt");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn translate(target: &str) -> String {
    let d = extract("demo.po", FRENCH.as_bytes(), &ExtractOptions::default()).unwrap();
    let options = MergeOptions { target: LanguageTag::parse(target).unwrap() };
    assert_eq!(d.merge_identity(&options).unwrap(), FRENCH.as_bytes());
    let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    String::from_utf8(d.merge(&pseudo, &options).unwrap()).unwrap()
}

#[test]
fn every_gettext_construct_is_read() {
    let d = extract("demo.po", FRENCH.as_bytes(), &ExtractOptions::default()).unwrap();
    assert_eq!(d.format, Format::Po);
    let texts: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
    assert_eq!(
        texts,
        [
            "<x1/> fichier pour <x2/>",
            "<x1/> fichiers pour <x2/>",
            "Ouvrir le document",
            "Ligne avec un retour <x1/>\n"
        ]
    );
    assert_eq!(d.segments[2].field, "msgid (msgctxt menu)");
    assert!(!texts.iter().any(|t| t.contains("Ancien")), "obsolete entries are not translated");
}

#[test]
fn plural_forms_follow_the_target_language() {
    let arabic = translate("ar");
    assert!(arabic.contains("\"Plural-Forms: nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);\\n\""), "{arabic}");
    assert!(arabic.contains("\"Language: ar\\n\""));
    for i in 0..6 {
        assert!(arabic.contains(&format!("msgstr[{i}] \"%d ⟦fíçhíér")), "form {i}: {arabic}");
    }
    assert!(!arabic.contains("msgstr[6]"));
    assert!(arabic.starts_with("domain \"demo\"\n"), "{arabic}");
    assert!(arabic.ends_with("#~ msgid \"Ancien message\"\n#~ msgstr \"Vieux\"\n"));
    let japanese = translate("ja");
    assert!(japanese.contains("\"Plural-Forms: nplurals=1; plural=0;\\n\""), "{japanese}");
    assert!(japanese.contains("msgstr[0] \"%d ⟦fíçhíérs") && !japanese.contains("msgstr[1]"));
    let russian = translate("ru");
    assert!(russian.contains("msgstr[2]") && !russian.contains("msgstr[3]"), "{russian}");
    // Into the catalogue's own language, its header's formula is kept.
    let french = translate("fr");
    assert!(french.contains("\"Plural-Forms: nplurals=2; plural=(n > 1);\\n\""), "{french}");
}

#[test]
fn msgfmt_accepts_the_input_and_every_output() {
    if !msgfmt_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    msgfmt_check(dir.path(), "source.po", FRENCH.as_bytes()).unwrap();
    let mut failures = Vec::new();
    for target in [
        "ar", "ja", "ru", "pl", "cs", "sl", "ga", "ro", "lt", "lv", "en", "de", "pt-BR", "fr",
        "zh", "he",
    ] {
        let out = translate(target);
        if let Err(complaint) = msgfmt_check(dir.path(), &format!("{target}.po"), out.as_bytes()) {
            failures.push(format!("{target}: {complaint}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
