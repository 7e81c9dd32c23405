//! How `tradia translate` shows its progress while files are translated at once.
//!
//! On a terminal (standard output and standard error both), an `indicatif` bar counts segments
//! over every file. Anywhere else (a log file, a CI job, `nohup`), a bar draws nothing, so a long
//! run would print nothing for many minutes: instead one line per file goes to standard error when
//! its translation starts and when it ends, and a summary line at most once a minute in between
//! ([`Progress::heartbeat`]). Those lines say what is happening, not what happened: their order
//! follows the work, whereas the per-file warnings and errors are printed in input order by the
//! caller.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tradia_core::{ResultSink, SegmentResult};

/// How often the summary line is printed at most when there is no bar.
pub(super) const HEARTBEAT: Duration = Duration::from_secs(60);

/// Progress over every file of a run.
pub(super) struct Progress {
    bar: ProgressBar,
    /// True when lines are printed instead of a bar.
    lines: bool,
    total_segments: u64,
    total_files: usize,
    done_segments: AtomicU64,
    done_files: AtomicUsize,
    started: Instant,
}

impl Progress {
    /// A bar on a terminal, lines elsewhere.
    pub(super) fn new(total_segments: u64, total_files: usize) -> Progress {
        let interactive = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        Progress::with_lines(total_segments, total_files, !interactive)
    }

    /// `lines`: print lines (no terminal) rather than draw a bar.
    pub(super) fn with_lines(total_segments: u64, total_files: usize, lines: bool) -> Progress {
        let bar = if lines {
            ProgressBar::with_draw_target(Some(total_segments), ProgressDrawTarget::hidden())
        } else {
            let bar = ProgressBar::new(total_segments);
            bar.enable_steady_tick(Duration::from_millis(200));
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} {msg:20!} [{bar:40}] {pos}/{len} segments ({eta} left)",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        };
        Progress {
            bar,
            lines,
            total_segments,
            total_files,
            done_segments: AtomicU64::new(0),
            done_files: AtomicUsize::new(0),
            started: Instant::now(),
        }
    }

    /// Prints `text` on stderr without breaking the bar.
    pub(super) fn say(&self, text: &str) {
        self.suspend(|| eprintln!("{text}"));
    }

    /// Runs `f` (which prints) with the bar out of the way.
    pub(super) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// A file's translation starts.
    pub(super) fn file_started(&self, name: &str, segments: usize) {
        self.bar.set_message(name.to_string());
        if self.lines {
            eprintln!("progress: {name}: started ({segments} segments)");
        }
    }

    /// A file's translation ended (`kept`: segments kept as source; `None`: it failed).
    pub(super) fn file_done(&self, name: &str, kept: Option<usize>, took: Duration) {
        let files = self.done_files.fetch_add(1, Ordering::Relaxed) + 1;
        if self.lines {
            let how = match kept {
                Some(kept) => format!("done, {kept} kept as source"),
                None => "failed".to_string(),
            };
            eprintln!(
                "progress: {name}: {how} in {:.1} s ({files}/{} files, {}/{} segments)",
                took.as_secs_f64(),
                self.total_files,
                self.done_segments.load(Ordering::Relaxed),
                self.total_segments
            );
        }
    }

    /// Prints the summary line every [`HEARTBEAT`] while the run lasts (when there is no bar);
    /// never returns, so it is raced against the work.
    pub(super) async fn heartbeat(&self) {
        let mut every = tokio::time::interval(HEARTBEAT);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        every.tick().await; // the first tick is immediate
        loop {
            every.tick().await;
            if self.lines {
                eprintln!(
                    "progress: {}/{} segments, {}/{} files done, {} s elapsed",
                    self.done_segments.load(Ordering::Relaxed),
                    self.total_segments,
                    self.done_files.load(Ordering::Relaxed),
                    self.total_files,
                    self.started.elapsed().as_secs()
                );
            }
        }
    }

    /// Clears the bar at the end of the run.
    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl ResultSink for Progress {
    fn segment_done(&self, _result: &SegmentResult) {
        self.done_segments.fetch_add(1, Ordering::Relaxed);
        self.bar.inc(1);
    }
}
