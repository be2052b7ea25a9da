//! TCP tests: handshake, data, FIN, RST, half-close, backlog, binding, ports, flow control.

use super::*;
use proptest::prelude::*;

#[test]
fn handshake_and_echo() {
    let mut w = World::std();
    let l = w.listener(w.b, 7000);
    let c = w.tcp(w.a);
    assert_eq!(
        w.net.connect(c, &v4(B, 7000), w.now),
        Err(NetError::InProgress)
    );
    assert_eq!(w.net.readiness(c), Readiness::default());
    assert_eq!(
        w.net.connect(c, &v4(B, 7000), w.now),
        Err(Errno::EALREADY.into())
    );
    assert_eq!(w.send(c, b"early"), Err(NetError::WouldBlock));
    assert_eq!(w.net.peer_addr(c), Err(Errno::ENOTCONN));

    // The SYN takes one remote latency; the server side is then queued.
    w.run_until(us(199));
    assert!(!w.net.readiness(l).readable);
    w.run_until(us(200));
    assert!(w.net.readiness(l).readable);
    assert!(w.changed.contains(&l));
    let (s, peer) = w.net.accept(l).unwrap();
    assert_eq!(peer, v4(A, 32768));
    assert_eq!(w.net.local_addr(c), Ok(v4(A, 32768)));
    assert_eq!(w.net.local_addr(s), Ok(v4(B, 7000)));
    assert_eq!(w.net.accept(l), Err(NetError::WouldBlock));

    // The SYN-ACK takes another: the client is established after one round trip.
    w.run_until(us(399));
    assert!(!w.net.readiness(c).writable);
    w.run_until(us(400));
    assert!(w.net.readiness(c).writable);
    assert_eq!(w.net.take_error(c), None);
    assert_eq!(w.net.connect(c, &v4(B, 7000), w.now), Ok(()));
    assert_eq!(
        w.net.connect(c, &v4(B, 7000), w.now),
        Err(Errno::EISCONN.into())
    );
    assert_eq!(w.net.peer_addr(c), Ok(v4(B, 7000)));

    assert_eq!(w.send(c, b"hello"), Ok(5));
    assert_eq!(w.recv(s), Err(NetError::WouldBlock));
    w.settle();
    assert_eq!(w.net.bytes_readable(s), 5);
    let mut peek = [0; 2];
    assert_eq!(w.net.recv(s, &mut peek, true), Ok((2, None)));
    assert_eq!(&peek, b"he");
    assert_eq!(w.recv(s).unwrap(), b"hello");
    assert_eq!(w.send(s, b"hello"), Ok(5));
    w.settle();
    assert_eq!(w.recv(c).unwrap(), b"hello");
    assert_eq!(w.recv(c), Err(NetError::WouldBlock));
}

#[test]
fn data_is_not_readable_before_latency() {
    let mut w = World::std();
    let (c, s, _) = w.pair();
    w.run_until(us(1000));
    w.send(c, b"ping").unwrap();
    w.run_until(us(1199));
    assert!(!w.net.readiness(s).readable);
    w.run_until(us(1200));
    assert!(w.net.readiness(s).readable);
    assert_eq!(w.recv(s).unwrap(), b"ping");

    // Loopback within a node uses the local latency.
    let l = w.listener(w.a, 8000);
    let t0 = w.now;
    let c2 = w.tcp(w.a);
    assert_eq!(
        w.net.connect(c2, &v4(LOCAL, 8000), w.now),
        Err(NetError::InProgress)
    );
    w.run_until(t0.plus_nanos(19_999));
    assert!(!w.net.readiness(c2).writable);
    w.run_until(t0.plus_nanos(20_000));
    assert!(w.net.readiness(c2).writable);
    assert_eq!(w.net.local_addr(c2).unwrap(), w.net.accept(l).unwrap().1);
    assert_eq!(w.net.peer_addr(c2), Ok(v4(LOCAL, 8000)));
}

