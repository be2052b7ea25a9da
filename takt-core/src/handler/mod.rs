//! Syscall handlers: one module per family, and the one dispatch table.
//!
//! The table has three visible groups: calls the seccomp filter lets run natively
//! ([`ALLOWED`]: pure memory and compute), calls the core emulates or observes (the
//! `match` in [`dispatch`]), and everything else, which fails closed with `ENOSYS` and a
//! once-per-call warning in the report.
//!
//! A handler answers with an [`Out`]: a value to return (the call is skipped), pass the
//! call to the kernel (optionally with a [`Post`] action at its exit), rewrite it into
//! another call, or park the thread ([`Blocked`]) until something it waits on changes.

#![deny(clippy::arithmetic_side_effects)]
pub mod contain;
pub mod file;
pub mod futex;
pub mod guest;
pub mod inject;
pub mod io;
pub mod poll;
pub mod process;
pub mod sem;
pub mod signal;
pub mod socket;
pub mod sockopt;
pub mod time;
pub mod timer;

#[cfg(test)]
mod tests;

use crate::engine::{Engine, Vtid};
use crate::errno::Errno;
use crate::fd::Obj;
use crate::sys;
use crate::syscall::Syscall;
use crate::time::VTime;
use std::path::PathBuf;

/// An action run at the syscall-exit stop with the kernel's return value; returns a
/// replacement return value.
pub enum Post {
    /// A closure (the form being replaced by typed variants, one enum per family).
    Fn(PostFn),
    /// At the exit of an I/O call.
    Io(io::Exit),
    /// At the exit of a readiness call.
    Poll(poll::Exit),
    /// At the exit of a socket call.
    Socket(socket::Exit),
}

/// The closure inside a [`Post`].
type PostFn = Box<dyn FnOnce(&mut Engine, Vtid, i64) -> Option<i64>>;

impl std::fmt::Debug for Post {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Post")
    }
}

impl Post {
    /// Wraps a closure.
    pub fn new(f: impl FnOnce(&mut Engine, Vtid, i64) -> Option<i64> + 'static) -> Post {
        Post::Fn(Box::new(f))
    }

    pub(crate) fn call(self, e: &mut Engine, tid: Vtid, ret: i64) -> Option<i64> {
        match self {
            Post::Fn(f) => f(e, tid, ret),
            Post::Io(x) => x.run(e, tid, ret),
            Post::Poll(x) => x.run(e, tid, ret),
            Post::Socket(x) => x.run(e, tid, ret),
        }
    }
}

/// A handler's answer.
#[derive(Debug)]
pub enum Out {
    /// Skip the call; it returns this value.
    Return(i64),
    /// Let the kernel run it.
    Pass,
    /// Let the kernel run it, then run the action at its exit.
    PassThen(Post),
    /// Run another call instead (same stop), with an optional action at its exit.
    Rewrite {
        /// The new number.
        nr: i64,
        /// The new arguments.
        args: [u64; 6],
        /// Action at exit.
        post: Option<Post>,
    },
    /// Park the thread until something it waits on changes (then the handler runs
    /// again), its deadline passes, or a signal interrupts it.
    Block(Blocked),
    /// Skip the call and execute it again when the thread next runs (after a handler).
    Restart,
}

/// Why and how long a thread is parked.
#[derive(Debug, Clone)]
pub struct Blocked {
    /// Objects whose change makes the handler run again.
    pub objs: Vec<Obj>,
    /// A child's state change makes the handler run again (`wait4`).
    pub child: bool,
    /// When the call gives up.
    pub deadline: Option<VTime>,
    /// What it returns then.
    pub on_timeout: i64,
    /// Restart after a `SA_RESTART` handler (otherwise `EINTR`).
    pub restartable: bool,
    /// For deadlock reports.
    pub what: &'static str,
    /// Tracee memory written when the deadline passes (`select`'s emptied sets).
    pub timeout_writes: Vec<(u64, Vec<u8>)>,
    /// Where the time left until the deadline is written when a signal interrupts the
    /// call (`nanosleep`'s `rem`, `select`'s timeval).
    pub remaining: Option<Remaining>,
}

