//! Clocks and sleeps on the virtual clock.

use super::{err, Done, H, MEM};
use crate::handler::time::{BOOT_SECS, EPOCH_SECS};
use crate::time::VTime;
use libc::*;

fn timespec(h: &H, at: u64) -> (i64, i64) {
    let w = h.get(at, 16);
    (
        i64::from_le_bytes(w[..8].try_into().unwrap()),
        i64::from_le_bytes(w[8..].try_into().unwrap()),
    )
}

#[test]
fn clocks_read_the_virtual_time() {
    let mut h = H::new();
    h.e.now = VTime::ZERO.plus_nanos(1_500_000_000);
    assert_eq!(
        h.sys(2, SYS_clock_gettime, &[CLOCK_REALTIME as u64, MEM]),
        Done::Ret(0)
    );
    let (s, ns) = timespec(&h, MEM);
    // The call's own cost is added at the stop, not by the handler.
    assert_eq!((s, ns), (EPOCH_SECS as i64 + 1, 500_000_000));
    assert_eq!(
        h.sys(2, SYS_clock_gettime, &[CLOCK_MONOTONIC as u64, MEM]),
        Done::Ret(0)
    );
    assert_eq!(timespec(&h, MEM), (BOOT_SECS as i64 + 1, 500_000_000));
    assert_eq!(h.sys(2, SYS_clock_gettime, &[99, MEM]), err(EINVAL));
    assert_eq!(
        h.sys(2, SYS_clock_gettime, &[CLOCK_REALTIME as u64, 0x1000]),
        err(EFAULT)
    );
    assert_eq!(
        h.sys(2, SYS_clock_getres, &[CLOCK_MONOTONIC as u64, MEM]),
        Done::Ret(0)
    );
    assert_eq!(h.sys(2, SYS_time, &[0]), Done::Ret(EPOCH_SECS as i64 + 1));
}

#[test]
fn a_sleep_parks_until_its_deadline() {
    let mut h = H::new();
    let ts = [0i64.to_le_bytes(), 10_000_000i64.to_le_bytes()].concat();
    h.put(MEM, &ts);
    assert_eq!(h.sys(2, SYS_nanosleep, &[MEM, 0]), Done::Parked);
    h.clock(VTime::ZERO.plus_nanos(9_999_999));
    assert_eq!(h.done(2), Done::Parked);
    h.clock(VTime::ZERO.plus_nanos(10_000_000));
    assert_eq!(h.done(2), Done::Ret(0));
    // Invalid times.
    let bad = [0i64.to_le_bytes(), 1_000_000_000i64.to_le_bytes()].concat();
    h.put(MEM, &bad);
    assert_eq!(h.sys(2, SYS_nanosleep, &[MEM, 0]), err(EINVAL));
    let neg = [(-1i64).to_le_bytes(), 0i64.to_le_bytes()].concat();
    h.put(MEM, &neg);
    assert_eq!(h.sys(2, SYS_nanosleep, &[MEM, 0]), err(EINVAL));
}

#[test]
fn an_absolute_clock_nanosleep_in_the_past_returns_at_once() {
    let mut h = H::new();
    h.e.now = VTime::ZERO.plus_nanos(5_000_000_000);
    let ts = [(BOOT_SECS as i64).to_le_bytes(), 0i64.to_le_bytes()].concat();
    h.put(MEM, &ts);
    let abs = TIMER_ABSTIME as u64;
    assert_eq!(
        h.sys(
            2,
            SYS_clock_nanosleep,
            &[CLOCK_MONOTONIC as u64, abs, MEM, 0]
        ),
        Done::Ret(0)
    );
}
