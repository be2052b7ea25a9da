//! Reads, writes and descriptor management on virtual objects: pipes, eventfds,
//! captured stdout/stderr, `/dev/urandom`; sockets are forwarded to [`super::socket`],
//! timerfds to [`super::timer`], signalfds to [`super::signal`].
//!
//! An fd that is not virtual is a kernel fd (a regular file, a directory, `/dev/null`)
//! and its calls pass through. Calls that create descriptors run in the kernel (creating
//! the placeholder) and the model records the result at the syscall's exit.

use super::guest::{self, rw_count};
use super::{Blocked, Out, Post, Res};
use crate::errno::Errno;
use crate::fd::{Fd, FileId, Kind, Obj, SignalIo, Wait};
use crate::syscall::calls::{
    Close, CloseRange, Creat, Fcntl, Ioctl, Open, Openat, Read, Readv, Write, Writev,
};
use crate::syscall::enums::FcntlCmd;
use crate::syscall::{DirFd, FdPair, PathPtr, Syscall};
use crate::world::{Effect, Vtid, World};
use rand::RngCore;

/// Largest piece of a transfer the tracer holds in memory at once: bigger transfers
/// (up to Linux's [`guest::MAX_RW_COUNT`]) go through in pieces.
const CHUNK: usize = 1 << 16;

/// The virtual descriptor a register names (the kernel reads its low 32 bits), if it is
/// one of `tid`'s.
pub(crate) fn lookup(e: &World, tid: Vtid, fd: u64) -> Option<Fd> {
    lookup_fd(e, tid, fd as i32)
}

/// The virtual descriptor `fd` of `tid`'s table, if it is one.
pub(crate) fn lookup_fd(e: &World, tid: Vtid, fd: i32) -> Option<Fd> {
    e.files.get(e.threads[&tid].fdt, i64::from(fd))
}

/// An action at the exit of an I/O call, run with the kernel's return value: the model
/// records what the kernel made (a descriptor, a pipe's new size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `pipe`/`pipe2` made the pair written at `fds`.
    Pipe {
        /// Where the kernel wrote the two descriptors.
        fds: u64,
        /// `pipe2`'s flags.
        flags: i32,
    },
    /// `eventfd`/`eventfd2` made the descriptor returned.
    Eventfd {
        /// The initial count.
        init: u32,
        /// `eventfd2`'s flags.
        flags: i32,
    },
    /// `dup`, `dup2`, `dup3` made (or replaced) the descriptor returned.
    Dup {
        /// The descriptor duplicated.
        old: i32,
        /// The descriptor asked for (`dup2`, `dup3`).
        new: Option<i32>,
        /// The virtual descriptor `old` is, if it is one.
        src: Option<Fd>,
        /// `dup3`'s flags.
        flags: i32,
    },
    /// `fcntl(F_DUPFD)`/`fcntl(F_DUPFD_CLOEXEC)` of a virtual descriptor.
    DupFd {
        /// The open file description duplicated.
        file: FileId,
        /// `F_DUPFD_CLOEXEC`.
        cloexec: bool,
    },
    /// An `fcntl` that changes the signal-driven I/O settings of `file`.
    SignalIo {
        /// The open file description.
        file: FileId,
        /// What changes.
        change: SignalIoChange,
    },
    /// `fcntl(F_SETPIPE_SZ)`: the kernel resized the placeholder of pipe `pipe`.
    PipeSize {
        /// The pipe.
        pipe: usize,
    },
    /// An `open` of `/dev/urandom` or `/dev/random` made the descriptor returned.
    Urandom {
        /// `O_CLOEXEC`.
        cloexec: bool,
    },
    /// Any other `open`: nothing to record (the exit stop is for the trace, which keeps
    /// the result beside the path).
    Opened,
}

