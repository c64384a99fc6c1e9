#!/usr/bin/env bash
# CI for the Python package (python/): build and install it with pip into a fresh virtual
# environment, then run its pytest suite (including micrograd's own test file, which skips
# itself unless torch is installed; set SCALARGRAD_CI_TORCH=1 to pip-install torch for it).
# Needs python3 >= 3.9 with venv (installed with apt-get when missing), cargo, and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 9)' 2>/dev/null; then
  echo "== installing python3 and python3-venv (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi

VENV="${SCALARGRAD_VENV:-target/python-ci-venv}"
echo "== fresh venv at $VENV"
rm -rf "$VENV"
python3 -m venv "$VENV"
PY="$VENV/bin/python"
"$PY" -m pip install -q --upgrade pip
"$PY" -m pip install -q "maturin>=1.16,<2" pytest numpy
if [ "${SCALARGRAD_CI_TORCH:-0}" = "1" ]; then
  "$PY" -m pip install -q torch
fi

echo "== pip install ./python"
"$PY" -m pip install -q ./python
"$PY" -c 'from scalargrad import Value; from scalargrad.engine import Value as V; from scalargrad.nn import Neuron, Layer, MLP; assert Value is V; print("import ok:", Value(2.0))'

echo "== pytest python/tests"
# from the repository root, so that the source folder python/scalargrad does not shadow the
# installed package
"$PY" -m pytest -q -rs python/tests
