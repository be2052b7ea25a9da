//! Spawning a traced child: fork, then (allocation-free, in the child) stdio on
//! `/dev/null`, the node's mount namespace, working directory, `ADDR_NO_RANDOMIZE`, `PR_SET_TSC` (so `rdtsc` traps),
//! CPU pinning, `PTRACE_TRACEME`, `SIGSTOP`, `PR_SET_NO_NEW_PRIVS`, the seccomp filter,
//! `execve`. Everything the child needs is prepared before the fork.

use super::seccomp::Insn;
use super::{wait, RealTid, Stop, StopReason, Stopped};
use crate::Error;
use nix::errno::Errno as NixErrno;
use std::ffi::CString;

/// Everything the child needs, prepared (and allocated) before the clone, and kept
/// alive until the child has called `execve`: the child shares the tracer's memory
/// (`CLONE_VM`, as `posix_spawn` does), so nothing it reads may be freed before then.
/// Keep the plan (as the engine does) for as long as the scenario runs.
pub struct SpawnPlan {
    path: CString,
    _argv: Vec<CString>,
    _envp: Vec<CString>,
    _cwd: CString,
    _filter: Vec<Insn>,
    _notif_filter: Vec<Insn>,
    _argv_ptrs: Vec<*const libc::c_char>,
    _envp_ptrs: Vec<*const libc::c_char>,
    args: Box<ChildArgs>,
    stack: Vec<u8>,
}

impl std::fmt::Debug for SpawnPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpawnPlan")
            .field("path", &self.path)
            .finish()
    }
}

/// The seccomp filters a child may install.
#[derive(Debug, Clone)]
pub struct Filters {
    /// Every stop a ptrace stop.
    pub plain: Vec<Insn>,
    /// With notified calls; the child installs it with a listener if it can, else
    /// `plain`.
    pub notified: Option<Vec<Insn>>,
}

/// What the child reads, by pointer, from the shared memory.
struct ChildArgs {
    path: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    cwd: *const libc::c_char,
    prog: libc::sock_fprog,
    /// The filter with notified calls (`len` 0: none); on success the child stores its
    /// listener's fd number in `listener`, else it installs `prog`.
    notif_prog: libc::sock_fprog,
    listener: std::sync::atomic::AtomicI32,
    cpus: libc::cpu_set_t,
    /// The node's mount namespace to enter (`-1`: stay in the tracer's).
    mntns: libc::c_int,
}

/// The child's stack (it runs beside the tracer until `execve`).
const CHILD_STACK: usize = 64 * 1024;

impl SpawnPlan {
    /// A plan to run `path` with `argv` (argv\[0\] included) and `env` in `cwd`.
    pub fn new(
        path: &str,
        argv: &[String],
        env: &[(String, String)],
        cwd: &str,
        filters: Filters,
        cpu: usize,
        mntns: Option<std::os::fd::RawFd>,
    ) -> Result<SpawnPlan, Error> {
        let c =
            |s: &str| CString::new(s).map_err(|_| Error::BadInput(format!("NUL byte in {s:?}")));
        let path = c(path)?;
        let argv: Vec<CString> = argv.iter().map(|a| c(a)).collect::<Result<_, _>>()?;
        let envp: Vec<CString> = env
            .iter()
            .map(|(k, v)| c(&format!("{k}={v}")))
            .collect::<Result<_, _>>()?;
        let cwd = c(cwd)?;
        // The pointers stay valid while the plan lives: a CString's buffer does not move
        // when the CString value does.
        let ptrs = |v: &[CString]| -> Vec<*const libc::c_char> {
            v.iter()
                .map(|a| a.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect()
        };
        let argv_ptrs = ptrs(&argv);
        let envp_ptrs = ptrs(&envp);
        // SAFETY: an all-zero cpu_set_t is a valid empty set.
        let mut cpus: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: CPU_SET writes within the set (cpu < CPU_SETSIZE, from sched_getaffinity).
        unsafe { libc::CPU_SET(cpu, &mut cpus) };
        let Filters {
            plain: filter,
            notified: notif_filter,
        } = filters;
        let notif_filter = notif_filter.unwrap_or_default();
        let args = Box::new(ChildArgs {
            path: path.as_ptr(),
            argv: argv_ptrs.as_ptr(),
            envp: envp_ptrs.as_ptr(),
            cwd: cwd.as_ptr(),
            prog: libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut _,
            },
            notif_prog: libc::sock_fprog {
                len: notif_filter.len() as u16,
                filter: notif_filter.as_ptr() as *mut _,
            },
            listener: std::sync::atomic::AtomicI32::new(-1),
            cpus,
            mntns: mntns.unwrap_or(-1),
        });
        Ok(SpawnPlan {
            path,
            _argv: argv,
            _envp: envp,
            _cwd: cwd,
            _filter: filter,
            _notif_filter: notif_filter,
            _argv_ptrs: argv_ptrs,
            _envp_ptrs: envp_ptrs,
            args,
            stack: vec![0u8; CHILD_STACK],
        })
    }

