//! Fault injection at the dispatch: short transfers on the model's descriptors, and an
//! error reported after the kernel ran the call.

use super::{Done, H, MEM};
use crate::fault::{FaultPlan, Injector};
use crate::handler::inject::dispatch_with_faults;
use crate::sys::Regs;
use libc::*;
use rand::SeedableRng;

/// As [`H::sys`], through fault injection; tells whether a fault was injected.
fn sys_faulted(h: &mut H, tid: i32, nr: i64, args: &[u64]) -> (Done, bool) {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    let t = h.e.w.threads.get_mut(&tid).expect("a test thread");
    t.regs = Some(Regs::at_seccomp_stop(nr, a));
    let call = crate::syscall::Syscall::decode(nr as u32, a);
    t.cur = call;
    t.short = None;
    t.capture = None;
    let (out, faulted) = dispatch_with_faults(&mut h.e.w, tid, &call);
    h.e.apply(tid, out);
    (h.done(tid), faulted)
}

fn injector(name: &str, seed: u64) -> Injector {
    let mut plan = FaultPlan::new();
    plan.set(name, 1.0).expect("a faultable call");
    Injector::new(plan, rand_pcg::Pcg64Mcg::seed_from_u64(seed))
}

#[test]
fn a_read_of_a_pipe_is_cut_short_and_keeps_what_it_did_not_read() {
    let mut h = H::new();
    h.pipe(2, 3, 4, 0);
    h.put(MEM, &[7u8; 100]);
    assert_eq!(h.sys(2, SYS_write, &[4, MEM, 100]), Done::Ret(100));
    h.e.w.injector = injector("read", 5);
    // No handler, a pipe: of read's faults only a short read can happen.
    let (done, faulted) = sys_faulted(&mut h, 2, SYS_read, &[3, MEM + 0x1000, 100]);
    let Done::Ret(n) = done else {
        panic!("{done:?}")
    };
    assert!(faulted && (1..100).contains(&n), "{n}");
    // The count register was lowered to what the fault keeps.
    assert_eq!(
        h.e.w.threads[&2].cur.encode().1,
        [3, MEM + 0x1000, n as u64, 0, 0, 0]
    );
    h.e.w.injector = injector("write", 1); // reads no longer faulted
    assert_eq!(
        h.sys(2, SYS_read, &[3, MEM + 0x1000, 100]),
        Done::Ret(100 - n)
    );
    // One byte cannot be cut short: not faulted.
    h.e.w.injector = injector("read", 5);
    assert_eq!(h.sys(2, SYS_write, &[4, MEM, 1]), Done::Ret(1));
    let (done, faulted) = sys_faulted(&mut h, 2, SYS_read, &[3, MEM + 0x1000, 1]);
    assert_eq!((done, faulted), (Done::Ret(1), false));
}

#[test]
fn close_reports_its_injected_error_after_the_kernel_closed() {
    let mut h = H::new();
    // A handler that interrupts, and close of a kernel fd (a file): every error of
    // close's table can happen.
    h.e.w.procs.get_mut(&2).unwrap().sig[SIGUSR1 as usize].handler = 0x1234;
    h.e.w.injector = injector("close", 3);
    let (done, faulted) = sys_faulted(&mut h, 2, SYS_close, &[40]);
    assert_eq!((done, faulted), (Done::Kernel, true));
    let seen = h.kernel(2, 0);
    assert!(
        [EINTR, EIO, ENOSPC, EDQUOT]
            .map(|e| -(e as i64))
            .contains(&seen),
        "{seen}"
    );
}
