//! Typed calls on clocks, sleeps and timers, and the resource and system queries takt
//! answers from its virtual clock.

use crate::syscall::arg::*;
use crate::syscall::decl::calls;
use crate::syscall::enums::*;
use crate::syscall::flags::*;

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
    Time = time(tloc: UserPtr);
    /// `nanosleep(req, rem)`
    Nanosleep = nanosleep(req: TimespecIn, rem: RemPtr);
    /// `clock_nanosleep(clockid, flags, request, remain)`
    ClockNanosleep = clock_nanosleep(clockid: ClockId, flags: TimerFlags, request: TimespecIn, remain: RemPtr);
    /// `alarm(seconds)`
    Alarm = alarm(seconds: UInt);
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
