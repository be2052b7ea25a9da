//! Spin-waits made deterministic, without a performance counter.
//!
//! A thread that spins waiting for another thread (Go's background sweeper waiting for
//! the GC worker, a spin lock) makes no syscall, so only the wall-clock watchdog stops
//! it, at a moment of real time, somewhere in its loop. This module makes what happens
//! next independent of that moment:
//!
//! 1. **A canonical stopping point.** After the watchdog's stop the thread is
//!    single-stepped (`PTRACE_SINGLESTEP`). Brent's cycle detection over its whole
//!    register state ([`sys::CpuState`]) finds whether it passes the same states over and
//!    over; if so, the pass is walked once more and the thread is stepped on to the
//!    pass's lowest state (instruction address first): that point depends only on the
//!    loop, not on where the `SIGSTOP` landed. If the thread reaches a syscall (or any
//!    other stop) while being stepped, that stop is handled as usual: its run up to it
//!    did not depend on real time either, so the preemption never happened. If no cycle
//!    shows within [`MAX_STEPS`] instructions, it is not a pure spin, and the old
//!    behaviour (a visible preemption, the run flagged as having lost determinism) stays.
//! 2. **A deterministic hand-over.** A pure spinner is parked at its canonical point, like a
//!    thread that called `sched_yield`: it cannot run again until another thread has
//!    run (or a signal came), so the scheduler picks among the others (a decision on the
//!    tape like any other). With nothing else runnable the clock jumps to the next timer.
//!    When it is picked again, it is stepped through one pass: back at its canonical state,
//!    it still spins (nothing it reads changed) and is parked again at once, with no real
//!    time involved; otherwise it left the loop and runs on.
//!
//! The register state is what is compared: a loop that keeps a counter in memory it
//! never loads into a register would look pure while its passes leave a trace (none of
//! the runtimes seen so far does that). Nothing here reads real time.

use super::{Engine, State};
use crate::sys::{self, Running, Stop, StopReason, Stopped};
use crate::world::Spin;
use crate::Error;

/// The most instructions single-stepped to find a cycle: loops of up to about 4,000
/// instructions are found (etcd's is 154). A step costs 10–30 µs here (a ptrace stop
/// and two requests), so a thread that is not in a pure spin pays up to 0.1–0.25 s per
/// search; [`Engine::should_settle`] spaces the searches out for a long computation.
pub(crate) const MAX_STEPS: u32 = 1 << 13;

/// One single step.
enum Stepped {
    /// The instruction ran; the thread is stopped after it.
    Trap(Stopped),
    /// Another stop came instead (a syscall, a signal, an exit): handled as usual.
    Other(Stop),
    /// The watchdog stopped the step itself (stuck in the kernel): give up stepping.
    Stuck(Stopped),
}

/// What stepping a thread after the watchdog's stop found.
pub(crate) enum Settled {
    /// It stopped by itself while being stepped.
    Stop(Stop),
    /// A pure spin, stopped at its canonical state.
    Spin(Stopped, Box<Spin>),
    /// No cycle within the bound (or stepping was stopped): not a pure spin.
    NotPure(Stopped, &'static str),
}

/// What stepping a parked spinner through one pass found.
pub(crate) enum Rechecked {
    /// Back at its canonical state: still spinning.
    Still(Stopped),
    /// It left the loop (and is stopped somewhere off it).
    Left(Stopped),
    /// It stopped by itself while being stepped.
    Stop(Stop),
}

impl Engine {
    /// Whether thread `t` may be picked: ready, and not a spinner parked since nothing else
    /// happened.
    pub(crate) fn eligible(&self, t: &super::Thread) -> bool {
        matches!(t.state, State::Ready(_))
            && !self.w.job_stopped(t.pid)
            && t.spinning
                .as_ref()
                .is_none_or(|s| s.parked_at != self.w.progress)
    }

    /// Whether a watchdog stop of `t` is worth a search for a cycle: the first since its
    /// last syscall, then only the 2nd, 4th, 8th… (a computation without syscalls is
    /// not searched over and over; a spin is found at its first stop anyway).
    pub(crate) fn should_settle(t: &super::Thread) -> bool {
        t.spin.wrapping_add(1).is_power_of_two()
    }

