use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::task::{Context, Poll, Waker};

use super::*;
use crate::segment::KeptReason;

/// Polls a future that never waits on I/O (everything here is in memory) to completion.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// A memory in a vector, scoped to nothing (the store's tests cover scopes).
#[derive(Default)]
struct VecMemory {
    entries: Mutex<Vec<(LanguagePair, MemoryRecord)>>,
    broken: AtomicBool,
}

impl VecMemory {
    fn check(&self) -> Result<(), MemoryError> {
        if self.broken.load(Ordering::SeqCst) {
            Err(MemoryError("disk on fire".into()))
        } else {
            Ok(())
        }
    }
}

impl TranslationMemory for VecMemory {
    fn exact<'a>(
        &'a self,
        pair: &'a LanguagePair,
        sources: &'a [Content],
    ) -> BoxFuture<'a, Result<Vec<Option<MemoryMatch>>, MemoryError>> {
        Box::pin(async move {
            self.check()?;
            let entries = self.entries.lock().unwrap();
            Ok(sources
                .iter()
                .map(|s| {
                    entries
                        .iter()
                        .rev()
                        .find(|(p, r)| p == pair && memory_key(&r.source) == memory_key(s))
                        .map(|(_, r)| MemoryMatch {
                            source: r.source.clone(),
                            target: r.target.clone(),
                        })
                })
                .collect())
        })
    }

    fn fuzzy<'a>(
        &'a self,
        pair: &'a LanguagePair,
        _source: &'a Content,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<MemoryMatch>, MemoryError>> {
        Box::pin(async move {
            self.check()?;
            let entries = self.entries.lock().unwrap();
            Ok(entries
                .iter()
                .filter(|(p, _)| p == pair)
                .take(limit)
                .map(|(_, r)| MemoryMatch { source: r.source.clone(), target: r.target.clone() })
                .collect())
        })
    }

    fn record<'a>(
        &'a self,
        pair: &'a LanguagePair,
        records: Vec<MemoryRecord>,
    ) -> BoxFuture<'a, Result<(), MemoryError>> {
        Box::pin(async move {
            self.check()?;
            let mut entries = self.entries.lock().unwrap();
            entries.extend(records.into_iter().map(|r| (pair.clone(), r)));
            Ok(())
        })
    }
}

/// Pseudo-translates, remembering what it was asked and with which examples; keeps the source
/// of any segment whose text contains "KEEP".
#[derive(Default)]
struct Asked {
    asked: Mutex<Vec<SegmentId>>,
    examples: Mutex<BTreeMap<SegmentId, Vec<Example>>>,
}

impl Engine for Asked {
    fn name(&self) -> &str {
        "asked"
    }
    fn translate<'a>(
        &'a self,
        request: TranslateRequest<'a>,
    ) -> BoxFuture<'a, Result<Vec<SegmentResult>, EngineError>> {
        Box::pin(async move {
            self.examples.lock().unwrap().extend(request.guidance.examples.clone());
            let mut out = Vec::new();
            for s in request.pending_segments() {
                self.asked.lock().unwrap().push(s.id);
                let result = if s.content.plain_text().contains("KEEP") {
                    SegmentResult {
                        kept: Some(KeptReason { code: "test".into(), message: "kept".into() }),
                        ..SegmentResult::kept_source(s, "test", "kept")
                    }
                } else {
                    let core = s.edges().core;
                    SegmentResult::from_core(s, &crate::pseudo::pseudo_content(&core)).unwrap()
                };
                request.sink.segment_done(&result);
                out.push(result);
            }
            Ok(out)
        })
    }
}

#[derive(Default)]
struct Sink(Mutex<Vec<SegmentResult>>);

impl ResultSink for Sink {
    fn segment_done(&self, result: &SegmentResult) {
        self.0.lock().unwrap().push(result.clone());
    }
}

fn segments(texts: &[&str]) -> Vec<Segment> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| Segment {
            id: i as u32,
            content: Content::parse(t).unwrap(),
            location: String::new(),
            field: String::new(),
        })
        .collect()
}

fn run(engine: &WithMemory<Arc<Asked>>, segs: &[Segment], sink: &Sink) -> Vec<SegmentResult> {
    let mut request =
        TranslateRequest::all(Some("fr".parse().unwrap()), "en".parse().unwrap(), segs);
    request.sink = sink;
    block_on(engine.translate(request)).unwrap()
}

