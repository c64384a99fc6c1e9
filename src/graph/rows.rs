//! A layer's pre-activations recorded as rows, from handles: the checks, and the
//! activations as a run over the rows. The rows themselves (recording, recompute,
//! pullback) are the fast path [`fast::rows`](crate::fast).

use super::{check_each, run_difference, Graph, Inputs};
use crate::fast::{rows::push_rows, runs};
use crate::op::{Op, Span, Wants};
use crate::Var;

/// Whether `params` are live tracked leaves of `graph` at consecutive positions, all created
/// since the same rewind: then the last one's liveness vouches for all (a rewind that freed
/// any of them freed the last), and they can be the weights of [`affine_rows`].
pub(crate) fn is_param_block(graph: &Graph, params: &[Var<'_>]) -> bool {
    let Some(&first) = params.first() else {
        return false;
    };
    let (p0, epoch) = (first.id().pos, first.id().epoch);
    run_difference(graph, params, p0, epoch) == 0
        && is_live_block(graph, p0, params[params.len() - 1], params.len())
}

/// [`is_param_block`] for a layer's parameters given as each neuron's weights (`nin` each)
/// and its bias: whether, in that order, they form a block (each neuron's weights, then
/// its bias). Reads the handles where they are (no list of them made); returns the block
/// as [`affine_rows`] takes it.
pub(crate) fn layer_param_block<'g, W: AsRef<[Var<'g>]>>(
    graph: &Graph,
    weights: &[W],
    biases: Option<&[Var<'g>]>,
    nin: usize,
) -> Option<(Var<'g>, Var<'g>, usize)> {
    let first = *weights.first()?.as_ref().first()?;
    let (p0, epoch) = (first.id().pos, first.id().epoch);
    let stride = nin + usize::from(biases.is_some());
    let mut diff = 0;
    for (j, w) in weights.iter().enumerate() {
        let base = p0.wrapping_add((j * stride) as u32);
        diff |= run_difference(graph, w.as_ref(), base, epoch);
        if let Some(b) = biases {
            diff |= run_difference(graph, &b[j..=j], base.wrapping_add(nin as u32), epoch);
        }
    }
    debug_assert!(weights.iter().all(|w| w.as_ref().len() == nin));
    let ok = diff == 0;
    let last = match biases {
        Some(b) => b[b.len() - 1],
        None => weights[weights.len() - 1].as_ref()[nin - 1],
    };
    let count = weights.len() * stride;
    (ok && is_live_block(graph, p0, last, count)).then_some((first, last, count))
}

/// Whether the `count` handles from position `p0` to `last`'s (all made in `last`'s epoch,
/// at consecutive positions: checked by the caller) are live tracked leaves: `last` live
/// vouches for all (a rewind that freed any of them freed it).
fn is_live_block(graph: &Graph, p0: u32, last: Var<'_>, count: usize) -> bool {
    let t = graph.tape();
    let block = last.id().pos >= p0
        && t.try_pos(last.id()).is_some()
        && t.all_tracked_leaves(p0 as usize, count);
    if block {
        crate::fast::count(crate::fast::Path::BlockChecked, count);
    }
    block
}

/// A layer's pre-activations as rows: row `j` is `b_j + Σᵢ w_{j,i}·xᵢ` where the parameters
/// `params` (a block checked by [`is_param_block`], given as its first and last handle and
/// its length) hold each neuron's `nin` weights and then, if `bias`, its bias. With
/// `activation`, each row's activation too, right after the rows (one node per row, as
/// applying it to each row would record: see [`runs`](super::runs)), and the handles are
/// theirs. The same values and gradients, bit for bit, as one [`Graph::affine`] per neuron
/// (and its activation), which is what the caller records when this returns `None`.
///
/// # Panics
/// If a handle is foreign or freed, or `x` has another length than `nin`.
#[track_caller]
pub(crate) fn affine_rows<'g>(
    graph: &'g Graph,
    params: (Var<'g>, Var<'g>, usize),
    nout: usize,
    bias: bool,
    x: Inputs<'g>,
    activation: Option<fn(u32) -> Op>,
) -> Option<Vec<Var<'g>>> {
    let out = affine_rows_run(graph, params, nout, bias, x, activation)?;
    Some(out.vars())
}

/// [`affine_rows`] with the outputs as [`Inputs`] (a run of tracked nodes) for the next
/// layer, and no handle made.
#[track_caller]
pub(crate) fn affine_rows_run<'g>(
    graph: &'g Graph,
    (first, last, count): (Var<'g>, Var<'g>, usize),
    nout: usize,
    bias: bool,
    x: Inputs<'g>,
    activation: Option<fn(u32) -> Op>,
) -> Option<Inputs<'g>> {
    x.check_graph(graph);
    let nin = x.len();
    assert_eq!(
        count,
        nout * (nin + usize::from(bias)),
        "scalargrad: a layer of {nout} neurons with {count} parameters was given {nin} inputs"
    );
    let nout = u32::try_from(nout).ok()?;
    let mut t = graph.tape_mut();
    if !std::ptr::eq(graph, last.graph()) || !t.is_live_fast(last.id()) {
        check_each(graph, &t, &[last]);
    }
    let w0 = first.id().pos;
    let (span, len) = (x.span(), x.len() as u32);
    let (all, any) = x.tracked();
    let head = Op::Dot {
        w: Span::Run(w0),
        x: span,
        len,
        bias: bias.then_some(w0 + len),
        wants: Wants(Wants::side(true, true, false) | Wants::side(all, any, true)),
    };
    let mut first = push_rows(&mut t, head, nout)?;
    if let Some(op) = activation {
        // row j's activation reads row j: live, tracked, just recorded; the common
        // activations by their constructor, so that each forward rule is picked once
        let rows = first.pos;
        first = match op(0) {
            Op::Relu(_) => runs::push(&mut t, Op::Relu, rows, nout),
            Op::Tanh(_) => runs::push(&mut t, Op::Tanh, rows, nout),
            Op::Sigmoid(_) => runs::push(&mut t, Op::Sigmoid, rows, nout),
            _ => runs::push(&mut t, op, rows, nout),
        };
    }
    Some(Inputs::run(graph, first.pos, nout))
}
