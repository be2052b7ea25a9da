//! Readiness: `poll`, `ppoll`, `select`, `pselect6` and `epoll_*`, answered from the
//! core's models with timeouts on the virtual clock.
//!
//! Kernel fds (regular files, `/dev/null`) are always ready, as Linux reports them.
//! Edge-triggered epoll reports a registration when its readiness gains a bit since the
//! last report (the drain-until-`EAGAIN` pattern real servers follow). The signal mask
//! of `ppoll`/`pselect6`/`epoll_pwait`/`epoll_pwait2` decides which signals interrupt
//! the wait (see [`super::signal`]).

use super::{keep_deadline, Blocked, Out, Post, Remaining, Res};
use crate::errno::Errno;
use crate::fd::{FileId, Interest, Kind, Obj};
use crate::syscall::calls::{
    EpollCtl, EpollPwait, EpollPwait2, EpollWait, Ppoll, Pselect6, Select,
};
use crate::syscall::PollFds;
use crate::time::VTime;
use crate::world::{Vtid, World};

/// An action at the exit of a readiness call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `epoll_create`/`epoll_create1` made the descriptor returned.
    EpollCreated {
        /// `EPOLL_CLOEXEC`.
        cloexec: bool,
    },
}

impl Exit {
    /// Runs the action; returns a replacement return value, if any.
    pub(crate) fn run(self, e: &mut World, tid: Vtid, ret: i64) -> Option<i64> {
        match self {
            Exit::EpollCreated { cloexec } => epoll_created(e, tid, ret, cloexec),
        }
    }
}

const POLLIN: u32 = libc::POLLIN as u32;
const POLLOUT: u32 = libc::POLLOUT as u32;
const POLLERR: u32 = libc::POLLERR as u32;
const POLLHUP: u32 = libc::POLLHUP as u32;
const POLLNVAL: u32 = libc::POLLNVAL as u32;

/// Readiness bits of an open file description, as thread `tid` sees it (a signalfd
/// reads the poller's own signals).
pub(crate) fn file_bits(e: &World, tid: Vtid, f: FileId) -> u32 {
    bits_at(e, tid, f, 0)
}

/// Linux's limit on epoll instances inside epoll instances (`EP_MAX_NESTS`).
const EP_MAX_NESTS: usize = 4;

/// [`file_bits`] at nesting depth `depth`: an epoll set is ready when something it
/// watches is; `epoll_ctl` refuses loops and deeper nests, and the depth bound here
/// keeps the walk finite whatever the sets hold.
fn bits_at(e: &World, tid: Vtid, f: FileId, depth: usize) -> u32 {
    match e.files.file(f).kind {
        Kind::Socket(s) => super::socket::poll_bits(e, s),
        Kind::TimerFd(id) => super::timer::timerfd_bits(e, id),
        Kind::SignalFd(id) => super::signal::signalfd_bits(e, tid, id),
        Kind::Epoll(_) if depth > EP_MAX_NESTS => 0,
        Kind::Epoll(id) => {
            let ep = &e.files.epolls[id];
            let any = ep
                .interest
                .values()
                .any(|i| !i.disarmed && interest_at(e, tid, i, depth.saturating_add(1)) != 0);
            if any {
                POLLIN
            } else {
                0
            }
        }
        _ => e.files.poll_file(f),
    }
}

fn interest_bits(e: &World, tid: Vtid, i: &Interest) -> u32 {
    interest_at(e, tid, i, 0)
}

fn interest_at(e: &World, tid: Vtid, i: &Interest, depth: usize) -> u32 {
    if !e.files.is_open(i.file) {
        return 0;
    }
    bits_at(e, tid, i.file, depth) & (i.events | POLLERR | POLLHUP)
}

/// How deep the epoll sets reachable from `id` nest, or `None` if `target` is among
/// them (adding `target` to `id` would make a loop). Bounded by the depth limit.
fn nest_depth(e: &World, id: usize, target: usize, depth: usize) -> Option<usize> {
    if id == target {
        return None;
    }
    if depth > EP_MAX_NESTS {
        return Some(depth);
    }
    let mut deepest = depth;
    for i in e.files.epolls[id].interest.values() {
        if !e.files.is_open(i.file) {
            continue;
        }
        if let Kind::Epoll(inner) = e.files.file(i.file).kind {
            deepest = deepest.max(nest_depth(e, inner, target, depth.saturating_add(1))?);
        }
    }
    Some(deepest)
}

