//! The behaviour signature of a run: what it did, abstracted so that two runs that
//! differ only in the order of independent events (or in how often a polling loop went
//! round) share a class, and runs that did something else do not.
//!
//! Fed every trace event as it happens ([`Signer::event`]); knows nothing of ptrace.
//!
//! - **Threads by role**, never by tid: a process started from spec `i` is `s<i>` (its
//!   `k`-th restart `s<i>r<k>`), the `k`-th process a process forks is `<parent>/p<k>`,
//!   the `k`-th thread of a process `<process>.t<k>` (its first thread `.t0`).
//! - **Per role**, the sequence of (call, result class: ok, errno, injected fault,
//!   passed to the kernel), signals, execs (program name), exits; a run of identical
//!   items is one item with its count bucketed (1, 2, 3, 4–7, 8–15, 16–31, 32–127, 128+)
//!   the way AFL buckets edge hits.
//! - **Reads-from**: for each receiver, in order, which role's which send each receive
//!   consumed (so runs in which messages arrived in another order differ).
//! - **The outcome**: how the run ended, each process's status and a hash of what it
//!   printed (a program that prints a time or a random number shows a new behaviour in
//!   every run: that is what it does).
//!
//! The class is a BLAKE3 hash of the canonical form. [`Signature::features`] are hashed
//! features for similarity (Jaccard): call k-grams (k = 1–3) per role, (role, call,
//! errno), message-order bigrams per receiver, and the outcome (weighted).

use crate::trace::{Event, EventKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How many feature hashes a signature keeps (the smallest: a bottom-k sketch).
pub const SKETCH: usize = 512;

/// A run's behaviour signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The class: BLAKE3 of the canonical signature, hex.
    pub class: String,
    /// Hashed features, sorted and without duplicates: the [`SKETCH`] smallest.
    pub features: Vec<u64>,
}

/// One abstract thing a thread did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Item {
    /// A syscall and its result class (0 ok, > 0 errno, 1000 + errno a fault, -1 run by
    /// the kernel unseen).
    Call(u32, i32),
    Signal(i32),
    Exec(u64),
    Exit(i32),
    Spawn(bool),
    Rdtsc,
}

impl Item {
    /// A fixed-size canonical encoding (tag, value, repeat bucket).
    fn bytes(self, bucket: u8) -> [u8; 10] {
        let (tag, v): (u8, u64) = match self {
            Item::Call(nr, class) => (1, (u64::from(nr) << 32) | u64::from(class as u32)),
            Item::Signal(s) => (2, u64::from(s as u32)),
            Item::Exec(h) => (3, h),
            Item::Exit(s) => (4, u64::from(s as u32)),
            Item::Spawn(p) => (5, u64::from(p)),
            Item::Rdtsc => (6, 0),
        };
        let mut b = [0u8; 10];
        b[0] = tag;
        b[1..9].copy_from_slice(&v.to_le_bytes());
        b[9] = bucket;
        b
    }
}

