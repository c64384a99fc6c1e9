//! # Seed 001: backpropagation written out by hand — and the engine doing the same
//!
//! The second seed builds a 2-2-2 sigmoid network without biases (`g = W1·x`, the rows of
//! `W1` are the neurons' weights), prints its forward values, and then trains it for 100
//! epochs with every derivative written out by hand: `dC/dt`, `dt/dz = t(1 − t)`,
//! `dz/dW2 = h`, `dC/dh`, `dh/dg = h(1 − h)`, `dg/dW1 = x`.
//!
//! Here the engine computes the forward values and the gradients, and the seed's hand
//! formulas are kept beside it as plain `f64` code: at every epoch we compare the two and
//! print the largest difference. Run: `cargo run --release --example seed001_hand_backprop`.

use scalargrad::{Graph, Var};

#[path = "../tests/common/mod.rs"]
pub mod common;
use common::{numpy_array, py_float};

/// The input `x = [2, 4]`.
pub const X: [f64; 2] = [2.0, 4.0];
/// The ground truth `y_true = [0.8, 0.4]`.
pub const Y: [f64; 2] = [0.8, 0.4];
/// First layer: row `i` holds neuron `i`'s weights (`w1 = [w11, w21]`, `w2 = [w12, w22]`).
pub const W1: [[f64; 2]; 2] = [[0.7, 0.3], [0.2, 0.4]];
/// Second layer (`w3 = [w31, w41]`, `w4 = [w32, w42]`).
pub const W2: [[f64; 2]; 2] = [[0.1, 0.5], [0.8, 0.4]];
/// The seed's `learning_rate=0.3`.
pub const LR: f64 = 0.3;
/// The seed's `epoch=100`.
pub const EPOCHS: usize = 100;

