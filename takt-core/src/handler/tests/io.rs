//! I/O on takt's pipes and eventfds: data, EOF, EAGAIN, blocking and waking, vectors.

use super::{err, Done, H, MEM};
use libc::*;

#[test]
fn a_pipe_carries_bytes_in_order_and_ends_at_eof() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    h.put(MEM, b"hello");
    assert_eq!(h.sys(2, SYS_write, &[4, MEM, 5]), Done::Ret(5));
    assert_eq!(h.sys(2, SYS_read, &[3, MEM + 100, 3]), Done::Ret(3));
    assert_eq!(h.get(MEM + 100, 3), b"hel");
    assert_eq!(h.sys(2, SYS_read, &[3, MEM + 100, 64]), Done::Ret(2));
    assert_eq!(h.get(MEM + 100, 2), b"lo");
    assert_eq!(h.sys(2, SYS_close, &[4]), Done::Kernel);
    h.kernel(2, 0);
    assert_eq!(h.sys(2, SYS_read, &[3, MEM + 100, 64]), Done::Ret(0), "EOF");
}

#[test]
fn an_empty_pipe_parks_a_reader_until_a_write_and_refuses_a_nonblocking_one() {
    let mut h = H::new();
    h.process(3, 0);
    h.pipe(2, 3, 4, 0);
    // Process 3 shares the pipe (as after a fork).
    h.share(2, 3, &[3, 4]);
    assert_eq!(h.sys(3, SYS_read, &[3, MEM + 200, 16]), Done::Parked);
    h.put(MEM, b"abc");
    assert_eq!(h.sys(2, SYS_write, &[4, MEM, 3]), Done::Ret(3));
    assert_eq!(h.wake(3), Done::Ret(3));
    assert_eq!(h.get(MEM + 200, 3), b"abc");

    let mut h = H::new();
    h.pipe(2, 5, 6, O_NONBLOCK);
    assert_eq!(h.sys(2, SYS_read, &[5, MEM, 16]), err(EAGAIN));
}

#[test]
fn bad_descriptors_and_buffers_get_linux_errnos() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    // Writing the read end, reading the write end.
    assert_eq!(h.sys(2, SYS_write, &[3, MEM, 1]), err(EBADF));
    assert_eq!(h.sys(2, SYS_read, &[4, MEM, 1]), err(EBADF));
    // A buffer outside user space.
    assert_eq!(h.sys(2, SYS_write, &[4, u64::MAX - 8, 4]), err(EFAULT));
    // An unmapped buffer: the data cannot be read.
    assert_eq!(h.sys(2, SYS_write, &[4, 0x1000, 4]), err(EFAULT));
    // Seeking a pipe.
    assert_eq!(h.sys(2, SYS_lseek, &[3, 0, 0]), Done::Kernel);
}

#[test]
fn writev_and_readv_gather_and_scatter() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    h.put(MEM, b"abcdef");
    // Two iovecs: "ab" and "cdef".
    let iov = |base: u64, pieces: &[(u64, u64)]| {
        let mut v = Vec::new();
        for &(a, l) in pieces {
            v.extend_from_slice(&a.to_le_bytes());
            v.extend_from_slice(&l.to_le_bytes());
        }
        (base, v)
    };
    let (at, v) = iov(MEM + 0x100, &[(MEM, 2), (MEM + 2, 4)]);
    h.put(at, &v);
    assert_eq!(h.sys(2, SYS_writev, &[4, at, 2]), Done::Ret(6));
    let (at, v) = iov(MEM + 0x200, &[(MEM + 0x300, 1), (MEM + 0x310, 8)]);
    h.put(at, &v);
    assert_eq!(h.sys(2, SYS_readv, &[3, at, 2]), Done::Ret(6));
    assert_eq!(h.get(MEM + 0x300, 1), b"a");
    assert_eq!(h.get(MEM + 0x310, 5), b"bcdef");
    // More than UIO_MAXIOV entries.
    assert_eq!(h.sys(2, SYS_readv, &[3, at, 1025]), err(EINVAL));
}

#[test]
fn an_eventfd_counts_and_its_semaphore_mode_counts_down_by_one() {
    let mut h = H::new();
    assert_eq!(
        h.sys(2, SYS_eventfd2, &[2, EFD_SEMAPHORE as u64]),
        Done::Kernel
    );
    h.kernel(2, 7);
    assert_eq!(h.sys(2, SYS_read, &[7, MEM, 8]), Done::Ret(8));
    assert_eq!(h.get(MEM, 8), 1u64.to_le_bytes());
    assert_eq!(
        h.sys(2, SYS_read, &[7, MEM, 4]),
        err(EINVAL),
        "a buffer under 8 bytes"
    );
    h.put(MEM, &5u64.to_le_bytes());
    assert_eq!(h.sys(2, SYS_write, &[7, MEM, 8]), Done::Ret(8));
    assert_eq!(h.sys(2, SYS_read, &[7, MEM + 8, 8]), Done::Ret(8));
    assert_eq!(h.get(MEM + 8, 8), 1u64.to_le_bytes());
}
