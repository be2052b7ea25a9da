//! One typed decode of each syscall: registers become a [`Syscall`] once, at the stop,
//! and everything after (dispatch, the fault table and fault injection, the trace, the
//! debug log) reads the typed form.
//!
//! - [`Syscall`]: one variant per syscall the dispatch table names (emulated, passed
//!   through, allowed by the seccomp filter, contained or refused), each holding the
//!   call's struct from [`calls`], plus [`Syscall::Other`] for every other number.
//!   [`Syscall::decode`] and [`Syscall::encode`] are exact inverses on the registers a
//!   call takes (the others are zero after encoding), and allocate nothing.
//! - Argument types: descriptors ([`Fd`], [`DirFd`]), integers at the kernel's widths,
//!   flag sets ([`flags`]), named values ([`enums`]), and guest pointers named by what
//!   they point to ([`PathPtr`], [`SockaddrIn`], [`InBuf`]…). Each keeps its whole
//!   register, unknown bits included.
//! - [`Syscall::transfer`]: whether and how a call moves bytes, so short-transfer faults
//!   and the trace count them the same way; [`Syscall::fds`]: its descriptor arguments.
//! - Rendering ([`Syscall::render`]): one strace-style line, `connect(3,
//!   {sa_family=AF_INET, sin_port=htons(11222), sin_addr=inet_addr("10.0.0.1")}, 16) = -1
//!   EINPROGRESS (Operation now in progress)`, from the call, its return value and the
//!   bytes a [`Capture`] took from guest memory at the stop ([`capture`]).
//!
//! This module reads no tracee itself: guest memory comes through the [`GuestMemory`]
//! trait ([`LocalMemory`] in tests). It contains no `unsafe`.
//!
//! ```
//! use takt_core::syscall::{Capture, LocalMemory, Syscall};
//! let mem = LocalMemory::new().with(0x1000, *b"/etc/hosts\0");
//! let call = Syscall::decode(257, [-100i64 as u64, 0x1000, 0o2000000, 0, 0, 0]);
//! let cap = Capture::entry(&call, &mem);
//! assert_eq!(
//!     call.render(Some(3), &cap),
//!     r#"openat(AT_FDCWD, "/etc/hosts", O_RDONLY|O_CLOEXEC) = 3"#
//! );
//! assert_eq!(call.encode(), (257, [-100i64 as u64, 0x1000, 0o2000000, 0, 0, 0]));
//! ```

pub mod arg;
pub mod calls;
pub mod capture;
mod decl;
pub mod enums;
pub mod flags;
pub mod render;
pub mod transfer;

#[cfg(test)]
mod tests;

pub use arg::{
    ArgvPtr, CloneArgsPtr, DirFd, EnvpPtr, EpollEventIn, EpollEventsOut, Fd, FdPair, FdSetPtr, Hex,
    Hex32, InBuf, Int, IntPtr, IovIn, IovOut, ItimervalIn, ItimervalOut, MsghdrIn, MsghdrOut,
    OptvalOut, OutBuf, OutPath, PathPtr, Pid, PollFds, RandomBuf, RemPtr, SigactionIn,
    SigactionOut, SigsetIn, SigsetOut, SockaddrIn, SockaddrOut, SocklenPtr, StatPtr, StrPtr,
    TimespecIn, TimespecOut, TimevalIn, TimevalOut, UInt, Uid, UserPtr, UtsnamePtr, WstatusPtr,
};
pub use capture::{Capture, Captured, GuestMemory, LocalMemory, Piece, Slot};
pub use transfer::{Dir, Shape, Transfer, Unit};

use arg::Arg;
use capture::Capturer;
use decl::{Call, Custom, Visit};
use render::Render;
use serde::{Deserialize, Serialize};

/// What an operation over every call does with one call struct (or with `Other`).
trait OnCall {
    type Out;
    fn call<C: Custom>(self, c: &C) -> Self::Out;
    fn other(self, nr: u32, args: &[u64; 6]) -> Self::Out;
}

