//! Shrinking: from a failing run, a decision tape with as few non-default decisions as
//! possible that fails the same way (the same kind of failure of the same process).
//!
//! The search is delta debugging (Zeller and Hildebrandt's `ddmin`, as Choi and Zeller
//! applied it to thread schedules) over the run's non-default decisions: faults,
//! preemptions, choices at forced switches, network faults and jitters. Every candidate
//! is a run of the tape with some decisions dropped; a dropped decision takes the default
//! rule ([`takt_core::tape`]), so every candidate is a deterministic run of its own. A
//! candidate that still fails gives its *own* recorded tape (the decisions it applied,
//! a subset of the candidate's) as the next starting point, as DEMi does for Raft. The
//! search first tries the empty tape, then only the faults, then `ddmin`, and ends with a
//! pass that tries to drop each remaining decision alone, within a budget of runs.

use crate::{Error, Failure, Scenario};
use std::path::PathBuf;
use takt_core::report::{Outcome, Report, Status};
use takt_core::tape::{Choice, Decision, Tape};
use takt_core::trace::{Event, EventKind};

/// The result of shrinking a failure.
#[derive(Debug, Clone)]
pub struct Shrunk {
    /// The smallest failing tape found.
    pub tape: Tape,
    /// Runs it took.
    pub runs: u32,
    /// Whether no single decision of the tape can be dropped (the search ended before
    /// its budget).
    pub minimal: bool,
    /// One line per remaining decision, in words.
    pub decisions: Vec<String>,
    /// Where the tape was written, if it was.
    pub file: Option<PathBuf>,
    /// The command that replays the shrunk tape.
    pub rerun: String,
    /// The failure the shrunk tape replays to.
    pub reason: String,
    /// The trace digest of the shrunk run.
    pub digest: String,
}

impl Shrunk {
    /// The failure message's lines: how many decisions remain and what they are.
    pub fn summary(&self) -> String {
        let n = self.tape.decisions.len();
        let mut s = match n {
            0 => "fails with no decision at all: the default schedule, without faults, fails"
                .to_string(),
            1 => "fails with only this decision:".to_string(),
            n => format!("fails with only these {n} decisions:"),
        };
        for d in &self.decisions {
            s.push_str("\n  - ");
            s.push_str(d);
        }
        if !self.minimal {
            s.push_str(&format!(
                "\n  (the search stopped at its budget of {} runs; fewer may do)",
                self.runs
            ));
        }
        s.push_str(&format!("\nreplay the shrunk run: {}", self.rerun));
        s
    }
}

/// What makes two failures "the same": the kind of failure and the process it concerns.
pub(crate) fn failure_kind(r: &Report, reason: &str) -> String {
    match &r.outcome {
        Outcome::Deadlock { .. } => return "deadlock".into(),
        Outcome::Spinning { .. } => return "spinning".into(),
        Outcome::Interrupted { .. } => return "interrupted".into(),
        _ => {}
    }
    let failed = r
        .processes
        .iter()
        .enumerate()
        .find_map(|(i, p)| match &p.status {
            Status::Exited(0) | Status::Running | Status::Crashed => None,
            s => Some(format!("process #{i} {s}")),
        });
    if let Some(f) = failed {
        return f;
    }
    if reason.ends_with("did not finish before the completion time") {
        let i = r
            .processes
            .iter()
            .position(|p| reason.contains(&format!("(node {}, pid {})", p.node, p.pid)));
        return format!("process #{i:?} did not finish");
    }
    match reason.split_once(" failed:") {
        Some((check, _)) if reason.starts_with("check ") => check.to_string(),
        _ => reason.to_string(),
    }
}

