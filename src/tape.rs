//! The tape's storage: nodes in creation order, kept as three parallel arrays, and the check
//! that makes every handle safe to use.
//!
//! # Layout: 24 bytes per node
//! A node at *position* `p` is `values[p]`, `grads[p]` and `words[p]` (struct of arrays):
//!
//! - `values`, `grads`: `f64`, 8 bytes each. Kept apart so that a forward rule or a reverse
//!   pass over a run of positions (a neuron's weights, a layer's outputs) reads and writes
//!   contiguous slices: a dot product and two `axpy` loops the compiler vectorises.
//! - `words`: the op in 8 bytes. The low 6 bits are a tag, then two flags (`TRACKED`: the
//!   node depends on a [`Graph::var`](crate::Graph::var) leaf; `REACHED`: the running reverse
//!   pass gave it a share from far above; near shares are marked on the walk's stack, see
//!   `backward::reverse_pass`), then up to two inputs as *distances back* from `p`, 28 bits
//!   each (see `Op::pack`). Leaves and the common unary and binary ops fit; an op that does not
//!   (n-ary `sum`/`dot`, `pow`'s constant exponent, custom ops, an input more than 2²⁸
//!   positions back) is stored whole in the side table `far`, and its word holds the index.
//!   The rows of a layer (`Tape::push_rows`) share one entry there, row 0's `dot`; each
//!   row's word holds that index and its row number (see `op::row_op`).
//!
//! W2's deep chain (5 nodes per step, none in `far`) therefore costs 24 bytes a node, where
//! the 32-byte array-of-structs node it replaces cost 32, and a per-node generation would
//! cost 4 more.
//!
//! # One length: slots past the live nodes
//! The tape keeps one count of live nodes, `len`; the arrays' own lengths are a
//! *high-water mark* `≥ len` (the most nodes this tape, or the graph it took its buffers
//! from, has held). Slots between the two are left from freed nodes: a rewind (a cut) or
//! dropping a graph only lowers `len`. Recording a node below the high-water mark is then
//! two stores by index (`values[p]`, `words[p]`) and one to `len`, where three `Vec::push`es
//! stored three values and three lengths; at the mark, each array grows by up to 16
//! zeroed slots first (`Tape::push_fresh`; within the capacity, so memory is only touched a
//! little ahead of the nodes recorded: reserving 4× does not fault in pages; a mapped
//! array's slots are zero already and are not written at all, see "Big arrays"). The slot is
//! made before the value is computed, so nothing is called between computing a value and
//! storing it.
//!
//! # Recording an op: one path of tests, then stores
//! `Tape::push_binary` and `Tape::push_unary` (every `a + b`, `a * b`, `x.relu()`, …) first
//! test, one after the other, everything that would need the general path: each handle's
//! position below `len`, the slot below the high-water mark, distances that fit a word,
//! anomaly mode, and the handles' liveness in its common form (below the first cut, or
//! both made since the last one). Any failure leads to the same out-of-line path, which
//! checks each handle on its own (and panics for a freed one). Past the tests, every
//! position is known to be in range of the arrays' slices, so the reads of the inputs and
//! the two stores need no bounds checks: written as early exits, the compiler keeps that
//! knowledge (the same tests folded into one flag did not let it; micrograd-style W1 took
//! 15% less time for the change).
//!
//! The invariant that makes this right: **every gradient slot past `len` is 0**, so a new
//! node needs no gradient store. A reverse pass only writes at positions `≤` its root `<
//! len`; a cut zeroes the gradients of the nodes it frees; a dropped graph zeroes its live
//! gradients before its arrays go to the spare slot. Values and words past `len` are never
//! read (every position is checked against `len` first) and are overwritten when reused.
//! `Padded` has no `Deref` to a slice, so code that wants "every node" has to take the
//! live slice (`Padded::live`) and cannot see the dead slots by accident.
//!
//! # Handles: position and epoch
//! Nodes are only ever freed from the end ([`Graph::rewind`](crate::Graph::rewind)). Each
//! rewind that shortens the tape is a *cut*: it gets the next *epoch* number, and the tape
//! keeps the cuts on a stack. A handle ([`Var`](crate::Var)) holds its node's position and the
//! epoch current when the handle was made. It is stale exactly when a cut made after it
//! shortened the tape to its position or below: that cut freed its node, whatever was
//! created at that position since. The stack only keeps cuts that matter: a new cut to
//! length `L` drops every older cut to a length `≥ L` (a handle those would catch, this one
//! catches too), so epochs and lengths both increase along the stack, and the check is:
//!
//! - fast, and almost always taken: the handle is newer than the last cut, or its
//!   position is below the shortest cut (parameters created before the first mark): two
//!   comparisons and the bounds test;
//! - otherwise a binary search for the first cut newer than the handle (the shortest of
//!   those, as lengths increase): stale iff its length is `≤` the position.
//!
//! Epochs are `u32`: a graph can be cut 4,294,967,295 times (over a day of 20 µs steps);
//! the next rewind panics rather than let an old handle alias a new node.
//!
//! # Why not `slotmap`, and why not a generation per node
//! The first version kept handles in a [`slotmap`](https://docs.rs/slotmap) map from
//! generational key to tape position. Slotmap's slot order is arbitrary (not a topological
//! order), so the tape needed a second, creation-ordered index beside it: 49 bytes and two
//! lookups per node. Because nodes are only ever freed from the end of the tape, the
//! generation moved into the node (32 bytes per node, one comparison per access). Epochs
//! go one step further: since freeing is always a cut at the end, one counter per *cut*
//! (not per node) says the same thing, so a node needs no generation at all and fits in 24
//! bytes; the check stays a comparison or two.
//!
//! # Buffers are kept per thread
//! Dropping a [`Graph`](crate::Graph) hands its three arrays to a per-thread spare slot, and
//! the next [`Graph::new`](crate::Graph::new) on that thread takes them: a program that
//! builds a fresh graph per step (or per benchmark iteration) writes to memory it already
//! owns instead of faulting in new pages (most of the cost of a big first graph). The slot
//! holds one set of arrays of at most [`SPARE_CAP_BYTES`]; bigger arrays are freed as usual.
//! [`release_spare_buffers`](crate::graph::release_spare_buffers) frees the slot now;
//! it is freed anyway when the thread ends. Nothing else is shared: a new graph starts
//! empty, and of the old contents only the gradient slots' zeros are relied on (see "One
//! length").
//!
//! # Big arrays: mappings of their own, 2 MiB pages, gradients faulted in when wanted
//! Past 1,024 nodes the three arrays jump to 32 MiB of address space each (`Tape::grow`),
//! which on Linux is memory mapped for each array alone (`src/column.rs`, the crate's one
//! `unsafe` module). The first big graph of a process is then bound by page faults, which
//! three things make fewer or cheaper:
//! - **Values and words ask for 2 MiB pages** past their first 2 MiB (`Tape::advise_grown`):
//!   one fault per 262,144 nodes instead of one per 512.
//! - **Gradients are not written while recording.** A mapped array reads as zeros until
//!   written, so new gradient slots are zero without a store, and cost no memory until the
//!   first reverse pass over them. That pass first faults them in with one system call, in
//!   2 MiB pages where whole ones are used (`Tape::prepare_reverse`).
//! - **No page is held that no node uses.** A 2 MiB page is faulted in whole when
//!   recording enters it, so values and words hold up to 2 MiB each past the last node
//!   until the first reverse pass at that length gives those pages back. Gradients only get
//!   2 MiB pages that are used whole. Memory after a reverse pass is therefore 24 bytes a
//!   node (rounded up to a 4 KiB page per array). So is the peak, once the gradient slots
//!   faulted in by that pass outweigh the (at most 4 MiB of) pages given back before it:
//!   from about half a million nodes on; below, the peak can be up to 4 MiB over.
//!
//! Measured on W3 at N = 10⁶ (4·10⁶ nodes) as the first graph of a process, median of
//! processes in turn with the old build (`benches/compare`, `--cold`): ~125 ms → ~80 ms;
//! page faults 31,400 → 9,600 (most of the rest are the workload's own arrays of handles).
//! W2's peak memory stayed at 24.00 bytes a node.
//!
//! # Invariant
//! **Inputs come before outputs**: an op node's inputs sit at lower positions than the node
//! (which is also why inputs can be stored as distances back). Creation order is therefore
//! a topological order, and the reverse pass is one backwards walk over the tape with no
//! graph search and no recursion.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::panic::Location;

