//! The thread's graph that every [`Value`](super::Value) lives on, and the handle counts
//! that free its nodes in any order.
//!
//! A node's count is the number of handles to it. Nodes leave the tape only from its top,
//! and the topmost live node always has a handle (a node kept alive only by a consumer has
//! that consumer above it). So when the count of the top node reaches 0, every node above
//! the highest one still held is dead, and the tape is cut there (one
//! [`Tape::truncate_to`](crate::tape)): a training loop whose step's values all die reuses
//! the same positions every step, and memory stays flat. A dead node under a held one waits
//! until everything above it has died. Recording a node counts one handle and nothing else:
//! no input's count is touched, and dropping a handle that is not the top's is one
//! decrement. Which nodes are live (held, or an input of a live node) is worked out only
//! when asked ([`Owner::live`]: one walk down the tape).
//!
//! Invariant: `counts.refs.len()` is the tape's length, and the top node's count is not 0
//! (after every op and every drop); a handle's node is on the tape, so a `Value` never reads
//! a freed position.

use std::cell::RefCell;

use crate::op::Op;
use crate::{Graph, Var};

/// This thread's graph and the counts of its nodes.
pub(super) struct Owner {
    pub(super) graph: Graph,
    counts: RefCell<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Handles, by position.
    refs: Vec<u32>,
}

thread_local! {
    static OWNER: Owner = Owner {
        graph: Graph::new(),
        counts: RefCell::new(Counts::default()),
    };
}

/// Runs `f` on this thread's owner.
///
/// # Panics
/// During the thread's exit, after the owner is gone (a `Value` kept in another thread-local
/// that is dropped later does not call this: see `release`).
#[inline(always)]
pub(super) fn with<R>(f: impl FnOnce(&Owner) -> R) -> R {
    OWNER.with(f)
}

/// Releases one handle to the node at `pos`, if this thread's owner still exists.
#[inline]
pub(super) fn release(pos: u32) {
    let _ = OWNER.try_with(|o| o.release(pos));
}

