//! The decision tape: a run replays from its own tape to the same digest, an edited tape
//! is a deterministic run of its own, failures shrink to the decisions that cause them,
//! and branches share their prefix.

use std::time::Duration;
use takt_scenario::{BranchAt, Error, Explore, Process, Scenario, Tape};

fn lost_update(s: &Scenario) {
    s.create_node().create_process(
        takt_tests::c_fixture("lost_update")
            .to_string_lossy()
            .as_ref(),
    );
}

fn fragile_server(s: &Scenario) {
    s.fault_rate("read", 0.05).unwrap();
    s.fault_rate("write", 0.05).unwrap();
    s.fault_rate("accept4", 0.05).unwrap();
    s.fault_rate("accept", 0.05).unwrap();
    // The run ends with the server: its forked clients would otherwise retry a refused
    // connect for a virtual second after it died.
    s.create_node()
        .create_process(Process::new(takt_tests::c_fixture("fragile_server")).must_finish());
}

fn digest_and_tape(r: Result<takt_scenario::Report, Error>) -> (String, Tape) {
    let r = match r {
        Ok(r) => r,
        Err(Error::Failed(f)) => f.report,
        Err(e) => panic!("{e}"),
    };
    (r.digest, r.tape.expect("a tape is recorded by default"))
}

/// A run replayed from its own tape has the digest of the run from its seed, for
/// schedules (lost_update) and faults (fragile_server), and an empty tape is the
/// default run, the same every time.
#[test]
fn a_run_replays_from_its_tape() {
    for (build, seeds) in [
        (lost_update as fn(&Scenario), 1..6u64),
        (fragile_server as fn(&Scenario), 1..6u64),
    ] {
        for seed in seeds {
            let s = Scenario::new();
            build(&s);
            let (digest, tape) = digest_and_tape(s.random_seed(seed).run());
            assert!(
                !tape.decisions.is_empty(),
                "seed {seed}: no decision recorded"
            );
            let r = Scenario::new();
            build(&r);
            let (again, tape2) = digest_and_tape(r.replay_tape(tape.clone()).run());
            assert_eq!(
                again, digest,
                "seed {seed}: the tape replayed to another run"
            );
            assert_eq!(tape2, tape, "seed {seed}: the replay recorded another tape");
        }
    }
    let empty = |seed| {
        let s = Scenario::new();
        fragile_server(&s);
        digest_and_tape(s.replay_tape(Tape::new(seed)).run())
    };
    let (d1, t1) = empty(3);
    assert_eq!(empty(3).0, d1);
    assert!(t1.decisions.is_empty(), "{:?}", t1.decisions);
}

/// Must show 1: the fragile server (it dies when accept fails) under faults at 0.05 on
/// read, write and accept4: for 20 seeds that fail that way, every shrunk tape keeps
/// exactly one decision, the accept's fault, and replays to the same failure 10 times out
/// of 10. (Seeds that fail otherwise, a fault on the dynamic loader's read, say, shrink
/// to exactly one fault too.) Exploration shrinks its lowest failing seed itself and
/// writes the tape it prints the replay command of.
#[test]
fn one_fault_is_enough_for_the_fragile_server() {
    use takt_core::tape::Choice;
    let (mut accept, mut other) = (0, 0);
    for seed in 0..600u64 {
        if accept >= 20 {
            break;
        }
        let s = Scenario::new();
        fragile_server(&s);
        let Err(Error::Failed(f)) = s.random_seed(seed).run() else {
            continue;
        };
        let shrunk = takt_scenario::shrink::shrink(&fragile_server, &f, 200).unwrap();
        let summary = shrunk.summary();
        assert_eq!(shrunk.tape.decisions.len(), 1, "seed {seed}: {summary}");
        let d = &shrunk.tape.decisions[0];
        assert!(
            matches!(d.choice, Choice::Fault { .. }),
            "seed {seed}: {summary}"
        );
        assert_eq!(shrunk.reason, f.reason, "seed {seed}");
        if !f.report.stdout(0).contains("accept_failed") {
            other += 1;
            continue;
        }
        accept += 1;
        assert!(d.call.starts_with("accept"), "seed {seed}: {summary}");
        assert!(
            summary.contains("fails with only this decision"),
            "{summary}"
        );
        assert!(
            summary.contains("fragile_server (node node0, pid 2)"),
            "{summary}"
        );
        let mut seen = None;
        for _ in 0..10 {
            let r = Scenario::new();
            fragile_server(&r);
            let Err(Error::Failed(g)) = r.replay_tape(shrunk.tape.clone()).run() else {
                panic!("seed {seed}: the shrunk tape passed")
            };
            assert_eq!(g.reason, f.reason);
            let digest = seen.get_or_insert(g.report.digest.clone());
            assert_eq!(
                *digest, g.report.digest,
                "seed {seed}: the shrunk tape is not deterministic"
            );
        }
    }
    assert!(
        accept >= 20,
        "only {accept} seeds failed on accept ({other} otherwise)"
    );
}

