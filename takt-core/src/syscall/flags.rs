//! Flag arguments as named bit sets: `open` flags, socket types, `MSG_*`, `EPOLL*`
//! events, `mmap` protections and flags, clone flags, wait options…
//!
//! Each type keeps the whole register (unknown bits included; see [`super::arg`]) and
//! prints as strace does: the names in strace's order joined by `|`, unknown bits last in
//! hex (`O_RDONLY|O_CLOEXEC|0x40000000`), `0` when empty. Sets with a field inside
//! (the access mode of `open`, the type of `socket`, the exit signal of `clone`) print the
//! field first. Named single values (clock ids, commands) are in [`super::enums`].

use super::arg::{display_arg, int_type};
use super::enums::Signal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fmt::Write as _;

/// Writes the names of the bits of `v` found in `table` (in table order; a multi-bit entry
/// matches only when all its bits are set), then the remaining bits in hex. Writes
/// nothing for 0; tells whether it wrote anything. `sep` tells whether a `|` goes first.
pub(crate) fn write_bits(
    f: &mut dyn fmt::Write,
    v: u64,
    table: &[(&str, u64)],
    mut sep: bool,
) -> Result<bool, fmt::Error> {
    let mut rest = v;
    for &(name, bits) in table {
        if bits != 0 && rest & bits == bits {
            if sep {
                f.write_char('|')?;
            }
            f.write_str(name)?;
            sep = true;
            rest &= !bits;
        }
    }
    if rest != 0 {
        if sep {
            f.write_char('|')?;
        }
        write!(f, "{rest:#x}")?;
        sep = true;
    }
    Ok(sep)
}

/// Writes `v` as C's `%#o` does (`0644`, `0`).
pub(crate) fn write_octal(f: &mut dyn fmt::Write, v: u64) -> fmt::Result {
    if v == 0 {
        f.write_str("0")
    } else {
        write!(f, "0{v:o}")
    }
}

/// Declares a bit-set newtype of C type `$kt` with its table (in strace's order) and
/// the text printed when no bit is set.
macro_rules! flag_set {
    ($(#[$m:meta])* $name:ident($kt:ty), zero $zero:literal { $($flag:ident = $val:expr,)* }) => {
        int_type!($(#[$m])* $name($kt));

        #[allow(missing_docs)]
        impl $name {
            $(pub const $flag: $kt = $val as $kt;)*
        }

        impl $name {
            /// The named bits, in the order they print.
            pub(crate) const TABLE: &'static [(&'static str, u64)] =
                &[$((stringify!($flag), $val as $kt as u64),)*];

            /// Whether every bit of `mask` is set.
            pub const fn contains(self, mask: $kt) -> bool {
                self.get() & mask == mask
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if !write_bits(f, self.get() as u64, Self::TABLE, false)? {
                    f.write_str($zero)?;
                }
                Ok(())
            }
        }

        display_arg!($name);
    };
}

// The O_* bits of x86-64 (the access mode is the low two bits).
const O_ACCMODE: u32 = 0o3;
const O_SYNC: u32 = 0o4010000;
const O_TMPFILE: u32 = 0o20200000;

/// The `O_*` bits other than the access mode, in strace's order.
const O_BITS: &[(&str, u64)] = &[
    ("O_CREAT", 0o100),
    ("O_EXCL", 0o200),
    ("O_NOCTTY", 0o400),
    ("O_TRUNC", 0o1000),
    ("O_APPEND", 0o2000),
    ("O_NONBLOCK", 0o4000),
    ("O_SYNC", O_SYNC as u64),
    ("O_DSYNC", 0o10000),
    ("O_ASYNC", 0o20000),
    ("O_DIRECT", 0o40000),
    ("O_LARGEFILE", 0o100000),
    ("O_NOFOLLOW", 0o400000),
    ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", 0o2000000),
    ("O_PATH", 0o10000000),
    ("O_TMPFILE", O_TMPFILE as u64),
    ("O_DIRECTORY", 0o200000),
];

int_type!(
    /// `open`'s flags: an access mode and `O_*` bits (`O_RDONLY|O_CLOEXEC`).
    OpenFlags(u32)
);

impl OpenFlags {
    /// `O_CREAT`.
    pub const O_CREAT: u32 = 0o100;
    /// `O_NONBLOCK`.
    pub const O_NONBLOCK: u32 = 0o4000;
    /// `O_CLOEXEC`.
    pub const O_CLOEXEC: u32 = 0o2000000;
    /// `O_TMPFILE` (includes `O_DIRECTORY`).
    pub const O_TMPFILE: u32 = O_TMPFILE;

    /// The access mode (`O_RDONLY`, `O_WRONLY`, `O_RDWR`).
    pub const fn access(self) -> u32 {
        self.get() & O_ACCMODE
    }

    /// Whether every bit of `mask` is set.
    pub const fn contains(self, mask: u32) -> bool {
        self.get() & mask == mask
    }

    /// Whether the call takes a `mode` argument (`O_CREAT` or `O_TMPFILE`).
    pub const fn takes_mode(self) -> bool {
        self.contains(Self::O_CREAT) || self.contains(O_TMPFILE)
    }
}

impl fmt::Display for OpenFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.access() {
            0 => "O_RDONLY",
            1 => "O_WRONLY",
            2 => "O_RDWR",
            _ => "O_ACCMODE",
        })?;
        write_bits(f, u64::from(self.get() & !O_ACCMODE), O_BITS, true)?;
        Ok(())
    }
}
display_arg!(OpenFlags);

