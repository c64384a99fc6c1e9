//! The multilayer perceptron: layers of neurons, one after another.

use std::fmt;

use super::init::{self, Init};
use super::io::Error;
use super::layer::Layer;
use super::neuron::{Activation, Fusion, Neuron};
use super::spec::MlpSpec;
use crate::{Graph, Var};

/// How [`Mlp::new`] builds a random network: the seed (required: there is no hidden global
/// generator), the initialisation, and the activations. [`MlpConfig::new`] gives
/// micrograd's choices: `U[−1, 1]` weights, zero biases, ReLU hidden layers, linear output.
///
/// ```
/// use scalargrad::nn::{Activation, Init, MlpConfig};
/// let c = MlpConfig::new(7).init(Init::Xavier).hidden(Activation::Tanh).output(Activation::Sigmoid);
/// assert_eq!((c.seed, c.init, c.hidden, c.output), (7, Init::Xavier, Activation::Tanh, Activation::Sigmoid));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MlpConfig {
    /// Seed of the ChaCha8 generator that draws the weights.
    pub seed: u64,
    /// Weight distribution.
    pub init: Init,
    /// Activation of every layer but the last.
    pub hidden: Activation,
    /// Activation of the last layer.
    pub output: Activation,
}

impl MlpConfig {
    /// micrograd's network from `seed`: [`Init::Uniform`], ReLU hidden, linear output.
    ///
    /// ```
    /// use scalargrad::nn::{Activation, Init, MlpConfig};
    /// let c = MlpConfig::new(1);
    /// assert_eq!((c.init, c.hidden, c.output), (Init::Uniform, Activation::Relu, Activation::Linear));
    /// ```
    pub fn new(seed: u64) -> Self {
        MlpConfig {
            seed,
            init: Init::Uniform,
            hidden: Activation::Relu,
            output: Activation::Linear,
        }
    }

    /// With another initialisation.
    ///
    /// ```
    /// # use scalargrad::nn::{Init, MlpConfig};
    /// assert_eq!(MlpConfig::new(1).init(Init::He).init, Init::He);
    /// ```
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// With another activation for the hidden layers.
    ///
    /// ```
    /// # use scalargrad::nn::{Activation, MlpConfig};
    /// assert_eq!(MlpConfig::new(1).hidden(Activation::Tanh).hidden, Activation::Tanh);
    /// ```
    pub fn hidden(mut self, activation: Activation) -> Self {
        self.hidden = activation;
        self
    }

    /// With another activation for the output layer.
    ///
    /// ```
    /// # use scalargrad::nn::{Activation, MlpConfig};
    /// assert_eq!(MlpConfig::new(1).output(Activation::Sigmoid).output, Activation::Sigmoid);
    /// ```
    pub fn output(mut self, activation: Activation) -> Self {
        self.output = activation;
        self
    }
}

/// A multilayer perceptron of scalar neurons, every weight and bias a tracked leaf.
///
/// Parameters are created once, with the network, and live as long as the graph: take a
/// [`Graph::mark`] *after* building the network and rewind to it after each training step
/// (see [`train_step`](super::train_step)).
///
/// ```
/// use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
///
/// let g = Graph::new();
/// let mlp = Mlp::new(&g, 2, &[16, 16, 1], MlpConfig::new(42));
/// assert_eq!(mlp.parameters().len(), 337);
/// assert_eq!(
///     mlp.to_string(),
///     "MLP of [Layer of [ReLUNeuron(2) × 16], Layer of [ReLUNeuron(16) × 16], Layer of [LinearNeuron(16)]]"
/// );
/// let y = mlp.forward(&[g.constant(0.5), g.constant(-1.0)]);
/// assert_eq!(y.len(), 1);
/// assert_eq!(mlp.predict(&[0.5, -1.0])[0], y[0].value()); // same bits without a graph
/// ```
#[derive(Clone)]
pub struct Mlp<'g> {
    graph: &'g Graph,
    layers: Vec<Layer<'g>>,
    fusion: Fusion,
}

