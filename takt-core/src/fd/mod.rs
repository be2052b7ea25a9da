//! File descriptors of virtual objects (sans-I/O): fd tables, open file descriptions,
//! pipes, eventfds, timerfds, signalfds, captured stdout/stderr, `/dev/urandom`, epoll
//! instances.
//!
//! The kernel's fd table stays authoritative for numbering: every virtual object has a
//! placeholder kernel fd of the same number in the tracee (a real pipe, socket or eventfd
//! that never carries data). This model records only which numbers are virtual and what
//! they refer to; an fd absent from a table is an ordinary kernel fd (a regular file).
//! Sockets live in [`crate::net`]; this module holds their ids.

use crate::errno::Errno;
use std::collections::{BTreeMap, VecDeque};

/// Index of an open file description.
pub type FileId = usize;
/// Index of an fd table (shared by threads created with `CLONE_FILES`).
pub type TableId = usize;

/// Linux's default pipe capacity.
pub const PIPE_CAPACITY: usize = 65536;
/// Writes up to this size are atomic on a pipe.
pub const PIPE_BUF: usize = 4096;
/// The size of one slot of a pipe's ring (a page): Linux counts a pipe's capacity in
/// slots, each holding at most one page of data.
pub const PIPE_PAGE: usize = 4096;

/// What an open file description refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The read end of pipe `n`.
    PipeRead(usize),
    /// The write end of pipe `n`.
    PipeWrite(usize),
    /// Eventfd `n`.
    EventFd(usize),
    /// Captured output stream `n` (a process's stdout or stderr).
    Output(usize),
    /// `/dev/urandom` or `/dev/random`: reads draw on the process's seeded stream.
    Urandom,
    /// Epoll instance `n`.
    Epoll(usize),
    /// Socket `n` of the virtual network.
    Socket(usize),
    /// Timerfd `n` (on the virtual clock).
    TimerFd(usize),
    /// Signalfd `n`: reads take the reading thread's pending signals in its mask.
    SignalFd(usize),
}

/// An object threads can wait on; state changes notify every thread waiting on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Obj {
    /// A pipe (both ends).
    Pipe(usize),
    /// An eventfd.
    EventFd(usize),
    /// A socket.
    Socket(usize),
    /// An epoll instance (its ready list).
    Epoll(usize),
    /// A timerfd (its next expiry came).
    TimerFd(usize),
    /// The signals of every process (a signal was generated, or a signalfd's mask
    /// changed): what signalfd readers and `sigtimedwait`/`sigsuspend` wait on.
    Signals,
}

impl Kind {
    /// The object behind this kind, if threads can wait on it.
    pub fn obj(self) -> Option<Obj> {
        match self {
            Kind::PipeRead(p) | Kind::PipeWrite(p) => Some(Obj::Pipe(p)),
            Kind::EventFd(e) => Some(Obj::EventFd(e)),
            Kind::Socket(s) => Some(Obj::Socket(s)),
            Kind::Epoll(e) => Some(Obj::Epoll(e)),
            Kind::TimerFd(t) => Some(Obj::TimerFd(t)),
            Kind::SignalFd(_) => Some(Obj::Signals),
            Kind::Output(_) | Kind::Urandom => None,
        }
    }
}

/// An open file description.
#[derive(Clone, Debug)]
pub struct File {
    /// What it refers to.
    pub kind: Kind,
    /// `O_NONBLOCK` (shared by every fd referring to this description).
    pub nonblock: bool,
    /// Signal-driven I/O (`O_ASYNC`, `F_SETOWN`, `F_SETSIG`), when set up.
    pub signal_io: SignalIo,
    refs: usize,
}

/// Signal-driven I/O on an open file description: who gets which signal when it
/// becomes readable or writable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignalIo {
    /// `O_ASYNC` is set.
    pub on: bool,
    /// `F_SETOWN`: a pid (`> 0`), a process group (`< 0`) or nobody (0);
    /// `F_SETOWN_EX` with `F_OWNER_TID` sets [`SignalIo::thread`] instead.
    pub owner: i32,
    /// `F_SETOWN_EX(F_OWNER_TID)`: the thread that gets the signal.
    pub thread: Option<i32>,
    /// `F_SETSIG` (0: `SIGIO`).
    pub sig: i32,
    /// The `POLLIN`/`POLLOUT` bits at the last look: a signal goes out when one of
    /// them comes on.
    pub seen: u32,
}

