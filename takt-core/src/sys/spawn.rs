//! Spawning a traced child: fork, then (allocation-free, in the child) stdio on
//! `/dev/null`, working directory, `ADDR_NO_RANDOMIZE`, `PR_SET_TSC` (so `rdtsc` traps),
//! CPU pinning, `PTRACE_TRACEME`, `SIGSTOP`, `PR_SET_NO_NEW_PRIVS`, the seccomp filter,
//! `execve`. Everything the child needs is prepared before the fork.

use super::seccomp::Insn;
use super::{wait, RealTid, Stop, StopReason, Stopped};
use crate::Error;
use nix::errno::Errno as NixErrno;
use std::ffi::CString;

/// Everything the child needs, prepared (and allocated) before the fork.
#[derive(Debug)]
pub struct SpawnPlan {
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    cwd: CString,
    filter: Vec<Insn>,
    cpu: usize,
}

impl SpawnPlan {
    /// A plan to run `path` with `argv` (argv\[0\] included) and `env` in `cwd`.
    pub fn new(
        path: &str,
        argv: &[String],
        env: &[(String, String)],
        cwd: &str,
        filter: Vec<Insn>,
        cpu: usize,
    ) -> Result<SpawnPlan, Error> {
        let c =
            |s: &str| CString::new(s).map_err(|_| Error::BadInput(format!("NUL byte in {s:?}")));
        Ok(SpawnPlan {
            path: c(path)?,
            argv: argv.iter().map(|a| c(a)).collect::<Result<_, _>>()?,
            envp: env
                .iter()
                .map(|(k, v)| c(&format!("{k}={v}")))
                .collect::<Result<_, _>>()?,
            cwd: c(cwd)?,
            filter,
            cpu,
        })
    }

    /// Forks the child and waits for its initial stop; returns it stopped, with the
    /// ptrace options set. Its next stop is the seccomp stop of its `execve`.
    pub fn spawn(&self) -> Result<Stopped, Error> {
        let argv: Vec<*const libc::c_char> = self
            .argv
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        let envp: Vec<*const libc::c_char> = self
            .envp
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        let prog = libc::sock_fprog {
            len: self.filter.len() as u16,
            filter: self.filter.as_ptr() as *mut _,
        };
        // SAFETY: an all-zero cpu_set_t is a valid empty set.
        let mut cpus: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: CPU_SET writes within the set (cpu < CPU_SETSIZE is checked by the caller).
        unsafe { libc::CPU_SET(self.cpu, &mut cpus) };
        let devnull = c"/dev/null";

        // SAFETY: a raw clone without CLONE_VM is a fork. The child only makes
        // async-signal-safe calls on data prepared above and ends in execve or _exit.
        let pid = unsafe {
            libc::syscall(
                libc::SYS_clone,
                libc::SIGCHLD as libc::c_ulong,
                0usize,
                0usize,
                0usize,
                0usize,
            )
        };
        let pid = NixErrno::result(pid).map_err(|e| Error::Sys {
            op: "fork",
            errno: e as i32,
        })? as RealTid;
        if pid == 0 {
            // SAFETY: in the child; see `child`.
            unsafe {
                child(
                    &self.path,
                    &argv,
                    &envp,
                    &self.cwd,
                    devnull.as_ptr(),
                    &prog,
                    &cpus,
                )
            }
        }
        match wait(super::Running(pid))? {
            Stop::Stopped(s, StopReason::Signal(libc::SIGSTOP)) => {
                s.set_options()?;
                Ok(s)
            }
            Stop::Exited(_, code) => Err(Error::Spawn {
                program: self.path.to_string_lossy().into_owned(),
                why: match code {
                    124 => "could not change to the node's working directory".into(),
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
/// # Safety
/// Must only be called in a freshly forked child; all pointers must be valid
/// NUL-terminated strings / arrays prepared before the fork.
unsafe fn child(
    path: &CString,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    cwd: &CString,
    devnull: *const libc::c_char,
    prog: &libc::sock_fprog,
    cpus: &libc::cpu_set_t,
) -> ! {
    // SAFETY (whole block): only async-signal-safe system calls on memory prepared by the
    // parent before fork; no allocation, no locks.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        let fd = libc::open(devnull, libc::O_RDWR);
        if fd >= 0 {
            libc::dup2(fd, 0);
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
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
        if libc::chdir(cwd.as_ptr()) != 0 {
            libc::_exit(124);
        }
        libc::personality(libc::ADDR_NO_RANDOMIZE as libc::c_ulong);
        libc::prctl(libc::PR_SET_TSC, libc::PR_TSC_SIGSEGV);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), cpus);
        if libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) != 0 {
            libc::_exit(123);
        }
        libc::raise(libc::SIGSTOP);
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            prog as *const libc::sock_fprog,
        ) != 0
        {
            libc::_exit(122);
        }
        libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
        libc::_exit(127)
    }
}
