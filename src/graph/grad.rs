//! [`Graph::grad`]: the reverse pass recorded as new nodes, with the same rules (in
//! [`op`](crate::op), generic over [`Scalar`](crate::Scalar)) run on handles, so a gradient
//! can be differentiated again, to any order.

use crate::op::Pull;
use crate::{Graph, Var};

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
        crate::tape::versions::check(&mut self.tape_mut(), root);
        // anomaly mode names this call, not the rule inside the crate that records a node
        let site = Site::new(self, std::panic::Location::caller());
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
                let out = Var::new(self, t.id_at(i));
                let mut local = smallvec::SmallVec::new();
                let op = t.op(i).localize(t.operands(), &mut local);
                (op, out, local)
            };
            let mut pull = NodePull {
                graph: self,
                adjoint: &mut adjoint,
                leads: &leads,
            };
            op.pullback(&local, out, g, &mut pull);
        }
        drop(site);
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
                t.op(i)
                    .for_each_input(t.operands(), |p| any |= leads[p as usize]);
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
        self.leads[p as usize] && self.graph.tape().tracked(p as usize)
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

/// The user's call, named as where nodes are recorded while it lasts (see `Tape::set_site`);
/// the site before it comes back on drop, also when a panic unwinds.
struct Site<'g> {
    graph: &'g Graph,
    before: Option<&'static std::panic::Location<'static>>,
}

impl<'g> Site<'g> {
    fn new(graph: &'g Graph, at: &'static std::panic::Location<'static>) -> Self {
        let mut t = graph.tape_mut();
        let site = t.site_or(at);
        let before = t.set_site(Some(site));
        Site { graph, before }
    }
}

impl Drop for Site<'_> {
    fn drop(&mut self) {
        if let Ok(mut t) = self.graph.tape.try_borrow_mut() {
            t.set_site(self.before);
        }
    }
}
