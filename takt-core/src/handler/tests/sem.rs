//! System V semaphores: a set's values, operations that wait and complete, time-outs,
//! removal, errnos.

use super::{err, Done, H, MEM};
use crate::time::VTime;
use libc::*;

const SETVAL: u64 = 16;
const GETVAL: u64 = 12;
const GETNCNT: u64 = 14;

/// A `struct sembuf` (`sem_num`, `sem_op`, `sem_flg`).
fn sembuf(num: u16, op: i16, flg: i16) -> Vec<u8> {
    [num.to_le_bytes(), op.to_le_bytes(), flg.to_le_bytes()].concat()
}

/// A new private set of `n` semaphores, made by process 2.
fn new_set(h: &mut H, n: u64) -> u64 {
    let flags = (IPC_CREAT | 0o600) as u64;
    match h.sys(2, SYS_semget, &[IPC_PRIVATE as u64, n, flags]) {
        Done::Ret(id) if id >= 0 => id as u64,
        other => panic!("semget: {other:?}"),
    }
}

#[test]
fn a_semop_that_cannot_proceed_waits_for_a_change_to_the_set() {
    let mut h = H::new();
    h.process(3, 0);
    let id = new_set(&mut h, 1);
    assert_eq!(h.sys(2, SYS_semctl, &[id, 0, SETVAL, 1]), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_semctl, &[id, 0, GETVAL, 0]), Done::Ret(1));
    h.put(MEM, &sembuf(0, -1, 0));
    assert_eq!(h.sys(2, SYS_semop, &[id, MEM, 1]), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_semop, &[id, MEM, 1]), Done::Parked);
    assert_eq!(h.sys(3, SYS_semctl, &[id, 0, GETNCNT, 0]), Done::Ret(1));
    h.put(MEM + 0x10, &sembuf(0, 1, 0));
    assert_eq!(h.sys(3, SYS_semop, &[id, MEM + 0x10, 1]), Done::Ret(0));
    assert_eq!(h.wake(2), Done::Ret(0));
    assert_eq!(h.sys(2, SYS_semctl, &[id, 0, GETVAL, 0]), Done::Ret(0));
    // IPC_NOWAIT: EAGAIN at once.
    h.put(MEM + 0x20, &sembuf(0, -1, IPC_NOWAIT as i16));
    assert_eq!(h.sys(2, SYS_semop, &[id, MEM + 0x20, 1]), err(EAGAIN));
}

#[test]
fn semtimedop_gives_up_on_the_virtual_clock_and_rmid_fails_waiters() {
    let mut h = H::new();
    h.process(3, 0);
    let id = new_set(&mut h, 2);
    h.put(MEM, &sembuf(1, -1, 0));
    let ts = MEM + 0x40;
    h.put(
        ts,
        &[0i64.to_le_bytes(), 3_000_000i64.to_le_bytes()].concat(),
    );
    assert_eq!(h.sys(2, SYS_semtimedop, &[id, MEM, 1, ts]), Done::Parked);
    h.clock(VTime::ZERO.plus_nanos(3_000_000));
    assert_eq!(h.done(2), err(EAGAIN));
    // A zero time-out does not wait; a null one waits without end.
    h.put(ts, &[0u8; 16]);
    assert_eq!(h.sys(2, SYS_semtimedop, &[id, MEM, 1, ts]), err(EAGAIN));
    assert_eq!(h.sys(2, SYS_semtimedop, &[id, MEM, 1, 0]), Done::Parked);
    assert_eq!(
        h.sys(3, SYS_semctl, &[id, 0, IPC_RMID as u64, 0]),
        Done::Ret(0)
    );
    assert_eq!(h.wake(2), err(EIDRM));
    assert_eq!(h.sys(2, SYS_semop, &[id, MEM, 1]), err(EINVAL), "gone");
}

#[test]
fn semaphore_calls_check_their_arguments() {
    let mut h = H::new();
    let id = new_set(&mut h, 1);
    h.put(MEM, &sembuf(0, 1, 0));
    assert_eq!(h.sys(2, SYS_semop, &[id, MEM, 0]), err(EINVAL), "no ops");
    assert_eq!(h.sys(2, SYS_semop, &[id, MEM, 1000]), err(E2BIG));
    h.put(MEM + 0x10, &sembuf(1, 1, 0));
    assert_eq!(h.sys(2, SYS_semop, &[id, MEM + 0x10, 1]), err(EFBIG));
    assert_eq!(h.sys(2, SYS_semop, &[id, 0x1000, 1]), err(EFAULT));
    assert_eq!(h.sys(2, SYS_semctl, &[id, 0, SETVAL, 40000]), err(ERANGE));
    assert_eq!(h.sys(2, SYS_semctl, &[id, 5, GETVAL, 0]), err(EINVAL));
    assert_eq!(h.sys(2, SYS_semctl, &[id, 0, 99, 0]), err(EINVAL));
    // The id is an int: a negative one is refused before anything is looked up.
    let neg = u32::MAX as u64;
    assert_eq!(h.sys(2, SYS_semctl, &[neg, 0, GETVAL, 0]), err(EINVAL));
    // Shared memory is the kernel's.
    assert_eq!(
        h.sys(2, SYS_shmget, &[IPC_PRIVATE as u64, 4096, 0]),
        Done::Kernel
    );
}
