//! Each fast path is taken where it should be: the counts of `scalargrad::fast::taken`
//! (kept in debug builds, which `cargo test` runs) after recording, `recompute` and a
//! reverse pass. That the fast paths give the generic path's numbers bit for bit is held by
//! `tests/layer_rows.rs`, `tests/relu_runs.rs` and `tests/zero_gradients.rs`; here, that
//! switching one off fails a test.
#![cfg(debug_assertions)]

use scalargrad::fast::{self, Taken};
use scalargrad::nn::{Activation, CustomActivation, Fusion, Mlp, MlpConfig};
use scalargrad::{Graph, Value, Var};

mod support;
use support::panic_message;

/// What was taken since the last reset, then a reset.
fn take() -> Taken {
    let t = fast::taken();
    fast::reset();
    t
}

#[test]
fn an_mlp_records_recomputes_and_pulls_back_its_layers_as_rows_and_runs() {
    let g = Graph::new();
    let mlp = Mlp::new(&g, 2, &[16, 8, 1], MlpConfig::new(3));
    let x = [g.constant(0.5), g.constant(-1.0)];
    fast::reset();
    let out = mlp.forward(&x)[0];
    let t = take();
    // 16 + 8 + 1 rows; relu runs over the two hidden layers (the output is linear)
    assert_eq!((t.rows_recorded, t.runs_recorded), (25, 24));
    // the 16 rows as two batches of eight, the 8 as one; the last layer's one row alone
    assert_eq!(t.rows_batched, 24);
    out.backward();
    let t = take();
    // every row is reached (a relu that is off still hands its row a zero share)
    assert_eq!(t.rows_pulled, 25);
    assert!(t.runs_pulled > 0 && t.runs_pulled <= 24, "{t:?}");
    g.recompute();
    let t = take();
    assert_eq!((t.rows_recomputed, t.runs_recomputed), (25, 24));
    assert_eq!(t.rows_batched, 24);
}

