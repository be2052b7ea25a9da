//! takt's benchmarks. Absolute times on shared VMs are noise, so every figure is a
//! ratio of two things measured in this same run:
//!
//! - 100,000 virtualized syscalls (`getppid`, emulated in one stop) against the pinned
//!   floor that `../shared/measure/ptrace-floor` prints now, with `rdtsc` trapped by
//!   tracee and tracer as takt does (the honest floor for a ptrace stop, target ≤
//!   1.10x); the same for 100,000 `clock_gettime` calls, which also write tracee memory
//!   (≤ 1.25x). Both calls stop through a seccomp user notification, which costs less
//!   than a ptrace stop (`TAKT_NOTIFY=0` measures them as ptrace stops);
//! - 100,000 pass-through syscalls (`mprotect`/`madvise`, allowed by the filter) against
//!   native (≤ 1.3x);
//! - 1,000 sleeps of 10 ms against native wall time (≤ 0.1x);
//! - a syscall-heavy fixture against `strace -f -o /dev/null` (≤ 1.0x);
//! - the memcached scenario (memcslap: 2,000 sets over 4 connections) against native
//!   (≤ 5x) and `strace -f` (≤ 0.6x) on loopback, and takt runs per second on one core;
//! - exploration of a smaller memcached scenario over 100 seeds: runs per second on one
//!   CPU and on every allowed CPU.
//!
//! Run: `cargo bench -p takt-benches` (needs scripts/setup's packages).
//! - the per-node filesystem (overlay, file metadata, durability model): the memcached
//!   scenario with and without it (≤ 1.05x), and its cost on a file-heavy git run.
//!
//! `TAKT_BENCH=floor,memcached,…` runs only the named parts (floor, syscalls,
//! passthrough, sleep, heavy, memcached, explore, signature, tape, fs).

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use takt_scenario::{Process, Scenario};
use takt_tests::{c_fixture, Fixture};

fn secs(f: impl FnOnce()) -> f64 {
    let t0 = Instant::now();
    f();
    t0.elapsed().as_secs_f64()
}

/// Best of `n` (the least disturbed by the machine's noise).
fn best(n: usize, mut f: impl FnMut() -> f64) -> f64 {
    (0..n).map(|_| f()).fold(f64::INFINITY, f64::min)
}

fn native(prog: &Path, args: &[&str]) -> f64 {
    secs(|| {
        let st = Command::new(prog)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .expect("run fixture");
        assert!(st.success(), "{} failed natively", prog.display());
    })
}

fn strace(prog: &Path, args: &[&str]) -> f64 {
    secs(|| {
        let st = Command::new("strace")
            .args(["-f", "-o", "/dev/null"])
            .arg(prog)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .expect("strace (scripts/setup installs it)");
        assert!(st.success());
    })
}

fn takt(f: &Fixture) -> f64 {
    secs(|| {
        f.scenario(1).run().unwrap_or_else(|e| panic!("{e}"));
    })
}

/// The pinned emulation floors (µs per syscall) printed by the shared measuring tool:
/// plain, the tracee trapping rdtsc, and tracee and tracer thread both trapping it.
struct Floor {
    plain: f64,
    tsc: f64,
    tsc_both: f64,
}

fn floor() -> Option<Floor> {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/measure/ptrace-floor");
    let out = Command::new(&tool).arg("100000").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
    };
    // The first plain emulated line is the pinned one.
    Some(Floor {
        plain: value("emulated_us_per_syscall ")?,
        tsc: value("emulated_tsc_tracee_us_per_syscall ")?,
        tsc_both: value("emulated_tsc_both_us_per_syscall ")?,
    })
}

/// Whether part `name` runs (`TAKT_BENCH` unset: all of them).
fn part(name: &str) -> bool {
    std::env::var("TAKT_BENCH").map_or(true, |v| v.split(',').any(|p| p.trim() == name))
}

/// `run(seed, on) / run(seed, off)`, best of `n` each, interleaved seed by seed (the
/// cost of one feature, measured in this run).
fn on_vs_off(n: u64, mut run: impl FnMut(u64, bool) -> f64) -> (f64, f64) {
    let (mut on, mut off) = (f64::INFINITY, f64::INFINITY);
    for seed in 0..n {
        off = off.min(run(seed, false));
        on = on.min(run(seed, true));
    }
    (on, off)
}

