//! `scalargrad._core`: the Python face of [`scalargrad::Value`].
//!
//! The Python package re-exports [`PyValue`] as `scalargrad.engine.Value` and builds
//! `scalargrad.nn` (in Python, for micrograd's initialisation order) on [`neuron`], [`layer`]
//! and [`mlp`], which compute a neuron, a layer or a whole network in one call.
//!
//! Errors follow Python's float arithmetic: a bad operand returns `NotImplemented` (so Python
//! raises `TypeError`), `x / 0` and `0 ** -1` raise `ZeroDivisionError`, a result Python's
//! floats would make complex (`(-8) ** (1/3)`), and `log`, `sqrt` and the other ops of the
//! list outside their domains (as `math` does) raise `ValueError`. Overflow gives IEEE `inf`, as in the Rust crate. A Rust panic becomes a
//! Python exception; nothing aborts the interpreter.

use std::mem::ManuallyDrop;
use std::thread::{self, ThreadId};

use pyo3::exceptions::{
    PyOverflowError, PyRuntimeError, PyTypeError, PyValueError, PyZeroDivisionError,
};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyList, PyString, PyTuple};
use scalargrad::Value;

/// A scalar with a gradient: micrograd's `Value`, backed by Rust.
///
/// Its node lives in the arena of the thread that created it: another thread that touches
/// it gets a `RuntimeError` saying so (see [`Owned`]).
#[pyclass(name = "Value", module = "scalargrad.engine")]
pub struct PyValue {
    v: Owned,
}

/// A [`Value`] and the thread that made it. PyO3's `unsendable` would panic on another
/// thread (a `PanicException`, which `except Exception` misses, and a Rust panic printed
/// to stderr); instead every access goes through [`Owned::get`], which raises
/// `RuntimeError` there, and a `Value` dropped there (Python's collector can run anywhere)
/// is leaked, not freed into another thread's arena.
struct Owned {
    v: ManuallyDrop<Value>,
    thread: ThreadId,
}

// SAFETY: the `Value` (a handle into its thread's arena, not thread-safe) is read only on
// `thread`: `get` checks before every access and `drop` leaks it elsewhere. The `ThreadId`
// is `Send + Sync`.
unsafe impl Send for Owned {}
unsafe impl Sync for Owned {}

