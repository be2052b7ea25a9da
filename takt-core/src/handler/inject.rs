//! Fault injection at the dispatch: before a syscall's handler runs, the engine's
//! [`crate::fault::Injector`] may decide that this call fails (with an errno Linux
//! documents for it in this situation) or transfers fewer bytes.
//!
//! What the injector needs to know about the call (is the fd a regular file, a stream,
//! a datagram socket, a counter; is it non-blocking; do the process's signal handlers
//! restart calls) is read from the core's models here.

use super::{dispatch, Out, Post, Res};
use crate::engine::{Engine, Vtid};
use crate::fault::{self, Call, Fault, Signals, Target};
use crate::fd::Kind;
use crate::net::SockType;

/// Calls whose first argument is the fd the call is about.
#[allow(non_upper_case_globals)]
fn fd_call(nr: i64) -> bool {
    use libc::*;
    matches!(
        nr,
        SYS_read
            | SYS_write
            | SYS_readv
            | SYS_writev
            | SYS_preadv
            | SYS_pwritev
            | SYS_preadv2
            | SYS_pwritev2
            | SYS_pwrite64
            | SYS_fsync
            | SYS_fdatasync
            | SYS_close
            | SYS_recvfrom
            | SYS_recvmsg
            | SYS_recvmmsg
            | SYS_sendto
            | SYS_sendmsg
            | SYS_sendmmsg
            | SYS_accept
            | SYS_accept4
            | SYS_connect
            | SYS_bind
            | SYS_listen
            | SYS_getsockname
            | SYS_getpeername
            | SYS_epoll_ctl
            | SYS_epoll_wait
            | SYS_epoll_pwait
            | SYS_epoll_pwait2
            | SYS_fcntl
            | SYS_flock
            | SYS_dup
            | SYS_dup2
            | SYS_dup3
    )
}

/// A short-transfer fault counts when the call did come back short: not when it failed
/// (a non-blocking read with nothing to read) or moved everything it asked for anyway.
fn shortened(e: &mut Engine, nr: u32, asked: usize, out: Res) -> (Res, bool) {
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
fn requested(e: &Engine, tid: Vtid, nr: u32, a: [u64; 6]) -> Option<usize> {
    let total = |iov: Vec<(u64, usize)>| iov.iter().map(|r| r.1).fold(0, usize::saturating_add);
    match nr as i64 {
        libc::SYS_readv | libc::SYS_writev => {
            super::guest::iovecs(e, tid, a[1], a[2], crate::errno::Errno::EINVAL)
                .ok()
                .map(total)
        }
        libc::SYS_sendmsg | libc::SYS_recvmsg => {
            let m: libc::msghdr = e.read_val(tid, a[1]).ok()?;
            super::guest::iovecs(
                e,
                tid,
                m.msg_iov as u64,
                m.msg_iovlen as u64,
                crate::errno::Errno::EMSGSIZE,
            )
            .ok()
            .map(total)
        }
        libc::SYS_sendmmsg | libc::SYS_recvmmsg => Some((a[2] as u32).min(1024) as usize),
        _ => None,
    }
}

/// The argument holding the byte count a short transfer shrinks.
#[allow(non_upper_case_globals)]
fn count_arg(nr: i64) -> Option<usize> {
    use libc::*;
    matches!(
        nr,
        SYS_read | SYS_write | SYS_pwrite64 | SYS_recvfrom | SYS_sendto
    )
    .then_some(2)
}

fn describe(e: &Engine, tid: Vtid, nr: u32, a: [u64; 6]) -> Call {
    let n = nr as i64;
    let mut target = Target::Unknown;
    let mut nonblock = false;
    if fd_call(n) {
        match super::io::lookup(e, tid, a[0]) {
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
        n,
        libc::SYS_recvfrom | libc::SYS_sendto | libc::SYS_recvmsg | libc::SYS_sendmsg
    ) {
        let flags = if matches!(n, libc::SYS_recvmsg | libc::SYS_sendmsg) {
            a[2]
        } else {
            a[3]
        };
        nonblock |= flags as i32 & libc::MSG_DONTWAIT != 0;
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
        nr,
        args: a,
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
pub fn dispatch_with_faults(e: &mut Engine, tid: Vtid, nr: u32, a: [u64; 6]) -> (Res, bool) {
    let call = describe(e, tid, nr, a);
    let kernel_file =
        call.target == Target::File || matches!(nr as i64, libc::SYS_open | libc::SYS_openat);
    if kernel_file && !e.injector.plan().overrides().any(|(n, _)| n == nr) {
        return (dispatch(e, tid, nr, a), false);
    }
    match e.decide_fault(tid, &call) {
        None => (dispatch(e, tid, nr, a), false),
        Some(Fault::Errno(err)) if fault::error_keeps_effect(nr) => {
            // close: the descriptor is released even when close reports an error.
            let out = dispatch(e, tid, nr, a);
            let out = out.map(|o| match o {
                Out::Pass => Out::PassThen(Post::new(move |_, _, _| Some(err.ret()))),
                other => other,
            });
            (out, true)
        }
        Some(Fault::Errno(err)) => {
            if matches!(nr as i64, libc::SYS_fsync | libc::SYS_fdatasync) && err.0 == libc::EIO {
                // Linux: the failed write-back is reported once and the dirty pages are
                // dropped; a later fsync succeeds without making them durable.
                super::file::writeback_failed(e, tid, a[0] as i32);
            }
            (Err(err), true)
        }
        Some(Fault::Short) => match count_arg(nr as i64) {
            Some(i) if super::io::lookup(e, tid, a[0]).is_some() && a[i] >= 2 => {
                let mut args = a;
                args[i] = e.fault_keep(tid, a[i] as usize) as u64;
                e.threads.get_mut(&tid).expect("thread").cur.1 = args;
                let out = dispatch(e, tid, nr, args);
                shortened(e, nr, a[i] as usize, out)
            }
            // Vectored and message calls: the handler moves at most `short` units.
            None if super::io::lookup(e, tid, a[0]).is_some() => match requested(e, tid, nr, a) {
                Some(n) if n >= 2 => {
                    let keep = e.fault_keep(tid, n);
                    e.threads.get_mut(&tid).expect("thread").short = Some(keep);
                    let out = dispatch(e, tid, nr, a);
                    shortened(e, nr, n, out)
                }
                _ => {
                    e.injector.retract(nr, Fault::Short);
                    (dispatch(e, tid, nr, a), false)
                }
            },
            // A write to a regular file: the kernel writes the first part only.
            Some(i) if call.target == Target::File && a[i] >= 2 => {
                let mut args = a;
                args[i] = e.injector.keep(a[i] as usize) as u64;
                let out = dispatch(e, tid, nr, args).map(|o| match o {
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
                (dispatch(e, tid, nr, a), false)
            }
        },
    }
}
