//! takt-scenario: deterministic tests of distributed systems made of real programs.
//!
//! Build a [`Scenario`] of nodes, start real programs on them, run it, loop over seeds.
//! Everything runs under takt's ptrace core: one thread at a time, one virtual clock,
//! virtual time, randomness, pids and network. The same seed gives the same run, event
//! for event, so a failure is reproduced by its seed.
//!
//! ```no_run
//! use std::time::Duration;
//! use takt_scenario::Scenario;
//!
//! Scenario::set_random_seed(23486);
//! Scenario::set_completion_time(Duration::from_millis(50)); // virtual time
//! for _ in 1..5 {
//!     let scenario = Scenario::new();
//!     let node = scenario.create_node();
//!     node.create_process("/bin/echo hello");
//!     let report = scenario.run().unwrap(); // on failure: the seed and how to rerun it
//!     assert_eq!(report.stdout(0), "hello\n");
//! }
//! ```
//!
//! Module map: this file holds the API; [`command`] parses command lines and finds
//! programs. The engine is `takt-core`; its [`Report`] is re-exported.
//!
//! **One naming rule; defaults are per thread.** `Scenario::set_X(…)` and
//! `Scenario::enable_X(…)` (associated functions, the paper's names) set the default of
//! `X` for scenarios created afterwards *on the calling thread*: each `#[test]` runs on
//! its own thread, so parallel tests never see each other's settings. The method
//! `scenario.X(…)` sets `X` for that scenario and wins over the default
//! (`Scenario::set_random_seed(7)` and `scenario.random_seed(7)`); the `TAKT_SEED`
//! environment variable wins over both.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod branch;
mod cleanup;
pub mod command;
pub mod coverage;
pub mod explore;
pub mod properties;
mod report_html;
pub mod shrink;

pub use explore::{Explore, Summary};
pub use report_html::{ReportExt, RunView};

use parking_lot::Mutex;
use std::cell::RefCell;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use takt_core::config::{Config, NodeSpec, ProcessSpec, ScheduledEvent};
use takt_core::fault::FaultPlan;
pub use takt_core::fs::CrashModel;
pub use takt_core::report::{Line, Outcome, ProcessReport, Report, Status};
pub use takt_core::sched::Strategy;
pub use takt_core::snapshot::Snapshot;
pub use takt_core::tape::{BranchAt, Tape};

/// Settings a scenario starts from; the static setters change the calling thread's.
#[derive(Clone, Debug, Default)]
pub(crate) struct Defaults {
    next_seed: Option<u64>,
    completion_time: Option<Duration>,
    stdout_logging: bool,
    strategy: Option<Strategy>,
    spin_budget: Option<Duration>,
    crash_model: CrashModel,
    faults: FaultPlan,
    /// A bad rate given to a static setter, reported by `run`.
    fault_error: Option<String>,
}

thread_local! {
    static DEFAULTS: RefCell<Defaults> = RefCell::new(Defaults::default());
}

/// The calling thread's defaults (for exploration workers).
pub(crate) fn current_defaults() -> Defaults {
    DEFAULTS.with(|d| d.borrow().clone())
}

/// Installs defaults on the calling thread.
pub(crate) fn install_defaults(d: Defaults) {
    DEFAULTS.with(|x| *x.borrow_mut() = d);
}

/// A failed or refused run.
///
/// `Debug` prints the same text as `Display` (what `.unwrap()` shows): the seed, what
/// failed, the last output lines as text, the last events as strace-like lines and the
/// rerun command, in at most about 60 lines however large the run.
#[non_exhaustive]
pub enum Error {
    /// The scenario is malformed (a missing binary, a bad command line, …).
    BadInput(String),
    /// takt itself failed (ptrace refused, a panic in the tracer, …).
    Engine(takt_core::Error),
    /// The run happened and something failed: the report, what failed, how to rerun.
    Failed(Box<Failure>),
    /// Exploration found that a seed does not replay to the same run (a worker's run
    /// and its replay differ): something of the host leaked into it.
    Nondeterminism(String),
}

/// A run that failed, with everything needed to reproduce it.
pub struct Failure {
    /// The full report.
    pub report: Report,
    /// What failed, in words.
    pub reason: String,
    /// The command that reruns exactly this run.
    pub rerun: String,
    /// Where its visual report was written (exploration writes the lowest failing
    /// seed's), if anywhere.
    pub report_file: Option<PathBuf>,
    /// The failure shrunk to the fewest decisions that cause it (exploration shrinks
    /// its lowest failing seed; see [`Explore::shrink`]).
    pub shrunk: Option<Box<shrink::Shrunk>>,
    /// The share of branches that still fail at moments before the failure (see
    /// [`Explore::failure_odds`]), if exploration was asked for it.
    pub odds: Option<branch::FailureOdds>,
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_failure(f, self)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_failure(f, self)
    }
}

/// Lines of each kind a failure message shows at most.
const SHOWN_LINES: usize = 10;
const SHOWN_EVENTS: usize = 8;
const SHOWN_PROCESSES: usize = 12;
/// Characters of one line a failure message shows at most.
const SHOWN_WIDTH: usize = 300;

fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(SHOWN_WIDTH) {
        Some((i, _)) => format!("{}…", &s[..i]).into(),
        None => s.into(),
    }
}

