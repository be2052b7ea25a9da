//! Stream sockets as the syscalls see them: TCP (connect starts a SYN/SYN-ACK handshake;
//! data, FIN and RST travel as packets) and AF_UNIX stream sockets, which use the same byte
//! pipes but connect synchronously within a node. Packet arrival is in `stream_wire.rs`.
//!
//! A connection is two [`Stream`]s naming each other and sharing a connection number
//! (`conn`); every packet carries it, so a packet for an earlier connection of the same
//! socket is recognised and ignored. Bytes sent are in flight (counted by the sender) until
//! they land in the peer's receive buffer; `room = sndbuf + peer rcvbuf - in flight - peer's
//! unread bytes` (the two buffers default to half of `stream_buffer` each).

use super::addr::{self, Ep, UnixFile};
use super::socket::{Kind, Local, Socket};
use super::stream_wire::Syn;
use super::{
    Domain, Ev, NetError, Network, NodeId, Readiness, Shutdown, SockAddr, SockId, SockType,
};
use crate::errno::Errno;
use crate::time::{TimerId, VTime};
use std::collections::VecDeque;

/// Linux's `net.core.somaxconn`: the largest backlog.
const SOMAXCONN: usize = 4096;
/// How long TCP holds corked data (`MSG_MORE`, `TCP_CORK`) at most: Linux's probe timer
/// sends it after `TCP_RTO_MIN` (200 ms; checked on loopback).
const CORK_CEILING_NANOS: u64 = 200_000_000;
/// Corked data goes out once this much is held (a full loopback segment; Linux sends
/// full segments at once and holds only a partial one).
const CORK_FLUSH_BYTES: usize = 65_536;

/// Where a stream socket is in its life (roughly the kernel's `sk_state`).
#[derive(Debug)]
pub(crate) enum Phase {
    /// Never connected, or disconnected: may bind, listen or connect.
    Idle,
    /// Listening; `queue` holds established, not yet accepted sockets (at most `cap`).
    Listening { cap: usize, queue: VecDeque<SockId> },
    /// SYN sent, waiting for SYN-ACK or RST; `timer` is the connect timeout.
    SynSent { timer: TimerId, deadline: VTime },
    /// Established, possibly half-closed either way.
    Established,
    /// The connection died (refused, timed out, reset); the error is in `SO_ERROR`.
    Closed,
}

/// The socket-level state (the kernel's `sock->state`) that decides what `connect` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SockState {
    Unconnected,
    /// `connect` was called; its outcome has not been reported by a `connect` yet.
    Connecting,
    Connected,
}

/// The stream half of a socket.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) phase: Phase,
    pub(crate) state: SockState,
    /// Connection number shared by both ends.
    pub(crate) conn: u64,
    pub(crate) peer: Option<SockId>,
    pub(crate) peer_node: NodeId,
    pub(crate) peer_addr: Option<SockAddr>,
    /// Delivered, unread bytes.
    pub(crate) rx: VecDeque<u8>,
    /// Where the bytes of `rx` came from, in order: (sending socket, its send's
    /// number, bytes of it still unread).
    pub(crate) rx_msgs: VecDeque<(SockId, u32, usize)>,
    /// The peer's FIN arrived: EOF once `rx` is drained.
    pub(crate) rx_fin: bool,
    /// AF_UNIX: the peer closed or shut down reading, so sending fails with EPIPE.
    pub(crate) peer_rcv_shut: bool,
    /// Bytes sent but not yet in the peer's receive buffer.
    pub(crate) in_flight: usize,
    /// Delivery time of the last packet towards the peer (keeps the direction in order).
    pub(crate) tx_last: VTime,
    /// TCP: sends held back by `MSG_MORE` or `TCP_CORK` (their number and bytes, counted
    /// in `in_flight`), sent with the next send that does not cork, a shutdown or close,
    /// `TCP_CORK` off, `TCP_NODELAY` on, or after [`CORK_CEILING_NANOS`].
    pub(crate) held: Vec<(u32, Vec<u8>)>,
    /// The timer that sends `held` at the latest.
    pub(crate) held_timer: Option<TimerId>,
    /// `TCP_CORK` is set.
    pub(crate) cork: bool,
}

