"""``scalargrad.draw``: a picture of a ``Value``'s graph as micrograd's ``draw_dot`` draws
it (a box per value with its label, data and grad, an oval per op), as SVG written here:
no Graphviz, shown inline by Jupyter."""

from html import escape

from ._core import Value

BOX_W, OP_W, GAP, ROW_H, BOX_H = 250, 44, 36, 52, 34


class Drawing:
    """An SVG picture; Jupyter shows it inline (``_repr_svg_``). ``svg`` is the text,
    ``nodes`` the values drawn, ``edges`` the ``(child, parent)`` pairs."""

    def __init__(self, svg, nodes, edges):
        self.svg, self.nodes, self.edges = svg, nodes, edges

    def _repr_svg_(self):
        return self.svg

    def __str__(self):
        return self.svg

    def __repr__(self):
        return f"<scalargrad drawing: {len(self.nodes)} values, {len(self.edges)} edges>"

    def save(self, path):
        with open(path, "w") as f:
            f.write(self.svg)


def _neuron_inputs(v):
    """For a neuron's ``b + w·x`` node: ``[b, w…, x…]`` (the Values among them)."""
    t = v._trace()
    if t[0] != "net":
        return None
    rec, l, i, act = t[1:]
    if not act and rec.is_relu(l, i):
        return None
    n = rec.neuron(l, i)
    return [n.b, *n.w, *[x for x in rec.inputs(l) if isinstance(x, Value)]]


def trace(root, expand=False):
    """The values under ``root`` and the ``(child, parent)`` edges, as micrograd's
    ``trace``: over ``_prev`` (``expand=True``: every neuron as its ``*`` and ``+``), or
    with each neuron's ``b + w·x`` as one op (``expand=False``). Iterative."""
    nodes, edges, seen, stack = [], [], set(), [root]
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        nodes.append(v)
        kids = None if expand else _neuron_inputs(v)
        for c in (kids if kids is not None else v._prev):
            edges.append((c, v))
            stack.append(c)
    return nodes, edges


def _op_text(v, expand):
    if not expand and _neuron_inputs(v) is not None:
        return "b+w·x"
    return str(v._op)


def draw(root, expand=False):
    """A picture of ``root`` and everything it was computed from, left to right as
    micrograd's ``draw_dot``: each value a box ``label | data | grad``, each op an oval.
    ``expand=True`` draws each neuron as micrograd builds it (its ``*`` and ``+``)."""
    nodes, edges = trace(root, expand)
    parents = {}
    for c, p in edges:
        parents.setdefault(c, []).append(p)
    # column = longest path to the root, each op oval a column of its own
    ops = {v: _op_text(v, expand) for v in nodes}
    order = _topo(root, nodes, edges)  # parents before children
    col = {root: 0}
    for v in order:
        for p in parents.get(v, ()):
            col[v] = max(col.get(v, 0), col[p] + 2)  # values in even columns, ops odd
    ncols = max(col.values()) + 2
    xs, x = [], 10
    for k in reversed(range(ncols)):  # x of each column, the root on the right
        xs.append(x)
        x += (BOX_W if k % 2 == 0 else OP_W) + GAP
    xs.reverse()
    width = x
    rows = {}
    pos = {}
    for v in nodes:  # discovery order within a column
        k = col[v]
        pos[v] = (xs[k], rows.get(k, 0))
        rows[k] = rows.get(k, 0) + 1
        if ops[v]:
            pos[("op", v)] = (xs[k + 1] if k + 1 < len(xs) else xs[k] - OP_W - GAP, pos[v][1])
    height = max(rows.values()) * ROW_H + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica,Arial,sans-serif" font-size="12">',
        '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]

    def y(row):
        return 10 + row * ROW_H

    def arrow(x1, y1, x2, y2):
        mx = (x1 + x2) / 2
        out.append(f'<path d="M{x1},{y1} C{mx},{y1} {mx},{y2} {x2},{y2}" fill="none" '
                   'stroke="#555" marker-end="url(#a)"/>')

    for c, p in edges:
        cx, cr = pos[c]
        tx, tr = pos[("op", p)] if ops[p] else pos[p]
        arrow(cx + BOX_W, y(cr) + BOX_H / 2, tx, y(tr) + BOX_H / 2)
    for v in nodes:
        bx, r = pos[v]
        label = escape(str(v.label))
        text = f"{label + ' | ' if label else ''}data {v.data:.4f} | grad {v.grad:.4f}"
        out.append(f'<g class="value"><title>{escape(repr(v))}</title>'
                   f'<rect x="{bx}" y="{y(r)}" width="{BOX_W}" height="{BOX_H}" rx="3" '
                   'fill="#fff" stroke="#333"/>'
                   f'<text x="{bx + BOX_W / 2}" y="{y(r) + BOX_H / 2 + 4}" '
                   f'text-anchor="middle">{text}</text></g>')
        if ops[v]:
            ox, _ = pos[("op", v)]
            out.append(f'<g class="op"><ellipse cx="{ox + OP_W / 2}" cy="{y(r) + BOX_H / 2}" '
                       f'rx="{OP_W / 2}" ry="{BOX_H / 2 - 4}" fill="#eef" stroke="#333"/>'
                       f'<text x="{ox + OP_W / 2}" y="{y(r) + BOX_H / 2 + 4}" '
                       f'text-anchor="middle">{escape(ops[v])}</text></g>')
            arrow(ox + OP_W, y(r) + BOX_H / 2, bx, y(r) + BOX_H / 2)
    out.append("</svg>")
    return Drawing("\n".join(out), nodes, edges)


def _topo(root, nodes, edges):
    """The nodes, each after every node it feeds (root first). Iterative."""
    kids = {}
    for c, p in edges:
        kids.setdefault(p, []).append(c)
    post, seen, stack = [], set(), [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            post.append(v)
            continue
        if v in seen:
            continue
        seen.add(v)
        stack.append((v, True))
        for c in kids.get(v, ()):
            if c not in seen:
                stack.append((c, False))
    return list(reversed(post))
