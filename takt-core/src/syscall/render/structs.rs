//! Rendering what pointer arguments point to, from the bytes captured at the stop:
//! strings and buffers, socket addresses, `iovec`s and `msghdr`s, time structures,
//! `pollfd`s, `fd_set`s, `epoll_event`s, signal sets and actions, wait statuses, `argv`.
//!
//! Each `fn(r, i, addr) -> bool` renders argument `i` from its captured pieces and says
//! whether it could; the caller prints the address when it could not (nothing captured,
//! or too few bytes for the structure). Every byte access is bounds-checked: captured
//! bytes come from the guest, or from a trace file.

use super::{write_quoted, Render};
use crate::syscall::arg::write_ptr;
use crate::syscall::capture::{self as cap, Captured, Slot};
use crate::syscall::enums::{write_sigmask, AddressFamily, Signal, SockLevel};
use crate::syscall::flags::{EpollEvents, MsgFlags, PollEvents, SaFlags};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Little-endian integers at offsets of a byte slice, 0 past its end.
struct Le<'a>(&'a [u8]);

impl Le<'_> {
    fn u16(&self, o: usize) -> u16 {
        self.0
            .get(o..o + 2)
            .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&self, o: usize) -> u32 {
        self.0
            .get(o..o + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i32(&self, o: usize) -> i32 {
        self.u32(o) as i32
    }
    fn u64(&self, o: usize) -> u64 {
        self.0.get(o..o + 8).map_or(0, |b| {
            u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        })
    }
    fn i64(&self, o: usize) -> i64 {
        self.u64(o) as i64
    }
}

/// The bytes of a C string: up to the first NUL.
fn until_nul(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |z| &b[..z])
}

pub(crate) fn path(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(p) = r.piece(Slot::arg(i)) else {
        return false;
    };
    write_quoted(&mut r.out, until_nul(p.bytes), p.truncated, false);
    true
}

pub(crate) fn string(r: &mut Render<'_>, i: usize, addr: u64) -> bool {
    path(r, i, addr)
}

pub(crate) fn buf(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(p) = r.piece(Slot::arg(i)) else {
        return false;
    };
    write_quoted(&mut r.out, p.bytes, p.truncated, false);
    true
}

pub(crate) fn hex_buf(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(p) = r.piece(Slot::arg(i)) else {
        return false;
    };
    write_quoted(&mut r.out, p.bytes, p.truncated, true);
    true
}

/// Writes a socket address as strace does:
/// `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.0.0.1")}`.
pub(crate) fn write_sockaddr(out: &mut String, b: &[u8]) {
    if b.len() < 2 {
        write_quoted(out, b, false, false);
        return;
    }
    let le = Le(b);
    let family = le.u16(0);
    let be16 = |o: usize| u16::from_be_bytes([b[o], b[o + 1]]);
    let _ = write!(
        out,
        "{{sa_family={}",
        AddressFamily::from_raw(u64::from(family))
    );
    match u32::from(family) {
        AddressFamily::AF_UNIX => {
            let path = &b[2..];
            if let Some(abs) = path.strip_prefix(&[0]) {
                out.push_str(", sun_path=@");
                write_quoted(out, abs, false, false);
            } else if !path.is_empty() {
                out.push_str(", sun_path=");
                write_quoted(out, until_nul(path), false, false);
            }
        }
        AddressFamily::AF_INET if b.len() >= 8 => {
            let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
            let _ = write!(
                out,
                ", sin_port=htons({}), sin_addr=inet_addr(\"{ip}\")",
                be16(2)
            );
        }
        AddressFamily::AF_INET6 if b.len() >= 24 => {
            let flow = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
            let mut a = [0u8; 16];
            a.copy_from_slice(&b[8..24]);
            let _ = write!(
                out,
                ", sin6_port=htons({}), sin6_flowinfo=htonl({flow}), \
                 inet_pton(AF_INET6, \"{}\", &sin6_addr)",
                be16(2),
                Ipv6Addr::from(a)
            );
            if b.len() >= 28 {
                let _ = write!(out, ", sin6_scope_id={}", le.u32(24));
            }
        }
        AddressFamily::AF_NETLINK if b.len() >= 12 => {
            let _ = write!(out, ", nl_pid={}, nl_groups={:08x}", le.u32(4), le.u32(8));
        }
        _ => {
            out.push_str(", sa_data=");
            write_quoted(out, &b[2..], false, false);
        }
    }
    out.push('}');
}

