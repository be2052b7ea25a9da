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

/// The virtual descriptor `fd` of process 2, if it is one.
fn vfd(h: &H, fd: i32) -> Option<crate::fd::Fd> {
    h.e.w.files.get(h.e.w.threads[&2].fdt, i64::from(fd))
}

/// The call `tid` was rewritten into: its number and arguments.
fn rewritten(h: &H, tid: i32) -> (i64, [u64; 6]) {
    use crate::engine::{Resume, State};
    match &h.e.w.threads[&tid].state {
        State::Ready(Resume::RegsToExit(r)) => (r.syscall_nr(), r.args()),
        other => panic!("not rewritten: {other:?}"),
    }
}

#[test]
fn dup_dup2_dup3_and_f_dupfd_record_the_new_descriptor_at_exit() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    assert_eq!(h.sys(2, SYS_dup, &[4]), Done::Kernel);
    assert_eq!(h.kernel(2, 5), 5);
    assert_eq!(vfd(&h, 5).map(|f| f.file), vfd(&h, 4).map(|f| f.file));
    h.put(MEM, b"dup");
    assert_eq!(h.sys(2, SYS_write, &[5, MEM, 3]), Done::Ret(3));
    assert_eq!(h.sys(2, SYS_read, &[3, MEM + 0x10, 8]), Done::Ret(3));
    assert_eq!(h.get(MEM + 0x10, 3), b"dup");
    // dup3 with O_CLOEXEC, fcntl(F_DUPFD_CLOEXEC): the new fds are close-on-exec.
    assert_eq!(h.sys(2, SYS_dup3, &[3, 6, O_CLOEXEC as u64]), Done::Kernel);
    h.kernel(2, 6);
    assert!(vfd(&h, 6).expect("a virtual fd").cloexec);
    assert_eq!(
        h.sys(2, SYS_fcntl, &[3, F_DUPFD_CLOEXEC as u64, 10]),
        Done::Kernel
    );
    h.kernel(2, 10);
    assert!(vfd(&h, 10).expect("a virtual fd").cloexec);
    assert_eq!(h.sys(2, SYS_fcntl, &[3, F_DUPFD as u64, 10]), Done::Kernel);
    h.kernel(2, 11);
    assert!(!vfd(&h, 11).expect("a virtual fd").cloexec);
    // A failed dup records nothing.
    assert_eq!(h.sys(2, SYS_dup, &[3]), Done::Kernel);
    h.kernel(2, -(EMFILE as i64));
    assert_eq!(vfd(&h, 12), None);
    // dup2 of a kernel fd over a virtual one: that one is no longer virtual.
    assert_eq!(h.sys(2, SYS_dup2, &[20, 5]), Done::Kernel);
    h.kernel(2, 5);
    assert_eq!(vfd(&h, 5), None);
    // dup2 onto itself changes nothing; a kernel fd onto a kernel fd is the kernel's.
    assert_eq!(h.sys(2, SYS_dup2, &[4, 4]), Done::Kernel);
    h.kernel(2, 4);
    assert!(vfd(&h, 4).is_some());
    assert_eq!(h.sys(2, SYS_dup2, &[20, 21]), Done::Kernel);
    assert!(!h.e.posts.contains_key(&2), "no exit action");
}

#[test]
fn pipe_without_flags_and_eventfd_are_recorded_at_exit() {
    let mut h = H::new();
    let at = MEM + 0x800;
    assert_eq!(h.sys(2, SYS_pipe, &[at]), Done::Kernel);
    h.put(at, &[7i32.to_le_bytes(), 8i32.to_le_bytes()].concat());
    h.kernel(2, 0);
    h.put(MEM, b"p");
    assert_eq!(h.sys(2, SYS_write, &[8, MEM, 1]), Done::Ret(1));
    assert_eq!(h.sys(2, SYS_read, &[7, MEM + 1, 1]), Done::Ret(1));
    assert!(!vfd(&h, 7).expect("a virtual fd").cloexec);
    // A failed pipe makes nothing.
    assert_eq!(h.sys(2, SYS_pipe2, &[at, O_CLOEXEC as u64]), Done::Kernel);
    h.put(at, &[9i32.to_le_bytes(), 10i32.to_le_bytes()].concat());
    h.kernel(2, -(EMFILE as i64));
    assert_eq!(vfd(&h, 9), None);
    // eventfd(initval): no flags, and the count is the initial value.
    assert_eq!(h.sys(2, SYS_eventfd, &[3]), Done::Kernel);
    h.kernel(2, 11);
    assert_eq!(h.sys(2, SYS_read, &[11, MEM, 8]), Done::Ret(8));
    assert_eq!(h.get(MEM, 8), 3u64.to_le_bytes());
    assert_eq!(h.sys(2, SYS_read, &[11, MEM, 8]), Done::Parked, "blocking");
}

