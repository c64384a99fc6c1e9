//! The handle to a node, its methods, and the operators that record ops through it.

use std::fmt;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::custom::CustomOp;
use crate::graph::{Graph, NodeId};
use crate::op::Op;
use crate::tape::Tape;

/// A handle to one node of a [`Graph`]: `Copy`, 16 bytes, and checked on every use.
///
/// Arithmetic on handles records new nodes: `+ - * /` between two handles, or a handle and an
/// `f64` on either side (the `f64` becomes a [constant](Graph::constant) node), unary `-`,
/// and `+=`-style assignment.
///
/// # Panics
/// Every method and operator panics with a message saying so if a handle belongs to another
/// graph than the one it is combined with, or points to a node that was freed by
/// [`Graph::rewind`]. A handle never reads another node's data: it is checked against the
/// graph's rewinds (see [`tape`](crate::tape)).
///
/// # Compile errors
/// A handle borrows its graph (`Var<'g>` holds `&'g Graph`), so the compiler rejects:
/// - a handle that outlives its graph: ``error[E0597]: `g` does not live long enough``: keep
///   the graph in an outer scope, or keep numbers (`.value()`) instead of handles;
/// - dropping or moving the graph while a handle is in use: ``error[E0505]: cannot move out
///   of `g` because it is borrowed``;
/// - a handle sent to another thread: ``error[E0277]: `Graph` cannot be shared between
///   threads safely`` (required for `&Graph` to be `Send`): send numbers, or move the graph
///   with no handle alive;
/// - a struct holding a `Graph` and handles into it (it would borrow from itself): keep the
///   parameters as numbers and bind them each step, as `examples/trainer.rs` does.
///
/// Each has a compile-fail example in [`guarantees`](crate::guarantees).
///
/// ```
/// use scalargrad::Graph;
///
/// let g = Graph::new();
/// let x = g.var(2.0);
/// let mut y = 3.0 * x - 1.0 / x;
/// y += x; // y = 4x − 1/x
/// y.backward();
/// assert_eq!(y.value(), 7.5);
/// assert_eq!(x.grad(), 4.0 + 1.0 / 4.0);
/// ```
#[derive(Clone, Copy)]
pub struct Var<'g> {
    graph: &'g Graph,
    id: NodeId,
}

impl<'g> Var<'g> {
    #[inline]
    pub(crate) fn new(graph: &'g Graph, id: NodeId) -> Self {
        Var { graph, id }
    }

    #[inline]
    pub(crate) fn id(self) -> NodeId {
        self.id
    }

    /// The graph this handle belongs to.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(1.0);
    /// assert!(std::ptr::eq(x.graph(), &g));
    /// ```
    #[inline]
    pub fn graph(self) -> &'g Graph {
        self.graph
    }

    /// The node's position on the tape.
    #[inline]
    #[track_caller]
    pub(crate) fn pos(self) -> u32 {
        self.graph.tape().pos(self.id)
    }

    /// The node's value, computed when it was recorded (or by [`Graph::recompute`]).
    ///
    /// # Panics
    /// If the node was freed.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// assert_eq!((g.var(2.0) * 3.0).value(), 6.0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn value(self) -> f64 {
        let t = self.graph.tape();
        t.value(t.pos(self.id) as usize)
    }

    /// The gradient accumulated into this node by every [`Var::backward`] since the last
    /// [`Graph::zero_grad`]; 0 for constants and for nodes no backward has reached.
    ///
    /// # Panics
    /// If the node was freed.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(2.0);
    /// let y = x * x * x;
    /// y.backward();
    /// assert_eq!(x.grad(), 12.0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn grad(self) -> f64 {
        let t = self.graph.tape();
        t.grad(t.pos(self.id) as usize)
    }

    /// Whether this node depends on a [`Graph::var`] leaf (and so receives gradients).
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let c = g.constant(1.0);
    /// assert!(!(c * 2.0).is_tracked());
    /// assert!((c * g.var(2.0)).is_tracked());
    /// ```
    #[inline]
    #[track_caller]
    pub fn is_tracked(self) -> bool {
        let t = self.graph.tape();
        t.tracked(t.pos(self.id) as usize)
    }

    /// Sets a leaf's value, as an optimizer step does. Nodes computed from it keep their old
    /// values until [`Graph::recompute`] (or until they are recorded again).
    ///
    /// # Panics
    /// If the node is not a leaf (an op's value is computed from its inputs), or was freed;
    /// in [anomaly mode](Graph::detect_anomaly), if `value` is NaN or infinite.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let w = g.var(1.0);
    /// w.set_value(0.5);
    /// assert_eq!(w.value(), 0.5);
    /// ```
    #[inline]
    #[track_caller]
    pub fn set_value(self, value: f64) {
        let mut t = self.graph.tape_mut();
        let p = t.pos(self.id) as usize;
        set_leaf(&mut t, p, value);
    }
}

