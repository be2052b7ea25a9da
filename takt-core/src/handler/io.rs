//! Reads, writes and descriptor management on virtual objects: pipes, eventfds,
//! captured stdout/stderr, `/dev/urandom`; sockets are forwarded to [`super::socket`],
//! timerfds to [`super::timer`], signalfds to [`super::signal`].
//!
//! An fd that is not virtual is a kernel fd (a regular file, a directory, `/dev/null`)
//! and its calls pass through. Calls that create descriptors run in the kernel (creating
//! the placeholder) and the model records the result at the syscall's exit.

use super::guest::{self, rw_count};
use super::{Blocked, Out, Post, Res};
use crate::engine::{Engine, Vtid};
use crate::errno::Errno;
use crate::fd::{Fd, Kind, Obj, SignalIo, Wait};
use rand::RngCore;

/// Largest piece of a transfer the tracer holds in memory at once: bigger transfers
/// (up to Linux's [`guest::MAX_RW_COUNT`]) go through in pieces.
const CHUNK: usize = 1 << 16;

pub(crate) fn lookup(e: &Engine, tid: Vtid, fd: u64) -> Option<Fd> {
    e.files.get(e.threads[&tid].fdt, fd as i32 as i64)
}

/// The `fcntl` runs on the placeholder (the kernel checks its argument and keeps what
/// `F_GETOWN`, `F_GETSIG` and `F_GETFL` answer); if it succeeds, `change` applies to
/// the signal-driven I/O settings of open file description `file` (a pipe end or a
/// socket; other kinds are left to the kernel), whose readiness now is noted.
fn set_signal_io(file: usize, change: impl FnOnce(&mut SignalIo) + 'static) -> Out {
    Out::PassThen(Post::new(move |e, tid, ret| {
        let ours = e.files.is_open(file)
            && matches!(
                e.files.file(file).kind,
                Kind::Socket(_) | Kind::PipeRead(_) | Kind::PipeWrite(_)
            );
        if ret < 0 || !ours {
            return None;
        }
        let bits = super::poll::file_bits(e, tid, file);
        let io = &mut e.files.file_mut(file).signal_io;
        change(io);
        io.seen = bits & (POLL_IN_BITS | libc::POLLOUT as u32);
        if io.on && (io.owner != 0 || io.thread.is_some()) {
            e.signal_io.insert(file);
        } else {
            e.signal_io.remove(&file);
        }
        None
    }))
}

/// `fcntl` commands and owner kinds of signal-driven I/O (`<fcntl.h>`, Linux; not in
/// the `libc` crate).
const F_SETSIG: i32 = 10;
const F_SETOWN_EX: i32 = 15;
const F_OWNER_TID: i32 = 0;
const F_OWNER_PGRP: i32 = 2;

/// What counts as readable for signal-driven I/O (data, a hang-up, an error).
const POLL_IN_BITS: u32 = (libc::POLLIN | libc::POLLHUP | libc::POLLERR) as u32;

/// `obj` changed: each open file description on it with signal-driven I/O that became
/// readable or writable since the last look signals its owner (`SIGIO`, or the
/// `F_SETSIG` signal): a process, every process of a group, or a thread.
pub(crate) fn signal_io(e: &mut Engine, obj: Obj) {
    let files: Vec<usize> = e
        .signal_io
        .iter()
        .copied()
        .filter(|&f| e.files.is_open(f) && e.files.file(f).kind.obj() == Some(obj))
        .collect();
    e.signal_io.retain(|&f| e.files.is_open(f));
    for f in files {
        let Some(&any) = e.threads.keys().next() else {
            return;
        };
        let bits = super::poll::file_bits(e, any, f) & (POLL_IN_BITS | libc::POLLOUT as u32);
        let io = e.files.file(f).signal_io;
        e.files.file_mut(f).signal_io.seen = bits;
        if bits & !io.seen == 0 {
            continue; // nothing came on
        }
        let sig = if io.sig == 0 { libc::SIGIO } else { io.sig };
        if let Some(t) = io.thread {
            if let Some(pid) = e.threads.get(&t).map(|th| th.pid) {
                e.send_signal(pid, sig, Some(t), None);
            }
            continue;
        }
        let owners: Vec<Vtid> = if io.owner > 0 {
            vec![io.owner]
        } else {
            let group = io.owner.saturating_neg();
            e.procs
                .values()
                .filter(|p| p.status.is_none())
                .filter(|p| crate::sys::procfs::ns_pgid(p.real) == Some(group))
                .map(|p| p.vpid)
                .collect()
        };
        for p in owners {
            e.send_signal(p, sig, None, None);
        }
    }
}

