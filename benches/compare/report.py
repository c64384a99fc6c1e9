"""Turns the JSON lines of rust-peers and engines.py (one run.sh run) into markdown tables.

    python3 report.py results.jsonl machine.txt [--results RESULTS.md] [--seconds S]

Writes RESULTS.md (method + full tables) when --results is given, and prints the tables for
README.md's "## Performance" section.

Every ratio is a same-run ratio: the ratio of two engines measured in the same repetition
(W1: in the same round of a repetition, all engines interleaved), and the table shows the
median of those per-repetition ratios with their [min–max]. Times are medians over
repetitions. Python engines run after the Rust process of their repetition: their ratio is
to the median of that repetition's Rust rounds.
"""
import argparse
import json
import statistics
import sys
from collections import defaultdict

STEP0, STEP99 = 0.8958441028683222, 0.010978370135492719
CHECK = {  # (workload, n): (output, sum of grads 1, sum of grads 2)
    ("W2", 1000000): (0.06328101038059804, 0.080183297111333855, 1.9987099965103805),
    ("W2", 100000): (0.06338158504844663, 0.0799806658944213, 2.0014530013858858),
    ("W3", 1000000): (360000.05999866634, 800000.1999987853, 450000.0),
    ("W3", 100000): (36000.060000010635, 80000.20000005729, 45000.0),
}
NODES = {"W2": lambda n: 5 * n + 1, "W3": lambda n: 4 * n - 1}
FLOOR_FIXED, FLOOR, REVERSE = "floor fixed", "floor", "reverse"
# Rows left out of README's short W1 table (they are in RESULTS.md).
NOT_IN_README = {"scalargrad replay element", "scalargrad replay fused", "scalargrad eager"}
# W2/W3 rows left out of README's short table (they are in RESULTS.md).
CHAIN_NOT_IN_README = {"scalargrad, drop timed"}

# What each W1 row is, for the tables (engine name in results.jsonl -> description).
W1_LABEL = {
    "floor fixed": "hand-written floor, fixed-size `[f64; 16]` layers (vectorised)",
    "floor fixed sparse": "the same fixed floor, backward skipping zero-loss samples and "
                          "off relus (not the ratios' base)",
    "floor": "hand-written floor, generic (nested `Vec`s, any shape)",
    "scalargrad idiomatic": "**scalargrad idiomatic**: `nn::moons::Demo::step` (`nn::Mlp`, "
                            "`train_step`, fused neurons), eager",
    "scalargrad replay": "**scalargrad replay**: `nn::moons::model` + `objective` recorded "
                         "once, then `Graph::recompute` + `backward` + `Sgd` (`set_value`) per step",
    "scalargrad replay element": "scalargrad replay, one node per scalar op (hand-written loop)",
    "scalargrad replay fused": "scalargrad replay, `Graph::affine` per neuron (hand-written loop)",
    "scalargrad micrograd-style": "**scalargrad micrograd-style**: `Graph::new` every step, "
                                  "one node per `*`, `+`, relu",
    "scalargrad Value micrograd-style": "**scalargrad `Value` micrograd-style**: the same "
                                        "loop on owned `Value`s (new parameters every step, "
                                        "every handle dropped)",
    "scalargrad eager dense": "scalargrad eager, one `nn::dense` per layer (the user's own "
                              "parameters), `sum`, `dot`, `mark`/`rewind`",
    "scalargrad eager": "scalargrad eager, one node per scalar op, one graph + `mark`/`rewind`",
    "scalargrad eager fused": "**scalargrad eager fused**: `Graph::affine` per neuron, "
                              "`sum`, `dot`, `mark`/`rewind`",
    "reverse": "`reverse` 0.2.2 (tape cleared every step)",
    "RustQuant_autodiff": "`RustQuant_autodiff` 0.4.0 (tape cleared every step)",
    "easy-ml": "`easy-ml` 1.10 `WengertList` (cleared every step)",
    "micrograd": "micrograd 0.1.0 (PyPI)",
    "PyTorch eager (batched tensors)": "PyTorch eager, batched f64 tensors, 1 thread",
    "JAX jit (batched)": "JAX `jit(value_and_grad)`, batched, compile excluded",
}


def close(a, b, rel):
    return a is not None and abs(a - b) <= rel * abs(b)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, unit=1.0, digits=1):
    return "—" if x is None else f"{x * unit:,.{digits}f}"


