//! A layer whose parameters form one block (every `nn::Layer` built from `Neuron::new`) is
//! recorded as the rows of one op and differentiated all rows at once. These tests hold it
//! to the reference it replaces, one `Graph::affine` node per neuron (`Neuron::forward`),
//! bit for bit, and to central differences; and check the cases it must step aside for.

use scalargrad::nn::{Activation, Fusion, Layer, Mlp, Neuron};
use scalargrad::{Graph, Var};

/// A small deterministic generator (xorshift), values in [-1, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
    fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next()).collect()
    }
}

fn layer<'g>(
    g: &'g Graph,
    rng: &mut Rng,
    nin: usize,
    nout: usize,
    bias: bool,
    act: Activation,
) -> Layer<'g> {
    Layer::new(
        (0..nout)
            .map(|_| {
                let w = rng.vec(nin);
                let b = bias.then(|| rng.next());
                Neuron::new(g, &w, b, act)
            })
            .collect(),
    )
}

fn bits(xs: &[f64]) -> Vec<u64> {
    xs.iter().map(|x| x.to_bits()).collect()
}

/// How the layer's inputs are made.
#[derive(Clone, Copy, Debug)]
enum Inputs {
    /// tracked leaves at consecutive positions
    Vars,
    /// constants (no gradient)
    Constants,
    /// tracked and constant alternating
    Mixed,
    /// tracked leaves in reverse order (not a run)
    Shuffled,
}

fn inputs<'g>(g: &'g Graph, xs: &[f64], how: Inputs) -> Vec<Var<'g>> {
    match how {
        Inputs::Vars => xs.iter().map(|&x| g.var(x)).collect(),
        Inputs::Constants => xs.iter().map(|&x| g.constant(x)).collect(),
        Inputs::Mixed => xs
            .iter()
            .enumerate()
            .map(|(i, &x)| if i % 2 == 0 { g.var(x) } else { g.constant(x) })
            .collect(),
        Inputs::Shuffled => {
            let mut v: Vec<_> = xs.iter().rev().map(|&x| g.var(x)).collect();
            v.reverse();
            v
        }
    }
}

