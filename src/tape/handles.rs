//! Handles and rewinds: a handle is a position and an epoch, and a rewind that shortens
//! the tape (a *cut*) gets the next epoch. A handle is stale exactly when a cut made after
//! it shortened the tape to its position or below; the tape keeps only the cuts that can
//! still decide that (epochs and lengths both increase along them), so the check is two
//! comparisons almost always, else a binary search. See `docs/design.md`, "Handles".

use super::word::Tag;
use super::Tape;
use crate::op::Op;

/// What a handle holds: a position on the tape, and the epoch when the handle was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeId {
    pub(crate) pos: u32,
    pub(crate) epoch: u32,
}

/// Liveness of handles, and rewinds.
impl Tape {
    /// Frees every node at a position `>= keep`, with the side-table entries and operand
    /// lists only they use (found among the freed nodes: both tables grow in creation
    /// order). What [`Tape::truncate`] does for a mark, for a length alone.
    pub(crate) fn truncate_to(&mut self, keep: usize) {
        // the side-table entries of the lowest freed node that has one, and all above it
        // (entries are made in creation order): found by a walk up from `keep` that stops
        // there (no walk at all when the side table is empty)
        let len = self.len();
        let mut far = self.far.len();
        if far > 0 {
            let has_entry = |p: &usize| {
                let tag = self.words[*p].tag();
                tag == Tag::FAR || tag == Tag::ROW
            };
            let first = (keep..len).find(has_entry);
            crate::counts::count(
                crate::counts::Path::CutWordsRead,
                first.map_or(len - keep, |p| p + 1 - keep),
            );
            if let Some(p) = first {
                let w = self.words[p];
                far = match w.tag() {
                    Tag::FAR => w.far_index(),
                    // a layer's rows from row `j` on: rows `0 … j − 1` sit below `keep` and
                    // are kept, and so is the head (row 0's entry) that they name
                    _ => match w.row_parts() {
                        (head, 0) => head as usize,
                        (head, _) => head as usize + 1,
                    },
                };
            }
        }
        let mut operands = self.far[far..]
            .iter()
            .filter_map(Op::operand_start)
            .min()
            .map_or(self.operands.len(), |s| s as usize);
        if self.lists_shared {
            crate::counts::count(crate::counts::Path::SharedListScans, 1);
            // a freed op may name a list a kept op named first (`Tape::listed_again`):
            // keep the lists up to the end of the last one a kept op names (lists are made
            // in creation order, and one is named again only right after it is made)
            let kept = self.far[..far]
                .iter()
                .rev()
                .find_map(|op| op.operand_end(&self.operands))
                .map_or(0, |end| end as usize);
            operands = operands.max(kept);
        }
        self.truncate(keep, far, operands);
    }

    /// The position of a live handle.
    ///
    /// # Panics
    /// If the node was freed.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn pos(&self, id: NodeId) -> u32 {
        if self.is_live_fast(id) {
            id.pos
        } else {
            self.pos_slow(id)
        }
    }

    /// The common cases of [`Tape::try_pos`]: `true` means live; `false`, look closer.
    #[inline(always)]
    pub(crate) fn is_live_fast(&self, id: NodeId) -> bool {
        (id.pos as usize) < self.len() && (id.epoch >= self.last_cut || id.pos < self.min_cut)
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn pos_slow(&self, id: NodeId) -> u32 {
        crate::counts::count(crate::counts::Path::HandlesLookedUp, 1);
        match self.try_pos(id) {
            Some(p) => p,
            None => freed(),
        }
    }

    /// The position of a handle, or `None` if its node was freed.
    pub(crate) fn try_pos(&self, id: NodeId) -> Option<u32> {
        if id.pos as usize >= self.len() {
            return None;
        }
        // the first cut newer than the handle is the shortest of those newer
        let first_newer = self.cuts.partition_point(|&(epoch, _)| epoch <= id.epoch);
        match self.cuts.get(first_newer) {
            Some(&(_, len)) if len <= id.pos => None,
            _ => Some(id.pos),
        }
    }

    /// A handle to the live node at `pos`.
    #[inline(always)]
    pub(crate) fn id_at(&self, pos: usize) -> NodeId {
        debug_assert!(pos < self.len());
        NodeId {
            pos: pos as u32,
            epoch: self.epoch,
        }
    }

    /// The epoch of new handles (for marks).
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Frees every node at a position `>= keep` (`far` and `operands` back to the given
    /// lengths). Handles to them become stale: see the module docs.
    ///
    /// # Panics
    /// After 4,294,967,295 cuts.
    pub(crate) fn truncate(&mut self, keep: usize, far: usize, operands: usize) {
        if !self.names.is_empty() {
            self.names.split_off(&(keep as u32));
        }
        self.far.truncate(far);
        self.operands.truncate(operands);
        self.lists_shared &= !self.operands.is_empty();
        self.ahead.forget();
        // (a cut may free them: they are checked again)
        self.last_list.ids.clear();
        self.dirty = self.dirty.min(keep);
        self.leaf_prefix = self.leaf_prefix.min(keep);
        if self.first_wild >= keep {
            self.first_wild = usize::MAX;
        }
        self.versions.rewound(keep);
        if keep >= self.len() {
            return;
        }
        self.cut_to(keep);
        self.epoch = self.epoch.checked_add(1).unwrap_or_else(|| too_many_cuts());
        while self
            .cuts
            .last()
            .is_some_and(|&(_, len)| len as usize >= keep)
        {
            self.cuts.pop();
        }
        self.cuts.push((self.epoch, keep as u32));
        self.last_cut = self.epoch;
        self.min_cut = self.cuts[0].1;
    }

    /// Frees the nodes at positions `>= keep` (`keep <= len`): their slots stay for the next
    /// nodes, gradients set back to 0.
    pub(super) fn cut_to(&mut self, keep: usize) {
        let len = self.len;
        self.grads.live_mut(len)[keep..].fill(0.0);
        self.len = keep;
    }
}

#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn freed() -> ! {
    panic!(
        "scalargrad: this handle points to a node that was freed (by Graph::rewind, \
         Graph::scope or Graph::clear); create the values you keep across steps \
         before the mark, and read results before rewinding"
    )
}

#[cold]
#[inline(never)]
fn too_many_cuts() -> ! {
    panic!(
        "scalargrad: this graph was rewound 4,294,967,295 times, the most its handles can \
         tell apart; build a new Graph"
    )
}
