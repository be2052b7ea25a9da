//! The engine's side of notified stops ([`sys::notif`]): a thread held at a seccomp user
//! notification rather than a ptrace stop.
//!
//! Handlers do not see the difference: a notification gives the number, the arguments
//! and the instruction pointer, the handler runs, and the engine's resume is answered
//! on the listener when it is a return value or "let the kernel run it". Anything else
//! (registers beyond the return value, the call's exit, a rewrite) needs a ptrace stop:
//! [`Engine::convert`] ends the notified wait with a `SIGSTOP` and, when the call must
//! be executed, lets the kernel restart it with the x32 bit set, which the filter traces;
//! at that seccomp stop the thread goes on as the handler said ([`Engine::unmark`]).
//!
//! Once a notification is read, only a fatal signal ends the thread's wait
//! ([`sys::notif::FILTER_FLAGS`]): a guest's signal stays pending until the reply, as
//! at a ptrace stop. Before it is read, a signal can end it (a watchdog's `SIGSTOP`): the
//! reply then finds the notification gone, and [`Engine::at_signal`] puts the handler's
//! answer at the thread's stop for that signal.

use super::{Engine, Resume, Vtid};
use crate::sys::{self, notif, Regs, Running, Stop, StopReason, Stopped};
use crate::syscall::NOTIFIED;
use crate::Error;
use std::rc::Rc;

/// What a ready thread is held at.
pub(crate) enum Held {
    /// A ptrace stop.
    Ptrace(Stopped),
    /// A seccomp user notification (its id).
    Notif(u64),
}

/// What resuming a notified thread gave.
pub(crate) enum Resumed {
    /// It runs.
    Running(Running),
    /// It stopped already (a signal ended its wait): handle this stop.
    Stop(Stop),
}

/// What a stop of the running thread, in the middle of its step, comes to.
pub(crate) enum InStep {
    /// The thread runs on (the filter's second look at a call was answered, or a
    /// restarted call went on as its handler said).
    Runs(Running),
    /// A notified call was handled: the step is over.
    Handled,
    /// Any other stop: the step handles it as before.
    Stop(Stop),
}

fn protocol(op: &'static str) -> Error {
    Error::Sys {
        op,
        errno: libc::EPROTO,
    }
}

/// Whether `nr` stops through the listener.
fn notified(nr: i64) -> bool {
    u32::try_from(nr).is_ok_and(|n| NOTIFIED.contains(&n))
}

/// The call's own number, if `nr` is a notified call marked with the x32 bit.
fn marked(nr: i64) -> Option<i64> {
    let plain = nr & !sys::X32_SYSCALL_BIT;
    (nr & sys::X32_SYSCALL_BIT != 0 && notified(plain)).then_some(plain)
}

impl Engine {
    /// The next event of `tid`, resumed as `running`: a ptrace stop, or a notification
    /// when its process has a listener.
    pub(crate) fn next_event(&mut self, tid: Vtid, running: Running) -> Result<Stop, Error> {
        let pid = self.w.threads[&tid].pid;
        match (&mut self.notify, self.listeners.get(&pid)) {
            (Some((_, waiter)), Some(l)) => waiter.next(running, l),
            _ => sys::wait(running),
        }
    }

    /// At the seccomp stop of a spawned process's first `execve`: the tracer's copy of
    /// its listener (none if the child fell back to the filter without notified calls).
    pub(crate) fn take_listener(&mut self, tid: Vtid) -> Result<(), Error> {
        let pid = self.w.threads[&tid].pid;
        let Some(i) = self.listener_wanted.remove(&pid) else {
            return Ok(());
        };
        let Some(fd) = self.plans.get(i).and_then(|p| p.listener_fd()) else {
            return Ok(());
        };
        let l = notif::Listener::take_from(self.w.threads[&tid].real, fd)?;
        self.listeners.insert(pid, Rc::new(l));
        Ok(())
    }

    fn listener(&self, tid: Vtid) -> Result<&notif::Listener, Error> {
        self.listeners
            .get(&self.w.threads[&tid].pid)
            .map(|l| &**l)
            .ok_or_else(|| protocol("a notification for a process without a listener"))
    }

