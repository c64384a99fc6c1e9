//! A layer: neurons that all read the same inputs.

use std::fmt;

use super::neuron::{Activation, Fusion, Neuron};
use super::spec::LayerSpec;
use crate::graph::rows;
use crate::graph::Inputs;
use crate::{Graph, Var};

/// Neurons side by side, each reading the same inputs; one output per neuron.
///
/// ```
/// use scalargrad::{nn::{Activation, Layer, Neuron}, Graph};
/// let g = Graph::new();
/// let layer = Layer::new(vec![
///     Neuron::new(&g, &[1.0, 0.0], Some(0.0), Activation::Linear),
///     Neuron::new(&g, &[0.0, 1.0], Some(0.5), Activation::Linear),
/// ]);
/// let y = layer.forward(&[g.constant(2.0), g.constant(3.0)]);
/// assert_eq!((y[0].value(), y[1].value()), (2.0, 3.5));
/// assert_eq!(layer.to_string(), "Layer of [LinearNeuron(2) × 2]");
/// ```
#[derive(Clone, Debug)]
pub struct Layer<'g> {
    neurons: Vec<Neuron<'g>>,
    /// The parameters as one block (first, last, count) when they were created neuron after
    /// neuron as [`Neuron::new`] does: the layer is then recorded as rows of one op
    /// (`fast::rows::affine_rows`).
    block: Option<(Var<'g>, Var<'g>, usize)>,
    /// The activation every neuron has, if they all have the same one (recorded with the
    /// rows then).
    activation: Option<Activation>,
}

