//! Process and identity calls: clone/fork/vfork/clone3, execve, exit_group, wait4/waitid,
//! kill/tgkill, rt_sigaction, prctl, uname, affinity and CPU queries (signals taken
//! synchronously are in [`super::signal`]).
//!
//! With the scenario's PID namespace the kernel already hands out virtual pids
//! (deterministic: allocation is sequential and the scenario is serialized), so ids pass
//! through unchanged; the engine follows the new threads at their ptrace events
//! (`engine::process`).

use super::{Blocked, Out, Post, Res};
use crate::engine::{Engine, Vtid};
use crate::errno::Errno;
use crate::sys;

const CLONE_VFORK: u64 = libc::CLONE_VFORK as u64;

/// `clone`: strip `CLONE_VFORK` (the engine parks the parent instead, so the tracer never
/// waits on a thread the kernel holds).
pub fn clone(e: &mut Engine, tid: Vtid, mut a: [u64; 6]) -> Res {
    if a[0] & super::contain::CLONE_NEW_ANY != 0 {
        return super::contain::refuse(e, libc::SYS_clone as u32, "namespaces are not modelled");
    }
    let t = e.threads.get_mut(&tid).expect("thread");
    t.vfork = a[0] & CLONE_VFORK != 0;
    t.clone3 = None;
    if t.vfork {
        a[0] &= !CLONE_VFORK;
        t.cur.1 = a;
        return Ok(Out::Rewrite {
            nr: libc::SYS_clone,
            args: a,
            post: None,
        });
    }
    Ok(Out::Pass)
}

/// `fork`.
pub fn fork(e: &mut Engine, tid: Vtid) -> Res {
    let t = e.threads.get_mut(&tid).expect("thread");
    t.vfork = false;
    t.clone3 = None;
    Ok(Out::Pass)
}

/// `vfork` becomes `clone(CLONE_VM | SIGCHLD)`: the child shares memory and stack as
/// with vfork, and the engine keeps the parent parked until the child execs or exits.
pub fn vfork(e: &mut Engine, tid: Vtid) -> Res {
    let t = e.threads.get_mut(&tid).expect("thread");
    t.vfork = true;
    t.clone3 = None;
    let args = [(libc::CLONE_VM | libc::SIGCHLD) as u64, 0, 0, 0, 0, 0];
    t.cur = (libc::SYS_clone as u32, args);
    Ok(Out::Rewrite {
        nr: libc::SYS_clone,
        args,
        post: None,
    })
}

/// `clone3`: read `struct clone_args`, strip `CLONE_VFORK` in place, remember the flags
/// and the child-tid pointer for the engine.
pub fn clone3(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    if a[1] < 64 {
        return Err(Errno::EINVAL);
    }
    let mut cl: [u64; 8] = e.read_val(tid, a[0])?;
    let (flags, child_tid) = (cl[0], cl[2]);
    // CLONE_INTO_CGROUP would move the child into a cgroup of the host.
    if flags & (super::contain::CLONE_NEW_ANY | 0x2_0000_0000) != 0 {
        return super::contain::refuse(
            e,
            libc::SYS_clone3 as u32,
            "namespaces and cgroups are not modelled",
        );
    }
    let vfork = flags & CLONE_VFORK != 0;
    if vfork {
        cl[0] &= !CLONE_VFORK;
        e.write_val(tid, a[0], &cl)?;
    }
    let t = e.threads.get_mut(&tid).expect("thread");
    t.vfork = vfork;
    t.clone3 = Some((cl[0], child_tid));
    Ok(Out::Pass)
}

/// `execve`: the kernel runs it; a failure shows at its exit (success shows as
/// `PTRACE_EVENT_EXEC` first, which drops this action).
pub fn execve(_e: &mut Engine, _tid: Vtid) -> Res {
    Ok(Out::PassThen(Post::new(move |e, tid, ret| {
        let t = e.threads.get_mut(&tid).expect("thread");
        if t.initial_exec && ret < 0 {
            t.initial_exec = false;
            let pid = t.pid;
            let why = format!("execve failed with {}", Errno(ret.saturating_neg() as i32));
            if let Some(r) = e.procs[&pid].report {
                e.reports[r].status = crate::report::Status::NotStarted(why);
            }
        }
        None
    })))
}

