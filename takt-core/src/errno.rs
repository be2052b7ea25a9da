//! The tracee's error world: an `Errno` is the only failure a traced program ever sees.
//!
//! Host-side failures (ptrace refused, a missing binary) are [`crate::Error`]; the two never
//! mix. Handlers return `Err(Errno)` and the dispatcher writes `-errno` into the tracee's
//! return register.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A Linux error number as the tracee sees it (positive, e.g. `Errno::EAGAIN.0 == 11`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Errno(pub i32);

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                pub const $name: Errno = Errno(libc::$name);
            )*

            /// The symbolic name (`"EAGAIN"`), or `"E?"` for numbers not in the table.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $(libc::$name => stringify!($name),)*
                    _ => "E?",
                }
            }

            /// Parses a symbolic name such as `"ECONNABORTED"`.
            pub fn from_name(name: &str) -> Option<Errno> {
                match name {
                    $(stringify!($name) => Some(Errno::$name),)*
                    _ => None,
                }
            }
        }
    };
}

errnos!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EPIPE,
    EDOM,
    ERANGE,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    ENAMETOOLONG,
    ENOTSOCK,
    EDESTADDRREQ,
    EMSGSIZE,
    EPROTOTYPE,
    ENOPROTOOPT,
    EPROTONOSUPPORT,
    ESOCKTNOSUPPORT,
    EOPNOTSUPP,
    EAFNOSUPPORT,
    EADDRINUSE,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ECONNABORTED,
    ECONNRESET,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ETIMEDOUT,
    ECONNREFUSED,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
    EDQUOT,
    ENOLINK,
    EPROTO,
    ESHUTDOWN,
    ETXTBSY,
    EIDRM,
);

impl Errno {
    /// The value a syscall returns for this error: `-errno`.
    pub fn ret(self) -> i64 {
        -(self.0 as i64)
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "E?" => write!(f, "Errno({})", self.0),
            name => f.write_str(name),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in [Errno::EAGAIN, Errno::ECONNREFUSED, Errno::ENOSYS] {
            assert_eq!(Errno::from_name(e.name()), Some(e));
        }
        assert_eq!(Errno::EPIPE.ret(), -32);
        assert_eq!(format!("{:?}", Errno(9999)), "Errno(9999)");
    }
}
