//! What one run is made of: its seed and settings, its nodes and the processes they start.
//!
//! Plain data, validated by the caller (`takt-scenario` turns user input into it and
//! reports bad input there); the engine only reads it.

use crate::sched::Strategy;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// Where each node's own filesystem view also shows the scenario's directory (the
/// parent of the nodes' directories). Its host path names the takt process and a
/// counter (`/tmp/takt-00005972-000003`); the working directory, `HOME` and any other
/// path under it that a process is started with name this path instead, so what a
/// program sees of its directory is the same in every run. ZooKeeper logs its
/// `user.dir`: from the host path, every run of a seed had a digest of its own. (The
/// host path stays bound too: a path given in a program's arguments still works.)
pub const NODE_VIEW: &str = "/takt";

/// Settings and contents of one run.
#[derive(Clone, Debug)]
pub struct Config {
    /// The root seed: every random choice of the run derives from it.
    pub seed: u64,
    /// Stop the run at this virtual time (processes still running are killed and listed).
    pub completion_time: Option<Duration>,
    /// How the next thread is chosen.
    pub strategy: Strategy,
    /// Virtual time each syscall costs.
    pub syscall_cost: Duration,
    /// Real time a thread may run without a syscall before the watchdog preempts it.
    pub preempt_slice: Duration,
    /// Real time a thread may spin without syscalls in total before the run is stopped.
    pub spin_budget: Duration,
    /// Real time a thread that computes (stepping it at a watchdog stop finds no
    /// repeating state: not a pure spin) keeps running without a syscall before the
    /// watchdog's preemption hands the CPU to another thread (at most the spin budget).
    /// Such a preemption comes at a moment of real time, so what the other threads do
    /// meanwhile depends on it: a JVM's JIT compiler thread compiles one method for
    /// longer than a slice, and whether the others still ran the method interpreted
    /// when the compiled code was installed changed from run to run. Longer is
    /// deterministic for longer computations; a thread that busy-waits for another
    /// without a pure spin (a counting loop) waits that long before the other runs.
    pub compute_allowance: Duration,
    /// The CPU count programs see (`sched_getaffinity`, `/sys/.../online`).
    pub cpus: usize,
    /// Keep every trace event in memory (otherwise the last few thousand).
    pub keep_trace: bool,
    /// Also record, for a person reading the trace, what the kernel answered to each call
    /// takt passes to it (a second stop per such call) and the first bytes of every
    /// buffer and structure a call reads or fills. The digest and the behaviour
    /// signature are the same with and without it.
    pub trace_detail: bool,
    /// Processes read `CLOCK_REALTIME`, `CLOCK_MONOTONIC` and their kin through takt's
    /// vDSO and the clock page, without a stop (see [`crate::sys::vdso`]); the values
    /// are those trapped reads give. Off (or `TAKT_CLOCK_PAGE=0`): every clock read is a
    /// trapped syscall.
    pub clock_page: bool,
    /// Print each output line as it is written, prefixed with virtual time, node, pid.
    pub stdout_logging: bool,
    /// The host CPU the scenario is pinned to (`None`: pick the least busy).
    pub host_cpu: Option<usize>,
    /// Network latency within a node (default zero: Linux's loopback is synchronous).
    pub local_latency: Duration,
    /// Network latency between nodes.
    pub remote_latency: Duration,
    /// Seeded uniform extra delay per delivery.
    pub jitter: Duration,
    /// Syscall fault rates.
    pub faults: crate::fault::FaultPlan,
    /// Probability that a TCP send resets its connection (both ends see it).
    pub reset_rate: f64,
    /// Probability that a UDP datagram is lost on its way.
    pub drop_rate: f64,
    /// Network partitions and node crashes, at virtual times.
    pub events: Vec<(Duration, ScheduledEvent)>,
    /// The nodes.
    pub nodes: Vec<NodeSpec>,
    /// The processes, started in this order at time zero.
    pub processes: Vec<ProcessSpec>,
    /// What a node crash leaves of the writes that were not durable.
    pub crash_model: crate::fs::CrashModel,
    /// Host directories every node's own filesystem view shows at their host paths
    /// (the scenario's directory: node working directories, collected outputs).
    pub host_dirs: Vec<PathBuf>,
    /// Compute the run's behaviour signature ([`crate::signature`]; on by default).
    pub signature: bool,
    /// Record the run's decision tape ([`crate::tape`]; on by default; it costs little:
    /// only decisions that differ from the default rule are written down).
    pub record_tape: bool,
    /// Partitions drawn from the seed (start, node a, node b, duration): decisions of
    /// the tape, scheduled with `events` (a replayed tape's partitions replace them).
    pub random_partitions: Vec<(Duration, usize, usize, Duration)>,
    /// Replay this tape instead of drawing decisions from the seed (the tape's seed
    /// replaces `seed` for the guests' data).
    pub tape: Option<crate::tape::Tape>,
    /// Follow the seed up to a branch point, then draw decisions from another seed.
    pub branch: Option<crate::tape::Branch>,
    /// Virtual times at which to take a global snapshot ([`crate::snapshot`]), each at
    /// the first scheduling point at or after it.
    pub snapshot_at: Vec<Duration>,
    /// Test hook: the tracer panics at this many handled syscalls (to test that a panic
    /// tears the run down and is reported). Not for use outside takt's own tests.
    #[doc(hidden)]
    pub test_panic_after_syscalls: Option<u64>,
    /// Benchmark hook: no file model at all (metadata calls run natively, writes are
    /// not tracked), to measure what it costs. Not for use outside takt's own benches.
    #[doc(hidden)]
    pub test_without_file_model: bool,
    /// Test hook: every syscall stop is a ptrace stop, none a seccomp user notification
    /// (as `TAKT_NOTIFY=0` does), to compare the two. Not for use outside takt's tests.
    #[doc(hidden)]
    pub test_ptrace_stops_only: bool,
    /// Test hook: run without a PID namespace, as a user without root would (to test
    /// that host pids stay out of reach). Not for use outside takt's own tests.
    #[doc(hidden)]
    pub test_without_pid_namespace: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 0,
            completion_time: None,
            strategy: Strategy::Random,
            syscall_cost: Duration::from_nanos(500),
            preempt_slice: Duration::from_millis(200),
            spin_budget: Duration::from_secs(10),
            compute_allowance: Duration::from_secs(2),
            cpus: 4,
            keep_trace: false,
            trace_detail: false,
            clock_page: true,
            stdout_logging: false,
            host_cpu: None,
            local_latency: Duration::ZERO,
            remote_latency: Duration::from_micros(200),
            jitter: Duration::from_micros(50),
            faults: crate::fault::FaultPlan::default(),
            reset_rate: 0.0,
            drop_rate: 0.0,
            events: Vec::new(),
            nodes: Vec::new(),
            processes: Vec::new(),
            host_dirs: Vec::new(),
            crash_model: crate::fs::CrashModel::default(),
            signature: true,
            record_tape: true,
            random_partitions: Vec::new(),
            tape: None,
            branch: None,
            snapshot_at: Vec::new(),
            test_panic_after_syscalls: None,
            test_without_pid_namespace: false,
            test_without_file_model: false,
            test_ptrace_stops_only: false,
        }
    }
}

