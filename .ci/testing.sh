#!/usr/bin/env bash
# CI for the `proptest` feature (scalargrad::testing): lints and tests with the feature on,
# its docs, and the examples that property-test seed 002's formulas and a custom op.
# Needs only a Rust toolchain (cargo, clippy, rustfmt); about 2-4 minutes on 2 cores after
# the default `cargo test` build, most of it compiling.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo clippy --features proptest --all-targets -- -D warnings"
cargo clippy --features proptest --all-targets -- -D warnings

echo "== cargo test --features proptest (unit, integration, doc tests incl. scalargrad::testing)"
cargo test --features proptest

echo "== docs with the feature build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --features proptest

echo "== the property-testing examples run"
cargo run --quiet --features proptest --example proptest_seed002 >/dev/null
cargo run --quiet --features proptest --example proptest_custom_op >/dev/null
cargo run --quiet --example seed002_wrong_gradients >/dev/null
