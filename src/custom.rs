//! User-defined operations, like PyTorch's `autograd.Function`.
//!
//! Implement [`UnaryFn`] (its value on `f64` and its derivative, written once over
//! [`Scalar`]), register it with [`Graph::custom`], and apply the returned [`CustomOp`] to
//! handles; [`NaryFn`], [`Graph::custom_nary`] and [`NaryOp`] do the same for several
//! inputs. Because the derivative is generic, a custom op works in [`Var::backward`] *and* in
//! the recorded gradients of [`Graph::grad`], to any order.

use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::{Graph, Scalar, Var};

/// A unary function with its derivative: the contract of a user-defined op.
///
/// `derivative(x, y)` returns `f'(x)`; `y = f(x)` is passed in for rules that are cheaper
/// from the output (like `σ' = y(1 − y)`). Write it with [`Scalar`] operations only, so that
/// it runs on `f64` in the reverse pass and on handles for higher-order derivatives.
///
/// # A derivative must stay in the graph
/// [`Scalar`] has the elementary functions (`sin`, `cos`, `sqrt`, `exp`, `ln`, `tanh`,
/// `sigmoid`, `softplus`, `max`, …), so a rule never needs to leave it. Computing the
/// derivative as a plain number and [lifting](Scalar::lift) it back
/// (`x.lift(x.value().cos())`) gives the right first derivative but a second derivative of
/// 0: the lifted constant has no path back to `x`. [`Graph::grad`] detects it: when a custom
/// derivative comes back as a constant node although its `f64` value changes with `x`, it
/// panics naming the op. (Lifting a true constant, like `x.lift(3.0)` for `3x`, or a
/// piecewise constant, like relu's 0 or 1, is right and accepted.)
/// [`check::gradgradcheck`](crate::check::gradgradcheck) compares second derivatives with
/// finite differences, for the rules the detector cannot see.
///
/// For functions of several inputs, see [`NaryFn`].
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
/// Softplus is now also a primitive, [`Var::softplus`], which needs no registration; this
/// type is kept (code uses it) as a thin wrapper with the same numbers, bit for bit.
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
        crate::scalar::softplus(x)
    }
    fn derivative<S: Scalar>(&self, x: S, _y: S) -> S {
        x.sigmoid()
    }
}

/// [`UnaryFn`] (or [`NaryFn`]) with its generic method split into the two scalar kinds, so it
/// can be stored as a trait object. The n-ary methods default to the unary ones.
pub(crate) trait ErasedUnary: Send + Sync {
    fn name(&self) -> &str;
    fn value(&self, x: f64) -> f64;
    fn derivative_f64(&self, x: f64, y: f64) -> f64;
    fn derivative_var<'g>(&self, x: Var<'g>, y: Var<'g>) -> Var<'g>;
    fn value_n(&self, xs: &[f64]) -> f64 {
        self.value(xs[0])
    }
    fn partial_f64(&self, _i: usize, xs: &[f64], y: f64) -> f64 {
        self.derivative_f64(xs[0], y)
    }
    fn partial_var<'g>(&self, _i: usize, xs: &[Var<'g>], y: Var<'g>) -> Var<'g> {
        self.derivative_var(xs[0], y)
    }
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
/// Register once, apply as often as you like. A registration made before a
/// [`Mark`](crate::Mark) is kept across [`Graph::rewind`]; one made after it is freed by the
/// rewind (with every node that used it), so registering inside a training step does not grow
/// the graph either: 5 M steps keep one table entry (`tests/custom.rs`).
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
    /// The table slot's generation at registration: a slot freed by a rewind and reused by
    /// another op makes this handle stale.
    pub(crate) gen: u32,
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
        self.graph.tape().customs().check(self.index, self.gen);
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

