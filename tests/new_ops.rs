//! The ops added with the op list: `square`, `clamp`, `log`, `detach`, `Graph::logsumexp`,
//! and `nn::loss::{softmax, log_softmax, cross_entropy}`; each against closed forms (value,
//! first and second derivative), central differences, and its edge points. Their IEEE rows
//! are in `tests/ieee.rs`.

use scalargrad::check::{gradcheck, gradgradcheck, graph_fn, Tolerance};
use scalargrad::nn::loss;
use scalargrad::{Graph, Value, Var};

/// The first and second derivative of `f` at `x`, recorded as nodes.
fn d1_d2(f: for<'g> fn(Var<'g>) -> Var<'g>, x: f64) -> (f64, f64, f64) {
    let g = Graph::new();
    let v = g.var(x);
    let y = f(v);
    let d1 = g.grad(y, &[v])[0];
    let d2 = g.grad(d1, &[v])[0];
    (y.value(), d1.value(), d2.value())
}

#[test]
fn square_value_and_derivatives_are_x_squared_2x_and_2() {
    for x in [-3.5, -1.0, 0.0, 0.1, 2.0, 1e10] {
        assert_eq!(d1_d2(|v| v.square(), x), (x * x, 2.0 * x, 2.0));
    }
    // bit for bit the product it replaces, gradient included
    let g = Graph::new();
    let (a, b) = (g.var(0.1), g.var(0.1));
    let (p, q) = (a.square(), b * b);
    p.backward();
    q.backward();
    assert_eq!(
        (p.value().to_bits(), a.grad().to_bits()),
        (q.value().to_bits(), b.grad().to_bits())
    );
}

#[test]
fn clamp_derivatives_are_one_inside_and_zero_outside() {
    assert_eq!(d1_d2(|v| v.clamp(-1.0, 2.0), 0.5), (0.5, 1.0, 0.0));
    assert_eq!(d1_d2(|v| v.clamp(-1.0, 2.0), 3.0), (2.0, 0.0, 0.0));
    assert_eq!(d1_d2(|v| v.clamp(-1.0, 2.0), -7.0), (-1.0, 0.0, 0.0));
    // a composition, against central differences away from the kinks
    let f = graph_fn(|_, x| (x[0] * x[1]).clamp(-1.0, 1.0) * x[1]);
    for x in [[0.3, 0.5], [2.0, 3.0], [-0.7, 0.4]] {
        assert!(gradcheck(f, &x, Tolerance::default()).passed(), "{x:?}");
        assert!(gradgradcheck(f, &x, Tolerance::default()).passed(), "{x:?}");
    }
}

#[test]
#[should_panic(expected = "clamp(lo, hi) needs lo <= hi")]
fn clamp_with_crossed_bounds_panics() {
    let g = Graph::new();
    let _ = g.var(1.0).clamp(2.0, 1.0);
}

#[test]
#[should_panic(expected = "neither NaN")]
fn clamp_with_a_nan_bound_panics() {
    let _ = Value::new(1.0).clamp(f64::NAN, 1.0);
}

#[test]
fn log_is_ln() {
    let g = Graph::new();
    let x = g.var(2.5);
    let (a, b) = (x.log(), x.ln());
    assert_eq!(a.value().to_bits(), b.value().to_bits());
    assert_eq!(d1_d2(|v| v.log(), 2.0), (2f64.ln(), 0.5, -0.25));
    let v = Value::new(2.0);
    v.log().backward();
    assert_eq!(v.grad(), 0.5);
}

#[test]
fn detach_stops_the_gradient_and_follows_recompute() {
    let g = Graph::new();
    let x = g.var(3.0);
    let d = x.detach();
    let y = x * d + d;
    y.backward();
    assert_eq!((y.value(), x.grad(), d.grad()), (12.0, 3.0, 0.0));
    assert!(!d.is_tracked());
    // recorded as an op: a new x flows through it on recompute
    x.set_value(5.0);
    g.recompute();
    assert_eq!((d.value(), y.value()), (5.0, 30.0));
    // the recorded gradient treats it as a constant too
    assert_eq!(g.grad(y, &[x])[0].value(), 5.0);
    // Value
    let v = Value::new(3.0);
    let w = &v * &v.detach();
    w.backward();
    assert_eq!((w.data(), v.grad()), (9.0, 3.0));
}

