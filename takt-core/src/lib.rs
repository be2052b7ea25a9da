//! takt-core: the engine that runs real, unmodified Linux programs deterministically.
//!
//! Module map:
//! - [`sys`]: the kernel boundary — ptrace, wait, registers, tracee memory, spawn, the
//!   seccomp filter, the PID namespace, the watchdog. All `unsafe` code lives here.
//! - [`engine`]: one run: the run loop, the tracees' stops, the scheduler's picks, the
//!   trace.
//! - [`world`]: what handlers see: processes, threads, descriptors, the models, guest
//!   memory and the run's fault decisions, never the engine.
//! - [`syscall`]: the typed decode of each syscall (registers → [`syscall::Syscall`] and
//!   back), its strace-style rendering, and what a trace line captures from guest memory.
//! - [`handler`]: one module per syscall family, and the dispatch table; each handler
//!   gets the [`world::World`].
//! - [`fd`], [`net`], [`time`], [`sched`], [`ipc`]: sans-I/O models (no ptrace),
//!   unit-tested.
//! - [`fs`]: files as programs see them (takt's inode numbers, virtual times) and as a
//!   node's disk keeps them (the durability model and what a crash leaves).
//! - [`trace`]: events, canonical encoding, digest. [`report`]: what a run returns.
//! - [`signature`]: a run's behaviour class and features (for coverage).
//! - [`snapshot`]: global snapshots of the whole scenario at requested times.
//! - [`deps`]: the dependency graph of a run (processes, files, listeners, connections).
//! - [`symbols`]: function names of code addresses (ELF symbols, Go's `.gopclntab`), for
//!   messages about spinning threads.
//! - [`config`]: what a run is made of. [`errno`] / [`Error`]: the two error worlds.
//!
//! Most users want the `takt-scenario` crate; this one is for the engine.
//!
//! ```no_run
//! use takt_core::config::{Config, NodeSpec, ProcessSpec};
//! let dir = std::env::temp_dir();
//! let cfg = Config {
//!     seed: 7,
//!     nodes: vec![NodeSpec { name: "node0".into(), addr: "10.0.0.1".parse().unwrap(), dir: dir.clone(), layer: None }],
//!     processes: vec![ProcessSpec {
//!         node: 0,
//!         program: "/bin/echo".into(),
//!         argv: vec!["echo".into(), "hello".into()],
//!         env: vec![],
//!         cwd: None,
//!         display: "echo hello".into(),
//!         start_after: std::time::Duration::ZERO,
//!         must_finish: false,
//!     }],
//!     ..Config::default()
//! };
//! let report = takt_core::run(cfg).unwrap();
//! assert_eq!(report.stdout(0), "hello\n");
//! ```
#![deny(missing_docs)]
// All unsafe code is in `sys`, each block with its `// SAFETY:` justification.
#![deny(unsafe_code)]

pub mod config;
pub mod cpus;
pub mod deps;
pub mod engine;
pub mod errno;
mod error;
pub mod fault;
pub mod fd;
pub mod fs;
pub mod handler;
pub mod hostfiles;
pub mod ipc;
pub mod net;
pub mod report;
pub mod rng;
pub mod sched;
pub mod signature;
pub mod snapshot;
pub mod symbols;
#[allow(unsafe_code)]
pub mod sys;
pub mod syscall;
pub mod tape;
pub mod time;
pub mod trace;
pub mod world;

pub use error::Error;

/// Runs one scenario to its end.
pub fn run(cfg: config::Config) -> Result<report::Report, Error> {
    engine::Engine::new(cfg).run()
}
