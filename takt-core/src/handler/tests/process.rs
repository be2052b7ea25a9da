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
    h.e.w.procs.get_mut(&3).unwrap().ppid = 2;
    assert_eq!(h.sys(2, SYS_wait4, &[3, MEM, 0, 0]), Done::Parked);
    // The child exits with status 7.
    h.e.on_thread_gone(3, 7 << 8).expect("exit handled");
    // The kernel reaps the real zombie (and writes the status).
    assert_eq!(h.wake(2), Done::Kernel);
    assert_eq!(h.kernel(2, 3), 3);
    assert_eq!(h.sys(2, SYS_wait4, &[3, MEM, 0, 0]), err(ECHILD), "reaped");
}

#[test]
fn rt_sigaction_records_the_action_the_kernel_installed() {
    let mut h = H::new();
    // struct kernel_sigaction: sa_handler, sa_flags, ...
    let act = [0x4000u64.to_le_bytes(), (SA_RESTART as u64).to_le_bytes()].concat();
    h.put(MEM, &act);
    let usr1 = SIGUSR1 as u64;
    assert_eq!(h.sys(2, SYS_rt_sigaction, &[usr1, MEM, 0, 8]), Done::Kernel);
    assert_eq!(h.kernel(2, -(EINVAL as i64)), -(EINVAL as i64));
    assert_eq!(h.e.w.procs[&2].sig[SIGUSR1 as usize].handler, 0, "refused");
    assert_eq!(h.sys(2, SYS_rt_sigaction, &[usr1, MEM, 0, 8]), Done::Kernel);
    assert_eq!(h.kernel(2, 0), 0);
    let d = h.e.w.procs[&2].sig[SIGUSR1 as usize];
    assert_eq!((d.handler, d.flags), (0x4000, SA_RESTART as u64));
    // An unwritable oldact: the action is in place, the call fails with EFAULT. The
    // kernel reads an int: the upper half of the signal's register is not its.
    let usr2 = 1 << 32 | SIGUSR2 as u64;
    assert_eq!(
        h.sys(2, SYS_rt_sigaction, &[usr2, MEM, 0x1000, 8]),
        Done::Kernel
    );
    assert_eq!(h.kernel(2, -(EFAULT as i64)), -(EFAULT as i64));
    assert_eq!(h.e.w.procs[&2].sig[SIGUSR2 as usize].handler, 0x4000);
    assert_eq!(h.sys(2, SYS_rt_sigaction, &[usr1, 0, MEM, 8]), Done::Kernel);
    assert!(!h.e.posts.contains_key(&2), "a query changes nothing");
}

#[test]
fn vfork_and_clone_vfork_become_clones_the_engine_parks_for() {
    let mut h = H::new();
    let flags = (CLONE_VM | CLONE_VFORK | SIGCHLD) as u64;
    assert_eq!(h.sys(2, SYS_clone, &[flags, 0, 0, 0, 0]), Done::Kernel);
    assert!(h.e.w.threads[&2].vfork);
    assert_eq!(
        h.e.w.threads[&2].cur.encode().1,
        [(CLONE_VM | SIGCHLD) as u64, 0, 0, 0, 0, 0]
    );
    assert_eq!(h.sys(2, SYS_vfork, &[]), Done::Kernel);
    assert_eq!(h.e.w.threads[&2].cur.nr(), SYS_clone as u32);
    assert_eq!(h.sys(2, SYS_fork, &[]), Done::Kernel);
    assert!(!h.e.w.threads[&2].vfork);
    // Namespaces are refused, after copy_process's own checks.
    let newnet = (CLONE_NEWNET | SIGCHLD) as u64;
    assert_eq!(h.sys(2, SYS_clone, &[newnet, 0, 0, 0, 0]), err(EPERM));
    let bad = (CLONE_NEWNS | CLONE_FS) as u64;
    assert_eq!(h.sys(2, SYS_clone, &[bad, 0, 0, 0, 0]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_clone3, &[MEM, 32]), err(EINVAL), "size");
}

#[test]
fn a_failed_first_exec_is_remembered_once() {
    let mut h = H::new();
    h.e.w.threads.get_mut(&2).unwrap().initial_exec = true;
    assert_eq!(h.sys(2, SYS_execve, &[MEM, 0, 0]), Done::Kernel);
    assert_eq!(h.kernel(2, -(ENOENT as i64)), -(ENOENT as i64));
    assert!(!h.e.w.threads[&2].initial_exec);
}

#[test]
fn cpu_queries_and_prctl() {
    let mut h = H::new();
    // One CPU by default: an 8-byte mask; the size is an unsigned int.
    assert_eq!(
        h.sys(2, SYS_sched_getaffinity, &[0, 1 << 32 | 8, MEM]),
        Done::Ret(8)
    );
    assert_eq!(h.get(MEM, 1)[0] & 1, 1);
    assert_eq!(h.sys(2, SYS_sched_getaffinity, &[0, 4, MEM]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_sched_setaffinity, &[0, 8, MEM]), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_getcpu, &[MEM, MEM + 4, 0]), Done::Ret(0));
    assert_eq!(h.get(MEM, 8), [0u8; 8]);
    assert_eq!(h.sys(2, SYS_prctl, &[PR_SET_SECCOMP as u64]), err(EPERM));
    assert_eq!(h.sys(2, SYS_prctl, &[PR_GET_TSC as u64, MEM]), err(EINVAL));
    assert_eq!(
        h.sys(2, SYS_prctl, &[PR_SET_NAME as u64, MEM]),
        Done::Kernel
    );
    assert_eq!(h.sys(2, SYS_set_tid_address, &[MEM]), Done::Kernel);
    assert_eq!(h.e.w.threads[&2].clear_tid, MEM);
}
