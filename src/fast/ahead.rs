//! Neurons ahead: a layer written one dot product per neuron ([`Graph::affine`] or
//! [`Graph::dot`] in a loop, weights made neuron after neuron) has its values computed eight
//! or four neurons at a time, as layer rows are. Recording only; recompute and the reverse
//! pass see ordinary [`Op::Dot`] nodes.
//!
//! One dot product's sum is a chain of adds, each waiting on the one before; a layer's
//! neurons are independent chains. When a dot product follows the one recorded before it as
//! the next neuron of a layer (weights a run starting one neuron's parameters after the last
//! one's, the bias right after its weights, the same inputs, listed or a run), the values of
//! it and of up to seven neurons after it are computed side by side ([`rows_n`], the kernel
//! of layer rows: the same adds in the same order as [`crate::op::dot`], bit for bit) and
//! kept; the neurons that follow take theirs. A neuron that does not follow starts over.
//!
//! The values kept are those of the parameters and inputs when they were computed: every
//! write of a value on the tape (`set_value`, `Value`'s data, [`Graph::recompute`], a cut
//! or rewind, which frees positions) forgets them (the tape keeps them: `tape/ahead.rs`). A dot product
//! recorded the usual way only ever computes what the user asked for; this path computes
//! at most seven values nobody takes (the neurons past a layer's last), only after two
//! neurons in a row followed the pattern. Counted as `dots_ahead` and `dots_ahead_taken`
//! ([`taken`](super::taken)); `tests/dots_ahead.rs` holds it to the one-at-a-time sums.
//!
//! [`Graph::affine`]: crate::Graph::affine
//! [`Graph::dot`]: crate::Graph::dot
//! [`Graph::recompute`]: crate::Graph::recompute

use smallvec::SmallVec;

use super::rows::{rows_n, RowLayout};
use super::{count, Path};
use crate::op::Span;
use crate::tape::{Ahead, Tape};

/// The value of the dot product `b + w·x` over `len` terms (`w`, `x`, `bias` as in
/// [`Op::Dot`](crate::op::Op::Dot)) about to be recorded on `t`, if computed ahead or worth
/// computing with the neurons after it; `None`: compute it as usual (and it may be the first
/// neuron of a layer).
#[inline(always)]
pub(crate) fn value(t: &mut Tape, w: Span, x: Span, len: u32, bias: Option<u32>) -> Option<f64> {
    let Span::Run(w0) = w else {
        return None;
    };
    let (a, values, operands) = t.ahead_parts();
    if (w0, bias, x, len) != (a.next, a.next_bias, a.x, a.len) {
        start(a, w0, bias, x, len);
        return None;
    }
    let stride = len + u32::from(bias.is_some());
    a.next = w0.saturating_add(stride); // (`u32::MAX`: none)
    a.next_bias = bias.map(|b| b.wrapping_add(stride));
    if a.at < a.have {
        let y = a.values[a.at as usize];
        a.at += 1;
        count(Path::DotsAheadTaken, 1);
        return Some(y);
    }
    compute(a, values, operands, w0, stride)
}

/// Expects the neuron after the one whose weights start at `w0` (if its bias, if any, sits
/// right after its weights: a layer's layout), with nothing computed.
#[inline(never)]
fn start(a: &mut Ahead, w0: u32, bias: Option<u32>, x: Span, len: u32) {
    let stride = len + u32::from(bias.is_some());
    let layer = bias.is_none_or(|b| b == w0.wrapping_add(len));
    *a = Ahead {
        next: match w0.checked_add(stride) {
            Some(next) if layer => next,
            _ => u32::MAX,
        },
        next_bias: bias.map(|b| b.wrapping_add(stride)),
        x,
        len,
        ..Ahead::default()
    };
}

/// Computes this neuron's value (weights at `w0`) and those of up to seven neurons after it
/// whose parameters are on the tape (`values`: its live values), keeping all but the first;
/// returns the first. `None` (nothing kept) if fewer than four neurons' parameters are.
#[inline(never)]
fn compute(a: &mut Ahead, values: &[f64], operands: &[u32], w0: u32, stride: u32) -> Option<f64> {
    let len = a.len as usize;
    let room = (values.len() - w0 as usize) / stride as usize;
    let mut listed = SmallVec::<[f64; 32]>::new();
    let x: &[f64] = match a.x {
        Span::Run(x0) => &values[x0 as usize..][..len],
        Span::List(start) => {
            let at = &operands[start as usize..][..len];
            listed.extend(at.iter().map(|&p| values[p as usize]));
            &listed
        }
    };
    let layout = RowLayout {
        w0,
        stride,
        x0: 0,
        len: a.len,
        bias: a.next_bias.is_some(),
    };
    let n = if room >= 8 {
        rows_n::<8>(values, layout, x, 0, &mut a.values);
        8
    } else if room >= 4 {
        let four = a.values.first_chunk_mut::<4>().expect("eight slots");
        rows_n::<4>(values, layout, x, 0, four);
        4
    } else {
        return None;
    };
    count(Path::DotsAhead, n as usize);
    (a.at, a.have) = (1, n);
    Some(a.values[0])
}
