//! The argument types of typed syscalls: descriptors, integers of the kernel's widths,
//! and guest pointers named by what they point to.
//!
//! Every type here holds the whole 64-bit register it was decoded from, so that encoding
//! gives back exactly the register the tracee passed. The kernel reads only the low 32
//! bits of an `int` argument; the upper half is whatever the caller left there (for a
//! variadic `syscall(2)` call, undefined). `get()` gives the value the kernel sees,
//! `raw()` the register. `From<i32>`/`From<u32>` build the register a C caller would
//! (sign- or zero-extended).
//!
//! Pointer types ([`UserPtr`], [`PathPtr`], [`InBuf`], …) are full-width addresses; their
//! names tell rendering and capture what they point to. Where a pointer's length is another
//! argument, it is the *next* one (`write(fd, buf, count)`, `connect(fd, addr, addrlen)`);
//! the types that need a length are used only where that holds.
//!
//! Flag sets and named values are in [`super::flags`] and [`super::enums`].

use super::capture::Capturer;
use super::render::Render;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fmt::Write as _;

/// One argument register, typed. Decoding and encoding are exact inverses on every `u64`.
pub(crate) trait Arg: Copy {
    /// From the register.
    fn from_reg(r: u64) -> Self;
    /// Back to the register.
    fn to_reg(self) -> u64;
    /// Appends the argument, as strace prints it, to `r` (argument index `i`).
    fn render(self, r: &mut Render<'_>, i: usize);
    /// The descriptor this argument names, if it names one.
    fn as_fd(self) -> Option<Fd> {
        None
    }
    /// Records what rendering needs from guest memory (argument index `i`).
    fn capture(self, _c: &mut Capturer<'_>, _i: usize) {}
}

impl Arg for u64 {
    fn from_reg(r: u64) -> Self {
        r
    }
    fn to_reg(self) -> u64 {
        self
    }
    fn render(self, r: &mut Render<'_>, _i: usize) {
        let _ = write!(r.out, "{self}");
    }
}

impl Arg for i64 {
    fn from_reg(r: u64) -> Self {
        r as i64
    }
    fn to_reg(self) -> u64 {
        self as u64
    }
    fn render(self, r: &mut Render<'_>, _i: usize) {
        let _ = write!(r.out, "{self}");
    }
}

/// Implements [`Arg`] for a type whose `Display` is its strace form.
macro_rules! display_arg {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::syscall::arg::Arg for $t {
            fn from_reg(r: u64) -> Self {
                Self::from_raw(r)
            }
            fn to_reg(self) -> u64 {
                self.raw()
            }
            fn render(self, r: &mut $crate::syscall::render::Render<'_>, _i: usize) {
                use std::fmt::Write as _;
                let _ = write!(r.out, "{self}");
            }
        }
    )*};
}
pub(crate) use display_arg;

/// A newtype over a register holding a C integer of type `$kt`.
macro_rules! int_type {
    ($(#[$m:meta])* $name:ident($kt:ty)) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(u64);

        impl $name {
            /// From the register.
            pub const fn from_raw(raw: u64) -> Self {
                Self(raw)
            }
            /// The register, as the tracee passed it.
            pub const fn raw(self) -> u64 {
                self.0
            }
            /// The value the kernel reads.
            pub const fn get(self) -> $kt {
                self.0 as $kt
            }
        }

        impl From<$kt> for $name {
            /// The register a C caller passes (sign- or zero-extended).
            fn from(v: $kt) -> Self {
                Self(v as i64 as u64)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if Self::from(self.get()).0 == self.0 {
                    write!(f, concat!(stringify!($name), "({})"), self.get())
                } else {
                    write!(f, concat!(stringify!($name), "({}, raw={:#x})"), self.get(), self.0)
                }
            }
        }
    };
}
pub(crate) use int_type;

int_type!(
    /// A file descriptor (`int fd`).
    Fd(i32)
);
int_type!(
    /// The directory descriptor of an `…at` call: a descriptor or `AT_FDCWD`.
    DirFd(i32)
);
int_type!(
    /// A process, thread or group id (`pid_t`); negative values mean groups or "any".
    Pid(i32)
);
int_type!(
    /// A user or group id (`uid_t`, `gid_t`); `-1` means "unchanged".
    Uid(u32)
);
int_type!(
    /// A C `int` with no more structure.
    Int(i32)
);
int_type!(
    /// A C `unsigned int` with no more structure.
    UInt(u32)
);
int_type!(
    /// A 64-bit value strace prints in hex (`tls`, magic numbers, `mmap`'s offset).
    Hex(u64)
);
int_type!(
    /// A 32-bit value strace prints in hex.
    Hex32(u32)
);

impl Fd {
    /// Whether this is a plausible descriptor number (not negative).
    pub const fn is_valid(self) -> bool {
        self.get() >= 0
    }
}

impl DirFd {
    /// `AT_FDCWD`: relative paths are resolved from the working directory.
    pub const CWD: DirFd = DirFd(libc::AT_FDCWD as i64 as u64);

    /// Whether this is `AT_FDCWD`.
    pub const fn is_cwd(self) -> bool {
        self.get() == libc::AT_FDCWD
    }

    /// The descriptor, unless this is `AT_FDCWD`.
    pub const fn fd(self) -> Option<Fd> {
        if self.is_cwd() {
            None
        } else {
            Some(Fd(self.0))
        }
    }
}

impl fmt::Display for Fd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

impl fmt::Display for DirFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_cwd() {
            f.write_str("AT_FDCWD")
        } else {
            write!(f, "{}", self.get())
        }
    }
}

