//! Growth of the tape's arrays: slots past the live nodes made ahead of recording, growth
//! by 4× with a jump to 32 MiB of address space past 1,024 nodes (mapped by itself on
//! Linux: see `column`), 2 MiB pages where recording writes, and gradient slots faulted in
//! only when a reverse pass wants them. Whether recording asks for 2 MiB pages is a
//! process-wide switch ([`huge_pages`], [`set_huge_pages`]; off unless asked for). See
//! `docs/design.md`, "Big arrays".

use std::sync::atomic::{AtomicU8, Ordering};

use super::buffers::{Grads, Values, Words};
use super::column::HUGE_PAGE;
use super::Tape;

/// Slots initialised at once past the high-water mark (see `Tape::push_fresh`).
const FRESH_SLOTS: usize = 16;

/// Elements of values and words faulted in at once ahead of recording (`Tape::extend_fresh`).
const FAULT_AHEAD: usize = 16 << 10;

/// Graphs up to this many nodes keep arrays of their own size (see `Tape::grow`).
const SMALL_NODES: usize = 1024;

/// Nodes per array once a graph outgrows [`SMALL_NODES`] (see `Tape::grow`): 32 MiB of
/// `f64`s (address space: see `src/tape/column.rs`), and a little more for the padding.
const BIG_NODES: usize = (32 << 20) / 8 + 1024;

/// The huge-page switch: 0 not yet read from the environment, 1 off, 2 on.
static HUGE_PAGES: AtomicU8 = AtomicU8::new(0);

/// Whether big graphs ask the kernel for 2 MiB pages (transparent huge pages) where
/// recording writes. Off unless the environment variable `SCALARGRAD_HUGE_PAGES` is `1`,
/// `on` or `true` when first asked, or [`set_huge_pages`] switched it on.
///
/// Why off: where a host backs a virtual machine's memory lazily (cloud VMs, containers,
/// CI runners), a 2 MiB page fault right after other work had used and freed memory can
/// take many times what 4 KiB faults take, and the first big graph of a process then ran
/// up to 2× slower than `reverse`; with 4 KiB pages the same first graph is steadily
/// faster than it. With 2 MiB pages a first graph on a machine whose memory is already
/// backed is faster still (about a fifth). Measurements and the command that repeats
/// them: `docs/performance.md`, "The first big graph".
///
/// ```
/// // read once from SCALARGRAD_HUGE_PAGES, off when it is not set
/// let on = scalargrad::tape::huge_pages();
/// assert_eq!(on, matches!(std::env::var("SCALARGRAD_HUGE_PAGES").as_deref(), Ok("1" | "on" | "true")));
/// ```
pub fn huge_pages() -> bool {
    match HUGE_PAGES.load(Ordering::Relaxed) {
        0 => {
            let on = env_asks_huge_pages(std::env::var("SCALARGRAD_HUGE_PAGES").ok().as_deref());
            // a concurrent `set_huge_pages` wins over the environment
            let _ =
                HUGE_PAGES.compare_exchange(0, switch(on), Ordering::Relaxed, Ordering::Relaxed);
            is_on(HUGE_PAGES.load(Ordering::Relaxed))
        }
        state => is_on(state),
    }
}

/// Whether the value of `SCALARGRAD_HUGE_PAGES` (`None`: not set) asks for huge pages.
fn env_asks_huge_pages(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "on" | "true"))
}

/// The switch's state for `on` (never 0, which means "not read yet").
fn switch(on: bool) -> u8 {
    1 + u8::from(on)
}

/// Whether the switch's `state` is on.
fn is_on(state: u8) -> bool {
    state == 2
}

/// Switches [`huge_pages`] on or off for the whole process, over what the environment
/// says. Applies to arrays as they grow and to reverse passes from now on; a graph's pages
/// already faulted in stay as they are. Values and gradients are the same either way.
///
/// ```
/// scalargrad::tape::set_huge_pages(true);
/// assert!(scalargrad::tape::huge_pages());
/// scalargrad::tape::set_huge_pages(false);
/// assert!(!scalargrad::tape::huge_pages());
/// ```
pub fn set_huge_pages(on: bool) {
    HUGE_PAGES.store(switch(on), Ordering::Relaxed);
}

/// Slots and pages.
impl Tape {
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

