//! Linux's own limits on what a guest passes, applied before anything in the tracer is
//! sized by it: user-pointer ranges (`access_ok`), the per-call transfer cap
//! (`MAX_RW_COUNT`), iovec arrays (`UIO_MAXIOV`, negative lengths), and saturating
//! time arithmetic. Every handler reads lengths, counts and pointers through these, so
//! a hostile argument gets the errno Linux gives it and never an allocation, a loop or
//! an overflow of its choosing.

use crate::errno::Errno;
use crate::world::{Vtid, World};

/// Largest transfer of one call (`INT_MAX & PAGE_MASK`): longer ones are shortened.
pub(crate) const MAX_RW_COUNT: usize = 0x7fff_f000;
/// Largest iovec array (`UIO_MAXIOV`).
pub(crate) const UIO_MAXIOV: u64 = 1024;
/// End of user space (x86-64, 4-level paging: `TASK_SIZE_MAX`).
const TASK_SIZE_MAX: u64 = 0x7fff_ffff_f000;
/// Size of `struct iovec`.
const IOVEC: u64 = 16;

/// Whether `[addr, addr + len)` lies in user space (the kernel's `access_ok`).
pub(crate) fn access_ok(addr: u64, len: u64) -> bool {
    addr.checked_add(len)
        .is_some_and(|end| end <= TASK_SIZE_MAX)
}

/// The count of a `read`/`write`: `EFAULT` unless the buffer is user memory, then
/// capped at [`MAX_RW_COUNT`] (the order of `vfs_read`/`vfs_write`).
pub(crate) fn rw_count(addr: u64, count: u64) -> Result<usize, Errno> {
    if !access_ok(addr, count) {
        return Err(Errno::EFAULT);
    }
    Ok(cap(count))
}

/// The length of a `send*`/`recv*` buffer: capped at [`MAX_RW_COUNT`] first, then
/// checked (the order of `import_ubuf`).
pub(crate) fn ubuf_len(addr: u64, len: u64) -> Result<usize, Errno> {
    let len = cap(len);
    if !access_ok(addr, len as u64) {
        return Err(Errno::EFAULT);
    }
    Ok(len)
}

fn cap(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).min(MAX_RW_COUNT)
}

/// Reads and checks an iovec array as `import_iovec` does: more than [`UIO_MAXIOV`]
/// entries fail with `too_many` (`EINVAL` for `readv`, `EMSGSIZE` for a `msghdr`), a
/// negative length with `EINVAL`, a range outside user space with `EFAULT`; the total is
/// cut at [`MAX_RW_COUNT`], so lengths never sum past it.
pub(crate) fn iovecs(
    e: &World,
    tid: Vtid,
    addr: u64,
    cnt: u64,
    too_many: Errno,
) -> Result<Vec<(u64, usize)>, Errno> {
    if cnt == 0 {
        return Ok(Vec::new());
    }
    if cnt > UIO_MAXIOV {
        return Err(too_many);
    }
    // cnt ≤ 1024, so the size is at most 16 KiB.
    let raw = e.read_mem(tid, addr, cnt.saturating_mul(IOVEC) as usize)?;
    let entries: Vec<(u64, u64)> = raw
        .chunks_exact(IOVEC as usize)
        .map(|c| {
            let word = |r: std::ops::Range<usize>| {
                u64::from_le_bytes(c[r].try_into().expect("8 bytes of an iovec"))
            };
            (word(0..8), word(8..16))
        })
        .collect();
    if entries.iter().any(|&(_, len)| (len as i64) < 0) {
        return Err(Errno::EINVAL);
    }
    let mut total = 0usize;
    // A short-transfer fault on a vectored call caps its bytes (messages of
    // sendmmsg/recvmmsg are capped in their handler instead).
    let limit = match e.threads[&tid].cur.nr() as i64 {
        libc::SYS_sendmmsg | libc::SYS_recvmmsg => None,
        _ => e.threads[&tid].short,
    }
    .unwrap_or(MAX_RW_COUNT)
    .min(MAX_RW_COUNT);
    let mut out = Vec::with_capacity(entries.len());
    for (base, len) in entries {
        if !access_ok(base, len) {
            return Err(Errno::EFAULT);
        }
        let len = cap(len).min(limit.saturating_sub(total));
        total = total.saturating_add(len);
        out.push((base, len));
    }
    Ok(out)
}

/// Nanoseconds in `secs` seconds plus `frac` units of `unit` nanoseconds, saturating
/// (a guest's `LONG_MAX` seconds is "forever", as on Linux, not an overflow).
pub(crate) fn nanos(secs: u64, frac: u64, unit: u64) -> u64 {
    secs.saturating_mul(1_000_000_000)
        .saturating_add(frac.saturating_mul(unit))
}

/// A guest address `off` bytes past `base`, or `EFAULT` past the end of the space.
pub(crate) fn offset(base: u64, off: u64) -> Result<u64, Errno> {
    base.checked_add(off).ok_or(Errno::EFAULT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_counts_follow_linux() {
        assert!(access_ok(0x1000, 0x1000));
        assert!(access_ok(TASK_SIZE_MAX - 8, 8));
        assert!(!access_ok(TASK_SIZE_MAX - 8, 9));
        assert!(!access_ok(u64::MAX - 1, 8), "wraps");
        assert!(!access_ok(0xffff_8000_0000_0000, 0), "kernel address");
        assert_eq!(rw_count(0x5555_0000, 1 << 47), Err(Errno::EFAULT));
        assert_eq!(rw_count(0x5555_0000, 1 << 44), Ok(MAX_RW_COUNT));
        assert_eq!(rw_count(0x5555_0000, 100), Ok(100));
        assert_eq!(rw_count(0x1000, 0x7fff_ffff), Ok(MAX_RW_COUNT));
        assert_eq!(ubuf_len(0x5555_0000, 1 << 44), Ok(MAX_RW_COUNT));
        assert_eq!(ubuf_len(0x7fff_ffff_0000, 1 << 44), Err(Errno::EFAULT));
        assert_eq!(nanos(i64::MAX as u64, 999_999, 1000), u64::MAX);
        assert_eq!(nanos(2, 5, 1000), 2_000_005_000);
        assert_eq!(offset(u64::MAX, 1), Err(Errno::EFAULT));
    }
}
