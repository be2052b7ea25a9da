//! Fixture programs for takt's test suite, and helpers to find and run them.
//!
//! Every fixture prints a transcript to stdout, one `key value...` line per
//! observation (see `tests/fixtures/README.md`):
//!
//! * lines starting with `virt ` hold values takt virtualizes on purpose
//!   (time, randomness, pids, addresses, ...): they differ between native
//!   runs, and must be identical between takt runs with the same seed;
//! * lines starting with `sched ` depend on the schedule (interleavings,
//!   arrival orders): they may differ natively, are identical under takt
//!   for the same seed, and should vary with the seed;
//! * every other line must be identical between a native and a takt run.
//!
//! Fixtures come in three kinds:
//!
//! * C programs in `tests/fixtures/c`, compiled by `build.rs` into the
//!   directory [`C_FIXTURES_DIR`]; find them with [`c_fixture`];
//! * Rust programs, the `[[bin]]` targets of this package; find them with
//!   [`rust_fixture`] (or `env!("CARGO_BIN_EXE_<name>")` in this package's
//!   integration tests);
//! * Python 3 scripts in `tests/fixtures/py`; find them with
//!   [`python_fixture`] and run them with [`python3`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The directory holding the compiled C fixtures (one executable per
/// `tests/fixtures/c/<name>.c`, named `<name>`).
pub const C_FIXTURES_DIR: &str = env!("TAKT_C_FIXTURES");

/// The directory holding the Python fixtures.
pub const PYTHON_FIXTURES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/py");

/// Prefix of lines holding values takt virtualizes.
pub const VIRT_PREFIX: &str = "virt ";

/// Prefix of lines holding schedule-dependent observations.
pub const SCHED_PREFIX: &str = "sched ";

/// The path of the compiled C fixture `name` (e.g. `"pipes"`, with or
/// without a trailing `.c`).
///
/// # Panics
///
/// If there is no such fixture.
pub fn c_fixture(name: &str) -> PathBuf {
    let name = name.strip_suffix(".c").unwrap_or(name);
    let path = Path::new(C_FIXTURES_DIR).join(name);
    assert!(
        path.is_file(),
        "no C fixture named {name:?}: {} does not exist (is there a tests/fixtures/c/{name}.c?)",
        path.display()
    );
    path
}

/// The names of all compiled C fixtures, sorted.
pub fn c_fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(C_FIXTURES_DIR)
        .unwrap_or_else(|e| panic!("cannot read {C_FIXTURES_DIR}: {e}"))
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_file())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// The path of the Python fixture `name` (e.g. `"py_threads_random_time"`,
/// with or without a trailing `.py`).
///
/// # Panics
///
/// If there is no such fixture.
pub fn python_fixture(name: &str) -> PathBuf {
    let name = name.strip_suffix(".py").unwrap_or(name);
    let path = Path::new(PYTHON_FIXTURES_DIR).join(format!("{name}.py"));
    assert!(
        path.is_file(),
        "no Python fixture named {name:?}: {} does not exist",
        path.display()
    );
    path
}

/// The real Python 3 interpreter binary, canonicalized.
///
/// `python3` on `PATH` may be a shell shim (pyenv); a shim would make takt
/// trace bash instead of Python, so this asks the interpreter for
/// `sys.executable`. The environment variable `TAKT_PYTHON3` overrides the
/// lookup. The result is cached.
///
/// # Panics
///
/// If no Python 3 interpreter can be found.
pub fn python3() -> PathBuf {
    static PYTHON3: OnceLock<PathBuf> = OnceLock::new();
    PYTHON3
        .get_or_init(|| {
            let raw = match std::env::var_os("TAKT_PYTHON3") {
                Some(p) => PathBuf::from(p),
                None => {
                    let out = Command::new("python3")
                        .args(["-c", "import sys; print(sys.executable)"])
                        .stdin(Stdio::null())
                        .output()
                        .unwrap_or_else(|e| panic!("cannot run python3: {e}"));
                    assert!(
                        out.status.success(),
                        "python3 -c 'import sys; print(sys.executable)' failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    let s = String::from_utf8(out.stdout).expect("sys.executable is not UTF-8");
                    let s = s.trim();
                    assert!(!s.is_empty(), "python3 reported an empty sys.executable");
                    PathBuf::from(s)
                }
            };
            raw.canonicalize().unwrap_or_else(|e| {
                panic!("cannot canonicalize Python path {}: {e}", raw.display())
            })
        })
        .clone()
}

/// The path of the Rust fixture binary `name` (a `[[bin]]` of this
/// package, e.g. `"rust_threads"`), looked up next to the running
/// executable's target directory.
///
/// # Panics
///
/// If the binary has not been built (`cargo build -p takt-tests --bins`).
pub fn rust_fixture(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe
        .parent()
        .expect("executable has a parent directory")
        .to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "no Rust fixture named {name:?}: {} does not exist (build it with \
         `cargo build -p takt-tests --bins`)",
        path.display()
    );
    path
}