/// [`Var::set_value`] for each of `params`, the new value `f(i, value, gradient)` of
/// `params[i]`: the same checks and effects, in order, with the tape borrowed once when
/// every handle is of one graph (an optimizer's step over a model's parameters).
#[track_caller]
pub(crate) fn update_leaves(params: &[Var<'_>], mut f: impl FnMut(usize, f64, f64) -> f64) {
    let Some(first) = params.first() else {
        return;
    };
    let graph = first.graph;
    if params.iter().any(|p| !std::ptr::eq(p.graph, graph)) {
        for (i, p) in params.iter().enumerate() {
            p.set_value(f(i, p.value(), p.grad()));
        }
        return;
    }
    let mut t = graph.tape_mut();
    crate::counts::count(crate::counts::Path::LeavesUpdatedAtOnce, params.len());
    for (i, p) in params.iter().enumerate() {
        let pos = t.pos(p.id) as usize;
        let value = f(i, t.value(pos), t.grad(pos));
        set_leaf(&mut t, pos, value);
    }
}

/// The body of [`Var::set_value`] for the live node at `p`.
#[inline]
#[track_caller]
fn set_leaf(t: &mut Tape, p: usize, value: f64) {
    if !t.is_leaf(p) {
        panic!(
            "scalargrad: set_value on a `{}` node; only leaves (var, constant) can be set, \
             an op's value is computed from its inputs",
            t.op_name(t.op(p))
        );
    }
    if t.anomaly() && !value.is_finite() {
        panic!(
            "scalargrad anomaly: set_value gave a leaf the non-finite value {} at {}",
            value,
            std::panic::Location::caller()
        );
    }
    t.set_leaf_value(p, value);
}

impl<'g> Var<'g> {
    /// Computes `∂self/∂n` for every ancestor `n` and *adds* it to `n`'s
    /// [`grad`](Var::grad). The root is seeded with 1.
    ///
    /// - Gradients accumulate: a node reached by several paths sums them, and a second
    ///   `backward` adds a second time (as PyTorch does with a kept graph) until
    ///   [`Graph::zero_grad`].
    /// - Every reached node's gradient is kept, intermediate ones included (as micrograd).
    /// - Constants, and ops on constants only, receive nothing. Backward from such a node
    ///   does nothing: no leaf depends on it.
    /// - Iterative: a 1,000,000-deep chain is one backwards walk over the tape.
    ///
    /// # Panics
    /// If the node was freed; in [anomaly mode](Graph::detect_anomaly), at the first node
    /// whose finite upstream gradient produced a non-finite one.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(3.0);
    /// let y = x * x + x; // x reached by three paths
    /// y.backward();
    /// assert_eq!(x.grad(), 7.0);
    /// y.backward(); // accumulates
    /// assert_eq!(x.grad(), 14.0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn backward(self) {
        let mut t = self.graph.tape_mut();
        let root = t.pos(self.id) as usize;
        crate::tape::versions::check(&mut t, root);
        crate::backward::reverse_pass(&mut t, root);
    }
}

impl<'g> Var<'g> {
    /// Gives the node a label that [`Graph::to_dot`] shows (`"apple"`, `"tax"`, …).
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let apple = g.var(100.0).named("apple");
    /// assert!(g.to_dot(apple).to_string().contains("apple"));
    /// ```
    #[inline]
    #[track_caller]
    pub fn named(self, name: &str) -> Self {
        let mut t = self.graph.tape_mut();
        let p = t.pos(self.id) as usize;
        t.set_name(p, name);
        self
    }

