//! System V semaphores: `semget`, `semop`, `semtimedop`, `semctl`, emulated in the
//! core's model ([`crate::ipc`]), one IPC space per node (each node is a machine of its
//! own: two nodes' programs using one key get a set each), emptied when the node
//! crashes (a reboot), kept across its processes' restarts otherwise.
//!
//! The kernel's would park a waiting thread inside the kernel, where takt's
//! one-thread-at-a-time scheduler cannot see it, and its keys are host-wide. Here a
//! `semop` that cannot proceed parks the thread in the scheduler with its operations
//! queued; a change to the set (a `semop`, `SETVAL`, `SETALL`, an exiting process's
//! `SEM_UNDO` adjustments) completes every queued operation that can now proceed, and
//! `IPC_RMID` fails them with `EIDRM`. A signal interrupts a wait with `EINTR`, never
//! restarted (as Linux, whatever `SA_RESTART` says); `semtimedop` gives up with `EAGAIN`
//! on the virtual clock. The checks come in the kernel's order (`ipc/sem.c`), with its
//! errnos. Permissions use the caller's effective uid and gid (from `/proc`; euid 0
//! passes every check, as `CAP_IPC_OWNER` does; supplementary groups are not looked at).
//!
//! System V shared memory is the kernel's: the run's processes share an IPC namespace of
//! the run's own when takt has root ([`crate::sys::PidNamespace`]). Without one its keys
//! are the host's, and `shmget` of a key says so in a warning. Message queues are not
//! modelled (`ENOSYS`: `msgrcv` would block in the kernel).

use super::{Blocked, Out, Res};
use crate::errno::Errno;
use crate::ipc::{Cred, Op, Tried, Waiter, SEMOPM, SEMVMX};
use crate::syscall::calls::{Semctl, Semget, Semop, Semtimedop};
use crate::syscall::TimespecIn;
use crate::world::{State, Vtid, World};

const IPC_RMID: i32 = 0;
const IPC_SET: i32 = 1;
const IPC_STAT: i32 = 2;
const IPC_INFO: i32 = 3;
const GETPID: i32 = 11;
const GETVAL: i32 = 12;
const GETALL: i32 = 13;
const GETNCNT: i32 = 14;
const GETZCNT: i32 = 15;
const SETVAL: i32 = 16;
const SETALL: i32 = 17;
const SEM_STAT: i32 = 18;
const SEM_INFO: i32 = 19;
const SEM_STAT_ANY: i32 = 20;

/// Read permission (`S_IRUGO`) and alter permission (`S_IWUGO`).
const READ: u32 = 0o444;
const ALTER: u32 = 0o222;

/// The size of `struct sembuf`.
const SEMBUF: usize = 6;
/// The size of `struct semid64_ds` on x86-64.
const SEMID_DS: usize = 104;

/// `semget(key, nsems, semflg)`.
pub fn semget(e: &mut World, tid: Vtid, c: Semget) -> Res {
    let cred = cred(e, tid);
    let now = now_secs(e);
    let n = node(e, tid);
    let (key, nsems, flg) = (c.key.get() as i32, c.nsems.get(), c.semflg.get() as i32);
    let id = e.sems[n].get(key, nsems, flg, cred, now)?;
    Ok(Out::Return(id as i64))
}

/// `semop(semid, sops, nsops)`.
pub fn semop(e: &mut World, tid: Vtid, c: Semop) -> Res {
    semop_until(e, tid, c, TimespecIn(0))
}

/// `semtimedop(semid, sops, nsops, timeout)`: `semop` with a time-out (null: none).
pub fn semtimedop(e: &mut World, tid: Vtid, c: Semtimedop) -> Res {
    let (semid, sops, nsops) = (c.semid, c.sops, c.nsops);
    semop_until(e, tid, Semop { semid, sops, nsops }, c.timeout)
}

