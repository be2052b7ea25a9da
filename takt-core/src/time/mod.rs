//! Virtual time: the one clock every tracee of a scenario sees.
//!
//! Owns [`VTime`] (nanoseconds since the scenario started) and the timer queue. It knows
//! nothing of ptrace; the engine advances the clock and asks for the next deadline.
//! Nothing in takt reads the host clock except the watchdog in `sys`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// `CLOCK_REALTIME` at the start of every run: 2026-01-01T00:00:00Z.
pub const EPOCH_SECS: u64 = 1_767_225_600;
/// `CLOCK_MONOTONIC` at the start of every run (as if booted 100 s earlier).
pub const BOOT_SECS: u64 = 100;

/// A point on the virtual clock, in nanoseconds since the scenario started.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct VTime(pub u64);

impl VTime {
    /// The start of every scenario.
    pub const ZERO: VTime = VTime(0);
    /// Never: a deadline that does not fire.
    pub const NEVER: VTime = VTime(u64::MAX);

    /// Nanoseconds since the start.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// This time plus a duration, saturating at [`VTime::NEVER`].
    pub fn after(self, d: Duration) -> VTime {
        VTime(
            self.0
                .saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
        )
    }

    /// This time plus `ns` nanoseconds, saturating.
    pub fn plus_nanos(self, ns: u64) -> VTime {
        VTime(self.0.saturating_add(ns))
    }

    /// The duration since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: VTime) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Debug for VTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for VTime {
    /// `12.345678901s`: seconds with nanosecond digits, so logs sort as text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:09}s",
            self.0 / 1_000_000_000,
            self.0 % 1_000_000_000
        )
    }
}

/// A queue of deadlines, each owned by a key (a thread, a network delivery, …).
///
/// Ties fire in insertion order, so the queue is deterministic.
#[derive(Debug)]
pub struct Timers<K> {
    queue: BTreeMap<(VTime, u64), K>,
    seq: u64,
}

impl<K> Default for Timers<K> {
    fn default() -> Self {
        Timers {
            queue: BTreeMap::new(),
            seq: 0,
        }
    }
}

/// A handle to cancel a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerId(VTime, u64);

impl TimerId {
    /// When it fires.
    pub fn at(self) -> VTime {
        self.0
    }
}

impl<K> Timers<K> {
    /// Schedules `key` at `at`.
    pub fn insert(&mut self, at: VTime, key: K) -> TimerId {
        self.seq += 1;
        self.queue.insert((at, self.seq), key);
        TimerId(at, self.seq)
    }

    /// Cancels a timer; returns its key if it had not fired.
    pub fn cancel(&mut self, id: TimerId) -> Option<K> {
        self.queue.remove(&(id.0, id.1))
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<VTime> {
        self.queue.keys().next().map(|k| k.0)
    }

    /// Removes and returns the earliest timer if it is due at `now`.
    pub fn pop_due(&mut self, now: VTime) -> Option<K> {
        let (&(at, seq), _) = self.queue.iter().next()?;
        if at > now {
            return None;
        }
        self.queue.remove(&(at, seq))
    }

    /// The pending timers in firing order: when each fires, and its key.
    pub fn iter(&self) -> impl Iterator<Item = (VTime, &K)> + '_ {
        self.queue.iter().map(|(&(at, _), k)| (at, k))
    }

    /// Number of pending timers.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// A timer's schedule: it expires at `next`, then every `interval` nanoseconds (0: once).
///
/// Expirations are counted lazily: [`Periodic::advance`] folds every expiry up to a time
/// into one count, so a timer with a 1 ns interval costs one step, not one per expiry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Periodic {
    /// The next expiry not yet counted (`None`: disarmed).
    pub next: Option<VTime>,
    /// The period (0: one-shot).
    pub interval: u64,
}

impl Periodic {
    /// Armed to expire at `at`, then every `interval` ns.
    pub fn armed(at: VTime, interval: u64) -> Periodic {
        Periodic {
            next: Some(at),
            interval,
        }
    }

    /// Counts the expirations at or before `now` and moves `next` past `now` (or disarms
    /// a one-shot, or a schedule whose next expiry would pass the end of time).
    pub fn advance(&mut self, now: VTime) -> u64 {
        let Some(next) = self.next.filter(|&n| n <= now) else {
            return 0;
        };
        if self.interval == 0 {
            self.next = None;
            return 1;
        }
        let n = ((now.0 - next.0) / self.interval).saturating_add(1);
        self.next = n
            .checked_mul(self.interval)
            .and_then(|d| next.0.checked_add(d))
            .filter(|&t| t < VTime::NEVER.0)
            .map(VTime);
        n
    }

    /// Whether it has expired at `now` (without counting).
    pub fn due(&self, now: VTime) -> bool {
        self.next.is_some_and(|n| n <= now)
    }

    /// Nanoseconds from `now` to the next expiry (0 when disarmed or due).
    pub fn remaining(&self, now: VTime) -> u64 {
        self.next.map_or(0, |n| n.0.saturating_sub(now.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_counts_missed_expiries_at_once() {
        let mut p = Periodic::armed(VTime(100), 10);
        assert_eq!(p.advance(VTime(99)), 0);
        assert_eq!(p.advance(VTime(100)), 1);
        assert_eq!(p.next, Some(VTime(110)));
        assert_eq!(p.advance(VTime(135)), 3);
        assert_eq!(p.next, Some(VTime(140)));
        assert_eq!(p.remaining(VTime(135)), 5);
        let mut once = Periodic::armed(VTime(5), 0);
        assert!(once.due(VTime(5)));
        assert_eq!(once.advance(VTime(1000)), 1);
        assert_eq!(once.next, None);
        assert_eq!(once.advance(VTime(2000)), 0);
        assert_eq!(once.remaining(VTime(2000)), 0);
    }

    #[test]
    fn periodic_survives_extreme_values() {
        let mut p = Periodic::armed(VTime(0), 1);
        assert_eq!(p.advance(VTime(u64::MAX - 1)), u64::MAX);
        assert_eq!(p.next, None);
        let mut q = Periodic::armed(VTime(u64::MAX - 5), u64::MAX);
        assert_eq!(q.advance(VTime(u64::MAX - 1)), 1);
        assert_eq!(q.next, None);
    }

    #[test]
    fn timers_fire_in_order_and_ties_by_insertion() {
        let mut t = Timers::default();
        t.insert(VTime(30), "c");
        t.insert(VTime(10), "a");
        let b = t.insert(VTime(10), "b");
        t.insert(VTime(20), "x");
        assert_eq!(t.cancel(b), Some("b"));
        assert_eq!(t.next(), Some(VTime(10)));
        assert_eq!(t.pop_due(VTime(25)), Some("a"));
        assert_eq!(t.pop_due(VTime(25)), Some("x"));
        assert_eq!(t.pop_due(VTime(25)), None);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn display_is_seconds() {
        assert_eq!(VTime(1_500_000_000).to_string(), "1.500000000s");
        assert_eq!(
            VTime::ZERO.after(Duration::from_millis(2)),
            VTime(2_000_000)
        );
    }
}
