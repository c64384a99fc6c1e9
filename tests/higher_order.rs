//! Higher-order derivatives through `Graph::grad`: every op's nth derivative against closed
//! forms at many points, mixed partials, fused nodes, custom ops, and the contract of
//! `Graph::grad` itself (constant 0 for non-ancestors, `.grad()` untouched, `backward` still
//! right afterwards, no recursion on deep graphs).
//!
//! Tolerances: the engine's derivatives are exact formulas evaluated in `f64`, so they agree
//! with the closed forms to a few ulps per op on the path; we accept a relative error of
//! 1e-12 (absolute near 0), far below any wrong factor or sign.

// Matrices are indexed as in the maths (H[i][j] against H[j][i]), not iterated.
#![allow(clippy::needless_range_loop)]

use scalargrad::custom::Softplus;
use scalargrad::hessian::derivatives;
use scalargrad::{Graph, Scalar, UnaryFn, Var};

const POINTS: [f64; 11] = [-4.0, -2.5, -1.0, -0.3, -1e-3, 1e-3, 0.2, 0.7, 1.0, 2.0, 3.5];
const POSITIVE: [f64; 8] = [1e-2, 0.1, 0.5, 0.9, 1.0, 1.7, 3.0, 12.0];

#[track_caller]
fn assert_close(actual: f64, expected: f64, what: &str) {
    let tol = 1e-12 * (1.0 + expected.abs());
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: {actual} vs closed form {expected} (diff {:e}, tol {tol:e})",
        (actual - expected).abs()
    );
}