fn would_block(e: &Engine, file: usize, obj: Obj, what: &'static str) -> Res {
    if e.files.file(file).nonblock {
        Err(Errno::EAGAIN)
    } else {
        Ok(Out::Block(Blocked::on(vec![obj], what)))
    }
}

/// Where the bytes of a read go: one buffer or an iovec list.
pub(crate) enum Dest {
    Buf(u64, usize),
    Iov(Vec<(u64, usize)>),
}

impl Dest {
    pub(crate) fn len(&self) -> usize {
        match self {
            Dest::Buf(_, n) => *n,
            Dest::Iov(v) => v.iter().map(|r| r.1).fold(0, usize::saturating_add),
        }
    }

    pub(crate) fn put(&self, e: &Engine, tid: Vtid, data: &[u8]) -> Result<(), Errno> {
        self.put_at(e, tid, 0, data)
    }

    /// Writes `data` starting `off` bytes into the destination.
    pub(crate) fn put_at(
        &self,
        e: &Engine,
        tid: Vtid,
        off: usize,
        data: &[u8],
    ) -> Result<(), Errno> {
        match self {
            Dest::Buf(a, _) => e.write_mem(tid, guest::offset(*a, off as u64)?, data),
            Dest::Iov(v) => {
                let mut ranges = Vec::new();
                let mut skip = off;
                for &(a, l) in v {
                    if skip >= l {
                        skip = skip.saturating_sub(l);
                        continue;
                    }
                    ranges.push((guest::offset(a, skip as u64)?, l.saturating_sub(skip)));
                    skip = 0;
                }
                e.write_vectored(tid, &ranges, data)
            }
        }
    }
}

/// Where the bytes of a write come from.
pub(crate) enum Src {
    Buf(u64, usize),
    Iov(Vec<(u64, usize)>),
}

impl Src {
    pub(crate) fn len(&self) -> usize {
        match self {
            Src::Buf(_, n) => *n,
            Src::Iov(v) => v.iter().map(|r| r.1).fold(0, usize::saturating_add),
        }
    }

    /// `len` bytes starting `off` bytes in (never more than the source holds past
    /// `off`, so the allocation is bounded by the checked length).
    pub(crate) fn get(
        &self,
        e: &Engine,
        tid: Vtid,
        off: usize,
        len: usize,
    ) -> Result<Vec<u8>, Errno> {
        let len = len.min(self.len().saturating_sub(off));
        match self {
            Src::Buf(a, _) => e.read_mem(tid, guest::offset(*a, off as u64)?, len),
            Src::Iov(v) => {
                let mut ranges = Vec::new();
                let (mut skip, mut want) = (off, len);
                for &(a, l) in v {
                    if skip >= l {
                        skip = skip.saturating_sub(l);
                        continue;
                    }
                    let n = l.saturating_sub(skip).min(want);
                    ranges.push((guest::offset(a, skip as u64)?, n));
                    skip = 0;
                    want = want.saturating_sub(n);
                    if want == 0 {
                        break;
                    }
                }
                let mut buf = vec![0u8; len];
                let got = e.read_vectored(tid, &ranges, &mut buf)?;
                buf.truncate(got);
                Ok(buf)
            }
        }
    }
}

