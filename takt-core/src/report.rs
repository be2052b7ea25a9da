//! The result of one run: seed, digest, how it ended, each process's fate and output,
//! warnings. `Display` prints the lines users and tests read (`seed: N`,
//! `trace digest: HEX`, one line per process, warnings).

use crate::time::VTime;
pub use crate::trace::signal_name;
use crate::trace::Event;
use std::fmt;

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every process exited.
    AllExited,
    /// Every process marked `must_finish` exited; the others were stopped.
    Finished,
    /// The completion time was reached; the processes still running were killed.
    CompletionTime,
    /// Nothing could run, no timer was pending, and some threads were still waiting.
    Deadlock {
        /// Who waits on what, one line per thread.
        waits: Vec<String>,
    },
    /// A thread ran without syscalls for longer than the spin budget.
    Spinning {
        /// `pid/tid` and the command.
        who: String,
        /// Real seconds it spun.
        seconds: f64,
    },
    /// takt itself was told to stop (`SIGINT`, `SIGTERM`, `SIGHUP`; see
    /// [`crate::sys::signal::catch_interrupts`]): the run was torn down where it was.
    Interrupted {
        /// The signal takt received.
        signal: i32,
    },
}

/// How a process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Exited with a code.
    Exited(i32),
    /// Killed by a signal.
    Signaled(i32),
    /// Still running when the run stopped (then killed).
    Running,
    /// Could not be started (the errno of its `execve`).
    NotStarted(String),
    /// Killed by its node's crash (and not restarted since).
    Crashed,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exited(c) => write!(f, "exited {c}"),
            Status::Signaled(s) => write!(f, "killed by {}", signal_name(*s)),
            Status::Running => f.write_str("still running at the end (killed)"),
            Status::NotStarted(e) => write!(f, "not started: {e}"),
            Status::Crashed => f.write_str("killed by its node's crash"),
        }
    }
}

/// A line of captured output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// When it was completed.
    pub time: VTime,
    /// The node.
    pub node: String,
    /// The virtual pid that wrote it.
    pub pid: i32,
    /// `true` for stderr.
    pub stderr: bool,
    /// The text, without the newline.
    pub text: String,
}

/// One started process (one per [`crate::config::ProcessSpec`]). Its `Debug` shows
/// the captured output as text, never as byte arrays.
#[derive(Clone)]
pub struct ProcessReport {
    /// The node's name.
    pub node: String,
    /// Its virtual pid.
    pub pid: i32,
    /// The command as the user wrote it.
    pub command: String,
    /// How it ended.
    pub status: Status,
    /// Everything it (and its children) wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
    /// Virtual time of its exit.
    pub exit_time: Option<VTime>,
}

/// The result of one run.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Report {
    /// The root seed.
    pub seed: u64,
    /// BLAKE3 of the canonical trace and the captured output, hex (see `trace`).
    pub digest: String,
    /// How the run ended.
    pub outcome: Outcome,
    /// Virtual time at the end.
    pub end_time: VTime,
    /// The started processes, in the order they were specified.
    pub processes: Vec<ProcessReport>,
    /// Every output line of every process, in virtual-time order.
    pub lines: Vec<Line>,
    /// Once-per-syscall warnings (unsupported calls) with counts.
    pub warnings: Vec<(String, u64)>,
    /// Expected refusals (`rseq`, `io_uring_setup`: libc falls back; a guest's `mount`
    /// refused with `EPERM`) with counts: not warnings, shown by [`Report::notes_text`]
    /// (`takt run --verbose`).
    pub notes: Vec<(String, u64)>,
    /// Where the run stopped being deterministic (watchdog preemptions), if anywhere.
    pub nondeterminism: Vec<String>,
    /// Number of trace events.
    pub events: u64,
    /// Number of syscalls the core handled.
    pub syscalls: u64,
    /// Of those, the ones that stopped through a seccomp user notification rather than
    /// a ptrace stop ([`crate::sys::notif`]).
    pub notified: u64,
    /// The last trace events (all of them with `keep_trace`).
    pub trace: Vec<Event>,
    /// Whether processes ran in their own PID namespace (virtual pids).
    pub pid_namespace: bool,
    /// Whether every node that asked for a filesystem view of its own had one (false:
    /// no privilege for mount namespaces, and the nodes used the host's files).
    pub own_filesystems: bool,
    /// Injected faults: (syscall, fault, count).
    pub faults: Vec<(String, String, u64)>,
    /// Partitions, crashes and restarts as they happened.
    pub incidents: Vec<Incident>,
    /// Properties the guests declared through the Antithesis SDK (filled in by
    /// `takt-scenario` from their local output; empty from the engine).
    pub properties: Vec<Property>,
    /// The run's behaviour signature (class and features), unless turned off.
    pub signature: Option<crate::signature::Signature>,
    /// The nodes: name and address, in the order of [`crate::trace::Event::node`].
    pub nodes: Vec<(String, std::net::Ipv4Addr)>,
    /// The run's decision tape (unless recording was turned off): replaying it gives
    /// this run again ([`crate::tape`]).
    pub tape: Option<crate::tape::Tape>,
    /// Where the run branched from its seed, if it was a branch.
    pub branch: Option<crate::tape::BranchPoint>,
    /// The global snapshots the run was asked for
    /// ([`crate::config::Config::snapshot_at`]), in time order; see [`Report::snapshot_at`].
    pub snapshots: Vec<crate::snapshot::Snapshot>,
}