fn deadline_ts(e: &World, tid: Vtid, p: u64) -> Result<Option<VTime>, Errno> {
    if p == 0 {
        return Ok(None);
    }
    let ts: libc::timespec = e.read_val(tid, p)?;
    Ok(Some(e.now.plus_nanos(super::time::ts_nanos(&ts)?)))
}

/// Whether `nfds` passes `poll`'s limit, the caller's soft `RLIMIT_NOFILE`. It is read
/// from `/proc`, so only for sets over 256 entries: a program that lowered its limit
/// below that is not refused a smaller set here, where Linux would refuse it.
fn poll_nfds_ok(e: &World, tid: Vtid, nfds: u64) -> bool {
    if nfds <= 256 {
        return true;
    }
    let real = e.procs[&e.threads[&tid].pid].real;
    match crate::sys::procfs::open_files_limit(real) {
        Some(limit) => nfds <= limit,
        None => nfds <= 1 << 20, // unlimited: the kernel's nr_open bounds it
    }
}

/// `poll` of the `nfds` entries at `fds`, until `deadline`.
pub fn poll(e: &mut World, tid: Vtid, fds: PollFds, nfds: u32, deadline: Option<VTime>) -> Res {
    let (fds, nfds) = (fds.addr(), u64::from(nfds));
    if !poll_nfds_ok(e, tid, nfds) {
        return Err(Errno::EINVAL);
    }
    let deadline = keep_deadline(e, tid, deadline);
    let raw = e.read_mem(tid, fds, nfds.saturating_mul(8) as usize)?;
    let mut pfds: Vec<libc::pollfd> = raw.chunks_exact(8).map(crate::sys::pod_read).collect();
    let mut ready = 0i64;
    let mut objs = Vec::new();
    for p in pfds.iter_mut() {
        p.revents = 0;
        if p.fd < 0 {
            continue;
        }
        let want = p.events as u16 as u32 | POLLERR | POLLHUP;
        let bits = match super::io::lookup(e, tid, p.fd as u64) {
            Some(fd) => {
                objs.extend(e.files.file(fd.file).kind.obj());
                file_bits(e, tid, fd.file) & want
            }
            None if is_kernel_fd(e, tid, p.fd) => (POLLIN | POLLOUT) & want,
            None => POLLNVAL,
        };
        p.revents = bits as i16;
        if bits != 0 {
            ready = ready.saturating_add(1);
        }
    }
    let raw: Vec<u8> = pfds
        .iter()
        .flat_map(|p| crate::sys::pod_bytes(p).to_vec())
        .collect();
    e.write_mem(tid, fds, &raw)?;
    if ready > 0 || deadline.is_some_and(|d| d <= e.now) {
        return Ok(Out::Return(ready));
    }
    Ok(Out::Block(
        Blocked::on(objs, "poll").no_restart().until(deadline, 0),
    ))
}

/// Whether `fd` is open in the tracee as a kernel fd (checked through /proc only for
/// fds the model does not know; cheap enough for poll sets of regular files).
fn is_kernel_fd(e: &World, tid: Vtid, fd: i32) -> bool {
    let real = e.procs[&e.threads[&tid].pid].real;
    crate::sys::procfs::has_fd(real, fd)
}

/// `ppoll`: its time-out is checked first, then its mask, then poll's arguments.
pub fn ppoll(e: &mut World, tid: Vtid, c: Ppoll) -> Res {
    let deadline = deadline_ts(e, tid, c.tmo_p.addr())?;
    super::signal::check_sigmask(e, tid, c.sigmask.addr(), c.sigsetsize)?;
    if let Some(r) = super::signal::signal_through_mask(e, tid, Ppoll::NR, c.encode()) {
        return r;
    }
    poll(e, tid, c.fds, c.nfds.get(), deadline)
}

/// The checks of `pselect6`'s sixth argument, a `{ sigset_t *, size_t }` pair read before
/// anything else (`EFAULT`), and of its time-out: `EFAULT`/`EINVAL`, then the mask's.
fn pselect6_checks(e: &World, tid: Vtid, c: Pselect6) -> Result<Option<VTime>, Errno> {
    let pack = match c.sigmask.addr() {
        0 => [0, 0],
        p => e.read_val::<[u64; 2]>(tid, p)?,
    };
    let deadline = deadline_ts(e, tid, c.timeout.addr())?;
    super::signal::check_sigmask(e, tid, pack[0], pack[1])?;
    Ok(deadline)
}

