//! One scalar neuron: weights, an optional bias, and an activation.

use std::fmt;

use crate::{Graph, Scalar, Var};

/// The function a neuron applies to its pre-activation `b + Σ wᵢxᵢ`.
///
/// An enum, not micrograd's `nonlin=True` flag: the four choices read at the call site.
///
/// ```
/// use scalargrad::nn::Activation;
/// assert_eq!(Activation::Relu.apply(-2.0), 0.0);
/// assert_eq!(Activation::Linear.apply(-2.0), -2.0);
/// assert_eq!(Activation::Sigmoid.apply(0.0), 0.5);
/// assert_eq!(Activation::Tanh.apply(0.0), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum Activation {
    /// The identity: `y = x` (micrograd's last layer).
    Linear,
    /// `max(x, 0)`, with relu'(0) = 0 (micrograd's hidden layers).
    Relu,
    /// `1 / (1 + e⁻ˣ)`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
    /// A user's own function, made of the engine's ops (see [`CustomActivation`]). Neurons
    /// with it record their activation node by node. It has no name a spec or a
    /// safetensors file loads back.
    #[cfg_attr(feature = "serde", serde(skip))]
    Custom(CustomActivation),
}

/// A user's own activation for [`Activation::Custom`]: a name (shown by `Display`) and a
/// function of one graph node, made of the engine's ops so that its derivatives follow from
/// their rules.
///
/// ```
/// use scalargrad::{nn::{Activation, CustomActivation}, Graph, Var};
/// fn swish(x: Var<'_>) -> Var<'_> {
///     x * x.sigmoid()
/// }
/// let act = Activation::Custom(CustomActivation::new("Swish", swish));
/// let g = Graph::new();
/// let x = g.var(1.0);
/// let y = act.apply(x);
/// y.backward();
/// let s = 1.0 / (1.0 + (-1.0_f64).exp());
/// assert_eq!(y.value(), act.apply(1.0)); // the same number on f64
/// assert!((x.grad() - (s + s * (1.0 - s))).abs() < 1e-15);
/// assert_eq!(act.to_string(), "Swish");
/// ```
#[derive(Clone, Copy)]
pub struct CustomActivation {
    name: &'static str,
    f: for<'g> fn(Var<'g>) -> Var<'g>,
}

impl CustomActivation {
    /// The activation `f`, called `name`.
    ///
    /// See [`CustomActivation`]'s example.
    pub fn new(name: &'static str, f: for<'g> fn(Var<'g>) -> Var<'g>) -> Self {
        CustomActivation { name, f }
    }

    /// Its name.
    ///
    /// ```
    /// use scalargrad::{nn::CustomActivation, Var};
    /// fn cube(x: Var<'_>) -> Var<'_> { x * x * x }
    /// assert_eq!(CustomActivation::new("cube", cube).name(), "cube");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Shows the name.
impl fmt::Debug for CustomActivation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomActivation({:?})", self.name)
    }
}

/// Two custom activations are equal when their names are (function pointers have no
/// reliable identity).
impl PartialEq for CustomActivation {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for CustomActivation {}

impl std::hash::Hash for CustomActivation {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl Activation {
    /// Applies the activation to a number or to a graph node (one node, or none for
    /// [`Activation::Linear`]). On `f64` it rounds exactly as the graph op does.
    ///
    /// ```
    /// use scalargrad::{nn::Activation, Graph};
    /// let g = Graph::new();
    /// let x = g.var(0.3);
    /// assert_eq!(Activation::Tanh.apply(x).value(), Activation::Tanh.apply(0.3));
    /// ```
    pub fn apply<S: Scalar>(self, x: S) -> S {
        match self {
            Activation::Linear => x,
            Activation::Relu => x.relu(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Tanh => x.tanh(),
            Activation::Custom(c) => x.apply_graph_fn(c.f),
        }
    }
}

impl Activation {
    /// The op this activation records on a node at the given position (`None`: linear,
    /// nothing recorded).
    pub(crate) fn op(self) -> Option<fn(u32) -> crate::op::Op> {
        match self {
            Activation::Linear => None,
            Activation::Relu => Some(crate::op::Op::Relu),
            Activation::Sigmoid => Some(crate::op::Op::Sigmoid),
            Activation::Tanh => Some(crate::op::Op::Tanh),
            Activation::Custom(_) => None,
        }
    }
}

impl fmt::Display for Activation {
    /// `Linear`, `ReLU`, `Sigmoid` or `Tanh`, as micrograd's repr names its neurons.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Activation::Linear => "Linear",
            Activation::Relu => "ReLU",
            Activation::Sigmoid => "Sigmoid",
            Activation::Tanh => "Tanh",
            Activation::Custom(c) => c.name,
        })
    }
}

