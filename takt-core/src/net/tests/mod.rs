//! Unit tests of the virtual network: shared helpers, options, determinism, partitions.
//! TCP tests are in `tcp.rs`, UDP and AF_UNIX tests in `dgram.rs`.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

mod dgram;
mod tcp;

/// Address of node `a`.
const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// Address of node `b`.
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const LOCAL: Ipv4Addr = Ipv4Addr::LOCALHOST;

fn us(n: u64) -> VTime {
    VTime(n * 1_000)
}

fn v4(ip: Ipv4Addr, port: u16) -> SockAddr {
    SockAddr::Inet(SocketAddrV4::new(ip, port))
}

fn v6(ip: Ipv6Addr, port: u16) -> SockAddr {
    SockAddr::Inet6(SocketAddrV6::new(ip, port, 0, 0))
}

fn unix(path: &str) -> SockAddr {
    SockAddr::Unix(path.as_bytes().to_vec())
}

/// A network with two nodes, `a` (10.0.0.1) and `b` (10.0.0.2), and a clock.
struct World {
    net: Network,
    now: VTime,
    changed: Vec<SockId>,
    a: NodeId,
    b: NodeId,
}

impl World {
    fn new(cfg: NetConfig) -> World {
        let mut net = Network::new(cfg);
        let a = net.add_node("a", A);
        let b = net.add_node("b", B);
        World {
            net,
            now: VTime::ZERO,
            changed: Vec::new(),
            a,
            b,
        }
    }

    fn std() -> World {
        World::new(NetConfig::default())
    }

    /// Delivers everything due up to `t`, event by event, and sets the clock to `t`.
    fn run_until(&mut self, t: VTime) {
        while let Some(e) = self.net.next_event().filter(|&e| e <= t) {
            self.now = self.now.max(e);
            self.net.advance(self.now, &mut self.changed);
        }
        self.now = self.now.max(t);
    }

    /// Delivers everything in flight.
    fn settle(&mut self) {
        while let Some(e) = self.net.next_event() {
            self.now = self.now.max(e);
            self.net.advance(self.now, &mut self.changed);
        }
    }

    fn sock(&mut self, node: NodeId, domain: Domain, ty: SockType) -> SockId {
        self.net.socket(node, domain, ty).unwrap()
    }

    fn tcp(&mut self, node: NodeId) -> SockId {
        self.sock(node, Domain::Inet, SockType::Stream)
    }

    fn udp(&mut self, node: NodeId) -> SockId {
        self.sock(node, Domain::Inet, SockType::Dgram)
    }

    /// A TCP listener on `0.0.0.0:port` of `node`.
    fn listener(&mut self, node: NodeId, port: u16) -> SockId {
        let l = self.tcp(node);
        self.net.bind(l, &v4(Ipv4Addr::UNSPECIFIED, port)).unwrap();
        self.net.listen(l, 128).unwrap();
        l
    }

    /// An established TCP connection from `from` to `to:port` (a listener must exist):
    /// (client, accepted server socket).
    fn connect(&mut self, from: NodeId, l: SockId, to: SockAddr) -> (SockId, SockId) {
        let c = self.tcp(from);
        assert_eq!(
            self.net.connect(c, &to, self.now),
            Err(NetError::InProgress)
        );
        self.settle();
        assert_eq!(self.net.connect(c, &to, self.now), Ok(()));
        let (s, _) = self.net.accept(l).unwrap();
        (c, s)
    }

    /// A fresh connection a -> b:7000 with its listener: (client, server, listener).
    fn pair(&mut self) -> (SockId, SockId, SockId) {
        let l = self.listener(self.b, 7000);
        let (c, s) = self.connect(self.a, l, v4(B, 7000));
        (c, s, l)
    }

    fn send(&mut self, s: SockId, data: &[u8]) -> Result<usize, NetError> {
        self.net.send(s, data, None, self.now)
    }

    /// Reads up to 64 KiB.
    fn recv(&mut self, s: SockId) -> Result<Vec<u8>, NetError> {
        let mut buf = vec![0; 65536];
        let (n, _) = self.net.recv(s, &mut buf, false)?;
        buf.truncate(n);
        Ok(buf)
    }
}

