//! Stale values after [`Var::set_value`]: the check that makes `backward` and `grad` refuse to
//! differentiate numbers that no longer match their inputs.
//!
//! Nodes keep the value computed when they were recorded. After `x.set_value(5.0)`, a node
//! recorded from the old `x` still holds the old result until [`Graph::recompute`]; a
//! reverse pass through it would mix the new `x` with old intermediate values and give the
//! gradient at neither point (for `y = x·x·x` moved from 3 to 5: 59, where 27 and 75 are the
//! two right answers). Like PyTorch's version counters, the graph remembers that a leaf
//! changed under recorded nodes, and [`Var::backward`] and [`Graph::grad`] panic with a
//! sentence naming `recompute` when they would read such a node.
//!
//! # What is tracked, and its cost
//! One *stale window* per graph: positions `lo..hi` where `lo` is the lowest leaf set since
//! the last [`Graph::recompute`], and `hi` the graph's length at the latest such set (clipped
//! by [`Graph::rewind`]: freed nodes are no longer stale). Nodes recorded later compute from
//! the new value and are fresh. `set_value` updates two numbers; `backward` tests one
//! (`lo < hi`), the only cost on the hot path.
//!
//! When the window is open, the check scans forward from `lo` to the root once: an op node
//! recorded before one of its leaf inputs was set is stale, and so is any node with a stale
//! input. If the root depends on none, the pass runs; if the
//! window holds no op node at all (the normal training loop: parameters set after the
//! rewind that freed the step's nodes), the window is closed, so the scan runs once, not
//! every step.
//!
//! ```should_panic
//! let g = scalargrad::Graph::new();
//! let x = g.var(3.0);
//! let y = x * x * x;
//! x.set_value(5.0);
//! y.backward(); // panics: stale values, call Graph::recompute
//! ```
//!
//! ```
//! let g = scalargrad::Graph::new();
//! let x = g.var(3.0);
//! let y = x * x * x;
//! x.set_value(5.0);
//! g.recompute();
//! y.backward();
//! assert_eq!((y.value(), x.grad()), (125.0, 75.0));
//! ```
//!
//! [`Var::set_value`]: crate::Var::set_value
//! [`Var::backward`]: crate::Var::backward
//! [`Graph::recompute`]: crate::Graph::recompute
//! [`Graph::grad`]: crate::Graph::grad
//! [`Graph::rewind`]: crate::Graph::rewind

use super::Tape;

/// Which leaves were set under recorded nodes (see the module docs).
#[derive(Clone, Debug, Default)]
pub(crate) struct Versions {
    lo: usize,
    hi: usize,
    /// `(position, graph length then)` of each leaf set while the window is open, up to
    /// `SET_LIMIT` of them; past that, every leaf in the window counts as set before every
    /// node below `hi` (never a missed stale node, at worst a refusal naming `recompute`).
    set: Vec<(u32, u32)>,
    overflow: bool,
}

/// More leaves set than this between two checks: stop listing them.
const SET_LIMIT: usize = 1 << 16;

impl Versions {
    /// `set_value` on the leaf at `pos` of a graph of `len` nodes.
    #[inline]
    pub(crate) fn on_set(&mut self, pos: usize, len: usize) {
        if pos + 1 >= len {
            return; // nothing recorded after it
        }
        if self.lo >= self.hi {
            *self = Versions {
                lo: pos,
                hi: len,
                set: std::mem::take(&mut self.set),
                overflow: false,
            };
            self.set.clear();
        } else {
            self.lo = self.lo.min(pos);
            self.hi = self.hi.max(len);
        }
        if self.set.len() < SET_LIMIT {
            self.set.push((pos as u32, len as u32));
        } else {
            self.overflow = true;
        }
    }

    /// Every value was recomputed: nothing is stale.
    #[inline]
    pub(crate) fn clear(&mut self) {
        self.lo = 0;
        self.hi = 0;
        self.set.clear();
        self.overflow = false;
    }

    /// The graph was rewound to `len` nodes: freed nodes are not stale.
    #[inline]
    pub(crate) fn rewound(&mut self, len: usize) {
        self.hi = self.hi.min(len);
        for (_, at) in &mut self.set {
            *at = (*at).min(len as u32);
        }
    }
}

/// Panics if the value of the node at `root`, or of a node it depends on, is stale.
///
/// # Panics
/// With a sentence naming [`Graph::recompute`](crate::Graph::recompute).
#[inline(always)]
#[track_caller]
pub(crate) fn check(t: &mut Tape, root: usize) {
    if t.versions.lo < t.versions.hi {
        check_window(t, root);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn check_window(t: &mut Tape, root: usize) {
    let v = &t.versions;
    let (lo, hi) = (v.lo, v.hi.min(t.len()));
    if (lo..hi).all(|p| t.is_leaf(p)) {
        // only leaves under the window (parameters after a rewind): nothing can be stale
        t.versions.clear();
        return;
    }
    if root < lo {
        return;
    }
    // set_at[p - lo]: the graph's length when the leaf at p was last set (0: not set), so
    // nodes below it were recorded from the old value
    let mut set_at = vec![if v.overflow { hi } else { 0 }; hi.saturating_sub(lo)];
    if !v.overflow {
        for &(p, at) in &v.set {
            if let Some(s) = set_at.get_mut((p as usize).wrapping_sub(lo)) {
                *s = (*s).max(at as usize);
            }
        }
    }
    // stale[i - lo]: the node at i holds a value computed from an old one
    let mut stale = vec![false; root + 1 - lo];
    for i in lo..=root {
        if t.is_leaf(i) {
            continue;
        }
        let mut bad = false;
        t.op(i).for_each_input(&t.operands, |p| {
            let p = p as usize;
            if p >= lo {
                let set_after = p < hi && t.is_leaf(p) && i < set_at[p - lo];
                bad |= stale[p - lo] || set_after;
            }
        });
        stale[i - lo] = bad;
    }
    if stale[root - lo] {
        let first = (lo..=root).find(|&i| stale[i - lo]).unwrap_or(root);
        stale_panic(first, t.op_name(t.op(first)));
    }
}

#[cold]
#[track_caller]
fn stale_panic(pos: usize, op: &str) -> ! {
    panic!(
        "scalargrad: a leaf was changed with set_value after nodes computed from it were \
         recorded (the first, node {pos}, a `{op}`, still holds the value from the old leaf), \
         so this gradient would mix old and new values; call Graph::recompute() after \
         set_value and before backward or grad, or record the computation again"
    )
}
