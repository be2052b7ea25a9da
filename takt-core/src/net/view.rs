//! What a global snapshot ([`crate::snapshot`]) shows of the network: every live socket
//! with its state, addresses, buffered bytes and byte counters, and every packet on its
//! way (in the delivery queue, or held by a partition). Read-only views in plain,
//! serializable types; the model's own records stay private.

use super::dgram::DgPeer;
use super::socket::{Kind, Local};
use super::stream::Phase;
use super::{Domain, Ev, Network, NodeId, SockAddr, SockId, SockType};
use crate::time::VTime;
use serde::{Deserialize, Serialize};

/// One live socket at the moment of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketView {
    /// The network model's id (what trace events' `msgs` name).
    pub id: SockId,
    /// Its node.
    pub node: NodeId,
    /// Address family.
    pub domain: Domain,
    /// Stream or datagram.
    pub ty: SockType,
    /// `idle`, `listening`, `syn-sent`, `established` or `closed` (streams); `unbound`,
    /// `bound` or `connected` (datagrams).
    pub state: String,
    /// Its local address (`10.0.0.1:11222`, a path), if bound.
    pub local: Option<String>,
    /// The peer's address, if connected.
    pub peer: Option<String>,
    /// The socket at the other end (streams, AF_UNIX datagrams), if it is known.
    pub peer_sock: Option<SockId>,
    /// Bytes delivered to it and not yet read (streams), or queued datagram bytes.
    pub rx_buffered: usize,
    /// Datagrams queued for reading (datagram sockets).
    pub rx_datagrams: usize,
    /// Bytes it sent that have not reached the peer's receive buffer yet (streams).
    pub in_flight: usize,
    /// Bytes its sends accepted, over its life.
    pub bytes_sent: u64,
    /// Bytes its receives consumed, over its life.
    pub bytes_received: u64,
    /// How many sends it made (the next send's number in trace `msgs`).
    pub sends: u32,
    /// A listener's accept queue: connections waiting, and the most it holds.
    pub backlog: Option<(usize, usize)>,
    /// The peer's FIN arrived (streams).
    pub fin_received: bool,
    /// `shutdown(SHUT_RD)` (or both).
    pub shut_rd: bool,
    /// `shutdown(SHUT_WR)` (or both).
    pub shut_wr: bool,
    /// The pending `SO_ERROR`, if any.
    pub error: Option<String>,
}

/// One packet on its way at the moment of a snapshot (a message sent and not delivered).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PacketView {
    /// When it is due to arrive (for a held packet: when it came due).
    pub at: VTime,
    /// Node it left.
    pub src_node: NodeId,
    /// Node it goes to.
    pub dst_node: NodeId,
    /// `syn`, `syn-ack`, `data`, `fin`, `rst`, `datagram`, `unix-datagram` or
    /// `port-unreachable`.
    pub kind: String,
    /// The sending socket, when the packet names it.
    pub from_sock: Option<SockId>,
    /// The receiving socket, when the packet names it.
    pub to_sock: Option<SockId>,
    /// Payload bytes (data and datagrams; 0 for control packets).
    pub bytes: usize,
    /// The send's number (of `from_sock`) for data and datagrams.
    pub msg: Option<u32>,
    /// Held by a partition (delivered when the cut heals).
    pub held: bool,
}

/// A socket address as text: `10.0.0.1:11222`, `[::1]:80`, a path, `@name` for an
/// abstract AF_UNIX name, `(unnamed)`.
pub fn addr_text(a: &SockAddr) -> String {
    match a {
        SockAddr::Inet(v4) => v4.to_string(),
        SockAddr::Inet6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
        SockAddr::Unix(p) if p.is_empty() => "(unnamed)".to_string(),
        SockAddr::Unix(p) if p[0] == 0 => format!("@{}", String::from_utf8_lossy(&p[1..])),
        SockAddr::Unix(p) => String::from_utf8_lossy(p).into_owned(),
    }
}

impl Network {
    /// Every live socket, by id.
    pub fn socket_views(&self) -> Vec<SocketView> {
        self.socks
            .iter()
            .map(|(&id, sock)| {
                let local = match &sock.local {
                    Some(Local::Ip(ep)) => Some(addr_text(&ep.to_sockaddr(sock.domain))),
                    Some(Local::Unix(p)) => Some(addr_text(&SockAddr::Unix(p.clone()))),
                    None => None,
                };
                let mut v = SocketView {
                    id,
                    node: sock.node,
                    domain: sock.domain,
                    ty: sock.ty,
                    state: String::new(),
                    local,
                    peer: None,
                    peer_sock: None,
                    rx_buffered: 0,
                    rx_datagrams: 0,
                    in_flight: 0,
                    bytes_sent: sock.tx_bytes,
                    bytes_received: sock.rx_bytes,
                    sends: sock.tx_seq,
                    backlog: None,
                    fin_received: false,
                    shut_rd: sock.shut_rd,
                    shut_wr: sock.shut_wr,
                    error: sock.err.map(|e| format!("{e:?}")),
                };
                match &sock.kind {
                    Kind::Stream(st) => {
                        v.state = match &st.phase {
                            Phase::Idle => "idle",
                            Phase::Listening { cap, queue } => {
                                v.backlog = Some((queue.len(), *cap));
                                "listening"
                            }
                            Phase::SynSent { .. } => "syn-sent",
                            Phase::Established => "established",
                            Phase::Closed => "closed",
                        }
                        .to_string();
                        v.peer = st.peer_addr.as_ref().map(addr_text);
                        v.peer_sock = st.peer;
                        v.rx_buffered = st.rx.len();
                        v.in_flight = st.in_flight;
                        v.fin_received = st.rx_fin;
                    }
                    Kind::Dgram(d) => {
                        v.peer = match &d.peer {
                            Some(DgPeer::Ip(ep)) => Some(addr_text(&ep.to_sockaddr(sock.domain))),
                            Some(DgPeer::Unix { sock: p, path }) => {
                                v.peer_sock = Some(*p);
                                Some(addr_text(&SockAddr::Unix(path.clone())))
                            }
                            None => None,
                        };
                        v.state = if d.peer.is_some() {
                            "connected"
                        } else if sock.local.is_some() {
                            "bound"
                        } else {
                            "unbound"
                        }
                        .to_string();
                        v.rx_buffered = d.queue.iter().map(|dg| dg.payload.len()).sum();
                        v.rx_datagrams = d.queue.len();
                    }
                }
                v
            })
            .collect()
    }

