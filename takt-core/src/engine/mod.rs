//! The engine: one run of a scenario, one thread at a time, on one virtual clock.
//!
//! Owns the run loop, the tracees' stops, the scheduler and the trace. Data flows one
//! way: a tracee stops → [`crate::sys`] → the syscall is decoded once → a handler
//! ([`crate::handler`]) answers from the [`World`] (the processes, threads, descriptors
//! and models: `fd`, `net`, `time`, …) → the engine applies what the handler asked for
//! ([`Effect`]s) and its answer, and records the call's trace event → the result is
//! written back when the thread is next resumed → the scheduler picks the next thread.
//!
//! Process lifecycle as the tracees show it (spawn, fork, exec, exit, signal-delivery
//! stops) lives in the `process` submodule, the run's decisions of which thread runs in
//! `decide`, what a clock read costs in `time`, pure spins in `spin`. Signals, job
//! control and CPU time, which handlers reach too, are in [`crate::world`].

mod capture;
mod decide;
mod notify;
mod process;
mod snapshot;
mod spin;
mod time;

use crate::config::Config;
use crate::errno::Errno;
use crate::fd::Obj;
use crate::handler::{self, Blocked, Out, Post};
use crate::report::{Line, Outcome, Report};
use crate::sched::Scheduler;
use crate::sys::{self, watchdog::Watch, RealTid, Running, Stop, StopReason, Stopped};
use crate::syscall::Syscall;
use crate::time::VTime;
use crate::trace::{Event, EventKind, Trace};
use crate::Error;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use crate::config::NODE_VIEW;

pub(crate) use crate::world::{cpu, Effect, Resume, State, Stream, TimerKey, World};
pub use crate::world::{Disposition, Proc, Thread, Vtid};

/// What a detailed call event would be without the detail: (passed to the kernel only
/// to show its result, the capture it would keep).
type Plain = (bool, Option<Box<crate::syscall::capture::Capture>>);

/// One run.
pub struct Engine {
    /// What the handlers see: the models and tables.
    pub(crate) w: World,
    /// Each thread's action at the exit of the call it is in, if its handler left one.
    pub(crate) posts: BTreeMap<Vtid, Post>,
    faults_on: bool,
    sched: Scheduler,
    pub(crate) trace: Trace,
    pub(crate) nondeterminism: Vec<String>,
    pidns: Option<sys::PidNamespace>,
    /// A node that asked for a filesystem view of its own did not get one.
    fs_fallback: bool,
    watch: Arc<Watch>,
    /// The clock page (see [`sys::vdso`]), if the processes read their clocks from it.
    pub(crate) clock: Option<sys::vdso::ClockPage>,
    /// The thread the clock page was last published for: (thread, cost of a read, reads
    /// it may still make).
    pub(crate) clock_owner: Option<(Vtid, u64, u64)>,
    pub(crate) cpu: usize,
    pub(crate) syscalls: u64,
    /// Syscall stops that were notifications.
    pub(crate) notified: u64,
    pub(crate) lines: Vec<Line>,
    pub(crate) filter: Vec<sys::seccomp::Insn>,
    /// The filter with [`crate::syscall::NOTIFIED`] notified, and the waiter for both
    /// kinds of stop ([`sys::notif`]); `None`: every stop is a ptrace stop
    /// (`TAKT_NOTIFY=0`, or no io_uring `waitid` here).
    pub(crate) notify: Option<(Vec<sys::seccomp::Insn>, sys::notif::Waiter)>,
    /// Each process's notification listener (shared by the processes forked from it).
    pub(crate) listeners: BTreeMap<Vtid, std::rc::Rc<sys::notif::Listener>>,
    /// Spawned processes whose listener is still in the child (index into `plans`).
    pub(crate) listener_wanted: BTreeMap<Vtid, usize>,
    /// Spawn plans, kept while the scenario runs (children read them until execve).
    pub(crate) plans: Vec<sys::spawn::SpawnPlan>,
    pub(crate) failure: Option<Outcome>,
    pub(crate) incidents: Vec<crate::report::Incident>,
    /// `TAKT_DEBUG=1`: print every event to stderr as it happens.
    debug: bool,
    /// Pure spins are settled at a canonical point (`spin`); `TAKT_SPIN_SETTLE=0` turns
    /// that off, to measure what it changes.
    settle_spins: bool,
    /// The behaviour signature, built as events happen.
    pub(crate) signer: Option<crate::signature::Signer>,
    /// Sockets the network changed at the last delivery (reused buffer).
    net_changed: Vec<usize>,
    /// Global snapshots requested and taken ([`crate::snapshot`]).
    pub(crate) snaps: crate::snapshot::Snapshots,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("now", &self.w.now)
            .field("threads", &self.w.threads.len())
            .finish()
    }
}

impl Engine {
    /// Prepares a run (nothing is started yet).
    pub fn new(mut cfg: Config) -> Engine {
        if let Some(t) = &cfg.tape {
            cfg.seed = t.seed;
        }
        let mut decisions = crate::world::decide::Decisions::new(&cfg);
        let partitions = decisions.partitions(&cfg);
        cfg.events.extend(partitions);
        let faults_on = !cfg.faults.is_empty() || decisions.replays();
        let cpu = cfg.host_cpu.unwrap_or_else(crate::cpus::acquire);
        let cfg_signature = cfg.signature;
        let cfg_snapshots = cfg.snapshot_at.clone();
        let sched = Scheduler::new(cfg.strategy, crate::rng::stream(cfg.seed, "sched"));
        let trace = Trace::new(cfg.keep_trace);
        let watch = Watch::register(cfg.preempt_slice);
        let filter = filter(&cfg, &[]);
        let notify = (!cfg.test_without_file_model
            && !cfg.test_ptrace_stops_only
            && std::env::var_os("TAKT_NOTIFY").is_none_or(|v| v != "0"))
        .then(sys::notif::Waiter::new)
        .flatten()
        .map(|w| (self::filter(&cfg, &crate::syscall::NOTIFIED), w));
        let w = World::new(cfg, decisions);
        Engine {
            w,
            sched,
            trace,
            watch,
            filter,
            notify,
            listeners: BTreeMap::new(),
            listener_wanted: BTreeMap::new(),
            plans: Vec::new(),
            posts: BTreeMap::new(),
            faults_on,
            nondeterminism: Vec::new(),
            pidns: None,
            fs_fallback: false,
            clock: None,
            clock_owner: None,
            cpu,
            syscalls: 0,
            notified: 0,
            lines: Vec::new(),
            failure: None,
            incidents: Vec::new(),
            debug: std::env::var_os("TAKT_DEBUG").is_some_and(|v| v != "0"),
            settle_spins: std::env::var_os("TAKT_SPIN_SETTLE").is_none_or(|v| v != "0"),
            signer: cfg_signature.then(crate::signature::Signer::new),
            net_changed: Vec::new(),
            snaps: crate::snapshot::Snapshots::new(&cfg_snapshots),
        }
    }

