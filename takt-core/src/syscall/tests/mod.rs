//! Tests of the typed decode: the table against the dispatch table and the argument
//! counts, round trips and rendering robustness (proptest), and strace's output for
//! examples of each family.

mod decode;
mod prop;
mod render_fs;
mod render_io;
mod render_net;
mod render_process;
mod render_time;

use super::{Capture, LocalMemory, Syscall};

/// Where test buffers live.
pub(crate) const A: u64 = 0x1000;
pub(crate) const B: u64 = 0x2000;
pub(crate) const C: u64 = 0x3000;
pub(crate) const D: u64 = 0x4000;

/// Registers from up to six values.
pub(crate) fn regs(v: &[u64]) -> [u64; 6] {
    let mut a = [0u64; 6];
    a[..v.len()].copy_from_slice(v);
    a
}

/// The line for call `nr(args)` returning `ret`, captured from `mem` at entry and exit.
pub(crate) fn line(nr: i64, args: &[u64], ret: Option<i64>, mem: &LocalMemory) -> String {
    line2(nr, args, ret, mem, mem)
}

/// As [`line`], with the memory as the kernel left it at exit.
pub(crate) fn line2(
    nr: i64,
    args: &[u64],
    ret: Option<i64>,
    before: &LocalMemory,
    after: &LocalMemory,
) -> String {
    let call = Syscall::decode(nr as u32, regs(args));
    assert!(call.is_typed(), "{nr} is not typed");
    let mut cap = Capture::entry(&call, before);
    if let Some(r) = ret {
        cap.exit(&call, r, after);
    }
    call.render(ret, &cap)
}

/// `-errno` as a return value.
pub(crate) fn err(e: i32) -> Option<i64> {
    Some(-i64::from(e))
}

/// A value as a register, sign-extended as a C caller passes an `int`.
pub(crate) fn int(v: i32) -> u64 {
    v as i64 as u64
}
