//! The fuzz target's invariants as a property test, so CI checks them without nightly
//! features: random bytes become a graph of random ops (`fuzz/graph_from_bytes.rs`, shared
//! with `fuzz/fuzz_targets/graph.rs`), which must never panic outside documented misuse,
//! must replay, double, record and flag anomalies consistently, and in the tame domain must
//! match central finite differences.
//!
//! The long run is `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run graph -s none`.

#[path = "../fuzz/graph_from_bytes.rs"]
mod graph_from_bytes;

use graph_from_bytes::{check, Instr, Mode, Program};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any bytes at all: wild edge-point values half the time, tame values the other half.
    #[test]
    fn any_bytes_keep_the_invariants(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
        check(&bytes, true);
    }

    /// Tame programs only, longer: the finite-difference comparison on deep compositions.
    #[test]
    fn tame_programs_match_finite_differences(
        mut bytes in proptest::collection::vec(any::<u8>(), 2..320),
    ) {
        bytes[0] |= 1;
        prop_assume!(Program::from_bytes(&bytes).mode == Mode::Tame);
        check(&bytes, true);
    }
}

/// The byte format reads the way the module documents it.
#[test]
fn bytes_parse_as_documented() {
    // mode 1 = tame, 1 + 1 leaves at bytes 0 and 255 (→ −2 and 2), then `Mul(0, 1)`
    // (opcode 3) and `Tanh(2)` (opcode 11).
    let p = Program::from_bytes(&[1, 1, 0, 255, 3, 0, 1, 11, 2]);
    assert_eq!(p.mode, Mode::Tame);
    assert_eq!(p.leaves, vec![-2.0, 2.0]);
    assert_eq!(p.instrs, vec![Instr::Mul(0, 1), Instr::Tanh(2)]);
    // wild values come from the edge-point table: 22 = +inf, 24 = NaN
    let p = Program::from_bytes(&[0, 1, 22, 24]);
    assert_eq!(p.mode, Mode::Wild);
    assert_eq!(p.leaves[0], f64::INFINITY);
    assert!(p.leaves[1].is_nan());
    assert!(p.instrs.is_empty());
}

/// Inputs that once broke an invariant (or exercise a corner on purpose), kept for ever.
#[test]
fn regressions() {
    let cases: &[&[u8]] = &[
        // a `sum` of one term returns its input's handle: a rewind must not count it as freed
        &[
            74, 1, 6, 61, 197, 0, 61, 185, 63, 1, 3, 37, 4, 74, 44, 0, 46, 41, 36,
        ],
        // wild: x = 1e-300, two products x·MAX (opcode 3 with the constant f64::MAX = 19)
        // whose finite gradient shares overflow only when summed into x: anomaly mode must
        // flag it as check_finite does (a gap fixed in backward.rs)
        &[0, 0, 15, 0, 19, 3, 0, 1, 3, 0, 1],
        // tame `x²/2` forty times over at its unstable fixed point 2: the derivative grew as
        // 2⁴⁰ and finite differences could not follow; tame ops are now non-expanding
        &[
            1, 0, 0, 13, 63, 91, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139,
            139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139,
            139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139,
            139, 139, 139, 139, 139, 139, 165, 0, 0, 37, 0, 139, 139, 139, 139, 139, 139, 139, 139,
            139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139, 139,
            139, 139, 8, 37, 0, 4, 39, 0, 4, 39, 139, 139, 0, 4, 8, 8, 8, 8, 8, 9, 8, 8, 91,
        ],
        // every opcode once, tame
        &[
            1, 3, 10, 200, 90, 160, 0, 30, 1, 0, 1, 2, 1, 2, 3, 2, 3, 4, 0, 1, 5, 2, 6, 1, 4, 7, 2,
            3, 8, 4, 9, 5, 10, 6, 11, 7, 12, 8, 13, 9, 14, 1, 77, 15, 99, 2, 16, 3, 1, 2, 3, 4, 17,
            2, 1, 2, 3, 4, 5, 6, 18, 1, 2, 4, 5, 6, 7, 19, 1, 2, 20, 1, 2,
        ],
    ];
    for bytes in cases {
        check(bytes, true);
    }
}

/// The tame wrappers keep values in [−2, 2] however deep the program: the premise of the
/// finite-difference check.
#[test]
fn tame_values_stay_bounded_on_a_long_program() {
    let mut bytes = vec![1, 3, 0, 255, 7, 250];
    for i in 0..200u32 {
        bytes.extend([
            (i % 19) as u8,
            (i * 7 % 256) as u8,
            (i * 13 % 256) as u8,
            5,
            6,
            7,
        ]);
    }
    let p = Program::from_bytes(&bytes);
    assert_eq!(p.instrs.len(), graph_from_bytes::MAX_INSTRUCTIONS);
    let g = scalargrad::Graph::new();
    let leaves: Vec<_> = p.leaves.iter().map(|&v| g.var(v)).collect();
    let (root, _) = graph_from_bytes::build(&g, &p, &leaves);
    assert!(root.value().abs() <= 2.0);
    check(&bytes, true);
}