fn write_failure(f: &mut fmt::Formatter<'_>, x: &Failure) -> fmt::Result {
    let r = &x.report;
    writeln!(f, "takt: run failed (seed {}): {}", r.seed, clip(&x.reason))?;
    writeln!(f, "trace digest: {}", r.digest)?;
    writeln!(
        f,
        "end: virtual time {}, {} events, {} syscalls",
        r.end_time, r.events, r.syscalls
    )?;
    for p in r.processes.iter().take(SHOWN_PROCESSES) {
        writeln!(
            f,
            "process {} (node {}, pid {}): {}",
            clip(&p.command),
            p.node,
            p.pid,
            p.status
        )?;
    }
    if r.processes.len() > SHOWN_PROCESSES {
        writeln!(
            f,
            "… and {} more processes",
            r.processes.len() - SHOWN_PROCESSES
        )?;
    }
    for (w, n) in r.warnings.iter().take(SHOWN_LINES) {
        writeln!(f, "warning: {} ({n}x)", clip(w))?;
    }
    for n in r.nondeterminism.iter().take(SHOWN_LINES) {
        writeln!(f, "warning: determinism lost: {}", clip(n))?;
    }
    let tail = r.lines.len().saturating_sub(SHOWN_LINES);
    if tail < r.lines.len() {
        writeln!(f, "last output lines:")?;
        for l in &r.lines[tail..] {
            let stream = if l.stderr { "!" } else { "" };
            writeln!(
                f,
                "  [{} {} {}{stream}] {}",
                l.time,
                l.node,
                l.pid,
                clip(&l.text)
            )?;
        }
    }
    let n = r.trace.len();
    if n > 0 {
        writeln!(f, "last events:")?;
        for e in &r.trace[n.saturating_sub(SHOWN_EVENTS)..] {
            writeln!(f, "  {}", clip(&takt_core::trace::describe(e)))?;
        }
    }
    if let Some(p) = &x.report_file {
        writeln!(f, "report: {}", p.display())?;
    }
    if let Some(s) = &x.shrunk {
        for l in s.summary().lines().take(SHOWN_LINES + 3) {
            writeln!(f, "{}", clip(l))?;
        }
    }
    if let Some(o) = &x.odds {
        for l in o.table().lines().take(SHOWN_LINES + 2) {
            writeln!(f, "{}", clip(l))?;
        }
    }
    write!(f, "rerun: {}", x.rerun)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadInput(m) => write!(f, "takt: bad scenario: {m}"),
            Error::Engine(e) => write!(f, "takt: engine error: {e}"),
            Error::Failed(x) => write_failure(f, x),
            Error::Nondeterminism(m) => write!(f, "takt: nondeterminism: {m}"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

struct NodeState {
    name: String,
    addr: Ipv4Addr,
}

struct ProcState {
    node: usize,
    spec: Result<ProcessSpec, String>,
}

struct Inner {
    seed: u64,
    completion_time: Option<Duration>,
    stdout_logging: bool,
    strategy: Strategy,
    spin_budget: Option<Duration>,
    compute_allowance: Option<Duration>,
    crash_model: CrashModel,
    keep_trace: bool,
    trace_detail: bool,
    snapshot_at: Vec<Duration>,
    faults: FaultPlan,
    fault_error: Option<String>,
    checks: Vec<(String, Check)>,
    events: Vec<(Duration, ScheduledEvent)>,
    random_partitions: Option<(Duration, Duration)>,
    /// (within a node, between nodes, jitter)
    latency: Option<(Duration, Duration, Duration)>,
    reset_rate: f64,
    drop_rate: f64,
    nodes: Vec<NodeState>,
    procs: Vec<ProcState>,
    dir: PathBuf,
    /// Files seeded into nodes' layers before each run: (node, path, contents).
    put_files: Vec<(usize, PathBuf, Vec<u8>)>,
    /// Keep the nodes' layers (and the scenario's directory) after the scenario is gone.
    keep_files: bool,
    /// Give each node a filesystem view of its own (default: yes).
    own_filesystems: bool,
    /// Whether the last run had them (`None`: no run yet).
    had_own_filesystems: Option<bool>,
    /// Replay this decision tape instead of the seed's decisions.
    tape: Option<Tape>,
    record_tape: bool,
    branch: Option<takt_core::tape::Branch>,
}

/// A check over a finished run's report.
type Check = Arc<dyn Fn(&Report) -> Result<(), String> + Send + Sync>;

/// A set of nodes and the processes they run. Cheap to clone (a handle).
#[derive(Clone)]
pub struct Scenario {
    inner: Arc<Mutex<Inner>>,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.inner.lock();
        f.debug_struct("Scenario")
            .field("seed", &i.seed)
            .field("nodes", &i.nodes.len())
            .finish()
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario::new()
    }
}

/// Parses `TAKT_SEED` (decimal or 0x-hex).
pub fn seed_from_env() -> Result<Option<u64>, Error> {
    match std::env::var("TAKT_SEED") {
        Ok(s) => parse_seed(&s)
            .map(Some)
            .map_err(|e| Error::BadInput(format!("TAKT_SEED: {e}"))),
        Err(_) => Ok(None),
    }
}

/// Parses a seed written in decimal or `0x` hexadecimal.
pub fn parse_seed(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let r = match t.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    };
    r.map_err(|_| format!("{s:?} is not a seed (a number like 42 or 0x2a)"))
}

