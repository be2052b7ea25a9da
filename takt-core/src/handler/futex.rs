//! `futex`: wait queues in the core, so glibc and Rust `std` locks and condition
//! variables follow the scheduler instead of the host kernel.
//!
//! Queues are keyed by (address space, address) for private futexes and by address alone
//! for shared ones (processes sharing memory after `fork` see it at the same address).
//! Waiters are woken in FIFO order, as Linux does for equal priorities. The value check of
//! `FUTEX_WAIT` is atomic because only one tracee thread runs at a time.
//!
//! `futex_waitv` queues its thread on each of its futexes (32-bit ones only, as Linux
//! has; the NUMA flags are refused with `EINVAL`); a wake on any of them completes the
//! call with that futex's index and takes the thread off the other queues. The engine
//! keeps, for each waiting thread, the keys its current wait is queued under: an entry
//! left behind by a wait that timed out or was interrupted is never taken for a waiter.

use super::{Blocked, Out, Res};
use crate::errno::Errno;
use crate::syscall::calls::{Futex, FutexWaitv};
use crate::time::VTime;
use crate::world::{State, Vtid, World};

const FUTEX_WAIT: i32 = 0;
const FUTEX_WAKE: i32 = 1;
const FUTEX_REQUEUE: i32 = 3;
const FUTEX_CMP_REQUEUE: i32 = 4;
const FUTEX_WAKE_OP: i32 = 5;
const FUTEX_WAIT_BITSET: i32 = 9;
const FUTEX_WAKE_BITSET: i32 = 10;
const FUTEX_PRIVATE: i32 = 128;
const FUTEX_CLOCK_REALTIME: i32 = 256;

fn key(e: &World, tid: Vtid, addr: u64, private: bool) -> (Vtid, u64) {
    if private {
        (e.procs[&e.threads[&tid].pid].mm, addr)
    } else {
        (0, addr)
    }
}

/// The `futex` syscall.
pub fn futex(e: &mut World, tid: Vtid, c: Futex) -> Res {
    let (uaddr, op, val) = (c.uaddr.addr(), c.futex_op.get(), c.val.get());
    let private = op & FUTEX_PRIVATE != 0;
    let cmd = op & !(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME);
    let waits = matches!(cmd, FUTEX_WAIT | FUTEX_WAIT_BITSET);
    // Linux's order: a waiting command's time-out is read and checked first; a clock
    // is for FUTEX_WAIT_BITSET only (the PI commands aside); then the command itself.
    let timeout = match c.timeout.get() {
        p if waits && p != 0 => {
            let ts: libc::timespec = e.read_val(tid, p)?;
            Some(super::time::ts_nanos(&ts)?)
        }
        _ => None,
    };
    if op & FUTEX_CLOCK_REALTIME != 0 && cmd != FUTEX_WAIT_BITSET {
        return Err(Errno::ENOSYS);
    }
    let k = key(e, tid, uaddr, private);
    // The plain operations match every waiter; the _BITSET ones those in `val3`.
    let bitset = |plain: i32| match cmd == plain {
        true => Ok(u32::MAX),
        false if c.val3.get() == 0 => Err(Errno::EINVAL),
        false => Ok(c.val3.get()),
    };
    // As the kernel's key lookup: a futex word is 4-byte aligned (EINVAL), and a
    // shared one must be mapped (EFAULT; a private one is only an address).
    let check = |e: &World, addr: u64| -> Result<(), Errno> {
        if addr % 4 != 0 {
            return Err(Errno::EINVAL);
        }
        if !private {
            e.read_val::<u32>(tid, addr)?;
        }
        Ok(())
    };
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let b = bitset(FUTEX_WAIT)?;
            check(e, uaddr)?;
            wait(e, tid, k, c, b, timeout)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let b = bitset(FUTEX_WAKE)?;
            check(e, uaddr)?;
            Ok(Out::Return(wake(e, k.0, k.1, val, b) as i64))
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            if (val as i32) < 0 || (c.val2() as i32) < 0 {
                return Err(Errno::EINVAL); // counts of waiters to wake and to move
            }
            check(e, uaddr)?;
            check(e, c.uaddr2.addr())?;
            requeue(e, tid, k, c, cmd == FUTEX_CMP_REQUEUE)
        }
        FUTEX_WAKE_OP => {
            check(e, uaddr)?;
            check(e, c.uaddr2.addr())?;
            wake_op(e, tid, k, c)
        }
        _ => {
            e.warn(format!(
                "futex operation {cmd} (unknown, or a PI futex) answered ENOSYS"
            ));
            Err(Errno::ENOSYS)
        }
    }
}

