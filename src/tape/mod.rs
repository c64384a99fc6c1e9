//! The tape: every node of a graph in creation order, and the check that makes every handle
//! safe to use. Sealed: its fields are private, and only `word` knows the word format.
//!
//! - `mod.rs` (here): `Tape`, recording one node (`push_binary`, …) or a block of them
//!   for a fast path (`open_block`), and the passes' view of the arrays (`parts`).
//! - `handles`: handle liveness (epochs), cuts and rewinds.
//! - `word`: the 8-byte op word (tag, flags, inputs as distances back) and `with_op!`.
//! - `buffers`: the three arrays (values, gradients, words) and the per-thread spare slot.
//! - `memory`: the arrays' growth and their pages.
//! - `column`: the arrays' memory (the crate's one `unsafe` module; mapped on Linux).
//! - [`versions`]: the stale-value check after `set_value`.
//! - `wild`: where the first wild node is, and the finiteness test recording uses.
//! - `ahead`: what `fast::ahead` keeps between dot products.
//!
//! # Invariants
//! - **Inputs come before outputs**: an op node's inputs sit at lower positions, so creation
//!   order is a topological order and every walk is a loop, never a recursion.
//! - **One length**: positions `< len` are live; every gradient slot past `len` is 0.
//! - **A handle is a position and an epoch**: it is stale exactly when a cut (a rewind that
//!   shortened the tape) made after it freed its position.
//! - **`first_wild`**: no node below it is wild (a non-finite value, or an op that is not
//!   tame); kept by `wild`, see [`fast`](crate::fast) for why that matters.
//!
//! The design, and the measurements behind it: `docs/design.md`, "The tape".

mod ahead;
pub(crate) mod buffers;
#[allow(unsafe_code)]
mod column;
mod handles;
mod memory;
pub mod versions;
pub(crate) mod wild;
pub(crate) mod word;

pub(crate) use handles::NodeId;

use std::collections::BTreeMap;
use std::panic::Location;

use crate::custom::CustomTable;
use crate::op::{Op, Span, Wants};
pub(crate) use ahead::Ahead;
pub(crate) use buffers::release_spare;
pub use buffers::SPARE_CAP_BYTES;
use buffers::{Buffers, Grads, Values, Words};
pub use memory::{huge_pages, set_huge_pages};
use wild::not_finite;
use word::{Tag, Word, DELTA_MAX};

/// The handles of the last list of inputs checked and listed ([`Tape::push_checked_list`]),
/// where the list starts in the operand table, and whether all and whether any of them is
/// tracked.
#[derive(Default)]
struct LastList {
    ids: Vec<NodeId>,
    start: u32,
    all: bool,
    any: bool,
}

/// The arena's storage.
pub(crate) struct Tape {
    /// The number of live nodes: positions `< len` (the arrays may hold more slots).
    len: usize,
    /// Node values by position.
    values: Values,
    /// Node gradients by position, accumulated by the reverse pass; 0 at every slot past
    /// `len` (see "One length" in the module docs).
    grads: Grads,
    /// Node ops by position (tag, flags, inputs; see the module docs).
    words: Words,
    /// Positions below this have had their gradient slots faulted in, and the pages of
    /// values and words past them given back, by [`Tape::prepare_reverse`].
    prepared: usize,
    /// Ops that do not fit in a word, in creation order.
    far: Vec<Op>,
    /// Input positions of n-ary ops listed rather than run ([`crate::op::Span::List`]).
    operands: Vec<u32>,
    /// The last list of inputs checked and listed (see [`Tape::listed_again`]); emptied by
    /// every rewind.
    last_list: LastList,
    /// A list in `operands` is named by more than one op (see [`Tape::listed_again`]): a
    /// cut must keep the lists the ops below it name (see `Tape::truncate_to`).
    lists_shared: bool,
    /// The values of the neurons expected next, computed ahead (see `fast::ahead`);
    /// forgotten by every write of a value and every cut.
    ahead: Ahead,
    customs: CustomTable,
    /// Optional labels by position, shown by [`Graph::to_dot`](crate::Graph::to_dot).
    names: BTreeMap<u32, String>,
    anomaly: bool,
    /// The user's call that records nodes on the crate's behalf (`Graph::grad`), named by
    /// anomaly mode instead of the line inside the crate that recorded each node.
    site: Option<&'static Location<'static>>,
    /// Every *op* node at a position `>= dirty` has gradient 0, so a reverse pass can
    /// accumulate there in place; below it, op nodes accumulate in `adjoint` first (a second
    /// `backward` must add this pass's gradients, not propagate the sum of both). Leaves
    /// never propagate, so their gradients do not count.
    dirty: usize,
    /// The number of leaves at the start of the tape, before its first op node.
    leaf_prefix: usize,
    /// A reverse pass was interrupted by a panic and may have left `REACHED` flags set.
    interrupted: bool,
    /// No *wild* node sits below this position (`usize::MAX`: none on the tape): a wild
    /// node has a non-finite value or an op that is not [tame](Op::is_tame). Below it, a
    /// zero gradient can only ever give ±0 shares, so the reverse pass need not pass it on
    /// (see `backward::reverse_pass`, "Zero gradients"). Kept low enough by every write of a
    /// value or op (recording, `set_value`, `recompute`); lower than needed only costs
    /// speed.
    first_wild: usize,
    /// Reverse-pass scratch for positions below `dirty`, kept to avoid an allocation.
    adjoint: Vec<f64>,
    /// Leaves set under recorded nodes (see `versions`).
    versions: versions::Versions,
    /// The number of cuts so far: the epoch of new handles.
    epoch: u32,
    /// `(epoch, length)` of the cuts that can still make a handle stale; both increase.
    cuts: Vec<(u32, u32)>,
    /// The last cut's epoch (0: none), and the first cut's length (`u32::MAX`: none).
    last_cut: u32,
    min_cut: u32,
}

