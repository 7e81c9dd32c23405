//! When a translation run "mostly failed", so that the command line and the service say so
//! instead of reporting success over a document that came back in its source language.
//!
//! A real small model behind a misconfigured server (a context too small for every request, a
//! wrong model, a refused key) kept every segment as source while the run ended with status 0
//! (issue 18). The rule is one function shared by `tradia translate` (exit status 3) and the
//! service (a `done` job with a `warning`): more than a configurable share of the segments sent
//! kept as source, or every one of them kept for one and the same reason.

use crate::KeptReason;

/// The share of segments kept as source (in percent) above which a run mostly failed, unless
/// configured otherwise (`--max-kept-percent`, `TRADIA_MAX_KEPT_PERCENT`).
pub const DEFAULT_MAX_KEPT_PERCENT: u8 = 50;

/// Why a run that produced its files is still reported as a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunWarning {
    /// Every segment was kept as source, each for the same reason (a context too small, a
    /// model or a key refused, a model that copies its input…).
    SameFailure {
        /// Segments sent.
        total: u64,
        /// The one reason.
        reason: KeptReason,
    },
    /// More than `max_percent` percent of the segments were kept as source.
    MostlyKept {
        /// Segments kept as source.
        kept: u64,
        /// Segments sent.
        total: u64,
        /// The limit they went over.
        max_percent: u8,
    },
}

impl RunWarning {
    /// Stable code (`same_failure`, `mostly_kept`).
    pub fn code(&self) -> &'static str {
        match self {
            RunWarning::SameFailure { .. } => "same_failure",
            RunWarning::MostlyKept { .. } => "mostly_kept",
        }
    }

    /// For people.
    pub fn message(&self) -> String {
        match self {
            RunWarning::SameFailure { total, reason } => format!(
                "every request failed for the same reason: all {total} segments were kept as \
                 source ({}: {})",
                reason.code, reason.message
            ),
            RunWarning::MostlyKept { kept, total, max_percent } => format!(
                "{kept} of {total} segments ({}%) were kept as source, more than {max_percent}%: \
                 the translation mostly failed",
                kept * 100 / (*total).max(1)
            ),
        }
    }
}

/// True when `kept` of `total` is more than `max_percent` percent.
pub fn over_kept_share(kept: u64, total: u64, max_percent: u8) -> bool {
    total > 0 && u128::from(kept) * 100 > u128::from(total) * u128::from(max_percent)
}

/// Judges a run that sent `total` segments and got back `kept` (the reasons of the segments
/// kept as source); `None` when it did not mostly fail.
pub fn judge<'a>(
    total: u64,
    kept: impl IntoIterator<Item = &'a KeptReason>,
    max_percent: u8,
) -> Option<RunWarning> {
    let mut count = 0u64;
    let mut first: Option<&KeptReason> = None;
    let mut same = true;
    for reason in kept {
        count += 1;
        match first {
            None => first = Some(reason),
            Some(f) => same &= f == reason,
        }
    }
    if let Some(reason) = first
        && same
        && count == total
    {
        return Some(RunWarning::SameFailure { total, reason: reason.clone() });
    }
    over_kept_share(count, total, max_percent).then_some(RunWarning::MostlyKept {
        kept: count,
        total,
        max_percent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(code: &str, message: &str) -> KeptReason {
        KeptReason { code: code.into(), message: message.into() }
    }

    #[test]
    fn a_share_over_the_limit_mostly_failed() {
        let kept = vec![reason("copy_of_source", "a"), reason("too_long", "b")];
        assert_eq!(judge(4, &kept, 50), None, "half is not more than half");
        assert_eq!(
            judge(3, &kept, 50),
            Some(RunWarning::MostlyKept { kept: 2, total: 3, max_percent: 50 })
        );
        assert_eq!(judge(3, &kept, 70), None);
        assert_eq!(judge(3, &kept, 0).map(|w| w.code()), Some("mostly_kept"));
        assert_eq!(judge(10, &[], 0), None, "nothing kept never fails");
        assert_eq!(judge(0, &[], 50), None, "nothing sent is not a failure");
    }

    #[test]
    fn everything_kept_for_one_reason_says_which() {
        let why = reason("request_failed", "the request failed: context size exceeded");
        let kept = vec![why.clone(); 7];
        let warning = judge(7, &kept, 100).unwrap();
        assert_eq!(warning, RunWarning::SameFailure { total: 7, reason: why });
        assert!(warning.message().contains("every request failed for the same reason"));
        assert!(warning.message().contains("context size exceeded"));
        // Two reasons: only the share rule speaks.
        let mixed = vec![reason("request_failed", "x"), reason("too_long", "y")];
        assert_eq!(judge(2, &mixed, 100), None);
        assert_eq!(judge(2, &mixed, 50).map(|w| w.code()), Some("mostly_kept"));
    }

    #[test]
    fn the_share_never_overflows() {
        assert!(over_kept_share(u64::MAX, u64::MAX, 99));
        assert!(!over_kept_share(u64::MAX, u64::MAX, 100));
    }
}
