//! Sockets on takt's network: a TCP connection between two nodes, its data, and the
//! errnos of misuse.

use super::{err, Done, H, MEM};
use crate::time::VTime;
use libc::*;

fn sockaddr_in(ip: [u8; 4], port: u16) -> Vec<u8> {
    let mut v = (AF_INET as u16).to_le_bytes().to_vec();
    v.extend_from_slice(&port.to_be_bytes());
    v.extend_from_slice(&ip);
    v.extend_from_slice(&[0; 8]);
    v
}

/// `socket(AF_INET, SOCK_STREAM)` of `pid`, the kernel's placeholder being `fd`.
fn tcp_socket(h: &mut H, pid: i32, fd: i64) {
    assert_eq!(
        h.sys(pid, SYS_socket, &[AF_INET as u64, SOCK_STREAM as u64, 0]),
        Done::Kernel
    );
    assert_eq!(h.kernel(pid, fd), fd);
}

#[test]
fn a_tcp_connection_between_two_nodes_carries_data() {
    let mut h = H::new();
    h.process(3, 1);
    tcp_socket(&mut h, 2, 3);
    h.put(MEM, &sockaddr_in([0, 0, 0, 0], 8080));
    assert_eq!(h.sys(2, SYS_bind, &[3, MEM, 16]), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_listen, &[3, 16]), Done::Ret(0));
    tcp_socket(&mut h, 3, 3);
    h.put(MEM + 0x40, &sockaddr_in([10, 0, 0, 1], 8080));
    // The handshake takes the network's latency between the nodes.
    assert_eq!(h.sys(3, SYS_connect, &[3, MEM + 0x40, 16]), Done::Parked);
    h.clock(VTime::ZERO.plus_nanos(5_000_000));
    assert_eq!(h.wake(3), Done::Ret(0));
    // accept4: the kernel makes the new descriptor's placeholder, takt its socket.
    assert_eq!(h.sys(2, SYS_accept4, &[3, 0, 0, 0]), Done::Kernel);
    assert_eq!(h.kernel(2, 5), 5);
    h.put(MEM + 0x80, b"ping");
    assert_eq!(h.sys(3, SYS_write, &[3, MEM + 0x80, 4]), Done::Ret(4));
    assert_eq!(
        h.sys(2, SYS_read, &[5, MEM + 0xc0, 64]),
        Done::Parked,
        "in flight"
    );
    h.clock(VTime::ZERO.plus_nanos(10_000_000));
    assert_eq!(h.wake(2), Done::Ret(4));
    assert_eq!(h.get(MEM + 0xc0, 4), b"ping");
    // The client closes: the server reads EOF once it arrives.
    assert_eq!(h.sys(3, SYS_close, &[3]), Done::Kernel);
    h.kernel(3, 0);
    h.clock(VTime::ZERO.plus_nanos(15_000_000));
    assert_eq!(h.sys(2, SYS_read, &[5, MEM + 0xc0, 64]), Done::Ret(0));
}

#[test]
fn socket_misuse_gets_linux_errnos() {
    let mut h = H::new();
    tcp_socket(&mut h, 2, 3);
    h.put(MEM, &sockaddr_in([10, 0, 0, 1], 9000));
    assert_eq!(
        h.sys(2, SYS_bind, &[3, MEM, 8]),
        err(EINVAL),
        "short address"
    );
    assert_eq!(h.sys(2, SYS_bind, &[3, 0x1000, 16]), err(EFAULT));
    assert_eq!(h.sys(2, SYS_listen, &[3, 4]), Done::Ret(0), "autobind");
    assert_eq!(
        h.sys(2, SYS_accept4, &[3, 0, 0, 0x1234]),
        err(EINVAL),
        "flags"
    );
    assert_eq!(h.sys(2, SYS_shutdown, &[3, 9]), err(EINVAL), "how");
    // Not connected.
    h.put(MEM + 0x40, b"x");
    tcp_socket(&mut h, 2, 4);
    assert_eq!(
        h.sys(2, SYS_sendto, &[4, MEM + 0x40, 1, 0, 0, 0]),
        err(EPIPE)
    );
    assert_eq!(
        h.sys(2, SYS_recvfrom, &[4, MEM + 0x40, 1, 0, 0, 0]),
        err(ENOTCONN)
    );
}

/// `socketpair(AF_UNIX, ty)` of process 2, the kernel's placeholders being 5 and 6.
fn unix_pair(h: &mut H, ty: i32) {
    let sv = MEM + 0xf00;
    assert_eq!(
        h.sys(2, SYS_socketpair, &[AF_UNIX as u64, ty as u64, 0, sv]),
        Done::Kernel
    );
    h.put(sv, &[5i32.to_le_bytes(), 6i32.to_le_bytes()].concat());
    assert_eq!(h.kernel(2, 0), 0);
}

