//! CPU time: a deterministic model of the time each thread spends running, and the
//! timers that count it.
//!
//! The virtual clock moves in two ways only: the running thread is charged a cost for a
//! trapped syscall or an emulated `rdtsc` (`syscall_cost`, 500 ns by default), or the
//! clock jumps to the next deadline while nothing runs. A thread's CPU time is exactly
//! the first kind: the virtual time that passed while it was the running thread. Time
//! it spends parked (sleeping, blocked, waiting for a lock) and the clock's jumps are
//! nobody's CPU time. Code that runs between two trapped calls takes no virtual time,
//! so it adds no CPU time either.
//!
//! User and system time: half of a syscall's cost (rounded up) is user time (the code
//! around the call, its entry and exit), the other half system time (the kernel's
//! work); an `rdtsc` is all user time. A process's CPU time is the sum of its threads'
//! (exited ones included), kept on the process as its threads are charged; a child's
//! (with its own reaped children's) is added to its parent's `RUSAGE_CHILDREN` when the
//! parent reaps it.
//!
//! Everything that reads CPU time reads this model: the CPU-time clocks, `getrusage`,
//! `times`, `/proc/<pid>/stat`'s utime/stime/cutime/cstime, a reaped child's `rusage`.
//! The timers on it: `ITIMER_VIRTUAL` (user time, `SIGVTALRM`) and `ITIMER_PROF` (user
//! and system time, `SIGPROF`), POSIX timers on CPU-time clocks, and `clock_nanosleep`
//! on a CPU-time clock. CPU time moves only where a thread is charged, so they are
//! checked there, after the call that was charged has been handled: a timer's signal
//! goes to the running thread unless it blocks the signal (as Linux's, which fire on
//! the tick of the thread that used the time), and a call of that thread that parked
//! is interrupted by it as by any signal.

use super::Notify;
use super::{State, Vtid, World};
use crate::time::VTime;

/// CPU time used, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTime {
    /// User time.
    pub(crate) user: u64,
    /// System time.
    pub(crate) sys: u64,
}

impl CpuTime {
    /// User and system time.
    pub(crate) fn total(self) -> u64 {
        self.user.saturating_add(self.sys)
    }

    /// The sum of two.
    pub(crate) fn plus(self, o: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_add(o.user),
            sys: self.sys.saturating_add(o.sys),
        }
    }

    /// A syscall's cost split: half user (rounded up), half system.
    pub(crate) fn of_syscall(cost: u64) -> CpuTime {
        let sys = cost / 2;
        CpuTime {
            user: cost.saturating_sub(sys),
            sys,
        }
    }
}

/// A CPU-time clock: a thread's or a process's, counting user time only
/// (`CPUCLOCK_VIRT`) or user and system time (`CPUCLOCK_PROF`, `CPUCLOCK_SCHED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CpuClock {
    /// A thread's clock (else a process's).
    pub(crate) thread: bool,
    /// The thread's or the process's virtual id.
    pub(crate) id: Vtid,
    /// It counts user time only.
    pub(crate) user_only: bool,
}

/// Writes `cpu`'s user and system time as two native `clock_t` tick counts (the
/// `si_utime`/`si_stime` of a `SIGCHLD`, `ssi_utime`/`ssi_stime` of a signalfd read) into
/// `out` (16 bytes).
pub(crate) fn put_ticks(out: &mut [u8], cpu: CpuTime) {
    let tick = ticks;
    if out.len() >= 16 {
        out[..8].copy_from_slice(&tick(cpu.user).to_ne_bytes());
        out[8..16].copy_from_slice(&tick(cpu.sys).to_ne_bytes());
    }
}

/// Clock ticks (100 Hz) of `ns` nanoseconds.
pub(crate) fn ticks(ns: u64) -> i64 {
    (ns / 10_000_000) as i64
}

/// The name a thread parked in `clock_nanosleep` on a CPU-time clock blocks under.
pub(crate) const CPU_SLEEP: &str = "a CPU-time clock to reach its deadline";

impl World {
    /// What CPU-time clock `c` reads now (`None`: its thread or process is gone).
    pub(crate) fn cpu_of(&self, c: CpuClock) -> Option<u64> {
        let t = if c.thread {
            self.threads.get(&c.id)?.cpu
        } else {
            self.procs.get(&c.id)?.cpu
        };
        Some(if c.user_only { t.user } else { t.total() })
    }

    /// The CPU time of the process a `SIGCHLD`'s pid names (as the receiver's namespace
    /// numbers it: the virtual pid, or the host's without a PID namespace), live or among
    /// the last reaped.
    pub(crate) fn child_cpu(&self, pid: i32) -> Option<CpuTime> {
        let ns = self.pid_namespace();
        let is = |vpid: Vtid, real: crate::sys::RealTid| {
            if ns {
                vpid == pid
            } else {
                real == pid
            }
        };
        let live = self
            .procs
            .values()
            .find(|p| is(p.vpid, p.real))
            .map(|p| p.cpu);
        live.or_else(|| {
            let mut past = self.reaped_cpu.iter().rev();
            past.find(|&&(v, r, _)| is(v, r)).map(|&(_, _, c)| c)
        })
    }

    /// Charges `used` to thread `tid` and its process.
    pub(crate) fn charge_cpu(&mut self, tid: Vtid, used: CpuTime) {
        let Some(t) = self.threads.get_mut(&tid) else {
            return;
        };
        t.cpu = t.cpu.plus(used);
        let pid = t.pid;
        if let Some(p) = self.procs.get_mut(&pid) {
            p.cpu = p.cpu.plus(used);
        }
    }