/// Exploration shrinks its lowest failing seed, writes the tape and says how to replay
/// it; the written tape is the one it describes, and `TAKT_SHRINK=0`'s setting turns it
/// off.
#[test]
fn exploration_shrinks_its_failure_and_writes_the_tape() {
    let Err(Error::Failed(f)) = Explore::new().seeds(100).quiet(true).run(fragile_server) else {
        panic!("100 seeds did not fail")
    };
    if std::env::var_os("TAKT_TAPE").is_some() {
        // The child below: one run, of the tape, not shrunk again.
        assert!(
            f.shrunk.is_none() && f.rerun.starts_with("TAKT_TAPE="),
            "{f}"
        );
        println!(
            "replayed seed {} digest {}: {}",
            f.report.seed, f.report.digest, f.reason
        );
        return;
    }
    let shrunk = f.shrunk.as_ref().expect("exploration shrinks its failure");
    let file = shrunk.file.as_ref().expect("the shrunk tape is written");
    assert!(
        shrunk
            .rerun
            .starts_with(&format!("TAKT_TAPE={} ", file.display())),
        "{}",
        shrunk.rerun
    );
    assert_eq!(&takt_scenario::read_tape(file).unwrap(), &shrunk.tape);
    assert!(
        f.to_string().contains("fails with only this decision"),
        "{f}"
    );
    // The printed command replays the shrunk tape: this test, with TAKT_TAPE, runs that
    // one run and fails with the shrunk run's reason.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "exploration_shrinks_its_failure_and_writes_the_tape",
            "--nocapture",
        ])
        .env("TAKT_TAPE", file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let want = format!(
        "replayed seed {} digest {}: {}",
        f.report.seed, shrunk.digest, shrunk.reason
    );
    assert!(stdout.contains(&want), "{stdout}");
    let Err(Error::Failed(f)) = Explore::new()
        .seeds(100)
        .quiet(true)
        .shrink(0)
        .run(fragile_server)
    else {
        panic!("100 seeds did not fail")
    };
    assert!(f.shrunk.is_none());
}

/// Must show 2: the lost update shrinks to at most 2 preemptions, and the message names
/// the two client threads and the racing read and write. The default schedule (no
/// decision) passes: the race needs a preemption.
#[test]
fn a_racing_pair_is_named() {
    let s = Scenario::new();
    lost_update(&s);
    s.replay_tape(Tape::new(1))
        .run()
        .expect("the default schedule does not race");
    let mut shrunk_seeds = 0;
    for seed in 1..40u64 {
        let s = Scenario::new();
        lost_update(&s);
        let Err(Error::Failed(f)) = s.random_seed(seed).run() else {
            continue;
        };
        let shrunk = takt_scenario::shrink::shrink(&lost_update, &f, 200).unwrap();
        let summary = shrunk.summary();
        let [preemptions, forced, faults, net, delays] = shrunk.tape.counts();
        // Only the schedule matters, and at most 2 preemptions of it (a choice made
        // where a thread blocked may stand instead of one).
        assert!(preemptions <= 2, "seed {seed}: {summary}");
        assert!(preemptions + forced >= 1, "seed {seed}: {summary}");
        assert_eq!((faults, net, delays), (0, 0, 0), "seed {seed}: {summary}");
        // The race: one client's request reached the server before the other's.
        let race = summary
            .split("the race: ")
            .nth(1)
            .unwrap_or_else(|| panic!("seed {seed}: no race named: {summary}"));
        assert!(race.contains("lost_update (node node0, pid 3)"), "{race}");
        assert!(race.contains("lost_update (node node0, pid 4)"), "{race}");
        assert!(race.contains("read(") && race.contains("write("), "{race}");
        shrunk_seeds += 1;
        if shrunk_seeds == 3 {
            break;
        }
    }
    assert_eq!(shrunk_seeds, 3);
}

