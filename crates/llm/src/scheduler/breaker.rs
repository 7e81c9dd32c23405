//! A backend's circuit breaker: after `threshold` consecutive transport failures or 5xx the
//! backend is skipped for a cooldown, then exactly one probe request (a real one, taken from
//! the queue) is let through; its success closes the breaker, its failure opens it again for
//! twice as long, up to a ceiling.

use std::time::{Duration, Instant};

/// State of a backend's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests flow.
    Closed,
    /// Skipped until the cooldown ends.
    Open,
    /// One probe request is allowed.
    HalfOpen,
}

#[derive(Debug)]
pub(super) struct Breaker {
    threshold: u32,
    base_cooldown: Duration,
    max_cooldown: Duration,
    cooldown: Duration,
    failures: u32,
    open_until: Option<Instant>,
    probe_in_flight: bool,
}

impl Breaker {
    pub(super) fn new(threshold: u32, cooldown: Duration) -> Self {
        Breaker {
            threshold: threshold.max(1),
            base_cooldown: cooldown,
            max_cooldown: Duration::from_secs(60).max(cooldown),
            cooldown,
            failures: 0,
            open_until: None,
            probe_in_flight: false,
        }
    }

    /// The longest cooldown, never less than the first one.
    pub(super) fn set_max_cooldown(&mut self, max: Duration) {
        self.max_cooldown = max.max(self.base_cooldown);
    }

    pub(super) fn state(&self, now: Instant) -> BreakerState {
        match self.open_until {
            None => BreakerState::Closed,
            Some(t) if now < t => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    /// True when a new request may go to this backend now.
    pub(super) fn admits(&self, now: Instant) -> bool {
        match self.state(now) {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => !self.probe_in_flight,
        }
    }

    /// A request goes to this backend (while half-open: the probe).
    pub(super) fn on_dispatch(&mut self, now: Instant) {
        if self.state(now) == BreakerState::HalfOpen {
            self.probe_in_flight = true;
        }
    }

    /// True while a probe request is out.
    pub(super) fn probing(&self) -> bool {
        self.probe_in_flight
    }

    pub(super) fn on_success(&mut self) {
        self.failures = 0;
        self.open_until = None;
        self.probe_in_flight = false;
        self.cooldown = self.base_cooldown;
    }

    pub(super) fn on_failure(&mut self, now: Instant) {
        if self.probe_in_flight || self.open_until.is_some() {
            // A failed probe (or a late failure while open): open again, for longer.
            self.probe_in_flight = false;
            self.cooldown = (self.cooldown * 2).min(self.max_cooldown);
            self.open_until = Some(now + self.cooldown);
            return;
        }
        self.failures += 1;
        if self.failures >= self.threshold {
            self.open_until = Some(now + self.cooldown);
        }
    }

    /// The probe said nothing about the backend (refused, cancelled, never sent): the probe
    /// slot is free again for the next waiter.
    pub(super) fn on_probe_neutral(&mut self) {
        self.probe_in_flight = false;
    }
}
