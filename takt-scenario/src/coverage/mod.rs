//! Behaviour coverage over an exploration (the takt paper's Figure 3): how much of what
//! the system can do has been tried, and when to stop.
//!
//! Each run has one behaviour class (its [`Signature`](takt_core::signature::Signature)).
//! [`Coverage`] keeps the runs in seed order and gives:
//! - the Chao–Jost sample coverage, 0–100 (1 − the probability that the next run shows
//!   a new class), floored with Laplace's rule so it never reads 100;
//! - the Chao1 estimate of how many classes exist;
//! - the expected runs until the next new class;
//! - after `n` passing runs, the exact binomial 95 % upper bound on the failure rate;
//! - the discovery curve (classes after each run).
//!
//! Formulas and their sources: `shared/COVERAGE.md` (Chao & Jost 2012; Chao 1984; Good
//! 1953). A coverage state is JSON ([`Coverage::to_json`]), so shards of a sweep run on
//! different machines merge into the figures of one sweep ([`Coverage::merge`]). The
//! behaviour map is drawn by [`map`].

pub mod map;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Classes this close (Jaccard distance) form one group ([`Coverage::groups`]).
pub const GROUP_DISTANCE: f64 = 0.15;

/// One run of an exploration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Its seed.
    pub seed: u64,
    /// Its class (index into [`Coverage::classes`]).
    pub class: usize,
    /// Whether it failed.
    pub failed: bool,
    /// Its report page, if one was written.
    pub report: Option<String>,
}

/// A behaviour class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Class {
    /// The signature's hash.
    pub id: String,
    /// Its features (a sketch), for similarity.
    pub features: Vec<u64>,
    /// Runs in it.
    pub runs: u64,
    /// The seed that found it first.
    pub first_seed: u64,
    /// Whether a run of it failed.
    pub failed: bool,
}

/// Runs and classes of an exploration (or of a shard of one), in seed order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Classes in the order of discovery (by seed).
    pub classes: Vec<Class>,
    /// Runs by seed.
    pub runs: Vec<Run>,
    /// Failures: (seed, what failed).
    pub failures: Vec<(u64, String)>,
    /// Properties the guests declared through the Antithesis SDK, over all runs.
    #[serde(default)]
    pub properties: Vec<takt_core::report::Property>,
}

/// What the numbers say (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Runs.
    pub n: u64,
    /// Classes seen.
    pub classes: usize,
    /// Classes seen once and twice.
    pub f1: u64,
    /// See `f1`.
    pub f2: u64,
    /// Sample coverage, 0–100.
    pub coverage: f64,
    /// Probability that the next run shows a new class.
    pub p_new: f64,
    /// Chao1: the estimated number of classes.
    pub chao1: f64,
    /// Expected runs until the next new class (`1 / p_new`).
    pub runs_to_next: f64,
    /// 95 % upper bound on the failure rate, if every run passed.
    pub failure_bound: Option<f64>,
}

impl Estimate {
    /// Whether there are too few runs for the estimate to mean much (under 30).
    pub fn insufficient(&self) -> bool {
        self.n < 30
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "coverage {:.1}%{}: {} classes in {} runs (Chao1 estimate {:.1}), next new class expected in {:.0} runs",
            self.coverage,
            if self.insufficient() { " (insufficient data)" } else { "" },
            self.classes,
            self.n,
            self.chao1,
            self.runs_to_next,
        )?;
        if let Some(b) = self.failure_bound {
            write!(
                f,
                "; all passed: failure rate below {:.2}% (95%)",
                b * 100.0
            )?;
        }
        if !self.insufficient() && self.coverage < 50.0 {
            write!(
                f,
                "; far from exhausted: most runs showed a behaviour no other run did"
            )?;
        }
        Ok(())
    }
}

/// The Chao–Jost estimate for `n` runs with `f1` singletons and `f2` doubletons:
/// (coverage 0–100, probability of a new class).
pub fn chao_jost(n: u64, f1: u64, f2: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (nf, f1f, f2f) = (n as f64, f1 as f64, f2 as f64);
    let a = if f2 > 0 {
        (nf - 1.0) * f1f / ((nf - 1.0) * f1f + 2.0 * f2f)
    } else if f1 > 1 {
        (nf - 1.0) * (f1f - 1.0) / ((nf - 1.0) * (f1f - 1.0) + 2.0)
    } else {
        1.0
    };
    // Laplace's rule: never certain after finitely many runs.
    let p_new = (f1f / nf * a).max(1.0 / (nf + 2.0));
    (100.0 * (1.0 - p_new), p_new)
}