use crate::column::{Column, Plain, HUGE_PAGE};
use crate::custom::CustomTable;
use crate::op::{
    row_stride, row_word, Op, Seq, Span, A_SHIFT, B_SHIFT, DELTA_MAX, TAG_FAR, TAG_LEAF, TAG_MASK,
};

/// What a handle holds: a position on the tape, and the epoch when the handle was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeId {
    pub(crate) pos: u32,
    pub(crate) epoch: u32,
}

/// Word flag: the node depends on a [`Graph::var`](crate::Graph::var) leaf (it wants a
/// gradient).
pub(crate) const TRACKED: u64 = 1 << 6;
/// Word flag: the running reverse pass has given this node a share (scratch flag; shares
/// from fewer than `backward::RING` positions above are marked on the walk's stack instead).
pub(crate) const REACHED: u64 = 1 << 7;
pub(crate) const FAR_SHIFT: u32 = 8;

/// Slots initialised at once past the high-water mark (see `Tape::push_fresh`).
const FRESH_SLOTS: usize = 16;

/// Graphs up to this many nodes keep arrays of their own size (see `Tape::grow`).
const SMALL_NODES: usize = 1024;

/// Nodes per array once a graph outgrows [`SMALL_NODES`] (see `Tape::grow`): 32 MiB of
/// `f64`s (address space: see `src/column.rs`), and a little more for the padding.
const BIG_NODES: usize = (32 << 20) / 8 + 1024;

