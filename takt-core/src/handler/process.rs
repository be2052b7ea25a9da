//! Process and identity calls: clone/fork/vfork/clone3, execve, exit_group, wait4/waitid,
//! kill/tgkill, rt_sigaction, prctl, uname, affinity and CPU queries (signals taken
//! synchronously are in [`super::signal`]).
//!
//! With the scenario's PID namespace the kernel already hands out virtual pids
//! (deterministic: allocation is sequential and the scenario is serialized), so ids pass
//! through unchanged; the engine follows the new threads at their ptrace events
//! (`engine::process`).

use super::{Blocked, Out, Post, Res};
use crate::errno::Errno;
use crate::sys;
use crate::syscall::calls::{
    Clone, Clone3, Getcpu, Kill, Prctl, RtSigaction, RtSigqueueinfo, RtTgsigqueueinfo,
    SchedGetaffinity, SetTidAddress, Tgkill, Uname, Wait4, Waitid,
};
use crate::syscall::enums::Signal;
use crate::syscall::flags::CloneFlags;
use crate::syscall::Pid;
use crate::syscall::Syscall;
use crate::world::{JobChange, Vtid, World};

const CLONE_VFORK: u64 = libc::CLONE_VFORK as u64;

/// What a process call does at its exit.
pub(crate) enum Exit {
    /// `execve`: a failure of the scenario's first exec is the process's report.
    Exec,
    /// `wait4` of an exited child: the reaped child's CPU time goes to the model, and to
    /// `rusage` (0: none).
    Wait4Reaped {
        /// The `rusage` pointer.
        rusage: u64,
    },
    /// `waitid` of an exited child (see `waitid_done`).
    WaitidReported {
        /// The `siginfo_t` pointer.
        infop: u64,
        /// The `rusage` pointer.
        rusage: u64,
        /// `WNOWAIT`.
        nowait: bool,
    },
    /// `kill` of a process group (`None`: every process but the caller `me`), which the
    /// kernel delivered.
    GroupSignalled {
        /// The signal.
        sig: i32,
        /// The caller's process.
        me: Vtid,
        /// The group.
        group: Option<i32>,
    },
    /// A process-directed signal the kernel queued (`thread`: the thread it was
    /// directed to).
    Signalled {
        /// The process.
        target: Vtid,
        /// The signal (0: none sent).
        sig: i32,
        /// The thread, if the call was rewritten to name one.
        thread: Option<Vtid>,
    },
    /// `tgkill`/`tkill`/`rt_tgsigqueueinfo` (`tgid` -1: `tkill`).
    Tgkilled {
        /// The thread group named (-1: none).
        tgid: i32,
        /// The thread.
        target: Vtid,
        /// The signal.
        sig: i32,
    },
    /// `rt_sigaction` of signal `sig` with action `act` (its handler and flags); `oldact`:
    /// the call had an `oldact` pointer.
    Sigaction {
        /// The signal.
        sig: usize,
        /// `sa_handler` and `sa_flags`.
        act: [u64; 2],
        /// Whether `oldact` was given.
        oldact: bool,
    },
}

impl Exit {
    /// Runs the action with the kernel's return value `ret`.
    pub(crate) fn run(self, e: &mut World, tid: Vtid, ret: i64) -> Option<i64> {
        match self {
            Exit::Exec => exec_failed(e, tid, ret),
            Exit::Wait4Reaped { rusage } => wait4_reaped(e, tid, ret, rusage),
            Exit::WaitidReported {
                infop,
                rusage,
                nowait,
            } => {
                if ret == 0 && infop != 0 {
                    waitid_done(e, tid, infop, rusage, nowait);
                }
            }
            Exit::GroupSignalled { sig, me, group } => group_signalled(e, ret, sig, me, group),
            Exit::Signalled {
                target,
                sig,
                thread,
            } => {
                if ret == 0 && sig != 0 {
                    e.signal_arrived(target, sig, thread);
                }
            }
            Exit::Tgkilled { tgid, target, sig } => tgkilled(e, ret, tgid, target, sig),
            Exit::Sigaction { sig, act, oldact } => {
                // An unreadable oldact fails the call after the action is in place.
                if ret == 0 || (ret == Errno::EFAULT.ret() && oldact) {
                    let pid = e.threads[&tid].pid;
                    e.procs.get_mut(&pid).expect("process").sig[sig] =
                        crate::world::process_disposition(act[0], act[1]);
                }
            }
        }
        None
    }
}

