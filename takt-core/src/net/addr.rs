//! Addresses and the per-node name spaces: [`SockAddr`], normalised IP endpoints, routing
//! between nodes, port tables (bind conflicts, ephemeral ports, finding the socket a packet
//! is for) and AF_UNIX names: abstract names by their bytes, paths by the socket file they
//! made ([`UnixFile`]: the engine makes and looks up the files, the model does no I/O).

use super::socket::{Local, Socket};
use super::{Domain, Network, NodeId, SockId, SockType};
use crate::errno::Errno;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// First port handed out for port 0 (Linux's default `ip_local_port_range`).
const EPHEMERAL_LO: u16 = 32768;
/// Last ephemeral port.
const EPHEMERAL_HI: u16 = 60999;

/// A socket address as a tracee passes it to `bind`/`connect`/`sendto` or gets it back.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SockAddr {
    /// `AF_INET`.
    Inet(SocketAddrV4),
    /// `AF_INET6`; `::ffff:a.b.c.d` reaches IPv4 (dual stack).
    Inet6(SocketAddrV6),
    /// `AF_UNIX`: the name bytes without a trailing NUL. Empty = unnamed (and, for `bind`,
    /// autobind to an abstract name); a leading 0 byte = abstract name.
    Unix(Vec<u8>),
}

impl SockAddr {
    /// The address family.
    pub fn domain(&self) -> Domain {
        match self {
            SockAddr::Inet(_) => Domain::Inet,
            SockAddr::Inet6(_) => Domain::Inet6,
            SockAddr::Unix(_) => Domain::Unix,
        }
    }

    /// The port of an IP address.
    pub fn port(&self) -> Option<u16> {
        match self {
            SockAddr::Inet(a) => Some(a.port()),
            SockAddr::Inet6(a) => Some(a.port()),
            SockAddr::Unix(_) => None,
        }
    }

    /// The unnamed AF_UNIX address.
    pub fn unnamed() -> SockAddr {
        SockAddr::Unix(Vec::new())
    }
}

impl From<SocketAddr> for SockAddr {
    fn from(a: SocketAddr) -> SockAddr {
        match a {
            SocketAddr::V4(a) => SockAddr::Inet(a),
            SocketAddr::V6(a) => SockAddr::Inet6(a),
        }
    }
}

impl From<SocketAddrV4> for SockAddr {
    fn from(a: SocketAddrV4) -> SockAddr {
        SockAddr::Inet(a)
    }
}

impl From<SocketAddrV6> for SockAddr {
    fn from(a: SocketAddrV6) -> SockAddr {
        SockAddr::Inet6(a)
    }
}

/// The socket file an AF_UNIX path names in its node's filesystem: its device and inode
/// numbers as the host shows them. The engine finds it (at `bind`, once the kernel made
/// the file; at `connect` and `sendto`, by looking the path up as the caller would), so a
/// socket is reached through whichever name its file has now, as on Linux (a rename keeps
/// it reachable, an unlink makes it unreachable, a new file at the old path is another).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnixFile {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
}

/// `::ffff:a.b.c.d` becomes `a.b.c.d`: IPv4 traffic is IPv4 whatever the socket family.
pub(crate) fn norm(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// An IP endpoint with a normalised address (see [`norm`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ep {
    pub(crate) ip: IpAddr,
    pub(crate) port: u16,
}

impl Ep {
    pub(crate) fn new(ip: IpAddr, port: u16) -> Ep {
        Ep { ip: norm(ip), port }
    }

