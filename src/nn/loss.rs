//! Loss functions, composed from the engine's scalar ops (so their gradients come from the
//! op rules, and [`Graph::grad`](crate::Graph::grad) differentiates them again).
//!
//! Every function takes one prediction per sample (or per output) and the targets as
//! numbers, and returns one scalar node. Sums run left to right in sample order (one
//! [`Graph::sum`](crate::Graph::sum) node, which rounds as the chain of `+` does).
//!
//! # Panics
//! Every function panics if the slices are empty or differ in length, and on a target its
//! loss has no meaning for (each function's `# Panics` says which): a wrong number from a
//! label of the wrong kind is worse than a stopped program.

use crate::{Graph, Var};

pub use super::softmax::{cross_entropy, log_softmax, softmax};

#[track_caller]
fn graph_of<'g>(what: &str, pred: &[Var<'g>], target: &[f64]) -> &'g Graph {
    assert!(!pred.is_empty(), "scalargrad: {what} of no predictions");
    assert_eq!(
        pred.len(),
        target.len(),
        "scalargrad: {what} of {} predictions and {} targets",
        pred.len(),
        target.len()
    );
    pred[0].graph()
}

/// Panics, naming the sample, on a label outside `[0, 1]` (or NaN): the labels of the
/// cross-entropies are probabilities.
#[track_caller]
fn check_probability_targets(what: &str, target: &[f64]) {
    if let Some((i, y)) = target
        .iter()
        .enumerate()
        .find(|(_, y)| !(0.0..=1.0).contains(*y))
    {
        panic!(
            "scalargrad: {what} target {i} is {y}, but targets are probabilities in [0, 1] \
             (for labels −1/+1 use hinge, or map y to (y + 1)/2)"
        );
    }
}

/// Mean squared error `(1/n) Σ (pᵢ − tᵢ)²`, computed as `sum((p − t)·(p − t)) / n`.
/// Gradient `2(pᵢ − tᵢ)/n`.
///
/// ```
/// use scalargrad::{nn::loss, Graph};
/// let g = Graph::new();
/// let p = [g.var(0.5), g.var(1.0)];
/// let l = loss::mse(&p, &[0.0, 3.0]);
/// l.backward();
/// assert_eq!(l.value(), (0.25 + 4.0) / 2.0);
/// assert_eq!((p[0].grad(), p[1].grad()), (0.5, -2.0));
/// ```
#[track_caller]
pub fn mse<'g>(pred: &[Var<'g>], target: &[f64]) -> Var<'g> {
    let g = graph_of("mse", pred, target);
    let squares = squared_errors(pred, target);
    g.sum(&squares) / pred.len() as f64
}

/// `(pᵢ − tᵢ)·(pᵢ − tᵢ)` for each pair, the terms of [`mse`] and [`half_sse`].
fn squared_errors<'g>(pred: &[Var<'g>], target: &[f64]) -> Vec<Var<'g>> {
    pred.iter()
        .zip(target)
        .map(|(&p, &t)| {
            let d = p - t;
            d * d
        })
        .collect()
}

/// Half the sum of squared errors `½ Σ (pᵢ − tᵢ)²` (the cost of seed 001), computed as
/// `sum((p − t)·(p − t)) · 0.5`. Gradient `pᵢ − tᵢ`.
///
/// ```
/// use scalargrad::{nn::loss, Graph};
/// let g = Graph::new();
/// let p = [g.var(0.5), g.var(1.0)];
/// let l = loss::half_sse(&p, &[0.0, 3.0]);
/// l.backward();
/// assert_eq!(l.value(), 0.5 * (0.25 + 4.0));
/// assert_eq!((p[0].grad(), p[1].grad()), (0.5, -2.0));
/// ```
#[track_caller]
pub fn half_sse<'g>(pred: &[Var<'g>], target: &[f64]) -> Var<'g> {
    let g = graph_of("half_sse", pred, target);
    let squares = squared_errors(pred, target);
    g.sum(&squares) * 0.5
}

