//! Process lifecycle inside the engine: spawning the specified processes, following
//! `fork`/`clone`, `execve` (hiding the vDSO, seeding `AT_RANDOM`), thread and process
//! exit (including `exit_group`, fatal signals and `SIGKILL`), signal-delivery stops and
//! `rdtsc`. Sending signals and the timers that send them live in `world::signal`, job
//! control (stops and continues) in `world::job`.

use super::{Engine, Resume, State, Stream, Thread, Vtid};
use crate::fd::Kind;
use crate::report::Status;
use crate::sys::{self, spawn::SpawnPlan, RealTid, Running, Stop, StopReason};
use crate::syscall::Syscall;
use crate::trace::EventKind;
use crate::world::{default_is_fatal, Disposition, Proc};
use crate::Error;
use rand::RngCore;

impl Engine {
    /// Thread `tid` was picked to run: a process sent `SIGKILL` is collected instead
    /// (`Some`: the step is done, see [`Engine::reap_killed`]); a continued one tells
    /// its parent now.
    pub(crate) fn before_run(&mut self, tid: Vtid) -> Option<Result<(), crate::Error>> {
        let pid = self.w.threads[&tid].pid;
        let p = &self.w.procs[&pid];
        if p.killed {
            return Some(self.reap_killed(tid));
        }
        if p.tell_continued {
            self.w.ran(pid);
        }
        None
    }

