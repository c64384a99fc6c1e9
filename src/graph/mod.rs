//! [`Graph`], the arena every [`Var`] points into, and its API.
//!
//! - `mod.rs` (here): making leaves, marks and rewinds ([`Mark`]), anomaly mode,
//!   [`Graph::check_finite`], custom ops.
//! - `nary.rs`: the n-ary ops [`Graph::sum`], [`Graph::dot`], [`Graph::affine`].
//! - `recompute.rs`: [`Graph::recompute`], replaying a recorded graph.
//! - `grad.rs`: [`Graph::grad`], the gradient recorded as nodes (higher derivatives).
//!
//! Invariant: nodes are only ever freed from the end of the tape ([`Graph::rewind`]), which
//! keeps "inputs before outputs" and every surviving position valid. The storage, and why a
//! handle is always safe to use, is [`tape`](crate::tape).

mod grad;
mod nary;
mod recompute;
pub(crate) mod rows;

pub(crate) use nary::{check_each, run_difference, Inputs};

use std::cell::{Ref, RefCell, RefMut};
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::custom::{CustomOp, ErasedUnary, UnaryFn};
pub(crate) use crate::tape::NodeId;
pub(crate) use crate::tape::Tape;
pub use crate::tape::SPARE_CAP_BYTES;
use crate::Var;

/// Frees the arrays this thread keeps for its next [`Graph`].
///
/// Dropping a graph hands its node arrays (up to [`SPARE_CAP_BYTES`]) to a per-thread slot,
/// and the next [`Graph::new`] on the thread reuses them instead of faulting in fresh
/// memory. Call this after the last big graph of a phase to return that memory now rather
/// than when the thread ends.
///
/// ```
/// use scalargrad::{graph::release_spare_buffers, Graph};
/// {
///     let g = Graph::new();
///     g.var(1.0);
/// } // its arrays wait for the next graph on this thread
/// release_spare_buffers(); // ... or are freed now
/// assert!(Graph::new().is_empty());
/// ```
pub fn release_spare_buffers() {
    crate::tape::release_spare();
}
/// A computation graph of scalar nodes, and the arena that owns them.
///
/// All methods take `&self`: handles ([`Var`]) borrow the graph, and recording an op through
/// them appends to it. A `Graph` can be moved to another thread (`Send`); its handles cannot,
/// which the compiler checks. It is not `Sync`: sharing one graph between threads fails with
/// ``error[E0277]: `RefCell<Tape>` cannot be shared between threads safely``; use one graph per
/// thread and combine plain numbers (`examples/threads.rs`; compile-fail examples in
/// [`guarantees`](crate::guarantees)).
///
/// ```
/// use scalargrad::Graph;
///
/// let g = Graph::new();
/// let apple = g.var(100.0);
/// let count = g.var(2.0);
/// let tax = g.var(1.1);
/// let price = apple * count * tax;
/// price.backward();
/// assert!((price.value() - 220.0).abs() < 1e-9);
/// assert!((apple.grad() - 2.2).abs() < 1e-12);
/// assert!((count.grad() - 110.0).abs() < 1e-9);
/// assert!((tax.grad() - 200.0).abs() < 1e-9);
/// assert_eq!(g.len(), 5); // three leaves, two products
/// ```
pub struct Graph {
    tape: RefCell<Tape>,
    /// Distinguishes graphs for [`Mark`] checks (handles are checked by address instead).
    id: u64,
}

