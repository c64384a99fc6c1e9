//! [`Value`]: a scalar that owns its node, micrograd-style — no graph object, no lifetime.
//!
//! # When to pick `Value`, when [`Graph`](crate::Graph)
//! | | [`Value`] | [`Graph`](crate::Graph) + [`Var`](crate::Var) |
//! |---|---|---|
//! | handle | `Clone`, owns a reference count | `Copy`, borrows the graph |
//! | lives | until the last handle (and every node using it) is dropped | until the graph is dropped or rewound |
//! | fits | learning, long-lived models kept in structs, language bindings (the Python package) | speed, bulk training (`mark`/`rewind`, `recompute`, fused layers), custom ops |
//! | W2 chain, record + backward | 115 ns/node | 10–14 ns/node |
//! | W3 wide, record + backward | 127 ns/node | 7–11 ns/node |
//!
//! (Medians of `cargo bench --bench value`, which times both on the workloads of
//! `benches/WORKLOADS.md` at N = 10⁵ in one run, and of the `Graph`-only benches `w2_chain`
//! and `w3_wide` in the same session (2026-11-30), on a shared 2-core machine; see the
//! README section "Value". A `Value` op is a thread-local lookup, a slotmap insert and reference-count
//! updates on 104-byte nodes, and `backward` first searches the graph for a topological
//! order; a `Graph` op is one append to a dense tape whose creation order is already
//! topological.)
//!
//! # Design
//! - **Arena.** Nodes live in a per-thread [`slotmap`] arena (a `DenseSlotMap`: the nodes
//!   themselves sit in one dense array, so a graph built in one go is contiguous in memory,
//!   and a free moves the last node into the hole; with the plain `SlotMap`, reuse of freed
//!   slots in free-list order scattered later graphs and made W2 up to 8× slower after a few
//!   rounds). A [`Value`] holds a generational key; nodes are freed in any order, their
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
//! holds: the rules are written over [`Scalar`], which is `Copy`, and a
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

use std::cell::RefCell;
use std::fmt;
use std::iter::Sum;
use std::marker::PhantomData;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use slotmap::{new_key_type, DenseSlotMap as SlotMap};
use smallvec::{smallvec, SmallVec};

use crate::op::{Op, Pull, Span, Wants};
use crate::Scalar;

// How a `Value` node spells the n-ary and constant-exponent ops of `op.rs`: its inputs are
// numbered 0, 1, … within the node, and these few functions are the only code here that knows
// how `Op` lays out operands (an n-ary op's positions, a `Pow`'s exponent). If `op.rs` changes
// that layout, only they change.

/// `xᵏ` over input 0 (the exponent sits in the op itself).
fn pow_op(k: f64) -> Op {
    Op::Pow(0, k)
}

/// `x₀ + … + xₙ₋₁` over inputs `0..n` (a run of input numbers).
fn sum_op(n: u32) -> Op {
    Op::Sum {
        xs: Span::Run(0),
        len: n,
    }
}

/// `b + w₀x₀ + …` over inputs numbered `b, w₀, …, wₙ₋₁, x₀, …, xₙ₋₁` (`0..1 + 2n`): the
/// weights and the inputs are two runs of input numbers.
fn dot_op(pairs: u32) -> Op {
    Op::Dot {
        w: Span::Run(1),
        x: Span::Run(1 + pairs),
        len: pairs,
        bias: Some(0),
        // Only the f64 tape pass reads these bits; a `Value` pass asks `wants` per input.
        wants: Wants(Wants::W_ANY | Wants::X_ANY),
    }
}

new_key_type! {
    /// A generational key into the per-thread arena.
    struct Key;
}

/// One node: its value and gradient, the op that computed it with its inputs numbered
/// `0..inputs.len()`, and bookkeeping.
struct Node {
    value: f64,
    grad: f64,
    /// This reverse pass's gradient (scratch: set to 0 when the pass first visits the node).
    adj: f64,
    op: Op,
    /// Handles to this node plus uses of it as an input by live nodes.
    refs: u32,
    /// The epoch of the last reverse pass that visited this node (scratch).
    stamp: u32,
    /// Depends on a [`Value::new`] leaf, so it wants a gradient.
    tracked: bool,
    inputs: SmallVec<[Key; 2]>,
}

