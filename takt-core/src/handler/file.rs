//! Regular files and directories: the metadata programs see (`stat`, `statx`, `fstat`,
//! `getdents64`, `statfs` show takt's inode and device numbers, virtual timestamps,
//! fixed filesystem figures, entries in name order) and the durability of what they
//! write (see [`crate::fs`] for the model and its rules).
//!
//! The kernel still performs every call; handlers here observe them: before a write,
//! the bytes it will overwrite are kept so a crash can undo it; at a call's exit, the
//! structures the kernel filled are rewritten. The tracer reaches a tracee's files
//! through `/proc/<pid>/fd/<n>`, `/proc/<pid>/cwd` and `/proc/<pid>/root` (so in the
//! node's own filesystem view), with ordinary file calls on the host.

use super::{Out, Post, Res};
use crate::errno::Errno;
use crate::fs::{self, HostId, Kept, NameOp, Stamp, Undo};
use crate::syscall::calls::{Getdents64, Mmap, Msync, Utimensat};
use crate::syscall::Syscall;
use crate::world::{Vtid, World};
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The calls the seccomp filter let run natively before takt had a file model (what
/// the benchmarks' "without the file model" runs allow again).
pub const OBSERVED: [u32; 16] = [
    libc::SYS_fstat as u32,
    libc::SYS_stat as u32,
    libc::SYS_lstat as u32,
    libc::SYS_newfstatat as u32,
    libc::SYS_statx as u32,
    libc::SYS_getdents64 as u32,
    libc::SYS_pwrite64 as u32,
    libc::SYS_statfs as u32,
    libc::SYS_fstatfs as u32,
    libc::SYS_fsync as u32,
    libc::SYS_fdatasync as u32,
    libc::SYS_ftruncate as u32,
    libc::SYS_mkdir as u32,
    libc::SYS_unlink as u32,
    libc::SYS_unlinkat as u32,
    libc::SYS_rename as u32,
];

/// The most bytes of one write kept to undo it (a write overwriting more keeps its
/// first bytes only, and counts the rest as written back).
const MAX_UNDO_PER_WRITE: u64 = 16 << 20;

/// What a file call does at its exit (with the kernel's return value).
pub(crate) enum Exit {
    /// `stat` and its forms filled the `struct stat` at `buf` (`fd`: see [`stat`]).
    Stat {
        /// The fd the call is about, if one.
        fd: Option<i32>,
        /// The `struct stat`.
        buf: u64,
    },
    /// `statx` filled the `struct statx` at `buf`.
    Statx {
        /// The fd the call is about, if one.
        fd: Option<i32>,
        /// The `struct statx`.
        buf: u64,
    },
    /// `statfs`/`fstatfs` filled the `struct statfs` at `buf`.
    Statfs {
        /// The `struct statfs`.
        buf: u64,
    },
    /// A `getdents64` takt answered (its `lseek` ran): it returns `len` bytes.
    Listed {
        /// The bytes of entries written.
        len: i64,
    },
    /// A `getdents64` the kernel answered into `dirp` (at most `count` bytes).
    KernelDents {
        /// The directory's fd.
        fd: i32,
        /// The buffer.
        dirp: u64,
        /// Its size.
        count: u64,
    },
    /// `open` with `O_CREAT` or `O_TRUNC` of `name` (which `existed` before).
    Opened {
        /// The name opened.
        name: Name,
        /// Whether it existed.
        existed: bool,
        /// The open flags.
        flags: i32,
    },
    /// `mkdir`, `link`, `symlink`, `mknod` made `name`.
    Made {
        /// The new name.
        name: Name,
    },
    /// `unlink`, `rmdir` of `name` in directory `dir`; `kept`: what it named.
    Removed {
        /// The name removed.
        name: Name,
        /// Its directory.
        dir: Option<HostId>,
        /// What it named, to put back on a crash.
        kept: Option<Kept>,
    },
    /// `rename` (boxed: the largest).
    Renamed(Box<Renamed>),
    /// `renameat2(RENAME_EXCHANGE)` of `a` and `b`, in directories `dirs`.
    Exchanged {
        /// One name.
        a: Name,
        /// The other.
        b: Name,
        /// Their directories.
        dirs: (Option<HostId>, Option<HostId>),
    },
    /// `chmod`, `chown` and their forms: the status of the file at `host` changed.
    StatusChanged {
        /// Where the tracer reaches the file.
        host: PathBuf,
    },
    /// `utimensat` and its older forms: the file at `host` has the times `new`.
    TimesSet {
        /// Where the tracer reaches the file.
        host: PathBuf,
        /// Access and modification time.
        new: [NewTime; 2],
        /// `AT_SYMLINK_NOFOLLOW`.
        nofollow: bool,
    },
    /// `mmap` of `file` (`id`) at `offset`, `len` bytes, shared and writable.
    Mapped {
        /// Its length.
        len: u64,
        /// Its offset in the file.
        offset: u64,
        /// The file's identity.
        id: HostId,
        /// The file, opened by the tracer.
        file: std::fs::File,
    },
    /// `msync(MS_SYNC)` of `[addr, addr + len)`.
    Msynced {
        /// Start.
        addr: u64,
        /// Length.
        len: u64,
    },
}

/// A `rename` at its exit: `from` became `to`, which replaced `replaced` (kept when
/// `track`); `dirs`: their directories.
pub(crate) struct Renamed {
    from: Name,
    to: Name,
    dirs: (Option<HostId>, Option<HostId>),
    replaced: Option<Kept>,
    track: bool,
}

impl Exit {
    /// Runs the action with the kernel's return value `ret`.
    pub(crate) fn run(self, e: &mut World, tid: Vtid, ret: i64) -> Option<i64> {
        match self {
            Exit::Stat { fd, buf } => stat_done(e, tid, ret, fd, buf),
            Exit::Statx { fd, buf } => statx_done(e, tid, ret, fd, buf),
            Exit::Statfs { buf } => statfs_done(e, tid, ret, buf),
            Exit::Listed { len } => return Some(if ret < 0 { ret } else { len }),
            Exit::KernelDents { fd, dirp, count } => {
                if ret > 0 {
                    let _ = fix_dents(e, tid, fd, dirp, (ret as u64).min(count));
                }
            }
            Exit::Opened {
                name,
                existed,
                flags,
            } => opened(e, tid, ret, &name, existed, flags),
            Exit::Made { name } => {
                if ret == 0 {
                    created(e, tid, &name);
                }
            }
            Exit::Removed { name, dir, kept } => removed(e, tid, ret, name, dir, kept),
            Exit::Renamed(r) => renamed(e, tid, ret, *r),
            Exit::Exchanged { a, b, dirs } => exchanged(e, tid, ret, a, b, dirs),
            Exit::StatusChanged { host } => {
                if ret == 0 {
                    if let Ok(m) = std::fs::metadata(&host) {
                        e.status_now(id_of(&m));
                    }
                }
            }
            Exit::TimesSet {
                host,
                new,
                nofollow,
            } => times_done(e, ret, &host, new, nofollow),
            Exit::Mapped {
                len,
                offset,
                id,
                file,
            } => mapped(e, tid, ret, (len, offset, id), file),
            Exit::Msynced { addr, len } => msynced(e, tid, ret, addr, len),
        }
        None
    }
}

impl World {
    /// The real pid whose `/proc` entries show thread `tid`'s files.
    fn proc_dir(&self, tid: Vtid) -> PathBuf {
        PathBuf::from(format!("/proc/{}", self.threads[&tid].real))
    }

    /// The host path of `tid`'s fd `fd`.
    fn fd_path(&self, tid: Vtid, fd: i32) -> PathBuf {
        self.proc_dir(tid).join(format!("fd/{fd}"))
    }

    /// The host path of `path` as `tid` names it relative to `dirfd`.
    fn at_path(&self, tid: Vtid, dirfd: i32, path: &[u8]) -> PathBuf {
        let p = Path::new(std::ffi::OsStr::from_encoded_bytes_unchecked_safe(path));
        if p.is_absolute() {
            self.proc_dir(tid)
                .join("root")
                .join(p.strip_prefix("/").unwrap_or(p))
        } else if dirfd == libc::AT_FDCWD {
            self.proc_dir(tid).join("cwd").join(p)
        } else {
            self.fd_path(tid, dirfd).join(p)
        }
    }

    /// The absolute path (as the node sees it) of `path` named relative to `dirfd`.
    fn guest_abs(&self, tid: Vtid, dirfd: i32, path: &[u8]) -> Option<PathBuf> {
        let p = Path::new(std::ffi::OsStr::from_encoded_bytes_unchecked_safe(path));
        if p.is_absolute() {
            return Some(p.to_path_buf());
        }
        let base = if dirfd == libc::AT_FDCWD {
            self.proc_dir(tid).join("cwd")
        } else {
            self.fd_path(tid, dirfd)
        };
        Some(std::fs::read_link(base).ok()?.join(p))
    }

    /// The metadata of `guest` (absolute, as `tid` names it) looked up inside `tid`'s root,
    /// symlinks on the way included (see [`crate::sys::procfs::stat_in_root`]).
    fn stat_in_view(
        &self,
        tid: Vtid,
        guest: &Path,
        follow: bool,
    ) -> Result<std::fs::Metadata, Errno> {
        crate::sys::procfs::stat_in_root(self.threads[&tid].real, guest, follow)
            .map_err(|x| Errno(x as i32))
    }

    /// Where the tracer reaches node `node`'s file `path` (absolute, as the node sees it).
    fn node_path(&self, node: usize, path: &Path) -> PathBuf {
        match self.nodens.get(node).and_then(|n| n.as_ref()) {
            Some(ns) => ns.host_path(path),
            None => path.to_path_buf(),
        }
    }

    fn node_of(&self, tid: Vtid) -> usize {
        self.procs[&self.threads[&tid].pid].node
    }

    /// The virtual time now as a timestamp.
    fn stamp_now(&self) -> Stamp {
        fs::stamp(self.now)
    }

    /// File `id`'s status changed now (its ctime; a file never seen changed keeps the
    /// times it showed for the others).
    fn status_now(&mut self, id: HostId) {
        let now = self.stamp_now();
        let base = self.file_times(id).mtime;
        self.times.status(id, now, base);
    }

    /// The times takt shows for a file: those of the last change takt saw, else the
    /// virtual epoch. (Never the host's: a change takt did not see, through a shared
    /// mapping say, does not show, and files the host changed carry the epoch too.)
    fn file_times(&self, id: HostId) -> fs::Times {
        if let Some(t) = self.times.get(id) {
            return t;
        }
        let epoch = (crate::time::EPOCH_SECS as i64, 0);
        fs::Times {
            atime: epoch,
            mtime: epoch,
            ctime: epoch,
        }
    }
}

/// `OsStr` from bytes without `unsafe` (paths from a tracee are arbitrary bytes).
trait FromBytes {
    fn from_encoded_bytes_unchecked_safe(b: &[u8]) -> &std::ffi::OsStr;
}
impl FromBytes for std::ffi::OsStr {
    fn from_encoded_bytes_unchecked_safe(b: &[u8]) -> &std::ffi::OsStr {
        std::os::unix::ffi::OsStrExt::from_bytes(b)
    }
}

fn id_of(m: &std::fs::Metadata) -> HostId {
    (m.dev(), m.ino())
}

// --- metadata -------------------------------------------------------------------------

/// `stat`, `lstat`, `fstat`, `newfstatat`: the kernel fills the `struct stat` at `buf`;
/// its identity and times are rewritten at the exit. `fd` is the fd the call is about
/// (`fstat`, or `newfstatat` with `AT_EMPTY_PATH` and an empty path), else `None`: a
/// captured stdout or stderr then shows as a pipe (see `output_stream`).
pub fn stat(fd: Option<i32>, buf: u64) -> Res {
    Ok(Out::PassThen(Post::File(Exit::Stat { fd, buf })))
}

/// At the exit of [`stat`].
fn stat_done(e: &mut World, tid: Vtid, ret: i64, fd: Option<i32>, buf: u64) {
    if ret == 0 {
        let _ = match fd.and_then(|fd| output_stream(e, tid, fd)) {
            Some(n) => fix_output_stat(e, tid, n, buf),
            None => fix_stat(e, tid, buf),
        };
    }
}

/// The fd a `newfstatat(dirfd, path, buf, flags)` or `statx(dirfd, path, flags, …)` is
/// about when it names no path (`AT_EMPTY_PATH` and `""`), if that fd is a captured
/// output stream (the only fds whose `stat` takt rewrites as such).
pub fn empty_path_fd(e: &World, tid: Vtid, dirfd: i32, path: u64, flags: i32) -> Option<i32> {
    // Only a captured output stream is shown differently: for any other fd (glibc's
    // every `fstat`), no read of the path.
    if flags & libc::AT_EMPTY_PATH == 0 || output_stream(e, tid, dirfd).is_none() {
        return None;
    }
    let first = e.read_mem(tid, path, 1).ok()?;
    (first.first() == Some(&0)).then_some(dirfd)
}

/// Which captured output stream (a process's stdout or stderr) `tid`'s fd `fd` is, if
/// it is one. Behind such an fd the kernel holds `/dev/null` (takt's model takes the
/// writes); a program that `fstat`s it must not see `/dev/null` (GNU grep then takes
/// its output for discarded and prints nothing), so it shows as a pipe, which is what a
/// test harness's captured output usually is.
fn output_stream(e: &World, tid: Vtid, fd: i32) -> Option<usize> {
    let f = super::io::lookup(e, tid, fd as u64)?;
    match e.files.file(f.file).kind {
        crate::fd::Kind::Output(n) => Some(n),
        _ => None,
    }
}

/// The `struct stat` of captured output stream `n`: a pipe (`S_IFIFO`, mode 0600) with
/// an inode number of takt's own.
fn fix_output_stat(e: &mut World, tid: Vtid, n: usize, buf: u64) -> Result<(), Errno> {
    let mut st: libc::stat = e.read_val(tid, buf)?;
    let id = (OUTPUT_DEV, n as u64);
    st.st_dev = e.ids.dev(OUTPUT_DEV);
    st.st_ino = e.ids.ino(id);
    st.st_mode = libc::S_IFIFO | 0o600;
    st.st_nlink = 1;
    st.st_rdev = 0;
    st.st_size = 0;
    st.st_blksize = 4096;
    st.st_blocks = 0;
    let t = e.file_times(id);
    (st.st_atime, st.st_atime_nsec) = t.atime;
    (st.st_mtime, st.st_mtime_nsec) = t.mtime;
    (st.st_ctime, st.st_ctime_nsec) = t.ctime;
    e.write_val(tid, buf, &st)
}

/// The host device number takt files its captured output streams under (no real
/// device has it).
const OUTPUT_DEV: u64 = u64::MAX;

fn fix_stat(e: &mut World, tid: Vtid, buf: u64) -> Result<(), Errno> {
    let mut st: libc::stat = e.read_val(tid, buf)?;
    let id = (st.st_dev, st.st_ino);
    let t = e.file_times(id);
    st.st_ino = e.ids.ino(id);
    st.st_dev = e.ids.dev(st.st_dev);
    (st.st_atime, st.st_atime_nsec) = t.atime;
    (st.st_mtime, st.st_mtime_nsec) = t.mtime;
    (st.st_ctime, st.st_ctime_nsec) = t.ctime;
    e.write_val(tid, buf, &st)
}

/// `statx`: as [`stat`], for `struct statx` (its mount id is fixed too).
pub fn statx(fd: Option<i32>, buf: u64) -> Res {
    Ok(Out::PassThen(Post::File(Exit::Statx { fd, buf })))
}

/// At the exit of [`statx`].
fn statx_done(e: &mut World, tid: Vtid, ret: i64, fd: Option<i32>, buf: u64) {
    if ret == 0 {
        let _ = fix_statx(e, tid, buf);
        if let Some(n) = fd.and_then(|fd| output_stream(e, tid, fd)) {
            let _ = fix_output_statx(e, tid, n, buf);
        }
    }
}

/// As [`fix_output_stat`], for `struct statx`.
fn fix_output_statx(e: &mut World, tid: Vtid, n: usize, buf: u64) -> Result<(), Errno> {
    let mut sx: libc::statx = e.read_val(tid, buf)?;
    sx.stx_ino = e.ids.ino((OUTPUT_DEV, n as u64));
    let vdev = e.ids.dev(OUTPUT_DEV);
    (sx.stx_dev_major, sx.stx_dev_minor) = (libc::major(vdev), libc::minor(vdev));
    sx.stx_mode = (libc::S_IFIFO | 0o600) as u16;
    sx.stx_nlink = 1;
    (sx.stx_rdev_major, sx.stx_rdev_minor) = (0, 0);
    sx.stx_size = 0;
    sx.stx_blocks = 0;
    sx.stx_blksize = 4096;
    e.write_val(tid, buf, &sx)
}

fn fix_statx(e: &mut World, tid: Vtid, buf: u64) -> Result<(), Errno> {
    let mut sx: libc::statx = e.read_val(tid, buf)?;
    let hdev = libc::makedev(sx.stx_dev_major, sx.stx_dev_minor);
    let id = (hdev, sx.stx_ino);
    let t = e.file_times(id);
    sx.stx_ino = e.ids.ino(id);
    let vdev = e.ids.dev(hdev);
    (sx.stx_dev_major, sx.stx_dev_minor) = (libc::major(vdev), libc::minor(vdev));
    let ts = |s: Stamp, mut t: libc::statx_timestamp| {
        t.tv_sec = s.0;
        t.tv_nsec = s.1 as u32;
        t
    };
    sx.stx_atime = ts(t.atime, sx.stx_atime);
    sx.stx_mtime = ts(t.mtime, sx.stx_mtime);
    sx.stx_ctime = ts(t.ctime, sx.stx_ctime);
    sx.stx_btime = ts(t.mtime.min(t.ctime), sx.stx_btime);
    sx.stx_mnt_id = 1;
    e.write_val(tid, buf, &sx)
}

/// `statfs`/`fstatfs`: fixed figures (a 100 GiB filesystem, half free), the type and
/// flags of the real one.
pub fn statfs(buf: u64) -> Res {
    Ok(Out::PassThen(Post::File(Exit::Statfs { buf })))
}

/// At the exit of [`statfs`].
fn statfs_done(e: &mut World, tid: Vtid, ret: i64, buf: u64) {
    if ret == 0 {
        if let Ok(mut sf) = e.read_val::<libc::statfs>(tid, buf) {
            let blocks = (100u64 << 30) / 4096;
            sf.f_bsize = 4096;
            sf.f_frsize = 4096;
            sf.f_blocks = blocks;
            sf.f_bfree = blocks / 2;
            sf.f_bavail = blocks / 2;
            sf.f_files = 6_553_600;
            sf.f_ffree = 6_000_000;
            // SAFETY-free: fsid is an opaque pair of ints; zero it.
            sf.f_fsid = fsid_zero();
            let _ = e.write_val(tid, buf, &sf);
        }
    }
}

fn fsid_zero() -> libc::fsid_t {
    crate::sys::pod_read(&[0u8; std::mem::size_of::<libc::fsid_t>()])
}

/// The most bytes of directory entries one `getdents64` returns.
const MAX_DENTS: usize = 1 << 20;

/// `getdents64`: takt lists the directory itself, in name order (bytes), with its own
/// inode numbers, and serves each call from that listing. The fd's file position is
/// the index of the next entry (the call becomes an `lseek` to the new index, so
/// `rewinddir`, `telldir` and `seekdir`, which glibc does with `lseek`, keep working);
/// at position 0 the directory is listed afresh. A directory of more than
/// [`fs::MAX_LISTED`] entries is read by the kernel, each call's entries sorted.
pub fn getdents64(e: &mut World, tid: Vtid, c: Getdents64) -> Res {
    let (fd, dirp, count) = (c.fd.get(), c.dirp.addr(), u64::from(c.count.get()));
    let path = e.fd_path(tid, fd);
    let (Ok(meta), Some((pos, flags))) = (std::fs::metadata(&path), fdinfo(e, tid, fd)) else {
        return Ok(Out::Pass); // a bad fd: the kernel answers
    };
    if !meta.is_dir() || flags & libc::O_PATH != 0 || e.cfg.test_without_file_model {
        return Ok(Out::Pass);
    }
    let key = (e.threads[&tid].fdt, fd);
    let dir = id_of(&meta);
    if pos == 0 || e.listings.of(key, dir).is_none() {
        match list_dir(&path, &meta) {
            Some(entries) => e.listings.put(key, fs::Listing { dir, entries }),
            None => {
                e.listings.drop_key(key);
                e.note(format!(
                    "a directory of more than {} entries is listed in the kernel's order (sorted per call)",
                    fs::MAX_LISTED
                ));
                return sorted_by_the_kernel(fd, dirp, count);
            }
        }
    }
    let start = usize::try_from(pos).unwrap_or(usize::MAX);
    let count = usize::try_from(count).unwrap_or(MAX_DENTS).min(MAX_DENTS);
    let ids = &mut e.ids;
    let Some(l) = e.listings.of(key, dir) else {
        return Ok(Out::Pass);
    };
    if start >= l.entries.len() {
        return Ok(Out::Return(0));
    }
    let (bytes, n) = fs::encode_dirents(&l.entries, start, count, |id| ids.ino(id));
    if n == 0 {
        return Err(Errno::EINVAL); // the buffer cannot hold the next entry
    }
    e.write_mem(tid, dirp, &bytes)?;
    let next = start.saturating_add(n) as u64;
    let len = bytes.len() as i64;
    Ok(Out::Rewrite {
        nr: libc::SYS_lseek,
        args: [fd as u64, next, libc::SEEK_SET as u64, 0, 0, 0],
        post: Some(Post::File(Exit::Listed { len })),
    })
}

/// The entries of directory `path` (whose metadata is `meta`), `.` and `..` included,
/// sorted by name, each with the identity `lstat` gives it; `None` past
/// [`fs::MAX_LISTED`] or when it cannot be read.
fn list_dir(path: &Path, meta: &std::fs::Metadata) -> Option<Vec<fs::Dirent>> {
    use std::os::unix::ffi::OsStringExt;
    use std::os::unix::fs::{DirEntryExt, FileTypeExt};
    let dt = |t: std::fs::FileType| match () {
        _ if t.is_dir() => libc::DT_DIR,
        _ if t.is_file() => libc::DT_REG,
        _ if t.is_symlink() => libc::DT_LNK,
        _ if t.is_fifo() => libc::DT_FIFO,
        _ if t.is_socket() => libc::DT_SOCK,
        _ if t.is_char_device() => libc::DT_CHR,
        _ if t.is_block_device() => libc::DT_BLK,
        _ => libc::DT_UNKNOWN,
    };
    let up = std::fs::metadata(path.join(".."))
        .map(|m| id_of(&m))
        .unwrap_or(id_of(meta));
    let mut v = vec![
        fs::Dirent {
            ino: id_of(meta),
            kind: libc::DT_DIR,
            name: b".".to_vec(),
        },
        fs::Dirent {
            ino: up,
            kind: libc::DT_DIR,
            name: b"..".to_vec(),
        },
    ];
    for ent in std::fs::read_dir(path).ok()? {
        let ent = ent.ok()?;
        if v.len() > fs::MAX_LISTED {
            return None;
        }
        // The numbers `lstat` shows (on an overlay, `d_ino` and `st_ino` can differ).
        let ino = std::fs::symlink_metadata(ent.path())
            .map(|m| id_of(&m))
            .unwrap_or((meta.dev(), ent.ino()));
        v.push(fs::Dirent {
            ino,
            kind: ent.file_type().map(dt).unwrap_or(libc::DT_UNKNOWN),
            name: ent.file_name().into_vec(),
        });
    }
    v.sort_by(|a, b| a.name.cmp(&b.name));
    Some(v)
}

/// The kernel reads the directory; each call's entries are put in name order, with
/// takt's inode numbers (a directory too large for takt to list).
fn sorted_by_the_kernel(fd: i32, dirp: u64, count: u64) -> Res {
    Ok(Out::PassThen(Post::File(Exit::KernelDents {
        fd,
        dirp,
        count,
    })))
}

fn fix_dents(e: &mut World, tid: Vtid, fd: i32, dirp: u64, len: u64) -> Result<(), Errno> {
    let len = usize::try_from(len).unwrap_or(MAX_DENTS);
    if len > MAX_DENTS {
        return Ok(());
    }
    let dev = std::fs::metadata(e.fd_path(tid, fd))
        .map(|m| m.dev())
        .unwrap_or(0);
    let buf = e.read_mem(tid, dirp, len)?;
    // (d_ino, d_type, name) of each entry, and their d_off values in order.
    let mut ents: Vec<(u64, u8, Vec<u8>)> = Vec::new();
    let mut offs: Vec<i64> = Vec::new();
    let mut rest: &[u8] = &buf;
    while rest.len() >= 19 {
        let ino = u64::from_ne_bytes(rest[0..8].try_into().expect("8 bytes"));
        let off = i64::from_ne_bytes(rest[8..16].try_into().expect("8 bytes"));
        let reclen = u16::from_ne_bytes([rest[16], rest[17]]) as usize;
        let ty = rest[18];
        if reclen < 20 || reclen > rest.len() {
            return Ok(()); // not what the kernel writes: leave it alone
        }
        let (rec, tail) = rest.split_at(reclen);
        let name = &rec[19..];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        ents.push((ino, ty, name.to_vec()));
        offs.push(off);
        rest = tail;
    }
    ents.sort_by(|a, b| a.2.cmp(&b.2));
    let mut out = Vec::with_capacity(buf.len());
    for ((ino, ty, name), off) in ents.into_iter().zip(offs) {
        let reclen = (19usize.saturating_add(name.len()).saturating_add(1)).next_multiple_of(8);
        out.extend_from_slice(&e.ids.ino((dev, ino)).to_ne_bytes());
        out.extend_from_slice(&off.to_ne_bytes());
        out.extend_from_slice(&(reclen as u16).to_ne_bytes());
        out.push(ty);
        out.extend_from_slice(&name);
        out.resize(
            out.len()
                .saturating_add(reclen.saturating_sub(name.len().saturating_add(19))),
            0,
        );
    }
    if out.len() == buf.len() {
        e.write_mem(tid, dirp, &out)?;
    }
    Ok(())
}

// --- writes and durability ----------------------------------------------------------

/// The file position and status flags of `tid`'s fd `fd` (from `/proc/<pid>/fdinfo`).
fn fdinfo(e: &World, tid: Vtid, fd: i32) -> Option<(u64, i32)> {
    let text = std::fs::read_to_string(e.proc_dir(tid).join(format!("fdinfo/{fd}"))).ok()?;
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim().to_string())
    };
    let pos = field("pos:")?.parse().ok()?;
    let flags = i32::from_str_radix(&field("flags:")?, 8).ok()?;
    Some((pos, flags))
}