/// One fd slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fd {
    /// The open file description.
    pub file: FileId,
    /// `FD_CLOEXEC`.
    pub cloexec: bool,
}

/// A pipe's buffer and its open ends.
///
/// Data sits in page-sized slots as in Linux's pipe ring (`fs/pipe.c`), because the
/// capacity is counted in slots, not bytes: a write starts a new slot unless its
/// sub-page remainder (`len % 4096`) fits behind the data of the last slot, a slot is
/// freed only when it has been read completely, and a pipe is full when every slot is
/// taken (sixteen 2500-byte writes fill a 65536-byte pipe).
#[derive(Debug, Default)]
pub struct Pipe {
    /// Bytes written, not yet read.
    buf: VecDeque<u8>,
    /// The occupied slots, oldest first: (unread bytes, where they end in their page).
    slots: VecDeque<(usize, usize)>,
    /// Open read-end descriptions.
    pub readers: usize,
    /// Open write-end descriptions.
    pub writers: usize,
    /// Capacity in bytes: a whole number of slots (`F_GETPIPE_SZ`, set by `F_SETPIPE_SZ`).
    capacity: usize,
}

impl Pipe {
    /// A pipe with the default capacity and one open description of each end.
    pub fn new() -> Pipe {
        Pipe {
            readers: 1,
            writers: 1,
            capacity: PIPE_CAPACITY,
            ..Pipe::default()
        }
    }

    /// Unread bytes (`FIONREAD` on either end).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The capacity in bytes (`F_GETPIPE_SZ`).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether every slot is taken (no `POLLOUT`).
    pub fn full(&self) -> bool {
        self.slots.len() >= self.capacity / PIPE_PAGE
    }

    /// The bytes of a write of `total` bytes, `done` of them already written, that go
    /// into the last slot: only at a write's start, its sub-page remainder, if it fits.
    fn merged(&self, total: usize, done: usize) -> usize {
        let chars = total % PIPE_PAGE;
        match self.slots.back() {
            Some(&(_, end)) if done == 0 && chars > 0 && end.saturating_add(chars) <= PIPE_PAGE => {
                chars
            }
            _ => 0,
        }
    }

    /// How many more bytes of that write fit now.
    fn room(&self, total: usize, done: usize) -> usize {
        let free = (self.capacity / PIPE_PAGE).saturating_sub(self.slots.len());
        let left = total.saturating_sub(done);
        self.merged(total, done)
            .saturating_add(free.saturating_mul(PIPE_PAGE))
            .min(left)
    }

    /// Appends `data`, the next bytes of a write of `total` bytes of which `done` were
    /// written before (`data.len()` at most what [`Pipe::room`] allowed).
    fn push(&mut self, data: &[u8], total: usize, done: usize) {
        let merge = self.merged(total, done).min(data.len());
        if merge > 0 {
            if let Some(last) = self.slots.back_mut() {
                last.0 = last.0.saturating_add(merge);
                last.1 = last.1.saturating_add(merge);
            }
        }
        for page in data[merge..].chunks(PIPE_PAGE) {
            self.slots.push_back((page.len(), page.len()));
        }
        self.buf.extend(data);
    }

    /// Takes up to `max` bytes from the front into `out`.
    fn pop(&mut self, max: usize, out: &mut Vec<u8>) -> usize {
        let n = max.min(self.buf.len());
        out.extend(self.buf.drain(..n));
        let mut left = n;
        while left > 0 {
            let Some(front) = self.slots.front_mut() else {
                break;
            };
            let k = left.min(front.0);
            front.0 = front.0.saturating_sub(k);
            left = left.saturating_sub(k);
            if front.0 == 0 {
                self.slots.pop_front();
            }
        }
        n
    }

