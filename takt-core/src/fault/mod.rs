//! Syscall fault injection, sans I/O: the rates a test sets ([`FaultPlan`]), the seeded
//! draw that decides each call ([`Injector`]) and, in `table.rs`, the faults Linux
//! documents per syscall ([`faults_for`], [`applies`]).
//!
//! At a syscall's entry stop the engine describes the call ([`Call`]: number, arguments,
//! and what it knows of the descriptor and the signal handlers) and asks
//! [`Injector::decide_call`]. On `Some(Fault::Errno(e))` it skips the call and returns
//! `-e` (for `close`, see [`error_keeps_effect`]); on `Some(Fault::Short)` it shrinks the
//! transfer to [`Injector::keep`] units and lets the call run.
//!
//! Rates apply to calls the program makes, through its own random stream: a call whose
//! rate is 0 draws nothing, so setting a rate for one syscall does not move the faults
//! drawn for another, and no other subsystem's stream moves at all.

mod table;

pub use table::{
    applies, documented_in, error_keeps_effect, faults_for, injectable, Call, Signals, Target,
};

use crate::errno::Errno;
use rand::Rng;
use rand_pcg::Pcg64Mcg;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use syscalls::Sysno;

/// What an injected fault does to one syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// The call fails with this errno (and does nothing; `close` excepted, see
    /// [`error_keeps_effect`]).
    Errno(Errno),
    /// The call transfers fewer units than asked: the engine shrinks the count (bytes, or
    /// messages for `sendmmsg`/`recvmmsg`) to [`Injector::keep`] of it, at least 1. Only
    /// in the table for calls where Linux allows short transfers (reads, writes, sends,
    /// receives, `getrandom`), and [`applies`] only where the descriptor allows them
    /// (not on a datagram socket, an eventfd…).
    Short,
}

impl fmt::Display for Fault {
    /// The errno's name (`"ECONNABORTED"`) or `"short"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Errno(e) => f.write_str(errno_name(*e)),
            Fault::Short => f.write_str("short"),
        }
    }
}

/// An errno's name, including the one the table uses that `Errno::name` does not know.
fn errno_name(e: Errno) -> &'static str {
    match e.name() {
        "E?" if e.0 == libc::ENOLCK => "ENOLCK",
        name => name,
    }
}

/// Rates of injection: a global rate for every syscall takt can fault, and per-syscall
/// rates that override it.
///
/// A rate is the probability that one call of the syscall fails, among the calls for which
/// at least one of its table's faults [`applies`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultPlan {
    global: f64,
    per: BTreeMap<u32, f64>,
}

impl FaultPlan {
    /// No faults anywhere.
    pub fn new() -> FaultPlan {
        FaultPlan::default()
    }

    /// Sets the global rate, for every syscall in the table without a rate of its own.
    ///
    /// Errors: a rate that is NaN or outside `0..=1` ([`FaultError::Rate`]).
    pub fn set_global(&mut self, rate: f64) -> Result<(), FaultError> {
        self.global = check_rate("syscall fault rate", rate)?;
        Ok(())
    }

    /// Sets the rate for one syscall by its x86-64 name (`"accept"`, `"accept4"`,
    /// `"read"`…), overriding the global rate (0 exempts it).
    ///
    /// The name is the syscall's, not the libc function's: glibc implements `open()` with
    /// `openat`, `nanosleep()` with `clock_nanosleep`, `pipe()` with `pipe2`, `fork()`
    /// with `clone`, `waitpid()` with `wait4`, `send()`/`recv()` with `sendto`/`recvfrom`
    /// (`strace` shows which one a program issues).
    ///
    /// Errors: a bad rate ([`FaultError::Rate`]); a name that is no x86-64 syscall
    /// ([`FaultError::UnknownSyscall`], with the closest names); a syscall takt never
    /// faults ([`FaultError::NotInjectable`], saying why).
    pub fn set(&mut self, name: &str, rate: f64) -> Result<(), FaultError> {
        let nr = injectable_nr(name)?;
        let rate = check_rate(&format!("fault rate for {name}"), rate)?;
        self.per.insert(nr, rate);
        Ok(())
    }

    /// The rate for syscall `nr`: its own if set, else the global rate if takt can fault
    /// it, else 0.
    pub fn rate(&self, nr: u32) -> f64 {
        match self.per.get(&nr) {
            Some(&r) => r,
            None if faults_for(nr).is_some() => self.global,
            None => 0.0,
        }
    }