/// A layer of 13 neurons whose parameters were created neuron after neuron (weights, then
/// bias), over the inputs `x`; neuron `k`'s first weight is `wk`, every other weight 1.
fn thirteen_rows<'g>(g: &'g Graph, x: &[Var<'g>], k: usize, wk: f64) -> Vec<Var<'g>> {
    use scalargrad::nn::dense;
    let (mut w, mut b) = (Vec::new(), Vec::new());
    for j in 0..13 {
        w.push(vec![g.var(if j == k { wk } else { 1.0 }), g.var(1.0)]);
        b.push(g.var(0.5));
    }
    dense(x, &w, Some(&b), Activation::Linear)
}

#[test]
fn rows_over_a_run_of_inputs_are_computed_eight_then_four_side_by_side() {
    let g = Graph::new();
    let x = [g.var(1.0), g.var(2.0)];
    fast::reset();
    let y = thirteen_rows(&g, &x, 0, 1.0);
    let t = take();
    // 8 + 4 side by side, the 13th alone
    assert_eq!((t.rows_recorded, t.rows_batched), (13, 12));
    assert!(y.iter().all(|y| y.value() == 3.5));
    g.recompute();
    let t = take();
    assert_eq!((t.rows_recomputed, t.rows_batched), (13, 12));
    // inputs that are not a run: every row alone
    let x = [x[1], x[0]];
    thirteen_rows(&g, &x, 0, 1.0);
    let t = take();
    assert_eq!((t.rows_recorded, t.rows_batched), (13, 0));
}

#[test]
fn a_row_made_infinite_in_any_batch_makes_the_nodes_above_it_wild() {
    // relu(tanh(row k) − 2) is off, and tanh is tame: while row k is finite the zero is
    // skipped there; once row k is infinite (found by the batch of eight, the batch of
    // four, or the row computed alone, on recording and on `recompute`) nothing above it
    // is tame, and the zero is passed on.
    for k in [3, 9, 12] {
        for start in [1.0, 10.0] {
            let g = Graph::new();
            let x = [g.var(start), g.var(1.0)];
            let y = thirteen_rows(&g, &x, k, 1e308);
            let off = (y[k].tanh() - 2.0).relu();
            fast::reset();
            off.backward();
            let skipped = if start == 1.0 { 1 } else { 0 };
            assert_eq!(take().zero_skipped, skipped, "row {k}, x = {start}");
            x[0].set_value(10.0);
            g.recompute();
            assert!(y[k].value().is_infinite());
            g.zero_grad();
            fast::reset();
            off.backward();
            assert_eq!(take().zero_skipped, 0, "row {k}, x = {start}, recomputed");
        }
    }
}

#[test]
fn rows_whose_inputs_were_made_before_their_parameters_are_pulled_back_as_rows() {
    use scalargrad::nn::dense;
    let g = Graph::new();
    for i in 0..10 {
        g.constant(i as f64);
    }
    // inputs at 10 and 11, then the parameters from 12: apart, below them
    let x = [g.var(1.0), g.var(2.0)];
    let w = [vec![g.var(3.0), g.var(4.0)], vec![g.var(5.0), g.var(6.0)]];
    let y = dense(&x, &w, None, Activation::Linear);
    let loss = y[0] + y[1] * 2.0;
    fast::reset();
    loss.backward();
    assert_eq!(take().rows_pulled, 2);
    assert_eq!(
        (x[0].grad(), x[1].grad()),
        (3.0 + 2.0 * 5.0, 4.0 + 2.0 * 6.0)
    );
    assert_eq!((w[1][0].grad(), w[1][1].grad()), (2.0, 4.0));
}

#[test]
fn a_row_whose_inputs_are_its_own_weights_is_pulled_back_as_a_plain_dot() {
    use scalargrad::nn::dense;
    let g = Graph::new();
    let w = [vec![g.var(3.0), g.var(4.0)], vec![g.var(5.0), g.var(6.0)]];
    // the inputs are w[1]: not apart from the parameters
    let x = w[1].clone();
    let y = dense(&x, &w, None, Activation::Linear);
    assert_eq!(take().rows_recorded, 2);
    let loss = y[0] + y[1];
    loss.backward();
    // row 1 reads its own weights: taken as a plain dot; row 0 alone is apart from them
    assert_eq!(take().rows_pulled, 1);
    // y0 = 3·w10 + 4·w11, y1 = w10² + w11²
    assert_eq!((w[0][0].grad(), w[0][1].grad()), (5.0, 6.0));
    assert_eq!((w[1][0].grad(), w[1][1].grad()), (3.0 + 10.0, 4.0 + 12.0));
}

/// After `recompute` of a layer's rows with finite values, nothing is wild: a row reached
/// with gradient 0 is skipped outright, as before it (not taken as a row above a wild node).
#[test]
fn recomputed_finite_rows_leave_the_graph_tame() {
    use scalargrad::nn::dense;
    let g = Graph::new();
    let w = [vec![g.var(1.0), g.var(1.0)], vec![g.var(1.0), g.var(-1.0)]];
    let x = [g.var(1.0), g.var(2.0)];
    // row 0: 3 (relu on); row 1: −1 (relu off, gradient 0)
    let y = dense(&x, &w, None, Activation::Relu);
    let loss = g.sum(&y);
    for _ in 0..2 {
        g.zero_grad();
        fast::reset();
        loss.backward();
        let t = take();
        assert_eq!((t.rows_pulled, t.rows_zero_skipped), (2, 0), "{t:?}");
        assert_eq!((x[0].grad(), x[1].grad(), w[1][0].grad()), (1.0, 1.0, 0.0));
        g.recompute();
        assert_eq!(take().rows_recomputed, 2);
    }
}

#[test]
fn layers_recorded_element_wise_or_with_a_custom_activation_take_no_rows() {
    let g = Graph::new();
    let mlp = Mlp::new(&g, 2, &[4, 1], MlpConfig::new(3)).with_fusion(Fusion::Elementwise);
    let x = [g.constant(0.5), g.constant(-1.0)];
    fast::reset();
    mlp.forward(&x)[0].backward();
    let t = take();
    assert_eq!((t.rows_recorded, t.rows_pulled, t.runs_recorded), (0, 0, 0));
    fn swish(x: Var<'_>) -> Var<'_> {
        x * x.sigmoid()
    }
    let act = Activation::Custom(CustomActivation::new("swish", swish));
    let mlp = Mlp::new(&g, 2, &[4, 1], MlpConfig::new(3).hidden(act));
    let y = mlp.forward(&x)[0];
    let t = take();
    // the rows of both layers, but no run: the custom activation is recorded node by node
    assert_eq!((t.rows_recorded, t.runs_recorded), (5, 0));
    // and it computes what it says: the same as applying it to each row
    let h: Vec<Var> = mlp.layers()[0]
        .neurons()
        .iter()
        .map(|n| swish(g.affine(n.bias().unwrap(), n.weights(), &x)))
        .collect();
    let o = &mlp.layers()[1].neurons()[0];
    let want = g.affine(o.bias().unwrap(), o.weights(), &h);
    assert_eq!(y.value().to_bits(), want.value().to_bits());
}

#[test]
fn a_zero_gradient_over_tame_nodes_is_skipped_and_above_a_wild_node_is_not() {
    let g = Graph::new();
    let (w, x) = (g.var(2.0), g.var(-3.0));
    let y = (w * x).relu() * 5.0; // relu off: w·x is reached with gradient 0
    fast::reset();
    y.backward();
    let t = take();
    assert_eq!(t.zero_skipped, 1);
    assert_eq!((w.grad(), x.grad()), (0.0, 0.0));
    // above a wild node (1/x is not tame) the zero is passed on: 0 · ∞ gives NaN
    let g = Graph::new();
    let z = g.var(0.0);
    let y = (-(z.sqrt())).relu();
    fast::reset();
    y.backward();
    assert_eq!(take().zero_skipped, 0);
    assert!(z.grad().is_nan());
}

/// A tame op whose value overflows makes its node wild however it was recorded: packed in
/// a word (`exp`) or kept whole in the side table (a sum over a list, a dot product).
/// Reached with gradient 0, such a node is pulled back, not skipped: `0 · ∞ = NaN` where its
/// local derivative is infinite, not a plausible 0.
#[test]
fn a_value_not_finite_makes_its_node_wild_however_it_came() {
    let g = Graph::new();
    let x = g.var(1e200);
    let big = (x * 1e-197).exp(); // exp(1000)
    assert_eq!(big.value(), f64::INFINITY);
    let y = big * g.constant(0.0); // NaN, and `big` is reached with gradient 0
    fast::reset();
    y.backward();
    assert_eq!(take().zero_skipped, 0);
    assert!(x.grad().is_nan(), "{}", x.grad());
    // a sum over handles that are not a run is listed in the side table
    let g = Graph::new();
    let (x, gap, z) = (g.var(1e308), g.var(0.0), g.var(1e308));
    let s = g.sum(&[x, z]);
    assert_eq!(s.value(), f64::INFINITY);
    let y = s * g.constant(0.0);
    fast::reset();
    y.backward();
    assert_eq!(take().zero_skipped, 0);
    assert_eq!((x.grad(), gap.grad(), z.grad()), (0.0, 0.0, 0.0));
    // a dot product (kept whole in the side table) that overflows is wild too: reached with
    // gradient 0 it is pulled back (0 · x = 0 here), not skipped as a tame node below
    let g = Graph::new();
    let x = g.var(1e200);
    let d = g.dot(&[x], &[x]);
    assert_eq!(d.value(), f64::INFINITY);
    let y = d * g.constant(0.0);
    fast::reset();
    y.backward();
    assert_eq!(take().zero_skipped, 0);
    assert_eq!(x.grad(), 0.0);
}

#[test]
fn a_second_backward_without_zero_grad_takes_the_general_walk() {
    let g = Graph::new();
    let mlp = Mlp::new(&g, 2, &[4, 1], MlpConfig::new(5));
    let x = [g.constant(0.5), g.constant(-1.0)];
    let out = mlp.forward(&x)[0];
    out.backward();
    let first: Vec<f64> = mlp.parameters().iter().map(|p| p.grad()).collect();
    fast::reset();
    out.backward(); // scratch pass: rows taken one dot at a time
    assert_eq!(take().rows_pulled, 0);
    for (p, f) in mlp.parameters().iter().zip(first) {
        assert_eq!(p.grad(), 2.0 * f);
    }
}

/// A user's own layer through `nn::dense`: parameters made neuron after neuron take the rows;
/// made otherwise, one affine per neuron; the same bits either way, gradients included.
#[test]
fn nn_dense_records_a_users_own_layer_as_rows_when_it_can() {
    use scalargrad::nn::dense;
    let run = |interleaved: bool| -> (Vec<u64>, Taken) {
        let g = Graph::new();
        let (nin, nout) = (5, 9);
        let w_at = |j: usize, i: usize| ((j * 7 + i * 3) % 11) as f64 * 0.1 - 0.5;
        let mut weights = vec![Vec::new(); nout];
        let mut biases = Vec::new();
        if interleaved {
            for (j, w) in weights.iter_mut().enumerate() {
                *w = (0..nin).map(|i| g.var(w_at(j, i))).collect();
                biases.push(g.var(0.1 * j as f64));
            }
        } else {
            for (j, w) in weights.iter_mut().enumerate() {
                *w = (0..nin).map(|i| g.var(w_at(j, i))).collect();
            }
            biases = (0..nout).map(|j| g.var(0.1 * j as f64)).collect();
        }
        let x: Vec<Var> = (0..nin).map(|i| g.var(i as f64 * 0.3 - 0.4)).collect();
        fast::reset();
        let y = dense(&x, &weights, Some(&biases), Activation::Tanh);
        let loss = g.sum(&y);
        loss.backward();
        let t = take();
        let mut bits: Vec<u64> = y.iter().map(|v| v.value().to_bits()).collect();
        bits.extend(
            weights
                .iter()
                .flatten()
                .chain(&biases)
                .chain(&x)
                .map(|v| v.grad().to_bits()),
        );
        (bits, t)
    };
    let (rows, t) = run(true);
    assert_eq!((t.rows_recorded, t.runs_recorded, t.rows_pulled), (9, 9, 9));
    // the 9 × (5 + 1) parameters checked as one block
    assert_eq!(t.block_checked, 54);
    let (plain, t) = run(false);
    assert_eq!(
        (t.rows_recorded, t.runs_recorded, t.block_checked),
        (0, 0, 0)
    );
    assert_eq!(rows, plain);
}

#[test]
fn a_parameter_block_with_a_handle_from_before_a_rewind_is_not_a_block() {
    use scalargrad::nn::dense;
    let g = Graph::new();
    let x = [g.constant(1.0), g.constant(2.0)];
    let mark = g.mark();
    let old: Vec<Var> = (0..3).map(|_| g.var(1.0)).collect();
    g.rewind(mark);
    // the same positions again, in a newer epoch: `old[2]` is freed
    let new: Vec<Var> = (0..3).map(|_| g.var(2.0)).collect();
    let w = [vec![new[0], new[1]]];
    fast::reset();
    let y = dense(&x, &w, Some(&[new[2]]), Activation::Linear);
    assert_eq!(y[0].value(), 2.0 * 1.0 + 2.0 * 2.0 + 2.0);
    assert_eq!(take().block_checked, 3);
    let mixed = [vec![new[0], new[1]]];
    let msg = panic_message(|| dense(&x, &mixed, Some(&[old[2]]), Activation::Linear));
    assert!(msg.contains("freed"), "{msg}");
    assert_eq!(take().block_checked, 0);
}

#[test]
fn each_op_on_values_is_recorded_and_counted_in_one_borrow() {
    use scalargrad::Value;
    let before = (Value::live_nodes(), Value::graph_len());
    fast::reset();
    let a = Value::new(2.0);
    let b = Value::new(-3.0);
    let y = (&a * &b).tanh();
    let z = &y + &a;
    let w = &z * 0.5; // a constant leaf, then `*`
                      // 2 leaves, 3 ops, then the constant and its op: each by the direct path
    let t = take();
    assert_eq!((t.value_direct, t.value_one_node), (7, 0));
    // an op the direct path does not take (a constant exponent is kept in the side
    // table) goes through the graph's general path and is counted there
    let p = a.pow(3.0);
    let t = take();
    assert_eq!((t.value_direct, t.value_one_node), (0, 1));
    assert_eq!(p.data(), 8.0);
    // a, b, a·b (kept by tanh), y, z, 0.5, w, p
    assert_eq!(Value::live_nodes(), before.0 + 8);
    z.backward();
    assert_eq!(a.grad(), 1.0 + b.data() * (1.0 - y.data() * y.data()));
    // p is the top: dropping it cuts it; w and 0.5 then are, with z and y under them
    drop(p);
    assert_eq!((Value::graph_len(), take().value_cut), (before.1 + 7, 1));
    assert_eq!(Value::live_nodes(), before.0 + 7);
    drop((z, y));
    // w uses z, z uses y and a, y uses a·b: all still live
    assert_eq!(Value::live_nodes(), before.0 + 7);
    assert_eq!(Value::graph_len(), before.1 + 7);
    drop(w);
    // w was the top: it, the constant, z, y and a·b go in one cut; a and b stay
    assert_eq!(Value::live_nodes(), before.0 + 2);
    assert_eq!((Value::graph_len(), take().value_cut), (before.1 + 2, 5));
}

#[test]
fn an_element_wise_graph_is_pulled_back_by_the_walks_tag_tests() {
    let g = Graph::new();
    let (w, x, b) = (g.var(2.0), g.var(3.0), g.var(0.5));
    let y = w * x + b; // one `*`, one `+`
    let z = y * y; // one `*`
    fast::reset();
    z.backward();
    assert_eq!(take().elementwise_pulled, 3);
    assert_eq!(
        (w.grad(), x.grad(), b.grad()),
        (2.0 * 6.5 * 3.0, 2.0 * 6.5 * 2.0, 2.0 * 6.5)
    );
    // anything else goes through the jump table
    let s = w.sin();
    fast::reset();
    s.backward();
    assert_eq!(take().elementwise_pulled, 0);
}

/// A second pass that keeps the first's gradients (scratch) in anomaly mode: finite numbers
/// raise nothing, and every gradient doubles; a relu run's node is taken one at a time there,
/// from this pass's own gradient.
#[test]
fn a_finite_second_pass_in_anomaly_mode_doubles_and_raises_nothing() {
    let g = Graph::new();
    let mlp = Mlp::new(&g, 2, &[4, 1], MlpConfig::new(5));
    let x = [g.constant(0.5), g.constant(-1.0)];
    let out = mlp.forward(&x)[0];
    g.detect_anomaly(true);
    out.backward();
    let first: Vec<f64> = mlp.parameters().iter().map(|p| p.grad()).collect();
    out.backward();
    for (p, f) in mlp.parameters().iter().zip(&first) {
        assert_eq!(p.grad(), 2.0 * f);
    }
}

/// Two passes from different roots through the same relus, without zeroing: the second adds
/// its own shares (from its own gradient at each relu), not the first pass's again.
#[test]
fn a_second_pass_from_another_root_adds_its_own_shares_through_relu_runs() {
    let g = Graph::new();
    let mlp = Mlp::new(&g, 2, &[6, 2], MlpConfig::new(9));
    let x = [g.constant(0.7), g.constant(0.2)];
    let out = mlp.forward(&x);
    let (a, b) = (out[0] * 3.0, out[1] * -2.0);
    let params = mlp.parameters();
    a.backward();
    let ga: Vec<f64> = params.iter().map(|p| p.grad()).collect();
    b.backward();
    let both: Vec<f64> = params.iter().map(|p| p.grad()).collect();
    g.zero_grad();
    b.backward();
    let gb: Vec<f64> = params.iter().map(|p| p.grad()).collect();
    for i in 0..params.len() {
        assert!(
            (both[i] - (ga[i] + gb[i])).abs() <= 1e-15 * (1.0 + both[i].abs()),
            "{i}"
        );
    }
}

/// Below a node it does not take, the walk steps over unmarked positions eight at a time:
/// all of them but the few whose block would wrap the ring (7 of every 4,096 slots, each then
/// taken one at a time).
#[test]
fn the_walk_steps_over_unreached_nodes_eight_at_a_time() {
    let g = Graph::new();
    let x = g.var(1.5);
    let unused: Vec<Var> = (0..20_000).map(|i| x * i as f64).collect();
    let y = x * 2.0; // reaches x, far below, past 40,000 unreached positions
    fast::reset();
    y.backward();
    let t = take();
    let between = y_pos_minus_x_pos(&g) - 1;
    assert_eq!(x.grad(), 2.0);
    assert!(t.unmarked_skipped <= between, "{t:?}");
    assert!(
        t.unmarked_skipped as f64 >= between as f64 * (1.0 - 16.0 / 4096.0),
        "{} of {between} stepped over in blocks",
        t.unmarked_skipped
    );
    drop(unused);
}

/// Positions between `x` (the first node) and `y` (the last), from the graph's length.
fn y_pos_minus_x_pos(g: &Graph) -> usize {
    g.len() - 1
}

/// A layer's relu run over finite rows is tame: a zero gradient above it is still skipped
/// (a run recorded as wild would lower where skipping stops).
#[test]
fn a_finite_relu_run_leaves_zero_gradients_above_it_skippable() {
    let g = Graph::new();
    let mlp = Mlp::new(&g, 2, &[8, 1], MlpConfig::new(4));
    let x = [g.constant(0.3), g.constant(-0.6)];
    let y = mlp.forward(&x)[0];
    let off = (y - 100.0).relu(); // off: `y − 100` is reached with gradient 0
    fast::reset();
    off.backward();
    let t = take();
    assert_eq!(t.runs_recorded, 0); // recorded before the reset
    assert_eq!(t.zero_skipped, 1, "{t:?}");
    assert!(mlp.parameters().iter().all(|p| p.grad() == 0.0));
}

/// The reverse pass marks a node reached in its ring when the node is less than 4,096
/// positions below the one pulled back, and in the node's word otherwise.
#[test]
fn marks_go_to_the_ring_up_to_4095_positions_down_and_to_the_words_beyond() {
    const RING: usize = 4096;
    let at_distance = |d: usize| -> usize {
        let g = Graph::new();
        let x = g.var(2.0);
        for _ in 0..d - 2 {
            g.constant(0.0);
        }
        let c = g.var(3.0);
        let y = x * c;
        // x is node 0 and y the top node: d positions apart
        assert_eq!(g.len() - 1, d);
        fast::reset();
        y.backward();
        assert_eq!((x.grad(), c.grad()), (3.0, 2.0));
        take().word_marked
    };
    assert_eq!(at_distance(RING - 1), 0);
    assert_eq!(at_distance(RING), 1);
    assert_eq!(at_distance(RING + 1), 1);
    // a whole element-wise graph whose inputs are all near: every mark in the ring
    let g = Graph::new();
    let mut acc = g.var(0.5);
    for k in 0..100 {
        acc = (acc * g.var(0.01 * k as f64) + 1.0).tanh();
    }
    fast::reset();
    acc.backward();
    assert_eq!(take().word_marked, 0);
}

/// A layer's inputs are marked in the ring as a run when they sit just below its rows,
/// in their words when they are far below; a row reached with gradient 0 above a wild node
/// skips its arithmetic when its weights and inputs are finite.
#[test]
fn a_layers_inputs_are_marked_as_a_run_and_zero_rows_above_a_wild_node_are_skipped() {
    use scalargrad::nn::dense;
    let run = |gap: usize| -> Taken {
        let g = Graph::new();
        // a wild node below everything: zero gradients are not skipped wholesale above it
        let _wild = g.var(0.0).ln();
        let weights = [
            vec![g.var(1.0), g.var(1.0)],
            // (no bias: the rows read a plain block of weights)
        ];
        let mut w = weights.to_vec();
        w.push(vec![g.var(1.0), g.var(-1.0)]);
        let x = [g.var(1.0), g.var(2.0)];
        for _ in 0..gap {
            g.constant(0.0);
        }
        // row 0: 1 + 2 = 3 (relu on); row 1: 1 − 2 = −1 (relu off, gradient 0)
        let y = dense(&x, &w, None, Activation::Relu);
        let loss = g.sum(&y);
        fast::reset();
        loss.backward();
        assert_eq!(
            [x[0].grad(), x[1].grad(), w[0][0].grad(), w[1][0].grad()],
            [1.0, 1.0, 1.0, 0.0]
        );
        take()
    };
    let near = run(0);
    assert_eq!((near.rows_pulled, near.rows_zero_skipped), (2, 1));
    assert_eq!(near.word_marked, 0);
    let far = run(5000);
    assert_eq!((far.rows_pulled, far.rows_zero_skipped), (2, 1));
    assert_eq!(far.word_marked, 2);
}

/// A dot product reads its inputs' tracked flags once, when it is recorded: a side whose
/// inputs are all tracked takes its shares without a test each, a side with some tracked
/// tests each (a constant's gradient stays 0), and a dot of constants alone is not tracked.
#[test]
fn a_dot_over_runs_tests_each_input_only_on_a_side_not_all_tracked() {
    let g = Graph::new();
    let pulled = |y: Var| -> usize {
        g.zero_grad();
        fast::reset();
        y.backward();
        take().dot_terms_unchecked
    };
    // w: tracked, constant, tracked; x: all tracked
    let w = [g.var(2.0), g.constant(3.0), g.var(5.0)];
    let x = [g.var(7.0), g.var(11.0), g.var(13.0)];
    let y = g.dot(&w, &x);
    assert_eq!(y.value(), 14.0 + 33.0 + 65.0);
    assert_eq!(pulled(y), 3);
    assert_eq!(w.map(|v| v.grad()), [7.0, 0.0, 13.0]);
    assert_eq!(x.map(|v| v.grad()), [2.0, 3.0, 5.0]);
    // w all constants (nothing given), x two tracked
    let k = [g.constant(1.5), g.constant(2.5)];
    let v = [g.var(1.0), g.var(2.0)];
    let u = g.dot(&k, &v);
    assert_eq!(pulled(u), 2);
    assert_eq!(
        (k.map(|q| q.grad()), v.map(|q| q.grad())),
        ([0.0; 2], [1.5, 2.5])
    );
    // constants on both sides, no bias: an untracked node
    let c = [g.constant(1.0), g.constant(2.0)];
    let d = [g.constant(3.0), g.constant(4.0)];
    let z = g.dot(&c, &d);
    assert_eq!((z.value(), z.is_tracked()), (11.0, false));
    assert!(g.affine(g.var(0.0), &c, &d).is_tracked());
}

/// A dot product over two runs of positions that are disjoint (either way round) or the
/// same is pulled back as two `axpy` loops; over runs that overlap otherwise, pair by pair,
/// in pair order: an input that is `w` in pair 0 and `x` in pair 2 gets its `w` share
/// first, which three shares that do not add up the same in either order show.
#[test]
fn dot_products_over_runs_take_two_axpy_loops_unless_the_runs_overlap() {
    let g = Graph::new();
    let v: Vec<Var> = [1.0, 2.0, 3.0, 4.0, -1e16, 5.0]
        .iter()
        .map(|&x| g.var(x))
        .collect();
    let pulled = |y: Var| -> usize {
        g.zero_grad();
        fast::reset();
        y.backward();
        take().dot_runs_pulled
    };
    // w below x, x below w, the same run
    let wx = g.dot(&v[0..2], &v[3..5]);
    assert_eq!(pulled(wx), 1);
    assert_eq!((v[0].grad(), v[4].grad()), (4.0, 2.0));
    assert_eq!(pulled(g.dot(&v[3..5], &v[0..2])), 1);
    assert_eq!((v[0].grad(), v[4].grad()), (4.0, 2.0));
    assert_eq!(pulled(g.dot(&v[0..3], &v[0..3])), 1);
    assert_eq!((v[0].grad(), v[2].grad()), (2.0, 6.0));
    // overlapping runs: w = v0..v3, x = v2..v5; v2 is w in pair 2 and x in pair 0
    let c = g.constant(1e16);
    let dot = g.dot(&v[0..4], &v[2..6]);
    let y = dot + c * v[2];
    assert_eq!(pulled(y), 0);
    // v2: 1e16 (from c·v2, above the dot: pulled first), then pair 0's x share g·w0 = 1,
    // then pair 2's w share g·x2 = g·v4 = −1e16: (1e16 + 1) − 1e16 = 0 (1e16 + 1 rounds to
    // 1e16); the w share first would give (1e16 − 1e16) + 1 = 1
    assert_eq!(v[2].grad(), 0.0);
}

/// In a pass that keeps an earlier pass's gradients (no `zero_grad` between), a dot product
/// over runs takes the two `axpy` loops only where every input sits at or above the nodes
/// that earlier pass may have left gradients in; below, pair by pair into this pass's
/// scratch. Either way each gradient is the sum of both passes' shares.
#[test]
fn a_second_pass_takes_the_axpy_loops_only_above_the_earlier_passs_nodes() {
    let g = Graph::new();
    let a: Vec<Var> = (0..4).map(|i| g.var(0.5 + i as f64)).collect();
    let x: Vec<Var> = a.iter().map(|&v| v.tanh()).collect();
    let w: Vec<Var> = (0..4).map(|i| g.var(1.0 - 0.3 * i as f64)).collect();
    let y = g.dot(&w, &x) * 2.0;
    fast::reset();
    y.backward();
    assert_eq!(take().dot_runs_pulled, 1);
    let first: Vec<f64> = a.iter().chain(&w).map(|v| v.grad()).collect();
    // again without zero_grad: the tanh nodes hold the first pass's gradients
    y.backward();
    assert_eq!(take().dot_runs_pulled, 0);
    let second: Vec<f64> = a.iter().chain(&w).map(|v| v.grad()).collect();
    for (s, f) in second.iter().zip(&first) {
        assert_eq!(*s, 2.0 * f);
    }
    // nodes made after that pass, and a pass from them: above the earlier nodes
    let b: Vec<Var> = (0..3).map(|i| g.var(0.2 * i as f64)).collect();
    let z: Vec<Var> = (0..3).map(|i| g.var(2.0 + i as f64)).collect();
    let u = g.dot(&b, &z);
    u.backward();
    assert_eq!(take().dot_runs_pulled, 1);
    assert_eq!((b[1].grad(), z[2].grad()), (3.0, 0.4));
}

/// `recompute` takes `+` and `*` by its tag tests (not in anomaly mode, which checks each
/// node through the general path), and after it a zero gradient over tame nodes is still
/// skipped: a finite leaf does not make the graph wild, a leaf set to infinity does.
#[test]
fn recompute_takes_add_and_mul_by_tag_and_keeps_zero_gradients_skippable() {
    let g = Graph::new();
    let (a, b) = (g.var(2.0), g.var(-3.0));
    // (a·b + a)·relu(b): relu(b) is off, so the product's other factor gets gradient 0
    let off = b.relu();
    let y = (a * b + a) * off + a;
    g.recompute();
    assert_eq!(take().elementwise_recomputed, 4);
    y.backward();
    let t = take();
    assert!(t.zero_skipped > 0, "{t:?}");
    assert_eq!((a.grad(), b.grad()), (1.0, 0.0));
    g.detect_anomaly(true);
    g.recompute();
    assert_eq!(take().elementwise_recomputed, 0);
    g.detect_anomaly(false);
    // an infinite leaf: wild from there up, zeros passed on (0·∞ is NaN, as without skipping)
    a.set_value(f64::INFINITY);
    g.recompute();
    g.zero_grad();
    fast::reset();
    y.backward();
    assert_eq!(take().zero_skipped, 0);
    assert!(b.grad().is_nan());
}

/// A layer's inputs are marked in the ring when the whole run is less than 4,096 positions
/// below the row pulled back, in their words at 4,096 or more; inputs at the very start
/// of the tape, and a row right above its inputs, are marked in the ring.
#[test]
fn a_layers_input_run_is_marked_in_the_ring_up_to_4095_positions_down() {
    use scalargrad::nn::dense;
    // inputs first (positions 0 and 1), then `gap` constants, then the weights, then one row
    let marks = |gap: usize, weights_first: bool| -> usize {
        let g = Graph::new();
        let w_first = weights_first.then(|| vec![g.var(0.5), g.var(-0.25)]);
        let x = [g.var(1.0), g.var(2.0)];
        for _ in 0..gap {
            g.constant(0.0);
        }
        let w = w_first.unwrap_or_else(|| vec![g.var(0.5), g.var(-0.25)]);
        let y = dense(&x, std::slice::from_ref(&w), None, Activation::Linear);
        // the row: 0.5·1 − 0.25·2 = 0
        assert_eq!(y[0].value(), 0.0);
        fast::reset();
        y[0].backward();
        let t = take();
        assert_eq!(t.rows_pulled, 1, "{t:?}");
        assert_eq!((x[0].grad(), x[1].grad(), w[1].grad()), (0.5, -0.25, 2.0));
        t.word_marked
    };
    // the row right above its inputs (weights made first): the run in the ring
    assert_eq!(marks(0, true), 0);
    // inputs at position 0, the row 4 above (2 inputs, 2 weights): ring
    assert_eq!(marks(0, false), 0);
    // the row is at 2 + gap + 2: 4,095 above the inputs' start with gap 4,091
    assert_eq!(marks(4091, false), 0);
    assert_eq!(marks(4092, false), 2);
}

/// Layer rows over the inputs `[2·v, 1]` (`mixed`: one tracked, one constant, so some
/// inputs want a gradient, not all) or `[2·v, v + v]` (all do) with `v = 5`, each below a
/// relu: row 0 with the weights `w`, and (`two`) row 1 with weights 1, 1 (on). Returns what
/// a reverse pass from the relus' sum counted (rows pulled, rows zero-skipped, nodes
/// zero-skipped), and `v`'s gradient.
fn rows_below_relus(w: [f64; 2], two: bool, mixed: bool) -> ((usize, usize, usize), f64) {
    use scalargrad::nn::dense;
    let g = Graph::new();
    let v = g.var(5.0);
    let x = [v * 2.0, if mixed { g.constant(1.0) } else { v + v }];
    let mut ws = vec![vec![g.var(w[0]), g.var(w[1])]];
    if two {
        ws.push(vec![g.var(1.0), g.var(1.0)]);
    }
    let y = dense(&x, &ws, None, Activation::Relu);
    let loss = g.sum(&y);
    fast::reset();
    loss.backward();
    let t = take();
    let counts = (t.rows_pulled, t.rows_zero_skipped, t.zero_skipped);
    (counts, v.grad())
}

#[test]
fn a_row_reached_with_zero_below_the_first_wild_node_passes_nothing_on() {
    // row 0: y = −10 − 1 (or −10), its relu off, everything tame: skipped, and alone it
    // reaches nothing below it (2·v is not even looked at)
    let (counts, dv) = rows_below_relus([-1.0, -1.0], false, true);
    assert_eq!(counts, (1, 0, 1));
    assert_eq!(dv, 0.0);
    // under row 1 (on): skipped as one of the layer's rows, whichever inputs want a
    // gradient
    for (mixed, dv) in [(true, 2.0), (false, 4.0)] {
        let (counts, got) = rows_below_relus([-1.0, -1.0], true, mixed);
        assert_eq!(counts, (2, 0, 1), "mixed: {mixed}");
        assert_eq!(got, dv);
    }
}

#[test]
fn a_row_that_is_the_first_wild_node_and_adds_nothing_still_reaches_its_inputs() {
    // row 0: y = −1e308·10 − … = −∞, the first wild node; its inputs and weights are
    // finite, so its zero shares are skipped, but it passes on: alone, its inputs are
    // reached (2·v, tame, then skips its own zero)
    let (counts, dv) = rows_below_relus([-1e308, -1.0], false, true);
    assert_eq!(counts, (1, 1, 1));
    assert_eq!(dv, 0.0);
    for (mixed, dv) in [(true, 2.0), (false, 4.0)] {
        let (counts, got) = rows_below_relus([-1e308, -1.0], true, mixed);
        assert_eq!(counts, (2, 1, 0), "mixed: {mixed}");
        assert_eq!(got, dv);
    }
}

#[test]
fn a_dropped_graphs_arrays_are_taken_by_the_next_graph_on_the_thread() {
    {
        let g = Graph::new();
        let x = g.var(1.0);
        let y = (0..3000).fold(x, |acc, _| acc * 1.0);
        y.backward();
    }
    fast::reset();
    let g = Graph::new();
    // 1 + 2 · 3000 nodes were recorded there; the arrays kept have at least those slots
    assert!(take().spare_slots_taken >= 6001);
    // and start as new ones: no node, every gradient 0
    assert_eq!(g.len(), 0);
    let x = g.var(2.0);
    assert_eq!((x.value(), x.grad()), (2.0, 0.0));
    let y = (0..3000).fold(x, |acc, _| acc + 1.0);
    assert_eq!(y.grad(), 0.0);
    y.backward();
    assert_eq!((y.value(), x.grad()), (3002.0, 1.0));
    drop(g);
    // nothing is taken when no graph was dropped before on this thread
    let t = std::thread::spawn(|| {
        fast::reset();
        let _g = Graph::new();
        fast::taken().spare_slots_taken
    });
    assert_eq!(t.join().unwrap(), 0);
}

#[test]
fn ops_on_live_handles_are_recorded_after_two_comparisons_even_after_a_rewind() {
    let g = Graph::with_capacity(64);
    let a = g.var(2.0);
    let mark = g.mark();
    let b = g.var(3.0);
    let _ = (0..8).fold(a * b, |acc, _| acc.exp()); // slots to record into again
    g.rewind(mark); // a cut at 1: `b` is freed
    let (b, c) = (g.var(5.0), g.var(7.0)); // position 1 again, made since the cut
    fast::reset();
    // both below the cut, or both made since: the quick test passes
    let y = (b * c).sin() + a * a;
    assert_eq!(take().ops_checked, 0);
    assert_eq!(y.value(), 35f64.sin() + 4.0);
    // one of each (a parameter made before the mark, a node of this step): each live by
    // the quick test
    assert_eq!((a * b).value(), 10.0);
    assert_eq!((b * a).value(), 10.0);
    assert_eq!(take().ops_checked, 0);
    // a handle above the first cut made before the last one: not sure, the careful way
    // (which finds it live: made after the cut at 1 that was before it)
    let mark2 = g.mark();
    let d = g.var(1.0);
    let _ = d * d;
    g.rewind(mark2); // a second cut, newer than c
    let f = g.var(9.0);
    assert_eq!((c * f).value(), 63.0);
    assert_eq!(take().ops_checked, 1);
    assert_eq!((f * c).value(), 63.0);
    assert_eq!(take().ops_checked, 1);
    // anomaly mode takes the careful way
    g.detect_anomaly(true);
    let _ = (a * b).cos();
    assert_eq!(take().ops_checked, 2);
}

#[test]
fn a_dot_over_two_runs_is_computed_from_two_slices_and_a_list_term_by_term() {
    let g = Graph::new();
    let w: Vec<Var> = (0..3).map(|i| g.var(1.0 + i as f64)).collect();
    let x: Vec<Var> = (0..3).map(|i| g.var(0.5 * i as f64)).collect();
    fast::reset();
    let runs = g.dot(&w, &x);
    let t = take();
    assert_eq!((t.dot_runs_computed, t.dot_run_list_computed), (1, 0));
    // weights in a run, inputs listed: the weights as a slice
    let reversed: Vec<Var> = x.iter().rev().copied().collect();
    let list = g.dot(&w, &reversed);
    let t = take();
    assert_eq!((t.dot_runs_computed, t.dot_run_list_computed), (0, 1));
    // both listed: term by term
    let both = g.dot(&[w[2], w[0]], &[x[1], x[2]]);
    let t = take();
    assert_eq!((t.dot_runs_computed, t.dot_run_list_computed), (0, 0));
    assert_eq!(
        (runs.value(), list.value(), both.value()),
        (0.5 * 2.0 + 3.0, 1.0 + 1.0, 3.0 * 0.5 + 1.0)
    );
    w[0].set_value(2.0);
    g.recompute();
    let t = take();
    assert_eq!((t.dot_runs_computed, t.dot_run_list_computed), (1, 1));
    assert_eq!(
        (runs.value(), list.value(), both.value()),
        (4.0, 2.0 + 1.0, 3.0 * 0.5 + 2.0)
    );
    // with a bias: the bias, then every term
    let b = g.var(0.25);
    let affine = g.affine(b, &w, &reversed);
    assert_eq!(take().dot_run_list_computed, 1);
    assert_eq!(affine.value(), 0.25 + 3.0);
}

#[test]
fn a_gradient_set_on_a_leaf_leaves_the_reverse_pass_on_its_fast_way() {
    use scalargrad::Value;
    let x = [Value::constant(1.0), Value::constant(2.0)];
    let (mut w, mut b) = (Vec::new(), Vec::new());
    for j in 0..2 {
        w.push(vec![Value::new(1.0 + j as f64), Value::new(0.5)]);
        b.push(Value::new(0.0));
    }
    let y = Value::dense(&x, &w, Some(&b), Activation::Linear);
    // a leaf above the rows, its gradient set: the pass still adds in place, rows and all
    let c = Value::new(3.0);
    let loss = &(&y[0] + &y[1]) * &c;
    c.set_grad(0.5);
    fast::reset();
    loss.backward();
    assert_eq!(take().rows_pulled, 2);
    assert_eq!((c.grad(), w[1][1].grad()), (0.5 + 2.0 + 3.0, 3.0 * 2.0));
    // a second pass (no zero_grad): the op nodes add through scratch, so the rows are
    // taken one dot at a time
    loss.backward();
    let t = take();
    assert_eq!(t.rows_pulled, 0);
    assert_eq!(w[1][1].grad(), 2.0 * 3.0 * 2.0);
}

#[test]
fn flags_are_cleared_first_only_after_an_interrupted_pass() {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let g = Graph::new();
    let x = g.var(4.0);
    let y = x.sqrt() * 2.0;
    y.backward();
    fast::reset();
    y.backward();
    assert_eq!(take().flags_cleared, 0);
    // anomaly mode stops a pass that meets the infinite derivative of √ at 0
    let z = g.var(0.0);
    let bad = z.sqrt();
    g.detect_anomaly(true);
    assert!(catch_unwind(AssertUnwindSafe(|| bad.backward())).is_err());
    g.detect_anomaly(false);
    fast::reset();
    g.zero_grad();
    y.backward();
    assert_eq!(take().flags_cleared, g.len());
    assert_eq!(x.grad(), 0.5);
    y.backward();
    assert_eq!(take().flags_cleared, 0);
}

#[test]
fn every_training_step_pulls_its_layers_back_a_layer_at_a_time() {
    // parameters and inputs are leaves below the step's nodes: after a step's rewind no op
    // node is left where the next pass could find an old gradient, so each pass adds in
    // place and takes the rows (no scratch)
    use scalargrad::nn::{optim::Sgd, train_step};
    let g = Graph::new();
    let mlp = Mlp::new(&g, 2, &[4, 1], MlpConfig::new(3));
    let params = mlp.parameters();
    let x = [g.constant(0.5), g.constant(-1.0)];
    let mut opt = Sgd::new(0.1);
    for step in 0..3 {
        fast::reset();
        train_step(&g, &params, &mut opt, || mlp.forward(&x)[0]);
        assert_eq!(take().rows_pulled, 5, "step {step}");
    }
}

#[test]
fn a_layers_relus_are_pulled_back_as_one_run() {
    use scalargrad::nn::dense;
    let g = Graph::new();
    let w: Vec<Vec<Var>> = (0..4)
        .map(|j| vec![g.var(1.0 + j as f64), g.var(0.5)])
        .collect();
    let x = [g.var(1.0), g.var(2.0)];
    let y = dense(&x, &w, None, Activation::Relu); // all on: 2, 3, 4, 5
    let loss = g.sum(&y);
    fast::reset();
    loss.backward();
    let t = take();
    assert_eq!((t.runs_pulled, t.relu_runs_taken), (4, 1));
    assert_eq!(
        (x[0].grad(), x[1].grad()),
        (1.0 + 2.0 + 3.0 + 4.0, 4.0 * 0.5)
    );
}

#[test]
fn neurons_over_the_same_listed_inputs_check_them_once() {
    // a layer's outputs with an activation after each neuron: not a run, so each
    // neuron's dot lists its inputs; the second and later neurons list them unchecked
    let g = Graph::new();
    let xs: Vec<Var> = (0..3).map(|i| g.var(0.5 + i as f64)).collect();
    let hidden: Vec<Var> = xs.iter().map(|&x| (x * 2.0).relu()).collect(); // x·2 at gaps
    let w: Vec<Vec<Var>> = (0..4)
        .map(|j| {
            (0..3)
                .map(|i| g.var(0.1 * (j * 3 + i) as f64 - 0.3))
                .collect()
        })
        .collect();
    fast::reset();
    let ys: Vec<Var> = w.iter().map(|wj| g.dot(wj, &hidden)).collect();
    let t = take();
    // 3 inputs listed again by neurons 1, 2 and 3; each neuron's weights a run of 3
    assert_eq!((t.lists_reused, t.runs_checked), (9, 12));
    // the same values and gradients as the dots written out by hand
    let by_hand: Vec<Var> = w
        .iter()
        .map(|wj| wj[0] * hidden[0] + wj[1] * hidden[1] + wj[2] * hidden[2])
        .collect();
    for (y, h) in ys.iter().zip(&by_hand) {
        assert_eq!(y.value(), h.value());
    }
    let total = g.sum(&ys);
    total.backward();
    let grads: Vec<f64> = xs.iter().map(|x| x.grad()).collect();
    g.zero_grad();
    g.sum(&by_hand).backward();
    assert_eq!(grads, xs.iter().map(|x| x.grad()).collect::<Vec<_>>());
    // other handles (one input swapped) are checked and listed anew, right after a list
    // of the same length (the same handles in another order)
    let _ = g.dot(&w[1], &hidden);
    let mut other = hidden.clone();
    other.swap(0, 1);
    fast::reset();
    let z = g.dot(&w[0], &other);
    assert_eq!(take().lists_reused, 0);
    assert_eq!(
        z.value(),
        w[0][0].value() * hidden[1].value()
            + w[0][1].value() * hidden[0].value()
            + w[0][2].value() * hidden[2].value()
    );
}

#[test]
fn a_rewind_makes_listed_inputs_checked_again() {
    let g = Graph::new();
    let w: Vec<Var> = (0..2).map(|i| g.var(1.0 + i as f64)).collect();
    let mark = g.mark();
    let x0 = g.var(3.0);
    let hidden = [x0.relu(), (x0 * 2.0).relu()]; // not a run
    g.dot(&w, &hidden);
    g.rewind(mark);
    // the same handles, freed by the rewind: the panic names them, not a stale list
    let msg = panic_message(|| g.dot(&w, &hidden));
    assert!(msg.contains("freed"), "{msg}");
    // new inputs at the same positions are checked, listed, then listed again
    let x0 = g.var(3.0);
    let fresh = [x0.relu(), (x0 * 2.0).relu()];
    fast::reset();
    let a = g.dot(&w, &fresh);
    let b = g.dot(&w, &fresh);
    assert_eq!(take().lists_reused, 2);
    assert_eq!((a.value(), b.value()), (3.0 + 2.0 * 6.0, 3.0 + 2.0 * 6.0));
}

#[test]
fn a_run_made_across_a_rewind_is_checked_handle_by_handle() {
    let g = Graph::new();
    let x = [g.constant(1.0), g.constant(2.0)];
    let mark = g.mark();
    let tmp = g.var(9.0);
    g.rewind(mark);
    let w0 = g.var(3.0); // at tmp's old position, a newer epoch
    let w1 = g.var(4.0);
    fast::reset();
    let y = g.dot(&[w0, w1], &x);
    // both runs (weights, inputs) are of one epoch each: checked as blocks
    assert_eq!(take().runs_checked, 4);
    assert_eq!(y.value(), 3.0 + 8.0);
    // a run whose first handle is the freed one: positions consecutive, epochs not
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.dot(&[tmp, w1], &x)));
    assert!(r.is_err());
    assert_eq!(take().runs_checked, 0); // the weights, checked first, panicked
}