impl Default for Tape {
    fn default() -> Self {
        let Buffers {
            values,
            grads,
            words,
            prepared,
        } = buffers::take_spare();
        Tape {
            len: 0,
            values,
            grads,
            words,
            prepared,
            far: Vec::new(),
            operands: Vec::new(),
            last_list: LastList::default(),
            lists_shared: false,
            ahead: Default::default(),
            customs: CustomTable::default(),
            names: BTreeMap::new(),
            anomaly: false,
            site: None,
            dirty: 0,
            leaf_prefix: 0,
            interrupted: false,
            first_wild: usize::MAX,
            adjoint: Vec::new(),
            versions: Default::default(),
            epoch: 0,
            cuts: Vec::new(),
            last_cut: 0,
            min_cut: u32::MAX,
        }
    }
}

impl Drop for Tape {
    fn drop(&mut self) {
        let spare = Buffers {
            values: std::mem::take(&mut self.values),
            grads: std::mem::take(&mut self.grads),
            words: std::mem::take(&mut self.words),
            prepared: self.prepared,
        };
        buffers::give_spare(spare, self.len);
    }
}

/// A block of new nodes for a fast path to fill, from [`Tape::open_block`]: the values of
/// the live nodes below it to read, and its own values and words to write.
pub(crate) struct Block<'t> {
    /// The values of the live nodes (every input of the block's nodes is one of them).
    pub(crate) below: &'t [f64],
    /// The block's values, to fill.
    pub(crate) values: &'t mut [f64],
    /// The block's words, to fill.
    pub(crate) words: &'t mut [Word],
    /// The operand lists of n-ary ops.
    pub(crate) operands: &'t [u32],
    /// The custom ops.
    pub(crate) customs: &'t CustomTable,
}

/// The arrays of the first `n` nodes and the tables, for a pass over the whole tape (the
/// reverse pass, `recompute`), from [`Tape::parts`].
pub(crate) struct Parts<'t> {
    /// Values by position.
    pub(crate) values: &'t mut [f64],
    /// Gradients by position.
    pub(crate) grads: &'t mut [f64],
    /// Words by position.
    pub(crate) words: &'t mut [Word],
    /// Ops kept whole.
    pub(crate) far: &'t [Op],
    /// The operand lists of n-ary ops.
    pub(crate) operands: &'t [u32],
    /// The custom ops.
    pub(crate) customs: &'t CustomTable,
    /// The reverse pass's scratch gradients (below `Tape::dirty`).
    pub(crate) adjoint: &'t mut Vec<f64>,
    /// No wild node sits below this position (see the module docs).
    pub(crate) first_wild: usize,
}

/// What a reverse pass needs to know before it walks, from [`Tape::begin_reverse`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReverseSetup {
    /// Op nodes below this position may hold gradients of an earlier pass: this pass
    /// accumulates there in scratch first (0: nowhere).
    pub(crate) split: usize,
    /// Anomaly mode.
    pub(crate) anomaly: bool,
}

