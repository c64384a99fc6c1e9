//! # Property-testing a custom op
//!
//! A user-defined op ([`UnaryFn`]) carries a hand-written derivative. `scalargrad::testing`
//! checks it the way the engine checks its own ops: `programs_through` puts the op at the end
//! of random programs over every built-in op (so it is exercised through the chain rule, on
//! reused values and diamonds), and `assert_program` compares the engine's first and second
//! derivatives with central differences of the program evaluated on plain `f64`.
//!
//! Three versions of swish, `f(x) = x·σ(x)`, `f′(x) = σ(x)·(1 + x·(1 − σ(x)))`:
//! 1. right: passes;
//! 2. a product-rule slip, `f′ = x·σ(x)(1 − σ(x))` (the `σ(x)` term forgotten): proptest
//!    shrinks the failure to the op alone at `x = 0`, where the slip gives 0 and the truth
//!    is ½;
//! 3. right value, but the leading factor `σ(x)` computed on `f64` and lifted into the
//!    graph: first order passes; the recorded second derivative misses that factor's
//!    derivative (`f″(0)` comes out ¼ instead of ½), and the second-order check catches it. (A derivative lifted *whole* is refused by the
//!    engine itself, with a panic from `Graph::grad`; a partly lifted one is only visible
//!    to a second-order check like this one.)
//!
//! Run: `cargo run --example proptest_custom_op --features proptest`.

use proptest::test_runner::{Config, TestError, TestRng, TestRunner};
use scalargrad::testing::{
    assert_program, builtin_ops, finite, programs_through, vectors, Domain, FiniteDiff, Op, Program,
};
use scalargrad::{Scalar, UnaryFn};

/// Which derivative a [`Swish`] uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Derivative {
    /// `σ(x)·(1 + x·(1 − σ(x)))`.
    Right,
    /// `x·σ(x)·(1 − σ(x))`: the product rule's first term forgotten.
    ProductRuleSlip,
    /// The right number, with the factor `σ(x)` computed on `f64` and lifted as a constant:
    /// its derivative is lost from the second derivative.
    PartlyLifted,
}

/// `swish(x) = x·σ(x)`.
pub struct Swish(pub Derivative);

fn sigmoid(x: f64) -> f64 {
    scalargrad::scalar::sigmoid(x)
}

impl UnaryFn for Swish {
    fn name(&self) -> &str {
        "swish"
    }
    fn value(&self, x: f64) -> f64 {
        x * sigmoid(x)
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        let s = x.sigmoid();
        let one = x.lift(1.0);
        match self.0 {
            Derivative::Right => s * (one + x * (one - s)),
            Derivative::ProductRuleSlip => x * s * (one - s),
            Derivative::PartlyLifted => x.lift(sigmoid(x.value())) * (one + x * (one - s)),
        }
    }
}

/// Runs `assert_program` over 256 random programs ending in the swish with `derivative`
/// (2 inputs in [−3, 3], up to 6 other instructions; a fixed seed): `Ok`, or proptest's
/// message and the shrunk program and input.
pub fn run(derivative: Derivative) -> Result<(), (String, Program, Vec<f64>)> {
    let swish = Op::custom(Swish(derivative), Domain::everywhere());
    let strategy = (
        programs_through(&swish, &builtin_ops(), 2, 6),
        vectors(finite(-3.0, 3.0), 2),
    );
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config.clone(),
        TestRng::deterministic_rng(config.rng_algorithm),
    );
    let fd = FiniteDiff::default();
    match runner.run(&strategy, |(p, x)| assert_program(&p, &x, &fd)) {
        Ok(()) => Ok(()),
        Err(TestError::Fail(why, (p, x))) => Err((why.to_string(), p, x)),
        Err(e) => panic!("{e}"),
    }
}

fn main() {
    for d in [
        Derivative::Right,
        Derivative::ProductRuleSlip,
        Derivative::PartlyLifted,
    ] {
        println!("== swish with derivative {d:?} ==");
        match run(d) {
            Ok(()) => println!("256 random programs passed (first and second order)\n"),
            Err((why, p, x)) => println!("shrunk counterexample at x = {x:?}:\n{p:?}\n{why}"),
        }
    }
}
