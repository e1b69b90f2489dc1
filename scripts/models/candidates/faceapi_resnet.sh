#!/usr/bin/env bash
# Rebuilds the #15 candidate embedder `faceapi_resnet.onnx` (dlib's ResNet-34
# face descriptor as ported to TF.js by face-api.js) from the npm package
# @vladmandic/face-api@1.7.15 and checks it against face-api.js itself
# (face-api.js@0.22.2 on the tfjs-core CPU backend, in node). Measured and not
# shipped (docs/EVALUATION.md, "Candidates"); kept so the check can be redone.
# Usage: bash scripts/models/candidates/faceapi_resnet.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:?usage: faceapi_resnet.sh OUT_DIR}
work="$root/.venv-convert/candidates"
mkdir -p "$work" "$out"
python3 -m venv "$root/.venv-convert"
"$root/.venv-convert/bin/pip" install -q "onnx==1.23.2" "onnxruntime==1.31.1" "numpy<2.5"
cd "$work"
pkg=vladmandic-face-api-1.7.15.tgz
[ -f "$pkg" ] || npm pack -q @vladmandic/face-api@1.7.15 >/dev/null
echo "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031  $pkg" | sha256sum -c --quiet
[ -d node_modules/face-api.js ] || npm install -q --no-save --prefix "$work" face-api.js@0.22.2 >/dev/null
NODE_PATH="$work/node_modules" "$root/.venv-convert/bin/python" "$here/faceapi_resnet.py" \
  --package "$work/$pkg" --parity-script "$here/faceapi_parity.js" --out "$out/faceapi_resnet.onnx"
