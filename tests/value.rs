//! `Value`, the owned handle: values and gradients against closed forms, central finite
//! differences and the `Graph` engine; accumulation; freeing in any order; deep chains.

use scalargrad::{Graph, Value};

/// Central finite difference of `f` at `x`.
fn fd(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

#[test]
fn apple_count_tax() {
    let apple = Value::new(100.0);
    let count = Value::new(2.0);
    let tax = Value::new(1.1);
    let price = &apple * &count * &tax;
    price.backward();
    assert!(close(price.data(), 220.0, 1e-15));
    assert!(close(apple.grad(), 2.2, 1e-15));
    assert!(close(count.grad(), 110.0, 1e-15));
    assert!(close(tax.grad(), 200.0, 1e-15));
    assert_eq!(price.grad(), 1.0);
}

#[test]
fn x_plus_x() {
    let x = Value::new(3.0);
    let y = &x + &x;
    y.backward();
    assert_eq!(x.grad(), 2.0);
}

#[test]
fn x_times_x() {
    let x = Value::new(3.0);
    let y = &x * &x;
    y.backward();
    assert_eq!(x.grad(), 6.0);
}

#[test]
fn every_unary_op_against_finite_differences() {
    type Op = (
        &'static str,
        fn(&Value) -> Value,
        fn(f64) -> f64,
        &'static [f64],
    );
    let ops: &[Op] = &[
        ("exp", |v| v.exp(), f64::exp, &[-2.0, 0.3, 1.7]),
        ("ln", |v| v.ln(), f64::ln, &[0.2, 1.0, 5.0]),
        ("tanh", |v| v.tanh(), f64::tanh, &[-1.5, 0.1, 2.0]),
        (
            "sigmoid",
            |v| v.sigmoid(),
            |x| 1.0 / (1.0 + (-x).exp()),
            &[-3.0, 0.0, 2.5],
        ),
        ("relu", |v| v.relu(), |x| x.max(0.0), &[-1.0, 0.5, 3.0]),
        ("pow 3", |v| v.pow(3.0), |x| x.powi(3), &[-1.2, 0.7, 2.0]),
        (
            "pow -0.5",
            |v| v.pow(-0.5),
            |x| x.powf(-0.5),
            &[0.3, 1.0, 4.0],
        ),
        ("neg", |v| -v, |x| -x, &[-1.0, 2.0]),
        ("sin", |v| v.sin(), f64::sin, &[-1.0, 0.4, 2.5]),
        ("cos", |v| v.cos(), f64::cos, &[-1.0, 0.4, 2.5]),
        ("sqrt", |v| v.sqrt(), f64::sqrt, &[0.3, 4.0]),
        ("abs", |v| v.abs(), f64::abs, &[-2.0, 0.5]),
        ("log1p", |v| v.log1p(), f64::ln_1p, &[-0.5, 1e-3, 3.0]),
        (
            "softplus",
            |v| v.softplus(),
            |x| (1.0 + x.exp()).ln(),
            &[-3.0, 0.0, 2.0],
        ),
        ("2 - x", |v| 2.0 - v, |x| 2.0 - x, &[0.5]),
        ("x - 2", |v| v - 2.0, |x| x - 2.0, &[0.5]),
        ("3 / x", |v| 3.0 / v, |x| 3.0 / x, &[0.5, -2.0]),
        ("x / 3", |v| v / 3.0, |x| x / 3.0, &[0.5]),
        ("2 * x + 1", |v| 2.0 * v + 1.0, |x| 2.0 * x + 1.0, &[0.5]),
        ("1 + x * 2", |v| 1.0 + v * 2.0, |x| 1.0 + x * 2.0, &[0.5]),
    ];
    for &(name, op, f, points) in ops {
        for &x0 in points {
            let x = Value::new(x0);
            let y = op(&x);
            assert!(close(y.data(), f(x0), 1e-15), "{name} value at {x0}");
            y.backward();
            let want = fd(f, x0);
            assert!(
                close(x.grad(), want, 1e-7),
                "{name}'({x0}) = {} vs {want}",
                x.grad()
            );
        }
    }
}

#[test]
fn pow_value_both_derivatives() {
    let (a, b) = (Value::new(1.7), Value::new(2.3));
    let y = a.pow_value(&b);
    y.backward();
    assert_eq!(y.data(), 1.7f64.powf(2.3));
    assert!(close(a.grad(), fd(|x| x.powf(2.3), 1.7), 1e-8));
    assert!(close(b.grad(), fd(|e| 1.7f64.powf(e), 2.3), 1e-8));
}

/// micrograd's README example (`g.data = 24.7041`, `dg/da = 138.8338`, `dg/db = 645.5773`),
/// the same expression as its test file's `test_more_ops`.
#[test]
fn micrograd_readme_expression() {
    let a = Value::new(-4.0);
    let b = Value::new(2.0);
    let mut c = &a + &b;
    let mut d = &a * &b + b.pow(3.0);
    c += &c + 1.0;
    c += 1.0 + &c + (-&a);
    d += &d * 2.0 + (&b + &a).relu();
    d += 3.0 * &d + (&b - &a).relu();
    let e = &c - &d;
    let f = e.pow(2.0);
    let mut g = &f / 2.0;
    g += 10.0 / &f;
    g.backward();
    assert!((g.data() - 24.7041).abs() < 1e-4, "{}", g.data());
    assert!((a.grad() - 138.8338).abs() < 1e-4, "{}", a.grad());
    assert!((b.grad() - 645.5773).abs() < 1e-4, "{}", b.grad());
}

/// micrograd's `test_sanity_check` expression: y = -20 at x = -4, and dy/dx in closed form.
#[test]
fn micrograd_sanity_expression() {
    let x = Value::new(-4.0);
    let z = 2.0 * &x + 2.0 + &x; // 3x + 2 = -10
    let q = z.relu() + &z * &x; // relu(z) + z x = 40
    let h = (&z * &z).relu(); // z² = 100
    let y = &h + &q + &q * &x;
    y.backward();
    assert_eq!(y.data(), -20.0);
    // z < 0: y = z² + z x + z x² with z = 3x + 2, so dy/dx = 2z·3 + 3x + z + 3x² + 2xz
    let (xv, zv) = (-4.0, -10.0);
    let want = 6.0 * zv + 3.0 * xv + zv + 3.0 * xv * xv + 2.0 * xv * zv;
    assert_eq!(x.grad(), want);
}

#[test]
fn backward_twice_accumulates_exactly_twice() {
    let x = Value::new(0.7);
    let u = (&x * &x).tanh(); // reused below
    let y = &u * &u + &u * &x;
    y.backward();
    let once = x.grad();
    let u_once = u.grad();
    y.backward();
    assert_eq!(x.grad(), 2.0 * once);
    assert_eq!(u.grad(), 2.0 * u_once);
    assert_eq!(y.grad(), 2.0);
}

#[test]
fn set_grad_zero_then_backward_is_one_pass() {
    let x = Value::new(2.0);
    let y = x.pow(3.0);
    y.backward();
    x.set_grad(0.0);
    y.backward();
    assert_eq!(x.grad(), 12.0);
}

#[test]
fn constants_get_no_gradient_and_untracked_roots_do_nothing() {
    let c = Value::constant(3.0);
    let y = c.exp();
    y.backward();
    assert_eq!((c.grad(), y.grad()), (0.0, 0.0));
    assert!(!y.is_tracked());
}

#[test]
fn sum_and_affine_equal_the_element_by_element_graph_bit_for_bit() {
    let w: Vec<Value> = (0..7).map(|i| Value::new(0.1 * i as f64 - 0.33)).collect();
    let x: Vec<Value> = (0..7)
        .map(|i| Value::constant(1.0 / (i as f64 + 1.5)))
        .collect();
    let b = Value::new(0.123);
    let fused = Value::affine(&b, &w, &x).tanh();
    let mut chain = b.clone();
    for (w, x) in w.iter().zip(&x) {
        chain += w * x;
    }
    let chain = chain.tanh();
    assert_eq!(fused.data(), chain.data());
    fused.backward();
    let g1: Vec<f64> = w.iter().map(Value::grad).chain([b.grad()]).collect();
    w.iter().chain([&b]).for_each(|v| v.set_grad(0.0));
    chain.backward();
    let g2: Vec<f64> = w.iter().map(Value::grad).chain([b.grad()]).collect();
    assert_eq!(g1, g2);

    let s = Value::sum(&w);
    let s2: Value = w.iter().sum();
    let mut s3 = w[0].clone();
    for v in &w[1..] {
        s3 += v;
    }
    assert_eq!((s.data(), s2.data()), (s3.data(), s3.data()));
    assert_eq!(Value::sum([]).data(), 0.0);
}

/// The same random-ish expression on `Value` and on `Graph` gives bit-identical values and
/// gradients: both run the rules of `op.rs`.
#[test]
fn value_equals_graph_bit_for_bit() {
    let g = Graph::new();
    let xs0 = [0.3, -1.2, 2.5, 0.9];
    let gv: Vec<_> = xs0.iter().map(|&x| g.var(x)).collect();
    let vv: Vec<_> = xs0.iter().map(|&x| Value::new(x)).collect();
    let gy = ((gv[0] * gv[1] + gv[2]).tanh() / (gv[3].exp() + 1.0)
        - gv[2].sigmoid() * gv[0].pow(3.0)
        + (gv[3] - gv[1]).relu().ln())
        * 2.0;
    let vy = ((&vv[0] * &vv[1] + &vv[2]).tanh() / (vv[3].exp() + 1.0)
        - vv[2].sigmoid() * vv[0].pow(3.0)
        + (&vv[3] - &vv[1]).relu().ln())
        * 2.0;
    assert_eq!(gy.value(), vy.data());
    gy.backward();
    vy.backward();
    for (a, b) in gv.iter().zip(&vv) {
        assert_eq!(a.grad(), b.grad());
    }
}

#[test]
fn nodes_are_freed_in_any_order_and_slots_reused() {
    let base = Value::live_nodes();
    let a = Value::new(1.0);
    let b = Value::new(2.0);
    let c = &a * &b; // 3 nodes
    let d = c.exp(); // 4
    let e = &d + &a; // 5
    assert_eq!(Value::live_nodes(), base + 5);
    drop(a); // e and c use it
    drop(c); // d uses it
    assert_eq!(Value::live_nodes(), base + 5);
    drop(e); // frees e; a now only kept by c
    assert_eq!(Value::live_nodes(), base + 4);
    e_stays_right(&d, &b);
    drop(b);
    drop(d); // frees d, c, a, b
    assert_eq!(Value::live_nodes(), base);

    // a training-style loop: memory flat
    let w = Value::new(0.5);
    for _ in 0..1000 {
        let loss = (&w * 3.0 - 1.0).pow(2.0);
        loss.backward();
        w.set_data(w.data() - 0.01 * w.grad());
        w.set_grad(0.0);
    }
    assert_eq!(Value::live_nodes(), base + 1);
    assert!((w.data() - 1.0 / 3.0).abs() < 1e-6);
}

fn e_stays_right(d: &Value, b: &Value) {
    assert_eq!(d.data(), 2f64.exp());
    d.backward();
    assert_eq!(b.grad(), 2f64.exp()); // d = exp(a b), a = 1
}

/// A 1,000,000-deep chain is differentiated and dropped without recursion (on a test
/// thread's 2 MiB stack a recursive walk or a recursive drop would overflow).
#[test]
fn million_deep_chain_backward_and_drop() {
    let base = Value::live_nodes();
    let x = Value::new(0.5);
    let mut y = x.clone();
    for _ in 0..1_000_000 {
        y = &y * 0.999999 + 1e-7;
    }
    y.backward();
    // dy/dx = 0.999999^N
    assert!(
        close(x.grad(), 0.999999f64.powi(1_000_000), 1e-9),
        "{}",
        x.grad()
    );
    drop(x);
    assert_eq!(Value::live_nodes(), base + 4_000_001);
    drop(y);
    assert_eq!(Value::live_nodes(), base);
}

/// W2 of benches/WORKLOADS.md at N = 10⁵: the published checksums.
#[test]
fn w2_chain_checksums() {
    let n = 100_000;
    let x0 = Value::new(0.5);
    let mut x = x0.clone();
    let (mut ws, mut bs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for k in 0..n {
        let w = Value::new(0.5 + 0.001 * (k % 7) as f64);
        let b = Value::new(0.01 * (k % 5) as f64);
        x = (&x * &w + &b).tanh();
        ws.push(w);
        bs.push(b);
    }
    x.backward();
    assert_eq!(x.data(), 0.06338158504844663);
    let dw: f64 = ws.iter().map(Value::grad).sum();
    let db: f64 = bs.iter().map(Value::grad).sum();
    assert!(close(dw, 0.0799806658944213, 1e-14), "{dw}");
    assert!(close(db, 2.0014530013858858, 1e-14), "{db}");
}

/// A model kept in a struct with no graph beside it: what `Graph` + `Var<'g>` cannot do.
#[test]
fn a_model_in_a_struct() {
    struct Line {
        w: Value,
        b: Value,
    }
    impl Line {
        fn loss(&self, data: &[(f64, f64)]) -> Value {
            let terms: Vec<Value> = data
                .iter()
                .map(|&(x, y)| (&self.w * x + &self.b - y).pow(2.0))
                .collect();
            Value::sum(&terms) / data.len() as f64
        }
    }
    let model = Line {
        w: Value::new(0.0),
        b: Value::new(0.0),
    };
    let data: Vec<(f64, f64)> = (0..10)
        .map(|i| (i as f64 / 10.0, 2.0 * i as f64 / 10.0 + 1.0))
        .collect();
    for _ in 0..2000 {
        let loss = model.loss(&data);
        loss.backward();
        for p in [&model.w, &model.b] {
            p.set_data(p.data() - 0.5 * p.grad());
            p.set_grad(0.0);
        }
    }
    assert!((model.w.data() - 2.0).abs() < 1e-6, "{}", model.w.data());
    assert!((model.b.data() - 1.0).abs() < 1e-6, "{}", model.b.data());
}

#[test]
fn each_thread_has_its_own_arena() {
    let here = Value::live_nodes();
    let _x = Value::new(1.0);
    let there = std::thread::spawn(|| {
        let start = Value::live_nodes();
        let y = Value::new(2.0).exp();
        y.backward();
        (start, y.data())
    })
    .join()
    .unwrap();
    assert_eq!(there, (0, 2f64.exp()));
    assert_eq!(Value::live_nodes(), here + 1);
}

#[test]
fn repr_and_dot() {
    let x = Value::new(2.0);
    assert_eq!(format!("{x:?}"), "Value(data=2, grad=0)");
    let y = (&x * &x).tanh();
    y.backward();
    let dot = y.to_dot();
    assert_eq!(dot.matches("->").count(), 3); // x→* twice, *→tanh
    assert!(dot.contains("tanh"));
}

#[test]
fn sigmoid_and_tanh_second_derivatives() {
    for x0 in [-2.0, -0.3, 0.0, 0.8, 3.0] {
        let x = Value::new(x0);
        let s = x.sigmoid();
        let d1 = s.grad_wrt(&[&x]).remove(0);
        let d2 = d1.grad_wrt(&[&x]).remove(0);
        let sv = s.data();
        assert!(close(d1.data(), sv * (1.0 - sv), 1e-15));
        assert!(
            close(d2.data(), sv * (1.0 - sv) * (1.0 - 2.0 * sv), 1e-14),
            "{x0}"
        );
        let t = x.tanh();
        let d2 = t.grad_wrt(&[&x]).remove(0).grad_wrt(&[&x]).remove(0);
        let tv = t.data();
        assert!(close(d2.data(), -2.0 * tv * (1.0 - tv * tv), 1e-14), "{x0}");
        assert_eq!(x.grad(), 0.0);
    }
}

/// `grad_wrt` and `Graph::grad` run the same rules: the same first and mixed second
/// derivatives, n-ary nodes included (to the last bit here; in general shares reaching a node
/// by several paths may be summed in another order).
#[test]
fn grad_wrt_equals_graph_grad() {
    let g = Graph::new();
    let (ga, gb) = (g.var(0.7), g.var(-1.3));
    let gw = [g.var(0.2), g.var(0.9)];
    let gy = (g.affine(ga, &gw, &[gb, ga]).tanh() * ga.pow(3.0) + (gb / ga).exp()).sigmoid();
    let gd = g.grad(gy, &[ga, gb]);
    let gdd = g.grad(gd[0], &[gb])[0];

    let (va, vb) = (Value::new(0.7), Value::new(-1.3));
    let vw = [Value::new(0.2), Value::new(0.9)];
    let vy =
        (Value::affine(&va, &vw, [&vb, &va]).tanh() * va.pow(3.0) + (&vb / &va).exp()).sigmoid();
    let vd = vy.grad_wrt(&[&va, &vb]);
    let vdd = vd[0].grad_wrt(&[&vb]).remove(0);

    assert_eq!(gy.value(), vy.data());
    assert_eq!((gd[0].value(), gd[1].value()), (vd[0].data(), vd[1].data()));
    assert_eq!(gdd.value(), vdd.data());
    // and against finite differences of the first derivative
    let h = 1e-6;
    let da_at = |b: f64| {
        let (a, b) = (Value::new(0.7), Value::new(b));
        let y = (Value::affine(&a, &vw, [&b, &a]).tanh() * a.pow(3.0) + (&b / &a).exp()).sigmoid();
        y.grad_wrt(&[&a]).remove(0).data()
    };
    assert!(close(
        vdd.data(),
        (da_at(-1.3 + h) - da_at(-1.3 - h)) / (2.0 * h),
        1e-6
    ));
}

#[test]
fn grad_wrt_frees_what_its_results_do_not_use() {
    let base = Value::live_nodes();
    let x = Value::new(1.5);
    let unrelated = Value::new(2.0);
    let y = (&x * &x).exp() + unrelated.tanh();
    let before = Value::live_nodes();
    let d = y.grad_wrt(&[&x, &Value::constant(3.0)]);
    assert!(close(d[0].data(), 2.0 * 1.5 * (2.25f64).exp(), 1e-15));
    assert_eq!(d[1].data(), 0.0);
    drop(d);
    assert_eq!(Value::live_nodes(), before);
    drop((x, unrelated, y));
    assert_eq!(Value::live_nodes(), base);
}

#[test]
#[should_panic(expected = "Value::affine of 2 weights with 1 inputs")]
fn affine_of_different_lengths_panics() {
    let w = [Value::new(1.0), Value::new(2.0)];
    let _ = Value::affine(&Value::new(0.0), &w, &[Value::new(1.0)]);
}

#[test]
fn max_and_min_pick_a_side_and_split_ties() {
    let (a, b) = (Value::new(2.0), Value::new(-1.0));
    let y = a.max(&b) * 3.0 + a.min(&b) * 5.0;
    y.backward();
    assert_eq!((y.data(), a.grad(), b.grad()), (1.0, 3.0, 5.0));
    let (c, d) = (Value::new(1.0), Value::new(1.0));
    c.max(&d).backward();
    assert_eq!((c.grad(), d.grad()), (0.5, 0.5));
}

/// The ops `first` added run through the same rules on `Value` and on `Graph`, to second
/// order.
#[test]
fn new_ops_equal_graph_to_second_order() {
    let g = Graph::new();
    let gx = g.var(0.6);
    let gy = (gx.sin() * gx.cos() + gx.sqrt() + gx.log1p().softplus())
        .abs()
        .max(gx)
        - gx.min(gx * 2.0);
    let gd = g.grad(gy, &[gx])[0];
    let gdd = g.grad(gd, &[gx])[0];
    let vx = Value::new(0.6);
    let vy = (vx.sin() * vx.cos() + vx.sqrt() + vx.log1p().softplus())
        .abs()
        .max(&vx)
        - vx.min(&(&vx * 2.0));
    let vd = vy.grad_wrt(&[&vx]).remove(0);
    let vdd = vd.grad_wrt(&[&vx]).remove(0);
    // same rules; a node reached by several paths may sum its shares in another order
    // (topological order from the root vs creation order), so the last bit may differ
    assert_eq!(gy.value(), vy.data());
    assert!(close(vd.data(), gd.value(), 1e-15));
    assert!(close(vdd.data(), gdd.value(), 1e-14));
    // sin'' = −sin
    let s2 = vx
        .sin()
        .grad_wrt(&[&vx])
        .remove(0)
        .grad_wrt(&[&vx])
        .remove(0);
    assert_eq!(s2.data(), -(0.6f64.sin()));
}

/// W3 of benches/WORKLOADS.md at N = 10⁵: the published checksums, exactly.
#[test]
fn w3_wide_checksums() {
    let n = 100_000;
    let (mut as_, mut bs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut acc = Value::constant(0.0);
    for i in 0..n {
        let a = Value::new((i % 10) as f64 * 0.1);
        let b = Value::new(1.0 - (i % 3) as f64 * 0.2);
        acc = if i == 0 { &a * &b } else { acc + &a * &b };
        as_.push(a);
        bs.push(b);
    }
    acc.backward();
    assert_eq!(acc.data(), 36000.060000010635);
    assert_eq!(as_.iter().map(Value::grad).sum::<f64>(), 80000.20000005729);
    assert_eq!(bs.iter().map(Value::grad).sum::<f64>(), 45000.0);
}

/// `Value::dense` records a layer of the user's own `Value`s as rows when its parameters
/// were made neuron after neuron, and gives the bits of one `Value::affine` per neuron and
/// its activation, values and gradients, either way; its nodes are freed with its outputs.
#[test]
fn value_dense_is_affine_per_neuron_bit_for_bit_and_frees_its_nodes() {
    use scalargrad::nn::Activation;
    let before = Value::live_nodes();
    let (nin, nout) = (5, 7);
    let w_at = |j: usize, i: usize| ((j * 7 + i * 3) % 11) as f64 * 0.1 - 0.5;
    for interleaved in [true, false] {
        for act in [Activation::Relu, Activation::Tanh, Activation::Linear] {
            let mut weights: Vec<Vec<Value>> = Vec::new();
            let mut biases = Vec::new();
            for j in 0..nout {
                weights.push((0..nin).map(|i| Value::new(w_at(j, i))).collect());
                if interleaved {
                    biases.push(Value::new(0.1 * j as f64 - 0.3));
                }
            }
            if !interleaved {
                biases = (0..nout)
                    .map(|j| Value::new(0.1 * j as f64 - 0.3))
                    .collect();
            }
            let x: Vec<Value> = (0..nin).map(|i| Value::new(i as f64 * 0.3 - 0.4)).collect();
            let params: Vec<&Value> = weights.iter().flatten().chain(&biases).chain(&x).collect();
            scalargrad::fast::reset();
            let y = Value::dense(&x, &weights, Some(&biases), act);
            let rows = scalargrad::fast::taken().rows_recorded;
            if cfg!(debug_assertions) {
                assert_eq!(rows, if interleaved { nout } else { 0 });
            }
            // Σ (j + 1)·y_j, its backward, then the outputs' values and every gradient
            // (zeroed after)
            let bits = |ys: &[Value]| -> Vec<u64> {
                let weighted: Vec<Value> = ys
                    .iter()
                    .enumerate()
                    .map(|(j, v)| v * (j as f64 + 1.0))
                    .collect();
                Value::sum(&weighted).backward();
                let out = ys
                    .iter()
                    .map(Value::data)
                    .chain(params.iter().map(|p| p.grad()))
                    .map(f64::to_bits)
                    .collect();
                params.iter().for_each(|p| p.set_grad(0.0));
                out
            };
            let got = bits(&y);
            let by_hand: Vec<Value> = (0..nout)
                .map(|j| {
                    let pre = Value::affine(&biases[j], &weights[j], &x);
                    match act {
                        Activation::Relu => pre.relu(),
                        Activation::Tanh => pre.tanh(),
                        _ => pre,
                    }
                })
                .collect();
            let want = bits(&by_hand);
            assert_eq!(got, want, "{act:?}, interleaved {interleaved}");
        }
    }
    assert_eq!(Value::live_nodes(), before);
}

/// Generic `Scalar` code runs on `f64`, `Var` and (through `apply_graph_fn`) `Value` with
/// the same values and derivatives; a handle of another graph returned from it is refused.
#[test]
fn generic_scalar_code_runs_on_values_through_apply_graph_fn() {
    use scalargrad::{Graph, Scalar};
    fn f<S: Scalar>(a: S, b: S) -> S {
        (a * b).tanh() + a.powf(3.0) / (b * b + 1.0) - b.exp().log1p()
    }
    let (a0, b0) = (0.7, -1.3);
    let g = Graph::new();
    let (av, bv) = (g.var(a0), g.var(b0));
    let yv = f(av, bv);
    yv.backward();
    let (a, b) = (Value::new(a0), Value::new(b0));
    let y = Value::apply_graph_fn_n(&[&a, &b], |v| f(v[0], v[1]));
    y.backward();
    assert_eq!(y.data().to_bits(), f(a0, b0).to_bits());
    assert_eq!(y.data().to_bits(), yv.value().to_bits());
    assert_eq!(
        (a.grad().to_bits(), b.grad().to_bits()),
        (av.grad().to_bits(), bv.grad().to_bits())
    );
    // the gradient against central differences of the f64 code
    let h = 1e-6;
    let fd = (f(a0 + h, b0) - f(a0 - h, b0)) / (2.0 * h);
    assert!((a.grad() - fd).abs() < 1e-8, "{} vs {fd}", a.grad());
    let other: &'static Graph = Box::leak(Box::new(Graph::new()));
    let foreign = other.var(1.0);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        a.apply_graph_fn(|_| foreign)
    }));
    assert!(r.is_err());
}