impl<'g> Layer<'g> {
    /// A layer of the given neurons.
    ///
    /// # Panics
    /// If `neurons` is empty or the neurons do not all take the same number of inputs.
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Layer, Neuron}, Graph};
    /// let g = Graph::new();
    /// let n = || Neuron::new(&g, &[0.1, 0.2, 0.3], None, Activation::Relu);
    /// let layer = Layer::new(vec![n(), n()]);
    /// assert_eq!((layer.nin(), layer.nout()), (3, 2));
    /// ```
    pub fn new(neurons: Vec<Neuron<'g>>) -> Self {
        assert!(
            !neurons.is_empty(),
            "scalargrad: a layer needs at least one neuron"
        );
        let nin = neurons[0].nin();
        if let Some(j) = neurons.iter().position(|n| n.nin() != nin) {
            panic!(
                "scalargrad: neuron {j} of a layer takes {} inputs but neuron 0 takes {nin}",
                neurons[j].nin()
            );
        }
        let block = Self::block_of(&neurons);
        let first = neurons[0].activation();
        let activation = neurons
            .iter()
            .all(|n| n.activation() == first)
            .then_some(first);
        Layer {
            neurons,
            block,
            activation,
        }
    }

    /// [`Layer::block`] if the parameters form one (see `fast::rows::is_param_block`): every
    /// neuron has at least one weight, all have a bias or none has.
    fn block_of(neurons: &[Neuron<'g>]) -> Option<(Var<'g>, Var<'g>, usize)> {
        let has_bias = neurons[0].bias().is_some();
        if neurons[0].nin() == 0 || neurons.iter().any(|n| n.bias().is_some() != has_bias) {
            return None;
        }
        let mut params = Vec::new();
        for n in neurons {
            n.push_parameters(&mut params);
        }
        let (first, last) = (params[0], params[params.len() - 1]);
        rows::is_param_block(first.graph(), &params).then_some((first, last, params.len()))
    }

    /// A layer with the weights, biases and activation of `spec`, each a new leaf of
    /// `graph`. The spec's shape is checked by [`MlpSpec::check`](super::MlpSpec::check).
    pub(crate) fn from_spec(graph: &'g Graph, spec: &LayerSpec) -> Self {
        let neurons = spec
            .weights
            .iter()
            .enumerate()
            .map(|(j, w)| {
                let b = spec.biases.as_ref().map(|b| b[j]);
                Neuron::new(graph, w, b, spec.activation)
            })
            .collect();
        Layer::new(neurons)
    }

    /// The neurons.
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Layer, Neuron}, Graph};
    /// let g = Graph::new();
    /// let layer = Layer::new(vec![Neuron::new(&g, &[1.0], None, Activation::Tanh)]);
    /// assert_eq!(layer.neurons()[0].activation(), Activation::Tanh);
    /// ```
    pub fn neurons(&self) -> &[Neuron<'g>] {
        &self.neurons
    }

    /// The number of inputs each neuron takes.
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Layer, Neuron}, Graph};
    /// let g = Graph::new();
    /// assert_eq!(Layer::new(vec![Neuron::new(&g, &[1.0; 4], None, Activation::Relu)]).nin(), 4);
    /// ```
    pub fn nin(&self) -> usize {
        self.neurons[0].nin()
    }

    /// The number of neurons (outputs).
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Layer, Neuron}, Graph};
    /// let g = Graph::new();
    /// let n = || Neuron::new(&g, &[1.0], None, Activation::Relu);
    /// assert_eq!(Layer::new(vec![n(), n(), n()]).nout(), 3);
    /// ```
    pub fn nout(&self) -> usize {
        self.neurons.len()
    }

    /// Every neuron's output, fused ([`Fusion::Fused`]).
    ///
    /// # Panics
    /// If `x.len()` differs from [`Layer::nin`].
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Layer, Neuron}, Graph};
    /// let g = Graph::new();
    /// let layer = Layer::new(vec![Neuron::new(&g, &[-1.0], Some(0.0), Activation::Relu)]);
    /// assert_eq!(layer.forward(&[g.constant(2.0)])[0].value(), 0.0);
    /// ```
    #[track_caller]
    pub fn forward(&self, x: &[Var<'g>]) -> Vec<Var<'g>> {
        self.forward_with(x, Fusion::Fused)
    }

    /// Every neuron's output, recorded along the chosen [`Fusion`] path.
    ///
    /// # Panics
    /// If `x.len()` differs from [`Layer::nin`].
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Fusion, Layer, Neuron}, Graph};
    /// let g = Graph::new();
    /// let layer = Layer::new(vec![Neuron::new(&g, &[3.0], Some(1.0), Activation::Linear)]);
    /// assert_eq!(layer.forward_with(&[g.constant(2.0)], Fusion::Elementwise)[0].value(), 7.0);
    /// ```
    #[track_caller]
    pub fn forward_with(&self, x: &[Var<'g>], fusion: Fusion) -> Vec<Var<'g>> {
        match fusion {
            // Every pre-activation, then every activation: the layer's outputs sit at
            // consecutive positions, so the next layer's neurons read them as one run (a
            // contiguous dot product forward and `axpy` backward; see `tape`).
            Fusion::Fused => {
                // the inputs are checked once for all neurons
                let mut out: Vec<Var<'g>> = match x.first() {
                    Some(x0) if x.len() == self.nin() => {
                        let xs = x0.graph().inputs(x);
                        if let Some(out) = self.forward_run(xs) {
                            return out.vars();
                        }
                        // neurons of different activations: rows, each activation below
                        let rows = self.block.and_then(|block| {
                            let has_bias = self.neurons[0].bias().is_some();
                            let g = block.0.graph();
                            rows::affine_rows(g, block, self.nout(), has_bias, xs, None)
                        });
                        rows.unwrap_or_else(|| {
                            self.neurons
                                .iter()
                                .map(|n| n.pre_activation_of(xs))
                                .collect()
                        })
                    }
                    _ => self.neurons.iter().map(|n| n.pre_activation(x)).collect(),
                };
                for (y, n) in out.iter_mut().zip(&self.neurons) {
                    *y = n.activation().apply(*y);
                }
                out
            }
            Fusion::Elementwise => self
                .neurons
                .iter()
                .map(|n| n.forward_with(x, fusion))
                .collect(),
        }
    }

    /// The fused forward pass of a layer whose neurons share one activation, recorded as
    /// rows (see `fast::rows::affine_rows`), its outputs a run of nodes for the next layer:
    /// `None` (nothing recorded) when the layer cannot be rows.
    ///
    /// # Panics
    /// As `fast::rows::affine_rows`.
    #[track_caller]
    pub(crate) fn forward_run(&self, x: Inputs<'g>) -> Option<Inputs<'g>> {
        let (block, activation) = (self.block?, self.activation?);
        if let Activation::Custom(_) = activation {
            // recorded node by node, by the general path
            return None;
        }
        if x.len() != self.nin() {
            return None;
        }
        let has_bias = self.neurons[0].bias().is_some();
        let g = block.0.graph();
        rows::affine_rows_run(g, block, self.nout(), has_bias, x, activation.op())
    }

    /// The parameters in micrograd's order: neuron by neuron, each `w₀ … wₙ₋₁, b`.
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Layer, Neuron}, Graph};
    /// let g = Graph::new();
    /// let layer = Layer::new(vec![
    ///     Neuron::new(&g, &[1.0], Some(2.0), Activation::Relu),
    ///     Neuron::new(&g, &[3.0], Some(4.0), Activation::Relu),
    /// ]);
    /// let v: Vec<f64> = layer.parameters().iter().map(|p| p.value()).collect();
    /// assert_eq!(v, [1.0, 2.0, 3.0, 4.0]);
    /// ```
    pub fn parameters(&self) -> Vec<Var<'g>> {
        let mut out = Vec::new();
        self.push_parameters(&mut out);
        out
    }

    pub(crate) fn push_parameters(&self, out: &mut Vec<Var<'g>>) {
        for n in &self.neurons {
            n.push_parameters(out);
        }
    }

    /// The layer's current weights and biases as numbers.
    ///
    /// # Panics
    /// If the neurons differ in activation or some have a bias and some not (possible with
    /// [`Layer::new`]; a spec has one activation and all biases or none per layer).
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Layer, Neuron}, Graph};
    /// let g = Graph::new();
    /// let layer = Layer::new(vec![Neuron::new(&g, &[0.5, 0.25], Some(1.0), Activation::Relu)]);
    /// let spec = layer.to_spec();
    /// assert_eq!((spec.weights, spec.biases), (vec![vec![0.5, 0.25]], Some(vec![1.0])));
    /// ```
    pub fn to_spec(&self) -> LayerSpec {
        let first = &self.neurons[0];
        let activation = first.activation();
        let has_bias = first.bias().is_some();
        for (j, n) in self.neurons.iter().enumerate() {
            assert!(
                n.activation() == activation && n.bias().is_some() == has_bias,
                "scalargrad: neuron {j} of this layer differs from neuron 0 in activation or \
                 bias, which a LayerSpec cannot describe"
            );
        }
        LayerSpec {
            activation,
            weights: self
                .neurons
                .iter()
                .map(|n| n.weights().iter().map(|w| w.value()).collect())
                .collect(),
            biases: has_bias.then(|| {
                self.neurons
                    .iter()
                    .map(|n| n.bias().map_or(0.0, |b| b.value()))
                    .collect()
            }),
        }
    }
}