impl Owned {
    fn get(&self) -> PyResult<&Value> {
        if thread::current().id() == self.thread {
            Ok(&self.v)
        } else {
            Err(PyRuntimeError::new_err(
                "this Value belongs to the thread that made it (its graph lives in that \
                 thread's arena); use it there, or send its .data to this thread",
            ))
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        if thread::current().id() == self.thread {
            // SAFETY: dropped once, here, on the thread that owns it
            unsafe { ManuallyDrop::drop(&mut self.v) }
        }
    }
}

impl From<Value> for PyValue {
    fn from(v: Value) -> Self {
        PyValue {
            v: Owned {
                v: ManuallyDrop::new(v),
                thread: thread::current().id(),
            },
        }
    }
}

/// What can stand on the other side of an operator.
enum Operand {
    Value(Value),
    Number(f64),
}

/// `Some` for a `Value` or a real number (int, float, numpy scalar, anything with
/// `__float__`/`__index__`), `None` for anything else; `ValueError` for an int too large
/// for a float.
fn operand(o: &Bound<'_, PyAny>) -> PyResult<Option<Operand>> {
    if let Ok(v) = o.cast::<PyValue>() {
        return Ok(Some(Operand::Value(v.borrow().v.get()?.clone())));
    }
    Ok(number(o)?.map(Operand::Number))
}

/// A real number as `f64`, `None` if `o` is not one (strings are not numbers here).
fn number(o: &Bound<'_, PyAny>) -> PyResult<Option<f64>> {
    if o.is_instance_of::<PyString>() {
        return Ok(None);
    }
    match o.extract::<f64>() {
        Ok(x) => Ok(Some(x)),
        Err(e) if e.is_instance_of::<PyOverflowError>(o.py()) => Err(PyValueError::new_err(
            format!("{} does not fit in a float", o.repr()?),
        )),
        Err(_) => Ok(None),
    }
}

/// A number for a setter or constructor: `TypeError` if it is not one.
fn require_number(o: &Bound<'_, PyAny>, what: &str) -> PyResult<f64> {
    number(o)?.ok_or_else(|| {
        let ty = o
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        PyTypeError::new_err(format!("{what} must be an int or a float, not {ty}"))
    })
}

fn wrap(py: Python<'_>, v: Value) -> PyResult<Py<PyAny>> {
    Ok(Py::new(py, PyValue::from(v))?.into_any())
}

#[derive(Clone, Copy)]
enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// `a ∘ b` for two operands, with Python's errors for division by zero and complex results.
fn binary(a: &Operand, b: &Operand, op: Bin) -> PyResult<Value> {
    let data = |o: &Operand| match o {
        Operand::Value(v) => v.data(),
        Operand::Number(x) => *x,
    };
    let (x, y) = (data(a), data(b));
    match op {
        Bin::Div if y == 0.0 => {
            return Err(PyZeroDivisionError::new_err("Value division by zero"));
        }
        Bin::Pow if x == 0.0 && y < 0.0 => {
            return Err(PyZeroDivisionError::new_err(
                "0.0 cannot be raised to a negative power",
            ));
        }
        Bin::Pow if x < 0.0 && y.is_finite() && y.fract() != 0.0 => {
            return Err(PyValueError::new_err(format!(
                "({x}) ** {y} is complex; Value holds real numbers"
            )));
        }
        _ => {}
    }
    Ok(match (a, b, op) {
        (Operand::Value(a), Operand::Value(b), Bin::Add) => a + b,
        (Operand::Value(a), Operand::Value(b), Bin::Sub) => a - b,
        (Operand::Value(a), Operand::Value(b), Bin::Mul) => a * b,
        (Operand::Value(a), Operand::Value(b), Bin::Div) => a / b,
        (Operand::Value(a), Operand::Value(b), Bin::Pow) => a.pow_value(b),
        (Operand::Value(a), Operand::Number(b), Bin::Add) => a + *b,
        (Operand::Value(a), Operand::Number(b), Bin::Sub) => a - *b,
        (Operand::Value(a), Operand::Number(b), Bin::Mul) => a * *b,
        (Operand::Value(a), Operand::Number(b), Bin::Div) => a / *b,
        (Operand::Value(a), Operand::Number(b), Bin::Pow) => a.pow(*b),
        (Operand::Number(a), Operand::Value(b), Bin::Add) => *a + b,
        (Operand::Number(a), Operand::Value(b), Bin::Sub) => *a - b,
        (Operand::Number(a), Operand::Value(b), Bin::Mul) => *a * b,
        (Operand::Number(a), Operand::Value(b), Bin::Div) => *a / b,
        (Operand::Number(a), Operand::Value(b), Bin::Pow) => Value::constant(*a).pow_value(b),
        (Operand::Number(_), Operand::Number(_), _) => unreachable!("one side is a Value"),
    })
}

impl PyValue {
    /// `self ∘ other` (`reflected`: `other ∘ self`), or `NotImplemented`.
    fn op(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        op: Bin,
        reflected: bool,
    ) -> PyResult<Py<PyAny>> {
        let Some(other) = operand(other)? else {
            return Ok(py.NotImplemented());
        };
        let me = Operand::Value(self.v.get()?.clone());
        let v = if reflected {
            binary(&other, &me, op)?
        } else {
            binary(&me, &other, op)?
        };
        wrap(py, v)
    }
}

/// Where an op of the list is defined, for `ValueError`s as `math` raises them.
enum Domain {
    Everywhere,
    Above(f64),
    AtLeast(f64),
}

/// A `Domain` from the op list's words.
macro_rules! domain {
    (everywhere) => {
        Domain::Everywhere
    };
    (kink $at:literal) => {
        Domain::Everywhere
    };
    (above $at:literal) => {
        Domain::Above($at)
    };
    (at_least $at:literal) => {
        Domain::AtLeast($at)
    };
}

/// `ValueError` if `x` is outside the domain (a NaN passes, as in `math`: the result is NaN).
fn check_domain(name: &str, x: f64, domain: Domain) -> PyResult<()> {
    let (outside, needs) = match domain {
        Domain::Everywhere => (false, String::new()),
        Domain::Above(a) => (x <= a, format!("x > {a}")),
        Domain::AtLeast(a) => (x < a, format!("x >= {a}")),
    };
    if outside {
        return Err(PyValueError::new_err(format!(
            "math domain error: {name} of {x} ({name} needs {needs})"
        )));
    }
    Ok(())
}

/// A method per op of the Rust crate's op list (`scalargrad::unary_ops!`): `v.exp()`,
/// `v.relu()`, `v.sqrt()`, … each recording one node, with a `ValueError` outside its
/// domain.
macro_rules! list_methods {
    ($($(#[$doc:meta])* $name:ident $V:ident = $tag:literal [$dom:ident $($at:literal)?] |$x:ident| $f64:expr;)*) => {
        #[pymethods]
        impl PyValue {
            $(
                #[doc = concat!("The `", stringify!($name), "` op of the Rust crate (`Var::",
                    stringify!($name), "`): one node; `ValueError` outside its domain.")]
                fn $name(&self) -> PyResult<PyValue> {
                    let v = self.v.get()?;
                    check_domain(stringify!($name), v.data(), domain!($dom $($at)?))?;
                    Ok(PyValue::from(v.$name()))
                }
            )*
        }
    };
}

scalargrad::unary_ops!(list_methods);

#[pymethods]
impl PyValue {
    /// `Value(data)`: a leaf whose gradient is tracked. `_children` and `_op` are accepted
    /// for micrograd compatibility and ignored.
    #[new]
    #[pyo3(signature = (data, _children = None, _op = None))]
    fn new(
        data: &Bound<'_, PyAny>,
        _children: Option<&Bound<'_, PyAny>>,
        _op: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let data = require_number(data, "Value data")?;
        Ok(PyValue::from(Value::new(data)))
    }