/// A `struct msghdr` at `at` with one iovec (`base`, `len`) stored at `at + 0x40`.
fn msghdr(h: &H, at: u64, base: u64, len: u64) {
    let iov = at + 0x40;
    h.put(iov, &[base.to_le_bytes(), len.to_le_bytes()].concat());
    let mut m = vec![0u8; 56];
    m[16..24].copy_from_slice(&iov.to_le_bytes());
    m[24..32].copy_from_slice(&1u64.to_le_bytes());
    h.put(at, &m);
}

#[test]
fn a_socketpair_carries_messages_both_ways() {
    let mut h = H::new();
    unix_pair(&mut h, SOCK_STREAM | SOCK_CLOEXEC);
    let fdt = h.e.w.threads[&2].fdt;
    assert!(h.e.w.files.get(fdt, 5).expect("a socket").cloexec);
    h.put(MEM, b"over");
    assert_eq!(h.sys(2, SYS_write, &[5, MEM, 4]), Done::Ret(4));
    assert_eq!(h.sys(2, SYS_read, &[6, MEM + 0x10, 16]), Done::Parked);
    h.clock(VTime::ZERO.plus_nanos(1_000_000)); // within a node: 10 µs
    assert_eq!(h.wake(2), Done::Ret(4));
    assert_eq!(h.get(MEM + 0x10, 4), b"over");
    // sendmsg and recvmsg, the other way.
    msghdr(&h, MEM + 0x100, MEM, 4);
    assert_eq!(h.sys(2, SYS_sendmsg, &[6, MEM + 0x100, 0]), Done::Ret(4));
    h.clock(VTime::ZERO.plus_nanos(2_000_000));
    msghdr(&h, MEM + 0x200, MEM + 0x20, 16);
    assert_eq!(h.sys(2, SYS_recvmsg, &[5, MEM + 0x200, 0]), Done::Ret(4));
    assert_eq!(h.get(MEM + 0x20, 4), b"over");
    assert_eq!(
        h.sys(2, SYS_recvmsg, &[5, MEM + 0x200, MSG_DONTWAIT as u64]),
        err(EAGAIN)
    );
    // A failed socketpair makes no sockets.
    assert_eq!(
        h.sys(
            2,
            SYS_socketpair,
            &[AF_UNIX as u64, SOCK_DGRAM as u64, 0, MEM]
        ),
        Done::Kernel
    );
    h.kernel(2, -(EMFILE as i64));
    assert_eq!(h.e.w.files.get(fdt, 0), None);
    assert_eq!(
        h.sys(
            2,
            SYS_socketpair,
            &[AF_INET as u64, SOCK_STREAM as u64, 0, MEM]
        ),
        err(EOPNOTSUPP)
    );
}

#[test]
fn sendmmsg_and_recvmmsg_move_several_datagrams() {
    let mut h = H::new();
    unix_pair(&mut h, SOCK_DGRAM);
    // struct mmsghdr { struct msghdr; unsigned msg_len; } is 64 bytes.
    let vec = MEM + 0x400;
    h.put(MEM, b"onetwo");
    for (i, (base, len)) in [(MEM, 3), (MEM + 3, 3)].into_iter().enumerate() {
        let at = vec + 64 * i as u64;
        msghdr(&h, MEM + 0x100 + 0x80 * i as u64, base, len);
        let m = h.get(MEM + 0x100 + 0x80 * i as u64, 56);
        h.put(at, &[m, vec![0; 8]].concat());
    }
    assert_eq!(h.sys(2, SYS_sendmmsg, &[5, vec, 2, 0]), Done::Ret(2));
    assert_eq!(h.get(vec + 56, 4), 3u32.to_le_bytes(), "msg_len");
    h.clock(VTime::ZERO.plus_nanos(1_000_000));
    let rvec = MEM + 0x800;
    for (i, base) in [MEM + 0x40, MEM + 0x50].into_iter().enumerate() {
        msghdr(&h, MEM + 0x600 + 0x80 * i as u64, base, 16);
        let m = h.get(MEM + 0x600 + 0x80 * i as u64, 56);
        h.put(rvec + 64 * i as u64, &[m, vec![0; 8]].concat());
    }
    h.put(MEM + 0xa00, &[0xffu8; 16]); // a time-out with tv_nsec out of range
    assert_eq!(
        h.sys(2, SYS_recvmmsg, &[6, rvec, 2, 0, MEM + 0xa00]),
        err(EINVAL)
    );
    assert_eq!(h.sys(2, SYS_recvmmsg, &[6, rvec, 2, 0, 0]), Done::Ret(2));
    assert_eq!(h.get(MEM + 0x40, 3), b"one");
    assert_eq!(h.get(MEM + 0x50, 3), b"two");
    assert_eq!(h.get(rvec + 64 + 56, 4), 3u32.to_le_bytes());
}

