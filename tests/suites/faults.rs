//! Fault injection, failure detection, exploration and exact replay: syscall faults at
//! the rates a test sets, node crash and restart, partitions, bad rates, and failures
//! reproduced from their seed with the same digest.

use std::time::Duration;
use takt_scenario::{parse_seed, Error, Explore, Process, Report, Scenario, Status};
use takt_tests::{c_fixture, python3, python_fixture};

const MEMCACHED: &str = "/usr/bin/memcached -u root -p 11222 -U 0 -t 2";

fn line<'a>(r: &'a Report, key: &str) -> &'a str {
    let out = &r.processes[1].stdout;
    let text = std::str::from_utf8(out).expect("utf-8");
    let l = text
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key:?} in {text}"));
    &l[key.len()..]
}

/// memcached on node `cache`, the retrying Python client (`rounds` successful rounds,
/// then it exits; the run ends with it) on node `web`.
fn cache_and_retrying_client(
    seed: u64,
    rounds: u32,
) -> (Scenario, takt_scenario::Node, takt_scenario::Node) {
    let s = Scenario::new();
    s.random_seed(seed);
    s.completion_time(Duration::from_secs(5));
    let a = s.create_named_node("cache");
    let b = s.create_named_node("web");
    a.create_process(MEMCACHED);
    let script = python_fixture("mc_retry").to_string_lossy().into_owned();
    b.create_process(
        Process::new(python3())
            .args([script, "cache".into(), "11222".into(), rounds.to_string()])
            .start_after(Duration::from_millis(1))
            .must_finish(),
    );
    (s, a, b)
}

#[test]
fn node_crash_and_restart_while_a_client_retries() {
    let build = |seed| {
        let (s, a, _) = cache_and_retrying_client(seed, 30);
        s.crash(
            &a,
            Duration::from_millis(100),
            Some(Duration::from_millis(150)),
        );
        s
    };
    let r = build(5).run().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(line(&r, "rounds "), "30");
    assert!(
        line(&r, "errors ") != "0",
        "the client saw the crash: {}",
        r.stdout(1)
    );
    let crash = r
        .incidents
        .iter()
        .find(|i| i.what == "crash of node cache")
        .expect("crash reported");
    let restart = r
        .incidents
        .iter()
        .find(|i| i.what.starts_with("restart of node cache"))
        .expect("restart reported");
    assert_eq!(crash.time.as_nanos(), 100_000_000);
    assert_eq!(restart.time.as_nanos(), 250_000_000);
    assert!(
        restart.what.contains("after 0.150000 s down"),
        "{}",
        restart.what
    );
    assert!(r.to_string().contains("crash of node cache"), "{r}");
    assert_eq!(
        r.processes[0].status,
        Status::Running,
        "the restarted memcached runs to the end"
    );
    assert_eq!(
        r.digest,
        build(5).run().unwrap().digest,
        "crash and restart are deterministic"
    );
}

#[test]
fn a_partition_healed_later_gives_timeouts_then_recovers() {
    let build = || {
        let (s, a, b) = cache_and_retrying_client(8, 30);
        s.partition(
            &a,
            &b,
            Duration::from_millis(100),
            Some(Duration::from_millis(300)),
        );
        s
    };
    let r = build().run().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(line(&r, "rounds "), "30");
    assert!(
        line(&r, "kinds ").contains("timeout"),
        "a cut network gives timeouts: {}",
        r.stdout(1)
    );
    assert!(r
        .incidents
        .iter()
        .any(|i| i.what == "partition cache | web"));
    assert!(r.incidents.iter().any(|i| i.what == "heal cache | web"));
    assert_eq!(r.digest, build().run().unwrap().digest);
}

