#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, two at a time
# (REALFACE_FUZZ_JOBS), on the stable toolchain (libFuzzer without
# sanitizers; for AddressSanitizer run `RUSTC_BOOTSTRAP=1 cargo fuzz run
# TARGET` yourself). Installs cargo-fuzz if missing and writes the seed
# corpora first. Crashes land in fuzz/artifacts/; any there fails the run.
#   bash scripts/fuzz.sh 600                  # 10 minutes per target
#   bash scripts/fuzz.sh 60 photo_pipeline    # one target, one minute
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(photo_pipeline frame_push json_inputs ffi_calls)
# how many fuzzers run at a time (a typo must not loop or skip them all)
lanes=${REALFACE_FUZZ_JOBS:-2}
if ! [[ "$lanes" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: REALFACE_FUZZ_JOBS must be a whole number of at least 1, not '$lanes'" >&2
  exit 2
fi
bash scripts/setup.sh
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
cargo run --profile ci --quiet --example fuzz_seeds
dict_of() { case "$1" in photo_pipeline) echo fuzz/dict/image.dict ;; json_inputs) echo fuzz/dict/json.dict ;; *) echo "" ;; esac; }
# One build for every target (their links run side by side), then the
# fuzzers REALFACE_FUZZ_JOBS at a time (default 2: each libFuzzer is one
# thread, and each still runs its full SECONDS on a core of its own).
build=(cargo fuzz build --sanitizer none -O)
if [ $# -eq 0 ]; then
  (cd fuzz && "${build[@]}")
else
  for t in "${targets[@]}"; do (cd fuzz && "${build[@]}" "$t"); done
fi
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run() { # target: its output to $logs/target.log, its status to $logs/target.rc
  local t=$1 d rc=0
  d=$(dict_of "$t")
  local args=(-max_total_time="$secs" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1)
  [ -n "$d" ] && args+=(-dict="$root/$d")
  (cd fuzz && cargo fuzz run --sanitizer none -O "$t" "corpus/$t" -- "${args[@]}") >"$logs/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$logs/$t.rc"
}
failed=0
report() { # target: its summary; a failure is reported, and counted
  local t=$1 rc found
  rc=$(cat "$logs/$t.rc")
  echo "== fuzz $t for ${secs}s"
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|.*panicked|Done)" "$logs/$t.log" || true
  # (an `ls` of the four patterns failed whenever one of them matched
  # nothing, so it never saw an artifact: find them by name)
  found=$(find fuzz/artifacts/"$t" -maxdepth 1 \( -name 'crash-*' -o -name 'oom-*' \
    -o -name 'timeout-*' -o -name 'leak-*' \) 2>/dev/null | head -1)
  if [ -n "$found" ]; then
    echo "fuzz: $t found a failure: $found" >&2
    failed=1
  # A fuzzer that stops for any other reason is a failure too (it used to
  # pass silently).
  elif [ "$rc" -ne 0 ]; then
    echo "fuzz: $t exited with status $rc; last lines:" >&2
    tail -n 30 "$logs/$t.log" >&2
    failed=1
  fi
}
for ((i = 0; i < ${#targets[@]}; i += lanes)); do
  batch=("${targets[@]:i:lanes}")
  for t in "${batch[@]}"; do run "$t" & done
  wait
  for t in "${batch[@]}"; do report "$t"; done
done
exit "$failed"