    /// Every packet on its way: the delivery queue in delivery order, then the packets a
    /// partition holds. Local timers (a connect's time-out) are not packets and are left out,
    /// and so are the bytes `MSG_MORE` or `TCP_CORK` hold back (not sent yet, they count in
    /// the socket's bytes in flight).
    pub fn packet_views(&self) -> Vec<PacketView> {
        let queued = self.queue.iter().map(|(at, p)| (at, p, false));
        let held = self.held.iter().map(|(at, p)| (*at, p, true));
        queued
            .chain(held)
            .filter_map(|(at, p, held)| {
                let (kind, from, to, bytes, msg) = match &p.ev {
                    Ev::Syn(syn) => ("syn", Some(syn.client), None, 0, None),
                    Ev::SynAck { client, server, .. } => {
                        ("syn-ack", Some(*server), Some(*client), 0, None)
                    }
                    Ev::Data {
                        to,
                        from,
                        bytes,
                        msg,
                        ..
                    } => ("data", Some(*from), Some(*to), bytes.len(), Some(*msg)),
                    Ev::Fin { to, .. } => ("fin", None, Some(*to), 0, None),
                    Ev::Rst { to, .. } => ("rst", None, Some(*to), 0, None),
                    Ev::ConnectTimeout { .. } | Ev::CorkTimeout { .. } => return None,
                    Ev::Dgram {
                        from, payload, msg, ..
                    } => ("datagram", Some(*from), None, payload.len(), Some(*msg)),
                    Ev::UnixDgram {
                        to, payload, msg, ..
                    } => (
                        "unix-datagram",
                        Some(msg.0),
                        Some(*to),
                        payload.len(),
                        Some(msg.1),
                    ),
                    Ev::PortUnreachable { to, .. } => {
                        ("port-unreachable", None, Some(*to), 0, None)
                    }
                };
                Some(PacketView {
                    at,
                    src_node: p.src,
                    dst_node: p.dst,
                    kind: kind.to_string(),
                    from_sock: from,
                    to_sock: to,
                    bytes,
                    msg,
                    held,
                })
            })
            .collect()
    }

    /// The cut links, as node pairs (lower id first).
    pub fn partitions(&self) -> Vec<(NodeId, NodeId)> {
        self.cuts.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::NetConfig;
    use std::net::{Ipv4Addr, SocketAddrV4};

    /// A connection across two nodes with data on its way: the view shows the bytes in
    /// the queue, then (after delivery) in the receiver's buffer, and the counters.
    #[test]
    fn bytes_are_in_the_queue_then_in_the_receive_buffer() {
        let mut n = Network::new(NetConfig::default());
        let a = n.add_node("a", Ipv4Addr::new(10, 0, 0, 1));
        let b = n.add_node("b", Ipv4Addr::new(10, 0, 0, 2));
        let l = n.socket(a, Domain::Inet, SockType::Stream).unwrap();
        let addr = SockAddr::Inet(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80));
        n.bind(l, &addr).unwrap();
        n.listen(l, 8).unwrap();
        let c = n.socket(b, Domain::Inet, SockType::Stream).unwrap();
        let mut t = VTime::ZERO;
        let _ = n.connect(c, &addr, t);
        let mut changed = Vec::new();
        while let Some(next) = n.next_event() {
            t = next;
            n.advance(t, &mut changed);
            if n.connect(c, &addr, t).is_ok() {
                break;
            }
        }
        let (s, _) = n.accept(l).unwrap();
        assert_eq!(n.send(c, b"hello", None, t), Ok(5));
        let v = n.socket_views();
        let client = v.iter().find(|s| s.id == c).unwrap();
        assert_eq!(
            (client.state.as_str(), client.bytes_sent, client.in_flight),
            ("established", 5, 5)
        );
        assert_eq!(client.peer.as_deref(), Some("10.0.0.1:80"));
        let p = n.packet_views();
        let data: Vec<_> = p.iter().filter(|p| p.kind == "data").collect();
        assert_eq!(data.len(), 1);
        assert_eq!(
            (data[0].from_sock, data[0].to_sock, data[0].bytes),
            (Some(c), Some(s), 5)
        );
        let listener = v.iter().find(|s| s.id == l).unwrap();
        assert_eq!(listener.state, "listening");
        assert_eq!(listener.backlog, Some((0, 9)));
        n.advance(VTime::NEVER.min(t.plus_nanos(1_000_000)), &mut changed);
        assert!(n.packet_views().iter().all(|p| p.kind != "data"));
        let server = n.socket_views().into_iter().find(|v| v.id == s).unwrap();
        assert_eq!((server.rx_buffered, server.peer_sock), (5, Some(c)));
        let mut buf = [0u8; 3];
        assert_eq!(n.recv(s, &mut buf, true).unwrap().0, 3);
        assert_eq!(n.recv(s, &mut buf, false).unwrap().0, 3);
        let server = n.socket_views().into_iter().find(|v| v.id == s).unwrap();
        assert_eq!((server.rx_buffered, server.bytes_received), (2, 3));
    }
}
