//! A node reached with gradient 0 passes nothing on when every node at or below it is tame
//! (a finite value, an op whose local derivatives are then finite): each share would be ±0,
//! and adding ±0 leaves a gradient bit for bit as it is. These tests hold that shortcut to
//! the same graph with a NaN constant recorded first (nothing is tame above it, so every
//! zero is passed on as before), bit for bit, and check that a `0 · ∞` below a zero still
//! gives NaN wherever a wild node (non-finite value, `1/x`-like derivative) appears, however
//! it got there: recorded, set, or recomputed through each of `recompute`'s paths.

use scalargrad::nn::moons::{Demo, Start};
use scalargrad::{Graph, Var};

/// Runs `f` on a graph whose first node is a NaN constant (`poisoned`: no zero is ever
/// skipped) or a finite one (same positions), and returns the bits of what it returns.
fn run(poisoned: bool, f: impl Fn(&Graph) -> Vec<f64>) -> Vec<u64> {
    let g = Graph::new();
    g.constant(if poisoned { f64::NAN } else { 1.0 });
    f(&g).iter().map(|x| x.to_bits()).collect()
}

/// `f`'s numbers with and without the shortcut, which must agree bit for bit.
fn same(f: impl Fn(&Graph) -> Vec<f64>) -> Vec<f64> {
    let fast = run(false, &f);
    assert_eq!(fast, run(true, &f));
    fast.into_iter().map(f64::from_bits).collect()
}

#[test]
fn moons_training_is_the_same_with_zeros_skipped() {
    // Layer rows, relu runs, hinges that switch off as training goes: 20 steps, every
    // loss and every parameter after them.
    let out = same(|g| {
        let mut demo = Demo::new(g, Start::InitFile);
        let mut out: Vec<f64> = (0..20).map(|_| demo.step().loss).collect();
        out.extend(demo.mlp().parameters().iter().map(|p| p.value()));
        out
    });
    assert_eq!(out[0], scalargrad::nn::moons::LOSS_STEP_0);
}

/// A micrograd-style net (one node per `*`, `+`, relu) on three samples, where some relus
/// and hinges are off; returns the loss and every gradient.
fn element_net(g: &Graph, ws: &[f64], xs: &[[f64; 2]]) -> Vec<f64> {
    let params: Vec<Var> = ws.iter().map(|&w| g.var(w)).collect();
    let mut total = g.constant(0.0);
    for (s, x) in xs.iter().enumerate() {
        let x = x.map(|v| g.constant(v));
        let hidden: Vec<Var> = (0..4)
            .map(|j| {
                let w = &params[3 * j..3 * j + 3];
                (w[2] + w[0] * x[0] + w[1] * x[1]).relu()
            })
            .collect();
        let mut score = params[12];
        for (j, h) in hidden.iter().enumerate() {
            score += params[13 + j] * *h;
        }
        let y = if s % 2 == 0 { 1.0 } else { -1.0 };
        total += (score * -y + 1.0).relu();
    }
    total.backward();
    let mut out = vec![total.value()];
    out.extend(params.iter().map(|p| p.grad()));
    out
}

const WS: [f64; 17] = [
    0.5, -0.25, 0.1, -0.75, 0.5, -0.3, 0.2, 0.9, -1.0, -0.6, -0.4, 0.05, 0.3, 1.5, -0.5, 0.8, -1.2,
];
const XS: [[f64; 2]; 3] = [[1.0, 2.0], [-1.5, 0.5], [0.25, -2.0]];

#[test]
fn an_element_wise_net_is_the_same_with_zeros_skipped() {
    let out = same(|g| element_net(g, &WS, &XS));
    assert!(out.iter().all(|x| x.is_finite()));
    // some relus are off: some weights get exactly 0
    assert!(out[1..].contains(&0.0));
}

#[test]
fn an_infinite_input_below_a_zero_still_gives_nan() {
    // The infinite input makes its node wild: nothing at or above it is skipped, so the
    // off relus' zeros reach `w · ∞` and give those weights NaN, as without the shortcut.
    let xs = [[1.0, f64::INFINITY], [-1.5, 0.5], [0.25, -2.0]];
    let out = same(|g| element_net(g, &WS, &xs));
    assert!(out.iter().any(|x| x.is_nan()), "{out:?}");
}