    /// Runs every process to the end (or to the completion time) and reports.
    ///
    /// The run loop runs under `catch_unwind`: a panic in the tracer (a bug in takt)
    /// becomes [`Error::Panic`] with its message and the seed, and the processes of the
    /// run are killed and reaped on every path, within a bounded time.
    pub fn run(mut self) -> Result<Report, Error> {
        let _tsc = sys::TscTrap::new(); // this thread traps rdtsc as its tracees do, until it returns
        let before = sys::pin_current_thread(&[self.cpu]);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_pinned()));
        self.teardown();
        sys::pin_current_thread(&before);
        crate::cpus::release(self.cpu);
        let outcome = result.map_err(|payload| Error::Panic {
            message: panic_message(payload.as_ref()),
            seed: self.w.cfg.seed,
        })??;
        Ok(self.report(outcome))
    }

    fn run_pinned(&mut self) -> Result<Outcome, Error> {
        self.set_up()?;
        let must_finish: Vec<usize> = (0..self.w.cfg.processes.len())
            .filter(|&i| self.w.cfg.processes[i].must_finish)
            .collect();
        let end = self.w.cfg.completion_time.map(|d| VTime::ZERO.after(d));
        let mut runnable = Vec::new();
        loop {
            self.apply_effects();
            if let Some(outcome) = self.ended(&must_finish, end) {
                return Ok(outcome);
            }
            self.take_due_snapshots();
            self.fire_due()?;
            self.apply_effects();
            runnable.clear();
            runnable.extend(
                self.w
                    .threads
                    .values()
                    .filter(|t| self.eligible(t))
                    .map(|t| t.vtid),
            );
            if runnable.is_empty() {
                match self.idle(end) {
                    Some(outcome) => return Ok(outcome),
                    None => continue,
                }
            }
            let current = self.w.last.filter(|t| runnable.contains(t));
            self.maybe_branch();
            let tid = self.schedule(&runnable, current);
            if self.w.last != Some(tid) {
                self.w.last = Some(tid);
                self.event(tid, EventKind::Switch);
            }
            self.step(tid)?;
            // A call passed to the kernel that stops at its exit only for a detailed
            // trace: that stop is no scheduling point, so the schedule stays as without.
            while self.w.cfg.trace_detail
                && self.w.threads.get(&tid).is_some_and(|t| {
                    t.detail_pass && matches!(t.state, State::Ready(Resume::ToExit))
                })
            {
                self.step(tid)?;
            }
        }
    }

    /// Before the first guest instruction: the PID namespace, the nodes' files and
    /// filesystem views, the network's nodes, a report entry for every process, the
    /// timers of later starts and scheduled events, and the processes that start at 0.
    fn set_up(&mut self) -> Result<(), Error> {
        if !self.w.cfg.test_without_pid_namespace {
            let views = self
                .w
                .cfg
                .nodes
                .iter()
                .filter(|n| n.layer.is_some())
                .count();
            self.pidns = sys::PidNamespace::new(views).ok();
            self.w.pid_ns = self.pidns.is_some();
        }
        self.write_node_files()?;
        self.make_node_namespaces();
        self.clock = self.make_clock_page();
        for (i, node) in self.w.cfg.nodes.iter().enumerate() {
            let id = self.w.net.add_node(&node.name, node.addr);
            debug_assert_eq!(id, i);
        }
        for (i, spec) in self.w.cfg.processes.iter().enumerate() {
            self.w.reports.push(crate::report::ProcessReport {
                node: self.w.cfg.nodes[spec.node].name.clone(),
                pid: 0,
                command: spec.display.clone(),
                status: crate::report::Status::NotStarted(
                    "the run ended before its start time".into(),
                ),
                stdout: Vec::new(),
                stderr: Vec::new(),
                exit_time: None,
            });
            if spec.start_after.is_zero() {
                continue;
            }
            self.w
                .timers
                .insert(VTime::ZERO.after(spec.start_after), TimerKey::Spawn(i));
        }
        for (i, (at, _)) in self.w.cfg.events.iter().enumerate() {
            self.w
                .timers
                .insert(VTime::ZERO.after(*at), TimerKey::Scheduled(i));
        }
        for i in 0..self.w.cfg.processes.len() {
            if self.w.cfg.processes[i].start_after.is_zero() {
                self.spawn_spec(i)?;
            }
        }
        Ok(())
    }

    /// Whether the run is over before the next step: a failure, takt interrupted,
    /// every process that must finish did, or the completion time came.
    fn ended(&mut self, must_finish: &[usize], end: Option<VTime>) -> Option<Outcome> {
        if let Some(f) = self.failure.take() {
            return Some(f);
        }
        if let Some(signal) = sys::signal::interrupted() {
            return Some(Outcome::Interrupted { signal });
        }
        let done = |i: &usize| {
            !matches!(self.w.reports[*i].status, crate::report::Status::Running)
                && self.w.reports[*i].pid != 0
        };
        if !must_finish.is_empty() && must_finish.iter().all(done) {
            return Some(Outcome::Finished);
        }
        if end.is_some_and(|e| self.w.now >= e) {
            return Some(Outcome::CompletionTime);
        }
        None
    }

    /// Nothing can run: the clock jumps to the next timer or delivery (`None`: go on),
    /// or the run ends (every thread exited, the completion time passed, a deadlock,
    /// or only spinners are left).
    fn idle(&mut self, end: Option<VTime>) -> Option<Outcome> {
        let next = [self.w.timers.next(), self.w.net.next_event()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) => {
                if let Some(e) = end.filter(|&e| t > e) {
                    self.w.now = e;
                    return Some(Outcome::CompletionTime);
                }
                self.w.now = self.w.now.max(t);
                self.event(0, EventKind::ClockJump);
                None
            }
            None if self.w.threads.is_empty() => Some(Outcome::AllExited),
            None => Some(self.spinners_only().unwrap_or_else(|| Outcome::Deadlock {
                waits: [self.describe_waits(), self.w.describe_stops()].concat(),
            })),
        }
    }

    /// Fires every timer and network delivery due at the current time.
    pub(crate) fn fire_due(&mut self) -> Result<(), Error> {
        while let Some(key) = self.w.timers.pop_due(self.w.now) {
            match key {
                TimerKey::Thread(tid) => {
                    let Some(t) = self.w.threads.get_mut(&tid) else {
                        continue;
                    };
                    t.timer = None;
                    if let State::Blocked(b) = &mut t.state {
                        let v = b.on_timeout;
                        let real = t.real;
                        for (addr, data) in std::mem::take(&mut b.timeout_writes) {
                            let _ = self.w.mem.write(real, addr, &data);
                        }
                        self.w.complete(tid, v);
                    }
                }
                TimerKey::Alarm(pid) => self.w.alarm_fired(pid),
                TimerKey::Spawn(i) => self.spawn_spec(i)?,
                TimerKey::Scheduled(i) => self.scheduled(i)?,
                TimerKey::Posix(pid, id) => self.w.posix_timer_fired(pid, id),
                TimerKey::TimerFd(id) => self.w.timerfd_fired(id),
            }
        }
        if self.w.net.next_event().is_some_and(|t| t <= self.w.now) {
            // One buffer for the whole run: no allocation per delivery.
            let mut changed = std::mem::take(&mut self.net_changed);
            self.w.net.advance(self.w.now, &mut changed);
            for &s in &changed {
                if let Some(m) = self.w.socks.get_mut(&s) {
                    m.deliveries += 1;
                }
                self.w.notify(Obj::Socket(s));
            }
            changed.clear();
            self.net_changed = changed;
        }
        Ok(())
    }

    /// Resumes `tid` and handles its next stop.
    /// Before `tid` runs: takes its resume action (running its handler again if it was
    /// woken), publishes the clock page for it, and re-checks it if it is a parked
    /// spinner. `None`: it does not run now (that is handled).
    fn take_resume(&mut self, tid: Vtid) -> Result<Option<(notify::Held, Resume)>, Error> {
        let t = self.w.threads.get_mut(&tid).expect("picked thread exists");
        let ended = std::mem::take(&mut t.ended);
        let State::Ready(resume) = std::mem::replace(&mut t.state, State::Ready(Resume::Cont(0)))
        else {
            unreachable!("only ready threads are picked")
        };
        let resume = match resume {
            Resume::Retry => match self.retry(tid) {
                Some(r) => r,
                None => return Ok(None),
            },
            r => r,
        };
        if ended {
            self.ended_event(tid, &resume);
        }
        self.publish_clock(tid);
        let t = self.w.threads.get_mut(&tid).expect("picked thread exists");
        if let Some(id) = t.notif.take() {
            return Ok(Some((notify::Held::Notif(id), resume)));
        }
        let mut stopped = t.stopped.take().expect("a ready thread holds its stop");
        let tgid = self.w.procs[&t.pid].real;
        if let (Some(spin), Resume::Cont(0)) = (t.spinning.take(), &resume) {
            // A parked spinner: one pass tells whether it still spins (no real time).
            match self.recheck(tgid, stopped, &spin)? {
                spin::Rechecked::Still(s) => {
                    self.park_spinner(tid, s, spin);
                    return Ok(None);
                }
                spin::Rechecked::Left(s) => stopped = s,
                spin::Rechecked::Stop(stop) => {
                    self.w.progress = self.w.progress.wrapping_add(1);
                    self.handle_stop(tid, stop)?;
                    return Ok(None);
                }
            }
        }
        Ok(Some((notify::Held::Ptrace(stopped), resume)))
    }

    /// The event of a parked call that was ended from outside ([`World::complete`]),
    /// as its thread runs again. The behaviour signature does not see it: whether a
    /// call had to wait (a `pthread_join` of a thread that has exited or not) is the
    /// schedule's doing, and a call that waited shows nothing else there.
    fn ended_event(&mut self, tid: Vtid, resume: &Resume) {
        let t = &self.w.threads[&tid];
        let Some(ret) = (match resume {
            Resume::Regs(r) => r.emulated(),
            _ => None,
        }) else {
            return;
        };
        let (nr, args) = t.cur.encode();
        let fault = t.fault;
        let kind = EventKind::Syscall {
            nr,
            args,
            ret: Some(ret),
            fault,
            msgs: None,
            capture: None,
        };
        self.record(tid, kind, false);
    }

    fn step(&mut self, tid: Vtid) -> Result<(), Error> {
        if let Some(done) = self.before_run(tid) {
            return done;
        }
        let Some((held, resume)) = self.take_resume(tid)? else {
            return Ok(());
        };
        let (real, pid) = (self.w.threads[&tid].real, self.w.threads[&tid].pid);
        let tgid = self.w.procs[&pid].real;
        self.w.progress = self.w.progress.wrapping_add(1);
        let mut running = match self.resume_held(tid, held, resume)? {
            notify::Resumed::Running(r) => r,
            notify::Resumed::Stop(stop) => return self.handle_stop(tid, stop),
        };
        let mut not_pure = "";
        loop {
            let n = self.watch.resuming(tgid, real);
            let stop = self.next_event(tid, running);
            self.watch.stopped();
            let stop = match self.in_step(tid, stop?)? {
                notify::InStep::Runs(r) => {
                    running = r;
                    continue;
                }
                notify::InStep::Handled => return Ok(()),
                notify::InStep::Stop(stop) => stop,
            };
            if let Stop::Stopped(mut s, StopReason::Signal(libc::SIGSTOP)) = stop {
                // handle_stop settles the clock page's reads; this path may not get there.
                self.settle_clock();
                if self.watch.fired_during(n) {
                    // Preempted by the watchdog: the thread ran a whole slice without
                    // a trapped syscall (or takt was told to stop meanwhile).
                    if self.settle_spins
                        && sys::signal::interrupted().is_none()
                        && Engine::should_settle(&self.w.threads[&tid])
                    {
                        match self.settle(tgid, s)? {
                            // It reached a syscall (or another stop) while stepped.
                            spin::Settled::Stop(stop) => return self.handle_stop(tid, stop),
                            spin::Settled::Spin(s, spin) => {
                                self.spun(tid, &spin);
                                self.park_spinner(tid, s, spin);
                                return Ok(());
                            }
                            spin::Settled::NotPure(stopped, why) => {
                                s = stopped;
                                not_pure = why;
                                self.w.threads.get_mut(&tid).expect("thread").computing = true;
                            }
                        }
                    }
                    if sys::signal::interrupted().is_none() && self.keeps_computing(tid) {
                        running = s.cont(0)?;
                        continue;
                    }
                    if self.preempted(tid, &s, not_pure) || sys::signal::interrupted().is_some() {
                        self.w.threads.get_mut(&tid).expect("thread").stopped = Some(s);
                        self.w.set_ready(tid, Resume::Cont(0));
                        return Ok(());
                    }
                } else if s
                    .siginfo()
                    .is_ok_and(|i| !crate::world::job::from_watchdog(&i))
                {
                    // A guest's SIGSTOP (job control).
                    let stop = Stop::Stopped(s, StopReason::Signal(libc::SIGSTOP));
                    return self.handle_stop(tid, stop);
                }
                // Invisible: a stale SIGSTOP, or a preemption with nobody else to run.
                running = s.cont(0)?;
                continue;
            }
            return self.handle_stop(tid, stop);
        }
    }

    /// Whether `tid`, computing (see [`Config::compute_allowance`]), keeps the CPU past
    /// the slice that just ended: it then counts against the spin budget as a slice, and
    /// the preemption is invisible.
    fn keeps_computing(&mut self, tid: Vtid) -> bool {
        let slice = self.w.cfg.preempt_slice.as_secs_f64();
        let limit = self
            .w
            .cfg
            .compute_allowance
            .min(self.w.cfg.spin_budget)
            .as_secs_f64();
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        if !t.computing || f64::from(t.spin.saturating_add(1)) * slice > limit {
            return false;
        }
        t.spin = t.spin.saturating_add(1);
        true
    }

    /// Accounts a watchdog preemption of `tid` (stopped at `s`) that is not a pure spin
    /// (`why`: what stepping it found); returns whether it is visible (another thread
    /// could run, so the schedule now depends on real time, or the spin budget is spent).
    /// An invisible one changes nothing and is not recorded.
    fn preempted(&mut self, tid: Vtid, s: &Stopped, why: &str) -> bool {
        let slice = self.w.cfg.preempt_slice.as_secs_f64();
        let ip = s.regs().map_or(0, |r| r.ip());
        let place = self.code_place(tid, ip);
        let (who, spent) = self.count_spin(tid, &place);
        if spent {
            return true;
        }
        let others = self
            .w
            .threads
            .values()
            .any(|o| o.vtid != tid && self.eligible(o));
        if !others {
            return false;
        }
        self.event(tid, EventKind::Preempted);
        if !self.nondeterminism.iter().any(|n| n.starts_with(&who)) {
            let why = if why.is_empty() {
                String::new()
            } else {
                format!(
                    " (not a pure spin: {why} within {} instructions)",
                    spin::MAX_STEPS
                )
            };
            self.nondeterminism.push(format!(
                "{who} preempted at {} after {slice:.2} s without a trapped syscall, at {place}{why}",
                self.w.now
            ));
        }
        true
    }

    /// Counts one more watchdog slice that `tid` ran without a syscall (at `place`):
    /// who it is, and whether the spin budget is now spent (the run then fails as
    /// spinning).
    fn count_spin(&mut self, tid: Vtid, place: &str) -> (String, bool) {
        let slice = self.w.cfg.preempt_slice.as_secs_f64();
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        t.spin += 1;
        let spun = t.spin as f64 * slice;
        let pid = t.pid;
        let who = format!("pid {pid} tid {tid} ({})", self.w.procs[&pid].command);
        let spent = spun >= self.w.cfg.spin_budget.as_secs_f64();
        if spent {
            self.failure = Some(Outcome::Spinning {
                who: format!("{who} at {place}"),
                seconds: spun,
            });
        }
        (who, spent)
    }

    /// Counts a pure spin the watchdog found against the spin budget and notes it once.
    fn spun(&mut self, tid: Vtid, spin: &crate::world::Spin) {
        let place = self.code_place(tid, spin.canon.ip());
        let (who, _) = self.count_spin(tid, &place);
        self.w.note(format!(
            "{who} spins at {place} (a loop of {} instructions): parked there until another \
             thread runs",
            spin.period
        ));
    }

    /// Parks `tid` (stopped at `s`) in its pure spin: it waits for another thread to run.
    fn park_spinner(&mut self, tid: Vtid, s: Stopped, mut spin: Box<crate::world::Spin>) {
        spin.parked_at = self.w.progress;
        let (ip, period) = (spin.canon.ip(), spin.period);
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        t.stopped = Some(s);
        t.state = State::Ready(Resume::Cont(0));
        t.spinning = Some(spin);
        self.event(tid, EventKind::Spin { ip, period });
    }

    /// Nothing can run and no timer is set, but threads are parked in pure spins: they
    /// would spin for ever (a livelock), the run's failure.
    fn spinners_only(&self) -> Option<Outcome> {
        let t = self.w.threads.values().find(|t| t.spinning.is_some())?;
        let spin = t.spinning.as_ref()?;
        Some(Outcome::Spinning {
            who: format!(
                "pid {} tid {} ({}) at {} (a loop of {} instructions), with no other thread \
                 to run and no timer to wait for,",
                t.pid,
                t.vtid,
                self.w.procs[&t.pid].command,
                self.code_place(t.vtid, spin.canon.ip()),
                spin.period
            ),
            seconds: f64::from(t.spin) * self.w.cfg.preempt_slice.as_secs_f64(),
        })
    }

    /// Where instruction `ip` of `tid`'s process is: `0x…` and, where the binary has
    /// symbols, the function and the offset in it.
    fn code_place(&self, tid: Vtid, ip: u64) -> String {
        match self.w.threads.get(&tid) {
            Some(t) => crate::symbols::place(t.real, ip),
            None => format!("{ip:#x}"),
        }
    }

    fn handle_stop(&mut self, tid: Vtid, stop: Stop) -> Result<(), Error> {
        self.settle_clock();
        match stop {
            Stop::Stopped(s, reason) => {
                let t = self.w.threads.get_mut(&tid).expect("stopped thread exists");
                t.stopped = Some(s);
                t.recheck = false;
                t.at_seccomp = false;
                match reason {
                    StopReason::Seccomp => self.on_syscall(tid),
                    StopReason::SyscallExit => self.on_syscall_exit(tid),
                    StopReason::Spawned(child) => self.on_spawned(tid, child),
                    StopReason::Exec(_) => self.on_exec(tid),
                    StopReason::Exiting(status) => self.on_exiting(tid, status),
                    StopReason::Signal(sig) => self.on_signal(tid, sig),
                    StopReason::VforkDone => {
                        self.w.set_ready(tid, Resume::Cont(0));
                        Ok(())
                    }
                }
            }
            Stop::Exited(_, code) => self.on_thread_gone(tid, code << 8),
            Stop::Signaled(_, sig, core) => {
                self.on_thread_gone(tid, sig | if core { 0x80 } else { 0 })
            }
            Stop::Notified(n) => {
                self.w.threads.get_mut(&tid).expect("thread exists").recheck = false;
                self.on_notified(tid, n).map(drop)
            }
        }
    }

    /// A seccomp stop: decode, dispatch, and record.
    fn on_syscall(&mut self, tid: Vtid) -> Result<(), Error> {
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        let regs = match t.stopped.as_ref().expect("stopped").syscall_regs() {
            Ok(r) => r,
            Err(Error::TraceeGone { .. }) => return self.collect_vanished(tid),
            Err(e) => return Err(e),
        };
        if !self.listener_wanted.is_empty() {
            self.take_listener(tid)?;
        }
        let Some(regs) = self.unmark(tid, regs) else {
            return Ok(());
        };
        self.w
            .threads
            .get_mut(&tid)
            .expect("thread exists")
            .at_seccomp = true;
        self.syscall_stop(tid, regs)
    }

    /// A syscall stop (ptrace or notified) with its registers: decode, dispatch, and
    /// record.
    fn syscall_stop(&mut self, tid: Vtid, regs: sys::Regs) -> Result<(), Error> {
        self.syscalls += 1;
        if self.w.cfg.test_panic_after_syscalls == Some(self.syscalls) {
            panic!("test hook: tracer panic after {} syscalls", self.syscalls);
        }
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        t.spin = 0;
        t.computing = false;
        t.progress = 0;
        t.short = None;
        t.ended = false;
        let nr = regs.syscall_nr() as u32;
        let args = regs.args();
        t.regs = Some(regs);
        let call = Syscall::decode(nr, args);
        t.cur = call;
        t.capture = None;
        let cost = if time::reads_the_clock(nr) {
            time::clock_read_cost(self.w.cfg.syscall_cost, &mut t.clock_reads)
        } else {
            t.clock_reads = 0;
            self.w.cfg.syscall_cost
        };
        self.w.now = self.w.now.after(cost);
        let ns = u64::try_from(cost.as_nanos()).unwrap_or(u64::MAX);
        self.w.charge_cpu(tid, cpu::CpuTime::of_syscall(ns));
        if capture::wanted(nr) || self.w.cfg.trace_detail {
            let c = self.capture_entry(tid, nr, args);
            self.w.threads.get_mut(&tid).expect("thread exists").capture = c;
        }
        let (out, fault) = if self.faults_on {
            handler::inject::dispatch_with_faults(&mut self.w, tid, &call)
        } else {
            (handler::dispatch(&mut self.w, tid, &call), false)
        };
        self.apply_effects();
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        t.fault = fault;
        t.calls = t.calls.saturating_add(1);
        self.apply(tid, out);
        self.w.cpu_expiries(tid);
        Ok(())
    }

    /// Does what the handlers asked for (see [`Effect`]), in order.
    pub(crate) fn apply_effects(&mut self) {
        while !self.w.effects.is_empty() {
            for fx in std::mem::take(&mut self.w.effects) {
                match fx {
                    Effect::Yield(tid) => self.sched.yielded(tid),
                    Effect::SignalIo(obj) => handler::io::signal_io(&mut self.w, obj),
                    Effect::Output { stream, pid, from } => self.write_output(stream, pid, from),
                    Effect::Collect(tid) => {
                        if let Err(e) = self.collect_vanished(tid) {
                            self.w.warn(format!("collecting a SIGKILLed process: {e}"));
                        }
                    }
                }
            }
        }
    }

    /// Applies a handler's answer to the thread stopped in the syscall.
    pub(crate) fn apply(&mut self, tid: Vtid, out: Result<Out, Errno>) {
        let (nr, args) = self.w.threads[&tid].cur.encode();
        match out {
            Ok(Out::Return(v)) => {
                self.event(
                    tid,
                    EventKind::Syscall {
                        nr,
                        args,
                        ret: Some(v),
                        fault: self.w.threads.get(&tid).is_some_and(|t| t.fault),
                        msgs: None,
                        capture: None,
                    },
                );
                self.w.set_return(tid, v);
            }
            Err(e) => {
                self.event(
                    tid,
                    EventKind::Syscall {
                        nr,
                        args,
                        ret: Some(e.ret()),
                        fault: self.w.threads.get(&tid).is_some_and(|t| t.fault),
                        msgs: None,
                        capture: None,
                    },
                );
                self.w.set_return(tid, e.ret());
            }
            Ok(Out::Pass) if self.w.cfg.trace_detail && capture::exit_stop_shows_result(nr) => {
                let t = self.w.threads.get_mut(&tid).expect("thread exists");
                t.detail_pass = true;
                self.w.set_ready(tid, Resume::ToExit);
            }
            Ok(Out::Pass) => {
                self.event(
                    tid,
                    EventKind::Syscall {
                        nr,
                        args,
                        ret: None,
                        fault: self.w.threads.get(&tid).is_some_and(|t| t.fault),
                        msgs: None,
                        capture: None,
                    },
                );
                self.w.set_ready(tid, Resume::Cont(0));
            }
            Ok(Out::PassThen(post)) => {
                self.posts.insert(tid, post);
                self.w.set_ready(tid, Resume::ToExit);
            }
            Ok(Out::Rewrite {
                nr: new_nr,
                args: new_args,
                post,
            }) => {
                let t = self.w.threads.get_mut(&tid).expect("thread exists");
                let mut regs = t.regs.expect("at a seccomp stop");
                t.restore = Some(regs.args());
                regs.rewrite(new_nr, new_args);
                match post {
                    Some(p) => self.posts.insert(tid, p),
                    None => self.posts.remove(&tid),
                };
                self.w.set_ready(tid, Resume::RegsToExit(regs));
            }
            Ok(Out::Block(b)) => self.block(tid, b),
            Ok(Out::Restart) => {
                let t = self.w.threads.get_mut(&tid).expect("thread exists");
                let mut regs = t.regs.expect("at a seccomp stop");
                regs.restart_syscall();
                self.w.set_ready(tid, Resume::Regs(regs));
            }
        }
    }

    /// A syscall-exit stop: run the post action registered at entry.
    fn on_syscall_exit(&mut self, tid: Vtid) -> Result<(), Error> {
        let post = self.posts.remove(&tid);
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        let mut regs = match t.stopped.as_ref().expect("stopped").syscall_regs() {
            Ok(r) => r,
            Err(Error::TraceeGone { .. }) => return self.collect_vanished(tid),
            Err(e) => return Err(e),
        };
        let (nr, args) = t.cur.encode();
        let restore = t.restore.take();
        let ret = regs.ret();
        let new = match post {
            Some(p) => {
                let new = p.call(&mut self.w, tid, ret);
                self.apply_effects();
                new
            }
            None => None,
        };
        self.event(
            tid,
            EventKind::Syscall {
                nr,
                args,
                ret: Some(new.unwrap_or(ret)),
                fault: self.w.threads.get(&tid).is_some_and(|t| t.fault),
                msgs: None,
                capture: None,
            },
        );
        if let Some(orig) = restore {
            regs.set_args(orig);
        }
        if let Some(v) = new.filter(|&v| v != ret) {
            regs.set_ret(v);
        }
        self.w.set_ready(
            tid,
            if regs.changed() {
                Resume::Regs(regs)
            } else {
                Resume::Cont(0)
            },
        );
        Ok(())
    }

    /// Re-runs the handler of a blocked thread that was woken. `None`: it blocked again.
    pub(crate) fn retry(&mut self, tid: Vtid) -> Option<Resume> {
        let call = self.w.threads[&tid].cur;
        let mut out = handler::dispatch(&mut self.w, tid, &call);
        self.apply_effects();
        if let (Ok(Out::Block(b)), Some(id)) = (&mut out, self.w.threads[&tid].timer) {
            // Parked again: the time-out still counts from the start of the call (a
            // handler computes it afresh from its arguments).
            b.deadline = Some(id.at());
        }
        let sig_wake = self.w.threads.get_mut(&tid).and_then(|t| t.sig_wake.take());
        if let (Some(sa_restart), Ok(Out::Block(b))) = (sig_wake, &out) {
            // A signal is waiting for this thread: it may not park again.
            let (restart, remaining, deadline) =
                (sa_restart && b.restartable, b.remaining, b.deadline);
            self.w.interrupt(tid, restart, remaining, deadline);
            let t = self.w.threads.get_mut(&tid)?;
            return match std::mem::replace(&mut t.state, State::Ready(Resume::Cont(0))) {
                State::Ready(r) => Some(r),
                other => {
                    t.state = other;
                    None
                }
            };
        }
        if matches!(out, Ok(Out::Pass | Out::PassThen(_) | Out::Rewrite { .. })) {
            // The call goes to the kernel now: its time-out here is moot.
            let t = self.w.threads.get_mut(&tid).expect("thread exists");
            if let Some(id) = t.timer.take() {
                self.w.timers.cancel(id);
            }
        }
        self.apply(tid, out);
        let t = self.w.threads.get_mut(&tid)?;
        match std::mem::replace(&mut t.state, State::Ready(Resume::Cont(0))) {
            State::Ready(r) => Some(r),
            other => {
                t.state = other;
                None
            }
        }
    }

    fn block(&mut self, tid: Vtid, b: Blocked) {
        // A send that moved part of its data before parking: keep its messages for the
        // call's completion event.
        if let Some(m) = self.w.net.take_msgs() {
            if let Some(t) = self.w.threads.get_mut(&tid) {
                t.msgs = Some(t.msgs.map_or(m, |old| old.merge(m)));
            }
        }
        let nr = self.w.threads[&tid].cur.nr();
        self.event(tid, EventKind::Block { nr });
        // A deadline that saturated to NEVER (a guest's LONG_MAX seconds) is a wait
        // without end, as on Linux, not a timeout at the end of virtual time.
        let timer = b
            .deadline
            .filter(|&d| d != VTime::NEVER)
            .map(|d| self.w.timers.insert(d, TimerKey::Thread(tid)));
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        if let Some(old) = std::mem::replace(&mut t.timer, timer) {
            self.w.timers.cancel(old);
        }
        t.state = State::Blocked(b);
    }

    /// Appends a trace event for thread `tid` (0: the engine itself).
    pub(crate) fn event(&mut self, tid: Vtid, kind: EventKind) {
        self.record(tid, kind, true);
    }

    /// What a call event keeps of its thread (the capture of its pointer arguments,
    /// the messages it moved, whether it was passed to the kernel only to show its
    /// result), filled into `kind`; returns, with `trace_detail`, what the event would
    /// be without it: (passed, capture).
    fn call_detail(&mut self, tid: Vtid, kind: &mut EventKind) -> Option<Plain> {
        let mut plain = None;
        if let EventKind::Syscall {
            nr,
            args,
            ret,
            msgs,
            capture,
            ..
        } = kind
        {
            // What the thread kept for this event: one lookup.
            let (passed, cap, parked) = match self.w.threads.get_mut(&tid) {
                Some(t) => (
                    std::mem::take(&mut t.detail_pass),
                    t.capture.take(),
                    t.msgs.take(),
                ),
                None => (false, None, None),
            };
            if let Some(mut c) = cap {
                if self.w.cfg.trace_detail {
                    let without = capture::wanted(*nr).then(|| {
                        let mut p = c.clone();
                        self.capture_exit(tid, *nr, *args, *ret, &mut p, false);
                        p
                    });
                    plain = Some((passed, without));
                }
                self.capture_exit(tid, *nr, *args, *ret, &mut c, self.w.cfg.trace_detail);
                *capture = Some(c);
            } else if passed {
                plain = Some((true, None));
            }
            // Only the call's own arguments: leftover registers are not the program's.
            *args = crate::trace::args::used_args(*nr, *args);
            // The messages it sent or consumed, also while it was parked.
            *msgs = match (parked, self.w.net.take_msgs()) {
                (Some(a), Some(b)) => Some(a.merge(b)),
                (a, b) => b.or(a),
            };
        }
        plain
    }

    /// Appends a trace event; `sign`: the behaviour signature sees it too.
    fn record(&mut self, tid: Vtid, mut kind: EventKind, sign: bool) {
        // With `trace_detail`, what the event would be without it: that is what the
        // digest and the signature see, so they do not change with the setting.
        let plain = self.call_detail(tid, &mut kind);
        let (pid, node) = match self.w.threads.get(&tid) {
            Some(t) => (t.pid, self.w.procs.get(&t.pid).map_or(0, |p| p.node as u16)),
            None => (0, 0),
        };
        let e = Event {
            time: self.w.now,
            node,
            pid,
            tid,
            kind,
        };
        if self.debug {
            // Never a panic on a closed stderr (`… 2>&1 | head`): the run goes on.
            let _ = writeln!(
                std::io::stderr().lock(),
                "takt: {}",
                crate::trace::describe(&e)
            );
        }
        let plain = plain.map(|(passed, without)| {
            let mut p = e.clone();
            if let EventKind::Syscall { ret, capture, .. } = &mut p.kind {
                if passed {
                    *ret = None;
                }
                *capture = without;
            }
            p
        });
        if let Some(s) = self.signer.as_mut().filter(|_| sign) {
            s.event(plain.as_ref().unwrap_or(&e));
        }
        if self.w.net.has_delays() {
            self.w.record_delays(tid);
        }
        self.trace.push_digesting(e, plain.as_ref());
        self.w.events = self.trace.count();
    }

    /// Creates each node's own filesystem view (a mount namespace with an overlay of
    /// the host's root filesystem). Without the privilege to, the node runs on the
    /// host's filesystem and the report says so.
    fn make_node_namespaces(&mut self) {
        for i in 0..self.w.cfg.nodes.len() {
            let layer = self.w.cfg.nodes[i].layer.clone();
            let ns = layer.and_then(|layer| {
                let view = self.w.cfg.nodes[i]
                    .dir
                    .parent()
                    .map(|d| (d, Path::new(NODE_VIEW)));
                let procfs = self.pidns.as_mut().and_then(sys::PidNamespace::take_procfs);
                match sys::mountns::NodeNamespace::new(&layer, &self.w.cfg.host_dirs, view, procfs)
                {
                    Ok(ns) => Some(ns),
                    Err((errno, step)) => {
                        self.fs_fallback = true;
                        self.w.note(format!(
                            "no filesystem of its own for the nodes ({step}: {errno}; it needs \
                             root): they share the host's files"
                        ));
                        None
                    }
                }
            });
            if ns.as_ref().is_some_and(|ns| !ns.own_proc()) && self.pidns.is_some() {
                let why = self
                    .pidns
                    .as_ref()
                    .and_then(sys::PidNamespace::procfs_error);
                let why = why.map_or("attaching it failed".into(), |e| format!("{e}"));
                self.w.note(format!(
                    "no /proc of the PID namespace for the nodes ({why}): the host's /proc \
                     is bound in, and only paths naming a scenario's pid are translated"
                ));
            }
            self.w.nodens.push(ns);
            self.w.disks.push(crate::fs::Disk::default());
        }
    }

    /// Writes each node's private copies of `/etc/hosts` and `/etc/hostname` (see
    /// [`Engine::node_file`]; the host-state files are written when opened).
    fn write_node_files(&self) -> Result<(), Error> {
        let mut hosts =
            String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        for n in &self.w.cfg.nodes {
            hosts.push_str(&format!("{}\t{}\n", n.addr, n.name));
        }
        for n in &self.w.cfg.nodes {
            let dir = crate::world::etc_dir(&n.dir);
            let io =
                |e: std::io::Error| Error::BadInput(format!("cannot write {}: {e}", dir.display()));
            std::fs::create_dir_all(&dir).map_err(io)?;
            std::fs::write(dir.join("hosts"), &hosts).map_err(io)?;
            std::fs::write(dir.join("hostname"), format!("{}\n", n.name)).map_err(io)?;
        }
        Ok(())
    }

    /// Process `pid` wrote to captured stream `stream`, its data from byte `from` on:
    /// the digest takes those bytes, and they complete lines.
    pub(crate) fn write_output(&mut self, stream: usize, pid: Vtid, from: usize) {
        let Some(s) = self.w.streams.get_mut(stream) else {
            return;
        };
        let data = s.data.get(from..).unwrap_or_default();
        self.trace.absorb(stream as u8, data);
        s.partial.extend_from_slice(data);
        while let Some(pos) = s.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = s.partial.drain(..=pos).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            let node = self.w.cfg.nodes[self.w.cfg.processes[s.spec].node]
                .name
                .clone();
            if self.w.cfg.stdout_logging {
                // A closed stdout (`takt run --log … | head`) must not stop the tracer.
                let _ = writeln!(
                    std::io::stdout().lock(),
                    "[{} {} {}] {}",
                    self.w.now,
                    node,
                    pid,
                    text
                );
            }
            let stderr = s.stderr;
            self.lines.push(Line {
                time: self.w.now,
                node,
                pid,
                stderr,
                text,
            });
        }
    }

    fn describe_waits(&self) -> Vec<String> {
        self.w
            .threads
            .values()
            .filter_map(|t| match &t.state {
                State::Blocked(b) => {
                    let name = syscalls::Sysno::new(t.cur.nr() as usize).map_or("?", |s| s.name());
                    let cmd = &self.w.procs[&t.pid].command;
                    Some(format!(
                        "pid {} tid {} ({cmd}) in {name} on {}",
                        t.pid, t.vtid, b.what
                    ))
                }
                _ => None,
            })
            .collect()
    }

    /// Kills everything still alive and collects every exit, so no process outlives the
    /// run. Never blocks without bound: every wait polls, and after [`TEARDOWN_LIMIT`] the
    /// rest is left to `PTRACE_O_EXITKILL` with a note in the report.
    fn teardown(&mut self) {
        if let Some(ns) = &self.pidns {
            ns.kill_all();
        }
        let mut pending: Vec<sys::RealTid> = self.w.threads.values().map(|t| t.real).collect();
        for &real in &pending {
            let _ = sys::kill(real, libc::SIGKILL);
        }
        // The stop tokens are only tids: dropping them resumes nothing, and a SIGKILL
        // ends a ptrace-stop by itself.
        self.w.threads.clear();
        let start = sys::monotonic_nanos();
        let limit = TEARDOWN_LIMIT.as_nanos() as u64;
        loop {
            let mut progress = false;
            pending.retain(|&tid| match sys::try_wait(tid) {
                sys::Polled::Nothing => true,
                sys::Polled::Stop(Stop::Stopped(s, _)) => {
                    progress = true;
                    let _ = s.cont(0);
                    true
                }
                sys::Polled::Stop(_) | sys::Polled::Gone => {
                    progress = true;
                    false
                }
            });
            let init_gone = self.pidns.as_mut().is_none_or(|ns| ns.try_reap());
            if pending.is_empty() && init_gone {
                break;
            }
            let waited = sys::monotonic_nanos().saturating_sub(start);
            if waited > limit / 50 {
                // Something the engine never learnt of (a thread created just before a
                // panic) keeps init alive: collect whatever this thread may wait for.
                while let sys::Polled::Stop(stop) = sys::try_wait_any() {
                    progress = true;
                    if let Stop::Stopped(s, _) = stop {
                        let _ = s.cont(0);
                    }
                }
            }
            if waited > limit {
                self.w.warn(format!(
                    "teardown gave up after {:?}: {} thread(s) not reaped",
                    TEARDOWN_LIMIT,
                    pending.len()
                ));
                break;
            }
            if !progress {
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
        }
        self.pidns = None;
        self.w.pid_ns = false;
        self.w.nodens.clear();
    }

    /// The run's behaviour signature, if it is built: its events and how it ended
    /// (`outcome`, each process's status and what it printed).
    fn signature(&self, outcome: &Outcome) -> Option<crate::signature::Signature> {
        self.signer.as_ref().map(|s| {
            let mut o = match outcome {
                Outcome::Deadlock { .. } => "deadlock".to_string(),
                Outcome::Spinning { .. } => "spinning".to_string(),
                other => format!("{other:?}"),
            };
            for (i, p) in self.w.reports.iter().enumerate() {
                // What it printed is part of what it did.
                let out = |stderr: bool| {
                    self.w
                        .streams
                        .iter()
                        .filter(|st| st.spec == i && st.stderr == stderr)
                        .fold(crate::rng::FNV_START, |h, st| {
                            crate::rng::fnv1a(h, st.data.iter().copied())
                        })
                };
                o.push_str(&format!(
                    ";{} out {:x} err {:x}",
                    p.status,
                    out(false),
                    out(true)
                ));
            }
            s.finish(&o)
        })
    }

    fn report(mut self, outcome: Outcome) -> Report {
        let pid_namespace = self.pidns.is_some() || self.w.reports.iter().all(|p| p.pid < 1000);
        for s in &self.w.streams {
            let rep = &mut self.w.reports[s.spec];
            if s.stderr {
                rep.stderr = s.data.clone();
            } else {
                rep.stdout = s.data.clone();
            }
        }
        let faults = self.w.fault_counts();
        let events = self.trace.count();
        let signature = self.signature(&outcome);
        let tape = self.take_tape();
        let branch = self.w.decisions.branched.take();
        Report {
            properties: Vec::new(),
            signature,
            tape,
            branch,
            seed: self.w.cfg.seed,
            digest: self.trace.digest(),
            outcome,
            end_time: self.w.now,
            processes: self.w.reports,
            lines: self.lines,
            warnings: self.w.warnings.into_iter().collect(),
            notes: self.w.notes.into_iter().collect(),
            nondeterminism: self.nondeterminism,
            events,
            syscalls: self.syscalls,
            notified: self.notified,
            trace: self.trace.events().to_vec(),
            pid_namespace,
            own_filesystems: !self.fs_fallback,
            faults,
            incidents: self.incidents,
            snapshots: std::mem::take(&mut self.snaps.taken),
            nodes: self
                .w
                .cfg
                .nodes
                .iter()
                .map(|n| (n.name.clone(), n.addr))
                .collect(),
        }
    }
}

