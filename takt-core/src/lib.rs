//! takt-core: the engine that runs real, unmodified Linux programs deterministically.
#![deny(missing_docs)]

pub mod errno;
pub mod net;
pub mod time;