/// Reading nodes and tables, and the tape's settings.
impl Tape {
    /// The value of the live node at `pos`.
    #[inline(always)]
    pub(crate) fn value(&self, pos: usize) -> f64 {
        self.values[pos]
    }

    /// The gradient of the live node at `pos`.
    #[inline(always)]
    pub(crate) fn grad(&self, pos: usize) -> f64 {
        self.grads[pos]
    }

    /// The live nodes' values.
    pub(crate) fn values(&self) -> &[f64] {
        self.values.live(self.len)
    }

    /// The live nodes' gradients.
    pub(crate) fn grads(&self) -> &[f64] {
        self.grads.live(self.len)
    }

    /// Sets every gradient to 0 (and so no op node holds an earlier pass's gradient).
    pub(crate) fn zero_grads(&mut self) {
        let len = self.len;
        self.grads.live_mut(len).fill(0.0);
        self.dirty = 0;
    }

    /// Sets the gradient of the live node at `pos` to 0.
    pub(crate) fn zero_grad_at(&mut self, pos: usize) {
        self.grads[pos] = 0.0;
    }

    /// The tag of the node at `pos` (for tests of which path recorded it).
    #[cfg(test)]
    pub(crate) fn tag_at(&self, pos: usize) -> u64 {
        self.words[pos].tag()
    }

    /// The operand lists of n-ary ops.
    #[inline(always)]
    pub(crate) fn operands(&self) -> &[u32] {
        &self.operands
    }

    /// Appends positions to the operand table; returns where they start.
    ///
    /// # Panics
    /// If the table would pass `u32::MAX` entries.
    pub(crate) fn push_operands(&mut self, positions: impl IntoIterator<Item = u32>) -> u32 {
        let start = self.operands.len();
        self.operands.extend(positions);
        if !operands_fit(self.operands.len()) {
            self.operands.truncate(start);
            too_many_operands();
        }
        start as u32
    }

    /// Lists the positions of handles checked live (the inputs of a dot product that are
    /// not a run), remembering the handles, where their list starts and whether all and
    /// whether any is tracked for [`Tape::listed_again`]. Returns where the list starts in
    /// the operand table.
    pub(crate) fn push_checked_list(
        &mut self,
        ids: impl IntoIterator<Item = NodeId>,
        all: bool,
        any: bool,
    ) -> u32 {
        // (the list taken out while the operand table grows; a panic there leaves it
        // empty, which only means the next list is checked)
        let mut handles = std::mem::take(&mut self.last_list.ids);
        handles.clear();
        handles.extend(ids);
        let start = self.push_operands(handles.iter().map(|id| id.pos));
        self.last_list = LastList {
            ids: handles,
            start,
            all,
            any,
        };
        start
    }

    /// When `same(handles)` says the inputs at hand are the handles of the last list
    /// [`Tape::push_checked_list`] made (and no rewind came since, so they are still live,
    /// and their words and flags are as they were), names that list again, unchecked and
    /// not copied: returns where it starts and whether all and whether any of them is
    /// tracked. A layer's neurons, each a dot product over the same outputs of the layer
    /// below, check and list those once.
    #[inline]
    pub(crate) fn listed_again(
        &mut self,
        same: impl FnOnce(&[NodeId]) -> bool,
    ) -> Option<(u32, bool, bool)> {
        let LastList {
            ids,
            start,
            all,
            any,
        } = &self.last_list;
        if ids.is_empty() || !same(ids) {
            return None;
        }
        crate::counts::count(crate::counts::Path::ListsReused, ids.len());
        self.lists_shared = true;
        Some((*start, *all, *any))
    }

    /// How many ops are kept whole, and how many operands listed (for marks).
    pub(crate) fn table_lengths(&self) -> (usize, usize) {
        (self.far.len(), self.operands.len())
    }

    /// The custom ops.
    #[inline(always)]
    pub(crate) fn customs(&self) -> &CustomTable {
        &self.customs
    }

    /// The custom ops, to register or free some.
    pub(crate) fn customs_mut(&mut self) -> &mut CustomTable {
        &mut self.customs
    }

    /// The label of the node at `pos`, if it has one.
    pub(crate) fn name(&self, pos: usize) -> Option<&str> {
        if self.names.is_empty() {
            return None;
        }
        self.names.get(&(pos as u32)).map(String::as_str)
    }

    /// Labels the node at `pos`.
    pub(crate) fn set_name(&mut self, pos: usize, name: &str) {
        self.names.insert(pos as u32, name.to_owned());
    }