#[test]
fn a_dead_node_under_a_live_one_is_not_counted_live() {
    let (live0, len0) = (Value::live_nodes(), Value::graph_len());
    let x = Value::new(1.0);
    let y = Value::new(2.0);
    drop(x); // dead, but under y: stays on the tape
    assert_eq!(Value::graph_len(), len0 + 2);
    assert_eq!(Value::live_nodes(), live0 + 1);
    drop(y); // the top: both cut
    assert_eq!((Value::graph_len(), Value::live_nodes()), (len0, live0));
}

#[test]
fn nodes_a_graph_fn_records_but_does_not_return_leave_the_tape_at_once() {
    let (live0, len0) = (Value::live_nodes(), Value::graph_len());
    let a = Value::new(2.0);
    // one new node above the result, used by nothing: freed and cut off the top
    let y = Value::apply_graph_fn_n(&[&a], |v| {
        let y = v[0] * v[0];
        let _unused = y.sin();
        y
    });
    assert_eq!(
        (Value::graph_len(), Value::live_nodes()),
        (len0 + 2, live0 + 2)
    );
    // `f` returns its input and records one node nothing uses: the handle is a second one
    // to `a`'s node, and the new node goes
    let same = a.apply_graph_fn(|v| {
        let _unused = v.exp();
        v
    });
    assert_eq!(
        (Value::graph_len(), Value::live_nodes()),
        (len0 + 2, live0 + 2)
    );
    drop(a);
    assert_eq!(same.data(), 2.0);
    assert_eq!(Value::live_nodes(), live0 + 2);
    y.backward();
    assert_eq!(same.grad(), 4.0);
    drop(y);
    drop(same);
    assert_eq!((Value::graph_len(), Value::live_nodes()), (len0, live0));
}

