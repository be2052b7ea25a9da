//! Branching: many futures of one run from one moment (the multiverse). A branch runs
//! its seed up to the branch point, then draws every decision from a suffix seed of its
//! own. takt re-executes the prefix for each branch (it is deterministic, so every branch
//! shares it exactly; each branch's report carries the prefix digest to show it) rather
//! than copying a live process tree.
//!
//! "Bug probability over time" branches a failing run at moments before its failure and
//! says, for each, the share of branches that still fail the same way: the moment the
//! share reaches 100 % is when the failure became inevitable.

use crate::{shrink::failure_kind, BranchAt, Error, Explore, Report, Scenario};
use std::time::Duration;
use takt_core::tape::BranchPoint;

/// One branch of a run.
#[derive(Debug, Clone)]
pub struct BranchRun {
    /// Its suffix seed.
    pub suffix_seed: u64,
    /// Where it left the prefix (`None`: the run ended before the branch point).
    pub point: Option<BranchPoint>,
    /// Its trace digest.
    pub digest: String,
    /// What failed, if it failed.
    pub failure: Option<String>,
    /// What makes two failures the same (kind and process), if it failed.
    pub failure_kind: Option<String>,
}

/// The share of branches that still fail, at moments before a failure.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureOdds {
    /// The failing seed.
    pub seed: u64,
    /// When it failed (virtual time).
    pub failed_at: Duration,
    /// Per moment: (virtual time, branches that failed the same way, branches run).
    pub points: Vec<(Duration, u32, u32)>,
}

/// The suffix seed of branch `i` of `seed`.
pub fn suffix_seed(seed: u64, i: u64) -> u64 {
    rand::RngCore::next_u64(&mut takt_core::rng::stream(seed, &format!("branch {i}")))
}

fn branch_run(report: Report, failure: Option<(String, String)>, suffix: u64) -> BranchRun {
    BranchRun {
        suffix_seed: suffix,
        point: report.branch.clone(),
        digest: report.digest,
        failure_kind: failure.as_ref().map(|f| f.1.clone()),
        failure: failure.map(|f| f.0),
    }
}

/// Runs branch `suffix` of `seed` at `at`.
fn one(
    build: &(impl Fn(&Scenario) + Sync),
    seed: u64,
    at: BranchAt,
    suffix: u64,
) -> Result<BranchRun, Error> {
    let s = Scenario::new();
    s.random_seed(seed);
    build(&s);
    s.branch_at(at, suffix);
    match s.run_seed(seed) {
        Ok(r) => Ok(branch_run(r, None, suffix)),
        Err(Error::Failed(f)) => {
            let kind = failure_kind(&f.report, &f.reason);
            Ok(branch_run(f.report, Some((f.reason, kind)), suffix))
        }
        Err(e) => Err(e),
    }
}

impl Explore {
    /// Runs `seed` up to `at`, then `n` branches on, each under its own suffix seed
    /// ([`suffix_seed`]), on the exploration's worker threads. Every branch shares the
    /// prefix (the same `point.prefix_digest`) and goes its own way after it.
    pub fn branch_from(
        &self,
        seed: u64,
        at: BranchAt,
        n: u64,
        build: impl Fn(&Scenario) + Sync,
    ) -> Result<Vec<BranchRun>, Error> {
        let jobs = self
            .job_count()
            .clamp(1, usize::try_from(n).unwrap_or(1).max(1));
        let next = std::sync::atomic::AtomicU64::new(0);
        let results = std::sync::Mutex::new(Vec::new());
        // The calling thread's defaults (`Scenario::set_fault_rate`, …) hold in every
        // worker thread, as in exploration.
        let defaults = crate::current_defaults();
        std::thread::scope(|scope| {
            for _ in 0..jobs {
                scope.spawn(|| {
                    crate::install_defaults(defaults.clone());
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        let r = one(&build, seed, at, suffix_seed(seed, i));
                        results
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((i, r));
                    }
                });
            }
        });
        let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    /// Bug probability over time: branches the failing run of `seed` at `moments`
    /// evenly spaced virtual times up to just before its failure (`failed_at · k /
    /// moments − 1 ns`, k = 1…moments), `n` branches each, and counts the branches that
    /// fail the same way (same kind, same process).
    pub fn failure_odds(
        &self,
        seed: u64,
        moments: u32,
        n: u64,
        build: impl Fn(&Scenario) + Sync,
    ) -> Result<FailureOdds, Error> {
        let s = Scenario::new();
        s.random_seed(seed);
        build(&s);
        let f = match s.run_seed(seed) {
            Err(Error::Failed(f)) => f,
            Ok(_) => return Err(Error::BadInput(format!("seed {seed} does not fail"))),
            Err(e) => return Err(e),
        };
        let want = failure_kind(&f.report, &f.reason);
        let failed_at = crate::report_html::failure_time(&f.report);
        let failed_at = Duration::from_nanos(failed_at);
        let mut points = Vec::new();
        for k in 1..=moments {
            // Evenly spaced, the last one just before the failure (1 ns before it).
            let t = failed_at
                .mul_f64(f64::from(k) / f64::from(moments.max(1)))
                .saturating_sub(Duration::from_nanos(1));
            let runs = self.branch_from(seed, BranchAt::Time(t), n, &build)?;
            let failed = runs
                .iter()
                .filter(|r| r.failure_kind.as_deref() == Some(want.as_str()))
                .count();
            points.push((
                t,
                u32::try_from(failed).unwrap_or(u32::MAX),
                u32::try_from(runs.len()).unwrap_or(u32::MAX),
            ));
        }
        Ok(FailureOdds {
            seed,
            failed_at,
            points,
        })
    }
}

impl FailureOdds {
    /// The lines of a table: `at 0.001200 s: 7 of 10 branches fail`.
    pub fn table(&self) -> String {
        let mut s = format!(
            "bug probability over time (seed {}, failed at {:.6} s):",
            self.seed,
            self.failed_at.as_secs_f64()
        );
        for (t, failed, total) in &self.points {
            s.push_str(&format!(
                "\n  branched at {:.6} s: {failed} of {total} branches fail the same way",
                t.as_secs_f64()
            ));
        }
        s
    }

    /// A small SVG plot: one bar per moment, its height the share of failing branches.
    pub fn svg(&self) -> String {
        let (w, h, pad) = (320.0f64, 120.0f64, 24.0f64);
        let n = self.points.len().max(1) as f64;
        let bw = (w - 2.0 * pad) / n;
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"odds\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
             <title>share of branches that still fail, by branch time</title>\
             <line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#888\"/>",
            h - pad,
            w - pad,
            h - pad
        );
        for (i, (t, failed, total)) in self.points.iter().enumerate() {
            let share = if *total == 0 {
                0.0
            } else {
                f64::from(*failed) / f64::from(*total)
            };
            let bh = share * (h - 2.0 * pad);
            let x = pad + i as f64 * bw;
            s.push_str(&format!(
                "<rect class=\"odds-bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#d33\">\
                 <title>branched at {:.6} s: {failed} of {total} fail</title></rect>",
                x + 1.0,
                h - pad - bh,
                (bw - 2.0).max(1.0),
                bh,
                t.as_secs_f64()
            ));
        }
        s.push_str(&format!(
            "<text x=\"{pad}\" y=\"14\" font-size=\"11\">100 %</text>\
             <text x=\"{pad}\" y=\"{}\" font-size=\"11\">0 s</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{:.6} s</text></svg>",
            h - 6.0,
            w - pad,
            h - 6.0,
            self.failed_at.as_secs_f64()
        ));
        s
    }
}
