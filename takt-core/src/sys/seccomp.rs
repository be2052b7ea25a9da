//! The seccomp-bpf filter every tracee installs before `execve`.
//!
//! Policy (which calls run natively) is decided by the engine's dispatch table; this file
//! only turns a list of allowed syscall numbers into a BPF program: allowed calls return
//! `SECCOMP_RET_ALLOW`, every other x86-64 call `SECCOMP_RET_TRACE` (one ptrace stop), and
//! calls from other ABIs (i386 `int 0x80`, x32) fail with `ENOSYS`.
//!
//! The calls in [`Traced::notified`] stop through a seccomp user notification instead
//! (`SECCOMP_RET_USER_NOTIF`, answered on the listener the filter was installed with):
//! about half the cost of a ptrace stop here (see [`super::notif`]). The same number
//! with the x32 bit set is traced: that is how the engine re-executes such a call under
//! ptrace when it needs the call's exit ([`super::notif`] explains).
//!
//! One allowed call can be traced on its arguments: `mmap` of a shared file mapping
//! (`MAP_SHARED` without `MAP_ANONYMOUS`), whose writes the file model must follow,
//! stops when [`Traced::shared_file_mmap`] is set; every other `mmap` runs natively.

/// One BPF instruction, as the kernel reads it.
pub type Insn = libc::sock_filter;

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;

