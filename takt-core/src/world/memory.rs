//! Guest memory as handlers see it, through a trait: the tracees' memory (through
//! `process_vm_readv`/`process_vm_writev`, in [`crate::sys`]), or, in handler unit
//! tests, one local memory that every test thread shares. Handlers reach it only
//! through the `World` methods below (`read_into`, `read_vectored`,
//! `write_mem`, `write_vectored` and the typed helpers over them), which give the real
//! thread to read.

use super::{Vtid, World};
use crate::errno::Errno;
use crate::sys::{self, RealTid};

/// The most tracee memory read in one piece (see [`World::read_mem`]).
const MAX_READ: usize = 16 << 20;

impl World {
    /// The real tid used to access the memory of thread `tid`.
    pub(crate) fn real(&self, tid: Vtid) -> sys::RealTid {
        self.threads[&tid].real
    }

    /// Reads `len` bytes of tracee memory (`EFAULT` on a bad address). Callers size
    /// `len` from checked guest values (see [`crate::handler::guest`]); the cap here is a backstop so
    /// that no guest value ever sizes a larger allocation in the tracer.
    pub(crate) fn read_mem(&self, tid: Vtid, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
        if len > MAX_READ {
            debug_assert!(false, "unchecked guest length {len} reached read_mem");
            return Err(Errno::ENOMEM);
        }
        let mut buf = vec![0u8; len];
        self.read_into(tid, addr, &mut buf)?;
        Ok(buf)
    }

    /// Fills `buf` from tracee memory at `addr` (`EFAULT` on a bad address). The one
    /// place a handler reads guest memory ([`ThreadMemory`]).
    pub(crate) fn read_into(&self, tid: Vtid, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.mem.read(self.real(tid), addr, buf)
    }

    /// Reads the pieces `ranges` of tracee memory into `buf`, in order; returns the bytes
    /// read (fewer when a piece faults after the first).
    pub(crate) fn read_vectored(
        &self,
        tid: Vtid,
        ranges: &[(u64, usize)],
        buf: &mut [u8],
    ) -> Result<usize, Errno> {
        self.mem.read_vectored(self.real(tid), ranges, buf)
    }

    /// Writes `data` over the pieces `ranges` of tracee memory, in order.
    pub(crate) fn write_vectored(
        &self,
        tid: Vtid,
        ranges: &[(u64, usize)],
        data: &[u8],
    ) -> Result<(), Errno> {
        self.mem.write_vectored(self.real(tid), ranges, data)
    }

    /// Reads a plain value from tracee memory.
    pub(crate) fn read_val<T: sys::Pod>(&self, tid: Vtid, addr: u64) -> Result<T, Errno> {
        let bytes = self.read_mem(tid, addr, std::mem::size_of::<T>())?;
        Ok(sys::pod_read(&bytes))
    }

    /// Writes bytes into tracee memory.
    pub(crate) fn write_mem(&self, tid: Vtid, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.mem.write(self.real(tid), addr, data)
    }

    /// Writes a plain value into tracee memory.
    pub(crate) fn write_val<T: sys::Pod>(&self, tid: Vtid, addr: u64, v: &T) -> Result<(), Errno> {
        self.write_mem(tid, addr, sys::pod_bytes(v))
    }

    /// Reads a NUL-terminated string (at most 4096 bytes).
    pub(crate) fn read_cstr(&self, tid: Vtid, addr: u64) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 256];
        while out.len() < 4096 {
            // Read up to the end of the page, so a string near a page end does not fault.
            let at = addr.checked_add(out.len() as u64).ok_or(Errno::EFAULT)?;
            let page_left = 4096usize.saturating_sub((at % 4096) as usize);
            let n = chunk.len().min(page_left);
            self.read_into(tid, at, &mut chunk[..n])?;
            if let Some(z) = chunk[..n].iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..z]);
                return Ok(out);
            }
            out.extend_from_slice(&chunk[..n]);
        }
        Err(Errno::ENAMETOOLONG)
    }
}

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
