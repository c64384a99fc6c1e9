"""micrograd's ``engine`` module: the scalar ``Value`` with reverse-mode autodiff.

``Value`` is implemented in Rust (``scalargrad._core``; see its docstrings) with micrograd's
internals on top: ``Value(data, _children=(), _op='', label='')``, ``_prev``, ``_op``,
``label``, ``_backward`` (callable on every node, assignable for ops written in Python),
any attribute, subclassing, ``copy``/``pickle``/``weakref``. ``_prev`` has micrograd's
shape (``scalargrad._shape``).
"""

from ._core import Value, live_nodes


def __init__(self, data, _children=(), _op="", label=""):
    """``Value(data, _children=(), _op='', label='')``: the Rust ``__new__`` has done the
    work; this ``__init__`` lets a subclass call ``super().__init__(...)`` as in micrograd."""


Value.__init__ = __init__
del __init__

__all__ = ["Value", "live_nodes"]
