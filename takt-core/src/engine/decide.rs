//! The engine's side of the run's decisions: which thread runs, and the branch to
//! another seed's streams (the models' side, faults and the network's draws, is
//! [`crate::world::decide`]).

use super::{Engine, Vtid};
use crate::tape::{BranchAt, BranchPoint, Choice, Tape};

impl Engine {
    /// Picks the thread that runs next among `runnable` (`current`: the thread that ran
    /// last, if it can go on).
    pub(crate) fn schedule(&mut self, runnable: &[Vtid], current: Option<Vtid>) -> Vtid {
        if runnable.len() == 1 {
            return self.sched.pick(runnable, current);
        }
        let from = self.w.last.unwrap_or(0);
        let count = self.w.decisions.sched_points.entry(from).or_insert(0);
        *count = count.saturating_add(1);
        let n = *count;
        let (chosen, default) = match &self.w.decisions.replay {
            Some(r) => {
                let default = self.sched.default_only(runnable, current);
                let chosen = r
                    .switch(from, n)
                    .filter(|t| runnable.contains(t))
                    .unwrap_or(default);
                (chosen, default)
            }
            None => self.sched.choose(runnable, current),
        };
        if chosen != default && self.w.decisions.record.is_some() {
            let choice = Choice::Switch {
                from,
                n,
                to: chosen,
                forced: current != Some(default),
                runnable: runnable.to_vec(),
            };
            self.w.record(from, choice);
        }
        chosen
    }

    /// Takes the branch when its point has come: from here on the decisions draw from
    /// the suffix seed's streams.
    pub(crate) fn maybe_branch(&mut self) {
        let Some(b) = self.w.decisions.branch else {
            return;
        };
        let due = match b.at {
            BranchAt::Time(t) => self.w.now >= crate::time::VTime::ZERO.after(t),
            BranchAt::Event(n) => self.trace.count() >= n,
        };
        if !due {
            return;
        }
        self.w.decisions.branch = None;
        self.w.decisions.branched = Some(BranchPoint {
            time: self.w.now,
            event: self.trace.count(),
            prefix_digest: self.trace.digest(),
            suffix_seed: b.seed,
        });
        let s = b.seed;
        self.sched.reseed(crate::rng::stream(s, "sched"));
        self.w.injector.reseed(crate::rng::stream(s, "faults"));
        self.w.net_faults = crate::rng::stream(s, "network faults");
        self.w
            .net
            .reseed(rand::RngCore::next_u64(&mut crate::rng::stream(s, "net")));
    }

    /// The recorded tape, if recording.
    pub(crate) fn take_tape(&mut self) -> Option<Tape> {
        let decisions = self.w.decisions.record.take()?;
        Some(Tape {
            decisions,
            ..Tape::new(self.w.cfg.seed)
        })
    }
}
