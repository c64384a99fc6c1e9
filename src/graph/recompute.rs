//! [`Graph::recompute`]: every op node's value again, in creation order, from its inputs;
//! the fast paths' recompute in [`fast`](crate::fast) reached by a node's tag.

use std::panic::Location;

use crate::counts::{count, Path};
use crate::fast::{rows, runs};
use crate::op::Op;
use crate::tape::wild::not_finite;
use crate::tape::word::{Tag, Word};
use crate::tape::{Parts, Tape};
use crate::Graph;

impl Graph {
    /// Recomputes every op node's value from its inputs, in creation order: after changing
    /// leaves with [`Var::set_value`](crate::Var::set_value), this replays a recorded graph without recording it
    /// again (and without allocating).
    ///
    /// ```
    /// let g = scalargrad::Graph::new();
    /// let x = g.var(2.0);
    /// let y = x * x + 1.0;
    /// x.set_value(3.0);
    /// assert_eq!(y.value(), 5.0); // stale until recomputed
    /// g.recompute();
    /// assert_eq!(y.value(), 10.0);
    /// ```
    #[track_caller]
    pub fn recompute(&self) {
        let mut t = self.tape_mut();
        // one loop per mode, so that the common one carries no finiteness test
        let first_bad = if t.anomaly() {
            recompute_values::<true>(&mut t)
        } else {
            recompute_values::<false>(&mut t)
        };
        t.versions_mut().clear();
        if let Some((op, value)) = first_bad {
            // the first op that made finite inputs non-finite: this panics
            t.report_forward_anomaly(op, value, Location::caller());
        }
    }
}

/// [`Graph::recompute`]'s pass: every op node's value again, in creation order. Returns
/// (in anomaly mode) the first op that turned finite inputs into a non-finite value.
fn recompute_values<const ANOMALY: bool>(t: &mut Tape) -> Option<(Op, f64)> {
    let len = t.len();
    let Parts {
        values,
        words,
        far,
        operands,
        customs,
        ..
    } = t.parts(len);
    let words: &[Word] = words;
    let mut first_bad = None;
    // the first wild node (see `fast::tame`), found again: every value may change
    let mut wild = usize::MAX;
    let mut next = 0;
    while next < values.len() {
        let i = next;
        next += 1;
        let word = words[i];
        let tag = word.tag();
        if tag == Tag::LEAF {
            if not_finite(values[i]) {
                wild = wild.min(i);
            }
            continue;
        }
        // The two ops of an element-wise graph (`acc + w·x`) by a test each before the jump
        // table, as in the reverse pass: alternating, they are well predicted.
        if !ANOMALY && (tag == Tag::MUL || tag == Tag::ADD) {
            let pos = i as u32;
            let (a, b) = (word.a(pos), word.b(pos));
            let (va, vb) = (values[a as usize], values[b as usize]);
            let y = if tag == Tag::MUL { va * vb } else { va + vb };
            values[i] = y;
            count(Path::ElementwiseRecomputed, 1);
            if not_finite(y) {
                wild = wild.min(i);
            }
            continue;
        }
        // Fast path: a run of relus over a layer's rows, in one loop with no dispatch.
        if !ANOMALY && tag == Tag::RELU {
            let (run, finite) = runs::recompute_relus(values, words, i);
            if !finite {
                wild = wild.min(i);
            }
            next = i + run;
            continue;
        }
        // Fast path: a layer's rows together, from its first (anomaly mode checks them one
        // by one).
        if !ANOMALY && tag == Tag::ROW && word.row_parts().1 == 0 {
            let (rows, finite) = rows::recompute(values, words, far, i);
            if rows > 0 {
                // (counted here, where the rows are stepped over)
                count(Path::RowsRecomputed, rows);
                if !finite {
                    wild = wild.min(i);
                }
                next = i + rows;
                continue;
            }
        }
        crate::tape::word::with_op!(word, i as u32, far, |op| {
            let value = op.eval(values, operands, customs);
            values[i] = value;
            if !op.is_tame() || not_finite(value) {
                wild = wild.min(i);
            }
            if ANOMALY && !value.is_finite() && first_bad.is_none() {
                let mut finite_inputs = true;
                op.for_each_input(operands, |p| {
                    finite_inputs &= values[p as usize].is_finite()
                });
                if finite_inputs {
                    first_bad = Some((op, value));
                }
            }
        });
    }
    t.set_first_wild(wild);
    first_bad
}