#[test]
fn a_wild_op_below_a_zero_still_gives_nan() {
    // relu(−√x) at x = 0 is off, and √'s derivative at 0 is +∞: the zero times it is NaN.
    // √ is not tame, so the relu above it passes its zero on. So does `x^e` for a handle
    // `e` (a binary op): 0^0.5 is 0, a finite value, and its derivative 0.5·0^−0.5 is +∞.
    for op in ["sqrt", "ln", "div", "pow_var"] {
        let out = same(|g| {
            let x = g.var(0.0);
            let y = match op {
                "sqrt" => x.sqrt(),
                "ln" => x.ln(), // −∞, and 1/0
                "pow_var" => x.pow_var(g.constant(0.5)),
                _ => 1.0 / x, // +∞, and −1/0²
            };
            let off = (-y.tanh() - 2.0).relu();
            let loss = off + x * 3.0;
            loss.backward();
            vec![x.grad()]
        });
        assert!(out[0].is_nan(), "{op}: {out:?}");
    }
}

#[test]
fn a_leaf_set_to_infinity_stops_the_shortcut_below_it() {
    // After a first pass over a tame graph, a parameter is set to ∞ and the graph
    // recomputed: the off relu's zero must now reach `w · ∞`.
    let out = same(|g| {
        let w = g.var(1.0);
        let k = g.var(2.0);
        let off = (w * k * -1.0).relu();
        let loss = off + w;
        loss.backward();
        let mut out = vec![w.grad(), k.grad()];
        k.set_value(f64::INFINITY);
        g.recompute();
        g.zero_grad();
        loss.backward();
        out.extend([w.grad(), k.grad()]);
        // and back to finite: the same numbers as the first pass
        k.set_value(2.0);
        g.recompute();
        g.zero_grad();
        loss.backward();
        out.extend([w.grad(), k.grad()]);
        out
    });
    assert_eq!(out[..2], [1.0, 0.0]);
    assert!(out[2].is_nan() && out[3] == 0.0, "{out:?}");
    assert_eq!(out[4..], [1.0, 0.0]);
}

#[test]
fn recompute_finds_values_made_infinite_on_each_of_its_paths() {
    // Recording and `recompute` find the first wild node. Here a finite leaf (set to a
    // larger finite value, or that large from the start) makes a node infinite from finite
    // inputs on each of their paths: a product (the fast path), a layer's rows, an n-ary
    // sum (the general path). Below an off relu, that node must give the weight above it
    // `0 · ∞` = NaN.
    use scalargrad::nn::{Activation, Layer, Neuron};
    for (path, start) in ["mul", "rows", "sum"]
        .iter()
        .flat_map(|&p| [(p, 1.0), (p, 1e10)])
    {
        let out = same(|g| {
            let big = g.var(start);
            let w = g.var(0.5);
            let wild = match path {
                "mul" => big * 1e300,
                "rows" => {
                    let neuron = || Neuron::new(g, &[1e300, 1.0], Some(0.0), Activation::Linear);
                    let l = Layer::new((0..4).map(|_| neuron()).collect());
                    l.forward(&[big, big])[3]
                }
                // each term stays finite (1e308), their sum does not
                _ => g.sum(&[big * 1e298, big * 1e298]),
            };
            // the product with w is off (negative): its zero reaches w · wild
            let off = (wild * w * -1.0).relu();
            let loss = off + w;
            loss.backward();
            let mut out = vec![w.grad()];
            big.set_value(1e10);
            g.recompute();
            g.zero_grad();
            loss.backward();
            out.push(w.grad());
            out
        });
        // recorded infinite from the start, or made so by `recompute`
        assert_eq!(out[0].is_nan(), start > 1.0, "{path} {start}");
        assert!(out[1].is_nan(), "{path} {start}: {out:?}");
    }
}

#[test]
fn a_relu_with_a_zero_gradient_above_an_infinity_passes_it_on() {
    // relu(w · −∞) = relu(−∞) = 0 is finite and its gradient is 0 (times a constant 0), but
    // the product below it is −∞: the relu must hand it its 0, and the product give w
    // `0 · −∞` = NaN. Once as a run of one relu, once as a run of four.
    for n in [1, 4] {
        let out = same(|g| {
            let w = g.var(1.0);
            let k = g.constant(f64::NEG_INFINITY);
            let pre: Vec<Var> = (0..n).map(|_| w * k).collect();
            let relus: Vec<Var> = pre.iter().map(|p| p.relu()).collect();
            let loss = relus.iter().fold(w, |acc, &r| acc + r * 0.0);
            loss.backward();
            vec![w.grad()]
        });
        assert!(out[0].is_nan(), "{n}: {out:?}");
    }
}
