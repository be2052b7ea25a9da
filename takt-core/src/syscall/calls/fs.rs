//! Typed calls on the filesystem: opening, metadata, directories, links, permissions,
//! extended attributes, mounts and the other calls takt passes to the kernel or refuses.

use crate::syscall::arg::*;
use crate::syscall::decl::{calls, Custom};
use crate::syscall::flags::*;
use crate::syscall::render::{structs, Render, RetStyle};

calls! {
    /// `open(pathname, flags, mode)`: `mode` is printed only with `O_CREAT`/`O_TMPFILE`.
    Open = open(pathname: PathPtr, flags: OpenFlags, mode: Mode) custom;
    /// `creat(pathname, mode)`
    Creat = creat(pathname: PathPtr, mode: Mode);
    /// `openat(dirfd, pathname, flags, mode)`
    Openat = openat(dirfd: DirFd, pathname: PathPtr, flags: OpenFlags, mode: Mode) custom;
    /// `name_to_handle_at(dirfd, pathname, handle, mount_id, flags)`
    NameToHandleAt = name_to_handle_at(dirfd: DirFd, pathname: PathPtr, handle: UserPtr, mount_id: UserPtr, flags: AtFlags);
    /// `open_by_handle_at(mount_fd, handle, flags)`
    OpenByHandleAt = open_by_handle_at(mount_fd: Fd, handle: UserPtr, flags: OpenFlags);
    /// `fanotify_init(flags, event_f_flags)`
    FanotifyInit = fanotify_init(flags: Hex32, event_f_flags: OpenFlags);

    /// `stat(pathname, statbuf)`
    Stat = stat(pathname: PathPtr, statbuf: StatPtr);
    /// `lstat(pathname, statbuf)`
    Lstat = lstat(pathname: PathPtr, statbuf: StatPtr);
    /// `fstat(fd, statbuf)`
    Fstat = fstat(fd: Fd, statbuf: StatPtr);
    /// `newfstatat(dirfd, pathname, statbuf, flags)`
    Newfstatat = newfstatat(dirfd: DirFd, pathname: PathPtr, statbuf: StatPtr, flags: AtFlags);
    /// `statx(dirfd, pathname, flags, mask, statxbuf)`
    Statx = statx(dirfd: DirFd, pathname: PathPtr, flags: AtFlags, mask: Hex32, statxbuf: UserPtr);
    /// `statfs(path, buf)`
    Statfs = statfs(path: PathPtr, buf: UserPtr);
    /// `fstatfs(fd, buf)`
    Fstatfs = fstatfs(fd: Fd, buf: UserPtr);
    /// `access(pathname, mode)`
    Access = access(pathname: PathPtr, mode: AccessMode);
    /// `faccessat(dirfd, pathname, mode)`
    Faccessat = faccessat(dirfd: DirFd, pathname: PathPtr, mode: AccessMode);
    /// `faccessat2(dirfd, pathname, mode, flags)`
    Faccessat2 = faccessat2(dirfd: DirFd, pathname: PathPtr, mode: AccessMode, flags: AccessAtFlags);
    /// `readlink(pathname, buf, bufsiz)`
    Readlink = readlink(pathname: PathPtr, buf: OutPath, bufsiz: u64);
    /// `readlinkat(dirfd, pathname, buf, bufsiz)`
    Readlinkat = readlinkat(dirfd: DirFd, pathname: PathPtr, buf: OutPath, bufsiz: u64);
    /// `getcwd(buf, size)`
    Getcwd = getcwd(buf: OutPath, size: u64);
    /// `umask(mask)`: returns the previous mask, printed in octal.
    Umask = umask(mask: Mode) custom;
    /// `truncate(path, length)`
    Truncate = truncate(path: PathPtr, length: i64);

    /// `mkdir(pathname, mode)`
    Mkdir = mkdir(pathname: PathPtr, mode: Mode);
    /// `mkdirat(dirfd, pathname, mode)`
    Mkdirat = mkdirat(dirfd: DirFd, pathname: PathPtr, mode: Mode);
    /// `rmdir(pathname)`
    Rmdir = rmdir(pathname: PathPtr);
    /// `unlink(pathname)`
    Unlink = unlink(pathname: PathPtr);
    /// `unlinkat(dirfd, pathname, flags)`
    Unlinkat = unlinkat(dirfd: DirFd, pathname: PathPtr, flags: AtFlags);
    /// `rename(oldpath, newpath)`
    Rename = rename(oldpath: PathPtr, newpath: PathPtr);
    /// `renameat(olddirfd, oldpath, newdirfd, newpath)`
    Renameat = renameat(olddirfd: DirFd, oldpath: PathPtr, newdirfd: DirFd, newpath: PathPtr);
    /// `renameat2(olddirfd, oldpath, newdirfd, newpath, flags)`
    Renameat2 = renameat2(olddirfd: DirFd, oldpath: PathPtr, newdirfd: DirFd, newpath: PathPtr, flags: RenameFlags);
    /// `link(oldpath, newpath)`
    Link = link(oldpath: PathPtr, newpath: PathPtr);
    /// `linkat(olddirfd, oldpath, newdirfd, newpath, flags)`
    Linkat = linkat(olddirfd: DirFd, oldpath: PathPtr, newdirfd: DirFd, newpath: PathPtr, flags: AtFlags);
    /// `symlink(target, linkpath)`
    Symlink = symlink(target: PathPtr, linkpath: PathPtr);
    /// `symlinkat(target, newdirfd, linkpath)`
    Symlinkat = symlinkat(target: PathPtr, newdirfd: DirFd, linkpath: PathPtr);
    /// `mknod(pathname, mode, dev)`
    Mknod = mknod(pathname: PathPtr, mode: Mode, dev: Hex32) custom;
    /// `mknodat(dirfd, pathname, mode, dev)`
    Mknodat = mknodat(dirfd: DirFd, pathname: PathPtr, mode: Mode, dev: Hex32) custom;

    /// `chmod(pathname, mode)`
    Chmod = chmod(pathname: PathPtr, mode: Mode);
    /// `fchmod(fd, mode)`
    Fchmod = fchmod(fd: Fd, mode: Mode);
    /// `fchmodat(dirfd, pathname, mode)`
    Fchmodat = fchmodat(dirfd: DirFd, pathname: PathPtr, mode: Mode);
    /// `chown(pathname, owner, group)`
    Chown = chown(pathname: PathPtr, owner: Uid, group: Uid);
    /// `fchown(fd, owner, group)`
    Fchown = fchown(fd: Fd, owner: Uid, group: Uid);
    /// `lchown(pathname, owner, group)`
    Lchown = lchown(pathname: PathPtr, owner: Uid, group: Uid);
    /// `fchownat(dirfd, pathname, owner, group, flags)`
    Fchownat = fchownat(dirfd: DirFd, pathname: PathPtr, owner: Uid, group: Uid, flags: AtFlags);
    /// `utimensat(dirfd, pathname, times, flags)`
    Utimensat = utimensat(dirfd: DirFd, pathname: PathPtr, times: UserPtr, flags: AtFlags);
    /// `utimes(filename, times)`
    Utimes = utimes(filename: PathPtr, times: UserPtr);
    /// `utime(filename, times)`
    Utime = utime(filename: PathPtr, times: UserPtr);
    /// `futimesat(dirfd, pathname, times)`
    Futimesat = futimesat(dirfd: DirFd, pathname: PathPtr, times: UserPtr);

    /// `chdir(path)`
    Chdir = chdir(path: PathPtr);
    /// `fchdir(fd)`
    Fchdir = fchdir(fd: Fd);
    /// `chroot(path)`
    Chroot = chroot(path: PathPtr);
    /// `pivot_root(new_root, put_old)`
    PivotRoot = pivot_root(new_root: PathPtr, put_old: PathPtr);

    /// `getxattr(path, name, value, size)`
    Getxattr = getxattr(path: PathPtr, name: StrPtr, value: OutBuf, size: u64);
    /// `lgetxattr(path, name, value, size)`
    Lgetxattr = lgetxattr(path: PathPtr, name: StrPtr, value: OutBuf, size: u64);
    /// `fgetxattr(fd, name, value, size)`
    Fgetxattr = fgetxattr(fd: Fd, name: StrPtr, value: OutBuf, size: u64);
    /// `listxattr(path, list, size)`
    Listxattr = listxattr(path: PathPtr, list: OutBuf, size: u64);
    /// `llistxattr(path, list, size)`
    Llistxattr = llistxattr(path: PathPtr, list: OutBuf, size: u64);
    /// `flistxattr(fd, list, size)`
    Flistxattr = flistxattr(fd: Fd, list: OutBuf, size: u64);
    /// `setxattr(path, name, value, size, flags)`
    Setxattr = setxattr(path: PathPtr, name: StrPtr, value: InBuf, size: u64, flags: XattrFlags);
    /// `lsetxattr(path, name, value, size, flags)`
    Lsetxattr = lsetxattr(path: PathPtr, name: StrPtr, value: InBuf, size: u64, flags: XattrFlags);
    /// `fsetxattr(fd, name, value, size, flags)`
    Fsetxattr = fsetxattr(fd: Fd, name: StrPtr, value: InBuf, size: u64, flags: XattrFlags);
    /// `removexattr(path, name)`
    Removexattr = removexattr(path: PathPtr, name: StrPtr);

    /// `mount(source, target, filesystemtype, mountflags, data)`
    Mount = mount(source: PathPtr, target: PathPtr, filesystemtype: StrPtr, mountflags: Hex, data: UserPtr);
    /// `umount2(target, flags)`
    Umount2 = umount2(target: PathPtr, flags: UmountFlags);
    /// `open_tree(dirfd, pathname, flags)`
    OpenTree = open_tree(dirfd: DirFd, pathname: PathPtr, flags: Hex32);
    /// `move_mount(from_dirfd, from_pathname, to_dirfd, to_pathname, flags)`
    MoveMount = move_mount(from_dirfd: DirFd, from_pathname: PathPtr, to_dirfd: DirFd, to_pathname: PathPtr, flags: Hex32);
    /// `fsopen(fsname, flags)`
    Fsopen = fsopen(fsname: StrPtr, flags: Hex32);
    /// `fsconfig(fd, cmd, key, value, aux)`
    Fsconfig = fsconfig(fd: Fd, cmd: UInt, key: StrPtr, value: UserPtr, aux: Int);
    /// `fsmount(fs_fd, flags, attr_flags)`
    Fsmount = fsmount(fs_fd: Fd, flags: Hex32, attr_flags: Hex32);
    /// `fspick(dirfd, pathname, flags)`
    Fspick = fspick(dirfd: DirFd, pathname: PathPtr, flags: Hex32);
    /// `mount_setattr(dirfd, pathname, flags, attr, size)`
    MountSetattr = mount_setattr(dirfd: DirFd, pathname: PathPtr, flags: AtFlags, attr: UserPtr, size: u64);
    /// `swapon(path, swapflags)`
    Swapon = swapon(path: PathPtr, swapflags: Hex32);
    /// `swapoff(path)`
    Swapoff = swapoff(path: PathPtr);
    /// `quotactl(cmd, special, id, addr)`
    Quotactl = quotactl(cmd: Hex32, special: PathPtr, id: Int, addr: UserPtr);
    /// `quotactl_fd(fd, cmd, id, addr)`
    QuotactlFd = quotactl_fd(fd: Fd, cmd: Hex32, id: Int, addr: UserPtr);
    /// `acct(filename)`
    Acct = acct(filename: PathPtr);
}

