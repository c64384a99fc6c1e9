#!/usr/bin/env bash
# CI smoke test of the comparison harness (not a benchmark): builds rust-peers (fat LTO) and
# runs every Rust engine once on W1 and on W2/W3 at N = 10^5, warm and cold; report.py exits
# non-zero if any engine misses a checksum (W1 losses to 1e-9, W2/W3 sums to 1e-12). Keeps the
# harness compiling against scalargrad's public API. Needs: cargo, python3 (no venv, no
# network beyond crates.io). About 4 minutes on 2 cores, most of it the first build.
#   bash benches/compare/ci.sh
set -euo pipefail
cd "$(dirname "$0")"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# a smoke run does not replace the real results
REPS=1 NS=100000 OUT="$TMP/results.jsonl" RESULTS_MD="$TMP/RESULTS.md" bash run.sh --no-python > /dev/null
echo "benches/compare: every engine reproduced the checksums"
