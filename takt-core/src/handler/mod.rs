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

pub use crate::syscall::ALLOWED;
pub use crate::world::{Blocked, Remaining};

use crate::errno::Errno;
use crate::syscall::Syscall;
use crate::time::VTime;
use crate::world::{Vtid, World};
use std::path::PathBuf;

/// An action run at the syscall-exit stop with the kernel's return value; returns a
/// replacement return value.
// The families' typed actions are the crate's own (only the engine runs them).
#[allow(private_interfaces)]
pub enum Post {
    /// A file call's action.
    File(file::Exit),
    /// An injected fault's action.
    Inject(inject::Exit),
    /// A process call's action.
    Process(process::Exit),
    /// A signal call's action.
    Signal(signal::Exit),
    /// A timer call's action.
    Timer(timer::Exit),
    /// At the exit of an I/O call.
    Io(io::Exit),
    /// At the exit of a readiness call.
    Poll(poll::Exit),
    /// At the exit of a socket call.
    Socket(socket::Exit),
}

impl std::fmt::Debug for Post {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Post")
    }
}

impl Post {
    pub(crate) fn call(self, e: &mut World, tid: Vtid, ret: i64) -> Option<i64> {
        match self {
            Post::File(x) => x.run(e, tid, ret),
            Post::Inject(x) => x.run(e, tid, ret),
            Post::Process(x) => x.run(e, tid, ret),
            Post::Signal(x) => x.run(e, tid, ret),
            Post::Timer(x) => x.run(e, tid, ret),
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

/// The deadline of the call `tid` is in: the one it already waits with when it was woken
/// and runs its handler again (a wake-up that changes nothing must not push the time-out
/// back), else `fresh`, computed from the call's arguments.
pub(crate) fn keep_deadline(e: &World, tid: Vtid, fresh: Option<VTime>) -> Option<VTime> {
    match e.threads[&tid].timer {
        Some(id) => Some(id.at()),
        None => fresh,
    }
}

/// What a handler returns.
pub type Res = Result<Out, Errno>;

/// The one dispatch table, by family: calls the core emulates or observes, file calls
/// observed for their metadata and durability, calls passed to the kernel, calls that
/// are contained, and everything else, which fails closed.
pub fn dispatch(e: &mut World, tid: Vtid, call: &Syscall) -> Res {
    if let Some(r) = io_call(e, tid, call) {
        return r;
    }
    if let Some(r) = process_call(e, tid, call) {
        return r;
    }
    if let Some(r) = file_call(e, tid, call) {
        return r;
    }
    if passed(call.nr()) {
        return Ok(Out::Pass);
    }
    if let Some(r) = contained_call(e, tid, call) {
        return r;
    }
    refused(e, call)
}

/// I/O, readiness, sockets, futexes and System V semaphores: emulated or observed by
/// the core.
fn io_call(e: &mut World, tid: Vtid, call: &Syscall) -> Option<Res> {
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
            e.effects.push(crate::world::Effect::Yield(tid));
            Ok(Out::Return(0))
        }
        _ => return None,
    })
}

