//! Determinism is a tested property: the same seed gives byte-identical output and the
//! same trace digest, for every fixture; different seeds explore different schedules.

use std::collections::BTreeSet;
use takt_tests::{syscall_fixtures, Fixture};

const RUNS: usize = 20;

#[test]
fn same_seed_twenty_times_gives_identical_output_and_digest() {
    for f in syscall_fixtures() {
        let first = f.takt(4242);
        for i in 1..RUNS {
            let r = f.takt(4242);
            assert_eq!(
                r.stdout(0),
                first.stdout(0),
                "{}: stdout of run {i} differs from run 0",
                f.name
            );
            assert_eq!(
                r.digest, first.digest,
                "{}: digest of run {i} differs from run 0",
                f.name
            );
            assert_eq!(
                r.end_time, first.end_time,
                "{}: virtual end time differs",
                f.name
            );
        }
    }
}

fn interleavings(f: &Fixture) -> BTreeSet<String> {
    (0..20u64)
        .map(|seed| {
            let out = f.takt(seed).stdout(0);
            out.lines()
                .find(|l| l.starts_with("sched order"))
                .expect("the fixture prints its order")
                .to_string()
        })
        .collect()
}

#[test]
fn twenty_seeds_give_at_least_five_interleavings_of_four_threads() {
    for f in [Fixture::c("threads_condvar"), Fixture::rust("rust_threads")] {
        let orders = interleavings(&f);
        assert!(
            orders.len() >= 5,
            "{}: only {} distinct orders over 20 seeds: {orders:#?}",
            f.name,
            orders.len()
        );
    }
}

#[test]
fn pct_strategy_is_deterministic_and_explores() {
    let f = Fixture::c("threads_condvar");
    let run = |seed| {
        let s = f.scenario(seed);
        s.strategy(takt_scenario::Strategy::Pct {
            depth: 3,
            steps: 200,
        });
        s.run().unwrap()
    };
    let a = run(9);
    assert_eq!(a.digest, run(9).digest);
    let orders: BTreeSet<String> = (0..20).map(|s| run(s).stdout(0)).collect();
    assert!(
        orders.len() >= 3,
        "PCT explored only {} schedules",
        orders.len()
    );
}

#[test]
fn ten_virtual_seconds_of_sleep_take_under_a_real_second() {
    let f = Fixture::c("sleep_steps").with_args(&["1000", "10"]);
    let t0 = std::time::Instant::now();
    let r = f.takt(1);
    let real = t0.elapsed();
    let out = r.stdout(0);
    assert!(out.contains("elapsed_s 10\n"), "{out}");
    assert!(
        real < std::time::Duration::from_secs(1),
        "took {real:?} of real time"
    );
    let virt = r.end_time.as_nanos() as f64 / 1e9;
    assert!((10.0..10.1).contains(&virt), "virtual end time {virt} s");
}

#[test]
fn ten_virtual_seconds_of_polling_the_clock_take_seconds_not_minutes() {
    // gettimeofday for 10 s, then clock_gettime(CLOCK_MONOTONIC) up to 20 s, in busy
    // loops: 60 million reads at the plain syscall cost (about 15 minutes of stops).
    let f = Fixture::c("time_poll").with_args(&["10"]);
    let t0 = std::time::Instant::now();
    let r = f.takt(1);
    let real = t0.elapsed();
    let out = r.stdout(0);
    assert!(out.contains("gettimeofday_waited 1\n"), "{out}");
    assert!(out.contains("monotonic_waited 1\n"), "{out}");
    assert!(
        real < std::time::Duration::from_secs(10),
        "took {real:?} of real time"
    );
    let virt = r.end_time.as_nanos() as f64 / 1e9;
    assert!((20.0..20.01).contains(&virt), "virtual end time {virt} s");
    assert_eq!(r.digest, f.takt(1).digest);
}

