//! The waiting line of one priority: round robin over owners (users), then, within an owner,
//! round robin over its lanes (a job's file, one text request), then first come first served.
//!
//! Two levels, because one level is never fair to both: by job alone, a user with ten jobs gets
//! ten turns for another's one; by user alone, a user's small job waits behind that user's own
//! large one.

use std::collections::{HashMap, VecDeque};

use tokio::sync::oneshot;
use tradia_core::CancelFlag;

use super::Lane;

/// What a waiter is handed: a backend, and whether its request is that backend's probe.
pub(super) struct Grant {
    pub(super) backend: usize,
    pub(super) probe: bool,
}

pub(super) struct Waiter {
    pub(super) tx: oneshot::Sender<Grant>,
    pub(super) cancel: CancelFlag,
}

/// One owner's lanes, in turn order.
#[derive(Default)]
struct Lanes {
    ring: VecDeque<Lane>,
    waiting: HashMap<Lane, VecDeque<Waiter>>,
}

#[derive(Default)]
pub(super) struct FairQueue {
    ring: VecDeque<String>,
    owners: HashMap<String, Lanes>,
}

impl FairQueue {
    pub(super) fn push(&mut self, owner: &str, lane: Lane, w: Waiter) {
        let lanes = match self.owners.get_mut(owner) {
            Some(l) => l,
            None => {
                self.ring.push_back(owner.to_string());
                self.owners.entry(owner.to_string()).or_default()
            }
        };
        let q = match lanes.waiting.get_mut(&lane) {
            Some(q) => q,
            None => {
                lanes.ring.push_back(lane);
                lanes.waiting.entry(lane).or_default()
            }
        };
        q.push_back(w);
    }

    /// Next waiter: the front owner's front lane gives one; each goes to the back of its ring
    /// while it has waiters left.
    pub(super) fn pop(&mut self) -> Option<Waiter> {
        while let Some(owner) = self.ring.pop_front() {
            let Some(lanes) = self.owners.get_mut(&owner) else { continue };
            let Some(w) = lanes.pop() else {
                self.owners.remove(&owner);
                continue;
            };
            if lanes.ring.is_empty() {
                self.owners.remove(&owner);
            } else {
                self.ring.push_back(owner);
            }
            return Some(w);
        }
        None
    }

    /// Waiters still waiting (those that gave up are skipped lazily by `pop`'s caller).
    pub(super) fn len(&self) -> usize {
        self.owners
            .values()
            .flat_map(|l| l.waiting.values())
            .flat_map(|q| q.iter())
            .filter(|w| !w.tx.is_closed())
            .count()
    }
}

impl Lanes {
    fn pop(&mut self) -> Option<Waiter> {
        while let Some(lane) = self.ring.pop_front() {
            let Some(q) = self.waiting.get_mut(&lane) else { continue };
            let Some(w) = q.pop_front() else {
                self.waiting.remove(&lane);
                continue;
            };
            if q.is_empty() {
                self.waiting.remove(&lane);
            } else {
                self.ring.push_back(lane);
            }
            return Some(w);
        }
        None
    }
}
