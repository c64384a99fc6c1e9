"""Writes tests/data/torch_mlp.safetensors (a network PyTorch made and saved, with no
scalargrad metadata) and tests/data/torch_mlp_outputs.txt (PyTorch's float64 scores on the
100 moons points, one repr per line), the fixture `cargo test` checks the load direction
with. Run from the repository root: `python interop/make_fixture.py`."""

import torch
from safetensors.torch import save_file

from common import ROOT, moons_inputs, sequential

torch.manual_seed(0)
model = sequential([2, 16, 16, 1], ["relu", "relu", "linear"])
save_file(model.state_dict(), ROOT / "tests" / "data" / "torch_mlp.safetensors")
x, _ = moons_inputs()
with torch.no_grad():
    scores = model(x)[:, 0].tolist()
(ROOT / "tests" / "data" / "torch_mlp_outputs.txt").write_text(
    "".join(repr(s) + "\n" for s in scores)
)
print(f"wrote the fixture: {sum(p.numel() for p in model.parameters())} parameters")