/// `ln Σ eˣⁱ` computed naively (fine for small values).
fn lse(xs: &[f64]) -> f64 {
    xs.iter().map(|x| x.exp()).sum::<f64>().ln()
}

#[test]
fn logsumexp_matches_the_naive_formula_and_its_derivative_is_the_softmax() {
    let xs = [0.3, -1.2, 2.0, 0.0];
    let g = Graph::new();
    let vs: Vec<Var> = xs.iter().map(|&x| g.var(x)).collect();
    let y = g.logsumexp(&vs);
    y.backward();
    assert!((y.value() - lse(&xs)).abs() < 1e-15);
    let total: f64 = xs.iter().map(|x| x.exp()).sum();
    for (v, x) in vs.iter().zip(xs) {
        assert!((v.grad() - x.exp() / total).abs() < 1e-15);
    }
    // second derivative: ∂²/∂xᵢ² = sᵢ(1 − sᵢ), ∂²/∂xᵢ∂xⱼ = −sᵢsⱼ
    let d = g.grad(y, &vs);
    let h0 = g.grad(d[0], &vs);
    let s: Vec<f64> = xs.iter().map(|x| x.exp() / total).collect();
    assert!((h0[0].value() - s[0] * (1.0 - s[0])).abs() < 1e-15);
    assert!((h0[2].value() + s[0] * s[2]).abs() < 1e-15);
    let f = graph_fn(|g, x| g.logsumexp(x));
    assert!(gradcheck(f, &xs, Tolerance::default()).passed());
    assert!(gradgradcheck(f, &xs, Tolerance::default()).passed());
}

#[test]
fn logsumexp_is_stable_at_plus_and_minus_1000_and_follows_ieee_at_infinities() {
    let g = Graph::new();
    let big = [g.var(1000.0), g.var(1000.0)];
    let y = g.logsumexp(&big);
    y.backward();
    assert_eq!(
        (y.value(), big[0].grad(), big[1].grad()),
        (1000.0 + 2f64.ln(), 0.5, 0.5)
    );
    let small = [g.var(-1000.0), g.var(-1000.0)];
    assert_eq!(g.logsumexp(&small).value(), -1000.0 + 2f64.ln());
    let one = g.var(-3.0);
    assert_eq!(g.logsumexp(&[one]).value(), -3.0);
    let ninf = [g.constant(f64::NEG_INFINITY), g.constant(f64::NEG_INFINITY)];
    assert_eq!(g.logsumexp(&ninf).value(), f64::NEG_INFINITY);
    let pinf = [g.constant(f64::INFINITY), g.constant(1.0)];
    assert_eq!(g.logsumexp(&pinf).value(), f64::INFINITY);
    let nan = [g.constant(f64::NAN), g.constant(1.0)];
    assert!(g.logsumexp(&nan).value().is_nan());
}

#[test]
#[should_panic(expected = "Graph::logsumexp of no terms")]
fn logsumexp_of_nothing_panics() {
    let g = Graph::new();
    let _ = g.logsumexp(&[]);
}

#[test]
fn softmax_and_log_softmax_are_their_closed_forms() {
    let zs = [1.0, 2.0, 0.5];
    let total: f64 = zs.iter().map(|z: &f64| z.exp()).sum();
    let g = Graph::new();
    let vs: Vec<Var> = zs.iter().map(|&z| g.var(z)).collect();
    let s = loss::softmax(&vs);
    let l = loss::log_softmax(&vs);
    for i in 0..3 {
        assert!((s[i].value() - zs[i].exp() / total).abs() < 1e-15);
        assert!((l[i].value() - (zs[i] - total.ln())).abs() < 1e-15);
    }
    // ∂sᵢ/∂zⱼ = sᵢ([i = j] − sⱼ)
    let d = g.grad(s[1], &vs);
    let p: Vec<f64> = zs.iter().map(|z| z.exp() / total).collect();
    for j in 0..3 {
        let want = p[1] * (f64::from(j == 1) - p[j]);
        assert!((d[j].value() - want).abs() < 1e-15, "{j}");
    }
    // finite for logits of ±1000
    let wild = [g.var(1000.0), g.var(-1000.0)];
    let s = loss::softmax(&wild);
    assert_eq!((s[0].value(), s[1].value()), (1.0, 0.0));
}

