//! The virtual network (sans-I/O): every socket, address, port, buffer and in-flight packet
//! of a scenario's nodes, driven by the virtual clock.
//!
//! The model knows nothing of ptrace, file descriptors or tracee memory. The engine maps a
//! tracee's socket to a [`SockId`] and calls [`Network`] for each socket syscall. On
//! [`NetError::WouldBlock`] it returns `EAGAIN` to a non-blocking caller or parks the thread
//! until [`Network::readiness`] allows the call; whenever the clock reaches
//! [`Network::next_event`] it calls [`Network::advance`], which delivers packets and reports
//! the sockets whose readiness may have changed. Calls taking `now` expect the engine to
//! have advanced the network to `now` first.
//!
//! # Model
//! Nodes have an IPv4 address, their own loopback (`127.0.0.0/8`, `::1`) and their own port
//! and AF_UNIX name spaces. A packet takes `local_latency` within a node and
//! `remote_latency` between nodes, plus a seeded uniform jitter in `0..=jitter`. Packets of
//! one TCP direction (and of one AF_UNIX sender) never overtake each other; different
//! connections and UDP datagrams may. TCP is modelled as a syscall sees it: a SYN, a
//! SYN-ACK (connect takes one round trip), byte segments, FIN, RST; no sequence numbers,
//! windows or retransmission except for the SYN.
//!
//! # Choices
//! - **Backlog full**: like Linux, a listener holds `backlog + 1` connections; a SYN that
//!   finds it full is dropped and the client retransmits it 1 s, 2 s, 4 s, ... after the
//!   previous try, until [`NetConfig::connect_timeout`] fails the connect with `ETIMEDOUT`.
//!   AF_UNIX connect to a full backlog returns `WouldBlock` until an `accept`.
//! - **Unreachable address**: connecting or sending to an IP no node has fails at once with
//!   `ENETUNREACH` (no route). A node without a listener answers RST (`ECONNREFUSED`).
//! - **Partition** ([`Network::set_partition`]): packets between cut nodes are held, not
//!   lost, and delivered in order when the cut heals; a connect whose SYN is held fails
//!   with `ETIMEDOUT` after the connect timeout. Established connections just stall.
//! - No `TIME_WAIT`: a port is free as soon as its socket is closed. A closed AF_UNIX path
//!   answers `ECONNREFUSED` to connects but may be bound again (as if unlinked first).
//!
//! Files: `addr.rs` (addresses, routing, ports, AF_UNIX names), `socket.rs` (the socket
//! record, options), `stream.rs` (TCP, AF_UNIX stream),
//! `stream_wire.rs` (stream packets arriving), `dgram.rs` (UDP, AF_UNIX datagram),
//! `view.rs` (what a global snapshot shows of sockets and packets in flight).

use crate::errno::Errno;
use crate::time::{TimerId, Timers, VTime};
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::time::Duration;

mod addr;
mod dgram;
mod socket;
mod stream;
mod stream_wire;
#[cfg(test)]
mod tests;
mod view;

pub use addr::{SockAddr, UnixFile};
pub use socket::{SockOpt, SockOptName};
pub use view::{addr_text, PacketView, SocketView};

use addr::{Ep, Node};
use socket::{Kind, Local, Socket};

/// A socket of the model: a stable id, never reused within a [`Network`].
pub type SockId = usize;
/// A node (host) of the virtual network.
pub type NodeId = usize;

/// Address family of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Domain {
    /// `AF_INET`
    Inet,
    /// `AF_INET6` (dual stack unless `IPV6_V6ONLY`)
    Inet6,
    /// `AF_UNIX`, within one node
    Unix,
}

/// Type of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SockType {
    /// `SOCK_STREAM`: TCP or AF_UNIX stream.
    Stream,
    /// `SOCK_DGRAM`: UDP or AF_UNIX datagram.
    Dgram,
}

/// Which directions `shutdown` closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Shutdown {
    /// `SHUT_RD`
    Read,
    /// `SHUT_WR`
    Write,
    /// `SHUT_RDWR`
    Both,
}

/// Why a socket call did not complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetError {
    /// Fails with this errno.
    Errno(Errno),
    /// Would block: park the thread until [`Network::readiness`] allows the call (or return
    /// `EAGAIN` if non-blocking), then call again.
    WouldBlock,
    /// A TCP connect started: `EINPROGRESS` if non-blocking; otherwise park until the socket
    /// is writable and call `connect` again (or read [`Network::take_error`]).
    InProgress,
}

