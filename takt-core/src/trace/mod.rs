//! The trace: every event of a run, canonically encoded, and its digest.
//!
//! Each [`Event`] is encoded with bincode (fixed field order, little-endian integers) into
//! one byte stream, together with the captured output ([`Trace::absorb`]); the digest is
//! BLAKE3 of that stream. The same seed gives byte-identical encodings and the same
//! digest. The stream is hashed in batches of [`BATCH`] bytes, not per event: the
//! hash of a stream does not depend on how it is cut, and one call per batch lets
//! BLAKE3 hash whole chunks in parallel lanes instead of paying a call and a partial
//! block per 80-byte event.

pub mod args;

use crate::time::VTime;
use serde::{Deserialize, Serialize};

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Virtual time.
    pub time: VTime,
    /// Node index.
    pub node: u16,
    /// Virtual pid.
    pub pid: i32,
    /// Virtual tid.
    pub tid: i32,
    /// What.
    pub kind: EventKind,
}

/// A run of network messages one call sent or consumed: the sends number `first` to
/// `last` of socket `sock` (each send of a socket is numbered from 0). A receive names
/// the sends whose bytes it read, so every receive can be linked to the sends behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Msgs {
    /// Sent (`true`) or received.
    pub sent: bool,
    /// The sending socket (the network model's id; ids are never reused in a run).
    pub sock: u32,
    /// The first send.
    pub first: u32,
    /// The last send.
    pub last: u32,
}

impl Msgs {
    /// The number that stands for a connection instead of a send: `connect` records it
    /// sent by the client socket, `accept` received from it.
    pub const CONNECT: u32 = u32::MAX;

    /// Whether this is a connection (`connect` → `accept`) rather than data.
    pub fn is_connection(&self) -> bool {
        self.first == Msgs::CONNECT
    }

    /// `self` extended by `other` when both are the same direction and socket;
    /// otherwise `other`.
    pub fn merge(self, other: Msgs) -> Msgs {
        if self.sent == other.sent && self.sock == other.sock {
            Msgs {
                first: self.first.min(other.first),
                last: self.last.max(other.last),
                ..self
            }
        } else {
            other
        }
    }
}

/// The kinds of events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A syscall completed with `ret` (`None`: the kernel ran it and takt did not look).
    Syscall {
        /// Number.
        nr: u32,
        /// Arguments.
        args: [u64; 6],
        /// Result.
        ret: Option<i64>,
        /// Whether takt injected this result as a fault.
        fault: bool,
        /// The network messages the call sent or consumed, if any.
        msgs: Option<Msgs>,
        /// What its pointer arguments pointed to, for the few calls whose trace keeps it
        /// (the path of an open, the socket address of `bind`, `connect` and `accept`;
        /// see `engine::capture`); `None` for every other call.
        capture: Option<Box<crate::syscall::capture::Capture>>,
    },
    /// A thread parked in the core inside syscall `nr`.
    Block {
        /// Number.
        nr: u32,
    },
    /// The scheduler switched to this thread.
    Switch,
    /// A signal was delivered to the thread.
    Signal {
        /// Signal number.
        sig: i32,
    },
    /// `rdtsc`/`rdtscp` emulated.
    Rdtsc,
    /// A new thread or process.
    Spawn {
        /// Its virtual tid.
        child: i32,
        /// A process (true) or a thread.
        process: bool,
    },
    /// A successful `execve`.
    Exec {
        /// The program.
        path: String,
    },
    /// The thread exited (`status` as `waitpid` encodes it).
    Exit {
        /// Wait status.
        status: i32,
    },
    /// The watchdog preempted a thread that ran without syscalls.
    Preempted,
    /// The clock jumped to the next timer because nothing could run.
    ClockJump,
    /// The thread spins without syscalls in a loop of `period` instructions that passes
    /// the same register states over and over (a pure spin-wait): it was stopped at the
    /// loop's canonical point, instruction `ip`, and waits until another thread has run.
    Spin {
        /// The canonical point: the lowest instruction address of the loop.
        ip: u64,
        /// Instructions per pass of the loop.
        period: u32,
    },
}

/// Bytes of encoded events collected before they are hashed.
pub const BATCH: usize = 64 * 1024;

