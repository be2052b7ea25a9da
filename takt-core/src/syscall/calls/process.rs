//! Typed process calls: identity, creation (`clone`, `fork`, `execve`), exit and wait,
//! limits, scheduling, `prctl`, the host name, namespaces.

use crate::syscall::arg::*;
use crate::syscall::capture::{Capturer, Slot};
use crate::syscall::decl::{calls, Call, Custom};
use crate::syscall::enums::*;
use crate::syscall::flags::*;
use crate::syscall::render::Render;

calls! {
    /// `getpid()`
    Getpid = getpid();
    /// `gettid()`
    Gettid = gettid();
    /// `getppid()`
    Getppid = getppid();
    /// `getuid()`
    Getuid = getuid();
    /// `getgid()`
    Getgid = getgid();
    /// `geteuid()`
    Geteuid = geteuid();
    /// `getegid()`
    Getegid = getegid();
    /// `getresuid(ruid, euid, suid)`
    Getresuid = getresuid(ruid: UserPtr, euid: UserPtr, suid: UserPtr);
    /// `getresgid(rgid, egid, sgid)`
    Getresgid = getresgid(rgid: UserPtr, egid: UserPtr, sgid: UserPtr);
    /// `getgroups(size, list)`
    Getgroups = getgroups(size: Int, list: UserPtr);
    /// `setgroups(size, list)`
    Setgroups = setgroups(size: Int, list: UserPtr);
    /// `getpgrp()`
    Getpgrp = getpgrp();
    /// `setpgid(pid, pgid)`
    Setpgid = setpgid(pid: Pid, pgid: Pid);
    /// `getpgid(pid)`
    Getpgid = getpgid(pid: Pid);
    /// `setsid()`
    Setsid = setsid();
    /// `getsid(pid)`
    Getsid = getsid(pid: Pid);
    /// `setuid(uid)`
    Setuid = setuid(uid: Uid);
    /// `setgid(gid)`
    Setgid = setgid(gid: Uid);
    /// `setreuid(ruid, euid)`
    Setreuid = setreuid(ruid: Uid, euid: Uid);
    /// `setregid(rgid, egid)`
    Setregid = setregid(rgid: Uid, egid: Uid);
    /// `setresuid(ruid, euid, suid)`
    Setresuid = setresuid(ruid: Uid, euid: Uid, suid: Uid);
    /// `setresgid(rgid, egid, sgid)`
    Setresgid = setresgid(rgid: Uid, egid: Uid, sgid: Uid);
    /// `capget(hdrp, datap)`
    Capget = capget(hdrp: UserPtr, datap: UserPtr);
    /// `capset(hdrp, datap)`
    Capset = capset(hdrp: UserPtr, datap: UserPtr);
    /// `getrlimit(resource, rlim)`
    Getrlimit = getrlimit(resource: Resource, rlim: UserPtr);
    /// `setrlimit(resource, rlim)`
    Setrlimit = setrlimit(resource: Resource, rlim: UserPtr);
    /// `prlimit64(pid, resource, new_limit, old_limit)`
    Prlimit64 = prlimit64(pid: Pid, resource: Resource, new_limit: UserPtr, old_limit: UserPtr);

    /// `set_tid_address(tidptr)`
    SetTidAddress = set_tid_address(tidptr: UserPtr);
    /// `clone(flags, stack, parent_tid, child_tid, tls)` (x86-64 order)
    Clone = clone(flags: CloneFlags, stack: UserPtr, parent_tid: UserPtr, child_tid: UserPtr, tls: Hex) custom;
    /// `clone3(cl_args, size)`
    Clone3 = clone3(cl_args: CloneArgsPtr, size: u64);
    /// `fork()`
    Fork = fork();
    /// `vfork()`
    Vfork = vfork();
    /// `execve(pathname, argv, envp)`
    Execve = execve(pathname: PathPtr, argv: ArgvPtr, envp: EnvpPtr);
    /// `execveat(dirfd, pathname, argv, envp, flags)`
    Execveat = execveat(dirfd: DirFd, pathname: PathPtr, argv: ArgvPtr, envp: EnvpPtr, flags: AtFlags);
    /// `exit(status)`
    Exit = exit(status: Int);
    /// `exit_group(status)`
    ExitGroup = exit_group(status: Int);
    /// `wait4(pid, wstatus, options, rusage)`
    Wait4 = wait4(pid: Pid, wstatus: WstatusPtr, options: WaitOptions, rusage: UserPtr);
    /// `waitid(idtype, id, infop, options, rusage)`
    Waitid = waitid(idtype: IdType, id: Int, infop: UserPtr, options: WaitidOptions, rusage: UserPtr);

    /// `uname(buf)`
    Uname = uname(buf: UtsnamePtr);
    /// `sethostname(name, len)`
    Sethostname = sethostname(name: InBuf, len: Int);
    /// `setdomainname(name, len)`
    Setdomainname = setdomainname(name: InBuf, len: Int);
    /// `personality(persona)`
    Personality = personality(persona: Hex32);
    /// `prctl(option, arg2, arg3, arg4, arg5)`: the arguments' meaning depends on the option.
    Prctl = prctl(option: PrctlOption, arg2: Hex, arg3: Hex, arg4: Hex, arg5: Hex) custom;
    /// `arch_prctl(code, addr)`
    ArchPrctl = arch_prctl(code: ArchPrctlCode, addr: UserPtr);
    /// `unshare(flags)`
    Unshare = unshare(flags: UnshareFlags);
    /// `setns(fd, nstype)`
    Setns = setns(fd: Fd, nstype: UnshareFlags);

    /// `sched_yield()`
    SchedYield = sched_yield();
    /// `sched_getaffinity(pid, cpusetsize, mask)`
    SchedGetaffinity = sched_getaffinity(pid: Pid, cpusetsize: UInt, mask: UserPtr);
    /// `sched_setaffinity(pid, cpusetsize, mask)`
    SchedSetaffinity = sched_setaffinity(pid: Pid, cpusetsize: UInt, mask: UserPtr);
    /// `sched_getparam(pid, param)`
    SchedGetparam = sched_getparam(pid: Pid, param: UserPtr);
    /// `sched_setparam(pid, param)`
    SchedSetparam = sched_setparam(pid: Pid, param: UserPtr);
    /// `sched_getscheduler(pid)`
    SchedGetscheduler = sched_getscheduler(pid: Pid);
    /// `sched_setscheduler(pid, policy, param)`
    SchedSetscheduler = sched_setscheduler(pid: Pid, policy: SchedPolicy, param: UserPtr);
    /// `sched_get_priority_max(policy)`
    SchedGetPriorityMax = sched_get_priority_max(policy: SchedPolicy);
    /// `sched_get_priority_min(policy)`
    SchedGetPriorityMin = sched_get_priority_min(policy: SchedPolicy);
    /// `sched_setattr(pid, attr, flags)`
    SchedSetattr = sched_setattr(pid: Pid, attr: UserPtr, flags: UInt);
    /// `sched_getattr(pid, attr, size, flags)`
    SchedGetattr = sched_getattr(pid: Pid, attr: UserPtr, size: UInt, flags: UInt);
    /// `getcpu(cpu, node, tcache)`
    Getcpu = getcpu(cpu: UserPtr, node: UserPtr, tcache: UserPtr);
    /// `getpriority(which, who)`
    Getpriority = getpriority(which: PrioWhich, who: Int);
    /// `setpriority(which, who, prio)`
    Setpriority = setpriority(which: PrioWhich, who: Int, prio: Int);
    /// `ioprio_get(which, who)`
    IoprioGet = ioprio_get(which: Int, who: Int);
    /// `ioprio_set(which, who, ioprio)`
    IoprioSet = ioprio_set(which: Int, who: Int, ioprio: Int);
}

