//! # scalargrad
//!
//! A scalar reverse-mode autograd engine. Every scalar operation (`+`, `*`, `pow`, `sigmoid`,
//! `relu`, …) becomes a node in an arena; one reverse pass over the graph, in creation
//! (topological) order, accumulates every gradient. Neural networks are built from single
//! scalar neurons on top of it.
//!
//! ```
//! use scalargrad::Graph;
//!
//! let g = Graph::new();
//! let apple = g.var(100.0);        // a leaf whose gradient is tracked
//! let count = g.var(2.0);
//! let tax = g.var(1.1);
//! let price = apple * count * tax; // std::ops on handles, and with f64 on either side
//! assert!((price.value() - 220.0).abs() < 1e-9);
//! price.backward();                // d price / d every ancestor, accumulated into .grad()
//! assert!((apple.grad() - 2.2).abs() < 1e-12);
//! assert!((count.grad() - 110.0).abs() < 1e-9);
//! assert!((tax.grad() - 200.0).abs() < 1e-9);
//! g.zero_grad();                   // every gradient back to 0
//! assert_eq!(apple.grad(), 0.0);
//! ```
//!
//! ## How it reads
//! - [`graph`]: the arena ([`Graph`]), handles ([`Var`]), marks for freeing a step's nodes.
//! - [`tape`]: how the nodes are stored (24 bytes each) and why a handle is always checked.
//! - [`op`]: every op's forward rule beside its local-derivative rule.
//! - [`scalar`]: the [`Scalar`] trait those rules are written over, so the same rule runs on
//!   `f64` ([`Var::backward`]) and on handles ([`Graph::grad`], higher-order derivatives).
//! - [`backward`]: the reverse pass, a backwards walk over the tape.
//! - [`custom`]: user-defined ops of one input ([`UnaryFn`]) or several ([`NaryFn`]).
//! - [`hessian`]: higher derivatives, Hessians and Hessian-vector products, from
//!   [`Graph::grad`] applied to its own output.
//! - [`versions`]: why `backward` after [`Var::set_value`] asks for [`Graph::recompute`].
//! - [`nn`]: neurons, layers, MLPs, losses, optimizers and the moons data set, built from
//!   the ops above.
//! - [`dot`]: Graphviz pictures ([`Graph::to_dot`]); [`svg`]: SVG pictures with no external
//!   program ([`Graph::to_svg`]). [`check`]: finite-difference checks,
//!   first order ([`check::gradcheck`]) and second ([`check::gradgradcheck`]).
//! - [`guarantees`]: the misuse the compiler rejects (compile-fail examples).
//! - `testing` (cargo feature `proptest`): strategies, random programs and assertions for
//!   property-testing derivatives with proptest.
//! - [`value`]: [`Value`], a handle that owns its node (micrograd-style: no graph object, no
//!   lifetime), on the same rules; what the Python package is built on.
//!
//! ## Semantics
//! - **Accumulation.** `backward` adds into `.grad()`: `x * x` gives `2x`, a node reached by
//!   several paths sums them, two `backward` calls add twice, until [`Graph::zero_grad`].
//! - **Zeroing: one operation, three scopes.** [`Graph::zero_grad`] sets every node's
//!   gradient to 0; [`nn::zero_grad`] only the handles it is given (to keep another model's
//!   gradients in the same graph); [`nn::Mlp::zero_grad`] is `nn::zero_grad` over the
//!   network's parameters. In a training loop that rewinds each step, the parameters are the
//!   only nodes left, so all three do the same; [`nn::train_step`] calls `nn::zero_grad`.
//! - **Stale values.** [`Var::set_value`] changes a leaf, not the nodes recorded from it:
//!   call [`Graph::recompute`] (or record again) before differentiating them; `backward` and
//!   `grad` panic otherwise ([`versions`]).
//! - **No recursion.** Creation order is a topological order (inputs are always created
//!   before the ops that use them), so the reverse pass is one backwards walk of the tape
//!   from the root. A 1,000,000-deep chain works.
//! - **Edge points follow PyTorch.** relu'(0) = 0; sigmoid and tanh are stable
//!   (`sigmoid(-1000) = 0`, `sigmoid(1000) = 1`, finite gradients); `pow`, `ln` and `/`
//!   outside their domain give IEEE NaN/inf that propagate through values and gradients,
//!   never a panic. [`Graph::detect_anomaly`] turns the first one into a panic that names the
//!   op, and [`Graph::check_finite`] finds it after the fact.
//! - **Misuse panics with a sentence.** A handle from another graph, or to a node freed by
//!   [`Graph::rewind`], panics when used; it never reads some other node. Handles cannot
//!   outlive their graph or cross threads: the compiler rejects that.
//! - **Memory.** [`Graph::mark`] + [`Graph::rewind`] (or [`Graph::scope`]) free a training
//!   step's nodes while parameters persist; freed slots are reused, so memory stays flat.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod backward;
pub mod check;
mod counts;
pub mod custom;
pub mod dot;
pub mod fast;
pub mod graph;
pub mod graph_fn;
pub mod guarantees;
pub mod hessian;
pub mod nn;
pub mod op;
mod pull;
pub mod scalar;
pub mod svg;
pub mod tape;
#[cfg(test)]
mod test_support;
#[cfg(feature = "proptest")]
pub mod testing;
pub mod value;
mod var;
pub use tape::versions;

pub use custom::{CustomOp, NaryFn, NaryOp, UnaryFn};
pub use dot::Dot;
pub use graph::{Graph, Mark, NonFinite};
pub use scalar::Scalar;
pub use svg::Svg;
pub use value::Value;
pub use var::Var;

#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The code in the documents of `docs/` runs as tests too.
#[cfg(doctest)]
mod docs {
    #[doc = include_str!("../docs/models.md")]
    pub struct Models;
    #[doc = include_str!("../docs/derivatives.md")]
    pub struct Derivatives;
    #[doc = include_str!("../docs/value.md")]
    pub struct Value;
    #[doc = include_str!("../docs/interop.md")]
    pub struct Interop;
    #[doc = include_str!("../docs/python.md")]
    pub struct Python;
    #[doc = include_str!("../docs/design.md")]
    pub struct Design;
}
