//! The world a run's handlers see: the processes and threads, the descriptors and the
//! models behind them (files, network, timers, futexes, semaphores, disks), the guest's
//! memory through [`ThreadMemory`], and the run's decisions (faults, network draws).
//!
//! A handler gets a `&mut World`, never the engine. What only the engine can do (run the
//! scheduler, capture output, collect a killed process through ptrace) a handler asks
//! for with an [`Effect`], which the engine applies once the handler has returned.
//! Everything the engine alone owns (the scheduler, the trace and its digest, the
//! tracees' stops, the clock page, the signature, snapshots) is outside it.

#![deny(clippy::arithmetic_side_effects)]
pub(crate) mod cpu;
pub(crate) mod decide;
pub(crate) mod job;
pub mod memory;
mod park;
pub(crate) mod process;
pub(crate) mod signal;

pub(crate) use job::JobChange;
pub use park::{Blocked, Remaining};
pub(crate) use process::{default_is_fatal, process_disposition};
pub use process::{Disposition, Proc};

use crate::config::Config;
use crate::fd::{Files, Obj, TableId};
use crate::sys::{self, RealTid, Regs, Running, Stopped};
use crate::syscall::Syscall;
use crate::time::{Periodic, TimerId, Timers, VTime};
use memory::ThreadMemory;
use rand_pcg::Pcg64Mcg;
use std::collections::{BTreeMap, VecDeque};

/// A virtual thread or process id.
pub type Vtid = i32;

/// What a thread that is not running will do when it is next picked.
#[derive(Debug)]
pub(crate) enum Resume {
    /// Continue, injecting a signal (0: none).
    Cont(i32),
    /// Write these registers, then continue.
    Regs(Regs),
    /// Write these registers, then run to the syscall's exit stop.
    RegsToExit(Regs),
    /// Run to the current syscall's exit stop.
    ToExit,
    /// Run the blocked syscall's handler again (something it waits on changed).
    Retry,
}

#[derive(Debug)]
pub(crate) enum State {
    Ready(Resume),
    Blocked(Blocked),
    /// The thread-group leader called `exit` while other threads live: it is a zombie
    /// until they are gone.
    Zombie(Running),
}

/// One traced thread.
#[derive(Debug)]
pub struct Thread {
    pub(crate) vtid: Vtid,
    pub(crate) real: RealTid,
    pub(crate) pid: Vtid,
    pub(crate) state: State,
    pub(crate) stopped: Option<Stopped>,
    /// Registers saved at the current seccomp stop.
    pub(crate) regs: Option<Regs>,
    /// The syscall being handled, decoded once at its stop.
    pub(crate) cur: Syscall,
    pub(crate) fdt: TableId,
    pub(crate) clear_tid: u64,
    pub(crate) timer: Option<TimerId>,
    /// Consecutive watchdog preemptions without a syscall.
    pub(crate) spin: u32,
    /// Parked in a pure spin (see `spin`): where, and since when.
    pub(crate) spinning: Option<Box<Spin>>,
    /// The first `execve` of a spawned process: its failure means "cannot start".
    pub(crate) initial_exec: bool,
    /// The clone in progress is a vfork (the parent waits for the child's exec/exit).
    pub(crate) vfork: bool,
    /// Flags and child-tid pointer of a `clone3` in progress.
    pub(crate) clone3: Option<(u64, u64)>,
    /// Argument registers to put back at the syscall's exit after a rewrite (a syscall
    /// preserves every register but rax, rcx and r11; glibc's `vfork` keeps its return
    /// address in rdi across the call).
    pub(crate) restore: Option<[u64; 6]>,
    /// The current syscall's result was injected as a fault.
    pub(crate) fault: bool,
    /// Bytes already transferred by a blocking write that had to wait for room.
    pub(crate) progress: usize,
    /// A short-transfer fault on this call: the most units (bytes; messages for
    /// `sendmmsg`/`recvmmsg`) it may move.
    pub(crate) short: Option<usize>,
    /// Messages the current call sent or consumed before it was parked.
    pub(crate) msgs: Option<crate::trace::Msgs>,
    /// What the trace keeps of the current call's pointer arguments (see `capture`).
    pub(crate) capture: Option<Box<crate::syscall::capture::Capture>>,
    /// A signal that runs a handler came while the thread was woken but had not run its
    /// handler again: if that parks it again, the signal interrupts it instead (the
    /// value: the handler has `SA_RESTART`).
    pub(crate) sig_wake: Option<bool>,
    /// Syscalls this thread made so far (the key of its fault decisions).
    pub(crate) calls: u64,
    /// Clock reads (`clock_gettime`, `gettimeofday`, `time`, `rdtsc`) in a row, with no
    /// other syscall between them: a thread polling the clock (see [`time`]).
    pub(crate) clock_reads: u32,
    /// The current call was passed to the kernel and stops at its exit only so that the
    /// trace shows its result ([`Config::trace_detail`]).
    pub(crate) detail_pass: bool,
    /// The CPU time it used (`cpu`).
    pub(crate) cpu: cpu::CpuTime,
    /// Since its last syscall, stepping it at a watchdog stop found it computing (no
    /// repeating state), see [`Config::compute_allowance`].
    pub(crate) computing: bool,
    /// Its parked call was ended from outside (a wake-up, its deadline, a signal): the
    /// engine records the call's event when the thread next runs.
    pub(crate) ended: bool,
    /// Held at a seccomp user notification (its id) instead of a ptrace stop
    /// ([`sys::notif`]): `stopped` is then `None`.
    pub(crate) notif: Option<u64>,
    /// How to go on once the notified call (its number, and the resume), restarted
    /// under ptrace with the x32 bit set, is at its seccomp stop.
    pub(crate) reexec: Option<(i64, Resume)>,
    /// The call the thread was resumed into from a ptrace stop is a notified one: the
    /// filter, run again by the kernel, notifies it once more, and that notification is
    /// answered "let the kernel run it".
    pub(crate) recheck: bool,
    /// At a seccomp stop of a call marked with the x32 bit: its own number.
    pub(crate) marked: Option<i64>,
    /// Held at a seccomp stop (not another ptrace stop).
    pub(crate) at_seccomp: bool,
}