    /// The value.
    #[getter]
    fn get_data(&self) -> PyResult<f64> {
        Ok(self.v.get()?.data())
    }

    #[setter]
    fn set_data(&self, data: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let data = data.ok_or_else(|| PyTypeError::new_err("cannot delete Value.data"))?;
        self.v.get()?.set_data(require_number(data, "Value.data")?);
        Ok(())
    }

    /// The accumulated gradient.
    #[getter]
    fn get_grad(&self) -> PyResult<f64> {
        Ok(self.v.get()?.grad())
    }

    #[setter]
    fn set_grad(&self, grad: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let grad = grad.ok_or_else(|| PyTypeError::new_err("cannot delete Value.grad"))?;
        self.v.get()?.set_grad(require_number(grad, "Value.grad")?);
        Ok(())
    }

    fn __add__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.op(py, other, Bin::Add, false)
    }
    fn __radd__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.op(py, other, Bin::Add, true)
    }
    fn __sub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.op(py, other, Bin::Sub, false)
    }
    fn __rsub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.op(py, other, Bin::Sub, true)
    }
    fn __mul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.op(py, other, Bin::Mul, false)
    }
    fn __rmul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.op(py, other, Bin::Mul, true)
    }
    fn __truediv__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.op(py, other, Bin::Div, false)
    }
    fn __rtruediv__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.op(py, other, Bin::Div, true)
    }
    fn __pow__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Ok(py.NotImplemented());
        }
        self.op(py, other, Bin::Pow, false)
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Ok(py.NotImplemented());
        }
        self.op(py, other, Bin::Pow, true)
    }
    fn __neg__(&self) -> PyResult<PyValue> {
        Ok(PyValue::from(-self.v.get()?))
    }

    /// Natural logarithm (the Rust crate's `ln`); `ValueError` for `x <= 0` (as `math.log`).
    fn log(&self) -> PyResult<PyValue> {
        let v = self.v.get()?;
        check_domain("log", v.data(), Domain::Above(0.0))?;
        Ok(PyValue::from(v.ln()))
    }
    /// `abs(v)`: `|x|`, derivative `sign x` (0 at 0).
    fn __abs__(&self) -> PyResult<PyValue> {
        Ok(PyValue::from(self.v.get()?.abs()))
    }
    /// The larger of this and `other` (a Value or a number); on a tie each gets half the
    /// gradient.
    fn max(&self, other: &Bound<'_, PyAny>) -> PyResult<PyValue> {
        let other = value_operand(other, "max")?;
        Ok(PyValue::from(self.v.get()?.max(&other)))
    }
    /// The smaller of this and `other` (a Value or a number); on a tie each gets half the
    /// gradient.
    fn min(&self, other: &Bound<'_, PyAny>) -> PyResult<PyValue> {
        let other = value_operand(other, "min")?;
        Ok(PyValue::from(self.v.get()?.min(&other)))
    }

    /// Adds `d self / d n` to the `grad` of every `n` this value was computed from; the
    /// root is seeded with 1. No recursion limit; two calls add exactly twice.
    fn backward(&self) -> PyResult<()> {
        self.v.get()?.backward();
        Ok(())
    }

    /// Graphviz DOT text of this value and everything it was computed from.
    fn to_dot(&self) -> PyResult<String> {
        Ok(self.v.get()?.to_dot())
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let me = slf.borrow();
        let data = PyFloat::new(py, me.v.get()?.data()).repr()?;
        let grad = PyFloat::new(py, me.v.get()?.grad()).repr()?;
        Ok(format!("Value(data={data}, grad={grad})"))
    }
}

