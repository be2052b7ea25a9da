//! What a trace line needs from guest memory, captured at the stop: the bytes behind the
//! pointer arguments of one call (paths and socket addresses the kernel reads at entry;
//! buffers, addresses and structures it fills at exit), each bounded.
//!
//! [`GuestMemory`] is how the capture reads the tracee (the engine implements it over
//! `process_vm_readv`; [`LocalMemory`] is a test double). A [`Capture`] is small, owned
//! and serde-serializable, so a trace event can carry it; [`Captured`] is what rendering
//! reads from (a `Capture`, or `()` for nothing). Every length that comes from the guest
//! is capped before it sizes a read: 32 bytes of a buffer (strace's default `-s 32`),
//! `PATH_MAX` of a path, 128 bytes of a socket address, 8 `iovec`s, 16 `pollfd`s…
//!
//! Which argument needs what is decided by its type (see [`super::arg`]): the capture
//! walks the call's arguments like rendering does, so the two cannot disagree.

use super::arg::Arg;
use super::decl::Visit;
use super::Syscall;
use crate::errno::Errno;
use serde::{Deserialize, Serialize};

/// At most this many bytes of a buffer are captured (strace's default string size).
pub const BUF_CAP: usize = 32;
/// At most this many bytes of a path (`PATH_MAX`).
pub const PATH_CAP: usize = 4096;
/// At most this many bytes of a socket address (`sizeof(struct sockaddr_storage)`).
pub const SOCKADDR_CAP: usize = 128;
/// At most this many elements of an `iovec` array.
pub const IOV_CAP: usize = 8;
/// At most this many elements of a `pollfd` or `epoll_event` array, or of `argv`.
pub const ARRAY_CAP: usize = 16;
/// `envp` is counted up to this many entries.
pub const ENV_COUNT_CAP: usize = 4096;
/// At most this many bytes of a `msghdr`'s control data.
pub const CONTROL_CAP: usize = 64;

/// Where a captured piece belongs: an argument, and a part of what it points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Slot {
    /// The argument index (0 to 5).
    pub arg: u8,
    /// 0: what the argument points to; [`Slot::AFTER`]: the same at exit, for an argument
    /// the kernel reads and then updates (`poll`'s array, `accept`'s length); other values:
    /// a nested part (an `iovec`'s data, an `argv` string), numbered by the argument's type.
    pub part: u8,
}

impl Slot {
    /// The `part` of an argument's value at exit when it was also captured at entry.
    pub const AFTER: u8 = 255;

    /// What argument `i` points to.
    pub const fn arg(i: usize) -> Slot {
        Slot {
            arg: i as u8,
            part: 0,
        }
    }

    /// Argument `i`'s value at exit.
    pub const fn after(i: usize) -> Slot {
        Slot {
            arg: i as u8,
            part: Self::AFTER,
        }
    }

    /// Nested part `part` (1 to 254) of argument `i`.
    pub const fn part(i: usize, part: usize) -> Slot {
        Slot {
            arg: i as u8,
            part: part as u8,
        }
    }
}

/// A captured piece, as rendering sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece<'a> {
    /// The bytes read (at most the cap for their kind).
    pub bytes: &'a [u8],
    /// Whether the guest had more than was read (strace prints `...`).
    pub truncated: bool,
}

/// Bytes captured at a stop, by slot: what rendering reads.
pub trait Captured {
    /// The piece in `slot`, if one was captured.
    fn piece(&self, slot: Slot) -> Option<Piece<'_>>;

    /// What argument `arg` points to, if captured.
    fn bytes(&self, arg: usize) -> Option<&[u8]> {
        self.piece(Slot::arg(arg)).map(|p| p.bytes)
    }
}

/// Nothing captured: pointers render as addresses.
impl Captured for () {
    fn piece(&self, _slot: Slot) -> Option<Piece<'_>> {
        None
    }
}

/// One captured piece, owned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Where it belongs.
    pub slot: Slot,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Whether the guest had more.
    pub truncated: bool,
}

/// The bytes one call's rendering needs, captured at its entry and exit stops. Items are
/// kept sorted by slot, so the same capture always encodes to the same bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capture {
    items: Vec<Item>,
}

impl Capture {
    /// Captures what `call` reads from the guest, at its entry stop.
    pub fn entry(call: &Syscall, mem: &dyn GuestMemory) -> Capture {
        let mut cap = Capture::default();
        cap.run(call, mem, Phase::Entry);
        cap
    }

