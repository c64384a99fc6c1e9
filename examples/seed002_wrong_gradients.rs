//! # Seed 002: hand-derived gradients, checked by the engine
//!
//! The third seed derives backpropagation by hand for the network of seed 000 without
//! biases — one Python function per weight — and trains with them. Its training log looks
//! fine: the loss falls from 0.199 to 2e-7. Yet four of its eight formulas are wrong. A
//! falling loss does not prove a gradient right; comparing it with the engine's does.
//!
//! This example transcribes the seed's eight functions faithfully (bugs included), replays
//! its printed training log to show the transcription is exact, then asks the engine for the
//! true gradient at the same point and reports, weight by weight, which formulas disagree,
//! by how much, and which minimal edit makes each agree.
//! Run: `cargo run --release --example seed002_wrong_gradients`.
//!
//! Network (numpy row-vector notation): `a1 = x·w1`, `z1 = σ(a1)`, `a2 = z1·w2`, `y = σ(a2)`,
//! loss `MSE(y, t) = mean((y − t)²) = ½Σ(y − t)²` (2 outputs), learning rate 0.3, 1500 steps.

// The seed's functions are transcribed verbatim, `(t[0] - y[0]) * -1` and `z1[0] + 0` included.
#![allow(clippy::neg_multiply, clippy::identity_op)]

use scalargrad::{Graph, Var};

#[path = "../tests/common/mod.rs"]
pub mod common;
use common::{numpy_array, py_float};

/// The input row vector (seed 000's).
pub const X: [f64; 2] = [0.5, 0.8];
/// The target.
pub const T: [f64; 2] = [0.2, 0.1];
/// Initial first-layer weights `w1[i][j]`: input `i` → hidden neuron `j`.
pub const W1: [[f64; 2]; 2] = [[0.1, 0.2], [0.3, 0.1]];
/// Initial second-layer weights `w2[j][k]`: hidden `j` → output `k`.
pub const W2: [[f64; 2]; 2] = [[0.4, 0.5], [0.1, 0.3]];
/// The learning rate that reproduces the seed's log (the post does not show it; 0.3 is the
/// value that replays every printed digit).
pub const LR: f64 = 0.3;
/// Training steps.
pub const STEPS: usize = 1500;
/// The seed prints every this many steps.
pub const EVERY: usize = 100;

/// The 8 weights in the order used throughout: `w1` row-major, then `w2` row-major.
pub const NAMES: [&str; 8] = [
    "w1[0][0]", "w1[0][1]", "w1[1][0]", "w1[1][1]", "w2[0][0]", "w2[0][1]", "w2[1][0]", "w2[1][1]",
];

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Everything the seed's gradient functions read (its globals `x`, `t`, `w1`, `w2`, `z1` and
/// the argument `y`), from one forward pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Input.
    pub x: [f64; 2],
    /// Target.
    pub t: [f64; 2],
    /// First-layer weights.
    pub w1: [[f64; 2]; 2],
    /// Second-layer weights.
    pub w2: [[f64; 2]; 2],
    /// Hidden activations `σ(x·w1)`.
    pub z1: [f64; 2],
    /// Output `σ(z1·w2)`.
    pub y: [f64; 2],
}

impl Point {
    /// The seed's forward pass: `np.dot(x, w1)` is `x₀·w1[0][j] + x₁·w1[1][j]`.
    pub fn new(x: [f64; 2], t: [f64; 2], w1: [[f64; 2]; 2], w2: [[f64; 2]; 2]) -> Point {
        let a1 = [
            x[0] * w1[0][0] + x[1] * w1[1][0],
            x[0] * w1[0][1] + x[1] * w1[1][1],
        ];
        let z1 = [sigmoid(a1[0]), sigmoid(a1[1])];
        let a2 = [
            z1[0] * w2[0][0] + z1[1] * w2[1][0],
            z1[0] * w2[0][1] + z1[1] * w2[1][1],
        ];
        let y = [sigmoid(a2[0]), sigmoid(a2[1])];
        Point {
            x,
            t,
            w1,
            w2,
            z1,
            y,
        }
    }

    /// `MSE(y, t)`: the two squares summed, then divided by 2.
    pub fn loss(&self) -> f64 {
        ((self.y[0] - self.t[0]).powi(2) + (self.y[1] - self.t[1]).powi(2)) / 2.0
    }
}

// ---- The seed's eight functions, transcribed line by line. Each returns what the seed
// ---- calls `weight` (the gradient); the seed then returns `w - (lr * weight)`.