impl Thread {
    /// A new thread `vtid` (real tid `real`) of process `pid`, with fd table `fdt`, held
    /// in `stopped` and ready to go on.
    pub(crate) fn new(
        vtid: Vtid,
        real: RealTid,
        pid: Vtid,
        fdt: TableId,
        stopped: Stopped,
    ) -> Thread {
        Thread {
            vtid,
            real,
            pid,
            state: State::Ready(Resume::Cont(0)),
            stopped: Some(stopped),
            regs: None,
            cur: Syscall::Other {
                nr: u32::MAX,
                args: [0; 6],
            },
            fdt,
            clear_tid: 0,
            timer: None,
            spin: 0,
            computing: false,
            ended: false,
            spinning: None,
            initial_exec: false,
            restore: None,
            fault: false,
            vfork: false,
            clone3: None,
            progress: 0,
            short: None,
            msgs: None,
            capture: None,
            sig_wake: None,
            calls: 0,
            detail_pass: false,
            notif: None,
            reexec: None,
            recheck: false,
            marked: None,
            at_seccomp: false,
            clock_reads: 0,
            cpu: Default::default(),
        }
    }
}

/// What the engine keeps about an open socket beyond the network model.
#[derive(Debug, Default)]
pub(crate) struct SockMeta {
    /// The process that created it (`SO_PEERCRED`).
    pub(crate) owner: Vtid,
    /// Deliveries to it (arrivals of data, connections, room): an edge for `EPOLLET`
    /// even when it was already ready.
    pub(crate) deliveries: u64,
    /// Options takt accepts but does not model, as set: (level, name) → value.
    pub(crate) extra: BTreeMap<(i32, i32), Vec<u8>>,
}

/// A node's names as `uname` shows them.
#[derive(Debug, Clone)]
pub(crate) struct Uts {
    pub(crate) hostname: Vec<u8>,
    pub(crate) domainname: Vec<u8>,
}

/// A timer's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimerKey {
    /// A blocked thread's timeout.
    Thread(Vtid),
    /// An `alarm`/`ITIMER_REAL` expiry for a process.
    Alarm(Vtid),
    /// A process spec whose start time has come.
    Spawn(usize),
    /// A scheduled partition, heal, crash or restart (index into `Config::events`).
    Scheduled(usize),
    /// The next expiry of POSIX timer (process, timer id) that sends a signal.
    Posix(Vtid, i32),
    /// The next expiry of a timerfd (wakes its waiters).
    TimerFd(usize),
}