    /// Adds what `call` wrote into the guest, at its exit stop (or after takt's handler
    /// wrote its results), given its return value.
    pub fn exit(&mut self, call: &Syscall, ret: i64, mem: &dyn GuestMemory) {
        self.run(call, mem, Phase::Exit(ret));
    }

    fn run(&mut self, call: &Syscall, mem: &dyn GuestMemory, phase: Phase) {
        let (_, regs) = call.encode();
        let mut c = Capturer {
            mem,
            regs,
            phase,
            cap: self,
        };
        call.capture_into(&mut c);
    }

    /// The captured pieces, in slot order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Rewrites the bytes of every captured piece in place (the engine replaces the
    /// scenario's host directory with a fixed name this way; see `engine::capture`).
    pub fn rewrite(&mut self, mut f: impl FnMut(&mut Vec<u8>)) {
        for i in &mut self.items {
            f(&mut i.bytes);
        }
    }

    /// Stores a piece, replacing one in the same slot.
    pub fn put(&mut self, slot: Slot, bytes: Vec<u8>, truncated: bool) {
        let item = Item {
            slot,
            bytes,
            truncated,
        };
        match self.items.binary_search_by_key(&slot, |i| i.slot) {
            Ok(at) => self.items[at] = item,
            Err(at) => self.items.insert(at, item),
        }
    }
}

impl Captured for Capture {
    fn piece(&self, slot: Slot) -> Option<Piece<'_>> {
        self.items
            .binary_search_by_key(&slot, |i| i.slot)
            .ok()
            .map(|at| Piece {
                bytes: &self.items[at].bytes,
                truncated: self.items[at].truncated,
            })
    }
}

/// The tracee's memory, as the capture reads it.
pub trait GuestMemory {
    /// Fills `buf` from guest address `addr`; `EFAULT` if any of it is not mapped.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno>;

    /// Reads a NUL-terminated string of at most `max` bytes: the bytes before the NUL, and
    /// whether the string ended within `max` (false: it is longer, or a fault cut it).
    /// Reads up to each page's end at a time, so a string just before an unmapped page
    /// reads. `EFAULT` when not even the first byte is readable.
    fn read_cstr(&self, addr: u64, max: usize) -> Result<(Vec<u8>, bool), Errno> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 256];
        // One byte past `max` tells a string of exactly `max` bytes from a longer one.
        while out.len() <= max {
            let Some(at) = addr.checked_add(out.len() as u64) else {
                break;
            };
            let page_left = 4096 - (at % 4096) as usize;
            let n = chunk
                .len()
                .min(page_left)
                .min(max.saturating_add(1) - out.len());
            if self.read(at, &mut chunk[..n]).is_err() {
                if out.is_empty() {
                    return Err(Errno::EFAULT);
                }
                return Ok((out, false));
            }
            if let Some(z) = chunk[..n].iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..z]);
                return Ok((out, true));
            }
            out.extend_from_slice(&chunk[..n]);
        }
        out.truncate(max);
        Ok((out, false))
    }
}

/// Guest memory as a few byte regions at fixed addresses: a test double for capture and
/// handlers.
#[derive(Clone, Debug, Default)]
pub struct LocalMemory {
    regions: Vec<(u64, Vec<u8>)>,
}

impl LocalMemory {
    /// Empty memory: every read faults.
    pub fn new() -> LocalMemory {
        LocalMemory::default()
    }

    /// Maps `bytes` at `addr` (a later mapping wins where they overlap).
    pub fn map(&mut self, addr: u64, bytes: impl Into<Vec<u8>>) -> &mut LocalMemory {
        self.regions.push((addr, bytes.into()));
        self
    }

    /// [`LocalMemory::map`], by value.
    pub fn with(mut self, addr: u64, bytes: impl Into<Vec<u8>>) -> LocalMemory {
        self.map(addr, bytes);
        self
    }

    /// Overwrites mapped bytes (`EFAULT` where none are mapped).
    pub fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let (r, off) = self.find(addr, data.len()).ok_or(Errno::EFAULT)?;
        self.regions[r].1[off..off + data.len()].copy_from_slice(data);
        Ok(())
    }

    /// The region holding `[addr, addr + len)` whole, and the offset in it.
    fn find(&self, addr: u64, len: usize) -> Option<(usize, usize)> {
        let end = addr.checked_add(len as u64)?;
        self.regions
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, (base, b))| {
                let off = addr.checked_sub(*base)?;
                (end <= base.checked_add(b.len() as u64)?).then_some((i, off as usize))
            })
    }
}

