//! The visual report of one run (the takt paper's Figure 2) and its Chrome trace-event
//! (Perfetto) export.
//!
//! [`RunView`] turns a [`Report`] into what a person looks at: one lane per thread,
//! grouped by node and process; every syscall as a mark coloured by family; errors and
//! injected faults; blocking as spans; arrows from each send to the receives that
//! consumed it (and `connect` → `accept`); partitions and crashes as bands; the output
//! with virtual timestamps; and, for a failed run, what failed and the rerun command.
//!
//! - [`ReportExt::write_html`]: one self-contained HTML file (no network, no external
//!   asset; the drawing code and style are embedded with `include_str!`, the run's data
//!   as JSON). It opens from `file://`.
//! - Below the lanes: the global snapshots the run took ([`takt_core::snapshot`]; a
//!   marker on the time axis at each, and a panel listing it) and the dependency graph
//!   ([`takt_core::deps`]: the process tree, who listens where, connections, files).
//! - [`ReportExt::write_chrome_trace`]: Chrome trace-event JSON that ui.perfetto.dev and
//!   chrome://tracing open (`M` names, `X` slices, `i` instants, flows).
//!
//! The drawing lives in `report.js`; this module only shapes the data.

mod perfetto;

use crate::{Failure, Report};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use takt_core::config::ScheduledEvent;
use takt_core::trace::{Event, EventKind, Msgs};

const TEMPLATE: &str = include_str!("report.html");
const SCRIPT: &str = include_str!("report.js");
const STYLE: &str = include_str!("report.css");

/// Writing a run's report as a page or as a Chrome trace.
pub trait ReportExt {
    /// Writes the visual report: one self-contained HTML file.
    fn write_html(&self, path: impl AsRef<Path>) -> std::io::Result<()>;
    /// Writes the run as Chrome trace-event JSON (for ui.perfetto.dev).
    fn write_chrome_trace(&self, path: impl AsRef<Path>) -> std::io::Result<()>;
}

impl ReportExt for Report {
    fn write_html(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, html(&RunView::new(self, None)))
    }
    fn write_chrome_trace(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, perfetto::chrome_trace(&RunView::new(self, None)))
    }
}

impl ReportExt for Failure {
    fn write_html(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, html(&RunView::new(&self.report, Some(self))))
    }
    fn write_chrome_trace(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(
            path,
            perfetto::chrome_trace(&RunView::new(&self.report, Some(self))),
        )
    }
}

/// The page: the template with the style, the script and the data put in.
pub fn html(view: &RunView) -> String {
    let data = serde_json::to_string(view).expect("serializing the view cannot fail");
    // The data sits in a <script> element: "</" must not end it early.
    let data = data.replace("</", "<\\/");
    TEMPLATE
        .replace("/*STYLE*/", STYLE)
        .replace("/*DATA*/", &data)
        .replace("/*SCRIPT*/", SCRIPT)
        .replace("TITLE", &format!("takt run, seed {}", view.seed))
}

/// Syscall families, for colours (the order is the script's palette).
const FAMILIES: [&str; 8] = [
    "network", "file", "time", "sync", "process", "signal", "memory", "other",
];

