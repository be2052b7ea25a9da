//! The seccomp-bpf filter every tracee installs before `execve`.
//!
//! Policy (which calls run natively) is decided by the engine's dispatch table; this file
//! only turns a list of allowed syscall numbers into a BPF program: allowed calls return
//! `SECCOMP_RET_ALLOW`, every other x86-64 call `SECCOMP_RET_TRACE` (one ptrace stop), and
//! calls from other ABIs (i386 `int 0x80`, x32) fail with `ENOSYS`.

/// One BPF instruction, as the kernel reads it.
pub type Insn = libc::sock_filter;

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_RET_TRACE: u32 = 0x7ff0_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;

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

/// Builds the filter program: `allowed` run natively, everything else is traced.
pub fn program(allowed: &[u32]) -> Vec<Insn> {
    use libc::{BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W};
    let ld = BPF_LD | BPF_W | BPF_ABS;
    let mut p = vec![
        stmt(ld, 4), // seccomp_data.arch
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        stmt(ld, 0), // seccomp_data.nr
        jump(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
        stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
    ];
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
    p.push(stmt(BPF_RET | BPF_K, SECCOMP_RET_TRACE));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny BPF interpreter for the instructions `program` emits.
    fn run(p: &[Insn], arch: u32, nr: u32) -> u32 {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let i = p[pc];
            let code = i.code as u32;
            match code {
                c if c == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => {
                    acc = if i.k == 4 { arch } else { nr };
                    pc += 1;
                }
                c if c == libc::BPF_RET | libc::BPF_K => return i.k,
                c if c == libc::BPF_JMP | libc::BPF_JA => pc += 1 + i.k as usize,
                c => {
                    let taken = if c == libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K {
                        acc == i.k
                    } else {
                        acc >= i.k
                    };
                    pc += 1 + if taken { i.jt } else { i.jf } as usize;
                }
            }
        }
    }

    #[test]
    fn allowed_calls_run_and_others_trace() {
        let allowed: Vec<u32> = (0..450).filter(|n| n % 3 == 0).collect();
        let p = program(&allowed);
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
