//! Rendering of filesystem calls, compared with what strace prints.

use super::*;
use libc::*;

fn paths() -> LocalMemory {
    LocalMemory::new()
        .with(A, *b"/etc/ld.so.cache\0")
        .with(B, *b"/tmp/out\0")
        .with(C, *b".\0")
}

#[test]
fn open_prints_the_mode_only_when_it_is_used() {
    let m = paths();
    let cwd = int(AT_FDCWD);
    assert_eq!(
        line(SYS_openat, &[cwd, A, 0o2000000, 0o777], Some(3), &m),
        r#"openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3"#
    );
    assert_eq!(
        line(SYS_openat, &[cwd, B, 0o1101, 0o644], Some(3), &m),
        r#"openat(AT_FDCWD, "/tmp/out", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3"#
    );
    assert_eq!(
        line(SYS_openat, &[cwd, C, 0o2204000, 0], Some(3), &m),
        r#"openat(AT_FDCWD, ".", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3"#
    );
    assert_eq!(
        line(SYS_openat, &[5, C, 0o20200002, 0o600], Some(4), &m),
        r#"openat(5, ".", O_RDWR|O_TMPFILE, 0600) = 4"#
    );
    assert_eq!(
        line(SYS_open, &[B, 0], err(ENOENT), &m),
        r#"open("/tmp/out", O_RDONLY) = -1 ENOENT (No such file or directory)"#
    );
    // Unknown bits print in hex, after the names.
    assert_eq!(
        line(SYS_openat, &[cwd, C, 0x4008_0000, 0], Some(3), &m),
        r#"openat(AT_FDCWD, ".", O_RDONLY|O_CLOEXEC|0x40000000) = 3"#
    );
    // No capture: the path is an address.
    assert_eq!(
        Syscall::decode(SYS_openat as u32, regs(&[cwd, A, 0, 0])).render(None, &()),
        "openat(AT_FDCWD, 0x1000, O_RDONLY) = ?"
    );
    // A path the guest did not map.
    assert_eq!(
        line(SYS_open, &[D, 0], err(EFAULT), &m),
        "open(0x4000, O_RDONLY) = -1 EFAULT (Bad address)"
    );
}

#[test]
fn metadata_and_directories() {
    let m = paths();
    let cwd = int(AT_FDCWD);
    assert_eq!(
        line(SYS_access, &[A, 4], err(ENOENT), &m),
        r#"access("/etc/ld.so.cache", R_OK) = -1 ENOENT (No such file or directory)"#
    );
    assert_eq!(
        line(SYS_faccessat2, &[cwd, C, 0, 0x200], Some(0), &m),
        r#"faccessat2(AT_FDCWD, ".", F_OK, AT_EACCESS) = 0"#
    );
    assert_eq!(
        line(SYS_mkdir, &[B, 0o755], Some(0), &m),
        r#"mkdir("/tmp/out", 0755) = 0"#
    );
    assert_eq!(
        line(SYS_unlinkat, &[cwd, B, 0x200], Some(0), &m),
        r#"unlinkat(AT_FDCWD, "/tmp/out", AT_REMOVEDIR) = 0"#
    );
    assert_eq!(
        line(SYS_rename, &[A, B], Some(0), &m),
        r#"rename("/etc/ld.so.cache", "/tmp/out") = 0"#
    );
    assert_eq!(
        line(SYS_chown, &[B, u64::from(u32::MAX), 1000], Some(0), &m),
        r#"chown("/tmp/out", -1, 1000) = 0"#
    );
    assert_eq!(line(SYS_umask, &[0o22], Some(0o2), &m), "umask(022) = 02");
}

#[test]
fn output_paths() {
    let m = LocalMemory::new()
        .with(A, *b"/proc/self/exe\0")
        .with(B, *b"/usr/bin/memcached")
        .with(C, *b"/home/user\0");
    assert_eq!(
        line(SYS_readlink, &[A, B, 4096], Some(18), &m),
        r#"readlink("/proc/self/exe", "/usr/bin/memcached", 4096) = 18"#
    );
    assert_eq!(
        line(SYS_getcwd, &[C, 4096], Some(11), &m),
        r#"getcwd("/home/user", 4096) = 11"#
    );
    // Paths are printed whole, not cut at 32 bytes; other strings are.
    let long = [b'a'; 100];
    let mut p = long.to_vec();
    p.push(0);
    let m = LocalMemory::new().with(A, p.clone()).with(B, p);
    let out = line(SYS_unlink, &[A], Some(0), &m);
    assert_eq!(out, format!("unlink(\"{}\") = 0", "a".repeat(100)));
    let out = line(SYS_removexattr, &[A, B], Some(0), &m);
    assert!(
        out.ends_with(&format!(", \"{}\"...) = 0", "a".repeat(32))),
        "{out}"
    );
}

#[test]
fn stat_and_devices() {
    let mut st = vec![0u8; 144];
    st[24..28].copy_from_slice(&0o100644u32.to_le_bytes());
    st[48..56].copy_from_slice(&1234i64.to_le_bytes());
    let mut dev = vec![0u8; 144];
    dev[24..28].copy_from_slice(&0o20620u32.to_le_bytes());
    dev[40..48].copy_from_slice(&0x8800u64.to_le_bytes());
    let m = paths().with(D, st).with(D + 0x100, dev);
    assert_eq!(
        line(SYS_newfstatat, &[3, C, D, 0x1000], Some(0), &m),
        r#"newfstatat(3, ".", {st_mode=S_IFREG|0644, st_size=1234, ...}, AT_EMPTY_PATH) = 0"#
    );
    assert_eq!(
        line(SYS_fstat, &[0, D + 0x100], Some(0), &m),
        "fstat(0, {st_mode=S_IFCHR|0620, st_rdev=makedev(0x88, 0), ...}) = 0"
    );
    assert_eq!(
        line(SYS_stat, &[B, D], err(ENOENT), &m),
        r#"stat("/tmp/out", 0x4000) = -1 ENOENT (No such file or directory)"#
    );
    assert_eq!(
        line(SYS_mknod, &[B, 0o10644, 0], Some(0), &m),
        r#"mknod("/tmp/out", S_IFIFO|0644) = 0"#
    );
    assert_eq!(
        line(
            SYS_mknodat,
            &[int(AT_FDCWD), B, 0o20666, 0x103],
            Some(0),
            &m
        ),
        r#"mknodat(AT_FDCWD, "/tmp/out", S_IFCHR|0666, makedev(0x1, 0x3)) = 0"#
    );
}
