//! `setsockopt`/`getsockopt`: the options the network model understands go to it; the
//! ones real servers set but the model has no use for (timeouts, priorities, TCP
//! keepalive tuning) are accepted and ignored; unknown ones fail with `ENOPROTOOPT`, and
//! a level the socket does not have with the errno Linux gives (`EOPNOTSUPP` or
//! `ENOPROTOOPT`). Lengths and values are checked in Linux's order.

use super::{Out, Res};
use crate::errno::Errno;
use crate::net::{Domain, SockOpt, SockOptName, SockType};
use crate::syscall::calls::{Getsockopt, Setsockopt};
use crate::world::{Vtid, World};

/// An option's `int` value, `len` bytes long (an `int` `optlen` past its sign check).
fn read_int(e: &World, tid: Vtid, p: u64, len: u32) -> Result<i32, Errno> {
    if len < 4 {
        return Err(Errno::EINVAL);
    }
    e.read_val(tid, p)
}

/// Whether socket `s` has options at `level`: `SOL_SOCKET` always; an AF_UNIX socket
/// nothing else; an IP socket its IP level (IPv6 sockets both), and its transport's.
fn has_level(e: &World, s: usize, level: i32) -> bool {
    let stream = e.net.sock_type(s) == SockType::Stream;
    match (e.net.domain(s), level) {
        (_, libc::SOL_SOCKET) => true,
        (Domain::Unix, _) => false,
        (_, libc::IPPROTO_IP) => true,
        (Domain::Inet6, libc::IPPROTO_IPV6) => true,
        (_, libc::IPPROTO_TCP) => stream,
        (_, libc::IPPROTO_UDP) => !stream,
        _ => false,
    }
}

/// The errno of an option call at a level the socket does not have: AF_UNIX sockets
/// have no protocol options (`EOPNOTSUPP`); IP sockets hand the level down to the IP
/// layer, whose `setsockopt` says `ENOPROTOOPT`, and whose IPv4 `getsockopt` says
/// `EOPNOTSUPP`.
fn no_level(e: &World, s: usize, get: bool) -> Errno {
    match e.net.domain(s) {
        Domain::Unix => Errno::EOPNOTSUPP,
        Domain::Inet if get => Errno::EOPNOTSUPP,
        _ => Errno::ENOPROTOOPT,
    }
}

/// Checks of `setsockopt` before its option is looked at, in Linux's order: the level
/// (see [`no_level`]); at `SOL_SOCKET` and `IPPROTO_TCP` an `int`'s worth of value
/// (`EINVAL`, but for the options that take a string) that can be read (`EFAULT`).
fn set_checks(
    e: &World,
    tid: Vtid,
    s: usize,
    level: i32,
    name: i32,
    val: u64,
    len: u32,
) -> Result<(), Errno> {
    if !has_level(e, s, level) {
        return Err(no_level(e, s, false));
    }
    let string = match level {
        libc::SOL_SOCKET => name == libc::SO_BINDTODEVICE,
        libc::IPPROTO_TCP => matches!(name, libc::TCP_CONGESTION | libc::TCP_ULP),
        _ => true,
    };
    if !string {
        read_int(e, tid, val, len)?;
    }
    Ok(())
}