/// A machine of the scenario.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    /// Its host name (`uname`, `/etc/hosts`).
    pub name: String,
    /// Its IPv4 address.
    pub addr: Ipv4Addr,
    /// Its working directory on the host.
    pub dir: PathBuf,
    /// Its own filesystem view: the directory of its writable layer (`upper/`, `work/`,
    /// `merged/`), overlaid on the host's root filesystem in a mount namespace of its
    /// own. `None`: the node uses the host's filesystem.
    pub layer: Option<PathBuf>,
}

/// A process a node starts.
#[derive(Clone, Debug)]
pub struct ProcessSpec {
    /// Index into [`Config::nodes`].
    pub node: usize,
    /// The executable (an absolute path, checked to exist and be executable).
    pub program: PathBuf,
    /// `argv`, including `argv[0]`.
    pub argv: Vec<String>,
    /// The environment.
    pub env: Vec<(String, String)>,
    /// Working directory (default: the node's).
    pub cwd: Option<PathBuf>,
    /// How the user wrote it, for reports.
    pub display: String,
    /// Virtual time at which it starts (zero: at the start of the run).
    pub start_after: Duration,
    /// The run ends once every process marked so has exited (the others are stopped);
    /// one still running at the completion time is a failure.
    pub must_finish: bool,
}

/// Something that happens to the network or a node at a given virtual time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduledEvent {
    /// Cut (`true`) or heal (`false`) the link between two nodes (indices).
    Partition(usize, usize, bool),
    /// Every process of the node dies at once, as when its kernel fails; its
    /// connections are reset.
    Crash(usize),
    /// The node's process specs start again; its files are kept.
    Restart(usize),
}