/// AFL's buckets for how often an item repeated.
fn bucket(n: u32) -> u8 {
    match n {
        0..=3 => n as u8,
        4..=7 => 4,
        8..=15 => 5,
        16..=31 => 6,
        32..=127 => 7,
        _ => 8,
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    crate::rng::fnv1a(crate::rng::FNV_START, bytes.iter().copied())
}

/// Builds a run's signature from its events.
#[derive(Debug, Default)]
pub struct Signer {
    /// Role names; an index into this is a role.
    roles: Vec<String>,
    role_of_name: BTreeMap<String, usize>,
    /// pid → process role, tid → thread role.
    procs: BTreeMap<i32, usize>,
    threads: BTreeMap<i32, usize>,
    /// Children (processes, threads) made so far per process role.
    children: BTreeMap<(usize, bool), u32>,
    /// Restarts per spec.
    starts: BTreeMap<usize, u32>,
    /// Per thread role: (item, count).
    seqs: BTreeMap<usize, Vec<(Item, u32)>>,
    /// (socket, send number) → (sending thread role, its send ordinal).
    sends: BTreeMap<(u32, u32), (usize, u32)>,
    sent: BTreeMap<usize, u32>,
    /// Per receiver, in order: (sender role, send ordinal).
    reads: BTreeMap<usize, Vec<(usize, u32)>>,
    /// Per receiver: the sender roles in the order received (consecutive repeats merged).
    order: BTreeMap<usize, Vec<usize>>,
    /// The last thread seen and its role (most events follow one another on a thread).
    last: Option<(i32, usize)>,
}

impl Signer {
    /// An empty signer.
    pub fn new() -> Signer {
        Signer::default()
    }

    fn role(&mut self, name: String) -> usize {
        if let Some(&r) = self.role_of_name.get(&name) {
            return r;
        }
        self.roles.push(name.clone());
        self.role_of_name.insert(name, self.roles.len() - 1);
        self.roles.len() - 1
    }

    /// Process `pid` was started from process spec `spec` (again, after a restart).
    pub fn started(&mut self, pid: i32, spec: usize) {
        let k = self.starts.entry(spec).or_insert(0);
        let name = if *k == 0 {
            format!("s{spec}")
        } else {
            format!("s{spec}r{k}")
        };
        *k += 1;
        let p = self.role(name.clone());
        self.procs.insert(pid, p);
        let t = self.role(format!("{name}.t0"));
        self.threads.insert(pid, t);
    }

    fn thread_role(&mut self, pid: i32, tid: i32) -> usize {
        if let Some(&r) = self.threads.get(&tid) {
            return r;
        }
        // Not seen start (a process the engine did not spawn from a spec): by its ids.
        let p = match self.procs.get(&pid) {
            Some(&p) => p,
            None => {
                let p = self.role(format!("pid{pid}"));
                self.procs.insert(pid, p);
                p
            }
        };
        let name = format!("{}.tid{tid}", self.roles[p]);
        let r = self.role(name);
        self.threads.insert(tid, r);
        r
    }

    fn push(&mut self, role: usize, item: Item) {
        let seq = self.seqs.entry(role).or_default();
        match seq.last_mut() {
            Some((last, n)) if *last == item => *n = n.saturating_add(1),
            _ => seq.push((item, 1)),
        }
    }

    /// Takes one trace event into account.
    pub fn event(&mut self, e: &Event) {
        if e.tid == 0 {
            return;
        }
        let role = match self.last {
            Some((tid, r)) if tid == e.tid => r,
            _ => {
                let r = self.thread_role(e.pid, e.tid);
                self.last = Some((e.tid, r));
                r
            }
        };
        match &e.kind {
            EventKind::Syscall {
                nr,
                ret,
                fault,
                msgs,
                ..
            } => {
                let class = match ret {
                    None => -1,
                    Some(r) if (-4095..0).contains(r) => {
                        let errno = (-*r) as i32;
                        if *fault {
                            1000 + errno
                        } else {
                            errno
                        }
                    }
                    Some(_) => 0,
                };
                self.push(role, Item::Call(*nr, class));
                if let Some(m) = msgs {
                    if m.sent {
                        for seq in m.first..=m.last.min(m.first.saturating_add(4096)) {
                            let n = self.sent.entry(role).or_insert(0);
                            self.sends.insert((m.sock, seq), (role, *n));
                            *n += 1;
                        }
                    } else {
                        let last = m.last.min(m.first.saturating_add(4096));
                        for seq in m.first..=last {
                            if let Some(&(from, k)) = self.sends.get(&(m.sock, seq)) {
                                self.reads.entry(role).or_default().push((from, k));
                                let o = self.order.entry(role).or_default();
                                if o.last() != Some(&from) {
                                    o.push(from);
                                }
                            }
                        }
                    }
                }
            }
            EventKind::Signal { sig } => self.push(role, Item::Signal(*sig)),
            EventKind::Exec { path } => {
                let name = path.rsplit('/').next().unwrap_or(path);
                self.push(role, Item::Exec(fnv(name.as_bytes())));
            }
            EventKind::Exit { status } => self.push(role, Item::Exit(*status)),
            EventKind::Rdtsc => self.push(role, Item::Rdtsc),
            EventKind::Spawn { child, process } => {
                self.push(role, Item::Spawn(*process));
                let parent = self.procs.get(&e.pid).copied().unwrap_or(role);
                let k = self.children.entry((parent, *process)).or_insert(0);
                let n = *k;
                *k += 1;
                let base = self.roles[parent].clone();
                if *process {
                    let p = self.role(format!("{base}/p{n}"));
                    self.procs.insert(*child, p);
                    let t = self.role(format!("{base}/p{n}.t0"));
                    self.threads.insert(*child, t);
                } else {
                    let t = self.role(format!("{base}.t{}", n + 1));
                    self.threads.insert(*child, t);
                }
                self.last = None;
            }
            // Scheduling and real-time effects are not behaviour.
            EventKind::Block { .. }
            | EventKind::Switch
            | EventKind::Preempted
            | EventKind::Spin { .. }
            | EventKind::ClockJump => {}
        }
    }

    /// The signature, given how the run ended (`outcome`: a canonical text of the end
    /// and each process's status).
    pub fn finish(&self, outcome: &str) -> Signature {
        let mut h = blake3::Hasher::new();
        let mut features = BTreeSet::new();
        let feature = |features: &mut BTreeSet<u64>, parts: &[&[u8]]| {
            let mut v = Vec::new();
            for p in parts {
                v.extend_from_slice(p);
                v.push(0xff);
            }
            features.insert(fnv(&v));
        };
        // Roles in name order, so the form does not depend on the order of first sight.
        let mut by_name: Vec<(&str, usize)> = self
            .seqs
            .keys()
            .map(|&r| (self.roles[r].as_str(), r))
            .collect();
        by_name.sort();
        for (name, r) in &by_name {
            h.update(name.as_bytes());
            h.update(&[0]);
            let items: Vec<(Item, u8)> =
                self.seqs[r].iter().map(|&(i, n)| (i, bucket(n))).collect();
            let encoded: Vec<[u8; 10]> = items.iter().map(|&(i, b)| i.bytes(b)).collect();
            for item in &encoded {
                h.update(item);
            }
            h.update(&[1]);
            let role = name.as_bytes();
            let base = fnv(role);
            for k in 1..=3usize {
                for w in encoded.windows(k) {
                    let x = crate::rng::fnv1a(base ^ k as u64, w.iter().flatten().copied());
                    features.insert(x);
                }
            }
            for (item, _) in &items {
                if let Item::Call(nr, class) = item {
                    if *class != 0 {
                        feature(
                            &mut features,
                            &[b"e", role, &nr.to_le_bytes(), &class.to_le_bytes()],
                        );
                    }
                }
            }
        }
        let mut reads: Vec<(&str, &Vec<(usize, u32)>)> = self
            .reads
            .iter()
            .map(|(&r, v)| (self.roles[r].as_str(), v))
            .collect();
        reads.sort();
        for (r, v) in reads {
            h.update(format!("reads {r}:").as_bytes());
            for &(f, k) in v {
                h.update(format!("{}#{k},", self.roles[f]).as_bytes());
            }
        }
        for (&recv, senders) in &self.order {
            for w in senders.windows(2) {
                let (a, b) = (self.roles[w[0]].as_bytes(), self.roles[w[1]].as_bytes());
                feature(&mut features, &[b"m", self.roles[recv].as_bytes(), a, b]);
            }
        }
        h.update(b"outcome ");
        h.update(outcome.as_bytes());
        for i in 0..8u8 {
            feature(&mut features, &[b"o", outcome.as_bytes(), &[i]]);
        }
        let class = h.finalize().to_hex().to_string();
        // A bottom-k sketch: the smallest hashes estimate Jaccard similarity without
        // bias, and keep a long run's signature small.
        Signature {
            class,
            features: features.into_iter().take(SKETCH).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::VTime;

    fn call(pid: i32, tid: i32, nr: u32, ret: i64) -> Event {
        Event {
            time: VTime(0),
            node: 0,
            pid,
            tid,
            kind: EventKind::Syscall {
                nr,
                args: [0; 6],
                ret: Some(ret),
                fault: false,
                msgs: None,
                capture: None,
            },
        }
    }

    fn spawn(pid: i32, tid: i32, child: i32) -> Event {
        Event {
            time: VTime(0),
            node: 0,
            pid,
            tid,
            kind: EventKind::Spawn {
                child,
                process: false,
            },
        }
    }

    fn sign(events: &[Event]) -> Signature {
        let mut s = Signer::new();
        s.started(2, 0);
        for e in events {
            s.event(e);
        }
        s.finish("ok")
    }

    #[test]
    fn interleaving_of_independent_threads_does_not_change_the_class() {
        // Two threads, each doing its own calls; only the interleaving differs.
        let a = [
            spawn(2, 2, 3),
            spawn(2, 2, 4),
            call(2, 3, 0, 1),
            call(2, 4, 1, 1),
            call(2, 3, 0, 1),
            call(2, 4, 39, 2),
        ];
        let b = [
            spawn(2, 2, 3),
            spawn(2, 2, 4),
            call(2, 4, 1, 1),
            call(2, 3, 0, 1),
            call(2, 4, 39, 2),
            call(2, 3, 0, 1),
        ];
        assert_eq!(sign(&a), sign(&b));
        // A thread that did something else is another class.
        let c = [
            spawn(2, 2, 3),
            spawn(2, 2, 4),
            call(2, 3, 0, -11),
            call(2, 4, 1, 1),
            call(2, 3, 0, 1),
            call(2, 4, 39, 2),
        ];
        assert_ne!(sign(&a).class, sign(&c).class);
    }

    #[test]
    fn polling_loops_are_bucketed() {
        let spin = |n: usize| {
            let mut v = vec![call(2, 2, 232, 0); n];
            v.push(call(2, 2, 0, 5));
            v
        };
        assert_eq!(sign(&spin(40)), sign(&spin(100)), "both 32–127");
        assert_ne!(sign(&spin(5)).class, sign(&spin(40)).class);
    }
}