    /// The label given by [`Var::named`], if any.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// assert_eq!(g.var(1.0).named("x").name().as_deref(), Some("x"));
    /// ```
    #[inline]
    #[track_caller]
    pub fn name(self) -> Option<String> {
        let t = self.graph.tape();
        t.name(t.pos(self.id) as usize).map(str::to_owned)
    }

    /// Records a unary op on this node.
    #[inline(always)]
    #[track_caller]
    fn unary<F: Fn(u32) -> Op>(self, op: F) -> Self {
        let id = self.graph.tape_mut().push_unary(self.id, op);
        Var::new(self.graph, id)
    }

    /// Records a binary op on `self` and `other`.
    #[inline(always)]
    #[track_caller]
    fn binary<F: Fn(u32, u32) -> Op>(self, other: Self, op: F) -> Self {
        self.graph.check_same(other);
        let id = self.graph.tape_mut().push_binary(self.id, other.id, op);
        Var::new(self.graph, id)
    }

    /// `selfᵏ` for a constant exponent (primitive). Derivative `k·selfᵏ⁻¹`, taken as 0 for
    /// `k = 0`. Outside the domain, IEEE results propagate: `(-8)^(1/3)` is NaN, `0^-1` is
    /// +inf (and its derivative −inf).
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(4.0);
    /// let y = x.pow(1.5);
    /// y.backward();
    /// assert_eq!((y.value(), x.grad()), (8.0, 3.0));
    /// assert!(g.var(-8.0).pow(1.0 / 3.0).value().is_nan());
    /// assert_eq!(x.pow(2).value(), 16.0); // integer literals too (any `Into<f64>`)
    /// ```
    #[inline]
    #[track_caller]
    pub fn pow(self, k: impl Into<f64>) -> Self {
        let k: f64 = k.into();
        let mut t = self.graph.tape_mut();
        let a = t.pos(self.id);
        let id = t.push_op(Op::Pow(a, k));
        Var::new(self.graph, id)
    }

    /// `selfᵉ` with a handle as exponent (primitive). Derivatives: `e·selfᵉ⁻¹` for the base,
    /// `y·ln(self)` for the exponent (taken as 0 where `self = 0` and `e ≥ 0`, the limit, as
    /// PyTorch does). A negative base gives NaN for the exponent's derivative (IEEE `ln`).
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let (x, e) = (g.var(2.0), g.var(3.0));
    /// let y = x.pow_var(e);
    /// y.backward();
    /// assert_eq!((y.value(), x.grad()), (8.0, 12.0));
    /// assert!((e.grad() - 8.0 * 2f64.ln()).abs() < 1e-15);
    /// ```
    #[inline]
    #[track_caller]
    pub fn pow_var(self, exponent: Self) -> Self {
        self.binary(exponent, Op::PowVar)
    }

    /// `x` clamped to `[lo, hi]` (primitive: one node instead of a `max` and a `min`).
    /// Derivative 1 where `lo ≤ x ≤ hi` (the bounds included, as PyTorch), 0 outside; a
    /// NaN `x` gives a NaN value and a 0 derivative.
    ///
    /// # Panics
    /// If `lo > hi`, or a bound is NaN.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let (a, b) = (g.var(-3.0), g.var(0.5));
    /// let y = a.clamp(-1.0, 1.0) + b.clamp(-1.0, 1.0);
    /// y.backward();
    /// assert_eq!((y.value(), a.grad(), b.grad()), (-0.5, 0.0, 1.0));
    /// ```
    #[inline]
    #[track_caller]
    pub fn clamp(self, lo: f64, hi: f64) -> Self {
        check_bounds(lo, hi);
        let mut t = self.graph.tape_mut();
        let a = t.pos(self.id);
        let id = t.push_op(Op::Clamp(a, lo, hi));
        Var::new(self.graph, id)
    }

    /// Natural logarithm: the same node as [`Var::ln`], under the name Python and PyTorch
    /// use.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(4.0);
    /// x.log().backward();
    /// assert_eq!((x.log().value(), x.grad()), (4f64.ln(), 0.25));
    /// ```
    #[inline]
    #[track_caller]
    pub fn log(self) -> Self {
        self.ln()
    }

