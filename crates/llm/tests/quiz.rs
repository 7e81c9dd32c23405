//! Scenari quizzes translated by the LLM engine against the simulator (issue 13, point 5), on a
//! cloze exercise and a short-answer field built here.
//!
//! * Contextual mode (a term's translation depends on the whole request): every gap's answer
//!   equals one of its translated options in the merged output, synonyms are translated, the
//!   single-character and whitespace options come back byte for byte, the output is well-formed;
//!   identity is byte-exact.
//! * `term_drift` (equal terms translated apart in one request): each cloze keeps its source
//!   terms, consistent, the sentences around are still translated, and the terms are flagged
//!   `quiz_kept` with the reason, in the results and in the quality report.
//! * A short-answer value is translated with its question as context, and kept and flagged when
//!   no answer can be had.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use roxmltree::Node;
use tradia_core::pseudo::OPEN_MARK;
use tradia_core::quality::FileReport;
use tradia_core::{
    Engine, Guidance, IdentityEngine, LanguageTag, QualityReport, SegmentFlag, SegmentResult,
    TranslateRequest,
};
use tradia_formats::{Document, ExtractOptions, MergeOptions, extract};
use tradia_llm::{LlmEngine, LlmSettings};
use tradia_llm_sim::{FaultSpec, SimConfig, SimMode, start};

const CORE: &str = "http://www.utc.fr/ics/scenari/v3/core";
const PRIMITIVE: &str = "http://www.utc.fr/ics/scenari/v3/primitive";