impl Stream {
    pub(crate) fn new(node: NodeId) -> Stream {
        Stream {
            phase: Phase::Idle,
            state: SockState::Unconnected,
            conn: 0,
            peer: None,
            peer_node: node,
            peer_addr: None,
            rx: VecDeque::new(),
            rx_msgs: VecDeque::new(),
            rx_fin: false,
            peer_rcv_shut: false,
            in_flight: 0,
            tx_last: VTime::ZERO,
            held: Vec::new(),
            held_timer: None,
            cork: false,
        }
    }
}

/// Copies the front of `rx` into `buf`.
fn copy_out(rx: &VecDeque<u8>, buf: &mut [u8]) -> usize {
    let n = rx.len().min(buf.len());
    let (a, b) = rx.as_slices();
    let na = a.len().min(n);
    buf[..na].copy_from_slice(&a[..na]);
    buf[na..n].copy_from_slice(&b[..n - na]);
    n
}

/// Whether `TCP_CORK` is set on `s`.
fn st_cork(net: &Network, s: SockId) -> bool {
    net.socks
        .get(&s)
        .and_then(Socket::stream)
        .is_some_and(|st| st.cork)
}

impl Network {
    pub(super) fn stream_mut(&mut self, s: SockId) -> Option<&mut Stream> {
        match &mut self.socks.get_mut(&s)?.kind {
            Kind::Stream(st) => Some(st),
            Kind::Dgram(_) => None,
        }
    }

    /// The live stream `s` if it belongs to connection `conn`.
    pub(super) fn conn_mut(&mut self, s: SockId, conn: u64) -> Option<&mut Socket> {
        self.socks
            .get_mut(&s)
            .filter(|sock| sock.stream().is_some_and(|st| st.conn == conn))
    }

    /// The connect deadline of `s` if it is still waiting for connection `conn`.
    pub(super) fn syn_deadline(&self, s: SockId, conn: u64) -> Option<VTime> {
        match self.socks.get(&s).and_then(Socket::stream) {
            Some(Stream {
                phase: Phase::SynSent { deadline, .. },
                conn: c,
                ..
            }) if *c == conn => Some(*deadline),
            _ => None,
        }
    }

    /// Bytes `s` may send now, and the capacity of its direction.
    pub(super) fn room(&self, s: SockId) -> (usize, usize) {
        let Some(sock) = self.socks.get(&s) else {
            return (0, 0);
        };
        let Some(st) = sock.stream() else {
            return (0, 0);
        };
        let peer = st.peer.and_then(|p| self.socks.get(&p));
        let rcv = peer.map_or(self.cfg.stream_buffer - self.cfg.stream_buffer / 2, |p| {
            p.rcvbuf(&self.cfg)
        });
        let unread = peer.and_then(Socket::stream).map_or(0, |p| p.rx.len());
        let cap = sock.sndbuf(&self.cfg) + rcv;
        (cap.saturating_sub(st.in_flight + unread), cap)
    }

    /// Back to a fresh socket after a failed or aborted connection (Linux `disconnect`).
    fn stream_reinit(&mut self, s: SockId) {
        self.release_autobind(s);
        let Some(sock) = self.socks.get_mut(&s) else {
            return;
        };
        sock.err = None;
        sock.shut_rd = false;
        sock.shut_wr = false;
        if let Kind::Stream(st) = &mut sock.kind {
            *st = Stream {
                conn: st.conn,
                tx_last: st.tx_last,
                ..Stream::new(sock.node)
            };
        }
    }

