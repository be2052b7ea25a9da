//! Taking the global snapshots a run asked for ([`crate::snapshot`]): at a scheduling
//! point, the state of every process, socket, pipe and timer, read from the world.

use super::{Engine, State, TimerKey};
use crate::net::addr_text;
use crate::snapshot::{
    FdState, NodeState, PipeState, ProcessState, Snapshot, ThreadState, TimerState,
};
use crate::time::VTime;

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
                    Kind::Output(n) => match self.w.streams.get(n) {
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