/// memcached on node `cache`, memcslap on node `web` (the paper's scenario, smaller).
fn two_node_memcached(s: &Scenario) {
    s.completion_time(Duration::from_millis(300));
    let a = s.create_named_node("cache");
    let b = s.create_named_node("web");
    a.create_process("/usr/bin/memcached -u root -p 11222 -U 0 -t 2");
    b.create_process(
        Process::parse(&format!(
            "/usr/bin/memcslap --servers={}:11222 --concurrency=2 --execute-number=100 --binary",
            a.addr()
        ))
        .start_after(Duration::from_millis(1))
        .must_finish(),
    );
}

/// Must show 3: branching a two-node memcached run at 5 moments gives branches with
/// equal prefix digests at each moment, which differ after the branch point; the same
/// suffix seed gives the same branch again.
#[test]
fn branches_share_their_prefix() {
    let explore = Explore::new();
    let seed = 5;
    let mut prefixes = Vec::new();
    for ms in [2u64, 4, 8, 12, 20] {
        let at = BranchAt::Time(Duration::from_millis(ms));
        let runs = explore
            .branch_from(seed, at, 3, two_node_memcached)
            .unwrap();
        assert_eq!(runs.len(), 3);
        let points: Vec<_> = runs
            .iter()
            .map(|r| r.point.clone().expect("branched"))
            .collect();
        for p in &points {
            assert_eq!(p.prefix_digest, points[0].prefix_digest, "at {ms} ms");
            assert_eq!(
                (p.event, p.time),
                (points[0].event, points[0].time),
                "at {ms} ms"
            );
            assert!(p.time.as_nanos() >= ms * 1_000_000, "{p:?}");
        }
        let mut digests: Vec<_> = runs.iter().map(|r| r.digest.clone()).collect();
        digests.sort();
        digests.dedup();
        assert!(
            digests.len() >= 2,
            "at {ms} ms the branches did not differ: {digests:?}"
        );
        for r in &runs {
            assert!(r.failure.is_none(), "{:?}", r.failure);
        }
        prefixes.push(points[0].prefix_digest.clone());
        let again = explore
            .branch_from(seed, at, 1, two_node_memcached)
            .unwrap();
        assert_eq!(
            again[0].digest, runs[0].digest,
            "a branch replays from its seeds"
        );
    }
    prefixes.dedup();
    assert_eq!(
        prefixes.len(),
        5,
        "later branch points have longer prefixes"
    );
}

/// Bug probability over time: the fragile server's failure branched at 10 moments up
/// to just before it, 8 branches each. Just before the failure the faulted accept is in
/// the past and every branch fails; at the first moment the accepts are still to come
/// and only some branches draw a fault.
#[test]
fn bug_probability_over_time_rises_to_the_failure() {
    let seed = (0..300)
        .find(|&seed| {
            let s = Scenario::new();
            fragile_server(&s);
            matches!(s.random_seed(seed).run(), Err(Error::Failed(f)) if f.report.stdout(0).contains("accept_failed"))
        })
        .expect("a seed that fails on accept");
    let odds = Explore::new()
        .failure_odds(seed, 10, 8, fragile_server)
        .unwrap();
    assert_eq!(odds.points.len(), 10);
    assert!(odds.points.iter().all(|p| p.2 == 8), "{odds:?}");
    assert!(odds.points.windows(2).all(|w| w[0].0 < w[1].0), "{odds:?}");
    let (first, last) = (odds.points[0].1, odds.points[9].1);
    assert_eq!(last, 8, "{}", odds.table());
    assert!(first < 8, "{}", odds.table());
    assert_eq!(odds.svg().matches("class=\"odds-bar\"").count(), 10);
}
