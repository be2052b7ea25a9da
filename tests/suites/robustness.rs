//! Nothing a guest does can hang or crash takt, and what takt does not model fails
//! closed: a seeded fuzzing guest (200,000 calls over 20 seeds), hostile arguments whose
//! Linux answers are compared with a native run, the calls that would reach the host
//! (refused with EPERM or emulated), sockets of every family, signal probes without a
//! PID namespace, and a digest that ignores leftover registers.

use std::collections::BTreeMap;
use std::time::Duration;
use takt_scenario::Scenario;
use takt_tests::{c_fixture, Fixture};

/// Errnos each fuzzed call may end in (besides EFAULT, EBADF and EINVAL, which any of
/// them may): what the calls' man pages and Linux's sources give for these arguments.
fn allowed(call: &str) -> &'static [&'static str] {
    const RECV: &[&str] = &[
        "EAGAIN",
        "EINTR",
        "EISDIR",
        "EIO",
        "ENOTCONN",
        "ECONNRESET",
        "ECONNREFUSED",
        "EPIPE",
        "ETIMEDOUT",
        "ENOTSOCK",
        "EMSGSIZE",
        "EOPNOTSUPP",
        "ENOMEM",
    ];
    const SEND: &[&str] = &[
        "EAGAIN",
        "EINTR",
        "EPIPE",
        "EDESTADDRREQ",
        "EMSGSIZE",
        "ENOTCONN",
        "ECONNRESET",
        "ECONNREFUSED",
        "ENOTSOCK",
        "EOPNOTSUPP",
        "EISCONN",
        "EAFNOSUPPORT",
        "ENOENT",
        "ENETUNREACH",
        "EHOSTUNREACH",
        "EACCES",
        "ENOBUFS",
        "ENOMEM",
        "EADDRNOTAVAIL",
        "ETIMEDOUT",
        "EPERM",
        "ENOSPC",
        "EFBIG",
    ];
    match call {
        "read" | "readv" | "recvfrom" | "recvmsg" | "recvmmsg" => RECV,
        "write" | "writev" | "sendto" | "sendmsg" | "sendmmsg" => SEND,
        "close" => &["EINTR", "EIO"],
        "socket" | "socketpair" => &[
            "EAFNOSUPPORT",
            "EPROTONOSUPPORT",
            "ESOCKTNOSUPPORT",
            "EPERM",
            "EACCES",
            "EMFILE",
            "ENFILE",
            "ENOBUFS",
            "ENOMEM",
            "EOPNOTSUPP",
        ],
        "bind" => &[
            "EACCES",
            "EADDRINUSE",
            "EADDRNOTAVAIL",
            "EAFNOSUPPORT",
            "ENOENT",
            "ENOTDIR",
            "ENAMETOOLONG",
            "ENOTSOCK",
            "ELOOP",
            "ENOMEM",
            "EROFS",
        ],
        "listen" => &["EADDRINUSE", "EOPNOTSUPP", "ENOTSOCK"],
        "accept4" => &[
            "EAGAIN",
            "ECONNABORTED",
            "EINTR",
            "EMFILE",
            "ENFILE",
            "ENOTSOCK",
            "EOPNOTSUPP",
            "EPERM",
            "EPROTO",
            "ENOBUFS",
            "ENOMEM",
        ],
        "connect" => &[
            "EACCES",
            "EPERM",
            "EADDRINUSE",
            "EADDRNOTAVAIL",
            "EAFNOSUPPORT",
            "EAGAIN",
            "EALREADY",
            "ECONNREFUSED",
            "EINPROGRESS",
            "EINTR",
            "EISCONN",
            "ENETUNREACH",
            "EHOSTUNREACH",
            "ENOTSOCK",
            "EPROTOTYPE",
            "ETIMEDOUT",
            "ENOENT",
            "ECONNRESET",
        ],
        "shutdown" | "getsockname" | "getpeername" => &["ENOTCONN", "ENOTSOCK", "ENOBUFS"],
        // EOPNOTSUPP: AF_UNIX sockets have no options outside SOL_SOCKET.
        "setsockopt" | "getsockopt" => &["ENOPROTOOPT", "ENOTSOCK", "EDOM", "EOPNOTSUPP"],
        "poll" | "ppoll" | "select" | "pselect6" | "epoll_wait" | "epoll_pwait" => {
            &["EINTR", "ENOMEM"]
        }
        "epoll_create1" | "pipe2" | "eventfd2" => &["EMFILE", "ENFILE", "ENOMEM", "ENODEV"],
        "epoll_ctl" => &["EEXIST", "ENOENT", "EPERM", "ELOOP", "ENOMEM", "ENOSPC"],
        "futex" => &[
            "EAGAIN",
            "EINTR",
            "ETIMEDOUT",
            "ENOSYS",
            "EPERM",
            "ESRCH",
            "EDEADLK",
        ],
        "nanosleep" | "clock_nanosleep" => &["EINTR", "ENOTSUP", "EOPNOTSUPP"],
        "getrandom" => &["EAGAIN", "EINTR"],
        "kill" | "tgkill" => &["EPERM", "ESRCH"],
        "wait4" => &["ECHILD", "EINTR"],
        // EOVERFLOW: a lock whose range passes the largest offset (`flock_to_posix_lock`).
        "fcntl" => &[
            "EAGAIN",
            "EACCES",
            "EDEADLK",
            "EMFILE",
            "ENOLCK",
            "EPERM",
            "EBUSY",
            "EOVERFLOW",
        ],
        "ioctl" => &["ENOTTY"],
        "dup" | "dup3" => &["EBUSY", "EINTR", "EMFILE"],
        "sched_getaffinity" => &["ESRCH"],
        "signalfd4" | "timerfd_create" => &["EMFILE", "ENFILE", "ENOMEM", "ENODEV"],
        "timerfd_settime" | "timerfd_gettime" => &["ECANCELED"],
        "timer_create" => &["EAGAIN", "ENOMEM", "ENOTSUP", "EOPNOTSUPP"],
        "timer_settime" | "timer_gettime" | "timer_delete" => &[],
        "rt_sigpending" => &[],
        "epoll_pwait2" => &["EINTR"],
        "futex_waitv" => &["EAGAIN", "ETIMEDOUT", "EINTR"],
        "semget" => &["ENOENT", "EEXIST", "ENOSPC", "EACCES"],
        "semctl" => &["ERANGE", "EACCES", "EPERM", "EIDRM"],
        "semop" | "semtimedop" => &[
            "EAGAIN", "E2BIG", "EFBIG", "ERANGE", "EIDRM", "EINTR", "EACCES",
        ],
        _ => &[],
    }
}

