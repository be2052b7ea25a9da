//! Job control: `SIGSTOP`, `SIGTSTP`/`SIGTTIN`/`SIGTTOU` with their default action, and
//! `SIGCONT`, modelled in takt's scheduler rather than the kernel's.
//!
//! A tracee never really enters a group stop: every thread of a traced process sits in
//! a ptrace stop takt holds (many of them parked in emulated calls), and the kernel's
//! group stop would need each of them to run. Instead, when a stop signal is generated
//! (a trapped `kill`/`tgkill`/`rt_sigqueueinfo`, a timer's signal) and its action is to
//! stop, the process is marked stopped: none of its threads is scheduled until it is
//! continued, a parked call stays parked (its deadline still passes, as sleeping time
//! does on Linux), and signals sent meanwhile stay pending in the kernel until its
//! threads run again. The kernel keeps the stop signal itself pending on the thread it
//! was sent to; `SIGCONT` (which the kernel also gets) discards it, as Linux discards
//! pending stop signals, so it is never delivered. A stop signal that is blocked when it
//! is generated stops the process when a thread unblocks it and it is delivered
//! (`Engine::on_signal`). `SIGTSTP`, `SIGTTIN` and `SIGTTOU` are discarded for an
//! orphaned process group, as Linux does.
//!
//! `SIGCONT` continues a stopped process when it is generated, even blocked or ignored.
//! `SIGKILL` ends a stop (the process then dies). The parent learns of both changes as
//! on Linux: `wait4`/`waitid` report them once (`WUNTRACED`/`WSTOPPED`, `WCONTINUED`;
//! `WNOWAIT` keeps them; a stop not waited for is replaced by the continue), and it is
//! sent `SIGCHLD` with `CLD_STOPPED` when the process stops and `CLD_CONTINUED` when the
//! continued process next runs (as Linux, where the continued process sends it; a
//! `SIGKILL` first cancels it), unless its `SIGCHLD` is ignored or has `SA_NOCLDSTOP` (see
//! [`sys::signal::ChildSiginfo`] for how that `siginfo` reaches it).
//!
//! takt's own watchdog stops tracees with `SIGSTOP` too (see `sys::watchdog`). Its
//! signal is told apart by its sender: it comes from outside the scenario's PID
//! namespace (`si_pid` 0) or, without one, from takt's own pid, with `SI_TKILL`; every
//! guest's `SIGSTOP` names a guest. A guest's `SIGSTOP` is modelled when it is sent, so
//! one the kernel delivers later is stale and swallowed, unless its process is not
//! stopped (a path that did not model it): then it stops the process.

use super::{Vtid, World};
use crate::sys::{self, signal::ChildSiginfo, signal::Siginfo};

/// A child's stop or continue its parent has not waited for yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobChange {
    /// Stopped by this signal.
    Stopped(i32),
    /// Continued by `SIGCONT`.
    Continued,
}

/// `si_code` of a signal sent with `tgkill`/`tkill` (`SI_TKILL`).
const SI_TKILL: i32 = -6;

/// Whether `sig` is a stop signal (its default action stops the process).
pub(crate) fn is_stop_signal(sig: i32) -> bool {
    matches!(
        sig,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
    )
}

/// Whether a `SIGSTOP` signal-delivery stop with this `siginfo` is the watchdog's: sent
/// with `tgkill` from outside the scenario's PID namespace (`si_pid` 0) or by takt
/// itself (without a namespace).
pub(crate) fn from_watchdog(info: &[u8; 128]) -> bool {
    let (code, pid) = (sys::word(info, 8), sys::word(info, 16));
    code == SI_TKILL && (pid == 0 || pid == std::process::id() as i32)
}

impl World {
    /// Whether process `pid` is stopped (job control): its threads are not scheduled.
    pub(crate) fn job_stopped(&self, pid: Vtid) -> bool {
        self.procs.get(&pid).is_some_and(|p| p.stop.is_some())
    }

    /// Job control at the generation of `sig` for process `pid` (thread `target` if
    /// thread-directed): `SIGCONT` continues it, `SIGKILL` ends its stop, a stop signal
    /// whose action is to stop and that a thread takes now stops it.
    pub(crate) fn job_signal(&mut self, pid: Vtid, sig: i32, target: Option<Vtid>) {
        let Some(p) = self.procs.get(&pid) else {
            return;
        };
        if p.status.is_some() || p.exiting {
            return;
        }
        match sig {
            libc::SIGCONT => self.continue_process(pid),
            libc::SIGKILL => {
                let p = self.procs.get_mut(&pid).expect("process");
                p.killed = true;
                if p.stop.take().is_some() {
                    p.change = None;
                }
                p.tell_continued = false;
            }
            libc::SIGSTOP => self.stop_process(pid, sig),
            s if is_stop_signal(s) && p.sig[s as usize].handler == 0 => {
                let bit = sys::signal::bit(s);
                let taken = match target {
                    Some(t) => self.sig_sets(t).blocked & bit == 0,
                    None => self.wanting_thread(pid, s).is_some(),
                };
                if taken && !self.orphaned_group(pid) {
                    self.stop_process(pid, s);
                }
            }
            _ => {}
        }
    }

