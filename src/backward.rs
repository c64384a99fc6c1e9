//! The reverse pass: gradients as numbers ([`Var::backward`]) and as nodes ([`Graph::grad`]).
//!
//! Both walk the tape backwards from the root's position. Creation order is a topological
//! order (inputs before outputs), so when the walk reaches a node, every node that uses it
//! has already handed it its share of the gradient: no graph search, no recursion, and a
//! chain of any depth costs one pass. Only nodes the root was reached from (its ancestors)
//! and that depend on a tracked leaf do any work; the rest are skipped by a flag test.

use crate::op::{
    row_stride, Op, Pull, Seq, Span, Wants, A_SHIFT, B_SHIFT, DELTA_MAX, TAG_ADD, TAG_LEAF,
    TAG_MASK, TAG_MUL, TAG_RELU, TAG_ROW,
};
use smallvec::SmallVec;

use crate::tape::{Tape, REACHED, TRACKED};
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
/// Gradients accumulate in place, in `grads`, at every op node whose gradient was 0 before
/// the pass (`>= Tape::dirty`: every op node recorded since the last [`Graph::zero_grad`] or
/// backward) and at every leaf (a leaf passes nothing on); other op nodes accumulate in a
/// scratch array first, so a second `backward` adds its own gradients instead of
/// propagating the sum of both.
///
/// # Which nodes the walk visits: marks
/// Every share *marks* its target reached ([`NumberPull::mark`]); the walk visits exactly
/// the marked nodes (a node reached with shares that sum to 0 too, so `0·∞` below it gives
/// NaN), and keeps no per-node scratch. A mark lives in one of two places:
///
/// - if the target is less than [`RING`] positions below the node being pulled back, in a
///   ring of `RING` flags on the walk's stack, at `ring[p % RING]`;
/// - else in the word's `REACHED` flag, set by the first share (no store when already
///   set).
///
/// The walk takes node `i` iff its ring slot or its word flag is set; it clears the slot
/// (for position `i - RING`, which uses it next) and the flag, if set. Below a node it does
/// not take, it steps over unmarked positions eight at a time ([`skip_unmarked`]): a
/// replayed W1 step late in training, where most samples' hinges are off, spent a quarter
/// of its reverse pass finding its way through them one at a time. Code that marks a
/// run (`axpy_run`) or anything else may always set the word flag instead: both are read.
///
/// Why the ring: an op's inputs are mostly just below it (`acc + w·x`: the `+` reads the `·`
/// and the previous `+`), and a flag stored into the words the walk is about to load (to
/// find the next nodes' inputs) makes those loads wait on the store. With marks in the
/// ring, the words of an element-wise graph are only read, except for the first share of a
/// far input (a weight; anything more than `RING` back). Measured on W1 element-wise
/// (benches/compare, `scalargrad replay element`: recompute and reverse pass, 65,814
/// nodes): ~525 → ~425 µs a step. A byte of marks per node over the whole tape did a little better (~390 µs) but
/// costs a byte a node, past W2's 25-byte bound (tests/memory.rs); a bit per node, with
/// the walk's 64-bit block in a register, did worse (~440 µs).
///
/// # Zero gradients
/// A node reached with gradient 0 would hand each input `0 · ∂y/∂x`. Where every node at or
/// below it is *tame* (a finite value, and an op whose local derivatives are finite wherever
/// its inputs' values and its own are: [`Op::is_tame`]), every such share is ±0, and so is
/// everything they lead to further down. Adding ±0 leaves a gradient bit for bit as it is (a
/// gradient is a sum started from +0, which is never −0), so such a node passes nothing on
/// and marks nothing: the walk skips it, and with it whatever below it only it reached (the
/// neurons under a relu that is off, a sample whose hinge is off). [`Tape::first_wild`] says
/// where the tame nodes end; at and above the first wild one (an infinite value, a `1/x`
/// derivative, a user op) zeros are passed on as before, so a `0 · ∞` still gives NaN
/// (`tests/zero_gradients.rs` holds the two to each other, bit for bit). A row reached with
/// gradient 0 above the wild ones may still skip its arithmetic (see [`NumberPull::rows`]).
#[inline]
#[track_caller]
fn reverse_pass(t: &mut Tape, root: usize) {
    if !t.tracked(root) {
        return;
    }
    if t.interrupted {
        // A panic (anomaly, or a custom op's derivative) left flags behind.
        let len = t.len();
        t.words
            .live_mut(len)
            .iter_mut()
            .for_each(|w| *w &= !REACHED);
    }
    t.prepare_reverse(root + 1);
    t.interrupted = true;
    // No op node below `leaf_prefix`: if that covers every position below `dirty`, nothing
    // needs the scratch array (train_step's case: parameters and inputs, then the step).
    let split = if t.dirty <= t.leaf_prefix {
        0
    } else {
        t.dirty.min(root + 1)
    };
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

/// The walk of [`reverse_pass`]: `ANOMALY` = anomaly mode, `SCRATCH` = some op nodes below
/// the root may hold gradients of an earlier pass.
#[track_caller]
fn walk<const ANOMALY: bool, const SCRATCH: bool>(t: &mut Tape, root: usize, split: usize) {
    let Tape {
        values,
        grads,
        words,
        far,
        operands,
        customs,
        adjoint,
        first_wild,
        ..
    } = &mut *t;
    // Below this position, a zero gradient is not passed on (see "Zero gradients").
    let tame_below = *first_wild;
    adjoint.clear();
    adjoint.resize(split, 0.0);
    // One length for the three slices: a position checked against one is in range for all.
    let n = root + 1;
    let (values, grads, words) = (values.live(n), grads.live_mut(n), words.live_mut(n));
    let adjoint = &mut adjoint[..];
    let (far, operands, customs): (&[Op], &[u32], &crate::custom::CustomTable) =
        (far, operands, customs);
    let mut non_finite = false;
    // Marks of the positions just below the walk (see `reverse_pass`).
    let mut ring = [false; RING];
    // Runs of weights found finite in this pass (see `NumberPull::rows`).
    let mut finite: SmallVec<[(usize, usize); 8]> = SmallVec::new();
    // A `NumberPull` over the slices, made where it is used: the loop keeps the slices in
    // registers (a pull kept across the loop would live on the stack, its pointers
    // reloaded after every store to a gradient, which might alias them).
    macro_rules! pull {
        ($at:expr) => {
            NumberPull::<ANOMALY, SCRATCH> {
                values,
                grads: &mut *grads,
                words: &mut *words,
                adjoint: &mut *adjoint,
                split,
                customs,
                non_finite,
                ring: &mut ring,
                finite: &mut finite,
                tame_below,
                at: $at,
            }
        };
    }
    let mut pull = pull!(root);
    pull.give(root as u32, 1.0);
    non_finite = pull.non_finite;
    let mut next = root + 1;
    while next > 0 {
        next -= 1;
        let i = next;
        let word = words[i];
        // taken, so the slot is clear for position `i - RING`, next to use it
        let marked = std::mem::take(&mut ring[i % RING]);
        if !marked && word & REACHED == 0 {
            next = skip_unmarked(&ring, words, next);
            continue;
        }
        // A layer's rows all at once, from the highest one reached: every node that uses a
        // row comes after the last row, so all their gradients are complete here.
        if !ANOMALY && !SCRATCH && word & TAG_MASK == TAG_ROW {
            let mut pull = pull!(i);
            if let Some(lowest) = pull.rows(i, marked, far) {
                next = lowest;
                continue;
            }
        }
        // A run of relus each reading the node `d` below it (a layer's activations over its
        // rows: the same word) in one tight loop, each taking the same steps, in the same
        // order, as it would one node at a time.
        if !ANOMALY && !SCRATCH && word & TAG_MASK == TAG_RELU {
            let d = (word >> A_SHIFT) as usize & DELTA_MAX as usize;
            let key = word & !REACHED;
            let mut k = i;
            loop {
                let w = words[k];
                if w & REACHED != 0 {
                    words[k] = w & !REACHED;
                }
                if k == i || marked_take(&mut ring, k) || w & REACHED != 0 {
                    let g = grads[k];
                    // a zero gradient over tame nodes is not passed on
                    if g != 0.0 || k >= tame_below {
                        let mut pull = pull!(k);
                        Op::Relu((k - d) as u32).pullback(operands, values[k], g, &mut pull);
                    }
                }
                if k == 0 || words[k - 1] & !REACHED != key {
                    break;
                }
                k -= 1;
            }
            next = k;
            continue;
        }
        if word & REACHED != 0 {
            words[i] = word & !REACHED;
        }
        let g = if SCRATCH && i < split {
            let g = adjoint[i];
            grads[i] += g;
            // a finite share can overflow the gradient kept from an earlier pass
            if ANOMALY && !grads[i].is_finite() {
                non_finite = true;
            }
            g
        } else {
            grads[i]
        };
        if word & TAG_MASK == TAG_LEAF {
            if ANOMALY && non_finite {
                report_backward_anomaly(&Op::Leaf, i, g, values, operands, customs);
            }
            continue;
        }
        // Nothing to pass on: every share would be ±0 (see "Zero gradients").
        if g == 0.0 && i < tame_below {
            continue;
        }
        let y = values[i];
        // The two ops of an element-wise graph (`acc + w·x`) and relu (a layer's
        // activations) by a test each before the jump table: well predicted in their
        // patterns, where an indirect jump is less so.
        let tag = word & TAG_MASK;
        if !ANOMALY && (tag == TAG_MUL || tag == TAG_ADD || tag == TAG_RELU) {
            let pos = i as u32;
            let a = pos.wrapping_sub((word >> A_SHIFT) as u32 & DELTA_MAX);
            let b = pos.wrapping_sub((word >> B_SHIFT) as u32 & DELTA_MAX);
            let op = if tag == TAG_MUL {
                Op::Mul(a, b)
            } else if tag == TAG_ADD {
                Op::Add(a, b)
            } else {
                Op::Relu(a)
            };
            let mut pull = pull!(i);
            op.pullback(operands, y, g, &mut pull);
            non_finite = pull.non_finite;
            continue;
        }
        let mut pull = pull!(i);
        pull_other(&mut pull, word, i, y, g, far, operands);
        non_finite = pull.non_finite;
    }
}

/// Where [`walk`] goes on from below an unmarked node at `next`: eight unmarked positions
/// at a time below it (most of a graph late in training, where the hinges are off), the
/// same as eight steps that find no mark, with none to clear, but one test for all eight.
/// Out of line, and tried only past an unmarked node: a graph with every node reached
/// (W3) then walks as fast as without it.
#[cold]
#[inline(never)]
fn skip_unmarked(ring: &[bool; RING], words: &[u64], mut next: usize) -> usize {
    while next >= 8 {
        let low = next - 8;
        let slot = low % RING;
        if slot > RING - 8 {
            break;
        }
        let rung = ring[slot..slot + 8].iter().fold(false, |m, &r| m | r);
        let flagged = words[low..next].iter().fold(0, |m, &w| m | w) & REACHED != 0;
        if rung || flagged {
            break;
        }
        next = low;
    }
    next
}

/// Whether the walk's ring marks position `k`, the mark taken.
#[inline(always)]
fn marked_take(ring: &mut [bool; RING], k: usize) -> bool {
    std::mem::take(&mut ring[k % RING])
}

/// One node of [`walk`] other than the two of its fast path (and every node in anomaly
/// mode), out of line: its jump table and rules would take the registers the loop needs.
#[inline(never)]
#[track_caller]
fn pull_other<const ANOMALY: bool, const SCRATCH: bool>(
    pull: &mut NumberPull<'_, ANOMALY, SCRATCH>,
    word: u64,
    i: usize,
    y: f64,
    g: f64,
    far: &[Op],
    operands: &[u32],
) {
    crate::op::with_op!(word, i as u32, far, |op| {
        op.pullback(operands, y, g, pull);
        if ANOMALY && pull.non_finite {
            report_backward_anomaly(&op, i, g, pull.values, operands, pull.customs);
        }
    });
}

#[cold]
#[track_caller]
fn report_backward_anomaly(
    op: &Op,
    pos: usize,
    g: f64,
    values: &[f64],
    operands: &[u32],
    customs: &crate::custom::CustomTable,
) {
    let name = match *op {
        Op::Custom(_, f) | Op::CustomN { f, .. } => customs[f as usize].name(),
        _ => op.name(),
    };
    let mut inputs = Vec::new();
    op.for_each_input(operands, |p| inputs.push(values[p as usize]));
    if g.is_finite() {
        panic!(
            "scalargrad anomaly: the reverse pass through `{}` (node {}, inputs {:?}, value {}) \
             turned the finite gradient {} into a non-finite one (alone or summed with the \
             gradient already accumulated; backward called at {})",
            name,
            pos,
            inputs,
            values[pos],
            g,
            std::panic::Location::caller()
        );
    }
}

/// [`Pull`] on numbers: reads values, accumulates gradients (see [`reverse_pass`]).
struct NumberPull<'a, const ANOMALY: bool, const SCRATCH: bool> {
    values: &'a [f64],
    grads: &'a mut [f64],
    words: &'a mut [u64],
    /// This pass's gradients of positions below `split`.
    adjoint: &'a mut [f64],
    split: usize,
    customs: &'a crate::custom::CustomTable,
    non_finite: bool,
    /// Marks of the positions `at - RING < p <= at`, at `ring[p % RING]` (see
    /// [`reverse_pass`]).
    ring: &'a mut [bool; RING],
    /// Runs of positions `start..end` whose values this pass found finite: a layer's
    /// weights, checked once per pass rather than once per sample (see
    /// [`NumberPull::rows`]).
    finite: &'a mut SmallVec<[(usize, usize); 8]>,
    /// Below this position a zero gradient is not passed on ([`Tape::first_wild`]).
    tame_below: usize,
    /// The position of the node being pulled back.
    at: usize,
}

