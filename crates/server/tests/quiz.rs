#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A Scenari cloze quiz translated by a job (issue 13, point 5): the runner hands the engine the
//! document's quiz groups, so with a simulator that translates equal terms apart
//! (`term_drift`) the gap keeps its source terms in the result, the sentence around it is
//! translated, and the job's quality report counts each term `quiz_kept` with its reason.

mod common;

use common::*;
use serde_json::Value;

const QUIZ: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core"><op:cloze xmlns:op="utc.fr:ics/opale3" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive"><sc:gapText><op:clozeTxt><sc:para xml:space="preserve">Le <sc:textLeaf role="gap"><op:gapM><sp:options><sp:option>respect des règles</sp:option><sp:option>mépris des autres</sp:option><sp:option> </sp:option></sp:options><sp:synonyms><sp:synonym>respect des consignes</sp:synonym></sp:synonyms></op:gapM>respect des règles</sc:textLeaf> fait gagner l'équipe.</sc:para><sc:para>Chaque joueur écoute l'arbitre.</sc:para><sc:para>Les remplaçants attendent sur le banc.</sc:para><sc:para>Le capitaine parle au nom de l'équipe.</sc:para><sc:para>Le match dure deux mi-temps.</sc:para></op:clozeTxt></sc:gapText></op:cloze></sc:item>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_quiz_whose_terms_disagree_keeps_them_and_the_report_says_so() {
    let sim = tradia_llm_sim::start(tradia_llm_sim::SimConfig {
        port: 0,
        slots: 4,
        time_scale: 2000.0,
        mode: tradia_llm_sim::SimMode::Contextual,
        faults: tradia_llm_sim::FaultSpec::parse("term_drift=1").unwrap(),
        ..tradia_llm_sim::SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &sim).await;
    let base = base(&server);
    let inputs = [("cloze.quiz", QUIZ.as_bytes().to_vec())];
    let (status, job) =
        post_job(&base, &inputs, &[("source_lang", "fr"), ("target_lang", "en")]).await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap();
    let done = wait_job(&base, id, 120, |j| j["status"] == "done" || j["status"] == "failed").await;
    assert_eq!(done["status"], "done", "{done}");

    let report: Value = client()
        .get(format!("{base}/api/v1/jobs/{id}/report"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["counts"]["quiz_kept"], 4, "{report}");
    let flagged = report["files"][0]["flagged"].as_array().unwrap();
    let quiz: Vec<&Value> = flagged
        .iter()
        .filter(|s| s["flags"].as_array().unwrap().iter().any(|f| f["flag"] == "quiz_kept"))
        .collect();
    assert_eq!(quiz.len(), 4, "{report}");
    assert!(quiz.iter().all(|s| s["source"] == s["target"]), "{report}");
    assert!(quiz[0]["flags"][0]["reason"].as_str().unwrap().contains("answer"), "{report}");

    let result = client().get(format!("{base}/api/v1/jobs/{id}/result")).send().await.unwrap();
    assert_eq!(result.status(), 200);
    let out = result.text().await.unwrap();
    assert!(out.contains("<sp:option>respect des règles</sp:option>"), "{out}");
    assert!(out.contains("</op:gapM>respect des règles</sc:textLeaf>"), "{out}");
    assert!(out.contains("<sp:option> </sp:option>"), "{out}");
    assert!(out.contains("⟦Lé"), "the sentence is translated: {out}");
}
