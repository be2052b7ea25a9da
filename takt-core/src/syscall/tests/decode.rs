//! The table: every call the dispatch table names is typed, with the kernel's argument
//! count; decode and encode, descriptors, transfers.

use super::*;
use crate::syscall::calls;
use crate::syscall::flags::{MsgFlags, OpenFlags};
use crate::syscall::{Dir, Fd, Shape, Unit};
use crate::trace::args::{arg_count, used_args};

/// The calls the dispatch table names by typed variant (`S::Read(c)`,
/// `Syscall::Read(c)`), by the kernel's names.
fn typed_rows(src: &str) -> Vec<&'static str> {
    let by_variant: std::collections::BTreeMap<String, &'static str> = Syscall::TYPED
        .iter()
        .map(|&nr| {
            let c = Syscall::decode(nr, [0; 6]);
            let debug = format!("{c:?}");
            let variant = debug.split('(').next().unwrap_or_default().to_string();
            (variant, c.name())
        })
        .collect();
    let mut names = Vec::new();
    for prefix in ["S::", "Syscall::"] {
        for (at, _) in src.match_indices(prefix) {
            let before = src[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue; // part of a longer path
            }
            let rest = &src[at + prefix.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            let v = &rest[..end];
            if v.starts_with(|c: char| c.is_ascii_uppercase()) && v != "Other" {
                let name = by_variant.get(v);
                names.push(*name.unwrap_or_else(|| panic!("{v} is no typed variant")));
            }
        }
    }
    names
}

#[test]
fn every_call_the_dispatch_table_names_is_typed() {
    let src = include_str!("../../handler/mod.rs");
    // The calls the seccomp filter lets run (`ALLOWED`) are the table's first group.
    let syscall_mod = include_str!("../mod.rs");
    let at = syscall_mod.find("pub const ALLOWED").expect("ALLOWED");
    let allowed = &syscall_mod[at..at + syscall_mod[at..].find("];").expect("its end")];
    let mut names: Vec<&str> = [src, allowed]
        .iter()
        .flat_map(|s| s.split("SYS_").skip(1))
        .map(|s| {
            let end = s
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(s.len());
            &s[..end]
        })
        .filter(|n| !n.is_empty())
        .chain(typed_rows(src))
        .collect();
    names.sort_unstable();
    names.dedup();
    assert!(names.len() > 250, "parsed only {} names", names.len());
    for name in &names {
        let nr: syscalls::Sysno = name.parse().unwrap_or_else(|_| panic!("{name}"));
        let call = Syscall::decode(nr as u32, [0; 6]);
        assert!(call.is_typed(), "{name} has no typed variant");
        assert_eq!(call.name(), *name);
    }
    assert_eq!(
        Syscall::TYPED.len(),
        names.len(),
        "typed calls the table does not name"
    );
}

#[test]
fn typed_numbers_are_unique_and_named_as_the_kernel_names_them() {
    let mut nrs = Syscall::TYPED.to_vec();
    nrs.sort_unstable();
    nrs.dedup();
    assert_eq!(nrs.len(), Syscall::TYPED.len());
    for &nr in Syscall::TYPED {
        let c = Syscall::decode(nr, [0; 6]);
        assert_eq!(c.nr(), nr);
        assert_eq!(
            Some(c.name()),
            syscalls::Sysno::new(nr as usize).map(|s| s.name())
        );
    }
}

#[test]
fn argument_counts_match_the_kernel() {
    for &nr in Syscall::TYPED {
        let c = Syscall::decode(nr, [0; 6]);
        assert_eq!(c.arg_count(), arg_count(nr), "{}", c.name());
    }
}

#[test]
fn encode_inverts_decode() {
    let a = [u64::MAX, 0x1234_5678_9abc_def0, 7, 1 << 63, 0xffff_ffff, 3];
    for &nr in Syscall::TYPED {
        assert_eq!(Syscall::decode(nr, a).encode(), (nr, used_args(nr, a)));
    }
    let other = Syscall::decode(9999, a);
    assert_eq!(other, Syscall::Other { nr: 9999, args: a });
    assert_eq!(other.encode(), (9999, a));
    assert_eq!(other.name(), "unknown");
    assert_eq!(Syscall::decode(426, a).name(), "io_uring_enter");
}

#[test]
fn small_and_copy() {
    assert!(std::mem::size_of::<Syscall>() <= 56);
    fn copy<T: Copy>() {}
    copy::<Syscall>();
}

#[test]
fn typed_fields_read_the_kernel_width() {
    let r = Syscall::decode(
        libc::SYS_openat as u32,
        [0xdead_0000_ffff_ff9c, A, 0o2000000, 0, 0, 0],
    );
    let Syscall::Openat(o) = r else { panic!() };
    assert!(o.dirfd.is_cwd());
    assert_eq!(o.dirfd.fd(), None);
    assert_eq!(o.flags.get(), OpenFlags::O_CLOEXEC);
    // The upper half survives the round trip and shows in Debug.
    assert_eq!(r.encode().1[0], 0xdead_0000_ffff_ff9c);
    assert_eq!(
        format!("{:?}", o.dirfd),
        "DirFd(-100, raw=0xdead0000ffffff9c)"
    );
    assert_eq!(format!("{:?}", Fd::from(3)), "Fd(3)");
    assert_eq!(calls::Read::NR, 0);
    assert_eq!(calls::Read::NAME, "read");
}

