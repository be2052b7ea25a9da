//! Typed calls that reach the host's kernel or other processes: modules, keyrings,
//! `bpf`, `ptrace`, I/O privileges, `io_uring`… takt refuses all of them; they are typed
//! so that the refusal is traced and printed like any other call.

use crate::syscall::arg::*;
use crate::syscall::decl::calls;

calls! {
    /// `reboot(magic, magic2, cmd, arg)`
    Reboot = reboot(magic: Hex32, magic2: Hex32, cmd: Hex32, arg: UserPtr);
    /// `kexec_load(entry, nr_segments, segments, flags)`
    KexecLoad = kexec_load(entry: Hex, nr_segments: u64, segments: UserPtr, flags: Hex);
    /// `kexec_file_load(kernel_fd, initrd_fd, cmdline_len, cmdline, flags)`
    KexecFileLoad = kexec_file_load(kernel_fd: Fd, initrd_fd: Fd, cmdline_len: u64, cmdline: UserPtr, flags: Hex);
    /// `init_module(module_image, len, param_values)`
    InitModule = init_module(module_image: UserPtr, len: u64, param_values: StrPtr);
    /// `finit_module(fd, param_values, flags)`
    FinitModule = finit_module(fd: Fd, param_values: StrPtr, flags: Hex32);
    /// `delete_module(name, flags)`
    DeleteModule = delete_module(name: StrPtr, flags: Hex32);
    /// `bpf(cmd, attr, size)`
    Bpf = bpf(cmd: Int, attr: UserPtr, size: UInt);
    /// `perf_event_open(attr, pid, cpu, group_fd, flags)`
    PerfEventOpen = perf_event_open(attr: UserPtr, pid: Pid, cpu: Int, group_fd: Fd, flags: Hex);
    /// `iopl(level)`
    Iopl = iopl(level: UInt);
    /// `ioperm(from, num, turn_on)`
    Ioperm = ioperm(from: Hex, num: u64, turn_on: Int);
    /// `syslog(type, buf, len)`
    Syslog = syslog(ty: Int, buf: UserPtr, len: Int);
    /// `vhangup()`
    Vhangup = vhangup();
    /// `lookup_dcookie(cookie, buffer, len)`
    LookupDcookie = lookup_dcookie(cookie: Hex, buffer: UserPtr, len: u64);
    /// `nfsservctl(cmd, argp, resp)` (removed from Linux; always `ENOSYS`)
    Nfsservctl = nfsservctl(cmd: Int, argp: UserPtr, resp: UserPtr);
    /// `ptrace(request, pid, addr, data)`
    Ptrace = ptrace(request: Int, pid: Pid, addr: UserPtr, data: UserPtr);
    /// `process_vm_readv(pid, local_iov, liovcnt, remote_iov, riovcnt, flags)`
    ProcessVmReadv = process_vm_readv(pid: Pid, local_iov: UserPtr, liovcnt: u64, remote_iov: UserPtr, riovcnt: u64, flags: Hex);
    /// `process_vm_writev(pid, local_iov, liovcnt, remote_iov, riovcnt, flags)`
    ProcessVmWritev = process_vm_writev(pid: Pid, local_iov: UserPtr, liovcnt: u64, remote_iov: UserPtr, riovcnt: u64, flags: Hex);
    /// `kcmp(pid1, pid2, type, idx1, idx2)`
    Kcmp = kcmp(pid1: Pid, pid2: Pid, ty: Int, idx1: u64, idx2: u64);
    /// `pidfd_getfd(pidfd, targetfd, flags)`
    PidfdGetfd = pidfd_getfd(pidfd: Fd, targetfd: Int, flags: Hex32);
    /// `keyctl(operation, arg2, arg3, arg4, arg5)`
    Keyctl = keyctl(operation: Int, arg2: Hex, arg3: Hex, arg4: Hex, arg5: Hex);
    /// `add_key(type, description, payload, plen, keyring)`
    AddKey = add_key(ty: StrPtr, description: StrPtr, payload: UserPtr, plen: u64, keyring: Int);
    /// `request_key(type, description, callout_info, dest_keyring)`
    RequestKey = request_key(ty: StrPtr, description: StrPtr, callout_info: StrPtr, dest_keyring: Int);
    /// `io_uring_setup(entries, p)`
    IoUringSetup = io_uring_setup(entries: UInt, p: UserPtr);
}
