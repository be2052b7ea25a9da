//! A parked thread: why it waits, until when, and what a signal or its deadline does
//! to the call it is in.

use crate::fd::Obj;
use crate::sys;
use crate::time::VTime;

/// Why and how long a thread is parked.
#[derive(Debug, Clone)]
pub struct Blocked {
    /// Objects whose change makes the handler run again.
    pub objs: Vec<Obj>,
    /// A child's state change makes the handler run again (`wait4`).
    pub child: bool,
    /// When the call gives up.
    pub deadline: Option<VTime>,
    /// What it returns then.
    pub on_timeout: i64,
    /// Restart after a `SA_RESTART` handler (otherwise `EINTR`).
    pub restartable: bool,
    /// For deadlock reports.
    pub what: &'static str,
    /// Tracee memory written when the deadline passes (`select`'s emptied sets).
    pub timeout_writes: Vec<(u64, Vec<u8>)>,
    /// Where the time left until the deadline is written when a signal interrupts the
    /// call (`nanosleep`'s `rem`, `select`'s timeval).
    pub remaining: Option<Remaining>,
}

/// Where and how a blocked call reports the time it had left when a signal cut it short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remaining {
    /// A `struct timespec` at this address.
    Timespec(u64),
    /// A `struct timeval` at this address.
    Timeval(u64),
}

impl Remaining {
    /// The bytes of `ns` nanoseconds in this form.
    pub(crate) fn bytes(self, ns: u64) -> (u64, Vec<u8>) {
        let (sec, sub) = ((ns / 1_000_000_000) as i64, ns % 1_000_000_000);
        match self {
            Remaining::Timespec(a) => (
                a,
                sys::pod_bytes(&libc::timespec {
                    tv_sec: sec,
                    tv_nsec: sub as i64,
                })
                .to_vec(),
            ),
            Remaining::Timeval(a) => (
                a,
                sys::pod_bytes(&libc::timeval {
                    tv_sec: sec,
                    tv_usec: (sub / 1000) as i64,
                })
                .to_vec(),
            ),
        }
    }
}

impl Blocked {
    /// Parked on nothing in particular (only a deadline, a wake or a signal ends it).
    pub fn new(what: &'static str) -> Blocked {
        Blocked {
            objs: Vec::new(),
            child: false,
            deadline: None,
            on_timeout: 0,
            restartable: true,
            what,
            timeout_writes: Vec::new(),
            remaining: None,
        }
    }

    /// Waiting on objects.
    pub fn on(objs: Vec<Obj>, what: &'static str) -> Blocked {
        Blocked {
            objs,
            ..Blocked::new(what)
        }
    }

    /// With a deadline and the value returned when it passes.
    pub fn until(mut self, deadline: Option<VTime>, on_timeout: i64) -> Blocked {
        self.deadline = deadline;
        self.on_timeout = on_timeout;
        self
    }

    /// Not restarted after a signal handler (calls Linux never restarts: poll, sleeps…).
    pub fn no_restart(mut self) -> Blocked {
        self.restartable = false;
        self
    }

    /// Writes the time left at `r` when a signal interrupts the call.
    pub fn remaining(mut self, r: Remaining) -> Blocked {
        self.remaining = Some(r);
        self
    }
}
