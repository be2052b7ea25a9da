//! The visual report, looked at in a real browser (headless Chromium, installed by
//! scripts/setup): the two-node memcached run and a failing fault run render without a
//! JavaScript error, with one lane per thread, arrows across nodes, global snapshots
//! (markers and panels), the dependency graph, and (failed) the failure marker and the
//! rerun command; screenshots go to the target directory. The
//! Perfetto export passes a structural check.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use takt_core::trace::EventKind;
use takt_scenario::{Error, Explore, Process, Report, ReportExt, Scenario};

/// Where artifacts (reports, screenshots) go.
fn artifacts() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-artifacts");
    std::fs::create_dir_all(&d).expect("artifact dir");
    d
}

/// Headless Chromium on `page`: the DOM after the scripts ran, and its console errors.
fn chromium(page: &Path, screenshot: Option<&Path>) -> (String, Vec<String>) {
    let url = format!("file://{}", page.display());
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--enable-logging=stderr",
        "--v=0",
    ]);
    match screenshot {
        Some(png) => cmd.arg(format!("--screenshot={}", png.display())),
        None => cmd.arg("--dump-dom"),
    };
    let out = cmd
        .arg(&url)
        .output()
        .expect("chromium (scripts/setup installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors = stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains("Error")))
        .map(str::to_string)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), errors)
}

fn count(dom: &str, needle: &str) -> usize {
    dom.matches(needle).count()
}

/// Threads of the run: distinct (pid, tid) in its trace.
fn threads(r: &Report) -> usize {
    r.trace
        .iter()
        .filter(|e| e.tid != 0)
        .map(|e| (e.pid, e.tid))
        .collect::<BTreeSet<_>>()
        .len()
}

/// The two-node memcached scenario of the example, shorter.
fn memcached_two_nodes() -> Scenario {
    let s = Scenario::new();
    s.random_seed(23486);
    s.completion_time(Duration::from_millis(500));
    s.keep_full_trace(true);
    let a = s.create_named_node("cache");
    let b = s.create_named_node("web");
    a.create_process("/usr/bin/memcached -u root -p 11222 -U 0 -t 4");
    b.create_process(
        Process::parse(&format!(
            "/usr/bin/memcslap --servers={}:11222 --concurrency=2 --execute-number=100 --binary",
            a.addr()
        ))
        .start_after(Duration::from_millis(1)),
    );
    s
}

#[test]
fn the_memcached_report_renders_with_a_lane_per_thread_and_arrows_across_nodes() {
    let s = memcached_two_nodes();
    // Two global snapshots: each a marker on the time axis and a panel.
    s.snapshot_at(Duration::from_millis(3));
    s.snapshot_at(Duration::from_millis(6));
    let r = s.run().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.snapshots.len(), 2);
    let page = artifacts().join("memcached.html");
    r.write_html(&page).expect("write the report");
    let (dom, errors) = chromium(&page, None);
    assert!(errors.is_empty(), "console errors: {errors:?}");
    assert!(
        dom.contains("data-ready=\"1\""),
        "the script did not finish"
    );
    assert!(
        !dom.contains("data-js-errors=\""),
        "a JavaScript error on the page"
    );
    assert_eq!(count(&dom, "class=\"lane-label\""), threads(&r));
    assert!(
        count(&dom, "class=\"arrow cross-node") >= 1,
        "no arrow crosses nodes"
    );
    assert!(count(&dom, "class=\"line") >= r.lines.len().min(1));
    assert!(!dom.contains("class=\"failure-marker\""));
    // The snapshots: a panel each, a marker each in the first view (it spans the run's
    // activity), with what the cut holds.
    assert_eq!(count(&dom, "class=\"snapshot\""), 2);
    assert_eq!(count(&dom, "class=\"snapshot-marker\""), 2);
    assert!(
        dom.contains("Snapshot 1 at 0.003"),
        "the first panel names its moment"
    );
    assert!(dom.contains("<td>listening</td>") || dom.contains("<td>listening ("));
    // The dependency graph: memcslap's connections to memcached, its port, its files.
    assert!(
        count(&dom, "class=\"deps-connection\"") >= 2,
        "connections in the dependency section"
    );
    assert!(dom.contains("→ 10.0.0.1:11222"), "the connections' address");
    assert!(
        dom.contains("class=\"deps-listener\">0.0.0.0:11222"),
        "memcached's listening port"
    );
    assert!(dom.contains("libevent"), "memcached's files");
    let png = artifacts().join("memcached.png");
    chromium(&page, Some(&png));
    assert!(
        std::fs::metadata(&png).is_ok_and(|m| m.len() > 10_000),
        "no screenshot"
    );
}