#[test]
fn descriptor_arguments() {
    let fds = |nr: i64, a: &[u64]| -> Vec<(usize, i32)> {
        Syscall::decode(nr as u32, regs(a))
            .fds()
            .map(|(i, f)| (i, f.get()))
            .collect()
    };
    assert_eq!(fds(libc::SYS_read, &[3, A, 10]), [(0, 3)]);
    assert_eq!(
        fds(libc::SYS_splice, &[3, 0, 4, 0, 10, 0]),
        [(0, 3), (2, 4)]
    );
    assert_eq!(fds(libc::SYS_sendfile, &[5, 6, 0, 1]), [(0, 5), (1, 6)]);
    assert_eq!(fds(libc::SYS_epoll_ctl, &[5, 1, 7, A]), [(0, 5), (2, 7)]);
    assert_eq!(fds(libc::SYS_openat, &[int(-100), A, 0, 0]), []);
    assert_eq!(fds(libc::SYS_openat, &[9, A, 0, 0]), [(0, 9)]);
    assert_eq!(fds(libc::SYS_mmap, &[0, 4096, 1, 2, int(-1), 0]), [(4, -1)]);
    assert_eq!(fds(libc::SYS_getpid, &[]), []);
    assert_eq!(fds(9999, &[1, 2, 3]), []);
}

#[test]
fn transfers_and_short_counts() {
    let d = |nr: i64, a: &[u64]| Syscall::decode(nr as u32, regs(a));
    let t = d(libc::SYS_read, &[3, A, 100]).transfer().unwrap();
    assert_eq!(
        (t.dir, t.fd, t.unit()),
        (Dir::Read, Some(Fd::from(3)), Unit::Bytes)
    );
    assert_eq!(t.shape, Shape::Buf { buf: A, count: 100 });
    assert_eq!(t.requested(), Some(100));
    assert_eq!(t.moved(Some(42)), Some(42));
    assert_eq!(t.moved(Some(-11)), None);
    assert_eq!(t.moved(None), None);
    let w = d(libc::SYS_sendto, &[3, A, 10, 0, 0, 0])
        .transfer()
        .unwrap();
    assert_eq!((w.dir, w.requested()), (Dir::Write, Some(10)));
    let v = d(libc::SYS_writev, &[3, A, 2]).transfer().unwrap();
    assert_eq!(v.shape, Shape::Vectored { iov: A, cnt: 2 });
    assert_eq!(v.requested(), None);
    let m = d(libc::SYS_sendmmsg, &[3, A, 8, 0]).transfer().unwrap();
    assert_eq!((m.unit(), m.requested()), (Unit::Messages, Some(8)));
    let g = d(libc::SYS_getrandom, &[A, 16, 0]).transfer().unwrap();
    assert_eq!((g.dir, g.fd), (Dir::Read, None));
    let s = d(libc::SYS_splice, &[3, 0, 4, 0, 99, 0])
        .transfer()
        .unwrap();
    assert_eq!(
        s.shape,
        Shape::Between {
            from: Fd::from(3),
            to: Fd::from(4),
            count: 99
        }
    );
    assert!(d(libc::SYS_getpid, &[]).transfer().is_none());

    // A short transfer changes the count register only, and never raises it.
    let r = d(libc::SYS_recvfrom, &[3, A, 100, 0x40, B, C]);
    let short = r.with_count(7).unwrap();
    assert_eq!(short.encode().1, [3, A, 7, 0x40, B, C]);
    assert_eq!(r.with_count(1000).unwrap(), r);
    assert_eq!(short.transfer().unwrap().requested(), Some(7));
    let mm = d(libc::SYS_recvmmsg, &[3, A, 0xaaaa_0000_0000_0010, 0, 0]);
    assert_eq!(
        mm.with_count(2).unwrap().encode().1[2],
        0xaaaa_0000_0000_0002
    );
    assert!(d(libc::SYS_readv, &[3, A, 2]).with_count(1).is_none());
    assert!(d(libc::SYS_close, &[3]).with_count(1).is_none());
    assert_eq!(
        d(libc::SYS_write, &[3, A, 100]).with_arg(2, 5).encode().1,
        [3, A, 5, 0, 0, 0]
    );
    // A register the call does not take is dropped.
    assert_eq!(
        d(libc::SYS_close, &[3]).with_arg(4, 5).encode().1,
        [3, 0, 0, 0, 0, 0]
    );
}