    /// One instruction of the thread stopped at `s` (of real process `tgid`).
    /// `mark`: the process has notified calls ([`Engine::steps_are_marked`]).
    fn step_insn(&self, tgid: sys::RealTid, s: Stopped, mark: bool) -> Result<Stepped, Error> {
        let real = s.tid();
        if mark {
            super::notify::mark_before_step(&s)?;
        }
        let mut running: Running = s.single_step()?;
        loop {
            let n = self.watch.resuming(tgid, real);
            let stop = sys::wait(running);
            self.watch.stopped();
            match stop? {
                Stop::Stopped(s, StopReason::Signal(libc::SIGTRAP)) if s.is_step_trap()? => {
                    return Ok(Stepped::Trap(s))
                }
                Stop::Stopped(s, StopReason::Signal(libc::SIGSTOP)) => {
                    if self.watch.fired_during(n) {
                        return Ok(Stepped::Stuck(s));
                    }
                    if s.siginfo()
                        .is_ok_and(|i| !crate::world::job::from_watchdog(&i))
                    {
                        // A guest's SIGSTOP: job control's, handled as any other stop.
                        let stop = Stop::Stopped(s, StopReason::Signal(libc::SIGSTOP));
                        return Ok(Stepped::Other(stop));
                    }
                    // A stale SIGSTOP, delivered before the instruction: step it again.
                    running = s.single_step()?;
                }
                other => return Ok(Stepped::Other(other)),
            }
        }
    }

    /// The watchdog stopped a thread of real process `tgid` (`s`): finds whether it is in
    /// a pure spin and, if so, steps it to the loop's canonical state. Bounded by
    /// [`MAX_STEPS`] instructions (and a few passes more).
    pub(crate) fn settle(&mut self, tgid: sys::RealTid, s: Stopped) -> Result<Settled, Error> {
        let mark = self.steps_are_marked(tgid);
        // Brent: `tortoise` is the state at the last power of two, `lam` the steps since.
        let mut tortoise = s.cpu_state()?;
        let mut cur = s;
        let (mut power, mut lam, mut steps) = (1u32, 0u32, 0u32);
        let hare = loop {
            if steps >= MAX_STEPS {
                return Ok(Settled::NotPure(cur, "no repeating state"));
            }
            cur = match self.step_insn(tgid, cur, mark)? {
                Stepped::Trap(s) => s,
                Stepped::Other(stop) => return Ok(Settled::Stop(stop)),
                Stepped::Stuck(s) => return Ok(Settled::NotPure(s, "stuck in a step")),
            };
            steps += 1;
            lam += 1;
            let state = cur.cpu_state()?;
            if state == tortoise {
                break state;
            }
            if power == lam {
                tortoise = state;
                power = power.saturating_mul(2);
                lam = 0;
            }
        };
        // `cur` is in the cycle, `lam` its length: walk one pass, note its lowest state.
        let mut low = (hare.ip(), hare, 0u32);
        for i in 1..=lam {
            cur = match self.step_insn(tgid, cur, mark)? {
                Stepped::Trap(s) => s,
                Stepped::Other(stop) => return Ok(Settled::Stop(stop)),
                Stepped::Stuck(s) => return Ok(Settled::NotPure(s, "stuck in a step")),
            };
            let state = cur.cpu_state()?;
            if i < lam && (state.ip(), state) < (low.0, low.1) {
                low = (state.ip(), state, i);
            }
            if i == lam && state != hare {
                return Ok(Settled::NotPure(cur, "a pass that does not repeat"));
            }
        }
        for _ in 0..low.2 {
            cur = match self.step_insn(tgid, cur, mark)? {
                Stepped::Trap(s) => s,
                Stepped::Other(stop) => return Ok(Settled::Stop(stop)),
                Stepped::Stuck(s) => return Ok(Settled::NotPure(s, "stuck in a step")),
            };
        }
        if cur.cpu_state()? != low.1 {
            return Ok(Settled::NotPure(cur, "a pass that does not repeat"));
        }
        Ok(Settled::Spin(
            cur,
            Box::new(Spin {
                canon: low.1,
                period: lam,
                parked_at: 0,
            }),
        ))
    }

    /// Steps a parked spinner (at its canonical state) through at most one pass.
    pub(crate) fn recheck(
        &mut self,
        tgid: sys::RealTid,
        s: Stopped,
        spin: &Spin,
    ) -> Result<Rechecked, Error> {
        let mark = self.steps_are_marked(tgid);
        let mut cur = s;
        for _ in 0..spin.period {
            cur = match self.step_insn(tgid, cur, mark)? {
                Stepped::Trap(s) => s,
                Stepped::Other(stop) => return Ok(Rechecked::Stop(stop)),
                Stepped::Stuck(s) => return Ok(Rechecked::Left(s)),
            };
            if cur.cpu_state()? == spin.canon {
                return Ok(Rechecked::Still(cur));
            }
        }
        Ok(Rechecked::Left(cur))
    }
}
