//! Every decision the seed makes in a run goes through here or through
//! `engine/decide.rs` (which thread runs, and the branch): which call faults, which
//! packet is reset or lost, and each jitter. A decision comes from the
//! seed's streams (and, when it is not the default, is written on the run's tape) or,
//! when a tape is replayed, from the tape and the default rule ([`crate::tape`]).
//! A branch switches the streams to another seed at a point of the run. A replayed run
//! records its tape too: the decisions it applied, which the shrinker goes on from.

use super::{Vtid, World};
use crate::fault::{Call, Fault};
use crate::tape::{Branch, BranchPoint, Choice, Decision, Replay};
use std::collections::BTreeMap;

/// The run's side of the tape.
#[derive(Debug, Default)]
pub(crate) struct Decisions {
    /// The tape being replayed, by key.
    pub(crate) replay: Option<Replay>,
    /// The decisions recorded so far (None: not recording).
    pub(crate) record: Option<Vec<Decision>>,
    /// Scheduling points (with a choice) so far, per thread that ran last.
    pub(crate) sched_points: BTreeMap<Vtid, u64>,
    /// Network fault draws so far, per kind.
    pub(crate) net_draws: BTreeMap<&'static str, u64>,
    /// A branch not taken yet.
    pub(crate) branch: Option<Branch>,
    /// Where the run branched.
    pub(crate) branched: Option<BranchPoint>,
    /// Crashes so far, per node.
    pub(crate) crashes: BTreeMap<usize, u64>,
    /// Jitters taken from the network, not yet recorded (reused buffer).
    pub(crate) delays: Vec<(usize, usize, u64, u64)>,
}

impl Decisions {
    /// The random partitions of the run (the tape's when replaying, else the seed's)
    /// as scheduled events, each recorded as a decision.
    pub(crate) fn partitions(
        &mut self,
        cfg: &crate::config::Config,
    ) -> Vec<(std::time::Duration, crate::config::ScheduledEvent)> {
        use crate::config::ScheduledEvent::Partition;
        use std::time::Duration;
        let drawn: Vec<(u16, u16, u64, u64)> = match &self.replay {
            Some(r) => r.partitions.clone(),
            None => cfg
                .random_partitions
                .iter()
                .map(|&(at, a, b, d)| {
                    let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
                    let node = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
                    (node(a), node(b), ns(at), ns(d))
                })
                .collect(),
        };
        let n = cfg.nodes.len();
        let mut out = Vec::new();
        for (a, b, at_ns, for_ns) in drawn {
            let (ai, bi) = (usize::from(a), usize::from(b));
            if ai >= n || bi >= n || ai == bi {
                continue; // an edited tape naming nodes the scenario does not have
            }
            let at = Duration::from_nanos(at_ns);
            out.push((at, Partition(ai, bi, true)));
            out.push((
                at.saturating_add(Duration::from_nanos(for_ns)),
                Partition(ai, bi, false),
            ));
            if let Some(r) = &mut self.record {
                r.push(Decision {
                    event: 0,
                    time_ns: at_ns,
                    node: a,
                    pid: 0,
                    tid: 0,
                    call: String::new(),
                    choice: Choice::Partition {
                        a,
                        b,
                        at_ns,
                        for_ns,
                    },
                });
            }
        }
        out
    }

    pub(crate) fn new(cfg: &crate::config::Config) -> Decisions {
        Decisions {
            replay: cfg.tape.as_ref().map(Replay::new),
            record: cfg.record_tape.then(Vec::new),
            branch: cfg.branch,
            ..Decisions::default()
        }
    }

    /// Whether a tape is replayed.
    pub(crate) fn replays(&self) -> bool {
        self.replay.is_some()
    }
}

impl World {
    /// Decides whether `call` (thread `tid`'s current syscall) gets a fault.
    pub(crate) fn decide_fault(&mut self, tid: Vtid, call: &Call) -> Option<Fault> {
        let index = self.threads.get(&tid).map_or(0, |t| t.calls);
        let fault = match &self.decisions.replay {
            Some(r) => {
                let (fault, _) = r.fault(tid, index)?;
                self.injector.count(call.nr, fault);
                fault
            }
            None => self.injector.decide_call(call)?,
        };
        if self.decisions.record.is_some() {
            let of = crate::fault::faults_for(call.nr).map_or(0, |fs| {
                fs.iter()
                    .filter(|&&f| crate::fault::applies(call, f))
                    .count()
            });
            let choice = Choice::Fault {
                tid,
                call: index,
                nr: call.nr,
                fault: fault.to_string(),
                keep: None,
                of: u32::try_from(of).unwrap_or(u32::MAX),
            };
            self.record(tid, choice);
        }
        Some(fault)
    }

