//! Custom ops: several inputs, a derivative that dropped out of the graph is caught (by
//! `Graph::grad`, and reported by `gradgradcheck`), and registration does not grow across steps.

use std::panic::catch_unwind;

use scalargrad::check::{gradcheck, gradgradcheck, Tolerance};
use scalargrad::hessian::hessian;
use scalargrad::{Graph, NaryFn, Scalar, UnaryFn};

mod support;
use support::panic_message;

/// sin, its derivative lifted from a plain number: the trap.
struct LiftedSin;

impl UnaryFn for LiftedSin {
    fn name(&self) -> &str {
        "lifted_sin"
    }
    fn value(&self, x: f64) -> f64 {
        x.sin()
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x.lift(x.value().cos())
    }
}

/// The same trap hidden behind a `+ x·0`, so the node looks tracked: only second-order
/// checking can see it.
struct DisguisedSin;

impl UnaryFn for DisguisedSin {
    fn name(&self) -> &str {
        "disguised_sin"
    }
    fn value(&self, x: f64) -> f64 {
        x.sin()
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x.lift(x.value().cos()) + x * 0.0
    }
}

/// sin written right.
struct GoodSin;

impl UnaryFn for GoodSin {
    fn name(&self) -> &str {
        "good_sin"
    }
    fn value(&self, x: f64) -> f64 {
        x.sin()
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x.cos()
    }
}

/// A constant derivative (3x): lifting a constant is right and must not be flagged.
struct Triple;

impl UnaryFn for Triple {
    fn name(&self) -> &str {
        "triple"
    }
    fn value(&self, x: f64) -> f64 {
        3.0 * x
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x.lift(3.0)
    }
}

/// A step-shaped derivative (relu), lifted: piecewise constant, so right.
struct MyRelu;

impl UnaryFn for MyRelu {
    fn name(&self) -> &str {
        "my_relu"
    }
    fn value(&self, x: f64) -> f64 {
        x.max(0.0)
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x.lift(if x.value() > 0.0 { 1.0 } else { 0.0 })
    }
}

#[test]
#[should_panic(expected = "custom op `lifted_sin` changes with its input")]
fn grad_catches_a_lifted_derivative() {
    let g = Graph::new();
    let sin = g.custom(LiftedSin);
    let x = g.var(0.7);
    let _ = g.grad(sin.apply(x), &[x]);
}

#[test]
fn hessian_of_a_lifted_derivative_panics_instead_of_returning_zero() {
    let caught = catch_unwind(|| {
        hessian(
            |g, x| {
                let sin = g.custom(LiftedSin);
                sin.apply(x[0])
            },
            &[0.7],
        )
    });
    assert!(caught.is_err(), "hessian returned {:?}", caught.ok());
}

#[test]
fn first_order_of_a_lifted_derivative_still_works() {
    // backward runs the rule on numbers: nothing is cut off there
    let g = Graph::new();
    let sin = g.custom(LiftedSin);
    let x = g.var(0.7);
    sin.apply(x).backward();
    assert_eq!(x.grad(), 0.7_f64.cos());
    let report = gradcheck(
        |g, x| g.custom(LiftedSin).apply(x[0]),
        &[0.7],
        Tolerance::default(),
    );
    assert!(report.passed(), "first order cannot see it: {report}");
}

#[test]
fn gradgradcheck_catches_a_disguised_lifted_derivative() {
    let report = gradgradcheck(
        |g, x| g.custom(DisguisedSin).apply(x[0]),
        &[0.7],
        Tolerance::default(),
    );
    assert!(!report.passed());
    let h = report.inputs[0];
    assert_eq!(h.analytic, 0.0);
    assert!((h.numeric + 0.644).abs() < 1e-3, "{report}");
    // and when lifted openly (Graph::grad refuses to record it), a failed report naming it
    let lifted = gradgradcheck(
        |g, x| g.custom(LiftedSin).apply(x[0]),
        &[0.7],
        Tolerance::default(),
    );
    assert!(!lifted.passed());
    let failure = lifted.failure.as_deref().unwrap_or_default();
    assert!(failure.contains("custom op `lifted_sin`"), "{lifted}");
}

