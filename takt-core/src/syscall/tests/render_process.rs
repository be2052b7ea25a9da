//! Rendering of process, signal and futex calls, and of numbers takt has no typed form
//! for, compared with what strace prints.

use super::*;
use libc::*;

fn le64(v: &[u64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn clone_fork_exec_exit_wait() {
    let m = LocalMemory::new().with(A, 1236i32.to_le_bytes());
    assert_eq!(
        line(SYS_clone, &[0x0120_0011, 0, 0, 0x7f1b_2c3d_4a10, 0], Some(1235), &m),
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f1b2c3d4a10) = 1235"
    );
    assert_eq!(
        line(SYS_clone, &[0x003d_0f00, 0x7f00_0000_fff0, A, B, 0x7f00_0001_0000], Some(1236), &m),
        "clone(child_stack=0x7f000000fff0, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, parent_tid=[1236], tls=0x7f0000010000, child_tidptr=0x2000) = 1236"
    );
    let mut args = le64(&[
        0x003d_0f00,
        0,
        B,
        A,
        0,
        0x7f00_0000_0000,
        0x7fff00,
        0x7f00_0001_0000,
    ]);
    args.resize(88, 0);
    let m3 = LocalMemory::new().with(C, args);
    assert_eq!(
        line(SYS_clone3, &[C, 88], Some(1237), &m3),
        "clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x2000, parent_tid=0x1000, exit_signal=0, stack=0x7f0000000000, stack_size=0x7fff00, tls=0x7f0000010000}, 88) = 1237"
    );

    let argv = LocalMemory::new()
        .with(A, *b"/usr/bin/memcached\0")
        .with(B, le64(&[C, C + 16, C + 32, 0]))
        .with(
            C,
            *b"memcached\0\0\0\0\0\0\0-u\0\0\0\0\0\0\0\0\0\0\0\0\0\0root\0",
        )
        .with(D, le64(&[C, C + 16, 0]));
    assert_eq!(
        line(SYS_execve, &[A, B, D], Some(0), &argv),
        r#"execve("/usr/bin/memcached", ["memcached", "-u", "root"], 0x4000 /* 2 vars */) = 0"#
    );
    assert_eq!(line(SYS_exit_group, &[0], None, &m), "exit_group(0) = ?");
    let st = |s: i32| LocalMemory::new().with(A, s.to_le_bytes());
    assert_eq!(
        line(SYS_wait4, &[int(-1), A, 0, 0], Some(1235), &st(0)),
        "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 1235"
    );
    assert_eq!(
        line(SYS_wait4, &[1235, A, 1, 0], Some(1235), &st(9)),
        "wait4(1235, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], WNOHANG, NULL) = 1235"
    );
    assert_eq!(
        line(SYS_wait4, &[1235, A, 2, 0], Some(1235), &st(0x137f)),
        "wait4(1235, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WUNTRACED, NULL) = 1235"
    );
    assert_eq!(
        line(SYS_wait4, &[1235, A, 8, 0], Some(1235), &st(0xffff)),
        "wait4(1235, [{WIFCONTINUED(s)}], WCONTINUED, NULL) = 1235"
    );
    assert_eq!(
        line(SYS_wait4, &[1235, A, 3, 0], Some(1235), &st(0x147f)),
        "wait4(1235, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTSTP}], WNOHANG|WUNTRACED, NULL) = 1235"
    );
    assert_eq!(
        line(SYS_waitid, &[1, 1235, B, 0x0100_0002, 0], Some(0), &m),
        "waitid(P_PID, 1235, 0x2000, WSTOPPED|WNOWAIT, NULL) = 0"
    );
    assert_eq!(
        line(SYS_wait4, &[int(-1), A, 1, 0], Some(0), &st(0)),
        "wait4(-1, 0x1000, WNOHANG, NULL) = 0"
    );
    assert_eq!(
        line(SYS_waitid, &[1, 1235, B, 4, 0], Some(0), &m),
        "waitid(P_PID, 1235, 0x2000, WEXITED, NULL) = 0"
    );
}

#[test]
fn identity_and_control() {
    let m = LocalMemory::new().with(A, *b"worker\0");
    assert_eq!(line(SYS_getpid, &[], Some(2), &m), "getpid() = 2");
    assert_eq!(line(SYS_sched_yield, &[], Some(0), &m), "sched_yield() = 0");
    assert_eq!(
        line(SYS_prctl, &[15, A, 0, 0, 0], Some(0), &m),
        r#"prctl(PR_SET_NAME, "worker") = 0"#
    );
    assert_eq!(
        line(SYS_prctl, &[38, 1, 0, 0, 0], Some(0), &m),
        "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0"
    );
    assert_eq!(
        line(SYS_prctl, &[1, 9, 0, 0, 0], Some(0), &m),
        "prctl(PR_SET_PDEATHSIG, SIGKILL) = 0"
    );
    assert_eq!(
        line(SYS_prctl, &[3, 0, 0, 0, 0], Some(1), &m),
        "prctl(PR_GET_DUMPABLE) = 1"
    );
    assert_eq!(
        line(SYS_arch_prctl, &[0x1002, 0x7f00_0001_0000], Some(0), &m),
        "arch_prctl(ARCH_SET_FS, 0x7f0000010000) = 0"
    );
    let mut uts = vec![0u8; 390];
    uts[..5].copy_from_slice(b"Linux");
    uts[65..70].copy_from_slice(b"node0");
    let u = LocalMemory::new().with(B, uts);
    assert_eq!(
        line(SYS_uname, &[B], Some(0), &u),
        r#"uname({sysname="Linux", nodename="node0", ...}) = 0"#
    );
    assert_eq!(
        line(SYS_unshare, &[0x4000_0000], err(EPERM), &m),
        "unshare(CLONE_NEWNET) = -1 EPERM (Operation not permitted)"
    );
    assert_eq!(
        line(
            SYS_mmap,
            &[0, 8192, 3, 0x22, int(-1), 0],
            Some(0x7f12_3456_0000),
            &m
        ),
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f1234560000"
    );
    assert_eq!(
        line(SYS_mmap, &[0x7f00_0000_1000, 4096, 5, 0x812, 3, 0x1000], Some(0x7f00_0000_1000), &m),
        "mmap(0x7f0000001000, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x1000) = 0x7f0000001000"
    );
    assert_eq!(
        line(SYS_mmap, &[0, 1 << 40, 3, 0x22, int(-1), 0], err(ENOMEM), &m),
        "mmap(NULL, 1099511627776, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (Cannot allocate memory)"
    );
    assert_eq!(
        line(SYS_mprotect, &[0x7f00_0000_1000, 4096, 0], Some(0), &m),
        "mprotect(0x7f0000001000, 4096, PROT_NONE) = 0"
    );
    assert_eq!(
        line(SYS_brk, &[0], Some(0x55d0_c0e3_b000), &m),
        "brk(NULL) = 0x55d0c0e3b000"
    );
}

#[test]
fn signals() {
    let m = LocalMemory::new()
        .with(
            A,
            le64(&[0x55d0_c0a0_1234, 0x1400_0000, 0x7f1b_2c00_0000, 0]),
        )
        .with(B, le64(&[1, 0x0400_0000, 0x7f1b_2c00_0000, 0]))
        .with(C, le64(&[0, 0, 0, 0]))
        .with(D, le64(&[1 << 16]));
    assert_eq!(
        line(SYS_rt_sigaction, &[2, A, 0, 8], Some(0), &m),
        "rt_sigaction(SIGINT, {sa_handler=0x55d0c0a01234, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f1b2c000000}, NULL, 8) = 0"
    );
    assert_eq!(
        line(SYS_rt_sigaction, &[13, B, C, 8], Some(0), &m),
        "rt_sigaction(SIGPIPE, {sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x7f1b2c000000}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0"
    );
    let empty = LocalMemory::new().with(A, le64(&[0])).with(B, le64(&[0]));
    let chld = empty.clone().with(D, le64(&[1 << 16]));
    assert_eq!(
        line(SYS_rt_sigprocmask, &[0, D, A, 8], Some(0), &chld),
        "rt_sigprocmask(SIG_BLOCK, [CHLD], [], 8) = 0"
    );
    let all_but_rt = empty.clone().with(D, le64(&[!(3u64 << 31)]));
    assert_eq!(
        line(SYS_rt_sigprocmask, &[0, D, A, 8], Some(0), &all_but_rt),
        "rt_sigprocmask(SIG_BLOCK, ~[RTMIN RT_1], [], 8) = 0"
    );
    assert_eq!(
        line(SYS_rt_sigprocmask, &[2, B, 0, 8], Some(0), &empty),
        "rt_sigprocmask(SIG_SETMASK, [], NULL, 8) = 0"
    );
    assert_eq!(
        line(SYS_kill, &[1235, 15], Some(0), &m),
        "kill(1235, SIGTERM) = 0"
    );
    assert_eq!(line(SYS_kill, &[1235, 0], Some(0), &m), "kill(1235, 0) = 0");
    assert_eq!(
        line(SYS_tgkill, &[1234, 1236, 33], Some(0), &m),
        "tgkill(1234, 1236, SIGRT_1) = 0"
    );
    let usr1 = LocalMemory::new().with(A, le64(&[1 << 9]));
    assert_eq!(
        line(SYS_rt_sigtimedwait, &[A, 0, 0, 8], Some(10), &usr1),
        "rt_sigtimedwait([USR1], NULL, NULL, 8) = 10 (SIGUSR1)"
    );
    assert_eq!(
        line(SYS_rt_sigsuspend, &[A, 8], Some(-514), &empty),
        "rt_sigsuspend([], 8) = ? ERESTARTNOHAND (To be restarted if no handler)"
    );
}

#[test]
fn futex_by_operation() {
    let mut ts = 1_700_000_000i64.to_le_bytes().to_vec();
    ts.extend_from_slice(&0i64.to_le_bytes());
    let m = LocalMemory::new().with(B, ts);
    let u = 0x7f1b_2c3d_4a10u64;
    assert_eq!(
        line(SYS_futex, &[u, 128, 2, 0, 0, 0], Some(0), &m),
        "futex(0x7f1b2c3d4a10, FUTEX_WAIT_PRIVATE, 2, NULL) = 0"
    );
    assert_eq!(
        line(SYS_futex, &[u, 129, 1, 0, 0, 0], Some(1), &m),
        "futex(0x7f1b2c3d4a10, FUTEX_WAKE_PRIVATE, 1) = 1"
    );
    assert_eq!(
        line(SYS_futex, &[u, 393, 0, B, 0, 0xffff_ffff], err(ETIMEDOUT), &m),
        "futex(0x7f1b2c3d4a10, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, {tv_sec=1700000000, tv_nsec=0}, FUTEX_BITSET_MATCH_ANY) = -1 ETIMEDOUT (Connection timed out)"
    );
    assert_eq!(
        line(SYS_futex, &[u, 133, 1, 1, u + 4, 0x0400_0001], Some(1), &m),
        "futex(0x7f1b2c3d4a10, FUTEX_WAKE_OP_PRIVATE, 1, 1, 0x7f1b2c3d4a14, FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1) = 1"
    );
    assert_eq!(
        line(SYS_futex, &[u, 132, 1, 0x7fff_ffff, u + 4, 2], Some(1), &m),
        "futex(0x7f1b2c3d4a10, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2147483647, 0x7f1b2c3d4a14, 2) = 1"
    );
    assert_eq!(
        line(SYS_futex, &[u, 0x7e, 1, 2, 3, 4], err(ENOSYS), &m),
        "futex(0x7f1b2c3d4a10, 0x7e /* FUTEX_??? */, 1, 0x2, 0x3, 0x4) = -1 ENOSYS (Function not implemented)"
    );
}

#[test]
fn futex_waitv_and_semaphores() {
    let mut ts = 100i64.to_le_bytes().to_vec();
    ts.extend_from_slice(&5i64.to_le_bytes());
    let m = LocalMemory::new().with(B, ts);
    assert_eq!(
        line(SYS_futex_waitv, &[A, 3, 0, B, 1], Some(1), &m),
        "futex_waitv(0x1000, 3, 0, {tv_sec=100, tv_nsec=5}, CLOCK_MONOTONIC) = 1"
    );
    assert_eq!(
        line(SYS_semget, &[0, 3, 0o3600], Some(0), &m),
        "semget(IPC_PRIVATE, 3, IPC_CREAT|IPC_EXCL|0600) = 0"
    );
    assert_eq!(
        line(SYS_semget, &[0x5400_0002, 0, 0], err(ENOENT), &m),
        "semget(0x54000002, 0, 0) = -1 ENOENT (No such file or directory)"
    );
    assert_eq!(
        line(SYS_semop, &[0, A, 1], Some(0), &m),
        "semop(0, 0x1000, 1) = 0"
    );
    assert_eq!(
        line(SYS_semtimedop, &[0, A, 1, B], err(EAGAIN), &m),
        "semtimedop(0, 0x1000, 1, {tv_sec=100, tv_nsec=5}) = -1 EAGAIN (Resource temporarily unavailable)"
    );
    assert_eq!(
        line(SYS_semctl, &[0, 1, 12, 0], Some(7), &m),
        "semctl(0, 1, GETVAL, 0) = 7"
    );
}

#[test]
fn untyped_and_refused_calls() {
    let other = Syscall::decode(999, [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        other.render(err(ENOSYS), &()),
        "syscall_0x3e7(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)"
    );
    let uring = Syscall::decode(426, [3, 0, 0, 0, 0, 0]);
    assert_eq!(
        uring.render(None, &()),
        "io_uring_enter(0x3, 0, 0, 0, 0, 0) = ?"
    );
    assert_eq!(
        line(
            SYS_io_uring_setup,
            &[32, A],
            err(ENOSYS),
            &LocalMemory::new()
        ),
        "io_uring_setup(32, 0x1000) = -1 ENOSYS (Function not implemented)"
    );
    assert_eq!(
        line(SYS_read, &[3, A, 1], Some(-600), &LocalMemory::new()),
        "read(3, 0x1000, 1) = -1 ERRNO_600 (Unknown error 600)"
    );
}
