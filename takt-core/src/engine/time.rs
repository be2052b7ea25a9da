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

#[cfg(test)]
mod tests {
    use super::*;

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