#[test]
fn a_derivative_written_over_scalar_passes_second_order() {
    let report = gradgradcheck(
        |g, x| g.custom(GoodSin).apply(x[0]),
        &[0.7],
        Tolerance::default(),
    );
    assert!(report.passed(), "{report}");
    assert_eq!(
        hessian(|g, x| g.custom(GoodSin).apply(x[0]), &[0.7]),
        [[-(0.7_f64.sin())]]
    );
}

#[test]
fn constant_and_piecewise_constant_lifted_derivatives_are_accepted() {
    let h = hessian(|g, x| g.custom(Triple).apply(x[0]), &[0.7]);
    assert_eq!(h, [[0.0]]);
    for x in [-1.0, 0.0, 1e-9, 2.0] {
        let h = hessian(|g, x| g.custom(MyRelu).apply(x[0]), &[x]);
        assert_eq!(h, [[0.0]]);
    }
}

/// f(a, b, c) = a·b + sin(c)·b² with its partials over `Scalar`.
struct Mixed;

impl NaryFn for Mixed {
    fn name(&self) -> &str {
        "mixed"
    }
    fn arity(&self) -> usize {
        3
    }
    fn value(&self, x: &[f64]) -> f64 {
        x[0] * x[1] + x[2].sin() * x[1] * x[1]
    }
    fn partial<S: Scalar>(&self, i: usize, x: &[S], _y: S) -> S {
        match i {
            0 => x[1],
            1 => x[0] + x[2].sin() * x[1] * 2.0,
            _ => x[2].cos() * x[1] * x[1],
        }
    }
}

fn mixed_builtin<S: Scalar>(x: &[S]) -> S {
    x[0] * x[1] + x[2].sin() * x[1] * x[1]
}

#[test]
fn nary_custom_op_matches_the_same_function_built_from_ops() {
    let at = [0.4, -1.3, 2.1];
    let first = gradcheck(
        |g, x| g.custom_nary(Mixed).apply(x),
        &at,
        Tolerance::default(),
    );
    assert!(first.passed(), "{first}");
    let second = gradgradcheck(
        |g, x| g.custom_nary(Mixed).apply(x),
        &at,
        Tolerance::default(),
    );
    assert!(second.passed(), "{second}");
    let custom = hessian(|g, x| g.custom_nary(Mixed).apply(x), &at);
    let builtin = hessian(|_, x| mixed_builtin(x), &at);
    for (r, s) in custom.iter().zip(&builtin) {
        for (a, b) in r.iter().zip(s) {
            assert!((a - b).abs() < 1e-14, "{custom:?} vs {builtin:?}");
        }
    }
    // constants among the inputs get nothing, and recompute replays the op
    let g = Graph::new();
    let (a, b, c) = (g.var(0.4), g.constant(-1.3), g.var(2.1));
    let y = g.custom_nary(Mixed).apply(&[a, b, c]);
    a.set_value(1.0);
    g.recompute();
    assert_eq!(y.value(), mixed_builtin(&[1.0, -1.3, 2.1]));
    y.backward();
    assert_eq!((a.grad(), b.grad()), (-1.3, 0.0));
}

#[test]
#[should_panic(expected = "takes 3 inputs, given 2")]
fn nary_custom_op_checks_its_arity() {
    let g = Graph::new();
    g.custom_nary(Mixed).apply(&[g.var(1.0), g.var(2.0)]);
}