/// `FUTEX_WAIT` (a relative time-out) and `FUTEX_WAIT_BITSET` (an absolute one, on
/// `CLOCK_MONOTONIC` or, with `FUTEX_CLOCK_REALTIME` in `op`, `CLOCK_REALTIME`).
fn wait(
    e: &mut World,
    tid: Vtid,
    k: (Vtid, u64),
    c: Futex,
    bitset: u32,
    timeout: Option<u64>,
) -> Res {
    let (uaddr, val, op) = (c.uaddr.addr(), c.val.get(), c.futex_op.get());
    let relative = op & !(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME) == FUTEX_WAIT;
    let cur: u32 = e.read_val(tid, uaddr)?;
    if cur != val {
        return Err(Errno::EAGAIN);
    }
    let deadline = match timeout {
        None => None,
        Some(ns) => Some(if relative {
            e.now.plus_nanos(ns)
        } else {
            absolute(e, ns, op)
        }),
    };
    if deadline.is_some_and(|d| d <= e.now) {
        return Err(Errno::ETIMEDOUT);
    }
    forget_wait(e, tid);
    e.futexes.entry(k).or_default().push_back((tid, bitset));
    e.futex_waits.insert(tid, vec![k]);
    Ok(Out::Block(
        Blocked::new("futex (a lock or condition variable)")
            .until(deadline, Errno::ETIMEDOUT.ret()),
    ))
}

/// The most futexes one `futex_waitv` waits on (`FUTEX_WAITV_MAX`).
const WAITV_MAX: u32 = 128;
/// `FUTEX2_SIZE_U32`, the size bits of a `futex_waitv` entry's flags.
const FUTEX2_SIZE_U32: u32 = 2;
const FUTEX2_SIZE_MASK: u32 = 3;

/// `futex_waitv(waiters, nr_futexes, flags, timeout, clockid)`: waits until a wake on
/// one of the futexes (returns its index), the absolute `timeout` on `clockid`
/// (`ETIMEDOUT`), or a signal (restarted after an `SA_RESTART` handler, else `EINTR`).
/// The checks come in the kernel's order (`kernel/futex/syscalls.c`).
pub fn futex_waitv(e: &mut World, tid: Vtid, c: FutexWaitv) -> Res {
    let (waiters, nr, flags) = (c.waiters.addr(), c.nr_futexes.get(), c.flags.get());
    let (timeout, clk) = (c.timeout.addr(), c.clockid.get());
    if flags != 0 || nr == 0 || nr > WAITV_MAX || waiters == 0 {
        return Err(Errno::EINVAL);
    }
    let deadline = match timeout {
        0 => None,
        p => {
            if clk != libc::CLOCK_REALTIME && clk != libc::CLOCK_MONOTONIC {
                return Err(Errno::EINVAL);
            }
            let ts: libc::timespec = e.read_val(tid, p)?;
            let op = match clk {
                libc::CLOCK_REALTIME => FUTEX_CLOCK_REALTIME,
                _ => 0,
            };
            Some(absolute(e, super::time::ts_nanos(&ts)?, op))
        }
    };
    // Each entry: u64 val, u64 uaddr, u32 flags, u32 __reserved.
    let mut entries = Vec::with_capacity(nr as usize);
    for i in 0..u64::from(nr) {
        let at = super::guest::offset(waiters, i.saturating_mul(24))?;
        let b = e.read_mem(tid, at, 24)?;
        let mut w = [[0u8; 8]; 2];
        w[0].copy_from_slice(&b[0..8]);
        w[1].copy_from_slice(&b[8..16]);
        let (val, uaddr) = (u64::from_ne_bytes(w[0]), u64::from_ne_bytes(w[1]));
        let fl = u32::from_ne_bytes([b[16], b[17], b[18], b[19]]);
        let reserved = u32::from_ne_bytes([b[20], b[21], b[22], b[23]]);
        if fl & !(FUTEX2_SIZE_MASK | FUTEX_PRIVATE as u32) != 0 || reserved != 0 {
            return Err(Errno::EINVAL);
        }
        if fl & FUTEX2_SIZE_MASK != FUTEX2_SIZE_U32 || val > u64::from(u32::MAX) {
            return Err(Errno::EINVAL);
        }
        entries.push((val as u32, uaddr, fl & FUTEX_PRIVATE as u32 != 0));
    }
    // The keys: aligned, and a shared one mapped.
    for &(_, uaddr, private) in &entries {
        if uaddr % 4 != 0 {
            return Err(Errno::EINVAL);
        }
        if !private {
            e.read_val::<u32>(tid, uaddr)?;
        }
    }
    for &(val, uaddr, _) in &entries {
        if e.read_val::<u32>(tid, uaddr)? != val {
            return Err(Errno::EAGAIN);
        }
    }
    if deadline.is_some_and(|d| d <= e.now) {
        return Err(Errno::ETIMEDOUT);
    }
    forget_wait(e, tid);
    let keys: Vec<(Vtid, u64)> = entries.iter().map(|&(_, u, p)| key(e, tid, u, p)).collect();
    for &k in &keys {
        e.futexes.entry(k).or_default().push_back((tid, u32::MAX));
    }
    e.futex_waits.insert(tid, keys);
    Ok(Out::Block(
        Blocked::new("futexes (locks or condition variables)")
            .until(deadline, Errno::ETIMEDOUT.ret()),
    ))
}

