//! Every op's value and derivative against closed forms, edge points included, and the
//! accumulation semantics of the reverse pass.

use scalargrad::custom::Softplus;
use scalargrad::{Graph, Var};

/// `f` applied to one tracked leaf at `x`: the value and `dy/dx` from the engine.
fn value_and_derivative(x: f64, f: impl for<'g> Fn(Var<'g>) -> Var<'g>) -> (f64, f64) {
    let g = Graph::new();
    let v = g.var(x);
    let y = f(v);
    y.backward();
    (y.value(), v.grad())
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    a == b || (a - b).abs() <= rel * a.abs().max(b.abs())
}

#[track_caller]
fn assert_close(actual: f64, expected: f64, rel: f64) {
    assert!(
        close(actual, expected, rel),
        "{actual} vs expected {expected} (rel tol {rel})"
    );
}

const POINTS: [f64; 9] = [-3.7, -1.0, -0.25, -1e-3, 1e-3, 0.3, 1.0, 2.5, 10.0];

#[test]
fn add_sub_mul_div_neg_with_handles() {
    for &a in &POINTS {
        for &b in &POINTS {
            let g = Graph::new();
            let (x, y) = (g.var(a), g.var(b));
            for (out, va, da, db) in [
                (x + y, a + b, 1.0, 1.0),
                (x - y, a - b, 1.0, -1.0),
                (x * y, a * b, b, a),
                (x / y, a / b, 1.0 / b, -a / (b * b)),
            ] {
                g.zero_grad();
                out.backward();
                assert_eq!(out.value(), va);
                assert_close(x.grad(), da, 1e-15);
                assert_close(y.grad(), db, 1e-15);
            }
            let n = -x;
            g.zero_grad();
            n.backward();
            assert_eq!((n.value(), x.grad()), (-a, -1.0));
        }
    }
}

#[test]
fn f64_on_either_side_becomes_a_constant() {
    let g = Graph::new();
    let x = g.var(4.0);
    let cases: [(Var, f64, f64); 8] = [
        (x + 2.0, 6.0, 1.0),
        (2.0 + x, 6.0, 1.0),
        (x - 2.0, 2.0, 1.0),
        (2.0 - x, -2.0, -1.0),
        (x * 2.0, 8.0, 2.0),
        (2.0 * x, 8.0, 2.0),
        (x / 2.0, 2.0, 0.5),
        (2.0 / x, 0.5, -2.0 / 16.0),
    ];
    for (y, value, derivative) in cases {
        g.zero_grad();
        y.backward();
        assert_eq!((y.value(), x.grad()), (value, derivative));
    }
    // each op made one constant node and one op node
    assert_eq!(g.len(), 1 + 2 * 8);
    let mut acc = x;
    acc += 1.0;
    acc -= x;
    acc *= 3.0;
    acc /= x;
    acc.backward();
    assert_eq!(acc.value(), 0.75); // ((x + 1) − x)·3 / x
}

#[test]
fn pow_constant_exponent() {
    for &a in &[0.3, 1.0, 2.5, 10.0] {
        for &k in &[-2.0, -0.5, 0.5, 1.0, 2.0, 3.0, 5.5] {
            let (v, d) = value_and_derivative(a, |x| x.pow(k));
            assert_eq!(v, a.powf(k));
            assert_close(d, k * a.powf(k - 1.0), 1e-15);
        }
    }
    // x⁰ = 1 with derivative 0, even at 0 (no 0·∞)
    assert_eq!(value_and_derivative(0.0, |x| x.pow(0.0)), (1.0, 0.0));
    // x² at 0
    assert_eq!(value_and_derivative(0.0, |x| x.pow(2.0)), (0.0, 0.0));
}

#[test]
fn pow_outside_its_domain_is_ieee() {
    let (v, d) = value_and_derivative(-8.0, |x| x.pow(1.0 / 3.0));
    assert!(v.is_nan() && d.is_nan());
    let (v, d) = value_and_derivative(0.0, |x| x.pow(-1.0));
    assert_eq!((v, d), (f64::INFINITY, f64::NEG_INFINITY));
    let (v, d) = value_and_derivative(0.0, |x| x.pow(0.5));
    assert_eq!((v, d), (0.0, f64::INFINITY));
    // integer exponent of a negative base is fine
    assert_eq!(value_and_derivative(-2.0, |x| x.pow(3.0)), (-8.0, 12.0));
}