#[test]
fn eof_after_fin() {
    let mut w = World::std();
    let (c, s, _) = w.pair();
    w.send(c, b"bye").unwrap();
    w.net.close(c, w.now);
    assert_eq!(w.recv(s), Err(NetError::WouldBlock));
    w.settle();
    let r = w.net.readiness(s);
    assert!(r.readable && r.rdhup && !r.hup && !r.error);
    assert_eq!(w.recv(s).unwrap(), b"bye");
    assert_eq!(w.recv(s).unwrap(), b"");
    assert_eq!(w.recv(s).unwrap(), b"");
}

#[test]
fn write_to_closed_peer_gets_rst_then_epipe() {
    let mut w = World::std();
    let (c, s, _) = w.pair();
    w.net.close(c, w.now);
    w.settle();
    // Like Linux: the first write succeeds, the peer answers RST, then EPIPE.
    assert_eq!(w.send(s, b"x"), Ok(1));
    w.settle();
    assert!(w.net.readiness(s).error);
    assert_eq!(w.send(s, b"x"), Err(Errno::EPIPE.into()));
    assert_eq!(w.send(s, b"x"), Err(Errno::EPIPE.into()));
    assert_eq!(w.recv(s).unwrap(), b"");
}

#[test]
fn half_close_from_the_client() {
    let mut w = World::std();
    let (c, s, _) = w.pair();
    w.send(c, b"request").unwrap();
    w.net.shutdown(c, Shutdown::Write, w.now).unwrap();
    w.net.shutdown(c, Shutdown::Write, w.now).unwrap();
    assert_eq!(w.send(c, b"more"), Err(Errno::EPIPE.into()));
    w.settle();
    assert_eq!(w.recv(s).unwrap(), b"request");
    assert_eq!(w.recv(s).unwrap(), b"");
    let r = w.net.readiness(s);
    assert!(r.rdhup && !r.hup && r.writable);
    // The other direction still works.
    w.send(s, b"response").unwrap();
    w.net.shutdown(s, Shutdown::Write, w.now).unwrap();
    w.settle();
    assert_eq!(w.recv(c).unwrap(), b"response");
    assert_eq!(w.recv(c).unwrap(), b"");
    assert!(w.net.readiness(c).hup);
    assert!(w.net.readiness(s).hup);
    assert_eq!(w.net.take_error(c), None);
}

#[test]
fn half_close_from_the_server() {
    let mut w = World::std();
    let (c, s, _) = w.pair();
    w.send(s, b"banner").unwrap();
    w.net.shutdown(s, Shutdown::Write, w.now).unwrap();
    w.settle();
    assert_eq!(w.recv(c).unwrap(), b"banner");
    assert_eq!(w.recv(c).unwrap(), b"");
    w.send(c, b"still talking").unwrap();
    w.settle();
    assert_eq!(w.recv(s).unwrap(), b"still talking");
    // SHUT_RD: reads return buffered bytes, then 0 (Linux).
    w.send(c, b"late").unwrap();
    w.settle();
    w.net.shutdown(s, Shutdown::Read, w.now).unwrap();
    assert!(w.net.readiness(s).hup);
    assert_eq!(w.recv(s).unwrap(), b"late");
    assert_eq!(w.recv(s).unwrap(), b"");
    let fresh = w.tcp(w.a);
    assert_eq!(
        w.net.shutdown(fresh, Shutdown::Both, w.now),
        Err(Errno::ENOTCONN)
    );
}

#[test]
fn close_with_unread_data_resets_the_peer() {
    let mut w = World::std();
    let (c, s, _) = w.pair();
    w.send(s, b"hello").unwrap();
    w.send(c, b"never read").unwrap();
    w.settle();
    w.net.close(s, w.now);
    w.settle();
    let r = w.net.readiness(c);
    assert!(r.readable && r.writable && r.hup && r.rdhup && r.error);
    assert!(w.changed.contains(&c));
    // Bytes that arrived before the RST are still read first (Linux).
    assert_eq!(w.recv(c).unwrap(), b"hello");
    assert_eq!(w.recv(c), Err(Errno::ECONNRESET.into()));
    assert_eq!(w.recv(c).unwrap(), b"");
    assert_eq!(w.send(c, b"x"), Err(Errno::EPIPE.into()));
    assert_eq!(w.net.peer_addr(c), Err(Errno::ENOTCONN));
    assert_eq!(
        w.net.connect(c, &v4(B, 7000), w.now),
        Err(Errno::EISCONN.into())
    );
}

