//! File calls the kernel runs and takt observes: the structures rewritten at their exit.

use super::{Done, H, MEM};
use crate::handler::time::EPOCH_SECS;
use libc::*;

/// A `struct stat` as the kernel fills it: the host's device, inode and times.
fn host_stat(h: &H, at: u64) {
    let mut st: stat = crate::sys::pod_read(&[0u8; std::mem::size_of::<stat>()]);
    st.st_dev = 0x803;
    st.st_ino = 4242;
    st.st_mode = S_IFREG | 0o644;
    st.st_size = 10;
    st.st_mtime = 1_600_000_000;
    h.put(at, crate::sys::pod_bytes(&st));
}

fn read_stat(h: &H, at: u64) -> stat {
    crate::sys::pod_read(&h.get(at, std::mem::size_of::<stat>()))
}

#[test]
fn stat_shows_takts_identity_and_times_at_its_exit() {
    let mut h = H::new();
    let buf = MEM + 0x1000;
    h.put(MEM, b"/etc/hosts\0");
    for (nr, args) in [
        (SYS_stat, vec![MEM, buf]),
        (SYS_lstat, vec![MEM, buf]),
        (SYS_fstat, vec![40, buf]),
        (SYS_newfstatat, vec![AT_FDCWD as u64, MEM, buf, 0]),
    ] {
        host_stat(&h, buf);
        assert_eq!(h.sys(2, nr, &args), Done::Kernel, "syscall {nr}");
        // A failed call: the buffer is the kernel's business.
        assert_eq!(h.kernel(2, -(ENOENT as i64)), -(ENOENT as i64));
        assert_eq!(read_stat(&h, buf).st_ino, 4242, "syscall {nr}");
        assert_eq!(h.sys(2, nr, &args), Done::Kernel);
        assert_eq!(h.kernel(2, 0), 0);
        let st = read_stat(&h, buf);
        assert_eq!(st.st_ino, h.e.w.ids.ino((0x803, 4242)), "syscall {nr}");
        assert_eq!(st.st_dev, h.e.w.ids.dev(0x803));
        assert_eq!(
            st.st_mtime, EPOCH_SECS as i64,
            "never seen changed: the epoch"
        );
        assert_eq!((st.st_size, st.st_mode), (10, S_IFREG | 0o644), "kept");
    }
}

#[test]
fn statfs_shows_fixed_figures() {
    let mut h = H::new();
    let buf = MEM + 0x1000;
    h.put(MEM, b"/\0");
    h.put(buf, &[0u8; std::mem::size_of::<statfs>()]);
    for (nr, args) in [(SYS_statfs, [MEM, buf]), (SYS_fstatfs, [3, buf])] {
        assert_eq!(h.sys(2, nr, &args), Done::Kernel);
        assert_eq!(h.kernel(2, 0), 0);
        let sf: statfs = crate::sys::pod_read(&h.get(buf, std::mem::size_of::<statfs>()));
        assert_eq!((sf.f_bsize, sf.f_blocks), (4096, (100 << 30) / 4096));
        assert_eq!(sf.f_bfree, sf.f_blocks / 2);
    }
}

#[test]
fn calls_on_files_the_tracer_cannot_see_pass_to_the_kernel() {
    let mut h = H::new();
    h.put(MEM, b"/no/such/dir/x\0");
    // Test threads have no /proc entries: each call is the kernel's, and its exit
    // action finds nothing to follow.
    let at = AT_FDCWD as u64;
    for (nr, args) in [
        (SYS_getdents64, vec![40, MEM + 0x1000, 4096]),
        (SYS_mkdir, vec![MEM, 0o755]),
        (SYS_unlinkat, vec![at, MEM, 0]),
        (
            SYS_renameat2,
            vec![at, MEM, at, MEM, RENAME_EXCHANGE as u64],
        ),
        (SYS_rename, vec![MEM, MEM]),
        (SYS_chmod, vec![MEM, 0o600]),
        (SYS_fchown, vec![40, 0, 0]),
        (SYS_utimensat, vec![at, MEM, 0, 0]),
        (SYS_utimes, vec![MEM, 0]),
        (SYS_fsync, vec![40]),
        (SYS_pwrite64, vec![40, MEM, 4, 0]),
        (SYS_ftruncate, vec![40, 0]),
    ] {
        assert_eq!(h.sys(2, nr, &args), Done::Kernel, "syscall {nr}");
        assert_eq!(h.kernel(2, 0), 0, "syscall {nr}");
    }
}
