//! The elementary functions of issue 10 (`sin`, `cos`, `sqrt`, `abs`, `max`, `min`, `log1p`,
//! `softplus`): values and first derivatives against closed forms, gradients against central
//! differences, second (and third) derivatives against closed forms and against finite
//! differences of the recorded gradient, and the edge points PyTorch defines.

use scalargrad::check::{gradcheck, gradgradcheck, Tolerance};
use scalargrad::hessian::{derivatives, hessian};
use scalargrad::{Graph, Scalar, Var};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[track_caller]
fn close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol * (1.0 + expected.abs()),
        "{actual} vs expected {expected}"
    );
}

type Unary = for<'g> fn(Var<'g>) -> Var<'g>;

/// (name, op, f, f', f'') in closed form.
#[allow(clippy::type_complexity)]
fn unary_table() -> Vec<(&'static str, Unary, fn(f64) -> [f64; 3])> {
    vec![
        ("sin", |x| x.sin(), |x| [x.sin(), x.cos(), -x.sin()]),
        ("cos", |x| x.cos(), |x| [x.cos(), -x.sin(), -x.cos()]),
        (
            "sqrt",
            |x| x.sqrt(),
            |x| [x.sqrt(), 0.5 / x.sqrt(), -0.25 * x.powf(-1.5)],
        ),
        ("abs", |x| x.abs(), |x| [x.abs(), x.signum(), 0.0]),
        (
            "log1p",
            |x| x.log1p(),
            |x| [x.ln_1p(), 1.0 / (1.0 + x), -1.0 / ((1.0 + x) * (1.0 + x))],
        ),
        (
            "softplus",
            |x| x.softplus(),
            |x| {
                let s = sigmoid(x);
                [(1.0 + x.exp()).ln(), s, s * (1.0 - s)]
            },
        ),
    ]
}

const POSITIVE: [f64; 6] = [0.05, 0.3, 0.7, 1.0, 2.5, 7.0];
const ANY: [f64; 8] = [-3.1, -1.0, -0.2, 0.05, 0.3, 0.7, 1.9, 4.0];

fn points(name: &str) -> &'static [f64] {
    if name == "sqrt" || name == "log1p" {
        &POSITIVE
    } else {
        &ANY
    }
}

#[test]
fn values_and_first_second_derivatives_match_closed_forms() {
    for (name, op, exact) in unary_table() {
        for &x in points(name) {
            let [f, d1, d2] = exact(x);
            let d = derivatives(|_, v| op(v[0]), x, 2);
            close(d[0], f, 1e-14);
            close(d[1], d1, 1e-14);
            close(d[2], d2, 1e-13);
            // the reverse pass on numbers agrees with the recorded one
            let g = Graph::new();
            let v = g.var(x);
            op(v).backward();
            assert_eq!(v.grad(), d[1], "{name}'({x}) backward vs grad");
        }
    }
}

#[test]
fn gradients_and_second_derivatives_match_finite_differences() {
    for (name, op, _) in unary_table() {
        for &x in points(name) {
            let first = gradcheck(|_, v| op(v[0]), &[x], Tolerance::default());
            assert!(first.passed(), "{name} at {x}: {first}");
            if name != "abs" {
                let second = gradgradcheck(|_, v| op(v[0]), &[x], Tolerance::default());
                assert!(second.passed(), "{name} at {x}: {second}");
            }
        }
    }
}

#[test]
fn hessian_of_sin_is_minus_sin() {
    // the example: 0.644 = sin 0.7
    let h = hessian(|_, x| x[0].sin(), &[0.7]);
    assert_eq!(h, [[-(0.7_f64.sin())]]);
    assert!((h[0][0] + 0.644).abs() < 1e-3);
    // and the third and fourth derivatives cycle on
    let d = derivatives(|_, x| x[0].sin(), 0.7, 4);
    assert_eq!(d[3], -(0.7_f64.cos()));
    assert_eq!(d[4], 0.7_f64.sin());
}

#[test]
fn max_and_min_pick_the_winner_and_split_ties() {
    for &(a, b) in &[(1.0, 2.0), (2.0, 1.0), (-3.0, -3.0), (0.0, -0.0)] {
        let g = Graph::new();
        let (x, y) = (g.var(a), g.var(b));
        let hi = x.max(y);
        hi.backward();
        let (dx, dy) = (x.grad(), y.grad());
        g.zero_grad();
        let lo = x.min(y);
        lo.backward();
        if a == b {
            assert_eq!((dx, dy, x.grad(), y.grad()), (0.5, 0.5, 0.5, 0.5));
            assert_eq!(
                (hi.value().to_bits(), lo.value().to_bits()),
                (a.to_bits(), a.to_bits())
            );
        } else {
            assert_eq!(hi.value(), a.max(b));
            assert_eq!(lo.value(), a.min(b));
            let a_wins = a > b;
            assert_eq!((dx, dy), if a_wins { (1.0, 0.0) } else { (0.0, 1.0) });
            assert_eq!(
                (x.grad(), y.grad()),
                if a_wins { (0.0, 1.0) } else { (1.0, 0.0) }
            );
        }
    }
}