#[test]
fn linger_zero_and_fault_injection_reset() {
    let mut w = World::std();
    let (c, s, _) = w.pair();
    w.net.set_option(c, SockOpt::Linger(Some(0))).unwrap();
    w.net.close(c, w.now);
    w.settle();
    assert_eq!(w.net.take_error(s), Some(Errno::ECONNRESET));

    let l2 = w.listener(w.b, 7001);
    let (c, s) = w.connect(w.a, l2, v4(B, 7001));
    w.net.reset_connection(c, w.now).unwrap();
    assert_eq!(w.send(c, b"x"), Err(Errno::ECONNRESET.into()));
    w.settle();
    assert_eq!(w.recv(s), Err(Errno::ECONNRESET.into()));
    assert_eq!(w.net.reset_connection(c, w.now), Err(Errno::ENOTCONN));
}

#[test]
fn refused_without_listener() {
    let mut w = World::std();
    let c = w.tcp(w.a);
    assert_eq!(
        w.net.connect(c, &v4(B, 9), w.now),
        Err(NetError::InProgress)
    );
    w.run_until(us(399));
    assert_eq!(w.net.readiness(c), Readiness::default());
    w.run_until(us(400));
    let r = w.net.readiness(c);
    assert!(r.writable && r.error && r.hup);
    assert_eq!(
        w.net.connect(c, &v4(B, 9), w.now),
        Err(Errno::ECONNREFUSED.into())
    );
    // The autobound port was released; the socket may try again.
    assert_eq!(w.net.local_addr(c), Ok(v4(Ipv4Addr::UNSPECIFIED, 0)));
    assert_eq!(
        w.net.connect(c, &v4(B, 9), w.now),
        Err(NetError::InProgress)
    );
    w.settle();
    assert_eq!(w.net.take_error(c), Some(Errno::ECONNREFUSED));
    assert_eq!(w.net.take_error(c), None);

    // Loopback, and the blocking-connect style check through SO_ERROR.
    let c = w.tcp(w.a);
    assert_eq!(
        w.net.connect(c, &v4(LOCAL, 1), w.now),
        Err(NetError::InProgress)
    );
    w.settle();
    assert_eq!(w.net.take_error(c), Some(Errno::ECONNREFUSED));
    // An address no node has: no route, at once.
    let c = w.tcp(w.a);
    let far = v4(Ipv4Addr::new(192, 168, 9, 9), 80);
    assert_eq!(
        w.net.connect(c, &far, w.now),
        Err(Errno::ENETUNREACH.into())
    );
    assert_eq!(w.net.send(c, b"x", None, w.now), Err(Errno::EPIPE.into()));
    assert_eq!(w.recv(c), Err(Errno::ENOTCONN.into()));
}

#[test]
fn closing_a_listener_resets_queued_connections() {
    let mut w = World::std();
    let l = w.listener(w.b, 7000);
    let c = w.tcp(w.a);
    let _ = w.net.connect(c, &v4(B, 7000), w.now);
    w.settle();
    let before = w.net.socket_count();
    w.net.close(l, w.now);
    assert_eq!(w.net.socket_count(), before - 2);
    w.settle();
    assert_eq!(w.recv(c), Err(Errno::ECONNRESET.into()));
    // The port is free again.
    let l = w.listener(w.b, 7000);
    // shutdown(SHUT_RD) on a listener stops it: accept fails, new connects are refused.
    w.net.shutdown(l, Shutdown::Read, w.now).unwrap();
    assert_eq!(w.net.accept(l), Err(Errno::EINVAL.into()));
    let c = w.tcp(w.a);
    let _ = w.net.connect(c, &v4(B, 7000), w.now);
    w.settle();
    assert_eq!(w.net.take_error(c), Some(Errno::ECONNREFUSED));
}

