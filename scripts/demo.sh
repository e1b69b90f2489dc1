#!/usr/bin/env bash
# README command (1): set up, build, and compare the bundled sample photos.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# the build's Debian packages only (the tests' browser, PostgreSQL and Xvfb are
# scripts/test.sh's)
bash scripts/system-deps.sh --build-only
bash scripts/setup.sh
cargo build --release --quiet
rf=target/release/realface
echo "== obama vs obama2 (expected: same person)"
$rf compare .samples/obama.jpg .samples/obama2.jpg
echo "== obama vs biden (expected: different people)"
$rf compare .samples/obama.jpg .samples/biden.jpg
