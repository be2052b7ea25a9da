//! The files through which programs read the host's state (`/proc/meminfo`,
//! `/proc/stat`, `/proc/cpuinfo`, `/proc/loadavg`, `/proc/uptime`, the CPU lists under
//! `/sys/devices/system/cpu`, the cgroup v2 limits), and what a node shows instead:
//! fixed figures consistent with its virtual machine (the CPU count programs see, the
//! 4 GiB `sysinfo` reports) and times from the virtual clock. Sans-I/O: this module only
//! makes the contents; the engine writes them to the node's directory when a program
//! opens one of these paths, and the open is redirected there.
//!
//! A JVM sizes its heap and garbage collector from `/proc/meminfo` and the cgroup files,
//! Go and glibc count CPUs from `/sys/devices/system/cpu/online`: read from the host,
//! these made same-seed runs differ with the machine's load.

use crate::time::VTime;
use std::collections::BTreeMap;

/// What a node's files are made from.
#[derive(Debug, Clone, Copy)]
pub struct Machine {
    /// CPUs programs see.
    pub cpus: usize,
    /// Virtual time now.
    pub now: VTime,
    /// Seconds since the Unix epoch at which the virtual machine booted.
    pub boot_epoch: u64,
    /// Seconds the machine had been up when the run started.
    pub boot_secs: u64,
}

/// Memory the virtual machine has (as `sysinfo` says), in KiB.
const MEM_KB: u64 = 4 << 20;
/// Free memory, in KiB.
const FREE_KB: u64 = 2 << 20;

/// The file name (in the node's private directory) and contents `path` shows on the
/// node, if it is one of the virtualized files.
pub fn content(path: &[u8], m: &Machine) -> Option<(&'static str, String)> {
    let cpus = m.cpus.max(1);
    let up_ns = m
        .now
        .as_nanos()
        .saturating_add(m.boot_secs.saturating_mul(1_000_000_000));
    Some(match path {
        b"/sys/devices/system/cpu/online"
        | b"/sys/devices/system/cpu/possible"
        | b"/sys/devices/system/cpu/present" => ("cpu-online", format!("0-{}\n", cpus - 1)),
        b"/proc/meminfo" => ("meminfo", meminfo()),
        b"/proc/cpuinfo" => ("cpuinfo", cpuinfo(cpus)),
        b"/proc/stat" => ("stat", stat(cpus, up_ns, m.boot_epoch)),
        b"/proc/loadavg" => ("loadavg", "0.00 0.00 0.00 1/1 1\n".into()),
        b"/proc/uptime" => {
            let idle = up_ns.saturating_mul(cpus as u64);
            ("uptime", format!("{} {}\n", centis(up_ns), centis(idle)))
        }
        b"/proc/self/cgroup" | b"/proc/thread-self/cgroup" => ("cgroup", "0::/\n".into()),
        b"/proc/cgroups" => ("cgroups", cgroups()),
        b"/sys/fs/cgroup/memory.max" | b"/sys/fs/cgroup/memory.high" => {
            ("memory.max", "max\n".into())
        }
        b"/sys/fs/cgroup/memory.current" => {
            ("memory.current", format!("{}\n", (MEM_KB - FREE_KB) * 1024))
        }
        b"/sys/fs/cgroup/memory.stat" => ("memory.stat", memory_stat()),
        b"/sys/fs/cgroup/cpu.max" => ("cpu.max", "max 100000\n".into()),
        b"/sys/fs/cgroup/cpu.weight" => ("cpu.weight", "100\n".into()),
        b"/sys/fs/cgroup/cpuset.cpus.effective" => ("cpuset", format!("0-{}\n", cpus - 1)),
        b"/sys/fs/cgroup/memory.swap.max" | b"/sys/fs/cgroup/pids.max" => {
            ("unlimited", "max\n".into())
        }
        b"/sys/fs/cgroup/memory.swap.current" => ("memory.swap.current", "0\n".into()),
        _ => return None,
    })
}

