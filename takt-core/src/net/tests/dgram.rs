//! UDP and AF_UNIX tests: datagram boundaries, truncation, drops, ICMP errors, socketpairs,
//! named AF_UNIX sockets, backlog and queue backpressure.

use super::*;

#[test]
fn udp_keeps_boundaries_and_truncates() {
    let mut w = World::std();
    let r = w.udp(w.a);
    w.net.bind(r, &v4(Ipv4Addr::UNSPECIFIED, 5000)).unwrap();
    let s = w.udp(w.b);
    for msg in [&b"one"[..], b"two-two", b"three-three"] {
        assert_eq!(w.net.send(s, msg, Some(&v4(A, 5000)), w.now), Ok(msg.len()));
    }
    assert_eq!(w.net.local_addr(s), Ok(v4(Ipv4Addr::UNSPECIFIED, 32768)));
    w.run_until(us(199));
    assert!(!w.net.readiness(r).readable);
    w.run_until(us(200));
    assert!(w.net.readiness(r).readable);
    assert_eq!(w.net.bytes_readable(r), 3);
    let mut buf = [0; 64];
    assert_eq!(w.net.recv(r, &mut buf, false), Ok((3, Some(v4(B, 32768)))));
    assert_eq!(w.net.recv(r, &mut buf, true), Ok((7, Some(v4(B, 32768)))));
    assert_eq!(w.net.recv(r, &mut buf, false), Ok((7, Some(v4(B, 32768)))));
    assert_eq!(&buf[..7], b"two-two");
    let mut small = [0; 5];
    let m = w.net.recv_msg(r, &mut small, false).unwrap();
    assert_eq!((m.len, m.full_len), (5, 11));
    assert_eq!(&small, b"three");
    assert_eq!(w.net.recv(r, &mut buf, false), Err(NetError::WouldBlock));
}

#[test]
fn udp_errors_and_drops() {
    let mut w = World::std();
    let s = w.udp(w.a);
    assert_eq!(
        w.net.send(s, b"x", None, w.now),
        Err(Errno::EDESTADDRREQ.into())
    );
    let big = vec![0; 65_508];
    assert_eq!(
        w.net.send(s, &big, Some(&v4(B, 9)), w.now),
        Err(Errno::EMSGSIZE.into())
    );
    assert_eq!(
        w.net.send(s, &big[..65_507], Some(&v4(B, 9)), w.now),
        Ok(65_507)
    );
    let bcast = v4(Ipv4Addr::BROADCAST, 9);
    assert_eq!(
        w.net.send(s, b"x", Some(&bcast), w.now),
        Err(Errno::EACCES.into())
    );
    let far = v4(Ipv4Addr::new(8, 8, 8, 8), 53);
    assert_eq!(
        w.net.send(s, b"x", Some(&far), w.now),
        Err(Errno::ENETUNREACH.into())
    );
    w.settle();
    // Unconnected: silently dropped. Connected: ICMP comes back as ECONNREFUSED.
    assert_eq!(w.net.take_error(s), None);
    w.net.connect(s, &v4(B, 9), w.now).unwrap();
    assert_eq!(w.net.peer_addr(s), Ok(v4(B, 9)));
    assert_eq!(w.net.local_addr(s), Ok(v4(A, 32768)));
    w.net.send(s, b"hello?", None, w.now).unwrap();
    w.settle();
    assert!(w.net.readiness(s).error);
    assert_eq!(
        w.net.recv(s, &mut [0; 8], false),
        Err(Errno::ECONNREFUSED.into())
    );
    assert_eq!(w.net.recv(s, &mut [0; 8], false), Err(NetError::WouldBlock));
    w.net.disconnect(s, w.now).unwrap();
    assert_eq!(w.net.peer_addr(s), Err(Errno::ENOTCONN));
    // Shutdown: unconnected says ENOTCONN; a later send fails with EPIPE.
    assert_eq!(
        w.net.shutdown(s, Shutdown::Write, w.now),
        Err(Errno::ENOTCONN)
    );
    assert_eq!(
        w.net.send(s, b"x", Some(&v4(B, 9)), w.now),
        Err(Errno::EPIPE.into())
    );
}

