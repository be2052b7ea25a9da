//! The fault table: for each syscall takt can fault, the errors its Linux man page documents
//! for situations a correct program can meet at run time, and the facts about one call
//! ([`Call`]) that decide whether each documented situation can arise there ([`applies`]).
//! Also why the other syscalls cannot be faulted.

use super::Fault;
use crate::errno::Errno;
use crate::syscall::enums::{EpollOp, FcntlCmd};
use crate::syscall::flags::{FlockOp, GrndFlags, OpenFlags, WaitOptions, WaitidOptions};
use crate::syscall::{Dir, Syscall};

const SHORT: Fault = Fault::Short;
const EADDRINUSE: Fault = Fault::Errno(Errno::EADDRINUSE);
const EADDRNOTAVAIL: Fault = Fault::Errno(Errno::EADDRNOTAVAIL);
const EAGAIN: Fault = Fault::Errno(Errno::EAGAIN);
const ECONNABORTED: Fault = Fault::Errno(Errno::ECONNABORTED);
const ECONNREFUSED: Fault = Fault::Errno(Errno::ECONNREFUSED);
const ECONNRESET: Fault = Fault::Errno(Errno::ECONNRESET);
const EDQUOT: Fault = Fault::Errno(Errno::EDQUOT);
const EHOSTUNREACH: Fault = Fault::Errno(Errno::EHOSTUNREACH);
const EINTR: Fault = Fault::Errno(Errno::EINTR);
const EIO: Fault = Fault::Errno(Errno::EIO);
const EMFILE: Fault = Fault::Errno(Errno::EMFILE);
const ENETDOWN: Fault = Fault::Errno(Errno::ENETDOWN);
const ENETUNREACH: Fault = Fault::Errno(Errno::ENETUNREACH);
const ENFILE: Fault = Fault::Errno(Errno::ENFILE);
const ENOBUFS: Fault = Fault::Errno(Errno::ENOBUFS);
const ENODEV: Fault = Fault::Errno(Errno::ENODEV);
const ENOLCK: Fault = Fault::Errno(Errno(libc::ENOLCK));
const ENOMEM: Fault = Fault::Errno(Errno::ENOMEM);
const ENOSPC: Fault = Fault::Errno(Errno::ENOSPC);
const EPERM: Fault = Fault::Errno(Errno::EPERM);
const EPROTO: Fault = Fault::Errno(Errno::EPROTO);
const ETIMEDOUT: Fault = Fault::Errno(Errno::ETIMEDOUT);

/// How a call meets a signal handler, after signal(7) "Interruption of system calls and
/// library functions by signal handlers" and "… by stop signals". Decides when its
/// `EINTR` is real.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Intr {
    /// No `EINTR` in the entry.
    No,
    /// Restarted after a handler installed with `SA_RESTART` (signal(7), first list):
    /// `EINTR` needs a handler without it.
    Restarted,
    /// Never restarted (signal(7), second list): `EINTR` after any handler.
    Never,
    /// Also interrupted by a stop signal and `SIGCONT` when no handler is installed at all
    /// (signal(7), "by stop signals"): `EINTR` is always possible.
    Stop,
}

/// One row of the table.
struct Entry {
    nr: u32,
    name: &'static str,
    intr: Intr,
    man: &'static str,
    faults: &'static [Fault],
}

const fn e(
    nr: i64,
    name: &'static str,
    intr: Intr,
    man: &'static str,
    faults: &'static [Fault],
) -> Entry {
    Entry {
        nr: nr as u32,
        name,
        intr,
        man,
        faults,
    }
}

use Intr::{Never, No, Restarted, Stop};