/// Before a write of `len` bytes to `tid`'s fd `fd` (at `offset`, or at the file
/// position): keeps what it overwrites, unless the file is opened for synchronous
/// writes; the file's virtual times become now.
pub fn before_write(e: &mut World, tid: Vtid, fd: i32, offset: Option<u64>, len: u64) {
    if e.cfg.test_without_file_model {
        return;
    }
    let path = e.fd_path(tid, fd);
    let Ok(m) = std::fs::metadata(&path) else {
        return;
    };
    if !m.is_file() {
        return;
    }
    let id = id_of(&m);
    let now = e.stamp_now();
    e.times.data(id, now);
    if e.cfg.crash_model == fs::CrashModel::KeepAll {
        return;
    }
    let Some((pos, flags)) = fdinfo(e, tid, fd) else {
        return;
    };
    if flags & libc::O_DSYNC != 0 {
        return; // O_SYNC includes O_DSYNC: durable when the write returns
    }
    let size = m.len();
    let start = match offset {
        Some(o) => o,
        None if flags & libc::O_APPEND != 0 => size,
        None => pos,
    };
    keep_undo(e, tid, id, &path, start, len, size);
}

/// Before `sendfile`, `splice` or `copy_file_range` (the kernel moves the data): a
/// regular file written to is written as by `pwrite` (at the offset the call names, or
/// the file position).
pub fn before_copy(e: &mut World, tid: Vtid, nr: u32, a: [u64; 6]) {
    let (fd, off, len) = match Syscall::decode(nr, a) {
        Syscall::Sendfile(c) => (c.out_fd, 0, c.count),
        Syscall::Splice(c) => (c.fd_out, c.off_out.addr(), c.len),
        Syscall::CopyFileRange(c) => (c.fd_out, c.off_out.addr(), c.len),
        _ => return,
    };
    // A null offset pointer: the file position.
    let offset = if off == 0 {
        None
    } else {
        match e.read_val::<u64>(tid, off) {
            Ok(o) => Some(o),
            Err(_) => return, // the kernel answers EFAULT
        }
    };
    before_write(e, tid, fd.get(), offset, len);
}