    /// Whether anomaly mode is on.
    #[inline(always)]
    pub(crate) fn anomaly(&self) -> bool {
        self.anomaly
    }

    /// Names `site` (or, with `None`, each recording call again) as where nodes are recorded,
    /// for anomaly mode's messages; returns the site it replaces.
    pub(crate) fn set_site(
        &mut self,
        site: Option<&'static Location<'static>>,
    ) -> Option<&'static Location<'static>> {
        std::mem::replace(&mut self.site, site)
    }

    /// The site already named (an outer `Graph::grad`), else `at`.
    pub(crate) fn site_or(&self, at: &'static Location<'static>) -> &'static Location<'static> {
        self.site.unwrap_or(at)
    }

    /// Switches anomaly mode.
    pub(crate) fn set_anomaly(&mut self, on: bool) {
        self.anomaly = on;
    }

    /// The stale-value record (see [`versions`]).
    pub(crate) fn versions_mut(&mut self) -> &mut versions::Versions {
        &mut self.versions
    }

    /// Sets the value of the live node at `pos`, leaf or op, with no stale-value record: the
    /// nodes computed from it keep their values (micrograd's `v.data = …`, for `Value`).
    pub(crate) fn overwrite_value(&mut self, pos: usize, value: f64) {
        self.ahead.forget();
        self.values[pos] = value;
        self.note_value(pos, value);
    }

    /// Sets the gradient of the live node at `pos` (micrograd's `v.grad = …`, for `Value`),
    /// keeping the reverse pass's record of which op nodes may hold a gradient.
    pub(crate) fn set_grad(&mut self, pos: usize, grad: f64) {
        self.grads[pos] = grad;
        if grad != 0.0 && !self.is_leaf(pos) {
            self.dirty = self.dirty.max(pos + 1);
        }
    }

    /// Sets the value of the live leaf at `pos` (the caller checked that it is one), and
    /// records it for the stale-value check.
    #[inline]
    pub(crate) fn set_leaf_value(&mut self, pos: usize, value: f64) {
        debug_assert!(self.is_leaf(pos));
        self.ahead.forget();
        self.values[pos] = value;
        self.note_value(pos, value);
        let len = self.len;
        self.versions.on_set(pos, len);
    }
}

/// Blocks of nodes for the fast paths, and passes over the whole tape.
impl Tape {
    /// Opens `n` slots after the live nodes for a fast path to fill ([`Block`]); the nodes
    /// become live with [`Tape::close_block`].
    #[inline]
    pub(crate) fn open_block(&mut self, n: usize) -> Block<'_> {
        let first = self.next_slots(n);
        let end = first + n;
        // the block's nodes read only nodes below them: the live ones
        let (below, values) = self.values.live_mut(end).split_at_mut(first);
        Block {
            below,
            values,
            words: &mut self.words.live_mut(end)[first..],
            operands: &self.operands,
            customs: &self.customs,
        }
    }

    /// Makes the `n` nodes of the block opened last live (`wild`: one of them is wild, see
    /// the module docs); returns the first one's handle.
    #[inline]
    pub(crate) fn close_block(&mut self, n: usize, wild: bool) -> NodeId {
        let first = self.len;
        debug_assert!(first + n <= self.values.high_water());
        if wild {
            self.note_wild(first);
        }
        self.len = first + n;
        self.id_at(first)
    }

    /// Keeps row 0 of a layer in the side table for the rows' words to name; `None` (and
    /// nothing kept) when a row word could not hold its index, or in anomaly mode (which
    /// checks each node as it is recorded: the caller records the rows one by one).
    #[inline]
    pub(crate) fn keep_row_head(&mut self, head: Op) -> Option<u32> {
        if self.anomaly || !Word::row_head_fits(self.far.len()) {
            return None;
        }
        self.far.push(head);
        Some((self.far.len() - 1) as u32)
    }

    /// What `fast::ahead` keeps, with the live nodes' values and the operand table.
    #[inline(always)]
    pub(crate) fn ahead_parts(&mut self) -> (&mut Ahead, &[f64], &[u32]) {
        (&mut self.ahead, self.values.live(self.len), &self.operands)
    }

    /// The arrays of the first `n` live nodes and the tables.
    #[inline]
    pub(crate) fn parts(&mut self, n: usize) -> Parts<'_> {
        debug_assert!(n <= self.len);
        // (a pass may write values: `recompute`)
        self.ahead.forget();
        Parts {
            values: self.values.live_mut(n),
            grads: self.grads.live_mut(n),
            words: self.words.live_mut(n),
            far: &self.far,
            operands: &self.operands,
            customs: &self.customs,
            adjoint: &mut self.adjoint,
            first_wild: self.first_wild,
        }
    }

    /// Gets the tape ready for a reverse pass from `root`; `None` if the root is not
    /// tracked (nothing to do).
    ///
    /// Gradients accumulate in place at every op node whose gradient was 0 before the pass
    /// (`>= dirty`: every op node recorded since the last `zero_grad` or backward) and at
    /// every leaf (a leaf passes nothing on); other op nodes accumulate in scratch first
    /// ([`ReverseSetup::split`]), so a second `backward` adds its own gradients instead of
    /// propagating the sum of both.
    #[inline]
    pub(crate) fn begin_reverse(&mut self, root: usize) -> Option<ReverseSetup> {
        if !self.tracked(root) {
            return None;
        }
        if self.interrupted {
            // A panic (anomaly, or a custom op's derivative) left flags behind.
            let len = self.len;
            for w in self.words.live_mut(len) {
                *w = w.unreached();
            }
            crate::counts::count(crate::counts::Path::FlagsCleared, len);
        }
        self.prepare_reverse(root + 1);
        self.interrupted = true;
        // No op node below `leaf_prefix`: if that covers every position below `dirty`,
        // nothing needs the scratch array (train_step's case: parameters and inputs, then
        // the step).
        let split = if self.dirty <= self.leaf_prefix {
            0
        } else {
            self.dirty.min(root + 1)
        };
        // Raised before the walk: if it panics, the partial gradients it left at positions
        // `>= split` count as an earlier pass's, and the next pass adds to them via scratch
        // instead of propagating them as its own.
        self.dirty = self.dirty.max(root + 1);
        Some(ReverseSetup {
            split,
            anomaly: self.anomaly,
        })
    }

    /// The reverse pass finished without a panic: every `REACHED` flag is clear.
    #[inline]
    pub(crate) fn end_reverse(&mut self) {
        self.interrupted = false;
    }
}