#[test]
fn bad_rates_and_names_are_refused_clearly() {
    for rate in [f64::NAN, -0.1, 1.5] {
        let s = Scenario::new();
        let Err(Error::BadInput(m)) = s.syscall_fault_injection_rate(rate) else {
            panic!("{rate} accepted")
        };
        assert!(m.contains("between 0 and 1"), "{m}");
    }
    let s = Scenario::new();
    let Err(Error::BadInput(m)) = s.fault_rate("acept", 0.1) else {
        panic!()
    };
    assert!(m.contains("did you mean accept"), "{m}");
    let Err(Error::BadInput(m)) = s.fault_rate("mmap", 0.1) else {
        panic!()
    };
    assert!(m.contains("mmap"), "{m}");
    // The static setters of the paper cannot return an error: run() reports it.
    Scenario::set_fault_rate("epol_wait", 0.5);
    let s = Scenario::new();
    s.create_node().create_process("/bin/true");
    let Err(Error::BadInput(m)) = s.run() else {
        panic!("a bad default rate must be reported")
    };
    assert!(m.contains("epoll_wait"), "{m}");
    for bad in ["abc", "-1", "0xzz", ""] {
        let e = parse_seed(bad).unwrap_err();
        assert!(e.contains("is not a seed"), "{e}");
    }
    assert_eq!(parse_seed("0x2a"), Ok(42));
}

#[test]
fn memcached_under_accept_and_global_faults_passes_or_fails_reproducibly() {
    // The paper's settings: accept at 0.01, every other syscall at 0.001.
    Scenario::set_syscall_fault_injection_rate(0.001);
    Scenario::set_fault_rate("accept", 0.01);
    Scenario::set_fault_rate("accept4", 0.01);
    let build = |s: &Scenario| {
        s.completion_time(Duration::from_millis(300));
        let n = s.create_node();
        n.create_process(MEMCACHED);
        n.create_process(
            Process::parse("/usr/bin/memcslap --servers=127.0.0.1:11222 --concurrency=2 --execute-number=100 --binary")
                .start_after(Duration::from_millis(1))
                .must_finish(),
        );
    };
    let seeds = 24;
    let result = Explore::new().seeds(seeds).stop_at_first(false).run(build);
    match result {
        Ok(summary) => assert_eq!(summary.passed.len() as u64, seeds),
        Err(Error::Failed(f)) => {
            // The lowest failing seed replays to the same failure and digest.
            let seed = f.report.seed;
            let s = Scenario::new();
            build(&s);
            let Err(Error::Failed(again)) = s.random_seed(seed).run() else {
                panic!("seed {seed} passed on replay")
            };
            assert_eq!(again.reason, f.reason);
            assert_eq!(again.report.digest, f.report.digest);
            assert!(
                f.rerun.contains(&format!("TAKT_SEED={seed}")),
                "{}",
                f.rerun
            );
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn injected_faults_are_counted_and_draw_on_their_own_stream() {
    let run = |rate: f64| {
        let s = Scenario::new();
        s.random_seed(3);
        s.fault_rate("read", rate).unwrap();
        s.create_node()
            .create_process(takt_tests::c_fixture("pipes").to_string_lossy().as_ref());
        s.run()
    };
    let r = run(0.3).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        r.faults.iter().any(|(c, _, n)| c == "read" && *n > 0),
        "{:?}",
        r.faults
    );
    assert!(r.to_string().contains("faults injected:"), "{r}");
    let again = run(0.3).unwrap();
    assert_eq!(r.digest, again.digest);
    // Without faults the schedule and the program's randomness are those of seed 3.
    let none = run(0.0).unwrap();
    assert!(none.faults.is_empty());
}

/// The planted lost update (two clients' unlocked read-modify-write on one counter).
fn lost_update(s: &Scenario) {
    s.create_node().create_process(
        takt_tests::c_fixture("lost_update")
            .to_string_lossy()
            .as_ref(),
    );
}

#[test]
fn exploration_finds_the_planted_lost_update_and_its_seed_replays_it() {
    let replaying = std::env::var_os("TAKT_SEED").is_some();
    let Err(Error::Failed(f)) = Explore::new().seeds(200).run(lost_update) else {
        panic!("200 seeds did not find the lost update")
    };
    assert!(f.reason.contains("exited 1"), "{}", f.reason);
    let seed = f.report.seed;
    if replaying {
        return; // the child of the rerun check below: it only had to fail the same way
    }
    // The seed replays to the same failure and digest, 10 times out of 10.
    for _ in 0..10 {
        let s = Scenario::new();
        lost_update(&s);
        let Err(Error::Failed(g)) = s.random_seed(seed).run() else {
            panic!("seed {seed} passed on replay")
        };
        assert_eq!(
            (g.reason, g.report.digest),
            (f.reason.clone(), f.report.digest.clone())
        );
    }
    // The printed command names the seed and this test, and running it (this test
    // binary, `--exact` this test, `TAKT_SEED`) fails the same way.
    let test = "exploration_finds_the_planted_lost_update_and_its_seed_replays_it";
    assert!(
        f.rerun.contains(&format!("TAKT_SEED={seed}")) && f.rerun.contains(test),
        "{}",
        f.rerun
    );
    let want = format!("seed {seed}: FAILED  digest {}", &f.report.digest[..16]);
    for attempt in 0..10 {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env("TAKT_SEED", seed.to_string())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&want),
            "attempt {attempt}: the rerun did not reproduce `{want}`:\n{stdout}"
        );
    }
}

