"""scalargrad.Value in its own words: the ground micrograd's test file covers (values and
gradients of its two expressions), checked against closed forms and central finite
differences instead of PyTorch, plus what micrograd does not do."""

import math
import sys

import pytest

from scalargrad import Value
from scalargrad.engine import Value as EngineValue


def fd(f, x, h=1e-6):
    """Central finite difference of a float function."""
    return (f(x + h) - f(x - h)) / (2 * h)


def test_both_import_paths_are_the_same_class():
    assert Value is EngineValue
    assert Value.__module__ == "scalargrad.engine"


def test_sanity_expression_closed_form():
    # micrograd's test_sanity_check expression
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    # z = 3x + 2 = -10 < 0, so y = z^2 + z x + z x^2 and
    # dy/dx = 6z + (3x + z) + (3x^2 + 2xz)
    X, Z = -4.0, -10.0
    assert y.data == -20.0
    assert x.grad == 6 * Z + 3 * X + Z + 3 * X * X + 2 * X * Z == 46.0


def more_ops(a0, b0, Num=Value):
    """micrograd's test_more_ops expression, on Values or on floats."""
    a, b = Num(a0), Num(b0)
    relu = (lambda v: v.relu()) if Num is Value else (lambda v: max(v, 0.0))
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + relu(b + a)
    d += 3 * d + relu(b - a)
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return a, b, g


def test_more_ops_against_finite_differences():
    a, b, g = more_ops(-4.0, 2.0)
    g.backward()
    _, _, g_float = more_ops(-4.0, 2.0, float)
    assert g.data == pytest.approx(g_float, rel=1e-15)
    # micrograd's README prints these to 4 decimals
    assert round(g.data, 4) == 24.7041
    assert round(a.grad, 4) == 138.8338
    assert round(b.grad, 4) == 645.5773
    da = fd(lambda t: more_ops(t, 2.0, float)[2], -4.0)
    db = fd(lambda t: more_ops(-4.0, t, float)[2], 2.0)
    assert a.grad == pytest.approx(da, rel=1e-6)
    assert b.grad == pytest.approx(db, rel=1e-6)


UNARY = [
    ("relu", lambda v: v.relu(), lambda x: max(x, 0.0), [-1.5, 0.7]),
    ("tanh", lambda v: v.tanh(), math.tanh, [-2.0, 0.3, 1.1]),
    ("exp", lambda v: v.exp(), math.exp, [-1.0, 0.5, 2.0]),
    ("sigmoid", lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x)), [-3.0, 0.0, 2.0]),
    ("log", lambda v: v.log(), math.log, [0.1, 1.0, 7.0]),
    ("neg", lambda v: -v, lambda x: -x, [2.0]),
    ("pow 3", lambda v: v**3, lambda x: x**3, [-1.2, 2.0]),
    ("pow -1", lambda v: v**-1, lambda x: x**-1, [0.5, -3.0]),
    ("pow 0.5", lambda v: v**0.5, lambda x: x**0.5, [0.25, 4.0]),
    ("rpow", lambda v: 2**v, lambda x: 2**x, [-1.0, 3.0]),
    ("radd", lambda v: 3 + v, lambda x: 3 + x, [1.0]),
    ("rsub", lambda v: 3 - v, lambda x: 3 - x, [1.0]),
    ("rmul", lambda v: 3 * v, lambda x: 3 * x, [1.0]),
    ("rdiv", lambda v: 3 / v, lambda x: 3 / x, [0.5, -2.0]),
    ("sub", lambda v: v - 3, lambda x: x - 3, [1.0]),
    ("div", lambda v: v / 4, lambda x: x / 4, [1.0]),
    ("sin", lambda v: v.sin(), math.sin, [-1.0, 0.4]),
    ("cos", lambda v: v.cos(), math.cos, [-1.0, 0.4]),
    ("sqrt", lambda v: v.sqrt(), math.sqrt, [0.3, 4.0]),
    ("abs", lambda v: abs(v), abs, [-2.0, 0.5]),
    ("log1p", lambda v: v.log1p(), math.log1p, [-0.5, 1e-3, 3.0]),
    ("softplus", lambda v: v.softplus(), lambda x: max(x, 0) + math.log1p(math.exp(-abs(x))), [-3.0, 0.0, 2.0]),
    ("max", lambda v: v.max(0.5), lambda x: max(x, 0.5), [-1.0, 2.0]),
    ("min", lambda v: v.min(Value(0.5)), lambda x: min(x, 0.5), [-1.0, 2.0]),
]


