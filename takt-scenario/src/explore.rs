//! Exploration: run a scenario-building closure over many seeds, spread over the CPUs
//! (each scenario pinned to its own), one line printed per run.
//!
//! `TAKT_SEEDS=N` sets how many seeds (default 100); `TAKT_SEED=S` runs only seed `S`
//! (the rerun command of a failure); `TAKT_CHECK_DETERMINISM=1` runs every seed twice and
//! fails on a digest mismatch. With `stop_at_first`, no seed above a failing one is
//! started, and the lowest failing seed is reported, so the answer does not depend on
//! which worker was faster.
//!
//! The lowest failing seed's visual report is written (replayed with its full trace) to
//! `TAKT_REPORT_DIR` (default: `takt-reports` under the target directory), and its path
//! is in the failure; `TAKT_REPORT=always` writes one for every run.
//!
//! Every run's behaviour class is counted ([`crate::coverage`]): the summary gives the
//! coverage estimate, and [`Explore::until_coverage`] (`TAKT_UNTIL_COVERAGE`) stops
//! once it is reached, judged over seeds in order so the answer does not depend on
//! which worker was faster. `TAKT_SHARD=i/n` runs a disjoint part of the seeds (for CI
//! matrices) and writes its coverage state as JSON, for `takt coverage merge`.

use crate::coverage::Coverage;
use crate::{Error, Failure, Scenario};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