    /// For a short-transfer fault on thread `tid`'s current call of `len` units: how
    /// many it keeps (from the tape when replaying, within `1..len`).
    pub(crate) fn fault_keep(&mut self, tid: Vtid, len: usize) -> usize {
        let index = self.threads.get(&tid).map_or(0, |t| t.calls);
        let keep = match &self.decisions.replay {
            Some(r) => {
                let keep = r.fault(tid, index).and_then(|(_, k)| k).unwrap_or(1);
                let keep = usize::try_from(keep).unwrap_or(usize::MAX);
                keep.clamp(1, len.saturating_sub(1).max(1))
            }
            None => self.injector.keep(len),
        };
        if let Some(Decision {
            choice:
                Choice::Fault {
                    keep: k,
                    tid: t,
                    call,
                    ..
                },
            ..
        }) = self.decisions.record.as_mut().and_then(|r| r.last_mut())
        {
            if *t == tid && *call == index {
                *k = Some(keep as u64);
            }
        }
        keep
    }

    /// Draws a network fault of `kind` with probability `rate` (no draw at all when it
    /// is 0).
    pub(crate) fn net_fault(&mut self, rate: f64, kind: &'static str) -> bool {
        let count = self.decisions.net_draws.entry(kind).or_insert(0);
        let n = *count;
        *count = n.saturating_add(1);
        let hit = match &self.decisions.replay {
            Some(r) => r.net(kind, n),
            None if rate <= 0.0 => false,
            None => rand::Rng::random::<f64>(&mut self.net_faults) < rate,
        };
        if hit {
            let c = self.net_fault_counts.entry(kind).or_insert(0);
            *c = c.saturating_add(1);
            if self.decisions.record.is_some() {
                let tid = self.last.unwrap_or(0);
                self.record(
                    tid,
                    Choice::Net {
                        what: kind.to_string(),
                        n,
                    },
                );
            }
        }
        hit
    }

    /// Writes down the jitters the network chose since the last call, as decisions of
    /// thread `tid` (the one whose call sent the packets, if any).
    pub(crate) fn record_delays(&mut self, tid: Vtid) {
        let mut d = std::mem::take(&mut self.decisions.delays);
        self.net.take_delays(&mut d);
        if self.decisions.record.is_some() {
            for &(src, dst, n, extra_ns) in &d {
                let choice = Choice::Delay {
                    src: u16::try_from(src).unwrap_or(u16::MAX),
                    dst: u16::try_from(dst).unwrap_or(u16::MAX),
                    n,
                    extra_ns,
                };
                self.record(tid, choice);
            }
        }
        d.clear();
        self.decisions.delays = d;
    }

    pub(crate) fn record(&mut self, tid: Vtid, choice: Choice) {
        let (pid, node, call) = match self.threads.get(&tid) {
            Some(t) => (
                t.pid,
                self.procs.get(&t.pid).map_or(0, |p| p.node),
                syscalls::Sysno::new(t.cur.nr() as usize)
                    .map_or_else(String::new, |s| s.name().to_string()),
            ),
            None => (0, 0, String::new()),
        };
        let d = Decision {
            event: self.events,
            time_ns: self.now.as_nanos(),
            node: u16::try_from(node).unwrap_or(u16::MAX),
            pid,
            tid,
            call,
            choice,
        };
        if let Some(r) = &mut self.decisions.record {
            r.push(d);
        }
    }

    /// A crash of node `n` begins: its number, and (replaying) what the tape says each
    /// draw of the crash model keeps, by draw.
    pub(crate) fn crash_plan(&mut self, n: usize) -> (u64, Option<BTreeMap<u64, u64>>) {
        let count = self.decisions.crashes.entry(n).or_insert(0);
        let crash = *count;
        *count = crash.saturating_add(1);
        let node = u16::try_from(n).unwrap_or(u16::MAX);
        let plan = self.decisions.replay.as_ref().map(|r| {
            r.crash_keeps
                .range((node, crash, 0)..=(node, crash, u64::MAX))
                .map(|(&(_, _, draw), &keep)| (draw, keep))
                .collect()
        });
        (crash, plan)
    }

    /// Records the draws of crash `crash` of node `n` that kept less than all:
    /// (draw, kept, of).
    pub(crate) fn record_crash_keeps(&mut self, n: usize, crash: u64, drawn: &[(u64, u64, u64)]) {
        let node = u16::try_from(n).unwrap_or(u16::MAX);
        for &(draw, keep, of) in drawn {
            self.record(
                0,
                Choice::CrashKeep {
                    node,
                    crash,
                    draw,
                    keep,
                    of,
                },
            );
        }
    }
}
