#!/usr/bin/env bash
# Generates the Swift bindings (Realface.swift, RealfaceFFI.h,
# RealfaceFFI.modulemap) into bindings/mobile/swift/ from the built library.
# `--check`: generates into a temporary folder and fails if the committed
# files differ (they are out of date: run this without --check and commit),
# then compiles the C header with `gcc -fsyntax-only`. No Swift compiler
# exists on these machines: the Swift file itself is not compiled here.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
PROFILE=${PROFILE:-ci}
here=bindings/mobile/swift
out=$here
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
"target/$PROFILE/uniffi-bindgen" generate --no-format \
  --library "target/$PROFILE/librealface_mobile.so" --language swift --out-dir "$out" >/dev/null
if [ "$out" != "$here" ]; then
  for f in Realface.swift RealfaceFFI.h RealfaceFFI.modulemap; do
    if ! cmp -s "$out/$f" "$here/$f"; then
      echo "swift: $here/$f is out of date: run bash $here/generate.sh and commit it" >&2
      diff -u "$here/$f" "$out/$f" | head -20 >&2 || true
      exit 1
    fi
  done
  echo "swift: the committed bindings are current"
fi
# the header as a C file includes it; _Nullable and _Nonnull are clang's
# (Xcode's) nullability marks, which gcc does not know
echo "#include \"$root/$here/RealfaceFFI.h\"" |
  gcc -fsyntax-only -Wall -Werror -D_Nullable= -D_Nonnull= -x c -
echo "swift: RealfaceFFI.h compiles (gcc -fsyntax-only)"
