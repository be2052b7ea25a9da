//! The decision tape: every choice a run made that the seed decided, in order, with where
//! it was taken. A run can be replayed from its tape instead of its seed, and a tape can
//! be edited (decisions dropped or changed): the run then goes on by the default rule at
//! every point the tape does not name, so an edited tape is a run of its own, and as
//! deterministic as a seed.
//!
//! # What is a decision
//! Only choices that differ from the **default rule** are written down; a point the tape
//! does not name takes the default:
//!
//! | point | default | on the tape |
//! |---|---|---|
//! | which thread runs next, when several can | the thread that ran last, if it still can (and did not yield); else the runnable thread with the lowest virtual tid | [`Choice::Switch`] |
//! | whether a call gets a fault, and which | no fault | [`Choice::Fault`] (with the kept length of a short transfer) |
//! | whether a connection is reset or a datagram lost | no | [`Choice::Net`] |
//! | the jitter of a packet between nodes | none (the base latency) | [`Choice::Delay`] |
//! | the random partitions of the run | none | [`Choice::Partition`] |
//! | what a crash keeps of the non-durable writes (`CrashModel::Ext4Ordered`) | all of it | [`Choice::CrashKeep`] |
//!
//! Each decision is keyed by a position that does not move when an unrelated decision is
//! dropped: a switch by the thread that ran last and how many scheduling points it has
//! been the last at; a fault by the thread and the index of its syscall; a network fault
//! by its kind and how many such draws came before; a delay by the pair of nodes and
//! the index of the packet between them. The guests' own randomness (`getrandom`,
//! `/dev/urandom`, the virtual TSC) is data, not a decision: it comes from the tape's
//! seed.
//!
//! # File format
//! JSON (serde), versioned by its first field: `{"takt_tape": 1, "seed": N,
//! "decisions": [ {"event": …, "time_ns": …, "node": …, "pid": …, "tid": …, "call": …,
//! "choice": {"kind": "switch" | "fault" | "net" | "delay", …}} … ]}`. The fields of
//! each kind are those of [`Choice`]. `event`, `time_ns`, `node`, `pid`, `tid` and
//! `call` say where the decision was taken (for people; replay uses only `choice`).

use crate::fault::Fault;
use crate::time::VTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The tape format's version.
pub const VERSION: u32 = 1;

/// A run's decisions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tape {
    /// The format's version ([`VERSION`]).
    pub takt_tape: u32,
    /// The seed of the guests' data (and of the run the tape was recorded from).
    pub seed: u64,
    /// The non-default decisions, in the order they were taken.
    pub decisions: Vec<Decision>,
}

/// One decision and where it was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// How many trace events came before it.
    pub event: u64,
    /// Virtual time, nanoseconds.
    pub time_ns: u64,
    /// The node of the thread it concerns.
    pub node: u16,
    /// The virtual pid of that thread (0: none).
    pub pid: i32,
    /// The virtual tid of that thread (0: none).
    pub tid: i32,
    /// The syscall that thread was in, if any (`"accept4"`).
    pub call: String,
    /// What was decided.
    pub choice: Choice,
}

/// What was decided, and its key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Choice {
    /// At the `n`-th scheduling point (counted from 1, only points with more than one
    /// runnable thread) after which thread `from` had run last, thread `to` ran.
    Switch {
        /// The thread that ran last (0: none yet).
        from: i32,
        /// Which of `from`'s scheduling points.
        n: u64,
        /// The thread that ran.
        to: i32,
        /// `from` could not go on (it blocked, yielded or exited): the switch was forced,
        /// only the choice of `to` was free. Otherwise this is a preemption.
        forced: bool,
        /// The threads that could run (the alternatives).
        runnable: Vec<i32>,
    },
    /// The `call`-th syscall (from 0) of thread `tid` got a fault.
    Fault {
        /// The thread.
        tid: i32,
        /// The index of its syscall.
        call: u64,
        /// The syscall's number.
        nr: u32,
        /// The fault: an errno's name, or `"short"`.
        fault: String,
        /// For a short transfer, the units it kept (decided once the fault is).
        keep: Option<u64>,
        /// How many faults the table allowed for this call (the alternatives).
        of: u32,
    },
    /// The `n`-th draw (from 0) of a network fault of this kind hit.
    Net {
        /// `"connection reset"` or `"datagram dropped"`.
        what: String,
        /// Which draw.
        n: u64,
    },
    /// A random partition (`Scenario::random_partitions`) cut nodes `a` and `b` at
    /// `at_ns` for `for_ns` (its key is itself).
    Partition {
        /// One node.
        a: u16,
        /// The other.
        b: u16,
        /// When it starts, virtual nanoseconds.
        at_ns: u64,
        /// How long it lasts.
        for_ns: u64,
    },
    /// At crash number `crash` (from 0) of node `node`, draw number `draw` (from 0) of
    /// the `Ext4Ordered` crash model kept `keep` of `of` (name changes, or one file's
    /// writes, not yet durable); the default keeps them all.
    CrashKeep {
        /// The node.
        node: u16,
        /// Which of its crashes.
        crash: u64,
        /// Which draw of that crash.
        draw: u64,
        /// How many survived.
        keep: u64,
        /// Of how many.
        of: u64,
    },
    /// The `n`-th packet (from 0) from node `src` to node `dst` was delayed `extra_ns`
    /// beyond the base latency.
    Delay {
        /// Sending node.
        src: u16,
        /// Receiving node.
        dst: u16,
        /// Which packet between them.
        n: u64,
        /// The jitter.
        extra_ns: u64,
    },
}