impl GuestMemory for LocalMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let (r, off) = self.find(addr, buf.len()).ok_or(Errno::EFAULT)?;
        buf.copy_from_slice(&self.regions[r].1[off..off + buf.len()]);
        Ok(())
    }

    /// Byte by byte: regions here end anywhere, not at page ends.
    fn read_cstr(&self, addr: u64, max: usize) -> Result<(Vec<u8>, bool), Errno> {
        let mut out = Vec::new();
        let mut b = [0u8; 1];
        while out.len() <= max {
            let at = addr.checked_add(out.len() as u64);
            if at.is_none_or(|at| self.read(at, &mut b).is_err()) {
                if out.is_empty() {
                    return Err(Errno::EFAULT);
                }
                return Ok((out, false));
            }
            if b[0] == 0 {
                return Ok((out, true));
            }
            out.push(b[0]);
        }
        out.truncate(max);
        Ok((out, false))
    }
}

/// Which stop a capture runs at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Before the call: what the kernel will read.
    Entry,
    /// After it, with its return value: what the kernel wrote.
    Exit(i64),
}

/// A capture in progress: the memory, the call's registers, the stop.
pub(crate) struct Capturer<'a> {
    mem: &'a dyn GuestMemory,
    pub(crate) regs: [u64; 6],
    pub(crate) phase: Phase,
    cap: &'a mut Capture,
}

impl Visit for Capturer<'_> {
    fn arg<A: Arg>(&mut self, i: usize, _name: &'static str, a: A) {
        a.capture(self, i);
    }
}

impl Capturer<'_> {
    /// At the entry stop.
    pub(crate) fn at_entry(&self) -> bool {
        self.phase == Phase::Entry
    }

    /// At the exit stop of a call that succeeded: its return value.
    pub(crate) fn succeeded(&self) -> Option<u64> {
        match self.phase {
            Phase::Exit(r) if r >= 0 => Some(r as u64),
            _ => None,
        }
    }

    /// Argument `i`'s register (0 past the end).
    pub(crate) fn reg(&self, i: usize) -> u64 {
        self.regs.get(i).copied().unwrap_or(0)
    }

    /// Reads `n` bytes (`n` already capped by the caller).
    pub(crate) fn read(&self, addr: u64, n: usize) -> Option<Vec<u8>> {
        let mut v = vec![0u8; n];
        self.mem.read(addr, &mut v).ok()?;
        Some(v)
    }

    /// Reads a little-endian `u32`.
    pub(crate) fn read_u32(&self, addr: u64) -> Option<u32> {
        let mut b = [0u8; 4];
        self.mem.read(addr, &mut b).ok()?;
        Some(u32::from_le_bytes(b))
    }

    /// Reads a little-endian `u64`.
    pub(crate) fn read_u64(&self, addr: u64) -> Option<u64> {
        let mut b = [0u8; 8];
        self.mem.read(addr, &mut b).ok()?;
        Some(u64::from_le_bytes(b))
    }

    /// Stores the first `min(want, cap)` bytes at `addr` in `slot` (nothing on a fault).
    pub(crate) fn take(&mut self, slot: Slot, addr: u64, want: u64, cap: usize) {
        let n = want.min(cap as u64) as usize;
        if let Some(b) = self.read(addr, n) {
            self.cap.put(slot, b, want > cap as u64);
        }
    }

    /// Stores the socket address of `want` bytes at `addr` in `slot`, canonical (see
    /// [`canonical_sockaddr`]).
    pub(crate) fn take_sockaddr(&mut self, slot: Slot, addr: u64, want: u64) {
        let n = want.min(SOCKADDR_CAP as u64) as usize;
        if let Some(b) = self.read(addr, n) {
            self.cap
                .put(slot, canonical_sockaddr(b), want > SOCKADDR_CAP as u64);
        }
    }

    /// Stores a C string of at most `cap` bytes in `slot`.
    pub(crate) fn take_cstr(&mut self, slot: Slot, addr: u64, cap: usize) {
        if let Ok((s, complete)) = self.mem.read_cstr(addr, cap) {
            self.cap.put(slot, s, !complete);
        }
    }

    /// Stores bytes computed by the caller.
    pub(crate) fn put(&mut self, slot: Slot, bytes: Vec<u8>, truncated: bool) {
        self.cap.put(slot, bytes, truncated);
    }

    /// What was captured so far in `slot` (an entry capture, seen at exit).
    pub(crate) fn captured(&self, slot: Slot) -> Option<&[u8]> {
        self.cap.piece(slot).map(|p| p.bytes)
    }
}