/// How a neuron records its pre-activation `b + w₀x₀ + w₁x₁ + …` in the graph.
///
/// Both paths add in the same left-to-right order starting from `b`, so values, gradients
/// and losses are bit-for-bit identical; the fused one records one node instead of `2·nin`.
///
/// ```
/// use scalargrad::{nn::{Activation, Fusion, Neuron}, Graph};
/// let g = Graph::new();
/// let n = Neuron::new(&g, &[0.5, -1.5], Some(0.25), Activation::Linear);
/// let x = [g.constant(2.0), g.constant(3.0)];
/// let before = g.len();
/// let fused = n.forward_with(&x, Fusion::Fused);
/// assert_eq!(g.len() - before, 1);
/// let chain = n.forward_with(&x, Fusion::Elementwise);
/// assert_eq!(fused.value().to_bits(), chain.value().to_bits());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Fusion {
    /// One [`Graph::affine`] node per neuron (the default, fast).
    #[default]
    Fused,
    /// micrograd's chain: `act = b; act = act + wᵢ·xᵢ`, two nodes per input.
    Elementwise,
}

/// A neuron `activation(b + Σ wᵢxᵢ)` whose weights and bias are tracked leaves of a graph.
///
/// ```
/// use scalargrad::{nn::{Activation, Neuron}, Graph};
/// let g = Graph::new();
/// let n = Neuron::new(&g, &[2.0, -1.0], Some(0.5), Activation::Relu);
/// let y = n.forward(&[g.constant(3.0), g.constant(1.0)]); // relu(0.5 + 6 − 1)
/// y.backward();
/// assert_eq!(y.value(), 5.5);
/// assert_eq!(n.weights()[0].grad(), 3.0);
/// assert_eq!(n.to_string(), "ReLUNeuron(2)");
/// ```
#[derive(Clone, Debug)]
pub struct Neuron<'g> {
    weights: Vec<Var<'g>>,
    bias: Option<Var<'g>>,
    activation: Activation,
}

impl<'g> Neuron<'g> {
    /// A neuron with the given weights and bias (`None`: no bias, as in textbook networks
    /// that leave it out), each a new tracked leaf of `graph`.
    ///
    /// # Panics
    /// If there is neither a weight nor a bias.
    ///
    /// ```
    /// use scalargrad::{nn::{Activation, Neuron}, Graph};
    /// let g = Graph::new();
    /// let n = Neuron::new(&g, &[0.7, 0.3], None, Activation::Sigmoid);
    /// assert_eq!((n.nin(), n.bias().is_none(), n.parameters().len()), (2, true, 2));
    /// ```
    pub fn new(
        graph: &'g Graph,
        weights: &[f64],
        bias: Option<f64>,
        activation: Activation,
    ) -> Self {
        assert!(
            !weights.is_empty() || bias.is_some(),
            "scalargrad: a neuron needs at least one weight or a bias"
        );
        Neuron {
            weights: weights.iter().map(|&w| graph.var(w)).collect(),
            bias: bias.map(|b| graph.var(b)),
            activation,
        }
    }

