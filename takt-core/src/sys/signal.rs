//! Signals at the kernel boundary: the signal sets the kernel holds for a tracee thread,
//! queueing a signal with a `siginfo` (a POSIX timer's; a child's stop or continue), and takt's own `SIGINT`/`SIGTERM`
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

/// A child's job-control state change, as the `SIGCHLD` its parent is sent carries it
/// (`si_code` `CLD_STOPPED` or `CLD_CONTINUED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChildSiginfo {
    /// `CLD_STOPPED` or `CLD_CONTINUED`.
    pub code: i32,
    /// The child (`si_pid`, as the parent's namespace numbers it).
    pub pid: i32,
    /// The child's real user id (`si_uid`).
    pub uid: u32,
    /// The stop signal, or `SIGCONT` (`si_status`).
    pub status: i32,
}

/// The `siginfo` of a signal takt queues to a tracee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Siginfo {
    /// A POSIX timer's expiry (`SI_TIMER`).
    Timer(TimerSiginfo),
    /// A child stopped or continued (see [`ChildSiginfo`] and [`fix_child_siginfo`]).
    Child(ChildSiginfo),
}

/// `si_code` of `sigqueue` (`SI_QUEUE`).
const SI_QUEUE: i32 = -1;
/// Marks a [`ChildSiginfo`] in transit (bits 16..32 of `si_value`).
const CHILD_MARK: u64 = 0x746b;

/// The 128 bytes of `info` for signal `sig`.
///
/// The kernel takes a positive `si_code` (`CLD_STOPPED`, …) only from the process that
/// signals itself, and it zeroes the `si_pid` of a signal from an ancestor PID
/// namespace (takt's), so a [`ChildSiginfo`] travels as `SI_QUEUE` with everything in
/// `si_value`: the child's pid in its high half; a mark, the `si_code` and the status
/// in its low half. [`fix_child_siginfo`] and [`fix_child_signalfd`] make it
/// `SIGCHLD`'s own where the guest receives it.
fn siginfo_bytes(sig: i32, info: &Siginfo) -> [u8; 128] {
    const SI_TIMER: i32 = -2;
    let mut si = [0u8; 128];
    si[0..4].copy_from_slice(&sig.to_ne_bytes());
    match info {
        Siginfo::Timer(t) => {
            si[8..12].copy_from_slice(&SI_TIMER.to_ne_bytes());
            si[16..20].copy_from_slice(&t.timer_id.to_ne_bytes());
            si[20..24].copy_from_slice(&t.overrun.to_ne_bytes());
            si[24..32].copy_from_slice(&t.value.to_ne_bytes());
        }
        Siginfo::Child(c) => {
            si[8..12].copy_from_slice(&SI_QUEUE.to_ne_bytes());
            si[16..20].copy_from_slice(&c.pid.to_ne_bytes());
            si[20..24].copy_from_slice(&c.uid.to_ne_bytes());
            let value = (u64::from(c.pid as u32) << 32)
                | (CHILD_MARK << 16)
                | ((c.code as u64 & 0xff) << 8)
                | (c.status as u64 & 0xff);
            si[24..32].copy_from_slice(&value.to_ne_bytes());
        }
    }
    si
}

/// The (`si_code`, pid, status) a marked [`ChildSiginfo`] stands for, if the `SI_QUEUE`
/// signal with `si_value` `value` is one.
fn child_info(signo: i32, code: i32, value: u64) -> Option<(i32, i32, i32)> {
    (signo == libc::SIGCHLD && code == SI_QUEUE && (value >> 16) & 0xffff == CHILD_MARK).then(
        || {
            let pid = (value >> 32) as u32 as i32;
            (((value >> 8) & 0xff) as i32, pid, (value & 0xff) as i32)
        },
    )
}

/// Makes a `siginfo_t` (128 bytes: a signal-delivery stop's, `sigtimedwait`'s) that
/// carries a marked [`ChildSiginfo`] the kernel's `SIGCHLD` for it: `si_code`
/// `CLD_STOPPED`/`CLD_CONTINUED`, `si_pid`, `si_status`, zero CPU times. Returns whether
/// it was one.
pub fn fix_child_siginfo(si: &mut [u8]) -> bool {
    if si.len() < 48 {
        return false;
    }
    let value = u64::from_ne_bytes(si[24..32].try_into().expect("8 bytes"));
    let Some((code, pid, status)) = child_info(super::word(si, 0), super::word(si, 8), value)
    else {
        return false;
    };
    si[8..12].copy_from_slice(&code.to_ne_bytes());
    si[16..20].copy_from_slice(&pid.to_ne_bytes());
    si[24..28].copy_from_slice(&status.to_ne_bytes());
    si[28..48].fill(0); // padding, si_utime, si_stime
    true
}