impl Tape {
    /// The number of live nodes.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The op of the node at `pos`.
    #[inline(always)]
    pub(crate) fn op(&self, pos: usize) -> Op {
        word::op_at(self.words.live(self.len), &self.far, pos)
    }

    /// Runs `f` on each input position of the node at `pos` (as `op(pos).for_each_input`,
    /// read straight off the word for a packed op).
    #[inline(always)]
    pub(crate) fn for_each_input_at(&self, pos: usize, mut f: impl FnMut(u32)) {
        let word = self.words[pos];
        if word.is_leaf() {
            return;
        }
        match word.packed_inputs(pos as u32) {
            Some((a, b)) => {
                f(a);
                if let Some(b) = b {
                    f(b);
                }
            }
            None => self.op(pos).for_each_input(&self.operands, f),
        }
    }

    /// Whether the node at `pos` depends on a tracked leaf.
    #[inline(always)]
    pub(crate) fn tracked(&self, pos: usize) -> bool {
        self.words[pos].is_tracked()
    }

    /// Whether the node at `pos` is a leaf.
    #[inline(always)]
    pub(crate) fn is_leaf(&self, pos: usize) -> bool {
        self.words[pos].is_leaf()
    }

    /// Whether all, and whether any, of the `n` live nodes from `from` is tracked.
    #[inline]
    pub(crate) fn tracked_run(&self, from: usize, n: usize) -> (bool, bool) {
        Word::all_any_tracked(&self.words.live(self.len)[from..from + n])
    }

    /// Whether the `n` nodes from `from` are all live tracked leaves.
    pub(crate) fn all_tracked_leaves(&self, from: usize, n: usize) -> bool {
        from.checked_add(n).is_some_and(|end| end <= self.len)
            && self.words.live(self.len)[from..from + n]
                .iter()
                .fold(0, |diff, w| diff | w.tracked_leaf_difference())
                == 0
    }

    /// Appends a leaf.
    #[inline(always)]
    pub(crate) fn push_leaf(&mut self, value: f64, tracked: bool) -> NodeId {
        let pos = self.len;
        let word = Word::leaf(tracked);
        // stored through the slots' slices, `pos` checked against each length once
        let (values, words) = (self.values.slots_mut(), self.words.slots_mut());
        if pos < values.len() && pos < words.len() {
            values[pos] = value;
            words[pos] = word;
        } else {
            self.push_fresh();
            self.values[pos] = value;
            self.words[pos] = word;
        }
        if self.leaf_prefix == pos {
            self.leaf_prefix = pos + 1;
        }
        self.note_value(pos, value);
        self.len = pos + 1;
        NodeId {
            pos: pos as u32,
            epoch: self.epoch,
        }
    }

