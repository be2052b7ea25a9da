//! Typed calls on descriptors and their data: reads and writes (plain, positional,
//! vectored, between descriptors), `close`, `dup`, `pipe`, `eventfd`, `fcntl`, `ioctl`,
//! `lseek`, syncing, inotify, `getrandom`.

use crate::syscall::arg::*;
use crate::syscall::capture::{Capturer, Slot};
use crate::syscall::decl::{calls, Custom};
use crate::syscall::enums::*;
use crate::syscall::flags::*;
use crate::syscall::render::{Render, RetStyle};

calls! {
    /// `read(fd, buf, count)`
    Read = read(fd: Fd, buf: OutBuf, count: u64);
    /// `write(fd, buf, count)`
    Write = write(fd: Fd, buf: InBuf, count: u64);
    /// `readv(fd, iov, iovcnt)`
    Readv = readv(fd: Fd, iov: IovOut, iovcnt: u64);
    /// `writev(fd, iov, iovcnt)`
    Writev = writev(fd: Fd, iov: IovIn, iovcnt: u64);
    /// `pread64(fd, buf, count, offset)`
    Pread64 = pread64(fd: Fd, buf: OutBuf, count: u64, offset: i64);
    /// `pwrite64(fd, buf, count, offset)`
    Pwrite64 = pwrite64(fd: Fd, buf: InBuf, count: u64, offset: i64);
    /// `preadv(fd, iov, iovcnt, pos_l, pos_h)` (x86-64 passes the offset in `pos_l`)
    Preadv = preadv(fd: Fd, iov: IovOut, iovcnt: u64, pos_l: i64, pos_h: u64) custom;
    /// `pwritev(fd, iov, iovcnt, pos_l, pos_h)`
    Pwritev = pwritev(fd: Fd, iov: IovIn, iovcnt: u64, pos_l: i64, pos_h: u64) custom;
    /// `preadv2(fd, iov, iovcnt, pos_l, pos_h, flags)`
    Preadv2 = preadv2(fd: Fd, iov: IovOut, iovcnt: u64, pos_l: i64, pos_h: u64, flags: RwfFlags) custom;
    /// `pwritev2(fd, iov, iovcnt, pos_l, pos_h, flags)`
    Pwritev2 = pwritev2(fd: Fd, iov: IovIn, iovcnt: u64, pos_l: i64, pos_h: u64, flags: RwfFlags) custom;
    /// `sendfile(out_fd, in_fd, offset, count)`
    Sendfile = sendfile(out_fd: Fd, in_fd: Fd, offset: UserPtr, count: u64);
    /// `splice(fd_in, off_in, fd_out, off_out, len, flags)`
    Splice = splice(fd_in: Fd, off_in: UserPtr, fd_out: Fd, off_out: UserPtr, len: u64, flags: SpliceFlags);
    /// `tee(fd_in, fd_out, len, flags)`
    Tee = tee(fd_in: Fd, fd_out: Fd, len: u64, flags: SpliceFlags);
    /// `copy_file_range(fd_in, off_in, fd_out, off_out, len, flags)`
    CopyFileRange = copy_file_range(fd_in: Fd, off_in: UserPtr, fd_out: Fd, off_out: UserPtr, len: u64, flags: UInt);

    /// `close(fd)`
    Close = close(fd: Fd);
    /// `close_range(first, last, flags)`
    CloseRange = close_range(first: UInt, last: UInt, flags: CloseRangeFlags);
    /// `pipe(pipefd)`
    Pipe = pipe(pipefd: FdPair);
    /// `pipe2(pipefd, flags)`
    Pipe2 = pipe2(pipefd: FdPair, flags: OFlags);
    /// `eventfd(initval)`
    Eventfd = eventfd(initval: UInt);
    /// `eventfd2(initval, flags)`
    Eventfd2 = eventfd2(initval: UInt, flags: EfdFlags);
    /// `dup(oldfd)`
    Dup = dup(oldfd: Fd);
    /// `dup2(oldfd, newfd)`
    Dup2 = dup2(oldfd: Fd, newfd: Fd);
    /// `dup3(oldfd, newfd, flags)`
    Dup3 = dup3(oldfd: Fd, newfd: Fd, flags: OFlags);
    /// `fcntl(fd, cmd, arg)`: the argument's meaning depends on the command.
    Fcntl = fcntl(fd: Fd, cmd: FcntlCmd, arg: u64) custom;
    /// `ioctl(fd, request, arg)`
    Ioctl = ioctl(fd: Fd, request: IoctlReq, arg: u64) custom;
    /// `flock(fd, operation)`
    Flock = flock(fd: Fd, operation: FlockOp);
    /// `lseek(fd, offset, whence)`
    Lseek = lseek(fd: Fd, offset: i64, whence: Whence);
    /// `fsync(fd)`
    Fsync = fsync(fd: Fd);
    /// `fdatasync(fd)`
    Fdatasync = fdatasync(fd: Fd);
    /// `ftruncate(fd, length)`
    Ftruncate = ftruncate(fd: Fd, length: i64);
    /// `fadvise64(fd, offset, len, advice)`
    Fadvise64 = fadvise64(fd: Fd, offset: i64, len: i64, advice: FadvAdvice);
    /// `fallocate(fd, mode, offset, len)`
    Fallocate = fallocate(fd: Fd, mode: FallocMode, offset: i64, len: i64);
    /// `getdents(fd, dirp, count)`
    Getdents = getdents(fd: Fd, dirp: UserPtr, count: UInt);
    /// `getdents64(fd, dirp, count)`
    Getdents64 = getdents64(fd: Fd, dirp: UserPtr, count: UInt);
    /// `sync()`
    Sync = sync();
    /// `syncfs(fd)`
    Syncfs = syncfs(fd: Fd);
    /// `sync_file_range(fd, offset, nbytes, flags)`
    SyncFileRange = sync_file_range(fd: Fd, offset: i64, nbytes: i64, flags: UInt);
    /// `memfd_create(name, flags)`
    MemfdCreate = memfd_create(name: StrPtr, flags: MfdFlags);
    /// `inotify_init1(flags)`
    InotifyInit1 = inotify_init1(flags: InotifyFlags);
    /// `inotify_add_watch(fd, pathname, mask)`
    InotifyAddWatch = inotify_add_watch(fd: Fd, pathname: PathPtr, mask: InotifyMask);
    /// `inotify_rm_watch(fd, wd)`
    InotifyRmWatch = inotify_rm_watch(fd: Fd, wd: Int);
    /// `getrandom(buf, buflen, flags)`
    Getrandom = getrandom(buf: RandomBuf, buflen: u64, flags: GrndFlags);
}