/// `select`: a `timeval` time-out, which gets the time left written back.
pub fn select(e: &mut World, tid: Vtid, c: Select) -> Res {
    let deadline = select_deadline(e, tid, c.timeout.addr())?;
    let sets = [c.readfds.addr(), c.writefds.addr(), c.exceptfds.addr()];
    let remaining = (!c.timeout.is_null()).then_some(Remaining::Timeval(c.timeout.addr()));
    select_sets(e, tid, c.nfds.get(), sets, deadline, remaining)
}

/// `pselect6`: a `timespec` time-out and a signal mask for the wait.
pub fn pselect6(e: &mut World, tid: Vtid, c: Pselect6) -> Res {
    let deadline = pselect6_checks(e, tid, c)?;
    if let Some(r) = super::signal::signal_through_mask(e, tid, Pselect6::NR, c.encode()) {
        return r;
    }
    let sets = [c.readfds.addr(), c.writefds.addr(), c.exceptfds.addr()];
    let remaining = (!c.timeout.is_null()).then_some(Remaining::Timespec(c.timeout.addr()));
    select_sets(e, tid, c.nfds.get(), sets, deadline, remaining)
}

/// What `select` and `pselect6` share: the `nfds` bits of the read, write and except
/// `sets` (each a pointer, or null), waited on until `deadline`; `remaining` is where
/// the time left goes.
fn select_sets(
    e: &mut World,
    tid: Vtid,
    nfds: i32,
    sets: [u64; 3],
    deadline: Option<VTime>,
    remaining: Option<Remaining>,
) -> Res {
    if nfds < 0 {
        return Err(Errno::EINVAL);
    }
    // Linux looks at no fd past the caller's descriptor table.
    let nfds = if nfds > 1024 {
        let real = e.procs[&e.threads[&tid].pid].real;
        nfds.min(crate::sys::procfs::fd_table_size(real).unwrap_or(1024))
    } else {
        nfds
    };
    let deadline = keep_deadline(e, tid, deadline);
    let bytes = (nfds as usize).div_ceil(64).saturating_mul(8);
    let read_set = |p: u64| -> Result<Vec<u8>, Errno> {
        if p == 0 {
            Ok(vec![0; bytes])
        } else {
            e.read_mem(tid, p, bytes)
        }
    };
    let ptrs = sets;
    let sets = [read_set(ptrs[0])?, read_set(ptrs[1])?, read_set(ptrs[2])?];
    let (out, count, objs) = ready_sets(e, tid, nfds, &sets)?;
    let timed_out = deadline.is_some_and(|d| d <= e.now);
    if count > 0 || timed_out {
        for (k, p) in ptrs.into_iter().enumerate() {
            if p != 0 {
                e.write_mem(tid, p, &out[k])?;
            }
        }
        if let Some(r) = remaining {
            let left = deadline.map_or(0, |d| d.as_nanos().saturating_sub(e.now.as_nanos()));
            let (addr, bytes) = r.bytes(left);
            e.write_mem(tid, addr, &bytes)?;
        }
        return Ok(Out::Return(count));
    }
    // The sets stay as the caller wrote them while it waits (a wake-up runs this handler
    // again on them); a time-out empties them, a signal leaves them as they are. Both
    // write back the time left, as Linux does.
    let mut b = Blocked::on(objs, "select").no_restart().until(deadline, 0);
    for p in ptrs {
        if p != 0 {
            b.timeout_writes.push((p, vec![0u8; bytes]));
        }
    }
    if let Some(r) = remaining {
        b.timeout_writes.push(r.bytes(0));
        b.remaining = Some(r);
    }
    Ok(Out::Block(b))
}

/// The deadline of a `select` (`timeval` at `p`); `None` for a null pointer, a wait
/// without end.
fn select_deadline(e: &World, tid: Vtid, p: u64) -> Result<Option<VTime>, Errno> {
    if p == 0 {
        return Ok(None);
    }
    let tv: libc::timeval = e.read_val(tid, p)?;
    // As Linux: microseconds past a second carry into the seconds; only a negative
    // time is invalid. Saturating: LONG_MAX seconds is a wait without end.
    let secs = tv.tv_sec.saturating_add(tv.tv_usec / 1_000_000);
    let usecs = tv.tv_usec % 1_000_000;
    if secs < 0 || usecs < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Some(e.now.plus_nanos(super::guest::nanos(
        secs as u64,
        usecs as u64,
        1000,
    ))))
}