/// `read`.
pub fn read(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    match lookup(e, tid, a[0]) {
        None => Ok(Out::Pass),
        Some(fd) => {
            readable(e, fd)?;
            read_from(e, tid, fd, Dest::Buf(a[1], rw_count(a[1], a[2])?))
        }
    }
}

/// `readv`.
pub fn readv(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    match lookup(e, tid, a[0]) {
        None => Ok(Out::Pass),
        Some(fd) => {
            readable(e, fd)?;
            let iov = guest::iovecs(e, tid, a[1], a[2], Errno::EINVAL)?;
            read_from(e, tid, fd, Dest::Iov(iov))
        }
    }
}

/// The checks `vfs_read` makes before it looks at the buffer: the wrong end of a pipe
/// is `EBADF`, an epoll instance has no read (`EINVAL`).
fn readable(e: &Engine, fd: Fd) -> Result<(), Errno> {
    match e.files.file(fd.file).kind {
        Kind::PipeWrite(_) | Kind::Output(_) => Err(Errno::EBADF),
        Kind::Epoll(_) => Err(Errno::EINVAL),
        _ => Ok(()),
    }
}

/// The same for `vfs_write`.
fn writable(e: &Engine, fd: Fd) -> Result<(), Errno> {
    match e.files.file(fd.file).kind {
        Kind::PipeRead(_) => Err(Errno::EBADF),
        Kind::Epoll(_) => Err(Errno::EINVAL),
        _ => Ok(()),
    }
}

fn read_from(e: &mut Engine, tid: Vtid, fd: Fd, dest: Dest) -> Res {
    let want = dest.len();
    let kind = e.files.file(fd.file).kind;
    if want == 0 && matches!(kind, Kind::PipeRead(_) | Kind::Socket(_)) {
        return Ok(Out::Return(0)); // pipe_read and sock_read_iter: nothing to wait for
    }
    match kind {
        Kind::PipeRead(p) => {
            // Copied out before it is taken: a bad buffer (EFAULT) leaves the data.
            dest.put(e, tid, &e.files.pipe_peek(p, want))?;
            let mut data = Vec::new();
            match e.files.pipe_read(p, want, &mut data) {
                Ok(n) => {
                    if n > 0 {
                        e.notify(Obj::Pipe(p));
                    }
                    Ok(Out::Return(n as i64))
                }
                Err(Wait::Block) => would_block(e, fd.file, Obj::Pipe(p), "pipe data"),
                Err(Wait::Err(x)) => Err(x),
            }
        }
        Kind::EventFd(id) => {
            if want < 8 {
                return Err(Errno::EINVAL);
            }
            let ev = &mut e.files.eventfds[id];
            if ev.count == 0 {
                return would_block(e, fd.file, Obj::EventFd(id), "eventfd");
            }
            let v = if ev.semaphore { 1 } else { ev.count };
            ev.count = ev.count.saturating_sub(v);
            dest.put(e, tid, &v.to_le_bytes())?;
            e.notify(Obj::EventFd(id));
            Ok(Out::Return(8))
        }
        Kind::Urandom => fill_random(e, tid, &dest, want),
        Kind::Socket(s) => super::socket::recv_into(e, tid, fd, s, dest, 0, None),
        Kind::TimerFd(id) => super::timer::timerfd_read(e, tid, fd.file, id, &dest),
        Kind::SignalFd(id) => super::signal::signalfd_read(e, tid, fd.file, id, &dest),
        Kind::PipeWrite(_) | Kind::Output(_) => Err(Errno::EBADF),
        Kind::Epoll(_) => Err(Errno::EINVAL),
    }
}

/// Writes `want` bytes of the process's random stream to `dest`, generated and written
/// in pieces (a guest's 2 GiB read costs no 2 GiB here); a bad address part-way ends
/// it with what was written, as Linux does.
pub(crate) fn fill_random(e: &mut Engine, tid: Vtid, dest: &Dest, want: usize) -> Res {
    let mut bytes = vec![0u8; want.min(CHUNK)];
    let mut done = 0usize;
    while done < want {
        let n = want.saturating_sub(done).min(CHUNK);
        e.guest_rng(tid).fill_bytes(&mut bytes[..n]);
        if let Err(x) = dest.put_at(e, tid, done, &bytes[..n]) {
            return if done > 0 {
                Ok(Out::Return(done as i64))
            } else {
                Err(x)
            };
        }
        done = done.saturating_add(n);
    }
    Ok(Out::Return(done as i64))
}

