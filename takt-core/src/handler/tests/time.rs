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
    h.e.w.now = VTime::ZERO.plus_nanos(1_500_000_000);
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
    h.e.w.now = VTime::ZERO.plus_nanos(5_000_000_000);
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

#[test]
fn alarms_and_itimers_report_what_was_left() {
    let mut h = H::new();
    assert_eq!(h.sys(2, SYS_alarm, &[5]), Done::Ret(0));
    h.e.w.now = VTime::ZERO.plus_nanos(1_400_000_000);
    // The kernel reads an unsigned int: 1 << 32 is 0, which cancels.
    assert_eq!(
        h.sys(2, SYS_alarm, &[1 << 32]),
        Done::Ret(4),
        "3.6 s rounds to 4"
    );
    assert_eq!(
        h.sys(2, SYS_getitimer, &[ITIMER_REAL as u64, MEM]),
        Done::Ret(0)
    );
    assert_eq!(h.get(MEM, 32), [0u8; 32], "disarmed");
    // setitimer(ITIMER_REAL, {2 s, every 1 s}), then read back and disarm with NULL.
    let tv = |s: i64| [s.to_le_bytes(), 0i64.to_le_bytes()].concat();
    h.put(MEM + 0x100, &[tv(1), tv(2)].concat());
    let real = ITIMER_REAL as u64;
    assert_eq!(
        h.sys(2, SYS_setitimer, &[real, MEM + 0x100, 0]),
        Done::Ret(0)
    );
    assert_eq!(h.sys(2, SYS_getitimer, &[real, MEM]), Done::Ret(0));
    assert_eq!(h.get(MEM, 32), [tv(1), tv(2)].concat());
    assert_eq!(
        h.sys(2, SYS_setitimer, &[real, 0, MEM + 0x200]),
        Done::Ret(0)
    );
    assert_eq!(
        h.get(MEM + 0x200, 32),
        [tv(1), tv(2)].concat(),
        "the old one"
    );
    assert_eq!(h.sys(2, SYS_setitimer, &[99, 0, 0]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_getitimer, &[99, MEM]), err(EINVAL));
}

#[test]
fn getrandom_checks_the_flags_the_kernel_reads() {
    let mut h = H::new();
    let grnd = u64::from;
    assert_eq!(h.sys(2, SYS_getrandom, &[MEM, 16, 0]), Done::Ret(16));
    assert_eq!(
        h.sys(2, SYS_getrandom, &[MEM, 16, 1 << 32 | grnd(GRND_NONBLOCK)]),
        Done::Ret(16),
        "flags are an unsigned int"
    );
    assert_eq!(h.sys(2, SYS_getrandom, &[MEM, 16, 8]), err(EINVAL));
    let both = grnd(GRND_INSECURE | GRND_RANDOM);
    assert_eq!(h.sys(2, SYS_getrandom, &[MEM, 16, both]), err(EINVAL));
}

#[test]
fn resource_queries_read_the_model() {
    let mut h = H::new();
    h.e.w.now = VTime::ZERO.plus_nanos(3_000_000_000);
    assert_eq!(
        h.sys(2, SYS_times, &[0]),
        Done::Ret((BOOT_SECS as i64 + 3) * 100)
    );
    assert_eq!(
        h.sys(2, SYS_getrusage, &[RUSAGE_SELF as u64, MEM]),
        Done::Ret(0)
    );
    assert_eq!(h.sys(2, SYS_getrusage, &[5, MEM]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_sysinfo, &[MEM]), Done::Ret(0));
    let uptime = i64::from_le_bytes(h.get(MEM, 8).try_into().unwrap());
    assert_eq!(uptime, BOOT_SECS as i64 + 3);
    assert_eq!(h.sys(2, SYS_gettimeofday, &[MEM, MEM + 0x10]), Done::Ret(0));
    assert_eq!(timespec(&h, MEM), (EPOCH_SECS as i64 + 3, 0));
    assert_eq!(h.get(MEM + 0x10, 8), [0u8; 8], "UTC, no DST");
}