// --- one capture function per pointer type (see `arg.rs`) ------------------------------

pub(crate) fn path(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if c.at_entry() {
        c.take_cstr(Slot::arg(i), addr, PATH_CAP);
    }
}

pub(crate) fn string(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if c.at_entry() {
        c.take_cstr(Slot::arg(i), addr, BUF_CAP);
    }
}

pub(crate) fn in_buf(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if c.at_entry() {
        let len = c.reg(i + 1);
        c.take(Slot::arg(i), addr, len, BUF_CAP);
    }
}

pub(crate) fn out_buf(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if let Some(ret) = c.succeeded() {
        let len = ret.min(c.reg(i + 1));
        c.take(Slot::arg(i), addr, len, BUF_CAP);
    }
}

pub(crate) fn out_path(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if let Some(ret) = c.succeeded() {
        let len = ret.min(c.reg(i + 1));
        c.take(Slot::arg(i), addr, len, PATH_CAP);
    }
}

pub(crate) fn sockaddr_in(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if c.at_entry() {
        let len = u64::from(c.reg(i + 1) as u32);
        c.take_sockaddr(Slot::arg(i), addr, len);
    }
}

/// A socket address as the kernel reads it: an `AF_UNIX` path name ends at its first
/// NUL, and an `AF_INET` address's `sin_zero` padding counts as zero (the kernel reads
/// neither what follows the path nor the padding, and callers often leave
/// uninitialized stack there, which would make same-seed traces differ); every other
/// address is its whole length.
fn canonical_sockaddr(mut b: Vec<u8>) -> Vec<u8> {
    let family = (b.len() >= 2).then(|| i32::from(u16::from_le_bytes([b[0], b[1]])));
    if family == Some(libc::AF_UNIX) && b.len() > 2 && b[2] != 0 {
        if let Some(nul) = b[2..].iter().position(|&x| x == 0) {
            b.truncate(2 + nul);
        }
    }
    if family == Some(libc::AF_INET) {
        for x in b.iter_mut().take(16).skip(8) {
            *x = 0;
        }
    }
    b
}

pub(crate) fn sockaddr_out(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if c.succeeded().is_none() || c.reg(i + 1) == 0 {
        return;
    }
    let Some(len) = c.read_u32(c.reg(i + 1)) else {
        return;
    };
    // The kernel writes at most the buffer's size (the length given at entry) and
    // reports the address's full length.
    let room = c
        .captured(Slot::arg(i + 1))
        .and_then(|b| b.try_into().ok())
        .map_or(u32::MAX, u32::from_le_bytes);
    c.take_sockaddr(Slot::arg(i), addr, u64::from(len.min(room)));
}

pub(crate) fn socklen(c: &mut Capturer<'_>, i: usize, addr: u64) {
    let slot = match c.phase {
        Phase::Entry => Slot::arg(i),
        Phase::Exit(r) if r >= 0 => Slot::after(i),
        Phase::Exit(_) => return,
    };
    c.take(slot, addr, 4, 4);
}

/// Captures `cnt` iovecs at `addr` in `i`'s part 0 and their data in parts 1…, at most
/// `budget` bytes in all (a read's return value).
fn iovecs(c: &mut Capturer<'_>, i: usize, addr: u64, cnt: u64, budget: u64, first_part: usize) {
    let n = cnt.min(IOV_CAP as u64) as usize;
    let Some(arr) = c.read(addr, n * 16) else {
        return;
    };
    let mut left = budget;
    for k in 0..n {
        let base = u64::from_le_bytes(arr[k * 16..k * 16 + 8].try_into().unwrap_or([0; 8]));
        let len = u64::from_le_bytes(arr[k * 16 + 8..k * 16 + 16].try_into().unwrap_or([0; 8]));
        let avail = len.min(left);
        left -= avail;
        if avail == 0 {
            c.put(Slot::part(i, first_part + 1 + k), Vec::new(), false);
        } else {
            c.take(Slot::part(i, first_part + 1 + k), base, avail, BUF_CAP);
        }
    }
    c.put(Slot::part(i, first_part), arr, cnt > IOV_CAP as u64);
}

pub(crate) fn iov_in(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if c.at_entry() {
        let cnt = c.reg(i + 1);
        iovecs(c, i, addr, cnt, u64::MAX, 0);
    }
}

pub(crate) fn iov_out(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if let Some(ret) = c.succeeded() {
        let cnt = c.reg(i + 1);
        iovecs(c, i, addr, cnt, ret, 0);
    }
}