impl Default for Graph {
    fn default() -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Graph {
            tape: RefCell::default(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// A point in a graph's history, from [`Graph::mark`]: [`Graph::rewind`] frees every node
/// created after it.
///
/// ```
/// let g = scalargrad::Graph::new();
/// let w = g.var(3.0);
/// let mark = g.mark();
/// let _ = w * w;
/// assert_eq!(g.len(), 2);
/// g.rewind(mark);
/// assert_eq!(g.len(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    nodes: u32,
    far: u32,
    operands: u32,
    /// The graph it was taken on.
    graph: u64,
    /// The tape's epoch when it was taken: if a later rewind cut the tape below `nodes`, the
    /// mark no longer describes this graph (as a handle to its last node would be stale).
    epoch: u32,
    /// Custom ops registered before the mark (those after it are freed with its nodes).
    customs: u32,
}

#[cold]
#[inline(never)]
#[track_caller]
fn foreign() -> ! {
    panic!(
        "scalargrad: a handle from another Graph was used here; handles only combine \
         with handles of the graph that created them"
    )
}

impl Graph {
    /// An empty graph.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// assert!(g.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty graph with room for `nodes` nodes before it reallocates.
    ///
    /// # Panics
    /// With a sentence, if `nodes` is more than a graph can hold (4,294,967,295), or the
    /// system refuses the memory (never an abort).
    ///
    /// ```
    /// let g = scalargrad::Graph::with_capacity(1_000);
    /// assert_eq!(g.len(), 0);
    /// ```
    #[track_caller]
    pub fn with_capacity(nodes: usize) -> Self {
        if nodes > u32::MAX as usize {
            panic!(
                "scalargrad: Graph::with_capacity({nodes}): a graph holds at most \
                 4,294,967,295 nodes"
            );
        }
        let g = Self::new();
        g.tape_mut().reserve(nodes);
        g
    }

    /// A leaf whose gradient is tracked: [`Var::backward`] accumulates into its
    /// [`Var::grad`].
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(3.0);
    /// (x * x).backward();
    /// assert_eq!(x.grad(), 6.0);
    /// ```
    #[inline]
    #[track_caller]
    pub fn var(&self, value: f64) -> Var<'_> {
        self.leaf(value, true)
    }

    /// A leaf that receives no gradient (its [`Var::grad`] stays 0), and ops on constants
    /// only are not visited by the reverse pass.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(3.0);
    /// let c = g.constant(2.0);
    /// (x * c).backward();
    /// assert_eq!((x.grad(), c.grad()), (2.0, 0.0));
    /// ```
    #[inline]
    #[track_caller]
    pub fn constant(&self, value: f64) -> Var<'_> {
        self.leaf(value, false)
    }