static SCENARIO_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Scenario {
    /// A new, empty scenario with the calling thread's defaults. Its seed is the next of
    /// the thread's sequence (`set_random_seed(s)` gives s, s+1, s+2, … to successive
    /// scenarios), or a random one if none was set.
    pub fn new() -> Scenario {
        let d = DEFAULTS.with(|d| {
            let mut d = d.borrow_mut();
            let seed = d.next_seed.unwrap_or_else(random_seed);
            d.next_seed = Some(seed.wrapping_add(1));
            (seed, d.clone())
        });
        let (seed, d) = d;
        let id = SCENARIO_COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "takt-{:08x}-{:06x}",
            std::process::id(),
            id & 0xff_ffff
        ));
        cleanup::register(&[dir.clone(), layers_dir(&dir)]);
        Scenario {
            inner: Arc::new(Mutex::new(Inner {
                seed,
                completion_time: d.completion_time,
                stdout_logging: d.stdout_logging,
                strategy: d.strategy.unwrap_or_default(),
                spin_budget: d.spin_budget,
                compute_allowance: None,
                crash_model: d.crash_model,
                keep_trace: false,
                trace_detail: false,
                snapshot_at: Vec::new(),
                faults: d.faults.clone(),
                fault_error: d.fault_error.clone(),
                checks: Vec::new(),
                events: Vec::new(),
                random_partitions: None,
                latency: None,
                reset_rate: 0.0,
                drop_rate: 0.0,
                nodes: Vec::new(),
                procs: Vec::new(),
                dir,
                put_files: Vec::new(),
                keep_files: false,
                own_filesystems: true,
                had_own_filesystems: None,
                tape: None,
                record_tape: true,
                branch: None,
            })),
        }
    }

    /// Sets the seed sequence for scenarios created afterwards on this thread.
    pub fn set_random_seed(seed: u64) {
        DEFAULTS.with(|d| d.borrow_mut().next_seed = Some(seed));
    }

    /// Default completion time (virtual) for scenarios created afterwards on this thread.
    pub fn set_completion_time(t: Duration) {
        DEFAULTS.with(|d| d.borrow_mut().completion_time = Some(t));
    }

    /// Default for printing each process's output lines, prefixed with virtual time, node
    /// and pid, as they are written.
    pub fn enable_stdout_logging(on: bool) {
        DEFAULTS.with(|d| d.borrow_mut().stdout_logging = on);
    }

    /// Default scheduling strategy for scenarios created afterwards on this thread.
    pub fn set_strategy(s: Strategy) {
        DEFAULTS.with(|d| d.borrow_mut().strategy = Some(s));
    }

    /// Default real-time budget a thread may spin without syscalls before the run stops.
    pub fn set_spin_budget(t: Duration) {
        DEFAULTS.with(|d| d.borrow_mut().spin_budget = Some(t));
    }

    /// What a node crash leaves of the writes that were not durable, for scenarios
    /// created afterwards on this thread: [`CrashModel::LoseUnsynced`] (the default:
    /// everything not fsynced is lost), [`CrashModel::Ext4Ordered`] (seeded: what ext4
    /// with `data=ordered` could leave) or [`CrashModel::KeepAll`]. The rules:
    /// `takt_core::fs`.
    pub fn set_crash_model(m: CrashModel) {
        DEFAULTS.with(|d| d.borrow_mut().crash_model = m);
    }

    /// Default rate of injected faults for every syscall takt handles (and has a fault
    /// table for), for scenarios created afterwards on this thread. A rate outside
    /// 0..=1 (or NaN) makes their `run` fail with a clear error.
    pub fn set_syscall_fault_injection_rate(rate: f64) {
        DEFAULTS.with(|d| {
            let mut d = d.borrow_mut();
            if let Err(e) = d.faults.set_global(rate) {
                d.fault_error = Some(e.to_string());
            }
        });
    }

    /// Default fault rate for one syscall by name (`"accept"`, `"read"`, …), which wins
    /// over the global rate. An unknown name or a bad rate makes `run` fail with a
    /// clear error (the closest syscall names are suggested).
    pub fn set_fault_rate(syscall: &str, rate: f64) {
        DEFAULTS.with(|d| {
            let mut d = d.borrow_mut();
            if let Err(e) = d.faults.set(syscall, rate) {
                d.fault_error = Some(e.to_string());
            }
        });
    }

    /// This scenario's global syscall fault rate (wins over the default).
    pub fn syscall_fault_injection_rate(&self, rate: f64) -> Result<&Self, Error> {
        self.inner
            .lock()
            .faults
            .set_global(rate)
            .map_err(|e| Error::BadInput(e.to_string()))?;
        Ok(self)
    }

    /// This scenario's fault rate for one syscall (wins over the defaults).
    pub fn fault_rate(&self, syscall: &str, rate: f64) -> Result<&Self, Error> {
        self.inner
            .lock()
            .faults
            .set(syscall, rate)
            .map_err(|e| Error::BadInput(e.to_string()))?;
        Ok(self)
    }

    /// Adds a check over the finished run's report: an `Err(message)` makes `run` fail
    /// with that message (and the seed and rerun command).
    pub fn check(
        &self,
        name: &str,
        f: impl Fn(&Report) -> Result<(), String> + Send + Sync + 'static,
    ) -> &Self {
        self.inner
            .lock()
            .checks
            .push((name.to_string(), Arc::new(f)));
        self
    }

    /// Cuts the network between two nodes at virtual time `at`, and heals it `heal_after`
    /// later (if given). While cut, packets are held; connects time out.
    pub fn partition(
        &self,
        a: &Node,
        b: &Node,
        at: Duration,
        heal_after: Option<Duration>,
    ) -> &Self {
        let mut i = self.inner.lock();
        i.events
            .push((at, ScheduledEvent::Partition(a.index, b.index, true)));
        if let Some(h) = heal_after {
            i.events
                .push((at + h, ScheduledEvent::Partition(a.index, b.index, false)));
        }
        self
    }

    /// Partitions at a random rate: pairs of nodes drawn from the run's seed are cut at
    /// intervals averaging `mean_interval` (until the completion time, or 10 s) and
    /// healed after `duration` each. Deterministic for a seed.
    pub fn random_partitions(&self, mean_interval: Duration, duration: Duration) -> &Self {
        self.inner.lock().random_partitions = Some((mean_interval, duration));
        self
    }

    /// Network delays: within a node (default zero, as Linux's loopback), between nodes
    /// (default 200 µs), and the seeded jitter added between nodes (default 50 µs).
    pub fn latency(&self, local: Duration, remote: Duration, jitter: Duration) -> &Self {
        self.inner.lock().latency = Some((local, remote, jitter));
        self
    }

    /// Probability that a TCP send between addresses resets its connection (both ends
    /// then see `ECONNRESET`/`EPIPE`), drawn from the run's own network-fault stream.
    pub fn connection_reset_rate(&self, rate: f64) -> Result<&Self, Error> {
        self.inner.lock().reset_rate = checked_rate("connection reset", rate)?;
        Ok(self)
    }

    /// Probability that a UDP datagram is lost on its way.
    pub fn datagram_drop_rate(&self, rate: f64) -> Result<&Self, Error> {
        self.inner.lock().drop_rate = checked_rate("datagram drop", rate)?;
        Ok(self)
    }

    /// Crashes `node` at virtual time `at`: every process on it dies at once and its
    /// connections are reset. With `restart_after`, the node's processes start again
    /// that much later (its files are kept); the report gives the downtime.
    pub fn crash(&self, node: &Node, at: Duration, restart_after: Option<Duration>) -> &Self {
        let mut i = self.inner.lock();
        i.events.push((at, ScheduledEvent::Crash(node.index)));
        if let Some(r) = restart_after {
            i.events.push((at + r, ScheduledEvent::Restart(node.index)));
        }
        self
    }

    /// This scenario's seed (before `TAKT_SEED` is applied).
    pub fn seed(&self) -> u64 {
        self.inner.lock().seed
    }

    /// Sets this scenario's seed.
    pub fn random_seed(&self, seed: u64) -> &Self {
        self.inner.lock().seed = seed;
        self
    }

    /// Sets this scenario's completion time (virtual).
    pub fn completion_time(&self, t: Duration) -> &Self {
        self.inner.lock().completion_time = Some(t);
        self
    }

    /// Sets this scenario's scheduling strategy.
    pub fn strategy(&self, s: Strategy) -> &Self {
        self.inner.lock().strategy = s;
        self
    }

    /// Sets this scenario's stdout logging.
    pub fn stdout_logging(&self, on: bool) -> &Self {
        self.inner.lock().stdout_logging = on;
        self
    }

    /// Sets the real-time budget a thread may spin without syscalls.
    pub fn spin_budget(&self, t: Duration) -> &Self {
        self.inner.lock().spin_budget = Some(t);
        self
    }

    /// Sets how long a computing thread keeps the CPU without syscalls before the
    /// watchdog hands it to another (see `takt_core::Config::compute_allowance`).
    pub fn compute_allowance(&self, t: Duration) -> &Self {
        self.inner.lock().compute_allowance = Some(t);
        self
    }

    /// What a node crash leaves of this scenario's unsynced writes (see
    /// [`Scenario::set_crash_model`]).
    pub fn crash_model(&self, m: CrashModel) -> &Self {
        self.inner.lock().crash_model = m;
        self
    }

    /// Replays a decision tape ([`takt_core::tape`]) instead of drawing decisions from
    /// the seed: the run takes the tape's decisions where it names them and the default
    /// rule everywhere else (no faults, no jitter, the thread that ran goes on), and the
    /// tape's seed for the guests' data (and [`Scenario::seed`] from then on: a test
    /// that derives settings from the seed should set it before building, as
    /// exploration and the shrinker do). `TAKT_TAPE=FILE` does the same for every run
    /// of a test.
    pub fn replay_tape(&self, tape: Tape) -> &Self {
        let mut i = self.inner.lock();
        i.seed = tape.seed;
        i.tape = Some(tape);
        drop(i);
        self
    }

    /// Records the run's decision tape into the report (`Report::tape`; on by default).
    pub fn record_tape(&self, on: bool) -> &Self {
        self.inner.lock().record_tape = on;
        self
    }

    /// Follows this scenario's seed up to `at`, then draws every decision (schedule,
    /// faults, network faults, jitter) from `suffix_seed`: one branch of the run. The
    /// report's `branch` says where it branched and the digest of the shared prefix.
    pub fn branch_at(&self, at: BranchAt, suffix_seed: u64) -> &Self {
        self.inner.lock().branch = Some(takt_core::tape::Branch {
            at,
            seed: suffix_seed,
        });
        self
    }

    /// Keeps every trace event in the report (otherwise the last few thousand).
    pub fn keep_full_trace(&self, on: bool) -> &Self {
        self.inner.lock().keep_trace = on;
        self
    }

    /// Records, for a person reading the trace (`takt trace`, the report), the results of
    /// the calls takt passes to the kernel (otherwise `= ?`) and the first 32 bytes of
    /// every buffer and structure, as strace shows them. It costs a second ptrace stop
    /// per passed call; the digest and the behaviour signature do not change with it.
    pub fn trace_detail(&self, on: bool) -> &Self {
        self.inner.lock().trace_detail = on;
        self
    }

    /// Keeps the nodes' files after the scenario is dropped (default: they are removed
    /// with it): each node's layer stays under [`Scenario::layers_dir`], its working
    /// directory under the scenario's directory.
    pub fn keep_files(&self, on: bool) -> &Self {
        self.inner.lock().keep_files = on;
        self
    }

    /// Gives each node a filesystem view of its own (the default; needs root): the
    /// host's root filesystem read-only underneath, the node's writable layer on top.
    /// `false`: the nodes read and write the host's files.
    pub fn own_filesystems(&self, on: bool) -> &Self {
        self.inner.lock().own_filesystems = on;
        self
    }

    /// Where the nodes' writable layers are kept on the host (one directory per node,
    /// its `upper/` holding what the node wrote).
    pub fn layers_dir(&self) -> PathBuf {
        layers_dir(&self.inner.lock().dir)
    }

    /// Takes a global snapshot of the run at virtual time `t`: every process with its
    /// threads and fds, every socket, every message in flight, timers, partitions and
    /// node states, at the first scheduling point at or after `t`. May be called several
    /// times; [`Report::snapshot_at`] returns each (only the requested times are
    /// captured). See [`takt_core::snapshot`].
    pub fn snapshot_at(&self, t: Duration) -> &Self {
        self.inner.lock().snapshot_at.push(t);
        self
    }

    /// Adds a node named `node<N>` with address `10.0.0.<N+1>`.
    pub fn create_node(&self) -> Node {
        let n = self.inner.lock().nodes.len();
        self.create_named_node(&format!("node{n}"))
    }

    /// Adds a node with a host name.
    pub fn create_named_node(&self, name: &str) -> Node {
        let mut i = self.inner.lock();
        let n = i.nodes.len();
        let addr = Ipv4Addr::new(10, 0, (n / 250) as u8, (n % 250 + 1) as u8);
        i.nodes.push(NodeState {
            name: name.to_string(),
            addr,
        });
        Node {
            scenario: self.clone(),
            index: n,
        }
    }

    /// Runs the scenario. `Ok` when every process exited 0 or was still running at the
    /// completion time; otherwise `Err(Error::Failed)` with the report and the command
    /// that reruns this run.
    pub fn run(&self) -> Result<Report, Error> {
        if let Some(tape) = tape_from_env()? {
            self.replay_tape(tape);
        }
        let seed = seed_from_env()?.unwrap_or_else(|| self.seed());
        self.run_seed(seed)
    }

    /// Runs with exactly this seed (ignoring `TAKT_SEED`).
    pub(crate) fn run_seed(&self, seed: u64) -> Result<Report, Error> {
        let mut cfg = self.config()?;
        cfg.seed = seed;
        let must_finish: Vec<bool> = cfg.processes.iter().map(|p| p.must_finish).collect();
        let outputs: Vec<PathBuf> = cfg
            .processes
            .iter()
            .filter_map(|p| p.env.iter().find(|(k, _)| k == properties::LOCAL_OUTPUT))
            .map(|(_, v)| PathBuf::from(v))
            .collect();
        for f in &outputs {
            let _ = std::fs::remove_file(f);
        }
        let from_tape = cfg.tape.is_some();
        let mut report = takt_core::run(cfg).map_err(Error::Engine)?;
        self.inner.lock().had_own_filesystems = Some(report.own_filesystems);
        report.properties = properties::read(&outputs);
        for f in &outputs {
            let _ = std::fs::remove_file(f);
        }
        let checks = self.inner.lock().checks.clone();
        let reason = failure_reason(&report, &must_finish)
            .or_else(|| properties::violation(&report.properties))
            .or_else(|| {
                checks.iter().find_map(|(name, f)| {
                    f(&report)
                        .err()
                        .map(|m| format!("check {name:?} failed: {m}"))
                })
            });
        match reason {
            None => Ok(report),
            Some(reason) => {
                let test = std::thread::current().name().map(str::to_string);
                let rerun = match std::env::var("TAKT_TAPE") {
                    Ok(file) if from_tape => tape_rerun_command(&file, test.as_deref()),
                    _ => rerun_command(report.seed, test.as_deref()),
                };
                Err(Error::Failed(Box::new(Failure {
                    report,
                    reason,
                    rerun,
                    report_file: None,
                    shrunk: None,
                    odds: None,
                })))
            }
        }
    }

    /// The engine configuration this scenario stands for (validated).
    pub fn config(&self) -> Result<Config, Error> {
        let i = self.inner.lock();
        let seed = match &i.tape {
            Some(t) => t.seed,
            None => seed_from_env()?.unwrap_or(i.seed),
        };
        if let Some(e) = &i.fault_error {
            return Err(Error::BadInput(e.clone()));
        }
        if i.nodes.is_empty() {
            return Err(Error::BadInput(
                "the scenario has no node: call create_node()".into(),
            ));
        }
        if i.procs.is_empty() {
            return Err(Error::BadInput(
                "the scenario starts no process: call node.create_process(…)".into(),
            ));
        }
        let mut nodes = Vec::new();
        for (k, n) in i.nodes.iter().enumerate() {
            let dir = i.dir.join(&n.name);
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::BadInput(format!("cannot create {}: {e}", dir.display())))?;
            let layer = if i.own_filesystems {
                Some(fresh_layer(&i, k, &n.name)?)
            } else {
                None
            };
            nodes.push(NodeSpec {
                name: n.name.clone(),
                addr: n.addr,
                dir,
                layer,
            });
        }
        let mut processes = Vec::new();
        for (k, p) in i.procs.iter().enumerate() {
            match &p.spec {
                Ok(s) => {
                    let mut s = s.clone();
                    // Antithesis SDK assertions go to a file of this spec's (read after
                    // the run), unless the test chose one.
                    if !s.env.iter().any(|(k, _)| k == properties::LOCAL_OUTPUT) {
                        let f = properties::output_file(&i.dir, k);
                        s.env.push((
                            properties::LOCAL_OUTPUT.into(),
                            f.to_string_lossy().into_owned(),
                        ));
                    }
                    processes.push(s)
                }
                Err(m) => {
                    return Err(Error::BadInput(format!(
                        "process {k} on {}: {m}",
                        i.nodes[p.node].name
                    )));
                }
            }
        }
        let mut cfg = Config {
            seed,
            completion_time: i.completion_time,
            strategy: i.strategy,
            stdout_logging: i.stdout_logging,
            keep_trace: i.keep_trace,
            trace_detail: i.trace_detail,
            snapshot_at: i.snapshot_at.clone(),
            faults: i.faults.clone(),
            reset_rate: i.reset_rate,
            drop_rate: i.drop_rate,
            events: i.events.clone(),
            random_partitions: random_partitions(&i, seed),
            nodes,
            processes,
            host_dirs: vec![i.dir.clone()],
            crash_model: i.crash_model,
            tape: i.tape.clone(),
            record_tape: i.record_tape,
            branch: i.branch,
            ..Config::default()
        };
        if let Some(b) = i.spin_budget {
            cfg.spin_budget = b;
        }
        if let Some(c) = i.compute_allowance {
            cfg.compute_allowance = c;
        }
        if let Some((local, remote, jitter)) = i.latency {
            (cfg.local_latency, cfg.remote_latency, cfg.jitter) = (local, remote, jitter);
        }
        Ok(cfg)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.keep_files {
            cleanup::remove(vec![self.dir.clone(), layers_dir(&self.dir)]);
        }
    }
}

