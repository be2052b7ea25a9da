//! Signal calls: masks through sigtimedwait, signalfd's flags, kill's checks.

use super::{err, Done, H, MEM};
use libc::*;

#[test]
fn sigtimedwait_checks_its_set_size_and_times_out_when_nothing_is_pending() {
    let mut h = H::new();
    let set = (1u64 << (SIGUSR1 - 1)).to_le_bytes();
    h.put(MEM, &set);
    assert_eq!(
        h.sys(2, SYS_rt_sigtimedwait, &[MEM, 0, 0, 4]),
        err(EINVAL),
        "sigsetsize"
    );
    let zero = [0i64.to_le_bytes(), 0i64.to_le_bytes()].concat();
    h.put(MEM + 0x100, &zero);
    assert_eq!(
        h.sys(2, SYS_rt_sigtimedwait, &[MEM, 0, MEM + 0x100, 8]),
        err(EAGAIN),
        "a zero time-out and nothing pending"
    );
}

#[test]
fn a_signalfd_with_nothing_pending_reads_eagain_and_checks_its_buffer() {
    let mut h = H::new();
    h.put(MEM, &(1u64 << (SIGUSR1 - 1)).to_le_bytes());
    // The kernel makes the descriptor (and checks the flags); takt models its reads.
    let nonblock = SFD_NONBLOCK as u64;
    assert_eq!(
        h.sys(2, SYS_signalfd4, &[u64::MAX, MEM, 8, nonblock]),
        Done::Kernel
    );
    assert_eq!(h.kernel(2, 6), 6);
    assert_eq!(h.sys(2, SYS_read, &[6, MEM + 0x100, 128]), err(EAGAIN));
    assert_eq!(
        h.sys(2, SYS_read, &[6, MEM + 0x100, 64]),
        err(EINVAL),
        "under one siginfo"
    );
}

#[test]
fn kill_checks_the_signal_and_the_target() {
    let mut h = H::new();
    // A known target: the kernel delivers (and checks the signal number).
    assert_eq!(h.sys(2, SYS_kill, &[2, 65]), Done::Kernel);
    assert_eq!(h.sys(2, SYS_kill, &[4000, SIGTERM as u64]), err(ESRCH));
    assert_eq!(h.sys(2, SYS_tgkill, &[2, 4000, SIGTERM as u64]), err(ESRCH));
}

#[test]
fn a_blocking_signalfd_parks_its_reader_and_a_failed_one_is_not_modelled() {
    let mut h = H::new();
    h.put(MEM, &(1u64 << (SIGUSR1 - 1)).to_le_bytes());
    assert_eq!(h.sys(2, SYS_signalfd, &[u64::MAX, MEM, 8]), Done::Kernel);
    assert_eq!(h.kernel(2, 9), 9);
    assert_eq!(h.sys(2, SYS_read, &[9, MEM + 0x100, 128]), Done::Parked);
    // A mask of the wrong size: the kernel fails the call, takt installs nothing.
    h.process(3, 0);
    assert_eq!(h.sys(3, SYS_signalfd, &[u64::MAX, MEM, 4]), Done::Kernel);
    assert_eq!(h.kernel(3, -(EINVAL as i64)), -(EINVAL as i64));
    assert!(h.e.w.files.get(h.e.w.threads[&3].fdt, 10).is_none());
}

#[test]
fn sigsuspend_and_pause_wait_for_a_signal() {
    let mut h = H::new();
    h.put(MEM, &0u64.to_le_bytes());
    assert_eq!(h.sys(2, SYS_rt_sigsuspend, &[MEM, 4]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_rt_sigsuspend, &[0x1000, 8]), err(EFAULT));
    assert_eq!(h.sys(2, SYS_rt_sigsuspend, &[MEM, 8]), Done::Parked);
    h.process(3, 0);
    assert_eq!(h.sys(3, SYS_pause, &[]), Done::Parked);
    h.process(4, 0);
    assert_eq!(h.sys(4, SYS_rt_sigpending, &[MEM, 8]), Done::Kernel);
}