    /// A notification of `tid`: the filter's second look at a call the thread was
    /// resumed into from a ptrace stop (answered "run it"; the thread runs on), or a new
    /// syscall stop (handled; `None`).
    pub(crate) fn on_notified(
        &mut self,
        tid: Vtid,
        n: notif::Notification,
    ) -> Result<Option<Running>, Error> {
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        if n.tid != t.real {
            return Err(protocol("a notification from a thread that is not running"));
        }
        if std::mem::take(&mut t.recheck) {
            // Gone: a signal ended the wait; the thread's stop for it follows.
            self.listener(tid)?.reply(n.id, notif::Reply::Continue)?;
            return Ok(Some(Running::assume(n.tid)));
        }
        t.notif = Some(n.id);
        t.stopped = None;
        self.notified += 1;
        self.settle_clock();
        self.syscall_stop(tid, Regs::from_notification(&n))?;
        Ok(None)
    }

    /// Resumes `tid`, held as `held`, as `resume` says.
    pub(crate) fn resume_held(
        &mut self,
        tid: Vtid,
        held: Held,
        resume: Resume,
    ) -> Result<Resumed, Error> {
        match held {
            Held::Ptrace(stopped) => {
                let real = self.w.threads[&tid].real;
                let resume = self.ptrace_resume(tid, resume);
                super::resume_thread(stopped, resume, real).map(Resumed::Running)
            }
            Held::Notif(id) => self.resume_notified(tid, id, resume),
        }
    }

    /// A stop of `tid` in its step: a notification, or the seccomp stop of a call
    /// restarted under ptrace, is dealt with here.
    pub(crate) fn in_step(&mut self, tid: Vtid, stop: Stop) -> Result<InStep, Error> {
        Ok(match stop {
            Stop::Notified(n) => match self.on_notified(tid, n)? {
                Some(r) => InStep::Runs(r),
                None => InStep::Handled,
            },
            Stop::Stopped(s, StopReason::Seccomp) => match self.reexec_in_step(tid, s)? {
                Ok(r) => InStep::Runs(r),
                Err(s) => InStep::Stop(Stop::Stopped(s, StopReason::Seccomp)),
            },
            other => InStep::Stop(other),
        })
    }

    /// Resumes `tid`, held at notification `id`, as `resume` says.
    fn resume_notified(&mut self, tid: Vtid, id: u64, resume: Resume) -> Result<Resumed, Error> {
        let real = self.w.threads[&tid].real;
        let reply = match &resume {
            Resume::Regs(r) => r.notified_value().map(notif::Reply::Value),
            Resume::Cont(0) => Some(notif::Reply::Continue),
            _ => None,
        };
        let Some(reply) = reply else {
            return self.convert(tid, id, resume);
        };
        match self.listener(tid)?.reply(id, reply)? {
            notif::Replied::Done => Ok(Resumed::Running(Running::assume(real))),
            notif::Replied::Gone => {
                let stop = sys::wait(Running::assume(real))?;
                self.at_signal(tid, stop, resume)
            }
        }
    }

    /// Turns `tid`'s notified stop (notification `id`) into a ptrace stop at a
    /// `SIGSTOP`'s delivery, and resumes it from there as `resume` says.
    fn convert(&mut self, tid: Vtid, id: u64, resume: Resume) -> Result<Resumed, Error> {
        let t = &self.w.threads[&tid];
        let (real, tgid) = (t.real, self.w.procs[&t.pid].real);
        match sys::notif::interrupt(tgid, real) {
            Ok(()) => {}
            Err(Error::TraceeGone { .. }) => return Ok(Resumed::Running(Running::assume(real))),
            Err(e) => return Err(e),
        }
        let restart = notif::Reply::Value(-notif::ERESTARTNOINTR);
        self.listener(tid)?.reply(id, restart)?;
        match sys::wait(Running::assume(real))? {
            Stop::Stopped(s, StopReason::Signal(libc::SIGSTOP))
                if s.siginfo()
                    .is_ok_and(|i| crate::world::job::from_watchdog(&i)) =>
            {
                if let Err(e) = self.answer_at_signal_stop(tid, &s, resume) {
                    return gone_or(e, real);
                }
                match s.cont(0) {
                    Ok(r) => Ok(Resumed::Running(r)),
                    Err(e) => gone_or(e, real),
                }
            }
            // A pending signal of the guest's comes first (ours stays pending: a stale
            // SIGSTOP, invisible), or the thread died.
            stop => self.at_signal(tid, stop, resume),
        }
    }