#[test]
fn udp_queue_full_drops_and_connected_filters() {
    let cfg = NetConfig {
        udp_buffer: 100,
        ..NetConfig::default()
    };
    let mut w = World::new(cfg);
    let r = w.udp(w.a);
    w.net.bind(r, &v4(A, 5000)).unwrap();
    let s = w.udp(w.a);
    for _ in 0..3 {
        w.net.send(s, &[7; 60], Some(&v4(A, 5000)), w.now).unwrap();
    }
    w.settle();
    let mut buf = [0; 100];
    assert_eq!(w.net.recv(r, &mut buf, false).unwrap().0, 60);
    assert_eq!(w.net.recv(r, &mut buf, false).unwrap().0, 60);
    assert_eq!(w.net.recv(r, &mut buf, false), Err(NetError::WouldBlock));

    // A connected socket only hears its peer.
    let other = w.udp(w.b);
    w.net.connect(r, &v4(B, 6000), w.now).unwrap();
    w.net
        .send(other, b"stranger", Some(&v4(A, 5000)), w.now)
        .unwrap();
    let peer = w.udp(w.b);
    w.net.bind(peer, &v4(B, 6000)).unwrap();
    w.net
        .send(peer, b"friend", Some(&v4(A, 5000)), w.now)
        .unwrap();
    w.settle();
    assert_eq!(w.net.recv(r, &mut buf, false), Ok((6, Some(v4(B, 6000)))));
    assert_eq!(w.net.recv(r, &mut buf, false), Err(NetError::WouldBlock));
}

#[test]
fn udp_dual_stack_and_loopback() {
    let mut w = World::std();
    let r6 = w.sock(w.a, Domain::Inet6, SockType::Dgram);
    w.net.bind(r6, &v6(Ipv6Addr::UNSPECIFIED, 53)).unwrap();
    let s = w.udp(w.a);
    w.net.send(s, b"q", Some(&v4(LOCAL, 53)), w.now).unwrap();
    let s6 = w.sock(w.a, Domain::Inet6, SockType::Dgram);
    w.net
        .send(s6, b"q6", Some(&v6(Ipv6Addr::LOCALHOST, 53)), w.now)
        .unwrap();
    w.settle();
    let mut buf = [0; 8];
    let mapped = v6(LOCAL.to_ipv6_mapped(), 32768);
    assert_eq!(w.net.recv(r6, &mut buf, false), Ok((1, Some(mapped))));
    assert_eq!(
        w.net.recv(r6, &mut buf, false),
        Ok((2, Some(v6(Ipv6Addr::LOCALHOST, 32769))))
    );
}

#[test]
fn unix_socketpair_stream_and_dgram() {
    let mut w = World::std();
    let (x, y) = w.net.socketpair(w.a, SockType::Stream).unwrap();
    assert_eq!(w.send(x, b"abc"), Ok(3));
    w.run_until(us(9));
    assert!(!w.net.readiness(y).readable);
    w.run_until(us(10));
    assert_eq!(w.recv(y).unwrap(), b"abc");
    assert_eq!(w.net.peer_of(x), Some(y));
    assert_eq!(w.net.local_addr(x), Ok(SockAddr::unnamed()));
    assert_eq!(w.net.peer_addr(x), Ok(SockAddr::unnamed()));
    w.send(y, b"reply").unwrap();
    w.net.close(y, w.now);
    // AF_UNIX: writing to a closed peer fails at once.
    assert_eq!(w.send(x, b"x"), Err(Errno::EPIPE.into()));
    w.settle();
    assert_eq!(w.recv(x).unwrap(), b"reply");
    assert_eq!(w.recv(x).unwrap(), b"");

    let (p, q) = w.net.socketpair(w.a, SockType::Dgram).unwrap();
    w.send(p, b"one").unwrap();
    w.send(p, b"two").unwrap();
    w.settle();
    let mut buf = [0; 8];
    assert_eq!(
        w.net.recv(q, &mut buf, false),
        Ok((3, Some(SockAddr::unnamed())))
    );
    assert_eq!(
        w.net.recv(q, &mut buf, false),
        Ok((3, Some(SockAddr::unnamed())))
    );
    assert_eq!(&buf[..3], b"two");
}