/// Where and how a blocked call reports the time it had left when a signal cut it short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remaining {
    /// A `struct timespec` at this address.
    Timespec(u64),
    /// A `struct timeval` at this address.
    Timeval(u64),
}

impl Remaining {
    /// The bytes of `ns` nanoseconds in this form.
    pub(crate) fn bytes(self, ns: u64) -> (u64, Vec<u8>) {
        let (sec, sub) = ((ns / 1_000_000_000) as i64, ns % 1_000_000_000);
        match self {
            Remaining::Timespec(a) => (
                a,
                sys::pod_bytes(&libc::timespec {
                    tv_sec: sec,
                    tv_nsec: sub as i64,
                })
                .to_vec(),
            ),
            Remaining::Timeval(a) => (
                a,
                sys::pod_bytes(&libc::timeval {
                    tv_sec: sec,
                    tv_usec: (sub / 1000) as i64,
                })
                .to_vec(),
            ),
        }
    }
}

impl Blocked {
    /// Parked on nothing in particular (only a deadline, a wake or a signal ends it).
    pub fn new(what: &'static str) -> Blocked {
        Blocked {
            objs: Vec::new(),
            child: false,
            deadline: None,
            on_timeout: 0,
            restartable: true,
            what,
            timeout_writes: Vec::new(),
            remaining: None,
        }
    }

    /// Waiting on objects.
    pub fn on(objs: Vec<Obj>, what: &'static str) -> Blocked {
        Blocked {
            objs,
            ..Blocked::new(what)
        }
    }

    /// With a deadline and the value returned when it passes.
    pub fn until(mut self, deadline: Option<VTime>, on_timeout: i64) -> Blocked {
        self.deadline = deadline;
        self.on_timeout = on_timeout;
        self
    }

    /// Not restarted after a signal handler (calls Linux never restarts: poll, sleeps…).
    pub fn no_restart(mut self) -> Blocked {
        self.restartable = false;
        self
    }

    /// Writes the time left at `r` when a signal interrupts the call.
    pub fn remaining(mut self, r: Remaining) -> Blocked {
        self.remaining = Some(r);
        self
    }
}

/// The deadline of the call `tid` is in: the one it already waits with when it was woken
/// and runs its handler again (a wake-up that changes nothing must not push the time-out
/// back), else `fresh`, computed from the call's arguments.
pub(crate) fn keep_deadline(e: &Engine, tid: Vtid, fresh: Option<VTime>) -> Option<VTime> {
    match e.threads[&tid].timer {
        Some(id) => Some(id.at()),
        None => fresh,
    }
}

/// What a handler returns.
pub type Res = Result<Out, Errno>;

/// Syscalls the seccomp filter lets run natively: memory management and pure queries
/// whose results are deterministic for a given program (identity of the filesystem
/// aside). They cost nothing under takt.
pub const ALLOWED: [u32; 37] = [
    libc::SYS_mmap as u32,
    libc::SYS_mprotect as u32,
    libc::SYS_munmap as u32,
    libc::SYS_brk as u32,
    libc::SYS_rt_sigprocmask as u32,
    libc::SYS_rt_sigreturn as u32,
    libc::SYS_mremap as u32,
    libc::SYS_mincore as u32,
    libc::SYS_madvise as u32,
    libc::SYS_mlock as u32,
    libc::SYS_munlock as u32,
    libc::SYS_sigaltstack as u32,
    libc::SYS_arch_prctl as u32,
    libc::SYS_set_robust_list as u32,
    libc::SYS_get_robust_list as u32,
    libc::SYS_restart_syscall as u32,
    libc::SYS_getuid as u32,
    libc::SYS_getgid as u32,
    libc::SYS_geteuid as u32,
    libc::SYS_getegid as u32,
    libc::SYS_getresuid as u32,
    libc::SYS_getresgid as u32,
    libc::SYS_getgroups as u32,
    libc::SYS_getrlimit as u32,
    libc::SYS_prlimit64 as u32,
    libc::SYS_capget as u32,
    libc::SYS_getcwd as u32,
    libc::SYS_lseek as u32,
    libc::SYS_access as u32,
    libc::SYS_faccessat as u32,
    libc::SYS_faccessat2 as u32,
    libc::SYS_readlink as u32,
    libc::SYS_readlinkat as u32,
    libc::SYS_pread64 as u32,
    libc::SYS_umask as u32,
    libc::SYS_fadvise64 as u32,
    libc::SYS_getpgrp as u32,
];