impl fmt::Display for Layer<'_> {
    /// micrograd's repr, with runs of identical neurons folded:
    /// `Layer of [ReLUNeuron(2) × 16]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Layer of [")?;
        let names: Vec<String> = self.neurons.iter().map(|n| n.to_string()).collect();
        let mut i = 0;
        while i < names.len() {
            let run = names[i..].iter().take_while(|n| **n == names[i]).count();
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(&names[i])?;
            if run > 1 {
                write!(f, " × {run}")?;
            }
            i += run;
        }
        f.write_str("]")
    }
}

/// Whether a layer is recorded as rows is invisible in its numbers (they are the same bits
/// either way, `tests/layer_rows.rs`), so these tests look at the tape.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Activation;
    use crate::tape::word::Tag;

    fn layer<'g>(g: &'g Graph, nin: usize, nout: usize, bias: bool) -> Layer<'g> {
        Layer::new(
            (0..nout)
                .map(|j| {
                    let w: Vec<f64> = (0..nin).map(|i| (i + j) as f64 * 0.1).collect();
                    Neuron::new(g, &w, bias.then_some(0.5), Activation::Relu)
                })
                .collect(),
        )
    }

    /// The tags of the nodes at `pos`…
    fn tags(g: &Graph, pos: impl Iterator<Item = u32>) -> Vec<u64> {
        let t = g.tape();
        pos.map(|p| t.tag_at(p as usize)).collect()
    }

    #[test]
    fn parameters_made_neuron_after_neuron_are_one_block_recorded_as_rows() {
        let g = Graph::new();
        for (nin, nout, bias) in [(2, 16, true), (16, 1, true), (3, 5, false)] {
            let l = layer(&g, nin, nout, bias);
            let params = l.parameters();
            let (first, last, count) = l.block.expect("a block");
            assert_eq!(
                (first.id(), last.id(), count),
                (params[0].id(), params[params.len() - 1].id(), params.len())
            );
            let x: Vec<Var> = (0..nin).map(|i| g.constant(i as f64)).collect();
            let ys = l.forward(&x);
            // the outputs are relus right after the rows; their inputs are the rows
            let rows = ys[0].id().pos - nout as u32;
            assert_eq!(
                tags(&g, rows..rows + nout as u32),
                vec![Tag::ROW; nout],
                "{nin}→{nout}"
            );
            let want: Vec<f64> = l.neurons().iter().map(|n| n.forward(&x).value()).collect();
            let got: Vec<f64> = ys.iter().map(|y| y.value()).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn dense_weights_out_of_place_are_not_a_block() {
        let g = Graph::new();
        // neuron after neuron: two weights, then the bias
        let p: Vec<Var> = (0..6).map(|i| g.var(1.0 + i as f64)).collect();
        let biases = [p[2], p[5]];
        let block = [vec![p[0], p[1]], vec![p[3], p[4]]];
        assert!(rows::layer_param_block(&g, &block, Some(&biases), 2).is_some());
        // one neuron's weights swapped, the biases where a block has them
        let swapped = [vec![p[0], p[1]], vec![p[4], p[3]]];
        assert!(rows::layer_param_block(&g, &swapped, Some(&biases), 2).is_none());
        // through `nn::dense`: one affine per neuron, with the weights as given
        let x = [g.constant(10.0), g.constant(100.0)];
        crate::fast::reset();
        let y = crate::nn::dense(&x, &swapped, Some(&biases), Activation::Linear);
        assert_eq!(y[1].value(), 6.0 + 5.0 * 10.0 + 4.0 * 100.0);
        if cfg!(debug_assertions) {
            assert_eq!(crate::fast::taken().rows_recorded, 0);
        }
    }

    #[test]
    fn other_layouts_are_not_blocks() {
        let g = Graph::new();
        // a bias on some neurons only
        let mixed = Layer::new(vec![
            Neuron::new(&g, &[1.0], Some(1.0), Activation::Relu),
            Neuron::new(&g, &[1.0], None, Activation::Relu),
        ]);
        assert!(mixed.block.is_none());
        let mixed = Layer::new(vec![
            Neuron::new(&g, &[1.0], None, Activation::Relu),
            Neuron::new(&g, &[1.0], Some(1.0), Activation::Relu),
        ]);
        assert!(mixed.block.is_none());
        // no weights
        let bias_only = Layer::new(vec![Neuron::new(&g, &[], Some(1.0), Activation::Relu)]);
        assert!(bias_only.block.is_none());
        // interleaved with other leaves
        let a = Neuron::new(&g, &[1.0, 2.0], Some(0.0), Activation::Relu);
        let _ = g.var(7.0);
        let b = Neuron::new(&g, &[1.0, 2.0], Some(0.0), Activation::Relu);
        let l = Layer::new(vec![a, b]);
        assert!(l.block.is_none());
        let x = [g.constant(1.0), g.constant(1.0)];
        let ys = l.forward(&x);
        let pre = ys[0].id().pos - 1;
        assert_ne!(tags(&g, std::iter::once(pre)), vec![Tag::ROW]);
        assert_eq!(ys[1].value(), 3.0);
        // constants as weights are not tracked leaves
        let c = Layer::new(vec![Neuron::new(&g, &[1.0], None, Activation::Relu)]);
        assert!(c.block.is_some());
        assert!(!rows::is_param_block(
            &g,
            &[g.constant(1.0), g.constant(2.0)]
        ));
        assert!(!rows::is_param_block(&g, &[]));
        // the same positions in another epoch (after a rewind) are not one block
        let m = g.mark();
        let p = g.var(1.0);
        g.rewind(m);
        let q = g.var(2.0);
        let r = g.var(3.0);
        assert!(rows::is_param_block(&g, &[q, r]));
        let stale = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rows::is_param_block(&g, &[p, r])
        }));
        assert!(matches!(stale, Ok(false)));
        // op nodes are not parameters
        let s = q + r;
        let t = q * r;
        assert!(!rows::is_param_block(&g, &[s, t]));
        // handles of another graph
        let h = Graph::new();
        assert!(!rows::is_param_block(&g, &[h.var(1.0), h.var(2.0)]));
    }

    #[test]
    fn rows_check_their_inputs_and_parameters() {
        use crate::test_support::panic_message;
        let g = Graph::new();
        let l = layer(&g, 2, 3, true);
        let other = Graph::new();
        let x = [other.constant(1.0), other.constant(2.0)];
        let msg = panic_message(|| l.forward(&x));
        assert!(msg.contains("another Graph"), "{msg}");

        let m = g.mark();
        let freed = layer(&g, 2, 3, true);
        g.rewind(m);
        let _ = g.var(0.0);
        let x = [g.constant(1.0), g.constant(2.0)];
        let msg = panic_message(|| freed.forward(&x));
        assert!(msg.contains("freed"), "{msg}");
    }
}