/// At most this many bytes of arrays wait per thread for the next graph (512 MiB).
pub const SPARE_CAP_BYTES: usize = 512 << 20;

/// One of the tape's arrays: a `Vec` whose first `PAD` elements are never used, read through
/// a position (`column[p]`) or as the slice of the first `len` live positions
/// ([`Padded::live`]).
///
/// Its own length is the tape's *high-water mark*, not the number of live nodes: slots past
/// the live nodes stay allocated and initialised after a rewind (or, through the spare slot,
/// for the next graph), so recording there is a store by index, with no length to update
/// (see "One length" in the module docs). It has no `Deref` to a slice on purpose: code that
/// wants "all nodes" must say how many ([`Tape::len`]).
///
/// The padding: big arrays are mapped at the same offset within a 4 KiB page, so
/// `values[i]`, `grads[i]` and `words[i]` would share their low 12 address bits; the
/// processor then takes a load of one for a possible reload of a store to another ("4K
/// aliasing") and stalls. Padding `grads` by 512 bytes and `words` by 1 KiB keeps the three
/// apart (measured: up to 3× on W2's reverse pass when all three were aligned alike).
#[derive(Clone, Debug)]
pub(crate) struct Padded<T: Plain, const PAD: usize>(Column<T>);

impl<T: Plain, const PAD: usize> Default for Padded<T, PAD> {
    fn default() -> Self {
        Padded(Column::from_vec(vec![T::default(); PAD]))
    }
}

impl<T: Plain, const PAD: usize> Padded<T, PAD> {
    /// Every initialised slot, by position (live or not; its length is the high-water
    /// mark).
    #[inline(always)]
    fn slots_mut(&mut self) -> &mut [T] {
        &mut self.0[PAD..]
    }
    /// The number of initialised slots (the high-water mark).
    #[inline(always)]
    fn high_water(&self) -> usize {
        self.0.len() - PAD
    }
    /// Appends `n` zero slots past the high-water mark (in a mapped array, without writing
    /// them: see `Column::extend_zeroed`).
    fn extend_zeroed(&mut self, n: usize) {
        self.0.extend_zeroed(n);
    }
    /// The first `len` slots.
    #[inline(always)]
    pub(crate) fn live(&self, len: usize) -> &[T] {
        &self.0[PAD..PAD + len]
    }
    /// The first `len` slots, mutably.
    #[inline(always)]
    pub(crate) fn live_mut(&mut self, len: usize) -> &mut [T] {
        &mut self.0[PAD..PAD + len]
    }
    fn reserve(&mut self, n: usize) {
        self.0.reserve_exact(n);
    }
    /// Whether the next [`Padded::push`] would reallocate.
    #[inline(always)]
    fn is_full(&self) -> bool {
        self.0.len() == self.0.capacity()
    }
    fn capacity(&self) -> usize {
        self.0.capacity()
    }
    /// Whether the array lives in a mapping of its own (`Column::is_mapped`).
    fn is_mapped(&self) -> bool {
        self.0.is_mapped()
    }
    /// Slots before position 0.
    const PAD: usize = PAD;
}

/// One bounds check per element access (`self.0[PAD + i]`), not two through the slice.
impl<T: Plain, const PAD: usize> std::ops::Index<usize> for Padded<T, PAD> {
    type Output = T;
    #[inline(always)]
    fn index(&self, i: usize) -> &T {
        &self.0[PAD + i]
    }
}

impl<T: Plain, const PAD: usize> std::ops::IndexMut<usize> for Padded<T, PAD> {
    #[inline(always)]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.0[PAD + i]
    }
}

/// Values, not padded.
pub(crate) type Values = Padded<f64, 0>;
/// Gradients, offset by 512 bytes from a page boundary (see [`Padded`]).
pub(crate) type Grads = Padded<f64, 64>;
/// Tape words, offset by 1 KiB (see [`Padded`]).
pub(crate) type Words = Padded<u64, 128>;

/// The arrays a dropped graph leaves for the next one on the same thread.
#[derive(Default)]
struct Buffers {
    values: Values,
    grads: Grads,
    words: Words,
    /// [`Tape::prepared`] when they were given up.
    prepared: usize,
}

impl Buffers {
    fn bytes(&self) -> usize {
        8 * (self.values.capacity() + self.grads.capacity() + self.words.capacity())
    }
}

thread_local! {
    static SPARE: Cell<Option<Buffers>> = const { Cell::new(None) };
}

/// Frees the arrays this thread keeps for its next graph (see the module docs).
pub(crate) fn release_spare() {
    let _ = SPARE.try_with(|s| s.take());
}

