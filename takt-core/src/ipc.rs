//! System V semaphores as the core models them (sans-I/O: no ptrace, no guest memory).
//!
//! The kernel's semaphores would park a thread inside the kernel, where the scheduler
//! cannot see it, and their keys are host-wide; so takt keeps the sets itself. A
//! [`Sems`] is one IPC space (the engine keeps one per node, see
//! `handler::sem`): ids are allocated as a fresh IPC namespace does (index 0,
//! 1, 2… cyclic over [`SEMMNI`], the sequence number bumped on wrap), and the space is
//! empty in every run.
//!
//! What is modelled, as `ipc/sem.c` does it: keys (`IPC_PRIVATE`, `IPC_CREAT`,
//! `IPC_EXCL`), permissions (owner, group, other; root passes), all-or-nothing
//! operations applied in order, `SEM_UNDO` adjustments per process (applied at its
//! exit, clamped to `0..=SEMVMX`, cleared by `SETVAL`/`SETALL`), the limits of Linux's
//! defaults (`/proc/sys/kernel/sem`: 32000 1024000000 500 32000; but at most
//! [`HELD_MAX`] semaphores in all, so that no guest sizes the tracer's memory) and the waiting
//! operations: a blocked `semop` is queued with its operations, and when values change
//! the queue is walked in arrival order and every operation that can now complete is
//! applied at once (so a `GETVAL` right after a post sees the waiter's decrement, as on
//! Linux). The handler (`handler::sem`) reads and writes guest memory and
//! parks and wakes threads.

use crate::errno::Errno;
use std::collections::BTreeMap;

/// Most semaphores in a set (`SEMMSL`).
pub const SEMMSL: i32 = 32000;
/// Most sets (`SEMMNI`).
pub const SEMMNI: u32 = 32000;
/// Most semaphores in all sets (`SEMMNS`).
pub const SEMMNS: u64 = 1_024_000_000;
/// Most operations in one `semop` (`SEMOPM`).
pub const SEMOPM: usize = 500;
/// Largest semaphore value (`SEMVMX`).
pub const SEMVMX: i32 = 32767;
/// Largest adjustment on exit (`SEMAEM`).
pub const SEMAEM: i32 = SEMVMX;
/// The most semaphores takt holds in one run: Linux's `SEMMNS` (a billion) would let a
/// guest size gigabytes of the tracer's memory; past this `semget` gives `ENOSPC`.
pub const HELD_MAX: u64 = 1 << 20;
/// An id is `seq * IPCMNI + index`.
const IPCMNI: i32 = 32768;
/// The largest sequence number before it wraps to 0.
const SEQ_MAX: i32 = i32::MAX / IPCMNI;

/// `IPC_NOWAIT` in `sem_flg`.
pub const IPC_NOWAIT: i16 = 0o4000;
/// `SEM_UNDO` in `sem_flg`.
pub const SEM_UNDO: i16 = 0x1000;
/// `IPC_CREAT` in `semflg`.
pub const IPC_CREAT: i32 = 0o1000;
/// `IPC_EXCL` in `semflg`.
pub const IPC_EXCL: i32 = 0o2000;

/// Who asks: effective user and group, and whether the capability checks pass (root).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cred {
    /// Effective uid.
    pub uid: u32,
    /// Effective gid.
    pub gid: u32,
    /// `CAP_IPC_OWNER`/`CAP_SYS_ADMIN` (takt: euid 0).
    pub privileged: bool,
}

/// A set's owner, creator and mode (`struct ipc64_perm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perm {
    /// The key it was created with (0: `IPC_PRIVATE`).
    pub key: i32,
    /// Owner.
    pub uid: u32,
    /// Owner's group.
    pub gid: u32,
    /// Creator.
    pub cuid: u32,
    /// Creator's group.
    pub cgid: u32,
    /// The nine permission bits.
    pub mode: u32,
}

impl Perm {
    /// `ipcperms`: whether `cred` may do what the low bits of `flag` ask (4 read, 2
    /// alter, in any of the three triads).
    pub fn allows(&self, cred: Cred, flag: u32) -> bool {
        let requested = ((flag >> 6) | (flag >> 3) | flag) & 0o7;
        let granted = if cred.uid == self.cuid || cred.uid == self.uid {
            self.mode >> 6
        } else if cred.gid == self.cgid || cred.gid == self.gid {
            self.mode >> 3
        } else {
            self.mode
        };
        requested & !granted & 0o7 == 0 || cred.privileged
    }

