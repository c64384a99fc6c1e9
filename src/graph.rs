//! The arena: a tape of scalar nodes in creation order, and the handles that point into it.
//!
//! # Layout
//! Nodes live in one dense array indexed by their *position* on the tape; each `Node` is 32
//! bytes: value, gradient, op (with its inputs' positions) and a word holding the position's
//! *generation* and two flags. A handle ([`Var`]) holds the position and the generation it was
//! created with. Freeing nodes ([`Graph::rewind`]) only shortens the tape: the freed slots
//! keep their generation, the next node created at a position bumps it, so a handle to a freed
//! node is caught (its position is past the end, or its generation is old) and panics instead
//! of reading whatever node took its place. Memory of freed slots is reused, never returned
//! until the graph is dropped.
//!
//! # Why not `slotmap`
//! The first version kept handles in a [`slotmap`](https://docs.rs/slotmap) map from
//! generational key to tape position. It worked, but slotmap's slot order is arbitrary (not a
//! topological order), so the tape needed a second, creation-ordered index beside it: 49
//! bytes and two lookups per node. Because nodes are only ever freed from the end of the tape,
//! the generation can live in the node itself: the same guarantee (a stale handle is detected,
//! never aliased — see `guarantees` for the 30-bit limit) at 32 bytes per node and one
//! comparison per access.
//!
//! # Invariant
//! **Inputs come before outputs**: an op node's inputs sit at lower positions than the node.
//! Creation order is therefore a topological order, and the reverse pass is one backwards
//! walk over the tape with no graph search and no recursion. Nodes are only ever freed from
//! the end of the tape ([`Graph::rewind`]), which keeps the invariant and every surviving
//! position valid.

use std::cell::{Ref, RefCell, RefMut};
use std::collections::BTreeMap;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::custom::{CustomOp, CustomTable, ErasedUnary, UnaryFn};
use crate::op::Op;
use crate::Var;

/// What a handle holds: a position on the tape, and the generation of that position when the
/// node was created (a handle to a freed node is stale: see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeId {
    pos: u32,
    gen: u32,
}

/// `Node::meta`: the node depends on a [`Graph::var`] leaf (it wants a gradient).
const TRACKED: u32 = 1;
/// `Node::meta`: the running reverse pass has given this node a gradient (scratch flag).
pub(crate) const REACHED: u32 = 2;
/// `Node::meta` holds the generation above the two flags.
const GEN_SHIFT: u32 = 2;
const GEN_MASK: u32 = u32::MAX >> GEN_SHIFT;

/// One node of the tape: 32 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    pub(crate) value: f64,
    /// Accumulated by [`Var::backward`].
    pub(crate) grad: f64,
    pub(crate) op: Op,
    /// `generation << GEN_SHIFT | REACHED | TRACKED`.
    pub(crate) meta: u32,
}

const _: () = assert!(std::mem::size_of::<Node>() == 32);

impl Node {
    /// Whether the node depends on a tracked leaf, so it wants a gradient.
    #[inline(always)]
    pub(crate) fn tracked(&self) -> bool {
        self.meta & TRACKED != 0
    }

    #[inline(always)]
    fn gen(&self) -> u32 {
        self.meta >> GEN_SHIFT
    }
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
    operands: u32,
    /// The graph it was taken on.
    graph: u64,
    /// Generation of the last node before the mark: if that node was freed and re-created,
    /// the mark predates a rewind to an earlier mark and no longer describes this graph.
    last_gen: u32,
    /// Custom ops registered before the mark (those after it are freed with its nodes).
    customs: u32,
}

