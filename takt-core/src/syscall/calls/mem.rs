//! Typed memory calls: mappings, protections, locking, advice, System V shared memory.
//! Most run natively (the seccomp filter lets them through); they are typed so the trace
//! and the debug log can print them when they are seen.

use crate::syscall::arg::*;
use crate::syscall::decl::{calls, Custom};
use crate::syscall::enums::*;
use crate::syscall::flags::*;
use crate::syscall::render::RetStyle;

calls! {
    /// `mmap(addr, length, prot, flags, fd, offset)`: returns an address.
    Mmap = mmap(addr: UserPtr, length: u64, prot: Prot, flags: MapFlags, fd: Fd, offset: Hex) custom;
    /// `mprotect(addr, len, prot)`
    Mprotect = mprotect(addr: UserPtr, len: u64, prot: Prot);
    /// `munmap(addr, length)`
    Munmap = munmap(addr: UserPtr, length: u64);
    /// `brk(addr)`: returns the new break.
    Brk = brk(addr: UserPtr) custom;
    /// `mremap(old_address, old_size, new_size, flags, new_address)`: returns an address.
    Mremap = mremap(old_address: UserPtr, old_size: u64, new_size: u64, flags: MremapFlags, new_address: UserPtr) custom;
    /// `msync(addr, length, flags)`
    Msync = msync(addr: UserPtr, length: u64, flags: MsyncFlags);
    /// `mincore(addr, length, vec)`
    Mincore = mincore(addr: UserPtr, length: u64, vec: UserPtr);
    /// `madvise(addr, length, advice)`
    Madvise = madvise(addr: UserPtr, length: u64, advice: MadvAdvice);
    /// `mlock(addr, len)`
    Mlock = mlock(addr: UserPtr, len: u64);
    /// `munlock(addr, len)`
    Munlock = munlock(addr: UserPtr, len: u64);
    /// `mlock2(addr, len, flags)`
    Mlock2 = mlock2(addr: UserPtr, len: u64, flags: Hex32);
    /// `mlockall(flags)`
    Mlockall = mlockall(flags: MclFlags);
    /// `munlockall()`
    Munlockall = munlockall();
    /// `pkey_alloc(flags, access_rights)`
    PkeyAlloc = pkey_alloc(flags: Hex32, access_rights: Hex32);
    /// `pkey_free(pkey)`
    PkeyFree = pkey_free(pkey: Int);
    /// `pkey_mprotect(addr, len, prot, pkey)`
    PkeyMprotect = pkey_mprotect(addr: UserPtr, len: u64, prot: Prot, pkey: Int);
    /// `membarrier(cmd, flags, cpu_id)`
    Membarrier = membarrier(cmd: MembarrierCmd, flags: UInt, cpu_id: Int);
    /// `shmget(key, size, shmflg)`
    Shmget = shmget(key: Hex32, size: u64, shmflg: Hex32);
    /// `shmat(shmid, shmaddr, shmflg)`: returns an address.
    Shmat = shmat(shmid: Int, shmaddr: UserPtr, shmflg: Hex32) custom;
    /// `shmdt(shmaddr)`
    Shmdt = shmdt(shmaddr: UserPtr);
    /// `shmctl(shmid, cmd, buf)`
    Shmctl = shmctl(shmid: Int, cmd: Int, buf: UserPtr);
}

macro_rules! returns_address {
    ($($t:ident),*) => {$(
        impl Custom for $t {
            fn ret_style(&self) -> RetStyle {
                RetStyle::Hex
            }
        }
    )*};
}
returns_address!(Mmap, Brk, Mremap, Shmat);