pub(crate) fn sockaddr(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(p) = r.piece(Slot::arg(i)) else {
        return false;
    };
    write_sockaddr(&mut r.out, p.bytes);
    true
}

/// `[16]`, or `[128 => 16]` when the kernel changed the length.
pub(crate) fn socklen(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let get = |s: Slot| {
        r.piece(s)
            .filter(|p| p.bytes.len() == 4)
            .map(|p| Le(p.bytes).u32(0))
    };
    let (before, after) = (get(Slot::arg(i)), get(Slot::after(i)));
    let text = match (before, after) {
        (Some(b), Some(a)) if a != b => format!("[{b} => {a}]"),
        (_, Some(v)) | (Some(v), None) => format!("[{v}]"),
        (None, None) => return false,
    };
    r.raw(&text);
    true
}

/// `[{iov_base="hello", iov_len=5}, …]` from an iovec array in part `first` of argument
/// `i` and the data in the parts after it.
fn write_iovs(out: &mut String, c: &dyn Captured, i: usize, first: usize) -> bool {
    let Some(arr) = c.piece(Slot::part(i, first)) else {
        return false;
    };
    let le = Le(arr.bytes);
    out.push('[');
    let n = arr.bytes.len() / 16;
    for k in 0..n {
        if k > 0 {
            out.push_str(", ");
        }
        let (base, len) = (le.u64(k * 16), le.u64(k * 16 + 8));
        out.push_str("{iov_base=");
        match c.piece(Slot::part(i, first + 1 + k)) {
            Some(d) if base != 0 => write_quoted(out, d.bytes, d.truncated, false),
            _ => write_ptr(out, base),
        }
        let _ = write!(out, ", iov_len={len}}}");
    }
    if arr.truncated {
        out.push_str(if n > 0 { ", ..." } else { "..." });
    }
    out.push(']');
    true
}

pub(crate) fn iov(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let mut s = String::new();
    if !write_iovs(&mut s, r.cap, i, 0) {
        return false;
    }
    r.raw(&s);
    true
}

/// `[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[5]}]`.
fn write_cmsgs(out: &mut String, b: &[u8], truncated: bool) {
    out.push('[');
    let mut o = 0usize;
    let mut first = true;
    while o + 16 <= b.len() {
        let le = Le(&b[o..]);
        let (len, level, ty) = (le.u64(0), le.i32(8), le.i32(12));
        if !first {
            out.push_str(", ");
        }
        first = false;
        let _ = write!(
            out,
            "{{cmsg_len={len}, cmsg_level={}, cmsg_type=",
            SockLevel::from_raw(level as i64 as u64)
        );
        let data_end = usize::try_from(len).map_or(b.len(), |l| (o + l).min(b.len()));
        let data = b.get(o + 16..data_end).unwrap_or(&[]);
        match (level, ty) {
            (1, 1) => {
                out.push_str("SCM_RIGHTS, cmsg_data=[");
                for (k, fd) in data.chunks_exact(4).enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{}", Le(fd).i32(0));
                }
                out.push(']');
            }
            (1, 2) if data.len() >= 12 => {
                let d = Le(data);
                let _ = write!(
                    out,
                    "SCM_CREDENTIALS, cmsg_data={{pid={}, uid={}, gid={}}}",
                    d.i32(0),
                    d.u32(4),
                    d.u32(8)
                );
            }
            _ => {
                let _ = write!(out, "{ty:#x}, cmsg_data=");
                write_quoted(out, data, false, true);
            }
        }
        out.push('}');
        // The next header is 8-byte aligned; a zero or bogus length ends the walk.
        match usize::try_from(len)
            .ok()
            .filter(|&l| l >= 16)
            .and_then(|l| l.checked_add(7))
        {
            Some(l) => o = o.saturating_add(l & !7),
            None => break,
        }
    }
    if truncated {
        out.push_str(if first { "..." } else { ", ..." });
    }
    out.push(']');
}