fn row(what: &str, ratio: f64, target: &str, ok: bool) {
    println!(
        "{what:<58} {ratio:>8.3}x   target {target:<7} {}",
        if ok { "ok" } else { "MISSED" }
    );
}

fn wait_port(port: u16) {
    for _ in 0..5000 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("memcached did not listen on {port}");
}

/// memcached started natively (both programs under `strace -f` when `traced`), then
/// memcslap once it listens: seconds from spawning memcached to memcslap's exit, the
/// same span a takt run covers.
fn memcached_native(port: u16, traced: bool) -> f64 {
    let wrap = |args: &[&str]| {
        let mut c = if traced {
            Command::new("strace")
        } else {
            Command::new(args[0])
        };
        if traced {
            c.args(["-f", "-o", "/dev/null"]).args(args);
        } else {
            c.args(&args[1..]);
        }
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c.process_group(0); // so the whole tree (strace and its children) can be killed
        c
    };
    let p = port.to_string();
    let servers = format!("--servers=127.0.0.1:{port}");
    let t0 = Instant::now();
    let mut server = wrap(&[
        "/usr/bin/memcached",
        "-u",
        "root",
        "-p",
        &p,
        "-U",
        "0",
        "-t",
        "4",
    ])
    .spawn()
    .expect("memcached");
    wait_port(port);
    let st = wrap(&[
        "/usr/bin/memcslap",
        &servers,
        "--concurrency=4",
        "--execute-number=500",
        "--binary",
    ])
    .status()
    .expect("memcslap");
    let t = t0.elapsed().as_secs_f64();
    assert!(st.success());
    // Kill the process group: killing strace alone would leave memcached running.
    let _ = Command::new("kill")
        .arg("--")
        .arg(format!("-{}", server.id()))
        .status();
    let _ = server.wait();
    t
}

fn memcached_takt(seed: u64) -> f64 {
    let s = Scenario::new();
    s.random_seed(seed);
    s.completion_time(Duration::from_millis(250));
    let n = s.create_node();
    n.create_process("/usr/bin/memcached -u root -p 11222 -U 0 -t 4");
    n.create_process(
        Process::parse("/usr/bin/memcslap --servers=127.0.0.1:11222 --concurrency=4 --execute-number=500 --binary")
            .start_after(Duration::from_millis(1)),
    );
    secs(|| {
        s.run().unwrap_or_else(|e| panic!("{e}"));
    })
}

/// The memcached scenario's engine run, with or without its behaviour signature and
/// its decision tape.
fn memcached_engine(seed: u64, signature: bool, tape: bool) -> f64 {
    let s = Scenario::new();
    s.random_seed(seed);
    s.completion_time(Duration::from_millis(250));
    let n = s.create_node();
    n.create_process("/usr/bin/memcached -u root -p 11222 -U 0 -t 4");
    n.create_process(
        Process::parse("/usr/bin/memcslap --servers=127.0.0.1:11222 --concurrency=4 --execute-number=500 --binary")
            .start_after(Duration::from_millis(1)),
    );
    let mut cfg = s.config().expect("valid scenario");
    cfg.signature = signature;
    cfg.record_tape = tape;
    secs(|| {
        takt_core::run(cfg).unwrap_or_else(|e| panic!("{e}"));
    })
}

/// The memcached scenario's engine run with the per-node filesystem (overlay, file
/// metadata, durability model) or without any of it.
fn memcached_fs(seed: u64, files: bool) -> f64 {
    let s = Scenario::new();
    s.random_seed(seed);
    s.completion_time(Duration::from_millis(250));
    s.own_filesystems(files);
    let n = s.create_node();
    n.create_process("/usr/bin/memcached -u root -p 11222 -U 0 -t 4");
    n.create_process(
        Process::parse("/usr/bin/memcslap --servers=127.0.0.1:11222 --concurrency=4 --execute-number=500 --binary")
            .start_after(Duration::from_millis(1)),
    );
    let mut cfg = s.config().expect("valid scenario");
    cfg.test_without_file_model = !files;
    secs(|| {
        takt_core::run(cfg).unwrap_or_else(|e| panic!("{e}"));
    })
}

