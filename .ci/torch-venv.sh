#!/usr/bin/env bash
# The one venv with torch that every CI step needing PyTorch shares (.ci/interop.sh for the
# safetensors round trip, .ci/python.sh for micrograd's own test file). torch's PyPI wheel
# brings ~4 GB of CUDA libraries, so it is installed once per run, into target/torch-venv,
# and without pip's cache (which would hold a second copy of the wheel on disk).
# Usage: bash .ci/torch-venv.sh [PACKAGE...]  installs torch and the PACKAGEs (a second call
# finds torch there and only adds what is missing); prints how long pip took.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/torch-venv
if ! python3 -c 'import sys, venv, ensurepip; assert sys.version_info >= (3, 9)' 2>/dev/null; then
  echo "== installing python3 and python3-venv (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
t0=$SECONDS
"$venv/bin/pip" install -q --disable-pip-version-check --no-cache-dir torch "$@"
echo "torch venv $venv ready (pip took $((SECONDS - t0)) s; $(du -sh "$venv" | cut -f1) on disk)"
