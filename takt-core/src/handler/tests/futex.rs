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