    /// Whether `F_SETPIPE_SZ` to `bytes` fails with `EBUSY`: the data takes more slots.
    pub fn too_full_for(&self, bytes: usize) -> bool {
        self.slots.len() > bytes / PIPE_PAGE
    }

    /// `F_SETPIPE_SZ` to `bytes`, which the kernel rounded and allowed on the
    /// placeholder, and [`Pipe::too_full_for`] did not refuse.
    pub fn resize(&mut self, bytes: usize) {
        self.capacity = bytes;
    }
}

/// An eventfd counter.
#[derive(Debug, Default)]
pub struct EventFd {
    /// The counter.
    pub count: u64,
    /// `EFD_SEMAPHORE`.
    pub semaphore: bool,
}

/// A timerfd: its clock, its schedule, the expirations not read yet.
#[derive(Debug, Default)]
pub struct TimerFd {
    /// The clock it was created on (`CLOCK_REALTIME`, `CLOCK_MONOTONIC`, …).
    pub clock: i32,
    /// When it expires.
    pub schedule: crate::time::Periodic,
    /// Expirations counted and not read yet.
    pub ticks: u64,
    /// The engine's timer that wakes waiters at the next expiry, if one is pending.
    pub timer: Option<crate::time::TimerId>,
}

/// What was closed when the last reference to a description went away.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    /// Nothing of interest (still referenced, or no object).
    Nothing,
    /// A waitable object changed state.
    Obj(Obj),
    /// A socket's last description closed: the network must close it.
    Socket(usize),
}

/// Every fd table, open file description, pipe and eventfd of a scenario.
#[derive(Debug, Default)]
pub struct Files {
    tables: Vec<Option<(Vec<Option<Fd>>, usize)>>,
    files: Vec<Option<File>>,
    /// Pipes, by index.
    pub pipes: Vec<Pipe>,
    /// Eventfds, by index.
    pub eventfds: Vec<EventFd>,
    /// Epoll instances' interest lists, by index.
    pub epolls: Vec<Epoll>,
    /// Timerfds, by index.
    pub timerfds: Vec<TimerFd>,
    /// Signalfds' masks, by index.
    pub signalfds: Vec<u64>,
}

/// One registration in an epoll interest list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest {
    /// The description watched.
    pub file: FileId,
    /// `EPOLLIN | EPOLLOUT | EPOLLET | EPOLLONESHOT | …` as registered.
    pub events: u32,
    /// The user data returned with events.
    pub data: u64,
    /// `EPOLLONESHOT` fired and not re-armed.
    pub disarmed: bool,
    /// For `EPOLLET`: the readiness last reported (an event is reported when readiness
    /// gains a bit, or when the object's generation moved on).
    pub last: (u32, u64),
}

/// An epoll instance: interest keyed by fd number (as Linux keys it by (file, fd)).
#[derive(Clone, Debug, Default)]
pub struct Epoll {
    /// fd → interest.
    pub interest: BTreeMap<i32, Interest>,
}

impl Files {
    /// A new, empty fd table.
    pub fn new_table(&mut self) -> TableId {
        self.tables.push(Some((Vec::new(), 1)));
        self.tables.len() - 1
    }

    /// Another user of `t` (a thread created with `CLONE_FILES`).
    pub fn share_table(&mut self, t: TableId) -> TableId {
        self.table_mut(t).1 += 1;
        t
    }

    /// A copy of `t` (fork without `CLONE_FILES`): every description gains a reference.
    pub fn copy_table(&mut self, t: TableId) -> TableId {
        let fds = self.table(t).0.clone();
        for fd in fds.iter().flatten() {
            self.file_mut(fd.file).refs += 1;
        }
        self.tables.push(Some((fds, 1)));
        self.tables.len() - 1
    }

    /// A user of `t` went away (thread exit, exec unsharing); the last one closes every fd.
    pub fn release_table(&mut self, t: TableId) -> Vec<Closed> {
        let entry = self.table_mut(t);
        entry.1 -= 1;
        if entry.1 > 0 {
            return Vec::new();
        }
        let (fds, _) = self.tables[t].take().expect("table exists");
        fds.into_iter()
            .flatten()
            .map(|fd| self.unref(fd.file))
            .collect()
    }