#[test]
fn dropping_the_top_value_cuts_to_the_highest_held_node_wherever_it_is() {
    use scalargrad::Value;
    // the held node below the dead top at every offset across two 16-count chunks
    for k in 0..40 {
        let base = Value::graph_len();
        let x = Value::new(1.0);
        let mut chain = vec![];
        let mut y = &x * 1.0; // a constant and a node: positions base + 1, base + 2
        for _ in 0..40 {
            y = &y + 1.0;
            chain.push(y.clone());
        }
        // keep only chain[k] (and x), drop everything else
        let kept = chain.swap_remove(k);
        drop(chain);
        drop(y);
        fast::reset();
        // the top was held by `y` or by chain[39]: now dead, cut to `kept`
        assert_eq!(Value::graph_len(), base + 3 + 2 * (k + 1), "k = {k}");
        assert_eq!(kept.data(), 2.0 + k as f64);
        drop(kept);
        assert_eq!(Value::graph_len(), base + 1, "k = {k}");
        drop(x);
        assert_eq!(Value::graph_len(), base, "k = {k}");
    }
}

#[test]
fn a_run_with_a_constant_in_it_gives_the_constant_no_gradient() {
    // inputs checked as a block: "all tracked" is false (the constant), "any" true, so
    // the `axpy` loop over them tests each input's flag
    let g = Graph::new();
    let w: Vec<Var> = (0..3).map(|i| g.var(1.0 + i as f64)).collect();
    let x = [g.var(0.5), g.constant(2.0), g.var(-1.0)];
    fast::reset();
    let y = g.dot(&w, &x);
    assert_eq!(take().runs_checked, 6);
    y.backward();
    assert_eq!(take().dot_runs_pulled, 1);
    assert_eq!(
        (x[0].grad(), x[1].grad(), x[2].grad()),
        (1.0, 0.0, 3.0),
        "the constant gets no gradient"
    );
    assert_eq!((w[0].grad(), w[1].grad(), w[2].grad()), (0.5, 2.0, -1.0));
    // all tracked but the last, and only the first
    for x in [
        [g.var(0.5), g.var(2.0), g.constant(-1.0)],
        [g.var(0.5), g.constant(2.0), g.constant(-1.0)],
    ] {
        g.zero_grad();
        g.dot(&w, &x).backward();
        assert_eq!(x[0].grad(), 1.0);
        assert_eq!(x[2].grad(), if x[2].is_tracked() { 3.0 } else { 0.0 });
        assert_eq!(x[1].grad(), if x[1].is_tracked() { 2.0 } else { 0.0 });
    }
}