/// The family of syscall `nr` (`msgs`: the call moved network messages).
#[allow(non_upper_case_globals)]
fn family(nr: u32, msgs: bool) -> u8 {
    use libc::*;
    if msgs {
        return 0;
    }
    match nr as i64 {
        SYS_socket | SYS_socketpair | SYS_bind | SYS_listen | SYS_accept | SYS_accept4
        | SYS_connect | SYS_sendto | SYS_recvfrom | SYS_sendmsg | SYS_recvmsg | SYS_sendmmsg
        | SYS_recvmmsg | SYS_shutdown | SYS_getsockname | SYS_getpeername | SYS_setsockopt
        | SYS_getsockopt => 0,
        SYS_clock_gettime | SYS_gettimeofday | SYS_time | SYS_clock_getres | SYS_nanosleep
        | SYS_clock_nanosleep | SYS_alarm | SYS_setitimer | SYS_getitimer | SYS_times => 2,
        SYS_futex | SYS_sched_yield | SYS_poll | SYS_ppoll | SYS_select | SYS_pselect6
        | SYS_epoll_wait | SYS_epoll_pwait | SYS_epoll_ctl | SYS_epoll_create
        | SYS_epoll_create1 | SYS_eventfd | SYS_eventfd2 => 3,
        SYS_clone | SYS_clone3 | SYS_fork | SYS_vfork | SYS_execve | SYS_execveat | SYS_exit
        | SYS_exit_group | SYS_wait4 | SYS_waitid | SYS_getpid | SYS_gettid | SYS_getppid
        | SYS_prctl | SYS_uname => 4,
        SYS_kill | SYS_tgkill | SYS_tkill | SYS_rt_sigaction | SYS_rt_sigprocmask
        | SYS_rt_sigreturn | SYS_rt_sigtimedwait | SYS_rt_sigsuspend | SYS_pause
        | SYS_sigaltstack => 5,
        SYS_mmap | SYS_munmap | SYS_mprotect | SYS_brk | SYS_mremap | SYS_madvise => 6,
        SYS_read | SYS_write | SYS_readv | SYS_writev | SYS_pread64 | SYS_pwrite64 | SYS_open
        | SYS_openat | SYS_close | SYS_close_range | SYS_stat | SYS_fstat | SYS_lstat
        | SYS_newfstatat | SYS_statx | SYS_lseek | SYS_access | SYS_faccessat | SYS_faccessat2
        | SYS_getdents64 | SYS_mkdir | SYS_unlink | SYS_unlinkat | SYS_rename | SYS_fsync
        | SYS_fdatasync | SYS_ftruncate | SYS_fcntl | SYS_ioctl | SYS_dup | SYS_dup2 | SYS_dup3
        | SYS_pipe | SYS_pipe2 | SYS_readlink | SYS_readlinkat | SYS_getcwd | SYS_chdir => 1,
        _ => 7,
    }
}

/// One lane: a thread.
#[derive(Serialize)]
struct Lane {
    node: usize,
    pid: i32,
    tid: i32,
    program: String,
}

/// What an event is, for the script.
#[derive(Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Call,
    Spawn,
    Exec,
    Exit,
    Signal,
    Preempted,
}

/// One mark: `[time, lane, kind, family, flags, text]`; flags: 1 an error, 2 an
/// injected fault, 4 passed to the kernel without a look at the result.
#[derive(Serialize)]
struct Mark(u64, usize, Kind, u8, u8, String);

const ERROR: u8 = 1;
const FAULT: u8 = 2;
const KERNEL: u8 = 4;

/// A call that blocked: `[lane, from, to, family]`.
#[derive(Serialize)]
struct Span(usize, u64, u64, u8);

/// A message: `[send mark, receive mark, connection?]`.
#[derive(Serialize)]
struct Arrow(usize, usize, bool);

/// A partition or a crash: `[from, to, node indices, label]`.
#[derive(Serialize)]
struct Band(u64, u64, Vec<usize>, String);

/// An output line: `[time, lane, stderr, text]`.
#[derive(Serialize)]
struct OutLine(u64, usize, bool, String);

/// Where the run failed.
#[derive(Serialize)]
struct Failed {
    reason: String,
    rerun: String,
    time: u64,
    /// The shrunk failure's summary, if it was shrunk.
    shrunk: Option<String>,
    /// The bug-probability plot (SVG) and its table, if branches were run.
    odds: Option<(String, String)>,
}