/// The faults takt injects, per syscall.
///
/// The principle: an entry lists only errors that the call's Linux man page documents
/// (its ERRORS section, e.g. "accept(2) ERRORS", or the man page of the protocol under it,
/// e.g. tcp(7), ip(7), or the POSIX page recv(3p) where Linux's own is silent) for a
/// situation that can arise at run time **without the program having done anything
/// wrong**: a transient condition (`EINTR`), an exhausted resource (`EMFILE`, `ENOMEM`,
/// `ENOSPC`, `EAGAIN` from `fork`), a failing device (`EIO`), or the network and the peer
/// (`ECONNREFUSED`, `ECONNRESET`, `ECONNABORTED`). Errors that report a mistake
/// (`EBADF`, `EFAULT`, `EINVAL`, `ENOTSOCK`) or a state the program created or must
/// track itself (`EPIPE` after a shutdown, `EAGAIN` on an empty nonblocking socket,
/// `EISCONN`, `ENOTCONN`, `ECHILD`) are left out: injecting them would report bugs no real
/// system can trigger. [`Fault::Short`] stands for the short transfer read(2), write(2),
/// recv(2) and send(2) allow ("It is not an error if this number is smaller than the
/// number of bytes requested").
///
/// Where a documented situation exists only for some calls of a syscall (an `ENOSPC` from
/// `open` needs `O_CREAT`; `EINTR` from `read` needs a "slow" device and a signal handler
/// installed without `SA_RESTART`, signal(7)), the entry lists the error and [`applies`]
/// says, from the facts in a [`Call`], whether this call can meet it.
///
/// Left out on purpose (see [`not_injectable_reason`] for the message users get):
/// calls that cannot fail (`getpid`, `gettid`, `sched_yield`, `clock_gettime` on a valid
/// clock), the process and signal machinery (`exit`, `exit_group`, `rt_sigreturn`,
/// `restart_syscall`, `set_tid_address`, `arch_prctl`, `rseq`, `set_robust_list`),
/// `futex` (glibc aborts on futex errors it does not expect), `execve` (every process's
/// first `execve` is takt launching the program), the memory calls and the other calls
/// the seccomp filter lets run natively (`mmap`, `brk`, `mprotect`; also `pread64`,
/// which takt never sees), and calls
/// whose man page documents no run-time error (`shutdown`, `getsockopt`, `setsockopt`,
/// `kill`, `ioctl` in general).
#[rustfmt::skip]
static TABLE: &[Entry] = &[
    // --- reads and writes -------------------------------------------------------------
    e(libc::SYS_read, "read", Restarted, "read(2) ERRORS; signal(7)",
        &[EINTR, EIO, SHORT]),
    e(libc::SYS_readv, "readv", Restarted, "readv(2) ERRORS, as read(2)",
        &[EINTR, EIO, SHORT]),
    e(libc::SYS_write, "write", Restarted, "write(2) ERRORS; signal(7)",
        &[EINTR, EIO, ENOSPC, EDQUOT, SHORT]),
    e(libc::SYS_writev, "writev", Restarted, "writev(2) ERRORS, as write(2)",
        &[EINTR, EIO, ENOSPC, EDQUOT, SHORT]),
    // Positional: regular files only (ESPIPE elsewhere), which are not "slow": no EINTR.
    e(libc::SYS_preadv, "preadv", No, "readv(2) ERRORS, as read(2)",
        &[EIO, SHORT]),
    e(libc::SYS_preadv2, "preadv2", No, "readv(2) ERRORS, as read(2)",
        &[EIO, SHORT]),
    e(libc::SYS_pwritev, "pwritev", No, "writev(2) ERRORS, as write(2)",
        &[EIO, ENOSPC, EDQUOT, SHORT]),
    e(libc::SYS_pwrite64, "pwrite64", No, "pwrite(2) ERRORS, as write(2)",
        &[EIO, ENOSPC, EDQUOT, SHORT]),
    // fsync(2) ERRORS: EIO (a write-back failed: reported once, the dirty pages are
    // dropped), ENOSPC/EDQUOT (no room to write the data back).
    e(libc::SYS_fsync, "fsync", No, "fsync(2) ERRORS",
        &[EIO, ENOSPC, EDQUOT]),
    e(libc::SYS_fdatasync, "fdatasync", No, "fsync(2) ERRORS (fdatasync)",
        &[EIO, ENOSPC, EDQUOT]),
    e(libc::SYS_pwritev2, "pwritev2", No, "writev(2) ERRORS, as write(2)",
        &[EIO, ENOSPC, EDQUOT, SHORT]),

    // --- descriptors ------------------------------------------------------------------
    // The descriptor is released even when close reports an error (see
    // `error_keeps_effect`); the kernel never restarts close.
    e(libc::SYS_close, "close", Never, "close(2) ERRORS",
        &[EINTR, EIO, ENOSPC, EDQUOT]),
    // open(2) documents EINTR only for slow devices (FIFOs), and no EIO at all.
    e(libc::SYS_open, "open", No, "open(2) ERRORS",
        &[EMFILE, ENFILE, ENOMEM, ENOSPC, EDQUOT]),
    e(libc::SYS_openat, "openat", No, "open(2) ERRORS",
        &[EMFILE, ENFILE, ENOMEM, ENOSPC, EDQUOT]),
    e(libc::SYS_creat, "creat", No, "open(2) ERRORS",
        &[EMFILE, ENFILE, ENOMEM, ENOSPC, EDQUOT]),
    e(libc::SYS_pipe, "pipe", No, "pipe(2) ERRORS",
        &[EMFILE, ENFILE]),
    e(libc::SYS_pipe2, "pipe2", No, "pipe(2) ERRORS",
        &[EMFILE, ENFILE]),
    e(libc::SYS_eventfd, "eventfd", No, "eventfd(2) ERRORS",
        &[EMFILE, ENFILE, ENODEV, ENOMEM]),
    e(libc::SYS_eventfd2, "eventfd2", No, "eventfd(2) ERRORS",
        &[EMFILE, ENFILE, ENODEV, ENOMEM]),
    e(libc::SYS_signalfd, "signalfd", No, "signalfd(2) ERRORS",
        &[EMFILE, ENFILE, ENODEV, ENOMEM]),
    e(libc::SYS_signalfd4, "signalfd4", No, "signalfd(2) ERRORS",
        &[EMFILE, ENFILE, ENODEV, ENOMEM]),
    e(libc::SYS_timerfd_create, "timerfd_create", No, "timerfd_create(2) ERRORS",
        &[EMFILE, ENFILE, ENODEV, ENOMEM]),
    // dup2/dup3 target a given number: no EMFILE (the kernel answers EBADF past the limit).
    e(libc::SYS_dup, "dup", No, "dup(2) ERRORS",
        &[EMFILE]),
    e(libc::SYS_dup2, "dup2", Restarted, "dup(2) ERRORS",
        &[EINTR]),
    e(libc::SYS_dup3, "dup3", Restarted, "dup(2) ERRORS",
        &[EINTR]),
    e(libc::SYS_fcntl, "fcntl", Restarted, "fcntl(2) ERRORS",
        &[EMFILE, EINTR, ENOLCK]),
    e(libc::SYS_flock, "flock", Restarted, "flock(2) ERRORS",
        &[EINTR, ENOLCK]),

    // --- readiness --------------------------------------------------------------------
    e(libc::SYS_poll, "poll", Never, "poll(2) ERRORS",
        &[EINTR, ENOMEM]),
    e(libc::SYS_ppoll, "ppoll", Never, "poll(2) ERRORS",
        &[EINTR, ENOMEM]),
    e(libc::SYS_select, "select", Never, "select(2) ERRORS",
        &[EINTR, ENOMEM]),
    e(libc::SYS_pselect6, "pselect6", Never, "select(2) ERRORS",
        &[EINTR, ENOMEM]),
    e(libc::SYS_epoll_create, "epoll_create", No, "epoll_create(2) ERRORS",
        &[EMFILE, ENFILE, ENOMEM]),
    e(libc::SYS_epoll_create1, "epoll_create1", No, "epoll_create(2) ERRORS",
        &[EMFILE, ENFILE, ENOMEM]),
    e(libc::SYS_epoll_ctl, "epoll_ctl", No, "epoll_ctl(2) ERRORS",
        &[ENOMEM, ENOSPC]),
    e(libc::SYS_epoll_wait, "epoll_wait", Stop, "epoll_wait(2) ERRORS; signal(7)",
        &[EINTR]),
    e(libc::SYS_epoll_pwait, "epoll_pwait", Stop, "epoll_wait(2) ERRORS; signal(7)",
        &[EINTR]),
    e(libc::SYS_epoll_pwait2, "epoll_pwait2", Stop, "epoll_wait(2) ERRORS; signal(7)",
        &[EINTR]),

    // --- sockets ----------------------------------------------------------------------
    e(libc::SYS_socket, "socket", No, "socket(2) ERRORS",
        &[EMFILE, ENFILE, ENOBUFS, ENOMEM]),
    // socketpair(2) documents no ENOBUFS/ENOMEM, unlike socket(2).
    e(libc::SYS_socketpair, "socketpair", No, "socketpair(2) ERRORS",
        &[EMFILE, ENFILE]),
    e(libc::SYS_bind, "bind", No, "bind(2) ERRORS",
        &[EADDRINUSE]),
    e(libc::SYS_listen, "listen", No, "listen(2) ERRORS",
        &[EADDRINUSE]),
    // accept(2) also asks callers to treat the pending network errors it passes on
    // (ENETDOWN, EPROTO, EHOSTUNREACH, ENETUNREACH…) like EAGAIN.
    e(libc::SYS_accept, "accept", Restarted, "accept(2) ERRORS and RETURN VALUE",
        &[ECONNABORTED, EINTR, EMFILE, ENFILE, ENOBUFS, ENOMEM, EPERM, EPROTO,
          ENETDOWN, ENETUNREACH, EHOSTUNREACH]),
    e(libc::SYS_accept4, "accept4", Restarted, "accept(2) ERRORS and RETURN VALUE",
        &[ECONNABORTED, EINTR, EMFILE, ENFILE, ENOBUFS, ENOMEM, EPERM, EPROTO,
          ENETDOWN, ENETUNREACH, EHOSTUNREACH]),
    e(libc::SYS_connect, "connect", Restarted, "connect(2) ERRORS; EHOSTUNREACH: ip(7) ERRORS",
        &[ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, EAGAIN, EPERM,
          EINTR]),
    e(libc::SYS_sendto, "sendto", Restarted, "send(2) ERRORS; ETIMEDOUT: tcp(7) ERRORS",
        &[EINTR, ENOBUFS, ENOMEM, ECONNRESET, ETIMEDOUT, SHORT]),
    e(libc::SYS_sendmsg, "sendmsg", Restarted, "send(2) ERRORS; ETIMEDOUT: tcp(7) ERRORS",
        &[EINTR, ENOBUFS, ENOMEM, ECONNRESET, ETIMEDOUT, SHORT]),
    e(libc::SYS_sendmmsg, "sendmmsg", Restarted, "sendmmsg(2) ERRORS, as sendmsg(2)",
        &[EINTR, ENOBUFS, ENOMEM, ECONNRESET, ETIMEDOUT, SHORT]),
    e(libc::SYS_recvfrom, "recvfrom", Restarted, "recv(2) ERRORS; ECONNRESET, ETIMEDOUT: recv(3p)",
        &[EINTR, ENOMEM, ECONNREFUSED, ECONNRESET, ETIMEDOUT, SHORT]),
    e(libc::SYS_recvmsg, "recvmsg", Restarted, "recv(2) ERRORS; ECONNRESET, ETIMEDOUT: recvmsg(3p)",
        &[EINTR, ENOMEM, ECONNREFUSED, ECONNRESET, ETIMEDOUT, SHORT]),
    e(libc::SYS_recvmmsg, "recvmmsg", Restarted, "recvmmsg(2) ERRORS, as recvmsg(2)",
        &[EINTR, ENOMEM, ECONNREFUSED, ECONNRESET, ETIMEDOUT, SHORT]),
    e(libc::SYS_getsockname, "getsockname", No, "getsockname(2) ERRORS",
        &[ENOBUFS]),
    e(libc::SYS_getpeername, "getpeername", No, "getpeername(2) ERRORS",
        &[ENOBUFS]),

    // --- processes, time, randomness --------------------------------------------------
    e(libc::SYS_clone, "clone", No, "clone(2) ERRORS",
        &[EAGAIN, ENOMEM]),
    e(libc::SYS_clone3, "clone3", No, "clone(2) ERRORS",
        &[EAGAIN, ENOMEM]),
    e(libc::SYS_fork, "fork", No, "fork(2) ERRORS",
        &[EAGAIN, ENOMEM]),
    e(libc::SYS_vfork, "vfork", No, "vfork(2) ERRORS",
        &[EAGAIN, ENOMEM]),
    e(libc::SYS_wait4, "wait4", Restarted, "wait4(2) ERRORS, as wait(2); signal(7)",
        &[EINTR]),
    e(libc::SYS_waitid, "waitid", Restarted, "wait(2) ERRORS; signal(7)",
        &[EINTR]),
    e(libc::SYS_nanosleep, "nanosleep", Never, "nanosleep(2) ERRORS; signal(7)",
        &[EINTR]),
    e(libc::SYS_clock_nanosleep, "clock_nanosleep", Never, "clock_nanosleep(2) ERRORS",
        &[EINTR]),
    // System V semaphores: never restarted, and interrupted by stop signals (signal(7));
    // ENOMEM: no memory for a SEM_UNDO structure.
    e(libc::SYS_semop, "semop", Stop, "semop(2) ERRORS; signal(7)",
        &[EINTR, ENOMEM]),
    e(libc::SYS_semtimedop, "semtimedop", Stop, "semop(2) ERRORS; signal(7)",
        &[EINTR, ENOMEM]),
    e(libc::SYS_rt_sigtimedwait, "rt_sigtimedwait", Stop, "sigwaitinfo(2) ERRORS; signal(7)",
        &[EINTR]),
    e(libc::SYS_timer_create, "timer_create", No, "timer_create(2) ERRORS",
        &[EAGAIN, ENOMEM]),
    e(libc::SYS_getrandom, "getrandom", Restarted, "getrandom(2) ERRORS and DESCRIPTION",
        &[EINTR, EAGAIN, SHORT]),
];

