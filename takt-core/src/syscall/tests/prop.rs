//! Property tests: for every typed syscall and any registers, decode then encode is the
//! identity on the registers the call takes; unknown numbers decode to `Other`; capture
//! and rendering never panic, whatever the registers, the return value, the memory or the
//! captured bytes.

use super::*;
use crate::syscall::capture::{Captured, Piece, Slot};
use crate::trace::args::used_args;
use proptest::prelude::*;

/// Registers that are often interesting: small numbers, `-1`, addresses into the test
/// memory, and anything at all.
fn reg() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..64,
        Just(u64::MAX),
        Just(0xffff_ff9c),
        (0u64..0x3000).prop_map(|o| A + o),
        any::<u32>().prop_map(u64::from),
    ]
}

fn regs6() -> impl Strategy<Value = [u64; 6]> {
    [reg(), reg(), reg(), reg(), reg(), reg()]
}

/// A capture with arbitrary pieces: any slot, any bytes (invalid UTF-8, short structs).
#[derive(Debug)]
struct Arbitrary(Vec<(Slot, Vec<u8>, bool)>);

impl Captured for Arbitrary {
    fn piece(&self, slot: Slot) -> Option<Piece<'_>> {
        self.0
            .iter()
            .find(|(s, _, _)| *s == slot)
            .map(|(_, b, t)| Piece {
                bytes: b,
                truncated: *t,
            })
    }
}

fn arbitrary_capture() -> impl Strategy<Value = Arbitrary> {
    let slot = (0u8..6, prop_oneof![Just(0u8), 1u8..20, Just(255u8)])
        .prop_map(|(arg, part)| Slot { arg, part });
    let bytes = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec(any::<u8>(), 0..20),
        // Whole structures of the sizes the renderers expect.
        prop_oneof![
            Just(4usize),
            Just(8),
            Just(12),
            Just(16),
            Just(32),
            Just(56),
            Just(130)
        ]
        .prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n)),
    ];
    proptest::collection::vec((slot, bytes, any::<bool>()), 0..12).prop_map(Arbitrary)
}

fn ret() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![
        Just(None),
        any::<i64>().prop_map(Some),
        (-4200i64..600).prop_map(Some),
    ]
}

/// Any number: typed, near the table, or anything.
fn nr() -> impl Strategy<Value = u32> {
    prop_oneof![
        proptest::sample::select(Syscall::TYPED),
        0u32..600,
        any::<u32>(),
    ]
}

proptest! {
    #[test]
    fn decode_then_encode_is_the_identity_for_every_typed_call(a in regs6()) {
        for &nr in Syscall::TYPED {
            let call = Syscall::decode(nr, a);
            prop_assert!(call.is_typed());
            prop_assert_eq!(call.encode(), (nr, used_args(nr, a)));
            // Decoding what was encoded gives the same call, and the same bytes.
            let again = Syscall::decode(nr, call.encode().1);
            prop_assert_eq!(again, call);
            let bytes = bincode::serialize(&call).unwrap();
            prop_assert_eq!(&bytes, &bincode::serialize(&again).unwrap());
            prop_assert_eq!(bincode::deserialize::<Syscall>(&bytes).unwrap(), call);
        }
    }

    #[test]
    fn unknown_numbers_decode_to_other(nr in any::<u32>(), a in regs6()) {
        prop_assume!(!Syscall::TYPED.contains(&nr));
        let call = Syscall::decode(nr, a);
        prop_assert_eq!(call, Syscall::Other { nr, args: a });
        prop_assert_eq!(call.encode(), (nr, a));
        prop_assert_eq!(call.fds().count(), 0);
        prop_assert!(call.transfer().is_none());
    }

    #[test]
    fn rendering_never_panics(nr in nr(), a in regs6(), ret in ret(), cap in arbitrary_capture()) {
        let call = Syscall::decode(nr, a);
        let line = call.render(ret, &cap);
        prop_assert!(line.starts_with(call.name()) || line.starts_with("syscall_"));
        prop_assert!(line.contains(") = "));
        let _ = call.render(ret, &());
        let _ = format!("{:?} {}", call, call.display(ret, &cap));
    }

    #[test]
    fn capture_never_panics_and_stays_bounded(
        nr in nr(),
        a in regs6(),
        ret in ret(),
        mem in proptest::collection::vec(any::<u8>(), 0..0x3000),
    ) {
        let mem = LocalMemory::new().with(A, mem);
        let call = Syscall::decode(nr, a);
        let mut cap = Capture::entry(&call, &mem);
        if let Some(r) = ret {
            cap.exit(&call, r, &mem);
        }
        let total: usize = cap.items().iter().map(|i| i.bytes.len()).sum();
        prop_assert!(cap.items().len() <= 40, "{} pieces", cap.items().len());
        prop_assert!(total <= 3 * crate::syscall::capture::PATH_CAP, "{total} bytes");
        let _ = call.render(ret, &cap);
        let bytes = bincode::serialize(&cap).unwrap();
        prop_assert_eq!(bincode::deserialize::<Capture>(&bytes).unwrap(), cap);
    }

    #[test]
    fn short_counts_never_grow(a in regs6(), n in any::<u64>()) {
        for &nr in Syscall::TYPED {
            let call = Syscall::decode(nr, a);
            if let Some(short) = call.with_count(n) {
                let (before, after) = (call.transfer().unwrap(), short.transfer().unwrap());
                prop_assert!(after.requested() <= before.requested());
                prop_assert_eq!(after.dir, before.dir);
                prop_assert_eq!(after.fd, before.fd);
            }
        }
    }
}
