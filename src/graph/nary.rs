//! The n-ary ops of [`Graph`]: [`Graph::sum`], [`Graph::dot`] and [`Graph::affine`] (one
//! node for many terms, bit for bit the chain of binary nodes they replace), and the checked
//! inputs a layer shares between its neurons.

use crate::graph::{Graph, NodeId, Tape};
use crate::op::{Op, Span, Wants};
use crate::Var;

impl Graph {
    /// `x₀ + x₁ + … + xₙ₋₁` as one node (primitive for speed), summed left to right so the
    /// value is bit-for-bit that of the chain of binary `+`. Derivative 1 for each input.
    ///
    /// # Panics
    /// If `xs` is empty, or a handle is from another graph or freed.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let xs: Vec<_> = (1..=4).map(|i| g.var(i as f64)).collect();
    /// let s = g.sum(&xs);
    /// s.backward();
    /// assert_eq!(s.value(), 10.0);
    /// assert!(xs.iter().all(|x| x.grad() == 1.0));
    /// ```
    #[inline]
    #[track_caller]
    pub fn sum<'g>(&'g self, xs: &[Var<'g>]) -> Var<'g> {
        assert!(!xs.is_empty(), "scalargrad: Graph::sum of no terms");
        if xs.len() == 1 {
            self.check_same(xs[0]);
            xs[0].pos(); // panics if freed, like every other path
            return xs[0];
        }
        let len = u32::try_from(xs.len()).unwrap_or_else(|_| too_many_terms());
        let mut t = self.tape_mut();
        let (xs, _, tracked) = span_of(self, &mut t, xs);
        let id = t.push_op_tracked(Op::Sum { xs, len }, tracked);
        Var::new(self, id)
    }

    /// `w₀x₀ + w₁x₁ + …` as one node (primitive for speed), accumulated left to right so the
    /// value is bit-for-bit that of the chain of binary ops. Derivatives: `xᵢ` for `wᵢ`, `wᵢ`
    /// for `xᵢ`.
    ///
    /// # Panics
    /// If the slices are empty or of different lengths, or a handle is foreign or freed.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let w = [g.var(1.0), g.var(2.0)];
    /// let x = [g.constant(3.0), g.constant(4.0)];
    /// let y = g.dot(&w, &x);
    /// y.backward();
    /// assert_eq!((y.value(), w[0].grad(), w[1].grad()), (11.0, 3.0, 4.0));
    /// ```
    #[inline]
    #[track_caller]
    pub fn dot<'g>(&'g self, w: &[Var<'g>], x: &[Var<'g>]) -> Var<'g> {
        self.dot_node(None, w, x)
    }

    /// A neuron's pre-activation `b + w₀x₀ + w₁x₁ + …` as one node, accumulated left to right
    /// starting from `b` (micrograd's order), so its value and gradients are bit-for-bit those
    /// of the element-by-element graph (the gradients when no handle repeats: see
    /// [`op`](crate::op)). Derivatives: 1 for `b`, `xᵢ` for `wᵢ`, `wᵢ` for `xᵢ`.
    ///
    /// # Panics
    /// If the slices have different lengths, or a handle is foreign or freed.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let (b, w, x) = (g.var(0.5), [g.var(2.0)], [g.constant(3.0)]);
    /// let y = g.affine(b, &w, &x);
    /// y.backward();
    /// assert_eq!((y.value(), b.grad(), w[0].grad()), (6.5, 1.0, 3.0));
    /// ```
    #[inline]
    #[track_caller]
    pub fn affine<'g>(&'g self, b: Var<'g>, w: &[Var<'g>], x: &[Var<'g>]) -> Var<'g> {
        self.dot_node(Some(b), w, x)
    }

    /// `ln(Σ eˣⁱ)`, computed stably as `m + ln(Σ eˣⁱ⁻ᵐ)` with `m` the largest value (a
    /// constant: any `m` gives the same function and derivatives, the largest keeps every
    /// exponential at most 1), so `logsumexp([1000, 1000])` is `1000 + ln 2`, not `inf`.
    /// Derivative `eˣⁱ / Σ eˣʲ` (the softmax) for each input. Composed of `-`, `exp`,
    /// [`Graph::sum`] and `ln`, so every higher derivative follows. Infinite inputs follow
    /// IEEE (`m` taken as 0 when the largest is infinite): all `−inf` gives `−inf`, a `+inf`
    /// gives `+inf`.
    ///
    /// The shift is fixed when the node is recorded: after [`Graph::recompute`] with far
    /// larger values, record it again to keep it stable.
    ///
    /// # Panics
    /// If `xs` is empty, or a handle is from another graph or freed.
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let xs = [g.var(1000.0), g.var(1000.0)];
    /// let y = g.logsumexp(&xs);
    /// y.backward();
    /// assert_eq!(y.value(), 1000.0 + 2f64.ln());
    /// assert_eq!((xs[0].grad(), xs[1].grad()), (0.5, 0.5));
    /// ```
    #[track_caller]
    pub fn logsumexp<'g>(&'g self, xs: &[Var<'g>]) -> Var<'g> {
        assert!(!xs.is_empty(), "scalargrad: Graph::logsumexp of no terms");
        for &x in xs {
            self.check_same(x);
        }
        let largest = xs
            .iter()
            .map(|x| x.value())
            .fold(f64::NEG_INFINITY, f64::max);
        let m = self.constant(if largest.is_finite() { largest } else { 0.0 });
        let terms: Vec<Var<'g>> = xs.iter().map(|&x| (x - m).exp()).collect();
        m + self.sum(&terms).ln()
    }

    /// Records n-ary custom op number `index` on `xs` (checked: of this graph; the count
    /// by the caller).
    #[track_caller]
    pub(crate) fn apply_custom_nary<'g>(&'g self, index: u32, xs: &[Var<'g>]) -> Var<'g> {
        for &x in xs {
            self.check_same(x);
        }
        let mut t = self.tape_mut();
        let positions: smallvec::SmallVec<[u32; 8]> = xs.iter().map(|x| t.pos(x.id())).collect();
        let start = t.push_operands(std::iter::once(positions.len() as u32).chain(positions));
        let id = t.push_op(Op::CustomN { start, f: index });
        Var::new(self, id)
    }

    #[inline]
    #[track_caller]
    fn dot_node<'g>(&'g self, b: Option<Var<'g>>, w: &[Var<'g>], x: &[Var<'g>]) -> Var<'g> {
        assert_eq!(
            w.len(),
            x.len(),
            "scalargrad: dot of {} weights with {} inputs",
            w.len(),
            x.len()
        );
        match b {
            None => assert!(!w.is_empty(), "scalargrad: Graph::dot of no terms"),
            Some(b) if w.is_empty() => {
                self.check_same(b);
                b.pos(); // panics if freed, like every other path
                return b;
            }
            Some(_) => {}
        }
        let len = u32::try_from(w.len()).unwrap_or_else(|_| too_many_terms());
        let mut t = self.tape_mut();
        let bias = b.map(|b| {
            self.check_same(b);
            t.pos(b.id())
        });
        // (a panic on a bad `x` may leave `w`'s list in the operand table, unused)
        let (w, w_all, w_any) = span_of(self, &mut t, w);
        let (x, x_all, x_any) = span_of(self, &mut t, x);
        let wants = Wants(Wants::side(w_all, w_any, false) | Wants::side(x_all, x_any, true));
        let tracked = w_any || x_any || bias.is_some_and(|b| t.tracked(b as usize));
        let ahead = crate::fast::ahead::value(&mut t, w, x, len, bias);
        let id = t.push_dot((w, x, len, bias), wants, tracked, ahead);
        Var::new(self, id)
    }
}

/// The positions of `vs` as a [`Span`] (a run if they are consecutive, else a list
/// appended to the operand table), and whether all and whether any of them is tracked.
///
/// Three ways, the quickest that applies: a run of handles made in one epoch (a neuron's
/// weights, a layer's outputs) is checked as a block (each handle compared with the first,
/// one liveness test, the flags read in a row); the same handles as the last list checked
/// (the next neuron over the same inputs) are listed again unchecked
/// ([`Tape::listed_again`]); anything else is checked handle by handle.
///
/// # Panics
/// If a handle is from another graph or freed (the operand table left as it was).
#[inline(always)]
#[track_caller]
fn span_of<'g>(graph: &'g Graph, t: &mut Tape, vs: &[Var<'g>]) -> (Span, bool, bool) {
    let first = vs[0].id();
    // A run made in one epoch: the last handle live vouches for all (a rewind that freed
    // any of them freed the last).
    // (the second handle first: a list is told from a run without a pass)
    let maybe = vs
        .get(1)
        .is_none_or(|v| v.id().pos == first.pos.wrapping_add(1));
    let run = maybe && run_difference(graph, vs, first.pos, first.epoch) == 0;
    let last = vs[vs.len() - 1].id();
    if run && last.pos >= first.pos && t.is_live_fast(last) {
        let (all, any) = t.tracked_run(first.pos as usize, vs.len());
        crate::counts::count(crate::counts::Path::RunsChecked, vs.len());
        return (Span::Run(first.pos), all, any);
    }
    let g = address(graph);
    let same = |ids: &[NodeId]| {
        ids.len() == vs.len()
            && vs.iter().zip(ids).fold(0, |diff, (v, &b)| {
                diff | handle_difference(g, v, id_bits(b))
            }) == 0
    };
    if let Some((start, all, any)) = t.listed_again(same) {
        return (Span::List(start), all, any);
    }
    // Checks first (a tight loop that only branches out on trouble), then one branch-free
    // pass: the AND and OR of the words give "all tracked" and "any tracked".
    if !vs
        .iter()
        .all(|v| std::ptr::eq(graph, v.graph()) && t.is_live_fast(v.id()))
    {
        check_each(graph, t, vs);
    }
    let (mut all, mut any, mut run) = (true, false, true);
    for (i, v) in vs.iter().enumerate() {
        let tracked = t.tracked(v.id().pos as usize);
        all &= tracked;
        any |= tracked;
        run &= v.id().pos == first.pos.wrapping_add(i as u32);
    }
    if run {
        return (Span::Run(first.pos), all, any);
    }
    let start = t.push_checked_list(vs.iter().map(|v| v.id()), all, any);
    (Span::List(start), all, any)
}

/// Inputs of dot products checked once for several (a layer's inputs, shared by its
/// neurons): where they are and whether all / any of them is tracked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Inputs<'g> {
    graph: &'g Graph,
    span: Span,
    len: u32,
    all: bool,
    any: bool,
}

impl<'g> Inputs<'g> {
    /// A run of `len` tracked nodes from `first` (a layer's outputs).
    pub(crate) fn run(graph: &'g Graph, first: u32, len: u32) -> Self {
        Inputs {
            graph,
            span: Span::Run(first),
            len,
            all: true,
            any: true,
        }
    }

    /// How many inputs.
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    /// Where the inputs are.
    pub(crate) fn span(&self) -> Span {
        self.span
    }

    /// Whether all, and whether any, of the inputs is tracked.
    pub(crate) fn tracked(&self) -> (bool, bool) {
        (self.all, self.any)
    }

    /// # Panics
    /// If the inputs are of another graph than `graph`.
    #[track_caller]
    pub(crate) fn check_graph(&self, graph: &Graph) {
        if !std::ptr::eq(graph, self.graph) {
            graph.check_same(Var::new(self.graph, NodeId { pos: 0, epoch: 0 }));
        }
    }

    /// Handles to the nodes of a run of outputs recorded since the last rewind (a layer's,
    /// from `affine_rows_run`, the only inputs this is asked of), made now.
    ///
    /// # Panics
    /// If the inputs are a list (a bug in the caller).
    pub(crate) fn vars(&self) -> Vec<Var<'g>> {
        let Span::Run(first) = self.span else {
            unreachable!("scalargrad: handles are made for a run of outputs only");
        };
        let t = self.graph.tape();
        (first..first + self.len)
            .map(|pos| Var::new(self.graph, t.id_at(pos as usize)))
            .collect()
    }
}

