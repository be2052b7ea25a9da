//! The takt paper's Figure 1, in Rust: memcached (Debian's package) and a real client
//! (`memcslap` from libmemcached-tools) on one node, four runs over a seed sequence,
//! then the same across two nodes. Every run is deterministic: rerun one with
//! `TAKT_SEED=<seed>`.
//!
//! Run it with `./scripts/example` (installs memcached and libmemcached-tools if
//! missing), or `cargo run --release -p takt-examples --example memcached`.

use std::time::Duration;
use takt_scenario::{Process, ReportExt, Scenario};

const MEMCACHED: &str = "/usr/bin/memcached -u root -p 11222 -U 0 -t 4";

/// memcslap sets 2,000 keys over 4 connections (500 each).
fn client(server: &str) -> Process {
    Process::parse(&format!(
        "/usr/bin/memcslap --servers={server}:11222 --concurrency=4 --execute-number=500 --binary"
    ))
    // memcached must be listening first (as a script would `sleep` before starting it).
    .start_after(Duration::from_millis(1))
}

fn main() {
    Scenario::set_random_seed(23486);
    Scenario::set_completion_time(Duration::from_millis(500)); // virtual time
    Scenario::enable_stdout_logging(true);
    for _ in 1..5 {
        let scenario = Scenario::new();
        let node = scenario.create_node();
        node.create_process(MEMCACHED);
        node.create_process(client("127.0.0.1"));
        let t0 = std::time::Instant::now();
        let report = scenario.run().unwrap_or_else(|e| panic!("{e}"));
        println!("{report}real time: {:.3} s\n", t0.elapsed().as_secs_f64());
    }

    // Server on node A, client on node B: 200 µs between nodes, seeded jitter.
    let scenario = Scenario::new();
    scenario.keep_full_trace(true); // for the visual report
    let a = scenario.create_named_node("cache");
    let b = scenario.create_named_node("web");
    a.create_process(MEMCACHED);
    b.create_process(client(&a.addr().to_string()));
    let t0 = std::time::Instant::now();
    let report = scenario.run().unwrap_or_else(|e| panic!("{e}"));
    println!("{report}real time: {:.3} s", t0.elapsed().as_secs_f64());
    // Every thread of both nodes through virtual time: open it in a browser.
    let page = std::env::temp_dir().join("takt-memcached-report.html");
    report.write_html(&page).expect("write the report");
    println!("visual report: {}", page.display());
}
