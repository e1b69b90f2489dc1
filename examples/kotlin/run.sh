#!/usr/bin/env bash
# examples/kotlin/run.sh --reference IMG --video FILE --actions A[,B]
#     [--prompt-delays-ms D1[,D2]] [--release-at-ms R1[,R2]]
# Verifies the video through the Kotlin API on the JVM: ffmpeg decodes its
# frames to raw NV21 (as a phone's camera gives them), examples/kotlin/Verify.kt
# feeds them to a LocalSession at their own timestamps and prints, as its
# last line, the result JSON with the fields of `realface verify --json`.
# Builds the library and the Kotlin bindings first (bindings/mobile/kotlin/build.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
args=() video=""
while [ $# -gt 0 ]; do
  case $1 in
    --video) video=$(realpath "$2"); shift 2 ;;
    --reference) args+=(--reference "$(realpath "$2")"); shift 2 ;;
    --actions | --prompt-delays-ms | --release-at-ms | --matcher) args+=("$1" "$2"); shift 2 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$video" ] || { echo "run.sh: --video FILE is required" >&2; exit 2; }
cd "$root"
PROFILE=${PROFILE:-ci}
jar=target/kotlin/realface-kotlin.jar
[ -f "$jar" ] || bash bindings/mobile/kotlin/build.sh >&2
frames=$(mktemp -d)
trap 'rm -rf "$frames"' EXIT
bash examples/kotlin/frames.sh "$video" "$frames"
kotlin=$(ls -d .runtime/kotlin-*/ | tail -1)
java -Djna.library.path="target/$PROFILE" \
  -cp "$jar:/usr/share/java/jna.jar:$kotlin/lib/kotlin-stdlib.jar" \
  io.realface.example.VerifyKt --frames "$frames" \
  --models models --runtime "$(ls .runtime/libonnxruntime.so.* | head -1)" "${args[@]}"