fn entry(nr: u32) -> Option<&'static Entry> {
    TABLE.iter().find(|e| e.nr == nr)
}

/// The faults Linux documents for syscall `nr` (x86-64 number), as takt injects them;
/// `None` when takt never injects into it ([`FaultPlan::set`](super::FaultPlan::set) then says why).
///
/// Every fault listed is possible for *some* call of the syscall; [`applies`] says whether
/// it is possible for a given one.
pub fn faults_for(nr: u32) -> Option<&'static [Fault]> {
    entry(nr).map(|e| e.faults)
}

/// The syscall's name, if it has an entry.
pub(crate) fn name(nr: u32) -> Option<&'static str> {
    entry(nr).map(|e| e.name)
}

/// Where the table's entry for `nr` comes from: the man page sections it cites (e.g.
/// `"accept(2) ERRORS and RETURN VALUE \"Error handling\""`), for reports.
pub fn documented_in(nr: u32) -> Option<&'static str> {
    entry(nr).map(|e| e.man)
}

/// Every syscall takt can fault, with its faults, in table order.
pub fn injectable() -> impl Iterator<Item = (u32, &'static [Fault])> + Clone {
    TABLE.iter().map(|e| (e.nr, e.faults))
}

/// Whether Linux carries out this call's effect even when it reports one of its table's
/// errors. True only for `close`: the descriptor is released before the flush whose error
/// `close` reports, and "close() should not be retried after an error" (close(2) NOTES,
/// "Dealing with error returns from close()"). For it the engine must still close the
/// descriptor and replace only the return value; every other fault means "nothing
/// happened".
pub fn error_keeps_effect(nr: u32) -> bool {
    i64::from(nr) == libc::SYS_close
}

