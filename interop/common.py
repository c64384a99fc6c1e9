"""Shared helpers of the PyTorch interop tests: the repository, the moons data, the Rust
programs, and the PyTorch twin of scalargrad's Mlp layout."""

import csv
import pathlib
import subprocess

import torch
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent

MODULES = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def moons_inputs():
    """The 100 points of data/moons.csv as a float64 tensor [100, 2], and the labels."""
    with open(ROOT / "data" / "moons.csv") as f:
        rows = [r for r in csv.reader(f)][1:]
    x = torch.tensor([[float(r[0]), float(r[1])] for r in rows], dtype=torch.float64)
    y = [float(r[2]) for r in rows]
    return x, y


def sequential(sizes, activations):
    """nn.Sequential(Linear, act, Linear, ...) as scalargrad lays it out: an activation
    module after each layer whose activation is not linear."""
    modules = []
    for nin, nout, act in zip(sizes, sizes[1:], activations):
        modules.append(nn.Linear(nin, nout))
        if act != "linear":
            modules.append(MODULES[act]())
    return nn.Sequential(*modules).double()


def cargo_example(name, *args, check=True):
    """Runs `cargo run --release --example NAME -- ARGS` in the repository."""
    return subprocess.run(
        ["cargo", "run", "--quiet", "--release", "--example", name, "--", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=check,
    )


def rust_scores(path, activations=None):
    """scalargrad's scores on the moons points for the network in `path`."""
    args = [path] + ([activations] if activations else [])
    out = cargo_example("safetensors_check", *args).stdout
    return torch.tensor([float(line) for line in out.split()], dtype=torch.float64)
