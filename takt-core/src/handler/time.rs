//! Time and randomness: clocks, sleeps, alarms, resource usage, `sysinfo`, `getrandom`.
//!
//! Every clock reads the scenario's virtual clock: `CLOCK_REALTIME` starts at a fixed
//! epoch, the monotonic clocks at a fixed boot offset, CPU-time clocks equal the virtual
//! time since start. Sleeps park the thread with a deadline; when nothing can run, the
//! engine jumps the clock to the next deadline.

use super::guest;
use super::{Blocked, Out, Res};
use crate::engine::{Engine, Vtid};
use crate::errno::Errno;
use crate::time::VTime;

/// `CLOCK_REALTIME` at the start of every run: 2026-01-01T00:00:00Z.
pub const EPOCH_SECS: u64 = 1_767_225_600;
/// `CLOCK_MONOTONIC` at the start of every run (as if booted 100 s earlier).
pub const BOOT_SECS: u64 = 100;

fn clock_value(now: VTime, clock: i32) -> Result<u64, Errno> {
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

fn timespec(ns: u64) -> libc::timespec {
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

/// `clock_getres`: 1 ns.
pub fn clock_getres(e: &mut Engine, tid: Vtid, out: u64) -> Res {
    if out != 0 {
        e.write_val(tid, out, &timespec(1))?;
    }
    Ok(Out::Return(0))
}

/// `gettimeofday`.
pub fn gettimeofday(e: &mut Engine, tid: Vtid, out: u64) -> Res {
    if out != 0 {
        let ns = clock_value(e.now, libc::CLOCK_REALTIME)?;
        let tv = libc::timeval {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_usec: ((ns % 1_000_000_000) / 1000) as i64,
        };
        e.write_val(tid, out, &tv)?;
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

/// `nanosleep` and `clock_nanosleep` (`TIMER_ABSTIME` in `flags` for the latter).
pub fn nanosleep(e: &mut Engine, tid: Vtid, req: u64, flags: i32, clock_variant: bool) -> Res {
    let ts: libc::timespec = e.read_val(tid, req)?;
    let ns = ts_nanos(&ts)?;
    let deadline = if clock_variant && flags & libc::TIMER_ABSTIME != 0 {
        let clock = e.threads[&tid].cur.1[0] as i32;
        let now = clock_value(e.now, clock)?;
        e.now.plus_nanos(ns.saturating_sub(now))
    } else {
        e.now.plus_nanos(ns)
    };
    if deadline <= e.now {
        return Ok(Out::Return(0));
    }
    Ok(Out::Block(
        Blocked::new("sleep").no_restart().until(Some(deadline), 0),
    ))
}

/// `alarm`: SIGALRM after `secs` virtual seconds; returns the seconds left of the
/// previous alarm.
pub fn alarm(e: &mut Engine, tid: Vtid, secs: u64) -> Res {
    let pid = e.threads[&tid].pid;
    let left = set_alarm(
        e,
        pid,
        (secs > 0).then(|| e.now.plus_nanos(guest::nanos(secs, 0, 0))),
    );
    Ok(Out::Return(left.div_ceil(1_000_000_000) as i64))
}

/// Replaces the process's alarm; returns the nanoseconds the old one had left.
fn set_alarm(e: &mut Engine, pid: Vtid, at: Option<VTime>) -> u64 {
    let now = e.now;
    let p = e.procs.get_mut(&pid).expect("process");
    let left = match p.alarm.take() {
        Some((id, when)) => {
            e.timers.cancel(id);
            when.as_nanos().saturating_sub(now.as_nanos())
        }
        None => 0,
    };
    if let Some(at) = at {
        let id = e.timers.insert(at, crate::engine::TimerKey::Alarm(pid));
        e.procs.get_mut(&pid).expect("process").alarm = Some((id, at));
    }
    left
}

/// `setitimer(ITIMER_REAL)` (one-shot; intervals are not modelled and are refused).
pub fn setitimer(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    if a[0] as i32 != libc::ITIMER_REAL {
        e.warn("setitimer other than ITIMER_REAL answered EINVAL".into());
        return Err(Errno::EINVAL);
    }
    let new: libc::itimerval = e.read_val(tid, a[1])?;
    if new.it_interval.tv_sec != 0 || new.it_interval.tv_usec != 0 {
        e.warn("setitimer with an interval answered EINVAL".into());
        return Err(Errno::EINVAL);
    }
    let v = new.it_value;
    if v.tv_sec < 0 || !(0..1_000_000).contains(&v.tv_usec) {
        return Err(Errno::EINVAL);
    }
    let ns = guest::nanos(v.tv_sec as u64, v.tv_usec as u64, 1000);
    let pid = e.threads[&tid].pid;
    let left = set_alarm(e, pid, (ns > 0).then(|| e.now.plus_nanos(ns)));
    if a[2] != 0 {
        e.write_val(tid, a[2], &itimerval(left))?;
    }
    Ok(Out::Return(0))
}

fn itimerval(ns: u64) -> libc::itimerval {
    libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: libc::timeval {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_usec: ((ns % 1_000_000_000) / 1000) as i64,
        },
    }
}

/// `getitimer(ITIMER_REAL)`.
pub fn getitimer(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    let pid = e.threads[&tid].pid;
    let left = e.procs[&pid]
        .alarm
        .map_or(0, |(_, at)| at.as_nanos().saturating_sub(e.now.as_nanos()));
    e.write_val(tid, a[1], &itimerval(left))?;
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
pub fn getrusage(e: &mut Engine, tid: Vtid, out: u64) -> Res {
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