fn merged(results: &[SegmentResult]) -> Vec<String> {
    results.iter().map(|r| r.content.render()).collect()
}

#[test]
fn the_second_run_asks_the_engine_nothing_and_gives_the_same_output() {
    let memory = Arc::new(VecMemory::default());
    let inner = Arc::new(Asked::default());
    let engine = WithMemory::new(inner.clone(), memory.clone());
    let segs = segments(&["Bonjour <g1>tout</g1> le monde.", "  Au revoir.  ", "<x1/>Merci."]);
    let first = run(&engine, &segs, &Sink::default());
    assert_eq!(inner.asked.lock().unwrap().len(), 3);
    assert_eq!(memory.entries.lock().unwrap().len(), 3);

    inner.asked.lock().unwrap().clear();
    let sink = Sink::default();
    let second = run(&engine, &segs, &sink);
    assert!(inner.asked.lock().unwrap().is_empty(), "the engine was asked again");
    assert_eq!(merged(&first), merged(&second));
    assert!(second.iter().all(|r| r.flags == vec![SegmentFlag::MemoryExact]));
    assert_eq!(sink.0.lock().unwrap().len(), 3, "memory answers go to the sink too");
    assert_eq!(engine.memory_stats().exact, 3);
}

#[test]
fn an_exact_match_lacking_a_glossary_term_goes_to_the_engine_with_the_terms() {
    let memory = Arc::new(VecMemory::default());
    let inner = Arc::new(Asked::default());
    let engine = WithMemory::new(inner.clone(), memory.clone());
    let segs = segments(&["Le cours commence.", "Le parcours finit.", "Un cours lu."]);
    // Recorded before any glossary existed: pseudo translations, without "course".
    run(&engine, &segs, &Sink::default());
    // A third entry whose remembered translation already has the term's target.
    let pair = LanguagePair { source: "fr".parse().unwrap(), target: "en".parse().unwrap() };
    memory.entries.lock().unwrap().push((
        pair,
        MemoryRecord {
            source: Content::parse("Un cours lu.").unwrap(),
            target: Content::parse("A Course read.").unwrap(),
        },
    ));
    inner.asked.lock().unwrap().clear();

    let guidance = Guidance {
        terms: vec![crate::guidance::Term {
            source: "cours".into(),
            target: "course".into(),
            do_not_translate: false,
            case_sensitive: false,
            note: None,
        }],
        ..Guidance::default()
    };
    let sink = Sink::default();
    let mut request =
        TranslateRequest::all(Some("fr".parse().unwrap()), "en".parse().unwrap(), &segs);
    request.sink = &sink;
    request.guidance = Arc::new(guidance.clone());
    let results = block_on(engine.translate(request)).unwrap();

    assert_eq!(*inner.asked.lock().unwrap(), vec![0], "only the remembered miss is asked again");
    let flags: Vec<bool> =
        results.iter().map(|r| r.flags.contains(&SegmentFlag::MemoryExact)).collect();
    assert_eq!(flags, vec![false, true, true], "no term in 1, the term's target in 2");
    assert_eq!(results[2].content.render(), "A Course read.");
    assert_eq!(engine.memory_stats().exact, 2);
}

#[test]
fn exact_matches_take_the_new_segments_edges_and_collapse_whitespace() {
    let memory = Arc::new(VecMemory::default());
    let inner = Arc::new(Asked::default());
    let engine = WithMemory::new(inner.clone(), memory);
    run(&engine, &segments(&["Au   revoir."]), &Sink::default());
    inner.asked.lock().unwrap().clear();
    let again = run(&engine, &segments(&["\n  <g1>Au revoir.</g1> "]), &Sink::default());
    assert!(inner.asked.lock().unwrap().is_empty());
    assert_eq!(again[0].content.render(), "\n  <g1>⟦Áú   révóír.⟧</g1> ");
}