/// Where a scenario's node layers live: outside its directory (which every node's view
/// shows), so that no node sees another's layer, or its own from above. That is
/// `/dev/shm` when it is a tmpfs (see [`layers_base`]), else beside the directory.
fn layers_dir(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".fs");
    match layers_base() {
        Some(base) => base.join(name),
        None => dir.with_file_name(name),
    }
}

/// The host directory for nodes' layers: `TAKT_LAYERS_DIR` if set, else `/dev/shm` if
/// it is a tmpfs. Each run makes and removes a node's `upper`, `work` and `merged`
/// directories and the overlay's own: on an ext4 that many runs have churned, a
/// directory took about 150 µs to make (inode allocation skips recently freed inodes),
/// in memory a few µs. A layer holds only what the node wrote during one run.
fn layers_base() -> Option<PathBuf> {
    static BASE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        if let Some(d) = std::env::var_os("TAKT_LAYERS_DIR") {
            return Some(PathBuf::from(d));
        }
        let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let tmpfs = info.lines().any(|l| {
            let mut halves = l.split(" - ");
            let mount_point = halves.next().and_then(|h| h.split(' ').nth(4));
            let fstype = halves.next().and_then(|h| h.split(' ').next());
            mount_point == Some("/dev/shm") && fstype == Some("tmpfs")
        });
        let writable = tmpfs && {
            let probe = Path::new("/dev/shm").join(format!("takt-probe-{}", std::process::id()));
            let ok = std::fs::create_dir(&probe).is_ok();
            let _ = std::fs::remove_dir(&probe);
            ok
        };
        writable.then(|| PathBuf::from("/dev/shm"))
    })
    .clone()
}

