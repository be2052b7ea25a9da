//! Arguments that name one value out of a list: clock ids, address families, signals,
//! `fcntl` commands, `ioctl` requests, `futex` operations, `prctl` options, seek origins…
//!
//! Each type keeps the whole register (see [`super::arg`]) and prints its name as strace
//! does; a value with no name prints as a number (in hex with a `/* F_??? */` comment
//! for commands, as strace does). Bit sets are in [`super::flags`].

mod futex;
mod net;
mod signal;

pub use futex::*;
pub use net::*;
pub use signal::*;

use super::arg::{display_arg, int_type};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares a named-value newtype of C type `$kt`. `dec` prints unknown values in
/// decimal; `hex "X_???"` in hex with that comment.
macro_rules! value_set {
    (@unknown $f:ident, $v:expr, dec) => { write!($f, "{}", $v) };
    (@unknown $f:ident, $v:expr, hex $c:literal) => {
        write!($f, concat!("{:#x} /* ", $c, " */"), $v)
    };
    ($(#[$m:meta])* $name:ident($kt:ty), $kind:ident $($c:literal)? { $($val:ident = $v:expr,)* }) => {
        int_type!($(#[$m])* $name($kt));

        #[allow(missing_docs, non_upper_case_globals)]
        impl $name {
            $(pub const $val: $kt = $v as $kt;)*
        }

        impl $name {
            /// The names, by value.
            pub(crate) const TABLE: &'static [(&'static str, $kt)] =
                &[$((stringify!($val), $v as $kt),)*];

            /// The symbolic name of the value, if it has one.
            pub fn name(self) -> Option<&'static str> {
                let v = self.get();
                Self::TABLE.iter().find(|(_, x)| *x == v).map(|(n, _)| *n)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => value_set!(@unknown f, self.get(), $kind $($c)?),
                }
            }
        }

        display_arg!($name);
    };
}

pub(crate) use value_set;

value_set!(
    /// A clock id (`clockid_t`).
    ClockId(i32), dec {
        CLOCK_REALTIME = 0,
        CLOCK_MONOTONIC = 1,
        CLOCK_PROCESS_CPUTIME_ID = 2,
        CLOCK_THREAD_CPUTIME_ID = 3,
        CLOCK_MONOTONIC_RAW = 4,
        CLOCK_REALTIME_COARSE = 5,
        CLOCK_MONOTONIC_COARSE = 6,
        CLOCK_BOOTTIME = 7,
        CLOCK_REALTIME_ALARM = 8,
        CLOCK_BOOTTIME_ALARM = 9,
        CLOCK_SGI_CYCLE = 10,
        CLOCK_TAI = 11,
    }
);

value_set!(
    /// A `fcntl` command.
    FcntlCmd(u32), hex "F_???" {
        F_DUPFD = 0,
        F_GETFD = 1,
        F_SETFD = 2,
        F_GETFL = 3,
        F_SETFL = 4,
        F_GETLK = 5,
        F_SETLK = 6,
        F_SETLKW = 7,
        F_SETOWN = 8,
        F_GETOWN = 9,
        F_SETSIG = 10,
        F_GETSIG = 11,
        F_SETOWN_EX = 15,
        F_GETOWN_EX = 16,
        F_GETOWNER_UIDS = 17,
        F_OFD_GETLK = 36,
        F_OFD_SETLK = 37,
        F_OFD_SETLKW = 38,
        F_SETLEASE = 1024,
        F_GETLEASE = 1025,
        F_NOTIFY = 1026,
        F_DUPFD_QUERY = 1027,
        F_DUPFD_CLOEXEC = 1030,
        F_SETPIPE_SZ = 1031,
        F_GETPIPE_SZ = 1032,
        F_ADD_SEALS = 1033,
        F_GET_SEALS = 1034,
        F_GET_RW_HINT = 1035,
        F_SET_RW_HINT = 1036,
        F_GET_FILE_RW_HINT = 1037,
        F_SET_FILE_RW_HINT = 1038,
    }
);

