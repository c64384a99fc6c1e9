"""Time one step of micrograd's demo (forward, backward, update) with micrograd and with
scalargrad, interleaved in one run, and print the ratio.

The step is micrograd's demo notebook's: the 100 two-moons points of data/moons.csv, an
``MLP(2, [16, 16, 1])`` seeded with ``random.seed(1337)``, the SVM max-margin loss with
L2 penalty 1e-4, ``zero_grad``, ``backward``, and the SGD update. Each repetition builds both
models afresh from the same seed and times step 0 of each (garbage collected before, not
timed), as wall-clock time and as the process's CPU time (which a busy machine disturbs
less). micrograd is pip-installed into this interpreter's environment if it is missing.

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
    """(wall seconds, CPU seconds, loss) of step 0 from micrograd's seeded weights."""
    random.seed(1337)
    model = MLP(2, [16, 16, 1])
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    loss, _ = demo_step(Value, model, X, y, 0)
    return time.perf_counter() - t, time.process_time() - c, loss


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
    rows = []
    for rep in range(args.reps):
        mg = timed_step(micrograd.engine.Value, micrograd.nn.MLP, X, y)
        # scalargrad's step is short: the median of 21 steadies the clock
        runs = [timed_step(scalargrad.engine.Value, scalargrad.nn.MLP, X, y) for _ in range(21)]
        sg = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), runs[0][2])
        assert abs(mg[2] - sg[2]) <= 1e-12 * abs(mg[2]), (mg[2], sg[2])
        rows.append((mg, sg))
        print(f"rep {rep}: wall micrograd {mg[0] * 1e3:8.1f} ms, scalargrad {sg[0] * 1e3:6.2f} ms "
              f"({mg[0] / sg[0]:5.1f}x) | CPU micrograd {mg[1] * 1e3:8.1f} ms, scalargrad "
              f"{sg[1] * 1e3:6.2f} ms ({mg[1] / sg[1]:5.1f}x) | loss {sg[2]:.16g}")
    med = statistics.median
    print(f"median over {args.reps} repetitions (Python {sys.version.split()[0]}): "
          f"wall {med(m[0] for m, _ in rows) * 1e3:.1f} vs {med(s[0] for _, s in rows) * 1e3:.2f} ms/step, "
          f"same-run ratio {med(m[0] / s[0] for m, s in rows):.0f}x; "
          f"CPU {med(m[1] for m, _ in rows) * 1e3:.1f} vs {med(s[1] for _, s in rows) * 1e3:.2f} ms/step, "
          f"same-run ratio {med(m[1] / s[1] for m, s in rows):.0f}x")


if __name__ == "__main__":
    main()