@pytest.mark.parametrize("name,op,f,points", UNARY, ids=[u[0] for u in UNARY])
def test_each_op_value_and_gradient(name, op, f, points):
    for x0 in points:
        x = Value(x0)
        y = op(x)
        assert y.data == pytest.approx(f(x0), rel=1e-15, abs=1e-300)
        y.backward()
        assert x.grad == pytest.approx(fd(f, x0), rel=1e-7, abs=1e-9), (name, x0)


def test_value_exponent_both_gradients():
    a, b = Value(1.5), Value(2.5)
    y = a**b
    y.backward()
    assert y.data == 1.5**2.5
    assert a.grad == pytest.approx(2.5 * 1.5**1.5, rel=1e-15)
    assert b.grad == pytest.approx(1.5**2.5 * math.log(1.5), rel=1e-15)


def test_x_plus_x_and_x_times_x():
    x = Value(3.0)
    (x + x).backward()
    assert x.grad == 2.0
    x.grad = 0
    (x * x).backward()
    assert x.grad == 6.0


def test_data_and_grad_are_writable_and_take_ints():
    x = Value(2)
    assert isinstance(x.data, float) and x.data == 2.0
    x.data = 5
    x.grad = 3
    assert (x.data, x.grad) == (5.0, 3.0)
    x.data -= 0.5 * x.grad
    assert x.data == 3.5
    assert Value(True).data == 1.0


def test_numpy_scalars_on_either_side():
    np = pytest.importorskip("numpy", reason="numpy is optional; install it to run this test")
    x = Value(2.0)
    for s in (np.float64(3.0), np.float32(3.0), np.int64(3), np.int32(3)):
        assert (x * s).data == 6.0
        assert (x + s).data == 5.0
        assert (x - s).data == -1.0
        assert (x / s).data == pytest.approx(2 / 3)
        assert (x**s).data == 8.0
    # numpy's own scalars on the left defer to Value or broadcast through it
    y = np.float64(3.0) * x
    assert float(getattr(y, "data", y)) == 6.0


def test_sum_of_values():
    xs = [Value(float(i)) for i in range(1, 6)]
    s = sum(xs)
    assert isinstance(s, Value) and s.data == 15.0
    s.backward()
    assert [x.grad for x in xs] == [1.0] * 5


def test_repr_like_micrograd():
    x = Value(2.0)
    assert repr(x) == "Value(data=2.0, grad=0)"  # micrograd's untouched int 0
    (x * 3).backward()
    assert repr(x) == "Value(data=2.0, grad=3.0)"


def test_backward_twice_accumulates_exactly_twice():
    # micrograd gives 3x here: its second call re-propagates the gradients the first left
    # in the intermediate nodes
    x = Value(0.7)
    u = (x * x).tanh()
    y = u * u + u * x
    y.backward()
    once = (x.grad, u.grad)
    y.backward()
    assert (x.grad, u.grad) == (2 * once[0], 2 * once[1])
    assert y.grad == 2.0


def test_hundred_thousand_deep_chain_has_no_recursion_limit():
    assert sys.getrecursionlimit() < 100_000
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = y * 0.99999 + 1e-6
    y.backward()
    assert x.grad == pytest.approx(0.99999**100_000, rel=1e-9)
    del y  # freed iteratively too


def test_bad_operands_raise_type_error():
    x = Value(1.0)
    for bad in ("a", None, [1.0], {}, object()):
        with pytest.raises(TypeError):
            x + bad
        with pytest.raises(TypeError):
            bad * x
    with pytest.raises(TypeError):
        Value("1.0")
    with pytest.raises(TypeError):
        x.data = "2"
    with pytest.raises(TypeError):
        x.grad = None
    with pytest.raises(TypeError):
        sum([x, "a"])
    with pytest.raises(TypeError):
        pow(x, 2, 3)