/// The layer's outputs for `xs`: recorded by the layer (as rows) or neuron by neuron (one
/// `Graph::affine` node each, the reference).
fn outputs<'g>(l: &Layer<'g>, xs: &[Var<'g>], by_rows: bool) -> Vec<Var<'g>> {
    if by_rows {
        l.forward(xs)
    } else {
        l.neurons().iter().map(|n| n.forward(xs)).collect()
    }
}

/// Backward from `Σ_j c_j · ys_j`; returns that loss and the outputs' values, then the
/// gradients of the layer's parameters and of the inputs.
fn weighted_outputs_backward<'g>(
    l: &Layer<'g>,
    xs: &[Var<'g>],
    ys: &[Var<'g>],
    c: &[f64],
) -> (Var<'g>, Vec<f64>) {
    let loss = ys
        .iter()
        .zip(c)
        .map(|(&y, &c)| y * c)
        .reduce(|a, b| a + b)
        .unwrap();
    loss.backward();
    let mut out: Vec<f64> = ys.iter().map(|y| y.value()).collect();
    out.extend(l.parameters().iter().map(|p| p.grad()));
    out.extend(xs.iter().map(|x| x.grad()));
    (loss, out)
}

/// Values and gradients of `loss = Σ_j c_j · layer(x)_j` (then of a second backward),
/// recorded by rows (`by_rows`) or one affine node per neuron.
fn run(
    seed: u64,
    nin: usize,
    nout: usize,
    bias: bool,
    act: Activation,
    how: Inputs,
    by_rows: bool,
) -> Vec<u64> {
    let g = Graph::new();
    let mut rng = Rng(seed);
    let l = layer(&g, &mut rng, nin, nout, bias, act);
    let xs = inputs(&g, &rng.vec(nin), how);
    let c = rng.vec(nout);
    let ys = outputs(&l, &xs, by_rows);
    let (loss, mut out) = weighted_outputs_backward(&l, &xs, &ys, &c);
    // a second pass adds the same again (scratch path)
    loss.backward();
    out.extend(l.parameters().iter().map(|p| p.grad()));
    out.extend(xs.iter().map(|x| x.grad()));
    bits(&out)
}

#[test]
fn rows_equal_one_affine_node_per_neuron_bit_for_bit() {
    let mut cases = 0;
    for nin in [1, 2, 3, 4, 5, 8, 16, 17, 21] {
        for nout in [1, 2, 3, 4, 5, 7, 8, 9, 16] {
            for bias in [true, false] {
                for act in [Activation::Relu, Activation::Tanh, Activation::Linear] {
                    for how in [
                        Inputs::Vars,
                        Inputs::Constants,
                        Inputs::Mixed,
                        Inputs::Shuffled,
                    ] {
                        let seed = 1 + (nin * 1000 + nout * 10) as u64 + u64::from(bias);
                        let a = run(seed, nin, nout, bias, act, how, true);
                        let b = run(seed, nin, nout, bias, act, how, false);
                        assert_eq!(a, b, "nin {nin} nout {nout} bias {bias} {act:?} {how:?}");
                        cases += 1;
                    }
                }
            }
        }
    }
    assert_eq!(cases, 9 * 9 * 2 * 3 * 4);
}

#[test]
fn rows_match_central_differences() {
    let (nin, nout) = (5, 6);
    let mut rng = Rng(7);
    let w: Vec<Vec<f64>> = (0..nout).map(|_| rng.vec(nin)).collect();
    let b = rng.vec(nout);
    let x0 = rng.vec(nin);
    let c = rng.vec(nout);
    // loss(x) = Σ_j c_j tanh(b_j + w_j·x), by plain arithmetic
    let f = |x: &[f64]| -> f64 {
        (0..nout)
            .map(|j| c[j] * (b[j] + (0..nin).map(|i| w[j][i] * x[i]).sum::<f64>()).tanh())
            .sum()
    };
    let g = Graph::new();
    let l = Layer::new(
        (0..nout)
            .map(|j| Neuron::new(&g, &w[j], Some(b[j]), Activation::Tanh))
            .collect(),
    );
    let xs: Vec<Var> = x0.iter().map(|&x| g.var(x)).collect();
    let ys = l.forward(&xs);
    let loss = ys
        .iter()
        .zip(&c)
        .map(|(&y, &c)| y * c)
        .reduce(|a, b| a + b)
        .unwrap();
    assert!((loss.value() - f(&x0)).abs() < 1e-14);
    loss.backward();
    let h = 1e-6;
    for i in 0..nin {
        let (mut up, mut down) = (x0.clone(), x0.clone());
        up[i] += h;
        down[i] -= h;
        let fd = (f(&up) - f(&down)) / (2.0 * h);
        assert!(
            (xs[i].grad() - fd).abs() < 1e-8,
            "x{i}: {} vs {fd}",
            xs[i].grad()
        );
    }
    // ∂loss/∂b_j = c_j (1 − y_j²)
    for (j, n) in l.neurons().iter().enumerate() {
        let y = ys[j].value();
        let want = c[j] * (1.0 - y * y);
        assert!((n.bias().unwrap().grad() - want).abs() < 1e-15);
    }
}

#[test]
fn backward_from_one_row_reaches_only_its_neuron() {
    let g = Graph::new();
    let mut rng = Rng(3);
    let l = layer(&g, &mut rng, 3, 6, true, Activation::Linear);
    let xs = inputs(&g, &[1.0, 2.0, 3.0], Inputs::Vars);
    let ys = l.forward(&xs);
    ys[4].backward();
    for (j, n) in l.neurons().iter().enumerate() {
        let want: Vec<f64> = if j == 4 {
            vec![1.0, 2.0, 3.0, 1.0]
        } else {
            vec![0.0; 4]
        };
        let got: Vec<f64> = n.parameters().iter().map(|p| p.grad()).collect();
        assert_eq!(got, want, "neuron {j}");
    }
    let w4: Vec<f64> = l.neurons()[4].weights().iter().map(|w| w.value()).collect();
    let gx: Vec<f64> = xs.iter().map(|x| x.grad()).collect();
    assert_eq!(gx, w4);
}

#[test]
fn recompute_after_set_value_equals_a_fresh_recording() {
    let g = Graph::new();
    let mut rng = Rng(11);
    let l = layer(&g, &mut rng, 4, 9, true, Activation::Relu);
    let xs = inputs(&g, &rng.vec(4), Inputs::Constants);
    let ys = l.forward(&xs);
    for p in l.parameters() {
        p.set_value(p.value() * 1.5 - 0.25);
    }
    g.recompute();
    let replayed: Vec<f64> = ys.iter().map(|y| y.value()).collect();
    let fresh: Vec<f64> = l.forward(&xs).iter().map(|y| y.value()).collect();
    assert_eq!(bits(&replayed), bits(&fresh));
    let by_neuron: Vec<f64> = l.neurons().iter().map(|n| n.forward(&xs).value()).collect();
    assert_eq!(bits(&replayed), bits(&by_neuron));
}

#[test]
fn second_order_gradients_through_rows_equal_per_neuron_ones() {
    let second = |by_rows: bool| -> Vec<u64> {
        let g = Graph::new();
        let mut rng = Rng(5);
        let l = layer(&g, &mut rng, 3, 5, true, Activation::Tanh);
        let xs = inputs(&g, &rng.vec(3), Inputs::Vars);
        let ys = outputs(&l, &xs, by_rows);
        let loss = ys.iter().fold(g.constant(0.0), |a, &y| a + y * y);
        let d = g.grad(loss, &xs);
        let dd = g.grad(d[0], &xs);
        bits(&d.iter().chain(&dd).map(|v| v.value()).collect::<Vec<f64>>())
    };
    assert_eq!(second(true), second(false));
}

#[test]
fn rows_are_freed_by_rewind_and_recorded_again() {
    let g = Graph::new();
    let mut rng = Rng(13);
    let l = layer(&g, &mut rng, 2, 16, true, Activation::Relu);
    let xs = inputs(&g, &[0.5, -0.25], Inputs::Constants);
    let mark = g.mark();
    let first: Vec<f64> = l.forward(&xs).iter().map(|y| y.value()).collect();
    let old = l.forward(&xs)[3];
    g.rewind(mark);
    let again: Vec<f64> = l.forward(&xs).iter().map(|y| y.value()).collect();
    assert_eq!(bits(&first), bits(&again));
    let stale = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| old.value()));
    assert!(stale.is_err(), "a row freed by rewind must not be readable");
}

