//! What the tracer reads about its tracees from the host's `/proc`: a thread's pid in
//! the scenario's namespace, the program a process runs, the signals a thread blocks,
//! whether a process has an fd open. Reads only; every function answers `None` (or
//! `false`) when the process is gone.

use super::RealTid;

/// One `Key:` field of `/proc/<real>/status`.
fn status_field(real: RealTid, key: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{real}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_string())
}

/// The pid of `real` in the innermost PID namespace it belongs to (`NSpid:`).
pub fn ns_pid(real: RealTid) -> Option<i32> {
    status_field(real, "NSpid:")?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

/// The process group of `real` in the innermost PID namespace it belongs to
/// (`NSpgid:`; 0 when its group's leader is outside that namespace).
pub fn ns_pgid(real: RealTid) -> Option<i32> {
    status_field(real, "NSpgid:")?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

/// The real parent of `real` (`PPid:`, as the tracer's namespace numbers it).
pub fn real_ppid(real: RealTid) -> Option<RealTid> {
    status_field(real, "PPid:")?.parse().ok()
}

/// The real user id of `real` (the first `Uid:` field).
pub fn real_uid(real: RealTid) -> Option<u32> {
    status_field(real, "Uid:")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The signals thread `real` blocks (`SigBlk:`), as a bit mask (bit `n - 1` for signal `n`).
pub fn blocked_signals(real: RealTid) -> Option<u64> {
    u64::from_str_radix(&status_field(real, "SigBlk:")?, 16).ok()
}

/// The executable process `real` runs (`/proc/<real>/exe`).
pub fn exe(real: RealTid) -> Option<String> {
    std::fs::read_link(format!("/proc/{real}/exe"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// The size of process `real`'s descriptor table (`FDSize:`): `select` looks at no fd
/// beyond it.
pub fn fd_table_size(real: RealTid) -> Option<i32> {
    status_field(real, "FDSize:")?.parse().ok()
}

/// The soft `RLIMIT_NOFILE` of process `real` (`Max open files` in `/proc/<real>/limits`;
/// `None` for unlimited).
pub fn open_files_limit(real: RealTid) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{real}/limits")).ok()?;
    limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Whether process `real` has descriptor `fd` open.
pub fn has_fd(real: RealTid, fd: i32) -> bool {
    std::fs::symlink_metadata(format!("/proc/{real}/fd/{fd}")).is_ok()
}

/// `struct open_how` of `openat2` (libc's is `non_exhaustive`).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// The metadata of `path` (absolute, as process `real` names it), resolved inside that
/// process's root: `openat2(RESOLVE_IN_ROOT)` on `/proc/<real>/root`, so a symlink on the
/// way (`/var/run -> /run`) leads into the process's own view, as its own lookup would,
/// where a plain path through `/proc/<real>/root` would follow it into the tracer's.
/// `follow`: a final symlink is followed (else it is what is described). The errno is
/// the lookup's (`ENOENT`, `ENOTDIR`, `ELOOP`, `EACCES`…).
pub fn stat_in_root(
    real: RealTid,
    path: &std::path::Path,
    follow: bool,
) -> Result<std::fs::Metadata, nix::errno::Errno> {
    let (root, c) = root_and_path(real, path)?;
    let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
    let fd = open_in_root(&root, &c, libc::O_PATH | libc::O_CLOEXEC | nofollow)?;
    std::fs::File::from(fd)
        .metadata()
        .map_err(|e| nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}

/// Process `real`'s root directory (`/proc/<real>/root`, `O_PATH`) and `path` as a C
/// string (`ENOENT` for one with a NUL inside).
fn root_and_path(
    real: RealTid,
    path: &std::path::Path,
) -> Result<(std::os::fd::OwnedFd, std::ffi::CString), nix::errno::Errno> {
    use std::os::unix::fs::OpenOptionsExt;
    let root = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(format!("/proc/{real}/root"))
        .map_err(|e| nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::ESRCH)))?;
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| nix::errno::Errno::ENOENT)?;
    Ok((root.into(), c))
}

/// `openat2(root, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`: `path` looked
/// up inside `root` as the process whose root it is would, with this thread's
/// filesystem credentials.
fn open_in_root(
    root: &std::os::fd::OwnedFd,
    path: &std::ffi::CStr,
    flags: i32,
) -> Result<std::os::fd::OwnedFd, nix::errno::Errno> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let how = OpenHow {
        flags: flags as u64,
        mode: 0,
        resolve: libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: `root` is an open descriptor, `path` a NUL-terminated string and `how` a
    // valid `open_how` of the size passed; the kernel only reads them.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            path.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    let fd = nix::errno::Errno::result(fd)?;
    // SAFETY: openat2 returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// The credentials a thread's file accesses are checked with: its filesystem uid and gid
/// (`Uid:`/`Gid:`, fourth field), its supplementary groups, and whether its effective
/// capabilities bypass file permissions (`CAP_DAC_OVERRIDE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsCreds {
    /// The filesystem uid.
    pub uid: u32,
    /// The filesystem gid.
    pub gid: u32,
    /// The supplementary groups.
    pub groups: Vec<u32>,
    /// `CAP_DAC_OVERRIDE` is effective.
    pub dac_override: bool,
}

/// The capability that bypasses file read, write and search permission checks.
const CAP_DAC_OVERRIDE: u32 = 1;

/// Thread `real`'s [`FsCreds`].
pub fn fs_creds(real: RealTid) -> Option<FsCreds> {
    let fourth = |key: &str| -> Option<u32> {
        status_field(real, key)?
            .split_whitespace()
            .nth(3)?
            .parse()
            .ok()
    };
    let groups = status_field(real, "Groups:")?
        .split_whitespace()
        .filter_map(|g| g.parse().ok())
        .take(65536)
        .collect();
    let cap = u64::from_str_radix(&status_field(real, "CapEff:")?, 16).ok()?;
    Some(FsCreds {
        uid: fourth("Uid:")?,
        gid: fourth("Gid:")?,
        groups,
        dac_override: cap & (1 << CAP_DAC_OVERRIDE) != 0,
    })
}

/// Whether `creds` may look `path` up (absolute, as process `real` names it, inside its
/// root, following symlinks) and write to what it names, as Linux checks an AF_UNIX
/// `connect` or `sendto` to a path: the lookup's errno (`EACCES` for a directory that
/// may not be searched, `ENOENT`…), or `EACCES` without write permission. The kernel
/// checks it: this thread takes `creds` as its filesystem credentials for the lookup
/// and the check (per thread: the raw `setgroups`, `setfsgid` and `setfsuid`), then
/// its own back. Without root (nothing to switch to) it answers `Ok`.
pub fn may_write_in_root(
    real: RealTid,
    path: &std::path::Path,
    creds: &FsCreds,
) -> Result<(), nix::errno::Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: geteuid has no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let (root, c) = root_and_path(real, path)?;
    // SAFETY: getgroups with a size of 0 only counts the groups.
    let n = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
    let mut saved = vec![0 as libc::gid_t; usize::try_from(n).unwrap_or(0)];
    // SAFETY: getgroups writes at most `saved.len()` gids into `saved`.
    let n = unsafe { libc::getgroups(saved.len() as i32, saved.as_mut_ptr()) };
    if n < 0 {
        return Ok(());
    }
    saved.truncate(n as usize);
    // SAFETY: the raw setgroups (this thread only, unlike glibc's wrapper) reads
    // `groups.len()` gids; setfsgid and setfsuid take plain ids. They change only this
    // thread's filesystem credentials, which the lines after the check put back.
    let (old_gid, old_uid) = unsafe {
        libc::syscall(
            libc::SYS_setgroups,
            creds.groups.len(),
            creds.groups.as_ptr(),
        );
        // Each returns the previous id, put back below.
        let old_gid = libc::syscall(libc::SYS_setfsgid, creds.gid);
        (old_gid, libc::syscall(libc::SYS_setfsuid, creds.uid))
    };
    let r = open_in_root(&root, &c, libc::O_PATH | libc::O_CLOEXEC).and_then(|fd| {
        // SAFETY: `fd` is open and the empty path NUL-terminated; the kernel reads them.
        let ok = unsafe {
            libc::syscall(
                libc::SYS_faccessat2,
                fd.as_raw_fd(),
                c"".as_ptr(),
                libc::W_OK,
                libc::AT_EACCESS | libc::AT_EMPTY_PATH,
            )
        };
        nix::errno::Errno::result(ok).map(drop)
    });
    // SAFETY: as above: this thread's own filesystem credentials, back to what they were.
    unsafe {
        libc::syscall(libc::SYS_setfsuid, old_uid);
        libc::syscall(libc::SYS_setfsgid, old_gid);
        libc::syscall(libc::SYS_setgroups, saved.len(), saved.as_ptr());
    }
    r
}
