//! The reverse pass: gradients as numbers ([`Var::backward`]) and as nodes ([`Graph::grad`]).
//!
//! Both walk the tape backwards from the root's position. Creation order is a topological
//! order (inputs before outputs), so when the walk reaches a node, every node that uses it
//! has already handed it its share of the gradient: no graph search, no recursion, and a
//! chain of any depth costs one pass. Only nodes the root was reached from (its ancestors)
//! and that depend on a tracked leaf do any work; the rest are skipped by a flag test.

use smallvec::SmallVec;

use crate::graph::{Node, Tape, REACHED};
use crate::op::{Op, Pull};
use crate::{Graph, Var};

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
        let mut t = self.graph().tape_mut();
        let root = t.pos(self.id());
        crate::versions::check(&mut t, root as usize);
        reverse_pass(&mut t, root as usize);
    }
}

/// The `f64` reverse pass from the node at position `root`.
///
/// Gradients accumulate in place, in each node's `grad`, at every position whose gradient
/// was 0 before the pass (`>= Tape::dirty`: every node recorded since the last
/// [`Graph::zero_grad`] or backward); below that they accumulate in a scratch array first, so
/// a second `backward` adds its own gradients instead of propagating the sum of both.
/// The `REACHED` flag of each node is set by the first share it receives and cleared when the
/// walk passes it, so the pass needs no per-node scratch.
#[inline]
#[track_caller]
fn reverse_pass(t: &mut Tape, root: usize) {
    if !t.nodes[root].tracked() {
        return;
    }
    if t.interrupted {
        // A panic (anomaly, or a custom op's derivative) left flags behind.
        let len = t.len();
        t.nodes[..len].iter_mut().for_each(|n| n.meta &= !REACHED);
    }
    t.interrupted = true;
    let split = t.dirty.min(root + 1);
    // Raised before the walk: if it panics, the partial gradients it left at positions
    // `>= split` count as an earlier pass's, and the next pass adds to them via scratch
    // instead of propagating them as its own.
    t.dirty = t.dirty.max(root + 1);
    // One copy of the walk per case, so the common one (no anomaly mode, every gradient
    // below the root still 0) tests neither.
    match (t.anomaly, split > 0) {
        (false, false) => walk::<false, false>(t, root, split),
        (false, true) => walk::<false, true>(t, root, split),
        (true, false) => walk::<true, false>(t, root, split),
        (true, true) => walk::<true, true>(t, root, split),
    }
    t.interrupted = false;
}

/// The walk of [`reverse_pass`]: `ANOMALY` = anomaly mode, `SCRATCH` = some positions below
/// the root may hold gradients of an earlier pass.
#[track_caller]
fn walk<const ANOMALY: bool, const SCRATCH: bool>(t: &mut Tape, root: usize, split: usize) {
    let Tape {
        nodes,
        operands,
        customs,
        adjoint,
        ..
    } = &mut *t;
    adjoint.clear();
    adjoint.resize(split, 0.0);
    let mut pull = NumberPull::<ANOMALY, SCRATCH> {
        nodes: &mut nodes[..=root],
        adjoint,
        split,
        customs,
        non_finite: false,
    };
    pull.give(root as u32, 1.0);
    for i in (0..=root).rev() {
        let node = &mut pull.nodes[i];
        if node.meta & REACHED == 0 {
            continue;
        }
        node.meta &= !REACHED;
        let (op, y) = (node.op, node.value);
        let g = if SCRATCH && i < split {
            let g = pull.adjoint[i];
            node.grad += g;
            // a finite share can overflow the gradient kept from an earlier pass
            if ANOMALY && !node.grad.is_finite() {
                pull.non_finite = true;
            }
            g
        } else {
            node.grad
        };
        op.pullback(operands, y, g, &mut pull);
        if ANOMALY && pull.non_finite {
            report_backward_anomaly(&op, i, g, pull.nodes, operands, customs);
        }
    }
}

