#!/usr/bin/env bash
# Builds the interactive page into web/dist/: scalargrad compiled to WebAssembly (raw extern "C"
# exports, no wasm-bindgen), index.html, app.js and style.css. Serve it with
#   python3 -m http.server -d web/dist
# Installs the wasm32-unknown-unknown target with rustup if it is missing.
set -euo pipefail
web="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$web")"
target=wasm32-unknown-unknown

if command -v rustup >/dev/null; then
  if ! rustup target list --installed | grep -qx "$target"; then
    echo "== rustup target add $target"
    rustup target add "$target"
  fi
elif [ ! -d "$(rustc --print sysroot)/lib/rustlib/$target" ]; then
  echo "web/build.sh: the Rust standard library for $target is missing and rustup is not" >&2
  echo "installed to add it; install Rust with rustup (https://rustup.rs) and run again." >&2
  exit 1
fi

# Share the repository's target/ folder (ignored by git) so rebuilds reuse the core crate.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
echo "== cargo build --release --target $target (web/wasm)"
cargo build --manifest-path "$web/wasm/Cargo.toml" --release --target "$target"

dist="$web/dist"
rm -rf "$dist"
mkdir -p "$dist"
cp "$CARGO_TARGET_DIR/$target/release/scalargrad_web.wasm" "$dist/scalargrad.wasm"
cp "$web/index.html" "$web/app.js" "$web/style.css" "$dist/"
echo "== built $dist: $(cd "$dist" && ls | tr '\n' ' ')($(wc -c < "$dist/scalargrad.wasm") bytes of wasm)"