/// Node `k`'s layer for a new run: emptied (a run starts from the host's files), with
/// the files [`Node::put_file`] seeded into it.
fn fresh_layer(i: &Inner, k: usize, name: &str) -> Result<PathBuf, Error> {
    let layer = layers_dir(&i.dir).join(name);
    let io = |p: &Path, e: std::io::Error| {
        Error::BadInput(format!("cannot prepare {}: {e}", p.display()))
    };
    if layer.exists() {
        std::fs::remove_dir_all(&layer).map_err(|e| io(&layer, e))?;
    }
    for sub in ["upper", "work", "merged"] {
        let d = layer.join(sub);
        std::fs::create_dir_all(&d).map_err(|e| io(&d, e))?;
    }
    for (_, path, bytes) in i.put_files.iter().filter(|(n, _, _)| *n == k) {
        if !path.is_absolute() {
            return Err(Error::BadInput(format!(
                "put_file({}): a node's path must be absolute",
                path.display()
            )));
        }
        let at = layer
            .join("upper")
            .join(path.strip_prefix("/").unwrap_or(path));
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        std::fs::write(&at, bytes).map_err(|e| io(&at, e))?;
    }
    Ok(layer)
}

fn checked_rate(what: &str, rate: f64) -> Result<f64, Error> {
    if rate.is_nan() || !(0.0..=1.0).contains(&rate) {
        return Err(Error::BadInput(format!(
            "{what} rate must be a number between 0 and 1, got {rate}"
        )));
    }
    Ok(rate)
}

