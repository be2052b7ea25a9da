//! The tracer thread traps `rdtsc` during a run (`takt_core::sys::TscTrap`), so it must
//! never read the clock through the vDSO: such a read executes `rdtsc` and the kernel
//! kills the whole process with `SIGSEGV`.
//!
//! Each test re-executes this test binary for itself (`--exact NAME`) with
//! `TAKT_TRACER_CLOCK_CHILD=1`, so a `SIGSEGV` shows up here as a failed assertion that
//! says what happened, not as a dead test binary. The child runs scenarios that go
//! through every path a tracer thread executes during a run: spawn, exec, fork, threads,
//! futexes, the network, faults, partitions, crashes and restarts, signals, emulated
//! `rdtsc`, the watchdog's preemption, deadlock, completion time, output logging (the
//! `--log` path of the `takt` command), `TAKT_DEBUG` and exploration on several threads.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;
use takt_scenario::{Explore, Process, Scenario};
use takt_tests::Fixture;

const CHILD: &str = "TAKT_TRACER_CLOCK_CHILD";
const SIGSEGV: i32 = 11;

fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs test `name` of this binary in a child process; its exit status and output.
fn rerun(name: &str, env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .envs(env.iter().copied())
        .output()
        .expect("re-run the test binary");
    let text = format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status, text)
}

/// Whether this machine's vDSO reads the TSC (so a vDSO clock read on a trapping thread
/// is fatal and the check below means something).
fn vdso_reads_tsc() -> bool {
    std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
        .is_ok_and(|c| matches!(c.trim(), "tsc" | "kvm-clock"))
}

fn assert_survived(name: &str, env: &[(&str, &str)]) {
    let (status, out) = rerun(name, env);
    assert_ne!(
        status.signal(),
        Some(SIGSEGV),
        "a tracer thread executed rdtsc while it trapped it (a clock read through the vDSO: \
         Instant::now, SystemTime::now or libc's clock_gettime on the tracer thread during a \
         run?) and the process died of SIGSEGV.\n{out}"
    );
    assert!(status.success(), "the child failed ({status}):\n{out}");
    assert!(
        out.contains("1 passed"),
        "the child did not run {name}:\n{out}"
    );
}

/// The detector works: on this machine a vDSO read on a thread that traps `rdtsc` kills
/// the process (where the vDSO does not read the TSC, there is nothing to detect).
#[test]
fn a_vdso_clock_read_while_trapping_is_fatal() {
    if in_child() {
        let _trap = takt_core::sys::TscTrap::new();
        assert!(takt_core::sys::TscTrap::active());
        // The raw system call is fine…
        let a = takt_core::sys::monotonic_nanos();
        assert!(takt_core::sys::monotonic_nanos() >= a);
        // …the vDSO is not.
        let t = std::time::Instant::now();
        println!("survived a vDSO read: {t:?}");
        return;
    }
    let (status, out) = rerun("a_vdso_clock_read_while_trapping_is_fatal", &[]);
    if vdso_reads_tsc() {
        assert_eq!(
            status.signal(),
            Some(SIGSEGV),
            "a vDSO read while trapping rdtsc should be fatal here:\n{out}"
        );
    } else {
        eprintln!("this machine's vDSO does not read the TSC: nothing to detect");
    }
}

/// The trap is on only for the run: the calling thread reads the clock normally before
/// and after, and a guard restores the previous mode.
#[test]
fn the_trap_is_restored_after_a_run() {
    if in_child() {
        assert!(!takt_core::sys::TscTrap::active());
        {
            let _trap = takt_core::sys::TscTrap::new();
            assert!(takt_core::sys::TscTrap::active());
        }
        assert!(!takt_core::sys::TscTrap::active());
        let _ = Fixture::c("clocks").takt(1);
        assert!(!takt_core::sys::TscTrap::active());
        let _ = Fixture::c("segv").scenario(1).run(); // a failing run
        assert!(!takt_core::sys::TscTrap::active());
        let t = std::time::Instant::now(); // through the vDSO: would be fatal if trapped
        assert!(t.elapsed() < Duration::from_secs(3600));
        return;
    }
    assert_survived("the_trap_is_restored_after_a_run", &[]);
}

fn two_nodes(name: &str, seed: u64) -> Scenario {
    let s = Scenario::new();
    s.random_seed(seed);
    let server = s.create_named_node("server");
    let client = s.create_named_node("client");
    let prog = Fixture::c(name).program;
    server.create_process(Process::new(&prog).args(["server", "7000"]));
    client.create_process(
        Process::new(&prog)
            .args(["client", "server", "7000"])
            .start_after(Duration::from_micros(100)),
    );
    s
}

#[test]
fn tracer_threads_never_read_the_vdso_clock() {
    if !in_child() {
        // TAKT_DEBUG prints every event from the tracer thread as it happens.
        return assert_survived(
            "tracer_threads_never_read_the_vdso_clock",
            &[("TAKT_DEBUG", "1")],
        );
    }
    // Output logged as it happens (what `takt run --log` does), full trace kept.
    for name in [
        "clocks",
        "fork_exec_wait",
        "threads_condvar",
        "pipes",
        "rdtsc",
    ] {
        let s = Fixture::c(name).scenario(3);
        s.stdout_logging(true).keep_full_trace(true);
        s.run().unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // Failures: death by a signal, deadlock, the watchdog, the completion time.
    assert!(Fixture::c("segv").scenario(1).run().is_err());
    assert!(Fixture::c("deadlock")
        .with_args(&["mutexes"])
        .scenario(1)
        .run()
        .is_err());
    let spin = Fixture::c("spin").scenario(1);
    spin.spin_budget(Duration::from_millis(300));
    assert!(spin.run().is_err());
    let cut = Fixture::c("sleep_steps")
        .with_args(&["1000", "10"])
        .scenario(1);
    cut.completion_time(Duration::from_millis(50));
    cut.run().unwrap();
    // The network, faults, a partition, a crash and a restart.
    two_nodes("tcp_echo", 3).run().unwrap();
    let s = two_nodes("udp_echo", 4);
    s.datagram_drop_rate(0.1).unwrap();
    let _ = s.run();
    let s = Scenario::new();
    s.random_seed(5).completion_time(Duration::from_millis(300));
    let a = s.create_named_node("cache");
    let b = s.create_named_node("client");
    a.create_process("/usr/bin/memcached -u root -p 11222 -U 0 -t 2");
    b.create_process(
        Process::parse(
            "/usr/bin/memcslap --servers=cache:11222 --concurrency=2 --execute-number=50 --binary",
        )
        .start_after(Duration::from_millis(1)),
    );
    s.syscall_fault_injection_rate(0.01).unwrap();
    s.partition(
        &a,
        &b,
        Duration::from_millis(20),
        Some(Duration::from_millis(10)),
    );
    s.crash(
        &a,
        Duration::from_millis(60),
        Some(Duration::from_millis(10)),
    );
    let _ = s.run();
    // Exploration on two threads of this process (their locks contend), determinism
    // checked.
    Explore::new()
        .seeds(4)
        .jobs(2)
        .processes(false)
        .check_determinism(true)
        .quiet(true)
        .run(|s| {
            s.create_node()
                .create_process(Process::new(Fixture::c("threads_condvar").program));
        })
        .unwrap();
}
