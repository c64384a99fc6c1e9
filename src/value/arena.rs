//! The per-thread arena of [`Value`](super::Value) nodes: a dense slotmap of nodes with
//! reference counts, freed in any order from an explicit worklist, and the reverse pass
//! over a topological order found by an iterative depth-first search.

use std::cell::RefCell;

use slotmap::{new_key_type, DenseSlotMap as SlotMap};
use smallvec::SmallVec;

use crate::op::{Op, Pull, Span, Wants};

// How a `Value` node spells the n-ary and constant-exponent ops of `op.rs`: its inputs are
// numbered 0, 1, … within the node, and these few functions are the only code here that knows
// how `Op` lays out operands (an n-ary op's positions, a `Pow`'s exponent). If `op.rs` changes
// that layout, only they change.

/// `xᵏ` over input 0 (the exponent sits in the op itself).
pub(super) fn pow_op(k: f64) -> Op {
    Op::Pow(0, k)
}

/// `x₀ + … + xₙ₋₁` over inputs `0..n` (a run of input numbers).
pub(super) fn sum_op(n: u32) -> Op {
    Op::Sum {
        xs: Span::Run(0),
        len: n,
    }
}

/// `b + w₀x₀ + …` over inputs numbered `b, w₀, …, wₙ₋₁, x₀, …, xₙ₋₁` (`0..1 + 2n`): the
/// weights and the inputs are two runs of input numbers.
pub(super) fn dot_op(pairs: u32) -> Op {
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
    pub(super) struct Key;
}

/// One node: its value and gradient, the op that computed it with its inputs numbered
/// `0..inputs.len()`, and bookkeeping.
pub(super) struct Node {
    pub(super) value: f64,
    pub(super) grad: f64,
    /// This reverse pass's gradient (scratch: set to 0 when the pass first visits the node).
    pub(super) adj: f64,
    pub(super) op: Op,
    /// Handles to this node plus uses of it as an input by live nodes.
    pub(super) refs: u32,
    /// The epoch of the last reverse pass that visited this node (scratch).
    pub(super) stamp: u32,
    /// Depends on a [`Value::new`] leaf, so it wants a gradient.
    pub(super) tracked: bool,
    pub(super) inputs: SmallVec<[Key; 2]>,
}

/// The per-thread arena and the reverse pass's reusable scratch.
#[derive(Default)]
pub(super) struct Arena {
    pub(super) nodes: SlotMap<Key, Node>,
    pub(super) epoch: u32,
    pub(super) order: Vec<Key>,
    pub(super) stack: Vec<(Key, u32)>,
    pub(super) free: Vec<Key>,
    /// Nodes recorded by a running [`Value::grad`], each holding one reference until it ends.
    pub(super) scope: Vec<Key>,
}

thread_local! {
    pub(super) static ARENA: RefCell<Arena> = RefCell::new(Arena::default());
}

/// Runs `f` on this thread's arena.
#[inline(always)]
#[track_caller]
pub(super) fn with<R>(f: impl FnOnce(&mut Arena) -> R) -> R {
    ARENA.with(|a| f(&mut a.borrow_mut()))
}

#[cold]
#[inline(never)]
#[track_caller]
pub(super) fn stale() -> ! {
    panic!(
        "scalargrad: this Value's node is gone from its thread's arena (its key is stale); \
         a Value is only valid on the thread that created it, while that thread runs"
    )
}

#[cold]
#[inline(never)]
pub(super) fn too_many_refs() -> ! {
    panic!("scalargrad: more than 4,294,967,295 handles or uses of one Value")
}

impl Arena {
    #[inline(always)]
    #[track_caller]
    pub(super) fn node(&self, k: Key) -> &Node {
        self.nodes.get(k).unwrap_or_else(|| stale())
    }

    #[inline(always)]
    #[track_caller]
    pub(super) fn node_mut(&mut self, k: Key) -> &mut Node {
        self.nodes.get_mut(k).unwrap_or_else(|| stale())
    }

    /// A leaf with no handle yet (`refs` 0: the caller takes the first reference).
    #[inline(always)]
    pub(super) fn leaf(&mut self, value: f64, tracked: bool) -> Key {
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
    pub(super) fn push(&mut self, op: Op, inputs: SmallVec<[Key; 2]>) -> Key {
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
    pub(super) fn release(&mut self, k: Key) {
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
    pub(super) fn topo_order(&mut self, root: Key) {
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
    pub(super) fn backward(&mut self, root: Key) {
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