impl NetError {
    /// The errno a non-blocking caller sees.
    pub fn errno(self) -> Errno {
        match self {
            NetError::Errno(e) => e,
            NetError::WouldBlock => Errno::EAGAIN,
            NetError::InProgress => Errno::EINPROGRESS,
        }
    }
}

impl From<Errno> for NetError {
    fn from(e: Errno) -> NetError {
        NetError::Errno(e)
    }
}

/// Parameters of a [`Network`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetConfig {
    /// One-way latency of a packet within a node (loopback, AF_UNIX).
    pub local_latency: Duration,
    /// One-way latency of a packet between nodes.
    pub remote_latency: Duration,
    /// Every packet gets a seeded uniform extra delay in `0..=jitter`.
    pub jitter: Duration,
    /// Seed of the jitter generator.
    pub seed: u64,
    /// Bytes one stream direction holds (in flight + unread) with default buffer options.
    pub stream_buffer: usize,
    /// Bytes a datagram socket's receive queue holds with default options.
    pub udp_buffer: usize,
    /// How long a TCP connect waits for an answer before `ETIMEDOUT`.
    pub connect_timeout: Duration,
}

impl Default for NetConfig {
    fn default() -> NetConfig {
        NetConfig {
            local_latency: Duration::from_micros(10),
            remote_latency: Duration::from_micros(200),
            jitter: Duration::ZERO,
            seed: 0,
            stream_buffer: 256 * 1024,
            udp_buffer: 212_992,
            connect_timeout: Duration::from_secs(127),
        }
    }
}

/// What a socket is ready for (poll/epoll flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    /// A read (or accept) would not block: data, EOF, or a pending error.
    pub readable: bool,
    /// A write would not block (also true when it would fail at once).
    pub writable: bool,
    /// `POLLHUP`: both directions shut (or the connection is dead, or never connected).
    pub hup: bool,
    /// `POLLRDHUP`: the read side is shut (peer's FIN, or our `SHUT_RD`).
    pub rdhup: bool,
    /// `POLLERR`: an error is pending in `SO_ERROR`.
    pub error: bool,
}

/// The outcome of [`Network::recv_msg`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecvMeta {
    /// Bytes copied into the buffer.
    pub len: usize,
    /// Bytes the datagram had (`> len` means truncated: `MSG_TRUNC`); equals `len` for
    /// streams.
    pub full_len: usize,
    /// The sender (datagrams only).
    pub from: Option<SockAddr>,
}

/// A packet (or a local timer) on its way: from node `src` to node `dst`.
#[derive(Debug)]
pub(crate) struct Packet {
    src: NodeId,
    dst: NodeId,
    ev: Ev,
}

/// What a packet carries. `conn` ties stream packets to one connection.
#[derive(Debug)]
pub(crate) enum Ev {
    Syn(stream_wire::Syn),
    SynAck {
        client: SockId,
        server: SockId,
        conn: u64,
    },
    Data {
        to: SockId,
        from: SockId,
        conn: u64,
        bytes: Vec<u8>,
        /// The send's number (of `from`).
        msg: u32,
    },
    Fin {
        to: SockId,
        conn: u64,
    },
    Rst {
        to: SockId,
        conn: u64,
    },
    ConnectTimeout {
        sock: SockId,
        conn: u64,
    },
    /// The most corked data of `sock` waits (`MSG_MORE`, `TCP_CORK`).
    CorkTimeout {
        sock: SockId,
        conn: u64,
    },
    Dgram {
        dst: Ep,
        src: Ep,
        from: SockId,
        connected: bool,
        payload: Vec<u8>,
        /// The send's number (of `from`).
        msg: u32,
    },
    UnixDgram {
        to: SockId,
        from: SockAddr,
        payload: Vec<u8>,
        /// The sending socket and its send's number.
        msg: (SockId, u32),
    },
    PortUnreachable {
        to: SockId,
        peer: Ep,
    },
}

