//! `scalargrad._core`: the Python face of [`scalargrad::Value`].
//!
//! The Python package re-exports [`PyValue`] as `scalargrad.engine.Value` and builds
//! `scalargrad.nn` (in Python, for micrograd's initialisation order) on [`layer`] and
//! [`mlp`], which compute a layer or a whole network in one call.
//!
//! micrograd's internals (`_prev`, `_op`, `label`, `_backward`): each `Value` keeps how it
//! was made ([`Trace`]: its operands as the Python objects they were; for a network call, a
//! [`NetTrace`] its outputs share), and `scalargrad/_shape.py` turns that into micrograd's
//! shape on demand. A node micrograd has and the Rust graph fused away is a *view*
//! (`Trace::View`): its `data` is micrograd's, its `grad` a multiple of the fused node's.
//! `backward` is the Rust reverse pass unless a `_backward` written in Python may be in the
//! graph (`PyValue::custom`, [`OVERRIDES`]); then it is micrograd's algorithm
//! (`_shape.backward`), each built-in node stepping with the crate's own rules
//! ([`partials`]).
//!
//! References Python's collector must see (a `_backward` closure refers to its node) live
//! in the instance `__dict__`; references that point back up the graph (a view to its
//! node, a network's cache of hidden nodes) are weak. Operands are dropped from a worklist
//! ([`DYING`]), so a 100,000-deep chain is freed without deep recursion.
//!
//! Errors follow Python's float arithmetic: a bad operand returns `NotImplemented` (so Python
//! raises `TypeError`), `x / 0` and `0 ** -1` raise `ZeroDivisionError`, a result Python's
//! floats would make complex (`(-8) ** (1/3)`), and `log`, `sqrt` and the other ops of the
//! list outside their domains (as `math` does) raise `ValueError`. Overflow gives IEEE
//! `inf`, as in the Rust crate. A Rust panic becomes a Python exception; nothing aborts
//! the interpreter.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::sync::Mutex;
use std::thread::{self, ThreadId};

use pyo3::exceptions::{
    PyOverflowError, PyRuntimeError, PyTypeError, PyValueError, PyZeroDivisionError,
};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{
    PyDict, PyFloat, PyList, PyMapping, PySet, PyString, PyTuple, PyWeakrefMethods,
    PyWeakrefReference,
};
use scalargrad::Value;

/// A scalar with a gradient: micrograd's `Value`, backed by Rust.
///
/// Its node lives in the arena of the thread that created it: another thread that touches
/// it gets a `RuntimeError` saying so (see [`Owned`]).
///
/// Besides the Rust node it keeps what micrograd's `Value` shows of itself: how it was
/// made ([`Trace`]: the operands as Python objects, so `_prev` can be drawn in micrograd's
/// shape by `scalargrad/_shape.py`), `label`, `_op`, `_prev` and a `_backward` written in
/// Python. Subclassable, with a `__dict__` (any attribute) and weak references.
#[pyclass(name = "Value", module = "scalargrad.engine", subclass, dict, weakref)]
pub struct PyValue {
    v: Owned,
    trace: Trace,
    /// A Python `_backward` may sit at or below this node: [`PyValue::backward`] then runs
    /// micrograd's algorithm (`_shape.backward`) instead of the Rust reverse pass.
    custom: bool,
    label: Option<Py<PyAny>>,
    op: Option<Py<PyAny>>,
    prev: Option<Py<PyAny>>,
    /// Counted in [`OVERRIDES`] (a `_backward` assigned to a built-in node).
    overridden: bool,
}