#[test]
fn a_gradient_set_on_an_op_node_is_kept_and_added_to_not_passed_on() {
    // `y.grad = 5` on an intermediate, then `z.backward()`: the pass computes its own
    // gradients (y: 4, x: 3 · 4) and adds them, so y holds 5 + 4 and x gets 12; micrograd
    // would pass y's 9 on (x: 27). The rule is the module's: two calls give exactly twice
    // one call.
    let x = Value::new(2.0);
    let y = &x * 3.0;
    let z = &y * 4.0;
    y.set_grad(5.0);
    z.backward();
    assert_eq!((z.grad(), y.grad(), x.grad()), (1.0, 9.0, 12.0));
    // a leaf's gradient set likewise is added to
    let a = Value::new(1.0);
    let b = &a * 2.0;
    a.set_grad(0.5);
    b.backward();
    assert_eq!(a.grad(), 2.5);
}

#[test]
fn labels_and_tracking_of_values() {
    let a = Value::new(2.0);
    assert_eq!(a.name(), None);
    a.set_name("a");
    assert_eq!(a.name().as_deref(), Some("a"));
    let b = Value::constant(3.0).named("b");
    assert_eq!(b.name().as_deref(), Some("b"));
    let y = &a * &b;
    assert_eq!(y.name(), None);
    assert!(y.to_dot().contains("\"a") || y.to_dot().contains("a"));
    // tracked: a leaf made by `new`, and what is computed from one; not a constant
    assert!(a.is_tracked() && y.is_tracked());
    assert!(!b.is_tracked() && !(&b * 2.0).is_tracked());
    // a freed position taken again by another node does not keep the old label
    drop(y);
    let z = Value::new(1.0);
    assert_eq!(z.name(), None);
}