pub(crate) fn msghdr(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(h) = r.piece(Slot::arg(i)).filter(|p| p.bytes.len() >= 56) else {
        return false;
    };
    let le = Le(h.bytes);
    let (name, namelen) = (le.u64(0), le.u32(8));
    let (iov, iovlen) = (le.u64(16), le.u64(24));
    let (control, controllen, flags) = (le.u64(32), le.u64(40), le.u32(48));
    let mut s = String::from("{msg_name=");
    match r.piece(Slot::part(i, cap::MSG_NAME)) {
        Some(p) if name != 0 => write_sockaddr(&mut s, p.bytes),
        _ => write_ptr(&mut s, name),
    }
    let _ = write!(s, ", msg_namelen={namelen}, msg_iov=");
    if iov == 0 || !write_iovs(&mut s, r.cap, i, cap::MSG_IOV) {
        write_ptr(&mut s, iov);
    }
    let _ = write!(s, ", msg_iovlen={iovlen}");
    if controllen > 0 {
        s.push_str(", msg_control=");
        match r.piece(Slot::part(i, cap::MSG_CONTROL)) {
            Some(p) if control != 0 => write_cmsgs(&mut s, p.bytes, p.truncated),
            _ => write_ptr(&mut s, control),
        }
    }
    let _ = write!(
        s,
        ", msg_controllen={controllen}, msg_flags={}}}",
        MsgFlags::from_raw(u64::from(flags))
    );
    r.raw(&s);
    true
}

/// `{tv_sec=1, tv_nsec=500}` (or `tv_usec`) from 16 bytes.
pub(crate) fn write_time(out: &mut String, b: &[u8], sub: &str) {
    let le = Le(b);
    let _ = write!(out, "{{tv_sec={}, {sub}={}}}", le.i64(0), le.i64(8));
}

fn fixed<'a>(r: &Render<'a>, i: usize, n: usize) -> Option<&'a [u8]> {
    r.piece(Slot::arg(i))
        .filter(|p| p.bytes.len() == n)
        .map(|p| p.bytes)
}

pub(crate) fn timespec(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(b) = fixed(r, i, 16) else {
        return false;
    };
    write_time(&mut r.out, b, "tv_nsec");
    true
}

pub(crate) fn timeval(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(b) = fixed(r, i, 16) else {
        return false;
    };
    write_time(&mut r.out, b, "tv_usec");
    true
}

pub(crate) fn itimerval(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(b) = fixed(r, i, 32) else {
        return false;
    };
    r.raw("{it_interval=");
    write_time(&mut r.out, &b[..16], "tv_usec");
    r.raw(", it_value=");
    write_time(&mut r.out, &b[16..], "tv_usec");
    r.raw("}");
    true
}

pub(crate) fn pollfds(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(p) = r.piece(Slot::arg(i)) else {
        return false;
    };
    let le = Le(p.bytes);
    let mut s = String::from("[");
    let n = p.bytes.len() / 8;
    for k in 0..n {
        if k > 0 {
            s.push_str(", ");
        }
        let ev = PollEvents::from_raw(u64::from(le.u16(k * 8 + 4)));
        let _ = write!(s, "{{fd={}, events={ev}}}", le.i32(k * 8));
    }
    if p.truncated {
        s.push_str(if n > 0 { ", ..." } else { "..." });
    }
    s.push(']');
    r.raw(&s);
    true
}

/// `[{fd=3, revents=POLLIN}]`: the entries of a `pollfd` array with events returned.
pub(crate) fn write_revents(out: &mut String, b: &[u8], truncated: bool) {
    let le = Le(b);
    out.push('[');
    let mut first = true;
    for k in 0..b.len() / 8 {
        let rev = le.u16(k * 8 + 6);
        if rev == 0 {
            continue;
        }
        if !first {
            out.push_str(", ");
        }
        first = false;
        let _ = write!(
            out,
            "{{fd={}, revents={}}}",
            le.i32(k * 8),
            PollEvents::from_raw(u64::from(rev))
        );
    }
    if truncated {
        out.push_str(if first { "..." } else { ", ..." });
    }
    out.push(']');
}

/// `[3 4]`: the descriptors in an `fd_set`; with `nonempty`, writes nothing (false) for
/// an empty set.
pub(crate) fn write_fd_set(out: &mut String, b: &[u8], nonempty: bool) -> bool {
    let fds: Vec<usize> = (0..b.len() * 8)
        .filter(|&n| b[n / 8] & (1 << (n % 8)) != 0)
        .collect();
    if nonempty && fds.is_empty() {
        return false;
    }
    out.push('[');
    for (k, fd) in fds.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{fd}");
    }
    out.push(']');
    true
}

pub(crate) fn fd_set(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(p) = r.piece(Slot::arg(i)) else {
        return false;
    };
    let mut s = String::new();
    write_fd_set(&mut s, p.bytes, false);
    r.raw(&s);
    true
}