#[test]
fn close_while_connecting_resets_the_server_side() {
    let mut w = World::std();
    let l = w.listener(w.b, 7000);
    let c = w.tcp(w.a);
    let _ = w.net.connect(c, &v4(B, 7000), w.now);
    w.net.close(c, w.now);
    w.settle();
    let (s, _) = w.net.accept(l).unwrap();
    assert_eq!(w.recv(s), Err(Errno::ECONNRESET.into()));
}

#[test]
fn full_backlog_drops_syn_until_retransmission() {
    let mut w = World::std();
    let l = w.tcp(w.b);
    w.net.bind(l, &v4(B, 7000)).unwrap();
    w.net.listen(l, 0).unwrap(); // room for one connection, like Linux
    let c1 = w.tcp(w.a);
    let c2 = w.tcp(w.a);
    let _ = w.net.connect(c1, &v4(B, 7000), w.now);
    let _ = w.net.connect(c2, &v4(B, 7000), w.now);
    w.run_until(us(500));
    assert!(w.net.readiness(c1).writable);
    assert_eq!(w.net.readiness(c2), Readiness::default());
    w.net.accept(l).unwrap();
    assert_eq!(w.net.accept(l), Err(NetError::WouldBlock));
    // The SYN is sent again 1 s after the first and takes one latency each way.
    w.run_until(VTime(1_000_399_999));
    assert!(!w.net.readiness(c2).writable);
    w.run_until(VTime(1_000_400_000));
    assert!(w.net.readiness(c2).writable);
    assert_eq!(w.net.connect(c2, &v4(B, 7000), w.now), Ok(()));
    assert!(w.net.accept(l).is_ok());
}

#[test]
fn bind_conflicts() {
    let mut w = World::std();
    let any = Ipv4Addr::UNSPECIFIED;
    let l = w.listener(w.a, 80);
    let t = w.tcp(w.a);
    assert_eq!(w.net.bind(t, &v4(any, 80)), Err(Errno::EADDRINUSE));
    assert_eq!(w.net.bind(t, &v4(A, 80)), Err(Errno::EADDRINUSE));
    assert_eq!(
        w.net.bind(t, &v4(Ipv4Addr::new(10, 0, 0, 9), 81)),
        Err(Errno::EADDRNOTAVAIL)
    );
    // Another node has its own port space; UDP has its own too.
    let tb = w.tcp(w.b);
    w.net.bind(tb, &v4(any, 80)).unwrap();
    let u = w.udp(w.a);
    w.net.bind(u, &v4(any, 80)).unwrap();
    assert_eq!(w.net.bind(u, &v4(any, 81)), Err(Errno::EINVAL));
    // SO_REUSEADDR does not share with a listener...
    w.net.set_option(t, SockOpt::ReuseAddr(true)).unwrap();
    w.net.set_option(l, SockOpt::ReuseAddr(true)).unwrap();
    assert_eq!(w.net.bind(t, &v4(any, 80)), Err(Errno::EADDRINUSE));
    // ...but does with established sockets that have it (a restarted server).
    let (_c, s) = w.connect(w.b, l, v4(A, 80));
    w.net.close(l, w.now);
    let t2 = w.tcp(w.a);
    assert_eq!(
        w.net.bind(t2, &v4(any, 80)),
        Err(Errno::EADDRINUSE),
        "no SO_REUSEADDR"
    );
    w.net.bind(t, &v4(any, 80)).unwrap();
    w.net.listen(t, 8).unwrap();
    assert!(w.net.exists(s));
    // SO_REUSEPORT on both: two listeners share a port.
    let (r1, r2) = (w.tcp(w.a), w.tcp(w.a));
    for r in [r1, r2] {
        w.net.set_option(r, SockOpt::ReusePort(true)).unwrap();
        w.net.bind(r, &v4(LOCAL, 90)).unwrap();
        w.net.listen(r, 8).unwrap();
    }
    // Two SO_REUSEADDR sockets may bind together but not both listen.
    let (q1, q2) = (w.tcp(w.a), w.tcp(w.a));
    for q in [q1, q2] {
        w.net.set_option(q, SockOpt::ReuseAddr(true)).unwrap();
        w.net.bind(q, &v4(any, 91)).unwrap();
    }
    w.net.listen(q1, 8).unwrap();
    assert_eq!(w.net.listen(q2, 8), Err(Errno::EADDRINUSE));
    // Family checks.
    let t3 = w.tcp(w.a);
    assert_eq!(
        w.net.bind(t3, &v6(Ipv6Addr::LOCALHOST, 1)),
        Err(Errno::EAFNOSUPPORT)
    );
    assert_eq!(w.net.bind(t3, &unix("/x")), Err(Errno::EAFNOSUPPORT));
}