/// Before `fallocate(fd, mode, offset, len)`: the range it changes (zeroed, punched,
/// allocated past the end) is kept to undo; collapsing or inserting a range moves
/// everything after `offset`, so all of it is kept.
pub fn before_fallocate(e: &mut World, tid: Vtid, fd: i32, mode: i32, offset: u64, len: u64) {
    let shifts = mode & (libc::FALLOC_FL_COLLAPSE_RANGE | libc::FALLOC_FL_INSERT_RANGE) != 0;
    let len = if shifts { u64::MAX } else { len };
    before_write(e, tid, fd, Some(offset), len);
}

/// Keeps the bytes in `[start, start + len)` that lie within the file's `size`.
fn keep_undo(e: &mut World, tid: Vtid, id: HostId, path: &Path, start: u64, len: u64, size: u64) {
    let node = e.node_of(tid);
    let open = || {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .ok()
    };
    let span = (start, len, size, MAX_UNDO_PER_WRITE);
    keep_undo_on(e, node, id, open, span);
}

/// As [`keep_undo`], on node `node`'s file `id` reached through `open`; `span` is
/// (start, length, the file's size, the most bytes kept).
fn keep_undo_on(
    e: &mut World,
    node: usize,
    id: HostId,
    open: impl Fn() -> Option<std::fs::File>,
    span: (u64, u64, u64, u64),
) {
    let (start, len, size, cap) = span;
    let end = start.saturating_add(len).min(size);
    let keep = end.saturating_sub(start).min(cap);
    let mut old = vec![0u8; keep as usize];
    if keep > 0 {
        let f = match e.disks[node].files.get(&id) {
            Some(d) => d.file.try_clone().ok(),
            None => open(),
        };
        let Some(f) = f else {
            return;
        };
        if f.read_exact_at(&mut old, start).is_err() {
            return;
        }
    }
    let w = Undo {
        offset: start,
        old,
        size_before: size,
    };
    if !e.disks[node].wrote(id, open, w) {
        e.note(
            "a node's unsynced writes passed takt's undo budget: older ones count as written back"
                .into(),
        );
    }
}