/// The arena's storage.
pub(crate) struct Tape {
    /// The number of live nodes: positions `< len` (the arrays may hold more slots).
    len: usize,
    /// Node values by position.
    pub(crate) values: Values,
    /// Node gradients by position, accumulated by the reverse pass; 0 at every slot past
    /// `len` (see "One length" in the module docs).
    pub(crate) grads: Grads,
    /// Node ops by position (tag, flags, inputs; see the module docs).
    pub(crate) words: Words,
    /// Positions below this have had their gradient slots faulted in, and the pages of
    /// values and words past them given back, by [`Tape::prepare_reverse`].
    prepared: usize,
    /// Ops that do not fit in a word, in creation order.
    pub(crate) far: Vec<Op>,
    /// Input positions of n-ary ops listed rather than run ([`crate::op::Span::List`]).
    pub(crate) operands: Vec<u32>,
    pub(crate) customs: CustomTable,
    /// Optional labels by position, shown by [`Graph::to_dot`](crate::Graph::to_dot).
    pub(crate) names: BTreeMap<u32, String>,
    pub(crate) anomaly: bool,
    /// Every *op* node at a position `>= dirty` has gradient 0, so a reverse pass can
    /// accumulate there in place; below it, op nodes accumulate in `adjoint` first (a second
    /// `backward` must add this pass's gradients, not propagate the sum of both). Leaves
    /// never propagate, so their gradients do not count.
    pub(crate) dirty: usize,
    /// The number of leaves at the start of the tape, before its first op node.
    pub(crate) leaf_prefix: usize,
    /// A reverse pass was interrupted by a panic and may have left `REACHED` flags set.
    pub(crate) interrupted: bool,
    /// No *wild* node sits below this position (`usize::MAX`: none on the tape): a wild
    /// node has a non-finite value or an op that is not [tame](Op::is_tame). Below it, a
    /// zero gradient can only ever give ±0 shares, so the reverse pass need not pass it on
    /// (see `backward::reverse_pass`, "Zero gradients"). Kept low enough by every write of a
    /// value or op (recording, `set_value`, `recompute`); lower than needed only costs
    /// speed.
    pub(crate) first_wild: usize,
    /// Reverse-pass scratch for positions below `dirty`, kept to avoid an allocation.
    pub(crate) adjoint: Vec<f64>,
    /// Leaves set under recorded nodes (see `versions`).
    pub(crate) versions: crate::versions::Versions,
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
        let spare = SPARE.try_with(|s| s.take()).ok().flatten();
        let Buffers {
            values,
            grads,
            words,
            prepared,
        } = spare.unwrap_or_default();
        Tape {
            len: 0,
            values,
            grads,
            words,
            prepared,
            far: Vec::new(),
            operands: Vec::new(),
            customs: CustomTable::default(),
            names: BTreeMap::new(),
            anomaly: false,
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
        let len = self.len;
        let mut spare = Buffers {
            values: std::mem::take(&mut self.values),
            grads: std::mem::take(&mut self.grads),
            words: std::mem::take(&mut self.words),
            prepared: self.prepared,
        };
        if spare.bytes() == 0 || spare.bytes() > SPARE_CAP_BYTES {
            return;
        }
        // the next graph starts with no live node: every gradient slot must read 0
        spare.grads.live_mut(len).fill(0.0);
        let _ = SPARE.try_with(|s| {
            // keep the larger set
            let old = s.take();
            s.set(Some(match old {
                Some(old) if old.bytes() > spare.bytes() => old,
                _ => spare,
            }));
        });
    }
}

