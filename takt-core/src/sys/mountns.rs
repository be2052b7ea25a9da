//! A node's private filesystem view: a mount namespace holding an overlay of the host's
//! root filesystem (read-only underneath) with the node's own writable layer on top.
//!
//! A small stub process (sharing the tracer's memory, like the PID namespace's init) is
//! cloned into a new mount namespace, makes every mount private (nothing propagates back
//! to the host), mounts the overlay `lowerdir=/,upperdir=<layer>/upper,workdir=<layer>/work,volatile`
//! on `<layer>/merged`, binds the host's `/dev` and `/sys` and the scenario's own
//! directories into it (the scenario's directory also at a fixed path, see
//! [`crate::config::NODE_VIEW`]), attaches a procfs of the scenario's PID namespace at
//! `/proc` (made by the namespace's init, see [`super::PidNamespace`]; without one, the
//! host's `/proc` is bound there instead), mounts a fresh tmpfs on `/dev/shm`, and makes
//! the overlay its root (`pivot_root`). Then it sleeps until killed. The node's processes enter its namespace
//! (`setns`) in the spawned child before `execve`, so they and their children share one
//! view; the tracer stays in the host's namespace and sees the layer at its host path.
//!
//! Only the root filesystem is the lower layer: other filesystems mounted on the host
//! (apart from those bound in) are not part of a node's view. Without the privilege to
//! create mount namespaces, [`NodeNamespace::new`] fails with `EPERM` and the engine runs
//! the node on the host's filesystem, saying so in the report.

use super::{kill, open_ro, reap_within, try_wait, Polled, REAP_LIMIT};
use nix::errno::Errno as NixErrno;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// What the stub reads from the shared memory, prepared before the clone.
struct StubArgs {
    merged: CString,
    overlay: CString,
    opts: CString,
    /// (source, target in the merged view)
    binds: Vec<(CString, CString)>,
    shm: CString,
    tmpfs: CString,
    shm_opts: CString,
    dot: CString,
    root: CString,
    /// A detached procfs mount to attach at `proc` instead of binding the host's `/proc`
    /// (its fd number in the stub's copy of the fd table), or -1.
    procfs: RawFd,
    proc: CString,
    empty: CString,
    /// The write end of the status pipe.
    status: RawFd,
}

/// A node's mount namespace, alive while its stub lives (killed on drop).
pub struct NodeNamespace {
    pid: i32,
    ns: OwnedFd,
    own_proc: bool,
    _args: Box<StubArgs>,
    _stack: Vec<u8>,
    reaped: bool,
}

impl std::fmt::Debug for NodeNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeNamespace")
            .field("pid", &self.pid)
            .finish()
    }
}

/// `open_tree`'s "a copy of the mount" (`<linux/mount.h>`).
const OPEN_TREE_CLONE: libc::c_uint = 1;

/// Step numbers the stub reports a failure with (status = step << 16 | errno).
const STEP_PRIVATE: i32 = 1;
const STEP_OVERLAY: i32 = 2;
const STEP_BIND: i32 = 3;
const STEP_SHM: i32 = 4;
const STEP_PIVOT: i32 = 5;
const STEP_PROC: i32 = 6;
/// Steps of the parent's.
const STEP_VIEW_DIR: i32 = 7;
const STEP_CLONE: i32 = 8;
const STEP_OPEN_NS: i32 = 9;
const STEP_NUL: i32 = 10;

/// An error of [`NodeNamespace::create`] as the report says it.
fn describe((errno, step): (NixErrno, i32)) -> (NixErrno, String) {
    let what = match step {
        STEP_PRIVATE => "making the mounts private",
        STEP_OVERLAY => "mounting the overlay",
        STEP_BIND => "binding /proc, /dev, /sys or the scenario's directory",
        STEP_SHM => "mounting /dev/shm",
        STEP_PIVOT => "pivot_root",
        STEP_PROC => "attaching the PID namespace's /proc",
        STEP_VIEW_DIR => "creating the scenario directory's mount point in the layer",
        STEP_CLONE => "clone(CLONE_NEWNS)",
        STEP_OPEN_NS => "opening the namespace",
        STEP_NUL => "a path with a NUL byte",
        _ => "starting the namespace stub",
    };
    (errno, what.into())
}