/// `ftruncate`: keeps the bytes a shrink cuts off.
pub fn before_truncate(e: &mut World, tid: Vtid, path: PathBuf, len: i64) {
    let Ok(m) = std::fs::metadata(&path) else {
        return;
    };
    if !m.is_file() || len < 0 {
        return;
    }
    let id = id_of(&m);
    let now = e.stamp_now();
    e.times.data(id, now);
    if e.cfg.crash_model != fs::CrashModel::KeepAll {
        let len = len as u64;
        keep_undo(
            e,
            tid,
            id,
            &path,
            len.min(m.len()),
            m.len().saturating_sub(len),
            m.len(),
        );
    }
}

/// `truncate(path, len)`.
pub fn truncate(e: &mut World, tid: Vtid, path: u64, len: i64) -> Res {
    let p = e.read_cstr(tid, path)?;
    let host = e.at_path(tid, libc::AT_FDCWD, &p);
    before_truncate(e, tid, host, len);
    Ok(Out::Pass)
}

/// `fsync`/`fdatasync` of `tid`'s fd `fd`: the file's data (or the directory's names)
/// are durable.
pub fn synced(e: &mut World, tid: Vtid, fd: i32) {
    let Ok(m) = std::fs::metadata(e.fd_path(tid, fd)) else {
        return;
    };
    let node = e.node_of(tid);
    let model = e.cfg.crash_model;
    if m.is_dir() {
        e.disks[node].synced_dir(id_of(&m), model);
    } else if m.is_file() {
        e.disks[node].synced_file(id_of(&m), model);
        remap(e, node, Some(id_of(&m)));
    }
}

