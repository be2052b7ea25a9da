//! POSIX timers and timerfds on the virtual clock: the typed calls and the timerfd's
//! exit action.

use super::{err, Done, H, MEM};
use crate::time::VTime;
use libc::*;

/// An `itimerspec` of `value` ns, repeating every `interval` ns, at `at`.
fn put_its(h: &H, at: u64, value: u64, interval: u64) {
    let ts = |ns: u64| [(ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64];
    let words = [ts(interval), ts(value)].concat();
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    h.put(at, &bytes);
}

/// The (value, interval) of the `itimerspec` at `at`, in ns.
fn get_its(h: &H, at: u64) -> (u64, u64) {
    let w = h.get(at, 32);
    let word = |i: usize| i64::from_le_bytes(w[i * 8..][..8].try_into().unwrap()) as u64;
    (
        word(2) * 1_000_000_000 + word(3),
        word(0) * 1_000_000_000 + word(1),
    )
}

#[test]
fn a_posix_timer_is_created_armed_read_and_deleted() {
    let mut h = H::new();
    // struct sigevent: sigev_value, sigev_signo, sigev_notify = SIGEV_NONE.
    let mut sev = [0u8; 64];
    sev[12..16].copy_from_slice(&SIGEV_NONE.to_le_bytes());
    h.put(MEM + 0x200, &sev);
    let create = [CLOCK_MONOTONIC as u64, MEM + 0x200, MEM + 0x300];
    assert_eq!(h.sys(2, SYS_timer_create, &create), Done::Ret(0));
    assert_eq!(h.get(MEM + 0x300, 4), 0i32.to_le_bytes(), "the first id");
    assert_eq!(h.sys(2, SYS_timer_create, &create), Done::Ret(0));
    assert_eq!(
        h.get(MEM + 0x300, 4),
        1i32.to_le_bytes(),
        "ids are not reused"
    );
    assert_eq!(
        h.sys(2, SYS_timer_create, &[99, 0, MEM + 0x300]),
        err(EINVAL),
        "not a clock"
    );
    // Armed for 1 s; a NULL new value is EINVAL.
    assert_eq!(h.sys(2, SYS_timer_settime, &[0, 0, 0, 0]), err(EINVAL));
    put_its(&h, MEM + 0x400, 1_000_000_000, 0);
    assert_eq!(
        h.sys(2, SYS_timer_settime, &[0, 0, MEM + 0x400, MEM + 0x500]),
        Done::Ret(0)
    );
    assert_eq!(get_its(&h, MEM + 0x500), (0, 0), "it was disarmed");
    h.e.w.now = VTime::ZERO.plus_nanos(300_000_000);
    // The kernel reads an int: the register's upper half is not part of the id.
    let id0 = 0xdead_0000_0000u64;
    assert_eq!(
        h.sys(2, SYS_timer_gettime, &[id0, MEM + 0x600]),
        Done::Ret(0)
    );
    assert_eq!(get_its(&h, MEM + 0x600), (700_000_000, 0));
    assert_eq!(h.sys(2, SYS_timer_getoverrun, &[0]), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_timer_delete, &[0]), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_timer_delete, &[0]), err(EINVAL), "deleted");
    assert_eq!(h.sys(2, SYS_timer_gettime, &[0, MEM + 0x600]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_timer_getoverrun, &[7]), err(EINVAL));
}

#[test]
fn a_timerfd_made_by_the_kernel_counts_expirations_on_the_virtual_clock() {
    let mut h = H::new();
    let flags = TFD_NONBLOCK as u64;
    assert_eq!(
        h.sys(2, SYS_timerfd_create, &[CLOCK_MONOTONIC as u64, flags]),
        Done::Kernel
    );
    // At its exit, fd 7 becomes the model's timerfd.
    assert_eq!(h.kernel(2, 7), 7);
    assert_eq!(h.sys(2, SYS_read, &[7, MEM + 0x700, 8]), err(EAGAIN));
    put_its(&h, MEM + 0x400, 1_000_000_000, 500_000_000);
    assert_eq!(
        h.sys(2, SYS_timerfd_settime, &[7, 0x100, MEM + 0x400, 0]),
        err(EINVAL),
        "an unknown flag"
    );
    assert_eq!(
        h.sys(2, SYS_timerfd_settime, &[7, 0, MEM + 0x400, MEM + 0x500]),
        Done::Ret(0)
    );
    assert_eq!(get_its(&h, MEM + 0x500), (0, 0));
    h.clock(VTime::ZERO.plus_nanos(2_000_000_000));
    assert_eq!(h.sys(2, SYS_read, &[7, MEM + 0x700, 8]), Done::Ret(8));
    assert_eq!(
        h.get(MEM + 0x700, 8),
        3u64.to_le_bytes(),
        "at 1, 1.5 and 2 s"
    );
    assert_eq!(
        h.sys(2, SYS_timerfd_gettime, &[7, MEM + 0x600]),
        Done::Ret(0)
    );
    assert_eq!(get_its(&h, MEM + 0x600), (500_000_000, 500_000_000));
    // A descriptor takt does not model is the kernel's.
    assert_eq!(
        h.sys(2, SYS_timerfd_gettime, &[40, MEM + 0x600]),
        Done::Kernel
    );
    // A failed timerfd_create installs nothing.
    assert_eq!(
        h.sys(2, SYS_timerfd_create, &[CLOCK_MONOTONIC as u64, 0]),
        Done::Kernel
    );
    assert_eq!(h.kernel(2, -(EMFILE as i64)), -(EMFILE as i64));
    assert!(h.e.w.files.get(h.e.w.threads[&2].fdt, 8).is_none());
}
