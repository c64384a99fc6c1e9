#!/usr/bin/env bash
# The first big graph of a process, after other work: for each of PROCS (5) rounds and each
# workload, a process writes HOG_GIB (4) GiB and exits, then scalargrad's and `reverse`'s
# first graph run in fresh processes (`--cold`, one graph each, thread-CPU clock). Prints
# each round's ns/node and ratio, then the median and the worst ratio per workload.
#
#   bash benches/compare/cold.sh                      # huge pages as the crate decides
#   SCALARGRAD_HUGE_PAGES=1 bash benches/compare/cold.sh   # 2 MiB pages asked for
#
# env: PROCS (5), HOG_GIB (4), N (1000000), OUT (cold.jsonl)
set -euo pipefail
cd "$(dirname "$0")"
PROCS=${PROCS:-5}
HOG_GIB=${HOG_GIB:-4}
N=${N:-1000000}
OUT=${OUT:-cold.jsonl}
cargo build --release --quiet --manifest-path rust-peers/Cargo.toml
BIN=rust-peers/target/release/scalargrad-compare
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
: > "$OUT"
for ((k = 0; k < PROCS; k++)); do
  for w in W2 W3; do
    for eng in scalargrad reverse; do
      "$BIN" --hog "$HOG_GIB"
      "$BIN" --cold "$eng" "$w" "$N" --rep "$k" >> "$OUT"
    done
  done
done
python3 - "$OUT" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])]
for w in ("W2", "W3"):
    per = {}
    for r in rows:
        if r["w"] == w:
            nodes = 5 * r["n"] + 1 if w == "W2" else 4 * r["n"] - 1
            ns = (r["fwd_s"] + r["bwd_s"]) * 1e9 / nodes
            per.setdefault(r["rep"], {})[r["engine"]] = ns
    ratios = []
    for k in sorted(per):
        s, rv = per[k]["scalargrad"], per[k]["reverse"]
        ratios.append(s / rv)
        print(f"{w} process {k}: scalargrad {s:.1f} ns/node, reverse {rv:.1f} ns/node, ratio {s / rv:.2f}")
    print(f"{w} cold, N = {rows[0]['n']:,}: ratio median {statistics.median(ratios):.2f}, worst {max(ratios):.2f}")
PY
