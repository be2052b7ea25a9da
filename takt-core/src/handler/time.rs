//! Time and randomness: clocks, sleeps, alarms, resource usage, `sysinfo`, `getrandom`.
//!
//! Every clock reads the scenario's virtual clock: `CLOCK_REALTIME` starts at a fixed
//! epoch, the monotonic clocks at a fixed boot offset. The CPU-time clocks
//! (`CLOCK_PROCESS_CPUTIME_ID`, `CLOCK_THREAD_CPUTIME_ID`, and the ids of
//! `clock_getcpuclockid`/`pthread_getcpuclockid`) read takt's CPU-time model
//! (`world::cpu`): a thread's CPU time is the virtual time that passed while it was the
//! running thread, half of each syscall's cost user time and half system time; a
//! process's is the sum of its threads'. `getrusage`, `times` and a reaped child's
//! `rusage` report it. Sleeps park the thread with a deadline; when nothing can run, the
//! engine jumps the clock to the next deadline. A signal that cuts a sleep short leaves
//! the time that was left in `rem` (for a sleep on a CPU-time clock, the CPU time that
//! was left). `ITIMER_REAL` (and `alarm`) repeat with their interval on the
//! virtual clock; `ITIMER_VIRTUAL` (`SIGVTALRM`) and `ITIMER_PROF` (`SIGPROF`) count the
//! process's user and user+system CPU time, one-shot or repeating (Linux adds one tick
//! to the value it is given; takt does not).

use super::guest;
use super::{Blocked, Out, Remaining, Res};
use crate::errno::Errno;
use crate::syscall::calls::{
    Alarm, ClockGetres, ClockGettime, ClockNanosleep, Getitimer, Getrandom, Getrusage,
    Gettimeofday, Nanosleep, Setitimer, Sysinfo, Time, Times,
};
use crate::syscall::enums::ClockId;
use crate::syscall::flags::TimerFlags;
use crate::time::{Periodic, VTime};
use crate::world::cpu::{ticks, CpuClock, CpuTime};
use crate::world::{Vtid, World};

pub use crate::time::{BOOT_SECS, EPOCH_SECS};
/// The resolution of the tick-based CPU-time clocks (`CPUCLOCK_PROF`, `CPUCLOCK_VIRT`):
/// one tick of a kernel with `HZ=250`.
const TICK_NANOS: u64 = 4_000_000;

/// The value of `clock` at virtual time `now`, in nanoseconds (`EINVAL` for a CPU-time
/// clock or what is not a clock: see [`clock_now`]).
pub(crate) fn clock_value(now: VTime, clock: i32) -> Result<u64, Errno> {
    let ns = now.as_nanos();
    match clock {
        libc::CLOCK_REALTIME | libc::CLOCK_REALTIME_COARSE | libc::CLOCK_TAI => {
            Ok(ns.saturating_add(guest::nanos(EPOCH_SECS, 0, 0)))
        }
        libc::CLOCK_MONOTONIC
        | libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_BOOTTIME => Ok(ns.saturating_add(guest::nanos(BOOT_SECS, 0, 0))),
        _ => Err(Errno::EINVAL),
    }
}

/// The CPU-time clock `clock` names for thread `tid` (`Ok(None)`: `clock` is no
/// CPU-time clock), as Linux's `pid_for_clock` finds it: a negative id is
/// `(~pid << 3) | per-thread (4) | kind` (kind 0 `PROF`, 1 `VIRT`, 2 `SCHED`; pid 0:
/// the caller's); a thread's clock must be of a thread of the caller's process, a
/// process's of a process (or, for reading it, the caller's own tid). `EINVAL`
/// otherwise. A negative id of kind 3 without the thread bit is a dynamic (fd) clock:
/// `Ok(None)`.
pub(crate) fn cpu_clock(
    e: &World,
    tid: Vtid,
    clock: i32,
    gettime: bool,
) -> Result<Option<CpuClock>, Errno> {
    let me = &e.threads[&tid];
    let (thread, id, user_only) = match clock {
        libc::CLOCK_PROCESS_CPUTIME_ID => (false, me.pid, false),
        libc::CLOCK_THREAD_CPUTIME_ID => (true, tid, false),
        c if c < 0 && c & 7 != 3 => {
            if c & 3 == 3 {
                return Err(Errno::EINVAL);
            }
            let thread = c & 4 != 0;
            let id = !(c >> 3);
            let id = match (id, thread) {
                (0, true) => tid,
                (0, false) => me.pid,
                (id, true) => {
                    let ok = e.threads.get(&id).is_some_and(|t| t.pid == me.pid);
                    if !ok {
                        return Err(Errno::EINVAL);
                    }
                    id
                }
                (id, false) if gettime && id == tid => me.pid,
                (id, false) => {
                    if !e.procs.contains_key(&id) {
                        return Err(Errno::EINVAL);
                    }
                    id
                }
            };
            (thread, id, c & 3 == 1)
        }
        _ => return Ok(None),
    };
    Ok(Some(CpuClock {
        thread,
        id,
        user_only,
    }))
}