impl<'g> Mlp<'g> {
    /// A random network with `nin` inputs and layers of `sizes[0]`, `sizes[1]`, … neurons,
    /// drawn from `config.seed`: weights layer by layer, neuron by neuron, in parameter
    /// order; biases 0.
    ///
    /// # Panics
    /// If `sizes` is empty or has a 0, or `nin` is 0.
    ///
    /// ```
    /// use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let a = Mlp::new(&g, 3, &[4, 1], MlpConfig::new(5)).to_spec();
    /// let b = Mlp::new(&g, 3, &[4, 1], MlpConfig::new(5)).to_spec();
    /// assert_eq!(a, b); // same seed, same network
    /// ```
    pub fn new(graph: &'g Graph, nin: usize, sizes: &[usize], config: MlpConfig) -> Self {
        assert!(
            nin > 0 && !sizes.is_empty() && !sizes.contains(&0),
            "scalargrad: Mlp::new needs nin > 0 and non-empty layer sizes > 0 (got nin {nin}, \
             sizes {sizes:?})"
        );
        let mut rng = init::rng(config.seed);
        let mut width = nin;
        let layers = sizes
            .iter()
            .enumerate()
            .map(|(l, &nout)| {
                let a = config.init.bound(width, nout);
                let activation = if l + 1 == sizes.len() {
                    config.output
                } else {
                    config.hidden
                };
                let neurons = (0..nout)
                    .map(|_| {
                        let w: Vec<f64> = (0..width).map(|_| init::draw(&mut rng, a)).collect();
                        Neuron::new(graph, &w, Some(0.0), activation)
                    })
                    .collect();
                width = nout;
                Layer::new(neurons)
            })
            .collect();
        Mlp {
            graph,
            layers,
            fusion: Fusion::Fused,
        }
    }

    /// A network with the given weights (textbook networks give theirs), each a new tracked
    /// leaf of `graph`.
    ///
    /// # Errors
    /// [`Error::Shape`] if the spec's shapes do not fit together ([`MlpSpec::check`]).
    ///
    /// ```
    /// use scalargrad::{nn::{Activation, LayerSpec, Mlp, MlpSpec}, Graph};
    /// // seed 001's 2-2-2 sigmoid network without biases
    /// let layer = |w: [[f64; 2]; 2]| LayerSpec {
    ///     activation: Activation::Sigmoid,
    ///     weights: w.iter().map(|r| r.to_vec()).collect(),
    ///     biases: None,
    /// };
    /// let spec = MlpSpec { nin: 2, layers: vec![layer([[0.7, 0.3], [0.2, 0.4]]), layer([[0.1, 0.5], [0.8, 0.4]])] };
    /// let g = Graph::new();
    /// let mlp = Mlp::from_spec(&g, &spec)?;
    /// let t = mlp.predict(&[2.0, 4.0]);
    /// assert!((t[0] - 0.63029549).abs() < 1e-8 && (t[1] - 0.74969909).abs() < 1e-8);
    /// assert_eq!(mlp.to_spec(), spec);
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn from_spec(graph: &'g Graph, spec: &MlpSpec) -> Result<Self, Error> {
        spec.check()?;
        Ok(Mlp {
            graph,
            layers: spec
                .layers
                .iter()
                .map(|l| Layer::from_spec(graph, l))
                .collect(),
            fusion: Fusion::Fused,
        })
    }

    /// A network of the given layers.
    ///
    /// # Panics
    /// If `layers` is empty or a layer's `nin` differs from the previous layer's `nout`.
    ///
    /// ```
    /// use scalargrad::{nn::{Activation, Layer, Mlp, Neuron}, Graph};
    /// let g = Graph::new();
    /// let l1 = Layer::new(vec![Neuron::new(&g, &[2.0], Some(0.0), Activation::Relu)]);
    /// let l2 = Layer::new(vec![Neuron::new(&g, &[3.0], Some(1.0), Activation::Linear)]);
    /// let mlp = Mlp::from_layers(&g, vec![l1, l2]);
    /// assert_eq!(mlp.predict(&[1.0]), [7.0]);
    /// ```
    pub fn from_layers(graph: &'g Graph, layers: Vec<Layer<'g>>) -> Self {
        assert!(
            !layers.is_empty(),
            "scalargrad: an Mlp needs at least one layer"
        );
        for (l, pair) in layers.windows(2).enumerate() {
            assert_eq!(
                pair[0].nout(),
                pair[1].nin(),
                "scalargrad: layer {l} has {} outputs but layer {} takes {} inputs",
                pair[0].nout(),
                l + 1,
                pair[1].nin()
            );
        }
        for p in layers.iter().flat_map(Layer::parameters) {
            graph.check_same(p);
        }
        Mlp {
            graph,
            layers,
            fusion: Fusion::Fused,
        }
    }