/// An injected `EIO` from `fsync`/`fdatasync` of `tid`'s fd `fd`: the file's writes so
/// far can no longer become durable.
pub fn writeback_failed(e: &mut World, tid: Vtid, fd: i32) {
    let Ok(m) = std::fs::metadata(e.fd_path(tid, fd)) else {
        return;
    };
    if m.is_file() {
        let node = e.node_of(tid);
        e.disks[node].writeback_failed(id_of(&m));
        remap(e, node, Some(id_of(&m)));
    }
}

/// `sync`/`syncfs`: everything of the node is durable.
pub fn synced_all(e: &mut World, tid: Vtid) {
    let node = e.node_of(tid);
    e.disks[node].synced_all();
    remap(e, node, None);
}

// --- shared file mappings -------------------------------------------------------------

/// `mmap` (the seccomp filter stops only shared mappings of files): a shared mapping
/// of a file open for reading and writing (`mprotect` may make it writable later) is
/// followed from its exit: the mapped part counts as overwritten from then on.
pub fn mmap(e: &mut World, tid: Vtid, c: Mmap) -> Res {
    let (len, flags) = (c.length, c.flags.get() as i32);
    let (fd, offset) = (c.fd.get(), c.offset.get());
    let shared_file = flags & libc::MAP_SHARED != 0 && flags & libc::MAP_ANONYMOUS == 0;
    if !shared_file || e.cfg.crash_model == fs::CrashModel::KeepAll {
        return Ok(Out::Pass);
    }
    let path = e.fd_path(tid, fd);
    let Ok(meta) = std::fs::metadata(&path) else {
        return Ok(Out::Pass);
    };
    let writable =
        matches!(fdinfo(e, tid, fd), Some((_, f)) if f & libc::O_ACCMODE == libc::O_RDWR);
    if !meta.is_file() || !writable {
        return Ok(Out::Pass);
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
    else {
        return Ok(Out::Pass);
    };
    let id = id_of(&meta);
    Ok(Out::PassThen(Post::File(Exit::Mapped {
        len,
        offset,
        id,
        file,
    })))
}

/// At the exit of [`mmap`]: the mapping (`len`, `offset`, file `id`) at `ret` is
/// followed.
fn mapped(e: &mut World, tid: Vtid, ret: i64, m: (u64, u64, HostId), file: std::fs::File) {
    if (-4095..0).contains(&ret) {
        return; // an errno, not an address
    }
    let (len, offset, id) = m;
    let start = ret as u64;
    let m = fs::Mapping {
        pid: e.threads[&tid].pid,
        start,
        end: start.saturating_add(len),
        offset,
        id,
        file,
    };
    let node = e.node_of(tid);
    snapshot(e, node, &m);
    e.disks[node].mapped(m);
}

/// `msync`: with `MS_SYNC`, the files mapped in `[addr, addr + len)` are durable (and
/// their mappings dirty again from now); `MS_ASYNC` makes nothing durable.
pub fn msync(e: &mut World, _tid: Vtid, c: Msync) -> Res {
    let (addr, len, flags) = (c.addr.addr(), c.length, c.flags.get() as i32);
    if flags & libc::MS_SYNC == 0 || e.cfg.crash_model == fs::CrashModel::KeepAll {
        return Ok(Out::Pass);
    }
    Ok(Out::PassThen(Post::File(Exit::Msynced { addr, len })))
}

/// At the exit of [`msync`].
fn msynced(e: &mut World, tid: Vtid, ret: i64, addr: u64, len: u64) {
    if ret == 0 {
        let node = e.node_of(tid);
        let pid = e.threads[&tid].pid;
        let model = e.cfg.crash_model;
        for id in e.disks[node].mapped_in(pid, addr, addr.saturating_add(len)) {
            e.disks[node].synced_file(id, model);
            remap(e, node, Some(id));
        }
    }
}

/// Keeps the current contents of what mapping `m` maps: its writes from now on are
/// not durable.
fn snapshot(e: &mut World, node: usize, m: &fs::Mapping) {
    let Ok(meta) = m.file.metadata() else {
        return;
    };
    let len = m.end.saturating_sub(m.start);
    let open = || m.file.try_clone().ok();
    let span = (m.offset, len, meta.len(), fs::MAX_MAPPED_UNDO);
    keep_undo_on(e, node, m.id, open, span);
}

/// After `only` (or every file of node `node`) became durable: its live shared
/// mappings make it dirty again from now.
fn remap(e: &mut World, node: usize, only: Option<HostId>) {
    if e.disks[node].maps.is_empty() {
        return;
    }
    let maps = std::mem::take(&mut e.disks[node].maps);
    for m in maps.iter().filter(|m| only.is_none_or(|id| id == m.id)) {
        snapshot(e, node, m);
    }
    e.disks[node].maps = maps;
}

// --- names ----------------------------------------------------------------------------

/// What a name change needs at its exit: the name(s) as the node sees them and the
/// host paths to reach them.
pub(crate) struct Name {
    guest: PathBuf,
    host: PathBuf,
}

fn name(e: &World, tid: Vtid, dirfd: i32, addr: u64) -> Result<Option<Name>, Errno> {
    let p = e.read_cstr(tid, addr)?;
    Ok(e.guest_abs(tid, dirfd, &p).map(|guest| Name {
        guest,
        host: e.at_path(tid, dirfd, &p),
    }))
}

fn parent_id(host: &Path) -> Option<HostId> {
    std::fs::metadata(host.parent()?).ok().map(|m| id_of(&m))
}

/// A new name `n` was made (a file, directory, link, symlink): its directory changed.
fn created(e: &mut World, tid: Vtid, n: &Name) {
    let Some(dir) = parent_id(&n.host) else {
        return;
    };
    let now = e.stamp_now();
    e.times.data(dir, now);
    if let Ok(m) = std::fs::symlink_metadata(&n.host) {
        let id = id_of(&m);
        if !m.is_dir() && m.nlink() == 1 || m.is_dir() {
            e.ids.fresh(id);
            e.times.data(id, now);
        } else {
            e.status_now(id);
        }
    }
    if e.cfg.crash_model != fs::CrashModel::KeepAll {
        let node = e.node_of(tid);
        e.disks[node].named(NameOp::Created {
            path: n.guest.clone(),
            dir,
        });
    }
}

// --- socket files ---------------------------------------------------------------------

/// A socket file `bind` of an AF_UNIX path is about to make (the kernel makes it, on the
/// socket's placeholder, with the caller's cwd, root and umask and Linux's errors).
pub(super) struct SocketFile(Name);

/// The socket file `tid`'s AF_UNIX `path` (relative to its cwd) would be.
pub(super) fn socket_file(e: &World, tid: Vtid, path: &[u8]) -> SocketFile {
    let host = e.at_path(tid, libc::AT_FDCWD, path);
    let guest = e
        .guest_abs(tid, libc::AT_FDCWD, path)
        .unwrap_or_else(|| host.clone());
    SocketFile(Name { guest, host })
}

/// The kernel made socket file `f`: it is a new name (for the crash model, the directory's
/// times, takt's inode numbers), as `mknod` of a socket would be. Returns its identity
/// as the host shows it, what connects find it by (`None` if the tracer cannot see it).
pub(super) fn socket_file_made(
    e: &mut World,
    tid: Vtid,
    f: &SocketFile,
) -> Option<crate::net::UnixFile> {
    created(e, tid, &f.0);
    let m = e.stat_in_view(tid, &f.0.guest, false).ok()?;
    use std::os::unix::fs::FileTypeExt;
    m.file_type().is_socket().then(|| crate::net::UnixFile {
        dev: m.dev(),
        ino: m.ino(),
    })
}

/// The socket file `tid`'s AF_UNIX `path` leads to now, looked up as `connect` does
/// (through its root and cwd, following symlinks, with the thread's own credentials
/// unless it may override file permissions): the lookup's errno (`ENOENT`, `ENOTDIR`,
/// `ELOOP`, `EACCES` for a directory it may not search…), `EACCES` for a file it may not
/// write, or `ECONNREFUSED` for a file that is not a socket.
pub(super) fn find_socket_file(
    e: &World,
    tid: Vtid,
    path: &[u8],
) -> Result<crate::net::UnixFile, Errno> {
    use std::os::unix::fs::FileTypeExt;
    let m = match e.guest_abs(tid, libc::AT_FDCWD, path) {
        Some(guest) => {
            // The tracer may look everywhere: a guest without the right to search the
            // directories or to write the file gets what Linux gives it, before the
            // file's type is looked at.
            let real = e.threads[&tid].real;
            if let Some(c) = crate::sys::procfs::fs_creds(real).filter(|c| !c.dac_override) {
                crate::sys::procfs::may_write_in_root(real, &guest, &c)
                    .map_err(|x| Errno(x as i32))?;
            }
            e.stat_in_view(tid, &guest, true)?
        }
        None => std::fs::metadata(e.at_path(tid, libc::AT_FDCWD, path))
            .map_err(|x| Errno(x.raw_os_error().unwrap_or(libc::ENOENT)))?,
    };
    if !m.file_type().is_socket() {
        return Err(Errno::ECONNREFUSED);
    }
    Ok(crate::net::UnixFile {
        dev: m.dev(),
        ino: m.ino(),
    })
}

/// What `host` names now, kept so that a crash can put it back.
fn keep(host: &Path) -> Option<Kept> {
    let m = std::fs::symlink_metadata(host).ok()?;
    let owner = (m.permissions().mode(), m.uid(), m.gid());
    Some(if m.is_file() {
        match std::fs::File::open(host) {
            Ok(f) => Kept::File(f, owner),
            Err(_) => Kept::Other,
        }
    } else if m.is_dir() {
        Kept::Dir(owner)
    } else if m.file_type().is_symlink() {
        Kept::Symlink(std::fs::read_link(host).ok()?)
    } else {
        Kept::Other
    })
}

/// `open`/`openat` of an existing or new file with `O_CREAT` or `O_TRUNC`: at the exit,
/// a new file is a new name; a truncated one lost its data (kept for a crash).
pub fn open_creating(e: &mut World, tid: Vtid, dirfd: i32, path: u64, flags: i32) -> Res {
    if e.cfg.test_without_file_model {
        return Ok(Out::Pass);
    }
    let Some(n) = name(e, tid, dirfd, path)? else {
        return Ok(Out::Pass);
    };
    let existed = std::fs::symlink_metadata(&n.host).ok();
    if let Some(m) = &existed {
        if flags & libc::O_TRUNC != 0 && m.is_file() && m.len() > 0 {
            before_truncate(e, tid, n.host.clone(), 0);
        }
    }
    let existed = existed.is_some();
    Ok(Out::PassThen(Post::File(Exit::Opened {
        name: n,
        existed,
        flags,
    })))
}

/// At the exit of [`open_creating`]: a new name, or a truncated file.
fn opened(e: &mut World, tid: Vtid, ret: i64, n: &Name, existed: bool, flags: i32) {
    if ret >= 0 {
        if !existed {
            created(e, tid, n);
        } else if flags & libc::O_TRUNC != 0 {
            if let Ok(m) = std::fs::metadata(e.fd_path(tid, ret as i32)) {
                let now = e.stamp_now();
                e.times.data(id_of(&m), now);
            }
        }
    }
}

/// `mkdir`, `symlink`, `link`, `mknod` (of FIFOs and sockets) and their `*at` forms:
/// `dirfd`/`path` name the new entry.
pub fn make(e: &mut World, tid: Vtid, dirfd: i32, path: u64) -> Res {
    let Some(n) = name(e, tid, dirfd, path)? else {
        return Ok(Out::Pass);
    };
    Ok(Out::PassThen(Post::File(Exit::Made { name: n })))
}

/// `unlink`, `unlinkat`, `rmdir`: the removed entry is kept until its removal is
/// durable.
pub fn remove(e: &mut World, tid: Vtid, dirfd: i32, path: u64) -> Res {
    let Some(n) = name(e, tid, dirfd, path)? else {
        return Ok(Out::Pass);
    };
    let kept = if e.cfg.crash_model != fs::CrashModel::KeepAll {
        keep(&n.host)
    } else {
        None
    };
    let dir = parent_id(&n.host);
    Ok(Out::PassThen(Post::File(Exit::Removed {
        name: n,
        dir,
        kept,
    })))
}

/// At the exit of [`remove`].
fn removed(e: &mut World, tid: Vtid, ret: i64, n: Name, dir: Option<HostId>, kept: Option<Kept>) {
    if ret == 0 {
        if let Some(dir) = dir {
            let now = e.stamp_now();
            e.times.data(dir, now);
            if let Some(kept) = kept {
                let node = e.node_of(tid);
                e.disks[node].named(NameOp::Removed {
                    path: n.guest,
                    dir,
                    kept,
                });
            }
        }
    }
}

/// `rename`, `renameat`, `renameat2`: the replaced entry is kept until the rename is
/// durable; an exchange (`RENAME_EXCHANGE`) is undone by exchanging back.
pub fn rename(e: &mut World, tid: Vtid, dirfds: [i32; 2], paths: [u64; 2], flags: u64) -> Res {
    let [(d0, p0), (d1, p1)] = [(dirfds[0], paths[0]), (dirfds[1], paths[1])];
    let (Some(from), Some(to)) = (name(e, tid, d0, p0)?, name(e, tid, d1, p1)?) else {
        return Ok(Out::Pass);
    };
    if flags & u64::from(libc::RENAME_EXCHANGE) != 0 {
        return exchange(from, to);
    }
    let track = e.cfg.crash_model != fs::CrashModel::KeepAll;
    let replaced = if track { keep(&to.host) } else { None };
    let dirs = (parent_id(&from.host), parent_id(&to.host));
    Ok(Out::PassThen(Post::File(Exit::Renamed(Box::new(
        Renamed {
            from,
            to,
            dirs,
            replaced,
            track,
        },
    )))))
}

/// At the exit of [`rename`].
fn renamed(e: &mut World, tid: Vtid, ret: i64, r: Renamed) {
    if ret != 0 {
        return;
    }
    let now = e.stamp_now();
    if let (Some(fd), Some(td)) = r.dirs {
        e.times.data(fd, now);
        e.times.data(td, now);
        if let Ok(m) = std::fs::symlink_metadata(&r.to.host) {
            e.status_now(id_of(&m));
        }
        if r.track {
            let node = e.node_of(tid);
            e.disks[node].named(NameOp::Renamed {
                from: r.from.guest,
                to: r.to.guest,
                from_dir: fd,
                to_dir: td,
                replaced: r.replaced,
            });
        }
    }
}

/// `renameat2(…, RENAME_EXCHANGE)` of `a` and `b`: both directories and both files
/// changed; a crash exchanges them back unless a directory was fsynced since.
fn exchange(a: Name, b: Name) -> Res {
    let dirs = (parent_id(&a.host), parent_id(&b.host));
    Ok(Out::PassThen(Post::File(Exit::Exchanged { a, b, dirs })))
}

/// At the exit of [`exchange`].
fn exchanged(
    e: &mut World,
    tid: Vtid,
    ret: i64,
    a: Name,
    b: Name,
    dirs: (Option<HostId>, Option<HostId>),
) {
    if ret != 0 {
        return;
    }
    let (Some(a_dir), Some(b_dir)) = dirs else {
        return;
    };
    let now = e.stamp_now();
    e.times.data(a_dir, now);
    e.times.data(b_dir, now);
    for host in [&a.host, &b.host] {
        if let Ok(m) = std::fs::symlink_metadata(host) {
            e.status_now(id_of(&m));
        }
    }
    if e.cfg.crash_model != fs::CrashModel::KeepAll {
        let node = e.node_of(tid);
        e.disks[node].named(NameOp::Exchanged {
            a: a.guest,
            b: b.guest,
            a_dir,
            b_dir,
        });
    }
}

/// `chmod`, `chown` and their forms on a path: the file's status changed.
pub fn status_changed(e: &mut World, tid: Vtid, dirfd: i32, path: u64) -> Res {
    let p = e.read_cstr(tid, path)?;
    Ok(status_changed_at(e.at_path(tid, dirfd, &p)))
}

/// `fchmod`, `fchown`: as [`status_changed`], on an fd.
pub fn fd_status_changed(e: &mut World, tid: Vtid, fd: i32) -> Res {
    Ok(status_changed_at(e.fd_path(tid, fd)))
}

/// At the exit of a successful call, the status of the file at `host` changed now.
fn status_changed_at(host: PathBuf) -> Out {
    Out::PassThen(Post::File(Exit::StatusChanged { host }))
}

/// What a call sets one of a file's times to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NewTime {
    /// This time.
    At(Stamp),
    /// The virtual time now.
    Now,
    /// Unchanged.
    Omit,
}

