//! Seccomp user notifications: the cheaper of takt's two kinds of syscall stop.
//!
//! A call in the filter's notified list ([`super::seccomp::Traced::notified`]) does not
//! stop the thread under ptrace: the kernel parks it and queues a notification (number,
//! arguments, instruction pointer) on the listener the filter was installed with. The
//! tracer reads it ([`Listener::recv`]) and answers with a return value or "let the
//! kernel run it" ([`Listener::reply`]). Measured on this machine, pinned, rdtsc trapped
//! on both sides: about 6 µs a round trip against 11 µs for a ptrace stop, and the
//! tracer makes two calls (`RECV`, `SEND`) instead of four (`GET_SYSCALL_INFO`, two
//! `POKEUSER`, `CONT`).
//!
//! A thread that was resumed may next stop either way, so the tracer waits for both at
//! once ([`Waiter`], an io_uring): a poll of the listener, and a `waitid` of the thread
//! with `WNOWAIT`, which only says that a ptrace stop is there; the stop itself is then
//! taken without blocking (`waitpid` with `WNOHANG`). Nothing is consumed by a wait that
//! is no longer wanted, so a stale completion is found to be one and dropped.
//!
//! What a notification cannot do (the registers beyond the return value, the call's
//! exit) the engine gets by turning the notified stop into a ptrace stop: [`interrupt`]
//! queues a `SIGSTOP` for the thread and the call is answered with `-ERESTARTNOINTR`, so
//! the thread stops at the signal's delivery with its call to be restarted; with the
//! number's x32 bit set there, the restarted call is traced.

