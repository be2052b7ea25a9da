//! antithesis_props [racy|safe]: two threads add 1 to a shared counter, racily (load,
//! a system call, store: an update can be lost) or under a mutex, with properties
//! declared through the Antithesis SDK: an always-assertion that both updates are kept,
//! a sometimes-assertion that is satisfied in every run, and one that no run can
//! satisfy (three updates).

use antithesis_sdk::prelude::*;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

fn main() {
    antithesis_init();
    let racy = std::env::args().nth(1).as_deref() != Some("safe");
    let counter = Arc::new(AtomicU64::new(0));
    let lock = Arc::new(Mutex::new(()));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (c, l) = (Arc::clone(&counter), Arc::clone(&lock));
            std::thread::spawn(move || {
                let _held = (!racy).then(|| l.lock().expect("lock"));
                let v = c.load(Ordering::SeqCst);
                // A system call between the read and the write: a scheduling point.
                let _ = std::process::id();
                let _ = std::fs::metadata("/");
                c.store(v + 1, Ordering::SeqCst);
            })
        })
        .collect();
    for w in workers {
        w.join().expect("join");
    }
    let total = counter.load(Ordering::SeqCst);
    let details = json!({ "total": total });
    assert_always!(total == 2, "both updates are kept", &details);
    assert_sometimes!(total >= 1, "an update happened", &details);
    assert_sometimes!(total == 3, "three updates happened", &details);
    println!("total {total}");
}