/// `utimensat(dirfd, path, times, flags)` (a null path: the fd itself): the times given
/// (`UTIME_NOW`: now; `UTIME_OMIT`: unchanged) become the file's virtual times.
pub fn utimensat(e: &mut World, tid: Vtid, c: Utimensat) -> Res {
    let (dirfd, path) = (c.dirfd.get(), c.pathname.addr());
    let (times, flags) = (c.times.addr(), c.flags.get() as i32);
    let host = if path == 0 {
        e.fd_path(tid, dirfd)
    } else {
        let p = e.read_cstr(tid, path)?;
        e.at_path(tid, dirfd, &p)
    };
    let new = if times == 0 {
        [NewTime::Now; 2]
    } else {
        let ts: [libc::timespec; 2] = e.read_val(tid, times)?;
        ts.map(|t| match t.tv_nsec {
            libc::UTIME_NOW => NewTime::Now,
            libc::UTIME_OMIT => NewTime::Omit,
            ns => NewTime::At((t.tv_sec, ns)),
        })
    };
    times_set(host, new, flags & libc::AT_SYMLINK_NOFOLLOW != 0)
}

/// `utimes(path, tv)`, `futimesat(dirfd, path, tv)` (`struct timeval[2]`) and
/// `utime(path, buf)` (`struct utimbuf`): as [`utimensat`]; a null pointer means now.
pub fn utimes(e: &mut World, tid: Vtid, dirfd: i32, path: u64, times: u64, timeval: bool) -> Res {
    let p = e.read_cstr(tid, path)?;
    let host = e.at_path(tid, dirfd, &p);
    let new = match (times, timeval) {
        (0, _) => [NewTime::Now; 2],
        (_, true) => {
            let tv: [libc::timeval; 2] = e.read_val(tid, times)?;
            tv.map(|t| NewTime::At((t.tv_sec, t.tv_usec.saturating_mul(1000))))
        }
        (_, false) => {
            // struct utimbuf { time_t actime, modtime; }
            let [at, mt]: [i64; 2] = e.read_val(tid, times)?;
            [NewTime::At((at, 0)), NewTime::At((mt, 0))]
        }
    };
    times_set(host, new, false)
}