use super::{try_wait, Polled, RealTid, Running, Stop};
use crate::Error;
use nix::errno::Errno as NixErrno;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `SECCOMP_IOCTL_NOTIF_RECV`: `_IOWR('!', 0, struct seccomp_notif)`.
const NOTIF_RECV: libc::c_ulong = 0xc050_2100;
/// `SECCOMP_IOCTL_NOTIF_SEND`: `_IOWR('!', 1, struct seccomp_notif_resp)`.
const NOTIF_SEND: libc::c_ulong = 0xc018_2101;
/// `SECCOMP_USER_NOTIF_FLAG_CONTINUE`: the kernel runs the call.
const FLAG_CONTINUE: u32 = 1;
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` (Linux
/// 5.19): a listener, and once a notification is read only a fatal signal ends the
/// thread's wait. Other signals stay pending until the reply, as they do for a thread
/// held at a ptrace stop, so the two kinds of stop see the same signals.
pub const FILTER_FLAGS: libc::c_ulong = 8 | 32;
/// `ERESTARTNOINTR`: a call answered with it is executed again when the thread handles
/// a pending signal (see [`interrupt`]).
pub const ERESTARTNOINTR: i64 = 513;

#[repr(C)]
#[derive(Default)]
struct SeccompData {
    nr: i32,
    arch: u32,
    ip: u64,
    args: [u64; 6],
}

#[repr(C)]
#[derive(Default)]
struct RawNotif {
    id: u64,
    pid: u32,
    flags: u32,
    data: SeccompData,
}

#[repr(C)]
struct RawResp {
    id: u64,
    val: i64,
    error: i32,
    flags: u32,
}

/// One notified call, as the listener reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notification {
    /// The kernel's id of this notification (for the reply).
    pub id: u64,
    /// The real tid of the calling thread.
    pub tid: RealTid,
    /// The syscall number.
    pub nr: u32,
    /// Its arguments.
    pub args: [u64; 6],
    /// The instruction pointer after the `syscall` instruction.
    pub ip: u64,
}

/// How a notified call ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// It returns this (a negative errno is an error).
    Value(i64),
    /// The kernel runs it.
    Continue,
}

/// What a reply found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replied {
    /// The thread got it.
    Done,
    /// The notification was gone: a signal ended the wait (the thread is stopping at
    /// the signal's delivery, its call returning `-ERESTARTSYS`) or the thread died.
    Gone,
}

/// The listener of one seccomp filter (the tracer's copy of the fd).
#[derive(Debug)]
pub struct Listener {
    fd: OwnedFd,
    /// Tells this listener's completions apart in the [`Waiter`].
    key: u64,
}

fn sys_err(op: &'static str, e: NixErrno) -> Error {
    Error::Sys {
        op,
        errno: e as i32,
    }
}

impl Listener {
    /// Copies listener fd `fd` of the stopped child `child` into the tracer
    /// (`pidfd_getfd`).
    pub fn take_from(child: RealTid, fd: RawFd) -> Result<Listener, Error> {
        static KEYS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        // SAFETY: pidfd_open takes a pid and flags; it returns a new fd or -1.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, child, 0) };
        let pidfd = NixErrno::result(pidfd).map_err(|e| sys_err("pidfd_open", e))? as RawFd;
        // SAFETY: the fd was just returned to us and is owned by nobody else.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
        // SAFETY: pidfd_getfd takes a pidfd, a target fd number and flags; it returns a
        // new fd (close-on-exec) or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0) };
        let fd = NixErrno::result(fd).map_err(|e| sys_err("pidfd_getfd", e))? as RawFd;
        Ok(Listener {
            // SAFETY: as above, a fresh fd of ours.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            key: KEYS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// The next notification (`None`: it vanished before it was read, its thread was
    /// signalled or killed). Blocks if there is none: call it when the [`Waiter`] said
    /// there is one.
    pub fn recv(&self) -> Result<Option<Notification>, Error> {
        loop {
            let mut n = RawNotif::default();
            // SAFETY: NOTIF_RECV writes one zeroed `struct seccomp_notif` (the layout
            // above, 80 bytes) to a valid pointer.
            let r =
                unsafe { libc::ioctl(self.fd.as_raw_fd(), NOTIF_RECV, &mut n as *mut RawNotif) };
            match NixErrno::result(r) {
                Ok(_) => {
                    return Ok(Some(Notification {
                        id: n.id,
                        tid: n.pid as RealTid,
                        nr: n.data.nr as u32,
                        args: n.data.args,
                        ip: n.data.ip,
                    }))
                }
                Err(NixErrno::EINTR) => continue,
                Err(NixErrno::ENOENT) => return Ok(None),
                Err(e) => return Err(sys_err("SECCOMP_IOCTL_NOTIF_RECV", e)),
            }
        }
    }

    /// Answers notification `id`.
    pub fn reply(&self, id: u64, reply: Reply) -> Result<Replied, Error> {
        let resp = match reply {
            Reply::Value(v) if (-4095..0).contains(&v) => RawResp {
                id,
                val: 0,
                error: v as i32,
                flags: 0,
            },
            Reply::Value(v) => RawResp {
                id,
                val: v,
                error: 0,
                flags: 0,
            },
            Reply::Continue => RawResp {
                id,
                val: 0,
                error: 0,
                flags: FLAG_CONTINUE,
            },
        };
        loop {
            // SAFETY: NOTIF_SEND reads one `struct seccomp_notif_resp` (24 bytes) from a
            // valid pointer.
            let r =
                unsafe { libc::ioctl(self.fd.as_raw_fd(), NOTIF_SEND, &resp as *const RawResp) };
            match NixErrno::result(r) {
                Ok(_) => return Ok(Replied::Done),
                Err(NixErrno::EINTR) => continue,
                Err(NixErrno::ENOENT) => return Ok(Replied::Gone),
                Err(e) => return Err(sys_err("SECCOMP_IOCTL_NOTIF_SEND", e)),
            }
        }
    }
}

/// Queues a `SIGSTOP` for thread `tid` of process `tgid`, held at a notification: answered
/// then with `-ERESTARTNOINTR`, the thread stops at that signal's delivery, and the call
/// is executed again when it goes on (see the module documentation).
pub fn interrupt(tgid: RealTid, tid: RealTid) -> Result<(), Error> {
    super::tgkill(tgid, tid, libc::SIGSTOP).map_err(|e| {
        if e == NixErrno::ESRCH {
            Error::TraceeGone { tid }
        } else {
            sys_err("tgkill", e)
        }
    })
}

/// Tags of the two kinds of completion (the low bits hold the listener key or the tid).
const POLL_TAG: u64 = 1 << 62;
const WAIT_TAG: u64 = 1 << 61;

/// Waits for whichever comes first of a thread's ptrace stop and a notification.
pub struct Waiter {
    ring: io_uring::IoUring,
    /// Listener keys with a poll in flight (a few; vectors, so that a stop allocates
    /// nothing once they have grown).
    polls: Vec<u64>,
    /// Listener keys whose filter has no user left (their poll would not wait).
    hung_up: Vec<u64>,
    /// Tids with a `waitid` in flight.
    waits: Vec<RealTid>,
}

/// Removes `x` from `v` if it is there (order does not matter).
fn take<T: PartialEq>(v: &mut Vec<T>, x: &T) {
    if let Some(i) = v.iter().position(|y| y == x) {
        v.swap_remove(i);
    }
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter")
            .field("polls", &self.polls.len())
            .field("waits", &self.waits.len())
            .finish()
    }
}

impl Waiter {
    /// A ring (`None`: the kernel has no io_uring, or no `IORING_OP_WAITID`).
    pub fn new() -> Option<Waiter> {
        let ring = io_uring::IoUring::new(64).ok()?;
        let mut probe = io_uring::Probe::new();
        ring.submitter().register_probe(&mut probe).ok()?;
        let needed = [
            io_uring::opcode::WaitId::CODE,
            io_uring::opcode::PollAdd::CODE,
        ];
        if !needed.iter().all(|&op| probe.is_supported(op)) {
            return None;
        }
        Some(Waiter {
            ring,
            polls: Default::default(),
            hung_up: Default::default(),
            waits: Default::default(),
        })
    }

    /// The next event of `running` (resumed, not yet waited for): its ptrace stop, or
    /// a notification on `listener` (its filter's) as [`Stop::Notified`].
    pub fn next(&mut self, running: Running, listener: &Listener) -> Result<Stop, Error> {
        let tid = running.0;
        loop {
            self.arm(tid, listener)?;
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => {
                    return Err(Error::Sys {
                        op: "io_uring_enter",
                        errno: e.raw_os_error().unwrap_or(0),
                    })
                }
            }
            let (mut stopped, mut notified) = (false, false);
            for cqe in self.ring.completion() {
                let (tag, res) = (cqe.user_data(), cqe.result());
                if tag & POLL_TAG != 0 {
                    let key = tag & !POLL_TAG;
                    take(&mut self.polls, &key);
                    let hup = res < 0 || res & (libc::POLLHUP | libc::POLLERR) as i32 != 0;
                    if hup && res & libc::POLLIN as i32 == 0 && !self.hung_up.contains(&key) {
                        self.hung_up.push(key);
                    }
                    notified |= key == listener.key && res > 0 && res & libc::POLLIN as i32 != 0;
                } else if tag & WAIT_TAG != 0 {
                    let t = (tag & !WAIT_TAG) as RealTid;
                    take(&mut self.waits, &t);
                    stopped |= t == tid;
                }
            }
            // A completed `waitid` may be stale (a stop that was taken since by a direct
            // wait), so it is checked without blocking; a notification that vanished
            // (its thread was signalled) reads as none.
            if stopped {
                match try_wait(tid) {
                    Polled::Stop(stop) => return Ok(stop),
                    Polled::Gone => return Err(Error::TraceeGone { tid }),
                    Polled::Nothing => {}
                }
            }
            if notified {
                if let Some(n) = listener.recv()? {
                    return Ok(Stop::Notified(n));
                }
            }
        }
    }

    /// Puts in flight what is missing: the listener's poll and the thread's `waitid`.
    fn arm(&mut self, tid: RealTid, listener: &Listener) -> Result<(), Error> {
        use io_uring::{opcode, types};
        let poll = !self.polls.contains(&listener.key) && !self.hung_up.contains(&listener.key);
        let waits = !self.waits.contains(&tid);
        if !poll && !waits {
            return Ok(());
        }
        let mut sq = self.ring.submission();
        if poll {
            let e = opcode::PollAdd::new(types::Fd(listener.fd.as_raw_fd()), libc::POLLIN as u32)
                .build()
                .user_data(POLL_TAG | listener.key);
            // SAFETY: a poll entry references no memory of ours (the fd is kept open by
            // the ring while the poll is in flight).
            unsafe { sq.push(&e) }.map_err(|_| Error::Sys {
                op: "io_uring submission queue full",
                errno: libc::EBUSY,
            })?;
            self.polls.push(listener.key);
        }
        if waits {
            // WNOWAIT: the stop stays to be taken by `wait`; no siginfo is written.
            let options =
                libc::WEXITED | libc::WSTOPPED | libc::__WALL | libc::WNOWAIT | libc::__WNOTHREAD;
            let e = opcode::WaitId::new(libc::P_PID, tid as libc::id_t, options)
                .build()
                .user_data(WAIT_TAG | tid as u64);
            // SAFETY: `infop` is null: the kernel writes nothing to our memory.
            unsafe { sq.push(&e) }.map_err(|_| Error::Sys {
                op: "io_uring submission queue full",
                errno: libc::EBUSY,
            })?;
            self.waits.push(tid);
        }
        Ok(())
    }
}