/// Seed's `weight2_00`.
pub fn weight2_00(p: &Point) -> f64 {
    let (y, t, z1) = (p.y, p.t, p.z1);
    let diff_loss = (t[0] - y[0]) * -1.0;
    let diff_sigmoid = y[0] * (1.0 - y[0]);
    let diff_weight = z1[0] + 0.0;
    diff_loss * diff_sigmoid * diff_weight
}

/// Seed's `weight2_01`.
pub fn weight2_01(p: &Point) -> f64 {
    let (y, t, z1) = (p.y, p.t, p.z1);
    let diff_loss = (t[1] - y[1]) * -1.0;
    let diff_sigmoid = y[1] * (1.0 - y[1]);
    let diff_weight = z1[0] + 0.0;
    diff_loss * diff_sigmoid * diff_weight
}

/// Seed's `weight1_00`.
pub fn weight1_00(p: &Point) -> f64 {
    let (y, t, z1, x, w2) = (p.y, p.t, p.z1, p.x, p.w2);
    // loss1
    let diff_loss1 = (t[0] - y[0]) * -1.0;
    let diff_sigmoid1 = y[0] * (1.0 - y[0]);
    let diff_weight1 = w2[0][0];
    let loss1 = diff_loss1 * diff_sigmoid1 * diff_weight1;
    // loss2
    let diff_loss2 = (t[1] - y[1]) * -1.0;
    let diff_sigmoid2 = y[1] * (1.0 - y[1]);
    let diff_weight2 = w2[0][1];
    let loss2 = diff_loss2 + diff_sigmoid2 + diff_weight2;
    // weight
    let diff_sigmoid = z1[0] * (1.0 - z1[0]);
    let diff_weight = x[0];
    (loss1 + loss2) * diff_sigmoid * diff_weight
}

/// Seed's `weight1_10`.
pub fn weight1_10(p: &Point) -> f64 {
    let (y, t, z1, x, w2) = (p.y, p.t, p.z1, p.x, p.w2);
    // loss1
    let diff_loss1 = (t[0] - y[0]) * -1.0;
    let diff_sigmoid1 = y[0] * (1.0 - y[0]);
    let diff_weight1 = w2[0][0];
    let loss1 = diff_loss1 * diff_sigmoid1 * diff_weight1;
    // loss2
    let diff_loss2 = (t[1] - y[1]) * -1.0;
    let diff_sigmoid2 = y[1] * (1.0 - y[1]);
    let diff_weight2 = w2[0][1];
    let loss2 = diff_loss2 + diff_sigmoid2 + diff_weight2;
    // weight
    let diff_sigmoid = z1[0] * (1.0 - z1[0]);
    let diff_weight = x[1];
    (loss1 + loss2) * diff_sigmoid * diff_weight
}

/// Seed's `weight2_11`.
pub fn weight2_11(p: &Point) -> f64 {
    let (y, t, z1) = (p.y, p.t, p.z1);
    let diff_loss = (t[1] - y[1]) * -1.0;
    let diff_sigmoid = y[1] * (1.0 - y[1]);
    let diff_weight = z1[1] + 0.0;
    diff_loss * diff_sigmoid * diff_weight
}

/// Seed's `weight2_10`.
pub fn weight2_10(p: &Point) -> f64 {
    let (y, t, z1) = (p.y, p.t, p.z1);
    let diff_loss = (t[0] - y[0]) * -1.0;
    let diff_sigmoid = y[0] * (1.0 - y[0]);
    let diff_weight = z1[1] + 0.0;
    diff_loss * diff_sigmoid * diff_weight
}

/// Seed's `weight1_11`.
pub fn weight1_11(p: &Point) -> f64 {
    let (y, t, z1, x, w2) = (p.y, p.t, p.z1, p.x, p.w2);
    // loss1
    let diff_loss1 = (t[1] - y[1]) * -1.0;
    let diff_sigmoid1 = y[1] * (1.0 - y[1]);
    let diff_weight1 = w2[1][1];
    let loss1 = diff_loss1 * diff_sigmoid1 * diff_weight1;
    // loss2
    let diff_loss2 = (t[0] - y[0]) * -1.0;
    let diff_sigmoid2 = y[0] * (1.0 - y[0]);
    let diff_weight2 = w2[1][0];
    let loss2 = diff_loss2 + diff_sigmoid2 + diff_weight2;
    // weight
    let diff_sigmoid = z1[1] * (1.0 - z1[1]);
    let diff_weight = x[1];
    (loss1 + loss2) * diff_sigmoid * diff_weight
}