/// `semop`, with a relative time-out at `timeout` (null: none).
fn semop_until(e: &mut World, tid: Vtid, c: Semop, timeout: TimespecIn) -> Res {
    let n = node(e, tid);
    let (id, nsops) = (c.semid.get(), c.nsops.get());
    let timeout = match timeout.addr() {
        0 => None,
        p => Some(e.read_val::<libc::timespec>(tid, p)?),
    };
    if nsops < 1 || id < 0 {
        return Err(Errno::EINVAL);
    }
    if nsops as usize > SEMOPM {
        return Err(Errno::E2BIG);
    }
    let len = (nsops as usize).saturating_mul(SEMBUF);
    let bytes = e.read_mem(tid, c.sops.addr(), len)?;
    let ops: Vec<Op> = bytes
        .chunks_exact(SEMBUF)
        .map(|b| Op {
            num: u16::from_ne_bytes([b[0], b[1]]),
            op: i16::from_ne_bytes([b[2], b[3]]),
            flg: i16::from_ne_bytes([b[4], b[5]]),
        })
        .collect();
    let wait_ns = timeout.map(|ts| super::time::ts_nanos(&ts)).transpose()?;
    let set = e.sems[n].set(id)?;
    let max = ops.iter().map(|o| o.num as usize).max().unwrap_or(0);
    if max >= set.sems.len() {
        return Err(Errno::EFBIG);
    }
    let alter = ops.iter().any(|o| o.op != 0);
    if !permitted(e, tid, &set.perm, if alter { ALTER } else { READ }) {
        return Err(Errno::EACCES);
    }
    let pid = e.threads[&tid].pid;
    let now = now_secs(e);
    match e.sems[n].try_ops(id, pid, &ops, now)? {
        Tried::Done => {
            if alter {
                changed(e, n, id);
            }
            Ok(Out::Return(0))
        }
        Tried::Wait(_) if wait_ns == Some(0) => Err(Errno::EAGAIN),
        Tried::Wait(blocking) => {
            e.sems[n].waiters.retain(|w| w.tid != tid);
            e.sems[n].waiters.push(Waiter {
                tid,
                pid,
                id,
                ops,
                blocking,
            });
            let deadline = wait_ns.map(|ns| e.now.plus_nanos(ns));
            Ok(Out::Block(
                Blocked::new("a System V semaphore")
                    .no_restart()
                    .until(deadline, Errno::EAGAIN.ret()),
            ))
        }
    }
}

/// `semctl(semid, semnum, cmd, arg)`: `arg` is the `union semun`, passed by value.
pub fn semctl(e: &mut World, tid: Vtid, c: Semctl) -> Res {
    let (id, num, cmd, arg) = (c.semid.get(), c.semnum.get(), c.cmd.get(), c.arg.get());
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    match cmd {
        IPC_INFO | SEM_INFO => info(e, tid, cmd, arg),
        IPC_STAT | SEM_STAT | SEM_STAT_ANY => stat(e, tid, id, cmd, arg),
        GETALL | GETVAL | GETPID | GETNCNT | GETZCNT | SETALL => {
            semctl_main(e, tid, id, num, cmd, arg)
        }
        SETVAL => set_val(e, tid, id, num, arg as i32),
        IPC_SET | IPC_RMID => down(e, tid, id, cmd, arg),
        _ => Err(Errno::EINVAL),
    }
}

/// `IPC_INFO`, `SEM_INFO`: the limits (and for `SEM_INFO` the usage) as a `struct
/// seminfo`; returns the highest index in use.
fn info(e: &mut World, tid: Vtid, cmd: i32, arg: u64) -> Res {
    let n = node(e, tid);
    use crate::ipc::{SEMAEM, SEMMNI, SEMMNS, SEMMSL};
    let (sets, sems) = e.sems[n].usage();
    let (usz, aem) = match cmd {
        SEM_INFO => (sets as i32, sems.min(i32::MAX as u64) as i32),
        _ => (20, SEMAEM), // SEMUSZ, SEMAEM
    };
    let mns = SEMMNS as i32;
    let opm = SEMOPM as i32;
    // semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem
    let info = [
        mns,
        SEMMNI as i32,
        mns,
        mns,
        SEMMSL,
        opm,
        opm,
        usz,
        SEMVMX,
        aem,
    ];
    let bytes: Vec<u8> = info.iter().flat_map(|v| v.to_ne_bytes()).collect();
    e.write_mem(tid, arg, &bytes)?;
    Ok(Out::Return(e.sems[n].max_idx() as i64))
}