/// What `clock` reads now for thread `tid`, in nanoseconds: the virtual clock's, or a
/// CPU-time clock's (`EINVAL` if it is no clock, or its thread or process is gone).
pub(crate) fn clock_now(e: &World, tid: Vtid, clock: i32) -> Result<u64, Errno> {
    match cpu_clock(e, tid, clock, true)? {
        Some(c) => e.cpu_of(c).ok_or(Errno::EINVAL),
        None => clock_value(e.now, clock),
    }
}

pub(crate) fn timespec(ns: u64) -> libc::timespec {
    libc::timespec {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_nsec: (ns % 1_000_000_000) as i64,
    }
}

/// Nanoseconds of a timespec from a tracee (`EINVAL` if malformed).
pub fn ts_nanos(ts: &libc::timespec) -> Result<u64, Errno> {
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok((ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64))
}

/// `CLOCK_REALTIME` at virtual time `now`, in nanoseconds since the Unix epoch.
pub(crate) fn realtime_nanos(now: VTime) -> u64 {
    clock_value(now, libc::CLOCK_REALTIME).unwrap_or(0)
}

/// `clock_gettime`.
pub fn clock_gettime(e: &mut World, tid: Vtid, c: ClockGettime) -> Res {
    let v = clock_now(e, tid, c.clockid.get())?;
    e.write_val(tid, c.tp.addr(), &timespec(v))?;
    Ok(Out::Return(0))
}

/// `clock_getres`: 1 ns, or a tick for the tick-based CPU-time clocks; `EINVAL` for what
/// is not a clock.
pub fn clock_getres(e: &mut World, tid: Vtid, c: ClockGetres) -> Res {
    let (clock, out) = (c.clockid.get(), c.res.addr());
    let res = match cpu_clock(e, tid, clock, true)? {
        // Only CPUCLOCK_SCHED (kind 2, and the two fixed ids) counts in nanoseconds.
        Some(_) if clock < 0 && clock & 3 != 2 => TICK_NANOS,
        Some(_) => 1,
        None => {
            clock_value(e.now, clock)?;
            1
        }
    };
    if out != 0 {
        e.write_val(tid, out, &timespec(res))?;
    }
    Ok(Out::Return(0))
}

/// `gettimeofday(tv, tz)`: a `tz` is written too, as the kernel's `sys_tz` of a UTC
/// machine (no minutes west, no DST correction).
pub fn gettimeofday(e: &mut World, tid: Vtid, c: Gettimeofday) -> Res {
    let (out, tz) = (c.tv.addr(), c.tz.addr());
    if out != 0 {
        let ns = clock_value(e.now, libc::CLOCK_REALTIME)?;
        let tv = libc::timeval {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_usec: ((ns % 1_000_000_000) / 1000) as i64,
        };
        e.write_val(tid, out, &tv)?;
    }
    if tz != 0 {
        e.write_val(tid, tz, &[0i32; 2])?;
    }
    Ok(Out::Return(0))
}

/// `time`.
pub fn time(e: &mut World, tid: Vtid, c: Time) -> Res {
    let out = c.tloc.addr();
    let secs = (clock_value(e.now, libc::CLOCK_REALTIME)? / 1_000_000_000) as i64;
    if out != 0 {
        e.write_val(tid, out, &secs)?;
    }
    Ok(Out::Return(secs))
}