/// What a descriptor argument refers to, as far as the faults care.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Target {
    /// No descriptor, or the engine does not know: every documented situation is assumed
    /// possible.
    #[default]
    Unknown,
    /// A regular file or block device: disk errors (`EIO`, `ENOSPC`, `EDQUOT`) and short
    /// transfers happen; it is not a "slow" device (signal(7): "a (local) disk is not a
    /// slow device"), so no `EINTR`.
    File,
    /// A pipe, FIFO, terminal or stream socket (and captured output, a pipe in real
    /// life): a slow device, short transfers happen, no disk errors.
    Stream,
    /// A datagram socket (or `SOCK_SEQPACKET`): a slow device, but one call moves one
    /// whole message, so no short transfer.
    Datagram,
    /// An eventfd, timerfd or signalfd: a slow device with fixed 8-byte transfers.
    Counter,
    /// Anything none of these faults can happen on: `/dev/null`, `/dev/urandom`, an epoll
    /// descriptor…
    Other,
}

/// The signal handlers of the calling thread's process, as far as `EINTR` cares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Signals {
    /// Not known: `EINTR` is assumed possible wherever documented.
    #[default]
    Unknown,
    /// No handler installed: only a stop signal followed by `SIGCONT` interrupts, and only
    /// the calls signal(7) lists under "by stop signals" (`epoll_wait`, `sigtimedwait`…).
    NoHandler,
    /// Handlers installed, all with `SA_RESTART`: only calls Linux never restarts
    /// (`poll`, `select`, `nanosleep`, `close`…) see `EINTR`.
    Restarting,
    /// At least one handler installed without `SA_RESTART`.
    Interrupting,
}

/// The facts about one call that decide which documented faults can happen to it.
///
/// [`Call::new`] knows only the number and arguments; the engine fills in what it knows
/// about the descriptor and the signal handlers. Unknown facts are permissive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// The syscall number (x86-64).
    pub nr: u32,
    /// The call, typed (decoded once, from the registers).
    pub call: Syscall,
    /// What its descriptor argument refers to (the first argument; for `sendfile`-like
    /// calls, none are in the table).
    pub target: Target,
    /// Whether the call cannot block: `O_NONBLOCK` on the description, or
    /// `MSG_DONTWAIT` in the flags of a send or receive. A call that does not block is
    /// never interrupted (it answers `EAGAIN` instead of waiting).
    pub nonblock: bool,
    /// The signal handlers installed.
    pub signals: Signals,
}

