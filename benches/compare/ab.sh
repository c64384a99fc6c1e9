#!/usr/bin/env bash
# A/B of scalargrad against an older build of itself, in one run: the harness binary of two
# checkouts (each built by `cargo build --release --manifest-path rust-peers/Cargo.toml` in
# its own benches/compare), alternating, ROUNDS times: W1 (3 interleaved rounds each), W2/W3
# warm at 10^5 and 10^6, and W2/W3 cold at 10^6 (one fresh process each). Then the medians
# side by side (ab_report.py).
#
#   OLD=../../../old/benches/compare/rust-peers/target/release/scalargrad-compare \
#     bash benches/compare/ab.sh
#
#   env: OLD (required), NEW (default: this checkout's binary), ROUNDS (5), OUT (ab.jsonl)
# To make OLD: `git worktree add --detach ../old <commit>` and build its rust-peers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
OLD=${OLD:?set OLD to the other build of scalargrad-compare}
NEW=${NEW:-$here/rust-peers/target/release/scalargrad-compare}
ROUNDS=${ROUNDS:-5}
OUT=${OUT:-$here/ab.jsonl}
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
NICE=()
if nice -n -20 true 2>/dev/null; then NICE=(nice -n -20); fi
: > "$OUT"
for r in $(seq 1 "$ROUNDS"); do
  for side in old new; do
    BIN=$OLD
    [ "$side" = new ] && BIN=$NEW
    "${NICE[@]}" "$BIN" --reps 1 --rep0 "$r" --n 100000,1000000 --engine scalargrad |
      sed "s/^{/{\"side\":\"$side\",/" >> "$OUT"
    for w in W2 W3; do
      "${NICE[@]}" "$BIN" --cold scalargrad "$w" 1000000 --rep "$r" |
        sed "s/^{/{\"side\":\"$side\",/" >> "$OUT"
    done
  done
done
python3 "$here/ab_report.py" "$OUT"