#[test]
fn registering_in_every_step_does_not_grow_the_graph() {
    let g = Graph::new();
    let w = g.var(0.3);
    let kept = g.custom(GoodSin);
    let mark = g.mark();
    for step in 0..5_000_000u32 {
        let sin = g.custom(GoodSin);
        let cube = g.custom_nary(Mixed);
        if step % 1_000_000 == 0 {
            let y = sin.apply(w) + cube.apply(&[w, w, w]) + kept.apply(w);
            y.backward();
        }
        g.rewind(mark);
    }
    assert_eq!(g.len(), 1);
    // one table entry survives: the one registered before the mark
    assert!(format!("{g:?}").contains("custom_ops: 1"), "{g:?}");
    assert_eq!(kept.apply(w).value(), 0.3_f64.sin());
}

#[test]
#[should_panic(expected = "registered after a mark and freed")]
fn a_custom_op_freed_by_a_rewind_panics_when_applied() {
    let g = Graph::new();
    let x = g.var(1.0);
    let mark = g.mark();
    let sin = g.custom(GoodSin);
    g.rewind(mark);
    let _triple = g.custom(Triple); // takes the freed slot
    sin.apply(x);
}

/// a·sin(b), its partial in b lifted from numbers (wrong), its partial in a = sin b written
/// right: the check names the lifted partial only.
struct HalfLifted;

impl NaryFn for HalfLifted {
    fn name(&self) -> &str {
        "half_lifted"
    }
    fn arity(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        x[0] * x[1].sin()
    }
    fn partial<S: Scalar>(&self, i: usize, x: &[S], _y: S) -> S {
        if i == 0 {
            x[1].sin()
        } else {
            x[0].lift(x[0].value() * x[1].value().cos())
        }
    }
}

#[test]
#[should_panic(expected = "partial derivative 1 of custom op `half_lifted`")]
fn grad_catches_a_lifted_partial_derivative() {
    let g = Graph::new();
    let (a, b) = (g.var(2.0), g.var(0.7));
    let y = g.custom_nary(HalfLifted).apply(&[a, b]);
    let _ = g.grad(y, &[a, b]);
}

#[test]
fn a_partial_that_depends_only_on_constant_inputs_is_accepted() {
    // with `b` a constant, ∂/∂a = sin b is a constant node and right: the check moves only
    // the tracked inputs, and sin b does not change with `a`
    let g = Graph::new();
    let (a, b) = (g.var(2.0), g.constant(0.7));
    let y = g.custom_nary(HalfLifted).apply(&[a, b]);
    let da = g.grad(y, &[a])[0];
    assert_eq!(da.value(), 0.7_f64.sin());
    assert_eq!(g.grad(da, &[a])[0].value(), 0.0);
}

// ------------------------------------------- where the lifted-derivative check looks

/// A unary op whose derivative `d(x, y)` is computed from plain numbers and lifted back as a
/// constant node: what `Graph::grad` checks by moving `x` a step down and up (1e-6 of
/// `max(|x|, 1)`) and comparing `d` there with `d` at `x`.
struct Lifted {
    name: &'static str,
    f: fn(f64) -> f64,
    d: fn(f64, f64) -> f64,
}

impl UnaryFn for Lifted {
    fn name(&self) -> &str {
        self.name
    }
    fn value(&self, x: f64) -> f64 {
        (self.f)(x)
    }
    fn derivative<S: Scalar>(&self, x: S, y: S) -> S {
        x.lift((self.d)(x.value(), y.value()))
    }
}

/// `Graph::grad` of `op` at `x`: the derivative's value, or the panic's message.
fn grad_of(op: Lifted, x: f64) -> Result<f64, String> {
    let g = Graph::new();
    let x = g.var(x);
    let op = g.custom(op);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        g.grad(op.apply(x), &[x])[0].value()
    }))
    .map_err(|e| support::panic_text(&*e))
}

