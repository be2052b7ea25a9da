//! The dependency graph of a run (seed document `003_*`), built from its trace: which
//! processes started which (the fork/exec tree, across nodes), which files each opened
//! for reading or writing, who listens where, and which process connected to which
//! (`connect` → `accept`, with addresses and ports).
//!
//! Everything comes from trace events: `Spawn` and `Exec` events give the tree; the
//! path the trace keeps for every open (see `engine::capture`) and the open's flags and
//! result give the files (a failed open, a library search path say, is no dependency);
//! the socket addresses kept for `bind`, `connect` and `accept`, and the connection
//! number their `msgs` carry (the client's socket id, the same on both sides), pair each
//! `connect` with its `accept`. A graph is only as whole as the trace it is built from:
//! a run keeps every event only with `keep_full_trace` (otherwise the last few
//! thousand), and [`Deps::complete`] says whether it had them all.
//!
//! Paths are as the program passed them (a relative path is relative to its working
//! directory or the `dirfd`, which the graph does not resolve).
//!
//! [`Deps::to_dot`] writes Graphviz DOT (one cluster per node; processes as boxes, files
//! as notes, listening ports as ellipses); the type is serde-serializable for JSON.

use crate::report::{ProcessReport, Report};
use crate::syscall::capture::Captured;
use crate::syscall::Syscall;
use crate::time::VTime;
use crate::trace::{Event, EventKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The dependency graph of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deps {
    /// Whether it was built from every event of the run (else from the last ones only).
    pub complete: bool,
    /// Nodes: name and address.
    pub nodes: Vec<(String, String)>,
    /// Every process that appears in the trace, by pid.
    pub processes: Vec<DepProcess>,
    /// Files opened, one entry per (process, path).
    pub files: Vec<DepFile>,
    /// Listening sockets.
    pub listeners: Vec<DepListener>,
    /// Connections, in the order they were made.
    pub connections: Vec<DepConnection>,
}

/// A process of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepProcess {
    /// Virtual pid.
    pub pid: i32,
    /// The process that forked it (`None`: the scenario started it).
    pub parent: Option<i32>,
    /// Its node's name.
    pub node: String,
    /// The command as specified, or the program it ran (its last `execve`), or its
    /// parent's command for a fork that never exec'd.
    pub command: String,
    /// The programs it exec'd, in order.
    pub execs: Vec<String>,
}

/// A file one process opened (every successful open of that path, merged).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepFile {
    /// The process.
    pub pid: i32,
    /// The path as passed to the open.
    pub path: String,
    /// Opened for reading (`O_RDONLY`, `O_RDWR`).
    pub read: bool,
    /// Opened for writing (`O_WRONLY`, `O_RDWR`, `O_CREAT`, `O_TRUNC`, `O_APPEND`).
    pub write: bool,
    /// How many successful opens.
    pub opens: u32,
}

/// A socket that listened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepListener {
    /// The process that called `listen`.
    pub pid: i32,
    /// Its node's name.
    pub node: String,
    /// The address it was bound to (`0.0.0.0:11222`), or `(ephemeral)` when it listened
    /// without a `bind`.
    pub addr: String,
    /// When it started listening.
    pub time: VTime,
}

/// One connection: a `connect`, and the `accept` that took it if there was one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepConnection {
    /// The network model's id of the client socket (the connection's number in `msgs`).
    pub sock: u32,
    /// The connecting process.
    pub client_pid: Option<i32>,
    /// Its node's name.
    pub client_node: Option<String>,
    /// The client's address and port, as `accept` reported it.
    pub client_addr: Option<String>,
    /// The accepting process (`None`: never accepted).
    pub server_pid: Option<i32>,
    /// Its node's name.
    pub server_node: Option<String>,
    /// The address the client connected to.
    pub server_addr: Option<String>,
    /// When the connect was made.
    pub time: VTime,
}