/// The parts of a captured `msghdr`: the header, the name, the iovecs (array, then one
/// part per element), the control data.
pub(crate) const MSG_NAME: usize = 1;
pub(crate) const MSG_IOV: usize = 2;
pub(crate) const MSG_CONTROL: usize = MSG_IOV + 1 + IOV_CAP;

fn msghdr(c: &mut Capturer<'_>, i: usize, addr: u64, budget: u64) {
    let Some(h) = c.read(addr, 56) else {
        return;
    };
    let word = |o: usize| u64::from_le_bytes(h[o..o + 8].try_into().unwrap_or([0; 8]));
    let (name, namelen) = (word(0), word(8) as u32);
    let (iov, iovlen) = (word(16), word(24));
    let (control, controllen) = (word(32), word(40));
    if name != 0 && namelen > 0 {
        c.take(
            Slot::part(i, MSG_NAME),
            name,
            u64::from(namelen),
            SOCKADDR_CAP,
        );
    }
    if iov != 0 {
        iovecs(c, i, iov, iovlen, budget, MSG_IOV);
    }
    if control != 0 && controllen > 0 {
        c.take(Slot::part(i, MSG_CONTROL), control, controllen, CONTROL_CAP);
    }
    c.put(Slot::arg(i), h, false);
}

pub(crate) fn msghdr_in(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if c.at_entry() {
        msghdr(c, i, addr, u64::MAX);
    }
}

pub(crate) fn msghdr_out(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if let Some(ret) = c.succeeded() {
        msghdr(c, i, addr, ret);
    }
}

pub(crate) fn entry_n(c: &mut Capturer<'_>, i: usize, addr: u64, n: usize) {
    if c.at_entry() {
        c.take(Slot::arg(i), addr, n as u64, n);
    }
}

pub(crate) fn exit_n(c: &mut Capturer<'_>, i: usize, addr: u64, n: usize) {
    if c.succeeded().is_some() {
        c.take(Slot::arg(i), addr, n as u64, n);
    }
}

pub(crate) fn entry_4(c: &mut Capturer<'_>, i: usize, addr: u64) {
    entry_n(c, i, addr, 4);
}
pub(crate) fn entry_8(c: &mut Capturer<'_>, i: usize, addr: u64) {
    entry_n(c, i, addr, 8);
}
pub(crate) fn entry_16(c: &mut Capturer<'_>, i: usize, addr: u64) {
    entry_n(c, i, addr, 16);
}
pub(crate) fn entry_32(c: &mut Capturer<'_>, i: usize, addr: u64) {
    entry_n(c, i, addr, 32);
}
pub(crate) fn exit_8(c: &mut Capturer<'_>, i: usize, addr: u64) {
    exit_n(c, i, addr, 8);
}
pub(crate) fn exit_16(c: &mut Capturer<'_>, i: usize, addr: u64) {
    exit_n(c, i, addr, 16);
}
pub(crate) fn exit_32(c: &mut Capturer<'_>, i: usize, addr: u64) {
    exit_n(c, i, addr, 32);
}

/// `nanosleep`'s `rem` is written only when a signal interrupts the sleep.
pub(crate) fn rem(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if c.phase == Phase::Exit(Errno::EINTR.ret()) {
        c.take(Slot::arg(i), addr, 16, 16);
    }
}

pub(crate) fn pollfds(c: &mut Capturer<'_>, i: usize, addr: u64) {
    let want = u64::from(c.reg(i + 1) as u32).saturating_mul(8);
    let cap = ARRAY_CAP * 8;
    match c.phase {
        Phase::Entry => c.take(Slot::arg(i), addr, want, cap),
        Phase::Exit(r) if r >= 0 => c.take(Slot::after(i), addr, want, cap),
        Phase::Exit(_) => {}
    }
}

/// The bytes of an `fd_set` for `select`'s `nfds` (at most `FD_SETSIZE`).
fn fd_set_len(nfds: u64) -> u64 {
    let n = (nfds as i32).clamp(0, 1024) as u64;
    n.div_ceil(64) * 8
}

pub(crate) fn fd_set(c: &mut Capturer<'_>, i: usize, addr: u64) {
    let len = fd_set_len(c.reg(0));
    match c.phase {
        Phase::Entry => c.take(Slot::arg(i), addr, len, 128),
        Phase::Exit(r) if r >= 0 => c.take(Slot::after(i), addr, len, 128),
        Phase::Exit(_) => {}
    }
}

