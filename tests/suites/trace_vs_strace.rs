//! `takt trace` against `strace -f`: for five fixtures (file I/O, pipes, a TCP client and
//! server on one node, fork/exec/wait, epoll), the calls takt's detailed trace shows for
//! each process are the calls strace shows for the same process run natively, with the
//! same fd arguments and the same results (value or errno name).
//!
//! What is compared, per process (processes are paired by their place in the process
//! tree: the root, then the n-th child each one forks):
//! - the sequence of (syscall name, first argument when it is a descriptor, result);
//! - only the calls takt stops on: the calls of `handler::ALLOWED` (and `mmap`, which
//!   stops only for shared file mappings) run natively, unseen by takt;
//! - a result that is a pid or tid is compared as "a pid": takt's are the scenario's
//!   virtual pids;
//! - an address (`0x…`) is compared as "an address".
//!
//! What takt virtualizes on purpose, and so is left out:
//! - a successful `execve` is an `<exec>` event in takt's trace, not a call line;
//! - the length of a `write` of a `virt` transcript line (it prints a virtual pid);
//! - what a process killed by another one did after takt's trace of it ends (where it
//!   dies depends on the schedule);
//! - `rseq`: takt answers `ENOSYS` (restartable sequences would run guest code the
//!   scheduler cannot see), where the host registers one.
//!
//! The native run gets takt's fixed environment (`LANG=C`, `TZ=UTC`, the same `PATH`)
//! and a pipe as its standard output, as under takt, so glibc makes the same calls.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

/// One call: name, descriptor argument, result.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Call {
    name: String,
    fd: Option<String>,
    ret: String,
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.fd {
            Some(fd) => write!(f, "{}({fd}, …) = {}", self.name, self.ret),
            None => write!(f, "{}(…) = {}", self.name, self.ret),
        }
    }
}

/// Calls whose first argument is a descriptor (or `AT_FDCWD`).
const FD_FIRST: &[&str] = &[
    "read",
    "write",
    "close",
    "fstat",
    "newfstatat",
    "openat",
    "lseek",
    "pread64",
    "pwrite64",
    "readv",
    "writev",
    "fsync",
    "fdatasync",
    "ftruncate",
    "dup",
    "dup2",
    "dup3",
    "fcntl",
    "ioctl",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "connect",
    "bind",
    "listen",
    "accept",
    "accept4",
    "getsockopt",
    "setsockopt",
    "shutdown",
    "getsockname",
    "getpeername",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "mkdirat",
    "unlinkat",
    "renameat",
    "renameat2",
    "fchmod",
    "fchown",
    "getdents64",
];

/// Calls whose result is a pid or tid.
const PID_RESULT: &[&str] = &[
    "clone",
    "clone3",
    "fork",
    "vfork",
    "set_tid_address",
    "getpid",
    "getppid",
    "gettid",
    "wait4",
    "getpgid",
    "getsid",
    "setsid",
];

/// Calls left out on both sides (see the module doc).
const VIRTUALIZED: &[&str] = &["rseq"];

/// The names of the calls takt does not stop on.
fn unseen() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = takt_core::handler::ALLOWED
        .iter()
        .map(|&nr| takt_core::syscall::Syscall::decode(nr, [0; 6]).name())
        .collect();
    v.push("mmap");
    v
}

/// `name(args) = ret …` (strace's or takt's rendering) as a [`Call`].
fn parse_call(line: &str) -> Option<Call> {
    let open = line.find('(')?;
    let name = line[..open].trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let eq = line.rfind(" = ")?;
    let mut rest = line[eq + 3..].split_whitespace();
    let first = rest.next()?;
    let ret = match (first, rest.next()) {
        ("-1", Some(errno)) if errno.starts_with('E') => errno.to_string(),
        (v, _) if v.starts_with("0x") => "addr".into(),
        (v, _) if PID_RESULT.contains(&name) && (v == "?" || v.parse::<u64>().is_ok()) => {
            "pid".into()
        }
        // The length of a `virt` transcript line depends on the virtualized value
        // it prints (a pid, a time): see tests/fixtures/README.md.
        (_, _) if name == "write" && line[open + 1..].starts_with("1, \"virt ") => {
            "(a virt line)".into()
        }
        (v, _) => v.to_string(),
    };
    let fd = FD_FIRST.contains(&name).then(|| {
        let args = &line[open + 1..];
        let end = args.find([',', ')']).unwrap_or(args.len());
        args[..end].trim().to_string()
    });
    Some(Call {
        name: name.to_string(),
        fd,
        ret,
    })
}

