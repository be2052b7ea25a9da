//! takt's vDSO: clock reads without a stop.
//!
//! Natively `clock_gettime`, `gettimeofday` and `time` never enter the kernel: libc
//! (and Go) call the kernel's vDSO, which reads the hardware clock. Under takt the
//! hardware clock is trapped (`rdtsc`), so until now the vDSO was hidden from every
//! program (`AT_SYSINFO_EHDR` → `AT_IGNORE`) and each clock read was a trapped syscall:
//! a ptrace stop, a fifth of all stops in the memcached scenario.
//!
//! Now, at each `execve`, takt rewrites the process's own copy of the vDSO (the kernel's
//! image, which the tracer's process maps too, so its symbols are found there):
//!
//! - `clock_gettime`, `gettimeofday` and `time` read the **clock page**, a System V
//!   shared memory segment ([`ClockPage`]) the tracer attaches and each process
//!   attaches at exec (one `shmat` the tracer has it make, [`install`]). The page holds the virtual time, what one read
//!   costs and how many reads may still be answered; a read adds its cost, exactly as a
//!   trapped read does (see `engine::time`), and counts itself on the page. At every
//!   stop the tracer takes the reads counted since it last looked and moves the virtual
//!   clock on by them; before it resumes a thread it writes the time and that thread's
//!   budget. A read the page cannot answer (a CPU-time clock, or no reads left: the
//!   1,000th read in a row, where the cost doubles) is the real syscall, which takt
//!   traps as before. So the values a program reads are the ones trapped reads gave.
//! - `getcpu` and `clock_getres` make their syscall (trapped), and `getrandom` answers
//!   `ENOSYS` (libc and Go then make the trapped syscall).
//!
//! The functions' code is [`STUBS`], assembled from `vdso_stubs.S` beside this file. If
//! anything does not fit (another kernel's vDSO, a function too small) or fails, the vDSO is hidden as before.
//!
//! The guest can write the page (it is attached writable in every process): the tracer
//! trusts nothing it reads back but the count of reads, which it caps at the budget it
//! gave, and it writes every other slot again before any thread runs.

use super::{read_mem, wait, Error, RealTid, Regs, Stop, StopReason, Stopped, ALL, RAX, RIP};
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;

/// The functions takt puts in a process's vDSO, assembled from `vdso_stubs.S`
/// (`clock_gettime` at 0, `gettimeofday` at 0x65, `time` at 0xc6, and the
/// `syscall; int3` gadget at 0x108).
pub const STUBS: [u8; 267] = [
    0x49, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x83, 0xff, 0x0b, 0x77, 0x4e, 0xb8,
    0x21, 0x08, 0x00, 0x00, 0x0f, 0xa3, 0xf8, 0x72, 0x10, 0xb8, 0xd2, 0x00, 0x00, 0x00, 0x0f, 0xa3,
    0xf8, 0x73, 0x3a, 0x4d, 0x8b, 0x48, 0x28, 0xeb, 0x04, 0x4d, 0x8b, 0x48, 0x20, 0x49, 0x8b, 0x40,
    0x08, 0x49, 0x3b, 0x40, 0x10, 0x73, 0x26, 0x48, 0xff, 0xc0, 0x49, 0x89, 0x40, 0x08, 0x49, 0x0f,
    0xaf, 0x40, 0x18, 0x49, 0x03, 0x00, 0x4c, 0x01, 0xc8, 0x31, 0xd2, 0xb9, 0x00, 0xca, 0x9a, 0x3b,
    0x48, 0xf7, 0xf1, 0x48, 0x89, 0x06, 0x48, 0x89, 0x56, 0x08, 0x31, 0xc0, 0xc3, 0xb8, 0xe4, 0x00,
    0x00, 0x00, 0x0f, 0x05, 0xc3, 0x49, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x49,
    0x8b, 0x40, 0x08, 0x49, 0x3b, 0x40, 0x10, 0x73, 0x45, 0x48, 0xff, 0xc0, 0x49, 0x89, 0x40, 0x08,
    0x48, 0x85, 0xf6, 0x74, 0x07, 0x48, 0xc7, 0x06, 0x00, 0x00, 0x00, 0x00, 0x48, 0x85, 0xff, 0x74,
    0x2a, 0x49, 0x0f, 0xaf, 0x40, 0x18, 0x49, 0x03, 0x00, 0x49, 0x03, 0x40, 0x20, 0x31, 0xd2, 0xb9,
    0x00, 0xca, 0x9a, 0x3b, 0x48, 0xf7, 0xf1, 0x48, 0x89, 0x07, 0x48, 0x89, 0xd0, 0x31, 0xd2, 0xb9,
    0xe8, 0x03, 0x00, 0x00, 0x48, 0xf7, 0xf1, 0x48, 0x89, 0x47, 0x08, 0x31, 0xc0, 0xc3, 0xb8, 0x60,
    0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3, 0x49, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
    0x49, 0x8b, 0x40, 0x08, 0x49, 0x3b, 0x40, 0x10, 0x73, 0x26, 0x48, 0xff, 0xc0, 0x49, 0x89, 0x40,
    0x08, 0x49, 0x0f, 0xaf, 0x40, 0x18, 0x49, 0x03, 0x00, 0x49, 0x03, 0x40, 0x20, 0x31, 0xd2, 0xb9,
    0x00, 0xca, 0x9a, 0x3b, 0x48, 0xf7, 0xf1, 0x48, 0x85, 0xff, 0x74, 0x03, 0x48, 0x89, 0x07, 0xc3,
    0xb8, 0xc9, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3, 0x0f, 0x05, 0xcc,
];
/// Where `gettimeofday` starts in [`STUBS`].
const GETTIMEOFDAY: usize = 0x65;
/// Where `time` starts in [`STUBS`].
const TIME: usize = 0xc6;
/// Where the `syscall; int3` gadget is in [`STUBS`].
const GADGET: usize = 0x108;
/// The offset of the page address (a `movabs` immediate) in each function.
const IMM: usize = 2;

