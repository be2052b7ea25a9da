//! The two kinds of syscall stop give the same run. A call in `NOTIFIED` stops through a
//! seccomp user notification, every other traced call at a ptrace stop; with
//! `test_ptrace_stops_only` (`TAKT_NOTIFY=0`) every call stops under ptrace. Each
//! fixture, and memcached serving memcslap, gives the same output, the same virtual end
//! time and the same trace digest both ways, and the notified run did stop through
//! notifications.

use takt_scenario::Scenario;
use takt_tests::{network_fixtures, small_memcached, syscall_fixtures};

fn run(s: &Scenario, ptrace_only: bool) -> takt_core::report::Report {
    let mut cfg = s.config().expect("a valid scenario");
    cfg.test_ptrace_stops_only = ptrace_only;
    takt_core::run(cfg).unwrap_or_else(|e| panic!("{e}"))
}

fn same_both_ways(what: &str, s: &Scenario) {
    let notified = run(s, false);
    let ptrace = run(s, true);
    assert!(
        notified.notified > 0,
        "{what}: no call stopped through a notification ({} syscalls)",
        notified.syscalls
    );
    assert_eq!(
        ptrace.notified, 0,
        "{what}: notifications with ptrace stops only"
    );
    assert_eq!(
        notified.syscalls, ptrace.syscalls,
        "{what}: syscalls handled"
    );
    for i in 0..notified.processes.len() {
        assert_eq!(
            notified.stdout(i),
            ptrace.stdout(i),
            "{what}: stdout of process {i}"
        );
    }
    assert_eq!(
        notified.end_time, ptrace.end_time,
        "{what}: virtual end time"
    );
    assert_eq!(notified.digest, ptrace.digest, "{what}: trace digest");
}

#[test]
fn every_fixture_gives_the_same_run_with_notified_and_ptrace_stops() {
    for f in syscall_fixtures().into_iter().chain(network_fixtures()) {
        for seed in [1, 2] {
            same_both_ways(&format!("{} (seed {seed})", f.name), &f.scenario(seed));
        }
    }
}

#[test]
fn memcached_gives_the_same_run_with_notified_and_ptrace_stops() {
    for seed in [1, 2] {
        let s = Scenario::new();
        s.random_seed(seed);
        small_memcached(&s);
        same_both_ways(&format!("memcached (seed {seed})"), &s);
    }
}
