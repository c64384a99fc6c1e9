//! [`Value`]: a scalar that owns its node, micrograd-style — no graph object, no lifetime.
//!
//! # When to pick `Value`, when [`Graph`](crate::Graph)
//! | | [`Value`] | [`Graph`](crate::Graph) + [`Var`](crate::Var) |
//! |---|---|---|
//! | handle | `Clone`, owns a reference count | `Copy`, borrows the graph |
//! | lives | until the last handle (and every node using it) is dropped | until the graph is dropped or rewound |
//! | fits | learning, long-lived models kept in structs, language bindings (the Python package) | speed, bulk training (`mark`/`rewind`, `recompute`, fused layers), custom ops |
//!
//! Speed: `Graph` records and differentiates 10–20× faster per node (`docs/design.md`,
//! "`Value`", with the measurements and the command).
//!
//! # Design
//! - **Arena** (`arena.rs`). Nodes live in a per-thread [`slotmap`] arena (a
//!   `DenseSlotMap`: a graph built in one go is contiguous in memory). A [`Value`] holds a generational key; nodes are freed in any order, their
//!   slots reused, and a key whose node is gone is detected (panic with a sentence), never
//!   read as another node. When a thread's last node is freed, no key can be outstanding,
//!   and the arena starts afresh (slots handed out in order again). Because the arena is per
//!   thread,
//!   `Value` is neither `Send` nor `Sync`:
//!
//!   ```compile_fail
//!   fn needs_send<T: Send>(_: T) {}
//!   needs_send(scalargrad::Value::new(1.0)); // error: `*const ()` cannot be sent between threads
//!   ```
//! - **Reference counts.** A node's count is the number of handles to it plus the number of
//!   times a live node uses it as an input. Dropping the last handle frees the node and then,
//!   from an explicit worklist (no recursion), every input that only it kept alive: dropping
//!   the end of a 1,000,000-deep chain frees the chain in a loop.
//! - **Same rules.** Every op is an `Op` from [`op`](crate::op) whose inputs are numbered
//!   `0, 1, …` within the node; the forward value is `Op::eval` and the reverse pass runs
//!   `Op::pullback` — the derivative rules `Graph` uses, not a copy.
//! - **Backward.** A topological order is computed from the root by an iterative depth-first
//!   search (explicit stack); the pass walks it backwards.
//!
//! # Semantics of [`Value::backward`]
//! As micrograd, the root is seeded with 1 and gradients accumulate with `+=` into every
//! node reached, intermediate ones included; `x + x` and `x * x` get `2` and `2x`. Unlike
//! micrograd, a pass first computes its own gradients and then adds them, so two calls give
//! exactly twice one call (micrograd re-propagates the gradients the first call left in
//! intermediate nodes and gives 3× on a graph with reuse), and the root's gradient is added to
//! (1, then 2), not set. Reset with [`Value::set_grad`] (what micrograd's `zero_grad` does).
//!
//! # Higher-order derivatives
//! [`Value::grad_wrt`] records the gradient as new `Value`s, with the rules of
//! [`op`](crate::op) run on a recording scalar (a `Copy` key whose reference the running call
//! holds: the rules are written over [`Scalar`](crate::Scalar), which is `Copy`, and a
//! `Value` owns a reference count, so it cannot be one itself). Differentiate the result
//! again for second and higher derivatives.
//!
//! ```
//! use scalargrad::Value;
//!
//! let apple = Value::new(100.0);
//! let count = Value::new(2.0);
//! let tax = Value::new(1.1);
//! let price = &apple * &count * &tax;
//! price.backward();
//! assert!((price.data() - 220.0).abs() < 1e-9);
//! assert!((apple.grad() - 2.2).abs() < 1e-12);
//! assert!((tax.grad() - 200.0).abs() < 1e-9);
//! ```

mod arena;
mod grad;

use std::fmt;
use std::iter::Sum;
use std::marker::PhantomData;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use smallvec::{smallvec, SmallVec};