/// The one dispatch table, by family: calls the core emulates or observes, file calls
/// observed for their metadata and durability, calls passed to the kernel, calls that
/// are contained, and everything else, which fails closed.
pub fn dispatch(e: &mut Engine, tid: Vtid, nr: u32, a: [u64; 6]) -> Res {
    let call = Syscall::decode(nr, a);
    if let Some(r) = io_call(e, tid, &call, nr, a) {
        return r;
    }
    if let Some(r) = process_call(e, tid, &call, nr, a) {
        return r;
    }
    if let Some(r) = file_call(e, tid, &call, nr, a) {
        return r;
    }
    if passed(nr) {
        return Ok(Out::Pass);
    }
    if let Some(r) = contained_call(e, tid, &call, nr, a) {
        return r;
    }
    refused(e, nr)
}

/// I/O, readiness, sockets, futexes and System V semaphores: emulated or observed by
/// the core.
fn io_call(e: &mut Engine, tid: Vtid, call: &Syscall, _nr: u32, _a: [u64; 6]) -> Option<Res> {
    use Syscall as S;
    Some(match *call {
        S::Read(c) => io::read(e, tid, c),
        S::Write(c) => io::write(e, tid, c),
        S::Readv(c) => io::readv(e, tid, c),
        S::Writev(c) => io::writev(e, tid, c),
        S::Close(c) => io::close(e, tid, c),
        S::CloseRange(c) => io::close_range(e, tid, c),
        S::Pipe(c) => io::pipe(e, tid, c.pipefd, 0),
        S::Pipe2(c) => io::pipe(e, tid, c.pipefd, c.flags.get() as i32),
        S::Eventfd(c) => io::eventfd(e, tid, c.initval.get(), 0),
        S::Eventfd2(c) => io::eventfd(e, tid, c.initval.get(), c.flags.get() as i32),
        S::Dup(c) => io::dup(e, tid, c.oldfd.get(), None, 0),
        S::Dup2(c) => io::dup(e, tid, c.oldfd.get(), Some(c.newfd.get()), 0),
        S::Dup3(c) => {
            let flags = c.flags.get() as i32;
            io::dup(e, tid, c.oldfd.get(), Some(c.newfd.get()), flags)
        }
        S::Fcntl(c) => io::fcntl(e, tid, c),
        S::Ioctl(c) => io::ioctl(e, tid, c),
        S::Open(c) => io::open(e, tid, io::OpenCall::Open(c)),
        S::Openat(c) => io::open(e, tid, io::OpenCall::Openat(c)),
        S::Creat(c) => io::open(e, tid, io::OpenCall::Creat(c)),
        S::Sendfile(_)
        | S::Splice(_)
        | S::Tee(_)
        | S::CopyFileRange(_)
        | S::Preadv(_)
        | S::Preadv2(_) => between_fds(e, tid, call),
        S::Poll(c) => poll::poll(e, tid, c.fds, c.nfds.get(), timeout_ms(e, c.timeout.get())),
        S::Ppoll(c) => poll::ppoll(e, tid, c),
        S::Select(c) => poll::select(e, tid, c),
        S::Pselect6(c) => poll::pselect6(e, tid, c),
        S::EpollCreate(_) => poll::epoll_create(e, tid, false),
        S::EpollCreate1(c) => {
            poll::epoll_create(e, tid, c.flags.contains(libc::EPOLL_CLOEXEC as u32))
        }
        S::EpollCtl(c) => poll::epoll_ctl(e, tid, c),
        S::EpollWait(c) => poll::epoll_wait(e, tid, c),
        S::EpollPwait(c) => poll::epoll_pwait(e, tid, c),
        S::EpollPwait2(c) => poll::epoll_pwait2(e, tid, c),
        S::Socket(_)
        | S::Socketpair(_)
        | S::Bind(_)
        | S::Listen(_)
        | S::Accept(_)
        | S::Accept4(_)
        | S::Connect(_)
        | S::Sendto(_)
        | S::Recvfrom(_)
        | S::Sendmsg(_)
        | S::Recvmsg(_)
        | S::Sendmmsg(_)
        | S::Recvmmsg(_)
        | S::Shutdown(_)
        | S::Getsockname(_)
        | S::Getpeername(_)
        | S::Setsockopt(_)
        | S::Getsockopt(_) => socket::dispatch(e, tid, call),
        S::Futex(c) => futex::futex(e, tid, c),
        S::FutexWaitv(c) => futex::futex_waitv(e, tid, c),
        S::Semget(c) => sem::semget(e, tid, c),
        S::Semop(c) => sem::semop(e, tid, c),
        S::Semtimedop(c) => sem::semtimedop(e, tid, c),
        S::Semctl(c) => sem::semctl(e, tid, c),
        S::Shmget(c) => sem::shmget(e, c.key.get() as i32),
        S::SchedYield(_) => {
            e.yielded(tid);
            Ok(Out::Return(0))
        }
        _ => return None,
    })
}

