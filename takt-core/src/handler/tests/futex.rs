//! The futex model: wait while the word holds the value, wake, time-outs, errnos.

use super::{err, Done, H, MEM};
use crate::time::VTime;
use libc::*;

const WAIT: u64 = (FUTEX_WAIT | FUTEX_PRIVATE_FLAG) as u64;
const WAKE: u64 = (FUTEX_WAKE | FUTEX_PRIVATE_FLAG) as u64;

/// A second thread of process 2 (shares its memory and futex keys).
fn with_thread(h: &mut H) {
    h.e.test_thread(2, 7);
}

#[test]
fn a_wait_parks_until_a_wake_and_the_waker_counts_it() {
    let mut h = H::new();
    with_thread(&mut h);
    h.put(MEM, &1u32.to_le_bytes());
    assert_eq!(h.sys(7, SYS_futex, &[MEM, WAIT, 1, 0]), Done::Parked);
    assert_eq!(h.sys(2, SYS_futex, &[MEM, WAKE, 1]), Done::Ret(1));
    assert_eq!(h.wake(7), Done::Ret(0));
    // Nobody waits any more.
    assert_eq!(h.sys(2, SYS_futex, &[MEM, WAKE, 1]), Done::Ret(0));
}

#[test]
fn a_wait_on_a_changed_word_fails_at_once_and_a_timeout_ends_it() {
    let mut h = H::new();
    h.put(MEM, &2u32.to_le_bytes());
    assert_eq!(h.sys(2, SYS_futex, &[MEM, WAIT, 1, 0]), err(EAGAIN));
    // 5 ms relative time-out.
    let ts = [0i64.to_le_bytes(), 5_000_000i64.to_le_bytes()].concat();
    h.put(MEM + 0x100, &ts);
    assert_eq!(
        h.sys(2, SYS_futex, &[MEM, WAIT, 2, MEM + 0x100]),
        Done::Parked
    );
    h.clock(VTime::ZERO.plus_nanos(5_000_000));
    assert_eq!(h.done(2), err(ETIMEDOUT));
}

#[test]
fn bad_words_ops_and_timeouts_get_linux_errnos() {
    let mut h = H::new();
    assert_eq!(
        h.sys(2, SYS_futex, &[MEM + 1, WAIT, 0, 0]),
        err(EINVAL),
        "unaligned"
    );
    assert_eq!(
        h.sys(2, SYS_futex, &[0x1000, WAIT, 0, 0]),
        err(EFAULT),
        "unmapped"
    );
    assert_eq!(
        h.sys(2, SYS_futex, &[MEM, 99, 0, 0]),
        err(ENOSYS),
        "unknown op"
    );
    let ts = [0i64.to_le_bytes(), 2_000_000_000i64.to_le_bytes()].concat();
    h.put(MEM + 0x100, &ts);
    assert_eq!(
        h.sys(2, SYS_futex, &[MEM, WAIT, 0, MEM + 0x100]),
        err(EINVAL),
        "tv_nsec over a second"
    );
}

/// Threads 7 and 8 of process 2.
fn two_threads(h: &mut H) {
    h.e.test_thread(2, 7);
    h.e.test_thread(2, 8);
}

#[test]
fn cmp_requeue_wakes_some_and_moves_the_others_to_the_second_futex() {
    let mut h = H::new();
    two_threads(&mut h);
    h.put(MEM, &5u32.to_le_bytes());
    assert_eq!(h.sys(7, SYS_futex, &[MEM, WAIT, 5, 0]), Done::Parked);
    assert_eq!(h.sys(8, SYS_futex, &[MEM, WAIT, 5, 0]), Done::Parked);
    let cmp = (FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG) as u64;
    let other = MEM + 8;
    assert_eq!(
        h.sys(2, SYS_futex, &[MEM, cmp, 1, 1, other, 4]),
        err(EAGAIN),
        "the word holds 5, not 4"
    );
    assert_eq!(
        h.sys(2, SYS_futex, &[MEM, cmp, u32::MAX as u64, 1, other, 5]),
        err(EINVAL),
        "a negative count"
    );
    // Wake one, move one: the moved one waits on the second futex now.
    assert_eq!(
        h.sys(2, SYS_futex, &[MEM, cmp, 1, 1, other, 5]),
        Done::Ret(2)
    );
    assert_eq!(h.wake(7), Done::Ret(0));
    assert_eq!(h.done(8), Done::Parked);
    assert_eq!(h.sys(2, SYS_futex, &[MEM, WAKE, 1]), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_futex, &[other, WAKE, 1]), Done::Ret(1));
    assert_eq!(h.wake(8), Done::Ret(0));
}