/// The trace of one run.
#[derive(Debug)]
pub struct Trace {
    events: Vec<Event>,
    hasher: blake3::Hasher,
    /// Encoded events (and absorbed output) not hashed yet: at most about [`BATCH`].
    pending: Vec<u8>,
    keep: bool,
    count: u64,
}

impl Trace {
    /// A new trace; `keep` retains every event in memory (for `--trace` and reports),
    /// otherwise only the last few hundred are kept.
    pub fn new(keep: bool) -> Trace {
        Trace {
            events: Vec::with_capacity(4096),
            hasher: blake3::Hasher::new(),
            pending: Vec::with_capacity(BATCH + 4096),
            keep,
            count: 0,
        }
    }

    /// Appends an event to the trace and to the digested stream.
    pub fn push(&mut self, e: Event) {
        self.push_digesting(e, None);
    }

    /// Appends `e` to the trace, and `digested` (when given: `e` without the details
    /// only a detailed trace records) to the digested stream in its place.
    pub fn push_digesting(&mut self, e: Event, digested: Option<&Event>) {
        bincode::serialize_into(&mut self.pending, digested.unwrap_or(&e))
            .expect("encoding an event into a Vec cannot fail");
        if self.pending.len() >= BATCH {
            self.flush();
        }
        if !self.keep && self.events.len() >= 4096 {
            self.events.drain(..2048);
        }
        self.events.push(e);
        self.count += 1;
    }

    /// How many events were appended (retained or not).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Adds bytes that are not an event (what a process wrote to its captured output) to
    /// the digest, so two runs that print different things never share a digest.
    pub fn absorb(&mut self, tag: u8, bytes: &[u8]) {
        self.pending.push(tag);
        self.pending
            .extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        if self.pending.len() + bytes.len() <= BATCH {
            self.pending.extend_from_slice(bytes);
        } else {
            // Large output goes to the hasher directly (same stream, no copy).
            self.flush();
            self.hasher.update(bytes);
        }
    }

    fn flush(&mut self) {
        self.hasher.update(&self.pending);
        self.pending.clear();
    }

    /// The digest so far, in lowercase hex.
    pub fn digest(&self) -> String {
        let mut h = self.hasher.clone();
        h.update(&self.pending);
        h.finalize().to_hex().to_string()
    }

    /// The retained events.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Canonical encoding of the retained events (what `--trace FILE` writes).
    pub fn encode(&self) -> Vec<u8> {
        encode_events(&self.events)
    }

    /// Decodes what [`Trace::encode`] (or [`encode_events`]) wrote: a clear error for a
    /// file that is not a trace, or that another version of takt wrote.
    pub fn decode(bytes: &[u8]) -> Result<Vec<Event>, String> {
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or("not a takt trace file (it does not start with the takt-trace header)")?;
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("a truncated takt trace file")?;
        let version = String::from_utf8_lossy(&rest[..nl]);
        if version != VERSION {
            return Err(format!(
                "this trace was written by takt {version}, and this is takt {VERSION}: read it with the takt that wrote it"
            ));
        }
        bincode::deserialize(&rest[nl + 1..]).map_err(|e| format!("a damaged takt trace file: {e}"))
    }
}

/// One line describing an event, strace-style (`TAKT_DEBUG`, failure reports, `takt
/// trace`): `0.000012500 node0 2/3 connect(3, 0x7ffd…, 16) = -1 EINPROGRESS (…)`.
pub fn describe(e: &Event) -> String {
    let t = e.time.as_nanos();
    format!(
        "{}.{:09} node{} {}/{} {}",
        t / 1_000_000_000,
        t % 1_000_000_000,
        e.node,
        e.pid,
        e.tid,
        what(&e.kind)
    )
}