/// The clock page's slots (u64 each).
const NOW: usize = 0;
const READS: usize = 1;
const LIMIT: usize = 2;
const COST: usize = 3;
const REALTIME: usize = 4;
const MONOTONIC: usize = 5;

/// One function of the vDSO: its offset in the image and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sym {
    off: u64,
    size: u64,
}

/// The kernel's vDSO image (as the tracer's process maps it) and the functions takt
/// replaces.
#[derive(Debug)]
pub struct Image {
    bytes: Vec<u8>,
    clock_gettime: Sym,
    gettimeofday: Sym,
    time: Sym,
    /// Functions made to trap (their syscall) or to answer `ENOSYS`: (function, code).
    others: Vec<(Sym, &'static [u8])>,
}

/// `mov eax, 309; syscall; ret` (getcpu).
const GETCPU_SYSCALL: [u8; 8] = [0xb8, 0x35, 0x01, 0x00, 0x00, 0x0f, 0x05, 0xc3];
/// `mov eax, 229; syscall; ret` (clock_getres).
const GETRES_SYSCALL: [u8; 8] = [0xb8, 0xe5, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3];
/// `mov rax, -38; ret` (getrandom: ENOSYS).
const ENOSYS: [u8; 8] = [0x48, 0xc7, 0xc0, 0xda, 0xff, 0xff, 0xff, 0xc3];

/// The vDSO of this process (the kernel's image), parsed once; `None` without one, or
/// when its functions do not have room for takt's.
pub fn image() -> Option<&'static Image> {
    static IMAGE: OnceLock<Option<Image>> = OnceLock::new();
    IMAGE.get_or_init(own_image).as_ref()
}

fn own_image() -> Option<Image> {
    // SAFETY: getauxval only reads this process's auxiliary vector.
    let base = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) };
    if base == 0 {
        return None;
    }
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let len = maps.lines().find_map(|l| {
        let range = l.split_whitespace().next()?;
        let (a, b) = range.split_once('-')?;
        let (a, b) = (
            u64::from_str_radix(a, 16).ok()?,
            u64::from_str_radix(b, 16).ok()?,
        );
        (a == base && l.ends_with("[vdso]")).then(|| b.saturating_sub(a))
    })?;
    let mut bytes = vec![0u8; usize::try_from(len).ok()?.min(1 << 16)];
    read_mem(super::gettid(), base, &mut bytes).ok()?;
    Image::parse(bytes)
}