pub(crate) fn epoll_event(c: &mut Capturer<'_>, i: usize, addr: u64) {
    entry_n(c, i, addr, 12);
}

pub(crate) fn epoll_events(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if let Some(ret) = c.succeeded() {
        let n = ret.min(u64::from(c.reg(i + 1) as u32));
        c.take(Slot::arg(i), addr, n.saturating_mul(12), ARRAY_CAP * 12);
    }
}

pub(crate) fn wstatus(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if c.succeeded().is_some_and(|r| r > 0) {
        c.take(Slot::arg(i), addr, 4, 4);
    }
}

pub(crate) fn argv(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if !c.at_entry() {
        return;
    }
    let mut ptrs = Vec::new();
    let mut ended = false;
    while ptrs.len() < ARRAY_CAP {
        let Some(p) = addr
            .checked_add(ptrs.len() as u64 * 8)
            .and_then(|a| c.read_u64(a))
        else {
            break;
        };
        if p == 0 {
            ended = true;
            break;
        }
        ptrs.push(p);
    }
    if !ended && ptrs.len() == ARRAY_CAP {
        // Exactly ARRAY_CAP strings when the next pointer is NULL.
        ended = addr
            .checked_add(ARRAY_CAP as u64 * 8)
            .and_then(|a| c.read_u64(a))
            == Some(0);
    }
    for (k, &p) in ptrs.iter().enumerate() {
        c.take_cstr(Slot::part(i, k + 1), p, BUF_CAP);
    }
    let bytes = ptrs.iter().flat_map(|p| p.to_le_bytes()).collect();
    c.put(Slot::arg(i), bytes, !ended);
}

pub(crate) fn envp(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if !c.at_entry() {
        return;
    }
    let mut count = 0usize;
    let mut buf = [0u8; 512];
    'outer: while count < ENV_COUNT_CAP {
        let Some(at) = addr.checked_add(count as u64 * 8) else {
            return;
        };
        // Up to the page's end at a time; word by word if that faults (memory that
        // ends before the page does, as in tests).
        let n = buf.len().min(4096 - (at % 4096) as usize) / 8 * 8;
        let words = if n > 0 && c.mem.read(at, &mut buf[..n]).is_ok() {
            n / 8
        } else if c.mem.read(at, &mut buf[..8]).is_ok() {
            1
        } else {
            return;
        };
        for w in buf[..words * 8].chunks_exact(8) {
            if w.iter().all(|&b| b == 0) {
                break 'outer;
            }
            count += 1;
        }
    }
    let truncated = count >= ENV_COUNT_CAP;
    c.put(
        Slot::arg(i),
        (count as u32).to_le_bytes().to_vec(),
        truncated,
    );
}

pub(crate) fn stat(c: &mut Capturer<'_>, i: usize, addr: u64) {
    // Up to st_size: what strace prints without -v.
    exit_n(c, i, addr, 56);
}

pub(crate) fn utsname(c: &mut Capturer<'_>, i: usize, addr: u64) {
    // sysname and nodename: what strace prints without -v.
    exit_n(c, i, addr, 130);
}

pub(crate) fn clone_args(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if c.at_entry() {
        let size = c.reg(i + 1);
        c.take(Slot::arg(i), addr, size, 88);
    }
}

pub(crate) fn optval_out(c: &mut Capturer<'_>, i: usize, addr: u64) {
    if c.succeeded().is_none() || c.reg(i + 1) == 0 {
        return;
    }
    if let Some(len) = c.read_u32(c.reg(i + 1)) {
        c.take(Slot::arg(i), addr, u64::from(len), BUF_CAP);
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_sockaddr;

    #[test]
    fn a_unix_path_address_ends_at_its_nul_and_others_keep_their_length() {
        let mut un = vec![1u8, 0];
        un.extend_from_slice(b"/run/x.sock\0\x55\x66garbage");
        assert_eq!(canonical_sockaddr(un), b"\x01\x00/run/x.sock".to_vec());
        let abstract_name = b"\x01\x00\x00name\x00\x01".to_vec();
        assert_eq!(canonical_sockaddr(abstract_name.clone()), abstract_name);
        let inet = vec![2u8, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut padded = inet.clone();
        padded[12] = 0x99;
        assert_eq!(canonical_sockaddr(padded), inet);
        let mut v6 = vec![10u8, 0, 0x1f, 0x90, 0, 0, 0, 7];
        v6.resize(28, 3);
        assert_eq!(canonical_sockaddr(v6.clone()), v6);
    }
}