impl Choice {
    /// A preemption: the thread that ran could have gone on.
    pub fn is_preemption(&self) -> bool {
        matches!(self, Choice::Switch { forced: false, .. })
    }
}

impl Tape {
    /// An empty tape for `seed`: the default run.
    pub fn new(seed: u64) -> Tape {
        Tape {
            takt_tape: VERSION,
            seed,
            decisions: Vec::new(),
        }
    }

    /// JSON, one decision per line.
    pub fn to_json(&self) -> String {
        let mut s = format!(
            "{{\"takt_tape\": {}, \"seed\": {}, \"decisions\": [",
            self.takt_tape, self.seed
        );
        for (i, d) in self.decisions.iter().enumerate() {
            s.push_str(if i == 0 { "\n  " } else { ",\n  " });
            s.push_str(&serde_json::to_string(d).expect("a decision serializes"));
        }
        s.push_str(if self.decisions.is_empty() {
            "]}\n"
        } else {
            "\n]}\n"
        });
        s
    }

    /// Reads what [`Tape::to_json`] wrote, with a clear error for anything else.
    pub fn from_json(text: &str) -> Result<Tape, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a takt tape (not JSON: {e})"))?;
        match v.get("takt_tape").and_then(serde_json::Value::as_u64) {
            None => return Err("not a takt tape (no \"takt_tape\" version field)".into()),
            Some(n) if n != u64::from(VERSION) => {
                return Err(format!(
                    "tape format version {n}, and this takt reads version {VERSION}"
                ))
            }
            Some(_) => {}
        }
        let tape: Tape =
            serde_json::from_value(v).map_err(|e| format!("a damaged takt tape: {e}"))?;
        for d in &tape.decisions {
            if let Choice::Fault { fault, .. } = &d.choice {
                parse_fault(fault.as_str())?;
            }
        }
        Ok(tape)
    }

    /// The decisions that are not the default, counted by kind: (preemptions, forced
    /// choices, faults, network faults, partitions and crash losses, delays).
    pub fn counts(&self) -> [usize; 5] {
        let mut c = [0; 5];
        for d in &self.decisions {
            let i = match &d.choice {
                Choice::Switch { forced: false, .. } => 0,
                Choice::Switch { forced: true, .. } => 1,
                Choice::Fault { .. } => 2,
                Choice::Net { .. } | Choice::Partition { .. } | Choice::CrashKeep { .. } => 3,
                Choice::Delay { .. } => 4,
            };
            c[i] += 1;
        }
        c
    }
}

/// A fault as the tape writes it (`"EMFILE"`, `"short"`).
pub fn parse_fault(s: &str) -> Result<Fault, String> {
    if s == "short" {
        return Ok(Fault::Short);
    }
    crate::errno::Errno::from_name(s)
        .map(Fault::Errno)
        .ok_or_else(|| format!("unknown fault {s:?} on the tape (an errno name or \"short\")"))
}

/// A tape read for replay: its decisions by key.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    switches: BTreeMap<(i32, u64), i32>,
    faults: BTreeMap<(i32, u64), (Fault, Option<u64>)>,
    /// Network faults by kind: the draws that hit.
    net: BTreeMap<String, BTreeSet<u64>>,
    pub(crate) partitions: Vec<(u16, u16, u64, u64)>,
    pub(crate) crash_keeps: BTreeMap<(u16, u64, u64), u64>,
    pub(crate) delays: BTreeMap<(u16, u16, u64), u64>,
}