#[test]
fn pow_with_a_handle_exponent() {
    for &a in &[0.3, 1.0, 2.5] {
        for &b in &[-1.5, 0.0, 0.5, 2.0, 3.0] {
            let g = Graph::new();
            let (x, e) = (g.var(a), g.var(b));
            let y = x.pow_var(e);
            y.backward();
            assert_eq!(y.value(), a.powf(b));
            assert_close(x.grad(), b * a.powf(b - 1.0), 1e-15);
            assert_close(e.grad(), a.powf(b) * a.ln(), 1e-15);
        }
    }
    // 0^b for b ≥ 0: the exponent's derivative is the limit 0, not 0·ln 0 = NaN
    let g = Graph::new();
    let (x, e) = (g.var(0.0), g.var(2.0));
    x.pow_var(e).backward();
    assert_eq!((x.grad(), e.grad()), (0.0, 0.0));
    // a negative base: IEEE NaN, as ln of a negative number
    let g = Graph::new();
    let (x, e) = (g.var(-2.0), g.var(2.0));
    let y = x.pow_var(e);
    y.backward();
    assert_eq!((y.value(), x.grad()), (4.0, -4.0));
    assert!(e.grad().is_nan());
}

#[test]
fn exp_and_ln() {
    for &a in &POINTS {
        let (v, d) = value_and_derivative(a, |x| x.exp());
        assert_eq!((v, d), (a.exp(), a.exp()));
        if a > 0.0 {
            let (v, d) = value_and_derivative(a, |x| x.ln());
            assert_eq!(v, a.ln());
            assert_close(d, 1.0 / a, 1e-15);
        }
    }
    assert_eq!(
        value_and_derivative(0.0, |x| x.ln()),
        (f64::NEG_INFINITY, f64::INFINITY)
    );
    let (v, d) = value_and_derivative(-1.0, |x| x.ln());
    assert!(v.is_nan());
    assert_eq!(d, -1.0); // 1/x is defined; the value is not
    assert_eq!(
        value_and_derivative(710.0, |x| x.exp()),
        (f64::INFINITY, f64::INFINITY)
    );
}

#[test]
fn sigmoid_value_and_derivative() {
    for &a in &POINTS {
        let s = 1.0 / (1.0 + (-a).exp());
        let (v, d) = value_and_derivative(a, |x| x.sigmoid());
        assert_close(v, s, 1e-15);
        assert_close(d, s * (1.0 - s), 1e-14);
    }
}

#[test]
fn sigmoid_is_stable_far_out() {
    assert_eq!(value_and_derivative(-1000.0, |x| x.sigmoid()), (0.0, 0.0));
    assert_eq!(value_and_derivative(1000.0, |x| x.sigmoid()), (1.0, 0.0));
    let (v, d) = value_and_derivative(-700.0, |x| x.sigmoid());
    assert!(v > 0.0 && d > 0.0 && d.is_finite());
}

#[test]
fn tanh_value_and_derivative() {
    for &a in &POINTS {
        let t = a.tanh();
        let (v, d) = value_and_derivative(a, |x| x.tanh());
        assert_eq!(v, t);
        assert_close(d, 1.0 - t * t, 1e-15);
        // against the closed form sech² = 4 / (eˣ + e⁻ˣ)²: 1 − y² is exact to absolute
        // rounding (its relative error grows where tanh saturates, as in PyTorch)
        let sech2 = 4.0 / (a.exp() + (-a).exp()).powi(2);
        assert!((d - sech2).abs() <= 1e-15, "{d} vs {sech2}");
    }
    assert_eq!(value_and_derivative(1000.0, |x| x.tanh()), (1.0, 0.0));
    assert_eq!(value_and_derivative(-1000.0, |x| x.tanh()), (-1.0, 0.0));
}

#[test]
fn relu_value_and_derivative_with_zero_at_the_kink() {
    assert_eq!(value_and_derivative(-2.0, |x| x.relu()), (0.0, 0.0));
    assert_eq!(value_and_derivative(0.0, |x| x.relu()), (0.0, 0.0));
    assert_eq!(value_and_derivative(-0.0, |x| x.relu()), (0.0, 0.0));
    assert_eq!(value_and_derivative(1e-300, |x| x.relu()), (1e-300, 1.0));
    assert_eq!(value_and_derivative(3.0, |x| x.relu()), (3.0, 1.0));
    let (v, _) = value_and_derivative(f64::NAN, |x| x.relu());
    assert!(v.is_nan());
}

#[test]
fn division_by_zero_is_ieee() {
    let g = Graph::new();
    let (a, b) = (g.var(1.0), g.var(0.0));
    let y = a / b;
    y.backward();
    assert_eq!(
        (y.value(), a.grad(), b.grad()),
        (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY)
    );
    let g = Graph::new();
    let (a, b) = (g.var(0.0), g.var(0.0));
    let y = a / b;
    y.backward();
    assert!(y.value().is_nan() && a.grad().is_infinite() && b.grad().is_nan());
}