#[test]
fn a_derivative_lifted_from_the_output_is_caught() {
    // exp' = exp, written from `y`: the check recomputes `y` at the moved points
    let exp = Lifted {
        name: "lifted_exp",
        f: f64::exp,
        d: |_, y| y,
    };
    let message = grad_of(exp, 0.5).unwrap_err();
    assert!(
        message.contains("derivative of custom op `lifted_exp` changes with its input"),
        "{message}"
    );
}

#[test]
fn a_lifted_derivative_is_caught_at_large_inputs_too() {
    // the step is relative: at 1e12 an absolute 1e-6 would not move x (its spacing is 1.2e-4)
    let slow_sin = Lifted {
        name: "slow_sin",
        f: |x| 1e12 * (x / 1e12).sin(),
        d: |x, _| (x / 1e12).cos(),
    };
    let message = grad_of(slow_sin, 1e12).unwrap_err();
    assert!(
        message.contains("`slow_sin` changes with its input"),
        "{message}"
    );
}

#[test]
fn a_piecewise_constant_derivative_is_accepted_away_from_its_steps() {
    // constant near x at the check's step: right, even lifted (a staircase's pieces, a
    // sign's sides); the step is small (3.5e-6 at 3.5), not of the input's size
    let floor = Lifted {
        name: "floor_slope",
        f: |x| x * x / 2.0,
        d: |x, _| x.floor(),
    };
    assert_eq!(grad_of(floor, 3.5), Ok(3.0));
    let sign = Lifted {
        name: "sign_slope",
        f: f64::abs,
        d: |x, _| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        },
    };
    assert_eq!(grad_of(sign, 3.0), Ok(1.0));
}

#[test]
fn a_lifted_derivative_with_a_pole_at_a_checked_point_is_accepted() {
    // the derivative is infinite at x + step (then at x - step): the check cannot compare,
    // so it accepts (documented), and the derivative is the lifted number
    const UP: f64 = 1.0 + 1e-6;
    const DOWN: f64 = 1.0 - 1e-6;
    let above = Lifted {
        name: "pole_above",
        f: |x| (x - UP).abs().ln(),
        d: |x, _| 1.0 / (x - UP),
    };
    assert_eq!(grad_of(above, 1.0), Ok(1.0 / (1.0 - UP)));
    let below = Lifted {
        name: "pole_below",
        f: |x| (x - DOWN).abs().ln(),
        d: |x, _| 1.0 / (x - DOWN),
    };
    assert_eq!(grad_of(below, 1.0), Ok(1.0 / (1.0 - DOWN)));
}

/// An n-ary op of one input, its partial lifted: the check's one-input case for `NaryFn`.
struct LiftedCosOfOne;

impl NaryFn for LiftedCosOfOne {
    fn name(&self) -> &str {
        "lifted_cos_of_one"
    }
    fn arity(&self) -> usize {
        1
    }
    fn value(&self, x: &[f64]) -> f64 {
        x[0].sin()
    }
    fn partial<S: Scalar>(&self, _i: usize, x: &[S], _y: S) -> S {
        x[0].lift(x[0].value().cos())
    }
}

#[test]
fn an_nary_op_of_one_input_with_a_lifted_partial_is_caught() {
    let g = Graph::new();
    let x = g.var(0.7);
    let op = g.custom_nary(LiftedCosOfOne);
    assert_eq!(op.arity(), 1);
    let y = op.apply(&[x]);
    assert_eq!(y.value(), 0.7_f64.sin());
    let message = panic_message(|| g.grad(y, &[x]));
    assert!(
        message.contains("derivative of custom op `lifted_cos_of_one` changes"),
        "{message}"
    );
}

#[test]
fn custom_ops_print_their_name_and_arity() {
    let g = Graph::new();
    assert_eq!(format!("{:?}", g.custom(GoodSin)), "CustomOp(\"good_sin\")");
    let mixed = g.custom_nary(Mixed);
    assert_eq!(mixed.arity(), 3);
    assert_eq!(format!("{mixed:?}"), "NaryOp(\"mixed\", arity 3)");
}
