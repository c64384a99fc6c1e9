//! Zero gradients over tame nodes: skipped, since they can only pass on ±0.
//!
//! A node reached with gradient 0 would hand each input `0 · ∂y/∂x`. Where every node at or
//! below it is *tame* (a finite value, and an op whose local derivatives are finite wherever
//! its inputs' values and its own are: [`Op::is_tame`](crate::op::Op)), every such share is
//! ±0, and so is everything they lead to further down. Adding ±0 leaves a gradient bit for
//! bit as it is (a gradient is a sum started from +0, which is never −0), so such a node
//! passes nothing on and marks nothing: the reverse pass skips it, and with it whatever
//! below it only it reached (the neurons under a relu that is off, a sample whose hinge is
//! off).
//!
//! The tape keeps `first_wild`, the lowest position of a wild node (every write of a value
//! or an op keeps it low enough: recording, `set_value`, `recompute`). At and above it,
//! zeros are passed on as before, so a `0 · ∞` still gives NaN (`tests/zero_gradients.rs`
//! holds the two to each other, bit for bit). A layer row reached with gradient 0 above the
//! first wild node may still skip its arithmetic when its inputs and weights are finite
//! (see [`rows`](super::rows)).

use super::{count, Path};

/// Whether the reverse pass passes nothing on from a node at `pos` reached with gradient
/// `g`, no node below `tame_below` being wild (see the module docs).
#[inline(always)]
pub(crate) fn skips(g: f64, pos: usize, tame_below: usize) -> bool {
    let skip = g == 0.0 && pos < tame_below;
    if skip {
        count(Path::ZeroSkipped, 1);
    }
    skip
}

/// Whether values are all finite, tested as they are made rather than read back afterwards
/// (a 16-byte load of two 8-byte stores just made would wait for both): `x · 0` is ±0 for a
/// finite `x` and NaN for an infinite or NaN one, and a sum of them stays ±0 until a NaN.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AllFinite(f64);

impl AllFinite {
    /// Nothing seen yet: all finite.
    pub(crate) const START: AllFinite = AllFinite(0.0);

    /// Takes `x` into account.
    #[inline(always)]
    pub(crate) fn see(&mut self, x: f64) {
        self.0 += x * 0.0;
    }

    /// Whether every value seen was finite.
    #[inline(always)]
    pub(crate) fn holds(self) -> bool {
        self.0 == 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::AllFinite;

    fn all_finite(xs: &[f64]) -> bool {
        let mut finite = AllFinite::START;
        xs.iter().for_each(|&x| finite.see(x));
        finite.holds()
    }

    #[test]
    fn all_finite_finds_one_infinity_or_nan_anywhere() {
        for n in [0, 1, 7, 8, 9, 16, 21] {
            let xs: Vec<f64> = (0..n).map(|i| i as f64 - 3.5).collect();
            assert!(all_finite(&xs), "{n}");
            for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
                for at in 0..n {
                    let mut ys = xs.clone();
                    ys[at] = bad;
                    assert!(!all_finite(&ys), "{n} {at} {bad}");
                }
            }
        }
        assert!(all_finite(&[
            f64::MAX,
            -f64::MAX,
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            5e-324
        ]));
    }
}