/// Checks `derivatives(f, x, n)` against the closed forms `expected(x)` = `[f, f′, …]`.
#[track_caller]
fn check_derivatives(
    name: &str,
    points: &[f64],
    f: impl for<'g> Fn(&'g Graph, &[Var<'g>]) -> Var<'g>,
    expected: impl Fn(f64) -> Vec<f64>,
) {
    for &x in points {
        let want = expected(x);
        let got = derivatives(&f, x, want.len() - 1);
        for (k, (&a, &e)) in got.iter().zip(&want).enumerate() {
            assert_close(a, e, &format!("{name}, order {k} at x = {x}"));
        }
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn sigmoid_second_and_third_derivative() {
    check_derivatives(
        "sigmoid",
        &POINTS,
        |_, x| x[0].sigmoid(),
        |x| {
            let s = sigmoid(x);
            vec![
                s,
                s * (1.0 - s),
                s * (1.0 - s) * (1.0 - 2.0 * s),
                s * (1.0 - s) * (1.0 - 6.0 * s + 6.0 * s * s),
            ]
        },
    );
}

#[test]
fn x_to_the_fifth_to_every_order() {
    check_derivatives(
        "x^5",
        &POINTS,
        |_, x| x[0].pow(5.0),
        |x| {
            vec![
                x.powi(5),
                5.0 * x.powi(4),
                20.0 * x.powi(3),
                60.0 * x * x,
                120.0 * x,
                120.0,
                0.0,
                0.0,
            ]
        },
    );
}

#[test]
fn fractional_power_third_derivative() {
    // x^1.5: 1.5 x^0.5, 0.75 x^-0.5, -0.375 x^-1.5
    check_derivatives(
        "x^1.5",
        &POSITIVE,
        |_, x| x[0].pow(1.5),
        |x| {
            vec![
                x.powf(1.5),
                1.5 * x.sqrt(),
                0.75 / x.sqrt(),
                -0.375 * x.powf(-1.5),
            ]
        },
    );
}

#[test]
fn tanh_second_and_third_derivative() {
    check_derivatives(
        "tanh",
        &POINTS,
        |_, x| x[0].tanh(),
        |x| {
            let t = x.tanh();
            let d = 1.0 - t * t;
            vec![t, d, -2.0 * t * d, -2.0 * d * (1.0 - 3.0 * t * t)]
        },
    );
}

#[test]
fn exp_is_its_own_derivative_to_fifth_order() {
    check_derivatives("exp", &POINTS, |_, x| x[0].exp(), |x| vec![x.exp(); 6]);
}

#[test]
fn ln_derivatives() {
    check_derivatives(
        "ln",
        &POSITIVE,
        |_, x| x[0].ln(),
        |x| {
            vec![
                x.ln(),
                1.0 / x,
                -1.0 / (x * x),
                2.0 / x.powi(3),
                -6.0 / x.powi(4),
            ]
        },
    );
}

#[test]
fn reciprocal_through_div() {
    // 1/x: −1/x², 2/x³, −6/x⁴
    check_derivatives(
        "1/x",
        &POINTS,
        |_, x| 1.0 / x[0],
        |x| vec![1.0 / x, -1.0 / (x * x), 2.0 / x.powi(3), -6.0 / x.powi(4)],
    );
}

#[test]
fn neg_and_sub() {
    // −x³ and (2 − x)³ − x: sub with the variable on the right
    check_derivatives(
        "-x^3",
        &POINTS,
        |_, x| -(x[0] * x[0] * x[0]),
        |x| vec![-x.powi(3), -3.0 * x * x, -6.0 * x, -6.0, 0.0],
    );
    check_derivatives(
        "(2-x)^3 - x",
        &POINTS,
        |_, x| (2.0 - x[0]).pow(3.0) - x[0],
        |x| {
            let u = 2.0 - x;
            vec![u.powi(3) - x, -3.0 * u * u - 1.0, 6.0 * u, -6.0, 0.0]
        },
    );
}

#[test]
fn relu_second_derivative_is_zero_away_from_the_kink() {
    for &x in &POINTS {
        // relu(x)·x = x² for x > 0, 0 otherwise: second derivative 2 or 0
        let d = derivatives(|_, v| v[0].relu() * v[0], x, 3);
        let (d1, d2) = if x > 0.0 { (2.0 * x, 2.0) } else { (0.0, 0.0) };
        assert_eq!(d[1..], [d1, d2, 0.0], "relu(x)·x at {x}");
        let d = derivatives(|_, v| v[0].relu(), x, 2);
        assert_eq!(
            d[1..],
            [if x > 0.0 { 1.0 } else { 0.0 }, 0.0],
            "relu at {x}"
        );
    }
    // at the kink the first derivative is 0 (as PyTorch), and so is the second
    assert_eq!(derivatives(|_, v| v[0].relu(), 0.0, 2), [0.0, 0.0, 0.0]);
}

#[test]
fn x_plus_x_and_x_times_x() {
    let g = Graph::new();
    let x = g.var(3.0);
    let (sum, prod) = (x + x, x * x);
    let ds = g.grad(sum, &[x])[0];
    let dp = g.grad(prod, &[x])[0];
    assert_eq!((ds.value(), dp.value()), (2.0, 6.0));
    assert_eq!(g.grad(ds, &[x])[0].value(), 0.0);
    assert_eq!(g.grad(dp, &[x])[0].value(), 2.0);
}

/// ∂ⁱ⁺ʲ f / ∂aⁱ ∂bʲ at (a, b) by recording gradients: `order` lists which input to
/// differentiate by at each step.
fn partial(
    f: impl for<'g> Fn(Var<'g>, Var<'g>) -> Var<'g>,
    a: f64,
    b: f64,
    order: &[usize],
) -> f64 {
    let g = Graph::new();
    let v = [g.var(a), g.var(b)];
    let mut d = f(v[0], v[1]);
    for &i in order {
        d = g.grad(d, &v)[i];
    }
    d.value()
}

#[test]
fn div_in_both_arguments() {
    for &a in &POINTS {
        for &b in &POINTS {
            fn f<'g>(x: Var<'g>, y: Var<'g>) -> Var<'g> {
                x / y
            }
            let at = |order: &[usize]| partial(f, a, b, order);
            let what = |s: &str| format!("{s} of a/b at ({a}, {b})");
            assert_close(at(&[0, 0]), 0.0, &what("∂²/∂a²"));
            assert_close(at(&[0, 1]), -1.0 / (b * b), &what("∂²/∂a∂b"));
            assert_close(at(&[1, 0]), -1.0 / (b * b), &what("∂²/∂b∂a"));
            assert_close(at(&[1, 1]), 2.0 * a / b.powi(3), &what("∂²/∂b²"));
            assert_close(at(&[1, 1, 1]), -6.0 * a / b.powi(4), &what("∂³/∂b³"));
            assert_close(at(&[0, 1, 1]), 2.0 / b.powi(3), &what("∂³/∂a∂b²"));
        }
    }
}

#[test]
fn pow_var_in_both_arguments() {
    for &a in &POSITIVE {
        for &b in &[-1.5, -0.5, 0.0, 0.5, 1.0, 2.0, 3.3] {
            fn f<'g>(x: Var<'g>, y: Var<'g>) -> Var<'g> {
                x.pow_var(y)
            }
            let at = |order: &[usize]| partial(f, a, b, order);
            let what = |s: &str| format!("{s} of a^b at ({a}, {b})");
            let (y, l) = (a.powf(b), a.ln());
            assert_close(at(&[0]), b * a.powf(b - 1.0), &what("∂/∂a"));
            assert_close(at(&[1]), y * l, &what("∂/∂b"));
            assert_close(
                at(&[0, 0]),
                b * (b - 1.0) * a.powf(b - 2.0),
                &what("∂²/∂a²"),
            );
            assert_close(at(&[1, 1]), y * l * l, &what("∂²/∂b²"));
            let mixed = a.powf(b - 1.0) * (1.0 + b * l);
            assert_close(at(&[0, 1]), mixed, &what("∂²/∂a∂b"));
            assert_close(at(&[1, 0]), mixed, &what("∂²/∂b∂a"));
            assert_close(at(&[1, 1, 1]), y * l * l * l, &what("∂³/∂b³"));
            let d3 = b * (b - 1.0) * (b - 2.0) * a.powf(b - 3.0);
            assert_close(at(&[0, 0, 0]), d3, &what("∂³/∂a³"));
        }
    }
}

#[test]
fn mixed_partials_of_exp_xy() {
    // f = e^(xy): ∂²f/∂x∂y = e^(xy)(1 + xy), ∂²f/∂x² = y² e^(xy), ∂³f/∂x²∂y = e^(xy)(2y + xy²)
    for &a in &POINTS {
        for &b in &[-1.2, 0.0, 0.4, 1.1] {
            fn f<'g>(x: Var<'g>, y: Var<'g>) -> Var<'g> {
                (x * y).exp()
            }
            let e = (a * b).exp();
            let what = format!("e^(xy) at ({a}, {b})");
            assert_close(partial(f, a, b, &[0, 1]), e * (1.0 + a * b), &what);
            assert_close(partial(f, a, b, &[1, 0]), e * (1.0 + a * b), &what);
            assert_close(partial(f, a, b, &[0, 0]), b * b * e, &what);
            let d3 = e * (2.0 * b + a * b * b);
            assert_close(partial(f, a, b, &[0, 0, 1]), d3, &what);
            assert_close(partial(f, a, b, &[0, 1, 0]), d3, &what);
            assert_close(partial(f, a, b, &[1, 0, 0]), d3, &what);
        }
    }
}

/// softplus(x) = ln(1 + eˣ): its derivative σ(x) is written with `Scalar` ops, so the
/// second and third derivatives come from the sigmoid rule.
/// eˣ as a custom op whose derivative is computed from the output `y`.
struct MyExp;

impl UnaryFn for MyExp {
    fn name(&self) -> &str {
        "my_exp"
    }
    fn value(&self, x: f64) -> f64 {
        x.exp()
    }
    fn derivative<S: Scalar>(&self, _x: S, y: S) -> S {
        y
    }
}

#[test]
fn custom_ops_to_third_order() {
    check_derivatives(
        "softplus",
        &POINTS,
        |g, x| g.custom(Softplus).apply(x[0]),
        |x| {
            let s = sigmoid(x);
            vec![
                x.max(0.0) + (-x.abs()).exp().ln_1p(),
                s,
                s * (1.0 - s),
                s * (1.0 - s) * (1.0 - 2.0 * s),
            ]
        },
    );
    check_derivatives(
        "custom exp (derivative from the output)",
        &POINTS,
        |g, x| g.custom(MyExp).apply(x[0] * 2.0),
        |x| {
            let e = (2.0 * x).exp();
            vec![e, 2.0 * e, 4.0 * e, 8.0 * e]
        },
    );
}

#[test]
fn fused_sum_dot_affine_second_derivatives() {
    for (a, b, c) in [
        (0.7, -1.3, 2.1),
        (-2.0, 0.4, -0.6),
        (0.0, 1.5, 0.3),
        (3.0, -0.2, -4.0),
    ] {
        let g = Graph::new();
        let v = [g.var(a), g.var(b), g.var(c)];
        let k = g.constant(0.5);
        // sum(x², xy, y³, k) : H = [[2, 1, 0], [1, 6y, 0], [0, 0, 0]]
        let s = g.sum(&[v[0] * v[0], v[0] * v[1], v[1].pow(3.0), k]);
        // dot(w, w) = Σ wᵢ²: H = 2I
        let d = g.dot(&v, &v);
        // σ(u) with u = c + a·b + b·k, a fused affine node
        let z = g.affine(v[2], &[v[0], v[1]], &[v[1], k]).sigmoid();
        let hess = |y: Var<'_>| -> Vec<Vec<f64>> {
            g.grad(y, &v)
                .iter()
                .map(|&d| g.grad(d, &v).iter().map(|h| h.value()).collect())
                .collect()
        };
        let (hs, hd, hz) = (hess(s), hess(d), hess(z));
        let want = [[2.0, 1.0, 0.0], [1.0, 6.0 * b, 0.0], [0.0, 0.0, 0.0]];
        let u = c + a * b + b * 0.5;
        let sg = sigmoid(u);
        let s1 = sg * (1.0 - sg);
        let s2 = s1 * (1.0 - 2.0 * sg);
        let s3 = s1 * (1.0 - 6.0 * sg + 6.0 * sg * sg);
        let du = [b, a + 0.5, 1.0]; // ∂u/∂(a, b, c)
        for i in 0..3 {
            for j in 0..3 {
                let at = format!("H[{i}][{j}] at ({a}, {b}, {c})");
                assert_close(hs[i][j], want[i][j], &format!("sum {at}"));
                let eye = if i == j { 2.0 } else { 0.0 };
                assert_close(hd[i][j], eye, &format!("dot {at}"));
                // ∂²σ(u) = σ''·uᵢ·uⱼ + σ'·uᵢⱼ, with u_ab = u_ba = 1 the only nonzero uᵢⱼ
                let uij = if i + j == 1 { 1.0 } else { 0.0 };
                let want = s2 * du[i] * du[j] + s1 * uij;
                assert_close(hz[i][j], want, &format!("affine {at}"));
            }
        }
        // third order through the fused node: ∂³σ(u)/∂c³ = σ‴, ∂³σ(u)/∂a∂b∂c = σ‴·b·(a + k) + σ″
        let dc = g.grad(z, &v)[2];
        let dcc = g.grad(dc, &v)[2];
        assert_close(g.grad(dcc, &v)[2].value(), s3, "∂³σ(u)/∂c³");
        let dcb = g.grad(dc, &v)[1];
        let want = s3 * b * (a + 0.5) + s2;
        assert_close(g.grad(dcb, &v)[0].value(), want, "∂³σ(u)/∂a∂b∂c");
    }
}

#[test]
fn gradient_nodes_match_backward_and_leave_grads_untouched() {
    let g = Graph::new();
    let (a, b) = (g.var(0.4), g.var(-1.1));
    let y = (a * b).tanh() + a.exp() / (b * b + 1.0);
    let d = g.grad(y, &[a, b]);
    assert_eq!((a.grad(), b.grad(), y.grad()), (0.0, 0.0, 0.0));
    assert!(d.iter().all(|d| d.grad() == 0.0));
    y.backward();
    // the recorded rules are the very rules backward runs: bit-identical
    assert_eq!(d[0].value().to_bits(), a.grad().to_bits());
    assert_eq!(d[1].value().to_bits(), b.grad().to_bits());
    // backward still works on the original graph after grad added nodes, and accumulates
    y.backward();
    assert_eq!(a.grad(), 2.0 * d[0].value());
}

#[test]
fn backward_through_a_recorded_gradient_gives_the_second_derivative() {
    // the recorded gradient is an ordinary node: backward from it accumulates f″ into x
    let g = Graph::new();
    let x = g.var(0.3);
    let d1 = g.grad(x.sigmoid(), &[x])[0];
    d1.backward();
    let s = sigmoid(0.3);
    assert_close(x.grad(), s * (1.0 - s) * (1.0 - 2.0 * s), "σ″ by backward");
}

#[test]
fn unrelated_and_constant_inputs_get_a_constant_zero() {
    let g = Graph::new();
    let (x, unused, c) = (g.var(2.0), g.var(5.0), g.constant(3.0));
    let y = x * c;
    let later = g.var(1.0); // created after y: cannot be an ancestor
    let d = g.grad(y, &[x, unused, c, later, x]);
    let values: Vec<f64> = d.iter().map(|d| d.value()).collect();
    assert_eq!(values, [3.0, 0.0, 0.0, 0.0, 3.0]);
    assert!(d[1..4].iter().all(|d| !d.is_tracked()));
    // a y that depends on no tracked leaf: every entry is a constant 0
    let k = c * 2.0;
    assert_eq!(g.grad(k, &[x, c])[0].value(), 0.0);
    assert!(g.grad(k, &[x, c]).iter().all(|d| d.value() == 0.0));
}

#[test]
fn gradient_with_respect_to_itself_and_an_intermediate_node() {
    let g = Graph::new();
    let x = g.var(1.5);
    let u = x * x; // intermediate
    let y = u.ln() + u;
    let d = g.grad(y, &[y, u, x]);
    assert_eq!(d[0].value(), 1.0);
    assert_close(d[1].value(), 1.0 / 2.25 + 1.0, "∂y/∂u");
    assert_close(d[2].value(), (1.0 / 2.25 + 1.0) * 3.0, "∂y/∂x");
    // and ∂/∂x of ∂y/∂u = −2x/u²
    assert_close(
        g.grad(d[1], &[x])[0].value(),
        -3.0 / 2.25f64.powi(2),
        "∂²y/∂x∂u",
    );
}

#[test]
fn second_order_on_a_deep_chain_needs_no_recursion() {
    // y = (…((x·c)·c)…)·c with c = 1 + 1e-6, 100,000 deep: y = x·cⁿ, y' = cⁿ, y'' = 0;
    // z = y² gives z'' = 2c²ⁿ
    let n = 100_000;
    let g = Graph::new();
    let x = g.var(0.5);
    let c = 1.0 + 1e-6;
    let mut y = x;
    for _ in 0..n {
        y *= c;
    }
    let z = y * y;
    let d1 = g.grad(z, &[x])[0];
    let d2 = g.grad(d1, &[x])[0];
    let cn = c.powi(n);
    assert!((d1.value() - 2.0 * 0.5 * cn * cn).abs() < 1e-9);
    assert!((d2.value() - 2.0 * cn * cn).abs() < 1e-9);
}

#[test]
#[should_panic(expected = "another Graph")]
fn a_handle_from_another_graph_panics() {
    let (g, h) = (Graph::new(), Graph::new());
    let x = g.var(1.0);
    let y = h.var(2.0);
    g.grad(x * x, &[y]);
}

#[test]
#[should_panic(expected = "freed")]
fn a_freed_handle_panics() {
    let g = Graph::new();
    let x = g.var(1.0);
    let mark = g.mark();
    let y = x * x;
    g.rewind(mark);
    g.grad(y, &[x]);
}

#[test]
fn only_paths_from_the_listed_inputs_are_recorded() {
    // y = x·a + big(z): the gradient with respect to x must not record big's derivative
    let g = Graph::new();
    let (x, a, z) = (g.var(0.5), g.var(3.0), g.var(0.2));
    let mut big = z;
    for _ in 0..50 {
        big = big.tanh() * 1.5;
    }
    let y = x * a + big;
    let before = g.len();
    let dx = g.grad(y, &[x])[0];
    assert_eq!(dx.value(), 3.0);
    // seed constant, one product for ∂(x·a)/∂x, and nothing for the 100 nodes of `big`
    assert!(g.len() - before <= 3, "recorded {} nodes", g.len() - before);
    let before = g.len();
    let dz = g.grad(y, &[z])[0];
    assert!(
        g.len() - before >= 100,
        "recorded {} nodes",
        g.len() - before
    );
    assert!(dz.value().is_finite());
}

#[test]
fn grad_with_respect_to_a_constant_is_zero_as_backward_gives() {
    // an untracked root (made of constants) has no gradient to record, even where it
    // depends on the inputs asked for: the same 0 that `backward` leaves in `grad`
    let g = Graph::new();
    let c = g.constant(3.0);
    let y = c * 2.0;
    assert!(!y.is_tracked());
    let before = g.len();
    let d = g.grad(y, &[c]);
    assert_eq!(d[0].value(), 0.0);
    assert_eq!(
        g.len(),
        before + 1,
        "only the constant 0 given for c is recorded"
    );
    y.backward();
    assert_eq!(c.grad(), 0.0);
    // with a tracked input beside it, the constant still gets 0
    let x = g.var(5.0);
    let z = x * c;
    let d = g.grad(z, &[x, c]);
    assert_eq!((d[0].value(), d[1].value()), (3.0, 0.0));
}