impl Graph {
    /// Checks `xs` once for [`Graph::affine_run`].
    ///
    /// # Panics
    /// If `xs` is empty, or a handle is from another graph or freed.
    #[track_caller]
    pub(crate) fn inputs<'g>(&'g self, xs: &[Var<'g>]) -> Inputs<'g> {
        assert!(!xs.is_empty(), "scalargrad: dot product of no terms");
        let len = u32::try_from(xs.len()).unwrap_or_else(|_| too_many_terms());
        let (span, all, any) = span_of(self, &mut self.tape_mut(), xs);
        Inputs {
            graph: self,
            span,
            len,
            all,
            any,
        }
    }

    /// [`Graph::affine`] (or [`Graph::dot`] without `b`) for a neuron: `w` are leaves
    /// created one after another by [`Graph::var`] (a run of tracked positions), `x` checked
    /// by [`Graph::inputs`]. Only `w`'s last handle is checked: a rewind that freed any of
    /// the run freed its last one too.
    ///
    /// # Panics
    /// If the lengths differ, or a handle is foreign or freed.
    #[inline]
    #[track_caller]
    pub(crate) fn affine_run<'g>(
        &'g self,
        b: Option<Var<'g>>,
        w: &[Var<'g>],
        x: Inputs<'g>,
    ) -> Var<'g> {
        x.check_graph(self);
        assert_eq!(
            w.len(),
            x.len as usize,
            "scalargrad: dot of {} weights with {} inputs",
            w.len(),
            x.len
        );
        let mut t = self.tape_mut();
        let last = w[w.len() - 1];
        if !std::ptr::eq(self, last.graph()) || !t.is_live_fast(last.id()) {
            check_each(self, &t, &[last]);
        }
        debug_assert!(
            w.iter()
                .enumerate()
                .all(|(i, v)| v.id().pos == w[0].id().pos + i as u32
                    && t.tracked(v.id().pos as usize))
        );
        let bias = b.map(|b| {
            if !std::ptr::eq(self, b.graph()) || !t.is_live_fast(b.id()) {
                check_each(self, &t, &[b]);
            }
            b.id().pos
        });
        let wants = Wants(Wants::side(true, true, false) | Wants::side(x.all, x.any, true));
        let op = Op::Dot {
            w: Span::Run(w[0].id().pos),
            x: x.span,
            len: x.len,
            bias,
            wants,
        };
        let id = t.push_op_tracked(op, true);
        Var::new(self, id)
    }
}

