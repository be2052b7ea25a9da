//! What the tracer reads about its tracees from the host's `/proc`: a thread's pid in
//! the scenario's namespace, the program a process runs, the signals a thread blocks,
//! whether a process has an fd open. Reads only; every function answers `None` (or
//! `false`) when the process is gone.

use super::RealTid;

/// One `Key:` field of `/proc/<real>/status`.
fn status_field(real: RealTid, key: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{real}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_string())
}

/// The pid of `real` in the innermost PID namespace it belongs to (`NSpid:`).
pub fn ns_pid(real: RealTid) -> Option<i32> {
    status_field(real, "NSpid:")?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

/// The signals thread `real` blocks (`SigBlk:`), as a bit mask (bit `n - 1` for signal `n`).
pub fn blocked_signals(real: RealTid) -> Option<u64> {
    u64::from_str_radix(&status_field(real, "SigBlk:")?, 16).ok()
}

/// The executable process `real` runs (`/proc/<real>/exe`).
pub fn exe(real: RealTid) -> Option<String> {
    std::fs::read_link(format!("/proc/{real}/exe"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Whether process `real` has descriptor `fd` open.
pub fn has_fd(real: RealTid, fd: i32) -> bool {
    std::fs::symlink_metadata(format!("/proc/{real}/fd/{fd}")).is_ok()
}
