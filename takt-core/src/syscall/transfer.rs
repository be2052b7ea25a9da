//! Whether and how a call moves bytes: one answer for short-transfer faults and for the
//! trace, so that the two always count a transfer the same way.
//!
//! A [`Transfer`] says which way the bytes go, on which descriptor, and in what shape
//! the guest gave the buffer (one buffer with a count, an `iovec` array, a `msghdr`, an
//! array of messages, or two descriptors with no guest buffer). The amount moved is the
//! call's return value, in the transfer's [`Unit`].

use super::arg::Fd;
use super::enums::{FcntlCmd, FutexOp};
use super::flags::{CloneFlags, FlockOp, MsgFlags, WaitOptions, WaitidOptions};
use super::Syscall;
use serde::{Deserialize, Serialize};

/// Which way the bytes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dir {
    /// Into guest memory (`read`, `recvfrom`, `getrandom`).
    Read,
    /// Out of guest memory (`write`, `sendto`).
    Write,
    /// From one descriptor to another, without guest memory (`sendfile`, `splice`).
    Between,
}

/// What the return value counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// Bytes.
    Bytes,
    /// Messages (`sendmmsg`, `recvmmsg`).
    Messages,
}

/// The shape of the guest's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Shape {
    /// One buffer: at most `count` bytes at `buf`.
    Buf {
        /// Guest address.
        buf: u64,
        /// Bytes asked for.
        count: u64,
    },
    /// `cnt` `iovec`s at `iov` (the byte count is in guest memory).
    Vectored {
        /// Guest address of the array.
        iov: u64,
        /// Elements.
        cnt: u64,
    },
    /// One `msghdr` at `msg`.
    Msg {
        /// Guest address.
        msg: u64,
    },
    /// `vlen` `mmsghdr`s at `vec`.
    Msgs {
        /// Guest address of the array.
        vec: u64,
        /// Messages asked for.
        vlen: u32,
    },
    /// At most `count` bytes from `from` to `to`.
    Between {
        /// Source descriptor.
        from: Fd,
        /// Destination descriptor.
        to: Fd,
        /// Bytes asked for.
        count: u64,
    },
}

/// How a call moves bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transfer {
    /// Which way.
    pub dir: Dir,
    /// The descriptor (none for `getrandom`, and for [`Shape::Between`], which names
    /// both).
    pub fd: Option<Fd>,
    /// The guest's buffer.
    pub shape: Shape,
}

impl Transfer {
    /// What the return value counts.
    pub fn unit(&self) -> Unit {
        match self.shape {
            Shape::Msgs { .. } => Unit::Messages,
            _ => Unit::Bytes,
        }
    }

    /// How much the call asks to move, in [`Transfer::unit`]s, when the registers say
    /// (not for vectored and `msghdr` transfers, whose lengths are in guest memory).
    pub fn requested(&self) -> Option<u64> {
        match self.shape {
            Shape::Buf { count, .. } | Shape::Between { count, .. } => Some(count),
            Shape::Msgs { vlen, .. } => Some(u64::from(vlen)),
            Shape::Vectored { .. } | Shape::Msg { .. } => None,
        }
    }

    /// How much the call moved, given its return value: the value itself when it is not
    /// an error (`None` for errors and an unknown return).
    pub fn moved(&self, ret: Option<i64>) -> Option<u64> {
        ret.filter(|r| *r >= 0).map(|r| r as u64)
    }
}

