#!/usr/bin/env bash
# CI for the Python package (python/): build its abi3 wheel once (maturin build --release),
# install it into a fresh virtual environment with everything the tests need (micrograd from
# PyPI as the reference, graphviz's Python package for micrograd's draw_dot, nbclient and
# ipykernel for the notebook), run the pytest suite (including micrograd's own test file,
# which skips itself unless torch is installed; SCALARGRAD_CI_TORCH=1 uses the run's shared
# torch venv, target/torch-venv from .ci/torch-venv.sh, instead of a fresh one), then install the same wheel into a second venv whose PATH has no cargo or
# rustc, without the network, and run a few lines there.
# Needs python3 >= 3.9 with venv (installed with apt-get when missing), cargo, and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

if ! python3 -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 9)' 2>/dev/null; then
  echo "== installing python3 and python3-venv (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi

WHEELS="target/python-wheels"
NEED=("maturin>=1.16,<2" pytest numpy micrograd graphviz nbclient nbformat ipykernel)
if [ "${SCALARGRAD_CI_TORCH:-0}" = "1" ]; then
  # the run's one torch venv (.ci/torch-venv.sh), shared with interop.sh: torch is ~5 GB
  VENV=target/torch-venv
  echo "== the shared torch venv at $VENV, with what the tests need"
  bash .ci/torch-venv.sh "${NEED[@]}"
else
  VENV="${SCALARGRAD_VENV:-target/python-ci-venv}"
  echo "== fresh venv at $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q "${NEED[@]}"
fi
PY="$VENV/bin/python"

echo "== maturin build --release (abi3 wheel)"
rm -rf "$WHEELS"
"$VENV/bin/maturin" build --release --quiet -m python/Cargo.toml -o "$WHEELS"
WHEEL=$(ls "$WHEELS"/scalargrad-*-abi3-*.whl)
echo "built $WHEEL"
"$PY" -m pip install -q --force-reinstall --no-deps "$WHEEL"
"$PY" -c 'from scalargrad import Value, draw; from scalargrad.engine import Value as V; from scalargrad.nn import Neuron, Layer, MLP; assert Value is V; print("import ok:", Value(2.0))'

echo "== pytest python/tests"
# from the repository root, so that the source folder python/scalargrad does not shadow the
# installed package
"$PY" -m pytest -q -rs python/tests

echo "== the wheel in a fresh venv, no cargo or rustc on PATH, no network"
NORUST="target/python-norust-venv"
rm -rf "$NORUST"
python3 -m venv --without-pip "$NORUST"
NOPATH="$PWD/$NORUST/bin:/usr/bin:/bin"
if env PATH="$NOPATH" sh -c 'command -v cargo || command -v rustc'; then
  echo "cargo or rustc is on the restricted PATH $NOPATH" >&2
  exit 1
fi
# pip from the first venv installs into the second (which has none), offline
env -u CARGO_HOME -u RUSTUP_HOME PATH="$NOPATH" "$PY" -m pip --python "$NORUST/bin/python" \
  install -q --no-index --no-deps "$WHEEL"
(cd /tmp && env -u CARGO_HOME -u RUSTUP_HOME PATH="$NOPATH" python -c '
import random, shutil
assert shutil.which("cargo") is None and shutil.which("rustc") is None
from scalargrad import Value, draw
from scalargrad.nn import MLP
a, b = Value(-4.0), Value(2.0)
c = a * b + b**3 - a
c += 10.0 / c
c.backward()
assert (round(c.data, 10), a.grad, b.grad) == (6.5, 0.375, 3.0), (c, a.grad, b.grad)
random.seed(1337)
print("no-Rust venv ok:", c, MLP(2, [16, 16, 1])([1.0, -0.5]), len(draw(c).svg), "bytes of SVG")
')
echo "== python CI done in $(( $(date +%s) - start )) s"