macro_rules! syscall_enum {
    ($($v:ident,)*) => {
        /// A decoded syscall: a variant per call takt's dispatch table names, with typed
        /// arguments, or [`Syscall::Other`].
        ///
        /// Serialized canonically (bincode: the variant's index, then each argument
        /// register), so the same call always encodes to the same bytes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Syscall {
            $(
                #[doc = concat!("See [`calls::", stringify!($v), "`].")]
                $v(calls::$v),
            )*
            /// A number takt has no typed form for: the number and all six registers.
            Other {
                /// The syscall number.
                nr: u32,
                /// The six argument registers.
                args: [u64; 6],
            },
        }

        impl Syscall {
            /// The numbers that decode to a typed variant, in declaration order.
            pub const TYPED: &'static [u32] = &[$(calls::$v::NR,)*];

            /// Decodes syscall `nr` from its argument registers (x86-64: `rdi`, `rsi`, `rdx`,
            /// `r10`, `r8`, `r9`). Registers past the call's arguments are ignored; an
            /// unknown number gives [`Syscall::Other`] with all six.
            pub fn decode(nr: u32, args: [u64; 6]) -> Syscall {
                match nr {
                    $(calls::$v::NR => Syscall::$v(<calls::$v as Call>::from_regs(&args)),)*
                    _ => Syscall::Other { nr, args },
                }
            }

            fn apply<F: OnCall>(&self, f: F) -> F::Out {
                match self {
                    $(Syscall::$v(c) => f.call(c),)*
                    Syscall::Other { nr, args } => f.other(*nr, args),
                }
            }
        }
    };
}

syscall_enum! {
    // io
    Read,
    Write,
    Readv,
    Writev,
    Pread64,
    Pwrite64,
    Preadv,
    Pwritev,
    Preadv2,
    Pwritev2,
    Sendfile,
    Splice,
    Tee,
    CopyFileRange,
    Close,
    CloseRange,
    Pipe,
    Pipe2,
    Eventfd,
    Eventfd2,
    Dup,
    Dup2,
    Dup3,
    Fcntl,
    Ioctl,
    Flock,
    Lseek,
    Fsync,
    Fdatasync,
    Ftruncate,
    Fadvise64,
    Fallocate,
    Getdents,
    Getdents64,
    Sync,
    Syncfs,
    SyncFileRange,
    MemfdCreate,
    InotifyInit1,
    InotifyAddWatch,
    InotifyRmWatch,
    Getrandom,
    // fs
    Open,
    Creat,
    Openat,
    NameToHandleAt,
    OpenByHandleAt,
    FanotifyInit,
    Stat,
    Lstat,
    Fstat,
    Newfstatat,
    Statx,
    Statfs,
    Fstatfs,
    Access,
    Faccessat,
    Faccessat2,
    Readlink,
    Readlinkat,
    Getcwd,
    Umask,
    Truncate,
    Mkdir,
    Mkdirat,
    Rmdir,
    Unlink,
    Unlinkat,
    Rename,
    Renameat,
    Renameat2,
    Link,
    Linkat,
    Symlink,
    Symlinkat,
    Mknod,
    Mknodat,
    Chmod,
    Fchmod,
    Fchmodat,
    Chown,
    Fchown,
    Lchown,
    Fchownat,
    Utimensat,
    Utimes,
    Utime,
    Futimesat,
    Chdir,
    Fchdir,
    Chroot,
    PivotRoot,
    Getxattr,
    Lgetxattr,
    Fgetxattr,
    Listxattr,
    Llistxattr,
    Flistxattr,
    Setxattr,
    Lsetxattr,
    Fsetxattr,
    Removexattr,
    Mount,
    Umount2,
    OpenTree,
    MoveMount,
    Fsopen,
    Fsconfig,
    Fsmount,
    Fspick,
    MountSetattr,
    Swapon,
    Swapoff,
    Quotactl,
    QuotactlFd,
    Acct,
    // mem
    Mmap,
    Mprotect,
    Munmap,
    Brk,
    Mremap,
    Msync,
    Mincore,
    Madvise,
    Mlock,
    Munlock,
    Mlock2,
    Mlockall,
    Munlockall,
    PkeyAlloc,
    PkeyFree,
    PkeyMprotect,
    Membarrier,
    Shmget,
    Shmat,
    Shmdt,
    Shmctl,
    // net
    Socket,
    Socketpair,
    Bind,
    Connect,
    Listen,
    Accept,
    Accept4,
    Sendto,
    Recvfrom,
    Sendmsg,
    Recvmsg,
    Sendmmsg,
    Recvmmsg,
    Shutdown,
    Getsockname,
    Getpeername,
    Setsockopt,
    Getsockopt,
    // poll
    Poll,
    Ppoll,
    Select,
    Pselect6,
    EpollCreate,
    EpollCreate1,
    EpollCtl,
    EpollWait,
    EpollPwait,
    EpollPwait2,
    // time
    ClockGettime,
    ClockGetres,
    ClockSettime,
    Gettimeofday,
    Settimeofday,
    Time,
    Nanosleep,
    ClockNanosleep,
    Alarm,
    TimerCreate,
    TimerSettime,
    TimerGettime,
    TimerGetoverrun,
    TimerDelete,
    TimerfdCreate,
    TimerfdSettime,
    TimerfdGettime,
    Setitimer,
    Getitimer,
    Times,
    Getrusage,
    Sysinfo,
    Adjtimex,
    ClockAdjtime,
    // sync
    Futex,
    SetRobustList,
    GetRobustList,
    Rseq,
    // process
    Getpid,
    Gettid,
    Getppid,
    Getuid,
    Getgid,
    Geteuid,
    Getegid,
    Getresuid,
    Getresgid,
    Getgroups,
    Setgroups,
    Getpgrp,
    Setpgid,
    Getpgid,
    Setsid,
    Getsid,
    Setuid,
    Setgid,
    Setreuid,
    Setregid,
    Setresuid,
    Setresgid,
    Capget,
    Capset,
    Getrlimit,
    Setrlimit,
    Prlimit64,
    SetTidAddress,
    Clone,
    Clone3,
    Fork,
    Vfork,
    Execve,
    Execveat,
    Exit,
    ExitGroup,
    Wait4,
    Waitid,
    Uname,
    Sethostname,
    Setdomainname,
    Personality,
    Prctl,
    ArchPrctl,
    Unshare,
    Setns,
    SchedYield,
    SchedGetaffinity,
    SchedSetaffinity,
    SchedGetparam,
    SchedSetparam,
    SchedGetscheduler,
    SchedSetscheduler,
    SchedGetPriorityMax,
    SchedGetPriorityMin,
    SchedSetattr,
    SchedGetattr,
    Getcpu,
    Getpriority,
    Setpriority,
    IoprioGet,
    IoprioSet,
    // signal
    Kill,
    Tgkill,
    Tkill,
    RtSigaction,
    RtSigprocmask,
    RtSigreturn,
    RtSigsuspend,
    RtSigtimedwait,
    Sigaltstack,
    RtSigpending,
    RtSigqueueinfo,
    RtTgsigqueueinfo,
    Signalfd,
    Signalfd4,
    Pause,
    RestartSyscall,
    // host
    Reboot,
    KexecLoad,
    KexecFileLoad,
    InitModule,
    FinitModule,
    DeleteModule,
    Bpf,
    PerfEventOpen,
    Iopl,
    Ioperm,
    Syslog,
    Vhangup,
    LookupDcookie,
    Nfsservctl,
    Ptrace,
    ProcessVmReadv,
    ProcessVmWritev,
    Kcmp,
    PidfdGetfd,
    Keyctl,
    AddKey,
    RequestKey,
    IoUringSetup,
    // sync, added later (at the end, so the variants before keep their indices)
    FutexWaitv,
    Semget,
    Semop,
    Semtimedop,
    Semctl,
}