#[cold]
#[track_caller]
fn report_backward_anomaly(
    op: &Op,
    pos: usize,
    g: f64,
    nodes: &[Node],
    operands: &[u32],
    customs: &crate::custom::CustomTable,
) {
    let name = match *op {
        Op::Custom(_, f) | Op::CustomN { f, .. } => customs[f as usize].name(),
        _ => op.name(),
    };
    let mut inputs = Vec::new();
    op.for_each_input(operands, |p| inputs.push(nodes[p as usize].value));
    if g.is_finite() {
        panic!(
            "scalargrad anomaly: the reverse pass through `{}` (node {}, inputs {:?}, value {}) \
             turned the finite gradient {} into a non-finite one (alone or summed with the \
             gradient already accumulated; backward called at {})",
            name,
            pos,
            inputs,
            nodes[pos].value,
            g,
            std::panic::Location::caller()
        );
    }
}

/// [`Pull`] on numbers: reads values, accumulates gradients (see [`reverse_pass`]).
struct NumberPull<'a, const ANOMALY: bool, const SCRATCH: bool> {
    nodes: &'a mut [Node],
    /// This pass's gradients of positions below `split`.
    adjoint: &'a mut [f64],
    split: usize,
    customs: &'a crate::custom::CustomTable,
    non_finite: bool,
}

impl<const ANOMALY: bool, const SCRATCH: bool> Pull<f64> for NumberPull<'_, ANOMALY, SCRATCH> {
    #[inline(always)]
    fn input(&self, p: u32) -> f64 {
        self.nodes[p as usize].value
    }
    #[inline(always)]
    fn wants(&self, p: u32) -> bool {
        self.nodes[p as usize].tracked()
    }
    #[inline(always)]
    fn give(&mut self, p: u32, d: f64) {
        let p = p as usize;
        let node = &mut self.nodes[p];
        node.meta |= REACHED;
        let sum = if SCRATCH && p < self.split {
            self.adjoint[p] += d;
            self.adjoint[p]
        } else {
            node.grad += d;
            node.grad
        };
        // The sum, not `d`: finite shares can overflow when they accumulate.
        if ANOMALY && !sum.is_finite() {
            self.non_finite = true;
        }
    }
    fn custom_derivative(&self, index: u32, x: f64, y: f64) -> f64 {
        self.customs[index as usize].derivative_f64(x, y)
    }
    fn custom_partial(&self, index: u32, i: usize, xs: &[f64], y: f64) -> f64 {
        self.customs[index as usize].partial_f64(i, xs, y)
    }
}

