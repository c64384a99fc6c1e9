//! The thread's graph that every [`Value`](super::Value) lives on, and the counts that free
//! its nodes in any order.
//!
//! A node's count is the number of handles to it plus the number of live nodes that use it
//! as an input. When it reaches 0 the node is dead, and so, from an explicit worklist (no
//! recursion), is every input that only it kept alive. Dead nodes at the top of the tape are
//! then cut off (one [`Tape::truncate_to`](crate::tape)), so a training loop whose step's
//! values all die reuses the same positions every step: memory stays flat. A dead node under
//! a live one waits until everything above it has died.
//!
//! Invariant: `counts.refs[p] > 0` for every live node `p`, and `refs.len()` is the tape's
//! length; a handle's node is live, so a `Value` never reads a freed position.

use std::cell::RefCell;

use crate::{Graph, Var};

/// This thread's graph and the counts of its nodes.
pub(super) struct Owner {
    pub(super) graph: Graph,
    counts: RefCell<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Handles plus live consumers, by position.
    refs: Vec<u32>,
    /// Dead nodes still on the tape (under a live one): the live ones are the rest.
    dead: usize,
    /// Dead nodes whose inputs are still to be released (a worklist kept to avoid an
    /// allocation per free).
    work: Vec<u32>,
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

    /// Records with `f` and counts what it recorded: each new node's inputs once, and one
    /// handle for the node `f` returns (its position is returned); new nodes nothing uses
    /// are freed at once.
    #[inline(always)]
    pub(super) fn record<'o>(&'o self, f: impl FnOnce(&'o Graph) -> Var<'o>) -> u32 {
        let y = f(&self.graph);
        // (a handle `f` just made or returned: live)
        let pos = y.id().pos;
        self.adopt_one(pos);
        pos
    }

    /// [`Owner::adopt_new`] with one handle, to the node at `pos`. One new node, held, is
    /// what every op on `Value`s records: counted here with one look at the tape and the
    /// counts (nothing to free, and its handle keeps the top of the tape live).
    #[inline(always)]
    pub(super) fn adopt_one(&self, pos: u32) {
        {
            let t = self.graph.tape();
            let mut c = self.counts.borrow_mut();
            let c = &mut *c;
            let start = c.refs.len();
            if pos as usize == start && t.len() == start + 1 {
                t.for_each_input_at(start, |q| c.refs[q as usize] += 1);
                c.refs.push(1);
                crate::fast::count(crate::fast::Path::ValueOneNode, 1);
                return;
            }
        }
        self.adopt_new(&[pos]);
    }

    /// Counts the nodes recorded since the last count (`refs` is as long as the tape was
    /// then): their inputs once each, and one handle for each of `held`; then frees the new
    /// nodes nothing uses and cuts the dead nodes off the top of the tape.
    #[inline(never)]
    pub(super) fn adopt_new(&self, held: &[u32]) {
        let mut c = self.counts.borrow_mut();
        {
            let t = self.graph.tape();
            let (start, end) = (c.refs.len(), t.len());
            c.refs.resize(end, 0);
            for p in start..end {
                t.for_each_input_at(p, |q| c.refs[q as usize] += 1);
            }
            for &p in held {
                c.refs[p as usize] = c.refs[p as usize]
                    .checked_add(1)
                    .unwrap_or_else(|| too_many_refs());
            }
            for p in (start..end).rev() {
                if c.refs[p] == 0 {
                    c.work.push(p as u32);
                    free(&t, &mut c);
                }
            }
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

    /// One handle fewer to the node at `pos`; frees it (and what only it kept alive) when
    /// that was the last.
    #[inline]
    fn release(&self, pos: u32) {
        let Ok(mut c) = self.counts.try_borrow_mut() else {
            return;
        };
        let r = &mut c.refs[pos as usize];
        *r -= 1;
        if *r == 0 {
            self.free_from(c, pos);
        }
    }

    /// Frees the dead node at `pos` and what only it kept alive, then cuts the dead nodes
    /// off the top of the tape.
    #[inline(never)]
    fn free_from(&self, mut c: std::cell::RefMut<'_, Counts>, pos: u32) {
        {
            let t = self.graph.tape();
            if t.is_leaf(pos as usize) {
                // (a parameter or input: nothing below it to release)
                c.dead += 1;
            } else {
                c.work.push(pos);
                free(&t, &mut c);
            }
        }
        self.cut_dead_top(c);
    }

    /// Cuts the dead nodes off the top of the tape (with the counts already borrowed).
    fn cut_dead_top(&self, mut c: std::cell::RefMut<'_, Counts>) {
        if let Some(keep) = dead_top(&mut c) {
            drop(c);
            self.graph.tape_mut().truncate_to(keep);
        }
    }

    /// The number of live nodes.
    pub(super) fn live(&self) -> usize {
        let c = self.counts.borrow();
        c.refs.len() - c.dead
    }
}

/// Forgets the dead nodes at the top of the tape, and returns the length to cut the tape
/// to (`None`: the top node is live).
fn dead_top(c: &mut Counts) -> Option<usize> {
    let len = c.refs.len();
    let mut keep = len;
    while keep > 0 && c.refs[keep - 1] == 0 {
        keep -= 1;
    }
    if keep == len {
        return None;
    }
    c.refs.truncate(keep);
    c.dead -= len - keep;
    Some(keep)
}

/// Frees the dead nodes on the worklist, and every input whose count that brings to 0.
fn free(t: &crate::tape::Tape, c: &mut Counts) {
    while let Some(p) = c.work.pop() {
        c.dead += 1;
        let Counts { refs, work, .. } = c;
        t.for_each_input_at(p as usize, |q| {
            let r = &mut refs[q as usize];
            *r -= 1;
            if *r == 0 {
                work.push(q);
            }
        });
    }
}

#[cold]
#[inline(never)]
fn too_many_refs() -> ! {
    panic!("scalargrad: a Value node has 4,294,967,295 handles and uses; drop some")
}
