//! Bad input and failing programs get clear errors, with the seed and a rerun command.

use std::time::{Duration, Instant};
use takt_scenario::{Error, Outcome, Process, Scenario, Status};
use takt_tests::Fixture;

fn bad_input(s: &Scenario) -> String {
    match s.run() {
        Err(Error::BadInput(m)) => m,
        other => panic!("expected a bad-input error, got {other:?}"),
    }
}

#[test]
fn missing_binary_names_the_path_and_enoent() {
    let s = Scenario::new();
    s.create_node().create_process("/no/such/program --flag");
    let m = bad_input(&s);
    assert!(
        m.contains("/no/such/program") && m.contains("ENOENT"),
        "{m}"
    );
}

#[test]
fn program_not_in_path() {
    let s = Scenario::new();
    s.create_node()
        .create_process("takt-no-such-program-anywhere");
    let m = bad_input(&s);
    assert!(m.contains("not found in PATH"), "{m}");
}

#[test]
fn non_executable_file_is_refused() {
    let s = Scenario::new();
    s.create_node().create_process(Process::new("/etc/passwd"));
    let m = bad_input(&s);
    assert!(m.contains("not executable") && m.contains("EACCES"), "{m}");
}

#[test]
fn malformed_command_lines_are_refused() {
    for line in ["echo 'unterminated", "", "echo a | wc"] {
        let s = Scenario::new();
        s.create_node().create_process(line);
        let m = bad_input(&s);
        assert!(m.contains("process 0 on node0"), "{m}");
    }
}

#[test]
fn empty_scenarios_are_refused() {
    assert!(bad_input(&Scenario::new()).contains("no node"));
    let s = Scenario::new();
    s.create_node();
    assert!(bad_input(&s).contains("no process"));
}

#[test]
fn segfault_is_a_failure_naming_the_signal() {
    let err = Fixture::c("segv").scenario(5).run().unwrap_err();
    let Error::Failed(f) = &err else {
        panic!("{err}")
    };
    assert_eq!(
        f.report.processes[0].status,
        Status::Signaled(libc_sigsegv())
    );
    assert!(f.reason.contains("SIGSEGV"), "{}", f.reason);
    let text = err.to_string();
    assert!(
        text.contains("seed 5") && text.contains("TAKT_SEED=5"),
        "{text}"
    );
    assert!(
        text.contains("about_to_crash"),
        "the last output lines are shown: {text}"
    );
}

fn libc_sigsegv() -> i32 {
    11
}

#[test]
fn nonzero_exit_is_a_failure() {
    let s = Scenario::new();
    s.create_node().create_process("/bin/sh -c 'exit 3'");
    let Err(Error::Failed(f)) = s.run() else {
        panic!("exit 3 must fail")
    };
    assert!(f.reason.contains("exited 3"), "{}", f.reason);
}

#[test]
fn spinning_without_syscalls_is_stopped_by_the_watchdog() {
    let s = Fixture::c("spin").scenario(1);
    s.spin_budget(Duration::from_millis(600));
    let t0 = Instant::now();
    let Err(Error::Failed(f)) = s.run() else {
        panic!("a spinning program must fail")
    };
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "the watchdog took {:?}",
        t0.elapsed()
    );
    assert!(
        matches!(f.report.outcome, Outcome::Spinning { .. }),
        "{:?}",
        f.report.outcome
    );
    assert!(f.reason.contains("without a syscall"), "{}", f.reason);
    // Nothing else could run: the preemptions changed nothing and are not reported.
    assert!(
        f.report.nondeterminism.is_empty(),
        "{:?}",
        f.report.nondeterminism
    );
}

#[test]
fn a_pure_busy_wait_on_another_thread_is_parked_deterministically() {
    // Depending on the seed, the setter thread runs before the busy-wait starts (no
    // preemption needed) or only after the watchdog stops the spinning thread. Its loop
    // passes the same registers each time: takt steps it to the loop's lowest address,
    // parks it there and runs the setter, so the run does not depend on when the
    // watchdog came.
    let mut parked = 0;
    for seed in 0..4 {
        let r = Fixture::c("spin_wait").takt(seed);
        assert!(r.stdout(0).contains("flag_seen 1"), "{r}");
        assert!(r.nondeterminism.is_empty(), "{:?}", r.nondeterminism);
        if let Some((n, _)) = r.notes.iter().find(|(n, _)| n.contains(" spins at ")) {
            parked += 1;
            assert!(n.contains("(main+0x"), "the note names the function: {n}");
            assert_eq!(
                Fixture::c("spin_wait").takt(seed).digest,
                r.digest,
                "seed {seed}"
            );
        }
    }
    assert!(parked > 0, "no seed needed the watchdog");
}