#[test]
fn seqpacket_reads_end_of_stream_after_the_peer_closes() {
    let mut w = World::std();
    let (p, q) = w.net.seqpacket_pair(w.a).unwrap();
    w.send(p, b"one").unwrap();
    w.settle();
    w.net.close(p, w.now);
    assert!(w.net.readiness(q).hup, "a closed peer is a hang-up");
    let mut buf = [0; 8];
    assert_eq!(
        w.net.recv(q, &mut buf, false).map(|r| r.0),
        Ok(3),
        "queued data first"
    );
    assert_eq!(
        w.net.recv(q, &mut buf, false).map(|r| r.0),
        Ok(0),
        "then end of stream"
    );
    // A plain datagram pair reports no end of stream.
    let (x, y) = w.net.socketpair(w.a, SockType::Dgram).unwrap();
    w.net.close(x, w.now);
    assert_eq!(w.net.recv(y, &mut buf, false), Err(NetError::WouldBlock));
}

#[test]
fn unix_close_with_unread_data_resets_peer() {
    let mut w = World::std();
    let (x, y) = w.net.socketpair(w.a, SockType::Stream).unwrap();
    w.send(y, b"abc").unwrap();
    w.settle();
    w.net.close(x, w.now);
    w.settle();
    assert_eq!(w.recv(y), Err(Errno::ECONNRESET.into()));
    assert_eq!(w.recv(y).unwrap(), b"");
    assert_eq!(w.send(y, b"x"), Err(Errno::EPIPE.into()));
}

/// Socket files as the engine would find them (device, inode).
const F: UnixFile = UnixFile { dev: 1, ino: 10 };
const G: UnixFile = UnixFile { dev: 1, ino: 11 };
const H: UnixFile = UnixFile { dev: 1, ino: 12 };

#[test]
fn unix_stream_by_socket_file() {
    let mut w = World::std();
    let app = unix("/run/app.sock");
    let c = w.sock(w.a, Domain::Unix, SockType::Stream);
    // No file at the path: ENOENT; a socket file no socket is bound to: ECONNREFUSED.
    assert_eq!(
        w.net.connect_file(c, &app, None, w.now),
        Err(Errno::ENOENT.into())
    );
    assert_eq!(
        w.net.connect_file(c, &app, Some(F), w.now),
        Err(Errno::ECONNREFUSED.into())
    );
    let l = w.sock(w.a, Domain::Unix, SockType::Stream);
    assert_eq!(w.net.listen(l, 4), Err(Errno::EINVAL));
    // A path is bound once the engine made its file, never by name alone.
    assert_eq!(w.net.bind(l, &app), Err(Errno::EINVAL));
    w.net.bind_path(l, b"/run/app.sock", Some(F)).unwrap();
    assert_eq!(w.net.bind_path(l, b"/run/b", Some(G)), Err(Errno::EINVAL));
    assert_eq!(w.net.can_bind_path(l), Err(Errno::EINVAL));
    assert_eq!(
        w.net.connect_file(c, &app, Some(F), w.now),
        Err(Errno::ECONNREFUSED.into())
    );
    w.net.listen(l, 4).unwrap();
    // Files are per node: the same numbers on node b are another file.
    let cb = w.sock(w.b, Domain::Unix, SockType::Stream);
    assert_eq!(
        w.net.connect_file(cb, &app, Some(F), w.now),
        Err(Errno::ECONNREFUSED.into())
    );
    // Whatever name the file has now reaches it (a rename); both ends see the name bound.
    let renamed = unix("/run/renamed.sock");
    assert_eq!(w.net.connect_file(c, &renamed, Some(F), w.now), Ok(()));
    assert!(w.net.readiness(l).readable);
    let (s, peer) = w.net.accept(l).unwrap();
    assert_eq!(peer, SockAddr::unnamed());
    assert_eq!(w.net.local_addr(s), Ok(app.clone()));
    assert_eq!(w.net.peer_addr(c), Ok(app.clone()));
    w.send(c, b"GET").unwrap();
    w.settle();
    assert_eq!(w.recv(s).unwrap(), b"GET");

    // A datagram socket's file: EPROTOTYPE.
    let d = w.sock(w.a, Domain::Unix, SockType::Dgram);
    w.net.bind_path(d, b"/run/dgram.sock", Some(G)).unwrap();
    let c2 = w.sock(w.a, Domain::Unix, SockType::Stream);
    assert_eq!(
        w.net
            .connect_file(c2, &unix("/run/dgram.sock"), Some(G), w.now),
        Err(Errno::EPROTOTYPE.into())
    );
    // After close the file stays, stale: ECONNREFUSED.
    w.net.close(l, w.now);
    assert_eq!(
        w.net.connect_file(c2, &app, Some(F), w.now),
        Err(Errno::ECONNREFUSED.into())
    );
    // A new file with numbers the model still has (the host reused them) is the new
    // socket's; closing the old one leaves it so.
    let l2 = w.sock(w.a, Domain::Unix, SockType::Stream);
    w.net.bind_path(l2, b"/run/new.sock", Some(G)).unwrap();
    w.net.listen(l2, 4).unwrap();
    w.net.close(d, w.now);
    assert_eq!(
        w.net
            .connect_file(c2, &unix("/run/new.sock"), Some(G), w.now),
        Ok(())
    );
}

