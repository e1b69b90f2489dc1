"""Would the server's judge gain from batching? Runs every model a session
calls per frame at batch 1, 2, 4, 8 and 16 and reports the time per item, on
one ORT thread with realface's settings (graph optimisation "all", arena
off), so that a figure is what a judge worker on one core would get.

The shipped files declare a batch of 1 (w600k_mbf and SCRFD excepted). Each
is re-declared here, in memory only, with a free batch dimension; a Reshape
whose target shape starts with a literal 1 gets -1 there. A model that still
cannot run a batch is reported as such (it would need a re-export) and timed
at batch 1 alone. Every batched output is checked against the same items run
one at a time.

Timing: the batch sizes alternate round by round; the figure is the median
over rounds of the time per item, and the gain is batch 1's over the best
batch's. Prints a JSON report (also target/batch/report.json).

    .venv-peer/bin/pip install -r benches/peer/requirements.txt -r benches/peer/requirements-quant.txt
    .venv-peer/bin/python benches/peer/batch_trial.py [ROUNDS]
"""

import json
import os
import sys
from functools import partial

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(__file__))
from quantize_embedder import latency, session  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
OUT = os.path.join(ROOT, "target", "batch")
BATCHES = [1, 2, 4, 8, 16]
# realface runs with the arena off; ARENA=1 measures with it on
ARENA = os.environ.get("ARENA") == "1"
# what a session runs per frame: the detector and the mesh on every frame,
# the eye model twice, the passive models every 100 ms, the embedder (and
# SCRFD's keypoint refinement on a 256 x 256 crop) every 5th face frame
# (input shape when the file leaves it free, calls per frame at 30 fps)
MODELS = {
    "blazeface_short": (None, 1.0),
    "face_mesh": (None, 1.0),
    "fr_eye": (None, 2.0),
    "fr_liveness": (None, 1 / 3),
    "minifasnet_v2": (None, 1 / 3),
    "minifasnet_v1se": (None, 1 / 3),
    "w600k_mbf": (None, 1 / 5),
    "scrfd_500m_bnkps": ([3, 256, 256], 1 / 5),
}


def free_batch(path):
    """The model with a free leading dimension, and how many Reshapes changed."""
    model = onnx.load(path)
    graph = model.graph
    for value in list(graph.input) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = "batch"
    del graph.value_info[:]
    inits = {i.name: i for i in graph.initializer}
    patched = 0
    for node in graph.node:
        if node.op_type != "Reshape" or node.input[1] not in inits:
            continue
        shape = numpy_helper.to_array(inits[node.input[1]]).copy()
        if shape.size > 1 and shape[0] == 1 and -1 not in shape:
            shape[0] = -1
            inits[node.input[1]].CopyFrom(numpy_helper.from_array(shape, node.input[1]))
            patched += 1
    return model, patched


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    report = {}
    for name, (shape, _) in MODELS.items():
        model, patched = free_batch(os.path.join(ROOT, "models", f"{name}.onnx"))
        sess = session(model.SerializeToString(), arena=ARENA)
        inp = sess.get_inputs()[0]
        item = shape or list(inp.shape[1:])
        items = rng.random([max(BATCHES)] + item, dtype=np.float32)
        single = [sess.run(None, {inp.name: items[i:i + 1]}) for i in range(len(items))]
        entry = {"reshapes_patched": patched, "input": item}
        sizes = BATCHES
        try:
            deviation = 0.0
            for b in BATCHES[1:]:
                outs = sess.run(None, {inp.name: items[:b]})
                for k, out in enumerate(outs):
                    want = np.concatenate([s[k] for s in single[:b]])
                    deviation = max(deviation, float(np.abs(out - want).max()))
            entry.update(batchable=True, max_abs_deviation=deviation)
        except Exception as e:  # noqa: BLE001 - reported, not raised
            sizes = [1]
            entry.update(batchable=False, error=str(e).splitlines()[0][:160])
            print(f"{name}: no batch without a re-export ({entry['error'][:80]}...)",
                  file=sys.stderr)
        ms = latency({b: partial(sess.run, None, {inp.name: items[:b]}) for b in sizes}, rounds)
        per_item = {b: round(ms[b] / b, 3) for b in sizes}
        best = min(per_item, key=per_item.get)
        entry.update(ms_per_item=per_item, best_batch=best,
                     gain=round(per_item[1] / per_item[best], 3))
        report[name] = entry
        cells = "  ".join(f"b{b} {v:6.3f}" for b, v in per_item.items())
        print(f"{name:18} ms/item {cells}  gain x{entry['gain']:.2f}", file=sys.stderr)
    # a session frame's model time, each model at batch 1 and at its best
    # batch (a model that cannot batch counts at batch 1 in both)
    frame = {"batch 1": 0.0, "best batches": 0.0}
    for name, (_, per_frame) in MODELS.items():
        entry = report[name]
        frame["batch 1"] += per_frame * entry["ms_per_item"][1]
        frame["best batches"] += per_frame * entry["ms_per_item"][entry["best_batch"]]
    summary = {k: round(v, 3) for k, v in frame.items()}
    summary["gain"] = round(frame["batch 1"] / frame["best batches"], 3)
    report["session_frame_ms"] = summary
    print(f"session frame: {summary['batch 1']:.2f} ms of models at batch 1, "
          f"{summary['best batches']:.2f} ms at each model's best batch (x{summary['gain']:.2f})",
          file=sys.stderr)
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