/// A file-heavy run: `git init`, add and commit 200 small files, `git status`, `git
/// log` (stat calls, writes, renames, fsyncs of git's objects), with the file model or
/// without it.
fn git_files(seed: u64, files: bool) -> f64 {
    let s = Scenario::new();
    s.random_seed(seed);
    s.own_filesystems(files);
    s.create_node()
        .create_process(Process::new("/bin/sh").arg("-c").arg(
            "set -e; mkdir repo; cd repo; git init -q .; \
             git config user.name takt; git config user.email takt@example.com; \
             for i in $(seq 200); do echo $i > f$i; done; git add .; git commit -qm one; \
             git status --porcelain; git log --oneline >/dev/null",
        ));
    let mut cfg = s.config().expect("valid scenario");
    cfg.test_without_file_model = !files;
    let t0 = Instant::now();
    let r = takt_core::run(cfg).unwrap_or_else(|e| panic!("{e}"));
    let t = t0.elapsed().as_secs_f64();
    assert_eq!(
        r.processes[0].status,
        takt_scenario::Status::Exited(0),
        "the git run failed\n{r}"
    );
    t
}

/// Benchmark 6, exploration over 100 seeds: every allowed CPU against one.
///
/// Exploration runs its workers as processes that start this program again; in them,
/// only this part runs.
fn exploration() {
    let build = |s: &Scenario| takt_tests::small_memcached(s);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let all = takt_scenario::Explore::new()
        .seeds(100)
        .jobs(cpus)
        .quiet(true)
        .run(build)
        .expect("no faults: passes");
    let one = takt_scenario::Explore::new()
        .seeds(100)
        .jobs(1)
        .quiet(true)
        .run(build)
        .expect("no faults: passes");
    let speedup = one.seconds / all.seconds;
    println!(
        "exploration of 100 seeds: {:.1} runs/s on 1 CPU, {:.1} runs/s on {cpus} CPUs (worker processes)",
        100.0 / one.seconds,
        100.0 / all.seconds
    );
    row(
        &format!("exploration runs/s, {cpus} CPUs vs 1"),
        speedup,
        ">= 1.8",
        speedup >= 1.8,
    );
}