/// `other` as a `Value` (a number becomes a constant), or `TypeError` naming `what`.
fn value_operand(other: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    match operand(other)? {
        Some(Operand::Value(v)) => Ok(v),
        Some(Operand::Number(x)) => Ok(Value::constant(x)),
        None => Err(PyTypeError::new_err(format!(
            "Value.{what} takes a Value or a number, not {}",
            other.get_type().name()?
        ))),
    }
}

/// A neuron's output: `b + w₀x₀ + w₁x₁ + …` (micrograd's order, one node), then `relu` if
/// `nonlin`. `w` is a list of `Value`; `x` a sequence of `Value`s or numbers.
#[pyfunction]
fn neuron(
    b: PyRef<'_, PyValue>,
    w: &Bound<'_, PyList>,
    x: &Bound<'_, PyAny>,
    nonlin: bool,
) -> PyResult<PyValue> {
    let xs = inputs(x)?;
    let xs: Vec<&Value> = xs.iter().map(Input::get).collect();
    neuron_out(b.v.get()?, w, &xs, nonlin).map(PyValue::from)
}

/// The outputs of a layer's `neurons` (objects with micrograd's `w`, `b`, `nonlin`) on one
/// input `x`, which is converted once: a list, or the one `Value` of a one-neuron layer.
#[pyfunction]
fn layer(py: Python<'_>, neurons: &Bound<'_, PyList>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let xs = inputs(x)?;
    let xs: Vec<&Value> = xs.iter().map(Input::get).collect();
    let out = layer_values(py, neurons, &xs)?;
    wrap_outputs(py, out)
}

/// A whole network's output on one input `x`: `layers` are objects with micrograd's
/// `neurons`, each neuron with `w`, `b`, `nonlin`. The hidden layers' outputs stay in Rust
/// (no Python object per hidden value); the result is a list, or the one `Value` of a
/// one-output network.
#[pyfunction]
fn mlp(py: Python<'_>, layers: &Bound<'_, PyList>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let xs = inputs(x)?;
    let mut cur: Vec<Value> = xs.iter().map(|i| i.get().clone()).collect();
    drop(xs);
    for layer in layers.iter() {
        let neurons = layer.getattr(intern!(py, "neurons"))?;
        let neurons = neurons
            .cast::<PyList>()
            .map_err(|_| PyTypeError::new_err("a Layer's neurons must be a list"))?;
        let refs: Vec<&Value> = cur.iter().collect();
        let next = layer_values(py, neurons, &refs)?;
        cur = next;
    }
    wrap_outputs(py, cur)
}

