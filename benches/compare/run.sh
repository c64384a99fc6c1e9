#!/usr/bin/env bash
# One command: measures every engine and rewrites benches/compare/RESULTS.md, then prints the
# tables for README.md's "## Performance" section.
#
#   bash benches/compare/run.sh [--no-python] [--stability]
#
#   --no-python   skip micrograd, PyTorch and JAX (quick runs; no venv needed)
#   --stability   also run stability.sh first (criterion vs this harness; adds ~3 minutes);
#                 otherwise the last stability.md / stability-lto.md (committed) is appended
#   env: REPS (default 5), LABEL (a line printed under the title, e.g. "before the redesign"),
#        MICROGRAD_STEPS (3), TORCH_N (100000), NS (100000,1000000), CLOCK=wall (default:
#        on-CPU time), OUT (results.jsonl), RESULTS_MD (RESULTS.md)
# Exits non-zero (after writing the tables) if any engine missed a checksum.
#
# 1. builds rust-peers/ (floors, scalargrad, reverse, RustQuant_autodiff, easy-ml; one
#    release profile: fat LTO, one codegen unit),
# 2. creates .venv/ with micrograd, torch and jax from PyPI (first run only; ~6 GB: PyPI's
#    Linux torch wheel pulls the CUDA libraries; the CPU is used),
# 3. runs REPS repetitions, each: every Rust engine on W1 (3 interleaved rounds) and W2/W3
#    warm (interleaved in one process), then W2/W3 cold (one fresh process per engine and
#    size), then every Python engine (engines.py; their W2/W3 in the first repetition
#    only); then the W2 peak-RSS runs,
# 4. writes RESULTS.md (report.py) from results.jsonl and prints the README tables.
# Workloads and checksums: ../WORKLOADS.md (W1 data in the crate's data/).
set -euo pipefail
cd "$(dirname "$0")"
START=$(date +%s)
PYTHON=1
STABILITY=0
for a in "$@"; do
  case "$a" in
    --no-python) PYTHON=0 ;;
    --stability) STABILITY=1 ;;
    *) echo "usage: run.sh [--no-python] [--stability]" >&2; exit 2 ;;
  esac
done
REPS=${REPS:-5}
MICROGRAD_STEPS=${MICROGRAD_STEPS:-3}
TORCH_N=${TORCH_N:-100000}
NS=${NS:-100000,1000000}
OUT=${OUT:-results.jsonl}
RESULTS_MD=${RESULTS_MD:-RESULTS.md}
ENGINES=(floor scalargrad reverse RustQuant_autodiff easy-ml)

echo "== building rust-peers (release: fat LTO, codegen-units = 1)" >&2
cargo build --release --quiet --manifest-path rust-peers/Cargo.toml
BIN=rust-peers/target/release/scalargrad-compare
# Fixed malloc thresholds (glibc's maximum mmap threshold, 32 MiB, and no trimming below
# 1 GiB) for every Rust engine alike: otherwise whether a 10^5 run finds memory freed by
# the previous run or faults in fresh pages depends on what ran before it.
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
# The machine may be shared: where allowed (root), run the measurements at the highest CFS
# priority (nice -20) so that they are rarely descheduled. Single-threaded, so the other
# core stays free for everything else.
NICE=()
if nice -n -20 true 2>/dev/null; then NICE=(nice -n -20); fi

PY=.venv/bin/python
if [ "$PYTHON" = 1 ] && [ ! -x "$PY" ]; then
  echo "== creating .venv (micrograd, torch, jax from PyPI)" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet micrograd || echo "micrograd install failed" >&2
  .venv/bin/pip install --quiet jax || echo "jax install failed" >&2
  .venv/bin/pip install --quiet torch || echo "torch install failed (df -h: $(df -h . | tail -1))" >&2
fi

if [ "$STABILITY" = 1 ]; then
  bash stability.sh
fi

: > "$OUT"
IFS=, read -r -a SIZES <<< "$NS"
for ((rep = 0; rep < REPS; rep++)); do
  echo "== repetition $((rep + 1))/$REPS" >&2
  "${NICE[@]}" "$BIN" --reps 1 --rep0 "$rep" --n "$NS" >> "$OUT"
  for n in "${SIZES[@]}"; do
    for w in W2 W3; do
      for eng in "${ENGINES[@]}"; do
        "${NICE[@]}" "$BIN" --cold "$eng" "$w" "$n" --rep "$rep" >> "$OUT"
      done
    done
  done
  if [ "$PYTHON" = 1 ]; then
    # W2/W3 of the Python engines in the first repetition only (PyTorch's 0-d tensors take
    # ~10 CPU-seconds per repetition; they are 3 orders of magnitude off, no ratio is close)
    CHAINS=()
    [ "$rep" -gt 0 ] && CHAINS=(--no-chains)
    "${NICE[@]}" "$PY" engines.py --rep "$rep" --n "$NS" --torch-n "$TORCH_N" \
      --w1-steps-micrograd "$MICROGRAD_STEPS" "${CHAINS[@]}" >> "$OUT"
  fi
done

# five processes per engine and size, alternating: report.py takes the median of each (a
# process's own pages, code faulted in from the page cache, vary by tens of KiB)
echo "== W2 peak RSS (five processes per engine and size)" >&2
for k in 1 2 3 4 5; do
  for eng in floor scalargrad "scalargrad (no handles kept)" "scalargrad Value" reverse RustQuant_autodiff easy-ml; do
    for n in 1 1000000; do
      "${NICE[@]}" "$BIN" --mem "$eng" "$n" >> "$OUT"
    done
  done
done

PYV="n/a"
if [ "$PYTHON" = 1 ]; then
  PYV="Python $("$PY" -c 'import sys; print(sys.version.split()[0])'), \
torch $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo n/a), \
jax $("$PY" -c 'import jax; print(jax.__version__)' 2>/dev/null || echo n/a)"
fi
COMMIT=$(git -C ../.. log -1 --format='%h (%cs)' 2>/dev/null || echo unknown)
DIRTY=$(git -C ../.. status --porcelain -- src Cargo.toml 2>/dev/null | head -1)
echo "$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, \
$(free -g | awk '/Mem:/ {print $2}') GiB, shared with other jobs; $(rustc --version); $PYV; \
scalargrad at commit $COMMIT${DIRTY:+ plus uncommitted changes}" > machine.txt

STAB=()
for f in stability.md stability-lto.md; do
  [ -f "$f" ] && STAB+=(--stability "$f")
done
SECS=$(( $(date +%s) - START ))
python3 report.py "$OUT" machine.txt --results-md "$RESULTS_MD" --seconds "$SECS" \
  --label "${LABEL:-}" "${STAB[@]}"
echo "== wrote $RESULTS_MD (run.sh took ${SECS} s)" >&2
