//! Weights out to PyTorch (and candle, burn, …) and back: `.safetensors` files (feature
//! `safetensors`, on by default).
//!
//! An [`Mlp`] is written as the state dict of PyTorch's
//! `nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))`:
//! tensor `I.weight` of shape `[out, in]` (row `j` is neuron `j`'s weights) and `I.bias` of
//! shape `[out]`, all `F64`, where `I` is the index of the layer's `Linear` module in the
//! `Sequential`. Each layer whose activation is not [`Activation::Linear`] is followed by one
//! activation module (`nn.ReLU()`, `nn.Sigmoid()`, `nn.Tanh()`), so the indices are 0, 2, 4
//! for micrograd's network. The file's metadata names the activations, one per layer
//! (`"activations": "relu,relu,linear"`), says which layers have a bias
//! (`"biases": "true,true,true"`) and carries `"format": "pt"` as PyTorch's own files do.
//!
//! Loading is strict: a missing tensor, an extra one, a shape that does not fit, another
//! dtype than `F64`, or activations other than the caller expects give an
//! [`Error::Tensors`] naming the problem, never a silently different network.
//!
//! ```
//! use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
//! let g = Graph::new();
//! let mlp = Mlp::new(&g, 2, &[16, 16, 1], MlpConfig::new(1));
//! let bytes = mlp.to_safetensors()?;
//! let back = Mlp::from_safetensors(&g, &bytes)?;
//! assert_eq!(back.parameter_values(), mlp.parameter_values()); // bit-exact
//! assert_eq!(back.to_string(), mlp.to_string());
//! # Ok::<(), scalargrad::nn::Error>(())
//! ```
//!
//! In Python: `model.load_state_dict(safetensors.torch.load_file(path), strict=True)` with
//! `model = nn.Sequential(…).double()` (see `interop/test_torch.py`).
//!
//! Any other list of named parameters is saved with [`save_parameters`] and read back with
//! [`load_parameters`], as one-dimensional `F64` tensors.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use super::io::Error;
use super::{Activation, LayerSpec, Mlp, MlpSpec};
use crate::{Graph, Var};

/// The metadata key naming the activations, one per layer, comma-separated.
pub const ACTIVATIONS: &str = "activations";

/// The metadata key saying which layers have a bias (`true`/`false`, comma-separated).
pub const BIASES: &str = "biases";

/// One tensor as plain numbers: a shape (row-major) and its values.
///
/// ```
/// use scalargrad::nn::safetensors::Tensor;
/// let t = Tensor { shape: vec![2, 3], values: vec![0.0; 6] };
/// assert_eq!(t.shape.iter().product::<usize>(), t.values.len());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// The shape, outermost dimension first.
    pub shape: Vec<usize>,
    /// The values in row-major order.
    pub values: Vec<f64>,
}

/// Tensors by name, in name order.
pub type Tensors = BTreeMap<String, Tensor>;

/// A file's string metadata, by key.
pub type Metadata = BTreeMap<String, String>;