/// `write`.
pub fn write(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    match lookup(e, tid, a[0]) {
        None => {
            super::file::before_write(e, tid, a[0] as i32, None, a[2]);
            Ok(Out::Pass)
        }
        Some(fd) => {
            writable(e, fd)?;
            write_to(e, tid, fd, Src::Buf(a[1], rw_count(a[1], a[2])?))
        }
    }
}

/// `writev`.
pub fn writev(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    match lookup(e, tid, a[0]) {
        None => {
            let len = guest::iovecs(e, tid, a[1], a[2], Errno::EINVAL)?
                .iter()
                .fold(0u64, |n, r| n.saturating_add(r.1 as u64));
            super::file::before_write(e, tid, a[0] as i32, None, len);
            Ok(Out::Pass)
        }
        Some(fd) => {
            writable(e, fd)?;
            let iov = guest::iovecs(e, tid, a[1], a[2], Errno::EINVAL)?;
            write_to(e, tid, fd, Src::Iov(iov))
        }
    }
}

/// Raises `SIGPIPE` on the writing thread (delivered when it resumes) and fails `EPIPE`.
pub(crate) fn epipe(e: &mut Engine, tid: Vtid) -> Res {
    let t = &e.threads[&tid];
    let tgid = e.procs[&t.pid].real;
    let _ = crate::sys::tgkill(tgid, t.real, libc::SIGPIPE);
    Err(Errno::EPIPE)
}

fn write_to(e: &mut Engine, tid: Vtid, fd: Fd, src: Src) -> Res {
    let total = src.len();
    match e.files.file(fd.file).kind {
        Kind::PipeWrite(p) => {
            let done = e.threads[&tid].progress;
            match e.files.pipe_room(p, total, done) {
                Ok(n) => {
                    let data = src.get(e, tid, done, n)?;
                    e.files.pipe_push(p, &data, total, done);
                    e.notify(Obj::Pipe(p));
                    let done = done.saturating_add(data.len());
                    if done < total && !e.files.file(fd.file).nonblock {
                        // A blocking write returns only when everything is written.
                        e.threads.get_mut(&tid).expect("thread").progress = done;
                        return Ok(Out::Block(Blocked::on(vec![Obj::Pipe(p)], "pipe room")));
                    }
                    Ok(Out::Return(done as i64))
                }
                Err(Wait::Block) if done > 0 => {
                    Ok(Out::Block(Blocked::on(vec![Obj::Pipe(p)], "pipe room")))
                }
                Err(Wait::Block) => would_block(e, fd.file, Obj::Pipe(p), "pipe room"),
                Err(Wait::Err(_)) if done > 0 => Ok(Out::Return(done as i64)),
                Err(Wait::Err(_)) => epipe(e, tid),
            }
        }
        Kind::EventFd(id) => {
            if total < 8 {
                return Err(Errno::EINVAL);
            }
            let v = u64::from_le_bytes(
                src.get(e, tid, 0, 8)?
                    .try_into()
                    .map_err(|_| Errno::EFAULT)?,
            );
            if v == u64::MAX {
                return Err(Errno::EINVAL);
            }
            let ev = &mut e.files.eventfds[id];
            let Some(sum) = ev.count.checked_add(v).filter(|&s| s < u64::MAX) else {
                return would_block(e, fd.file, Obj::EventFd(id), "eventfd room");
            };
            ev.count = sum;
            e.notify(Obj::EventFd(id));
            Ok(Out::Return(8))
        }
        Kind::Output(stream) => {
            // In pieces, so a guest's huge write is never one allocation here.
            let pid = e.threads[&tid].pid;
            let mut done = 0usize;
            while done < total {
                let data = match src.get(e, tid, done, CHUNK) {
                    Ok(d) if !d.is_empty() => d,
                    // A bad address part-way: Linux returns what it wrote.
                    _ if done > 0 => break,
                    Ok(_) => return Err(Errno::EFAULT),
                    Err(x) => return Err(x),
                };
                e.write_output(stream, pid, &data);
                done = done.saturating_add(data.len());
            }
            Ok(Out::Return(done as i64))
        }
        Kind::Urandom => Ok(Out::Return(total as i64)),
        Kind::Socket(s) => super::socket::send_from(e, tid, fd, s, src, 0, None),
        Kind::PipeRead(_) => Err(Errno::EBADF),
        Kind::Epoll(_) | Kind::TimerFd(_) | Kind::SignalFd(_) => Err(Errno::EINVAL),
    }
}

