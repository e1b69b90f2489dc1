#!/usr/bin/env python3
"""Independent golden values for realface's stage tests, from Google's own
MediaPipe pipeline (PyPI mediapipe==0.10.21, legacy `solutions` API, CPU) and the
original TFLite MobileFaceNet, on the face-recognition 1.3.0 sample photos.

    python3 -m venv .venv-golden && .venv-golden/bin/pip install mediapipe==0.10.21 \
        opencv-python-headless ai-edge-litert
    .venv-golden/bin/python scripts/golden/mediapipe_golden.py \
        --samples .samples --tflite-embedder PATH/MobileFaceNet.tflite --out tests/golden/samples.json

MediaPipe's detector here is `face_detection_short_range.tflite`; realface ships
the ONNX export of the same network from a different package, so the tests compare
with a tolerance, not for equality. The embedding reference aligns MediaPipe's
mesh points with OpenCV's `estimateAffinePartial2D` (least squares: LMEDS then Levenberg-Marquardt on the five inliers)
onto the ArcFace template and runs the original TFLite file.
"""
import argparse
import json

import cv2
import mediapipe as mp
import numpy as np

ARCFACE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
RIGHT_EYE = [33, 133, 159, 145]
LEFT_EYE = [263, 362, 386, 374]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", required=True)
    ap.add_argument("--tflite-embedder", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    interp = Interpreter(model_path=args.tflite_embedder)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]

    result = {"generator": "scripts/golden/mediapipe_golden.py", "mediapipe": mp.__version__, "images": {}}
    det = mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5)
    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False)
    for name in ["obama.jpg", "obama2.jpg", "biden.jpg"]:
        bgr = cv2.imread(f"{args.samples}/{name}")
        h, w = bgr.shape[:2]
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        d = det.process(rgb).detections[0]
        bb = d.location_data.relative_bounding_box
        kps = [[k.x * w, k.y * h] for k in d.location_data.relative_keypoints]
        m = mesh.process(rgb).multi_face_landmarks[0].landmark
        pts = np.array([[p.x * w, p.y * h] for p in m], dtype=np.float32)
        five = np.array(
            [pts[RIGHT_EYE].mean(0), pts[LEFT_EYE].mean(0), pts[1], pts[61], pts[291]], dtype=np.float32
        )
        # LMEDS keeps all five (good) points as inliers, then refines them with
        # Levenberg-Marquardt: the least-squares similarity.
        M, _ = cv2.estimateAffinePartial2D(five, ARCFACE, method=cv2.LMEDS)
        crop = cv2.warpAffine(rgb, M, (112, 112), flags=cv2.INTER_LINEAR)
        x = (crop.astype(np.float32) - 127.5) / 128.0
        batch = np.stack([x, x])
        interp.set_tensor(inp["index"], batch)
        interp.invoke()
        emb = interp.get_tensor(out["index"])[0]
        emb = emb / np.linalg.norm(emb)
        result["images"][name] = {
            "width": w,
            "height": h,
            "bbox": [bb.xmin * w, bb.ymin * h, bb.width * w, bb.height * h],
            "score": d.score[0],
            "keypoints": kps,
            "mesh_subset": {str(i): pts[i].tolist() for i in [1, 33, 61, 133, 152, 263, 291, 362]},
            "five_points": five.tolist(),
            "embedding": emb.tolist(),
        }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
