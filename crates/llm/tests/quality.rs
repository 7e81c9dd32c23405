//! The quality report of a fault-injected run (issue 15): the simulator drops inline codes and
//! echoes sources often enough that some segments end with their codes reinserted by alignment
//! and some kept as source; the report built from the results must list exactly the segments
//! the engine counted as kept and as repaired (its counters, not a list written here), and
//! every translated segment names the model that produced it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use tradia_core::quality::{FileReport, QualityReport};
use tradia_core::{
    CancelFlag, Content, Engine, LanguageTag, Priority, ResultSink, Segment, SegmentFlag,
    SegmentResult, TranslateRequest,
};
use tradia_llm::{LlmEngine, LlmSettings};
use tradia_llm_sim::{FaultSpec, SimConfig, start};

#[derive(Default)]
struct Collect(Mutex<Vec<SegmentResult>>);
impl ResultSink for Collect {
    fn segment_done(&self, r: &SegmentResult) {
        self.0.lock().unwrap().push(r.clone());
    }
}

fn document(n: u32) -> Vec<Segment> {
    (0..n)
        .map(|i| {
            let text = match i % 3 {
                0 => format!("Cliquez sur <g1>le bouton {i}</g1> puis sur <g2>Valider</g2>."),
                1 => format!("Le paragraphe {i} décrit <x1/> le projet de la classe."),
                _ => format!("Lisez la <g1>section {i}</g1> du guide pédagogique."),
            };
            Segment {
                id: i,
                content: Content::parse(&text).unwrap(),
                location: format!("p #{i}"),
                field: "p".into(),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_lists_every_kept_and_repaired_segment_the_engine_counted() {
    let config = SimConfig {
        port: 0,
        slots: 4,
        time_scale: 400.0,
        faults: FaultSpec::parse("drop_code=0.8,echo=0.5").unwrap(),
        seed: 11,
        ..SimConfig::default()
    };
    let handle = start(config).await.unwrap();
    let mut settings = LlmSettings::for_ollama(&handle.base_url(), "sim-model");
    settings.timeout = Duration::from_secs(5);
    settings.retry_base_delay = Duration::from_millis(5);
    let engine = LlmEngine::new(settings).unwrap();
    let segs = document(120);
    let sink = Collect::default();
    let request = TranslateRequest {
        source: Some(LanguageTag::parse("fr").unwrap()),
        target: LanguageTag::parse("en").unwrap(),
        segments: &segs,
        pending: segs.iter().map(|s| s.id).collect(),
        priority: Priority::Document,
        owner: "job".into(),
        cancel: CancelFlag::new(),
        sink: &sink,
        guidance: Default::default(),
    };
    let results = engine.translate(request).await.unwrap();
    let reported = sink.0.into_inner().unwrap();
    // What the sink saw is what is persisted: its flags are the returned ones.
    for r in &results {
        assert!(reported.iter().any(|x| x == r), "segment {} reported as returned", r.id);
    }

    let stats = engine.detailed_stats();
    assert!(stats.kept > 0 && stats.repaired > 0, "the faults must bite: {stats:?}");
    let report = QualityReport::new(vec![FileReport::new(0, "doc.xml", &segs, &reported)]);
    assert_eq!(report.segments, segs.len() as u64);
    assert_eq!(report.counts.get("kept").copied(), Some(stats.kept));
    assert_eq!(report.counts.get("codes_repaired").copied(), Some(stats.repaired));

    let listed = |pick: &dyn Fn(&tradia_core::SegmentReport) -> bool| -> BTreeSet<u32> {
        report.files[0].flagged.iter().filter(|s| pick(s)).map(|s| s.id).collect()
    };
    let kept = listed(&|s| s.kept.is_some());
    let repaired = listed(&|s| s.flags.contains(&SegmentFlag::CodesRepaired));
    assert_eq!(kept.len() as u64, stats.kept);
    assert_eq!(repaired.len() as u64, stats.repaired);
    for r in &results {
        assert_eq!(kept.contains(&r.id), r.kept.is_some(), "segment {}", r.id);
        if let Some(k) = &r.kept {
            let s = report.files[0].flagged.iter().find(|s| s.id == r.id).unwrap();
            assert_eq!(s.kept.as_ref(), Some(k));
            assert_eq!(s.source, segs[r.id as usize].content.render());
            assert_eq!(s.location, format!("p #{}", r.id));
        }
    }
    // A repaired segment's codes are its source's: alignment put them back.
    for id in &repaired {
        let r = results.iter().find(|r| r.id == *id).unwrap();
        assert_eq!(r.content.codes(), segs[*id as usize].content.codes(), "segment {id}");
    }
    // Every translation names its model; kept segments name none (no model's output is used).
    let translated = results.iter().filter(|r| r.kept.is_none()).count() as u64;
    assert_eq!(report.models.get("sim-model").copied(), Some(translated));
    println!(
        "drop_code=0.8,echo=0.5: {} segments, {} kept, {} repaired, counts {:?}",
        segs.len(),
        stats.kept,
        stats.repaired,
        report.counts
    );
}
