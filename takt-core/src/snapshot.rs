//! Global snapshots (seed document `004_*`, Chandy–Lamport): the state of the whole
//! scenario at a requested virtual time.
//!
//! takt holds the network and stops every thread at each decision, so the state between
//! two scheduling points is a consistent cut by construction: no marker messages are
//! needed. At the first scheduling point at or after each time the scenario asked for
//! ([`crate::config::Config::snapshot_at`]), before the packets due at that point are
//! delivered, the engine records a [`Snapshot`]:
//!
//! - each process: pid, parent, node, command, threads (ready, or parked with the call
//!   and what it waits on, and the bytes a parked write has moved so far), and its open
//!   fds (virtual ones from takt's fd model; kernel ones, regular files, read from the
//!   host's `/proc/<pid>/fd`);
//! - each socket ([`SocketView`]): state, local and peer address, bytes buffered for
//!   reading, byte counters;
//! - every message sent and not delivered ([`PacketView`]): the network's queue and the
//!   packets a partition holds;
//! - pipes with their buffered bytes, pending timers, partitions, and whether each node is
//!   up or crashed;
//! - the virtual time of the cut and the number of trace events before it
//!   ([`Snapshot::event_index`]), so a test can set the snapshot against the trace.
//!
//! Only the requested times are captured (the engine keeps no history to rebuild other
//! moments from); a time after the run ended has no snapshot. Snapshots are not part of
//! the trace or its digest. Kernel fds' targets are host paths (a node's working
//! directory is a temporary directory), so they may differ between two runs of a seed.

use crate::net::{PacketView, SocketView};
use crate::time::VTime;
use crate::trace::Msgs;
use serde::{Deserialize, Serialize};

/// The state of the whole scenario at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The time the scenario asked for.
    pub requested: VTime,
    /// The virtual time of the cut: the first scheduling point at or after `requested`.
    pub time: VTime,
    /// Trace events before the cut: events `0..event_index` of the run happened before
    /// it (an index into `Report::trace` when the run kept every event,
    /// `keep_full_trace`; otherwise the report holds only the last ones).
    pub event_index: u64,
    /// Every node, up or crashed.
    pub nodes: Vec<NodeState>,
    /// Cut links, as node-name pairs.
    pub partitions: Vec<(String, String)>,
    /// Every live process, by pid.
    pub processes: Vec<ProcessState>,
    /// Every live socket, by id.
    pub sockets: Vec<SocketView>,
    /// Every message sent and not delivered yet, in delivery order (then held ones).
    pub in_flight: Vec<PacketView>,
    /// Pipes with an open end.
    pub pipes: Vec<PipeState>,
    /// Pending timers, in firing order.
    pub timers: Vec<TimerState>,
}

/// A node at the cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// Its index.
    pub id: usize,
    /// Its name.
    pub name: String,
    /// Its address.
    pub addr: String,
    /// `false` when it crashed and has not restarted.
    pub up: bool,
}

/// A process at the cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessState {
    /// Virtual pid.
    pub pid: i32,
    /// Parent's virtual pid (1 for the processes the scenario started).
    pub ppid: i32,
    /// Its node's name.
    pub node: String,
    /// The command it was started with (a fork inherits its parent's).
    pub command: String,
    /// The program it runs now (after its last `execve`), as the host names it.
    pub program: String,
    /// Its whole group is going away (`exit_group`, a fatal signal).
    pub exiting: bool,
    /// Its threads, by tid.
    pub threads: Vec<ThreadState>,
    /// Its open fds, ascending.
    pub fds: Vec<FdState>,
}

/// A thread at the cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadState {
    /// Virtual tid.
    pub tid: i32,
    /// `ready` (it runs when picked), `blocked` (parked in takt) or `zombie` (a leader
    /// waiting for its other threads to exit).
    pub state: String,
    /// The call it is in when blocked (`epoll_wait`, `accept4`, …).
    pub syscall: Option<String>,
    /// What it waits on when blocked (as deadlock reports say it).
    pub waits_on: Option<String>,
    /// When its wait times out, if it does.
    pub deadline: Option<VTime>,
    /// Bytes a parked send has already moved into the network (they count as sent; the
    /// call's trace event, with its return value, comes when it completes).
    pub partial_bytes: usize,
    /// The messages the parked call already sent or consumed.
    pub partial_msgs: Option<Msgs>,
}

/// An open fd at the cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FdState {
    /// The number.
    pub fd: i32,
    /// What it is: `socket 5`, `pipe 2 (read end)`, `stdout (captured)`, `eventfd 0`,
    /// `epoll 1`, `timerfd 0`, `signalfd 0`, `/dev/urandom (seeded)`, or for a kernel fd
    /// what the host's `/proc` says (a path, `anon_inode:[…]`).
    pub what: String,
    /// The network model's socket id, for a socket.
    pub socket: Option<usize>,
    /// Whether takt models it (false: a kernel fd, a regular file).
    pub virtual_fd: bool,
}

/// A pipe at the cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipeState {
    /// Its index (as fds name it).
    pub id: usize,
    /// Bytes written, not read yet.
    pub buffered: usize,
    /// Open read ends.
    pub readers: usize,
    /// Open write ends.
    pub writers: usize,
}

/// A pending timer at the cut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerState {
    /// When it fires.
    pub at: VTime,
    /// What it is: `timeout of tid 3`, `alarm of pid 2`, `start of process 1`,
    /// `scheduled event 0`, `POSIX timer 0 of pid 2`, `timerfd 1`.
    pub what: String,
}

/// The snapshots a run still has to take and those it took.
#[derive(Debug, Default)]
pub(crate) struct Snapshots {
    /// Requested times not reached yet, latest first (the next one is last).
    pub(crate) pending: Vec<VTime>,
    /// Taken, in the order taken.
    pub(crate) taken: Vec<Snapshot>,
}

impl Snapshots {
    /// The times a run should capture.
    pub(crate) fn new(times: &[std::time::Duration]) -> Snapshots {
        let mut pending: Vec<VTime> = times.iter().map(|&d| VTime::ZERO.after(d)).collect();
        pending.sort_unstable_by(|a, b| b.cmp(a));
        pending.dedup();
        Snapshots {
            pending,
            taken: Vec::new(),
        }
    }
}