/// How a `Value` was made, with its operands as the Python objects they were.
enum Trace {
    /// `Value(x)`, a view, or a node made with `_children` (its `prev` holds them).
    Leaf,
    /// A binary op (`+ - * / ** max min`) of two operands: `f` is its Rust rule.
    Op2(&'static str, fn(&Value, &Value) -> Value, Arg, Arg),
    /// A unary op (`neg`, `relu`, `tanh`, the op list, `abs`, `log`).
    Op1(&'static str, fn(&Value) -> Value, Py<PyAny>),
    /// `x ** k` for a number `k` (the Python object, for micrograd's `'**2'`).
    PowK(Py<PyAny>, Py<PyAny>, f64),
    /// Neuron `i` of layer `l` of a network call: its output, or (`act`) its `b + w·x`.
    Net(Py<NetTrace>, u32, u32, bool),
    /// A node of micrograd's shape that the Rust graph fused away (`-b` in `a - b`, a
    /// partial sum of a neuron): its gradient is `factor ×` that of the node it lives in
    /// (held by a weak reference: that node's `_prev` holds the view, and the collector
    /// cannot see references kept in Rust, so a strong one would be a cycle it never frees).
    View(Py<PyWeakrefReference>, f64),
}

/// An operand: a `Value` (the Python object) or a number.
enum Arg {
    Value(Py<PyAny>),
    Number(f64),
}

impl Arg {
    fn to_object(&self, py: Python<'_>) -> Py<PyAny> {
        match self {
            Arg::Value(o) => o.clone_ref(py),
            Arg::Number(x) => PyFloat::new(py, *x).into_any().unbind(),
        }
    }
}

impl PyValue {
    fn traced(v: Value, trace: Trace, custom: bool) -> PyValue {
        PyValue {
            v: Owned {
                v: ManuallyDrop::new(v),
                thread: this_thread(),
            },
            trace,
            custom,
            label: None,
            op: None,
            prev: None,
            overridden: false,
        }
    }
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

thread_local! {
    static THIS_THREAD: ThreadId = thread::current().id();
}

/// This thread's id, from a thread-local (`thread::current()` clones an `Arc` each call).
#[inline]
fn this_thread() -> ThreadId {
    THIS_THREAD.with(|t| *t)
}

impl Owned {
    fn get(&self) -> PyResult<&Value> {
        if this_thread() == self.thread {
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
        if this_thread() == self.thread {
            // SAFETY: dropped once, here, on the thread that owns it
            unsafe { ManuallyDrop::drop(&mut self.v) }
        }
    }
}

impl From<Value> for PyValue {
    fn from(v: Value) -> Self {
        PyValue::traced(v, Trace::Leaf, false)
    }
}

/// What can stand on the other side of an operator.
enum Operand {
    Value(Value),
    Number(f64),
}

/// One side of an operator: its number or node, the Python object, and whether a Python
/// `_backward` may sit below it.
struct Side {
    val: Operand,
    arg: Arg,
    custom: bool,
}

/// `Some` for a `Value` or a real number (int, float, numpy scalar, anything with
/// `__float__`/`__index__`), `None` for anything else; `ValueError` for an int too large
/// for a float.
fn side(o: &Bound<'_, PyAny>) -> PyResult<Option<Side>> {
    if let Ok(v) = o.cast::<PyValue>() {
        let b = v.borrow();
        return Ok(Some(Side {
            val: Operand::Value(b.v.get()?.clone()),
            arg: Arg::Value(o.clone().unbind()),
            custom: b.custom,
        }));
    }
    Ok(number(o)?.map(|x| Side {
        val: Operand::Number(x),
        arg: Arg::Number(x),
        custom: false,
    }))
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

#[derive(Clone, Copy)]
enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl Bin {
    /// The name [`Trace::Op2`] keeps (`_shape.py` turns it into micrograd's shape).
    fn tag(self) -> &'static str {
        match self {
            Bin::Add => "+",
            Bin::Sub => "-",
            Bin::Mul => "*",
            Bin::Div => "/",
            Bin::Pow => "**v",
        }
    }

    /// The Rust rule, for `_backward`'s local derivatives.
    fn rule(self) -> fn(&Value, &Value) -> Value {
        match self {
            Bin::Add => |a, b| a + b,
            Bin::Sub => |a, b| a - b,
            Bin::Mul => |a, b| a * b,
            Bin::Div => |a, b| a / b,
            Bin::Pow => |a, b| a.pow_value(b),
        }
    }
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

/// `slf ∘ other` (`reflected`: `other ∘ slf`), or `NotImplemented`.
fn op2(
    slf: &Bound<'_, PyValue>,
    other: &Bound<'_, PyAny>,
    op: Bin,
    reflected: bool,
) -> PyResult<Py<PyAny>> {
    let py = slf.py();
    let Some(o) = side(other)? else {
        return Ok(py.NotImplemented());
    };
    let (mine, custom) = {
        let me = slf.borrow();
        (Operand::Value(me.v.get()?.clone()), me.custom || o.custom)
    };
    let v = if reflected {
        binary(&o.val, &mine, op)?
    } else {
        binary(&mine, &o.val, op)?
    };
    let me = slf.clone().into_any().unbind();
    let trace = match (op, reflected, o.val) {
        (Bin::Pow, false, Operand::Number(k)) => Trace::PowK(me, other.clone().unbind(), k),
        _ if reflected => Trace::Op2(op.tag(), op.rule(), o.arg, Arg::Value(me)),
        _ => Trace::Op2(op.tag(), op.rule(), Arg::Value(me), o.arg),
    };
    Ok(Py::new(py, PyValue::traced(v, trace, custom))?.into_any())
}

/// `f(slf)`, recorded as the unary op `tag`.
fn op1(slf: &Bound<'_, PyValue>, tag: &'static str, f: fn(&Value) -> Value) -> PyResult<PyValue> {
    let me = slf.borrow();
    let v = f(me.v.get()?);
    let trace = Trace::Op1(tag, f, slf.clone().into_any().unbind());
    Ok(PyValue::traced(v, trace, me.custom))
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
                fn $name(slf: &Bound<'_, Self>) -> PyResult<PyValue> {
                    let x = slf.borrow().v.get()?.data();
                    check_domain(stringify!($name), x, domain!($dom $($at)?))?;
                    op1(slf, stringify!($name), |v| v.$name())
                }
            )*
        }
    };
}

scalargrad::unary_ops!(list_methods);

thread_local! {
    /// How many live nodes of this thread had a Python `_backward` assigned after they were
    /// made (nodes computed from them earlier do not know): while any lives, `backward`
    /// runs micrograd's algorithm.
    static OVERRIDES: Cell<usize> = const { Cell::new(0) };
}

thread_local! {
    /// Operands of dying `Value`s, dropped one by one by the outermost drop: a
    /// 100,000-deep chain is freed in a loop, not 100,000 nested deallocations.
    static DYING: RefCell<Vec<Py<PyAny>>> = const { RefCell::new(Vec::new()) };
    static DRAINING: Cell<bool> = const { Cell::new(false) };
}

impl Drop for PyValue {
    fn drop(&mut self) {
        if self.overridden && this_thread() == self.v.thread {
            OVERRIDES.with(|c| c.set(c.get() - 1));
        }
        let defer = |o: Py<PyAny>| DYING.with(|d| d.borrow_mut().push(o));
        match std::mem::replace(&mut self.trace, Trace::Leaf) {
            Trace::Leaf | Trace::View(..) => return,
            Trace::Op2(_, _, a, b) => {
                for x in [a, b] {
                    if let Arg::Value(o) = x {
                        defer(o);
                    }
                }
            }
            Trace::Op1(_, _, a) => defer(a),
            Trace::PowK(a, k, _) => {
                defer(a);
                defer(k);
            }
            Trace::Net(rec, ..) => defer(rec.into_any()),
        }
        if DRAINING.with(|d| d.replace(true)) {
            return; // an outer drop is draining the list
        }
        while let Some(o) = DYING.with(|d| d.borrow_mut().pop()) {
            drop(o);
        }
        DRAINING.with(|d| d.set(false));
    }
}

/// `scalargrad._shape`, the Python half of micrograd's internals.
fn shape(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    py.import(intern!(py, "scalargrad._shape"))
}

/// A fresh leaf (tracked) or constant for `a`'s current value, for a local derivative.
fn fresh(py: Python<'_>, a: &Arg) -> PyResult<Value> {
    Ok(match a {
        Arg::Value(o) => Value::new(o.bind(py).cast::<PyValue>()?.borrow().v.get()?.data()),
        Arg::Number(x) => Value::constant(*x),
    })
}

fn data_of(o: &Bound<'_, PyAny>) -> PyResult<f64> {
    match o.cast::<PyValue>() {
        Ok(v) => v.borrow().v.get().map(Value::data),
        Err(_) => require_number(o, "a network input"),
    }
}

#[pymethods]
impl PyValue {
    /// `Value(data, _children=(), _op='', label='')`, as micrograd and its lecture make it:
    /// a leaf whose gradient is tracked. With `_children` it is a node of the user's own:
    /// `_prev` holds them and, as in micrograd, it passes no gradient unless `_backward` is
    /// assigned a function.
    #[new]
    #[pyo3(signature = (data, _children = None, _op = None, label = None))]
    fn new(
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        _children: Option<&Bound<'_, PyAny>>,
        _op: Option<&Bound<'_, PyAny>>,
        label: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let data = require_number(data, "Value data")?;
        let mut me = PyValue::from(Value::new(data));
        if let Some(ch) = _children {
            let set = PySet::empty(py)?;
            for c in ch.try_iter()? {
                set.add(c?)?;
            }
            me.custom = !set.is_empty();
            me.prev = Some(set.into_any().unbind());
        }
        me.op = _op.map(|o| o.clone().unbind());
        me.label = label.map(|l| l.clone().unbind());
        me.name_node();
        Ok(me)
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
    fn get_grad(&self, py: Python<'_>) -> PyResult<f64> {
        if let Trace::View(of, factor) = &self.trace {
            return match of.bind(py).upgrade() {
                // `0.0 +`: accumulated from micrograd's 0, a gradient is never -0.0
                Some(of) => Ok(0.0 + factor * of.cast::<PyValue>()?.borrow().v.get()?.grad()),
                None => Ok(0.0),
            };
        }
        Ok(self.v.get()?.grad())
    }

    #[setter]
    fn set_grad(&self, py: Python<'_>, grad: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let grad = grad.ok_or_else(|| PyTypeError::new_err("cannot delete Value.grad"))?;
        let grad = require_number(grad, "Value.grad")?;
        if let Trace::View(of, factor) = &self.trace {
            if let (Some(of), true) = (of.bind(py).upgrade(), *factor != 0.0) {
                of.cast::<PyValue>()?
                    .borrow()
                    .v
                    .get()?
                    .set_grad(grad / factor);
            }
            return Ok(());
        }
        self.v.get()?.set_grad(grad);
        Ok(())
    }

    /// The name shown in pictures (micrograd's lecture's `label`), `''` until set.
    #[getter]
    fn get_label(&self, py: Python<'_>) -> Py<PyAny> {
        match &self.label {
            Some(l) => l.clone_ref(py),
            None => intern!(py, "").clone().into_any().unbind(),
        }
    }

    #[setter]
    fn set_label(&mut self, label: Option<&Bound<'_, PyAny>>) {
        self.label = label.map(|l| l.clone().unbind());
        self.name_node();
    }

    /// The op that made this node, in micrograd's words: `'+'`, `'*'`, `'**2'`, `'ReLU'`,
    /// `'tanh'`, `'exp'`, … (`''` for a leaf). `a - b` is a `'+'`, `a / b` a `'*'`, as in
    /// micrograd.
    #[getter(_op)]
    fn get_op(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if let Some(op) = &self.op {
            return Ok(op.clone_ref(py));
        }
        let s: String = match &self.trace {
            Trace::Leaf | Trace::View(..) => String::new(),
            Trace::Op2(tag, ..) => match *tag {
                "+" | "-" => "+".into(),
                "*" | "/" => "*".into(),
                "**v" => "**".into(),
                t => t.into(),
            },
            Trace::Op1(tag, ..) => match *tag {
                "neg" => "*".into(),
                "relu" => "ReLU".into(),
                t => t.into(),
            },
            Trace::PowK(_, k, _) => format!("**{}", k.bind(py).str()?),
            Trace::Net(rec, l, i, act) => {
                let relu = rec.bind(py).borrow().relu[*l as usize][*i as usize];
                if relu && !act {
                    "ReLU".into()
                } else {
                    "+".into()
                }
            }
        };
        Ok(PyString::new(py, &s).into_any().unbind())
    }

    #[setter(_op)]
    fn set_op(&mut self, op: Option<&Bound<'_, PyAny>>) {
        self.op = op.map(|o| o.clone().unbind());
    }

    /// The `set` of the `Value`s this one was made from, in micrograd's shape (`a - b` is
    /// `a + (-b)` with `-b = b * -1`; a number operand is a leaf `Value`; a neuron is its
    /// chain of `*` and `+`). Built on first use, then the same set each time.
    #[getter(_prev)]
    fn get_prev(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        slf.borrow().v.get()?; // its views would be made in this thread's arena
        if let Some(p) = &slf.borrow().prev {
            return Ok(p.clone_ref(slf.py()));
        }
        let p = shape(slf.py())?.call_method1(intern!(slf.py(), "expand"), (slf,))?;
        slf.borrow_mut().prev = Some(p.clone().unbind());
        Ok(p.unbind())
    }

    #[setter(_prev)]
    fn set_prev(&mut self, prev: Option<&Bound<'_, PyAny>>) {
        self.prev = prev.map(|p| p.clone().unbind());
    }

    /// This node's step of the chain rule: a function that adds `∂self/∂child · self.grad`
    /// to each child's `grad` (what micrograd's `_backward` closures do). Assign a function
    /// of your own (the lecture's `tanh`) and `backward()` calls it at this node.
    #[getter(_backward)]
    fn get_backward(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        if let Some(f) = slf
            .getattr(intern!(slf.py(), "__dict__"))?
            .cast::<PyDict>()?
            .get_item(intern!(slf.py(), "_backward"))?
        {
            return Ok(f.unbind());
        }
        Ok(slf.getattr(intern!(slf.py(), "_local_backward"))?.unbind())
    }

    /// (Kept in the instance's `__dict__`, where the collector sees it: the lecture's
    /// closures refer to their node, a cycle.)
    #[setter(_backward)]
    fn set_backward(slf: &Bound<'_, Self>, f: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let py = slf.py();
        {
            let mut me = slf.borrow_mut();
            if !me.custom && !me.overridden && this_thread() == me.v.thread {
                OVERRIDES.with(|c| c.set(c.get() + 1));
                me.overridden = true;
            }
            me.custom = true;
        }
        let d = slf.getattr(intern!(py, "__dict__"))?;
        let d = d.cast::<PyDict>()?;
        match f {
            Some(f) => d.set_item(intern!(py, "_backward"), f)?,
            None => {
                let _ = d.del_item(intern!(py, "_backward"));
            }
        }
        Ok(())
    }

    /// The built-in `_backward`: `child.grad += ∂self/∂child · self.grad` for each child
    /// the Rust node was computed from, with the crate's rules.
    fn _local_backward(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let g = slf.getattr(intern!(py, "grad"))?.extract::<f64>()?;
        for (child, d) in partials(slf)? {
            let child = child.bind(py);
            let old = child.getattr(intern!(py, "grad"))?;
            child.setattr(intern!(py, "grad"), old.add(d * g)?)?;
        }
        Ok(())
    }

    /// `[(child, ∂self/∂child), …]` for the inputs of the Rust node (not micrograd's
    /// shape: `a - b` has `a` and `b`), at their current values.
    fn _partials(slf: &Bound<'_, Self>) -> PyResult<Vec<(Py<PyAny>, f64)>> {
        partials(slf)
    }

    /// How this node was made, for `scalargrad._shape`: `('leaf',)`, `(tag, a, b)`,
    /// `(tag, a)`, `('**k', a, k)` or `('net', trace, layer, neuron, act)`.
    fn _trace(slf: &Bound<'_, Self>) -> PyResult<Py<PyTuple>> {
        let py = slf.py();
        let me = slf.borrow();
        let t = match &me.trace {
            Trace::Leaf | Trace::View(..) => PyTuple::new(py, ["leaf"])?,
            Trace::Op2(tag, _, a, b) => {
                (*tag, a.to_object(py), b.to_object(py)).into_pyobject(py)?
            }
            Trace::Op1(tag, _, a) => (*tag, a.clone_ref(py)).into_pyobject(py)?,
            Trace::PowK(a, k, _) => ("**k", a.clone_ref(py), k.clone_ref(py)).into_pyobject(py)?,
            Trace::Net(rec, l, i, act) => {
                ("net", rec.clone_ref(py), *l, *i, *act).into_pyobject(py)?
            }
        };
        Ok(t.unbind())
    }

    /// Adds `d self / d n` to the `grad` of every `n` this value was computed from; the
    /// root is seeded with 1. No recursion limit; two calls add exactly twice. With a
    /// Python `_backward` in the graph, this is micrograd's algorithm instead
    /// (`scalargrad._shape.backward`: `self.grad = 1`, every node's `_backward` in reverse
    /// topological order).
    fn backward(slf: &Bound<'_, Self>) -> PyResult<()> {
        let me = slf.borrow();
        if me.custom || OVERRIDES.with(Cell::get) > 0 {
            drop(me);
            shape(slf.py())?.call_method1(intern!(slf.py(), "backward"), (slf,))?;
            return Ok(());
        }
        me.v.get()?.backward();
        Ok(())
    }

    fn __add__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(slf, other, Bin::Add, false)
    }
    fn __radd__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(slf, other, Bin::Add, true)
    }
    fn __sub__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(slf, other, Bin::Sub, false)
    }
    fn __rsub__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(slf, other, Bin::Sub, true)
    }
    fn __mul__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(slf, other, Bin::Mul, false)
    }
    fn __rmul__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(slf, other, Bin::Mul, true)
    }
    fn __truediv__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(slf, other, Bin::Div, false)
    }
    fn __rtruediv__(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        op2(slf, other, Bin::Div, true)
    }
    fn __pow__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Ok(slf.py().NotImplemented());
        }
        op2(slf, other, Bin::Pow, false)
    }
    fn __rpow__(
        slf: &Bound<'_, Self>,
        other: &Bound<'_, PyAny>,
        modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Ok(slf.py().NotImplemented());
        }
        op2(slf, other, Bin::Pow, true)
    }
    fn __neg__(slf: &Bound<'_, Self>) -> PyResult<PyValue> {
        op1(slf, "neg", |v| -v)
    }

    /// Natural logarithm (the Rust crate's `ln`); `ValueError` for `x <= 0` (as `math.log`).
    fn log(slf: &Bound<'_, Self>) -> PyResult<PyValue> {
        check_domain("log", slf.borrow().v.get()?.data(), Domain::Above(0.0))?;
        op1(slf, "log", |v| v.ln())
    }
    /// `abs(v)`: `|x|`, derivative `sign x` (0 at 0).
    fn __abs__(slf: &Bound<'_, Self>) -> PyResult<PyValue> {
        op1(slf, "abs", |v| v.abs())
    }
    /// The larger of this and `other` (a Value or a number); on a tie each gets half the
    /// gradient.
    fn max(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<PyValue> {
        minmax(slf, other, "max", |a, b| a.max(b))
    }
    /// The smaller of this and `other` (a Value or a number); on a tie each gets half the
    /// gradient.
    fn min(slf: &Bound<'_, Self>, other: &Bound<'_, PyAny>) -> PyResult<PyValue> {
        minmax(slf, other, "min", |a, b| a.min(b))
    }

    /// Graphviz DOT text of this value and everything it was computed from (the Rust
    /// graph, fused nodes and all).
    fn to_dot(&self) -> PyResult<String> {
        Ok(self.v.get()?.to_dot())
    }

    /// An SVG picture of the Rust graph under this value, drawn by the crate
    /// (`Value::to_svg`). `scalargrad.draw` draws micrograd's shape, with labels.
    fn to_svg(&self) -> PyResult<String> {
        Ok(self.v.get()?.to_svg().to_string())
    }

    /// micrograd's repr: `Value(data=2.0, grad=0)` (a zero gradient prints as micrograd's
    /// untouched `0`).
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        let data = PyFloat::new(py, slf.borrow().v.get()?.data()).repr()?;
        let g: f64 = slf.getattr(intern!(py, "grad"))?.extract()?;
        let grad = if g == 0.0 && g.is_sign_positive() {
            "0".to_string()
        } else {
            PyFloat::new(py, g).repr()?.to_string()
        };
        Ok(format!("Value(data={data}, grad={grad})"))
    }

    /// For `copy`, `copy.deepcopy` and `pickle`: a leaf of the same class with the same
    /// `data`, `grad`, `label` and attributes (a computed value becomes a leaf).
    fn __reduce__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let me = slf.borrow();
        let state = PyDict::new(py);
        if let Ok(d) = slf.getattr(intern!(py, "__dict__")) {
            state.update(d.cast::<PyMapping>()?)?;
            let _ = state.del_item(intern!(py, "_backward")); // a closure over this graph
        }
        state.set_item("grad", me.v.get()?.grad())?;
        if let Some(l) = &me.label {
            state.set_item("label", l)?;
        }
        let args = (me.v.get()?.data(),);
        Ok((slf.get_type(), args, state)
            .into_pyobject(py)?
            .into_any()
            .unbind())
    }

    fn __setstate__(slf: &Bound<'_, Self>, state: &Bound<'_, PyDict>) -> PyResult<()> {
        for (k, v) in state.iter() {
            slf.setattr(k.cast::<PyString>()?, v)?;
        }
        Ok(())
    }
}