def fr(x, digits=2):
    """A ratio: two decimals below 100, thousands separators above."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.{digits}f}"


def ratio_cell(rs, digits=2):
    """median [min–max] of a list of ratios."""
    rs = [r for r in rs if r is not None]
    if not rs:
        return "—"
    m = statistics.median(rs)
    if len(rs) == 1:
        return fr(m, digits)
    return f"{fr(m, digits)} [{fr(min(rs), digits)}–{fr(max(rs), digits)}]"


def ratio_med(rs, digits=2):
    rs = [r for r in rs if r is not None]
    return "—" if not rs else fr(statistics.median(rs), digits)



def fmt3(x):
    """`x` to three decimals, or a dash."""
    return "—" if x is None else f"{x:.3f}"

class Report:
    def __init__(self, rows):
        self.rows = rows
        self.w1 = defaultdict(list)  # engine -> rows
        for r in rows:
            if r["w"] == "W1":
                self.w1[r["engine"]].append(r)
        # Rust W1 rows by (engine, rep, round); per-rep medians for the Python engines.
        self.w1_at = {(r["engine"], r["rep"], r.get("round")): r for r in rows
                      if r["w"] == "W1" and "error" not in r}
        rep_times = defaultdict(list)
        for r in rows:
            if r["w"] == "W1" and "error" not in r and r.get("round") is not None:
                rep_times[(r["engine"], r["rep"])].append(r["step_s"])
        self.w1_rep = {k: statistics.median(v) for k, v in rep_times.items()}
        self.chain = defaultdict(list)  # (w, engine, n, cold) -> rows
        for r in rows:
            if r["w"] in ("W2", "W3"):
                self.chain[(r["w"], r["engine"], r["n"], bool(r.get("cold")))].append(r)

    # ---------------------------------------------------------------- W1
    def w1_ratios(self, eng, ref):
        out = []
        for r in self.w1[eng]:
            if "error" in r:
                continue
            if r.get("round") is not None:
                base = self.w1_at.get((ref, r["rep"], r["round"]))
                base = base and base["step_s"]
            else:
                base = self.w1_rep.get((ref, r["rep"]))
            if base:
                out.append(r["step_s"] / base)
        return out

    def w1_pair(self, eng, ref):
        """Per-round ratios eng/ref (Rust pairs) or per-repetition ratios of medians."""
        rust = lambda e: any(r.get("round") is not None for r in self.w1.get(e, []))
        if rust(eng) and rust(ref):
            return self.w1_ratios(eng, ref)
        med_of = lambda e, rep: (self.w1_rep.get((e, rep)) or
                                 med([r["step_s"] for r in self.w1.get(e, [])
                                      if r["rep"] == rep and "error" not in r]))
        reps = {r["rep"] for r in self.w1.get(eng, [])}
        out = []
        for rep in sorted(reps):
            a, b = med_of(eng, rep), med_of(ref, rep)
            if a and b:
                out.append(a / b)
        return out

    def targets(self):
        """Issue #9's targets against this run."""
        out = ["| target (issue #9) | measured: median [min–max] | met |", "|---|---:|---|"]

        def row(what, rs, limit):
            rs = [r for r in rs if r is not None]
            if not rs:
                out.append(f"| {what} | not measured | — |")
                return
            m = statistics.median(rs)
            out.append(f"| {what} | {ratio_cell(rs)} | {'yes' if m <= limit else '**no**'} |")

        idi, rep_, mgs = "scalargrad idiomatic", "scalargrad replay", "scalargrad micrograd-style"
        row("W1 idiomatic ≤ 5 × fixed floor", self.w1_pair(idi, FLOOR_FIXED), 5)
        row("W1 idiomatic ≤ 1/3 × `reverse`", self.w1_pair(idi, REVERSE), 1 / 3)
        row("W1 idiomatic ≤ 1/3 × RustQuant_autodiff", self.w1_pair(idi, "RustQuant_autodiff"), 1 / 3)
        row("W1 idiomatic ≤ 1/2.5 × PyTorch eager (1 thread)",
            self.w1_pair(idi, "PyTorch eager (batched tensors)"), 1 / 2.5)
        row("W1 replay ≤ 2.5 × fixed floor", self.w1_pair(rep_, FLOOR_FIXED), 2.5)
        row("W1 replay < 1 × JAX jit", self.w1_pair(rep_, "JAX jit (batched)"), 0.999)
        row("W1 micrograd-style ≤ 0.8 × `reverse`", self.w1_pair(mgs, REVERSE), 0.8)
        for peer in ("RustQuant_autodiff", "easy-ml"):
            row(f"W1 micrograd-style < 1 × {peer}", self.w1_pair(mgs, peer), 0.999)
        for w in ("W2", "W3"):
            row(f"{w} 10⁶ warm ≤ 0.5 × `reverse`",
                self.chain_ratios(w, "scalargrad", 1000000, False, REVERSE), 0.5)
            row(f"{w} 10⁶ cold ≤ 0.7 × `reverse`",
                self.chain_ratios(w, "scalargrad", 1000000, True, REVERSE), 0.7)
        b = self.bytes_per_node("scalargrad (no handles kept)")
        bf = self.bytes_per_node("scalargrad (no handles kept)", less_file=True)
        out.append(f"| memory ≤ 24 bytes/node (W2 10⁶, engine alone; less file pages) | "
                   f"{'—' if b is None else f'{b:.3f}'} ({fmt3(bf)}) | "
                   f"{'—' if b is None else ('yes' if b <= 24 else '**no**')} |")
        out.append("| criterion and this harness within 20% | see the stability section | — |")
        return out

    def targets27(self):
        """Issue #27's targets against this run."""
        out = ["| target (issue #27) | measured: median [min–max] | met |", "|---|---:|---|"]

        def row(what, rs, limit, worst=False):
            rs = [r for r in rs if r is not None]
            if not rs:
                out.append(f"| {what} | not measured | — |")
                return
            m = max(rs) if worst else statistics.median(rs)
            met = "—" if limit == float("inf") else ("yes" if m <= limit else "**no**")
            out.append(f"| {what} | {ratio_cell(rs)} | {met} |")

        idi = "scalargrad idiomatic"
        row("own layers, `g.affine` per neuron (eager fused) ≤ 1.5 × `nn::moons::Demo::step`",
            self.w1_pair("scalargrad eager fused", idi), 1.5)
        row("(not a target) own layers, `nn::dense` per layer, × `Demo::step`",
            self.w1_pair("scalargrad eager dense", idi), float("inf"))
        row("micrograd-style on `Graph` ≤ 0.5 × `reverse`",
            self.w1_pair("scalargrad micrograd-style", REVERSE), 0.5)
        for w in ("W2", "W3"):
            row(f"`Value` {w} 10⁵ (record, backward, drop) ≤ 2 × `Graph` (drop timed too)",
                self.chain_ratios(w, "scalargrad Value", 100000, False,
                                  "scalargrad, drop timed"), 2)
        row("`Value` micrograd-style moons ≤ 2 × the same on `Graph`",
            self.w1_pair("scalargrad Value micrograd-style", "scalargrad micrograd-style"), 2)
        for w in ("W2", "W3"):
            row(f"{w} 10⁶ cold, worst of the run's processes ≤ 0.7 × `reverse` "
                f"(no memory freed before them: `cold.sh` is the test with)",
                self.chain_ratios(w, "scalargrad", 1000000, True, REVERSE), 0.7, worst=True)
        b = self.bytes_per_node("scalargrad Value")
        out.append(f"| (not a target) `Value` W2 10⁶ peak RSS per node, with its `w`, `b` "
                   f"handles | {'—' if b is None else f'{b:.1f} bytes'} | — |")
        return out

    def w1_check(self, rs):
        l99 = rs[0].get("loss99")
        ok0 = all(close(r["loss0"], STEP0, 1e-9) for r in rs)
        ok99 = all(r.get("loss99") is None or close(r["loss99"], STEP99, 1e-9) for r in rs)
        if not (ok0 and ok99):
            return "**FAILED** (loss mismatch)"
        if l99 is None:
            return f"step 0 ok; only {rs[0]['n']} steps timed"
        return "ok"

    def w1_order(self):
        order = list(W1_LABEL)
        return sorted(self.w1, key=lambda e: order.index(e) if e in order else len(order))

    def w1_table(self):
        out = ["| engine | µs/step | × fixed floor | × generic floor | × reverse | nodes/step "
               "| step-0 loss | step-99 loss | check |",
               "|---|---:|---:|---:|---:|---:|---|---|---|"]
        for eng in self.w1_order():
            rs = self.w1[eng]
            if any("error" in r for r in rs):
                out.append(f"| {eng} | — | — | — | — | — | — | — | failed: {rs[0]['error']} |")
                continue
            t = med([r["step_s"] for r in rs])
            nodes = rs[0].get("nodes")
            out.append(
                f"| {W1_LABEL.get(eng, eng)} | {fmt(t, 1e6)} "
                f"| {ratio_cell(self.w1_ratios(eng, FLOOR_FIXED))} "
                f"| {ratio_cell(self.w1_ratios(eng, FLOOR))} "
                f"| {ratio_cell(self.w1_ratios(eng, REVERSE))} "
                f"| {f'{nodes:,}' if nodes else '—'} "
                f"| {rs[0]['loss0']!r} | {rs[0].get('loss99')!r} | {self.w1_check(rs)} |")
        return out

    def w1_readme(self):
        out = ["| W1 moons, one training step | µs | × fixed floor | × `reverse` |",
               "|---|---:|---:|---:|"]
        for eng in self.w1_order():
            rs = self.w1[eng]
            if (eng in NOT_IN_README or any("error" in r for r in rs)
                    or self.w1_check(rs).startswith("**")):
                continue
            t = med([r["step_s"] for r in rs])
            us = f"~{t * 1e6:,.0f}" if t > 1e-2 else f"{t * 1e6:,.0f}"
            out.append(f"| {W1_LABEL.get(eng, eng)} | {us} "
                       f"| {ratio_med(self.w1_ratios(eng, FLOOR_FIXED))} "
                       f"| {ratio_med(self.w1_ratios(eng, REVERSE))} |")
        return out

    # ---------------------------------------------------------------- W2 / W3
    @staticmethod
    def total(r):
        if r.get("fwdbwd_s") is not None:
            return r["fwdbwd_s"]
        return r["fwd_s"] + r["bwd_s"]

    def chain_ratios(self, w, eng, n, cold, ref):
        base = {r["rep"]: self.total(r) for r in self.chain.get((w, ref, n, cold), [])
                if "error" not in r}
        return [self.total(r) / base[r["rep"]] for r in self.chain.get((w, eng, n, cold), [])
                if "error" not in r and r["rep"] in base]

    def chain_check(self, w, n, rs):
        ref = CHECK.get((w, n))
        if ref is None:
            return "no reference"
        if all(close(r["out"], ref[0], 1e-12) and close(r.get("s1"), ref[1], 1e-12)
               and close(r.get("s2"), ref[2], 1e-12) for r in rs):
            return "ok"
        r0 = rs[0]
        return f"**FAILED** ({r0['out']!r}, {r0.get('s1')!r}, {r0.get('s2')!r})"

    def chain_table(self, w):
        out = ["| engine | N | fwd ns/node | bwd ns/node | warm ns/node | warm × floor "
               "| warm × reverse | cold ns/node | cold × reverse | check |",
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        engines = []
        for (ww, eng, n, cold) in self.chain:
            if ww == w and (eng, n) not in engines:
                engines.append((eng, n))
        engines.sort(key=lambda e: (e[1], e[0] != "floor"))
        for eng, n in engines:
            nodes = NODES[w](n)
            warm = self.chain.get((w, eng, n, False), [])
            cold = self.chain.get((w, eng, n, True), [])
            if any("error" in r for r in warm):
                out.append(f"| {eng} | {n:,} | — | — | — | — | — | — | — | "
                           f"fails: {warm[0]['error']} |")
                continue
            f = med([r.get("fwd_s") for r in warm])
            b = med([r.get("bwd_s") for r in warm])
            t = med([self.total(r) for r in warm])
            tc = med([self.total(r) for r in cold]) if cold else None
            out.append(
                f"| {eng} | {n:,} | {fmt(f, 1e9 / nodes)} | {fmt(b, 1e9 / nodes)} "
                f"| {fmt(t, 1e9 / nodes)} "
                f"| {ratio_cell(self.chain_ratios(w, eng, n, False, 'floor'))} "
                f"| {ratio_cell(self.chain_ratios(w, eng, n, False, REVERSE))} "
                f"| {fmt(tc, 1e9 / nodes)} "
                f"| {ratio_cell(self.chain_ratios(w, eng, n, True, REVERSE))} "
                f"| {self.chain_check(w, n, warm + cold)} |")
        return out

    def chain_readme(self):
        out = ["| record + backward, ns/node (× `reverse`) | W2 chain 10⁵ | W2 10⁶ "
               "| W2 10⁶ cold | W3 wide 10⁵ | W3 10⁶ | W3 10⁶ cold |",
               "|---|---:|---:|---:|---:|---:|---:|"]
        engines = []
        for (w, eng, n, cold) in self.chain:
            if eng not in engines and eng not in CHAIN_NOT_IN_README:
                engines.append(eng)
        for eng in engines:
            cells = []
            for w in ("W2", "W3"):
                for n, cold in ((100000, False), (1000000, False), (1000000, True)):
                    rs = self.chain.get((w, eng, n, cold), [])
                    if not rs:
                        cells.append("—")
                        continue
                    if any("error" in r for r in rs):
                        cells.append("fails" if "Recursion" in rs[0]["error"] else "not run")
                        continue
                    if not self.chain_check(w, n, rs) == "ok":
                        cells.append("wrong")
                        continue
                    t = med([self.total(r) for r in rs]) * 1e9 / NODES[w](n)
                    rr = self.chain_ratios(w, eng, n, cold, REVERSE)
                    cells.append(f"{t:,.1f}" + (f" ({ratio_med(rr)})" if eng != REVERSE and rr
                                                else ""))
            name = f"**{eng}**" if eng == "scalargrad" else eng
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        return out

    # ---------------------------------------------------------------- memory
    def peak_rss(self, eng, less_file=False):
        """{N: median peak RSS over the processes that ran W2 at N alone}; `less_file`: less
        each process's file-backed pages (its code, faulted in from the page cache)."""
        runs = defaultdict(list)
        for r in self.rows:
            if r["w"] == "W2-mem" and r["engine"] == eng:
                if less_file and "rss_file" not in r:
                    continue
                runs[r["n"]].append(r["peak_rss"] - (r["rss_file"] if less_file else 0))
        return {n: statistics.median(v) for n, v in runs.items()}

    def mem_table(self):
        engines = list(dict.fromkeys(r["engine"] for r in self.rows if r["w"] == "W2-mem"))
        out = ["| engine | N | peak RSS (median) | bytes/node | bytes/node, less file pages "
               "| processes |", "|---|---:|---:|---:|---:|---:|"]
        for eng in engines:
            d = self.peak_rss(eng)
            big = max(d)
            runs = sum(1 for r in self.rows
                       if r["w"] == "W2-mem" and r["engine"] == eng and r["n"] == big)
            if 1 in d:
                out.append(f"| {eng} | {big:,} | {d[big] / 2**20:,.1f} MiB | "
                           f"{self.bytes_per_node(eng):.3f} | "
                           f"{fmt3(self.bytes_per_node(eng, less_file=True))} | {runs} |")
        return out

    def bytes_per_node(self, eng, less_file=False):
        d = self.peak_rss(eng, less_file)
        if 1 in d and len(d) > 1:
            big = max(d)
            return (d[big] - d[1]) / NODES["W2"](big)
        return None


HEADER = """# scalargrad performance: W1, W2, W3 against hand-written floors and other engines

**Regenerate** (rewrites this file from one run and prints the README's tables):

    bash benches/compare/run.sh                 # REPS=5; add --no-python to skip micrograd/torch/jax
    bash benches/compare/run.sh --stability     # also re-checks criterion vs this harness (~2 min)
    LTO=1 bash benches/compare/stability.sh     # that check with criterion built with fat LTO

Then paste the printed tables into README.md's "## Performance" section (it quotes this run
only). `LABEL="..."` puts a line under the title (e.g. which engine version this is).

Generated by `benches/compare/run.sh` on {date}: {reps} repetitions{took}.
{label}
Workloads and checksums: [`benches/WORKLOADS.md`](../WORKLOADS.md) (W1 micrograd's moons
training step, W2 deep `tanh` chain, W3 wide sum of products). A row's "check" is `ok` when it
reproduced them (W1: micrograd's step-0 and step-99 losses to 1e-9 relative; W2/W3: output and
both gradient sums to 1e-12 relative).

## Method

- **Same-run ratios.** The machine is shared and noisy, so every ratio compares engines timed
  in the same repetition: the Rust engines run interleaved in one process (W1: every engine
  once per round, 3 rounds per repetition; W2/W3: every engine in turn per size), the Python
  engines right after in the same repetition. A cell `1.23 [1.10–1.40]` is the median of the
  per-repetition (per-round) ratios and their range; times are medians. `× reverse` < 1 means
  faster than `reverse`.
- **Clock: on-CPU time**, not wall-clock: the Rust binary reads `CLOCK_THREAD_CPUTIME_ID`
  around every timed region, the Python engines `time.process_time()` (whole process: PyTorch
  and XLA may compute on threads of their own). On a machine shared with other jobs,
  wall-clock time counts the time the benchmark waits for a core, which is not the engine's
  (cache and memory-bandwidth contention from the other jobs still count). `CLOCK=wall
  bash benches/compare/run.sh` times wall-clock instead; the rows record which clock was used.
- **One release profile for every Rust engine**: all of them (scalargrad, the floors,
  `reverse`, `RustQuant_autodiff`, `easy-ml`) are compiled into the one binary `rust-peers`
  with `lto = "fat"`, `codegen-units = 1`, `debug = 1` (`rust-peers/Cargo.toml`).
- **Floors**: plain `f64` arrays and hand-coded backprop, no graph (`rust-peers/src/floor.rs`).
  W1's *fixed* floor knows the shape (`[f64; 16]` layers, the hidden weights also kept
  transposed) so every inner loop runs over 16 neurons and is vectorised; the *generic* floor
  is the same algorithm over nested `Vec`s. *fixed sparse* is the fixed floor whose backward
  also skips samples whose hinge loss is 0 and neurons whose relu is off (same numbers): how
  far a program that knows where the zeros are can go; "× fixed floor" is to the dense one,
  the floor issue #9's targets were set against. W2's floor is one forward loop storing `x`, `w`,
  `b` and one reverse loop; W3's a dot-product loop and two copies (the gradients).
- **W1 rows.** *idiomatic* is what the README and `examples/moons.rs` teach:
  `nn::moons::Demo::new(&g, Start::InitFile)` built before timing, then `demo.step()` 100
  times (`nn::train_step`: mark, zero the parameters' gradients, record, backward, SGD,
  rewind). *replay*: `nn::moons::model` + `nn::moons::objective` recorded once (untimed;
  default fused neurons), then per step `Graph::recompute`, `zero_grad`, `backward` and the
  `Sgd` optimizer (`set_value` on the 337 parameters); *replay element* / *replay fused* are
  the same with the hand-written loop of the criterion bench (one node per op / `affine`). *micrograd-style*: a fresh
  `Graph::new()` every step, the parameters re-created from numbers, one node per `*`, `+`,
  relu, exactly the formulas of WORKLOADS.md (the same loop the tape crates run). *eager
  fused*: one graph, `Graph::affine` per neuron, `Graph::sum`, `Graph::dot`, `mark`/`rewind`.
  The tape crates cannot free part of a tape: they clear it every step and re-add the
  parameters; their backward returns a fresh `Vec` of adjoints (timed: their API requires it).
  None of them has relu (`reverse`: `x * 1.0` or `x * 0.0`; RustQuant: `max(x, 0)`; easy-ml:
  a `unary`) and only RustQuant has tanh (easy-ml: a `unary` with `1 - tanh(x)²`).
- **W2/W3 warm and cold.** *warm*: the timed graph follows an untimed one of the same engine
  and size in the same process (what a loop that builds graphs sees; the criterion benches
  measure this). *cold*: the first graph of a fresh process (`rust-peers --cold ENGINE W N`,
  one process per engine, size and repetition), page faults of fresh memory included.
  Timed: creating the graph, every leaf and op ("fwd") and the one backward call ("bwd");
  not timed: reading gradients, freeing. ns/node uses nodes = 5N+1 (W2), 4N−1 (W3). glibc's
  malloc thresholds are fixed for every Rust process alike (mmap threshold 32 MiB, no
  trimming below 1 GiB) so a 10⁵ run does not depend on what ran before it.
- **Memory**: peak RSS of a process that runs only W2 at N = 10⁶, minus the same at N = 1,
  divided by 5N+1; each the median of five processes (a process's own pages vary by tens
  of KiB from one to the next: code faulted in from the page cache). "scalargrad" keeps the 2N `w`/`b` handles in two `Vec`s as the timed
  runs do (16 bytes each = 6.4 bytes/node); "no handles kept" is the engine alone. The peers
  keep their handles (24 bytes each) and their adjoint `Vec`.
- **Python**: micrograd (PyPI) times only `MICROGRAD_STEPS` (default 3) W1 steps, about 1 s
  each, so its step-99 loss is not re-checked; its W2/W3 fail in its recursive topological
  sort. The Python engines' W2/W3 run in the first repetition only (PyTorch's 0-d tensors
  take ~10 CPU-seconds a repetition). PyTorch eager runs W1 as batched float64 tensors on one thread
  (`torch.set_num_threads(1)`), W2/W3 as one 0-d tensor per scalar at N = 10⁵ only (10⁶ takes
  a minute per repetition). JAX: `jit(value_and_grad)` of the batched W1 loss with the update
  inside the jit, and of a `lax.scan` for W2/W3; compile time excluded. These have no per-node
  graph: they are shown for scale.
- **Stability** (criterion vs this binary): `bash benches/compare/stability.sh` runs the
  criterion benches `w1_moons`, `w2_chain`, `w3_wide` and the same workloads in `rust-peers`
  and prints the ratio per workload; see the section at the end.
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("machine", nargs="?")
    ap.add_argument("--results-md", default=None, help="write the full RESULTS.md here")
    ap.add_argument("--seconds", type=float, default=None, help="how long run.sh took")
    ap.add_argument("--label", default="", help="a line saying which engine version this is")
    ap.add_argument("--stability", action="append", default=[],
                    help="a markdown file with stability.sh's output (repeatable)")
    a = ap.parse_args()
    rows = [json.loads(l) for l in open(a.results) if l.startswith("{")]
    machine = open(a.machine).read().strip() if a.machine else ""
    rep = Report(rows)
    reps = len({r["rep"] for r in rows if "rep" in r})

    readme = []
    if machine:
        readme += [f"Machine: {machine}.", ""]
    readme += rep.w1_readme() + [""] + rep.chain_readme()
    bpn = rep.bytes_per_node("scalargrad (no handles kept)")
    bpn_rev = rep.bytes_per_node("reverse")
    if bpn is not None:
        readme += ["", f"Memory (W2 at 10⁶, peak RSS difference per node): scalargrad "
                       f"{bpn:.3f} bytes/node (engine alone), `reverse` "
                       f"{fmt(bpn_rev)} (with its handles and adjoint `Vec`)."]
    print("\n".join(readme))

    if a.results_md:
        import datetime
        took = f", run.sh took {a.seconds / 60:.1f} min" if a.seconds else ""
        out = [HEADER.format(date=datetime.date.today().isoformat(), reps=reps, took=took,
                             label=(a.label + "\n") if a.label else "")]
        out += [f"Machine: {machine}.", ""] if machine else []
        out += ["## W1 moons (MLP 2-16-16-1, 100 samples, full batch; one training step)", ""]
        out += rep.w1_table()
        for w, title in (("W2", "W2 deep chain (x = tanh(x·w + b), 5N+1 nodes)"),
                         ("W3", "W3 wide sum (acc = acc + a·b, 4N−1 nodes)")):
            out += ["", f"## {title}", ""] + rep.chain_table(w)
        out += ["", "## Issue #9's targets, against this run", ""] + rep.targets()
        out += ["", "## Issue #27's targets, against this run", ""] + rep.targets27()
        out += ["", "## W2 memory (peak RSS of a process running only W2, minus the same at "
                    "N = 1)", ""] + rep.mem_table()
        for f in a.stability:
            out += ["", open(f).read().strip()]
        out += ["", "## README tables (printed by `report.py` from the same run)", ""] + readme
        open(a.results_md, "w").write("\n".join(out) + "\n")

    # A checksum that failed anywhere fails the run (after the tables are written).
    failed = [l.split("|")[1].strip() for l in
              rep.w1_table() + rep.chain_table("W2") + rep.chain_table("W3") if "**FAILED**" in l]
    if failed:
        print(f"report.py: checksums FAILED for: {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
