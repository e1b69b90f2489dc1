"""Builds faceapi_resnet.onnx: face-api.js's FaceRecognitionNet (dlib's
ResNet-34 face descriptor, 150x150 chip, 128-d) as an ONNX graph, from the
TF.js weights in @vladmandic/face-api, and checks it against face-api.js.

The graph follows face-api.js's forward pass: (x - mean RGB) / 255; conv 7x7/2
+ max pool 3/2; residual blocks (conv, per-channel scale, ReLU); the four
down-sampling blocks add a 2x2 average pool of their input, zero-padded in
channels and, where the strided convolution gives a smaller map, the
convolution's output zero-padded on the bottom and right; global mean;
fully connected 256 -> 128. Each convolution's bias and scale layer are
folded into it. uint8-quantised weights are dequantised as TF.js does
(min + scale * q).

Input: NCHW RGB 0..255 [N, 3, 150, 150]. Output: [N, 128].
"""
import argparse
import json
import os
import subprocess
import tarfile
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

MEAN_RGB = [122.782, 117.001, 104.298]
MANIFEST = "package/model/face_recognition_model-weights_manifest.json"
WEIGHTS = "package/model/face_recognition_model.bin"


def load_weights(manifest, data):
    out, off = {}, 0
    for group in manifest:
        for w in group["weights"]:
            n = int(np.prod(w["shape"]))
            q = w.get("quantization")
            if q:
                if q["dtype"] != "uint8":
                    raise SystemExit(f"{w['name']}: unsupported quantisation {q['dtype']}")
                v = np.frombuffer(data, np.uint8, n, off).astype(np.float32)
                v = v * np.float32(q["scale"]) + np.float32(q["min"])
                off += n
            else:
                v = np.frombuffer(data, np.float32, n, off).copy()
                off += 4 * n
            out[w["name"]] = v.reshape(w["shape"]).astype(np.float32)
    if off != len(data):
        raise SystemExit(f"weights: read {off} of {len(data)} bytes")
    return out


class Graph:
    def __init__(self, weights):
        self.w, self.nodes, self.inits = weights, [], []

    def const(self, name, arr, dtype=np.float32):
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype), name))
        return name

    def node(self, op, inputs, out, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def conv(self, x, prefix, stride, relu, name):
        f = self.w[prefix + "/conv/filters"]  # HWIO
        s = self.w[prefix + "/scale/weights"]
        kernel = np.transpose(f, (3, 2, 0, 1)) * s[:, None, None, None]
        bias = self.w[prefix + "/conv/bias"] * s + self.w[prefix + "/scale/biases"]
        k = f.shape[0]
        pad = 0 if stride == 2 else k // 2
        y = self.node("Conv", [x, self.const(name + "_w", kernel), self.const(name + "_b", bias)],
                      name, strides=[stride, stride], pads=[pad] * 4, kernel_shape=[k, k])
        return self.node("Relu", [y], name + "_relu") if relu else y

    def residual(self, x, p):
        y = self.conv(x, p + "/conv1", 1, True, p + "_c1")
        y = self.conv(y, p + "/conv2", 1, False, p + "_c2")
        return self.node("Relu", [self.node("Add", [y, x], p + "_add")], p + "_out")

    def residual_down(self, x, p, channels, side):
        y = self.conv(x, p + "/conv1", 2, True, p + "_c1")
        y = self.conv(y, p + "/conv2", 1, False, p + "_c2")
        out_channels = self.w[p + "/conv2/conv/filters"].shape[3]
        conv_side, pool_side = (side - 3) // 2 + 1, side // 2
        pooled = self.node("AveragePool", [x], p + "_pool", kernel_shape=[2, 2], strides=[2, 2])
        if pool_side != conv_side:
            d = pool_side - conv_side
            y = self.node("Pad", [y, self.const(p + "_sp", [0, 0, 0, 0, 0, 0, d, d], np.int64)], p + "_spad")
        if out_channels != channels:
            extra = out_channels - channels
            pooled = self.node("Pad", [pooled, self.const(p + "_cp", [0, 0, 0, 0, 0, extra, 0, 0], np.int64)],
                               p + "_cpad")
        out = self.node("Relu", [self.node("Add", [y, pooled], p + "_add")], p + "_out")
        return out, out_channels, pool_side

    def build(self):
        mean = np.array(MEAN_RGB, np.float32).reshape(1, 3, 1, 1)
        x = self.node("Sub", ["input", self.const("mean_rgb", mean)], "centred")
        x = self.node("Mul", [x, self.const("inv255", np.float32(1 / 255))], "normed")
        x = self.conv(x, "conv32_down", 2, True, "conv32_down")
        x = self.node("MaxPool", [x], "max_pool", kernel_shape=[3, 3], strides=[2, 2])
        channels, side = 32, 35
        for stage, blocks in [("32", 3), ("64", 3), ("128", 2), ("256", 2)]:
            if stage != "32":
                x, channels, side = self.residual_down(x, f"conv{stage}_down", channels, side)
            for i in range(1, blocks + 1):
                x = self.residual(x, f"conv{stage}_{i}")
        x, channels, side = self.residual_down(x, "conv256_down_out", channels, side)
        x = self.node("ReduceMean", [x], "global_mean", axes=[2, 3], keepdims=0)
        self.node("MatMul", [x, self.const("fc", self.w["fc"])], "output")
        graph = helper.make_graph(
            self.nodes, "faceapi_resnet",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 150, 150])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 128])],
            self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                  producer_name="realface scripts/models/candidates")
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def parity(onnx_path, manifest_path, weights_path, script, work):
    """1 - cos between face-api.js and the ONNX graph on random and smooth inputs."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, 150, dtype=np.float32)
    smooth = np.stack([ramp[None, :].repeat(150, 0), ramp[:, None].repeat(150, 1),
                       np.full((150, 150), 128, np.float32)], -1)
    x = np.stack([rng.uniform(0, 255, (150, 150, 3)).astype(np.float32) for _ in range(3)] + [smooth])
    src, dst = os.path.join(work, "in.f32"), os.path.join(work, "out.f32")
    x.tofile(src)
    subprocess.run(["node", script, manifest_path, weights_path, src, dst, str(len(x))], check=True)
    ref = np.fromfile(dst, np.float32).reshape(len(x), 128)
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": x.transpose(0, 3, 1, 2).copy()})[0]
    cos = (ref * got).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(got, axis=1)
    return float((1 - cos).max())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--package", required=True, help="vladmandic-face-api-1.7.15.tgz")
    ap.add_argument("--parity-script", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="faceapi-resnet-")
    with tarfile.open(args.package) as tar:
        tar.extractall(work, members=[tar.getmember(MANIFEST), tar.getmember(WEIGHTS)], filter="data")
    manifest_path, weights_path = os.path.join(work, MANIFEST), os.path.join(work, WEIGHTS)
    with open(manifest_path) as f:
        manifest = json.load(f)
    with open(weights_path, "rb") as f:
        weights = load_weights(manifest, f.read())
    onnx.save(Graph(weights).build(), args.out)
    worst = parity(args.out, manifest_path, weights_path, args.parity_script, work)
    print(f"{args.out}: max 1 - cos to face-api.js {worst:.2e}")
    if worst > 1e-5:
        raise SystemExit("parity check failed")


if __name__ == "__main__":
    main()