use crate::op::Op;
use arena::{dot_op, pow_op, sum_op, too_many_refs, with, Key, ARENA};

/// A scalar that owns its node in this thread's arena: micrograd's `Value`, in Rust.
///
/// Arithmetic records a new node: `+ - * /` between values (by value or by reference) or a
/// value and an `f64` on either side (the `f64` becomes a constant leaf, which gets no
/// gradient), unary `-`, and the `∘=` forms. `clone` is a new handle to the *same* node.
/// A node lives while a handle to it, or a node computed from it, lives.
///
/// ```
/// use scalargrad::Value;
///
/// let x = Value::new(2.0);
/// let mut y = 3.0 * &x - 1.0 / &x;
/// y += &x; // y = 4x − 1/x
/// y.backward();
/// assert_eq!(y.data(), 7.5);
/// assert_eq!(x.grad(), 4.0 + 1.0 / 4.0);
/// ```
pub struct Value {
    key: Key,
    /// The arena is per thread: not `Send`, not `Sync`.
    _local: PhantomData<*const ()>,
}

impl Value {
    #[inline(always)]
    fn from_key(key: Key) -> Value {
        Value {
            key,
            _local: PhantomData,
        }
    }

    /// A leaf whose gradient is tracked (micrograd's `Value(data)`).
    ///
    /// ```
    /// let x = scalargrad::Value::new(3.0);
    /// assert_eq!((x.data(), x.grad()), (3.0, 0.0));
    /// ```
    #[inline]
    pub fn new(data: f64) -> Value {
        Value::from_key(with(|a| {
            let k = a.leaf(data, true);
            a.nodes[k].refs = 1;
            k
        }))
    }

    /// A leaf that gets no gradient: `backward` skips it and everything computed only from
    /// constants.
    ///
    /// ```
    /// let c = scalargrad::Value::constant(2.0);
    /// let x = scalargrad::Value::new(3.0);
    /// let y = &c * &x;
    /// y.backward();
    /// assert_eq!((x.grad(), c.grad()), (2.0, 0.0));
    /// ```
    #[inline]
    pub fn constant(data: f64) -> Value {
        Value::from_key(with(|a| {
            let k = a.leaf(data, false);
            a.nodes[k].refs = 1;
            k
        }))
    }

