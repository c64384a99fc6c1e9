"""micrograd's internals, row by row of issue #25's table, with micrograd itself (from PyPI,
in the test venv) as the reference: the same code run against both engines must give the
same numbers and the same graph."""

import collections
import copy
import gc
import math
import pickle
import random
import re
import weakref

import pytest

import scalargrad
from scalargrad import Value, draw
from scalargrad.nn import MLP, Neuron

micrograd = pytest.importorskip("micrograd.engine", reason="pip install micrograd (the reference)")
mnn = pytest.importorskip("micrograd.nn")
MV = micrograd.Value


# -- the lecture's ops written in Python, for either engine ---------------------------------

def lecture_tanh(V):
    """The lecture's `tanh`, as it adds it to `Value` (here a function of the engine)."""
    def tanh(self):
        x = self.data
        t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
        out = V(t, (self,), 'tanh')

        def _backward():
            self.grad += (1 - t**2) * out.grad
        out._backward = _backward
        return out
    return tanh


def lecture_exp(V):
    def exp(self):
        x = self.data
        out = V(math.exp(x), (self,), 'exp')

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out
    return exp


def build_topo(root):
    """The lecture's own `build_topo` over `_prev`."""
    topo, visited = [], set()

    def build(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build(child)
            topo.append(v)
    build(root)
    return topo


def hand_backward(o):
    """The lecture's hand-written reverse pass."""
    o.grad = 1.0
    for node in reversed(build_topo(o)):
        node._backward()


def shape(root):
    """The graph `_prev` exposes, engine-independent: a multiset of nodes (data, grad, op)
    and of edges between them."""
    nodes = build_topo(root)
    key = {n: (round(n.data, 9), round(n.grad, 9), n._op) for n in nodes}
    edges = [(key[c], key[n]) for n in nodes for c in n._prev]
    return collections.Counter(key.values()), collections.Counter(edges)


EXPRESSIONS = {
    # micrograd's README / test_engine expressions and the lecture's
    "sanity": lambda V: (lambda x: (lambda z: (lambda q, h: h + q + q * x)(z.relu() + z * x, (z * z).relu()))(2 * x + 2 + x))(V(-4.0)),
    "sub": lambda V: V(2.0) - V(-3.0),
    "sub number": lambda V: V(2.0) - 5,
    "rsub": lambda V: 5 - V(2.0),
    "div": lambda V: V(2.0) / V(-4.0),
    "div number": lambda V: V(2.0) / 4,
    "rdiv": lambda V: 3 / V(2.0),
    "neg": lambda V: -V(3.0),
    "pow": lambda V: V(3.0) ** 2,
    "radd rmul": lambda V: 1 + 2 * V(3.0),
    "lecture L": lambda V: (lambda a, b, c, f: (a * b + c) * f)(V(2.0), V(-3.0), V(10.0), V(-2.0)),
    "reuse": lambda V: (lambda a: a * a + a / (a - 1))(V(3.0)),
}


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_prev_has_micrograds_shape_and_hand_loop_its_gradients(name):
    ours, theirs = EXPRESSIONS[name](Value), EXPRESSIONS[name](MV)
    assert ours.data == pytest.approx(theirs.data, rel=1e-15)
    hand_backward(ours)
    hand_backward(theirs)
    assert shape(ours) == shape(theirs)


def test_backward_gives_the_hand_loops_gradients_on_the_leaves():
    def expr(V):
        a, b, c = V(2.0), V(-3.0), V(10.0)
        return (a, b, c), (a * b + c) * -2.0 - a / b + 2 / c - c**2
    (leaves, o), (mleaves, mo) = expr(Value), expr(MV)
    o.backward()
    mo.backward()
    assert [v.grad for v in leaves] == pytest.approx([v.grad for v in mleaves], rel=1e-12)


def test_op_strings_are_micrograds():
    a, b = Value(2.0), Value(3.0)
    ma, mb = MV(2.0), MV(3.0)
    for f in (lambda x, y: x + y, lambda x, y: x * y, lambda x, y: x - y, lambda x, y: x / y,
              lambda x, y: x**2, lambda x, y: x**-1, lambda x, y: x**0.5, lambda x, y: -x,
              lambda x, y: x.relu(), lambda x, y: 2 * x, lambda x, y: 2 - x):
        assert f(a, b)._op == f(ma, mb)._op
    assert a.tanh()._op == "tanh" and a.exp()._op == "exp"  # the lecture's names
    assert a._op == "" and a._prev == set()


def test_draw_dot_from_trace_graph_builds_micrograds_nodes_and_edges():
    pytest.importorskip("graphviz", reason="pip install graphviz (the Python package)")
    from trace_graph import draw_dot

    def canon(dot):
        labels, edges = {}, []
        for line in dot.body:
            m = re.match(r'\t(\S+) \[label="?(.*?)"?( shape=record)?\]$', line)
            if m:
                labels[m.group(1)] = m.group(2)
                continue
            m = re.match(r"\t(\S+) -> (\S+)$", line)
            assert m, line
            edges.append(m.groups())
        return (collections.Counter(labels.values()),
                collections.Counter((labels[a], labels[b]) for a, b in edges))

    def simple(V):
        x = V(1.0)
        y = (x * 2 + 1).relu()
        y.backward()
        return y

    def neuron(V, nn):
        random.seed(1337)
        n = nn.Neuron(2)
        x = [V(1.0), V(-2.0)]
        y = n(x)
        y.backward()
        return y

    def mlp(V, nn):
        random.seed(7)
        m = nn.MLP(3, [4, 4, 1])
        y = m([V(0.5), V(-1.0), 2.0])  # a number input too
        y.backward()
        return y

    assert canon(draw_dot(simple(Value))) == canon(draw_dot(simple(MV)))
    d1, d2 = draw_dot(neuron(Value, scalargrad.nn)), draw_dot(neuron(MV, mnn))
    assert canon(d1) == canon(d2)
    assert len(d1.body) == len(d2.body) > 10
    assert canon(draw_dot(mlp(Value, scalargrad.nn))) == canon(draw_dot(mlp(MV, mnn)))


def test_value_with_children_and_op_is_micrograds():
    a, b = Value(2.0), Value(3.0)
    c = Value(5.0, (a, b), '+')
    assert c._prev == {a, b} and a in c._prev and c._op == '+'
    c.backward()  # no _backward given: passes no gradient, as micrograd
    ma, mb = MV(2.0), MV(3.0)
    mc = MV(5.0, (ma, mb), '+')
    mc.backward()
    assert (a.grad, b.grad, c.grad) == (ma.grad, mb.grad, mc.grad) == (0, 0, 1)


def test_label_and_any_attribute():
    a = Value(2.0, label='a')
    b = Value(-3.0)
    b.label = 'b'
    c = a * b
    c.label = 'c'
    c.note = {'any': 'thing'}
    assert (a.label, b.label, c.label, Value(1.0).label) == ('a', 'b', 'c', '')
    assert c.note == {'any': 'thing'}
    svg = draw(c)._repr_svg_()
    assert svg.startswith("<svg") and ">a | data 2.0000" in svg and ">c | data -6.0000" in svg


def test_the_lectures_neuron_with_a_python_tanh_gives_micrograds_gradients():
    def neuron(V):
        x1, x2 = V(2.0), V(0.0)
        w1, w2 = V(-3.0), V(1.0)
        b = V(6.8813735870195432)
        n = x1 * w1 + x2 * w2 + b
        o = lecture_tanh(V)(n)
        o.backward()
        return [v.grad for v in (x1, x2, w1, w2, b, n, o)], o.data

    (ours, od), (theirs, td) = neuron(Value), neuron(MV)
    assert od == td
    for g, m in zip(ours, theirs):
        assert abs(g - m) <= 1e-12
    assert ours[2] == pytest.approx(1.0, abs=1e-12)  # dL/dw1 = x1 * (1 - o²) = 2 * 0.5


def test_python_exp_mixed_with_builtin_ops_gives_micrograds_gradients():
    def neuron(V):
        x1, x2, w1, w2 = V(2.0), V(0.0), V(-3.0), V(1.0)
        b = V(6.8813735870195432)
        n = x1 * w1 + x2 * w2 + b
        e = lecture_exp(V)(2 * n)  # tanh as the lecture's second version: (e - 1) / (e + 1)
        o = (e - 1) / (e + 1)
        o = o.relu() * 3 + o**2
        o.backward()
        return [v.grad for v in (x1, x2, w1, w2, b)]

    for g, m in zip(neuron(Value), neuron(MV)):
        assert abs(g - m) <= 1e-12
    assert neuron(Value)[0] != 0


def test_assigned_backward_is_called_in_topological_order():
    calls = []
    x = Value(0.5)
    y = x * 3           # built-in
    z = Value(y.data ** 2, (y,), 'sq')

    def _backward():
        calls.append(z.grad)
        y.grad += 2 * y.data * z.grad
    z._backward = _backward
    w = (z + 1).relu() * 2  # built-in again, above the Python node
    w.backward()
    assert calls == [2.0]
    assert x.grad == pytest.approx(2 * 2 * 1.5 * 3, rel=1e-15)


def test_builtin_backward_is_callable_and_steps_into_children():
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    c.grad = 1.0
    c._backward()
    assert (a.grad, b.grad) == (-3.0, 2.0)


def test_a_subclass():
    class MyValue(Value):
        def double(self):
            return self * 2

    v = MyValue(3.0, label='v')
    assert isinstance(v, Value) and type(v) is MyValue and v.label == 'v'
    y = v.double() + v
    y.backward()
    assert (y.data, v.grad) == (9.0, 3.0)
    c = copy.copy(v)
    assert type(c) is MyValue and c.data == 3.0 and c is not v


def test_deepcopy_of_a_model_is_independent_with_the_same_outputs():
    random.seed(3)
    model = MLP(2, [4, 4, 1])
    x = [0.5, -1.5]
    best = copy.deepcopy(model)
    assert best(x).data == model(x).data
    assert not set(map(id, best.parameters())) & set(map(id, model.parameters()))
    model(x).backward()
    assert all(p.grad == 0 for p in best.parameters())
    for p in model.parameters():
        p.data -= 0.1 * p.grad
    assert best(x).data != model(x).data


def test_pickle_of_a_leaf_and_a_model_and_weakref():
    v = Value(2.5, label='v')
    v.grad = 1.5
    v.note = 'kept'
    w = pickle.loads(pickle.dumps(v))
    assert (w.data, w.grad, w.label, w.note) == (2.5, 1.5, 'v', 'kept')
    random.seed(4)
    model = MLP(3, [5, 1])
    again = pickle.loads(pickle.dumps(model))
    x = [1.0, -2.0, 0.5]
    assert again(x).data == model(x).data
    r = weakref.ref(v)
    assert r() is v
    del v
    gc.collect()
    assert r() is None


def test_nan_relu_gets_no_gradient():
    x = Value(float('nan'))
    x.relu().backward()
    assert x.grad == 0


def test_repr_is_micrograds():
    assert repr(Value(2.0)) == repr(MV(2.0)) == "Value(data=2.0, grad=0)"
    x = Value(2.0)
    (x * 3.0).backward()
    mx = MV(2.0)
    (mx * 3.0).backward()
    assert repr(x) == repr(mx) == "Value(data=2.0, grad=3.0)"


def test_a_neurons_picture_shows_its_products_and_sums():
    random.seed(1337)
    n = Neuron(3)
    y = n([Value(1.0, label='x0'), Value(-2.0), Value(0.5)])
    y.backward()
    compact = draw(y)
    full = draw(y, expand=True)
    # compact: the neuron's b + w·x is one op; expanded: micrograd's 3 '*' and 3 '+'
    assert "b+w·x" in compact.svg
    ops = re.findall(r'text-anchor="middle">([^<]*)</text></g>', full.svg)
    ops = [o for o in ops if not o.startswith(("data", "x0"))]
    assert collections.Counter(ops) == {'*': 3, '+': 3, 'ReLU': 1}
    assert len(full.nodes) == 3 + 3 + 1 + 3 + 3 + 1  # w, x, b, products, sums, relu
    rust = y.to_svg()
    assert rust.startswith("<svg") and "relu" in rust
    # the crate's pictures show the label too
    assert ">x0<" in rust and "x0" in y.to_dot()


def test_a_python_op_feeding_a_network_gives_micrograds_gradients():
    # micrograd's algorithm then runs through the fused neurons (their _backward steps)
    def run(V, nn):
        random.seed(11)
        model = nn.MLP(2, [4, 3, 1])
        xs = [V(0.3), V(-1.2)]
        h = [lecture_tanh(V)(x * 2) for x in xs]
        out = model(h)
        loss = (out - 0.5) ** 2
        loss.backward()
        return [x.grad for x in xs] + [p.grad for p in model.parameters()], loss.data

    (ours, ol), (theirs, tl) = run(Value, scalargrad.nn), run(MV, mnn)
    assert ol == pytest.approx(tl, rel=1e-15)
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)
    assert any(g != 0 for g in ours[:2])


def test_a_models_hand_written_loop_gives_micrograds_gradients():
    def run(V, nn):
        random.seed(12)
        model = nn.MLP(3, [4, 4, 1])
        out = model([V(0.5), -1.0, V(2.0)])
        hand_backward(out)
        return [p.grad for p in model.parameters()]

    ours = run(Value, scalargrad.nn)
    assert ours == pytest.approx(run(MV, mnn), rel=1e-12, abs=1e-15)
    assert sum(g != 0 for g in ours) > 10