#[test]
fn anomaly_mode_and_foreign_layouts_take_the_per_neuron_path_with_the_same_numbers() {
    let reference = run(21, 4, 6, true, Activation::Relu, Inputs::Vars, false);
    // anomaly mode: rows are not recorded, the numbers are the same
    let g = Graph::new();
    g.detect_anomaly(true);
    let mut rng = Rng(21);
    let l = layer(&g, &mut rng, 4, 6, true, Activation::Relu);
    let xs = inputs(&g, &rng.vec(4), Inputs::Vars);
    let c = rng.vec(6);
    let ys = l.forward(&xs);
    let (_, out) = weighted_outputs_backward(&l, &xs, &ys, &c);
    assert_eq!(bits(&out), reference[..out.len()]);

    // parameters not created neuron after neuron (interleaved with another layer's)
    let g = Graph::new();
    let mut rng = Rng(21);
    let mut a = Vec::new();
    let mut other = Vec::new();
    for _ in 0..6 {
        let w = rng.vec(4);
        let b = rng.next();
        a.push(Neuron::new(&g, &w, Some(b), Activation::Relu));
        other.push(Neuron::new(&g, &[1.0], None, Activation::Linear));
    }
    let l = Layer::new(a);
    let xs = inputs(&g, &rng.vec(4), Inputs::Vars);
    let c = rng.vec(6);
    let ys = l.forward_with(&xs, Fusion::Fused);
    let (_, out) = weighted_outputs_backward(&l, &xs, &ys, &c);
    assert_eq!(bits(&out), reference[..out.len()]);
}