    /// The position of the next node, with its slots initialised: call before computing the
    /// node's value, so that nothing is called between computing and storing it (a value
    /// kept across a call is spilled to the stack, a store and a reload on the chain of
    /// dependent ops an element-wise graph is).
    #[inline(always)]
    pub(super) fn next_slot(&mut self) -> usize {
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
    pub(super) fn next_slots(&mut self, n: usize) -> usize {
        let pos = self.len;
        let mut missing = (pos + n).saturating_sub(self.values.high_water());
        while missing > 0 {
            if self.values.is_full() {
                self.grow();
            }
            let k = missing.min(self.values.capacity() - self.values.0.len());
            self.extend_fresh(k);
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
    pub(super) fn push_fresh(&mut self) {
        debug_assert_eq!(self.len, self.values.high_water());
        if self.values.is_full() {
            self.grow();
        }
        let n = (self.values.capacity() - self.values.0.len()).clamp(1, FRESH_SLOTS);
        self.extend_fresh(n);
    }

    /// Initialises `n` slots past the high-water mark in each array (within capacity).
    /// With 4 KiB pages ([`huge_pages`] off), each time the high-water mark enters a new
    /// [`FAULT_AHEAD`] elements of a mapped array, faults those in for values and words with
    /// one system call (`Column::populate`) rather than one page fault per 4 KiB as
    /// recording reaches them: recording then takes no fault at all.
    #[inline]
    fn extend_fresh(&mut self, n: usize) {
        let from = self.values.0.len();
        if from / FAULT_AHEAD != (from + n) / FAULT_AHEAD
            && self.values.is_mapped()
            && !huge_pages()
        {
            let at = (from + n) / FAULT_AHEAD * FAULT_AHEAD;
            let to = (at + FAULT_AHEAD).min(self.values.capacity());
            self.values.0.populate(from, to);
            self.words.0.populate(from, to);
            crate::counts::count(crate::counts::Path::SlotsPopulated, to - from);
        }
        self.values.extend_zeroed(n);
        self.grads.extend_zeroed(n);
        self.words.extend_zeroed(n);
    }

    /// Makes room for 4× the current nodes (at least 1,024) in all three arrays at once:
    /// growing 4× instead of 2× copies a third as much and faults in fewer fresh pages on
    /// the way to a big graph (pages reserved but not written cost no memory).
    ///
    /// Past [`SMALL_NODES`] the next size is at least [`BIG_NODES`] (32 MiB per array, of
    /// address space: only written pages are resident; not on WebAssembly, whose memory is
    /// all resident). An array that big is mapped by itself (`src/tape/column.rs`), so it grows
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

    /// After the arrays grew: when they are mapped (see `src/tape/column.rs`) and
    /// [`huge_pages`] is on, asks for 2 MiB pages where recording writes (values and
    /// words), past their first 2 MiB (a graph of fewer than 262,144 nodes keeps 4 KiB
    /// pages: a huge page only half used would cost more memory than its faults cost
    /// time); when it is off, for 4 KiB pages everywhere (also where the kernel's setting
    /// is `always`). Gradients are asked for none: they are not written until a reverse
    /// pass wants them, and [`Tape::prepare_reverse`] then asks for 2 MiB pages where it
    /// knows them all used (if on).
    fn advise_grown(&mut self) {
        if !self.values.is_mapped() {
            return;
        }
        let on = huge_pages();
        let first = if on { HUGE_PAGE / 8 } else { 0 };
        self.values.0.advise_huge(first, usize::MAX, on);
        self.words.0.advise_huge(first, usize::MAX, on);
        self.grads.0.advise_huge(0, usize::MAX, false);
    }

    /// Makes the arrays ready for a reverse pass over positions `< n`, once per length
    /// reached (see `src/tape/column.rs`):
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
        if huge_pages() {
            self.grads.0.advise_huge(from, to, true);
        }
        self.grads.0.populate(from, to);
        crate::counts::count(crate::counts::Path::SlotsPopulated, to - from);
        self.prepared = n;
    }
}

#[cold]
#[inline(never)]
fn too_many() -> ! {
    panic!("scalargrad: a graph holds at most 4,294,967,295 nodes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counts::{reset, taken};
    use crate::Graph;

    /// The growth rule of `Tape::grow` and the faults taken ahead by `Tape::extend_fresh`
    /// and `Tape::prepare_reverse`, on a graph of leaves (this test's thread has no spare
    /// arrays, so the graph starts with none).
    #[test]
    fn arrays_grow_only_when_full_jump_to_big_and_fault_in_ahead() {
        let g = Graph::new();
        reset();
        // a small graph's arrays are on the heap: nothing is faulted in ahead
        let x = g.var(3.0);
        (x * x).backward();
        assert_eq!(x.grad(), 6.0);
        assert!(!g.tape().grads.is_mapped());
        assert_eq!(taken().slots_populated, 0);
        let capacity = || g.tape().values.capacity();
        for i in g.len()..SMALL_NODES {
            g.constant(i as f64);
        }
        assert_eq!(capacity(), SMALL_NODES);
        g.constant(0.0); // past 1,024 nodes: the jump
        let big = capacity();
        let linux = cfg!(target_os = "linux");
        if linux {
            // mapped by itself, whole 2 MiB pages
            assert!(g.tape().values.is_mapped() && g.tape().words.is_mapped());
            // 32 MiB and room for the padding, in whole 2 MiB pages
            assert_eq!(big * 8, (BIG_NODES * 8).next_multiple_of(HUGE_PAGE));
            assert_eq!(big * 8, 34 << 20);
        } else {
            assert!(big >= BIG_NODES);
        }
        // no growth before the arrays are full: not at 4 × 1,025, nor at big / 4
        let n = big / 4 + 4 * FAULT_AHEAD;
        // the top 600 nodes a chain of products the reverse pass walks
        for _ in g.len()..n - 601 {
            g.constant(0.0);
        }
        let a = g.var(2.0);
        let mut root = a;
        for _ in 0..300 {
            root *= 1.0;
        }
        assert_eq!((g.len(), capacity()), (n, big));

        let counted = cfg!(debug_assertions) && linux && !huge_pages();
        let populated = taken().slots_populated;
        if counted {
            // each time the high-water mark (16 slots at a time) entered a new
            // FAULT_AHEAD slots: that block and the 16 slots before it
            let entered = n / FAULT_AHEAD;
            assert_eq!(populated, entered * (FAULT_AHEAD + FRESH_SLOTS));
        }
        root.backward();
        // the pass gave back only pages past the live nodes
        assert_eq!((root.value(), a.grad(), x.value()), (2.0, 1.0, 3.0));
        if counted {
            // the gradients of every node up to the root, once
            assert_eq!(taken().slots_populated, populated + n);
            root.backward();
            assert_eq!(taken().slots_populated, populated + n);
        }
    }

    /// `Graph::with_capacity(n)` (`Tape::reserve`): room for `n` nodes in all three arrays
    /// whatever the thread's spare arrays hold, so that recording `n` nodes never grows them.
    #[test]
    fn with_capacity_makes_room_for_the_nodes_asked_whatever_the_spare_arrays_hold() {
        let record = |n: usize| {
            let g = Graph::with_capacity(n);
            let t = g.tape();
            let caps = (t.values.capacity(), t.grads.capacity(), t.words.capacity());
            drop(t);
            assert!(caps.0 >= n, "{n} nodes asked, room for {}", caps.0);
            assert!(caps.1 >= n + Grads::PAD && caps.2 >= n + Words::PAD);
            for i in 0..n {
                g.constant(i as f64);
            }
            let t = g.tape();
            let after = (t.values.capacity(), t.grads.capacity(), t.words.capacity());
            assert_eq!(
                after, caps,
                "grew while recording the {n} nodes it had room for"
            );
        };
        record(500); // a new thread: no spare arrays
        record(1000); // the spare arrays: 500 slots, all initialised
        record(1500); // 1,000
    }

    /// A block of nodes (`Tape::next_slots`, what a layer's rows and their activations
    /// open) that runs past the arrays' end grows them by the rule single nodes do: first
    /// what room is left, then `Tape::grow` (past 1,024 nodes, the jump to 32 MiB), not to
    /// the block's end.
    #[test]
    fn a_block_past_the_arrays_end_grows_them_by_the_same_rule() {
        let g = Graph::new();
        for _ in 0..1003 {
            g.constant(0.0);
        }
        assert_eq!(g.tape().values.capacity(), SMALL_NODES);
        let first = g.tape_mut().next_slots(64);
        assert_eq!((first, g.len()), (1003, 1003)); // slots made, nothing recorded
        let big = g.tape().values.capacity();
        assert!(big >= BIG_NODES, "grew to {big}, not past {BIG_NODES}");
        assert!(g.tape().values.high_water() >= 1003 + 64);
    }

    #[test]
    fn the_huge_page_switch_reads_the_environment_and_remembers_either_choice() {
        for (value, on) in [
            (None, false),
            (Some("1"), true),
            (Some("on"), true),
            (Some("true"), true),
            (Some("0"), false),
            (Some("yes"), false),
            (Some(""), false),
        ] {
            assert_eq!(env_asks_huge_pages(value), on, "{value:?}");
        }
        for on in [false, true] {
            assert_ne!(switch(on), 0, "0 is 'not read yet'");
            assert_eq!(is_on(switch(on)), on);
        }
        assert!(!is_on(0));
    }

    /// Past the 32 MiB jump the arrays grow 4× again when full, and no sooner (the graph
    /// of 4.5 million leaves, about 72 MB written, is the smallest that gets there).
    #[test]
    fn past_the_jump_the_arrays_grow_four_times_when_full() {
        let g = Graph::new();
        g.constant(0.0);
        for _ in 0..SMALL_NODES {
            g.constant(0.0);
        }
        let big = g.tape().values.capacity();
        while g.len() < big {
            g.constant(0.0);
        }
        assert_eq!(g.tape().values.capacity(), big);
        g.constant(0.0);
        let grown = g.tape().values.capacity();
        if cfg!(target_os = "linux") {
            assert_eq!(grown * 8, (4 * big * 8).next_multiple_of(HUGE_PAGE));
        } else {
            assert!(grown >= 4 * big);
        }
        assert!(g.tape().grads.capacity() >= grown + Grads::PAD);
    }
}