    /// `path` as node `node`'s processes are given it: under [`crate::config::NODE_VIEW`] if it
    /// is in the scenario's directory and the node has a filesystem view of its own
    /// (else unchanged: without one, only the host path exists).
    fn in_node_view(&self, node: usize, path: &str) -> String {
        let own = self.w.nodens.get(node).is_some_and(Option::is_some);
        let dir = self.w.cfg.nodes[node].dir.parent();
        match dir.and_then(|d| d.to_str()).filter(|_| own) {
            Some(d) => match path.strip_prefix(d) {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                    format!("{}{rest}", crate::config::NODE_VIEW)
                }
                _ => path.to_string(),
            },
            None => path.to_string(),
        }
    }

    /// Starts process spec `i`: forks it in the scenario's PID namespace, stopped before
    /// its `execve`.
    pub(crate) fn spawn_spec(&mut self, i: usize) -> Result<(), Error> {
        let spec = self.w.cfg.processes[i].clone();
        let node = self.w.cfg.nodes[spec.node].clone();
        let cwd = spec.cwd.clone().unwrap_or_else(|| node.dir.clone());
        let cwd = self.in_node_view(spec.node, &cwd.to_string_lossy());
        let env: Vec<(String, String)> = spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), self.in_node_view(spec.node, v)))
            .collect();
        let mut plan = SpawnPlan::new(
            &spec.program.to_string_lossy(),
            &spec.argv,
            &env,
            &cwd,
            sys::spawn::Filters {
                plain: self.filter.clone(),
                notified: self.notify.as_ref().map(|n| n.0.clone()),
            },
            self.cpu,
            self.w
                .nodens
                .get(spec.node)
                .and_then(|n| n.as_ref())
                .map(|n| n.fd()),
        )?;
        let stopped = match &self.pidns {
            Some(ns) => ns.enter_for_children(|| plan.spawn())?,
            None => plan.spawn()?,
        };
        // The child read its arguments from our memory until its execve: keep them.
        self.plans.push(plan);
        let real = stopped.tid();
        let vpid = self.vpid_of(real);
        if self.notify.is_some() {
            self.listener_wanted.insert(vpid, self.plans.len() - 1);
        }
        if let Some(s) = &mut self.signer {
            s.started(vpid, i);
        }
        let fdt = self.w.files.new_table();
        for (fd, stderr) in [(1, false), (2, true)] {
            self.w.streams.push(Stream {
                spec: i,
                stderr,
                ..Stream::default()
            });
            let f = self
                .w
                .files
                .open(Kind::Output(self.w.streams.len() - 1), false);
            self.w.files.install(fdt, fd, f, false);
        }
        let key = format!("spec{i}");
        let rep = &mut self.w.reports[i];
        rep.pid = vpid;
        rep.status = Status::Running;
        let mut proc = Proc::new(
            vpid,
            real,
            1,
            spec.node,
            i,
            spec.display.clone(),
            self.w.cfg.seed,
            key,
        );
        proc.report = Some(i);
        self.w.procs.insert(vpid, proc);
        self.add_thread(vpid, real, vpid, fdt, stopped);
        self.w
            .threads
            .get_mut(&vpid)
            .expect("just added")
            .initial_exec = true;
        Ok(())
    }

    fn add_thread(
        &mut self,
        vtid: Vtid,
        real: RealTid,
        pid: Vtid,
        fdt: usize,
        stopped: sys::Stopped,
    ) {
        self.sched.add_thread(vtid);
        self.w
            .threads
            .insert(vtid, Thread::new(vtid, real, pid, fdt, stopped));
    }

    /// The virtual pid of a real one: its pid in the scenario's namespace.
    fn vpid_of(&mut self, real: RealTid) -> Vtid {
        if self.pidns.is_some() {
            if let Some(v) = sys::procfs::ns_pid(real) {
                return v;
            }
        }
        self.w.next_vpid += 1;
        self.w.next_vpid
    }

    /// `PTRACE_EVENT_{FORK,VFORK,CLONE}` on `parent`: adopt the new thread or process.
    pub(crate) fn on_spawned(&mut self, parent: Vtid, child_real: RealTid) -> Result<(), Error> {
        // The child starts with a SIGSTOP (auto-attached); collect that stop.
        let stopped = loop {
            match sys::wait(Running::assume(child_real))? {
                Stop::Stopped(s, StopReason::Signal(libc::SIGSTOP)) => break s,
                Stop::Stopped(s, _) => {
                    let _ = s.cont(0);
                }
                _ => {
                    self.w.set_ready(parent, Resume::Cont(0));
                    return Ok(());
                }
            }
        };
        let vtid = self.vpid_of(child_real);
        let (flags, child_tid) = self.w.threads[&parent].pending_clone();
        let ppid = self.w.threads[&parent].pid;
        let pfdt = self.w.threads[&parent].fdt;
        let fdt = if flags & libc::CLONE_FILES as u64 != 0 {
            self.w.files.share_table(pfdt)
        } else {
            self.w.files.copy_table(pfdt)
        };
        let is_thread = flags & libc::CLONE_THREAD as u64 != 0;
        if is_thread {
            self.w
                .procs
                .get_mut(&ppid)
                .expect("parent process")
                .threads
                .push(vtid);
            self.add_thread(vtid, child_real, ppid, fdt, stopped);
        } else {
            let p = self.child_process(ppid, vtid, child_real, flags);
            self.w.procs.insert(vtid, p);
            // The child has its parent's filter, so its listener.
            if let Some(l) = self.listeners.get(&ppid).cloned() {
                self.listeners.insert(vtid, l);
            }
            self.add_thread(vtid, child_real, vtid, fdt, stopped);
        }
        if flags & libc::CLONE_CHILD_CLEARTID as u64 != 0 {
            self.w.threads.get_mut(&vtid).expect("added").clear_tid = child_tid;
        }
        if let Some(orig) = self.w.threads[&parent].restore {
            // The child's registers are a copy of the parent's rewritten ones.
            let child = self.w.threads.get_mut(&vtid).expect("added");
            if let Ok(mut regs) = child.stopped.as_ref().expect("stopped").regs() {
                regs.set_args(orig);
                child.state = State::Ready(Resume::Regs(regs));
            }
        }
        self.event(
            parent,
            EventKind::Spawn {
                child: vtid,
                process: !is_thread,
            },
        );
        if self.w.threads[&parent].vfork_pending() && !is_thread {
            // vfork semantics: the parent waits until the child execs or exits.
            self.w.procs.get_mut(&vtid).expect("added").vfork_parent = Some(parent);
            self.w.threads.get_mut(&parent).expect("parent").state =
                State::Blocked(crate::handler::Blocked::new("vfork child to exec or exit"));
        } else {
            let r = self.after_event(parent);
            self.w.set_ready(parent, r);
        }
        Ok(())
    }

    /// The process a `fork`/`clone` without `CLONE_THREAD` (`flags`) by a thread of
    /// process `ppid` made: virtual pid `vtid`, real pid `real`. It inherits the node,
    /// spec, command and signal dispositions; its random stream is keyed by its place
    /// among its parent's children.
    fn child_process(&mut self, ppid: Vtid, vtid: Vtid, real: RealTid, flags: u64) -> Proc {
        // CLONE_PARENT: the child's parent is the caller's parent (it gets the
        // SIGCHLD and waits for it; the caller cannot).
        let parent_of_child = if flags & libc::CLONE_PARENT as u64 != 0 {
            self.w.procs[&ppid].ppid
        } else {
            ppid
        };
        let parent_proc = self.w.procs.get_mut(&ppid).expect("parent process");
        parent_proc.forks += 1;
        let key = format!("{}/{}", parent_proc.rng_key, parent_proc.forks);
        let mut child = Proc::new(
            vtid,
            real,
            parent_of_child,
            parent_proc.node,
            parent_proc.spec,
            parent_proc.command.clone(),
            self.w.cfg.seed,
            key,
        );
        child.sig = parent_proc.sig;
        if flags & libc::CLONE_VM as u64 != 0 {
            child.mm = parent_proc.mm;
        }
        child
    }

    /// How a thread resumes from a ptrace event inside a syscall: to the syscall's exit
    /// if an action (or a register restore) waits there.
    pub(crate) fn after_event(&self, tid: Vtid) -> Resume {
        let restore = self
            .w
            .threads
            .get(&tid)
            .is_some_and(|t| t.restore.is_some());
        if self.posts.contains_key(&tid) || restore {
            Resume::ToExit
        } else {
            Resume::Cont(0)
        }
    }

    /// `PTRACE_EVENT_EXEC`: a new program image.
    pub(crate) fn on_exec(&mut self, tid: Vtid) -> Result<(), Error> {
        self.posts.remove(&tid); // the execve succeeded; its failure handler is moot
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        t.initial_exec = false;
        let pid = t.pid;
        let real = t.real;
        let sp = t.stopped.as_ref().expect("stopped").regs()?.sp();
        if let Some((entry, base)) = self.fix_auxv(tid, real, sp) {
            if !self.install_vdso(tid, base)? {
                // AT_IGNORE: libc and Go then make real, trapped clock syscalls.
                let _ = sys::write_mem(real, entry, &1u64.to_le_bytes());
            }
        }
        // Close-on-exec, reset handlers, release a vfork parent.
        let fdt = self.w.threads[&tid].fdt;
        let closed = self.w.files.close_on_exec(fdt);
        self.w.closed_all(closed);
        let p = self.w.procs.get_mut(&pid).expect("process exists");
        for d in p.sig.iter_mut() {
            if d.handler > 1 {
                *d = Disposition::default();
            }
        }
        p.mm = pid;
        let node = p.node;
        if let Some(d) = self.w.disks.get_mut(node) {
            d.unmapped_all(pid);
        }
        let p = self.w.procs.get_mut(&pid).expect("process exists");
        // POSIX timers do not survive an exec (the alarm does).
        for (_, t) in std::mem::take(&mut p.timers) {
            if let Some(id) = t.timer {
                self.w.timers.cancel(id);
            }
        }
        let p = self.w.procs.get_mut(&pid).expect("process exists");
        if let Some(parent) = p.vfork_parent.take() {
            let r = self.after_event(parent);
            self.w.set_ready(parent, r);
        }
        let path = sys::procfs::exe(real).unwrap_or_default();
        self.event(tid, EventKind::Exec { path });
        self.w.set_ready(tid, Resume::Cont(0));
        Ok(())
    }

    /// Rewrites the new image's auxiliary vector: the 16 `AT_RANDOM` bytes come from the
    /// process's seeded stream. Returns where the `AT_SYSINFO_EHDR` entry is and the
    /// vDSO's address, if there is one (takt's vDSO goes in, or the entry is hidden).
    fn fix_auxv(&mut self, tid: Vtid, real: RealTid, sp: u64) -> Option<(u64, u64)> {
        let mut buf = vec![0u8; 64 * 1024];
        // The stack above sp holds argc, argv, envp, auxv; read what is mapped.
        let mut len = buf.len();
        while len >= 4096 && sys::read_mem(real, sp, &mut buf[..len]).is_err() {
            len /= 2;
        }
        let words: Vec<u64> = buf[..len]
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        let &argc = words.first()?;
        let mut i = 1 + argc as usize + 1; // argv and its NULL
        while i < words.len() && words[i] != 0 {
            i += 1; // envp
        }
        i += 1;
        let mut vdso = None;
        while i + 1 < words.len() && words[i] != 0 {
            match words[i] {
                33 /* AT_SYSINFO_EHDR */ => vdso = Some((sp + 8 * i as u64, words[i + 1])),
                25 /* AT_RANDOM */ => {
                    let mut bytes = [0u8; 16];
                    self.w.guest_rng(tid).fill_bytes(&mut bytes);
                    let _ = sys::write_mem(real, words[i + 1], &bytes);
                }
                _ => {}
            }
            i += 2;
        }
        vdso
    }

    /// `PTRACE_EVENT_EXIT`: a thread is about to exit with `status`.
    pub(crate) fn on_exiting(&mut self, tid: Vtid, status: i32) -> Result<(), Error> {
        self.signal_call_done(tid);
        let pid = self.w.threads[&tid].pid;
        let group = self.w.procs[&pid].exiting || libc::WIFSIGNALED(status);
        if group {
            return self.reap_group(pid, tid);
        }
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        let running = t
            .stopped
            .take()
            .expect("stopped")
            .cont(0)
            .unwrap_or_else(|_| Running::assume(t.real));
        let alone = self.w.procs[&pid].threads.len() == 1;
        if tid == pid && !alone {
            // The leader exits first: it stays a zombie until the other threads are gone.
            self.w.threads.get_mut(&tid).expect("thread exists").state = State::Zombie(running);
            return Ok(());
        }
        let code = final_status(running);
        self.on_thread_gone(tid, code.unwrap_or(status))
    }

    /// A thread that sent a signal and was killed by it (a `SIGKILL` to its own group)
    /// never stops at the call's exit (Linux skips that stop when a fatal signal is
    /// pending): the call did deliver, so its exit action, which tells the model who
    /// got the signal, runs now.
    fn signal_call_done(&mut self, tid: Vtid) {
        let Some(t) = self.w.threads.get_mut(&tid) else {
            return;
        };
        let sends = matches!(
            t.cur.nr() as i64,
            libc::SYS_kill
                | libc::SYS_tgkill
                | libc::SYS_tkill
                | libc::SYS_rt_sigqueueinfo
                | libc::SYS_rt_tgsigqueueinfo
        );
        if let Some(post) = self.posts.remove(&tid).filter(|_| sends) {
            t.restore = None;
            post.call(&mut self.w, tid, 0);
            self.apply_effects();
        }
    }

    /// The whole process `pid` is dying (`exit_group`, a fatal signal): collect every
    /// thread's exit, the leader's last.
    fn reap_group(&mut self, pid: Vtid, first: Vtid) -> Result<(), Error> {
        let mut tids = self.w.procs[&pid].threads.clone();
        tids.sort_by_key(|&t| (t == pid, t != first, t));
        // A thread that called exit_group and was not resumed since (another thread's
        // exit came first) still holds its seccomp stop: the kernel has not ended the
        // group yet, so no other thread is dying. It runs its exit_group now (its code is
        // the process's status), and the kernel ends the rest.
        let mut started: std::collections::BTreeMap<Vtid, Running> =
            std::collections::BTreeMap::new();
        for &tid in &tids {
            let Some(t) = self.w.threads.get_mut(&tid) else {
                continue;
            };
            let pending = tid != first
                && t.cur.nr() == libc::SYS_exit_group as u32
                && matches!(t.state, State::Ready(_));
            if pending {
                if let Some(s) = t.stopped.take() {
                    let real = t.real;
                    started.insert(tid, s.cont(0).unwrap_or_else(|_| Running::assume(real)));
                }
            }
        }
        let mut leader_status = None;
        for tid in tids {
            let Some(t) = self.w.threads.get_mut(&tid) else {
                continue;
            };
            let running = match std::mem::replace(&mut t.state, State::Ready(Resume::Cont(0))) {
                State::Zombie(r) => r,
                _ if started.contains_key(&tid) => started.remove(&tid).expect("checked"),
                _ => match t.stopped.take() {
                    Some(s) if tid == first => {
                        s.cont(0).unwrap_or_else(|_| Running::assume(t.real))
                    }
                    Some(s) => s.into_dying(),
                    None => Running::assume(t.real),
                },
            };
            let status = final_status(running);
            if tid == pid {
                leader_status = status;
            }
            self.thread_removed(tid);
        }
        self.process_exited(pid, leader_status.unwrap_or(libc::SIGKILL));
        Ok(())
    }

    /// A thread reported its final exit status (`status` as waitpid encodes it).
    pub(crate) fn on_thread_gone(&mut self, tid: Vtid, status: i32) -> Result<(), Error> {
        let Some(pid) = self.w.threads.get(&tid).map(|t| t.pid) else {
            return Ok(());
        };
        if self.w.procs[&pid].exiting || libc::WIFSIGNALED(status) || tid == pid {
            // Only one thread reports for a group exit; make sure the rest are collected.
            let others: Vec<Vtid> = self.w.procs[&pid]
                .threads
                .iter()
                .copied()
                .filter(|&t| t != tid)
                .collect();
            if tid == pid || others.is_empty() || libc::WIFSIGNALED(status) {
                self.thread_removed(tid);
                if !others.is_empty() {
                    self.w.procs.get_mut(&pid).expect("process").exiting = true;
                    return self.reap_group(pid, others[0]);
                }
                self.process_exited(pid, status);
                return Ok(());
            }
        }
        self.thread_removed(tid);
        // A zombie leader waits for the last other thread.
        let p = &self.w.procs[&pid];
        if p.threads.len() == 1 && p.threads[0] == pid {
            if let Some(State::Zombie(_)) = self.w.threads.get(&pid).map(|t| &t.state) {
                let t = self.w.threads.get_mut(&pid).expect("leader");
                let State::Zombie(r) =
                    std::mem::replace(&mut t.state, State::Ready(Resume::Cont(0)))
                else {
                    unreachable!()
                };
                let st = final_status(r).unwrap_or(status);
                self.thread_removed(pid);
                self.process_exited(pid, st);
            }
        }
        Ok(())
    }

    /// Thread `tid` of a process that was sent `SIGKILL` is picked: the kernel has woken
    /// every thread of it from its ptrace stop to die, and each stops once more at its
    /// exit event. Resuming `tid` and waiting for it alone could wait for ever: a
    /// leader that is past its exit is not reported until the other threads are gone,
    /// and they wait at their exit stops for takt. So the whole group is collected, the
    /// leader last.
    pub(crate) fn reap_killed(&mut self, tid: Vtid) -> Result<(), Error> {
        let pid = self.w.threads[&tid].pid;
        self.w.procs.get_mut(&pid).expect("process").exiting = true;
        self.reap_group(pid, tid)
    }

    /// A thread vanished while we held it stopped (SIGKILL from outside the scenario).
    pub(crate) fn collect_vanished(&mut self, tid: Vtid) -> Result<(), Error> {
        let pid = self.w.threads[&tid].pid;
        self.w.procs.get_mut(&pid).expect("process").exiting = true;
        self.reap_group(pid, tid)
    }

    /// Removes a thread: wake `clear_child_tid` waiters, release its fd table.
    fn thread_removed(&mut self, tid: Vtid) {
        let Some(t) = self.w.threads.remove(&tid) else {
            return;
        };
        self.posts.remove(&tid);
        self.sched.remove_thread(tid);
        if let Some(id) = t.timer {
            self.w.timers.cancel(id);
        }
        for q in self.w.futexes.values_mut() {
            q.retain(|&(w, _)| w != tid);
        }
        self.w.futex_waits.remove(&tid);
        if let Some(p) = self.w.procs.get_mut(&t.pid) {
            p.threads.retain(|&x| x != tid);
            if t.clear_tid != 0 {
                let mm = p.mm;
                crate::handler::futex::wake(
                    &mut self.w,
                    mm,
                    t.clear_tid,
                    i32::MAX as u32,
                    u32::MAX,
                );
            }
        }
        let closed = self.w.files.release_table(t.fdt);
        self.w.closed_all(closed);
        if self.w.last == Some(tid) {
            self.w.last = None;
        }
    }

    /// Every thread of `pid` is gone: record its status, tell its parent.
    fn process_exited(&mut self, pid: Vtid, status: i32) {
        let Some(p) = self.w.procs.get_mut(&pid) else {
            return;
        };
        p.status = Some(status);
        p.threads.clear();
        crate::handler::sem::exited(&mut self.w, pid);
        let Some(p) = self.w.procs.get_mut(&pid) else {
            return;
        };
        if let Some(d) = self.w.disks.get_mut(p.node) {
            d.unmapped_all(pid);
        }
        let Some(p) = self.w.procs.get_mut(&pid) else {
            return;
        };
        if let Some((id, _)) = p.alarm.take() {
            self.w.timers.cancel(id);
        }
        for (_, t) in std::mem::take(&mut p.timers) {
            if let Some(id) = t.timer {
                self.w.timers.cancel(id);
            }
        }
        let (ppid, report, vfork_parent) = (p.ppid, p.report, p.vfork_parent.take());
        self.trace.push(crate::trace::Event {
            time: self.w.now,
            node: p.node as u16,
            pid,
            tid: pid,
            kind: EventKind::Exit { status },
        });
        self.w.events = self.trace.count();
        if let Some(r) = report {
            let rep = &mut self.w.reports[r];
            rep.status = if libc::WIFSIGNALED(status) {
                Status::Signaled(libc::WTERMSIG(status))
            } else {
                Status::Exited(libc::WEXITSTATUS(status))
            };
            rep.exit_time = Some(self.w.now);
        }
        if let Some(parent) = vfork_parent {
            if self.w.threads.contains_key(&parent) {
                let r = self.after_event(parent);
                self.w.set_ready(parent, r);
            }
        }
        // Orphans are adopted by init (pid 1, the namespace's stub).
        for c in self.w.procs.values_mut() {
            if c.ppid == pid {
                c.ppid = 1;
            }
        }
        if ppid == 1 || !self.w.procs.contains_key(&ppid) {
            // Reaped by the tracer (a spawned root) or by init.
            self.w.procs.remove(&pid);
            return;
        }
        self.w.notify_children_changed(ppid);
        self.w.signal_arrived(ppid, libc::SIGCHLD, None);
    }

    /// A signal-delivery stop.
    pub(crate) fn on_signal(&mut self, tid: Vtid, sig: i32) -> Result<(), Error> {
        if sig == libc::SIGSEGV && self.try_rdtsc(tid)? {
            return Ok(());
        }
        let pid = self.w.threads[&tid].pid;
        let stopped = self.w.threads[&tid].stopped.as_ref().expect("stopped");
        let job = crate::world::job::is_stop_signal(sig);
        let info = (job || sig == libc::SIGCHLD)
            .then(|| stopped.siginfo().ok())
            .flatten();
        if let Some(mut info) = info.filter(|_| sig == libc::SIGCHLD) {
            if sys::signal::fix_child_siginfo(&mut info) {
                let _ = stopped.set_siginfo(&info);
            }
        }
        if job && self.w.job_delivered(pid, sig, info.as_ref()) {
            // The watchdog's SIGSTOP, or job control's: the kernel never stops it.
            self.w.set_ready(tid, Resume::Cont(0));
            return Ok(());
        }
        if sig == libc::SIGCHLD {
            self.child_times_in_siginfo(tid);
        }
        self.event(tid, EventKind::Signal { sig });
        let d = self.w.procs[&pid].sig[sig as usize];
        if d.handler == 0 && default_is_fatal(sig) {
            self.w.procs.get_mut(&pid).expect("process").exiting = true;
        }
        self.w.set_ready(tid, Resume::Cont(sig));
        Ok(())
    }

    /// A `SIGCHLD` for a child's exit is delivered to `tid`: its `si_utime` and
    /// `si_stime` (the child's CPU time in clock ticks) are the model's, not the host's.
    fn child_times_in_siginfo(&mut self, tid: Vtid) {
        let Some(stopped) = self.w.threads.get(&tid).and_then(|t| t.stopped.as_ref()) else {
            return;
        };
        let Ok(mut info) = stopped.siginfo() else {
            return;
        };
        // SIGCHLD's siginfo_t: si_code at offset 8, si_pid at 16, si_utime at 32,
        // si_stime at 40.
        let word = |at: usize| i32::from_ne_bytes(info[at..at + 4].try_into().expect("4 bytes"));
        if !(libc::CLD_EXITED..=libc::CLD_DUMPED).contains(&word(8)) {
            return;
        }
        let Some(cpu) = self.w.child_cpu(word(16)) else {
            return;
        };
        super::cpu::put_ticks(&mut info[32..48], cpu);
        let _ = stopped.set_siginfo(&info);
    }

    /// Emulates `rdtsc`/`rdtscp` if that is what faulted (PR_SET_TSC makes them SIGSEGV).
    fn try_rdtsc(&mut self, tid: Vtid) -> Result<bool, Error> {
        let t = &self.w.threads[&tid];
        let mut regs = t.stopped.as_ref().expect("stopped").regs()?;
        let mut insn = [0u8; 3];
        if sys::read_mem(t.real, regs.ip(), &mut insn).is_err() {
            return Ok(false);
        }
        let len = match insn {
            [0x0f, 0x31, _] => 2,
            [0x0f, 0x01, 0xf9] => 3,
            _ => return Ok(false),
        };
        // A 3 GHz virtual TSC.
        let t = self.w.threads.get_mut(&tid).expect("thread exists");
        let cost = super::time::clock_read_cost(self.w.cfg.syscall_cost, &mut t.clock_reads);
        self.w.now = self.w.now.after(cost);
        let ns = u64::try_from(cost.as_nanos()).unwrap_or(u64::MAX);
        self.w
            .charge_cpu(tid, super::cpu::CpuTime { user: ns, sys: 0 });
        regs.emulate_rdtsc(self.w.now.as_nanos().wrapping_mul(3), len);
        self.event(tid, EventKind::Rdtsc);
        self.w.set_ready(tid, Resume::Regs(regs));
        self.w.cpu_expiries(tid);
        Ok(true)
    }

    /// A scheduled partition, heal, crash or restart is due.
    pub(crate) fn scheduled(&mut self, i: usize) -> Result<(), Error> {
        use crate::config::ScheduledEvent;
        let ev = self.w.cfg.events[i].1.clone();
        let name = |e: &Engine, n: usize| e.w.cfg.nodes[n].name.clone();
        let what = match ev {
            ScheduledEvent::Partition(a, b, cut) => {
                self.w.net.set_partition(a, b, cut);
                let mut changed = Vec::new();
                self.w.net.advance(self.w.now, &mut changed);
                for s in changed {
                    self.w.notify(crate::fd::Obj::Socket(s));
                }
                format!(
                    "{} {} | {}",
                    if cut { "partition" } else { "heal" },
                    name(self, a),
                    name(self, b)
                )
            }
            ScheduledEvent::Crash(n) => {
                self.crash_node(n);
                format!("crash of node {}", name(self, n))
            }
            ScheduledEvent::Restart(n) => {
                let down = self
                    .incidents
                    .iter()
                    .rev()
                    .find(|x| x.what == format!("crash of node {}", name(self, n)))
                    .map(|x| self.w.now.since(x.time));
                for spec in 0..self.w.cfg.processes.len() {
                    if self.w.cfg.processes[spec].node == n {
                        self.spawn_spec(spec)?;
                    }
                }
                match down {
                    Some(d) => format!(
                        "restart of node {} after {:.6} s down",
                        name(self, n),
                        d.as_secs_f64()
                    ),
                    None => format!("restart of node {}", name(self, n)),
                }
            }
        };
        let nodes = match ev {
            ScheduledEvent::Partition(a, b, _) => vec![a, b],
            ScheduledEvent::Crash(n) | ScheduledEvent::Restart(n) => vec![n],
        };
        self.incidents.push(crate::report::Incident {
            time: self.w.now,
            what,
            event: ev,
            nodes,
        });
        Ok(())
    }

    /// Every process of node `n` dies at once, as when the node's kernel fails: their
    /// connections are reset (peers see `ECONNRESET`), their threads reaped.
    fn crash_node(&mut self, n: usize) {
        for s in 0..self.w.net.socket_count() {
            if self.w.net.node_of(s) == Some(n) && self.w.net.exists(s) {
                let _ = self.w.net.reset_connection(s, self.w.now);
                self.w.notify(crate::fd::Obj::Socket(s));
            }
        }
        let pids: Vec<Vtid> = self
            .w
            .procs
            .values()
            .filter(|p| p.node == n && p.status.is_none())
            .map(|p| p.vpid)
            .collect();
        for pid in &pids {
            let _ = sys::kill(self.w.procs[pid].real, libc::SIGKILL);
        }
        for pid in pids {
            let Some(first) = self
                .w
                .procs
                .get(&pid)
                .and_then(|p| p.threads.first().copied())
            else {
                continue;
            };
            self.w.procs.get_mut(&pid).expect("process").exiting = true;
            let report = self.w.procs[&pid].report;
            let _ = self.reap_group(pid, first);
            if let Some(r) = report {
                self.w.reports[r].status = Status::Crashed;
            }
        }
        self.w.crash_disk(n);
        // A crash is a reboot: the node's System V semaphores are gone.
        if let Some(s) = self.w.sems.get_mut(n) {
            *s = crate::ipc::Sems::default();
        }
    }
}

