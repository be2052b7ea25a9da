//! The dependency graph (`takt_core::deps`) of the two-node memcached example
//! (`examples/memcached.rs`): memcslap on node `web` connects to memcached on node
//! `cache`; the graph shows those connections, memcached's listening port and the files
//! memcached opened, and its DOT renders with Graphviz (`dot -Tsvg`, installed by
//! scripts/setup).

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use takt_core::deps::Deps;
use takt_scenario::{Process, Report, Scenario, Status};

const MEMCACHED: &str = "/usr/bin/memcached -u root -p 11222 -U 0 -t 4";

/// The example's two-node run: memcslap sets 2,000 keys over 4 connections.
fn memcached_two_nodes() -> Report {
    let s = Scenario::new();
    s.random_seed(23486);
    s.completion_time(Duration::from_millis(500));
    s.keep_full_trace(true);
    let a = s.create_named_node("cache");
    let b = s.create_named_node("web");
    a.create_process(MEMCACHED);
    b.create_process(
        Process::parse(&format!(
            "/usr/bin/memcslap --servers={}:11222 --concurrency=4 --execute-number=500 --binary",
            a.addr()
        ))
        .start_after(Duration::from_millis(1)),
    );
    s.run().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_memcached_graph_shows_connections_the_port_and_files_and_renders_with_graphviz() {
    let r = memcached_two_nodes();
    assert_eq!(r.processes[1].status, Status::Exited(0), "{r}");
    let d = r.dependencies();
    assert!(d.complete, "built from the whole trace");
    let pid = |cmd: &str| {
        d.processes
            .iter()
            .find(|p| p.command.contains(cmd))
            .unwrap_or_else(|| panic!("no {cmd} in {:#?}", d.processes))
    };
    let (server, client) = (pid("/usr/bin/memcached"), pid("memcslap"));
    assert_eq!(
        (server.node.as_str(), client.node.as_str()),
        ("cache", "web")
    );
    // Who listens where: memcached, on port 11222 (of every address).
    let ports: Vec<&str> = d
        .listeners
        .iter()
        .filter(|l| l.pid == server.pid)
        .map(|l| l.addr.as_str())
        .collect();
    assert!(
        ports.iter().any(|a| a.ends_with(":11222")),
        "memcached's listeners: {ports:?}"
    );
    // memcslap → memcached: its 4 connections (`--concurrency=4`), each accepted, with
    // the client's address and port.
    let conns: Vec<_> = d
        .connections
        .iter()
        .filter(|c| c.client_pid == Some(client.pid))
        .collect();
    assert_eq!(conns.len(), 4, "{conns:#?}");
    for c in &conns {
        assert_eq!(c.server_pid, Some(server.pid), "{c:?}");
        assert_eq!(c.server_addr.as_deref(), Some("10.0.0.1:11222"));
        assert_eq!(c.client_node.as_deref(), Some("web"));
        assert_eq!(c.server_node.as_deref(), Some("cache"));
        assert!(
            c.client_addr
                .as_deref()
                .is_some_and(|a| a.starts_with("10.0.0.2:")),
            "{c:?}"
        );
    }
    // memcached's files: the libraries it loads (libevent) and what it reads at start.
    let files: Vec<&str> = d
        .files
        .iter()
        .filter(|f| f.pid == server.pid)
        .map(|f| f.path.as_str())
        .collect();
    assert!(
        files.iter().any(|f| f.contains("libevent")),
        "memcached's files: {files:?}"
    );
    assert!(
        d.files
            .iter()
            .filter(|f| f.pid == server.pid)
            .all(|f| f.opens > 0),
        "only opens that succeeded"
    );
    // JSON both ways.
    let json = serde_json::to_string(&d).expect("JSON");
    let back: Deps = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, d);
    // The DOT renders.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("deps");
    std::fs::create_dir_all(&dir).expect("dir");
    let dot = dir.join("memcached.dot");
    let svg = dir.join("memcached.svg");
    let text = d.to_dot();
    // The connections reach the IPv4 listener (memcached also listens on `[::]`).
    let v4 = text
        .lines()
        .find(|l| l.contains("label=\"listens 0.0.0.0:11222\""))
        .and_then(|l| l.split_whitespace().next())
        .expect("the IPv4 listener in the DOT");
    assert!(
        text.contains(&format!("p{} -> {v4} [style=bold", client.pid)),
        "{text}"
    );
    std::fs::write(&dot, &text).expect("write dot");
    let out = Command::new("dot")
        .arg("-Tsvg")
        .arg(&dot)
        .arg("-o")
        .arg(&svg)
        .output()
        .expect("graphviz's dot (scripts/setup installs it)");
    assert!(
        out.status.success(),
        "dot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&svg).expect("svg");
    for needle in [
        "memcslap",
        "memcached",
        "listens 0.0.0.0:11222",
        "libevent",
        "4 connections to 10.0.0.1:11222",
    ] {
        assert!(svg.contains(needle), "{needle} missing from the SVG");
    }
    eprintln!(
        "{} processes, {} files ({} of memcached), {} listeners, {} connections",
        d.processes.len(),
        d.files.len(),
        files.len(),
        d.listeners.len(),
        d.connections.len()
    );
}
