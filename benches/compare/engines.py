"""W1/W2/W3 on micrograd, PyTorch (eager) and JAX, one JSON line per measurement.

Run by run.sh inside benches/compare/.venv:
    python engines.py --rep K [--w1-steps-micrograd 3] [--n 100000]
Conventions are those of ../WORKLOADS.md (here: data/ of the crate).
"""
import argparse
import csv
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data")


# The clock, as rust-peers': on-CPU time (of the whole process: PyTorch and XLA may compute
# on threads of their own) unless CLOCK=wall.
CLOCK = "wall" if os.environ.get("CLOCK") == "wall" else "process-cpu"
now = time.perf_counter if CLOCK == "wall" else time.process_time


def emit(**row):
    print(json.dumps(dict(row, clock=CLOCK)), flush=True)


def load():
    with open(os.path.join(DATA, "moons.csv")) as f:
        rows = list(csv.DictReader(f))
    xs = [[float(r["x1"]), float(r["x2"])] for r in rows]
    ys = [float(r["label"]) for r in rows]
    with open(os.path.join(DATA, "moons_mlp_init.json")) as f:
        init = json.load(f)
    return xs, ys, init["layers"]


def flatten(layers):
    p = []
    for l in layers:
        for w, b in zip(l["weights"], l["biases"]):
            p.extend(w)
            p.append(b)
    return p


def lr(k):
    return 1.0 - (0.9 * k) / 100


# ---------------------------------------------------------------- micrograd
def micrograd_w1(xs, ys, layers, steps, rep):
    from micrograd.engine import Value

    params = [Value(v) for v in flatten(layers)]
    shapes = [(len(l["weights"][0]), len(l["weights"]), l["relu"]) for l in layers]
    loss0 = loss99 = None
    t0 = now()
    for k in range(steps):
        losses = []
        for x, y in zip(xs, ys):
            inp = [Value(v) for v in x]
            off = 0
            for nin, nout, relu in shapes:
                out = []
                for _ in range(nout):
                    w, b = params[off:off + nin], params[off + nin]
                    off += nin + 1
                    act = sum((wi * xi for wi, xi in zip(w, inp)), b)
                    out.append(act.relu() if relu else act)
                inp = out
            losses.append((inp[0] * (-y) + 1.0).relu())
        data_loss = sum(losses) * (1.0 / len(losses))
        reg = 1e-4 * sum(p * p for p in params)
        total = data_loss + reg
        for p in params:
            p.grad = 0.0
        total.backward()
        if k == 0:
            loss0 = total.data
        if k == 99:
            loss99 = total.data
        l = lr(k)
        for p in params:
            p.data -= l * p.grad
    emit(w="W1", engine="micrograd", n=steps, rep=rep,
         step_s=(now() - t0) / steps, loss0=loss0, loss99=loss99)


def micrograd_tanh(Value):
    """micrograd's PyPI Value has no tanh: the one from Karpathy's lecture, d tanh = 1 - t^2."""
    import math

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad
        out._backward = _backward
        return out
    return tanh


def micrograd_chain(w, n, rep):
    from micrograd.engine import Value

    Value.tanh = micrograd_tanh(Value)

    t0 = now()
    try:
        if w == "W2":
            x = Value(0.5)
            for k in range(n):
                x = (x * Value(0.5 + 0.001 * (k % 7)) + Value(0.01 * (k % 5))).tanh()
        else:
            acc = Value((0 % 10) * 0.1) * Value(1.0 - (0 % 3) * 0.2)
            for i in range(1, n):
                acc = acc + Value((i % 10) * 0.1) * Value(1.0 - (i % 3) * 0.2)
            x = acc
        t1 = now()
        x.backward()
        t2 = now()
        emit(w=w, engine="micrograd", n=n, rep=rep, fwd_s=t1 - t0, bwd_s=t2 - t1, out=x.data)
    except RecursionError as e:
        emit(w=w, engine="micrograd", n=n, rep=rep,
             error="RecursionError in backward's recursive topological sort "
                   f"(sys.getrecursionlimit() = {sys.getrecursionlimit()}): {e}")