#[test]
fn options_are_set_and_read_back_and_addresses_named() {
    let mut h = H::new();
    tcp_socket(&mut h, 2, 3);
    let (val, len) = (MEM, MEM + 0x10);
    let sol = SOL_SOCKET as u64;
    h.put(val, &1i32.to_le_bytes());
    let reuse = SO_REUSEADDR as u64;
    assert_eq!(
        h.sys(2, SYS_setsockopt, &[3, sol, reuse, val, 4]),
        Done::Ret(0)
    );
    assert_eq!(
        h.sys(2, SYS_setsockopt, &[3, sol, reuse, val, 2]),
        err(EINVAL),
        "short value"
    );
    // optlen is an int: negative is EINVAL, before the level (the UDP level is no
    // TCP socket's); the upper half of the register is not read.
    let neg = u32::MAX as u64;
    assert_eq!(
        h.sys(2, SYS_setsockopt, &[3, sol, reuse, val, neg]),
        err(EINVAL)
    );
    assert_eq!(
        h.sys(2, SYS_setsockopt, &[3, IPPROTO_UDP as u64, 1, val, neg]),
        err(EINVAL)
    );
    assert_eq!(
        h.sys(2, SYS_setsockopt, &[3, sol, reuse, val, 4 | 1 << 32]),
        Done::Ret(0)
    );
    h.put(val, &[0; 4]);
    h.put(len, &4i32.to_le_bytes());
    assert_eq!(
        h.sys(2, SYS_getsockopt, &[3, sol, reuse, val, len]),
        Done::Ret(0)
    );
    assert_eq!(h.get(val, 4), 1i32.to_le_bytes());
    let ty = SO_TYPE as u64;
    assert_eq!(
        h.sys(2, SYS_getsockopt, &[3, sol, ty, val, len]),
        Done::Ret(0)
    );
    assert_eq!(h.get(val, 4), SOCK_STREAM.to_le_bytes());
    let udp = IPPROTO_UDP as u64;
    assert_eq!(
        h.sys(2, SYS_setsockopt, &[3, udp, 1, val, 4]),
        err(ENOPROTOOPT),
        "no UDP level on TCP"
    );
    h.put(MEM + 0x40, &sockaddr_in([0, 0, 0, 0], 8081));
    assert_eq!(h.sys(2, SYS_bind, &[3, MEM + 0x40, 16]), Done::Ret(0));
    h.put(len, &16i32.to_le_bytes());
    assert_eq!(
        h.sys(2, SYS_getsockname, &[3, MEM + 0x80, len]),
        Done::Ret(0)
    );
    assert_eq!(h.get(MEM + 0x80, 16), sockaddr_in([0, 0, 0, 0], 8081));
    assert_eq!(
        h.sys(2, SYS_getpeername, &[3, MEM + 0x80, len]),
        err(ENOTCONN)
    );
    // An address length is an int: a negative one is refused.
    let neg = u32::MAX as u64;
    assert_eq!(h.sys(2, SYS_connect, &[3, MEM + 0x40, neg]), err(EINVAL));
    // Calls on a kernel fd pass through; a virtual non-socket is ENOTSOCK.
    assert_eq!(h.sys(2, SYS_listen, &[40, 1]), Done::Kernel);
    h.pipe(2, 7, 8, 0);
    assert_eq!(h.sys(2, SYS_listen, &[7, 1]), err(ENOTSOCK));
}

#[test]
fn accept_without_flags_makes_the_placeholder_and_a_refused_one_closes_it() {
    let mut h = H::new();
    h.process(3, 1);
    tcp_socket(&mut h, 2, 3);
    h.put(MEM, &sockaddr_in([0, 0, 0, 0], 7070));
    assert_eq!(h.sys(2, SYS_bind, &[3, MEM, 16]), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_listen, &[3, 4]), Done::Ret(0));
    h.put(MEM + 0x40, &sockaddr_in([10, 0, 0, 1], 7070));
    for (fd, t) in [(3, 5_000_000), (4, 10_000_000)] {
        tcp_socket(&mut h, 3, fd);
        assert_eq!(
            h.sys(3, SYS_connect, &[fd as u64, MEM + 0x40, 16]),
            Done::Parked
        );
        h.clock(VTime::ZERO.plus_nanos(t));
        assert_eq!(h.wake(3), Done::Ret(0));
    }
    // accept(fd, addr, len): the peer's address, and the placeholder's exit.
    h.put(MEM + 0x80, &16i32.to_le_bytes());
    assert_eq!(
        h.sys(2, SYS_accept, &[3, MEM + 0x90, MEM + 0x80]),
        Done::Kernel
    );
    assert_eq!(h.kernel(2, 5), 5);
    let peer = h.get(MEM + 0x90, 8);
    assert_eq!(
        (&peer[..2], &peer[4..]),
        (&sockaddr_in([0; 4], 0)[..2], &[10, 0, 0, 2][..])
    );
    let fdt = h.e.w.threads[&2].fdt;
    assert!(h.e.w.files.get(fdt, 5).is_some());
    // The kernel refuses the placeholder: no descriptor.
    assert_eq!(h.sys(2, SYS_accept4, &[3, 0, 0, 0]), Done::Kernel);
    h.kernel(2, -(EMFILE as i64));
    assert_eq!(h.e.w.files.get(fdt, 6), None);
}