/// Runs the fuzzing guest under takt; returns its output and the trace digest.
fn hostile(seed: u64, calls: u32) -> (String, String) {
    let f = Fixture::c("hostile").with_args(&[&seed.to_string(), &calls.to_string()]);
    let s = f.scenario(seed);
    // Virtual time only: the guest sleeps and times out a lot but never for long.
    s.completion_time(Duration::from_secs(3600));
    let r = s
        .run()
        .unwrap_or_else(|e| panic!("hostile guest, seed {seed}: {e}"));
    (r.stdout(0), r.digest)
}

#[test]
fn a_fuzzing_guest_never_hurts_the_tracer_and_gets_linux_errnos() {
    const SEEDS: u64 = 20;
    const CALLS: u32 = 10_000;
    let mut totals: BTreeMap<(String, String), u64> = BTreeMap::new();
    for seed in 0..SEEDS {
        let (out, _) = hostile(seed, CALLS);
        assert!(
            out.ends_with(&format!("done {CALLS}\n")),
            "seed {seed}: {out}"
        );
        for line in out.lines().filter(|l| l.starts_with("result ")) {
            let v: Vec<&str> = line.split(' ').collect();
            let n: u64 = v[3].parse().expect("count");
            *totals
                .entry((v[1].to_string(), v[2].to_string()))
                .or_default() += n;
        }
    }
    let calls: u64 = totals.values().sum();
    assert_eq!(calls, SEEDS * CALLS as u64, "every call is accounted for");
    let mut bad = Vec::new();
    for ((call, result), n) in &totals {
        let ok = result == "ok"
            || ["EFAULT", "EBADF", "EINVAL"].contains(&result.as_str())
            || allowed(call).contains(&result.as_str());
        if !ok || call == "?" {
            bad.push(format!("{call} {result} ({n}x)"));
        }
    }
    assert!(bad.is_empty(), "results Linux does not give: {bad:?}");
    // Every family of calls was exercised, and most of them also succeeded sometimes.
    let succeeded = totals.keys().filter(|(_, r)| r == "ok").count();
    assert!(
        succeeded >= 45,
        "only {succeeded} calls ever succeeded: {totals:?}"
    );
}

