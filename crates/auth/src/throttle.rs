//! The sign-in throttle: given the recent failures for the account tried and for the address the
//! attempt comes from, when the next attempt is allowed.
//!
//! A pure function of counts and times, so the server asks the store for the counts
//! ([`RecentFailures`], counted since `now - memory` and since `now - burst_window` of the
//! dimension's [`Policy`]) and this module decides; nothing here reads a clock.
//!
//! The rule, per dimension: the first failures cost nothing (people mistype); after that each
//! failure doubles the wait before the next attempt, up to a ceiling; and a burst of failures
//! within a minute (only possible with attempts sent in parallel, since the delays forbid it
//! otherwise) refuses every attempt for a lock-out period. An attempt is allowed when both the
//! account's and the address's rules allow it; the later of their dates is the one to wait for.
//!
//! The address rule is more lenient than the account rule because an address is often shared:
//! a school or a town hall reaches the service from one NAT address for all its staff, and one
//! person's typos must not lock out everyone else.
//!
//! This is the service's one throttle (`tradia-server`'s `accounts::sign_in` asks the store for
//! the counts and answers `429 sign_in_throttled` with the wait); `docs/AUTH.md` states the
//! numbers below.

use std::time::Duration;

use time::OffsetDateTime;

/// How one dimension (an account, or an address) is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures older than this are forgotten: count since `now - memory`.
    pub memory: Duration,
    /// Failures that cost nothing: the next attempt after them is checked at once.
    pub free_failures: u32,
    /// The wait after the first failure beyond the free ones; it doubles with each further one.
    pub first_delay: Duration,
    /// The longest wait a delay grows to.
    pub max_delay: Duration,
    /// This many failures within [`Policy::burst_window`] refuse every attempt…
    pub burst_limit: u32,
    /// …counted over this window…
    pub burst_window: Duration,
    /// …for this long after the latest failure.
    pub lockout: Duration,
}

/// The account rule, over 15 minutes: five free failures, then a wait of 1 s after the fifth,
/// 2 s after the sixth… up to 15 minutes; from the 10th failure within a minute, refused for 15
/// minutes.
pub const ACCOUNT: Policy = Policy {
    memory: Duration::from_secs(15 * 60),
    free_failures: 5,
    first_delay: Duration::from_secs(1),
    max_delay: Duration::from_secs(15 * 60),
    burst_limit: 10,
    burst_window: Duration::from_secs(60),
    lockout: Duration::from_secs(900),
};

/// The address rule, over 15 minutes: twenty free failures, then 1 s doubling up to 15 minutes;
/// from the 30th failure within a minute, refused for 15 minutes.
pub const ADDRESS: Policy = Policy {
    memory: Duration::from_secs(15 * 60),
    free_failures: 20,
    first_delay: Duration::from_secs(1),
    max_delay: Duration::from_secs(15 * 60),
    burst_limit: 30,
    burst_window: Duration::from_secs(60),
    lockout: Duration::from_secs(900),
};

/// How long failures must be kept for the two rules (older ones can be purged).
pub const fn memory() -> Duration {
    if ACCOUNT.memory.as_secs() > ADDRESS.memory.as_secs() {
        ACCOUNT.memory
    } else {
        ADDRESS.memory
    }
}

/// Failures recorded for one dimension, as the store counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecentFailures {
    /// Failures since `now - policy.memory`.
    pub count: u64,
    /// Failures since `now - policy.burst_window`.
    pub in_burst_window: u64,
    /// The latest failure.
    pub last_at: Option<OffsetDateTime>,
}

/// What to do with a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Check the password.
    Allowed,
    /// Refuse it without checking the password; it may be tried again at `until`.
    Delayed {
        /// When the next attempt is allowed.
        until: OffsetDateTime,
    },
    /// Refuse it without checking the password: a burst of failures locked the account or the
    /// address until `until` (worth an audit entry).
    Refused {
        /// When the lock-out ends.
        until: OffsetDateTime,
    },
}

impl Throttle {
    /// How long to wait from `now` (for `Retry-After`, rounded up to whole seconds by the
    /// caller); `None` when allowed.
    pub fn retry_after(&self, now: OffsetDateTime) -> Option<Duration> {
        match self {
            Throttle::Allowed => None,
            Throttle::Delayed { until } | Throttle::Refused { until } => {
                Some(Duration::try_from(*until - now).unwrap_or(Duration::ZERO))
            }
        }
    }

    fn until(&self) -> Option<OffsetDateTime> {
        match self {
            Throttle::Allowed => None,
            Throttle::Delayed { until } | Throttle::Refused { until } => Some(*until),
        }
    }
}