#[test]
fn a_busy_wait_that_counts_completes_by_preemption_and_says_so() {
    // The same wait counting its passes in a register: no state repeats, so it is not
    // a pure spin; the watchdog's preemption is where determinism is lost, and the
    // report says where and why.
    let mut preempted = 0;
    for seed in 0..4 {
        let r = Fixture::c("spin_count").takt(seed);
        assert!(r.stdout(0).contains("flag_seen 1"), "{r}");
        if let Some(n) = r.nondeterminism.first() {
            preempted += 1;
            assert!(r.to_string().contains("determinism lost"), "{r}");
            assert!(n.contains("(main+0x"), "{n}");
            assert!(n.contains("not a pure spin"), "{n}");
        }
    }
    assert!(preempted > 0, "no seed needed a preemption");
}

#[test]
fn unsupported_syscalls_fail_closed_with_a_warning() {
    let r = Fixture::c("unsupported").takt(1);
    assert!(r.stdout(0).contains("still_running 1"), "{r}");
    let names: Vec<&str> = r.warnings.iter().map(|(w, _)| w.as_str()).collect();
    assert!(
        names
            .iter()
            .any(|w| w.contains("mq_getsetattr") && w.contains("ENOSYS")),
        "{names:?}"
    );
    assert!(
        r.to_string()
            .contains("warning: unsupported syscall mq_getsetattr"),
        "{r}"
    );
    // Expected refusals are notes, not warnings: libc falls back from rseq and
    // io_uring_setup, and perf_event_open is refused (it would reach the host).
    let notes: Vec<&str> = r.notes.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "io_uring_setup answered ENOSYS",
        "rseq answered ENOSYS",
        "perf_event_open refused with EPERM",
    ] {
        assert!(notes.iter().any(|n| n.contains(want)), "{want}: {notes:?}");
    }
    assert!(
        !names
            .iter()
            .any(|w| w.contains("rseq") || w.contains("io_uring")),
        "{names:?}"
    );
    assert!(!r.to_string().contains("rseq"), "{r}");
}

#[test]
fn completion_time_stops_a_run_and_lists_who_was_still_running() {
    let s = Fixture::c("sleep_steps")
        .with_args(&["1000", "10"])
        .scenario(3);
    s.completion_time(Duration::from_millis(250));
    let r = s
        .run()
        .expect("reaching the completion time is not a failure");
    assert_eq!(r.outcome, Outcome::CompletionTime);
    assert_eq!(r.processes[0].status, Status::Running);
    let ms = r.end_time.as_nanos() / 1_000_000;
    assert_eq!(ms, 250, "stopped at {}", r.end_time);
    assert!(r.to_string().contains("completion time reached"), "{r}");
}

#[test]
fn deadlock_is_a_failure_naming_who_waits_on_what() {
    for (mode, what) in [("pipe", "read"), ("mutexes", "futex")] {
        let err = Fixture::c("deadlock")
            .with_args(&[mode])
            .scenario(2)
            .run()
            .unwrap_err();
        let Error::Failed(f) = &err else {
            panic!("{err}")
        };
        let Outcome::Deadlock { waits } = &f.report.outcome else {
            panic!("{:?}", f.report.outcome)
        };
        assert!(waits.iter().any(|w| w.contains(what)), "{mode}: {waits:?}");
        assert!(f.reason.starts_with("deadlock"), "{}", f.reason);
        if mode == "mutexes" {
            assert!(waits.len() >= 2, "both threads wait: {waits:?}");
        }
    }
}

#[test]
fn a_stopped_child_nobody_continues_is_a_deadlock_naming_the_stop() {
    let err = Fixture::c("deadlock")
        .with_args(&["stopped"])
        .scenario(2)
        .run()
        .unwrap_err();
    let Error::Failed(f) = &err else {
        panic!("{err}")
    };
    let Outcome::Deadlock { waits } = &f.report.outcome else {
        panic!("{:?}", f.report.outcome)
    };
    assert!(waits.iter().any(|w| w.contains("wait4")), "{waits:?}");
    assert!(
        waits
            .iter()
            .any(|w| w.contains("stopped by SIGSTOP (job control)")),
        "{waits:?}"
    );
}

#[test]
fn a_long_sleep_is_not_a_deadlock() {
    let s = Scenario::new();
    s.create_node().create_process("/bin/sleep 1000000");
    s.completion_time(Duration::from_secs(10));
    let r = s.run().expect("a long sleep is not a deadlock");
    assert_eq!(r.outcome, Outcome::CompletionTime);
}