/// The partitions `Scenario::random_partitions` asks for, drawn from the seed: (start,
/// node a, node b, duration).
fn random_partitions(i: &Inner, seed: u64) -> Vec<(Duration, usize, usize, Duration)> {
    use rand::Rng;
    let Some((mean, dur)) = i.random_partitions else {
        return Vec::new();
    };
    let n = i.nodes.len();
    if n < 2 || mean.is_zero() {
        return Vec::new();
    }
    let end = i.completion_time.unwrap_or(Duration::from_secs(10));
    let mut rng = takt_core::rng::stream(seed, "partitions");
    let mut out = Vec::new();
    let mut t = Duration::ZERO;
    loop {
        t += mean.mul_f64(rng.random_range(0.0..2.0));
        if t >= end {
            return out;
        }
        let a = rng.random_range(0..n);
        let b = (a + rng.random_range(1..n)) % n;
        out.push((t, a, b, dur));
    }
}

/// What made a run fail, if anything.
fn failure_reason(r: &Report, must_finish: &[bool]) -> Option<String> {
    match &r.outcome {
        Outcome::Deadlock { waits } => return Some(format!("deadlock: {}", waits.join("; "))),
        Outcome::Spinning { who, seconds } => {
            return Some(format!(
                "{who} spun {seconds:.1} s of real time without a syscall (watchdog)"
            ));
        }
        Outcome::Interrupted { signal } => {
            return Some(format!(
                "interrupted by {}",
                takt_core::report::signal_name(*signal)
            ))
        }
        Outcome::AllExited | Outcome::CompletionTime | Outcome::Finished => {}
    }
    let failed = r.processes.iter().find_map(|p| match &p.status {
        Status::Exited(0) | Status::Running | Status::Crashed => None,
        s => Some(format!(
            "process {} (node {}, pid {}) {s}",
            p.command, p.node, p.pid
        )),
    });
    failed.or_else(|| {
        must_finish.iter().zip(&r.processes).find_map(|(&must, p)| {
            (must && matches!(p.status, Status::Running | Status::Crashed)).then(|| {
                format!(
                    "process {} (node {}, pid {}) did not finish before the completion time",
                    p.command, p.node, p.pid
                )
            })
        })
    })
}

