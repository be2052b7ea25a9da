//! After runs that end in every way (exit, crash, watchdog, completion time, deadlock,
//! a refused program, a panic in the tracer), no traced process and no child of the
//! test process remains. One test, so nothing else in this binary runs scenarios
//! concurrently.

use std::time::{Duration, Instant};
use takt_scenario::Scenario;
use takt_tests::Fixture;

/// Processes whose parent is this test process, or that this process traces.
fn leftovers() -> Vec<String> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc") {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |k: &str| {
            status
                .lines()
                .find(|l| l.starts_with(k))
                .map(|l| l[k.len()..].trim().to_string())
                .unwrap_or_default()
        };
        let tracer = field("TracerPid:");
        let tracer_is_us =
            std::fs::metadata(format!("/proc/{me}/task/{tracer}")).is_ok() && tracer != "0";
        if field("PPid:") == me || tracer_is_us {
            found.push(format!(
                "pid {name} {} ({})",
                field("Name:"),
                field("State:")
            ));
        }
    }
    found
}

#[test]
fn no_process_outlives_its_scenario() {
    let before = leftovers();
    assert!(before.is_empty(), "leftovers before any run: {before:?}");
    let _ = Fixture::c("fork_exec_wait").takt(1);
    let _ = Fixture::c("segv").scenario(1).run();
    let spin = Fixture::c("spin").scenario(1);
    spin.spin_budget(Duration::from_millis(400));
    let _ = spin.run();
    let _ = Fixture::c("deadlock")
        .with_args(&["mutexes"])
        .scenario(1)
        .run();
    let cut = Fixture::c("sleep_steps")
        .with_args(&["1000", "10"])
        .scenario(1);
    cut.completion_time(Duration::from_millis(100));
    let _ = cut.run();
    // A process tree still running at the completion time: children and grandchildren.
    let tree = Scenario::new();
    tree.create_node()
        .create_process("/bin/sh -c '(sleep 100 &) ; sleep 100 & sleep 100'");
    tree.completion_time(Duration::from_secs(1));
    let _ = tree.run();
    let bad = Scenario::new();
    bad.create_node().create_process("/no/such/binary");
    let _ = bad.run();
    let after = leftovers();
    assert!(after.is_empty(), "processes left behind: {after:?}");
    explorations_leave_no_directories();
    tracer_panics_tear_the_run_down();
}

/// The scenario directories (`$TMPDIR/takt-<pid>-<n>`, and their `.fs` layers wherever
/// [`takt_scenario::Scenario::layers_dir`] puts them) of this process, or of a process
/// that is gone (an exploration's worker).
fn orphan_dirs(before: &[String]) -> Vec<String> {
    let me = format!("takt-{:08x}-", std::process::id());
    let mut found = Vec::new();
    let layers = takt_scenario::Scenario::new().layers_dir();
    let mut places = vec![std::env::temp_dir()];
    places.extend(layers.parent().map(std::path::Path::to_path_buf));
    places.dedup();
    let entries = places
        .iter()
        .flat_map(|d| std::fs::read_dir(d).expect("a directory for scenarios"));
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("takt-")
            .and_then(|r| r.split('-').next())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
        else {
            continue;
        };
        let gone = !std::path::Path::new(&format!("/proc/{pid}")).exists();
        if (name.starts_with(&me) || gone) && !before.contains(&name) {
            found.push(name);
        }
    }
    found
}

/// An exploration hands its runs' directories to a background cleaner; when it
/// returns (in threads, or in worker processes that have exited) no directory and no
/// process is left.
fn explorations_leave_no_directories() {
    let before = orphan_dirs(&[]);
    let program = takt_tests::c_fixture("file_io");
    let build = |s: &Scenario| {
        s.create_node()
            .create_process(takt_scenario::Process::new(&program));
    };
    for processes in [false, true] {
        takt_scenario::Explore::new()
            .seeds(6)
            .jobs(2)
            .processes(processes)
            .quiet(true)
            .run(build)
            .expect("file_io passes");
        let left = orphan_dirs(&before);
        assert!(
            left.is_empty(),
            "directories left by an exploration (processes: {processes}): {left:?}"
        );
        let after = leftovers();
        assert!(
            after.is_empty(),
            "processes left by an exploration (processes: {processes}): {after:?}"
        );
    }
}

/// A panic inside the tracer (forced by a test hook at the n-th syscall) returns an
/// error naming the panic and the seed within 5 s, and leaves nothing behind: processes
/// in every state (just forked, blocked, stopped, multi-threaded).
fn tracer_panics_tear_the_run_down() {
    let cases: [(&str, &[&str], u64); 4] = [
        ("fork_exec_wait", &[], 1),
        ("fork_exec_wait", &[], 40),
        ("threads_condvar", &[], 60),
        ("sleep_steps", &["1000", "10"], 25),
    ];
    for (fixture, args, at) in cases {
        let scenario = Fixture::c(fixture).with_args(args).scenario(77);
        let mut cfg = scenario.config().expect("valid scenario");
        cfg.test_panic_after_syscalls = Some(at);
        let t0 = Instant::now();
        let err = takt_core::run(cfg).expect_err("the tracer panicked");
        let took = t0.elapsed();
        let text = err.to_string();
        assert!(
            matches!(err, takt_core::Error::Panic { seed: 77, .. }),
            "{fixture} at {at}: not a panic error: {text}"
        );
        assert!(
            text.contains("tracer panic after") && text.contains("seed 77"),
            "{text}"
        );
        assert!(
            took < Duration::from_secs(5),
            "{fixture} at {at}: took {took:?}"
        );
        let after = leftovers();
        assert!(after.is_empty(), "{fixture} at {at}: left behind {after:?}");
    }
    // Through the scenario API too: a panic is an engine error, not a hang.
    let s = Scenario::new();
    s.create_node()
        .create_process("/bin/sh -c 'sleep 1; sleep 1 & wait'");
    let mut cfg = s.config().expect("valid");
    cfg.test_panic_after_syscalls = Some(30);
    assert!(takt_core::run(cfg).is_err());
    let after = leftovers();
    assert!(after.is_empty(), "sh: left behind {after:?}");
}
