//! Signals as the models keep them: which thread takes a signal, sending one (from a virtual
//! timer, or on behalf of the kernel), and what its arrival does to a parked thread
//! (interrupts it with `EINTR`, restarts it, or wakes it to dequeue the signal), plus
//! the expiry of the timers that send signals: `alarm`/`ITIMER_REAL` and POSIX timers.
//! Timerfd expiries wake their readers here too.
//!
//! The kernel holds every tracee's blocked and pending sets ([`sys::signal::sig_sets`]);
//! the engine never keeps a copy that could drift. Every signal is generated at a point
//! the engine orders, so what it reads there is deterministic.

use super::Notify;
use super::{Resume, State, TimerKey, Vtid, World};
use crate::fd::Obj;
use crate::sys::{self, signal::SigSets, signal::Siginfo, signal::TimerSiginfo};
use crate::syscall::Syscall;

impl World {
    /// Thread `tid`'s signal sets (all empty if it is gone).
    pub(crate) fn sig_sets(&self, tid: Vtid) -> SigSets {
        self.threads
            .get(&tid)
            .and_then(|t| sys::signal::sig_sets(t.real))
            .unwrap_or_default()
    }

    /// The thread of `pid` that takes a process-directed `sig` now: the first (leader
    /// first) that does not block it; `None` when every thread blocks it (the signal then
    /// stays pending for the process).
    pub(crate) fn wanting_thread(&self, pid: Vtid, sig: i32) -> Option<Vtid> {
        let p = self.procs.get(&pid)?;
        let mut tids = p.threads.clone();
        tids.sort_by_key(|&t| (t != pid, t));
        let bit = sys::signal::bit(sig);
        tids.into_iter().find(|t| {
            self.threads
                .get(t)
                .is_some_and(|x| !matches!(x.state, State::Zombie(_)))
                && self.sig_sets(*t).blocked & bit == 0
        })
    }

    /// The thread of `pid` a process-directed `sig` is charged to: the one that takes it,
    /// else the leader.
    pub(crate) fn signal_target(&self, pid: Vtid, sig: i32) -> Option<Vtid> {
        self.wanting_thread(pid, sig).or_else(|| {
            let p = self.procs.get(&pid)?;
            p.threads
                .iter()
                .copied()
                .find(|&t| t == pid)
                .or(p.threads.first().copied())
        })
    }

    /// Sends `sig` to process `pid` from the outside (a timer's expiry): to `thread` if
    /// given, else to the thread that takes it now, else to the process (pending until a
    /// thread unblocks it or dequeues it). `info`: the `siginfo` it carries (a POSIX
    /// timer's, a child's stop or continue).
    pub(crate) fn send_signal(
        &mut self,
        pid: Vtid,
        sig: i32,
        thread: Option<Vtid>,
        info: Option<Siginfo>,
    ) -> Option<Vtid> {
        let tgid = self.procs.get(&pid)?.real;
        let target = thread.or_else(|| self.wanting_thread(pid, sig));
        let real = target.and_then(|t| self.threads.get(&t)).map(|t| t.real);
        if target.is_some() && real.is_none() {
            return None; // the thread is gone
        }
        let sent = match (info, real) {
            (Some(i), r) => sys::signal::queue_signal(tgid, r, sig, &i),
            (None, Some(r)) => sys::tgkill(tgid, r, sig),
            (None, None) => sys::kill(tgid, sig),
        };
        if sent.is_err() {
            return None;
        }
        self.signal_arrived(pid, sig, target);
        target
    }

