//! Typed readiness calls: `poll`, `select` and `epoll`.

use crate::syscall::arg::*;
use crate::syscall::capture::Slot;
use crate::syscall::decl::{calls, Custom};
use crate::syscall::enums::*;
use crate::syscall::flags::*;
use crate::syscall::render::{structs, Render};

calls! {
    /// `poll(fds, nfds, timeout)` (milliseconds; negative waits forever)
    Poll = poll(fds: PollFds, nfds: UInt, timeout: Int) custom;
    /// `ppoll(fds, nfds, tmo_p, sigmask, sigsetsize)`
    Ppoll = ppoll(fds: PollFds, nfds: UInt, tmo_p: TimespecIn, sigmask: SigsetIn, sigsetsize: u64) custom;
    /// `select(nfds, readfds, writefds, exceptfds, timeout)`
    Select = select(nfds: Int, readfds: FdSetPtr, writefds: FdSetPtr, exceptfds: FdSetPtr, timeout: TimevalIn) custom;
    /// `pselect6(nfds, readfds, writefds, exceptfds, timeout, sigmask)` (the last points to
    /// a `{sigset, size}` pair)
    Pselect6 = pselect6(nfds: Int, readfds: FdSetPtr, writefds: FdSetPtr, exceptfds: FdSetPtr, timeout: TimespecIn, sigmask: UserPtr) custom;
    /// `epoll_create(size)`
    EpollCreate = epoll_create(size: Int);
    /// `epoll_create1(flags)`
    EpollCreate1 = epoll_create1(flags: EpollCreateFlags);
    /// `epoll_ctl(epfd, op, fd, event)`
    EpollCtl = epoll_ctl(epfd: Fd, op: EpollOp, fd: Fd, event: EpollEventIn);
    /// `epoll_wait(epfd, events, maxevents, timeout)`
    EpollWait = epoll_wait(epfd: Fd, events: EpollEventsOut, maxevents: Int, timeout: Int);
    /// `epoll_pwait(epfd, events, maxevents, timeout, sigmask, sigsetsize)`
    EpollPwait = epoll_pwait(epfd: Fd, events: EpollEventsOut, maxevents: Int, timeout: Int, sigmask: SigsetIn, sigsetsize: u64);
    /// `epoll_pwait2(epfd, events, maxevents, timeout, sigmask, sigsetsize)`
    EpollPwait2 = epoll_pwait2(epfd: Fd, events: EpollEventsOut, maxevents: Int, timeout: TimespecIn, sigmask: SigsetIn, sigsetsize: u64);
}

/// ` (Timeout)` when nothing was ready, or the ready descriptors.
fn poll_suffix(r: &mut Render<'_>) {
    match r.ok() {
        Some(0) => r.raw(" (Timeout)"),
        Some(_) => {
            if let Some(p) = r.piece(Slot::after(0)) {
                let mut s = String::new();
                structs::write_revents(&mut s, p.bytes, p.truncated);
                r.raw(&format!(" ({s})"));
            }
        }
        None => {}
    }
}

impl Custom for Poll {
    fn ret_suffix(&self, r: &mut Render<'_>) {
        poll_suffix(r);
    }
}

impl Custom for Ppoll {
    fn ret_suffix(&self, r: &mut Render<'_>) {
        poll_suffix(r);
    }
}

/// ` (in [3], out [4])`, or ` (Timeout)`.
fn select_suffix(r: &mut Render<'_>) {
    match r.ok() {
        Some(0) => r.raw(" (Timeout)"),
        Some(_) => {
            let mut parts = Vec::new();
            for (i, what) in [(1, "in"), (2, "out"), (3, "except")] {
                if let Some(p) = r.piece(Slot::after(i)) {
                    let mut s = String::new();
                    if structs::write_fd_set(&mut s, p.bytes, true) {
                        parts.push(format!("{what} {s}"));
                    }
                }
            }
            if !parts.is_empty() {
                r.raw(&format!(" ({})", parts.join(", ")));
            }
        }
        None => {}
    }
}

impl Custom for Select {
    fn ret_suffix(&self, r: &mut Render<'_>) {
        select_suffix(r);
    }
}

impl Custom for Pselect6 {
    fn ret_suffix(&self, r: &mut Render<'_>) {
        select_suffix(r);
    }
}
