//! Host-side errors: what went wrong for the tracer or the user, never shown to a tracee.

use std::fmt;

/// An error of the engine or of its input. The tracee's errors are [`crate::errno::Errno`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The user's input is wrong (a malformed command line, a bad rate…); the message
    /// says what to do.
    BadInput(String),
    /// A program could not be started.
    Spawn {
        /// The program as given.
        program: String,
        /// Why, in words (includes the errno name where there is one).
        why: String,
    },
    /// A host system call the tracer made failed.
    Sys {
        /// The operation.
        op: &'static str,
        /// The raw errno.
        errno: i32,
    },
    /// A tracee thread vanished while the tracer held it stopped (killed by SIGKILL).
    TraceeGone {
        /// Its real tid.
        tid: i32,
    },
    /// The tracer panicked: a bug in takt. The run's processes were killed and reaped.
    Panic {
        /// The panic message.
        message: String,
        /// The seed of the run, to reproduce it.
        seed: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadInput(m) => f.write_str(m),
            Error::Spawn { program, why } => write!(f, "cannot start {program}: {why}"),
            Error::Sys { op, errno } => {
                write!(f, "{op} failed: {}", crate::errno::Errno(*errno))
            }
            Error::TraceeGone { tid } => write!(f, "traced thread {tid} vanished"),
            Error::Panic { message, seed } => write!(
                f,
                "the tracer panicked (a bug in takt) in the run of seed {seed}: {message}"
            ),
        }
    }
}

impl std::error::Error for Error {}
