//! The `takt` command: prints the report, writes the trace, and says what is wrong.

use std::process::Command;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Tests run in parallel threads; the one that times takt runs alone (the others'
/// takt processes would compete for the 2 cores it is timed on).
static TIMING: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    TIMING.read().unwrap_or_else(|e| e.into_inner())
}

fn alone() -> RwLockWriteGuard<'static, ()> {
    TIMING.write().unwrap_or_else(|e| e.into_inner())
}

fn takt(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_takt"))
        .args(args)
        .output()
        .expect("run takt");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn runs_a_program_and_prints_seed_digest_and_status() {
    let _g = shared();
    let (code, out, _) = takt(&["run", "--seed", "7", "--", "/bin/sh", "-c", "echo hi; date"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("hi\nThu Jan  1 00:00:00 UTC 2026\n"), "{out}");
    assert!(
        out.contains("seed: 7\n") && out.contains("trace digest: "),
        "{out}"
    );
    let (_, again, _) = takt(&["run", "--seed", "7", "--", "/bin/sh", "-c", "echo hi; date"]);
    let digest = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("trace digest:"))
            .map(str::to_string)
    };
    assert_eq!(digest(&out), digest(&again));
}

#[test]
fn writes_the_canonical_trace() {
    let _g = shared();
    let file = std::env::temp_dir().join(format!("takt-cli-trace-{}", std::process::id()));
    let (code, _, _) = takt(&["run", "--trace", file.to_str().unwrap(), "--", "/bin/true"]);
    assert_eq!(code, 0);
    let events = takt_core::trace::Trace::decode(&std::fs::read(&file).unwrap()).unwrap();
    assert!(!events.is_empty());
    let _ = std::fs::remove_file(file);
}