/// `max`/`min` with a Value or a number.
fn minmax(
    slf: &Bound<'_, PyValue>,
    other: &Bound<'_, PyAny>,
    tag: &'static str,
    f: fn(&Value, &Value) -> Value,
) -> PyResult<PyValue> {
    let Some(o) = side(other)? else {
        return Err(PyTypeError::new_err(format!(
            "Value.{tag} takes a Value or a number, not {}",
            other.get_type().name()?
        )));
    };
    let me = slf.borrow();
    let b = match &o.val {
        Operand::Value(v) => v.clone(),
        Operand::Number(x) => Value::constant(*x),
    };
    let v = f(me.v.get()?, &b);
    let trace = Trace::Op2(tag, f, Arg::Value(slf.clone().into_any().unbind()), o.arg);
    Ok(PyValue::traced(v, trace, me.custom || o.custom))
}

/// The local derivatives of `slf`'s Rust node with respect to its inputs (Python objects),
/// from the crate's own rules: the op re-recorded on fresh leaves and differentiated.
fn partials(slf: &Bound<'_, PyValue>) -> PyResult<Vec<(Py<PyAny>, f64)>> {
    let py = slf.py();
    let me = slf.borrow();
    let mut out = Vec::new();
    match &me.trace {
        Trace::Leaf | Trace::View(..) => {}
        Trace::Op2(_, f, a, b) => {
            let (x, y) = (fresh(py, a)?, fresh(py, b)?);
            f(&x, &y).backward();
            for (arg, d) in [(a, x.grad()), (b, y.grad())] {
                if let Arg::Value(o) = arg {
                    out.push((o.clone_ref(py), d));
                }
            }
        }
        Trace::Op1(_, f, a) => {
            let x = fresh(py, &Arg::Value(a.clone_ref(py)))?;
            f(&x).backward();
            out.push((a.clone_ref(py), x.grad()));
        }
        Trace::PowK(a, _, k) => {
            let x = fresh(py, &Arg::Value(a.clone_ref(py)))?;
            x.pow(*k).backward();
            out.push((a.clone_ref(py), x.grad()));
        }
        Trace::Net(rec, l, i, act) => {
            let recb = rec.bind(py);
            let r = recb.borrow();
            let (l, i) = (*l as usize, *i as usize);
            if r.relu[l][i] && !act {
                let x = Value::new(r.handle(l, i, true)?.data());
                x.relu().backward();
                let node = NetTrace::node(recb, l as u32, i as u32, true)?;
                out.push((node.into_any(), x.grad()));
            } else {
                let neuron = r.layers[l].bind(py).get_item(i)?;
                let b = neuron.getattr(intern!(py, "b"))?;
                let w = neuron.getattr(intern!(py, "w"))?;
                drop(r);
                let xs = NetTrace::inputs(recb, l as u32)?;
                out.push((b.unbind(), 1.0));
                for (wk, xk) in w.try_iter()?.zip(xs.bind(py).iter()) {
                    let wk = wk?;
                    let (wd, xd) = (data_of(&wk)?, data_of(&xk)?);
                    out.push((wk.unbind(), xd));
                    if xk.cast::<PyValue>().is_ok() {
                        out.push((xk.unbind(), wd));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A neuron's output: `b + w₀x₀ + w₁x₁ + …` (micrograd's order, one node), then `relu` if
/// `nonlin`. `w` is a list of `Value`; `x` a sequence of `Value`s or numbers. (Untraced:
/// `scalargrad.nn` calls [`layer`].)
#[pyfunction]
fn neuron(
    b: PyRef<'_, PyValue>,
    w: &Bound<'_, PyList>,
    x: &Bound<'_, PyAny>,
    nonlin: bool,
) -> PyResult<PyValue> {
    let (_, xs, _) = inputs(x)?;
    let xs: Vec<&Value> = xs.iter().collect();
    let (ws, _) = weights(w)?;
    let ws: Vec<&Value> = ws.iter().map(|w| &*w.v.v).collect();
    let (_, out) = neuron_out(b.v.get()?, &ws, &xs, nonlin)?;
    Ok(PyValue::from(out))
}

/// The outputs of a layer's `neurons` (objects with micrograd's `w`, `b`, `nonlin`) on one
/// input `x`, which is converted once: a list, or the one `Value` of a one-neuron layer.
#[pyfunction]
fn layer(py: Python<'_>, neurons: &Bound<'_, PyList>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    run_net(py, vec![neurons.clone().unbind()], x)
}

/// A whole network's output on one input `x`: `layers` are objects with micrograd's
/// `neurons`, each neuron with `w`, `b`, `nonlin`. The hidden layers' outputs stay in Rust
/// (no Python object per hidden value until `_prev` asks for one); the result is a list,
/// or the one `Value` of a one-output network.
#[pyfunction]
fn mlp(py: Python<'_>, layers: &Bound<'_, PyList>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let mut lists = Vec::with_capacity(layers.len());
    for layer in layers.iter() {
        let neurons = layer.getattr(intern!(py, "neurons"))?;
        let neurons = neurons
            .cast_into::<PyList>()
            .map_err(|_| PyTypeError::new_err("a Layer's neurons must be a list"))?;
        lists.push(neurons.unbind());
    }
    run_net(py, lists, x)
}

/// Runs the layers on `x` and records a [`NetTrace`] the outputs share.
fn run_net(py: Python<'_>, layers: Vec<Py<PyList>>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let (x_objs, xs, mut custom) = inputs(x)?;
    if layers.is_empty() {
        let outs = xs.into_iter().map(PyValue::from).collect();
        return wrap_outputs(py, outs);
    }
    let mut acts: Vec<Vec<Value>> = Vec::with_capacity(layers.len());
    let mut outs: Vec<Vec<Value>> = Vec::with_capacity(layers.len());
    let mut relu = Vec::with_capacity(layers.len());
    for neurons in &layers {
        let neurons = neurons.bind(py);
        let (a, o, r, c) = {
            let cur: Vec<&Value> = match outs.last() {
                Some(o) => o.iter().collect(),
                None => xs.iter().collect(),
            };
            layer_values(py, neurons, &cur)?
        };
        custom |= c;
        acts.push(a);
        outs.push(o);
        relu.push(r);
    }
    let last = outs.last().expect("a layer").clone();
    let n_layers = layers.len() as u32;
    let rec = Py::new(
        py,
        NetTrace {
            layers,
            x: x_objs,
            acts: ManuallyDrop::new(acts),
            outs: ManuallyDrop::new(outs),
            thread: this_thread(),
            relu,
            custom,
            cache: Mutex::new(HashMap::new()),
        },
    )?;
    let outs = last
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let t = Trace::Net(rec.clone_ref(py), n_layers - 1, i as u32, false);
            PyValue::traced(v, t, custom)
        })
        .collect();
    wrap_outputs(py, outs)
}

/// Each neuron of `neurons` on the input `xs`: pre-activations, outputs, which are relu,
/// and whether a Python `_backward` sits below a weight or a bias.
#[allow(clippy::type_complexity)]
fn layer_values(
    py: Python<'_>,
    neurons: &Bound<'_, PyList>,
    xs: &[&Value],
) -> PyResult<(Vec<Value>, Vec<Value>, Vec<bool>, bool)> {
    let n = neurons.len();
    let (mut acts, mut outs, mut relu) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let mut custom = false;
    for nr in neurons.iter() {
        let b = nr.getattr(intern!(py, "b"))?;
        let b = b
            .cast::<PyValue>()
            .map_err(|_| PyTypeError::new_err("a Neuron's bias must be a Value"))?
            .borrow();
        let w = nr.getattr(intern!(py, "w"))?;
        let w = w
            .cast::<PyList>()
            .map_err(|_| PyTypeError::new_err("a Neuron's weights must be a list of Values"))?;
        let nonlin = nr.getattr(intern!(py, "nonlin"))?.is_truthy()?;
        let (ws, c) = weights(w)?;
        custom |= c || b.custom;
        let ws: Vec<&Value> = ws.iter().map(|w| &*w.v.v).collect();
        let (a, o) = neuron_out(b.v.get()?, &ws, xs, nonlin)?;
        acts.push(a);
        outs.push(o);
        relu.push(nonlin);
    }
    Ok((acts, outs, relu, custom))
}

/// A neuron's weights (borrowed) and whether a Python `_backward` sits below one.
fn weights<'py>(w: &Bound<'py, PyList>) -> PyResult<(Vec<PyRef<'py, PyValue>>, bool)> {
    let mut custom = false;
    let ws = w
        .iter()
        .map(|o| {
            let v = o
                .cast_into::<PyValue>()
                .map_err(|_| PyTypeError::new_err("a Neuron's weights must be Values"))?
                .borrow();
            v.v.get()?;
            custom |= v.custom;
            Ok(v)
        })
        .collect::<PyResult<Vec<_>>>()?;
    Ok((ws, custom))
}

/// A list of `Value`s, or the one `Value` if there is one (micrograd's layer convention).
fn wrap_outputs(py: Python<'_>, mut out: Vec<PyValue>) -> PyResult<Py<PyAny>> {
    if out.len() == 1 {
        let v = out.pop().expect("one output");
        return Ok(Py::new(py, v)?.into_any());
    }
    let objs = out
        .into_iter()
        .map(|v| Py::new(py, v))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyList::new(py, objs)?.into_any().unbind())
}

/// `(b + w·x, its relu or itself)`.
fn neuron_out(b: &Value, ws: &[&Value], xs: &[&Value], nonlin: bool) -> PyResult<(Value, Value)> {
    if ws.len() != xs.len() {
        return Err(PyValueError::new_err(format!(
            "this Neuron takes {} inputs, got {}",
            ws.len(),
            xs.len()
        )));
    }
    let act = Value::affine(b, ws.iter().copied(), xs.iter().copied());
    let out = if nonlin { act.relu() } else { act.clone() };
    Ok((act, out))
}

/// A sequence of `Value`s or numbers: the Python objects, the handles (numbers become
/// constants), and whether a Python `_backward` sits below one.
fn inputs(x: &Bound<'_, PyAny>) -> PyResult<(Vec<Py<PyAny>>, Vec<Value>, bool)> {
    let mut custom = false;
    let mut objs = Vec::new();
    let mut vals = Vec::new();
    let mut item = |o: Bound<'_, PyAny>| -> PyResult<()> {
        if let Ok(v) = o.cast::<PyValue>() {
            let v = v.borrow();
            custom |= v.custom;
            vals.push(v.v.get()?.clone());
        } else {
            match number(&o)? {
                Some(n) => vals.push(Value::constant(n)),
                None => {
                    return Err(PyTypeError::new_err(format!(
                        "a network input must be a Value or a number, not {}",
                        o.get_type().name()?
                    )))
                }
            }
        }
        objs.push(o.unbind());
        Ok(())
    };
    if let Ok(l) = x.cast::<PyList>() {
        for o in l.iter() {
            item(o)?;
        }
    } else if let Ok(t) = x.cast::<PyTuple>() {
        for o in t.iter() {
            item(o)?;
        }
    } else {
        for o in x.try_iter()? {
            item(o?)?;
        }
    }
    Ok((objs, vals, custom))
}

