//! The virtual network against Linux: each network fixture's transcript under takt
//! matches its native run on loopback; different seeds reorder what the protocol lets
//! them reorder; server and client on two nodes; bad input; parallel scenarios.

use std::collections::BTreeSet;
use std::time::Duration;
use takt_scenario::{Error, Process, Scenario};
use takt_tests::{comparable, network_fixtures, Fixture};

#[test]
fn network_transcripts_match_native_loopback() {
    let mut failures = Vec::new();
    for f in network_fixtures() {
        let native = f.native();
        assert!(
            native.status.success(),
            "{} failed natively: {}",
            f.name,
            String::from_utf8_lossy(&native.stdout)
        );
        let native = comparable(&String::from_utf8_lossy(&native.stdout));
        let r = f.takt(11);
        let takt = comparable(&r.stdout(0));
        if native != takt {
            failures.push(format!(
                "--- {} native\n{native}--- {} takt\n{takt}",
                f.name, f.name
            ));
        }
        assert_eq!(
            r.digest,
            f.takt(11).digest,
            "{}: same seed, different digest",
            f.name
        );
    }
    assert!(
        failures.is_empty(),
        "transcripts differ:\n{}",
        failures.join("\n")
    );
}

#[test]
fn fifty_clients_arrive_in_at_least_five_orders_over_twenty_seeds() {
    let f = Fixture::c("epoll_server");
    let orders: BTreeSet<String> = (0..20)
        .map(|seed| {
            let out = f.takt(seed).stdout(0);
            out.lines()
                .find(|l| l.starts_with("sched arrival"))
                .expect("arrival line")
                .to_string()
        })
        .collect();
    assert!(
        orders.len() >= 5,
        "only {} distinct arrival orders",
        orders.len()
    );
}

/// Server on one node, client on another, addressed by the server node's name.
fn two_nodes(name: &str, seed: u64) -> Scenario {
    let s = Scenario::new();
    s.random_seed(seed);
    let server = s.create_named_node("server");
    let client = s.create_named_node("client");
    let prog = Fixture::c(name).program;
    server.create_process(Process::new(&prog).args(["server", "7000"]));
    client.create_process(
        Process::new(&prog)
            .args(["client", "server", "7000"])
            .start_after(Duration::from_micros(100)),
    );
    s
}

#[test]
fn client_and_server_on_two_nodes() {
    for name in [
        "tcp_echo",
        "udp_echo",
        "half_close",
        "bulk_transfer",
        "epoll_server",
    ] {
        let r = two_nodes(name, 3)
            .run()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = two_nodes(name, 3).run().unwrap();
        assert_eq!(
            r.digest, again.digest,
            "{name}: same seed, different digest"
        );
        assert!(
            r.processes
                .iter()
                .all(|p| p.status == takt_scenario::Status::Exited(0)),
            "{name}: {r}"
        );
        // Delivery between nodes takes the configured latency.
        assert!(
            r.end_time.as_nanos() > 200_000,
            "{name}: ended at {}",
            r.end_time
        );
    }
    let echo = two_nodes("tcp_echo", 3).run().unwrap();
    assert!(
        echo.stdout(1).contains("reply 0 hello-0"),
        "{}",
        echo.stdout(1)
    );
}

#[test]
fn binding_a_port_in_use_fails_with_eaddrinuse() {
    let s = Scenario::new();
    let n = s.create_node();
    let prog = Fixture::c("tcp_echo").program;
    n.create_process(Process::new(&prog).args(["server", "7000"]));
    n.create_process(
        Process::new(&prog)
            .args(["server", "7000"])
            .start_after(Duration::from_micros(50)),
    );
    s.completion_time(Duration::from_millis(10));
    let Err(Error::Failed(f)) = s.run() else {
        panic!("the second server must fail")
    };
    let second = &f.report.processes[1];
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(out.contains("errno 98"), "{out}");
}

#[test]
fn connecting_to_an_address_no_node_has_fails_fast() {
    let s = Scenario::new();
    s.create_node().create_process(
        Process::new(Fixture::c("nb_connect").program).args(["client", "10.9.9.9", "7000"]),
    );
    s.completion_time(Duration::from_secs(5));
    let t0 = std::time::Instant::now();
    let Err(Error::Failed(f)) = s.run() else {
        panic!("must fail")
    };
    assert!(t0.elapsed() < Duration::from_secs(5));
    let out = String::from_utf8_lossy(&f.report.processes[0].stdout).into_owned();
    assert!(
        out.contains("errno 101") || out.contains("Network is unreachable"),
        "{out}"
    );
}

