//! The processes of a run as the models see them: signal dispositions, the process
//! table's entries, and what closing a description tells the models.

use super::{Vtid, World};
use crate::fd::{Closed, Obj};
use crate::sys::RealTid;
use rand_pcg::Pcg64Mcg;

/// The disposition `rt_sigaction` installs.
pub(crate) fn process_disposition(handler: u64, flags: u64) -> Disposition {
    Disposition { handler, flags }
}

/// A signal's disposition as the process set it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Disposition {
    /// `SIG_DFL` (0), `SIG_IGN` (1) or a handler address.
    pub handler: u64,
    /// `sa_flags`.
    pub flags: u64,
}

/// One traced process.
#[derive(Debug)]
pub struct Proc {
    pub(crate) vpid: Vtid,
    pub(crate) real: RealTid,
    pub(crate) ppid: Vtid,
    pub(crate) node: usize,
    pub(crate) spec: usize,
    /// Index into the report when this process is one the user specified.
    pub(crate) report: Option<usize>,
    pub(crate) command: String,
    pub(crate) threads: Vec<Vtid>,
    pub(crate) sig: [Disposition; 65],
    /// Set once the whole group is going away (exit_group, fatal signal, execve).
    pub(crate) exiting: bool,
    pub(crate) status: Option<i32>,
    /// Reaped by its parent's `wait4`.
    pub(crate) reaped: bool,
    pub(crate) rng: Pcg64Mcg,
    pub(crate) rng_key: String,
    pub(crate) forks: u32,
    /// The address space (the vpid of the process whose memory this is): futex keys.
    pub(crate) mm: Vtid,
    /// The parent thread blocked until this vfork child execs or exits.
    pub(crate) vfork_parent: Option<Vtid>,
    /// Pending `alarm`/`ITIMER_REAL` timer.
    pub(crate) alarm: Option<(crate::time::TimerId, crate::time::VTime)>,
    /// `ITIMER_REAL`'s interval (ns; 0: one-shot).
    pub(crate) alarm_interval: u64,
    /// POSIX timers (`timer_create`), by id.
    pub(crate) timers: std::collections::BTreeMap<i32, super::PosixTimer>,
    /// The id the next `timer_create` returns (Linux counts up per process).
    pub(crate) next_timer: i32,
    /// The CPU time its threads used, exited ones included (`super::cpu`).
    pub(crate) cpu: crate::world::cpu::CpuTime,
    /// The CPU time of its reaped children and their reaped descendants.
    pub(crate) cpu_children: crate::world::cpu::CpuTime,
    /// `ITIMER_VIRTUAL` and `ITIMER_PROF`: schedules on its user and its user+system
    /// CPU time (a [`crate::time::VTime`] here is a reading of that CPU time).
    pub(crate) itimers: [crate::time::Periodic; 2],
    /// Stopped by this signal (job control, see the `job` submodule): not scheduled.
    pub(crate) stop: Option<i32>,
    /// A stop or continue its parent has not waited for yet.
    pub(crate) change: Option<crate::world::job::JobChange>,
    /// Continued, and not run since: its parent is sent `CLD_CONTINUED` when it runs.
    pub(crate) tell_continued: bool,
    /// Sent `SIGKILL`: its threads are collected, never resumed (see `reap_killed`).
    pub(crate) killed: bool,
}

impl Proc {
    /// A new process of one thread (`vpid`), with default signal dispositions, nothing
    /// pending and its own address space; its guest random stream is keyed `key`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        vpid: Vtid,
        real: RealTid,
        ppid: Vtid,
        node: usize,
        spec: usize,
        command: String,
        seed: u64,
        key: String,
    ) -> Proc {
        Proc {
            vpid,
            real,
            ppid,
            node,
            spec,
            report: None,
            command,
            threads: vec![vpid],
            sig: [Disposition::default(); 65],
            exiting: false,
            status: None,
            reaped: false,
            rng: crate::rng::stream(seed, &format!("guest/{key}")),
            rng_key: key,
            forks: 0,
            mm: vpid,
            vfork_parent: None,
            alarm: None,
            alarm_interval: 0,
            timers: std::collections::BTreeMap::new(),
            next_timer: 0,
            stop: None,
            change: None,
            tell_continued: false,
            killed: false,
            cpu: Default::default(),
            cpu_children: Default::default(),
            itimers: Default::default(),
        }
    }
}

/// Whether a signal's default action terminates the process.
pub(crate) fn default_is_fatal(sig: i32) -> bool {
    !matches!(
        sig,
        libc::SIGCHLD
            | libc::SIGURG
            | libc::SIGWINCH
            | libc::SIGCONT
            | libc::SIGSTOP
            | libc::SIGTSTP
            | libc::SIGTTIN
            | libc::SIGTTOU
    )
}

impl World {
    /// Notifies whatever the closed descriptions were connected to.
    pub(crate) fn closed_all(&mut self, closed: Vec<Closed>) {
        for c in closed {
            self.closed(c);
        }
    }

    /// Notifies one closed description.
    pub(crate) fn closed(&mut self, c: Closed) {
        match c {
            Closed::Nothing => {}
            Closed::Obj(Obj::TimerFd(id)) => {
                if let Some(t) = self.files.timerfds[id].timer.take() {
                    self.timers.cancel(t);
                }
            }
            Closed::Obj(o) => self.notify(o),
            Closed::Socket(s) => {
                self.socks.remove(&s);
                self.net.close(s, self.now);
                self.notify(Obj::Socket(s));
            }
        }
    }
}