    /// Whether every caller may do what `flag` asks (all three triads grant it), so that
    /// who asks need not be looked up.
    pub fn open_to_all(&self, flag: u32) -> bool {
        let requested = ((flag >> 6) | (flag >> 3) | flag) & 0o7;
        [self.mode >> 6, self.mode >> 3, self.mode]
            .iter()
            .all(|g| requested & !g & 0o7 == 0)
    }

    /// May `cred` remove the set or change its owner and mode (`IPC_RMID`, `IPC_SET`)?
    pub fn owned_by(&self, cred: Cred) -> bool {
        cred.privileged || cred.uid == self.cuid || cred.uid == self.uid
    }
}

/// One semaphore.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sem {
    /// Its value, `0..=SEMVMX`.
    pub val: i32,
    /// The process of the last operation on it (`GETPID`).
    pub pid: i32,
}

/// A set.
#[derive(Clone, Debug)]
pub struct SemSet {
    /// Owner, creator, mode.
    pub perm: Perm,
    /// Its id's sequence number.
    pub seq: i32,
    /// The semaphores.
    pub sems: Vec<Sem>,
    /// Last `semop`, seconds since the epoch (0: never).
    pub otime: u64,
    /// Last change by `semctl` or creation, seconds since the epoch.
    pub ctime: u64,
}

/// One operation (`struct sembuf`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// The semaphore.
    pub num: u16,
    /// What to add (negative: wait until it can be taken; 0: wait for zero).
    pub op: i16,
    /// `IPC_NOWAIT`, `SEM_UNDO`.
    pub flg: i16,
}

/// What trying a `semop` came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tried {
    /// Every operation was applied.
    Done,
    /// This operation cannot proceed now (and has no `IPC_NOWAIT`): wait.
    Wait(Op),
}

/// A thread parked in `semop`.
#[derive(Clone, Debug)]
pub struct Waiter {
    /// The thread.
    pub tid: i32,
    /// Its process (the undo list and `GETPID`).
    pub pid: i32,
    /// The set.
    pub id: i32,
    /// Its operations.
    pub ops: Vec<Op>,
    /// The operation it waits on (`GETNCNT`, `GETZCNT` count it).
    pub blocking: Op,
}

/// The semaphore sets of one run.
#[derive(Debug, Default)]
pub struct Sems {
    /// By index (the low 15 bits of an id).
    sets: BTreeMap<i32, SemSet>,
    last_idx: Option<i32>,
    seq: i32,
    used_sems: u64,
    /// `SEM_UNDO` adjustments: (process, set id) → one per semaphore.
    undo: BTreeMap<(i32, i32), Vec<i32>>,
    /// Parked operations, in arrival order.
    pub waiters: Vec<Waiter>,
}

impl Sems {
    /// `semget(key, nsems, semflg)`; `now`: seconds since the epoch.
    pub fn get(
        &mut self,
        key: i32,
        nsems: i32,
        flg: i32,
        cred: Cred,
        now: u64,
    ) -> Result<i32, Errno> {
        if !(0..=SEMMSL).contains(&nsems) {
            return Err(Errno::EINVAL);
        }
        if key != 0 {
            if let Some((&idx, set)) = self.sets.iter().find(|(_, s)| s.perm.key == key) {
                if flg & IPC_CREAT != 0 && flg & IPC_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                if nsems as usize > set.sems.len() {
                    return Err(Errno::EINVAL);
                }
                if !set.perm.allows(cred, flg as u32) {
                    return Err(Errno::EACCES);
                }
                return Ok(id_of(set.seq, idx));
            }
            if flg & IPC_CREAT == 0 {
                return Err(Errno::ENOENT);
            }
        }
        self.create(key, nsems, flg, cred, now)
    }