/// Named `F64` tensors and string metadata, as a `.safetensors` byte buffer.
///
/// # Errors
/// [`Error::Tensors`] if a tensor's shape does not hold its number of values.
///
/// ```
/// use scalargrad::nn::safetensors::{from_bytes, to_bytes, Tensor};
/// let t = Tensor { shape: vec![2], values: vec![1.5, -2.0] };
/// let bytes = to_bytes(&[("w", &t)], &[("note", "hi")])?;
/// let (tensors, metadata) = from_bytes(&bytes)?;
/// assert_eq!((tensors["w"].clone(), metadata["note"].as_str()), (t, "hi"));
/// # Ok::<(), scalargrad::nn::Error>(())
/// ```
pub fn to_bytes(tensors: &[(&str, &Tensor)], metadata: &[(&str, &str)]) -> Result<Vec<u8>, Error> {
    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, t)| {
            if t.shape.iter().product::<usize>() != t.values.len() {
                return Err(Error::Tensors(format!(
                    "tensor {name} has shape {:?} but {} values",
                    t.shape,
                    t.values.len()
                )));
            }
            let bytes = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            Ok((name.to_string(), t.shape.clone(), bytes))
        })
        .collect::<Result<_, _>>()?;
    let views = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(Dtype::F64, shape.clone(), bytes)
                .map(|view| (name.as_str(), view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(tensor_error)?;
    let info: HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    safetensors::serialize(views, Some(info)).map_err(tensor_error)
}

/// Every tensor of a `.safetensors` buffer, by name, and its metadata.
///
/// # Errors
/// [`Error::Tensors`] if the buffer is not a valid safetensors file or a tensor's dtype is
/// not `F64` (PyTorch's `float32` default must be converted with `.double()`: reading it
/// as `f64` would change the numbers).
///
/// ```
/// use scalargrad::nn::safetensors::from_bytes;
/// let err = from_bytes(b"not a tensor file").unwrap_err();
/// assert!(err.to_string().starts_with("bad tensor file"), "{err}");
/// ```
pub fn from_bytes(bytes: &[u8]) -> Result<(Tensors, Metadata), Error> {
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(tensor_error)?;
    let metadata = header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let file = SafeTensors::deserialize(bytes).map_err(tensor_error)?;
    let mut tensors = BTreeMap::new();
    for (name, view) in file.iter() {
        if view.dtype() != Dtype::F64 {
            return Err(Error::Tensors(format!(
                "tensor {} has dtype {:?}, not F64 (scalargrad computes in f64; in PyTorch \
                 convert the model with .double() before saving)",
                quote(name),
                view.dtype()
            )));
        }
        let values = view
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        tensors.insert(
            name.to_string(),
            Tensor {
                shape: view.shape().to_vec(),
                values,
            },
        );
    }
    Ok((tensors, metadata))
}

/// How many items of a list an error message names before it counts the rest.
const NAMED: usize = 5;

/// The longest piece of a file's text (a tensor name, a metadata word) an error message
/// quotes, in bytes.
const QUOTED: usize = 64;

/// `[a, b, c, d, e] and 7 more`: the first [`NAMED`] items of a list, each shown by `show`,
/// then how many more. A file can name millions of tensors, dimensions or activations, and
/// an error message should not copy them all.
fn few<T>(items: impl ExactSizeIterator<Item = T>, show: impl Fn(T) -> String) -> String {
    let total = items.len();
    let shown: Vec<String> = items.take(NAMED).map(show).collect();
    let list = format!("[{}]", shown.join(", "));
    if total > NAMED {
        format!("{list} and {} more", total - NAMED)
    } else {
        list
    }
}

/// A piece of the file's text for an error message: quoted, and cut after [`QUOTED`] bytes
/// (at a character boundary) with the number of bytes left out.
fn quote(text: &str) -> String {
    if text.len() <= QUOTED {
        return format!("{text:?}");
    }
    let cut = (0..=QUOTED)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{:?}… ({} more bytes)", &text[..cut], text.len() - cut)
}

fn tensor_error(e: safetensors::SafeTensorError) -> Error {
    Error::Tensors(format!("not a valid safetensors file: {e}"))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    })
}