/// `12.34`: nanoseconds as seconds with two decimals, as `/proc/uptime` prints them.
fn centis(ns: u64) -> String {
    let c = ns / 10_000_000;
    format!("{}.{:02}", c / 100, c % 100)
}

fn meminfo() -> String {
    let cached = 512 << 10;
    let rows: [(&str, u64); 16] = [
        ("MemTotal", MEM_KB),
        ("MemFree", FREE_KB),
        ("MemAvailable", FREE_KB + cached),
        ("Buffers", 0),
        ("Cached", cached),
        ("SwapCached", 0),
        ("Active", MEM_KB - FREE_KB - cached),
        ("Inactive", cached),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Dirty", 0),
        ("AnonPages", MEM_KB - FREE_KB - cached),
        ("Shmem", 0),
        ("Slab", 0),
        ("CommitLimit", MEM_KB / 2),
        ("Committed_AS", MEM_KB - FREE_KB),
    ];
    let mut s: String = rows
        .iter()
        .map(|(k, v)| format!("{:<16}{v:>8} kB\n", format!("{k}:")))
        .collect();
    s.push_str("HugePages_Total:       0\nHugePages_Free:        0\nHugepagesize:       2048 kB\n");
    s
}

fn cpuinfo(cpus: usize) -> String {
    (0..cpus)
        .map(|i| {
            format!(
                "processor\t: {i}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n\
                 model name\t: takt virtual CPU\nstepping\t: 7\ncpu MHz\t\t: 2000.000\n\
                 cache size\t: 32768 KB\nphysical id\t: 0\nsiblings\t: {cpus}\ncore id\t\t: {i}\n\
                 cpu cores\t: {cpus}\napicid\t\t: {i}\nfpu\t\t: yes\nfpu_exception\t: yes\n\
                 cpuid level\t: 13\nwp\t\t: yes\nflags\t\t: fpu tsc cx8 cmov mmx fxsr sse sse2 \
                 ht syscall nx lm constant_tsc pni ssse3 cx16 sse4_1 sse4_2 popcnt\n\
                 bogomips\t: 4000.00\nclflush size\t: 64\ncache_alignment\t: 64\n\
                 address sizes\t: 46 bits physical, 48 bits virtual\n\n"
            )
        })
        .collect()
}

/// `/proc/stat`: every CPU idle since boot, in USER_HZ (100 Hz) ticks.
fn stat(cpus: usize, up_ns: u64, boot_epoch: u64) -> String {
    let ticks = up_ns / 10_000_000;
    let mut s = format!(
        "cpu  0 0 0 {} 0 0 0 0 0 0\n",
        ticks.saturating_mul(cpus as u64)
    );
    for i in 0..cpus {
        s.push_str(&format!("cpu{i} 0 0 0 {ticks} 0 0 0 0 0 0\n"));
    }
    s.push_str(&format!(
        "intr 0\nctxt 0\nbtime {boot_epoch}\nprocesses 1\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n"
    ));
    s
}

/// `/proc/cgroups` of a machine with only the unified (v2) hierarchy: every controller
/// at hierarchy 0. A JVM picks cgroup v1 or v2 from these ids; the host's (v1 ids on a
/// hybrid host) against the `0::/` of `/proc/self/cgroup` made the JDK's
/// `CgroupV1Subsystem` look for a v1 path that is not there (a `NullPointerException`
/// in `ManagementFactory.getPlatformMBeanServer`: ZooKeeper's start-up).
fn cgroups() -> String {
    let mut s = String::from("#subsys_name\thierarchy\tnum_cgroups\tenabled\n");
    for c in [
        "cpuset",
        "cpu",
        "cpuacct",
        "blkio",
        "memory",
        "devices",
        "freezer",
        "net_cls",
        "perf_event",
        "net_prio",
        "hugetlb",
        "pids",
        "rdma",
        "misc",
    ] {
        s.push_str(&format!("{c}\t0\t1\t1\n"));
    }
    s
}

