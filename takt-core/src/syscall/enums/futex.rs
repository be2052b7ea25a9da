//! `futex` operations and the encoded arguments of some of them (`FUTEX_WAKE_OP`'s
//! operation, bitsets), printed as strace prints them.

use crate::syscall::arg::{display_arg, int_type};
use serde::{Deserialize, Serialize};
use std::fmt;

/// `futex` commands (`op & FUTEX_CMD_MASK`).
const FUTEX_CMDS: [&str; 14] = [
    "FUTEX_WAIT",
    "FUTEX_WAKE",
    "FUTEX_FD",
    "FUTEX_REQUEUE",
    "FUTEX_CMP_REQUEUE",
    "FUTEX_WAKE_OP",
    "FUTEX_LOCK_PI",
    "FUTEX_UNLOCK_PI",
    "FUTEX_TRYLOCK_PI",
    "FUTEX_WAIT_BITSET",
    "FUTEX_WAKE_BITSET",
    "FUTEX_WAIT_REQUEUE_PI",
    "FUTEX_CMP_REQUEUE_PI",
    "FUTEX_LOCK_PI2",
];

int_type!(
    /// A `futex` operation: a command with `FUTEX_PRIVATE_FLAG` and
    /// `FUTEX_CLOCK_REALTIME` bits (`FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME`).
    FutexOp(i32)
);

impl FutexOp {
    /// `FUTEX_PRIVATE_FLAG`.
    pub const PRIVATE: i32 = 128;
    /// `FUTEX_CLOCK_REALTIME`.
    pub const CLOCK_REALTIME: i32 = 256;
    /// `FUTEX_WAIT`.
    pub const WAIT: i32 = 0;
    /// `FUTEX_WAKE`.
    pub const WAKE: i32 = 1;
    /// `FUTEX_FD` (removed from Linux).
    pub const FD: i32 = 2;
    /// `FUTEX_REQUEUE`.
    pub const REQUEUE: i32 = 3;
    /// `FUTEX_CMP_REQUEUE`.
    pub const CMP_REQUEUE: i32 = 4;
    /// `FUTEX_WAKE_OP`.
    pub const WAKE_OP: i32 = 5;
    /// `FUTEX_LOCK_PI`.
    pub const LOCK_PI: i32 = 6;
    /// `FUTEX_UNLOCK_PI`.
    pub const UNLOCK_PI: i32 = 7;
    /// `FUTEX_TRYLOCK_PI`.
    pub const TRYLOCK_PI: i32 = 8;
    /// `FUTEX_WAIT_BITSET`.
    pub const WAIT_BITSET: i32 = 9;
    /// `FUTEX_WAKE_BITSET`.
    pub const WAKE_BITSET: i32 = 10;
    /// `FUTEX_WAIT_REQUEUE_PI`.
    pub const WAIT_REQUEUE_PI: i32 = 11;
    /// `FUTEX_CMP_REQUEUE_PI`.
    pub const CMP_REQUEUE_PI: i32 = 12;
    /// `FUTEX_LOCK_PI2`.
    pub const LOCK_PI2: i32 = 13;

    /// The command, without the private and clock bits.
    pub const fn cmd(self) -> i32 {
        self.get() & !(Self::PRIVATE | Self::CLOCK_REALTIME)
    }

    /// Whether `FUTEX_PRIVATE_FLAG` is set.
    pub const fn private(self) -> bool {
        self.get() & Self::PRIVATE != 0
    }

    /// Whether `FUTEX_CLOCK_REALTIME` is set.
    pub const fn clock_realtime(self) -> bool {
        self.get() & Self::CLOCK_REALTIME != 0
    }

    /// Whether the 4th argument is a timeout pointer (otherwise it is `val2`, or unused).
    pub const fn has_timeout(self) -> bool {
        matches!(
            self.cmd(),
            Self::WAIT | Self::LOCK_PI | Self::LOCK_PI2 | Self::WAIT_BITSET | Self::WAIT_REQUEUE_PI
        )
    }
}

impl fmt::Display for FutexOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cmd = self.cmd();
        match usize::try_from(cmd).ok().and_then(|c| FUTEX_CMDS.get(c)) {
            Some(name) => {
                f.write_str(name)?;
                if self.private() {
                    f.write_str("_PRIVATE")?;
                }
            }
            None => {
                if self.private() {
                    f.write_str("FUTEX_PRIVATE_FLAG|")?;
                }
                write!(f, "{:#x} /* FUTEX_??? */", cmd as u32)?;
            }
        }
        if self.clock_realtime() {
            f.write_str("|FUTEX_CLOCK_REALTIME")?;
        }
        Ok(())
    }
}
display_arg!(FutexOp);

/// Writes `FUTEX_WAKE_OP`'s encoded operation (`val3`) as strace does:
/// `FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1`.
pub(crate) fn write_futex_wake_op(f: &mut dyn fmt::Write, v: u32) -> fmt::Result {
    const OPS: [&str; 5] = [
        "FUTEX_OP_SET",
        "FUTEX_OP_ADD",
        "FUTEX_OP_OR",
        "FUTEX_OP_ANDN",
        "FUTEX_OP_XOR",
    ];
    const CMPS: [&str; 6] = [
        "FUTEX_OP_CMP_EQ",
        "FUTEX_OP_CMP_NE",
        "FUTEX_OP_CMP_LT",
        "FUTEX_OP_CMP_LE",
        "FUTEX_OP_CMP_GT",
        "FUTEX_OP_CMP_GE",
    ];
    let op = (v >> 28) & 0x7;
    if v >> 28 & 0x8 != 0 {
        f.write_str("FUTEX_OP_OPARG_SHIFT<<28|")?;
    }
    match OPS.get(op as usize) {
        Some(n) => write!(f, "{n}<<28")?,
        None => write!(f, "{op:#x}<<28")?,
    }
    f.write_char('|')?;
    crate::syscall::arg::write_hex(f, u64::from((v >> 12) & 0xfff))?;
    f.write_str("<<12|")?;
    let cmp = (v >> 24) & 0xf;
    match CMPS.get(cmp as usize) {
        Some(n) => write!(f, "{n}<<24")?,
        None => write!(f, "{cmp:#x}<<24")?,
    }
    f.write_char('|')?;
    crate::syscall::arg::write_hex(f, u64::from(v & 0xfff))
}

/// `FUTEX_BITSET_MATCH_ANY`, as strace names it, or the bitset in hex.
pub(crate) fn write_bitset(f: &mut dyn fmt::Write, v: u32) -> fmt::Result {
    if v == u32::MAX {
        f.write_str("FUTEX_BITSET_MATCH_ANY")
    } else {
        write!(f, "{v:#x}")
    }
}