/// What [`ready_sets`] finds: the result sets, how many bits they hold, and the
/// objects to wait on if none is ready.
type Ready = ([Vec<u8>; 3], i64, Vec<crate::fd::Obj>);

/// Which of the fds in the read, write and except `sets` (of `nfds` bits) are ready.
fn ready_sets(e: &World, tid: Vtid, nfds: i32, sets: &[Vec<u8>; 3]) -> Result<Ready, Errno> {
    let bytes = sets[0].len();
    let mut out = [vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]];
    let mut count = 0i64;
    let mut objs = Vec::new();
    for fd in 0..nfds {
        let (byte, bit) = (fd as usize / 8, 1u8 << (fd % 8));
        if sets.iter().all(|s| s[byte] & bit == 0) {
            continue;
        }
        let bits = match super::io::lookup(e, tid, fd as u64) {
            Some(f) => {
                objs.extend(e.files.file(f.file).kind.obj());
                file_bits(e, tid, f.file)
            }
            None if is_kernel_fd(e, tid, fd) => POLLIN | POLLOUT,
            // Past the descriptor table (at least 64 entries) Linux looks no further.
            None if fd >= 64 && beyond_fd_table(e, tid, fd) => break,
            None => return Err(Errno::EBADF),
        };
        let hits = [
            bits & (POLLIN | POLLHUP | POLLERR) != 0,
            bits & (POLLOUT | POLLERR) != 0,
            bits & libc::POLLPRI as u32 != 0,
        ];
        for k in 0..3 {
            if sets[k][byte] & bit != 0 && hits[k] {
                out[k][byte] |= bit;
                count = count.saturating_add(1);
            }
        }
    }
    Ok((out, count, objs))
}

/// Whether `fd` lies past the caller's descriptor table (read from `/proc`, so only on
/// the way to an `EBADF`).
fn beyond_fd_table(e: &World, tid: Vtid, fd: i32) -> bool {
    let real = e.procs[&e.threads[&tid].pid].real;
    crate::sys::procfs::fd_table_size(real).is_some_and(|n| fd >= n)
}

/// `epoll_create`/`epoll_create1` (`cloexec`: `EPOLL_CLOEXEC`, which only
/// `epoll_create1` has): the kernel makes the placeholder.
pub fn epoll_create(_e: &mut World, _tid: Vtid, cloexec: bool) -> Res {
    Ok(Out::PassThen(Post::Poll(Exit::EpollCreated { cloexec })))
}

/// The exit of [`epoll_create`]: the descriptor returned becomes a model epoll set.
fn epoll_created(e: &mut World, tid: Vtid, ret: i64, cloexec: bool) -> Option<i64> {
    if ret >= 0 {
        e.files.epolls.push(crate::fd::Epoll::default());
        let id = e.files.epolls.len().saturating_sub(1);
        super::io::install_new(e, tid, ret as i32, Kind::Epoll(id), false, cloexec);
    }
    None
}

/// The epoll instance `epfd` is: `EBADF` if it is no open fd, `Ok(None)` if it is one
/// of another kind (the callers' `EINVAL`, after their other checks).
fn epoll_of(e: &World, tid: Vtid, epfd: i32) -> Result<Option<usize>, Errno> {
    match super::io::lookup(e, tid, epfd as u64) {
        Some(fd) => match e.files.file(fd.file).kind {
            Kind::Epoll(id) => Ok(Some(id)),
            _ => Ok(None),
        },
        None if epfd >= 0 && is_kernel_fd(e, tid, epfd) => Ok(None),
        None => Err(Errno::EBADF),
    }
}

/// `EPOLLEXCLUSIVE` and the events it may come with (`EPOLLEXCLUSIVE_OK_BITS`).
const EPOLLEXCLUSIVE: u32 = libc::EPOLLEXCLUSIVE as u32;
const EXCLUSIVE_OK: u32 = (libc::EPOLLIN
    | libc::EPOLLOUT
    | libc::EPOLLERR
    | libc::EPOLLHUP
    | libc::EPOLLWAKEUP
    | libc::EPOLLET
    | libc::EPOLLEXCLUSIVE) as u32;