/// Shrinks `failure` (a failing run of `build`) within `budget` runs. The runs replay
/// tapes; the failure's report must carry its tape (recording is on by default).
/// [`crate::Explore`] calls it on its lowest failing seed; a test can call it on any
/// failure. The result's `file` and `rerun` are left empty (the caller writes the tape
/// where it wants).
pub fn shrink(build: &impl Fn(&Scenario), failure: &Failure, budget: u32) -> Result<Shrunk, Error> {
    let want = failure_kind(&failure.report, &failure.reason);
    let Some(start) = failure.report.tape.clone() else {
        return Err(Error::BadInput(
            "the failing run recorded no tape (record_tape(false)): nothing to shrink".into(),
        ));
    };
    let seed = start.seed;
    let runs = std::cell::Cell::new(0u32);
    // One candidate: the decisions kept. Some(the tape that run applied) if it fails the
    // same way.
    let test = |decisions: &[Decision]| -> Option<Vec<Decision>> {
        runs.set(runs.get() + 1);
        let s = Scenario::new();
        s.random_seed(seed);
        build(&s);
        s.replay_tape(Tape {
            decisions: decisions.to_vec(),
            ..Tape::new(seed)
        });
        match s.run_seed(seed) {
            Err(Error::Failed(f)) if failure_kind(&f.report, &f.reason) == want => {
                f.report.tape.map(|t| t.decisions)
            }
            _ => None,
        }
    };
    let mut cur = start.decisions;
    let minimal;
    'search: {
        if cur.is_empty() {
            minimal = true;
            break 'search;
        }
        if let Some(t) = test(&[]) {
            cur = t;
            minimal = true;
            break 'search;
        }
        // Most failures need a fault or two and a few switches: try the non-schedule
        // decisions alone, then the schedule alone, before splitting finely. A race is
        // told best by preemptions ("T was switched out between its read and its
        // write"), so first try without the choices made where a thread blocked.
        for keep in [
            |c: &Choice| !matches!(c, Choice::Switch { forced: true, .. }),
            |c: &Choice| !matches!(c, Choice::Switch { .. }),
            |c: &Choice| matches!(c, Choice::Switch { .. }),
        ] {
            let part: Vec<Decision> = cur.iter().filter(|d| keep(&d.choice)).cloned().collect();
            if part.len() < cur.len() && !part.is_empty() {
                if let Some(t) = test(&part) {
                    cur = t;
                }
            }
        }
        // ddmin.
        let mut n = 2usize;
        while cur.len() >= 2 && runs.get() < budget {
            let chunks = split(&cur, n);
            let mut reduced = false;
            for (i, chunk) in chunks.iter().enumerate() {
                if runs.get() >= budget {
                    break;
                }
                if let Some(t) = test(chunk) {
                    cur = t;
                    n = 2;
                    reduced = true;
                    break;
                }
                if n == 2 {
                    // The complement of one half is the other half: tested next.
                    continue;
                }
                let rest: Vec<Decision> = chunks
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .flat_map(|(_, c)| c.iter().cloned())
                    .collect();
                if runs.get() < budget {
                    if let Some(t) = test(&rest) {
                        cur = t;
                        n = (n - 1).max(2);
                        reduced = true;
                        break;
                    }
                }
            }
            if !reduced {
                if n >= cur.len() {
                    break;
                }
                n = (n * 2).min(cur.len());
            }
        }
        // One at a time: drop each decision that is not needed.
        let mut i = 0;
        let mut dropped_all = true;
        while i < cur.len() {
            if runs.get() >= budget {
                dropped_all = false;
                break;
            }
            let mut cand = cur.clone();
            cand.remove(i);
            match test(&cand) {
                Some(t) => cur = t,
                None => i += 1,
            }
        }
        minimal = dropped_all;
    }
    let runs = runs.get();
    let tape = Tape {
        decisions: cur,
        ..Tape::new(seed)
    };
    // The shrunk run once more, with every event, to say what each decision did.
    let s = Scenario::new();
    s.random_seed(seed);
    build(&s);
    s.replay_tape(tape.clone()).keep_full_trace(true);
    let reason = match s.run_seed(seed) {
        Err(Error::Failed(f)) => {
            let mut lines: Vec<String> = tape
                .decisions
                .iter()
                .map(|d| describe(d, &f.report))
                .collect();
            // For a switch, the race it decides: rerun without it and find the first
            // receive that consumed another thread's message.
            let switches = tape
                .decisions
                .iter()
                .enumerate()
                .filter(|(_, d)| matches!(d.choice, Choice::Switch { .. }))
                .take(MAX_RACES);
            for (i, _) in switches {
                let mut without = tape.clone();
                without.decisions.remove(i);
                let s = Scenario::new();
                s.random_seed(seed);
                build(&s);
                s.replay_tape(without).keep_full_trace(true);
                let other = match s.run_seed(seed) {
                    Ok(r) => r,
                    Err(Error::Failed(g)) => g.report,
                    Err(_) => continue,
                };
                if let Some(race) = race(&f.report, &other) {
                    lines[i].push_str("; ");
                    lines[i].push_str(&race);
                }
            }
            return Ok(Shrunk {
                tape,
                runs,
                minimal,
                decisions: lines,
                file: None,
                rerun: String::new(),
                reason: f.reason,
                digest: f.report.digest,
            });
        }
        Ok(_) => "it passed".to_string(),
        Err(e) => e.to_string(),
    };
    Err(Error::Nondeterminism(format!(
        "the shrunk tape of seed {seed} did not fail again ({reason})"
    )))
}

