//! A network as plain numbers: the shape, activations, weights and biases, with no graph.
//!
//! [`Mlp::from_spec`](super::Mlp::from_spec) builds a network from a spec (textbook networks
//! give their weights), [`Mlp::to_spec`](super::Mlp::to_spec) reads the current weights back,
//! and with the `serde` feature a spec is what is saved as JSON.

use super::io::Error;
use super::neuron::{eval_neuron, Activation};

/// One layer as numbers: `weights[j]` are the input weights of neuron `j`, `biases[j]` its
/// bias (`None`: the layer's neurons have no bias).
///
/// In JSON the activation is `"activation": "relu"` (or `"linear"`, `"sigmoid"`, `"tanh"`);
/// the older form `"relu": true/false` (micrograd's `nonlin`, as in `data/moons_mlp_init.json`)
/// is read too.
///
/// ```
/// use scalargrad::nn::{Activation, LayerSpec};
/// let layer = LayerSpec {
///     activation: Activation::Sigmoid,
///     weights: vec![vec![0.7, 0.3], vec![0.2, 0.4]],
///     biases: None,
/// };
/// assert_eq!((layer.nin(), layer.nout()), (2, 2));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "RawLayer")
)]
pub struct LayerSpec {
    /// The activation of every neuron of the layer.
    pub activation: Activation,
    /// `weights[j][i]`: weight of input `i` in neuron `j`.
    pub weights: Vec<Vec<f64>>,
    /// `biases[j]`: bias of neuron `j`, or `None` for a layer without biases.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub biases: Option<Vec<f64>>,
}

impl LayerSpec {
    /// The number of inputs (of neuron 0; [`MlpSpec::check`] checks they agree).
    ///
    /// ```
    /// # use scalargrad::nn::{Activation, LayerSpec};
    /// let l = LayerSpec { activation: Activation::Relu, weights: vec![vec![1.0; 3]], biases: None };
    /// assert_eq!(l.nin(), 3);
    /// ```
    pub fn nin(&self) -> usize {
        self.weights.first().map_or(0, Vec::len)
    }

    /// The number of neurons.
    ///
    /// ```
    /// # use scalargrad::nn::{Activation, LayerSpec};
    /// let l = LayerSpec { activation: Activation::Relu, weights: vec![vec![1.0]; 5], biases: None };
    /// assert_eq!(l.nout(), 5);
    /// ```
    pub fn nout(&self) -> usize {
        self.weights.len()
    }
}

/// A whole multilayer perceptron as numbers.
///
/// ```
/// use scalargrad::nn::{Activation, LayerSpec, MlpSpec};
/// let spec = MlpSpec {
///     nin: 1,
///     layers: vec![LayerSpec {
///         activation: Activation::Relu,
///         weights: vec![vec![2.0]],
///         biases: Some(vec![-1.0]),
///     }],
/// };
/// assert!(spec.check().is_ok());
/// assert_eq!(spec.predict(&[3.0]), vec![5.0]);
/// assert_eq!(spec.parameter_count(), 2);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct MlpSpec {
    /// The number of inputs.
    pub nin: usize,
    /// The layers, input side first.
    pub layers: Vec<LayerSpec>,
}

impl MlpSpec {
    /// Checks the shape: at least one input (as [`Mlp::new`](super::Mlp::new) asks), at
    /// least one layer, every layer at least one neuron, every neuron as many weights as the
    /// layer before has outputs (`nin` for the first), and as many biases as neurons.
    ///
    /// # Errors
    /// [`Error::Shape`] naming the first layer and neuron that does not fit.
    ///
    /// ```
    /// use scalargrad::nn::{Activation, LayerSpec, MlpSpec};
    /// let spec = MlpSpec {
    ///     nin: 2,
    ///     layers: vec![LayerSpec { activation: Activation::Relu, weights: vec![vec![1.0]], biases: None }],
    /// };
    /// let err = spec.check().unwrap_err().to_string();
    /// assert!(err.contains("layer 0, neuron 0 has 1 weights but 2 inputs"), "{err}");
    /// let none = MlpSpec { nin: 0, layers: vec![LayerSpec { activation: Activation::Relu, weights: vec![vec![]], biases: Some(vec![1.0]) }] };
    /// assert_eq!(none.check().unwrap_err().to_string(), "bad network shape: a network needs at least one input (nin is 0)");
    /// ```
    pub fn check(&self) -> Result<(), Error> {
        if self.nin == 0 {
            return Err(Error::Shape(
                "a network needs at least one input (nin is 0)".into(),
            ));
        }
        if self.layers.is_empty() {
            return Err(Error::Shape("a network needs at least one layer".into()));
        }
        let mut width = self.nin;
        for (l, layer) in self.layers.iter().enumerate() {
            if layer.weights.is_empty() {
                return Err(Error::Shape(format!("layer {l} has no neuron")));
            }
            for (j, w) in layer.weights.iter().enumerate() {
                if w.len() != width {
                    return Err(Error::Shape(format!(
                        "layer {l}, neuron {j} has {} weights but {width} inputs",
                        w.len()
                    )));
                }
            }
            if let Some(b) = &layer.biases {
                if b.len() != layer.weights.len() {
                    return Err(Error::Shape(format!(
                        "layer {l} has {} biases for {} neurons",
                        b.len(),
                        layer.weights.len()
                    )));
                }
            }
            width = layer.weights.len();
        }
        Ok(())
    }

