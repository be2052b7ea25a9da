//! Rendering of descriptor and data calls, compared with what strace prints for the same
//! call.

use super::*;
use libc::*;

#[test]
fn write_and_read_buffers() {
    let m = LocalMemory::new().with(A, *b"hello\n");
    assert_eq!(
        line(SYS_write, &[1, A, 6], Some(6), &m),
        r#"write(1, "hello\n", 6) = 6"#
    );
    // The first 32 bytes, then `...`; octal escapes as strace writes them.
    let mut elf = [0u8; 64];
    elf[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\x00");
    elf[16..24].copy_from_slice(&[3, 0, 0x3e, 0, 1, 0, 0, 0]);
    let m = LocalMemory::new().with(A, elf);
    assert_eq!(
        line(SYS_read, &[3, A, 832], Some(832), &m),
        r#"read(3, "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0\0\0\0\0\0\0\0\0"..., 832) = 832"#
    );
    // A read shows only what was read.
    let m = LocalMemory::new().with(A, *b"abcdef");
    assert_eq!(
        line(SYS_read, &[3, A, 4096], Some(3), &m),
        r#"read(3, "abc", 4096) = 3"#
    );
    // An error, or an unknown result, leaves the buffer an address.
    assert_eq!(
        line(SYS_read, &[3, A, 4096], err(EAGAIN), &m),
        "read(3, 0x1000, 4096) = -1 EAGAIN (Resource temporarily unavailable)"
    );
    assert_eq!(
        line(SYS_read, &[3, A, 4096], None, &m),
        "read(3, 0x1000, 4096) = ?"
    );
    assert_eq!(
        line(SYS_read, &[0, 0, 0], Some(0), &m),
        "read(0, NULL, 0) = 0"
    );
}

#[test]
fn escapes() {
    let m = LocalMemory::new().with(A, *b"\x001\"\\\t\r\x0b\x0c\xff\xc3\xa9 x");
    assert_eq!(
        line(SYS_write, &[2, A, 13], Some(13), &m),
        r#"write(2, "\0001\"\\\t\r\v\f\377\303\251 x", 13) = 13"#
    );
    let m = LocalMemory::new().with(A, [0x12u8, 0x34, 0xab, 0x00]);
    assert_eq!(
        line(SYS_getrandom, &[A, 4, 1], Some(4), &m),
        r#"getrandom("\x12\x34\xab\x00", 4, GRND_NONBLOCK) = 4"#
    );
}

#[test]
fn vectored() {
    let mut iov = Vec::new();
    for (base, len) in [(B, 5u64), (C, 7)] {
        iov.extend_from_slice(&base.to_le_bytes());
        iov.extend_from_slice(&len.to_le_bytes());
    }
    let m = LocalMemory::new()
        .with(A, iov.clone())
        .with(B, *b"hello")
        .with(C, *b" world\n");
    assert_eq!(
        line(SYS_writev, &[1, A, 2], Some(12), &m),
        r#"writev(1, [{iov_base="hello", iov_len=5}, {iov_base=" world\n", iov_len=7}], 2) = 12"#
    );
    // A read fills the iovecs in order, up to its return value.
    assert_eq!(
        line(SYS_readv, &[3, A, 2], Some(3), &m),
        r#"readv(3, [{iov_base="hel", iov_len=5}, {iov_base="", iov_len=7}], 2) = 3"#
    );
    assert_eq!(
        line(SYS_preadv, &[3, A, 1, 100, 0], Some(2), &m),
        r#"preadv(3, [{iov_base="he", iov_len=5}], 1, 100) = 2"#
    );
    assert_eq!(
        line(SYS_writev, &[1, A, 2], err(EPIPE), &LocalMemory::new()),
        "writev(1, 0x1000, 2) = -1 EPIPE (Broken pipe)"
    );
}

#[test]
fn descriptors_and_fcntl() {
    let m = LocalMemory::new().with(A, [3u8, 0, 0, 0, 4, 0, 0, 0]);
    assert_eq!(line(SYS_close, &[3], Some(0), &m), "close(3) = 0");
    assert_eq!(
        line(SYS_close, &[99], err(EBADF), &m),
        "close(99) = -1 EBADF (Bad file descriptor)"
    );
    assert_eq!(
        line(SYS_pipe2, &[A, 0o2000000], Some(0), &m),
        "pipe2([3, 4], O_CLOEXEC) = 0"
    );
    assert_eq!(line(SYS_pipe, &[A], Some(0), &m), "pipe([3, 4]) = 0");
    assert_eq!(line(SYS_dup2, &[3, 1], Some(1), &m), "dup2(3, 1) = 1");
    assert_eq!(
        line(SYS_dup3, &[3, 10, 0o2000000], Some(10), &m),
        "dup3(3, 10, O_CLOEXEC) = 10"
    );
    assert_eq!(
        line(SYS_fcntl, &[3, F_GETFL as u64, 0xdead], Some(0x8002), &m),
        "fcntl(3, F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE)"
    );
    assert_eq!(
        line(SYS_fcntl, &[3, F_GETFD as u64], Some(1), &m),
        "fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)"
    );
    assert_eq!(
        line(SYS_fcntl, &[3, F_SETFL as u64, 0o4002], Some(0), &m),
        "fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0"
    );
    assert_eq!(
        line(SYS_fcntl, &[3, F_SETFD as u64, 1], Some(0), &m),
        "fcntl(3, F_SETFD, FD_CLOEXEC) = 0"
    );
    assert_eq!(
        line(SYS_fcntl, &[3, F_DUPFD_CLOEXEC as u64, 0], Some(4), &m),
        "fcntl(3, F_DUPFD_CLOEXEC, 0) = 4"
    );
    assert_eq!(
        line(SYS_fcntl, &[3, 0x4242, A], err(EINVAL), &m),
        "fcntl(3, 0x4242 /* F_??? */, 0x1000) = -1 EINVAL (Invalid argument)"
    );
    assert_eq!(
        line(SYS_ioctl, &[1, TCGETS, A], err(ENOTTY), &m),
        "ioctl(1, TCGETS, 0x1000) = -1 ENOTTY (Inappropriate ioctl for device)"
    );
    assert_eq!(
        line(SYS_ioctl, &[3, FIOCLEX], Some(0), &m),
        "ioctl(3, FIOCLEX) = 0"
    );
    let one = LocalMemory::new().with(A, 1i32.to_le_bytes());
    assert_eq!(
        line(SYS_ioctl, &[3, FIONBIO, A], Some(0), &one),
        "ioctl(3, FIONBIO, [1]) = 0"
    );
    assert_eq!(
        line(SYS_ioctl, &[3, FIONREAD, A], Some(0), &one),
        "ioctl(3, FIONREAD, [1]) = 0"
    );
    assert_eq!(
        line(SYS_ioctl, &[3, FIONREAD, A], err(EBADF), &one),
        "ioctl(3, FIONREAD, 0x1000) = -1 EBADF (Bad file descriptor)"
    );
    assert_eq!(
        line(SYS_lseek, &[3, 0, SEEK_END as u64], Some(1234), &m),
        "lseek(3, 0, SEEK_END) = 1234"
    );
    assert_eq!(
        line(SYS_eventfd2, &[0, 0o2004000], Some(3), &m),
        "eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK) = 3"
    );
    assert_eq!(
        line(SYS_flock, &[3, 6], Some(0), &m),
        "flock(3, LOCK_EX|LOCK_NB) = 0"
    );
    assert_eq!(
        line(SYS_sendfile, &[1, 3, 0, 100], Some(100), &m),
        "sendfile(1, 3, NULL, 100) = 100"
    );
}
