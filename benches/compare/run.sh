#!/usr/bin/env bash
# Reproduces the comparison table of benches/compare/RESULTS.md:
#   benches/compare/run.sh            (REPS=5 by default; about 5 minutes on 2 cores)
# 1. builds rust-peers/ (hand-written floor, scalargrad, `reverse`, `RustQuant_autodiff`),
# 2. creates .venv/ with micrograd, torch and jax from PyPI (first run only; ~6 GB: PyPI's
#    Linux torch wheel pulls the CUDA libraries; the CPU is used),
# 3. runs REPS repetitions, each: every Rust engine on W1, W2 and W3 (interleaved in one
#    process), then every Python engine (engines.py); then the W2 peak-RSS runs,
# 4. prints the markdown table (report.py) and keeps the raw JSON lines in results.jsonl.
# Workloads and checksums: ../WORKLOADS.md (W1 data in the crate's data/).
# micrograd times only MICROGRAD_STEPS (default 3) W1 steps at ~1 s each, so its step-99
# loss is not re-checked (set MICROGRAD_STEPS=100 for that); PyTorch's scalar (0-d tensor)
# W2/W3 run at N = TORCH_N (default 100000) only: at 10^6 they take ~1 min per repetition.
set -euo pipefail
cd "$(dirname "$0")"
REPS=${REPS:-5}
MICROGRAD_STEPS=${MICROGRAD_STEPS:-3}
TORCH_N=${TORCH_N:-100000}
NS=${NS:-100000,1000000}
OUT=results.jsonl

echo "== building rust-peers (release)" >&2
cargo build --release --quiet --manifest-path rust-peers/Cargo.toml
BIN=rust-peers/target/release/scalargrad-compare

PY=.venv/bin/python
if [ ! -x "$PY" ]; then
  echo "== creating .venv (micrograd, torch, jax from PyPI)" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet micrograd || echo "micrograd install failed" >&2
  .venv/bin/pip install --quiet torch || echo "torch install failed (df -h: $(df -h . | tail -1))" >&2
  .venv/bin/pip install --quiet jax || echo "jax install failed" >&2
fi

: > "$OUT"
for ((rep = 0; rep < REPS; rep++)); do
  echo "== repetition $((rep + 1))/$REPS" >&2
  # Fixed malloc thresholds (glibc's maximum mmap threshold, 32 MiB, and no trimming below
  # 1 GiB) for every Rust engine alike: otherwise whether a 10^5 run finds memory freed by
  # the previous run or faults in fresh pages depends on what ran before it. Graphs above
  # 32 MiB (every engine at 10^6) are still mapped fresh, page faults included.
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824 \
    "$BIN" --reps 1 --rep0 "$rep" --n "$NS" >> "$OUT"
  "$PY" engines.py --rep "$rep" --n "$NS" --torch-n "$TORCH_N" \
    --w1-steps-micrograd "$MICROGRAD_STEPS" >> "$OUT"
done

echo "== W2 peak RSS (one process per engine and size)" >&2
for eng in floor scalargrad "scalargrad (no handles kept)" reverse RustQuant_autodiff; do
  for n in 1 1000000; do
    "$BIN" --mem "$eng" "$n" >> "$OUT"
  done
done

MACHINE="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, \
$(free -g | awk '/Mem:/ {print $2}') GiB; $(rustc --version); Python $("$PY" -c 'import sys; print(sys.version.split()[0])'); \
torch $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo n/a), \
jax $("$PY" -c 'import jax; print(jax.__version__)' 2>/dev/null || echo n/a); $(date -u +%Y-%m-%d)"
echo "$MACHINE" > machine.txt
python3 report.py "$OUT" machine.txt
