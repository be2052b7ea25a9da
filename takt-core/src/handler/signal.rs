//! Taking signals synchronously: `signalfd`/`signalfd4` (reads, readiness),
//! `rt_sigtimedwait`, `rt_sigsuspend`, and the signal masks `ppoll`, `pselect6`,
//! `epoll_pwait` and `epoll_pwait2` install while they wait.
//!
//! The kernel keeps every tracee's pending and blocked signals (see
//! [`crate::sys::signal`]); these handlers look at them at the stop. When a signal the
//! call wants is pending, the call goes to the kernel, which dequeues it (and fills in
//! `struct signalfd_siginfo` or `siginfo_t` itself; for a child's exit takt then puts
//! its CPU-time model's figures in the record's times) without blocking. Otherwise the
//! thread parks on [`Obj::Signals`] in the core, and every signal generated anywhere
//! (`kill`, `tgkill`, a timer, a child's exit) makes it look again. A signalfd's
//! placeholder is the kernel's own signalfd, so its mask and flags are checked there.

use super::{keep_deadline, Blocked, Out, Post, Res};
use crate::errno::Errno;
use crate::fd::{Kind, Obj};
use crate::sys::signal::bit;
use crate::syscall::calls::{RtSigsuspend, RtSigtimedwait, Signalfd, Signalfd4};
use crate::syscall::Hex32;
use crate::world::signal::call_sigmask;
use crate::world::{Vtid, World};

/// Signals no mask can hold.
const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

/// What a signal call does at its exit.
pub(crate) enum Exit {
    /// `signalfd`/`signalfd4` of `fd` (-1: a new one) with `flags`; `mask`: the mask the
    /// kernel read (`None`: it could not, and fails the call).
    Signalfd {
        /// The fd argument.
        fd: i32,
        /// `signalfd4`'s flags (0 for `signalfd`).
        flags: i32,
        /// The mask.
        mask: Option<u64>,
    },
    /// A read of a signalfd into the buffer at `buf`, which the kernel dequeued.
    SignalfdRead {
        /// The buffer.
        buf: u64,
    },
    /// `rt_sigtimedwait` with `info` (0: none), which the kernel dequeued.
    Sigtimedwait {
        /// The `siginfo_t` pointer.
        info: u64,
    },
}

impl Exit {
    /// Runs the action with the kernel's return value `ret`.
    pub(crate) fn run(self, e: &mut World, tid: Vtid, ret: i64) -> Option<i64> {
        match self {
            Exit::Signalfd { fd, flags, mask } => signalfd_done(e, tid, ret, fd, flags, mask),
            Exit::SignalfdRead { buf } => signalfd_read_done(e, tid, ret, buf),
            Exit::Sigtimedwait { info } => {
                if ret == i64::from(libc::SIGCHLD) && info != 0 {
                    fix_child_signals(e, tid, info, 128, false);
                    // siginfo_t: si_signo at 0, si_code at 8, si_pid at 16, si_utime at 32.
                    child_times(e, tid, info, (0, 8, 16, 32));
                }
            }
        }
        None
    }
}

/// `signalfd(fd, mask, sizemask)`: `signalfd4` without flags.
pub fn signalfd(e: &mut World, tid: Vtid, c: Signalfd) -> Res {
    let c = Signalfd4 {
        fd: c.fd,
        mask: c.mask,
        sizemask: c.sizemask,
        flags: Hex32::from(0),
    };
    signalfd4(e, tid, c)
}

/// `signalfd4(fd, mask, sizemask, flags)`: the kernel creates (or updates) the
/// signalfd; the model records its mask.
pub fn signalfd4(e: &mut World, tid: Vtid, c: Signalfd4) -> Res {
    let (fd, flags) = (c.fd.get(), c.flags.get() as i32);
    // What the kernel will read; if it cannot, it fails the call and nothing is recorded.
    let mask = if c.sizemask == 8 {
        e.read_val::<u64>(tid, c.mask.addr()).ok()
    } else {
        None
    };
    Ok(Out::PassThen(Post::Signal(Exit::Signalfd {
        fd,
        flags,
        mask,
    })))
}