/// The stub: sets the view up, reports, sleeps. System calls only (it shares the
/// tracer's memory and TLS: nothing that allocates or takes a lock).
extern "C" fn stub(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: (the whole block) `arg` points to the namespace's StubArgs, which outlive
    // the stub (kept in NodeNamespace until it has been killed and reaped); only system
    // calls follow, on memory prepared by the parent.
    unsafe {
        let a = &*(arg as *const StubArgs);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = libc::SIG_DFL;
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
        let fail = |step: i32| -> libc::c_int {
            let code = (step << 16) | (*libc::__errno_location() & 0xffff);
            libc::write(a.status, (&code as *const i32).cast(), 4);
            libc::syscall(libc::SYS_exit_group, 1);
            1
        };
        let null = std::ptr::null::<libc::c_char>();
        if libc::mount(
            null,
            a.root.as_ptr(),
            null,
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return fail(STEP_PRIVATE);
        }
        if libc::mount(
            a.overlay.as_ptr(),
            a.merged.as_ptr(),
            a.overlay.as_ptr(),
            0,
            a.opts.as_ptr().cast(),
        ) != 0
        {
            return fail(STEP_OVERLAY);
        }
        for (src, dst) in &a.binds {
            if libc::mount(
                src.as_ptr(),
                dst.as_ptr(),
                null,
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            ) != 0
            {
                return fail(STEP_BIND);
            }
        }
        // A copy made now (the original's mount id is older than the overlay's, so the
        // mount table would list /proc before /, where Linux lists mounts in the order
        // they were made); the original itself if the kernel cannot copy a detached
        // mount.
        let copy = match a.procfs {
            -1 => -1,
            fd => libc::syscall(
                libc::SYS_open_tree,
                fd,
                a.empty.as_ptr(),
                OPEN_TREE_CLONE
                    | libc::AT_EMPTY_PATH as libc::c_uint
                    | libc::O_CLOEXEC as libc::c_uint,
            ) as libc::c_int,
        };
        if a.procfs >= 0
            && libc::syscall(
                libc::SYS_move_mount,
                if copy >= 0 { copy } else { a.procfs },
                a.empty.as_ptr(),
                libc::AT_FDCWD,
                a.proc.as_ptr(),
                super::MOVE_MOUNT_F_EMPTY_PATH,
            ) != 0
        {
            return fail(STEP_PROC);
        }
        if libc::mount(
            a.tmpfs.as_ptr(),
            a.shm.as_ptr(),
            a.tmpfs.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            a.shm_opts.as_ptr().cast(),
        ) != 0
        {
            return fail(STEP_SHM);
        }
        if libc::chdir(a.merged.as_ptr()) != 0
            || libc::syscall(libc::SYS_pivot_root, a.dot.as_ptr(), a.dot.as_ptr()) != 0
            || libc::umount2(a.dot.as_ptr(), libc::MNT_DETACH) != 0
            || libc::chdir(a.root.as_ptr()) != 0
        {
            return fail(STEP_PIVOT);
        }
        let ok = 0i32;
        libc::write(a.status, (&ok as *const i32).cast(), 4);
        libc::close(a.status);
        loop {
            libc::pause();
        }
    }
}

impl NodeNamespace {
    /// Creates the namespace of a node whose layer directory is `layer` (it must hold
    /// empty or kept `upper/` and `work/` directories and an empty `merged/`), with the
    /// host directories `host_dirs` bound in at their own paths, and `view` = (a host
    /// directory, a path) bound in at that path too (created in the layer). Fails with
    /// the errno of the step that failed (`EPERM` without root).
    ///
    /// `procfs`, a detached procfs mount (of the scenario's PID namespace, see
    /// [`super::PidNamespace::take_procfs`]), is attached at the node's `/proc`; without
    /// one, or if attaching it fails, the host's `/proc` is bound there
    /// ([`NodeNamespace::own_proc`] says which).
    pub fn new(
        layer: &Path,
        host_dirs: &[PathBuf],
        view: Option<(&Path, &Path)>,
        procfs: Option<OwnedFd>,
    ) -> Result<NodeNamespace, (NixErrno, String)> {
        if let Some(fd) = procfs {
            match Self::create(layer, host_dirs, view, Some(&fd)) {
                Err((_, STEP_PROC)) => {}
                other => return other.map_err(describe),
            }
        }
        Self::create(layer, host_dirs, view, None).map_err(describe)
    }