#[test]
fn failures_exit_1_and_bad_usage_exits_2() {
    let _g = shared();
    let (code, out, _) = takt(&["run", "--", "/bin/sh", "-c", "exit 4"]);
    assert_eq!(code, 1);
    assert!(out.contains("FAILED") && out.contains("exited 4"), "{out}");
    for bad in [
        &["run"][..],
        &["run", "--seed", "x", "--", "/bin/true"],
        &["run", "--fault", "acept=0.1", "--", "/bin/true"],
        &["frobnicate"],
    ] {
        let (code, _, err) = takt(bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(!err.is_empty());
    }
    let (_, _, err) = takt(&["run", "--", "/no/such/prog"]);
    assert!(
        err.contains("/no/such/prog") && err.contains("ENOENT"),
        "{err}"
    );
}

#[test]
fn crash_and_partition_flags_show_in_the_report() {
    let _g = shared();
    let (code, out, err) = takt(&[
        "run",
        "--completion-time",
        "2s",
        "--crash",
        "a:100ms:200ms",
        "--partition",
        "a:b:50ms:10ms",
        "--node",
        "a",
        "--",
        "/bin/sleep",
        "1",
        "--node",
        "b",
        "--",
        "/bin/sleep",
        "1",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    for want in [
        "at 0.050000000s: partition a | b",
        "at 0.060000000s: heal a | b",
        "crash of node a",
        "restart of node a after 0.200000 s down",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
    let (code, _, err) = takt(&["run", "--crash", "nosuch:1s", "--", "/bin/true"]);
    assert_eq!(code, 2);
    assert!(err.contains("nosuch"), "{err}");
}

/// A reader that goes away early (`| head -1`) ends takt quickly and quietly: no panic
/// in the tracer, no hang in teardown, on stdout, on stderr (`TAKT_DEBUG`) and with
/// `--log`.
#[test]
fn a_closed_output_pipe_ends_takt_within_2_s() {
    let _g = alone();
    let takt = env!("CARGO_BIN_EXE_takt");
    // The case within 2 s; the heavier `--log` run (20,000 lines through the
    // log before the reader goes) has 10 s: what it checks is that it ends at all, and
    // on a loaded 2-core machine it once took just over 2 s.
    let secs = |s| std::time::Duration::from_secs(s);
    for (line, limit) in [
        (
            format!("TAKT_DEBUG=1 {takt} run -- /bin/true | head -1"),
            secs(2),
        ),
        (
            format!("TAKT_DEBUG=1 {takt} run -- /bin/true 2>&1 | head -1"),
            secs(2),
        ),
        (
            format!("{takt} run --log -- /bin/sh -c 'yes | head -20000' | head -1"),
            secs(10),
        ),
    ] {
        let t0 = std::time::Instant::now();
        let out = Command::new("timeout")
            .args([
                "20",
                "/bin/sh",
                "-c",
                &format!("{line}; echo \"status ${{PIPESTATUS:-}}\""),
            ])
            .output()
            .expect("run sh");
        let took = t0.elapsed();
        assert!(out.status.success(), "{line}: {out:?}");
        assert!(took < limit, "{line}: took {took:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{line}: {stderr}");
    }
}

/// Expected refusals are notes: not printed as warnings, shown with `--verbose`.
#[test]
fn notes_are_shown_with_verbose_only() {
    let _g = shared();
    let (code, out, _) = takt(&["run", "--", "/bin/true"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("rseq"), "{out}");
    let (code, out, _) = takt(&["run", "--verbose", "--", "/bin/true"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("note: rseq answered ENOSYS"), "{out}");
}

/// `takt coverage merge` prints the figures of the merged shards and writes the map.
#[test]
fn coverage_merge_of_shards() {
    let _g = shared();
    use takt_scenario::coverage::Coverage;
    let dir = std::env::temp_dir().join(format!("takt-cli-coverage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut a, mut b, mut one) = (Coverage::new(), Coverage::new(), Coverage::new());
    for seed in 0..50u64 {
        let class = format!("c{}", seed % 7);
        let shard = if seed % 2 == 0 { &mut a } else { &mut b };
        shard.add(seed, &class, &[seed % 7], None);
        one.add(seed, &class, &[seed % 7], None);
    }
    let (fa, fb, map) = (dir.join("a.json"), dir.join("b.json"), dir.join("map.html"));
    std::fs::write(&fa, a.to_json()).unwrap();
    std::fs::write(&fb, b.to_json()).unwrap();
    let (code, out, err) = takt(&[
        "coverage",
        "merge",
        fa.to_str().unwrap(),
        fb.to_str().unwrap(),
        "--html",
        map.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&one.estimate().to_string()), "{out}");
    let page = std::fs::read_to_string(&map).unwrap();
    assert_eq!(page.matches("<circle").count(), 50);
    let (code, _, err) = takt(&["coverage", "merge", "/no/such.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("/no/such.json"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The command's tracer is its main thread, which traps rdtsc during the run: printing
/// output lines as they happen (`--log`) and every event (`TAKT_DEBUG`) must not read
/// the clock through the vDSO, which would kill it with SIGSEGV.
#[test]
fn log_and_debug_output_do_not_read_the_vdso_clock() {
    let _g = shared();
    use std::os::unix::process::ExitStatusExt;
    let out = Command::new(env!("CARGO_BIN_EXE_takt"))
        // A fixed seed: under a random one a fault can make the shell fail before it
        // prints (seed 6 faults dup2 and wait4, and the script still runs to the end).
        .args(["run", "--seed", "6", "--log", "--fault-rate", "0.05", "--"])
        .args(["/bin/sh", "-c", "date; echo hi >&2; sleep 0.01; date"])
        .env("TAKT_DEBUG", "1")
        .output()
        .expect("run takt");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(
        out.status.signal(),
        Some(11),
        "takt died of SIGSEGV: its tracer thread read the clock through the vDSO\n{text}"
    );
    assert!(out.status.code().is_some(), "{}: {text}", out.status);
    assert!(text.contains("Thu Jan  1 00:00:00 UTC 2026"), "{text}");
    assert!(text.contains("[fault]"), "no fault was injected: {text}");
}

/// `takt trace` prints a trace file strace-style (or as JSON lines), and refuses what is
/// not a trace.
#[test]
fn trace_prints_a_trace_file() {
    let _g = shared();
    let file = std::env::temp_dir().join(format!("takt-cli-trace-read-{}", std::process::id()));
    let (code, _, _) = takt(&[
        "run",
        "--trace",
        file.to_str().unwrap(),
        "--",
        "/bin/sh",
        "-c",
        "echo hi",
    ]);
    assert_eq!(code, 0);
    let (code, out, err) = takt(&["trace", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(" node0 2/2 "), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("write(1, ") && l.ends_with("= 3")),
        "{out}"
    );
    assert!(!out.contains("syscall_"), "a raw syscall line: {out}");
    let (code, json, _) = takt(&["trace", "--json", file.to_str().unwrap()]);
    assert_eq!(code, 0);
    for l in json.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
        assert!(v["line"].is_string() && v["time_ns"].is_u64(), "{l}");
    }
    std::fs::write(&file, b"not a trace").unwrap();
    let (code, _, err) = takt(&["trace", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("not a takt trace file"), "{err}");
    let _ = std::fs::remove_file(file);
}

fn takt_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_takt"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run takt");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_environment_is_fixed_unless_asked_for() {
    let _g = shared();
    let host = [
        ("TAKT_CLI_PASSED", "from-host"),
        ("TAKT_CLI_OTHER", "other"),
    ];
    // By default nothing leaks in from takt's environment.
    let (code, out, err) = takt_env(&["run", "--seed", "1", "--", "/usr/bin/env"], &host);
    assert_eq!(code, 0, "{out}{err}");
    let vars: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("--- stdout"))
        .skip(1)
        .take_while(|l| !l.starts_with("seed: "))
        .map(|l| l.split('=').next().unwrap_or(""))
        .collect();
    // (ANTITHESIS_SDK_LOCAL_OUTPUT: where takt reads guest properties from.)
    assert_eq!(
        vars,
        ["PATH", "HOME", "LANG", "TZ", "ANTITHESIS_SDK_LOCAL_OUTPUT"],
        "{out}"
    );
    // --env adds, --pass-env copies one variable (an unset one is skipped).
    let (code, out, _) = takt_env(
        &[
            "run",
            "--env",
            "GREETING=hello world",
            "--pass-env",
            "TAKT_CLI_PASSED",
            "--pass-env",
            "TAKT_CLI_UNSET",
            "--",
            "/bin/sh",
            "-c",
            "echo \"$GREETING|$TAKT_CLI_PASSED|$TAKT_CLI_OTHER|${TAKT_CLI_UNSET-unset}\"",
        ],
        &host,
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("hello world|from-host||unset\n"), "{out}");
    // --pass-env-all starts from takt's environment; --env still wins.
    let (code, out, _) = takt_env(
        &[
            "run",
            "--pass-env-all",
            "--env",
            "TAKT_CLI_OTHER=mine",
            "--",
            "/bin/sh",
            "-c",
            "echo \"$TAKT_CLI_PASSED|$TAKT_CLI_OTHER\"; exit 1",
        ],
        &host,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("from-host|mine\n"), "{out}");
    assert!(
        out.contains("same environment") || out.contains("same values"),
        "the rerun hint names the passed environment: {out}"
    );
    // Each applies to the next process only.
    let (code, out, _) = takt_env(
        &[
            "run",
            "--env",
            "ONLY_A=1",
            "--node",
            "a",
            "--",
            "/bin/sh",
            "-c",
            "echo a${ONLY_A-}",
            "--node",
            "b",
            "--",
            "/bin/sh",
            "-c",
            "echo b${ONLY_A-}",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("a1\n") && out.contains("b\n"), "{out}");
    for bad in [
        &["run", "--env", "NOVALUE", "--", "/bin/true"][..],
        &["run", "--env", "=x", "--", "/bin/true"],
        &["run", "--pass-env", "A=B", "--", "/bin/true"],
    ] {
        let (code, _, err) = takt(bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
    }
}

/// Processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(marker) && !cmd.contains("cargo") {
            found.push(format!("{}: {cmd}", entry.file_name().to_string_lossy()));
        }
    }
    found
}

#[test]
fn a_killed_takt_reports_and_leaves_nothing_behind() {
    let _g = shared();
    let marker = format!("takt-cli-forever-{}", std::process::id());
    for sig in ["TERM", "INT"] {
        let out = Command::new("timeout")
            .args([
                "-s",
                sig,
                "2",
                env!("CARGO_BIN_EXE_takt"),
                "run",
                "--seed",
                "9",
                "--",
            ])
            .args([
                "/bin/sh",
                "-c",
                "while :; do echo x >/dev/null; done",
                &marker,
            ])
            .output()
            .expect("run timeout");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(124), "timeout ran out: {stdout}");
        assert!(stdout.contains("seed: 9\n"), "{stdout}");
        assert!(
            stdout.contains(&format!("end: INTERRUPTED by SIG{sig}")),
            "{stdout}"
        );
        assert!(
            stdout.contains("still running at the end (killed)"),
            "{stdout}"
        );
        assert!(stdout.contains("rerun: takt run --seed 9"), "{stdout}");
        let left = processes_with(&marker);
        assert!(left.is_empty(), "left behind: {left:?}");
    }
    // A program that spins without syscalls, alone (nothing else could ever run, no
    // timer is set): takt finds the loop and ends the run itself, well before the
    // timeout, naming where it spins; nothing is left behind either.
    let out = Command::new("timeout")
        .args([
            "2",
            env!("CARGO_BIN_EXE_takt"),
            "run",
            "--",
            "/bin/sh",
            "-c",
        ])
        .args(["while :; do :; done", &marker])
        .output()
        .expect("run timeout");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("with no other thread to run and no timer to wait for")
            && stdout.contains("(in /usr/bin/dash)"),
        "{stdout}"
    );
    let left = processes_with(&marker);
    assert!(left.is_empty(), "left behind: {left:?}\n{stdout}");
}

/// `--write-tape` writes the run's decisions, `--tape` replays them to the same digest,
/// `--shrink` writes the fewest decisions a failure needs (here one fault), and
/// `--branch-at T --branches N` runs N branches that share the prefix.
#[test]
fn tapes_shrinking_and_branches_from_the_command_line() {
    let _g = shared();
    let dir = std::env::temp_dir().join(format!("takt-cli-tape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (t1, t2) = (dir.join("run.json"), dir.join("shrunk.json"));
    let script = ["/bin/sh", "-c", "date; echo hi >&2; sleep 0.01; date"];
    let digest = |out: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix("trace digest: "))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no digest in {out}"))
    };
    let run = |extra: &[&str]| {
        let mut a = vec!["run", "--fault-rate", "0.05"];
        a.extend_from_slice(extra);
        a.push("--");
        a.extend_from_slice(&script);
        takt(&a)
    };
    let (code, out, err) = run(&["--seed", "6", "--write-tape", t1.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let tape = std::fs::read_to_string(&t1).unwrap();
    assert!(tape.starts_with("{\"takt_tape\": 1"), "{tape}");
    assert!(tape.contains("\"kind\":\"fault\""), "{tape}");
    let (code, again, _) = run(&["--tape", t1.to_str().unwrap()]);
    assert_eq!((code, digest(&again)), (0, digest(&out)));
    // Seed 7 fails (fcntl gets EMFILE): shrunk to that one fault.
    let (code, out, err) = run(&["--seed", "7", "--shrink", t2.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("fails with only this decision:"), "{out}");
    assert!(
        out.contains(&format!("takt run --tape {}", t2.display())),
        "{out}"
    );
    let (code, replay, _) = run(&["--tape", t2.to_str().unwrap()]);
    assert_eq!(code, 1, "{replay}");
    let (code, out, err) = run(&["--seed", "6", "--branch-at", "5us", "--branches", "3"]);
    assert_eq!(code, 0, "{out}{err}");
    let prefixes: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("branch "))
        .map(|l| {
            l.split("prefix digest ")
                .nth(1)
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
        })
        .collect();
    assert_eq!(prefixes.len(), 3, "{out}");
    assert!(
        prefixes.iter().all(|p| p.len() == 64 && *p == prefixes[0]),
        "{out}"
    );
    let (code, _, err) = run(&["--branch-at", "5us"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["--tape", "/no/such/tape.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("/no/such/tape.json"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// `--snapshot-at T FILE.json` writes the snapshot at T; `--deps FILE.json` the
/// dependency graph as JSON (FILE.dot: as DOT), with the file the shell's `cat` read.
#[test]
fn writes_a_snapshot_and_the_dependency_graph() {
    let _g = shared();
    let dir = std::env::temp_dir().join(format!("takt-cli-views-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (snap, deps, dot) = (
        dir.join("snap.json"),
        dir.join("deps.json"),
        dir.join("deps.dot"),
    );
    let (code, out, err) = takt(&[
        "run",
        "--seed",
        "1",
        "--snapshot-at",
        "1.5ms",
        snap.to_str().unwrap(),
        "--deps",
        deps.to_str().unwrap(),
        "--",
        "/bin/sh",
        "-c",
        "sleep 0.002; cat /etc/hostname",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&snap).unwrap()).unwrap();
    assert_eq!(s["requested"], 1_500_000);
    assert!(s["time"].as_u64().unwrap() >= 1_500_000, "{s}");
    assert!(s["event_index"].as_u64().unwrap() > 0);
    // The shell waits for its child, `sleep`, which sleeps.
    let procs = s["processes"].as_array().unwrap();
    let call = |p: &serde_json::Value| p["threads"][0]["syscall"].as_str().map(str::to_string);
    assert_eq!(call(&procs[0]).as_deref(), Some("wait4"), "{s}");
    let sleep = procs.iter().find(|p| p["program"] == "/usr/bin/sleep");
    assert_eq!(
        sleep.and_then(call).as_deref(),
        Some("clock_nanosleep"),
        "{s}"
    );
    let d: serde_json::Value = serde_json::from_slice(&std::fs::read(&deps).unwrap()).unwrap();
    let files: Vec<&str> = d["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(files.contains(&"/etc/hostname"), "{files:?}");
    assert!(
        d["processes"].as_array().unwrap().len() >= 2,
        "sh and cat: {d}"
    );
    let (code, _, _) = takt(&["run", "--deps", dot.to_str().unwrap(), "--", "/bin/true"]);
    assert_eq!(code, 0);
    assert!(std::fs::read_to_string(&dot)
        .unwrap()
        .starts_with("digraph takt {"));
    let _ = std::fs::remove_dir_all(dir);
}

/// Run as an unprivileged user (nobody, through util-linux's `setpriv`), takt has no
/// mount or PID namespace: the nodes use the host's files, as the report says.
#[test]
fn without_root_the_nodes_share_the_hosts_files_and_the_report_says_so() {
    let _g = shared();
    let dir = std::env::temp_dir().join(format!("takt-cli-nonroot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let file = dir.join("written");
    let script = format!("echo from-the-guest > {}", file.display());
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_takt"))
        .args(["run", "--seed", "3", "--", "/bin/sh", "-c", &script])
        .output()
        .expect("setpriv (util-linux)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("warning: no filesystem of their own for the nodes (not root?)"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).ok().as_deref(),
        Some("from-the-guest\n"),
        "the guest wrote the host's file"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