flag_set!(
    /// `O_*` bits without an access mode (`pipe2`, `dup3`).
    OFlags(u32), zero "0" {
        O_NONBLOCK = 0o4000,
        O_DIRECT = 0o40000,
        O_NOTIFICATION_PIPE = 0o40000000,
        O_CLOEXEC = 0o2000000,
    }
);

flag_set!(
    /// `AT_*` flags of the `…at` calls.
    AtFlags(u32), zero "0" {
        AT_SYMLINK_NOFOLLOW = 0x100,
        AT_REMOVEDIR = 0x200,
        AT_SYMLINK_FOLLOW = 0x400,
        AT_NO_AUTOMOUNT = 0x800,
        AT_EMPTY_PATH = 0x1000,
        AT_STATX_FORCE_SYNC = 0x2000,
        AT_STATX_DONT_SYNC = 0x4000,
        AT_RECURSIVE = 0x8000,
    }
);

flag_set!(
    /// `faccessat2`'s flags.
    AccessAtFlags(u32), zero "0" {
        AT_SYMLINK_NOFOLLOW = 0x100,
        AT_EACCESS = 0x200,
        AT_EMPTY_PATH = 0x1000,
    }
);

flag_set!(
    /// `access`'s mode (`F_OK` when empty).
    AccessMode(u32), zero "F_OK" {
        R_OK = 4,
        W_OK = 2,
        X_OK = 1,
    }
);

int_type!(
    /// A file mode (`mode_t`), printed in octal with its file type if any (`S_IFREG|0644`).
    Mode(u32)
);

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.get();
        let kind = match m & 0o170000 {
            0 => None,
            0o140000 => Some("S_IFSOCK"),
            0o120000 => Some("S_IFLNK"),
            0o100000 => Some("S_IFREG"),
            0o060000 => Some("S_IFBLK"),
            0o040000 => Some("S_IFDIR"),
            0o020000 => Some("S_IFCHR"),
            0o010000 => Some("S_IFIFO"),
            _ => Some("0170000"),
        };
        let perm = m & !0o170000;
        if let Some(k) = kind {
            write!(f, "{k}|")?;
        }
        write_octal(f, u64::from(perm))
    }
}
display_arg!(Mode);

flag_set!(
    /// `eventfd2`'s flags.
    EfdFlags(u32), zero "0" {
        EFD_SEMAPHORE = 1,
        EFD_CLOEXEC = 0o2000000,
        EFD_NONBLOCK = 0o4000,
    }
);

/// The socket types (`type & 0xf`).
const SOCK_TYPES: &[(u32, &str)] = &[
    (1, "SOCK_STREAM"),
    (2, "SOCK_DGRAM"),
    (3, "SOCK_RAW"),
    (4, "SOCK_RDM"),
    (5, "SOCK_SEQPACKET"),
    (6, "SOCK_DCCP"),
    (10, "SOCK_PACKET"),
];

int_type!(
    /// `socket`'s type: a socket type and `SOCK_NONBLOCK`/`SOCK_CLOEXEC`.
    SockType(u32)
);

impl SockType {
    /// `SOCK_NONBLOCK`.
    pub const SOCK_NONBLOCK: u32 = 0o4000;
    /// `SOCK_CLOEXEC`.
    pub const SOCK_CLOEXEC: u32 = 0o2000000;

