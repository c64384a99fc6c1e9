//! Errors of the `nn` module, and saving/loading parameters as JSON (feature `serde`).
//!
//! The JSON form is an [`MlpSpec`]: `{"nin": 2, "layers": [{"activation": "relu",
//! "weights": [[…], …], "biases": […]}, …]}`. Numbers are written in the shortest form that
//! reads back to the same `f64` and parsed with `serde_json`'s `float_roundtrip`, so a
//! save/load round trip is bit-exact.

use std::fmt;
use std::path::Path;

#[cfg(feature = "serde")]
use super::{Mlp, MlpSpec};
#[cfg(feature = "serde")]
use crate::Graph;

/// What can go wrong building a network from data, or reading and writing files.
///
/// ```
/// use scalargrad::nn::Error;
/// let e = Error::Shape("layer 1 has 3 biases for 2 neurons".into());
/// assert_eq!(e.to_string(), "bad network shape: layer 1 has 3 biases for 2 neurons");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    Io(std::io::Error),
    /// The JSON text could not be parsed as a network (with line and column).
    #[cfg(feature = "serde")]
    Json(serde_json::Error),
    /// The layers' shapes do not fit together.
    Shape(String),
    /// A data file has a bad line (1-based line number).
    Parse {
        /// Line number, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A parameter is NaN or infinite, which JSON cannot hold.
    NonFinite {
        /// Its index in parameter order.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// A tensor file (`.safetensors`) does not hold the network asked for: a missing, extra
    /// or misshapen tensor, a dtype other than `F64`, other activations, or not a tensor file.
    Tensors(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o error: {e}"),
            #[cfg(feature = "serde")]
            Error::Json(e) => write!(f, "bad network JSON: {e}"),
            Error::Shape(s) => write!(f, "bad network shape: {s}"),
            Error::Parse { line, message } => write!(f, "line {line}: {message}"),
            Error::NonFinite { index, value } => write!(
                f,
                "parameter {index} is {value}, which JSON cannot represent; check the training \
                 run with Graph::check_finite"
            ),
            Error::Tensors(s) => write!(f, "bad tensor file: {s}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            #[cfg(feature = "serde")]
            Error::Json(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

#[cfg(feature = "serde")]
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e)
    }
}

/// Reads a file to a string, naming the path in the error.
pub(crate) fn read_to_string(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    })
}

/// The longest JSON error message kept whole, in bytes.
#[cfg(feature = "serde")]
const LONGEST_MESSAGE: usize = 256;

/// serde_json quotes the offending key or word in full (`unknown field `…``), and a file can
/// hold a key of any length: a longer message is cut after [`LONGEST_MESSAGE`] bytes, saying
/// how many were left out, and keeps its line and column.
#[cfg(feature = "serde")]
fn bounded(e: serde_json::Error) -> Error {
    let message = e.to_string();
    if message.len() <= LONGEST_MESSAGE {
        return Error::Json(e);
    }
    let cut = (0..=LONGEST_MESSAGE)
        .rev()
        .find(|&i| message.is_char_boundary(i))
        .unwrap_or(0);
    Error::Json(serde::de::Error::custom(format!(
        "{}… ({} more bytes) at line {} column {}",
        &message[..cut],
        message.len() - cut,
        e.line(),
        e.column()
    )))
}

