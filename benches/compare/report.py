"""Turns the JSON lines of rust-peers and engines.py into the comparison table (markdown).

    python3 report.py results.jsonl [machine.txt]

Medians over repetitions; "× floor" is the median over repetitions of the ratio to the
hand-written floor measured in the same repetition (for Python engines: the floor run in the
Rust process started just before, in the same repetition).
"""
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


def close(a, b, rel):
    return a is not None and abs(a - b) <= rel * abs(b)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, unit=1.0, digits=1):
    return "—" if x is None else f"{x * unit:,.{digits}f}"


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
    machine = open(sys.argv[2]).read().strip() if len(sys.argv) > 2 else ""
    by = defaultdict(list)
    for r in rows:
        by[(r["w"], r["engine"], r.get("n"))].append(r)
    floor = {(r["w"], r.get("n") if r["w"] != "W1" else None, r["rep"]): r
             for r in rows if r["engine"] == "floor" and r["w"] != "W2-mem"}
    out = []
    if machine:
        out += [f"Machine: {machine}", ""]

    # ---- W1
    out += ["### W1 moons (MLP 2-16-16-1, 100 samples, full batch; per training step)", "",
            "| engine | µs/step | × floor (same run) | step-0 loss | step-99 loss | check |",
            "|---|---:|---:|---|---|---|"]
    for (w, eng, n), rs in by.items():
        if w != "W1":
            continue
        if any("error" in r for r in rs):
            out.append(f"| {eng} | — | — | — | — | failed: {rs[0]['error']} |")
            continue
        t = med([r["step_s"] for r in rs])
        ratios = [r["step_s"] / floor[("W1", None, r["rep"])]["step_s"]
                  for r in rs if ("W1", None, r["rep"]) in floor]
        l0, l99 = rs[0]["loss0"], rs[0].get("loss99")
        ok0 = all(close(r["loss0"], STEP0, 1e-9) for r in rs)
        ok99 = l99 is None or all(close(r["loss99"], STEP99, 1e-9) for r in rs)
        if not (ok0 and ok99):
            check = "**FAILED** (loss mismatch)"
        elif l99 is None:
            check = f"step 0 ok; only {n} steps timed (step 99 not reached)"
        else:
            check = "ok"
        nodes = rs[0].get("nodes")
        label = eng + (f" ({nodes:,} nodes/step)" if nodes else "")
        out.append(f"| {label} | {fmt(t, 1e6)} | {fmt(med(ratios), 1, 2)} | {l0!r} | "
                   f"{l99!r} | {check} |")

    # ---- W2 / W3
    for w, title in (("W2", "W2 deep chain (x = tanh(x·w + b), 5N+1 nodes)"),
                     ("W3", "W3 wide sum (acc = acc + a·b, 4N−1 nodes)")):
        out += ["", f"### {title}", "",
                "| engine | N | forward ns/node | backward ns/node | total ns/node | × floor (same run) | check |",
                "|---|---:|---:|---:|---:|---:|---|"]
        keys = sorted([k for k in by if k[0] == w], key=lambda k: (k[2], k[1] != "floor"))
        for (_, eng, n) in keys:
            rs = by[(w, eng, n)]
            nodes = NODES[w](n)
            if any("error" in r for r in rs):
                out.append(f"| {eng} | {n:,} | — | — | — | — | fails: {rs[0]['error']} |")
                continue
            def total(r):
                return r["fwdbwd_s"] if r.get("fwdbwd_s") is not None else r["fwd_s"] + r["bwd_s"]
            f = med([r.get("fwd_s") for r in rs])
            b = med([r.get("bwd_s") for r in rs])
            t = med([total(r) for r in rs])
            ratios = [total(r) / total(floor[(w, n, r["rep"])]) for r in rs
                      if (w, n, r["rep"]) in floor]
            ref = CHECK.get((w, n))
            r0 = rs[0]
            if ref is None:
                check = "no reference"
            elif all(close(r["out"], ref[0], 1e-12) and close(r.get("s1"), ref[1], 1e-12)
                     and close(r.get("s2"), ref[2], 1e-12) for r in rs):
                check = "ok"
            else:
                check = f"**FAILED** ({r0['out']!r}, {r0.get('s1')!r}, {r0.get('s2')!r})"
            out.append(f"| {eng} | {n:,} | {fmt(f, 1e9 / nodes)} | {fmt(b, 1e9 / nodes)} | "
                       f"{fmt(t, 1e9 / nodes)} | {fmt(med(ratios), 1, 2)} | {check} |")

    # ---- memory
    mem = defaultdict(dict)
    for r in rows:
        if r["w"] == "W2-mem":
            mem[r["engine"]][r["n"]] = r["peak_rss"]
    if mem:
        out += ["", "### W2 memory (peak RSS of a process running only W2, minus the same at N = 1)",
                "", "| engine | N | peak RSS | bytes/node |", "|---|---:|---:|---:|"]
        for eng, d in mem.items():
            big = max(d)
            if 1 in d:
                out.append(f"| {eng} | {big:,} | {d[big] / 2**20:,.1f} MiB | "
                           f"{(d[big] - d[1]) / NODES['W2'](big):.1f} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
