//! Timers on the virtual clock: POSIX timers (`timer_create`, `timer_settime`,
//! `timer_gettime`, `timer_getoverrun`, `timer_delete`) and timerfds (`timerfd_create`,
//! `timerfd_settime`, `timerfd_gettime`, reads).
//!
//! POSIX timers are emulated entirely: a per-process table with the ids Linux would hand
//! out (0, 1, 2… per process, never reused). A timer that notifies by a signal
//! (`SIGEV_SIGNAL`, `SIGEV_THREAD_ID`; glibc builds `SIGEV_THREAD` on the latter) has an
//! engine timer at its next expiry; the engine queues the signal with `SI_TIMER` and the
//! timer's id and value (`world::signal`). A `SIGEV_NONE` timer needs no engine timer:
//! `timer_gettime` computes it from the schedule. A timer on a CPU-time clock (the
//! process's, a thread's of the process, or another process's) has its schedule on that
//! clock's readings instead and no engine timer: it is checked each time a thread is
//! charged CPU time (`world::cpu`), and its signal goes to the running thread unless it
//! was given one or the running thread blocks the signal.
//!
//! A timerfd's kernel placeholder is a real, never-armed timerfd (so `timerfd_create`'s
//! validation is the kernel's); its schedule and expirations live in the fd model and
//! are counted lazily: an engine timer only wakes waiters at the next expiry.

use super::{io::lookup, Out, Post, Res};
use crate::errno::Errno;
use crate::fd::{Fd, Kind, Obj};
use crate::syscall::calls::{
    TimerCreate, TimerDelete, TimerGetoverrun, TimerGettime, TimerSettime, TimerfdCreate,
    TimerfdGettime, TimerfdSettime,
};
use crate::time::{Periodic, VTime};
use crate::world::{Notify, PosixTimer};
use crate::world::{TimerKey, Vtid, World};

/// Most POSIX timers one process may hold (Linux bounds them by memory and
/// `RLIMIT_SIGPENDING`; this keeps a hostile guest from growing the table without end).
const MAX_TIMERS: usize = 65536;

/// Whether POSIX timers can run on `clock` for thread `tid`: `Ok(None)` for the clocks
/// that follow the virtual clock, `Ok(Some)` for a CPU-time clock (see
/// [`super::time::cpu_clock`]); `EOPNOTSUPP` for the ones Linux has no timers on (raw and
/// coarse clocks, the alarm clocks on a machine without an RTC alarm, as this one, and
/// dynamic fd clocks); `EINVAL` for what is not a clock.
fn timer_clock(
    e: &mut World,
    tid: Vtid,
    clock: i32,
) -> Result<Option<crate::world::cpu::CpuClock>, Errno> {
    match clock {
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME | libc::CLOCK_TAI => {
            Ok(None)
        }
        libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_REALTIME_COARSE
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_REALTIME_ALARM
        | libc::CLOCK_BOOTTIME_ALARM => Err(Errno::EOPNOTSUPP),
        c if c < 0 && c & 7 == 3 => Err(Errno::EOPNOTSUPP),
        c => match super::time::cpu_clock(e, tid, c, false)? {
            Some(cpu) => Ok(Some(cpu)),
            None => Err(Errno::EINVAL),
        },
    }
}

/// The virtual time at which `clock` reads `value` ns (now, if it already has).
fn abs_time(now: VTime, clock: i32, value: u64) -> Result<VTime, Errno> {
    let clock = match clock {
        libc::CLOCK_REALTIME_ALARM => libc::CLOCK_REALTIME,
        libc::CLOCK_BOOTTIME_ALARM => libc::CLOCK_BOOTTIME,
        c => c,
    };
    let reads = super::time::clock_value(now, clock)?;
    Ok(now.plus_nanos(value.saturating_sub(reads)))
}

fn read_itimerspec(e: &World, tid: Vtid, p: u64) -> Result<(u64, u64), Errno> {
    let its: libc::itimerspec = e.read_val(tid, p)?;
    Ok((
        super::time::ts_nanos(&its.it_value)?,
        super::time::ts_nanos(&its.it_interval)?,
    ))
}

fn write_itimerspec(e: &World, tid: Vtid, p: u64, value: u64, interval: u64) -> Res {
    let its = libc::itimerspec {
        it_interval: super::time::timespec(interval),
        it_value: super::time::timespec(value),
    };
    e.write_val(tid, p, &its)?;
    Ok(Out::Return(0))
}

