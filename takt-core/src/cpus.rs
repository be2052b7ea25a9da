//! Which host CPU each running scenario is pinned to.
//!
//! A scenario is serialized anyway, so its tracer and tracees share one CPU (context
//! switches between CPUs cost 40–80 µs per stop on the VMs takt targets, against ≈10 µs
//! pinned). Parallel scenarios in one test binary spread over the allowed CPUs: each new
//! scenario takes the CPU with the fewest scenarios on it.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

// A std mutex, not parking_lot's: a contended parking_lot lock reads `Instant::now` (the
// vDSO), which a tracer thread that traps rdtsc must not (`sys::TscTrap`).
static LOAD: Mutex<BTreeMap<usize, usize>> = Mutex::new(BTreeMap::new());

fn load_table() -> MutexGuard<'static, BTreeMap<usize, usize>> {
    LOAD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes the least-loaded allowed CPU.
///
/// `TAKT_CPU=N` (set for exploration worker processes) names the CPU outright.
pub fn acquire() -> usize {
    let allowed = crate::sys::allowed_cpus();
    if let Some(cpu) = std::env::var("TAKT_CPU")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|c| allowed.contains(c))
    {
        *load_table().entry(cpu).or_insert(0) += 1;
        return cpu;
    }
    let mut load = load_table();
    let cpu = allowed
        .iter()
        .copied()
        .min_by_key(|c| (load.get(c).copied().unwrap_or(0), *c))
        .unwrap_or(0);
    *load.entry(cpu).or_insert(0) += 1;
    cpu
}

/// Gives a CPU back.
pub fn release(cpu: usize) {
    let mut load = load_table();
    if let Some(n) = load.get_mut(&cpu) {
        *n = n.saturating_sub(1);
    }
}
