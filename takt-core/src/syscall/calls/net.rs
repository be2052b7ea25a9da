//! Typed socket calls: creating, naming, connecting, sending and receiving, options.

use crate::syscall::arg::*;
use crate::syscall::capture::Slot;
use crate::syscall::decl::{calls, Custom};
use crate::syscall::enums::*;
use crate::syscall::flags::*;
use crate::syscall::render::Render;

calls! {
    /// `socket(domain, type, protocol)`
    Socket = socket(domain: AddressFamily, ty: SockType, protocol: Int) custom;
    /// `socketpair(domain, type, protocol, sv)`
    Socketpair = socketpair(domain: AddressFamily, ty: SockType, protocol: Int, sv: FdPair) custom;
    /// `bind(sockfd, addr, addrlen)`
    Bind = bind(sockfd: Fd, addr: SockaddrIn, addrlen: Int);
    /// `connect(sockfd, addr, addrlen)`
    Connect = connect(sockfd: Fd, addr: SockaddrIn, addrlen: Int);
    /// `listen(sockfd, backlog)`
    Listen = listen(sockfd: Fd, backlog: Int);
    /// `accept(sockfd, addr, addrlen)`
    Accept = accept(sockfd: Fd, addr: SockaddrOut, addrlen: SocklenPtr);
    /// `accept4(sockfd, addr, addrlen, flags)`
    Accept4 = accept4(sockfd: Fd, addr: SockaddrOut, addrlen: SocklenPtr, flags: SockFlags);
    /// `sendto(sockfd, buf, len, flags, dest_addr, addrlen)`
    Sendto = sendto(sockfd: Fd, buf: InBuf, len: u64, flags: MsgFlags, dest_addr: SockaddrIn, addrlen: Int);
    /// `recvfrom(sockfd, buf, len, flags, src_addr, addrlen)`
    Recvfrom = recvfrom(sockfd: Fd, buf: OutBuf, len: u64, flags: MsgFlags, src_addr: SockaddrOut, addrlen: SocklenPtr);
    /// `sendmsg(sockfd, msg, flags)`
    Sendmsg = sendmsg(sockfd: Fd, msg: MsghdrIn, flags: MsgFlags);
    /// `recvmsg(sockfd, msg, flags)`
    Recvmsg = recvmsg(sockfd: Fd, msg: MsghdrOut, flags: MsgFlags);
    /// `sendmmsg(sockfd, msgvec, vlen, flags)`: returns the number of messages sent.
    Sendmmsg = sendmmsg(sockfd: Fd, msgvec: UserPtr, vlen: UInt, flags: MsgFlags);
    /// `recvmmsg(sockfd, msgvec, vlen, flags, timeout)`: returns the number received.
    Recvmmsg = recvmmsg(sockfd: Fd, msgvec: UserPtr, vlen: UInt, flags: MsgFlags, timeout: TimespecIn);
    /// `shutdown(sockfd, how)`
    Shutdown = shutdown(sockfd: Fd, how: ShutHow);
    /// `getsockname(sockfd, addr, addrlen)`
    Getsockname = getsockname(sockfd: Fd, addr: SockaddrOut, addrlen: SocklenPtr);
    /// `getpeername(sockfd, addr, addrlen)`
    Getpeername = getpeername(sockfd: Fd, addr: SockaddrOut, addrlen: SocklenPtr);
    /// `setsockopt(sockfd, level, optname, optval, optlen)`
    Setsockopt = setsockopt(sockfd: Fd, level: SockLevel, optname: Int, optval: InBuf, optlen: Int) custom;
    /// `getsockopt(sockfd, level, optname, optval, optlen)`
    Getsockopt = getsockopt(sockfd: Fd, level: SockLevel, optname: Int, optval: OptvalOut, optlen: SocklenPtr) custom;
}

/// `socket`'s protocol: `IPPROTO_TCP` for IP families, a number otherwise.
fn protocol(r: &mut Render<'_>, domain: AddressFamily, protocol: Int) {
    match domain.get() {
        AddressFamily::AF_INET | AddressFamily::AF_INET6 => {
            r.arg(2, IpProto::from_raw(protocol.raw()))
        }
        _ => r.arg(2, protocol),
    }
}

impl Custom for Socket {
    fn render_args(&self, r: &mut Render<'_>) {
        r.arg(0, self.domain);
        r.arg(1, self.ty);
        protocol(r, self.domain, self.protocol);
    }
}

impl Custom for Socketpair {
    fn render_args(&self, r: &mut Render<'_>) {
        r.arg(0, self.domain);
        r.arg(1, self.ty);
        protocol(r, self.domain, self.protocol);
        r.arg(3, self.sv);
    }
}

/// `SOL_SOCKET, SO_REUSEADDR`.
fn level_and_name(r: &mut Render<'_>, level: SockLevel, optname: Int) {
    r.arg(1, level);
    match sockopt_name(level.get(), optname.get()) {
        Some(n) => r.text(n),
        None => r.arg(2, optname),
    }
}

/// An option value as strace prints it: `[1]` for an `int`, `{l_onoff=1, l_linger=0}`
/// for `SO_LINGER`, the bytes otherwise; false if nothing was captured.
fn optval(r: &mut Render<'_>, level: SockLevel, optname: Int, i: usize) -> bool {
    let Some(p) = r.piece(Slot::arg(i)) else {
        return false;
    };
    let b = p.bytes;
    let int = |o: usize| i32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    r.sep();
    let socket = level.get() == SockLevel::SOL_SOCKET;
    if socket && optname.get() == 13 && b.len() == 8 {
        r.raw(&format!("{{l_onoff={}, l_linger={}}}", int(0), int(4)));
    } else if socket && matches!(optname.get(), 20 | 21) && b.len() == 16 {
        crate::syscall::render::structs::write_time(&mut r.out, b, "tv_usec");
    } else if b.len() == 4 && !p.truncated {
        r.raw(&format!("[{}]", int(0)));
    } else {
        crate::syscall::render::write_quoted(&mut r.out, b, p.truncated, false);
    }
    true
}

impl Custom for Setsockopt {
    fn render_args(&self, r: &mut Render<'_>) {
        r.arg(0, self.sockfd);
        level_and_name(r, self.level, self.optname);
        if self.optval.is_null() || !optval(r, self.level, self.optname, 3) {
            r.arg(3, UserPtr(self.optval.0));
        }
        r.arg(4, self.optlen);
    }
}

impl Custom for Getsockopt {
    fn render_args(&self, r: &mut Render<'_>) {
        r.arg(0, self.sockfd);
        level_and_name(r, self.level, self.optname);
        if self.optval.is_null() || !optval(r, self.level, self.optname, 3) {
            r.arg(3, UserPtr(self.optval.0));
        }
        r.arg(4, self.optlen);
    }
}