/// What an event was, strace-style for a syscall (decoded by [`crate::syscall`]), with
/// `[fault]` for an injected result and the messages it sent or received.
pub fn what(kind: &EventKind) -> String {
    match kind {
        EventKind::Syscall {
            nr,
            args,
            ret,
            fault,
            msgs,
            capture,
        } => {
            let cap: &dyn crate::syscall::capture::Captured = match capture {
                Some(c) => &**c,
                None => &(),
            };
            let call = crate::syscall::Syscall::decode(*nr, *args).render(*ret, cap);
            let msgs = match msgs {
                Some(m) if m.is_connection() => format!(
                    " [{} {}]",
                    if m.sent {
                        "connection from"
                    } else {
                        "accepted"
                    },
                    m.sock
                ),
                Some(m) => format!(
                    " [{} {}#{}{}]",
                    if m.sent { "sent" } else { "received" },
                    m.sock,
                    m.first,
                    if m.last != m.first {
                        format!("..{}", m.last)
                    } else {
                        String::new()
                    }
                ),
                None => String::new(),
            };
            format!("{call}{}{msgs}", if *fault { " [fault]" } else { "" })
        }
        EventKind::Block { nr } => format!(
            "<{} blocks>",
            syscalls::Sysno::new(*nr as usize).map_or("?", |s| s.name())
        ),
        EventKind::Exec { path } => format!("<exec {path:?}>"),
        EventKind::Exit { status } => format!("<exit, status {status:#x}>"),
        EventKind::Signal { sig } => format!("<signal {}>", signal_name(*sig)),
        EventKind::Spawn { child, process } => format!(
            "<new {} {child}>",
            if *process { "process" } else { "thread" }
        ),
        EventKind::Spin { ip, period } => {
            format!("<spins at {ip:#x}, a loop of {period} instructions>")
        }
        k => format!("<{k:?}>"),
    }
}

/// Canonical encoding of a list of events (what `takt run --trace FILE` writes).
/// (A header, `takt-trace` and the version of takt, then the bincode of the events.)
pub fn encode_events(events: &[Event]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(VERSION.as_bytes());
    out.push(b'\n');
    bincode::serialize_into(&mut out, events).expect("encoding events into a Vec cannot fail");
    out
}

/// The first bytes of a trace file.
const MAGIC: &[u8] = b"takt-trace ";
/// The version of takt that writes (and can read) trace files, with the revision of the
/// event encoding: raise the revision whenever an event's fields change, so a file of
/// another encoding is refused with this message instead of decoding into nonsense
/// (2: syscall events carry the captured pointer arguments of opens, `bind`, `connect`
/// and `accept`).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (trace format 2)");

/// `SIGSEGV`-style name of a signal number.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGSYS => "SIGSYS",
        _ => return format!("signal {sig}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: u64) -> Event {
        Event {
            time: VTime(t),
            node: 0,
            pid: 2,
            tid: 2,
            kind: EventKind::Syscall {
                nr: 39,
                args: [1, 2, 3, 4, 5, 6],
                ret: Some(2),
                fault: false,
                msgs: None,
                capture: None,
            },
        }
    }

    #[test]
    fn same_events_same_digest_and_round_trip() {
        let (mut a, mut b) = (Trace::new(true), Trace::new(true));
        for t in 0..10 {
            a.push(ev(t));
            b.push(ev(t));
        }
        assert_eq!(a.digest(), b.digest());
        b.push(ev(99));
        assert_ne!(a.digest(), b.digest());
        assert_eq!(Trace::decode(&a.encode()).unwrap(), a.events());
    }

    /// A file of an earlier encoding (same crate version, older event fields) is refused
    /// by its header, not misread.
    #[test]
    fn a_trace_of_another_encoding_is_refused() {
        let mut t = Trace::new(true);
        t.push(ev(1));
        let body = &t.encode()[MAGIC.len() + VERSION.len()..];
        let old = [MAGIC, env!("CARGO_PKG_VERSION").as_bytes(), body].concat();
        let e = Trace::decode(&old).unwrap_err();
        assert!(e.contains("trace format 2"), "{e}");
    }

    /// The digest is BLAKE3 of the whole stream (events and absorbed output, in order),
    /// however it was cut into batches.
    #[test]
    fn digest_covers_the_whole_stream_across_batches() {
        let mut t = Trace::new(false);
        let mut stream = Vec::new();
        let big = vec![7u8; BATCH + 10];
        for i in 0..5000u64 {
            let e = ev(i);
            stream.extend(bincode::serialize(&e).unwrap());
            t.push(e);
            if i % 1000 == 3 {
                let out: &[u8] = if i == 3003 { &big } else { b"hello\n" };
                stream.push(1);
                stream.extend((out.len() as u64).to_le_bytes());
                stream.extend_from_slice(out);
                t.absorb(1, out);
            }
        }
        assert!(stream.len() > 3 * BATCH);
        assert_eq!(t.digest(), blake3::hash(&stream).to_hex().to_string());
        assert_eq!(t.count(), 5000);
    }
}
