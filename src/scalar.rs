//! The number trait the derivative rules are written over.
//!
//! Every op's local-derivative rule in [`op`](crate::op) is written once, generic over
//! [`Scalar`]. The reverse pass ([`Var::backward`]) runs it on plain `f64`; the recording
//! pass ([`Graph::grad`]) runs the very same rule on [`Var`] handles, so the gradient becomes
//! nodes of the graph that can be differentiated again. The two can never disagree.
//!
//! [`Graph::grad`]: crate::Graph::grad

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::Var;

/// A number the derivative rules can compute with: `f64`, or a [`Var`] handle that records
/// every operation into its graph.
///
/// Write a function once against `Scalar` and it runs on plain numbers and on graph nodes
/// alike:
///
/// ```
/// use scalargrad::{Graph, Scalar};
///
/// fn softsign<S: Scalar>(x: S) -> S {
///     let one = x.lift(1.0);
///     x / (one + x.abs())
/// }
///
/// let g = Graph::new();
/// let x = g.var(3.0);
/// let y = softsign(x);
/// assert_eq!(y.value(), softsign(3.0_f64));
/// y.backward();
/// assert!((x.grad() - 1.0 / 16.0).abs() < 1e-15); // d/dx x/(1+|x|) = 1/(1+|x|)²
/// ```
pub trait Scalar:
    Copy
    + Debug
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    /// The plain number this scalar holds.
    fn value(self) -> f64;
    /// A constant `c` of the same kind as `self` (for a [`Var`], a constant node in its graph).
    fn lift(self, c: f64) -> Self;
    /// `eˣ`.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// `selfᵏ` for a constant exponent `k`.
    fn powf(self, k: f64) -> Self;
    /// `selfᵉ` for an exponent of the same kind.
    fn pow_scalar(self, e: Self) -> Self;
    /// Logistic sigmoid `1 / (1 + e⁻ˣ)`, computed stably.
    fn sigmoid(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// `max(x, 0)`, with relu'(0) = 0.
    fn relu(self) -> Self;
    /// `|x|`, composed as `relu(x) + relu(−x)`: derivative `sign(x)`, 0 at 0 (relu'(0) = 0),
    /// and on handles a graph that stays right when replayed with
    /// [`Graph::recompute`](crate::Graph::recompute) after `x` changes sign.
    fn abs(self) -> Self {
        self.relu() + (-self).relu()
    }
}

/// Stable logistic sigmoid on `f64`: never evaluates `exp` of a large positive number.
///
/// ```
/// assert_eq!(scalargrad::scalar::sigmoid(-1000.0), 0.0);
/// assert_eq!(scalargrad::scalar::sigmoid(1000.0), 1.0);
/// assert_eq!(scalargrad::scalar::sigmoid(0.0), 0.5);
/// ```
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// ReLU on `f64`: `0` for `x ≤ 0` (so `-0.0` maps to `0.0`), `x` otherwise; NaN stays NaN.
///
/// ```
/// assert_eq!(scalargrad::scalar::relu(-2.0), 0.0);
/// assert_eq!(scalargrad::scalar::relu(3.0), 3.0);
/// assert!(scalargrad::scalar::relu(f64::NAN).is_nan());
/// ```
pub fn relu(x: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else {
        x
    }
}

impl Scalar for f64 {
    #[inline]
    fn value(self) -> f64 {
        self
    }
    #[inline]
    fn lift(self, c: f64) -> f64 {
        c
    }
    #[inline]
    fn exp(self) -> f64 {
        f64::exp(self)
    }
    #[inline]
    fn ln(self) -> f64 {
        f64::ln(self)
    }
    #[inline]
    fn powf(self, k: f64) -> f64 {
        f64::powf(self, k)
    }
    #[inline]
    fn pow_scalar(self, e: f64) -> f64 {
        f64::powf(self, e)
    }
    #[inline]
    fn sigmoid(self) -> f64 {
        sigmoid(self)
    }
    #[inline]
    fn tanh(self) -> f64 {
        f64::tanh(self)
    }
    #[inline]
    fn relu(self) -> f64 {
        relu(self)
    }
}

impl<'g> Scalar for Var<'g> {
    fn value(self) -> f64 {
        Var::value(self)
    }
    fn lift(self, c: f64) -> Self {
        self.graph().constant(c)
    }
    fn exp(self) -> Self {
        Var::exp(self)
    }
    fn ln(self) -> Self {
        Var::ln(self)
    }
    fn powf(self, k: f64) -> Self {
        Var::pow(self, k)
    }
    fn pow_scalar(self, e: Self) -> Self {
        Var::pow_var(self, e)
    }
    fn sigmoid(self) -> Self {
        Var::sigmoid(self)
    }
    fn tanh(self) -> Self {
        Var::tanh(self)
    }
    fn relu(self) -> Self {
        Var::relu(self)
    }
}