#[test]
fn eight_network_scenarios_in_parallel_stay_deterministic() {
    let names = [
        "tcp_echo",
        "udp_echo",
        "epoll_server",
        "bulk_transfer",
        "half_close",
        "socketpair",
        "nb_connect",
        "conn_refused",
    ];
    let alone: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Fixture::c(n).takt(i as u64).digest)
        .collect();
    let together: Vec<String> = std::thread::scope(|s| {
        let hs: Vec<_> = names
            .iter()
            .enumerate()
            .map(|(i, n)| s.spawn(move || Fixture::c(n).takt(i as u64).digest))
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("scenario thread"))
            .collect()
    });
    assert_eq!(alone, together);
}

/// Every receive in the trace names sends that exist (the same socket's numbered sends),
/// across nodes, and every `accept` names its `connect`: what the visual report draws as
/// arrows. (A blocking `connect` is recorded when it returns, after the `accept`.)
#[test]
fn each_receive_names_the_sends_it_consumed() {
    use takt_core::trace::{EventKind, Msgs};
    for name in ["tcp_echo", "udp_echo"] {
        let s = two_nodes(name, 5);
        s.keep_full_trace(true);
        let r = s.run().unwrap();
        let msgs = || {
            r.trace.iter().filter_map(|e| match &e.kind {
                EventKind::Syscall { msgs: Some(m), .. } => Some((e, *m)),
                _ => None,
            })
        };
        // (socket, send number) → node of the send.
        let mut sent = std::collections::BTreeMap::new();
        for (e, m) in msgs().filter(|(_, m)| m.sent) {
            for seq in m.first..=m.last {
                assert!(
                    sent.insert((m.sock, seq), e.node).is_none(),
                    "{name}: {e:?}"
                );
            }
        }
        let (mut received, mut across) = (0, 0);
        for (e, m) in msgs().filter(|(_, m)| !m.sent) {
            received += 1;
            for seq in m.first..=m.last {
                let from = sent
                    .get(&(m.sock, seq))
                    .unwrap_or_else(|| panic!("{name}: receive of an unsent message: {e:?}"));
                if *from != e.node {
                    across += 1;
                }
            }
        }
        assert!(
            received > 0 && across > 0,
            "{name}: {received} receives, {across} across nodes"
        );
        let connections = sent.keys().filter(|k| k.1 == Msgs::CONNECT).count();
        assert_eq!(
            connections > 0,
            name == "tcp_echo",
            "{name}: {connections} connections"
        );
    }
}

/// Each node's socket files are its own: two nodes bind one path at the same time, and
/// neither sees the other's file; on one node the second bind finds the file (EADDRINUSE).
#[test]
fn two_nodes_bind_one_unix_path() {
    let path = "/tmp/takt_unix_paths_fixed.sock";
    let run = |nodes: usize| {
        let s = Scenario::new();
        let prog = Fixture::c("unix_paths").program;
        let a = s.create_node();
        let b = if nodes == 2 {
            s.create_node()
        } else {
            a.clone()
        };
        a.create_process(Process::new(&prog).args(["fixed", path]));
        b.create_process(
            Process::new(&prog)
                .args(["fixed", path])
                .start_after(Duration::from_millis(5)),
        );
        s.completion_time(Duration::from_secs(5));
        s.run()
    };
    let r = run(2).unwrap_or_else(|e| panic!("two nodes: {e}"));
    for i in 0..2 {
        let out = r.stdout(i);
        assert!(out.contains("fixed_stat_before -1 2\n"), "{out}");
        assert!(out.contains("fixed_bind 0 0\n"), "{out}");
        assert!(out.contains("fixed_connect_later 0 0 read 1 x\n"), "{out}");
    }
    assert!(
        !std::path::Path::new(path).exists(),
        "{path} reached the host"
    );
    let Err(Error::Failed(f)) = run(1) else {
        panic!("on one node the second bind must fail")
    };
    let second = String::from_utf8_lossy(&f.report.processes[1].stdout).into_owned();
    assert!(second.contains("fixed_bind -1 98\n"), "{second}");
}