#[test]
fn blocking_candidates_and_msg_flags() {
    let d = |nr: i64, a: &[u64]| Syscall::decode(nr as u32, regs(a));
    assert!(d(libc::SYS_read, &[3, A, 1]).is_blocking_candidate());
    assert!(d(libc::SYS_recvfrom, &[3, A, 1, 0, 0, 0]).is_blocking_candidate());
    assert!(!d(libc::SYS_recvfrom, &[3, A, 1, 0x40, 0, 0]).is_blocking_candidate());
    assert_eq!(
        d(libc::SYS_recvmsg, &[3, A, 0x40])
            .msg_flags()
            .map(|f| f.get()),
        Some(MsgFlags::MSG_DONTWAIT)
    );
    assert!(d(libc::SYS_poll, &[A, 1, int(-1)]).is_blocking_candidate());
    assert!(!d(libc::SYS_poll, &[A, 1, 0]).is_blocking_candidate());
    assert!(d(libc::SYS_futex, &[A, 128, 2, 0, 0, 0]).is_blocking_candidate());
    assert!(!d(libc::SYS_futex, &[A, 129, 1, 0, 0, 0]).is_blocking_candidate());
    assert!(!d(libc::SYS_wait4, &[int(-1), 0, 1, 0]).is_blocking_candidate());
    assert!(d(libc::SYS_wait4, &[int(-1), 0, 0, 0]).is_blocking_candidate());
    assert!(!d(libc::SYS_flock, &[3, 6]).is_blocking_candidate());
    assert!(d(libc::SYS_fcntl, &[3, 7, A]).is_blocking_candidate());
    assert!(d(libc::SYS_clone, &[0x4111, 0, 0, 0, 0]).is_blocking_candidate());
    assert!(!d(libc::SYS_getpid, &[]).is_blocking_candidate());
}

#[test]
fn serde_is_canonical() {
    let a = [3, A, 100, 9, 9, 9];
    let c = Syscall::decode(libc::SYS_read as u32, a);
    let bytes = bincode::serialize(&c).unwrap();
    // The registers the call does not take do not reach the encoding.
    let same = Syscall::decode(libc::SYS_read as u32, [3, A, 100, 0, 0, 0]);
    assert_eq!(bytes, bincode::serialize(&same).unwrap());
    assert_eq!(bincode::deserialize::<Syscall>(&bytes).unwrap(), c);
    let mem = LocalMemory::new().with(A, *b"hello");
    let mut cap = Capture::entry(&c, &mem);
    cap.exit(&c, 5, &mem);
    let cb = bincode::serialize(&cap).unwrap();
    assert_eq!(bincode::deserialize::<Capture>(&cb).unwrap(), cap);
}

#[test]
fn local_memory_faults_outside_its_regions() {
    use crate::syscall::GuestMemory;
    let mut m = LocalMemory::new().with(A, [1u8, 2, 3, 4]);
    let mut b = [0u8; 4];
    assert!(m.read(A, &mut b).is_ok());
    assert_eq!(b, [1, 2, 3, 4]);
    assert!(m.read(A + 1, &mut b).is_err());
    assert!(m.read(u64::MAX - 1, &mut b).is_err());
    m.write(A + 2, &[9]).unwrap();
    assert!(m.write(B, &[9]).is_err());
    let s = LocalMemory::new().with(A, *b"abc\0");
    assert_eq!(s.read_cstr(A, 10).unwrap(), (b"abc".to_vec(), true));
    assert_eq!(s.read_cstr(A, 3).unwrap(), (b"abc".to_vec(), true));
    assert_eq!(s.read_cstr(A, 2).unwrap(), (b"ab".to_vec(), false));
    let cut = LocalMemory::new().with(A, *b"abc");
    assert_eq!(cut.read_cstr(A, 10).unwrap(), (b"abc".to_vec(), false));
    assert!(cut.read_cstr(B, 10).is_err());
}

/// Memory that only implements `read`, mapped in whole pages: the default `read_cstr`.
struct Paged(LocalMemory);

impl crate::syscall::GuestMemory for Paged {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), crate::errno::Errno> {
        self.0.read(addr, buf)
    }
}

#[test]
fn default_read_cstr_reads_page_by_page() {
    use crate::syscall::GuestMemory;
    // A string running to the end of the last mapped page.
    let mut page = vec![b'x'; 4096];
    page[4090..].copy_from_slice(b"abcdef");
    let m = Paged(LocalMemory::new().with(0x10000, page.clone()));
    assert_eq!(
        m.read_cstr(0x10000 + 4090, 100).unwrap(),
        (b"abcdef".to_vec(), false)
    );
    assert!(m.read_cstr(0x20000, 100).is_err());
    // Long strings stop at the cap; a string of exactly the cap is complete.
    page[4000] = 0;
    let m = Paged(LocalMemory::new().with(0x10000, page));
    assert_eq!(m.read_cstr(0x10000, 10).unwrap(), (vec![b'x'; 10], false));
    let (s, complete) = m.read_cstr(0x10000 + 3000, 1000).unwrap();
    assert_eq!((s.len(), complete), (1000, true));
    let (s, complete) = m.read_cstr(0x10000 + 3000, 999).unwrap();
    assert_eq!((s.len(), complete), (999, false));
    // Across a page boundary into a second mapped page.
    let mut two = vec![b'y'; 8192];
    two[4100] = 0;
    let m = Paged(LocalMemory::new().with(0x10000, two));
    assert_eq!(m.read_cstr(0x10000 + 4000, 4096).unwrap().0.len(), 100);
}
