//! The tape's arrays ([`Column`]): growable vectors of plain numbers that, once big, live in
//! memory mapped for them alone. This module is the crate's one `unsafe` island.
//!
//! # Why a mapping of its own
//!
//! On Linux, past [`MAP_BYTES`], a column's memory comes straight from the kernel (`mmap`),
//! not from the allocator:
//! - **Zero until written.** Anonymous memory reads as zeros until it is written, and costs no
//!   memory until then. A mapped column counts its unwritten elements as zeros: the tape's
//!   gradients cost nothing until a reverse pass wants them (`Tape::prepare_reverse`).
//! - **2 MiB pages.** The column can ask for transparent huge pages (`MADV_HUGEPAGE`): the
//!   first big graph of a process then takes one page fault per 2 MiB, not one per 4 KiB.
//!   Measured on W3 at N = 10⁶ (`benches/compare`, `--cold`, one process per graph): its
//!   recording went from ~80–115 ms (31,400 faults) to ~40–60 ms (~9,000 faults, most of
//!   them the workload's own handle arrays).
//! - **Growing by moving pages.** A mapped column grows with `mremap`, which moves its pages
//!   to the new address rather than copying them: no second copy is ever resident.
//! - **Pages given back or faulted in on request.** [`Column::release`] hands whole pages
//!   back (`MADV_DONTNEED`: they read as zeros again); [`Column::populate`] faults a range
//!   in with one system call (`MADV_POPULATE_WRITE`) instead of one fault per page.
//!
//! 2 MiB pages are advice, not a demand: where transparent huge pages are off (`never` in
//! `/sys/kernel/mm/transparent_hugepage/enabled`, or a process that called
//! `prctl(PR_SET_THP_DISABLE)`), or none is free, the kernel gives 4 KiB pages and nothing
//! else changes. Where the kernel's `defrag` setting is `madvise` (or `always`) a fault may
//! first compact memory to find a free 2 MiB page: on a machine whose memory is badly
//! fragmented, that can cost milliseconds once; `defrag` set to `defer` avoids it.
//!
//! Elsewhere (other systems, small columns, or when the kernel refuses a mapping) a column
//! is a heap allocation grown like a `Vec`'s, and the advice calls do nothing. Under Miri the
//! "mapping" is a zeroed heap allocation and `release` writes zeros, so all the code above
//! the system calls runs there too (`.ci/run` runs this module's tests under Miri).
//!
//! # Invariants (what the `unsafe` code relies on)
//! - `ptr` points to an allocation of `cap` elements: a `Vec<T>`'s (heap) or a mapping of
//!   `cap · size_of::<T>()` bytes (`mapped`); the first `len` elements are initialised.
//! - In a mapped column every element past `len` is zero: the mapping's memory is never
//!   written past `len` (the safe API writes only through `push`, `extend_zeroed` and the
//!   slice of the first `len` elements), and [`Column::release`] only makes memory zero.
//! - `T: Plain`: all-zero bytes are a valid `T` (its zero), so zeroed memory is initialised.

use std::mem::{size_of, ManuallyDrop};
use std::ptr::NonNull;

/// Element types for which all-zero bytes are a valid value (their `0`).
///
/// # Safety
/// Implement only for types whose every bit pattern of zeros is a valid value.
pub(crate) unsafe trait Plain: Copy + Default + std::fmt::Debug {}

// SAFETY: all-zero bytes are `0.0`.
unsafe impl Plain for f64 {}
// SAFETY: all-zero bytes are `0`.
unsafe impl Plain for u64 {}
// SAFETY: a `Word` is a `u64` (`repr(transparent)`); all-zero bytes are the word 0 (a leaf).
unsafe impl Plain for super::word::Word {}

/// Columns of at least this many bytes are mapped (Linux; see the module docs). Under Miri,
/// where a mapping is simulated on the heap, 32 KiB: the same code, on sizes Miri can walk.
pub(crate) const MAP_BYTES: usize = if cfg!(miri) { 32 << 10 } else { 1 << 20 };