#[test]
fn max_and_min_propagate_nan() {
    let g = Graph::new();
    let (x, y) = (g.var(f64::NAN), g.var(1.0));
    let m = x.max(y);
    m.backward();
    assert!(m.value().is_nan() && x.grad().is_nan() && y.grad().is_nan());
    assert!(y.min(x).value().is_nan());
    assert!(Scalar::max(1.0, f64::NAN).is_nan()); // unlike f64::max
}

#[test]
fn max_gradient_checks_away_from_ties_and_has_zero_second_derivative() {
    fn f<'g>(_: &'g Graph, v: &[Var<'g>]) -> Var<'g> {
        v[0].max(v[1]) * v[0].min(v[1])
    }
    assert!(gradcheck(f, &[0.3, -1.2], Tolerance::default()).passed());
    let report = gradgradcheck(f, &[0.3, -1.2], Tolerance::default());
    assert!(report.passed(), "{report}");
    // max(a, b)·min(a, b) = a·b away from the tie: H = [[0, 1], [1, 0]]
    assert_eq!(hessian(f, &[0.3, -1.2]), [[0.0, 1.0], [1.0, 0.0]]);
}

#[test]
fn edge_points_follow_pytorch() {
    let g = Graph::new();
    // sqrt'(0) = +inf (PyTorch: grad / (2·result))
    let z = g.var(0.0);
    z.sqrt().backward();
    assert_eq!(z.grad(), f64::INFINITY);
    // sqrt of a negative number: NaN value and gradient
    let n = g.var(-1.0);
    let s = n.sqrt();
    s.backward();
    assert!(s.value().is_nan() && n.grad().is_nan());
    // abs'(0) = 0, abs'(±x) = ±1, |−0| = +0
    let zero = g.var(0.0);
    zero.abs().backward();
    assert_eq!(zero.grad(), 0.0);
    assert_eq!(g.var(-0.0).abs().value().to_bits(), 0.0_f64.to_bits());
    // log1p(−1) = −inf with gradient +inf; tiny inputs kept exactly
    let m1 = g.var(-1.0);
    let l = m1.log1p();
    l.backward();
    assert_eq!((l.value(), m1.grad()), (f64::NEG_INFINITY, f64::INFINITY));
    assert_eq!(g.var(1e-300).log1p().value(), 1e-300);
    // softplus never overflows, and its gradient saturates cleanly
    let big = g.var(800.0);
    let sp = big.softplus();
    sp.backward();
    assert_eq!((sp.value(), big.grad()), (800.0, 1.0));
    assert_eq!(g.var(-800.0).softplus().value(), 0.0);
}

#[test]
fn abs_replays_after_a_sign_change_as_a_primitive() {
    let g = Graph::new();
    let x = g.var(2.0);
    let y = x.abs();
    assert_eq!(g.len(), 2); // one node, not relu(x) + relu(−x)
    x.set_value(-5.0);
    g.recompute();
    y.backward();
    assert_eq!((y.value(), x.grad()), (5.0, -1.0));
}

#[test]
fn scalar_rules_agree_on_f64_and_handles() {
    fn f<S: Scalar>(x: S, y: S) -> S {
        (x.sin() * y.cos() + x.sqrt().log1p() - y.abs()).softplus() + x.max(y) - x.min(y)
    }
    let g = Graph::new();
    for &(a, b) in &[(0.3, 1.7), (2.0, -0.4), (5.0, 5.5)] {
        assert_eq!(f(g.var(a), g.var(b)).value(), f(a, b));
    }
}

#[test]
fn softplus_op_and_custom_softplus_agree_to_the_bit() {
    let g = Graph::new();
    let custom = g.custom(scalargrad::custom::Softplus);
    for &x in &ANY {
        let (a, b) = (g.var(x), g.var(x));
        let (p, c) = (a.softplus(), custom.apply(b));
        p.backward();
        c.backward();
        assert_eq!(p.value().to_bits(), c.value().to_bits());
        assert_eq!(a.grad().to_bits(), b.grad().to_bits());
    }
}
