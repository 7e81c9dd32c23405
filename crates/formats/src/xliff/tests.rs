//! Tests of the XLIFF filter: 1.2 and 2.x units, inline codes, seg-source mirroring.

use super::*;
use tradia_core::LanguageTag;

fn opts() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("fr").unwrap() }
}

#[test]
fn xliff_12_inline_codes_and_new_target() {
    let src = "<?xml version=\"1.0\"?>\n<xliff version=\"1.2\" xmlns=\"urn:oasis:names:tc:xliff:document:1.2\">\n <file source-language=\"en\" datatype=\"plaintext\" original=\"a\">\n  <body>\n   <trans-unit id=\"1\">\n    <source>Click <g id=\"1\">Save</g> or press <x id=\"2\"/> &amp; <ph id=\"3\">{0}</ph></source>\n   </trans-unit>\n   <trans-unit id=\"2\" translate=\"no\"><source>ACME</source></trans-unit>\n   <trans-unit id=\"3\"><source>Hello</source><target state=\"new\">Old</target></trans-unit>\n  </body>\n </file>\n</xliff>\n";
    let d = extract(Format::Xliff, "a.xlf", src.as_bytes(), &ExtractOptions::default()).unwrap();
    let rendered: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
    assert_eq!(rendered, vec!["Click <g1>Save</g1> or press <x2/> &amp; <x3/>", "Hello"]);
    assert_eq!(d.merge_identity(&opts()).unwrap(), src.as_bytes());
    let t = vec![
        Content::parse("Appuyez sur <x2/> &amp; <x3/> ou cliquez sur <g1>Enregistrer</g1>")
            .unwrap(),
        Content::text("Bonjour"),
    ];
    let out = String::from_utf8(d.merge(&t, &opts()).unwrap()).unwrap();
    assert!(out.contains("<file source-language=\"en\" datatype=\"plaintext\" original=\"a\" target-language=\"fr\">"), "{out}");
    assert!(out.contains("{0}</ph></source>\n    <target state=\"needs-review-translation\" state-qualifier=\"mt-suggestion\">Appuyez sur <x id=\"2\"/> &amp; <ph id=\"3\">{0}</ph> ou cliquez sur <g id=\"1\">Enregistrer</g></target>\n   </trans-unit>"), "{out}");
    assert!(out.contains("<target state=\"needs-review-translation\" state-qualifier=\"mt-suggestion\">Bonjour</target>"), "{out}");
    roxmltree::Document::parse(&out).unwrap();
}

#[test]
fn xliff_20_inline_codes_and_state() {
    let src = "<xliff xmlns=\"urn:oasis:names:tc:xliff:document:2.0\" version=\"2.0\" srcLang=\"en\">\n<file id=\"f\"><unit id=\"u1\">\n  <segment>\n    <source>Press <pc id=\"1\">Start</pc><ph id=\"2\"/> now</source>\n  </segment>\n  <ignorable><source> </source></ignorable>\n</unit></file></xliff>";
    let d = extract(Format::Xliff, "a.xlf", src.as_bytes(), &ExtractOptions::default()).unwrap();
    assert_eq!(d.segments.len(), 1);
    assert_eq!(d.segments[0].content.render(), "Press <g1>Start</g1><x2/> now");
    let t = Content::parse("Appuyez maintenant sur <g1>Démarrer</g1><x2/>").unwrap();
    let out = String::from_utf8(d.merge(&[t], &opts()).unwrap()).unwrap();
    assert!(out.contains("srcLang=\"en\" trgLang=\"fr\">"), "{out}");
    assert!(out.contains("<segment state=\"translated\" subState=\"tradia:mt\">"), "{out}");
    assert!(out.contains("</source>\n    <target>Appuyez maintenant sur <pc id=\"1\">Démarrer</pc><ph id=\"2\"/></target>"), "{out}");
    roxmltree::Document::parse(&out).unwrap();
}