impl Tape {
    /// The number of live nodes.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Makes room for `n` more nodes than live now, without reallocating.
    pub(crate) fn reserve(&mut self, n: usize) {
        let more = (self.len + n).saturating_sub(self.values.high_water());
        if more > self.values.capacity() - self.values.0.len() {
            self.values.reserve(more);
            self.grads.reserve(more);
            self.words.reserve(more);
            self.advise_grown();
        }
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

    /// The op of the node at `pos`.
    #[inline(always)]
    pub(crate) fn op(&self, pos: usize) -> Op {
        op_at(self.words.live(self.len), &self.far, pos)
    }

    /// Whether the node at `pos` depends on a tracked leaf.
    #[inline(always)]
    pub(crate) fn tracked(&self, pos: usize) -> bool {
        self.words[pos] & TRACKED != 0
    }

    /// Whether the node at `pos` is a leaf.
    #[inline(always)]
    pub(crate) fn is_leaf(&self, pos: usize) -> bool {
        self.words[pos] & TAG_MASK == TAG_LEAF
    }

    /// Appends a leaf.
    #[inline(always)]
    pub(crate) fn push_leaf(&mut self, value: f64, tracked: bool) -> NodeId {
        let pos = self.len;
        let word = TAG_LEAF | if tracked { TRACKED } else { 0 };
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

    /// The position of the next node, with its slots initialised: call before computing the
    /// node's value, so that nothing is called between computing and storing it (a value
    /// kept across a call is spilled to the stack, a store and a reload on the chain of
    /// dependent ops an element-wise graph is).
    #[inline(always)]
    fn next_slot(&mut self) -> usize {
        let pos = self.len;
        if pos >= self.values.high_water() {
            self.push_fresh();
        }
        pos
    }

    /// Initialises the slots of the next `n` nodes (as `n` calls of [`Tape::next_slot`]
    /// would, without recording anything) so that they can be written by index in a loop
    /// with no test per node; returns the first one's position.
    #[inline]
    fn next_slots(&mut self, n: usize) -> usize {
        let pos = self.len;
        let mut missing = (pos + n).saturating_sub(self.values.high_water());
        while missing > 0 {
            if self.values.is_full() {
                self.grow();
            }
            let k = missing.min(self.values.capacity() - self.values.0.len());
            self.values.extend_zeroed(k);
            self.grads.extend_zeroed(k);
            self.words.extend_zeroed(k);
            missing -= k;
        }
        pos
    }

    /// Initialises up to [`FRESH_SLOTS`] slots past the high-water mark in each array (at
    /// least one; gradient 0), within the arrays' capacity (after growing them if full):
    /// on a tape that has never been this long, [`Tape::push_binary`]'s short path then
    /// applies to all but one op in so many. Measured on the first W3 graph of a process
    /// (`benches/compare`, `--cold`): 16 at a time is as fast as one at a time through the
    /// general path used to be, and 1,024 at a time was ~10% slower (the fresh pages
    /// faulted in bursts).
    #[inline(never)]
    fn push_fresh(&mut self) {
        debug_assert_eq!(self.len, self.values.high_water());
        if self.values.is_full() {
            self.grow();
        }
        let n = (self.values.capacity() - self.values.0.len()).clamp(1, FRESH_SLOTS);
        self.values.extend_zeroed(n);
        self.grads.extend_zeroed(n);
        self.words.extend_zeroed(n);
    }

    /// Stores the node at `pos` (from [`Tape::next_slot`]): two stores by index, the
    /// gradient slot is already 0.
    #[inline(always)]
    fn push_at(&mut self, pos: usize, word: u64, value: f64) -> NodeId {
        debug_assert_eq!(pos, self.len);
        self.values[pos] = value;
        self.words[pos] = word;
        self.len = pos + 1;
        NodeId {
            pos: pos as u32,
            epoch: self.epoch,
        }
    }

    /// Records that the node at `pos` is wild (see [`Tape::first_wild`]).
    #[inline(always)]
    pub(crate) fn note_wild(&mut self, pos: usize) {
        self.first_wild = self.first_wild.min(pos);
    }

    /// Records that the node at `pos` is wild if `value` is not finite.
    #[inline(always)]
    pub(crate) fn note_value(&mut self, pos: usize, value: f64) {
        if !value.is_finite() {
            self.note_wild(pos);
        }
    }

    /// Makes room for 4× the current nodes (at least 1,024) in all three arrays at once:
    /// growing 4× instead of 2× copies a third as much and faults in fewer fresh pages on
    /// the way to a big graph (pages reserved but not written cost no memory).
    ///
    /// Past [`SMALL_NODES`] the next size is at least [`BIG_NODES`] (32 MiB per array, of
    /// address space: only written pages are resident; not on WebAssembly, whose memory is
    /// all resident). An array that big is mapped by itself (`src/column.rs`), so it grows
    /// later by remapping its pages, not by copying them, and gives them back when freed;
    /// an array of a few MiB from the heap could, once outgrown and freed, stay resident
    /// (glibc keeps freed heap memory below its trim threshold). Measured on W2 at 10⁶ (5,000,001 nodes, `benches/compare`, glibc
    /// thresholds fixed at their maximum): 30.7 bytes of peak RSS per node when arrays
    /// grew 4× all the way, 24.4 with the jump past 1 MiB per array; in anonymous memory
    /// alone, 24.024 with it past 4,096 nodes and 24.002 past 1,024 (the 24 bytes of the
    /// arrays themselves, and the small arrays left behind: ~10 KiB).
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let len = self.len();
        if len >= u32::MAX as usize {
            too_many();
        }
        let mut cap = (4 * len).max(1024);
        // (WebAssembly has no pages reserved but not written: its memory is all there)
        if cap > SMALL_NODES && cfg!(not(target_family = "wasm")) {
            cap = cap.max(BIG_NODES);
        }
        let more = (cap - len).min(u32::MAX as usize - len);
        self.values.reserve(more);
        self.grads.reserve(more);
        self.words.reserve(more);
        self.advise_grown();
    }

    /// After the arrays grew: when they are mapped (see `src/column.rs`), asks for 2 MiB
    /// pages where recording writes (values and words), past their first 2 MiB (a graph
    /// of fewer than 262,144 nodes keeps 4 KiB pages: a huge page only half used would
    /// cost more memory than its faults cost time). Gradients are asked for none: they are
    /// not written until a reverse pass wants them, and [`Tape::prepare_reverse`] then asks
    /// for 2 MiB pages where it knows them all used.
    fn advise_grown(&mut self) {
        if !self.values.is_mapped() {
            return;
        }
        let first = HUGE_PAGE / 8;
        self.values.0.advise_huge(first, usize::MAX, true);
        self.words.0.advise_huge(first, usize::MAX, true);
        self.grads.0.advise_huge(0, usize::MAX, false);
    }

    /// Makes the arrays ready for a reverse pass over positions `< n`, once per length
    /// reached (see `src/column.rs`):
    /// - Values and words give back the pages past the last live node: up to a 2 MiB page
    ///   each was faulted in whole as recording entered it, and a graph's memory is its
    ///   nodes' 24 bytes, not that.
    /// - Gradient slots `[prepared, n)` are faulted in with one system call, in 2 MiB pages
    ///   where whole ones are used, before the reverse pass adds to them (a first read and
    ///   write of an untouched page would fault twice).
    ///
    /// Does nothing for heap arrays (small graphs, other systems), and nothing when
    /// `n <= prepared`: a step replayed or re-recorded at the same size makes no system
    /// call.
    pub(crate) fn prepare_reverse(&mut self, n: usize) {
        if n <= self.prepared || !self.grads.is_mapped() {
            return;
        }
        let len = self.len;
        let from = len + Values::PAD;
        self.values
            .0
            .release(from, self.values.0.huge_page_end(from));
        let from = len + Words::PAD;
        self.words.0.release(from, self.words.0.huge_page_end(from));
        let (from, to) = (self.prepared + Grads::PAD, n + Grads::PAD);
        self.grads.0.advise_huge(from, to, true);
        self.grads.0.populate(from, to);
        self.prepared = n;
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
        let mut tracked = 0;
        let words = self.words.live(self.len);
        op.for_each_input(&self.operands, |p| tracked |= words[p as usize]);
        self.push_op_tracked(op, tracked & TRACKED != 0)
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
        let pos = self.len;
        let (pa, pb) = (a.pos as usize, b.pos as usize);
        let (values, words) = (self.values.slots_mut(), self.words.slots_mut());
        // Early exits, so that every check below is known to hold on the path that follows.
        // Liveness as `is_live_fast`, for both at once: below the first cut (everywhere on a
        // tape never cut) a node is live; above it, a handle made since the last cut is, and
        // its epoch is then the current one (for both: their epochs AND-ed are that epoch).
        if pa >= pos
            || pb >= pos
            || pos >= values.len()
            || pos >= words.len()
            || pos > DELTA_MAX as usize
            || self.anomaly
            || (a.pos | b.pos) >= self.min_cut && a.epoch & b.epoch < self.last_cut
        {
            return self.push_binary_checked(a, b, op);
        }
        let tracked = (words[pa] | words[pb]) & TRACKED;
        let wild = store_op(
            values,
            words,
            pos,
            op(a.pos, b.pos),
            tracked,
            &self.operands,
            &self.customs,
        );
        self.stored(pos, wild)
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
        let (a, b) = (self.pos(a), self.pos(b));
        self.push_op(op(a, b))
    }

    /// Records `op(a)` on a handle: [`Tape::push_binary`] for one input.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn push_unary<F: Fn(u32) -> Op>(&mut self, a: NodeId, op: F) -> NodeId {
        let pos = self.len;
        let pa = a.pos as usize;
        let (values, words) = (self.values.slots_mut(), self.words.slots_mut());
        if pa >= pos
            || pos >= values.len()
            || pos >= words.len()
            || pos > DELTA_MAX as usize
            || self.anomaly
            || a.pos >= self.min_cut && a.epoch < self.last_cut
        {
            return self.push_unary_checked(a, op);
        }
        let tracked = words[pa] & TRACKED;
        let wild = store_op(
            values,
            words,
            pos,
            op(a.pos),
            tracked,
            &self.operands,
            &self.customs,
        );
        self.stored(pos, wild)
    }

