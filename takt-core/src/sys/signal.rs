//! Signals at the kernel boundary: the signal sets the kernel holds for a tracee thread,
//! queueing a POSIX timer's signal with its `siginfo`, and takt's own `SIGINT`/`SIGTERM`
//! handler, which only records the signal for the engine loop to see.
//!
//! The kernel stays the authority on a tracee's blocked and pending signals: every
//! signal a tracee can receive is generated at a point the engine orders (a trapped
//! `kill`/`tgkill`, an expiry of a virtual timer, a child's exit, `SIGPIPE` from a
//! virtual write), so reading the sets at a stop is deterministic.

use super::RealTid;
use nix::errno::Errno as NixErrno;
use std::sync::atomic::{AtomicI32, Ordering};

/// A thread's signal sets as bit masks (bit `n - 1` is signal `n`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigSets {
    /// Blocked (`SigBlk`).
    pub blocked: u64,
    /// Pending for this thread (`SigPnd`).
    pub pending: u64,
    /// Pending for the whole process (`ShdPnd`).
    pub shared: u64,
}

impl SigSets {
    /// Pending for this thread or its process.
    pub fn pending_any(&self) -> u64 {
        self.pending | self.shared
    }
}

/// The bit of signal `sig` in a [`SigSets`] mask (0 for numbers outside 1..=64).
pub fn bit(sig: i32) -> u64 {
    if (1..=64).contains(&sig) {
        1u64 << (sig - 1)
    } else {
        0
    }
}

/// Reads thread `tid`'s signal sets from `/proc/<tid>/status`; `None` if it is gone.
pub fn sig_sets(tid: RealTid) -> Option<SigSets> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    let mut out = SigSets::default();
    let mut seen = 0;
    for line in status.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let slot = match key {
            "SigPnd" => &mut out.pending,
            "ShdPnd" => &mut out.shared,
            "SigBlk" => &mut out.blocked,
            _ => continue,
        };
        *slot = u64::from_str_radix(value.trim(), 16).ok()?;
        seen += 1;
        if seen == 3 {
            return Some(out);
        }
    }
    None
}

/// What a POSIX timer's signal carries (`si_code` = `SI_TIMER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerSiginfo {
    /// The timer's id (`si_timerid`).
    pub timer_id: i32,
    /// Expirations folded into this signal (`si_overrun`).
    pub overrun: i32,
    /// `sigev_value` (`si_value`).
    pub value: u64,
}

/// Queues `sig` carrying a timer's `siginfo` to thread `tid` of process `tgid`, or to
/// the process as a whole (`tid` = `None`). The kernel accepts `SI_TIMER` from another
/// process because it is negative (it refuses kernel codes and `SI_TKILL`).
pub fn queue_timer_signal(
    tgid: RealTid,
    tid: Option<RealTid>,
    sig: i32,
    info: &TimerSiginfo,
) -> Result<(), NixErrno> {
    const SI_TIMER: i32 = -2;
    let mut si = [0u8; 128];
    si[0..4].copy_from_slice(&sig.to_ne_bytes());
    si[8..12].copy_from_slice(&SI_TIMER.to_ne_bytes());
    si[16..20].copy_from_slice(&info.timer_id.to_ne_bytes());
    si[20..24].copy_from_slice(&info.overrun.to_ne_bytes());
    si[24..32].copy_from_slice(&info.value.to_ne_bytes());
    // SAFETY: the kernel reads 128 bytes of siginfo from a buffer of that size; the other
    // arguments are plain integers.
    let r = unsafe {
        match tid {
            Some(t) => libc::syscall(libc::SYS_rt_tgsigqueueinfo, tgid, t, sig, si.as_ptr()),
            None => libc::syscall(libc::SYS_rt_sigqueueinfo, tgid, sig, si.as_ptr()),
        }
    };
    NixErrno::result(r).map(drop)
}

/// The first `SIGINT`/`SIGTERM`/`SIGHUP` takt received (0: none).
static INTERRUPT: AtomicI32 = AtomicI32::new(0);
/// How many of them arrived.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Signals after which takt gives up stopping cleanly and dies of the next one.
/// `timeout` sends its signal twice (to takt and to its process group), so the second
/// one must not kill; a third, from a user who insists, does.
const PATIENCE: i32 = 3;

extern "C" fn record_interrupt(sig: libc::c_int) {
    // Async-signal-safe: atomics, sigaction and raise only.
    let _ = INTERRUPT.compare_exchange(0, sig, Ordering::Relaxed, Ordering::Relaxed);
    if RECEIVED.fetch_add(1, Ordering::Relaxed) + 1 >= PATIENCE {
        // SAFETY: restoring the default disposition and re-raising are async-signal-safe.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
}

/// Makes `SIGINT`, `SIGTERM` and `SIGHUP` to this process set the interrupt flag
/// ([`interrupted`]) instead of killing it; the third such signal kills it (its tracees
/// die with it), for a run that does not stop. Tracees do not inherit the handler
/// (spawn resets every disposition before `execve`).
pub fn catch_interrupts() -> Result<(), NixErrno> {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction is valid; the handler is async-signal-safe.
        let r = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = record_interrupt as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        NixErrno::result(r)?;
    }
    Ok(())
}

/// The signal that interrupted takt, if one did (one relaxed load: cheap enough for
/// every iteration of the engine loop).
#[inline]
pub fn interrupted() -> Option<i32> {
    match INTERRUPT.load(Ordering::Relaxed) {
        0 => None,
        s => Some(s),
    }
}

/// Sets the interrupt flag as if `sig` had arrived (tests, embedders with their own
/// signal handling).
pub fn interrupt(sig: i32) {
    INTERRUPT.store(sig, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_signal_sets() {
        let s = sig_sets(std::process::id() as RealTid).expect("own status");
        assert_eq!(s.pending & bit(libc::SIGKILL), 0);
        assert_eq!(bit(0), 0);
        assert_eq!(bit(65), 0);
        assert_eq!(bit(64), 1 << 63);
    }
}
