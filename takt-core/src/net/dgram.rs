//! Datagram sockets: UDP (datagrams with boundaries travel with latency and jitter, may be
//! reordered between sends, are dropped when the receive queue is full or nobody is bound)
//! and AF_UNIX datagram sockets (reliable and ordered within a node: a full receive queue
//! blocks the sender instead of dropping).
//!
//! UDP corking, as Linux's `udp_sendmsg`: a send with `MSG_MORE`, or any send while
//! `UDP_CORK` is set, appends to a pending datagram instead of sending one. The first
//! send fixes its destination (later sends' addresses are ignored); a send without
//! `MSG_MORE` on an uncorked socket, or `UDP_CORK` turned off, sends it as one datagram.
//! A send that would make it larger than a datagram can be fails with `EMSGSIZE` and
//! discards it; closing the socket discards it too.

use super::addr::{self, Ep, UnixFile};
use super::socket::{Kind, Local};
use super::{
    Domain, Ev, NetError, Network, NodeId, Readiness, RecvMeta, SockAddr, SockId, SockType,
};
use crate::errno::Errno;
use crate::time::VTime;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};

/// Largest UDP payload over IPv4 (65535 - 20 - 8).
const UDP_MAX_V4: usize = 65_507;
/// Largest UDP payload over IPv6 without jumbograms (65535 - 8).
const UDP_MAX_V6: usize = 65_527;

/// One received datagram.
#[derive(Debug)]
pub(crate) struct Datagram {
    pub(crate) from: SockAddr,
    pub(crate) payload: Vec<u8>,
    /// The sending socket and its send's number.
    pub(crate) msg: (SockId, u32),
}

/// The default destination of a connected datagram socket.
#[derive(Clone, Debug)]
pub(crate) enum DgPeer {
    Ip(Ep),
    Unix { sock: SockId, path: Vec<u8> },
}

/// The datagram half of a socket.
#[derive(Debug, Default)]
pub(crate) struct Dgram {
    pub(crate) queue: VecDeque<Datagram>,
    /// Bytes queued, plus (AF_UNIX) bytes in flight to us.
    pub(crate) bytes: usize,
    pub(crate) peer: Option<DgPeer>,
    /// AF_UNIX: delivery time of our last datagram (keeps them in order).
    pub(crate) tx_last: VTime,
    /// `SOCK_SEQPACKET`: datagrams, but reading returns 0 (end of stream) once the peer
    /// is gone and nothing is queued.
    pub(crate) seqpacket: bool,
    /// UDP: `UDP_CORK` is set.
    pub(crate) cork: bool,
    /// UDP: the datagram `MSG_MORE` or `UDP_CORK` is collecting, and where it goes.
    pub(crate) pending: Option<Pending>,
}

/// A UDP datagram being collected by corked sends.
#[derive(Debug)]
pub(crate) struct Pending {
    /// Its destination (the first send's).
    dst: Ep,
    /// Whether the socket was connected at the first send.
    connected: bool,
    /// What was appended so far.
    payload: Vec<u8>,
}

impl Network {
    /// Whether a `SOCK_SEQPACKET` socket's peer has closed (its reads then see EOF).
    fn seqpacket_hangup(&self, d: &Dgram) -> bool {
        d.seqpacket
            && !matches!(&d.peer, Some(DgPeer::Unix { sock, .. }) if self.socks.contains_key(sock))
    }
}

impl Dgram {
    /// The peer of a connected UDP socket.
    pub(crate) fn peer_ep(&self) -> Option<Ep> {
        match &self.peer {
            Some(DgPeer::Ip(ep)) => Some(*ep),
            _ => None,
        }
    }
}

impl Network {
    fn dgram_mut(&mut self, s: SockId) -> Option<&mut Dgram> {
        match &mut self.socks.get_mut(&s)?.kind {
            Kind::Dgram(d) => Some(d),
            Kind::Stream(_) => None,
        }
    }

    /// Autobinds an unbound UDP socket to the wildcard address and an ephemeral port.
    fn udp_autobind(&mut self, s: SockId) -> Result<(), Errno> {
        let sock = self.sock(s)?;
        if sock.local.is_some() {
            return Ok(());
        }
        let ep = Ep::wildcard(sock.domain);
        self.bind_ip(s, ep, false).map_err(|_| Errno::EAGAIN)
    }

    /// Parses a UDP destination given by the user.
    fn udp_dst(&self, s: SockId, addr: &SockAddr) -> Result<Ep, Errno> {
        let sock = self.sock(s)?;
        let dst = addr::parse(sock.domain, addr)?.for_dst();
        if sock.v6only() && dst.ip.is_ipv4() {
            return Err(Errno::ENETUNREACH);
        }
        Ok(dst)
    }

