//! Behaviour coverage: a fixture with a known number of behaviours is counted exactly
//! and reaches 99 % coverage; one whose behaviour never runs out keeps coverage low;
//! shards of a sweep merge into the figures of one sweep; the behaviour map of 300 memcached runs under faults renders in Chromium with
//! one circle per run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use takt_scenario::coverage::Coverage;
use takt_scenario::{Error, Explore, Process, Scenario, Strategy};

fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("coverage")
        .join(name);
    // Exploration workers run this test again: only the first run starts afresh.
    if std::env::var_os("TAKT_EXPLORE_WORKER").is_none() {
        let _ = std::fs::remove_dir_all(&d);
    }
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn two_writers(s: &Scenario) {
    s.create_node().create_process(
        takt_tests::c_fixture("two_writers")
            .to_string_lossy()
            .as_ref(),
    );
}

#[test]
fn a_known_set_of_behaviours_is_counted_exactly_and_covered() {
    // A uniform random walk over the scheduling points reaches every order.
    Scenario::set_strategy(Strategy::Random);
    let summary = Explore::new()
        .seeds(200)
        .quiet(true)
        .run(two_writers)
        .unwrap_or_else(|e| panic!("{e}"));
    let est = summary.coverage.estimate();
    // Two writers, two records each, order kept per writer: 4!/(2!·2!) = 6 orders.
    assert_eq!(est.classes, 6, "{est}");
    assert!(est.coverage >= 99.0, "{est}");
    // Stopping at a target: the seeds are judged in order, the answer is the prefix.
    let early = Explore::new()
        .seeds(200)
        .until_coverage(99.0)
        .quiet(true)
        .run(two_writers)
        .unwrap_or_else(|e| panic!("{e}"));
    let e = early.coverage.estimate();
    assert!(e.coverage >= 99.0 && e.n < 200, "{e}");
    assert_eq!(
        early.passed.len() as u64,
        e.n,
        "the runs counted are the runs kept"
    );
    assert_eq!(
        early
            .coverage
            .runs
            .iter()
            .map(|r| r.seed)
            .collect::<Vec<_>>(),
        (0..e.n).collect::<Vec<_>>()
    );
}

#[test]
fn a_behaviour_that_never_runs_out_keeps_coverage_low() {
    let summary = Explore::new()
        .seeds(60)
        .quiet(true)
        .run(|s| {
            s.create_node().create_process(
                takt_tests::c_fixture("random_number")
                    .to_string_lossy()
                    .as_ref(),
            );
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let est = summary.coverage.estimate();
    assert_eq!(est.classes, 60, "{est}");
    assert!(est.coverage < 5.0, "{est}");
    assert!(est.to_string().contains("far from exhausted"), "{est}");
}

#[test]
fn four_shards_merge_into_the_figures_of_one_sweep() {
    let d = dir("shards");
    let mut shards = Vec::new();
    for i in 0..4 {
        let file = d.join(format!("shard-{i}.json"));
        Explore::new()
            .seeds(40)
            .shard(i, 4)
            .coverage_file(&file)
            .quiet(true)
            .run(two_writers)
            .unwrap_or_else(|e| panic!("shard {i}: {e}"));
        shards.push(file);
    }
    let one = Explore::new()
        .seeds(40)
        .quiet(true)
        .run(two_writers)
        .unwrap_or_else(|e| panic!("{e}"))
        .coverage;
    let parts: Vec<Coverage> = shards
        .iter()
        .map(|f| {
            Coverage::from_json(&std::fs::read_to_string(f).expect("shard file")).expect("JSON")
        })
        .collect();
    let seeds: BTreeSet<u64> = parts
        .iter()
        .flat_map(|p| p.runs.iter().map(|r| r.seed))
        .collect();
    assert_eq!(
        seeds.len(),
        40,
        "the shards are disjoint and cover every seed"
    );
    let merged = Coverage::merge(&parts);
    assert_eq!(merged, one);
    assert_eq!(merged.estimate(), one.estimate());
    // (`takt coverage merge` is tested with the command, in takt-scenario/tests/cli.rs.)
}

#[test]
fn the_behaviour_map_of_300_memcached_runs_under_faults_renders() {
    Scenario::set_syscall_fault_injection_rate(0.001);
    Scenario::set_fault_rate("accept", 0.01);
    Scenario::set_fault_rate("accept4", 0.01);
    let d = dir("map");
    let map = d.join("memcached.html");
    let r = Explore::new()
        .seeds(300)
        .stop_at_first(false)
        .quiet(true)
        .report_dir(&d)
        .report_html(&map)
        .run(|s| {
            s.completion_time(Duration::from_millis(300));
            let node = s.create_node();
            node.create_process("/usr/bin/memcached -u root -p 11222 -U 0");
            node.create_process(
                Process::parse(
                    "/usr/bin/memcslap --servers=127.0.0.1:11222 --execute-number=30 --concurrency=2",
                )
                .start_after(Duration::from_millis(1))
                .must_finish(),
            );
        });
    let failed = matches!(r, Err(Error::Failed(_)));
    let page = std::fs::read_to_string(&map).expect("the map is written, pass or fail");
    assert_eq!(page.matches("<circle").count(), 300);
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", map.display()))
        .output()
        .expect("chromium (scripts/setup installs it)");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        dom.matches("<circle").count(),
        300,
        "circles in the rendered DOM"
    );
    assert_eq!(
        dom.matches("class=\"run failed\"").count() > 0,
        failed,
        "failures are red"
    );
    let png = d.join("memcached.png");
    let _ = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=800,1100",
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", map.display()))
        .output();
}

fn antithesis(mode: &'static str) -> impl Fn(&Scenario) + Sync {
    move |s: &Scenario| {
        s.create_node()
            .create_process(Process::new(env!("CARGO_BIN_EXE_antithesis_props")).arg(mode));
    }
}

/// A guest's Antithesis SDK assertions: a failing always-assertion is found by
/// exploration and replays from its seed; a sometimes-assertion no run satisfies is
/// reported as not covered; satisfied ones count as features.
#[test]
fn antithesis_sdk_properties_are_checked_and_counted() {
    let Err(Error::Failed(f)) = Explore::new()
        .seeds(100)
        .quiet(true)
        .run(antithesis("racy"))
    else {
        panic!("100 seeds did not lose an update")
    };
    assert!(
        f.reason.contains("property violated") && f.reason.contains("both updates are kept"),
        "{}",
        f.reason
    );
    let seed = f.report.seed;
    let s = Scenario::new();
    antithesis("racy")(&s);
    let Err(Error::Failed(g)) = s.random_seed(seed).run() else {
        panic!("seed {seed} passed on replay")
    };
    assert_eq!(
        (g.reason, g.report.digest),
        (f.reason.clone(), f.report.digest.clone())
    );
    let summary = Explore::new()
        .seeds(20)
        .quiet(true)
        .run(antithesis("safe"))
        .unwrap_or_else(|e| panic!("{e}"));
    let uncovered: Vec<&str> = summary
        .coverage
        .uncovered()
        .iter()
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(uncovered, ["three updates happened"]);
    let known: Vec<&str> = summary
        .coverage
        .properties
        .iter()
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(known.len(), 3, "{known:?}");
}