/// The data of one report page (serialized into it as JSON).
#[derive(Serialize)]
pub struct RunView {
    seed: u64,
    digest: String,
    outcome: String,
    end: u64,
    events: u64,
    /// The trace holds every event (a report of a run without `keep_full_trace` shows
    /// only its last few thousand).
    complete: bool,
    nodes: Vec<(String, String)>,
    families: [&'static str; 8],
    lanes: Vec<Lane>,
    marks: Vec<Mark>,
    spans: Vec<Span>,
    arrows: Vec<Arrow>,
    bands: Vec<Band>,
    lines: Vec<OutLine>,
    processes: Vec<String>,
    failure: Option<Failed>,
    /// The strace-like text of each mark's call lives in `marks`; the
    /// summary line per process.
    warnings: Vec<String>,
    /// The global snapshots the run took (a marker on the time axis and a panel each).
    snapshots: Vec<takt_core::snapshot::Snapshot>,
    /// The run's dependency graph (processes, files, listeners, connections).
    deps: takt_core::deps::Deps,
}

/// At most this many messages of one receive are linked (a read that drains a
/// thousand sends draws its last ones).
const ARROWS_PER_RECEIVE: u32 = 64;

impl RunView {
    /// The view of `report` (and of what failed, for a failed run).
    pub fn new(report: &Report, failure: Option<&Failure>) -> RunView {
        let trace = &report.trace;
        let lanes = lanes(report);
        let lane_of: BTreeMap<(i32, i32), usize> = lanes
            .iter()
            .enumerate()
            .map(|(i, l)| ((l.pid, l.tid), i))
            .collect();
        let mut marks = Vec::new();
        let mut spans = Vec::new();
        let mut blocked: BTreeMap<usize, u64> = BTreeMap::new();
        // (socket, send number) → the mark that sent it; receives to link.
        let mut sends: BTreeMap<(u32, u32), usize> = BTreeMap::new();
        let mut receives: Vec<(usize, Msgs)> = Vec::new();
        for e in trace {
            let Some(&lane) = lane_of.get(&(e.pid, e.tid)) else {
                continue;
            };
            let t = e.time.as_nanos();
            let (kind, fam, flags) = match &e.kind {
                EventKind::Block { .. } => {
                    blocked.insert(lane, t);
                    continue;
                }
                EventKind::Syscall {
                    nr,
                    ret,
                    fault,
                    msgs,
                    ..
                } => {
                    let fam = family(*nr, msgs.is_some_and(|m| !m.is_connection()));
                    let mut flags = 0;
                    // EAGAIN and EINPROGRESS are how non-blocking I/O works, not errors.
                    let ordinary = [-(libc::EAGAIN as i64), -(libc::EINPROGRESS as i64)];
                    if ret.is_some_and(|r| (-4095..0).contains(&r) && !ordinary.contains(&r)) {
                        flags |= ERROR;
                    }
                    if *fault {
                        flags |= FAULT;
                    }
                    if ret.is_none() {
                        flags |= KERNEL;
                    }
                    if let Some(from) = blocked.remove(&lane) {
                        spans.push(Span(lane, from, t, fam));
                    }
                    if let Some(m) = msgs {
                        if m.sent {
                            for seq in m.first..=m.last {
                                sends.insert((m.sock, seq), marks.len());
                            }
                        } else {
                            receives.push((marks.len(), *m));
                        }
                    }
                    (Kind::Call, fam, flags)
                }
                EventKind::Spawn { .. } => (Kind::Spawn, 4, 0),
                EventKind::Exec { .. } => (Kind::Exec, 4, 0),
                EventKind::Exit { .. } => (Kind::Exit, 4, 0),
                EventKind::Signal { .. } => (Kind::Signal, 5, 0),
                EventKind::Preempted => (Kind::Preempted, 7, ERROR),
                EventKind::Spin { .. } => (Kind::Preempted, 7, 0),
                EventKind::Switch | EventKind::Rdtsc | EventKind::ClockJump => continue,
            };
            marks.push(Mark(t, lane, kind, fam, flags, text(e)));
        }
        let mut arrows = Vec::new();
        for (recv, m) in receives {
            let first = m.first.max(m.last.saturating_sub(ARROWS_PER_RECEIVE - 1));
            let mut last_from = None;
            for seq in first..=m.last {
                if let Some(&from) = sends.get(&(m.sock, seq)) {
                    if last_from != Some(from) {
                        arrows.push(Arrow(from, recv, m.is_connection()));
                        last_from = Some(from);
                    }
                }
            }
        }
        let end = report.end_time.as_nanos();
        let lines = report
            .lines
            .iter()
            .map(|l| {
                let lane = lane_of
                    .get(&(l.pid, l.pid))
                    .copied()
                    .or_else(|| lanes.iter().position(|x| x.pid == l.pid))
                    .unwrap_or(0);
                OutLine(l.time.as_nanos(), lane, l.stderr, l.text.clone())
            })
            .collect();
        RunView {
            seed: report.seed,
            digest: report.digest.clone(),
            outcome: outcome(report),
            end,
            events: report.events,
            complete: report.events == trace.len() as u64,
            nodes: report
                .nodes
                .iter()
                .map(|(n, a)| (n.clone(), a.to_string()))
                .collect(),
            families: FAMILIES,
            lanes,
            marks,
            spans,
            arrows,
            bands: bands(report, end),
            lines,
            processes: report
                .processes
                .iter()
                .map(|p| {
                    format!(
                        "{} (node {}, pid {}): {}",
                        p.command, p.node, p.pid, p.status
                    )
                })
                .collect(),
            failure: failure.map(|f| Failed {
                reason: f.reason.clone(),
                rerun: f.rerun.clone(),
                time: failure_time(report),
                shrunk: f.shrunk.as_ref().map(|s| s.summary()),
                odds: f.odds.as_ref().map(|o| (o.svg(), o.table())),
            }),
            warnings: report
                .warnings
                .iter()
                .map(|(w, n)| format!("{w} ({n}x)"))
                .chain(
                    report
                        .nondeterminism
                        .iter()
                        .map(|n| format!("determinism lost: {n}")),
                )
                .collect(),
            snapshots: report.snapshots.clone(),
            deps: report.dependencies(),
        }
    }

