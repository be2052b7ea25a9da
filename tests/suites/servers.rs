//! Real servers from Debian's packages under takt (installed by scripts/setup):
//! memcached serving memcslap within one node and across two, redis-server serving
//! redis-cli and redis-benchmark across two nodes. Every run finishes; the same seed
//! twice gives the same digest (5 seeds each).

use std::time::Duration;
use takt_scenario::{Process, Report, Scenario, Status};

const MEMCACHED: &str = "/usr/bin/memcached -u root -p 11222 -U 0 -t 4";
const REDIS: &str =
    "/usr/bin/redis-server --port 6379 --save '' --appendonly no --protected-mode no";

fn memcached(seed: u64, two_nodes: bool) -> Report {
    let s = Scenario::new();
    s.set_seed(seed);
    s.set_scenario_completion_time(Duration::from_millis(500));
    let a = s.create_named_node("cache");
    let b = if two_nodes {
        s.create_named_node("web")
    } else {
        a.clone()
    };
    a.create_process(MEMCACHED);
    let server = if two_nodes { "cache" } else { "127.0.0.1" };
    b.create_process(
        Process::parse(&format!("/usr/bin/memcslap --servers={server}:11222 --concurrency=4 --execute-number=500 --binary"))
            .start_after(Duration::from_millis(1)),
    );
    s.run().unwrap_or_else(|e| panic!("{e}"))
}

fn check_client_done(r: &Report, what: &str) {
    assert_eq!(
        r.processes[0].status,
        Status::Running,
        "{what}: the server runs to the end\n{r}"
    );
    assert_eq!(
        r.processes[1].status,
        Status::Exited(0),
        "{what}: the client finishes\n{r}"
    );
}

#[test]
fn memcached_serves_memcslap_within_one_node_and_across_two() {
    for two in [false, true] {
        for seed in 0..5 {
            let r = memcached(seed, two);
            check_client_done(&r, "memcached");
            assert!(
                r.stdout(1).contains("Time to set            2000 keys"),
                "{}",
                r.stdout(1)
            );
            assert_eq!(
                r.digest,
                memcached(seed, two).digest,
                "seed {seed}, two nodes {two}: digests differ"
            );
        }
    }
}

fn redis(seed: u64, client: &str, completion: Duration) -> Report {
    let s = Scenario::new();
    s.set_seed(seed);
    s.set_scenario_completion_time(completion);
    s.create_named_node("db").create_process(REDIS);
    s.create_named_node("app")
        .create_process(Process::parse(client).start_after(Duration::from_millis(20)));
    s.run().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn redis_serves_redis_cli_across_nodes() {
    let cli = "/bin/sh -c 'redis-cli -h db set greeting hello && redis-cli -h db incr n && redis-cli -h db get greeting'";
    for seed in 0..5 {
        let r = redis(seed, cli, Duration::from_millis(300));
        check_client_done(&r, "redis-cli");
        assert_eq!(r.stdout(1), "OK\n1\nhello\n");
        assert_eq!(
            r.digest,
            redis(seed, cli, Duration::from_millis(300)).digest,
            "seed {seed}"
        );
    }
}

#[test]
fn redis_benchmark_1000_requests_across_nodes() {
    let bench = "/usr/bin/redis-benchmark -h db -p 6379 -n 1000 -c 4 -q -t set,get,incr,lpush,lpop";
    for seed in 0..5 {
        let r = redis(seed, bench, Duration::from_secs(2));
        check_client_done(&r, "redis-benchmark");
        for t in ["SET", "GET", "INCR", "LPUSH", "LPOP"] {
            assert!(
                r.stdout(1).contains(&format!("{t}: ")),
                "{t} missing: {}",
                r.stdout(1)
            );
        }
        assert_eq!(
            r.digest,
            redis(seed, bench, Duration::from_secs(2)).digest,
            "seed {seed}"
        );
    }
}
