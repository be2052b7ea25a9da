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

use crate::{Error, Failure, Scenario};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Explore calls made by this process so far (a worker process runs the same code
/// again and must find the same call).
static CALLS: AtomicU64 = AtomicU64::new(0);

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
        match self.explore(&build) {
            Err(Error::Failed(mut f)) if worker_role().is_none() => {
                f.report_file = write_failure_report(&f, &build, &self.reports());
                Err(Error::Failed(f))
            }
            other => other,
        }
    }

    fn explore(&self, build: impl Fn(&Scenario) + Sync) -> Result<Summary, Error> {
        let (first, count) = match crate::seed_from_env()? {
            Some(s) => (s, 1),
            None => (self.first, self.seeds),
        };
        let call = CALLS.fetch_add(1, Ordering::SeqCst);
        let test = std::thread::current().name().map(str::to_string);
        match worker_role() {
            // In a worker process: run this call's share and leave, or (other calls of
            // the same test) run in this process without spawning.
            Some((c, k, n)) if c == call => self.worker(first, count, k, n, &build),
            Some(_) => {
                return self
                    .clone()
                    .processes(false)
                    .jobs(1)
                    .quiet(true)
                    .run_threads(first, count, test, build)
            }
            None if self.processes && self.jobs > 1 && count > 1 => {
                // If the workers cannot be started, threads do the work instead.
                if let Some(r) = self.run_processes(call, count, test.as_deref(), &build) {
                    return r;
                }
            }
            None => {}
        }
        self.run_threads(first, count, test, build)
    }

    fn run_threads(
        &self,
        first: u64,
        count: u64,
        test: Option<String>,
        build: impl Fn(&Scenario) + Sync,
    ) -> Result<Summary, Error> {
        let defaults = crate::current_defaults();
        let next = AtomicU64::new(0);
        let limit = AtomicU64::new(count);
        let failures: Mutex<Vec<(u64, Box<Failure>)>> = Mutex::new(Vec::new());
        let errors: Mutex<Vec<Error>> = Mutex::new(Vec::new());
        let passed: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());
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
                        let seed = first.wrapping_add(i);
                        let started = Instant::now();
                        let outcome = self.one(seed, &build);
                        let secs = started.elapsed().as_secs_f64();
                        match outcome {
                            Ok(digest) => {
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
                                f.rerun = crate::rerun_command(seed, test.as_deref());
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
        let runs =
            (passed.len() + failures.len()) as u64 * if self.check_determinism { 2 } else { 1 };
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
            let seed = first.wrapping_add(i);
            let t0 = Instant::now();
            let line = match self.one(seed, build) {
                Ok(digest) => format!("ok {digest} {:.3}", t0.elapsed().as_secs_f64()),
                Err(Error::Failed(f)) => {
                    format!(
                        "failed {} {:.3} {}",
                        f.report.digest,
                        t0.elapsed().as_secs_f64(),
                        f.reason.replace('\n', " ")
                    )
                }
                Err(e) => format!("error - 0 {}", e.to_string().replace('\n', " ")),
            };
            let failed = !line.starts_with("ok ");
            let _ = writeln!(out, "takt-explore-result {seed} {line}");
            let _ = out.flush();
            if failed && self.stop_at_first {
                break;
            }
            i += n;
        }
        std::process::exit(0)
    }

    /// Runs the seeds in worker processes (this test or program started again, once per
    /// CPU). `None` if the workers could not be started.
    fn run_processes(
        &self,
        call: u64,
        count: u64,
        test: Option<&str>,
        build: &(impl Fn(&Scenario) + Sync),
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
        std::thread::scope(|s| {
            for child in children.iter_mut() {
                let stdout = child.stdout.take().expect("piped");
                let results = &results;
                s.spawn(move || {
                    for line in std::io::BufReader::new(stdout)
                        .lines()
                        .map_while(Result::ok)
                    {
                        let Some(rest) = line.strip_prefix("takt-explore-result ") else {
                            continue;
                        };
                        let mut f = rest.splitn(5, ' ');
                        let (Some(seed), Some(kind), Some(digest), Some(secs)) =
                            (f.next(), f.next(), f.next(), f.next())
                        else {
                            continue;
                        };
                        let Ok(seed) = seed.parse::<u64>() else {
                            continue;
                        };
                        let reason = f.next().unwrap_or("").to_string();
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
        let ran: u64 = results.len() as u64;
        let failed: Vec<&(u64, bool, String, String)> = results.iter().filter(|r| !r.1).collect();
        if ran == 0 || (failed.is_empty() && ran < count) {
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
            Ok(digest) => Err(Error::BadInput(format!(
                "nondeterminism: seed {seed} failed in a worker ({}) but passed here with digest {digest}",
                lowest.3
            ))),
        })
    }

    /// One seed (twice when checking determinism): its digest, or the failure.
    fn one(&self, seed: u64, build: &impl Fn(&Scenario)) -> Result<String, Error> {
        let run = || {
            let s = Scenario::new();
            s.set_seed(seed);
            build(&s);
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
                })));
            }
        }
        Ok(first.digest)
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
    s.set_seed(seed);
    build(&s);
    s.keep_full_trace(true);
    let Err(Error::Failed(mut full)) = s.run_seed(seed) else {
        return None;
    };
    if full.report.digest != f.report.digest {
        return None;
    }
    full.rerun = f.rerun.clone();
    std::fs::create_dir_all(dir).ok()?;
    let path = dir.join(format!("failed-seed-{seed}.html"));
    crate::ReportExt::write_html(&*full, &path).ok()?;
    Some(path)
}