impl Syscall {
    /// Whether and how the call moves bytes (see [`Transfer`]).
    pub fn transfer(&self) -> Option<Transfer> {
        use Dir::{Read, Write};
        let buf = |dir, fd, buf: u64, count| Transfer {
            dir,
            fd,
            shape: Shape::Buf { buf, count },
        };
        let vec = |dir, fd, iov: u64, cnt| Transfer {
            dir,
            fd: Some(fd),
            shape: Shape::Vectored { iov, cnt },
        };
        let msg = |dir, fd, msg: u64| Transfer {
            dir,
            fd: Some(fd),
            shape: Shape::Msg { msg },
        };
        let msgs = |dir, fd, vec: u64, vlen: u32| Transfer {
            dir,
            fd: Some(fd),
            shape: Shape::Msgs { vec, vlen },
        };
        let between = |from, to, count| Transfer {
            dir: Dir::Between,
            fd: None,
            shape: Shape::Between { from, to, count },
        };
        Some(match *self {
            Syscall::Read(c) => buf(Read, Some(c.fd), c.buf.0, c.count),
            Syscall::Pread64(c) => buf(Read, Some(c.fd), c.buf.0, c.count),
            Syscall::Recvfrom(c) => buf(Read, Some(c.sockfd), c.buf.0, c.len),
            Syscall::Getrandom(c) => buf(Read, None, c.buf.0, c.buflen),
            Syscall::Write(c) => buf(Write, Some(c.fd), c.buf.0, c.count),
            Syscall::Pwrite64(c) => buf(Write, Some(c.fd), c.buf.0, c.count),
            Syscall::Sendto(c) => buf(Write, Some(c.sockfd), c.buf.0, c.len),
            Syscall::Readv(c) => vec(Read, c.fd, c.iov.0, c.iovcnt),
            Syscall::Preadv(c) => vec(Read, c.fd, c.iov.0, c.iovcnt),
            Syscall::Preadv2(c) => vec(Read, c.fd, c.iov.0, c.iovcnt),
            Syscall::Writev(c) => vec(Write, c.fd, c.iov.0, c.iovcnt),
            Syscall::Pwritev(c) => vec(Write, c.fd, c.iov.0, c.iovcnt),
            Syscall::Pwritev2(c) => vec(Write, c.fd, c.iov.0, c.iovcnt),
            Syscall::Recvmsg(c) => msg(Read, c.sockfd, c.msg.0),
            Syscall::Sendmsg(c) => msg(Write, c.sockfd, c.msg.0),
            Syscall::Recvmmsg(c) => msgs(Read, c.sockfd, c.msgvec.0, c.vlen.get()),
            Syscall::Sendmmsg(c) => msgs(Write, c.sockfd, c.msgvec.0, c.vlen.get()),
            Syscall::Sendfile(c) => between(c.in_fd, c.out_fd, c.count),
            Syscall::Splice(c) => between(c.fd_in, c.fd_out, c.len),
            Syscall::Tee(c) => between(c.fd_in, c.fd_out, c.len),
            Syscall::CopyFileRange(c) => between(c.fd_in, c.fd_out, c.len),
            _ => return None,
        })
    }

    /// The call asking for at most `n` units of its transfer (bytes, or messages for
    /// `sendmmsg`/`recvmmsg`): what a short-transfer fault runs instead. `None` when the
    /// count is not a register (vectored and `msghdr` transfers) or the call moves
    /// nothing. Never asks for more than the call did.
    pub fn with_count(&self, n: u64) -> Option<Syscall> {
        let mut c = *self;
        match &mut c {
            Syscall::Read(c) => c.count = c.count.min(n),
            Syscall::Pread64(c) => c.count = c.count.min(n),
            Syscall::Recvfrom(c) => c.len = c.len.min(n),
            Syscall::Getrandom(c) => c.buflen = c.buflen.min(n),
            Syscall::Write(c) => c.count = c.count.min(n),
            Syscall::Pwrite64(c) => c.count = c.count.min(n),
            Syscall::Sendto(c) => c.len = c.len.min(n),
            Syscall::Sendfile(c) => c.count = c.count.min(n),
            Syscall::Splice(c) => c.len = c.len.min(n),
            Syscall::Tee(c) => c.len = c.len.min(n),
            Syscall::CopyFileRange(c) => c.len = c.len.min(n),
            Syscall::Recvmmsg(c) => c.vlen = shorter(c.vlen, n),
            Syscall::Sendmmsg(c) => c.vlen = shorter(c.vlen, n),
            _ => return None,
        }
        Some(c)
    }