    /// The child's listener fd number, once it has installed the filter with notified
    /// calls (it is the tracer's to copy until the child's `execve` closes it).
    pub fn listener_fd(&self) -> Option<std::os::fd::RawFd> {
        let fd = self
            .args
            .listener
            .load(std::sync::atomic::Ordering::Acquire);
        (fd >= 0).then_some(fd)
    }

    /// Starts the child and waits for its initial stop; returns it stopped, with the
    /// ptrace options set. Its next stop is the seccomp stop of its `execve`.
    ///
    /// The child is cloned with `CLONE_VM` on its own stack: no page tables are copied
    /// and no page of the tracer becomes copy-on-write (a fork would make every page of
    /// the test process copy-on-write, and each later write by any tracer thread would
    /// fault and flush the TLBs of the other CPUs).
    pub fn spawn(&mut self) -> Result<Stopped, Error> {
        let top = (self.stack.as_mut_ptr() as usize + self.stack.len()) & !15;
        let arg = &*self.args as *const ChildArgs as *mut libc::c_void;
        // SAFETY: glibc's clone runs `child` on the given stack (ours, kept alive with the
        // plan); with CLONE_VM it shares our memory, and `child` only reads `ChildArgs`
        // and makes system calls until execve or _exit.
        let pid = unsafe {
            libc::clone(
                child,
                top as *mut libc::c_void,
                libc::CLONE_VM | libc::SIGCHLD,
                arg,
            )
        };
        let pid = NixErrno::result(pid).map_err(|e| Error::Sys {
            op: "clone",
            errno: e as i32,
        })? as RealTid;
        match wait(super::Running(pid))? {
            Stop::Stopped(s, StopReason::Signal(libc::SIGSTOP)) => {
                s.set_options()?;
                Ok(s)
            }
            Stop::Exited(_, code) => Err(Error::Spawn {
                program: self.path.to_string_lossy().into_owned(),
                why: match code {
                    124 => "could not change to the node's working directory".into(),
                    121 => "could not enter the node's mount namespace".into(),
                    _ => format!("the child exited with {code} before exec"),
                },
            }),
            other => Err(Error::Spawn {
                program: self.path.to_string_lossy().into_owned(),
                why: format!("unexpected first stop {other:?}"),
            }),
        }
    }
}

/// The child side of [`SpawnPlan::spawn`]. Never returns.
///
/// It shares the tracer's memory and thread-local storage, so it calls nothing that
/// allocates or reads the calling thread's identity from TLS (glibc's `raise` would
/// signal the tracer thread): the stop is a raw `kill(getpid(), SIGSTOP)`.
extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: (the whole block) `arg` points to the plan's ChildArgs, alive until execve; only
    // system calls follow, on memory prepared by the parent; no allocation, no locks.
    unsafe {
        let a = &*(arg as *const ChildArgs);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd >= 0 {
            libc::dup2(fd, 0);
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
        }
        // The node's own filesystem view (before the fds above 2 are closed: the
        // namespace fd is one of them); root and working directory become its root.
        if a.mntns >= 0 && libc::setns(a.mntns, libc::CLONE_NEWNS) != 0 {
            libc::syscall(libc::SYS_exit_group, 121);
        }
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        // The test harness ignores SIGPIPE; a program started by a shell does not.
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = libc::SIG_DFL;
        for sig in 1..32 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
        let empty: libc::sigset_t = std::mem::zeroed();
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        // A process group of its own: signals meant for takt's group (a terminal's ^C,
        // `timeout`, `kill 0` from outside) do not reach the run, and a guest's
        // `kill(0, …)` does not reach takt.
        libc::setpgid(0, 0);
        if libc::chdir(a.cwd) != 0 {
            libc::syscall(libc::SYS_exit_group, 124);
        }
        libc::personality(libc::ADDR_NO_RANDOMIZE as libc::c_ulong);
        libc::prctl(libc::PR_SET_TSC, libc::PR_TSC_SIGSEGV);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &a.cpus);
        if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) != 0 {
            libc::syscall(libc::SYS_exit_group, 123);
        }
        let me = libc::syscall(libc::SYS_getpid);
        libc::syscall(libc::SYS_kill, me, libc::SIGSTOP);
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        let listener = if a.notif_prog.len > 0 {
            libc::syscall(
                libc::SYS_seccomp,
                1, // SECCOMP_SET_MODE_FILTER
                super::notif::FILTER_FLAGS,
                &a.notif_prog as *const libc::sock_fprog,
            )
        } else {
            -1
        };
        if listener >= 0 {
            a.listener
                .store(listener as i32, std::sync::atomic::Ordering::Release);
        } else if libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &a.prog as *const libc::sock_fprog,
        ) != 0
        {
            libc::syscall(libc::SYS_exit_group, 122);
        }
        libc::execve(a.path, a.argv, a.envp);
        libc::syscall(libc::SYS_exit_group, 127);
        0
    }
}