/// `close`.
pub fn close(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    let fdt = e.threads[&tid].fdt;
    if let Some(c) = e.files.remove(fdt, a[0] as i32) {
        e.closed(c);
    }
    Ok(Out::Pass)
}

/// `close_range`: Linux's checks first (`EINVAL` for unknown flags or `first > last`,
/// and then nothing is closed).
pub fn close_range(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    let (first, last, flags) = (a[0] as u32, a[1] as u32, a[2] as u32);
    let known = libc::CLOSE_RANGE_CLOEXEC | libc::CLOSE_RANGE_UNSHARE;
    if flags & !known != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    let fdt = e.threads[&tid].fdt;
    let fds: Vec<i32> = e
        .files
        .fds(fdt)
        .map(|(n, _)| n)
        .filter(|&n| (first..=last).contains(&(n as u32)))
        .collect();
    for fd in fds {
        if flags & libc::CLOSE_RANGE_CLOEXEC != 0 {
            e.files.set_cloexec(fdt, fd, true);
        } else if let Some(c) = e.files.remove(fdt, fd) {
            e.closed(c);
        }
    }
    Ok(Out::Pass)
}

/// `pipe`/`pipe2`: the kernel makes the placeholder pair; the model the buffer.
pub fn pipe(_e: &mut Engine, _tid: Vtid, fds: u64, flags: i32) -> Res {
    Ok(Out::PassThen(Post::new(move |e, tid, ret| {
        if ret == 0 {
            if let Ok([r, w]) = e.read_val::<[i32; 2]>(tid, fds) {
                let (fr, fw) = e.files.new_pipe(flags & libc::O_NONBLOCK != 0);
                let fdt = e.threads[&tid].fdt;
                let cloexec = flags & libc::O_CLOEXEC != 0;
                let c1 = e.files.install(fdt, r, fr, cloexec);
                let c2 = e.files.install(fdt, w, fw, cloexec);
                e.closed_all(vec![c1, c2]);
            }
        }
        None
    })))
}

/// `eventfd`/`eventfd2`.
pub fn eventfd(_e: &mut Engine, _tid: Vtid, init: u64, flags: i32) -> Res {
    Ok(Out::PassThen(Post::new(move |e, tid, ret| {
        if ret >= 0 {
            e.files.eventfds.push(crate::fd::EventFd {
                count: init as u32 as u64,
                semaphore: flags & libc::EFD_SEMAPHORE != 0,
            });
            let id = e.files.eventfds.len().saturating_sub(1);
            let f = e
                .files
                .open(Kind::EventFd(id), flags & libc::EFD_NONBLOCK != 0);
            let fdt = e.threads[&tid].fdt;
            let c = e
                .files
                .install(fdt, ret as i32, f, flags & libc::EFD_CLOEXEC != 0);
            e.closed(c);
        }
        None
    })))
}

