"""python/examples/demo.ipynb (micrograd's demo and the lecture's first cells, imports
changed) executes headless (nbclient), and its outputs are micrograd's numbers and
pictures."""

import os
import re

import pytest

from conftest import REPO

NOTEBOOK = os.path.join(REPO, "python", "examples", "demo.ipynb")


def text_of(cell):
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o["text"])
        elif "data" in o and "text/plain" in o["data"]:
            out.append(o["data"]["text/plain"])
    return "".join(out)


def test_demo_notebook_executes_with_micrograds_numbers_and_pictures():
    nbformat = pytest.importorskip("nbformat", reason="pip install nbclient ipykernel")
    nbclient = pytest.importorskip("nbclient", reason="pip install nbclient ipykernel")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": os.path.dirname(NOTEBOOK)}},
    )
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not any(o.get("output_type") == "error" for o in c.outputs) for c in code)
    text = "\n".join(text_of(c) for c in code)
    # micrograd's demo: its seeded model and numbers (python/tests/test_nn.py)
    assert "number of parameters 337" in text
    assert "step 0 loss 0.8958441028683222, accuracy 50.0%" in text
    last = re.search(r"step 99 loss ([0-9.e-]+), accuracy ([0-9.]+)%", text)
    assert last, text[-500:]
    assert float(last.group(1)) == pytest.approx(0.010978370135492719, rel=1e-9)
    assert float(last.group(2)) == 100.0
    # the lecture: L = (a*b + c) * f, and the neuron's gradients (hand loop and Python tanh)
    assert "Value(data=-8.0, grad=0)" in text
    grads = re.findall(r"^(-?[0-9.e-]+) (-?[0-9.e-]+) (-?[0-9.e-]+) (-?[0-9.e-]+)$", text, re.M)
    assert len(grads) == 2
    for g in grads:
        assert [float(v) for v in g] == pytest.approx([-1.5, 1.0, 0.5, 0.0], abs=1e-12)
    # pictures: four SVGs, labelled, drawn without Graphviz
    svgs = [o["data"]["image/svg+xml"] for c in code for o in c.outputs
            if "data" in o and "image/svg+xml" in o["data"]]
    assert len(svgs) == 4
    assert all(s.startswith("<svg") for s in svgs)
    assert ">L | data -8.0000 | grad 1.0000<" in svgs[1]
    assert ">o | data 0.7071 | grad 1.0000<" in svgs[2] and ">tanh<" in svgs[2]
    assert svgs[0].count(">*<") == 2 and svgs[0].count(">+<") == 2  # a neuron, expanded
