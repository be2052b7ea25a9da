//! Typed synchronisation calls: `futex` (printed by operation, as strace does),
//! `futex_waitv`, the robust futex list, `rseq`, System V semaphores.

use crate::syscall::arg::*;
use crate::syscall::capture::{Capturer, Slot};
use crate::syscall::decl::{calls, Call, Custom};
use crate::syscall::enums::*;
use crate::syscall::render::{structs, Render};

calls! {
    /// `futex(uaddr, futex_op, val, timeout, uaddr2, val3)`: `timeout` is a
    /// `struct timespec *` for the waiting operations and the number `val2` for the
    /// requeueing ones (see [`FutexOp::has_timeout`]).
    Futex = futex(uaddr: UserPtr, futex_op: FutexOp, val: UInt, timeout: Hex, uaddr2: UserPtr, val3: Hex32) custom;
    /// `set_robust_list(head, len)`
    SetRobustList = set_robust_list(head: UserPtr, len: u64);
    /// `get_robust_list(pid, head_ptr, len_ptr)`
    GetRobustList = get_robust_list(pid: Pid, head_ptr: UserPtr, len_ptr: UserPtr);
    /// `rseq(rseq, rseq_len, flags, sig)`
    Rseq = rseq(rseq: UserPtr, rseq_len: UInt, flags: Int, sig: Hex32);
    /// `futex_waitv(waiters, nr_futexes, flags, timeout, clockid)`: `timeout` is
    /// absolute, on `clockid`.
    FutexWaitv = futex_waitv(waiters: UserPtr, nr_futexes: UInt, flags: UInt, timeout: TimespecIn, clockid: ClockId);
    /// `semget(key, nsems, semflg)`
    Semget = semget(key: Hex32, nsems: Int, semflg: Hex32) custom;
    /// `semop(semid, sops, nsops)`
    Semop = semop(semid: Int, sops: UserPtr, nsops: UInt);
    /// `semtimedop(semid, sops, nsops, timeout)`: `timeout` is relative.
    Semtimedop = semtimedop(semid: Int, sops: UserPtr, nsops: UInt, timeout: TimespecIn);
    /// `semctl(semid, semnum, cmd, arg)`: `arg` is a value or a pointer, by `cmd`.
    Semctl = semctl(semid: Int, semnum: Int, cmd: SemctlCmd, arg: Hex);
}

impl Futex {
    /// The `timeout` argument as a pointer, for the operations where it is one.
    pub fn timeout_ptr(&self) -> Option<TimespecIn> {
        self.futex_op
            .has_timeout()
            .then_some(TimespecIn(self.timeout.get()))
    }

    /// The `timeout` argument as the number `val2`, for the requeueing operations.
    pub fn val2(&self) -> u32 {
        self.timeout.get() as u32
    }
}

impl Custom for Futex {
    fn render_args(&self, r: &mut Render<'_>) {
        r.arg(0, self.uaddr);
        r.arg(1, self.futex_op);
        let timeout = |r: &mut Render<'_>| {
            r.sep();
            let t = self.timeout.get();
            if t == 0 || !structs::timespec(r, 3, t) {
                write_ptr(&mut r.out, t);
            }
        };
        let val2 = |r: &mut Render<'_>| r.arg(3, UInt::from(self.val2()));
        let bitset = |r: &mut Render<'_>| {
            r.sep();
            let _ = write_bitset(&mut r.out, self.val3.get());
        };
        match self.futex_op.cmd() {
            FutexOp::WAIT => {
                r.arg(2, self.val);
                timeout(r);
            }
            FutexOp::WAKE | FutexOp::FD => r.arg(2, self.val),
            FutexOp::REQUEUE => {
                r.arg(2, self.val);
                val2(r);
                r.arg(4, self.uaddr2);
            }
            FutexOp::CMP_REQUEUE | FutexOp::CMP_REQUEUE_PI => {
                r.arg(2, self.val);
                val2(r);
                r.arg(4, self.uaddr2);
                r.arg(5, UInt::from_raw(self.val3.raw()));
            }
            FutexOp::WAKE_OP => {
                r.arg(2, self.val);
                val2(r);
                r.arg(4, self.uaddr2);
                r.sep();
                let _ = write_futex_wake_op(&mut r.out, self.val3.get());
            }
            FutexOp::LOCK_PI | FutexOp::LOCK_PI2 => timeout(r),
            FutexOp::UNLOCK_PI | FutexOp::TRYLOCK_PI => {}
            FutexOp::WAIT_BITSET => {
                r.arg(2, self.val);
                timeout(r);
                bitset(r);
            }
            FutexOp::WAKE_BITSET => {
                r.arg(2, self.val);
                bitset(r);
            }
            FutexOp::WAIT_REQUEUE_PI => {
                r.arg(2, self.val);
                timeout(r);
                r.arg(4, self.uaddr2);
            }
            _ => {
                r.arg(2, self.val);
                r.arg(3, self.timeout);
                r.arg(4, self.uaddr2);
                r.arg(5, self.val3);
            }
        }
    }

    fn capture(&self, c: &mut Capturer<'_>) {
        self.visit(c);
        if let Some(t) = self.timeout_ptr().filter(|t| !t.is_null()) {
            if c.at_entry() {
                c.take(Slot::arg(3), t.0, 16, 16);
            }
        }
    }
}

impl Custom for Semget {
    /// As strace: `semget(IPC_PRIVATE, 3, IPC_CREAT|IPC_EXCL|0600)`.
    fn render_args(&self, r: &mut Render<'_>) {
        use std::fmt::Write as _;
        r.sep();
        match self.key.get() {
            0 => r.out.push_str("IPC_PRIVATE"),
            k => {
                let _ = write!(r.out, "{k:#x}");
            }
        }
        r.arg(1, self.nsems);
        r.sep();
        let flg = self.semflg.get();
        for (bit, name) in [(0o1000, "IPC_CREAT"), (0o2000, "IPC_EXCL")] {
            if flg & bit != 0 {
                let _ = write!(r.out, "{name}|");
            }
        }
        match flg & !0o3777 {
            0 => {}
            rest => {
                let _ = write!(r.out, "{rest:#x}|");
            }
        }
        match flg & 0o777 {
            0 if r.out.ends_with('|') => {
                r.out.pop();
            }
            0 => r.out.push('0'),
            mode => {
                let _ = write!(r.out, "0{mode:o}");
            }
        }
    }
}
