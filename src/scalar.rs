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

/// The trait and its implementations, with a method per op of the list
/// ([`unary_ops!`](crate::unary_ops)).
macro_rules! scalar_trait {
    ($($(#[$doc:meta])* $name:ident $V:ident = $tag:literal [$($dom:tt)*] |$x:ident| $f64:expr;)*) => {
        #[doc = include_str!("scalar_trait.md")]
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
            /// `selfᵏ` for a constant exponent `k`.
            fn powf(self, k: f64) -> Self;
            /// `selfᵉ` for an exponent of the same kind.
            fn pow_scalar(self, e: Self) -> Self;
            /// The larger of two values (NaN if either is NaN, unlike [`f64::max`]); on a tie
            /// each input gets half the gradient.
            fn max(self, other: Self) -> Self;
            /// The smaller of two values (NaN if either is NaN, unlike [`f64::min`]); on a tie
            /// each input gets half the gradient.
            fn min(self, other: Self) -> Self;
            /// `f` applied to this scalar: on a node, `f` itself; on a number, `f` on a
            /// constant of a graph made for it, so the number rounds as the node would (what
            /// [`nn::Activation::Custom`](crate::nn::Activation::Custom) runs).
            ///
            /// ```
            /// use scalargrad::{Graph, Scalar, Var};
            /// fn swish(x: Var<'_>) -> Var<'_> { x * x.sigmoid() }
            /// let g = Graph::new();
            /// assert_eq!(1.5_f64.apply_graph_fn(swish), g.var(1.5).apply_graph_fn(swish).value());
            /// ```
            fn apply_graph_fn(self, f: for<'g> fn(Var<'g>) -> Var<'g>) -> Self;
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
            $(
                #[doc = concat!("The `", stringify!($name), "` op: see [`Var::", stringify!($name),
                    "`](crate::Var::", stringify!($name), ") for its rule and edge points.")]
                fn $name(self) -> Self;
            )*
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
            fn powf(self, k: f64) -> f64 {
                f64::powf(self, k)
            }
            #[inline]
            fn pow_scalar(self, e: f64) -> f64 {
                f64::powf(self, e)
            }
            #[inline]
            fn max(self, other: f64) -> f64 {
                max(self, other)
            }
            #[inline]
            fn min(self, other: f64) -> f64 {
                min(self, other)
            }
            fn apply_graph_fn(self, f: for<'g> fn(Var<'g>) -> Var<'g>) -> f64 {
                let g = crate::Graph::new();
                f(g.constant(self)).value()
            }
            $(
                #[inline]
                fn $name(self) -> f64 {
                    let $x = self;
                    $f64
                }
            )*
        }

        impl<'g> Scalar for Var<'g> {
            fn value(self) -> f64 {
                Var::value(self)
            }
            fn lift(self, c: f64) -> Self {
                self.graph().constant(c)
            }
            fn powf(self, k: f64) -> Self {
                Var::pow(self, k)
            }
            fn pow_scalar(self, e: Self) -> Self {
                Var::pow_var(self, e)
            }
            fn max(self, other: Self) -> Self {
                Var::max(self, other)
            }
            fn min(self, other: Self) -> Self {
                Var::min(self, other)
            }
            fn apply_graph_fn(self, f: for<'a> fn(Var<'a>) -> Var<'a>) -> Self {
                f(self)
            }
            $(
                fn $name(self) -> Self {
                    Var::$name(self)
                }
            )*
        }
    };
}

crate::unary_ops!(scalar_trait);

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

/// `x` clamped to `[lo, hi]` as the `clamp` op computes it; NaN for a NaN `x` (as
/// PyTorch's `clamp`).
///
/// ```
/// use scalargrad::scalar::clamp;
/// assert_eq!((clamp(-2.0, -1.0, 1.0), clamp(0.5, -1.0, 1.0), clamp(3.0, -1.0, 1.0)), (-1.0, 0.5, 1.0));
/// assert!(clamp(f64::NAN, -1.0, 1.0).is_nan());
/// ```
pub fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
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