#[test]
fn a_run_is_what_its_handles_say_it_is() {
    let g = Graph::new();
    let w: Vec<Var> = (0..3).map(|i| g.var(1.0 + i as f64)).collect();
    let x: Vec<Var> = (0..3).map(|i| g.var(10.0 * (i + 1) as f64)).collect();
    // the handles of a run in another order are not the run
    let permuted = [x[0], x[2], x[1]];
    fast::reset();
    let y = g.dot(&w, &permuted);
    assert_eq!(take().runs_checked, 3); // the weights only
    assert_eq!(y.value(), 10.0 + 2.0 * 30.0 + 3.0 * 20.0);
    // handles of another graph at the same positions are not this graph's run, nor the
    // last list (two and three of them: a difference that cancels out in pairs is found)
    let other = Graph::new();
    let foreign = [other.var(1.0), other.var(2.0), other.var(3.0)];
    let listed = [x[1], x[0]];
    let _ = g.dot(&w[..2], &listed);
    let foreign_listed = [other.var(4.0), other.var(5.0)];
    let w2 = [w[0], w[1]];
    let msgs = [
        panic_message(|| g.dot(&w, &foreign)),
        panic_message(|| g.dot(&w2, &foreign[..2])),
        panic_message(|| g.dot(&foreign[1..], &w2)),
        // at the positions of the last list, [x1, x0]
        panic_message(|| g.dot(&w2, &[foreign_listed[1], foreign_listed[0]])),
    ];
    for msg in msgs {
        assert!(msg.contains("graph"), "{msg}");
    }
}