/// The size of a transparent huge page on x86-64 and most 64-bit Linux systems (64 KiB
/// under Miri, as for [`MAP_BYTES`]).
pub(crate) const HUGE_PAGE: usize = if cfg!(miri) { 64 << 10 } else { 2 << 20 };

/// The size of a base page.
const PAGE: usize = 4096;

/// A growable array of plain numbers; past [`MAP_BYTES`] (on Linux) in its own mapping. See
/// the module docs.
pub(crate) struct Column<T: Plain> {
    ptr: NonNull<T>,
    len: usize,
    cap: usize,
    mapped: bool,
}

// SAFETY: a column owns its elements like a `Vec<T>` does.
unsafe impl<T: Plain + Send> Send for Column<T> {}
// SAFETY: as above; `&Column` gives only `&[T]`.
unsafe impl<T: Plain + Sync> Sync for Column<T> {}

impl<T: Plain> Column<T> {
    /// A heap column holding `v`'s elements.
    pub(crate) fn from_vec(v: Vec<T>) -> Self {
        let mut v = ManuallyDrop::new(v);
        Column {
            ptr: NonNull::new(v.as_mut_ptr()).expect("a Vec's pointer is never null"),
            len: v.len(),
            cap: v.capacity(),
            mapped: false,
        }
    }

    /// The heap column's elements as the `Vec` they came from; leaves `self` empty.
    fn take_vec(&mut self) -> Vec<T> {
        debug_assert!(!self.mapped);
        // SAFETY: (invariants) a heap column's parts are a `Vec<T>`'s; `self` forgets them.
        let v = unsafe { Vec::from_raw_parts(self.ptr.as_ptr(), self.len, self.cap) };
        // (fields, not `*self = …`: that would drop the old value, which is `v` now)
        (self.ptr, self.len, self.cap) = (NonNull::dangling(), 0, 0);
        v
    }

    /// The number of initialised elements.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The number of elements it holds without growing.
    #[inline(always)]
    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Whether it lives in a mapping of its own (see the module docs).
    #[inline(always)]
    pub(crate) fn is_mapped(&self) -> bool {
        self.mapped
    }

    /// Appends `n` zeros (growing to exactly `len + n` if they do not fit). A mapped column
    /// writes nothing: its memory past `len` is already zero, and stays unused until
    /// written.
    pub(crate) fn extend_zeroed(&mut self, n: usize) {
        self.reserve_exact(n);
        if !self.mapped {
            // SAFETY: `len + n <= cap` after `reserve_exact`; zero bytes are a valid `T`.
            unsafe { self.ptr.as_ptr().add(self.len).write_bytes(0, n) };
        }
        self.len += n;
    }

    /// Makes room for at least `n` more elements than `len`, growing to exactly `len + n`.
    pub(crate) fn reserve_exact(&mut self, n: usize) {
        if self.cap - self.len < n {
            let cap = self
                .len
                .checked_add(n)
                .unwrap_or_else(|| refused(usize::MAX));
            self.grow_to(cap);
        }
    }

    /// Reallocates to hold `cap > self.cap` elements, keeping the first `len`.
    #[cold]
    #[inline(never)]
    fn grow_to(&mut self, cap: usize) {
        debug_assert!(cap > self.cap);
        let bytes = cap
            .checked_mul(size_of::<T>())
            .unwrap_or_else(|| refused(usize::MAX));
        if sys::CAN_MAP && bytes >= MAP_BYTES {
            // whole huge pages: a mapping that is a multiple of them is also aligned to them
            let bytes = bytes.next_multiple_of(HUGE_PAGE);
            if self.mapped {
                // SAFETY: (invariants) `ptr` is a mapping of `cap` elements.
                let moved = unsafe { sys::remap(self.ptr.cast(), self.bytes(), bytes) };
                if let Some(p) = moved {
                    // the pages past the old end are new: zero
                    self.ptr = p.cast();
                    self.cap = bytes / size_of::<T>();
                    return;
                }
            }
            if let Some(p) = sys::map(bytes) {
                let p = p.cast::<T>();
                // SAFETY: the new mapping holds `bytes >= len · size` bytes and is not the
                // old allocation; the old one's first `len` elements are initialised.
                unsafe { std::ptr::copy_nonoverlapping(self.ptr.as_ptr(), p.as_ptr(), self.len) };
                // dropping the old column frees its memory
                *self = Column {
                    ptr: p,
                    len: self.len,
                    cap: bytes / size_of::<T>(),
                    mapped: true,
                };
                return;
            }
            // the kernel refused a mapping: the heap it is
        }
        let mut v = if self.mapped {
            let mut v = Vec::new();
            if v.try_reserve_exact(cap).is_err() {
                refused(bytes);
            }
            v.extend_from_slice(self);
            v
        } else {
            self.take_vec()
        };
        if v.try_reserve_exact(cap - v.len()).is_err() {
            // the column is as it was (empty if it was taken): the caller panics
            *self = Column::from_vec(v);
            refused(bytes);
        }
        *self = Column::from_vec(v);
    }

