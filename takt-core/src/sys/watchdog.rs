//! The wall-clock watchdog: the only place takt looks at real time.
//!
//! A tracee thread that runs without making a syscall never returns control to the
//! tracer, and there is no hardware performance counter on the machines takt targets to
//! interrupt it. One background thread samples every registered scenario every
//! [`TICK`]; if the tracer has been waiting on the same resumed thread while its process
//! used a whole slice of CPU time (or ten slices of wall time passed), it sends that
//! thread `SIGSTOP`, which surfaces as a signal-delivery stop. The
//! engine then knows the thread was preempted by the watchdog (and that the run lost
//! determinism at that point), or gives up when the spin budget is spent. A guest's
//! `SIGSTOP` (job control) is told apart by [`Watch::fired_during`] and, for one that
//! arrives late, by its sender: the watchdog's comes from outside the scenario's PID
//! namespace (`si_pid` 0) or, without one, from takt's own pid.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::Duration;

/// How often the watchdog samples.
pub const TICK: Duration = Duration::from_millis(10);

/// What one tracer shares with the watchdog. Hot-path cost: two relaxed stores per resume.
/// Aligned to its own cache lines: tracers of parallel scenarios write theirs on every
/// resume, and sharing a line would bounce it between CPUs.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Watch {
    /// Incremented by the tracer before every resume.
    resumes: AtomicU64,
    /// `(tgid << 32) | tid` of the thread the tracer waits on, 0 when not waiting.
    waiting: AtomicU64,
    /// The resume count at which the watchdog last fired.
    fired: AtomicU64,
    /// Ticks per slice.
    slice_ticks: AtomicU64,
}

impl Watch {
    /// Registers a new watch with the global watchdog.
    pub fn register(slice: Duration) -> Arc<Watch> {
        let w = Arc::new(Watch::default());
        let ticks = (slice.as_millis() / TICK.as_millis()).max(1) as u64;
        w.slice_ticks.store(ticks, Ordering::Relaxed);
        w.fired.store(u64::MAX, Ordering::Relaxed);
        registry().push(Arc::downgrade(&w));
        w
    }

    /// Called before resuming thread `tid` of process `tgid`; returns the resume number.
    #[inline]
    pub fn resuming(&self, tgid: i32, tid: i32) -> u64 {
        let n = self.resumes.fetch_add(1, Ordering::Relaxed) + 1;
        self.waiting.store(
            ((tgid as u32 as u64) << 32) | tid as u32 as u64,
            Ordering::Relaxed,
        );
        n
    }

    /// Called when the wait returned.
    #[inline]
    pub fn stopped(&self) {
        self.waiting.store(0, Ordering::Relaxed);
    }

    /// Whether the watchdog fired during resume number `n` (so a `SIGSTOP` seen now is
    /// a preemption, not a signal the program sent).
    pub fn fired_during(&self, n: u64) -> bool {
        self.fired.load(Ordering::Relaxed) == n
    }
}

/// The registered watches, locked. A std mutex, not parking_lot's: a contended
/// parking_lot lock reads `Instant::now` (the vDSO), which a tracer thread that traps
/// rdtsc must not (see [`super::TscTrap`]).
fn registry() -> MutexGuard<'static, Vec<Weak<Watch>>> {
    static REG: OnceLock<Mutex<Vec<Weak<Watch>>>> = OnceLock::new();
    REG.get_or_init(|| {
        std::thread::Builder::new()
            .name("takt-watchdog".into())
            .spawn(run)
            .expect("spawn the takt watchdog thread");
        Mutex::new(Vec::new())
    })
    .lock()
    .unwrap_or_else(PoisonError::into_inner)
}

/// A thread stuck this many slices of wall time is stopped even if it used no CPU
/// (blocked in the kernel, say, where only a signal gets it out).
const WALL_SLICES: u64 = 10;

fn run() {
    // Per watch: last resume count seen, ticks it has stayed the same, and the tracee
    // process's CPU time when it was first seen stuck.
    struct Seen {
        watch: Weak<Watch>,
        last: u64,
        ticks: u64,
        cpu0: Option<u64>,
    }
    let mut seen: Vec<Seen> = Vec::new();
    loop {
        std::thread::sleep(TICK);
        {
            let mut reg = registry();
            reg.retain(|w| w.strong_count() > 0);
            for w in reg.iter() {
                if !seen.iter().any(|s| Weak::ptr_eq(&s.watch, w)) {
                    seen.push(Seen {
                        watch: w.clone(),
                        last: 0,
                        ticks: 0,
                        cpu0: None,
                    });
                }
            }
        }
        seen.retain(|s| s.watch.strong_count() > 0);
        for s in seen.iter_mut() {
            let Some(w) = s.watch.upgrade() else { continue };
            let waiting = w.waiting.load(Ordering::Relaxed);
            let n = w.resumes.load(Ordering::Relaxed);
            if waiting == 0 || n != s.last {
                (s.last, s.ticks, s.cpu0) = (n, 0, None);
                continue;
            }
            let (tgid, tid) = ((waiting >> 32) as i32, waiting as u32 as i32);
            s.ticks += 1;
            // The slice counts CPU time the tracee used, not wall time: on a loaded
            // machine a thread that merely waits for its CPU must not be preempted (that
            // would make the schedule depend on the load).
            let cpu = super::process_cpu_nanos(tgid);
            let cpu0 = *s.cpu0.get_or_insert(cpu.unwrap_or(0));
            let slice = w.slice_ticks.load(Ordering::Relaxed);
            let used = cpu.map_or(0, |c| c.saturating_sub(cpu0));
            let spun = used >= slice * TICK.as_nanos() as u64;
            if (spun || s.ticks >= slice * WALL_SLICES) && w.fired.load(Ordering::Relaxed) != n {
                w.fired.store(n, Ordering::Relaxed);
                let _ = super::tgkill(tgid, tid, libc::SIGSTOP);
                (s.ticks, s.cpu0) = (0, None);
            }
        }
    }
}