    fn create(
        &mut self,
        key: i32,
        nsems: i32,
        flg: i32,
        cred: Cred,
        now: u64,
    ) -> Result<i32, Errno> {
        if nsems == 0 {
            return Err(Errno::EINVAL);
        }
        let total = self.used_sems.saturating_add(nsems as u64);
        if total > SEMMNS.min(HELD_MAX) || self.sets.len() >= SEMMNI as usize {
            return Err(Errno::ENOSPC);
        }
        // As `idr_alloc_cyclic`: the next free index after the last one, wrapping.
        let start = self.last_idx.map_or(0, |i| i.saturating_add(1));
        let free = |from: i32, to: i32| (from..to).find(|i| !self.sets.contains_key(i));
        let idx = free(start, SEMMNI as i32)
            .or_else(|| free(0, start))
            .ok_or(Errno::ENOSPC)?;
        if self.last_idx.is_some_and(|last| idx <= last) {
            self.seq = if self.seq >= SEQ_MAX {
                0
            } else {
                self.seq.saturating_add(1)
            };
        }
        self.last_idx = Some(idx);
        self.used_sems = total;
        let perm = Perm {
            key,
            uid: cred.uid,
            gid: cred.gid,
            cuid: cred.uid,
            cgid: cred.gid,
            mode: flg as u32 & 0o777,
        };
        let set = SemSet {
            perm,
            seq: self.seq,
            sems: vec![Sem::default(); nsems as usize],
            otime: 0,
            ctime: now,
        };
        self.sets.insert(idx, set);
        Ok(id_of(self.seq, idx))
    }

    /// The set with id `id` (`EINVAL` if there is none).
    pub fn set(&self, id: i32) -> Result<&SemSet, Errno> {
        let (seq, idx) = split(id)?;
        self.sets
            .get(&idx)
            .filter(|s| s.seq == seq)
            .ok_or(Errno::EINVAL)
    }

    fn set_mut(&mut self, id: i32) -> Result<&mut SemSet, Errno> {
        let (seq, idx) = split(id)?;
        self.sets
            .get_mut(&idx)
            .filter(|s| s.seq == seq)
            .ok_or(Errno::EINVAL)
    }

    /// `SEM_STAT`: the id of the set at index `idx`.
    pub fn id_at(&self, idx: i32) -> Result<i32, Errno> {
        self.sets
            .get(&idx)
            .map(|s| id_of(s.seq, idx))
            .ok_or(Errno::EINVAL)
    }

    /// The highest index in use (0 if none), as `IPC_INFO` returns it.
    pub fn max_idx(&self) -> i32 {
        self.sets.keys().next_back().copied().unwrap_or(0)
    }

    /// Sets in use and semaphores in them (`SEM_INFO`).
    pub fn usage(&self) -> (usize, u64) {
        (self.sets.len(), self.used_sems)
    }

    /// `/proc/sysvipc/sem` as Linux prints it (`ipcs -s` reads it).
    pub fn proc_file(&self) -> String {
        let mut out = String::from(
            "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n",
        );
        for (&idx, s) in &self.sets {
            let p = &s.perm;
            out.push_str(&format!(
                "{:10} {:10}  {:4o} {:10} {:5} {:5} {:5} {:5} {:10} {:10}\n",
                p.key,
                id_of(s.seq, idx),
                p.mode,
                s.sems.len(),
                p.uid,
                p.gid,
                p.cuid,
                p.cgid,
                s.otime,
                s.ctime
            ));
        }
        out
    }

    /// Tries `ops` of process `pid` on set `id` (checked: the set exists, every
    /// `num` is in range): applies all of them, or none and says which one waits;
    /// `EAGAIN` when that one has `IPC_NOWAIT`, `ERANGE` past `SEMVMX` or `SEMAEM`.
    pub fn try_ops(&mut self, id: i32, pid: i32, ops: &[Op], now: u64) -> Result<Tried, Errno> {
        let set = self.set(id)?;
        let mut vals: Vec<i32> = set.sems.iter().map(|s| s.val).collect();
        let mut adj = self.undo.get(&(pid, id)).cloned();
        for op in ops {
            let n = op.num as usize;
            let cur = *vals.get(n).ok_or(Errno::EFBIG)?;
            let result = cur.saturating_add(op.op as i32);
            if (op.op == 0 && cur != 0) || result < 0 {
                if op.flg & IPC_NOWAIT != 0 {
                    return Err(Errno::EAGAIN);
                }
                return Ok(Tried::Wait(*op));
            }
            if result > SEMVMX {
                return Err(Errno::ERANGE);
            }
            if op.flg & SEM_UNDO != 0 {
                let a = adj.get_or_insert_with(|| vec![0; vals.len()]);
                let undo = a[n].saturating_sub(op.op as i32);
                if !(-SEMAEM - 1..=SEMAEM).contains(&undo) {
                    return Err(Errno::ERANGE);
                }
                a[n] = undo;
            }
            vals[n] = result;
        }
        let set = self.set_mut(id)?;
        for (s, v) in set.sems.iter_mut().zip(vals) {
            s.val = v;
        }
        for op in ops {
            set.sems[op.num as usize].pid = pid;
        }
        set.otime = now;
        if let Some(a) = adj {
            self.undo.insert((pid, id), a);
        }
        Ok(Tried::Done)
    }

