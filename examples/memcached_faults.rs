//! The takt paper's Figure 1 with its fault settings — `accept` failing at 1%, every
//! other syscall at 0.1% — explored over `TAKT_SEEDS` seeds (default 100) on every CPU.
//! Each failing seed is printed with the command that replays it exactly.
//!
//! `cargo run --release -p takt-examples --example memcached_faults`

use std::time::Duration;
use takt_scenario::{Error, Explore, Process, Scenario};

fn main() {
    Scenario::set_syscall_fault_injection_rate(0.001);
    Scenario::set_fault_rate("accept", 0.01);
    Scenario::set_fault_rate("accept4", 0.01); // what glibc's accept() calls
    let build = |s: &Scenario| {
        s.completion_time(Duration::from_millis(500));
        let node = s.create_node();
        node.create_process("/usr/bin/memcached -u root -p 11222 -U 0 -t 4");
        node.create_process(
            Process::parse("/usr/bin/memcslap --servers=127.0.0.1:11222 --concurrency=4 --execute-number=500 --binary")
                .start_after(Duration::from_millis(1))
                .must_finish(),
        );
    };
    match Explore::new().stop_at_first(false).run(build) {
        Ok(summary) => println!(
            "all {} seeds passed in {:.1} s",
            summary.passed.len(),
            summary.seconds
        ),
        Err(Error::Failed(f)) => {
            println!("\nlowest failing seed: {}\n{}", f.report.seed, f.reason);
            println!("faults injected in that run: {:?}", f.report.faults);
            println!("last output:");
            for l in f
                .report
                .lines
                .iter()
                .rev()
                .take(6)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
            {
                println!("  [{} {} {}] {}", l.time, l.node, l.pid, l.text);
            }
            println!("rerun: {}", f.rerun);
        }
        Err(e) => println!("{e}"),
    }
}
