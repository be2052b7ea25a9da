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
                [--strategy random|sticky:PERMILLE|pct:DEPTH] [--spin-budget DURATION] [--log] [--quiet] [--verbose]
                [--fault-rate RATE] [--fault SYSCALL=RATE]… [--reset-rate RATE] [--drop-rate RATE]
                [--partition A:B:AT[:HEAL_AFTER]]… [--crash NODE:AT[:RESTART_AFTER]]…
                [--node NAME] [--after DURATION] [--env K=V]… [--pass-env NAME]… [--pass-env-all]
                -- PROGRAM [ARGS…] [--node NAME [--after DURATION] [--env K=V]… -- PROGRAM [ARGS…]]…

  Runs PROGRAM (and everything it starts) under takt and prints the report.
  Several processes: repeat `--node NAME -- PROGRAM ARGS…`; processes given the same
  NAME share a node; --after starts the next process that much virtual time later. DURATION is like 50ms, 2s, 1.5s, 100us (virtual time for
  --completion-time, real time for --spin-budget).
  --fault-rate sets the injected-fault rate of every syscall, --fault one syscall's
  (e.g. --fault accept=0.01); --reset-rate resets TCP connections at sends, --drop-rate
  loses UDP datagrams; --partition cuts nodes A and B at virtual time AT (healed after
  HEAL_AFTER); --crash kills every process of NODE at AT (restarted after
  RESTART_AFTER); --must-finish before a process ends the run when it exits.
  --report FILE.html writes the visual report (open it in a browser), --perfetto
  FILE.json the Chrome trace (drag it into ui.perfetto.dev); --trace FILE writes the
  canonical (bincode) trace; --snapshot-at T FILE.json writes the global snapshot at
  virtual time T (processes, threads, fds, sockets, messages in flight, timers;
  repeatable); --deps FILE.dot writes the dependency graph (processes, files,
  listeners, connections) as Graphviz DOT, FILE.json as JSON; --log prints output lines as they
  are written, with virtual time, node and pid; --verbose also prints the notes
  (expected refusals: rseq, a guest's mount refused with EPERM…).
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
    };
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
    Ok(a)
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
    scenario.stdout_logging(args.log);
    scenario.keep_full_trace(
        args.trace.is_some()
            || args.report.is_some()
            || args.perfetto.is_some()
            || args.deps.is_some(),
    );
    for (t, _) in &args.snapshots {
        scenario.snapshot_at(*t);
    }
    let mut nodes: Vec<(String, takt_scenario::Node)> = Vec::new();
    if let Some(r) = args.fault_rate {
        if let Err(e) = scenario.syscall_fault_injection_rate(r) {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    }
    if let Err(e) = scenario
        .connection_reset_rate(args.reset_rate)
        .and_then(|s| s.datagram_drop_rate(args.drop_rate))
    {
        eprintln!("{e}");
        return ExitCode::from(2);
    }
    for (name, r) in &args.faults {
        if let Err(e) = scenario.fault_rate(name, *r) {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
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
            eprintln!("takt: --partition names a node no process runs on ({a}, {b})");
            return ExitCode::from(2);
        };
        scenario.partition(&na, &nb, *at, *heal);
    }
    for (n, at, restart) in &args.crashes {
        let Some(node) = find(n) else {
            eprintln!("takt: --crash names a node no process runs on ({n})");
            return ExitCode::from(2);
        };
        scenario.crash(&node, *at, *restart);
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
    let (report, failed) = match outcome {
        Ok(r) => (r, None),
        Err(Error::Failed(f)) => (f.report, Some(f.reason)),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
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
