//! Socket calls, emulated against the virtual network ([`crate::net`]).
//!
//! A socket's kernel placeholder is an unconnected `AF_UNIX` socket of the same fd
//! number (so `fstat` says `S_IFSOCK` and the kernel's numbering stays authoritative); it
//! never carries data. `accept` is rewritten into `socket(AF_UNIX, …)` to create the new
//! placeholder. Families other than AF_INET, AF_INET6 and AF_UNIX are refused
//! (`EAFNOSUPPORT`, with a note): none is passed to the host's kernel.

use super::guest::{self, ubuf_len};
use super::io::{Dest, Src};
use super::{Blocked, Out, Post, Res};
use crate::errno::Errno;
use crate::fd::{Fd, Kind, Obj};
use crate::net::{Domain, NetError, SockAddr, SockType, UnixFile};
use crate::syscall::calls::{Connect, Recvmmsg, Sendmmsg, Sendto, Socket, Socketpair};
use crate::syscall::{FdPair, Syscall};
use crate::world::{Vtid, World};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

/// An action at the exit of a socket call.
pub enum Exit {
    /// The call became `socket(AF_UNIX, …)`, the placeholder of model socket `s`: its
    /// descriptor is installed (or, if the kernel refused, `s` is closed).
    Placeholder {
        /// The model socket.
        s: usize,
        /// `SOCK_NONBLOCK`, `SOCK_CLOEXEC`.
        flags: i32,
    },
    /// `socketpair` made the placeholder pair written at `sv`: it becomes a model pair.
    Pair {
        /// Where the kernel wrote the two descriptors.
        sv: u64,
        /// `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_SEQPACKET`.
        kind: i32,
        /// `SOCK_NONBLOCK`, `SOCK_CLOEXEC`.
        flags: i32,
    },
    /// The placeholder of an AF_UNIX socket was bound to a path: so is the model socket.
    BindPath(PathBind),
}

/// What the exit of an AF_UNIX `bind` to a path needs (see [`Exit::BindPath`]).
pub struct PathBind {
    s: usize,
    path: Vec<u8>,
    file: super::file::SocketFile,
}

impl Exit {
    /// Runs the action; returns a replacement return value, if any.
    pub(crate) fn run(self, e: &mut World, tid: Vtid, ret: i64) -> Option<i64> {
        match self {
            Exit::Placeholder { s, flags } => placeholder_made(e, tid, ret, s, flags),
            Exit::Pair { sv, kind, flags } => pair_made(e, tid, ret, sv, kind, flags),
            Exit::BindPath(b) => path_bound(e, tid, ret, b),
        }
    }
}

const POLLIN: u32 = libc::POLLIN as u32;
const POLLOUT: u32 = libc::POLLOUT as u32;
const POLLERR: u32 = libc::POLLERR as u32;
const POLLHUP: u32 = libc::POLLHUP as u32;
const POLLRDHUP: u32 = libc::POLLRDHUP as u32;

/// Readiness bits of a socket.
pub(crate) fn poll_bits(e: &World, s: usize) -> u32 {
    let r = e.net.readiness(s);
    let mut bits = 0;
    if r.readable {
        bits |= POLLIN;
    }
    if r.writable {
        bits |= POLLOUT;
    }
    if r.rdhup {
        bits |= POLLIN | POLLRDHUP;
    }
    if r.hup {
        bits |= POLLHUP | POLLIN;
    }
    if r.error {
        bits |= POLLERR;
    }
    bits
}

/// What an address is given to: the checks differ by call (Linux's `inet_bind`,
/// `tcp_v4_connect`/`ip4_datagram_connect`, `udp_sendmsg`, `unix_validate_addr`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum AddrUse {
    Bind,
    Connect,
    Send,
}

/// Size of `struct sockaddr_storage`: the most `move_addr_to_kernel` copies.
const SOCKADDR_STORAGE: u64 = 128;
/// Size of `struct sockaddr_un`.
const SOCKADDR_UN: usize = 110;

/// Copies a `struct sockaddr` of `len` bytes from the tracee as `move_addr_to_kernel`
/// does: a length below 0 or above `sockaddr_storage` is `EINVAL`, then the copy
/// (`EFAULT`).
fn copy_addr(e: &World, tid: Vtid, addr: u64, len: u64) -> Result<Vec<u8>, Errno> {
    if (len as i32) < 0 || len > SOCKADDR_STORAGE {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(Vec::new());
    }
    e.read_mem(tid, addr, len as usize)
}

/// An `int` address length (`bind`, `connect`, `sendto`) as [`copy_addr`] takes it:
/// its 32 bits, so that a negative one is refused there.
fn addr_len(len: crate::syscall::Int) -> u64 {
    u64::from(len.get() as u32)
}