impl DepConnection {
    fn new(sock: u32, time: VTime) -> DepConnection {
        DepConnection {
            sock,
            client_pid: None,
            client_node: None,
            client_addr: None,
            server_pid: None,
            server_node: None,
            server_addr: None,
            time,
        }
    }
}

/// The argument holding the path and the open flags of an `open`, `openat`, `creat` or
/// `openat2` (whose flags are in a struct not kept: 0).
fn open_flags(call: &Syscall) -> Option<(usize, i64)> {
    match *call {
        Syscall::Open(c) => Some((0, i64::from(c.flags.get()))),
        Syscall::Openat(c) => Some((1, i64::from(c.flags.get()))),
        Syscall::Creat(_) => Some((0, i64::from(libc::O_WRONLY | libc::O_CREAT))),
        Syscall::Other { nr, .. } if i64::from(nr) == libc::SYS_openat2 => Some((1, 0)),
        _ => None,
    }
}

/// A socket address captured from guest memory (`struct sockaddr` bytes) as text:
/// `10.0.0.1:11222`, `[::1]:80`, a path, `@name` (abstract). `None` if it is not one.
pub fn sockaddr_text(b: &[u8]) -> Option<String> {
    let family = u16::from_ne_bytes(b.get(..2)?.try_into().ok()?);
    let port = |b: &[u8]| b.get(2..4).map(|p| u16::from_be_bytes([p[0], p[1]]));
    match i32::from(family) {
        libc::AF_INET => {
            let ip: [u8; 4] = b.get(4..8)?.try_into().ok()?;
            Some(format!("{}:{}", std::net::Ipv4Addr::from(ip), port(b)?))
        }
        libc::AF_INET6 => {
            let ip: [u8; 16] = b.get(8..24)?.try_into().ok()?;
            Some(format!("[{}]:{}", std::net::Ipv6Addr::from(ip), port(b)?))
        }
        libc::AF_UNIX => {
            let path = b.get(2..).unwrap_or_default();
            Some(match path.first() {
                None => "(unnamed)".to_string(),
                Some(0) => format!("@{}", String::from_utf8_lossy(&path[1..])),
                Some(_) => {
                    let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
                    String::from_utf8_lossy(&path[..end]).into_owned()
                }
            })
        }
        _ => None,
    }
}

/// Connections drawn as one edge: (client pid, server pid, the address connected to).
type ConnGroup = (Option<i32>, Option<i32>, String);

/// Open flags that mean the file is written.
const WRITE_FLAGS: i64 = (libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND) as i64;

impl Report {
    /// The run's dependency graph (this module): the fork/exec tree, the files each
    /// process opened, who listens where, and which process connected to which. It is
    /// built from [`Report::trace`], so it is whole only when the run kept every event
    /// (`keep_full_trace`); [`Deps::complete`] says whether it did.
    pub fn dependencies(&self) -> Deps {
        Deps::from_trace(&self.trace, self.events, &self.nodes, &self.processes)
    }
}