#[test]
fn a_failed_fault_run_shows_the_failure_and_its_rerun_command() {
    Scenario::set_fault_rate("accept", 0.05);
    Scenario::set_fault_rate("accept4", 0.05);
    let build = |s: &Scenario| {
        s.create_node().create_process(
            takt_tests::c_fixture("fragile_server")
                .to_string_lossy()
                .as_ref(),
        );
    };
    let dir = artifacts().join("explore");
    let Err(Error::Failed(f)) = Explore::new()
        .seeds(200)
        .quiet(true)
        .report_dir(&dir)
        .with_failure_odds(5, 4)
        .run(build)
    else {
        panic!("200 seeds did not find the fragile server's failure")
    };
    // Exploration wrote the lowest failing seed's report and says where.
    let page = f
        .report_file
        .clone()
        .expect("exploration writes the report");
    assert!(page.starts_with(&dir), "{}", page.display());
    assert!(
        f.to_string()
            .contains(&format!("report: {}", page.display())),
        "{f}"
    );
    let (dom, errors) = chromium(&page, None);
    assert!(errors.is_empty(), "console errors: {errors:?}");
    assert!(
        !dom.contains("data-js-errors=\""),
        "a JavaScript error on the page"
    );
    assert!(
        dom.contains("class=\"failure-marker\""),
        "no failure marker"
    );
    assert!(dom.contains("class=\"rerun\""), "no rerun command");
    assert!(
        dom.contains(&format!("TAKT_SEED={}", f.report.seed)),
        "no seed in the rerun"
    );
    // The shrunk failure and the bug probability over time (5 moments, a bar each).
    assert!(dom.contains("class=\"shrunk\""), "no shrunk failure");
    assert!(dom.contains("fails with only this decision"), "{dom}");
    assert!(dom.contains("TAKT_TAPE="), "no replay command for the tape");
    assert_eq!(
        count(&dom, "class=\"odds-bar\""),
        5,
        "no bug-probability plot"
    );
    // Just before the failure the faulted accept is past: every branch fails (the test's
    // fault rates, set for this thread, hold in the branches' worker threads too).
    let odds = f.odds.as_ref().expect("odds");
    assert_eq!(odds.points[4].1, 4, "{}", odds.table());
    chromium(&page, Some(&artifacts().join("failed.png")));
}

#[test]
fn the_chrome_trace_has_named_threads_paired_flows_and_ordered_slices() {
    let r = memcached_two_nodes()
        .run()
        .unwrap_or_else(|e| panic!("{e}"));
    let path = artifacts().join("memcached.json");
    r.write_chrome_trace(&path).expect("write");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON");
    let events = v["traceEvents"].as_array().expect("traceEvents");
    let mut names = BTreeSet::new();
    let mut procs = BTreeSet::new();
    for e in events.iter().filter(|e| e["ph"] == "M") {
        match e["name"].as_str() {
            Some("thread_name") => {
                names.insert((e["pid"].as_i64(), e["tid"].as_i64()));
            }
            Some("process_name") => {
                procs.insert(e["pid"].as_i64());
            }
            _ => {}
        }
    }
    let mut last: BTreeMap<(Option<i64>, Option<i64>), f64> = BTreeMap::new();
    let mut flows: BTreeMap<i64, (u32, u32)> = BTreeMap::new();
    let mut slices = 0;
    for e in events.iter().filter(|e| e["ph"] == "X" || e["ph"] == "i") {
        let key = (e["pid"].as_i64(), e["tid"].as_i64());
        if e["s"] != "g" {
            assert!(names.contains(&key), "no thread name for {key:?}: {e}");
            assert!(procs.contains(&key.0), "no process name for {key:?}");
        }
        let ts = e["ts"].as_f64().expect("ts");
        if e["ph"] == "X" {
            slices += 1;
            let prev = last.insert(key, ts).unwrap_or(f64::MIN);
            assert!(ts >= prev, "time goes back on {key:?}: {prev} then {ts}");
            assert!(e["dur"].as_f64().is_some_and(|d| d > 0.0), "{e}");
        }
        if let Some(id) = e["bind_id"].as_i64() {
            let f = flows.entry(id).or_default();
            if e["flow_out"] == true {
                f.0 += 1;
            }
            if e["flow_in"] == true {
                f.1 += 1;
            }
        }
    }
    assert!(slices > 100, "{slices} slices");
    assert!(!flows.is_empty(), "no flows");
    for (id, (outs, ins)) in &flows {
        assert_eq!(
            (outs, ins),
            (&1, &1),
            "flow {id} has {outs} starts and {ins} ends"
        );
    }
    // As many flows as links between messages in the trace (at least one per receive).
    let receives = r
        .trace
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Syscall { msgs: Some(m), .. } if !m.sent))
        .count();
    assert!(
        flows.len() >= receives,
        "{} flows for {receives} receives",
        flows.len()
    );
}