impl Policy {
    /// The wait this policy imposes after `failures` recent failures: zero before the free
    /// ones are used up, [`Policy::first_delay`] once they are, doubling with each further one.
    pub fn delay_after(&self, failures: u64) -> Duration {
        let Some(beyond) = failures.checked_sub(u64::from(self.free_failures)) else {
            return Duration::ZERO;
        };
        // 2^beyond, saturating long before it could overflow the ceiling.
        let factor =
            1u32.checked_shl(u32::try_from(beyond).unwrap_or(u32::MAX)).unwrap_or(u32::MAX);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// What this policy says about the next attempt for one dimension.
    pub fn decide(&self, failures: &RecentFailures, now: OffsetDateTime) -> Throttle {
        let Some(last) = failures.last_at else { return Throttle::Allowed };
        if failures.in_burst_window >= u64::from(self.burst_limit) {
            let until = last + self.lockout;
            if until > now {
                return Throttle::Refused { until };
            }
        }
        let until = last + self.delay_after(failures.count);
        if until > now { Throttle::Delayed { until } } else { Throttle::Allowed }
    }
}

/// What to do with an attempt, from the account's failures ([`ACCOUNT`]) and the address's
/// ([`ADDRESS`]): a refusal wins over a delay, and of two answers of the same kind the later
/// date wins.
pub fn next_attempt(
    account: &RecentFailures,
    address: &RecentFailures,
    now: OffsetDateTime,
) -> Throttle {
    let answers = [ACCOUNT.decide(account, now), ADDRESS.decide(address, now)];
    let rank = |t: &Throttle| match t {
        Throttle::Allowed => 0,
        Throttle::Delayed { .. } => 1,
        Throttle::Refused { .. } => 2,
    };
    answers.into_iter().max_by_key(|t| (rank(t), t.until())).unwrap_or(Throttle::Allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000 + seconds).unwrap()
    }

    fn failures(count: u64, in_burst_window: u64, last: i64) -> RecentFailures {
        RecentFailures { count, in_burst_window, last_at: Some(at(last)) }
    }

    const NONE: RecentFailures = RecentFailures { count: 0, in_burst_window: 0, last_at: None };

    #[test]
    fn delays_start_once_the_free_failures_are_used_and_stop_at_the_ceiling() {
        let delays: Vec<u64> = (0..=16).map(|n| ACCOUNT.delay_after(n).as_secs()).collect();
        assert_eq!(delays, vec![0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
        assert_eq!(ACCOUNT.delay_after(u64::MAX), ACCOUNT.max_delay);
        assert_eq!(ADDRESS.delay_after(19), Duration::ZERO);
        assert_eq!(ADDRESS.delay_after(20), Duration::from_secs(1));
        assert_eq!(ADDRESS.delay_after(60), ADDRESS.max_delay);
        assert_eq!(memory(), Duration::from_secs(900));
    }

    #[test]
    fn a_few_typos_cost_nothing() {
        assert_eq!(next_attempt(&NONE, &NONE, at(0)), Throttle::Allowed);
        assert_eq!(next_attempt(&failures(4, 4, 0), &failures(4, 4, 0), at(0)), Throttle::Allowed);
    }

    #[test]
    fn a_delay_holds_until_it_has_passed() {
        // Seven failures: 4 s after the latest.
        let account = failures(7, 7, 0);
        assert_eq!(next_attempt(&account, &NONE, at(1)), Throttle::Delayed { until: at(4) });
        assert_eq!(
            next_attempt(&account, &NONE, at(1)).retry_after(at(1)),
            Some(Duration::from_secs(3))
        );
        assert_eq!(next_attempt(&account, &NONE, at(4)), Throttle::Allowed);
    }

    #[test]
    fn the_tenth_failure_within_a_minute_refuses() {
        let nine = failures(9, 9, 0);
        assert!(matches!(next_attempt(&nine, &NONE, at(1)), Throttle::Delayed { .. }));
        let ten = failures(10, 10, 0);
        assert_eq!(next_attempt(&ten, &NONE, at(1)), Throttle::Refused { until: at(900) });
        assert_eq!(
            next_attempt(&ten, &NONE, at(899)).retry_after(at(899)),
            Some(Duration::from_secs(1))
        );
        // After the lock-out, the delay for ten failures (32 s) has long passed too.
        assert_eq!(next_attempt(&ten, &NONE, at(900)), Throttle::Allowed);
        // Ten failures spread over a quarter of an hour are only delayed.
        let spread = failures(10, 1, 0);
        assert_eq!(next_attempt(&spread, &NONE, at(1)), Throttle::Delayed { until: at(32) });
    }

    #[test]
    fn a_shared_address_tolerates_more() {
        // Nineteen failures from one address (several people) cost nothing yet…
        assert_eq!(next_attempt(&NONE, &failures(19, 19, 0), at(0)), Throttle::Allowed);
        // …more are delayed, and a burst of thirty refuses.
        assert_eq!(
            next_attempt(&NONE, &failures(22, 22, 0), at(0)),
            Throttle::Delayed { until: at(4) }
        );
        assert_eq!(
            next_attempt(&NONE, &failures(30, 30, 0), at(0)),
            Throttle::Refused { until: at(900) }
        );
    }

    #[test]
    fn the_stricter_answer_wins() {
        let delayed_account = failures(9, 9, 0); // 16 s
        let delayed_address = failures(22, 22, 0); // 4 s
        assert_eq!(
            next_attempt(&delayed_account, &delayed_address, at(1)),
            Throttle::Delayed { until: at(16) }
        );
        let refused_address = failures(30, 30, -800); // until 100
        assert_eq!(
            next_attempt(&delayed_account, &refused_address, at(1)),
            Throttle::Refused { until: at(100) }
        );
    }
}
