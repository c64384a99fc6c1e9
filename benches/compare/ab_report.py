#!/usr/bin/env python3
"""Medians of an A/B run (ab.sh): each scalargrad row, old and new, and their ratio.

W1 in microseconds per training step; W2/W3 in nanoseconds per node (W2 has 5 nodes per
link, W3 4 per term), recording plus backward.

    python3 benches/compare/ab_report.py ab.jsonl
"""
import collections
import json
import statistics
import sys


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    times = collections.defaultdict(list)
    for r in rows:
        if r["w"] == "W1":
            key = ("W1", r["engine"], "")
            times[(key, r["side"])].append(r["step_s"] * 1e6)
        else:
            per_link = 5 if r["w"] == "W2" else 4
            total = r.get("fwd_s", 0) + r.get("bwd_s", 0)
            key = (r["w"] + (" cold" if r.get("cold") else ""), r["engine"], r["n"])
            times[(key, r["side"])].append(total / (r["n"] * per_link) * 1e9)
    print(f"| row | old | new | new/old |\n|---|---:|---:|---:|")
    for key in sorted({k for (k, _) in times}):
        old, new = times.get((key, "old")), times.get((key, "new"))
        if old and new:
            mo, mn = statistics.median(old), statistics.median(new)
            name = " ".join(str(k) for k in key if k != "")
            print(f"| {name} | {mo:.3f} | {mn:.3f} | {mn / mo:.3f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "ab.jsonl")