/// Writes named parameters, each list as a one-dimensional `F64` tensor.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written.
///
/// ```
/// use scalargrad::{nn::safetensors::{load_parameters, save_parameters}, Graph};
/// let g = Graph::new();
/// let (w, b) = ([g.var(0.5), g.var(-1.5)], [g.var(2.0)]);
/// let path = std::env::temp_dir().join(format!("scalargrad-doc-{}.safetensors", std::process::id()));
/// save_parameters(&path, &[("w", &w), ("b", &b)])?;
/// let (w2, b2) = ([g.var(0.0), g.var(0.0)], [g.var(0.0)]);
/// load_parameters(&path, &[("w", &w2), ("b", &b2)])?;
/// assert_eq!((w2[1].value(), b2[0].value()), (-1.5, 2.0));
/// // asking for a tensor the file does not have is an error, not a silent zero
/// assert!(load_parameters(&path, &[("w", &w2), ("c", &b2)]).is_err());
/// std::fs::remove_file(&path)?;
/// # Ok::<(), scalargrad::nn::Error>(())
/// ```
pub fn save_parameters(path: impl AsRef<Path>, named: &[(&str, &[Var<'_>])]) -> Result<(), Error> {
    let tensors: Vec<(&str, Tensor)> = named
        .iter()
        .map(|(name, vars)| {
            (
                *name,
                Tensor {
                    shape: vec![vars.len()],
                    values: vars.iter().map(|v| v.value()).collect(),
                },
            )
        })
        .collect();
    let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    write_file(path.as_ref(), &to_bytes(&refs, &[])?)
}

/// Sets named parameters from a file written by [`save_parameters`] (or any file of
/// one-dimensional `F64` tensors with exactly these names). Nothing is set unless every
/// tensor fits.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Tensors`] if a name is missing, the
/// file has a tensor not asked for, a tensor is not one-dimensional of the list's length,
/// or its dtype is not `F64`.
///
/// ```
/// use scalargrad::{nn::safetensors::{load_parameters, save_parameters}, Graph};
/// let g = Graph::new();
/// let path = std::env::temp_dir().join(format!("scalargrad-doc2-{}.safetensors", std::process::id()));
/// save_parameters(&path, &[("w", &[g.var(1.0), g.var(2.0)])])?;
/// let err = load_parameters(&path, &[("w", &[g.var(0.0)])]).unwrap_err();
/// std::fs::remove_file(&path)?;
/// assert!(err.to_string().contains("tensor w has shape [2], expected [1]"), "{err}");
/// # Ok::<(), scalargrad::nn::Error>(())
/// ```
pub fn load_parameters(path: impl AsRef<Path>, named: &[(&str, &[Var<'_>])]) -> Result<(), Error> {
    let (mut tensors, _) = from_bytes(&read_file(path.as_ref())?)?;
    let mut found = Vec::with_capacity(named.len());
    for (name, vars) in named {
        let t = take(&mut tensors, name, &[vars.len()])?;
        found.push((vars, t.values));
    }
    no_extra(&tensors)?;
    for (vars, values) in found {
        for (v, x) in vars.iter().zip(values) {
            v.set_value(x);
        }
    }
    Ok(())
}

/// Removes tensor `name`, checking its shape.
fn take(
    tensors: &mut BTreeMap<String, Tensor>,
    name: &str,
    shape: &[usize],
) -> Result<Tensor, Error> {
    let t = tensors.remove(name).ok_or_else(|| {
        Error::Tensors(format!(
            "tensor {name} is missing (the file has {})",
            few(tensors.keys(), |k| quote(k))
        ))
    })?;
    if t.shape != shape {
        return Err(Error::Tensors(format!(
            "tensor {name} has shape {}, expected {shape:?}",
            few(t.shape.iter(), usize::to_string)
        )));
    }
    Ok(t)
}

fn no_extra(tensors: &BTreeMap<String, Tensor>) -> Result<(), Error> {
    if tensors.is_empty() {
        Ok(())
    } else {
        Err(Error::Tensors(format!(
            "the file has tensors the network does not: {}",
            few(tensors.keys(), |k| quote(k))
        )))
    }
}

fn activation_name(a: Activation) -> &'static str {
    match a {
        Activation::Linear => "linear",
        Activation::Relu => "relu",
        Activation::Sigmoid => "sigmoid",
        Activation::Tanh => "tanh",
        Activation::Custom(c) => c.name(),
    }
}

fn parse_activations(text: &str) -> Result<Vec<Activation>, Error> {
    text.split(',')
        .map(|name| match name.trim() {
            "linear" => Ok(Activation::Linear),
            "relu" => Ok(Activation::Relu),
            "sigmoid" => Ok(Activation::Sigmoid),
            "tanh" => Ok(Activation::Tanh),
            other => Err(Error::Tensors(format!(
                "unknown activation {} in the metadata (expected linear, relu, sigmoid or \
                 tanh)",
                quote(other)
            ))),
        })
        .collect()
}

/// The index of each layer's `Linear` module in the `nn.Sequential`: one module per layer,
/// plus one activation module after each layer whose activation is not linear.
fn module_indices(activations: &[Activation]) -> Vec<usize> {
    let mut next = 0;
    activations
        .iter()
        .map(|&a| {
            let index = next;
            next += if a == Activation::Linear { 1 } else { 2 };
            index
        })
        .collect()
}

impl MlpSpec {
    /// The network as a `.safetensors` buffer in PyTorch's `nn.Sequential` layout (see the
    /// [module documentation](self)).
    ///
    /// # Errors
    /// [`Error::Shape`] if the spec's shapes do not fit ([`MlpSpec::check`]).
    ///
    /// ```
    /// use scalargrad::nn::{safetensors::from_bytes, Activation, LayerSpec, MlpSpec};
    /// let spec = MlpSpec { nin: 2, layers: vec![LayerSpec {
    ///     activation: Activation::Tanh, weights: vec![vec![1.0, 2.0]], biases: Some(vec![3.0]) }] };
    /// let (tensors, metadata) = from_bytes(&spec.to_safetensors()?)?;
    /// assert_eq!((tensors["0.weight"].shape.clone(), tensors["0.bias"].values.clone()), (vec![1, 2], vec![3.0]));
    /// assert_eq!(metadata["activations"], "tanh");
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn to_safetensors(&self) -> Result<Vec<u8>, Error> {
        self.check()?;
        let activations: Vec<Activation> = self.layers.iter().map(|l| l.activation).collect();
        let mut tensors = Vec::new();
        for (layer, index) in self.layers.iter().zip(module_indices(&activations)) {
            let weights = Tensor {
                shape: vec![layer.nout(), layer.nin()],
                values: layer.weights.concat(),
            };
            tensors.push((format!("{index}.weight"), weights));
            if let Some(b) = &layer.biases {
                let bias = Tensor {
                    shape: vec![b.len()],
                    values: b.clone(),
                };
                tensors.push((format!("{index}.bias"), bias));
            }
        }
        let names: Vec<&str> = activations.iter().map(|&a| activation_name(a)).collect();
        let biases: Vec<&str> = self
            .layers
            .iter()
            .map(|l| if l.biases.is_some() { "true" } else { "false" })
            .collect();
        let refs: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
        to_bytes(
            &refs,
            &[
                ("format", "pt"),
                (ACTIVATIONS, &names.join(",")),
                (BIASES, &biases.join(",")),
            ],
        )
    }

    /// Reads a network written by [`MlpSpec::to_safetensors`] (or by PyTorch with the
    /// `activations` metadata), taking the activations from the metadata.
    ///
    /// # Errors
    /// [`Error::Tensors`] if the metadata has no `activations`, or as
    /// [`MlpSpec::from_safetensors_as`].
    ///
    /// ```
    /// use scalargrad::nn::{Activation, LayerSpec, MlpSpec};
    /// let spec = MlpSpec { nin: 1, layers: vec![LayerSpec {
    ///     activation: Activation::Sigmoid, weights: vec![vec![0.25]], biases: None }] };
    /// assert_eq!(MlpSpec::from_safetensors(&spec.to_safetensors()?)?, spec);
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self, Error> {
        let (tensors, metadata) = from_bytes(bytes)?;
        let activations = metadata.get(ACTIVATIONS).ok_or_else(|| {
            Error::Tensors(format!(
                "the metadata does not name the activations (key {ACTIVATIONS:?}); pass them \
                 with from_safetensors_as"
            ))
        })?;
        let activations = parse_activations(activations)?;
        spec_from(tensors, &metadata, &activations)
    }

    /// Reads a network whose layers have the given activations (a file written by PyTorch
    /// without metadata holds only the `Linear` modules' tensors). If the file's metadata
    /// names activations, they must be these.
    ///
    /// # Errors
    /// [`Error::Tensors`] if the buffer is not a safetensors file, its metadata names other
    /// activations, a tensor is missing or extra, a shape does not fit, or a dtype is not
    /// `F64`.
    ///
    /// ```
    /// use scalargrad::nn::{Activation::{Linear, Relu, Tanh}, LayerSpec, MlpSpec};
    /// let layer = |a| LayerSpec { activation: a, weights: vec![vec![0.5]], biases: Some(vec![0.0]) };
    /// let bytes = MlpSpec { nin: 1, layers: vec![layer(Relu), layer(Linear)] }.to_safetensors()?;
    /// assert!(MlpSpec::from_safetensors_as(&bytes, &[Relu, Linear]).is_ok());
    /// let err = MlpSpec::from_safetensors_as(&bytes, &[Tanh, Linear]).unwrap_err();
    /// assert!(err.to_string().contains("activations"), "{err}");
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn from_safetensors_as(bytes: &[u8], activations: &[Activation]) -> Result<Self, Error> {
        let (tensors, metadata) = from_bytes(bytes)?;
        if let Some(text) = metadata.get(ACTIVATIONS) {
            let named = parse_activations(text)?;
            if named != activations {
                return Err(Error::Tensors(format!(
                    "the file's activations are {}, expected {}",
                    few(named.iter(), |a| format!("{a:?}")),
                    few(activations.iter(), |a| format!("{a:?}"))
                )));
            }
        }
        spec_from(tensors, &metadata, activations)
    }
}

fn spec_from(
    mut tensors: BTreeMap<String, Tensor>,
    metadata: &BTreeMap<String, String>,
    activations: &[Activation],
) -> Result<MlpSpec, Error> {
    if activations.is_empty() {
        return Err(Error::Tensors("a network needs at least one layer".into()));
    }
    let biases: Vec<bool> = match metadata.get(BIASES) {
        None => vec![true; activations.len()], // PyTorch's nn.Linear default
        Some(text) => text
            .split(',')
            .map(|b| match b.trim() {
                "true" => Ok(true),
                "false" => Ok(false),
                other => Err(Error::Tensors(format!(
                    "metadata {BIASES:?} has {}, expected true or false",
                    quote(other)
                ))),
            })
            .collect::<Result<_, _>>()?,
    };
    if biases.len() != activations.len() {
        return Err(Error::Tensors(format!(
            "the metadata names {} activations but {} bias flags",
            activations.len(),
            biases.len()
        )));
    }
    let mut layers = Vec::with_capacity(activations.len());
    let mut nin = None;
    let mut width = 0;
    for (l, index) in module_indices(activations).into_iter().enumerate() {
        let name = format!("{index}.weight");
        let shape = tensors.get(&name).map(|t| t.shape.clone()).ok_or_else(|| {
            Error::Tensors(format!(
                "tensor {name} (layer {l}) is missing (the file has {})",
                few(tensors.keys(), |k| quote(k))
            ))
        })?;
        let (nout, inputs) = match shape[..] {
            [nout, inputs] if nout > 0 && inputs > 0 => (nout, inputs),
            _ => {
                return Err(Error::Tensors(format!(
                    "tensor {name} has shape {}, expected [out, in] with both > 0",
                    few(shape.iter(), usize::to_string)
                )))
            }
        };
        if nin.is_none() {
            nin = Some(inputs);
            width = inputs;
        }
        let weights = take(&mut tensors, &name, &[nout, width])?;
        let bias = if biases[l] {
            Some(take(&mut tensors, &format!("{index}.bias"), &[nout])?.values)
        } else {
            None
        };
        layers.push(LayerSpec {
            activation: activations[l],
            weights: weights.values.chunks(width).map(<[f64]>::to_vec).collect(),
            biases: bias,
        });
        width = nout;
    }
    no_extra(&tensors)?;
    let spec = MlpSpec {
        nin: nin.expect("at least one layer"),
        layers,
    };
    spec.check()?;
    Ok(spec)
}

impl<'g> Mlp<'g> {
    /// The network's current parameters as a `.safetensors` buffer in PyTorch's
    /// `nn.Sequential` layout (see the [module documentation](self)).
    ///
    /// # Errors
    /// As [`MlpSpec::to_safetensors`].
    ///
    /// # Panics
    /// As [`Mlp::to_spec`]: if a hand-built layer mixes activations or bias/no bias.
    ///
    /// ```
    /// use scalargrad::{nn::{safetensors::from_bytes, Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 2, &[16, 16, 1], MlpConfig::new(0));
    /// let (tensors, _) = from_bytes(&mlp.to_safetensors()?)?;
    /// let names: Vec<&String> = tensors.keys().collect();
    /// assert_eq!(names, ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]);
    /// assert_eq!(tensors["2.weight"].shape, [16, 16]);
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn to_safetensors(&self) -> Result<Vec<u8>, Error> {
        self.to_spec().to_safetensors()
    }

    /// A network built in `graph` from a `.safetensors` buffer whose metadata names the
    /// activations ([`Mlp::to_safetensors`] writes them).
    ///
    /// # Errors
    /// As [`MlpSpec::from_safetensors`].
    ///
    /// ```
    /// use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 3, &[4, 2], MlpConfig::new(5));
    /// let copy = Mlp::from_safetensors(&g, &mlp.to_safetensors()?)?;
    /// assert_eq!(copy.predict(&[0.1, 0.2, 0.3]), mlp.predict(&[0.1, 0.2, 0.3]));
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn from_safetensors(graph: &'g Graph, bytes: &[u8]) -> Result<Self, Error> {
        Mlp::from_spec(graph, &MlpSpec::from_safetensors(bytes)?)
    }

    /// A network built in `graph` from a `.safetensors` buffer, with the given activations
    /// (checked against the metadata when it names them).
    ///
    /// # Errors
    /// As [`MlpSpec::from_safetensors_as`].
    ///
    /// ```
    /// use scalargrad::{nn::{Activation, Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let bytes = Mlp::new(&g, 2, &[3, 1], MlpConfig::new(5)).to_safetensors()?;
    /// assert!(Mlp::from_safetensors_as(&g, &bytes, &[Activation::Tanh, Activation::Linear]).is_err());
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn from_safetensors_as(
        graph: &'g Graph,
        bytes: &[u8],
        activations: &[Activation],
    ) -> Result<Self, Error> {
        Mlp::from_spec(graph, &MlpSpec::from_safetensors_as(bytes, activations)?)
    }

    /// Writes [`Mlp::to_safetensors`] to a file.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written.
    ///
    /// ```
    /// use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 2, &[2, 1], MlpConfig::new(3));
    /// let path = std::env::temp_dir().join(format!("scalargrad-doc3-{}.safetensors", std::process::id()));
    /// mlp.save_safetensors(&path)?;
    /// let back = Mlp::load_safetensors(&g, &path)?;
    /// std::fs::remove_file(&path)?;
    /// assert_eq!(back.parameter_values(), mlp.parameter_values());
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn save_safetensors(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        write_file(path.as_ref(), &self.to_safetensors()?)
    }

    /// Reads a network written by [`Mlp::save_safetensors`] into `graph`.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read, then as [`Mlp::from_safetensors`].
    ///
    /// ```
    /// use scalargrad::{nn::Mlp, Graph};
    /// let g = Graph::new();
    /// let err = Mlp::load_safetensors(&g, "/nonexistent/net.safetensors").unwrap_err();
    /// assert!(err.to_string().contains("/nonexistent/net.safetensors"));
    /// ```
    pub fn load_safetensors(graph: &'g Graph, path: impl AsRef<Path>) -> Result<Self, Error> {
        Mlp::from_safetensors(graph, &read_file(path.as_ref())?)
    }
}
