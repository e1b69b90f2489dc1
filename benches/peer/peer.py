"""The Python peer of realface's per-frame pipeline, written the way a lean
Python user would: OpenCV (`cv2.warpAffine`, `cv2.resize`, `cv2.Laplacian`)
for pixels, numpy for maths, onnxruntime for the same ONNX files, the detector
on every frame, and the same per-frame work as a realface session.

Per frame: letterbox + BlazeFace short range (anchor decode, weighted NMS),
mesh crop rotated to level the eyes + Face Mesh, eye/mouth ratios, both eyes'
24x24 grey crops + the eye-state model, the aligned 112x112 face (Laplacian
sharpness, exposure: the quality figure), the default matcher's embedding
(w600k_mbf) of the first face frame and every 5th, and every 100 ms (frames
stamped 33 ms apart, as `realface bench` does) the session's three passive models:
fr_liveness on a 128x128 BGR crop of 2.7x the face box, MiniFASNetV2 (80x80,
2.7x) and MiniFASNetV1SE (80x80, 4.0x). `--pad-models fr` runs fr_liveness
alone (the peer before the MiniFASNets joined the session).

    python peer.py --frames DIR [--threads 1] [--iterations 2000] [--json]

Prints frames/s and the share of time outside the models, measured like
`realface bench` (after 100 warm-up frames), and each step's median time
(`stages`, the model call with its pre- and post-processing).
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
import cv2

cv2.setNumThreads(1)

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
        self.eye = ort.InferenceSession(os.path.join(MODELS, "fr_eye.onnx"), so, providers=prov)
        self.pad = ort.InferenceSession(os.path.join(MODELS, "fr_liveness.onnx"), so, providers=prov)
        self.mf_v2 = ort.InferenceSession(os.path.join(MODELS, "minifasnet_v2.onnx"), so, providers=prov)
        self.mf_v1se = ort.InferenceSession(os.path.join(MODELS, "minifasnet_v1se.onnx"), so, providers=prov)
        self.rec = ort.InferenceSession(os.path.join(MODELS, "w600k_mbf.onnx"), so, providers=prov)
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
    h, w = img.shape[:2]
    side = max(w, h)
    ox, oy = (side - w) / 2, (side - h) / 2
    # letterbox and resize in one affine warp (output pixel -> image)
    k = side / 128.0
    to_img = np.array([[k, 0, 0.5 * k - 0.5 - ox], [0, k, 0.5 * k - 0.5 - oy]])
    x = cv2.warpAffine(img, to_img, (128, 128), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    x = x.astype(np.float32) * (1.0 / 127.5) - 1.0
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
    patch = cv2.warpAffine(img, a, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    return patch, a


def mesh(m, img, box, kp):
    center = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    side = max(box[2] - box[0], box[3] - box[1]) * 1.5
    angle = math.atan2(kp[1, 1] - kp[0, 1], kp[1, 0] - kp[0, 0])
    patch, a = crop(img, center, side, angle, 192)
    x = patch.astype(np.float32) * (1.0 / 255.0)
    coords, flag = m.run(m.mesh, x[None])
    pts = coords.reshape(468, 3)
    xy = pts[:, :2] - 0.5
    img_xy = xy @ a[:, :2].T + a[:, 2]
    presence = 1.0 / (1.0 + math.exp(-float(np.clip(flag.reshape(-1)[0], -100, 100))))
    return img_xy, presence


EYES = ([33, 133, 160, 158, 144, 153], [263, 362, 387, 385, 373, 380])


def eyes_closed(m, grey, p):
    """P(both closed): the eye model on each eye's 24x24 crop (1.6x the eye
    width, centred on the lids, rotated with the eye line)."""
    probs = []
    for idx in EYES:
        a, b = p[idx[0]], p[idx[1]]
        c = p[idx[2:]].mean(0)
        d = b - a if b[0] >= a[0] else a - b
        width = float(np.hypot(d[0], d[1]))
        u = d / width if width > 1e-3 else np.array([1.0, 0.0])
        step = max(width * 1.6, 1.0) / 24
        # output pixel (col, row) -> image: c + ((col + 0.5) * step - side/2) * u + (...) * perp
        half = 12 * step
        mat = np.array(
            [
                [u[0] * step, -u[1] * step, c[0] + (0.5 * step - half) * (u[0] - u[1])],
                [u[1] * step, u[0] * step, c[1] + (0.5 * step - half) * (u[1] + u[0])],
            ]
        )
        crop_ = cv2.warpAffine(grey, mat, (24, 24), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        x = (crop_.astype(np.float32) * (1.0 / 255.0))[None, None]
        out = m.run(m.eye, x)[0].reshape(-1)
        e = np.exp(out - out.max())
        probs.append(float(e[0] / e.sum()))
    return min(probs)


def pad_real(m, sess, bgr, box, scale=2.7, size=128, real=0):
    """P(real) of one passive model: a `size`-pixel BGR crop of `scale` times
    the face box (shrunk to fit, shifted inside the frame), raw 0..255 NCHW."""
    h, w = bgr.shape[:2]
    bw, bh = max(box[2] - box[0], 1.0), max(box[3] - box[1], 1.0)
    scale = max(min(scale, (h - 1) / bh, (w - 1) / bw), 0.0)
    nw, nh = bw * scale, bh * scale
    cx, cy = box[0] + bw / 2, box[1] + bh / 2
    x0 = max(min(cx - nw / 2, w - 1 - nw), 0.0)
    y0 = max(min(cy - nh / 2, h - 1 - nh), 0.0)
    sx, sy = nw / size, nh / size
    mat = np.array([[sx, 0, x0 + 0.5 * sx - 0.5], [0, sy, y0 + 0.5 * sy - 0.5]])
    patch = cv2.warpAffine(bgr, mat, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    x = np.ascontiguousarray(patch.transpose(2, 0, 1)[None], dtype=np.float32)
    out = m.run(sess, x)[0].reshape(-1)
    e = np.exp(out - out.max())
    return float(e[real] / e.sum())


def passive(m, bgr, box, models):
    """The session's passive scores: fr_liveness, and the MiniFASNets' mean."""
    fr = pad_real(m, m.pad, bgr, box)
    if models == "fr":
        return fr, None
    v2 = pad_real(m, m.mf_v2, bgr, box, 2.7, 80, 1)
    v1se = pad_real(m, m.mf_v1se, bgr, box, 4.0, 80, 1)
    return fr, 0.5 * (v2 + v1se)


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
    face = cv2.warpAffine(img, a, (112, 112), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    y = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lap = cv2.Laplacian(y[14:-14, 14:-14], cv2.CV_32F, ksize=1)
    sharp_raw = math.log(float(lap.var()) + 1.0)
    sharp = min(max((sharp_raw - 2.5) / 3.0, 0.0), 1.0)
    mean = float(y.mean())
    clipped = float(((y < 8) | (y > 247)).mean())
    exposure = min(max(1 - abs(mean - 128) / 110 - 2 * clipped, 0.0), 1.0)
    size = min(max(width / 120.0, 0.0), 1.0)
    return 100 * (0.2 * size + 0.25 * sharp + 0.3 * exposure + 0.25), sharp_raw, face


def embed(m, face):
    """The default matcher's embedding (w600k_mbf) of the aligned 112x112 RGB
    face, L2-normalised. realface also refines the alignment with SCRFD's
    keypoints first (about 3 ms more): the peer skips that."""
    x = (np.ascontiguousarray(face.transpose(2, 0, 1)[None], dtype=np.float32) - 127.5) / 127.5
    v = m.run(m.rec, x)[0].reshape(-1)
    return v / max(float(np.linalg.norm(v)), 1e-12)


class Frame:
    """Per-frame state a session keeps: when the passive models last ran;
    and each step's times."""

    def __init__(self, pad_models, pad_every=1, embed_every=1):
        self.pad_models = pad_models
        self.pad_every = max(1, pad_every)
        self.embed_every = max(1, embed_every)
        self.last_tick = None
        self.ticks = 0
        self.embeds_due = 0
        self.pads = []
        self.times = {}
        self.face_frames = 0

    def timed(self, stage, f, *args):
        t = time.perf_counter()
        out = f(*args)
        self.times.setdefault(stage, []).append((time.perf_counter() - t) * 1e3)
        return out

    def __call__(self, m, img, bgr, grey, t_ms):
        faces = self.timed("detect", detect, m, img)
        if len(faces) != 1:
            return False
        box, _, kp = faces[0]
        pts, presence = self.timed("mesh", mesh, m, img, box, kp)
        if presence < 0.5:
            return False
        ear, mar, width = features(pts)
        closed = self.timed("eye_state", eyes_closed, m, grey, pts)
        _, _, face = self.timed("quality", quality, img, pts, width)
        # a session embeds its first face frame and every 5th, thinned to
        # every embed_every-th of those by its analysis schedule
        self.face_frames += 1
        if self.face_frames == 1 or self.face_frames % 5 == 0:
            if self.face_frames == 1 or self.embeds_due % self.embed_every == 0:
                self.timed("embed", embed, m, face)
            self.embeds_due += 1
        # the passive models on every pad_every-th tick of 100 ms
        if self.last_tick is None or t_ms - self.last_tick >= 100:
            if self.ticks % self.pad_every == 0:
                self.pads.append(self.timed("passive", passive, m, bgr, box, self.pad_models))
            self.ticks += 1
            self.last_tick = t_ms
        return closed is not None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--pad-models", choices=["all", "fr"], default="all")
    # the analysis schedule's steady-state rates (realface bench reports them)
    ap.add_argument("--pad-every", type=int, default=1)
    ap.add_argument("--embed-every", type=int, default=1)
    args = ap.parse_args()
    names = sorted(f for f in os.listdir(args.frames) if f.lower().endswith((".jpg", ".jpeg", ".png", ".bmp")))
    if not names:
        sys.exit(f"peer: no image files in {args.frames}")
    # decoded once, like realface bench: BGR as OpenCV reads it, plus the
    # RGB and grey views the models want (a camera hands over one of them)
    bgrs = [cv2.imread(os.path.join(args.frames, f), cv2.IMREAD_COLOR) for f in names]
    rgbs = [cv2.cvtColor(b, cv2.COLOR_BGR2RGB) for b in bgrs]
    greys = [cv2.cvtColor(b, cv2.COLOR_BGR2GRAY) for b in bgrs]
    m = Models(args.threads)
    frame = Frame(args.pad_models, args.pad_every, args.embed_every)
    warm = min(100, args.iterations)
    found = 0
    n_img = len(bgrs)
    for i in range(warm):
        j = i % n_img
        found += frame(m, rgbs[j], bgrs[j], greys[j], i * 33)
    m.model_seconds = 0.0
    frame.times = {}
    lat = []
    t0 = time.perf_counter()
    for i in range(warm, args.iterations):
        j = i % n_img
        t1 = time.perf_counter()
        found += frame(m, rgbs[j], bgrs[j], greys[j], i * 33)
        lat.append((time.perf_counter() - t1) * 1e3)
    wall = time.perf_counter() - t0
    lat.sort()
    q = lambda p: lat[round((len(lat) - 1) * p)]
    n = args.iterations - warm
    report = {
        "peer": "python",
        "frames_dir": args.frames,
        "distinct_frames": n_img,
        "ort_intra_threads": args.threads,
        "pipeline_frames": args.iterations,
        "pipeline_fps": n / wall,
        "pipeline_ms_per_frame": wall * 1e3 / n,
        "model_ms_per_frame": m.model_seconds * 1e3 / n,
        "outside_models_share": max(wall - m.model_seconds, 0.0) / wall,
        "faces_found_share": found / args.iterations,
        "pad_models": args.pad_models,
        "frame_latency_ms": {"p50": q(0.5), "p95": q(0.95), "p99": q(0.99), "max": q(1.0)},
        "stages": [
            {"stage": k, "median_ms": float(np.median(v)), "samples": len(v)} for k, v in frame.times.items()
        ],
        "versions": {"onnxruntime": ort.__version__, "numpy": np.__version__, "opencv": cv2.__version__},
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