/// At the exit of `signalfd4(fd, …, flags)` that read `mask`: the model's signalfd
/// (a new one, or `fd`'s) has the mask.
fn signalfd_done(e: &mut World, tid: Vtid, ret: i64, fd: i32, flags: i32, mask: Option<u64>) {
    let Some(mask) = mask.filter(|_| ret >= 0) else {
        return;
    };
    let mask = mask & !UNBLOCKABLE;
    if fd == -1 {
        e.files.signalfds.push(mask);
        let id = e.files.signalfds.len().saturating_sub(1);
        let (nonblock, cloexec) = (
            flags & libc::SFD_NONBLOCK != 0,
            flags & libc::SFD_CLOEXEC != 0,
        );
        super::io::install_new(e, tid, ret as i32, Kind::SignalFd(id), nonblock, cloexec);
    } else if let Some(entry) = super::io::lookup(e, tid, fd as u64) {
        if let Kind::SignalFd(id) = e.files.file(entry.file).kind {
            e.files.signalfds[id] = mask;
        }
    }
    // A wider mask may make a pending signal readable.
    e.notify(Obj::Signals);
}

/// Signals in `mask` pending for thread `tid` or its process.
fn pending_in(e: &World, tid: Vtid, mask: u64) -> u64 {
    e.sig_sets(tid).pending_any() & mask
}

/// A read of signalfd `id` into `dest`: the kernel dequeues when a signal of its mask is
/// pending for the reader (a child's exit then gets the model's CPU times, see
/// `child_times`); otherwise `EAGAIN` or park.
pub(crate) fn signalfd_read(
    e: &mut World,
    tid: Vtid,
    file: usize,
    id: usize,
    dest: &super::io::Dest,
) -> Res {
    if dest.len() < SIGNALFD_SIZE {
        return Err(Errno::EINVAL);
    }
    if pending_in(e, tid, e.files.signalfds[id]) != 0 {
        // A plain `read` gets a child's stop or continue (as takt queued it) rewritten
        // as the kernel's SIGCHLD, and a child's exit the model's CPU times; other reads
        // of a signalfd see them as the kernel has them.
        let super::io::Dest::Buf(buf, _) = *dest else {
            return Ok(Out::Pass);
        };
        return Ok(Out::PassThen(Post::Signal(Exit::SignalfdRead { buf })));
    }
    if e.files.file(file).nonblock {
        return Err(Errno::EAGAIN);
    }
    Ok(Out::Block(Blocked::on(
        vec![Obj::Signals],
        "a signal (signalfd)",
    )))
}

/// The size of a `struct signalfd_siginfo`.
const SIGNALFD_SIZE: usize = std::mem::size_of::<libc::signalfd_siginfo>();

/// At the exit of a signalfd read into `buf`: the records of children's signals get
/// takt's `siginfo` and CPU times.
fn signalfd_read_done(e: &mut World, tid: Vtid, ret: i64, buf: u64) {
    fix_child_signals(e, tid, buf, ret, true);
    let records = usize::try_from(ret).unwrap_or(0) / SIGNALFD_SIZE;
    for i in 0..records.min(64) {
        let at = buf.saturating_add(i.saturating_mul(SIGNALFD_SIZE) as u64);
        // ssi_signo at 0, ssi_code at 8, ssi_pid at 12, ssi_utime/ssi_stime at 56.
        child_times(e, tid, at, (0, 8, 12, 56));
    }
}

/// The `SIGCHLD`s of a child's stop or continue among the `len` bytes at `addr` of
/// thread `tid`, which a signalfd read (`struct signalfd_siginfo` records) or
/// `sigtimedwait` (one `siginfo_t`) returned, get their own `siginfo` (see
/// [`crate::sys::signal::ChildSiginfo`]).
fn fix_child_signals(e: &mut World, tid: Vtid, addr: u64, len: i64, signalfd: bool) {
    const REC: usize = 128; // both records are 128 bytes
    let Ok(len) = usize::try_from(len) else {
        return;
    };
    let Ok(mut bytes) = e.read_mem(tid, addr, len.min(64 * REC)) else {
        return;
    };
    let mut changed = false;
    for rec in bytes.chunks_exact_mut(REC) {
        changed |= if signalfd {
            crate::sys::signal::fix_child_signalfd(rec)
        } else {
            crate::sys::signal::fix_child_siginfo(rec)
        };
    }
    if changed {
        let _ = e.write_mem(tid, addr, &bytes);
    }
}

