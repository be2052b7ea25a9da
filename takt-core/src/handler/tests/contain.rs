//! Contained calls: refused, or emulated within the scenario; and calls takt does not
//! know.

use super::{err, Done, H, MEM};
use libc::*;

#[test]
fn the_hostname_is_the_nodes_and_its_length_an_int() {
    let mut h = H::new();
    h.put(MEM, b"alpha");
    assert_eq!(h.sys(2, SYS_sethostname, &[MEM, 65]), err(EINVAL));
    assert_eq!(
        h.sys(2, SYS_sethostname, &[MEM, u64::from(u32::MAX)]),
        err(EINVAL),
        "a negative length"
    );
    // The kernel reads an int: the upper half of the register is not the length's.
    assert_eq!(h.sys(2, SYS_sethostname, &[MEM, 1 << 32 | 5]), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_setdomainname, &[MEM, 3]), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_uname, &[MEM + 0x100]), Done::Ret(0));
    let u = h.get(MEM + 0x100, 6 * 65);
    assert_eq!(&u[65..71], b"alpha\0", "nodename");
    assert_eq!(&u[5 * 65..5 * 65 + 4], b"alp\0", "domainname");
    assert_eq!(h.sys(2, SYS_sethostname, &[0x1000, 4]), err(EFAULT));
}

#[test]
fn namespaces_devices_and_the_clock_are_contained() {
    let mut h = H::new();
    assert_eq!(h.sys(2, SYS_unshare, &[0]), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_unshare, &[CLONE_FS as u64]), Done::Kernel);
    assert_eq!(h.sys(2, SYS_unshare, &[CLONE_NEWNET as u64]), err(EPERM));
    assert_eq!(
        h.sys(2, SYS_unshare, &[1 << 40]),
        err(EINVAL),
        "unshare's flags are an unsigned long"
    );
    h.put(MEM, b"/tmp/x\0");
    let chr = u64::from(S_IFCHR | 0o600);
    assert_eq!(h.sys(2, SYS_mknod, &[MEM, chr, 0x103]), err(EPERM));
    assert_eq!(
        h.sys(
            2,
            SYS_mknodat,
            &[AT_FDCWD as u64, MEM, u64::from(S_IFBLK), 0]
        ),
        err(EPERM)
    );
    assert_eq!(
        h.sys(2, SYS_mknod, &[MEM, u64::from(S_IFIFO | 0o600), 0]),
        Done::Kernel
    );
    assert_eq!(h.sys(2, SYS_mount, &[MEM, MEM, MEM, 0, 0]), err(EPERM));
    assert_eq!(h.sys(2, SYS_setns, &[3, 0]), err(EPERM));
    assert_eq!(h.sys(2, SYS_clock_settime, &[0, MEM]), err(EPERM));
    assert_eq!(h.sys(2, SYS_ptrace, &[0, 1, 0, 0]), err(EPERM));
    // adjtimex without modes reads the virtual clock; with modes it is refused.
    h.put(MEM + 0x100, &[0u8; 208]);
    assert_eq!(
        h.sys(2, SYS_adjtimex, &[MEM + 0x100]),
        Done::Ret(TIME_ERROR as i64)
    );
    assert_eq!(
        h.sys(2, SYS_clock_adjtime, &[CLOCK_REALTIME as u64, MEM + 0x100]),
        Done::Ret(TIME_ERROR as i64)
    );
    assert_eq!(
        h.sys(2, SYS_clock_adjtime, &[CLOCK_MONOTONIC as u64, MEM + 0x100]),
        err(EOPNOTSUPP)
    );
    assert_eq!(h.sys(2, SYS_clock_adjtime, &[99, MEM + 0x100]), err(EINVAL));
    h.put(MEM + 0x100, &1u32.to_le_bytes()); // ADJ_OFFSET
    assert_eq!(h.sys(2, SYS_adjtimex, &[MEM + 0x100]), err(EPERM));
    let notes: Vec<&String> = h.e.w.notes.keys().collect();
    let notes = format!("{notes:?}");
    assert!(notes.contains("mount refused with EPERM"), "{notes}");
    assert!(notes.contains("adjtimex refused with EPERM"), "{notes}");
}

#[test]
fn unknown_calls_fail_closed_and_rseq_quietly() {
    let mut h = H::new();
    assert_eq!(h.sys(2, SYS_rseq, &[0, 0, 0, 0]), err(ENOSYS));
    assert_eq!(h.sys(2, SYS_io_uring_setup, &[8, MEM]), err(ENOSYS));
    assert_eq!(h.sys(2, 1000, &[]), err(ENOSYS));
    let notes = format!("{:?}", h.e.w.notes.keys().collect::<Vec<_>>());
    assert!(notes.contains("rseq answered ENOSYS"), "{notes}");
    assert!(notes.contains("io_uring_setup answered ENOSYS"), "{notes}");
    let warnings = format!("{:?}", h.e.w.warnings.keys().collect::<Vec<_>>());
    assert!(warnings.contains("unsupported syscall"), "{warnings}");
}