#[test]
fn other_codes_or_languages_are_not_exact_matches() {
    let memory = Arc::new(VecMemory::default());
    let inner = Arc::new(Asked::default());
    let engine = WithMemory::new(inner.clone(), memory);
    run(&engine, &segments(&["Lisez le <g1>guide</g1> ici."]), &Sink::default());
    inner.asked.lock().unwrap().clear();
    run(&engine, &segments(&["Lisez le guide ici."]), &Sink::default());
    assert_eq!(inner.asked.lock().unwrap().len(), 1, "codes differ: not an exact match");
    inner.asked.lock().unwrap().clear();
    let segs = segments(&["Lisez le guide ici."]);
    let mut request =
        TranslateRequest::all(Some("fr".parse().unwrap()), "de".parse().unwrap(), &segs);
    request.sink = &NoSinkHere;
    block_on(engine.translate(request)).unwrap();
    assert_eq!(inner.asked.lock().unwrap().len(), 1, "another target language");
}

struct NoSinkHere;
impl ResultSink for NoSinkHere {
    fn segment_done(&self, _: &SegmentResult) {}
}

#[test]
fn near_identical_segments_get_examples_and_the_fuzzy_flag() {
    let memory = Arc::new(VecMemory::default());
    let inner = Arc::new(Asked::default());
    let engine = WithMemory::new(inner.clone(), memory);
    run(&engine, &segments(&["Le chat dort sur le canapé du salon."]), &Sink::default());
    assert!(inner.examples.lock().unwrap().is_empty());
    let sink = Sink::default();
    let results = run(
        &engine,
        &segments(&["Le chat dort sur le canapé du jardin.", "Rien à voir avec ça."]),
        &sink,
    );
    let examples = inner.examples.lock().unwrap().clone();
    assert_eq!(examples.len(), 1, "{examples:?}");
    let ex = &examples[&0];
    assert_eq!(ex[0].source.render(), "Le chat dort sur le canapé du salon.");
    assert!(ex[0].score > 0.8 && ex[0].score < 1.0, "{}", ex[0].score);
    assert!(
        matches!(results[0].flags[..], [SegmentFlag::MemoryFuzzy { score_percent }] if score_percent > 80)
    );
    assert!(results[1].flags.is_empty());
    let sunk = sink.0.lock().unwrap();
    assert!(sunk.iter().any(|r| r.id == 0 && !r.flags.is_empty()), "the sink sees the flag");
}

#[test]
fn kept_segments_are_not_recorded_and_a_broken_memory_does_not_fail_the_translation() {
    let memory = Arc::new(VecMemory::default());
    let inner = Arc::new(Asked::default());
    let errors = Arc::new(AtomicU64::new(0));
    let counted = errors.clone();
    let engine = WithMemory::new(inner.clone(), memory.clone()).on_error(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    run(&engine, &segments(&["KEEP this.", "Traduis ça."]), &Sink::default());
    let recorded: Vec<String> =
        memory.entries.lock().unwrap().iter().map(|(_, r)| r.source.render()).collect();
    assert_eq!(recorded, vec!["Traduis ça.".to_string()]);

    memory.broken.store(true, Ordering::SeqCst);
    inner.asked.lock().unwrap().clear();
    let results = run(&engine, &segments(&["Traduis ça."]), &Sink::default());
    assert_eq!(results.len(), 1);
    assert_eq!(inner.asked.lock().unwrap().len(), 1, "no memory: the engine translates");
    assert!(errors.load(Ordering::SeqCst) >= 2, "lookup and record failures reported");
}

#[test]
fn the_result_core_is_the_translation_between_the_edges() {
    let seg = &segments(&["  <x1/><g2>Bonjour</g2>\n"])[0];
    let result = SegmentResult::from_core(seg, &Content::text("Hello")).unwrap();
    assert_eq!(result.content.render(), "  <x1/><g2>Hello</g2>\n");
    assert_eq!(result_core(seg, &result.content).unwrap().render(), "Hello");
    assert_eq!(result_core(seg, &Content::text("Hello")), None);
}

#[test]
fn similarity_is_normalised_levenshtein_on_plain_text() {
    let a = Content::parse("Le <g1>chat</g1> dort.").unwrap();
    let b = Content::parse("Le chat  dort.").unwrap();
    assert_eq!(similarity(&a, &b), 1.0);
    assert!(similarity(&a, &Content::text("Le chien dort.")) < 0.9);
}
