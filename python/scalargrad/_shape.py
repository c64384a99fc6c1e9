"""micrograd's internals for the Rust-backed ``Value``: ``_prev`` in micrograd's shape, its
``backward`` algorithm for graphs with a ``_backward`` written in Python, and pictures.

The Rust graph fuses (``a - b`` is one node, a neuron's ``b + w·x`` is one node). What
Python sees is micrograd's graph: ``expand`` turns a node's record (``Value._trace()``) into
the set micrograd's ``_prev`` would hold, making a *view* for each node micrograd has and
the Rust graph does not (``-b = b * -1`` in ``a - b``, ``b**-1`` in ``a / b``, a number
operand as a leaf, each ``w*x`` and partial sum of a neuron). A view holds micrograd's
``data``; its ``grad`` is read through from the fused node (``factor`` × its ``grad``: what
micrograd's reverse pass would have put there). Its ``_backward`` does nothing: the fused
node's ``_backward`` steps straight into the real children, so micrograd's hand-written
loop (``for node in reversed(topo): node._backward()``) gives micrograd's gradients.
"""

from ._core import Value, _view


def _leaf(data, of, factor):
    v = _view(float(data), of, factor)
    v._prev = set()
    return v


def _node(data, of, factor, op, children):
    v = _view(float(data), of, factor)
    v._op = op
    v._prev = set(children)
    return v


def _neg(b, of, factor):
    """micrograd's ``-b``: ``b * -1``, a view with gradient ``factor × of.grad``."""
    return _node(b.data * -1, of, factor, "*", (b, _leaf(-1, of, factor * b.data)))


def _inv(b, of, factor):
    """micrograd's ``b**-1``."""
    return _node(b.data**-1, of, factor, "**-1", (b,))


def expand(v):
    """The set micrograd's ``_prev`` holds for ``v`` (views made as needed)."""
    t = v._trace()
    tag = t[0]
    if tag == "leaf":
        return set()
    if tag == "net":
        return _neuron(v, *t[1:])
    if tag == "**k":
        return {t[1]}
    if len(t) == 2:  # a unary op
        a = t[1]
        if tag == "neg":  # -a is a * -1
            return {a, _leaf(-1, v, a.data)}
        return {a}
    a, b = t[1], t[2]
    av, bv = isinstance(a, Value), isinstance(b, Value)
    if tag == "+":
        return {a if av else _leaf(a, v, 1.0), b if bv else _leaf(b, v, 1.0)}
    if tag == "*":
        return {a if av else _leaf(a, v, b.data), b if bv else _leaf(b, v, a.data)}
    if tag == "-":  # a + (-b)
        if not bv:
            return {a, _leaf(-b, v, 1.0)}
        return {a if av else _leaf(a, v, 1.0), _neg(b, v, 1.0)}
    if tag == "/":  # a * b**-1
        if not bv:
            return {a, _leaf(b**-1, v, a.data)}
        if not av:  # other * self**-1
            p = _inv(b, v, a)
            return {p, _leaf(a, v, p.data)}
        return {a, _inv(b, v, a.data)}
    if tag == "**v":  # scalargrad's Value ** Value (and number ** Value)
        if not av:
            return {_leaf(a, v, b.data * a ** (b.data - 1)), b}
        return {a, b if bv else _leaf(b, v, 0.0)}
    # max, min
    return {a if av else _leaf(a, v, 0.0), b if bv else _leaf(b, v, 0.0)}


def _neuron(v, rec, l, i, act):
    """A neuron as micrograd's ``Neuron.__call__`` builds it:
    ``sum((wi*xi for wi, xi in zip(self.w, x)), self.b)``, then ``relu()``."""
    if not act and rec.is_relu(l, i):
        return {rec.node(l, i, True)}
    n = rec.neuron(l, i)
    xs = rec.inputs(l)
    if not xs:
        return set()
    s = n.b
    for k, (w, x) in enumerate(zip(n.w, xs)):
        if not isinstance(x, Value):
            x = _leaf(x, v, w.data)
        prod = _node(w.data * x.data, v, 1.0, "*", (w, x))
        if k == len(xs) - 1:
            return {s, prod}
        s = _node(s.data + prod.data, v, 1.0, "+", (s, prod))


def _children(v):
    """The nodes ``v``'s ``_backward`` adds into: the Rust node's inputs, or for a node
    made with ``_children`` (the lecture's own ops), its ``_prev``."""
    kids = [c for c, _ in v._partials()]
    return kids if kids else list(v._prev)


def backward(root):
    """micrograd's ``backward``: topological order (iterative: no recursion limit), the
    root's ``grad`` set to 1, then each node's ``_backward`` from the root down."""
    topo, seen = [], set()
    stack = [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            topo.append(v)
            continue
        if v in seen:
            continue
        seen.add(v)
        stack.append((v, True))
        for c in _children(v):
            if c not in seen:
                stack.append((c, False))
    root.grad = 1.0
    for v in reversed(topo):
        v._backward()
