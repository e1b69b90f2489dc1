#!/usr/bin/env bash
# Debian packages for the optional features: libclang-dev (the `camera`
# feature: nokhwa's V4L2 bindings are generated with bindgen), and Xvfb with
# Mesa's software OpenGL (the `gui` desktop example, run headless by the tests).
# Installs only what is missing; needs root or sudo. Debian's own archive only.
set -euo pipefail
pkgs=(libclang-dev xvfb xauth libgl1-mesa-dri libegl1 libxkbcommon-x11-0)
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
