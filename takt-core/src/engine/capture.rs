//! What the trace keeps from guest memory: for some calls, the bytes behind their
//! pointer arguments, captured with [`crate::syscall::capture`] at the stop. These are
//! the paths of every call takt stops that names a file (`open`, `stat`, `unlink`,
//! `rename`, `mkdir`, `execve`, …: the dependency graph, [`crate::deps`], is built from
//! the opens, and `takt trace` prints every path as a string, as strace does) and the
//! socket address of `bind`, `connect`, `accept` and `accept4` (the peer's address,
//! written at the call's end). Data buffers (`read`, `write`, `send`…) keep their
//! pointers only. The cost is one bounded read of guest memory per such call (most of
//! their handlers read the same path anyway).
//!
//! The scenario's own directory on the host (its nodes' working directories live in it)
//! has a name that differs from one test process to the next, and a trace must not: a
//! path or AF_UNIX address inside it is kept with that directory written as
//! [`SCENARIO_DIR`] (`<scenario>/cache/data.db`), so the digest of a seed is the same in
//! every process that runs it.
//!
//! Memory is read through [`Tracee`], a [`GuestMemory`] over `process_vm_readv`; a read
//! that faults leaves the piece out (the call gets its `EFAULT` from the kernel or the
//! handler as before).

use super::{Engine, Vtid};
use crate::errno::Errno;
use crate::syscall::capture::{Capture, GuestMemory};
use crate::syscall::Syscall;

/// The memory of one tracee thread, for a capture.
pub(crate) struct Tracee<'a> {
    engine: &'a Engine,
    tid: Vtid,
}

impl GuestMemory for Tracee<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let real = self
            .engine
            .w
            .threads
            .get(&self.tid)
            .ok_or(Errno::EFAULT)?
            .real;
        crate::sys::read_mem(real, addr, buf).map_err(|_| Errno::EFAULT)
    }
}

/// How a trace writes the scenario's host directory.
pub(crate) const SCENARIO_DIR: &[u8] = b"<scenario>";

/// Replaces each occurrence of `dir` that is a whole path component prefix (followed by
/// `/`, a NUL or the end) in `bytes` with [`SCENARIO_DIR`].
fn hide_dir(bytes: &mut Vec<u8>, dir: &[u8]) {
    if dir.is_empty() || bytes.len() < dir.len() {
        return;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        let whole =
            rest.starts_with(dir) && matches!(rest.get(dir.len()), None | Some(b'/') | Some(0));
        if whole {
            out.extend_from_slice(SCENARIO_DIR);
            i = i.saturating_add(dir.len());
        } else {
            out.push(bytes[i]);
            i = i.saturating_add(1);
        }
    }
    *bytes = out;
}

/// Whether the trace keeps what syscall `nr`'s pointers point to.
#[allow(non_upper_case_globals)]
pub(crate) fn wanted(nr: u32) -> bool {
    use libc::*;
    matches!(
        nr as i64,
        SYS_open
            | SYS_openat
            | SYS_openat2
            | SYS_creat
            | SYS_bind
            | SYS_connect
            | SYS_accept
            | SYS_accept4
            // Calls that name a file (a path argument in their typed decode).
            | SYS_stat
            | SYS_lstat
            | SYS_newfstatat
            | SYS_statx
            | SYS_statfs
            | SYS_truncate
            | SYS_mkdir
            | SYS_mkdirat
            | SYS_rmdir
            | SYS_unlink
            | SYS_unlinkat
            | SYS_rename
            | SYS_renameat
            | SYS_renameat2
            | SYS_link
            | SYS_linkat
            | SYS_symlink
            | SYS_symlinkat
            | SYS_mknod
            | SYS_mknodat
            | SYS_chmod
            | SYS_fchmodat
            | SYS_chown
            | SYS_lchown
            | SYS_fchownat
            | SYS_utimensat
            | SYS_utimes
            | SYS_utime
            | SYS_futimesat
            | SYS_chdir
            | SYS_getxattr
            | SYS_lgetxattr
            | SYS_listxattr
            | SYS_llistxattr
            | SYS_setxattr
            | SYS_lsetxattr
            | SYS_removexattr
            | SYS_lremovexattr
            | SYS_inotify_add_watch
            | SYS_execve
            | SYS_execveat
            | SYS_name_to_handle_at
            | SYS_chroot
            | SYS_pivot_root
            | SYS_mount
            | SYS_umount2
    )
}

