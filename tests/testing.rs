//! The `scalargrad::testing` toolkit (feature `proptest`) tested on itself: every built-in op
//! passes against finite differences at first and second order; a custom op whose
//! derivative is off by 1% is caught and the correct one passes; a derivative that drops
//! out of the graph is caught at second order; shrinking reaches a one-instruction program
//! and a small input; generated programs reuse values and contain diamonds.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRng, TestRunner};
use scalargrad::check::Agreement;
use scalargrad::testing::*;
use scalargrad::{NaryFn, Scalar, UnaryFn};

/// `x³` with its derivative `3x²` scaled by `factor`: 1.0 is right, 1.01 is a planted 1% error.
struct Cube {
    factor: f64,
}

impl UnaryFn for Cube {
    fn name(&self) -> &str {
        "cube"
    }
    fn value(&self, x: f64) -> f64 {
        x * x * x
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x * x * (3.0 * self.factor)
    }
}

/// `sin` whose derivative is computed on `f64` and lifted into the graph as a constant: right
/// at first order, but its own derivative is lost. The engine itself refuses it in
/// `Graph::grad` (a panic naming the op).
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

/// `x³` whose derivative `3x·x` has one factor lifted from `f64`: right in value, but the
/// recorded second derivative is `3x` instead of `6x`, and the result is not a constant node,
/// so only a second-order check sees it.
struct PartlyLiftedCube;

impl UnaryFn for PartlyLiftedCube {
    fn name(&self) -> &str {
        "partly_lifted_cube"
    }
    fn value(&self, x: f64) -> f64 {
        x * x * x
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x * x.lift(3.0 * x.value())
    }
}

/// `a·b + sin(a)` as one custom op of two inputs; `wrong` plants a 1% error in `∂/∂b`.
struct MulSin {
    wrong: bool,
}

impl NaryFn for MulSin {
    fn name(&self) -> &str {
        "mulsin"
    }
    fn arity(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        x[0] * x[1] + x[0].sin()
    }
    fn partial<S: Scalar>(&self, i: usize, x: &[S], _y: S) -> S {
        match i {
            0 => x[1] + x[0].cos(),
            _ if self.wrong => x[0] * 1.01,
            _ => x[0],
        }
    }
}

fn cube(factor: f64) -> Op {
    Op::custom(Cube { factor }, Domain::everywhere())
}

/// A deterministic runner that does not write regression files.
fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config.clone(),
        TestRng::deterministic_rng(config.rng_algorithm),
    )
}

/// A built-in op's index, and arguments in [−3, 3] at least 0.01 inside its domain.
fn op_and_inputs() -> impl Strategy<Value = (usize, Vec<f64>)> {
    (0..builtin_ops().len())
        .prop_flat_map(|i| (Just(i), inputs_for(&builtin_ops()[i], -3.0, 3.0, 0.01)))
}