thread_local! {
    /// Explore calls made by this thread so far: a worker process runs the same test
    /// (or program) again and must find the same call. Per thread, because the test
    /// harness runs other tests, with explorations of their own, on other threads.
    static CALLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// `TAKT_EXPLORE_WORKER=call:k:n` marks a worker process: it runs seeds `k, k+n, …` of
/// exploration call number `call`.
fn worker_role() -> Option<(u64, u64, u64)> {
    let v = std::env::var("TAKT_EXPLORE_WORKER").ok()?;
    let mut it = v.split(':').map(|x| x.parse::<u64>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

/// How to explore.
#[derive(Clone, Debug)]
pub struct Explore {
    first: u64,
    seeds: u64,
    jobs: usize,
    stop_at_first: bool,
    check_determinism: bool,
    quiet: bool,
    processes: bool,
    reports: Option<std::path::PathBuf>,
    report_every_run: bool,
    until_coverage: Option<f64>,
    shard: Option<(u64, u64)>,
    coverage_file: Option<std::path::PathBuf>,
    map_file: Option<std::path::PathBuf>,
    /// Runs the shrinker may spend on the lowest failing seed (0: do not shrink).
    shrink_budget: u32,
    /// Bug probability over time for the lowest failing seed: (moments, branches each).
    odds: Option<(u32, u64)>,
}

/// What an exploration found.
#[derive(Debug)]
pub struct Summary {
    /// Seeds run (twice each when checking determinism).
    pub runs: u64,
    /// (seed, digest) of every passing run, by seed.
    pub passed: Vec<(u64, String)>,
    /// Real seconds the whole exploration took.
    pub seconds: f64,
    /// Worker threads used.
    pub jobs: usize,
    /// The behaviour classes of the runs, by seed.
    pub coverage: Coverage,
}

impl Default for Explore {
    fn default() -> Self {
        Explore::new()
    }
}

impl Explore {
    /// Seeds 0..`TAKT_SEEDS` (default 100), one worker per allowed CPU, stop at the
    /// first failure, determinism checked if `TAKT_CHECK_DETERMINISM=1`.
    pub fn new() -> Explore {
        let seeds = std::env::var("TAKT_SEEDS")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100);
        let check = std::env::var("TAKT_CHECK_DETERMINISM").is_ok_and(|v| v == "1");
        let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
        Explore {
            first: 0,
            seeds,
            jobs,
            stop_at_first: true,
            check_determinism: check,
            quiet: false,
            processes: true,
            reports: std::env::var_os("TAKT_REPORT_DIR").map(Into::into),
            report_every_run: report_always(),
            until_coverage: std::env::var("TAKT_UNTIL_COVERAGE")
                .ok()
                .and_then(|v| v.trim().parse().ok()),
            shard: shard_from_env(),
            coverage_file: std::env::var_os("TAKT_COVERAGE_FILE").map(Into::into),
            map_file: None,
            shrink_budget: match std::env::var("TAKT_SHRINK") {
                Ok(v) if v.trim() == "0" => 0,
                Ok(v) => v.trim().parse().unwrap_or(DEFAULT_SHRINK_BUDGET),
                Err(_) => DEFAULT_SHRINK_BUDGET,
            },
            odds: None,
        }
    }

    /// For the lowest failing seed, also work out the bug probability over time:
    /// branch its run at `moments` times before the failure, `branches` branches each
    /// ([`Explore::failure_odds`]); the failure message and its report show the share
    /// that still fail.
    pub fn with_failure_odds(mut self, moments: u32, branches: u64) -> Explore {
        self.odds = (moments > 0 && branches > 0).then_some((moments, branches));
        self
    }

    /// Worker threads or processes.
    pub(crate) fn job_count(&self) -> usize {
        self.jobs
    }

    /// Shrink the lowest failing seed's run to the fewest decisions that fail the same
    /// way, within `runs` runs (default 200; `TAKT_SHRINK=0` turns shrinking off,
    /// `TAKT_SHRINK=N` sets the budget). The failure then says which decisions remain,
    /// writes the shrunk tape next to its report and prints the command that replays
    /// it. A rerun of one seed (`TAKT_SEED`) or of a tape (`TAKT_TAPE`) does not shrink.
    pub fn shrink(mut self, runs: u32) -> Explore {
        self.shrink_budget = runs;
        self
    }

    /// Stop once the coverage estimate reaches `percent` (0–100), judged over the seeds
    /// in order; the number of seeds is the most it runs (default: `TAKT_UNTIL_COVERAGE`).
    pub fn until_coverage(mut self, percent: f64) -> Explore {
        self.until_coverage = Some(percent);
        self
    }

    /// Run shard `i` of `n` only: the seeds `first + i`, `first + i + n`, … (default:
    /// `TAKT_SHARD=i/n`). A sharded exploration writes its coverage state (see
    /// [`Explore::coverage_file`]; by default `coverage-shard-<i>-of-<n>.json` in the
    /// report directory).
    pub fn shard(mut self, i: u64, n: u64) -> Explore {
        self.shard = (n > 0 && i < n).then_some((i, n));
        self
    }

    /// Write the coverage state (classes, counts, features, failures) to this JSON file
    /// (default: `TAKT_COVERAGE_FILE`).
    pub fn coverage_file(mut self, path: impl Into<std::path::PathBuf>) -> Explore {
        self.coverage_file = Some(path.into());
        self
    }

    /// Write the behaviour map (every run a circle, the coverage curve, the classes) to
    /// this HTML file. A failing exploration also writes one next to its report.
    pub fn report_html(mut self, path: impl Into<std::path::PathBuf>) -> Explore {
        self.map_file = Some(path.into());
        self
    }

    /// The seed at position `i` (of this shard).
    fn seed_at(&self, first: u64, i: u64) -> u64 {
        let (off, step) = self.shard.unwrap_or((0, 1));
        first.wrapping_add(off).wrapping_add(i.wrapping_mul(step))
    }

    /// How many of `count` seeds this shard runs.
    fn shard_count(&self, count: u64) -> u64 {
        match self.shard {
            Some((i, n)) => count.saturating_sub(i).div_ceil(n),
            None => count,
        }
    }

    /// Where visual reports go (default: `TAKT_REPORT_DIR`, else `takt-reports` in the
    /// target directory).
    pub fn report_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Explore {
        self.reports = Some(dir.into());
        self
    }

    /// Write a visual report for every run, not only for the lowest failing seed
    /// (default: `TAKT_REPORT=always`).
    pub fn report_every_run(mut self, on: bool) -> Explore {
        self.report_every_run = on;
        self
    }

    fn reports(&self) -> std::path::PathBuf {
        self.reports.clone().unwrap_or_else(default_report_dir)
    }

    /// The first seed (default 0).
    pub fn first_seed(mut self, s: u64) -> Explore {
        self.first = s;
        self
    }

    /// How many seeds (overrides `TAKT_SEEDS`).
    pub fn seeds(mut self, n: u64) -> Explore {
        self.seeds = n;
        self
    }

    /// Worker threads (default: one per allowed CPU).
    pub fn jobs(mut self, n: usize) -> Explore {
        self.jobs = n.max(1);
        self
    }

    /// Stop at the first failure (default) or run every seed and report the lowest failing.
    pub fn stop_at_first(mut self, on: bool) -> Explore {
        self.stop_at_first = on;
        self
    }

    /// Run every seed twice and fail on a digest mismatch.
    pub fn check_determinism(mut self, on: bool) -> Explore {
        self.check_determinism = on;
        self
    }

    /// Run the workers as separate processes (default): the same test (or program) is
    /// started again once per CPU, each running its share of the seeds on its own CPU.
    /// Tracers in one process share its signal lock, which every ptrace stop takes, so
    /// threads scale worse (≈1.6x on two CPUs here, against 2.0x for processes). With
    /// `false`, workers are threads of this process.
    pub fn processes(mut self, on: bool) -> Explore {
        self.processes = on;
        self
    }

    /// Do not print a line per run.
    pub fn quiet(mut self, on: bool) -> Explore {
        self.quiet = on;
        self
    }

    /// Runs `build` on a fresh scenario per seed. `Ok` if every run passed; otherwise the
    /// failure of the lowest failing seed, with its rerun command.
    pub fn run(&self, build: impl Fn(&Scenario) + Sync) -> Result<Summary, Error> {
        let mut coverage = Coverage::new();
        let r = self.explore(&build, &mut coverage);
        if worker_role().is_some() {
            return r;
        }
        let r = match r {
            Err(Error::Failed(mut f)) => {
                let rerun = std::env::var_os("TAKT_SEED").is_some()
                    || std::env::var_os("TAKT_TAPE").is_some();
                if self.shrink_budget > 0 && !rerun && !f.reason.starts_with("nondeterminism") {
                    match crate::shrink::shrink(&build, &f, self.shrink_budget) {
                        Ok(mut s) => {
                            let dir = self.reports();
                            let file = dir.join(format!("shrunk-seed-{}.tape.json", f.report.seed));
                            if std::fs::create_dir_all(&dir).is_ok()
                                && std::fs::write(&file, s.tape.to_json()).is_ok()
                            {
                                let test = std::thread::current().name().map(str::to_string);
                                s.rerun = crate::tape_rerun_command(
                                    &file.to_string_lossy(),
                                    test.as_deref(),
                                );
                                s.file = Some(file);
                            }
                            f.shrunk = Some(Box::new(s));
                        }
                        Err(e) => {
                            if !self.quiet {
                                println!("takt: shrinking failed: {e}");
                            }
                        }
                    }
                }
                if let (Some((moments, n)), false) = (self.odds, rerun) {
                    match self.failure_odds(f.report.seed, moments, n, &build) {
                        Ok(o) => f.odds = Some(o),
                        Err(e) => {
                            if !self.quiet {
                                println!("takt: branching failed: {e}");
                            }
                        }
                    }
                }
                f.report_file = write_failure_report(&f, &build, &self.reports());
                if let (Some(page), Some(run)) = (&f.report_file, coverage.runs.last_mut()) {
                    run.report = Some(page.to_string_lossy().into_owned());
                }
                if let Some(page) = &f.report_file {
                    let map = page.with_extension("map.html");
                    let _ = std::fs::write(
                        &map,
                        crate::coverage::map::html(&coverage, "takt behaviour map"),
                    );
                }
                Err(Error::Failed(f))
            }
            other => other,
        };
        if !self.quiet && !coverage.runs.is_empty() {
            println!("{}", coverage.estimate());
            for p in coverage.uncovered() {
                println!("property not yet covered: {}", p.describe());
            }
            let g = coverage.group_estimate();
            println!(
                "groups of similar behaviour: {} (coverage {:.1}%, Chao1 {:.1})",
                g.classes, g.coverage, g.chao1
            );
        }
        let file = self.coverage_file.clone().or_else(|| {
            self.shard.map(|(i, n)| {
                self.reports()
                    .join(format!("coverage-shard-{i}-of-{n}.json"))
            })
        });
        if let Some(path) = file {
            if let Some(d) = path.parent() {
                let _ = std::fs::create_dir_all(d);
            }
            std::fs::write(&path, coverage.to_json())
                .map_err(|e| Error::BadInput(format!("cannot write {}: {e}", path.display())))?;
        }
        if let Some(path) = &self.map_file {
            std::fs::write(
                path,
                crate::coverage::map::html(&coverage, "takt behaviour map"),
            )
            .map_err(|e| Error::BadInput(format!("cannot write {}: {e}", path.display())))?;
        }
        r.map(|mut s| {
            s.coverage = coverage;
            s
        })
    }

    fn explore(
        &self,
        build: impl Fn(&Scenario) + Sync,
        coverage: &mut Coverage,
    ) -> Result<Summary, Error> {
        // TAKT_TAPE replays one tape (its seed's run, decided by the tape) and TAKT_SEED
        // one seed, instead of the exploration.
        let one_seed = match crate::tape_from_env()? {
            Some(t) => Some(t.seed),
            None => crate::seed_from_env()?,
        };
        let (first, count) = match one_seed {
            Some(s) => (s, 1),
            None => (self.first, self.shard_count(self.seeds)),
        };
        let this = match one_seed {
            Some(_) => Explore {
                shard: None,
                ..self.clone()
            },
            None => self.clone(),
        };
        let this = &this;
        let call = CALLS.with(|c| {
            let n = c.get();
            c.set(n + 1);
            n
        });
        let test = std::thread::current().name().map(str::to_string);
        match worker_role() {
            // In a worker process: run this call's share and leave, or (other calls of
            // the same test) run in this process without spawning.
            Some((c, k, n)) if c == call => this.worker(first, count, k, n, &build),
            Some(_) => {
                return this
                    .clone()
                    .processes(false)
                    .jobs(1)
                    .quiet(true)
                    .run_threads(first, count, test, build, coverage)
            }
            None if this.processes && this.jobs > 1 && count > 1 => {
                // If the workers cannot be started, threads do the work instead.
                if let Some(r) =
                    this.run_processes(call, first, count, test.as_deref(), &build, coverage)
                {
                    return r;
                }
            }
            None => {}
        }
        this.run_threads(first, count, test, build, coverage)
    }

    fn run_threads(
        &self,
        first: u64,
        count: u64,
        test: Option<String>,
        build: impl Fn(&Scenario) + Sync,
        coverage: &mut Coverage,
    ) -> Result<Summary, Error> {
        let defaults = crate::current_defaults();
        let next = AtomicU64::new(0);
        let limit = AtomicU64::new(count);
        let failures: Mutex<Vec<(u64, Box<Failure>)>> = Mutex::new(Vec::new());
        let errors: Mutex<Vec<Error>> = Mutex::new(Vec::new());
        let passed: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());
        let tally = Mutex::new(Tally::new(self.until_coverage, self.quiet));
        let t0 = Instant::now();
        let jobs = self.jobs.min(count.max(1) as usize);
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(|| {
                    crate::install_defaults(defaults.clone());
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= limit.load(Ordering::SeqCst) {
                            break;
                        }
                        let seed = self.seed_at(first, i);
                        let started = Instant::now();
                        let outcome = crate::cleanup::deferred(|| self.one(seed, &build));
                        let secs = started.elapsed().as_secs_f64();
                        let counted = match &outcome {
                            Ok(run) => Some((
                                run.class.clone(),
                                run.features.clone(),
                                run.properties.clone(),
                                None,
                            )),
                            Err(Error::Failed(f)) => {
                                let (c, feats) = class_of(&f.report);
                                let props = f.report.properties.clone();
                                Some((c, feats, props, Some(f.reason.clone())))
                            }
                            Err(_) => None,
                        };
                        if let Some((c, feats, props, why)) = counted {
                            let mut t = tally.lock().expect("no panic holds it");
                            if let Some(stop) = t.add(i, seed, c, feats, props, why) {
                                limit.fetch_min(stop, Ordering::SeqCst);
                            }
                        }
                        match outcome {
                            Ok(RunInfo { digest, .. }) => {
                                if !self.quiet {
                                    println!(
                                        "seed {seed}: ok  digest {}  {secs:.2} s",
                                        &digest[..16]
                                    );
                                }
                                passed
                                    .lock()
                                    .expect("no panic holds it")
                                    .push((seed, digest));
                            }
                            Err(Error::Failed(mut f)) => {
                                if !self.quiet {
                                    let d = &f.report.digest[..16];
                                    println!(
                                        "seed {seed}: FAILED  digest {d}  {}  {secs:.2} s",
                                        f.reason
                                    );
                                }
                                f.rerun = match std::env::var("TAKT_TAPE") {
                                    Ok(file) => crate::tape_rerun_command(&file, test.as_deref()),
                                    Err(_) => crate::rerun_command(seed, test.as_deref()),
                                };
                                if self.stop_at_first {
                                    limit.fetch_min(i, Ordering::SeqCst);
                                }
                                failures.lock().expect("no panic holds it").push((seed, f));
                            }
                            Err(e) => {
                                limit.store(0, Ordering::SeqCst);
                                errors.lock().expect("no panic holds it").push(e);
                            }
                        }
                    }
                });
            }
        });
        if let Some(e) = errors
            .into_inner()
            .expect("workers are done")
            .into_iter()
            .next()
        {
            return Err(e);
        }
        let mut failures = failures.into_inner().expect("workers are done");
        failures.sort_by_key(|f| f.0);
        let mut passed = passed.into_inner().expect("workers are done");
        passed.sort();
        // Only the seeds before a coverage stop count.
        let tally = tally.into_inner().expect("workers are done");
        if let Some(stop) = tally.stop {
            passed.retain(|p| self.position_of(first, p.0) < stop);
            failures.retain(|f| self.position_of(first, f.0) < stop);
        }
        *coverage = tally.finish();
        let runs =
            (passed.len() + failures.len()) as u64 * if self.check_determinism { 2 } else { 1 };
        crate::cleanup::drain();
        let seconds = t0.elapsed().as_secs_f64();
        if !self.quiet {
            println!(
                "explored {} seeds in {seconds:.2} s on {jobs} CPU(s): {} failed",
                passed.len() + failures.len(),
                failures.len()
            );
        }
        match failures.into_iter().next() {
            Some((_, f)) => Err(Error::Failed(f)),
            None => Ok(Summary {
                runs,
                passed,
                seconds,
                jobs,
                coverage: Coverage::new(),
            }),
        }
    }

    /// Worker process: run seeds `first + k, first + k + n, …`, print one machine-readable
    /// line each, and exit (the code after this call belongs to the parent).
    fn worker(&self, first: u64, count: u64, k: u64, n: u64, build: &impl Fn(&Scenario)) -> ! {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let mut i = k;
        while i < count {
            let seed = self.seed_at(first, i);
            let t0 = Instant::now();
            let line = match crate::cleanup::deferred(|| self.one(seed, build)) {
                Ok(run) => format!(
                    "ok {} {:.3} {} {} {}",
                    run.digest,
                    t0.elapsed().as_secs_f64(),
                    run.class,
                    hex_list(&run.features),
                    props_hex(&run.properties)
                ),
                Err(Error::Failed(f)) => {
                    let (class, features) = class_of(&f.report);
                    format!(
                        "failed {} {:.3} {class} {} {} {}",
                        f.report.digest,
                        t0.elapsed().as_secs_f64(),
                        hex_list(&features),
                        props_hex(&f.report.properties),
                        f.reason.replace('\n', " ")
                    )
                }
                Err(e) => format!("error - 0 - - - {}", e.to_string().replace('\n', " ")),
            };
            let failed = !line.starts_with("ok ");
            let _ = writeln!(out, "takt-explore-result {seed} {line}");
            let _ = out.flush();
            if failed && self.stop_at_first {
                break;
            }
            i += n;
        }
        crate::cleanup::remove_live();
        std::process::exit(0)
    }

    /// Runs the seeds in worker processes (this test or program started again, once per
    /// CPU). `None` if the workers could not be started.
    fn run_processes(
        &self,
        call: u64,
        first: u64,
        count: u64,
        test: Option<&str>,
        build: &(impl Fn(&Scenario) + Sync),
        coverage: &mut Coverage,
    ) -> Option<Result<Summary, Error>> {
        use std::io::BufRead;
        let exe = std::env::current_exe().ok()?;
        let args: Vec<String> = match test {
            Some(t) if t != "main" => vec![
                "--exact".into(),
                t.into(),
                "--nocapture".into(),
                "--test-threads=1".into(),
            ],
            _ => std::env::args().skip(1).collect(),
        };
        let cpus = takt_core::sys::allowed_cpus();
        let n = self.jobs.min(cpus.len()).min(count as usize).max(1) as u64;
        let t0 = Instant::now();
        let mut children = Vec::new();
        for k in 0..n {
            let child = std::process::Command::new(&exe)
                .args(&args)
                .env("TAKT_EXPLORE_WORKER", format!("{call}:{k}:{n}"))
                .env("TAKT_CPU", cpus[k as usize % cpus.len()].to_string())
                .env("TAKT_SEEDS", count.to_string())
                .env_remove("TAKT_SEED")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .ok()?;
            children.push(child);
        }
        let results: Mutex<Vec<(u64, bool, String, String)>> = Mutex::new(Vec::new());
        let tally = Mutex::new(Tally::new(self.until_coverage, self.quiet));
        let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
        std::thread::scope(|s| {
            for child in children.iter_mut() {
                let stdout = child.stdout.take().expect("piped");
                let results = &results;
                let (tally, pids) = (&tally, &pids);
                s.spawn(move || {
                    for line in std::io::BufReader::new(stdout)
                        .lines()
                        .map_while(Result::ok)
                    {
                        // The harness may print on the same line first ("test x ... ").
                        let tag = "takt-explore-result ";
                        let Some(rest) = line.find(tag).map(|at| &line[at + tag.len()..]) else {
                            continue;
                        };
                        let mut f = rest.splitn(8, ' ');
                        let (Some(seed), Some(kind), Some(digest), Some(secs)) =
                            (f.next(), f.next(), f.next(), f.next())
                        else {
                            continue;
                        };
                        let Ok(seed) = seed.parse::<u64>() else {
                            continue;
                        };
                        let (class, features) = (f.next().unwrap_or("-"), f.next().unwrap_or(""));
                        let props = props_from_hex(f.next().unwrap_or("-"));
                        let reason = f.next().unwrap_or("").to_string();
                        if kind != "error" {
                            let i = self.position_of(first, seed);
                            let why = (kind != "ok").then(|| reason.clone());
                            let mut t = tally.lock().expect("no panic holds it");
                            if let Some(stop) =
                                t.add(i, seed, class.into(), parse_hex_list(features), props, why)
                            {
                                // Enough coverage: the workers may stop.
                                for &pid in pids {
                                    let _ = takt_core::sys::kill(pid as i32, libc::SIGKILL);
                                }
                                let _ = stop;
                            }
                        }
                        if !self.quiet {
                            match kind {
                                "ok" => println!(
                                    "seed {seed}: ok  digest {}  {secs} s",
                                    &digest[..16.min(digest.len())]
                                ),
                                _ => println!(
                                    "seed {seed}: FAILED  digest {}  {reason}  {secs} s",
                                    &digest[..16.min(digest.len())]
                                ),
                            }
                        }
                        results.lock().expect("no panic holds it").push((
                            seed,
                            kind == "ok",
                            digest.to_string(),
                            reason,
                        ));
                    }
                });
            }
        });
        for mut c in children {
            let _ = c.wait();
        }
        let mut results = results.into_inner().expect("readers are done");
        results.sort();
        let tally = tally.into_inner().expect("readers are done");
        let stopped = tally.stop;
        if let Some(stop) = stopped {
            results.retain(|r| self.position_of(first, r.0) < stop);
        }
        *coverage = tally.finish();
        let ran: u64 = results.len() as u64;
        let failed: Vec<&(u64, bool, String, String)> = results.iter().filter(|r| !r.1).collect();
        if ran == 0 || (failed.is_empty() && ran < count && stopped.is_none()) {
            return None; // the workers did not run (a harness we cannot re-enter): threads
        }
        let seconds = t0.elapsed().as_secs_f64();
        if !self.quiet {
            println!(
                "explored {ran} seeds in {seconds:.2} s in {n} processes: {} failed",
                failed.len()
            );
        }
        let Some(lowest) = failed.first() else {
            let passed = results.iter().map(|r| (r.0, r.2.clone())).collect();
            let runs = ran * if self.check_determinism { 2 } else { 1 };
            return Some(Ok(Summary {
                runs,
                passed,
                seconds,
                jobs: n as usize,
                coverage: Coverage::new(),
            }));
        };
        // Rebuild the full failure here: the seed replays to the same run.
        let seed = lowest.0;
        Some(match self.one(seed, build) {
            Err(Error::Failed(mut f)) => {
                if f.report.digest != lowest.2 && lowest.2 != "-" {
                    f.reason = format!(
                        "nondeterminism: seed {seed} failed in a worker with digest {} and here with {} ({})",
                        lowest.2, f.report.digest, f.reason
                    );
                }
                f.rerun = crate::rerun_command(seed, test);
                Err(Error::Failed(f))
            }
            Err(e) => Err(e),
            Ok(run) => Err(Error::Nondeterminism(format!(
                "seed {seed} failed in a worker ({}) but passed here with digest {}",
                lowest.3, run.digest
            ))),
        })
    }

    /// The position of `seed` in this shard's sequence.
    fn position_of(&self, first: u64, seed: u64) -> u64 {
        let (off, step) = self.shard.unwrap_or((0, 1));
        seed.wrapping_sub(first).wrapping_sub(off) / step
    }

    /// One seed (twice when checking determinism): its digest and class, or the failure.
    fn one(&self, seed: u64, build: &impl Fn(&Scenario)) -> Result<RunInfo, Error> {
        let tape = crate::tape_from_env()?;
        let run = || {
            let s = Scenario::new();
            s.random_seed(seed);
            build(&s);
            if let Some(t) = &tape {
                s.replay_tape(t.clone());
            }
            if self.report_every_run {
                s.keep_full_trace(true);
                let r = s.run_seed(seed);
                let path = self.reports().join(format!("seed-{seed}.html"));
                let _ = std::fs::create_dir_all(self.reports());
                let _ = match &r {
                    Ok(r) => crate::ReportExt::write_html(r, &path),
                    Err(Error::Failed(f)) => crate::ReportExt::write_html(&**f, &path),
                    Err(_) => Ok(()),
                };
                return r;
            }
            s.run_seed(seed)
        };
        let first = run()?;
        if self.check_determinism {
            let second = run()?;
            if second.digest != first.digest {
                return Err(Error::Failed(Box::new(Failure {
                    reason: format!(
                        "nondeterminism: the same seed gave digests {} and {}",
                        first.digest, second.digest
                    ),
                    rerun: String::new(),
                    report: second,
                    report_file: None,
                    shrunk: None,
                    odds: None,
                })));
            }
        }
        let (class, features) = class_of(&first);
        Ok(RunInfo {
            digest: first.digest,
            class,
            features,
            properties: first.properties,
        })
    }
}