    fn table(&self, t: TableId) -> &(Vec<Option<Fd>>, usize) {
        self.tables[t]
            .as_ref()
            .expect("fd table used after release")
    }

    fn table_mut(&mut self, t: TableId) -> &mut (Vec<Option<Fd>>, usize) {
        self.tables[t]
            .as_mut()
            .expect("fd table used after release")
    }

    /// A new open file description with no fd yet.
    pub fn open(&mut self, kind: Kind, nonblock: bool) -> FileId {
        self.files.push(Some(File {
            kind,
            nonblock,
            signal_io: SignalIo::default(),
            refs: 0,
        }));
        self.files.len() - 1
    }

    /// Whether description `f` is still open.
    pub fn is_open(&self, f: FileId) -> bool {
        self.files.get(f).is_some_and(|x| x.is_some())
    }

    /// The description `f`.
    pub fn file(&self, f: FileId) -> &File {
        self.files[f]
            .as_ref()
            .expect("open file description used after close")
    }

    /// The description `f`, mutably.
    pub fn file_mut(&mut self, f: FileId) -> &mut File {
        self.files[f]
            .as_mut()
            .expect("open file description used after close")
    }

    /// The fd `fd` of table `t`, if it is virtual.
    #[inline]
    pub fn get(&self, t: TableId, fd: i64) -> Option<Fd> {
        if fd < 0 {
            return None;
        }
        self.table(t).0.get(fd as usize).copied().flatten()
    }

    /// Installs `file` at `fd` (whose kernel placeholder already exists). Returns what a
    /// previous virtual fd at that number closed (dup2 over it).
    pub fn install(&mut self, t: TableId, fd: i32, file: FileId, cloexec: bool) -> Closed {
        self.file_mut(file).refs += 1;
        let fds = &mut self.table_mut(t).0;
        let i = fd as usize;
        if fds.len() <= i {
            fds.resize(i + 1, None);
        }
        match fds[i].replace(Fd { file, cloexec }) {
            Some(old) => self.unref(old.file),
            None => Closed::Nothing,
        }
    }

    /// Removes fd `fd` of table `t` (close); returns what that closed.
    pub fn remove(&mut self, t: TableId, fd: i32) -> Option<Closed> {
        let fds = &mut self.table_mut(t).0;
        let old = fds.get_mut(fd as usize)?.take()?;
        Some(self.unref(old.file))
    }

    /// Sets `FD_CLOEXEC`.
    pub fn set_cloexec(&mut self, t: TableId, fd: i32, on: bool) {
        if let Some(Some(e)) = self.table_mut(t).0.get_mut(fd as usize) {
            e.cloexec = on;
        }
    }

    /// Closes every `FD_CLOEXEC` fd of `t` (after a successful execve).
    pub fn close_on_exec(&mut self, t: TableId) -> Vec<Closed> {
        let fds = &mut self.table_mut(t).0;
        let mut gone = Vec::new();
        for slot in fds.iter_mut() {
            if slot.is_some_and(|e| e.cloexec) {
                gone.push(slot.take().expect("checked").file);
            }
        }
        gone.into_iter().map(|f| self.unref(f)).collect()
    }