fn op(name: &str) -> Op {
    builtin_ops()
        .into_iter()
        .find(|op| op.name() == name)
        .unwrap_or_else(|| panic!("no built-in op {name}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn builtin_programs_match_central_differences(p in programs(&builtin_ops(), 3, 12), x in vectors(finite(-2.0, 2.0), 3)) {
        assert_program_gradient(&p, &x, &FiniteDiff::default())?;
    }

    #[test]
    fn builtin_programs_second_order_match(p in programs(&builtin_ops(), 2, 8), x in vectors(finite(-2.0, 2.0), 2)) {
        assert_program_hessian(&p, &x, &FiniteDiff::default())?;
    }

    #[test]
    fn correct_custom_op_passes_in_every_context(p in programs_through(&cube(1.0), &builtin_ops(), 3, 8), x in vectors(finite(-2.0, 2.0), 3)) {
        assert_program(&p, &x, &FiniteDiff::default())?;
    }

    #[test]
    fn every_builtin_op_alone_matches_on_its_inputs((i, x) in op_and_inputs()) {
        // each op by itself (no guard), on arguments drawn for it; pow's exponent 1.5
        let op = builtin_ops()[i].clone();
        let fd = FiniteDiff::default();
        assert_gradient(|g, v| op.apply(g, v, 1.5), &x, &fd)?;
        assert_hessian(|g, v| op.apply(g, v, 1.5), &x, &fd)?;
    }

    #[test]
    fn inputs_away_from_kinks_keep_their_margin(v in away_from_kinks(&Domain::above(0.0).with_kink(1.0), -5.0, 5.0, 0.01)) {
        prop_assert!((0.01 - 1e-15..=5.0).contains(&v), "{}", v);
        prop_assert!((v - 1.0).abs() >= 0.01 - 1e-15, "{}", v);
    }
}

#[test]
fn planted_one_percent_error_is_caught_and_shrinks_to_one_instruction() {
    let wrong = cube(1.01);
    let strategy = (
        programs_through(&wrong, &builtin_ops(), 3, 8),
        vectors(finite(-3.0, 3.0), 3),
    );
    let fd = FiniteDiff::default();
    let result = runner(256).run(&strategy, |(p, x)| assert_program_gradient(&p, &x, &fd));
    let Err(TestError::Fail(reason, (p, x))) = result else {
        panic!("the planted 1% error was not caught: {result:?}");
    };
    // Minimal: the program shrank to the planted op alone, on the most recent input, and
    // the input to the smallest magnitude where 1% of 3x² still exceeds the allowance
    // (≈ 1e-8 absolute: |x| ≈ 6e-4).
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p.instructions()[0].op().name(), "cube");
    assert_eq!(p.instructions()[0].args(), [2]);
    assert_eq!(
        format!("{p:?}"),
        "Program(3 inputs) {\n    v3 = cube(v2)\n    return v3\n}"
    );
    assert_eq!((x[0], x[1]), (0.0, 0.0), "{x:?}");
    assert!(x[2].abs() > 5e-4 && x[2].abs() < 1e-2, "{x:?}");
    // The message names the component and shows the 1% (engine/numeric = 1.01).
    let reason = reason.to_string();
    assert!(
        reason.contains("d/dx[2]") && reason.contains("WRONG"),
        "{reason}"
    );
    let report = program_gradient_report(&p, &x, &fd).unwrap();
    let c = report.failing()[0];
    assert!((c.engine / c.numeric - 1.01).abs() < 1e-6, "{report}");
}

#[test]
fn correct_custom_op_passes_the_same_runner() {
    let strategy = (
        programs_through(&cube(1.0), &builtin_ops(), 3, 8),
        vectors(finite(-3.0, 3.0), 3),
    );
    let fd = FiniteDiff::default();
    runner(256)
        .run(&strategy, |(p, x)| assert_program(&p, &x, &fd))
        .unwrap();
}

#[test]
fn planted_error_is_caught_by_the_plain_function_assertion_too() {
    // Without programs: a closure over a graph, shrinking a single input.
    let fd = FiniteDiff::default();
    let result = runner(256).run(&finite(-10.0, 10.0), |x| {
        assert_gradient(
            |g, v| g.custom(Cube { factor: 1.01 }).apply(v[0]),
            &[x],
            &fd,
        )
    });
    let Err(TestError::Fail(_, x)) = result else {
        panic!("not caught: {result:?}");
    };
    assert!(x.abs() > 5e-4 && x.abs() < 1e-2, "shrunk to {x}");
    runner(256)
        .run(&finite(-10.0, 10.0), |x| {
            assert_gradient(|g, v| g.custom(Cube { factor: 1.0 }).apply(v[0]), &[x], &fd)?;
            assert_hessian(|g, v| g.custom(Cube { factor: 1.0 }).apply(v[0]), &[x], &fd)
        })
        .unwrap();
}

#[test]
fn a_derivative_lifted_out_of_the_graph_fails_and_shrinks() {
    // The engine panics in Graph::grad; proptest reports the panic and shrinks the case.
    let lifted = Op::custom(LiftedSin, Domain::everywhere());
    let strategy = (
        programs_through(&lifted, &builtin_ops(), 2, 6),
        vectors(finite(-3.0, 3.0), 2),
    );
    let fd = FiniteDiff::default();
    runner(64)
        .run(&strategy, |(p, x)| assert_program_gradient(&p, &x, &fd))
        .unwrap();
    let result = runner(64).run(&strategy, |(p, x)| assert_program_hessian(&p, &x, &fd));
    let Err(TestError::Fail(reason, (p, _))) = result else {
        panic!("the lifted derivative was not caught: {result:?}");
    };
    assert_eq!(
        format!("{p:?}"),
        "Program(2 inputs) {\n    v2 = lifted_sin(v1)\n    return v2\n}"
    );
    assert!(
        reason.to_string().contains("cut off from the graph"),
        "{reason}"
    );
}