/// Seed's `weight1_01`.
pub fn weight1_01(p: &Point) -> f64 {
    let (y, t, z1, x, w2) = (p.y, p.t, p.z1, p.x, p.w2);
    // loss1
    let diff_loss1 = (t[1] - y[1]) * -1.0;
    let diff_sigmoid1 = y[1] * (1.0 - y[1]);
    let diff_weight1 = w2[1][1];
    let loss1 = diff_loss1 * diff_sigmoid1 * diff_weight1;
    // loss2
    let diff_loss2 = (t[0] - y[0]) * -1.0;
    let diff_sigmoid2 = y[0] * (1.0 - y[0]);
    let diff_weight2 = w2[1][0];
    let loss2 = diff_loss2 + diff_sigmoid2 + diff_weight2;
    // weight
    let diff_sigmoid = z1[0] * (1.0 - z1[0]);
    let diff_weight = x[0];
    (loss1 + loss2) * diff_sigmoid * diff_weight
}

/// The seed's eight hand-derived gradients, in [`NAMES`] order.
pub fn hand_gradients(p: &Point) -> [f64; 8] {
    [
        weight1_00(p),
        weight1_01(p),
        weight1_10(p),
        weight1_11(p),
        weight2_00(p),
        weight2_01(p),
        weight2_10(p),
        weight2_11(p),
    ]
}

/// The same network and loss on the engine; gradients of the 8 weights (in [`NAMES`] order)
/// by one reverse pass. `x` and `t` are constants.
pub fn autograd_gradients(p: &Point) -> [f64; 8] {
    let g = Graph::new();
    let w: Vec<Var<'_>> = [p.w1[0], p.w1[1], p.w2[0], p.w2[1]]
        .concat()
        .iter()
        .map(|&v| g.var(v))
        .collect();
    let x = [g.constant(p.x[0]), g.constant(p.x[1])];
    // a1[j] = x₀·w1[0][j] + x₁·w1[1][j]: column j of w1 is (w[j], w[2 + j]).
    let a1 = |j: usize| g.dot(&x, &[w[j], w[2 + j]]);
    let z1 = [a1(0).sigmoid(), a1(1).sigmoid()];
    let a2 = |k: usize| g.dot(&z1, &[w[4 + k], w[6 + k]]);
    let y = [a2(0).sigmoid(), a2(1).sigmoid()];
    let loss = ((y[0] - p.t[0]).pow(2.0) + (y[1] - p.t[1]).pow(2.0)) / 2.0;
    loss.backward();
    std::array::from_fn(|i| w[i].grad())
}

/// How a first-layer formula of the seed is put together, so its bugs can be switched off
/// one at a time: the gradient for `w1[i][j]` is
/// `(loss1 + loss2) · z1[s](1 − z1[s]) · x[i]`, with `loss1 = δⱼ·w2[j][j]`, and
/// `loss2 = δₖ·w2[j][k]` for the other output `k` (δ = (y − t)·y(1 − y)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FirstLayerFormula {
    /// `true`: `loss2 = diff_loss2 + diff_sigmoid2 + diff_weight2` (the seed's bug);
    /// `false`: the product.
    pub adds_loss2: bool,
    /// The hidden unit `s` whose sigmoid derivative is used (the seed uses 0 for `w1[0][1]`,
    /// whose hidden unit is 1).
    pub sigmoid_of: usize,
}

impl FirstLayerFormula {
    /// The seed's formula for `w1[i][j]`, as written.
    pub fn as_written(i: usize, j: usize) -> FirstLayerFormula {
        let sigmoid_of = if (i, j) == (0, 1) { 0 } else { j };
        FirstLayerFormula {
            adds_loss2: true,
            sigmoid_of,
        }
    }

    /// Evaluates the formula for `w1[i][j]` at `p`, in the seed's arithmetic order.
    pub fn eval(&self, p: &Point, i: usize, j: usize) -> f64 {
        let (y, t, z1, x, w2) = (p.y, p.t, p.z1, p.x, p.w2);
        let k = 1 - j;
        let loss1 = ((t[j] - y[j]) * -1.0) * (y[j] * (1.0 - y[j])) * w2[j][j];
        let (dl2, ds2, dw2) = ((t[k] - y[k]) * -1.0, y[k] * (1.0 - y[k]), w2[j][k]);
        let loss2 = if self.adds_loss2 {
            dl2 + ds2 + dw2
        } else {
            dl2 * ds2 * dw2
        };
        let s = self.sigmoid_of;
        (loss1 + loss2) * (z1[s] * (1.0 - z1[s])) * x[i]
    }
}

/// One printed line of a training log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogLine {
    /// Step.
    pub step: usize,
    /// The prediction `y` of that step's forward pass (before the update, as the seed).
    pub prediction: [f64; 2],
    /// `MSE(y, t)`.
    pub loss: f64,
}

impl LogLine {
    /// The seed's line: `[0] 예측: [0.57035173 0.61051125], 손실: 0.19889106944011697`.
    pub fn seed_format(&self) -> String {
        format!(
            "[{}] 예측: {}, 손실: {}",
            self.step,
            numpy_array(&self.prediction),
            py_float(self.loss)
        )
    }
}