/// `{events=EPOLLIN, data={u32=3, u64=3}}` from 12 packed bytes.
fn write_epoll_event(out: &mut String, b: &[u8]) {
    let le = Le(b);
    let data = le.u64(4);
    let _ = write!(
        out,
        "{{events={}, data={{u32={}, u64={data}}}}}",
        EpollEvents::from_raw(u64::from(le.u32(0))),
        data as u32
    );
}

pub(crate) fn epoll_event(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(b) = fixed(r, i, 12) else {
        return false;
    };
    write_epoll_event(&mut r.out, b);
    true
}

pub(crate) fn epoll_events(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(p) = r.piece(Slot::arg(i)) else {
        return false;
    };
    let mut s = String::from("[");
    let n = p.bytes.len() / 12;
    for k in 0..n {
        if k > 0 {
            s.push_str(", ");
        }
        write_epoll_event(&mut s, &p.bytes[k * 12..k * 12 + 12]);
    }
    if p.truncated {
        s.push_str(if n > 0 { ", ..." } else { "..." });
    }
    s.push(']');
    r.raw(&s);
    true
}

pub(crate) fn sigset(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(b) = fixed(r, i, 8) else {
        return false;
    };
    let _ = write_sigmask(&mut r.out, Le(b).u64(0));
    true
}

/// The kernel's `struct sigaction` (x86-64): handler, flags, restorer, mask.
pub(crate) fn sigaction(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(b) = fixed(r, i, 32) else {
        return false;
    };
    let le = Le(b);
    let (handler, flags, restorer, mask) = (le.u64(0), le.u64(8), le.u64(16), le.u64(24));
    let mut s = String::from("{sa_handler=");
    match handler {
        0 => s.push_str("SIG_DFL"),
        1 => s.push_str("SIG_IGN"),
        h => {
            let _ = write!(s, "{h:#x}");
        }
    }
    s.push_str(", sa_mask=");
    let _ = write_sigmask(&mut s, mask);
    let _ = write!(s, ", sa_flags={}", SaFlags::from_raw(flags));
    if flags & SaFlags::SA_RESTORER != 0 {
        s.push_str(", sa_restorer=");
        write_ptr(&mut s, restorer);
    }
    s.push('}');
    r.raw(&s);
    true
}

pub(crate) fn fd_pair(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(b) = fixed(r, i, 8) else {
        return false;
    };
    let le = Le(b);
    r.raw(&format!("[{}, {}]", le.i32(0), le.i32(4)));
    true
}

/// `[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]` and the other forms of a wait status.
pub(crate) fn write_wstatus(out: &mut String, s: i32) {
    let low = s & 0x7f;
    out.push_str("[{");
    if s & 0xffff == 0xffff {
        out.push_str("WIFCONTINUED(s)");
    } else if s & 0xff == 0x7f {
        let _ = write!(
            out,
            "WIFSTOPPED(s) && WSTOPSIG(s) == {}",
            Signal::from((s >> 8) & 0xff)
        );
    } else if low == 0 {
        let _ = write!(out, "WIFEXITED(s) && WEXITSTATUS(s) == {}", (s >> 8) & 0xff);
    } else {
        let _ = write!(
            out,
            "WIFSIGNALED(s) && WTERMSIG(s) == {}",
            Signal::from(low)
        );
        if s & 0x80 != 0 {
            out.push_str(" && WCOREDUMP(s)");
        }
    }
    out.push('}');
    if s >> 16 != 0 {
        let _ = write!(out, " | {:#x}", (s as u32) & 0xffff_0000);
    }
    out.push(']');
}

pub(crate) fn wstatus(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(b) = fixed(r, i, 4) else {
        return false;
    };
    write_wstatus(&mut r.out, Le(b).i32(0));
    true
}

pub(crate) fn int_ptr(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(b) = fixed(r, i, 4) else {
        return false;
    };
    r.raw(&format!("[{}]", Le(b).i32(0)));
    true
}

pub(crate) fn optval(r: &mut Render<'_>, i: usize, addr: u64) -> bool {
    buf(r, i, addr)
}