/// `setsockopt(fd, level, name, value, len)` on a virtual socket.
pub fn setsockopt(e: &mut World, tid: Vtid, s: usize, c: Setsockopt) -> Res {
    let (level, name) = (c.level.get(), c.optname.get());
    // `optlen` is an `int`: a negative one is refused before the level is looked at.
    let len = u32::try_from(c.optlen.get()).map_err(|_| Errno::EINVAL)?;
    let val = c.optval.addr();
    set_checks(e, tid, s, level, name, val, len)?;
    let opt = match (level, name) {
        (libc::SOL_SOCKET, libc::SO_REUSEADDR) => {
            SockOpt::ReuseAddr(read_int(e, tid, val, len)? != 0)
        }
        (libc::SOL_SOCKET, libc::SO_REUSEPORT) => {
            SockOpt::ReusePort(read_int(e, tid, val, len)? != 0)
        }
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE) => {
            SockOpt::KeepAlive(read_int(e, tid, val, len)? != 0)
        }
        (libc::SOL_SOCKET, libc::SO_BROADCAST) => {
            SockOpt::Broadcast(read_int(e, tid, val, len)? != 0)
        }
        (libc::SOL_SOCKET, libc::SO_RCVBUF) => {
            SockOpt::RcvBuf(read_int(e, tid, val, len)?.max(0) as usize)
        }
        (libc::SOL_SOCKET, libc::SO_SNDBUF) => {
            SockOpt::SndBuf(read_int(e, tid, val, len)?.max(0) as usize)
        }
        (libc::SOL_SOCKET, libc::SO_LINGER) => {
            if len < 8 {
                return Err(Errno::EINVAL);
            }
            let l: libc::linger = e.read_val(tid, val)?;
            SockOpt::Linger((l.l_onoff != 0).then_some(l.l_linger.max(0) as u32))
        }
        (libc::IPPROTO_TCP, libc::TCP_NODELAY) => {
            SockOpt::NoDelay(read_int(e, tid, val, len)? != 0)
        }
        (libc::IPPROTO_IPV6, libc::IPV6_V6ONLY) => {
            SockOpt::V6Only(read_int(e, tid, val, len)? != 0)
        }
        (libc::IPPROTO_UDP, UDP_CORK) => {
            udp_level(e, s, libc::ENOPROTOOPT)?;
            let on = read_int(e, tid, val, len)? != 0;
            let now = e.now;
            e.net.set_udp_cork(s, on, now)?;
            return Ok(Out::Return(0));
        }
        (level, name) if accepted(level, name) => {
            let bytes = e.read_mem(tid, val, (len as usize).min(64))?;
            let timeo = matches!(name, libc::SO_RCVTIMEO | libc::SO_SNDTIMEO);
            if level == libc::SOL_SOCKET && timeo {
                timeval_checks(&bytes)?;
            }
            let cork = (level, name) == (libc::IPPROTO_TCP, libc::TCP_CORK);
            if cork && e.net.sock_type(s) == SockType::Stream && e.net.domain(s) != Domain::Unix {
                let on = bytes.get(..4).is_some_and(|b| b != [0, 0, 0, 0]);
                let now = e.now;
                e.net.set_cork(s, on, now);
            }
            e.socks
                .entry(s)
                .or_default()
                .extra
                .insert((level, name), bytes);
            return Ok(Out::Return(0));
        }
        _ => return Err(Errno::ENOPROTOOPT),
    };
    e.net.set_option(s, opt)?;
    Ok(Out::Return(0))
}

/// A `SO_RCVTIMEO`/`SO_SNDTIMEO` value as `sock_copy_user_timeval` and
/// `sock_set_timeout` check it: a whole `struct timeval` (`EINVAL`), microseconds in
/// `0..1000000` (`EDOM`).
fn timeval_checks(bytes: &[u8]) -> Result<(), Errno> {
    if bytes.len() < std::mem::size_of::<libc::timeval>() {
        return Err(Errno::EINVAL);
    }
    let tv: libc::timeval = crate::sys::pod_read(bytes);
    if !(0..1_000_000).contains(&tv.tv_usec) {
        return Err(Errno::EDOM);
    }
    Ok(())
}

/// The highest option name Linux defines at `IPPROTO_IP` (`IP_PROTOCOL`) and at
/// `IPPROTO_IPV6` (`IPV6_RECVERR_RFC4884` is 31, the multicast ones end at 80).
const IP_MAX_OPT: i32 = 52;
const IPV6_MAX_OPT: i32 = 80;

/// `UDP_CORK` (`<netinet/udp.h>`).
const UDP_CORK: i32 = 1;

/// Whether `IPPROTO_UDP` options apply to socket `s`: a UDP socket's do; an AF_UNIX
/// socket refuses the level (`EOPNOTSUPP`), a TCP socket with `tcp` (`ENOPROTOOPT` to
/// `setsockopt`, `EOPNOTSUPP` to `getsockopt`), as Linux does.
fn udp_level(e: &World, s: usize, tcp: i32) -> Result<(), Errno> {
    match (e.net.domain(s), e.net.sock_type(s)) {
        (Domain::Unix, _) => Err(Errno::EOPNOTSUPP),
        (_, SockType::Stream) => Err(Errno(tcp)),
        (_, SockType::Dgram) => Ok(()),
    }
}