impl Syscall {
    /// The number and argument registers: the exact registers [`Syscall::decode`] was
    /// given, with those past the call's arguments zero (all six kept for `Other`).
    pub fn encode(&self) -> (u32, [u64; 6]) {
        struct Encode;
        impl OnCall for Encode {
            type Out = (u32, [u64; 6]);
            fn call<C: Custom>(self, c: &C) -> Self::Out {
                (C::NR, c.to_regs())
            }
            fn other(self, nr: u32, args: &[u64; 6]) -> Self::Out {
                (nr, *args)
            }
        }
        self.apply(Encode)
    }

    /// The syscall number.
    pub fn nr(&self) -> u32 {
        struct Nr;
        impl OnCall for Nr {
            type Out = u32;
            fn call<C: Custom>(self, _c: &C) -> u32 {
                C::NR
            }
            fn other(self, nr: u32, _args: &[u64; 6]) -> u32 {
                nr
            }
        }
        self.apply(Nr)
    }

    /// The syscall's name (`"openat"`); for `Other`, the kernel's name of the number if
    /// it has one, else `"unknown"`.
    pub fn name(&self) -> &'static str {
        struct Name;
        impl OnCall for Name {
            type Out = &'static str;
            fn call<C: Custom>(self, _c: &C) -> &'static str {
                C::NAME
            }
            fn other(self, nr: u32, _args: &[u64; 6]) -> &'static str {
                syscalls::Sysno::new(nr as usize).map_or("unknown", |s| s.name())
            }
        }
        self.apply(Name)
    }

    /// How many argument registers the call takes (6 for `Other`).
    pub fn arg_count(&self) -> usize {
        struct Count;
        impl OnCall for Count {
            type Out = usize;
            fn call<C: Custom>(self, _c: &C) -> usize {
                C::ARGS
            }
            fn other(self, _nr: u32, _args: &[u64; 6]) -> usize {
                6
            }
        }
        self.apply(Count)
    }

    /// Whether the number has a typed variant.
    pub fn is_typed(&self) -> bool {
        !matches!(self, Syscall::Other { .. })
    }

    /// The descriptor arguments, with their argument index: every [`Fd`], and every
    /// [`DirFd`] other than `AT_FDCWD`. Descriptors inside guest memory (`poll`'s array,
    /// `SCM_RIGHTS`) are not included. Allocates nothing.
    pub fn fds(&self) -> impl Iterator<Item = (usize, Fd)> {
        #[derive(Default)]
        struct Fds([Option<(usize, Fd)>; 6]);
        impl Visit for Fds {
            fn arg<A: Arg>(&mut self, i: usize, _name: &'static str, a: A) {
                if let Some(fd) = a.as_fd() {
                    self.0[i.min(5)] = Some((i, fd));
                }
            }
        }
        struct Collect;
        impl OnCall for Collect {
            type Out = Fds;
            fn call<C: Custom>(self, c: &C) -> Fds {
                let mut v = Fds::default();
                c.visit(&mut v);
                v
            }
            fn other(self, _nr: u32, _args: &[u64; 6]) -> Fds {
                Fds::default()
            }
        }
        self.apply(Collect).0.into_iter().flatten()
    }

    /// The call with argument register `i` set to `v` (decoded again, so the typed
    /// fields follow). Setting a register the call does not take changes nothing.
    pub fn with_arg(&self, i: usize, v: u64) -> Syscall {
        let (nr, mut args) = self.encode();
        if let Some(a) = args.get_mut(i) {
            *a = v;
        }
        Syscall::decode(nr, args)
    }

    /// The line strace prints for this call: `name(args) = ret`. `ret` is the value the
    /// tracee sees (`None`: the kernel ran the call and takt did not look, printed `?`);
    /// `cap` holds what was captured at the stop (`&()` for nothing: pointers print as
    /// addresses). Never panics.
    pub fn render(&self, ret: Option<i64>, cap: &dyn Captured) -> String {
        struct Line<'a>(Option<i64>, &'a dyn Captured);
        impl OnCall for Line<'_> {
            type Out = String;
            fn call<C: Custom>(self, c: &C) -> String {
                let mut r = Render::new(self.1, self.0);
                r.out.push_str(C::NAME);
                r.out.push('(');
                c.render_args(&mut r);
                r.out.push_str(") = ");
                render::write_ret(&mut r.out, self.0, c.ret_style());
                c.ret_suffix(&mut r);
                r.out
            }
            fn other(self, nr: u32, args: &[u64; 6]) -> String {
                let mut s = match syscalls::Sysno::new(nr as usize) {
                    Some(n) => n.name().to_string(),
                    None => format!("syscall_{nr:#x}"),
                };
                s.push('(');
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    let _ = arg::write_hex(&mut s, *a);
                }
                s.push_str(") = ");
                render::write_ret(&mut s, self.0, render::RetStyle::Dec);
                s
            }
        }
        self.apply(Line(ret, cap))
    }

    /// A value that displays as [`Syscall::render`].
    pub fn display<'a>(&'a self, ret: Option<i64>, cap: &'a dyn Captured) -> Rendered<'a> {
        Rendered {
            call: self,
            ret,
            cap,
        }
    }

    pub(crate) fn capture_into(&self, c: &mut Capturer<'_>) {
        struct Cap<'a, 'b>(&'a mut Capturer<'b>);
        impl OnCall for Cap<'_, '_> {
            type Out = ();
            fn call<C: Custom>(self, c: &C) {
                c.capture(self.0);
            }
            fn other(self, _nr: u32, _args: &[u64; 6]) {}
        }
        self.apply(Cap(c));
    }
}

