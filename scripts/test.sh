#!/usr/bin/env bash
# README command (2): set up, then build every feature (camera, ffi, gui, cli)
# and the server, and run every test, lint and doc check (the server's tests
# against SQLite and a PostgreSQL server this script starts and stops), then
# a one-minute smoke run of every fuzz target.
# Needs the shared evaluation data at ../shared/data (or REALFACE_DATA).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/system-deps.sh
bash scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets --all-features -- -D warnings
# API docs build without a warning (broken intra-doc links included)
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --features ffi
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p realface-server
# the C ABI's shared library (C example test) and the desktop example (Xvfb test)
cargo build --release --workspace --all-features --examples
cargo rustc --release --all-features --lib --crate-type cdylib
# a throwaway PostgreSQL server for the server's tests (stopped on exit)
pgdir=$(mktemp -d /tmp/realface-pg.XXXXXX)
trap 'bash scripts/pg.sh stop "$pgdir"' EXIT
bash scripts/pg.sh start "$pgdir"
export REALFACE_TEST_PG
REALFACE_TEST_PG=$(cat "$pgdir/url")
log=$(mktemp)
cargo test --release --workspace --all-features 2>&1 | tee "$log"
# Fuzz smoke: every fuzz target for a minute (REALFACE_FUZZ_SECONDS to change).
bash scripts/fuzz.sh "${REALFACE_FUZZ_SECONDS:-60}"
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
rm -f "$log"
echo "realface: $passed passed, $failed failed"