/// Binary cross-entropy from logits `zᵢ` and labels `yᵢ ∈ [0, 1]`, averaged:
/// `(1/n) Σ max(z, 0) − z·y + ln(1 + e^(−|z|))`, which equals
/// `−y ln σ(z) − (1 − y) ln(1 − σ(z))` but never overflows nor takes `ln 0`.
/// Gradient `(σ(zᵢ) − yᵢ)/n`.
///
/// `max(z, 0)` and `|z|` are resolved by the sign of `z` (the branch `z ≥ 0` records
/// `z − z·y + ln(1 + e^(−z))`, the other `−z·y + ln(1 + eᶻ)`), so there is no kink: at
/// `z = 0` the gradient is `½ − y`, as it should be. A logit of ±1000 gives a finite loss
/// and gradient.
///
/// ```
/// use scalargrad::{nn::loss, Graph};
/// let g = Graph::new();
/// let z = [g.var(0.0), g.var(-1000.0)];
/// let l = loss::bce_with_logits(&z, &[1.0, 0.0]);
/// l.backward();
/// assert_eq!(l.value(), std::f64::consts::LN_2 / 2.0);
/// assert_eq!((z[0].grad(), z[1].grad()), (-0.25, 0.0));
/// ```
///
/// # Panics
/// If a target is outside `[0, 1]` or NaN (a −1/+1 label gives a number that is no
/// cross-entropy).
#[track_caller]
pub fn bce_with_logits<'g>(logits: &[Var<'g>], target: &[f64]) -> Var<'g> {
    let g = graph_of("bce_with_logits", logits, target);
    check_probability_targets("bce_with_logits", target);
    let terms: Vec<Var<'g>> = logits
        .iter()
        .zip(target)
        .map(|(&z, &y)| {
            let nonneg = z.value() >= 0.0;
            let minus_abs = if nonneg { -z } else { z }; // −|z|
            let softplus = (minus_abs.exp() + 1.0).ln(); // ln(1 + e^(−|z|)) ≤ ln 2
            let l = softplus - z * y;
            if nonneg {
                l + z // + max(z, 0)
            } else {
                l
            }
        })
        .collect();
    g.sum(&terms) / logits.len() as f64
}

/// Binary cross-entropy from probabilities `pᵢ ∈ (0, 1)` and labels `yᵢ ∈ [0, 1]`,
/// averaged: `−(1/n) Σ y ln p + (1 − y) ln(1 − p)`. Gradient
/// `(pᵢ − yᵢ) / (n·pᵢ(1 − pᵢ))`.
///
/// A term whose label weight is 0 is left out (so `y = 1, p = 1` gives 0, not `0·(−∞)`).
/// A probability of exactly 0 or 1 on the wrong side gives `+inf` (IEEE, no panic): prefer
/// [`bce_with_logits`] on the pre-sigmoid score, which cannot.
///
/// ```
/// use scalargrad::{nn::loss, Graph};
/// let g = Graph::new();
/// let p = [g.var(0.8), g.var(1.0)];
/// let l = loss::bce(&p, &[1.0, 1.0]);
/// l.backward();
/// assert!((l.value() - -(0.8f64.ln()) / 2.0).abs() < 1e-16);
/// assert!((p[0].grad() - -1.0 / (2.0 * 0.8)).abs() < 1e-15);
/// // a target or a probability outside [0, 1] is refused, not turned into a number
/// let bad = std::panic::catch_unwind(|| loss::bce(&[Graph::new().var(1.5)], &[1.0]).value());
/// assert!(bad.is_err());
/// ```
///
/// # Panics
/// If a target is outside `[0, 1]` or NaN, or a probability's value is outside `[0, 1]`
/// (a score that is not a probability: apply [`sigmoid`](Var::sigmoid) first, or use
/// [`bce_with_logits`]). A NaN probability is not refused: the loss is NaN, as every op
/// gives NaN for NaN (find where it came from with
/// [`Graph::detect_anomaly`](crate::Graph::detect_anomaly)).
#[track_caller]
pub fn bce<'g>(prob: &[Var<'g>], target: &[f64]) -> Var<'g> {
    let g = graph_of("bce", prob, target);
    check_probability_targets("bce", target);
    if let Some((i, p)) = prob
        .iter()
        .map(|p| p.value())
        .enumerate()
        .find(|&(_, p)| !(0.0..=1.0).contains(&p) && !p.is_nan())
    {
        panic!(
            "scalargrad: bce probability {i} is {p}, outside [0, 1]; pass sigmoid(score), or \
             the score itself to bce_with_logits"
        );
    }
    let terms: Vec<Var<'g>> = prob
        .iter()
        .zip(target)
        .map(|(&p, &y)| {
            let hit = (y != 0.0).then(|| p.ln() * y);
            let miss = (y != 1.0).then(|| (1.0 - p).ln() * (1.0 - y));
            match (hit, miss) {
                (Some(a), Some(b)) => a + b,
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => unreachable!("y cannot be both 0 and 1"),
            }
        })
        .collect();
    -g.sum(&terms) / prob.len() as f64
}