fn stmt(code: u32, k: u32) -> Insn {
    Insn {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> Insn {
    Insn {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// Allowed calls that are traced all the same when their arguments say so, and traced
/// calls that stop through the notification listener.
#[derive(Debug, Clone, Copy, Default)]
pub struct Traced<'a> {
    /// `mmap` with `MAP_SHARED` (or `MAP_SHARED_VALIDATE`) and without `MAP_ANONYMOUS`.
    pub shared_file_mmap: bool,
    /// Calls answered through a seccomp user notification (empty: all are traced).
    pub notified: &'a [u32],
}

/// Where `seccomp_data.args[3]`'s low 32 bits are (little-endian x86-64).
const ARG3_LOW: u32 = 16 + 3 * 8;

/// Builds the filter program: `allowed` run natively (but as `traced` says), everything
/// else is traced.
pub fn program(allowed: &[u32], traced: Traced<'_>) -> Vec<Insn> {
    use libc::{BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W};
    let ld = BPF_LD | BPF_W | BPF_ABS;
    let mut p = vec![
        stmt(ld, 4), // seccomp_data.arch
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        stmt(ld, 0), // seccomp_data.nr
    ];
    // x32 numbers fail, except a notified call re-executed by the engine (traced).
    let n = traced.notified.len().min(200);
    p.push(jump(
        BPF_JMP | BPF_JGE | BPF_K,
        X32_SYSCALL_BIT,
        0,
        n as u8 + 2,
    ));
    for (i, &nr) in traced.notified[..n].iter().enumerate() {
        p.push(jump(
            BPF_JMP | BPF_JEQ | BPF_K,
            X32_SYSCALL_BIT | nr,
            (n - i) as u8,
            0,
        ));
    }
    p.push(stmt(
        BPF_RET | BPF_K,
        SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
    ));
    p.push(stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
    if traced.shared_file_mmap {
        // Not mmap: on to the lists (the accumulator still holds the number).
        p.push(jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_mmap as u32, 0, 5));
        p.push(stmt(ld, ARG3_LOW)); // flags
        p.push(jump(
            BPF_JMP | BPF_JSET | BPF_K,
            libc::MAP_ANONYMOUS as u32,
            2,
            0,
        ));
        p.push(jump(
            BPF_JMP | BPF_JSET | BPF_K,
            libc::MAP_SHARED as u32,
            0,
            1,
        ));
        p.push(stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
        p.push(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    }
    // Checks in groups of at most 255 (a BPF jump offset is one byte).
    for group in allowed.chunks(200) {
        let n = group.len();
        for (i, &nr) in group.iter().enumerate() {
            // On a match, jump over the rest of the group and the TRACE return.
            let jt = (n - i - 1 + 1) as u8;
            p.push(jump(BPF_JMP | BPF_JEQ | BPF_K, nr, jt, 0));
        }
        p.push(jump(BPF_JMP | libc::BPF_JA, 1, 0, 0)); // no match in this group: skip ALLOW
        p.push(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    }
    for (i, &nr) in traced.notified[..n].iter().enumerate() {
        p.push(jump(BPF_JMP | BPF_JEQ | BPF_K, nr, (n - i) as u8, 0));
    }
    p.push(stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
    if n > 0 {
        p.push(stmt(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny BPF interpreter for the instructions `program` emits (`flags`: the low
    /// 32 bits of the fourth argument).
    fn run_with(p: &[Insn], arch: u32, nr: u32, flags: u32) -> u32 {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let i = p[pc];
            let code = i.code as u32;
            match code {
                c if c == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => {
                    acc = match i.k {
                        4 => arch,
                        0 => nr,
                        ARG3_LOW => flags,
                        k => panic!("load of offset {k}"),
                    };
                    pc += 1;
                }
                c if c == libc::BPF_RET | libc::BPF_K => return i.k,
                c if c == libc::BPF_JMP | libc::BPF_JA => pc += 1 + i.k as usize,
                c => {
                    let taken = if c == libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K {
                        acc == i.k
                    } else if c == libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K {
                        acc & i.k != 0
                    } else {
                        acc >= i.k
                    };
                    pc += 1 + if taken { i.jt } else { i.jf } as usize;
                }
            }
        }
    }

    fn run(p: &[Insn], arch: u32, nr: u32) -> u32 {
        run_with(p, arch, nr, 0)
    }

    #[test]
    fn shared_file_mappings_stop_and_other_mmaps_run() {
        let mmap = libc::SYS_mmap as u32;
        let allowed = [mmap, libc::SYS_brk as u32];
        let p = program(
            &allowed,
            Traced {
                shared_file_mmap: true,
                ..Traced::default()
            },
        );
        let (shared, private, anon) = (
            libc::MAP_SHARED as u32,
            libc::MAP_PRIVATE as u32,
            libc::MAP_ANONYMOUS as u32,
        );
        let x86 = AUDIT_ARCH_X86_64;
        assert_eq!(run_with(&p, x86, mmap, shared), SECCOMP_RET_TRACE);
        assert_eq!(run_with(&p, x86, mmap, 0x03), SECCOMP_RET_TRACE); // SHARED_VALIDATE
        assert_eq!(run_with(&p, x86, mmap, private), SECCOMP_RET_ALLOW);
        assert_eq!(run_with(&p, x86, mmap, shared | anon), SECCOMP_RET_ALLOW);
        assert_eq!(run_with(&p, x86, mmap, private | anon), SECCOMP_RET_ALLOW);
        // The flags of other calls do not matter.
        assert_eq!(
            run_with(&p, x86, libc::SYS_brk as u32, shared),
            SECCOMP_RET_ALLOW
        );
        assert_eq!(run_with(&p, x86, 1, shared), SECCOMP_RET_TRACE);
        let plain = program(&allowed, Traced::default());
        assert_eq!(run_with(&plain, x86, mmap, shared), SECCOMP_RET_ALLOW);
    }

    #[test]
    fn notified_calls_notify_and_their_x32_twins_trace() {
        let allowed = [libc::SYS_brk as u32];
        let notified = [libc::SYS_read as u32, libc::SYS_sendto as u32];
        let p = program(
            &allowed,
            Traced {
                notified: &notified,
                ..Traced::default()
            },
        );
        let x86 = AUDIT_ARCH_X86_64;
        for nr in notified {
            assert_eq!(run(&p, x86, nr), SECCOMP_RET_USER_NOTIF, "nr {nr}");
            assert_eq!(run(&p, x86, X32_SYSCALL_BIT | nr), SECCOMP_RET_TRACE);
        }
        assert_eq!(run(&p, x86, libc::SYS_brk as u32), SECCOMP_RET_ALLOW);
        assert_eq!(run(&p, x86, libc::SYS_openat as u32), SECCOMP_RET_TRACE);
        let enosys = SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        assert_eq!(run(&p, x86, X32_SYSCALL_BIT | 2), enosys);
        assert_eq!(run(&p, x86, X32_SYSCALL_BIT | libc::SYS_brk as u32), enosys);
    }

    #[test]
    fn allowed_calls_run_and_others_trace() {
        let allowed: Vec<u32> = (0..450).filter(|n| n % 3 == 0).collect();
        let p = program(&allowed, Traced::default());
        for nr in 0..460 {
            let want = if nr % 3 == 0 && nr < 450 {
                SECCOMP_RET_ALLOW
            } else {
                SECCOMP_RET_TRACE
            };
            assert_eq!(run(&p, AUDIT_ARCH_X86_64, nr), want, "nr {nr}");
        }
        assert_eq!(
            run(&p, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 3),
            SECCOMP_RET_ERRNO | 38
        );
        assert_eq!(run(&p, 0x4000_0003, 3), SECCOMP_RET_ERRNO | 38);
    }
}