/// `timer_create(clockid, sevp, timerid)`.
pub fn timer_create(e: &mut World, tid: Vtid, c: TimerCreate) -> Res {
    let clock = c.clockid.get();
    let cpu = timer_clock(e, tid, clock)?;
    let pid = e.threads[&tid].pid;
    let id = e.procs[&pid].next_timer;
    let notify = if c.sevp.is_null() {
        Notify::Signal {
            sig: libc::SIGALRM,
            value: id as u32 as u64,
            thread: None,
        }
    } else {
        // struct sigevent: sigev_value (8), sigev_signo (4), sigev_notify (4), then the
        // thread id of SIGEV_THREAD_ID; the kernel copies all 64 bytes.
        let raw = e.read_mem(tid, c.sevp.addr(), 64)?;
        let word = |o: usize| i32::from_ne_bytes(raw[o..][..4].try_into().expect("4 bytes"));
        let value = u64::from_ne_bytes(raw[0..8].try_into().expect("8 bytes"));
        let (sig, how) = (word(8), word(12));
        let thread = if how & libc::SIGEV_THREAD_ID != 0 {
            let t = word(16);
            if e.threads.get(&t).is_none_or(|x| x.pid != pid) {
                return Err(Errno::EINVAL);
            }
            Some(t)
        } else {
            None
        };
        match how & !libc::SIGEV_THREAD_ID {
            libc::SIGEV_NONE => Notify::None,
            libc::SIGEV_SIGNAL | libc::SIGEV_THREAD if (1..=64).contains(&sig) => {
                Notify::Signal { sig, value, thread }
            }
            _ => return Err(Errno::EINVAL),
        }
    };
    let p = e.procs.get_mut(&pid).expect("process");
    if p.timers.len() >= MAX_TIMERS || id == i32::MAX {
        return Err(Errno::EAGAIN);
    }
    e.write_val(tid, c.timerid.addr(), &id)?;
    let p = e.procs.get_mut(&pid).expect("process");
    p.next_timer = id.saturating_add(1);
    p.timers.insert(
        id,
        PosixTimer {
            clock,
            notify,
            schedule: Periodic::default(),
            timer: None,
            queued: None,
            overrun_acc: 0,
            overrun: 0,
            cpu,
        },
    );
    Ok(Out::Return(0))
}

/// What timer `t`'s schedule is counted in reads now: the virtual time, or its CPU-time
/// clock's reading (0 once that clock's thread or process is gone).
fn timer_now(e: &World, t: &PosixTimer) -> VTime {
    match t.cpu {
        Some(c) => VTime(e.cpu_of(c).unwrap_or(0)),
        None => e.now,
    }
}

/// The timer's setting as `timer_gettime` reports it: (value, interval) in ns.
fn current(e: &mut World, pid: Vtid, id: i32) -> Result<(u64, u64), Errno> {
    let t = e.procs.get(&pid).and_then(|p| p.timers.get(&id));
    let now = timer_now(e, t.ok_or(Errno::EINVAL)?);
    let t = e.procs.get_mut(&pid).and_then(|p| p.timers.get_mut(&id));
    let t = t.expect("just read");
    if t.notify == Notify::None {
        // Nothing fires it: move it past now here.
        t.schedule.advance(now);
    }
    let mut value = t.schedule.remaining(now);
    if value == 0 && t.schedule.next.is_some() {
        value = 1; // due, its signal not sent yet: Linux reports 1 ns
    }
    Ok((value, t.schedule.interval))
}

/// `timer_settime(timerid, flags, new_value, old_value)`.
pub fn timer_settime(e: &mut World, tid: Vtid, c: TimerSettime) -> Res {
    let (id, flags) = (c.timerid.get(), c.flags.get() as i32);
    if c.new_value.is_null() {
        return Err(Errno::EINVAL);
    }
    // Linux looks only at TIMER_ABSTIME among the flags.
    let (value, interval) = read_itimerspec(e, tid, c.new_value.addr())?;
    let pid = e.threads[&tid].pid;
    let old = current(e, pid, id)?;
    let t = e.procs.get_mut(&pid).and_then(|p| p.timers.get_mut(&id));
    let t = t.expect("checked by current");
    if let Some(old) = t.timer.take() {
        e.timers.cancel(old);
    }
    e.cpu_timers.remove(&(pid, id));
    let t = e.procs.get_mut(&pid).and_then(|p| p.timers.get_mut(&id));
    let t = t.expect("checked by current");
    t.queued = None;
    t.overrun_acc = 0;
    t.overrun = 0;
    // Linux drops the interval of a timer disarmed with a zero value.
    t.schedule = Periodic::default();
    if value > 0 {
        arm(
            e,
            pid,
            id,
            value,
            interval,
            flags & libc::TIMER_ABSTIME != 0,
        )?;
    }
    if !c.old_value.is_null() {
        return write_itimerspec(e, tid, c.old_value.addr(), old.0, old.1);
    }
    Ok(Out::Return(0))
}