/// Time, processes, signals and timers: emulated by the core.
#[allow(non_upper_case_globals)]
fn process_call(e: &mut Engine, tid: Vtid, _call: &Syscall, nr: u32, a: [u64; 6]) -> Option<Res> {
    use libc::*;
    Some(match nr as i64 {
        SYS_clock_gettime => time::clock_gettime(e, tid, a[0] as i32, a[1]),
        SYS_gettimeofday => time::gettimeofday(e, tid, a[0], a[1]),
        SYS_time => time::time(e, tid, a[0]),
        SYS_clock_getres => time::clock_getres(e, tid, a[0] as i32, a[1]),
        SYS_nanosleep => time::nanosleep(e, tid, a, false),
        SYS_clock_nanosleep => time::nanosleep(e, tid, a, true),
        SYS_alarm => time::alarm(e, tid, a[0]),
        SYS_setitimer => time::setitimer(e, tid, a),
        SYS_getitimer => time::getitimer(e, tid, a),
        SYS_times => time::times(e, tid, a[0]),
        SYS_getrusage => time::getrusage(e, tid, a[0] as i32, a[1]),
        SYS_sysinfo => time::sysinfo(e, tid, a[0]),
        SYS_getrandom => time::getrandom(e, tid, a[0], a[1], a[2]),
        SYS_uname => process::uname(e, tid, a[0]),
        SYS_sched_getaffinity => process::sched_getaffinity(e, tid, a[1], a[2]),
        SYS_sched_setaffinity => Ok(Out::Return(0)), // the scenario stays pinned
        SYS_getcpu => process::getcpu(e, tid, a[0], a[1]),
        SYS_getpid => Ok(Out::Return(e.threads[&tid].pid as i64)),
        SYS_gettid => Ok(Out::Return(tid as i64)),
        SYS_getppid => Ok(Out::Return(e.procs[&e.threads[&tid].pid].ppid as i64)),
        SYS_set_tid_address => process::set_tid_address(e, tid, a[0]),
        SYS_clone => process::clone(e, tid, a),
        SYS_clone3 => process::clone3(e, tid, a),
        SYS_fork => process::fork(e, tid),
        SYS_vfork => process::vfork(e, tid),
        SYS_execve | SYS_execveat => process::execve(e, tid),
        SYS_exit => Ok(Out::Pass),
        SYS_exit_group => process::exit_group(e, tid),
        SYS_wait4 => process::wait4(e, tid, a),
        SYS_waitid => process::waitid(e, tid, a),
        SYS_kill => process::kill(e, tid, a),
        SYS_tgkill => process::tgkill(e, tid, a[0] as i32, a[1] as i32, a[2] as i32),
        SYS_tkill => process::tgkill(e, tid, -1, a[0] as i32, a[1] as i32),
        SYS_rt_sigqueueinfo => process::rt_sigqueueinfo(e, tid, a),
        SYS_rt_tgsigqueueinfo => process::tgkill(e, tid, a[0] as i32, a[1] as i32, a[2] as i32),
        SYS_rt_sigaction => process::rt_sigaction(e, tid, a),
        SYS_pause => Ok(Out::Block(
            Blocked::new("a signal")
                .no_restart()
                .until(None, Errno::EINTR.ret()),
        )),
        SYS_rt_sigsuspend => signal::rt_sigsuspend(e, tid, a),
        SYS_rt_sigtimedwait => signal::rt_sigtimedwait(e, tid, a),
        SYS_rt_sigpending => Ok(Out::Pass), // the kernel holds the pending sets
        SYS_signalfd => signal::signalfd(e, tid, a, false),
        SYS_signalfd4 => signal::signalfd(e, tid, a, true),
        SYS_timer_create => timer::timer_create(e, tid, a),
        SYS_timer_settime => timer::timer_settime(e, tid, a),
        SYS_timer_gettime => timer::timer_gettime(e, tid, a),
        SYS_timer_getoverrun => timer::timer_getoverrun(e, tid, a),
        SYS_timer_delete => timer::timer_delete(e, tid, a),
        SYS_timerfd_create => timer::timerfd_create(e, tid, a),
        SYS_timerfd_settime => timer::timerfd_settime(e, tid, a),
        SYS_timerfd_gettime => timer::timerfd_gettime(e, tid, a),
        SYS_prctl => process::prctl(e, tid, a),
        SYS_flock => Ok(Out::Pass),

        _ => return None,
    })
}