    /// After a change to set `id`: applies every parked operation that can complete
    /// now, in arrival order, again from the start after each (one may enable an
    /// earlier one); returns the threads to complete and what their calls return.
    pub fn update(&mut self, id: i32, now: u64) -> Vec<(i32, i64)> {
        let mut done = Vec::new();
        'scan: loop {
            for i in 0..self.waiters.len() {
                if self.waiters[i].id != id {
                    continue;
                }
                let w = self.waiters[i].clone();
                match self.try_ops(id, w.pid, &w.ops, now) {
                    Ok(Tried::Wait(op)) => self.waiters[i].blocking = op,
                    Ok(Tried::Done) => {
                        self.waiters.remove(i);
                        done.push((w.tid, 0));
                        continue 'scan;
                    }
                    Err(e) => {
                        self.waiters.remove(i);
                        done.push((w.tid, e.ret()));
                        continue 'scan;
                    }
                }
            }
            return done;
        }
    }

    /// `GETNCNT` (`zero`: `GETZCNT`) of semaphore `num` of set `id`.
    pub fn count(&self, id: i32, num: u16, zero: bool) -> i64 {
        let n = self
            .waiters
            .iter()
            .filter(|w| w.id == id && w.blocking.num == num && (w.blocking.op == 0) == zero);
        n.count() as i64
    }

    /// `SETVAL`: also clears every process's adjustment of that semaphore.
    pub fn set_val(
        &mut self,
        id: i32,
        num: usize,
        val: i32,
        pid: i32,
        now: u64,
    ) -> Result<(), Errno> {
        let set = self.set_mut(id)?;
        let sem = set.sems.get_mut(num).ok_or(Errno::EINVAL)?;
        sem.val = val;
        sem.pid = pid;
        set.ctime = now;
        for ((_, sid), a) in self.undo.iter_mut() {
            if *sid == id {
                if let Some(x) = a.get_mut(num) {
                    *x = 0;
                }
            }
        }
        Ok(())
    }

    /// `SETALL` (values checked against `SEMVMX` by the caller): clears the set's
    /// adjustments.
    pub fn set_all(&mut self, id: i32, vals: &[u16], pid: i32, now: u64) -> Result<(), Errno> {
        let set = self.set_mut(id)?;
        for (s, &v) in set.sems.iter_mut().zip(vals) {
            s.val = v as i32;
            s.pid = pid;
        }
        set.ctime = now;
        self.undo.retain(|&(_, sid), _| sid != id);
        Ok(())
    }

    /// `IPC_SET`: owner, group and mode bits.
    pub fn set_perm(
        &mut self,
        id: i32,
        uid: u32,
        gid: u32,
        mode: u32,
        now: u64,
    ) -> Result<(), Errno> {
        let set = self.set_mut(id)?;
        set.perm.uid = uid;
        set.perm.gid = gid;
        set.perm.mode = mode & 0o777;
        set.ctime = now;
        Ok(())
    }

    /// `IPC_RMID`: the set and its adjustments go; returns its parked threads (they
    /// fail with `EIDRM`).
    pub fn remove(&mut self, id: i32) -> Result<Vec<i32>, Errno> {
        let (_, idx) = split(id)?;
        let set = self.set(id)?;
        self.used_sems = self.used_sems.saturating_sub(set.sems.len() as u64);
        self.sets.remove(&idx);
        self.undo.retain(|&(_, sid), _| sid != id);
        let mut gone = Vec::new();
        self.waiters.retain(|w| {
            let keep = w.id != id;
            if !keep {
                gone.push(w.tid);
            }
            keep
        });
        Ok(gone)
    }

    /// Process `pid` exited: its adjustments are applied (clamped to `0..=SEMVMX`);
    /// returns the sets that changed.
    pub fn exited(&mut self, pid: i32) -> Vec<i32> {
        let keys: Vec<(i32, i32)> = self
            .undo
            .range((pid, i32::MIN)..=(pid, i32::MAX))
            .map(|(k, _)| *k)
            .collect();
        let mut changed = Vec::new();
        for k in keys {
            let adj = self.undo.remove(&k).unwrap_or_default();
            let Ok(set) = self.set_mut(k.1) else { continue };
            for (s, a) in set.sems.iter_mut().zip(adj) {
                if a != 0 {
                    s.val = s.val.saturating_add(a).clamp(0, SEMVMX);
                    s.pid = pid;
                }
            }
            changed.push(k.1);
        }
        changed
    }
}

