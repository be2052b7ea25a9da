//! The shape every typed syscall shares, and the `calls!` macro that declares them.
//!
//! A call is a struct with one field per argument register, in register order, each of
//! an argument type (see [`super::arg`]). The macro derives decoding from and encoding to
//! registers, serde, and a visitor over the fields that rendering, capture and
//! [`super::Syscall::fds`] walk. A call whose strace form is not "every argument in
//! order" (`open`'s mode only with `O_CREAT`, `futex` by operation…) says `custom` and
//! implements [`Custom`] by hand.

use super::arg::Arg;
use super::capture::Capturer;
use super::render::{Render, RetStyle};

/// Something that walks a call's arguments (index, field name, typed value).
pub(crate) trait Visit {
    /// One argument.
    fn arg<A: Arg>(&mut self, i: usize, name: &'static str, a: A);
}

/// What the macro derives for each call.
pub(crate) trait Call: Copy {
    /// The x86-64 syscall number.
    const NR: u32;
    /// The syscall's name.
    const NAME: &'static str;
    /// How many argument registers it takes.
    const ARGS: usize;
    /// From the argument registers (those past [`Call::ARGS`] are ignored).
    fn from_regs(a: &[u64; 6]) -> Self;
    /// To the argument registers (those past [`Call::ARGS`] are zero).
    fn to_regs(&self) -> [u64; 6];
    /// Walks the arguments in order.
    fn visit<V: Visit>(&self, v: &mut V);
}

/// What a call may do differently from the default (print every argument, capture what
/// every argument's type needs, return a decimal).
pub(crate) trait Custom: Call {
    /// Appends the arguments, as strace prints them.
    fn render_args(&self, r: &mut Render<'_>) {
        self.visit(r);
    }
    /// Captures what rendering needs.
    fn capture(&self, c: &mut Capturer<'_>) {
        self.visit(c);
    }
    /// How the return value prints.
    fn ret_style(&self) -> RetStyle {
        RetStyle::Dec
    }
    /// Appends what strace prints after the return value (`poll`'s ready descriptors).
    fn ret_suffix(&self, _r: &mut Render<'_>) {}
}

/// Reads argument registers in order.
pub(crate) struct Regs<'a> {
    a: &'a [u64; 6],
    i: usize,
}

impl<'a> Regs<'a> {
    pub(crate) fn new(a: &'a [u64; 6]) -> Regs<'a> {
        Regs { a, i: 0 }
    }

    /// The next register, typed.
    pub(crate) fn take<T: Arg>(&mut self) -> T {
        let v = self.a.get(self.i).copied().unwrap_or(0);
        self.i += 1;
        T::from_reg(v)
    }
}

/// Declares typed calls: `Name = sysno(field: Type, ...) [custom];` where `sysno` is the
/// variant of [`syscalls::Sysno`] (the kernel's name) and the fields are the argument
/// registers in order.
macro_rules! calls {
    (@custom $name:ident) => {
        impl $crate::syscall::decl::Custom for $name {}
    };
    (@custom $name:ident custom) => {};
    ($(
        $(#[$doc:meta])*
        $name:ident = $sys:ident($($field:ident: $ty:ty),* $(,)?) $($custom:ident)?;
    )*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub struct $name {
            $(
                #[doc = concat!("`", stringify!($field), "`")]
                pub $field: $ty,
            )*
        }

        impl $name {
            /// The x86-64 syscall number.
            pub const NR: u32 = syscalls::Sysno::$sys as u32;
            /// The syscall's name.
            pub const NAME: &'static str = stringify!($sys);

            /// From the argument registers.
            pub fn decode(args: [u64; 6]) -> $name {
                <$name as $crate::syscall::decl::Call>::from_regs(&args)
            }

            /// To the argument registers (those the call does not take are zero).
            pub fn encode(&self) -> [u64; 6] {
                <$name as $crate::syscall::decl::Call>::to_regs(self)
            }
        }

        impl $crate::syscall::decl::Call for $name {
            const NR: u32 = syscalls::Sysno::$sys as u32;
            const NAME: &'static str = stringify!($sys);
            const ARGS: usize = <[&str]>::len(&[$(stringify!($field)),*]);

            #[allow(unused_variables, unused_mut)]
            fn from_regs(a: &[u64; 6]) -> Self {
                let mut r = $crate::syscall::decl::Regs::new(a);
                $name { $($field: r.take(),)* }
            }

            fn to_regs(&self) -> [u64; 6] {
                let v: &[u64] = &[$($crate::syscall::arg::Arg::to_reg(self.$field)),*];
                let mut a = [0u64; 6];
                a[..v.len()].copy_from_slice(v);
                a
            }

            #[allow(unused_variables)]
            fn visit<V: $crate::syscall::decl::Visit>(&self, v: &mut V) {
                let mut _i = 0usize;
                $(
                    v.arg(_i, stringify!($field), self.$field);
                    _i += 1;
                )*
            }
        }

        impl From<$name> for $crate::syscall::Syscall {
            fn from(c: $name) -> Self {
                $crate::syscall::Syscall::$name(c)
            }
        }

        calls!(@custom $name $($custom)?);
    )*};
}
pub(crate) use calls;