#[test]
fn a_run_made_across_a_rewind_is_checked_one_by_one_and_still_a_run() {
    // consecutive positions, two epochs: not a block (each handle checked on its own), but
    // a run all the same; with a constant in it, "all tracked" is false
    let g = Graph::new();
    let w: Vec<Var> = (0..2).map(|i| g.var(1.0 + i as f64)).collect();
    let a = g.var(3.0);
    let mark = g.mark();
    let _ = g.var(0.0);
    g.rewind(mark);
    let c = g.constant(5.0); // right after `a`, in a newer epoch
    fast::reset();
    let y = g.dot(&w, &[a, c]);
    let t = take();
    assert_eq!((t.runs_checked, t.dot_runs_computed), (2, 1)); // the weights as a block
    assert_eq!(y.value(), 3.0 + 2.0 * 5.0);
    y.backward();
    assert_eq!(take().dot_runs_pulled, 1);
    assert_eq!(
        (a.grad(), c.grad()),
        (1.0, 0.0),
        "the constant gets no gradient"
    );
    assert_eq!((w[0].grad(), w[1].grad()), (3.0, 5.0));
}

#[test]
fn value_ops_that_need_the_general_path_give_the_same_numbers() {
    // a fresh thread: its graph's arrays grow as the chain is recorded, and an op at the
    // end of the slots goes through the `Var` op (counted as `value_one_node`)
    let (direct, general, neg, sum, prod) = std::thread::spawn(|| {
        use scalargrad::Value;
        let x = Value::new(1.5);
        fast::reset();
        let mut y = x.clone();
        let mut flips_right = true;
        for k in 0..4001 {
            let before = y.data();
            y = if k % 3 == 0 { -&y } else { -y };
            flips_right &= y.data() == -before;
        }
        assert!(flips_right, "every negation negates");
        let mut s = Value::new(0.0);
        let mut p = Value::new(1.0);
        for k in 0..500 {
            s = &s + &x;
            s = &s - 0.5;
            p = &p * &x;
            p = &p / &x;
            if k % 2 == 0 {
                p = p.exp().ln();
            }
        }
        let t = fast::taken();
        (
            t.value_direct,
            t.value_one_node,
            y.data(),
            s.data(),
            p.data(),
        )
    })
    .join()
    .unwrap();
    assert!(general > 0 && direct > 10 * general, "{direct} {general}");
    assert_eq!(neg, -1.5);
    assert_eq!(sum, 500.0);
    assert!((prod - 1.0).abs() < 1e-9, "{prod}");
}