impl Call {
    /// A call about which nothing but its number and arguments is known.
    pub fn new(nr: u32, args: [u64; 6]) -> Call {
        Call {
            nr,
            call: Syscall::decode(nr, args),
            target: Target::Unknown,
            nonblock: false,
            signals: Signals::Unknown,
        }
    }

    /// The call, typed.
    pub fn syscall(&self) -> Syscall {
        self.call
    }
}

/// Whether `fault` is in the table for `call.nr` and its documented situation can arise
/// for this call. The conditions, each from the man pages the table cites:
///
/// - `EINTR` needs a call that can wait (a blocking call on a slow device; `close` only
///   on a file, whose flush can wait on a network filesystem; `getrandom` only above 256
///   bytes; `flock` without `LOCK_NB`; `fcntl` only for locks; `wait4`/`waitid`
///   without `WNOHANG`) and a handler that can interrupt it (see [`Signals`]).
/// - `EIO`, `ENOSPC`, `EDQUOT` on reads, writes and `close` need a [`Target::File`];
///   `ENOSPC`/`EDQUOT` from `open` need `O_CREAT`.
/// - A short transfer needs a stream or a file and at least 2 units asked; on a blocking
///   stream, a *write* is short only when a signal handler interrupts it (write(2));
///   `getrandom` is short only above 256 bytes and when a handler can interrupt it;
///   `sendmmsg`/`recvmmsg` may move fewer messages (of any socket type).
/// - `ECONNRESET`, `ETIMEDOUT` and `connect`'s `ECONNREFUSED` need a stream socket;
///   `ECONNREFUSED` from a receive needs a datagram socket (the ICMP error of recv(2)).
/// - `fcntl`: `EMFILE` only for `F_DUPFD`/`F_DUPFD_CLOEXEC`, `ENOLCK` only when setting
///   a lock. `epoll_ctl`: only for `EPOLL_CTL_ADD`. `getrandom`'s `EAGAIN` needs
///   `GRND_NONBLOCK`.
pub fn applies(call: &Call, fault: Fault) -> bool {
    match entry(call.nr) {
        Some(e) => e.faults.contains(&fault) && situation(e, call, fault),
        None => false,
    }
}

fn situation(entry: &Entry, call: &Call, fault: Fault) -> bool {
    match fault {
        Fault::Short => short(call),
        Fault::Errno(Errno::EINTR) => interruptible(entry.intr, call.signals) && waits(call),
        Fault::Errno(e) => errno_situation(call, e),
    }
}

/// A handler can interrupt a call of class `intr`.
fn interruptible(intr: Intr, signals: Signals) -> bool {
    match (intr, signals) {
        (Intr::No, _) => false,
        (_, Signals::Unknown) | (Intr::Stop, _) => true,
        (Intr::Never, s) => s != Signals::NoHandler,
        (Intr::Restarted, s) => s == Signals::Interrupting,
    }
}

/// The call can be waiting when a signal arrives.
fn waits(call: &Call) -> bool {
    use Syscall as S;
    let slow = matches!(
        call.target,
        Target::Unknown | Target::Stream | Target::Datagram | Target::Counter
    );
    match call.syscall() {
        S::Read(_)
        | S::Readv(_)
        | S::Write(_)
        | S::Writev(_)
        | S::Accept(_)
        | S::Accept4(_)
        | S::Connect(_)
        | S::Sendto(_)
        | S::Sendmsg(_)
        | S::Sendmmsg(_)
        | S::Recvfrom(_)
        | S::Recvmsg(_)
        | S::Recvmmsg(_) => slow && !call.nonblock,
        S::Close(_) => matches!(call.target, Target::Unknown | Target::File),
        S::Getrandom(c) => c.buflen > 256,
        S::Fcntl(c) => is_lock_cmd(c.cmd),
        S::Flock(c) => !c.operation.contains(FlockOp::LOCK_NB),
        S::Wait4(c) => !c.options.contains(WaitOptions::WNOHANG),
        S::Waitid(c) => !c.options.contains(WaitidOptions::WNOHANG),
        _ => true,
    }
}

fn is_lock_cmd(cmd: FcntlCmd) -> bool {
    matches!(
        cmd.get(),
        FcntlCmd::F_GETLK
            | FcntlCmd::F_SETLK
            | FcntlCmd::F_SETLKW
            | FcntlCmd::F_OFD_GETLK
            | FcntlCmd::F_OFD_SETLK
            | FcntlCmd::F_OFD_SETLKW
    )
}

fn short(call: &Call) -> bool {
    use Syscall as S;
    let sc = call.syscall();
    let transfer = sc.transfer();
    // What the registers say the call asks for (not for vectored and msghdr calls).
    let asked = transfer.and_then(|t| t.requested());
    match sc {
        S::Sendmmsg(_) | S::Recvmmsg(_) => asked.is_some_and(|n| n >= 2),
        // getrandom(2): "reads of up to 256 bytes will always return as many bytes as
        // requested and will not be interrupted by signals"; larger ones are short when
        // interrupted, or above the 32 MiB - 1 a single call returns.
        S::Getrandom(c) => {
            c.buflen > 256 && (call.signals != Signals::NoHandler || c.buflen > 33_554_431)
        }
        _ => {
            let enough = match sc {
                S::Read(_) | S::Write(_) | S::Pwrite64(_) | S::Sendto(_) | S::Recvfrom(_) => {
                    asked.is_some_and(|n| n >= 2)
                }
                _ => true,
            };
            let write = transfer.is_some_and(|t| t.dir == Dir::Write);
            enough
                && match call.target {
                    Target::Unknown | Target::File => true,
                    // A blocking write to a stream waits for room for all of it; only a
                    // signal handler cuts it short.
                    Target::Stream => !write || call.nonblock || call.signals != Signals::NoHandler,
                    Target::Datagram | Target::Counter | Target::Other => false,
                }
        }
    }
}

