//! The socket record every kind of socket shares (node, family, binding, shutdown flags,
//! pending error, waiters) and the socket options the model understands.

use super::addr::Ep;
use super::dgram::Dgram;
use super::stream::{Phase, Stream};
use super::{Domain, NetConfig, NodeId, SockId, SockType};
use crate::errno::Errno;

/// Linux's default `net.core.rmem_max` / `wmem_max`: the most `SO_RCVBUF`/`SO_SNDBUF` grant.
const BUF_MAX: usize = 212_992;
/// Linux's floor for `SO_RCVBUF` (after doubling).
const RCVBUF_MIN: usize = 2_304;
/// Linux's floor for `SO_SNDBUF` (after doubling).
const SNDBUF_MIN: usize = 4_608;

/// A socket option with its value, as `setsockopt` sets it and `getsockopt` reads it back.
///
/// Options the model does not know are the engine's business (it answers `ENOPROTOOPT` or
/// accepts them silently).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SockOpt {
    /// `SO_REUSEADDR`: share a port with non-listening sockets that also set it.
    ReuseAddr(bool),
    /// `SO_REUSEPORT`: share a port (even listening) with sockets that also set it.
    ReusePort(bool),
    /// `SO_KEEPALIVE` (recorded; keepalive probes are not modelled).
    KeepAlive(bool),
    /// `TCP_NODELAY` (recorded; Nagle is not modelled, but turning it on sends what
    /// `MSG_MORE` or `TCP_CORK` held back). TCP only.
    NoDelay(bool),
    /// `SO_RCVBUF` in bytes. Like Linux, a set value is clamped to 212992 and doubled, and
    /// reads return the doubled value. It bounds what a peer may have in flight to us.
    RcvBuf(usize),
    /// `SO_SNDBUF` in bytes, clamped and doubled like [`SockOpt::RcvBuf`].
    SndBuf(usize),
    /// `SO_LINGER`: `None` = off, `Some(seconds)`. `Some(0)` makes `close` send RST.
    /// Other timeouts behave like a normal close (the model never blocks in `close`).
    Linger(Option<u32>),
    /// `IPV6_V6ONLY`: an AF_INET6 socket bound to `::` does not receive IPv4 traffic.
    V6Only(bool),
    /// `SO_BROADCAST`: allows UDP sends to 255.255.255.255.
    Broadcast(bool),
    /// `SO_ACCEPTCONN` (read-only): whether the socket is listening.
    AcceptConn(bool),
}

/// Which option [`super::Network::get_option`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SockOptName {
    /// `SO_REUSEADDR`
    ReuseAddr,
    /// `SO_REUSEPORT`
    ReusePort,
    /// `SO_KEEPALIVE`
    KeepAlive,
    /// `TCP_NODELAY`
    NoDelay,
    /// `SO_RCVBUF`
    RcvBuf,
    /// `SO_SNDBUF`
    SndBuf,
    /// `SO_LINGER`
    Linger,
    /// `IPV6_V6ONLY`
    V6Only,
    /// `SO_BROADCAST`
    Broadcast,
    /// `SO_ACCEPTCONN`
    AcceptConn,
}

impl SockOpt {
    /// The name of this option.
    pub fn name(&self) -> SockOptName {
        match self {
            SockOpt::ReuseAddr(_) => SockOptName::ReuseAddr,
            SockOpt::ReusePort(_) => SockOptName::ReusePort,
            SockOpt::KeepAlive(_) => SockOptName::KeepAlive,
            SockOpt::NoDelay(_) => SockOptName::NoDelay,
            SockOpt::RcvBuf(_) => SockOptName::RcvBuf,
            SockOpt::SndBuf(_) => SockOptName::SndBuf,
            SockOpt::Linger(_) => SockOptName::Linger,
            SockOpt::V6Only(_) => SockOptName::V6Only,
            SockOpt::Broadcast(_) => SockOptName::Broadcast,
            SockOpt::AcceptConn(_) => SockOptName::AcceptConn,
        }
    }
}