    /// The allocation's size in bytes.
    fn bytes(&self) -> usize {
        self.cap * size_of::<T>()
    }

    /// The byte range `[start, end)` of elements `[from, to)`, from the allocation's start.
    fn byte_range(&self, from: usize, to: usize) -> (usize, usize) {
        let to = to.min(self.cap);
        (from.min(to) * size_of::<T>(), to * size_of::<T>())
    }

    /// The index of the first element at or past element `i` that starts a 2 MiB page (by
    /// address; the capacity if none does).
    pub(crate) fn huge_page_end(&self, i: usize) -> usize {
        let base = self.ptr.as_ptr() as usize;
        let at = base + i.min(self.cap) * size_of::<T>();
        let end = at.next_multiple_of(HUGE_PAGE).min(base + self.bytes());
        (end - base) / size_of::<T>()
    }

    /// Sets elements `[from, to)` (clamped to the capacity) to zero. A mapped column gives
    /// the whole pages among them back to the system: they cost no memory until written
    /// again.
    pub(crate) fn release(&mut self, from: usize, to: usize) {
        let (start, end) = self.byte_range(from, to);
        if !self.mapped {
            let to = (end / size_of::<T>()).min(self.len);
            let from = (start / size_of::<T>()).min(to);
            self[from..to].fill(T::default());
            return;
        }
        let base = self.ptr.as_ptr() as usize;
        // whole pages inside; the parts of pages at either end are written
        let (inner_start, inner_end) = (
            (base + start).next_multiple_of(PAGE) - base,
            ((base + end) & !(PAGE - 1)).saturating_sub(base),
        );
        if inner_start >= inner_end {
            self.zero_bytes(start, end);
            return;
        }
        self.zero_bytes(start, inner_start);
        self.zero_bytes(inner_end, end);
        // SAFETY: `[inner_start, inner_end)` is whole pages of this column's own mapping;
        // dropping them makes them read as zeros, a valid `T` at every element.
        unsafe {
            sys::release(
                NonNull::new_unchecked((base + inner_start) as *mut u8),
                inner_end - inner_start,
            )
        };
    }

    /// Writes zeros over bytes `[start, end)` of a mapped column (within its capacity).
    fn zero_bytes(&mut self, start: usize, end: usize) {
        debug_assert!(self.mapped && end <= self.bytes());
        if start < end {
            // SAFETY: inside the mapping; zero bytes are a valid `T`.
            unsafe {
                self.ptr
                    .as_ptr()
                    .cast::<u8>()
                    .add(start)
                    .write_bytes(0, end - start)
            };
        }
    }

    /// Asks for 2 MiB pages (`on`) or against them (`!on`) in elements `[from, to)` of a
    /// mapped column: `on` covers only the whole huge pages inside the range, `!on` every
    /// page it touches. Contents are unchanged. Does nothing to a heap column.
    pub(crate) fn advise_huge(&self, from: usize, to: usize, on: bool) {
        if !self.mapped {
            return;
        }
        let (start, end) = self.byte_range(from, to);
        let base = self.ptr.as_ptr() as usize;
        let (start, end) = if on {
            (
                (base + start).next_multiple_of(HUGE_PAGE),
                (base + end) & !(HUGE_PAGE - 1),
            )
        } else {
            (
                (base + start) & !(PAGE - 1),
                (base + end).next_multiple_of(PAGE),
            )
        };
        if start < end {
            // SAFETY: a range of this column's own mapping (the page rounding stays inside
            // it: the mapping is whole pages); the advice changes no contents.
            unsafe { sys::advise_huge(NonNull::new_unchecked(start as *mut u8), end - start, on) };
        }
    }