#[test]
fn wake_op_changes_the_second_word_and_wakes_both_futexes() {
    let mut h = H::new();
    two_threads(&mut h);
    let other = MEM + 8;
    assert_eq!(h.sys(7, SYS_futex, &[MEM, WAIT, 0, 0]), Done::Parked);
    assert_eq!(h.sys(8, SYS_futex, &[other, WAIT, 0, 0]), Done::Parked);
    // FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 0): the old value 0 passes.
    let encoded = (1u64 << 28) | (3 << 12);
    let op = (FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG) as u64;
    assert_eq!(
        h.sys(2, SYS_futex, &[MEM, op, 1, 1, other, encoded]),
        Done::Ret(2)
    );
    assert_eq!(h.get(other, 4), 3u32.to_le_bytes());
    assert_eq!((h.wake(7), h.wake(8)), (Done::Ret(0), Done::Ret(0)));
    // An unknown comparison fails after the word changed.
    let bad = (1u64 << 28) | (7 << 24) | (1 << 12);
    assert_eq!(
        h.sys(2, SYS_futex, &[MEM, op, 1, 1, other, bad]),
        err(ENOSYS)
    );
    assert_eq!(h.get(other, 4), 4u32.to_le_bytes());
}

#[test]
fn wait_bitset_matches_only_wakes_in_its_bitset() {
    let mut h = H::new();
    with_thread(&mut h);
    let wait = (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG) as u64;
    let wake = (FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG) as u64;
    assert_eq!(
        h.sys(7, SYS_futex, &[MEM, wait, 0, 0, 0, 0]),
        err(EINVAL),
        "an empty bitset"
    );
    assert_eq!(
        h.sys(7, SYS_futex, &[MEM, wait, 0, 0, 0, 0b01]),
        Done::Parked
    );
    assert_eq!(
        h.sys(2, SYS_futex, &[MEM, wake, 1, 0, 0, 0b10]),
        Done::Ret(0)
    );
    assert_eq!(
        h.sys(2, SYS_futex, &[MEM, wake, 1, 0, 0, 0b11]),
        Done::Ret(1)
    );
    assert_eq!(h.wake(7), Done::Ret(0));
    // FUTEX_CLOCK_REALTIME is for FUTEX_WAIT_BITSET only.
    let rt = WAIT | FUTEX_CLOCK_REALTIME as u64;
    assert_eq!(h.sys(2, SYS_futex, &[MEM, rt, 0, 0]), err(ENOSYS));
}

/// A `struct futex_waitv` (u64 val, u64 uaddr, u32 flags, u32 reserved).
fn waitv(val: u64, uaddr: u64, flags: u32) -> Vec<u8> {
    let mut v = val.to_le_bytes().to_vec();
    v.extend_from_slice(&uaddr.to_le_bytes());
    v.extend_from_slice(&flags.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v
}

#[test]
fn futex_waitv_returns_the_index_of_the_futex_that_woke_it() {
    let mut h = H::new();
    with_thread(&mut h);
    let private_u32 = 2 | FUTEX_PRIVATE_FLAG as u32;
    let list = MEM + 0x100;
    h.put(
        list,
        &[waitv(0, MEM, private_u32), waitv(0, MEM + 8, private_u32)].concat(),
    );
    assert_eq!(h.sys(7, SYS_futex_waitv, &[list, 2, 1, 0, 0]), err(EINVAL));
    assert_eq!(h.sys(7, SYS_futex_waitv, &[list, 0, 0, 0, 0]), err(EINVAL));
    assert_eq!(h.sys(7, SYS_futex_waitv, &[list, 2, 0, 0, 0]), Done::Parked);
    assert_eq!(h.sys(2, SYS_futex, &[MEM + 8, WAKE, 1]), Done::Ret(1));
    assert_eq!(h.wake(7), Done::Ret(1), "the second futex");
    // Off every queue now: a wake of the first finds nobody.
    assert_eq!(h.sys(2, SYS_futex, &[MEM, WAKE, 1]), Done::Ret(0));
    // A word that changed: EAGAIN; a 64-bit futex: EINVAL.
    h.put(MEM + 8, &1u32.to_le_bytes());
    assert_eq!(h.sys(7, SYS_futex_waitv, &[list, 2, 0, 0, 0]), err(EAGAIN));
    h.put(list, &waitv(0, MEM, 3));
    assert_eq!(h.sys(7, SYS_futex_waitv, &[list, 1, 0, 0, 0]), err(EINVAL));
}