/// At the exit of a successful call, the file at `host` carries the times `new`
/// (access, modification); its status changed now.
fn times_set(host: PathBuf, new: [NewTime; 2], nofollow: bool) -> Res {
    Ok(Out::PassThen(Post::File(Exit::TimesSet {
        host,
        new,
        nofollow,
    })))
}

/// At the exit of [`times_set`]'s call.
fn times_done(e: &mut World, ret: i64, host: &Path, new: [NewTime; 2], nofollow: bool) {
    if ret != 0 {
        return;
    }
    let meta = if nofollow {
        std::fs::symlink_metadata(host)
    } else {
        std::fs::metadata(host)
    };
    if let Ok(m) = meta {
        let id = id_of(&m);
        let now = e.stamp_now();
        let old = e.file_times(id);
        let pick = |t: NewTime, old: Stamp| match t {
            NewTime::At(s) => s,
            NewTime::Now => now,
            NewTime::Omit => old,
        };
        let (at, mt) = (pick(new[0], old.atime), pick(new[1], old.mtime));
        e.times.set(id, at, mt, now);
    }
}

// --- crash ----------------------------------------------------------------------------

impl World {
    /// Node `n` crashed (its processes are dead): what was not durable is lost, as the
    /// crash model says.
    pub(crate) fn crash_disk(&mut self, n: usize) {
        let model = self.cfg.crash_model;
        let Some(disk) = self.disks.get_mut(n).map(std::mem::take) else {
            return;
        };
        // Each draw keeps 0..=k of k non-durable changes: from the seed, or from a
        // replayed tape (which keeps all where it says nothing); the tape records those
        // that kept less than all.
        let (crash, plan) = self.crash_plan(n);
        let rng = &mut self.crash_rng;
        let mut drawn: Vec<(u64, u64, u64)> = Vec::new();
        let mut i = 0u64;
        let (files, names) = disk.survivors(model, |k| {
            let v = match &plan {
                Some(p) => p
                    .get(&i)
                    .map_or(k, |&v| usize::try_from(v).unwrap_or(k).min(k)),
                None => rand::Rng::random_range(rng, 0..=k),
            };
            if v < k {
                drawn.push((i, v as u64, k as u64));
            }
            i = i.saturating_add(1);
            v
        });
        self.record_crash_keeps(n, crash, &drawn);
        let mut lost = undo_data(&disk, &files);
        for op in disk.names.into_iter().skip(names).rev() {
            lost = lost.saturating_add(1);
            self.undo_name(n, op);
        }
        if lost > 0 {
            self.note(format!(
                "crash of node {}: {lost} write(s) and name change(s) that were not durable lost ({model:?})",
                self.cfg.nodes[n].name
            ));
        }
    }
}

