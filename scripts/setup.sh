#!/usr/bin/env bash
# realface setup: fetches the pinned ONNX Runtime shared library and the demo photos
# from PyPI, checks their sha256, and unpacks them into git-ignored folders of the
# project (.runtime/ and .samples/). Idempotent; nothing else is downloaded, ever.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

ORT_VERSION=1.31.1
ORT_WHEEL=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
SAMPLES_SDIST=face_recognition-1.3.0.tar.gz
SAMPLES_SHA256=5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec

check() { # file sha256
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$2" ]; then
    echo "setup: $1 has sha256 $got, expected $2; refusing to use it" >&2
    rm -f "$1"
    exit 1
  fi
}

fetch() { # pip args...
  python3 -m pip download -q --no-deps -d .runtime/downloads "$@"
}

mkdir -p .runtime/downloads .samples
lib=".runtime/libonnxruntime.so.$ORT_VERSION"
if [ ! -f "$lib" ]; then
  [ -f ".runtime/downloads/$ORT_WHEEL" ] ||
    fetch --only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64 \
      "onnxruntime==$ORT_VERSION"
  check ".runtime/downloads/$ORT_WHEEL" "$ORT_WHEEL_SHA256"
  python3 - "$ORT_WHEEL" "$ORT_VERSION" <<'PY'
import sys, zipfile
wheel, version = sys.argv[1], sys.argv[2]
name = f"onnxruntime/capi/libonnxruntime.so.{version}"
with zipfile.ZipFile(f".runtime/downloads/{wheel}") as z, open(f".runtime/libonnxruntime.so.{version}", "wb") as o:
    o.write(z.read(name))
PY
  echo "setup: ONNX Runtime $ORT_VERSION -> $lib"
fi

if [ ! -f .samples/obama.jpg ]; then
  [ -f ".runtime/downloads/$SAMPLES_SDIST" ] ||
    fetch --no-binary=:all: "face-recognition==1.3.0"
  check ".runtime/downloads/$SAMPLES_SDIST" "$SAMPLES_SHA256"
  tar -xzf ".runtime/downloads/$SAMPLES_SDIST" -C .samples --strip-components=3 \
    face_recognition-1.3.0/tests/test_images
  echo "setup: sample photos (face-recognition 1.3.0, MIT) -> .samples/"
fi