/// As [`fix_child_siginfo`], for one `struct signalfd_siginfo` (128 bytes) a signalfd
/// read returned: `ssi_code`, `ssi_pid`, `ssi_status`; `ssi_int`/`ssi_ptr` cleared.
pub fn fix_child_signalfd(ssi: &mut [u8]) -> bool {
    if ssi.len() < 72 {
        return false;
    }
    let value = u64::from_ne_bytes(ssi[48..56].try_into().expect("8 bytes"));
    let Some((code, pid, status)) = child_info(super::word(ssi, 0), super::word(ssi, 8), value)
    else {
        return false;
    };
    ssi[8..12].copy_from_slice(&code.to_ne_bytes());
    ssi[12..16].copy_from_slice(&pid.to_ne_bytes());
    ssi[40..44].copy_from_slice(&status.to_ne_bytes());
    ssi[44..72].fill(0); // ssi_int, ssi_ptr, ssi_utime, ssi_stime
    true
}

/// Queues `sig` carrying `info` to thread `tid` of process `tgid`, or to the process as
/// a whole (`tid` = `None`). The kernel accepts `SI_TIMER` and `SI_QUEUE` from another
/// process because they are negative (it refuses kernel codes and `SI_TKILL`).
pub fn queue_signal(
    tgid: RealTid,
    tid: Option<RealTid>,
    sig: i32,
    info: &Siginfo,
) -> Result<(), NixErrno> {
    let si = siginfo_bytes(sig, info);
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
    fn a_child_siginfo_becomes_sigchld_s_own() {
        let info = Siginfo::Child(ChildSiginfo {
            code: libc::CLD_STOPPED,
            pid: 7,
            uid: 0,
            status: libc::SIGTSTP,
        });
        let mut si = siginfo_bytes(libc::SIGCHLD, &info);
        si[16..20].fill(0); // the kernel zeroes si_pid from an ancestor namespace
        let mut sfd = [0u8; 128]; // the signalfd record the kernel makes of it
        sfd[0..4].copy_from_slice(&libc::SIGCHLD.to_ne_bytes());
        sfd[8..12].copy_from_slice(&(-1i32).to_ne_bytes());
        sfd[44..48].copy_from_slice(&si[24..28]);
        sfd[48..56].copy_from_slice(&si[24..32]);
        assert!(fix_child_siginfo(&mut si));
        assert_eq!(super::super::word(&si, 8), libc::CLD_STOPPED);
        assert_eq!(super::super::word(&si, 16), 7);
        assert_eq!(super::super::word(&si, 24), libc::SIGTSTP);
        assert_eq!(&si[28..48], &[0u8; 20]);
        assert!(!fix_child_siginfo(&mut si), "fixed once");
        assert!(fix_child_signalfd(&mut sfd));
        assert_eq!(super::super::word(&sfd, 8), libc::CLD_STOPPED);
        assert_eq!(super::super::word(&sfd, 12), 7);
        assert_eq!(super::super::word(&sfd, 40), libc::SIGTSTP);
        assert_eq!(&sfd[44..72], &[0u8; 28]);
        // A guest's own sigqueue(SIGCHLD) is left alone.
        let mut own = [0u8; 128];
        own[0..4].copy_from_slice(&libc::SIGCHLD.to_ne_bytes());
        own[8..12].copy_from_slice(&(-1i32).to_ne_bytes());
        own[24..32].copy_from_slice(&42u64.to_ne_bytes());
        assert!(!fix_child_siginfo(&mut own));
    }

    #[test]
    fn reads_own_signal_sets() {
        let s = sig_sets(std::process::id() as RealTid).expect("own status");
        assert_eq!(s.pending & bit(libc::SIGKILL), 0);
        assert_eq!(bit(0), 0);
        assert_eq!(bit(65), 0);
        assert_eq!(bit(64), 1 << 63);
    }
}
