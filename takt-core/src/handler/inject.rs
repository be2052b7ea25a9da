//! Fault injection at the dispatch: before a syscall's handler runs, the engine's
//! [`crate::fault::Injector`] may decide that this call fails (with an errno Linux
//! documents for it in this situation) or transfers fewer bytes.
//!
//! What the injector needs to know about the call (is the fd a regular file, a stream,
//! a datagram socket, a counter; is it non-blocking; do the process's signal handlers
//! restart calls) is read from the core's models here.

use super::{dispatch, Out, Post, Res};
use crate::errno::Errno;
use crate::fault::{self, Call, Fault, Signals, Target};
use crate::fd::Kind;
use crate::net::SockType;
use crate::syscall::flags::MsgFlags;
use crate::syscall::{Fd, Syscall};
use crate::world::{Vtid, World};

/// What an injected fault does at the call's exit.
pub(crate) enum Exit {
    /// The call ran (its effect stays: `close` releases the descriptor) but reports this
    /// error.
    Fail(Errno),
}

impl Exit {
    /// Runs the action (the kernel's return value is replaced).
    pub(crate) fn run(self, _e: &mut World, _tid: Vtid, _ret: i64) -> Option<i64> {
        match self {
            Exit::Fail(err) => Some(err.ret()),
        }
    }
}

/// The fd the call is about, for calls whose first argument is one.
fn call_fd(call: &Syscall) -> Option<Fd> {
    use Syscall as S;
    let about_fd = matches!(
        call,
        S::Read(_)
            | S::Write(_)
            | S::Readv(_)
            | S::Writev(_)
            | S::Preadv(_)
            | S::Pwritev(_)
            | S::Preadv2(_)
            | S::Pwritev2(_)
            | S::Pwrite64(_)
            | S::Fsync(_)
            | S::Fdatasync(_)
            | S::Close(_)
            | S::Recvfrom(_)
            | S::Recvmsg(_)
            | S::Recvmmsg(_)
            | S::Sendto(_)
            | S::Sendmsg(_)
            | S::Sendmmsg(_)
            | S::Accept(_)
            | S::Accept4(_)
            | S::Connect(_)
            | S::Bind(_)
            | S::Listen(_)
            | S::Getsockname(_)
            | S::Getpeername(_)
            | S::EpollCtl(_)
            | S::EpollWait(_)
            | S::EpollPwait(_)
            | S::EpollPwait2(_)
            | S::Fcntl(_)
            | S::Flock(_)
            | S::Dup(_)
            | S::Dup2(_)
            | S::Dup3(_)
    );
    call.fds()
        .find(|&(i, _)| i == 0)
        .map(|(_, fd)| fd)
        .filter(|_| about_fd)
}

/// A short-transfer fault counts when the call did come back short: not when it failed
/// (a non-blocking read with nothing to read) or moved everything it asked for anyway.
fn shortened(e: &mut World, nr: u32, asked: usize, out: Res) -> (Res, bool) {
    let short = match &out {
        Ok(Out::Return(v)) => (*v as usize) < asked,
        Err(_) => false,
        Ok(_) => true, // parked or passed on: it stays shortened when it completes
    };
    if !short {
        e.injector.retract(nr, Fault::Short);
    }
    (out, short)
}

/// How many units a vectored or message call asks to move (bytes of its iovecs;
/// messages for `sendmmsg`/`recvmmsg`), if it is one.
fn requested(e: &World, tid: Vtid, call: &Syscall) -> Option<usize> {
    use Syscall as S;
    let total = |iov: Vec<(u64, usize)>| iov.iter().map(|r| r.1).fold(0, usize::saturating_add);
    let msg = match *call {
        S::Readv(c) => return iovecs_total(e, tid, c.iov.addr(), c.iovcnt).map(total),
        S::Writev(c) => return iovecs_total(e, tid, c.iov.addr(), c.iovcnt).map(total),
        S::Sendmsg(c) => c.msg.addr(),
        S::Recvmsg(c) => c.msg.addr(),
        S::Sendmmsg(c) => return Some(c.vlen.get().min(1024) as usize),
        S::Recvmmsg(c) => return Some(c.vlen.get().min(1024) as usize),
        _ => return None,
    };
    let m: libc::msghdr = e.read_val(tid, msg).ok()?;
    super::guest::iovecs(
        e,
        tid,
        m.msg_iov as u64,
        m.msg_iovlen as u64,
        Errno::EMSGSIZE,
    )
    .ok()
    .map(total)
}

/// The `iovec`s of a vectored call.
fn iovecs_total(e: &World, tid: Vtid, iov: u64, cnt: u64) -> Option<Vec<(u64, usize)>> {
    super::guest::iovecs(e, tid, iov, cnt, Errno::EINVAL).ok()
}

/// The byte count a short transfer shrinks, for the calls whose count is a register
/// (`read`, `write`, `pwrite64`, `recvfrom`, `sendto`).
fn count_of(call: &Syscall) -> Option<u64> {
    use Syscall as S;
    match call {
        S::Read(_) | S::Write(_) | S::Pwrite64(_) | S::Recvfrom(_) | S::Sendto(_) => {
            call.transfer()?.requested()
        }
        _ => None,
    }
}

/// The registers `a` of `call` with its count lowered to `n` (the registers the call
/// does not take are left as they were).
fn with_count(call: &Syscall, a: [u64; 6], n: u64) -> [u64; 6] {
    let Some(shorter) = call.with_count(n) else {
        return a;
    };
    let (_, regs) = shorter.encode();
    let k = call.arg_count().min(6);
    let mut args = a;
    args[..k].copy_from_slice(&regs[..k]);
    args
}

