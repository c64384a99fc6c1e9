//! What the engine promises, and where each promise is checked. This module holds no code:
//! its examples are the checks that only the compiler can make.
//!
//! # Handles are checked, never trusted
//! A [`Var`](crate::Var) holds a reference to its [`Graph`](crate::Graph), its node's
//! position and the graph's *epoch* when it was made (see [`tape`](crate::tape)). Using a
//! handle of one graph with another graph panics with *"a handle from another Graph was used
//! here"*; using a handle whose node was freed by [`Graph::rewind`](crate::Graph::rewind),
//! [`Graph::scope`](crate::Graph::scope) or [`Graph::clear`](crate::Graph::clear) panics with
//! *"this handle points to a node that was freed"*, even when a new node now sits at the same
//! position: a rewind made after the handle cut the tape at or below its position. Tested in
//! `tests/misuse.rs` and `tests/tape.rs`.
//!
//! The one limit: epochs are 32-bit and count the rewinds that shortened the graph. After
//! 4,294,967,295 of them the next one panics ("build a new Graph") instead of wrapping, so
//! a stale handle can never alias a new node.
//!
//! A panic inside a misuse check, or inside a reverse pass (anomaly mode, or a custom op's
//! derivative), leaves the graph consistent and usable; an interrupted `backward` leaves its
//! partial gradients until [`Graph::zero_grad`](crate::Graph::zero_grad).
//!
//! # The compiler rejects the rest
//! (Stable rustdoc does not compare the error codes written after `compile_fail`; each
//! example below was checked by hand to fail with the code it names.)
//!
//! A handle borrows its graph, so it cannot outlive it:
//!
//! ```compile_fail,E0597
//! use scalargrad::Graph;
//! let x = {
//!     let g = Graph::new();
//!     g.var(1.0)
//! }; // error[E0597]: `g` does not live long enough
//! x.value();
//! ```
//!
//! nor can the graph be dropped or moved while a handle is in use:
//!
//! ```compile_fail,E0505
//! use scalargrad::Graph;
//! let g = Graph::new();
//! let x = g.var(1.0);
//! drop(g); // error[E0505]: cannot move out of `g` because it is borrowed
//! x.value();
//! ```
//!
//! [`Graph::scope`](crate::Graph::scope) frees its nodes on return, so its closure cannot
//! return a handle:
//!
//! ```compile_fail,E0597
//! use scalargrad::Graph;
//! let g = Graph::new();
//! let w = g.var(3.0);
//! let escaped = g.scope(|| w * w); // error[E0597]: the result must be 'static, `g` is not
//! ```
//!
//! A graph is `Send`: it can move to another thread, with nothing borrowing it.
//!
//! ```
//! use scalargrad::Graph;
//! let g = Graph::new();
//! g.var(2.0);
//! let len = std::thread::spawn(move || {
//!     let x = g.var(3.0);
//!     (x * x).backward();
//!     (g.len(), x.grad())
//! })
//! .join()
//! .unwrap();
//! assert_eq!(len, (3, 6.0));
//! ```
//!
//! but it is not `Sync` (its arena sits in a `RefCell`), so two threads cannot record into
//! one graph at once:
//!
//! ```compile_fail,E0277
//! use scalargrad::Graph;
//! let g = Graph::new();
//! std::thread::scope(|s| {
//!     s.spawn(|| g.var(1.0).value()); // error[E0277]: `RefCell<..>` cannot be shared
//! });
//! ```
//!
//! and a handle, which holds `&Graph`, cannot cross threads either:
//!
//! ```compile_fail,E0277
//! use scalargrad::Graph;
//! let g = Box::leak(Box::new(Graph::new()));
//! let x = g.var(1.0);
//! std::thread::spawn(move || x.value()); // error[E0277]: `Var` holds `&Graph`, not `Send`
//! ```
//!
//! Training on several threads therefore means one graph per thread and a reduction of
//! plain numbers: `examples/threads.rs`, checked bit for bit by `tests/threads.rs`.
//!
//! # `unsafe` in one module only
//! The crate is `#![deny(unsafe_code)]`: a block of `unsafe` anywhere in it is an error,
//! except in one private module, `src/tape/column.rs`. That module holds the tape's three arrays
//! and, on Linux, maps their memory itself once they are big (`mmap`, `mremap`, `madvise`):
//! 2 MiB pages, and gradients left unwritten until a reverse pass, took the first big graph
//! of a process from 0.78× to 0.44× the time of the `reverse` crate (W3 at 10⁶). Every
//! `unsafe` block there states why it is sound; the module's tests run under Miri in CI
//! (`.ci/miri.sh`), with a heap allocation standing in for the kernel's mapping. Nothing
//! else in the crate, and nothing in its public API, is `unsafe`.
//!
//! # Non-finite numbers follow IEEE, and can be caught
//! No op panics on a bad number. NaN and ±∞ propagate through values and gradients by IEEE
//! rules; each op's edge points (`ln 0`, `ln(−1)`, `0⁻¹`, `(−8)^⅓`, `x/0`, `exp(710)`,
//! `0·∞` in a backward product, `relu'(0)`, `sigmoid(±1000)`) are pinned to the numbers
//! PyTorch gives in `tests/ieee.rs`, bit for bit; the one difference is that gradients
//! accumulate into a `.grad()` that starts at +0, so a derivative of −0 reads back as +0. [`Graph::detect_anomaly`](crate::Graph::detect_anomaly)
//! turns the first non-finite value or gradient into a panic naming the op, its inputs and
//! where it was recorded (or where `backward` was called), including a gradient that only
//! overflows when finite shares are summed and a leaf given a non-finite value by
//! [`Var::set_value`](crate::Var::set_value); [`Graph::check_finite`](crate::Graph::check_finite)
//! finds it after the fact. With anomaly mode on from the start, it panics exactly when
//! `check_finite` would report a node (an invariant of the fuzz target).
//!
//! # Depth and size
//! No graph walk recurses: a 1,000,000-deep chain runs forward and backward in a debug
//! build (`tests/scale.rs`), and 10,000,000-node graphs are measured by
//! `cargo test --release --test scale -- --ignored` and `cargo run --release --example scale`.
//!
//! # Hostile input
//! Arbitrary bytes interpreted as a graph of random ops never panic outside the documented
//! misuse panics, and in a well-conditioned domain their gradients match central finite
//! differences: `tests/fuzz_invariants.rs` (proptest, in CI) and the `cargo fuzz` target in
//! `fuzz/`.