/// The virtual network: nodes, sockets and packets in flight.
#[derive(Debug)]
pub struct Network {
    cfg: NetConfig,
    rng: Pcg64Mcg,
    nodes: Vec<Node>,
    socks: BTreeMap<SockId, Socket>,
    /// Family and type of every id ever handed out (ids are never reused).
    kinds: Vec<(Domain, SockType)>,
    next_conn: u64,
    queue: Timers<Packet>,
    /// Packets that came due while their nodes were cut, in arrival order.
    held: Vec<(VTime, Packet)>,
    cuts: BTreeSet<(NodeId, NodeId)>,
    /// Sockets whose readiness changed as a side effect, reported by the next `advance`.
    dirty: Vec<SockId>,
    now: VTime,
    /// The messages the current call sent or consumed (see [`Network::take_msgs`]).
    msgs: Option<crate::trace::Msgs>,
    /// Packets sent so far per (source, destination) node pair: the key of a delay.
    packets: BTreeMap<(NodeId, NodeId), u64>,
    /// Replaying a tape: the jitter of each packet it names (every other one has none).
    replay_delays: Option<BTreeMap<(u16, u16, u64), u64>>,
    /// Jitters drawn that were not zero, not yet taken by the engine's tape:
    /// (source, destination, packet index, jitter).
    drawn: Vec<(NodeId, NodeId, u64, u64)>,
}

impl Network {
    /// An empty network.
    pub fn new(cfg: NetConfig) -> Network {
        Network {
            rng: Pcg64Mcg::seed_from_u64(cfg.seed),
            cfg,
            nodes: Vec::new(),
            socks: BTreeMap::new(),
            kinds: Vec::new(),
            next_conn: 0,
            queue: Timers::default(),
            held: Vec::new(),
            cuts: BTreeSet::new(),
            dirty: Vec::new(),
            now: VTime::ZERO,
            msgs: None,
            packets: BTreeMap::new(),
            replay_delays: None,
            drawn: Vec::new(),
        }
    }

    /// Takes each packet's jitter from a replayed tape (keyed by source, destination and
    /// the packet's index between them) instead of the random stream.
    pub fn replay_delays(&mut self, delays: BTreeMap<(u16, u16, u64), u64>) {
        self.replay_delays = Some(delays);
    }

    /// Draws jitter from another seed from now on (a branch of the run).
    pub fn reseed(&mut self, seed: u64) {
        self.rng = Pcg64Mcg::seed_from_u64(seed);
    }

    /// Whether jitters are waiting for [`Network::take_delays`].
    pub fn has_delays(&self) -> bool {
        !self.drawn.is_empty()
    }

    /// The non-zero jitters chosen since the last call: (source, destination, packet
    /// index, nanoseconds), for the decision tape.
    pub fn take_delays(&mut self, into: &mut Vec<(NodeId, NodeId, u64, u64)>) {
        into.append(&mut self.drawn);
    }

    /// The messages sent or consumed since the last call, which the engine attaches to
    /// the syscall's trace event.
    pub fn take_msgs(&mut self) -> Option<crate::trace::Msgs> {
        self.msgs.take()
    }

    /// Records that the current call sent (or consumed) send number `seq` of `sock`.
    fn note_msg(&mut self, sent: bool, sock: SockId, seq: u32) {
        let m = crate::trace::Msgs {
            sent,
            sock: sock as u32,
            first: seq,
            last: seq,
        };
        self.msgs = Some(self.msgs.map_or(m, |old| old.merge(m)));
    }

    /// Numbers a new send of socket `s`.
    fn next_msg(&mut self, s: SockId) -> u32 {
        let Some(sock) = self.socks.get_mut(&s) else {
            return 0;
        };
        let seq = sock.tx_seq;
        sock.tx_seq = seq.wrapping_add(1);
        self.note_msg(true, s, seq);
        seq
    }

    /// The configuration.
    pub fn config(&self) -> &NetConfig {
        &self.cfg
    }

    /// Adds a node with address `addr` (addresses should be unique: the first node with an
    /// address receives its traffic).
    pub fn add_node(&mut self, name: &str, addr: Ipv4Addr) -> NodeId {
        self.nodes.push(Node::new(name, addr));
        self.nodes.len() - 1
    }