/// Arms POSIX timer `id` of `pid` at `value` (absolute or from now) on its clock, then
/// every `interval` ns: an engine timer at the expiry of a signal timer on the virtual
/// clock, a watch (`world::cpu`) for a signal timer on a CPU-time clock.
fn arm(
    e: &mut World,
    pid: Vtid,
    id: i32,
    value: u64,
    interval: u64,
    abs: bool,
) -> Result<(), Errno> {
    let t = &e.procs[&pid].timers[&id];
    let (clock, cpu, signals) = (t.clock, t.cpu, matches!(t.notify, Notify::Signal { .. }));
    let now = timer_now(e, t);
    let at = match (abs, cpu) {
        (true, Some(_)) => VTime(value),
        (true, None) => abs_time(now, clock, value)?,
        (false, _) => now.plus_nanos(value),
    };
    let t = e.procs.get_mut(&pid).and_then(|p| p.timers.get_mut(&id));
    t.expect("checked by current").schedule = Periodic::armed(at, interval);
    match (signals, cpu) {
        (false, _) => {}
        (true, Some(_)) => {
            e.cpu_timers.insert((pid, id));
        }
        (true, None) => {
            let timer = e.timers.insert(at, TimerKey::Posix(pid, id));
            let t = e.procs.get_mut(&pid).and_then(|p| p.timers.get_mut(&id));
            t.expect("checked by current").timer = Some(timer);
        }
    }
    Ok(())
}

/// `timer_gettime(timerid, curr_value)`.
pub fn timer_gettime(e: &mut World, tid: Vtid, c: TimerGettime) -> Res {
    let pid = e.threads[&tid].pid;
    let (value, interval) = current(e, pid, c.timerid.get())?;
    write_itimerspec(e, tid, c.curr_value.addr(), value, interval)
}

/// `timer_getoverrun(timerid)`: the overruns of the timer's last delivered signal.
pub fn timer_getoverrun(e: &mut World, tid: Vtid, c: TimerGetoverrun) -> Res {
    let pid = e.threads[&tid].pid;
    let id = c.timerid.get();
    if !e.procs[&pid].timers.contains_key(&id) {
        return Err(Errno::EINVAL);
    }
    e.settle_timer(pid, id);
    Ok(Out::Return(e.procs[&pid].timers[&id].overrun as i64))
}

/// `timer_delete(timerid)`.
pub fn timer_delete(e: &mut World, tid: Vtid, c: TimerDelete) -> Res {
    let pid = e.threads[&tid].pid;
    let id = c.timerid.get();
    let p = e.procs.get_mut(&pid).expect("process");
    let t = p.timers.remove(&id).ok_or(Errno::EINVAL)?;
    if let Some(timer) = t.timer {
        e.timers.cancel(timer);
    }
    e.cpu_timers.remove(&(pid, id));
    Ok(Out::Return(0))
}

/// What a timer call does at its exit.
pub(crate) enum Exit {
    /// `timerfd_create` with this clock and these flags: the new fd is a timerfd.
    TimerfdCreated {
        /// Its clock.
        clock: i32,
        /// `timerfd_create`'s flags.
        flags: i32,
    },
}

impl Exit {
    /// Runs the action with the kernel's return value `ret`.
    pub(crate) fn run(self, e: &mut World, tid: Vtid, ret: i64) -> Option<i64> {
        match self {
            Exit::TimerfdCreated { clock, flags } => timerfd_created(e, tid, ret, clock, flags),
        }
    }
}

/// `timerfd_create(clockid, flags)`: the kernel validates and makes the placeholder.
pub fn timerfd_create(_e: &mut World, _tid: Vtid, c: TimerfdCreate) -> Res {
    let (clock, flags) = (c.clockid.get(), c.flags.get() as i32);
    Ok(Out::PassThen(Post::Timer(Exit::TimerfdCreated {
        clock,
        flags,
    })))
}

/// At `timerfd_create`'s exit: a new fd `ret` is installed as a timerfd of the model.
fn timerfd_created(e: &mut World, tid: Vtid, ret: i64, clock: i32, flags: i32) -> Option<i64> {
    if ret >= 0 {
        e.files.timerfds.push(crate::fd::TimerFd {
            clock,
            ..crate::fd::TimerFd::default()
        });
        let id = e.files.timerfds.len().saturating_sub(1);
        let (nonblock, cloexec) = (
            flags & libc::TFD_NONBLOCK != 0,
            flags & libc::TFD_CLOEXEC != 0,
        );
        super::io::install_new(e, tid, ret as i32, Kind::TimerFd(id), nonblock, cloexec);
    }
    None
}