impl Graph {
    /// The gradient of `y` with respect to each of `xs`, *as new nodes of this graph*: the
    /// reverse pass is recorded with the same ops (and the same derivative rules) as the
    /// forward one, so the result can be differentiated again, to any order. No
    /// [`Var::grad`] is touched. An `x` that `y` does not depend on gets a constant 0.
    ///
    /// Cost: the recorded gradient holds a few nodes per op node on a path from one of the
    /// `xs` to `y` (one or two per input of each op, plus constants the rules need); branches
    /// of `y` that no listed `x` feeds record nothing. Measured on the
    /// seed-000 network loss (19 nodes): the first-order gradient records 38 nodes (2×), the
    /// gradient of that gradient dotted with a vector (a Hessian-vector product) 117 (3.1× the
    /// first order), one Hessian row 34 to 65; see [`hessian`](crate::hessian) for the table.
    ///
    /// # Panics
    /// If a handle is from another graph or freed.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(2.0);
    /// let y = x.pow(5.0);
    /// let d1 = g.grad(y, &[x])[0]; // 5x⁴
    /// let d2 = g.grad(d1, &[x])[0]; // 20x³
    /// let d3 = g.grad(d2, &[x])[0]; // 60x²
    /// assert_eq!((d1.value(), d2.value(), d3.value()), (80.0, 160.0, 240.0));
    /// assert_eq!(x.grad(), 0.0); // untouched
    /// ```
    #[inline]
    #[track_caller]
    pub fn grad<'g>(&'g self, y: Var<'g>, xs: &[Var<'g>]) -> Vec<Var<'g>> {
        self.check_same(y);
        for &x in xs {
            self.check_same(x);
        }
        let root = y.pos() as usize;
        crate::versions::check(&mut self.tape_mut(), root);
        let leads = self.leads_to(root, xs);
        let mut adjoint: Vec<Option<Var<'g>>> = vec![None; root + 1];
        if y.is_tracked() && leads[root] {
            adjoint[root] = Some(self.constant(1.0));
        }
        for i in (0..=root).rev() {
            let Some(g) = adjoint[i] else { continue };
            // Copy what the rule needs out of the tape: recording borrows it again.
            let (op, out, local) = {
                let t = self.tape();
                let op = t.nodes[i].op;
                let out = Var::new(self, t.id_at(i));
                let mut local: SmallVec<[u32; 16]> = SmallVec::new();
                let op = match op {
                    Op::Pow(a, k) => {
                        local.extend_from_slice(&t.operands[k as usize..][..2]);
                        Op::Pow(a, 0)
                    }
                    Op::Sum { start, len } => {
                        local.extend_from_slice(&t.operands[start as usize..][..len as usize]);
                        Op::Sum { start: 0, len }
                    }
                    Op::Dot { start, pairs, bias } => {
                        let len = (2 * pairs + bias as u32) as usize;
                        local.extend_from_slice(&t.operands[start as usize..][..len]);
                        Op::Dot {
                            start: 0,
                            pairs,
                            bias,
                        }
                    }
                    op @ Op::CustomN { .. } => crate::custom::rebase(op, &t.operands, &mut local),
                    op => op,
                };
                (op, out, local)
            };
            let mut pull = NodePull {
                graph: self,
                adjoint: &mut adjoint,
                leads: &leads,
            };
            op.pullback(&local, out, g, &mut pull);
        }
        xs.iter()
            .map(|&x| {
                let p = x.pos() as usize;
                adjoint
                    .get(p)
                    .copied()
                    .flatten()
                    .unwrap_or_else(|| self.constant(0.0))
            })
            .collect()
    }
}

impl Graph {
    /// For each position up to `root`, whether it is one of `xs` or computed from one: only
    /// those nodes need a recorded gradient. Nodes that no listed input reaches would only
    /// add dead nodes to the graph (a forward scan in creation order, no recursion).
    fn leads_to(&self, root: usize, xs: &[Var<'_>]) -> Vec<bool> {
        let t = self.tape();
        let mut leads = vec![false; root + 1];
        let mut first = root + 1;
        for &x in xs {
            let p = t.pos(x.id()) as usize;
            if p <= root {
                leads[p] = true;
                first = first.min(p);
            }
        }
        for i in first..=root {
            if !leads[i] {
                let mut any = false;
                t.nodes[i]
                    .op
                    .for_each_input(&t.operands, |p| any |= leads[p as usize]);
                leads[i] = any;
            }
        }
        leads
    }
}

/// [`Pull`] on handles: every derivative is recorded as nodes, accumulated with `+`.
struct NodePull<'a, 'g> {
    graph: &'g Graph,
    adjoint: &'a mut [Option<Var<'g>>],
    /// Which nodes lie on a path from a listed input (see `Graph::leads_to`).
    leads: &'a [bool],
}

impl<'g> Pull<Var<'g>> for NodePull<'_, 'g> {
    fn input(&self, p: u32) -> Var<'g> {
        Var::new(self.graph, self.graph.tape().id_at(p as usize))
    }
    fn wants(&self, p: u32) -> bool {
        self.leads[p as usize] && self.graph.tape().nodes[p as usize].tracked()
    }
    fn give(&mut self, p: u32, d: Var<'g>) {
        let slot = &mut self.adjoint[p as usize];
        *slot = Some(match *slot {
            Some(acc) => acc + d,
            None => d,
        });
    }
    fn custom_derivative(&self, index: u32, x: Var<'g>, y: Var<'g>) -> Var<'g> {
        crate::custom::derivative_node(self.graph, index, x, y)
    }
    fn custom_partial(&self, index: u32, i: usize, xs: &[Var<'g>], y: Var<'g>) -> Var<'g> {
        crate::custom::partial_node(self.graph, index, i, xs, y)
    }
}