    /// Faults in the pages that hold elements `[from, to)` of a mapped column with one
    /// system call (as if written, contents unchanged). Does nothing to a heap column.
    pub(crate) fn populate(&self, from: usize, to: usize) {
        if !self.mapped {
            return;
        }
        let (start, end) = self.byte_range(from, to);
        let base = self.ptr.as_ptr() as usize;
        let (start, end) = (
            (base + start) & !(PAGE - 1),
            (base + end).next_multiple_of(PAGE),
        );
        if start < end {
            // SAFETY: a range of this column's own mapping; populating changes no contents.
            unsafe { sys::populate(NonNull::new_unchecked(start as *mut u8), end - start) };
        }
    }
}

impl<T: Plain> Drop for Column<T> {
    fn drop(&mut self) {
        if self.mapped {
            // SAFETY: (invariants) a mapping of `bytes()` bytes that nothing else uses.
            unsafe { sys::unmap(self.ptr.cast(), self.bytes()) };
        } else {
            drop(self.take_vec());
        }
    }
}

impl<T: Plain> std::ops::Deref for Column<T> {
    type Target = [T];
    #[inline(always)]
    fn deref(&self) -> &[T] {
        // SAFETY: (invariants) the first `len` elements are initialised.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Plain> std::ops::DerefMut for Column<T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, and `&mut self` is unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Plain> Clone for Column<T> {
    fn clone(&self) -> Self {
        let mut c = Column::from_vec(Vec::new());
        c.reserve_exact(self.cap);
        c.extend_zeroed(self.len);
        c.copy_from_slice(self);
        c
    }
}

impl<T: Plain> std::fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The system calls, on Linux.
#[cfg(all(target_os = "linux", not(miri)))]
mod sys {
    use std::ptr::NonNull;

    /// Mappings are made here.
    pub(super) const CAN_MAP: bool = true;

    /// A new private anonymous mapping of `bytes` bytes (zeros), or `None` if refused.
    pub(super) fn map(bytes: usize) -> Option<NonNull<u8>> {
        // SAFETY: a new mapping at an address the kernel picks; nothing else is touched.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            None
        } else {
            NonNull::new(p.cast())
        }
    }

    /// Grows the mapping at `p` from `old` to `new` bytes, moving it if it must (the pages
    /// past `old` are zero); `None` leaves it as it was.
    ///
    /// # Safety
    /// `p` is a mapping of `old` bytes from [`map`] or `remap`, which the caller then stops
    /// using if this returns `Some`.
    pub(super) unsafe fn remap(p: NonNull<u8>, old: usize, new: usize) -> Option<NonNull<u8>> {
        let q = libc::mremap(p.as_ptr().cast(), old, new, libc::MREMAP_MAYMOVE);
        if q != libc::MAP_FAILED {
            return NonNull::new(q.cast());
        }
        // mremap takes one kernel area only: advice given to a part of the mapping split it
        // into several. The same advice everywhere joins them again; the caller advises anew.
        libc::madvise(p.as_ptr().cast(), old, libc::MADV_NOHUGEPAGE);
        let q = libc::mremap(p.as_ptr().cast(), old, new, libc::MREMAP_MAYMOVE);
        if q == libc::MAP_FAILED {
            None
        } else {
            NonNull::new(q.cast())
        }
    }

    /// Unmaps `bytes` bytes at `p`.
    ///
    /// # Safety
    /// `p` is a mapping of `bytes` bytes from [`map`] or [`remap`], not used afterwards.
    pub(super) unsafe fn unmap(p: NonNull<u8>, bytes: usize) {
        libc::munmap(p.as_ptr().cast(), bytes);
    }

