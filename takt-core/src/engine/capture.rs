//! What the trace keeps from guest memory: for a few calls only, the bytes behind their
//! pointer arguments, captured with [`crate::syscall::capture`] at the stop. These are the
//! calls the dependency graph ([`crate::deps`]) is built from: the path of every open
//! (`open`, `openat`, `openat2`, `creat`) and the socket address of `bind`, `connect`,
//! `accept` and `accept4` (the peer's address, written at the call's end). Every other
//! call keeps pointers only, so the cost is one bounded read of guest memory per such
//! call (the open handler reads the same path anyway).
//!
//! Memory is read through [`Tracee`], a [`GuestMemory`] over `process_vm_readv`; a read
//! that faults leaves the piece out (the call gets its `EFAULT` from the kernel or the
//! handler as before).

use super::{Engine, Vtid};
use crate::errno::Errno;
use crate::syscall::capture::{Capture, GuestMemory};
use crate::syscall::Syscall;

/// The memory of one tracee thread, for a capture.
pub(crate) struct Tracee<'a> {
    engine: &'a Engine,
    tid: Vtid,
}

impl GuestMemory for Tracee<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let real = self
            .engine
            .threads
            .get(&self.tid)
            .ok_or(Errno::EFAULT)?
            .real;
        crate::sys::read_mem(real, addr, buf).map_err(|_| Errno::EFAULT)
    }
}

/// Whether the trace keeps what syscall `nr`'s pointers point to.
pub(crate) fn wanted(nr: u32) -> bool {
    matches!(
        nr as i64,
        libc::SYS_open
            | libc::SYS_openat
            | libc::SYS_openat2
            | libc::SYS_creat
            | libc::SYS_bind
            | libc::SYS_connect
            | libc::SYS_accept
            | libc::SYS_accept4
    )
}

/// Whether the kernel (or takt) writes something the trace keeps at the call's end.
fn at_exit(nr: u32) -> bool {
    matches!(nr as i64, libc::SYS_accept | libc::SYS_accept4)
}

impl Engine {
    /// At the seccomp stop of a call [`wanted`] names: what it reads from the guest.
    pub(crate) fn capture_entry(&self, tid: Vtid, nr: u32, args: [u64; 6]) -> Option<Box<Capture>> {
        let mem = Tracee { engine: self, tid };
        let cap = Capture::entry(&Syscall::decode(nr, args), &mem);
        Some(Box::new(cap))
    }

    /// When the call's event is recorded: adds what it wrote (an accepted peer's address).
    pub(crate) fn capture_exit(
        &self,
        tid: Vtid,
        nr: u32,
        args: [u64; 6],
        ret: Option<i64>,
        cap: &mut Capture,
    ) {
        let Some(ret) = ret.filter(|&r| r >= 0) else {
            return;
        };
        if at_exit(nr) {
            let mem = Tracee { engine: self, tid };
            cap.exit(&Syscall::decode(nr, args), ret, &mem);
        }
    }
}