/// `preadv(3, [...], 1, 0)`: strace prints the offset once.
macro_rules! vectored_at {
    ($($t:ident $(flags $f:ident)?;)*) => {$(
        impl Custom for $t {
            fn render_args(&self, r: &mut Render<'_>) {
                r.arg(0, self.fd);
                r.arg(1, self.iov);
                r.arg(2, self.iovcnt);
                r.arg(3, self.pos_l);
                $(r.arg(5, self.$f);)?
            }
        }
    )*};
}
vectored_at! {
    Preadv;
    Pwritev;
    Preadv2 flags flags;
    Pwritev2 flags flags;
}

impl Custom for Fcntl {
    fn render_args(&self, r: &mut Render<'_>) {
        r.arg(0, self.fd);
        r.arg(1, self.cmd);
        let arg = self.arg;
        match self.cmd.get() {
            FcntlCmd::F_GETFD
            | FcntlCmd::F_GETFL
            | FcntlCmd::F_GETOWN
            | FcntlCmd::F_GETSIG
            | FcntlCmd::F_GETLEASE
            | FcntlCmd::F_GETPIPE_SZ
            | FcntlCmd::F_GET_SEALS => {}
            FcntlCmd::F_SETFD => r.arg(2, FdFlags::from_raw(arg)),
            FcntlCmd::F_SETFL => r.arg(2, OpenFlags::from_raw(arg)),
            FcntlCmd::F_DUPFD
            | FcntlCmd::F_DUPFD_CLOEXEC
            | FcntlCmd::F_DUPFD_QUERY
            | FcntlCmd::F_SETOWN
            | FcntlCmd::F_SETSIG
            | FcntlCmd::F_SETPIPE_SZ
            | FcntlCmd::F_SETLEASE => r.arg(2, Int::from_raw(arg)),
            FcntlCmd::F_ADD_SEALS | FcntlCmd::F_NOTIFY => r.arg(2, Hex32::from_raw(arg)),
            _ => r.arg(2, UserPtr(arg)),
        }
    }

    fn ret_style(&self) -> RetStyle {
        match self.cmd.get() {
            FcntlCmd::F_GETFD | FcntlCmd::F_GETFL => RetStyle::Hex,
            _ => RetStyle::Dec,
        }
    }

    fn ret_suffix(&self, r: &mut Render<'_>) {
        let Some(ret) = r.ok() else { return };
        match self.cmd.get() {
            FcntlCmd::F_GETFD if ret > 0 => {
                r.raw(&format!(" (flags {})", FdFlags::from_raw(ret)));
            }
            FcntlCmd::F_GETFL => r.raw(&format!(" (flags {})", OpenFlags::from_raw(ret))),
            _ => {}
        }
    }
}

impl Ioctl {
    /// Whether the argument points to an `int` the kernel reads (true) or writes (false),
    /// for the requests strace prints that way (`ioctl(3, FIONBIO, [1])`).
    fn int_arg(&self) -> Option<bool> {
        match self.request.get() {
            IoctlReq::FIONBIO | IoctlReq::FIOASYNC | IoctlReq::TIOCSPGRP => Some(true),
            IoctlReq::FIONREAD | IoctlReq::TIOCOUTQ | IoctlReq::TIOCGPGRP => Some(false),
            _ => None,
        }
    }
}

impl Custom for Ioctl {
    fn render_args(&self, r: &mut Render<'_>) {
        r.arg(0, self.fd);
        r.arg(1, self.request);
        match self.request.get() {
            IoctlReq::FIOCLEX
            | IoctlReq::FIONCLEX
            | IoctlReq::TIOCNOTTY
            | IoctlReq::TIOCEXCL
            | IoctlReq::TIOCNXCL => {}
            _ if self.int_arg().is_some() => r.arg(2, IntPtr(self.arg)),
            _ => r.arg(2, UserPtr(self.arg)),
        }
    }

    fn capture(&self, c: &mut Capturer<'_>) {
        let want = match self.int_arg() {
            Some(true) => c.at_entry(),
            Some(false) => c.succeeded().is_some(),
            None => false,
        };
        if want && self.arg != 0 {
            c.take(Slot::arg(2), self.arg, 4, 4);
        }
    }
}
