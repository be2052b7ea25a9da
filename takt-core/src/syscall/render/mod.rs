//! strace-style rendering of a typed call: `name(args) = ret`, with flags by name,
//! strings quoted and escaped as strace escapes them, structures from what was captured
//! at the stop, errors as `-1 EAGAIN (Resource temporarily unavailable)`.
//!
//! Rendering never panics, whatever the registers, the return value or the captured
//! bytes (short, invalid UTF-8, truncated structures): what cannot be decoded prints as an
//! address or as bytes. `structs` renders what pointers point to; [`errnos`] names
//! errors.

pub mod errnos;
pub(crate) mod structs;

use super::arg::Arg;
use super::capture::{Captured, Piece, Slot};
use super::decl::Visit;
use std::fmt::Write as _;

/// How a call's return value prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetStyle {
    /// Decimal (most calls).
    Dec,
    /// Hex: an address (`mmap`, `brk`) or flags (`fcntl(F_GETFL)`).
    Hex,
    /// Octal: a mode (`umask`).
    Octal,
}

/// A line being rendered: the output, what was captured, and the return value (`None`:
/// not known, the kernel ran the call unobserved).
pub(crate) struct Render<'a> {
    pub(crate) out: String,
    cap: &'a dyn Captured,
    pub(crate) ret: Option<i64>,
    first: bool,
}

impl Visit for Render<'_> {
    fn arg<A: Arg>(&mut self, i: usize, _name: &'static str, a: A) {
        Render::arg(self, i, a);
    }
}

impl<'a> Render<'a> {
    pub(crate) fn new(cap: &'a dyn Captured, ret: Option<i64>) -> Render<'a> {
        Render {
            out: String::with_capacity(64),
            cap,
            ret,
            first: true,
        }
    }

    /// The `, ` between arguments.
    pub(crate) fn sep(&mut self) {
        if !self.first {
            self.out.push_str(", ");
        }
        self.first = false;
    }

    /// Appends argument `i`.
    pub(crate) fn arg<A: Arg>(&mut self, i: usize, a: A) {
        self.sep();
        a.render(self, i);
    }

    /// Appends argument `i` as `name=value` (`clone`'s form).
    pub(crate) fn named<A: Arg>(&mut self, name: &str, i: usize, a: A) {
        self.sep();
        self.out.push_str(name);
        self.out.push('=');
        a.render(self, i);
    }

    /// Appends an argument given as text.
    pub(crate) fn text(&mut self, s: &str) {
        self.sep();
        self.out.push_str(s);
    }

    /// Appends text without a separator.
    pub(crate) fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    /// The piece captured in `slot`.
    pub(crate) fn piece(&self, slot: Slot) -> Option<Piece<'a>> {
        let cap: &'a dyn Captured = self.cap;
        cap.piece(slot)
    }

    /// The return value, if the call succeeded.
    pub(crate) fn ok(&self) -> Option<u64> {
        match self.ret {
            Some(r) if r >= 0 => Some(r as u64),
            _ => None,
        }
    }
}

/// Appends `bytes` as a C string literal, escaped as strace escapes it (`\n`, `\t`, `\"`,
/// octal `\0`, `\377`, or `\x..` for every byte when `hex`), then `...` when truncated.
pub(crate) fn write_quoted(out: &mut String, bytes: &[u8], truncated: bool, hex: bool) {
    out.push('"');
    for (i, &c) in bytes.iter().enumerate() {
        if hex {
            let _ = write!(out, "\\x{c:02x}");
            continue;
        }
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\x0c' => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\x0b' => out.push_str("\\v"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                // strace prints the shortest octal form, unless an octal digit follows.
                let next_is_octal = bytes.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                if next_is_octal {
                    let _ = write!(out, "\\{c:03o}");
                } else {
                    let _ = write!(out, "\\{c:o}");
                }
            }
        }
    }
    out.push('"');
    if truncated {
        out.push_str("...");
    }
}

/// Appends a return value: `?` when unknown, `-1 ENAME (message)` for an error, `? ERESTARTSYS
/// (…)` for the kernel's restart codes, else the value in `style`.
pub(crate) fn write_ret(out: &mut String, ret: Option<i64>, style: RetStyle) {
    let Some(r) = ret else {
        out.push('?');
        return;
    };
    if (-4095..0).contains(&r) {
        let e = (-r) as i32;
        let (name, msg) = errnos::describe(e);
        if errnos::is_restart(e) {
            let _ = write!(out, "? {name} ({msg})");
        } else {
            let _ = write!(out, "-1 {name} ({msg})");
        }
        return;
    }
    match style {
        RetStyle::Dec => {
            let _ = write!(out, "{r}");
        }
        RetStyle::Hex => {
            let _ = super::arg::write_hex(out, r as u64);
        }
        RetStyle::Octal => {
            let _ = super::flags::write_octal(out, r as u64);
        }
    }
}