/// Time, processes, signals and timers: emulated by the core.
fn process_call(e: &mut World, tid: Vtid, call: &Syscall) -> Option<Res> {
    use Syscall as S;
    Some(match *call {
        S::ClockGettime(c) => time::clock_gettime(e, tid, c),
        S::Gettimeofday(c) => time::gettimeofday(e, tid, c),
        S::Time(c) => time::time(e, tid, c),
        S::ClockGetres(c) => time::clock_getres(e, tid, c),
        S::Nanosleep(c) => time::nanosleep(e, tid, c),
        S::ClockNanosleep(c) => time::clock_nanosleep(e, tid, c),
        S::Alarm(c) => time::alarm(e, tid, c),
        S::Setitimer(c) => time::setitimer(e, tid, c),
        S::Getitimer(c) => time::getitimer(e, tid, c),
        S::Times(c) => time::times(e, tid, c),
        S::Getrusage(c) => time::getrusage(e, tid, c),
        S::Sysinfo(c) => time::sysinfo(e, tid, c),
        S::Getrandom(c) => time::getrandom(e, tid, c),
        S::Uname(c) => process::uname(e, tid, c),
        S::SchedGetaffinity(c) => process::sched_getaffinity(e, tid, c),
        S::SchedSetaffinity(_) => Ok(Out::Return(0)), // the scenario stays pinned
        S::Getcpu(c) => process::getcpu(e, tid, c),
        S::Getpid(_) => Ok(Out::Return(e.threads[&tid].pid as i64)),
        S::Gettid(_) => Ok(Out::Return(tid as i64)),
        S::Getppid(_) => Ok(Out::Return(e.procs[&e.threads[&tid].pid].ppid as i64)),
        S::SetTidAddress(c) => process::set_tid_address(e, tid, c),
        S::Clone(c) => process::clone(e, tid, c),
        S::Clone3(c) => process::clone3(e, tid, c),
        S::Fork(_) => process::fork(e, tid),
        S::Vfork(_) => process::vfork(e, tid),
        S::Execve(_) | S::Execveat(_) => process::execve(e, tid),
        S::Exit(_) => Ok(Out::Pass),
        S::ExitGroup(_) => process::exit_group(e, tid),
        S::Wait4(c) => process::wait4(e, tid, c),
        S::Waitid(c) => process::waitid(e, tid, c),
        S::Kill(c) => process::kill(e, tid, c),
        S::Tgkill(c) => process::tgkill(e, tid, c.tgid.get(), c.tid.get(), c.sig.get()),
        S::Tkill(c) => process::tgkill(e, tid, -1, c.tid.get(), c.sig.get()),
        S::RtSigqueueinfo(c) => process::rt_sigqueueinfo(e, tid, c),
        S::RtTgsigqueueinfo(c) => process::tgkill(e, tid, c.tgid.get(), c.tid.get(), c.sig.get()),
        S::RtSigaction(c) => process::rt_sigaction(e, tid, c),
        S::Pause(_) => Ok(Out::Block(
            Blocked::new("a signal")
                .no_restart()
                .until(None, Errno::EINTR.ret()),
        )),
        S::RtSigsuspend(c) => signal::rt_sigsuspend(e, tid, c),
        S::RtSigtimedwait(c) => signal::rt_sigtimedwait(e, tid, c),
        S::RtSigpending(_) => Ok(Out::Pass), // the kernel holds the pending sets
        S::Signalfd(c) => signal::signalfd(e, tid, c),
        S::Signalfd4(c) => signal::signalfd4(e, tid, c),
        S::TimerCreate(c) => timer::timer_create(e, tid, c),
        S::TimerSettime(c) => timer::timer_settime(e, tid, c),
        S::TimerGettime(c) => timer::timer_gettime(e, tid, c),
        S::TimerGetoverrun(c) => timer::timer_getoverrun(e, tid, c),
        S::TimerDelete(c) => timer::timer_delete(e, tid, c),
        S::TimerfdCreate(c) => timer::timerfd_create(e, tid, c),
        S::TimerfdSettime(c) => timer::timerfd_settime(e, tid, c),
        S::TimerfdGettime(c) => timer::timerfd_gettime(e, tid, c),
        S::Prctl(c) => process::prctl(e, tid, c),
        S::Flock(_) => Ok(Out::Pass),

        _ => return None,
    })
}

/// Files: observed for their metadata and durability (the kernel runs them).
fn file_call(e: &mut World, tid: Vtid, call: &Syscall) -> Option<Res> {
    use Syscall as S;
    Some(match *call {
        S::Stat(c) => file::stat(None, c.statbuf.addr()),
        S::Lstat(c) => file::stat(None, c.statbuf.addr()),
        S::Fstat(c) => file::stat(Some(c.fd.get()), c.statbuf.addr()),
        S::Newfstatat(c) => {
            let flags = c.flags.get() as i32;
            let fd = file::empty_path_fd(e, tid, c.dirfd.get(), c.pathname.addr(), flags);
            file::stat(fd, c.statbuf.addr())
        }
        S::Statx(c) => {
            let flags = c.flags.get() as i32;
            let fd = file::empty_path_fd(e, tid, c.dirfd.get(), c.pathname.addr(), flags);
            file::statx(fd, c.statxbuf.addr())
        }
        S::Statfs(c) => file::statfs(c.buf.addr()),
        S::Fstatfs(c) => file::statfs(c.buf.addr()),
        S::Getdents64(c) => file::getdents64(e, tid, c),
        S::Pwrite64(c) => {
            file::before_write(e, tid, c.fd.get(), Some(c.offset as u64), c.count);
            Ok(Out::Pass)
        }
        S::Pwritev(_) | S::Pwritev2(_) => file_pwritev(e, tid, call),
        S::Ftruncate(c) => {
            let path = PathBuf::from(format!("/proc/{}/fd/{}", e.real(tid), c.fd.get()));
            file::before_truncate(e, tid, path, c.length);
            Ok(Out::Pass)
        }
        S::Truncate(c) => file::truncate(e, tid, c.path.addr(), c.length),
        S::Fallocate(c) => {
            let (fd, mode) = (c.fd.get(), c.mode.get() as i32);
            file::before_fallocate(e, tid, fd, mode, c.offset as u64, c.len as u64);
            Ok(Out::Pass)
        }
        S::Fsync(c) => file_synced(e, tid, c.fd),
        S::Fdatasync(c) => file_synced(e, tid, c.fd),
        S::SyncFileRange(c) => {
            let both = libc::SYNC_FILE_RANGE_WRITE | libc::SYNC_FILE_RANGE_WAIT_AFTER;
            if c.flags.get() & both == both {
                file::synced(e, tid, c.fd.get());
            }
            Ok(Out::Pass)
        }
        S::Sync(_) | S::Syncfs(_) => {
            file::synced_all(e, tid);
            Ok(Out::Pass)
        }
        S::Mmap(c) => file::mmap(e, tid, c),
        S::Msync(c) => file::msync(e, tid, c),

        _ => return name_call(e, tid, call),
    })
}