/// The option values of one socket; accepted sockets inherit their listener's.
#[derive(Clone, Debug, Default)]
pub(crate) struct Opts {
    pub(crate) reuseaddr: bool,
    pub(crate) reuseport: bool,
    pub(crate) keepalive: bool,
    pub(crate) nodelay: bool,
    /// Effective (doubled) `SO_RCVBUF`, if set.
    pub(crate) rcvbuf: Option<usize>,
    /// Effective (doubled) `SO_SNDBUF`, if set.
    pub(crate) sndbuf: Option<usize>,
    pub(crate) linger: Option<u32>,
    pub(crate) v6only: bool,
    pub(crate) broadcast: bool,
}

/// What a socket is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Local {
    /// An IP endpoint (the address may be a wildcard).
    Ip(Ep),
    /// An AF_UNIX name (accepted sockets carry their listener's name without owning it).
    Unix(Vec<u8>),
}

/// The per-type half of a socket.
#[derive(Debug)]
pub(crate) enum Kind {
    /// TCP or AF_UNIX stream.
    Stream(Stream),
    /// UDP or AF_UNIX datagram.
    Dgram(Dgram),
}

/// One socket of the model.
#[derive(Debug)]
pub(crate) struct Socket {
    pub(crate) node: NodeId,
    pub(crate) domain: Domain,
    pub(crate) ty: SockType,
    pub(crate) local: Option<Local>,
    /// The socket file of a path it is bound to (what finds it; see [`super::UnixFile`]).
    pub(crate) unix_file: Option<super::UnixFile>,
    /// Bound by the user to a non-zero port (or a path): kept when a connection dies.
    pub(crate) explicit_bind: bool,
    pub(crate) opts: Opts,
    /// `SO_ERROR`: reported (and cleared) by the next operation that looks at it.
    pub(crate) err: Option<Errno>,
    pub(crate) shut_rd: bool,
    pub(crate) shut_wr: bool,
    /// Waiting for room at this socket (a full AF_UNIX backlog or datagram queue).
    pub(crate) blocked_on: Option<SockId>,
    /// Sockets waiting for room here; woken (reported changed) when room appears.
    pub(crate) waiters: Vec<SockId>,
    pub(crate) kind: Kind,
    /// How many sends (messages) this socket has made: the next one's number.
    pub(crate) tx_seq: u32,
    /// Bytes its sends accepted (what they returned), over its life.
    pub(crate) tx_bytes: u64,
    /// Bytes its receives consumed (peeks not counted), over its life.
    pub(crate) rx_bytes: u64,
}

impl Socket {
    /// A fresh, unbound socket.
    pub(crate) fn new(node: NodeId, domain: Domain, ty: SockType) -> Socket {
        let kind = match ty {
            SockType::Stream => Kind::Stream(Stream::new(node)),
            SockType::Dgram => Kind::Dgram(Dgram::default()),
        };
        Socket {
            node,
            domain,
            ty,
            local: None,
            unix_file: None,
            explicit_bind: false,
            opts: Opts::default(),
            err: None,
            shut_rd: false,
            shut_wr: false,
            blocked_on: None,
            waiters: Vec::new(),
            kind,
            tx_seq: 0,
            tx_bytes: 0,
            rx_bytes: 0,
        }
    }

    pub(crate) fn stream(&self) -> Option<&Stream> {
        match &self.kind {
            Kind::Stream(st) => Some(st),
            Kind::Dgram(_) => None,
        }
    }

    pub(crate) fn dgram(&self) -> Option<&Dgram> {
        match &self.kind {
            Kind::Dgram(d) => Some(d),
            Kind::Stream(_) => None,
        }
    }

    /// The bound IP endpoint, if any.
    pub(crate) fn local_ep(&self) -> Option<Ep> {
        match &self.local {
            Some(Local::Ip(ep)) => Some(*ep),
            _ => None,
        }
    }

