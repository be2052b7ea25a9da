//! Calls that would reach the host outside the scenario: each is refused with `EPERM`
//! (and named once in the report's notes) or emulated within the scenario. None of them
//! is ever passed to the kernel.
//!
//! - Refused: mounts and the new mount API, `chroot`, `pivot_root`, namespaces
//!   (`setns`, `unshare` of a namespace, `clone`/`clone3` with a `CLONE_NEW*` flag),
//!   setting the clock (`settimeofday`, `clock_settime`, `adjtimex`/`clock_adjtime`
//!   with modes), swap, `reboot`, `kexec_*`, kernel modules, `bpf`, `perf_event_open`,
//!   `ptrace`, other processes' memory (`process_vm_*`, `kcmp`, `pidfd_getfd`), kernel
//!   keyrings, `acct`, quotas, I/O ports, the kernel log, `vhangup`,
//!   `open_by_handle_at`, `fanotify_init`, device nodes (`mknod` of a character or
//!   block device).
//! - Emulated: `sethostname`/`setdomainname` rename the node (`uname` shows it),
//!   `adjtimex`/`clock_adjtime` with no modes read the virtual clock.

use super::{Out, Res};
use crate::errno::Errno;
use crate::syscall::calls::{Adjtimex, ClockAdjtime, Mknod, Mknodat, Unshare};
use crate::syscall::Syscall;
use crate::world::{Vtid, World};

/// The namespace flags of `clone`, `clone3` and `unshare`.
pub(crate) const CLONE_NEW_ANY: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u64
    | 0x80; // CLONE_NEWTIME

/// Refuses a call that would change the host: `EPERM`, and a note naming it.
pub(crate) fn refuse(e: &mut World, nr: u32, why: &str) -> Res {
    let name = syscalls::Sysno::new(nr as usize).map_or("?", |s| s.name());
    e.note(format!("{name} refused with EPERM ({why})"));
    Err(Errno::EPERM)
}

/// `unshare`: no flags is a no-op; a flag it does not know is `EINVAL`;
/// `CLONE_FS`/`CLONE_SYSVSEM` only concern the caller, and `CLONE_THREAD`,
/// `CLONE_SIGHAND` and `CLONE_VM` change nothing (the kernel refuses them in a
/// process that shares them); a namespace (or `CLONE_FILES`, which the fd model does
/// not follow) is refused.
pub fn unshare(e: &mut World, c: Unshare) -> Res {
    // The kernel reads an `unsigned long` (a bit past 32 is `EINVAL`).
    let flags = c.flags.raw();
    let own = (libc::CLONE_FS
        | libc::CLONE_SYSVSEM
        | libc::CLONE_THREAD
        | libc::CLONE_SIGHAND
        | libc::CLONE_VM) as u64;
    let known = own | CLONE_NEW_ANY | libc::CLONE_FILES as u64;
    if flags == 0 {
        return Ok(Out::Return(0));
    }
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & !own == 0 {
        return Ok(Out::Pass);
    }
    refuse(
        e,
        Unshare::NR,
        "namespaces and fd-table unsharing are not modelled",
    )
}

/// `mknod`/`mknodat`: FIFOs, regular files and sockets are files of the scenario; a
/// character or block device would open the host's hardware.
pub fn mknod(e: &mut World, c: Mknod) -> Res {
    mknod_mode(e, Mknod::NR, c.mode.get())
}

/// `mknodat`: as [`mknod`].
pub fn mknodat(e: &mut World, c: Mknodat) -> Res {
    mknod_mode(e, Mknodat::NR, c.mode.get())
}

/// `mknod` (`nr`) of a node of `mode`.
fn mknod_mode(e: &mut World, nr: u32, mode: u32) -> Res {
    let kind = mode & libc::S_IFMT;
    if kind == libc::S_IFCHR || kind == libc::S_IFBLK {
        return refuse(e, nr, "device nodes reach the host's devices");
    }
    Ok(Out::Pass)
}

/// `sethostname`/`setdomainname` (`domain`) of `len` bytes at `name`: renames the
/// caller's node (Linux's limits: at most 64 bytes, `EINVAL` beyond or for a negative
/// length, `EFAULT` on a bad pointer).
pub fn set_uts(e: &mut World, tid: Vtid, domain: bool, name: u64, len: i32) -> Res {
    let Some(len) = usize::try_from(len).ok().filter(|&l| l <= 64) else {
        return Err(Errno::EINVAL);
    };
    let bytes = e.read_mem(tid, name, len)?;
    let node = e.procs[&e.threads[&tid].pid].node;
    let uts = &mut e.uts[node];
    if domain {
        uts.domainname = bytes;
    } else {
        uts.hostname = bytes;
    }
    Ok(Out::Return(0))
}

/// Size of `struct timex` on x86-64.
const TIMEX: usize = 208;

/// `adjtimex`: as `clock_adjtime` of `CLOCK_REALTIME`.
pub fn adjtimex(e: &mut World, tid: Vtid, c: Adjtimex) -> Res {
    timex(e, tid, Syscall::Adjtimex(c).nr(), None, c.buf.addr())
}

/// `clock_adjtime(clockid, buf)`.
pub fn clock_adjtime(e: &mut World, tid: Vtid, c: ClockAdjtime) -> Res {
    timex(
        e,
        tid,
        ClockAdjtime::NR,
        Some(c.clockid.get()),
        c.buf.addr(),
    )
}

/// `adjtimex` (`clk` = `None`) and `clock_adjtime` (call `nr`): with no modes, a read of
/// the virtual clock (`TIME_ERROR`: not synchronized, as a fresh machine says); any
/// adjustment is refused.
fn timex(e: &mut World, tid: Vtid, nr: u32, clk: Option<i32>, buf: u64) -> Res {
    if let Some(c) = clk.filter(|&c| c != libc::CLOCK_REALTIME) {
        return Err(if !(0..=libc::CLOCK_TAI).contains(&c) {
            Errno::EINVAL
        } else {
            Errno::EOPNOTSUPP
        });
    }
    let raw = e.read_mem(tid, buf, TIMEX)?;
    let modes = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
    if modes != 0 {
        return refuse(e, nr, "the virtual clock cannot be set");
    }
    let real = super::time::realtime_nanos(e.now);
    let mut tx = [0u8; TIMEX];
    let mut put = |off: usize, v: i64| tx[off..][..8].copy_from_slice(&v.to_le_bytes());
    put(24, 16_000_000); // maxerror (µs)
    put(32, 16_000_000); // esterror (µs)
    put(56, 1); // precision (µs)
    put(64, 32_768_000); // tolerance
    put(72, (real / 1_000_000_000) as i64); // time.tv_sec
    put(80, ((real % 1_000_000_000) / 1000) as i64); // time.tv_usec
    put(88, 10_000); // tick (µs)
    tx[40..44].copy_from_slice(&libc::STA_UNSYNC.to_le_bytes()); // status
    e.write_mem(tid, buf, &tx)?;
    Ok(Out::Return(libc::TIME_ERROR as i64))
}