fn errno_situation(call: &Call, e: Errno) -> bool {
    use Syscall as S;
    let t = call.target;
    let sc = call.syscall();
    let file_io = matches!(
        sc,
        S::Read(_)
            | S::Readv(_)
            | S::Write(_)
            | S::Writev(_)
            | S::Preadv(_)
            | S::Preadv2(_)
            | S::Pwritev(_)
            | S::Pwritev2(_)
            | S::Pwrite64(_)
            | S::Fsync(_)
            | S::Fdatasync(_)
            | S::Close(_)
    );
    let receive = matches!(sc, S::Recvfrom(_) | S::Recvmsg(_) | S::Recvmmsg(_));
    // `open`'s flags, `fcntl`'s command.
    let open = match sc {
        S::Open(c) => Some(c.flags),
        S::Openat(c) => Some(c.flags),
        _ => None,
    };
    let fcntl = match sc {
        S::Fcntl(c) => Some(c.cmd),
        _ => None,
    };
    match e {
        Errno::EIO | Errno::ENOSPC | Errno::EDQUOT if file_io => {
            matches!(t, Target::Unknown | Target::File)
        }
        Errno::ENOSPC | Errno::EDQUOT if open.is_some() => {
            open.is_some_and(|f| f.contains(OpenFlags::O_CREAT))
        }
        Errno::EMFILE if fcntl.is_some() => {
            fcntl.is_some_and(|c| matches!(c.get(), FcntlCmd::F_DUPFD | FcntlCmd::F_DUPFD_CLOEXEC))
        }
        _ if fcntl.is_some() => fcntl.is_some_and(|c| {
            is_lock_cmd(c) && c.get() != FcntlCmd::F_GETLK && c.get() != FcntlCmd::F_OFD_GETLK
        }),
        _ if matches!(sc, S::EpollCtl(_)) => {
            matches!(sc, S::EpollCtl(c) if c.op.get() == EpollOp::EPOLL_CTL_ADD)
        }
        Errno::EAGAIN if matches!(sc, S::Getrandom(_)) => {
            matches!(sc, S::Getrandom(c) if c.flags.contains(GrndFlags::GRND_NONBLOCK))
        }
        Errno::ECONNREFUSED if receive => matches!(t, Target::Unknown | Target::Datagram),
        Errno::ECONNREFUSED | Errno::ECONNRESET | Errno::ETIMEDOUT => {
            matches!(t, Target::Unknown | Target::Stream)
        }
        _ => true,
    }
}