/// Switches whose race is worked out (one run each).
const MAX_RACES: usize = 4;

/// Sends a message range may stand for, at most (a guest's range is not trusted).
const MAX_RANGE: u32 = 4096;

/// One data message consumed: (receiving pid, receive event, sending tid, send event).
type Consumed = (i32, usize, i32, usize);

/// Every data message a receive consumed, in trace order.
fn consumed(r: &Report) -> Vec<Consumed> {
    let mut sent = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for (i, e) in r.trace.iter().enumerate() {
        let EventKind::Syscall { msgs: Some(m), .. } = &e.kind else {
            continue;
        };
        if m.is_connection() {
            continue;
        }
        let last = m.last.min(m.first.saturating_add(MAX_RANGE));
        for seq in m.first..=last {
            if m.sent {
                sent.insert((m.sock, seq), (e.tid, i));
            } else if let Some(&(tid, at)) = sent.get(&(m.sock, seq)) {
                out.push((e.pid, i, tid, at));
            }
        }
    }
    out
}

/// The first receive at which `fail` consumed a message from another thread than
/// `pass` did at the same place of the same receiver, in words.
fn race(fail: &Report, pass: &Report) -> Option<String> {
    let (f, p) = (consumed(fail), consumed(pass));
    let mut by_receiver: std::collections::BTreeMap<i32, (Vec<&Consumed>, Vec<&Consumed>)> =
        Default::default();
    for c in &f {
        by_receiver.entry(c.0).or_default().0.push(c);
    }
    for c in &p {
        by_receiver.entry(c.0).or_default().1.push(c);
    }
    let (f_at, p_at) = by_receiver
        .values()
        .filter_map(|(fs, ps)| {
            fs.iter()
                .zip(ps)
                .find(|(a, b)| a.2 != b.2)
                .map(|(a, b)| (**a, **b))
        })
        .min_by_key(|(a, _)| a.1)?;
    let (receiver, recv_ev, sender, send_ev) = f_at;
    let (_, _, other, other_send) = p_at;
    let sender_pid = fail.trace[send_ev].pid;
    let other_pid = pass.trace[other_send].pid;
    Some(format!(
        "the race: {}'s {} reached {}'s {} before {}'s {} (which comes first without this switch)",
        who(fail, sender_pid, sender),
        call_line(&fail.trace[send_ev]),
        who(fail, receiver, fail.trace[recv_ev].tid),
        call_line(&fail.trace[recv_ev]),
        who(pass, other_pid, other),
        call_line(&pass.trace[other_send]),
    ))
}

/// `v` cut into `n` nearly equal consecutive pieces.
fn split(v: &[Decision], n: usize) -> Vec<Vec<Decision>> {
    let n = n.clamp(1, v.len().max(1));
    let (q, r) = (v.len() / n, v.len() % n);
    let mut out = Vec::with_capacity(n);
    let mut at = 0;
    for i in 0..n {
        let len = q + usize::from(i < r);
        out.push(v[at..at + len].to_vec());
        at += len;
    }
    out
}