    pub(super) fn stream_listen(&mut self, s: SockId, backlog: i32) -> Result<(), Errno> {
        let cap = usize::try_from(backlog)
            .ok()
            .filter(|&b| b <= SOMAXCONN)
            .unwrap_or(SOMAXCONN)
            + 1;
        let sock = self.sock(s)?;
        let (domain, bound, local) = (sock.domain, sock.local.is_some(), sock.local_ep());
        let st = sock.stream().ok_or(Errno::EOPNOTSUPP)?;
        match st.phase {
            Phase::Listening { .. } => {}
            Phase::Idle if st.state == SockState::Unconnected => {
                if local.is_some_and(|ep| self.conflict(s, ep, true)) {
                    return Err(Errno::EADDRINUSE);
                }
                match (bound, domain) {
                    (true, _) => {}
                    (false, Domain::Unix) => return Err(Errno::EINVAL),
                    (false, _) => self.bind_ip(s, Ep::wildcard(domain), false)?,
                }
            }
            _ => return Err(Errno::EINVAL),
        }
        let st = self.stream_mut(s).ok_or(Errno::EBADF)?;
        match &mut st.phase {
            Phase::Listening { cap: c, .. } => *c = cap,
            phase => {
                *phase = Phase::Listening {
                    cap,
                    queue: VecDeque::new(),
                }
            }
        }
        Ok(())
    }

    pub(super) fn stream_connect(
        &mut self,
        s: SockId,
        addr: &SockAddr,
        file: Option<UnixFile>,
        now: VTime,
    ) -> Result<(), NetError> {
        let sock = self.sock_mut(s)?;
        let unix = sock.domain == Domain::Unix;
        let Kind::Stream(st) = &mut sock.kind else {
            return Err(Errno::EINVAL.into());
        };
        match (st.state, &st.phase) {
            (SockState::Connected, _) | (_, Phase::Listening { .. }) => {
                return Err(Errno::EISCONN.into())
            }
            (SockState::Connecting, Phase::SynSent { .. }) => return Err(Errno::EALREADY.into()),
            (SockState::Connecting, Phase::Established) => {
                st.state = SockState::Connected;
                return Ok(());
            }
            (SockState::Connecting, Phase::Closed) => {
                let e = sock.err.take().unwrap_or(Errno::ECONNABORTED);
                self.stream_reinit(s);
                return Err(e.into());
            }
            (_, Phase::Idle) => st.state = SockState::Unconnected,
            (SockState::Unconnected, _) => return Err(Errno::EISCONN.into()),
        }
        if unix {
            self.unix_connect(s, addr, file)
        } else {
            self.tcp_connect(s, addr, now)
        }
    }

    fn tcp_connect(&mut self, s: SockId, addr: &SockAddr, now: VTime) -> Result<(), NetError> {
        let sock = self.sock(s)?;
        let (node, domain, v6only, local) =
            (sock.node, sock.domain, sock.v6only(), sock.local_ep());
        let dst = addr::parse(domain, addr)?.for_dst();
        if v6only && dst.ip.is_ipv4() {
            return Err(Errno::ENETUNREACH.into());
        }
        let dst_node = self.route(node, dst.ip)?;
        let src_ip = self.source_ip(node, dst.ip);
        match local {
            None => self
                .bind_ip(
                    s,
                    Ep {
                        ip: src_ip,
                        port: 0,
                    },
                    false,
                )
                .map_err(|_| Errno::EADDRNOTAVAIL)?,
            Some(ep) if ep.ip.is_unspecified() => {
                self.sock_mut(s)?.local = Some(Local::Ip(Ep {
                    ip: src_ip,
                    port: ep.port,
                }))
            }
            Some(_) => {}
        }
        let src = self.sock(s)?.local_ep().ok_or(Errno::EINVAL)?;
        let conn = self.new_conn();
        let deadline = now.after(self.cfg.connect_timeout);
        let timer = self.timer(deadline, node, Ev::ConnectTimeout { sock: s, conn });
        let st = self.stream_mut(s).ok_or(Errno::EBADF)?;
        st.phase = Phase::SynSent { timer, deadline };
        st.state = SockState::Connecting;
        st.conn = conn;
        st.peer_node = dst_node;
        st.peer_addr = Some(dst.to_sockaddr(domain));
        let syn = Syn {
            client: s,
            conn,
            src,
            dst,
            attempt: 0,
            sent_at: now,
        };
        self.emit_ordered(s, now, Ev::Syn(syn));
        Err(NetError::InProgress)
    }