/// Options accepted and remembered but not modelled.
fn accepted(level: i32, name: i32) -> bool {
    match level {
        libc::SOL_SOCKET => matches!(
            name,
            libc::SO_RCVTIMEO
                | libc::SO_SNDTIMEO
                | libc::SO_PRIORITY
                | libc::SO_RCVLOWAT
                | libc::SO_SNDLOWAT
                | libc::SO_OOBINLINE
                | libc::SO_TIMESTAMP
                | libc::SO_PASSCRED
                | libc::SO_DONTROUTE
                | libc::SO_SNDBUFFORCE
                | libc::SO_RCVBUFFORCE
                | libc::SO_MARK
                | libc::SO_BINDTODEVICE
                | libc::SO_ZEROCOPY
                | libc::SO_INCOMING_CPU
                | libc::SO_BUSY_POLL
        ),
        libc::IPPROTO_TCP => matches!(
            name,
            libc::TCP_KEEPIDLE
                | libc::TCP_KEEPINTVL
                | libc::TCP_KEEPCNT
                | libc::TCP_CORK
                | libc::TCP_DEFER_ACCEPT
                | libc::TCP_QUICKACK
                | libc::TCP_USER_TIMEOUT
                | libc::TCP_FASTOPEN
                | libc::TCP_MAXSEG
                | libc::TCP_SYNCNT
                | libc::TCP_LINGER2
                | libc::TCP_WINDOW_CLAMP
                | libc::TCP_NOTSENT_LOWAT
                | libc::TCP_CONGESTION
        ),
        libc::IPPROTO_IP => (1..=IP_MAX_OPT).contains(&name),
        libc::IPPROTO_IPV6 => (1..=IPV6_MAX_OPT).contains(&name),
        _ => false,
    }
}

/// Linux's defaults for the accepted-but-unmodelled options.
fn default_value(level: i32, name: i32) -> Vec<u8> {
    let int = |v: i32| v.to_ne_bytes().to_vec();
    match (level, name) {
        (libc::SOL_SOCKET, libc::SO_RCVTIMEO | libc::SO_SNDTIMEO) => vec![0; 16],
        (libc::SOL_SOCKET, libc::SO_RCVLOWAT | libc::SO_SNDLOWAT) => int(1),
        (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE) => int(7200),
        (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL) => int(75),
        (libc::IPPROTO_TCP, libc::TCP_KEEPCNT) => int(9),
        (libc::IPPROTO_TCP, libc::TCP_MAXSEG) => int(536),
        (libc::IPPROTO_TCP, libc::TCP_SYNCNT) => int(6),
        (libc::IPPROTO_TCP, libc::TCP_LINGER2) => int(60),
        (libc::IPPROTO_TCP, libc::TCP_CONGESTION) => b"cubic\0".to_vec(),
        (libc::IPPROTO_IP, libc::IP_TTL) => int(64),
        _ => int(0),
    }
}

/// Whether socket `s` listens.
pub(crate) fn listening(e: &World, s: usize) -> bool {
    matches!(
        e.net.get_option(s, SockOptName::AcceptConn),
        Ok(SockOpt::AcceptConn(true))
    )
}

/// The `SO_RCVTIMEO` (or `SO_SNDTIMEO`) of a socket, if set and non-zero.
pub(crate) fn timeout(e: &World, s: usize, name: i32) -> Option<u64> {
    let v = e.socks.get(&s)?.extra.get(&(libc::SOL_SOCKET, name))?;
    let tv: libc::timeval = crate::sys::pod_read(v);
    let ns = super::guest::nanos(tv.tv_sec.max(0) as u64, tv.tv_usec.max(0) as u64, 1000);
    (ns > 0).then_some(ns)
}

