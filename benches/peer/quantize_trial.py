"""int8 trial of the per-frame models (BlazeFace short range, Face Mesh) with
ONNX Runtime's own quantization: dynamic (weights only) and static QDQ
(weights and activations, calibrated on face crops of one clip), compared
with the shipped fp32 models on the frames of another clip, in one process:
latency (alternating runs, medians) and accuracy (landmark / detection
deviation from fp32). Writes the quantized files to target/quant/ (never into
models/) and prints a JSON report.

    .venv-peer/bin/pip install -r benches/peer/requirements.txt -r benches/peer/requirements-quant.txt
    .venv-peer/bin/python benches/peer/quantize_trial.py CALIB_CLIP_DIR TEST_CLIP_DIR
"""

import json
import os
import statistics
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import version_converter
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer  # noqa: E402

ort.set_default_logger_severity(3)
OUT = os.path.join(peer.ROOT, "target", "quant")


def frames(d):
    names = sorted(f for f in os.listdir(d) if f.lower().endswith((".jpg", ".png")))
    return [Image.open(os.path.join(d, f)).convert("RGB") for f in names]


def det_input(img):
    w, h = img.size
    side = max(w, h)
    canvas = Image.new("RGB", (side, side))
    canvas.paste(img, ((side - w) // 2, (side - h) // 2))
    return (np.asarray(canvas.resize((128, 128), Image.BILINEAR), dtype=np.float32) / 127.5 - 1.0)[None]


def mesh_input(m, img):
    faces = peer.detect(m, img)
    if len(faces) != 1:
        return None
    box, _, kp = faces[0]
    center = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    side = max(box[2] - box[0], box[3] - box[1]) * 1.5
    angle = np.arctan2(kp[1, 1] - kp[0, 1], kp[1, 0] - kp[0, 0])
    patch, _ = peer.crop(img, center, side, float(angle), 192)
    return (np.asarray(patch, dtype=np.float32) / 255.0)[None], side


class Reader(CalibrationDataReader):
    def __init__(self, name, inputs):
        self.it = iter([{name: x} for x in inputs])

    def get_next(self):
        return next(self.it, None)


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def latency(sessions, x, rounds=200):
    times = {k: [] for k in sessions}
    for _ in range(rounds):
        for k, s in sessions.items():
            t = time.perf_counter()
            s.run(None, {s.get_inputs()[0].name: x})
            times[k].append((time.perf_counter() - t) * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    calib_dir, test_dir = sys.argv[1], sys.argv[2]
    os.makedirs(OUT, exist_ok=True)
    m = peer.Models(1)
    calib, test = frames(calib_dir), frames(test_dir)
    report = {"calibration_clip": calib_dir, "test_clip": test_dir, "models": {}}
    for name, make in (("blazeface_short", lambda im: det_input(im)), ("face_mesh", lambda im: mesh_input(m, im))):
        src = os.path.join(peer.MODELS, f"{name}.onnx")
        inp = session(src).get_inputs()[0].name
        cal = [x for x in (make(im) for im in calib) if x is not None]
        cal = [x[0] if isinstance(x, tuple) else x for x in cal]
        # Per-channel QDQ needs opset >= 13 (DequantizeLinear's axis).
        model = onnx.load(src)
        opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
        if opset < 13:
            model = version_converter.convert_version(model, 13)
        src13 = os.path.join(OUT, f"{name}_opset13.onnx")
        onnx.save(model, src13)
        dyn = os.path.join(OUT, f"{name}_int8_dynamic.onnx")
        qdq = os.path.join(OUT, f"{name}_int8_qdq.onnx")
        quantize_dynamic(src13, dyn, weight_type=QuantType.QUInt8)
        quantize_static(
            src13, qdq, Reader(inp, cal), quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
        )
        sess = {"fp32": session(src), "int8_dynamic": session(dyn), "int8_qdq": session(qdq)}
        tests = [x for x in (make(im) for im in test) if x is not None]
        lat = latency(sess, tests[0][0] if isinstance(tests[0], tuple) else tests[0])
        dev = {k: [] for k in sess if k != "fp32"}
        for t in tests:
            x, scale = (t if isinstance(t, tuple) else (t, 128.0))
            ref = sess["fp32"].run(None, {inp: x})
            for k in dev:
                out = sess[k].run(None, {inp: x})
                if name == "face_mesh":
                    # landmark error in % of the crop side (the face is ~2/3 of it)
                    a, b = ref[0].reshape(468, 3)[:, :2], out[0].reshape(468, 3)[:, :2]
                    dev[k].append(float(np.abs(a - b).max() / 192 * 100))
                else:
                    # largest change of any box/keypoint regressor, in % of the input
                    ra = np.concatenate([o.reshape(-1) for o in ref if o.shape[-1] == 16])
                    rb = np.concatenate([o.reshape(-1) for o in out if o.shape[-1] == 16])
                    sa = np.concatenate([o.reshape(-1) for o in ref if o.shape[-1] == 1])
                    best = int(np.argmax(sa))
                    dev[k].append(float(np.abs(ra.reshape(-1, 16)[best] - rb.reshape(-1, 16)[best]).max() / 128 * 100))
        report["models"][name] = {
            "median_ms": lat,
            "speedup_vs_fp32": {k: lat["fp32"] / v for k, v in lat.items() if k != "fp32"},
            "max_deviation_percent": {k: max(v) for k, v in dev.items()},
            "mean_deviation_percent": {k: statistics.mean(v) for k, v in dev.items()},
            "test_inputs": len(tests),
            "calibration_inputs": len(cal),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