impl Replay {
    /// Indexes `tape` (its faults were checked by [`Tape::from_json`] or come from a
    /// recording; an unknown fault name is skipped).
    pub(crate) fn new(tape: &Tape) -> Replay {
        let mut r = Replay::default();
        for d in &tape.decisions {
            match &d.choice {
                Choice::Switch { from, n, to, .. } => {
                    r.switches.insert((*from, *n), *to);
                }
                Choice::Fault {
                    tid,
                    call,
                    fault,
                    keep,
                    ..
                } => {
                    if let Ok(f) = parse_fault(fault) {
                        r.faults.insert((*tid, *call), (f, *keep));
                    }
                }
                Choice::Net { what, n } => {
                    r.net.entry(what.clone()).or_default().insert(*n);
                }
                Choice::Partition {
                    a,
                    b,
                    at_ns,
                    for_ns,
                } => r.partitions.push((*a, *b, *at_ns, *for_ns)),
                Choice::CrashKeep {
                    node,
                    crash,
                    draw,
                    keep,
                    ..
                } => {
                    r.crash_keeps.insert((*node, *crash, *draw), *keep);
                }
                Choice::Delay {
                    src,
                    dst,
                    n,
                    extra_ns,
                    ..
                } => {
                    r.delays.insert((*src, *dst, *n), *extra_ns);
                }
            }
        }
        r
    }

    pub(crate) fn switch(&self, from: i32, n: u64) -> Option<i32> {
        self.switches.get(&(from, n)).copied()
    }

    pub(crate) fn fault(&self, tid: i32, call: u64) -> Option<(Fault, Option<u64>)> {
        self.faults.get(&(tid, call)).copied()
    }

    pub(crate) fn net(&self, what: &str, n: u64) -> bool {
        self.net.get(what).is_some_and(|hits| hits.contains(&n))
    }
}

/// Where a run branches: at a virtual time or after a number of trace events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BranchAt {
    /// At the first scheduling point at or after this virtual time.
    Time(std::time::Duration),
    /// At the first scheduling point after this many trace events.
    Event(u64),
}

/// A branch: the run follows its seed up to `at`, then its decisions come from `seed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Branch {
    /// The branch point.
    pub at: BranchAt,
    /// The suffix seed.
    pub seed: u64,
}

/// Where a branched run left its prefix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchPoint {
    /// Virtual time of the branch point.
    pub time: VTime,
    /// Trace events before it.
    pub event: u64,
    /// The trace digest of the prefix (equal for every branch of one seed and point).
    pub prefix_digest: String,
    /// The suffix seed.
    pub suffix_seed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Tape {
        let mut t = Tape::new(7);
        t.decisions.push(Decision {
            event: 3,
            time_ns: 1500,
            node: 0,
            pid: 2,
            tid: 2,
            call: "accept4".into(),
            choice: Choice::Fault {
                tid: 2,
                call: 9,
                nr: 288,
                fault: "EMFILE".into(),
                keep: None,
                of: 5,
            },
        });
        t.decisions.push(Decision {
            event: 9,
            time_ns: 2500,
            node: 0,
            pid: 3,
            tid: 3,
            call: "read".into(),
            choice: Choice::Switch {
                from: 3,
                n: 4,
                to: 4,
                forced: false,
                runnable: vec![2, 3, 4],
            },
        });
        t
    }

    #[test]
    fn json_round_trips_and_refuses_other_files() {
        let t = sample();
        assert_eq!(Tape::from_json(&t.to_json()).unwrap(), t);
        assert_eq!(
            Tape::from_json(&Tape::new(1).to_json()).unwrap(),
            Tape::new(1)
        );
        assert!(Tape::from_json("{}").unwrap_err().contains("version"));
        assert!(Tape::from_json("x").unwrap_err().contains("not JSON"));
        let newer = t.to_json().replace("\"takt_tape\": 1", "\"takt_tape\": 9");
        assert!(Tape::from_json(&newer).unwrap_err().contains("version 9"));
        let bad = t.to_json().replace("EMFILE", "EWHAT");
        assert!(Tape::from_json(&bad).unwrap_err().contains("EWHAT"));
    }

    #[test]
    fn replay_indexes_by_key() {
        let r = Replay::new(&sample());
        assert_eq!(r.switch(3, 4), Some(4));
        assert_eq!(r.switch(3, 5), None);
        assert_eq!(
            r.fault(2, 9),
            Some((Fault::Errno(crate::errno::Errno(libc::EMFILE)), None))
        );
        assert_eq!(sample().counts(), [1, 0, 1, 0, 0]);
    }
}