/// Files: observed for their metadata and durability (the kernel runs them).
#[allow(non_upper_case_globals)]
fn file_call(e: &mut Engine, tid: Vtid, _call: &Syscall, nr: u32, a: [u64; 6]) -> Option<Res> {
    use libc::*;
    Some(match nr as i64 {
        SYS_stat | SYS_lstat => file::stat(None, a[1]),
        SYS_fstat => file::stat(Some(a[0] as i32), a[1]),
        SYS_newfstatat => {
            let fd = file::empty_path_fd(e, tid, a[0] as i32, a[1], a[3] as i32);
            file::stat(fd, a[2])
        }
        SYS_statx => {
            let fd = file::empty_path_fd(e, tid, a[0] as i32, a[1], a[2] as i32);
            file::statx(fd, a[4])
        }
        SYS_statfs | SYS_fstatfs => file::statfs(a[1]),
        SYS_getdents64 => file::getdents64(e, tid, a[0] as i32, a[1], a[2]),
        SYS_pwrite64 => {
            file::before_write(e, tid, a[0] as i32, Some(a[3]), a[2]);
            Ok(Out::Pass)
        }
        SYS_pwritev | SYS_pwritev2 => file_pwritev(e, tid, _call),
        SYS_ftruncate => {
            let path = PathBuf::from(format!("/proc/{}/fd/{}", e.real(tid), a[0] as i32));
            file::before_truncate(e, tid, path, a[1] as i64);
            Ok(Out::Pass)
        }
        SYS_truncate => file::truncate(e, tid, a[0], a[1] as i64),
        SYS_fallocate => {
            file::before_fallocate(e, tid, a[0] as i32, a[1] as i32, a[2], a[3]);
            Ok(Out::Pass)
        }
        SYS_fsync | SYS_fdatasync => {
            file::synced(e, tid, a[0] as i32);
            Ok(Out::Pass)
        }
        SYS_sync_file_range => {
            let both = (libc::SYNC_FILE_RANGE_WRITE | libc::SYNC_FILE_RANGE_WAIT_AFTER) as u64;
            if a[3] & both == both {
                file::synced(e, tid, a[0] as i32);
            }
            Ok(Out::Pass)
        }
        SYS_sync | SYS_syncfs => {
            file::synced_all(e, tid);
            Ok(Out::Pass)
        }
        SYS_mkdir => file::make(e, tid, AT_FDCWD, a[0]),
        SYS_mkdirat => file::make(e, tid, a[0] as i32, a[1]),
        SYS_symlink | SYS_link => file::make(e, tid, AT_FDCWD, a[1]),
        SYS_symlinkat => file::make(e, tid, a[1] as i32, a[2]),
        SYS_linkat => file::make(e, tid, a[2] as i32, a[3]),
        SYS_unlink | SYS_rmdir => file::remove(e, tid, AT_FDCWD, a[0]),
        SYS_unlinkat => file::remove(e, tid, a[0] as i32, a[1]),
        SYS_rename => file::rename(e, tid, [AT_FDCWD; 2], [a[0], a[1]], 0),
        SYS_renameat => file::rename(e, tid, [a[0] as i32, a[2] as i32], [a[1], a[3]], 0),
        SYS_renameat2 => file::rename(e, tid, [a[0] as i32, a[2] as i32], [a[1], a[3]], a[4]),
        SYS_chmod | SYS_chown | SYS_lchown => file::status_changed(e, tid, AT_FDCWD, a[0]),
        SYS_fchmodat | SYS_fchownat => file::status_changed(e, tid, a[0] as i32, a[1]),
        SYS_fchmod | SYS_fchown => file::fd_status_changed(e, tid, a[0] as i32),
        SYS_utimensat => file::utimensat(e, tid, a),
        SYS_utimes => file::utimes(e, tid, AT_FDCWD, a[0], a[1], true),
        SYS_futimesat => file::utimes(e, tid, a[0] as i32, a[1], a[2], true),
        SYS_utime => file::utimes(e, tid, AT_FDCWD, a[0], a[1], false),
        SYS_mmap => file::mmap(e, tid, a),
        SYS_msync => file::msync(e, tid, a),

        _ => return None,
    })
}