fn describe(e: &World, tid: Vtid, call: &Syscall) -> Call {
    let mut target = Target::Unknown;
    let mut nonblock = false;
    if let Some(fd) = call_fd(call) {
        match super::io::lookup(e, tid, fd.raw()) {
            None => target = Target::File,
            Some(fd) => {
                let f = e.files.file(fd.file);
                nonblock = f.nonblock;
                target = match f.kind {
                    Kind::Socket(s) => match e.net.sock_type(s) {
                        SockType::Stream => Target::Stream,
                        SockType::Dgram => Target::Datagram,
                    },
                    Kind::PipeRead(_) | Kind::PipeWrite(_) => Target::Stream,
                    Kind::EventFd(_) | Kind::TimerFd(_) | Kind::SignalFd(_) => Target::Counter,
                    Kind::Output(_) | Kind::Urandom | Kind::Epoll(_) => Target::Other,
                };
            }
        }
    }
    if matches!(
        call,
        Syscall::Recvfrom(_) | Syscall::Sendto(_) | Syscall::Recvmsg(_) | Syscall::Sendmsg(_)
    ) {
        nonblock |= call
            .msg_flags()
            .is_some_and(|f| f.contains(MsgFlags::MSG_DONTWAIT));
    }
    let p = &e.procs[&e.threads[&tid].pid];
    let mut handlers = p.sig.iter().filter(|d| d.handler > 1).peekable();
    let signals = if handlers.peek().is_none() {
        Signals::NoHandler
    } else if handlers.all(|d| d.flags & libc::SA_RESTART as u64 != 0) {
        Signals::Restarting
    } else {
        Signals::Interrupting
    };
    Call {
        nr: call.nr(),
        call: *call,
        target,
        nonblock,
        signals,
    }
}

/// Dispatches a syscall, possibly injecting a fault first; tells whether it did.
///
/// The global rate covers what takt virtualizes; calls on kernel files (regular files,
/// and `open` itself, which the dynamic loader makes before `main`) are faulted only
/// when their syscall is named with its own rate.
pub fn dispatch_with_faults(e: &mut World, tid: Vtid, sc: &Syscall) -> (Res, bool) {
    let (nr, a) = sc.encode();
    let call = describe(e, tid, sc);
    let kernel_file =
        call.target == Target::File || matches!(sc, Syscall::Open(_) | Syscall::Openat(_));
    if kernel_file && !e.injector.plan().overrides().any(|(n, _)| n == nr) {
        return (dispatch(e, tid, sc), false);
    }
    match e.decide_fault(tid, &call) {
        None => (dispatch(e, tid, sc), false),
        Some(Fault::Errno(err)) if fault::error_keeps_effect(nr) => {
            // close: the descriptor is released even when close reports an error.
            let out = dispatch(e, tid, sc);
            let out = out.map(|o| match o {
                Out::Pass => Out::PassThen(Post::Inject(Exit::Fail(err))),
                other => other,
            });
            (out, true)
        }
        Some(Fault::Errno(err)) => {
            let synced = match *sc {
                Syscall::Fsync(c) => Some(c.fd),
                Syscall::Fdatasync(c) => Some(c.fd),
                _ => None,
            };
            if let Some(fd) = synced.filter(|_| err.0 == libc::EIO) {
                // Linux: the failed write-back is reported once and the dirty pages are
                // dropped; a later fsync succeeds without making them durable.
                super::file::writeback_failed(e, tid, fd.get());
            }
            (Err(err), true)
        }
        Some(Fault::Short) => short_fault(e, tid, sc, &call, a),
    }
}

/// A short-transfer fault decided for `sc` (registers `a`, described as `call`).
fn short_fault(e: &mut World, tid: Vtid, sc: &Syscall, call: &Call, a: [u64; 6]) -> (Res, bool) {
    let nr = call.nr;
    let virtual_fd = call_fd(sc).is_some_and(|fd| super::io::lookup(e, tid, fd.raw()).is_some());
    match count_of(sc) {
        Some(count) if virtual_fd && count >= 2 => {
            let args = with_count(sc, a, e.fault_keep(tid, count as usize) as u64);
            let shorter = Syscall::decode(nr, args);
            e.threads.get_mut(&tid).expect("thread").cur = shorter;
            let out = dispatch(e, tid, &shorter);
            shortened(e, nr, count as usize, out)
        }
        // Vectored and message calls: the handler moves at most `short` units.
        None if virtual_fd => match requested(e, tid, sc) {
            Some(n) if n >= 2 => {
                let keep = e.fault_keep(tid, n);
                e.threads.get_mut(&tid).expect("thread").short = Some(keep);
                let out = dispatch(e, tid, sc);
                shortened(e, nr, n, out)
            }
            _ => {
                e.injector.retract(nr, Fault::Short);
                (dispatch(e, tid, sc), false)
            }
        },
        // A write to a regular file: the kernel writes the first part only.
        Some(count) if call.target == Target::File && count >= 2 => {
            let args = with_count(sc, a, e.injector.keep(count as usize) as u64);
            let out = dispatch(e, tid, &Syscall::decode(nr, args)).map(|o| match o {
                Out::Pass => Out::Rewrite {
                    nr: nr as i64,
                    args,
                    post: None,
                },
                other => other,
            });
            (out, true)
        }
        // Any other kernel fd's transfer is the kernel's: not shortened, not counted.
        _ => {
            e.injector.retract(nr, Fault::Short);
            (dispatch(e, tid, sc), false)
        }
    }
}
