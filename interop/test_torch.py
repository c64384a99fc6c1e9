"""scalargrad's .safetensors files against the real PyTorch, both ways: a network trained by
scalargrad loads into nn.Sequential with strict=True and gives the same scores on the moons
data to 1e-12; networks written by PyTorch load into scalargrad's Mlp with the same scores;
a float32 file is refused."""

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from common import ROOT, cargo_example, moons_inputs, rust_scores, sequential

TOL = 1e-12


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The moons example's trained network, written with --safetensors."""
    tmp = tmp_path_factory.mktemp("moons")
    path = tmp / "moons.safetensors"
    cargo_example("moons", "--safetensors", path, "--out", tmp / "moons.svg")
    return path


def test_scalargrad_file_loads_into_sequential_strictly(trained):
    with safe_open(trained, framework="pt") as f:
        meta = f.metadata()
        assert meta["activations"] == "relu,relu,linear"
        assert sorted(f.keys()) == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
        assert all(f.get_tensor(k).dtype == torch.float64 for k in f.keys())
    model = sequential([2, 16, 16, 1], meta["activations"].split(","))
    state = load_file(trained)
    model.load_state_dict(state, strict=True)  # no missing, no unexpected key
    x, labels = moons_inputs()
    with torch.no_grad():
        ours = model(x)[:, 0]
    theirs = rust_scores(trained)
    assert (ours - theirs).abs().max().item() <= TOL
    # and it is the trained network: every point on the side of its label
    assert all((s > 0) == (y > 0) for s, y in zip(ours.tolist(), labels))


@pytest.mark.parametrize("with_metadata", [True, False])
def test_pytorch_file_loads_into_mlp(tmp_path, with_metadata):
    torch.manual_seed(3)
    model = sequential([2, 16, 16, 1], ["relu", "relu", "linear"])
    path = tmp_path / "torch.safetensors"
    meta = {"activations": "relu,relu,linear"} if with_metadata else None
    save_file(model.state_dict(), path, metadata=meta)
    x, _ = moons_inputs()
    with torch.no_grad():
        expected = model(x)[:, 0]
    got = rust_scores(path, None if with_metadata else "relu,relu,linear")
    assert (got - expected).abs().max().item() <= TOL


def test_other_activations_and_a_linear_hidden_layer(tmp_path):
    """Linear(2,4) Tanh Linear(4,3) Linear(3,1) Sigmoid: PyTorch's keys 0, 2, 3."""
    torch.manual_seed(4)
    acts = ["tanh", "linear", "sigmoid"]
    model = sequential([2, 4, 3, 1], acts)
    assert sorted(model.state_dict()) == ["0.bias", "0.weight", "2.bias", "2.weight", "3.bias", "3.weight"]
    path = tmp_path / "mixed.safetensors"
    save_file(model.state_dict(), path, metadata={"activations": ",".join(acts)})
    x, _ = moons_inputs()
    with torch.no_grad():
        expected = model(x)[:, 0]
    assert (rust_scores(path) - expected).abs().max().item() <= TOL


def test_float32_file_is_refused(tmp_path):
    torch.manual_seed(5)
    model = sequential([2, 16, 16, 1], ["relu", "relu", "linear"]).float()
    path = tmp_path / "f32.safetensors"
    save_file(model.state_dict(), path)
    run = cargo_example("safetensors_check", path, "relu,relu,linear", check=False)
    assert run.returncode == 1
    assert "dtype F32, not F64" in run.stderr


def test_wrong_activations_are_refused(tmp_path):
    torch.manual_seed(6)
    model = sequential([2, 16, 16, 1], ["relu", "relu", "linear"])
    path = tmp_path / "relu.safetensors"
    save_file(model.state_dict(), path, metadata={"activations": "relu,relu,linear"})
    run = cargo_example("safetensors_check", path, "tanh,tanh,linear", check=False)
    assert run.returncode == 1
    assert "activations" in run.stderr


def test_fixture_matches_pytorch():
    """The fixture `cargo test` uses is what PyTorch computes for it today."""
    model = sequential([2, 16, 16, 1], ["relu", "relu", "linear"])
    model.load_state_dict(load_file(ROOT / "tests" / "data" / "torch_mlp.safetensors"), strict=True)
    x, _ = moons_inputs()
    with torch.no_grad():
        got = model(x)[:, 0]
    lines = (ROOT / "tests" / "data" / "torch_mlp_outputs.txt").read_text().split()
    expected = torch.tensor([float(s) for s in lines], dtype=torch.float64)
    assert (got - expected).abs().max().item() <= TOL
