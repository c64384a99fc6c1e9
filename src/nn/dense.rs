//! [`dense`]: a dense layer from your own parameters, at the speed of [`Layer`](super::Layer).

use super::Activation;
use crate::graph::rows;
use crate::Var;

/// A dense layer made of your own parameters: output `j` is `activation(b_j + Σᵢ w_{j,i}·xᵢ)`,
/// with `weights[j]` the weights of neuron `j` and `biases[j]` its bias (or none).
///
/// When the parameters were created neuron after neuron (each neuron's weights, then its
/// bias, one [`Graph::var`](crate::Graph::var) after another, as a user's own layer
/// usually makes them), the layer is recorded as *rows* (the fast path
/// [`nn::Layer`](super::Layer) takes: computed and pulled back a layer at a time);
/// otherwise as one [`Graph::affine`](crate::Graph::affine) (or [`Graph::dot`](crate::Graph::dot))
/// per neuron and its activation. Values and gradients are the same bits either way.
///
/// # Panics
/// If `x` or `weights` is empty, a neuron's weights are not as many as the inputs, there are
/// biases but not one per neuron, or a handle is from another graph or freed.
///
/// ```
/// use scalargrad::{nn::{dense, Activation}, Graph, Var};
/// let g = Graph::new();
/// // your own layer of 3 neurons over 2 inputs: weights, then bias, neuron after neuron
/// let mut weights = Vec::new();
/// let mut biases = Vec::new();
/// for j in 0..3 {
///     weights.push(vec![g.var(0.1 * j as f64), g.var(-0.2)]);
///     biases.push(g.var(0.5));
/// }
/// let x = [g.constant(1.0), g.constant(2.0)];
/// let y = dense(&x, &weights, Some(&biases), Activation::Relu);
/// let by_hand: Vec<Var> = (0..3)
///     .map(|j| g.affine(biases[j], &weights[j], &x).relu())
///     .collect();
/// assert_eq!(y.iter().map(|v| v.value()).collect::<Vec<_>>(),
///            by_hand.iter().map(|v| v.value()).collect::<Vec<_>>());
/// ```
#[track_caller]
pub fn dense<'g, W: AsRef<[Var<'g>]>>(
    x: &[Var<'g>],
    weights: &[W],
    biases: Option<&[Var<'g>]>,
    activation: Activation,
) -> Vec<Var<'g>> {
    assert!(!x.is_empty(), "scalargrad: nn::dense of no inputs");
    assert!(!weights.is_empty(), "scalargrad: nn::dense of no neurons");
    let (nin, nout) = (x.len(), weights.len());
    for (j, w) in weights.iter().enumerate() {
        assert_eq!(
            w.as_ref().len(),
            nin,
            "scalargrad: nn::dense: neuron {j} has {} weights for {nin} inputs",
            w.as_ref().len()
        );
    }
    if let Some(b) = biases {
        assert_eq!(
            b.len(),
            nout,
            "scalargrad: nn::dense: {} biases for {nout} neurons",
            b.len()
        );
    }
    let graph = x[0].graph();
    let custom = matches!(activation, Activation::Custom(_));
    if let Some(block) = rows::layer_param_block(graph, weights, biases, nin) {
        let inputs = graph.inputs(x);
        let op = if custom { None } else { activation.op() };
        if let Some(out) = rows::affine_rows(graph, block, nout, biases.is_some(), inputs, op) {
            return if custom {
                out.into_iter().map(|y| activation.apply(y)).collect()
            } else {
                out
            };
        }
    }
    weights
        .iter()
        .enumerate()
        .map(|(j, w)| {
            let pre = match biases {
                Some(b) => graph.affine(b[j], w.as_ref(), x),
                None => graph.dot(w.as_ref(), x),
            };
            activation.apply(pre)
        })
        .collect()
}
