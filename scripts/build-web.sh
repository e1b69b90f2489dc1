#!/usr/bin/env bash
# Builds the browser page's WebAssembly session (bindings/web) into
# .runtime/web/realface_web.wasm: the library compiled for
# wasm32-unknown-unknown by Debian's rustc-web with its standard library
# built from rust-web-src (-Zbuild-std; RUSTC_BOOTSTRAP lets that stable
# compiler take the flag). Nothing is downloaded but crates.
# realface-server serves the file at /sdk/v1/rt/realface_web.wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
rustc_web=/usr/bin/rustc
if ! "$rustc_web" --print target-list 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || [ ! -d /usr/lib/rustlib/src/rust/library ]; then
  echo "build-web: Debian's rustc-web, cargo-web and rust-web-src are needed (bash scripts/system-deps.sh)" >&2
  exit 1
fi
out=.runtime/web/realface_web.wasm
target=target/web
RUSTC_BOOTSTRAP=1 RUSTC="$rustc_web" CARGO_TARGET_DIR="$target" \
  RUSTFLAGS='-C linker=wasm-ld -C target-feature=+simd128 --cfg getrandom_backend="custom"' \
  /usr/bin/cargo build -q --release -p realface-web --lib \
  --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
mkdir -p .runtime/web
cp "$target/wasm32-unknown-unknown/release/realface_web.wasm" "$out.part"
mv "$out.part" "$out"
echo "build-web: $out ($(stat -c %s "$out") bytes)"