/// `dup`, `dup2` (`new` given), `dup3` (`flags`).
pub fn dup(e: &mut Engine, tid: Vtid, old: i32, new: Option<i32>, flags: i32) -> Res {
    let src = lookup(e, tid, old as u64);
    let replaces_virtual = new.is_some_and(|n| lookup(e, tid, n as u64).is_some());
    if src.is_none() && !replaces_virtual {
        return Ok(Out::Pass);
    }
    Ok(Out::PassThen(Post::new(move |e, tid, ret| {
        if ret < 0 || Some(old) == new {
            return None;
        }
        let fdt = e.threads[&tid].fdt;
        let closed = match src {
            Some(fd) => e
                .files
                .install(fdt, ret as i32, fd.file, flags & libc::O_CLOEXEC != 0),
            None => e
                .files
                .remove(fdt, ret as i32)
                .unwrap_or(crate::fd::Closed::Nothing),
        };
        e.closed(closed);
        None
    })))
}

/// `fcntl`.
pub fn fcntl(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    let (fd, cmd, arg) = (a[0] as i32, a[1] as i32, a[2]);
    let Some(entry) = lookup(e, tid, a[0]) else {
        return Ok(Out::Pass);
    };
    let fdt = e.threads[&tid].fdt;
    match cmd {
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => {
            Ok(Out::PassThen(Post::new(move |e, tid, ret| {
                if ret >= 0 {
                    let fdt = e.threads[&tid].fdt;
                    let c =
                        e.files
                            .install(fdt, ret as i32, entry.file, cmd == libc::F_DUPFD_CLOEXEC);
                    e.closed(c);
                }
                None
            })))
        }
        libc::F_SETFD => {
            e.files
                .set_cloexec(fdt, fd, arg as i32 & libc::FD_CLOEXEC != 0);
            Ok(Out::Pass)
        }
        libc::F_SETFL => {
            e.files.file_mut(entry.file).nonblock = arg as i32 & libc::O_NONBLOCK != 0;
            let on = arg as i32 & libc::O_ASYNC != 0;
            if !on && !e.files.file(entry.file).signal_io.on {
                return Ok(Out::Pass); // the common case: no exit stop
            }
            Ok(set_signal_io(entry.file, move |io| io.on = on))
        }
        libc::F_SETOWN => Ok(set_signal_io(entry.file, move |io| {
            (io.owner, io.thread) = (arg as i32, None);
        })),
        F_SETOWN_EX => {
            let [kind, pid]: [i32; 2] = e.read_val(tid, arg)?;
            Ok(set_signal_io(entry.file, move |io| match kind {
                F_OWNER_TID => (io.owner, io.thread) = (0, Some(pid)),
                F_OWNER_PGRP => (io.owner, io.thread) = (pid.saturating_neg(), None),
                _ => (io.owner, io.thread) = (pid, None),
            }))
        }
        F_SETSIG => Ok(set_signal_io(entry.file, move |io| io.sig = arg as i32)),
        // Record locks on a pipe or socket are the kernel's (the placeholder is the same
        // kind of file), but a waiting one must not block the one running thread: it
        // tries once instead (EAGAIN where Linux would wait for the holder).
        libc::F_SETLKW | libc::F_OFD_SETLKW => {
            let once = if cmd == libc::F_SETLKW {
                libc::F_SETLK
            } else {
                libc::F_OFD_SETLK
            };
            Ok(Out::Rewrite {
                nr: libc::SYS_fcntl,
                args: [a[0], once as u64, a[2], a[3], a[4], a[5]],
                post: None,
            })
        }
        libc::F_SETPIPE_SZ => set_pipe_size(e, entry, arg),
        libc::F_GETPIPE_SZ => match e.files.file(entry.file).kind {
            Kind::PipeRead(p) | Kind::PipeWrite(p) => {
                Ok(Out::Return(e.files.pipes[p].capacity() as i64))
            }
            _ => Ok(Out::Pass), // the placeholder answers (EBADF: not a pipe)
        },
        _ => Ok(Out::Pass),
    }
}