    /// The weight leaves, one per input.
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Neuron}, Graph};
    /// let g = Graph::new();
    /// let n = Neuron::new(&g, &[0.7, 0.3], Some(0.0), Activation::Linear);
    /// assert_eq!(n.weights()[1].value(), 0.3);
    /// ```
    pub fn weights(&self) -> &[Var<'g>] {
        &self.weights
    }

    /// The bias leaf, if the neuron has one.
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Neuron}, Graph};
    /// let g = Graph::new();
    /// let n = Neuron::new(&g, &[0.7], Some(-0.1), Activation::Linear);
    /// assert_eq!(n.bias().map(|b| b.value()), Some(-0.1));
    /// ```
    pub fn bias(&self) -> Option<Var<'g>> {
        self.bias
    }

    /// The activation.
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Neuron}, Graph};
    /// let g = Graph::new();
    /// assert_eq!(Neuron::new(&g, &[1.0], None, Activation::Tanh).activation(), Activation::Tanh);
    /// ```
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The number of inputs.
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Neuron}, Graph};
    /// let g = Graph::new();
    /// assert_eq!(Neuron::new(&g, &[1.0, 2.0, 3.0], None, Activation::Relu).nin(), 3);
    /// ```
    pub fn nin(&self) -> usize {
        self.weights.len()
    }

    /// `activation(b + Σ wᵢxᵢ)` recorded as one fused node plus the activation
    /// ([`Fusion::Fused`]).
    ///
    /// # Panics
    /// If `x.len()` differs from [`Neuron::nin`], or a handle is foreign or freed.
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Neuron}, Graph};
    /// let g = Graph::new();
    /// let n = Neuron::new(&g, &[2.0], Some(1.0), Activation::Linear);
    /// assert_eq!(n.forward(&[g.constant(4.0)]).value(), 9.0);
    /// ```
    #[track_caller]
    pub fn forward(&self, x: &[Var<'g>]) -> Var<'g> {
        self.forward_with(x, Fusion::Fused)
    }

    /// `activation(b + Σ wᵢxᵢ)` recorded along the chosen [`Fusion`] path.
    ///
    /// # Panics
    /// If `x.len()` differs from [`Neuron::nin`], or a handle is foreign or freed.
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Fusion, Neuron}, Graph};
    /// let g = Graph::new();
    /// let n = Neuron::new(&g, &[2.0], Some(1.0), Activation::Relu);
    /// let y = n.forward_with(&[g.constant(-4.0)], Fusion::Elementwise);
    /// assert_eq!(y.value(), 0.0);
    /// ```
    #[track_caller]
    pub fn forward_with(&self, x: &[Var<'g>], fusion: Fusion) -> Var<'g> {
        assert_eq!(
            x.len(),
            self.weights.len(),
            "scalargrad: a neuron with {} weights was given {} inputs",
            self.weights.len(),
            x.len()
        );
        let act = match fusion {
            Fusion::Fused => self.pre_activation(x),
            Fusion::Elementwise => {
                let mut terms = self.weights.iter().zip(x);
                let mut act = match self.bias {
                    Some(b) => b,
                    None => {
                        let (&w, &xi) = terms.next().expect("a neuron has a weight or a bias");
                        w * xi
                    }
                };
                for (&w, &xi) in terms {
                    act += w * xi;
                }
                act
            }
        };
        self.activation.apply(act)
    }

    /// `b + Σ wᵢxᵢ` as one fused node ([`Graph::affine`], or [`Graph::dot`] without a bias).
    #[track_caller]
    pub(crate) fn pre_activation(&self, x: &[Var<'g>]) -> Var<'g> {
        assert_eq!(
            x.len(),
            self.weights.len(),
            "scalargrad: a neuron with {} weights was given {} inputs",
            self.weights.len(),
            x.len()
        );
        match self.bias {
            Some(b) => b.graph().affine(b, &self.weights, x),
            None => self.weights[0].graph().dot(&self.weights, x),
        }
    }

    /// [`Neuron::pre_activation`] with inputs checked once for the whole layer.
    #[track_caller]
    pub(crate) fn pre_activation_of(&self, x: crate::graph::Inputs<'g>) -> Var<'g> {
        match self.weights.first() {
            Some(w) => w.graph().affine_run(self.bias, &self.weights, x),
            None => panic!("scalargrad: a neuron with no weights was given inputs"),
        }
    }

    /// The neuron's output on plain numbers, with no node recorded: the same additions in
    /// the same order as [`Neuron::forward`], so the same bits.
    ///
    /// # Panics
    /// If `x.len()` differs from [`Neuron::nin`].
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Neuron}, Graph};
    /// let g = Graph::new();
    /// let n = Neuron::new(&g, &[0.1, 0.2], Some(0.3), Activation::Sigmoid);
    /// let y = n.forward(&[g.constant(0.4), g.constant(0.5)]).value();
    /// assert_eq!(n.predict(&[0.4, 0.5]), y);
    /// ```
    #[track_caller]
    pub fn predict(&self, x: &[f64]) -> f64 {
        let weights: Vec<f64> = self.weights.iter().map(|w| w.value()).collect();
        let bias = self.bias.map(|b| b.value());
        eval_neuron(&weights, bias, self.activation, x)
    }

    /// The parameters in micrograd's order: `w₀ … wₙ₋₁`, then `b`.
    ///
    /// ```
    /// # use scalargrad::{nn::{Activation, Neuron}, Graph};
    /// let g = Graph::new();
    /// let n = Neuron::new(&g, &[1.0, 2.0], Some(3.0), Activation::Relu);
    /// let v: Vec<f64> = n.parameters().iter().map(|p| p.value()).collect();
    /// assert_eq!(v, [1.0, 2.0, 3.0]);
    /// ```
    pub fn parameters(&self) -> Vec<Var<'g>> {
        let mut out = Vec::with_capacity(self.weights.len() + 1);
        self.push_parameters(&mut out);
        out
    }

    pub(crate) fn push_parameters(&self, out: &mut Vec<Var<'g>>) {
        out.extend_from_slice(&self.weights);
        out.extend(self.bias);
    }
}

impl fmt::Display for Neuron<'_> {
    /// micrograd's repr: `ReLUNeuron(2)`, `LinearNeuron(16)`; `, no bias` when there is none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}Neuron({}", self.activation, self.nin())?;
        if self.bias.is_none() {
            f.write_str(", no bias")?;
        }
        f.write_str(")")
    }
}

/// `activation(b + w₀x₀ + w₁x₁ + …)` on numbers, rounding as the fused graph node does.
#[track_caller]
pub(crate) fn eval_neuron(weights: &[f64], bias: Option<f64>, act: Activation, x: &[f64]) -> f64 {
    assert_eq!(
        x.len(),
        weights.len(),
        "scalargrad: a neuron with {} weights was given {} inputs",
        weights.len(),
        x.len()
    );
    let mut terms = weights.iter().zip(x);
    let mut acc = match bias {
        Some(b) => b,
        None => match terms.next() {
            Some((w, xi)) => w * xi,
            None => panic!("scalargrad: a neuron needs at least one weight or a bias"),
        },
    };
    for (w, xi) in terms {
        acc += w * xi;
    }
    act.apply(acc)
}
