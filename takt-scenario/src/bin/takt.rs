//! `takt`: run programs under takt from the command line.
//!
//! ```text
//! takt run [OPTIONS] -- PROGRAM [ARGS…]
//! takt run [OPTIONS] --node NAME -- PROGRAM [ARGS…] [--node NAME -- PROGRAM …]
//! ```
//! Prints the report (seed, trace digest, each process's status and output); exits 0
//! when the run passed, 1 when it failed, 2 on bad usage.

use std::process::ExitCode;
use std::time::Duration;
use takt_scenario::{parse_seed, Error, Process, ReportExt, Scenario, Strategy};

const USAGE: &str = "usage: takt trace [--json] FILE
       takt coverage merge SHARD.json… [--html MAP.html]
       takt run [--seed N] [--completion-time DURATION] [--trace FILE] [--report FILE.html] [--perfetto FILE.json]
                [--snapshot-at T FILE.json]… [--deps FILE.dot|FILE.json]
                [--strategy random|sticky:PERMILLE|pct:DEPTH] [--spin-budget DURATION] [--compute-allowance DURATION] [--log] [--quiet] [--verbose]
                [--fault-rate RATE] [--fault SYSCALL=RATE]… [--reset-rate RATE] [--drop-rate RATE]
                [--partition A:B:AT[:HEAL_AFTER]]… [--crash NODE:AT[:RESTART_AFTER]]…
                [--crash-model lose|ext4|keep] [--host-files]
                [--tape FILE] [--write-tape FILE] [--shrink FILE] [--branch-at DURATION --branches N]
                [--node NAME] [--after DURATION] [--env K=V]… [--pass-env NAME]… [--pass-env-all]
                -- PROGRAM [ARGS…] [--node NAME [--after DURATION] [--env K=V]… -- PROGRAM [ARGS…]]…

  Runs PROGRAM (and everything it starts) under takt and prints the report.
  Several processes: repeat `--node NAME -- PROGRAM ARGS…`; processes given the same
  NAME share a node; --after starts the next process that much virtual time later. DURATION is like 50ms, 2s, 1.5s, 100us (virtual time for
  --completion-time, real time for --spin-budget and --compute-allowance).
  --compute-allowance (default 2s) is how long a thread that computes without syscalls
  (not a pure spin: a JIT compiler thread) keeps the CPU before the watchdog hands it
  to another thread at a moment of real time, where determinism is lost.
  --fault-rate sets the injected-fault rate of every syscall, --fault one syscall's
  (e.g. --fault accept=0.01); --reset-rate resets TCP connections at sends, --drop-rate
  loses UDP datagrams; --partition cuts nodes A and B at virtual time AT (healed after
  HEAL_AFTER); --crash kills every process of NODE at AT (restarted after
  RESTART_AFTER); --crash-model says what a crash leaves of the writes that were
  not synced (lose: all lost, the default; ext4: seeded, what ext4 data=ordered could
  leave; keep: nothing lost); --host-files runs the nodes on the host's files instead
  of a filesystem of their own each; --must-finish before a process ends the run when
  it exits.
  --report FILE.html writes the visual report (open it in a browser), --perfetto
  FILE.json the Chrome trace (drag it into ui.perfetto.dev); --trace FILE writes the
  canonical (bincode) trace; --snapshot-at T FILE.json writes the global snapshot at
  virtual time T (processes, threads, fds, sockets, messages in flight, timers;
  repeatable); --deps FILE.dot writes the dependency graph (processes, files,
  listeners, connections) as Graphviz DOT, FILE.json as JSON; --log prints output lines as they
  are written, with virtual time, node and pid; --verbose also prints the notes
  (expected refusals: rseq, a guest's mount refused with EPERM…).
  --write-tape FILE writes the run's decision tape (every choice the seed made that
  is not the default: switches, faults, resets, drops, jitter); --tape FILE replays
  one (edit it to drop decisions: the run goes on by the default rule); --shrink FILE,
  when the run fails, finds the fewest decisions that fail the same way and writes
  that tape. --branch-at T --branches N runs the seed up to virtual time T, then N
  branches with their own suffix seeds (they share the prefix: same prefix digest).
  The environment of a process is fixed (PATH, HOME = its node's directory, LANG=C,
  TZ=UTC) so that a seed reruns the same from any shell. --env K=V adds a variable,
  --pass-env NAME copies one from takt's own environment (if set), --pass-env-all
  starts from takt's whole environment instead; each applies to the next process, like
  --after. The run then depends on those values too.
  SIGINT/SIGTERM/SIGHUP stop the run: takt tears it down, prints the report it has
  (marked INTERRUPTED, with the seed) and exits 128 + the signal; a third one kills
  takt at once.";

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| c.is_ascii_alphabetic())
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let v: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 50ms, 2s)"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("{s:?} is not a duration"));
    }
    let secs = match unit {
        "s" => v,
        "ms" => v / 1e3,
        "us" => v / 1e6,
        "ns" => v / 1e9,
        "m" | "min" => v * 60.0,
        _ => return Err(format!("unknown unit in {s:?} (use ns, us, ms, s, min)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

/// One process of the command line: node, start delay, must-finish, environment, argv.
struct ProcArgs {
    node: String,
    after: Duration,
    must_finish: bool,
    env: Vec<(String, String)>,
    /// Variables copied from takt's environment (for the rerun hint).
    passed: Vec<String>,
    cmd: Vec<String>,
}

/// Every variable of takt's own environment that is valid UTF-8, in order.
fn host_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

struct Args {
    seed: Option<u64>,
    completion: Option<Duration>,
    trace: Option<String>,
    report: Option<String>,
    perfetto: Option<String>,
    snapshots: Vec<(Duration, String)>,
    deps: Option<String>,
    strategy: Option<Strategy>,
    spin: Option<Duration>,
    compute: Option<Duration>,
    log: bool,
    quiet: bool,
    verbose: bool,
    procs: Vec<ProcArgs>,
    fault_rate: Option<f64>,
    faults: Vec<(String, f64)>,
    reset_rate: f64,
    drop_rate: f64,
    partitions: Vec<(String, String, Duration, Option<Duration>)>,
    crashes: Vec<(String, Duration, Option<Duration>)>,
    crash_model: takt_scenario::CrashModel,
    host_files: bool,
    /// Replay this tape file.
    tape: Option<String>,
    /// Write the run's tape here.
    write_tape: Option<String>,
    /// On failure, shrink and write the shrunk tape here.
    shrink: Option<String>,
    /// Branch at this virtual time into this many branches.
    branch: Option<(Duration, u64)>,
}

fn parse(mut argv: std::collections::VecDeque<String>) -> Result<Args, String> {
    if argv.pop_front().as_deref() != Some("run") {
        return Err("expected the subcommand `run`".into());
    }
    let mut a = Args {
        seed: None,
        completion: None,
        trace: None,
        report: None,
        perfetto: None,
        snapshots: Vec::new(),
        deps: None,
        strategy: None,
        spin: None,
        compute: None,
        log: false,
        quiet: false,
        verbose: false,
        procs: Vec::new(),
        fault_rate: None,
        faults: Vec::new(),
        reset_rate: 0.0,
        drop_rate: 0.0,
        partitions: Vec::new(),
        crashes: Vec::new(),
        crash_model: takt_scenario::CrashModel::default(),
        host_files: false,
        tape: None,
        write_tape: None,
        shrink: None,
        branch: None,
    };
    let mut branch_at: Option<Duration> = None;
    let mut branches: Option<u64> = None;
    let mut node = "node0".to_string();
    let mut after = Duration::ZERO;
    let mut must_finish = false;
    let mut env: Vec<(String, String)> = Vec::new();
    let mut passed: Vec<String> = Vec::new();
    while let Some(arg) = argv.pop_front() {
        let mut value = |name: &str| argv.pop_front().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--seed" => a.seed = Some(parse_seed(&value("--seed")?)?),
            "--completion-time" => {
                a.completion = Some(parse_duration(&value("--completion-time")?)?)
            }
            "--spin-budget" => a.spin = Some(parse_duration(&value("--spin-budget")?)?),
            "--compute-allowance" => {
                a.compute = Some(parse_duration(&value("--compute-allowance")?)?)
            }
            "--trace" => a.trace = Some(value("--trace")?),
            "--report" => a.report = Some(value("--report")?),
            "--perfetto" => a.perfetto = Some(value("--perfetto")?),
            "--snapshot-at" => {
                let t = parse_duration(&value("--snapshot-at")?)?;
                let file = value("--snapshot-at T")?;
                a.snapshots.push((t, file));
            }
            "--deps" => a.deps = Some(value("--deps")?),
            "--strategy" => {
                let v = value("--strategy")?;
                a.strategy = Some(match v.split_once(':') {
                    None if v == "random" => Strategy::Random,
                    Some(("sticky", p)) => Strategy::Sticky {
                        switch_per_mille: p
                            .parse()
                            .map_err(|_| format!("bad switch probability {p:?} (per mille)"))?,
                    },
                    Some(("pct", d)) => Strategy::Pct {
                        depth: d.parse().map_err(|_| format!("bad PCT depth {d:?}"))?,
                        steps: 100_000,
                    },
                    _ => {
                        return Err(format!(
                            "unknown strategy {v:?} (random, sticky:PERMILLE, pct:DEPTH)"
                        ))
                    }
                });
            }
            "--tape" => a.tape = Some(value("--tape")?),
            "--write-tape" => a.write_tape = Some(value("--write-tape")?),
            "--shrink" => a.shrink = Some(value("--shrink")?),
            "--branch-at" => branch_at = Some(parse_duration(&value("--branch-at")?)?),
            "--branches" => {
                let v = value("--branches")?;
                branches = Some(v.parse().ok().filter(|&n| n > 0 && n <= 10_000).ok_or(
                    format!("--branches takes a count from 1 to 10000, got {v:?}"),
                )?);
            }
            "--log" => a.log = true,
            "--quiet" => a.quiet = true,
            "--verbose" => a.verbose = true,
            "--node" => node = value("--node")?,
            "--after" => after = parse_duration(&value("--after")?)?,
            "--must-finish" => must_finish = true,
            "--env" => {
                let v = value("--env")?;
                let (k, val) = v
                    .split_once('=')
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or(format!("--env takes NAME=VALUE, got {v:?}"))?;
                if v.contains('\0') {
                    return Err(format!(
                        "--env {k}: a NUL byte cannot be in the environment"
                    ));
                }
                env.push((k.to_string(), val.to_string()));
            }
            "--pass-env" => {
                let k = value("--pass-env")?;
                if k.is_empty() || k.contains('=') {
                    return Err(format!("--pass-env takes a variable name, got {k:?}"));
                }
                if let Some(v) = std::env::var_os(&k).and_then(|v| v.into_string().ok()) {
                    env.push((k.clone(), v));
                }
                passed.push(k);
            }
            "--pass-env-all" => {
                // takt's environment first, what --env/--pass-env set on top.
                let mut all = host_env();
                passed.extend(all.iter().map(|(k, _)| k.clone()));
                all.append(&mut env);
                env = all;
            }
            "--partition" => {
                let v = value("--partition")?;
                let f: Vec<&str> = v.split(':').collect();
                let (a2, b, at, heal) = match f.as_slice() {
                    [a2, b, at] => (a2, b, parse_duration(at)?, None),
                    [a2, b, at, heal] => (a2, b, parse_duration(at)?, Some(parse_duration(heal)?)),
                    _ => return Err(format!("--partition takes A:B:AT[:HEAL_AFTER], got {v:?}")),
                };
                a.partitions.push((a2.to_string(), b.to_string(), at, heal));
            }
            "--crash" => {
                let v = value("--crash")?;
                let f: Vec<&str> = v.split(':').collect();
                let (node, at, restart) = match f.as_slice() {
                    [n, at] => (n, parse_duration(at)?, None),
                    [n, at, r] => (n, parse_duration(at)?, Some(parse_duration(r)?)),
                    _ => return Err(format!("--crash takes NODE:AT[:RESTART_AFTER], got {v:?}")),
                };
                a.crashes.push((node.to_string(), at, restart));
            }
            "--crash-model" => {
                let v = value("--crash-model")?;
                a.crash_model = match v.as_str() {
                    "lose" => takt_scenario::CrashModel::LoseUnsynced,
                    "ext4" => takt_scenario::CrashModel::Ext4Ordered,
                    "keep" => takt_scenario::CrashModel::KeepAll,
                    _ => return Err(format!("--crash-model takes lose, ext4 or keep, got {v:?}")),
                };
            }
            "--host-files" => a.host_files = true,
            "--reset-rate" | "--drop-rate" => {
                let v = value(&arg)?;
                let r: f64 = v
                    .parse()
                    .map_err(|_| format!("{arg}: {v:?} is not a number"))?;
                if arg == "--reset-rate" {
                    a.reset_rate = r;
                } else {
                    a.drop_rate = r;
                }
            }
            "--fault-rate" => {
                let v = value("--fault-rate")?;
                a.fault_rate = Some(
                    v.parse()
                        .map_err(|_| format!("--fault-rate: {v:?} is not a number"))?,
                );
            }
            "--fault" => {
                let v = value("--fault")?;
                let (name, rate) = v
                    .split_once('=')
                    .ok_or(format!("--fault takes SYSCALL=RATE, got {v:?}"))?;
                let rate = rate
                    .parse()
                    .map_err(|_| format!("--fault: {rate:?} is not a number"))?;
                a.faults.push((name.to_string(), rate));
            }
            "--" => {
                let mut cmd = Vec::new();
                while let Some(w) = argv.front() {
                    if w == "--node" {
                        break;
                    }
                    cmd.push(argv.pop_front().expect("peeked"));
                }
                if cmd.is_empty() {
                    return Err("no program after --".into());
                }
                a.procs.push(ProcArgs {
                    node: node.clone(),
                    after: std::mem::take(&mut after),
                    must_finish: std::mem::take(&mut must_finish),
                    env: std::mem::take(&mut env),
                    passed: std::mem::take(&mut passed),
                    cmd,
                });
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if a.procs.is_empty() {
        return Err("no program given (put it after --)".into());
    }
    a.branch = match (branch_at, branches) {
        (Some(t), Some(n)) => Some((t, n)),
        (None, None) => None,
        _ => return Err("--branch-at and --branches go together".into()),
    };
    if a.branch.is_some() && a.tape.is_some() {
        return Err("--branch-at branches a seed's run, not a tape's: drop --tape".into());
    }
    Ok(a)
}

/// A scenario builder for the runs of shrinking and branching: the command line's
/// scenario, quiet (no live output) and without the full trace.
fn rebuild(args: &Args) -> impl Fn(&Scenario) + Sync + '_ {
    move |s: &Scenario| {
        // The command line was checked once already: it builds the same way again.
        let _ = build(args, s);
        s.stdout_logging(false).keep_full_trace(false);
    }
}

/// `--branch-at T --branches N`: the seed's run up to T, then N branches; a line each.
fn branches(args: &Args, scenario: &Scenario, at: Duration, n: u64) -> ExitCode {
    let seed = scenario.seed();
    let runs = match takt_scenario::Explore::new().branch_from(
        seed,
        takt_scenario::BranchAt::Time(at),
        n,
        rebuild(args),
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    for (i, r) in runs.iter().enumerate() {
        let point = match &r.point {
            Some(p) => format!(
                "prefix {} events to {}, prefix digest {}",
                p.event, p.time, p.prefix_digest
            ),
            None => "the run ended before the branch point".into(),
        };
        let status = match &r.failure {
            Some(f) => {
                failed += 1;
                format!("FAILED: {f}")
            }
            None => "passed".into(),
        };
        let _ = writeln!(
            out,
            "branch {i}: seed {seed} suffix seed {}: {point}; digest {}; {status}",
            r.suffix_seed, r.digest
        );
    }
    let _ = writeln!(out, "{failed} of {} branches failed", runs.len());
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `takt coverage merge A.json B.json … [--html MAP.html]`: the figures of one sweep
/// from its shards' coverage files.
fn coverage(args: &[String]) -> ExitCode {
    let usage = "usage: takt coverage merge SHARD.json… [--html MAP.html]";
    let (files, html) = match args {
        [cmd, rest @ ..] if cmd == "merge" => {
            let mut files = Vec::new();
            let mut html = None;
            let mut it = rest.iter();
            while let Some(a) = it.next() {
                if a == "--html" {
                    match it.next() {
                        Some(p) => html = Some(p.clone()),
                        None => {
                            eprintln!("takt: --html needs a file\n{usage}");
                            return ExitCode::from(2);
                        }
                    }
                } else {
                    files.push(a.clone());
                }
            }
            (files, html)
        }
        _ => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    if files.is_empty() {
        eprintln!("takt: no coverage file given\n{usage}");
        return ExitCode::from(2);
    }
    let mut shards = Vec::new();
    for f in &files {
        let parsed = std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|t| takt_scenario::coverage::Coverage::from_json(&t));
        match parsed {
            Ok(c) => shards.push(c),
            Err(e) => {
                eprintln!("takt: {f}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let merged = takt_scenario::coverage::Coverage::merge(&shards);
    println!("{}", merged.estimate());
    println!("failures: {}", merged.failures.len());
    for (seed, why) in &merged.failures {
        println!("  seed {seed}: {why}");
    }
    if let Some(path) = html {
        let page = takt_scenario::coverage::map::html(&merged, "takt behaviour map (merged)");
        if let Err(e) = std::fs::write(&path, page) {
            eprintln!("takt: cannot write {path}: {e}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// `--snapshot-at T FILE.json` and `--deps FILE`: the snapshots and the dependency graph.
fn write_views(report: &takt_scenario::Report, args: &Args) -> Result<(), String> {
    let write = |path: &str, text: String| {
        std::fs::write(path, text).map_err(|e| format!("cannot write {path}: {e}"))
    };
    for (t, path) in &args.snapshots {
        let text = match report.snapshot_at(*t) {
            Some(s) => serde_json::to_string_pretty(s).expect("a snapshot serializes"),
            // The run ended before T: say so in the file too, not only on stderr.
            None => {
                eprintln!(
                    "takt: no snapshot at {:?}: the run ended at {} first",
                    t, report.end_time
                );
                "null\n".to_string()
            }
        };
        write(path, text)?;
    }
    if let Some(path) = &args.deps {
        let d = report.dependencies();
        let text = if path.ends_with(".json") {
            serde_json::to_string_pretty(&d).expect("a graph serializes")
        } else {
            d.to_dot()
        };
        write(path, text)?;
    }
    Ok(())
}

/// `takt trace [--json] FILE`: a trace written by `takt run --trace`, one event a
/// line, strace-style (or as JSON lines).
fn trace(args: &[String]) -> ExitCode {
    use std::io::Write;
    let (json, file) = match args {
        [f] => (false, f),
        [flag, f] if flag == "--json" => (true, f),
        _ => {
            eprintln!("usage: takt trace [--json] FILE");
            return ExitCode::from(2);
        }
    };
    let events = match std::fs::read(file)
        .map_err(|e| e.to_string())
        .and_then(|b| takt_core::trace::Trace::decode(&b))
    {
        Ok(e) => e,
        Err(e) => {
            eprintln!("takt: {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    for e in &events {
        let line = if json {
            serde_json::json!({
                "time_ns": e.time.as_nanos(),
                "node": e.node,
                "pid": e.pid,
                "tid": e.tid,
                "line": takt_core::trace::what(&e.kind),
                "event": e.kind,
            })
            .to_string()
        } else {
            takt_core::trace::describe(e)
        };
        if writeln!(out, "{line}").is_err() {
            break; // a closed pipe (`| head`)
        }
    }
    ExitCode::SUCCESS
}

/// Builds the scenario the command line describes (again for each shrinking or
/// branching run).
fn build(args: &Args, scenario: &Scenario) -> Result<(), String> {
    if let Some(s) = args.seed {
        scenario.random_seed(s);
    }
    if let Some(t) = args.completion {
        scenario.completion_time(t);
    }
    if let Some(s) = args.strategy {
        scenario.strategy(s);
    }
    if let Some(b) = args.spin {
        scenario.spin_budget(b);
    }
    if let Some(c) = args.compute {
        scenario.compute_allowance(c);
    }
    scenario.stdout_logging(args.log);
    scenario.keep_full_trace(
        args.trace.is_some()
            || args.report.is_some()
            || args.perfetto.is_some()
            || args.deps.is_some(),
    );
    scenario.trace_detail(args.trace.is_some() || args.report.is_some());
    for (t, _) in &args.snapshots {
        scenario.snapshot_at(*t);
    }
    let mut nodes: Vec<(String, takt_scenario::Node)> = Vec::new();
    if let Some(r) = args.fault_rate {
        scenario
            .syscall_fault_injection_rate(r)
            .map_err(|e| e.to_string())?;
    }
    scenario
        .connection_reset_rate(args.reset_rate)
        .and_then(|s| s.datagram_drop_rate(args.drop_rate))
        .map_err(|e| e.to_string())?;
    for (name, r) in &args.faults {
        scenario.fault_rate(name, *r).map_err(|e| e.to_string())?;
    }
    for pa in &args.procs {
        let node = match nodes.iter().find(|(n, _)| *n == pa.node) {
            Some((_, n)) => n.clone(),
            None => {
                let n = scenario.create_named_node(&pa.node);
                nodes.push((pa.node.clone(), n.clone()));
                n
            }
        };
        let mut p = Process::new(&pa.cmd[0])
            .args(pa.cmd[1..].iter().cloned())
            .start_after(pa.after);
        for (k, v) in &pa.env {
            p = p.env(k, v);
        }
        if pa.must_finish {
            p = p.must_finish();
        }
        node.create_process(p);
    }
    let find = |name: &str| {
        nodes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, n)| n.clone())
    };
    for (a, b, at, heal) in &args.partitions {
        let (Some(na), Some(nb)) = (find(a), find(b)) else {
            return Err(format!(
                "takt: --partition names a node no process runs on ({a}, {b})"
            ));
        };
        scenario.partition(&na, &nb, *at, *heal);
    }
    for (n, at, restart) in &args.crashes {
        let Some(node) = find(n) else {
            return Err(format!(
                "takt: --crash names a node no process runs on ({n})"
            ));
        };
        scenario.crash(&node, *at, *restart);
    }
    scenario.crash_model(args.crash_model);
    scenario.own_filesystems(!args.host_files);
    Ok(())
}

fn main() -> ExitCode {
    let all: Vec<String> = std::env::args().skip(1).collect();
    match all.first().map(String::as_str) {
        Some("coverage") => return coverage(&all[1..]),
        Some("trace") => return trace(&all[1..]),
        _ => {}
    }
    let args = match parse(all.into_iter().collect()) {
        Ok(a) => a,
        Err(m) => {
            if !m.is_empty() {
                eprintln!("takt: {m}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    // From here on SIGINT/SIGTERM/SIGHUP stop the run with a report instead of killing
    // takt (the tracees would die with it, and nothing would say what happened).
    if let Err(e) = takt_core::sys::signal::catch_interrupts() {
        eprintln!("takt: cannot catch SIGINT/SIGTERM: {e}");
    }
    let scenario = Scenario::new();
    if let Err(e) = build(&args, &scenario) {
        eprintln!("{e}");
        return ExitCode::from(2);
    }
    if let Some(file) = &args.tape {
        match takt_scenario::read_tape(std::path::Path::new(file)) {
            Ok(t) => {
                scenario.replay_tape(t);
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some((at, n)) = args.branch {
        return branches(&args, &scenario, at, n);
    }
    let outcome = scenario.run();
    let views = [(&args.report, false), (&args.perfetto, true)];
    for (path, chrome) in views {
        let Some(path) = path else { continue };
        let written = match (&outcome, chrome) {
            (Ok(r), false) => r.write_html(path),
            (Ok(r), true) => r.write_chrome_trace(path),
            (Err(Error::Failed(f)), false) => f.write_html(path),
            (Err(Error::Failed(f)), true) => f.write_chrome_trace(path),
            (Err(_), _) => Ok(()),
        };
        if let Err(e) = written {
            eprintln!("takt: cannot write {path}: {e}");
            return ExitCode::from(2);
        }
    }
    if let (Some(file), Err(Error::Failed(f))) = (&args.shrink, &outcome) {
        match takt_scenario::shrink::shrink(&rebuild(&args), f, 200) {
            Ok(s) => match std::fs::write(file, s.tape.to_json()) {
                Ok(()) => println!(
                    "{}takt run --tape {file} … (the same arguments)",
                    s.summary().trim_end_matches(&s.rerun)
                ),
                Err(e) => eprintln!("takt: cannot write {file}: {e}"),
            },
            Err(e) => eprintln!("takt: shrinking failed: {e}"),
        }
    }
    let (report, failed) = match outcome {
        Ok(r) => (r, None),
        Err(Error::Failed(f)) => (f.report, Some(f.reason)),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let (Some(path), Some(tape)) = (&args.write_tape, &report.tape) {
        if let Err(e) = std::fs::write(path, tape.to_json()) {
            eprintln!("takt: cannot write {path}: {e}");
            return ExitCode::from(2);
        }
    }
    if let Err(m) = write_views(&report, &args) {
        eprintln!("takt: {m}");
        return ExitCode::from(2);
    }
    if let Some(path) = &args.trace {
        let bytes = bincode_trace(&report);
        if let Err(e) = std::fs::write(path, bytes) {
            eprintln!("takt: cannot write {path}: {e}");
            return ExitCode::from(2);
        }
    }
    // A closed stdout (`takt run … | head -1`) ends the printing, not in a panic.
    let interrupted = match report.outcome {
        takt_scenario::Outcome::Interrupted { signal } => Some(signal),
        _ => None,
    };
    let _ = print_report(
        &report,
        failed.as_deref(),
        interrupted,
        (!args.quiet && !args.log, args.verbose),
        &passed_env_note(&args),
    );
    if let Some(signal) = interrupted {
        return ExitCode::from(128u8.saturating_add(signal as u8));
    }
    match failed {
        Some(_) => ExitCode::from(1),
        None => ExitCode::SUCCESS,
    }
}

/// Prints each process's output (`show.0`), the report, the notes (`show.1`), and what
/// failed or interrupted the run, with the rerun hint.
fn print_report(
    report: &takt_scenario::Report,
    failed: Option<&str>,
    interrupted: Option<i32>,
    show: (bool, bool),
    env_note: &str,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if show.0 {
        for (i, p) in report.processes.iter().enumerate() {
            if !p.stdout.is_empty() {
                writeln!(out, "--- stdout of {} ---", p.command)?;
                write!(out, "{}", report.stdout(i))?;
            }
            if !p.stderr.is_empty() {
                writeln!(out, "--- stderr of {} ---", p.command)?;
                write!(out, "{}", String::from_utf8_lossy(&p.stderr))?;
            }
        }
    }
    write!(out, "{report}")?;
    if show.1 {
        write!(out, "{}", report.notes_text())?;
    }
    let rerun = format!(
        "rerun: takt run --seed {} … (same arguments{env_note})",
        report.seed
    );
    if let Some(signal) = interrupted {
        writeln!(
            out,
            "INTERRUPTED: takt received {} and stopped the run at virtual time {}",
            takt_core::report::signal_name(signal),
            report.end_time
        )?;
        writeln!(out, "{rerun}")?;
    } else if let Some(reason) = failed {
        writeln!(out, "FAILED: {reason}")?;
        writeln!(out, "{rerun}")?;
    }
    out.flush()
}

/// For the rerun hint: the variables taken from takt's environment, if any.
fn passed_env_note(args: &Args) -> String {
    let mut names: Vec<&str> = args
        .procs
        .iter()
        .flat_map(|p| p.passed.iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    match names.len() {
        0 => String::new(),
        n if n > 8 => format!(", and the same environment: {n} variables passed from it"),
        _ => format!(", and the same values of {}", names.join(", ")),
    }
}

fn bincode_trace(r: &takt_scenario::Report) -> Vec<u8> {
    takt_core::trace::encode_events(&r.trace)
}