/// The checks of `epoll_ctl` in Linux's order: the event is copied first (`EFAULT`; not
/// for `EPOLL_CTL_DEL`), both fds must be open (`EBADF`), the target must support poll
/// (`EPERM` for regular files), `epfd` must be another epoll instance (`EINVAL`), and
/// `EPOLLEXCLUSIVE` only with `EPOLL_CTL_ADD` of a non-epoll file and basic events.
/// Returns the instance, the target file and the event.
fn ctl_checks(e: &World, tid: Vtid, c: EpollCtl) -> Result<(usize, FileId, (u32, u64)), Errno> {
    let (epfd, op, fd) = (c.epfd.get(), c.op.get(), c.fd.get());
    let event = if op == libc::EPOLL_CTL_DEL {
        (0, 0)
    } else {
        let raw = e.read_mem(tid, c.event.addr(), 12)?;
        (
            u32::from_le_bytes(raw[..4].try_into().expect("4 bytes")),
            u64::from_le_bytes(raw[4..].try_into().expect("8 bytes")),
        )
    };
    let ep = epoll_of(e, tid, epfd)?;
    let Some(target) = super::io::lookup(e, tid, fd as u64) else {
        return Err(if fd >= 0 && is_kernel_fd(e, tid, fd) {
            Errno::EPERM
        } else {
            Errno::EBADF
        });
    };
    let id = match ep {
        Some(id) if fd != epfd => id,
        _ => return Err(Errno::EINVAL),
    };
    if op != libc::EPOLL_CTL_DEL && event.0 & EPOLLEXCLUSIVE != 0 {
        let target_is_epoll = matches!(e.files.file(target.file).kind, Kind::Epoll(_));
        if op == libc::EPOLL_CTL_MOD || target_is_epoll || event.0 & !EXCLUSIVE_OK != 0 {
            return Err(Errno::EINVAL);
        }
    }
    Ok((id, target.file, event))
}

/// `epoll_ctl`.
pub fn epoll_ctl(e: &mut World, tid: Vtid, c: EpollCtl) -> Res {
    let (op, fd) = (c.op.get(), c.fd.get());
    let (id, file, (events, data)) = ctl_checks(e, tid, c)?;
    let interest = &e.files.epolls[id].interest;
    match op {
        libc::EPOLL_CTL_ADD => {
            // An epoll set inside this one: no loop, and no deeper than Linux allows.
            if let Kind::Epoll(inner) = e.files.file(file).kind {
                match nest_depth(e, inner, id, 1) {
                    Some(d) if d < EP_MAX_NESTS => {}
                    _ => return Err(Errno::ELOOP),
                }
            }
            if interest.get(&fd).is_some_and(|i| e.files.is_open(i.file)) {
                return Err(Errno::EEXIST);
            }
            e.files.epolls[id].interest.insert(
                fd,
                Interest {
                    file,
                    events,
                    data,
                    disarmed: false,
                    last: (0, 0),
                },
            );
        }
        libc::EPOLL_CTL_MOD => {
            match interest.get(&fd) {
                None => return Err(Errno::ENOENT),
                // An exclusive wake-up registration cannot be modified.
                Some(i) if i.events & EPOLLEXCLUSIVE != 0 => return Err(Errno::EINVAL),
                Some(_) => {}
            }
            let i = e.files.epolls[id].interest.get_mut(&fd).expect("checked");
            *i = Interest {
                file,
                events,
                data,
                disarmed: false,
                last: (0, 0),
            };
        }
        libc::EPOLL_CTL_DEL => {
            if e.files.epolls[id].interest.remove(&fd).is_none() {
                return Err(Errno::ENOENT);
            }
        }
        _ => return Err(Errno::EINVAL),
    }
    e.notify(Obj::Epoll(id));
    Ok(Out::Return(0))
}

/// `epoll_wait` (time-out in ms, negative: none).
pub fn epoll_wait(e: &mut World, tid: Vtid, c: EpollWait) -> Res {
    let deadline = super::timeout_ms(e, c.timeout.get());
    let (epfd, events) = (c.epfd.get(), c.events.addr());
    epoll_wait_until(e, tid, epfd, events, c.maxevents.get(), deadline)
}

