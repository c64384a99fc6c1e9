"""micrograd's whole demo loop, as a user runs it, with micrograd and with scalargrad in one
run: the ratio of the process CPU time each takes.

The loop is micrograd's demo notebook's, cell for cell: the 100 two-moons points of
data/moons.csv, ``random.seed(1337)``, ``MLP(2, [16, 16, 1])``, then 100 steps of
``loss()`` (inputs made ``Value``s, forward, SVM max-margin loss, L2 penalty 1e-4, the
accuracy of every step), ``zero_grad``, ``backward``, the SGD update, and the step's line
formatted as the notebook prints it. The garbage collector is on, as it is for a user;
nothing is collected or warmed up outside the timed loop. Time is the process's CPU time
(``time.process_time``), which a busy machine disturbs less than the wall clock; the wall
clock is printed too. micrograd's loop runs once (about 100 s); scalargrad's ``--reps``
times, and its median is used. The two runs must agree step by step (accuracies equal,
losses within 1e-12 relative). micrograd is pip-installed into this interpreter's
environment if it is missing.

Run from the repository root, in the venv that has scalargrad installed:

    python python/bench/vs_micrograd.py [--steps 100] [--reps 5]
"""

import argparse
import csv
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


def demo(Value, MLP, X, y, steps):
    """micrograd's demo notebook from ``random.seed(1337)`` on: returns (CPU seconds, wall
    seconds, [(loss, accuracy) per step])."""
    t, c = time.perf_counter(), time.process_time()
    random.seed(1337)
    model = MLP(2, [16, 16, 1])

    def loss():
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum((p * p for p in model.parameters()))
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    log, lines = [], []
    for k in range(steps):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        lines.append(f"step {k} loss {total_loss.data}, accuracy {acc*100}%")
        log.append((total_loss.data, acc))
    return time.process_time() - c, time.perf_counter() - t, log


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    ensure_micrograd()
    import micrograd.engine
    import micrograd.nn
    import scalargrad
    import scalargrad.engine
    import scalargrad.nn

    X, y = load_moons()
    mg = demo(micrograd.engine.Value, micrograd.nn.MLP, X, y, args.steps)
    sg = [demo(scalargrad.engine.Value, scalargrad.nn.MLP, X, y, args.steps) for _ in range(args.reps)]
    for run in sg:
        assert [a for _, a in run[2]] == [a for _, a in mg[2]], "accuracies differ"
        for (l1, _), (l2, _) in zip(run[2], mg[2]):
            assert abs(l1 - l2) <= 1e-12 * abs(l2), (l1, l2)
    cpu = statistics.median(r[0] for r in sg)
    wall = statistics.median(r[1] for r in sg)
    print(f"micrograd's demo loop, {args.steps} steps, gc on, accuracy every step "
          f"(Python {sys.version.split()[0]}, micrograd {getattr(micrograd, '__version__', '0.1.0')}, "
          f"scalargrad {scalargrad.__version__}):")
    print(f"  micrograd : CPU {mg[0]:8.2f} s  wall {mg[1]:8.2f} s   ({mg[0] / args.steps * 1e3:.0f} ms/step CPU)")
    print(f"  scalargrad: CPU {cpu:8.3f} s  wall {wall:8.3f} s   ({cpu / args.steps * 1e3:.2f} ms/step CPU, "
          f"median of {args.reps}: {', '.join(f'{r[0]:.3f}' for r in sg)})")
    print(f"  same-run ratio: CPU {mg[0] / cpu:.0f}x, wall {mg[1] / wall:.0f}x; final loss "
          f"{sg[0][2][-1][0]!r} (micrograd {mg[2][-1][0]!r}), accuracy {sg[0][2][-1][1]:.0%}")


if __name__ == "__main__":
    main()
