//! [`Value`]: a scalar that owns its node, micrograd-style — no graph object, no lifetime.
//!
//! # When to pick `Value`, when [`Graph`](crate::Graph)
//! | | [`Value`] | [`Graph`](crate::Graph) + [`Var`](crate::Var) |
//! |---|---|---|
//! | handle | `Clone`, owns a reference count | `Copy`, borrows the graph |
//! | lives | until the last handle (and every node using it) is dropped | until the graph is dropped or rewound |
//! | fits | learning, long-lived models kept in structs, language bindings (the Python package) | speed, bulk training (`mark`/`rewind`, `recompute`, fused layers), custom ops |
//!
//! Speed: on the same code, `Graph` records, differentiates and frees 1.4–1.9× faster
//! (`docs/performance.md`, with the measurements and the command).
//!
//! # Where things are
//! - this file: the type, its handle (value, gradient, labels, `backward`, pictures) and
//!   the counts it keeps (`Clone`, `Drop`);
//! - `ops.rs`: one node per op (the op list, `pow`, `max`, …, the operators, `Sum`), and how
//!   an op is recorded;
//! - `nary.rs`: ops of many values (`sum`, `affine`, `dense`), generic code on values
//!   (`apply_graph_fn`), gradients as values (`grad_wrt`);
//! - `owner.rs`: the thread's graph and the handle counts that free its nodes.
//!
//! # Design
//! - **On a tape.** Every `Value` is a node of one [`Graph`](crate::Graph) per thread
//!   (`owner.rs`), recorded, differentiated and pictured by the same code as a
//!   [`Var`](crate::Var): the same rules, the same reverse pass, the same fast paths. A
//!   `Value` holds its node's position. Because the graph is per thread, `Value` is
//!   neither `Send` nor `Sync`:
//!
//!   ```compile_fail
//!   fn needs_send<T: Send>(_: T) {}
//!   needs_send(scalargrad::Value::new(1.0)); // error: `*const ()` cannot be sent between threads
//!   ```
//! - **Handle counts.** A node counts the handles to it. Nodes leave the tape from its top,
//!   and the topmost live node always has a handle (a node kept alive by a consumer has
//!   that consumer above it), so dropping the last handle to the top node cuts the tape
//!   down to the highest node still held: dropping the end of a 1,000,000-deep chain frees
//!   the chain in one cut, and a loop whose steps' values all die reuses the same
//!   positions. Dropping any other handle is one decrement; a node nothing holds waits
//!   under a held one. [`Value::live_nodes`] works out which nodes are still live (held, or
//!   used by a live node) when asked.
//! - **micrograd's `.data`.** [`Value::set_data`] changes a node and nothing computed from
//!   it (as micrograd): there is no `recompute` and no stale-value check here.
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
//! [`Value::grad_wrt`] records the gradient as new `Value`s ([`Graph::grad`](crate::Graph::grad)
//! on the thread's graph); differentiate the result again for second and higher
//! derivatives.
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

mod nary;
mod ops;
mod owner;

use std::fmt;
use std::marker::PhantomData;

use crate::Svg;
use owner::{release, with};

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
    /// The node's position on the thread's graph (live while this handle is).
    pos: u32,
    /// The arena is per thread: not `Send`, not `Sync`.
    _local: PhantomData<*const ()>,
}

impl Value {
    /// A handle to the node at `pos`, whose count already includes it.
    #[inline(always)]
    fn from_pos(pos: u32) -> Value {
        Value {
            pos,
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
        Value::from_pos(with(|o| o.leaf(data, true)))
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
        Value::from_pos(with(|o| o.leaf(data, false)))
    }

    /// The value (micrograd's `.data`).
    ///
    /// # Panics
    /// Never: a handle keeps its node alive.
    ///
    /// ```
    /// let x = scalargrad::Value::new(1.5);
    /// assert_eq!((&x * 2.0).data(), 3.0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn data(&self) -> f64 {
        with(|o| o.graph.tape().value(self.pos as usize))
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
        with(|o| o.graph.tape().grad(self.pos as usize))
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
        with(|o| o.graph.tape_mut().overwrite_value(self.pos as usize, data))
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
        with(|o| o.graph.tape_mut().set_grad(self.pos as usize, grad))
    }

