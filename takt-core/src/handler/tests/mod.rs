//! Handler unit tests, without ptrace: an [`Engine`] whose threads no tracee backs,
//! whose guest memory is a [`LocalMemory`], and a harness that plays the stops. A call
//! is dispatched as at its seccomp stop and applied as the engine applies it; what the
//! kernel would answer to a call takt passes on is given by the test
//! ([`H::kernel`]); a parked call is run again when what it waits for changes
//! ([`H::wake`]), as the run loop does.

// Test code computes with its own fixed addresses and values, not with a guest's.
#![allow(clippy::arithmetic_side_effects)]

mod contain;
mod file;
mod futex;
mod inject;
mod io;
mod poll;
mod process;
mod sem;
mod signal;
mod socket;
mod time;
mod timer;
mod world;

use crate::config::{Config, NodeSpec};
use crate::engine::Engine;
use crate::syscall::capture::LocalMemory;
use crate::time::VTime;
use crate::world::{Resume, State, Vtid};

/// Start of the test threads' memory (one region, shared by all of them).
pub(super) const MEM: u64 = 0x10_0000;
/// Its size.
const MEM_LEN: usize = 64 * 1024;

/// Where a call stands after a stop.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Done {
    /// It completed with this value (`-errno` for an error).
    Ret(i64),
    /// It is parked in takt's scheduler.
    Parked,
    /// It goes to the kernel (with an action at its exit if [`H::kernel`] is called).
    Kernel,
}

/// The harness.
pub(super) struct H {
    pub e: Engine,
}

impl H {
    /// Two nodes (10.0.0.1 and 10.0.0.2), and process 2 on node 0.
    pub fn new() -> H {
        let node = |i: u8| NodeSpec {
            name: format!("n{i}"),
            addr: std::net::Ipv4Addr::new(10, 0, 0, i + 1),
            dir: std::env::temp_dir(),
            layer: None,
        };
        let cfg = Config {
            host_cpu: Some(0),
            nodes: vec![node(0), node(1)],
            signature: false,
            record_tape: false,
            ..Config::default()
        };
        let mut e = Engine::new(cfg);
        for (i, n) in e.w.cfg.nodes.clone().iter().enumerate() {
            assert_eq!(e.w.net.add_node(&n.name, n.addr), i);
        }
        e.w.mem = Box::new(crate::world::memory::SharedLocal(std::cell::RefCell::new(
            LocalMemory::new().with(MEM, vec![0u8; MEM_LEN]),
        )));
        let mut h = H { e };
        h.process(2, 0);
        h
    }

    /// Adds process `pid` (one thread, `tid` = `pid`) on `node`.
    pub fn process(&mut self, pid: Vtid, node: usize) {
        self.e.test_process(pid, node);
    }

    /// Thread `tid` stops at syscall `nr` with `args`: dispatched and applied.
    pub fn sys(&mut self, tid: Vtid, nr: i64, args: &[u64]) -> Done {
        let mut a = [0u64; 6];
        a[..args.len()].copy_from_slice(args);
        let t = self.e.w.threads.get_mut(&tid).expect("a test thread");
        t.regs = Some(crate::sys::Regs::at_seccomp_stop(nr, a));
        let call = crate::syscall::Syscall::decode(nr as u32, a);
        t.cur = call;
        // As at every seccomp stop (`Engine::on_syscall`).
        t.short = None;
        t.ended = false;
        t.progress = 0;
        t.spin = 0;
        t.capture = None;
        let out = super::dispatch(&mut self.e.w, tid, &call);
        self.e.apply_effects();
        self.e.apply(tid, out);
        self.done(tid)
    }

    /// Where `tid`'s call stands.
    pub fn done(&self, tid: Vtid) -> Done {
        match &self.e.w.threads[&tid].state {
            State::Ready(Resume::Regs(r)) => match r.emulated() {
                Some(v) => Done::Ret(v),
                None => Done::Kernel,
            },
            State::Blocked(_) => Done::Parked,
            _ => Done::Kernel,
        }
    }

    /// The kernel answered `ret` to `tid`'s call (passed on): runs the call's exit
    /// action, if any; returns what the guest then sees.
    pub fn kernel(&mut self, tid: Vtid, ret: i64) -> i64 {
        let post = self.e.posts.remove(&tid);
        let seen = post
            .and_then(|p| p.call(&mut self.e.w, tid, ret))
            .unwrap_or(ret);
        self.e.apply_effects();
        self.e.w.set_ready(tid, Resume::Cont(0));
        seen
    }

    /// Runs `tid`'s parked call again if something woke it (as the run loop does);
    /// returns where it stands.
    pub fn wake(&mut self, tid: Vtid) -> Done {
        if matches!(self.e.w.threads[&tid].state, State::Ready(Resume::Retry)) {
            if let Some(r) = self.e.retry(tid) {
                self.e.w.set_ready(tid, r);
            }
        }
        self.done(tid)
    }

    /// Moves the virtual clock to `t` and fires what is due.
    pub fn clock(&mut self, t: VTime) {
        self.e.w.now = t;
        self.e.fire_due().expect("timers fire");
        self.e.apply_effects();
    }

    /// Guest memory at `addr`.
    pub fn put(&self, addr: u64, bytes: &[u8]) {
        self.e
            .w
            .write_mem(2, addr, bytes)
            .expect("mapped test memory");
    }

    /// `len` bytes of guest memory at `addr`.
    pub fn get(&self, addr: u64, len: usize) -> Vec<u8> {
        self.e.w.read_mem(2, addr, len).expect("mapped test memory")
    }

    /// A pipe of `pid`'s with fds `r` and `w`, as `pipe2(fds, flags)` makes it when the
    /// kernel answers with those descriptors.
    pub fn pipe(&mut self, pid: Vtid, r: i32, w: i32, flags: i32) {
        let at = MEM + 0xf000;
        assert_eq!(
            self.sys(pid, libc::SYS_pipe2, &[at, flags as u64]),
            Done::Kernel
        );
        let mut fds = r.to_le_bytes().to_vec();
        fds.extend_from_slice(&w.to_le_bytes());
        self.put(at, &fds);
        assert_eq!(self.kernel(pid, 0), 0);
    }
}

impl H {
    /// Process `to` gets `from`'s descriptors `fds` (the same open files, as after a
    /// fork).
    pub fn share(&mut self, from: Vtid, to: Vtid, fds: &[i32]) {
        let (a, b) = (self.e.w.threads[&from].fdt, self.e.w.threads[&to].fdt);
        for &fd in fds {
            let f = self.e.w.files.get(a, fd as i64).expect("a virtual fd").file;
            self.e.w.files.install(b, fd, f, false);
        }
    }
}

/// `-errno`.
pub(super) fn err(e: i32) -> Done {
    Done::Ret(-(e as i64))
}