    /// [`NodeNamespace::new`] with `procfs` or the host's `/proc`; the error's step is
    /// one of the `STEP_` numbers (0: before the stub ran).
    fn create(
        layer: &Path,
        host_dirs: &[PathBuf],
        view: Option<(&Path, &Path)>,
        procfs: Option<&OwnedFd>,
    ) -> Result<NodeNamespace, (NixErrno, i32)> {
        let c = |p: &Path| {
            CString::new(p.as_os_str().as_encoded_bytes()).map_err(|_| (NixErrno::EINVAL, STEP_NUL))
        };
        let merged = layer.join("merged");
        let inside = |p: &Path| merged.join(p.strip_prefix("/").unwrap_or(p));
        let mut binds = Vec::new();
        let bound: &[&str] = match procfs {
            Some(_) => &["/dev", "/sys"],
            None => &["/proc", "/dev", "/sys"],
        };
        for d in bound {
            binds.push((c(Path::new(d))?, c(&inside(Path::new(d)))?));
        }
        for d in host_dirs {
            binds.push((c(d)?, c(&inside(d))?));
        }
        if let Some((src, at)) = view {
            let target = layer.join("upper").join(at.strip_prefix("/").unwrap_or(at));
            std::fs::create_dir_all(&target).map_err(|e| {
                let errno = NixErrno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
                (errno, STEP_VIEW_DIR)
            })?;
            binds.push((c(src)?, c(&inside(at))?));
        }
        let mut fds = [0; 2];
        // SAFETY: pipe2 writes two fds into a valid array.
        NixErrno::result(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })
            .map_err(|e| (e, 0))?;
        // `volatile`: no sync of the upper layer, ever: takt models durability itself
        // (what a crash keeps), the layer is thrown away after the run, and without it
        // the stub's death (the last unmount) syncs the host's filesystem, which took
        // longer than the 2 s teardown limit on a busy CI runner.
        let opts = format!(
            "lowerdir=/,upperdir={},workdir={},volatile",
            layer.join("upper").display(),
            layer.join("work").display()
        );
        let args = Box::new(StubArgs {
            merged: c(&merged)?,
            overlay: CString::from(c"overlay"),
            opts: CString::new(opts).map_err(|_| (NixErrno::EINVAL, 0))?,
            binds,
            shm: c(&inside(Path::new("/dev/shm")))?,
            tmpfs: CString::from(c"tmpfs"),
            shm_opts: CString::from(c"mode=1777"),
            procfs: procfs.map_or(-1, AsRawFd::as_raw_fd),
            proc: c(&inside(Path::new("/proc")))?,
            empty: CString::from(c""),
            dot: CString::from(c"."),
            root: CString::from(c"/"),
            status: fds[1],
        });
        let mut stack = vec![0u8; 16 * 1024];
        let top = (stack.as_mut_ptr() as usize + stack.len()) & !15;
        let arg = &*args as *const StubArgs as *mut libc::c_void;
        // SAFETY: glibc's clone runs `stub` on `stack`, which lives in the returned
        // NodeNamespace (with `args`) until the stub has been killed and reaped (Drop).
        let pid = unsafe {
            libc::clone(
                stub,
                top as *mut libc::c_void,
                libc::CLONE_VM | libc::CLONE_NEWNS | libc::SIGCHLD,
                arg,
            )
        };
        // SAFETY: our copy of the write end; the stub has its own (no CLONE_FILES).
        unsafe { libc::close(fds[1]) };
        let close_read = || {
            // SAFETY: the read end, ours, closed once.
            unsafe { libc::close(fds[0]) };
        };
        let pid = match NixErrno::result(pid) {
            Ok(p) => p,
            Err(e) => {
                close_read();
                return Err((e, STEP_CLONE));
            }
        };
        let mut code = [0u8; 4];
        // SAFETY: reads at most 4 bytes into a 4-byte buffer; returns 0 if the stub died
        // (every write end is then closed).
        let n = unsafe { libc::read(fds[0], code.as_mut_ptr().cast(), 4) };
        close_read();
        let code = i32::from_ne_bytes(code);
        if n != 4 || code != 0 {
            let _ = kill(pid, libc::SIGKILL);
            reap_within(pid, REAP_LIMIT);
            let step = if n == 4 { code >> 16 } else { 0 };
            return Err((NixErrno::from_raw(code & 0xffff), step));
        }
        let ns = match open_ro(&format!("/proc/{pid}/ns/mnt")) {
            Ok(ns) => ns,
            Err(e) => {
                let _ = kill(pid, libc::SIGKILL);
                reap_within(pid, REAP_LIMIT);
                return Err((e, STEP_OPEN_NS));
            }
        };
        Ok(NodeNamespace {
            pid,
            ns,
            own_proc: procfs.is_some(),
            _args: args,
            _stack: stack,
            reaped: false,
        })
    }

    /// Whether the node's `/proc` is a procfs of the scenario's PID namespace (else the
    /// host's, bound in: it numbers pids as the host does).
    pub fn own_proc(&self) -> bool {
        self.own_proc
    }

    /// The namespace's fd, for `setns` in a spawned child.
    pub fn fd(&self) -> RawFd {
        self.ns.as_raw_fd()
    }

    /// Where the tracer reaches the node's view of `path` (absolute) while the namespace
    /// lives: through the stub's root.
    pub fn host_path(&self, path: &Path) -> PathBuf {
        let rel = path.strip_prefix("/").unwrap_or(path);
        PathBuf::from(format!("/proc/{}/root", self.pid)).join(rel)
    }
}