    pub(super) fn dgram_connect(
        &mut self,
        s: SockId,
        addr: &SockAddr,
        file: Option<UnixFile>,
    ) -> Result<(), Errno> {
        let sock = self.sock(s)?;
        let node = sock.node;
        let peer = if sock.domain == Domain::Unix {
            let SockAddr::Unix(path) = addr else {
                return Err(Errno::EINVAL);
            };
            let (target, path) = self.lookup_unix(node, path, file)?;
            if self.sock(target)?.ty != SockType::Dgram {
                return Err(Errno::EPROTOTYPE);
            }
            DgPeer::Unix { sock: target, path }
        } else {
            let dst = self.udp_dst(s, addr)?;
            self.route(node, dst.ip)?;
            self.udp_autobind(s)?;
            let src_ip = self.source_ip(node, dst.ip);
            let sock = self.sock_mut(s)?;
            if let Some(Local::Ip(ep)) = &mut sock.local {
                if ep.ip.is_unspecified() {
                    ep.ip = src_ip;
                }
            }
            DgPeer::Ip(dst)
        };
        if let Some(d) = self.dgram_mut(s) {
            d.peer = Some(peer);
        }
        Ok(())
    }

    /// Dissolves the association of a connected datagram socket (`connect(AF_UNSPEC)`).
    pub(super) fn dgram_disconnect(&mut self, s: SockId) -> Result<(), Errno> {
        let d = self.dgram_mut(s).ok_or(Errno::EBADF)?;
        d.peer = None;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn dgram_send(
        &mut self,
        s: SockId,
        data: &[u8],
        to: Option<&SockAddr>,
        file: Option<UnixFile>,
        now: VTime,
        more: bool,
    ) -> Result<usize, NetError> {
        let sock = self.sock_mut(s)?;
        if let Some(e) = sock.err.take() {
            return Err(e.into());
        }
        if sock.shut_wr {
            return Err(Errno::EPIPE.into());
        }
        if sock.domain == Domain::Unix {
            return self.unix_dgram_send(s, data, to, file, now);
        }
        let max = if sock.domain == Domain::Inet6 {
            UDP_MAX_V6
        } else {
            UDP_MAX_V4
        };
        if data.len() > max {
            return Err(Errno::EMSGSIZE.into());
        }
        let cork = more || sock.dgram().is_some_and(|d| d.cork);
        let d = self.dgram_mut(s).ok_or(Errno::EINVAL)?;
        if let Some(p) = &mut d.pending {
            if p.payload.len().saturating_add(data.len()) > max {
                d.pending = None;
                return Err(Errno::EMSGSIZE.into());
            }
            p.payload.extend_from_slice(data);
            if !cork {
                self.udp_push(s, now)?;
            }
            return Ok(data.len());
        }
        let (dst, connected) = self.udp_target(s, to)?;
        if cork {
            let d = self.dgram_mut(s).ok_or(Errno::EINVAL)?;
            d.pending = Some(Pending {
                dst,
                connected,
                payload: data.to_vec(),
            });
            return Ok(data.len());
        }
        self.udp_emit(s, dst, connected, data.to_vec(), now)?;
        Ok(data.len())
    }

    /// Where a UDP send on `s` goes (to `to`, else the connected peer) and whether `s` is
    /// connected, after Linux's checks; binds `s` to an ephemeral port if it is not bound.
    fn udp_target(&mut self, s: SockId, to: Option<&SockAddr>) -> Result<(Ep, bool), NetError> {
        let sock = self.sock(s)?;
        let (node, broadcast_ok) = (sock.node, sock.opts.broadcast);
        let peer = sock.dgram().and_then(Dgram::peer_ep);
        let dst = match (to, peer) {
            (Some(a), _) => self.udp_dst(s, a)?,
            (None, Some(p)) => p,
            (None, None) => return Err(Errno::EDESTADDRREQ.into()),
        };
        if dst.port == 0 {
            return Err(Errno::EINVAL.into());
        }
        if dst.ip == IpAddr::V4(Ipv4Addr::BROADCAST) {
            if !broadcast_ok {
                return Err(Errno::EACCES.into());
            }
        } else {
            self.route(node, dst.ip)?;
        }
        self.udp_autobind(s)?;
        // ICMP port-unreachable only reaches connected sockets (as on Linux).
        Ok((dst, peer.is_some()))
    }

    /// Sends the datagram corked sends collected on `s` (nothing if there is none).
    pub(super) fn udp_push(&mut self, s: SockId, now: VTime) -> Result<(), NetError> {
        let Some(p) = self.dgram_mut(s).and_then(|d| d.pending.take()) else {
            return Ok(());
        };
        self.udp_emit(s, p.dst, p.connected, p.payload, now)
    }

    /// `UDP_CORK` on or off on UDP socket `s` (off sends what it collected).
    pub fn set_udp_cork(&mut self, s: SockId, on: bool, now: VTime) -> Result<(), Errno> {
        let now = self.touch(now);
        let d = self.dgram_mut(s).ok_or(Errno::ENOPROTOOPT)?;
        d.cork = on;
        if !on {
            self.udp_push(s, now).map_err(|e| match e {
                NetError::Errno(x) => x,
                _ => Errno::EAGAIN,
            })?;
        }
        Ok(())
    }

    /// Whether `UDP_CORK` is set on `s`.
    pub fn udp_cork(&self, s: SockId) -> bool {
        self.sock(s)
            .ok()
            .and_then(|sock| sock.dgram())
            .is_some_and(|d| d.cork)
    }

    /// Whether a send on UDP socket `s` (with `MSG_MORE`: `more`) sends a datagram now,
    /// rather than adding to one that corked sends collect.
    pub fn udp_sends_now(&self, s: SockId, more: bool) -> bool {
        !more && !self.udp_cork(s)
    }

    /// Drops what corked sends collected on `s` (a send that pushes it was lost).
    pub fn udp_discard_pending(&mut self, s: SockId) {
        if let Some(d) = self.dgram_mut(s) {
            d.pending = None;
        }
    }

    /// Emits one UDP datagram from `s` to `dst` (every node for the broadcast address).
    fn udp_emit(
        &mut self,
        s: SockId,
        dst: Ep,
        connected: bool,
        payload: Vec<u8>,
        now: VTime,
    ) -> Result<(), NetError> {
        let node = self.sock(s)?.node;
        let targets: Vec<NodeId> = if dst.ip == IpAddr::V4(Ipv4Addr::BROADCAST) {
            (0..self.nodes.len()).collect()
        } else {
            vec![self.route(node, dst.ip)?]
        };
        let local = self.sock(s)?.local_ep().ok_or(Errno::EINVAL)?;
        let ip = if local.ip.is_unspecified() {
            self.source_ip(node, dst.ip)
        } else {
            local.ip
        };
        let src = Ep {
            ip,
            port: local.port,
        };
        let msg = self.next_msg(s);
        for target in targets {
            let ev = Ev::Dgram {
                dst,
                src,
                from: s,
                connected,
                payload: payload.clone(),
                msg,
            };
            self.emit(now, node, target, ev);
        }
        Ok(())
    }

    /// The largest message datagram socket `s` takes in one send (`EMSGSIZE` above),
    /// `None` for a stream socket: callers check a guest's length against it before
    /// reading the message.
    pub fn max_datagram(&self, s: SockId) -> Option<usize> {
        let sock = self.sock(s).ok()?;
        sock.dgram()?;
        Some(match sock.domain {
            Domain::Unix => sock.sndbuf(&self.cfg).saturating_sub(32),
            Domain::Inet6 => UDP_MAX_V6,
            Domain::Inet => UDP_MAX_V4,
        })
    }

    fn unix_dgram_send(
        &mut self,
        s: SockId,
        data: &[u8],
        to: Option<&SockAddr>,
        file: Option<UnixFile>,
        now: VTime,
    ) -> Result<usize, NetError> {
        let sock = self.sock(s)?;
        let node = sock.node;
        let from = match &sock.local {
            Some(Local::Unix(p)) => SockAddr::Unix(p.clone()),
            _ => SockAddr::unnamed(),
        };
        if data.len() > sock.sndbuf(&self.cfg).saturating_sub(32) {
            return Err(Errno::EMSGSIZE.into());
        }
        let target = match (to, sock.dgram().and_then(|d| d.peer.clone())) {
            (Some(SockAddr::Unix(path)), _) => self.lookup_unix(node, path, file)?.0,
            (Some(_), _) => return Err(Errno::EINVAL.into()),
            (None, Some(DgPeer::Unix { sock, .. })) if self.socks.contains_key(&sock) => sock,
            (None, Some(_)) => return Err(Errno::ECONNREFUSED.into()),
            (None, None) => return Err(Errno::ENOTCONN.into()),
        };
        let tsock = self.sock(target)?;
        let Some(td) = tsock.dgram() else {
            return Err(Errno::EPROTOTYPE.into());
        };
        if matches!(&td.peer, Some(DgPeer::Unix { sock, .. }) if *sock != s) {
            return Err(Errno::EPERM.into());
        }
        if tsock.shut_rd {
            return Err(Errno::EPIPE.into());
        }
        if td.bytes > 0 && td.bytes + data.len() > tsock.rcvbuf(&self.cfg) {
            let tsock = self.sock_mut(target)?;
            if !tsock.waiters.contains(&s) {
                tsock.waiters.push(s);
            }
            self.sock_mut(s)?.blocked_on = Some(target);
            return Err(NetError::WouldBlock);
        }
        if let Some(td) = self.dgram_mut(target) {
            td.bytes += data.len();
        }
        let msg = self.next_msg(s);
        self.emit_ordered(
            s,
            now,
            Ev::UnixDgram {
                to: target,
                from,
                payload: data.to_vec(),
                msg: (s, msg),
            },
        );
        Ok(data.len())
    }

    pub(super) fn dgram_recv(
        &mut self,
        s: SockId,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<RecvMeta, NetError> {
        let hangup = self
            .sock(s)?
            .dgram()
            .is_some_and(|d| self.seqpacket_hangup(d));
        let sock = self.sock_mut(s)?;
        if let Some(e) = sock.err.take() {
            return Err(e.into());
        }
        let (unix, shut_rd) = (sock.domain == Domain::Unix, sock.shut_rd || hangup);
        let Kind::Dgram(d) = &mut sock.kind else {
            return Err(Errno::EINVAL.into());
        };
        let Some(dg) = d.queue.front() else {
            return if shut_rd {
                Ok(RecvMeta {
                    len: 0,
                    full_len: 0,
                    from: None,
                })
            } else {
                Err(NetError::WouldBlock)
            };
        };
        let full_len = dg.payload.len();
        let len = full_len.min(buf.len());
        buf[..len].copy_from_slice(&dg.payload[..len]);
        let from = Some(dg.from.clone());
        let (msg_sock, msg_seq) = dg.msg;
        if !peek {
            d.queue.pop_front();
            d.bytes = d.bytes.saturating_sub(full_len);
            if unix {
                self.wake_waiters(s);
            }
        }
        self.note_msg(false, msg_sock, msg_seq);
        Ok(RecvMeta {
            len,
            full_len,
            from,
        })
    }

    pub(super) fn dgram_readiness(&self, sock: &super::socket::Socket, d: &Dgram) -> Readiness {
        let hangup = self.seqpacket_hangup(d);
        Readiness {
            readable: !d.queue.is_empty() || sock.shut_rd || hangup || sock.err.is_some(),
            writable: sock.blocked_on.is_none(),
            hup: (sock.shut_rd && sock.shut_wr) || hangup,
            rdhup: sock.shut_rd || hangup,
            error: sock.err.is_some(),
        }
    }

    /// A UDP datagram arrives at `node`; nobody bound: dropped (ICMP back if connected).
    pub(super) fn on_dgram(&mut self, t: VTime, from_node: NodeId, node: NodeId, ev: Ev) {
        let Ev::Dgram {
            dst,
            src,
            from,
            connected,
            payload,
            msg,
        } = ev
        else {
            return;
        };
        let Some(r) = self.find_udp(node, dst, src) else {
            if connected {
                self.emit(
                    t,
                    node,
                    from_node,
                    Ev::PortUnreachable {
                        to: from,
                        peer: dst,
                    },
                );
            }
            return;
        };
        let Ok(sock) = self.sock(r) else { return };
        let (domain, cap) = (sock.domain, sock.rcvbuf(&self.cfg));
        let Some(d) = self.dgram_mut(r) else { return };
        // Like Linux, a queue below its limit takes one more datagram of any size.
        if d.bytes >= cap {
            return;
        }
        d.bytes += payload.len();
        d.queue.push_back(Datagram {
            from: src.to_sockaddr(domain),
            payload,
            msg: (from, msg),
        });
        self.dirty.push(r);
    }

    /// An AF_UNIX datagram arrives (its bytes were reserved when it was sent).
    pub(super) fn on_unix_dgram(
        &mut self,
        to: SockId,
        from: SockAddr,
        payload: Vec<u8>,
        msg: (SockId, u32),
    ) {
        if let Some(d) = self.dgram_mut(to) {
            d.queue.push_back(Datagram { from, payload, msg });
            self.dirty.push(to);
        }
    }

    /// ICMP port unreachable for a connected UDP socket: `SO_ERROR = ECONNREFUSED`.
    pub(super) fn on_port_unreachable(&mut self, to: SockId, peer: Ep) {
        let Some(sock) = self.socks.get_mut(&to) else {
            return;
        };
        if sock.dgram().and_then(Dgram::peer_ep) == Some(peer) {
            sock.err = Some(Errno::ECONNREFUSED);
            self.dirty.push(to);
        }
    }
}
