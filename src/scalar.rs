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
    ///
    /// A constant carries no gradient: nothing flows back through it. Lifting a number that
    /// was *computed from* a handle's value (`x.lift(x.value().cos())`) cuts that dependence
    /// out of the graph: its value is right, its derivative is 0. In a custom op's derivative
    /// that makes every second derivative silently 0, so [`Graph::grad`](crate::Graph::grad) checks for it and
    /// panics (see [`UnaryFn`](crate::UnaryFn)); write `x.cos()` instead, and use
    /// [`gradgradcheck`](crate::check::gradgradcheck) to test second order.
    ///
    /// ```
    /// use scalargrad::{Graph, Scalar};
    /// let g = Graph::new();
    /// let x = g.var(0.7);
    /// let cut = x.lift(x.value().cos()); // cos 0.7 as a number: no path back to x
    /// let kept = x.cos();                // cos 0.7 as an op on x
    /// assert_eq!(cut.value(), kept.value());
    /// assert_eq!(g.grad(cut, &[x])[0].value(), 0.0);
    /// assert_eq!(g.grad(kept, &[x])[0].value(), -(0.7_f64.sin()));
    /// ```
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
    /// `|x|`: derivative `sign(x)`, 0 at 0 (as PyTorch). Both kinds implement it with the
    /// primitive (on handles, one `abs` node, which replays right with
    /// [`Graph::recompute`](crate::Graph::recompute) after `x` changes sign); this default,
    /// `relu(x) + relu(−x)`, is only for other implementors.
    fn abs(self) -> Self {
        self.relu() + (-self).relu()
    }
    /// `sin x`; derivative `cos x`.
    fn sin(self) -> Self;
    /// `cos x`; derivative `−sin x`.
    fn cos(self) -> Self;
    /// `√x`; derivative `1/(2√x)` (+inf at 0).
    fn sqrt(self) -> Self;
    /// `ln(1 + x)`, exact for tiny `x`; derivative `1/(1 + x)`.
    fn log1p(self) -> Self;
    /// `ln(1 + eˣ)`, without overflow; derivative `σ(x)`.
    fn softplus(self) -> Self;
    /// The larger of two values (NaN if either is NaN, unlike [`f64::max`]); on a tie each
    /// input gets half the gradient.
    fn max(self, other: Self) -> Self;
    /// The smaller of two values (NaN if either is NaN, unlike [`f64::min`]); on a tie each
    /// input gets half the gradient.
    fn min(self, other: Self) -> Self;
    /// `selfᵏ` for a constant exponent: the same as [`Scalar::powf`], under the name
    /// [`Var::pow`] has. Powers read the same on both kinds: `pow(k)` for a number,
    /// `pow_var(e)` for an exponent of the same kind.
    ///
    /// ```
    /// use scalargrad::{Graph, Scalar};
    /// fn cube<S: Scalar>(x: S) -> S { x.pow(3.0) }
    /// let g = Graph::new();
    /// assert_eq!(cube(2.0_f64), 8.0);
    /// assert_eq!(cube(g.var(2.0)).value(), 8.0);
    /// ```
    fn pow(self, k: f64) -> Self {
        self.powf(k)
    }
    /// `selfᵉ` for an exponent of the same kind: the same as [`Scalar::pow_scalar`], under
    /// the name [`Var::pow_var`] has.
    ///
    /// ```
    /// use scalargrad::Scalar;
    /// assert_eq!(Scalar::pow_var(2.0_f64, 10.0), 1024.0);
    /// ```
    fn pow_var(self, e: Self) -> Self {
        self.pow_scalar(e)
    }
}

/// `max(a, b)` on `f64` as the `max` op computes it: `a` where `a ≥ b` (so `a` on a tie),
/// `b` where `b > a`, NaN if either is NaN (where [`f64::max`] would drop the NaN).
///
/// ```
/// use scalargrad::scalar::max;
/// assert_eq!(max(1.0, 2.0), 2.0);
/// assert!(max(f64::NAN, 2.0).is_nan());
/// ```
pub fn max(a: f64, b: f64) -> f64 {
    if a >= b {
        a
    } else if b > a {
        b
    } else {
        f64::NAN
    }
}

/// `min(a, b)` on `f64` as the `min` op computes it: `a` where `a ≤ b`, `b` where `b < a`,
/// NaN if either is NaN.
///
/// ```
/// use scalargrad::scalar::min;
/// assert_eq!(min(1.0, 2.0), 1.0);
/// assert!(min(1.0, f64::NAN).is_nan());
/// ```
pub fn min(a: f64, b: f64) -> f64 {
    if a <= b {
        a
    } else if b < a {
        b
    } else {
        f64::NAN
    }
}

/// softplus on `f64`: `ln(1 + eˣ)` computed as `max(x, 0) + ln(1 + e^(−|x|))`, which never
/// overflows (PyTorch's `threshold` switch to `x` is not used: this is exact everywhere).
///
/// ```
/// use scalargrad::scalar::softplus;
/// assert_eq!(softplus(0.0), 2f64.ln());
/// assert_eq!(softplus(1000.0), 1000.0);
/// assert_eq!(softplus(-1000.0), 0.0);
/// ```
pub fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
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
    #[inline]
    fn abs(self) -> f64 {
        f64::abs(self)
    }
    #[inline]
    fn sin(self) -> f64 {
        f64::sin(self)
    }
    #[inline]
    fn cos(self) -> f64 {
        f64::cos(self)
    }
    #[inline]
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
    #[inline]
    fn log1p(self) -> f64 {
        f64::ln_1p(self)
    }
    #[inline]
    fn softplus(self) -> f64 {
        softplus(self)
    }
    #[inline]
    fn max(self, other: f64) -> f64 {
        max(self, other)
    }
    #[inline]
    fn min(self, other: f64) -> f64 {
        min(self, other)
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
    fn abs(self) -> Self {
        Var::abs(self)
    }
    fn sin(self) -> Self {
        Var::sin(self)
    }
    fn cos(self) -> Self {
        Var::cos(self)
    }
    fn sqrt(self) -> Self {
        Var::sqrt(self)
    }
    fn log1p(self) -> Self {
        Var::log1p(self)
    }
    fn softplus(self) -> Self {
        Var::softplus(self)
    }
    fn max(self, other: Self) -> Self {
        Var::max(self, other)
    }
    fn min(self, other: Self) -> Self {
        Var::min(self, other)
    }
}