    /// The `MSG_*` flags of a send or receive.
    pub fn msg_flags(&self) -> Option<MsgFlags> {
        Some(match self {
            Syscall::Sendto(c) => c.flags,
            Syscall::Recvfrom(c) => c.flags,
            Syscall::Sendmsg(c) => c.flags,
            Syscall::Recvmsg(c) => c.flags,
            Syscall::Sendmmsg(c) => c.flags,
            Syscall::Recvmmsg(c) => c.flags,
            _ => return None,
        })
    }

    /// Whether the call can wait, as far as its arguments tell: reads, writes, sends and
    /// receives (unless `MSG_DONTWAIT`), `accept`, `connect`, `poll`/`select`/`epoll_wait`
    /// (unless a zero millisecond timeout), the waiting `futex` operations, sleeps,
    /// `wait4`/`waitid` without `WNOHANG`, `pause` and signal waits, blocking locks,
    /// `vfork`. Whether it does wait depends on the descriptor (non-blocking, a regular
    /// file), which only the engine knows.
    pub fn is_blocking_candidate(&self) -> bool {
        let no_dontwait = |f: MsgFlags| !f.contains(MsgFlags::MSG_DONTWAIT);
        match self {
            Syscall::Read(_)
            | Syscall::Write(_)
            | Syscall::Readv(_)
            | Syscall::Writev(_)
            | Syscall::Accept(_)
            | Syscall::Accept4(_)
            | Syscall::Connect(_)
            | Syscall::Ppoll(_)
            | Syscall::Select(_)
            | Syscall::Pselect6(_)
            | Syscall::Nanosleep(_)
            | Syscall::ClockNanosleep(_)
            | Syscall::Pause(_)
            | Syscall::RtSigsuspend(_)
            | Syscall::RtSigtimedwait(_)
            | Syscall::Sendfile(_)
            | Syscall::Splice(_)
            | Syscall::Tee(_)
            | Syscall::Vfork(_) => true,
            Syscall::Sendto(_)
            | Syscall::Recvfrom(_)
            | Syscall::Sendmsg(_)
            | Syscall::Recvmsg(_)
            | Syscall::Sendmmsg(_)
            | Syscall::Recvmmsg(_) => self.msg_flags().is_some_and(no_dontwait),
            Syscall::Poll(c) => c.timeout.get() != 0,
            Syscall::EpollWait(c) => c.timeout.get() != 0,
            Syscall::EpollPwait(c) => c.timeout.get() != 0,
            Syscall::Futex(c) => matches!(
                c.futex_op.cmd(),
                FutexOp::WAIT
                    | FutexOp::WAIT_BITSET
                    | FutexOp::LOCK_PI
                    | FutexOp::LOCK_PI2
                    | FutexOp::WAIT_REQUEUE_PI
            ),
            Syscall::Wait4(c) => !c.options.contains(WaitOptions::WNOHANG),
            Syscall::Waitid(c) => !c.options.contains(WaitidOptions::WNOHANG),
            Syscall::Flock(c) => !c.operation.contains(FlockOp::LOCK_NB),
            Syscall::Fcntl(c) => matches!(c.cmd.get(), FcntlCmd::F_SETLKW | FcntlCmd::F_OFD_SETLKW),
            Syscall::Clone(c) => c.flags.contains(CloneFlags::CLONE_VFORK),
            _ => false,
        }
    }
}

/// `vlen` lowered to at most `n`, keeping the register's upper half.
fn shorter(vlen: super::arg::UInt, n: u64) -> super::arg::UInt {
    let v = u64::from(vlen.get()).min(n);
    super::arg::UInt::from_raw((vlen.raw() & !0xffff_ffff) | v)
}
