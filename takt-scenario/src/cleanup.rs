//! Removing a scenario's directories after its run, off an exploration's critical path.
//!
//! Removing a node's layer takes the kernel an RCU grace period or more for each
//! directory that was a mount point in the node's (now dead) mount namespace: about a
//! millisecond each on a quiet VM, tens when its CPUs are busy, a large part of a short
//! run. While an exploration runs seeds ([`deferred`]), a scenario's directories are
//! handed to one background thread instead, and the exploration waits for it
//! ([`drain`]) before it reports its time, so no directory outlives it. Everywhere else
//! (a test's own `Scenario::run`) they are removed at once, as before.
//!
//! Every live scenario's directories are also registered ([`register`]), so that an
//! exploration's worker process, which leaves with `exit` while the test that started
//! it may still hold scenarios of its own, removes theirs too ([`remove_live`]).

use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Sender};
use std::sync::{Condvar, Mutex, OnceLock};

thread_local! {
    /// Whether this thread's scenarios hand their directories to the cleaner.
    static DEFER: Cell<bool> = const { Cell::new(false) };
}

/// The cleaner: its queue, and how many removals are queued or under way.
struct Cleaner {
    queue: Mutex<Sender<Vec<PathBuf>>>,
    pending: Mutex<usize>,
    idle: Condvar,
}

fn cleaner() -> &'static Cleaner {
    static CLEANER: OnceLock<Cleaner> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let (tx, rx) = channel::<Vec<PathBuf>>();
        std::thread::Builder::new()
            .name("takt-cleaner".into())
            .spawn(move || {
                for dirs in rx {
                    remove_now(&dirs);
                    let c = cleaner();
                    let mut n = c.pending.lock().unwrap_or_else(|e| e.into_inner());
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        c.idle.notify_all();
                    }
                }
            })
            .expect("spawn the cleaner thread");
        Cleaner {
            queue: Mutex::new(tx),
            pending: Mutex::new(0),
            idle: Condvar::new(),
        }
    })
}

fn remove_now(dirs: &[PathBuf]) {
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Runs `f` with this thread's scenarios handing their directories to the cleaner.
pub(crate) fn deferred<R>(f: impl FnOnce() -> R) -> R {
    let before = DEFER.with(|d| d.replace(true));
    let r = f();
    DEFER.with(|d| d.set(before));
    r
}

/// The directories of the scenarios alive in this process.
fn live() -> &'static Mutex<BTreeSet<PathBuf>> {
    static LIVE: OnceLock<Mutex<BTreeSet<PathBuf>>> = OnceLock::new();
    LIVE.get_or_init(|| Mutex::new(BTreeSet::new()))
}

/// Registers the directories of a new scenario (removed by [`remove`]).
pub(crate) fn register(dirs: &[PathBuf]) {
    let mut l = live().lock().unwrap_or_else(|e| e.into_inner());
    l.extend(dirs.iter().cloned());
}

/// Removes the directories of every scenario still alive, and waits for the cleaner: for
/// a process about to `exit` without dropping them.
pub(crate) fn remove_live() {
    let dirs: Vec<PathBuf> = std::mem::take(&mut *live().lock().unwrap_or_else(|e| e.into_inner()))
        .into_iter()
        .collect();
    remove_now(&dirs);
    drain();
}

/// Removes `dirs` (and everything in them): now, or by the cleaner inside [`deferred`].
pub(crate) fn remove(dirs: Vec<PathBuf>) {
    {
        let mut l = live().lock().unwrap_or_else(|e| e.into_inner());
        for d in &dirs {
            l.remove(d);
        }
    }
    if !DEFER.with(Cell::get) {
        return remove_now(&dirs);
    }
    let c = cleaner();
    *c.pending.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    let sent = c.queue.lock().unwrap_or_else(|e| e.into_inner()).send(dirs);
    if let Err(back) = sent {
        // The cleaner is gone (it cannot be, short of a panic in it): remove here.
        remove_now(&back.0);
        let mut n = c.pending.lock().unwrap_or_else(|e| e.into_inner());
        *n = n.saturating_sub(1);
    }
}

/// Waits until every directory handed to the cleaner is removed.
pub(crate) fn drain() {
    let c = cleaner();
    let mut n = c.pending.lock().unwrap_or_else(|e| e.into_inner());
    while *n > 0 {
        n = c.idle.wait(n).unwrap_or_else(|e| e.into_inner());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferred_removals_are_done_when_drain_returns() {
        let base = std::env::temp_dir().join(format!("takt-cleanup-test-{}", std::process::id()));
        let dirs: Vec<PathBuf> = (0..20).map(|i| base.join(format!("d{i}/sub"))).collect();
        for d in &dirs {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("f"), b"x").unwrap();
        }
        deferred(|| {
            for d in &dirs {
                remove(vec![d.parent().unwrap().to_path_buf()]);
            }
        });
        drain();
        for d in &dirs {
            assert!(
                !d.parent().unwrap().exists(),
                "{} still exists",
                d.display()
            );
        }
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn outside_deferred_removal_is_immediate() {
        let d = std::env::temp_dir().join(format!("takt-cleanup-now-{}", std::process::id()));
        std::fs::create_dir_all(d.join("a")).unwrap();
        remove(vec![d.clone()]);
        assert!(!d.exists());
    }
}