    /// The node whose address is `addr`.
    pub fn node_by_addr(&self, addr: Ipv4Addr) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.addr == addr)
    }

    /// The address of a node.
    pub fn node_addr(&self, node: NodeId) -> Option<Ipv4Addr> {
        self.nodes.get(node).map(|n| n.addr)
    }

    /// The name of a node.
    pub fn node_name(&self, node: NodeId) -> Option<&str> {
        self.nodes.get(node).map(|n| n.name.as_str())
    }

    /// A new unbound socket on `node` (`EINVAL` for an unknown node).
    pub fn socket(&mut self, node: NodeId, domain: Domain, ty: SockType) -> Result<SockId, Errno> {
        if node >= self.nodes.len() {
            return Err(Errno::EINVAL);
        }
        Ok(self.alloc(Socket::new(node, domain, ty)))
    }

    /// Two connected, unnamed AF_UNIX sockets.
    pub fn socketpair(&mut self, node: NodeId, ty: SockType) -> Result<(SockId, SockId), Errno> {
        let a = self.socket(node, Domain::Unix, ty)?;
        let b = self.socket(node, Domain::Unix, ty)?;
        match ty {
            SockType::Stream => self.stream_pair(a, b),
            SockType::Dgram => {
                for (me, peer) in [(a, b), (b, a)] {
                    if let Some(Kind::Dgram(d)) = self.socks.get_mut(&me).map(|s| &mut s.kind) {
                        d.peer = Some(dgram::DgPeer::Unix {
                            sock: peer,
                            path: Vec::new(),
                        });
                    }
                }
            }
        }
        Ok((a, b))
    }

    /// Two connected, unnamed AF_UNIX `SOCK_SEQPACKET` sockets: datagrams with
    /// boundaries, and end of stream when the peer closes.
    pub fn seqpacket_pair(&mut self, node: NodeId) -> Result<(SockId, SockId), Errno> {
        let (a, b) = self.socketpair(node, SockType::Dgram)?;
        for s in [a, b] {
            if let Some(Kind::Dgram(d)) = self.socks.get_mut(&s).map(|s| &mut s.kind) {
                d.seqpacket = true;
            }
        }
        Ok((a, b))
    }

    /// Binds `s`. Port 0 picks the next free ephemeral port of the node (32768 upward).
    /// `EINVAL` if already bound, `EADDRNOTAVAIL` for an address the node lacks,
    /// `EADDRINUSE` unless `SO_REUSEADDR` (both, none listening) or `SO_REUSEPORT` (both)
    /// allow sharing; an AF_INET6 wildcard without `IPV6_V6ONLY` also takes the IPv4 port.
    /// AF_UNIX: abstract names and autobind; a path is bound with [`Network::bind_path`]
    /// once the engine made its socket file (`EINVAL` here).
    pub fn bind(&mut self, s: SockId, addr: &SockAddr) -> Result<(), Errno> {
        let sock = self.sock(s)?;
        if sock.local.is_some() {
            return Err(Errno::EINVAL);
        }
        let (node, domain, v6only) = (sock.node, sock.domain, sock.v6only());
        if domain == Domain::Unix {
            let SockAddr::Unix(path) = addr else {
                return Err(Errno::EINVAL);
            };
            return self.bind_unix(s, path);
        }
        let ep = addr::parse(domain, addr)?;
        if v6only && ep.ip.is_ipv4() {
            return Err(Errno::EINVAL);
        }
        if !self.has_ip(node, ep.ip) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        self.bind_ip(s, ep, ep.port != 0)
    }

    /// Listens; an unbound IP socket is bound to the wildcard and an ephemeral port first.
    pub fn listen(&mut self, s: SockId, backlog: i32) -> Result<(), Errno> {
        self.stream_listen(s, backlog)
    }

    /// Connects. TCP: [`NetError::InProgress`] for a fresh connect; a later `connect` returns
    /// `Ok` once established (then `EISCONN`), the error if it failed, `EALREADY` while
    /// pending. AF_UNIX stream: immediate. Datagram sockets: sets the default peer.
    /// An AF_UNIX path reaches nothing here (`ENOENT`): see [`Network::connect_file`].
    pub fn connect(&mut self, s: SockId, addr: &SockAddr, now: VTime) -> Result<(), NetError> {
        self.connect_file(s, addr, None, now)
    }

    /// [`Network::connect`] to an AF_UNIX path that leads to socket file `file` (the engine
    /// looked the path up in the caller's filesystem; `None`: no file). The socket bound
    /// to that file is reached, whatever the path (`ECONNREFUSED` if none is).
    pub fn connect_file(
        &mut self,
        s: SockId,
        addr: &SockAddr,
        file: Option<UnixFile>,
        now: VTime,
    ) -> Result<(), NetError> {
        let now = self.touch(now);
        match self.sock(s)?.ty {
            SockType::Stream => {
                let idle = self
                    .sock(s)?
                    .stream()
                    .is_some_and(|st| matches!(st.phase, stream::Phase::Idle));
                let r = self.stream_connect(s, addr, file, now);
                if idle && matches!(r, Ok(()) | Err(NetError::InProgress)) {
                    self.note_msg(true, s, crate::trace::Msgs::CONNECT);
                }
                r
            }
            SockType::Dgram => Ok(self.dgram_connect(s, addr, file)?),
        }
    }

    /// `connect(AF_UNSPEC)`: a datagram socket forgets its peer; a stream socket aborts its
    /// connection (RST) or stops listening, and may connect again.
    pub fn disconnect(&mut self, s: SockId, now: VTime) -> Result<(), Errno> {
        let now = self.touch(now);
        match self.sock(s)?.ty {
            SockType::Stream => self.stream_disconnect(s, now),
            SockType::Dgram => self.dgram_disconnect(s),
        }
    }

    /// Takes the oldest established connection of a listener, with the peer's address.
    /// `WouldBlock` if none is queued; `EINVAL` if not listening.
    pub fn accept(&mut self, s: SockId) -> Result<(SockId, SockAddr), NetError> {
        let r = self.stream_accept(s)?;
        if let Some(client) = self.sock(r.0)?.stream().and_then(|st| st.peer) {
            self.note_msg(false, client, crate::trace::Msgs::CONNECT);
        }
        Ok(r)
    }

    /// Sends. Streams: as many bytes as there is room for (`WouldBlock` if none); `to` is
    /// ignored. Datagrams: one datagram, to `to` or the connected peer.
    pub fn send(
        &mut self,
        s: SockId,
        data: &[u8],
        to: Option<&SockAddr>,
        now: VTime,
    ) -> Result<usize, NetError> {
        self.send_more(s, data, to, now, false)
    }

    /// [`Network::send`] with `MSG_MORE` (`more`): a TCP stream holds the bytes back
    /// (as Linux corks them) until a send without it, a shutdown or close, `TCP_CORK`
    /// off, `TCP_NODELAY` on, 64 KiB held, or 200 ms; a UDP socket appends them to one
    /// pending datagram, sent by a send without it (see `dgram`). AF_UNIX sockets ignore
    /// it.
    pub fn send_more(
        &mut self,
        s: SockId,
        data: &[u8],
        to: Option<&SockAddr>,
        now: VTime,
        more: bool,
    ) -> Result<usize, NetError> {
        self.send_file(s, data, to, None, now, more)
    }

    /// [`Network::send_more`] to an AF_UNIX path `to` that leads to socket file `file`
    /// (as in [`Network::connect_file`]).
    pub fn send_file(
        &mut self,
        s: SockId,
        data: &[u8],
        to: Option<&SockAddr>,
        file: Option<UnixFile>,
        now: VTime,
        more: bool,
    ) -> Result<usize, NetError> {
        let now = self.touch(now);
        let n = match self.sock(s)?.ty {
            SockType::Stream => self.stream_send(s, data, now, more),
            SockType::Dgram => self.dgram_send(s, data, to, file, now, more),
        }?;
        if let Some(sock) = self.socks.get_mut(&s) {
            sock.tx_bytes = sock.tx_bytes.saturating_add(n as u64);
        }
        Ok(n)
    }

    /// Receives into `buf` (`peek`: without consuming): see [`Network::recv_msg`].
    pub fn recv(
        &mut self,
        s: SockId,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<(usize, Option<SockAddr>), NetError> {
        self.recv_msg(s, buf, peek).map(|m| (m.len, m.from))
    }

    /// Receives. Streams: buffered bytes, then a pending error (`ECONNRESET`), then `0` at
    /// EOF; `WouldBlock` if nothing. Datagrams: one datagram, truncated to `buf`.
    pub fn recv_msg(
        &mut self,
        s: SockId,
        buf: &mut [u8],
        peek: bool,
    ) -> Result<RecvMeta, NetError> {
        let meta = match self.sock(s)?.ty {
            SockType::Stream => {
                let len = self.stream_recv(s, buf, peek)?;
                RecvMeta {
                    len,
                    full_len: len,
                    from: None,
                }
            }
            SockType::Dgram => self.dgram_recv(s, buf, peek)?,
        };
        if let (false, Some(sock)) = (peek, self.socks.get_mut(&s)) {
            sock.rx_bytes = sock.rx_bytes.saturating_add(meta.len as u64);
        }
        Ok(meta)
    }

    /// Shuts down one or both directions (a write shutdown sends FIN after queued data).
    /// TCP: `ENOTCONN` if not connected; shutting down a listener's read side stops it.
    pub fn shutdown(&mut self, s: SockId, how: Shutdown, now: VTime) -> Result<(), Errno> {
        let now = self.touch(now);
        let sock = self.sock_mut(s)?;
        match sock.ty {
            SockType::Stream => self.stream_shutdown(s, how, now),
            SockType::Dgram => {
                sock.shut_rd |= how != Shutdown::Write;
                sock.shut_wr |= how != Shutdown::Read;
                let connected = sock.dgram().is_some_and(|d| d.peer.is_some());
                if sock.domain == Domain::Unix || connected {
                    Ok(())
                } else {
                    Err(Errno::ENOTCONN)
                }
            }
        }
    }

    /// Closes `s`; its id becomes invalid. TCP sends FIN after queued data, or RST if unread
    /// data remains or `SO_LINGER {on, 0}`; a listener resets its un-accepted connections.
    pub fn close(&mut self, s: SockId, now: VTime) {
        let now = self.touch(now);
        if !self.socks.contains_key(&s) {
            return;
        }
        self.stream_close(s, now);
        self.unbind(s);
        self.wake_waiters(s);
        if let Some(t) = self.socks.remove(&s).and_then(|sock| sock.blocked_on) {
            if let Some(target) = self.socks.get_mut(&t) {
                target.waiters.retain(|&w| w != s);
            }
        }
    }

    /// Fault injection: resets the TCP connection of `s` (`ECONNRESET` here at once, RST to
    /// the peer). `ENOTCONN` if `s` has no established connection.
    pub fn reset_connection(&mut self, s: SockId, now: VTime) -> Result<(), Errno> {
        let now = self.touch(now);
        self.stream_reset(s, now)
    }

    /// What `s` is ready for. An unknown id reports every flag, so that nobody parks on it.
    pub fn readiness(&self, s: SockId) -> Readiness {
        let Some(sock) = self.socks.get(&s) else {
            return Readiness {
                readable: true,
                writable: true,
                hup: true,
                rdhup: true,
                error: true,
            };
        };
        match &sock.kind {
            Kind::Stream(st) => self.stream_readiness(s, sock, st),
            Kind::Dgram(d) => self.dgram_readiness(sock, d),
        }
    }

    /// `SO_ERROR`: the pending error, cleared.
    pub fn take_error(&mut self, s: SockId) -> Option<Errno> {
        self.socks.get_mut(&s)?.err.take()
    }

    /// `getsockname`: an unbound socket has the wildcard address and port 0 (or no name).
    pub fn local_addr(&self, s: SockId) -> Result<SockAddr, Errno> {
        let sock = self.sock(s)?;
        Ok(match (&sock.local, sock.domain) {
            (Some(Local::Ip(ep)), d) => ep.to_sockaddr(d),
            (Some(Local::Unix(p)), _) => SockAddr::Unix(p.clone()),
            (None, Domain::Inet) => SockAddr::Inet(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
            (None, Domain::Inet6) => {
                SockAddr::Inet6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, 0, 0, 0))
            }
            (None, Domain::Unix) => SockAddr::unnamed(),
        })
    }

    /// `getpeername`: `ENOTCONN` unless connected (a reset connection is not).
    pub fn peer_addr(&self, s: SockId) -> Result<SockAddr, Errno> {
        let sock = self.sock(s)?;
        match &sock.kind {
            Kind::Stream(st) => match st.phase {
                stream::Phase::Established => st.peer_addr.clone().ok_or(Errno::ENOTCONN),
                _ => Err(Errno::ENOTCONN),
            },
            Kind::Dgram(d) => match &d.peer {
                Some(dgram::DgPeer::Ip(ep)) => Ok(ep.to_sockaddr(sock.domain)),
                Some(dgram::DgPeer::Unix { path, .. }) => Ok(SockAddr::Unix(path.clone())),
                None => Err(Errno::ENOTCONN),
            },
        }
    }

    /// `setsockopt` for the options the model knows.
    pub fn set_option(&mut self, s: SockId, opt: SockOpt) -> Result<(), Errno> {
        self.sock_mut(s)?.set_option(opt)?;
        if opt == SockOpt::NoDelay(true) {
            // Linux pushes pending (corked) frames when Nagle is turned off.
            let now = self.now;
            self.push_held(s, now);
        }
        Ok(())
    }

    /// `TCP_CORK` on a TCP stream: while set, sends are held as with `MSG_MORE`; turning
    /// it off sends them.
    pub fn set_cork(&mut self, s: SockId, on: bool, now: VTime) {
        let now = self.touch(now);
        self.stream_set_cork(s, on, now);
    }

    /// `getsockopt` for the options the model knows.
    pub fn get_option(&self, s: SockId, which: SockOptName) -> Result<SockOpt, Errno> {
        self.sock(s)?.get_option(which, &self.cfg)
    }

    /// `FIONREAD`: unread bytes of a stream, or the size of the next datagram.
    pub fn bytes_readable(&self, s: SockId) -> usize {
        match self.socks.get(&s).map(|sock| &sock.kind) {
            Some(Kind::Stream(st)) => st.rx.len(),
            Some(Kind::Dgram(d)) => d.queue.front().map_or(0, |dg| dg.payload.len()),
            None => 0,
        }
    }

    /// `SIOCOUTQ`: bytes a stream sent that its peer has not read yet.
    pub fn bytes_unread_by_peer(&self, s: SockId) -> usize {
        let Some(st) = self.socks.get(&s).and_then(Socket::stream) else {
            return 0;
        };
        let peer = st
            .peer
            .and_then(|p| self.socks.get(&p))
            .and_then(Socket::stream);
        st.in_flight + peer.map_or(0, |p| p.rx.len())
    }

    /// Type of `s`, also after it was closed (an id never handed out reads as a stream).
    pub fn sock_type(&self, s: SockId) -> SockType {
        self.kinds.get(s).map_or(SockType::Stream, |k| k.1)
    }

    /// Family of `s`, also after it was closed (an id never handed out reads as AF_INET).
    pub fn domain(&self, s: SockId) -> Domain {
        self.kinds.get(s).map_or(Domain::Inet, |k| k.0)
    }

    /// Whether `s` is a live socket id.
    pub fn exists(&self, s: SockId) -> bool {
        self.socks.contains_key(&s)
    }

    /// The socket at the other end of a connected stream (or AF_UNIX datagram) socket.
    pub fn peer_of(&self, s: SockId) -> Option<SockId> {
        let sock = self.socks.get(&s)?;
        let peer = match &sock.kind {
            Kind::Stream(st) => st.peer,
            Kind::Dgram(d) => match &d.peer {
                Some(dgram::DgPeer::Unix { sock, .. }) => Some(*sock),
                _ => None,
            },
        };
        peer.filter(|p| self.socks.contains_key(p))
    }

    /// Node of `s` (`None` for an unknown id).
    pub fn node_of(&self, s: SockId) -> Option<NodeId> {
        self.socks.get(&s).map(|sock| sock.node)
    }

    /// Number of live sockets (accepted-but-queued ones included).
    pub fn socket_count(&self) -> usize {
        self.socks.len()
    }

    /// Cuts (or heals) the link between two nodes. Packets between cut nodes are held and
    /// delivered, in order, at the first `advance` after the cut heals.
    pub fn set_partition(&mut self, a: NodeId, b: NodeId, cut: bool) {
        if a == b {
            return;
        }
        let key = (a.min(b), a.max(b));
        if cut {
            self.cuts.insert(key);
            return;
        }
        self.cuts.remove(&key);
        for (t, p) in std::mem::take(&mut self.held) {
            if self.is_cut(p.src, p.dst) {
                self.held.push((t, p));
            } else {
                self.queue.insert(t, p);
            }
        }
    }

    /// Whether the link between two nodes is cut.
    pub fn is_cut(&self, a: NodeId, b: NodeId) -> bool {
        a != b && self.cuts.contains(&(a.min(b), a.max(b)))
    }

    /// When [`Network::advance`] has something to do: the earliest packet due, or the
    /// current time if readiness changes are waiting to be reported.
    pub fn next_event(&self) -> Option<VTime> {
        if self.dirty.is_empty() {
            self.queue.next()
        } else {
            Some(self.now.min(self.queue.next().unwrap_or(VTime::NEVER)))
        }
    }

    /// Delivers every packet due at or before `now`, in time order, and appends to
    /// `changed` the sockets whose readiness may have changed (in a deterministic order,
    /// possibly with repeats).
    pub fn advance(&mut self, now: VTime, changed: &mut Vec<SockId>) {
        let now = self.touch(now);
        while let Some(t) = self.queue.next().filter(|&t| t <= now) {
            let Some(p) = self.queue.pop_due(now) else {
                break;
            };
            if self.is_cut(p.src, p.dst) {
                self.held.push((t, p));
            } else {
                self.deliver(t, p);
            }
        }
        changed.append(&mut self.dirty);
    }

    fn deliver(&mut self, t: VTime, p: Packet) {
        let (from, node) = (p.src, p.dst);
        match p.ev {
            Ev::Syn(syn) => self.on_syn(t, from, node, syn),
            Ev::SynAck {
                client,
                server,
                conn,
            } => self.on_synack(t, from, node, client, server, conn),
            data @ Ev::Data { .. } => self.on_data(t, from, node, data),
            Ev::Fin { to, conn } => self.on_fin(to, conn),
            Ev::Rst { to, conn } => self.on_rst(to, conn),
            Ev::ConnectTimeout { sock, conn } => self.on_connect_timeout(sock, conn),
            Ev::CorkTimeout { sock, conn } => self.on_cork_timeout(sock, conn, t),
            dg @ Ev::Dgram { .. } => self.on_dgram(t, from, node, dg),
            Ev::UnixDgram {
                to,
                from: sender,
                payload,
                msg,
            } => self.on_unix_dgram(to, sender, payload, msg),
            Ev::PortUnreachable { to, peer } => self.on_port_unreachable(to, peer),
        }
    }

    // ---- helpers shared by the submodules ----

    fn alloc(&mut self, sock: Socket) -> SockId {
        let id = self.kinds.len();
        self.kinds.push((sock.domain, sock.ty));
        self.socks.insert(id, sock);
        id
    }

    fn sock(&self, s: SockId) -> Result<&Socket, Errno> {
        self.socks.get(&s).ok_or(Errno::EBADF)
    }

    fn sock_mut(&mut self, s: SockId) -> Result<&mut Socket, Errno> {
        self.socks.get_mut(&s).ok_or(Errno::EBADF)
    }

    /// The time of a call: never earlier than what the network has already seen.
    fn touch(&mut self, now: VTime) -> VTime {
        self.now = self.now.max(now);
        self.now
    }

    fn new_conn(&mut self) -> u64 {
        self.next_conn += 1;
        self.next_conn
    }

    /// One-way delay from `src` to `dst`: within a node `local_latency` (Linux delivers
    /// loopback and AF_UNIX data before `send` returns, so takt's default is zero), between
    /// nodes `remote_latency` plus the seeded jitter.
    fn delay(&mut self, src: NodeId, dst: NodeId) -> u64 {
        if src == dst {
            return u64::try_from(self.cfg.local_latency.as_nanos()).unwrap_or(u64::MAX);
        }
        let base = u64::try_from(self.cfg.remote_latency.as_nanos()).unwrap_or(u64::MAX);
        let jitter = u64::try_from(self.cfg.jitter.as_nanos()).unwrap_or(u64::MAX);
        let count = self.packets.entry((src, dst)).or_insert(0);
        let n = *count;
        *count = n.saturating_add(1);
        let extra = match &self.replay_delays {
            Some(tape) => {
                let key = (
                    u16::try_from(src).unwrap_or(u16::MAX),
                    u16::try_from(dst).unwrap_or(u16::MAX),
                    n,
                );
                tape.get(&key).copied().unwrap_or(0)
            }
            None if jitter == 0 => 0,
            None => self.rng.random_range(0..=jitter),
        };
        if extra != 0 {
            self.drawn.push((src, dst, n, extra));
        }
        base.saturating_add(extra)
    }

    /// Sends a packet at `base` from `src` to `dst`; returns its delivery time.
    fn emit(&mut self, base: VTime, src: NodeId, dst: NodeId, ev: Ev) -> VTime {
        let at = base.plus_nanos(self.delay(src, dst));
        self.queue.insert(at, Packet { src, dst, ev });
        at
    }

    /// Sends a packet from `s` to its peer, never before the previous one of `s`.
    fn emit_ordered(&mut self, s: SockId, base: VTime, ev: Ev) -> VTime {
        let Some(sock) = self.socks.get(&s) else {
            return base;
        };
        let (src, dst) = match &sock.kind {
            Kind::Stream(st) => (sock.node, st.peer_node),
            Kind::Dgram(_) => (sock.node, sock.node),
        };
        let at = base.plus_nanos(self.delay(src, dst));
        let Some(sock) = self.socks.get_mut(&s) else {
            return at;
        };
        let last = match &mut sock.kind {
            Kind::Stream(st) => &mut st.tx_last,
            Kind::Dgram(d) => &mut d.tx_last,
        };
        let at = at.max(*last);
        *last = at;
        self.queue.insert(at, Packet { src, dst, ev });
        at
    }

    /// A local timer on `node`, never held by a partition.
    fn timer(&mut self, at: VTime, node: NodeId, ev: Ev) -> TimerId {
        self.queue.insert(
            at,
            Packet {
                src: node,
                dst: node,
                ev,
            },
        )
    }

    /// Wakes the sockets waiting for room at `s`.
    fn wake_waiters(&mut self, s: SockId) {
        let Some(sock) = self.socks.get_mut(&s) else {
            return;
        };
        for w in std::mem::take(&mut sock.waiters) {
            if let Some(ws) = self.socks.get_mut(&w) {
                if ws.blocked_on == Some(s) {
                    ws.blocked_on = None;
                    self.dirty.push(w);
                }
            }
        }
    }
}