#[test]
fn close_range_checks_its_arguments_then_closes_or_marks() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    assert_eq!(h.sys(2, SYS_close_range, &[4, 3, 0]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_close_range, &[3, 4, 1 << 8]), err(EINVAL));
    assert!(vfd(&h, 3).is_some() && vfd(&h, 4).is_some());
    let cloexec = CLOSE_RANGE_CLOEXEC as u64;
    assert_eq!(h.sys(2, SYS_close_range, &[3, 3, cloexec]), Done::Kernel);
    assert!(vfd(&h, 3).expect("still open").cloexec);
    assert!(!vfd(&h, 4).expect("still open").cloexec);
    // The kernel reads unsigned ints: a range up to ~0U covers everything.
    assert_eq!(
        h.sys(2, SYS_close_range, &[3, u32::MAX as u64, 0]),
        Done::Kernel
    );
    assert_eq!((vfd(&h, 3), vfd(&h, 4)), (None, None));
}

#[test]
fn fcntl_sets_flags_resizes_pipes_and_makes_waiting_locks_try_once() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    assert_eq!(
        h.sys(2, SYS_fcntl, &[3, F_SETFL as u64, O_NONBLOCK as u64]),
        Done::Kernel
    );
    assert!(!h.e.posts.contains_key(&2), "no exit stop for plain flags");
    assert_eq!(h.sys(2, SYS_read, &[3, MEM, 1]), err(EAGAIN));
    assert_eq!(
        h.sys(2, SYS_fcntl, &[3, F_GETPIPE_SZ as u64]),
        Done::Ret(65536)
    );
    assert_eq!(
        h.sys(2, SYS_fcntl, &[4, F_SETPIPE_SZ as u64, 5000]),
        Done::Kernel
    );
    h.kernel(2, 8192);
    assert_eq!(
        h.sys(2, SYS_fcntl, &[3, F_GETPIPE_SZ as u64]),
        Done::Ret(8192)
    );
    // F_SETLKW becomes F_SETLK on the same descriptor and lock.
    assert_eq!(
        h.sys(2, SYS_fcntl, &[3, F_SETLKW as u64, MEM, 9, 9, 9]),
        Done::Kernel
    );
    assert_eq!(
        rewritten(&h, 2),
        (SYS_fcntl, [3, F_SETLK as u64, MEM, 0, 0, 0])
    );
    // Signal-driven I/O: O_ASYNC and an owner, taken at the exit of a success.
    let file = vfd(&h, 3).expect("a virtual fd").file;
    assert_eq!(h.sys(2, SYS_fcntl, &[3, F_SETOWN as u64, 2]), Done::Kernel);
    h.kernel(2, 0);
    assert_eq!(h.e.w.files.file(file).signal_io.owner, 2);
    assert_eq!(
        h.sys(2, SYS_fcntl, &[3, F_SETFL as u64, O_ASYNC as u64]),
        Done::Kernel
    );
    h.kernel(2, -(EINVAL as i64));
    assert!(!h.e.w.files.file(file).signal_io.on, "not on a failure");
    assert_eq!(
        h.sys(2, SYS_fcntl, &[3, F_SETFL as u64, O_ASYNC as u64]),
        Done::Kernel
    );
    h.kernel(2, 0);
    assert!(h.e.w.files.file(file).signal_io.on);
    assert!(h.e.w.signal_io.contains(&file));
    assert_eq!(
        h.sys(2, SYS_fcntl, &[3, 10 /* F_SETSIG */, 40]),
        Done::Kernel
    );
    h.kernel(2, 0);
    assert_eq!(h.e.w.files.file(file).signal_io.sig, 40);
    // F_SETOWN_EX(F_OWNER_PGRP, 2): the group, as a negative owner.
    h.put(MEM, &[2i32.to_le_bytes(), 2i32.to_le_bytes()].concat());
    assert_eq!(h.sys(2, SYS_fcntl, &[3, 15, MEM]), Done::Kernel);
    h.kernel(2, 0);
    let io = h.e.w.files.file(file).signal_io;
    assert_eq!((io.owner, io.thread), (-2, None));
}