/// An absolute time-out of `ns` on `CLOCK_MONOTONIC` (or, with `FUTEX_CLOCK_REALTIME` in
/// `op`, `CLOCK_REALTIME`) as a virtual time (at the earliest now).
fn absolute(e: &World, ns: u64, op: i32) -> VTime {
    let base = super::guest::nanos(
        if op & FUTEX_CLOCK_REALTIME != 0 {
            super::time::EPOCH_SECS
        } else {
            super::time::BOOT_SECS
        },
        0,
        0,
    );
    VTime(ns.saturating_sub(base).max(e.now.as_nanos()))
}

/// Takes a thread that was in `futex` or `futex_waitv` (woken, timed out or
/// interrupted) off the queues of its futexes.
fn forget_wait(e: &mut World, tid: Vtid) {
    let Some(keys) = e.futex_waits.remove(&tid) else {
        return;
    };
    for k in keys {
        if let Some(q) = e.futexes.get_mut(&k) {
            q.retain(|&(w, _)| w != tid);
            if q.is_empty() {
                e.futexes.remove(&k);
            }
        }
    }
}

/// `FUTEX_REQUEUE` and `FUTEX_CMP_REQUEUE` (`cmp`: only if the word still holds
/// `val3`): wakes `val` waiters and moves up to `val2` others to the futex at `uaddr2`.
fn requeue(e: &mut World, tid: Vtid, k: (Vtid, u64), c: Futex, cmp: bool) -> Res {
    let private = c.futex_op.private();
    if cmp {
        let cur: u32 = e.read_val(tid, c.uaddr.addr())?;
        if cur != c.val3.get() {
            return Err(Errno::EAGAIN);
        }
    }
    let woken = wake(e, k.0, k.1, c.val.get(), u32::MAX);
    let k2 = key(e, tid, c.uaddr2.addr(), private);
    let mut moved = 0u64;
    let limit = u64::from(c.val2());
    let mut from = e.futexes.remove(&k).unwrap_or_default();
    while moved < limit {
        let Some(w) = from.pop_front() else { break };
        if waiting(e, w.0, k) {
            e.futexes.entry(k2).or_default().push_back(w);
            if let Some(ks) = e.futex_waits.get_mut(&w.0) {
                ks.iter_mut().filter(|x| **x == k).for_each(|x| *x = k2);
            }
            moved = moved.saturating_add(1);
        }
    }
    if !from.is_empty() {
        e.futexes.insert(k, from);
    }
    Ok(Out::Return((woken as i64).saturating_add(moved as i64)))
}