/// The calls of each process, and each process's children in the order it forked them.
#[derive(Debug, Default)]
struct Run {
    calls: BTreeMap<i64, Vec<Call>>,
    children: BTreeMap<i64, Vec<i64>>,
    root: i64,
    /// Processes a signal killed (takt's side).
    killed: Vec<i64>,
}

impl Run {
    /// The calls of the process at `path` (child indices from the root), with its own.
    fn at(&self, path: &[usize]) -> Option<i64> {
        let mut p = self.root;
        for &i in path {
            p = *self.children.get(&p)?.get(i)?;
        }
        Some(p)
    }

    fn add(&mut self, pid: i64, call: Call, keep: &dyn Fn(&Call) -> bool) {
        if keep(&call) {
            self.calls.entry(pid).or_default().push(call);
        }
    }
}

fn kept<'a>(unseen: &'a [&'a str]) -> impl Fn(&Call) -> bool + 'a {
    move |c: &Call| {
        let left_out = unseen.contains(&c.name.as_str())
            || VIRTUALIZED.contains(&c.name.as_str())
            || (c.name == "execve" && c.ret == "0");
        !left_out
    }
}

/// Reads `strace -f -qq -o FILE` output.
fn parse_strace(text: &str, unseen: &[&str]) -> Run {
    let keep = kept(unseen);
    let mut run = Run::default();
    let mut pending: BTreeMap<i64, String> = BTreeMap::new();
    for line in text.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(pid) = pid.parse::<i64>() else {
            continue;
        };
        if run.root == 0 {
            run.root = pid;
        }
        let rest = rest.trim_start();
        if rest.starts_with("---") || rest.starts_with("+++") {
            continue;
        }
        let whole = if let Some(head) = rest.strip_suffix(" <unfinished ...>") {
            pending.insert(pid, head.to_string());
            continue;
        } else if rest.starts_with("<... ") {
            let Some(at) = rest.find(" resumed>") else {
                continue;
            };
            let head = pending.remove(&pid).unwrap_or_default();
            format!("{head}{}", &rest[at + " resumed>".len()..])
        } else {
            rest.to_string()
        };
        let Some(call) = parse_call(&whole) else {
            continue;
        };
        if matches!(call.name.as_str(), "clone" | "clone3" | "fork" | "vfork") {
            if let Some(child) = whole
                .rsplit(" = ")
                .next()
                .and_then(|r| r.trim().parse::<i64>().ok())
            {
                run.children.entry(pid).or_default().push(child);
            }
        }
        run.add(pid, call, &keep);
    }
    run
}

/// Reads what `takt trace` prints (`TIME NODE PID/TID what`).
fn parse_takt(lines: &[String], unseen: &[&str]) -> Run {
    let keep = kept(unseen);
    let mut run = Run::default();
    for line in lines {
        let mut f = line.splitn(4, ' ');
        let (Some(_), Some(_), Some(ids), Some(what)) = (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let Some(pid) = ids.split('/').next().and_then(|p| p.parse::<i64>().ok()) else {
            continue;
        };
        if pid == 0 {
            continue;
        }
        if run.root == 0 {
            run.root = pid;
        }
        if let Some(child) = what
            .strip_prefix("<new process ")
            .and_then(|r| r.strip_suffix('>'))
            .and_then(|c| c.parse::<i64>().ok())
        {
            run.children.entry(pid).or_default().push(child);
            continue;
        }
        if let Some(status) = what
            .strip_prefix("<exit, status 0x")
            .and_then(|r| r.strip_suffix('>'))
            .and_then(|h| i64::from_str_radix(h, 16).ok())
        {
            if status & 0x7f != 0 {
                run.killed.push(pid);
            }
            continue;
        }
        if what.starts_with('<') {
            continue;
        }
        if let Some(call) = parse_call(what) {
            run.add(pid, call, &keep);
        }
    }
    run
}

/// Every process path (child indices from the root) of `run`.
fn paths(run: &Run) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    let mut i = 0;
    while i < out.len() {
        let p = out[i].clone();
        if let Some(pid) = run.at(&p) {
            for c in 0..run.children.get(&pid).map_or(0, Vec::len) {
                let mut q = p.clone();
                q.push(c);
                out.push(q);
            }
        }
        i += 1;
    }
    out
}

fn native_strace(program: &std::path::Path, args: &[&str], dir: &std::path::Path) -> String {
    let out = dir.join("strace.out");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-o"])
        .arg(&out)
        .arg("--")
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(takt_scenario::command::default_env(dir))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("strace runs (scripts/setup installs it)");
    assert!(
        status.status.success(),
        "{} {args:?} failed natively under strace: {}",
        program.display(),
        String::from_utf8_lossy(&status.stderr)
    );
    std::fs::read_to_string(&out).expect("strace wrote its output")
}