    /// As a socket of `domain` shows it (IPv4 in an AF_INET6 socket is v4-mapped).
    pub(crate) fn to_sockaddr(self, domain: Domain) -> SockAddr {
        match (domain, self.ip) {
            (Domain::Inet6, IpAddr::V4(v4)) => {
                SockAddr::Inet6(SocketAddrV6::new(v4.to_ipv6_mapped(), self.port, 0, 0))
            }
            (Domain::Inet6, IpAddr::V6(v6)) => {
                SockAddr::Inet6(SocketAddrV6::new(v6, self.port, 0, 0))
            }
            (_, IpAddr::V4(v4)) => SockAddr::Inet(SocketAddrV4::new(v4, self.port)),
            (_, IpAddr::V6(_)) => {
                SockAddr::Inet(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, self.port))
            }
        }
    }

    /// The wildcard endpoint of a family, port 0.
    pub(crate) fn wildcard(domain: Domain) -> Ep {
        match domain {
            Domain::Inet6 => Ep::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
            _ => Ep::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        }
    }

    /// A destination: the wildcard address means this host's loopback, like Linux.
    pub(crate) fn for_dst(self) -> Ep {
        let ip = match self.ip {
            IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        Ep {
            ip,
            port: self.port,
        }
    }

    /// A deterministic hash (FNV-1a), to spread connections over an `SO_REUSEPORT` group.
    fn hash(self) -> u64 {
        let octets: Vec<u8> = match self.ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        crate::rng::fnv1a(
            crate::rng::FNV_START,
            octets.into_iter().chain(self.port.to_be_bytes()),
        )
    }
}

/// Parses an address given to an IP socket of `domain`, checking the family like Linux.
pub(crate) fn parse(domain: Domain, addr: &SockAddr) -> Result<Ep, Errno> {
    match (domain, addr) {
        (Domain::Inet, SockAddr::Inet(a)) => Ok(Ep::new(IpAddr::V4(*a.ip()), a.port())),
        (Domain::Inet6, SockAddr::Inet6(a)) => Ok(Ep::new(IpAddr::V6(*a.ip()), a.port())),
        (Domain::Inet6, SockAddr::Inet(_)) | (Domain::Unix, _) => Err(Errno::EINVAL),
        _ => Err(Errno::EAFNOSUPPORT),
    }
}

/// Whether a socket bound to `bound` receives traffic addressed to `dst`.
fn accepts(bound: IpAddr, v6only: bool, dst: IpAddr) -> bool {
    bound == dst
        || match bound {
            IpAddr::V4(b) => b.is_unspecified() && dst.is_ipv4(),
            IpAddr::V6(b) => b.is_unspecified() && (dst.is_ipv6() || !v6only),
        }
}

/// Whether two bindings of one port would receive some of the same traffic.
fn overlaps(a: IpAddr, a6only: bool, b: IpAddr, b6only: bool) -> bool {
    match (a.is_unspecified(), b.is_unspecified()) {
        (false, false) => a == b,
        (true, false) => accepts(a, a6only, b),
        (false, true) => accepts(b, b6only, a),
        (true, true) => match (a, b) {
            (IpAddr::V4(_), IpAddr::V6(_)) => !b6only,
            (IpAddr::V6(_), IpAddr::V4(_)) => !a6only,
            _ => true,
        },
    }
}

/// The sockets bound to each port of one protocol on one node.
#[derive(Debug, Default)]
struct PortTable {
    /// Bound sockets per port, in bind order.
    ports: BTreeMap<u16, Vec<SockId>>,
    /// Offset into the ephemeral range where the next search starts.
    next: u16,
}

/// One host of the virtual network: an IPv4 address, its loopback, and its name spaces.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) addr: Ipv4Addr,
    tcp: PortTable,
    udp: PortTable,
    /// Bound abstract AF_UNIX names (leading NUL), one socket each.
    unix: BTreeMap<Vec<u8>, SockId>,
    /// Sockets bound to a path, by the socket file the bind made.
    files: BTreeMap<UnixFile, SockId>,
    next_autobind: u32,
}

impl Node {
    pub(crate) fn new(name: &str, addr: Ipv4Addr) -> Node {
        Node {
            name: name.to_owned(),
            addr,
            tcp: PortTable::default(),
            udp: PortTable::default(),
            unix: BTreeMap::new(),
            files: BTreeMap::new(),
            next_autobind: 0,
        }
    }