#[test]
fn custom_op_softplus() {
    for &a in &POINTS {
        let g = Graph::new();
        let softplus = g.custom(Softplus);
        let x = g.var(a);
        let y = softplus.apply(x);
        y.backward();
        assert_close(y.value(), (1.0 + a.exp()).ln(), 1e-14);
        assert_close(x.grad(), 1.0 / (1.0 + (-a).exp()), 1e-15);
    }
    let g = Graph::new();
    let softplus = g.custom(Softplus);
    assert_eq!(softplus.name(), "softplus");
    assert!(g
        .to_dot(softplus.apply(g.var(1.0)))
        .to_string()
        .contains("softplus"));
}

#[test]
fn fused_nodes_are_bit_identical_to_binary_chains() {
    let ws = [0.1, -0.7, 0.3333, 2.5, -1e-3];
    let xs = [1.7, 0.2, -0.9, 0.04, 12.0];
    let b = 0.37;
    // element by element, micrograd's order: act = b; act = act + w·x
    let chain = Graph::new();
    let (cb, cw, cx) = leaves(&chain, b, &ws, &xs);
    let mut act = cb;
    for (&w, &x) in cw.iter().zip(&cx) {
        act += w * x;
    }
    act.backward();
    // fused
    let fused = Graph::new();
    let (fb, fw, fx) = leaves(&fused, b, &ws, &xs);
    let y = fused.affine(fb, &fw, &fx);
    y.backward();
    assert_eq!(y.value().to_bits(), act.value().to_bits());
    assert_eq!(fb.grad(), cb.grad());
    for i in 0..ws.len() {
        assert_eq!(fw[i].grad().to_bits(), cw[i].grad().to_bits());
        assert_eq!(fx[i].grad().to_bits(), cx[i].grad().to_bits());
    }
    // dot and sum against their chains
    let g = Graph::new();
    let (_, w, x) = leaves(&g, 0.0, &ws, &xs);
    let d = g.dot(&w, &x);
    let mut chain = w[0] * x[0];
    for i in 1..ws.len() {
        chain += w[i] * x[i];
    }
    assert_eq!(d.value().to_bits(), chain.value().to_bits());
    let s = g.sum(&x);
    assert_eq!(s.value(), xs.iter().fold(0.0, |a, b| a + b));
    s.backward();
    assert!(x.iter().all(|x| x.grad() == 1.0));
}

type Leaves<'g> = (Var<'g>, Vec<Var<'g>>, Vec<Var<'g>>);

fn leaves<'g>(g: &'g Graph, b: f64, ws: &[f64], xs: &[f64]) -> Leaves<'g> {
    (
        g.var(b),
        ws.iter().map(|&w| g.var(w)).collect(),
        xs.iter().map(|&x| g.var(x)).collect(),
    )
}

#[test]
fn x_plus_x() {
    let g = Graph::new();
    let x = g.var(3.0);
    let y = x + x;
    y.backward();
    assert_eq!((y.value(), x.grad()), (6.0, 2.0));
}

#[test]
fn x_times_x() {
    let g = Graph::new();
    let x = g.var(3.0);
    let y = x * x;
    y.backward();
    assert_eq!((y.value(), x.grad()), (9.0, 6.0));
}

#[test]
fn diamond_sums_both_paths() {
    // y = (x·2)·(x + 1): dy/dx = 2(x + 1) + 2x = 4x + 2
    let g = Graph::new();
    let x = g.var(1.5);
    let (a, b) = (x * 2.0, x + 1.0);
    let y = a * b;
    y.backward();
    assert_eq!((y.value(), x.grad()), (7.5, 8.0));
    // intermediate nodes keep their gradients too
    assert_eq!((a.grad(), b.grad()), (2.5, 3.0));
}

#[test]
fn backward_twice_accumulates_until_zero_grad() {
    let g = Graph::new();
    let x = g.var(2.0);
    let y = x * x * x;
    y.backward();
    y.backward();
    assert_eq!(x.grad(), 24.0);
    g.zero_grad();
    assert_eq!(x.grad(), 0.0);
    y.backward();
    assert_eq!(x.grad(), 12.0);
}