/// A cloze exercise of `n` sentences, each with a gap whose options hold the answer, a
/// distractor, `X` and a space, and a synonym; then a short-answer field.
fn quiz(n: usize) -> String {
    let mut paras = String::new();
    for i in 0..n {
        paras.push_str(&format!(
            r#"<sc:para xml:space="preserve">Au match {i}, le <sc:textLeaf role="gap"><op:gapM><sp:options><sp:option>mépris des autres</sp:option><sp:option>respect des règles {i}</sp:option><sp:option>X</sp:option><sp:option> </sp:option></sp:options><sp:synonyms><sp:synonym>respect des consignes {i}</sp:synonym></sp:synonyms></op:gapM>respect des règles {i}</sc:textLeaf> fait gagner l'équipe.</sc:para>"#
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sc:item xmlns:sc="{CORE}">
	<op:cloze xmlns:op="utc.fr:ics/opale3" xmlns:sp="{PRIMITIVE}">
		<op:exeM><sp:title>Règles du jeu</sp:title></op:exeM>
		<sc:gapText><op:clozeTxt>{paras}</op:clozeTxt></sc:gapText>
		<sc:question><op:res><sp:txt><op:txt><sc:para xml:space="preserve">Quel adjectif vient du nom « argent » ?</sc:para></op:txt></sp:txt></op:res></sc:question>
		<sp:asw><sc:SFSolution><sc:value>pécuniaire</sc:value></sc:SFSolution></sp:asw>
	</op:cloze>
</sc:item>"#
    )
}

fn en() -> LanguageTag {
    LanguageTag::parse("en").unwrap()
}

async fn translate(
    doc: &Document,
    mode: SimMode,
    faults: &str,
) -> (Vec<SegmentResult>, tradia_llm_sim::SimStats) {
    let handle = start(SimConfig {
        port: 0,
        slots: 4,
        time_scale: 400.0,
        mode,
        faults: FaultSpec::parse(faults).unwrap(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut settings = LlmSettings::for_ollama(&handle.base_url(), "m");
    settings.timeout = Duration::from_secs(10);
    settings.retry_base_delay = Duration::from_millis(5);
    settings.batch_size = 4;
    let engine = LlmEngine::new(settings).unwrap();
    let mut request =
        TranslateRequest::all(Some(LanguageTag::parse("fr").unwrap()), en(), &doc.segments);
    request.guidance = Arc::new(Guidance { quiz: doc.quiz.clone(), ..Guidance::default() });
    let results = engine.translate(request).await.unwrap();
    let stats = handle.stats();
    handle.shutdown().await;
    (results, stats)
}

fn merged(doc: &Document, results: &[SegmentResult]) -> String {
    let mut translations: Vec<_> = doc.segments.iter().map(|s| s.content.clone()).collect();
    for r in results {
        translations[r.id as usize] = r.content.clone();
    }
    let out = doc.merge(&translations, &MergeOptions { target: en() }).unwrap();
    String::from_utf8(out).unwrap()
}

fn is(node: Node, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(ns) && node.tag_name().name() == name
}

/// Each gap of the output: (answer, options, synonyms), read with roxmltree.
fn gaps(xml: &str) -> Vec<(String, Vec<String>, Vec<String>)> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed output");
    doc.descendants()
        .filter(|n| is(*n, CORE, "textLeaf") && n.attribute("role") == Some("gap"))
        .map(|gap| {
            let answer: String =
                gap.children().filter(Node::is_text).map(|t| t.text().unwrap()).collect();
            let texts = |name: &str| -> Vec<String> {
                gap.descendants()
                    .filter(|n| is(*n, PRIMITIVE, name))
                    .map(|n| n.text().unwrap_or("").to_string())
                    .collect()
            };
            (answer, texts("option"), texts("synonym"))
        })
        .collect()
}

fn value(xml: &str) -> String {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let v = doc.descendants().find(|n| is(*n, CORE, "value")).unwrap();
    v.text().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contextual_mode_keeps_every_answer_among_its_options() {
    let xml = quiz(6);
    let doc = extract("regles.quiz", xml.as_bytes(), &ExtractOptions::default()).unwrap();
    assert_eq!(doc.quiz.len(), 7, "six clozes and the short answer");

    // Identity is byte-exact, quiz terms included.
    let identity =
        IdentityEngine.translate(TranslateRequest::all(None, en(), &doc.segments)).await.unwrap();
    assert_eq!(merged(&doc, &identity).as_bytes(), xml.as_bytes());

    let (results, stats) = translate(&doc, SimMode::Contextual, "").await;
    assert!(results.iter().all(|r| r.kept.is_none()), "{results:?}");
    let out = merged(&doc, &results);
    let source_gaps = gaps(&xml);
    let out_gaps = gaps(&out);
    assert_eq!(out_gaps.len(), 6);
    for ((answer, options, synonyms), (src_answer, src_options, _)) in
        out_gaps.iter().zip(&source_gaps)
    {
        assert!(options.contains(answer), "{answer:?} is not among {options:?}");
        assert!(answer.contains(OPEN_MARK) && answer != src_answer, "{answer:?}");
        assert_eq!(&options[2..], ["X", " "], "the fixed options come back as they were");
        assert_ne!(options[..2], src_options[..2]);
        assert!(synonyms.iter().all(|s| s.contains(OPEN_MARK)), "{synonyms:?}");
    }
    // One request per cloze saw its answer and its options together.
    for i in 0..6 {
        assert_eq!(stats.segments.get(&format!("respect des règles {i}")), Some(&2), "{i}");
    }
    // The sentences around the gaps are translated (as ordinary segments).
    assert!(out.contains("⟦Áú mátçh"), "{out}");
    let answer = value(&out);
    assert!(answer.contains(OPEN_MARK), "short answer translated: {answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn term_drift_keeps_the_source_terms_and_reports_them() {
    let xml = quiz(3);
    let doc = extract("regles.quiz", xml.as_bytes(), &ExtractOptions::default()).unwrap();
    let (results, stats) = translate(&doc, SimMode::Contextual, "term_drift=1").await;
    assert!(stats.faults.get("term_drift").copied().unwrap_or(0) >= 6, "{:?}", stats.faults);
    let out = merged(&doc, &results);
    // Each cloze is as in the source: answer and options consistent, in French.
    assert_eq!(gaps(&out), gaps(&xml));
    assert_eq!(out.matches("⟦Áú mátçh").count(), 3, "sentences still translated: {out}");
    let cloze_terms: Vec<u32> =
        doc.quiz.iter().take(3).flat_map(|g| g.term_ids().collect::<Vec<_>>()).collect();
    assert_eq!(cloze_terms.len(), 12);
    for id in &cloze_terms {
        let r = results.iter().find(|r| r.id == *id).unwrap();
        assert_eq!(r.kept.as_ref().map(|k| k.code.as_str()), Some("quiz_kept"), "{r:?}");
        let reason = r.flags.iter().find_map(|f| match f {
            SegmentFlag::QuizKept { reason } => Some(reason.clone()),
            _ => None,
        });
        assert!(reason.as_deref().is_some_and(|w| w.contains("answer")), "{reason:?}");
    }
    // The short answer has no repeated term: drift does not touch it.
    assert!(value(&out).contains(OPEN_MARK));
    let file = FileReport::new(0, "regles.quiz", &doc.segments, &results);
    let report = QualityReport::new(vec![file]);
    assert_eq!(report.counts.get("quiz_kept"), Some(&12), "{:?}", report.counts);
    let flagged = &report.files[0].flagged;
    assert!(flagged.iter().any(|s| s.source == "<x1/>respect des règles 0"), "{flagged:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_answer_is_translated_with_its_question_or_kept_and_flagged() {
    let xml = quiz(0);
    let doc = extract("adjectif.quiz", xml.as_bytes(), &ExtractOptions::default()).unwrap();
    assert_eq!(doc.quiz.len(), 1);
    let value_id = doc.quiz[0].terms[0].0;
    assert_eq!(doc.segments[doc.quiz[0].context[0] as usize].field, "sc:para");

    let (results, _) = translate(&doc, SimMode::Contextual, "").await;
    let v = value(&merged(&doc, &results));
    assert!(v.contains(OPEN_MARK) && v.contains("péçúñíáíré"), "{v}");

    // No answer comes back for it: the value keeps its source and is flagged.
    let (results, _) = translate(&doc, SimMode::Pseudo, "missing_id=1").await;
    assert_eq!(value(&merged(&doc, &results)), "pécuniaire");
    let r = results.iter().find(|r| r.id == value_id).unwrap();
    assert!(r.flags.iter().any(|f| matches!(f, SegmentFlag::QuizKept { .. })), "{r:?}");
}