/// The seed's training loop with a given gradient rule (`hand_gradients` replays the seed;
/// `autograd_gradients` trains with true gradients). Each step: forward pass, then
/// `w -= lr·gradient` for `w1[0][0], w1[0][1], w1[1][0], w1[1][1], w2[0][0], …` in turn (the
/// seed's order; every gradient is read before any weight changes, as in the seed), then
/// the log line.
pub fn train(gradients: fn(&Point) -> [f64; 8]) -> (Vec<LogLine>, Point) {
    let (mut w1, mut w2) = (W1, W2);
    let mut log = Vec::new();
    for step in 0..STEPS {
        let p = Point::new(X, T, w1, w2);
        let d = gradients(&p);
        for (n, d) in d.iter().enumerate() {
            let w = if n < 4 {
                &mut w1[n / 2][n % 2]
            } else {
                &mut w2[(n - 4) / 2][n % 2]
            };
            *w -= LR * d; // update_weight = w - (lr * weight)
        }
        if step % EVERY == 0 {
            log.push(LogLine {
                step,
                prediction: p.y,
                loss: p.loss(),
            });
        }
    }
    (log, Point::new(X, T, w1, w2))
}

fn main() {
    println!("(log lines quote the seed's Korean format: 예측 = prediction, 손실 = loss)");
    println!("== the seed's training, replayed with its own (partly wrong) gradients ==");
    let (log, _) = train(hand_gradients);
    for line in &log {
        println!("{}", line.seed_format());
    }

    println!("\n== the engine checks each hand-derived formula at the initial weights ==");
    let p = Point::new(X, T, W1, W2);
    let (hand, auto) = (hand_gradients(&p), autograd_gradients(&p));
    println!(
        "{:<9} {:>14} {:>14} {:>12}  verdict",
        "weight", "hand-derived", "autograd", "hand/auto"
    );
    for n in 0..8 {
        let verdict = if (hand[n] - auto[n]).abs() <= 1e-12 {
            "correct".to_string()
        } else {
            format!("WRONG by {:+.3e}", hand[n] - auto[n])
        };
        println!(
            "{:<9} {:>14.6e} {:>14.6e} {:>12.2}  {verdict}",
            NAMES[n],
            hand[n],
            auto[n],
            hand[n] / auto[n]
        );
    }

    println!("\n== along the seed's own training path: largest |hand - autograd| per weight ==");
    let (mut w1, mut w2) = (W1, W2);
    let mut worst = [0.0f64; 8];
    for _ in 0..STEPS {
        let p = Point::new(X, T, w1, w2);
        let (h, a) = (hand_gradients(&p), autograd_gradients(&p));
        for n in 0..8 {
            worst[n] = worst[n].max((h[n] - a[n]).abs());
            let w = if n < 4 {
                &mut w1[n / 2][n % 2]
            } else {
                &mut w2[(n - 4) / 2][n % 2]
            };
            *w -= LR * h[n];
        }
    }
    for n in 0..8 {
        println!("{:<9} {:.3e}", NAMES[n], worst[n]);
    }

    println!("\n== the diagnosis: which edit makes each first-layer formula agree ==");
    for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let written = FirstLayerFormula::as_written(i, j);
        let product = FirstLayerFormula {
            adds_loss2: false,
            ..written
        };
        let both = FirstLayerFormula {
            adds_loss2: false,
            sigmoid_of: j,
        };
        let a = auto[2 * i + j];
        println!(
            "w1[{i}][{j}]: as written off by {:+.3e}; `+` -> `*` in loss2: off by {:+.3e}; and sigmoid'(z1[{j}]): off by {:+.3e}",
            written.eval(&p, i, j) - a,
            product.eval(&p, i, j) - a,
            both.eval(&p, i, j) - a,
        );
    }
    let wrong: Vec<&str> = (0..8)
        .filter(|&n| (hand[n] - auto[n]).abs() > 1e-12)
        .map(|n| NAMES[n])
        .collect();
    println!("\nwrong formulas: {wrong:?}");
    // What the table above shows, in words:
    println!("Bugs: all four first-layer formulas compute loss2 as diff_loss2 + diff_sigmoid2 + diff_weight2");
    println!("(a sum where the chain rule needs a product); weight1_01 also takes the sigmoid derivative of");
    println!("z1[0] where w1[0][1] feeds hidden unit 1. The four second-layer formulas are right.");

    println!("\n== for comparison: the same loop with the engine's gradients ==");
    let (log, _) = train(autograd_gradients);
    for line in &log {
        println!("{}", line.seed_format());
    }
}
