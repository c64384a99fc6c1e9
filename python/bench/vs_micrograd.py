"""Time one step of micrograd's demo (forward, backward, update) with micrograd and with
scalargrad, interleaved in one run, and print the ratio.

The step is micrograd's demo notebook's: the 100 two-moons points of data/moons.csv, an
``MLP(2, [16, 16, 1])`` seeded with ``random.seed(1337)``, the SVM max-margin loss with
L2 penalty 1e-4, ``zero_grad``, ``backward``, and the SGD update. Each repetition builds both
models afresh from the same seed and times step 0 of each (garbage collected before, not
timed). micrograd is pip-installed into this interpreter's environment if it is missing.

Run from the repository root, in the venv that has scalargrad installed:

    python python/bench/vs_micrograd.py [--reps 5]
"""

import argparse
import csv
import gc
import importlib
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CSV = os.path.join(HERE, "..", "..", "data", "moons.csv")


def ensure_micrograd():
    try:
        importlib.import_module("micrograd")
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "micrograd"])
        importlib.invalidate_caches()


def load_moons():
    with open(CSV) as f:
        rows = list(csv.reader(f))[1:]
    X = [[float(a), float(b)] for a, b, _ in rows]
    y = [int(float(c)) for _, _, c in rows]
    return X, y


def demo_step(Value, model, X, y, k):
    """One step of micrograd's demo; returns the loss and the accuracy."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum((p * p for p in model.parameters()))
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, sum(accuracy) / len(accuracy)


def timed_step(Value, MLP, X, y):
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    gc.collect()
    t = time.perf_counter()
    loss, _ = demo_step(Value, model, X, y, 0)
    return time.perf_counter() - t, loss


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    ensure_micrograd()
    import micrograd.engine
    import micrograd.nn
    import scalargrad.engine
    import scalargrad.nn

    X, y = load_moons()
    mg, sg, ratios = [], [], []
    for rep in range(args.reps):
        t_mg, l_mg = timed_step(micrograd.engine.Value, micrograd.nn.MLP, X, y)
        # scalargrad's step is short: time the median of 21 to steady the clock
        runs = [timed_step(scalargrad.engine.Value, scalargrad.nn.MLP, X, y) for _ in range(21)]
        t_sg = statistics.median(t for t, _ in runs)
        l_sg = runs[0][1]
        assert abs(l_mg - l_sg) <= 1e-12 * abs(l_mg), (l_mg, l_sg)
        mg.append(t_mg)
        sg.append(t_sg)
        ratios.append(t_mg / t_sg)
        print(f"rep {rep}: micrograd {t_mg * 1e3:9.2f} ms   scalargrad {t_sg * 1e3:7.3f} ms   "
              f"ratio {t_mg / t_sg:7.1f}x   (loss {l_sg:.16g})")
    print(f"median: micrograd {statistics.median(mg) * 1e3:.2f} ms/step, scalargrad "
          f"{statistics.median(sg) * 1e3:.3f} ms/step, same-run ratio {statistics.median(ratios):.1f}x "
          f"(Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