    /// The type without the flags (`SOCK_STREAM` = 1…).
    pub const fn kind(self) -> u32 {
        self.get() & 0xf
    }

    /// Whether `SOCK_NONBLOCK` is set.
    pub const fn nonblock(self) -> bool {
        self.get() & Self::SOCK_NONBLOCK != 0
    }

    /// Whether `SOCK_CLOEXEC` is set.
    pub const fn cloexec(self) -> bool {
        self.get() & Self::SOCK_CLOEXEC != 0
    }
}

impl fmt::Display for SockType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match SOCK_TYPES.iter().find(|(v, _)| *v == self.kind()) {
            Some((_, name)) => f.write_str(name)?,
            None => write!(f, "{:#x} /* SOCK_??? */", self.kind())?,
        }
        write_bits(f, u64::from(self.get() & !0xf), SockFlags::TABLE, true)?;
        Ok(())
    }
}
display_arg!(SockType);

flag_set!(
    /// `SOCK_CLOEXEC`/`SOCK_NONBLOCK` alone (`accept4`).
    SockFlags(u32), zero "0" {
        SOCK_CLOEXEC = 0o2000000,
        SOCK_NONBLOCK = 0o4000,
    }
);

flag_set!(
    /// `MSG_*` flags of sends and receives.
    MsgFlags(u32), zero "0" {
        MSG_OOB = 0x1,
        MSG_PEEK = 0x2,
        MSG_DONTROUTE = 0x4,
        MSG_CTRUNC = 0x8,
        MSG_PROXY = 0x10,
        MSG_TRUNC = 0x20,
        MSG_DONTWAIT = 0x40,
        MSG_EOR = 0x80,
        MSG_WAITALL = 0x100,
        MSG_FIN = 0x200,
        MSG_SYN = 0x400,
        MSG_CONFIRM = 0x800,
        MSG_RST = 0x1000,
        MSG_ERRQUEUE = 0x2000,
        MSG_NOSIGNAL = 0x4000,
        MSG_MORE = 0x8000,
        MSG_WAITFORONE = 0x10000,
        MSG_BATCH = 0x40000,
        MSG_ZEROCOPY = 0x4000000,
        MSG_FASTOPEN = 0x20000000,
        MSG_CMSG_CLOEXEC = 0x40000000,
    }
);

flag_set!(
    /// `EPOLL*` event bits.
    EpollEvents(u32), zero "0" {
        EPOLLIN = 0x1,
        EPOLLPRI = 0x2,
        EPOLLOUT = 0x4,
        EPOLLERR = 0x8,
        EPOLLHUP = 0x10,
        EPOLLNVAL = 0x20,
        EPOLLRDNORM = 0x40,
        EPOLLRDBAND = 0x80,
        EPOLLWRNORM = 0x100,
        EPOLLWRBAND = 0x200,
        EPOLLMSG = 0x400,
        EPOLLRDHUP = 0x2000,
        EPOLLEXCLUSIVE = 1 << 28,
        EPOLLWAKEUP = 1 << 29,
        EPOLLONESHOT = 1 << 30,
        EPOLLET = 1u32 << 31,
    }
);

flag_set!(
    /// `epoll_create1`'s flags.
    EpollCreateFlags(u32), zero "0" {
        EPOLL_CLOEXEC = 0o2000000,
    }
);

flag_set!(
    /// `poll` event bits (a `short`).
    PollEvents(u16), zero "0" {
        POLLIN = 0x1,
        POLLPRI = 0x2,
        POLLOUT = 0x4,
        POLLERR = 0x8,
        POLLHUP = 0x10,
        POLLNVAL = 0x20,
        POLLRDNORM = 0x40,
        POLLRDBAND = 0x80,
        POLLWRNORM = 0x100,
        POLLWRBAND = 0x200,
        POLLMSG = 0x400,
        POLLREMOVE = 0x1000,
        POLLRDHUP = 0x2000,
    }
);