    /// Stores the node at `pos` (from [`Tape::next_slot`]): two stores by index, the
    /// gradient slot is already 0.
    #[inline(always)]
    fn push_at(&mut self, pos: usize, word: Word, value: f64) -> NodeId {
        debug_assert_eq!(pos, self.len);
        self.values[pos] = value;
        self.words[pos] = word;
        self.len = pos + 1;
        NodeId {
            pos: pos as u32,
            epoch: self.epoch,
        }
    }

    /// Appends an op node: computes its value with the op's forward rule and whether it is
    /// tracked from its inputs.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn push_op(&mut self, op: Op) -> NodeId {
        debug_assert!(
            {
                let mut ok = true;
                op.for_each_input(&self.operands, |p| ok &= (p as usize) < self.len());
                ok
            },
            "inputs come before outputs"
        );
        let mut tracked = false;
        let words = self.words.live(self.len);
        op.for_each_input(&self.operands, |p| {
            tracked |= words[p as usize].is_tracked()
        });
        self.push_op_tracked(op, tracked)
    }

    /// Records `op(a, b)` on two handles: [`Tape::pos`] of each, then [`Tape::push_op`],
    /// with the common case decided by a handful of tests that all lead to the same general
    /// path. When both handles are plainly live (below the first cut, or made since the
    /// last one), the slot exists, every distance fits a word and anomaly mode is off, the
    /// node is stored through the arrays' slices: the positions were checked against their
    /// lengths once, so no read or write needs a further check (recording is mostly such
    /// checks: this path runs about half the instructions of the general one).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn push_binary<F: Fn(u32, u32) -> Op>(
        &mut self,
        a: NodeId,
        b: NodeId,
        op: F,
    ) -> NodeId {
        // Liveness as `is_live_fast`: below the first cut (everywhere on a tape never cut) a
        // node is live; above it, a handle made since the last cut is, and its epoch is then
        // the current one. For both at once first (their positions OR-ed, their epochs
        // AND-ed: two comparisons), then, when that is not sure, for each: a parameter made
        // before the first mark and a node of this step are both live.
        let live = |id: NodeId| (id.pos < self.min_cut) | (id.epoch >= self.last_cut);
        if (a.pos | b.pos) >= self.min_cut
            && a.epoch & b.epoch < self.last_cut
            && !(live(a) & live(b))
        {
            return self.push_binary_checked(a, b, op);
        }
        match self.try_push_binary_live(a.pos, b.pos, &op) {
            Some(pos) => self.id_at(pos as usize),
            None => self.push_binary_checked(a, b, op),
        }
    }

    /// [`Tape::push_binary`] in general: each handle checked on its own (and the panic for
    /// a freed one), growth, far ops, anomaly mode.
    #[inline(never)]
    #[track_caller]
    fn push_binary_checked<F: Fn(u32, u32) -> Op>(
        &mut self,
        a: NodeId,
        b: NodeId,
        op: F,
    ) -> NodeId {
        crate::counts::count(crate::counts::Path::OpsChecked, 1);
        let (a, b) = (self.pos(a), self.pos(b));
        self.push_op(op(a, b))
    }

    /// Records `op(a)` on a handle: [`Tape::push_binary`] for one input.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn push_unary<F: Fn(u32) -> Op>(&mut self, a: NodeId, op: F) -> NodeId {
        if a.pos >= self.min_cut && a.epoch < self.last_cut {
            return self.push_unary_checked(a, op);
        }
        match self.try_push_unary_live(a.pos, &op) {
            Some(pos) => self.id_at(pos as usize),
            None => self.push_unary_checked(a, op),
        }
    }

    /// [`Tape::push_binary`] on the positions of two nodes the caller knows are live (the
    /// nodes of [`Value`](crate::Value)s, which their counts keep on the tape): no epoch to
    /// compare. Returns the new node's position, or `None` (nothing recorded) when the op
    /// needs the general path (arrays to grow, a distance past a word, anomaly mode).
    /// Written as early exits, so that every check is known to hold on the path that
    /// follows: no read or write of the arrays past them needs a further bounds check.
    #[inline(always)]
    pub(crate) fn try_push_binary_live<F: Fn(u32, u32) -> Op>(
        &mut self,
        a: u32,
        b: u32,
        op: F,
    ) -> Option<u32> {
        let pos = self.len;
        let (pa, pb) = (a as usize, b as usize);
        let (values, words) = (self.values.slots_mut(), self.words.slots_mut());
        if pa >= pos
            || pb >= pos
            || pos >= values.len()
            || pos >= words.len()
            || pos > DELTA_MAX as usize
            || self.anomaly
        {
            return None;
        }
        let tracked = Word::either_tracked(words[pa], words[pb]);
        let wild = store_op(
            values,
            words,
            pos,
            op(a, b),
            tracked,
            &self.operands,
            &self.customs,
        );
        Some(self.stored(pos, wild))
    }

    /// [`Tape::try_push_binary_live`] for an op of one input (its one input on both sides).
    #[inline(always)]
    pub(crate) fn try_push_unary_live<F: Fn(u32) -> Op>(&mut self, a: u32, op: F) -> Option<u32> {
        self.try_push_binary_live(a, a, |a, _| op(a))
    }

    /// The end of [`Tape::try_push_binary_live`]: the node stored at `pos` (wild or not)
    /// becomes live; returns its position.
    #[inline(always)]
    fn stored(&mut self, pos: usize, wild: bool) -> u32 {
        if wild {
            self.note_wild(pos);
        }
        self.len = pos + 1;
        pos as u32
    }

    /// [`Tape::push_unary`] in general.
    #[inline(never)]
    #[track_caller]
    fn push_unary_checked<F: Fn(u32) -> Op>(&mut self, a: NodeId, op: F) -> NodeId {
        crate::counts::count(crate::counts::Path::OpsChecked, 1);
        let a = self.pos(a);
        self.push_op(op(a))
    }

    /// [`Tape::push_op`] when the caller already knows whether an input is tracked.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn push_op_tracked(&mut self, op: Op, tracked: bool) -> NodeId {
        // The word first and the value last, right before it is stored.
        let pos = self.next_slot();
        let word = match Word::pack(&op, pos as u32) {
            Some(word) => word,
            None => self.push_far(op),
        };
        let value = op.eval(self.values.live(pos), &self.operands, &self.customs);
        if !op.is_tame() {
            self.note_wild(pos);
        }
        self.store_node(pos, op, word.tracked_if(tracked), value)
    }

    /// The end of recording an op node at `pos` (from [`Tape::next_slot`]): its value noted
    /// (wild if not finite), the node stored, and in anomaly mode checked.
    #[inline(always)]
    #[track_caller]
    fn store_node(&mut self, pos: usize, op: Op, word: Word, value: f64) -> NodeId {
        self.note_value(pos, value);
        let id = self.push_at(pos, word, value);
        if self.anomaly {
            // out of line: the finiteness test stays off the common path
            let at = self.site.unwrap_or(Location::caller());
            self.check_forward_anomaly(op, at);
        }
        id
    }

    /// [`Tape::push_op_tracked`] for a dot product given by its parts (always kept in the
    /// side table), with its value if it was computed ahead (`fast::ahead`). The side
    /// table's copy is made from the parts, not from the op assembled on the stack: reading
    /// that back as whole words right after its fields were written stalls the load (a
    /// store that cannot be forwarded).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn push_dot(
        &mut self,
        (w, x, len, bias): (Span, Span, u32, Option<u32>),
        wants: Wants,
        tracked: bool,
        ahead: Option<f64>,
    ) -> NodeId {
        let dot = || Op::Dot {
            w,
            x,
            len,
            bias,
            wants,
        };
        let op = dot();
        debug_assert!(op.is_tame() && Word::pack(&op, 0).is_none());
        let pos = self.next_slot();
        let value = match ahead {
            Some(y) => y,
            None => op.eval(self.values.live(pos), &self.operands, &self.customs),
        };
        self.far.push(dot());
        let word = Word::far(self.far.len() - 1);
        self.store_node(pos, op, word.tracked_if(tracked), value)
    }

    /// Keeps `op` in the side table; returns its word (tag and index, no flags).
    #[inline]
    fn push_far(&mut self, op: Op) -> Word {
        self.far.push(op);
        Word::far(self.far.len() - 1)
    }

    /// Anomaly mode: panics if `op` turned finite inputs into a non-finite `value`.
    /// Checks the node just pushed for `op`; on a panic, the tape is left as it was
    /// before that node.
    #[cold]
    #[inline(never)]
    fn check_forward_anomaly(&mut self, op: Op, at: &Location<'_>) {
        let p = self.len() - 1;
        let value = self.values[p];
        if value.is_finite() {
            return;
        }
        let mut finite = true;
        op.for_each_input(&self.operands, |q| {
            finite &= self.values[q as usize].is_finite()
        });
        if finite {
            if self.words[p].tag() == Tag::FAR {
                self.far.pop();
            }
            self.cut_to(p);
            self.report_forward_anomaly(op, value, at);
        }
    }

    /// Anomaly mode: panics if `op` turned finite inputs into a non-finite value.
    #[cold]
    pub(crate) fn report_forward_anomaly(&self, op: Op, value: f64, at: &Location<'_>) {
        let mut inputs = Vec::new();
        op.for_each_input(&self.operands, |p| inputs.push(self.values[p as usize]));
        if inputs.iter().all(|v| v.is_finite()) {
            panic!(
                "scalargrad anomaly: `{}` of finite inputs {:?} gave {} (node recorded at {})",
                self.op_name(op),
                inputs,
                value,
                at
            );
        }
    }

    pub(crate) fn op_name(&self, op: Op) -> &str {
        match op {
            Op::Custom(_, f) | Op::CustomN { f, .. } => self.customs[f as usize].name(),
            _ => op.name(),
        }
    }

    /// Inputs' values of the node at `pos`, for messages.
    pub(crate) fn input_values(&self, pos: usize) -> Vec<f64> {
        let mut inputs = Vec::new();
        self.op(pos)
            .for_each_input(&self.operands, |p| inputs.push(self.values[p as usize]));
        inputs
    }
}

