"""Shared helpers for the Python tests: repository paths and micrograd's demo step."""

import csv
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(REPO, "data")
SHARED = os.path.normpath(os.path.join(REPO, "..", "shared"))


def load_moons():
    """data/moons.csv: micrograd's 100 two-moons points, labels -1/+1."""
    with open(os.path.join(DATA, "moons.csv")) as f:
        rows = list(csv.reader(f))[1:]
    X = [[float(a), float(b)] for a, b, _ in rows]
    y = [int(float(c)) for _, _, c in rows]
    return X, y


def load_init():
    """data/moons_mlp_init.json: micrograd's initial MLP(2, [16, 16, 1])."""
    with open(os.path.join(DATA, "moons_mlp_init.json")) as f:
        return json.load(f)


def init_parameters(spec):
    """The file's numbers in micrograd's parameters() order: per neuron w..., b."""
    out = []
    for layer in spec["layers"]:
        for w, b in zip(layer["weights"], layer["biases"]):
            out.extend(w)
            out.append(b)
    return out


def demo_loss(Value, model, X, y):
    """micrograd's demo `loss()`, full batch: (total loss, accuracy)."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum((p * p for p in model.parameters()))
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def demo_step(Value, model, X, y, k):
    """One step of micrograd's demo: loss, zero_grad, backward, SGD. Returns (loss, acc)."""
    total_loss, acc = demo_loss(Value, model, X, y)
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, acc