/// What a network call made, kept by its outputs so that `_prev` can show every neuron
/// (micrograd's shape) and `_backward` can step through it: the layers' neuron lists, the
/// input objects, each neuron's `b + w·x` and output handles. Hidden nodes get a Python
/// object on first use (`node`), the same one each time.
#[pyclass(module = "scalargrad._core")]
pub struct NetTrace {
    layers: Vec<Py<PyList>>,
    x: Vec<Py<PyAny>>,
    acts: ManuallyDrop<Vec<Vec<Value>>>,
    outs: ManuallyDrop<Vec<Vec<Value>>>,
    thread: ThreadId,
    relu: Vec<Vec<bool>>,
    custom: bool,
    /// Weak references: a hidden node holds this trace, and the collector cannot see
    /// references kept in Rust.
    cache: Mutex<HashMap<(u32, u32, bool), Py<PyWeakrefReference>>>,
}

// SAFETY: as for `Owned`: the handles are read only on `thread` (`NetTrace::handle`
// checks) and dropped only there (elsewhere they leak).
unsafe impl Send for NetTrace {}
unsafe impl Sync for NetTrace {}

impl Drop for NetTrace {
    fn drop(&mut self) {
        if this_thread() == self.thread {
            // SAFETY: dropped once, here, on the thread that owns them
            unsafe {
                ManuallyDrop::drop(&mut self.acts);
                ManuallyDrop::drop(&mut self.outs);
            }
        }
    }
}