impl Custom for Clone {
    /// strace's form: `clone(child_stack=NULL, flags=…|SIGCHLD, child_tidptr=0x…)`, the
    /// thread ids and TLS only when the flags use them.
    fn render_args(&self, r: &mut Render<'_>) {
        let f = self.flags;
        r.named("child_stack", 1, self.stack);
        r.named("flags", 0, f);
        if f.contains(CloneFlags::CLONE_PARENT_SETTID) {
            r.sep();
            r.raw("parent_tid=");
            match r.piece(Slot::arg(2)).map(|p| p.bytes) {
                Some(&[a, b, c, d]) => r.raw(&format!("[{}]", i32::from_le_bytes([a, b, c, d]))),
                _ => self.parent_tid.render(r, 2),
            }
        }
        if f.contains(CloneFlags::CLONE_SETTLS) {
            r.named("tls", 4, self.tls);
        }
        if f.get() & (CloneFlags::CLONE_CHILD_SETTID | CloneFlags::CLONE_CHILD_CLEARTID) != 0 {
            r.named("child_tidptr", 3, self.child_tid);
        }
    }

    fn capture(&self, c: &mut Capturer<'_>) {
        self.visit(c);
        if self.flags.contains(CloneFlags::CLONE_PARENT_SETTID)
            && c.succeeded().is_some()
            && !self.parent_tid.is_null()
        {
            c.take(Slot::arg(2), self.parent_tid.0, 4, 4);
        }
    }
}

impl Custom for Prctl {
    fn render_args(&self, r: &mut Render<'_>) {
        let o = self.option;
        r.arg(0, o);
        match o.get() {
            _ if o.takes_no_arg() => {}
            PrctlOption::PR_SET_NAME | PrctlOption::PR_GET_NAME => {
                r.sep();
                match r.piece(Slot::arg(1)) {
                    Some(p) => crate::syscall::render::write_quoted(
                        &mut r.out,
                        p.bytes,
                        p.truncated,
                        false,
                    ),
                    None => crate::syscall::arg::write_ptr(&mut r.out, self.arg2.get()),
                }
            }
            PrctlOption::PR_SET_PDEATHSIG => r.arg(1, Signal::from_raw(self.arg2.raw())),
            PrctlOption::PR_SET_NO_NEW_PRIVS => {
                r.arg(1, self.arg2.get());
                r.arg(2, self.arg3.get());
                r.arg(3, self.arg4.get());
                r.arg(4, self.arg5.get());
            }
            PrctlOption::PR_SET_DUMPABLE
            | PrctlOption::PR_SET_KEEPCAPS
            | PrctlOption::PR_SET_CHILD_SUBREAPER
            | PrctlOption::PR_SET_TIMERSLACK
            | PrctlOption::PR_SET_THP_DISABLE
            | PrctlOption::PR_SET_TSC
            | PrctlOption::PR_CAPBSET_READ
            | PrctlOption::PR_CAPBSET_DROP => r.arg(1, self.arg2.get()),
            _ => {
                r.arg(1, self.arg2);
                r.arg(2, self.arg3);
                r.arg(3, self.arg4);
                r.arg(4, self.arg5);
            }
        }
    }

    fn capture(&self, c: &mut Capturer<'_>) {
        let name = self.arg2.get();
        if name == 0 {
            return;
        }
        // The thread name: at most 16 bytes with its NUL.
        match self.option.get() {
            PrctlOption::PR_SET_NAME if c.at_entry() => c.take_cstr(Slot::arg(1), name, 16),
            PrctlOption::PR_GET_NAME if c.succeeded().is_some() => {
                c.take_cstr(Slot::arg(1), name, 16)
            }
            _ => {}
        }
    }
}