/// micrograd's max-margin loss for labels `yᵢ ∈ {−1, +1}`: `(1/n) Σ relu(1 − yᵢ·sᵢ)`,
/// recorded exactly as micrograd's demo does: `relu(sᵢ·(−yᵢ) + 1)`, summed left to right,
/// then multiplied by `1/n`. Gradient `−yᵢ/n` where the margin is positive, else 0.
///
/// ```
/// use scalargrad::{nn::loss, Graph};
/// let g = Graph::new();
/// let s = [g.var(0.5), g.var(-2.0)];
/// let l = loss::hinge(&s, &[1.0, -1.0]); // margins 0.5 and −1
/// l.backward();
/// assert_eq!(l.value(), 0.25);
/// assert_eq!((s[0].grad(), s[1].grad()), (-0.5, 0.0));
/// ```
///
/// # Panics
/// If a label is anything but −1 or +1: with 0/1 labels (a cross-entropy habit) every
/// label-0 sample would have loss exactly 1 and no gradient, and never train.
#[track_caller]
pub fn hinge<'g>(scores: &[Var<'g>], labels: &[f64]) -> Var<'g> {
    let g = graph_of("hinge", scores, labels);
    if let Some((i, y)) = labels
        .iter()
        .enumerate()
        .find(|&(_, &y)| y != 1.0 && y != -1.0)
    {
        panic!(
            "scalargrad: hinge label {i} is {y}, but hinge labels are −1 or +1 (for 0/1 labels \
             map y to 2y − 1, or use bce_with_logits)"
        );
    }
    let losses: Vec<Var<'g>> = scores
        .iter()
        .zip(labels)
        .map(|(&s, &y)| (s * -y + 1.0).relu())
        .collect();
    g.sum(&losses) * (1.0 / scores.len() as f64)
}

/// L2 penalty `α Σ pᵢ²` (micrograd's `alpha * sum(p*p for p in parameters)`), computed as
/// `sum(p·p) · α` in the given order. Gradient `2α pᵢ`.
///
/// Recorded as one [`Graph::dot`](crate::Graph::dot) of `params` with themselves, then the
/// product by `α`: the value is bit for bit that of one `p·p` node per parameter and a
/// [`Graph::sum`](crate::Graph::sum), and so are the gradients when no handle repeats (each
/// parameter is given `g·p` twice, as `p·p` gives it).
///
/// ```
/// use scalargrad::{nn::loss, Graph};
/// let g = Graph::new();
/// let p = [g.var(3.0), g.var(-4.0)];
/// let l = loss::l2(&p, 0.5);
/// l.backward();
/// assert_eq!(l.value(), 12.5);
/// assert_eq!((p[0].grad(), p[1].grad()), (3.0, -4.0));
/// ```
///
/// # Panics
/// If `params` is empty.
#[track_caller]
pub fn l2<'g>(params: &[Var<'g>], alpha: f64) -> Var<'g> {
    assert!(
        !params.is_empty(),
        "scalargrad: l2 penalty of no parameters"
    );
    params[0].graph().dot(params, params) * alpha
}