/// The command that reruns this run: the test binary's current test with `TAKT_SEED`.
pub(crate) fn rerun_command(seed: u64, test: Option<&str>) -> String {
    rerun_with(&format!("TAKT_SEED={seed}"), test)
}

/// The current test (or program) run again with the environment setting `var`
/// (`TAKT_SEED=…`, `TAKT_TAPE=…`).
fn rerun_with(var: &str, test: Option<&str>) -> String {
    let test = test.unwrap_or("").to_string();
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()));
    match (test.as_str(), exe) {
        ("" | "main", _) => format!("{var} (same binary, same arguments)"),
        (t, Some(bin)) => {
            let bin = bin
                .rsplit_once('-')
                .map_or(bin.clone(), |(b, _)| b.to_string());
            format!(
                "{var} cargo test --test {bin} -- --exact {t}   (or: cargo test -- --exact {t})"
            )
        }
        (t, None) => format!("{var} cargo test -- --exact {t}"),
    }
}

/// The tape `TAKT_TAPE` names, if set.
pub fn tape_from_env() -> Result<Option<Tape>, Error> {
    let Some(file) = std::env::var_os("TAKT_TAPE") else {
        return Ok(None);
    };
    read_tape(Path::new(&file)).map(Some)
}

/// Reads a tape file ([`Tape::to_json`]), with an error naming the file.
pub fn read_tape(file: &Path) -> Result<Tape, Error> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::BadInput(format!("cannot read tape {}: {e}", file.display())))?;
    Tape::from_json(&text).map_err(|e| Error::BadInput(format!("{}: {e}", file.display())))
}

/// The command that replays a tape file in the current test.
pub(crate) fn tape_rerun_command(file: &str, test: Option<&str>) -> String {
    rerun_with(&format!("TAKT_TAPE={file}"), test)
}

fn random_seed() -> u64 {
    // Used once per thread when no seed was set: any source will do, the seed is printed.
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut x = t.as_nanos() as u64 ^ (std::process::id() as u64).rotate_left(32);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^ (x >> 33)
}

/// A node of a scenario: a machine with its own address, host name and directory.
#[derive(Clone)]
pub struct Node {
    scenario: Scenario,
    index: usize,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node").field("name", &self.name()).finish()
    }
}

impl Node {
    /// The node's host name.
    pub fn name(&self) -> String {
        self.scenario.inner.lock().nodes[self.index].name.clone()
    }

    /// The node's IPv4 address.
    pub fn addr(&self) -> Ipv4Addr {
        self.scenario.inner.lock().nodes[self.index].addr
    }

    /// The node's working directory on the host (where its processes' files go).
    pub fn dir(&self) -> PathBuf {
        let i = self.scenario.inner.lock();
        i.dir.join(&i.nodes[self.index].name)
    }

