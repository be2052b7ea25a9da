//! Exploration: run a scenario-building closure over many seeds, spread over the CPUs
//! (each scenario pinned to its own), one line printed per run.
//!
//! `TAKT_SEEDS=N` sets how many seeds (default 100); `TAKT_SEED=S` runs only seed `S`
//! (the rerun command of a failure); `TAKT_CHECK_DETERMINISM=1` runs every seed twice and
//! fails on a digest mismatch. With `stop_at_first`, no seed above a failing one is
//! started, and the lowest failing seed is reported, so the answer does not depend on
//! which worker was faster.

use crate::{Error, Failure, Scenario};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// How to explore.
#[derive(Clone, Debug)]
pub struct Explore {
    first: u64,
    seeds: u64,
    jobs: usize,
    stop_at_first: bool,
    check_determinism: bool,
    quiet: bool,
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
        }
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

    /// Do not print a line per run.
    pub fn quiet(mut self, on: bool) -> Explore {
        self.quiet = on;
        self
    }

    /// Runs `build` on a fresh scenario per seed. `Ok` if every run passed; otherwise the
    /// failure of the lowest failing seed, with its rerun command.
    pub fn run(&self, build: impl Fn(&Scenario) + Sync) -> Result<Summary, Error> {
        let (first, count) = match crate::seed_from_env()? {
            Some(s) => (s, 1),
            None => (self.first, self.seeds),
        };
        let test = std::thread::current().name().map(str::to_string);
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

    /// One seed (twice when checking determinism): its digest, or the failure.
    fn one(&self, seed: u64, build: &impl Fn(&Scenario)) -> Result<String, Error> {
        let run = || {
            let s = Scenario::new();
            s.set_seed(seed);
            build(&s);
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
                })));
            }
        }
        Ok(first.digest)
    }
}