#[test]
fn exploration_can_write_a_report_for_every_run() {
    let dir = artifacts().join("every-run");
    let _ = std::fs::remove_dir_all(&dir);
    let summary = Explore::new()
        .seeds(3)
        .quiet(true)
        .report_dir(&dir)
        .report_every_run(true)
        .run(|s| {
            s.create_node().create_process("/bin/echo hello");
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.passed.len(), 3);
    for seed in 0..3 {
        let page = dir.join(format!("seed-{seed}.html"));
        let html =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(html.contains("takt run, seed"), "{}", page.display());
    }
}

/// Every call of the two-node memcached run has a typed decode (what `takt trace`
/// prints strace-style), except calls takt refuses as unsupported.
#[test]
fn every_call_of_the_memcached_run_decodes() {
    use takt_core::syscall::Syscall;
    let r = memcached_two_nodes()
        .run()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut raw = BTreeSet::new();
    let mut calls = 0;
    for e in &r.trace {
        if let EventKind::Syscall { nr, args, ret, .. } = &e.kind {
            calls += 1;
            let enosys = *ret == Some(-(libc_enosys()));
            if !Syscall::decode(*nr, *args).is_typed() && !enosys {
                raw.insert(takt_core::trace::what(&e.kind));
            }
        }
    }
    assert!(calls > 1000, "{calls} calls");
    assert!(raw.is_empty(), "calls without a typed decode: {raw:?}");
}

/// `ENOSYS`, without a libc dependency in this suite.
fn libc_enosys() -> i64 {
    38
}

/// A call that parked in takt and was ended from outside (a wake-up, its deadline, a
/// signal, `IPC_RMID`) has its result in the trace, as strace shows a call resumed:
/// after each `<… blocks>` of a thread, the next call event of that thread is the same
/// call, with its result. Fixtures that park in each of those ways: futex waits ended
/// by a wake (`threads_condvar`) and by a signal (`join_signals`), sleeps ended by their
/// deadline (`sleep_steps`), waits for readiness (`select_wake`) and semaphore waits
/// ended by a wake, a time-out, `IPC_RMID` and a signal (`sysv_sem`).
#[test]
fn every_parked_call_has_its_result_in_the_trace() {
    let fixtures = [
        takt_tests::Fixture::c("threads_condvar"),
        takt_tests::Fixture::c("join_signals"),
        takt_tests::Fixture::c("sleep_steps").with_args(&["5", "10"]),
        takt_tests::Fixture::c("select_wake"),
        takt_tests::Fixture::c("sysv_sem"),
    ];
    for f in fixtures {
        let s = f.scenario(7);
        s.keep_full_trace(true);
        let r = s.run().unwrap_or_else(|e| panic!("{}: {e}", f.name));
        // Per thread: the call it is parked in.
        let mut parked: BTreeMap<i32, u32> = BTreeMap::new();
        let mut ended = 0;
        for e in &r.trace {
            match &e.kind {
                EventKind::Block { nr } => {
                    parked.insert(e.tid, *nr);
                }
                EventKind::Syscall { nr, ret, .. } => {
                    if let Some(p) = parked.remove(&e.tid) {
                        let at = takt_core::trace::describe(e);
                        assert_eq!(p, *nr, "{}: parked in {p}, next call: {at}", f.name);
                        assert!(ret.is_some(), "{}: no result: {at}", f.name);
                        ended += 1;
                    }
                }
                // A thread that dies parked (its process exits or is killed).
                EventKind::Exit { .. } => {
                    parked.remove(&e.tid);
                }
                _ => {}
            }
        }
        assert!(ended > 3, "{}: only {ended} parked calls", f.name);
    }
}