    /// The global rate.
    pub fn global(&self) -> f64 {
        self.global
    }

    /// The per-syscall rates, by syscall number.
    pub fn overrides(&self) -> impl Iterator<Item = (u32, f64)> + '_ {
        self.per.iter().map(|(&nr, &r)| (nr, r))
    }

    /// No rate above 0 anywhere: the engine can skip fault injection entirely.
    pub fn is_empty(&self) -> bool {
        self.global <= 0.0 && self.per.values().all(|&r| r <= 0.0)
    }
}

fn check_rate(what: &str, rate: f64) -> Result<f64, FaultError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(rate + 0.0) // -0.0 becomes 0.0
    } else {
        Err(FaultError::Rate {
            what: what.to_string(),
            value: rate,
        })
    }
}

/// The number of the syscall named `name`, if takt can fault it.
fn injectable_nr(name: &str) -> Result<u32, FaultError> {
    let Ok(sys) = Sysno::from_str(name) else {
        return Err(FaultError::UnknownSyscall {
            name: name.to_string(),
            suggestions: suggestions(name),
        });
    };
    let nr = sys.id() as u32;
    match faults_for(nr) {
        Some(_) => Ok(nr),
        None => Err(FaultError::NotInjectable {
            name: name.to_string(),
        }),
    }
}

/// Every x86-64 syscall.
fn all_syscalls() -> impl Iterator<Item = Sysno> {
    (0..=Sysno::last().id() as usize).filter_map(Sysno::new)
}

/// At most 3 syscall names close to `name`: within edit distance 2, or starting with it;
/// nearest first, then those takt can fault, then by name.
fn suggestions(name: &str) -> Vec<String> {
    let want = name.to_ascii_lowercase();
    let mut close: Vec<(usize, bool, &'static str)> = all_syscalls()
        .filter_map(|s| {
            let candidate = s.name();
            let d = edit_distance(&want, candidate);
            let prefix = want.len() >= 2 && candidate.starts_with(want.as_str());
            (d <= 2 || prefix).then(|| (d, faults_for(s.id() as u32).is_none(), candidate))
        })
        .collect();
    close.sort_unstable();
    close.into_iter().take(3).map(|c| c.2.to_string()).collect()
}

/// Levenshtein distance, by bytes (syscall names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(x != y);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A fault plan that cannot be built.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultError {
    /// A rate that is not a number between 0 and 1.
    Rate {
        /// Which rate (`"syscall fault rate"`, `"fault rate for accept"`).
        what: String,
        /// The value given.
        value: f64,
    },
    /// A name that is not an x86-64 syscall.
    UnknownSyscall {
        /// The name given.
        name: String,
        /// Up to 3 syscall names close to it, nearest first.
        suggestions: Vec<String>,
    },
    /// A syscall takt never faults (its message says why).
    NotInjectable {
        /// The name given.
        name: String,
    },
}

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultError::Rate { what, value } => {
                write!(f, "{what} must be a number between 0 and 1, got {value}")
            }
            FaultError::UnknownSyscall { name, suggestions } if suggestions.is_empty() => {
                write!(f, "unknown syscall {name:?} (not an x86-64 syscall name)")
            }
            FaultError::UnknownSyscall { name, suggestions } => write!(
                f,
                "unknown syscall {name:?}: did you mean {}?",
                suggestions.join(", ")
            ),
            FaultError::NotInjectable { name } => {
                let why = Sysno::from_str(name).map_or("takt has no fault table for it", |s| {
                    table::not_injectable_reason(s.id() as u32)
                });
                write!(f, "syscall {name:?} cannot be faulted: {why}")
            }
        }
    }
}

impl std::error::Error for FaultError {}

/// Decides, call by call, which faults to inject, drawing from its own seeded stream.
#[derive(Clone, Debug)]
pub struct Injector {
    plan: FaultPlan,
    rng: Pcg64Mcg,
    counts: BTreeMap<(String, String), u64>,
}

impl Injector {
    /// An injector for `plan`, drawing from `rng` (the run's `"faults"` stream).
    pub fn new(plan: FaultPlan, rng: Pcg64Mcg) -> Injector {
        Injector {
            plan,
            rng,
            counts: BTreeMap::new(),
        }
    }

    /// The plan it follows.
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Decides for one call of syscall `nr`, knowing nothing else about it: any fault of
    /// its table may be picked. The engine wants [`Injector::decide_call`].
    pub fn decide(&mut self, nr: u32) -> Option<Fault> {
        self.pick(nr, |_| true)
    }

