#!/usr/bin/env bash
# The crate's one `unsafe` module (src/tape/column.rs: the tape's big arrays in mappings of their
# own) under Miri: its unit tests, with a zeroed heap allocation standing in for the kernel's
# mapping and every system call above it exercised (see the module docs). Installs a nightly
# toolchain with Miri if there is none (`--allow-downgrade`: the newest nightly that has it).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal --component miri,rust-src --allow-downgrade \
    --no-self-update
fi
cargo +nightly miri --version
cargo +nightly miri setup
# own target directory: Miri's build would otherwise invalidate the stable one's
CARGO_TARGET_DIR=target/miri-ci cargo +nightly miri test --lib column
