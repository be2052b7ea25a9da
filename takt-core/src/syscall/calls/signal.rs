//! Typed signal calls: sending, handlers, masks, waiting for a signal.

use crate::syscall::arg::*;
use crate::syscall::decl::{calls, Custom};
use crate::syscall::enums::*;
use crate::syscall::render::Render;

calls! {
    /// `kill(pid, sig)`
    Kill = kill(pid: Pid, sig: Signal);
    /// `tgkill(tgid, tid, sig)`
    Tgkill = tgkill(tgid: Pid, tid: Pid, sig: Signal);
    /// `tkill(tid, sig)`
    Tkill = tkill(tid: Pid, sig: Signal);
    /// `rt_sigaction(signum, act, oldact, sigsetsize)`
    RtSigaction = rt_sigaction(signum: Signal, act: SigactionIn, oldact: SigactionOut, sigsetsize: u64);
    /// `rt_sigprocmask(how, set, oldset, sigsetsize)`
    RtSigprocmask = rt_sigprocmask(how: SigHow, set: SigsetIn, oldset: SigsetOut, sigsetsize: u64);
    /// `rt_sigreturn()`
    RtSigreturn = rt_sigreturn();
    /// `rt_sigsuspend(mask, sigsetsize)`
    RtSigsuspend = rt_sigsuspend(mask: SigsetIn, sigsetsize: u64);
    /// `rt_sigtimedwait(set, info, timeout, sigsetsize)`
    RtSigtimedwait = rt_sigtimedwait(set: SigsetIn, info: UserPtr, timeout: TimespecIn, sigsetsize: u64) custom;
    /// `sigaltstack(ss, old_ss)`
    Sigaltstack = sigaltstack(ss: UserPtr, old_ss: UserPtr);
    /// `rt_sigpending(set, sigsetsize)`
    RtSigpending = rt_sigpending(set: SigsetOut, sigsetsize: u64);
    /// `rt_sigqueueinfo(tgid, sig, info)`
    RtSigqueueinfo = rt_sigqueueinfo(tgid: Pid, sig: Signal, info: UserPtr);
    /// `rt_tgsigqueueinfo(tgid, tid, sig, info)`
    RtTgsigqueueinfo = rt_tgsigqueueinfo(tgid: Pid, tid: Pid, sig: Signal, info: UserPtr);
    /// `signalfd(fd, mask, sizemask)`
    Signalfd = signalfd(fd: Fd, mask: SigsetIn, sizemask: u64);
    /// `signalfd4(fd, mask, sizemask, flags)`
    Signalfd4 = signalfd4(fd: Fd, mask: SigsetIn, sizemask: u64, flags: Hex32);
    /// `pause()`
    Pause = pause();
    /// `restart_syscall()`
    RestartSyscall = restart_syscall();
}

impl Custom for RtSigtimedwait {
    /// `= 10 (SIGUSR1)`: the signal taken.
    fn ret_suffix(&self, r: &mut Render<'_>) {
        if let Some(sig) = r.ok().filter(|&s| s > 0) {
            r.raw(&format!(" ({})", Signal::from_raw(sig)));
        }
    }
}