#[test]
fn unix_full_backlog_blocks_until_accept() {
    let mut w = World::std();
    let l = w.sock(w.a, Domain::Unix, SockType::Stream);
    w.net.bind(l, &unix("\0abstract")).unwrap();
    w.net.listen(l, 0).unwrap();
    let c1 = w.sock(w.a, Domain::Unix, SockType::Stream);
    let c2 = w.sock(w.a, Domain::Unix, SockType::Stream);
    let path = unix("\0abstract");
    w.net.connect(c1, &path, w.now).unwrap();
    assert_eq!(w.net.connect(c2, &path, w.now), Err(NetError::WouldBlock));
    assert!(!w.net.readiness(c2).writable);
    w.net.accept(l).unwrap();
    w.settle();
    assert!(w.changed.contains(&c2));
    assert!(w.net.readiness(c2).writable);
    assert_eq!(w.net.connect(c2, &path, w.now), Ok(()));
    // Abstract names leave nothing behind: an unbound one is ECONNREFUSED (Linux's
    // unix_find_abstract), and can be bound again.
    w.net.close(l, w.now);
    let c3 = w.sock(w.a, Domain::Unix, SockType::Stream);
    assert_eq!(
        w.net.connect(c3, &path, w.now),
        Err(Errno::ECONNREFUSED.into())
    );
    let l3 = w.sock(w.a, Domain::Unix, SockType::Stream);
    assert_eq!(w.net.bind(l3, &path), Ok(()));
    // The queued connection was reset.
    w.settle();
    assert_eq!(w.recv(c2), Err(Errno::ECONNRESET.into()));
}

#[test]
fn unix_dgram_by_path_with_backpressure() {
    let cfg = NetConfig {
        udp_buffer: 100,
        ..NetConfig::default()
    };
    let mut w = World::new(cfg);
    let r = w.sock(w.a, Domain::Unix, SockType::Dgram);
    w.net.bind_path(r, b"/dev/log", Some(F)).unwrap();
    let s = w.sock(w.a, Domain::Unix, SockType::Dgram);
    let to = unix("/dev/log");
    let send =
        |w: &mut World, data: &[u8]| w.net.send_file(s, data, Some(&to), Some(F), w.now, false);
    assert_eq!(
        w.net.send(s, b"x", None, w.now),
        Err(Errno::ENOTCONN.into())
    );
    assert_eq!(
        w.net.send(s, b"x", Some(&unix("/nope")), w.now),
        Err(Errno::ENOENT.into())
    );
    w.net.bind(s, &SockAddr::unnamed()).unwrap();
    let name = w.net.local_addr(s).unwrap();
    assert_eq!(name, SockAddr::Unix(b"\x0000000".to_vec()));
    assert_eq!(send(&mut w, &[1; 60]), Ok(60));
    assert_eq!(send(&mut w, &[2; 30]), Ok(30));
    assert_eq!(send(&mut w, &[3; 30]), Err(NetError::WouldBlock));
    assert!(!w.net.readiness(s).writable);
    w.settle();
    let mut buf = [0; 100];
    assert_eq!(w.net.recv(r, &mut buf, false), Ok((60, Some(name.clone()))));
    w.settle();
    assert!(w.changed.contains(&s));
    assert!(w.net.readiness(s).writable);
    assert_eq!(send(&mut w, &[3; 30]), Ok(30));
    w.settle();
    assert_eq!(w.net.recv(r, &mut buf, false), Ok((30, Some(name.clone()))));
    assert_eq!(buf[0], 2);
    assert_eq!(w.net.recv(r, &mut buf, false), Ok((30, Some(name))));
    assert_eq!(buf[0], 3);
    // A connected datagram socket; its peer vanishing means ECONNREFUSED.
    w.net.connect_file(s, &to, Some(F), w.now).unwrap();
    assert_eq!(w.net.peer_addr(s), Ok(to.clone()));
    w.net.close(r, w.now);
    assert_eq!(
        w.net.send(s, b"x", None, w.now),
        Err(Errno::ECONNREFUSED.into())
    );
    let stream = w.sock(w.a, Domain::Unix, SockType::Stream);
    w.net.bind_path(stream, b"/run/s", Some(H)).unwrap();
    assert_eq!(
        w.net
            .send_file(s, b"x", Some(&unix("/run/s")), Some(H), w.now, false),
        Err(Errno::EPROTOTYPE.into())
    );
}