/// The program a pid ran: the last `execve` of the pid (or of the process it forked
/// from) in the trace, else the command of the process report.
fn program(r: &Report, pid: i32) -> String {
    let mut name: Option<String> = None;
    let mut parents = std::collections::BTreeMap::new();
    for e in &r.trace {
        match &e.kind {
            EventKind::Exec { path } if e.pid == pid => {
                name = Some(path.rsplit('/').next().unwrap_or(path).to_string());
            }
            EventKind::Spawn {
                child,
                process: true,
            } => {
                parents.insert(*child, e.pid);
            }
            _ => {}
        }
    }
    if let Some(n) = name {
        return n;
    }
    if let Some(p) = r.processes.iter().find(|p| p.pid == pid) {
        let first = p.command.split_whitespace().next().unwrap_or("");
        return first.rsplit('/').next().unwrap_or(first).to_string();
    }
    match parents.get(&pid) {
        Some(&parent) if parent != pid => program(r, parent),
        _ => "?".into(),
    }
}

fn who(r: &Report, pid: i32, tid: i32) -> String {
    let node = r
        .trace
        .iter()
        .find(|e| e.pid == pid)
        .and_then(|e| r.nodes.get(usize::from(e.node)))
        .map_or("?", |n| n.0.as_str());
    if tid == pid {
        format!("{} (node {node}, pid {pid})", program(r, pid))
    } else {
        format!("{} (node {node}, pid {pid} tid {tid})", program(r, pid))
    }
}

/// The strace-style line of a syscall event, without its time and thread.
fn call_line(e: &Event) -> String {
    takt_core::trace::what(&e.kind)
}

/// The name of node `n` of the run.
fn node_name(r: &Report, n: u16) -> &str {
    r.nodes.get(usize::from(n)).map_or("?", |x| x.0.as_str())
}

fn secs(ns: u64) -> String {
    format!("{:.6} s", ns as f64 / 1e9)
}

/// One decision in words, from the full trace of the shrunk run.
fn describe(d: &Decision, r: &Report) -> String {
    let at = usize::try_from(d.event).unwrap_or(usize::MAX);
    let syscall_of = |tid: i32, before: bool| -> Option<&Event> {
        let is = |e: &&Event| e.tid == tid && matches!(e.kind, EventKind::Syscall { .. });
        if before {
            r.trace[..at.min(r.trace.len())].iter().rev().find(is)
        } else {
            r.trace.get(at..).and_then(|rest| rest.iter().find(is))
        }
    };
    match &d.choice {
        Choice::Fault {
            tid, fault, keep, ..
        } => {
            let what = match keep {
                Some(k) => format!("short ({k} kept)"),
                None => fault.clone(),
            };
            format!(
                "{} → {what} at {} in {}",
                d.call,
                secs(d.time_ns),
                who(r, d.pid, *tid)
            )
        }
        Choice::Switch {
            from,
            to,
            forced,
            runnable,
            ..
        } => {
            let to_pid = r.trace.iter().find(|e| e.tid == *to).map_or(*to, |e| e.pid);
            let after = syscall_of(*from, true).map_or("its start".into(), call_line);
            let before = syscall_of(*from, false).map_or("its end".into(), call_line);
            let ran = syscall_of(*to, false).map_or("nothing".into(), call_line);
            if *forced {
                format!(
                    "at {}, when {} could not go on after {after}, {} ran first ({ran}) of {runnable:?}",
                    secs(d.time_ns),
                    who(r, d.pid, *from),
                    who(r, to_pid, *to),
                )
            } else {
                format!(
                    "preemption at {}: {} was switched out after {after} and before {before}; {} ran instead: {ran}",
                    secs(d.time_ns),
                    who(r, d.pid, *from),
                    who(r, to_pid, *to),
                )
            }
        }
        Choice::Net { what, .. } => format!(
            "{what} at {} ({} in {})",
            secs(d.time_ns),
            d.call,
            who(r, d.pid, d.tid)
        ),
        Choice::Partition {
            a,
            b,
            at_ns,
            for_ns,
        } => format!(
            "a partition between {} and {} at {} for {}",
            node_name(r, *a),
            node_name(r, *b),
            secs(*at_ns),
            secs(*for_ns)
        ),
        Choice::CrashKeep { node, keep, of, .. } => format!(
            "the crash of {} at {} kept only {keep} of {of} changes that were not durable",
            node_name(r, *node),
            secs(d.time_ns)
        ),
        Choice::Delay {
            src, dst, extra_ns, ..
        } => format!(
            "a packet from {} to {} sent at {} was delayed {extra_ns} ns more",
            node_name(r, *src),
            node_name(r, *dst),
            secs(d.time_ns),
        ),
    }
}