/// The options that describe socket `s` itself (its pending error, type, domain,
/// protocol, linger setting, peer's credentials); `None` for any other.
fn about_the_socket(
    e: &mut World,
    s: usize,
    level: i32,
    name: i32,
) -> Result<Option<Vec<u8>>, Errno> {
    if level != libc::SOL_SOCKET {
        return Ok(None);
    }
    let int = |v: i32| Some(v.to_ne_bytes().to_vec());
    Ok(match name {
        libc::SO_ERROR => int(e.net.take_error(s).map_or(0, |x| x.0)),
        libc::SO_TYPE => int(match e.net.sock_type(s) {
            SockType::Stream => libc::SOCK_STREAM,
            SockType::Dgram => libc::SOCK_DGRAM,
        }),
        libc::SO_DOMAIN => int(match e.net.domain(s) {
            Domain::Inet => libc::AF_INET,
            Domain::Inet6 => libc::AF_INET6,
            Domain::Unix => libc::AF_UNIX,
        }),
        libc::SO_PROTOCOL => int(match (e.net.domain(s), e.net.sock_type(s)) {
            (Domain::Unix, _) => 0,
            (_, SockType::Stream) => libc::IPPROTO_TCP,
            (_, SockType::Dgram) => libc::IPPROTO_UDP,
        }),
        libc::SO_LINGER => Some(match e.net.get_option(s, SockOptName::Linger)? {
            SockOpt::Linger(l) => {
                let v = libc::linger {
                    l_onoff: l.is_some() as i32,
                    l_linger: l.unwrap_or(0) as i32,
                };
                crate::sys::pod_bytes(&v).to_vec()
            }
            _ => vec![0; 8],
        }),
        libc::SO_PEERCRED => {
            let peer = e.net.peer_of(s).ok_or(Errno::ENOTCONN)?;
            let pid = e.socks.get(&peer).map_or(0, |m| m.owner);
            Some(
                [pid, 0, 0]
                    .iter()
                    .flat_map(|v: &i32| v.to_ne_bytes())
                    .collect(),
            )
        }
        _ => None,
    })
}

/// The options the network model keeps, by level and name.
fn modelled(level: i32, name: i32) -> Option<SockOptName> {
    Some(match (level, name) {
        (libc::SOL_SOCKET, libc::SO_REUSEADDR) => SockOptName::ReuseAddr,
        (libc::SOL_SOCKET, libc::SO_REUSEPORT) => SockOptName::ReusePort,
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE) => SockOptName::KeepAlive,
        (libc::SOL_SOCKET, libc::SO_BROADCAST) => SockOptName::Broadcast,
        (libc::SOL_SOCKET, libc::SO_RCVBUF) => SockOptName::RcvBuf,
        (libc::SOL_SOCKET, libc::SO_SNDBUF) => SockOptName::SndBuf,
        (libc::SOL_SOCKET, libc::SO_ACCEPTCONN) => SockOptName::AcceptConn,
        (libc::IPPROTO_TCP, libc::TCP_NODELAY) => SockOptName::NoDelay,
        (libc::IPPROTO_IPV6, libc::IPV6_V6ONLY) => SockOptName::V6Only,
        _ => return None,
    })
}

/// A modelled option of socket `s` as the `int` `getsockopt` returns.
fn option_int(e: &World, s: usize, n: SockOptName) -> Result<i32, Errno> {
    Ok(match e.net.get_option(s, n)? {
        SockOpt::ReuseAddr(b)
        | SockOpt::ReusePort(b)
        | SockOpt::KeepAlive(b)
        | SockOpt::NoDelay(b)
        | SockOpt::V6Only(b)
        | SockOpt::Broadcast(b)
        | SockOpt::AcceptConn(b) => b as i32,
        SockOpt::RcvBuf(n) | SockOpt::SndBuf(n) => n as i32,
        SockOpt::Linger(l) => l.is_some() as i32,
    })
}

/// `getsockopt(fd, level, name, value, *len)` on a virtual socket.
pub fn getsockopt(e: &mut World, tid: Vtid, s: usize, c: Getsockopt) -> Res {
    let (level, name) = (c.level.get(), c.optname.get());
    let (val, lenp) = (c.optval.addr(), c.optlen.addr());
    if !has_level(e, s, level) {
        return Err(no_level(e, s, true));
    }
    // The length is read (EFAULT) and checked (EINVAL) before the option's name.
    let cap: i32 = e.read_val(tid, lenp)?;
    if cap < 0 {
        return Err(Errno::EINVAL);
    }
    let bytes = match about_the_socket(e, s, level, name)? {
        Some(b) => b,
        None if (level, name) == (libc::IPPROTO_UDP, UDP_CORK) => {
            udp_level(e, s, libc::EOPNOTSUPP)?;
            i32::from(e.net.udp_cork(s)).to_ne_bytes().to_vec()
        }
        None if accepted(level, name) => {
            match e.socks.get(&s).and_then(|m| m.extra.get(&(level, name))) {
                Some(v) => v.clone(),
                None => default_value(level, name),
            }
        }
        None => {
            let n = modelled(level, name).ok_or(Errno::ENOPROTOOPT)?;
            option_int(e, s, n)?.to_ne_bytes().to_vec()
        }
    };
    let n = bytes.len().min(cap as usize);
    e.write_mem(tid, val, &bytes[..n])?;
    e.write_val(tid, lenp, &(n as u32))?;
    Ok(Out::Return(0))
}