#[test]
fn a_datagram_receive_names_its_send() {
    let mut w = World::std();
    let (a, b) = (w.udp(w.a), w.udp(w.b));
    w.net.bind(b, &v4(B, 9000)).unwrap();
    w.net.take_msgs();
    for _ in 0..2 {
        w.net.send(a, b"x", Some(&v4(B, 9000)), w.now).unwrap();
    }
    let sent = w.net.take_msgs().unwrap();
    assert_eq!((sent.sent, sent.first, sent.last), (true, 0, 1));
    w.settle();
    for i in 0..2 {
        let mut buf = [0u8; 4];
        w.net.recv(b, &mut buf, false).unwrap();
        let m = w.net.take_msgs().unwrap();
        assert_eq!((m.sent, m.sock, m.first), (false, a as u32, i));
    }
}

#[test]
fn udp_corking_collects_one_datagram() {
    let mut w = World::std();
    let r = w.udp(w.a);
    w.net.bind(r, &v4(Ipv4Addr::UNSPECIFIED, 5000)).unwrap();
    let other = w.udp(w.a);
    w.net.bind(other, &v4(Ipv4Addr::UNSPECIFIED, 5001)).unwrap();
    let s = w.udp(w.b);
    let (to, elsewhere) = (v4(A, 5000), v4(A, 5001));
    assert_eq!(w.net.send_more(s, b"ab", Some(&to), w.now, true), Ok(2));
    // Later addresses are ignored: the first send's destination holds.
    assert_eq!(
        w.net.send_more(s, b"cd", Some(&elsewhere), w.now, true),
        Ok(2)
    );
    w.run_until(us(1000));
    assert!(!w.net.readiness(r).readable, "held while corked");
    assert_eq!(w.net.send(s, b"ef", Some(&elsewhere), w.now), Ok(2));
    w.run_until(us(2000));
    assert_eq!(w.recv(r), Ok(b"abcdef".to_vec()));
    assert_eq!(w.recv(r), Err(NetError::WouldBlock));
    assert_eq!(w.recv(other), Err(NetError::WouldBlock));

    // UDP_CORK holds plain sends; turning it off sends them as one.
    w.net.set_udp_cork(s, true, w.now).unwrap();
    assert!(w.net.udp_cork(s) && !w.net.udp_sends_now(s, false));
    w.net.send(s, b"12", Some(&to), w.now).unwrap();
    w.net.send(s, b"34", Some(&to), w.now).unwrap();
    w.run_until(us(3000));
    assert_eq!(w.recv(r), Err(NetError::WouldBlock));
    w.net.set_udp_cork(s, false, w.now).unwrap();
    w.run_until(us(4000));
    assert_eq!(w.recv(r), Ok(b"1234".to_vec()));

    // Past the largest datagram: EMSGSIZE, and what was collected is gone.
    let big = vec![7u8; 60_000];
    assert_eq!(w.net.send_more(s, &big, Some(&to), w.now, true), Ok(60_000));
    assert_eq!(
        w.net.send_more(s, &big[..6000], Some(&to), w.now, true),
        Err(Errno::EMSGSIZE.into())
    );
    w.net.send(s, b"x", Some(&to), w.now).unwrap();
    w.run_until(us(5000));
    assert_eq!(w.recv(r), Ok(b"x".to_vec()));

    // A close drops it too; the option is a UDP one.
    let t = w.udp(w.b);
    w.net.send_more(t, b"qq", Some(&to), w.now, true).unwrap();
    w.net.close(t, w.now);
    w.run_until(us(6000));
    assert_eq!(w.recv(r), Err(NetError::WouldBlock));
    let tcp = w.tcp(w.a);
    assert_eq!(
        w.net.set_udp_cork(tcp, true, w.now),
        Err(Errno::ENOPROTOOPT)
    );
}