#[test]
fn ephemeral_ports_are_deterministic() {
    fn run() -> Vec<SockAddr> {
        let mut w = World::std();
        let mut out = Vec::new();
        for _ in 0..2 {
            let t = w.tcp(w.a);
            w.net.bind(t, &v4(Ipv4Addr::UNSPECIFIED, 0)).unwrap();
            out.push(w.net.local_addr(t).unwrap());
            w.net.close(t, w.now);
        }
        let u = w.udp(w.a);
        w.net.bind(u, &v4(A, 0)).unwrap();
        out.push(w.net.local_addr(u).unwrap());
        let tb = w.tcp(w.b);
        w.net.listen(tb, 1).unwrap();
        out.push(w.net.local_addr(tb).unwrap());
        let l = w.listener(w.a, 32770);
        let (c, _) = w.connect(w.b, l, v4(A, 32770));
        out.push(w.net.local_addr(c).unwrap());
        out
    }
    let ports = run();
    assert_eq!(
        ports,
        vec![
            v4(Ipv4Addr::UNSPECIFIED, 32768),
            v4(Ipv4Addr::UNSPECIFIED, 32769),
            v4(A, 32768),
            v4(Ipv4Addr::UNSPECIFIED, 32768),
            v4(B, 32769),
        ]
    );
    assert_eq!(run(), ports);
}

#[test]
fn dual_stack() {
    let mut w = World::std();
    let l6 = w.sock(w.b, Domain::Inet6, SockType::Stream);
    w.net.bind(l6, &v6(Ipv6Addr::UNSPECIFIED, 80)).unwrap();
    w.net.listen(l6, 8).unwrap();
    // A dual-stack wildcard owns the IPv4 port too.
    let l4 = w.tcp(w.b);
    assert_eq!(
        w.net.bind(l4, &v4(Ipv4Addr::UNSPECIFIED, 80)),
        Err(Errno::EADDRINUSE)
    );
    let (c, s) = w.connect(w.a, l6, v4(B, 80));
    let mapped = |ip: Ipv4Addr, port| v6(ip.to_ipv6_mapped(), port);
    assert_eq!(w.net.peer_addr(s), Ok(mapped(A, 32768)));
    assert_eq!(w.net.local_addr(s), Ok(mapped(B, 80)));
    assert_eq!(w.net.peer_addr(c), Ok(v4(B, 80)));
    // IPv6 loopback.
    let c6 = w.sock(w.b, Domain::Inet6, SockType::Stream);
    let _ = w.net.connect(c6, &v6(Ipv6Addr::LOCALHOST, 80), w.now);
    w.settle();
    let (_, peer) = w.net.accept(l6).unwrap();
    assert_eq!(peer, v6(Ipv6Addr::LOCALHOST, 32768));
    // With IPV6_V6ONLY the IPv4 side is separate.
    let only = w.sock(w.a, Domain::Inet6, SockType::Stream);
    w.net.set_option(only, SockOpt::V6Only(true)).unwrap();
    w.net.bind(only, &v6(Ipv6Addr::UNSPECIFIED, 80)).unwrap();
    w.net.listen(only, 8).unwrap();
    let c4 = w.tcp(w.b);
    let _ = w.net.connect(c4, &v4(A, 80), w.now);
    w.settle();
    assert_eq!(w.net.take_error(c4), Some(Errno::ECONNREFUSED));
    let l4 = w.listener(w.a, 80);
    let (_c, _s) = w.connect(w.b, l4, v4(A, 80));
}