/// The arena's storage.
#[derive(Default)]
pub(crate) struct Tape {
    /// Nodes by position. Only `nodes[..len]` are live; the slots past `len` were freed by a
    /// rewind and are kept for their generation (and their memory, reused by later nodes).
    pub(crate) nodes: Vec<Node>,
    len: usize,
    /// Input positions of n-ary ops ([`Op::Sum`], [`Op::Dot`]), exponents of [`Op::Pow`].
    pub(crate) operands: Vec<u32>,
    pub(crate) customs: CustomTable,
    /// Optional labels by position, shown by [`Graph::to_dot`].
    pub(crate) names: BTreeMap<u32, String>,
    pub(crate) anomaly: bool,
    /// Every gradient at a position `>= dirty` is 0, so a reverse pass can accumulate there in
    /// place; below it, it accumulates in `adjoint` first (a second `backward` must add this
    /// pass's gradients, not propagate the sum of both).
    pub(crate) dirty: usize,
    /// A reverse pass was interrupted by a panic and may have left `REACHED` flags set.
    pub(crate) interrupted: bool,
    /// Reverse-pass scratch for positions below `dirty`, kept to avoid an allocation.
    pub(crate) adjoint: Vec<f64>,
    /// Leaves set under recorded nodes (see `versions`).
    pub(crate) versions: crate::versions::Versions,
}