    /// Drops the pages `[p, p + bytes)`: they read as zeros and cost no memory until
    /// written.
    ///
    /// # Safety
    /// Whole pages of one of this module's mappings, whose contents the caller gives up.
    pub(super) unsafe fn release(p: NonNull<u8>, bytes: usize) {
        let r = libc::madvise(p.as_ptr().cast(), bytes, libc::MADV_DONTNEED);
        // if the kernel refused (it does not, for a private anonymous mapping), the
        // contents must still read as zeros
        if r != 0 {
            p.as_ptr().write_bytes(0, bytes);
        }
    }

    /// Advises 2 MiB pages for `[p, p + bytes)`, or against them.
    ///
    /// # Safety
    /// Whole pages of one of this module's mappings.
    pub(super) unsafe fn advise_huge(p: NonNull<u8>, bytes: usize, on: bool) {
        let advice = if on {
            libc::MADV_HUGEPAGE
        } else {
            libc::MADV_NOHUGEPAGE
        };
        // advice only: a kernel without transparent huge pages refuses, and nothing changes
        libc::madvise(p.as_ptr().cast(), bytes, advice);
    }

    /// Faults in `[p, p + bytes)` as if written.
    ///
    /// # Safety
    /// Whole pages of one of this module's mappings.
    pub(super) unsafe fn populate(p: NonNull<u8>, bytes: usize) {
        // Linux 5.14 and later; before, the pages fault in when first written
        libc::madvise(p.as_ptr().cast(), bytes, libc::MADV_POPULATE_WRITE);
    }
}

/// Under Miri: "mappings" are zeroed heap allocations, so the code above runs there.
#[cfg(miri)]
mod sys {
    use std::alloc::{alloc_zeroed, dealloc, Layout};
    use std::ptr::NonNull;

    pub(super) const CAN_MAP: bool = true;

    fn layout(bytes: usize) -> Layout {
        Layout::from_size_align(bytes, super::PAGE).expect("a mapping's size")
    }

    pub(super) fn map(bytes: usize) -> Option<NonNull<u8>> {
        // SAFETY: a non-zero size (at least `MAP_BYTES`).
        NonNull::new(unsafe { alloc_zeroed(layout(bytes)) })
    }

    /// Always refused: the caller copies into a new "mapping" instead.
    pub(super) unsafe fn remap(_: NonNull<u8>, _: usize, _: usize) -> Option<NonNull<u8>> {
        None
    }

    pub(super) unsafe fn unmap(p: NonNull<u8>, bytes: usize) {
        dealloc(p.as_ptr(), layout(bytes));
    }

    pub(super) unsafe fn release(p: NonNull<u8>, bytes: usize) {
        p.as_ptr().write_bytes(0, bytes);
    }

    pub(super) unsafe fn advise_huge(_: NonNull<u8>, _: usize, _: bool) {}

    pub(super) unsafe fn populate(_: NonNull<u8>, _: usize) {}
}

/// Other systems: no mappings, heap columns only.
#[cfg(not(any(target_os = "linux", miri)))]
mod sys {
    use std::ptr::NonNull;

    pub(super) const CAN_MAP: bool = false;

    pub(super) fn map(_: usize) -> Option<NonNull<u8>> {
        None
    }
    pub(super) unsafe fn remap(_: NonNull<u8>, _: usize, _: usize) -> Option<NonNull<u8>> {
        None
    }
    pub(super) unsafe fn unmap(_: NonNull<u8>, _: usize) {
        unreachable!("no mappings on this system")
    }
    pub(super) unsafe fn release(_: NonNull<u8>, _: usize) {
        unreachable!("no mappings on this system")
    }
    pub(super) unsafe fn advise_huge(_: NonNull<u8>, _: usize, _: bool) {}
    pub(super) unsafe fn populate(_: NonNull<u8>, _: usize) {}
}