/// The Chao1 estimate of the number of classes.
pub fn chao1(n: u64, observed: usize, f1: u64, f2: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let (nf, f1f, f2f) = (n as f64, f1 as f64, f2 as f64);
    let extra = if f2 > 0 {
        (nf - 1.0) / nf * f1f * f1f / (2.0 * f2f)
    } else {
        (nf - 1.0) / nf * f1f * (f1f - 1.0).max(0.0) / (2.0 * (f2f + 1.0))
    };
    observed as f64 + extra
}

/// The exact binomial 95 % upper bound on a failure rate after `n` passing runs.
pub fn failure_bound(n: u64) -> f64 {
    if n == 0 {
        1.0
    } else {
        1.0 - 0.05f64.powf(1.0 / n as f64)
    }
}

impl Coverage {
    /// An empty coverage state.
    pub fn new() -> Coverage {
        Coverage::default()
    }

    /// Adds a run (call in seed order for a meaningful discovery curve).
    pub fn add(&mut self, seed: u64, class: &str, features: &[u64], failure: Option<&str>) {
        let idx = match self.classes.iter().position(|c| c.id == class) {
            Some(i) => i,
            None => {
                self.classes.push(Class {
                    id: class.to_string(),
                    features: features.to_vec(),
                    runs: 0,
                    first_seed: seed,
                    failed: false,
                });
                self.classes.len() - 1
            }
        };
        let c = &mut self.classes[idx];
        c.runs += 1;
        c.failed |= failure.is_some();
        if let Some(why) = failure {
            self.failures.push((seed, why.to_string()));
        }
        self.runs.push(Run {
            seed,
            class: idx,
            failed: failure.is_some(),
            report: None,
        });
    }

    /// Takes a run's guest properties into account.
    pub fn add_properties(&mut self, props: &[takt_core::report::Property]) {
        if !props.is_empty() {
            self.properties =
                crate::properties::merge(&[std::mem::take(&mut self.properties), props.to_vec()]);
        }
    }

    /// Sometimes- and reachable-properties no run satisfied.
    pub fn uncovered(&self) -> Vec<&takt_core::report::Property> {
        self.properties.iter().filter(|p| p.uncovered()).collect()
    }

    /// The estimate over all runs.
    pub fn estimate(&self) -> Estimate {
        let counts: Vec<u64> = self.classes.iter().map(|c| c.runs).collect();
        estimate(self.runs.len() as u64, &counts, self.failures.is_empty())
    }

