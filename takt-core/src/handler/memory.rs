//! Guest memory as handlers see it, through a trait: the tracees' memory (through
//! `process_vm_readv`/`process_vm_writev`, in [`crate::sys`]), or, in handler unit
//! tests, one local memory that every test thread shares. Handlers reach it only
//! through the `World` methods in `handler/mod.rs` (`read_into`, `read_vectored`,
//! `write_mem`, `write_vectored` and the typed helpers over them), which give the real
//! thread to read.

use crate::errno::Errno;
use crate::sys::{self, RealTid};

/// The memory of traced threads, each named by its real tid. Every failure is `EFAULT`.
pub trait ThreadMemory {
    /// Fills `buf` from `addr` in the memory of thread `real`.
    fn read(&self, real: RealTid, addr: u64, buf: &mut [u8]) -> Result<(), Errno>;

    /// Fills `buf` from the pieces `ranges`, in order; the bytes read (fewer when a piece
    /// after the first faults).
    fn read_vectored(
        &self,
        real: RealTid,
        ranges: &[(u64, usize)],
        buf: &mut [u8],
    ) -> Result<usize, Errno>;

    /// Writes `data` at `addr`.
    fn write(&self, real: RealTid, addr: u64, data: &[u8]) -> Result<(), Errno>;

    /// Writes `data` over the pieces `ranges`, in order.
    fn write_vectored(
        &self,
        real: RealTid,
        ranges: &[(u64, usize)],
        data: &[u8],
    ) -> Result<(), Errno>;
}

/// The tracees' own memory.
#[derive(Debug, Default)]
pub struct TraceeMemory;

impl ThreadMemory for TraceeMemory {
    fn read(&self, real: RealTid, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        sys::read_mem(real, addr, buf).map_err(|_| Errno::EFAULT)
    }

    fn read_vectored(
        &self,
        real: RealTid,
        ranges: &[(u64, usize)],
        buf: &mut [u8],
    ) -> Result<usize, Errno> {
        sys::read_mem_vectored(real, ranges, buf).map_err(|_| Errno::EFAULT)
    }

    fn write(&self, real: RealTid, addr: u64, data: &[u8]) -> Result<(), Errno> {
        sys::write_mem(real, addr, data).map_err(|_| Errno::EFAULT)
    }

    fn write_vectored(
        &self,
        real: RealTid,
        ranges: &[(u64, usize)],
        data: &[u8],
    ) -> Result<(), Errno> {
        sys::write_mem_vectored(real, ranges, data).map_err(|_| Errno::EFAULT)
    }
}

/// One local memory for every thread (handler unit tests: no tracee).
#[cfg(test)]
#[derive(Debug, Default)]
pub struct SharedLocal(pub std::cell::RefCell<crate::syscall::capture::LocalMemory>);

#[cfg(test)]
impl ThreadMemory for SharedLocal {
    fn read(&self, _: RealTid, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        use crate::syscall::capture::GuestMemory;
        self.0.borrow().read(addr, buf)
    }

    fn read_vectored(
        &self,
        real: RealTid,
        ranges: &[(u64, usize)],
        buf: &mut [u8],
    ) -> Result<usize, Errno> {
        let mut at = 0usize;
        for &(a, l) in ranges {
            let end = at.saturating_add(l).min(buf.len());
            if self.read(real, a, &mut buf[at..end]).is_err() {
                return if at == 0 { Err(Errno::EFAULT) } else { Ok(at) };
            }
            at = end;
        }
        Ok(at)
    }

    fn write(&self, _: RealTid, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.0.borrow_mut().write(addr, data)
    }

    fn write_vectored(
        &self,
        real: RealTid,
        ranges: &[(u64, usize)],
        data: &[u8],
    ) -> Result<(), Errno> {
        let mut at = 0usize;
        for &(a, l) in ranges {
            let end = at.saturating_add(l).min(data.len());
            self.write(real, a, &data[at..end])?;
            at = end;
        }
        Ok(())
    }
}