/// `nanosleep(req, rem)`: `clock_nanosleep` on `CLOCK_MONOTONIC`, relative.
pub fn nanosleep(e: &mut World, tid: Vtid, c: Nanosleep) -> Res {
    let c = ClockNanosleep {
        clockid: ClockId::from(libc::CLOCK_MONOTONIC),
        flags: TimerFlags::from(0),
        request: c.req,
        remain: c.rem,
    };
    clock_nanosleep(e, tid, c)
}

/// `clock_nanosleep(clock, flags, req, rem)` (`TIMER_ABSTIME`).
pub fn clock_nanosleep(e: &mut World, tid: Vtid, c: ClockNanosleep) -> Res {
    let (clock, flags) = (c.clockid.get(), c.flags.get() as i32);
    let (req, rem) = (c.request.addr(), c.remain.addr());
    match clock {
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME | libc::CLOCK_TAI => {}
        // Raw, coarse and alarm clocks have no sleeps on Linux (this machine has no RTC
        // alarm); neither has the calling thread's CPU clock by its fixed id, nor a
        // dynamic (fd) clock.
        libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_REALTIME_COARSE
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_REALTIME_ALARM
        | libc::CLOCK_BOOTTIME_ALARM
        | libc::CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EOPNOTSUPP),
        k if k < 0 && k & 7 == 3 => return Err(Errno::EOPNOTSUPP),
        k if k == libc::CLOCK_PROCESS_CPUTIME_ID || k < 0 => return cpu_sleep(e, tid, c),
        _ => return Err(Errno::EINVAL),
    }
    let ts: libc::timespec = e.read_val(tid, req)?;
    let ns = ts_nanos(&ts)?;
    let absolute = flags & libc::TIMER_ABSTIME != 0;
    let deadline = if absolute {
        let now = clock_value(e.now, clock)?;
        e.now.plus_nanos(ns.saturating_sub(now))
    } else {
        e.now.plus_nanos(ns)
    };
    if deadline <= e.now {
        return Ok(Out::Return(0));
    }
    let mut b = Blocked::new("sleep").no_restart().until(Some(deadline), 0);
    if rem != 0 && !absolute {
        b = b.remaining(Remaining::Timespec(rem));
    }
    Ok(Out::Block(b))
}

/// `clock_nanosleep` on a CPU-time clock: parks until the clock reaches the deadline
/// (`world::cpu` wakes it). A sleep on the caller's own thread clock is `EINVAL`, as
/// on Linux (it could never end); one on the clock of a thread or process that exits
/// never ends, as on Linux (measured).
fn cpu_sleep(e: &mut World, tid: Vtid, call: ClockNanosleep) -> Res {
    let c = cpu_clock(e, tid, call.clockid.get(), false)?.ok_or(Errno::EINVAL)?;
    if c.thread && c.id == tid {
        return Err(Errno::EINVAL);
    }
    let ts: libc::timespec = e.read_val(tid, call.request.addr())?;
    let ns = ts_nanos(&ts)?;
    let now = e.cpu_of(c).ok_or(Errno::EINVAL)?;
    let absolute = call.flags.get() as i32 & libc::TIMER_ABSTIME != 0;
    let at = if absolute { ns } else { now.saturating_add(ns) };
    if at <= now {
        return Ok(Out::Return(0));
    }
    let rem = if absolute { 0 } else { call.remain.addr() };
    e.cpu_sleepers.insert(tid, (c, at, rem));
    Ok(Out::Block(
        Blocked::new(crate::world::cpu::CPU_SLEEP).no_restart(),
    ))
}

/// `alarm`: SIGALRM after `secs` virtual seconds; returns the seconds left of the
/// previous alarm (rounded to the nearest second, at least 1 if one was pending).
pub fn alarm(e: &mut World, tid: Vtid, c: Alarm) -> Res {
    let secs = u64::from(c.seconds.get());
    let pid = e.threads[&tid].pid;
    let at = (secs > 0).then(|| e.now.plus_nanos(guest::nanos(secs, 0, 0)));
    let (left, _) = set_alarm(e, pid, at, 0);
    let mut s = left / 1_000_000_000;
    if left % 1_000_000_000 >= 500_000_000 || (s == 0 && left > 0) {
        s = s.saturating_add(1);
    }
    Ok(Out::Return(s as i64))
}