impl Custom for Open {
    fn render_args(&self, r: &mut Render<'_>) {
        r.arg(0, self.pathname);
        r.arg(1, self.flags);
        if self.flags.takes_mode() {
            r.arg(2, self.mode);
        }
    }
}

impl Custom for Openat {
    fn render_args(&self, r: &mut Render<'_>) {
        r.arg(0, self.dirfd);
        r.arg(1, self.pathname);
        r.arg(2, self.flags);
        if self.flags.takes_mode() {
            r.arg(3, self.mode);
        }
    }
}

impl Custom for Umask {
    fn ret_style(&self) -> RetStyle {
        RetStyle::Octal
    }
}

/// `mknod`'s device, printed only for device files: `makedev(0x1, 0x3)` (the kernel
/// decodes it as `new_decode_dev` does).
fn device(r: &mut Render<'_>, mode: Mode, dev: Hex32) {
    if matches!(mode.get() & 0o170000, 0o020000 | 0o060000) {
        let d = u64::from(dev.get());
        r.text(&structs::makedev(
            (d & 0xfff00) >> 8,
            (d & 0xff) | ((d >> 12) & 0xfff00),
        ));
    }
}

impl Custom for Mknod {
    fn render_args(&self, r: &mut Render<'_>) {
        r.arg(0, self.pathname);
        r.arg(1, self.mode);
        device(r, self.mode, self.dev);
    }
}

impl Custom for Mknodat {
    fn render_args(&self, r: &mut Render<'_>) {
        r.arg(0, self.dirfd);
        r.arg(1, self.pathname);
        r.arg(2, self.mode);
        device(r, self.mode, self.dev);
    }
}