/// How many positions below the node being pulled back are marked in the walk's ring
/// rather than in their words (4 KiB on the stack, a power of 2).
const RING: usize = 4096;

impl<const ANOMALY: bool, const SCRATCH: bool> NumberPull<'_, ANOMALY, SCRATCH> {
    /// Marks node `p` reached (see [`reverse_pass`]): its slot in the ring if `p` is less
    /// than `RING` positions below the node being pulled back, else the word's `REACHED`
    /// flag, stored only if not set yet (a weight is given a share by every sample, an input
    /// by every neuron that reads it).
    #[inline(always)]
    fn mark(&mut self, p: usize) {
        if self.at.wrapping_sub(p) < RING {
            self.ring[p % RING] = true;
        } else {
            let w = self.words[p];
            if w & REACHED == 0 {
                self.words[p] = w | REACHED;
            }
        }
    }

    /// Whether the values at `start..end` are all finite: looked up among the runs this pass
    /// has found finite, else checked (and remembered if so). Values do not change during a
    /// pass.
    #[inline]
    fn run_finite(&mut self, start: usize, end: usize) -> bool {
        if self.finite.iter().any(|&(s, e)| s <= start && end <= e) {
            return true;
        }
        let ok = self.values[start..end].iter().all(|v| v.is_finite());
        if ok {
            self.finite.push((start, end));
        }
        ok
    }

    /// Marks the run of nodes `from … from + len − 1` reached, as [`NumberPull::mark`] marks
    /// each: in the ring when the whole run is less than `RING` positions below the node
    /// being pulled back (a layer's inputs, just below its rows), so that their words are
    /// only read; else by their words' flags.
    #[inline(always)]
    fn mark_run(&mut self, from: usize, len: usize) {
        if self.at.wrapping_sub(from) < RING && from + len <= self.at + 1 {
            for p in from..from + len {
                self.ring[p % RING] = true;
            }
        } else {
            for w in &mut self.words[from..from + len] {
                *w |= REACHED;
            }
        }
    }

    /// `grads[to + i] += g · values[from + i]` for `i < len`, each target marked reached;
    /// `all`: every target wants a gradient (else each is tested).
    #[inline(always)]
    fn axpy_run(&mut self, to: usize, from: usize, len: usize, g: f64, all: bool) {
        let grads = &mut self.grads[to..to + len];
        let words = &mut self.words[to..to + len];
        let from = &self.values[from..from + len];
        if all {
            for ((d, w), &v) in grads.iter_mut().zip(words.iter_mut()).zip(from) {
                *d += g * v;
                *w |= REACHED;
            }
        } else {
            for ((d, w), &v) in grads.iter_mut().zip(words.iter_mut()).zip(from) {
                if *w & TRACKED != 0 {
                    *d += g * v;
                    *w |= REACHED;
                }
            }
        }
    }
}

