#!/usr/bin/env bash
# The mobile bindings' checks (scripts/test.sh runs this): the committed
# Swift bindings are current and their C header compiles
# (swift/generate.sh --check), the Kotlin tests on the JVM
# (kotlin/test.sh), and the Kotlin example (examples/kotlin/run.sh) gives
# the verdict `realface verify` gives on the same video (verdict, reasons,
# action times).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
PROFILE=${PROFILE:-ci}
data=${REALFACE_DATA:-$root/../shared/data}
bash bindings/mobile/kotlin/test.sh
bash bindings/mobile/swift/generate.sh --check
clip=$data/actions/mauckc_mouth_open
args=(--video "$clip/source.mp4" --reference "$clip/frame_0001.jpg" --actions mouth_open
  --prompt-delays-ms 2000 --release-at-ms 3000)
kt=$(bash examples/kotlin/run.sh "${args[@]}" 2>/dev/null | tail -1)
rs=$("target/$PROFILE/realface" verify --json --quiet "${args[@]}" | tail -1)
python3 - "$kt" "$rs" <<'PY'
import json, sys
kt, rs = (json.loads(a) for a in sys.argv[1:3])
def verdict(r):
    return (r["auth_state"], [x["code"] for x in r["reasons"]],
            [(a["action"], a["passed"], a["prompt_ms"], a["onset_ms"], a["at_ms"]) for a in r["actions"]])
if verdict(kt) != verdict(rs):
    sys.exit(f"examples/kotlin/run.sh: {verdict(kt)}\nrealface verify: {verdict(rs)}")
print(f"examples/kotlin/run.sh = realface verify: {verdict(kt)}; "
      f"similarity {kt['similarity']} (Kotlin, NV21) and {rs['similarity']} (verify, swscale)")
PY
