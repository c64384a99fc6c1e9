//! User-defined unary operations, like PyTorch's `autograd.Function`.
//!
//! Implement [`UnaryFn`] (its value on `f64` and its derivative, written once over
//! [`Scalar`]), register it with [`Graph::custom`], and apply the returned [`CustomOp`] to
//! handles. Because the derivative is generic, a custom op works in [`Var::backward`] *and* in
//! the recorded gradients of [`Graph::grad`], to any order.

use std::fmt;
use std::sync::Arc;

use crate::{Graph, Scalar, Var};

/// A unary function with its derivative: the contract of a user-defined op.
///
/// `derivative(x, y)` returns `f'(x)`; `y = f(x)` is passed in for rules that are cheaper
/// from the output (like `σ' = y(1 − y)`). Write it with [`Scalar`] operations only, so that
/// it runs on `f64` in the reverse pass and on handles for higher-order derivatives.
///
/// ```
/// use scalargrad::{Graph, Scalar, UnaryFn};
///
/// /// softplus(x) = ln(1 + eˣ), computed without overflow; softplus' = σ(x).
/// struct Softplus;
///
/// impl UnaryFn for Softplus {
///     fn name(&self) -> &str {
///         "softplus"
///     }
///     fn value(&self, x: f64) -> f64 {
///         x.max(0.0) + (-x.abs()).exp().ln_1p()
///     }
///     fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
///         x.sigmoid()
///     }
/// }
///
/// let g = Graph::new();
/// let softplus = g.custom(Softplus);
/// let x = g.var(0.0);
/// let y = softplus.apply(x);
/// assert!((y.value() - 2f64.ln()).abs() < 1e-15);
/// y.backward();
/// assert_eq!(x.grad(), 0.5);
/// // far out it neither overflows nor loses the derivative
/// assert_eq!(softplus.apply(g.var(1000.0)).value(), 1000.0);
/// // and its second derivative σ(x)(1 − σ(x)) comes for free
/// let d1 = g.grad(y, &[x])[0];
/// let d2 = g.grad(d1, &[x])[0];
/// assert_eq!(d2.value(), 0.25);
/// ```
pub trait UnaryFn: Send + Sync + 'static {
    /// The name shown in DOT pictures and error messages.
    fn name(&self) -> &str;
    /// `f(x)` on a plain number.
    fn value(&self, x: f64) -> f64;
    /// `f'(x)`, given the input `x` and the output `y = f(x)`.
    fn derivative<S: Scalar>(&self, x: S, y: S) -> S;
}

/// softplus(x) = ln(1 + eˣ), a ready-made custom op (and the worked example of
/// [`UnaryFn`]): computed as `max(x, 0) + ln(1 + e^(−|x|))`, which never overflows;
/// derivative σ(x), written over [`Scalar`] so that every higher derivative follows.
///
/// ```
/// use scalargrad::{custom::Softplus, Graph};
/// let g = Graph::new();
/// let softplus = g.custom(Softplus);
/// let x = g.var(1.0);
/// let y = softplus.apply(x);
/// y.backward();
/// assert!((y.value() - (1.0 + 1f64.exp()).ln()).abs() < 1e-15);
/// assert_eq!(x.grad(), scalargrad::scalar::sigmoid(1.0));
/// assert_eq!(softplus.apply(g.var(-800.0)).value(), 0.0); // no overflow either way
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Softplus;

impl UnaryFn for Softplus {
    fn name(&self) -> &str {
        "softplus"
    }
    fn value(&self, x: f64) -> f64 {
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x.sigmoid()
    }
}

/// [`UnaryFn`] with its generic method split into the two scalar kinds, so it can be stored
/// as a trait object.
pub(crate) trait ErasedUnary: Send + Sync {
    fn name(&self) -> &str;
    fn value(&self, x: f64) -> f64;
    fn derivative_f64(&self, x: f64, y: f64) -> f64;
    fn derivative_var<'g>(&self, x: Var<'g>, y: Var<'g>) -> Var<'g>;
}

impl<U: UnaryFn> ErasedUnary for U {
    fn name(&self) -> &str {
        UnaryFn::name(self)
    }
    fn value(&self, x: f64) -> f64 {
        UnaryFn::value(self, x)
    }
    fn derivative_f64(&self, x: f64, y: f64) -> f64 {
        self.derivative(x, y)
    }
    fn derivative_var<'g>(&self, x: Var<'g>, y: Var<'g>) -> Var<'g> {
        self.derivative(x, y)
    }
}

/// A custom op registered in one graph: apply it to handles of that graph.
///
/// Register once (registration is kept for the graph's lifetime, across
/// [`Graph::rewind`]), apply as often as you like.
///
/// ```
/// # use scalargrad::{Graph, Scalar, UnaryFn};
/// struct Square;
/// impl UnaryFn for Square {
///     fn name(&self) -> &str { "square" }
///     fn value(&self, x: f64) -> f64 { x * x }
///     fn derivative<S: Scalar>(&self, x: S, _y: S) -> S { x * 2.0 }
/// }
/// let g = Graph::new();
/// let square = g.custom(Square);
/// let x = g.var(3.0);
/// let y = square.apply(x);
/// y.backward();
/// assert_eq!((y.value(), x.grad()), (9.0, 6.0));
/// ```
#[derive(Clone, Copy)]
pub struct CustomOp<'g> {
    pub(crate) graph: &'g Graph,
    pub(crate) index: u32,
}

impl<'g> CustomOp<'g> {
    /// Records `f(x)` as one node.
    ///
    /// # Panics
    /// If `x` belongs to another graph or was freed.
    ///
    /// ```
    /// use scalargrad::{custom::Softplus, Graph};
    /// let g = Graph::new();
    /// let softplus = g.custom(Softplus);
    /// let y = softplus.apply(g.var(0.0));
    /// assert_eq!(y.value(), 2f64.ln());
    /// ```
    #[track_caller]
    pub fn apply(self, x: Var<'g>) -> Var<'g> {
        self.graph.check_same(x);
        x.custom(self)
    }

    /// The op's name.
    ///
    /// ```
    /// # use scalargrad::{Graph, Scalar, UnaryFn};
    /// # struct Cube;
    /// # impl UnaryFn for Cube {
    /// #     fn name(&self) -> &str { "cube" }
    /// #     fn value(&self, x: f64) -> f64 { x * x * x }
    /// #     fn derivative<S: Scalar>(&self, x: S, _y: S) -> S { x * x * 3.0 }
    /// # }
    /// let g = Graph::new();
    /// assert_eq!(g.custom(Cube).name(), "cube");
    /// ```
    pub fn name(self) -> String {
        self.graph.custom_fn(self.index).name().to_owned()
    }
}

impl fmt::Debug for CustomOp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomOp({:?})", self.name())
    }
}

pub(crate) type CustomTable = Vec<Arc<dyn ErasedUnary>>;