    /// Gives the node a label that [`Value::to_dot`] and [`Value::to_svg`] show (the
    /// lecture's `label`), as [`Var::named`](crate::Var::named) does; returns the same handle.
    ///
    /// ```
    /// let a = scalargrad::Value::new(2.0).named("a");
    /// assert_eq!(a.name().as_deref(), Some("a"));
    /// assert!((&a * 3.0).to_svg().to_string().contains(">a<"));
    /// ```
    pub fn named(self, name: &str) -> Value {
        self.set_name(name);
        self
    }

    /// Sets the node's label (see [`Value::named`]).
    ///
    /// ```
    /// let a = scalargrad::Value::new(2.0);
    /// a.set_name("a");
    /// assert!(a.to_dot().contains("a"));
    /// ```
    pub fn set_name(&self, name: &str) {
        with(|o| o.graph.tape_mut().set_name(self.pos as usize, name))
    }

    /// The label given by [`Value::named`] or [`Value::set_name`], if any.
    ///
    /// ```
    /// assert_eq!(scalargrad::Value::new(1.0).name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        with(|o| o.graph.tape().name(self.pos as usize).map(str::to_owned))
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
        with(|o| o.graph.tape().tracked(self.pos as usize))
    }

    /// The number of nodes alive in this thread's arena (every `Value` and every node a live
    /// one was computed from): what stays flat in a training loop. Worked out when asked,
    /// with one walk down the thread's graph (its time grows with [`Value::graph_len`]).
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
        with(|o| o.live())
    }

    /// The number of positions this thread's graph holds: the live nodes, and the freed
    /// ones that still sit under a live one (nodes leave the tape from its top). What the
    /// memory of `Value`s is proportional to (28 bytes a position).
    ///
    /// ```
    /// use scalargrad::Value;
    /// let before = Value::graph_len();
    /// let x = Value::new(1.0);
    /// let y = (&x + 1.0).tanh();
    /// let z = &x * 2.0;
    /// drop(y); // under z: waits
    /// assert_eq!(Value::graph_len(), before + 6);
    /// drop(z); // the top: cut, and the dead nodes below with it
    /// assert_eq!(Value::graph_len(), before + 1);
    /// ```
    pub fn graph_len() -> usize {
        with(|o| o.graph.len())
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
        with(|o| crate::backward::reverse_pass(&mut o.graph.tape_mut(), self.pos as usize))
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

    /// Graphviz DOT text of this value and everything it was computed from (micrograd's
    /// `draw_dot`): the same picture as [`Graph::to_dot`](crate::Graph::to_dot), one box per
    /// node with its op, value and gradient.
    ///
    /// ```
    /// let x = scalargrad::Value::new(2.0);
    /// let y = (&x * 3.0).relu();
    /// let dot = y.to_dot();
    /// assert!(dot.starts_with("digraph"));
    /// assert_eq!(dot.matches("->").count(), 3); // x, 3 → *; * → relu
    /// ```
    pub fn to_dot(&self) -> String {
        with(|o| o.graph.to_dot(o.var(self.pos)).to_string())
    }

    /// An SVG picture of this value and everything it was computed from, drawn in Rust: the
    /// same picture as [`Graph::to_svg`](crate::Graph::to_svg).
    ///
    /// ```
    /// let x = scalargrad::Value::new(2.0);
    /// let y = (&x * 3.0).relu();
    /// y.backward();
    /// let svg = y.to_svg().to_string();
    /// assert!(svg.starts_with("<svg") && svg.contains("relu"));
    /// ```
    pub fn to_svg(&self) -> Svg {
        with(|o| o.graph.to_svg(o.var(self.pos)))
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
        with(|o| o.retain(self.pos));
        Value::from_pos(self.pos)
    }
}

