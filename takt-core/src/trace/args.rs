//! How many arguments each x86-64 system call takes (from the kernel's `SYSCALL_DEFINEn`
//! signatures; the numbers follow `asm/unistd_64.h`). The trace records only a call's
//! own arguments: the other argument registers hold whatever the caller left there
//! (host-derived values, often), and hashing them would make same-seed runs differ.

/// The number of arguments syscall `nr` takes; 6 for a number this table does not know.
pub fn arg_count(nr: u32) -> usize {
    let n = nr as usize;
    let count = match n {
        0..=334 => LOW[n],
        424..=462 => HIGH[n - 424],
        _ => 6,
    };
    count as usize
}

/// `args` with the registers `nr` does not take set to zero.
pub fn used_args(nr: u32, mut args: [u64; 6]) -> [u64; 6] {
    for a in args.iter_mut().skip(arg_count(nr)) {
        *a = 0;
    }
    args
}

/// Syscalls 0 to 334.
#[rustfmt::skip]
const LOW: [u8; 335] = [
    3, 3, 3, 1, 2, 2, 2, 3, 3, 6, 3, 2, 1, 4, 4, 0, 3, 4, 4, 3, // 0..
    3, 2, 1, 5, 0, 5, 3, 3, 3, 3, 3, 3, 1, 2, 0, 2, 2, 1, 3, 0, // 20..
    4, 3, 3, 3, 6, 6, 3, 3, 2, 3, 2, 3, 3, 4, 5, 5, 5, 0, 0, 3, // 40..
    1, 4, 2, 1, 3, 3, 4, 1, 2, 4, 5, 3, 3, 2, 1, 1, 2, 2, 3, 2, // 60..
    1, 1, 2, 2, 1, 2, 2, 1, 2, 3, 2, 2, 3, 3, 3, 1, 2, 2, 2, 1, // 80..
    1, 4, 0, 3, 0, 1, 1, 0, 0, 2, 0, 0, 0, 2, 2, 2, 2, 3, 3, 3, // 100..
    3, 1, 1, 1, 1, 2, 2, 2, 4, 3, 2, 2, 2, 3, 1, 1, 2, 2, 2, 3, // 120..
    2, 3, 2, 2, 3, 1, 1, 1, 2, 2, 2, 1, 0, 0, 3, 2, 1, 5, 2, 1, // 140..
    2, 1, 0, 1, 2, 5, 2, 2, 1, 4, 2, 2, 1, 3, 2, 3, 2, 1, 5, 4, // 160..
    3, 5, 5, 5, 3, 3, 0, 3, 5, 5, 5, 4, 4, 4, 3, 3, 3, 2, 2, 2, // 180..
    2, 1, 6, 3, 3, 1, 2, 1, 5, 3, 3, 1, 3, 1, 4, 4, 5, 3, 1, 0, // 200..
    4, 4, 3, 4, 2, 1, 1, 2, 2, 2, 4, 1, 4, 4, 3, 2, 5, 6, 3, 5, // 220..
    4, 1, 5, 5, 2, 3, 4, 5, 5, 4, 5, 3, 2, 0, 3, 2, 4, 4, 3, 4, // 240..
    5, 3, 4, 3, 4, 5, 3, 4, 3, 3, 6, 5, 1, 2, 3, 6, 4, 4, 4, 6, // 260..
    4, 6, 3, 2, 1, 4, 4, 2, 4, 4, 2, 1, 3, 2, 1, 5, 5, 4, 5, 5, // 280..
    2, 5, 4, 5, 3, 2, 1, 4, 2, 3, 6, 6, 5, 3, 3, 4, 5, 3, 3, 2, // 300..
    5, 3, 5, 1, 3, 3, 6, 6, 6, 4, 2, 1, 5, 6, 4, // 320..
];

/// Syscalls 424 to 462.
#[rustfmt::skip]
const HIGH: [u8; 39] = [
    4, 2, 6, 4, 3, 5, 2, 5, 3, 3, 2, 2, 3, 4, 3, 4, 5, 6, 5, 4, // 424..
    3, 4, 2, 1, 2, 5, 4, 4, 4, 3, 4, 6, 4, 4, 4, 4, 4, 3, 3, // 444..
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_well_known_calls() {
        let cases = [
            (libc::SYS_getppid, 0),
            (libc::SYS_close, 1),
            (libc::SYS_clock_gettime, 2),
            (libc::SYS_read, 3),
            (libc::SYS_openat, 4),
            (libc::SYS_setsockopt, 5),
            (libc::SYS_futex, 6),
            (libc::SYS_pselect6, 6),
            (libc::SYS_clone3, 2),
            (libc::SYS_mseal, 3),
        ];
        for (nr, n) in cases {
            assert_eq!(arg_count(nr as u32), n, "syscall {nr}");
        }
        assert_eq!(arg_count(9999), 6);
        assert_eq!(used_args(libc::SYS_getppid as u32, [9; 6]), [0; 6]);
        assert_eq!(used_args(libc::SYS_read as u32, [7; 6]), [7, 7, 7, 0, 0, 0]);
    }
}