value_set!(
    /// An `ioctl` request (the common terminal, file and socket ones by name).
    IoctlReq(u32), hex "IOC_???" {
        TCGETS = 0x5401,
        TCSETS = 0x5402,
        TCSETSW = 0x5403,
        TCSETSF = 0x5404,
        TCGETA = 0x5405,
        TCSBRK = 0x5409,
        TCXONC = 0x540a,
        TCFLSH = 0x540b,
        TIOCEXCL = 0x540c,
        TIOCNXCL = 0x540d,
        TIOCSCTTY = 0x540e,
        TIOCGPGRP = 0x540f,
        TIOCSPGRP = 0x5410,
        TIOCOUTQ = 0x5411,
        TIOCSTI = 0x5412,
        TIOCGWINSZ = 0x5413,
        TIOCSWINSZ = 0x5414,
        TIOCMGET = 0x5415,
        FIONREAD = 0x541b,
        TIOCLINUX = 0x541c,
        TIOCCONS = 0x541d,
        FIONBIO = 0x5421,
        TIOCNOTTY = 0x5422,
        TIOCGSID = 0x5429,
        TIOCGPTN = 0x80045430,
        TIOCSPTLCK = 0x40045431,
        FIONCLEX = 0x5450,
        FIOCLEX = 0x5451,
        FIOASYNC = 0x5452,
        FIOQSIZE = 0x5460,
        FIGETBSZ = 2,
        SIOCATMARK = 0x8905,
        SIOCGSTAMP = 0x8906,
        SIOCGIFCONF = 0x8912,
        SIOCGIFFLAGS = 0x8913,
        SIOCSIFFLAGS = 0x8914,
        SIOCGIFADDR = 0x8915,
        SIOCGIFMTU = 0x8921,
        SIOCGIFHWADDR = 0x8927,
        SIOCGIFINDEX = 0x8933,
        FS_IOC_GETFLAGS = 0x80086601,
        FS_IOC_SETFLAGS = 0x40086602,
        FICLONE = 0x40049409,
        BLKGETSIZE64 = 0x80081272,
    }
);

value_set!(
    /// `epoll_ctl`'s operation.
    EpollOp(i32), hex "EPOLL_CTL_???" {
        EPOLL_CTL_ADD = 1,
        EPOLL_CTL_DEL = 2,
        EPOLL_CTL_MOD = 3,
    }
);

value_set!(
    /// `lseek`'s origin.
    Whence(u32), hex "SEEK_???" {
        SEEK_SET = 0,
        SEEK_CUR = 1,
        SEEK_END = 2,
        SEEK_DATA = 3,
        SEEK_HOLE = 4,
    }
);

value_set!(
    /// `waitid`'s id type.
    IdType(u32), hex "P_???" {
        P_ALL = 0,
        P_PID = 1,
        P_PGID = 2,
        P_PIDFD = 3,
    }
);

value_set!(
    /// A `prctl` option.
    PrctlOption(i32), hex "PR_???" {
        PR_SET_PDEATHSIG = 1,
        PR_GET_PDEATHSIG = 2,
        PR_GET_DUMPABLE = 3,
        PR_SET_DUMPABLE = 4,
        PR_GET_UNALIGN = 5,
        PR_SET_UNALIGN = 6,
        PR_GET_KEEPCAPS = 7,
        PR_SET_KEEPCAPS = 8,
        PR_GET_FPEMU = 9,
        PR_SET_FPEMU = 10,
        PR_GET_FPEXC = 11,
        PR_SET_FPEXC = 12,
        PR_GET_TIMING = 13,
        PR_SET_TIMING = 14,
        PR_SET_NAME = 15,
        PR_GET_NAME = 16,
        PR_GET_ENDIAN = 19,
        PR_SET_ENDIAN = 20,
        PR_GET_SECCOMP = 21,
        PR_SET_SECCOMP = 22,
        PR_CAPBSET_READ = 23,
        PR_CAPBSET_DROP = 24,
        PR_GET_TSC = 25,
        PR_SET_TSC = 26,
        PR_GET_SECUREBITS = 27,
        PR_SET_SECUREBITS = 28,
        PR_SET_TIMERSLACK = 29,
        PR_GET_TIMERSLACK = 30,
        PR_TASK_PERF_EVENTS_DISABLE = 31,
        PR_TASK_PERF_EVENTS_ENABLE = 32,
        PR_MCE_KILL = 33,
        PR_MCE_KILL_GET = 34,
        PR_SET_MM = 35,
        PR_SET_CHILD_SUBREAPER = 36,
        PR_GET_CHILD_SUBREAPER = 37,
        PR_SET_NO_NEW_PRIVS = 38,
        PR_GET_NO_NEW_PRIVS = 39,
        PR_GET_TID_ADDRESS = 40,
        PR_SET_THP_DISABLE = 41,
        PR_GET_THP_DISABLE = 42,
        PR_MPX_ENABLE_MANAGEMENT = 43,
        PR_MPX_DISABLE_MANAGEMENT = 44,
        PR_SET_FP_MODE = 45,
        PR_GET_FP_MODE = 46,
        PR_CAP_AMBIENT = 47,
        PR_SVE_SET_VL = 50,
        PR_SVE_GET_VL = 51,
        PR_GET_SPECULATION_CTRL = 52,
        PR_SET_SPECULATION_CTRL = 53,
        PR_SET_IO_FLUSHER = 57,
        PR_GET_IO_FLUSHER = 58,
        PR_SET_SYSCALL_USER_DISPATCH = 59,
        PR_SCHED_CORE = 62,
        PR_SET_MDWE = 65,
        PR_GET_MDWE = 66,
        PR_GET_AUXV = 0x41555856,
        PR_SET_VMA = 0x53564d41,
        PR_SET_PTRACER = 0x59616d61,
    }
);