/// Why takt never faults syscall `nr` (which has no table entry), for error messages.
pub(crate) fn not_injectable_reason(nr: u32) -> &'static str {
    match i64::from(nr) {
        libc::SYS_exit | libc::SYS_exit_group => "exiting cannot fail",
        libc::SYS_rt_sigreturn | libc::SYS_restart_syscall => {
            "it is the kernel's signal machinery, not a request the program makes"
        }
        libc::SYS_futex | libc::SYS_futex_waitv => {
            "glibc aborts on futex errors it does not expect (its mutexes, condition \
             variables and stdio locks are built on futex), so an injected error would be \
             a crash no real system produces"
        }
        libc::SYS_mmap
        | libc::SYS_munmap
        | libc::SYS_brk
        | libc::SYS_mprotect
        | libc::SYS_mremap
        | libc::SYS_madvise => {
            "memory calls run natively (the seccomp filter lets them through without a \
             stop), so takt never sees them"
        }
        libc::SYS_getpid
        | libc::SYS_gettid
        | libc::SYS_getppid
        | libc::SYS_getuid
        | libc::SYS_geteuid
        | libc::SYS_getgid
        | libc::SYS_getegid
        | libc::SYS_sched_yield => "it cannot fail (its man page documents no error)",
        libc::SYS_clock_gettime
        | libc::SYS_clock_getres
        | libc::SYS_gettimeofday
        | libc::SYS_time => "reading a valid clock cannot fail",
        libc::SYS_set_tid_address
        | libc::SYS_set_robust_list
        | libc::SYS_arch_prctl
        | libc::SYS_rseq => {
            "the C library sets it up once per thread and does not expect it to fail"
        }
        libc::SYS_execve | libc::SYS_execveat => {
            "every process's first execve is takt launching the program: a fault there \
             would fail the scenario, not test the program"
        }
        n if crate::syscall::ALLOWED.contains(&(n as u32)) => {
            "it runs natively (the seccomp filter lets it through without a stop), so \
             takt never sees it"
        }
        _ => {
            "takt has no fault table for it: its man page documents no error a correct \
             program can meet at run time, or takt does not handle the call"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syscalls::Sysno;

    #[test]
    fn entries_name_real_syscalls_and_real_errnos() {
        for e in TABLE {
            let sys = Sysno::new(e.nr as usize).expect("a syscall number");
            assert_eq!(sys.name(), e.name, "number {} is not {}", e.nr, e.name);
            assert!(!e.faults.is_empty(), "{}: empty entry", e.name);
            assert!(!e.man.is_empty());
            for (i, f) in e.faults.iter().enumerate() {
                assert!(!e.faults[..i].contains(f), "{}: {f} twice", e.name);
                if let Fault::Errno(x) = f {
                    assert!(x.0 > 0 && x.0 < 4096, "{}: {x:?}", e.name);
                    // ENOLCK is not in errno.rs's name table: the fault module names it.
                    let name = crate::fault::errno_name(*x);
                    assert_ne!(name, "E?", "{}: {x:?}", e.name);
                    assert!(
                        Errno::from_name(name) == Some(*x) || x.0 == libc::ENOLCK,
                        "{}: {name}",
                        e.name
                    );
                }
            }
            // An EINTR needs an interruption class, and only EINTR has one.
            assert_eq!(
                e.faults.contains(&EINTR),
                e.intr != Intr::No,
                "{}: EINTR and its class disagree",
                e.name
            );
        }
        let mut nrs: Vec<u32> = TABLE.iter().map(|e| e.nr).collect();
        nrs.sort_unstable();
        nrs.dedup();
        assert_eq!(nrs.len(), TABLE.len(), "a syscall is listed twice");
    }

    #[test]
    fn calls_that_must_never_fail_spuriously_are_absent() {
        for nr in [
            libc::SYS_exit,
            libc::SYS_exit_group,
            libc::SYS_rt_sigreturn,
            libc::SYS_restart_syscall,
            libc::SYS_futex,
            libc::SYS_mmap,
            libc::SYS_munmap,
            libc::SYS_brk,
            libc::SYS_mprotect,
            libc::SYS_getpid,
            libc::SYS_gettid,
            libc::SYS_getppid,
            libc::SYS_sched_yield,
            libc::SYS_clock_gettime,
            libc::SYS_set_tid_address,
            libc::SYS_arch_prctl,
            libc::SYS_rseq,
            libc::SYS_execve,
        ] {
            assert!(faults_for(nr as u32).is_none(), "{nr} has a fault table");
            assert!(!not_injectable_reason(nr as u32).is_empty());
        }
    }

    #[test]
    fn every_entry_is_a_call_takt_traps() {
        // The seccomp filter lets these through without a stop: an entry would be a rate
        // that never fires.
        for e in TABLE {
            assert!(
                !crate::syscall::ALLOWED.contains(&e.nr),
                "{} runs natively but has a fault table",
                e.name
            );
        }
        assert!(not_injectable_reason(libc::SYS_mprotect as u32).contains("natively"));
    }

    #[test]
    fn short_only_where_linux_allows_short_transfers() {
        let short_ok = [
            libc::SYS_read,
            libc::SYS_readv,
            libc::SYS_write,
            libc::SYS_writev,
            libc::SYS_preadv,
            libc::SYS_preadv2,
            libc::SYS_pwritev,
            libc::SYS_pwritev2,
            libc::SYS_pwrite64,
            libc::SYS_sendto,
            libc::SYS_sendmsg,
            libc::SYS_sendmmsg,
            libc::SYS_recvfrom,
            libc::SYS_recvmsg,
            libc::SYS_recvmmsg,
            libc::SYS_getrandom,
        ];
        for e in TABLE {
            if e.faults.contains(&SHORT) {
                assert!(short_ok.contains(&i64::from(e.nr)), "{}: short", e.name);
            }
        }
    }

    fn call(nr: i64, args: [u64; 6], target: Target, signals: Signals) -> Call {
        Call {
            target,
            signals,
            ..Call::new(nr as u32, args)
        }
    }

    #[test]
    fn eintr_follows_signal7() {
        let read = |t, s| call(libc::SYS_read, [3, 0, 100, 0, 0, 0], t, s);
        // Disk reads are not interrupted; pipe reads are, by a handler without SA_RESTART.
        assert!(!applies(&read(Target::File, Signals::Interrupting), EINTR));
        assert!(applies(&read(Target::Stream, Signals::Interrupting), EINTR));
        assert!(!applies(&read(Target::Stream, Signals::Restarting), EINTR));
        assert!(!applies(&read(Target::Stream, Signals::NoHandler), EINTR));
        assert!(applies(&read(Target::Unknown, Signals::Unknown), EINTR));
        // A nonblocking read answers EAGAIN, never EINTR.
        let mut nb = read(Target::Stream, Signals::Interrupting);
        nb.nonblock = true;
        assert!(!applies(&nb, EINTR));
        // poll is never restarted; epoll_wait is also interrupted by stop signals.
        let poll = |s| call(libc::SYS_poll, [0; 6], Target::Unknown, s);
        assert!(applies(&poll(Signals::Restarting), EINTR));
        assert!(!applies(&poll(Signals::NoHandler), EINTR));
        let ew = call(
            libc::SYS_epoll_wait,
            [0; 6],
            Target::Unknown,
            Signals::NoHandler,
        );
        assert!(applies(&ew, EINTR));
        // accept restarts under SA_RESTART.
        let acc = |s| call(libc::SYS_accept, [0; 6], Target::Stream, s);
        assert!(!applies(&acc(Signals::Restarting), EINTR));
        assert!(applies(&acc(Signals::Interrupting), EINTR));
        // Small getrandom calls are never interrupted.
        let gr = |n| {
            call(
                libc::SYS_getrandom,
                [0, n, 0, 0, 0, 0],
                Target::Unknown,
                Signals::Interrupting,
            )
        };
        assert!(!applies(&gr(256), EINTR));
        assert!(applies(&gr(4096), EINTR));
        assert!(!applies(&gr(16), SHORT));
        // waitpid(WNOHANG) does not wait.
        let w = call(
            libc::SYS_wait4,
            [0, 0, libc::WNOHANG as u64, 0, 0, 0],
            Target::Unknown,
            Signals::Interrupting,
        );
        assert!(!applies(&w, EINTR));
    }

    #[test]
    fn disk_errors_only_on_files() {
        let w = |t| call(libc::SYS_write, [1, 0, 10, 0, 0, 0], t, Signals::Unknown);
        for f in [EIO, ENOSPC, EDQUOT] {
            assert!(applies(&w(Target::File), f));
            assert!(!applies(&w(Target::Stream), f));
            assert!(!applies(&w(Target::Counter), f));
        }
        let c = |t| {
            call(
                libc::SYS_close,
                [3, 0, 0, 0, 0, 0],
                t,
                Signals::Interrupting,
            )
        };
        assert!(applies(&c(Target::File), EIO));
        assert!(!applies(&c(Target::Stream), EIO));
        assert!(!applies(&c(Target::Stream), EINTR));
        let open = |flags: i32| {
            call(
                libc::SYS_openat,
                [0, 0, flags as u64, 0, 0, 0],
                Target::Unknown,
                Signals::Unknown,
            )
        };
        assert!(applies(&open(libc::O_WRONLY | libc::O_CREAT), ENOSPC));
        assert!(!applies(&open(libc::O_RDONLY), ENOSPC));
        assert!(applies(&open(libc::O_RDONLY), EMFILE));
    }

    #[test]
    fn short_transfers_follow_the_socket_type() {
        let rv = |t| {
            call(
                libc::SYS_recvfrom,
                [3, 0, 100, 0, 0, 0],
                t,
                Signals::NoHandler,
            )
        };
        assert!(applies(&rv(Target::Stream), SHORT));
        assert!(!applies(&rv(Target::Datagram), SHORT));
        assert!(applies(&rv(Target::Datagram), ECONNREFUSED));
        assert!(!applies(&rv(Target::Stream), ECONNREFUSED));
        assert!(applies(&rv(Target::Stream), ECONNRESET));
        assert!(!applies(&rv(Target::Datagram), ECONNRESET));
        // One byte cannot be cut short.
        let one = call(
            libc::SYS_read,
            [3, 0, 1, 0, 0, 0],
            Target::Stream,
            Signals::Unknown,
        );
        assert!(!applies(&one, SHORT));
        // A blocking stream write is short only when a handler interrupts it.
        let w = |s, nb| Call {
            nonblock: nb,
            ..call(libc::SYS_write, [3, 0, 100, 0, 0, 0], Target::Stream, s)
        };
        assert!(!applies(&w(Signals::NoHandler, false), SHORT));
        assert!(applies(&w(Signals::NoHandler, true), SHORT));
        assert!(applies(&w(Signals::Restarting, false), SHORT));
        let ev = call(
            libc::SYS_read,
            [3, 0, 8, 0, 0, 0],
            Target::Counter,
            Signals::Unknown,
        );
        assert!(!applies(&ev, SHORT));
        assert!(applies(&ev, EINTR));
    }

    #[test]
    fn argument_conditions() {
        let fc = |cmd: i32| {
            call(
                libc::SYS_fcntl,
                [3, cmd as u64, 0, 0, 0, 0],
                Target::File,
                Signals::Interrupting,
            )
        };
        assert!(applies(&fc(libc::F_DUPFD_CLOEXEC), EMFILE));
        assert!(!applies(&fc(libc::F_SETFL), EMFILE));
        assert!(!applies(&fc(libc::F_SETFL), EINTR));
        assert!(!applies(&fc(libc::F_SETFL), ENOLCK));
        assert!(applies(&fc(libc::F_SETLKW), EINTR));
        assert!(applies(&fc(libc::F_SETLK), ENOLCK));
        assert!(!applies(&fc(libc::F_GETLK), ENOLCK));
        let ctl = |op: i32| {
            call(
                libc::SYS_epoll_ctl,
                [3, op as u64, 4, 0, 0, 0],
                Target::Other,
                Signals::Unknown,
            )
        };
        assert!(applies(&ctl(libc::EPOLL_CTL_ADD), ENOSPC));
        assert!(!applies(&ctl(libc::EPOLL_CTL_DEL), ENOMEM));
        let gr = |flags: u32| {
            call(
                libc::SYS_getrandom,
                [0, 16, flags as u64, 0, 0, 0],
                Target::Unknown,
                Signals::Unknown,
            )
        };
        assert!(applies(&gr(libc::GRND_NONBLOCK), EAGAIN));
        assert!(!applies(&gr(0), EAGAIN));
        let fl = |op: i32| {
            call(
                libc::SYS_flock,
                [3, op as u64, 0, 0, 0, 0],
                Target::File,
                Signals::Interrupting,
            )
        };
        assert!(applies(&fl(libc::LOCK_EX), EINTR));
        assert!(!applies(&fl(libc::LOCK_EX | libc::LOCK_NB), EINTR));
        // Not in the table at all.
        assert!(!applies(&Call::new(libc::SYS_read as u32, [0; 6]), ENOSPC));
        assert!(!applies(&Call::new(libc::SYS_futex as u32, [0; 6]), EINTR));
    }

    #[test]
    fn only_close_keeps_its_effect() {
        assert!(error_keeps_effect(libc::SYS_close as u32));
        assert!(!error_keeps_effect(libc::SYS_dup2 as u32));
    }
}
