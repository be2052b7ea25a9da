//! What a clock read costs in virtual time. Every trapped syscall and every emulated
//! `rdtsc` moves the virtual clock on by the scenario's syscall cost (500 ns by
//! default), so a program that waits for a deadline by polling the clock, without a
//! syscall that could block, needs 2,000,000 reads per virtual second: with a ptrace
//! stop each, minutes of real time for a 10 s wait.
//!
//! So a thread that keeps reading the clock sees time go faster, deterministically:
//! the first [`STEADY`] reads in a row (no other syscall between them) cost the syscall
//! cost each; after that, the cost doubles every [`STEADY`] reads, up to [`MAX_STEP`]
//! per read. Any other syscall of the thread starts the count again. A program that
//! times a piece of work between two reads, or reads the clock now and then, sees the
//! same clock as before; a 10 s polling wait takes about 20,000 reads instead of
//! 20,000,000.

use super::{Engine, Vtid};
use crate::sys;
use std::time::Duration;

/// Reads in a row that cost the plain syscall cost, and the length of each doubling.
pub(crate) const STEADY: u32 = 1000;
/// The most one clock read moves the virtual clock on.
pub(crate) const MAX_STEP: Duration = Duration::from_millis(1);

/// Whether syscall `nr` only reads a clock.
pub(crate) fn reads_the_clock(nr: u32) -> bool {
    matches!(
        nr as i64,
        libc::SYS_clock_gettime | libc::SYS_gettimeofday | libc::SYS_time
    )
}

/// The virtual time one more clock read costs, given the reads in a row so far
/// (counted on).
pub(crate) fn clock_read_cost(cost: Duration, reads: &mut u32) -> Duration {
    *reads = reads.saturating_add(1);
    let doublings = (*reads / STEADY).min(20);
    cost.saturating_mul(1 << doublings).min(MAX_STEP.max(cost))
}

/// The clock page's budget (see [`sys::vdso`]) for a thread that made `reads` clock
/// reads in a row: what each of its next reads costs (ns), and how many of them cost
/// that; the one after them must trap, as its cost doubles.
pub(crate) fn page_budget(cost: Duration, reads: u32) -> (u64, u64) {
    let next = u64::from(reads).saturating_add(1);
    let steady = u64::from(STEADY);
    let doublings = (next / steady).min(20) as u32;
    let step = cost.saturating_mul(1 << doublings).min(MAX_STEP.max(cost));
    let segment_end = (next / steady).saturating_add(1).saturating_mul(steady);
    (
        u64::try_from(step.as_nanos()).unwrap_or(u64::MAX),
        segment_end.saturating_sub(next),
    )
}

impl Engine {
    /// The clock page of the run: none when [`crate::config::Config::clock_page`] is off
    /// or `TAKT_CLOCK_PAGE=0`, or when this machine's vDSO has no room for takt's
    /// functions (then every process runs with the vDSO hidden and its clock reads trap).
    pub(crate) fn make_clock_page(&mut self) -> Option<sys::vdso::ClockPage> {
        if !self.w.cfg.clock_page || std::env::var_os("TAKT_CLOCK_PAGE").is_some_and(|v| v == "0") {
            return None;
        }
        sys::vdso::image()?;
        let offset = |c| crate::handler::time::clock_value(crate::time::VTime::ZERO, c).ok();
        let (realtime, monotonic) = (
            offset(libc::CLOCK_REALTIME)?,
            offset(libc::CLOCK_MONOTONIC)?,
        );
        // In the scenario's IPC namespace, where its processes can attach it.
        let make = || sys::vdso::ClockPage::create(realtime, monotonic).ok();
        match &self.pidns {
            Some(ns) => ns.in_ipc(make),
            None => make(),
        }
    }

