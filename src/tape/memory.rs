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
            let on = matches!(
                std::env::var("SCALARGRAD_HUGE_PAGES").as_deref(),
                Ok("1" | "on" | "true")
            );
            // a concurrent `set_huge_pages` wins over the environment
            let _ = HUGE_PAGES.compare_exchange(
                0,
                1 + u8::from(on),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
            HUGE_PAGES.load(Ordering::Relaxed) == 2
        }
        state => state == 2,
    }
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
    HUGE_PAGES.store(1 + u8::from(on), Ordering::Relaxed);
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
        self.prepared = n;
    }
}

#[cold]
#[inline(never)]
fn too_many() -> ! {
    panic!("scalargrad: a graph holds at most 4,294,967,295 nodes")
}