    /// Every virtual fd of table `t`, ascending.
    pub fn fds(&self, t: TableId) -> impl Iterator<Item = (i32, Fd)> + '_ {
        self.table(t)
            .0
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.map(|e| (i as i32, e)))
    }

    fn unref(&mut self, f: FileId) -> Closed {
        let file = self.file_mut(f);
        file.refs -= 1;
        if file.refs > 0 {
            return Closed::Nothing;
        }
        let kind = file.kind;
        self.files[f] = None;
        match kind {
            Kind::PipeRead(p) => {
                self.pipes[p].readers -= 1;
                Closed::Obj(Obj::Pipe(p))
            }
            Kind::PipeWrite(p) => {
                self.pipes[p].writers -= 1;
                Closed::Obj(Obj::Pipe(p))
            }
            Kind::Socket(s) => Closed::Socket(s),
            Kind::TimerFd(t) => Closed::Obj(Obj::TimerFd(t)),
            Kind::EventFd(_)
            | Kind::Output(_)
            | Kind::Urandom
            | Kind::Epoll(_)
            | Kind::SignalFd(_) => Closed::Nothing,
        }
    }

    /// A new pipe; returns (read description, write description).
    pub fn new_pipe(&mut self, nonblock: bool) -> (FileId, FileId) {
        self.pipes.push(Pipe::new());
        let p = self.pipes.len() - 1;
        (
            self.open(Kind::PipeRead(p), nonblock),
            self.open(Kind::PipeWrite(p), nonblock),
        )
    }

    /// The first `max` bytes pipe `p` holds, left in it.
    pub fn pipe_peek(&self, p: usize, max: usize) -> Vec<u8> {
        self.pipes[p].buf.iter().take(max).copied().collect()
    }

    /// Reads from pipe `p` into `out` (at most `max` bytes).
    pub fn pipe_read(&mut self, p: usize, max: usize, out: &mut Vec<u8>) -> Result<usize, Wait> {
        let pipe = &mut self.pipes[p];
        if pipe.is_empty() {
            return if pipe.writers == 0 {
                Ok(0)
            } else {
                Err(Wait::Block)
            };
        }
        Ok(pipe.pop(max, out))
    }

    /// How many bytes of a `total`-byte write, `done` of them written already, pipe `p`
    /// accepts now. A write of at most `PIPE_BUF` bytes fits in the last slot or in a
    /// free one, so it is all or nothing.
    pub fn pipe_room(&self, p: usize, total: usize, done: usize) -> Result<usize, Wait> {
        let pipe = &self.pipes[p];
        if total == 0 {
            return Ok(0); // Linux: a null write succeeds, before it looks for readers
        }
        if pipe.readers == 0 {
            return Err(Wait::Err(Errno::EPIPE));
        }
        match pipe.room(total, done) {
            0 => Err(Wait::Block),
            n => Ok(n),
        }
    }

    /// Appends the next bytes of a write to pipe `p` (after [`Files::pipe_room`]).
    pub fn pipe_push(&mut self, p: usize, data: &[u8], total: usize, done: usize) {
        self.pipes[p].push(data, total, done);
    }

    /// Readiness bits (`POLLIN`, `POLLOUT`, `POLLHUP`, `POLLERR`) of a description.
    pub fn poll_file(&self, f: FileId) -> u32 {
        const IN: u32 = libc::POLLIN as u32;
        const OUT: u32 = libc::POLLOUT as u32;
        const HUP: u32 = libc::POLLHUP as u32;
        const ERR: u32 = libc::POLLERR as u32;
        match self.file(f).kind {
            Kind::PipeRead(p) => {
                let pipe = &self.pipes[p];
                (if pipe.is_empty() { 0 } else { IN }) | if pipe.writers == 0 { HUP } else { 0 }
            }
            Kind::PipeWrite(p) => {
                let pipe = &self.pipes[p];
                if pipe.readers == 0 {
                    ERR
                } else if !pipe.full() {
                    OUT
                } else {
                    0
                }
            }
            Kind::EventFd(e) => {
                let c = self.eventfds[e].count;
                (if c > 0 { IN } else { 0 }) | if c < u64::MAX - 1 { OUT } else { 0 }
            }
            Kind::Output(_) => OUT,
            Kind::Urandom => IN | OUT,
            // Answered by the engine (they need the network, the clock, the signals).
            Kind::Socket(_) | Kind::Epoll(_) | Kind::TimerFd(_) | Kind::SignalFd(_) => 0,
        }
    }
}

/// Why an operation on a virtual object cannot complete now.
#[derive(Debug, PartialEq, Eq)]
pub enum Wait {
    /// It would block: park (or `EAGAIN` if non-blocking).
    Block,
    /// It fails.
    Err(Errno),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_eof_only_after_every_writer_closed() {
        let mut f = Files::default();
        let t = f.new_table();
        let (r, w) = f.new_pipe(false);
        f.install(t, 3, r, false);
        f.install(t, 4, w, false);
        let child = f.copy_table(t);
        let mut out = Vec::new();
        assert_eq!(f.pipe_read(0, 10, &mut out), Err(Wait::Block));
        assert_eq!(
            f.remove(t, 4),
            Some(Closed::Nothing),
            "the child still holds the write end"
        );
        assert_eq!(f.release_table(child).len(), 2);
        assert_eq!(f.pipe_read(0, 10, &mut out), Ok(0));
    }