impl NetTrace {
    /// Neuron `(l, i)`'s `b + w·x` (`act`) or output handle, on its own thread only.
    fn handle(&self, l: usize, i: usize, act: bool) -> PyResult<&Value> {
        if this_thread() != self.thread {
            return Err(PyRuntimeError::new_err(
                "this Value belongs to the thread that made it (its graph lives in that \
                 thread's arena); use it there, or send its .data to this thread",
            ));
        }
        Ok(if act {
            &self.acts[l][i]
        } else {
            &self.outs[l][i]
        })
    }
}

#[pymethods]
impl NetTrace {
    /// Neuron `i` of layer `l`: its output, or (`act`) its `b + w·x`, as a `Value`.
    fn node(slf: &Bound<'_, Self>, l: u32, i: u32, act: bool) -> PyResult<Py<PyValue>> {
        let py = slf.py();
        let me = slf.borrow();
        let mut cache = me.cache.lock().expect("not poisoned");
        if let Some(v) = cache.get(&(l, i, act)).and_then(|w| w.bind(py).upgrade()) {
            return Ok(v.cast_into::<PyValue>()?.unbind());
        }
        let (lu, iu) = (l as usize, i as usize);
        let h = me.handle(lu, iu, act)?;
        let t = Trace::Net(slf.clone().unbind(), l, i, act);
        let v = Py::new(py, PyValue::traced(h.clone(), t, me.custom))?;
        cache.insert((l, i, act), PyWeakrefReference::new(v.bind(py))?.unbind());
        Ok(v)
    }

