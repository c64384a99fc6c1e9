"""scalargrad: a drop-in micrograd at Rust speed.

``from scalargrad import Value``, ``from scalargrad.engine import Value`` and
``from scalargrad.nn import Neuron, Layer, MLP`` are micrograd's names: changing ``micrograd``
to ``scalargrad`` in the imports is the only edit a micrograd program needs.
``scalargrad.draw(root)`` pictures a graph in a notebook (SVG, no Graphviz).
"""

from .engine import Value
from . import nn
from ._draw import draw

__version__ = "0.1.0"

__all__ = ["Value", "nn", "draw"]
