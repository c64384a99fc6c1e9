//! Layer rows: a dense layer's pre-activations recorded as rows of one op, computed and
//! pulled back a block at a time. Recording, recompute and pullback are all here.
//!
//! A layer whose parameters were created neuron after neuron (each neuron's weights, then
//! its bias: what [`Neuron::new`](crate::nn::Neuron::new) does) records row `j` as
//! `b_j + Σᵢ w_{j,i}·xᵢ`: one [`Op::Dot`] as far as every rule is concerned, but kept once
//! in the side table (row 0, the *head*) with each row's word holding only its number
//! ([`Word::row`]). Knowing that a layer's rows are consecutive, share their inputs and read
//! a block of parameters ([`RowLayout`]), recording and `recompute` compute eight or four
//! rows side by side, and the reverse pass takes all of a layer's rows in one go (the
//! inputs' gradients kept in registers across rows), adding the same shares in the same
//! order as one `Dot` at a time: values and gradients are bit for bit those of one
//! [`Graph::affine`] per neuron (`tests/layer_rows.rs` holds the two to each other, and
//! counts the rows taken: [`fast::taken`](super::taken)). The handles' side of recording a
//! layer (checks, activations) is `graph/rows.rs`.

use smallvec::SmallVec;

use super::{count, Path};
use crate::op::{Op, Seq, Span, Wants};
use crate::pull::{NumberPull, RING};
use crate::tape::word::Word;
use crate::tape::{NodeId, Tape};

/// Where a layer's numbers are, from its head (row 0's [`Op::Dot`] over a run of inputs):
/// row `j`'s weights are `w0 + j·stride …` (`len` of them), then its bias if `bias`; the
/// inputs are `x0 …` (`len` of them), the same for every row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RowLayout {
    pub(crate) w0: u32,
    pub(crate) stride: u32,
    pub(crate) x0: u32,
    pub(crate) len: u32,
    pub(crate) bias: bool,
}

impl RowLayout {
    /// The layout of the layer whose head is `head`; `None` if its inputs are not a run.
    #[inline(always)]
    pub(crate) fn of(head: Op) -> Option<RowLayout> {
        match head {
            Op::Dot {
                w: Span::Run(w0),
                x: Span::Run(x0),
                len,
                bias,
                ..
            } => Some(RowLayout {
                w0,
                stride: stride(len, bias),
                x0,
                len,
                bias: bias.is_some(),
            }),
            _ => None,
        }
    }
}

/// The parameter stride of a layer: each neuron's weights, then its bias.
#[inline(always)]
fn stride(len: u32, bias: Option<u32>) -> u32 {
    len + u32::from(bias.is_some())
}

// ---- Recording ----------------------------------------------------------------------------

/// Appends the `nout` rows of a layer as tracked op nodes at consecutive positions: row `j`
/// is `head` (an [`Op::Dot`] over a run of weights) with its weights and bias `j` strides
/// on. Returns row 0's handle; `None` (and nothing recorded) if the rows cannot be packed
/// (the side table or `nout` past 2²⁸) or anomaly mode is on: the caller records one dot
/// per row instead.
#[inline]
pub(crate) fn push_rows(t: &mut Tape, head: Op, nout: u32) -> Option<NodeId> {
    let Op::Dot {
        w: Span::Run(w0),
        x,
        len,
        bias,
        ..
    } = head
    else {
        unreachable!("layer rows need a dot over a run of weights")
    };
    if !Word::rows_fit(nout) {
        return None;
    }
    let index = t.keep_row_head(head)?;
    let stride = stride(len, bias);
    let block = t.open_block(nout as usize);
    for (j, w) in block.words.iter_mut().enumerate() {
        *w = Word::row(index, j as u32).tracked_if(true);
    }
    // Eight or four rows at a time over a run of inputs (see `rows_into`).
    let (mut j, mut finite) = (0, true);
    if let Some(layout) = RowLayout::of(head) {
        (j, finite) = rows_into(block.below, layout, block.values);
    }
    for j in j..nout {
        let shift = j * stride;
        let y = crate::op::dot(
            block.below,
            bias.map(|b| b + shift),
            Seq::Run(w0 + shift, len),
            Seq::new(block.operands, x, len),
        );
        block.values[j as usize] = y;
        finite &= y.is_finite();
    }
    count(Path::RowsRecorded, nout as usize);
    Some(t.close_block(nout as usize, !finite))
}

// ---- Recompute ----------------------------------------------------------------------------

/// Recomputes the layer rows that start at `pos` (row 0 of a layer) as [`push_rows`]
/// computed them, eight or four at a time. Returns how many rows there were (0, and nothing
/// done, if the inputs are not a run) and whether their values are all finite.
pub(crate) fn recompute(
    values: &mut [f64],
    words: &[Word],
    far: &[Op],
    pos: usize,
) -> (usize, bool) {
    let (head, _) = words[pos].row_parts();
    let Some(layout) = RowLayout::of(far[head as usize]) else {
        return (0, true);
    };
    let row0 = Word::row(head, 0).tracked_if(true);
    let rows = words[pos..]
        .iter()
        .enumerate()
        .take_while(|&(j, &w)| w.same_op(Word::row(head, j as u32).tracked_if(true)))
        .count();
    debug_assert!(words[pos].same_op(row0));
    // the rows read only nodes below them
    let (below, out) = values.split_at_mut(pos);
    let out = &mut out[..rows];
    let (j, mut finite) = rows_into(below, layout, out);
    for j in j..rows as u32 {
        let shift = j * layout.stride;
        let y = crate::op::dot(
            below,
            layout.bias.then_some(layout.w0 + shift + layout.len),
            Seq::Run(layout.w0 + shift, layout.len),
            Seq::Run(layout.x0, layout.len),
        );
        out[j as usize] = y;
        finite &= y.is_finite();
    }
    (rows, finite)
}