#[test]
fn seg_source_markers_are_mirrored_into_the_target() {
    let src = "<xliff version=\"1.2\" xmlns=\"urn:oasis:names:tc:xliff:document:1.2\"><file source-language=\"en\" datatype=\"plaintext\" original=\"a\"><body>\n<trans-unit id=\"1\">\n  <source>Open the <g id=\"1\">file</g>. Then save it.</source>\n  <seg-source><mrk mtype=\"seg\" mid=\"1\">Open the <g id=\"1\">file</g>.</mrk> <mrk mtype=\"seg\" mid=\"2\">Then save it.</mrk></seg-source>\n</trans-unit>\n</body></file></xliff>";
    let d = extract(Format::Xliff, "s.xlf", src.as_bytes(), &ExtractOptions::default()).unwrap();
    let rendered: Vec<String> = d.segments.iter().map(|s| s.content.render()).collect();
    assert_eq!(rendered, ["Open the <g1>file</g1>.", "Then save it."]);
    assert_eq!(d.segments[1].location, "s.xlf: unit 1 segment 2");
    assert_eq!(d.merge_identity(&opts()).unwrap(), src.as_bytes());
    let t = vec![
        Content::parse("Ouvrez le <g1>fichier</g1>.").unwrap(),
        Content::text("Puis enregistrez-le."),
    ];
    let out = String::from_utf8(d.merge(&t, &opts()).unwrap()).unwrap();
    assert!(out.contains("</seg-source>\n  <target state=\"needs-review-translation\" state-qualifier=\"mt-suggestion\"><mrk mtype=\"seg\" mid=\"1\">Ouvrez le <g id=\"1\">fichier</g>.</mrk> <mrk mtype=\"seg\" mid=\"2\">Puis enregistrez-le.</mrk></target>"), "{out}");
    roxmltree::Document::parse(&out).unwrap();
    // Only one marker translated: the other keeps its source text in the mirrored target.
    let t = vec![d.segments[0].content.clone(), Content::text("Puis enregistrez-le.")];
    let out = String::from_utf8(d.merge(&t, &opts()).unwrap()).unwrap();
    assert!(out.contains("<target state=\"needs-review-translation\" state-qualifier=\"mt-suggestion\"><mrk mtype=\"seg\" mid=\"1\">Open the <g id=\"1\">file</g>.</mrk> <mrk mtype=\"seg\" mid=\"2\">Puis"), "{out}");
}

#[test]
fn doctype_is_refused() {
    let src = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><xliff version=\"1.2\"/>";
    let err =
        extract(Format::Xliff, "a.xlf", src.as_bytes(), &ExtractOptions::default()).unwrap_err();
    assert_eq!(err.code(), "doctype_refused");
}

#[test]
fn unit_notes_are_notes_for_translators_of_its_segments() {
    let v12 = "<xliff version=\"1.2\" xmlns=\"urn:oasis:names:tc:xliff:document:1.2\"><file source-language=\"en\" datatype=\"plaintext\" original=\"a\"><body>\n<trans-unit id=\"1\"><source>Open</source><note from=\"dev\">Menu item &amp; toolbar button</note></trans-unit>\n<trans-unit id=\"2\"><source>Close</source></trans-unit>\n<trans-unit id=\"3\"><note> </note><source>Quit</source></trans-unit>\n</body></file></xliff>";
    let d = extract(Format::Xliff, "a.xlf", v12.as_bytes(), &ExtractOptions::default()).unwrap();
    assert_eq!(d.segments.len(), 3);
    assert_eq!(d.report.notes.get(&0).map(String::as_str), Some("Menu item & toolbar button"));
    assert_eq!(d.report.notes.get(&1), None);
    assert_eq!(d.report.notes.get(&2), None, "a blank note is no note");
    assert_eq!(d.merge_identity(&opts()).unwrap(), v12.as_bytes());

    let v2 = "<xliff xmlns=\"urn:oasis:names:tc:xliff:document:2.0\" version=\"2.0\" srcLang=\"en\">\n<file id=\"f\"><unit id=\"u1\"><notes><note>Error shown on login</note><note category=\"length\">Short</note></notes>\n  <segment><source>Wrong password.</source></segment>\n  <segment><source>Try again.</source></segment>\n</unit><unit id=\"u2\"><segment><source>Welcome</source></segment></unit></file></xliff>";
    let d = extract(Format::Xliff, "b.xlf", v2.as_bytes(), &ExtractOptions::default()).unwrap();
    assert_eq!(d.segments.len(), 3);
    for id in [0, 1] {
        assert_eq!(
            d.report.notes.get(&id).map(String::as_str),
            Some("Error shown on login\nShort")
        );
    }
    assert_eq!(d.report.notes.get(&2), None);
}
