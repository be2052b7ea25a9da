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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    /// Uniformly at random among the runnable threads, at every scheduling point.
    Random,
    /// At each scheduling point the running thread keeps the CPU, except with
    /// probability `switch_per_mille`/1000, when the next thread is drawn uniformly (as in
    /// `Random`). Blocking and `sched_yield` always hand over. Switching between
    /// processes costs a change of address space per ptrace stop, so this explores the
    /// same interleavings (over more seeds) at a lower cost per run.
    Sticky {
        /// Probability of a switch at a scheduling point, in thousandths.
        switch_per_mille: u16,
    },
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

impl Default for Strategy {
    /// `Sticky` with a 1-in-4 switch probability at each scheduling point.
    fn default() -> Self {
        Strategy::Sticky {
            switch_per_mille: 250,
        }
    }
}

/// A scheduler: a strategy and its state.
#[derive(Debug)]
pub struct Scheduler {
    strategy: Strategy,
    rng: Pcg64Mcg,
    /// PCT: thread → priority (higher runs first).
    prio: BTreeMap<i32, i64>,
    /// PCT: the scheduling points at which the running thread is demoted.
    change_points: Vec<u64>,
    step: u64,
    next_high: u64,
    /// The thread that called `sched_yield` at the last scheduling point.
    yielded: Option<i32>,
    /// PCT: the next priority handed to a yielding thread (below every other).
    next_low: i64,
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
            yielded: None,
            next_low: 0,
        }
    }

    /// A thread appeared.
    pub fn add_thread(&mut self, tid: i32) {
        if let Strategy::Pct { depth, .. } = self.strategy {
            // Distinct random priorities above every change-point priority.
            self.next_high += 1;
            let p =
                depth as u64 + 1 + self.rng.random_range(0..1_000_000u64) * 1024 + self.next_high;
            self.prio.insert(tid, p as i64);
        }
    }

    /// `tid` called `sched_yield`: the others run first (PCT: it gets the lowest priority).
    pub fn yielded(&mut self, tid: i32) {
        self.yielded = Some(tid);
        if let Strategy::Pct { .. } = self.strategy {
            self.next_low -= 1;
            self.prio.insert(tid, self.next_low);
        }
    }

    /// A thread is gone.
    pub fn remove_thread(&mut self, tid: i32) {
        self.prio.remove(&tid);
    }

    /// Picks one of `runnable` (non-empty, in a deterministic order). `current` is the
    /// thread that ran last, if it is still runnable.
    pub fn pick(&mut self, runnable: &[i32], current: Option<i32>) -> i32 {
        self.choose(runnable, current).0
    }

    /// The strategy's pick among `runnable` and the default rule's
    /// ([`default_pick`]), in that order.
    pub fn choose(&mut self, runnable: &[i32], current: Option<i32>) -> (i32, i32) {
        debug_assert!(!runnable.is_empty());
        self.step += 1;
        let yielded = self.yielded.take().filter(|_| runnable.len() > 1);
        let default = default_pick(runnable, current, yielded);
        let chosen = match self.strategy {
            Strategy::Random => self.uniform(runnable, yielded),
            Strategy::Sticky { switch_per_mille } => match current {
                Some(cur) if yielded != Some(cur) => {
                    if runnable.len() == 1 || self.rng.random_range(0..1000u16) >= switch_per_mille
                    {
                        cur
                    } else {
                        self.uniform(runnable, yielded)
                    }
                }
                _ => self.uniform(runnable, yielded),
            },
            Strategy::Pct { .. } => {
                if let Some(cur) = current {
                    if let Some(idx) = self.change_points.iter().position(|&c| c == self.step) {
                        self.prio.insert(cur, idx as i64 + 1);
                    }
                }
                *runnable
                    .iter()
                    .max_by_key(|t| (self.prio.get(t).copied().unwrap_or(0), -**t))
                    .expect("runnable is not empty")
            }
        };
        (chosen, default)
    }

    /// Only the default rule's pick (a replayed tape decides the rest): the strategy
    /// draws nothing.
    pub fn default_only(&mut self, runnable: &[i32], current: Option<i32>) -> i32 {
        debug_assert!(!runnable.is_empty());
        self.step += 1;
        let yielded = self.yielded.take().filter(|_| runnable.len() > 1);
        default_pick(runnable, current, yielded)
    }

    /// Draws from another seed from now on (a branch of the run). PCT draws again the
    /// priorities of the threads alive and its change points over the next `steps`
    /// scheduling points, so a branch explores other schedules from here.
    pub fn reseed(&mut self, rng: Pcg64Mcg) {
        self.rng = rng;
        if let Strategy::Pct { depth, steps } = self.strategy {
            self.change_points.clear();
            for _ in 1..depth.max(1) {
                let at = self.rng.random_range(1..=steps.max(1));
                self.change_points.push(self.step.saturating_add(at));
            }
            self.change_points.sort_unstable();
            let threads: Vec<i32> = self.prio.keys().copied().collect();
            for t in threads {
                self.add_thread(t);
            }
        }
    }

    /// Uniformly among `runnable`, leaving out a thread that just yielded.
    fn uniform(&mut self, runnable: &[i32], yielded: Option<i32>) -> i32 {
        if runnable.len() == 1 {
            return runnable[0];
        }
        match yielded {
            Some(y) => {
                let choices: Vec<i32> = runnable.iter().copied().filter(|&t| t != y).collect();
                choices[self.rng.random_range(0..choices.len())]
            }
            None => runnable[self.rng.random_range(0..runnable.len())],
        }
    }
}

