//! Where the first *wild* node is ([`Tape::first_wild`]): a node whose op is not tame or
//! whose value is not finite. Below it the reverse pass need not pass a zero gradient on
//! (see `fast::tame`). Every write of an op or a value notes it: recording, `set_value`,
//! `Value::set_data`, and `recompute`, which finds it again from scratch.

use super::Tape;

impl Tape {
    /// Records that the node at `pos` is wild.
    #[inline(always)]
    pub(crate) fn note_wild(&mut self, pos: usize) {
        self.first_wild = self.first_wild.min(pos);
    }

    /// Records that the node at `pos` is wild if `value` is not finite.
    #[inline(always)]
    pub(crate) fn note_value(&mut self, pos: usize, value: f64) {
        if not_finite(value) {
            self.note_wild(pos);
        }
    }

    /// After a pass that computed every value again: where the first wild node now is.
    pub(crate) fn set_first_wild(&mut self, pos: usize) {
        self.first_wild = pos;
    }
}

/// Whether `v` is ±∞ or NaN: `v − v` is NaN exactly then (0 for every finite `v`). What
/// recording and `recompute` ask of every new value: a subtraction and an unordered
/// compare, with no move to an integer register (why it replaced `!v.is_finite()`:
/// `docs/design.md`, "The tape").
#[inline(always)]
#[allow(clippy::eq_op)]
pub(crate) fn not_finite(v: f64) -> bool {
    (v - v).is_nan()
}

#[cfg(test)]
mod tests {
    use super::not_finite;

    #[test]
    fn not_finite_is_the_negation_of_is_finite() {
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 4.0, // subnormal
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff0_0000_0000_0001), // a signalling NaN
            f64::from_bits(0xfff8_dead_beef_0000), // a NaN with a payload
        ];
        for v in specials {
            assert_eq!(not_finite(v), !v.is_finite(), "{v:e} ({:#x})", v.to_bits());
        }
        // every exponent, with a few mantissas and both signs
        for e in 0..=0x7ffu64 {
            for m in [0u64, 1, 0x8_0000_0000_0000, 0xf_ffff_ffff_ffff] {
                for s in [0u64, 1 << 63] {
                    let v = f64::from_bits(s | e << 52 | m);
                    assert_eq!(not_finite(v), e == 0x7ff, "{:#x}", v.to_bits());
                }
            }
        }
    }
}
