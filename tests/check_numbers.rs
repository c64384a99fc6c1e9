//! `scalargrad::check` and `scalargrad::hessian` held to numbers worked out by hand:
//! closed-form derivatives, the central-difference formula with its step, the tolerance
//! formulas, the reports' fields and the eigenvalues of small matrices. (Their doctests show
//! the same functions; these are what `cargo mutants --file src/check.rs --file
//! src/hessian.rs` runs with the other tests that use them.)

use scalargrad::check::{
    compare_gradients, gradcheck, gradgradcheck, numerical_gradient, Agreement, InputCheck,
    Tolerance,
};
use scalargrad::hessian::{
    derivatives, gradient_and_hessian, hessian, hessian_vector_product, numerical_hessian,
    symmetric_eigenvalues,
};
use scalargrad::{Graph, Scalar, UnaryFn, Var};

/// `k·x` with a derivative `off` too large.
struct Scaled(f64, f64);
impl UnaryFn for Scaled {
    fn name(&self) -> &str {
        "scaled"
    }
    fn value(&self, x: f64) -> f64 {
        self.0 * x
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x.lift(self.0 + self.1)
    }
}

/// `x²` with a wrong derivative, `2x + 1`.
struct SquareOff;
impl UnaryFn for SquareOff {
    fn name(&self) -> &str {
        "square_off"
    }
    fn value(&self, x: f64) -> f64 {
        x * x
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x * 2.0 + 1.0
    }
}