# ---------------------------------------------------------------- PyTorch
def torch_w1(xs, ys, layers, steps, rep):
    import torch

    torch.set_num_threads(1)
    X = torch.tensor(xs, dtype=torch.float64)
    Y = torch.tensor(ys, dtype=torch.float64)
    Ws = [torch.tensor(l["weights"], dtype=torch.float64, requires_grad=True) for l in layers]
    Bs = [torch.tensor(l["biases"], dtype=torch.float64, requires_grad=True) for l in layers]
    relus = [l["relu"] for l in layers]
    loss0 = loss99 = None
    t0 = now()
    for k in range(steps):
        h = X
        for W, B, r in zip(Ws, Bs, relus):
            h = torch.addmm(B, h, W.t())
            if r:
                h = torch.relu(h)
        losses = torch.relu(h[:, 0] * (-Y) + 1.0)
        data_loss = losses.sum() * 0.01
        reg = sum((W * W).sum() + (B * B).sum() for W, B in zip(Ws, Bs)) * 1e-4
        total = data_loss + reg
        for t in Ws + Bs:
            t.grad = None
        total.backward()
        v = total.item()
        if k == 0:
            loss0 = v
        if k == 99:
            loss99 = v
        with torch.no_grad():
            l = lr(k)
            for t in Ws + Bs:
                t -= l * t.grad
    emit(w="W1", engine="PyTorch eager (batched tensors)", n=steps, rep=rep,
         step_s=(now() - t0) / steps, loss0=loss0, loss99=loss99)


def torch_chain(w, n, rep):
    """One 0-d tensor per scalar: the scalar graph the workload asks for."""
    import torch

    torch.set_num_threads(1)
    t0 = now()
    if w == "W2":
        x0 = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        ws, bs = [], []
        x = x0
        for k in range(n):
            wk = torch.tensor(0.5 + 0.001 * (k % 7), dtype=torch.float64, requires_grad=True)
            bk = torch.tensor(0.01 * (k % 5), dtype=torch.float64, requires_grad=True)
            ws.append(wk)
            bs.append(bk)
            x = torch.tanh(x * wk + bk)
    else:
        ws, bs = [], []
        for i in range(n):
            ws.append(torch.tensor((i % 10) * 0.1, dtype=torch.float64, requires_grad=True))
            bs.append(torch.tensor(1.0 - (i % 3) * 0.2, dtype=torch.float64, requires_grad=True))
        x = ws[0] * bs[0]
        for i in range(1, n):
            x = x + ws[i] * bs[i]
    t1 = now()
    x.backward()
    t2 = now()
    emit(w=w, engine="PyTorch eager (0-d tensors)", n=n, rep=rep, fwd_s=t1 - t0, bwd_s=t2 - t1,
         out=x.item(), s1=sum(t.grad.item() for t in ws), s2=sum(t.grad.item() for t in bs))


# ---------------------------------------------------------------- JAX
def jax_setup():
    # one thread, as every other engine (XLA's CPU client reads this at first use)
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1")
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax


def jax_w1(xs, ys, layers, steps, rep):
    jax = jax_setup()
    import jax.numpy as jnp

    X = jnp.array(xs, dtype=jnp.float64)
    Y = jnp.array(ys, dtype=jnp.float64)
    relus = tuple(l["relu"] for l in layers)
    params = [(jnp.array(l["weights"], dtype=jnp.float64), jnp.array(l["biases"], dtype=jnp.float64))
              for l in layers]

    def loss(params):
        h = X
        for (W, B), r in zip(params, relus):
            h = h @ W.T + B
            if r:
                h = jnp.maximum(h, 0.0)
        losses = jnp.maximum(h[:, 0] * (-Y) + 1.0, 0.0)
        reg = sum((W * W).sum() + (B * B).sum() for W, B in params)
        return losses.sum() * 0.01 + reg * 1e-4

    vg = jax.value_and_grad(loss)

    @jax.jit
    def step(params, l):
        v, g = vg(params)
        return v, jax.tree_util.tree_map(lambda p, d: p - l * d, params, g)

    jax.block_until_ready(step(params, 1.0))  # compile outside the timed region
    loss0 = loss99 = None
    t0 = now()
    for k in range(steps):
        v, params = step(params, lr(k))
        v = float(v)
        if k == 0:
            loss0 = v
        if k == 99:
            loss99 = v
    jax.block_until_ready(params)
    emit(w="W1", engine="JAX jit (batched)", n=steps, rep=rep,
         step_s=(now() - t0) / steps, loss0=loss0, loss99=loss99)