macro_rules! dec_display {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.get())
            }
        }
    )*};
}
dec_display!(Pid, Int, UInt);

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // strace prints the "unchanged" id as -1.
        match self.get() {
            u32::MAX => f.write_str("-1"),
            v => write!(f, "{v}"),
        }
    }
}

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, self.get())
    }
}

impl fmt::Display for Hex32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, u64::from(self.get()))
    }
}

/// Writes `v` as C's `%#x` does (`0x1f`, and `0` for zero).
pub(crate) fn write_hex(f: &mut dyn fmt::Write, v: u64) -> fmt::Result {
    if v == 0 {
        f.write_str("0")
    } else {
        write!(f, "{v:#x}")
    }
}

display_arg!(Pid, Uid, Int, UInt, Hex, Hex32);

impl Arg for DirFd {
    fn from_reg(r: u64) -> Self {
        DirFd(r)
    }
    fn to_reg(self) -> u64 {
        self.0
    }
    fn render(self, r: &mut Render<'_>, _i: usize) {
        let _ = write!(r.out, "{self}");
    }
    fn as_fd(self) -> Option<Fd> {
        self.fd()
    }
}

impl Arg for Fd {
    fn from_reg(r: u64) -> Self {
        Fd(r)
    }
    fn to_reg(self) -> u64 {
        self.0
    }
    fn render(self, r: &mut Render<'_>, _i: usize) {
        let _ = write!(r.out, "{self}");
    }
    fn as_fd(self) -> Option<Fd> {
        Some(self)
    }
}

/// A guest address, printed `NULL` or in hex.
pub(crate) fn write_ptr(out: &mut String, addr: u64) {
    if addr == 0 {
        out.push_str("NULL");
    } else {
        let _ = write!(out, "{addr:#x}");
    }
}