    /// The value (micrograd's `.data`).
    ///
    /// # Panics
    /// If the handle is used on another thread's arena (a stale key; see [`Value`]).
    ///
    /// ```
    /// let x = scalargrad::Value::new(1.5);
    /// assert_eq!((&x * 2.0).data(), 3.0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn data(&self) -> f64 {
        with(|a| a.node(self.key).value)
    }

    /// The accumulated gradient (micrograd's `.grad`).
    ///
    /// ```
    /// let x = scalargrad::Value::new(3.0);
    /// (&x * &x).backward();
    /// assert_eq!(x.grad(), 6.0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn grad(&self) -> f64 {
        with(|a| a.node(self.key).grad)
    }

    /// Sets the value. Nodes already computed from this one keep their values (as
    /// micrograd): this is how an optimizer updates a parameter between steps.
    ///
    /// ```
    /// let w = scalargrad::Value::new(1.0);
    /// w.set_data(w.data() - 0.5);
    /// assert_eq!(w.data(), 0.5);
    /// ```
    #[inline]
    #[track_caller]
    pub fn set_data(&self, data: f64) {
        with(|a| a.node_mut(self.key).value = data)
    }

    /// Sets the gradient; `set_grad(0.0)` is micrograd's `p.grad = 0`.
    ///
    /// ```
    /// let x = scalargrad::Value::new(3.0);
    /// (&x * 2.0).backward();
    /// x.set_grad(0.0);
    /// assert_eq!(x.grad(), 0.0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn set_grad(&self, grad: f64) {
        with(|a| a.node_mut(self.key).grad = grad)
    }

    /// Whether this value depends on a [`Value::new`] leaf (so `backward` reaches it).
    ///
    /// ```
    /// use scalargrad::Value;
    /// assert!((Value::new(1.0) + 1.0).is_tracked());
    /// assert!(!(Value::constant(1.0) + 1.0).is_tracked());
    /// ```
    #[inline]
    #[track_caller]
    pub fn is_tracked(&self) -> bool {
        with(|a| a.node(self.key).tracked)
    }

    /// The number of nodes alive in this thread's arena (every `Value` and every node a live
    /// one was computed from): what stays flat in a training loop.
    ///
    /// ```
    /// use scalargrad::Value;
    /// let before = Value::live_nodes();
    /// let x = Value::new(1.0);
    /// let y = (&x + 1.0).tanh(); // leaf, constant, +, tanh
    /// assert_eq!(Value::live_nodes(), before + 4);
    /// drop(x); // still used by y
    /// assert_eq!(Value::live_nodes(), before + 4);
    /// drop(y);
    /// assert_eq!(Value::live_nodes(), before);
    /// ```
    pub fn live_nodes() -> usize {
        with(|a| a.nodes.len())
    }

    /// Computes `∂self/∂n` for every node `n` this value was computed from and adds it to
    /// `n`'s [`grad`](Value::grad); the root is seeded with 1. See the [module
    /// docs](crate::value) for the exact semantics (accumulation; two calls give exactly 2×).
    /// Iterative: a 1,000,000-deep chain works.
    ///
    /// ```
    /// let x = scalargrad::Value::new(3.0);
    /// let y = &x * &x + &x; // x reached by three paths
    /// y.backward();
    /// assert_eq!(x.grad(), 7.0);
    /// y.backward(); // accumulates: exactly twice
    /// assert_eq!(x.grad(), 14.0);
    /// ```
    #[track_caller]
    pub fn backward(&self) {
        with(|a| a.backward(self.key))
    }

    #[inline(always)]
    #[track_caller]
    fn unary(&self, op: Op) -> Value {
        Value::from_key(with(|a| a.push(op, smallvec![self.key])))
    }

    #[inline(always)]
    #[track_caller]
    fn binary(&self, rhs: &Value, op: Op) -> Value {
        Value::from_key(with(|a| {
            a.push(op, SmallVec::from_buf([self.key, rhs.key]))
        }))
    }

    #[inline(always)]
    #[track_caller]
    fn with_constant(&self, c: f64, constant_first: bool, op: Op) -> Value {
        Value::from_key(with(|a| {
            let c = a.leaf(c, false);
            let inputs = if constant_first {
                [c, self.key]
            } else {
                [self.key, c]
            };
            a.push(op, SmallVec::from_buf(inputs))
        }))
    }

    /// `selfᵏ` for a constant `k`. Derivative `k·selfᵏ⁻¹` (0 when `k = 0`).
    ///
    /// ```
    /// let x = scalargrad::Value::new(2.0);
    /// let y = x.pow(3.0);
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (8.0, 12.0));
    /// ```
    #[track_caller]
    pub fn pow(&self, k: impl Into<f64>) -> Value {
        let k: f64 = k.into();
        Value::from_key(with(|a| a.push(pow_op(k), smallvec![self.key])))
    }

    /// The same node as [`Value::pow_value`], under the name [`Var::pow_var`](crate::Var::pow_var) has.
    ///
    /// ```
    /// use scalargrad::Value;
    /// let (a, b) = (Value::new(2.0), Value::new(3.0));
    /// assert_eq!(a.pow_var(&b).data(), 8.0);
    /// ```
    #[track_caller]
    pub fn pow_var(&self, exponent: &Value) -> Value {
        self.pow_value(exponent)
    }

    /// Natural logarithm: the same node as [`Value::ln`], under the name Python uses.
    ///
    /// ```
    /// let x = scalargrad::Value::new(4.0);
    /// x.log().backward();
    /// assert_eq!(x.grad(), 0.25);
    /// ```
    #[track_caller]
    pub fn log(&self) -> Value {
        self.ln()
    }

    /// `x` clamped to `[lo, hi]`: the rule of [`Var::clamp`](crate::Var::clamp).
    ///
    /// # Panics
    /// If `lo > hi`, or a bound is NaN.
    ///
    /// ```
    /// let x = scalargrad::Value::new(3.0);
    /// let y = x.clamp(-1.0, 1.0);
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (1.0, 0.0));
    /// ```
    #[track_caller]
    pub fn clamp(&self, lo: f64, hi: f64) -> Value {
        crate::var::check_bounds(lo, hi);
        self.unary(Op::Clamp(0, lo, hi))
    }

    /// A constant with the same value: no gradient flows back through it (PyTorch's
    /// `detach`).
    ///
    /// ```
    /// let x = scalargrad::Value::new(3.0);
    /// let y = &x * &x.detach(); // d/dx = 3, not 6
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (9.0, 3.0));
    /// ```
    #[track_caller]
    pub fn detach(&self) -> Value {
        Value::constant(self.data())
    }

    /// The number this value holds: the same as [`Value::data`], under the name
    /// [`Var::value`](crate::Var::value) has.
    ///
    /// ```
    /// assert_eq!(scalargrad::Value::new(2.5).value(), 2.5);
    /// ```
    pub fn value(&self) -> f64 {
        self.data()
    }

    /// `selfᵉ` with a value as exponent. Derivatives `e·selfᵉ⁻¹` and `selfᵉ·ln self`.
    ///
    /// ```
    /// use scalargrad::Value;
    /// let (a, b) = (Value::new(2.0), Value::new(3.0));
    /// let y = a.pow_value(&b);
    /// y.backward();
    /// assert_eq!((y.data(), a.grad()), (8.0, 12.0));
    /// assert!((b.grad() - 8.0 * 2f64.ln()).abs() < 1e-12);
    /// ```
    #[track_caller]
    pub fn pow_value(&self, exponent: &Value) -> Value {
        self.binary(exponent, Op::PowVar(0, 1))
    }

    /// The larger of two values (NaN if either is NaN). Derivative 1 for the larger, 0 for
    /// the other; ½ each on a tie (as PyTorch's `maximum`).
    ///
    /// ```
    /// use scalargrad::Value;
    /// let (a, b) = (Value::new(1.0), Value::new(3.0));
    /// let y = a.max(&b);
    /// y.backward();
    /// assert_eq!((y.data(), a.grad(), b.grad()), (3.0, 0.0, 1.0));
    /// ```
    #[track_caller]
    pub fn max(&self, other: &Value) -> Value {
        self.binary(other, Op::Max(0, 1))
    }

    /// The smaller of two values (NaN if either is NaN). Derivative 1 for the smaller, 0 for
    /// the other; ½ each on a tie.
    ///
    /// ```
    /// use scalargrad::Value;
    /// let (a, b) = (Value::new(1.0), Value::new(3.0));
    /// let y = a.min(&b);
    /// y.backward();
    /// assert_eq!((y.data(), a.grad(), b.grad()), (1.0, 1.0, 0.0));
    /// ```
    #[track_caller]
    pub fn min(&self, other: &Value) -> Value {
        self.binary(other, Op::Min(0, 1))
    }

    /// `x₀ + x₁ + …` as one node, summed left to right (the value is bit-for-bit the chain
    /// of binary `+`; the gradients too when no `Value` appears twice). Derivative 1 for
    /// each. An empty sum is a constant 0; one term is that term.
    ///
    /// ```
    /// use scalargrad::Value;
    /// let xs: Vec<Value> = (1..=4).map(|i| Value::new(i as f64)).collect();
    /// let s = Value::sum(&xs);
    /// s.backward();
    /// assert_eq!(s.data(), 10.0);
    /// assert!(xs.iter().all(|x| x.grad() == 1.0));
    /// ```
    #[track_caller]
    pub fn sum<'a>(xs: impl IntoIterator<Item = &'a Value>) -> Value {
        let inputs: SmallVec<[Key; 2]> = xs.into_iter().map(|x| x.key).collect();
        match inputs.len() {
            0 => Value::constant(0.0),
            1 => Value::from_key(with(|a| {
                let n = a.node_mut(inputs[0]);
                n.refs = n.refs.checked_add(1).unwrap_or_else(|| too_many_refs());
                inputs[0]
            })),
            len => Value::from_key(with(|a| {
                let len = u32::try_from(len).unwrap_or_else(|_| too_many_refs());
                a.push(sum_op(len), inputs)
            })),
        }
    }

    /// A neuron's pre-activation `b + w₀x₀ + w₁x₁ + …` as one node, accumulated left to
    /// right from `b` (micrograd's order: the value is bit-for-bit the element-by-element
    /// graph's, and the gradients too when no `Value` appears twice).
    /// Derivatives: 1 for `b`, `xᵢ` for `wᵢ`, `wᵢ` for `xᵢ`.
    ///
    /// # Panics
    /// If `w` and `x` have different lengths.
    ///
    /// `w` and `x` are anything that iterates over `&Value` (slices, `Vec`s, iterators).
    ///
    /// ```
    /// use scalargrad::Value;
    /// let (b, w, x) = (Value::new(0.5), [Value::new(2.0)], [Value::constant(3.0)]);
    /// let y = Value::affine(&b, &w, &x);
    /// y.backward();
    /// assert_eq!((y.data(), b.grad(), w[0].grad()), (6.5, 1.0, 3.0));
    /// ```
    #[track_caller]
    pub fn affine<'a>(
        b: &Value,
        w: impl IntoIterator<Item = &'a Value>,
        x: impl IntoIterator<Item = &'a Value>,
    ) -> Value {
        let mut inputs: SmallVec<[Key; 2]> = smallvec![b.key];
        inputs.extend(w.into_iter().map(|w| w.key));
        let nw = inputs.len() - 1;
        inputs.extend(x.into_iter().map(|x| x.key));
        let nx = inputs.len() - 1 - nw;
        if nw != nx {
            panic!("scalargrad: Value::affine of {nw} weights with {nx} inputs")
        }
        let pairs = nw;
        if pairs == 0 {
            return b.clone();
        }
        let pairs = u32::try_from(pairs).unwrap_or_else(|_| too_many_refs());
        Value::from_key(with(|a| a.push(dot_op(pairs), inputs)))
    }

    /// Graphviz DOT text of this value and everything it was computed from (micrograd's
    /// `draw_dot`): one box per node with its op, data and grad. Iterative walk.
    ///
    /// ```
    /// let x = scalargrad::Value::new(2.0);
    /// let y = (&x * 3.0).relu();
    /// let dot = y.to_dot();
    /// assert!(dot.starts_with("digraph"));
    /// assert_eq!(dot.matches("->").count(), 3); // x, 3 → *; * → relu
    /// ```
    pub fn to_dot(&self) -> String {
        use std::collections::HashMap;
        use std::fmt::Write;
        with(|a| {
            let mut ids: HashMap<Key, usize> = HashMap::new();
            let mut text = String::from(
                "digraph scalargrad {\n  rankdir=LR;\n  node [shape=record, fontname=\"Helvetica\"];\n",
            );
            let mut edges = String::new();
            let mut stack = vec![self.key];
            ids.insert(self.key, 0);
            while let Some(k) = stack.pop() {
                let n = a.node(k);
                let id = ids[&k];
                let kind = match (n.op, n.tracked) {
                    (Op::Leaf, true) => "leaf",
                    (Op::Leaf, false) => "const",
                    (op, _) => op.name(),
                };
                let _ = writeln!(
                    text,
                    "  n{id} [label=\"{{ {kind} | data {:.4} | grad {:.4} }}\"];",
                    n.value, n.grad
                );
                for &c in &n.inputs {
                    let next = ids.len();
                    let cid = *ids.entry(c).or_insert_with(|| {
                        stack.push(c);
                        next
                    });
                    let _ = writeln!(edges, "  n{cid} -> n{id};");
                }
            }
            text.push_str(&edges);
            text.push_str("}\n");
            text
        })
    }
}

