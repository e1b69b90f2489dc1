#!/usr/bin/env bash
# ONNX Runtime session options measured one at a time on realface's per-frame
# pipeline (`realface bench`, the same frames): each variant changes one
# option from the shipped defaults (graph optimisation "all", 1 intra-op
# thread, sequential execution, arena and memory patterns off, deterministic
# compute off). The variants run alternately, ROUNDS times, in one job, so a
# noisy neighbour hits them all alike; the table gives the medians, the ratio
# to the defaults, the peak RSS, and the largest deviation of any per-frame
# output (eye/mouth ratios, angles, P(eyes closed), sharpness, passive
# P(real)) from the defaults' outputs on the same frames.
#
#   bash benches/peer/ort_options.sh [FRAMES_DIR]
#   env: ITERATIONS (default 800), ROUNDS (default 3), OUT (target/ort_options)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
frames=${1:-${REALFACE_DATA:-../shared/data}/actions/apfol_real2}
iterations=${ITERATIONS:-800}
rounds=${ROUNDS:-3}
out=${OUT:-target/ort_options}
mkdir -p "$out"
bash scripts/setup.sh >/dev/null
cargo build --release --bin realface
variants=(
  "defaults|"
  "opt-disable|--ort-opt-level disable"
  "opt-basic|--ort-opt-level basic"
  "opt-extended|--ort-opt-level extended"
  "opt-layout|--ort-opt-level layout"
  "intra-2|--threads 2"
  "inter-2|--ort-inter-threads 2"
  "arena|--ort-arena"
  "deterministic|--ort-deterministic"
)
for r in $(seq 1 "$rounds"); do
  for v in "${variants[@]}"; do
    name=${v%%|*}
    flags=${v#*|}
    echo "round $r/$rounds: $name" >&2
    # shellcheck disable=SC2086
    target/release/realface bench --frames "$frames" --iterations "$iterations" \
      --json $flags > "$out/${name}_$r.json"
  done
done
names=()
for v in "${variants[@]}"; do names+=("${v%%|*}"); done
python3 - "$out" "$rounds" "${names[@]}" <<'PY'
import json, statistics, sys
out, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
runs = {n: [json.load(open(f"{out}/{n}_{r}.json")) for r in range(1, rounds + 1)] for n in names}
base = runs["defaults"][0]["frame_outputs"]
def deviation(outs):
    worst = 0.0
    for a, b in zip(base, outs):
        if (a is None) != (b is None):
            return float("inf")
        if a is None:
            continue
        for x, y in zip(a, b):
            if (x is None) != (y is None):
                return float("inf")
            if x is not None:
                worst = max(worst, abs(x - y))
    return worst
base_fps = statistics.median(r["pipeline_fps"] for r in runs["defaults"])
rows = []
for n in names:
    rs = runs[n]
    fps = statistics.median(r["pipeline_fps"] for r in rs)
    rows.append({
        "variant": n,
        "fps": fps,
        "ms_per_frame": statistics.median(r["pipeline_ms_per_frame"] for r in rs),
        "model_ms": statistics.median(r["model_ms_per_frame"] for r in rs),
        "ratio_to_defaults": fps / base_fps,
        "peak_rss_mb": max(r["peak_rss_mb"] or 0 for r in rs),
        "max_output_deviation": max(deviation(r["frame_outputs"]) for r in rs),
    })
json.dump({"frames_dir": runs["defaults"][0]["frames_dir"], "rounds": rounds,
           "iterations": runs["defaults"][0]["pipeline_frames"], "variants": rows},
          open(f"{out}/summary.json", "w"), indent=2)
lines = ["| variant | frames/s | ms/frame | in the models (ms) | vs defaults | peak RSS (MB) | largest output deviation |",
         "| --- | --- | --- | --- | --- | --- | --- |"]
for x in rows:
    lines.append(f"| {x['variant']} | {x['fps']:.1f} | {x['ms_per_frame']:.2f} | {x['model_ms']:.2f} | "
                 f"{x['ratio_to_defaults']:.3f}x | {x['peak_rss_mb']:.1f} | {x['max_output_deviation']:.2g} |")
open(f"{out}/summary.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
print(f"(median of {rounds} alternating rounds of {runs['defaults'][0]['pipeline_frames']} frames; {out}/summary.json)")
PY