#[test]
fn a_handle_made_after_a_cut_to_a_node_below_it_is_live_by_the_quick_test() {
    // `Value::apply_graph_fn` hands `f` handles of the current epoch to old nodes: after a
    // cut, a parameter's handle is both below the first cut and newer than the last
    std::thread::spawn(|| {
        use scalargrad::Value;
        let p = Value::new(3.0);
        let q = Value::new(4.0);
        {
            let _tmp = (&p * &q).tanh(); // dropped: cut off the top
        }
        let _tmp = (&p + &q).exp();
        drop(_tmp); // a second cut
        fast::reset();
        let y = Value::apply_graph_fn_n(&[&p, &q], |v| v[0] * v[1] + v[0]);
        assert_eq!(fast::taken().ops_checked, 0);
        assert_eq!(y.data(), 15.0);
    })
    .join()
    .unwrap();
}

#[test]
fn a_handle_is_looked_up_among_the_cuts_only_if_made_before_the_last_and_above_the_first() {
    let g = Graph::new();
    let p = g.var(2.0); // below every cut
    let mark = g.mark();
    fast::reset();
    for _ in 0..3 {
        let y = p * p + p.exp(); // made since the last cut, above the first
        y.backward();
        assert_eq!((y.value(), p.value()), (4.0 + 2f64.exp(), 2.0));
        g.zero_grad();
        g.rewind(mark);
    }
    assert_eq!(take().handles_looked_up, 0);
    // q is made after the first cut and before the last one: its liveness is a search
    let q = g.var(3.0);
    let inner = g.mark();
    let _z = q * q;
    g.rewind(inner);
    fast::reset();
    assert_eq!(q.value(), 3.0);
    assert_eq!(take().handles_looked_up, 1);
    let r = q * 2.0; // q on the careful path, the new constant by the comparisons
    assert_eq!(r.value(), 6.0);
    let t = take();
    assert_eq!((t.handles_looked_up, t.ops_checked), (1, 1));
}

