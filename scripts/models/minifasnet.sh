#!/usr/bin/env bash
# Re-creates models/minifasnet_v2.onnx and models/minifasnet_v1se.onnx from
# Minivision's MiniFASNet weights in ../shared/models/minifasnet/ (Apache-2.0;
# sha256 checked against its SHA256SUMS), checks them against upstream's
# PyTorch network on real face crops, and writes their records into
# models/manifest.json. Not needed to use realface (the ONNX files are
# committed). Needs PyTorch CPU from PyPI (~5 GB of venv) and a built
# `target/release/realface` (it finds the faces to crop).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
weights=${MINIFASNET_DIR:-"$root/../shared/models/minifasnet"}
data=${REALFACE_DATA:-"$root/../shared/data"}
venv=${MINIFASNET_VENV:-"$root/.venv-minifasnet"}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "torch==2.15.0" "onnx==1.23.2" "onnxruntime==1.31.1" "numpy==2.4.6" "pillow==13.0.0"
spoof="$data/spoof"
images=()
while IFS= read -r f; do images+=("$f"); done < <(
  ls "$spoof"/nuaa/client/0001/*.jpg | head -4
  ls "$spoof"/nuaa/imposter/0002/*.jpg | head -4
  ls "$spoof"/apfol/real/*.png | head -3
  ls "$spoof"/apfol/fake/*.png | head -3
  ls "$spoof"/apfol/video_frames/fake2/*.jpg | head -3
  ls "$spoof"/silentface/*.jpg
)
records=$(mktemp)
"$venv/bin/python" "$root/scripts/models/minifasnet.py" --weights "$weights" --out "$root/models" \
  --realface "${REALFACE_BIN:-$root/target/release/realface}" --images "${images[@]}" > "$records"
"$venv/bin/python" - "$root/models/manifest.json" "$records" <<'PY'
import json, sys
manifest_path, records_path = sys.argv[1], sys.argv[2]
manifest = json.load(open(manifest_path))
new = {r["name"]: r for r in json.load(open(records_path))}
models = [m for m in manifest["models"] if m["name"] not in new]
# after the passive model they join
at = next((i + 1 for i, m in enumerate(models) if m["name"] == "pad_liveness"), len(models))
manifest["models"] = models[:at] + list(new.values()) + models[at:]
json.dump(manifest, open(manifest_path, "w"), indent=2)
open(manifest_path, "a").write("\n")
PY
rm -f "$records"
echo "minifasnet: models and manifest updated"