/// The `CLONE_*` bits above the exit signal, by value.
const CLONE_BITS: &[(&str, u64)] = &[
    ("CLONE_VM", 0x100),
    ("CLONE_FS", 0x200),
    ("CLONE_FILES", 0x400),
    ("CLONE_SIGHAND", 0x800),
    ("CLONE_PIDFD", 0x1000),
    ("CLONE_PTRACE", 0x2000),
    ("CLONE_VFORK", 0x4000),
    ("CLONE_PARENT", 0x8000),
    ("CLONE_THREAD", 0x10000),
    ("CLONE_NEWNS", 0x20000),
    ("CLONE_SYSVSEM", 0x40000),
    ("CLONE_SETTLS", 0x80000),
    ("CLONE_PARENT_SETTID", 0x100000),
    ("CLONE_CHILD_CLEARTID", 0x200000),
    ("CLONE_DETACHED", 0x400000),
    ("CLONE_UNTRACED", 0x800000),
    ("CLONE_CHILD_SETTID", 0x1000000),
    ("CLONE_NEWCGROUP", 0x2000000),
    ("CLONE_NEWUTS", 0x4000000),
    ("CLONE_NEWIPC", 0x8000000),
    ("CLONE_NEWUSER", 0x10000000),
    ("CLONE_NEWPID", 0x20000000),
    ("CLONE_NEWNET", 0x40000000),
    ("CLONE_IO", 0x80000000),
    ("CLONE_CLEAR_SIGHAND", 0x100000000),
    ("CLONE_INTO_CGROUP", 0x200000000),
    ("CLONE_NEWTIME", 0x80),
];

int_type!(
    /// `clone`'s flags: `CLONE_*` bits and the exit signal in the low byte.
    CloneFlags(u64)
);

impl CloneFlags {
    /// `CLONE_VM`.
    pub const CLONE_VM: u64 = 0x100;
    /// `CLONE_VFORK`.
    pub const CLONE_VFORK: u64 = 0x4000;
    /// `CLONE_THREAD`.
    pub const CLONE_THREAD: u64 = 0x10000;
    /// `CLONE_SETTLS`.
    pub const CLONE_SETTLS: u64 = 0x80000;
    /// `CLONE_PARENT_SETTID`.
    pub const CLONE_PARENT_SETTID: u64 = 0x100000;
    /// `CLONE_CHILD_CLEARTID`.
    pub const CLONE_CHILD_CLEARTID: u64 = 0x200000;
    /// `CLONE_CHILD_SETTID`.
    pub const CLONE_CHILD_SETTID: u64 = 0x1000000;

    /// Whether every bit of `mask` is set.
    pub const fn contains(self, mask: u64) -> bool {
        self.get() & mask == mask
    }

    /// The signal sent to the parent when the child exits (the low byte).
    pub const fn exit_signal(self) -> Signal {
        Signal::from_raw(self.get() & 0xff)
    }
}

impl fmt::Display for CloneFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.get();
        let wrote = write_bits(f, v & !0xff, CLONE_BITS, false)?;
        let sig = v & 0xff;
        if sig != 0 || !wrote {
            if wrote {
                f.write_char('|')?;
            }
            if sig == 0 {
                f.write_str("0")?;
            } else {
                write!(f, "{}", Signal::from_raw(sig))?;
            }
        }
        Ok(())
    }
}
display_arg!(CloneFlags);

flag_set!(
    /// The namespace and sharing flags of `unshare` and `setns` (`CLONE_*` without a
    /// signal).
    UnshareFlags(u32), zero "0" {
        CLONE_NEWTIME = 0x80,
        CLONE_FS = 0x200,
        CLONE_FILES = 0x400,
        CLONE_NEWNS = 0x20000,
        CLONE_SYSVSEM = 0x40000,
        CLONE_NEWCGROUP = 0x2000000,
        CLONE_NEWUTS = 0x4000000,
        CLONE_NEWIPC = 0x8000000,
        CLONE_NEWUSER = 0x10000000,
        CLONE_NEWPID = 0x20000000,
        CLONE_NEWNET = 0x40000000,
    }
);

flag_set!(
    /// `mmap`/`mprotect` protections (`PROT_NONE` when empty).
    Prot(u32), zero "PROT_NONE" {
        PROT_READ = 0x1,
        PROT_WRITE = 0x2,
        PROT_EXEC = 0x4,
        PROT_SEM = 0x8,
        PROT_GROWSDOWN = 0x01000000,
        PROT_GROWSUP = 0x02000000,
    }
);