impl Drop for Value {
    #[inline]
    fn drop(&mut self) {
        // during the thread's exit its graph may be gone, and with it every node
        release(self.pos);
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
        let read = |o: &owner::Owner| {
            let t = o.graph.tape();
            (t.value(self.pos as usize), t.grad(self.pos as usize))
        };
        let (d, g) = with(read);
        write!(f, "Value(data={d}, grad={g})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `hypot` as a custom op of two inputs (an op with an operand list of its own).
    struct Hypot;

    impl crate::custom::NaryFn for Hypot {
        fn name(&self) -> &str {
            "hypot"
        }
        fn arity(&self) -> usize {
            2
        }
        fn value(&self, x: &[f64]) -> f64 {
            x[0].hypot(x[1])
        }
        fn partial<S: crate::Scalar>(&self, i: usize, x: &[S], y: S) -> S {
            x[i] / y
        }
    }

    #[test]
    fn a_value_is_a_position() {
        assert_eq!(std::mem::size_of::<Value>(), 4);
    }

    #[test]
    fn a_cut_gives_back_side_table_entries_reading_words_up_to_the_first_freed_one() {
        let lengths = || with(|o| o.graph.tape().table_lengths());
        // (each test runs on a thread of its own: this graph's side table starts empty)
        let x = Value::new(2.0);
        let y = (&x * 3.0).tanh(); // packed nodes only: a constant, `*`, tanh
        crate::fast::reset();
        drop(y);
        assert_eq!(crate::fast::taken().cut_words_read, 0);
        assert_eq!(lengths(), (0, 0));
        let kept = x.pow(2.5); // one entry
        let mid = lengths();
        assert_eq!(mid, (1, 0));
        // packed nodes alone on top of an entry: the cut reads all their words, finds none
        let y = (&x * 3.0).tanh();
        crate::fast::reset();
        drop(y);
        let read = if cfg!(debug_assertions) { 3 } else { 0 };
        assert_eq!(
            (crate::fast::taken().cut_words_read, lengths()),
            (read, mid)
        );
        let y = (&x * 3.0).tanh(); // three packed nodes
        let z = y.pow(1.5); // an entry
        let s = Value::sum([&z, &kept, &y]); // an entry and three operands
        assert_eq!(lengths(), (3, 3));
        assert_eq!(
            s.data(),
            (6f64.tanh()).powf(1.5) + 2f64.powf(2.5) + 6f64.tanh()
        );
        crate::fast::reset();
        // all of them at `s`'s drop, in one cut that reads the three packed nodes' words,
        // then `z`'s, the first with an entry
        drop((y, z, s));
        assert_eq!(
            crate::fast::taken().cut_words_read,
            if cfg!(debug_assertions) { 4 } else { 0 }
        );
        assert_eq!(lengths(), mid);
        drop((kept, x));
        assert_eq!(lengths(), (0, 0));
        // dots whose weights or inputs are lists (not runs): their entry and lists go too
        let (a, b) = (Value::new(1.0), Value::new(2.0));
        // (inputs the same handles as the weights: one list, named twice)
        let both = Value::affine(&a, [&b, &a], [&b, &a]);
        assert_eq!((lengths(), both.data()), ((1, 2), 1.0 + 4.0 + 1.0));
        drop(both);
        let one = Value::affine(&a, [&a, &b], [&b, &a]);
        assert_eq!((lengths(), one.data()), ((1, 2), 1.0 + 2.0 + 2.0));
        drop(one);
        assert_eq!(lengths(), (0, 0));
        // a custom op of several inputs: its operand list goes too
        let h = Value::apply_graph_fn_n(&[&a, &b], |v| v[0].graph().custom_nary(Hypot).apply(v));
        assert_eq!((lengths(), h.data()), ((1, 3), 5f64.sqrt()));
        drop(h);
        assert_eq!(lengths(), (0, 0));
    }

    #[test]
    fn a_cut_gives_back_the_head_of_layer_rows() {
        use crate::nn::Activation;
        let lengths = || with(|o| o.graph.tape().table_lengths());
        let x = [Value::constant(1.0), Value::constant(2.0)];
        let (mut weights, mut biases) = (Vec::new(), Vec::new());
        for j in 0..2 {
            weights.push(vec![Value::new(j as f64), Value::new(0.5)]);
            biases.push(Value::new(-1.0));
        }
        let c = Value::constant(3.0); // a leaf under the rows
        let y = Value::dense(&x, &weights, Some(&biases), Activation::Linear);
        assert_eq!(lengths(), (1, 0)); // the rows' head
        assert_eq!((y[0].data(), y[1].data()), (0.0, 1.0 + 1.0 - 1.0));
        crate::fast::reset();
        // `c` waits under the rows, then goes with them: the cut reads `c`'s word, then
        // row 0's, the first with an entry
        drop((c, y));
        let read = if cfg!(debug_assertions) { 2 } else { 0 };
        assert_eq!(crate::fast::taken().cut_words_read, read);
        assert_eq!(lengths(), (0, 0));
    }

    #[test]
    fn a_cut_in_the_middle_of_layer_rows_keeps_their_head() {
        use crate::nn::Activation;
        let lengths = || with(|o| o.graph.tape().table_lengths());
        let (mut weights, mut biases) = (Vec::new(), Vec::new());
        for j in 0..8 {
            weights.push(vec![Value::new(0.1 * j as f64 + 0.25), Value::new(-0.5)]);
            biases.push(Value::new(0.75));
        }
        let x = [Value::new(1.0), Value::new(2.0)];
        crate::fast::reset();
        let mut y = Value::dense(&x, &weights, Some(&biases), Activation::Linear);
        assert_eq!(crate::fast::taken().rows_recorded, 8);
        // the top rows dropped one by one: rows 0, 1, 2 still name the head
        y.truncate(3);
        assert_eq!(lengths(), (1, 0));
        let other = Value::new(4.0).pow(1.5); // the next entry goes after the head
        assert_eq!(lengths(), (2, 0));
        let s = Value::sum(&y);
        (&s + &other).backward();
        let row = |j: usize| 0.75 + (0.1 * j as f64 + 0.25) * 1.0 + -0.5 * 2.0;
        assert_eq!(s.data(), row(0) + row(1) + row(2));
        assert_eq!(x[0].grad(), 0.25 + 0.35 + 0.45);
        assert_eq!((weights[1][1].grad(), weights[5][1].grad()), (2.0, 0.0));
    }

    #[test]
    fn a_cut_keeps_the_lists_of_the_ops_under_a_list_named_again() {
        // `a` lists `hidden`; an op with a list of its own follows (a sum, a custom op);
        // `b` names `a`'s list again. Dropping `b` keeps every list up to the other op's.
        let lengths = || with(|o| o.graph.tape().table_lengths());
        let w: Vec<Value> = (0..8).map(|i| Value::new(0.5 + i as f64)).collect();
        let x: Vec<Value> = (0..3).map(|i| Value::new(1.0 + i as f64)).collect();
        let hidden: Vec<Value> = x.iter().map(|v| (v * 2.0).relu()).collect(); // a list
        let neuron = |j: usize| Value::affine(&w[4 * j + 3], &w[4 * j..4 * j + 3], &hidden);
        let (h0, h2) = (&hidden[0], &hidden[2]);
        for custom in [false, true] {
            let base = lengths();
            let a = neuron(0); // a list of 3
            let (o, b) = if custom {
                // (a custom op's list: its length, then 2); `b` names `a`'s list again
                let o = Value::apply_graph_fn_n(&[h0, h2], |v| {
                    v[0].graph().custom_nary(Hypot).apply(v)
                });
                (o, neuron(1))
            } else {
                // a sum's list of 2, named again by `b`
                let o = Value::sum([h0, h2]);
                (o, Value::affine(&w[7], &w[4..6], [h0, h2]))
            };
            let kept = (base.0 + 2, base.1 + 3 + 2 + usize::from(custom));
            assert_eq!(lengths(), (kept.0 + 1, kept.1));
            drop(b);
            assert_eq!(lengths(), kept);
            // a new list goes after the kept ones, not over them
            let c = Value::affine(&w[0], &w[1..3], [h2, h0]);
            let total = &(&a + &o) + &c;
            for v in x.iter().chain(&w) {
                v.set_grad(0.0);
            }
            total.backward();
            let y = 2f64.hypot(6.0);
            let d_o = if custom {
                (2.0 / y, 6.0 / y)
            } else {
                (1.0, 1.0)
            };
            // ∂/∂x through hidden (×2): a's weight, o's share, c's weight
            let near = |got: f64, want: f64| (got - want).abs() < 1e-12;
            assert!(
                near(x[0].grad(), 2.0 * (0.5 + d_o.0 + 2.5)),
                "{}",
                x[0].grad()
            );
            assert!(
                near(x[2].grad(), 2.0 * (2.5 + d_o.1 + 1.5)),
                "{}",
                x[2].grad()
            );
        }
    }

    #[test]
    fn values_live_on_the_threads_graph_and_die_from_its_top() {
        let base = with(|o| o.graph.len());
        let a = Value::new(1.0);
        let b = &a * 2.0; // a constant and the product
        assert_eq!(with(|o| o.graph.len()), base + 3);
        drop(a); // still used by b
        assert_eq!(with(|o| o.graph.len()), base + 3);
        drop(b);
        assert_eq!(with(|o| o.graph.len()), base);
    }
}