/// 0 if and only if `vs` are handles of `graph` at positions `pos`, `pos + 1`, … made in
/// `epoch` (a run of one epoch): each handle's differences from what it should be, OR-ed
/// together with no branch per handle. A handle is two words, its graph's address and its
/// id ([`id_bits`]), compared lane by lane with the two it should have (the id one more
/// each handle), so that the compiler keeps a handle in one vector register: a load, an
/// XOR, an OR and an add a handle. (A run past position `u32::MAX` carries into the epoch
/// and so is no run.)
#[inline(always)]
pub(crate) fn run_difference<'g>(graph: &'g Graph, vs: &[Var<'g>], pos: u32, epoch: u32) -> u64 {
    let mut want = [address(graph), id_bits(NodeId { pos, epoch })];
    let mut diff = [0u64; 2];
    for v in vs {
        let have = [address(v.graph()), id_bits(v.id())];
        diff[0] |= have[0] ^ want[0];
        diff[1] |= have[1] ^ want[1];
        want[1] = want[1].wrapping_add(1);
    }
    diff[0] | diff[1]
}

/// 0 if and only if `v` is a handle of the graph at address `g` with the id whose bits are
/// `want` ([`id_bits`]): the differences OR-ed, no branch.
#[inline(always)]
fn handle_difference(g: u64, v: &Var<'_>, want: u64) -> u64 {
    (address(v.graph()) ^ g) | (id_bits(v.id()) ^ want)
}

/// A graph's address, to compare handles' graphs by.
#[inline(always)]
fn address(graph: &Graph) -> u64 {
    std::ptr::from_ref(graph) as usize as u64
}

/// A node id as one number: `position | epoch << 32`.
#[inline(always)]
fn id_bits(id: NodeId) -> u64 {
    u64::from(id.pos) | u64::from(id.epoch) << 32
}

/// The slow path of the quick checks of [`span_of`], [`Graph::affine_run`] and a layer's
/// rows: each handle's graph and liveness on its own (counted as `handles_checked_alone`);
/// panics on a foreign or freed handle.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn check_each<'g>(graph: &'g Graph, t: &Tape, vs: &[Var<'g>]) {
    crate::counts::count(crate::counts::Path::HandlesCheckedAlone, vs.len());
    for v in vs {
        graph.check_same(*v);
        t.pos(v.id());
    }
}

#[cold]
#[inline(never)]
fn too_many_terms() -> ! {
    panic!("scalargrad: an n-ary op takes at most 4,294,967,295 terms")
}