/// `exit_group`: the whole process goes.
pub fn exit_group(e: &mut Engine, tid: Vtid) -> Res {
    let pid = e.threads[&tid].pid;
    e.procs.get_mut(&pid).expect("process").exiting = true;
    Ok(Out::Pass)
}

/// The children of `pid` that `wait4(which)` may report: (any exists, one is a zombie).
fn children(e: &Engine, pid: Vtid, which: Which) -> (bool, bool) {
    let mut any = false;
    let mut zombie = false;
    for c in e.procs.values().filter(|c| c.ppid == pid && !c.reaped) {
        let wanted = match which {
            Which::Any => true,
            Which::Pid(p) => c.vpid == p,
            Which::Group(g) => sys::procfs::ns_pgid(c.real) == Some(g),
        };
        if wanted {
            any = true;
            zombie |= c.status.is_some();
        }
    }
    (any, zombie)
}

/// The children a wait is for.
#[derive(Debug, Clone, Copy)]
enum Which {
    /// Any child.
    Any,
    /// The child with this pid.
    Pid(Vtid),
    /// The children in this process group.
    Group(i32),
}

impl Which {
    /// `wait4`'s `pid`: `> 0` that child, `-1` any, `0` the caller's group (`pid`),
    /// `< -1` group `-which`.
    fn of_wait4(e: &Engine, pid: Vtid, which: i32) -> Which {
        match which {
            w if w > 0 => Which::Pid(w),
            -1 => Which::Any,
            0 => Which::Group(my_group(e, pid)),
            w => Which::Group(w.saturating_neg()),
        }
    }
}

/// The process group of process `pid` (as its PID namespace numbers it).
fn my_group(e: &Engine, pid: Vtid) -> i32 {
    sys::procfs::ns_pgid(e.procs[&pid].real).unwrap_or(pid)
}

/// `wait4`: passes to the kernel once a matching child has exited (the kernel then
/// reaps it at once); parks the caller until then.
pub fn wait4(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    let pid = e.threads[&tid].pid;
    let which = a[0] as i32;
    let options = a[2] as i32;
    // `kernel_wait4`'s checks, before it looks for children.
    const WAIT4_OPTIONS: i32 = libc::WNOHANG
        | libc::WUNTRACED
        | libc::WCONTINUED
        | libc::__WNOTHREAD
        | libc::__WCLONE
        | libc::__WALL;
    if options & !WAIT4_OPTIONS != 0 {
        return Err(Errno::EINVAL);
    }
    if which == i32::MIN {
        return Err(Errno::ESRCH); // -INT_MIN is not a process group
    }
    let (any, zombie) = children(e, pid, Which::of_wait4(e, pid, which));
    if !any {
        return Err(Errno::ECHILD);
    }
    if zombie {
        let ru = a[3];
        return Ok(Out::PassThen(Post::new(move |e, tid, ret| {
            if ret > 0 {
                if let Some(cpu) = reap(e, tid, ret as Vtid) {
                    if ru != 0 {
                        // The kernel's figures are the host's: the model's instead.
                        let _ = e.write_val(tid, ru, &super::time::rusage(cpu));
                    }
                }
            }
            None
        })));
    }
    if options & libc::WNOHANG != 0 {
        return Ok(Out::Return(0));
    }
    Ok(Out::Block(Blocked {
        child: true,
        ..Blocked::new("a child to exit")
    }))
}

/// Thread `tid`'s process reaped its child `child`: the child's CPU time (with its own
/// reaped children's) counts as the parent's children's, and the child is forgotten.
/// Returns that CPU time (`None`: no such child).
fn reap(e: &mut Engine, tid: Vtid, child: Vtid) -> Option<crate::engine::cpu::CpuTime> {
    let c = e.procs.get_mut(&child)?;
    c.reaped = true;
    let cpu = c.cpu.plus(c.cpu_children);
    let own = (c.vpid, c.real, c.cpu);
    if e.reaped_cpu.len() >= 256 {
        e.reaped_cpu.pop_front();
    }
    e.reaped_cpu.push_back(own);
    let pid = e.threads[&tid].pid;
    if let Some(p) = e.procs.get_mut(&pid) {
        p.cpu_children = p.cpu_children.plus(cpu);
    }
    e.procs.retain(|_, p| !(p.reaped && p.status.is_some()));
    Some(cpu)
}