pub(crate) fn argv(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(p) = r.piece(Slot::arg(i)) else {
        return false;
    };
    let le = Le(p.bytes);
    let mut s = String::from("[");
    let n = p.bytes.len() / 8;
    for k in 0..n {
        if k > 0 {
            s.push_str(", ");
        }
        match r.piece(Slot::part(i, k + 1)) {
            Some(a) => write_quoted(&mut s, a.bytes, a.truncated, false),
            None => write_ptr(&mut s, le.u64(k * 8)),
        }
    }
    if p.truncated {
        s.push_str(if n > 0 { ", ..." } else { "..." });
    }
    s.push(']');
    r.raw(&s);
    true
}

/// `0x7ffc… /* 20 vars */`, as strace prints an environment.
pub(crate) fn envp(r: &mut Render<'_>, i: usize, addr: u64) -> bool {
    let Some(b) = fixed(r, i, 4) else {
        return false;
    };
    let n = Le(b).u32(0);
    write_ptr(&mut r.out, addr);
    let _ = write!(r.out, " /* {n} var{} */", if n == 1 { "" } else { "s" });
    true
}

pub(crate) fn utsname(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    let Some(b) = fixed(r, i, 130) else {
        return false;
    };
    let mut s = String::from("{sysname=");
    write_quoted(&mut s, until_nul(&b[..65]), false, false);
    s.push_str(", nodename=");
    write_quoted(&mut s, until_nul(&b[65..]), false, false);
    s.push_str(", ...}");
    r.raw(&s);
    true
}

/// `makedev(0x88, 0)`.
pub(crate) fn makedev(major: u64, minor: u64) -> String {
    let mut s = String::from("makedev(");
    let _ = crate::syscall::arg::write_hex(&mut s, major);
    s.push_str(", ");
    let _ = crate::syscall::arg::write_hex(&mut s, minor);
    s.push(')');
    s
}

/// `{st_mode=S_IFREG|0644, st_size=1234, ...}`, or `st_rdev` for a device, as strace
/// prints a `struct stat` without `-v` (x86-64 layout).
pub(crate) fn stat(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    use crate::syscall::flags::Mode;
    let Some(b) = fixed(r, i, 56) else {
        return false;
    };
    let le = Le(b);
    let mode = le.u32(24);
    let mut s = format!("{{st_mode={}, ", Mode::from(mode));
    if matches!(mode & 0o170000, 0o020000 | 0o060000) {
        // glibc's encoding of a 64-bit dev_t.
        let d = le.u64(40);
        let major = ((d >> 8) & 0xfff) | ((d >> 32) & !0xfff);
        let minor = (d & 0xff) | ((d >> 12) & !0xff);
        let _ = write!(s, "st_rdev={}", makedev(major, minor & 0xffff_ffff));
    } else {
        let _ = write!(s, "st_size={}", le.i64(48));
    }
    s.push_str(", ...}");
    r.raw(&s);
    true
}

/// `struct clone_args`, with the fields strace shows for its flags.
pub(crate) fn clone_args(r: &mut Render<'_>, i: usize, _addr: u64) -> bool {
    use crate::syscall::flags::CloneFlags;
    let Some(p) = r.piece(Slot::arg(i)).filter(|p| p.bytes.len() >= 64) else {
        return false;
    };
    let le = Le(p.bytes);
    let flags = le.u64(0);
    let mut s = format!("{{flags={}", CloneFlags::from_raw(flags & !0xff));
    let has = |m: u64| flags & m != 0;
    let ptr = |s: &mut String, name: &str, v: u64| {
        let _ = write!(s, ", {name}=");
        write_ptr(s, v);
    };
    if has(0x1000) {
        ptr(&mut s, "pidfd", le.u64(8));
    }
    if has(CloneFlags::CLONE_CHILD_SETTID | CloneFlags::CLONE_CHILD_CLEARTID) {
        ptr(&mut s, "child_tid", le.u64(16));
    }
    if has(CloneFlags::CLONE_PARENT_SETTID) {
        ptr(&mut s, "parent_tid", le.u64(24));
    }
    let sig = le.u64(32);
    if sig == 0 {
        s.push_str(", exit_signal=0");
    } else {
        let _ = write!(s, ", exit_signal={}", Signal::from_raw(sig));
    }
    ptr(&mut s, "stack", le.u64(40));
    s.push_str(", stack_size=");
    let _ = crate::syscall::arg::write_hex(&mut s, le.u64(48));
    if has(CloneFlags::CLONE_SETTLS) {
        ptr(&mut s, "tls", le.u64(56));
    }
    s.push('}');
    r.raw(&s);
    true
}
