//! A layer written one `Graph::affine` (or `Graph::dot`) per neuron has its values computed
//! ahead, eight or four neurons side by side (`fast::ahead`): the counts say so, every value
//! is the sum one neuron at a time gives (`b + w₀x₀ + w₁x₁ + …` left to right, in plain
//! `f64`), and every write of a value on the tape makes the values kept ahead be computed
//! again. The neurons name their listed inputs' one list (not a copy each): a cut that frees
//! one of them keeps the list the others name.
#![cfg(debug_assertions)]

use scalargrad::fast::{self, Taken};
use scalargrad::{Graph, Value, Var};

/// What was taken since the last reset, then a reset.
fn take() -> Taken {
    let t = fast::taken();
    fast::reset();
    t
}

/// `b + Σ wᵢ·xᵢ` left to right (no bias: `w₀x₀ + …`), the order `Graph::dot` documents.
fn by_hand(b: Option<f64>, w: &[f64], x: &[f64]) -> f64 {
    let (mut acc, from) = match b {
        Some(b) => (b, 0),
        None => (w[0] * x[0], 1),
    };
    for i in from..w.len() {
        acc += w[i] * x[i];
    }
    acc
}

/// A layer's parameters made neuron after neuron (each neuron's weights, then its bias),
/// with values that make every sum round differently in another order.
fn layer<'g>(g: &'g Graph, nin: usize, nout: usize, seed: f64) -> Vec<(Vec<Var<'g>>, Var<'g>)> {
    (0..nout)
        .map(|j| {
            let w = (0..nin)
                .map(|i| g.var(((seed + (j * nin + i) as f64) * 0.737).sin() * 1e3))
                .collect();
            (w, g.var((seed - j as f64).cos() * 1e-3))
        })
        .collect()
}