/// The elementwise ops of the op list ([`unary_ops!`](crate::unary_ops)) on a `Value`, each
/// recording one node with the same rule as on a [`Var`](crate::Var).
macro_rules! value_unary_ops {
    ($($(#[$doc:meta])* $name:ident $V:ident = $tag:literal [$($dom:tt)*] |$x:ident| $f64:expr;)*) => {
        impl Value {
            $(
                #[doc = concat!("The `", stringify!($name), "` op: the rule of [`Var::",
                    stringify!($name), "`](crate::Var::", stringify!($name),
                    "), on an owned handle.")]
                #[doc = ""]
                #[doc = "```"]
                #[doc = "use scalargrad::{Graph, Value};"]
                #[doc = "let (g, x) = (Graph::new(), Value::new(0.5));"]
                #[doc = "let v = g.var(0.5);"]
                #[doc = concat!("let (y, w) = (x.", stringify!($name), "(), v.",
                    stringify!($name), "());")]
                #[doc = "y.backward();"]
                #[doc = "w.backward();"]
                #[doc = "assert_eq!((y.data(), x.grad()), (w.value(), v.grad()));"]
                #[doc = "```"]
                #[track_caller]
                pub fn $name(&self) -> Value {
                    self.unary(Op::$V(0))
                }
            )*
        }
    };
}

