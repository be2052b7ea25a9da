//! Fixture: 4 threads append their ids to a shared log under a `Mutex`;
//! a `Condvar` implements a start gate and a finish barrier.
//!
//! Transcript: `threads 4`, `sched order <ids>`, `total 20`,
//! `per_thread 5 5 5 5`.

use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

const THREADS: usize = 4;
const ROUNDS: usize = 5;

#[derive(Default)]
struct State {
    ready: usize,
    go: bool,
    finished: usize,
    log: Vec<usize>,
}

fn main() {
    let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
    let mut handles = Vec::new();
    for id in 0..THREADS {
        let shared = Arc::clone(&shared);
        handles.push(thread::spawn(move || {
            let (lock, cv) = &*shared;
            {
                let mut st = lock.lock().expect("poisoned");
                st.ready += 1;
                cv.notify_all();
                while !st.go {
                    st = cv.wait(st).expect("poisoned");
                }
            }
            for round in 0..ROUNDS {
                {
                    let mut st = lock.lock().expect("poisoned");
                    st.log.push(id);
                    cv.notify_all();
                }
                if round % 2 == 0 {
                    thread::yield_now();
                } else {
                    thread::sleep(Duration::from_micros(1));
                }
            }
            let mut st = lock.lock().expect("poisoned");
            st.finished += 1;
            cv.notify_all();
            while st.finished < THREADS {
                st = cv.wait(st).expect("poisoned");
            }
        }));
    }
    {
        let (lock, cv) = &*shared;
        let mut st = lock.lock().expect("poisoned");
        while st.ready < THREADS {
            st = cv.wait(st).expect("poisoned");
        }
        st.go = true;
        cv.notify_all();
    }
    for h in handles {
        h.join().expect("worker panicked");
    }

    let (lock, _) = &*shared;
    let st = lock.lock().expect("poisoned");
    let order: Vec<String> = st.log.iter().map(|i| i.to_string()).collect();
    let mut per = [0usize; THREADS];
    for &i in &st.log {
        per[i] += 1;
    }
    let per: Vec<String> = per.iter().map(|n| n.to_string()).collect();
    println!("threads {THREADS}");
    println!("sched order {}", order.join(" "));
    println!("total {}", st.log.len());
    println!("per_thread {}", per.join(" "));
    if st.log.len() != THREADS * ROUNDS {
        println!("fail wrong total");
        std::process::exit(1);
    }
}
