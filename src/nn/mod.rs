//! Neural networks made of scalar neurons, micrograd style: [`Neuron`] → [`Layer`] →
//! [`Mlp`], with losses ([`loss`]), optimizers ([`optim`]), data ([`Dataset`]), JSON
//! save/load (feature `serde`) and micrograd's demo ([`moons`], feature `serde`).
//!
//! # Parameters
//! Every weight and bias is a tracked leaf ([`Graph::var`]) created with the network.
//! [`Mlp::parameters`] lists them in micrograd's order: layer by layer, neuron by neuron,
//! each neuron's `w₀ … wₙ₋₁` then `b`. Random networks come from a seed the caller gives
//! ([`MlpConfig`], [`Init`]); textbook networks from their weights ([`MlpSpec`]).
//!
//! # The training loop: keep memory flat
//! A step records thousands of nodes (forward pass, loss). The parameters must survive
//! the step; those nodes must not. So: build the network and the inputs first, then let
//! each step run between a [`Graph::mark`] and a [`Graph::rewind`]. [`train_step`] does
//! exactly that, so the easy way is the right way:
//!
//! ```
//! use scalargrad::nn::{loss, optim::Sgd, train_step, Mlp, MlpConfig};
//! use scalargrad::Graph;
//!
//! let g = Graph::new();
//! let mlp = Mlp::new(&g, 1, &[8, 1], MlpConfig::new(0));    // parameters: created once
//! let xs: Vec<_> = (0..8).map(|i| vec![g.constant(i as f64 / 8.0)]).collect(); // inputs too
//! let ys: Vec<f64> = (0..8).map(|i| (i as f64 / 8.0).powi(2)).collect();
//! let params = mlp.parameters();
//! let mut opt = Sgd::new(0.1);
//! let live = g.len();
//! let mut losses = Vec::new();
//! for _ in 0..50 {
//!     // mark → zero the parameters' gradients → loss → backward → update → rewind
//!     losses.push(train_step(&g, &params, &mut opt, || {
//!         let pred: Vec<_> = xs.iter().map(|x| mlp.forward(x)[0]).collect();
//!         loss::mse(&pred, &ys)
//!     }));
//!     assert_eq!(g.len(), live); // the step's nodes are gone; their slots get reused
//! }
//! assert!(losses[49] < losses[0]);
//! ```
//!
//! Handles to the step's nodes are stale after it (using one panics with a sentence);
//! return numbers from the closure's surroundings instead, as above. The same pattern by
//! hand is `let mark = g.mark(); …; g.rewind(mark);`, or [`Graph::scope`] for a closure
//! that returns numbers.
//!
//! # Fused or element by element
//! A neuron records `b + Σ wᵢxᵢ` as one [`Graph::affine`] node by default; with
//! [`Fusion::Elementwise`] it records micrograd's chain `act = b; act = act + wᵢ·xᵢ`.
//! Both add in the same order: values, gradients and losses are identical to the bit.

mod data;
mod dense;
mod init;
mod io;
mod layer;
pub mod loss;
mod mlp;
#[cfg(feature = "serde")]
pub mod moons;
mod neuron;
pub mod optim;
pub mod parallel;
#[cfg(feature = "safetensors")]
pub mod safetensors;
mod softmax;
mod spec;

pub use data::Dataset;
pub use dense::dense;
pub use init::Init;
pub use io::Error;
pub use layer::Layer;
pub use mlp::{Mlp, MlpConfig};
pub use neuron::{Activation, CustomActivation, Fusion, Neuron};
pub use optim::Optimizer;
pub use spec::{LayerSpec, MlpSpec};

use crate::{Graph, Var};

/// One training step that leaves the graph as it found it: marks the graph, zeroes the
/// gradients of `params`, records `loss()`, runs `backward` from it, lets `optimizer`
/// update `params`, rewinds to the mark, and returns the loss value.
///
/// `params` (and any inputs) must be created before the call; everything `loss` records
/// is freed when it returns, so memory stays flat however many steps run.
///
/// # Panics
/// If a parameter was freed or is not a leaf, or as `loss` and the optimizer do: every
/// built-in optimizer refuses a `params` that names a node twice (`&[w, w]` would step `w`
/// twice), and [`Momentum`](optim::Momentum) and [`Adam`](optim::Adam) refuse a list other
/// than the one of their first step.
///
/// ```
/// use scalargrad::{nn::{optim::Sgd, train_step}, Graph};
/// let g = Graph::new();
/// let w = g.var(0.0);
/// let mut opt = Sgd::new(0.25);
/// for _ in 0..3 {
///     train_step(&g, &[w], &mut opt, || (w - 2.0) * (w - 2.0));
/// }
/// assert_eq!((w.value(), g.len()), (2.0 - 2.0 / 8.0, 1)); // the gap halves each step
/// ```
pub fn train_step<'g, O: Optimizer + ?Sized>(
    graph: &'g Graph,
    params: &[Var<'g>],
    optimizer: &mut O,
    loss: impl FnOnce() -> Var<'g>,
) -> f64 {
    zero_grad(params);
    // scope frees the step's nodes on return, and while unwinding if the step panics
    graph.scope(|| {
        let total = loss();
        total.backward();
        let value = total.value();
        optimizer.step(params);
        value
    })
}

/// Sets the gradient of each of `params` to 0, leaving every other node alone (unlike
/// [`Graph::zero_grad`], which clears the whole graph).
///
/// # Panics
/// If a handle was freed.
///
/// ```
/// use scalargrad::{nn::zero_grad, Graph};
/// let g = Graph::new();
/// let (a, b) = (g.var(1.0), g.var(2.0));
/// (a * b).backward();
/// zero_grad(&[a]);
/// assert_eq!((a.grad(), b.grad()), (0.0, 1.0));
/// ```
#[track_caller]
pub fn zero_grad(params: &[Var<'_>]) {
    for p in params {
        let mut t = p.graph().tape_mut();
        let i = t.pos(p.id()) as usize;
        t.zero_grad_at(i);
    }
}