/// The system refused `bytes` bytes (`usize::MAX`: more than an address can hold).
#[cold]
#[inline(never)]
fn refused(bytes: usize) -> ! {
    if bytes == usize::MAX {
        panic!("scalargrad: a graph's arrays cannot be that large (their size overflows)");
    }
    panic!(
        "scalargrad: the system refused {bytes} bytes for a graph's arrays; build smaller \
         graphs (rewind between steps) or ask for less with Graph::with_capacity"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Elements per mapped column at the smallest mapped size.
    const MAPPED: usize = MAP_BYTES / 8;

    fn filled(n: usize) -> Column<u64> {
        let mut c = Column::from_vec(Vec::new());
        for i in 0..n as u64 {
            c.extend_zeroed(1);
            c[i as usize] = i * 3 + 1;
        }
        c
    }

    #[test]
    fn heap_growth_keeps_elements() {
        let c = filled(1000);
        assert_eq!(c.len(), 1000);
        assert!(c.capacity() >= 1000 && !c.is_mapped());
        assert!(c.iter().enumerate().all(|(i, &x)| x == i as u64 * 3 + 1));
    }

    #[test]
    fn extend_zeroed_reads_zero_heap_and_mapped() {
        let mut c = filled(10);
        c[3] = 0;
        c.extend_zeroed(20);
        assert_eq!(c.len(), 30);
        assert_eq!(c.capacity(), 30, "grows to exactly len + n");
        assert!(c[10..].iter().all(|&x| x == 0));
        c.extend_zeroed(MAPPED);
        assert!(c.is_mapped() || !sys::CAN_MAP);
        assert_eq!(c.len(), 30 + MAPPED);
        assert!(c[10..].iter().all(|&x| x == 0));
        assert_eq!(c[9], 28);
    }

    #[test]
    fn mapped_growth_keeps_elements_and_zeros_the_rest() {
        let mut c = filled(5);
        c.reserve_exact(MAPPED);
        assert!(c.is_mapped() || !sys::CAN_MAP);
        assert_eq!(c.capacity() % (HUGE_PAGE / 8), 0, "whole huge pages");
        let cap = c.capacity();
        c.extend_zeroed(cap - 5);
        c[cap - 1] = 7;
        c.reserve_exact(2 * cap);
        c.extend_zeroed(1);
        c[cap] = 9;
        assert!(c.capacity() >= 3 * cap);
        assert_eq!(&c[..5], &[1, 4, 7, 10, 13]);
        assert_eq!((c[cap - 1], c[cap]), (7, 9));
        c.extend_zeroed(3);
        assert_eq!(&c[cap + 1..], &[0, 0, 0]);
    }

    #[test]
    fn release_zeroes_exactly_the_range() {
        for mapped in [false, true] {
            let mut c = filled(100);
            if mapped {
                c.reserve_exact(MAPPED);
            }
            let n = if mapped { 3 * PAGE / 8 + 100 } else { 100 };
            c.extend_zeroed(n - 100);
            c.iter_mut().for_each(|x| *x = 5);
            // mapped: from the middle of a page to the middle of another, whole pages
            // between; heap: inside the elements
            let (from, to) = if mapped { (100, n - 50) } else { (10, 60) };
            c.release(from, to);
            for (i, &x) in c.iter().enumerate() {
                assert_eq!(x, if (from..to).contains(&i) { 0 } else { 5 }, "at {i}");
            }
            // past the capacity is clamped; twice is harmless
            c.release(0, usize::MAX);
            c.release(0, usize::MAX);
            assert!(c.iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn advice_and_populate_change_no_contents() {
        let mut c = filled(3);
        c.reserve_exact(2 * HUGE_PAGE / 8);
        c.extend_zeroed(c.capacity() - 3);
        let last = c.len() - 1;
        c[last] = 11;
        c.advise_huge(0, c.capacity(), true);
        c.advise_huge(1, 200_000, false);
        c.populate(2, last + 1);
        assert_eq!(&c[..4], &[1, 4, 7, 0]);
        assert_eq!(c[last], 11);
        assert_eq!(c.iter().filter(|&&x| x != 0).count(), 4);
    }

    #[test]
    fn huge_page_end_is_the_next_2_mib_boundary() {
        let mut c = filled(3);
        c.reserve_exact(3 * HUGE_PAGE / 8);
        let base = c.ptr.as_ptr() as usize;
        for i in [
            0,
            1,
            1000,
            HUGE_PAGE / 8 - 1,
            HUGE_PAGE / 8,
            c.capacity() - 1,
        ] {
            let end = c.huge_page_end(i);
            assert!(end >= i && end <= c.capacity(), "{i} -> {end}");
            let at = base + end * 8;
            assert!(
                at.is_multiple_of(HUGE_PAGE) || end == c.capacity(),
                "{i} -> {end}"
            );
            assert!(end - i < HUGE_PAGE / 8, "{i} -> {end}");
        }
        assert_eq!(c.huge_page_end(usize::MAX), c.capacity());
    }

    #[test]
    fn clone_is_deep() {
        let mut c = filled(50);
        c.reserve_exact(MAPPED);
        let mut d = c.clone();
        d[0] = 99;
        assert_eq!((c[0], d[0], d[49], d.len()), (1, 99, 148, 50));
        assert_eq!(d.is_mapped(), c.is_mapped());
        let e = filled(3).clone();
        assert_eq!(&e[..], &[1, 4, 7]);
    }

    /// The memory areas of this process that overlap `[lo, hi)`, from `/proc/self/smaps`:
    /// `(start, end, resident bytes, flags)`.
    #[cfg(all(target_os = "linux", not(miri)))]
    fn areas(lo: usize, hi: usize) -> Vec<(usize, usize, usize, String)> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps");
        let mut out: Vec<(usize, usize, usize, String)> = Vec::new();
        for line in smaps.lines() {
            let range = line.split_whitespace().next().unwrap_or("");
            if let Some((a, b)) = range.split_once('-') {
                if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                {
                    out.push((a, b, 0, String::new()));
                    continue;
                }
            }
            let Some(last) = out.last_mut() else { continue };
            if let Some(kb) = line.strip_prefix("Rss:") {
                last.2 = kb.trim().trim_end_matches(" kB").parse::<usize>().unwrap() * 1024;
            } else if let Some(flags) = line.strip_prefix("VmFlags:") {
                last.3 = flags.trim().to_string();
            }
        }
        out.retain(|&(a, b, _, _)| a < hi && b > lo);
        out
    }

    /// Whether every byte of `[lo, hi)` lies in an area with flag `flag` (`hg`: advised
    /// huge pages, `nh`: advised against them).
    #[cfg(all(target_os = "linux", not(miri)))]
    fn flagged(lo: usize, hi: usize, flag: &str) -> bool {
        let areas = areas(lo, hi);
        let covered =
            areas.first().is_some_and(|a| a.0 <= lo) && areas.last().is_some_and(|a| a.1 >= hi);
        let contiguous = areas.windows(2).all(|w| w[0].1 == w[1].0);
        covered
            && contiguous
            && areas
                .iter()
                .all(|a| a.3.split_whitespace().any(|f| f == flag))
    }

    /// Whether no byte of `[lo, hi)` lies in an area with flag `flag`.
    #[cfg(all(target_os = "linux", not(miri)))]
    fn unflagged(lo: usize, hi: usize, flag: &str) -> bool {
        areas(lo, hi)
            .iter()
            .all(|a| !a.3.split_whitespace().any(|f| f == flag))
    }

    #[cfg(all(target_os = "linux", not(miri)))]
    #[test]
    fn advice_covers_the_whole_huge_pages_inside_or_every_page_touched() {
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            return; // a kernel without transparent huge pages takes no such advice
        }
        const H: usize = HUGE_PAGE;
        let mut c = filled(3);
        c.reserve_exact(5 * H / 8);
        assert!(c.is_mapped());
        let base = c.ptr.as_ptr() as usize;
        let end = base + c.bytes();
        // on: from 8 bytes in to 40 bytes past 3 huge pages
        c.advise_huge(1, 3 * H / 8 + 5, true);
        let (lo, hi) = (
            (base + 8).next_multiple_of(H),
            (base + 3 * H + 40) & !(H - 1),
        );
        assert!(lo < hi);
        assert!(flagged(lo, hi, "hg"), "inside: {:x?}", areas(base, end));
        assert!(unflagged(base, lo, "hg"), "before: {:x?}", areas(base, end));
        assert!(unflagged(hi, end, "hg"), "after: {:x?}", areas(base, end));
        // off: every page the elements touch, no more
        let (from, to) = (H / 8 + 3, H / 8 + 600);
        c.advise_huge(from, to, false);
        let (lo, hi) = (
            (base + 8 * from) & !(PAGE - 1),
            (base + 8 * to).next_multiple_of(PAGE),
        );
        assert!(flagged(lo, hi, "nh"), "{:x?}", areas(base, end));
        assert!(unflagged(base, lo, "nh") && unflagged(hi, end, "nh"));
        // a heap column takes no advice (and has no area of its own to check)
        filled(10).advise_huge(0, 10, true);
    }

    #[cfg(all(target_os = "linux", not(miri)))]
    #[test]
    fn release_gives_back_the_whole_pages_and_populate_faults_in_the_range() {
        let mut c = Column::<u64>::from_vec(Vec::new());
        c.reserve_exact(MAPPED);
        let base = c.ptr.as_ptr() as usize;
        let end = base + c.bytes();
        // 4 KiB pages only, whatever the system's default (before anything is written)
        c.advise_huge(0, c.capacity(), false);
        assert_eq!(areas(base, end).iter().map(|a| a.2).sum::<usize>(), 0);
        c.extend_zeroed(3);
        c[2] = 1;
        let rss = || areas(base, end).iter().map(|a| a.2).sum::<usize>();
        assert_eq!(rss(), PAGE, "only the first page written");
        // 64 pages, then from the middle of page 10 to the middle of page 20
        c.populate(0, 64 * PAGE / 8);
        assert_eq!(rss(), 64 * PAGE, "populate faults in the range");
        let per_page = PAGE / 8;
        c.release(10 * per_page + 7, 20 * per_page + 9);
        assert_eq!(rss(), 55 * PAGE, "pages 11 to 19 given back");
        // populate rounds out to whole pages, and takes the range's own pages only
        c.populate(30 * per_page + 1, 40 * per_page + 1);
        c.populate(100 * per_page + 1, 100 * per_page + 2);
        assert_eq!(rss(), 56 * PAGE);
        c.populate(11 * per_page, 13 * per_page);
        assert_eq!(rss(), 58 * PAGE);
    }

    #[cfg(all(target_os = "linux", not(miri)))]
    #[test]
    fn dropping_a_mapped_column_unmaps_it() {
        // bigger than any other test's mapping: tests running beside this one may map
        // memory where it was, but not all of it
        let mut c = filled(3);
        c.reserve_exact(8 * HUGE_PAGE / 8);
        let (base, end) = (c.ptr.as_ptr() as usize, c.ptr.as_ptr() as usize + c.bytes());
        let mapped = || {
            areas(base, end)
                .iter()
                .map(|a| a.1.min(end) - a.0.max(base))
                .sum::<usize>()
        };
        assert_eq!(mapped(), end - base);
        drop(c);
        assert!(mapped() < end - base, "{:x?}", areas(base, end));
    }

    #[test]
    fn debug_shows_the_elements() {
        assert_eq!(format!("{:?}", filled(3)), "[1, 4, 7]");
    }

    #[test]
    // (Miri stops at an allocation this large instead of refusing it)
    #[cfg_attr(miri, ignore)]
    fn a_size_no_address_holds_and_one_the_system_refuses_get_their_own_sentences() {
        use crate::test_support::panic_message;
        let mut c = filled(2);
        // the element count overflows, then the byte count
        for n in [usize::MAX, usize::MAX / 4] {
            let m = panic_message(|| c.reserve_exact(n));
            assert!(
                m.contains("cannot be that large (their size overflows)"),
                "{n}: {m}"
            );
        }
        // 2⁶⁰ bytes and the two elements': more than an address space maps or a heap gives
        let m = panic_message(|| c.reserve_exact(1 << 57));
        let bytes = ((1u64 << 57) + 2) * 8;
        assert!(
            m.contains(&format!("the system refused {bytes} bytes")),
            "{m}"
        );
        // and the column is as it was
        assert_eq!(&c[..], &[1, 4]);
    }
}