    /// Decides for one call: `None` (run it as usual) or the fault to inject, picked
    /// among the faults of its table that [`applies`] to it.
    ///
    /// Draws exactly one uniform number `u` for each call to a syscall with a rate above
    /// 0, and nothing otherwise; the call faults when `u < rate` (so a rate of 1 faults
    /// every call a fault applies to), and `u / rate`, uniform again, picks the fault. The
    /// stream's position thus depends only on the calls and the rates, never on the facts
    /// in `call`.
    pub fn decide_call(&mut self, call: &Call) -> Option<Fault> {
        self.pick(call.nr, |f| applies(call, f))
    }

    fn pick(&mut self, nr: u32, ok: impl Fn(Fault) -> bool) -> Option<Fault> {
        let rate = self.plan.rate(nr);
        if rate <= 0.0 {
            return None;
        }
        let (faults, name) = (faults_for(nr)?, table::name(nr)?);
        let u: f64 = self.rng.random();
        if u >= rate {
            return None;
        }
        let n = faults.iter().filter(|&&f| ok(f)).count();
        if n == 0 {
            return None;
        }
        let i = ((u / rate * n as f64) as usize).min(n - 1);
        let fault = faults.iter().copied().filter(|&f| ok(f)).nth(i)?;
        *self
            .counts
            .entry((name.to_string(), fault.to_string()))
            .or_insert(0) += 1;
        Some(fault)
    }

    /// For a [`Fault::Short`] on a transfer of `len` units: how many to keep, uniform in
    /// `1..len` (fewer than asked, at least one). `len` below 2 cannot be shortened and is
    /// returned as is ([`applies`] rules out such calls where it can see the count).
    /// Draws one number, from the same stream, only when `len >= 2`.
    pub fn keep(&mut self, len: usize) -> usize {
        if len < 2 {
            len
        } else {
            self.rng.random_range(1..len)
        }
    }

    /// Counts a fault decided elsewhere (a replayed tape) as injected.
    pub fn count(&mut self, nr: u32, fault: Fault) {
        if let Some(name) = table::name(nr) {
            *self
                .counts
                .entry((name.to_string(), fault.to_string()))
                .or_insert(0) += 1;
        }
    }

    /// Draws from another stream from now on (a branch of the run).
    pub fn reseed(&mut self, rng: Pcg64Mcg) {
        self.rng = rng;
    }

