#!/usr/bin/env bash
# CI for the in-browser page (web/): installs Chromium and chromedriver (apt, as root), builds
# the page with web/build.sh (which adds the wasm32 target), runs the wasm crate's unit tests
# natively, then drives the page in headless Chromium (pytest + selenium in a venv under
# target/). Leaves screenshots in target/web-test/ (WEB_SCREENSHOTS=docs refreshes the ones in
# docs/, which docs/web.md shows). The parser's fuzz target (web/wasm/fuzz, nightly) is not run
# here: see docs/web.md.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "== apt-get install ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "web.sh: needs root to install ${need[*]} (or install them first)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
chromium --version
chromedriver --version

echo "== web/wasm: fmt, clippy, unit tests"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo fmt --manifest-path web/wasm/Cargo.toml -- --check
cargo clippy --manifest-path web/wasm/Cargo.toml --all-targets -- -D warnings
cargo test --manifest-path web/wasm/Cargo.toml

echo "== bash web/build.sh"
bash web/build.sh

echo "== browser test (pytest + selenium, headless Chromium)"
venv=target/web-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r web/test/requirements.txt
"$venv/bin/python" -m pytest -v -p no:cacheprovider web/test
