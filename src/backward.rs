//! The reverse pass on numbers: `reverse_pass` walks the tape backwards from the root and
//! runs each reached node's pullback (the rule in [`op`](crate::op)) on `f64`.
//!
//! Creation order is a topological order (inputs before outputs), so when the walk reaches
//! a node, every node that uses it has already handed it its share of the gradient: no
//! graph search, no recursion, and a chain of any depth costs one pass. Only nodes the root
//! was reached from and that depend on a tracked leaf do any work.
//!
//! The walk is the specification; the fast paths it reaches by a node's tag live in
//! [`fast`](crate::fast): a layer's rows ([`fast::rows`](crate::fast)), a run of relus
//! (`fast::runs`), zero gradients over tame nodes (`fast::tame`). The same rules recorded as
//! nodes (for higher derivatives) are [`Graph::grad`](crate::Graph::grad), in `graph/grad.rs`.
//!
//! # Which nodes the walk visits: marks
//! Every share *marks* its target reached; the walk visits exactly the marked nodes. A mark
//! lives in a ring of `RING` flags on the walk's stack when the target is less than `RING`
//! positions below the node being pulled back (most inputs: no store into the words the
//! walk is about to read), else in the target word's `REACHED` flag. Below a node it does
//! not take, the walk steps over unmarked positions eight at a time.

use smallvec::SmallVec;

use crate::fast::{runs, tame};
use crate::op::{Op, Pull};
use crate::pull::{NumberPull, RING};
use crate::tape::word::{Tag, Word};
use crate::tape::{Parts, Tape};

/// The `f64` reverse pass from the live node at position `root`: adds `∂root/∂n` into the
/// gradient of every node `n` the root depends on (see `Var::backward` for the semantics).
#[inline]
#[track_caller]
pub(crate) fn reverse_pass(t: &mut Tape, root: usize) {
    let Some(setup) = t.begin_reverse(root) else {
        return;
    };
    let split = setup.split;
    // One copy of the walk per case, so the common one (no anomaly mode, every gradient
    // below the root still 0) tests neither.
    let parts = t.parts(root + 1);
    match (setup.anomaly, split > 0) {
        (false, false) => walk::<false, false>(parts, root, split),
        (false, true) => walk::<false, true>(parts, root, split),
        (true, false) => walk::<true, false>(parts, root, split),
        (true, true) => walk::<true, true>(parts, root, split),
    }
    t.end_reverse();
}

/// The walk of [`reverse_pass`] over the first `root + 1` nodes: `ANOMALY` = anomaly mode,
/// `SCRATCH` = some op nodes below `split` may hold gradients of an earlier pass.
#[track_caller]
fn walk<const ANOMALY: bool, const SCRATCH: bool>(t: Parts<'_>, root: usize, split: usize) {
    let Parts {
        values,
        grads,
        words,
        far,
        operands,
        customs,
        adjoint,
        first_wild,
    } = t;
    // Below this position, a zero gradient is not passed on (see `fast::tame`).
    let tame_below = first_wild;
    adjoint.clear();
    adjoint.resize(split, 0.0);
    // One length for the three slices: a position checked against one is in range for all.
    let n = root + 1;
    let (values, grads, words) = (&values[..n], &mut grads[..n], &mut words[..n]);
    let adjoint = &mut adjoint[..];
    let mut non_finite = false;
    // Marks of the positions just below the walk (see the module docs).
    let mut ring = [false; RING];
    // Runs of weights found finite in this pass (see `fast::rows`).
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
        if !marked && !word.is_reached() {
            next = skip_unmarked(&ring, words, next);
            continue;
        }
        // Fast path: a layer's rows all at once, from the highest one reached (every node
        // that uses a row comes after the last row, so all their gradients are complete).
        if !ANOMALY && !SCRATCH && word.tag() == Tag::ROW {
            let mut pull = pull!(i);
            if let Some(lowest) = pull.rows(i, marked, far) {
                next = lowest;
                continue;
            }
        }
        // Fast path: a run of relus over a layer's rows, in one tight loop.
        if !ANOMALY && !SCRATCH && word.tag() == Tag::RELU {
            let mut pull = pull!(i);
            next = runs::pullback_relus(&mut pull, i, word);
            continue;
        }
        if word.is_reached() {
            words[i] = word.unreached();
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
        if word.is_leaf() {
            if ANOMALY && non_finite {
                report_backward_anomaly(&Op::Leaf, i, g, values, operands, customs);
            }
            continue;
        }
        // Fast path: nothing to pass on, every share would be ±0 (see `fast::tame`).
        if tame::skips(g, i, tame_below) {
            continue;
        }
        let y = values[i];
        // The two ops of an element-wise graph (`acc + w·x`) by a test each before the jump
        // table (and relu, when not in a run): well predicted in their patterns, where an
        // indirect jump is less so.
        let tag = word.tag();
        if !ANOMALY && (tag == Tag::MUL || tag == Tag::ADD || tag == Tag::RELU) {
            let pos = i as u32;
            let (a, b) = (word.a(pos), word.b(pos));
            let op = if tag == Tag::MUL {
                Op::Mul(a, b)
            } else if tag == Tag::ADD {
                Op::Add(a, b)
            } else {
                Op::Relu(a)
            };
            let mut pull = pull!(i);
            op.pullback(operands, y, g, &mut pull);
            non_finite = pull.non_finite;
            crate::fast::count(crate::fast::Path::ElementwisePulled, 1);
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
fn skip_unmarked(ring: &[bool; RING], words: &[Word], mut next: usize) -> usize {
    let from = next;
    while next >= 8 {
        let low = next - 8;
        let slot = low % RING;
        if slot > RING - 8 {
            break;
        }
        let rung = ring[slot..slot + 8].iter().fold(false, |m, &r| m | r);
        let flagged = Word::any_reached(&words[low..next]);
        if rung || flagged {
            break;
        }
        next = low;
    }
    crate::fast::count(crate::fast::Path::UnmarkedSkipped, from - next);
    next
}

/// One node of [`walk`] other than the two of its fast path (and every node in anomaly
/// mode), out of line: its jump table and rules would take the registers the loop needs.
#[inline(never)]
#[track_caller]
fn pull_other<const ANOMALY: bool, const SCRATCH: bool>(
    pull: &mut NumberPull<'_, ANOMALY, SCRATCH>,
    word: Word,
    i: usize,
    y: f64,
    g: f64,
    far: &[Op],
    operands: &[u32],
) {
    crate::tape::word::with_op!(word, i as u32, far, |op| {
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