    /// The end of [`Tape::push_binary`] and [`Tape::push_unary`]: the node stored at `pos`
    /// (wild or not) becomes live.
    #[inline(always)]
    fn stored(&mut self, pos: usize, wild: bool) -> NodeId {
        if wild {
            self.note_wild(pos);
        }
        self.len = pos + 1;
        self.id_at(pos)
    }

    /// [`Tape::push_unary`] in general.
    #[inline(never)]
    #[track_caller]
    fn push_unary_checked<F: Fn(u32) -> Op>(&mut self, a: NodeId, op: F) -> NodeId {
        let a = self.pos(a);
        self.push_op(op(a))
    }

    /// [`Tape::push_op`] when the caller already knows whether an input is tracked.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn push_op_tracked(&mut self, op: Op, tracked: bool) -> NodeId {
        // The word first and the value last, right before it is stored.
        let pos = self.next_slot();
        let word = match op.pack(pos as u32) {
            Some(word) => word,
            None => self.push_far(op),
        };
        let value = op.eval(self.values.live(pos), &self.operands, &self.customs);
        if !op.is_tame() {
            self.note_wild(pos);
        }
        self.note_value(pos, value);
        let id = self.push_at(pos, word | if tracked { TRACKED } else { 0 }, value);
        if self.anomaly {
            // out of line: the finiteness test stays off the common path
            self.check_forward_anomaly(op, Location::caller());
        }
        id
    }

    /// Appends the `nout` rows of a layer as tracked op nodes at consecutive positions (see
    /// [`TAG_ROW`](crate::op::TAG_ROW)): row `j` is `head` (an [`Op::Dot`] over a run of
    /// weights) with its weights and bias `j` strides on. Returns row 0's handle; `None`
    /// (and nothing recorded) if the rows cannot be packed (the side table or `nout` past
    /// 2²⁸) or anomaly mode is on: the caller records one dot per row instead.
    #[inline]
    pub(crate) fn push_rows(&mut self, head: Op, nout: u32) -> Option<NodeId> {
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
        if self.anomaly || self.far.len() > DELTA_MAX as usize || nout > DELTA_MAX {
            return None;
        }
        let stride = row_stride(len, bias);
        self.far.push(head);
        let index = (self.far.len() - 1) as u32;
        let first = self.next_slots(nout as usize);
        let end = first + nout as usize;
        // the rows read only nodes below them: the live ones
        let (below, rows) = self.values.live_mut(end).split_at_mut(first);
        for (j, w) in self.words.live_mut(end)[first..].iter_mut().enumerate() {
            *w = row_word(index, j as u32) | TRACKED;
        }
        // Eight or four rows at a time over a run of inputs (see `rows_into`).
        let (mut j, mut finite) = (0, true);
        if let Span::Run(x0) = x {
            (j, finite) = rows_into(below, (w0, stride, x0, len, bias.is_some()), rows);
        }
        for j in j..nout {
            let shift = j * stride;
            let y = crate::op::dot(
                below,
                bias.map(|b| b + shift),
                Seq::Run(w0 + shift, len),
                Seq::new(&self.operands, x, len),
            );
            rows[j as usize] = y;
            finite &= y.is_finite();
        }
        if !finite {
            self.note_wild(first);
        }
        self.len = end;
        Some(self.id_at(first))
    }

    /// Appends `n` tracked unary nodes at consecutive positions, node `j` being `op(first +
    /// j)`: a layer's activations over its rows (see [`Tape::push_rows`]). Every node reads
    /// its input from the same distance back, so the word is packed once; with `op` a
    /// variant's constructor (not a function pointer) the forward rule is chosen once too.
    /// The same nodes as `n` calls of [`Tape::push_op_tracked`]. Only for activations right
    /// after their rows (at most 2²⁸ back: [`Tape::push_rows`] records no more rows than
    /// that), and anomaly mode is not checked: [`Tape::push_rows`] records no rows then.
    #[inline(always)]
    pub(crate) fn push_unary_run(&mut self, op: impl Fn(u32) -> Op, first: u32, n: u32) -> NodeId {
        debug_assert!(!self.anomaly && n > 0 && (first + n) as usize <= self.len());
        let pos0 = self.next_slots(n as usize);
        let word = op(first)
            .pack(pos0 as u32)
            .expect("activations read their rows fewer than 2²⁸ positions back");
        let end = pos0 + n as usize;
        self.words.live_mut(end)[pos0..].fill(word | TRACKED);
        // the nodes read only nodes below them: the live ones
        let (below, out) = self.values.live_mut(end).split_at_mut(pos0);
        let mut finite = AllFinite::START;
        for (j, y) in (first..).zip(&mut *out) {
            *y = op(j).eval(below, &self.operands, &self.customs);
            finite.see(*y);
        }
        if !op(first).is_tame() || !finite.holds() {
            self.note_wild(pos0);
        }
        self.len = end;
        self.id_at(pos0)
    }

    /// Keeps `op` in the side table; returns its word (tag and index, no flags).
    #[inline]
    fn push_far(&mut self, op: Op) -> u64 {
        self.far.push(op);
        TAG_FAR | ((self.far.len() - 1) as u64) << FAR_SHIFT
    }

    /// Checks that `n` more operands keep every operand index within `u32`.
    ///
    /// # Panics
    /// If they would not.
    #[inline(always)]
    pub(crate) fn reserve_operands(&self, n: usize) {
        if self.operands.len() + n > u32::MAX as usize {
            too_many_operands();
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
    fn cut_to(&mut self, keep: usize) {
        let len = self.len;
        self.grads.live_mut(len)[keep..].fill(0.0);
        self.len = keep;
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
            if self.words[p] & TAG_MASK == TAG_FAR {
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

/// Recomputes the layer rows that start at `pos` (row 0 of a layer, see
/// [`Tape::push_rows`]) as [`Tape::push_rows`] computed them, eight or four at a time.
/// Returns how many rows there were (0, and nothing done, if the inputs are not a run) and
/// whether their values are all finite.
pub(crate) fn recompute_rows(
    values: &mut [f64],
    words: &[u64],
    far: &[Op],
    pos: usize,
) -> (usize, bool) {
    let head = words[pos] >> A_SHIFT & u64::from(DELTA_MAX);
    let Op::Dot {
        w: Span::Run(w0),
        x: Span::Run(x0),
        len,
        bias,
        ..
    } = far[head as usize]
    else {
        return (0, true);
    };
    let stride = row_stride(len, bias);
    let row = row_word(head as u32, 0);
    let rows = words[pos..]
        .iter()
        .enumerate()
        .take_while(|&(j, &w)| w & !(TRACKED | REACHED) == row | (j as u64) << B_SHIFT)
        .count();
    // the rows read only nodes below them
    let (below, out) = values.split_at_mut(pos);
    let out = &mut out[..rows];
    let (j, mut finite) = rows_into(below, (w0, stride, x0, len, bias.is_some()), out);
    for j in j..rows as u32 {
        let shift = j * stride;
        let y = crate::op::dot(
            below,
            bias.map(|b| b + shift),
            Seq::Run(w0 + shift, len),
            Seq::Run(x0, len),
        );
        out[j as usize] = y;
        finite &= y.is_finite();
    }
    (rows, finite)
}

/// Computes a layer's rows (`layout`: first weight, stride, first input, inputs, bias; the
/// weights and inputs in `below`) into `out`, eight or four at a time by [`rows_n`], from
/// row 0 while at least four are left. Returns how many rows it did (the caller does the
/// last few one at a time) and whether their values are all finite.
///
/// Each batch is written straight into `out` and tested for finiteness while still in
/// registers (see [`AllFinite`]).
#[inline(always)]
fn rows_into(below: &[f64], layout: (u32, u32, u32, u32, bool), out: &mut [f64]) -> (u32, bool) {
    let (mut j, mut finite) = (0, true);
    loop {
        if let Some(batch) = out[j as usize..].first_chunk_mut::<8>() {
            finite &= rows_n(below, layout, j, batch);
            j += 8;
        } else if let Some(batch) = out[j as usize..].first_chunk_mut::<4>() {
            finite &= rows_n(below, layout, j, batch);
            j += 4;
        } else {
            return (j, finite);
        }
    }
}

/// Rows `j … j + N − 1` of a layer (see [`rows_into`]) into `out`: each
/// `[b] + w₀x₀ + w₁x₁ + …` left to right, as [`crate::op::dot`] computes one, `N` running
/// sums side by side so that one row's adds (which wait on each other) overlap the others'.
/// Returns whether the `N` values are all finite.
#[inline(never)]
fn rows_n<const N: usize>(
    values: &[f64],
    (w0, stride, x0, len, bias): (u32, u32, u32, u32, bool),
    j: u32,
    out: &mut [f64; N],
) -> bool {
    let (stride, len) = (stride as usize, len as usize);
    let x = &values[x0 as usize..][..len];
    let w: [&[f64]; N] =
        std::array::from_fn(|k| &values[w0 as usize + (j as usize + k) * stride..][..stride]);
    let (mut acc, from) = if bias {
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

/// Stores the node `op` at `pos` (its word with the `tracked` flag, its value by the op's
/// forward rule from `values`), for positions already checked against both slices' lengths
/// (see `Tape::push_binary`); returns whether the node is wild (see [`Tape::first_wild`]).
#[inline(always)]
fn store_op(
    values: &mut [f64],
    words: &mut [u64],
    pos: usize,
    op: Op,
    tracked: u64,
    operands: &[u32],
    customs: &CustomTable,
) -> bool {
    let word = op.pack(pos as u32).unwrap_or_else(|| unreachable!());
    let value = op.eval(values, operands, customs);
    values[pos] = value;
    words[pos] = word | tracked;
    !op.is_tame() || !value.is_finite()
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

/// The op of the node at `pos`, from its word (and the side table).
#[inline(always)]
pub(crate) fn op_at(words: &[u64], far: &[Op], pos: usize) -> Op {
    crate::op::with_op!(words[pos], pos as u32, far, |op| op)
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
fn too_many_operands() -> ! {
    panic!(
        "scalargrad: a graph holds at most 4,294,967,295 operands of n-ary ops; rewind \
         between steps"
    )
}

#[cold]
#[inline(never)]
fn too_many() -> ! {
    panic!("scalargrad: a graph holds at most 4,294,967,295 nodes")
}

#[cold]
#[inline(never)]
fn too_many_cuts() -> ! {
    panic!(
        "scalargrad: this graph was rewound 4,294,967,295 times, the most its handles can \
         tell apart; build a new Graph"
    )
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