/// The graph's table of custom ops. Registrations made after a [`Mark`](crate::Mark) are freed
/// by the rewind to it (every node that used them is freed too), so registering inside a
/// training step does not grow the table; a freed slot keeps its generation, so a
/// [`CustomOp`] of a freed registration panics instead of applying whatever op took its slot.
#[derive(Default)]
pub(crate) struct CustomTable {
    entries: Vec<Arc<dyn ErasedUnary>>,
    /// Generation of every slot ever used (`entries.len()` of them are live).
    gens: Vec<u32>,
}

impl CustomTable {
    /// Adds `f` and returns its index and generation.
    pub(crate) fn register(&mut self, f: Arc<dyn ErasedUnary>) -> (u32, u32) {
        let index = self.entries.len();
        let index32 = u32::try_from(index).expect("scalargrad: too many custom ops");
        let gen = match self.gens.get_mut(index) {
            Some(gen) => {
                *gen = gen.wrapping_add(1);
                *gen
            }
            None => {
                self.gens.push(0);
                0
            }
        };
        self.entries.push(f);
        (index32, gen)
    }

    /// Frees every registration from index `keep` on (the slots keep their generation).
    pub(crate) fn truncate(&mut self, keep: u32) {
        self.entries.truncate(keep as usize);
    }

    /// # Panics
    /// If registration `index` of generation `gen` was freed.
    #[track_caller]
    pub(crate) fn check(&self, index: u32, gen: u32) {
        let i = index as usize;
        if i >= self.entries.len() || self.gens[i] != gen {
            panic!(
                "scalargrad: this custom op was registered after a mark and freed by the rewind \
                 to it (Graph::rewind, Graph::scope, Graph::clear); register it before the \
                 mark, or again in each step"
            );
        }
    }
}

impl std::ops::Deref for CustomTable {
    type Target = [Arc<dyn ErasedUnary>];
    fn deref(&self) -> &Self::Target {
        &self.entries
    }
}

/// A function of several inputs with its partial derivatives: the n-ary twin of [`UnaryFn`].
///
/// `partial(i, xs, y)` returns `∂f/∂xᵢ` at the inputs `xs`, given the output `y = f(xs)`.
/// Write it with [`Scalar`] operations only (never a number computed from `xs[j].value()`
/// and [lifted](Scalar::lift) back: see [`UnaryFn`]), so that it runs on `f64` in the reverse
/// pass and on handles for higher-order derivatives.
///
/// ```
/// use scalargrad::{Graph, NaryFn, Scalar};
///
/// /// hypot(a, b) = √(a² + b²); ∂/∂a = a/y, ∂/∂b = b/y.
/// struct Hypot;
///
/// impl NaryFn for Hypot {
///     fn name(&self) -> &str { "hypot" }
///     fn arity(&self) -> usize { 2 }
///     fn value(&self, x: &[f64]) -> f64 { x[0].hypot(x[1]) }
///     fn partial<S: Scalar>(&self, i: usize, x: &[S], y: S) -> S { x[i] / y }
/// }
///
/// let g = Graph::new();
/// let hypot = g.custom_nary(Hypot);
/// let (a, b) = (g.var(3.0), g.var(4.0));
/// let y = hypot.apply(&[a, b]);
/// y.backward();
/// assert_eq!((y.value(), a.grad(), b.grad()), (5.0, 0.6, 0.8));
/// // second order from the same rule: ∂²y/∂a² = b²/y³
/// let da = g.grad(y, &[a])[0];
/// assert!((g.grad(da, &[a])[0].value() - 16.0 / 125.0).abs() < 1e-15);
/// ```
pub trait NaryFn: Send + Sync + 'static {
    /// The name shown in DOT pictures and error messages.
    fn name(&self) -> &str;
    /// The number of inputs; [`NaryOp::apply`] checks it.
    fn arity(&self) -> usize;
    /// `f(x₀, x₁, …)` on plain numbers (`x.len() == arity()`).
    fn value(&self, x: &[f64]) -> f64;
    /// `∂f/∂xᵢ`, given the inputs and the output `y = f(x)`.
    fn partial<S: Scalar>(&self, i: usize, x: &[S], y: S) -> S;
}