/// Passed to the kernel: files, directories, identity; and what the seccomp filter lets
/// run natively ([`ALLOWED`]) when it stops anyway.
#[allow(non_upper_case_globals)]
fn passed(nr: u32) -> bool {
    use libc::*;
    matches!(
        nr as i64,
        SYS_chdir
            | SYS_fchdir
            | SYS_getxattr
            | SYS_lgetxattr
            | SYS_fgetxattr
            | SYS_listxattr
            | SYS_llistxattr
            | SYS_flistxattr
            | SYS_setxattr
            | SYS_fsetxattr
            | SYS_lsetxattr
            | SYS_removexattr
            | SYS_getdents
            | SYS_setpgid
            | SYS_getpgid
            | SYS_setsid
            | SYS_getsid
            | SYS_setuid
            | SYS_setgid
            | SYS_setreuid
            | SYS_setregid
            | SYS_setresuid
            | SYS_setresgid
            | SYS_setgroups
            | SYS_capset
            | SYS_setrlimit
            | SYS_getpriority
            | SYS_setpriority
            | SYS_sched_getparam
            | SYS_sched_setparam
            | SYS_sched_getscheduler
            | SYS_sched_setscheduler
            | SYS_sched_get_priority_max
            | SYS_sched_get_priority_min
            | SYS_mlockall
            | SYS_munlockall
            | SYS_membarrier
            | SYS_shmat
            | SYS_shmdt
            | SYS_shmctl
            | SYS_memfd_create
            | SYS_personality
            | SYS_name_to_handle_at
            | SYS_inotify_init1
            | SYS_inotify_add_watch
            | SYS_inotify_rm_watch
            | SYS_ioprio_get
            | SYS_ioprio_set
            | SYS_pkey_alloc
            | SYS_pkey_free
            | SYS_pkey_mprotect
            | SYS_mlock2
            | SYS_sched_setattr
            | SYS_sched_getattr
    ) || ALLOWED.contains(&nr)
}