/// `clone`: strip `CLONE_VFORK` (the engine parks the parent instead, so the tracer never
/// waits on a thread the kernel holds).
pub fn clone(e: &mut World, tid: Vtid, mut c: Clone) -> Res {
    let flags = c.flags.get();
    if flags & super::contain::CLONE_NEW_ANY != 0 {
        copy_process_checks(flags)?;
        return super::contain::refuse(e, libc::SYS_clone as u32, "namespaces are not modelled");
    }
    let t = e.threads.get_mut(&tid).expect("thread");
    t.vfork = flags & CLONE_VFORK != 0;
    t.clone3 = None;
    if t.vfork {
        c.flags = CloneFlags::from_raw(c.flags.raw() & !CLONE_VFORK);
        let args = c.encode();
        t.cur = Syscall::decode(libc::SYS_clone as u32, args);
        return Ok(Out::Rewrite {
            nr: libc::SYS_clone,
            args,
            post: None,
        });
    }
    Ok(Out::Pass)
}

/// The combinations of clone flags `copy_process` refuses (`EINVAL`) before it looks at
/// namespaces: a refused namespace request answers these first, as Linux does.
fn copy_process_checks(flags: u64) -> Result<(), Errno> {
    let has = |f: i32| flags & f as u64 == f as u64;
    let any = |f: i32| flags & f as u64 != 0;
    let bad = has(libc::CLONE_NEWNS | libc::CLONE_FS)
        || has(libc::CLONE_NEWUSER | libc::CLONE_FS)
        || (any(libc::CLONE_THREAD) && !any(libc::CLONE_SIGHAND))
        || (any(libc::CLONE_SIGHAND) && !any(libc::CLONE_VM))
        || (any(libc::CLONE_THREAD) && any(libc::CLONE_NEWUSER | libc::CLONE_NEWPID))
        || has(libc::CLONE_PIDFD | libc::CLONE_DETACHED);
    if bad {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Size of the `struct clone_args` Linux knows (`CLONE_ARGS_SIZE_VER2`), and the most
/// `clone3` accepts (a page).
const CLONE_ARGS_SIZE: u64 = 88;
const CLONE3_MAX_SIZE: u64 = 4096;

/// `clone3`'s own checks of its arguments (`copy_clone_args_from_user`,
/// `clone3_args_valid`), for a request takt refuses without the kernel seeing it: a
/// size past a page or a non-zero tail past the known struct (`E2BIG`), `set_tid`
/// arrays, the exit signal, flags clone3 does not take (`EINVAL`); then those of
/// `copy_process`.
fn clone3_checks(e: &World, tid: Vtid, addr: u64, size: u64) -> Result<(), Errno> {
    if size > CLONE3_MAX_SIZE {
        return Err(Errno::E2BIG);
    }
    let raw = e.read_mem(tid, addr, size as usize)?;
    if raw.iter().skip(CLONE_ARGS_SIZE as usize).any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    let mut words = [0u64; 11];
    for (w, c) in words.iter_mut().zip(raw.chunks_exact(8)) {
        *w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
    }
    let [flags, _, _, _, exit_signal, stack, stack_size, _, set_tid, set_tid_size, cgroup] = words;
    let sighands = libc::CLONE_SIGHAND as u64 | 0x1_0000_0000; // and CLONE_CLEAR_SIGHAND
    let stack_ok = match stack {
        0 => stack_size == 0,
        p => stack_size != 0 && super::guest::access_ok(p, stack_size),
    };
    let csignal = libc::CSIGNAL as u64;
    let into_cgroup = 0x2_0000_0000u64;
    let bad = set_tid_size > 32
        || (set_tid == 0 && set_tid_size > 0)
        || (set_tid != 0 && set_tid_size == 0)
        || exit_signal & !csignal != 0
        || exit_signal > 64
        || (flags & into_cgroup != 0 && (cgroup > i32::MAX as u64 || size < CLONE_ARGS_SIZE))
        || flags & !(0xffff_ffff_u64 | 0x1_0000_0000 | into_cgroup) != 0
        || flags & (libc::CLONE_DETACHED as u64 | (csignal & !0x80)) != 0
        || flags & sighands == sighands
        || flags & (libc::CLONE_THREAD | libc::CLONE_PARENT) as u64 != 0 && exit_signal != 0
        || !stack_ok;
    if bad {
        return Err(Errno::EINVAL);
    }
    copy_process_checks(flags)
}

/// `fork`.
pub fn fork(e: &mut World, tid: Vtid) -> Res {
    let t = e.threads.get_mut(&tid).expect("thread");
    t.vfork = false;
    t.clone3 = None;
    Ok(Out::Pass)
}

/// `vfork` becomes `clone(CLONE_VM | SIGCHLD)`: the child shares memory and stack as
/// with vfork, and the engine keeps the parent parked until the child execs or exits.
pub fn vfork(e: &mut World, tid: Vtid) -> Res {
    let t = e.threads.get_mut(&tid).expect("thread");
    t.vfork = true;
    t.clone3 = None;
    let args = [(libc::CLONE_VM | libc::SIGCHLD) as u64, 0, 0, 0, 0, 0];
    t.cur = Syscall::decode(libc::SYS_clone as u32, args);
    Ok(Out::Rewrite {
        nr: libc::SYS_clone,
        args,
        post: None,
    })
}

/// `clone3`: read `struct clone_args`, strip `CLONE_VFORK` in place, remember the flags
/// and the child-tid pointer for the engine.
pub fn clone3(e: &mut World, tid: Vtid, c: Clone3) -> Res {
    let (addr, size) = (c.cl_args.addr(), c.size);
    if size < 64 {
        return Err(Errno::EINVAL);
    }
    let mut cl: [u64; 8] = e.read_val(tid, addr)?;
    let (flags, child_tid) = (cl[0], cl[2]);
    // CLONE_INTO_CGROUP would move the child into a cgroup of the host.
    if flags & (super::contain::CLONE_NEW_ANY | 0x2_0000_0000) != 0 {
        clone3_checks(e, tid, addr, size)?;
        return super::contain::refuse(
            e,
            libc::SYS_clone3 as u32,
            "namespaces and cgroups are not modelled",
        );
    }
    let vfork = flags & CLONE_VFORK != 0;
    if vfork {
        cl[0] &= !CLONE_VFORK;
        e.write_val(tid, addr, &cl)?;
    }
    let t = e.threads.get_mut(&tid).expect("thread");
    t.vfork = vfork;
    t.clone3 = Some((cl[0], child_tid));
    Ok(Out::Pass)
}

/// `execve`: the kernel runs it; a failure shows at its exit (success shows as
/// `PTRACE_EVENT_EXEC` first, which drops this action).
pub fn execve(_e: &mut World, _tid: Vtid) -> Res {
    Ok(Out::PassThen(Post::Process(Exit::Exec)))
}

/// At `execve`'s exit (a failure): the scenario's first exec of the process failing
/// means the program did not start.
fn exec_failed(e: &mut World, tid: Vtid, ret: i64) {
    let t = e.threads.get_mut(&tid).expect("thread");
    if t.initial_exec && ret < 0 {
        t.initial_exec = false;
        let pid = t.pid;
        let why = format!("execve failed with {}", Errno(ret.saturating_neg() as i32));
        if let Some(r) = e.procs[&pid].report {
            e.reports[r].status = crate::report::Status::NotStarted(why);
        }
    }
}

/// `exit_group`: the whole process goes.
pub fn exit_group(e: &mut World, tid: Vtid) -> Res {
    let pid = e.threads[&tid].pid;
    e.procs.get_mut(&pid).expect("process").exiting = true;
    Ok(Out::Pass)
}

/// What a wait of `pid` for `which` children finds.
#[derive(Debug, Default)]
struct Found {
    /// Such a child exists.
    any: bool,
    /// One of them is a zombie (and the wait reports exits).
    zombie: bool,
    /// The first of them (in pid order, the order Linux looks in) whose stop or
    /// continue the wait reports, if no zombie comes before it: the kernel does not
    /// know of these (the `world::job` model), so takt answers the wait itself.
    change: Option<(Vtid, JobChange)>,
}

/// The children of `pid` that a wait for `which` may report; `exited`, `stopped`,
/// `continued`: the kinds of change it reports.
fn children(e: &World, pid: Vtid, which: Which, (exited, stopped, continued): Kinds) -> Found {
    let mut f = Found::default();
    for c in e.procs.values().filter(|c| c.ppid == pid && !c.reaped) {
        let wanted = match which {
            Which::Any => true,
            Which::Pid(p) => c.vpid == p,
            Which::Group(g) => sys::procfs::ns_pgid(c.real) == Some(g),
        };
        if !wanted {
            continue;
        }
        if c.status.is_some() {
            // Linux: a zombie is something to wait for only for a wait that reports
            // exits (else, with nothing else to wait for, ECHILD).
            f.any |= exited;
            f.zombie |= exited;
            continue;
        }
        f.any = true;
        let reported = match c.change {
            Some(JobChange::Stopped(_)) => stopped,
            Some(JobChange::Continued) => continued,
            None => false,
        };
        if reported && !f.zombie && f.change.is_none() {
            f.change = c.change.map(|ch| (c.vpid, ch));
        }
    }
    f
}

/// The kinds of change a wait reports: (exits, stops, continues).
type Kinds = (bool, bool, bool);

/// Reports child `child`'s stop or continue to a `wait4` (`status`, `rusage`: where to
/// write those) or a `waitid` (`infop`, `rusage`), which returns the child's pid or 0;
/// consumes it unless `nowait`. CPU times are reported as zero.
fn report_change(e: &mut World, tid: Vtid, child: Vtid, change: JobChange, w: Report) -> Res {
    let code = match change {
        JobChange::Stopped(sig) => (sig << 8) | 0x7f,
        JobChange::Continued => 0xffff,
    };
    if !w.nowait {
        if let Some(c) = e.procs.get_mut(&child) {
            c.change = None;
        }
    }
    if w.rusage != 0 {
        e.write_mem(tid, w.rusage, &[0u8; std::mem::size_of::<libc::rusage>()])?;
    }
    if !w.waitid {
        if w.status != 0 {
            e.write_val(tid, w.status, &code)?;
        }
        return Ok(Out::Return(i64::from(child)));
    }
    if w.status != 0 {
        let (si_code, si_status) = match change {
            JobChange::Stopped(sig) => (libc::CLD_STOPPED, sig),
            JobChange::Continued => (libc::CLD_CONTINUED, libc::SIGCONT),
        };
        let uid = e
            .procs
            .get(&child)
            .and_then(|c| sys::procfs::real_uid(c.real))
            .unwrap_or(0);
        let mut si = [0u8; std::mem::size_of::<libc::siginfo_t>()];
        si[0..4].copy_from_slice(&libc::SIGCHLD.to_ne_bytes());
        si[8..12].copy_from_slice(&si_code.to_ne_bytes());
        si[16..20].copy_from_slice(&child.to_ne_bytes());
        si[20..24].copy_from_slice(&uid.to_ne_bytes());
        si[24..28].copy_from_slice(&si_status.to_ne_bytes());
        e.write_mem(tid, w.status, &si)?;
    }
    Ok(Out::Return(0))
}

/// Where a wait writes what it reports.
#[derive(Debug, Clone, Copy)]
struct Report {
    /// `waitid` (else `wait4`).
    waitid: bool,
    /// `wait4`'s `wstatus`, or `waitid`'s `infop` (0: none).
    status: u64,
    /// The `rusage` pointer (0: none).
    rusage: u64,
    /// `WNOWAIT`: leave the child waitable.
    nowait: bool,
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
    fn of_wait4(e: &World, pid: Vtid, which: i32) -> Which {
        match which {
            w if w > 0 => Which::Pid(w),
            -1 => Which::Any,
            0 => Which::Group(my_group(e, pid)),
            w => Which::Group(w.saturating_neg()),
        }
    }
}

/// The process group of process `pid` (as its PID namespace numbers it).
fn my_group(e: &World, pid: Vtid) -> i32 {
    sys::procfs::ns_pgid(e.procs[&pid].real).unwrap_or(pid)
}

/// `wait4`: passes to the kernel once a matching child has exited (the kernel then
/// reaps it at once); parks the caller until then.
pub fn wait4(e: &mut World, tid: Vtid, c: Wait4) -> Res {
    let pid = e.threads[&tid].pid;
    let which = c.pid.get();
    let options = c.options.get() as i32;
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
    let kinds = (
        true,
        options & libc::WUNTRACED != 0,
        options & libc::WCONTINUED != 0,
    );
    let found = children(e, pid, Which::of_wait4(e, pid, which), kinds);
    if !found.any {
        return Err(Errno::ECHILD);
    }
    if let Some((child, change)) = found.change {
        let w = Report {
            waitid: false,
            status: c.wstatus.addr(),
            rusage: c.rusage.addr(),
            nowait: false,
        };
        return report_change(e, tid, child, change, w);
    }
    if found.zombie {
        let rusage = c.rusage.addr();
        return Ok(Out::PassThen(Post::Process(Exit::Wait4Reaped { rusage })));
    }
    if options & libc::WNOHANG != 0 {
        return Ok(Out::Return(0));
    }
    Ok(Out::Block(Blocked {
        child: true,
        ..Blocked::new("a child to change state")
    }))
}

/// At the exit of a `wait4` that reaped child `ret`: the model reaps it too.
fn wait4_reaped(e: &mut World, tid: Vtid, ret: i64, ru: u64) {
    if ret > 0 {
        if let Some(cpu) = reap(e, tid, ret as Vtid) {
            if ru != 0 {
                // The kernel's figures are the host's: the model's instead.
                let _ = e.write_val(tid, ru, &super::time::rusage(cpu));
            }
        }
    }
}

/// Thread `tid`'s process reaped its child `child`: the child's CPU time (with its own
/// reaped children's) counts as the parent's children's, and the child is forgotten.
/// Returns that CPU time (`None`: no such child).
fn reap(e: &mut World, tid: Vtid, child: Vtid) -> Option<crate::world::cpu::CpuTime> {
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
fn waitid_done(e: &mut World, tid: Vtid, infop: u64, ru: u64, nowait: bool) {
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
pub fn waitid(e: &mut World, tid: Vtid, c: Waitid) -> Res {
    let pid = e.threads[&tid].pid;
    let options = c.options.get() as i32;
    let upid = c.id.get();
    let (infop, rusage) = (c.infop.addr(), c.rusage.addr());
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
    let which = match c.idtype.get() {
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
    let kinds = (
        options & libc::WEXITED != 0,
        options & libc::WSTOPPED != 0,
        options & libc::WCONTINUED != 0,
    );
    let found = children(e, pid, which, kinds);
    if !found.any {
        return Err(Errno::ECHILD);
    }
    let nowait = options & libc::WNOWAIT != 0;
    if let Some((child, change)) = found.change {
        let w = Report {
            waitid: true,
            status: infop,
            rusage,
            nowait,
        };
        return report_change(e, tid, child, change, w);
    }
    if found.zombie {
        return Ok(Out::PassThen(Post::Process(Exit::WaitidReported {
            infop,
            rusage,
            nowait,
        })));
    }
    if options & libc::WNOHANG != 0 {
        if infop != 0 {
            e.write_mem(tid, infop, &[0u8; std::mem::size_of::<libc::siginfo_t>()])?;
        }
        return Ok(Out::Return(0));
    }
    Ok(Out::Block(Blocked {
        child: true,
        ..Blocked::new("a child to change state")
    }))
}

/// `kill`: a process-directed signal becomes `tgkill` to the thread Linux would pick,
/// so the engine knows which parked thread to interrupt; when every thread blocks it,
/// it stays process-directed.
pub fn kill(e: &mut World, tid: Vtid, c: Kill) -> Res {
    let (target, sig) = (c.pid.get(), c.sig.get());
    if !e.pid_namespace() && (sig == 0 || target <= 0) {
        // Pids are the host's: never let the kernel resolve one (kill(-1) would reach
        // every process of the host).
        return kill_in_scenario(e, tid, target, sig);
    }
    if sig == 0 || target <= 0 {
        // Probes and process groups: the kernel delivers; the model learns of it for
        // each process it reached (wakes parked receivers, job control). The group is
        // the caller's as it calls; a caller that kills itself this way never stops at
        // the call's exit, and this runs at its exit instead (`Engine::on_exiting`).
        let me = e.threads[&tid].pid;
        let group = match target {
            -1 => None,
            0 => Some(my_group(e, me)),
            g => Some(g.saturating_neg()),
        };
        return Ok(Out::PassThen(Post::Process(Exit::GroupSignalled {
            sig,
            me,
            group,
        })));
    }
    if !e.procs.contains_key(&target) {
        return Err(Errno::ESRCH);
    }
    let Some(thread) = e.wanting_thread(target, sig) else {
        // Every thread blocks it (or none is left): it stays pending for the process,
        // where any thread may take it later (signalfd, sigtimedwait, an unblock).
        return Ok(Out::PassThen(Post::Process(Exit::Signalled {
            target,
            sig,
            thread: None,
        })));
    };
    // The trace shows the call the program made (`cur` keeps its arguments).
    let args = Tgkill {
        tgid: Pid::from(target),
        tid: Pid::from(thread),
        sig: Signal::from(sig),
    }
    .encode();
    Ok(Out::Rewrite {
        nr: libc::SYS_tgkill,
        args,
        post: Some(Post::Process(Exit::Signalled {
            target,
            sig,
            thread: Some(thread),
        })),
    })
}

/// At the exit of a `kill` of group `group` (`None`: of every process but `me`): each
/// live process it reached learns of the signal.
fn group_signalled(e: &mut World, ret: i64, sig: i32, me: Vtid, group: Option<i32>) {
    if ret == 0 && sig != 0 {
        let pids: Vec<Vtid> = e
            .procs
            .values()
            .filter(|p| p.status.is_none())
            .filter(|p| match group {
                None => p.vpid != me,
                Some(g) => sys::procfs::ns_pgid(p.real) == Some(g),
            })
            .map(|p| p.vpid)
            .collect();
        for p in pids {
            e.signal_arrived(p, sig, None);
        }
    }
}

/// `tgkill`/`tkill` (`tgid == -1`).
pub fn tgkill(e: &mut World, _tid: Vtid, tgid: i32, target: i32, sig: i32) -> Res {
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
    Ok(Out::PassThen(Post::Process(Exit::Tgkilled {
        tgid,
        target,
        sig,
    })))
}

/// At the exit of `tgkill(tgid, target, sig)`: the thread's process learns of it.
fn tgkilled(e: &mut World, ret: i64, tgid: i32, target: Vtid, sig: i32) {
    if ret == 0 && sig != 0 {
        if let Some(pid) = e.threads.get(&target).map(|t| t.pid) {
            if tgid == -1 || tgid == pid {
                e.signal_arrived(pid, sig, Some(target));
            }
        }
    }
}

/// `kill` without a PID namespace, for probes and process groups: resolved among the
/// scenario's processes only (`-1`: all but the caller; `0`: the caller's group; `-g`:
/// group `g`), each signalled by its real pid.
fn kill_in_scenario(e: &mut World, tid: Vtid, target: i32, sig: i32) -> Res {
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
pub fn rt_sigqueueinfo(e: &mut World, _tid: Vtid, c: RtSigqueueinfo) -> Res {
    let (target, sig) = (c.tgid.get(), c.sig.get());
    if !e.pid_namespace() && !e.procs.contains_key(&target) {
        return Err(Errno::ESRCH); // host pids stay out of reach
    }
    let thread = match e.procs.contains_key(&target) && sig != 0 {
        true => e.wanting_thread(target, sig),
        false => None,
    };
    let Some(thread) = thread else {
        return Ok(Out::PassThen(Post::Process(Exit::Signalled {
            target,
            sig,
            thread: None,
        })));
    };
    let args = RtTgsigqueueinfo {
        tgid: Pid::from(target),
        tid: Pid::from(thread),
        sig: Signal::from(sig),
        info: c.info,
    }
    .encode();
    Ok(Out::Rewrite {
        nr: libc::SYS_rt_tgsigqueueinfo,
        args,
        post: Some(Post::Process(Exit::Signalled {
            target,
            sig,
            thread: Some(thread),
        })),
    })
}

/// `rt_sigaction`: the kernel installs it; the engine records the disposition (to know
/// whether a signal interrupts a parked call, restarts it, or kills).
pub fn rt_sigaction(e: &mut World, tid: Vtid, c: RtSigaction) -> Res {
    let sig = c.signum.get();
    if c.act.is_null() || !(1..=64).contains(&sig) {
        return Ok(Out::Pass);
    }
    // The kernel judges the call (sigsetsize, a readable act, SIGKILL/SIGSTOP, in that
    // order); the model takes the action only if it was installed. An unreadable
    // oldact fails the call after the action is in place, as on Linux.
    let Ok(act) = e.read_val::<[u64; 2]>(tid, c.act.addr()) else {
        return Ok(Out::Pass);
    };
    Ok(Out::PassThen(Post::Process(Exit::Sigaction {
        sig: sig as usize,
        act,
        oldact: !c.oldact.is_null(),
    })))
}

/// `set_tid_address`: remember the pointer (woken as a futex at thread exit).
pub fn set_tid_address(e: &mut World, tid: Vtid, c: SetTidAddress) -> Res {
    e.threads.get_mut(&tid).expect("thread").clear_tid = c.tidptr.addr();
    Ok(Out::Pass)
}

/// `prctl`: passed through, except what would undo takt's setup.
pub fn prctl(_e: &mut World, _tid: Vtid, c: Prctl) -> Res {
    match c.option.get() {
        libc::PR_SET_TSC | libc::PR_SET_SECCOMP | libc::PR_SET_PTRACER => Err(Errno::EPERM),
        libc::PR_GET_TSC => Err(Errno::EINVAL),
        _ => Ok(Out::Pass),
    }
}

/// `uname`: the host's, with the node's name.
pub fn uname(e: &mut World, tid: Vtid, c: Uname) -> Res {
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
    e.write_val(tid, c.buf.addr(), &u)?;
    Ok(Out::Return(0))
}

/// `sched_getaffinity`: CPUs 0..n of the virtual machine.
pub fn sched_getaffinity(e: &mut World, tid: Vtid, c: SchedGetaffinity) -> Res {
    let (len, mask) = (c.cpusetsize.get() as usize, c.mask.addr());
    let n = e.cfg.cpus;
    let bytes = n.div_ceil(64).saturating_mul(8);
    if len < bytes || len % 8 != 0 {
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
pub fn getcpu(e: &mut World, tid: Vtid, c: Getcpu) -> Res {
    for p in [c.cpu.addr(), c.node.addr()] {
        if p != 0 {
            e.write_val(tid, p, &0u32)?;
        }
    }
    Ok(Out::Return(0))
}
