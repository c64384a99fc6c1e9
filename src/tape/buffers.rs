//! Storage of the small arrays' growth and reuse: the three node arrays ([`Padded`]), and the
//! per-thread slot where a dropped graph leaves them for the next one.
//!
//! Invariant: every gradient slot past a tape's live nodes is 0, in the arrays a graph holds
//! and in those waiting in the slot (see [`Tape`](super::Tape)).

use std::cell::Cell;

use super::column::{Column, Plain};
use super::word::Word;

/// At most this many bytes of arrays wait per thread for the next graph (512 MiB).
pub const SPARE_CAP_BYTES: usize = 512 << 20;

/// One of the tape's arrays: a `Vec` whose first `PAD` elements are never used, read through
/// a position (`column[p]`) or as the slice of the first `len` live positions
/// ([`Padded::live`]).
///
/// Its own length is the tape's *high-water mark*, not the number of live nodes: slots past
/// the live nodes stay allocated and initialised after a rewind (or, through the spare slot,
/// for the next graph), so recording there is a store by index, with no length to update
/// (see "One length" in the tape's docs). It has no `Deref` to a slice on purpose: code that
/// wants "all nodes" must say how many ([`Tape::len`]).
///
/// The padding: big arrays are mapped at the same offset within a 4 KiB page, so
/// `values[i]`, `grads[i]` and `words[i]` would share their low 12 address bits; the
/// processor then takes a load of one for a possible reload of a store to another ("4K
/// aliasing") and stalls. Padding `grads` by 512 bytes and `words` by 1 KiB keeps the three
/// apart (measured: up to 3× on W2's reverse pass when all three were aligned alike).
#[derive(Clone, Debug)]
pub(crate) struct Padded<T: Plain, const PAD: usize>(pub(super) Column<T>);

impl<T: Plain, const PAD: usize> Default for Padded<T, PAD> {
    fn default() -> Self {
        Padded(Column::from_vec(vec![T::default(); PAD]))
    }
}