/// Readiness of signalfd `id` for thread `tid` (as Linux, the poller's own signals).
pub(crate) fn signalfd_bits(e: &World, tid: Vtid, id: usize) -> u32 {
    if pending_in(e, tid, e.files.signalfds[id]) != 0 {
        libc::POLLIN as u32
    } else {
        0
    }
}

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)`: the kernel dequeues a pending
/// signal of `set`; none pending: park until one is generated or the time-out passes.
pub fn rt_sigtimedwait(e: &mut World, tid: Vtid, c: RtSigtimedwait) -> Res {
    if c.sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let set = e.read_val::<u64>(tid, c.set.addr())? & !UNBLOCKABLE;
    let deadline = if !c.timeout.is_null() {
        let ts: libc::timespec = e.read_val(tid, c.timeout.addr())?;
        Some(e.now.plus_nanos(super::time::ts_nanos(&ts)?))
    } else {
        None
    };
    let deadline = keep_deadline(e, tid, deadline);
    if pending_in(e, tid, set) != 0 {
        let info = c.info.addr();
        return Ok(Out::PassThen(Post::Signal(Exit::Sigtimedwait { info })));
    }
    if deadline.is_some_and(|d| d <= e.now) {
        return Err(Errno::EAGAIN);
    }
    Ok(Out::Block(
        Blocked::on(vec![Obj::Signals], "a signal (sigtimedwait)")
            .no_restart()
            .until(deadline, Errno::EAGAIN.ret()),
    ))
}

/// The record of a dequeued signal at `at` in `tid`'s memory (offsets of its signal
/// number, code, pid and the two CPU-time words): if it is a child's exit (`SIGCHLD`
/// with `CLD_EXITED`, `CLD_KILLED` or `CLD_DUMPED`), its CPU times (the host's, from the
/// kernel) become the model's.
fn child_times(e: &mut World, tid: Vtid, at: u64, (signo, code, pid, times): (u64, u64, u64, u64)) {
    let word = |e: &World, o: u64| e.read_val::<i32>(tid, at.saturating_add(o)).ok();
    let (Some(s), Some(c), Some(p)) = (word(e, signo), word(e, code), word(e, pid)) else {
        return;
    };
    if s != libc::SIGCHLD || !(libc::CLD_EXITED..=libc::CLD_DUMPED).contains(&c) {
        return;
    }
    let Some(cpu) = e.child_cpu(p) else { return };
    let mut out = [0u8; 16];
    crate::world::cpu::put_ticks(&mut out, cpu);
    let _ = e.write_mem(tid, at.saturating_add(times), &out);
}

/// Signals pending for `tid` that `mask` lets through and that would run a handler or
/// kill (the ones a wait with that mask returns `EINTR` for).
fn deliverable(e: &World, tid: Vtid, mask: u64) -> u64 {
    let pid = e.threads[&tid].pid;
    let acts = (1..=64)
        .filter(|&s| {
            let d = e.procs[&pid].sig[s as usize];
            d.handler > 1 || (d.handler == 0 && crate::world::default_is_fatal(s))
        })
        .fold(0u64, |m, s| m | bit(s));
    pending_in(e, tid, !(mask & !UNBLOCKABLE) & acts)
}

/// The checks of a call's signal mask argument (`set_user_sigmask`): none without a
/// mask, else `EINVAL` unless `size` is a `sigset_t`'s, then `EFAULT` if it cannot be
/// read.
pub(crate) fn check_sigmask(e: &World, tid: Vtid, ptr: u64, size: u64) -> Result<(), Errno> {
    if ptr == 0 {
        return Ok(());
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    e.read_val::<u64>(tid, ptr).map(|_| ())
}

/// A wait whose mask lets a pending signal through must take it as Linux does: install
/// the mask, run the handler, restore the mask, return `EINTR`. The call becomes
/// `ppoll(NULL, 0, NULL, mask)`, with which the kernel does just that, at once (the
/// original arguments are put back at its exit).
pub(crate) fn signal_through_mask(e: &World, tid: Vtid, nr: u32, a: [u64; 6]) -> Option<Res> {
    let (ptr, mask) = call_sigmask(e, tid, nr, a)?;
    if deliverable(e, tid, mask) == 0 {
        return None;
    }
    Some(Ok(Out::Rewrite {
        nr: libc::SYS_ppoll,
        args: [0, 0, 0, ptr, 8, 0],
        post: None,
    }))
}

/// `rt_sigsuspend(mask, sigsetsize)`: once a signal that `mask` lets through is pending
/// and would run a handler or kill, the kernel runs the call (it installs `mask`, takes
/// the signal and returns `EINTR`); until then the thread parks.
pub fn rt_sigsuspend(e: &mut World, tid: Vtid, c: RtSigsuspend) -> Res {
    if c.sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = e.read_val::<u64>(tid, c.mask.addr())?;
    if deliverable(e, tid, mask) != 0 {
        return Ok(Out::Pass);
    }
    Ok(Out::Block(
        Blocked::on(vec![Obj::Signals], "a signal (sigsuspend)").no_restart(),
    ))
}
