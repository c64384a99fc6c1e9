//! [`Pull`] on numbers: how the reverse pass ([`backward`](crate::backward)) reads input
//! values and accumulates gradients, with its marks of the nodes reached (a ring of flags
//! on the walk's stack for the positions just below, the words' `REACHED` flag further
//! down), and the shares of a dot product over runs as two `axpy` loops.

use smallvec::SmallVec;

use crate::counts::{count, Path};
use crate::op::{Pull, Seq, Wants};
use crate::tape::word::Word;

/// [`Pull`] on numbers: reads values, accumulates gradients (see `backward::reverse_pass`).
pub(crate) struct NumberPull<'a, const ANOMALY: bool, const SCRATCH: bool> {
    pub(crate) values: &'a [f64],
    pub(crate) grads: &'a mut [f64],
    pub(crate) words: &'a mut [Word],
    /// This pass's gradients of positions below `split`.
    pub(crate) adjoint: &'a mut [f64],
    pub(crate) split: usize,
    pub(crate) customs: &'a crate::custom::CustomTable,
    pub(crate) non_finite: bool,
    /// Marks of the positions `at - RING < p <= at`, at `ring[p % RING]` (see
    /// `backward::reverse_pass`).
    pub(crate) ring: &'a mut [bool; RING],
    /// Runs of positions `start..end` whose values this pass found finite: a layer's
    /// weights, checked once per pass rather than once per sample (see
    /// `fast::rows`).
    pub(crate) finite: &'a mut SmallVec<[(usize, usize); 8]>,
    /// Below this position a zero gradient is not passed on (see `fast::tame`).
    pub(crate) tame_below: usize,
    /// The position of the node being pulled back.
    pub(crate) at: usize,
}

/// How many positions below the node being pulled back are marked in the walk's ring
/// rather than in their words (4 KiB on the stack, a power of 2).
pub(crate) const RING: usize = 4096;

impl<const ANOMALY: bool, const SCRATCH: bool> NumberPull<'_, ANOMALY, SCRATCH> {
    /// Marks node `p` reached (see `backward::reverse_pass`): its slot in the ring if `p` is less
    /// than `RING` positions below the node being pulled back, else the word's `REACHED`
    /// flag, stored only if not set yet (a weight is given a share by every sample, an input
    /// by every neuron that reads it).
    #[inline(always)]
    fn mark(&mut self, p: usize) {
        if self.at.wrapping_sub(p) < RING {
            self.ring[p % RING] = true;
        } else {
            count(Path::WordMarked, 1);
            let w = self.words[p];
            if !w.is_reached() {
                self.words[p] = w.reached();
            }
        }
    }

    /// Whether the values at `start..end` are all finite: looked up among the runs this pass
    /// has found finite, else checked (and remembered if so). Values do not change during a
    /// pass.
    #[inline]
    pub(crate) fn run_finite(&mut self, start: usize, end: usize) -> bool {
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
    pub(crate) fn mark_run(&mut self, from: usize, len: usize) {
        if self.at.wrapping_sub(from) < RING && from + len <= self.at + 1 {
            for p in from..from + len {
                self.ring[p % RING] = true;
            }
        } else {
            count(Path::WordMarked, len);
            for w in &mut self.words[from..from + len] {
                *w = w.reached();
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
            count(Path::DotTermsUnchecked, len);
            for ((d, w), &v) in grads.iter_mut().zip(words.iter_mut()).zip(from) {
                *d += g * v;
                *w = w.reached();
            }
        } else {
            for ((d, w), &v) in grads.iter_mut().zip(words.iter_mut()).zip(from) {
                if w.is_tracked() {
                    *d += g * v;
                    *w = w.reached();
                }
            }
        }
    }
}

impl<const ANOMALY: bool, const SCRATCH: bool> Pull<f64> for NumberPull<'_, ANOMALY, SCRATCH> {
    #[inline(always)]
    fn input(&self, p: u32) -> f64 {
        self.values[p as usize]
    }
    #[inline(always)]
    fn wants(&self, p: u32) -> bool {
        self.words[p as usize].is_tracked()
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
                count(Path::DotRunsPulled, 1);
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

/// Whether the walk's ring marks position `k`, the mark taken.
#[inline(always)]
pub(crate) fn marked_take(ring: &mut [bool; RING], k: usize) -> bool {
    std::mem::take(&mut ring[k % RING])
}
