#!/usr/bin/env bash
# README command (2): set up, then build and run every test, lint and doc check.
# Needs the shared evaluation data at ../shared/data (or REALFACE_DATA).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --release --all-targets -- -D warnings
cargo test --release
# Fuzz smoke: every fuzz target for a minute (REALFACE_FUZZ_SECONDS to change).
bash scripts/fuzz.sh "${REALFACE_FUZZ_SECONDS:-60}"