    /// A signal was (or is about to be) sent to process `pid` (thread `target` if
    /// thread-directed). If the signal will run a handler or kill, interrupts the thread
    /// that takes it in a parked emulated call, with `EINTR` or a restart
    /// (`SA_RESTART`); a thread that blocks the signal is left alone (the signal stays
    /// pending). Then wakes every thread waiting for signals to be generated (signalfd
    /// readers, `sigtimedwait`, `sigsuspend`). Job control first: a stop signal may
    /// stop the process, `SIGCONT` continue it (the `job` submodule).
    pub(crate) fn signal_arrived(&mut self, pid: Vtid, sig: i32, target: Option<Vtid>) {
        // A parked spinner of the process may take it: it must run again.
        self.progress = self.progress.wrapping_add(1);
        self.job_signal(pid, sig, target);
        if sig == libc::SIGKILL {
            self.killed(pid);
        } else {
            self.interrupt_for_signal(pid, sig, target);
        }
        self.notify(Obj::Signals);
    }

    /// `SIGKILL` reached process `pid`. The kernel ends a traced process at once on
    /// SIGKILL: every thread leaves the stop takt holds it in (parked in an emulated
    /// call, or waiting its turn) and runs to its exit stop, so those stops are gone.
    /// Resuming one would continue a thread's exit stop instead, and when that thread is
    /// the leader, the wait for its next stop never returns (a leader's exit is reported
    /// only after every other thread's, and they sit in their exit stops): the whole
    /// group is collected now. Not for the running thread's own process (it is in a
    /// stop of its own, and dies when resumed).
    fn killed(&mut self, pid: Vtid) {
        let running = self.last.and_then(|t| self.threads.get(&t)).map(|t| t.pid);
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        p.exiting = true;
        if running == Some(pid) || p.status.is_some() {
            return;
        }
        let Some(&first) = p.threads.iter().min_by_key(|&&t| (t != pid, t)) else {
            return;
        };
        self.effects.push(super::Effect::Collect(first));
    }

    fn interrupt_for_signal(&mut self, pid: Vtid, sig: i32, target: Option<Vtid>) {
        let Some(p) = self.procs.get(&pid) else {
            return;
        };
        if !(1..=64).contains(&sig) {
            return;
        }
        let d = p.sig[sig as usize];
        let fatal = d.handler == 0 && super::process::default_is_fatal(sig);
        if d.handler == 1 || (d.handler == 0 && !fatal) || sig == libc::SIGSTOP {
            return;
        }
        let target = target.or_else(|| self.signal_target(pid, sig));
        let Some(tid) = target else { return };
        let Some(t) = self.threads.get(&tid) else {
            return;
        };
        let parked = match &t.state {
            State::Blocked(b) => Some((b.restartable, b.remaining, b.deadline)),
            // Woken, its handler not run again yet: it decides when it does.
            State::Ready(Resume::Retry) => None,
            _ => return,
        };
        let call = t.cur;
        let (nr, args) = call.encode();
        match call {
            // These take the signal themselves when they run again.
            Syscall::RtSigsuspend(_) => return,
            Syscall::RtSigtimedwait(c)
                if self
                    .read_val::<u64>(tid, c.set.addr())
                    .is_ok_and(|set| set & sys::signal::bit(sig) != 0) =>
            {
                return
            }
            _ => {}
        }
        if let Some((_, mask)) = call_sigmask(self, tid, nr, args) {
            // A wait with a mask of its own: if the mask lets the signal through, the
            // call takes it in the kernel when it runs again.
            if mask & sys::signal::bit(sig) == 0 {
                if let Some(t) = self.threads.get_mut(&tid) {
                    if matches!(t.state, State::Blocked(_)) {
                        t.state = State::Ready(Resume::Retry);
                    }
                }
            }
            return;
        }
        if sig != libc::SIGKILL && self.sig_sets(tid).blocked & sys::signal::bit(sig) != 0 {
            return;
        }
        if fatal {
            self.procs.get_mut(&pid).expect("process").exiting = true;
        }
        let sa_restart = !fatal && d.flags & libc::SA_RESTART as u64 != 0;
        match parked {
            Some((restartable, remaining, deadline)) => {
                self.interrupt(tid, sa_restart && restartable, remaining, deadline)
            }
            None => {
                if let Some(t) = self.threads.get_mut(&tid) {
                    t.sig_wake = Some(sa_restart);
                }
            }
        }
    }

