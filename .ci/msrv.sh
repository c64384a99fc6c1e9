#!/usr/bin/env bash
# MSRV check: the `rust-version` in Cargo.toml must be true for the committed Cargo.lock.
#
# 1. Fails if any locked package (dependencies, dev-dependencies, every target platform)
#    declares a `rust_version` newer than ours: `cargo test` with the lock would then need a
#    newer compiler than Cargo.toml promises.
# 2. Runs clippy's `incompatible_msrv` lint, which flags our own use of std APIs newer than
#    `rust-version`.
# 3. With MSRV_BUILD=1 and rustup available, also builds and tests with that exact toolchain.
#
# Needs: cargo (with clippy), jq (installed with apt-get if missing). Takes a few seconds
# (plus a clippy run, shared with the main CI's cache), minutes with MSRV_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v jq >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq jq >/dev/null
fi

# "1.88" and "1.88.0" are the same version: compare three components.
norm() { awk -F. '{ printf "%d.%d.%d\n", $1, ($2 == "" ? 0 : $2), ($3 == "" ? 0 : $3) }'; }

meta=$(cargo metadata --format-version 1 --locked)
declared=$(jq -r '.packages[] | select(.name == "scalargrad") | .rust_version // empty' <<<"$meta")
if [ -z "$declared" ]; then
  echo "msrv: Cargo.toml has no rust-version" >&2
  exit 1
fi
declared_n=$(norm <<<"$declared")

too_new=0
while read -r version name pkg_version; do
  needed_n=$(norm <<<"$version")
  if [ "$(printf '%s\n%s\n' "$needed_n" "$declared_n" | sort -V | tail -n1)" != "$declared_n" ]; then
    echo "msrv: $name $pkg_version in Cargo.lock needs Rust $version, but Cargo.toml says rust-version = \"$declared\"" >&2
    too_new=1
  fi
done < <(jq -r '.packages[] | select(.rust_version != null) | "\(.rust_version) \(.name) \(.version)"' <<<"$meta")

if [ "$too_new" -ne 0 ]; then
  echo "msrv: raise rust-version in Cargo.toml, or lock older versions (cargo update -p NAME --precise V)" >&2
  exit 1
fi
highest=$(jq -r '.packages[] | select(.rust_version != null) | .rust_version' <<<"$meta" | norm | sort -V | tail -n1)
echo "msrv: rust-version = $declared covers every locked package (highest needed: $highest)"

echo "msrv: clippy incompatible_msrv"
cargo clippy --all-targets --locked -- -D clippy::incompatible_msrv

if [ "${MSRV_BUILD:-0}" = "1" ] && command -v rustup >/dev/null 2>&1; then
  rustup toolchain install "$declared" --profile minimal
  cargo "+$declared" test --locked
fi