#[test]
fn a_server_that_dies_on_accept_errors_is_caught_by_accept_faults() {
    Scenario::set_fault_rate("accept", 0.05);
    Scenario::set_fault_rate("accept4", 0.05);
    let build = |s: &Scenario| {
        s.create_node().create_process(
            takt_tests::c_fixture("fragile_server")
                .to_string_lossy()
                .as_ref(),
        );
    };
    let Err(Error::Failed(f)) = Explore::new().seeds(200).run(build) else {
        panic!("200 seeds did not find it")
    };
    assert!(
        f.report.stdout(0).contains("accept_failed errno"),
        "{}",
        f.report.stdout(0)
    );
    assert!(
        f.report
            .faults
            .iter()
            .any(|(c, _, _)| c.starts_with("accept")),
        "{:?}",
        f.report.faults
    );
}

#[test]
fn correct_code_passes_under_faults() {
    Scenario::set_fault_rate("read", 0.01);
    Scenario::set_fault_rate("write", 0.01);
    Scenario::set_fault_rate("accept", 0.01);
    Scenario::set_fault_rate("accept4", 0.01);
    let build = |s: &Scenario| {
        s.create_node().create_process(
            takt_tests::c_fixture("retry_client")
                .to_string_lossy()
                .as_ref(),
        );
    };
    let summary = Explore::new()
        .seeds(30)
        .quiet(true)
        .run(build)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.passed.len(), 30);
}

#[test]
fn random_partitions_are_drawn_from_the_seed() {
    let build = |seed| {
        let (s, _, _) = cache_and_retrying_client(seed, 40);
        s.random_partitions(Duration::from_millis(150), Duration::from_millis(60));
        s
    };
    let r = build(2).run().unwrap_or_else(|e| panic!("{e}"));
    let cuts = r
        .incidents
        .iter()
        .filter(|i| i.what.starts_with("partition"))
        .count();
    assert!(cuts > 0, "{r}");
    assert_eq!(line(&r, "rounds "), "40");
    let again = build(2).run().unwrap();
    assert_eq!((&r.digest, &r.incidents), (&again.digest, &again.incidents));
    assert_ne!(
        build(3).run().unwrap().incidents,
        again.incidents,
        "another seed, other partitions"
    );
    // The partitions are decisions of the tape: it replays them, and a tape without
    // them is a run without partitions.
    let tape = r.tape.clone().expect("a tape");
    let on_tape = tape
        .decisions
        .iter()
        .filter(|d| matches!(d.choice, takt_core::tape::Choice::Partition { .. }))
        .count();
    // (All drawn up to the completion time are on it; the run may end before the last.)
    assert!(on_tape >= cuts, "{on_tape} < {cuts}");
    let replayed = build(2).replay_tape(tape.clone()).run().unwrap();
    assert_eq!(replayed.digest, r.digest);
    let mut none = tape;
    none.decisions
        .retain(|d| !matches!(d.choice, takt_core::tape::Choice::Partition { .. }));
    let calm = build(2).replay_tape(none).run().unwrap();
    assert!(
        !calm
            .incidents
            .iter()
            .any(|i| i.what.starts_with("partition")),
        "{:?}",
        calm.incidents
    );
}