/// `epoll_pwait(epfd, events, maxevents, timeout, sigmask, sigsetsize)`.
pub fn epoll_pwait(e: &mut World, tid: Vtid, c: EpollPwait) -> Res {
    super::signal::check_sigmask(e, tid, c.sigmask.addr(), c.sigsetsize)?;
    if let Some(r) = super::signal::signal_through_mask(e, tid, EpollPwait::NR, c.encode()) {
        return r;
    }
    let (epfd, events, maxevents, timeout) = (c.epfd, c.events, c.maxevents, c.timeout);
    epoll_wait(
        e,
        tid,
        EpollWait {
            epfd,
            events,
            maxevents,
            timeout,
        },
    )
}

/// `epoll_pwait2(epfd, events, maxevents, timeout, sigmask, sigsetsize)`: a `timespec`
/// time-out (NULL: none).
pub fn epoll_pwait2(e: &mut World, tid: Vtid, c: EpollPwait2) -> Res {
    let deadline = deadline_ts(e, tid, c.timeout.addr())?;
    super::signal::check_sigmask(e, tid, c.sigmask.addr(), c.sigsetsize)?;
    if let Some(r) = super::signal::signal_through_mask(e, tid, EpollPwait2::NR, c.encode()) {
        return r;
    }
    let (epfd, events) = (c.epfd.get(), c.events.addr());
    epoll_wait_until(e, tid, epfd, events, c.maxevents.get(), deadline)
}

fn epoll_wait_until(
    e: &mut World,
    tid: Vtid,
    epfd: i32,
    events: u64,
    max: i32,
    deadline: Option<VTime>,
) -> Res {
    // Linux's order: the fd (EBADF), at most INT_MAX / sizeof(struct epoll_event)
    // events (EINVAL), the buffer (EFAULT), then the fd's kind (EINVAL).
    let ep = epoll_of(e, tid, epfd)?;
    if max <= 0 || max > i32::MAX / 12 {
        return Err(Errno::EINVAL);
    }
    if !super::guest::access_ok(events, (max as u64).saturating_mul(12)) {
        return Err(Errno::EFAULT);
    }
    let id = ep.ok_or(Errno::EINVAL)?;
    let deadline = keep_deadline(e, tid, deadline);
    let timeout_zero = deadline.is_some_and(|d| d <= e.now);
    // Take the interest list out while reading readiness from the rest of the engine.
    let mut interest = std::mem::take(&mut e.files.epolls[id].interest);
    interest.retain(|_, i| e.files.is_open(i.file));
    let mut raw = Vec::new();
    let mut n = 0;
    for i in interest.values_mut().filter(|i| !i.disarmed) {
        if n >= max as usize {
            break;
        }
        let bits = interest_bits(e, tid, i);
        let gen = match e.files.file(i.file).kind {
            Kind::Socket(s) => e.socks.get(&s).map_or(0, |m| m.deliveries),
            _ => 0,
        };
        // Edge-triggered: a bit that was not set at the last report, or anything new
        // arriving since (Linux reports each arrival, even on a socket still readable).
        let report = if i.events & libc::EPOLLET as u32 != 0 {
            bits & !i.last.0 != 0 || (bits != 0 && gen != i.last.1)
        } else {
            bits != 0
        };
        i.last = (bits, gen);
        if report {
            i.disarmed = i.events & libc::EPOLLONESHOT as u32 != 0;
            raw.extend(bits.to_le_bytes().into_iter().chain(i.data.to_le_bytes()));
            n = n.saturating_add(1);
        }
    }
    // Parked callers wait on the instance and on everything it watches.
    let objs = (n == 0 && !timeout_zero).then(|| {
        let watched = interest
            .values()
            .filter_map(|i| e.files.file(i.file).kind.obj());
        std::iter::once(Obj::Epoll(id))
            .chain(watched)
            .collect::<Vec<_>>()
    });
    e.files.epolls[id].interest = interest;
    if n > 0 {
        e.write_mem(tid, events, &raw)?;
        return Ok(Out::Return(n as i64));
    }
    let Some(objs) = objs else {
        return Ok(Out::Return(0));
    };
    Ok(Out::Block(
        Blocked::on(objs, "epoll_wait")
            .no_restart()
            .until(deadline, 0),
    ))
}
