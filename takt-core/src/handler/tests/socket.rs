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
