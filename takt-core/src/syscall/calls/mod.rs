//! One struct per typed syscall, its fields the argument registers in order, by family.
//! [`super::Syscall`] has a variant for each; handlers can take the struct of the call
//! they handle (`fn read(e: &mut World, tid: Vtid, c: calls::Read)`).
//!
//! The struct names follow the kernel's (`Read`, `Openat`, `Clone`…), so import this
//! module by name rather than by glob: a glob would shadow `Clone` and `Sync`.

mod fs;
mod host;
mod io;
mod mem;
mod net;
mod poll;
mod process;
mod signal;
mod sync;
mod time;

pub use fs::*;
pub use host::*;
pub use io::*;
pub use mem::*;
pub use net::*;
pub use poll::*;
pub use process::*;
pub use signal::*;
pub use sync::*;
pub use time::*;