/// Decodes a `struct sockaddr` from the tracee for socket `s`, checked as the socket's
/// family checks it: its length (`EINVAL`), then its family (`EAFNOSUPPORT` for IP
/// sockets, `EINVAL` for AF_UNIX ones).
fn read_addr(
    e: &World,
    tid: Vtid,
    s: usize,
    addr: u64,
    len: u64,
    to: AddrUse,
) -> Result<SockAddr, Errno> {
    let raw = copy_addr(e, tid, addr, len)?;
    let family = match raw.get(..2) {
        Some(f) => u16::from_ne_bytes([f[0], f[1]]) as i32,
        None => -1,
    };
    match e.net.domain(s) {
        Domain::Unix => {
            if family != libc::AF_UNIX || raw.len() > SOCKADDR_UN {
                return Err(Errno::EINVAL);
            }
            Ok(decode_addr(&raw).unwrap_or(SockAddr::Unix(Vec::new())))
        }
        Domain::Inet => {
            if raw.len() < 16 {
                return Err(Errno::EINVAL);
            }
            // AF_UNSPEC is AF_INET to a send, and to a bind of INADDR_ANY.
            let unspec_ok = match to {
                AddrUse::Send => true,
                AddrUse::Bind => raw[4..8] == [0; 4],
                AddrUse::Connect => false,
            };
            if family != libc::AF_INET && !(family == libc::AF_UNSPEC && unspec_ok) {
                return Err(Errno::EAFNOSUPPORT);
            }
            let mut v4 = raw;
            v4[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            decode_addr(&v4).ok_or(Errno::EINVAL)
        }
        Domain::Inet6 => {
            // A datagram socket also sends and connects to IPv4 addresses.
            let dgram = e.net.sock_type(s) == SockType::Dgram;
            if family == libc::AF_INET && dgram && to != AddrUse::Bind {
                return decode_addr(&raw).ok_or(Errno::EINVAL);
            }
            if raw.len() < 24 {
                return Err(Errno::EINVAL);
            }
            if family != libc::AF_INET6 {
                return Err(if to == AddrUse::Send {
                    Errno::EINVAL
                } else {
                    Errno::EAFNOSUPPORT
                });
            }
            let mut v6 = raw;
            v6.resize(28, 0); // sin6_scope_id is optional (RFC 2133's 24 bytes)
            decode_addr(&v6).ok_or(Errno::EINVAL)
        }
    }
}

/// The address in the bytes of a `struct sockaddr` whose family is already checked.
fn decode_addr(raw: &[u8]) -> Option<SockAddr> {
    let family = u16::from_ne_bytes([*raw.first()?, *raw.get(1)?]) as i32;
    match family {
        libc::AF_INET if raw.len() >= 16 => Some(SockAddr::Inet(SocketAddrV4::new(
            Ipv4Addr::new(raw[4], raw[5], raw[6], raw[7]),
            u16::from_be_bytes([raw[2], raw[3]]),
        ))),
        libc::AF_INET6 if raw.len() >= 28 => {
            let ip: [u8; 16] = raw[8..24].try_into().expect("16 bytes");
            Some(SockAddr::Inet6(SocketAddrV6::new(
                Ipv6Addr::from(ip),
                u16::from_be_bytes([raw[2], raw[3]]),
                u32::from_be_bytes(raw[4..8].try_into().expect("4 bytes")),
                u32::from_ne_bytes(raw[24..28].try_into().expect("4 bytes")),
            )))
        }
        libc::AF_UNIX => {
            let mut path = raw[2..].to_vec();
            if path.first() != Some(&0) {
                if let Some(z) = path.iter().position(|&b| b == 0) {
                    path.truncate(z);
                }
            }
            Some(SockAddr::Unix(path))
        }
        _ => None,
    }
}

/// Encodes a socket address as the kernel would.
fn encode_addr(a: &SockAddr) -> Vec<u8> {
    match a {
        SockAddr::Inet(v4) => {
            let mut b = vec![0u8; 16];
            b[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            b[2..4].copy_from_slice(&v4.port().to_be_bytes());
            b[4..8].copy_from_slice(&v4.ip().octets());
            b
        }
        SockAddr::Inet6(v6) => {
            let mut b = vec![0u8; 28];
            b[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            b[2..4].copy_from_slice(&v6.port().to_be_bytes());
            b[4..8].copy_from_slice(&v6.flowinfo().to_be_bytes());
            b[8..24].copy_from_slice(&v6.ip().octets());
            b[24..28].copy_from_slice(&v6.scope_id().to_ne_bytes());
            b
        }
        SockAddr::Unix(path) => {
            let mut b = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
            b.extend_from_slice(path);
            if path.first().is_some_and(|&c| c != 0) {
                b.push(0);
            }
            b
        }
    }
}

/// Writes an address to `(addr, *lenp)` as `accept`/`getsockname` do: truncated to the
/// buffer, the full length stored back.
fn write_addr(e: &World, tid: Vtid, addr: u64, lenp: u64, a: &SockAddr) -> Result<(), Errno> {
    if addr == 0 || lenp == 0 {
        return Ok(());
    }
    let cap: i32 = e.read_val(tid, lenp)?;
    if cap < 0 {
        return Err(Errno::EINVAL);
    }
    let bytes = encode_addr(a);
    let n = bytes.len().min(cap as usize);
    e.write_mem(tid, addr, &bytes[..n])?;
    e.write_val(tid, lenp, &(bytes.len() as u32))
}

fn sock_of(e: &World, tid: Vtid, fd: i32) -> Result<Option<(Fd, usize)>, Errno> {
    match super::io::lookup_fd(e, tid, fd) {
        Some(f) => match e.files.file(f.file).kind {
            Kind::Socket(s) => Ok(Some((f, s))),
            _ => Err(Errno::ENOTSOCK),
        },
        None => Ok(None),
    }
}

fn net_err(e: NetError) -> Errno {
    match e {
        NetError::Errno(x) => x,
        NetError::WouldBlock => Errno::EAGAIN,
        NetError::InProgress => Errno::EINPROGRESS,
    }
}

/// The socket descriptor a call on a socket names (its first argument); `None` for
/// `socket`, `socketpair` and every call that is not a socket call.
fn sockfd(call: &Syscall) -> Option<crate::syscall::Fd> {
    use Syscall as S;
    Some(match *call {
        S::Bind(c) => c.sockfd,
        S::Listen(c) => c.sockfd,
        S::Connect(c) => c.sockfd,
        S::Accept(c) => c.sockfd,
        S::Accept4(c) => c.sockfd,
        S::Sendto(c) => c.sockfd,
        S::Recvfrom(c) => c.sockfd,
        S::Sendmsg(c) => c.sockfd,
        S::Recvmsg(c) => c.sockfd,
        S::Sendmmsg(c) => c.sockfd,
        S::Recvmmsg(c) => c.sockfd,
        S::Shutdown(c) => c.sockfd,
        S::Getsockname(c) => c.sockfd,
        S::Getpeername(c) => c.sockfd,
        S::Setsockopt(c) => c.sockfd,
        S::Getsockopt(c) => c.sockfd,
        _ => return None,
    })
}

/// Every socket call: `socket`, `socketpair`, and the calls on a socket.
pub fn dispatch(e: &mut World, tid: Vtid, call: &Syscall) -> Res {
    use Syscall as S;
    let sockfd = match *call {
        S::Socket(c) => return socket(e, tid, c),
        S::Socketpair(c) => return socketpair(e, tid, c),
        _ => sockfd(call).unwrap_or_else(|| unreachable!("socket::dispatch of {}", call.name())),
    };
    // Everything else takes a socket fd first; kernel fds (netlink…) pass through.
    let Some((fd, s)) = sock_of(e, tid, sockfd.get())? else {
        return Ok(Out::Pass);
    };
    let now = e.now;
    match *call {
        S::Bind(c) => {
            let addr = read_addr(e, tid, s, c.addr.addr(), addr_len(c.addrlen), AddrUse::Bind)?;
            if let Some(path) = unix_path(e, s, &addr) {
                return bind_path(e, tid, s, path.to_vec());
            }
            e.net.bind(s, &addr)?;
            Ok(Out::Return(0))
        }
        S::Listen(c) => {
            e.net.listen(s, c.backlog.get())?;
            Ok(Out::Return(0))
        }
        S::Connect(c) => connect(e, tid, fd, s, c),
        S::Accept(c) => accept(e, tid, fd, s, c.addr.addr(), c.addrlen.addr(), 0),
        S::Accept4(c) => {
            let (addr, lenp) = (c.addr.addr(), c.addrlen.addr());
            accept(e, tid, fd, s, addr, lenp, c.flags.get() as i32)
        }
        S::Sendto(c) => sendto(e, tid, fd, s, c),
        S::Recvfrom(c) => {
            let out = (!c.src_addr.is_null()).then_some((c.src_addr.addr(), c.addrlen.addr()));
            let buf = Dest::Buf(c.buf.addr(), ubuf_len(c.buf.addr(), c.len)?);
            recv_into(e, tid, fd, s, buf, c.flags.get() as i32, out)
        }
        S::Sendmsg(c) => sendmsg(e, tid, fd, s, c.msg.addr(), c.flags.get() as i32),
        S::Recvmsg(c) => recvmsg(e, tid, fd, s, c.msg.addr(), c.flags.get() as i32),
        S::Sendmmsg(c) => sendmmsg(e, tid, fd, s, c),
        S::Recvmmsg(c) => recvmmsg(e, tid, fd, s, c),
        S::Shutdown(c) => shutdown(e, s, c.how.get(), now),
        S::Getsockname(c) => {
            let addr = e.net.local_addr(s)?;
            write_addr(e, tid, c.addr.addr(), c.addrlen.addr(), &addr)?;
            Ok(Out::Return(0))
        }
        S::Getpeername(c) => {
            let addr = e.net.peer_addr(s)?;
            write_addr(e, tid, c.addr.addr(), c.addrlen.addr(), &addr)?;
            Ok(Out::Return(0))
        }
        S::Setsockopt(c) => super::sockopt::setsockopt(e, tid, s, c),
        S::Getsockopt(c) => super::sockopt::getsockopt(e, tid, s, c),
        _ => unreachable!("socket::dispatch of {}", call.name()),
    }
}

/// Linux's limits on `socket` arguments: `NPROTO` families, `SOCK_MAX` types.
const NPROTO: i32 = 46;
const SOCK_MAX: i32 = 11;
const SOCK_TYPE_MASK: i32 = 0xf;

/// What `socket`/`socketpair` arguments ask for, checked in Linux's order: stray type
/// bits (`EINVAL`), the family's range (`EAFNOSUPPORT`), the type's range (`EINVAL`),
/// then the family. Families takt does not model are refused with `EAFNOSUPPORT` (and
/// a note), never passed to the host: AF_PACKET, AF_VSOCK, AF_XDP… would open real
/// sockets there, netlink would show the host's network state.
fn socket_args(
    e: &mut World,
    family: i32,
    ty: i32,
    proto: i32,
) -> Result<(Domain, SockType), Errno> {
    if ty & !SOCK_TYPE_MASK & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    if !(0..NPROTO).contains(&family) {
        return Err(Errno::EAFNOSUPPORT);
    }
    let kind = ty & SOCK_TYPE_MASK;
    if !(0..SOCK_MAX).contains(&kind) {
        return Err(Errno::EINVAL);
    }
    let domain = match family {
        libc::AF_INET => Domain::Inet,
        libc::AF_INET6 => Domain::Inet6,
        libc::AF_UNIX => Domain::Unix,
        _ => {
            e.note(format!(
                "socket family {family} refused with EAFNOSUPPORT (not modelled)"
            ));
            return Err(Errno::EAFNOSUPPORT);
        }
    };
    if domain == Domain::Unix {
        // unix_create: protocol 0 or PF_UNIX; SOCK_RAW is a datagram socket.
        if proto != 0 && proto != libc::PF_UNIX {
            return Err(Errno::EPROTONOSUPPORT);
        }
        return match kind {
            libc::SOCK_STREAM => Ok((domain, SockType::Stream)),
            libc::SOCK_DGRAM | libc::SOCK_RAW => Ok((domain, SockType::Dgram)),
            libc::SOCK_SEQPACKET => {
                e.note(
                    "socket(AF_UNIX, SOCK_SEQPACKET) refused (only socketpair models it)".into(),
                );
                Err(Errno::ESOCKTNOSUPPORT)
            }
            _ => Err(Errno::ESOCKTNOSUPPORT),
        };
    }
    match (kind, proto) {
        (libc::SOCK_STREAM, 0 | libc::IPPROTO_TCP) => Ok((domain, SockType::Stream)),
        (libc::SOCK_DGRAM, 0 | libc::IPPROTO_UDP) => Ok((domain, SockType::Dgram)),
        (libc::SOCK_STREAM | libc::SOCK_DGRAM, _) => Err(Errno::EPROTONOSUPPORT),
        // SOCK_RAW, and SOCK_PACKET (10).
        (libc::SOCK_RAW | 10, _) => {
            e.note(format!(
                "raw socket (family {family}, type {kind}) refused with EPERM (not modelled)"
            ));
            Err(Errno::EPERM)
        }
        _ => Err(Errno::ESOCKTNOSUPPORT),
    }
}

fn socket(e: &mut World, tid: Vtid, c: Socket) -> Res {
    let (family, ty, proto) = (c.domain.get() as i32, c.ty.get() as i32, c.protocol.get());
    let (domain, kind) = socket_args(e, family, ty, proto)?;
    let flags = ty & (libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    let node = e.procs[&e.threads[&tid].pid].node;
    let s = e.net.socket(node, domain, kind)?;
    Ok(placeholder(s, flags))
}

/// Turns the current call into `socket(AF_UNIX, SOCK_STREAM | flags)`, the kernel
/// placeholder for model socket `s`; at its exit the fd is installed (or, if the kernel
/// refused, `s` is closed).
fn placeholder(s: usize, flags: i32) -> Out {
    Out::Rewrite {
        nr: libc::SYS_socket,
        args: [
            libc::AF_UNIX as u64,
            (libc::SOCK_STREAM | flags) as u64,
            0,
            0,
            0,
            0,
        ],
        post: Some(Post::Socket(Exit::Placeholder { s, flags })),
    }
}

/// The exit of [`placeholder`].
fn placeholder_made(e: &mut World, tid: Vtid, ret: i64, s: usize, flags: i32) -> Option<i64> {
    if ret < 0 {
        e.net.close(s, e.now);
        return None;
    }
    install(e, tid, ret as i32, s, flags);
    None
}

fn install(e: &mut World, tid: Vtid, fd: i32, s: usize, flags: i32) {
    let pid = e.threads[&tid].pid;
    e.socks.insert(
        s,
        crate::world::SockMeta {
            owner: pid,
            ..Default::default()
        },
    );
    let (nonblock, cloexec) = (
        flags & libc::SOCK_NONBLOCK != 0,
        flags & libc::SOCK_CLOEXEC != 0,
    );
    super::io::install_new(e, tid, fd, Kind::Socket(s), nonblock, cloexec);
}

fn socketpair(e: &mut World, _tid: Vtid, c: Socketpair) -> Res {
    let (family, ty, proto) = (c.domain.get() as i32, c.ty.get() as i32, c.protocol.get());
    let flags = ty & (libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    let kind = ty & SOCK_TYPE_MASK;
    if family == libc::AF_UNIX && kind == libc::SOCK_SEQPACKET && (proto == 0 || proto == 1) {
        // Pairs model SOCK_SEQPACKET (socket() does not).
        if ty & !SOCK_TYPE_MASK & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
            return Err(Errno::EINVAL);
        }
    } else {
        let (domain, _) = socket_args(e, family, ty, proto)?;
        if domain != Domain::Unix {
            return Err(Errno::EOPNOTSUPP); // inet sockets have no socketpair
        }
    }
    // SOCK_RAW on AF_UNIX is a datagram socket.
    let kind = if kind == libc::SOCK_RAW {
        libc::SOCK_DGRAM
    } else {
        kind
    };
    let sv: FdPair = c.sv;
    Ok(Out::PassThen(Post::Socket(Exit::Pair {
        sv: sv.addr(),
        kind,
        flags,
    })))
}

/// The exit of [`socketpair`].
fn pair_made(e: &mut World, tid: Vtid, ret: i64, sv: u64, kind: i32, flags: i32) -> Option<i64> {
    if ret == 0 {
        if let Ok([x, y]) = e.read_val::<[i32; 2]>(tid, sv) {
            let node = e.procs[&e.threads[&tid].pid].node;
            let pair = match kind {
                libc::SOCK_STREAM => e.net.socketpair(node, SockType::Stream),
                libc::SOCK_DGRAM => e.net.socketpair(node, SockType::Dgram),
                _ => e.net.seqpacket_pair(node),
            };
            if let Ok((s1, s2)) = pair {
                install(e, tid, x, s1, flags);
                install(e, tid, y, s2, flags);
            }
        }
    }
    None
}

/// The path of an AF_UNIX address given to AF_UNIX socket `s`, if it is one (not an
/// abstract name, not empty).
fn unix_path<'a>(e: &World, s: usize, addr: &'a SockAddr) -> Option<&'a [u8]> {
    match addr {
        SockAddr::Unix(p)
            if e.net.domain(s) == Domain::Unix && p.first().is_some_and(|&b| b != 0) =>
        {
            Some(p)
        }
        _ => None,
    }
}

/// The socket file an AF_UNIX path address leads to for `tid`, looked up as Linux's
/// `connect` and `sendto` do (`None` for other addresses); a failed lookup is the call's
/// errno.
fn unix_file(e: &World, tid: Vtid, s: usize, addr: &SockAddr) -> Result<Option<UnixFile>, Errno> {
    match unix_path(e, s, addr) {
        Some(p) => super::file::find_socket_file(e, tid, p).map(Some),
        None => Ok(None),
    }
}

/// `bind` of an AF_UNIX socket to a path. The kernel binds the socket's placeholder (an
/// AF_UNIX socket itself), which makes the socket file in the caller's filesystem view
/// exactly as Linux does: relative to its cwd, mode `0777 & ~umask`, `EADDRINUSE` if the
/// name exists (a stale socket file too), `ENOENT`/`ENOTDIR`/`EACCES` for the directories.
/// At the exit the model binds the socket to that file (see [`crate::net::UnixFile`]);
/// the placeholder never listens nor carries data, and every connect is the model's.
fn bind_path(e: &mut World, tid: Vtid, s: usize, path: Vec<u8>) -> Res {
    e.net.can_bind_path(s)?;
    let file = super::file::socket_file(e, tid, &path);
    Ok(Out::PassThen(Post::Socket(Exit::BindPath(PathBind {
        s,
        path,
        file,
    }))))
}

/// The exit of [`bind_path`]: the model binds the socket to the file the kernel made.
fn path_bound(e: &mut World, tid: Vtid, ret: i64, b: PathBind) -> Option<i64> {
    if ret != 0 {
        return None;
    }
    let file = super::file::socket_file_made(e, tid, &b.file);
    if file.is_none() {
        e.note(format!(
            "the socket file of bind({}) is out of the tracer's sight: no path reaches it",
            String::from_utf8_lossy(&b.path)
        ));
    }
    e.net.bind_path(b.s, &b.path, file).err().map(Errno::ret)
}

fn nonblocking(e: &World, fd: Fd, flags: i32) -> bool {
    e.files.file(fd.file).nonblock || flags & libc::MSG_DONTWAIT != 0
}

fn connect(e: &mut World, tid: Vtid, fd: Fd, s: usize, c: Connect) -> Res {
    let nonblock = nonblocking(e, fd, 0);
    let now = e.now;
    let (addr, addrlen) = (c.addr.addr(), addr_len(c.addrlen));
    let raw = copy_addr(e, tid, addr, addrlen)?;
    if raw.len() < 2 {
        return Err(Errno::EINVAL);
    }
    let unspec = raw[..2] == (libc::AF_UNSPEC as u16).to_ne_bytes();
    if unspec {
        // Dissolves the association (a datagram socket forgets its peer, a TCP
        // connection is aborted); AF_UNIX streams refuse it, as Linux does.
        if e.net.domain(s) == Domain::Unix && e.net.sock_type(s) == SockType::Stream {
            return Err(Errno::EINVAL);
        }
        e.net.disconnect(s, now)?;
        after_io(e, s);
        return Ok(Out::Return(0));
    }
    let addr = read_addr(e, tid, s, addr, addrlen, AddrUse::Connect)?;
    // A blocking connect that was parked asks again when woken: the model answers
    // EALREADY while the handshake is under way, then the outcome.
    let again = e.threads[&tid].progress == 1;
    let file = unix_file(e, tid, s, &addr)?;
    match e.net.connect_file(s, &addr, file, now) {
        Ok(()) => Ok(Out::Return(0)),
        Err(NetError::InProgress) | Err(NetError::WouldBlock) if !nonblock => {
            e.threads.get_mut(&tid).expect("thread").progress = 1;
            Ok(Out::Block(
                Blocked::on(vec![Obj::Socket(s)], "connect").no_restart(),
            ))
        }
        Err(NetError::Errno(Errno::EALREADY)) if again => Ok(Out::Block(
            Blocked::on(vec![Obj::Socket(s)], "connect").no_restart(),
        )),
        Err(x) => Err(net_err(x)),
    }
}

fn accept(e: &mut World, tid: Vtid, fd: Fd, s: usize, addr: u64, lenp: u64, flags: i32) -> Res {
    if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    match e.net.accept(s) {
        Ok((new, peer)) => {
            after_io(e, s);
            // Linux writes the peer's address after taking the connection off the
            // queue: a bad length or buffer fails the call and drops the connection.
            if let Err(x) = write_addr(e, tid, addr, lenp, &peer) {
                e.net.close(new, e.now);
                return Err(x);
            }
            Ok(placeholder(new, flags))
        }
        Err(NetError::WouldBlock) if !nonblocking(e, fd, 0) => Ok(Out::Block(
            Blocked::on(vec![Obj::Socket(s)], "accept")
                .until(rcv_deadline(e, s), Errno::EAGAIN.ret()),
        )),
        Err(x) => Err(net_err(x)),
    }
}

/// When a blocking receive on `s` gives up (`SO_RCVTIMEO`).
fn rcv_deadline(e: &World, s: usize) -> Option<crate::time::VTime> {
    super::sockopt::timeout(e, s, libc::SO_RCVTIMEO).map(|ns| e.now.plus_nanos(ns))
}

/// Tells waiters on `s` and on whatever it is connected to that something changed.
fn after_io(e: &mut World, s: usize) {
    e.notify(Obj::Socket(s));
    if let Some(p) = e.net.peer_of(s) {
        e.notify(Obj::Socket(p));
    }
}

/// What a datagram send is refused for before its message is read: `MSG_OOB`
/// (`EOPNOTSUPP`: first for AF_UNIX, after the size for UDP) and a size past the
/// socket's limit (`EMSGSIZE`; a guest's 2^44-byte datagram is refused as Linux refuses
/// it, not allocated; a UDP one of at most 64 KiB drops a corked datagram, as Linux).
fn datagram_checks(e: &mut World, s: usize, flags: i32, total: usize) -> Result<(), Errno> {
    let oob = flags & libc::MSG_OOB != 0;
    if oob && e.net.domain(s) == Domain::Unix {
        return Err(Errno::EOPNOTSUPP);
    }
    if e.net.max_datagram(s).is_some_and(|max| total > max) {
        if e.net.domain(s) != Domain::Unix && total <= 0xffff {
            // Linux tries to append it to a corked datagram, and drops that.
            e.net.udp_discard_pending(s);
        }
        return Err(Errno::EMSGSIZE);
    }
    if oob {
        return Err(Errno::EOPNOTSUPP);
    }
    Ok(())
}

/// Sends from tracee memory (`write`, `send*`); a blocking stream send returns only
/// when everything is queued.
pub(crate) fn send_from(
    e: &mut World,
    tid: Vtid,
    fd: Fd,
    s: usize,
    src: Src,
    flags: i32,
    to: Option<SockAddr>,
) -> Res {
    let nonblock = nonblocking(e, fd, flags);
    let total = src.len();
    let done = e.threads[&tid].progress;
    let stream = e.net.sock_type(s) == SockType::Stream;
    let chunk = if stream {
        // No more than a send buffer can take at once.
        total.saturating_sub(done).min(e.net.config().stream_buffer)
    } else {
        datagram_checks(e, s, flags, total)?;
        total
    };
    let data = src.get(e, tid, done, chunk)?;
    let now = e.now;
    let inet = e.net.domain(s) != crate::net::Domain::Unix;
    let more = flags & libc::MSG_MORE != 0;
    // A lost datagram is decided when one is sent (a corked send only adds to one).
    if !stream
        && inet
        && e.net.udp_sends_now(s, more)
        && e.net_fault(e.cfg.drop_rate, "datagram dropped")
    {
        e.net.udp_discard_pending(s);
        return Ok(Out::Return(data.len() as i64)); // sent, and lost on the way
    }
    let file = match &to {
        Some(a) if !stream => unix_file(e, tid, s, a)?,
        _ => None,
    };
    match e.net.send_file(s, &data, to.as_ref(), file, now, more) {
        Ok(n) => {
            if stream && inet && e.net_fault(e.cfg.reset_rate, "connection reset") {
                let _ = e.net.reset_connection(s, now);
            }
            after_io(e, s);
            let done = done.saturating_add(n);
            if stream && done < total && !nonblock {
                e.threads.get_mut(&tid).expect("thread").progress = done;
                return Ok(Out::Block(Blocked::on(
                    vec![Obj::Socket(s)],
                    "socket send room",
                )));
            }
            Ok(Out::Return(done as i64))
        }
        Err(NetError::WouldBlock) | Err(NetError::InProgress) => {
            if !nonblock {
                Ok(Out::Block(Blocked::on(
                    vec![Obj::Socket(s)],
                    "socket send room",
                )))
            } else if done > 0 {
                Ok(Out::Return(done as i64))
            } else {
                Err(Errno::EAGAIN)
            }
        }
        Err(NetError::Errno(Errno::EPIPE)) if done == 0 => {
            if flags & libc::MSG_NOSIGNAL != 0 {
                Err(Errno::EPIPE)
            } else {
                super::io::epipe(e, tid)
            }
        }
        Err(NetError::Errno(_)) if done > 0 => Ok(Out::Return(done as i64)),
        Err(NetError::Errno(x)) => Err(x),
    }
}

/// Receives into tracee memory (`read`, `recv*`); writes the source address to `out`.
pub(crate) fn recv_into(
    e: &mut World,
    tid: Vtid,
    fd: Fd,
    s: usize,
    dest: Dest,
    flags: i32,
    out: Option<(u64, u64)>,
) -> Res {
    let nonblock = nonblocking(e, fd, flags);
    if flags & libc::MSG_OOB != 0 {
        oob_checks(e, s)?;
    }
    let peek = flags & libc::MSG_PEEK != 0;
    // Only as much as can arrive now: callers pass large buffers (memcached reads into
    // 16 KiB), and zeroing them on every call costs more than the call.
    let mut buf = vec![0u8; dest.len().min(e.net.bytes_readable(s).max(1)).min(1 << 24)];
    // A stream's bytes are taken only once they are copied out: a bad buffer (EFAULT)
    // leaves them queued, as Linux does (a datagram is lost with it).
    let copy_first = !peek && e.net.sock_type(s) == SockType::Stream;
    // (A pending error is reported, and cleared, by a peek too, as Linux's sock_error.)
    match e.net.recv_msg(s, &mut buf, peek || copy_first) {
        Ok(meta) if nonblock && udp_shut_and_empty(e, s, &meta) => Err(Errno::EAGAIN),
        Ok(meta) => {
            dest.put(e, tid, &buf[..meta.len])?;
            if copy_first && meta.len > 0 {
                e.net
                    .recv_msg(s, &mut buf[..meta.len], false)
                    .map_err(net_err)?;
            }
            match (out, meta.from.as_ref()) {
                // An unnamed AF_UNIX sender has no address at all (Linux's
                // unix_copy_addr: a length of 0), where getpeername shows the family.
                (Some((addr, lenp)), Some(SockAddr::Unix(p)))
                    if p.is_empty() && addr != 0 && lenp != 0 =>
                {
                    e.write_val(tid, lenp, &0u32)?;
                }
                (Some((addr, lenp)), Some(from)) => write_addr(e, tid, addr, lenp, from)?,
                _ => {}
            }
            if !peek {
                after_io(e, s);
            }
            let n = if flags & libc::MSG_TRUNC != 0 {
                meta.full_len
            } else {
                meta.len
            };
            Ok(Out::Return(n as i64))
        }
        Err(NetError::WouldBlock) | Err(NetError::InProgress) if !nonblock => Ok(Out::Block(
            Blocked::on(vec![Obj::Socket(s)], "socket data")
                .until(rcv_deadline(e, s), Errno::EAGAIN.ret()),
        )),
        // unix_stream_read_generic: a stream socket that was never connected.
        Err(NetError::Errno(Errno::ENOTCONN)) if e.net.domain(s) == Domain::Unix => {
            Err(Errno::EINVAL)
        }
        Err(x) => Err(net_err(x)),
    }
}

/// Whether a receive on UDP socket `s` found its queue empty after a read shutdown:
/// Linux returns 0 to a blocking receive then, but `EAGAIN` to one that does not wait.
fn udp_shut_and_empty(e: &World, s: usize, meta: &crate::net::RecvMeta) -> bool {
    let udp = e.net.domain(s) != Domain::Unix && e.net.sock_type(s) == SockType::Dgram;
    udp && meta.len == 0 && meta.from.is_none()
}

/// A receive of urgent data (`MSG_OOB`): an AF_UNIX datagram socket has none
/// (`EOPNOTSUPP`); a TCP socket that does not listen has none pending, as the model
/// sends urgent bytes inline (`EINVAL`, from `tcp_recv_urg`).
fn oob_checks(e: &World, s: usize) -> Result<(), Errno> {
    let stream = e.net.sock_type(s) == SockType::Stream;
    match e.net.domain(s) {
        Domain::Unix if !stream => Err(Errno::EOPNOTSUPP),
        Domain::Inet | Domain::Inet6 if stream && !super::sockopt::listening(e, s) => {
            Err(Errno::EINVAL)
        }
        _ => Ok(()),
    }
}

/// `sendto(fd, buf, len, flags, addr, addrlen)`.
fn sendto(e: &mut World, tid: Vtid, fd: Fd, s: usize, c: Sendto) -> Res {
    let to = send_addr(e, tid, s, c.dest_addr.addr(), addr_len(c.addrlen))?;
    let buf = Src::Buf(c.buf.addr(), ubuf_len(c.buf.addr(), c.len)?);
    send_from(e, tid, fd, s, buf, c.flags.get() as i32, to)
}

/// The destination a send names (`None` if `addr` is null). A TCP send ignores it once
/// copied; an AF_UNIX stream refuses one (`EISCONN` when connected, else `EOPNOTSUPP`).
fn send_addr(
    e: &World,
    tid: Vtid,
    s: usize,
    addr: u64,
    len: u64,
) -> Result<Option<SockAddr>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    if e.net.sock_type(s) != SockType::Stream {
        return read_addr(e, tid, s, addr, len, AddrUse::Send).map(Some);
    }
    copy_addr(e, tid, addr, len)?;
    match e.net.domain(s) {
        Domain::Unix if len > 0 && e.net.peer_of(s).is_some() => Err(Errno::EISCONN),
        Domain::Unix if len > 0 => Err(Errno::EOPNOTSUPP),
        _ => Ok(None),
    }
}

/// `sendmsg(fd, msg, flags)`: the address and iovecs of the `msghdr` at `msg`.
fn sendmsg(e: &mut World, tid: Vtid, fd: Fd, s: usize, msg: u64, flags: i32) -> Res {
    let m: libc::msghdr = e.read_val(tid, msg)?;
    let (src, to) = msghdr_send(e, tid, s, &m)?;
    send_from(e, tid, fd, s, src, flags, to)
}

/// What a `msghdr` sends: its iovecs, and its address if it names one.
fn msghdr_send(
    e: &World,
    tid: Vtid,
    s: usize,
    m: &libc::msghdr,
) -> Result<(Src, Option<SockAddr>), Errno> {
    // The kernel's msg_namelen is an int: negative is EINVAL, beyond the storage cut.
    if (m.msg_namelen as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let to = if m.msg_namelen > 0 {
        let len = u64::from(m.msg_namelen).min(SOCKADDR_STORAGE);
        send_addr(e, tid, s, m.msg_name as u64, len)?
    } else {
        None
    };
    let iov = guest::iovecs(
        e,
        tid,
        m.msg_iov as u64,
        m.msg_iovlen as u64,
        Errno::EMSGSIZE,
    )?;
    Ok((Src::Iov(iov), to))
}

/// `shutdown(fd, how)`.
fn shutdown(e: &mut World, s: usize, how: i32, now: crate::time::VTime) -> Res {
    let how = match how {
        libc::SHUT_RD => crate::net::Shutdown::Read,
        libc::SHUT_WR => crate::net::Shutdown::Write,
        libc::SHUT_RDWR => crate::net::Shutdown::Both,
        _ => return Err(Errno::EINVAL),
    };
    e.net.shutdown(s, how, now)?;
    after_io(e, s);
    Ok(Out::Return(0))
}

fn recvmsg(e: &mut World, tid: Vtid, fd: Fd, s: usize, msg: u64, flags: i32) -> Res {
    let m: libc::msghdr = e.read_val(tid, msg)?;
    let iov = guest::iovecs(
        e,
        tid,
        m.msg_iov as u64,
        m.msg_iovlen as u64,
        Errno::EMSGSIZE,
    )?;
    let want: usize = iov.iter().map(|r| r.1).fold(0, usize::saturating_add);
    // The source address goes to msg_name, its length to msg_namelen (offset 8).
    let field = |off: u64| guest::offset(msg, off);
    let name = (!m.msg_name.is_null()).then_some((m.msg_name as u64, field(8)?));
    let out = recv_into(e, tid, fd, s, Dest::Iov(iov), flags | libc::MSG_TRUNC, name)?;
    if let Out::Return(n) = out {
        if name.is_some() && e.net.sock_type(s) == SockType::Stream {
            e.write_val(tid, field(8)?, &0u32)?; // streams have no source address
        }
        // No ancillary data; MSG_TRUNC when a datagram was cut (offsets 40 and 48).
        e.write_val(tid, field(40)?, &0u64)?;
        e.write_val(
            tid,
            field(48)?,
            &(if n as usize > want {
                libc::MSG_TRUNC
            } else {
                0
            }),
        )?;
        let ret = if flags & libc::MSG_TRUNC != 0 {
            n
        } else {
            n.min(want as i64)
        };
        return Ok(Out::Return(ret));
    }
    Ok(out)
}

/// How many messages a `sendmmsg`/`recvmmsg` handles: at most `UIO_MAXIOV`, and fewer
/// under a short-transfer fault.
fn mmsg_count(e: &World, tid: Vtid, vlen: u32) -> u32 {
    let n = vlen.min(1024);
    match e.threads[&tid].short {
        Some(k) => n.min(k as u32),
        None => n,
    }
}

/// The address of entry `i` of an `mmsghdr` array.
fn mmsg_at(vec: u64, i: u32) -> Result<u64, Errno> {
    let size = std::mem::size_of::<libc::mmsghdr>() as u64;
    guest::offset(vec, u64::from(i).saturating_mul(size))
}

fn sendmmsg(e: &mut World, tid: Vtid, fd: Fd, s: usize, c: Sendmmsg) -> Res {
    let vec = c.msgvec.addr();
    let (vlen, flags) = (mmsg_count(e, tid, c.vlen.get()), c.flags.get() as i32);
    let mut sent = 0u32;
    for i in 0..vlen {
        let at = mmsg_at(vec, i)?;
        let mut mm: libc::mmsghdr = e.read_val(tid, at)?;
        let (src, to) = msghdr_send(e, tid, s, &mm.msg_hdr)?;
        let f = if sent > 0 {
            flags | libc::MSG_DONTWAIT
        } else {
            flags
        };
        match send_from(e, tid, fd, s, src, f, to) {
            Ok(Out::Return(n)) => {
                mm.msg_len = n as u32;
                e.write_val(tid, at, &mm)?;
                sent = sent.saturating_add(1);
            }
            other if sent == 0 => return other,
            _ => break,
        }
    }
    Ok(Out::Return(sent as i64))
}

fn recvmmsg(e: &mut World, tid: Vtid, fd: Fd, s: usize, c: Recvmmsg) -> Res {
    // The time-out is read (EFAULT) and checked (EINVAL) first. Linux looks at it only
    // between datagrams; so does this model, which takes what is queued.
    if !c.timeout.is_null() {
        let ts: libc::timespec = e.read_val(tid, c.timeout.addr())?;
        super::time::ts_nanos(&ts)?;
    }
    let vec = c.msgvec.addr();
    let (vlen, flags) = (mmsg_count(e, tid, c.vlen.get()), c.flags.get() as i32);
    let mut got = 0u32;
    for i in 0..vlen {
        let at = mmsg_at(vec, i)?;
        let f = if got > 0 {
            flags | libc::MSG_DONTWAIT
        } else {
            flags
        };
        match recvmsg(e, tid, fd, s, at, f) {
            Ok(Out::Return(n)) => {
                e.write_val(
                    tid,
                    guest::offset(at, std::mem::size_of::<libc::msghdr>() as u64)?,
                    &(n as u32),
                )?;
                got = got.saturating_add(1);
                if flags & libc::MSG_WAITFORONE != 0 {
                    break;
                }
            }
            other if got == 0 => return other,
            _ => break,
        }
    }
    Ok(Out::Return(got as i64))
}