/// `IPC_STAT`, `SEM_STAT` (`id` is an index; returns the id), `SEM_STAT_ANY` (no
/// permission check): the set as a `struct semid64_ds`.
fn stat(e: &mut World, tid: Vtid, id: i32, cmd: i32, arg: u64) -> Res {
    let n = node(e, tid);
    let id = match cmd {
        IPC_STAT => id,
        _ => e.sems[n].id_at(id)?,
    };
    let set = e.sems[n].set(id)?;
    if cmd != SEM_STAT_ANY && !permitted(e, tid, &set.perm, READ) {
        return Err(Errno::EACCES);
    }
    let mut b = [0u8; SEMID_DS];
    let p = &set.perm;
    let words = [p.key as u32, p.uid, p.gid, p.cuid, p.cgid, p.mode];
    for (i, w) in words.iter().enumerate() {
        let at = i.saturating_mul(4);
        b[at..at.saturating_add(4)].copy_from_slice(&w.to_ne_bytes());
    }
    b[24..26].copy_from_slice(&(set.seq as u16).to_ne_bytes());
    b[48..56].copy_from_slice(&set.otime.to_ne_bytes());
    b[64..72].copy_from_slice(&set.ctime.to_ne_bytes());
    b[80..88].copy_from_slice(&(set.sems.len() as u64).to_ne_bytes());
    e.write_mem(tid, arg, &b)?;
    Ok(Out::Return(if cmd == IPC_STAT { 0 } else { id as i64 }))
}

/// `GETALL`, `GETVAL`, `GETPID`, `GETNCNT`, `GETZCNT`, `SETALL`.
fn semctl_main(e: &mut World, tid: Vtid, id: i32, num: i32, cmd: i32, arg: u64) -> Res {
    let n = node(e, tid);
    let set = e.sems[n].set(id)?;
    let nsems = set.sems.len();
    if !permitted(e, tid, &set.perm, if cmd == SETALL { ALTER } else { READ }) {
        return Err(Errno::EACCES);
    }
    match cmd {
        GETALL => {
            let vals: Vec<u8> = set
                .sems
                .iter()
                .flat_map(|s| (s.val as u16).to_ne_bytes())
                .collect();
            e.write_mem(tid, arg, &vals)?;
            return Ok(Out::Return(0));
        }
        SETALL => {
            let bytes = e.read_mem(tid, arg, nsems.saturating_mul(2))?;
            let vals: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|b| u16::from_ne_bytes([b[0], b[1]]))
                .collect();
            if vals.iter().any(|&v| v as i32 > SEMVMX) {
                return Err(Errno::ERANGE);
            }
            let (pid, now) = (e.threads[&tid].pid, now_secs(e));
            e.sems[n].set_all(id, &vals, pid, now)?;
            changed(e, n, id);
            return Ok(Out::Return(0));
        }
        _ => {}
    }
    let Some(sem) = usize::try_from(num).ok().and_then(|i| set.sems.get(i)) else {
        return Err(Errno::EINVAL);
    };
    let (val, pid) = (sem.val, sem.pid);
    Ok(Out::Return(match cmd {
        GETVAL => val as i64,
        GETPID => pid as i64,
        _ => {
            forget_stale(e, n);
            e.sems[n].count(id, num as u16, cmd == GETZCNT)
        }
    }))
}

/// `SETVAL`.
fn set_val(e: &mut World, tid: Vtid, id: i32, num: i32, val: i32) -> Res {
    let n = node(e, tid);
    if !(0..=SEMVMX).contains(&val) {
        return Err(Errno::ERANGE);
    }
    let set = e.sems[n].set(id)?;
    let Some(i) = usize::try_from(num).ok().filter(|&i| i < set.sems.len()) else {
        return Err(Errno::EINVAL);
    };
    if !permitted(e, tid, &set.perm, ALTER) {
        return Err(Errno::EACCES);
    }
    let (pid, now) = (e.threads[&tid].pid, now_secs(e));
    e.sems[n].set_val(id, i, val, pid, now)?;
    changed(e, n, id);
    Ok(Out::Return(0))
}

