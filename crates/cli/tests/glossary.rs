#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `tradia glossary import|export|list` on the configured store, and `tradia translate
//! --glossary FILE --formality … --instructions …`: accepted files and flags, and usage errors
//! (exit 2) that name the problem before anything runs.

use std::path::Path;
use std::process::{Command, Output};

fn tradia(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradia"))
        .args(args)
        .current_dir(dir)
        .env("TRADIA_DATA_DIR", dir.join("data"))
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn glossaries_are_imported_listed_and_exported_on_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let out = tradia(&["users", "add", "gaston"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::write(dir.path().join("cours.csv"), "cours,course\nélève,pupil\n").unwrap();
    let out = tradia(
        &["glossary", "import", "cours.csv", "--user", "gaston", "--from", "fr", "--to", "en"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).lines().last().unwrap().trim().to_string();
    assert!(text(&out.stderr).contains("imported 2 entries"), "{}", text(&out.stderr));

    let out =
        tradia(&["glossary", "export", &id, "--user", "gaston", "--format", "tbx"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tbx = text(&out.stdout);
    assert!(tbx.contains("<term>élève</term>") && tbx.contains("<term>pupil</term>"), "{tbx}");
    std::fs::write(dir.path().join("again.tbx"), &tbx).unwrap();
    let out = tradia(
        &["glossary", "import", "again.tbx", "--user", "gaston", "--from", "fr", "--to", "en"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let copy = text(&out.stdout).lines().last().unwrap().trim().to_string();
    let out = tradia(&["glossary", "export", &copy, "--user", "gaston"], dir.path());
    assert_eq!(
        text(&out.stdout),
        "source,target,do_not_translate,case_sensitive,note\ncours,course,no,no,\nélève,pupil,no,no,\n"
    );

    let out = tradia(&["glossary", "list", "--user", "gaston"], dir.path());
    let list = text(&out.stdout);
    assert!(list.contains(&id) && list.contains(&copy) && list.contains("fr → en"), "{list}");
    // Another user sees none of them.
    tradia(&["users", "add", "other"], dir.path());
    let out = tradia(&["glossary", "export", &id, "--user", "other"], dir.path());
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not found"), "{}", text(&out.stderr));
}

#[test]
fn translate_takes_a_glossary_formality_and_instructions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("page.md"), "# Le cours\n\nUn élève lit.\n").unwrap();
    std::fs::write(dir.path().join("g.tsv"), "source\ttarget\ncours\tcourse\n").unwrap();
    let out = tradia(
        &[
            "translate",
            "page.md",
            "--to",
            "en",
            "--engine",
            "pseudo",
            "--glossary",
            "g.tsv",
            "--formality",
            "more",
            "--instructions",
            "Keep it short.",
            "--brief",
            "A school page",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let long = "x".repeat(2001);
    let long_brief = "b".repeat(501);
    for (args, says) in [
        (vec!["--instructions", long.as_str()], "2000"),
        (vec!["--brief", long_brief.as_str()], "--brief has 501 characters; the limit is 500"),
        (vec!["--glossary", "missing.csv"], "missing.csv"),
        (vec!["--glossary", "g.txt"], ".csv, .tsv or .tbx"),
        (vec!["--glossary", "g.tbx"], "--from"),
        (vec!["--formality", "polite"], "polite"),
    ] {
        std::fs::write(dir.path().join("g.tbx"), "<martif/>").unwrap();
        let mut all = vec!["translate", "page.md", "--to", "en", "--engine", "pseudo"];
        all.extend(args.iter().copied());
        let out = tradia(&all, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{args:?}: {}", text(&out.stderr));
    }
}