/// Stores an [`NaryFn`] in the table of erased ops.
struct Nary<F>(F);

impl<F: NaryFn> ErasedUnary for Nary<F> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn value(&self, x: f64) -> f64 {
        self.0.value(&[x])
    }
    fn derivative_f64(&self, x: f64, y: f64) -> f64 {
        self.0.partial(0, &[x], y)
    }
    fn derivative_var<'g>(&self, x: Var<'g>, y: Var<'g>) -> Var<'g> {
        self.0.partial(0, &[x], y)
    }
    fn value_n(&self, xs: &[f64]) -> f64 {
        self.0.value(xs)
    }
    fn partial_f64(&self, i: usize, xs: &[f64], y: f64) -> f64 {
        self.0.partial(i, xs, y)
    }
    fn partial_var<'g>(&self, i: usize, xs: &[Var<'g>], y: Var<'g>) -> Var<'g> {
        self.0.partial(i, xs, y)
    }
}

/// An n-ary custom op registered in one graph, from [`Graph::custom_nary`].
///
/// ```
/// # use scalargrad::{Graph, NaryFn, Scalar};
/// struct Mul3;
/// impl NaryFn for Mul3 {
///     fn name(&self) -> &str { "mul3" }
///     fn arity(&self) -> usize { 3 }
///     fn value(&self, x: &[f64]) -> f64 { x[0] * x[1] * x[2] }
///     fn partial<S: Scalar>(&self, i: usize, x: &[S], _y: S) -> S {
///         x[(i + 1) % 3] * x[(i + 2) % 3]
///     }
/// }
/// let g = Graph::new();
/// let mul3 = g.custom_nary(Mul3);
/// let xs = [g.var(2.0), g.var(3.0), g.var(4.0)];
/// mul3.apply(&xs).backward();
/// assert_eq!((xs[0].grad(), xs[1].grad(), xs[2].grad()), (12.0, 8.0, 6.0));
/// assert_eq!(mul3.arity(), 3);
/// ```
#[derive(Clone, Copy)]
pub struct NaryOp<'g> {
    graph: &'g Graph,
    index: u32,
    gen: u32,
    arity: usize,
}

impl<'g> NaryOp<'g> {
    /// Records `f(xs)` as one node.
    ///
    /// # Panics
    /// If `xs.len()` is not the op's arity, a handle belongs to another graph or was freed,
    /// or the registration was freed by a rewind.
    ///
    /// ```should_panic
    /// # use scalargrad::{Graph, NaryFn, Scalar};
    /// # struct Add2;
    /// # impl NaryFn for Add2 {
    /// #     fn name(&self) -> &str { "add2" }
    /// #     fn arity(&self) -> usize { 2 }
    /// #     fn value(&self, x: &[f64]) -> f64 { x[0] + x[1] }
    /// #     fn partial<S: Scalar>(&self, _i: usize, x: &[S], _y: S) -> S { x[0].lift(1.0) }
    /// # }
    /// let g = Graph::new();
    /// let add2 = g.custom_nary(Add2);
    /// add2.apply(&[g.var(1.0)]); // panics: `add2` takes 2 inputs, given 1
    /// ```
    #[track_caller]
    pub fn apply(self, xs: &[Var<'g>]) -> Var<'g> {
        let name = || {
            self.graph.tape().customs()[self.index as usize]
                .name()
                .to_owned()
        };
        self.graph.tape().customs().check(self.index, self.gen);
        assert!(
            xs.len() == self.arity,
            "scalargrad: custom op `{}` takes {} inputs, given {}",
            name(),
            self.arity,
            xs.len()
        );
        for &x in xs {
            self.graph.check_same(x);
        }
        self.graph.apply_custom_nary(self.index, xs)
    }

    /// The number of inputs.
    ///
    /// See [`NaryOp`]'s example.
    pub fn arity(self) -> usize {
        self.arity
    }
}

impl fmt::Debug for NaryOp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.graph.tape();
        let name = t
            .customs()
            .get(self.index as usize)
            .map_or("<freed>", |c| c.name());
        write!(f, "NaryOp({name:?}, arity {})", self.arity)
    }
}

