"""MiniFASNet (Minivision Silent-Face-Anti-Spoofing, Apache-2.0) to ONNX.

The project's own conversion: the ONNX graph is built here, node by node,
from the checkpoint's state dict alone (every layer's shape, channel count
and group count is read from its weights; batch norms are folded into the
convolutions before them). Nothing of upstream's code is copied. The parity
check then runs upstream's PyTorch network (read from the shared folder's
`reference/` at check time only) on real face crops from the shared data and
on random inputs, and compares logits and softmax with ONNX Runtime's.

    python minifasnet.py --weights DIR --out MODELS_DIR --realface BIN --images PHOTO...

writes minifasnet_v2.onnx (2.7x crop) and minifasnet_v1se.onnx (4.0x crop)
and prints a JSON record per model for models/manifest.json.
"""

import argparse
import hashlib
import importlib.util
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

EPS = 1e-5  # torch BatchNorm default


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Graph:
    """A growing ONNX graph with unique names."""

    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def const(self, base, array):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), n))
        return n

    def op(self, kind, inputs, **attrs):
        out = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out


def fold(sd, conv, bn):
    """Conv weight (no bias) followed by batch norm `bn` -> (weight, bias)."""
    w = sd[conv].astype(np.float64)
    g, b = sd[bn + ".weight"], sd[bn + ".bias"]
    mean, var = sd[bn + ".running_mean"], sd[bn + ".running_var"]
    scale = g / np.sqrt(var + EPS)
    w = w * scale.reshape(-1, *([1] * (w.ndim - 1)))
    return w, b - mean * scale


def conv(g, sd, x, prefix, stride, bn="bn", act=True):
    """A convolution block: conv + folded batch norm (+ PReLU)."""
    w, b = fold(sd, prefix + ".conv.weight", prefix + "." + bn)
    out_c, in_per_group, k, _ = w.shape
    groups = 1 if in_per_group != 1 or out_c == 1 else out_c
    y = g.op(
        "Conv",
        [x, g.const("w", w), g.const("b", b)],
        kernel_shape=[k, k],
        strides=[stride, stride],
        pads=[k // 2] * 4 if k == 3 else [0] * 4,
        group=groups,
    )
    if act:
        slope = sd[prefix + ".prelu.weight"].reshape(-1, 1, 1)
        y = g.op("PRelu", [y, g.const("slope", slope)])
    return y


def se(g, sd, x, prefix):
    """Squeeze-excitation: channel weights from the pooled map."""
    p = g.op("GlobalAveragePool", [x])
    w1, b1 = fold(sd, prefix + ".fc1.weight", prefix + ".bn1")
    p = g.op("Conv", [p, g.const("w", w1), g.const("b", b1)], kernel_shape=[1, 1])
    p = g.op("Relu", [p])
    w2, b2 = fold(sd, prefix + ".fc2.weight", prefix + ".bn2")
    p = g.op("Conv", [p, g.const("w", w2), g.const("b", b2)], kernel_shape=[1, 1])
    p = g.op("Sigmoid", [p])
    return g.op("Mul", [x, p])


def depthwise(g, sd, x, prefix, stride, residual):
    """Expand (1x1), depthwise (3x3), project (1x1, linear) [+ SE] [+ skip]."""
    y = conv(g, sd, x, prefix + ".conv", 1)
    y = conv(g, sd, y, prefix + ".conv_dw", stride)
    y = conv(g, sd, y, prefix + ".project", 1, act=False)
    if prefix + ".se_module.fc1.weight" in sd:
        y = se(g, sd, y, prefix + ".se_module")
    return g.op("Add", [x, y]) if residual else y


def blocks(sd, stage):
    """Indices of a residual stage's blocks, in order."""
    idx = {int(k.split(".")[2]) for k in sd if k.startswith(stage + ".model.")}
    return sorted(idx)


def build(sd, name):
    """The whole network as an ONNX model: [1,3,80,80] BGR 0-255 -> 3 logits."""
    g = Graph()
    x = "input"
    x = conv(g, sd, x, "conv1", 2)
    x = conv(g, sd, x, "conv2_dw", 1)
    x = depthwise(g, sd, x, "conv_23", 2, False)
    for i in blocks(sd, "conv_3"):
        x = depthwise(g, sd, x, f"conv_3.model.{i}", 1, True)
    x = depthwise(g, sd, x, "conv_34", 2, False)
    for i in blocks(sd, "conv_4"):
        x = depthwise(g, sd, x, f"conv_4.model.{i}", 1, True)
    x = depthwise(g, sd, x, "conv_45", 2, False)
    for i in blocks(sd, "conv_5"):
        x = depthwise(g, sd, x, f"conv_5.model.{i}", 1, True)
    x = conv(g, sd, x, "conv_6_sep", 1)
    x = conv(g, sd, x, "conv_6_dw", 1, act=False)  # 5x5 depthwise over the 5x5 map
    x = g.op("Flatten", [x], axis=1)
    # embedding (no bias), 1-D batch norm, dropout (identity at inference)
    lin = sd["linear.weight"].astype(np.float64)
    bn_g, bn_b = sd["bn.weight"], sd["bn.bias"]
    bn_m, bn_v = sd["bn.running_mean"], sd["bn.running_var"]
    scale = bn_g / np.sqrt(bn_v + EPS)
    x = g.op("Gemm", [x, g.const("w", lin * scale[:, None]), g.const("b", bn_b - bn_m * scale)], transB=1)
    prob = sd["prob.weight"]
    x = g.op("Gemm", [x, g.const("w", prob), g.const("b", np.zeros(prob.shape[0]))], transB=1)
    g.nodes.append(helper.make_node("Identity", [x], ["output"]))
    graph = helper.make_graph(
        g.nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 80, 80])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, prob.shape[0]])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="realface minifasnet.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def load_state_dict(path):
    import torch

    sd = torch.load(path, map_location="cpu", weights_only=True)
    return {k[7:] if k.startswith("module.") else k: v for k, v in sd.items()}