/// Whether the kernel (or takt) writes something the trace keeps at the call's end.
/// Whether a call passed to the kernel may stop at its exit so that the trace shows its
/// result ([`crate::config::Config::trace_detail`]): not the calls whose exit is an event
/// of its own (a new process or thread, an exec) or never comes (`exit`, `sigreturn`).
#[allow(non_upper_case_globals)]
pub(crate) fn exit_stop_shows_result(nr: u32) -> bool {
    use libc::*;
    !matches!(
        nr as i64,
        SYS_clone
            | SYS_clone3
            | SYS_fork
            | SYS_vfork
            | SYS_execve
            | SYS_execveat
            | SYS_exit
            | SYS_exit_group
            | SYS_rt_sigreturn
            | SYS_restart_syscall
    )
}

fn at_exit(nr: u32) -> bool {
    matches!(nr as i64, libc::SYS_accept | libc::SYS_accept4)
}

impl Engine {
    /// At the seccomp stop of a call [`wanted`] names: what it reads from the guest.
    pub(crate) fn capture_entry(&self, tid: Vtid, nr: u32, args: [u64; 6]) -> Option<Box<Capture>> {
        let mem = Tracee { engine: self, tid };
        let mut cap = Capture::entry(&Syscall::decode(nr, args), &mem);
        self.hide_scenario_dir(&mut cap);
        Some(Box::new(cap))
    }

    /// Writes the scenario's host directories (the parents of its nodes' directories)
    /// as [`SCENARIO_DIR`] in what was captured.
    fn hide_scenario_dir(&self, cap: &mut Capture) {
        use std::os::unix::ffi::OsStrExt;
        let mut dirs: Vec<&[u8]> = self
            .w
            .cfg
            .nodes
            .iter()
            .filter_map(|n| n.dir.parent())
            .map(|p| p.as_os_str().as_bytes())
            .collect();
        dirs.sort_unstable();
        dirs.dedup();
        cap.rewrite(|bytes| {
            for d in &dirs {
                if bytes.windows(d.len()).any(|w| w == *d) {
                    hide_dir(bytes, d);
                }
            }
        });
    }

    /// When the call's event is recorded: adds what it wrote (an accepted peer's address).
    pub(crate) fn capture_exit(
        &self,
        tid: Vtid,
        nr: u32,
        args: [u64; 6],
        ret: Option<i64>,
        cap: &mut Capture,
        detail: bool,
    ) {
        let Some(ret) = ret.filter(|&r| r >= 0) else {
            return;
        };
        if detail || at_exit(nr) {
            let mem = Tracee { engine: self, tid };
            cap.exit(&Syscall::decode(nr, args), ret, &mem);
            self.hide_scenario_dir(cap);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_directory_is_hidden_as_a_whole_component() {
        let mut b = b"/tmp/takt-1/web/data.db".to_vec();
        hide_dir(&mut b, b"/tmp/takt-1");
        assert_eq!(b, b"<scenario>/web/data.db");
        let mut b = b"\x01\x00/tmp/takt-1\0".to_vec();
        hide_dir(&mut b, b"/tmp/takt-1");
        assert_eq!(b, b"\x01\x00<scenario>\0");
        let mut b = b"/tmp/takt-12/x".to_vec();
        hide_dir(&mut b, b"/tmp/takt-1");
        assert_eq!(
            b, b"/tmp/takt-12/x",
            "another directory that shares a prefix"
        );
    }
}