impl Deps {
    /// Builds the graph from a run's events. `nodes` and `procs` are the report's (node
    /// names and addresses; the specified processes' commands); `events` the number of
    /// events the run had (the graph is complete when `trace` holds them all).
    pub fn from_trace(
        trace: &[Event],
        events: u64,
        nodes: &[(String, std::net::Ipv4Addr)],
        procs: &[ProcessReport],
    ) -> Deps {
        let node_name = |n: u16| {
            nodes
                .get(usize::from(n))
                .map_or_else(|| format!("node{n}"), |x| x.0.clone())
        };
        let mut processes: BTreeMap<i32, DepProcess> = BTreeMap::new();
        let mut files: BTreeMap<(i32, String), DepFile> = BTreeMap::new();
        let mut bound: BTreeMap<(i32, i32), String> = BTreeMap::new();
        let mut listeners = Vec::new();
        let mut conns: BTreeMap<u32, DepConnection> = BTreeMap::new();
        for e in trace {
            if e.pid <= 0 {
                continue;
            }
            let p = processes.entry(e.pid).or_insert_with(|| DepProcess {
                pid: e.pid,
                parent: None,
                node: node_name(e.node),
                command: String::new(),
                execs: Vec::new(),
            });
            match &e.kind {
                EventKind::Exec { path } => p.execs.push(path.clone()),
                EventKind::Spawn {
                    child,
                    process: true,
                } => {
                    let c = processes.entry(*child).or_insert_with(|| DepProcess {
                        pid: *child,
                        parent: None,
                        node: node_name(e.node),
                        command: String::new(),
                        execs: Vec::new(),
                    });
                    c.parent = Some(e.pid);
                }
                EventKind::Syscall {
                    nr,
                    args,
                    ret,
                    msgs,
                    capture,
                    ..
                } => {
                    let cap = capture.as_deref();
                    let ok = ret.is_none_or(|r| r >= 0);
                    let call = Syscall::decode(*nr, *args);
                    let opened = open_flags(&call);
                    match call {
                        _ if ok && opened.is_some() => {
                            let (path_arg, flags) = opened.unwrap_or((0, 0));
                            let Some(path) = cap.and_then(|c| c.bytes(path_arg)) else {
                                continue;
                            };
                            let path = String::from_utf8_lossy(path).into_owned();
                            let mode = flags & i64::from(libc::O_ACCMODE);
                            let f = files.entry((e.pid, path.clone())).or_insert(DepFile {
                                pid: e.pid,
                                path,
                                read: false,
                                write: false,
                                opens: 0,
                            });
                            f.read |= mode != i64::from(libc::O_WRONLY);
                            f.write |=
                                mode != i64::from(libc::O_RDONLY) || flags & WRITE_FLAGS != 0;
                            f.opens = f.opens.saturating_add(1);
                        }
                        Syscall::Bind(c) if *ret == Some(0) => {
                            if let Some(a) = cap.and_then(|c| c.bytes(1)).and_then(sockaddr_text) {
                                bound.insert((e.pid, c.sockfd.get()), a);
                            }
                        }
                        Syscall::Listen(c) if *ret == Some(0) => {
                            let addr = bound
                                .get(&(e.pid, c.sockfd.get()))
                                .cloned()
                                .unwrap_or_else(|| "(ephemeral)".to_string());
                            // listen again on the same socket (a new backlog) is one listener.
                            if !listeners
                                .iter()
                                .any(|l: &DepListener| l.pid == e.pid && l.addr == addr)
                            {
                                listeners.push(DepListener {
                                    pid: e.pid,
                                    node: node_name(e.node),
                                    addr,
                                    time: e.time,
                                });
                            }
                        }
                        Syscall::Connect(_) => {
                            if let Some(m) = msgs.filter(|m| m.sent && m.is_connection()) {
                                let c = conns
                                    .entry(m.sock)
                                    .or_insert_with(|| DepConnection::new(m.sock, e.time));
                                c.time = c.time.min(e.time);
                                c.client_pid = Some(e.pid);
                                c.client_node = Some(node_name(e.node));
                                c.server_addr =
                                    cap.and_then(|c| c.bytes(1)).and_then(sockaddr_text);
                            }
                        }
                        Syscall::Accept(_) | Syscall::Accept4(_) => {
                            if let Some(m) = msgs.filter(|m| !m.sent && m.is_connection()) {
                                let c = conns
                                    .entry(m.sock)
                                    .or_insert_with(|| DepConnection::new(m.sock, e.time));
                                c.server_pid = Some(e.pid);
                                c.server_node = Some(node_name(e.node));
                                c.client_addr =
                                    cap.and_then(|c| c.bytes(1)).and_then(sockaddr_text);
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        // Commands: as specified, else the last program run, else the parent's.
        let pids: Vec<i32> = processes.keys().copied().collect();
        for pid in pids {
            let command = procs
                .iter()
                .find(|r| r.pid == pid)
                .map(|r| r.command.clone())
                .or_else(|| processes[&pid].execs.last().cloned());
            let command = command.unwrap_or_else(|| {
                let mut up = processes[&pid].parent;
                let mut hops = 0;
                while let Some(pp) = up.filter(|_| hops < 64) {
                    hops += 1;
                    match processes.get(&pp) {
                        Some(q) if !q.command.is_empty() => return format!("{} (fork)", q.command),
                        Some(q) => up = q.parent,
                        None => break,
                    }
                }
                "?".to_string()
            });
            processes.get_mut(&pid).expect("listed").command = command;
        }
        let mut connections: Vec<DepConnection> = conns.into_values().collect();
        connections.sort_by_key(|c| (c.time, c.sock));
        Deps {
            complete: trace.len() as u64 == events,
            nodes: nodes
                .iter()
                .map(|(n, a)| (n.clone(), a.to_string()))
                .collect(),
            processes: processes.into_values().collect(),
            files: files.into_values().collect(),
            listeners,
            connections,
        }
    }

    /// Graphviz DOT: a cluster per node holding its processes and listening ports; files
    /// outside (a file read by two nodes' processes is one node of the graph; takt's
    /// nodes share the host's files today); edges for fork (solid), open (read: file →
    /// process, write: process → file), listen (dashed) and connections (bold, one edge
    /// per client, server and address, labelled with how many and the ports).
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph takt {\n  rankdir=LR;\n  node [fontname=\"DejaVu Sans\", fontsize=10];\n  edge [fontname=\"DejaVu Sans\", fontsize=9];\n",
        );
        for (i, (name, addr)) in self.nodes.iter().enumerate() {
            let _ = writeln!(
                out,
                "  subgraph cluster_{i} {{\n    label=\"{}\";\n    style=rounded;",
                esc(&format!("node {name} ({addr})"))
            );
            for p in self.processes.iter().filter(|p| &p.node == name) {
                let _ = writeln!(
                    out,
                    "    p{} [shape=box, label=\"{}\"];",
                    p.pid,
                    esc(&format!("pid {}\n{}", p.pid, short(&p.command, 90)))
                );
            }
            for (j, l) in self.listeners.iter().enumerate() {
                if &l.node == name {
                    let _ = writeln!(
                        out,
                        "    l{j} [shape=ellipse, label=\"{}\"];",
                        esc(&format!("listens {}", l.addr))
                    );
                }
            }
            out.push_str("  }\n");
        }
        let mut paths: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &self.files {
            let n = paths.len();
            paths.entry(&f.path).or_insert(n);
        }
        for (path, i) in &paths {
            let _ = writeln!(
                out,
                "  f{i} [shape=note, label=\"{}\"];",
                esc(&short(path, 70))
            );
        }
        for p in &self.processes {
            if let Some(parent) = p.parent {
                let _ = writeln!(out, "  p{parent} -> p{} [label=\"fork\"];", p.pid);
            }
        }
        for f in &self.files {
            let i = paths[f.path.as_str()];
            if f.read {
                let _ = writeln!(out, "  f{i} -> p{} [color=gray40];", f.pid);
            }
            if f.write {
                let _ = writeln!(out, "  p{} -> f{i} [color=firebrick];", f.pid);
            }
        }
        for (j, l) in self.listeners.iter().enumerate() {
            let _ = writeln!(out, "  p{} -> l{j} [style=dashed, arrowhead=none];", l.pid);
        }
        // Connections, grouped by (client, server, address).
        let mut groups: BTreeMap<ConnGroup, Vec<&DepConnection>> = BTreeMap::new();
        for c in &self.connections {
            let addr = c.server_addr.clone().unwrap_or_else(|| "?".to_string());
            groups
                .entry((c.client_pid, c.server_pid, addr))
                .or_default()
                .push(c);
        }
        let mut unanswered = 0;
        for ((client, server, addr), cs) in &groups {
            let from = match client {
                Some(p) => format!("p{p}"),
                None => continue,
            };
            let to = match server {
                Some(s) => match self.listener_for(*s, addr) {
                    Some(j) => format!("l{j}"),
                    None => format!("p{s}"),
                },
                None => {
                    unanswered += 1;
                    let _ = writeln!(
                        out,
                        "  u{unanswered} [shape=plaintext, label=\"{}\"];",
                        esc(&format!("{addr} (not accepted)"))
                    );
                    format!("u{unanswered}")
                }
            };
            let ports: Vec<String> = cs
                .iter()
                .filter_map(|c| c.client_addr.clone())
                .take(3)
                .collect();
            let more = if cs.len() > ports.len() && !ports.is_empty() {
                ", …"
            } else {
                ""
            };
            let label = format!(
                "{} connection{} to {addr}{}{}",
                cs.len(),
                if cs.len() == 1 { "" } else { "s" },
                if ports.is_empty() {
                    String::new()
                } else {
                    format!("\nfrom {}", ports.join(", "))
                },
                more
            );
            let _ = writeln!(
                out,
                "  {from} -> {to} [style=bold, color=navy, label=\"{}\"];",
                esc(&label)
            );
        }
        out.push_str("}\n");
        out
    }
}

impl Deps {
    /// The listener of process `pid` that a connection to `addr` reached: one bound to
    /// that very address, else a wildcard of the same family (`0.0.0.0` for IPv4,
    /// `[::]` for IPv6 and dual stack), else any on that port.
    fn listener_for(&self, pid: i32, addr: &str) -> Option<usize> {
        let (ip, port) = addr.rsplit_once(':')?;
        let v6 = ip.starts_with('[');
        let on_port =
            |l: &&DepListener| l.pid == pid && l.addr.rsplit_once(':').map(|a| a.1) == Some(port);
        let find = |want: &dyn Fn(&str) -> bool| {
            self.listeners
                .iter()
                .position(|l| on_port(&l) && want(l.addr.rsplit_once(':').map_or("", |a| a.0)))
        };
        find(&|lip| lip == ip)
            .or_else(|| find(&|lip| lip == if v6 { "[::]" } else { "0.0.0.0" }))
            .or_else(|| find(&|_| true))
    }
}

/// A DOT string's contents: quotes and backslashes escaped, newlines as `\n`, other
/// control characters dropped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, with an ellipsis in the middle when cut.
fn short(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max / 2).collect();
    let tail: String = s.chars().skip(n - max / 2).collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syscall::capture::{Capture, Slot};
    use crate::trace::Msgs;

    fn sockaddr(ip: [u8; 4], port: u16) -> Vec<u8> {
        let mut b = (libc::AF_INET as u16).to_ne_bytes().to_vec();
        b.extend(port.to_be_bytes());
        b.extend(ip);
        b.extend([0u8; 8]);
        b
    }

    fn call(pid: i32, node: u16, nr: i64, args: [u64; 6], ret: i64) -> Event {
        Event {
            time: VTime(u64::try_from(pid).unwrap()),
            node,
            pid,
            tid: pid,
            kind: EventKind::Syscall {
                nr: nr as u32,
                args,
                ret: Some(ret),
                fault: false,
                msgs: None,
                capture: None,
            },
        }
    }

    fn with(mut e: Event, arg: usize, bytes: &[u8], m: Option<Msgs>) -> Event {
        if let EventKind::Syscall { capture, msgs, .. } = &mut e.kind {
            let mut c = Capture::default();
            c.put(Slot::arg(arg), bytes.to_vec(), false);
            *capture = Some(Box::new(c));
            *msgs = m;
        }
        e
    }

    #[test]
    fn a_server_its_file_its_port_and_a_client_across_nodes() {
        let conn = |sent| Msgs {
            sent,
            sock: 7,
            first: Msgs::CONNECT,
            last: Msgs::CONNECT,
        };
        let trace = vec![
            with(
                call(
                    2,
                    0,
                    libc::SYS_openat,
                    [0, 0, libc::O_RDONLY as u64, 0, 0, 0],
                    3,
                ),
                1,
                b"/etc/srv.conf",
                None,
            ),
            with(
                call(2, 0, libc::SYS_openat, [0, 0, 0, 0, 0, 0], -2),
                1,
                b"/missing",
                None,
            ),
            with(
                call(
                    2,
                    0,
                    libc::SYS_open,
                    [0, (libc::O_WRONLY | libc::O_CREAT) as u64, 0, 0, 0, 0],
                    4,
                ),
                0,
                b"log \"x\"",
                None,
            ),
            with(
                call(2, 0, libc::SYS_bind, [5, 0, 16, 0, 0, 0], 0),
                1,
                &sockaddr([0; 4], 80),
                None,
            ),
            call(2, 0, libc::SYS_listen, [5, 16, 0, 0, 0, 0], 0),
            Event {
                time: VTime(3),
                node: 1,
                pid: 3,
                tid: 3,
                kind: EventKind::Spawn {
                    child: 4,
                    process: true,
                },
            },
            with(
                call(4, 1, libc::SYS_connect, [3, 0, 16, 0, 0, 0], -115),
                1,
                &sockaddr([10, 0, 0, 1], 80),
                Some(conn(true)),
            ),
            with(
                call(2, 0, libc::SYS_accept4, [5, 0, 0, 0, 0, 0], 6),
                1,
                &sockaddr([10, 0, 0, 2], 32768),
                Some(conn(false)),
            ),
        ];
        let nodes = vec![
            ("srv".to_string(), "10.0.0.1".parse().unwrap()),
            ("cli".to_string(), "10.0.0.2".parse().unwrap()),
        ];
        let d = Deps::from_trace(&trace, trace.len() as u64, &nodes, &[]);
        assert!(d.complete);
        assert_eq!(
            d.files.len(),
            2,
            "the failed open is no dependency: {:?}",
            d.files
        );
        let conf = d.files.iter().find(|f| f.path == "/etc/srv.conf").unwrap();
        assert!(conf.read && !conf.write);
        let log = d.files.iter().find(|f| f.path.starts_with("log")).unwrap();
        assert!(log.write && !log.read);
        assert_eq!(d.listeners.len(), 1);
        assert_eq!(d.listeners[0].addr, "0.0.0.0:80");
        assert_eq!(d.connections.len(), 1);
        let c = &d.connections[0];
        assert_eq!(
            (
                c.client_pid,
                c.server_pid,
                c.server_addr.as_deref(),
                c.client_addr.as_deref()
            ),
            (
                Some(4),
                Some(2),
                Some("10.0.0.1:80"),
                Some("10.0.0.2:32768")
            )
        );
        let child = d.processes.iter().find(|p| p.pid == 4).unwrap();
        assert_eq!((child.parent, child.node.as_str()), (Some(3), "cli"));
        let dot = d.to_dot();
        assert!(dot.contains("p4 -> l0 [style=bold"), "{dot}");
        assert!(dot.contains("log \\\"x\\\""), "quotes are escaped: {dot}");
        assert!(dot.contains("p3 -> p4 [label=\"fork\"]"), "{dot}");
    }

    #[test]
    fn socket_addresses_as_text() {
        assert_eq!(
            sockaddr_text(&sockaddr([10, 0, 0, 1], 11222)).as_deref(),
            Some("10.0.0.1:11222")
        );
        let mut un = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        un.extend(b"/run/x.sock\0junk");
        assert_eq!(sockaddr_text(&un).as_deref(), Some("/run/x.sock"));
        assert_eq!(sockaddr_text(&[1]), None);
        assert_eq!(sockaddr_text(&[0xff, 0xff, 0, 0]), None);
    }
}