    /// A node with the same value through which no gradient flows (PyTorch's `detach`): it
    /// is recorded untracked, so the reverse pass stops there, and
    /// [`Graph::recompute`] updates its value with its input's.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(3.0);
    /// let y = x * x.detach(); // d/dx = 3, not 6
    /// y.backward();
    /// assert_eq!((y.value(), x.grad()), (9.0, 3.0));
    /// assert!(!x.detach().is_tracked());
    /// ```
    #[inline]
    #[track_caller]
    pub fn detach(self) -> Self {
        let mut t = self.graph.tape_mut();
        let a = t.pos(self.id);
        let id = t.push_op_tracked(Op::Detach(a), false);
        Var::new(self.graph, id)
    }

    /// Applies a registered custom op; see [`Graph::custom`].
    #[inline]
    #[track_caller]
    pub(crate) fn custom(self, f: CustomOp<'g>) -> Self {
        let mut t = self.graph.tape_mut();
        let a = t.pos(self.id);
        let id = t.push_op(Op::Custom(a, f.index));
        Var::new(self.graph, id)
    }
}

/// The elementwise ops of the op list ([`unary_ops!`](crate::unary_ops)), each recording one
/// node: `x.exp()`, `x.relu()`, … All inherent: no trait import is needed.
macro_rules! var_unary_ops {
    ($($(#[$doc:meta])* $name:ident $V:ident = $tag:literal [$($dom:tt)*] |$x:ident| $f64:expr;)*) => {
        impl<'g> Var<'g> {
            $(
                $(#[$doc])*
                #[inline]
                #[track_caller]
                pub fn $name(self) -> Self {
                    self.unary(Op::$V)
                }
            )*
        }
    };
}

crate::unary_ops!(var_unary_ops);

/// # Panics
/// If `lo > hi` or a bound is NaN (for `clamp`).
#[track_caller]
pub(crate) fn check_bounds(lo: f64, hi: f64) {
    if lo.is_nan() || hi.is_nan() || lo > hi {
        panic!(
            "scalargrad: clamp(lo, hi) needs lo <= hi and neither NaN, got lo = {lo}, hi = {hi}"
        );
    }
}

/// `Debug` shows the node's label (from [`Var::named`]), op, value and gradient.
///
/// ```
/// let g = scalargrad::Graph::new();
/// let apple = g.var(100.0).named("apple");
/// assert_eq!(format!("{apple:?}"), r#"Var("apple": leaf = 100, grad 0)"#);
/// assert_eq!(format!("{:?}", apple * 2.0), "Var(* = 200, grad 0)");
/// ```
impl fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.graph.tape();
        match t.try_pos(self.id) {
            Some(p) => {
                let p = p as usize;
                match t.name(p) {
                    Some(name) => write!(f, "Var({name:?}: ")?,
                    None => write!(f, "Var(")?,
                }
                let op = t.op_name(t.op(p));
                write!(f, "{} = {}, grad {})", op, t.value(p), t.grad(p))
            }
            None => write!(f, "Var(freed)"),
        }
    }
}

/// `+ - * /` for handle ∘ handle, handle ∘ f64 and f64 ∘ handle, and the `∘=` forms.
macro_rules! binary_ops {
    ($($Trait:ident $method:ident $Assign:ident $assign:ident => $op:ident;)*) => {$(
        impl<'g> $Trait for Var<'g> {
            type Output = Var<'g>;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Var<'g>) -> Var<'g> {
                self.binary(rhs, Op::$op)
            }
        }
        impl<'g> $Trait<f64> for Var<'g> {
            type Output = Var<'g>;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: f64) -> Var<'g> {
                self.binary(self.graph.constant(rhs), Op::$op)
            }
        }
        impl<'g> $Trait<Var<'g>> for f64 {
            type Output = Var<'g>;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Var<'g>) -> Var<'g> {
                rhs.graph.constant(self).binary(rhs, Op::$op)
            }
        }
        impl<'g> $Assign for Var<'g> {
            #[inline]
            #[track_caller]
            fn $assign(&mut self, rhs: Var<'g>) {
                *self = $Trait::$method(*self, rhs);
            }
        }
        impl<'g> $Assign<f64> for Var<'g> {
            #[inline]
            #[track_caller]
            fn $assign(&mut self, rhs: f64) {
                *self = $Trait::$method(*self, rhs);
            }
        }
    )*};
}

crate::op::arithmetic_ops!(binary_ops);