    /// How many lanes (threads) the page shows.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// How many arrows link a send to a receive on another node.
    pub fn cross_node_arrows(&self) -> usize {
        self.arrows
            .iter()
            .filter(|a| self.lanes[self.marks[a.0].1].node != self.lanes[self.marks[a.1].1].node)
            .count()
    }
}

/// One lane per thread that appears in the trace, by node, pid and tid.
fn lanes(report: &Report) -> Vec<Lane> {
    let mut program: BTreeMap<i32, String> = BTreeMap::new();
    for p in &report.processes {
        program.entry(p.pid).or_insert_with(|| p.command.clone());
    }
    let mut seen: BTreeMap<(u16, i32, i32), ()> = BTreeMap::new();
    for e in &report.trace {
        if e.tid == 0 {
            continue;
        }
        match &e.kind {
            EventKind::Exec { path } => {
                program.insert(e.pid, path.clone());
            }
            // A forked child runs its parent's program until it execs.
            EventKind::Spawn {
                child,
                process: true,
            } => {
                if let Some(p) = program.get(&e.pid).cloned() {
                    program.entry(*child).or_insert(p);
                }
            }
            _ => {}
        }
        seen.insert((e.node, e.pid, e.tid), ());
    }
    seen.into_keys()
        .map(|(node, pid, tid)| Lane {
            node: node as usize,
            pid,
            tid,
            program: program.get(&pid).cloned().unwrap_or_default(),
        })
        .collect()
}

/// The strace-like line of an event.
fn text(e: &Event) -> String {
    takt_core::trace::what(&e.kind)
}

fn outcome(r: &Report) -> String {
    r.to_string()
        .lines()
        .find_map(|l| l.strip_prefix("end: "))
        .unwrap_or("")
        .to_string()
}

/// When the run failed: the exit of the first process that failed, else its end.
pub(crate) fn failure_time(r: &Report) -> u64 {
    use takt_core::report::Status;
    r.processes
        .iter()
        .filter(|p| !matches!(p.status, Status::Exited(0) | Status::Running))
        .find_map(|p| p.exit_time)
        .unwrap_or(r.end_time)
        .as_nanos()
}

/// Partitions (to their heal) and crashes (to their restart) as bands.
fn bands(r: &Report, end: u64) -> Vec<Band> {
    let mut out = Vec::new();
    for (i, x) in r.incidents.iter().enumerate() {
        let until = |matches: &dyn Fn(&ScheduledEvent) -> bool| {
            r.incidents[i + 1..]
                .iter()
                .find(|y| matches(&y.event))
                .map_or(end, |y| y.time.as_nanos())
        };
        let to = match x.event {
            ScheduledEvent::Partition(a, b, true) => {
                until(&|e| *e == ScheduledEvent::Partition(a, b, false))
            }
            ScheduledEvent::Crash(n) => until(&|e| *e == ScheduledEvent::Restart(n)),
            _ => continue,
        };
        out.push(Band(x.time.as_nanos(), to, x.nodes.clone(), x.what.clone()));
    }
    out
}