    #[test]
    fn small_writes_are_atomic_and_reader_gone_is_epipe() {
        let mut f = Files::default();
        let t = f.new_table();
        let (r, w) = f.new_pipe(false);
        f.install(t, 3, r, false);
        f.install(t, 4, w, false);
        let big = vec![0u8; PIPE_CAPACITY - 100];
        f.pipe_push(0, &big, big.len(), 0);
        // 15 full slots and one of 3996 bytes: 200 bytes would need a new slot.
        assert_eq!(f.pipe_room(0, 200, 0), Err(Wait::Block));
        assert_eq!(
            f.pipe_room(0, 100, 0),
            Ok(100),
            "fits behind the last slot's data"
        );
        assert_eq!(
            f.pipe_room(0, 10_000, 0),
            Err(Wait::Block),
            "1808 % 4096 does not fit"
        );
        f.pipe_push(0, &[0; 100], 100, 0);
        assert_eq!(f.pipe_room(0, 0, 0), Ok(0), "a null write never blocks");
        f.remove(t, 3);
        assert_eq!(f.pipe_room(0, 1, 0), Err(Wait::Err(Errno::EPIPE)));
        assert_eq!(f.pipe_room(0, 0, 0), Ok(0), "nor fails");
    }

    #[test]
    fn capacity_counts_slots_not_bytes() {
        let mut f = Files::default();
        f.new_pipe(true);
        let chunk = [7u8; 2500];
        let mut writes = 0;
        while let Ok(n) = f.pipe_room(0, chunk.len(), 0) {
            assert_eq!(n, 2500);
            f.pipe_push(0, &chunk, chunk.len(), 0);
            writes += 1;
        }
        assert_eq!(
            (writes, f.pipes[0].len()),
            (16, 40_000),
            "as Linux: one page each"
        );
        assert!(f.pipes[0].full());
        let mut out = Vec::new();
        assert_eq!(f.pipe_read(0, 2499, &mut out), Ok(2499));
        assert!(f.pipes[0].full(), "a partly read slot stays taken");
        assert_eq!(f.pipe_read(0, 1, &mut out), Ok(1));
        assert!(!f.pipes[0].full());
        assert!(f.pipes[0].too_full_for(PIPE_CAPACITY / 2));
        assert!(!f.pipes[0].too_full_for(PIPE_CAPACITY - PIPE_PAGE));
    }

    #[test]
    fn writes_merge_only_their_remainder_and_only_at_their_start() {
        let mut f = Files::default();
        f.new_pipe(true);
        f.pipes[0].resize(2 * PIPE_PAGE);
        f.pipe_push(0, &[1; 100], 100, 0);
        // 5000 = 4096 + 904: 904 go behind the 100, the page after in a new slot.
        assert_eq!(f.pipe_room(0, 5000, 0), Ok(5000));
        f.pipe_push(0, &[2; 5000], 5000, 0);
        assert!(f.pipes[0].full());
        assert_eq!(f.pipes[0].len(), 5100);
        // A write resumed part-way never merges.
        let mut out = Vec::new();
        f.pipe_read(0, 5100, &mut out).unwrap();
        f.pipe_push(0, &[3; 10], 4106, 4096);
        assert_eq!(f.pipe_room(0, 4106, 4096), Ok(10), "a fresh slot");
        assert_eq!(f.pipe_room(0, 20, 0), Ok(20), "merges behind 10 bytes");
    }

    #[test]
    fn close_on_exec_closes_only_marked_fds() {
        let mut f = Files::default();
        let t = f.new_table();
        let (r, w) = f.new_pipe(false);
        f.install(t, 5, r, true);
        f.install(t, 6, w, false);
        f.close_on_exec(t);
        assert_eq!(f.fds(t).map(|(n, _)| n).collect::<Vec<_>>(), vec![6]);
    }
}