    #[inline(always)]
    #[track_caller]
    fn leaf(&self, value: f64, tracked: bool) -> Var<'_> {
        let mut t = self.tape_mut();
        if !value.is_finite() && t.anomaly() {
            panic!(
                "scalargrad anomaly: a leaf was created with the non-finite value {} at {}",
                value,
                Location::caller()
            );
        }
        let id = t.push_leaf(value, tracked);
        Var::new(self, id)
    }

    /// The number of live nodes (leaves included).
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(1.0);
    /// let _y = x + 1.0; // a constant node for 1.0, and the sum
    /// assert_eq!(g.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.tape().len()
    }

    /// Whether the graph holds no node.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// g.var(1.0);
    /// assert!(!g.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sets every node's gradient back to 0.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(3.0);
    /// (x * 2.0).backward();
    /// g.zero_grad();
    /// assert_eq!(x.grad(), 0.0);
    /// ```
    pub fn zero_grad(&self) {
        self.tape_mut().zero_grads();
    }

    /// Marks the current end of the graph; [`Graph::rewind`] frees everything created after.
    ///
    /// This is how a training loop keeps memory flat: create the parameters, take a mark, and
    /// rewind to it after every step. Freed slots are reused by the next step, so the arena
    /// stops growing after the first one. [`Graph::scope`] does the same around a closure.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let w = g.var(0.5);
    /// let mark = g.mark();
    /// for _ in 0..3 {
    ///     let loss = (w - 2.0).pow(2.0);
    ///     loss.backward();
    ///     w.set_value(w.value() - 0.25 * w.grad());
    ///     g.zero_grad();
    ///     g.rewind(mark);
    /// }
    /// assert_eq!(g.len(), 1);
    /// assert_eq!(w.value(), 2.0 - 1.5 / 8.0); // the gap halves each step
    /// ```
    pub fn mark(&self) -> Mark {
        let t = self.tape();
        let (far, operands) = t.table_lengths();
        let operands = u32::try_from(operands).expect("operand count checked on push");
        Mark {
            nodes: t.len() as u32,
            far: far as u32,
            operands,
            graph: self.id,
            epoch: t.epoch(),
            customs: t.customs().len() as u32,
        }
    }

    /// Frees every node created after `mark`. Their handles become stale: using one panics.
    ///
    /// # Panics
    /// If `mark` was taken on another graph, or no longer describes this one (it was taken
    /// after a point this graph has since been rewound to, so the nodes it would keep are
    /// gone or were re-created).
    ///
    /// ```should_panic
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(1.0);
    /// let mark = g.mark();
    /// let y = x * 2.0;
    /// g.rewind(mark);
    /// y.value(); // panics: the node was freed
    /// ```
    pub fn rewind(&self, mark: Mark) {
        let mut t = self.tape_mut();
        if let Err(problem) = self.check_mark(&t, mark) {
            panic!("scalargrad: Graph::rewind {problem}");
        }
        t.truncate(
            mark.nodes as usize,
            mark.far as usize,
            mark.operands as usize,
        );
        t.customs_mut().truncate(mark.customs);
    }

    /// Whether `mark` describes this graph's history (see [`Graph::rewind`]'s panics).
    fn check_mark(&self, t: &Tape, mark: Mark) -> Result<(), String> {
        let keep = mark.nodes as usize;
        if mark.graph != self.id {
            return Err("with a mark taken on another graph".to_owned());
        }
        let last = NodeId {
            pos: mark.nodes.wrapping_sub(1),
            epoch: mark.epoch,
        };
        let (far, operands) = t.table_lengths();
        let same_history = keep <= t.len()
            && mark.far as usize <= far
            && mark.operands as usize <= operands
            && (keep == 0 || t.try_pos(last).is_some());
        if !same_history {
            return Err(format!(
                "to a stale mark (at {keep} nodes; the graph has {}): the graph was rewound \
                 past it since it was taken, so the nodes it would keep are gone or were \
                 re-created",
                t.len()
            ));
        }
        Ok(())
    }

    /// Runs `f`, then frees every node it created: one training step, with memory that stays
    /// flat however many steps run.
    ///
    /// The result must own its data (`'static`), so a handle to a node that is about to be
    /// freed cannot be returned: return numbers instead. If `f` panics, its nodes are freed
    /// while unwinding too.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let w = g.var(3.0);
    /// let loss = g.scope(|| {
    ///     let loss = w * w;
    ///     loss.backward();
    ///     loss.value()
    /// });
    /// assert_eq!((loss, w.grad(), g.len()), (9.0, 6.0, 1));
    /// ```
    ///
    /// ```compile_fail
    /// let g = scalargrad::Graph::new();
    /// let w = g.var(3.0);
    /// let escaped = g.scope(|| w * w); // error: a handle would outlive its node
    /// ```
    ///
    /// # Compile errors
    /// Returning a handle (or anything holding one, like a `Vec<Var>`) from the closure fails
    /// with ``error[E0597]: `g` does not live long enough … argument requires that `g` is
    /// borrowed for `'static` ``. The `'static` bound is what stops a handle to a freed node from
    /// leaving the step: return its `.value()` or `.grad()` instead, or create what must
    /// survive the step before calling `scope`. The other compile errors handles cause are
    /// listed, with compile-fail examples, in [`guarantees`](crate::guarantees).
    pub fn scope<R: 'static>(&self, f: impl FnOnce() -> R) -> R {
        let _rewind = RewindOnDrop(self, self.mark());
        f()
    }

    /// Frees every node. Every handle of this graph becomes stale; custom ops stay
    /// registered.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(1.0);
    /// g.clear();
    /// assert!(g.is_empty());
    /// let y = g.var(2.0); // the graph is usable again
    /// assert_eq!(y.value(), 2.0);
    /// ```
    pub fn clear(&self) {
        self.rewind(Mark {
            nodes: 0,
            far: 0,
            operands: 0,
            graph: self.id,
            epoch: 0,
            customs: u32::MAX, // custom ops stay registered
        })
    }

    /// Switches anomaly detection on or off for this graph (off by default).
    ///
    /// When on, the first op that turns finite inputs into a NaN or infinite value panics
    /// with its name, its inputs' values and the source line that recorded it; so does the
    /// first reverse-pass step that turns a finite gradient into a non-finite one, and a
    /// leaf created (or [set](Var::set_value)) non-finite. When off, non-finite numbers
    /// propagate by IEEE rules.
    ///
    /// ```should_panic
    /// let g = scalargrad::Graph::new();
    /// g.detect_anomaly(true);
    /// let x = g.var(0.0);
    /// let _ = x.ln(); // panics: `ln` of finite inputs [0.0] gave -inf
    /// ```
    pub fn detect_anomaly(&self, on: bool) {
        self.tape_mut().set_anomaly(on);
    }

    /// Whether anomaly detection is on.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// assert!(!g.is_detecting_anomaly());
    /// ```
    pub fn is_detecting_anomaly(&self) -> bool {
        self.tape().anomaly()
    }

    /// Checks that every value and every gradient in the graph is finite; on failure, names
    /// the first (oldest) offending node. One linear scan over two arrays: cheap enough to
    /// call every training step.
    ///
    /// # Errors
    /// [`NonFinite`] for the oldest node whose value or gradient is NaN or infinite.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(-1.0);
    /// assert!(g.check_finite().is_ok());
    /// let y = x.ln();
    /// let err = g.check_finite().unwrap_err();
    /// assert_eq!(err.op, "ln");
    /// assert!(err.value.is_nan());
    /// ```
    pub fn check_finite(&self) -> Result<(), NonFinite> {
        let t = self.tape();
        let bad = t
            .values()
            .iter()
            .zip(t.grads())
            .position(|(v, g)| !v.is_finite() || !g.is_finite());
        match bad {
            None => Ok(()),
            Some(i) => Err(NonFinite {
                position: i,
                op: t.op_name(t.op(i)).to_owned(),
                inputs: t.input_values(i),
                value: t.value(i),
                grad: t.grad(i),
            }),
        }
    }

    /// Registers a user-defined unary op (see [`UnaryFn`]) and returns the handle to apply it.
    ///
    /// ```
    /// # use scalargrad::{Graph, Scalar, UnaryFn};
    /// struct Cube;
    /// impl UnaryFn for Cube {
    ///     fn name(&self) -> &str { "cube" }
    ///     fn value(&self, x: f64) -> f64 { x * x * x }
    ///     fn derivative<S: Scalar>(&self, x: S, _y: S) -> S { x * x * 3.0 }
    /// }
    /// let g = Graph::new();
    /// let cube = g.custom(Cube);
    /// let x = g.var(2.0);
    /// cube.apply(x).backward();
    /// assert_eq!(x.grad(), 12.0);
    /// ```
    pub fn custom<F: UnaryFn>(&self, f: F) -> CustomOp<'_> {
        let (index, gen) = self.tape_mut().customs_mut().register(Arc::new(f));
        CustomOp {
            graph: self,
            index,
            gen,
        }
    }

    pub(crate) fn custom_fn(&self, index: u32) -> Arc<dyn ErasedUnary> {
        Arc::clone(&self.tape().customs()[index as usize])
    }

    #[inline(always)]
    pub(crate) fn tape(&self) -> Ref<'_, Tape> {
        self.tape.borrow()
    }

    #[inline(always)]
    pub(crate) fn tape_mut(&self) -> RefMut<'_, Tape> {
        self.tape.borrow_mut()
    }

    /// # Panics
    /// If `v` belongs to another graph.
    #[inline]
    #[track_caller]
    pub(crate) fn check_same(&self, v: Var<'_>) {
        if !std::ptr::eq(self, v.graph()) {
            foreign();
        }
    }
}