crate::unary_ops!(value_unary_ops);

impl Clone for Value {
    /// A new handle to the same node.
    ///
    /// ```
    /// let x = scalargrad::Value::new(1.0);
    /// let y = x.clone();
    /// y.set_data(2.0);
    /// assert_eq!(x.data(), 2.0);
    /// ```
    #[inline]
    fn clone(&self) -> Value {
        with(|a| {
            let n = a.node_mut(self.key);
            n.refs = n.refs.checked_add(1).unwrap_or_else(|| too_many_refs());
        });
        Value::from_key(self.key)
    }
}

impl Drop for Value {
    #[inline]
    fn drop(&mut self) {
        // During thread exit the arena may already be gone, and with it every node.
        let _ = ARENA.try_with(|a| {
            if let Ok(mut a) = a.try_borrow_mut() {
                a.release(self.key);
            }
        });
    }
}

impl fmt::Debug for Value {
    /// micrograd's repr: `Value(data=…, grad=…)`.
    ///
    /// ```
    /// let x = scalargrad::Value::new(2.0);
    /// assert_eq!(format!("{x:?}"), "Value(data=2, grad=0)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ARENA.try_with(|a| {
            a.try_borrow()
                .ok()
                .and_then(|a| a.nodes.get(self.key).map(|n| (n.value, n.grad)))
        }) {
            Ok(Some((d, g))) => write!(f, "Value(data={d}, grad={g})"),
            _ => f.write_str("Value(<stale>)"),
        }
    }
}

