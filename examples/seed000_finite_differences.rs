//! # Seed 000: forward propagation, gradients by finite differences — and by autograd
//!
//! The first seed trains a tiny 2-2-2 network with gradients from **central finite
//! differences** (`(f(x+h) − f(x−h)) / 2h`, h = 1e-4): every one of the 12 parameters is
//! nudged up and down, and the whole network is evaluated twice per parameter. Here we train
//! the same network twice:
//!
//! 1. with the engine's reverse pass (one forward + one backward pass per step), and
//! 2. with `scalargrad::check::numerical_gradient` (24 forward passes per step), as the seed,
//!
//! print the seed's log (prediction and loss every 150 steps, *after* that step's update)
//! from each, and compare cost. Run: `cargo run --release --example seed000_finite_differences`.
//!
//! The network, in the seed's numpy notation (`x` is a row vector):
//! `a1 = x·W1 + b1`, `z1 = σ(a1)`, `a2 = z1·W2 + b2`, `y = σ(a2)`, loss = mean((y − t)²).

use std::cell::Cell;
use std::time::{Duration, Instant};

use scalargrad::{check, Graph, Var};

#[path = "../tests/common/mod.rs"]
pub mod common;
use common::{numpy_array, numpy_matrix, py_float};

/// The input row vector.
pub const X: [f64; 2] = [0.5, 0.8];
/// The target.
pub const T: [f64; 2] = [0.2, 0.1];
/// Learning rate, steps, and how often the seed prints.
pub const LR: f64 = 0.1;
/// Training steps.
pub const STEPS: usize = 3000;
/// The seed prints every this many steps.
pub const EVERY: usize = 150;
/// The seed's finite-difference step.
pub const H: f64 = 1e-4;

/// The 12 parameters, packed in the order the seed computes their gradients:
/// `W1` row-major (indices 0..4), `W2` row-major (4..8), `b1` (8..10), `b2` (10..12).
pub const INIT: [f64; 12] = [
    0.1, 0.2, 0.3, 0.1, // weight1 = [[0.1, 0.2], [0.3, 0.1]]
    0.4, 0.5, 0.1, 0.3, // weight2 = [[0.4, 0.5], [0.1, 0.3]]
    0.1, 0.2, // bias1
    0.3, 0.4, // bias2
];

/// The forward pass on graph nodes. The additions happen in numpy's order —
/// `np.dot(x, W)` first (`x₀W₀ⱼ + x₁W₁ⱼ`), then `+ b` — so the values round exactly as the
/// seed's did.
pub fn predict<'g>(g: &'g Graph, p: &[Var<'g>]) -> [Var<'g>; 2] {
    let x = [g.constant(X[0]), g.constant(X[1])];
    // Column j of W1 meets x: a1[j] = x₀·W1[0][j] + x₁·W1[1][j] + b1[j].
    let a1 = |j: usize| g.dot(&[p[j], p[2 + j]], &x) + p[8 + j];
    let z1 = [a1(0).sigmoid(), a1(1).sigmoid()];
    let a2 = |k: usize| g.dot(&[p[4 + k], p[6 + k]], &z1) + p[10 + k];
    [a2(0).sigmoid(), a2(1).sigmoid()]
}

/// The seed's `MSE(y, t) = ((y − t)²).mean()`: sum of the two squares, then divided by 2.
pub fn loss<'g>(g: &'g Graph, p: &[Var<'g>]) -> Var<'g> {
    let y = predict(g, p);
    ((y[0] - T[0]).pow(2.0) + (y[1] - T[1]).pow(2.0)) / 2.0
}

/// The prediction and loss at parameters `p`, as plain numbers.
pub fn evaluate(p: &[f64]) -> ([f64; 2], f64) {
    let g = Graph::new();
    let leaves: Vec<Var<'_>> = p.iter().map(|&v| g.constant(v)).collect();
    let y = predict(&g, &leaves);
    let (y0, y1) = (y[0].value(), y[1].value());
    let l = ((y0 - T[0]).powf(2.0) + (y1 - T[1]).powf(2.0)) / 2.0;
    ([y0, y1], l)
}

/// One printed line of the training log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogLine {
    /// The step whose update was just applied.
    pub step: usize,
    /// The prediction after that update.
    pub prediction: [f64; 2],
    /// The loss after that update.
    pub loss: f64,
}

impl LogLine {
    /// The line as the seed prints it (`[0] 예측: [0.64106615 0.70142718], 손실: 0.278…`).
    pub fn seed_format(&self) -> String {
        format!(
            "[{}] 예측: {}, 손실: {}",
            self.step,
            numpy_array(&self.prediction),
            py_float(self.loss)
        )
    }
}

/// Everything a training run produced.
#[derive(Clone, Debug)]
pub struct Run {
    /// Every 150th step's line.
    pub log: Vec<LogLine>,
    /// The gradients of steps 0 and 1 (the seed prints `grad_list[0]`, `grad_list[1]`).
    pub first_grads: Vec<Vec<f64>>,
    /// The final parameters.
    pub params: Vec<f64>,
    /// Forward evaluations of the network spent on gradients.
    pub gradient_evaluations: usize,
    /// Wall time spent computing gradients.
    pub gradient_time: Duration,
}

