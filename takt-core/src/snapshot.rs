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

use crate::engine::{Engine, State, TimerKey};
use crate::net::{addr_text, PacketView, SocketView};
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
    pending: Vec<VTime>,
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

impl Engine {
    /// At a scheduling point: takes every requested snapshot whose time has come (one
    /// cut, recorded once per requested time). Costs a comparison when none is due.
    pub(crate) fn take_due_snapshots(&mut self) {
        while self.snaps.pending.last().is_some_and(|&t| t <= self.w.now) {
            let requested = self.snaps.pending.pop().expect("checked");
            let s = self.snapshot(requested);
            self.snaps.taken.push(s);
        }
    }

    /// The state of everything now.
    fn snapshot(&self, requested: VTime) -> Snapshot {
        let node_name = |n: usize| {
            self.w
                .cfg
                .nodes
                .get(n)
                .map_or_else(|| format!("node{n}"), |x| x.name.clone())
        };
        let nodes = self
            .w
            .cfg
            .nodes
            .iter()
            .enumerate()
            .map(|(id, n)| {
                let last = self.incidents.iter().rev().find(|i| {
                    i.nodes == [id]
                        && matches!(
                            i.event,
                            crate::config::ScheduledEvent::Crash(_)
                                | crate::config::ScheduledEvent::Restart(_)
                        )
                });
                NodeState {
                    id,
                    name: n.name.clone(),
                    addr: n.addr.to_string(),
                    up: !last.is_some_and(|i| {
                        matches!(i.event, crate::config::ScheduledEvent::Crash(_))
                    }),
                }
            })
            .collect();
        let processes = self
            .w
            .procs
            .values()
            .filter(|p| p.status.is_none())
            .map(|p| {
                let threads = p
                    .threads
                    .iter()
                    .filter_map(|tid| self.w.threads.get(tid))
                    .map(|t| {
                        let mut s = ThreadState {
                            tid: t.vtid,
                            state: "ready".to_string(),
                            syscall: None,
                            waits_on: None,
                            deadline: None,
                            partial_bytes: 0,
                            partial_msgs: None,
                        };
                        match &t.state {
                            State::Ready(_) => {}
                            State::Blocked(b) => {
                                s.state = "blocked".to_string();
                                s.syscall = Some(
                                    syscalls::Sysno::new(t.cur.nr() as usize)
                                        .map_or("?", |n| n.name())
                                        .to_string(),
                                );
                                s.waits_on = Some(b.what.to_string());
                                s.deadline = t.timer.map(|id| id.at());
                                // `progress` counts a parked send's bytes (a parked
                                // connect uses it as a flag).
                                if t.msgs.is_some_and(|m| m.sent && !m.is_connection()) {
                                    s.partial_bytes = t.progress;
                                }
                                s.partial_msgs = t.msgs;
                            }
                            State::Zombie(_) => s.state = "zombie".to_string(),
                        }
                        s
                    })
                    .collect();
                let fdt = p
                    .threads
                    .first()
                    .and_then(|tid| self.w.threads.get(tid))
                    .map(|t| t.fdt);
                ProcessState {
                    pid: p.vpid,
                    ppid: p.ppid,
                    node: node_name(p.node),
                    command: p.command.clone(),
                    program: crate::sys::procfs::exe(p.real).unwrap_or_default(),
                    exiting: p.exiting,
                    threads,
                    fds: fdt.map_or_else(Vec::new, |t| self.fd_states(p.real, t)),
                }
            })
            .collect();
        let pipes = self
            .w
            .files
            .pipes
            .iter()
            .enumerate()
            .filter(|(_, p)| p.readers > 0 || p.writers > 0)
            .map(|(id, p)| PipeState {
                id,
                buffered: p.len(),
                readers: p.readers,
                writers: p.writers,
            })
            .collect();
        let timers = self
            .w
            .timers
            .iter()
            .map(|(at, k)| TimerState {
                at,
                what: match k {
                    TimerKey::Thread(t) => format!("timeout of tid {t}"),
                    TimerKey::Alarm(p) => format!("alarm of pid {p}"),
                    TimerKey::Spawn(i) => format!("start of process {i}"),
                    TimerKey::Scheduled(i) => match self.w.cfg.events.get(*i) {
                        Some((_, e)) => format!("scheduled {e:?}"),
                        None => format!("scheduled event {i}"),
                    },
                    TimerKey::Posix(p, id) => format!("POSIX timer {id} of pid {p}"),
                    TimerKey::TimerFd(id) => format!("timerfd {id}"),
                },
            })
            .collect();
        Snapshot {
            requested,
            time: self.w.now,
            event_index: self.trace.count(),
            nodes,
            partitions: self
                .w
                .net
                .partitions()
                .into_iter()
                .map(|(a, b)| (node_name(a), node_name(b)))
                .collect(),
            processes,
            sockets: self.w.net.socket_views(),
            in_flight: self.w.net.packet_views(),
            pipes,
            timers,
        }
    }

    /// The fds of fd table `t` of the process whose real pid is `real`: takt's virtual
    /// ones, and the kernel's others as the host's `/proc` names them.
    fn fd_states(&self, real: crate::sys::RealTid, t: crate::fd::TableId) -> Vec<FdState> {
        use crate::fd::Kind;
        let mut out: Vec<FdState> = self
            .w
            .files
            .fds(t)
            .map(|(fd, e)| {
                let kind = self.w.files.file(e.file).kind;
                let what = match kind {
                    Kind::PipeRead(p) => format!("pipe {p} (read end)"),
                    Kind::PipeWrite(p) => format!("pipe {p} (write end)"),
                    Kind::EventFd(n) => format!("eventfd {n}"),
                    Kind::Output(n) => match self.streams.get(n) {
                        Some(s) if s.stderr => "stderr (captured)".to_string(),
                        Some(_) => "stdout (captured)".to_string(),
                        None => format!("output {n}"),
                    },
                    Kind::Urandom => "/dev/urandom (seeded)".to_string(),
                    Kind::Epoll(n) => format!("epoll {n}"),
                    Kind::Socket(s) => {
                        match (self.w.net.local_addr(s).ok(), self.w.net.peer_addr(s).ok()) {
                            (Some(l), Some(p)) => {
                                format!("socket {s} {} -> {}", addr_text(&l), addr_text(&p))
                            }
                            (Some(l), None) => format!("socket {s} {}", addr_text(&l)),
                            _ => format!("socket {s}"),
                        }
                    }
                    Kind::TimerFd(n) => format!("timerfd {n}"),
                    Kind::SignalFd(n) => format!("signalfd {n}"),
                };
                FdState {
                    fd,
                    what,
                    socket: match kind {
                        Kind::Socket(s) => Some(s),
                        _ => None,
                    },
                    virtual_fd: true,
                }
            })
            .collect();
        // The kernel's fds: a regular file's path (the placeholders of virtual fds are
        // already listed). A process that is gone meanwhile has none.
        if let Ok(dir) = std::fs::read_dir(format!("/proc/{real}/fd")) {
            let mut kernel: Vec<FdState> = dir
                .filter_map(|d| {
                    let d = d.ok()?;
                    let fd: i32 = d.file_name().to_str()?.parse().ok()?;
                    if out.iter().any(|f| f.fd == fd) {
                        return None;
                    }
                    let target = std::fs::read_link(d.path()).ok()?;
                    Some(FdState {
                        fd,
                        what: target.to_string_lossy().into_owned(),
                        socket: None,
                        virtual_fd: false,
                    })
                })
                .collect();
            out.append(&mut kernel);
            out.sort_by_key(|f| f.fd);
        }
        out
    }
}