/// Contained: calls that would reach the host outside the scenario are emulated within
/// it or refused.
#[allow(non_upper_case_globals)]
fn contained_call(e: &mut Engine, tid: Vtid, _call: &Syscall, nr: u32, a: [u64; 6]) -> Option<Res> {
    use libc::*;
    Some(match nr as i64 {
        SYS_mknod => contain::mknod(e, nr, a[1]),
        SYS_mknodat => contain::mknod(e, nr, a[2]),
        SYS_unshare => contain::unshare(e, nr, a[0]),
        SYS_sethostname => contain::set_uts(e, tid, false, a[0], a[1]),
        SYS_setdomainname => contain::set_uts(e, tid, true, a[0], a[1]),
        SYS_adjtimex => contain::adjtimex(e, tid, nr, None, a[0]),
        SYS_clock_adjtime => contain::adjtimex(e, tid, nr, Some(a[0] as i32), a[1]),
        SYS_mount
        | SYS_umount2
        | SYS_open_tree
        | SYS_move_mount
        | SYS_fsopen
        | SYS_fsconfig
        | SYS_fsmount
        | SYS_fspick
        | SYS_mount_setattr
        | SYS_chroot
        | SYS_pivot_root
        | SYS_swapon
        | SYS_swapoff
        | SYS_quotactl
        | SYS_quotactl_fd
        | SYS_acct
        | SYS_open_by_handle_at
        | SYS_fanotify_init => contain::refuse(e, nr, "filesystems of the host"),
        SYS_setns => contain::refuse(e, nr, "namespaces are not modelled"),
        SYS_settimeofday | SYS_clock_settime => {
            contain::refuse(e, nr, "the virtual clock cannot be set")
        }
        SYS_reboot | SYS_kexec_load | SYS_kexec_file_load | SYS_init_module | SYS_finit_module
        | SYS_delete_module | SYS_bpf | SYS_perf_event_open | SYS_iopl | SYS_ioperm
        | SYS_syslog | SYS_vhangup | SYS_lookup_dcookie | SYS_nfsservctl => {
            contain::refuse(e, nr, "the host's kernel")
        }
        SYS_ptrace | SYS_process_vm_readv | SYS_process_vm_writev | SYS_kcmp | SYS_pidfd_getfd => {
            contain::refuse(e, nr, "other processes are the tracer's")
        }
        SYS_keyctl | SYS_add_key | SYS_request_key => {
            contain::refuse(e, nr, "the host's kernel keyrings")
        }

        _ => return None,
    })
}

/// Refused: `rseq` and `io_uring_setup` with a note (libc falls back), everything else
/// with a warning (fail closed).
#[allow(non_upper_case_globals)]
fn refused(e: &mut Engine, nr: u32) -> Res {
    use libc::*;
    match nr as i64 {
        // --- refused without a warning: libc falls back ----------------------------------
        SYS_rseq | SYS_io_uring_setup => {
            let name = syscalls::Sysno::new(nr as usize).map_or("?", |s| s.name());
            e.note(format!("{name} answered ENOSYS (libc falls back)"));
            Err(Errno::ENOSYS)
        }

        // --- unsupported: fail closed --------------------------------------------------
        _ => {
            let name = syscalls::Sysno::new(nr as usize)
                .map_or_else(|| format!("syscall {nr}"), |s| s.name().to_string());
            e.warn(format!("unsupported syscall {name} answered ENOSYS"));
            Err(Errno::ENOSYS)
        }
    }
}

/// `sendfile`, `splice`, `tee`, `copy_file_range`, `preadv`, `preadv2`: the kernel
/// moves the data (between fds it holds); a regular file written to is observed.
fn between_fds(e: &mut Engine, tid: Vtid, call: &Syscall) -> Res {
    let out = io::kernel_only(e, tid, call)?;
    let (nr, a) = call.encode();
    file::before_copy(e, tid, nr, a);
    Ok(out)
}

/// `pwritev`, `pwritev2` on a file the kernel holds: observed as a write of the iovecs'
/// total length at the offset (`pos_l`).
fn file_pwritev(e: &mut Engine, tid: Vtid, call: &Syscall) -> Res {
    let (fd, iov, iovcnt, pos) = match *call {
        Syscall::Pwritev(c) => (c.fd, c.iov, c.iovcnt, c.pos_l),
        Syscall::Pwritev2(c) => (c.fd, c.iov, c.iovcnt, c.pos_l),
        _ => return Ok(Out::Pass),
    };
    io::kernel_only(e, tid, call)?;
    let len = guest::iovecs(e, tid, iov.addr(), iovcnt, Errno::EINVAL)?
        .iter()
        .fold(0u64, |n, r| n.saturating_add(r.1 as u64));
    file::before_write(e, tid, fd.get(), Some(pos as u64), len);
    Ok(Out::Pass)
}

/// The most tracee memory read in one piece (see [`Engine::read_mem`]).
const MAX_READ: usize = 16 << 20;

/// A poll-style timeout in milliseconds (negative: forever) as a deadline.
fn timeout_ms(e: &Engine, ms: i32) -> Option<VTime> {
    (ms >= 0).then(|| e.now.plus_nanos(guest::nanos(0, ms as u64, 1_000_000)))
}

impl Engine {
    /// The real tid used to access the memory of thread `tid`.
    pub(crate) fn real(&self, tid: Vtid) -> sys::RealTid {
        self.threads[&tid].real
    }