#[test]
fn dropping_the_top_neuron_keeps_the_list_a_kept_neuron_shares_with_it() {
    // a and b name one operand list (b's inputs are a's, listed again, not copied).
    // Dropping b (the top) frees b's side-table entry but must keep the list: a names it.
    // A cut before it (tmp's) freed no list and must not make the tape forget the sharing.
    let x0 = Value::new(1.0);
    let xs = [x0.relu(), (&x0 * 2.0).relu(), (&x0 * 3.0).relu()]; // not a run
    let (wa, ba) = (
        [Value::new(0.5), Value::new(-1.0), Value::new(2.0)],
        Value::new(0.25),
    );
    let a = Value::affine(&ba, &wa, &xs);
    let (wb, bb) = (
        [Value::new(1.0), Value::new(1.0), Value::new(1.0)],
        Value::new(0.0),
    );
    let b = Value::affine(&bb, &wb, &xs);
    assert_eq!(b.data(), 6.0);
    let tmp = &b * 2.0;
    drop(tmp);
    drop(b);
    // a new list, where a's would be had it been given back
    let ys = [x0.exp(), x0.sqrt(), (&x0 + 1.0).ln()];
    let c = Value::sum(&ys);
    assert_eq!(c.data(), 1f64.exp() + 1.0 + 2f64.ln());
    assert_eq!(a.data(), 0.25 + 0.5 - 2.0 + 6.0);
    a.backward();
    assert_eq!((wa[0].grad(), wa[1].grad(), wa[2].grad()), (1.0, 2.0, 3.0));
    assert_eq!(x0.grad(), 0.5 - 2.0 + 6.0);
    drop((wb, bb));
}