    /// Ends the parked call of `tid` for a signal: restarted, or `EINTR` with the time
    /// that was left written to `remaining`.
    pub(crate) fn interrupt(
        &mut self,
        tid: Vtid,
        restart: bool,
        remaining: Option<super::Remaining>,
        deadline: Option<crate::time::VTime>,
    ) {
        let now = self.now;
        if !restart {
            self.cpu_sleep_interrupted(tid);
        }
        let Some(t) = self.threads.get_mut(&tid) else {
            return;
        };
        if let Some(id) = t.timer.take() {
            self.timers.cancel(id);
        }
        let mut regs = t.regs.expect("parked at a seccomp stop");
        if restart {
            regs.restart_syscall();
        } else {
            regs.emulate(crate::errno::Errno::EINTR.ret());
            t.ended = true;
            if let (Some(r), Some(d)) = (remaining, deadline) {
                let (addr, bytes) = r.bytes(d.as_nanos().saturating_sub(now.as_nanos()));
                let _ = self.mem.write(t.real, addr, &bytes);
            }
        }
        t.state = State::Ready(Resume::Regs(regs));
    }

    /// `alarm`/`ITIMER_REAL` expired: `SIGALRM` to the process, and the next expiry if the
    /// timer has an interval (expiries missed meanwhile fold into one signal, as the
    /// kernel's do).
    pub(crate) fn alarm_fired(&mut self, pid: Vtid) {
        let now = self.now;
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        let Some((_, at)) = p.alarm.take() else {
            return;
        };
        let mut schedule = crate::time::Periodic::armed(at, p.alarm_interval);
        schedule.advance(now);
        if let Some(next) = schedule.next {
            let next = next.max(now.plus_nanos(min_gap(schedule.interval)));
            let id = self.timers.insert(next, TimerKey::Alarm(pid));
            self.procs.get_mut(&pid).expect("process").alarm = Some((id, next));
        }
        self.send_signal(pid, libc::SIGALRM, None, None);
    }

    /// POSIX timer `id` of process `pid` expired (a timer on the virtual clock): its
    /// signal, and its next expiry.
    pub(crate) fn posix_timer_fired(&mut self, pid: Vtid, id: i32) {
        let now = self.now;
        let Some(t) = self.procs.get_mut(&pid).and_then(|p| p.timers.get_mut(&id)) else {
            return;
        };
        t.timer = None;
        let n = t.schedule.advance(now);
        let next = t.schedule.next;
        if !matches!(t.notify, Notify::Signal { .. }) {
            return;
        }
        if let Some(at) = next {
            let interval = t.schedule.interval;
            let at = at.max(now.plus_nanos(min_gap(interval)));
            let timer = self.timers.insert(at, TimerKey::Posix(pid, id));
            if let Some(t) = self.procs.get_mut(&pid).and_then(|p| p.timers.get_mut(&id)) {
                t.timer = Some(timer);
            }
        }
        self.posix_timer_signal(pid, id, n, None);
    }

    /// POSIX timer `id` of process `pid` expired `n` times: its signal (to its thread,
    /// else to `running` if given, else to the process), unless the previous one is
    /// still pending (then the expiries count as overruns of it).
    pub(crate) fn posix_timer_signal(&mut self, pid: Vtid, id: i32, n: u64, running: Option<Vtid>) {
        let Some(t) = self.procs.get(&pid).and_then(|p| p.timers.get(&id)) else {
            return;
        };
        let Notify::Signal { sig, value, thread } = t.notify else {
            return;
        };
        if n == 0 {
            return;
        }
        if self.settle_timer(pid, id) {
            // Its last signal is still pending: these expiries are overruns of it.
            if let Some(t) = self.procs.get_mut(&pid).and_then(|p| p.timers.get_mut(&id)) {
                t.overrun_acc = add_overrun(t.overrun_acc, n);
            }
            return;
        }
        let overrun = add_overrun(0, n.saturating_sub(1));
        let info = TimerSiginfo {
            timer_id: id,
            overrun,
            value,
        };
        let sent_to = self.send_signal(pid, sig, thread.or(running), Some(Siginfo::Timer(info)));
        if let Some(t) = self.procs.get_mut(&pid).and_then(|p| p.timers.get_mut(&id)) {
            t.overrun_acc = overrun;
            t.queued = Some(sent_to);
        }
    }