/// The per-thread arena and the reverse pass's reusable scratch.
#[derive(Default)]
struct Arena {
    nodes: SlotMap<Key, Node>,
    epoch: u32,
    order: Vec<Key>,
    stack: Vec<(Key, u32)>,
    free: Vec<Key>,
    /// Nodes recorded by a running [`Value::grad`], each holding one reference until it ends.
    scope: Vec<Key>,
}

thread_local! {
    static ARENA: RefCell<Arena> = RefCell::new(Arena::default());
}

/// Runs `f` on this thread's arena.
#[inline(always)]
#[track_caller]
fn with<R>(f: impl FnOnce(&mut Arena) -> R) -> R {
    ARENA.with(|a| f(&mut a.borrow_mut()))
}

#[cold]
#[inline(never)]
#[track_caller]
fn stale() -> ! {
    panic!(
        "scalargrad: this Value's node is gone from its thread's arena (its key is stale); \
         a Value is only valid on the thread that created it, while that thread runs"
    )
}

#[cold]
#[inline(never)]
fn too_many_refs() -> ! {
    panic!("scalargrad: more than 4,294,967,295 handles or uses of one Value")
}

impl Arena {
    #[inline(always)]
    #[track_caller]
    fn node(&self, k: Key) -> &Node {
        self.nodes.get(k).unwrap_or_else(|| stale())
    }

    #[inline(always)]
    #[track_caller]
    fn node_mut(&mut self, k: Key) -> &mut Node {
        self.nodes.get_mut(k).unwrap_or_else(|| stale())
    }

    /// A leaf with no handle yet (`refs` 0: the caller takes the first reference).
    #[inline(always)]
    fn leaf(&mut self, value: f64, tracked: bool) -> Key {
        self.nodes.insert(Node {
            value,
            grad: 0.0,
            adj: 0.0,
            op: Op::Leaf,
            refs: 0,
            stamp: 0,
            tracked,
            inputs: SmallVec::new(),
        })
    }

    /// An op node over `inputs` (each gains a reference), holding one reference for its handle.
    #[inline(always)]
    #[track_caller]
    fn push(&mut self, op: Op, inputs: SmallVec<[Key; 2]>) -> Key {
        let mut tracked = false;
        // The inputs' values by input number: one lookup per input for all three needs.
        let mut values: SmallVec<[f64; 4]> = SmallVec::with_capacity(inputs.len());
        for &k in &inputs {
            let n = self.node_mut(k);
            n.refs = n.refs.checked_add(1).unwrap_or_else(|| too_many_refs());
            tracked |= n.tracked;
            values.push(n.value);
        }
        let value = op.eval(&values, &[], &[]);
        self.nodes.insert(Node {
            value,
            grad: 0.0,
            adj: 0.0,
            op,
            refs: 1,
            stamp: 0,
            tracked,
            inputs,
        })
    }

    /// Drops one reference to `k`; frees every node whose count reaches 0, and then its
    /// inputs' references, from a worklist.
    fn release(&mut self, k: Key) {
        let mut work = std::mem::take(&mut self.free);
        work.push(k);
        while let Some(k) = work.pop() {
            let Some(n) = self.nodes.get_mut(k) else {
                continue;
            };
            n.refs -= 1;
            if n.refs == 0 {
                if let Some(n) = self.nodes.remove(k) {
                    work.extend_from_slice(&n.inputs);
                }
            }
        }
        self.free = work;
        if self.nodes.is_empty() && self.scope.is_empty() {
            // No node is alive, so no key is either (every handle holds its node): start a
            // fresh map, whose slots are handed out in order again (after many frees the
            // free list hands them out scattered, and every lookup misses the cache).
            self.nodes = SlotMap::with_capacity_and_key(self.nodes.capacity());
        }
    }

