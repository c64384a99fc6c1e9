#!/usr/bin/env bash
# Stability check: the same workload timed by the criterion benches (benches/w1_moons.rs,
# w2_chain.rs, w3_wide.rs, built with the crate's own bench profile, as `cargo bench` does)
# and by this harness (rust-peers, fat LTO) must agree within 20%.
#
#   bash benches/compare/stability.sh        # ~3 minutes once the benches are built
#
# Criterion measures wall-clock time; on a machine shared with other jobs that includes the
# time the process waits for a core. So each criterion benchmark runs in a process of its
# own (`--exact NAME`), and its wall-clock estimate is also shown scaled by the process's CPU
# share (user + system time / wall time over the whole process, from wait4's rusage): an
# estimate of its on-CPU time, to compare with the harness's on-CPU time (its default clock).
# Both columns are printed; on a quiet machine (CPU share ~1.00) they agree.
# Writes the table to stability.md too (report.py appends it to RESULTS.md).
#
#   LTO=1 bash benches/compare/stability.sh  # the criterion benches built with rust-peers'
#                                            # profile (fat LTO, one codegen unit), in
#                                            # target/bench-lto (a full build the first time)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)
PROFILE="the crate's bench profile"
if [ "${LTO:-0}" = 1 ]; then
  export CARGO_PROFILE_BENCH_LTO=fat CARGO_PROFILE_BENCH_CODEGEN_UNITS=1
  export CARGO_TARGET_DIR="$ROOT/target/bench-lto"
  PROFILE="built with fat LTO and one codegen unit (LTO=1)"
fi
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824

echo "== building the criterion benches and the harness" >&2
EXES=$(cd "$ROOT" && cargo bench --no-run --message-format=json --bench w1_moons \
  --bench w2_chain --bench w3_wide 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["bench"]:
        print(m["target"]["name"] + "=" + m["executable"])')
cargo build --release --quiet --manifest-path rust-peers/Cargo.toml
BIN=$(pwd)/rust-peers/target/release/scalargrad-compare

OUTMD=stability.md
[ "${LTO:-0}" = 1 ] && OUTMD=stability-lto.md
python3 - "$ROOT" "$BIN" "$(git -C "$ROOT" log -1 --format='%h')" "$EXES" "${CARGO_TARGET_DIR:-$ROOT/target}" "$PROFILE" <<'EOF' | tee "$OUTMD"
import json, os, statistics, subprocess, sys, time
root, binary, commit, exes, target, profile = sys.argv[1:7]
exe = dict(l.split("=", 1) for l in exes.split())

def run(cmd, cwd):
    """Runs cmd; returns (stdout, wall seconds, CPU seconds of the child)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    assert status == 0, f"{cmd} failed"
    return out, wall, ru.ru_utime + ru.ru_stime

def crit(bench, name):
    # criterion writes target/criterion/<group>/<function with '/' as '_'>/new/estimates.json
    _, wall, cpu = run([exe[bench], "--bench", "--exact", name, "--warm-up-time", "1",
                        "--measurement-time", "3", "--noplot"], root)
    group, fn = name.split("/", 1)
    p = os.path.join(target, "criterion", group, fn.replace("/", "_"), "new", "estimates.json")
    est = json.load(open(p))["median"]["point_estimate"] * 1e-9
    return est, min(1.0, cpu / wall)

rows = []
for w in ("w1", "w2", "w3"):
    out, _, _ = run([binary, "--reps", "3", "--engine", "scalargrad", "--only", w], ".")
    rows += [json.loads(l) for l in out.splitlines() if l.startswith("{")]

def harness_s(w, engine, n=None):
    xs = [(r["step_s"] if w == "W1" else r["fwd_s"] + r["bwd_s"]) for r in rows
          if r["w"] == w and r["engine"] == engine and (n is None or r["n"] == n)
          and not r.get("cold")]
    return statistics.median(xs)

pairs = [
    ("W1 idiomatic (`Demo::step`)", "w1_moons", "w1_moons/idiomatic", harness_s("W1", "scalargrad idiomatic")),
    ("W1 replay (`nn`, recompute)", "w1_moons", "w1_moons/replay_nn", harness_s("W1", "scalargrad replay")),
    ("W1 micrograd-style", "w1_moons", "w1_moons/micrograd_style", harness_s("W1", "scalargrad micrograd-style")),
    ("W1 eager, one node per op", "w1_moons", "w1_moons/eager_element", harness_s("W1", "scalargrad eager")),
    ("W1 eager fused", "w1_moons", "w1_moons/eager_fused", harness_s("W1", "scalargrad eager fused")),
    ("W1 replay, one node per op", "w1_moons", "w1_moons/replay_element", harness_s("W1", "scalargrad replay element")),
    ("W1 replay fused", "w1_moons", "w1_moons/replay_fused", harness_s("W1", "scalargrad replay fused")),
]
for w, grp in (("W2", "w2_chain"), ("W3", "w3_wide")):
    for n in (100000, 1000000):
        pairs.append((f"{w} record + backward, N = {n:,}", grp, f"{grp}/record_backward/{n}",
                      harness_s(w, "scalargrad", n)))

clock = rows[0].get("clock", "wall")
print(f"## Stability: criterion ({'LTO' if 'LTO=1' in profile else 'cargo bench'}) vs this harness (scalargrad at {commit}, {time.strftime('%Y-%m-%d')})")
print()
print("`bash benches/compare/stability.sh`: each criterion benchmark (`cargo bench`'s build,")
print(f"{profile}; `--warm-up-time 1 --measurement-time 3`) in a process of")
print("its own, its median wall-clock estimate and that estimate times the process's CPU share")
print(f"(CPU time / wall time), against the same workload in `rust-peers` (fat LTO, warm graphs,")
print(f"median of 3 repetitions, {clock} clock). Target: the two within 20%.")
print()
print("| workload | criterion (wall) | CPU share | criterion × share | rust-peers | ratio | within 20% |")
print("|---|---:|---:|---:|---:|---:|---|")
for name, bench, cname, h in pairs:
    c, share = crit(bench, cname)
    r = c * share / h
    ok = "yes" if 1 / 1.2 <= r <= 1.2 else "**no**"
    print(f"| {name} | {c * 1e6:,.1f} µs | {share:.2f} | {c * share * 1e6:,.1f} µs | {h * 1e6:,.1f} µs "
          f"| {r:.2f} | {ok} |", flush=True)
EOF