    /// The graph the parameters live in.
    ///
    /// ```
    /// # use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// assert!(std::ptr::eq(Mlp::new(&g, 1, &[1], MlpConfig::new(0)).graph(), &g));
    /// ```
    pub fn graph(&self) -> &'g Graph {
        self.graph
    }

    /// The layers, input side first.
    ///
    /// ```
    /// # use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 2, &[3, 1], MlpConfig::new(0));
    /// assert_eq!(mlp.layers()[0].nout(), 3);
    /// ```
    pub fn layers(&self) -> &[Layer<'g>] {
        &self.layers
    }

    /// The widths, inputs first: `[nin, n₁, n₂, …]`.
    ///
    /// ```
    /// # use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// assert_eq!(Mlp::new(&g, 2, &[16, 16, 1], MlpConfig::new(0)).sizes(), [2, 16, 16, 1]);
    /// ```
    pub fn sizes(&self) -> Vec<usize> {
        std::iter::once(self.layers[0].nin())
            .chain(self.layers.iter().map(Layer::nout))
            .collect()
    }

    /// How neurons record their pre-activation ([`Fusion::Fused`] unless changed).
    ///
    /// ```
    /// # use scalargrad::{nn::{Fusion, Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// assert_eq!(Mlp::new(&g, 1, &[1], MlpConfig::new(0)).fusion(), Fusion::Fused);
    /// ```
    pub fn fusion(&self) -> Fusion {
        self.fusion
    }

    /// The same network, recording neurons along another [`Fusion`] path (same parameters,
    /// same bits; only the number of nodes changes).
    ///
    /// ```
    /// # use scalargrad::{nn::{Fusion, Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 2, &[3, 1], MlpConfig::new(0));
    /// let x = [g.constant(0.5), g.constant(0.25)];
    /// let fused = mlp.forward(&x)[0].value();
    /// let mlp = mlp.with_fusion(Fusion::Elementwise);
    /// assert_eq!(mlp.forward(&x)[0].value().to_bits(), fused.to_bits());
    /// ```
    pub fn with_fusion(mut self, fusion: Fusion) -> Self {
        self.fusion = fusion;
        self
    }

    /// The outputs for inputs `x` (usually [`Graph::constant`]s, or leaves to differentiate
    /// with respect to the inputs).
    ///
    /// # Panics
    /// If `x.len()` differs from the number of inputs, or a handle is foreign or freed.
    ///
    /// ```
    /// # use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 2, &[4, 3], MlpConfig::new(0));
    /// assert_eq!(mlp.forward(&[g.constant(1.0), g.constant(2.0)]).len(), 3);
    /// ```
    #[track_caller]
    pub fn forward(&self, x: &[Var<'g>]) -> Vec<Var<'g>> {
        let mut layers = &self.layers[..];
        let mut out;
        match x.first() {
            // Layers recorded as rows hand their outputs to the next layer as a run of
            // positions: no handles made, nothing checked again, until the last layer.
            Some(x0) if self.fusion == Fusion::Fused && x.len() == self.layers[0].nin() => {
                let mut xs = x0.graph().inputs(x);
                while let Some((layer, rest)) = layers.split_first() {
                    match layer.forward_run(xs) {
                        Some(next) => (xs, layers) = (next, rest),
                        None => break,
                    }
                }
                if layers.len() < self.layers.len() {
                    out = xs.vars();
                } else {
                    out = layers[0].forward_with(x, self.fusion);
                    layers = &layers[1..];
                }
            }
            _ => {
                out = layers[0].forward_with(x, self.fusion);
                layers = &layers[1..];
            }
        }
        for layer in layers {
            out = layer.forward_with(&out, self.fusion);
        }
        out
    }

    /// The outputs for numbers `x`, computed without recording a node (same bits as
    /// [`Mlp::forward`]).
    ///
    /// # Panics
    /// If `x.len()` differs from the number of inputs.
    ///
    /// ```
    /// # use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 2, &[4, 1], MlpConfig::new(0));
    /// let before = g.len();
    /// let y = mlp.predict(&[1.0, 2.0]);
    /// assert_eq!((y.len(), g.len()), (1, before));
    /// ```
    #[track_caller]
    pub fn predict(&self, x: &[f64]) -> Vec<f64> {
        self.to_spec().predict(x)
    }

    /// Every weight and bias in micrograd's order: layer by layer, neuron by neuron, each
    /// neuron's `w₀ … wₙ₋₁` then `b`.
    ///
    /// ```
    /// # use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 2, &[3, 1], MlpConfig::new(0));
    /// let p = mlp.parameters();
    /// assert_eq!(p.len(), 3 * 3 + 4);
    /// assert_eq!(p[2].value(), 0.0); // neuron 0's bias, after its two weights
    /// ```
    pub fn parameters(&self) -> Vec<Var<'g>> {
        let mut out = Vec::new();
        for layer in &self.layers {
            layer.push_parameters(&mut out);
        }
        out
    }

    /// The parameters' current values, in [`Mlp::parameters`] order.
    ///
    /// ```
    /// # use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 2, &[3, 1], MlpConfig::new(0));
    /// assert_eq!(mlp.parameter_values(), mlp.to_spec().parameters());
    /// ```
    pub fn parameter_values(&self) -> Vec<f64> {
        self.parameters().iter().map(|p| p.value()).collect()
    }

    /// Sets every parameter, in [`Mlp::parameters`] order (restart training from saved
    /// values without building a new network).
    ///
    /// # Panics
    /// If `values` does not have one number per parameter.
    ///
    /// ```
    /// # use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 1, &[1], MlpConfig::new(0));
    /// mlp.set_parameter_values(&[2.0, 0.5]);
    /// assert_eq!(mlp.predict(&[3.0]), [6.5]);
    /// ```
    #[track_caller]
    pub fn set_parameter_values(&self, values: &[f64]) {
        let params = self.parameters();
        assert_eq!(
            values.len(),
            params.len(),
            "scalargrad: {} values for a network of {} parameters",
            values.len(),
            params.len()
        );
        for (p, &v) in params.iter().zip(values) {
            p.set_value(v);
        }
    }

    /// Sets every parameter's gradient to 0 (and nothing else in the graph).
    ///
    /// ```
    /// # use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 1, &[1], MlpConfig::new(0));
    /// mlp.forward(&[g.constant(2.0)])[0].backward();
    /// assert_eq!(mlp.parameters()[0].grad(), 2.0);
    /// mlp.zero_grad();
    /// assert_eq!(mlp.parameters()[0].grad(), 0.0);
    /// ```
    pub fn zero_grad(&self) {
        super::zero_grad(&self.parameters());
    }

    /// The current weights and biases as numbers (what [`Mlp::from_spec`] takes and the
    /// JSON files hold).
    ///
    /// # Panics
    /// If a layer built with [`Layer::new`] mixes activations or bias/no bias.
    ///
    /// ```
    /// # use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 2, &[3, 1], MlpConfig::new(0));
    /// let spec = mlp.to_spec();
    /// let copy = Mlp::from_spec(&g, &spec).unwrap();
    /// assert_eq!(copy.predict(&[0.1, 0.2]), mlp.predict(&[0.1, 0.2]));
    /// ```
    pub fn to_spec(&self) -> MlpSpec {
        MlpSpec {
            nin: self.layers[0].nin(),
            layers: self.layers.iter().map(Layer::to_spec).collect(),
        }
    }
}

impl fmt::Display for Mlp<'_> {
    /// micrograd's repr, runs of identical neurons folded:
    /// `MLP of [Layer of [ReLUNeuron(2) × 16], …, Layer of [LinearNeuron(16)]]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MLP of [")?;
        for (l, layer) in self.layers.iter().enumerate() {
            if l > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{layer}")?;
        }
        f.write_str("]")
    }
}

impl fmt::Debug for Mlp<'_> {
    /// The shape, not 337 parameter values: `Mlp { sizes: [2, 16, 16, 1], parameters: 337, … }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mlp")
            .field("sizes", &self.sizes())
            .field(
                "activations",
                &self
                    .layers
                    .iter()
                    .map(|l| l.neurons()[0].activation())
                    .collect::<Vec<_>>(),
            )
            .field("parameters", &self.parameters().len())
            .field("fusion", &self.fusion)
            .finish()
    }
}