impl Image {
    /// Finds the functions in an image (its dynamic symbols, read by
    /// [`crate::symbols`]). `None` if one is missing or too small for takt's code.
    fn parse(bytes: Vec<u8>) -> Option<Image> {
        let find = |name: &str| {
            crate::symbols::dynamic_function(&bytes, name).map(|(off, size)| Sym { off, size })
        };
        let clock_gettime = find("__vdso_clock_gettime")?;
        let gettimeofday = find("__vdso_gettimeofday")?;
        let time = find("__vdso_time")?;
        let room = |s: Sym, n: usize| {
            s.size >= n as u64
                && s.off
                    .checked_add(s.size)
                    .is_some_and(|e| e <= bytes.len() as u64)
        };
        if !room(clock_gettime, STUBS.len() + 1) || !room(gettimeofday, 5) || !room(time, 5) {
            return None;
        }
        let mut others = Vec::new();
        for (name, code) in [
            ("__vdso_getcpu", &GETCPU_SYSCALL[..]),
            ("__vdso_clock_getres", &GETRES_SYSCALL[..]),
            ("__vdso_getrandom", &ENOSYS[..]),
        ] {
            match find(name) {
                Some(s) if room(s, code.len()) => others.push((s, code)),
                Some(_) => return None,
                None => {}
            }
        }
        Some(Image {
            bytes,
            clock_gettime,
            gettimeofday,
            time,
            others,
        })
    }

    /// The patches for a process whose vDSO is at `base` and whose clock page is at
    /// `page`: (address, bytes).
    fn patches(&self, base: u64, page: u64) -> Vec<(u64, Vec<u8>)> {
        let at = |s: Sym| base.wrapping_add(s.off);
        let mut stubs = STUBS.to_vec();
        for f in [0, GETTIMEOFDAY, TIME] {
            stubs[f + IMM..f + IMM + 8].copy_from_slice(&page.to_le_bytes());
        }
        let cg = at(self.clock_gettime);
        let jump = |from: u64, to: u64| {
            let rel = to.wrapping_sub(from.wrapping_add(5)) as i64;
            let mut j = vec![0xe9];
            j.extend_from_slice(&(rel as i32).to_le_bytes());
            j
        };
        let mut p = vec![(cg, stubs)];
        let gtod = at(self.gettimeofday);
        p.push((gtod, jump(gtod, cg.wrapping_add(GETTIMEOFDAY as u64))));
        let time = at(self.time);
        p.push((time, jump(time, cg.wrapping_add(TIME as u64))));
        for (s, code) in &self.others {
            p.push((at(*s), code.to_vec()));
        }
        p
    }
}

/// The clock page: one System V shared memory segment, attached by the tracer and by
/// every traced process that has takt's vDSO. A segment, not a file: no guest can
/// truncate it under the tracer's mapping (a `SIGBUS` in the tracer) or put another
/// file at its path. It is marked for removal as soon as it is made (Linux still lets
/// processes attach it by id), so it is gone when the last process detaches, even if
/// the tracer dies.
#[derive(Debug)]
pub struct ClockPage {
    ptr: *mut u64,
    id: i32,
    /// The clocks' offsets (ns): CLOCK_REALTIME's, CLOCK_MONOTONIC's.
    offsets: (u64, u64),
}

impl ClockPage {
    /// Makes the segment (4096 zero bytes, attachable by every user: a guest may run as
    /// another) and attaches it; the clocks' offsets are `realtime` and `monotonic` (ns).
    pub fn create(realtime: u64, monotonic: u64) -> std::io::Result<ClockPage> {
        // SAFETY: shmget takes plain values and dereferences nothing.
        let id = unsafe { libc::shmget(libc::IPC_PRIVATE, 4096, libc::IPC_CREAT | 0o666) };
        if id < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: attaches the segment just made at an address the kernel picks; nothing
        // else in this process uses that range.
        let ptr = unsafe { libc::shmat(id, std::ptr::null(), 0) };
        // SAFETY: IPC_RMID takes no buffer (NULL is allowed); attachments stay valid.
        unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) };
        if ptr as isize == -1 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(ClockPage {
            ptr: ptr.cast(),
            id,
            offsets: (realtime, monotonic),
        })
    }

    /// The segment's id (what a process attaches).
    pub fn id(&self) -> i32 {
        self.id
    }

    fn get(&self, slot: usize) -> u64 {
        assert!(slot < 512);
        // SAFETY: the mapping is one page (512 u64 slots, checked above), aligned, alive
        // until drop; a guest may write it concurrently only while this thread waits for
        // it (one thread runs at a time), and a volatile read of a u64 is whole.
        unsafe { self.ptr.add(slot).read_volatile() }
    }

    fn set(&self, slot: usize, v: u64) {
        assert!(slot < 512);
        // SAFETY: as in `get`.
        unsafe { self.ptr.add(slot).write_volatile(v) }
    }

    /// Takes the reads counted since the last [`ClockPage::publish`] (at most `limit`,
    /// whatever the guest wrote) and clears the count.
    pub fn take_reads(&self, limit: u64) -> u64 {
        let r = self.get(READS);
        if r != 0 {
            self.set(READS, 0);
        }
        r.min(limit)
    }

    /// Writes the virtual time (ns), what one read costs (ns) and how many reads may be
    /// answered before the next must trap, for the thread about to run; and the clocks'
    /// offsets again (a process may have written over them: what it wrote lasts only
    /// until it stops, and no other process reads it).
    pub fn publish(&self, now: u64, cost: u64, limit: u64) {
        self.set(REALTIME, self.offsets.0);
        self.set(MONOTONIC, self.offsets.1);
        self.set(NOW, now);
        self.set(READS, 0);
        self.set(LIMIT, limit);
        self.set(COST, cost);
    }
}

