"""The Python peer of realface's per-frame pipeline, written the way typical
Python face code is (deepface/insightface style): Pillow for pixels, numpy for
maths, onnxruntime for the same ONNX files, the detector on every frame.

Per frame: letterbox + BlazeFace short range (anchor decode, weighted NMS),
mesh crop rotated to level the eyes + Face Mesh, eye/mouth ratios, and the
quality figure (aligned 112x112 face, Laplacian sharpness, exposure).

    python peer.py --frames DIR [--threads 1] [--iterations 2000] [--json]

Prints frames/s and the share of time outside the models, measured like
`realface bench` (after 100 warm-up frames).
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import onnxruntime as ort

ort.set_default_logger_severity(3)
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "models")

# ArcFace 5-point template for a 112x112 crop.
TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
RIGHT_EYE, LEFT_EYE = [33, 133, 159, 145], [263, 362, 386, 374]
NOSE, MOUTH_CORNERS, INNER_LIPS = 1, [61, 291], [13, 14]


def anchors_short():
    out = []
    for stride, repeats in ((8, 2), (16, 6)):
        fm = math.ceil(128 / stride)
        for y in range(fm):
            for x in range(fm):
                out += [((x + 0.5) / fm, (y + 0.5) / fm)] * repeats
    return np.array(out, dtype=np.float32)


class Models:
    def __init__(self, threads):
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        prov = ["CPUExecutionProvider"]
        self.det = ort.InferenceSession(os.path.join(MODELS, "blazeface_short.onnx"), so, providers=prov)
        self.mesh = ort.InferenceSession(os.path.join(MODELS, "face_mesh.onnx"), so, providers=prov)
        self.anchors = anchors_short()
        self.model_seconds = 0.0

    def run(self, sess, x):
        t = time.perf_counter()
        out = sess.run(None, {sess.get_inputs()[0].name: x})
        self.model_seconds += time.perf_counter() - t
        return out


def weighted_nms(boxes, scores, kps, iou_thr=0.3):
    order = np.argsort(-scores)
    boxes, scores, kps = boxes[order], scores[order], kps[order]
    faces = []
    used = np.zeros(len(scores), bool)
    for i in range(len(scores)):
        if used[i]:
            continue
        x0 = np.maximum(boxes[i, 0], boxes[:, 0])
        y0 = np.maximum(boxes[i, 1], boxes[:, 1])
        x1 = np.minimum(boxes[i, 2], boxes[:, 2])
        y1 = np.minimum(boxes[i, 3], boxes[:, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        iou = inter / (area[i] + area - inter + 1e-9)
        group = (~used) & (iou > iou_thr)
        used |= group
        w = scores[group][:, None]
        faces.append(
            ((boxes[group] * w).sum(0) / w.sum(), float(scores[i]), (kps[group] * w[:, :, None]).sum(0) / w.sum())
        )
    return faces


def detect(m, img):
    w, h = img.size
    side = max(w, h)
    canvas = Image.new("RGB", (side, side))
    ox, oy = (side - w) // 2, (side - h) // 2
    canvas.paste(img, (ox, oy))
    x = np.asarray(canvas.resize((128, 128), Image.BILINEAR), dtype=np.float32) / 127.5 - 1.0
    outs = m.run(m.det, x[None])
    scores = np.concatenate([o.reshape(-1) for o in outs if o.shape[-1] == 1])
    regs = np.concatenate([o.reshape(-1, 16) for o in outs if o.shape[-1] == 16])
    scores = 1.0 / (1.0 + np.exp(-np.clip(scores, -80, 80)))
    keep = scores >= 0.5
    if not keep.any():
        return []
    r, a, s = regs[keep] / 128.0, m.anchors[keep], scores[keep]
    cx, cy = r[:, 0] + a[:, 0], r[:, 1] + a[:, 1]
    boxes = np.stack([cx - r[:, 2] / 2, cy - r[:, 3] / 2, cx + r[:, 2] / 2, cy + r[:, 3] / 2], 1)
    kps = r[:, 4:].reshape(-1, 6, 2) + a[:, None, :]
    out = []
    for box, score, kp in weighted_nms(boxes, s, kps):
        box = box * side - np.array([ox, oy, ox, oy])
        kp = kp * side - np.array([ox, oy])
        out.append((box, score, kp))
    return out


def crop(img, center, side, angle, size):
    """Rotated square crop (bilinear) and its crop->image matrix."""
    s = side / size
    c, si = math.cos(angle) * s, math.sin(angle) * s
    hsz = size * 0.5 - 0.5
    a = np.array([[c, -si, center[0] - (c * hsz - si * hsz)], [si, c, center[1] - (si * hsz + c * hsz)]])
    coeffs = (a[0, 0], a[0, 1], a[0, 2] + 0.5 * (a[0, 0] + a[0, 1]) - 0.5,
              a[1, 0], a[1, 1], a[1, 2] + 0.5 * (a[1, 0] + a[1, 1]) - 0.5)
    return img.transform((size, size), Image.AFFINE, coeffs, resample=Image.BILINEAR), a


def mesh(m, img, box, kp):
    center = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    side = max(box[2] - box[0], box[3] - box[1]) * 1.5
    angle = math.atan2(kp[1, 1] - kp[0, 1], kp[1, 0] - kp[0, 0])
    patch, a = crop(img, center, side, angle, 192)
    x = np.asarray(patch, dtype=np.float32) / 255.0
    coords, flag = m.run(m.mesh, x[None])
    pts = coords.reshape(468, 3)
    xy = pts[:, :2] - 0.5
    img_xy = xy @ a[:, :2].T + a[:, 2]
    presence = 1.0 / (1.0 + math.exp(-float(np.clip(flag.reshape(-1)[0], -100, 100))))
    return img_xy, presence


def features(p):
    def dist(i, j):
        return float(np.linalg.norm(p[i] - p[j]))

    ear = (dist(159, 145) / max(dist(33, 133), 1e-6) + dist(386, 374) / max(dist(263, 362), 1e-6)) / 2
    mar = dist(13, 14) / max(dist(61, 291), 1e-6)
    width = dist(234, 454)
    return ear, mar, width


def similarity(src, dst):
    """Umeyama similarity src -> dst (2x3)."""
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    r = u @ vt
    if np.linalg.det(r) < 0:
        u[:, -1] *= -1
        r = u @ vt
    scale = sig.sum() / (s ** 2).sum() * len(src)
    t = md - scale * r @ ms
    return np.hstack([scale * r, t[:, None]])


def quality(img, pts, width):
    five = np.stack(
        [pts[RIGHT_EYE].mean(0), pts[LEFT_EYE].mean(0), pts[NOSE], pts[MOUTH_CORNERS[0]], pts[MOUTH_CORNERS[1]]]
    )
    a = similarity(TEMPLATE, five)  # aligned crop -> image
    coeffs = tuple(a.reshape(-1))
    face = np.asarray(img.transform((112, 112), Image.AFFINE, coeffs, resample=Image.BILINEAR), dtype=np.float32)
    y = face @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    lap = y[1:-1, :-2] + y[1:-1, 2:] + y[:-2, 1:-1] + y[2:, 1:-1] - 4 * y[1:-1, 1:-1]
    sharp = min(max((math.log(float(lap.var()) + 1.0) - 2.5) / 3.0, 0.0), 1.0)
    mean = float(y.mean())
    clipped = float(((y < 8) | (y > 247)).mean())
    exposure = min(max(1 - abs(mean - 128) / 110 - 2 * clipped, 0.0), 1.0)
    size = min(max(width / 120.0, 0.0), 1.0)
    return 100 * (0.2 * size + 0.25 * sharp + 0.3 * exposure + 0.25)


def frame(m, img):
    faces = detect(m, img)
    if len(faces) != 1:
        return False
    box, _, kp = faces[0]
    pts, presence = mesh(m, img, box, kp)
    if presence < 0.5:
        return False
    ear, mar, width = features(pts)
    quality(img, pts, width)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    names = sorted(f for f in os.listdir(args.frames) if f.lower().endswith((".jpg", ".jpeg", ".png", ".bmp")))
    if not names:
        sys.exit(f"peer: no image files in {args.frames}")
    imgs = [Image.open(os.path.join(args.frames, f)).convert("RGB") for f in names]
    for im in imgs:
        im.load()
    m = Models(args.threads)
    warm = min(100, args.iterations)
    found = 0
    for i in range(warm):
        found += frame(m, imgs[i % len(imgs)])
    m.model_seconds = 0.0
    t0 = time.perf_counter()
    for i in range(warm, args.iterations):
        found += frame(m, imgs[i % len(imgs)])
    wall = time.perf_counter() - t0
    n = args.iterations - warm
    report = {
        "peer": "python",
        "frames_dir": args.frames,
        "distinct_frames": len(imgs),
        "ort_intra_threads": args.threads,
        "pipeline_frames": args.iterations,
        "pipeline_fps": n / wall,
        "pipeline_ms_per_frame": wall * 1e3 / n,
        "model_ms_per_frame": m.model_seconds * 1e3 / n,
        "outside_models_share": max(wall - m.model_seconds, 0.0) / wall,
        "faces_found_share": found / args.iterations,
        "versions": {"onnxruntime": ort.__version__, "numpy": np.__version__, "Pillow": Image.__version__},
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"python peer: {report['pipeline_fps']:.1f} frames/s, {report['pipeline_ms_per_frame']:.2f} ms/frame, "
            f"models {report['model_ms_per_frame']:.2f} ms, outside the models {100 * report['outside_models_share']:.1f}%"
        )


if __name__ == "__main__":
    main()