/// Declares a pointer newtype (public `u64` field: an address has no narrower view).
macro_rules! ptr_type {
    ($($(#[$m:meta])* $name:ident;)*) => {$(
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl $name {
            /// The guest address.
            pub const fn addr(self) -> u64 {
                self.0
            }
            /// Whether it is `NULL`.
            pub const fn is_null(self) -> bool {
                self.0 == 0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:#x})"), self.0)
            }
        }
    )*};
}

ptr_type! {
    /// A guest address takt does not look through (`mmap`'s hint, a `stat` buffer…).
    UserPtr;
    /// A NUL-terminated path, read by the kernel.
    PathPtr;
    /// A NUL-terminated string other than a path (an xattr name, a key type): printed
    /// like a path but at most 32 bytes.
    StrPtr;
    /// Bytes the kernel reads from the guest; the length is the next argument (`write`).
    InBuf;
    /// Bytes the kernel writes into the guest; the length is the next argument and the
    /// count written is the return value (`read`).
    OutBuf;
    /// An output buffer that receives a path (`getcwd`, `readlink`): printed whole.
    OutPath;
    /// `getrandom`'s buffer: printed in hex, as strace does.
    RandomBuf;
    /// A socket address the kernel reads; its length is the next argument (`connect`).
    SockaddrIn;
    /// A socket address the kernel fills in; the next argument points to its length
    /// (`accept`, `getsockname`, `recvfrom`).
    SockaddrOut;
    /// A `socklen_t *`: in, the buffer's size; out, the address's length.
    SocklenPtr;
    /// An array of `struct iovec` the kernel reads from; the count is the next argument.
    IovIn;
    /// An array of `struct iovec` the kernel fills; the count is the next argument.
    IovOut;
    /// A `struct msghdr` to send.
    MsghdrIn;
    /// A `struct msghdr` to receive into.
    MsghdrOut;
    /// A `struct timespec` the kernel reads (a timeout, a sleep).
    TimespecIn;
    /// A `struct timespec` the kernel fills on success (`clock_gettime`).
    TimespecOut;
    /// The time left, written when a sleep is interrupted (`nanosleep`'s `rem`).
    RemPtr;
    /// A `struct timeval` the kernel reads.
    TimevalIn;
    /// A `struct timeval` the kernel fills on success.
    TimevalOut;
    /// A `struct itimerval` the kernel reads.
    ItimervalIn;
    /// A `struct itimerval` the kernel fills on success.
    ItimervalOut;
    /// An array of `struct pollfd` (in and out); the count is the next argument.
    PollFds;
    /// An `fd_set` (in and out), sized by `select`'s first argument.
    FdSetPtr;
    /// One `struct epoll_event` the kernel reads (`epoll_ctl`).
    EpollEventIn;
    /// An array of `struct epoll_event` the kernel fills; the capacity is the next argument.
    EpollEventsOut;
    /// A `sigset_t` the kernel reads.
    SigsetIn;
    /// A `sigset_t` the kernel fills on success.
    SigsetOut;
    /// A `struct sigaction` the kernel reads.
    SigactionIn;
    /// A `struct sigaction` the kernel fills on success.
    SigactionOut;
    /// An `int[2]` the kernel fills with two descriptors (`pipe`, `socketpair`).
    FdPair;
    /// An `int *` wait status, filled when a child is reaped.
    WstatusPtr;
    /// An `int *` the kernel reads (`setsockopt`'s value is an [`InBuf`]).
    IntPtr;
    /// A NULL-terminated array of string pointers (`execve`'s `argv`).
    ArgvPtr;
    /// A NULL-terminated array of string pointers printed as a count (`envp`).
    EnvpPtr;
    /// A `struct utsname` the kernel fills.
    UtsnamePtr;
    /// A `struct clone_args` the kernel reads (`clone3`).
    CloneArgsPtr;
    /// `getsockopt`'s value buffer; the next argument points to its length.
    OptvalOut;
    /// A `struct stat` the kernel fills on success.
    StatPtr;
}

impl Arg for UserPtr {
    fn from_reg(r: u64) -> Self {
        UserPtr(r)
    }
    fn to_reg(self) -> u64 {
        self.0
    }
    fn render(self, r: &mut Render<'_>, _i: usize) {
        write_ptr(&mut r.out, self.0);
    }
}

/// The common shape of a pointer argument: render from what was captured, else the
/// address; capture with `$cap` (a `fn(&mut Capturer, usize, u64)`).
macro_rules! ptr_arg {
    ($($t:ident => render $render:path, capture $cap:path;)*) => {$(
        impl Arg for $t {
            fn from_reg(r: u64) -> Self {
                $t(r)
            }
            fn to_reg(self) -> u64 {
                self.0
            }
            fn render(self, r: &mut Render<'_>, i: usize) {
                if self.0 == 0 || !$render(r, i, self.0) {
                    write_ptr(&mut r.out, self.0);
                }
            }
            fn capture(self, c: &mut Capturer<'_>, i: usize) {
                if self.0 != 0 {
                    $cap(c, i, self.0);
                }
            }
        }
    )*};
}

use super::capture as cap;
use super::render::structs as rs;

ptr_arg! {
    PathPtr => render rs::path, capture cap::path;
    StrPtr => render rs::string, capture cap::string;
    InBuf => render rs::buf, capture cap::in_buf;
    OutBuf => render rs::buf, capture cap::out_buf;
    OutPath => render rs::path, capture cap::out_path;
    RandomBuf => render rs::hex_buf, capture cap::out_buf;
    SockaddrIn => render rs::sockaddr, capture cap::sockaddr_in;
    SockaddrOut => render rs::sockaddr, capture cap::sockaddr_out;
    SocklenPtr => render rs::socklen, capture cap::socklen;
    IovIn => render rs::iov, capture cap::iov_in;
    IovOut => render rs::iov, capture cap::iov_out;
    MsghdrIn => render rs::msghdr, capture cap::msghdr_in;
    MsghdrOut => render rs::msghdr, capture cap::msghdr_out;
    TimespecIn => render rs::timespec, capture cap::entry_16;
    TimespecOut => render rs::timespec, capture cap::exit_16;
    RemPtr => render rs::timespec, capture cap::rem;
    TimevalIn => render rs::timeval, capture cap::entry_16;
    TimevalOut => render rs::timeval, capture cap::exit_16;
    ItimervalIn => render rs::itimerval, capture cap::entry_32;
    ItimervalOut => render rs::itimerval, capture cap::exit_32;
    PollFds => render rs::pollfds, capture cap::pollfds;
    FdSetPtr => render rs::fd_set, capture cap::fd_set;
    EpollEventIn => render rs::epoll_event, capture cap::epoll_event;
    EpollEventsOut => render rs::epoll_events, capture cap::epoll_events;
    SigsetIn => render rs::sigset, capture cap::entry_8;
    SigsetOut => render rs::sigset, capture cap::exit_8;
    SigactionIn => render rs::sigaction, capture cap::entry_32;
    SigactionOut => render rs::sigaction, capture cap::exit_32;
    FdPair => render rs::fd_pair, capture cap::exit_8;
    WstatusPtr => render rs::wstatus, capture cap::wstatus;
    IntPtr => render rs::int_ptr, capture cap::entry_4;
    ArgvPtr => render rs::argv, capture cap::argv;
    EnvpPtr => render rs::envp, capture cap::envp;
    UtsnamePtr => render rs::utsname, capture cap::utsname;
    CloneArgsPtr => render rs::clone_args, capture cap::clone_args;
    OptvalOut => render rs::optval, capture cap::optval_out;
    StatPtr => render rs::stat, capture cap::stat;
}