impl Sum for Value {
    /// Sums as one node, like [`Value::sum`].
    ///
    /// ```
    /// use scalargrad::Value;
    /// let s: Value = (1..=3).map(|i| Value::new(i as f64)).sum();
    /// assert_eq!(s.data(), 6.0);
    /// ```
    fn sum<I: Iterator<Item = Value>>(iter: I) -> Value {
        let xs: Vec<Value> = iter.collect();
        Value::sum(&xs)
    }
}

impl<'a> Sum<&'a Value> for Value {
    /// Sums as one node, like [`Value::sum`].
    ///
    /// ```
    /// use scalargrad::Value;
    /// let xs = [Value::new(1.0), Value::new(2.0)];
    /// let s: Value = xs.iter().sum();
    /// assert_eq!(s.data(), 3.0);
    /// ```
    fn sum<I: Iterator<Item = &'a Value>>(iter: I) -> Value {
        Value::sum(iter)
    }
}

/// `+ - * /` for every mix of `Value`, `&Value` and `f64`, and the `∘=` forms.
macro_rules! binary_ops {
    ($($Trait:ident $method:ident $Assign:ident $assign:ident => $op:ident;)*) => {$(
        impl $Trait<&Value> for &Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: &Value) -> Value {
                self.binary(rhs, Op::$op(0, 1))
            }
        }
        impl $Trait<Value> for &Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Value) -> Value {
                self.binary(&rhs, Op::$op(0, 1))
            }
        }
        impl $Trait<&Value> for Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: &Value) -> Value {
                self.binary(rhs, Op::$op(0, 1))
            }
        }
        impl $Trait<Value> for Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Value) -> Value {
                self.binary(&rhs, Op::$op(0, 1))
            }
        }
        impl $Trait<f64> for &Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: f64) -> Value {
                self.with_constant(rhs, false, Op::$op(0, 1))
            }
        }
        impl $Trait<f64> for Value {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: f64) -> Value {
                self.with_constant(rhs, false, Op::$op(0, 1))
            }
        }
        impl $Trait<&Value> for f64 {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: &Value) -> Value {
                rhs.with_constant(self, true, Op::$op(0, 1))
            }
        }
        impl $Trait<Value> for f64 {
            type Output = Value;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Value) -> Value {
                rhs.with_constant(self, true, Op::$op(0, 1))
            }
        }
        impl $Assign<&Value> for Value {
            #[inline]
            #[track_caller]
            fn $assign(&mut self, rhs: &Value) {
                *self = self.binary(rhs, Op::$op(0, 1));
            }
        }
        impl $Assign<Value> for Value {
            #[inline]
            #[track_caller]
            fn $assign(&mut self, rhs: Value) {
                *self = self.binary(&rhs, Op::$op(0, 1));
            }
        }
        impl $Assign<f64> for Value {
            #[inline]
            #[track_caller]
            fn $assign(&mut self, rhs: f64) {
                *self = self.with_constant(rhs, false, Op::$op(0, 1));
            }
        }
    )*};
}