/// A thread parked in a pure spin.
#[derive(Debug, Clone)]
pub(crate) struct Spin {
    /// Its canonical state: the lowest (instruction pointer, registers) of the pass.
    pub(crate) canon: sys::CpuState,
    /// Instructions per pass.
    pub(crate) period: u32,
    /// [`World::progress`] when it was parked: it may run again once that changed.
    pub(crate) parked_at: u64,
}

/// How a POSIX timer tells its process it expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Notify {
    /// `SIGEV_NONE`.
    None,
    /// A signal with `sigev_value`, to the process or to one of its threads.
    Signal {
        /// The signal.
        sig: i32,
        /// `sigev_value`.
        value: u64,
        /// `SIGEV_THREAD_ID`'s thread.
        thread: Option<Vtid>,
    },
}

/// One POSIX timer.
#[derive(Clone, Debug)]
pub(crate) struct PosixTimer {
    /// Its clock.
    pub(crate) clock: i32,
    /// How it notifies.
    pub(crate) notify: Notify,
    /// When it expires.
    pub(crate) schedule: Periodic,
    /// The engine timer at its next expiry (signal timers only).
    pub(crate) timer: Option<TimerId>,
    /// The signal it queued last and to whom (`Some(None)`: the process), while that may
    /// still be pending.
    pub(crate) queued: Option<Option<Vtid>>,
    /// Expirations folded into the queued signal so far.
    pub(crate) overrun_acc: i32,
    /// `timer_getoverrun`: the overruns of the last signal delivered.
    pub(crate) overrun: i32,
    /// Its CPU-time clock, if it has one (then `schedule` is in that clock's readings).
    pub(crate) cpu: Option<cpu::CpuClock>,
}

/// Captured output of one spawned process (stdout or stderr), shared with its children.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    pub(crate) spec: usize,
    pub(crate) stderr: bool,
    pub(crate) data: Vec<u8>,
    /// Bytes after the last complete line (the engine makes lines of them).
    pub(crate) partial: Vec<u8>,
}

/// What a handler asks the engine to do once it has returned.
#[derive(Debug)]
pub enum Effect {
    /// `tid` called `sched_yield`: the scheduler moves it behind the others.
    Yield(Vtid),
    /// Process `pid` wrote to captured stream `stream`: what it wrote is that stream's
    /// data from byte `from` on (the engine digests it and makes lines of it).
    Output {
        /// Which stream (an index into the world's captured streams).
        stream: usize,
        /// The process that wrote.
        pid: Vtid,
        /// Where its bytes start in the stream's data.
        from: usize,
    },
    /// `obj` changed while descriptions have signal-driven I/O set up: their owners may
    /// be sent `SIGIO` (`handler::io::signal_io`).
    SignalIo(Obj),
    /// A `SIGKILL` reached the process of `tid` while another process ran: its threads
    /// are collected now (see `World::signal_arrived`).
    Collect(Vtid),
}