/// Stores the node `op` at `pos` (its word with the `tracked` flag, its value by the op's
/// forward rule from `values`), for positions already checked against both slices' lengths
/// (see `Tape::push_binary`); returns whether the node is wild (see [`Tape::first_wild`]).
#[inline(always)]
fn store_op(
    values: &mut [f64],
    words: &mut [Word],
    pos: usize,
    op: Op,
    tracked: Word,
    operands: &[u32],
    customs: &CustomTable,
) -> bool {
    let word = Word::pack(&op, pos as u32).unwrap_or_else(|| unreachable!());
    let value = op.eval(values, operands, customs);
    values[pos] = value;
    words[pos] = word.with_flags(tracked);
    !op.is_tame() || not_finite(value)
}

/// Whether an operand table of `len` entries can be indexed by `u32`s.
#[inline(always)]
fn operands_fit(len: usize) -> bool {
    len <= u32::MAX as usize
}

#[cold]
fn too_many_operands() -> ! {
    panic!(
        "scalargrad: a graph holds at most 4,294,967,295 operands of n-ary ops; rewind \
         between steps"
    )
}

#[cfg(test)]
mod tests {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    #[test]
    fn an_anomaly_in_recording_leaves_the_tape_and_its_tables_as_they_were() {
        let g = crate::Graph::new();
        let x = g.var(0.0);
        let kept = x.pow(2.0); // an op kept whole in the side table
        let before = (g.tape().table_lengths(), g.len());
        assert_eq!(before, ((1, 0), 2));
        g.detect_anomaly(true);
        // 0⁻¹ = ∞ (kept whole), ln 0 = −∞ (packed): both from finite inputs
        assert!(catch_unwind(AssertUnwindSafe(|| x.pow(-1.0))).is_err());
        assert_eq!((g.tape().table_lengths(), g.len()), before);
        assert!(catch_unwind(AssertUnwindSafe(|| x.ln())).is_err());
        assert_eq!((g.tape().table_lengths(), g.len()), before);
        assert_eq!(kept.value(), 0.0);
    }

    #[test]
    fn anomaly_mode_lets_a_non_finite_input_give_a_non_finite_value() {
        let g = crate::Graph::new();
        let (inf, one) = (g.var(f64::INFINITY), g.var(1.0));
        g.detect_anomaly(true);
        // not an anomaly: the infinity came in
        assert_eq!((inf * 2.0).value(), f64::INFINITY);
        assert_eq!((one + inf).value(), f64::INFINITY);
        assert!((inf - inf).value().is_nan());
    }

    #[test]
    fn operand_tables_fit_up_to_u32_max_entries() {
        assert!(super::operands_fit(0) && super::operands_fit(u32::MAX as usize));
        assert!(!super::operands_fit(u32::MAX as usize + 1));
    }
}