impl Drop for ClockPage {
    fn drop(&mut self) {
        // SAFETY: detaches the segment attached in `create`, which nothing uses after this.
        unsafe {
            libc::shmdt(self.ptr.cast());
        }
    }
}

/// Tracee memory written even where it is not writable (the vDSO's code), through
/// `/proc/<tid>/mem` (the kernel then makes the tracee's own copy of the page).
fn forced_writer(tid: RealTid) -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/{tid}/mem"))
        .ok()
}

/// How a process's vDSO went: installed (the page is at this address in the process),
/// or not (hide the vDSO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// takt's functions are in place.
    Yes,
    /// Something did not fit or failed: the vDSO must be hidden.
    No,
}

/// Puts takt's functions in the vDSO at `base` of the process stopped at `s` (its
/// `PTRACE_EVENT_EXEC` stop; `tgid` its process), attaching the clock page (System V
/// segment `shm`). Returns the process's stop after it: its `execve`'s exit.
///
/// The process makes one syscall for it (`shmat`) at the gadget before its first
/// instruction; a signal that arrives meanwhile is held and raised again after. Fails
/// only if the tracee vanished.
pub fn install(
    s: Stopped,
    tgid: RealTid,
    base: u64,
    shm: i32,
) -> Result<(Stopped, Installed), Error> {
    let tid = s.tid();
    let mut held = Vec::new();
    let s = to_syscall_exit(s, &mut held)?;
    let r = match image() {
        Some(img) => place(s, img, base, shm, &mut held)?,
        None => (s, Installed::No),
    };
    for sig in held {
        let _ = super::tgkill(tgid, tid, sig);
    }
    Ok(r)
}

/// Checks the image, attaches the page and writes the functions.
fn place(
    s: Stopped,
    img: &Image,
    base: u64,
    shm: i32,
    held: &mut Vec<i32>,
) -> Result<(Stopped, Installed), Error> {
    let tid = s.tid();
    let mut theirs = vec![0u8; img.bytes.len()];
    if read_mem(tid, base, &mut theirs).is_err() || theirs != img.bytes {
        return Ok((s, Installed::No));
    }
    let gadget = base
        .wrapping_add(img.clock_gettime.off)
        .wrapping_add(GADGET as u64);
    let Some(mem) = forced_writer(tid) else {
        return Ok((s, Installed::No));
    };
    if mem.write_all_at(&STUBS[GADGET..], gadget).is_err() {
        return Ok((s, Installed::No));
    }
    let saved = s.regs()?;
    let args = [shm as u64, 0, 0, 0, 0, 0];
    let (s, page) = call(s, &saved, gadget, libc::SYS_shmat, args, held)?;
    let mut all = saved;
    all.dirty = ALL;
    s.set_regs(&all)?;
    // A page address is below the top of user space; an errno is a small negative value.
    if !(4096..0x8000_0000_0000).contains(&page) {
        return Ok((s, Installed::No));
    }
    for (at, bytes) in img.patches(base, page as u64) {
        if mem.write_all_at(&bytes, at).is_err() {
            return Ok((s, Installed::No));
        }
    }
    Ok((s, Installed::Yes))
}

/// From the `PTRACE_EVENT_EXEC` stop to the exit stop of the `execve` (where registers
/// set stay set: the kernel has written the call's return value by then).
fn to_syscall_exit(s: Stopped, held: &mut Vec<i32>) -> Result<Stopped, Error> {
    next_syscall_stop(s.cont_to_syscall_exit()?, held)
}