#[test]
fn a_layer_of_rows_reads_its_own_parameters_as_inputs_correctly() {
    // inputs that are the layer's own weights: not apart, so the rows fall back
    let run = |by_rows: bool| -> Vec<u64> {
        let g = Graph::new();
        let l = layer(&g, &mut Rng(9), 2, 3, false, Activation::Linear);
        let xs = l.neurons()[1].weights().to_vec();
        let ys = outputs(&l, &xs, by_rows);
        let loss = ys.iter().fold(g.constant(0.0), |a, &y| a + y);
        loss.backward();
        bits(&l.parameters().iter().map(|p| p.grad()).collect::<Vec<_>>())
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn runs_of_relus_pass_the_gradient_where_their_input_is_positive() {
    let g = Graph::new();
    // a chain: each relu reads the one just below it
    let x = g.var(2.0);
    let mut y = x;
    for _ in 0..5 {
        y = y.relu();
    }
    (y * 3.0).backward();
    assert_eq!(x.grad(), 3.0);
    // side by side, as a layer's activations: positive, zero, negative, NaN, constant
    let g = Graph::new();
    let xs = [g.var(1.5), g.var(0.0), g.var(-2.0), g.var(f64::NAN)];
    let c = g.constant(4.0);
    let pre: Vec<Var> = xs.iter().map(|&x| x * 2.0).chain([c * 2.0]).collect();
    let ys: Vec<Var> = pre.iter().map(|p| p.relu()).collect();
    let loss = ys
        .iter()
        .zip([1.0, 2.0, 3.0, 4.0, 5.0])
        .map(|(&y, k)| y * k)
        .reduce(|a, b| a + b)
        .unwrap();
    loss.backward();
    assert_eq!(xs[0].grad(), 2.0);
    assert_eq!(xs[1].grad().to_bits(), 0.0f64.to_bits()); // relu'(0) = 0, +0
    assert_eq!(xs[2].grad().to_bits(), 0.0f64.to_bits());
    assert_eq!(xs[3].grad(), 0.0); // NaN is not > 0: no gradient (as PyTorch and micrograd)
    assert_eq!(c.grad(), 0.0);
    // a second backward (the scratch path) adds the same again
    loss.backward();
    assert_eq!((xs[0].grad(), xs[3].grad()), (4.0, 0.0));
}

#[test]
fn a_layer_of_mixed_activations_equals_its_neurons() {
    let run = |by_rows: bool| -> Vec<u64> {
        let g = Graph::new();
        let mut rng = Rng(17);
        let acts = [
            Activation::Relu,
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Linear,
            Activation::Relu,
        ];
        let l = Layer::new(
            acts.iter()
                .map(|&a| Neuron::new(&g, &rng.vec(3), Some(rng.next()), a))
                .collect(),
        );
        let xs = inputs(&g, &rng.vec(3), Inputs::Vars);
        let ys = outputs(&l, &xs, by_rows);
        let loss = ys.iter().fold(g.constant(0.0), |a, &y| a + y * y);
        loss.backward();
        let mut out: Vec<f64> = ys.iter().map(|y| y.value()).collect();
        out.extend(l.parameters().iter().map(|p| p.grad()));
        out.extend(xs.iter().map(|x| x.grad()));
        bits(&out)
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn a_row_with_zero_gradient_still_passes_on_nan_from_an_infinite_input_or_weight() {
    // Rows whose relu is off get gradient 0; 0 · ∞ is NaN, as one node per neuron gives.
    let run = |by_rows: bool, inf_input: bool| -> Vec<u64> {
        let g = Graph::new();
        // pre-activations −∞: every relu is off
        let w = if inf_input {
            [-1.0, -1.0]
        } else {
            [f64::NEG_INFINITY, -1.0]
        };
        let l = Layer::new(
            (0..5)
                .map(|j| Neuron::new(&g, &w, Some(-10.0 - j as f64), Activation::Relu))
                .collect(),
        );
        let x0 = if inf_input { f64::INFINITY } else { 1.0 };
        let xs = [g.var(x0), g.var(2.0)];
        let ys = outputs(&l, &xs, by_rows);
        let loss = ys.iter().fold(g.constant(0.0), |a, &y| a + y);
        loss.backward();
        let mut out: Vec<f64> = l.parameters().iter().map(|p| p.grad()).collect();
        out.extend(xs.iter().map(|x| x.grad()));
        bits(&out)
    };
    for inf_input in [true, false] {
        let rows = run(true, inf_input);
        assert_eq!(rows, run(false, inf_input), "inf input: {inf_input}");
        assert!(
            rows.iter().any(|&b| f64::from_bits(b).is_nan()),
            "0·∞ must give NaN somewhere (inf input: {inf_input})"
        );
    }
}

#[test]
fn rows_not_reached_add_nothing_even_next_to_an_infinite_input() {
    // Only reached rows are taken: an unreached row would add 0 · ∞ = NaN to its weights.
    let g = Graph::new();
    let l = layer(&g, &mut Rng(23), 2, 6, true, Activation::Linear);
    let xs = [g.var(f64::INFINITY), g.var(1.0)];
    let ys = l.forward(&xs);
    (ys[2] * 1.0).backward();
    for (j, n) in l.neurons().iter().enumerate() {
        let grads: Vec<f64> = n.parameters().iter().map(|p| p.grad()).collect();
        if j == 2 {
            assert_eq!(grads, [f64::INFINITY, 1.0, 1.0]);
        } else {
            assert_eq!(grads, [0.0; 3], "neuron {j} was not reached");
        }
    }
}

#[test]
fn rows_used_far_above_are_reached_and_their_marks_cleared() {
    // Shares given from more than 4,096 positions above are marked in the node's word, not
    // on the walk's stack; the rows must take those marks and clear them, or a later pass
    // would walk them again.
    let far = |by_rows: bool| -> Vec<u64> {
        let g = Graph::new();
        let mut rng = Rng(29);
        let l = layer(&g, &mut rng, 3, 5, true, Activation::Linear);
        let xs = [g.var(f64::INFINITY), g.var(0.5), g.var(-0.25)];
        let ys = outputs(&l, &xs, by_rows);
        let mut filler = g.var(1.0);
        for _ in 0..5000 {
            filler *= 1.0;
        }
        let loss = ys.iter().fold(filler, |a, &y| a + y);
        loss.backward();
        let mut out: Vec<f64> = l.parameters().iter().map(|p| p.grad()).collect();
        // a second graph of the same tape that does not reach the layer: no row may be
        // walked again (an unreached row adds 0 · ∞ = NaN)
        g.zero_grad();
        let other = g.var(2.0);
        (other * filler).backward();
        out.extend(l.parameters().iter().map(|p| p.grad()));
        out.push(other.grad());
        bits(&out)
    };
    let rows = far(true);
    assert_eq!(rows, far(false));
    let n = rows.len();
    assert!(rows[n - 21..n - 1].iter().all(|&b| b == 0), "{rows:?}");
    assert_eq!(f64::from_bits(rows[n - 1]), 1.0);
}

#[test]
fn inputs_far_below_their_rows_are_reached_and_their_marks_cleared() {
    // The rows mark their inputs reached on the walk's stack when the inputs lie less than
    // 4,096 positions below, else in the inputs' words. Here a run of relus (the inputs)
    // lies 5,000 nodes below the rows: both passes must reach it, and a later pass from a
    // root that does not use the layer must take none of it (a relu taken with no share
    // would pass 0 on to `w · ∞`).
    let far = |by_rows: bool| -> Vec<u64> {
        let g = Graph::new();
        let mut rng = Rng(31);
        let ws: Vec<Var> = [0.5, 1.0, 0.25, 2.0].iter().map(|&w| g.var(w)).collect();
        // inputs relu(w · k) = 1, ∞, 0 (off), 1
        let ks = [2.0, f64::INFINITY, -3.0, 0.5].map(|k| g.constant(k));
        let pre: Vec<Var> = ws.iter().zip(&ks).map(|(&w, &k)| w * k).collect();
        let xs: Vec<Var> = pre.iter().map(|p| p.relu()).collect();
        let mut filler = g.var(1.0);
        for _ in 0..5000 {
            filler *= 1.0;
        }
        let l = layer(&g, &mut rng, 4, 6, true, Activation::Linear);
        let ys = outputs(&l, &xs, by_rows);
        let c = rng.vec(6);
        let (loss, mut out) = weighted_outputs_backward(&l, &xs, &ys, &c);
        out.extend(ws.iter().map(|w| w.grad()));
        loss.backward(); // the scratch path adds the same again
        out.extend(l.parameters().iter().map(|p| p.grad()));
        out.extend(ws.iter().map(|w| w.grad()));
        g.zero_grad();
        (ws[0] * filler).backward();
        out.extend(ws.iter().map(|w| w.grad()));
        bits(&out)
    };
    let rows = far(true);
    assert_eq!(rows, far(false));
    let n = rows.len();
    // the last pass: w₀ gets the filler's 1, nothing else is touched
    assert_eq!(rows[n - 4..], [1f64.to_bits(), 0, 0, 0]);
    // the first pass reached the inputs: w₀'s gradient is k₀ · Σ_j c_j w_j0 ≠ 0, w₂'s is 0
    assert_ne!(f64::from_bits(rows[6 + 6 * 5 + 4]), 0.0);
    assert_eq!(rows[6 + 6 * 5 + 4 + 2], 0);
}

#[test]
fn only_a_layers_inputs_are_marked_not_the_nodes_beside_them() {
    // The rows mark their inputs reached, exactly them: an unused node recorded just below
    // the inputs or between them and the rows, if taken, would pass its 0 on to `w · ∞`
    // and give w a NaN; an input left unmarked would keep its share from the var below it.
    // With the inputs next to the rows (marks on the walk's stack) and 5,000 nodes below
    // them (marks in their words).
    for filler in [0, 5000] {
        for by_rows in [true, false] {
            let g = Graph::new();
            let mut rng = Rng(41);
            let w_below = g.var(1.0);
            let _below = w_below * g.constant(f64::INFINITY);
            let vs: Vec<Var> = [0.5, 1.5, 2.5, 3.5].iter().map(|&v| g.var(v)).collect();
            let xs: Vec<Var> = vs.iter().map(|v| v.relu()).collect();
            let w_above = g.var(1.0);
            let _above = w_above * g.constant(f64::INFINITY);
            let mut f = g.constant(0.0);
            for _ in 0..filler {
                f += 1.0;
            }
            let l = layer(&g, &mut rng, 4, 6, true, Activation::Linear);
            let ys = outputs(&l, &xs, by_rows);
            ys.iter().fold(f, |a, &y| a + y).backward();
            let what = format!("filler {filler}, rows {by_rows}");
            assert_eq!((w_below.grad(), w_above.grad()), (0.0, 0.0), "{what}");
            // each input's gradient is the sum of its weights over the neurons
            for (i, v) in vs.iter().enumerate() {
                let want = l.neurons().iter().map(|n| n.weights()[i].value());
                let want = want.fold(0.0, |a, w| a + w);
                assert!((v.grad() - want).abs() < 1e-12, "{what}: input {i}");
            }
        }
    }
}

#[test]
fn a_weight_found_finite_in_one_layer_does_not_vouch_for_another_layers() {
    // Two layers on inputs of their own, every row reached with gradient 0 (every
    // coefficient is 0): the second layer's weights (higher on the tape: its rows are
    // walked first) are found finite; the first's hold an infinity, so its rows must still
    // give their inputs `0 · ∞` = NaN.
    let run = |by_rows: bool| -> Vec<u64> {
        let g = Graph::new();
        let mut rng = Rng(43);
        let l1 = layer(&g, &mut rng, 3, 4, true, Activation::Linear);
        let l2 = layer(&g, &mut rng, 3, 5, true, Activation::Linear);
        l1.parameters()[4 + 1].set_value(f64::INFINITY);
        let x1: Vec<Var> = rng.vec(3).iter().map(|&x| g.var(x)).collect();
        let x2: Vec<Var> = rng.vec(3).iter().map(|&x| g.var(x)).collect();
        let ys = [outputs(&l1, &x1, by_rows), outputs(&l2, &x2, by_rows)].concat();
        ys.iter()
            .map(|&y| y * 0.0)
            .reduce(|a, b| a + b)
            .unwrap()
            .backward();
        let mut out: Vec<f64> = x1.iter().chain(&x2).map(|x| x.grad()).collect();
        out.extend(
            l1.parameters()
                .iter()
                .chain(&l2.parameters())
                .map(|p| p.grad()),
        );
        bits(&out)
    };
    let rows = run(true);
    assert_eq!(rows, run(false));
    // x1's second input meets the infinite weight; x2's inputs get 0
    assert!(f64::from_bits(rows[1]).is_nan(), "{rows:?}");
    assert_eq!(rows[3..6], [0, 0, 0]);
}

/// One layer (5 inputs, 8 linear neurons) used twice: on `x1` (every output in the loss,
/// some with coefficient 0, so their rows are reached with gradient 0) and on `x2` (only
/// outputs 0 to 2 in the loss), then on a copy of `x1` like `x1`; inputs made as `how`
/// says (constants and mixed inputs take the rows' other path). `bad` sets one value
/// before recording: a weight of a row
/// with gradient 0 (`Some((param, v))` indexes `parameters()`), or an input of `x1`
/// (`param` ≥ 48: input `param − 48`). Returns the bits of every gradient after one pass,
/// then after `set` (a parameter set to a new value, `recompute`, `zero_grad`) and one more.
fn zero_gradient_rows(
    by_rows: bool,
    how: Inputs,
    bad: Option<(usize, f64)>,
    set: Option<(usize, f64)>,
) -> Vec<u64> {
    let g = Graph::new();
    let mut rng = Rng(37);
    let l = layer(&g, &mut rng, 5, 8, true, Activation::Linear);
    let mut v1 = rng.vec(5);
    let v2 = rng.vec(5);
    if let Some((p, v)) = bad {
        if p < 48 {
            l.parameters()[p].set_value(v);
        } else {
            v1[p - 48] = v;
        }
    }
    let x1 = inputs(&g, &v1, how);
    let ys1 = outputs(&l, &x1, by_rows);
    let x2 = inputs(&g, &v2, how);
    let ys2 = outputs(&l, &x2, by_rows);
    let c1 = [0.5, 0.0, -1.5, 0.0, 0.0, 2.0, 0.0, 0.0];
    let mut loss = ys2[0] * 0.25 + ys2[1] * 0.0 + ys2[2] * -3.0;
    for (&y, &c) in ys1.iter().zip(&c1) {
        loss += y * c;
    }
    // the layer on a copy of x1 (walked first): its weights are checked twice in a pass
    let x3 = inputs(&g, &v1, how);
    let ys3 = outputs(&l, &x3, by_rows);
    for (&y, &c) in ys3.iter().zip(&c1).rev() {
        loss += y * c;
    }
    let mut out = Vec::new();
    let collect = |out: &mut Vec<f64>| {
        out.extend(l.parameters().iter().map(|p| p.grad()));
        out.extend(x1.iter().chain(&x2).chain(&x3).map(|x| x.grad()));
    };
    loss.backward();
    collect(&mut out);
    if let Some((p, v)) = set {
        l.parameters()[p].set_value(v);
        g.recompute();
        g.zero_grad();
        loss.backward();
        collect(&mut out);
    }
    bits(&out)
}

#[test]
fn rows_with_zero_gradient_add_nothing_unless_a_weight_or_input_is_not_finite() {
    // Reached rows whose gradient is 0 are skipped when their inputs and weights are
    // finite (every share is ±0); with an infinite or NaN weight or input, their shares of
    // `0 · ∞` must still give NaN, as one node per neuron gives. Parameter 6·3 + 2 is row
    // 3's third weight (its gradient is 0 on x1, and the row is not in x2's loss): the
    // reverse pass walks x2's rows 0 to 2 first and finds their weights finite, which must
    // not vouch for row 3's on x1.
    let w = 6 * 3 + 2;
    let cases = [
        (None, None),
        (Some((w, f64::INFINITY)), None),
        (Some((w, f64::NAN)), None),
        (Some((48 + 2, f64::INFINITY)), None),
        (Some((48 + 4, f64::NAN)), None),
        // the weight turns infinite after a first pass found the layer finite
        (None, Some((w, f64::NEG_INFINITY))),
        // row 1 has gradient 0 in both uses (coefficient 0 in both losses)
        (None, Some((6 + 2, f64::INFINITY))),
    ];
    for how in [Inputs::Vars, Inputs::Constants, Inputs::Mixed] {
        for (bad, set) in cases {
            let rows = zero_gradient_rows(true, how, bad, set);
            let each = zero_gradient_rows(false, how, bad, set);
            assert_eq!(rows, each, "{how:?} {bad:?} {set:?}");
            let nan = rows.iter().any(|&b| f64::from_bits(b).is_nan());
            // constant inputs take no share: an infinite weight gives no NaN
            let weight = bad.is_some_and(|(p, _)| p < 48) || set.is_some();
            let want =
                bad.is_some_and(|(p, _)| p >= 48) || weight && !matches!(how, Inputs::Constants);
            assert_eq!(nan, want, "{how:?} {bad:?} {set:?}");
        }
    }
}

/// A layer of `sizes.1` neurons over `sizes.0` inputs whose parameters are not one block
/// (a stray leaf between neurons): recorded neuron by neuron, not as rows.
fn scattered_layer<'g>(
    g: &'g Graph,
    rng: &mut Rng,
    (nin, nout): (usize, usize),
    act: Activation,
) -> Layer<'g> {
    Layer::new(
        (0..nout)
            .map(|_| {
                let n = Neuron::new(g, &rng.vec(nin), Some(rng.next()), act);
                g.var(0.0);
                n
            })
            .collect(),
    )
}

#[test]
fn an_mlp_hands_runs_of_rows_between_layers_with_the_numbers_of_its_neurons() {
    // every layer rows; a middle layer of mixed activations; a first layer not a block;
    // a last layer not a block: each against the same network neuron by neuron
    for case in 0..4 {
        let outcome = |by_rows: bool| {
            let g = Graph::new();
            let mut rng = Rng(40 + case);
            let mut layers = Vec::new();
            layers.push(match case {
                2 => scattered_layer(&g, &mut rng, (3, 8), Activation::Relu),
                _ => layer(&g, &mut rng, 3, 8, true, Activation::Relu),
            });
            layers.push(match case {
                1 => Layer::new(
                    (0..5)
                        .map(|j| {
                            let act = [Activation::Tanh, Activation::Relu][j % 2];
                            Neuron::new(&g, &rng.vec(8), Some(rng.next()), act)
                        })
                        .collect(),
                ),
                _ => layer(&g, &mut rng, 8, 5, true, Activation::Tanh),
            });
            layers.push(match case {
                3 => scattered_layer(&g, &mut rng, (5, 2), Activation::Linear),
                _ => layer(&g, &mut rng, 5, 2, false, Activation::Linear),
            });
            let mlp = Mlp::from_layers(&g, layers);
            let xs = inputs(&g, &rng.vec(3), Inputs::Vars);
            let ys = if by_rows {
                mlp.forward(&xs)
            } else {
                let mut h = xs.clone();
                for l in mlp.layers() {
                    h = l.neurons().iter().map(|n| n.forward(&h)).collect();
                }
                h
            };
            let loss = ys[0] * 0.75 - ys[1] * 1.25;
            loss.backward();
            let mut out: Vec<f64> = ys.iter().map(|y| y.value()).collect();
            out.extend(mlp.parameters().iter().map(|p| p.grad()));
            out.extend(xs.iter().map(|x| x.grad()));
            // the scattered last layer has biases, the other last layers none
            let last = if case == 3 { 5 * 2 + 2 } else { 5 * 2 };
            assert_eq!(out.len(), 2 + (3 * 8 + 8) + (8 * 5 + 5) + last + 3);
            assert!(out.iter().all(|v| v.is_finite()) && out.iter().any(|&v| v != 0.0));
            bits(&out)
        };
        assert_eq!(outcome(true), outcome(false), "case {case}");
    }
}

#[test]
fn rows_and_activations_recorded_across_the_tapes_growth_equal_their_neurons() {
    // the tape's arrays grow at 1,024 nodes, and by 16 slots at a time past the high-water
    // mark (and a rewind leaves slots behind):
    // a layer recorded a few nodes before each boundary writes its rows and activations
    // into slots made for them all at once
    for before in [1000, 1017, 4080, 4090] {
        let outcome = |by_rows: bool| {
            let g = Graph::new();
            let mut rng = Rng(before as u64);
            let l = layer(&g, &mut rng, 5, 16, true, Activation::Relu);
            let xs = inputs(&g, &rng.vec(5), Inputs::Vars);
            let mut out = Vec::new();
            for round in 0..2 {
                let mark = g.mark();
                while g.len() < before {
                    g.constant(0.0);
                }
                let ys = outputs(&l, &xs, by_rows);
                // sixteen pre-activations and sixteen relus either way
                assert_eq!(g.len(), before + 32, "round {round}");
                let c = rng.vec(16);
                let (_, o) = weighted_outputs_backward(&l, &xs, &ys, &c);
                out.extend(bits(&o));
                g.zero_grad();
                g.rewind(mark);
            }
            out
        };
        assert_eq!(outcome(true), outcome(false), "{before} nodes before");
    }
}

#[test]
fn recompute_over_rows_of_every_count_equals_a_fresh_recording() {
    // `recompute` takes a layer's rows eight or four at a time, then one at a time: every
    // count from 1 to 13 (and linear outputs, so that no relu hides a wrong value), with
    // and without biases, over a run of tracked inputs and over one of constants
    for nout in 1..=13 {
        for bias in [true, false] {
            for how in [Inputs::Vars, Inputs::Constants] {
                let g = Graph::new();
                let mut rng = Rng(nout as u64 * 4 + u64::from(bias) * 2);
                let l = layer(&g, &mut rng, 3, nout, bias, Activation::Linear);
                let xs = inputs(&g, &rng.vec(3), how);
                let ys = l.forward(&xs);
                for (k, p) in l.parameters().iter().enumerate() {
                    p.set_value(p.value() * 1.5 - 0.25 + k as f64 * 0.125);
                }
                g.recompute();
                let replayed: Vec<f64> = ys.iter().map(|y| y.value()).collect();
                let by_neuron: Vec<f64> =
                    l.neurons().iter().map(|n| n.forward(&xs).value()).collect();
                let at = format!("{nout} rows, bias {bias}, {how:?}");
                assert_eq!(bits(&replayed), bits(&by_neuron), "{at}");
                assert!(replayed.iter().all(|&y| y != 0.0), "{at}");
            }
        }
    }
}
