//! Benchmark (ignored, not a timed test): exact lookup and fuzzy-candidate retrieval in a
//! translation memory of `TRADIA_BENCH_ENTRIES` entries (default 1,000,000) on SQLite, and on
//! PostgreSQL when `TRADIA_BENCH_DATABASE_URL` is set (a database of its own: the bench writes
//! into it). Prints the write rate (batches of 10,000 entries, one transaction each) and p50/p99
//! per lookup of one segment.
//!
//! `cargo test -p tradia-store --release --test memory_bench -- --ignored --nocapture`
//!
//! With `TRADIA_BENCH_DIR` (an absolute folder), the SQLite store is kept there, and a later run
//! that finds it already holding the entries only regenerates the same sentences (same seed)
//! and measures, so that lookups can be compared without writing a million entries again; on
//! PostgreSQL the same holds for a database that already has the `bench` user's entries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tradia_core::{Content, LanguageTag};
use tradia_store::{Caller, MemoryOrigin, MemoryScope, NewMemoryEntry, NewUser, Role, Store};

const WORDS: &[&str] = &[
    "le",
    "la",
    "les",
    "un",
    "une",
    "des",
    "élève",
    "classe",
    "cours",
    "séance",
    "chapitre",
    "module",
    "lecture",
    "exercice",
    "devoir",
    "examen",
    "professeur",
    "groupe",
    "projet",
    "document",
    "conseil",
    "commune",
    "budget",
    "rapport",
    "réunion",
    "dossier",
    "formulaire",
    "demande",
    "service",
    "agent",
    "public",
    "maison",
    "jardin",
    "école",
    "ville",
    "région",
    "prépare",
    "présente",
    "rédige",
    "corrige",
    "envoie",
    "reçoit",
    "lit",
    "écrit",
    "publie",
    "avant",
    "après",
    "pendant",
    "avec",
    "sans",
    "pour",
    "dans",
    "sur",
    "sous",
    "entre",
    "rapide",
    "long",
    "court",
    "nouveau",
    "ancien",
    "grand",
    "petit",
    "premier",
    "dernier",
];

/// A vocabulary of `n` words: the common ones above, then invented ones made of syllables.
fn vocabulary(n: usize, rng: &mut StdRng) -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ra", "mo", "ti", "lé", "ca", "pro", "ver", "sa", "ni", "gé", "for", "ma", "tion", "con",
        "dé", "pa", "ri", "lu", "men", "ter", "bo", "cli", "nu", "sé",
    ];
    let mut words: Vec<String> = WORDS.iter().map(|w| w.to_string()).collect();
    while words.len() < n {
        let k = rng.random_range(2..5);
        words.push((0..k).map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())]).collect());
    }
    words
}