/// A call with its return value and capture, displayed as strace prints it.
#[derive(Clone, Copy)]
pub struct Rendered<'a> {
    call: &'a Syscall,
    ret: Option<i64>,
    cap: &'a dyn Captured,
}

impl std::fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.call.render(self.ret, self.cap))
    }
}

impl std::fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Syscalls that stop through a seccomp user notification rather than a ptrace stop
/// (about half its cost, [`crate::sys::notif`]): the hot calls of servers and clients,
/// whose handlers mostly answer with a value. When a handler needs more (the call's
/// exit, a rewrite, a signal), the engine turns the stop into a ptrace stop.
pub const NOTIFIED: [u32; 16] = [
    libc::SYS_read as u32,
    libc::SYS_write as u32,
    libc::SYS_readv as u32,
    libc::SYS_writev as u32,
    libc::SYS_recvfrom as u32,
    libc::SYS_sendto as u32,
    libc::SYS_recvmsg as u32,
    libc::SYS_sendmsg as u32,
    libc::SYS_poll as u32,
    libc::SYS_ppoll as u32,
    libc::SYS_epoll_wait as u32,
    libc::SYS_epoll_pwait as u32,
    libc::SYS_getpid as u32,
    libc::SYS_getppid as u32,
    libc::SYS_gettid as u32,
    libc::SYS_clock_gettime as u32,
];

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
