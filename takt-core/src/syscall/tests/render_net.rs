//! Rendering of socket and readiness calls, compared with what strace prints.

use super::*;
use libc::*;

fn sockaddr_in(port: u16, ip: [u8; 4]) -> Vec<u8> {
    let mut b = vec![2u8, 0];
    b.extend_from_slice(&port.to_be_bytes());
    b.extend_from_slice(&ip);
    b.extend_from_slice(&[0; 8]);
    b
}

fn u32s(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn sockets() {
    let m = LocalMemory::new();
    assert_eq!(
        line(SYS_socket, &[2, 0o2004001, 6], Some(3), &m),
        "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_TCP) = 3"
    );
    assert_eq!(
        line(SYS_socket, &[1, 0o2000001, 0], Some(3), &m),
        "socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3"
    );
    assert_eq!(
        line(SYS_socket, &[10, 2, 0], Some(4), &m),
        "socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = 4"
    );
    assert_eq!(
        line(SYS_socket, &[16, 3, 0], err(EAFNOSUPPORT), &m),
        "socket(AF_NETLINK, SOCK_RAW, 0) = -1 EAFNOSUPPORT (Address family not supported by protocol)"
    );
    let pair = LocalMemory::new().with(A, u32s(&[3, 4]));
    assert_eq!(
        line(SYS_socketpair, &[1, 1, 0, A], Some(0), &pair),
        "socketpair(AF_UNIX, SOCK_STREAM, 0, [3, 4]) = 0"
    );
    assert_eq!(
        line(SYS_listen, &[3, 128], Some(0), &m),
        "listen(3, 128) = 0"
    );
    assert_eq!(
        line(SYS_shutdown, &[3, 1], Some(0), &m),
        "shutdown(3, SHUT_WR) = 0"
    );
}

#[test]
fn addresses() {
    let m = LocalMemory::new().with(A, sockaddr_in(11222, [10, 0, 0, 1]));
    assert_eq!(
        line(SYS_connect, &[3, A, 16], err(EINPROGRESS), &m),
        r#"connect(3, {sa_family=AF_INET, sin_port=htons(11222), sin_addr=inet_addr("10.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)"#
    );
    let mut six = vec![10u8, 0];
    six.extend_from_slice(&8080u16.to_be_bytes());
    six.extend_from_slice(&[0; 4]);
    six.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    six.extend_from_slice(&[0; 4]);
    let m = LocalMemory::new().with(A, six);
    assert_eq!(
        line(SYS_bind, &[3, A, 28], Some(0), &m),
        r#"bind(3, {sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0"#
    );
    let mut un = vec![1u8, 0];
    un.extend_from_slice(b"/var/run/nscd/socket");
    un.resize(110, 0);
    let m = LocalMemory::new().with(A, un);
    assert_eq!(
        line(SYS_connect, &[3, A, 110], err(ENOENT), &m),
        r#"connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)"#
    );
    let m = LocalMemory::new().with(A, *b"\x01\x00\x00takt");
    assert_eq!(
        line(SYS_bind, &[3, A, 7], Some(0), &m),
        r#"bind(3, {sa_family=AF_UNIX, sun_path=@"takt"}, 7) = 0"#
    );
    // A truncated address prints its bytes.
    let m = LocalMemory::new().with(A, [2u8, 0, 0, 80]);
    assert_eq!(
        line(SYS_connect, &[3, A, 4], err(EINVAL), &m),
        r#"connect(3, {sa_family=AF_INET, sa_data="\0P"}, 4) = -1 EINVAL (Invalid argument)"#
    );
    let m = LocalMemory::new().with(A, [2u8]);
    assert_eq!(
        line(SYS_connect, &[3, A, 1], err(EINVAL), &m),
        r#"connect(3, "\2", 1) = -1 EINVAL (Invalid argument)"#
    );
}

#[test]
fn accept_shows_the_length_the_kernel_wrote() {
    let before = LocalMemory::new().with(A, [0u8; 128]).with(B, u32s(&[128]));
    let after = LocalMemory::new()
        .with(A, sockaddr_in(54321, [10, 0, 0, 2]))
        .with(B, u32s(&[16]));
    assert_eq!(
        line2(SYS_accept4, &[3, A, B, 0o2000000], Some(4), &before, &after),
        r#"accept4(3, {sa_family=AF_INET, sin_port=htons(54321), sin_addr=inet_addr("10.0.0.2")}, [128 => 16], SOCK_CLOEXEC) = 4"#
    );
    assert_eq!(
        line(SYS_accept4, &[3, 0, 0, 0o2004000], Some(5), &before),
        "accept4(3, NULL, NULL, SOCK_CLOEXEC|SOCK_NONBLOCK) = 5"
    );
    assert_eq!(
        line2(SYS_accept, &[3, A, B], err(EAGAIN), &before, &after),
        "accept(3, 0x1000, [128]) = -1 EAGAIN (Resource temporarily unavailable)"
    );
    let m = LocalMemory::new()
        .with(A, sockaddr_in(11222, [0, 0, 0, 0]))
        .with(B, u32s(&[16]));
    assert_eq!(
        line(SYS_getsockname, &[3, A, B], Some(0), &m),
        r#"getsockname(3, {sa_family=AF_INET, sin_port=htons(11222), sin_addr=inet_addr("0.0.0.0")}, [16]) = 0"#
    );
}

#[test]
fn sends_receives_and_options() {
    let m = LocalMemory::new()
        .with(A, *b"ping")
        .with(B, u32s(&[1]))
        .with(C, u32s(&[4]));
    assert_eq!(
        line(SYS_sendto, &[3, A, 4, 0x4000, 0, 0], Some(4), &m),
        r#"sendto(3, "ping", 4, MSG_NOSIGNAL, NULL, 0) = 4"#
    );
    assert_eq!(
        line(SYS_recvfrom, &[3, A, 4096, 0, 0, 0], Some(4), &m),
        r#"recvfrom(3, "ping", 4096, 0, NULL, NULL) = 4"#
    );
    assert_eq!(
        line(SYS_recvfrom, &[3, A, 4096, 0x40, D, D], err(EAGAIN), &m),
        "recvfrom(3, 0x1000, 4096, MSG_DONTWAIT, 0x4000, 0x4000) = -1 EAGAIN (Resource temporarily unavailable)"
    );
    assert_eq!(
        line(SYS_setsockopt, &[3, 1, 2, B, 4], Some(0), &m),
        "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0"
    );
    assert_eq!(
        line(SYS_setsockopt, &[3, 6, 1, B, 4], Some(0), &m),
        "setsockopt(3, SOL_TCP, TCP_NODELAY, [1], 4) = 0"
    );
    let got = LocalMemory::new().with(B, u32s(&[0])).with(C, u32s(&[4]));
    assert_eq!(
        line(SYS_getsockopt, &[3, 1, 4, B, C], Some(0), &got),
        "getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0"
    );
    let linger = LocalMemory::new().with(B, u32s(&[1, 0]));
    assert_eq!(
        line(SYS_setsockopt, &[3, 1, 13, B, 8], Some(0), &linger),
        "setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0"
    );
    let mut tv = 5i64.to_le_bytes().to_vec();
    tv.extend_from_slice(&0i64.to_le_bytes());
    let timeout = LocalMemory::new().with(B, tv);
    assert_eq!(
        line(SYS_setsockopt, &[3, 1, 20, B, 16], Some(0), &timeout),
        "setsockopt(3, SOL_SOCKET, SO_RCVTIMEO_OLD, {tv_sec=5, tv_usec=0}, 16) = 0"
    );
    assert_eq!(
        line(SYS_setsockopt, &[3, 999, 77, B, 4], err(ENOPROTOOPT), &m),
        "setsockopt(3, 999, 77, [1], 4) = -1 ENOPROTOOPT (Protocol not available)"
    );
}

/// A `msghdr` at `A` with one iovec (at `B`, data at `C`) and optional control at `D`.
fn msghdr(len: u64, control: &[u8]) -> LocalMemory {
    let mut h = Vec::new();
    for w in [
        0u64,
        0,
        B,
        1,
        if control.is_empty() { 0 } else { D },
        control.len() as u64,
        0,
    ] {
        h.extend_from_slice(&w.to_le_bytes());
    }
    let mut iov = C.to_le_bytes().to_vec();
    iov.extend_from_slice(&len.to_le_bytes());
    LocalMemory::new()
        .with(A, h)
        .with(B, iov)
        .with(C, *b"abc")
        .with(D, control.to_vec())
}

#[test]
fn messages() {
    assert_eq!(
        line(SYS_sendmsg, &[3, A, 0x4000], Some(3), &msghdr(3, &[])),
        r#"sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="abc", iov_len=3}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_NOSIGNAL) = 3"#
    );
    let mut cmsg = Vec::new();
    cmsg.extend_from_slice(&20u64.to_le_bytes());
    cmsg.extend_from_slice(&u32s(&[1, 1, 5, 0]));
    assert_eq!(
        line(SYS_sendmsg, &[3, A, 0], Some(1), &msghdr(1, &cmsg)),
        r#"sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="a", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[5]}], msg_controllen=24, msg_flags=0}, 0) = 1"#
    );
    assert_eq!(
        line(SYS_recvmsg, &[3, A, 0], Some(2), &msghdr(100, &[])),
        r#"recvmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="ab", iov_len=100}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 2"#
    );
    assert_eq!(
        line(SYS_recvmsg, &[3, A, 0x40], err(EAGAIN), &msghdr(100, &[])),
        "recvmsg(3, 0x1000, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)"
    );
}

#[test]
fn readiness() {
    let fds = |revents: u16| {
        let mut b = Vec::new();
        b.extend_from_slice(&3i32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&4i32.to_le_bytes());
        b.extend_from_slice(&5u16.to_le_bytes());
        b.extend_from_slice(&revents.to_le_bytes());
        LocalMemory::new().with(A, b)
    };
    assert_eq!(
        line2(SYS_poll, &[A, 2, 1000], Some(1), &fds(0), &fds(4)),
        "poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}], 2, 1000) = 1 ([{fd=4, revents=POLLOUT}])"
    );
    assert_eq!(
        line(SYS_poll, &[A, 1, 0], Some(0), &fds(0)),
        "poll([{fd=3, events=POLLIN}], 1, 0) = 0 (Timeout)"
    );
    let mut ev = 0x8000_0001u32.to_le_bytes().to_vec();
    ev.extend_from_slice(&3u64.to_le_bytes());
    let m = LocalMemory::new().with(A, ev);
    assert_eq!(
        line(SYS_epoll_create1, &[0o2000000], Some(5), &m),
        "epoll_create1(EPOLL_CLOEXEC) = 5"
    );
    assert_eq!(
        line(SYS_epoll_ctl, &[5, 1, 3, A], Some(0), &m),
        "epoll_ctl(5, EPOLL_CTL_ADD, 3, {events=EPOLLIN|EPOLLET, data={u32=3, u64=3}}) = 0"
    );
    let mut out = 1u32.to_le_bytes().to_vec();
    out.extend_from_slice(&3u64.to_le_bytes());
    let m = LocalMemory::new().with(A, out);
    assert_eq!(
        line(SYS_epoll_wait, &[5, A, 1024, int(-1)], Some(1), &m),
        "epoll_wait(5, [{events=EPOLLIN, data={u32=3, u64=3}}], 1024, -1) = 1"
    );
    assert_eq!(
        line(SYS_epoll_wait, &[5, A, 1024, 0], Some(0), &m),
        "epoll_wait(5, [], 1024, 0) = 0"
    );
    let set = |b: u8| {
        LocalMemory::new()
            .with(B, [b, 0, 0, 0, 0, 0, 0, 0])
            .with(C, [0u8; 8])
    };
    let mut tv = 1i64.to_le_bytes().to_vec();
    tv.extend_from_slice(&0i64.to_le_bytes());
    let before = set(0b1000).with(D, tv.clone());
    let after = set(0b1000).with(D, tv);
    assert_eq!(
        line2(SYS_select, &[4, B, C, 0, D], Some(1), &before, &after),
        "select(4, [3], [], NULL, {tv_sec=1, tv_usec=0}) = 1 (in [3])"
    );
}

#[test]
fn negative_int_lengths_print_signed_and_the_address_as_a_pointer() {
    let m = LocalMemory::new().with(A, sockaddr_in(80, [10, 0, 0, 1]));
    let neg = u32::MAX as u64;
    assert_eq!(
        line(SYS_connect, &[3, A, neg], err(EINVAL), &m),
        format!("connect(3, {A:#x}, -1) = -1 EINVAL (Invalid argument)")
    );
    assert_eq!(
        line(SYS_bind, &[3, A, neg], err(EINVAL), &m),
        format!("bind(3, {A:#x}, -1) = -1 EINVAL (Invalid argument)")
    );
    assert_eq!(
        line(SYS_sendto, &[3, 0, 0, 0, A, neg], err(EINVAL), &m),
        format!("sendto(3, NULL, 0, 0, {A:#x}, -1) = -1 EINVAL (Invalid argument)")
    );
    let one = LocalMemory::new().with(A, 1i32.to_le_bytes());
    assert_eq!(
        line(SYS_setsockopt, &[3, 1, 2, A, neg], err(EINVAL), &one),
        format!(
            "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, {A:#x}, -1) = -1 EINVAL (Invalid argument)"
        )
    );
}