    /// Whether `IPV6_V6ONLY` is in force.
    pub(crate) fn v6only(&self) -> bool {
        self.domain == Domain::Inet6 && self.opts.v6only
    }

    pub(crate) fn is_listening(&self) -> bool {
        matches!(
            self.stream().map(|st| &st.phase),
            Some(Phase::Listening { .. })
        )
    }

    /// Effective receive buffer: what `SO_RCVBUF` reads back.
    pub(crate) fn rcvbuf(&self, cfg: &NetConfig) -> usize {
        self.opts.rcvbuf.unwrap_or(match self.ty {
            SockType::Stream => cfg.stream_buffer - cfg.stream_buffer / 2,
            SockType::Dgram => cfg.udp_buffer,
        })
    }

    /// Effective send buffer: what `SO_SNDBUF` reads back.
    pub(crate) fn sndbuf(&self, cfg: &NetConfig) -> usize {
        self.opts.sndbuf.unwrap_or(match self.ty {
            SockType::Stream => cfg.stream_buffer / 2,
            SockType::Dgram => cfg.udp_buffer,
        })
    }

    fn check_nodelay(&self) -> Result<(), Errno> {
        match (self.domain, self.ty) {
            (Domain::Unix, _) => Err(Errno::EOPNOTSUPP),
            (_, SockType::Dgram) => Err(Errno::ENOPROTOOPT),
            _ => Ok(()),
        }
    }

    pub(crate) fn set_option(&mut self, opt: SockOpt) -> Result<(), Errno> {
        let o = &mut self.opts;
        match opt {
            SockOpt::ReuseAddr(v) => o.reuseaddr = v,
            SockOpt::ReusePort(v) => o.reuseport = v,
            SockOpt::KeepAlive(v) => o.keepalive = v,
            SockOpt::NoDelay(v) => {
                self.check_nodelay()?;
                self.opts.nodelay = v;
            }
            SockOpt::RcvBuf(n) => o.rcvbuf = Some((n.min(BUF_MAX) * 2).max(RCVBUF_MIN)),
            SockOpt::SndBuf(n) => o.sndbuf = Some((n.min(BUF_MAX) * 2).max(SNDBUF_MIN)),
            SockOpt::Linger(l) => o.linger = l,
            SockOpt::V6Only(v) => {
                if self.domain != Domain::Inet6 {
                    return Err(Errno::ENOPROTOOPT);
                }
                if self.local.is_some() {
                    return Err(Errno::EINVAL);
                }
                self.opts.v6only = v;
            }
            SockOpt::Broadcast(v) => o.broadcast = v,
            SockOpt::AcceptConn(_) => return Err(Errno::ENOPROTOOPT),
        }
        Ok(())
    }

    pub(crate) fn get_option(&self, which: SockOptName, cfg: &NetConfig) -> Result<SockOpt, Errno> {
        let o = &self.opts;
        Ok(match which {
            SockOptName::ReuseAddr => SockOpt::ReuseAddr(o.reuseaddr),
            SockOptName::ReusePort => SockOpt::ReusePort(o.reuseport),
            SockOptName::KeepAlive => SockOpt::KeepAlive(o.keepalive),
            SockOptName::NoDelay => {
                self.check_nodelay()?;
                SockOpt::NoDelay(o.nodelay)
            }
            SockOptName::RcvBuf => SockOpt::RcvBuf(self.rcvbuf(cfg)),
            SockOptName::SndBuf => SockOpt::SndBuf(self.sndbuf(cfg)),
            SockOptName::Linger => SockOpt::Linger(o.linger),
            SockOptName::V6Only => {
                if self.domain != Domain::Inet6 {
                    return Err(Errno::ENOPROTOOPT);
                }
                SockOpt::V6Only(o.v6only)
            }
            SockOptName::Broadcast => SockOpt::Broadcast(o.broadcast),
            SockOptName::AcceptConn => SockOpt::AcceptConn(self.is_listening()),
        })
    }
}