def upstream(reference_dir, kind, sd):
    """Upstream's PyTorch network, imported from the shared folder for the check."""
    import torch

    spec = importlib.util.spec_from_file_location("minifasnet_upstream", os.path.join(reference_dir, "MiniFASNet.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    net = getattr(mod, kind)(conv6_kernel=(5, 5))
    net.load_state_dict({k: torch.as_tensor(v) for k, v in sd.items()})
    return net.eval()


def crop_box(box, w, h, scale):
    """The face box scaled about its centre, shrunk to fit, shifted inside."""
    x, y, bw, bh = box
    s = min(scale, (h - 1) / bh, (w - 1) / bw)
    nw, nh = bw * s, bh * s
    cx, cy = x + bw / 2, y + bh / 2
    x0 = max(0.0, min(cx - nw / 2, w - 1 - nw))
    y0 = max(0.0, min(cy - nh / 2, h - 1 - nh))
    return x0, y0, nw, nh


def crops(realface, images, scale):
    """Real 80x80 BGR crops (float 0-255) of the faces realface finds."""
    import subprocess

    from PIL import Image

    out = []
    for p in images:
        r = subprocess.run([realface, "--largest-face", "detect", "--json", p], capture_output=True, text=True)
        if r.returncode != 0:
            continue
        faces = json.loads(r.stdout)["faces"]
        if not faces:
            continue
        img = Image.open(p).convert("RGB")
        x0, y0, cw, ch = crop_box(faces[0]["bbox"], img.width, img.height, float(scale))
        c = img.resize((80, 80), Image.BILINEAR, box=(x0, y0, x0 + cw, y0 + ch))
        rgb = np.asarray(c, dtype=np.float32)
        out.append(rgb[:, :, ::-1].transpose(2, 0, 1)[None].copy())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True, help="folder with the .pth files, SHA256SUMS, reference/")
    ap.add_argument("--out", required=True)
    ap.add_argument("--realface", required=True, help="the realface binary (finds the faces to crop)")
    ap.add_argument("--images", nargs="+", required=True, help="photos of real and attack faces for the parity check")
    a = ap.parse_args()
    import onnxruntime as ort
    import torch

    sums = dict(reversed(l.split()) for l in open(os.path.join(a.weights, "SHA256SUMS")) if l.strip())
    jobs = [
        ("2.7_80x80_MiniFASNetV2.pth", "MiniFASNetV2", "minifasnet_v2.onnx", "2.7"),
        ("4_0_0_80x80_MiniFASNetV1SE.pth", "MiniFASNetV1SE", "minifasnet_v1se.onnx", "4.0"),
    ]
    records = []
    for pth, kind, out_name, scale in jobs:
        src = os.path.join(a.weights, pth)
        digest = sha256(src)
        if sums.get(pth, sums.get("./" + pth)) != digest:
            sys.exit(f"{pth}: sha256 {digest} does not match SHA256SUMS")
        sd = {k: v.numpy() for k, v in load_state_dict(src).items() if v.dtype.is_floating_point}
        model = build(sd, kind)
        out = os.path.join(a.out, out_name)
        onnx.save(model, out)
        net = upstream(os.path.join(a.weights, "reference"), kind, sd)
        sess = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(7)
        inputs = crops(a.realface, a.images, scale) + [rng.uniform(0, 255, (1, 3, 80, 80)).astype(np.float32) for _ in range(8)]
        if len(inputs) < 12:
            sys.exit(f"too few real face crops for {scale}")
        max_logit, max_prob = 0.0, 0.0
        for x in inputs:
            with torch.no_grad():
                ref = net(torch.from_numpy(x)).numpy()
            got = sess.run(None, {"input": x})[0]
            sm = lambda v: np.exp(v - v.max()) / np.exp(v - v.max()).sum()
            max_logit = max(max_logit, float(np.abs(ref - got).max()))
            max_prob = max(max_prob, float(np.abs(sm(ref[0]) - sm(got[0])).max()))
        if max_prob > 1e-4:
            sys.exit(f"{out_name}: ONNX differs from PyTorch by {max_prob} in softmax")
        records.append(
            {
                "name": out_name[:-5],
                "file": out_name,
                "role": f"passive anti-spoofing, 80x80 crop of {scale}x the face box, NCHW BGR raw 0..255, softmax index 1 = real",
                "source": {
                    "repository": "minivision-ai/Silent-Face-Anti-Spoofing",
                    "commit": "b6d5f04ad78778917853b25c778acef6d5626d15",
                    "path": f"resources/anti_spoof_models/{pth}",
                    "sha256": digest,
                    "via": "../shared/models/minifasnet/",
                },
                "license": "Apache-2.0 (upstream LICENSE, models/LICENSE-minifasnet); derived file: ONNX conversion",
                "conversion": [
                    "scripts/models/minifasnet.py: ONNX graph built from the state dict (batch norms folded into convolutions and the embedding), opset 17",
                    f"parity vs upstream PyTorch on {len(inputs) - 8} real crops and 8 random inputs: max |logit diff| {max_logit:.2e}, max |softmax diff| {max_prob:.2e}",
                ],
                "sha256": sha256(out),
                "bytes": os.path.getsize(out),
                "inputs": [{"name": "input", "shape": [1, 3, 80, 80]}],
                "outputs": [{"name": "output", "shape": [1, 3]}],
            }
        )
    print(json.dumps(records, indent=2))


if __name__ == "__main__":
    main()