#[test]
fn the_fuzzing_guest_is_deterministic_by_seed() {
    for seed in [3, 11] {
        let a = hostile(seed, 5_000);
        let b = hostile(seed, 5_000);
        assert_eq!(a, b, "seed {seed}");
    }
    assert_ne!(hostile(3, 2_000).0, hostile(4, 2_000).0);
}

#[test]
fn hostile_arguments_get_linux_answers_as_natively() {
    // UDP 2^44 → EMSGSIZE, select LONG_MAX → a normal wait, writev 2 × 2^63 → EINVAL,
    // and the other cases of the fixture.
    let f = Fixture::c("limits");
    let native = String::from_utf8(f.native().stdout).expect("utf-8");
    let takt = f.takt(9).stdout(0);
    assert_eq!(takt, native);
    for want in [
        "udp_2e44 -1 90\n",
        "select_long_max 1 0\n",
        "writev_2x2e63 -1 22\n",
    ] {
        assert!(native.contains(want), "natively: {native}");
    }
}

/// `/proc/mounts` lines that mention `dir`.
fn mounts_under(dir: &std::path::Path) -> Vec<String> {
    let d = dir.to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/mounts")
        .expect("/proc/mounts")
        .lines()
        .filter(|l| l.contains(&d))
        .map(str::to_string)
        .collect()
}