impl PrctlOption {
    /// Options that take no argument: strace prints only the option.
    pub(crate) fn takes_no_arg(self) -> bool {
        matches!(
            self.get(),
            Self::PR_GET_DUMPABLE
                | Self::PR_GET_KEEPCAPS
                | Self::PR_GET_SECCOMP
                | Self::PR_GET_TIMERSLACK
                | Self::PR_GET_TIMING
                | Self::PR_GET_SECUREBITS
                | Self::PR_GET_NO_NEW_PRIVS
                | Self::PR_GET_THP_DISABLE
                | Self::PR_GET_IO_FLUSHER
                | Self::PR_GET_FP_MODE
                | Self::PR_TASK_PERF_EVENTS_DISABLE
                | Self::PR_TASK_PERF_EVENTS_ENABLE
                | Self::PR_MCE_KILL_GET
        )
    }
}

value_set!(
    /// `arch_prctl`'s code.
    ArchPrctlCode(i32), hex "ARCH_???" {
        ARCH_SET_GS = 0x1001,
        ARCH_SET_FS = 0x1002,
        ARCH_GET_FS = 0x1003,
        ARCH_GET_GS = 0x1004,
        ARCH_GET_CPUID = 0x1011,
        ARCH_SET_CPUID = 0x1012,
        ARCH_GET_XCOMP_SUPP = 0x1021,
        ARCH_GET_XCOMP_PERM = 0x1022,
        ARCH_REQ_XCOMP_PERM = 0x1023,
        ARCH_MAP_VDSO_X32 = 0x2001,
        ARCH_MAP_VDSO_32 = 0x2002,
        ARCH_MAP_VDSO_64 = 0x2003,
        ARCH_SHSTK_ENABLE = 0x5001,
        ARCH_SHSTK_DISABLE = 0x5002,
        ARCH_SHSTK_STATUS = 0x5005,
    }
);

value_set!(
    /// `rt_sigprocmask`'s `how`.
    SigHow(i32), hex "SIG_???" {
        SIG_BLOCK = 0,
        SIG_UNBLOCK = 1,
        SIG_SETMASK = 2,
    }
);

value_set!(
    /// `shutdown`'s `how`.
    ShutHow(i32), dec {
        SHUT_RD = 0,
        SHUT_WR = 1,
        SHUT_RDWR = 2,
    }
);

value_set!(
    /// Which interval timer.
    ItimerWhich(i32), hex "ITIMER_???" {
        ITIMER_REAL = 0,
        ITIMER_VIRTUAL = 1,
        ITIMER_PROF = 2,
    }
);

value_set!(
    /// `getrusage`'s `who`.
    RusageWho(i32), dec {
        RUSAGE_SELF = 0,
        RUSAGE_CHILDREN = -1,
        RUSAGE_THREAD = 1,
    }
);