/// The default rule of a scheduling point (what a decision tape leaves unsaid): the
/// thread that ran last goes on if it can and did not yield; otherwise the runnable thread
/// with the lowest tid (the earliest created), passing over a thread that just yielded
/// when another can run.
pub fn default_pick(runnable: &[i32], current: Option<i32>, yielded: Option<i32>) -> i32 {
    match current {
        Some(cur) if yielded != Some(cur) => cur,
        _ => runnable
            .iter()
            .copied()
            .filter(|&t| Some(t) != yielded || runnable.len() == 1)
            .min()
            .unwrap_or(runnable[0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_default_rule_keeps_the_runner_else_takes_the_lowest_tid() {
        assert_eq!(default_pick(&[2, 3, 4], Some(3), None), 3);
        assert_eq!(default_pick(&[4, 2, 3], None, None), 2);
        assert_eq!(default_pick(&[2, 3, 4], Some(2), Some(2)), 3);
        assert_eq!(default_pick(&[2], Some(2), Some(2)), 2);
        let mut s = Scheduler::new(Strategy::Random, Pcg64Mcg::seed_from_u64(1));
        let picks: Vec<_> = (0..20).map(|_| s.choose(&[5, 6, 7], Some(6))).collect();
        assert!(picks.iter().all(|&(_, d)| d == 6));
        assert!(picks.iter().any(|&(c, _)| c != 6), "{picks:?}");
    }

    #[test]
    fn a_reseeded_pct_draws_new_priorities() {
        let pct = Strategy::Pct {
            depth: 2,
            steps: 10,
        };
        let picks = |reseed: u64| {
            let mut s = Scheduler::new(pct, Pcg64Mcg::seed_from_u64(1));
            for t in [1, 2, 3, 4] {
                s.add_thread(t);
            }
            s.reseed(Pcg64Mcg::seed_from_u64(reseed));
            (0..20)
                .map(|_| s.pick(&[1, 2, 3, 4], None))
                .collect::<Vec<_>>()
        };
        assert_eq!(picks(5), picks(5));
        assert!(
            (6..30).any(|r| picks(r) != picks(5)),
            "reseeding changed nothing"
        );
    }

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
    fn sticky_mostly_continues_and_yield_hands_over() {
        let mut s = Scheduler::new(
            Strategy::Sticky {
                switch_per_mille: 100,
            },
            Pcg64Mcg::seed_from_u64(3),
        );
        let stays = (0..1000)
            .filter(|_| s.pick(&[1, 2, 3], Some(2)) == 2)
            .count();
        assert!((900..990).contains(&stays), "{stays}");
        s.yielded(2);
        assert_ne!(s.pick(&[1, 2, 3], Some(2)), 2);
        s.yielded(2);
        assert_eq!(s.pick(&[2], Some(2)), 2, "a lone yielder runs");
    }

    #[test]
    fn pct_yield_demotes() {
        let mut s = Scheduler::new(
            Strategy::Pct {
                depth: 1,
                steps: 10,
            },
            Pcg64Mcg::seed_from_u64(1),
        );
        s.add_thread(1);
        s.add_thread(2);
        let top = s.pick(&[1, 2], None);
        s.yielded(top);
        assert_ne!(s.pick(&[1, 2], Some(top)), top);
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
