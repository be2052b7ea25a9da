//! Time and randomness: clocks, sleeps, alarms, resource usage, `sysinfo`, `getrandom`.
//!
//! Every clock reads the scenario's virtual clock: `CLOCK_REALTIME` starts at a fixed
//! epoch, the monotonic clocks at a fixed boot offset, CPU-time clocks equal the virtual
//! time since start. Sleeps park the thread with a deadline; when nothing can run, the
//! engine jumps the clock to the next deadline. A signal that cuts a sleep short leaves
//! the time that was left in `rem`. `ITIMER_REAL` (and `alarm`) repeat with their
//! interval; `ITIMER_VIRTUAL` and `ITIMER_PROF` are refused (`EINVAL`, warned once):
//! takt has no per-process CPU time for them to count.

use super::guest;
use super::{Blocked, Out, Remaining, Res};
use crate::engine::{Engine, Vtid};
use crate::errno::Errno;
use crate::time::VTime;

/// `CLOCK_REALTIME` at the start of every run: 2026-01-01T00:00:00Z.
pub const EPOCH_SECS: u64 = 1_767_225_600;
/// `CLOCK_MONOTONIC` at the start of every run (as if booted 100 s earlier).
pub const BOOT_SECS: u64 = 100;

/// The value of `clock` at virtual time `now`, in nanoseconds.
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
        libc::CLOCK_PROCESS_CPUTIME_ID | libc::CLOCK_THREAD_CPUTIME_ID => Ok(ns),
        // Per-process/thread CPU clocks (negative ids from clock_getcpuclockid).
        c if c < 0 => Ok(ns),
        _ => Err(Errno::EINVAL),
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
pub fn clock_gettime(e: &mut Engine, tid: Vtid, clock: i32, out: u64) -> Res {
    let v = clock_value(e.now, clock)?;
    e.write_val(tid, out, &timespec(v))?;
    Ok(Out::Return(0))
}

/// `clock_getres`: 1 ns, for the clocks `clock_gettime` knows (else `EINVAL`).
pub fn clock_getres(e: &mut Engine, tid: Vtid, clock: i32, out: u64) -> Res {
    clock_value(e.now, clock)?;
    if out != 0 {
        e.write_val(tid, out, &timespec(1))?;
    }
    Ok(Out::Return(0))
}