#[test]
fn options_follow_linux() {
    let mut w = World::std();
    let t = w.tcp(w.a);
    assert_eq!(
        w.net.get_option(t, SockOptName::RcvBuf),
        Ok(SockOpt::RcvBuf(131_072))
    );
    w.net.set_option(t, SockOpt::RcvBuf(1000)).unwrap();
    assert_eq!(
        w.net.get_option(t, SockOptName::RcvBuf),
        Ok(SockOpt::RcvBuf(2304))
    );
    w.net.set_option(t, SockOpt::SndBuf(1 << 24)).unwrap();
    assert_eq!(
        w.net.get_option(t, SockOptName::SndBuf),
        Ok(SockOpt::SndBuf(425_984))
    );
    w.net.set_option(t, SockOpt::SndBuf(10_000)).unwrap();
    assert_eq!(
        w.net.get_option(t, SockOptName::SndBuf),
        Ok(SockOpt::SndBuf(20_000))
    );
    w.net.set_option(t, SockOpt::NoDelay(true)).unwrap();
    assert_eq!(
        w.net.get_option(t, SockOptName::NoDelay),
        Ok(SockOpt::NoDelay(true))
    );
    w.net.set_option(t, SockOpt::Linger(Some(5))).unwrap();
    assert_eq!(
        w.net.get_option(t, SockOptName::Linger),
        Ok(SockOpt::Linger(Some(5)))
    );
    assert_eq!(
        w.net.set_option(t, SockOpt::V6Only(true)),
        Err(Errno::ENOPROTOOPT)
    );
    assert_eq!(
        w.net.set_option(t, SockOpt::AcceptConn(true)),
        Err(Errno::ENOPROTOOPT)
    );
    assert_eq!(
        w.net.get_option(t, SockOptName::AcceptConn),
        Ok(SockOpt::AcceptConn(false))
    );
    w.net.listen(t, 1).unwrap();
    assert_eq!(
        w.net.get_option(t, SockOptName::AcceptConn),
        Ok(SockOpt::AcceptConn(true))
    );

    let u = w.udp(w.a);
    assert_eq!(
        w.net.set_option(u, SockOpt::NoDelay(true)),
        Err(Errno::ENOPROTOOPT)
    );
    assert_eq!(
        w.net.get_option(u, SockOptName::RcvBuf),
        Ok(SockOpt::RcvBuf(212_992))
    );
    let x = w.sock(w.a, Domain::Unix, SockType::Stream);
    assert_eq!(
        w.net.set_option(x, SockOpt::NoDelay(true)),
        Err(Errno::EOPNOTSUPP)
    );

    let s6 = w.sock(w.a, Domain::Inet6, SockType::Stream);
    w.net.set_option(s6, SockOpt::V6Only(true)).unwrap();
    assert_eq!(
        w.net.get_option(s6, SockOptName::V6Only),
        Ok(SockOpt::V6Only(true))
    );
    w.net.bind(s6, &v6(Ipv6Addr::UNSPECIFIED, 0)).unwrap();
    assert_eq!(
        w.net.set_option(s6, SockOpt::V6Only(false)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        w.net.set_option(999, SockOpt::ReuseAddr(true)),
        Err(Errno::EBADF)
    );
}

#[test]
fn ids_are_never_reused_and_types_outlive_close() {
    let mut w = World::std();
    let a = w.udp(w.a);
    w.net.close(a, w.now);
    let b = w.tcp(w.a);
    assert_ne!(a, b);
    assert!(!w.net.exists(a));
    assert_eq!(w.net.sock_type(a), SockType::Dgram);
    assert_eq!(w.net.sock_type(b), SockType::Stream);
    assert_eq!(w.net.domain(b), Domain::Inet);
    assert_eq!(w.net.recv(a, &mut [0; 4], false), Err(Errno::EBADF.into()));
    assert!(w.net.readiness(a).readable, "nobody parks on a dead id");
    assert_eq!(
        w.net.socket(7, Domain::Inet, SockType::Stream),
        Err(Errno::EINVAL)
    );
    assert_eq!(w.net.node_by_addr(B), Some(w.b));
    assert_eq!(w.net.node_by_addr(Ipv4Addr::new(1, 2, 3, 4)), None);
    assert_eq!(w.net.node_name(w.b), Some("b"));
}

/// Two connections a -> b sending alternately under jitter: the log of (time, connection,
/// bytes) as the server sides see data arrive.
fn interleaving(seed: u64) -> Vec<(VTime, usize, Vec<u8>)> {
    let cfg = NetConfig {
        jitter: Duration::from_micros(50),
        seed,
        ..NetConfig::default()
    };
    let mut w = World::new(cfg);
    let l = w.listener(w.b, 7000);
    let (c1, s1) = w.connect(w.a, l, v4(B, 7000));
    let (c2, s2) = w.connect(w.a, l, v4(B, 7000));
    for i in 0..20u8 {
        w.send(c1, &[i]).unwrap();
        w.send(c2, &[100 + i]).unwrap();
        w.now = w.now.plus_nanos(10_000);
    }
    let mut log = Vec::new();
    while let Some(t) = w.net.next_event() {
        w.now = w.now.max(t);
        w.net.advance(w.now, &mut w.changed);
        for (k, s) in [(1, s1), (2, s2)] {
            if let Ok(bytes) = w.recv(s) {
                log.push((w.now, k, bytes));
            }
        }
    }
    log
}

#[test]
fn same_seed_same_run_different_seeds_interleave_differently() {
    let base = interleaving(1);
    assert_eq!(base, interleaving(1));
    // Within each connection the bytes stay in order.
    for (k, first) in [(1, 0u8), (2, 100)] {
        let bytes: Vec<u8> = base
            .iter()
            .filter(|e| e.1 == k)
            .flat_map(|e| e.2.clone())
            .collect();
        assert_eq!(bytes, (first..first + 20).collect::<Vec<_>>());
    }
    let order = |log: &[(VTime, usize, Vec<u8>)]| log.iter().map(|e| e.1).collect::<Vec<_>>();
    assert!((2..8).any(|seed| order(&interleaving(seed)) != order(&base)));
    let times = |log: &[(VTime, usize, Vec<u8>)]| log.iter().map(|e| e.0).collect::<Vec<_>>();
    assert_ne!(times(&interleaving(2)), times(&base));
}

#[test]
fn partition_holds_packets_and_times_out_connects() {
    let cfg = NetConfig {
        connect_timeout: Duration::from_secs(3),
        ..NetConfig::default()
    };
    let mut w = World::new(cfg);
    let (c, s, l) = w.pair();
    w.net.set_partition(w.a, w.b, true);
    assert!(w.net.is_cut(w.b, w.a));
    w.send(c, b"held").unwrap();
    w.run_until(w.now.plus_nanos(50_000_000));
    assert_eq!(w.recv(s), Err(NetError::WouldBlock));
    w.send(c, b" in order").unwrap();

    let c2 = w.tcp(w.a);
    let start = w.now;
    assert_eq!(
        w.net.connect(c2, &v4(B, 7000), w.now),
        Err(NetError::InProgress)
    );
    w.run_until(start.after(Duration::from_millis(2999)));
    assert!(!w.net.readiness(c2).writable);
    w.run_until(start.after(Duration::from_secs(3)));
    assert!(w.net.readiness(c2).error);
    assert_eq!(
        w.net.connect(c2, &v4(B, 7000), w.now),
        Err(Errno::ETIMEDOUT.into())
    );

    w.net.set_partition(w.a, w.b, false);
    w.settle();
    assert_eq!(w.recv(s).unwrap(), b"held in order");
    // The held SYN of the timed-out connect reached the listener late: that connection is
    // reset, and the client socket is unaffected.
    let (late, _) = w.net.accept(l).unwrap();
    assert_eq!(w.recv(late), Err(Errno::ECONNRESET.into()));
    assert_eq!(w.net.take_error(c2), None);
}