impl Owner {
    /// A handle to the live node at `pos`, as a [`Var`] of the graph.
    #[inline(always)]
    pub(super) fn var(&self, pos: u32) -> Var<'_> {
        Var::new(&self.graph, self.graph.tape().id_at(pos as usize))
    }

    /// Handles to the live nodes at `a` and `b`, as [`Var`]s of the graph.
    #[inline(always)]
    pub(super) fn vars2(&self, a: u32, b: u32) -> (Var<'_>, Var<'_>) {
        let t = self.graph.tape();
        let (a, b) = (t.id_at(a as usize), t.id_at(b as usize));
        (Var::new(&self.graph, a), Var::new(&self.graph, b))
    }

    /// Records `op` of the live nodes at `a` and `b` and counts it, in one borrow of the tape
    /// and one of the counts (no [`Var`] made, no liveness to test: a `Value`'s node is
    /// live): its count starts at 1, for the handle the caller makes. `None` (nothing
    /// recorded) when the op needs the tape's general path: the caller then records it
    /// through [`Owner::record`].
    #[inline(always)]
    pub(super) fn try_binary(&self, a: u32, b: u32, op: impl Fn(u32, u32) -> Op) -> Option<u32> {
        let mut t = self.graph.tape_mut();
        let mut c = self.counts.borrow_mut();
        debug_assert_eq!(c.refs.len(), t.len(), "every node recorded is counted");
        let pos = t.try_push_binary_live(a, b, op)?;
        c.refs.push(1);
        crate::counts::count(crate::counts::Path::ValueDirect, 1);
        Some(pos)
    }

    /// [`Owner::try_binary`] for an op of one input (its one input on both sides).
    #[inline(always)]
    pub(super) fn try_unary(&self, a: u32, op: impl Fn(u32) -> Op) -> Option<u32> {
        self.try_binary(a, a, |a, _| op(a))
    }

    /// A new leaf (tracked or a constant) with one handle, counted in the same borrow.
    #[inline(always)]
    pub(super) fn leaf(&self, value: f64, tracked: bool) -> u32 {
        let mut t = self.graph.tape_mut();
        let mut c = self.counts.borrow_mut();
        debug_assert_eq!(c.refs.len(), t.len(), "every node recorded is counted");
        let pos = t.push_leaf(value, tracked).pos;
        c.refs.push(1);
        crate::counts::count(crate::counts::Path::ValueDirect, 1);
        pos
    }

    /// Records with `f` and counts what it recorded: one handle for the node `f` returns
    /// (its position is returned); new nodes above it (nothing holds them) are cut at once.
    #[inline(always)]
    pub(super) fn record<'o>(&'o self, f: impl FnOnce(&'o Graph) -> Var<'o>) -> u32 {
        let y = f(&self.graph);
        // (a handle `f` just made or returned: live)
        let pos = y.id().pos;
        self.adopt_one(pos);
        pos
    }

    /// [`Owner::adopt_new`] with one handle, to the node at `pos`: when that is the one node
    /// recorded, one push.
    #[inline(always)]
    pub(super) fn adopt_one(&self, pos: u32) {
        {
            let t = self.graph.tape();
            let mut c = self.counts.borrow_mut();
            let start = c.refs.len();
            if pos as usize == start && t.len() == start + 1 {
                c.refs.push(1);
                crate::fast::count(crate::fast::Path::ValueOneNode, 1);
                return;
            }
        }
        self.adopt_new(&[pos]);
    }

    /// Counts the nodes recorded since the last count (`refs` is as long as the tape was
    /// then): one handle for each of `held`; then cuts the dead nodes off the top of the
    /// tape (the new nodes above the highest held one).
    #[inline(never)]
    pub(super) fn adopt_new(&self, held: &[u32]) {
        let mut c = self.counts.borrow_mut();
        let end = self.graph.tape().len();
        c.refs.resize(end, 0);
        for &p in held {
            c.refs[p as usize] = c.refs[p as usize]
                .checked_add(1)
                .unwrap_or_else(|| too_many_refs());
        }
        self.cut_dead_top(c);
    }

    /// One more handle to the live node at `pos`.
    #[inline]
    pub(super) fn retain(&self, pos: u32) {
        let mut c = self.counts.borrow_mut();
        let r = &mut c.refs[pos as usize];
        *r = r.checked_add(1).unwrap_or_else(|| too_many_refs());
    }

    /// One handle fewer to the node at `pos`; when that was the last handle to the top
    /// node, the tape is cut below it.
    #[inline]
    fn release(&self, pos: u32) {
        let Ok(mut c) = self.counts.try_borrow_mut() else {
            return;
        };
        let r = &mut c.refs[pos as usize];
        *r -= 1;
        if *r == 0 && pos as usize + 1 == c.refs.len() {
            self.cut_dead_top(c);
        }
    }

    /// Cuts the dead nodes off the top of the tape (with the counts already borrowed): every
    /// node above the highest one with a handle. The top is held after every op and every
    /// drop (this cut keeps it so), so there is nothing to cut unless its count is 0.
    #[inline(never)]
    fn cut_dead_top(&self, mut c: std::cell::RefMut<'_, Counts>) {
        let len = c.refs.len();
        if c.refs.last() != Some(&0) {
            return;
        }
        let keep = highest_held(&c.refs).map_or(0, |p| p + 1);
        c.refs.truncate(keep);
        drop(c);
        crate::fast::count(crate::fast::Path::ValueCut, len - keep);
        self.graph.tape_mut().truncate_to(keep);
    }

    /// The number of live nodes: held by a handle, or an input of a live node. One walk down
    /// the tape, marking the inputs of each live node (inputs sit below their consumers).
    pub(super) fn live(&self) -> usize {
        let c = self.counts.borrow();
        let t = self.graph.tape();
        let mut live: Vec<bool> = c.refs.iter().map(|&r| r > 0).collect();
        let mut n = 0;
        for p in (0..live.len()).rev() {
            if live[p] {
                n += 1;
                t.for_each_input_at(p, |q| live[q as usize] = true);
            }
        }
        n
    }
}

/// The position of the highest node with a handle. Over the dead top of a step's graph
/// (tens of thousands of nodes no handle holds), sixteen counts at a time, OR-ed together
/// (the compiler makes that a few vector instructions).
fn highest_held(refs: &[u32]) -> Option<usize> {
    let mut end = refs.len();
    while let Some(chunk) = refs[..end].last_chunk::<16>() {
        if chunk.iter().fold(0, |a, &r| a | r) != 0 {
            break;
        }
        end -= 16;
    }
    refs[..end].iter().rposition(|&r| r != 0)
}

#[cold]
#[inline(never)]
fn too_many_refs() -> ! {
    panic!("scalargrad: a Value node has 4,294,967,295 handles and uses; drop some")
}