#[test]
fn check_determinism_runs_every_seed_twice_and_catches_a_leak() {
    let ok = |s: &Scenario| {
        s.create_node().create_process(
            takt_tests::c_fixture("threads_condvar")
                .to_string_lossy()
                .as_ref(),
        );
    };
    let summary = Explore::new()
        .seeds(6)
        .check_determinism(true)
        .quiet(true)
        .run(ok)
        .unwrap();
    assert_eq!(summary.runs, 12);
    // /proc/self/schedstat comes from the host (nanoseconds the host ran and queued
    // the task): not deterministic.
    let leak = |s: &Scenario| {
        s.create_node()
            .create_process("/bin/cat /proc/self/schedstat");
    };
    let Err(Error::Failed(f)) = Explore::new()
        .seeds(3)
        .check_determinism(true)
        .quiet(true)
        .run(leak)
    else {
        panic!("printing host process state must be caught")
    };
    assert!(f.reason.starts_with("nondeterminism"), "{}", f.reason);
}

#[test]
fn connection_resets_and_datagram_drops_are_injected_reproducibly() {
    let tcp = |seed| {
        let s = Scenario::new();
        s.random_seed(seed);
        let (a, b) = (s.create_named_node("server"), s.create_named_node("client"));
        let prog = takt_tests::c_fixture("retry_client");
        a.create_process(Process::new(&prog).args(["server", "7000"]));
        b.create_process(
            Process::new(&prog)
                .args(["client", "server", "7000"])
                .start_after(Duration::from_micros(100)),
        );
        s.connection_reset_rate(0.2).unwrap();
        s.run()
    };
    // The retrying client gets through resets; the report counts them.
    let r = tcp(4).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        r.faults
            .iter()
            .any(|(c, k, n)| c == "network" && k == "connection reset" && *n > 0),
        "{:?}",
        r.faults
    );
    assert!(r.stdout(1).contains("echoed 5"), "{}", r.stdout(1));
    assert_eq!(r.digest, tcp(4).unwrap().digest);

    let udp = |seed| {
        let s = Scenario::new();
        s.random_seed(seed);
        s.completion_time(Duration::from_secs(30));
        let (a, b) = (s.create_named_node("server"), s.create_named_node("client"));
        let prog = takt_tests::c_fixture("udp_echo");
        a.create_process(Process::new(&prog).args(["server", "7000"]));
        b.create_process(
            Process::new(&prog)
                .args(["client", "server", "7000"])
                .start_after(Duration::from_micros(100)),
        );
        s.datagram_drop_rate(0.2).unwrap();
        s.latency(
            Duration::ZERO,
            Duration::from_millis(1),
            Duration::from_micros(300),
        );
        s.run()
    };
    let r = udp(1);
    let report = match &r {
        Ok(r) => r,
        Err(Error::Failed(f)) => &f.report,
        Err(e) => panic!("{e}"),
    };
    assert!(
        report
            .faults
            .iter()
            .any(|(c, k, _)| c == "network" && k == "datagram dropped"),
        "{:?}",
        report.faults
    );
    let again = udp(1);
    let again = match &again {
        Ok(r) => r,
        Err(Error::Failed(f)) => &f.report,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(report.digest, again.digest);
    for bad in [-1.0, 2.0, f64::NAN] {
        assert!(Scenario::new().connection_reset_rate(bad).is_err());
        assert!(Scenario::new().datagram_drop_rate(bad).is_err());
    }
}