#[test]
fn ioctl_answers_fionread_and_sets_fionbio_and_fioclex() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    h.put(MEM, b"12345");
    assert_eq!(h.sys(2, SYS_write, &[4, MEM, 5]), Done::Ret(5));
    assert_eq!(
        h.sys(2, SYS_ioctl, &[3, FIONREAD, MEM + 0x10]),
        Done::Ret(0)
    );
    assert_eq!(h.get(MEM + 0x10, 4), 5i32.to_le_bytes());
    // The request is an unsigned int: the upper half of the register is not read.
    h.put(MEM + 0x10, &[0; 4]);
    assert_eq!(
        h.sys(2, SYS_ioctl, &[4, FIONREAD | 1 << 32, MEM + 0x10]),
        Done::Ret(0)
    );
    assert_eq!(h.get(MEM + 0x10, 4), 5i32.to_le_bytes());
    assert_eq!(h.sys(2, SYS_ioctl, &[3, FIOCLEX, 0]), Done::Kernel);
    assert!(vfd(&h, 3).expect("a virtual fd").cloexec);
    assert_eq!(h.sys(2, SYS_ioctl, &[3, FIONCLEX, 0]), Done::Kernel);
    assert!(!vfd(&h, 3).expect("a virtual fd").cloexec);
    h.put(MEM + 0x20, &1i32.to_le_bytes());
    assert_eq!(h.sys(2, SYS_ioctl, &[3, FIONBIO, MEM + 0x20]), Done::Kernel);
    assert_eq!(h.sys(2, SYS_read, &[3, MEM, 5]), Done::Ret(5));
    assert_eq!(
        h.sys(2, SYS_read, &[3, MEM, 5]),
        err(EAGAIN),
        "non-blocking"
    );
    assert_eq!(h.sys(2, SYS_ioctl, &[3, TCGETS, MEM]), err(ENOTTY));
}

#[test]
fn opens_of_urandom_become_the_seeded_stream_and_others_pass() {
    let mut h = H::new();
    h.put(MEM, b"/dev/urandom\0");
    h.put(MEM + 0x20, b"/nonexistent/file\0");
    assert_eq!(
        h.sys(2, SYS_open, &[MEM, O_RDONLY as u64 | O_CLOEXEC as u64]),
        Done::Kernel
    );
    h.kernel(2, 5);
    assert!(vfd(&h, 5).expect("a virtual fd").cloexec);
    assert_eq!(h.sys(2, SYS_read, &[5, MEM + 0x100, 16]), Done::Ret(16));
    let at_fdcwd = AT_FDCWD as i64 as u64;
    assert_eq!(h.sys(2, SYS_openat, &[at_fdcwd, MEM, 0]), Done::Kernel);
    h.kernel(2, 6);
    assert!(!vfd(&h, 6).expect("a virtual fd").cloexec);
    // creat(2) of /dev/urandom: the same stream (creat's flags have no O_CLOEXEC).
    assert_eq!(h.sys(2, SYS_creat, &[MEM, 0o644]), Done::Kernel);
    h.kernel(2, 7);
    assert!(vfd(&h, 7).is_some());
    // Another path: the kernel's, with an exit stop for the trace only.
    assert_eq!(
        h.sys(2, SYS_openat, &[at_fdcwd, MEM + 0x20, 0]),
        Done::Kernel
    );
    assert_eq!(h.kernel(2, 8), 8);
    assert_eq!(vfd(&h, 8), None);
    // A failed open of /dev/urandom makes nothing.
    assert_eq!(h.sys(2, SYS_open, &[MEM, 0]), Done::Kernel);
    h.kernel(2, -(EMFILE as i64));
    assert_eq!(vfd(&h, 9), None);
    assert_eq!(
        h.sys(2, SYS_open, &[0x1000, 0]),
        err(EFAULT),
        "unmapped path"
    );
}

#[test]
fn calls_between_two_fds_are_refused_on_virtual_ones() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    assert_eq!(h.sys(2, SYS_sendfile, &[20, 3, 0, 10]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_sendfile, &[4, 20, 0, 10]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_splice, &[3, 0, 20, 0, 10, 0]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_splice, &[20, 0, 4, 0, 10, 0]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_tee, &[20, 4, 10, 0]), err(EINVAL));
    assert_eq!(
        h.sys(2, SYS_copy_file_range, &[20, 0, 4, 0, 10, 0]),
        err(EINVAL)
    );
    assert_eq!(h.sys(2, SYS_preadv, &[3, MEM, 1, 0, 0]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_preadv2, &[3, MEM, 1, 0, 0, 0]), err(EINVAL));
    // Kernel fds at both ends go to the kernel; splice's offsets are pointers, not
    // descriptors (3 there names no fd).
    assert_eq!(h.sys(2, SYS_tee, &[20, 21, 10, 0]), Done::Kernel);
    assert_eq!(h.sys(2, SYS_splice, &[20, 3, 21, 0, 10, 0]), Done::Kernel);
    for name in [
        "sendfile",
        "splice",
        "tee",
        "copy_file_range",
        "preadv",
        "preadv2",
    ] {
        let warning = format!("{name} on a virtual fd answered EINVAL");
        assert!(h.e.w.warnings.contains_key(&warning), "{warning}");
    }
}

#[test]
fn sched_yield_returns_at_once() {
    let mut h = H::new();
    assert_eq!(h.sys(2, SYS_sched_yield, &[]), Done::Ret(0));
}