/// A property a guest declared through the Antithesis SDK (read from its local output
/// by `takt-scenario`), over one run or an exploration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Property {
    /// The SDK's kind as displayed: `Always`, `AlwaysOrUnreachable`, `Sometimes`,
    /// `Reachable`, `Unreachable`.
    pub kind: String,
    /// The assertion's message (its identity, with the location).
    pub message: String,
    /// `file:line` of the assertion.
    pub location: String,
    /// Reached with its condition true.
    pub passed: bool,
    /// Reached with its condition false.
    pub failed: bool,
}

impl Property {
    /// Whether this run (or exploration) violated it: an always-assertion seen false,
    /// or an unreachable one reached.
    pub fn violated(&self) -> bool {
        match self.kind.as_str() {
            "Always" | "AlwaysOrUnreachable" => self.failed,
            "Unreachable" => self.passed || self.failed,
            _ => false,
        }
    }

    /// Whether it is a sometimes- or reachable-property that was never satisfied.
    pub fn uncovered(&self) -> bool {
        matches!(self.kind.as_str(), "Sometimes" | "Reachable") && !self.passed
    }

    /// `Sometimes "message" (file:line)`.
    pub fn describe(&self) -> String {
        format!("{} {:?} ({})", self.kind, self.message, self.location)
    }
}

/// A partition, heal, crash or restart that happened during the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    /// When.
    pub time: VTime,
    /// What, in words (`crash of node b`, `partition a | b`, …).
    pub what: String,
    /// What, as scheduled.
    pub event: crate::config::ScheduledEvent,
    /// The nodes it concerns (indices into [`Report::nodes`]).
    pub nodes: Vec<usize>,
}

impl fmt::Debug for ProcessReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessReport")
            .field("node", &self.node)
            .field("pid", &self.pid)
            .field("command", &self.command)
            .field("status", &self.status)
            .field("stdout", &String::from_utf8_lossy(&self.stdout))
            .field("stderr", &String::from_utf8_lossy(&self.stderr))
            .field("exit_time", &self.exit_time)
            .finish()
    }
}

impl Report {
    /// The global snapshot taken for requested time `t` (at the first scheduling point at
    /// or after it). Only the times the scenario asked for are captured: any other `t`,
    /// or one after the run ended, gives `None`.
    pub fn snapshot_at(&self, t: std::time::Duration) -> Option<&crate::snapshot::Snapshot> {
        let want = VTime::ZERO.after(t);
        self.snapshots.iter().find(|s| s.requested == want)
    }

    /// The process whose command is `command` (first match).
    pub fn process(&self, command: &str) -> Option<&ProcessReport> {
        self.processes.iter().find(|p| p.command == command)
    }

    /// The notes, one line each (`note: … (3x)`).
    pub fn notes_text(&self) -> String {
        self.notes
            .iter()
            .map(|(n, k)| format!("note: {n} ({k}x)\n"))
            .collect()
    }

    /// Stdout of process `i` as text.
    pub fn stdout(&self, i: usize) -> String {
        String::from_utf8_lossy(&self.processes[i].stdout).into_owned()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed: {}", self.seed)?;
        writeln!(f, "trace digest: {}", self.digest)?;
        let end = match &self.outcome {
            Outcome::AllExited => "all processes exited".to_string(),
            Outcome::Finished => "every process that must finish exited".to_string(),
            Outcome::CompletionTime => "completion time reached".to_string(),
            Outcome::Deadlock { .. } => "DEADLOCK".to_string(),
            Outcome::Spinning { who, seconds } => {
                format!("STOPPED: {who} ran {seconds:.1} s of real time without a syscall")
            }
            Outcome::Interrupted { signal } => format!(
                "INTERRUPTED by {} (takt was told to stop; the run is incomplete)",
                signal_name(*signal)
            ),
        };
        writeln!(f, "end: {end} at virtual time {}", self.end_time)?;
        if let Outcome::Deadlock { waits } = &self.outcome {
            for w in waits {
                writeln!(f, "  waiting: {w}")?;
            }
        }
        writeln!(f, "events: {}, syscalls: {}", self.events, self.syscalls)?;
        for p in &self.processes {
            writeln!(
                f,
                "process {} (node {}, pid {}): {}",
                p.command, p.node, p.pid, p.status
            )?;
        }
        if !self.faults.is_empty() {
            let total: u64 = self.faults.iter().map(|f| f.2).sum();
            let list: Vec<String> = self
                .faults
                .iter()
                .map(|(c, f, n)| format!("{c} {f} {n}"))
                .collect();
            writeln!(f, "faults injected: {total} ({})", list.join(", "))?;
        }
        for i in &self.incidents {
            writeln!(f, "at {}: {}", i.time, i.what)?;
        }
        for (w, n) in &self.warnings {
            writeln!(f, "warning: {w} ({n}x)")?;
        }
        for n in &self.nondeterminism {
            writeln!(f, "warning: determinism lost: {n}")?;
        }
        if !self.own_filesystems {
            writeln!(
                f,
                "warning: no filesystem of their own for the nodes (not root?): they read and write the host's files"
            )?;
        }
        if !self.pid_namespace {
            writeln!(
                f,
                "warning: no PID namespace (not root?): pids are the host's, not virtual"
            )?;
        }
        Ok(())
    }
}