    /// The layer widths, inputs first: `[nin, n₁, n₂, …]`.
    ///
    /// ```
    /// # use scalargrad::nn::{Activation, LayerSpec, MlpSpec};
    /// let l = |nin, nout| LayerSpec { activation: Activation::Relu, weights: vec![vec![0.0; nin]; nout], biases: None };
    /// let spec = MlpSpec { nin: 2, layers: vec![l(2, 3), l(3, 1)] };
    /// assert_eq!(spec.sizes(), [2, 3, 1]);
    /// ```
    pub fn sizes(&self) -> Vec<usize> {
        std::iter::once(self.nin)
            .chain(self.layers.iter().map(LayerSpec::nout))
            .collect()
    }

    /// The number of parameters (weights and biases).
    ///
    /// ```
    /// # use scalargrad::nn::{Activation, LayerSpec, MlpSpec};
    /// let l = LayerSpec { activation: Activation::Relu, weights: vec![vec![0.0; 2]; 3], biases: Some(vec![0.0; 3]) };
    /// assert_eq!(MlpSpec { nin: 2, layers: vec![l] }.parameter_count(), 9);
    /// ```
    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| {
                l.weights.iter().map(Vec::len).sum::<usize>()
                    + l.biases.as_ref().map_or(0, Vec::len)
            })
            .sum()
    }

    /// The parameters in micrograd's order (layer by layer, neuron by neuron, `w₀ … b`).
    ///
    /// ```
    /// # use scalargrad::nn::{Activation, LayerSpec, MlpSpec};
    /// let l = LayerSpec { activation: Activation::Relu, weights: vec![vec![1.0, 2.0], vec![4.0, 5.0]], biases: Some(vec![3.0, 6.0]) };
    /// assert_eq!(MlpSpec { nin: 2, layers: vec![l] }.parameters(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// ```
    pub fn parameters(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.parameter_count());
        for layer in &self.layers {
            for (j, w) in layer.weights.iter().enumerate() {
                out.extend_from_slice(w);
                if let Some(b) = &layer.biases {
                    out.push(b[j]);
                }
            }
        }
        out
    }

    /// The network's outputs on plain numbers, no graph involved: the same additions in the
    /// same order as [`Mlp::forward`](super::Mlp::forward), so the same bits. Fast enough to
    /// draw a decision boundary on a fine grid.
    ///
    /// # Panics
    /// If `x.len()` differs from `nin`, or the spec is malformed (see [`MlpSpec::check`]).
    ///
    /// ```
    /// # use scalargrad::nn::{Activation, LayerSpec, MlpSpec};
    /// let l = LayerSpec { activation: Activation::Linear, weights: vec![vec![1.0, 1.0]], biases: Some(vec![0.5]) };
    /// assert_eq!(MlpSpec { nin: 2, layers: vec![l] }.predict(&[1.0, 2.0]), [3.5]);
    /// ```
    #[track_caller]
    pub fn predict(&self, x: &[f64]) -> Vec<f64> {
        assert_eq!(
            x.len(),
            self.nin,
            "scalargrad: a network with {} inputs was given {}",
            self.nin,
            x.len()
        );
        let mut input = x.to_vec();
        for layer in &self.layers {
            input = layer
                .weights
                .iter()
                .enumerate()
                .map(|(j, w)| {
                    let b = layer.biases.as_ref().map(|b| b[j]);
                    eval_neuron(w, b, layer.activation, &input)
                })
                .collect();
        }
        input
    }
}

/// The JSON form of a layer, accepting `"activation"` or the older `"relu": bool`.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)] // a misspelt "bias" must be an error, not a layer without biases
struct RawLayer {
    #[serde(deserialize_with = "exact_rows")]
    weights: Vec<Vec<f64>>,
    #[serde(default)]
    biases: Option<Vec<f64>>,
    #[serde(default)]
    activation: Option<Activation>,
    #[serde(default)]
    relu: Option<bool>,
}

#[cfg(feature = "serde")]
impl TryFrom<RawLayer> for LayerSpec {
    type Error = String;

    fn try_from(raw: RawLayer) -> Result<Self, String> {
        let from_flag = raw.relu.map(|r| {
            if r {
                Activation::Relu
            } else {
                Activation::Linear
            }
        });
        let activation = match (raw.activation, from_flag) {
            (Some(a), Some(b)) if a != b => {
                return Err(format!(
                    "layer says activation {a:?} and relu {:?}, which disagree",
                    raw.relu.unwrap_or_default()
                ))
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => return Err("layer has no `activation` (nor `relu`) field".into()),
        };
        Ok(LayerSpec {
            activation,
            weights: raw.weights,
            biases: raw.biases,
        })
    }
}

/// Reads `[[…], …]` with each row allocated at its exact length: serde's own `Vec<f64>`
/// grows from a capacity of 4, so a layer of one-input neurons held 4 numbers a weight
/// (72 bytes a weight in all, where exact rows take 56). Each row is parsed into one reused
/// buffer and copied out.
#[cfg(feature = "serde")]
fn exact_rows<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Vec<f64>>, D::Error> {
    use serde::de::{DeserializeSeed, SeqAccess, Visitor};

    struct Rows;
    /// One row, parsed into the buffer it holds.
    struct Row<'a>(&'a mut Vec<f64>);

    impl<'de> Visitor<'de> for Rows {
        type Value = Vec<Vec<f64>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of weight rows")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let (mut rows, mut row) = (Vec::new(), Vec::new());
            while seq.next_element_seed(Row(&mut row))?.is_some() {
                rows.push(row.as_slice().to_vec());
            }
            Ok(rows)
        }
    }

    impl<'de> DeserializeSeed<'de> for Row<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for Row<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of numbers (one neuron's weights)")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            self.0.clear();
            while let Some(w) = seq.next_element::<f64>()? {
                self.0.push(w);
            }
            Ok(())
        }
    }

    d.deserialize_seq(Rows)
}