/// `F_SETPIPE_SZ`. The kernel resizes the placeholder pipe, so its checks stay the
/// kernel's own (`EINVAL` above 2^31, `EPERM` above `/proc/sys/fs/pipe-max-size` or the
/// per-user limits without `CAP_SYS_RESOURCE`, `ENOMEM`), and so do the rounding and the
/// result; the model then takes the new size. Only `EBUSY` (the data takes more slots
/// than the new size has) is the model's, as the placeholder holds no data: Linux
/// checks it last, and it cannot meet the others (they refuse only growing).
fn set_pipe_size(e: &mut Engine, entry: Fd, arg: u64) -> Res {
    let p = match e.files.file(entry.file).kind {
        Kind::PipeRead(p) | Kind::PipeWrite(p) => p,
        _ => return Ok(Out::Pass),
    };
    // `round_pipe_size` of the `unsigned int` argument: at least a page, a power of two.
    let arg = arg as u32;
    let rounded = match arg {
        0..=4096 => 4096usize,
        a if a > 1 << 31 => 0,
        a => a.next_power_of_two() as usize,
    };
    if rounded > 0 && e.files.pipes[p].too_full_for(rounded) {
        return Err(Errno::EBUSY);
    }
    Ok(Out::PassThen(Post::new(move |e, _, ret| {
        if let Ok(bytes) = usize::try_from(ret) {
            if bytes > 0 && !e.files.pipes[p].too_full_for(bytes) {
                e.files.pipes[p].resize(bytes);
                e.notify(Obj::Pipe(p)); // writers may fit now, or not any more
            }
        }
        None
    })))
}

/// `ioctl`.
pub fn ioctl(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    let Some(entry) = lookup(e, tid, a[0]) else {
        return Ok(Out::Pass);
    };
    let fdt = e.threads[&tid].fdt;
    let kind = e.files.file(entry.file).kind;
    match a[1] {
        libc::FIONREAD => {
            let n: i32 = match kind {
                // Linux answers on either end (the pipe's inode has the ioctl).
                Kind::PipeRead(p) | Kind::PipeWrite(p) => e.files.pipes[p].len() as i32,
                Kind::Socket(s) if super::sockopt::listening(e, s) => {
                    return Err(Errno::EINVAL); // tcp_ioctl's SIOCINQ
                }
                Kind::Socket(s) => e.net.bytes_readable(s) as i32,
                Kind::Output(_) => 0, // a pipe takt drains
                _ => return Err(unknown_ioctl(kind)),
            };
            e.write_val(tid, a[2], &n)?;
            Ok(Out::Return(0))
        }
        libc::FIONBIO => {
            let on: i32 = e.read_val(tid, a[2])?;
            e.files.file_mut(entry.file).nonblock = on != 0;
            Ok(Out::Pass)
        }
        libc::FIOCLEX | libc::FIONCLEX => {
            e.files.set_cloexec(fdt, a[0] as i32, a[1] == libc::FIOCLEX);
            Ok(Out::Pass)
        }
        _ => Err(unknown_ioctl(kind)),
    }
}

/// What an ioctl a file has no handler for fails with: `ENOTTY` (no `unlocked_ioctl`,
/// or one that says `ENOIOCTLCMD`), but `EINVAL` from epoll's and the random devices'.
fn unknown_ioctl(kind: Kind) -> Errno {
    match kind {
        Kind::Epoll(_) | Kind::Urandom => Errno::EINVAL,
        _ => Errno::ENOTTY,
    }
}

