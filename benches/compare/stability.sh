#!/usr/bin/env bash
# Stability check: the same workload timed by the criterion benches (benches/w1_moons.rs,
# w2_chain.rs, w3_wide.rs, built with the crate's own bench profile, as `cargo bench` does)
# and by this harness (rust-peers, fat LTO) must agree within 20%.
#
#   bash benches/compare/stability.sh        # ~5 minutes on 2 cores once built
#
# Runs criterion (median estimate, --warm-up-time 1 --measurement-time 3), then the harness
# (median of 3 repetitions, warm graphs), prints a markdown table with the ratio per workload
# and writes it to stability.md (report.py appends it to RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824

echo "== criterion: w1_moons, w2_chain, w3_wide (record_backward)" >&2
(
  cd "$ROOT"
  CRIT=(-- --warm-up-time 1 --measurement-time 3 --noplot)
  cargo bench --quiet --bench w1_moons "${CRIT[@]}" > /dev/null
  cargo bench --quiet --bench w2_chain "${CRIT[@]}" record_backward > /dev/null
  cargo bench --quiet --bench w3_wide "${CRIT[@]}" record_backward > /dev/null
)

echo "== harness: the same workloads (3 repetitions)" >&2
cargo build --release --quiet --manifest-path rust-peers/Cargo.toml
BIN=rust-peers/target/release/scalargrad-compare
TMP=$(mktemp)
# criterion measures wall-clock time: so does the harness here
export CLOCK=wall
"$BIN" --reps 3 --engine scalargrad --only w1 >> "$TMP"
"$BIN" --reps 3 --engine scalargrad --only w2 >> "$TMP"
"$BIN" --reps 3 --engine scalargrad --only w3 >> "$TMP"

python3 - "$ROOT/target/criterion" "$TMP" "$(git -C "$ROOT" log -1 --format='%h')" <<'EOF' | tee stability.md
import json, os, statistics, sys
crit_dir, harness, commit = sys.argv[1], sys.argv[2], sys.argv[3]

def crit(*parts):
    p = os.path.join(crit_dir, *parts, "new", "estimates.json")
    if not os.path.exists(p):
        return None
    return json.load(open(p))["median"]["point_estimate"] * 1e-9

rows = [json.loads(l) for l in open(harness) if l.startswith("{")]
def harness_s(w, engine, n=None):
    xs = [(r["step_s"] if w == "W1" else r["fwd_s"] + r["bwd_s"]) for r in rows
          if r["w"] == w and r["engine"] == engine and (n is None or r["n"] == n)]
    return statistics.median(xs) if xs else None

pairs = [
    ("W1 eager, one node per op", crit("w1_moons", "eager_element"), harness_s("W1", "scalargrad eager")),
    ("W1 eager fused", crit("w1_moons", "eager_fused"), harness_s("W1", "scalargrad eager fused")),
    ("W1 replay, one node per op", crit("w1_moons", "replay_element"), harness_s("W1", "scalargrad replay element")),
    ("W1 replay fused", crit("w1_moons", "replay_fused"), harness_s("W1", "scalargrad replay fused")),
]
for w, grp in (("W2", "w2_chain"), ("W3", "w3_wide")):
    for n in (100000, 1000000):
        pairs.append((f"{w} record + backward, N = {n:,}", crit(grp, f"record_backward_{n}"),
                      harness_s(w, "scalargrad", n)))

print(f"## Stability: criterion vs this harness (scalargrad at {commit})")
print()
print("`bash benches/compare/stability.sh`: criterion's median estimate (`cargo bench`, the")
print("crate's bench profile: no LTO) against the median of 3 repetitions of the same workload")
print("in `rust-peers` (fat LTO, warm graphs), run one after the other. Target: within 20%.")
print()
print("| workload | criterion | rust-peers | criterion / rust-peers | within 20% |")
print("|---|---:|---:|---:|---|")
for name, c, h in pairs:
    if c is None or h is None:
        print(f"| {name} | {'—' if c is None else f'{c * 1e6:,.1f} µs'} | "
              f"{'—' if h is None else f'{h * 1e6:,.1f} µs'} | — | not measured |")
        continue
    r = c / h
    print(f"| {name} | {c * 1e6:,.1f} µs | {h * 1e6:,.1f} µs | {r:.2f} | "
          f"{'yes' if 1 / 1.2 <= r <= 1.2 else '**no**'} |")
EOF
rm -f "$TMP"