impl Thread {
    /// Its virtual tid.
    pub fn vtid(&self) -> Vtid {
        self.vtid
    }
}

/// How long teardown waits for the run's processes to be reaped.
const TEARDOWN_LIMIT: std::time::Duration = std::time::Duration::from_secs(4);

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// The seccomp filter the tracees install: [`handler::ALLOWED`] runs natively (the
/// calls of the file model too, for the benchmarks' runs without it), shared file
/// mappings stop; `notified` stop through the notification listener.
fn filter(cfg: &Config, notified: &[u32]) -> Vec<sys::seccomp::Insn> {
    if cfg.test_without_file_model {
        let all: Vec<u32> = handler::ALLOWED
            .iter()
            .chain(handler::file::OBSERVED.iter())
            .copied()
            .collect();
        return sys::seccomp::program(&all, sys::seccomp::Traced::default());
    }
    sys::seccomp::program(
        &handler::ALLOWED,
        sys::seccomp::Traced {
            shared_file_mmap: true,
            notified,
        },
    )
}

/// Resumes a stopped thread as `resume` says (real tid `real`); a thread killed while
/// stopped (SIGKILL from outside) is taken as running, so its exit is collected.
fn resume_thread(stopped: sys::Stopped, resume: Resume, real: RealTid) -> Result<Running, Error> {
    let running = match resume {
        Resume::Cont(sig) => stopped.cont(sig),
        Resume::Regs(r) => stopped.set_regs(&r).and_then(|()| stopped.cont(0)),
        Resume::RegsToExit(r) => stopped
            .set_regs(&r)
            .and_then(|()| stopped.cont_to_syscall_exit()),
        Resume::ToExit => stopped.cont_to_syscall_exit(),
        Resume::Retry => unreachable!("a retry is resolved before the thread resumes"),
    };
    match running {
        Ok(r) => Ok(r),
        Err(Error::TraceeGone { .. }) => Ok(Running::assume(real)),
        Err(e) => Err(e),
    }
}
