#!/usr/bin/env bash
# Debian packages: FFmpeg's libraries (the `video` feature, part of the default
# `cli`: video files as frame sources) and libclang-dev (bindgen generates the
# FFmpeg and the `camera` feature's V4L2 bindings), and Xvfb with
# Mesa's software OpenGL (the `gui` desktop example, run headless by the tests).
# PostgreSQL (the server's second store), wrk (its load test) and Chromium with
# its WebDriver (the console test), ffmpeg (the C quick start makes its PPM
# frames with it) and jq (the server quick start reads ids with it); curl
# (scripts/setup.sh fetches ONNX Runtime Web from the npm registry with it);
# a JDK and JNA (the Kotlin bindings' tests on the JVM, bindings/mobile/);
# Debian's rustc-web, cargo-web, rust-web-src and lld (wasm-ld): the
# library compiled to WebAssembly for the capture page (scripts/build-web.sh).
# `--build-only`: just what building the default features needs (the demo,
# scripts/demo.sh), not what only the tests use.
# Installs only what is missing; needs root or sudo. Debian's own archive only.
set -euo pipefail
pkgs=(curl libclang-dev pkg-config libavcodec-dev libavformat-dev libavutil-dev libswscale-dev)
if [ "${1:-}" != "--build-only" ]; then
  pkgs+=(xvfb xauth libgl1-mesa-dri libegl1 libxkbcommon-x11-0 postgresql wrk chromium chromium-driver ffmpeg jq
    openjdk-17-jdk-headless libjna-java libjna-jni rustc-web cargo-web rust-web-src lld)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "system-deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