fn takt_trace(program: &std::path::Path, args: &[&str]) -> Vec<String> {
    let s = takt_scenario::Scenario::new();
    s.random_seed(5).keep_full_trace(true).trace_detail(true);
    s.create_node().create_process(
        takt_scenario::Process::new(program).args(args.iter().map(|a| a.to_string())),
    );
    let report = s
        .run()
        .unwrap_or_else(|e| panic!("{} under takt failed:\n{e}", program.display()));
    // Through the trace file's encoding, as `takt trace FILE` reads it.
    let bytes = takt_core::trace::encode_events(&report.trace);
    takt_core::trace::Trace::decode(&bytes)
        .expect("a trace takt wrote decodes")
        .iter()
        .map(takt_core::trace::describe)
        .collect()
}

/// Compares one fixture; returns what differs.
fn compare(name: &str, args: &[&str]) -> Vec<String> {
    let program = takt_tests::c_fixture(name);
    let dir = std::env::temp_dir().join(format!(
        "takt-vs-strace-{}-{name}-{}",
        std::process::id(),
        args.join("-")
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let unseen = unseen();
    let text = native_strace(&program, args, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let native = parse_strace(&text, &unseen);
    let takt_lines = takt_trace(&program, args);
    let takt = parse_takt(&takt_lines, &unseen);
    let mut diffs = Vec::new();
    let (np, tp) = (paths(&native), paths(&takt));
    if np != tp {
        diffs.push(format!(
            "{name} {args:?}: process trees differ: native {np:?}, takt {tp:?}"
        ));
        return diffs;
    }
    let compared: usize = np
        .iter()
        .filter_map(|p| takt.at(p).and_then(|x| takt.calls.get(&x)))
        .map(Vec::len)
        .sum();
    eprintln!(
        "{name} {args:?}: {} processes, {compared} calls compared",
        np.len()
    );
    if compared < 20 {
        diffs.push(format!("{name} {args:?}: only {compared} calls to compare"));
    }
    for p in &np {
        let empty = Vec::new();
        let n = native
            .at(p)
            .and_then(|x| native.calls.get(&x))
            .unwrap_or(&empty);
        let t = takt
            .at(p)
            .and_then(|x| takt.calls.get(&x))
            .unwrap_or(&empty);
        // A process another one kills dies at a point of the schedule: natively and
        // under takt it may have made more or fewer calls, the same ones up to there.
        let killed = takt.at(p).is_some_and(|x| takt.killed.contains(&x));
        if n.is_empty() && !killed {
            diffs.push(format!(
                "{name} {args:?}: process {p:?} made no call natively"
            ));
        }
        let len = if killed {
            n.len().min(t.len())
        } else {
            n.len().max(t.len())
        };
        if let Some(i) = (0..len).find(|&i| n.get(i) != t.get(i)) {
            let show = |v: &[Call]| {
                v.iter()
                    .skip(i.saturating_sub(3))
                    .take(8)
                    .map(|c| format!("    {c}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            diffs.push(format!(
                "{name} {args:?}, process {p:?}: call {i} differs ({} native calls, {} takt)\n  native:\n{}\n  takt:\n{}",
                n.len(),
                t.len(),
                show(n),
                show(t)
            ));
        }
    }
    diffs
}

#[test]
fn takt_trace_shows_the_calls_strace_shows() {
    let cases: &[(&str, &[&str])] = &[
        ("file_io", &[]),
        ("ping_pong", &["pipes"]),
        ("ping_pong", &["tcp"]),
        ("fork_exec_wait", &[]),
        ("ping_pong", &["epoll"]),
    ];
    let mut diffs = Vec::new();
    for (name, args) in cases {
        diffs.extend(compare(name, args));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn the_comparison_sees_a_difference() {
    // The parser and the pairing are not blind: a changed result is found.
    let unseen = unseen();
    let a = parse_strace(
        "10 openat(AT_FDCWD, \"x\", O_RDONLY) = 3\n10 close(3)                = 0\n",
        &unseen,
    );
    let b = parse_takt(
        &[
            "0.0 node0 2/2 openat(AT_FDCWD, \"x\", O_RDONLY) = 3".to_string(),
            "0.0 node0 2/2 close(3) = -1 EBADF (Bad file descriptor)".to_string(),
        ],
        &unseen,
    );
    assert_eq!(a.calls[&10][0], b.calls[&2][0]);
    assert_ne!(a.calls[&10][1], b.calls[&2][1]);
    assert_eq!(b.calls[&2][1].ret, "EBADF");
}
