//! Global snapshots (`takt_core::snapshot`): a cut at any requested moment of a two-node
//! redis run is consistent. For every connection, the bytes sent before the cut equal
//! the bytes received before it plus the bytes in flight at it. "Before the cut" is
//! read from the trace (the syscall events before the snapshot's event index: their
//! return values and the socket their `msgs` name); "in flight" is read from the
//! snapshot (data packets in the network's queue, plus bytes buffered in the receiving
//! socket and not read yet). The two sources are independent: the trace is what the
//! programs saw, the snapshot is the network model's state.

use std::collections::BTreeMap;
use std::time::Duration;
use takt_core::trace::{EventKind, Msgs};
use takt_scenario::{Process, Report, Scenario, Snapshot, Status};

const REDIS: &str =
    "/usr/bin/redis-server --port 6379 --save '' --appendonly no --protected-mode no";
const BENCH: &str =
    "/usr/bin/redis-benchmark -h db -p 6379 -n 1000 -c 4 -q -t set,get,incr,lpush,lpop";
const SEED: u64 = 11;

/// redis-server on node `db`, redis-benchmark on node `app` (20 ms later), with global
/// snapshots at `cuts`.
fn redis_run(cuts: &[Duration]) -> Report {
    let s = Scenario::new();
    s.random_seed(SEED);
    s.completion_time(Duration::from_secs(2));
    s.keep_full_trace(true);
    for &t in cuts {
        s.snapshot_at(t);
    }
    s.create_named_node("db").create_process(REDIS);
    s.create_named_node("app")
        .create_process(Process::parse(BENCH).start_after(Duration::from_millis(20)));
    s.run().unwrap_or_else(|e| panic!("{e}"))
}

/// splitmix64: the cut times come from a fixed seed, so the test is the same every run.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Bytes each socket sent, and bytes read from each sending socket, by the syscall
/// events before `upto`. Panics on a call that moved messages but whose return value is
/// not a byte count (the test would otherwise count it wrong).
fn trace_bytes(r: &Report, upto: u64) -> (BTreeMap<u32, u64>, BTreeMap<u32, u64>) {
    use libc_nr::*;
    let (mut sent, mut read) = (BTreeMap::new(), BTreeMap::new());
    for e in &r.trace[..upto as usize] {
        let EventKind::Syscall {
            nr,
            args,
            ret: Some(ret),
            msgs: Some(m),
            ..
        } = &e.kind
        else {
            continue;
        };
        if m.is_connection() || *ret <= 0 {
            continue;
        }
        let peek = match *nr {
            RECVFROM => args[3] & MSG_PEEK != 0,
            RECVMSG => args[2] & MSG_PEEK != 0,
            _ => false,
        };
        assert!(
            [READ, WRITE, READV, WRITEV, SENDTO, RECVFROM, SENDMSG, RECVMSG].contains(nr),
            "a call whose result is not a byte count moved messages: {}",
            takt_core::trace::what(&e.kind)
        );
        if peek {
            continue;
        }
        let map = if m.sent { &mut sent } else { &mut read };
        *map.entry(m.sock).or_insert(0) += *ret as u64;
    }
    (sent, read)
}

/// Syscall numbers (x86-64) and `MSG_PEEK`, without a libc dependency in this suite.
mod libc_nr {
    pub const READ: u32 = 0;
    pub const WRITE: u32 = 1;
    pub const READV: u32 = 19;
    pub const WRITEV: u32 = 20;
    pub const SENDTO: u32 = 44;
    pub const RECVFROM: u32 = 45;
    pub const SENDMSG: u32 = 46;
    pub const RECVMSG: u32 = 47;
    pub const MSG_PEEK: u64 = 2;
}

/// What one cut says about the direction of a connection towards socket `to`.
struct Direction {
    sent: u64,
    read: u64,
    queued: u64,
    buffered: u64,
}

/// Checks the cut's invariant for every established stream socket with a known peer;
/// returns the directions checked.
fn check_cut(r: &Report, snap: &Snapshot) -> Vec<Direction> {
    let (mut sent, read) = trace_bytes(r, snap.event_index);
    // A send parked after moving part of its data: those bytes are in the network, and
    // its event (with the total) comes after the cut.
    for p in &snap.processes {
        for t in &p.threads {
            if let Some(Msgs {
                sent: true, sock, ..
            }) = t.partial_msgs
            {
                *sent.entry(sock).or_insert(0) += t.partial_bytes as u64;
            }
        }
    }
    let mut checked = Vec::new();
    for b in &snap.sockets {
        let Some(a) = b.peer_sock else { continue };
        if b.state != "established" || b.ty != takt_core::net::SockType::Stream {
            continue;
        }
        let from = a as u32;
        let queued: u64 = snap
            .in_flight
            .iter()
            .filter(|p| p.kind == "data" && p.from_sock == Some(a) && p.to_sock == Some(b.id))
            .map(|p| p.bytes as u64)
            .sum();
        let d = Direction {
            sent: sent.get(&from).copied().unwrap_or(0),
            read: read.get(&from).copied().unwrap_or(0),
            queued,
            buffered: b.rx_buffered as u64,
        };
        assert_eq!(
            d.sent,
            d.read + d.queued + d.buffered,
            "cut at {} (event {}): socket {from} -> {}: sent {} before the cut, received {}, \
             {} in the queue, {} buffered",
            snap.time,
            snap.event_index,
            b.id,
            d.sent,
            d.read,
            d.queued,
            d.buffered
        );
        // The model's own counters agree with the trace.
        assert_eq!(b.bytes_received, d.read, "socket {}: bytes received", b.id);
        if let Some(sa) = snap.sockets.iter().find(|s| s.id == a) {
            assert_eq!(sa.bytes_sent, d.sent, "socket {a}: bytes sent");
        }
        checked.push(d);
    }
    checked
}