/// `/proc/<pid>/mountinfo` as the node shows it: the host's (the node's mount
/// namespace's) lines but for its cgroup mounts, which become one cgroup v2 mount at
/// `/sys/fs/cgroup` (the hierarchy whose files [`content`] serves), so that the mount
/// table agrees with `/proc/cgroups` and `/proc/self/cgroup` whatever the host's cgroup
/// layout (v1, hybrid or v2). The new line's mount id follows the largest there; its
/// parent is the mount at `/sys` (else the first line's).
pub fn mountinfo(host: &str, hide: &[&str]) -> String {
    canonical_mounts(&with_one_cgroup2(host), hide)
}

/// A mount table that does not change from run to run: mount ids renumbered from 21 in
/// the table's order (a parent outside it is 20), anonymous device numbers `0:N`
/// renumbered from `0:32` in first-seen order (both are host-global counters: every run
/// mounts anew), propagation tags dropped, and each path in `hide` (the scenario's host
/// directory, whose name changes per run) written as `/takt`.
fn canonical_mounts(table: &str, hide: &[&str]) -> String {
    let mut ids: BTreeMap<&str, u64> = BTreeMap::new();
    for line in table.lines() {
        if let Some(id) = line.split(' ').next() {
            let next = 21u64.saturating_add(ids.len() as u64);
            ids.entry(id).or_insert(next);
        }
    }
    let mut devs: BTreeMap<String, String> = BTreeMap::new();
    let mut out = String::with_capacity(table.len());
    for line in table.lines() {
        let (pre, post) = line.split_once(" - ").unwrap_or((line, ""));
        let mut fields: Vec<String> = Vec::new();
        for (i, f) in pre.split(' ').enumerate() {
            fields.push(match i {
                0 | 1 => ids.get(f).copied().unwrap_or(20).to_string(),
                2 if f.starts_with("0:") => {
                    let k = devs.len();
                    devs.entry(f.to_string())
                        .or_insert_with(|| format!("0:{}", 32usize.saturating_add(k)))
                        .clone()
                }
                _ if i > 5 && (f.starts_with("shared:") || f.starts_with("master:")) => continue,
                _ if i > 5 && f.starts_with("propagate_from:") => continue,
                _ => f.to_string(),
            });
        }
        let mut l = fields.join(" ");
        if !post.is_empty() {
            l.push_str(" - ");
            l.push_str(post);
        }
        for h in hide.iter().filter(|h| !h.is_empty()) {
            l = l.replace(h, "/takt");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// The host's table with its cgroup mounts replaced by one cgroup v2 mount.
fn with_one_cgroup2(host: &str) -> String {
    let mut out = String::with_capacity(host.len());
    let (mut max_id, mut sys_id, mut first_id) = (0u64, None, None);
    for line in host.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let id = fields.first().and_then(|f| f.parse::<u64>().ok());
        let point = fields.get(4).copied().unwrap_or("");
        let fstype = line.split(" - ").nth(1).and_then(|t| t.split(' ').next());
        if let Some(id) = id {
            max_id = max_id.max(id);
            first_id.get_or_insert(id);
            if point == "/sys" {
                sys_id = Some(id);
            }
        }
        let cgroup = matches!(fstype, Some("cgroup" | "cgroup2"));
        if cgroup || point == "/sys/fs/cgroup" || point.starts_with("/sys/fs/cgroup/") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    let parent = sys_id.or(first_id).unwrap_or(1);
    out.push_str(&format!(
        "{} {parent} 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 \
         rw,nsdelegate,memory_recursiveprot\n",
        max_id.saturating_add(1)
    ));
    out
}

fn memory_stat() -> String {
    let anon = (MEM_KB - FREE_KB) * 1024;
    format!(
        "anon {anon}\nfile 0\nkernel 0\nsock 0\nshmem 0\nfile_mapped 0\nfile_dirty 0\n\
         file_writeback 0\ninactive_anon 0\nactive_anon {anon}\ninactive_file 0\n\
         active_file 0\nunevictable 0\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_follow_the_virtual_machine() {
        let m = Machine {
            cpus: 4,
            now: VTime(2_500_000_000),
            boot_epoch: 1_767_225_500,
            boot_secs: 100,
        };
        let (_, mem) = content(b"/proc/meminfo", &m).unwrap();
        assert!(mem.starts_with("MemTotal:        4194304 kB\n"), "{mem}");
        let (_, cpu) = content(b"/proc/cpuinfo", &m).unwrap();
        assert_eq!(cpu.matches("processor\t:").count(), 4);
        assert_eq!(content(b"/proc/uptime", &m).unwrap().1, "102.50 410.00\n");
        let (_, st) = content(b"/proc/stat", &m).unwrap();
        assert!(
            st.contains("btime 1767225500\n") && st.contains("cpu3 0 0 0 10250 "),
            "{st}"
        );
        assert_eq!(
            content(b"/sys/devices/system/cpu/online", &m).unwrap().1,
            "0-3\n"
        );
        assert!(content(b"/etc/passwd", &m).is_none());
        let (_, cg) = content(b"/proc/cgroups", &m).unwrap();
        assert!(
            cg.lines()
                .skip(1)
                .all(|l| l.split('\t').nth(1) == Some("0")),
            "{cg}"
        );
    }

    #[test]
    fn mountinfo_shows_one_cgroup2_mount() {
        let host = "22 1 0:20 / / rw - overlay overlay rw\n\
                    23 22 0:21 / /sys rw,nosuid - sysfs sysfs rw\n\
                    31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n\
                    32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n\
                    41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                    42 22 0:40 / /tmp rw - tmpfs tmpfs rw\n";
        let m = mountinfo(host, &[]);
        assert_eq!(
            m,
            "21 20 0:32 / / rw - overlay overlay rw\n\
             22 21 0:33 / /sys rw,nosuid - sysfs sysfs rw\n\
             23 21 0:34 / /tmp rw - tmpfs tmpfs rw\n\
             24 22 0:35 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 \
             rw,nsdelegate,memory_recursiveprot\n"
        );
        // Another run: other host ids, devices and scenario directory; the same table.
        let again = "1022 901 0:77 / / rw shared:4 - overlay overlay \
                     rw,upperdir=/tmp/takt-9-3.fs/n/upper\n\
                     1023 1022 0:78 / /tmp/takt-9-3 rw - ext4 /dev/sda1 rw\n";
        let first = "522 401 0:57 / / rw shared:9 - overlay overlay \
                     rw,upperdir=/tmp/takt-1-0.fs/n/upper\n\
                     523 522 0:58 / /tmp/takt-1-0 rw - ext4 /dev/sda1 rw\n";
        assert_eq!(
            canonical_mounts(again, &["/tmp/takt-9-3"]),
            canonical_mounts(first, &["/tmp/takt-1-0"])
        );
        assert_eq!(
            canonical_mounts(first, &["/tmp/takt-1-0"]),
            "21 20 0:32 / / rw - overlay overlay rw,upperdir=/takt.fs/n/upper\n\
             22 21 0:33 / /takt rw - ext4 /dev/sda1 rw\n"
        );
    }
}

/// The pids a process's `/proc/<pid>/stat` and `status` show, as the scenario's PID
/// namespace numbers them: the task's own pid (the thread's for a `task/<tid>` file),
/// its process's, the parent takt reports (`getppid`), and a translation of any other
/// host pid (process group, session; 0 outside the namespace, as Linux shows a pid the
/// reader's namespace cannot see).
pub struct ProcIds<'a> {
    /// `Pid:`, stat field 1.
    pub pid: i32,
    /// `Tgid:`.
    pub tgid: i32,
    /// `PPid:`, stat field 4.
    pub ppid: i32,
    /// Host pid → namespace pid (0 if none).
    pub map: &'a dyn Fn(i64) -> i64,
    /// The state letter to show (stat field 3, `State:`), if not the host's: `T` for a
    /// process job control stopped (takt's model, see `engine::job`).
    pub state: Option<char>,
    /// stat fields 14–17: utime, stime, cutime, cstime in clock ticks (takt's CPU-time
    /// model: the task's, and its process's reaped children's).
    pub cpu: [i64; 4],
}

/// `State:`'s text for a state letter, as `fs/proc/array.c` names them.
fn state_name(c: char) -> &'static str {
    match c {
        'R' => "R (running)",
        'S' => "S (sleeping)",
        'D' => "D (disk sleep)",
        'T' => "T (stopped)",
        't' => "t (tracing stop)",
        'X' => "X (dead)",
        'Z' => "Z (zombie)",
        'P' => "P (parked)",
        _ => "I (idle)",
    }
}

/// `/proc/<pid>/stat` with its pid fields (1, 4, 5, 6, 8) in the namespace's numbers,
/// the state (3) [`ProcIds::state`] if given, the CPU times (14–17) from takt's model
/// ([`ProcIds::cpu`]), and the fields that count host time or host events fixed: page
/// faults (10–13) and guest times (43, 44) 0, the start time (22) the run's start in
/// clock ticks
/// since the virtual boot ([`crate::time::BOOT_SECS`] before it), the CPU it
/// last ran on (39) 0, block I/O delay (42) 0.
pub fn proc_stat(host: &str, ids: &ProcIds<'_>) -> Option<String> {
    let close = host.rfind(')')?;
    let (head, tail) = host.split_at(close);
    let comm = head.split_once(' ')?.1;
    let mut fields: Vec<String> = tail
        .strip_prefix(')')?
        .split_whitespace()
        .map(str::to_string)
        .collect();
    // After the comm: state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) …
    let num = |s: &String| s.parse::<i64>().ok();
    if fields.len() < 6 {
        return None;
    }
    if let Some(c) = ids.state {
        fields[0] = c.to_string();
    }
    fields[1] = ids.ppid.to_string();
    for i in [2, 3] {
        fields[i] = (ids.map)(num(&fields[i])?).to_string();
    }
    let tpgid = num(&fields[5])?;
    if tpgid > 0 {
        fields[5] = (ids.map)(tpgid).to_string();
    }
    // Field n of stat is fields[n - 3].
    let start = (crate::time::BOOT_SECS * 100).to_string();
    for n in (10..=13).chain([39, 42, 43, 44]) {
        if let Some(f) = fields.get_mut(n - 3) {
            *f = "0".into();
        }
    }
    for (n, v) in (14..=17).zip(ids.cpu) {
        if let Some(f) = fields.get_mut(n - 3) {
            *f = v.to_string();
        }
    }
    if let Some(f) = fields.get_mut(22 - 3) {
        *f = start;
    }
    Some(format!("{} {}) {}\n", ids.pid, comm, fields.join(" ")))
}

/// `/proc/<pid>/status` with `Tgid`, `Pid`, `PPid`, `TracerPid` (takt's tracer is no
/// process of the namespace: 0, as natively untraced) and the `NS*` lines (one level:
/// the namespace's) in the namespace's numbers, and `State` [`ProcIds::state`] if given.
pub fn proc_status(host: &str, ids: &ProcIds<'_>) -> String {
    let mut out = String::with_capacity(host.len());
    for line in host.lines() {
        let (key, val) = line.split_once(':').unwrap_or((line, ""));
        let first = || val.split_whitespace().next().and_then(|v| v.parse().ok());
        let new = match key {
            "Tgid" | "NStgid" => Some(i64::from(ids.tgid)),
            "Pid" | "NSpid" => Some(i64::from(ids.pid)),
            "PPid" => Some(i64::from(ids.ppid)),
            "TracerPid" => Some(0),
            "NSpgid" | "NSsid" => first().map(|h| (ids.map)(h)),
            "State" => {
                if let Some(c) = ids.state {
                    out.push_str(&format!("State:\t{}\n", state_name(c)));
                    continue;
                }
                None
            }
            _ => None,
        };
        match new {
            Some(v) => out.push_str(&format!("{key}:\t{v}\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod proc_tests {
    use super::*;

    #[test]
    fn stat_and_status_show_namespace_pids() {
        let map = |h: i64| if h == 5000 { 2 } else { 0 };
        let ids = ProcIds {
            pid: 3,
            tgid: 2,
            ppid: 1,
            map: &map,
            state: None,
            cpu: [0, 0, 0, 0],
        };
        let stat = "5001 (a b) c) S 4999 5000 4000 0 -1 4194560 97 0\n";
        assert_eq!(
            proc_stat(stat, &ids).unwrap(),
            "3 (a b) c) S 1 2 0 0 -1 4194560 0 0\n"
        );
        // A whole line: the fault counts, CPU times, start time and CPU are fixed.
        let mut f: Vec<String> = (1..=52).map(|n| (n * 1000).to_string()).collect();
        (f[0], f[1], f[2]) = ("5001".into(), "(x)".into(), "R".into());
        let out = proc_stat(&(f.join(" ") + "\n"), &ids).unwrap();
        let g: Vec<&str> = out.split_whitespace().collect();
        for n in [10, 13, 14, 17, 39, 42, 44] {
            assert_eq!(g[n - 1], "0", "field {n}");
        }
        assert_eq!(
            g[21], "10000",
            "start time: the run's start, 100 s after boot"
        );
        assert_eq!(g[22], "23000", "vsize is kept");
        let status = "Name:\tx\nTgid:\t5000\nPid:\t5001\nPPid:\t4999\nTracerPid:\t4998\n\
                      NStgid:\t5000\t2\nNSpid:\t5001\t3\nNSpgid:\t5000\t2\nNSsid:\t4000\n";
        assert_eq!(
            proc_status(status, &ids),
            "Name:\tx\nTgid:\t2\nPid:\t3\nPPid:\t1\nTracerPid:\t0\nNStgid:\t2\nNSpid:\t3\n\
             NSpgid:\t2\nNSsid:\t0\n"
        );
    }

    #[test]
    fn a_stopped_process_shows_state_t() {
        let map = |_: i64| 0;
        let ids = ProcIds {
            pid: 3,
            tgid: 3,
            ppid: 1,
            map: &map,
            state: Some('T'),
            cpu: [0; 4],
        };
        let stat = "5001 (x) t 4999 5000 4000 0 -1 4194560 97 0\n";
        assert_eq!(
            proc_stat(stat, &ids).unwrap(),
            "3 (x) T 1 0 0 0 -1 4194560 0 0\n"
        );
        let status = "Name:\tx\nState:\tt (tracing stop)\nTgid:\t5001\n";
        assert_eq!(
            proc_status(status, &ids),
            "Name:\tx\nState:\tT (stopped)\nTgid:\t3\n"
        );
    }

    #[test]
    fn a_parked_thread_shows_sleeping_not_tracing_stop() {
        let map = |_: i64| 0;
        let ids = ProcIds {
            pid: 2,
            tgid: 2,
            ppid: 1,
            map: &map,
            state: Some('S'),
            cpu: [0; 4],
        };
        let stat = "5001 (x) t 4999 5000 4000 0 -1 0\n";
        assert_eq!(proc_stat(stat, &ids).unwrap(), "2 (x) S 1 0 0 0 -1 0\n");
        let status = "Name:\tx\nState:\tt (tracing stop)\nTgid:\t5000\n";
        assert_eq!(
            proc_status(status, &ids),
            "Name:\tx\nState:\tS (sleeping)\nTgid:\t2\n"
        );
    }
}