impl Exit {
    /// Runs the action; returns a replacement return value, if any.
    pub(crate) fn run(self, e: &mut World, tid: Vtid, ret: i64) -> Option<i64> {
        match self {
            Exit::Pipe { fds, flags } => pipe_made(e, tid, ret, fds, flags),
            Exit::Eventfd { init, flags } => eventfd_made(e, tid, ret, init, flags),
            Exit::Dup {
                old,
                new,
                src,
                flags,
            } => dup_made(e, tid, ret, (old, new), src, flags),
            Exit::DupFd { file, cloexec } => dupfd_made(e, tid, ret, file, cloexec),
            Exit::SignalIo { file, change } => signal_io_set(e, tid, ret, file, change),
            Exit::PipeSize { pipe } => pipe_resized(e, ret, pipe),
            Exit::Urandom { cloexec } => urandom_opened(e, tid, ret, cloexec),
            Exit::Opened => None,
        }
    }
}

/// A change `fcntl` makes to the signal-driven I/O settings of an open file description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalIoChange {
    /// `F_SETFL`: `O_ASYNC` on or off.
    Async(bool),
    /// `F_SETOWN`: a pid, or (negative) a process group.
    Owner(i32),
    /// `F_SETOWN_EX`: an owner kind (`F_OWNER_TID`, `F_OWNER_PID`, `F_OWNER_PGRP`) and id.
    OwnerEx(i32, i32),
    /// `F_SETSIG`: the signal (0: `SIGIO`).
    Sig(i32),
}

impl SignalIoChange {
    fn apply(self, io: &mut SignalIo) {
        match self {
            SignalIoChange::Async(on) => io.on = on,
            SignalIoChange::Owner(pid) => (io.owner, io.thread) = (pid, None),
            SignalIoChange::OwnerEx(F_OWNER_TID, pid) => (io.owner, io.thread) = (0, Some(pid)),
            SignalIoChange::OwnerEx(F_OWNER_PGRP, pid) => {
                (io.owner, io.thread) = (pid.saturating_neg(), None)
            }
            SignalIoChange::OwnerEx(_, pid) => (io.owner, io.thread) = (pid, None),
            SignalIoChange::Sig(sig) => io.sig = sig,
        }
    }
}

/// The `fcntl` runs on the placeholder (the kernel checks its argument and keeps what
/// `F_GETOWN`, `F_GETSIG` and `F_GETFL` answer); if it succeeds, `change` applies to
/// the signal-driven I/O settings of open file description `file` (a pipe end or a
/// socket; other kinds are left to the kernel), whose readiness now is noted.
fn set_signal_io(file: FileId, change: SignalIoChange) -> Out {
    Out::PassThen(Post::Io(Exit::SignalIo { file, change }))
}