binary_ops! {
    Add add AddAssign add_assign => Add;
    Sub sub SubAssign sub_assign => Sub;
    Mul mul MulAssign mul_assign => Mul;
    Div div DivAssign div_assign => Div;
}

impl Neg for &Value {
    type Output = Value;
    /// `−x` (one exact node). Derivative −1.
    #[inline]
    #[track_caller]
    fn neg(self) -> Value {
        self.unary(Op::Neg(0))
    }
}

impl Neg for Value {
    type Output = Value;
    /// `−x` (one exact node). Derivative −1.
    #[inline]
    #[track_caller]
    fn neg(self) -> Value {
        self.unary(Op::Neg(0))
    }
}

#[cfg(test)]
mod tests {
    use super::arena::Node;
    use super::*;

    #[test]
    fn node_size() {
        // the figure the module docs quote (slotmap adds a slot index and version per node)
        assert_eq!(std::mem::size_of::<Node>(), 104);
    }

    #[test]
    fn a_stale_key_panics_with_a_sentence() {
        let x = Value::new(1.0);
        // Free the node behind the handle's back: what a key from a dead arena looks like.
        with(|a| {
            a.nodes.remove(x.key);
        });
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| x.data()))
            .expect_err("a stale key must panic");
        let msg = err
            .downcast_ref::<&str>()
            .copied()
            .unwrap_or_default()
            .to_owned()
            + err
                .downcast_ref::<String>()
                .map(String::as_str)
                .unwrap_or_default();
        assert!(msg.contains("stale"), "{msg}");
        // the reused slot has a new generation: the old key still does not read it
        let y = Value::new(2.0);
        assert!(with(|a| a.nodes.get(x.key).is_none()));
        assert_eq!(y.data(), 2.0);
        drop(x); // releasing a stale key is a no-op
        assert_eq!(y.data(), 2.0);
    }
}