#[test]
fn backpressure_and_wakeup_after_the_peer_reads() {
    let cfg = NetConfig {
        stream_buffer: 1000,
        ..NetConfig::default()
    };
    let mut w = World::new(cfg);
    let (c, s, _) = w.pair();
    assert_eq!(w.send(c, &[1; 600]), Ok(600));
    assert_eq!(w.send(c, &[2; 600]), Ok(400));
    assert_eq!(w.send(c, &[3; 10]), Err(NetError::WouldBlock));
    assert!(!w.net.readiness(c).writable);
    assert_eq!(w.net.bytes_unread_by_peer(c), 1000);
    w.settle();
    assert_eq!(w.send(c, &[3; 10]), Err(NetError::WouldBlock));
    let mut buf = [0; 100];
    assert_eq!(w.net.recv(s, &mut buf, false), Ok((100, None)));
    // The reader's progress is reported to the writer by the next advance.
    w.changed.clear();
    assert_eq!(w.net.next_event(), Some(w.now));
    w.settle();
    assert!(w.changed.contains(&c));
    assert!(
        !w.net.readiness(c).writable,
        "writable only once a third is free"
    );
    assert_eq!(w.send(c, &[3; 10]), Ok(10));
    let got = w.recv(s).unwrap();
    assert_eq!(got.len(), 900);
    assert!(w.net.readiness(c).writable);
    assert_eq!(w.send(c, &[4; 2000]), Ok(990));
}

#[derive(Clone, Debug)]
enum Op {
    Send(bool, usize),
    Recv(bool, usize),
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<bool>(), 0..3000usize).prop_map(|(d, n)| Op::Send(d, n)),
        (any::<bool>(), 1..3000usize).prop_map(|(d, n)| Op::Recv(d, n)),
        (0..400u64).prop_map(Op::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random sends, receives and waits on both directions of one connection, under jitter
    /// and small buffers, deliver each byte stream exactly.
    #[test]
    fn byte_streams_are_preserved(ops in proptest::collection::vec(op(), 1..120), seed in any::<u64>()) {
        let cfg = NetConfig {
            stream_buffer: 4096,
            jitter: Duration::from_micros(150),
            seed,
            ..NetConfig::default()
        };
        let mut w = World::new(cfg);
        let (c, s, _) = w.pair();
        let ends = [(c, s), (s, c)];
        let mut sent = [Vec::new(), Vec::new()];
        let mut got = [Vec::new(), Vec::new()];
        let mut counter = 0u8;
        for op in ops {
            match op {
                Op::Send(d, n) => {
                    let data: Vec<u8> = (0..n).map(|_| { counter = counter.wrapping_add(7); counter }).collect();
                    match w.send(ends[d as usize].0, &data) {
                        Ok(k) => sent[d as usize].extend_from_slice(&data[..k]),
                        Err(e) => prop_assert_eq!(e, NetError::WouldBlock),
                    }
                }
                Op::Recv(d, n) => {
                    let mut buf = vec![0; n];
                    match w.net.recv(ends[d as usize].1, &mut buf, false) {
                        Ok((k, _)) => got[d as usize].extend_from_slice(&buf[..k]),
                        Err(e) => prop_assert_eq!(e, NetError::WouldBlock),
                    }
                }
                Op::Wait(t) => {
                    let until = w.now.plus_nanos(t * 1000);
                    w.run_until(until);
                }
            }
            for d in 0..2 {
                prop_assert!(got[d].len() <= sent[d].len());
                prop_assert_eq!(&got[d][..], &sent[d][..got[d].len()]);
            }
        }
        w.settle();
        for d in 0..2 {
            while let Ok(bytes) = w.recv(ends[d].1) {
                got[d].extend_from_slice(&bytes);
            }
            prop_assert_eq!(&got[d], &sent[d]);
        }
    }
}