/// A sentence of 8 to 19 words drawn from a Zipf-like distribution over the vocabulary (rank r
/// drawn with probability about 1/r), as words are in real text.
fn sentence(rng: &mut StdRng, vocabulary: &[String]) -> String {
    let n = rng.random_range(8..20);
    let max = vocabulary.len() as f64;
    let mut words: Vec<String> = (0..n)
        .map(|_| {
            let rank = (max.powf(rng.random::<f64>()) as usize).saturating_sub(1);
            vocabulary[rank.min(vocabulary.len() - 1)].clone()
        })
        .collect();
    words[0] =
        words[0].chars().next().unwrap().to_uppercase().chain(words[0].chars().skip(1)).collect();
    format!("{}.", words.join(" "))
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

/// Writes the entries (unless the store already holds them) and returns the user and a
/// thousandth of the sentences, to look up.
async fn fill(store: &dyn Store, label: &str) -> (Caller, Vec<String>) {
    let entries: usize = std::env::var("TRADIA_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let user = match store.find_user_by_login("bench").await.unwrap() {
        Some(user) => user.caller(),
        None => store.create_user(NewUser::new("bench", Role::User)).await.unwrap().caller(),
    };
    let reuse = store.count_memory_for(&user, MemoryScope::Own).await.unwrap() == entries as u64;
    let (fr, en): (LanguageTag, LanguageTag) = ("fr".parse().unwrap(), "en".parse().unwrap());
    let mut rng = StdRng::seed_from_u64(7);
    let vocabulary = vocabulary(20_000, &mut rng);
    let started = Instant::now();
    let mut kept = Vec::new();
    let mut written = 0;
    while written < entries {
        let chunk: Vec<NewMemoryEntry> = (0..(entries - written).min(10_000))
            .map(|_| {
                let s = sentence(&mut rng, &vocabulary);
                if rng.random_range(0..1000) == 0 {
                    kept.push(s.clone());
                }
                NewMemoryEntry {
                    source_lang: fr.clone(),
                    target_lang: en.clone(),
                    target: Content::text(format!("EN {s}")),
                    source: Content::text(s),
                    origin: MemoryOrigin::Imported,
                    model: None,
                    prompt_version: None,
                    job: None,
                }
            })
            .collect();
        written += chunk.len();
        if !reuse {
            store.record_memory_for(&user, MemoryScope::Own, chunk).await.unwrap();
        }
    }
    let stored = store.export_memory_for(&user, MemoryScope::Own, None, 1).await.unwrap();
    assert!(!stored.is_empty());
    let seconds = started.elapsed().as_secs_f64();
    if reuse {
        println!("{label}: {written} entries already stored, reused");
    } else {
        println!(
            "{label}: {written} entries written in {seconds:.1} s ({:.0} entries/s)",
            written as f64 / seconds
        );
    }

    kept.truncate(1000);
    (user, kept)
}

/// Times the exact and the fuzzy lookup of each of `queries`.
async fn measure(store: &dyn Store, user: &Caller, queries: &[String], label: &str) {
    let (fr, en): (LanguageTag, LanguageTag) = ("fr".parse().unwrap(), "en".parse().unwrap());
    let user = *user;
    let mut exact = Vec::new();
    let mut hits = 0;
    for q in queries {
        let t = Instant::now();
        let found = store
            .memory_exact_for(&user, MemoryScope::Own, &fr, &en, &[Content::text(q.as_str())])
            .await
            .unwrap();
        exact.push(t.elapsed());
        hits += usize::from(found[0].is_some());
    }
    let n = queries.len();
    println!(
        "{label}: exact lookup of one segment, {n} queries ({hits} hits): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&mut exact, 0.5).as_secs_f64() * 1e3,
        percentile(&mut exact, 0.99).as_secs_f64() * 1e3
    );
    let mut fuzzy = Vec::new();
    let mut found_original = 0;
    for q in queries {
        // A near-identical segment: one word added.
        let near = q.replacen(' ', " très ", 1);
        let t = Instant::now();
        let found = store
            .memory_fuzzy_for(&user, MemoryScope::Own, &fr, &en, &Content::text(near), 10)
            .await
            .unwrap();
        fuzzy.push(t.elapsed());
        found_original += usize::from(found.iter().any(|e| e.source.render() == **q));
    }
    println!(
        "{label}: fuzzy candidates (10) of one segment, {n} queries (original among them: {found_original}): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&mut fuzzy, 0.5).as_secs_f64() * 1e3,
        percentile(&mut fuzzy, 0.99).as_secs_f64() * 1e3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn memory_lookups_at_scale() {
    let temporary = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("TRADIA_BENCH_DIR").map(std::path::PathBuf::from);
    let dir = kept.as_deref().unwrap_or(temporary.path());
    std::fs::create_dir_all(dir).unwrap();
    let store = tradia_store::connect(&tradia_store::sqlite_url(dir)).await.unwrap();
    let (user, queries) = fill(store.as_ref(), "sqlite").await;
    measure(store.as_ref(), &user, &queries, "sqlite").await;
    if let Ok(url) = std::env::var("TRADIA_BENCH_DATABASE_URL") {
        let store = tradia_store::connect(&url).await.unwrap();
        let (user, queries) = fill(store.as_ref(), "postgres").await;
        measure(store.as_ref(), &user, &queries, "postgres").await;
        // What autovacuum leaves after a bulk import, a minute or so later: the visibility map
        // set (an index-only scan no longer visits the table) and fresh statistics.
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let started = Instant::now();
        sqlx::query("VACUUM (ANALYZE) memory_entries, memory_postings, memory_term_df")
            .execute(&pool)
            .await
            .unwrap();
        println!("postgres: VACUUM (ANALYZE) took {:.1} s", started.elapsed().as_secs_f64());
        measure(store.as_ref(), &user, &queries, "postgres, vacuumed").await;
    }
}
