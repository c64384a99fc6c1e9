"""scalargrad.nn: micrograd's classes, its initialisation order and its demo's numbers."""

import gc
import math
import random
import resource

import pytest

from conftest import demo_step, init_parameters, load_init, load_moons
from scalargrad import Value
from scalargrad.engine import live_nodes
from scalargrad.nn import MLP, Layer, Neuron

# micrograd's demo (moons, MLP(2, [16, 16, 1]), seed 1337): total loss of steps 0 and 99
LOSS_STEP_0 = 0.8958441028683222
LOSS_STEP_99 = 0.010978370135492719


def test_seed_1337_draws_micrograds_initial_weights():
    # micrograd's demo calls random.seed(1337) and then MLP(2, [16, 16, 1]); the file holds
    # the weights that micrograd drew there
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    want = init_parameters(load_init())
    assert [p.data for p in model.parameters()] == want
    assert len(want) == 337


def test_structure_and_reprs():
    random.seed(0)
    model = MLP(3, [4, 2])
    assert repr(model.layers[0].neurons[0]) == "ReLUNeuron(3)"
    assert repr(model.layers[1].neurons[0]) == "LinearNeuron(4)"
    assert repr(model) == (
        "MLP of [Layer of [ReLUNeuron(3), ReLUNeuron(3), ReLUNeuron(3), ReLUNeuron(3)], "
        "Layer of [LinearNeuron(4), LinearNeuron(4)]]"
    )
    assert len(model.parameters()) == 4 * 4 + 2 * 5
    assert all(isinstance(p, Value) for p in model.parameters())
    assert model.layers[0].neurons[0].b.data == 0.0


def test_neuron_is_b_plus_w_dot_x_then_relu():
    random.seed(3)
    n = Neuron(3)
    n.b.data = 0.25
    x = [Value(0.5), 2.0, Value(-1.0)]  # Values or numbers
    w = [p.data for p in n.w]
    pre = 0.25 + w[0] * 0.5 + w[1] * 2.0 + w[2] * -1.0
    out = n(x)
    assert out.data == max(pre, 0.0)
    out.backward()
    if pre > 0:
        assert [p.grad for p in n.w] == [0.5, 2.0, -1.0]
        assert n.b.grad == 1.0
        assert x[0].grad == w[0]
    lin = Neuron(2, nonlin=False)
    assert lin([1.0, 1.0]).data == lin.w[0].data + lin.w[1].data


def test_one_output_layer_returns_a_value_and_wider_a_list():
    random.seed(1)
    assert isinstance(Layer(2, 1)([1.0, 2.0]), Value)
    out = Layer(2, 3)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3
    assert isinstance(MLP(2, [3, 1])([1.0, 2.0]), Value)


def test_zero_grad():
    random.seed(2)
    model = MLP(2, [3, 1])
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_bad_inputs_raise_python_exceptions():
    random.seed(4)
    n = Neuron(2)
    with pytest.raises(ValueError):
        n([1.0])  # micrograd's zip would silently drop a weight
    with pytest.raises(TypeError):
        n([1.0, "x"])
    with pytest.raises(ValueError):
        MLP(2, [0, 1])
    with pytest.raises(ValueError):
        Neuron(-1)


def test_demo_training_matches_micrograd():
    X, y = load_moons()
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    losses, acc = [], None
    for k in range(100):
        loss, acc = demo_step(Value, model, X, y, k)
        losses.append(loss)
    assert losses[0] == LOSS_STEP_0
    assert losses[99] == pytest.approx(LOSS_STEP_99, rel=1e-9)
    assert acc == 1.0


def test_demo_from_the_init_file():
    # the same run, with the weights loaded from data/moons_mlp_init.json
    X, y = load_moons()
    random.seed(0)
    model = MLP(2, [16, 16, 1])
    for p, v in zip(model.parameters(), init_parameters(load_init())):
        p.data = v
    loss, _ = demo_step(Value, model, X, y, 0)
    assert loss == LOSS_STEP_0


def test_memory_is_flat_over_ten_thousand_demo_steps():
    X, y = load_moons()
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    base = live_nodes()
    demo_step(Value, model, X, y, 0)
    gc.collect()
    assert live_nodes() == base  # every node of the step is freed with it
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    for k in range(1, 10_000):
        demo_step(Value, model, X, y, k % 100)
    gc.collect()
    assert live_nodes() == base
    growth_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_start
    assert growth_kib < 8 * 1024, f"peak RSS grew by {growth_kib} KiB"


def test_a_neuron_subclass_with_its_own_call_is_used():
    class TanhNeuron(Neuron):
        def __call__(self, x):
            return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()

    random.seed(5)
    layer = Layer(2, 3)
    layer.neurons[1] = TanhNeuron(2)
    out = layer([0.5, -1.0])
    n = layer.neurons[1]
    want = math.tanh(n.b.data + n.w[0].data * 0.5 + n.w[1].data * -1.0)
    assert out[1].data == pytest.approx(want, rel=1e-15)

    # and inside an MLP, which then runs layer by layer
    random.seed(6)
    model = MLP(2, [3, 1])
    model.layers[0].neurons[2] = TanhNeuron(2)
    n = model.layers[0].neurons[2]
    h = [nn([0.5, -1.0]).data for nn in model.layers[0].neurons]
    out = model([0.5, -1.0])
    last = model.layers[1].neurons[0]
    want = last.b.data + sum(w.data * hi for w, hi in zip(last.w, h))
    assert out.data == pytest.approx(want, rel=1e-12)
    assert h[2] == pytest.approx(math.tanh(n.b.data + n.w[0].data * 0.5 - n.w[1].data), rel=1e-15)
