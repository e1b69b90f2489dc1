#!/usr/bin/env bash
# README command (2): set up, then build every feature (camera, ffi, gui, cli)
# and the server, and run every test, lint and doc check (the server's tests
# against SQLite and a PostgreSQL server this script starts and stops), then
# the Python package's tests in a fresh venv, the guide's build and links,
# then a 30-second smoke run of every fuzz target. Prints a per-step timing
# table at the end (and when a step fails), so the slowest step shows.
# Needs the shared evaluation data at ../shared/data (or REALFACE_DATA).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

steps=()
table() {
  echo "realface: step timings"
  printf '  %-44s %8s\n' step seconds
  for s in "${steps[@]}"; do printf '  %-44s %8s\n' "${s%|*}" "${s##*|}"; done
}
trap table EXIT
step() { # name command...
  local name=$1 t0=$SECONDS
  shift
  echo "realface: == $name"
  "$@"
  steps+=("$name|$((SECONDS - t0))")
}

step "system packages" bash scripts/system-deps.sh
step "setup (ONNX Runtime, samples)" bash scripts/setup.sh
# onnxruntime in Python for tests/parity.rs (a venv in .venv-test/)
step "Python venv (parity test)" bash scripts/pyenv.sh
step "cargo fmt --check" cargo fmt --all -- --check
step "clippy -D warnings (all targets, features)" \
  cargo clippy --release --workspace --all-targets --all-features -- -D warnings
# API docs build without a warning (broken intra-doc links included)
export RUSTDOCFLAGS="-D warnings"
# one run for both crates: realface's documentation with the C ABI, the
# server's beside it (one build of their dependencies' metadata)
step "cargo doc (library, server)" cargo doc --no-deps --features realface/ffi -p realface -p realface-server
unset RUSTDOCFLAGS
# Everything the tests run is built with the `ci` profile (release without
# link-time optimisation: the test binaries link in minutes, not a quarter
# of an hour), in target/ci/: the C ABI's shared library (C example test)
# and the desktop example (Xvfb test) too.
step "build examples" cargo build --profile ci --workspace --all-features --examples
step "build cdylib" cargo rustc --profile ci --all-features --lib --crate-type cdylib
# a throwaway PostgreSQL server for the server's tests (stopped on exit)
pgdir=$(mktemp -d /tmp/realface-pg.XXXXXX)
trap 'bash scripts/pg.sh stop "$pgdir"; table' EXIT
step "start PostgreSQL" bash scripts/pg.sh start "$pgdir"
export REALFACE_TEST_PG
REALFACE_TEST_PG=$(cat "$pgdir/url")
log=$(mktemp)
step "build tests" cargo test --profile ci --workspace --all-features --no-run
tests() { cargo test --profile ci --workspace --all-features --no-fail-fast 2>&1 | tee "$log"; }
step "cargo test (workspace)" tests
# The Python package: its wheel, installed into a fresh venv, under pytest
# and mypy --strict (scripts/python.sh).
step "Python wheel (pip wheel ./python)" bash scripts/python.sh build
pytests() { bash scripts/python.sh test 2>&1 | tee -a "$log"; }
step "pytest + mypy (Python package)" pytests
# The guide (docs/, mdBook) builds without a warning and has no broken
# internal link.
step "guide (mdbook build, links)" bash scripts/book.sh
# Fuzz smoke: every fuzz target for 30 s (REALFACE_FUZZ_SECONDS to change;
# longer runs: bash scripts/fuzz.sh 600).
step "fuzz smoke" bash scripts/fuzz.sh "${REALFACE_FUZZ_SECONDS:-30}"
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
rm -f "$log"
echo "realface: $passed passed, $failed failed"