impl Tape {
    /// The position of a live handle.
    ///
    /// # Panics
    /// If the node was freed.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn pos(&self, id: NodeId) -> u32 {
        match self.try_pos(id) {
            Some(p) => p,
            None => freed(),
        }
    }

    /// The position of a handle, or `None` if its node was freed.
    #[inline(always)]
    pub(crate) fn try_pos(&self, id: NodeId) -> Option<u32> {
        let p = id.pos as usize;
        (p < self.len && self.nodes[p].gen() == id.gen).then_some(id.pos)
    }

    /// The live node a handle points to.
    ///
    /// # Panics
    /// If the node was freed.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[self.pos(id) as usize]
    }

    /// The handle of the live node at `pos`.
    #[inline]
    pub(crate) fn id_at(&self, pos: usize) -> NodeId {
        debug_assert!(pos < self.len);
        NodeId {
            pos: pos as u32,
            gen: self.nodes[pos].gen(),
        }
    }

    /// The live nodes, in creation order.
    #[inline]
    pub(crate) fn live(&self) -> &[Node] {
        &self.nodes[..self.len]
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends a node and returns its handle; reuses a freed slot (bumping its generation)
    /// when there is one.
    #[inline(always)]
    fn push(&mut self, op: Op, value: f64, tracked: bool) -> NodeId {
        let pos = self.len;
        let node = |gen: u32| Node {
            value,
            grad: 0.0,
            op,
            meta: gen << GEN_SHIFT | tracked as u32,
        };
        let gen = if let Some(slot) = self.nodes.get_mut(pos) {
            let gen = (slot.gen() + 1) & GEN_MASK;
            *slot = node(gen);
            gen
        } else {
            if pos >= u32::MAX as usize {
                too_many();
            }
            self.nodes.push(node(0));
            0
        };
        self.len = pos + 1;
        NodeId {
            pos: pos as u32,
            gen,
        }
    }

    /// Appends an op node: computes its value with the op's forward rule and whether it is
    /// tracked from its inputs.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn push_op(&mut self, op: Op) -> NodeId {
        debug_assert!(
            {
                let mut ok = true;
                op.for_each_input(&self.operands, |p| ok &= (p as usize) < self.len());
                ok
            },
            "inputs come before outputs"
        );
        let mut tracked = false;
        let nodes = &self.nodes;
        op.for_each_input(&self.operands, |p| tracked |= nodes[p as usize].tracked());
        self.push_op_tracked(op, tracked)
    }

    /// [`Tape::push_op`] when the caller already knows whether an input is tracked.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn push_op_tracked(&mut self, op: Op, tracked: bool) -> NodeId {
        let nodes = &self.nodes;
        let value = op.eval(|p| nodes[p as usize].value, &self.operands, &self.customs);
        if self.anomaly && !value.is_finite() {
            self.report_forward_anomaly(op, value, Location::caller());
        }
        self.push(op, value, tracked)
    }

    /// Checks that `n` more operands keep every operand index within `u32`.
    ///
    /// # Panics
    /// If they would not.
    #[inline(always)]
    pub(crate) fn reserve_operands(&self, n: usize) {
        if self.operands.len() + n > u32::MAX as usize {
            too_many_operands();
        }
    }

    /// Appends the positions of an n-ary op's inputs to the operand list: `head` if any, then
    /// `a₀, b₀, a₁, b₁, …` (`b` = `None`: `a₀, a₁, …`). Returns where they start and whether
    /// one is tracked, or the first input that is foreign or freed (the list left as it was).
    #[inline(always)]
    pub(crate) fn push_operands<'g>(
        &mut self,
        graph: &Graph,
        head: Option<Var<'g>>,
        a: &[Var<'g>],
        b: Option<&[Var<'g>]>,
    ) -> Result<(u32, bool), Var<'g>> {
        let start = self.operands.len();
        let n = usize::from(head.is_some()) + a.len() * if b.is_some() { 2 } else { 1 };
        self.reserve_operands(n);
        self.operands.resize(start + n, 0);
        // Split borrows, so that the loops keep their state in registers.
        let nodes = &self.nodes[..self.len];
        let out = &mut self.operands[start..];
        let mut tracked = false;
        let mut check = |v: Var<'g>| {
            let id = v.id();
            match nodes.get(id.pos as usize) {
                Some(node) if node.gen() == id.gen && std::ptr::eq(graph, v.graph()) => {
                    tracked |= node.tracked();
                    Ok(id.pos)
                }
                _ => Err(v),
            }
        };
        let result = (|| {
            let out = match head {
                Some(h) => {
                    out[0] = check(h)?;
                    &mut out[1..]
                }
                None => out,
            };
            match b {
                Some(b) => {
                    for ((slot, &ai), &bi) in out.chunks_exact_mut(2).zip(a).zip(b) {
                        slot[0] = check(ai)?;
                        slot[1] = check(bi)?;
                    }
                }
                None => {
                    for (slot, &ai) in out.iter_mut().zip(a) {
                        *slot = check(ai)?;
                    }
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok((start as u32, tracked)),
            Err(v) => {
                self.operands.truncate(start);
                Err(v)
            }
        }
    }

    /// Anomaly mode: panics if `op` turned finite inputs into a non-finite value.
    #[cold]
    fn report_forward_anomaly(&self, op: Op, value: f64, at: &Location<'_>) {
        let mut inputs = Vec::new();
        op.for_each_input(&self.operands, |p| {
            inputs.push(self.nodes[p as usize].value)
        });
        if inputs.iter().all(|v| v.is_finite()) {
            panic!(
                "scalargrad anomaly: `{}` of finite inputs {:?} gave {} (node recorded at {})",
                self.op_name(op),
                inputs,
                value,
                at
            );
        }
    }

    pub(crate) fn op_name(&self, op: Op) -> &str {
        match op {
            Op::Custom(_, f) | Op::CustomN { f, .. } => self.customs[f as usize].name(),
            _ => op.name(),
        }
    }

    /// Inputs' values of the node at `pos`, for messages.
    pub(crate) fn input_values(&self, pos: usize) -> Vec<f64> {
        let mut inputs = Vec::new();
        self.nodes[pos].op.for_each_input(&self.operands, |p| {
            inputs.push(self.nodes[p as usize].value)
        });
        inputs
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn freed() -> ! {
    panic!(
        "scalargrad: this handle points to a node that was freed (by Graph::rewind, \
         Graph::scope or Graph::clear); create the values you keep across steps \
         before the mark, and read results before rewinding"
    )
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

#[cold]
fn too_many_operands() -> ! {
    panic!(
        "scalargrad: a graph holds at most 4,294,967,295 operands of n-ary ops and exponents; \
         rewind between steps"
    )
}

#[cold]
#[inline(never)]
fn too_many() -> ! {
    panic!("scalargrad: a graph holds at most 4,294,967,295 nodes")
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
    /// ```
    /// let g = scalargrad::Graph::with_capacity(1_000);
    /// assert_eq!(g.len(), 0);
    /// ```
    pub fn with_capacity(nodes: usize) -> Self {
        let g = Self::new();
        {
            g.tape_mut().nodes.reserve(nodes);
        }
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
        if t.anomaly && !value.is_finite() {
            panic!(
                "scalargrad anomaly: a leaf was created with the non-finite value {} at {}",
                value,
                Location::caller()
            );
        }
        let id = t.push(Op::Leaf, value, tracked);
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
        let mut t = self.tape_mut();
        let len = t.len;
        t.nodes[..len].iter_mut().for_each(|n| n.grad = 0.0);
        t.dirty = 0;
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
        let operands = u32::try_from(t.operands.len()).expect("operand count checked on push");
        Mark {
            nodes: t.len() as u32,
            operands,
            graph: self.id,
            last_gen: t.len().checked_sub(1).map_or(0, |p| t.nodes[p].gen()),
            customs: t.customs.len() as u32,
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
        truncate(&mut t, mark);
    }

    /// Whether `mark` describes this graph's history (see [`Graph::rewind`]'s panics).
    fn check_mark(&self, t: &Tape, mark: Mark) -> Result<(), String> {
        let keep = mark.nodes as usize;
        if mark.graph != self.id {
            return Err("with a mark taken on another graph".to_owned());
        }
        let same_history = keep <= t.len()
            && mark.operands as usize <= t.operands.len()
            && (keep == 0 || t.nodes[keep - 1].gen() == mark.last_gen);
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
            operands: 0,
            graph: self.id,
            last_gen: 0,
            customs: u32::MAX, // custom ops stay registered
        })
    }

    /// Recomputes every op node's value from its inputs, in creation order: after changing
    /// leaves with [`Var::set_value`], this replays a recorded graph without recording it
    /// again (and without allocating).
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(2.0);
    /// let y = x * x + 1.0;
    /// x.set_value(3.0);
    /// assert_eq!(y.value(), 5.0); // stale until recomputed
    /// g.recompute();
    /// assert_eq!(y.value(), 10.0);
    /// ```
    #[track_caller]
    pub fn recompute(&self) {
        let mut t = self.tape_mut();
        let anomaly = t.anomaly;
        let Tape {
            nodes,
            len,
            operands,
            customs,
            ..
        } = &mut *t;
        let nodes = &mut nodes[..*len];
        let mut first_bad = None;
        for i in 0..nodes.len() {
            let op = nodes[i].op;
            if op != Op::Leaf {
                let done = &*nodes;
                let value = op.eval(|p| done[p as usize].value, operands, customs);
                nodes[i].value = value;
                if anomaly && !value.is_finite() && first_bad.is_none() {
                    let mut finite_inputs = true;
                    op.for_each_input(operands, |p| {
                        finite_inputs &= nodes[p as usize].value.is_finite()
                    });
                    if finite_inputs {
                        first_bad = Some((op, value));
                    }
                }
            }
        }
        t.versions.clear();
        if let Some((op, value)) = first_bad {
            // the first op that made finite inputs non-finite: this panics
            t.report_forward_anomaly(op, value, Location::caller());
        }
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
        self.tape_mut().anomaly = on;
    }

    /// Whether anomaly detection is on.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// assert!(!g.is_detecting_anomaly());
    /// ```
    pub fn is_detecting_anomaly(&self) -> bool {
        self.tape().anomaly
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
            .live()
            .iter()
            .position(|n| !n.value.is_finite() || !n.grad.is_finite());
        match bad {
            None => Ok(()),
            Some(i) => Err(NonFinite {
                position: i,
                op: t.op_name(t.nodes[i].op).to_owned(),
                inputs: t.input_values(i),
                value: t.nodes[i].value,
                grad: t.nodes[i].grad,
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
        let (index, gen) = self.tape_mut().customs.register(Arc::new(f));
        CustomOp {
            graph: self,
            index,
            gen,
        }
    }

    pub(crate) fn custom_fn(&self, index: u32) -> Arc<dyn ErasedUnary> {
        Arc::clone(&self.tape().customs[index as usize])
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

/// Frees every node after `mark` (already checked).
fn truncate(t: &mut Tape, mark: Mark) {
    let keep = mark.nodes as usize;
    // The freed slots keep their generation: the next node created at each bumps it, which
    // makes every handle to the freed node stale. Nothing else to do per node.
    if !t.names.is_empty() {
        t.names.split_off(&mark.nodes);
    }
    t.len = keep;
    t.dirty = t.dirty.min(keep);
    t.operands.truncate(mark.operands as usize);
    t.customs.truncate(mark.customs);
    t.versions.rewound(keep);
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
                truncate(&mut t, self.1);
            }
        }
    }
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.tape();
        f.debug_struct("Graph")
            .field("nodes", &t.len())
            .field("tracked", &t.live().iter().filter(|n| n.tracked()).count())
            .field("custom_ops", &t.customs.len())
            .field("detect_anomaly", &t.anomaly)
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