value_set!(
    /// A resource limit (`RLIMIT_*`).
    Resource(u32), dec {
        RLIMIT_CPU = 0,
        RLIMIT_FSIZE = 1,
        RLIMIT_DATA = 2,
        RLIMIT_STACK = 3,
        RLIMIT_CORE = 4,
        RLIMIT_RSS = 5,
        RLIMIT_NPROC = 6,
        RLIMIT_NOFILE = 7,
        RLIMIT_MEMLOCK = 8,
        RLIMIT_AS = 9,
        RLIMIT_LOCKS = 10,
        RLIMIT_SIGPENDING = 11,
        RLIMIT_MSGQUEUE = 12,
        RLIMIT_NICE = 13,
        RLIMIT_RTPRIO = 14,
        RLIMIT_RTTIME = 15,
    }
);

value_set!(
    /// `madvise`'s advice.
    MadvAdvice(i32), hex "MADV_???" {
        MADV_NORMAL = 0,
        MADV_RANDOM = 1,
        MADV_SEQUENTIAL = 2,
        MADV_WILLNEED = 3,
        MADV_DONTNEED = 4,
        MADV_FREE = 8,
        MADV_REMOVE = 9,
        MADV_DONTFORK = 10,
        MADV_DOFORK = 11,
        MADV_MERGEABLE = 12,
        MADV_UNMERGEABLE = 13,
        MADV_HUGEPAGE = 14,
        MADV_NOHUGEPAGE = 15,
        MADV_DONTDUMP = 16,
        MADV_DODUMP = 17,
        MADV_WIPEONFORK = 18,
        MADV_KEEPONFORK = 19,
        MADV_COLD = 20,
        MADV_PAGEOUT = 21,
        MADV_POPULATE_READ = 22,
        MADV_POPULATE_WRITE = 23,
        MADV_DONTNEED_LOCKED = 24,
        MADV_COLLAPSE = 25,
        MADV_HWPOISON = 100,
        MADV_SOFT_OFFLINE = 101,
    }
);

value_set!(
    /// `fadvise64`'s advice.
    FadvAdvice(i32), dec {
        POSIX_FADV_NORMAL = 0,
        POSIX_FADV_RANDOM = 1,
        POSIX_FADV_SEQUENTIAL = 2,
        POSIX_FADV_WILLNEED = 3,
        POSIX_FADV_DONTNEED = 4,
        POSIX_FADV_NOREUSE = 5,
    }
);

value_set!(
    /// A scheduling policy (`SCHED_*`).
    SchedPolicy(i32), dec {
        SCHED_OTHER = 0,
        SCHED_FIFO = 1,
        SCHED_RR = 2,
        SCHED_BATCH = 3,
        SCHED_ISO = 4,
        SCHED_IDLE = 5,
        SCHED_DEADLINE = 6,
    }
);

value_set!(
    /// `getpriority`'s `which`.
    PrioWhich(i32), dec {
        PRIO_PROCESS = 0,
        PRIO_PGRP = 1,
        PRIO_USER = 2,
    }
);

value_set!(
    /// A `membarrier` command.
    MembarrierCmd(i32), hex "MEMBARRIER_CMD_???" {
        MEMBARRIER_CMD_QUERY = 0,
        MEMBARRIER_CMD_GLOBAL = 1,
        MEMBARRIER_CMD_GLOBAL_EXPEDITED = 2,
        MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 4,
        MEMBARRIER_CMD_PRIVATE_EXPEDITED = 8,
        MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 16,
        MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 32,
        MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64,
        MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 128,
        MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 256,
    }
);

value_set!(
    /// A `semctl` command.
    SemctlCmd(i32), dec {
        IPC_RMID = 0,
        IPC_SET = 1,
        IPC_STAT = 2,
        IPC_INFO = 3,
        GETPID = 11,
        GETVAL = 12,
        GETALL = 13,
        GETNCNT = 14,
        GETZCNT = 15,
        SETVAL = 16,
        SETALL = 17,
        SEM_STAT = 18,
        SEM_INFO = 19,
        SEM_STAT_ANY = 20,
    }
);