/// Names and metadata changed: observed at their exit.
fn name_call(e: &mut World, tid: Vtid, call: &Syscall) -> Option<Res> {
    use Syscall as S;
    const CWD: i32 = libc::AT_FDCWD;
    Some(match *call {
        S::Mkdir(c) => file::make(e, tid, CWD, c.pathname.addr()),
        S::Mkdirat(c) => file::make(e, tid, c.dirfd.get(), c.pathname.addr()),
        S::Symlink(c) => file::make(e, tid, CWD, c.linkpath.addr()),
        S::Link(c) => file::make(e, tid, CWD, c.newpath.addr()),
        S::Symlinkat(c) => file::make(e, tid, c.newdirfd.get(), c.linkpath.addr()),
        S::Linkat(c) => file::make(e, tid, c.newdirfd.get(), c.newpath.addr()),
        S::Unlink(c) => file::remove(e, tid, CWD, c.pathname.addr()),
        S::Rmdir(c) => file::remove(e, tid, CWD, c.pathname.addr()),
        S::Unlinkat(c) => file::remove(e, tid, c.dirfd.get(), c.pathname.addr()),
        S::Rename(c) => {
            let paths = [c.oldpath.addr(), c.newpath.addr()];
            file::rename(e, tid, [CWD; 2], paths, 0)
        }
        S::Renameat(c) => {
            let dirs = [c.olddirfd.get(), c.newdirfd.get()];
            let paths = [c.oldpath.addr(), c.newpath.addr()];
            file::rename(e, tid, dirs, paths, 0)
        }
        S::Renameat2(c) => {
            let dirs = [c.olddirfd.get(), c.newdirfd.get()];
            let paths = [c.oldpath.addr(), c.newpath.addr()];
            file::rename(e, tid, dirs, paths, u64::from(c.flags.get()))
        }
        S::Chmod(c) => file::status_changed(e, tid, CWD, c.pathname.addr()),
        S::Chown(c) => file::status_changed(e, tid, CWD, c.pathname.addr()),
        S::Lchown(c) => file::status_changed(e, tid, CWD, c.pathname.addr()),
        S::Fchmodat(c) => file::status_changed(e, tid, c.dirfd.get(), c.pathname.addr()),
        S::Fchownat(c) => file::status_changed(e, tid, c.dirfd.get(), c.pathname.addr()),
        S::Fchmod(c) => file::fd_status_changed(e, tid, c.fd.get()),
        S::Fchown(c) => file::fd_status_changed(e, tid, c.fd.get()),
        S::Utimensat(c) => file::utimensat(e, tid, c),
        S::Utimes(c) => file::utimes(e, tid, CWD, c.filename.addr(), c.times.addr(), true),
        S::Futimesat(c) => {
            let (path, times) = (c.pathname.addr(), c.times.addr());
            file::utimes(e, tid, c.dirfd.get(), path, times, true)
        }
        S::Utime(c) => file::utimes(e, tid, CWD, c.filename.addr(), c.times.addr(), false),

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
fn contained_call(e: &mut World, tid: Vtid, call: &Syscall) -> Option<Res> {
    use Syscall as S;
    let nr = call.nr();
    Some(match *call {
        S::Mknod(c) => contain::mknod(e, c),
        S::Mknodat(c) => contain::mknodat(e, c),
        S::Unshare(c) => contain::unshare(e, c),
        S::Sethostname(c) => contain::set_uts(e, tid, false, c.name.addr(), c.len.get()),
        S::Setdomainname(c) => contain::set_uts(e, tid, true, c.name.addr(), c.len.get()),
        S::Adjtimex(c) => contain::adjtimex(e, tid, c),
        S::ClockAdjtime(c) => contain::clock_adjtime(e, tid, c),
        S::Mount(_)
        | S::Umount2(_)
        | S::OpenTree(_)
        | S::MoveMount(_)
        | S::Fsopen(_)
        | S::Fsconfig(_)
        | S::Fsmount(_)
        | S::Fspick(_)
        | S::MountSetattr(_)
        | S::Chroot(_)
        | S::PivotRoot(_)
        | S::Swapon(_)
        | S::Swapoff(_)
        | S::Quotactl(_)
        | S::QuotactlFd(_)
        | S::Acct(_)
        | S::OpenByHandleAt(_)
        | S::FanotifyInit(_) => contain::refuse(e, nr, "filesystems of the host"),
        S::Setns(_) => contain::refuse(e, nr, "namespaces are not modelled"),
        S::Settimeofday(_) | S::ClockSettime(_) => {
            contain::refuse(e, nr, "the virtual clock cannot be set")
        }
        S::Reboot(_)
        | S::KexecLoad(_)
        | S::KexecFileLoad(_)
        | S::InitModule(_)
        | S::FinitModule(_)
        | S::DeleteModule(_)
        | S::Bpf(_)
        | S::PerfEventOpen(_)
        | S::Iopl(_)
        | S::Ioperm(_)
        | S::Syslog(_)
        | S::Vhangup(_)
        | S::LookupDcookie(_)
        | S::Nfsservctl(_) => contain::refuse(e, nr, "the host's kernel"),
        S::Ptrace(_)
        | S::ProcessVmReadv(_)
        | S::ProcessVmWritev(_)
        | S::Kcmp(_)
        | S::PidfdGetfd(_) => contain::refuse(e, nr, "other processes are the tracer's"),
        S::Keyctl(_) | S::AddKey(_) | S::RequestKey(_) => {
            contain::refuse(e, nr, "the host's kernel keyrings")
        }

        _ => return None,
    })
}

/// Refused: `rseq` and `io_uring_setup` with a note (libc falls back), everything else
/// with a warning (fail closed).
fn refused(e: &mut World, call: &Syscall) -> Res {
    match call {
        // --- refused without a warning: libc falls back ----------------------------------
        Syscall::Rseq(_) | Syscall::IoUringSetup(_) => {
            e.note(format!("{} answered ENOSYS (libc falls back)", call.name()));
            Err(Errno::ENOSYS)
        }

        // --- unsupported: fail closed --------------------------------------------------
        _ => {
            let nr = call.nr();
            let name = syscalls::Sysno::new(nr as usize)
                .map_or_else(|| format!("syscall {nr}"), |s| s.name().to_string());
            e.warn(format!("unsupported syscall {name} answered ENOSYS"));
            Err(Errno::ENOSYS)
        }
    }
}

/// `sendfile`, `splice`, `tee`, `copy_file_range`, `preadv`, `preadv2`: the kernel
/// moves the data (between fds it holds); a regular file written to is observed.
fn between_fds(e: &mut World, tid: Vtid, call: &Syscall) -> Res {
    let out = io::kernel_only(e, tid, call)?;
    let (nr, a) = call.encode();
    file::before_copy(e, tid, nr, a);
    Ok(out)
}

/// `pwritev`, `pwritev2` on a file the kernel holds: observed as a write of the iovecs'
/// total length at the offset (`pos_l`).
fn file_pwritev(e: &mut World, tid: Vtid, call: &Syscall) -> Res {
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

/// `fsync`, `fdatasync` of `fd`: what it wrote is durable.
fn file_synced(e: &mut World, tid: Vtid, fd: crate::syscall::Fd) -> Res {
    file::synced(e, tid, fd.get());
    Ok(Out::Pass)
}

/// A poll-style timeout in milliseconds (negative: forever) as a deadline.
fn timeout_ms(e: &World, ms: i32) -> Option<VTime> {
    (ms >= 0).then(|| e.now.plus_nanos(guest::nanos(0, ms as u64, 1_000_000)))
}