/// Runs `program` natively (not under takt) with `args`, stdin from
/// `/dev/null`, capturing stdout and stderr.
///
/// # Panics
///
/// If the program cannot be started.
pub fn run_native(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

fn filter_lines(transcript: &str, keep: impl Fn(&str) -> bool) -> String {
    let mut out = String::new();
    for line in transcript.lines().filter(|l| keep(l)) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn is_virt_or_sched(line: &str) -> bool {
    line.starts_with(VIRT_PREFIX) || line.starts_with(SCHED_PREFIX)
}

/// The lines of `transcript` that must be identical natively and under
/// takt: everything except `virt ` and `sched ` lines. Each kept line ends
/// with `\n`.
pub fn comparable(transcript: &str) -> String {
    filter_lines(transcript, |l| !is_virt_or_sched(l))
}

/// Only the `virt ` and `sched ` lines of `transcript`, in order: what must
/// be identical between takt runs with the same seed on top of
/// [`comparable`]. Each kept line ends with `\n`.
pub fn virt_and_sched(transcript: &str) -> String {
    filter_lines(transcript, is_virt_or_sched)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "a 1\nvirt pid 7\nsched order 1 0\nb 2\nvirtual 3\n";

    #[test]
    fn finds_and_runs_a_c_fixture() {
        assert!(c_fixture_names().iter().any(|n| n == "getppid_loop"));
        let out = run_native(&c_fixture("getppid_loop.c"), &["10"]);
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), "done 10\n");
    }

    #[test]
    fn python3_is_a_real_binary() {
        let py = python3();
        let head = std::fs::read(&py).expect("read python3");
        assert!(
            head.starts_with(b"\x7fELF"),
            "{} is not an ELF binary",
            py.display()
        );
        assert!(python_fixture("py_threads_random_time").is_file());
    }

    #[test]
    fn splits_transcripts() {
        assert_eq!(comparable(SAMPLE), "a 1\nb 2\nvirtual 3\n");
        assert_eq!(virt_and_sched(SAMPLE), "virt pid 7\nsched order 1 0\n");
        assert_eq!(comparable(""), "");
    }
}

/// A fixture: how to start it (program and arguments).
#[derive(Clone, Debug)]
pub struct Fixture {
    /// A short name for messages.
    pub name: String,
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
}

impl Fixture {
    /// A compiled C fixture.
    pub fn c(name: &str) -> Fixture {
        Fixture {
            name: name.to_string(),
            program: c_fixture(name),
            args: Vec::new(),
        }
    }

    /// A Rust fixture (`[[bin]]` of this package).
    pub fn rust(name: &str) -> Fixture {
        Fixture {
            name: name.to_string(),
            program: rust_fixture(name),
            args: Vec::new(),
        }
    }

    /// A Python fixture, run by the real interpreter.
    pub fn python(name: &str) -> Fixture {
        Fixture {
            name: name.to_string(),
            program: python3(),
            args: vec![python_fixture(name).to_string_lossy().into_owned()],
        }
    }

    /// With arguments.
    pub fn with_args(mut self, args: &[&str]) -> Fixture {
        self.args = args.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Runs it natively.
    pub fn native(&self) -> Output {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        run_native(&self.program, &args)
    }

    /// A one-node scenario running it with `seed`.
    pub fn scenario(&self, seed: u64) -> takt_scenario::Scenario {
        let s = takt_scenario::Scenario::new();
        s.random_seed(seed);
        s.create_node().create_process(
            takt_scenario::Process::new(&self.program).args(self.args.iter().cloned()),
        );
        s
    }

    /// Runs it under takt with `seed`; panics with the full failure on error.
    pub fn takt(&self, seed: u64) -> takt_scenario::Report {
        match self.scenario(seed).run() {
            Ok(r) => r,
            Err(e) => panic!("{} under takt (seed {seed}) failed:\n{e}", self.name),
        }
    }
}

/// The exploration bench's memcached scenario, on `s`: memcached with two worker
/// threads and, after 1 ms, memcslap (100 binary operations over two connections),
/// which must finish.
pub fn small_memcached(s: &takt_scenario::Scenario) {
    s.completion_time(std::time::Duration::from_millis(100));
    let n = s.create_node();
    n.create_process("/usr/bin/memcached -u root -p 11222 -U 0 -t 2");
    n.create_process(
        takt_scenario::Process::parse(
            "/usr/bin/memcslap --servers=127.0.0.1:11222 --concurrency=2 --execute-number=100 --binary",
        )
        .start_after(std::time::Duration::from_millis(1))
        .must_finish(),
    );
}

/// The fixtures of issue 2 that must be deterministic under takt and match natively.
pub fn syscall_fixtures() -> Vec<Fixture> {
    let mut v: Vec<Fixture> = [
        "threads_condvar",
        "fork_exec_wait",
        "pipes",
        "clocks",
        "random",
        "rdtsc",
        "ids",
        "addrs",
        "unsupported",
        "select_wake",
        "timers",
        "timerfd",
        "signalfd",
        "compat_calls",
        "proc_pid",
        "pipe_size",
        "msg_more",
        "wait_errors",
        "clone_parent",
        "proc_ids",
        "unix_paths",
        "call_errors",
        "wait_groups",
        "sigio",
        "file_io",
        "ping_pong",
        "join_signals",
        "job_control",
        "errors_socket",
        "errors_io",
        "errors_poll",
        "int_args",
        "errors_time",
        "errors_signal",
        "errors_futex",
        "errors_process",
        "cpu_timers",
        "udp_cork",
        "unix_perms",
        "futex_waitv",
        "sysv_sem",
        "proc_self",
        "wide_args",
        "vdso_clock",
    ]
    .iter()
    .map(|n| Fixture::c(n))
    .collect();
    v.push(Fixture::c("time_poll").with_args(&["0.2"]));
    v.extend(
        ["rust_threads", "rust_hashmap", "rust_time"]
            .iter()
            .map(|n| Fixture::rust(n)),
    );
    v.push(Fixture::python("py_threads_random_time"));
    v.push(Fixture::python("mp_shared"));
    v
}

/// The network fixtures: each runs self-contained (server and clients on one node).
pub fn network_fixtures() -> Vec<Fixture> {
    [
        "tcp_echo",
        "udp_echo",
        "epoll_server",
        "nb_connect",
        "half_close",
        "conn_refused",
        "bulk_transfer",
        "socketpair",
        "sockopts",
    ]
    .iter()
    .map(|n| Fixture::c(n))
    .collect()
}