    /// After `tid` was charged: fires the CPU-time timers and wakes the CPU-time sleeps
    /// whose clocks reached them.
    pub(crate) fn cpu_expiries(&mut self, tid: Vtid) {
        let Some(pid) = self.threads.get(&tid).map(|t| t.pid) else {
            return;
        };
        let Some(p) = self.procs.get(&pid).filter(|p| !p.exiting) else {
            return;
        };
        // Most processes arm no CPU-time itimer: nothing to look at on their syscalls.
        if p.itimers.iter().any(|t| t.next.is_some()) {
            self.itimer_expiries(pid, tid);
        }
        if !self.cpu_timers.is_empty() {
            self.posix_cpu_expiries(pid, tid);
        }
        if !self.cpu_sleepers.is_empty() {
            self.cpu_sleep_expiries(pid, tid);
        }
    }

    /// `ITIMER_VIRTUAL` and `ITIMER_PROF` of process `pid`, whose thread `tid` ran.
    fn itimer_expiries(&mut self, pid: Vtid, tid: Vtid) {
        for (i, sig) in [(0, libc::SIGVTALRM), (1, libc::SIGPROF)] {
            let p = self.procs.get_mut(&pid).expect("checked");
            let now = if i == 0 { p.cpu.user } else { p.cpu.total() };
            if p.itimers[i].advance(VTime(now)) > 0 {
                let to = self.running_target(tid, sig);
                self.send_signal(pid, sig, to, None);
            }
        }
    }

    /// A signal cut thread `tid`'s sleep on a CPU-time clock short (if it was in one):
    /// the CPU time it had left goes to the call's `rem`, as Linux writes it.
    pub(crate) fn cpu_sleep_interrupted(&mut self, tid: Vtid) {
        let Some((c, at, rem)) = self.cpu_sleepers.remove(&tid) else {
            return;
        };
        let left = at.saturating_sub(self.cpu_of(c).unwrap_or(at));
        if let (true, Some(t)) = (rem != 0, self.threads.get(&tid)) {
            let (addr, bytes) = super::Remaining::Timespec(rem).bytes(left);
            let _ = crate::sys::write_mem(t.real, addr, &bytes);
        }
    }

    /// `tid` if it takes `sig` now (it does not block it), else `None` (the process's).
    pub(crate) fn running_target(&self, tid: Vtid, sig: i32) -> Option<Vtid> {
        (self.sig_sets(tid).blocked & crate::sys::signal::bit(sig) == 0).then_some(tid)
    }

    /// The POSIX timers on CPU-time clocks that `tid` (of process `pid`) moved.
    fn posix_cpu_expiries(&mut self, pid: Vtid, tid: Vtid) {
        let watched: Vec<(Vtid, i32)> = self.cpu_timers.iter().copied().collect();
        for (owner, id) in watched {
            let Some(t) = self.procs.get(&owner).and_then(|p| p.timers.get(&id)) else {
                self.cpu_timers.remove(&(owner, id));
                continue;
            };
            let Some(c) = t.cpu else { continue };
            let moved = if c.thread { c.id == tid } else { c.id == pid };
            let Some(now) = self.cpu_of(c).filter(|_| moved) else {
                continue;
            };
            let t = self
                .procs
                .get_mut(&owner)
                .and_then(|p| p.timers.get_mut(&id));
            let t = t.expect("just read");
            let n = t.schedule.advance(VTime(now));
            let (over, notify) = (t.schedule.next.is_none(), t.notify);
            if over {
                self.cpu_timers.remove(&(owner, id));
            }
            let running = (owner == pid).then_some(tid);
            if let Notify::Signal { sig, .. } = notify {
                let running = running.and_then(|r| self.running_target(r, sig));
                self.posix_timer_signal(owner, id, n, running);
            }
        }
    }

    /// Wakes the threads in `clock_nanosleep` on a CPU-time clock that `tid` moved to
    /// their deadline.
    fn cpu_sleep_expiries(&mut self, pid: Vtid, tid: Vtid) {
        let sleepers: Vec<(Vtid, CpuClock, u64)> = self
            .cpu_sleepers
            .iter()
            .map(|(&s, &(c, at, _))| (s, c, at))
            .collect();
        for (sleeper, c, at) in sleepers {
            let parked = self
                .threads
                .get(&sleeper)
                .is_some_and(|t| matches!(&t.state, State::Blocked(b) if b.what == CPU_SLEEP));
            if !parked {
                self.cpu_sleepers.remove(&sleeper);
                continue;
            }
            let moved = if c.thread { c.id == tid } else { c.id == pid };
            if moved && self.cpu_of(c).is_some_and(|now| now >= at) {
                self.cpu_sleepers.remove(&sleeper);
                self.complete(sleeper, 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CpuTime;

    #[test]
    fn a_syscall_is_half_user_half_system() {
        let c = CpuTime::of_syscall(501);
        assert_eq!((c.user, c.sys), (251, 250));
        assert_eq!(c.total(), 501);
        let sum = c.plus(CpuTime { user: 1, sys: 2 });
        assert_eq!((sum.user, sum.sys), (252, 252));
        let max = CpuTime {
            user: u64::MAX,
            sys: 1,
        };
        assert_eq!(max.total(), u64::MAX);
        assert_eq!(max.plus(max).user, u64::MAX);
    }
}