fn id_of(seq: i32, idx: i32) -> i32 {
    seq.saturating_mul(IPCMNI).saturating_add(idx)
}

fn split(id: i32) -> Result<(i32, i32), Errno> {
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    Ok((id / IPCMNI, id % IPCMNI))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: Cred = Cred {
        uid: 0,
        gid: 0,
        privileged: true,
    };
    const USER: Cred = Cred {
        uid: 1000,
        gid: 1000,
        privileged: false,
    };

    fn op(num: u16, op: i16, flg: i16) -> Op {
        Op { num, op, flg }
    }

    #[test]
    fn ids_are_allocated_as_a_fresh_namespace_does() {
        let mut s = Sems::default();
        assert_eq!(s.get(0, 1, 0o600, ROOT, 1), Ok(0));
        assert_eq!(s.get(0, 1, 0o600, ROOT, 1), Ok(1));
        s.remove(0).unwrap();
        assert_eq!(s.get(0, 1, 0o600, ROOT, 1), Ok(2));
        assert_eq!(s.set(0).map(|_| ()), Err(Errno::EINVAL));
        assert_eq!(s.get(7, 2, IPC_CREAT | 0o600, ROOT, 1), Ok(3));
        assert_eq!(s.get(7, 1, 0, ROOT, 1), Ok(3));
        assert_eq!(s.get(7, 3, 0, ROOT, 1), Err(Errno::EINVAL));
        assert_eq!(
            s.get(7, 1, IPC_CREAT | IPC_EXCL, ROOT, 1),
            Err(Errno::EEXIST)
        );
        assert_eq!(s.get(8, 1, 0, ROOT, 1), Err(Errno::ENOENT));
        assert_eq!(s.get(0, 0, 0, ROOT, 1), Err(Errno::EINVAL));
        assert_eq!(s.get(0, SEMMSL + 1, 0, ROOT, 1), Err(Errno::EINVAL));
        let fill = (HELD_MAX / SEMMSL as u64) as usize;
        for _ in 0..fill {
            s.get(0, SEMMSL, 0, ROOT, 1).unwrap();
        }
        assert_eq!(s.get(0, SEMMSL, 0, ROOT, 1), Err(Errno::ENOSPC));
    }

    #[test]
    fn permissions_follow_the_triads() {
        let mut s = Sems::default();
        let id = s.get(5, 1, IPC_CREAT | 0o640, ROOT, 1).unwrap();
        assert_eq!(s.get(5, 1, 0o400, USER, 1), Err(Errno::EACCES));
        let group = Cred { gid: 0, ..USER };
        assert_eq!(s.get(5, 1, 0o400, group, 1), Ok(id));
        assert_eq!(s.get(5, 1, 0o200, group, 1), Err(Errno::EACCES));
        assert!(!s.set(id).unwrap().perm.owned_by(USER));
        assert!(!s.set(id).unwrap().perm.open_to_all(0o400));
        let open = s.get(0, 1, 0o646, ROOT, 1).unwrap();
        assert!(s.set(open).unwrap().perm.open_to_all(0o400));
        assert!(!s.set(open).unwrap().perm.open_to_all(0o200));
    }

    #[test]
    fn operations_are_all_or_nothing_and_in_order() {
        let mut s = Sems::default();
        let id = s.get(0, 2, 0o600, ROOT, 1).unwrap();
        s.set_all(id, &[1, 0], 1, 1).unwrap();
        let both = [op(0, -1, 0), op(1, -1, IPC_NOWAIT)];
        assert_eq!(s.try_ops(id, 1, &both, 2), Err(Errno::EAGAIN));
        assert_eq!(s.set(id).unwrap().sems[0].val, 1);
        assert_eq!(
            s.try_ops(id, 1, &[op(0, 1, 0), op(0, -2, 0)], 2),
            Ok(Tried::Done)
        );
        assert_eq!(s.set(id).unwrap().sems[0].val, 0);
        assert_eq!(
            s.try_ops(id, 1, &[op(1, -1, 0)], 2),
            Ok(Tried::Wait(op(1, -1, 0)))
        );
        assert_eq!(s.try_ops(id, 1, &[op(2, 1, 0)], 2), Err(Errno::EFBIG));
        s.set_val(id, 1, SEMVMX, 1, 2).unwrap();
        assert_eq!(s.try_ops(id, 1, &[op(1, 1, 0)], 2), Err(Errno::ERANGE));
    }

    #[test]
    fn waiters_complete_in_arrival_order_when_values_change() {
        let mut s = Sems::default();
        let id = s.get(0, 1, 0o600, ROOT, 1).unwrap();
        for (tid, n) in [(10, -2), (11, -1)] {
            let ops = vec![op(0, n, 0)];
            let Ok(Tried::Wait(b)) = s.try_ops(id, tid, &ops, 1) else {
                panic!("must wait")
            };
            s.waiters.push(Waiter {
                tid,
                pid: tid,
                id,
                ops,
                blocking: b,
            });
        }
        assert_eq!(s.count(id, 0, false), 2);
        s.try_ops(id, 1, &[op(0, 1, 0)], 2).unwrap();
        // 10 needs 2 and stays; 11 takes the one.
        assert_eq!(s.update(id, 2), vec![(11, 0)]);
        s.try_ops(id, 1, &[op(0, 2, 0)], 2).unwrap();
        assert_eq!(s.update(id, 2), vec![(10, 0)]);
        assert_eq!(s.set(id).unwrap().sems[0].val, 0);
        assert_eq!(s.set(id).unwrap().sems[0].pid, 10);
    }

    #[test]
    fn undo_is_applied_at_exit_clamped_and_cleared_by_setval() {
        let mut s = Sems::default();
        let id = s.get(0, 2, 0o600, ROOT, 1).unwrap();
        s.set_all(id, &[1, 0], 1, 1).unwrap();
        s.try_ops(id, 7, &[op(0, -1, SEM_UNDO), op(1, 5, SEM_UNDO)], 2)
            .unwrap();
        assert_eq!(s.exited(7), vec![id]);
        let v: Vec<i32> = s.set(id).unwrap().sems.iter().map(|x| x.val).collect();
        assert_eq!(v, [1, 0]);
        s.try_ops(id, 8, &[op(1, 3, SEM_UNDO)], 2).unwrap();
        s.set_val(id, 1, 1, 1, 2).unwrap();
        s.exited(8);
        assert_eq!(s.set(id).unwrap().sems[1].val, 1);
        s.try_ops(id, 9, &[op(1, 2, SEM_UNDO), op(1, -3, 0)], 2)
            .unwrap();
        s.exited(9);
        assert_eq!(s.set(id).unwrap().sems[1].val, 0);
    }

    #[test]
    fn removal_returns_the_waiters() {
        let mut s = Sems::default();
        let id = s.get(0, 1, 0o600, ROOT, 1).unwrap();
        s.waiters.push(Waiter {
            tid: 3,
            pid: 3,
            id,
            ops: vec![op(0, -1, 0)],
            blocking: op(0, -1, 0),
        });
        let file = s.proc_file();
        assert!(file.ends_with("\n         0          0   600          1     0     0     0     0          0          1\n"), "{file}");
        assert_eq!(s.remove(id), Ok(vec![3]));
        assert_eq!(s.remove(id), Err(Errno::EINVAL));
        assert_eq!(s.usage(), (0, 0));
    }
}