/// The models and tables of one run (see the module's documentation).
pub struct World {
    /// Guest memory as handlers read and write it: the tracees' (in handler unit tests,
    /// a local memory).
    pub(crate) mem: Box<dyn ThreadMemory>,
    pub(crate) cfg: Config,
    pub(crate) now: VTime,
    pub(crate) procs: BTreeMap<Vtid, Proc>,
    pub(crate) threads: BTreeMap<Vtid, Thread>,
    pub(crate) files: Files,
    pub(crate) timers: Timers<TimerKey>,
    pub(crate) futexes: BTreeMap<(Vtid, u64), VecDeque<(Vtid, u32)>>,
    /// Threads in `futex` or `futex_waitv`: the queue keys of their current (or last)
    /// wait, in the call's order; an entry in `futexes` under another key is stale.
    pub(crate) futex_waits: BTreeMap<Vtid, Vec<(Vtid, u64)>>,
    /// System V semaphores: one IPC space per node.
    pub(crate) sems: Vec<crate::ipc::Sems>,
    pub(crate) net: crate::net::Network,
    /// Decides network faults (resets, drops): its own random stream.
    pub(crate) net_faults: Pcg64Mcg,
    /// Network faults injected: (kind, count).
    pub(crate) net_fault_counts: BTreeMap<&'static str, u64>,
    /// Decides injected syscall faults (its own random stream).
    pub(crate) injector: crate::fault::Injector,
    /// What the engine keeps about each open socket beyond the network model.
    pub(crate) socks: BTreeMap<usize, SockMeta>,
    pub(crate) warnings: BTreeMap<String, u64>,
    /// Expected refusals (rseq, a refused mount…): in the report, not shown as warnings.
    pub(crate) notes: BTreeMap<String, u64>,
    /// Each node's host and domain name (`uname`; `sethostname` changes them).
    pub(crate) uts: Vec<Uts>,
    /// The scenario has a PID namespace of its own (guests see virtual pids).
    pub(crate) pid_ns: bool,
    /// Each node's mount namespace (its own filesystem view), when it has one.
    pub(crate) nodens: Vec<Option<sys::mountns::NodeNamespace>>,
    /// Inode and device numbers shown to programs.
    pub(crate) ids: crate::fs::Ids,
    /// Virtual times of files the run changed.
    pub(crate) times: crate::fs::TimeBook,
    /// Each node's disk: what is not durable yet.
    pub(crate) disks: Vec<crate::fs::Disk>,
    /// The directories being read with `getdents64`, in name order.
    pub(crate) listings: crate::fs::Listings,
    /// Open file descriptions with signal-driven I/O set up (`O_ASYNC`).
    pub(crate) signal_io: std::collections::BTreeSet<crate::fd::FileId>,
    /// Armed POSIX timers on CPU-time clocks that signal: (owner process, timer id).
    pub(crate) cpu_timers: std::collections::BTreeSet<(Vtid, i32)>,
    /// Threads in `clock_nanosleep` on a CPU-time clock: the clock, its deadline, and
    /// where the time left goes if a signal cuts the sleep short (0: nowhere).
    pub(crate) cpu_sleepers: BTreeMap<Vtid, (cpu::CpuClock, u64, u64)>,
    /// The CPU time of the last reaped processes (virtual pid, real pid, time), for the
    /// `SIGCHLD` that may still be delivered after the reap.
    pub(crate) reaped_cpu: VecDeque<(Vtid, RealTid, cpu::CpuTime)>,
    /// Decides what a crash leaves under a seeded crash model (its own stream).
    pub(crate) crash_rng: Pcg64Mcg,
    /// Counts steps that may have changed what a spinner reads (every step but a
    /// spinner's re-check, and signals): a parked spinner waits for it to move.
    pub(crate) progress: u64,
    /// The thread that ran last (the one whose call is being handled).
    pub(crate) last: Option<Vtid>,
    /// The decision tape: recorded, replayed, and the branch point.
    pub(crate) decisions: decide::Decisions,
    /// Events in the trace so far (where a recorded decision sits in it).
    pub(crate) events: u64,
    pub(crate) reports: Vec<crate::report::ProcessReport>,
    /// Captured stdout and stderr of the spawned processes.
    pub(crate) streams: Vec<Stream>,
    pub(crate) next_vpid: Vtid,
    /// What the handlers asked the engine to do (see [`Effect`]), in order.
    pub(crate) effects: Vec<Effect>,
}

impl World {
    /// The world of a run as it starts: no process yet, the clock at zero, each node's
    /// IPC space and names, the network, and the decision streams of `cfg`'s seed.
    pub(crate) fn new(cfg: Config, decisions: decide::Decisions) -> World {
        let injector =
            crate::fault::Injector::new(cfg.faults.clone(), crate::rng::stream(cfg.seed, "faults"));
        let net_faults = crate::rng::stream(cfg.seed, "network faults");
        let crash_rng = crate::rng::stream(cfg.seed, "crash");
        let net = network(&cfg);
        let (sems, uts) = per_node(&cfg);
        World {
            mem: Box::new(crate::world::memory::TraceeMemory),
            cfg,
            now: VTime::ZERO,
            procs: BTreeMap::new(),
            threads: BTreeMap::new(),
            files: Files::default(),
            timers: Timers::default(),
            futexes: BTreeMap::new(),
            futex_waits: BTreeMap::new(),
            sems,
            net,
            net_faults,
            net_fault_counts: BTreeMap::new(),
            injector,
            socks: BTreeMap::new(),
            warnings: BTreeMap::new(),
            notes: BTreeMap::new(),
            uts,
            nodens: Vec::new(),
            ids: crate::fs::Ids::default(),
            times: crate::fs::TimeBook::default(),
            disks: Vec::new(),
            listings: crate::fs::Listings::default(),
            signal_io: std::collections::BTreeSet::new(),
            cpu_timers: std::collections::BTreeSet::new(),
            cpu_sleepers: BTreeMap::new(),
            reaped_cpu: VecDeque::new(),
            crash_rng,
            progress: 0,
            last: None,
            reports: Vec::new(),
            streams: Vec::new(),
            next_vpid: 1000,
            decisions,
            pid_ns: false,
            events: 0,
            effects: Vec::new(),
        }
    }
}

