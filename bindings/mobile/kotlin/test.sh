#!/usr/bin/env bash
# The Kotlin bindings' tests on the JVM (scripts/test.sh runs this): builds
# the library, the bindings and the tests (build.sh), decodes a shared clip
# to NV21 (examples/kotlin/frames.sh), runs `realface verify` on the same
# video for the comparison, then the Kotlin tests, which start their own
# realface-server on SQLite. Needs the shared data (../shared/data or
# REALFACE_DATA): fails without it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
PROFILE=${PROFILE:-ci}
data=${REALFACE_DATA:-$root/../shared/data}
[ -d "$data/actions" ] || { echo "kotlin: no shared data at $data (set REALFACE_DATA)" >&2; exit 1; }
bash bindings/mobile/kotlin/build.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clip=$data/actions/mauckc_mouth_open
bash examples/kotlin/frames.sh "$clip/source.mp4" "$work/frames"
runtime=$(ls .runtime/libonnxruntime.so.* | head -1)
"target/$PROFILE/realface" verify --json --quiet --video "$clip/source.mp4" \
  --reference "$clip/frame_0001.jpg" --actions mouth_open \
  --prompt-delays-ms 2000 --release-at-ms 3000 >"$work/verify.json"
kotlin=$(ls -d .runtime/kotlin-*/ | tail -1)
java -Djna.library.path="target/$PROFILE" \
  -cp "target/kotlin/realface-kotlin.jar:/usr/share/java/jna.jar:$kotlin/lib/kotlin-stdlib.jar" \
  io.realface.test.RealfaceTestKt --data "$data" --models models --runtime "$runtime" \
  --frames "$work/frames" --verify-json "$work/verify.json" \
  --server "target/$PROFILE/realface-server" --cli "target/$PROFILE/realface" --work "$work"