/// `.unwrap()` on a failed run prints the human text (`Debug` is `Display`): short,
/// with the seed, what failed, output as text, events as lines, and the rerun command.
#[test]
fn unwrapping_a_failed_run_prints_a_readable_message() {
    let Err(Error::Failed(f)) = Explore::new().seeds(200).run(lost_update) else {
        panic!("200 seeds did not find the lost update")
    };
    let seed = f.report.seed;
    let s = Scenario::new();
    lost_update(&s);
    s.random_seed(seed).keep_full_trace(true);
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.run().unwrap();
    }))
    .expect_err("a failing run panics on unwrap");
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .expect("unwrap panics with a String");
    let lines = msg.lines().count();
    assert!(lines <= 80, "{lines} lines:\n{msg}");
    assert!(msg.contains(&format!("seed {seed}")), "{msg}");
    assert!(msg.contains(&format!("rerun: TAKT_SEED={seed} ")), "{msg}");
    assert!(msg.contains("exited 1"), "{msg}");
    assert!(msg.contains("last events:"), "{msg}");
    // Output as text, events as syscall lines, never byte arrays or raw enum dumps.
    assert!(!msg.contains("stdout: ["), "{msg}");
    assert!(!msg.contains("Syscall {"), "{msg}");
}

/// Short-transfer faults on vectored and message calls shorten them, and the report
/// counts exactly the calls that came back short.
#[test]
fn short_faults_shorten_vectored_and_message_transfers_and_are_counted() {
    let s = takt_tests::Fixture::c("short_io").scenario(5);
    for call in ["readv", "writev", "sendmsg", "recvmsg", "sendmmsg"] {
        s.fault_rate(call, 1.0).unwrap();
    }
    let r = s.run().unwrap_or_else(|e| panic!("{e}"));
    let out = r.stdout(0);
    for call in ["readv", "writev", "sendmsg", "recvmsg", "sendmmsg"] {
        let short = out
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{call} ")))
            .filter(|l| {
                let v: Vec<i64> = l.split(' ').map(|x| x.parse().unwrap()).collect();
                v[0] >= 0 && v[0] < v[1]
            })
            .count() as u64;
        let counted: u64 = r
            .faults
            .iter()
            .filter(|(c, f, _)| c == call && f == "short")
            .map(|(_, _, n)| n)
            .sum();
        assert_eq!(
            short, counted,
            "{call}: {short} short in the output, {counted} in the report\n{out}{r}"
        );
        if call != "recvmsg" {
            assert!(short > 0, "{call}: no transfer was shortened\n{out}");
        }
    }
}

#[test]
fn semaphore_sets_are_per_node_and_gone_after_a_crash() {
    let s = Scenario::new();
    s.random_seed(3);
    s.completion_time(Duration::from_secs(3));
    let a = s.create_named_node("a");
    let b = s.create_named_node("b");
    let prog = c_fixture("sem_key");
    let at = |ms| Process::new(prog.clone()).start_after(Duration::from_millis(ms));
    a.create_process(at(0));
    a.create_process(at(10));
    b.create_process(at(20));
    s.crash(
        &a,
        Duration::from_millis(100),
        Some(Duration::from_millis(100)),
    );
    let r = s.run().unwrap_or_else(|e| panic!("{e}"));
    // Node a: created, then found; node b: a set of its own; after the crash and
    // restart, node a's processes start from an empty IPC space.
    let lines: Vec<String> = r
        .lines
        .iter()
        .map(|l| format!("{} {}", l.node, l.text))
        .collect();
    let want = [
        "a lookup 2",
        "a created 1",
        "a lookup 0",
        "b lookup 2",
        "b created 1",
        "a lookup 2",
        "a created 1",
        "a lookup 0",
    ];
    assert_eq!(lines, want, "{r}");
}