/// Plain gradient descent, as the seed's loop: gradient, update every parameter, then print
/// prediction and loss every 150 steps. `gradient` returns the 12 partial derivatives and
/// how many network evaluations it spent.
pub fn train(mut gradient: impl FnMut(&[f64]) -> (Vec<f64>, usize)) -> Run {
    let mut p = INIT.to_vec();
    let mut run = Run {
        log: Vec::new(),
        first_grads: Vec::new(),
        params: Vec::new(),
        gradient_evaluations: 0,
        gradient_time: Duration::ZERO,
    };
    for step in 0..STEPS {
        let start = Instant::now();
        let (grad, evals) = gradient(&p);
        run.gradient_time += start.elapsed();
        run.gradient_evaluations += evals;
        // weight -= 0.1 * grad, parameter by parameter (numpy does the same element-wise).
        for (w, d) in p.iter_mut().zip(&grad) {
            *w -= LR * d;
        }
        if step < 2 {
            run.first_grads.push(grad);
        }
        if step % EVERY == 0 {
            let (prediction, loss) = evaluate(&p);
            run.log.push(LogLine {
                step,
                prediction,
                loss,
            });
        }
    }
    run.params = p;
    run
}

/// Training with the engine: one forward pass builds the graph, one reverse pass gives all
/// 12 derivatives.
pub fn train_autograd() -> Run {
    train(|p| (check::gradient(loss, p).1, 1))
}

/// Training with central differences, as the seed, through
/// `scalargrad::check::numerical_gradient` with step 1e-4.
///
/// That function moves input `i` by `h = step·max(1, |xᵢ|)`; the seed moves every parameter
/// by exactly `h = 1e-4` (and `b2[1]` passes −1 during training). So we differentiate in a
/// displacement `δ` at `δ = 0`: the graph function computes the loss at `p + δ`, and
/// `max(1, |0|) = 1` makes the step the seed's absolute 1e-4, with `pᵢ ± h` rounded exactly
/// as numpy's `x[idx] = tmp_val ± h`. Costs 2 evaluations per parameter.
pub fn train_numerical() -> Run {
    train(|p| {
        let evals = Cell::new(0);
        let grad = check::numerical_gradient(
            |g, d| {
                evals.set(evals.get() + 1);
                let moved: Vec<Var<'_>> = d.iter().zip(p).map(|(&d, &v)| d + v).collect();
                loss(g, &moved)
            },
            &[0.0; 12],
            H,
        );
        (grad, evals.get())
    })
}

/// The four gradient arrays of the seed's `grad_list[i]`, as numpy prints them.
pub fn grads_format(grad: &[f64]) -> [String; 4] {
    [
        numpy_matrix(&[grad[0..2].to_vec(), grad[2..4].to_vec()]),
        numpy_matrix(&[grad[4..6].to_vec(), grad[6..8].to_vec()]),
        numpy_array(&grad[8..10]),
        numpy_array(&grad[10..12]),
    ]
}

fn main() {
    println!("(log lines quote the seed's Korean format: 예측 = prediction, 손실 = loss)");
    println!("== autograd: one forward + one backward pass per step ==");
    let exact = train_autograd();
    for line in &exact.log {
        println!("{}", line.seed_format());
    }
    println!("\n== central differences (h = 1e-4), as the seed ==");
    let numeric = train_numerical();
    for line in &numeric.log {
        println!("{}", line.seed_format());
    }

    println!("\ngrad_list[0] and grad_list[1] (autograd):");
    for grad in &exact.first_grads {
        println!("{}", grads_format(grad).join(",\n"));
    }
    let (final_prediction, _) = evaluate(&exact.params);
    println!(
        "\npredict(input_value) = {}",
        numpy_array(&final_prediction)
    );

    // The two trainings follow the same path: the finite-difference error (about h²·f'''/6)
    // nudges the parameters by less than 1e-8 over 3000 steps.
    let param_gap = exact
        .params
        .iter()
        .zip(&numeric.params)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let prediction_gap = exact
        .log
        .iter()
        .zip(&numeric.log)
        .flat_map(|(a, b)| (0..2).map(move |k| (a.prediction[k] - b.prediction[k]).abs()))
        .fold(0.0, f64::max);
    println!("\nlargest parameter difference after {STEPS} steps: {param_gap:.1e}");
    println!("largest printed-prediction difference: {prediction_gap:.1e}");

    // Wall times are a few milliseconds, so take the best of five runs of each.
    let best = |train: fn() -> Run| (0..5).map(|_| train().gradient_time).min().unwrap();
    let (exact_time, numeric_time) = (best(train_autograd), best(train_numerical));
    let eval_ratio = numeric.gradient_evaluations as f64 / exact.gradient_evaluations as f64;
    let time_ratio = numeric_time.as_secs_f64() / exact_time.as_secs_f64();
    println!(
        "\ngradient cost over {STEPS} steps (best of 5):\n  autograd:    {:>6} forward passes (+ {} backward passes), {exact_time:>8.2?}\n  finite diff: {:>6} forward passes, {numeric_time:>8.2?}\n  => {eval_ratio:.0}x the evaluations, {time_ratio:.1}x the time",
        exact.gradient_evaluations,
        exact.gradient_evaluations,
        numeric.gradient_evaluations,
    );
    // Time is not exactly proportional to evaluations: an autograd step also runs a reverse
    // pass, and each finite-difference evaluation carries 12 extra displacement nodes.
}