impl<T: Plain, const PAD: usize> Padded<T, PAD> {
    /// Every initialised slot, by position (live or not; its length is the high-water
    /// mark).
    #[inline(always)]
    pub(super) fn slots_mut(&mut self) -> &mut [T] {
        &mut self.0[PAD..]
    }
    /// The number of initialised slots (the high-water mark).
    #[inline(always)]
    pub(super) fn high_water(&self) -> usize {
        self.0.len() - PAD
    }
    /// Appends `n` zero slots past the high-water mark (in a mapped array, without writing
    /// them: see `Column::extend_zeroed`).
    pub(super) fn extend_zeroed(&mut self, n: usize) {
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
    pub(super) fn reserve(&mut self, n: usize) {
        self.0.reserve_exact(n);
    }
    /// Whether the next [`Padded::push`] would reallocate.
    #[inline(always)]
    pub(super) fn is_full(&self) -> bool {
        self.0.len() == self.0.capacity()
    }
    pub(super) fn capacity(&self) -> usize {
        self.0.capacity()
    }
    /// Whether the array lives in a mapping of its own (`Column::is_mapped`).
    pub(super) fn is_mapped(&self) -> bool {
        self.0.is_mapped()
    }
    /// Slots before position 0.
    pub(super) const PAD: usize = PAD;
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
pub(crate) type Words = Padded<Word, 128>;

/// The arrays a dropped graph leaves for the next one on the same thread.
#[derive(Default)]
pub(super) struct Buffers {
    pub(super) values: Values,
    pub(super) grads: Grads,
    pub(super) words: Words,
    /// `Tape::prepared` when they were given up.
    pub(super) prepared: usize,
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

/// The arrays this thread keeps for its next graph, or new empty ones.
pub(super) fn take_spare() -> Buffers {
    let spare = SPARE.try_with(|s| s.take()).ok().flatten();
    if let Some(b) = &spare {
        crate::counts::count(crate::counts::Path::SpareSlotsTaken, b.values.high_water());
    }
    spare.unwrap_or_default()
}

/// Keeps a dropped graph's arrays (`len` nodes were live) for the next graph on this
/// thread, if they are worth keeping ([`worth_keeping`]) and at least as big as those kept
/// (on a tie, the set just given: its memory is the more recently used).
pub(super) fn give_spare(mut spare: Buffers, len: usize) {
    if !worth_keeping(spare.values.capacity(), spare.bytes()) {
        return;
    }
    // the next graph starts with no live node: every gradient slot must read 0
    spare.grads.live_mut(len).fill(0.0);
    let _ = SPARE.try_with(|s| {
        let old = s.take();
        s.set(Some(match old {
            Some(old) if old.bytes() > spare.bytes() => old,
            _ => spare,
        }));
    });
}

/// Whether a dropped graph's arrays are worth keeping: they have room for a node (`room`
/// value slots: the padding alone is not worth a slot) and take at most
/// [`SPARE_CAP_BYTES`] (`bytes`).
fn worth_keeping(room: usize, bytes: usize) -> bool {
    room > 0 && bytes <= SPARE_CAP_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A set with room for `n` nodes in each array (past the padding), as a tape grows them.
    fn with_room(n: usize) -> Buffers {
        let mut b = Buffers::default();
        b.values.extend_zeroed(n);
        b.grads.extend_zeroed(n);
        b.words.extend_zeroed(n);
        b
    }

    /// What waits in this thread's slot, taken out of it.
    fn waiting() -> Option<Buffers> {
        SPARE.with(|s| s.take())
    }

    #[test]
    fn a_set_counts_the_bytes_of_all_three_arrays_padding_included() {
        assert_eq!(SPARE_CAP_BYTES, 512 * 1024 * 1024);
        // values unpadded, gradients padded by 64 slots, words by 128, 8 bytes a slot
        assert_eq!(Buffers::default().bytes(), 8 * (64 + 128));
        let b = with_room(10);
        let caps = [b.values.capacity(), b.grads.capacity(), b.words.capacity()];
        assert!(caps[0] >= 10 && caps[1] >= 74 && caps[2] >= 138, "{caps:?}");
        assert_eq!(b.bytes(), 8 * caps.iter().sum::<usize>());
    }

    #[test]
    fn a_set_is_kept_if_it_has_room_for_a_node_and_is_not_over_the_cap() {
        let cap = SPARE_CAP_BYTES;
        assert!(!worth_keeping(0, 1536) && !worth_keeping(0, cap));
        assert!(worth_keeping(1, 1544) && worth_keeping(1, cap));
        assert!(!worth_keeping(1, cap + 1) && !worth_keeping(usize::MAX, usize::MAX));

        // through the slot: the padding alone is not kept, nor a set over the cap (its
        // values mapped, so reserving them costs no memory)
        give_spare(Buffers::default(), 0);
        assert!(waiting().is_none());
        let mut big = with_room(1);
        big.values.reserve(SPARE_CAP_BYTES / 8);
        assert!(big.bytes() > SPARE_CAP_BYTES);
        give_spare(big, 0);
        assert!(waiting().is_none());
        give_spare(with_room(1), 0);
        assert!(waiting().is_some());
    }

    #[test]
    fn the_slot_keeps_the_larger_set_and_on_a_tie_the_newer() {
        let cap = |b: &Buffers| b.values.capacity();
        give_spare(with_room(1000), 0);
        give_spare(with_room(10), 0);
        assert!(cap(&waiting().expect("a set waits")) >= 1000);

        give_spare(with_room(10), 0);
        give_spare(with_room(1000), 0);
        let kept = waiting().expect("a set waits");
        assert!(cap(&kept) >= 1000);

        let (older, newer) = (with_room(500), with_room(500));
        assert_eq!(older.bytes(), newer.bytes());
        let newer_at = newer.values.0.as_ptr();
        give_spare(older, 0);
        give_spare(newer, 0);
        assert_eq!(waiting().expect("a set waits").values.0.as_ptr(), newer_at);
    }

    #[test]
    fn a_kept_set_reads_zero_gradients_and_release_frees_it() {
        let mut b = with_room(8);
        b.grads.live_mut(8).fill(2.5);
        give_spare(b, 8);
        let taken = take_spare();
        assert!(taken.values.capacity() >= 8);
        assert_eq!(taken.grads.live(8), &[0.0; 8]);

        give_spare(with_room(8), 0);
        release_spare();
        assert!(waiting().is_none());
        // nothing waits: a new graph gets new (empty) arrays
        assert_eq!(take_spare().values.capacity(), 0);
    }
}