/// Runs the shrinker spends by default.
pub const DEFAULT_SHRINK_BUDGET: u32 = 200;

/// A passing run: its digest, behaviour class and guest properties.
struct RunInfo {
    digest: String,
    class: String,
    features: Vec<u64>,
    properties: Vec<takt_core::report::Property>,
}

/// A result waiting for the seeds before it: seed, class, features, properties, failure.
type Pending = (
    u64,
    String,
    Vec<u64>,
    Vec<takt_core::report::Property>,
    Option<String>,
);

/// Properties as hex of their JSON (one field of a worker's result line).
fn props_hex(p: &[takt_core::report::Property]) -> String {
    if p.is_empty() {
        return "-".into();
    }
    let json = serde_json::to_string(p).expect("serializing properties cannot fail");
    json.bytes().map(|b| format!("{b:02x}")).collect()
}

fn props_from_hex(s: &str) -> Vec<takt_core::report::Property> {
    if s == "-" || s.len() % 2 != 0 {
        return Vec::new();
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect();
    bytes
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// A report's class and features (`-` when it has no signature); the guest properties
/// it satisfied count as features too.
fn class_of(r: &crate::Report) -> (String, Vec<u64>) {
    let (class, mut features) = match &r.signature {
        Some(s) => (s.class.clone(), s.features.clone()),
        None => ("-".into(), Vec::new()),
    };
    for p in r.properties.iter().filter(|p| p.passed) {
        let text = format!("property {} {}", p.message, p.location);
        features.push(takt_core::rng::fnv1a(
            takt_core::rng::FNV_START,
            text.bytes(),
        ));
    }
    features.sort_unstable();
    features.dedup();
    (class, features)
}

fn hex_list(v: &[u64]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.iter()
        .map(|x| format!("{x:x}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_hex_list(s: &str) -> Vec<u64> {
    s.split(',')
        .filter_map(|x| u64::from_str_radix(x, 16).ok())
        .collect()
}

/// `TAKT_SHARD=i/n`.
fn shard_from_env() -> Option<(u64, u64)> {
    let v = std::env::var("TAKT_SHARD").ok()?;
    let (i, n) = v.split_once('/')?;
    let (i, n) = (i.trim().parse().ok()?, n.trim().parse().ok()?);
    (n > 0 && i < n).then_some((i, n))
}

/// Results arriving in any order, counted in seed order: coverage after each prefix,
/// the stop once the target is reached, and a progress line.
struct Tally {
    pending: std::collections::BTreeMap<u64, Pending>,
    next: u64,
    coverage: Coverage,
    target: Option<f64>,
    stop: Option<u64>,
    quiet: bool,
    started: Instant,
    tty: bool,
}

impl Tally {
    fn new(target: Option<f64>, quiet: bool) -> Tally {
        use std::io::IsTerminal;
        Tally {
            pending: Default::default(),
            next: 0,
            coverage: Coverage::new(),
            target,
            stop: None,
            quiet,
            started: Instant::now(),
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// The run at position `i`; returns the position to stop at once the target is met.
    fn add(
        &mut self,
        i: u64,
        seed: u64,
        class: String,
        features: Vec<u64>,
        props: Vec<takt_core::report::Property>,
        failure: Option<String>,
    ) -> Option<u64> {
        if self.stop.is_some() {
            return self.stop;
        }
        self.pending
            .insert(i, (seed, class, features, props, failure));
        while let Some((seed, class, features, props, failure)) = self.pending.remove(&self.next) {
            self.coverage
                .add(seed, &class, &features, failure.as_deref());
            self.coverage.add_properties(&props);
            self.next += 1;
            let est = self.coverage.estimate();
            self.progress(&est);
            if self
                .target
                .is_some_and(|t| !est.insufficient() && est.coverage >= t)
            {
                self.stop = Some(self.next);
                break;
            }
        }
        self.stop
    }

    fn progress(&self, est: &crate::coverage::Estimate) {
        if self.quiet {
            return;
        }
        let rate = est.n as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        let line = format!(
            "runs {}  failures {}  classes {}  coverage {:.1}%  {rate:.1} runs/s",
            est.n,
            self.coverage.failures.len(),
            est.classes,
            est.coverage
        );
        if self.tty {
            eprint!("\r{line}   ");
        } else if est.n.is_power_of_two() || est.n % 100 == 0 {
            eprintln!("{line}");
        }
    }

    fn finish(self) -> Coverage {
        if self.tty && !self.quiet {
            eprintln!();
        }
        self.coverage
    }
}

/// `TAKT_REPORT=always`: a report for every run, not only the lowest failing seed's.
fn report_always() -> bool {
    std::env::var("TAKT_REPORT").is_ok_and(|v| v == "always")
}

/// Where reports go by default: `takt-reports` in the target directory of the running
/// test or program (found from its path), else in the temporary directory.
fn default_report_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            exe.ancestors()
                .find(|p| p.file_name().is_some_and(|n| n == "target"))
                .map(std::path::Path::to_path_buf)
        });
    target
        .unwrap_or_else(std::env::temp_dir)
        .join("takt-reports")
}

/// Replays the failure's seed with its full trace and writes its visual report; the
/// path, or `None` if it could not be written (or the replay differed).
fn write_failure_report(
    f: &Failure,
    build: &impl Fn(&Scenario),
    dir: &std::path::Path,
) -> Option<std::path::PathBuf> {
    let seed = f.report.seed;
    let s = Scenario::new();
    s.random_seed(seed);
    build(&s);
    s.keep_full_trace(true);
    if let Ok(Some(t)) = crate::tape_from_env() {
        s.replay_tape(t);
    }
    let Err(Error::Failed(mut full)) = s.run_seed(seed) else {
        return None;
    };
    if full.report.digest != f.report.digest {
        return None;
    }
    full.rerun = f.rerun.clone();
    full.shrunk = f.shrunk.clone();
    full.odds = f.odds.clone();
    std::fs::create_dir_all(dir).ok()?;
    let path = dir.join(format!("failed-seed-{seed}.html"));
    crate::ReportExt::write_html(&*full, &path).ok()?;
    Some(path)
}
