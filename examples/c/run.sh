#!/usr/bin/env bash
# The C quick start, as one script: builds the library's shared object (the
# `ffi` feature), compiles verify.c against include/realface.h with an rpath
# (so it runs without LD_LIBRARY_PATH), turns a shared clip's frames into PPM
# with ffmpeg, and runs a session over them that passes.
#
#   bash examples/c/run.sh            # from anywhere in the repository
#
# Needs gcc, ffmpeg (Debian: `apt install gcc ffmpeg`), the models and ONNX
# Runtime of `bash scripts/setup.sh`, and the shared clips at ../shared/data
# (or REALFACE_DATA). REALFACE_LIB_DIR names a directory that already holds
# librealface.so (skips the cargo build; the tests use it).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${REALFACE_DATA:-$root/../shared/data}
clip="$data/actions/apfol_real2"
[ -d "$clip" ] || { echo "run.sh: no clip at $clip (set REALFACE_DATA)" >&2; exit 1; }
for tool in gcc ffmpeg; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (apt install $tool)" >&2; exit 1; }
done
lib=${REALFACE_LIB_DIR:-}
if [ -z "$lib" ]; then
  (cd "$root" && cargo build --release -p realface-c)
  lib="$root/target/release"
fi
[ -f "$lib/librealface.so" ] || { echo "run.sh: no librealface.so in $lib" >&2; exit 1; }
lib=$(cd "$lib" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -std=c11 -Wall -O1 -o "$work/verify" "$root/examples/c/verify.c" \
  -I"$root/include" -L"$lib" -Wl,-rpath,"$lib" -lrealface
# the clip's 10 fps frames as PPM (P6), the format verify.c reads
ffmpeg -loglevel error -i "$clip/frame_%04d.jpg" "$work/frame_%04d.ppm"
count=$(ls "$work"/frame_*.ppm | wc -l)
# the person turns left at about 0.7 s: prompted at 0.5 s, the release cue
# placed at 1.3 s (offline timing of a recorded answer; a live session
# draws its own)
options='{"challenge":{"fixed":["turn_left"]},"prompt":{"delays_ms":[500],"release_at_ms":[1300]}}'
cd "$root"
"$work/verify" "$clip/frame_0001.jpg" "$work/frame_%04d.ppm" "$count" 10 "$options"
