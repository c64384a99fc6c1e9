"""micrograd's ``engine`` module: the scalar ``Value`` with reverse-mode autodiff.

``Value`` is implemented in Rust (``scalargrad._core``); see its docstrings.
"""

from ._core import Value, live_nodes

__all__ = ["Value", "live_nodes"]