/// Replaces the process's `ITIMER_REAL`; returns (nanoseconds left, interval) of the old.
fn set_alarm(e: &mut World, pid: Vtid, at: Option<VTime>, interval: u64) -> (u64, u64) {
    let now = e.now;
    let p = e.procs.get_mut(&pid).expect("process");
    let old_interval = std::mem::replace(&mut p.alarm_interval, interval);
    let left = match p.alarm.take() {
        Some((id, when)) => {
            e.timers.cancel(id);
            due_left(when.as_nanos().saturating_sub(now.as_nanos()))
        }
        None => 0,
    };
    if let Some(at) = at {
        let id = e.timers.insert(at, crate::world::TimerKey::Alarm(pid));
        e.procs.get_mut(&pid).expect("process").alarm = Some((id, at));
    } else {
        e.procs.get_mut(&pid).expect("process").alarm_interval = 0;
    }
    (left, old_interval)
}

/// The time an armed `ITIMER_REAL` has left: due but not fired yet, Linux reports 1 µs.
fn due_left(ns: u64) -> u64 {
    if ns == 0 {
        1000
    } else {
        ns
    }
}

/// Nanoseconds of a timeval from a tracee (`EINVAL` if malformed).
fn tv_nanos(tv: &libc::timeval) -> Result<u64, Errno> {
    if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
        return Err(Errno::EINVAL);
    }
    Ok((tv.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add((tv.tv_usec as u64).saturating_mul(1000)))
}

/// `setitimer(which, new, old)`: `ITIMER_REAL` on the virtual clock, `ITIMER_VIRTUAL`
/// and `ITIMER_PROF` on the process's CPU time; one-shot or repeating.
pub fn setitimer(e: &mut World, tid: Vtid, c: Setitimer) -> Res {
    // Linux reads and checks the new value first; NULL disarms (a deprecated misfeature
    // it still supports).
    let (value, interval) = if c.new_value.is_null() {
        (0, 0)
    } else {
        let new: libc::itimerval = e.read_val(tid, c.new_value.addr())?;
        (tv_nanos(&new.it_value)?, tv_nanos(&new.it_interval)?)
    };
    let pid = e.threads[&tid].pid;
    let (left, old_interval) = match c.which.get() {
        libc::ITIMER_REAL => {
            let at = (value > 0).then(|| e.now.plus_nanos(value));
            set_alarm(e, pid, at, interval)
        }
        w @ (libc::ITIMER_VIRTUAL | libc::ITIMER_PROF) => {
            let i = cpu_itimer(w);
            let now = cpu_itimer_now(e.procs[&pid].cpu, i);
            let p = e.procs.get_mut(&pid).expect("process");
            let old = &p.itimers[i];
            let old = (old.remaining(now), old.interval);
            // Disarmed, it keeps the interval it was given (getitimer reads it back).
            p.itimers[i] = Periodic {
                next: (value > 0).then(|| now.plus_nanos(value)),
                interval,
            };
            old
        }
        _ => return Err(Errno::EINVAL),
    };
    if !c.old_value.is_null() {
        e.write_val(tid, c.old_value.addr(), &itimerval(left, old_interval))?;
    }
    Ok(Out::Return(0))
}

/// The index of `ITIMER_VIRTUAL` (0) or `ITIMER_PROF` (1) in a process's CPU timers.
fn cpu_itimer(which: i32) -> usize {
    usize::from(which == libc::ITIMER_PROF)
}

/// What CPU-time itimer `i` counts, as a point of its schedule: user time (0) or user
/// and system time (1).
fn cpu_itimer_now(cpu: CpuTime, i: usize) -> VTime {
    VTime(if i == 0 { cpu.user } else { cpu.total() })
}

fn itimerval(ns: u64, interval: u64) -> libc::itimerval {
    let tv = |ns: u64| libc::timeval {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_usec: ((ns % 1_000_000_000) / 1000) as i64,
    };
    libc::itimerval {
        it_interval: tv(interval),
        it_value: tv(ns),
    }
}

