#!/usr/bin/env bash
# Pictures (issue #11 part 1): `Graph::to_svg` needs no external program, so this only checks
# that the crate (with its default features) still builds for the browser, that the pictures
# test passes, and that the README's pictures are what `examples/apple.rs` draws today.
# Needs: rustup (adds the wasm32 target itself). Takes about 1-2 minutes on a cold cache.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== wasm32-unknown-unknown build (the web page compiles this crate)"
rustup target add wasm32-unknown-unknown
cargo build --lib --target wasm32-unknown-unknown

echo "== tests/svg.rs (parsed SVG, limits, the apple example's numbers, docs/*.svg up to date)"
cargo test --test svg

echo "== regenerating docs/ pictures leaves the tree unchanged"
cargo run --example apple -- --out docs
if ! git diff --quiet -- docs/apple.svg docs/apple.dot docs/apple_orange.svg docs/apple_orange.dot; then
  echo "docs/ pictures are stale: run 'cargo run --example apple -- --out docs' and commit" >&2
  exit 1
fi
