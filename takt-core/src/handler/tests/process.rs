//! Process calls: ids in the scenario's namespace, waits, their errnos.

use super::{err, Done, H, MEM};
use libc::*;

#[test]
fn ids_are_the_scenarios() {
    let mut h = H::new();
    h.e.test_thread(2, 9);
    assert_eq!(h.sys(2, SYS_getpid, &[]), Done::Ret(2));
    assert_eq!(h.sys(9, SYS_getpid, &[]), Done::Ret(2));
    assert_eq!(h.sys(9, SYS_gettid, &[]), Done::Ret(9));
    assert_eq!(h.sys(2, SYS_getppid, &[]), Done::Ret(1));
}

#[test]
fn waits_without_children_fail_with_echild_and_bad_options_with_einval() {
    let mut h = H::new();
    assert_eq!(h.sys(2, SYS_wait4, &[u64::MAX, MEM, 0, 0]), err(ECHILD));
    assert_eq!(h.sys(2, SYS_wait4, &[u64::MAX, MEM, 0x100, 0]), err(EINVAL));
    assert_eq!(
        h.sys(2, SYS_wait4, &[i32::MIN as u64, MEM, 0, 0]),
        err(ESRCH)
    );
    // waitid needs WEXITED, WSTOPPED or WCONTINUED.
    assert_eq!(
        h.sys(2, SYS_waitid, &[P_ALL as u64, 0, MEM, 0, 0]),
        err(EINVAL)
    );
    assert_eq!(
        h.sys(2, SYS_waitid, &[P_ALL as u64, 0, MEM, WEXITED as u64, 0]),
        err(ECHILD)
    );
}

#[test]
fn a_parent_waits_for_its_exited_child_and_reaps_it_once() {
    let mut h = H::new();
    h.process(3, 0);
    h.e.procs.get_mut(&3).unwrap().ppid = 2;
    assert_eq!(h.sys(2, SYS_wait4, &[3, MEM, 0, 0]), Done::Parked);
    // The child exits with status 7.
    h.e.on_thread_gone(3, 7 << 8).expect("exit handled");
    // The kernel reaps the real zombie (and writes the status).
    assert_eq!(h.wake(2), Done::Kernel);
    assert_eq!(h.kernel(2, 3), 3);
    assert_eq!(h.sys(2, SYS_wait4, &[3, MEM, 0, 0]), err(ECHILD), "reaped");
}
