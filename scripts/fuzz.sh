#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, on the stable
# toolchain (libFuzzer without sanitizers; for AddressSanitizer run
# `RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET` yourself). Installs cargo-fuzz if
# missing and writes the seed corpora first. Crashes land in fuzz/artifacts/.
#   bash scripts/fuzz.sh 600                  # 10 minutes per target
#   bash scripts/fuzz.sh 60 photo_pipeline    # one target, one minute
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(photo_pipeline frame_push json_inputs ffi_calls)
bash scripts/setup.sh
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
cargo run --profile ci --quiet --example fuzz_seeds
dict_of() { case "$1" in photo_pipeline) echo fuzz/dict/image.dict ;; json_inputs) echo fuzz/dict/json.dict ;; *) echo "" ;; esac; }
for t in "${targets[@]}"; do
  d=$(dict_of "$t")
  args=(-max_total_time="$secs" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1)
  [ -n "$d" ] && args+=(-dict="$root/$d")
  echo "== fuzz $t for ${secs}s"
  log=$(mktemp)
  rc=0
  (cd fuzz && cargo fuzz run --sanitizer none -O "$t" "corpus/$t" -- "${args[@]}") >"$log" 2>&1 || rc=$?
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==|SUMMARY|.*panicked|Done)" "$log" || true
  if ls fuzz/artifacts/"$t"/{crash,oom,timeout,leak}-* >/dev/null 2>&1; then
    echo "fuzz: $t found a failure: $(ls fuzz/artifacts/"$t"/{crash,oom,timeout,leak}-* 2>/dev/null | head -1)" >&2
    exit 1
  fi
  # A target that does not build, or a fuzzer that stops for any other reason,
  # is a failure too (it used to pass silently).
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: $t exited with status $rc; last lines:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  rm -f "$log"
done