/// The timerfd behind `fd`: `Ok(None)` for a kernel fd (the kernel answers), `EINVAL`
/// for a virtual fd of another kind.
fn timerfd_of(e: &World, tid: Vtid, fd: u64) -> Result<Option<usize>, Errno> {
    match lookup(e, tid, fd) {
        None => Ok(None),
        Some(Fd { file, .. }) => match e.files.file(file).kind {
            Kind::TimerFd(id) => Ok(Some(id)),
            _ => Err(Errno::EINVAL),
        },
    }
}

/// Counts timerfd `id`'s expirations up to now.
fn timerfd_advance(e: &mut World, id: usize) {
    let now = e.now;
    let t = &mut e.files.timerfds[id];
    t.ticks = t.ticks.saturating_add(t.schedule.advance(now));
}

/// `timerfd_settime(fd, flags, new_value, old_value)`.
pub fn timerfd_settime(e: &mut World, tid: Vtid, c: TimerfdSettime) -> Res {
    if lookup(e, tid, c.fd.raw()).is_none() {
        return Ok(Out::Pass);
    }
    let flags = c.flags.get() as i32;
    let its: libc::itimerspec = e.read_val(tid, c.new_value.addr())?;
    let allowed = libc::TFD_TIMER_ABSTIME | libc::TFD_TIMER_CANCEL_ON_SET;
    let (Ok(value), Ok(interval)) = (
        super::time::ts_nanos(&its.it_value),
        super::time::ts_nanos(&its.it_interval),
    ) else {
        return Err(Errno::EINVAL);
    };
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL);
    }
    let id = timerfd_of(e, tid, c.fd.raw())?.expect("virtual");
    timerfd_advance(e, id);
    let now = e.now;
    let t = &e.files.timerfds[id];
    let old = (t.schedule.remaining(now), t.schedule.interval);
    let schedule = if value == 0 {
        // Disarmed; Linux keeps the interval (timerfd_gettime reports it).
        Periodic {
            next: None,
            interval,
        }
    } else if flags & libc::TFD_TIMER_ABSTIME != 0 {
        Periodic::armed(abs_time(now, t.clock, value)?, interval)
    } else {
        Periodic::armed(now.plus_nanos(value), interval)
    };
    let t = &mut e.files.timerfds[id];
    t.schedule = schedule;
    t.ticks = 0;
    e.arm_timerfd(id);
    if !c.old_value.is_null() {
        return write_itimerspec(e, tid, c.old_value.addr(), old.0, old.1);
    }
    Ok(Out::Return(0))
}

/// `timerfd_gettime(fd, curr_value)`.
pub fn timerfd_gettime(e: &mut World, tid: Vtid, c: TimerfdGettime) -> Res {
    let Some(id) = timerfd_of(e, tid, c.fd.raw())? else {
        return Ok(Out::Pass);
    };
    timerfd_advance(e, id);
    let t = &e.files.timerfds[id];
    let (value, interval) = (t.schedule.remaining(e.now), t.schedule.interval);
    write_itimerspec(e, tid, c.curr_value.addr(), value, interval)
}

/// A read of timerfd `id`: the expirations since the last read, as a `u64`.
pub(crate) fn timerfd_read(
    e: &mut World,
    tid: Vtid,
    file: usize,
    id: usize,
    dest: &super::io::Dest,
) -> Res {
    if dest.len() < 8 {
        return Err(Errno::EINVAL);
    }
    timerfd_advance(e, id);
    let ticks = e.files.timerfds[id].ticks;
    if ticks == 0 {
        return if e.files.file(file).nonblock {
            Err(Errno::EAGAIN)
        } else {
            Ok(Out::Block(super::Blocked::on(
                vec![Obj::TimerFd(id)],
                "a timerfd",
            )))
        };
    }
    // As Linux: the count is taken before it is copied out (a bad buffer loses it).
    e.files.timerfds[id].ticks = 0;
    e.arm_timerfd(id);
    dest.put(e, tid, &ticks.to_ne_bytes())?;
    Ok(Out::Return(8))
}

/// Readiness of timerfd `id` (`POLLIN` once it has expired).
pub(crate) fn timerfd_bits(e: &World, id: usize) -> u32 {
    let t = &e.files.timerfds[id];
    if t.ticks > 0 || t.schedule.due(e.now) {
        libc::POLLIN as u32
    } else {
        0
    }
}