    /// Fills `order` with the tracked nodes `root` was computed from, inputs before the
    /// nodes that use them (the postorder of an iterative depth-first search: explicit
    /// stack, no recursion), and sets their `adj` to 0. Its reverse is a topological order
    /// from the root.
    fn topo_order(&mut self, root: Key) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.nodes.values_mut().for_each(|n| n.stamp = 0);
            self.epoch = 1;
        }
        let epoch = self.epoch;
        let Arena {
            nodes,
            order,
            stack,
            ..
        } = self;
        order.clear();
        stack.clear();
        {
            let r = &mut nodes[root];
            r.stamp = epoch;
            r.adj = 0.0;
        }
        stack.push((root, 0));
        while let Some(top) = stack.last_mut() {
            let (k, i) = *top;
            if let Some(&c) = nodes[k].inputs.get(i as usize) {
                top.1 += 1;
                let c_node = &mut nodes[c];
                if c_node.tracked && c_node.stamp != epoch {
                    c_node.stamp = epoch;
                    c_node.adj = 0.0;
                    stack.push((c, 0));
                }
            } else {
                order.push(k);
                stack.pop();
            }
        }
        debug_assert!(
            order.len() > 100_000 || {
                let pos: std::collections::HashMap<Key, usize> =
                    order.iter().enumerate().map(|(i, &k)| (k, i)).collect();
                order.iter().enumerate().all(|(i, &k)| {
                    nodes[k]
                        .inputs
                        .iter()
                        .all(|c| !matches!(pos.get(c), Some(&j) if j >= i))
                })
            },
            "inputs come before the nodes that use them"
        );
    }

    /// The reverse pass from `root` (see the module docs for its semantics).
    fn backward(&mut self, root: Key) {
        if !self.node(root).tracked {
            return;
        }
        self.topo_order(root);
        let Arena { nodes, order, .. } = self;
        nodes[root].adj = 1.0;
        for &k in order.iter().rev() {
            let n = &mut nodes[k];
            let (op, y, g) = (n.op, n.value, n.adj);
            n.grad += g;
            if matches!(op, Op::Leaf) {
                continue;
            }
            // Taken out while its inputs are written to, then put back.
            let inputs = std::mem::take(&mut n.inputs);
            let mut pull = LocalPull {
                nodes,
                inputs: &inputs,
            };
            op.pullback(&[], y, g, &mut pull);
            nodes[k].inputs = inputs;
        }
    }
}

/// [`Pull`] on numbers for one node, whose inputs are numbered `0..inputs.len()`.
struct LocalPull<'a> {
    nodes: &'a mut SlotMap<Key, Node>,
    inputs: &'a [Key],
}

