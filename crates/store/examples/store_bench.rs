//! Measures the store's hot paths on a real database: saving segments one by one from several
//! concurrent jobs (what the job runner does as results arrive), reading a job's progress, and
//! claiming.
//!
//! ```text
//! cargo run --release -p tradia-store --example store_bench -- [DATABASE_URL] [JOBS] [SEGMENTS]
//! ```
//! Without a URL it uses a SQLite file in a temporary folder. On PostgreSQL, point it at a
//! scratch database: it creates jobs and leaves them there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tradia_core::LanguageTag;
use tradia_store::{BlobKey, ClaimOptions, NewJob, NewJobFile, Store, StoredSegment};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = tempfile::tempdir()?;
    let url = args.first().cloned().unwrap_or_else(|| tradia_store::sqlite_url(dir.path()));
    let jobs: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(8);
    let segments: u32 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(500);
    let store: Arc<dyn Store> = tradia_store::connect(&url).await?;
    println!(
        "backend {} ({}), {jobs} concurrent jobs x {segments} segments",
        store.backend(),
        tradia_store::redact_url(&url)
    );

    for _ in 0..jobs {
        store
            .create_job(NewJob {
                source_lang: None,
                target_lang: LanguageTag::parse("fr")?,
                model: None,
                files: vec![NewJobFile {
                    name: "bench.xml".into(),
                    format: None,
                    input_blob: BlobKey::generate(),
                    size: 1,
                }],
            })
            .await?;
    }
    let mut claim_times = Vec::new();
    let mut leases = Vec::new();
    for w in 0..jobs {
        let options = ClaimOptions {
            worker: format!("bench-{w}"),
            lease_ttl: Duration::from_secs(300),
            max_attempts: 10,
            max_running_per_owner: 0,
        };
        let start = Instant::now();
        let claimed = store.claim_next_job(&options).await?.ok_or("nothing to claim")?;
        claim_times.push(start.elapsed());
        leases.push(claimed.lease);
    }

    let started = Instant::now();
    let mut tasks = Vec::new();
    for lease in leases {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(segments as usize);
            for id in 0..segments {
                let segment = StoredSegment {
                    file_index: 0,
                    segment_id: id,
                    content: format!(
                        "Un segment traduit numéro <g1>{id}</g1> avec un peu de texte."
                    ),
                    kept_code: None,
                    kept_message: None,
                    flags: Vec::new(),
                };
                let start = Instant::now();
                store.save_segment(&lease, segment).await.expect("save");
                times.push(start.elapsed());
            }
            times
        }));
    }
    let mut save_times = Vec::new();
    for t in tasks {
        save_times.extend(t.await?);
    }
    let total = started.elapsed();
    save_times.sort();
    let saved = save_times.len();
    println!(
        "save_segment: {saved} saves in {:.2}s = {:.0}/s; latency p50 {:?} p99 {:?} max {:?}",
        total.as_secs_f64(),
        saved as f64 / total.as_secs_f64(),
        percentile(&save_times, 0.5),
        percentile(&save_times, 0.99),
        save_times.last().copied().unwrap_or_default()
    );

    let page = store.list_jobs(jobs as u32, None).await?;
    let mut get_times = Vec::new();
    for _ in 0..20 {
        for job in &page.jobs {
            let start = Instant::now();
            let j = store.get_job(job.id).await?;
            get_times.push(start.elapsed());
            assert_eq!(j.progress().done, u64::from(segments));
        }
    }
    get_times.sort();
    println!(
        "get_job with {segments} saved segments: p50 {:?} p99 {:?}",
        percentile(&get_times, 0.5),
        percentile(&get_times, 0.99)
    );
    claim_times.sort();
    println!(
        "claim_next_job: p50 {:?} max {:?}",
        percentile(&claim_times, 0.5),
        claim_times.last().copied().unwrap_or_default()
    );
    Ok(())
}
