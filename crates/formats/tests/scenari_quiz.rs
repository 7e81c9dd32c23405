//! Scenari quiz terms (`docs/scenari-format.md` I9, Q4, Q5) on items written here: cloze gap
//! answers, options and synonyms and short-answer values are segments of their own grouped in
//! `Document::quiz` by default, kept exactly when single characters or whitespace, and kept
//! whole with `keep_quiz_answers`; identity stays byte-exact either way, also in an archive.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use tradia_core::pseudo::pseudo_content;
use tradia_core::{Content, LanguageTag, QuizKind, QuizRole};
use tradia_formats::{Document, ExtractOptions, MergeOptions, extract};

/// A cloze exercise: a gap with options (one a single character, one a space) and synonyms,
/// a gap without metadata, and a short-answer field after its question.
pub const CLOZE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core">
	<op:cloze xmlns:op="utc.fr:ics/opale3" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive">
		<op:exeM><sp:title>Les règles</sp:title></op:exeM>
		<sc:gapText><op:clozeTxt>
			<sc:para xml:space="preserve">Dans une équipe, le <sc:textLeaf role="gap"><op:gapM><sp:options><sp:option>respect des règles</sp:option><sp:option>mépris des autres</sp:option><sp:option>X</sp:option><sp:option> </sp:option></sp:options><sp:synonyms><sp:synonym>respect des consignes</sp:synonym></sp:synonyms></op:gapM>respect des règles</sc:textLeaf> compte &amp; le <sc:textLeaf role="gap">jeu</sc:textLeaf> aussi.</sc:para>
		</op:clozeTxt></sc:gapText>
	</op:cloze>
</sc:item>"#;

fn opts() -> MergeOptions {
    MergeOptions { target: LanguageTag::parse("en").unwrap() }
}

fn doc(xml: &str, options: &ExtractOptions) -> Document {
    extract("cloze.quiz", xml.as_bytes(), options).unwrap()
}

fn rendered(d: &Document) -> Vec<String> {
    d.segments.iter().map(|s| s.content.render()).collect()
}

#[test]
fn gap_terms_are_segments_grouped_with_their_sentence() {
    let d = doc(CLOZE, &ExtractOptions::default());
    assert_eq!(
        rendered(&d),
        [
            "Les règles",
            "Dans une équipe, le <x1/> compte &amp; le <x2/> aussi.",
            "<x1/>respect des règles",
            "respect des règles",
            "mépris des autres",
            "respect des consignes",
            "jeu",
        ]
    );
    assert_eq!(d.quiz.len(), 2, "{:?}", d.quiz);
    let g = &d.quiz[0];
    assert_eq!(g.kind, QuizKind::Cloze);
    assert_eq!(g.context, [1]);
    assert_eq!(
        g.terms,
        [
            (2, QuizRole::Answer),
            (3, QuizRole::Option),
            (4, QuizRole::Option),
            (5, QuizRole::Synonym)
        ]
    );
    // The single character and the space are kept exactly, and known to the group.
    assert_eq!(g.fixed, ["X", ""]);
    assert_eq!(d.quiz[1].terms, [(6, QuizRole::Answer)]);
    assert_eq!(d.quiz[1].context, [1]);
    assert_eq!(d.merge_identity(&opts()).unwrap(), CLOZE.as_bytes());
}

#[test]
fn translated_terms_are_spliced_in_place_and_the_rest_is_unchanged() {
    let d = doc(CLOZE, &ExtractOptions::default());
    let answers = [
        "The rules",
        "In a team, <x1/> matters &amp; so does the <x2/>.",
        "<x1/>rule keeping",
        "rule keeping",
        "contempt for others",
        "following instructions",
        "game",
    ];
    let translations: Vec<Content> = d
        .segments
        .iter()
        .zip(answers)
        .map(|(s, a)| Content::parse_answer(&s.content, a).unwrap())
        .collect();
    let out = String::from_utf8(d.merge(&translations, &opts()).unwrap()).unwrap();
    let gap = r#"<sc:textLeaf role="gap"><op:gapM><sp:options><sp:option>rule keeping</sp:option><sp:option>contempt for others</sp:option><sp:option>X</sp:option><sp:option> </sp:option></sp:options><sp:synonyms><sp:synonym>following instructions</sp:synonym></sp:synonyms></op:gapM>rule keeping</sc:textLeaf>"#;
    assert!(
        out.contains(&format!(
            r#"<sc:para xml:space="preserve">In a team, {gap} matters &amp; so does the <sc:textLeaf role="gap">game</sc:textLeaf>.</sc:para>"#
        )),
        "{out}"
    );
    roxmltree::Document::parse(&out).expect("well-formed");
}

