//! # Property-testing seed 002's hand-derived gradients
//!
//! Seed 002 derives one gradient formula per weight by hand for a 2-2-2 sigmoid network
//! (see `examples/seed002_wrong_gradients.rs`, which transcribes them). Here proptest draws
//! random networks, inputs and targets, and `testing::assert_hand_gradient` compares the
//! eight formulas with the engine at each; when they disagree, proptest shrinks the case.
//! The shrunk counterexample is as small as the bug allows: every weight 0, the inputs and
//! targets at the low ends of their ranges, and only the four first-layer formulas wrong:
//! with `w2 = 0` no gradient reaches the first layer, so the true gradient is 0, but the
//! seed's `loss2 = diff_loss2 + diff_sigmoid2 + diff_weight2` is not.
//!
//! Run: `cargo run --example proptest_seed002 --features proptest`.

#[allow(dead_code)]
#[path = "seed002_wrong_gradients.rs"]
pub mod seed;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRng, TestRunner};
use scalargrad::check::Agreement;
use scalargrad::testing::{assert_hand_gradient, finite, vectors};
use seed::{fixed_gradients, hand_gradients, loss, Point, NAMES};

/// One random case: the 8 weights (in `NAMES` order), the input and the target.
pub type Case = (Vec<f64>, Vec<f64>, Vec<f64>);

/// Weights in [−2, 2], inputs in [0.1, 1] (at 0 every first-layer gradient vanishes, right
/// or wrong), targets in [0.05, 0.95].
pub fn cases() -> impl Strategy<Value = Case> {
    (
        vectors(finite(-2.0, 2.0), 8),
        vectors(finite(0.1, 1.0), 2),
        vectors(finite(0.05, 0.95), 2),
    )
}

/// The property: the formulas `hand` equal the engine's gradient of the seed's loss.
pub fn property(hand: fn(&Point) -> [f64; 8], (w, x, t): &Case) -> Result<(), TestCaseError> {
    let (x, t) = ([x[0], x[1]], [t[0], t[1]]);
    assert_hand_gradient(
        &NAMES,
        |w| hand(&Point::at(x, t, w)).to_vec(),
        |g, w| loss(g, w, x, t),
        w,
        Agreement::default(),
    )
}

/// Runs the property over 256 cases (a fixed seed, so the run is reproducible): `Ok` if it
/// held, or proptest's message and the shrunk case.
pub fn run(hand: fn(&Point) -> [f64; 8]) -> Result<(), (String, Case)> {
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config.clone(),
        TestRng::deterministic_rng(config.rng_algorithm),
    );
    match runner.run(&cases(), |case| property(hand, &case)) {
        Ok(()) => Ok(()),
        Err(TestError::Fail(why, case)) => Err((why.to_string(), case)),
        Err(e) => panic!("{e}"),
    }
}

fn main() {
    println!("== seed 002's formulas, 256 random networks ==");
    match run(hand_gradients) {
        Ok(()) => println!("no counterexample (unexpected)"),
        Err((why, (w, x, t))) => {
            println!("proptest found a counterexample and shrank it to");
            println!("  weights {w:?}\n  x {x:?}\n  t {t:?}\n");
            println!("{why}");
        }
    }
    println!("== the fixed formulas ==");
    match run(fixed_gradients) {
        Ok(()) => println!("256 cases passed"),
        Err((why, case)) => println!("counterexample {case:?}\n{why}"),
    }
}