impl<const ANOMALY: bool, const SCRATCH: bool> NumberPull<'_, ANOMALY, SCRATCH> {
    /// The reverse pass through rows `top − j … top` of a layer (`j`: the row number of
    /// the row at `top`, the highest one reached), row by row downwards, each as
    /// [`Op::Dot`]'s pullback would: its bias, its weights (`axpy` from the inputs), then
    /// the inputs (`axpy` from its weights), so every gradient is the same sum in the same
    /// order as one node at a time. The weights and biases are leaves (checked when the
    /// rows were recorded) and nothing reads a leaf's `REACHED` flag outside scratch and
    /// anomaly passes, so only the inputs are marked, once. Returns the lowest row's
    /// position, or `None` (nothing done) when the inputs are not one run apart from the
    /// parameters: the walk then takes the row as a plain dot.
    ///
    /// # Rows with a zero gradient
    /// A reached row whose gradient is 0 (a relu above it is off, or the loss above it is)
    /// would give its bias 0, each weight `0 · xᵢ` and each input `0 · wᵢ`. When the inputs
    /// (for the weights' shares) and the weights (for the inputs' shares) are all finite,
    /// every such share is ±0, and adding ±0 leaves a gradient as it is: a gradient is a sum
    /// started from +0, which is never −0. So the row adds nothing and is skipped; its inputs
    /// are still marked reached, so everything below is walked as before (and a `0 · ∞`
    /// further down still gives its NaN). With a non-finite input or weight, the row's
    /// shares are added as usual (NaN where `0 · ∞`). The weights are checked once per
    /// pass ([`NumberPull::run_finite`]), the inputs once per sample.
    #[inline(never)]
    fn rows(&mut self, top: usize, top_marked: bool, far: &[Op]) -> Option<usize> {
        let word = self.words[top];
        let head = (word >> A_SHIFT) as u32 & DELTA_MAX;
        let j = (word >> B_SHIFT) as usize; // the top field: no mask needed
        let Op::Dot {
            w: Span::Run(w0),
            x: Span::Run(x0),
            len,
            bias,
            wants,
        } = far[head as usize]
        else {
            return None;
        };
        let stride = row_stride(len, bias) as usize;
        let (w0, x0, len) = (w0 as usize, x0 as usize, len as usize);
        let params_end = w0 + (j + 1) * stride;
        if !(x0 + len <= w0 || params_end <= x0) {
            return None;
        }
        let base = top - j;
        let (x_any, x_all) = (wants.has(Wants::X_ANY), wants.has(Wants::X_ALL));
        // Whether a row with gradient 0 adds nothing (see above); only asked above the first
        // wild node: below it, such rows pass nothing on at all (see "Zero gradients").
        let zero_adds_nothing = top >= self.tame_below
            && self.values[x0..x0 + len].iter().all(|v| v.is_finite())
            && (!x_any || self.run_finite(w0, params_end));
        let bias = bias.is_some();
        if x_all {
            let rows = (base, top, top_marked, zero_adds_nothing);
            self.rows_all(rows, w0, stride, bias, x0, len);
            return Some(base);
        }
        // whether some row passes something on (and so its inputs are reached)
        let mut passes = false;
        for r in (base..=top).rev() {
            if !self.take_mark(r, top, top_marked) {
                continue;
            }
            let g = self.grads[r];
            if g == 0.0 && r < self.tame_below {
                continue;
            }
            passes = true;
            if g == 0.0 && zero_adds_nothing {
                continue;
            }
            let wk = w0 + (r - base) * stride;
            let (grads, values) = (&mut *self.grads, self.values);
            if bias {
                grads[wk + len] += g;
            }
            axpy(&mut grads[wk..wk + len], g, &values[x0..x0 + len]);
            // some inputs want a gradient, not all (all: `rows_all`)
            if x_any {
                let words = &self.words[x0..x0 + len];
                for ((d, &v), &w) in grads[x0..x0 + len]
                    .iter_mut()
                    .zip(&values[wk..wk + len])
                    .zip(words)
                {
                    if w & TRACKED != 0 {
                        *d += g * v;
                    }
                }
            }
        }
        if x_any && passes {
            for w in &mut self.words[x0..x0 + len] {
                if *w & TRACKED != 0 {
                    *w |= REACHED;
                }
            }
        }
        Some(base)
    }
}