    /// `tid`'s notified call ended without its answer: `stop` is at a signal's delivery
    /// (a guest's signal that was pending, or one that came before the notification was
    /// read), where the call gets the answer, and is handled as any other stop.
    fn at_signal(&mut self, tid: Vtid, stop: Stop, resume: Resume) -> Result<Resumed, Error> {
        let Stop::Stopped(s, StopReason::Signal(sig)) = stop else {
            return Ok(Resumed::Stop(stop));
        };
        if let Err(e) = self.answer_at_signal_stop(tid, &s, resume) {
            return gone_or(e, s.tid());
        }
        Ok(Resumed::Stop(Stop::Stopped(s, StopReason::Signal(sig))))
    }

    /// At a signal-delivery stop after a notified call that was not answered
    /// (`-ERESTARTSYS` or `-ERESTARTNOINTR` in `rax`):
    /// a skipped call gets its registers (the value, and no restart); a call the
    /// kernel must run is restarted with the x32 bit (a ptrace stop, where
    /// [`Engine::unmark`] goes on with `resume`); "let the kernel run it" is left to
    /// the kernel's restart.
    fn answer_at_signal_stop(
        &mut self,
        tid: Vtid,
        s: &Stopped,
        resume: Resume,
    ) -> Result<(), Error> {
        match resume {
            Resume::Regs(r) if r.emulated().is_some() => s.set_regs(&r),
            Resume::Cont(0) => Ok(()),
            other => {
                let t = self.w.threads.get_mut(&tid).expect("thread exists");
                let nr = i64::from(t.cur.nr());
                t.reexec = Some((nr, other));
                let mut g = s.regs()?;
                g.set_syscall_nr(nr | sys::X32_SYSCALL_BIT);
                s.set_regs(&g)
            }
        }
    }

    /// At a seccomp stop: a notified call with the x32 bit is one the engine restarted
    /// ([`Engine::convert`]) or marked while stepping (see `spin`). The first goes on as
    /// its handler said (`None`: nothing more to do); the second is the plain call
    /// (returned, its number put back at the resume).
    pub(crate) fn unmark(&mut self, tid: Vtid, mut regs: Regs) -> Option<Regs> {
        // Another call (a signal handler's, run before the restart) leaves a pending
        // restart alone.
        let Some(plain) = marked(regs.syscall_nr()) else {
            return Some(regs);
        };
        if let Some(resume) = self.take_reexec(tid, regs, plain) {
            self.w.set_ready(tid, resume);
            return None;
        }
        regs.set_syscall_nr(plain);
        Some(regs)
    }

    /// At the seccomp stop (`regs`) of a marked call (own number `plain`): notes the
    /// mark, and returns how the thread goes on if it is the call the engine restarted
    /// (its registers are then these). A pending restart of another call did not
    /// happen (the call failed with `EINTR` in a signal's handler): it goes, with its
    /// exit action.
    fn take_reexec(&mut self, tid: Vtid, regs: Regs, plain: i64) -> Option<Resume> {
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        t.marked = Some(plain);
        t.at_seccomp = true;
        match t.reexec.take()? {
            (nr, resume) if nr == plain => {
                t.regs = Some(regs);
                Some(resume)
            }
            _ => {
                self.posts.remove(&tid);
                None
            }
        }
    }

    /// In the step of `tid`: its seccomp stop `s` is that of a call [`Engine::convert`]
    /// restarted under ptrace: it goes on as its handler said, in the same step (as it
    /// would have from the notification). `Err(s)`: another stop, handled as usual.
    fn reexec_in_step(&mut self, tid: Vtid, s: Stopped) -> Result<Result<Running, Stopped>, Error> {
        if self.w.threads[&tid].reexec.is_none() {
            return Ok(Err(s));
        }
        let regs = match s.syscall_regs() {
            Ok(r) => r,
            Err(Error::TraceeGone { .. }) => return Ok(Ok(Running::assume(s.tid()))),
            Err(e) => return Err(e),
        };
        let Some(plain) = marked(regs.syscall_nr()) else {
            return Ok(Err(s));
        };
        let Some(resume) = self.take_reexec(tid, regs, plain) else {
            return Ok(Err(s));
        };
        let resume = self.ptrace_resume(tid, resume);
        super::resume_thread(s, resume, self.w.threads[&tid].real).map(Ok)
    }