impl World {
    /// Undoes one name change of node `n` that was not durable.
    fn undo_name(&self, n: usize, op: NameOp) {
        match op {
            NameOp::Created { path, .. } => {
                let p = self.node_path(n, &path);
                if std::fs::remove_file(&p).is_err() {
                    let _ = std::fs::remove_dir(&p);
                }
            }
            NameOp::Removed { path, kept, .. } => {
                let p = self.node_path(n, &path);
                put_back(&p, kept);
            }
            NameOp::Exchanged { a, b, .. } => {
                // Exchanged back, through a name of takt's own beside `a`.
                let (pa, pb) = (self.node_path(n, &a), self.node_path(n, &b));
                let mut side = pa.clone().into_os_string();
                side.push(".takt-exchange");
                let _ = std::fs::rename(&pa, &side);
                let _ = std::fs::rename(&pb, &pa);
                let _ = std::fs::rename(&side, &pb);
            }
            NameOp::Renamed {
                from, to, replaced, ..
            } => {
                let (f, t) = (self.node_path(n, &from), self.node_path(n, &to));
                let _ = std::fs::rename(&t, &f);
                if let Some(k) = replaced {
                    put_back(&t, k);
                }
            }
        }
    }
}

/// Undoes the writes of `disk` that do not survive (each dirty file keeps the number
/// `keep` gives; writes whose write-back failed are all undone), newest first; returns
/// how many were undone. Data goes first, so a removed file is put back with its
/// durable contents.
fn undo_data(disk: &fs::Disk, keep: &std::collections::BTreeMap<HostId, usize>) -> usize {
    let mut lost = 0usize;
    let undo = |f: &fs::DirtyFile, skip: usize, lost: &mut usize| {
        for w in f.writes.iter().skip(skip).rev() {
            let _ = f.file.write_all_at(&w.old, w.offset);
            let _ = f.file.set_len(w.size_before);
            *lost = lost.saturating_add(1);
        }
    };
    for (id, f) in &disk.files {
        undo(f, keep.get(id).copied().unwrap_or(0), &mut lost);
    }
    for f in disk.doomed.iter().rev() {
        undo(f, 0, &mut lost);
    }
    lost
}

/// Puts a kept entry back at `p`.
fn put_back(p: &Path, kept: Kept) {
    match kept {
        Kept::File(f, (mode, uid, gid)) => {
            let mut src = f;
            if let Ok(mut dst) = std::fs::File::create(p) {
                use std::io::Seek;
                let _ = src.seek(std::io::SeekFrom::Start(0));
                let _ = std::io::copy(&mut src, &mut dst);
                let _ = dst.set_permissions(std::fs::Permissions::from_mode(mode));
                let _ = std::os::unix::fs::fchown(&dst, Some(uid), Some(gid));
            }
        }
        Kept::Dir((mode, uid, gid)) => {
            let _ = std::fs::create_dir(p);
            let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
            let _ = std::os::unix::fs::chown(p, Some(uid), Some(gid));
        }
        Kept::Symlink(target) => {
            let _ = std::os::unix::fs::symlink(target, p);
        }
        Kept::Other => {}
    }
}