/// `gettimeofday(tv, tz)`: a `tz` is written too, as the kernel's `sys_tz` of a UTC
/// machine (no minutes west, no DST correction).
pub fn gettimeofday(e: &mut Engine, tid: Vtid, out: u64, tz: u64) -> Res {
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
pub fn time(e: &mut Engine, tid: Vtid, out: u64) -> Res {
    let secs = (clock_value(e.now, libc::CLOCK_REALTIME)? / 1_000_000_000) as i64;
    if out != 0 {
        e.write_val(tid, out, &secs)?;
    }
    Ok(Out::Return(secs))
}

/// `nanosleep(req, rem)` and `clock_nanosleep(clock, flags, req, rem)` (`TIMER_ABSTIME`).
pub fn nanosleep(e: &mut Engine, tid: Vtid, a: [u64; 6], clock_variant: bool) -> Res {
    let (clock, flags, req, rem) = if clock_variant {
        (a[0] as i32, a[1] as i32, a[2], a[3])
    } else {
        (libc::CLOCK_MONOTONIC, 0, a[0], a[1])
    };
    match clock {
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME | libc::CLOCK_TAI => {}
        // Raw, coarse and alarm clocks have no sleeps on Linux (this machine has no RTC
        // alarm); neither does a thread's CPU clock.
        libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_REALTIME_COARSE
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_REALTIME_ALARM
        | libc::CLOCK_BOOTTIME_ALARM
        | libc::CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EOPNOTSUPP),
        c if c == libc::CLOCK_PROCESS_CPUTIME_ID || (c < 0 && c & 3 != 3) => {
            e.warn(
                "clock_nanosleep on a CPU-time clock answered EOPNOTSUPP (takt has no \
                 per-process CPU time)"
                    .into(),
            );
            return Err(Errno::EOPNOTSUPP);
        }
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

/// `alarm`: SIGALRM after `secs` virtual seconds; returns the seconds left of the
/// previous alarm (rounded to the nearest second, at least 1 if one was pending).
pub fn alarm(e: &mut Engine, tid: Vtid, secs: u64) -> Res {
    let secs = secs as u32 as u64;
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
fn set_alarm(e: &mut Engine, pid: Vtid, at: Option<VTime>, interval: u64) -> (u64, u64) {
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
        let id = e.timers.insert(at, crate::engine::TimerKey::Alarm(pid));
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

/// `setitimer(which, new, old)`: `ITIMER_REAL`, one-shot or repeating.
pub fn setitimer(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    // Linux reads and checks the new value first; NULL disarms (a deprecated misfeature
    // it still supports).
    let (value, interval) = if a[1] == 0 {
        (0, 0)
    } else {
        let new: libc::itimerval = e.read_val(tid, a[1])?;
        (tv_nanos(&new.it_value)?, tv_nanos(&new.it_interval)?)
    };
    match a[0] as i32 {
        libc::ITIMER_REAL => {}
        libc::ITIMER_VIRTUAL | libc::ITIMER_PROF => {
            e.warn(
                "setitimer(ITIMER_VIRTUAL/ITIMER_PROF) answered EINVAL (takt has no \
                 per-process CPU time)"
                    .into(),
            );
            return Err(Errno::EINVAL);
        }
        _ => return Err(Errno::EINVAL),
    }
    let pid = e.threads[&tid].pid;
    let at = (value > 0).then(|| e.now.plus_nanos(value));
    let (left, old_interval) = set_alarm(e, pid, at, interval);
    if a[2] != 0 {
        e.write_val(tid, a[2], &itimerval(left, old_interval))?;
    }
    Ok(Out::Return(0))
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

/// `getitimer(which, cur)`: `ITIMER_REAL`'s time left and interval; the CPU-time timers
/// read as never armed (setting them is refused).
pub fn getitimer(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    let pid = e.threads[&tid].pid;
    let v = match a[0] as i32 {
        libc::ITIMER_REAL => {
            let p = &e.procs[&pid];
            let left = p.alarm.map_or(0, |(_, at)| {
                due_left(at.as_nanos().saturating_sub(e.now.as_nanos()))
            });
            itimerval(left, p.alarm_interval)
        }
        libc::ITIMER_VIRTUAL | libc::ITIMER_PROF => itimerval(0, 0),
        _ => return Err(Errno::EINVAL),
    };
    e.write_val(tid, a[1], &v)?;
    Ok(Out::Return(0))
}

/// `times`: CPU times are the virtual time since start (in 100 Hz ticks).
pub fn times(e: &mut Engine, tid: Vtid, out: u64) -> Res {
    let ticks = (e.now.as_nanos() / 10_000_000) as i64;
    if out != 0 {
        e.write_val(
            tid,
            out,
            &libc::tms {
                tms_utime: ticks,
                tms_stime: 0,
                tms_cutime: 0,
                tms_cstime: 0,
            },
        )?;
    }
    Ok(Out::Return(
        ticks.saturating_add((BOOT_SECS as i64).saturating_mul(100)),
    ))
}

/// `getrusage`: user time = virtual time; everything else zero.
pub fn getrusage(e: &mut Engine, tid: Vtid, who: i32, out: u64) -> Res {
    if !matches!(
        who,
        libc::RUSAGE_SELF | libc::RUSAGE_CHILDREN | libc::RUSAGE_THREAD
    ) {
        return Err(Errno::EINVAL);
    }
    // SAFETY-free construction: rusage is plain integers; zeroed via Default-like init.
    let mut r: libc::rusage = crate::sys::pod_read(&[0u8; std::mem::size_of::<libc::rusage>()]);
    let ns = e.now.as_nanos();
    r.ru_utime = libc::timeval {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_usec: ((ns % 1_000_000_000) / 1000) as i64,
    };
    e.write_val(tid, out, &r)?;
    Ok(Out::Return(0))
}

/// `sysinfo`: fixed memory figures, virtual uptime.
pub fn sysinfo(e: &mut Engine, tid: Vtid, out: u64) -> Res {
    let mut s: libc::sysinfo = crate::sys::pod_read(&[0u8; std::mem::size_of::<libc::sysinfo>()]);
    s.uptime = BOOT_SECS.saturating_add(e.now.as_nanos() / 1_000_000_000) as i64;
    s.totalram = 4 << 30;
    s.freeram = 2 << 30;
    s.procs = e.procs.len() as u16;
    s.mem_unit = 1;
    e.write_val(tid, out, &s)?;
    Ok(Out::Return(0))
}

/// `getrandom`: bytes from the process's seeded stream.
pub fn getrandom(e: &mut Engine, tid: Vtid, buf: u64, len: u64, flags: u64) -> Res {
    let known = (libc::GRND_NONBLOCK | libc::GRND_RANDOM | libc::GRND_INSECURE) as u64;
    let both = (libc::GRND_INSECURE | libc::GRND_RANDOM) as u64;
    if flags & !known != 0 || flags & both == both {
        return Err(Errno::EINVAL);
    }
    let n = guest::ubuf_len(buf, len)?;
    super::io::fill_random(e, tid, &super::io::Dest::Buf(buf, n), n)
}