/// A `waitid` that reported a child: reaps it unless `WNOWAIT`, and puts the model's CPU
/// times in the `rusage` (Linux's `waitid` leaves `si_utime` and `si_stime` unwritten).
fn waitid_done(e: &mut Engine, tid: Vtid, infop: u64, ru: u64, nowait: bool) {
    let Ok(info) = e.read_val::<libc::siginfo_t>(tid, infop) else {
        return;
    };
    // si_pid is at offset 16 of siginfo_t for SIGCHLD.
    let bytes = sys::pod_bytes(&info);
    let child = i32::from_le_bytes(bytes[16..20].try_into().expect("4 bytes"));
    let cpu = if nowait {
        e.procs.get(&child).map(|c| c.cpu.plus(c.cpu_children))
    } else {
        reap(e, tid, child)
    };
    let Some(cpu) = cpu else { return };
    if ru != 0 {
        let _ = e.write_val(tid, ru, &super::time::rusage(cpu));
    }
}

/// `waitid`: as `wait4` (P_PID / P_ALL; `WNOWAIT` leaves the child waitable).
pub fn waitid(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    let pid = e.threads[&tid].pid;
    let options = a[3] as i32;
    let upid = a[1] as i32;
    // `kernel_waitid`'s checks, in its order, before it looks for children.
    const WAITID_OPTIONS: i32 = libc::WNOHANG
        | libc::WNOWAIT
        | libc::WEXITED
        | libc::WSTOPPED
        | libc::WCONTINUED
        | libc::__WNOTHREAD
        | libc::__WCLONE
        | libc::__WALL;
    if options & !WAITID_OPTIONS != 0
        || options & (libc::WEXITED | libc::WSTOPPED | libc::WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    let which = match a[0] as u32 {
        libc::P_ALL => Which::Any,
        libc::P_PID if upid <= 0 => return Err(Errno::EINVAL),
        libc::P_PID => Which::Pid(upid),
        libc::P_PGID if upid < 0 => return Err(Errno::EINVAL),
        libc::P_PGID if upid == 0 => Which::Group(my_group(e, pid)),
        libc::P_PGID => Which::Group(upid),
        libc::P_PIDFD if upid < 0 => return Err(Errno::EINVAL),
        libc::P_PIDFD => {
            // takt hands out no pidfds (`pidfd_open` is refused), so no fd is one.
            let open = super::io::lookup(e, tid, upid as u64).is_some()
                || sys::procfs::has_fd(e.procs[&pid].real, upid);
            return Err(if open { Errno::EINVAL } else { Errno::EBADF });
        }
        _ => return Err(Errno::EINVAL),
    };
    let (any, zombie) = children(e, pid, which);
    if !any {
        return Err(Errno::ECHILD);
    }
    if zombie {
        let nowait = options & libc::WNOWAIT != 0;
        let (infop, ru) = (a[2], a[4]);
        return Ok(Out::PassThen(Post::new(move |e, tid, ret| {
            if ret == 0 && infop != 0 {
                waitid_done(e, tid, infop, ru, nowait);
            }
            None
        })));
    }
    if options & libc::WNOHANG != 0 {
        if a[2] != 0 {
            e.write_mem(tid, a[2], &[0u8; std::mem::size_of::<libc::siginfo_t>()])?;
        }
        return Ok(Out::Return(0));
    }
    Ok(Out::Block(Blocked {
        child: true,
        ..Blocked::new("a child to exit")
    }))
}

/// `kill`: a process-directed signal becomes `tgkill` to the thread Linux would pick,
/// so the engine knows which parked thread to interrupt; when every thread blocks it,
/// it stays process-directed.
pub fn kill(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    let (target, sig) = (a[0] as i32, a[1] as i32);
    if !e.pid_namespace() && (sig == 0 || target <= 0) {
        // Pids are the host's: never let the kernel resolve one (kill(-1) would reach
        // every process of the host).
        return kill_in_scenario(e, tid, target, sig);
    }
    if sig == 0 || target <= 0 {
        // Probes and process groups: the kernel delivers; wake any parked receivers.
        return Ok(Out::PassThen(Post::new(move |e, tid, ret| {
            if ret == 0 && sig != 0 {
                let me = e.threads[&tid].pid;
                let pids: Vec<Vtid> = match target {
                    -1 => e.procs.keys().copied().filter(|&p| p != me).collect(),
                    _ => e.procs.keys().copied().collect(),
                };
                for p in pids {
                    e.signal_arrived(p, sig, None);
                }
            }
            None
        })));
    }
    if !e.procs.contains_key(&target) {
        return Err(Errno::ESRCH);
    }
    let Some(thread) = e.wanting_thread(target, sig) else {
        // Every thread blocks it (or none is left): it stays pending for the process,
        // where any thread may take it later (signalfd, sigtimedwait, an unblock).
        return Ok(Out::PassThen(Post::new(move |e, _, ret| {
            if ret == 0 {
                e.signal_arrived(target, sig, None);
            }
            None
        })));
    };
    let args = [target as u64, thread as u64, sig as u64, 0, 0, 0];
    e.threads.get_mut(&tid).expect("thread").cur.1 = args;
    Ok(Out::Rewrite {
        nr: libc::SYS_tgkill,
        args,
        post: Some(Post::new(move |e, _, ret| {
            if ret == 0 {
                e.signal_arrived(target, sig, Some(thread));
            }
            None
        })),
    })
}

/// `tgkill`/`tkill` (`tgid == -1`).
pub fn tgkill(e: &mut Engine, _tid: Vtid, tgid: i32, target: i32, sig: i32) -> Res {
    if !e.pid_namespace() {
        // Host tids: only the scenario's own threads may be named.
        match e.threads.get(&target) {
            Some(t) if tgid == -1 || tgid == t.pid => {}
            _ => {
                return Err(if target <= 0 || tgid == 0 || tgid < -1 {
                    Errno::EINVAL
                } else {
                    Errno::ESRCH
                })
            }
        }
    }
    Ok(Out::PassThen(Post::new(move |e, _, ret| {
        if ret == 0 && sig != 0 {
            if let Some(pid) = e.threads.get(&target).map(|t| t.pid) {
                if tgid == -1 || tgid == pid {
                    e.signal_arrived(pid, sig, Some(target));
                }
            }
        }
        None
    })))
}

/// `kill` without a PID namespace, for probes and process groups: resolved among the
/// scenario's processes only (`-1`: all but the caller; `0`: the caller's group; `-g`:
/// group `g`), each signalled by its real pid.
fn kill_in_scenario(e: &mut Engine, tid: Vtid, target: i32, sig: i32) -> Res {
    if !(0..=64).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let me = e.threads[&tid].pid;
    let my_group = sys::getpgid(e.procs[&me].real);
    let targets: Vec<Vtid> = e
        .procs
        .values()
        .filter(|p| p.status.is_none())
        .filter(|p| match target {
            -1 => p.vpid != me,
            0 => sys::getpgid(p.real) == my_group,
            t if t < 0 => sys::getpgid(p.real) == Some(t.saturating_neg()),
            t => p.vpid == t,
        })
        .map(|p| p.vpid)
        .collect();
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    if sig != 0 {
        for p in targets {
            let _ = sys::kill(e.procs[&p].real, sig);
            e.signal_arrived(p, sig, None);
        }
    }
    Ok(Out::Return(0))
}

/// `rt_sigqueueinfo(tgid, sig, info)` (`sigqueue`): as `kill`, a process-directed
/// signal goes to the thread that takes it (`rt_tgsigqueueinfo`), or stays with the
/// process when every thread blocks it. The kernel checks `info`.
pub fn rt_sigqueueinfo(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    let (target, sig) = (a[0] as i32, a[1] as i32);
    if !e.pid_namespace() && !e.procs.contains_key(&target) {
        return Err(Errno::ESRCH); // host pids stay out of reach
    }
    let thread = match e.procs.contains_key(&target) && sig != 0 {
        true => e.wanting_thread(target, sig),
        false => None,
    };
    let Some(thread) = thread else {
        return Ok(Out::PassThen(Post::new(move |e, _, ret| {
            if ret == 0 && sig != 0 {
                e.signal_arrived(target, sig, None);
            }
            None
        })));
    };
    let args = [target as u64, thread as u64, sig as u64, a[2], 0, 0];
    e.threads.get_mut(&tid).expect("thread").cur.1 = args;
    Ok(Out::Rewrite {
        nr: libc::SYS_rt_tgsigqueueinfo,
        args,
        post: Some(Post::new(move |e, _, ret| {
            if ret == 0 {
                e.signal_arrived(target, sig, Some(thread));
            }
            None
        })),
    })
}

/// `rt_sigaction`: the kernel installs it; the engine records the disposition (to know
/// whether a signal interrupts a parked call, restarts it, or kills).
pub fn rt_sigaction(e: &mut Engine, tid: Vtid, a: [u64; 6]) -> Res {
    let sig = a[0] as usize;
    if a[1] != 0 && (1..=64).contains(&sig) {
        let act: [u64; 2] = e.read_val(tid, a[1])?;
        let pid = e.threads[&tid].pid;
        e.procs.get_mut(&pid).expect("process").sig[sig] =
            crate::engine::process_disposition(act[0], act[1]);
    }
    Ok(Out::Pass)
}

/// `set_tid_address`: remember the pointer (woken as a futex at thread exit).
pub fn set_tid_address(e: &mut Engine, tid: Vtid, addr: u64) -> Res {
    e.threads.get_mut(&tid).expect("thread").clear_tid = addr;
    Ok(Out::Pass)
}

/// `prctl`: passed through, except what would undo takt's setup.
pub fn prctl(_e: &mut Engine, _tid: Vtid, a: [u64; 6]) -> Res {
    match a[0] as i32 {
        libc::PR_SET_TSC | libc::PR_SET_SECCOMP | libc::PR_SET_PTRACER => Err(Errno::EPERM),
        libc::PR_GET_TSC => Err(Errno::EINVAL),
        _ => Ok(Out::Pass),
    }
}

/// `uname`: the host's, with the node's name.
pub fn uname(e: &mut Engine, tid: Vtid, buf: u64) -> Res {
    let mut u = sys::host_uname();
    let uts = &e.uts[e.procs[&e.threads[&tid].pid].node];
    u.nodename = [0; 65];
    for (i, &b) in uts.hostname.iter().take(64).enumerate() {
        u.nodename[i] = b as libc::c_char;
    }
    u.domainname = [0; 65];
    for (i, &b) in uts.domainname.iter().take(64).enumerate() {
        u.domainname[i] = b as libc::c_char;
    }
    e.write_val(tid, buf, &u)?;
    Ok(Out::Return(0))
}

/// `sched_getaffinity`: CPUs 0..n of the virtual machine.
pub fn sched_getaffinity(e: &mut Engine, tid: Vtid, len: u64, mask: u64) -> Res {
    let n = e.cfg.cpus;
    let bytes = n.div_ceil(64).saturating_mul(8);
    if (len as usize) < bytes || len % 8 != 0 {
        return Err(Errno::EINVAL);
    }
    let mut m = vec![0u8; bytes];
    for c in 0..n {
        m[c / 8] |= 1 << (c % 8);
    }
    e.write_mem(tid, mask, &m)?;
    Ok(Out::Return(bytes as i64))
}

/// `getcpu`: always CPU 0, NUMA node 0.
pub fn getcpu(e: &mut Engine, tid: Vtid, cpu: u64, node: u64) -> Res {
    for p in [cpu, node] {
        if p != 0 {
            e.write_val(tid, p, &0u32)?;
        }
    }
    Ok(Out::Return(0))
}