impl Pull<f64> for LocalPull<'_> {
    #[inline(always)]
    fn input(&self, p: u32) -> f64 {
        self.nodes[self.inputs[p as usize]].value
    }
    #[inline(always)]
    fn wants(&self, p: u32) -> bool {
        self.nodes[self.inputs[p as usize]].tracked
    }
    #[inline(always)]
    fn give(&mut self, p: u32, d: f64) {
        self.nodes[self.inputs[p as usize]].adj += d;
    }
    fn custom_derivative(&self, _: u32, _: f64, _: f64) -> f64 {
        unreachable!("a Value never records a custom op")
    }
    fn custom_partial(&self, _: u32, _: usize, _: &[f64], _: f64) -> f64 {
        unreachable!("a Value never records a custom op")
    }
}

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
    pub fn pow(&self, k: f64) -> Value {
        Value::from_key(with(|a| a.push(pow_op(k), smallvec![self.key])))
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

    /// `eˣ`. Derivative `eˣ` (the output).
    ///
    /// ```
    /// let x = scalargrad::Value::new(0.0);
    /// let y = x.exp();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (1.0, 1.0));
    /// ```
    #[track_caller]
    pub fn exp(&self) -> Value {
        self.unary(Op::Exp(0))
    }

    /// Natural logarithm (Python's `log()`). Derivative `1/x`; NaN/−inf outside the domain.
    ///
    /// ```
    /// let x = scalargrad::Value::new(4.0);
    /// x.ln().backward();
    /// assert_eq!(x.grad(), 0.25);
    /// ```
    #[track_caller]
    pub fn ln(&self) -> Value {
        self.unary(Op::Ln(0))
    }

    /// Logistic sigmoid `1/(1+e⁻ˣ)`, stable. Derivative `y(1 − y)` from the output.
    ///
    /// ```
    /// let x = scalargrad::Value::new(0.0);
    /// let y = x.sigmoid();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (0.5, 0.25));
    /// ```
    #[track_caller]
    pub fn sigmoid(&self) -> Value {
        self.unary(Op::Sigmoid(0))
    }

    /// `tanh x`. Derivative `1 − y²` from the output.
    ///
    /// ```
    /// let x = scalargrad::Value::new(0.0);
    /// x.tanh().backward();
    /// assert_eq!(x.grad(), 1.0);
    /// ```
    #[track_caller]
    pub fn tanh(&self) -> Value {
        self.unary(Op::Tanh(0))
    }

    /// `max(x, 0)`. Derivative 0 for `x ≤ 0` (relu'(0) = 0, as PyTorch), 1 otherwise.
    ///
    /// ```
    /// let x = scalargrad::Value::new(-1.0);
    /// let y = x.relu();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (0.0, 0.0));
    /// ```
    #[track_caller]
    pub fn relu(&self) -> Value {
        self.unary(Op::Relu(0))
    }

    /// `sin x`. Derivative `cos x`.
    ///
    /// ```
    /// let x = scalargrad::Value::new(0.7);
    /// let y = x.sin();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (0.7_f64.sin(), 0.7_f64.cos()));
    /// ```
    #[track_caller]
    pub fn sin(&self) -> Value {
        self.unary(Op::Sin(0))
    }

    /// `cos x`. Derivative `−sin x`.
    ///
    /// ```
    /// let x = scalargrad::Value::new(0.7);
    /// x.cos().backward();
    /// assert_eq!(x.grad(), -(0.7_f64.sin()));
    /// ```
    #[track_caller]
    pub fn cos(&self) -> Value {
        self.unary(Op::Cos(0))
    }

    /// `√x`. Derivative `1/(2√x)` from the output (+inf at 0); NaN below 0.
    ///
    /// ```
    /// let x = scalargrad::Value::new(4.0);
    /// let y = x.sqrt();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (2.0, 0.25));
    /// ```
    #[track_caller]
    pub fn sqrt(&self) -> Value {
        self.unary(Op::Sqrt(0))
    }

    /// `|x|`. Derivative `sign x`, 0 at 0 (as PyTorch).
    ///
    /// ```
    /// let x = scalargrad::Value::new(-2.0);
    /// let y = x.abs();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (2.0, -1.0));
    /// ```
    #[track_caller]
    pub fn abs(&self) -> Value {
        self.unary(Op::Abs(0))
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

    /// `ln(1 + x)`, exact for tiny `x`. Derivative `1/(1 + x)`.
    ///
    /// ```
    /// let x = scalargrad::Value::new(1e-20);
    /// let y = x.log1p();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (1e-20, 1.0));
    /// ```
    #[track_caller]
    pub fn log1p(&self) -> Value {
        self.unary(Op::Log1p(0))
    }

    /// `ln(1 + eˣ)`, without overflow. Derivative `σ(x)`.
    ///
    /// ```
    /// let x = scalargrad::Value::new(0.0);
    /// let y = x.softplus();
    /// y.backward();
    /// assert_eq!((y.data(), x.grad()), (2f64.ln(), 0.5));
    /// ```
    #[track_caller]
    pub fn softplus(&self) -> Value {
        self.unary(Op::Softplus(0))
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

    /// The gradient of `self` with respect to each of `xs`, *as new `Value`s*: the reverse
    /// pass is recorded with the same ops and the same derivative rules (those of
    /// [`op`](crate::op), run on a recording scalar), so the result can be differentiated
    /// again, to any order. No [`grad`](Value::grad) is touched. An `x` that `self` does
    /// not depend on gets a constant 0. Only nodes on a path from one of `xs` record
    /// anything; recorded nodes that the results do not use are freed when it returns.
    ///
    /// ```
    /// let x = scalargrad::Value::new(2.0);
    /// let y = x.pow(5.0);
    /// let d1 = y.grad_wrt(&[&x]).remove(0); // 5x⁴
    /// let d2 = d1.grad_wrt(&[&x]).remove(0); // 20x³
    /// let d3 = d2.grad_wrt(&[&x]).remove(0); // 60x²
    /// assert_eq!((d1.data(), d2.data(), d3.data()), (80.0, 160.0, 240.0));
    /// assert_eq!(x.grad(), 0.0); // untouched
    /// ```
    #[track_caller]
    pub fn grad_wrt(&self, xs: &[&Value]) -> Vec<Value> {
        use std::collections::{HashMap, HashSet};
        let root = self.key;
        // The tracked ancestors in topological order, and which of them a listed x reaches.
        let (order, leads) = with(|a| {
            let mut leads: HashSet<Key> = xs.iter().map(|x| x.key).collect();
            if !a.node(root).tracked {
                return (Vec::new(), leads);
            }
            a.topo_order(root);
            for &k in &a.order {
                let n = &a.nodes[k];
                if n.inputs.iter().any(|c| leads.contains(c)) {
                    leads.insert(k);
                }
            }
            (a.order.clone(), leads)
        });
        let scope = Scope(with(|a| a.scope.len()));
        let mut adjoint: HashMap<Key, Rec> = HashMap::new();
        if leads.contains(&root) && !order.is_empty() {
            adjoint.insert(root, Rec::constant(1.0));
        }
        for &k in order.iter().rev() {
            let Some(&g) = adjoint.get(&k) else { continue };
            let (op, inputs) = with(|a| {
                let n = &a.nodes[k];
                (n.op, n.inputs.clone())
            });
            if matches!(op, Op::Leaf) {
                continue;
            }
            let mut pull = RecPull {
                inputs: &inputs,
                adjoint: &mut adjoint,
                leads: &leads,
            };
            op.pullback(&[], Rec(k), g, &mut pull);
        }
        let out = xs
            .iter()
            .map(|x| match adjoint.get(&x.key) {
                Some(r) => Value::from_key(with(|a| {
                    let n = a.node_mut(r.0);
                    n.refs = n.refs.checked_add(1).unwrap_or_else(|| too_many_refs());
                    r.0
                })),
                None => Value::constant(0.0),
            })
            .collect();
        drop(scope);
        out
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

/// The nodes a [`Value::grad_wrt`] recorded from position `.0` of the arena's scope on:
/// dropping it (also when a panic unwinds) releases the reference each one holds.
struct Scope(usize);

impl Drop for Scope {
    fn drop(&mut self) {
        let _ = ARENA.try_with(|a| {
            if let Ok(mut a) = a.try_borrow_mut() {
                let keys: Vec<Key> = a.scope.drain(self.0..).collect();
                keys.into_iter().for_each(|k| a.release(k));
            }
        });
    }
}

/// A recording scalar for [`Value::grad_wrt`]: `Copy`, as the rules' [`Scalar`] needs,
/// because its node's reference is held by the running `grad_wrt`'s [`Scope`], not by it.
#[derive(Clone, Copy, Debug)]
struct Rec(Key);

impl Rec {
    #[inline]
    fn record(op: Op, inputs: SmallVec<[Key; 2]>) -> Rec {
        with(|a| {
            let k = a.push(op, inputs);
            a.scope.push(k);
            Rec(k)
        })
    }

    #[inline]
    fn constant(c: f64) -> Rec {
        with(|a| {
            let k = a.leaf(c, false);
            a.nodes[k].refs = 1;
            a.scope.push(k);
            Rec(k)
        })
    }

    #[inline]
    fn unary(self, op: Op) -> Rec {
        Rec::record(op, smallvec![self.0])
    }
}

/// [`Pull`] on recording scalars: every derivative becomes nodes, accumulated with `+`.
struct RecPull<'a> {
    inputs: &'a [Key],
    adjoint: &'a mut std::collections::HashMap<Key, Rec>,
    leads: &'a std::collections::HashSet<Key>,
}

impl Pull<Rec> for RecPull<'_> {
    fn input(&self, p: u32) -> Rec {
        Rec(self.inputs[p as usize])
    }
    fn wants(&self, p: u32) -> bool {
        let k = self.inputs[p as usize];
        self.leads.contains(&k) && with(|a| a.node(k).tracked)
    }
    fn give(&mut self, p: u32, d: Rec) {
        let k = self.inputs[p as usize];
        let sum = match self.adjoint.get(&k) {
            Some(&acc) => acc + d,
            None => d,
        };
        self.adjoint.insert(k, sum);
    }
    fn custom_derivative(&self, _: u32, _: Rec, _: Rec) -> Rec {
        unreachable!("a Value never records a custom op")
    }
    fn custom_partial(&self, _: u32, _: usize, _: &[Rec], _: Rec) -> Rec {
        unreachable!("a Value never records a custom op")
    }
}

/// `Rec ∘ Rec` and `Rec ∘ f64` for the rules.
macro_rules! rec_ops {
    ($($Trait:ident $method:ident => $op:ident;)*) => {$(
        impl $Trait for Rec {
            type Output = Rec;
            fn $method(self, rhs: Rec) -> Rec {
                Rec::record(Op::$op(0, 1), smallvec![self.0, rhs.0])
            }
        }
        impl $Trait<f64> for Rec {
            type Output = Rec;
            fn $method(self, rhs: f64) -> Rec {
                $Trait::$method(self, Rec::constant(rhs))
            }
        }
    )*};
}

rec_ops! {
    Add add => Add;
    Sub sub => Sub;
    Mul mul => Mul;
    Div div => Div;
}

impl Neg for Rec {
    type Output = Rec;
    fn neg(self) -> Rec {
        self.unary(Op::Neg(0))
    }
}

impl Scalar for Rec {
    fn value(self) -> f64 {
        with(|a| a.node(self.0).value)
    }
    fn lift(self, c: f64) -> Rec {
        Rec::constant(c)
    }
    fn exp(self) -> Rec {
        self.unary(Op::Exp(0))
    }
    fn ln(self) -> Rec {
        self.unary(Op::Ln(0))
    }
    fn powf(self, k: f64) -> Rec {
        Rec::record(pow_op(k), smallvec![self.0])
    }
    fn pow_scalar(self, e: Rec) -> Rec {
        Rec::record(Op::PowVar(0, 1), smallvec![self.0, e.0])
    }
    fn sigmoid(self) -> Rec {
        self.unary(Op::Sigmoid(0))
    }
    fn tanh(self) -> Rec {
        self.unary(Op::Tanh(0))
    }
    fn relu(self) -> Rec {
        self.unary(Op::Relu(0))
    }
    fn abs(self) -> Rec {
        self.unary(Op::Abs(0))
    }
    fn sin(self) -> Rec {
        self.unary(Op::Sin(0))
    }
    fn cos(self) -> Rec {
        self.unary(Op::Cos(0))
    }
    fn sqrt(self) -> Rec {
        self.unary(Op::Sqrt(0))
    }
    fn log1p(self) -> Rec {
        self.unary(Op::Log1p(0))
    }
    fn softplus(self) -> Rec {
        self.unary(Op::Softplus(0))
    }
    fn max(self, other: Rec) -> Rec {
        Rec::record(Op::Max(0, 1), smallvec![self.0, other.0])
    }
    fn min(self, other: Rec) -> Rec {
        Rec::record(Op::Min(0, 1), smallvec![self.0, other.0])
    }
}

#[cfg(test)]
mod tests {
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