/// The network's nodes, layer by layer.
#[derive(Clone, Copy, Debug)]
pub struct Forward<'g> {
    /// `g = W1·x`.
    pub g: [Var<'g>; 2],
    /// `h = σ(g)`.
    pub h: [Var<'g>; 2],
    /// `z = W2·h`.
    pub z: [Var<'g>; 2],
    /// `t = σ(z)`, the prediction.
    pub t: [Var<'g>; 2],
    /// `C = ½(t₁ − y₁)² + ½(t₂ − y₂)²`, summed as the seed's `np.sum(cost)`.
    pub cost: Var<'g>,
}

/// The forward pass on graph nodes; `w` holds the 8 weights in the order
/// `W1[0][0], W1[0][1], W1[1][0], W1[1][1], W2[0][0], W2[0][1], W2[1][0], W2[1][1]`.
/// Each neuron is `np.dot(row, input)`: `row₀·in₀ + row₁·in₁`.
pub fn forward<'g>(graph: &'g Graph, w: &[Var<'g>]) -> Forward<'g> {
    let x = [graph.constant(X[0]), graph.constant(X[1])];
    let g = [graph.dot(&w[0..2], &x), graph.dot(&w[2..4], &x)];
    let h = [g[0].sigmoid(), g[1].sigmoid()];
    let z = [graph.dot(&w[4..6], &h), graph.dot(&w[6..8], &h)];
    let t = [z[0].sigmoid(), z[1].sigmoid()];
    // GetCost: 1/2*(y_predict - y_true)**2, element by element, then np.sum.
    let cost = (t[0] - Y[0]).pow(2.0) * 0.5 + (t[1] - Y[1]).pow(2.0) * 0.5;
    Forward { g, h, z, t, cost }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The seed's `GetGradient` body, transcribed line by line as plain `f64` code: the 8
/// derivatives `dC/dw11, dC/dw21, dC/dw12, dC/dw22, dC/dw31, dC/dw41, dC/dw32, dC/dw42`, in
/// the same order as the weights in [`forward`].
pub fn hand_gradients(w1: [[f64; 2]; 2], w2: [[f64; 2]; 2]) -> [f64; 8] {
    let x = X;
    let g = [
        w1[0][0] * x[0] + w1[0][1] * x[1],
        w1[1][0] * x[0] + w1[1][1] * x[1],
    ];
    let h = [sigmoid(g[0]), sigmoid(g[1])];
    let z = [
        w2[0][0] * h[0] + w2[0][1] * h[1],
        w2[1][0] * h[0] + w2[1][1] * h[1],
    ];
    let t = [sigmoid(z[0]), sigmoid(z[1])];

    let dcdt = [t[0] - Y[0], t[1] - Y[1]];
    let dtdz = [
        sigmoid(z[0]) * (1.0 - sigmoid(z[0])),
        sigmoid(z[1]) * (1.0 - sigmoid(z[1])),
    ];
    let (dz1dh1, dz1dh2, dz2dh1, dz2dh2) = (w2[0][0], w2[0][1], w2[1][0], w2[1][1]);
    let (dz1dw31, dz1dw41, dz2dw32, dz2dw42) = (h[0], h[1], h[0], h[1]);

    let dcdw31 = dcdt[0] * dtdz[0] * dz1dw31;
    let dcdw41 = dcdt[0] * dtdz[0] * dz1dw41;
    let dcdw32 = dcdt[1] * dtdz[1] * dz2dw32;
    let dcdw42 = dcdt[1] * dtdz[1] * dz2dw42;

    let dcdh1 = dcdt[0] * dtdz[0] * dz1dh1 + dcdt[1] * dtdz[1] * dz2dh1;
    let dcdh2 = dcdt[0] * dtdz[0] * dz1dh2 + dcdt[1] * dtdz[1] * dz2dh2;

    let dhdg = [
        sigmoid(g[0]) * (1.0 - sigmoid(g[0])),
        sigmoid(g[1]) * (1.0 - sigmoid(g[1])),
    ];
    let (dg1dw11, dg1dw21, dg2dw12, dg2dw22) = (x[0], x[1], x[0], x[1]);

    let dcdw11 = dcdh1 * dhdg[0] * dg1dw11;
    let dcdw21 = dcdh1 * dhdg[0] * dg1dw21;
    let dcdw12 = dcdh2 * dhdg[1] * dg2dw12;
    let dcdw22 = dcdh2 * dhdg[1] * dg2dw22;

    [
        dcdw11, dcdw21, dcdw12, dcdw22, dcdw31, dcdw41, dcdw32, dcdw42,
    ]
}

/// One epoch of training, as the seed prints it (prediction and cost *before* the update).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Epoch {
    /// The prediction `t` at the start of the epoch.
    pub predict: [f64; 2],
    /// `np.sum(cost)` at the start of the epoch.
    pub cost: f64,
    /// The largest `|autograd − hand|` over the 8 gradients of this epoch.
    pub max_gradient_difference: f64,
}

impl Epoch {
    /// The seed's line: `Epoch: [0/100], predict: [0.63029549 0.74969909], Cost: 0.0755…`.
    pub fn seed_format(&self, epoch: usize) -> String {
        format!(
            "Epoch: [{epoch}/{EPOCHS}], predict: {}, Cost: {}",
            numpy_array(&self.predict),
            py_float(self.cost)
        )
    }
}

/// Trains with the engine's gradients, checking them against the hand formulas every epoch.
/// Returns the epochs and the final weights.
pub fn train() -> (Vec<Epoch>, [f64; 8]) {
    let mut w = [
        W1[0][0], W1[0][1], W1[1][0], W1[1][1], W2[0][0], W2[0][1], W2[1][0], W2[1][1],
    ];
    let graph = Graph::new();
    let mut epochs = Vec::with_capacity(EPOCHS);
    for _ in 0..EPOCHS {
        graph.clear();
        let leaves: Vec<Var<'_>> = w.iter().map(|&v| graph.var(v)).collect();
        let f = forward(&graph, &leaves);
        f.cost.backward();
        let auto: Vec<f64> = leaves.iter().map(|l| l.grad()).collect();
        let hand = hand_gradients([[w[0], w[1]], [w[2], w[3]]], [[w[4], w[5]], [w[6], w[7]]]);
        let max_gradient_difference = auto
            .iter()
            .zip(&hand)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        epochs.push(Epoch {
            predict: [f.t[0].value(), f.t[1].value()],
            cost: f.cost.value(),
            max_gradient_difference,
        });
        // W -= learning_rate * dC/dW, as the seed's eight update lines.
        for (wi, d) in w.iter_mut().zip(&auto) {
            *wi -= LR * d;
        }
    }
    (epochs, w)
}

fn main() {
    // Forward pass: the four arrays the seed prints.
    let graph = Graph::new();
    let w: Vec<Var<'_>> = [W1[0], W1[1], W2[0], W2[1]]
        .concat()
        .iter()
        .map(|&v| graph.var(v))
        .collect();
    let f = forward(&graph, &w);
    let values = |v: [Var<'_>; 2]| numpy_array(&[v[0].value(), v[1].value()]);
    println!("g = {}", values(f.g));
    println!("h = {}", values(f.h));
    println!("z = {}", values(f.z));
    println!("t = {}", values(f.t));

    // Training: the seed's log, plus the check of its hand-written backward pass.
    println!();
    let (epochs, w) = train();
    for (i, e) in epochs.iter().enumerate() {
        println!(
            "{}   max |autograd - hand| = {:.1e}",
            e.seed_format(i),
            e.max_gradient_difference
        );
    }
    let worst = epochs
        .iter()
        .map(|e| e.max_gradient_difference)
        .fold(0.0, f64::max);
    println!("\nlargest gradient difference over {EPOCHS} epochs: {worst:e}");
    // Differences at the level of f64 rounding (1e-17 on gradients of order 1e-2) mean the
    // hand-written chain rule is right; a wrong factor or index would show up at order 1e-3.
    if worst <= 1e-12 {
        println!(
            "=> the seed's hand formulas are right: they differ from the engine only in rounding"
        );
    } else {
        println!("=> the seed's hand formulas disagree with the engine");
    }
    println!(
        "final W1 = {}, W2 = {}",
        numpy_array(&w[0..4]),
        numpy_array(&w[4..8])
    );
}