    /// The neuron object behind node `(l, i)`.
    fn neuron(&self, py: Python<'_>, l: usize, i: usize) -> PyResult<Py<PyAny>> {
        Ok(self.layers[l].bind(py).get_item(i)?.unbind())
    }

    /// Whether neuron `(l, i)` ends in `relu`.
    fn is_relu(&self, l: usize, i: usize) -> bool {
        self.relu[l][i]
    }

    /// The inputs of layer `l`: the network's inputs (Values or numbers), or the previous
    /// layer's outputs.
    fn inputs(slf: &Bound<'_, Self>, l: u32) -> PyResult<Py<PyList>> {
        let py = slf.py();
        if l == 0 {
            let me = slf.borrow();
            return Ok(PyList::new(py, me.x.iter().map(|o| o.clone_ref(py)))?.unbind());
        }
        let n = slf.borrow().outs[l as usize - 1].len() as u32;
        let items = (0..n)
            .map(|j| NetTrace::node(slf, l - 1, j, false))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyList::new(py, items)?.unbind())
    }
}

/// A node of micrograd's shape that the Rust graph fused away (for `scalargrad._shape`):
/// it holds `data`, and its gradient is `factor` times that of `of`.
#[pyfunction]
fn _view(data: f64, of: &Bound<'_, PyValue>, factor: f64) -> PyResult<PyValue> {
    let of = PyWeakrefReference::new(of)?.unbind();
    Ok(PyValue::traced(
        Value::constant(data),
        Trace::View(of, factor),
        false,
    ))
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
    m.add_class::<NetTrace>()?;
    m.add_function(wrap_pyfunction!(neuron, m)?)?;
    m.add_function(wrap_pyfunction!(layer, m)?)?;
    m.add_function(wrap_pyfunction!(mlp, m)?)?;
    m.add_function(wrap_pyfunction!(live_nodes, m)?)?;
    m.add_function(wrap_pyfunction!(_view, m)?)?;
    Ok(())
}

impl PyValue {
    /// Names the Rust node after `label` when it is a non-empty string, so that the crate's
    /// pictures (`to_svg`, `to_dot`) show it; on another thread the label stays Python's only.
    fn name_node(&self) {
        let text = Python::attach(|py| {
            self.label
                .as_ref()
                .and_then(|l| l.bind(py).extract::<String>().ok())
        });
        if let (Some(text), Ok(v)) = (text, self.v.get()) {
            if !text.is_empty() {
                v.set_name(&text);
            }
        }
    }
}