#[test]
fn a_rewind_keeps_a_list_that_a_kept_neuron_shares_with_a_freed_one() {
    // a and b name the same operand list (b's inputs are a's: listed again, not copied).
    // The rewind frees b and keeps a, and with it the list (a mark keeps the operand table
    // as long as it was; a cut by length alone, `Value`'s, is in `tests/value.rs`).
    let g = Graph::new();
    let x0 = g.var(1.0);
    let xs = [x0.relu(), (x0 * 2.0).relu(), (x0 * 3.0).relu()]; // not a run
    let (wa, ba) = ([g.var(0.5), g.var(-1.0), g.var(2.0)], g.var(0.25));
    let a = g.affine(ba, &wa, &xs);
    let mark = g.mark();
    let (wb, bb) = ([g.var(1.0), g.var(1.0), g.var(1.0)], g.var(0.0));
    fast::reset();
    let b = g.affine(bb, &wb, &xs);
    assert_eq!(take().lists_reused, 3);
    assert_eq!(b.value(), 6.0);
    let end = g.mark();
    g.rewind(end); // frees nothing
    g.rewind(mark); // frees b
                    // a new list where a's would have been, were it given back
    let ys = [x0.exp(), x0.ln(), x0.sqrt()];
    let c = g.dot(&wa, &ys);
    assert_eq!(c.value(), 0.5 * 1f64.exp() + 0.0 + 2.0);
    let want = 0.25 + 0.5 * 1.0 - 1.0 * 2.0 + 2.0 * 3.0;
    assert_eq!(a.value(), want);
    x0.set_value(2.0);
    g.recompute();
    assert_eq!(a.value(), 0.25 + 0.5 * 2.0 - 1.0 * 4.0 + 2.0 * 6.0);
    a.backward();
    assert_eq!((wa[0].grad(), wa[1].grad(), wa[2].grad()), (2.0, 4.0, 6.0));
}