impl<const ANOMALY: bool, const SCRATCH: bool> NumberPull<'_, ANOMALY, SCRATCH> {
    /// Whether the row at `r` was reached (marked in the ring or by its word's flag), its
    /// marks cleared; the walk has taken the ring slot of `top` already (`top_marked`).
    #[inline(always)]
    fn take_mark(&mut self, r: usize, top: usize, top_marked: bool) -> bool {
        let ring = if r == top {
            top_marked
        } else {
            std::mem::take(&mut self.ring[r % RING])
        };
        let w = self.words[r];
        if w & REACHED != 0 {
            self.words[r] = w & !REACHED;
        }
        ring || w & REACHED != 0
    }

    /// [`NumberPull::rows`] when every input wants a gradient: the same sums in the same
    /// order, with the inputs' gradients taken four at a time and kept in registers while
    /// every reached row adds its share (instead of loaded and stored once per row). With
    /// `zero_adds_nothing`, rows whose gradient is 0 are skipped (see
    /// [`NumberPull::rows`]); the inputs are marked reached all the same.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn rows_all(
        &mut self,
        (base, top, top_marked, zero_adds_nothing): (usize, usize, bool, bool),
        w0: usize,
        stride: usize,
        bias: bool,
        x0: usize,
        len: usize,
    ) {
        let mut reached: SmallVec<[(f64, usize); 32]> = SmallVec::new();
        // whether some row passes something on (and so its inputs are reached)
        let mut passes = false;
        for r in (base..=top).rev() {
            if !self.take_mark(r, top, top_marked) {
                continue;
            }
            let g = self.grads[r];
            if g == 0.0 && r < self.tame_below {
                continue;
            }
            passes = true;
            if g == 0.0 && zero_adds_nothing {
                continue;
            }
            let wk = w0 + (r - base) * stride;
            reached.push((g, wk));
            if bias {
                self.grads[wk + len] += g;
            }
            axpy(&mut self.grads[wk..wk + len], g, &self.values[x0..x0 + len]);
        }
        if passes {
            self.mark_run(x0, len);
        }
        if reached.is_empty() {
            return;
        }
        let (grads, values) = (&mut self.grads[x0..x0 + len], self.values);
        // Sixteen inputs at a time (eight registers of two), then four, then one: sixteen
        // independent sums hide the latency of each add.
        let mut i = 0;
        let mut chunks = grads.chunks_exact_mut(16);
        for chunk in &mut chunks {
            add_rows::<16>(chunk, &reached, values, i);
            i += 16;
        }
        let mut chunks = chunks.into_remainder().chunks_exact_mut(4);
        for chunk in &mut chunks {
            add_rows::<4>(chunk, &reached, values, i);
            i += 4;
        }
        for d in chunks.into_remainder() {
            for &(g, wk) in &reached {
                *d += g * values[wk + i];
            }
            i += 1;
        }
    }
}