def jax_chain(w, n, rep):
    """jit(value_and_grad) of a lax.scan over the chain: compiled, no per-node graph."""
    jax = jax_setup()
    import jax.numpy as jnp

    k = jnp.arange(n)
    if w == "W2":
        a = 0.5 + 0.001 * (k % 7)
        b = 0.01 * (k % 5)

        def f(a, b):
            def body(x, wb):
                return jnp.tanh(x * wb[0] + wb[1]), None
            return jax.lax.scan(body, jnp.float64(0.5), (a, b))[0]
    else:
        a = (k % 10) * 0.1
        b = 1.0 - (k % 3) * 0.2

        def f(a, b):
            def body(acc, ab):
                return acc + ab[0] * ab[1], None
            return jax.lax.scan(body, a[0] * b[0], (a[1:], b[1:]))[0]
    vg = jax.jit(jax.value_and_grad(f, argnums=(0, 1)))
    jax.block_until_ready(vg(a, b))  # compile outside the timed region
    t0 = now()
    v, (ga, gb) = vg(a, b)
    jax.block_until_ready((v, ga, gb))
    t1 = now()
    emit(w=w, engine="JAX jit (lax.scan)", n=n, rep=rep, fwd_s=None, bwd_s=None,
         fwdbwd_s=t1 - t0, out=float(v), s1=sum(ga.tolist()), s2=sum(gb.tolist()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rep", type=int, default=0)
    ap.add_argument("--w1-steps-micrograd", type=int, default=3)
    ap.add_argument("--n", default="100000")
    ap.add_argument("--torch-n", type=int, default=100000)
    ap.add_argument("--only", default=None)
    ap.add_argument("--no-chains", action="store_true", help="W1 only (run.sh: repetitions > 1)")
    a = ap.parse_args()
    xs, ys, layers = load()
    engines = a.only.split(",") if a.only else ["micrograd", "torch", "jax"]
    for eng in engines:
        try:
            if eng == "micrograd":
                micrograd_w1(xs, ys, layers, a.w1_steps_micrograd, a.rep)
            elif eng == "torch":
                torch_w1(xs, ys, layers, 100, a.rep)
            elif eng == "jax":
                jax_w1(xs, ys, layers, 100, a.rep)
        except ImportError as e:
            emit(w="W1", engine=eng, n=0, rep=a.rep, error=f"not installed: {e}")
        for n in ([] if a.no_chains else map(int, a.n.split(","))):
            for w in ("W2", "W3"):
                try:
                    if eng == "micrograd" and n > 100000:
                        emit(w=w, engine="micrograd", n=n, rep=a.rep,
                             error="not run: the recursion limit is already hit at N = 100,000")
                    elif eng == "micrograd":
                        micrograd_chain(w, n, a.rep)
                    elif eng == "torch" and n > a.torch_n:
                        emit(w=w, engine="PyTorch eager (0-d tensors)", n=n, rep=a.rep,
                             error=f"not run: ~1 minute per repetition (run.sh: TORCH_N={n})")
                    elif eng == "torch":
                        torch_chain(w, n, a.rep)
                    elif eng == "jax":
                        jax_chain(w, n, a.rep)
                except ImportError as e:
                    emit(w=w, engine=eng, n=n, rep=a.rep, error=f"not installed: {e}")


if __name__ == "__main__":
    main()