#[test]
fn calls_that_would_change_the_host_are_refused_or_emulated() {
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let s = Scenario::new();
    s.random_seed(4);
    let node = s.create_node();
    let dir = node.dir();
    node.create_process(format!("{} calls", c_fixture("fail_closed").display()).as_str());
    let r = s.run().unwrap_or_else(|e| panic!("{e}"));
    let out = r.stdout(0);
    let lines: BTreeMap<&str, &str> = out.lines().filter_map(|l| l.split_once(' ')).collect();
    // Each line of the README's list of refused calls.
    for call in [
        "mount",
        "umount2",
        "chroot",
        "pivot_root",
        "unshare_newns",
        "unshare_newnet",
        "setns",
        "clone_newnet",
        "settimeofday",
        "clock_settime",
        "adjtimex_set",
        "swapon",
        "reboot",
        "init_module",
        "delete_module",
        "bpf",
        "perf_event_open",
        "ptrace",
        "process_vm_readv",
        "keyctl",
        "acct",
        "iopl",
        "syslog",
        "kexec_load",
        "open_by_handle_at",
        "fsopen",
        "mknod_char",
    ] {
        assert_eq!(lines.get(call), Some(&"-1 1"), "{call} not EPERM:\n{out}");
    }
    // Emulated within the scenario.
    assert_eq!(lines.get("unshare_none"), Some(&"0 0"), "{out}");
    assert_eq!(lines.get("mknod_fifo"), Some(&"0 0"), "{out}");
    assert_eq!(lines.get("uname"), Some(&"renamed example"), "{out}");
    assert_eq!(lines.get("adjtimex_read"), Some(&"5 0"), "{out}");
    assert_eq!(lines.get("adjtimex_time"), Some(&"1767225600"), "{out}");
    assert_eq!(lines.get("shmget"), Some(&"1"), "{out}");
    // Nothing reached the host: no mount, the same host name, no shared memory segment.
    assert!(mounts_under(&dir).is_empty(), "{:?}", mounts_under(&dir));
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname"),
        host_name
    );
    let shm = std::fs::read_to_string("/proc/sysvipc/shm").unwrap_or_default();
    assert!(
        !shm.lines()
            .any(|l| l.split_whitespace().next() == Some("1952541556")),
        "the guest's segment is on the host:\n{shm}"
    );
    // Refusals are notes, not warnings.
    assert!(
        r.notes
            .iter()
            .any(|(n, _)| n.starts_with("mount refused with EPERM")),
        "{:?}",
        r.notes
    );
    assert!(
        !r.warnings.iter().any(|(w, _)| w.contains("rseq")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn sockets_of_every_family_and_type_open_nothing_real_on_the_host() {
    let f = Fixture::c("fail_closed").with_args(&["sockets"]);
    let r = f.takt(2);
    let out = r.stdout(0);
    assert!(!out.contains("real "), "real host sockets:\n{out}");
    // AF_UNIX stream, datagram and raw (a datagram socket), AF_INET and AF_INET6
    // stream and datagram: the families and types takt models.
    assert!(out.contains("sockets 7 453\n"), "{out}");
    assert!(
        r.notes
            .iter()
            .any(|(n, _)| n.contains("socket family 17 refused with EAFNOSUPPORT")),
        "{:?}",
        r.notes
    );
}

#[test]
fn without_a_pid_namespace_signals_cannot_reach_host_processes() {
    let s = Fixture::c("fail_closed").with_args(&["probes"]).scenario(1);
    let mut cfg = s.config().expect("valid");
    cfg.test_without_pid_namespace = true;
    let r = takt_core::run(cfg).expect("run");
    assert!(!r.pid_namespace);
    let out = r.stdout(0);
    for probe in [
        "kill_init_probe",
        "kill_all_probe",
        "kill_group_1",
        "tgkill_init",
    ] {
        assert!(out.contains(&format!("{probe} -1 3\n")), "{probe}: {out}");
    }
}

#[test]
fn leftover_register_values_do_not_change_the_digest() {
    let f = Fixture::c("dirty_regs");
    let a = f.takt(6);
    let b = f.takt(6);
    assert_eq!(a.stdout(0), b.stdout(0));
    assert_eq!(
        a.digest, b.digest,
        "unused argument registers reached the digest"
    );
}

#[test]
fn joining_threads_under_a_1ms_interval_timer_never_hangs() {
    // Issue 8: a thread exiting while the main thread waits in pthread_join, under
    // signals, hung. 30 seeds, each within a virtual second and the watchdog's budget.
    let f = Fixture::c("join_signals");
    for seed in 0..30 {
        let s = f.scenario(seed);
        s.completion_time(Duration::from_secs(1));
        let r = s
            .run()
            .unwrap_or_else(|e| panic!("seed {seed}: join_signals failed:\n{e}"));
        assert_eq!(
            r.processes[0].status,
            takt_scenario::Status::Exited(0),
            "seed {seed}:\n{r}"
        );
        assert!(
            r.stdout(0).contains("joined 20 sum 380\n"),
            "seed {seed}: {}",
            r.stdout(0)
        );
    }
}

#[test]
fn a_process_writing_over_the_clock_page_changes_no_other_processs_clock() {
    // The clock page (takt's vDSO) is mapped writable in every process: one that writes
    // over all of it reads garbage itself at most until it stops; the tracer takes no
    // more reads from it than it allowed, and another process reads the right clock.
    let program = c_fixture("clock_scribble");
    for seed in 0..3 {
        let s = Scenario::new();
        s.random_seed(seed);
        let n = s.create_node();
        n.create_process(takt_scenario::Process::new(&program));
        n.create_process(
            takt_scenario::Process::new(&program)
                .args(["reader"])
                .start_after(Duration::from_millis(1)),
        );
        let r = s
            .run()
            .unwrap_or_else(|e| panic!("seed {seed}: clock_scribble failed:\n{e}"));
        assert_eq!(r.stdout(0), "scribbled 512\n", "seed {seed}:\n{r}");
        assert_eq!(r.stdout(1), "reader_ok 1\n", "seed {seed}:\n{r}");
        assert!(r.warnings.is_empty(), "seed {seed}: {:?}", r.warnings);
    }
}