/// Has the process stopped at a syscall's exit make syscall `nr` at `gadget` and stop
/// at its exit again; returns the call's result. Registers other than the call's are
/// those of `base`.
fn call(
    s: Stopped,
    base: &Regs,
    gadget: u64,
    nr: i64,
    args: [u64; 6],
    held: &mut Vec<i32>,
) -> Result<(Stopped, i64), Error> {
    let mut r = *base;
    r.set(RIP, gadget);
    r.set(RAX, nr as u64);
    r.set_args(args);
    s.set_regs(&r)?;
    let entry = next_syscall_stop(s.cont_to_syscall_exit()?, held)?;
    let exit = next_syscall_stop(entry.cont_to_syscall_exit()?, held)?;
    let ret = exit.regs()?.ret();
    Ok((exit, ret))
}

/// Waits for the next syscall-entry or -exit stop of a thread resumed with
/// `PTRACE_SYSCALL`, resuming it the same way past other stops (a seccomp stop of the
/// call itself; a signal, held in `held` and suppressed).
fn next_syscall_stop(mut running: super::Running, held: &mut Vec<i32>) -> Result<Stopped, Error> {
    loop {
        match wait(running)? {
            Stop::Stopped(s, StopReason::SyscallExit) => return Ok(s),
            Stop::Stopped(s, StopReason::Signal(sig)) => {
                if !held.contains(&sig) {
                    held.push(sig); // raised again once: at most one of each is pending
                }
                running = s.cont_to_syscall_exit()?;
            }
            Stop::Stopped(s, _) => running = s.cont_to_syscall_exit()?,
            Stop::Exited(tid, _) | Stop::Signaled(tid, _, _) => {
                return Err(Error::TraceeGone { tid })
            }
            // `wait` reports ptrace stops only.
            Stop::Notified(n) => return Err(Error::TraceeGone { tid: n.tid }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machines_vdso_has_room_for_takts_functions() {
        let Some(img) = image() else {
            eprintln!("no vDSO here: nothing to check");
            return;
        };
        assert!(img.clock_gettime.size as usize > STUBS.len());
        let p = img.patches(0x7000_0000_0000, 0x7100_0000_0000);
        assert_eq!(&p[0].1[IMM..IMM + 8], &0x7100_0000_0000u64.to_le_bytes());
        // The jumps land on the functions in the stubs.
        let (gtod, j) = (&p[1].0, &p[1].1);
        let rel = i32::from_le_bytes(j[1..5].try_into().unwrap()) as i64;
        assert_eq!(
            gtod.wrapping_add(5).wrapping_add(rel as u64),
            0x7000_0000_0000 + img.clock_gettime.off + GETTIMEOFDAY as u64
        );
    }

    #[test]
    fn a_truncated_or_foreign_image_is_refused_not_a_panic() {
        if let Some(img) = image() {
            for cut in [0, 3, 64, 0x40 + 56, img.bytes.len() / 2] {
                let _ = Image::parse(img.bytes[..cut].to_vec());
            }
        }
        assert!(Image::parse(b"\x7fELF\x02garbage".to_vec()).is_none());
        let mut junk = vec![0xffu8; 8192];
        junk[..5].copy_from_slice(b"\x7fELF\x02");
        assert!(Image::parse(junk).is_none());
    }

    #[test]
    fn the_stubs_are_the_assembled_source() {
        let dir = std::env::temp_dir().join(format!("takt-vdso-as-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src/sys/vdso_stubs.S");
        let obj = dir.join("stubs.o");
        let bin = dir.join("stubs.bin");
        let ok = std::process::Command::new("as")
            .arg("-o")
            .arg(&obj)
            .arg(src)
            .status()
            .is_ok_and(|s| s.success())
            && std::process::Command::new("objcopy")
                .args(["-O", "binary", "-j", ".text"])
                .arg(&obj)
                .arg(&bin)
                .status()
                .is_ok_and(|s| s.success());
        let built = std::fs::read(&bin);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            ok,
            "as and objcopy (binutils, which scripts/setup installs) could not assemble {src}"
        );
        let built = built.expect("objcopy wrote it");
        assert_eq!(built, STUBS.to_vec(), "vdso_stubs.S and STUBS differ");
    }

    #[test]
    fn the_page_caps_what_a_guest_claims_to_have_read() {
        let page = ClockPage::create(1, 2).expect("page");
        page.publish(100, 500, 999);
        page.set(READS, u64::MAX);
        assert_eq!(page.take_reads(999), 999);
        assert_eq!(page.take_reads(999), 0);
        drop(page);
    }
}