/// `f(x, y) = x²·y + y³` and its derivatives.
fn f<'g>(_: &'g Graph, x: &[Var<'g>]) -> Var<'g> {
    x[0] * x[0] * x[1] + x[1].pow(3.0)
}

#[test]
fn numerical_gradient_is_the_central_difference_with_a_step_scaled_by_the_input() {
    // ∇f = (2xy, x² + 3y²) = (12, 21) at (3, 2)
    let d = numerical_gradient(f, &[3.0, 2.0], 1e-5);
    assert!(
        (d[0] - 12.0).abs() < 1e-7 && (d[1] - 21.0).abs() < 1e-7,
        "{d:?}"
    );
    // x³ at 1000: h = step·1000, and the central difference of a cubic is exact but for
    // the h² term: 3x² + h² = 3e6 + 1e-2 with step 1e-4 (h = 0.1)
    let d = numerical_gradient(|_, x| x[0].pow(3.0), &[1000.0], 1e-4);
    assert!((d[0] - (3e6 + 0.01)).abs() < 1e-3, "{}", d[0]);
    // at |x| < 1 the step is not scaled down: x³ at 0.5 with step 0.1 gives 3·0.25 + 0.01
    let d = numerical_gradient(|_, x| x[0].pow(3.0), &[0.5], 0.1);
    assert!((d[0] - 0.76).abs() < 1e-12, "{}", d[0]);
}

#[test]
fn gradcheck_reports_each_input_with_its_allowance_and_the_worst_one() {
    let tol = Tolerance {
        step: 1e-5,
        abs: 1e-6,
        rel: 1e-4,
    };
    let r = gradcheck(f, &[3.0, 2.0], tol);
    assert!(r.passed(), "{r}");
    assert_eq!((r.value, r.evaluations, r.failure.clone()), (26.0, 4, None));
    assert_eq!((r.inputs[0].analytic, r.inputs[1].analytic), (12.0, 21.0));
    for c in &r.inputs {
        assert_eq!(c.error, (c.analytic - c.numeric).abs());
        assert_eq!(
            c.allowed,
            1e-6 + 1e-4 * c.analytic.abs().max(c.numeric.abs())
        );
    }
    // a wrong derivative: a custom op whose derivative is off by 1 (d/dx x² said 2x + 1)
    let r = gradcheck(
        |g, x| g.custom(SquareOff).apply(x[0]) + x[1],
        &[3.0, 5.0],
        tol,
    );
    assert!(!r.passed());
    assert_eq!(r.worst, 0);
    assert_eq!(r.inputs[0].analytic, 7.0);
    assert!((r.inputs[0].numeric - 6.0).abs() < 1e-6);
    assert!(r.inputs[1].passed() && !r.inputs[0].passed());
    // the worst input is the wrong one wherever it is
    let r3 = gradcheck(
        |g, x| x[0] * 3.0 + g.custom(SquareOff).apply(x[1]) + x[2],
        &[1.0, 3.0, 2.0],
        tol,
    );
    assert_eq!((r3.worst, r3.passed(), r3.evaluations), (1, false, 6));
    // worst by error over allowance, not by error: input 0 is off by 0.1 of 1e6 (allowed
    // 100), input 1 by 1e-3 of 1 (allowed about 1e-4)
    let r2 = gradcheck(
        |g, x| g.custom(Scaled(1e6, 0.1)).apply(x[0]) + g.custom(Scaled(1.0, 1e-3)).apply(x[1]),
        &[1.0, 1.0],
        tol,
    );
    assert_eq!(
        (r2.worst, r2.inputs[0].passed(), r2.inputs[1].passed()),
        (1, true, false)
    );
    // a NaN passes only against a NaN
    let nan = |analytic: f64, numeric: f64| InputCheck {
        analytic,
        numeric,
        error: (analytic - numeric).abs(),
        allowed: 1e-6 + 1e-4 * analytic.abs().max(numeric.abs()),
    };
    assert!(nan(f64::NAN, f64::NAN).passed());
    assert!(!nan(f64::INFINITY, 5.0).passed() && !nan(5.0, f64::NEG_INFINITY).passed());
    assert!(nan(f64::INFINITY, f64::INFINITY).passed());
    assert!(!nan(f64::NAN, 1.0).passed() && !nan(1.0, f64::NAN).passed());
    let text = r.to_string();
    assert!(
        text.starts_with("gradcheck FAILED: 2 inputs, 4 evaluations"),
        "{text}"
    );
    assert!(text.contains("worst input 0: analytic 7e0"), "{text}");
}

#[test]
fn gradgradcheck_compares_the_recorded_hessian_with_differences_of_the_gradient() {
    let r = gradgradcheck(f, &[3.0, 2.0], Tolerance::default());
    assert!(r.passed(), "{r}");
    // H = [[2y, 2x], [2x, 6y]] = [[4, 6], [6, 12]], row by row
    let analytic: Vec<f64> = r.inputs.iter().map(|c| c.analytic).collect();
    assert_eq!(analytic, [4.0, 6.0, 6.0, 12.0]);
    for c in &r.inputs {
        assert!((c.analytic - c.numeric).abs() < 1e-6, "{c:?}");
    }
    assert_eq!((r.value, r.evaluations, r.worst < 4), (26.0, 4, true));
}

#[test]
fn agreement_allows_an_absolute_plus_a_relative_error_and_nan_only_with_nan() {
    let a = Agreement { abs: 0.5, rel: 0.1 };
    assert_eq!(a.allowed(10.0, -20.0), 0.5 + 0.1 * 20.0);
    // |10 − 11.6| = 1.6 ≤ 0.5 + 1.16; |10 − 11.9| = 1.9 > 0.5 + 1.19
    assert!(a.allows(10.0, 11.6) && !a.allows(10.0, 11.9));
    assert!(a.allows(f64::INFINITY, f64::INFINITY));
    // an infinity agrees only with itself (its allowance would be infinite)
    assert!(!a.allows(f64::INFINITY, 1.0) && !a.allows(-1e300, f64::NEG_INFINITY));
    assert!(!a.allows(f64::INFINITY, f64::NEG_INFINITY));
    assert!(a.allows(f64::NAN, f64::NAN) && !a.allows(f64::NAN, 1.0) && !a.allows(1.0, f64::NAN));
}

#[test]
fn compare_gradients_names_each_parameter_its_misses_and_its_worst_point() {
    let points = vec![vec![1.0, 2.0], vec![3.0, -1.0], vec![0.5, 4.0]];
    // hand: ∂/∂x of x·y right, ∂/∂y wrong at points where x > 2 (says x + 1)
    let hand = |p: &[f64]| vec![p[1], if p[0] > 2.0 { p[0] + 1.0 } else { p[0] }];
    let r = compare_gradients(
        &["x", "y"],
        &points,
        hand,
        |_, v| v[0] * v[1],
        Agreement::default(),
    );
    assert_eq!(r.points, 3);
    assert!(!r.agrees());
    assert_eq!(r.disagreeing(), ["y"]);
    let (x, y) = (&r.parameters[0], &r.parameters[1]);
    assert_eq!((x.name.as_str(), x.disagreeing, x.max_error), ("x", 0, 0.0));
    assert_eq!((y.name.as_str(), y.disagreeing, y.max_error), ("y", 1, 1.0));
    assert_eq!((y.worst_point, y.hand, y.engine), (1, 4.0, 3.0));
    let text = r.to_string();
    assert!(text.contains("1 of 2 parameter(s) disagree"), "{text}");
    assert!(text.contains("WRONG") && text.contains("agrees"), "{text}");
    // unnamed parameters are x[i]
    let r = compare_gradients(
        &[],
        &points,
        |p: &[f64]| vec![p[1], p[0]],
        |_, v| v[0] * v[1],
        Agreement::default(),
    );
    assert!(r.agrees());
    assert_eq!(r.parameters[1].name, "x[1]");
}

#[test]
fn derivatives_hessians_and_products_match_their_closed_forms() {
    // sin at 0.3: sin, cos, −sin, −cos, sin
    let d = derivatives(|_, x| x[0].sin(), 0.3, 4);
    let (s, c) = (0.3f64.sin(), 0.3f64.cos());
    let want = [s, c, -s, -c, s];
    for (got, want) in d.iter().zip(want) {
        assert!((got - want).abs() < 1e-15, "{d:?}");
    }
    assert_eq!(d.len(), 5);
    let (value, grad, h) = gradient_and_hessian(f, &[3.0, 2.0]);
    assert_eq!((value, grad), (26.0, vec![12.0, 21.0]));
    assert_eq!(h, [[4.0, 6.0], [6.0, 12.0]]);
    assert_eq!(hessian(f, &[3.0, 2.0]), h);
    // H·v for v = (1, −2): (4 − 12, 6 − 24)
    assert_eq!(
        hessian_vector_product(f, &[3.0, 2.0], &[1.0, -2.0]),
        [-8.0, -18.0]
    );
    assert!(hessian_vector_product(f, &[], &[]).is_empty());
    let n = numerical_hessian(f, &[3.0, 2.0], 1e-5);
    for i in 0..2 {
        for j in 0..2 {
            assert!((n[i][j] - h[i][j]).abs() < 1e-5, "{n:?}");
        }
    }
    // the step scales with |x|: a cubic's gradient is quadratic, so its central difference
    // is exact: d²/dx² x³ at 1000 is 6000 for any step
    let n = numerical_hessian(|_, x| x[0].pow(3.0), &[1000.0], 1e-3);
    assert!((n[0][0] - 6000.0).abs() < 1e-6, "{n:?}");
}

#[test]
fn symmetric_eigenvalues_of_small_matrices_are_their_closed_forms_in_order() {
    let close = |e: Vec<f64>, want: &[f64]| {
        assert_eq!(e.len(), want.len());
        for (got, want) in e.iter().zip(want) {
            assert!((got - want).abs() < 1e-14, "{e:?} vs {want:?}");
        }
    };
    close(
        symmetric_eigenvalues(&[vec![2.0, 1.0], vec![1.0, 2.0]]),
        &[1.0, 3.0],
    );
    assert_eq!(symmetric_eigenvalues(&[vec![-5.0]]), [-5.0]);
    assert!(symmetric_eigenvalues(&[]).is_empty());
    // diagonal: the entries, sorted
    let e = symmetric_eigenvalues(&[
        vec![3.0, 0.0, 0.0],
        vec![0.0, -1.0, 0.0],
        vec![0.0, 0.0, 2.0],
    ]);
    assert_eq!(e, [-1.0, 2.0, 3.0]);
    // [[a, b], [b, c]]: (a + c)/2 ± √(((a − c)/2)² + b²)
    let (a, b, c) = (1.5, -0.7, 4.0);
    let e = symmetric_eigenvalues(&[vec![a, b], vec![b, c]]);
    let (m, r) = ((a + c) / 2.0, (((a - c) / 2.0f64).powi(2) + b * b).sqrt());
    assert!(
        (e[0] - (m - r)).abs() < 1e-14 && (e[1] - (m + r)).abs() < 1e-14,
        "{e:?}"
    );
    // it stops as soon as the off-diagonal part is negligible: one sweep for a 2×2 (one
    // rotation zeroes it), none for a diagonal matrix, a few for a 3×3 (debug counts)
    let sweeps = |a: &[Vec<f64>]| {
        scalargrad::fast::reset();
        symmetric_eigenvalues(a);
        scalargrad::fast::taken().eigen_sweeps
    };
    if cfg!(debug_assertions) {
        assert_eq!(sweeps(&[vec![2.0, 1.0], vec![1.0, 2.0]]), 1);
        assert_eq!(sweeps(&[vec![3.0, 0.0], vec![0.0, -1.0]]), 0);
        // (negative entries: the norm the threshold is relative to is a sum of squares)
        assert_eq!(sweeps(&[vec![-2.0, -1.0], vec![-1.0, -2.0]]), 1);
        let s = sweeps(&[
            vec![2.0, -1.0, 0.0],
            vec![-1.0, 2.0, -1.0],
            vec![0.0, -1.0, 2.0],
        ]);
        assert_eq!(s, 4);
    }
    // a 3×3 with known eigenvalues 2 − √2, 2, 2 + √2 (the path graph's Laplacian shifted)
    let e = symmetric_eigenvalues(&[
        vec![2.0, -1.0, 0.0],
        vec![-1.0, 2.0, -1.0],
        vec![0.0, -1.0, 2.0],
    ]);
    let r2 = 2f64.sqrt();
    for (got, want) in e.iter().zip([2.0 - r2, 2.0, 2.0 + r2]) {
        assert!((got - want).abs() < 1e-14, "{e:?}");
    }
    // off-diagonal entries of both signs that sum to 0: still rotated away (−√2, 0, √2)
    let e = symmetric_eigenvalues(&[
        vec![0.0, 1.0, 0.0],
        vec![1.0, 0.0, -1.0],
        vec![0.0, -1.0, 0.0],
    ]);
    for (got, want) in e.iter().zip([-r2, 0.0, r2]) {
        assert!((got - want).abs() < 1e-14, "{e:?}");
    }
    // an asymmetric input is symmetrised: [[1, 2], [0, 1]] is read as [[1, 1], [1, 1]]
    close(
        symmetric_eigenvalues(&[vec![1.0, 2.0], vec![0.0, 1.0]]),
        &[0.0, 2.0],
    );
}

#[test]
fn gradgradcheck_counts_two_gradient_recordings_per_input() {
    let r = gradgradcheck(
        |_, x| x[0] * x[1] * x[2],
        &[1.0, 2.0, 3.0],
        Tolerance::default(),
    );
    assert!(r.passed(), "{r}");
    assert_eq!((r.evaluations, r.inputs.len()), (6, 9));
}

/// `compare_gradients` picks each parameter's worst point by how far past its allowance
/// the error went (not by the error alone), infinite errors first, and keeps NaN out of
/// `max_error` where hand and engine agree on NaN.
#[test]
fn compare_gradients_worst_point_is_by_error_over_allowance() {
    let agreement = Agreement::default(); // 1e-12 + 1e-9·max
    let run = |hand_at: Vec<Vec<f64>>, engine_at: Vec<f64>| {
        // the engine's gradient of x[0] · c is c: each point carries its c as x[1]
        let points: Vec<Vec<f64>> = engine_at.iter().map(|&c| vec![1.0, c]).collect();
        let hand = move |p: &[f64]| {
            let k = engine_at.iter().position(|&c| c == p[1]).unwrap();
            hand_at[k].clone()
        };
        compare_gradients(&["a", "c"], &points, hand, |_, x| x[0] * x[1], agreement)
    };
    // disagreeing points: 1e6 off by 1 (allowed 1e-3: 1e3 over) and 1 off by 0.5
    // (allowed ~1.5e-9: 3e8 over): the second is the worst
    let r = run(vec![vec![1e6 + 1.0, 1.0], vec![1.5, 1.0]], vec![1e6, 1.0]);
    let a = &r.parameters[0];
    assert_eq!(
        (a.disagreeing, a.worst_point, a.hand, a.engine),
        (2, 1, 1.5, 1.0)
    );
    assert_eq!(a.max_error, 1.0);
    // agreeing points: 1e6 off by 5e-4 (half its allowance) and 1 off by 9e-10 (0.9 of
    // it): the second is the worst
    let r = run(
        vec![vec![1e6 + 5e-4, 1.0], vec![1.0 + 9e-10, 1.0]],
        vec![1e6, 1.0],
    );
    let a = &r.parameters[0];
    assert_eq!((a.disagreeing, a.worst_point), (0, 1));
    // an infinite error is worse than any finite one
    let r = run(
        vec![vec![1e6 + 1.0, 1.0], vec![f64::INFINITY, 1.0]],
        vec![1e6, 1.0],
    );
    assert_eq!(r.parameters[0].worst_point, 1);
    assert_eq!(r.parameters[0].max_error, f64::INFINITY);
    // NaN and NaN agree and leave max_error alone; NaN against a number is an error, and
    // its error (NaN) is the parameter's max_error
    let r = run(vec![vec![f64::NAN, 1.0], vec![2.0, 1.0]], vec![1.0, 2.0]);
    let a = &r.parameters[0];
    assert_eq!((a.disagreeing, a.worst_point), (1, 0));
    assert!(a.max_error.is_nan(), "{a:?}");
    // a tie keeps the first point as the worst
    let r = run(vec![vec![1.5, 1.0], vec![1.5, 1.0]], vec![1.0, 1.0]);
    assert_eq!(
        (r.parameters[0].disagreeing, r.parameters[0].worst_point),
        (2, 0)
    );
    let nan_engine = compare_gradients(
        &["x"],
        &[vec![-1.0]],
        |_: &[f64]| vec![f64::NAN],
        |_, x| x[0].sqrt(),
        agreement,
    );
    let x = &nan_engine.parameters[0];
    assert!(nan_engine.agrees(), "{nan_engine}");
    assert_eq!((x.disagreeing, x.max_error), (0, 0.0));
}

#[test]
fn gradgradcheck_steps_in_proportion_to_a_large_input() {
    // f = x⁴ at x = 1000: f'' = 12x² = 1.2e7. The central difference of the recorded
    // f' = 4x³ with h = 1e-5 · 1000 is 12x² + 4h² (4e-4 off), plus rounding of about
    // ε·|f'|/h ≈ 1e-4; a step of 1e-5 / 1000 would round off by about 90.
    let report = scalargrad::check::gradgradcheck(
        |_, x| x[0].powi(4),
        &[1000.0],
        scalargrad::check::Tolerance::default(),
    );
    let c = &report.inputs[0];
    assert_eq!(c.analytic, 1.2e7);
    assert!((c.numeric - 1.2e7).abs() < 1e-2, "{}", c.numeric);
}

#[test]
fn compare_gradients_names_the_first_point_when_every_point_agrees_exactly() {
    let points: Vec<Vec<f64>> = [1.0, 2.0, 3.0].iter().map(|&x| vec![x]).collect();
    let report = compare_gradients(
        &["x"],
        &points,
        |x| vec![2.0 * x[0]],
        |_, x| x[0] * x[0],
        Agreement::default(),
    );
    let line = &report.parameters[0];
    assert_eq!((line.disagreeing, line.max_error), (0, 0.0));
    // every point's error is 0: the worst is the first, with its numbers
    assert_eq!((line.worst_point, line.hand, line.engine), (0, 2.0, 2.0));
}