fn main() {
    if std::env::var_os("TAKT_EXPLORE_WORKER").is_some() {
        return exploration();
    }
    // `cargo bench` passes --bench; parts are chosen with TAKT_BENCH (see above).
    println!("takt benchmarks (ratios measured in this run; best of 3 unless noted)\n");

    // 1. Virtualized syscalls against the floor: per-syscall cost is the difference
    //    between 100,000 iterations and none (process start-up cancels out).
    if part("floor") || part("syscalls") {
        let floor = floor();
        match &floor {
            Some(f) => {
                println!(
                    "ptrace floor, pinned (shared/measure/ptrace-floor), µs per emulated getppid:"
                );
                println!(
                    "  plain (rdtsc not trapped)                 {:>6.2} µs",
                    f.plain
                );
                println!(
                    "  tsc (tracee traps rdtsc, tracer does not) {:>6.2} µs",
                    f.tsc
                );
                println!(
                    "  tsc-both (tracee and tracer trap rdtsc)   {:>6.2} µs   <- takt's floor",
                    f.tsc_both
                );
            }
            None => println!("ptrace floor tool not found beside the repository: ratios skipped"),
        }
        let loop_of = |n: &str| Fixture::c("getppid_loop").with_args(&[n]);
        let (n0, n1) = (loop_of("0"), loop_of("100000"));
        let per = best(3, || takt(&n1) - takt(&n0)) / 100_000.0 * 1e6;
        let clk0 = Fixture::c("clock_loop").with_args(&["0"]);
        let clk1 = Fixture::c("clock_loop").with_args(&["100000"]);
        let per_clock = best(3, || takt(&clk1) - takt(&clk0)) / 100_000.0 * 1e6;
        println!("takt: {per:.2} µs per getppid, {per_clock:.2} µs per clock_gettime (seccomp notifications, not ptrace stops, unless TAKT_NOTIFY=0)");
        if let Some(f) = floor {
            let r = per / f.tsc_both;
            row(
                "100,000 virtualized getppid vs the tsc-both floor",
                r,
                "<= 1.10",
                r <= 1.10,
            );
            let r = per_clock / f.tsc_both;
            row(
                "100,000 clock_gettime (writes tracee memory) vs tsc-both",
                r,
                "<= 1.25",
                r <= 1.25,
            );
            row(
                "100,000 virtualized getppid vs the plain floor",
                per / f.plain,
                "(info)",
                true,
            );
        }
    }

    // 2. Pass-through syscalls against native.
    if part("passthrough") {
        let mp = c_fixture("mprotect_loop");
        let nat = best(3, || native(&mp, &["100000"]));
        let tk = best(3, || {
            takt(&Fixture::c("mprotect_loop").with_args(&["100000"]))
        });
        row(
            "100,000 pass-through mprotect/madvise vs native",
            tk / nat,
            "<= 1.3",
            tk / nat <= 1.3,
        );
    }

    // 3. Sleeping: 1,000 x 10 ms (native once: it takes ten seconds).
    if part("sleep") {
        let sl = c_fixture("sleep_steps");
        let nat = native(&sl, &["1000", "10"]);
        let tk = best(3, || {
            takt(&Fixture::c("sleep_steps").with_args(&["1000", "10"]))
        });
        row(
            "1,000 x 10 ms sleeps vs native wall time (native once)",
            tk / nat,
            "<= 0.1",
            tk / nat <= 0.1,
        );
    }

    // 4. A syscall-heavy fixture against strace -f.
    if part("heavy") {
        let heavy = c_fixture("syscall_heavy");
        let st = best(3, || strace(&heavy, &[]));
        let nat = best(3, || native(&heavy, &[]));
        let tk = best(3, || takt(&Fixture::c("syscall_heavy")));
        row(
            "syscall_heavy vs strace -f -o /dev/null",
            tk / st,
            "<= 1.0",
            tk / st <= 1.0,
        );
        row("syscall_heavy vs native", tk / nat, "(info)", true);
    }

    // 5. The memcached scenario: memcslap, 2,000 sets over 4 connections.
    if part("memcached") {
        // Best of 10 on every side: takt's figure is the best of 10 seeds.
        let nat = best(10, || memcached_native(21222, false));
        let st = best(10, || memcached_native(21223, true));
        let runs: Vec<f64> = (0..10).map(memcached_takt).collect();
        let tk = runs.iter().copied().fold(f64::INFINITY, f64::min);
        let mean = runs.iter().sum::<f64>() / runs.len() as f64;
        row(
            "memcached scenario (2,000 ops) vs strace -f (best of 10 each)",
            tk / st,
            "<= 0.6",
            tk / st <= 0.6,
        );
        row(
            "memcached scenario (2,000 ops) vs native (best of 10 each)",
            tk / nat,
            "<= 5",
            tk / nat <= 5.0,
        );
        println!(
            "memcached scenario under takt: {:.1} runs/s on one core (mean of 10 seeds; a run includes memcached's start-up)",
            1.0 / mean
        );
    }

    if part("explore") {
        exploration();
    }

    // 8. The per-node filesystem's cost (overlay, metadata, durability model): the
    // memcached scenario and a file-heavy git run, with and without it, interleaved
    // (best of 10 and of 5).
    if part("fs") {
        let (on, off) = on_vs_off(10, memcached_fs);
        row(
            "memcached scenario with per-node filesystems vs without",
            on / off,
            "<= 1.05",
            on / off <= 1.05,
        );
        let (on, off) = on_vs_off(5, git_files);
        println!(
            "git, 200 files added and committed: {on:.3} s with per-node filesystems, {off:.3} s without"
        );
        row(
            "file-heavy git run with per-node filesystems vs without",
            on / off,
            "stated",
            true,
        );
    }

    // 7. The behaviour signature's cost: the memcached scenario with and without it,
    // interleaved (best of 10 each).
    if part("signature") {
        let (on, off) = on_vs_off(10, |seed, on| memcached_engine(seed, on, true));
        row(
            "memcached scenario with the behaviour signature vs without",
            on / off,
            "<= 1.05",
            on / off <= 1.05,
        );
    }

    // 8. The decision tape's cost: the memcached scenario recording its tape or not,
    // interleaved (best of 10 each).
    if part("tape") {
        let (on, off) = on_vs_off(10, |seed, on| memcached_engine(seed, true, on));
        row(
            "memcached scenario recording its decision tape vs not",
            on / off,
            "<= 1.03",
            on / off <= 1.03,
        );
    }
}
