//! Fixture: std's view of time, pid and parallelism.
//!
//! Transcript: `virt system_time_ns`, `virt sleep_elapsed_ns`,
//! `sleep_ge_10ms 1`, `instant_monotonic 1`, `virt pid`,
//! `virt available_parallelism`.

use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("system time before 1970");
    println!("virt system_time_ns {}", now.as_nanos());

    let start = Instant::now();
    thread::sleep(Duration::from_millis(10));
    let elapsed = start.elapsed();
    println!("virt sleep_elapsed_ns {}", elapsed.as_nanos());
    println!(
        "sleep_ge_10ms {}",
        u8::from(elapsed >= Duration::from_millis(10))
    );

    let a = Instant::now();
    let b = Instant::now();
    println!("instant_monotonic {}", u8::from(b >= a));

    let after = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("system time before 1970");
    println!(
        "system_time_advanced_ge_10ms {}",
        u8::from(after >= now + Duration::from_millis(10))
    );

    println!("virt pid {}", std::process::id());
    match thread::available_parallelism() {
        Ok(n) => println!("virt available_parallelism {n}"),
        Err(e) => println!("virt available_parallelism error {e}"),
    }
}