/// `MAP_*` bits above the mapping type, by value.
const MAP_BITS: &[(&str, u64)] = &[
    ("MAP_FIXED", 0x10),
    ("MAP_ANONYMOUS", 0x20),
    ("MAP_32BIT", 0x40),
    ("MAP_GROWSDOWN", 0x100),
    ("MAP_DENYWRITE", 0x800),
    ("MAP_EXECUTABLE", 0x1000),
    ("MAP_LOCKED", 0x2000),
    ("MAP_NORESERVE", 0x4000),
    ("MAP_POPULATE", 0x8000),
    ("MAP_NONBLOCK", 0x10000),
    ("MAP_STACK", 0x20000),
    ("MAP_HUGETLB", 0x40000),
    ("MAP_SYNC", 0x80000),
    ("MAP_FIXED_NOREPLACE", 0x100000),
    ("MAP_UNINITIALIZED", 0x4000000),
];

int_type!(
    /// `mmap`'s flags: a mapping type and `MAP_*` bits.
    MapFlags(u32)
);

impl MapFlags {
    /// `MAP_SHARED`.
    pub const MAP_SHARED: u32 = 0x1;
    /// `MAP_PRIVATE`.
    pub const MAP_PRIVATE: u32 = 0x2;
    /// `MAP_FIXED`.
    pub const MAP_FIXED: u32 = 0x10;
    /// `MAP_ANONYMOUS`.
    pub const MAP_ANONYMOUS: u32 = 0x20;

    /// Whether every bit of `mask` is set.
    pub const fn contains(self, mask: u32) -> bool {
        self.get() & mask == mask
    }
}

impl fmt::Display for MapFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.get();
        match v & 0xf {
            0 => f.write_str("0")?,
            1 => f.write_str("MAP_SHARED")?,
            2 => f.write_str("MAP_PRIVATE")?,
            3 => f.write_str("MAP_SHARED_VALIDATE")?,
            t => write!(f, "{t:#x} /* MAP_??? */")?,
        }
        write_bits(f, u64::from(v & !0xf), MAP_BITS, true)?;
        Ok(())
    }
}
display_arg!(MapFlags);

flag_set!(
    /// `mremap`'s flags.
    MremapFlags(u32), zero "0" {
        MREMAP_MAYMOVE = 1,
        MREMAP_FIXED = 2,
        MREMAP_DONTUNMAP = 4,
    }
);

flag_set!(
    /// `msync`'s flags.
    MsyncFlags(u32), zero "0" {
        MS_ASYNC = 1,
        MS_INVALIDATE = 2,
        MS_SYNC = 4,
    }
);

flag_set!(
    /// `mlockall`'s flags.
    MclFlags(u32), zero "0" {
        MCL_CURRENT = 1,
        MCL_FUTURE = 2,
        MCL_ONFAULT = 4,
    }
);

flag_set!(
    /// `wait4` options.
    WaitOptions(u32), zero "0" {
        WNOHANG = 0x1,
        WUNTRACED = 0x2,
        WEXITED = 0x4,
        WCONTINUED = 0x8,
        WNOWAIT = 0x01000000,
        __WNOTHREAD = 0x20000000,
        __WALL = 0x40000000,
        __WCLONE = 0x80000000,
    }
);

flag_set!(
    /// `waitid` options (bit 2 is `WSTOPPED` there, `WUNTRACED` for `wait4`).
    WaitidOptions(u32), zero "0" {
        WNOHANG = 0x1,
        WSTOPPED = 0x2,
        WEXITED = 0x4,
        WCONTINUED = 0x8,
        WNOWAIT = 0x01000000,
        __WNOTHREAD = 0x20000000,
        __WALL = 0x40000000,
        __WCLONE = 0x80000000,
    }
);

flag_set!(
    /// `getrandom`'s flags.
    GrndFlags(u32), zero "0" {
        GRND_NONBLOCK = 1,
        GRND_RANDOM = 2,
        GRND_INSECURE = 4,
    }
);

flag_set!(
    /// `clock_nanosleep`'s flags.
    TimerFlags(u32), zero "0" {
        TIMER_ABSTIME = 1,
    }
);

flag_set!(
    /// `flock`'s operation.
    FlockOp(u32), zero "0" {
        LOCK_SH = 1,
        LOCK_EX = 2,
        LOCK_NB = 4,
        LOCK_UN = 8,
    }
);

flag_set!(
    /// `splice`/`tee` flags.
    SpliceFlags(u32), zero "0" {
        SPLICE_F_MOVE = 1,
        SPLICE_F_NONBLOCK = 2,
        SPLICE_F_MORE = 4,
        SPLICE_F_GIFT = 8,
    }
);