/// Each node's System V IPC space and host and domain names, as a run starts.
fn per_node(cfg: &Config) -> (Vec<crate::ipc::Sems>, Vec<Uts>) {
    let sems = cfg.nodes.iter().map(|_| crate::ipc::Sems::default());
    let uts = cfg.nodes.iter().map(|n| Uts {
        hostname: n.name.clone().into_bytes(),
        domainname: Vec::new(),
    });
    (sems.collect(), uts.collect())
}

/// The network model of a run: its latencies and jitter, seeded; a replayed tape's
/// packet delays.
fn network(cfg: &Config) -> crate::net::Network {
    let mut net = crate::net::Network::new(crate::net::NetConfig {
        local_latency: cfg.local_latency,
        remote_latency: cfg.remote_latency,
        jitter: cfg.jitter,
        seed: rand::RngCore::next_u64(&mut crate::rng::stream(cfg.seed, "net")),
        ..crate::net::NetConfig::default()
    });
    if let Some(t) = &cfg.tape {
        net.replay_delays(crate::tape::Replay::new(t).delays);
    }
    net
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World")
            .field("now", &self.now)
            .field("threads", &self.threads.len())
            .finish()
    }
}

impl World {
    /// The faults injected: (call or `network`, fault, count).
    pub(crate) fn fault_counts(&self) -> Vec<(String, String, u64)> {
        let mut faults: Vec<(String, String, u64)> = self
            .injector
            .counts()
            .iter()
            .map(|((c, f), n)| (c.clone(), f.clone(), *n))
            .collect();
        faults.extend(
            self.net_fault_counts
                .iter()
                .map(|(k, n)| ("network".to_string(), k.to_string(), *n)),
        );
        faults
    }

    /// Ends the parked call of `tid` with `value` (a wake-up, its deadline): it
    /// returns `value` when the thread next runs, and the engine records the call's
    /// event then, as strace shows a call resumed.
    pub(crate) fn complete(&mut self, tid: Vtid, value: i64) {
        self.finish(tid, value, true);
    }

    /// Skips the current syscall of `tid`: it returns `value` (emulated) when the
    /// thread next runs. The caller records its event.
    pub(crate) fn set_return(&mut self, tid: Vtid, value: i64) {
        self.finish(tid, value, false);
    }

    /// The current syscall of `tid` returns `value` when the thread next runs; `ended`:
    /// the engine records its event then.
    fn finish(&mut self, tid: Vtid, value: i64, ended: bool) {
        let t = self.threads.get_mut(&tid).expect("thread exists");
        if let Some(id) = t.timer.take() {
            self.timers.cancel(id);
        }
        let mut regs = t.regs.expect("completing a syscall at its seccomp stop");
        regs.emulate(value);
        t.ended = ended;
        t.state = State::Ready(Resume::Regs(regs));
    }

    pub(crate) fn set_ready(&mut self, tid: Vtid, r: Resume) {
        if let Some(t) = self.threads.get_mut(&tid) {
            t.state = State::Ready(r);
        }
    }

    /// Something threads may wait on changed: every thread blocked on it retries, and
    /// signal-driven I/O on it signals its owner when it became readable or writable.
    pub(crate) fn notify(&mut self, obj: Obj) {
        for t in self.threads.values_mut() {
            if let State::Blocked(b) = &t.state {
                if b.objs.contains(&obj) {
                    t.state = State::Ready(Resume::Retry);
                }
            }
        }
        if !self.signal_io.is_empty() {
            self.effects.push(Effect::SignalIo(obj));
        }
    }

    /// Wakes threads blocked waiting for a child of `pid` to change state.
    pub(crate) fn notify_children_changed(&mut self, pid: Vtid) {
        for t in self.threads.values_mut() {
            if t.pid == pid {
                if let State::Blocked(b) = &t.state {
                    if b.child {
                        t.state = State::Ready(Resume::Retry);
                    }
                }
            }
        }
    }