    /// Reads `len` bytes of tracee memory (`EFAULT` on a bad address). Callers size
    /// `len` from checked guest values (see [`guest`]); the cap here is a backstop so
    /// that no guest value ever sizes a larger allocation in the tracer.
    pub(crate) fn read_mem(&self, tid: Vtid, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
        if len > MAX_READ {
            debug_assert!(false, "unchecked guest length {len} reached read_mem");
            return Err(Errno::ENOMEM);
        }
        let mut buf = vec![0u8; len];
        self.read_into(tid, addr, &mut buf)?;
        Ok(buf)
    }

    /// Fills `buf` from tracee memory at `addr` (`EFAULT` on a bad address). The one
    /// place a handler reads guest memory (in handler unit tests: their local memory).
    pub(crate) fn read_into(&self, tid: Vtid, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        #[cfg(test)]
        if let Some(m) = &self.local_mem {
            use crate::syscall::capture::GuestMemory;
            return m.borrow().read(addr, buf);
        }
        sys::read_mem(self.real(tid), addr, buf).map_err(|_| Errno::EFAULT)
    }

    /// Reads the pieces `ranges` of tracee memory into `buf`, in order; returns the bytes
    /// read (fewer when a piece faults after the first).
    pub(crate) fn read_vectored(
        &self,
        tid: Vtid,
        ranges: &[(u64, usize)],
        buf: &mut [u8],
    ) -> Result<usize, Errno> {
        #[cfg(test)]
        if self.local_mem.is_some() {
            let mut at = 0usize;
            for &(a, l) in ranges {
                let end = at.saturating_add(l).min(buf.len());
                if self.read_into(tid, a, &mut buf[at..end]).is_err() {
                    return if at == 0 { Err(Errno::EFAULT) } else { Ok(at) };
                }
                at = end;
            }
            return Ok(at);
        }
        sys::read_mem_vectored(self.real(tid), ranges, buf).map_err(|_| Errno::EFAULT)
    }

    /// Writes `data` over the pieces `ranges` of tracee memory, in order.
    pub(crate) fn write_vectored(
        &self,
        tid: Vtid,
        ranges: &[(u64, usize)],
        data: &[u8],
    ) -> Result<(), Errno> {
        #[cfg(test)]
        if self.local_mem.is_some() {
            let mut at = 0usize;
            for &(a, l) in ranges {
                let end = at.saturating_add(l).min(data.len());
                self.write_mem(tid, a, &data[at..end])?;
                at = end;
            }
            return Ok(());
        }
        sys::write_mem_vectored(self.real(tid), ranges, data).map_err(|_| Errno::EFAULT)
    }

    /// Reads a plain value from tracee memory.
    pub(crate) fn read_val<T: sys::Pod>(&self, tid: Vtid, addr: u64) -> Result<T, Errno> {
        let bytes = self.read_mem(tid, addr, std::mem::size_of::<T>())?;
        Ok(sys::pod_read(&bytes))
    }

    /// Writes bytes into tracee memory.
    pub(crate) fn write_mem(&self, tid: Vtid, addr: u64, data: &[u8]) -> Result<(), Errno> {
        #[cfg(test)]
        if let Some(m) = &self.local_mem {
            return m.borrow_mut().write(addr, data);
        }
        sys::write_mem(self.real(tid), addr, data).map_err(|_| Errno::EFAULT)
    }

    /// Writes a plain value into tracee memory.
    pub(crate) fn write_val<T: sys::Pod>(&self, tid: Vtid, addr: u64, v: &T) -> Result<(), Errno> {
        self.write_mem(tid, addr, sys::pod_bytes(v))
    }

    /// Reads a NUL-terminated string (at most 4096 bytes).
    pub(crate) fn read_cstr(&self, tid: Vtid, addr: u64) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 256];
        while out.len() < 4096 {
            // Read up to the end of the page, so a string near a page end does not fault.
            let at = guest::offset(addr, out.len() as u64)?;
            let page_left = 4096usize.saturating_sub((at % 4096) as usize);
            let n = chunk.len().min(page_left);
            self.read_into(tid, at, &mut chunk[..n])?;
            if let Some(z) = chunk[..n].iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..z]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk[..n]);
        }
        Err(Errno::ENAMETOOLONG)
    }
}