flag_set!(
    /// `preadv2`/`pwritev2` flags.
    RwfFlags(u32), zero "0" {
        RWF_HIPRI = 1,
        RWF_DSYNC = 2,
        RWF_SYNC = 4,
        RWF_NOWAIT = 8,
        RWF_APPEND = 0x10,
    }
);

flag_set!(
    /// `close_range`'s flags.
    CloseRangeFlags(u32), zero "0" {
        CLOSE_RANGE_UNSHARE = 2,
        CLOSE_RANGE_CLOEXEC = 4,
    }
);

flag_set!(
    /// `memfd_create`'s flags.
    MfdFlags(u32), zero "0" {
        MFD_CLOEXEC = 1,
        MFD_ALLOW_SEALING = 2,
        MFD_HUGETLB = 4,
        MFD_NOEXEC_SEAL = 8,
        MFD_EXEC = 0x10,
    }
);

flag_set!(
    /// `inotify_init1`'s flags.
    InotifyFlags(u32), zero "0" {
        IN_CLOEXEC = 0o2000000,
        IN_NONBLOCK = 0o4000,
    }
);

flag_set!(
    /// An inotify watch mask.
    InotifyMask(u32), zero "0" {
        IN_ACCESS = 0x1,
        IN_MODIFY = 0x2,
        IN_ATTRIB = 0x4,
        IN_CLOSE_WRITE = 0x8,
        IN_CLOSE_NOWRITE = 0x10,
        IN_OPEN = 0x20,
        IN_MOVED_FROM = 0x40,
        IN_MOVED_TO = 0x80,
        IN_CREATE = 0x100,
        IN_DELETE = 0x200,
        IN_DELETE_SELF = 0x400,
        IN_MOVE_SELF = 0x800,
        IN_UNMOUNT = 0x2000,
        IN_Q_OVERFLOW = 0x4000,
        IN_IGNORED = 0x8000,
        IN_ONLYDIR = 0x1000000,
        IN_DONT_FOLLOW = 0x2000000,
        IN_EXCL_UNLINK = 0x4000000,
        IN_MASK_CREATE = 0x10000000,
        IN_MASK_ADD = 0x20000000,
        IN_ISDIR = 0x40000000,
        IN_ONESHOT = 0x80000000,
    }
);

flag_set!(
    /// `renameat2`'s flags.
    RenameFlags(u32), zero "0" {
        RENAME_NOREPLACE = 1,
        RENAME_EXCHANGE = 2,
        RENAME_WHITEOUT = 4,
    }
);

flag_set!(
    /// `setxattr`'s flags.
    XattrFlags(u32), zero "0" {
        XATTR_CREATE = 1,
        XATTR_REPLACE = 2,
    }
);

flag_set!(
    /// `fallocate`'s mode.
    FallocMode(u32), zero "0" {
        FALLOC_FL_KEEP_SIZE = 0x1,
        FALLOC_FL_PUNCH_HOLE = 0x2,
        FALLOC_FL_NO_HIDE_STALE = 0x4,
        FALLOC_FL_COLLAPSE_RANGE = 0x8,
        FALLOC_FL_ZERO_RANGE = 0x10,
        FALLOC_FL_INSERT_RANGE = 0x20,
        FALLOC_FL_UNSHARE_RANGE = 0x40,
    }
);

flag_set!(
    /// `umount2`'s flags.
    UmountFlags(u32), zero "0" {
        MNT_FORCE = 1,
        MNT_DETACH = 2,
        MNT_EXPIRE = 4,
        UMOUNT_NOFOLLOW = 8,
    }
);

flag_set!(
    /// Descriptor flags (`fcntl(F_SETFD)`).
    FdFlags(u32), zero "0" {
        FD_CLOEXEC = 1,
    }
);

flag_set!(
    /// `sigaction`'s `sa_flags`, in strace's order.
    SaFlags(u64), zero "0" {
        SA_RESTORER = 0x04000000,
        SA_ONSTACK = 0x08000000,
        SA_RESTART = 0x10000000,
        SA_NODEFER = 0x40000000,
        SA_RESETHAND = 0x80000000,
        SA_SIGINFO = 0x4,
        SA_NOCLDSTOP = 0x1,
        SA_NOCLDWAIT = 0x2,
        SA_UNSUPPORTED = 0x400,
        SA_EXPOSE_TAGBITS = 0x800,
    }
);