impl Thread {
    /// The clone flags and child-tid pointer of the clone this thread is in.
    fn pending_clone(&self) -> (u64, u64) {
        match self.cur {
            Syscall::Clone(c) => (c.flags.raw(), c.child_tid.addr()),
            Syscall::Clone3(_) => self.clone3.unwrap_or((0, 0)),
            // fork, and vfork turned into clone(CLONE_VM)
            _ => (libc::SIGCHLD as u64, 0),
        }
    }

    fn vfork_pending(&self) -> bool {
        self.vfork
    }
}

/// Collects a dying thread's final status (stepping over any last stops).
fn final_status(mut running: Running) -> Option<i32> {
    for _ in 0..64 {
        match sys::wait(running) {
            Ok(Stop::Exited(_, code)) => return Some(code << 8),
            Ok(Stop::Signaled(_, sig, core)) => return Some(sig | if core { 0x80 } else { 0 }),
            Ok(Stop::Stopped(s, _)) => match s.cont(0) {
                Ok(r) => running = r,
                Err(_) => return None,
            },
            Ok(Stop::Notified(_)) | Err(_) => return None,
        }
    }
    None
}

#[cfg(test)]
impl Engine {
    /// Adds process `vpid` (one thread, `tid` = `vpid`) on node `node` with an empty fd
    /// table, backed by no tracee: for handler unit tests, with their local memory as
    /// its memory. Its parent is init (1).
    pub(crate) fn test_process(&mut self, vpid: Vtid, node: usize) {
        let fdt = self.w.files.new_table();
        let command = format!("test process {vpid}");
        let proc = Proc::new(
            vpid,
            0,
            1,
            node,
            0,
            command,
            self.w.cfg.seed,
            format!("test{vpid}"),
        );
        self.w.procs.insert(vpid, proc);
        self.add_thread(vpid, 0, vpid, fdt, sys::Stopped::for_tests());
    }

    /// Adds thread `tid` to test process `pid` (the same memory and fd table).
    pub(crate) fn test_thread(&mut self, pid: Vtid, tid: Vtid) {
        let fdt = self.w.threads[&pid].fdt;
        self.w
            .procs
            .get_mut(&pid)
            .expect("a test process")
            .threads
            .push(tid);
        self.add_thread(tid, 0, pid, fdt, sys::Stopped::for_tests());
    }
}