#[test]
fn a_snapshot_at_50_random_moments_of_a_redis_run_is_a_consistent_cut() {
    // A first run says when the benchmark is busy; the cuts fall in that span.
    let plain = redis_run(&[]);
    assert_eq!(plain.processes[1].status, Status::Exited(0), "{plain}");
    let end = plain.processes[1]
        .exit_time
        .expect("the benchmark exited")
        .as_nanos();
    let start = Duration::from_millis(20).as_nanos() as u64;
    let mut rng = 0x5eed_u64;
    let cuts: Vec<Duration> = (0..50)
        .map(|_| Duration::from_nanos(start + splitmix(&mut rng) % (end - start)))
        .collect();
    let r = redis_run(&cuts);
    assert_eq!(
        r.digest, plain.digest,
        "snapshots change nothing in the run"
    );
    assert_eq!(r.snapshots.len(), 50);
    let (mut directions, mut in_flight, mut connections) = (0, 0, 0);
    for &t in &cuts {
        let snap = r
            .snapshot_at(t)
            .expect("a snapshot for every requested time");
        assert!(snap.time.as_nanos() >= t.as_nanos() as u64);
        assert!(snap.event_index as usize <= r.trace.len());
        // The trace event just after the cut is not earlier than the cut.
        if let Some(next) = r.trace.get(snap.event_index as usize) {
            assert!(next.time >= snap.time, "event after the cut is earlier");
        }
        let checked = check_cut(&r, snap);
        directions += checked.len();
        connections += checked.iter().filter(|d| d.sent > 0).count();
        in_flight += checked.iter().filter(|d| d.queued + d.buffered > 0).count();
        // Every process has its threads and fds; both nodes are up.
        assert!(snap.nodes.iter().all(|n| n.up));
        assert!(snap.processes.iter().all(|p| !p.threads.is_empty()));
    }
    // Not vacuous: the cuts saw connections carrying data, and bytes on their way.
    assert!(directions >= 100, "{directions} directions checked");
    assert!(connections >= 50, "{connections} directions had sent data");
    assert!(
        in_flight >= 10,
        "only {in_flight} directions had bytes in flight at a cut"
    );
    // A requested time is found; any other is not (only requested times are captured).
    assert!(r.snapshot_at(cuts[0] + Duration::from_nanos(1)).is_none());
    // The snapshot serializes to JSON and back.
    let json = serde_json::to_string(&r.snapshots[0]).expect("JSON");
    let back: Snapshot = serde_json::from_str(&json).expect("parse");
    assert_eq!(&back, &r.snapshots[0]);
    eprintln!(
        "{directions} directions checked at 50 cuts, {in_flight} with bytes in flight; \
         first cut: {} sockets, {} packets in flight",
        r.snapshots[0].sockets.len(),
        r.snapshots[0].in_flight.len()
    );
}

/// The snapshot also shows the program's side: the server listening on its port, its
/// threads parked in `epoll_wait`, its fds, the benchmark's sockets.
#[test]
fn a_snapshot_shows_processes_threads_fds_and_the_listener() {
    let t = Duration::from_millis(40);
    let r = redis_run(&[t]);
    let snap = r.snapshot_at(t).expect("snapshot");
    let server = snap
        .processes
        .iter()
        .find(|p| p.command.contains("redis-server"))
        .expect("redis-server in the snapshot");
    assert_eq!(server.node, "db");
    assert!(
        server
            .fds
            .iter()
            .any(|f| f.virtual_fd && f.what.contains("0.0.0.0:6379")),
        "{:#?}",
        server.fds
    );
    assert!(
        server.fds.iter().any(|f| !f.virtual_fd),
        "kernel fds are listed too: {:#?}",
        server.fds
    );
    assert!(snap
        .sockets
        .iter()
        .any(|s| s.state == "listening" && s.local.as_deref() == Some("0.0.0.0:6379")));
    assert!(
        snap.processes
            .iter()
            .flat_map(|p| &p.threads)
            .any(|t| t.state == "blocked" && t.waits_on.is_some()),
        "some thread is parked"
    );
    let bench = snap
        .processes
        .iter()
        .find(|p| p.command.contains("redis-benchmark"))
        .expect("redis-benchmark");
    assert!(bench.fds.iter().any(|f| f.socket.is_some()));
}