    /// AF_UNIX connect: immediate, or WouldBlock (woken by `accept`) if the backlog is full.
    /// `file`: the socket file a path leads to (see [`Network::lookup_unix`]). Both ends
    /// see the listener's name as bound (the accepted socket's own, the client's peer).
    fn unix_connect(
        &mut self,
        s: SockId,
        addr: &SockAddr,
        file: Option<UnixFile>,
    ) -> Result<(), NetError> {
        let SockAddr::Unix(path) = addr else {
            return Err(Errno::EINVAL.into());
        };
        let sock = self.sock(s)?;
        let node = sock.node;
        let client_name = match &sock.local {
            Some(Local::Unix(p)) => SockAddr::Unix(p.clone()),
            _ => SockAddr::unnamed(),
        };
        let (l, path) = self.lookup_unix(node, path, file)?;
        let lsock = self.sock(l)?;
        if lsock.ty != SockType::Stream {
            return Err(Errno::EPROTOTYPE.into());
        }
        let Some(Phase::Listening { cap, queue }) = lsock.stream().map(|st| &st.phase) else {
            return Err(Errno::ECONNREFUSED.into());
        };
        if queue.len() >= *cap {
            let lsock = self.sock_mut(l)?;
            if !lsock.waiters.contains(&s) {
                lsock.waiters.push(s);
            }
            self.sock_mut(s)?.blocked_on = Some(l);
            return Err(NetError::WouldBlock);
        }
        let opts = lsock.opts.clone();
        let conn = self.new_conn();
        let now = self.now;
        let mut child = Socket::new(node, Domain::Unix, SockType::Stream);
        child.local = Some(Local::Unix(path.clone()));
        child.explicit_bind = true;
        child.opts = opts;
        let c = self.alloc(child);
        for (me, peer, peer_addr) in [(c, s, client_name), (s, c, SockAddr::Unix(path.clone()))] {
            let sock = self.sock_mut(me)?;
            sock.blocked_on = None;
            if let Kind::Stream(st) = &mut sock.kind {
                st.phase = Phase::Established;
                st.state = SockState::Connected;
                st.conn = conn;
                st.peer = Some(peer);
                st.peer_addr = Some(peer_addr);
                st.tx_last = st.tx_last.max(now);
            }
        }
        if let Some(Phase::Listening { queue, .. }) = self.stream_mut(l).map(|st| &mut st.phase) {
            queue.push_back(c);
        }
        self.dirty.push(l);
        Ok(())
    }

    /// Connects two fresh AF_UNIX stream sockets to each other.
    pub(super) fn stream_pair(&mut self, a: SockId, b: SockId) {
        let conn = self.new_conn();
        for (me, peer) in [(a, b), (b, a)] {
            if let Some(st) = self.stream_mut(me) {
                st.phase = Phase::Established;
                st.state = SockState::Connected;
                st.conn = conn;
                st.peer = Some(peer);
                st.peer_addr = Some(SockAddr::unnamed());
            }
        }
    }

    pub(super) fn stream_accept(&mut self, s: SockId) -> Result<(SockId, SockAddr), NetError> {
        let sock = self.sock_mut(s)?;
        let Kind::Stream(st) = &mut sock.kind else {
            return Err(Errno::EOPNOTSUPP.into());
        };
        let Phase::Listening { queue, .. } = &mut st.phase else {
            return Err(Errno::EINVAL.into());
        };
        let c = queue.pop_front().ok_or(NetError::WouldBlock)?;
        let addr = self
            .sock(c)
            .ok()
            .and_then(Socket::stream)
            .and_then(|cs| cs.peer_addr.clone());
        self.wake_waiters(s);
        Ok((c, addr.unwrap_or_else(SockAddr::unnamed)))
    }