    /// Takes back a decided fault that could not be applied to the call (a short
    /// transfer on a kernel fd, say), so the counts say only what was injected.
    pub fn retract(&mut self, nr: u32, fault: Fault) {
        let Some(name) = table::name(nr) else { return };
        let key = (name.to_string(), fault.to_string());
        if let Some(n) = self.counts.get_mut(&key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.counts.remove(&key);
            }
        }
    }

    /// How many faults were injected, per (syscall name, fault): e.g.
    /// `("accept", "ECONNABORTED")` or `("read", "short")`.
    pub fn counts(&self) -> &BTreeMap<(String, String), u64> {
        &self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn nr(n: i64) -> u32 {
        n as u32
    }

    fn rng(seed: u64) -> Pcg64Mcg {
        Pcg64Mcg::seed_from_u64(seed)
    }

    #[test]
    fn rates_are_validated() {
        let mut p = FaultPlan::new();
        for bad in [f64::NAN, -0.1, 1.5, f64::INFINITY] {
            let err = p.set_global(bad).unwrap_err();
            assert!(matches!(err, FaultError::Rate { .. }));
            assert!(p.set("read", bad).is_err());
        }
        assert_eq!(
            p.set_global(f64::NAN).unwrap_err().to_string(),
            "syscall fault rate must be a number between 0 and 1, got NaN"
        );
        assert_eq!(
            p.set("accept", 1.5).unwrap_err().to_string(),
            "fault rate for accept must be a number between 0 and 1, got 1.5"
        );
        assert!(p.is_empty());
        p.set_global(0.0).unwrap();
        p.set("read", 0.0).unwrap();
        assert!(p.is_empty());
        p.set_global(1.0).unwrap();
        assert!(!p.is_empty());
        p.set_global(-0.0).unwrap();
        assert!(p.is_empty());
        assert_eq!(p.global().to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn per_syscall_rates_override_the_global_one() {
        let mut p = FaultPlan::new();
        p.set_global(0.25).unwrap();
        p.set("accept", 0.5).unwrap();
        p.set("read", 0.0).unwrap();
        assert_eq!(p.rate(nr(libc::SYS_accept)), 0.5);
        assert_eq!(p.rate(nr(libc::SYS_accept4)), 0.25);
        assert_eq!(p.rate(nr(libc::SYS_read)), 0.0);
        assert_eq!(p.rate(nr(libc::SYS_write)), 0.25);
        // Not injectable: 0 whatever the global rate.
        for n in [
            libc::SYS_mmap,
            libc::SYS_futex,
            libc::SYS_exit_group,
            libc::SYS_getpid,
        ] {
            assert_eq!(p.rate(nr(n)), 0.0);
        }
        assert_eq!(p.rate(100_000), 0.0);
        assert_eq!(
            p.overrides().collect::<Vec<_>>(),
            vec![(nr(libc::SYS_read), 0.0), (nr(libc::SYS_accept), 0.5)]
        );
        assert!(!p.is_empty());
    }

    #[test]
    fn unknown_names_get_suggestions() {
        let mut p = FaultPlan::new();
        let err = p.set("acept", 0.1).unwrap_err();
        let FaultError::UnknownSyscall { suggestions, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(suggestions[..2], ["accept", "accept4"]);
        assert!(suggestions.len() <= 3);
        assert!(err
            .to_string()
            .starts_with("unknown syscall \"acept\": did you mean accept, accept4"));
        for (typo, want) in [
            ("reed", "read"),
            ("epol_wait", "epoll_wait"),
            ("READ", "read"),
        ] {
            match p.set(typo, 0.1) {
                Err(FaultError::UnknownSyscall { suggestions, .. }) => {
                    assert_eq!(
                        suggestions.first().map(String::as_str),
                        Some(want),
                        "{typo}"
                    )
                }
                other => panic!("{typo}: {other:?}"),
            }
        }
        // Prefixes: "epoll_c" is 5 edits from epoll_create, but starts it.
        let Err(FaultError::UnknownSyscall { suggestions, .. }) = p.set("epoll_c", 0.1) else {
            panic!()
        };
        assert_eq!(suggestions, ["epoll_ctl", "epoll_create", "epoll_create1"]);
        let err = p.set("zzzzzzzzzzzz", 0.1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown syscall \"zzzzzzzzzzzz\" (not an x86-64 syscall name)"
        );
        assert!(p.is_empty());
    }

    #[test]
    fn known_but_not_injectable_names_say_why() {
        let mut p = FaultPlan::new();
        let err = p.set("mmap", 0.1).unwrap_err();
        assert_eq!(
            err,
            FaultError::NotInjectable {
                name: "mmap".into()
            }
        );
        assert!(err.to_string().contains("run natively"), "{err}");
        assert!(p
            .set("futex", 0.1)
            .unwrap_err()
            .to_string()
            .contains("glibc"));
        assert!(p.set("exit_group", 0.1).is_err());
        assert!(p.set("accept4", 0.1).is_ok());
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("acept", "accept"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn rate_one_always_faults_from_the_table_and_rate_zero_never() {
        let mut p = FaultPlan::new();
        p.set_global(1.0).unwrap();
        let mut inj = Injector::new(p, rng(1));
        for (n, _) in injectable() {
            for _ in 0..50 {
                let f = inj.decide(n).expect("rate 1 faults");
                assert!(faults_for(n).unwrap().contains(&f));
            }
        }
        // A non-injectable call never faults and never counts.
        assert_eq!(inj.decide(nr(libc::SYS_futex)), None);
        let accept = inj.counts().iter().filter(|(k, _)| k.0 == "accept");
        assert_eq!(accept.map(|(_, v)| v).sum::<u64>(), 50);

        let mut never = Injector::new(FaultPlan::new(), rng(1));
        for (n, _) in injectable() {
            for _ in 0..50 {
                assert_eq!(never.decide(n), None);
            }
        }
        assert!(never.counts().is_empty());
    }

    #[test]
    fn rate_one_picks_every_fault_and_only_applicable_ones() {
        let mut p = FaultPlan::new();
        p.set("accept", 1.0).unwrap();
        p.set("read", 1.0).unwrap();
        let mut inj = Injector::new(p, rng(3));
        for _ in 0..2000 {
            inj.decide(nr(libc::SYS_accept));
        }
        let seen = inj.counts().keys().filter(|k| k.0 == "accept").count();
        assert_eq!(seen, faults_for(nr(libc::SYS_accept)).unwrap().len());
        // A read on a regular file with handlers that restart: EIO or short, never EINTR.
        let call = Call {
            target: Target::File,
            signals: Signals::Restarting,
            ..Call::new(nr(libc::SYS_read), [3, 0, 4096, 0, 0, 0])
        };
        for _ in 0..200 {
            let f = inj.decide_call(&call).expect("rate 1");
            assert!(f == Fault::Errno(Errno::EIO) || f == Fault::Short, "{f}");
        }
        // Nothing applies: no fault, but the draw still happened.
        let sleep = Call {
            signals: Signals::NoHandler,
            ..Call::new(nr(libc::SYS_nanosleep), [0; 6])
        };
        let mut a = Injector::new(
            {
                let mut p = FaultPlan::new();
                p.set_global(1.0).unwrap();
                p
            },
            rng(9),
        );
        let mut b = a.clone();
        assert_eq!(a.decide_call(&sleep), None);
        assert!(b.decide(nr(libc::SYS_nanosleep)).is_some());
        assert_eq!(a.decide(nr(libc::SYS_read)), b.decide(nr(libc::SYS_read)));
    }

    #[test]
    fn same_seed_same_decisions() {
        let mut p = FaultPlan::new();
        p.set_global(0.3).unwrap();
        let calls: Vec<u32> = injectable().map(|(n, _)| n).cycle().take(5000).collect();
        let run = |seed| {
            let mut inj = Injector::new(p.clone(), rng(seed));
            let d: Vec<_> = calls.iter().map(|&n| inj.decide(n)).collect();
            (d, inj.counts().clone())
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7).0, run(8).0);
    }

    #[test]
    fn frequency_follows_the_rate() {
        let mut p = FaultPlan::new();
        p.set("read", 0.1).unwrap();
        let mut inj = Injector::new(p, rng(42));
        let n = 100_000;
        let hits = (0..n)
            .filter(|_| inj.decide(nr(libc::SYS_read)).is_some())
            .count();
        // Binomial(100000, 0.1): sd ≈ 95; allow 5 sd.
        assert!((9_525..=10_475).contains(&hits), "{hits}");
        // Faults spread evenly over read's three.
        for f in ["EINTR", "EIO", "short"] {
            let c = inj.counts()[&("read".to_string(), f.to_string())];
            assert!((3_000..=3_700).contains(&c), "{f}: {c}");
        }
    }

    #[test]
    fn calls_without_a_rate_draw_nothing() {
        let mut p = FaultPlan::new();
        p.set("accept", 0.3).unwrap();
        p.set("read", 0.0).unwrap();
        let alone = {
            let mut inj = Injector::new(p.clone(), rng(5));
            (0..1000)
                .map(|_| inj.decide(nr(libc::SYS_accept)))
                .collect::<Vec<_>>()
        };
        let mixed = {
            let mut inj = Injector::new(p.clone(), rng(5));
            let mut out = Vec::new();
            for i in 0..1000 {
                // Unrated (explicit 0), untabled and never-injectable calls in between.
                for _ in 0..i % 4 {
                    assert_eq!(inj.decide(nr(libc::SYS_read)), None);
                    assert_eq!(inj.decide(nr(libc::SYS_write)), None);
                    assert_eq!(inj.decide(nr(libc::SYS_futex)), None);
                    assert_eq!(
                        inj.decide_call(&Call::new(nr(libc::SYS_mmap), [0; 6])),
                        None
                    );
                }
                out.push(inj.decide(nr(libc::SYS_accept)));
            }
            out
        };
        assert_eq!(alone, mixed);
        assert!(alone.iter().any(Option::is_some));
    }

    #[test]
    fn keep_is_shorter_but_not_empty() {
        let mut inj = Injector::new(FaultPlan::new(), rng(2));
        assert_eq!(inj.keep(0), 0);
        assert_eq!(inj.keep(1), 1);
        for _ in 0..1000 {
            assert_eq!(inj.keep(2), 1);
            let k = inj.keep(100);
            assert!((1..100).contains(&k));
        }
    }

    #[test]
    fn fault_names() {
        assert_eq!(
            Fault::Errno(Errno::ECONNABORTED).to_string(),
            "ECONNABORTED"
        );
        assert_eq!(Fault::Short.to_string(), "short");
        assert_eq!(Fault::Errno(Errno(libc::ENOLCK)).to_string(), "ENOLCK");
    }
}