/// Each neuron of `neurons` on the input `xs`.
fn layer_values(
    py: Python<'_>,
    neurons: &Bound<'_, PyList>,
    xs: &[&Value],
) -> PyResult<Vec<Value>> {
    let mut out = Vec::with_capacity(neurons.len());
    for n in neurons.iter() {
        let b = n.getattr(intern!(py, "b"))?;
        let b = b
            .cast::<PyValue>()
            .map_err(|_| PyTypeError::new_err("a Neuron's bias must be a Value"))?
            .borrow();
        let w = n.getattr(intern!(py, "w"))?;
        let w = w
            .cast::<PyList>()
            .map_err(|_| PyTypeError::new_err("a Neuron's weights must be a list of Values"))?;
        let nonlin = n.getattr(intern!(py, "nonlin"))?.is_truthy()?;
        out.push(neuron_out(b.v.get()?, w, xs, nonlin)?);
    }
    Ok(out)
}

/// A list of `Value`s, or the one `Value` if there is one (micrograd's layer convention).
fn wrap_outputs(py: Python<'_>, mut out: Vec<Value>) -> PyResult<Py<PyAny>> {
    if out.len() == 1 {
        let v = out.pop().expect("one output");
        return Ok(Py::new(py, PyValue::from(v))?.into_any());
    }
    let objs = out
        .into_iter()
        .map(|v| Py::new(py, PyValue::from(v)))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, objs)?.into_any().unbind())
}

fn neuron_out(b: &Value, w: &Bound<'_, PyList>, xs: &[&Value], nonlin: bool) -> PyResult<Value> {
    if w.len() != xs.len() {
        return Err(PyValueError::new_err(format!(
            "this Neuron takes {} inputs, got {}",
            w.len(),
            xs.len()
        )));
    }
    let ws: Vec<Bound<'_, PyAny>> = w.iter().collect();
    let ws: Vec<PyRef<'_, PyValue>> = ws
        .iter()
        .map(|o| {
            o.cast::<PyValue>()
                .map(|v| v.borrow())
                .map_err(|_| PyTypeError::new_err("a Neuron's weights must be Values"))
        })
        .collect::<PyResult<_>>()?;
    let ws: Vec<&Value> = ws.iter().map(|w| w.v.get()).collect::<PyResult<_>>()?;
    let act = Value::affine(b, ws.iter().copied(), xs.iter().copied());
    Ok(if nonlin { act.relu() } else { act })
}

/// One input of a network: a borrowed `Value`, or a number made a constant.
enum Input<'py> {
    Borrowed(PyRef<'py, PyValue>),
    Owned(Value),
}

impl Input<'_> {
    fn get(&self) -> &Value {
        match self {
            Input::Borrowed(r) => &r.v.v, // its thread was checked in `inputs`
            Input::Owned(v) => v,
        }
    }
}

/// A sequence of `Value`s or numbers (numbers become constants).
fn inputs<'py>(x: &Bound<'py, PyAny>) -> PyResult<Vec<Input<'py>>> {
    let item = |o: Bound<'py, PyAny>| -> PyResult<Input<'py>> {
        if let Ok(v) = o.cast::<PyValue>() {
            let v = v.borrow();
            v.v.get()?;
            return Ok(Input::Borrowed(v));
        }
        match number(&o)? {
            Some(n) => Ok(Input::Owned(Value::constant(n))),
            None => Err(PyTypeError::new_err(format!(
                "a network input must be a Value or a number, not {}",
                o.get_type().name()?
            ))),
        }
    };
    if let Ok(l) = x.cast::<PyList>() {
        l.iter().map(item).collect()
    } else if let Ok(t) = x.cast::<PyTuple>() {
        t.iter().map(item).collect()
    } else {
        x.try_iter()?.map(|o| item(o?)).collect()
    }
}

/// The number of nodes alive in this thread's arena (every live `Value` and everything a
/// live one was computed from): flat across training steps.
#[pyfunction]
fn live_nodes() -> usize {
    Value::live_nodes()
}

/// The extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyValue>()?;
    m.add_function(wrap_pyfunction!(neuron, m)?)?;
    m.add_function(wrap_pyfunction!(layer, m)?)?;
    m.add_function(wrap_pyfunction!(mlp, m)?)?;
    m.add_function(wrap_pyfunction!(live_nodes, m)?)?;
    Ok(())
}