impl Graph {
    /// Registers a user-defined op of several inputs (see [`NaryFn`]) and returns the handle
    /// to apply it. Like [`Graph::custom`], a registration made after a [`Mark`](crate::Mark)
    /// is freed by the rewind to it.
    ///
    /// # Panics
    /// If `f.arity()` is 0.
    ///
    /// See [`NaryFn`] for an example.
    pub fn custom_nary<F: NaryFn>(&self, f: F) -> NaryOp<'_> {
        let arity = f.arity();
        assert!(
            arity > 0,
            "scalargrad: a custom op needs at least one input"
        );
        let (index, gen) = self.tape_mut().customs_mut().register(Arc::new(Nary(f)));
        NaryOp {
            graph: self,
            index,
            gen,
            arity,
        }
    }
}

/// `f'(x)` of custom op `index` as a node, for [`Graph::grad`], checked for a derivative that
/// dropped out of the graph (see [`kept_in_graph`]).
#[track_caller]
pub(crate) fn derivative_node<'g>(graph: &'g Graph, index: u32, x: Var<'g>, y: Var<'g>) -> Var<'g> {
    partial_node(graph, index, 0, &[x], y)
}

/// `∂f/∂xᵢ` of custom op `index` as a node, checked like [`derivative_node`].
#[track_caller]
pub(crate) fn partial_node<'g>(
    graph: &'g Graph,
    index: u32,
    i: usize,
    xs: &[Var<'g>],
    y: Var<'g>,
) -> Var<'g> {
    let f = graph.custom_fn(index);
    let d = if xs.len() == 1 {
        f.derivative_var(xs[0], y)
    } else {
        f.partial_var(i, xs, y)
    };
    if !d.is_tracked() && xs.iter().any(|x| x.is_tracked()) {
        kept_in_graph(&*f, i, xs);
    }
    d
}

/// The check behind [`derivative_node`]: a custom derivative returned a node that depends on
/// no tracked input (a constant). That is right only if the derivative really is constant
/// near the inputs; if its `f64` value changes both ways when the tracked inputs move by a
/// small step, the derivative was computed from plain numbers and lifted back, which makes
/// every higher derivative 0: panic with what to write instead.
///
/// A derivative that is constant on one side (a kink, as relu's at 0) is accepted; so is one
/// whose `f64` value is not finite at the nearby points.
#[track_caller]
fn kept_in_graph(f: &dyn ErasedUnary, i: usize, xs: &[Var<'_>]) {
    let at = |dir: f64| -> f64 {
        let moved: SmallVec<[f64; 8]> = xs
            .iter()
            .map(|x| {
                let v = x.value();
                if x.is_tracked() {
                    v + dir * 1e-6 * v.abs().max(1.0)
                } else {
                    v
                }
            })
            .collect();
        let y = f.value_n(&moved);
        if moved.len() == 1 {
            f.derivative_f64(moved[0], y)
        } else {
            f.partial_f64(i, &moved, y)
        }
    };
    let (down, mid, up) = (at(-1.0), at(0.0), at(1.0));
    let finite = down.is_finite() && mid.is_finite() && up.is_finite();
    if finite && down != mid && up != mid {
        let what = if xs.len() == 1 {
            "derivative".to_owned()
        } else {
            format!("partial derivative {i}")
        };
        panic!(
            "scalargrad: the {what} of custom op `{}` changes with its input ({down} .. {mid} \
             .. {up} nearby) but was returned as a constant node, cut off from the graph: it \
             was computed from plain numbers (`x.value()`) and lifted back with `lift`, so every \
             higher derivative through it would be 0. Write it with Scalar operations on `x` \
             (`x.cos()`, `x * x`, `x.sigmoid()`, …); check with check::gradgradcheck",
            f.name()
        );
    }
}