    /// Records an unsupported syscall (once per name, with a count).
    pub(crate) fn warn(&mut self, what: String) {
        let c = self.warnings.entry(what).or_insert(0);
        *c = c.saturating_add(1);
    }

    /// Records an expected refusal (once per text, with a count): a note, not a warning.
    pub(crate) fn note(&mut self, what: String) {
        let c = self.notes.entry(what).or_insert(0);
        *c = c.saturating_add(1);
    }

    /// The process's random stream (guest-visible randomness).
    pub(crate) fn guest_rng(&mut self, tid: Vtid) -> &mut Pcg64Mcg {
        let pid = self.threads[&tid].pid;
        &mut self.procs.get_mut(&pid).expect("process exists").rng
    }

    /// The node's own copy of a host file the program should not see (`/etc/hosts`
    /// naming every node, `/etc/hostname`, `/proc/sysvipc/sem` listing the run's
    /// semaphore sets, and the host-state files of
    /// [`crate::hostfiles`]: memory, CPUs, load, uptime, cgroup limits), if `path` is one.
    /// The host-state files are written afresh at each open: their times are the virtual
    /// clock's now.
    pub(crate) fn node_file(&self, tid: Vtid, path: &[u8]) -> Option<String> {
        // Most opens are of other files: no lookup for them.
        if ![&b"/etc/"[..], b"/proc/", b"/sys/"]
            .iter()
            .any(|p| path.starts_with(p))
        {
            return None;
        }
        let node = self.procs[&self.threads[&tid].pid].node;
        let dir = etc_dir(&self.cfg.nodes[node].dir);
        if let Some(file) = self.proc_ids_file(tid, path, &dir) {
            return Some(file);
        }
        let name = match path {
            b"/etc/hosts" => "hosts",
            b"/etc/hostname" => "hostname",
            b"/proc/sysvipc/sem" => {
                // The run's semaphores are the core's, not the kernel's.
                std::fs::write(dir.join("sysvipc_sem"), self.sems[node].proc_file()).ok()?;
                "sysvipc_sem"
            }
            _ => {
                use crate::time::{BOOT_SECS, EPOCH_SECS};
                let m = crate::hostfiles::Machine {
                    cpus: self.cfg.cpus,
                    now: self.now,
                    boot_epoch: EPOCH_SECS.saturating_sub(BOOT_SECS),
                    boot_secs: BOOT_SECS,
                };
                let (name, text) = crate::hostfiles::content(path, &m)?;
                std::fs::write(dir.join(name), text).ok()?;
                name
            }
        };
        Some(dir.join(name).to_string_lossy().into_owned())
    }