def test_invalid_values_raise_value_error():
    with pytest.raises(ValueError):
        Value(-1.0).log()
    with pytest.raises(ValueError):
        Value(0.0).log()
    with pytest.raises(ValueError):
        Value(-8.0) ** (1 / 3)  # complex in Python floats
    with pytest.raises(ValueError):
        Value(10**400)
    with pytest.raises(ValueError):
        Value(-1.0).sqrt()
    with pytest.raises(ValueError):
        Value(-1.0).log1p()
    with pytest.raises(TypeError):
        Value(1.0).max("a")
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError):
        1 / Value(0.0)
    with pytest.raises(ZeroDivisionError):
        Value(0.0) ** -1


def test_overflow_is_ieee_inf_and_tanh_is_stable():
    assert Value(1000.0).exp().data == math.inf
    assert Value(1000.0).tanh().data == 1.0  # micrograd raises OverflowError here
    s = Value(-1000.0).sigmoid()
    s.backward()
    assert s.data == 0.0


def test_to_dot():
    a, b = Value(2.0), Value(-3.0)
    y = (a * b + 1).relu()
    y.backward()
    dot = y.to_dot()
    assert dot.startswith("digraph")
    # a, b -> *; * and the constant 1 -> +; + -> relu
    assert dot.count("->") == 5
    # the Rust crate's picture writer (Graph::to_dot): each box names its op, value and grad
    assert "relu | value 0 | grad 1" in dot and "+ | value -5 | grad 0" in dot
    assert "var | value 2 | grad 0" in dot  # the relu is off


def test_another_thread_gets_a_runtime_error_saying_whose_value_it_is(capfd):
    import threading

    from scalargrad import _core

    import copy
    import random

    from scalargrad import draw
    from scalargrad.nn import Neuron

    x = Value(1.0)
    w = [Value(0.5)]
    made = x * 2 - 1
    random.seed(0)
    net_out = Neuron(2)([x, 2.0])
    custom = Value(3.0, (x,), 'sq')
    custom._backward = lambda: None
    seen = []
    uses = {
        "data": lambda: x.data,
        "grad = 1": lambda: setattr(x, "grad", 1.0),
        "x + 1": lambda: x + 1,
        "1 - x": lambda: 1 - x,
        "y * x": lambda: Value(2.0) * x,  # the other operand is the foreign one
        "-x": lambda: -x,
        "relu": lambda: x.relu(),
        "backward": lambda: x.backward(),
        "repr": lambda: repr(x),
        "neuron": lambda: _core.neuron(x, w, [1.0], False),
        "neuron input": lambda: _core.neuron(Value(0.0), [Value(1.0)], [x], False),
        "_prev": lambda: made._prev,
        "_backward()": lambda: made._backward(),
        "a network's _prev": lambda: net_out._prev,
        "backward with a Python _backward": lambda: custom.backward(),
        "draw": lambda: draw(made),
        "copy": lambda: copy.copy(x),
    }

    def touch():
        for name, use in uses.items():
            try:
                use()
                seen.append((name, "no error"))
            except Exception as e:  # a RuntimeError is an Exception (PanicException was not)
                seen.append((name, type(e).__name__, "thread that made it" in str(e)))
        y = Value(2.0)  # each thread has its own arena
        (y * y).backward()
        seen.append(y.grad)

    t = threading.Thread(target=touch)
    t.start()
    t.join()
    assert seen == [(name, "RuntimeError", True) for name in uses] + [4.0]
    assert x.data == 1.0 and x.grad == 0.0
    out, err = capfd.readouterr()
    assert err == "", err  # no Rust panic printed


def test_a_value_dropped_on_another_thread_is_left_alone():
    import threading

    box = [Value(3.0) * 2]
    t = threading.Thread(target=box.clear)  # the last reference dies on the other thread
    t.start()
    t.join()
    assert box == []
    z = Value(1.5)
    (z * z).backward()
    assert z.grad == 3.0
