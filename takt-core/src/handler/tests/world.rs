//! Handlers on a [`World`] alone: no engine, no tracee. What only the engine can do,
//! a handler asks for with an [`Effect`], which these tests read off the world.

use crate::config::Config;
use crate::fd::{Kind, Obj};
use crate::syscall::capture::LocalMemory;
use crate::syscall::Syscall;
use crate::world::{decide::Decisions, Effect, Proc, Thread, Vtid, World};

const MEM: u64 = 0x20_0000;

/// A world with process 2 (one thread) and a local memory at [`MEM`].
fn world() -> World {
    let cfg = Config {
        host_cpu: Some(0),
        signature: false,
        record_tape: false,
        ..Config::default()
    };
    let decisions = Decisions::new(&cfg);
    let mut w = World::new(cfg, decisions);
    w.mem = Box::new(crate::world::memory::SharedLocal(std::cell::RefCell::new(
        LocalMemory::new().with(MEM, vec![0u8; 4096]),
    )));
    let fdt = w.files.new_table();
    w.procs
        .insert(2, Proc::new(2, 0, 1, 0, 0, "p".into(), 1, "p".into()));
    let t = Thread::new(2, 0, 2, fdt, crate::sys::Stopped::for_tests());
    w.threads.insert(2, t);
    w
}

/// Thread `tid` stops at `nr(args)`: what the handler answers.
fn call(w: &mut World, tid: Vtid, nr: i64, args: &[u64]) -> crate::handler::Res {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    let t = w.threads.get_mut(&tid).expect("thread");
    t.regs = Some(crate::sys::Regs::at_seccomp_stop(nr, a));
    let c = Syscall::decode(nr as u32, a);
    t.cur = c;
    crate::handler::dispatch(w, tid, &c)
}

#[test]
fn sched_yield_asks_the_engine_to_move_the_thread_back() {
    let mut w = world();
    let out = call(&mut w, 2, libc::SYS_sched_yield, &[]);
    assert!(matches!(out, Ok(crate::handler::Out::Return(0))), "{out:?}");
    assert!(
        matches!(w.effects[..], [Effect::Yield(2)]),
        "{:?}",
        w.effects
    );
}

#[test]
fn a_write_to_captured_output_is_an_output_effect() {
    let mut w = world();
    w.streams.push(crate::world::Stream::default());
    w.streams[0].data.extend_from_slice(b"before ");
    let f = w.files.open(Kind::Output(0), false);
    let fdt = w.threads[&2].fdt;
    w.files.install(fdt, 1, f, false);
    w.write_mem(2, MEM, b"hello\n").expect("memory");
    let out = call(&mut w, 2, libc::SYS_write, &[1, MEM, 6]);
    assert!(matches!(out, Ok(crate::handler::Out::Return(6))), "{out:?}");
    match &w.effects[..] {
        [Effect::Output { stream, pid, from }] => {
            let data = &w.streams[*stream].data[*from..];
            assert_eq!((*stream, *pid, data), (0, 2, &b"hello\n"[..]));
        }
        other => panic!("{other:?}"),
    }
    // A bad address part-way through: nothing is captured, as nothing was written.
    w.effects.clear();
    let out = call(&mut w, 2, libc::SYS_write, &[1, MEM + 8192, 6]);
    assert!(matches!(out, Err(crate::errno::Errno::EFAULT)), "{out:?}");
    assert!(w.effects.is_empty(), "{:?}", w.effects);
    assert_eq!(w.streams[0].data, b"before hello\n");
}

#[test]
fn a_change_under_signal_driven_io_is_left_to_the_engine() {
    let mut w = world();
    w.notify(Obj::Signals);
    assert!(
        w.effects.is_empty(),
        "no description has O_ASYNC: nothing to do"
    );
    w.signal_io.insert(0);
    w.notify(Obj::EventFd(0));
    assert!(
        matches!(w.effects[..], [Effect::SignalIo(Obj::EventFd(0))]),
        "{:?}",
        w.effects
    );
}