    /// Brings timer `id`'s overrun count up to date: if the signal it queued is no longer
    /// pending (delivered, or dequeued), the overruns it collected become the timer's
    /// `timer_getoverrun`. Returns whether that signal is still pending.
    pub(crate) fn settle_timer(&mut self, pid: Vtid, id: i32) -> bool {
        let Some(t) = self.procs.get(&pid).and_then(|p| p.timers.get(&id)) else {
            return false;
        };
        let (Some(to), Notify::Signal { sig, .. }) = (t.queued, t.notify) else {
            return false;
        };
        let bit = sys::signal::bit(sig);
        let pending = match to {
            Some(tid) => self.sig_sets(tid).pending & bit != 0,
            None => self.sig_sets(pid).shared & bit != 0,
        };
        if pending {
            return true;
        }
        if let Some(t) = self.procs.get_mut(&pid).and_then(|p| p.timers.get_mut(&id)) {
            t.overrun = t.overrun_acc;
            t.overrun_acc = 0;
            t.queued = None;
        }
        false
    }

    /// Timerfd `id`'s next expiry came: wake its readers and pollers.
    pub(crate) fn timerfd_fired(&mut self, id: usize) {
        if let Some(t) = self.files.timerfds.get_mut(id) {
            t.timer = None;
        }
        self.notify(Obj::TimerFd(id));
    }

    /// Arms the engine timer that wakes timerfd `id`'s waiters at its next expiry (none
    /// while expirations wait to be read: it is readable already).
    pub(crate) fn arm_timerfd(&mut self, id: usize) {
        let t = &mut self.files.timerfds[id];
        if let Some(old) = t.timer.take() {
            self.timers.cancel(old);
        }
        if t.ticks > 0 {
            return;
        }
        if let Some(at) = t.schedule.next {
            let timer = self.timers.insert(at, TimerKey::TimerFd(id));
            self.files.timerfds[id].timer = Some(timer);
        }
    }
}

/// How long after an expiry a repeating timer with an interval under 1 ms signals next
/// (at least): a timer repeating every nanosecond would otherwise make the engine step
/// the clock a nanosecond at a time while its process waits. The expiries in between
/// still count (as overruns of a POSIX timer). Longer intervals keep their grid.
fn min_gap(interval: u64) -> u64 {
    if interval == 0 || interval >= 1_000_000 {
        0
    } else {
        1_000_000
    }
}

/// Linux caps a timer's overrun count at `DELAYTIMER_MAX` (`INT_MAX`).
fn add_overrun(acc: i32, n: u64) -> i32 {
    (acc as u64).saturating_add(n).min(i32::MAX as u64) as i32
}

/// The signal mask call `nr` installs while it waits (`ppoll`, `pselect6`,
/// `epoll_pwait`, `epoll_pwait2`): (its address, the mask), if it has one.
pub(crate) fn call_sigmask(e: &World, tid: Vtid, nr: u32, a: [u64; 6]) -> Option<(u64, u64)> {
    let (ptr, size) = match Syscall::decode(nr, a) {
        Syscall::Ppoll(c) => (c.sigmask.addr(), c.sigsetsize),
        Syscall::EpollPwait(c) => (c.sigmask.addr(), c.sigsetsize),
        Syscall::EpollPwait2(c) => (c.sigmask.addr(), c.sigsetsize),
        Syscall::Pselect6(c) if !c.sigmask.is_null() => {
            // struct { const sigset_t *ss; size_t ss_len; }
            let d: [u64; 2] = e.read_val(tid, c.sigmask.addr()).ok()?;
            (d[0], d[1])
        }
        _ => return None,
    };
    if ptr == 0 || size != 8 {
        return None;
    }
    Some((ptr, e.read_val::<u64>(tid, ptr).ok()?))
}