#[test]
fn only_a_tape_that_named_a_list_again_looks_for_its_end_on_a_cut() {
    // cuts by length alone (a `Value`'s top dropped): no scan while no list is shared
    let x0 = Value::new(1.0);
    let xs = [x0.relu(), (&x0 * 2.0).relu()]; // not a run
    let (w, b) = ([Value::new(1.0), Value::new(2.0)], Value::new(0.5));
    fast::reset();
    let s = Value::sum([&xs[1], &xs[0]]); // a list
    drop(&s * 2.0); // a cut
    drop(&s * 3.0); // and another
    assert_eq!(take().shared_list_scans, 0);
    // two neurons over the same inputs: the second names the first's list again
    let a = Value::affine(&b, &w, &xs);
    let c = Value::affine(&b, &w, &xs);
    assert_eq!(take().lists_reused, 2);
    drop(&c * 2.0);
    drop(c);
    assert_eq!(take().shared_list_scans, 2);
    assert_eq!((a.data(), s.data()), (0.5 + 1.0 + 4.0, 3.0));
}

#[test]
fn a_rewind_that_keeps_a_wild_node_keeps_it_wild() {
    // exp(1000) is wild (not finite); a rewind above it keeps it so: reached with gradient
    // 0 it is pulled back, and 0 · ∞ gives the input NaN (IEEE), not a skipped 0
    let g = Graph::new();
    let x = g.var(1e200);
    let big = (x * 1e-197).exp();
    assert_eq!(big.value(), f64::INFINITY);
    let mark = g.mark();
    let _freed = big + 1.0;
    g.rewind(mark);
    let y = big * g.constant(0.0);
    fast::reset();
    y.backward();
    assert_eq!(take().zero_skipped, 0);
    assert!(x.grad().is_nan(), "{}", x.grad());
}

#[test]
fn an_optimizer_sets_the_parameters_of_one_graph_in_one_borrow() {
    use scalargrad::nn::optim::{Optimizer, Sgd};
    let g = Graph::new();
    let ps = [g.var(1.0), g.var(2.0), g.var(3.0)];
    (ps[0] * ps[1] + ps[2]).backward();
    fast::reset();
    Sgd::new(0.5).step(&ps);
    assert_eq!(take().leaves_updated_at_once, 3);
    assert_eq!(ps.map(|p| p.value()), [1.0 - 1.0, 2.0 - 0.5, 3.0 - 0.5]);
    // handles of two graphs: one `set_value` each
    let h = Graph::new();
    let q = h.var(4.0);
    Sgd::new(0.5).step(&[ps[0], q]);
    assert_eq!(take().leaves_updated_at_once, 0);
}

/// A layer's outputs through the rows path are handles made from the rows' run, each its
/// own neuron's (`Neuron::predict` adds the same terms in the same order).
#[test]
fn a_layers_rows_give_each_neuron_its_own_output() {
    use scalargrad::nn::{Layer, Neuron};
    let g = Graph::new();
    let layer = Layer::new(
        (0..3)
            .map(|j| {
                let j = f64::from(j);
                Neuron::new(&g, &[0.5 + j, -0.25], Some(0.125 * j), Activation::Relu)
            })
            .collect(),
    );
    let x = [2.0, -1.0];
    take();
    let y = layer.forward(&x.map(|v| g.constant(v)));
    let t = take();
    // the block vouched for by its last handle, the inputs by the quick checks
    assert_eq!((t.rows_recorded, t.handles_checked_alone), (3, 0), "{t:?}");
    for (y, n) in y.iter().zip(layer.neurons()) {
        assert_eq!(y.value(), n.predict(&x));
    }
    assert_eq!(y[2].value(), 2.5 * 2.0 + 0.25 + 0.25);
}

/// A layer whose neurons are not one block of parameters (a leaf made between two of
/// them) records a dot product per neuron over inputs checked once: each neuron's weights
/// are vouched for by their last handle, none is checked on its own; and once a rewind has
/// freed them the next forward panics rather than read freed slots.
#[test]
fn a_layer_of_scattered_neurons_vouches_for_each_neuron_by_its_last_weight() {
    use scalargrad::nn::{Layer, Neuron};
    let g = Graph::new();
    let mark = g.mark();
    let n1 = Neuron::new(&g, &[0.5, -0.25], Some(0.125), Activation::Relu);
    let _between = g.var(9.0);
    let n2 = Neuron::new(&g, &[1.5, 0.75], Some(-0.5), Activation::Tanh);
    let layer = Layer::new(vec![n1, n2]);
    let x = [2.0, -1.0];
    take();
    let y = layer.forward(&x.map(|v| g.constant(v)));
    let t = take();
    assert_eq!((t.rows_recorded, t.handles_checked_alone), (0, 0), "{t:?}");
    assert_eq!(y[0].value(), 1.375);
    assert_eq!(y[1].value(), 1.75_f64.tanh());
    g.rewind(mark);
    let m = panic_message(|| layer.forward(&x.map(|v| g.constant(v))));
    assert!(m.contains("freed"), "{m}");
    assert!(take().handles_checked_alone >= 1);
}

/// `Mlp::forward` hands each layer's outputs to the next as a run of positions: only the
/// inputs are checked (two handles), no layer's outputs are, and handles are made for the
/// last layer's alone.
#[test]
fn an_mlp_hands_each_layers_outputs_to_the_next_unchecked() {
    let g = Graph::new();
    let mlp = Mlp::new(&g, 2, &[4, 3, 1], MlpConfig::new(0));
    assert!(std::ptr::eq(mlp.graph(), &g));
    let x = [g.constant(0.5), g.constant(-1.5)];
    take();
    let y = mlp.forward(&x);
    let t = take();
    assert_eq!((t.runs_checked, t.rows_recorded), (2, 8), "{t:?}");
    assert_eq!(y[0].value(), mlp.predict(&[0.5, -1.5])[0]);
    let chain = Mlp::new(&g, 2, &[4, 3, 1], MlpConfig::new(0)).with_fusion(Fusion::Elementwise);
    assert_eq!(chain.fusion(), Fusion::Elementwise);
}

/// An `Mlp` whose first layer cannot be rows (a custom activation) records it the general
/// way, over inputs that are not a run (a leaf made between them), and hands on handles.
#[test]
fn an_mlp_whose_first_layer_is_not_rows_takes_listed_inputs() {
    fn softsign(x: Var<'_>) -> Var<'_> {
        x / (x.abs() + 1.0)
    }
    let g = Graph::new();
    let act = Activation::Custom(CustomActivation::new("softsign", softsign));
    let mlp = Mlp::new(&g, 2, &[3, 1], MlpConfig::new(5).hidden(act));
    let a = g.constant(0.5);
    let _between = g.constant(7.0);
    let b = g.constant(-1.5);
    let y = mlp.forward(&[a, b])[0];
    assert_eq!(y.value(), mlp.predict(&[0.5, -1.5])[0]);
}
