#!/usr/bin/env bash
# README command (2): set up, then build every feature (camera, ffi, gui, cli)
# and run every test, lint and doc check, then a one-minute smoke run of every
# fuzz target.
# Needs the shared evaluation data at ../shared/data (or REALFACE_DATA).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/system-deps.sh
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --release --all-targets --all-features -- -D warnings
# API docs build without a warning (broken intra-doc links included)
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --features ffi
# the C ABI's shared library (C example test) and the desktop example (Xvfb test)
cargo build --release --all-features --examples
cargo rustc --release --all-features --lib --crate-type cdylib
log=$(mktemp)
cargo test --release --all-features 2>&1 | tee "$log"
# Fuzz smoke: every fuzz target for a minute (REALFACE_FUZZ_SECONDS to change).
bash scripts/fuzz.sh "${REALFACE_FUZZ_SECONDS:-60}"
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
rm -f "$log"
echo "realface: $passed passed, $failed failed"