impl Drop for NodeNamespace {
    fn drop(&mut self) {
        let _ = kill(self.pid, libc::SIGKILL);
        if !self.reaped {
            self.reaped =
                reap_within(self.pid, REAP_LIMIT) || !matches!(try_wait(self.pid), Polled::Nothing);
        }
    }
}

/// Where a node's file `path` (absolute, as the node sees it) lies in its overlay:
/// in its own layer, hidden (deleted by the node: a whiteout, or below an opaque
/// directory), or in the host's tree below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layered {
    /// In the node's layer, at this host path.
    Upper(PathBuf),
    /// The node deleted it.
    Hidden,
    /// Not touched by the node: the host's file (which may not exist either).
    Lower(PathBuf),
}

/// Resolves `path` in the overlay whose writable layer is `upper` (after the run: the
/// layer keeps the node's files), the way overlayfs does for names: a whiteout (a
/// character device 0:0) hides the name below, and an opaque directory
/// (`trusted.overlay.opaque=y`) hides everything below it.
pub fn layered(upper: &Path, path: &Path) -> Layered {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let rel = path.strip_prefix("/").unwrap_or(path);
    let mut at = upper.to_path_buf();
    let mut opaque = false;
    for comp in rel.components() {
        at.push(comp);
        let Ok(m) = std::fs::symlink_metadata(&at) else {
            return if opaque {
                Layered::Hidden
            } else {
                Layered::Lower(path.to_path_buf())
            };
        };
        if m.file_type().is_char_device() && m.rdev() == 0 {
            return Layered::Hidden;
        }
        if m.is_dir() && is_opaque(&at) {
            opaque = true;
        }
    }
    Layered::Upper(at)
}

/// Whether overlayfs marked directory `dir` opaque.
fn is_opaque(dir: &Path) -> bool {
    let Ok(c) = CString::new(dir.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    let mut v = [0u8; 4];
    // SAFETY: valid NUL-terminated strings; lgetxattr writes at most v.len() bytes.
    let n = unsafe {
        libc::lgetxattr(
            c.as_ptr(),
            c"trusted.overlay.opaque".as_ptr(),
            v.as_mut_ptr().cast(),
            v.len(),
        )
    };
    n == 1 && v[0] == b'y'
}