/// The files through which programs read the host's state show the node's virtual
/// machine, not the host: the same bytes in two same-seed runs, the second alongside a
/// CPU hog on the host.
#[test]
fn host_state_files_do_not_change_with_the_host() {
    let f = Fixture::c("host_files");
    let quiet = f.takt(3).stdout(0);
    let mut hog = std::process::Command::new("/bin/sh")
        .args(["-c", "while :; do :; done"])
        .spawn()
        .expect("start a CPU hog");
    let loaded = f.takt(3).stdout(0);
    let _ = hog.kill();
    let _ = hog.wait();
    assert_eq!(quiet, loaded);
    assert!(quiet.contains("MemTotal:        4194304 kB\n"), "{quiet}");
    assert_eq!(quiet.matches("processor\t:").count(), 4, "{quiet}");
    assert!(
        quiet.contains("=== /proc/uptime\n100.01 400.04\n"),
        "{quiet}"
    );
    assert!(
        quiet.contains("=== /sys/fs/cgroup/memory.max\nmax\n"),
        "{quiet}"
    );
    assert!(!quiet.contains("(cannot open)"), "{quiet}");
}

#[test]
fn a_detailed_trace_has_the_same_digest_and_signature() {
    // `trace_detail` adds a stop at the exit of every call passed to the kernel and the
    // bytes of every buffer; neither may reach the digest, the signature or the schedule.
    for f in syscall_fixtures().iter().filter(|f| {
        [
            "fork_exec_wait",
            "ping_pong",
            "file_io",
            "threads_condvar",
            "pipes",
        ]
        .contains(&f.name.as_str())
    }) {
        for seed in [3, 4] {
            let plain = f.takt(seed);
            let s = f.scenario(seed);
            s.keep_full_trace(true).trace_detail(true);
            let detailed = s.run().expect("the detailed run");
            assert_eq!(
                detailed.digest, plain.digest,
                "{} seed {seed}: digest",
                f.name
            );
            assert_eq!(
                detailed.stdout(0),
                plain.stdout(0),
                "{} seed {seed}",
                f.name
            );
            assert_eq!(
                detailed.signature.as_ref().map(|s| format!("{s:?}")),
                plain.signature.as_ref().map(|s| format!("{s:?}")),
                "{} seed {seed}: signature",
                f.name
            );
            let shown = detailed
                .trace
                .iter()
                .filter(|e| {
                    matches!(
                        e.kind,
                        takt_core::trace::EventKind::Syscall { ret: None, .. }
                    )
                })
                .count();
            assert!(
                shown < detailed.trace.len() / 10,
                "{}: {shown} calls still `= ?`",
                f.name
            );
        }
    }
}

/// The clock page (takt's vDSO, `takt_core::sys::vdso`) answers clock reads without a
/// stop and gives the run trapped reads give: `time_poll` and `vdso_clock` print the
/// same and end at the same virtual time with it and without it, and `time_poll`'s
/// thousands of reads take a few dozen syscalls instead of one each.
#[test]
fn the_clock_page_gives_the_run_trapped_reads_give_without_their_stops() {
    let run = |f: &Fixture, page: bool| {
        let s = f.scenario(11); // its directory lives as long as `s`
        let mut cfg = s.config().expect("a valid scenario");
        cfg.clock_page = page;
        takt_core::run(cfg).expect("the run ends")
    };
    for f in [
        Fixture::c("time_poll").with_args(&["0.2"]),
        Fixture::c("vdso_clock"),
    ] {
        let (with, without) = (run(&f, true), run(&f, false));
        assert_eq!(
            with.stdout(0),
            without.stdout(0),
            "{}: stdout differs",
            f.name
        );
        assert_eq!(
            with.end_time, without.end_time,
            "{}: end time differs",
            f.name
        );
        assert!(
            with.syscalls < without.syscalls,
            "{}: {} syscalls with the clock page, {} without",
            f.name,
            with.syscalls,
            without.syscalls
        );
    }
    let f = Fixture::c("time_poll").with_args(&["0.2"]);
    let (with, without) = (run(&f, true), run(&f, false));
    assert!(
        with.syscalls * 20 < without.syscalls,
        "time_poll: {} syscalls with the clock page, {} without",
        with.syscalls,
        without.syscalls
    );
}