    pub(super) fn stream_send(
        &mut self,
        s: SockId,
        data: &[u8],
        now: VTime,
        more: bool,
    ) -> Result<usize, NetError> {
        let sock = self.sock_mut(s)?;
        let unix = sock.domain == Domain::Unix;
        let Kind::Stream(st) = &mut sock.kind else {
            return Err(Errno::EINVAL.into());
        };
        match st.phase {
            Phase::Idle | Phase::Listening { .. } if unix => return Err(Errno::ENOTCONN.into()),
            Phase::Idle | Phase::Listening { .. } => return Err(Errno::EPIPE.into()),
            Phase::SynSent { .. } => return Err(NetError::WouldBlock),
            Phase::Closed => return Err(sock.err.take().unwrap_or(Errno::EPIPE).into()),
            Phase::Established => {}
        }
        if let Some(e) = sock.err.take() {
            return Err(e.into());
        }
        if sock.shut_wr || st.peer_rcv_shut {
            return Err(Errno::EPIPE.into());
        }
        if data.is_empty() {
            return Ok(0);
        }
        let (to, conn) = (st.peer.ok_or(Errno::ENOTCONN)?, st.conn);
        let n = self.room(s).0.min(data.len());
        if n == 0 {
            return Err(NetError::WouldBlock);
        }
        let msg = self.next_msg(s);
        let hold = !unix && (more || st_cork(self, s));
        if let Some(st) = self.stream_mut(s) {
            st.in_flight += n;
            if hold {
                st.held.push((msg, data[..n].to_vec()));
                let held: usize = st.held.iter().map(|h| h.1.len()).sum();
                let arm = st.held_timer.is_none();
                if held >= CORK_FLUSH_BYTES || n < data.len() {
                    // A full segment, or a full send buffer: Linux would send now.
                    self.push_held(s, now);
                } else if arm {
                    let node = self.socks.get(&s).map_or(0, |sock| sock.node);
                    let at = now.plus_nanos(CORK_CEILING_NANOS);
                    let t = self.timer(at, node, Ev::CorkTimeout { sock: s, conn });
                    if let Some(st) = self.stream_mut(s) {
                        st.held_timer = Some(t);
                    }
                }
                return Ok(n);
            }
        }
        self.push_held(s, now);
        self.emit_ordered(
            s,
            now,
            Ev::Data {
                to,
                from: s,
                conn,
                bytes: data[..n].to_vec(),
                msg,
            },
        );
        Ok(n)
    }

    /// Sends what `MSG_MORE` or `TCP_CORK` held back on `s`, in order, now.
    pub(super) fn push_held(&mut self, s: SockId, now: VTime) {
        let Some(st) = self.stream_mut(s) else { return };
        let held = std::mem::take(&mut st.held);
        let timer = st.held_timer.take();
        let (peer, conn) = (st.peer, st.conn);
        if let Some(t) = timer {
            self.queue.cancel(t);
        }
        let Some(to) = peer else { return };
        for (msg, bytes) in held {
            self.emit_ordered(
                s,
                now,
                Ev::Data {
                    to,
                    from: s,
                    conn,
                    bytes,
                    msg,
                },
            );
        }
    }

    /// The cork timer of connection `conn` fired: what is held goes out.
    pub(super) fn on_cork_timeout(&mut self, s: SockId, conn: u64, now: VTime) {
        if let Some(st) = self
            .conn_mut(s, conn)
            .and_then(|sock| match &mut sock.kind {
                Kind::Stream(st) => Some(st),
                Kind::Dgram(_) => None,
            })
        {
            st.held_timer = None;
            if matches!(st.phase, Phase::Established) {
                self.push_held(s, now);
            }
        }
    }

    /// `TCP_CORK` on or off (off sends what it held).
    pub(super) fn stream_set_cork(&mut self, s: SockId, on: bool, now: VTime) {
        if let Some(st) = self.stream_mut(s) {
            st.cork = on;
        }
        if !on {
            self.push_held(s, now);
        }
    }

