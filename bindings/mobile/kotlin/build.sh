#!/usr/bin/env bash
# Builds the Kotlin bindings on the JVM: the library (target/$PROFILE/
# librealface_mobile.so), the bindings generated from it by uniffi-bindgen,
# compiled with the Kotlin compiler from npm (kotlin-compiler, pinned and
# checked by sha256, unpacked into .runtime/kotlin/) against JNA from Debian
# (libjna-java), together with the support code, the example and the tests,
# into target/kotlin/realface-kotlin.jar.
# PROFILE: the cargo profile (default ci, as scripts/test.sh builds).
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
PROFILE=${PROFILE:-ci}
KOTLIN_VERSION=2.4.20
KOTLIN_TGZ_SHA256=c23dab400d7ce5ea8b6c909947c0ca5454189e4bb1108695b5f464500e5e950f
kotlin=.runtime/kotlin-$KOTLIN_VERSION
if [ ! -x "$kotlin/bin/kotlinc" ]; then
  tgz=.runtime/downloads/kotlin-compiler-$KOTLIN_VERSION.tgz
  mkdir -p .runtime/downloads
  [ -f "$tgz" ] || curl -sSfL -o "$tgz" \
    "https://registry.npmjs.org/kotlin-compiler/-/kotlin-compiler-$KOTLIN_VERSION.tgz"
  got=$(sha256sum "$tgz" | cut -d' ' -f1)
  if [ "$got" != "$KOTLIN_TGZ_SHA256" ]; then
    echo "kotlin: $tgz has sha256 $got, expected $KOTLIN_TGZ_SHA256; refusing to use it" >&2
    rm -f "$tgz"
    exit 1
  fi
  rm -rf "$kotlin" "$kotlin.tmp" && mkdir -p "$kotlin.tmp"
  tar xzf "$tgz" -C "$kotlin.tmp" --strip-components=1
  chmod +x "$kotlin.tmp"/bin/*
  mv "$kotlin.tmp" "$kotlin"
  echo "kotlin: kotlin-compiler $KOTLIN_VERSION -> $kotlin"
fi
jna=/usr/share/java/jna.jar
[ -f "$jna" ] || { echo "kotlin: $jna missing: apt install libjna-java libjna-jni (scripts/system-deps.sh)" >&2; exit 1; }
# --examples: the dev-dependencies' features unify as in scripts/test.sh's
# builds (they all name --examples or are test builds), so after them nothing
# is compiled again here
cargo build -q --profile "$PROFILE" --workspace --all-features --lib --bins --examples
lib=target/$PROFILE/librealface_mobile.so
out=target/kotlin
rm -rf "$out/gen" && mkdir -p "$out/gen"
"target/$PROFILE/uniffi-bindgen" generate --no-format --library "$lib" \
  --language kotlin --out-dir "$out/gen" >/dev/null
"$kotlin/bin/kotlinc" -nowarn -cp "$jna" -d "$out/realface-kotlin.jar" \
  "$out/gen" bindings/mobile/kotlin/src bindings/mobile/kotlin/test examples/kotlin/Verify.kt
echo "kotlin: $out/realface-kotlin.jar"
