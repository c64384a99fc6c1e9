"""micrograd's ``nn`` module: ``Neuron``, ``Layer``, ``MLP``.

The classes, attributes, reprs and weight initialisation are micrograd's: each neuron draws its
weights with ``random.uniform(-1, 1)`` from Python's ``random`` module, in micrograd's order,
and starts its bias at 0, so a program seeded as micrograd's demo gets micrograd's weights.
A neuron's forward pass is one Rust node (``b + w0*x0 + w1*x1 + ...``, micrograd's order);
its ``_prev`` shows micrograd's chain of ``*`` and ``+``.
"""

import random

from ._core import Value, layer as _layer, mlp as _mlp

__all__ = ["Module", "Neuron", "Layer", "MLP"]


class Module:
    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0

    def parameters(self):
        return []


class Neuron(Module):
    def __init__(self, nin, nonlin=True):
        if not isinstance(nin, int) or isinstance(nin, bool) or nin < 0:
            raise ValueError(f"a Neuron needs a whole number of inputs >= 0, not {nin!r}")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        # b + w·x then relu in one Rust call; _prev shows micrograd's chain of * and +
        return _layer([self], x)

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


_NEURON_CALL = Neuron.__call__


class Layer(Module):
    def __init__(self, nin, nout, **kwargs):
        if not isinstance(nout, int) or isinstance(nout, bool) or nout < 1:
            raise ValueError(f"a Layer needs a whole number of neurons >= 1, not {nout!r}")
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        neurons = self.neurons
        if all(type(n).__call__ is _NEURON_CALL for n in neurons):
            # micrograd's [n(x) for n in self.neurons] in one Rust call, x converted once
            return _layer(neurons, x)
        out = [n(x) for n in neurons]  # a Neuron subclass with its own __call__
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


_LAYER_CALL = Layer.__call__


class MLP(Module):
    def __init__(self, nin, nouts):
        sz = [nin] + list(nouts)
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x):
        layers = self.layers
        if layers and all(
            type(layer).__call__ is _LAYER_CALL
            and all(type(n).__call__ is _NEURON_CALL for n in layer.neurons)
            for layer in layers
        ):
            # micrograd's layer-by-layer loop in one Rust call: hidden values stay in Rust
            return _mlp(layers, x)
        for layer in layers:  # a subclass with its own __call__ somewhere
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