    /// Groups of similar classes: deterministic leader clustering in order of discovery
    /// (a class joins the first group whose leader is within Jaccard distance
    /// [`GROUP_DISTANCE`], else it leads a new group). The group index of each class.
    pub fn groups(&self) -> Vec<usize> {
        let mut leaders: Vec<usize> = Vec::new();
        self.classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let near = leaders.iter().position(|&l| {
                    map::jaccard(&self.classes[l].features, &c.features) <= GROUP_DISTANCE
                });
                near.unwrap_or_else(|| {
                    leaders.push(i);
                    leaders.len() - 1
                })
            })
            .collect()
    }

    /// The estimate over groups of similar classes instead of exact classes: groups
    /// saturate first, and say whether new runs still show new *kinds* of behaviour.
    pub fn group_estimate(&self) -> Estimate {
        let groups = self.groups();
        let mut counts = vec![0u64; groups.iter().max().map_or(0, |m| m + 1)];
        for r in &self.runs {
            counts[groups[r.class]] += 1;
        }
        estimate(self.runs.len() as u64, &counts, self.failures.is_empty())
    }

    /// Classes after each run, in seed order (the discovery curve).
    pub fn curve(&self) -> Vec<usize> {
        let mut seen = vec![false; self.classes.len()];
        let mut n = 0;
        self.runs
            .iter()
            .map(|r| {
                if !std::mem::replace(&mut seen[r.class], true) {
                    n += 1;
                }
                n
            })
            .collect()
    }

    /// The coverage (0–100) after each run, in seed order.
    pub fn coverage_curve(&self) -> Vec<f64> {
        let mut counts: BTreeMap<usize, u64> = BTreeMap::new();
        self.runs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                *counts.entry(r.class).or_default() += 1;
                let c: Vec<u64> = counts.values().copied().collect();
                estimate(i as u64 + 1, &c, true).coverage
            })
            .collect()
    }

    /// One sweep's state from its shards' (in any order): classes renumbered by their
    /// first seed, runs and failures by seed. Gives the same figures as one sweep over
    /// the same seeds.
    pub fn merge(shards: &[Coverage]) -> Coverage {
        let mut runs: Vec<MergedRun> = Vec::new();
        for s in shards {
            for r in &s.runs {
                let c = &s.classes[r.class];
                let why = s
                    .failures
                    .iter()
                    .find(|f| f.0 == r.seed)
                    .map(|f| f.1.clone())
                    .or_else(|| r.failed.then(String::new));
                runs.push((
                    r.seed,
                    c.id.clone(),
                    c.features.clone(),
                    why,
                    r.report.clone(),
                ));
            }
        }
        runs.sort_by_key(|r| r.0);
        runs.dedup_by(|a, b| a.0 == b.0);
        let mut out = Coverage::new();
        out.properties = crate::properties::merge(
            &shards
                .iter()
                .map(|s| s.properties.clone())
                .collect::<Vec<_>>(),
        );
        for (seed, class, features, why, report) in runs {
            out.add(seed, &class, &features, why.as_deref());
            if let Some(r) = out.runs.last_mut() {
                r.report = report;
            }
        }
        out
    }

    /// As JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("serializing coverage cannot fail")
    }

    /// From JSON written by [`Coverage::to_json`].
    pub fn from_json(text: &str) -> Result<Coverage, String> {
        serde_json::from_str(text).map_err(|e| format!("not a takt coverage file: {e}"))
    }
}

/// A run while merging: seed, class, features, failure, report page.
type MergedRun = (u64, String, Vec<u64>, Option<String>, Option<String>);

fn estimate(n: u64, counts: &[u64], all_passed: bool) -> Estimate {
    let f1 = counts.iter().filter(|&&c| c == 1).count() as u64;
    let f2 = counts.iter().filter(|&&c| c == 2).count() as u64;
    let (coverage, p_new) = chao_jost(n, f1, f2);
    Estimate {
        n,
        classes: counts.len(),
        f1,
        f2,
        coverage,
        p_new,
        chao1: chao1(n, counts.len(), f1, f2),
        runs_to_next: 1.0 / p_new,
        failure_bound: all_passed.then(|| failure_bound(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_example_of_coverage_md() {
        // n = 500, S_obs = 40, f1 = 6, f2 = 4: A = 0.99734, p_new = 0.01197,
        // coverage 98.8, Chao1 44.5.
        let (cov, p) = chao_jost(500, 6, 4);
        assert!((p - 0.01197).abs() < 5e-5, "{p}");
        assert!((cov - 98.8).abs() < 0.05, "{cov}");
        assert!((chao1(500, 40, 6, 4) - 44.5).abs() < 0.05);
        assert!((failure_bound(100) - 0.0295).abs() < 5e-4);
    }

    #[test]
    fn merging_shards_gives_the_figures_of_one_sweep() {
        let class = |s: u64| format!("c{}", (s * 7) % 5);
        let mut one = Coverage::new();
        let mut shards = vec![Coverage::new(), Coverage::new(), Coverage::new()];
        for s in 0..60 {
            one.add(s, &class(s), &[s % 5], (s == 17).then_some("boom"));
            shards[(s % 3) as usize].add(s, &class(s), &[s % 5], (s == 17).then_some("boom"));
        }
        let merged = Coverage::merge(&shards);
        assert_eq!(merged, one);
        assert_eq!(merged.estimate(), one.estimate());
        let back = Coverage::from_json(&merged.to_json()).unwrap();
        assert_eq!(back, merged);
    }
}