#[test]
fn backward_only_reaches_ancestors() {
    let g = Graph::new();
    let (x, unused) = (g.var(2.0), g.var(5.0));
    let other = unused * 3.0; // a later branch that y does not use
    let y = x.exp();
    let _after = y * unused; // recorded after y: not an ancestor
    y.backward();
    assert_eq!(x.grad(), 2f64.exp());
    assert_eq!((unused.grad(), other.grad()), (0.0, 0.0));
}

#[test]
fn a_poisoned_non_ancestor_does_not_leak_into_gradients() {
    // ln(0) = −inf sits in the graph but is not an ancestor of y: x's gradient stays exact.
    let g = Graph::new();
    let x = g.var(0.0);
    let _poison = x.ln();
    let y = x * 3.0;
    y.backward();
    assert_eq!(x.grad(), 3.0);
}

#[test]
fn constants_receive_nothing_and_backward_from_a_constant_does_nothing() {
    let g = Graph::new();
    let (c, x) = (g.constant(2.0), g.var(3.0));
    let y = c * x;
    y.backward();
    assert_eq!((c.grad(), x.grad()), (0.0, 2.0));
    let k = c * 5.0;
    assert!(!k.is_tracked());
    k.backward();
    assert_eq!((c.grad(), k.grad()), (0.0, 0.0));
}

#[test]
#[allow(clippy::misrefactored_assign_op)] // micrograd's README expression, as written there
fn textbook_composite_against_hand_derivative() {
    // micrograd's README expression, checked against its printed results
    let g = Graph::new();
    let a = g.var(-4.0);
    let b = g.var(2.0);
    let mut c = a + b;
    let mut d = a * b + b.pow(3.0);
    c += c + 1.0;
    c += 1.0 + c + (-a);
    d += d * 2.0 + (b + a).relu();
    d += 3.0 * d + (b - a).relu();
    let e = c - d;
    let f = e.pow(2.0);
    let mut g2 = f / 2.0;
    g2 += 10.0 / f;
    g2.backward();
    assert_close(g2.value(), 24.70408163265306, 1e-15);
    assert_close(a.grad(), 138.83381924198252, 1e-14);
    assert_close(b.grad(), 645.5772594752186, 1e-14);
}

#[test]
fn a_million_deep_chain_goes_forward_and_backward() {
    let g = Graph::with_capacity(2_000_001);
    let x = g.var(1.0);
    let mut y = x;
    for _ in 0..1_000_000 {
        y += x;
    }
    y.backward();
    assert_eq!((y.value(), x.grad()), (1_000_001.0, 1_000_001.0));
}

#[test]
fn constants_in_a_dot_or_an_affine_get_no_gradient() {
    let g = Graph::new();
    let w = [g.var(2.0), g.var(3.0)];
    let c = [g.constant(5.0), g.constant(7.0)];
    let b = g.var(1.0);
    // constants on either side; then inputs of which some want a gradient, not all
    let mixed = [g.var(11.0), g.constant(13.0)];
    let y = g.affine(b, &w, &c) + g.dot(&c, &w) + g.dot(&w, &mixed);
    y.backward();
    assert_eq!(y.value(), 1.0 + 2.0 * (10.0 + 21.0) + 22.0 + 39.0);
    assert_eq!((w[0].grad(), w[1].grad(), b.grad()), (21.0, 27.0, 1.0));
    assert_eq!((c[0].grad(), c[1].grad()), (0.0, 0.0));
    assert_eq!((mixed[0].grad(), mixed[1].grad()), (2.0, 0.0));
}

#[test]
fn clamp_to_a_single_point_is_allowed_and_passes_the_gradient_there() {
    let g = Graph::new();
    let (x, y) = (g.var(1.0), g.var(3.0));
    let (cx, cy) = (x.clamp(1.0, 1.0), y.clamp(1.0, 1.0));
    (cx + cy).backward();
    assert_eq!((cx.value(), cy.value()), (1.0, 1.0));
    // the bounds are inside: derivative 1 at x = 1, 0 at y = 3
    assert_eq!((x.grad(), y.grad()), (1.0, 0.0));
}

#[test]
fn a_freed_handle_displays_as_freed_and_a_live_one_as_its_value() {
    let g = Graph::new();
    let mark = g.mark();
    let x = g.var(0.25);
    assert_eq!(format!("{x}"), "0.25");
    g.rewind(mark);
    assert_eq!(format!("{x}"), "<freed>");
}

#[test]
fn an_affine_map_of_no_terms_is_its_bias() {
    let g = Graph::new();
    let b = g.var(0.5);
    let y = g.affine(b, &[], &[]);
    assert_eq!(y.value(), 0.5);
    (y * 3.0).backward();
    assert_eq!(b.grad(), 3.0);
}