    /// At the exec stop of `tid` (its process's vDSO at `base`): puts takt's clock
    /// functions in it. Whether they are in place (otherwise the vDSO must be hidden).
    pub(crate) fn install_vdso(&mut self, tid: Vtid, base: u64) -> Result<bool, crate::Error> {
        let Some(shm) = self.clock.as_ref().map(sys::vdso::ClockPage::id) else {
            return Ok(false);
        };
        let tgid = self.w.procs[&self.w.threads[&tid].pid].real;
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        let s = t.stopped.take().expect("stopped at its exec");
        let (s, done) = sys::vdso::install(s, tgid, base, shm)?;
        self.w.threads.get_mut(&tid).expect("thread exists").stopped = Some(s);
        Ok(done == sys::vdso::Installed::Yes)
    }

    /// Moves the virtual clock on by the reads the clock page answered since it was last
    /// published, for the thread that made them.
    pub(crate) fn settle_clock(&mut self) {
        let (Some(page), Some((owner, cost, limit))) = (&self.clock, self.clock_owner) else {
            return;
        };
        let reads = page.take_reads(limit);
        if reads == 0 {
            return;
        }
        self.clock_owner = Some((owner, cost, limit.saturating_sub(reads)));
        let ns = reads.saturating_mul(cost);
        self.w.now = self.w.now.plus_nanos(ns);
        if let Some(t) = self.w.threads.get_mut(&owner) {
            t.clock_reads = t
                .clock_reads
                .saturating_add(u32::try_from(reads).unwrap_or(u32::MAX));
            self.w
                .charge_cpu(owner, super::cpu::CpuTime::of_syscall(ns));
        }
    }

    /// Before `tid` runs: settles the page's reads, then writes the time and `tid`'s
    /// budget on it.
    pub(crate) fn publish_clock(&mut self, tid: Vtid) {
        self.settle_clock();
        let Some(page) = &self.clock else { return };
        let reads = self.w.threads.get(&tid).map_or(0, |t| t.clock_reads);
        let (cost, limit) = page_budget(self.w.cfg.syscall_cost, reads);
        page.publish(self.w.now.as_nanos(), cost, limit);
        self.clock_owner = Some((tid, cost, limit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_budget_gives_the_costs_trapped_reads_have() {
        let cost = Duration::from_nanos(500);
        // Reads answered by the page (in budgets) and reads that trap give one clock.
        let (mut trapped_reads, mut trapped_t) = (0u32, 0u64);
        let (mut page_reads, mut page_t, mut traps) = (0u32, 0u64, 0);
        let mut budget = page_budget(cost, 0);
        for _ in 0..30_000 {
            let c = clock_read_cost(cost, &mut trapped_reads);
            trapped_t += c.as_nanos() as u64;
            if budget.1 > 0 {
                page_t += budget.0;
                page_reads += 1;
                budget.1 -= 1;
            } else {
                traps += 1;
                page_t += clock_read_cost(cost, &mut page_reads).as_nanos() as u64;
                budget = page_budget(cost, page_reads);
            }
            assert_eq!(page_t, trapped_t);
        }
        assert!(traps < 40, "{traps} of 30,000 reads trapped");
    }

    #[test]
    fn polling_speeds_up_and_an_ordinary_read_does_not() {
        let cost = Duration::from_nanos(500);
        let mut reads = 0;
        // The first reads in a row cost the plain syscall cost.
        for _ in 1..STEADY {
            assert_eq!(clock_read_cost(cost, &mut reads), cost);
        }
        assert_eq!(clock_read_cost(cost, &mut reads), cost * 2);
        // Ten virtual seconds of polling take few reads, each at most MAX_STEP.
        let (mut reads, mut t, mut n) = (0, Duration::ZERO, 0u32);
        while t < Duration::from_secs(10) {
            let step = clock_read_cost(cost, &mut reads);
            assert!(step <= MAX_STEP);
            t += step;
            n += 1;
        }
        assert!(n < 25_000, "{n} reads for 10 s");
        // A cost above MAX_STEP stays as it is.
        let mut reads = 5 * STEADY;
        assert_eq!(
            clock_read_cost(Duration::from_millis(3), &mut reads),
            Duration::from_millis(3)
        );
    }
}