    /// How a thread held at a ptrace stop is resumed: a call marked with the x32 bit
    /// gets its own number back, and a notified call the kernel is to run is expected
    /// to be notified once more (the filter's second look, see `on_notified`).
    pub(crate) fn ptrace_resume(&mut self, tid: Vtid, resume: Resume) -> Resume {
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        let resume = match t.marked.take() {
            None => resume,
            Some(plain) => {
                let base = t.regs.map(|mut r| {
                    r.force_syscall_nr(plain);
                    r
                });
                match (resume, base) {
                    (Resume::Cont(0), Some(b)) => Resume::Regs(b),
                    (Resume::ToExit, Some(b)) => Resume::RegsToExit(b),
                    (Resume::Regs(mut r), _) if !r.nr_changed() => {
                        r.force_syscall_nr(plain);
                        Resume::Regs(r)
                    }
                    (Resume::RegsToExit(mut r), _) if !r.nr_changed() => {
                        r.force_syscall_nr(plain);
                        Resume::RegsToExit(r)
                    }
                    (r, _) => r,
                }
            }
        };
        let at_seccomp = std::mem::take(&mut t.at_seccomp);
        let nr = match &resume {
            Resume::Regs(r) | Resume::RegsToExit(r) if r.nr_changed() => r.syscall_nr(),
            _ => i64::from(t.cur.nr()),
        };
        let pid = t.pid;
        let recheck = at_seccomp && notified(nr) && self.listeners.contains_key(&pid);
        self.w.threads.get_mut(&tid).expect("thread exists").recheck = recheck;
        resume
    }
}

impl Engine {
    /// Whether the threads of real process `tgid` have notified calls, whose `syscall`
    /// instructions are marked before a single step ([`mark_before_step`]).
    pub(crate) fn steps_are_marked(&self, tgid: sys::RealTid) -> bool {
        self.notify.is_some()
            && self
                .w
                .procs
                .iter()
                .any(|(pid, p)| p.real == tgid && self.listeners.contains_key(pid))
    }
}

/// Before a single step of a thread stopped at `s`, whose process has notified calls: if
/// its next instruction is the `syscall` of a notified call, marks the number with the
/// x32 bit so the call stops under ptrace (a notified stop would hold the thread without
/// the step's trap, and the step would go on after the call).
pub(crate) fn mark_before_step(s: &Stopped) -> Result<(), Error> {
    let mut regs = s.regs()?;
    let is_syscall = |at: u64| {
        let mut insn = [0u8; 2];
        sys::read_mem(s.tid(), at, &mut insn).is_ok() && insn == [0x0f, 0x05]
    };
    // Stopped at a signal's delivery with a call to restart (`-ERESTARTSYS`,
    // `-ERESTARTNOINTR`, `-ERESTARTNOHAND`): the kernel executes `orig_rax` again.
    if (-514..=-512).contains(&regs.ret()) {
        let nr = regs.syscall_nr();
        if notified(nr) && is_syscall(regs.ip().wrapping_sub(2)) {
            regs.set_syscall_nr(nr | sys::X32_SYSCALL_BIT);
            s.set_regs(&regs)?;
        }
        return Ok(());
    }
    let nr = regs.ret();
    if notified(nr) && is_syscall(regs.ip()) {
        regs.set_ret(nr | sys::X32_SYSCALL_BIT);
        s.set_regs(&regs)?;
    }
    Ok(())
}

/// A tracee that vanished while the engine held it is taken as running (its end is
/// collected); any other error stands.
fn gone_or(e: Error, real: sys::RealTid) -> Result<Resumed, Error> {
    match e {
        Error::TraceeGone { .. } => Ok(Resumed::Running(Running::assume(real))),
        e => Err(e),
    }
}