    /// A stop signal `sig` was delivered to a thread of `pid` (a signal-delivery stop);
    /// `info` its `siginfo`. Returns whether it is job control's (the signal is then
    /// suppressed): a guest's stop signal whose action is to stop, or a stale one.
    pub(crate) fn job_delivered(&mut self, pid: Vtid, sig: i32, info: Option<&[u8; 128]>) -> bool {
        let Some(p) = self.procs.get(&pid) else {
            return false;
        };
        match sig {
            libc::SIGSTOP => {
                if !info.is_some_and(from_watchdog) && p.stop.is_none() && !p.exiting {
                    self.stop_process(pid, sig);
                }
                true
            }
            s if is_stop_signal(s) && p.sig[s as usize].handler == 0 => {
                if p.stop.is_none() && !p.exiting && !self.orphaned_group(pid) {
                    self.stop_process(pid, s);
                }
                true
            }
            _ => false,
        }
    }

    /// Stops process `pid` for `sig` (nothing if it is stopped already).
    fn stop_process(&mut self, pid: Vtid, sig: i32) {
        self.ran(pid); // a continue not told yet comes first, as on Linux
        let p = self.procs.get_mut(&pid).expect("process");
        if p.stop.is_some() {
            return;
        }
        p.stop = Some(sig);
        p.change = Some(JobChange::Stopped(sig));
        let ppid = p.ppid;
        self.notify_children_changed(ppid);
        self.tell_parent(pid, libc::CLD_STOPPED, sig);
    }

    /// Continues process `pid` if it is stopped.
    fn continue_process(&mut self, pid: Vtid) {
        let p = self.procs.get_mut(&pid).expect("process");
        if p.stop.take().is_none() {
            return;
        }
        p.change = Some(JobChange::Continued);
        p.tell_continued = true;
        let ppid = p.ppid;
        self.progress = self.progress.wrapping_add(1);
        self.notify_children_changed(ppid);
    }

    /// A thread of `pid` is about to run: if the process was continued since it last
    /// ran, its parent is sent `SIGCHLD` with `CLD_CONTINUED` now (Linux sends it from
    /// the continued process, when it runs; a `SIGKILL` before that cancels it).
    pub(crate) fn ran(&mut self, pid: Vtid) {
        if let Some(p) = self.procs.get_mut(&pid).filter(|p| p.tell_continued) {
            p.tell_continued = false;
            self.tell_parent(pid, libc::CLD_CONTINUED, libc::SIGCONT);
        }
    }

    /// Process `pid` stopped or continued (`code`, `status`): its parent is sent
    /// `SIGCHLD` unless it ignores that or set `SA_NOCLDSTOP` (nor when `SIGCHLD` has
    /// its default action and a thread takes it: Linux discards an ignored signal when
    /// it is generated).
    fn tell_parent(&mut self, pid: Vtid, code: i32, status: i32) {
        let (ppid, real) = match self.procs.get(&pid) {
            Some(p) => (p.ppid, p.real),
            None => return,
        };
        let Some(d) = self
            .procs
            .get(&ppid)
            .filter(|p| p.status.is_none())
            .map(|p| p.sig[libc::SIGCHLD as usize])
        else {
            return;
        };
        let nocldstop = d.flags & libc::SA_NOCLDSTOP as u64 != 0;
        let thread = self.wanting_thread(ppid, libc::SIGCHLD);
        if d.handler == 1 || nocldstop || (d.handler == 0 && thread.is_some()) {
            return;
        }
        let info = Siginfo::Child(ChildSiginfo {
            code,
            pid,
            uid: sys::procfs::real_uid(real).unwrap_or(0),
            status,
        });
        self.send_signal(ppid, libc::SIGCHLD, thread, Some(info));
    }

    /// Whether the process group of `pid` is orphaned (no member has a parent in
    /// another group of the same session), where `SIGTSTP`, `SIGTTIN` and `SIGTTOU`
    /// are discarded. Read from the host's view of the real processes.
    fn orphaned_group(&self, pid: Vtid) -> bool {
        let Some(group) = self.procs.get(&pid).and_then(|p| sys::getpgid(p.real)) else {
            return false;
        };
        let members = self
            .procs
            .values()
            .filter(|p| p.status.is_none() && sys::getpgid(p.real) == Some(group));
        for m in members {
            let Some(parent) = sys::procfs::real_ppid(m.real).filter(|&pp| pp > 1) else {
                continue;
            };
            if sys::getpgid(parent) != Some(group) && sys::getsid(parent) == sys::getsid(m.real) {
                return false;
            }
        }
        true
    }

    /// The stopped processes, for a deadlock report.
    pub(crate) fn describe_stops(&self) -> Vec<String> {
        self.procs
            .values()
            .filter_map(|p| {
                let sig = p.stop?;
                Some(format!(
                    "pid {} ({}) stopped by {} (job control), never continued",
                    p.vpid,
                    p.command,
                    crate::trace::signal_name(sig)
                ))
            })
            .collect()
    }
}