#[test]
fn receives_name_the_sends_they_consumed() {
    use crate::trace::Msgs;
    let mut w = World::std();
    let (c, s, _) = w.pair();
    w.net.take_msgs();
    for (i, part) in [&b"ab"[..], b"cd", b"ef"].into_iter().enumerate() {
        w.send(c, part).unwrap();
        let m = w.net.take_msgs();
        assert_eq!(
            m,
            Some(Msgs {
                sent: true,
                sock: c as u32,
                first: i as u32,
                last: i as u32
            })
        );
    }
    w.settle();
    // A read of 3 bytes takes all of send 0 and part of send 1…
    let mut buf = [0u8; 3];
    assert_eq!(w.net.recv(s, &mut buf, false).unwrap().0, 3);
    let m = w.net.take_msgs().expect("a receive records its sends");
    assert_eq!((m.sent, m.sock, m.first, m.last), (false, c as u32, 0, 1));
    // …a peek sees the rest without consuming it, and the next read takes it.
    let mut rest = [0u8; 16];
    assert_eq!(w.net.recv(s, &mut rest, true).unwrap().0, 3);
    let peeked = w.net.take_msgs().unwrap();
    assert_eq!((peeked.first, peeked.last), (1, 2));
    assert_eq!(w.recv(s).unwrap(), b"def");
    let m = w.net.take_msgs().unwrap();
    assert_eq!((m.first, m.last), (1, 2));
    // Nothing read, nothing named.
    assert!(w.recv(s).is_err());
    assert_eq!(w.net.take_msgs(), None);
}

#[test]
fn msg_more_holds_data_until_a_send_without_it_or_200_ms() {
    let mut w = World::std();
    let (c, s, _) = w.pair();
    assert_eq!(w.net.send_more(c, b"ab", None, w.now, true), Ok(2));
    w.run_until(us(199_000));
    assert_eq!(w.net.bytes_readable(s), 0, "corked");
    assert_eq!(w.send(c, b"cd"), Ok(2));
    w.settle();
    assert_eq!(w.recv(s).unwrap(), b"abcd", "one read, in order");
    // Nothing follows: Linux's 200 ms ceiling sends it (plus the 200 µs between nodes).
    let sent = w.now;
    w.net.send_more(c, b"xy", None, w.now, true).unwrap();
    w.run_until(sent.plus_nanos(200_199_999));
    assert_eq!(w.net.bytes_readable(s), 0);
    w.run_until(sent.plus_nanos(200_200_000));
    assert_eq!(w.recv(s).unwrap(), b"xy");
    // A shutdown sends what is held before its FIN; TCP_CORK holds like MSG_MORE.
    w.net.set_cork(c, true, w.now);
    w.send(c, b"pq").unwrap();
    w.net.send_more(c, b"rs", None, w.now, true).unwrap();
    w.run_until(w.now.plus_nanos(1_000_000));
    assert_eq!(w.net.bytes_readable(s), 0);
    w.net.shutdown(c, Shutdown::Write, w.now).unwrap();
    w.settle();
    assert_eq!(w.recv(s).unwrap(), b"pqrs");
    assert_eq!(w.recv(s).unwrap(), b"", "then EOF");
}

#[test]
fn msg_more_sends_full_segments() {
    let mut w = World::std();
    let (c, s, _) = w.pair();
    let big = vec![1u8; 70_000];
    assert_eq!(w.net.send_more(c, &big, None, w.now, true), Ok(70_000));
    w.run_until(w.now.plus_nanos(1_000_000));
    assert_eq!(
        w.net.bytes_readable(s),
        70_000,
        "more than 64 KiB held goes out"
    );
}