#[test]
fn pseudo_translation_changes_the_terms_and_keeps_the_fixed_options() {
    let d = doc(CLOZE, &ExtractOptions::default());
    let pseudo: Vec<Content> = d.segments.iter().map(|s| pseudo_content(&s.content)).collect();
    let out = String::from_utf8(d.merge(&pseudo, &opts()).unwrap()).unwrap();
    let answer = pseudo_content(&Content::text("respect des règles")).plain_text();
    assert!(out.contains(&format!("<sp:option>{answer}</sp:option>")), "{out}");
    assert!(out.contains(&format!("</op:gapM>{answer}</sc:textLeaf>")), "{out}");
    assert!(out.contains("<sp:option>X</sp:option><sp:option> </sp:option>"), "{out}");
    assert_eq!(out.matches("<sp:option>").count(), 4);
    roxmltree::Document::parse(&out).expect("well-formed");
}

#[test]
fn keep_quiz_answers_keeps_the_gap_whole_as_before() {
    let keep = ExtractOptions { keep_quiz_answers: true, ..ExtractOptions::default() };
    let d = doc(CLOZE, &keep);
    assert_eq!(
        rendered(&d),
        ["Les règles", "Dans une équipe, le <x1/> compte &amp; le <x2/> aussi."]
    );
    assert!(d.quiz.is_empty());
    assert_eq!(d.merge_identity(&opts()).unwrap(), CLOZE.as_bytes());
}

#[test]
fn short_answer_values_are_grouped_with_their_question() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core">
	<op:field xmlns:op="utc.fr:ics/opale3" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive">
		<op:exeM><sp:title>Trouver l'adjectif</sp:title></op:exeM>
		<sc:question><op:res><sp:txt><op:txt><sc:para xml:space="preserve">Quel adjectif vient de « argent » ?</sc:para><sc:para xml:space="preserve">Respectez l'orthographe.</sc:para></op:txt></sp:txt></op:res></sc:question>
		<sp:asw><sc:SFSolution><sc:value>pécuniaire</sc:value></sc:SFSolution><sc:SFSolution><sc:value>Pécuniaire</sc:value></sc:SFSolution></sp:asw>
	</op:field>
</sc:item>"#;
    let d = doc(xml, &ExtractOptions::default());
    assert_eq!(
        rendered(&d),
        [
            "Trouver l'adjectif",
            "Quel adjectif vient de « argent » ?",
            "Respectez l'orthographe.",
            "pécuniaire",
            "Pécuniaire"
        ]
    );
    assert_eq!(d.quiz.len(), 1);
    assert_eq!(d.quiz[0].kind, QuizKind::ShortAnswer);
    assert_eq!(d.quiz[0].context, [1, 2]);
    assert_eq!(d.quiz[0].terms, [(3, QuizRole::Answer), (4, QuizRole::Answer)]);
    assert_eq!(d.merge_identity(&opts()).unwrap(), xml.as_bytes());
}

#[test]
fn archive_groups_point_at_the_archive_segments() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    for name in ["a.quiz", "b.quiz"] {
        zip.start_file(name, o).unwrap();
        zip.write_all(CLOZE.as_bytes()).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let d = extract("course.scar", &bytes, &ExtractOptions::default()).unwrap();
    assert_eq!(d.segments.len(), 14);
    assert_eq!(d.quiz.len(), 4);
    assert_eq!(d.quiz[2].context, [8]);
    assert_eq!(d.quiz[2].terms[0], (9, QuizRole::Answer));
    assert_eq!(d.segments[9].content.render(), "<x1/>respect des règles");
    assert_eq!(d.merge_identity(&opts()).unwrap(), bytes);
}
