#!/usr/bin/env bash
# realface's per-frame pipeline and the Python peer (benches/peer/peer.py:
# onnxruntime + numpy + OpenCV, the same ONNX files, the detector on every
# frame) on the same frames, in the same run, alternating ROUNDS times; prints
# both medians and the ratio. The peer's packages are pinned in
# requirements.txt and installed from PyPI into .venv-peer/ (git-ignored).
#
#   bash benches/peer/compare.sh [FRAMES_DIR]
#   env: THREADS (ORT intra-op threads, default 1), ITERATIONS (default 3000),
#        ROUNDS (default 3), DETECT_EVERY (realface only, default 1 = as sessions),
#        PEER_PAD (all = the session's three passive models, the default;
#        fr = fr_liveness alone, as the peer was before the MiniFASNets),
#        SEQUENTIAL (1 = realface runs a frame's model calls on one core,
#        `--sequential-stages`; default: side by side, as shipped),
#        SCHEDULE (the analysis schedule, default `default`: both run its
#        steady-state rates, the passive models on every n-th 100 ms tick
#        and the embedding on every n-th due frame, as `realface bench`
#        reports them)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
frames=${1:-${REALFACE_DATA:-../shared/data}/actions/apfol_real2}
threads=${THREADS:-1}
iterations=${ITERATIONS:-3000}
rounds=${ROUNDS:-3}
detect_every=${DETECT_EVERY:-1}
schedule=${SCHEDULE:-default}
peer_pad=${PEER_PAD:-all}
rf_flags=()
if [ "${SEQUENTIAL:-0}" = 1 ]; then rf_flags+=(--sequential-stages); fi
out=${OUT:-target/peer}
mkdir -p "$out"
bash scripts/setup.sh
if [ ! -x .venv-peer/bin/python ]; then
  python3 -m venv .venv-peer
fi
.venv-peer/bin/python -m pip install -q -r benches/peer/requirements.txt
cargo build --release --bin realface
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds: realface" >&2
  target/release/realface bench --frames "$frames" --threads "$threads" \
    --iterations "$iterations" --detect-every "$detect_every" --schedule "$schedule" \
    "${rf_flags[@]}" --json > "$out/realface_$r.json"
  # the peer follows the rates realface ran
  rates=$(.venv-peer/bin/python -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["pad_every"], r["embed_every"])' "$out/realface_$r.json")
  read -r pad_every embed_every <<< "$rates"
  echo "round $r/$rounds: python peer" >&2
  .venv-peer/bin/python benches/peer/peer.py --frames "$frames" --threads "$threads" \
    --iterations "$iterations" --pad-models "$peer_pad" --pad-every "$pad_every" \
    --embed-every "$embed_every" --json > "$out/peer_$r.json"
done
.venv-peer/bin/python - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rf = [json.load(open(f"{out}/realface_{r}.json")) for r in range(1, rounds + 1)]
py = [json.load(open(f"{out}/peer_{r}.json")) for r in range(1, rounds + 1)]
def med(runs, k):
    return statistics.median(x[k] for x in runs)
summary = {
    "frames_dir": rf[0]["frames_dir"],
    "ort_intra_threads": rf[0]["ort_intra_threads"],
    "detect_every": rf[0]["detect_every"],
    "schedule": rf[0]["schedule"],
    "pad_every": rf[0]["pad_every"],
    "embed_every": rf[0]["embed_every"],
    "rounds": rounds,
    "realface_fps": med(rf, "pipeline_fps"),
    "peer_fps": med(py, "pipeline_fps"),
    "realface_ms_per_frame": med(rf, "pipeline_ms_per_frame"),
    "peer_ms_per_frame": med(py, "pipeline_ms_per_frame"),
    "realface_model_ms": med(rf, "model_ms_per_frame"),
    "peer_model_ms": med(py, "model_ms_per_frame"),
    "realface_outside_models_share": med(rf, "outside_models_share"),
    "peer_outside_models_share": med(py, "outside_models_share"),
    "realface_faces_found_share": med(rf, "faces_found_share"),
    "peer_faces_found_share": med(py, "faces_found_share"),
    "realface_peak_rss_mb": max(x["peak_rss_mb"] or 0 for x in rf),
}
summary["ratio_fps"] = summary["realface_fps"] / summary["peer_fps"]
summary["peer_pad_models"] = py[0].get("pad_models", "fr")
summary["realface_parallel_stages"] = rf[0].get("parallel_stages", False)
# per-step medians (ms a call, the model with its pre/post-processing)
def stage_meds(runs):
    out = {}
    for s in {x["stage"] for r in runs for x in r["stages"]}:
        out[s] = statistics.median(x["median_ms"] for r in runs for x in r["stages"] if x["stage"] == s)
    return out
rf_st, py_st = stage_meds(rf), stage_meds(py)
summary["stages_ms"] = {s: {"realface": rf_st.get(s), "peer": py_st.get(s)}
                        for s in ("detect", "mesh", "eye_state", "passive", "embed", "quality")}
def lat(runs, q):
    return statistics.median(r["frame_latency_ms"][q] for r in runs)
summary["frame_latency_ms"] = {q: {"realface": lat(rf, q), "peer": lat(py, q)} for q in ("p50", "p95", "p99", "max")}
print("step        realface ms  peer ms  (median ms a call; passive every 100 ms, embed every 5th frame)")
for s, v in summary["stages_ms"].items():
    f = lambda x: f"{x:8.3f}" if x is not None else "     n/a"
    print(f"{s:<11} {f(v['realface'])}    {f(v['peer'])}")
print("frame time  realface ms  peer ms")
for q, v in summary["frame_latency_ms"].items():
    print(f"{q:<11} {v['realface']:8.3f}    {v['peer']:8.3f}")
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(
    f"realface {summary['realface_fps']:.1f} frames/s ({summary['realface_ms_per_frame']:.2f} ms, "
    f"outside models {100 * summary['realface_outside_models_share']:.1f}%) vs python peer "
    f"{summary['peer_fps']:.1f} frames/s ({summary['peer_ms_per_frame']:.2f} ms, outside models "
    f"{100 * summary['peer_outside_models_share']:.1f}%): ratio {summary['ratio_fps']:.2f}x "
    f"(median of {rounds} alternating rounds; realface stages "
    f"{'side by side' if summary['realface_parallel_stages'] else 'one after the other'}, "
    f"peer passive models: {summary['peer_pad_models']}; {out}/summary.json)"
)
PY
