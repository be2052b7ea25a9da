//! Typed calls on clocks, sleeps and timers, and the resource and system queries takt
//! answers from its virtual clock.

use crate::syscall::arg::*;
use crate::syscall::decl::{calls, Custom};
use crate::syscall::enums::*;
use crate::syscall::flags::*;
use crate::syscall::render::Render;

calls! {
    /// `clock_gettime(clockid, tp)`
    ClockGettime = clock_gettime(clockid: ClockId, tp: TimespecOut);
    /// `clock_getres(clockid, res)`
    ClockGetres = clock_getres(clockid: ClockId, res: TimespecOut);
    /// `clock_settime(clockid, tp)`
    ClockSettime = clock_settime(clockid: ClockId, tp: TimespecIn);
    /// `gettimeofday(tv, tz)`
    Gettimeofday = gettimeofday(tv: TimevalOut, tz: UserPtr);
    /// `settimeofday(tv, tz)`
    Settimeofday = settimeofday(tv: TimevalIn, tz: UserPtr);
    /// `time(tloc)`
    Time = time(tloc: UserPtr) custom;
    /// `nanosleep(req, rem)`
    Nanosleep = nanosleep(req: TimespecIn, rem: RemPtr);
    /// `clock_nanosleep(clockid, flags, request, remain)`
    ClockNanosleep = clock_nanosleep(clockid: ClockId, flags: TimerFlags, request: TimespecIn, remain: RemPtr);
    /// `alarm(seconds)`
    Alarm = alarm(seconds: UInt);
    /// `timer_create(clockid, sevp, timerid)`
    TimerCreate = timer_create(clockid: ClockId, sevp: UserPtr, timerid: UserPtr);
    /// `timer_settime(timerid, flags, new_value, old_value)`
    TimerSettime = timer_settime(timerid: Int, flags: TimerFlags, new_value: UserPtr, old_value: UserPtr);
    /// `timer_gettime(timerid, curr_value)`
    TimerGettime = timer_gettime(timerid: Int, curr_value: UserPtr);
    /// `timer_getoverrun(timerid)`
    TimerGetoverrun = timer_getoverrun(timerid: Int);
    /// `timer_delete(timerid)`
    TimerDelete = timer_delete(timerid: Int);
    /// `timerfd_create(clockid, flags)`
    TimerfdCreate = timerfd_create(clockid: ClockId, flags: Hex32);
    /// `timerfd_settime(fd, flags, new_value, old_value)`
    TimerfdSettime = timerfd_settime(fd: Fd, flags: Hex32, new_value: UserPtr, old_value: UserPtr);
    /// `timerfd_gettime(fd, curr_value)`
    TimerfdGettime = timerfd_gettime(fd: Fd, curr_value: UserPtr);
    /// `setitimer(which, new_value, old_value)`
    Setitimer = setitimer(which: ItimerWhich, new_value: ItimervalIn, old_value: ItimervalOut);
    /// `getitimer(which, curr_value)`
    Getitimer = getitimer(which: ItimerWhich, curr_value: ItimervalOut);
    /// `times(buf)`: returns clock ticks.
    Times = times(buf: UserPtr);
    /// `getrusage(who, usage)`
    Getrusage = getrusage(who: RusageWho, usage: UserPtr);
    /// `sysinfo(info)`
    Sysinfo = sysinfo(info: UserPtr);
    /// `adjtimex(buf)`
    Adjtimex = adjtimex(buf: UserPtr);
    /// `clock_adjtime(clockid, buf)`
    ClockAdjtime = clock_adjtime(clockid: ClockId, buf: UserPtr);
}

impl Custom for Time {
    /// strace appends the date: `time(NULL) = 1700000000 (2023-11-14T22:13:20+0000)`.
    fn ret_suffix(&self, r: &mut Render<'_>) {
        if let Some(t) = r.ok() {
            r.raw(&format!(" ({})", utc(t as i64)));
        }
    }
}

/// `2023-11-14T22:13:20+0000` for seconds since the epoch (proleptic Gregorian, UTC).
pub(crate) fn utc(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days, in i128 so no value overflows.
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i128::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}