/// `d[k] += g · values[wk + i + k]` for `k < N`, for each reached row `(g, wk)` in turn:
/// the `N` sums kept in registers across the rows.
#[inline(always)]
fn add_rows<const N: usize>(d: &mut [f64], reached: &[(f64, usize)], values: &[f64], i: usize) {
    let d: &mut [f64; N] = d.try_into().expect("a chunk of N");
    let mut acc = *d;
    for &(g, wk) in reached {
        let w: &[f64; N] = values[wk + i..wk + i + N].try_into().expect("N weights");
        for k in 0..N {
            acc[k] += g * w[k];
        }
    }
    *d = acc;
}

/// `d[i] += g · x[i]` over the shorter of the two.
#[inline(always)]
fn axpy(d: &mut [f64], g: f64, x: &[f64]) {
    for (d, &x) in d.iter_mut().zip(x) {
        *d += g * x;
    }
}

impl<const ANOMALY: bool, const SCRATCH: bool> Pull<f64> for NumberPull<'_, ANOMALY, SCRATCH> {
    #[inline(always)]
    fn input(&self, p: u32) -> f64 {
        self.values[p as usize]
    }
    #[inline(always)]
    fn wants(&self, p: u32) -> bool {
        self.words[p as usize] & TRACKED != 0
    }
    #[inline(always)]
    fn give(&mut self, p: u32, d: f64) {
        let p = p as usize;
        self.mark(p);
        let sum = if SCRATCH && p < self.split {
            self.adjoint[p] += d;
            self.adjoint[p]
        } else {
            self.grads[p] += d;
            self.grads[p]
        };
        // The sum, not `d`: finite shares can overflow when they accumulate.
        if ANOMALY && !sum.is_finite() {
            self.non_finite = true;
        }
    }
    fn custom_derivative(&self, index: u32, x: f64, y: f64) -> f64 {
        self.customs[index as usize].derivative_f64(x, y)
    }
    /// Over two runs that are disjoint or the same, two `axpy` loops: each input receives
    /// the same shares in the same order as pair by pair (an input in both runs of the same
    /// pair gets its `w` share, then its `x` share). Anything else goes pair by pair.
    #[inline(always)]
    fn give_dot(&mut self, w: Seq<'_>, x: Seq<'_>, g: f64, wants: Wants) {
        if let (Seq::Run(w, len), Seq::Run(x, _), false) = (w, x, ANOMALY) {
            let (w, x, len) = (w as usize, x as usize, len as usize);
            let apart = w + len <= x || x + len <= w || w == x;
            if apart && !(SCRATCH && w.min(x) < self.split) {
                if wants.has(Wants::W_ANY) {
                    self.axpy_run(w, x, len, g, wants.has(Wants::W_ALL));
                }
                if wants.has(Wants::X_ANY) {
                    self.axpy_run(x, w, len, g, wants.has(Wants::X_ALL));
                }
                return;
            }
        }
        for i in 0..w.len() {
            let (wi, xi) = (w.at(i), x.at(i));
            if self.wants(wi) {
                self.give(wi, g * self.values[xi as usize]);
            }
            if self.wants(xi) {
                self.give(xi, g * self.values[wi as usize]);
            }
        }
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
                let out = Var::new(self, t.id_at(i));
                let mut local = smallvec::SmallVec::new();
                let op = t.op(i).localize(&t.operands, &mut local);
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
                t.op(i)
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