    /// The contents of the node's file `path` (absolute, as the node sees it) after a
    /// run: from the node's own layer if it wrote or deleted it, else the host's. With
    /// a path inside the scenario's directory (its host path, or `/takt/…` as the nodes
    /// see it), or after a run without filesystems of the nodes' own, the host's file.
    pub fn read_file(&self, path: impl AsRef<Path>) -> std::io::Result<Vec<u8>> {
        use takt_core::sys::mountns::{layered, Layered};
        let path = path.as_ref();
        if !path.is_absolute() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{}: a node's path must be absolute", path.display()),
            ));
        }
        let i = self.scenario.inner.lock();
        if path.starts_with(&i.dir) || i.had_own_filesystems != Some(true) {
            return std::fs::read(path);
        }
        // The scenario's directory as the nodes see it.
        if let Ok(rest) = path.strip_prefix(takt_core::config::NODE_VIEW) {
            return std::fs::read(i.dir.join(rest));
        }
        let upper = layers_dir(&i.dir)
            .join(&i.nodes[self.index].name)
            .join("upper");
        match layered(&upper, path) {
            Layered::Upper(p) | Layered::Lower(p) => std::fs::read(p),
            Layered::Hidden => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "{}: deleted on node {}",
                    path.display(),
                    i.nodes[self.index].name
                ),
            )),
        }
    }

    /// Seeds the node's file `path` (absolute, as the node sees it) with `bytes` before
    /// each run, in the node's own layer (the host's file, if any, is left alone).
    pub fn put_file(&self, path: impl AsRef<Path>, bytes: impl Into<Vec<u8>>) -> &Self {
        let mut i = self.scenario.inner.lock();
        i.put_files
            .push((self.index, path.as_ref().to_path_buf(), bytes.into()));
        self
    }

    /// Starts a process on this node at time zero: a command line (`"prog arg 'two words'"`,
    /// no shell) or a [`Process`] builder. A bad command (unparsable, missing or
    /// non-executable program) makes [`Scenario::run`] return `Error::BadInput`.
    pub fn create_process(&self, p: impl Into<Process>) -> ProcessHandle {
        let p: Process = p.into();
        let spec = p.spec(self.index, &self.dir());
        let mut i = self.scenario.inner.lock();
        i.procs.push(ProcState {
            node: self.index,
            spec,
        });
        ProcessHandle(i.procs.len() - 1)
    }
}

/// A process a node starts ([`Node::create_process`]): finds it in a run's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcessHandle(usize);

impl ProcessHandle {
    /// Its position among the scenario's processes (and in [`Report::processes`]).
    pub fn index(self) -> usize {
        self.0
    }

    /// What became of it in `report`.
    pub fn report(self, report: &Report) -> &ProcessReport {
        &report.processes[self.0]
    }

    /// What it printed on stdout in `report`, as text.
    pub fn stdout(self, report: &Report) -> String {
        report.stdout(self.0)
    }
}

/// A process to start: program, arguments, environment, working directory.
#[derive(Clone, Debug)]
pub struct Process {
    line: Option<String>,
    program: Option<PathBuf>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
    start_after: Duration,
    must_finish: bool,
}

impl From<&str> for Process {
    fn from(s: &str) -> Process {
        Process::parse(s)
    }
}

impl From<String> for Process {
    fn from(s: String) -> Process {
        Process::from(s.as_str())
    }
}

impl From<&String> for Process {
    fn from(s: &String) -> Process {
        Process::from(s.as_str())
    }
}

impl Process {
    /// A process running `program` (a path, or a name looked up in `PATH`).
    pub fn new(program: impl AsRef<Path>) -> Process {
        Process {
            line: None,
            program: Some(program.as_ref().to_path_buf()),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            start_after: Duration::ZERO,
            must_finish: false,
        }
    }

    /// A process from a command line (`"prog arg 'two words'"`, no shell); more
    /// arguments can be added with [`Process::arg`].
    pub fn parse(line: &str) -> Process {
        Process {
            line: Some(line.to_string()),
            program: None,
            ..Process::new("")
        }
    }

    /// The run ends once every process marked so has exited (servers left running are
    /// stopped then); if one is still running at the completion time, the run fails.
    pub fn must_finish(mut self) -> Process {
        self.must_finish = true;
        self
    }

    /// Starts the process this much virtual time after the run begins (a client that
    /// must find its server listening, say).
    pub fn start_after(mut self, t: Duration) -> Process {
        self.start_after = t;
        self
    }

    /// Adds an argument.
    pub fn arg(mut self, a: impl Into<String>) -> Process {
        self.args.push(a.into());
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, a: I) -> Process {
        self.args.extend(a.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Process {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Sets the working directory (default: the node's directory).
    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Process {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    fn spec(&self, node: usize, node_dir: &Path) -> Result<ProcessSpec, String> {
        let (program, mut args, display) = match (&self.line, &self.program) {
            (Some(line), _) => {
                let words = command::split(line)?;
                let (p, rest) = words.split_first().ok_or("empty command line")?;
                (PathBuf::from(p), rest.to_vec(), line.clone())
            }
            (None, Some(p)) => {
                let display = std::iter::once(p.display().to_string())
                    .chain(self.args.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(" ");
                (p.clone(), Vec::new(), display)
            }
            (None, None) => return Err("no program".into()),
        };
        args.extend(self.args.iter().cloned());
        let resolved = command::resolve(&program)?;
        let mut argv = vec![program.to_string_lossy().into_owned()];
        argv.extend(args);
        let mut env = command::default_env(node_dir);
        for (k, v) in &self.env {
            env.retain(|(k2, _)| k2 != k);
            env.push((k.clone(), v.clone()));
        }
        Ok(ProcessSpec {
            node,
            program: resolved,
            argv,
            env,
            cwd: self.cwd.clone(),
            display,
            start_after: self.start_after,
            must_finish: self.must_finish,
        })
    }
}