    /// `/proc/{self,thread-self,<pid>}/[task/<tid>/]{stat,status}` of a scenario's
    /// process, with its pid fields in the scenario's numbers (where a node sees the
    /// host's `/proc`, it numbers pids as the host's namespace does), its state as the
    /// guest would see it natively ([`World::shown_state`]) and its host times fixed.
    /// Made from the real process's file (read by real pid, in the tracer's own `/proc`)
    /// and written into the node's directory as the open happens (a snapshot, where
    /// Linux's file is live); `None` for any other path, or without a PID namespace
    /// (pids are the host's).
    ///
    /// `mountinfo` of any of these is the host's with its cgroup mounts made one cgroup
    /// v2 mount ([`crate::hostfiles::mountinfo`]), with or without a PID namespace (then
    /// only `self` and `thread-self`).
    fn proc_ids_file(&self, tid: Vtid, path: &[u8], dir: &std::path::Path) -> Option<String> {
        let rest = std::str::from_utf8(path.strip_prefix(b"/proc/")?).ok()?;
        let me = &self.threads[&tid];
        let parts: Vec<&str> = rest.split('/').collect();
        let (pid, task, file) = match parts.as_slice() {
            ["self", f] => (me.pid, None, *f),
            ["thread-self", f] => (me.pid, Some(tid), *f),
            ["self", "task", t, f] => (me.pid, Some(t.parse().ok()?), *f),
            [p, f] => (p.parse().ok()?, None, *f),
            [p, "task", t, f] => (p.parse().ok()?, Some(t.parse().ok()?), *f),
            _ => return None,
        };
        let own = matches!(parts.first(), Some(&"self" | &"thread-self"));
        if !matches!(file, "stat" | "status" | "mountinfo")
            || !(self.pid_namespace() || (own && file == "mountinfo"))
        {
            return None;
        }
        let proc = self.procs.get(&pid)?;
        let host = match task {
            Some(t) => {
                let th = self.threads.get(&t).filter(|th| th.pid == pid)?;
                format!("/proc/{}/task/{}/{file}", proc.real, th.real)
            }
            None => format!("/proc/{}/{file}", proc.real),
        };
        let text = std::fs::read_to_string(host).ok()?;
        let map = |h: i64| -> i64 {
            self.threads
                .values()
                .find(|t| i64::from(t.real) == h)
                .map_or(0, |t| i64::from(t.vtid))
        };
        let own = match task {
            Some(t) => self
                .threads
                .get(&t)
                .map_or_else(Default::default, |t| t.cpu),
            None => proc.cpu,
        };
        let tick = cpu::ticks;
        let ids = crate::hostfiles::ProcIds {
            pid: task.unwrap_or(pid),
            tgid: pid,
            ppid: proc.ppid,
            map: &map,
            state: match proc.stop {
                Some(_) => Some('T'),
                None => self.shown_state(task.unwrap_or(pid)),
            },
            cpu: [
                tick(own.user),
                tick(own.sys),
                tick(proc.cpu_children.user),
                tick(proc.cpu_children.sys),
            ],
        };
        let text = match file {
            "stat" => crate::hostfiles::proc_stat(&text, &ids)?,
            "status" => crate::hostfiles::proc_status(&text, &ids),
            _ => {
                use std::os::unix::ffi::OsStrExt;
                let as_str = |d: &std::path::Path| {
                    std::str::from_utf8(d.as_os_str().as_bytes())
                        .ok()
                        .map(str::to_string)
                };
                // The scenario's directory, and the name its layers' directory has
                // (`<name>.fs`, where it is: beside it, or in /dev/shm).
                let dirs: Vec<String> = self
                    .cfg
                    .nodes
                    .iter()
                    .filter_map(|n| n.dir.parent().and_then(as_str))
                    .chain(self.cfg.nodes.iter().filter_map(|n| {
                        let layers = n.layer.as_deref()?.parent().and_then(as_str)?;
                        layers.strip_suffix(".fs").map(str::to_string)
                    }))
                    .collect();
                let dirs: Vec<&str> = dirs.iter().map(String::as_str).collect();
                crate::hostfiles::mountinfo(&text, &dirs)
            }
        };
        let name = format!("proc-{tid}-{file}");
        std::fs::write(dir.join(&name), text).ok()?;
        Some(dir.join(name).to_string_lossy().into_owned())
    }

    /// Whether `tid`'s node sees the host's `/proc` (no mount namespace, or one without
    /// a procfs of the scenario's PID namespace): then its pids are the host's.
    pub(crate) fn host_proc(&self, tid: Vtid) -> bool {
        let node = self.procs[&self.threads[&tid].pid].node;
        !self
            .nodens
            .get(node)
            .is_some_and(|ns| ns.as_ref().is_some_and(|n| n.own_proc()))
    }

    /// Whether the run has its own PID namespace: then a pid a guest names can only be
    /// one of the scenario's (without one, pids are the host's and the handlers must
    /// not let a signal reach a process outside the scenario).
    pub(crate) fn pid_namespace(&self) -> bool {
        self.pid_ns
    }

    /// The state letter `/proc` should show for thread `tid`, as it would natively: every
    /// traced thread but the one running is held in a ptrace stop or a seccomp
    /// notification, which the kernel shows as `t (tracing stop)` or `D`. Parked in a blocking call: `S`; running or runnable: `R`; a
    /// leader that exited before its other threads: `Z`. `None` (the kernel's letter)
    /// for a thread takt no longer holds (an exited process: the kernel's zombie).
    fn shown_state(&self, tid: Vtid) -> Option<char> {
        Some(match self.threads.get(&tid)?.state {
            State::Ready(_) => 'R',
            State::Blocked(_) => 'S',
            State::Zombie(_) => 'Z',
        })
    }
}

/// Where a node's private copies of host files live: beside its working directory, so
/// its processes do not see them in their own directory.
pub(crate) fn etc_dir(node_dir: &std::path::Path) -> std::path::PathBuf {
    let mut name = node_dir.file_name().unwrap_or_default().to_os_string();
    name.push(".etc");
    node_dir.with_file_name(name)
}
