"""The embedders' outputs from onnxruntime in Python, for tests/parity.rs.

Reads aligned 112x112 RGB crops (raw bytes, row-major HWC), runs each
embedding network of models/ with its published input convention, written
here independently of the Rust code, and prints one JSON object:
{network: [unit-length embedding per crop]}.

    python tests/python/parity.py MODELS_DIR CROP.rgb...
"""

import json
import sys

import numpy as np
import onnxruntime as ort

SIZE = 112


def mobilefacenet(crop):
    # NHWC, RGB, (x - 127.5) / 128
    return ((crop - 127.5) / 128.0)[None]


def fr_feature(crop):
    # NCHW, BGR, (x - 127) / 128
    return ((crop[:, :, ::-1] - 127.0) / 128.0).transpose(2, 0, 1)[None]


def w600k_mbf(crop):
    # NCHW, RGB, (x - 127.5) / 127.5 (InsightFace's arcface_onnx.py)
    return ((crop - 127.5) / 127.5).transpose(2, 0, 1)[None]


def sface(crop):
    # NCHW, RGB, raw 0..255 (OpenCV's FaceRecognizerSF: blobFromImage with
    # swapRB on its BGR crop; the graph normalises)
    return crop.transpose(2, 0, 1)[None]


NETWORKS = {
    "mobilefacenet": ("mobilefacenet.onnx", mobilefacenet),
    "fr_feature": ("fr_feature.onnx", fr_feature),
    "w600k_mbf": ("w600k_mbf.onnx", w600k_mbf),
    "sface": ("sface_int8.onnx", sface),
}


def main():
    models, paths = sys.argv[1], sys.argv[2:]
    crops = []
    for p in paths:
        raw = np.fromfile(p, dtype=np.uint8)
        if raw.size != SIZE * SIZE * 3:
            sys.exit(f"{p}: {raw.size} bytes, not a {SIZE}x{SIZE} RGB crop")
        crops.append(raw.reshape(SIZE, SIZE, 3).astype(np.float32))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    out = {"onnxruntime": ort.__version__}
    for name, (file, prepare) in NETWORKS.items():
        session = ort.InferenceSession(
            f"{models}/{file}", options, providers=["CPUExecutionProvider"]
        )
        feed = session.get_inputs()[0].name
        rows = []
        for crop in crops:
            x = np.ascontiguousarray(prepare(crop), dtype=np.float32)
            v = session.run(None, {feed: x})[0][0].astype(np.float64)
            rows.append((v / np.linalg.norm(v)).tolist())
        out[name] = rows
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