impl<'g> Neg for Var<'g> {
    type Output = Var<'g>;
    /// `−x` (primitive: one exact node instead of `−1 · x`). Derivative −1.
    #[inline]
    #[track_caller]
    fn neg(self) -> Var<'g> {
        self.unary(Op::Neg)
    }
}

/// The ops of issue 10: each a primitive whose rule in [`op`](crate::op) is written once over
/// [`Scalar`](crate::Scalar), so every higher derivative follows.
impl<'g> Var<'g> {
    /// The larger of two values (primitive). Derivative 1 for the larger input, 0 for the
    /// other; on a tie each gets ½ (as PyTorch's `maximum`). NaN if either input is NaN (and
    /// both get a NaN gradient), unlike [`f64::max`].
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let (a, b) = (g.var(1.0), g.var(2.0));
    /// let y = a.max(b);
    /// y.backward();
    /// assert_eq!((y.value(), a.grad(), b.grad()), (2.0, 0.0, 1.0));
    /// let (c, d) = (g.var(5.0), g.var(5.0));
    /// c.max(d).backward();
    /// assert_eq!((c.grad(), d.grad()), (0.5, 0.5)); // the tie rule
    /// ```
    #[inline]
    #[track_caller]
    pub fn max(self, other: Self) -> Self {
        self.binary(other, Op::Max)
    }

    /// The smaller of two values (primitive). Derivative 1 for the smaller input, 0 for the
    /// other; on a tie each gets ½ (as PyTorch's `minimum`). NaN if either input is NaN.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let (a, b) = (g.var(1.0), g.var(2.0));
    /// let y = a.min(b);
    /// y.backward();
    /// assert_eq!((y.value(), a.grad(), b.grad()), (1.0, 1.0, 0.0));
    /// ```
    #[inline]
    #[track_caller]
    pub fn min(self, other: Self) -> Self {
        self.binary(other, Op::Min)
    }

    /// `selfⁿ` for an integer exponent: the same node as [`Var::pow`] with `n as f64`.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(3.0);
    /// let y = x.powi(2);
    /// y.backward();
    /// assert_eq!((y.value(), x.grad()), (9.0, 6.0));
    /// ```
    #[inline]
    #[track_caller]
    pub fn powi(self, n: i32) -> Self {
        self.pow(f64::from(n))
    }

    /// Same as [`Var::pow`] (the name [`Scalar::powf`](crate::Scalar::powf) has), so code
    /// written for `f64` reads the same on handles.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// assert_eq!(g.var(2.0).powf(3.0).value(), 8.0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn powf(self, k: f64) -> Self {
        self.pow(k)
    }

    /// `sigmoid`, `tanh`, `exp`, `ln`, `relu`, `pow`, `pow_var` and these are all inherent:
    /// no trait import is needed to call any op on a handle. `lift` is the one method of
    /// [`Scalar`](crate::Scalar) that also has an inherent twin here: a constant in the same
    /// graph.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(2.0);
    /// let c = x.lift(3.0);
    /// assert_eq!((c.value(), c.is_tracked()), (3.0, false));
    /// ```
    #[inline]
    #[track_caller]
    pub fn lift(self, c: f64) -> Self {
        self.graph.constant(c)
    }
}

/// `Display` prints the value as an `f64` would (so `{:.3}` works); a freed handle prints
/// `<freed>`.
///
/// ```
/// let g = scalargrad::Graph::new();
/// let loss = g.var(0.123456);
/// assert_eq!(format!("{loss:.3}"), "0.123");
/// assert_eq!(loss.to_string(), "0.123456");
/// ```
impl fmt::Display for Var<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = {
            let t = self.graph.tape();
            t.try_pos(self.id).map(|p| t.value(p as usize))
        };
        match value {
            Some(v) => fmt::Display::fmt(&v, f),
            None => f.write_str("<freed>"),
        }
    }
}