    fn table(&self, ty: SockType) -> &PortTable {
        match ty {
            SockType::Stream => &self.tcp,
            SockType::Dgram => &self.udp,
        }
    }

    fn table_mut(&mut self, ty: SockType) -> &mut PortTable {
        match ty {
            SockType::Stream => &mut self.tcp,
            SockType::Dgram => &mut self.udp,
        }
    }
}

impl Network {
    /// Whether `node` owns `ip` (for `bind`): wildcards, its loopback, its address.
    pub(super) fn has_ip(&self, node: NodeId, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => {
                v4.is_unspecified() || v4.is_loopback() || v4 == self.nodes[node].addr
            }
            IpAddr::V6(v6) => v6.is_unspecified() || v6.is_loopback(),
        }
    }

    /// The node that receives traffic sent from `node` to `ip` (already [`Ep::for_dst`]).
    pub(super) fn route(&self, node: NodeId, ip: IpAddr) -> Result<NodeId, Errno> {
        match ip {
            IpAddr::V4(v4) if v4.is_loopback() => Ok(node),
            IpAddr::V4(v4) => self
                .nodes
                .iter()
                .position(|n| n.addr == v4)
                .ok_or(Errno::ENETUNREACH),
            IpAddr::V6(v6) if v6.is_loopback() => Ok(node),
            IpAddr::V6(_) => Err(Errno::ENETUNREACH),
        }
    }

    /// The source address `node` uses towards `dst`.
    pub(super) fn source_ip(&self, node: NodeId, dst: IpAddr) -> IpAddr {
        match dst {
            IpAddr::V4(v4) if v4.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V4(_) => IpAddr::V4(self.nodes[node].addr),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        }
    }

    /// Whether `s` may not take `ep` (`listening`: the check `listen` repeats, where only
    /// other listeners matter).
    pub(super) fn conflict(&self, s: SockId, ep: Ep, listening: bool) -> bool {
        let Some(me) = self.socks.get(&s) else {
            return true;
        };
        let Some(list) = self.nodes[me.node].table(me.ty).ports.get(&ep.port) else {
            return false;
        };
        list.iter()
            .filter(|&&o| o != s)
            .filter_map(|o| self.socks.get(o))
            .any(|other| {
                let Some(oep) = other.local_ep() else {
                    return false;
                };
                if !overlaps(ep.ip, me.v6only(), oep.ip, other.v6only()) {
                    return false;
                }
                if me.opts.reuseport && other.opts.reuseport {
                    return false;
                }
                if listening {
                    return other.is_listening();
                }
                let shared = me.opts.reuseaddr && other.opts.reuseaddr;
                !(shared && (me.ty == SockType::Dgram || !other.is_listening()))
            })
    }

    /// A free ephemeral port of `node` for `ty`, searched upward from the last one given.
    fn ephemeral(&mut self, node: NodeId, ty: SockType) -> Option<u16> {
        let table = self.nodes[node].table_mut(ty);
        let span = EPHEMERAL_HI - EPHEMERAL_LO + 1;
        let start = table.next;
        let off = (0..span)
            .map(|i| (start + i) % span)
            .find(|off| !table.ports.contains_key(&(EPHEMERAL_LO + off)))?;
        table.next = (off + 1) % span;
        Some(EPHEMERAL_LO + off)
    }

    /// Binds `s` to `ep`; port 0 picks an ephemeral port. `explicit`: the user chose the port.
    pub(super) fn bind_ip(&mut self, s: SockId, ep: Ep, explicit: bool) -> Result<(), Errno> {
        let (node, ty) = {
            let sock = self.sock(s)?;
            (sock.node, sock.ty)
        };
        let port = if ep.port == 0 {
            self.ephemeral(node, ty).ok_or(Errno::EADDRINUSE)?
        } else if self.conflict(s, ep, false) {
            return Err(Errno::EADDRINUSE);
        } else {
            ep.port
        };
        self.add_to_table(node, ty, port, s);
        let sock = self.sock_mut(s)?;
        sock.local = Some(Local::Ip(Ep { ip: ep.ip, port }));
        sock.explicit_bind = explicit;
        Ok(())
    }

    /// Records `s` as bound to `port` (accepted sockets share their listener's port).
    pub(super) fn add_to_table(&mut self, node: NodeId, ty: SockType, port: u16, s: SockId) {
        self.nodes[node]
            .table_mut(ty)
            .ports
            .entry(port)
            .or_default()
            .push(s);
    }

    /// Releases whatever `s` is bound to. A closed path stays behind as stale.
    pub(super) fn unbind(&mut self, s: SockId) {
        let Some(sock) = self.socks.get_mut(&s) else {
            return;
        };
        let (node, ty) = (sock.node, sock.ty);
        match sock.local.take() {
            Some(Local::Ip(ep)) => {
                let table = self.nodes[node].table_mut(ty);
                if let Some(list) = table.ports.get_mut(&ep.port) {
                    list.retain(|&o| o != s);
                    if list.is_empty() {
                        table.ports.remove(&ep.port);
                    }
                }
            }
            Some(Local::Unix(path)) => {
                let file = sock.unix_file.take();
                let n = &mut self.nodes[node];
                if n.unix.get(&path) == Some(&s) {
                    n.unix.remove(&path);
                }
                // The file stays (Linux leaves it): a connect to it finds no socket.
                if let Some(f) = file {
                    if n.files.get(&f) == Some(&s) {
                        n.files.remove(&f);
                    }
                }
            }
            None => {}
        }
    }

    /// Releases the port of a socket whose connection ended, unless the user bound it.
    pub(super) fn release_autobind(&mut self, s: SockId) {
        if self.socks.get(&s).is_some_and(|sock| !sock.explicit_bind) {
            self.unbind(s);
        }
    }

    /// The best socket on `node` bound to traffic `src -> dst` that `extra` admits (`extra`
    /// returns a bonus score); an `SO_REUSEPORT` tie is broken by a hash of `src`.
    fn pick(
        &self,
        node: NodeId,
        ty: SockType,
        dst: Ep,
        src: Ep,
        extra: impl Fn(&Socket) -> Option<u8>,
    ) -> Option<SockId> {
        let list = self.nodes[node].table(ty).ports.get(&dst.port)?;
        let mut best: Vec<SockId> = Vec::new();
        let mut best_score = 0;
        for &id in list {
            let Some(sock) = self.socks.get(&id) else {
                continue;
            };
            let Some(ep) = sock.local_ep() else { continue };
            if !accepts(ep.ip, sock.v6only(), dst.ip) {
                continue;
            }
            let Some(bonus) = extra(sock) else { continue };
            let score = bonus + if ep.ip == dst.ip { 2 } else { 1 };
            if score > best_score {
                best_score = score;
                best.clear();
            }
            if score == best_score {
                best.push(id);
            }
        }
        match best.len() {
            0 => None,
            n => Some(best[(src.hash() % n as u64) as usize]),
        }
    }

    /// The listening socket a SYN `src -> dst` arriving at `node` is for.
    pub(super) fn find_listener(&self, node: NodeId, dst: Ep, src: Ep) -> Option<SockId> {
        self.pick(node, SockType::Stream, dst, src, |s| {
            s.is_listening().then_some(0)
        })
    }

    /// The UDP socket a datagram `src -> dst` arriving at `node` is for: connected sockets
    /// only take their peer's datagrams, and win over unconnected ones.
    pub(super) fn find_udp(&self, node: NodeId, dst: Ep, src: Ep) -> Option<SockId> {
        self.pick(node, SockType::Dgram, dst, src, |s| {
            match s.dgram().and_then(|d| d.peer_ep()) {
                Some(peer) if peer == src => Some(4),
                Some(_) => None,
                None => Some(0),
            }
        })
    }

    /// Binds an AF_UNIX socket to an abstract name (leading NUL); an empty name autobinds
    /// to an abstract `\0xxxxx` name. A path is bound with [`Network::bind_path`].
    pub(super) fn bind_unix(&mut self, s: SockId, path: &[u8]) -> Result<(), Errno> {
        if path.first().is_some_and(|&b| b != 0) {
            return Err(Errno::EINVAL);
        }
        let node = self.sock(s)?.node;
        let n = &mut self.nodes[node];
        let path = if path.is_empty() {
            loop {
                let name = format!("\0{:05x}", n.next_autobind & 0xf_ffff).into_bytes();
                n.next_autobind = n.next_autobind.wrapping_add(1);
                if !n.unix.contains_key(&name) {
                    break name;
                }
            }
        } else if n.unix.contains_key(path) {
            return Err(Errno::EADDRINUSE);
        } else {
            path.to_vec()
        };
        n.unix.insert(path.clone(), s);
        let sock = self.sock_mut(s)?;
        sock.local = Some(Local::Unix(path));
        sock.explicit_bind = true;
        Ok(())
    }

    /// Binds AF_UNIX socket `s` to `path`, whose socket file the engine has just made
    /// (`file`; `None` if it could not see it: then no path reaches the socket).
    /// `EINVAL` if `s` is bound already or is not AF_UNIX. The file is new, so a socket
    /// the model still keys by the same identity (a number the host reused) loses it.
    pub fn bind_path(
        &mut self,
        s: SockId,
        path: &[u8],
        file: Option<UnixFile>,
    ) -> Result<(), Errno> {
        let sock = self.sock(s)?;
        if sock.local.is_some() || sock.domain != Domain::Unix || path.is_empty() {
            return Err(Errno::EINVAL);
        }
        let node = sock.node;
        if let Some(f) = file {
            if let Some(old) = self.nodes[node].files.insert(f, s) {
                if let Some(o) = self.socks.get_mut(&old) {
                    o.unix_file = None;
                }
            }
        }
        let sock = self.sock_mut(s)?;
        sock.local = Some(Local::Unix(path.to_vec()));
        sock.unix_file = file;
        sock.explicit_bind = true;
        Ok(())
    }

    /// Whether `s` may still be bound (an unbound AF_UNIX socket): what the engine checks
    /// before it has the kernel make a socket file.
    pub fn can_bind_path(&self, s: SockId) -> Result<(), Errno> {
        let sock = self.sock(s)?;
        if sock.local.is_some() || sock.domain != Domain::Unix {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    /// The socket an AF_UNIX address reaches on `node`, with the name it is bound to: an
    /// abstract name by its bytes (`ECONNREFUSED` if unbound, as Linux), a path by the
    /// socket file the engine found for it (`file`; `None`: no such file, `ENOENT`), which
    /// no bound socket may own any more (`ECONNREFUSED`: a stale socket file).
    pub(super) fn lookup_unix(
        &self,
        node: NodeId,
        path: &[u8],
        file: Option<UnixFile>,
    ) -> Result<(SockId, Vec<u8>), Errno> {
        let n = &self.nodes[node];
        let s = if path.first() == Some(&0) {
            *n.unix.get(path).ok_or(Errno::ECONNREFUSED)?
        } else {
            *n.files
                .get(&file.ok_or(Errno::ENOENT)?)
                .ok_or(Errno::ECONNREFUSED)?
        };
        let name = match self.socks.get(&s).and_then(|x| x.local.as_ref()) {
            Some(Local::Unix(p)) => p.clone(),
            _ => path.to_vec(),
        };
        Ok((s, name))
    }
}