fn values(vs: &[Var<'_>]) -> Vec<f64> {
    vs.iter().map(|v| v.value()).collect()
}

#[test]
fn neurons_written_one_by_one_are_computed_ahead() {
    let g = Graph::new();
    let params = layer(&g, 5, 16, 0.25);
    let x0: Vec<Var> = (0..5).map(|i| g.var(0.3 * i as f64 - 0.7)).collect();
    // inputs listed (an activation after each), and inputs as a run
    let listed: Vec<Var> = x0.iter().map(|&x| (x * 3.0).relu()).collect();
    for x in [&listed, &x0] {
        fast::reset();
        let ys: Vec<Var> = params
            .iter()
            .map(|(w, b)| g.affine(*b, w, x).relu())
            .collect();
        let t = take();
        // neuron 0 alone; neuron 1 with 2..8 (eight side by side); neuron 9 with 10..16
        // (the nodes recorded above the parameters make room for eight: the ninth, past
        // the layer, is never taken)
        assert_eq!((t.dots_ahead, t.dots_ahead_taken), (16, 7 + 6));
        for ((w, b), y) in params.iter().zip(&ys) {
            let want = by_hand(Some(b.value()), &values(w), &values(x)).max(0.0);
            assert_eq!(y.value().to_bits(), want.to_bits());
        }
        // the gradients are those of the nodes, as ever
        let total = g.sum(&ys);
        g.zero_grad();
        total.backward();
        let (j, i) = (3, 2);
        let want = if ys[j].value() > 0.0 {
            x[i].value()
        } else {
            0.0
        };
        assert_eq!(params[j].0[i].grad(), want);
    }
}

#[test]
fn dot_products_without_bias_and_other_layouts() {
    let g = Graph::new();
    // weights made neuron after neuron, no bias: `Graph::dot` per neuron
    let w: Vec<Vec<Var>> = (0..9)
        .map(|j| {
            (0..3)
                .map(|i| g.var(1.0 + (j * 3 + i) as f64 / 7.0))
                .collect()
        })
        .collect();
    let x: Vec<Var> = (0..3).map(|i| g.var(0.1 + i as f64)).collect();
    fast::reset();
    let ys: Vec<Var> = w.iter().map(|wj| g.dot(wj, &x)).collect();
    let t = take();
    assert_eq!((t.dots_ahead, t.dots_ahead_taken), (8, 7));
    for (wj, y) in w.iter().zip(&ys) {
        assert_eq!(y.value(), by_hand(None, &values(wj), &values(&x)));
    }
    // neurons not in order (each starts anew), and a bias not after its weights
    fast::reset();
    let back: Vec<Var> = w.iter().rev().map(|wj| g.dot(wj, &x)).collect();
    let b = g.var(0.5);
    let biased: Vec<Var> = w.iter().map(|wj| g.affine(b, wj, &x)).collect();
    let t = take();
    assert_eq!((t.dots_ahead, t.dots_ahead_taken), (0, 0));
    for ((wj, y), z) in w.iter().rev().zip(&back).zip(biased.iter().rev()) {
        assert_eq!(y.value(), by_hand(None, &values(wj), &values(&x)));
        assert_eq!(z.value(), by_hand(Some(0.5), &values(wj), &values(&x)));
    }
    // each neuron's bias before its weights: the same stride from neuron to neuron, but
    // not a layer's layout (rows read a bias right after the weights)
    let params: Vec<(Var, Vec<Var>)> = (0..9)
        .map(|j| {
            let b = g.var(100.0 * j as f64);
            (b, (0..3).map(|i| g.var(0.5 + (j + i) as f64)).collect())
        })
        .collect();
    fast::reset();
    let zs: Vec<Var> = params.iter().map(|(b, w)| g.affine(*b, w, &x)).collect();
    assert_eq!(take().dots_ahead, 0);
    for ((b, w), z) in params.iter().zip(&zs) {
        assert_eq!(z.value(), by_hand(Some(b.value()), &values(w), &values(&x)));
    }
    // other inputs for the next neuron: computed from them, not taken
    let other: Vec<Var> = (0..3).map(|i| g.var(-2.0 + i as f64)).collect();
    fast::reset();
    let a = g.dot(&w[0], &x);
    let c = g.dot(&w[1], &x); // computes 1..8 ahead
    let d = g.dot(&w[2], &other);
    let t = take();
    assert_eq!((t.dots_ahead, t.dots_ahead_taken), (8, 0));
    assert_eq!(d.value(), by_hand(None, &values(&w[2]), &values(&other)));
    assert_eq!((a.value(), c.value()), (ys[0].value(), ys[1].value()));
}

#[test]
fn every_write_of_a_value_forgets_the_values_kept_ahead() {
    let g = Graph::new();
    let params = layer(&g, 4, 8, 1.5);
    let x: Vec<Var> = (0..4).map(|i| g.var(1.0 - 0.4 * i as f64)).collect();
    let neuron = |j: usize| g.affine(params[j].1, &params[j].0, &x);
    let check = |j: usize, y: Var| {
        let (w, b) = &params[j];
        assert_eq!(y.value(), by_hand(Some(b.value()), &values(w), &values(&x)));
    };
    // a weight of a neuron computed ahead set: computed again, with the new weight
    let mark = g.mark();
    neuron(0);
    neuron(1); // 1..8 ahead
    params[5].0[2].set_value(-7.25);
    x[1].set_value(0.125);
    fast::reset();
    for j in 2..8 {
        check(j, neuron(j));
    }
    let t = take();
    assert_eq!((t.dots_ahead, t.dots_ahead_taken), (4, 3)); // 3 with 4..6, then 7 alone
                                                            // a recompute, and a rewind, forget too
    for forget in [|g: &Graph, _| g.recompute(), |g: &Graph, m| g.rewind(m)] {
        neuron(0);
        neuron(1);
        forget(&g, mark);
        fast::reset();
        check(2, neuron(2));
        assert_eq!(take().dots_ahead_taken, 0);
    }
}

#[test]
fn values_set_on_a_value_graph_forget_the_values_kept_ahead() {
    // `Value::affine` per neuron: the same path; `Value::set_data` writes in place
    let nin = 3;
    let w: Vec<Vec<Value>> = (0..6)
        .map(|j| {
            (0..=nin)
                .map(|i| Value::new(0.5 + (j * 4 + i) as f64 * 0.1))
                .collect()
        })
        .collect();
    let x: Vec<Value> = (0..nin).map(|i| Value::new(1.0 + i as f64)).collect();
    let neuron = |j: usize| Value::affine(&w[j][nin], &w[j][..nin], &x);
    let want = |j: usize| {
        let d = |v: &[Value]| v.iter().map(Value::data).collect::<Vec<f64>>();
        by_hand(Some(w[j][nin].data()), &d(&w[j][..nin]), &d(&x))
    };
    let (y0, y1) = (neuron(0), neuron(1));
    w[3][1].set_data(40.0);
    fast::reset();
    let ys: Vec<Value> = (2..6).map(neuron).collect();
    // neuron 2 starts anew, 3 computes 3.. again (with the new weight), 4 and 5 take theirs
    assert_eq!((take().dots_ahead_taken), 2);
    assert_eq!((y0.data(), y1.data()), (want(0), want(1)));
    for (j, y) in (2..6).zip(&ys) {
        assert_eq!(y.data(), want(j));
    }
}

#[test]
fn a_cut_keeps_the_list_a_kept_neuron_names() {
    // two neurons over the same listed inputs name one list; dropping the second (the top
    // of the graph) cuts it off, and the first must still read its inputs
    let w: Vec<Vec<Value>> = (0..3)
        .map(|j| {
            (0..4)
                .map(|i| Value::new(1.0 + (j * 4 + i) as f64))
                .collect()
        })
        .collect();
    let x: Vec<Value> = (0..3).map(|i| Value::new(0.5 * i as f64 + 0.25)).collect();
    let hidden: Vec<Value> = x.iter().map(|v| (v * 2.0).relu()).collect(); // not a run
    let neuron = |j: usize, x: &[Value]| Value::affine(&w[j][3], &w[j][..3], x);
    fast::reset();
    let a = neuron(0, &hidden);
    let b = neuron(1, &hidden);
    assert_eq!(take().lists_reused, 3);
    drop(b);
    // a new list after the cut goes after the kept one, not over it
    let other: Vec<Value> = x.iter().map(|v| (v * -1.0).relu() + 3.0).collect();
    let c = neuron(2, &other);
    let loss = &a + &c;
    loss.backward();
    let h: Vec<f64> = hidden.iter().map(Value::data).collect();
    assert_eq!(a.data(), by_hand(Some(4.0), &[1.0, 2.0, 3.0], &h));
    // ∂loss/∂x₁ = w₀₁·2 (through hidden₁ > 0) + w₂₁·(−1)·0 (relu of −x₁ is off)
    assert_eq!(x[1].grad(), 2.0 * 2.0);
    assert_eq!(w[0][2].grad(), h[2]);
}
