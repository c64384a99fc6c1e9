//! The fast paths: each a room that holds its recording, its recompute and its pullback,
//! reached from the generic loops (recording, [`Graph::recompute`](crate::Graph::recompute),
//! the reverse pass in [`backward`](crate::backward)) by one test of a node's tag.
//!
//! | room | what it speeds up | held to the generic path by |
//! |---|---|---|
//! | `rows` | a dense layer's pre-activations, recorded as rows of one op | `tests/layer_rows.rs` |
//! | `runs` | a layer's activations over its rows, as one run | `tests/relu_runs.rs` |
//! | `ahead` | a layer written one `Graph::affine` or `Graph::dot` per neuron: values computed eight or four neurons at a time | `tests/dots_ahead.rs` |
//! | `tame` | nodes reached with gradient 0 below the first wild node, skipped | `tests/zero_gradients.rs` |
//!
//! Each fast path gives the same values and gradients, bit for bit, as the generic loop, and
//! counts what it took ([`taken`], in debug builds), so a test sees that it ran: switching
//! one off fails a test, not just a benchmark. Measurements: `docs/design.md`.

pub(crate) mod ahead;
pub(crate) mod rows;
pub(crate) mod runs;
pub(crate) mod tame;

pub(crate) use crate::counts::{count, Path};
pub use crate::counts::{reset, taken, Taken};