/// Rewinds its graph to its mark when dropped, so a step that panics is freed too.
struct RewindOnDrop<'g>(&'g Graph, Mark);

impl Drop for RewindOnDrop<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.0.rewind(self.1);
        } else if let Ok(mut t) = self.0.tape.try_borrow_mut() {
            // Unwinding: never panic again; skip if the mark is no longer valid.
            if self.0.check_mark(&t, self.1).is_ok() {
                let m = self.1;
                t.truncate(m.nodes as usize, m.far as usize, m.operands as usize);
                t.customs_mut().truncate(m.customs);
            }
        }
    }
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.tape();
        f.debug_struct("Graph")
            .field("nodes", &t.len())
            .field("tracked", &(0..t.len()).filter(|&p| t.tracked(p)).count())
            .field("custom_ops", &t.customs().len())
            .field("detect_anomaly", &t.anomaly())
            .finish()
    }
}

/// The oldest node whose value or gradient is not finite, from [`Graph::check_finite`].
///
/// ```
/// let g = scalargrad::Graph::new();
/// let _ = g.var(1.0) / 0.0;
/// let err = g.check_finite().unwrap_err();
/// assert_eq!((err.op.as_str(), err.value), ("/", f64::INFINITY));
/// assert_eq!(err.inputs, vec![1.0, 0.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NonFinite {
    /// Position on the tape (creation order, from 0).
    pub position: usize,
    /// The op's name (`"leaf"` for leaves).
    pub op: String,
    /// The values of the op's inputs.
    pub inputs: Vec<f64>,
    /// The node's value.
    pub value: f64,
    /// The node's accumulated gradient.
    pub grad: f64,
}

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node {} (`{}` of {:?}) has value {} and gradient {}",
            self.position, self.op, self.inputs, self.value, self.grad
        )
    }
}

impl std::error::Error for NonFinite {}