#[test]
fn a_partly_lifted_derivative_is_caught_at_second_order_only() {
    let op = Op::custom(PartlyLiftedCube, Domain::everywhere());
    let strategy = (
        programs_through(&op, &builtin_ops(), 2, 6),
        vectors(finite(-3.0, 3.0), 2),
    );
    let fd = FiniteDiff::default();
    // first order is right
    runner(256)
        .run(&strategy, |(p, x)| assert_program_gradient(&p, &x, &fd))
        .unwrap();
    // second order is not, and the counterexample shrinks to the op alone near 0
    let result = runner(256).run(&strategy, |(p, x)| assert_program_hessian(&p, &x, &fd));
    let Err(TestError::Fail(reason, (p, x))) = result else {
        panic!("the lost half of the second derivative was not caught: {result:?}");
    };
    assert_eq!(
        format!("{p:?}"),
        "Program(2 inputs) {\n    v2 = partly_lifted_cube(v1)\n    return v2\n}"
    );
    assert_eq!(x[0], 0.0);
    assert!(x[1].abs() < 1e-6, "{x:?}");
    assert!(reason.to_string().contains("d²/dx[1]dx[1]"), "{reason}");
    // the engine says 3x where 6x is right
    let report = program_hessian_report(&p, &x, &fd).unwrap();
    let c = report.failing()[0];
    assert!(
        (c.engine - 3.0 * x[1]).abs() < 1e-15 * x[1].abs(),
        "{report}"
    );
    assert!(
        (c.numeric - 6.0 * x[1]).abs() < 1e-3 * x[1].abs(),
        "{report}"
    );
}

#[test]
fn multi_input_custom_op_planted_error_is_caught_and_correct_one_passes() {
    let fd = FiniteDiff::default();
    let right = Op::custom_nary(MulSin { wrong: false });
    let strategy = (
        programs_through(&right, &builtin_ops(), 3, 8),
        vectors(finite(-2.0, 2.0), 3),
    );
    runner(256)
        .run(&strategy, |(p, x)| assert_program(&p, &x, &fd))
        .unwrap();
    let wrong = Op::custom_nary(MulSin { wrong: true });
    let strategy = (
        programs_through(&wrong, &builtin_ops(), 3, 8),
        vectors(finite(-2.0, 2.0), 3),
    );
    let result = runner(256).run(&strategy, |(p, x)| assert_program_gradient(&p, &x, &fd));
    let Err(TestError::Fail(_, (p, x))) = result else {
        panic!("the planted 1% error in a partial was not caught: {result:?}");
    };
    // shrunk to the op alone on the most recent input, used for both arguments (a·a):
    // ∂/∂a = a + cos a + 1.01·a
    assert_eq!(
        format!("{p:?}"),
        "Program(3 inputs) {\n    v3 = mulsin(v2, v2)\n    return v3\n}"
    );
    assert_eq!((x[0], x[1]), (0.0, 0.0));
    assert!(x[2].abs() < 1e-3, "{x:?}");
}

#[test]
fn max_and_min_kinks_are_rejected_where_the_arguments_meet() {
    let fd = FiniteDiff::default();
    for name in ["max", "min"] {
        let p = Program::new(2, vec![Instr::new(op(name), vec![0, 1], 0.0)]);
        assert!(matches!(
            assert_program_gradient(&p, &[0.5, 0.5 + 1e-4], &fd),
            Err(TestCaseError::Reject(_))
        ));
        assert!(assert_program(&p, &[0.5, -0.5], &fd).is_ok());
    }
}

#[test]
fn hand_gradient_errors_name_the_component_and_shrink() {
    // f = x·y²: the hand formula for ∂f/∂y forgets the 2.
    let result = runner(256).run(&vectors(finite(-4.0, 4.0), 2), |p| {
        assert_hand_gradient(
            &["x", "y"],
            |p| vec![p[1] * p[1], p[0] * p[1]],
            |_, p| p[0] * p[1] * p[1],
            &p,
            Agreement::default(),
        )
    });
    let Err(TestError::Fail(reason, p)) = result else {
        panic!("not caught: {result:?}");
    };
    let reason = reason.to_string();
    assert!(reason.contains("1 of 2 parameter(s) disagree"), "{reason}");
    let wrong_line = reason.lines().find(|l| l.starts_with("y ")).unwrap();
    assert!(wrong_line.ends_with("WRONG"), "{reason}");
    // shrunk to where the error x·y just exceeds the allowance (1e-12 + 2e-9·|x·y|): one
    // coordinate bisected down to ~1e-12, neither zero (at 0 the wrong formula is right)
    assert!(p.iter().all(|v| *v != 0.0), "{p:?}");
    assert!((p[0] * p[1]).abs() < 2e-12, "{p:?}");
}