/// `xs.iter().sum::<Var>()`: one [`Graph::sum`] node (bit-for-bit the chain of `+`).
///
/// # Panics
/// On an empty iterator: there is no handle, so no graph to put a 0 in. Start from a constant
/// instead: `xs.iter().fold(g.constant(0.0), |a, &b| a + b)`, or use [`Graph::sum`].
///
/// ```
/// use scalargrad::{Graph, Var};
/// let g = Graph::new();
/// let xs: Vec<Var> = (1..=4).map(|i| g.var(i as f64)).collect();
/// let s: Var = xs.iter().sum();
/// s.backward();
/// assert_eq!((s.value(), xs[0].grad()), (10.0, 1.0));
/// ```
///
/// ```should_panic
/// let none: Vec<scalargrad::Var> = Vec::new();
/// let _: scalargrad::Var = none.into_iter().sum(); // panics: no graph to sum in
/// ```
impl<'g> std::iter::Sum for Var<'g> {
    #[track_caller]
    fn sum<I: Iterator<Item = Var<'g>>>(iter: I) -> Self {
        let xs: smallvec::SmallVec<[Var<'g>; 16]> = iter.collect();
        match xs.first() {
            Some(x) => x.graph.sum(&xs),
            None => empty("sum"),
        }
    }
}

/// `xs.iter().sum::<Var>()` over references; see the owned form.
///
/// ```
/// let g = scalargrad::Graph::new();
/// let xs = [g.var(1.0), g.var(2.0)];
/// assert_eq!(xs.iter().sum::<scalargrad::Var>().value(), 3.0);
/// ```
impl<'a, 'g> std::iter::Sum<&'a Var<'g>> for Var<'g> {
    #[track_caller]
    fn sum<I: Iterator<Item = &'a Var<'g>>>(iter: I) -> Self {
        iter.copied().sum()
    }
}

/// `xs.iter().product::<Var>()`: the chain of `*`, left to right.
///
/// # Panics
/// On an empty iterator, as [`Sum`](std::iter::Sum) does: start from `g.constant(1.0)`.
///
/// ```
/// use scalargrad::{Graph, Var};
/// let g = Graph::new();
/// let xs = [g.var(2.0), g.var(3.0), g.var(4.0)];
/// let p: Var = xs.iter().product();
/// p.backward();
/// assert_eq!((p.value(), xs[0].grad()), (24.0, 12.0));
/// ```
impl<'g> std::iter::Product for Var<'g> {
    #[track_caller]
    fn product<I: Iterator<Item = Var<'g>>>(mut iter: I) -> Self {
        match iter.next() {
            Some(first) => iter.fold(first, |acc, x| acc * x),
            None => empty("product"),
        }
    }
}

/// `xs.iter().product::<Var>()` over references; see the owned form.
///
/// ```
/// let g = scalargrad::Graph::new();
/// let xs = [g.var(2.0), g.var(5.0)];
/// assert_eq!(xs.iter().product::<scalargrad::Var>().value(), 10.0);
/// ```
impl<'a, 'g> std::iter::Product<&'a Var<'g>> for Var<'g> {
    #[track_caller]
    fn product<I: Iterator<Item = &'a Var<'g>>>(iter: I) -> Self {
        iter.copied().product()
    }
}

#[cold]
#[track_caller]
fn empty(what: &str) -> ! {
    panic!(
        "scalargrad: the {what} of an empty iterator of Var has no graph to live in; start \
         from a constant (`fold(g.constant(..), ..)`) or check for emptiness first"
    )
}

/// `+ - * /` with an `i32` on either side, so integer literals work where floats are taken:
/// `x * 3`, `3 + x`, `x /= 2`. The integer is converted exactly (`f64::from`).
macro_rules! int_ops {
    ($($Trait:ident $method:ident $Assign:ident $assign:ident;)*) => {$(
        impl<'g> $Trait<i32> for Var<'g> {
            type Output = Var<'g>;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: i32) -> Var<'g> {
                $Trait::$method(self, f64::from(rhs))
            }
        }
        impl<'g> $Trait<Var<'g>> for i32 {
            type Output = Var<'g>;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Var<'g>) -> Var<'g> {
                $Trait::$method(f64::from(self), rhs)
            }
        }
        impl<'g> $Assign<i32> for Var<'g> {
            #[inline]
            #[track_caller]
            fn $assign(&mut self, rhs: i32) {
                *self = $Trait::$method(*self, f64::from(rhs));
            }
        }
    )*};
}

int_ops! {
    Add add AddAssign add_assign;
    Sub sub SubAssign sub_assign;
    Mul mul MulAssign mul_assign;
    Div div DivAssign div_assign;
}