#[cfg(feature = "serde")]
impl MlpSpec {
    /// Parses a spec from JSON and checks its shape.
    ///
    /// # Errors
    /// [`Error::Json`] for malformed JSON (its message cut after 256 bytes: it can quote a
    /// key of any length), [`Error::Shape`] for shapes that do not fit.
    ///
    /// ```
    /// use scalargrad::nn::MlpSpec;
    /// let spec = MlpSpec::from_json(r#"{"nin": 1, "layers": [
    ///     {"activation": "relu", "weights": [[2.0]], "biases": [0.5]}]}"#)?;
    /// assert_eq!(spec.predict(&[1.0]), [2.5]);
    /// assert!(MlpSpec::from_json(r#"{"nin": 2, "layers": [{"relu": true, "weights": [[1]]}]}"#).is_err());
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let spec: MlpSpec = serde_json::from_str(text).map_err(bounded)?;
        spec.check()?;
        Ok(spec)
    }

    /// The spec as pretty-printed JSON.
    ///
    /// # Errors
    /// [`Error::NonFinite`] if a weight or bias is NaN or infinite.
    ///
    /// ```
    /// use scalargrad::nn::{Activation, LayerSpec, MlpSpec};
    /// let spec = MlpSpec { nin: 1, layers: vec![LayerSpec {
    ///     activation: Activation::Tanh, weights: vec![vec![0.1]], biases: None }] };
    /// let json = spec.to_json()?;
    /// assert!(json.contains("\"tanh\""));
    /// assert_eq!(MlpSpec::from_json(&json)?, spec);
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String, Error> {
        if let Some((index, &value)) = self
            .parameters()
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite())
        {
            return Err(Error::NonFinite { index, value });
        }
        Ok(serde_json::to_string_pretty(self)?)
    }
}

#[cfg(feature = "serde")]
impl<'g> Mlp<'g> {
    /// The network's current parameters as JSON (an [`MlpSpec`]).
    ///
    /// # Errors
    /// [`Error::NonFinite`] if a parameter is NaN or infinite.
    ///
    /// # Panics
    /// As [`Mlp::to_spec`]: if a hand-built layer mixes activations or bias/no bias.
    ///
    /// ```
    /// use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 2, &[3, 1], MlpConfig::new(9));
    /// let copy = Mlp::from_json(&g, &mlp.to_json()?)?;
    /// assert_eq!(copy.parameter_values(), mlp.parameter_values()); // bit-exact
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String, Error> {
        self.to_spec().to_json()
    }

    /// A network built in `graph` from JSON written by [`Mlp::to_json`] (or in the older
    /// `"relu": bool` layer form, such as `data/moons_mlp_init.json`).
    ///
    /// # Errors
    /// [`Error::Json`] for malformed JSON, [`Error::Shape`] for shapes that do not fit.
    ///
    /// ```
    /// use scalargrad::{nn::Mlp, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::from_json(&g, r#"{"nin": 1, "layers": [
    ///     {"relu": false, "weights": [[3.0]], "biases": [1.0]}]}"#)?;
    /// assert_eq!(mlp.predict(&[2.0]), [7.0]);
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn from_json(graph: &'g Graph, text: &str) -> Result<Self, Error> {
        Mlp::from_spec(graph, &MlpSpec::from_json(text)?)
    }

    /// Writes [`Mlp::to_json`] to a file.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written, [`Error::NonFinite`] as for `to_json`.
    ///
    /// ```
    /// use scalargrad::{nn::{Mlp, MlpConfig}, Graph};
    /// let g = Graph::new();
    /// let mlp = Mlp::new(&g, 2, &[2, 1], MlpConfig::new(3));
    /// let path = std::env::temp_dir().join(format!("scalargrad-doc-{}.json", std::process::id()));
    /// mlp.save(&path)?;
    /// let back = Mlp::load(&g, &path)?;
    /// std::fs::remove_file(&path)?;
    /// assert_eq!(back.parameter_values(), mlp.parameter_values());
    /// # Ok::<(), scalargrad::nn::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json()?).map_err(|e| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        })
    }

    /// Reads a network written by [`Mlp::save`] into `graph`.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read, then as [`Mlp::from_json`].
    ///
    /// ```
    /// use scalargrad::{nn::Mlp, Graph};
    /// let g = Graph::new();
    /// let err = Mlp::load(&g, "/nonexistent/net.json").unwrap_err();
    /// assert!(err.to_string().contains("/nonexistent/net.json"));
    /// ```
    pub fn load(graph: &'g Graph, path: impl AsRef<Path>) -> Result<Self, Error> {
        Mlp::from_json(graph, &read_to_string(path.as_ref())?)
    }
}