/// `open`/`openat`: `/dev/urandom` and `/dev/random` become the process's seeded stream.
///
/// Files that would tell one node from another or the host from the virtual machine
/// (`/etc/hosts`, `/etc/hostname`, the CPU-online list) are opened from the node's own
/// copies instead: the path is rewritten for the duration of the call.
pub fn open(e: &mut Engine, tid: Vtid, nr: u32, a: [u64; 6], path_arg: usize) -> Res {
    let (path, flags) = (a[path_arg], a[path_arg.saturating_add(1)] as i32);
    let p = e.read_cstr(tid, path)?;
    if let Some(local) = e.node_file(tid, &p).or_else(|| proc_path(e, tid, &p)) {
        // Below the red zone of the stack: free at a syscall, and the kernel copies the
        // path before anything could run on that stack again.
        let sp = e.threads[&tid].regs.expect("at a seccomp stop").sp();
        let at = sp
            .checked_sub((local.len() as u64).saturating_add(4097))
            .ok_or(Errno::EFAULT)?
            & !15;
        let mut bytes = local.into_bytes();
        bytes.push(0);
        e.write_mem(tid, at, &bytes)?;
        let mut args = a;
        args[path_arg] = at;
        return Ok(Out::Rewrite {
            nr: nr as i64,
            args,
            post: None,
        });
    }
    if p == b"/dev/urandom" || p == b"/dev/random" {
        return Ok(Out::PassThen(Post::new(move |e, tid, ret| {
            if ret >= 0 {
                let f = e.files.open(Kind::Urandom, false);
                let fdt = e.threads[&tid].fdt;
                let c = e
                    .files
                    .install(fdt, ret as i32, f, flags & libc::O_CLOEXEC != 0);
                e.closed(c);
            }
            None
        })));
    }
    if flags & (libc::O_CREAT | libc::O_TRUNC) != 0 {
        let dirfd = if path_arg == 1 {
            a[0] as i32
        } else {
            libc::AT_FDCWD
        };
        return super::file::open_creating(e, tid, dirfd, path, flags);
    }
    // The kernel opens it; the exit stop records the result (the fd, or why not) beside
    // the path the trace keeps, for the dependency graph: an open that failed (a library
    // search path, a missing config file) is no dependency.
    Ok(Out::PassThen(Post::new(|_, _, _| None)))
}

/// `/proc/<pid>/…` (and `/proc/<pid>/task/<tid>/…`) named by the scenario's pids: the
/// host's `/proc` counts pids of the host's namespace, so the path is turned into the
/// real pid's (pid 2 of a scenario is not the host's pid 2). `None` for any other path,
/// for pids the scenario does not have, and where the node's `/proc` is its PID
/// namespace's own (it counts the scenario's pids itself).
fn proc_path(e: &Engine, tid: Vtid, p: &[u8]) -> Option<String> {
    if !e.pid_namespace() || !e.host_proc(tid) {
        return None; // pids are the host's already, or /proc is the namespace's
    }
    let rest = std::str::from_utf8(p.strip_prefix(b"/proc/")?).ok()?;
    let (pid, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let vpid: i32 = pid.parse().ok()?;
    let real = e.procs.get(&vpid)?.real;
    let tail = match tail.strip_prefix("task/") {
        Some(t) => {
            let (tid, more) = t.split_once('/').unwrap_or((t, ""));
            let vtid: i32 = tid.parse().ok()?;
            let rt = e.threads.get(&vtid)?.real;
            if more.is_empty() {
                format!("task/{rt}")
            } else {
                format!("task/{rt}/{more}")
            }
        }
        None => tail.to_string(),
    };
    Some(if tail.is_empty() {
        format!("/proc/{real}")
    } else {
        format!("/proc/{real}/{tail}")
    })
}

/// Calls the kernel performs between two fds (`sendfile`, `splice`, …): fine on kernel
/// fds, refused on virtual ones (their placeholders carry no data).
pub fn kernel_only(e: &mut Engine, tid: Vtid, nr: u32, a: [u64; 6]) -> Res {
    let fd_args: &[usize] = match nr as i64 {
        libc::SYS_sendfile | libc::SYS_tee => &[0, 1],
        libc::SYS_splice | libc::SYS_copy_file_range => &[0, 2],
        _ => &[0],
    };
    let virtual_fd = fd_args.iter().any(|&i| lookup(e, tid, a[i]).is_some());
    if virtual_fd {
        let name = syscalls::Sysno::new(nr as usize).map_or("?", |s| s.name());
        e.warn(format!("{name} on a virtual fd answered EINVAL"));
        return Err(Errno::EINVAL);
    }
    Ok(Out::Pass)
}