/// `IPC_SET` (owner, group, mode from a `struct semid64_ds`) and `IPC_RMID`: by the
/// owner, the creator or root (`EPERM`).
fn down(e: &mut World, tid: Vtid, id: i32, cmd: i32, arg: u64) -> Res {
    let n = node(e, tid);
    let new = match cmd {
        IPC_SET => Some(e.read_mem(tid, arg, 24)?),
        _ => None,
    };
    let set = e.sems[n].set(id)?;
    if !set.perm.owned_by(cred(e, tid)) {
        return Err(Errno::EPERM);
    }
    if let Some(b) = new {
        let (uid, gid, mode) = (
            u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
            u32::from_ne_bytes([b[8], b[9], b[10], b[11]]),
            u32::from_ne_bytes([b[20], b[21], b[22], b[23]]),
        );
        let now = now_secs(e);
        e.sems[n].set_perm(id, uid, gid, mode, now)?;
        return Ok(Out::Return(0));
    }
    forget_stale(e, n);
    for w in e.sems[n].remove(id)? {
        e.complete(w, Errno::EIDRM.ret());
    }
    Ok(Out::Return(0))
}

/// Process `pid` is gone: its `SEM_UNDO` adjustments are applied.
pub(crate) fn exited(e: &mut World, pid: Vtid) {
    let Some(n) = e.procs.get(&pid).map(|p| p.node) else {
        return;
    };
    for id in e.sems[n].exited(pid) {
        changed(e, n, id);
    }
}

/// Set `id` changed: the parked operations that can proceed now complete.
fn changed(e: &mut World, n: usize, id: i32) {
    forget_stale(e, n);
    let now = now_secs(e);
    for (tid, ret) in e.sems[n].update(id, now) {
        e.complete(tid, ret);
    }
}

/// Drops queued operations whose thread no longer waits in them (it timed out, was
/// interrupted, or is gone).
fn forget_stale(e: &mut World, n: usize) {
    let threads = &e.threads;
    e.sems[n].waiters.retain(|w| {
        threads.get(&w.tid).is_some_and(|t| {
            matches!(t.state, State::Blocked(_))
                && matches!(t.cur.nr() as i64, libc::SYS_semop | libc::SYS_semtimedop)
        })
    });
}

/// The node of `tid`'s process: whose IPC space it uses.
fn node(e: &World, tid: Vtid) -> usize {
    e.procs[&e.threads[&tid].pid].node
}

/// The virtual `CLOCK_REALTIME` in seconds (`sem_otime`, `sem_ctime`).
fn now_secs(e: &World) -> u64 {
    super::time::realtime_nanos(e.now) / 1_000_000_000
}

/// `ipcperms`: may `tid` do what `flag` asks of a set with `perm`? (Who asks is only
/// looked up when the mode does not grant it to everyone.)
fn permitted(e: &World, tid: Vtid, perm: &crate::ipc::Perm, flag: u32) -> bool {
    perm.open_to_all(flag) || perm.allows(cred(e, tid), flag)
}

/// The caller's effective uid and gid, from `/proc/<tid>/status` (root if it cannot be
/// read: the tracee is gone anyway).
fn cred(e: &World, tid: Vtid) -> Cred {
    let status = std::fs::read_to_string(format!("/proc/{}/status", e.real(tid)));
    let field = |name: &str| -> u32 {
        let s = status.as_deref().unwrap_or("");
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let uid = field("Uid:");
    Cred {
        uid,
        gid: field("Gid:"),
        privileged: uid == 0,
    }
}

/// `shmget(key, size, shmflg)`: the kernel's, in the run's IPC namespace; without one (no
/// root) a key other than `IPC_PRIVATE` is the host's, which the report names.
pub fn shmget(e: &mut World, key: i32) -> Res {
    if key != 0 && !e.pid_namespace() {
        e.warn(
            "shmget of a key without an IPC namespace of the run's own (no root): \
             the key and the segment are the host's"
                .to_string(),
        );
    }
    Ok(Out::Pass)
}