#[test]
fn points_near_a_kink_are_rejected_not_failed() {
    let p = Program::new(1, vec![Instr::new(op("relu"), vec![0], 0.0)]);
    let fd = FiniteDiff::default();
    let err = assert_program_gradient(&p, &[1e-4], &fd).unwrap_err();
    assert!(
        matches!(&err, TestCaseError::Reject(r) if r.message().contains("v1 = relu(v0)")),
        "{err:?}"
    );
    // just outside the margin, but a step of the differences would cross: still rejected
    let wide = FiniteDiff { step: 1e-2, ..fd };
    let err = assert_program_gradient(&p, &[0.015], &wide).unwrap_err();
    assert!(
        matches!(&err, TestCaseError::Reject(r) if r.message().contains("crosses a kink")),
        "{err:?}"
    );
    assert!(assert_program_gradient(&p, &[0.5], &fd).is_ok());
    // division by (nearly) zero and ln at its edge
    let div = Program::new(2, vec![Instr::new(op("div"), vec![0, 1], 0.0)]);
    assert!(matches!(
        assert_program_gradient(&div, &[1.0, 1e-5], &fd),
        Err(TestCaseError::Reject(_))
    ));
}

#[test]
fn tolerance_is_tight_where_the_function_is_smooth() {
    // sigmoid at 0.3: the allowance is about 1e-6 relative, so 1% is far outside it
    let r = gradient_report(|_, x| x[0].sigmoid(), &[0.3], &FiniteDiff::default());
    let c = &r.components[0];
    assert!(c.allowed < 2e-6 * c.engine.abs() + 2e-8, "{r}");
    assert!(c.error < 1e-10, "{r}");
}

#[test]
#[should_panic(expected = "no value in [-1, 1] is 2 away")]
fn an_empty_input_domain_is_a_clear_panic() {
    let _ = away_from_kinks(&Domain::everywhere().with_kink(0.0), -1.0, 1.0, 2.0);
}

/// Registers that are read by two instructions that both reach the output.
fn has_diamond(p: &Program) -> bool {
    let n = p.inputs() + p.len();
    let mut reaches = vec![false; n];
    reaches[n - 1] = true;
    for (i, ins) in p.instructions().iter().enumerate().rev() {
        if reaches[p.inputs() + i] {
            for &a in ins.args() {
                reaches[a] = true;
            }
        }
    }
    (0..n).any(|r| {
        p.instructions()
            .iter()
            .enumerate()
            .filter(|(i, ins)| reaches[p.inputs() + i] && ins.args().contains(&r))
            .count()
            >= 2
    })
}

#[test]
fn programs_cover_every_op_with_reuse_and_diamonds() {
    let mut runner = runner(1);
    let strategy = programs(&builtin_ops(), 3, 12);
    let (mut diamonds, mut squares) = (0, 0);
    let mut seen = BTreeSet::new();
    for _ in 0..500 {
        let p = strategy.new_tree(&mut runner).unwrap().current();
        diamonds += usize::from(has_diamond(&p));
        squares += usize::from(p.instructions().iter().any(|i| {
            let a = i.args();
            a.len() >= 2 && a[0] == a[1]
        }));
        seen.extend(p.instructions().iter().map(|i| i.op().name().to_string()));
    }
    let all: BTreeSet<String> = builtin_ops()
        .iter()
        .map(|op| op.name().to_string())
        .collect();
    assert_eq!(seen, all);
    assert!(diamonds > 100, "{diamonds} of 500 programs have a diamond");
    assert!(
        squares > 50,
        "{squares} of 500 programs read a register twice in one op"
    );
}

#[test]
fn a_program_is_the_same_function_on_f64_and_on_a_graph() {
    let mut runner = runner(1);
    let strategy = (
        programs(&builtin_ops(), 3, 12),
        vectors(finite(-2.0, 2.0), 3),
    );
    for _ in 0..300 {
        let (p, x) = strategy.new_tree(&mut runner).unwrap().current();
        let g = scalargrad::Graph::new();
        let v: Vec<_> = x.iter().map(|&x| g.var(x)).collect();
        let (a, b) = (p.on_graph(&g, &v).value(), p.eval(&x));
        assert!(
            a == b || (a.is_nan() && b.is_nan()),
            "{p:?} at {x:?}: {a} vs {b}"
        );
    }
}