    pub(super) fn stream_recv(
        &mut self,
        s: SockId,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<usize, NetError> {
        let sock = self.sock_mut(s)?;
        let unix = sock.domain == Domain::Unix;
        let Kind::Stream(st) = &mut sock.kind else {
            return Err(Errno::EINVAL.into());
        };
        match st.phase {
            Phase::Listening { .. } if unix => return Err(Errno::EINVAL.into()),
            Phase::Idle | Phase::Listening { .. } => return Err(Errno::ENOTCONN.into()),
            Phase::SynSent { .. } => return Err(NetError::WouldBlock),
            Phase::Established | Phase::Closed => {}
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if !st.rx.is_empty() {
            let n = copy_out(&st.rx, buf);
            // The sends these bytes came from (consumed unless peeking).
            let mut left = n;
            let mut read = Vec::new();
            for seg in st.rx_msgs.iter_mut() {
                if left == 0 {
                    break;
                }
                let k = seg.2.min(left);
                read.push((seg.0, seg.1));
                left -= k;
                if !peek {
                    seg.2 -= k;
                }
            }
            if !peek {
                while st.rx_msgs.front().is_some_and(|seg| seg.2 == 0) {
                    st.rx_msgs.pop_front();
                }
                st.rx.drain(..n);
                if let Some(p) = st.peer {
                    self.dirty.push(p);
                }
            }
            for (sock, seq) in read {
                self.note_msg(false, sock, seq);
            }
            return Ok(n);
        }
        if let Some(e) = sock.err.take() {
            return Err(e.into());
        }
        if st.rx_fin || sock.shut_rd || matches!(st.phase, Phase::Closed) {
            return Ok(0);
        }
        Err(NetError::WouldBlock)
    }

    /// Stops listening: the un-accepted connections are reset, waiters are woken.
    fn stop_listening(&mut self, s: SockId, now: VTime) {
        let Some(st) = self.stream_mut(s) else { return };
        let Phase::Listening { queue, .. } = std::mem::replace(&mut st.phase, Phase::Idle) else {
            return;
        };
        for c in queue {
            self.abort(c, now);
            self.unbind(c);
            self.socks.remove(&c);
        }
        self.wake_waiters(s);
        self.release_autobind(s);
    }

    /// Sends RST to the peer of an established `s` (after what is already in flight).
    fn abort(&mut self, s: SockId, now: VTime) {
        let Some(st) = self.stream_mut(s) else { return };
        st.held.clear(); // a reset throws the send queue away
        if let Some(t) = st.held_timer.take() {
            self.queue.cancel(t);
        }
        let Some(st) = self.stream_mut(s) else { return };
        if let (Phase::Established, Some(to)) = (&st.phase, st.peer) {
            let conn = st.conn;
            self.emit_ordered(s, now, Ev::Rst { to, conn });
        }
    }

    pub(super) fn stream_shutdown(
        &mut self,
        s: SockId,
        how: Shutdown,
        now: VTime,
    ) -> Result<(), Errno> {
        let (rd, wr) = match how {
            Shutdown::Read => (true, false),
            Shutdown::Write => (false, true),
            Shutdown::Both => (true, true),
        };
        let sock = self.sock_mut(s)?;
        let unix = sock.domain == Domain::Unix;
        let Kind::Stream(st) = &mut sock.kind else {
            return Err(Errno::EINVAL);
        };
        match &st.phase {
            Phase::Listening { .. } => {
                if rd {
                    self.stop_listening(s, now);
                }
                return Ok(());
            }
            Phase::SynSent { timer, .. } => {
                let timer = *timer;
                self.queue.cancel(timer);
                self.stream_reinit(s);
                return Ok(());
            }
            Phase::Idle | Phase::Closed if unix => {
                sock.shut_rd |= rd;
                sock.shut_wr |= wr;
                return Ok(());
            }
            Phase::Idle | Phase::Closed => return Err(Errno::ENOTCONN),
            Phase::Established => {}
        }
        let fin = wr && !sock.shut_wr;
        sock.shut_rd |= rd;
        sock.shut_wr |= wr;
        let (peer, conn) = (st.peer, st.conn);
        if let (true, Some(to)) = (fin, peer) {
            self.push_held(s, now);
            self.emit_ordered(s, now, Ev::Fin { to, conn });
        }
        if let (true, true, Some(p)) = (unix, rd, peer) {
            self.peer_stops_reading(p, conn);
        }
        Ok(())
    }

    /// AF_UNIX: the peer of `p` will read no more, so `p`'s sends fail at once.
    fn peer_stops_reading(&mut self, p: SockId, conn: u64) {
        if let Some(Kind::Stream(st)) = self.conn_mut(p, conn).map(|sock| &mut sock.kind) {
            st.peer_rcv_shut = true;
            self.dirty.push(p);
        }
    }

    /// The stream part of `close`: FIN after queued data, or RST if unread data remains or
    /// `SO_LINGER {on, 0}` is set; a listener resets its un-accepted connections.
    pub(super) fn stream_close(&mut self, s: SockId, now: VTime) {
        let Ok(sock) = self.sock(s) else { return };
        let (unix, linger0, shut_wr) = (
            sock.domain == Domain::Unix,
            sock.opts.linger == Some(0),
            sock.shut_wr,
        );
        let Some(st) = sock.stream() else { return };
        match &st.phase {
            Phase::Listening { .. } => self.stop_listening(s, now),
            Phase::SynSent { timer, .. } => {
                let timer = *timer;
                self.queue.cancel(timer);
            }
            Phase::Established => {
                let (peer, conn) = (st.peer, st.conn);
                if linger0 || !st.rx.is_empty() {
                    self.abort(s, now);
                } else if let (false, Some(to)) = (shut_wr, peer) {
                    self.push_held(s, now);
                    self.emit_ordered(s, now, Ev::Fin { to, conn });
                }
                if let (true, Some(p)) = (unix, peer) {
                    self.peer_stops_reading(p, conn);
                }
            }
            Phase::Idle | Phase::Closed => {}
        }
    }

    /// Fault injection: the connection of `s` is reset; `s` sees ECONNRESET at once, its peer
    /// when the RST arrives.
    pub(super) fn stream_reset(&mut self, s: SockId, now: VTime) -> Result<(), Errno> {
        let st = self.sock(s)?.stream().ok_or(Errno::ENOTCONN)?;
        if !matches!(st.phase, Phase::Established) {
            return Err(Errno::ENOTCONN);
        }
        self.abort(s, now);
        self.kill(s, Errno::ECONNRESET);
        Ok(())
    }

    /// `connect(AF_UNSPEC)`: aborts any connection (RST) and returns to a fresh socket.
    pub(super) fn stream_disconnect(&mut self, s: SockId, now: VTime) -> Result<(), Errno> {
        let st = self.sock(s)?.stream().ok_or(Errno::EINVAL)?;
        match &st.phase {
            Phase::Listening { .. } => self.stop_listening(s, now),
            Phase::SynSent { timer, .. } => {
                let timer = *timer;
                self.queue.cancel(timer);
            }
            Phase::Established => self.abort(s, now),
            Phase::Idle | Phase::Closed => {}
        }
        self.stream_reinit(s);
        Ok(())
    }

    /// The connection of `s` died with `err`: both directions are shut, the port of a
    /// client is released, the socket is reported changed.
    pub(super) fn kill(&mut self, s: SockId, err: Errno) {
        let Some(sock) = self.socks.get_mut(&s) else {
            return;
        };
        sock.err = Some(err);
        if let Kind::Stream(st) = &mut sock.kind {
            if let Phase::SynSent { timer, .. } = st.phase {
                self.queue.cancel(timer);
            }
            st.phase = Phase::Closed;
        }
        self.release_autobind(s);
        self.dirty.push(s);
    }

    pub(super) fn stream_readiness(&self, s: SockId, sock: &Socket, st: &Stream) -> Readiness {
        match &st.phase {
            Phase::Listening { queue, .. } => Readiness {
                readable: !queue.is_empty(),
                ..Readiness::default()
            },
            Phase::Idle => Readiness {
                writable: sock.blocked_on.is_none(),
                hup: true,
                ..Readiness::default()
            },
            Phase::SynSent { .. } => Readiness::default(),
            Phase::Established | Phase::Closed => {
                let closed = matches!(st.phase, Phase::Closed);
                let rd_shut = sock.shut_rd || st.rx_fin || closed;
                let wr_shut = sock.shut_wr || st.peer_rcv_shut || closed;
                let (room, cap) = self.room(s);
                Readiness {
                    readable: !st.rx.is_empty() || rd_shut || sock.err.is_some(),
                    // Like Linux, writable once a third of the capacity is free.
                    writable: wr_shut || (room > 0 && room * 3 >= cap),
                    hup: rd_shut && wr_shut,
                    rdhup: rd_shut,
                    error: sock.err.is_some(),
                }
            }
        }
    }
}
