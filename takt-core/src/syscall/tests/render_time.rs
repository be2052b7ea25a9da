//! Rendering of clock, sleep and timer calls, compared with what strace prints.

use super::*;
use libc::*;

fn ts(sec: i64, sub: i64) -> Vec<u8> {
    let mut b = sec.to_le_bytes().to_vec();
    b.extend_from_slice(&sub.to_le_bytes());
    b
}

#[test]
fn clocks_and_sleeps() {
    let m = LocalMemory::new()
        .with(A, ts(12, 345))
        .with(B, ts(0, 1_000_000))
        .with(C, ts(4, 999));
    assert_eq!(
        line(SYS_clock_gettime, &[1, A], Some(0), &m),
        "clock_gettime(CLOCK_MONOTONIC, {tv_sec=12, tv_nsec=345}) = 0"
    );
    assert_eq!(
        line(SYS_clock_gettime, &[16, A], err(EINVAL), &m),
        "clock_gettime(16, 0x1000) = -1 EINVAL (Invalid argument)"
    );
    assert_eq!(
        line(SYS_nanosleep, &[B, 0], Some(0), &m),
        "nanosleep({tv_sec=0, tv_nsec=1000000}, NULL) = 0"
    );
    // The time left is printed only when a signal cut the sleep short.
    assert_eq!(
        line(SYS_nanosleep, &[B, C], Some(0), &m),
        "nanosleep({tv_sec=0, tv_nsec=1000000}, 0x3000) = 0"
    );
    assert_eq!(
        line(SYS_nanosleep, &[B, C], err(EINTR), &m),
        "nanosleep({tv_sec=0, tv_nsec=1000000}, {tv_sec=4, tv_nsec=999}) = -1 EINTR (Interrupted system call)"
    );
    assert_eq!(
        line(SYS_clock_nanosleep, &[0, 1, B, 0], Some(0), &m),
        "clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, {tv_sec=0, tv_nsec=1000000}, NULL) = 0"
    );
    assert_eq!(
        line(SYS_gettimeofday, &[A, 0], Some(0), &m),
        "gettimeofday({tv_sec=12, tv_usec=345}, NULL) = 0"
    );
    assert_eq!(
        line(SYS_time, &[0], Some(1_700_000_000), &m),
        "time(NULL) = 1700000000 (2023-11-14T22:13:20+0000)"
    );
    let mut it = ts(0, 0);
    it.extend_from_slice(&ts(1, 0));
    let m = LocalMemory::new().with(A, it);
    assert_eq!(
        line(SYS_setitimer, &[0, A, 0], Some(0), &m),
        "setitimer(ITIMER_REAL, {it_interval={tv_sec=0, tv_usec=0}, it_value={tv_sec=1, tv_usec=0}}, NULL) = 0"
    );
    assert_eq!(line(SYS_alarm, &[5], Some(0), &m), "alarm(5) = 0");
}

#[test]
fn dates() {
    use crate::syscall::calls::utc;
    assert_eq!(utc(0), "1970-01-01T00:00:00+0000");
    assert_eq!(utc(951_782_400), "2000-02-29T00:00:00+0000");
    assert_eq!(utc(-1), "1969-12-31T23:59:59+0000");
    // Never panics, whatever the guest's clock says.
    let _ = (utc(i64::MAX), utc(i64::MIN));
}