/// `FUTEX_WAKE_OP`: changes the word at `uaddr2` as `val3` encodes, wakes `val`
/// waiters of the first futex and, if the old value passes the encoded comparison,
/// `val2` of the second.
fn wake_op(e: &mut World, tid: Vtid, k: (Vtid, u64), c: Futex) -> Res {
    let private = c.futex_op.private();
    let (val, uaddr2) = (c.val.get(), c.uaddr2.addr());
    let (val2, encoded) = (c.val2(), c.val3.get());
    let old: u32 = e.read_val(tid, uaddr2)?;
    let (opk, cmp) = ((encoded >> 28) & 0xf, (encoded >> 24) & 0xf);
    // Both arguments are signed 12-bit numbers; a shift counts modulo 32.
    let sext12 = |v: u32| ((v << 20) as i32 >> 20) as u32;
    let mut oparg = sext12((encoded >> 12) & 0xfff);
    let cmparg = sext12(encoded & 0xfff);
    if opk & 8 != 0 {
        oparg = 1u32 << (oparg & 31);
    }
    let new = match opk & 7 {
        0 => oparg,
        1 => old.wrapping_add(oparg),
        2 => old | oparg,
        3 => old & !oparg,
        4 => old ^ oparg,
        _ => return Err(Errno::ENOSYS),
    };
    e.write_val(tid, uaddr2, &new)?;
    // An unknown comparison fails after the word changed, before anyone is woken.
    let hit = match cmp {
        0 => old == cmparg,
        1 => old != cmparg,
        2 => (old as i32) < cmparg as i32,
        3 => (old as i32) <= cmparg as i32,
        4 => (old as i32) > cmparg as i32,
        5 => (old as i32) >= cmparg as i32,
        _ => return Err(Errno::ENOSYS),
    };
    let mut n = wake(e, k.0, k.1, val, u32::MAX);
    if hit {
        let k2 = key(e, tid, uaddr2, private);
        n = n.saturating_add(wake(e, k2.0, k2.1, val2, u32::MAX));
    }
    Ok(Out::Return(n as i64))
}

/// Whether the queue entry of `tid` under key `k` is live: the thread waits in a futex
/// call now, and that wait is queued under `k`. (A wait that timed out or was
/// interrupted leaves its entry behind; were it taken for a waiter after the thread
/// began another wait, a wake would be spent on the wrong thread and lost.)
fn waiting(e: &World, tid: Vtid, k: (Vtid, u64)) -> bool {
    e.threads.get(&tid).is_some_and(|t| {
        matches!(&t.state, State::Blocked(b) if b.what.starts_with("futex"))
            && matches!(t.cur.nr() as i64, libc::SYS_futex | libc::SYS_futex_waitv)
    }) && e.futex_waits.get(&tid).is_some_and(|ks| ks.contains(&k))
}

/// Wakes up to `n` waiters of (`mm`, `addr`) whose bitset intersects `bitset`.
pub fn wake(e: &mut World, mm: Vtid, addr: u64, n: u32, bitset: u32) -> u32 {
    let mut woken = 0;
    for k in [(mm, addr), (0, addr)] {
        let Some(mut q) = e.futexes.remove(&k) else {
            continue;
        };
        let mut keep = std::collections::VecDeque::new();
        while let Some((tid, bits)) = q.pop_front() {
            if !waiting(e, tid, k) {
                continue; // timed out or interrupted earlier
            }
            if woken < n && bits & bitset != 0 {
                // A `futex_waitv` returns the index of the futex that woke it.
                let index = e
                    .futex_waits
                    .get(&tid)
                    .and_then(|ks| ks.iter().position(|&x| x == k));
                q.retain(|&(w, _)| w != tid);
                forget_wait(e, tid);
                e.complete(tid, index.map_or(0, |i| i as i64));
                woken = woken.saturating_add(1);
            } else {
                keep.push_back((tid, bits));
            }
        }
        if !keep.is_empty() {
            e.futexes.insert(k, keep);
        }
    }
    woken
}