/// The exit of [`set_signal_io`].
fn signal_io_set(
    e: &mut World,
    tid: Vtid,
    ret: i64,
    file: FileId,
    change: SignalIoChange,
) -> Option<i64> {
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
    change.apply(io);
    io.seen = bits & (POLL_IN_BITS | libc::POLLOUT as u32);
    if io.on && (io.owner != 0 || io.thread.is_some()) {
        e.signal_io.insert(file);
    } else {
        e.signal_io.remove(&file);
    }
    None
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
pub(crate) fn signal_io(e: &mut World, obj: Obj) {
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

fn would_block(e: &World, file: usize, obj: Obj, what: &'static str) -> Res {
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

    pub(crate) fn put(&self, e: &World, tid: Vtid, data: &[u8]) -> Result<(), Errno> {
        self.put_at(e, tid, 0, data)
    }

    /// Writes `data` starting `off` bytes into the destination.
    pub(crate) fn put_at(
        &self,
        e: &World,
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
        e: &World,
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
pub fn read(e: &mut World, tid: Vtid, c: Read) -> Res {
    match lookup_fd(e, tid, c.fd.get()) {
        None => Ok(Out::Pass),
        Some(fd) => {
            readable(e, fd)?;
            let buf = c.buf.addr();
            read_from(e, tid, fd, Dest::Buf(buf, rw_count(buf, c.count)?))
        }
    }
}

/// `readv`.
pub fn readv(e: &mut World, tid: Vtid, c: Readv) -> Res {
    match lookup_fd(e, tid, c.fd.get()) {
        None => Ok(Out::Pass),
        Some(fd) => {
            readable(e, fd)?;
            let iov = guest::iovecs(e, tid, c.iov.addr(), c.iovcnt, Errno::EINVAL)?;
            read_from(e, tid, fd, Dest::Iov(iov))
        }
    }
}

/// The checks `vfs_read` makes before it looks at the buffer: the wrong end of a pipe
/// is `EBADF`, an epoll instance has no read (`EINVAL`).
fn readable(e: &World, fd: Fd) -> Result<(), Errno> {
    match e.files.file(fd.file).kind {
        Kind::PipeWrite(_) | Kind::Output(_) => Err(Errno::EBADF),
        Kind::Epoll(_) => Err(Errno::EINVAL),
        _ => Ok(()),
    }
}

/// The same for `vfs_write`.
fn writable(e: &World, fd: Fd) -> Result<(), Errno> {
    match e.files.file(fd.file).kind {
        Kind::PipeRead(_) => Err(Errno::EBADF),
        Kind::Epoll(_) => Err(Errno::EINVAL),
        _ => Ok(()),
    }
}

fn read_from(e: &mut World, tid: Vtid, fd: Fd, dest: Dest) -> Res {
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
pub(crate) fn fill_random(e: &mut World, tid: Vtid, dest: &Dest, want: usize) -> Res {
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
pub fn write(e: &mut World, tid: Vtid, c: Write) -> Res {
    match lookup_fd(e, tid, c.fd.get()) {
        None => {
            super::file::before_write(e, tid, c.fd.get(), None, c.count);
            Ok(Out::Pass)
        }
        Some(fd) => {
            writable(e, fd)?;
            let buf = c.buf.addr();
            write_to(e, tid, fd, Src::Buf(buf, rw_count(buf, c.count)?))
        }
    }
}

/// `writev`.
pub fn writev(e: &mut World, tid: Vtid, c: Writev) -> Res {
    let (iov, n) = (c.iov.addr(), c.iovcnt);
    match lookup_fd(e, tid, c.fd.get()) {
        None => {
            let len = guest::iovecs(e, tid, iov, n, Errno::EINVAL)?
                .iter()
                .fold(0u64, |n, r| n.saturating_add(r.1 as u64));
            super::file::before_write(e, tid, c.fd.get(), None, len);
            Ok(Out::Pass)
        }
        Some(fd) => {
            writable(e, fd)?;
            let iov = guest::iovecs(e, tid, iov, n, Errno::EINVAL)?;
            write_to(e, tid, fd, Src::Iov(iov))
        }
    }
}

/// Raises `SIGPIPE` on the writing thread (delivered when it resumes) and fails `EPIPE`.
pub(crate) fn epipe(e: &mut World, tid: Vtid) -> Res {
    let t = &e.threads[&tid];
    let tgid = e.procs[&t.pid].real;
    let _ = crate::sys::tgkill(tgid, t.real, libc::SIGPIPE);
    Err(Errno::EPIPE)
}

fn write_to(e: &mut World, tid: Vtid, fd: Fd, src: Src) -> Res {
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
            // In pieces, so a guest's huge write is never one allocation here; each
            // piece goes straight into the stream, and the engine takes it from there.
            let pid = e.threads[&tid].pid;
            let from = e.streams.get(stream).map_or(0, |s| s.data.len());
            let mut done = 0usize;
            while done < total {
                let data = match src.get(e, tid, done, CHUNK) {
                    Ok(d) if !d.is_empty() => d,
                    // A bad address part-way: Linux returns what it wrote.
                    _ if done > 0 => break,
                    Ok(_) => return Err(Errno::EFAULT),
                    Err(x) => return Err(x),
                };
                done = done.saturating_add(data.len());
                if let Some(s) = e.streams.get_mut(stream) {
                    s.data.extend_from_slice(&data);
                }
            }
            e.effects.push(Effect::Output { stream, pid, from });
            Ok(Out::Return(done as i64))
        }
        Kind::Urandom => Ok(Out::Return(total as i64)),
        Kind::Socket(s) => super::socket::send_from(e, tid, fd, s, src, 0, None),
        Kind::PipeRead(_) => Err(Errno::EBADF),
        Kind::Epoll(_) | Kind::TimerFd(_) | Kind::SignalFd(_) => Err(Errno::EINVAL),
    }
}

/// `close`.
pub fn close(e: &mut World, tid: Vtid, c: Close) -> Res {
    let fdt = e.threads[&tid].fdt;
    if let Some(c) = e.files.remove(fdt, c.fd.get()) {
        e.closed(c);
    }
    Ok(Out::Pass)
}

/// `close_range`: Linux's checks first (`EINVAL` for unknown flags or `first > last`,
/// and then nothing is closed).
pub fn close_range(e: &mut World, tid: Vtid, c: CloseRange) -> Res {
    let (first, last, flags) = (c.first.get(), c.last.get(), c.flags.get());
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
pub fn pipe(_e: &mut World, _tid: Vtid, fds: FdPair, flags: i32) -> Res {
    Ok(Out::PassThen(Post::Io(Exit::Pipe {
        fds: fds.addr(),
        flags,
    })))
}

/// The exit of [`pipe`]: the pair the kernel wrote at `fds` becomes a model pipe.
fn pipe_made(e: &mut World, tid: Vtid, ret: i64, fds: u64, flags: i32) -> Option<i64> {
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
}

/// `eventfd`/`eventfd2`.
pub fn eventfd(_e: &mut World, _tid: Vtid, init: u32, flags: i32) -> Res {
    Ok(Out::PassThen(Post::Io(Exit::Eventfd { init, flags })))
}

/// The exit of [`eventfd`]: the descriptor returned becomes a model eventfd.
fn eventfd_made(e: &mut World, tid: Vtid, ret: i64, init: u32, flags: i32) -> Option<i64> {
    if ret >= 0 {
        e.files.eventfds.push(crate::fd::EventFd {
            count: u64::from(init),
            semaphore: flags & libc::EFD_SEMAPHORE != 0,
        });
        let id = e.files.eventfds.len().saturating_sub(1);
        let (nonblock, cloexec) = (
            flags & libc::EFD_NONBLOCK != 0,
            flags & libc::EFD_CLOEXEC != 0,
        );
        install_new(e, tid, ret as i32, Kind::EventFd(id), nonblock, cloexec);
    }
    None
}

/// `dup`, `dup2` (`new` given), `dup3` (`flags`).
pub fn dup(e: &mut World, tid: Vtid, old: i32, new: Option<i32>, flags: i32) -> Res {
    let src = lookup_fd(e, tid, old);
    let replaces_virtual = new.is_some_and(|n| lookup_fd(e, tid, n).is_some());
    if src.is_none() && !replaces_virtual {
        return Ok(Out::Pass);
    }
    Ok(Out::PassThen(Post::Io(Exit::Dup {
        old,
        new,
        src,
        flags,
    })))
}

/// The exit of [`dup`]: the new descriptor is the virtual one's, or (a kernel fd put
/// over a virtual one) no longer virtual.
fn dup_made(
    e: &mut World,
    tid: Vtid,
    ret: i64,
    (old, new): (i32, Option<i32>),
    src: Option<Fd>,
    flags: i32,
) -> Option<i64> {
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
}

/// The exit of `fcntl(F_DUPFD)`: the descriptor returned is another for `file`.
fn dupfd_made(e: &mut World, tid: Vtid, ret: i64, file: FileId, cloexec: bool) -> Option<i64> {
    if ret >= 0 {
        let fdt = e.threads[&tid].fdt;
        let c = e.files.install(fdt, ret as i32, file, cloexec);
        e.closed(c);
    }
    None
}

/// `fcntl`.
pub fn fcntl(e: &mut World, tid: Vtid, c: Fcntl) -> Res {
    let (fd, cmd, arg) = (c.fd.get(), c.cmd.get() as i32, c.arg);
    let Some(entry) = lookup_fd(e, tid, fd) else {
        return Ok(Out::Pass);
    };
    let fdt = e.threads[&tid].fdt;
    match cmd {
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => Ok(Out::PassThen(Post::Io(Exit::DupFd {
            file: entry.file,
            cloexec: cmd == libc::F_DUPFD_CLOEXEC,
        }))),
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
            Ok(set_signal_io(entry.file, SignalIoChange::Async(on)))
        }
        libc::F_SETOWN => Ok(set_signal_io(entry.file, SignalIoChange::Owner(arg as i32))),
        F_SETOWN_EX => {
            let [kind, pid]: [i32; 2] = e.read_val(tid, arg)?;
            Ok(set_signal_io(
                entry.file,
                SignalIoChange::OwnerEx(kind, pid),
            ))
        }
        F_SETSIG => Ok(set_signal_io(entry.file, SignalIoChange::Sig(arg as i32))),
        // Record locks on a pipe or socket are the kernel's (the placeholder is the same
        // kind of file), but a waiting one must not block the one running thread: it
        // tries once instead (EAGAIN where Linux would wait for the holder).
        libc::F_SETLKW | libc::F_OFD_SETLKW => {
            let once = if cmd == libc::F_SETLKW {
                libc::F_SETLK
            } else {
                libc::F_OFD_SETLK
            };
            let once = Fcntl {
                cmd: FcntlCmd::from(once as u32),
                ..c
            };
            Ok(Out::Rewrite {
                nr: i64::from(Fcntl::NR),
                args: once.encode(),
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
fn set_pipe_size(e: &mut World, entry: Fd, arg: u64) -> Res {
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
    Ok(Out::PassThen(Post::Io(Exit::PipeSize { pipe: p })))
}

/// The exit of [`set_pipe_size`]: the model takes the size the kernel gave the
/// placeholder.
fn pipe_resized(e: &mut World, ret: i64, p: usize) -> Option<i64> {
    if let Ok(bytes) = usize::try_from(ret) {
        if bytes > 0 && !e.files.pipes[p].too_full_for(bytes) {
            e.files.pipes[p].resize(bytes);
            e.notify(Obj::Pipe(p)); // writers may fit now, or not any more
        }
    }
    None
}

/// `ioctl`.
pub fn ioctl(e: &mut World, tid: Vtid, c: Ioctl) -> Res {
    let (fd, request, arg) = (c.fd.get(), u64::from(c.request.get()), c.arg);
    let Some(entry) = lookup_fd(e, tid, fd) else {
        return Ok(Out::Pass);
    };
    let fdt = e.threads[&tid].fdt;
    let kind = e.files.file(entry.file).kind;
    match request {
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
            e.write_val(tid, arg, &n)?;
            Ok(Out::Return(0))
        }
        libc::FIONBIO => {
            let on: i32 = e.read_val(tid, arg)?;
            e.files.file_mut(entry.file).nonblock = on != 0;
            Ok(Out::Pass)
        }
        libc::FIOCLEX | libc::FIONCLEX => {
            e.files.set_cloexec(fdt, fd, request == libc::FIOCLEX);
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
pub fn open(e: &mut World, tid: Vtid, call: OpenCall) -> Res {
    let (path, flags) = (call.path().addr(), call.flags());
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
        let (nr, args) = call.on_path(PathPtr(at)).encode();
        return Ok(Out::Rewrite {
            nr: i64::from(nr),
            args,
            post: None,
        });
    }
    if p == b"/dev/urandom" || p == b"/dev/random" {
        let cloexec = flags & libc::O_CLOEXEC != 0;
        return Ok(Out::PassThen(Post::Io(Exit::Urandom { cloexec })));
    }
    if flags & (libc::O_CREAT | libc::O_TRUNC) != 0 {
        return super::file::open_creating(e, tid, call.dirfd().get(), path, flags);
    }
    // The kernel opens it; the exit stop records the result (the fd, or why not) beside
    // the path the trace keeps, for the dependency graph: an open that failed (a library
    // search path, a missing config file) is no dependency.
    Ok(Out::PassThen(Post::Io(Exit::Opened)))
}

/// Installs at descriptor `fd` of `tid`'s table a new open file of `kind` (the
/// descriptor a call that made it returned); what the slot held before is closed.
pub(crate) fn install_new(
    e: &mut World,
    tid: Vtid,
    fd: i32,
    kind: Kind,
    nonblock: bool,
    cloexec: bool,
) {
    let f = e.files.open(kind, nonblock);
    let fdt = e.threads[&tid].fdt;
    let c = e.files.install(fdt, fd, f, cloexec);
    e.closed(c);
}

/// The exit of an `open` of `/dev/urandom`: the descriptor reads the seeded stream.
fn urandom_opened(e: &mut World, tid: Vtid, ret: i64, cloexec: bool) -> Option<i64> {
    if ret >= 0 {
        install_new(e, tid, ret as i32, Kind::Urandom, false, cloexec);
    }
    None
}

/// The calls [`open`] serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenCall {
    /// `open(path, flags, mode)`.
    Open(Open),
    /// `openat(dirfd, path, flags, mode)`.
    Openat(Openat),
    /// `creat(path, mode)`: `open` with `O_CREAT|O_WRONLY|O_TRUNC`.
    Creat(Creat),
}

impl OpenCall {
    /// The directory a relative path starts from.
    fn dirfd(self) -> DirFd {
        match self {
            OpenCall::Openat(c) => c.dirfd,
            OpenCall::Open(_) | OpenCall::Creat(_) => DirFd::CWD,
        }
    }

    fn path(self) -> PathPtr {
        match self {
            OpenCall::Open(c) => c.pathname,
            OpenCall::Openat(c) => c.pathname,
            OpenCall::Creat(c) => c.pathname,
        }
    }

    /// The open flags, as the kernel reads them.
    fn flags(self) -> i32 {
        match self {
            OpenCall::Open(c) => c.flags.get() as i32,
            OpenCall::Openat(c) => c.flags.get() as i32,
            OpenCall::Creat(_) => libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC,
        }
    }

    /// The same call on another path.
    fn on_path(self, pathname: PathPtr) -> Syscall {
        match self {
            OpenCall::Open(c) => Syscall::Open(Open { pathname, ..c }),
            OpenCall::Openat(c) => Syscall::Openat(Openat { pathname, ..c }),
            OpenCall::Creat(c) => Syscall::Creat(Creat { pathname, ..c }),
        }
    }
}

/// `/proc/<pid>/…` (and `/proc/<pid>/task/<tid>/…`) named by the scenario's pids: the
/// host's `/proc` counts pids of the host's namespace, so the path is turned into the
/// real pid's (pid 2 of a scenario is not the host's pid 2). `None` for any other path,
/// for pids the scenario does not have, and where the node's `/proc` is its PID
/// namespace's own (it counts the scenario's pids itself).
fn proc_path(e: &World, tid: Vtid, p: &[u8]) -> Option<String> {
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
pub fn kernel_only(e: &mut World, tid: Vtid, call: &Syscall) -> Res {
    // The descriptor arguments: both ends of `sendfile`, `tee`, `splice` and
    // `copy_file_range`; the one of `preadv` and `pwritev`.
    let virtual_fd = call
        .fds()
        .any(|(_, fd)| lookup_fd(e, tid, fd.get()).is_some());
    if virtual_fd {
        let name = call.name();
        e.warn(format!("{name} on a virtual fd answered EINVAL"));
        return Err(Errno::EINVAL);
    }
    Ok(Out::Pass)
}