#[test]
fn cross_entropy_averages_minus_log_softmax_of_the_class_with_gradient_softmax_minus_onehot() {
    let logits = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]];
    let classes = [0, 2];
    let g = Graph::new();
    let vs: Vec<Vec<Var>> = logits
        .iter()
        .map(|z| z.iter().map(|&x| g.var(x)).collect())
        .collect();
    let l = loss::cross_entropy(&vs, &classes);
    l.backward();
    let mut want = 0.0;
    for (z, &c) in logits.iter().zip(&classes) {
        want += lse(z) - z[c];
    }
    assert!((l.value() - want / 2.0).abs() < 1e-15);
    for (s, (z, &c)) in logits.iter().zip(&classes).enumerate() {
        let total: f64 = z.iter().map(|x| x.exp()).sum();
        for j in 0..3 {
            let want = (z[j].exp() / total - f64::from(j == c)) / 2.0;
            assert!((vs[s][j].grad() - want).abs() < 1e-15, "{s} {j}");
        }
    }
    // against central differences, first and second order
    let f = graph_fn(|_, x| loss::cross_entropy(&[x.to_vec()], &[1]));
    assert!(gradcheck(f, &[0.2, -0.3, 1.1], Tolerance::default()).passed());
    assert!(gradgradcheck(f, &[0.2, -0.3, 1.1], Tolerance::default()).passed());
}

#[test]
fn cross_entropy_is_finite_for_logits_of_plus_and_minus_1000() {
    let g = Graph::new();
    let z = vec![g.var(1000.0), g.var(-1000.0)];
    let wrong = loss::cross_entropy(std::slice::from_ref(&z), &[1]);
    wrong.backward();
    assert_eq!(
        (wrong.value(), z[0].grad(), z[1].grad()),
        (2000.0, 1.0, -1.0)
    );
    let right = loss::cross_entropy(&[z], &[0]);
    assert_eq!(right.value(), 0.0);
}

#[test]
#[should_panic(expected = "sample 1 has class 3 but 3 logits")]
fn cross_entropy_refuses_a_class_out_of_range() {
    let g = Graph::new();
    let z = vec![g.var(0.0), g.var(1.0), g.var(2.0)];
    let _ = loss::cross_entropy(&[z.clone(), z], &[0, 3]);
}

#[test]
#[should_panic(expected = "cross_entropy of 1 samples and 2 classes")]
fn cross_entropy_refuses_mismatched_counts() {
    let g = Graph::new();
    let z = vec![g.var(0.0), g.var(1.0)];
    let _ = loss::cross_entropy(&[z], &[0, 1]);
}

#[test]
fn a_graph_function_kept_in_a_let_works_with_every_check() {
    let f = graph_fn(|_, x| x[0].exp() * x[1] + x[1].square());
    let (v, grad) = scalargrad::check::gradient(f, &[0.0, 2.0]);
    assert_eq!((v, grad), (6.0, vec![2.0, 5.0]));
    assert_eq!(scalargrad::check::value(f, &[0.0, 1.0]), 2.0);
    assert!(gradcheck(f, &[0.3, 0.7], Tolerance::default()).passed());
    assert!(gradgradcheck(f, &[0.3, 0.7], Tolerance::default()).passed());
    let h = scalargrad::hessian::hessian(f, &[0.0, 2.0]);
    assert_eq!(h, vec![vec![2.0, 1.0], vec![1.0, 2.0]]);
}

#[test]
fn value_names_match_var_names() {
    let x = Value::new(3.0);
    let (a, b) = (x.pow(2), x.pow(2.0));
    assert_eq!((a.data(), b.data(), x.value()), (9.0, 9.0, 3.0));
    let e = Value::new(2.0);
    assert_eq!(x.pow_var(&e).data(), x.pow_value(&e).data());
    let y = x.square();
    y.backward();
    assert_eq!((y.data(), x.grad()), (9.0, 6.0));
    let c = Value::new(-4.0).clamp(-1.0, 1.0);
    assert_eq!(c.data(), -1.0);
}