/// `getitimer(which, cur)`: the timer's time left and interval.
pub fn getitimer(e: &mut World, tid: Vtid, c: Getitimer) -> Res {
    let pid = e.threads[&tid].pid;
    let p = &e.procs[&pid];
    let v = match c.which.get() {
        libc::ITIMER_REAL => {
            let left = p.alarm.map_or(0, |(_, at)| {
                due_left(at.as_nanos().saturating_sub(e.now.as_nanos()))
            });
            itimerval(left, p.alarm_interval)
        }
        w @ (libc::ITIMER_VIRTUAL | libc::ITIMER_PROF) => {
            let i = cpu_itimer(w);
            let t = &p.itimers[i];
            itimerval(t.remaining(cpu_itimer_now(p.cpu, i)), t.interval)
        }
        _ => return Err(Errno::EINVAL),
    };
    e.write_val(tid, c.curr_value.addr(), &v)?;
    Ok(Out::Return(0))
}

/// `times`: the process's and its reaped children's CPU times, in 100 Hz ticks.
pub fn times(e: &mut World, tid: Vtid, c: Times) -> Res {
    let out = c.buf.addr();
    let p = &e.procs[&e.threads[&tid].pid];
    let tms = libc::tms {
        tms_utime: ticks(p.cpu.user),
        tms_stime: ticks(p.cpu.sys),
        tms_cutime: ticks(p.cpu_children.user),
        tms_cstime: ticks(p.cpu_children.sys),
    };
    if out != 0 {
        e.write_val(tid, out, &tms)?;
    }
    Ok(Out::Return(
        ticks(e.now.as_nanos()).saturating_add((BOOT_SECS as i64).saturating_mul(100)),
    ))
}

/// A `struct rusage` with these CPU times and everything else zero.
pub(crate) fn rusage(cpu: CpuTime) -> libc::rusage {
    let mut r: libc::rusage = crate::sys::pod_read(&[0u8; std::mem::size_of::<libc::rusage>()]);
    let tv = |ns: u64| libc::timeval {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_usec: ((ns % 1_000_000_000) / 1000) as i64,
    };
    r.ru_utime = tv(cpu.user);
    r.ru_stime = tv(cpu.sys);
    r
}

/// `getrusage(who, usage)`: the CPU times of the process (`RUSAGE_SELF`), its reaped
/// children (`RUSAGE_CHILDREN`) or the thread (`RUSAGE_THREAD`); everything else zero.
pub fn getrusage(e: &mut World, tid: Vtid, c: Getrusage) -> Res {
    let t = &e.threads[&tid];
    let p = &e.procs[&t.pid];
    let cpu = match c.who.get() {
        libc::RUSAGE_SELF => p.cpu,
        libc::RUSAGE_CHILDREN => p.cpu_children,
        libc::RUSAGE_THREAD => t.cpu,
        _ => return Err(Errno::EINVAL),
    };
    e.write_val(tid, c.usage.addr(), &rusage(cpu))?;
    Ok(Out::Return(0))
}

/// `sysinfo`: fixed memory figures, virtual uptime.
pub fn sysinfo(e: &mut World, tid: Vtid, c: Sysinfo) -> Res {
    let mut s: libc::sysinfo = crate::sys::pod_read(&[0u8; std::mem::size_of::<libc::sysinfo>()]);
    s.uptime = BOOT_SECS.saturating_add(e.now.as_nanos() / 1_000_000_000) as i64;
    s.totalram = 4 << 30;
    s.freeram = 2 << 30;
    s.procs = e.procs.len() as u16;
    s.mem_unit = 1;
    e.write_val(tid, c.info.addr(), &s)?;
    Ok(Out::Return(0))
}

/// `getrandom`: bytes from the process's seeded stream.
pub fn getrandom(e: &mut World, tid: Vtid, c: Getrandom) -> Res {
    let (buf, len, flags) = (c.buf.addr(), c.buflen, c.flags.get());
    let known = libc::GRND_NONBLOCK | libc::GRND_RANDOM | libc::GRND_INSECURE;
    let both = libc::GRND_INSECURE | libc::GRND_RANDOM;
    if flags & !known != 0 || flags & both == both {
        return Err(Errno::EINVAL);
    }
    let n = guest::ubuf_len(buf, len)?;
    super::io::fill_random(e, tid, &super::io::Dest::Buf(buf, n), n)
}