/// Computes a layer's rows (the weights and inputs in `below`) into `out`, eight or four at
/// a time by [`rows_n`], from row 0 while at least four are left. Returns how many rows it
/// did (the caller does the last few one at a time) and whether their values are all
/// finite.
///
/// Each batch is written straight into `out` and tested for finiteness while still in
/// registers (see [`AllFinite`](super::tame::AllFinite)).
#[inline(always)]
fn rows_into(below: &[f64], layout: RowLayout, out: &mut [f64]) -> (u32, bool) {
    let (mut j, mut finite) = (0, true);
    let x = &below[layout.x0 as usize..][..layout.len as usize];
    loop {
        if let Some(batch) = out[j as usize..].first_chunk_mut::<8>() {
            finite &= rows_n(below, layout, x, j, batch);
            j += 8;
        } else if let Some(batch) = out[j as usize..].first_chunk_mut::<4>() {
            finite &= rows_n(below, layout, x, j, batch);
            j += 4;
        } else {
            count(Path::RowsBatched, j as usize);
            return (j, finite);
        }
    }
}

/// Rows `j … j + N − 1` of a layer (see [`rows_into`]) over the inputs' values `x` (`len`
/// of them; the layout's `x0` is not read) into `out`: each `[b] + w₀x₀ + w₁x₁ + …` left to
/// right, as [`crate::op::dot`] computes one, `N` running sums side by side so that one
/// row's adds (which wait on each other) overlap the others'. Returns whether the `N`
/// values are all finite.
#[inline(never)]
pub(crate) fn rows_n<const N: usize>(
    values: &[f64],
    layout: RowLayout,
    x: &[f64],
    j: u32,
    out: &mut [f64; N],
) -> bool {
    let (stride, len) = (layout.stride as usize, layout.len as usize);
    let w0 = layout.w0 as usize;
    let x = &x[..len];
    let w: [&[f64]; N] =
        std::array::from_fn(|k| &values[w0 + (j as usize + k) * stride..][..stride]);
    let (mut acc, from) = if layout.bias {
        (std::array::from_fn(|k| w[k][len]), 0)
    } else {
        (std::array::from_fn(|k| w[k][0] * x[0]), 1)
    };
    for i in from..len {
        for k in 0..N {
            acc[k] += w[k][i] * x[i];
        }
    }
    *out = acc;
    // as `AllFinite` does, but summed as a tree (the adds of a chain wait on each other)
    let mut z = acc.map(|y| y * 0.0);
    let mut half = N;
    while half > 1 {
        half /= 2;
        for k in 0..half {
            z[k] += z[k + half];
        }
    }
    z[0] == 0.0
}

// ---- Pullback -----------------------------------------------------------------------------

/// The pullback: every row of a layer in one go.
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
    /// pass (`NumberPull::run_finite`), the inputs once per sample.
    #[inline(never)]
    pub(crate) fn rows(&mut self, top: usize, top_marked: bool, far: &[Op]) -> Option<usize> {
        let (head, j) = self.words[top].row_parts();
        let j = j as usize;
        let head = far[head as usize];
        let (Some(layout), Op::Dot { wants, .. }) = (RowLayout::of(head), head) else {
            return None;
        };
        let stride = layout.stride as usize;
        let (w0, x0, len) = (layout.w0 as usize, layout.x0 as usize, layout.len as usize);
        let params_end = w0 + (j + 1) * stride;
        if !(x0 + len <= w0 || params_end <= x0) {
            return None;
        }
        let base = top - j;
        let (x_any, x_all) = (wants.has(Wants::X_ANY), wants.has(Wants::X_ALL));
        // Whether a row with gradient 0 adds nothing (see above); only asked above the first
        // wild node: below it, such rows pass nothing on at all (see [`fast::tame`](super::tame)).
        let zero_adds_nothing = top >= self.tame_below
            && self.values[x0..x0 + len].iter().all(|v| v.is_finite())
            && (!x_any || self.run_finite(w0, params_end));
        let bias = layout.bias;
        count(Path::RowsPulled, top - base + 1);
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
                count(Path::ZeroSkipped, 1);
                continue;
            }
            passes = true;
            if g == 0.0 && zero_adds_nothing {
                count(Path::RowsZeroSkipped, 1);
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
                    if w.is_tracked() {
                        *d += g * v;
                    }
                }
            }
        }
        if x_any && passes {
            for w in &mut self.words[x0..x0 + len] {
                if w.is_tracked() {
                    *w = w.reached();
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
        if w.is_reached() {
            self.words[r] = w.unreached();
        }
        ring || w.is_reached()
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
                count(Path::ZeroSkipped, 1);
                continue;
            }
            passes = true;
            if g == 0.0 && zero_adds_nothing {
                count(Path::RowsZeroSkipped, 1);
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
