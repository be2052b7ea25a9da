//! Scheduling strategies (sans-I/O): which runnable thread goes next.
//!
//! The engine calls [`Scheduler::pick`] at every scheduling point (every stop) with the
//! runnable threads in a deterministic order. Strategies draw only on their own seeded
//! stream. Threads are named by their virtual tid.

use rand::Rng;
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the next thread is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// Uniformly at random among the runnable threads, at every scheduling point.
    #[default]
    Random,
    /// Probabilistic Concurrency Testing (Burckhardt et al., ASPLOS 2010) with bug
    /// depth `depth`: random distinct priorities, `depth - 1` priority change points
    /// spread over the first `steps` scheduling points.
    Pct {
        /// Bug depth d (≥ 1).
        depth: u32,
        /// Estimated number of scheduling points k of one run.
        steps: u64,
    },
}

/// A scheduler: a strategy and its state.
#[derive(Debug)]
pub struct Scheduler {
    strategy: Strategy,
    rng: Pcg64Mcg,
    /// PCT: thread → priority (higher runs first).
    prio: BTreeMap<i32, u64>,
    /// PCT: the scheduling points at which the running thread is demoted.
    change_points: Vec<u64>,
    step: u64,
    next_high: u64,
}

impl Scheduler {
    /// A scheduler with its own random stream.
    pub fn new(strategy: Strategy, mut rng: Pcg64Mcg) -> Scheduler {
        let mut change_points = Vec::new();
        if let Strategy::Pct { depth, steps } = strategy {
            for _ in 1..depth.max(1) {
                change_points.push(rng.random_range(1..=steps.max(1)));
            }
            change_points.sort_unstable();
        }
        Scheduler {
            strategy,
            rng,
            prio: BTreeMap::new(),
            change_points,
            step: 0,
            next_high: 0,
        }
    }

    /// A thread appeared.
    pub fn add_thread(&mut self, tid: i32) {
        if let Strategy::Pct { depth, .. } = self.strategy {
            // Distinct random priorities above every change-point priority: insert at a
            // random rank among the existing ones.
            self.next_high += 1;
            let base = depth as u64 + 1;
            let p = base + self.rng.random_range(0..1_000_000u64) * 1024 + self.next_high;
            self.prio.insert(tid, p);
        }
    }

    /// A thread is gone.
    pub fn remove_thread(&mut self, tid: i32) {
        self.prio.remove(&tid);
    }

    /// Picks one of `runnable` (non-empty, in a deterministic order). `current` is the
    /// thread that ran last, if it is still runnable.
    pub fn pick(&mut self, runnable: &[i32], current: Option<i32>) -> i32 {
        debug_assert!(!runnable.is_empty());
        self.step += 1;
        match self.strategy {
            Strategy::Random => {
                if runnable.len() == 1 {
                    return runnable[0];
                }
                runnable[self.rng.random_range(0..runnable.len())]
            }
            Strategy::Pct { .. } => {
                if let Some(cur) = current {
                    let hits = self
                        .change_points
                        .iter()
                        .filter(|&&c| c == self.step)
                        .count();
                    if hits > 0 {
                        let idx = self
                            .change_points
                            .iter()
                            .position(|&c| c == self.step)
                            .unwrap_or(0);
                        self.prio.insert(cur, idx as u64 + 1);
                    }
                }
                *runnable
                    .iter()
                    .max_by_key(|t| (self.prio.get(t).copied().unwrap_or(0), -**t))
                    .expect("runnable is not empty")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn random_is_seeded_and_varies() {
        let run = |seed| {
            let mut s = Scheduler::new(Strategy::Random, Pcg64Mcg::seed_from_u64(seed));
            (0..50)
                .map(|_| s.pick(&[1, 2, 3, 4], None))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn pct_runs_highest_priority_until_a_change_point() {
        let mut s = Scheduler::new(
            Strategy::Pct {
                depth: 2,
                steps: 10,
            },
            Pcg64Mcg::seed_from_u64(7),
        );
        for t in [1, 2, 3] {
            s.add_thread(t);
        }
        let first = s.pick(&[1, 2, 3], None);
        let mut switched = false;
        for _ in 0..20 {
            let t = s.pick(&[1, 2, 3], Some(first));
            switched |= t != first;
        }
        assert!(switched, "the change point must demote the first thread");
    }
}
