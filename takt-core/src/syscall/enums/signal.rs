//! Signal numbers and signal sets, named as strace names them (`SIGINT`, `SIGRT_1`,
//! `[INT TERM]`, `~[RTMIN RT_1]`).

use crate::syscall::arg::{display_arg, int_type};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Signal names 1 to 31 (x86-64), without the `SIG` prefix.
const SIGNALS: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

int_type!(
    /// A signal number (`SIGINT`, `SIGRT_1`; 0 is the null signal of `kill`).
    Signal(i32)
);

impl Signal {
    /// `SIGKILL`.
    pub const SIGKILL: i32 = 9;
    /// `SIGCHLD`.
    pub const SIGCHLD: i32 = 17;

    /// Writes the name without `SIG` (`INT`, `RTMIN`, `RT_1`) as sigsets print it;
    /// false if the number has no name.
    pub(crate) fn write_short(n: i64, f: &mut dyn fmt::Write) -> Result<bool, fmt::Error> {
        match n {
            1..=31 => f.write_str(SIGNALS[(n - 1) as usize])?,
            32 => f.write_str("RTMIN")?,
            33..=64 => write!(f, "RT_{}", n - 32)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.get();
        if (1..=64).contains(&n) {
            f.write_str("SIG")?;
            Signal::write_short(i64::from(n), f)?;
            Ok(())
        } else {
            write!(f, "{n}")
        }
    }
}
display_arg!(Signal);

/// Writes a sigset mask as strace does: `[INT TERM]`, or `~[…]` listing what is missing
/// when more than half the signals are in it.
pub(crate) fn write_sigmask(f: &mut dyn fmt::Write, mask: u64) -> fmt::Result {
    let (inv, m) = if mask.count_ones() > 32 {
        (true, !mask)
    } else {
        (false, mask)
    };
    if inv {
        f.write_char('~')?;
    }
    f.write_char('[')?;
    let mut first = true;
    for bit in 0..64u32 {
        if m & (1u64 << bit) == 0 {
            continue;
        }
        if !first {
            f.write_char(' ')?;
        }
        first = false;
        Signal::write_short(i64::from(bit) + 1, f)?;
    }
    f.write_char(']')
}
