"""Where the ONNX Runtime shared library comes from: ``REALFACE_ORT_LIB`` if
set, else the ``onnxruntime`` wheel this package depends on (its
``capi/libonnxruntime.so.<version>``), at exactly the version the extension
was built against. Nothing is downloaded."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from pathlib import Path

from . import _realface
from ._errors import RuntimeUnavailableError


def ort_library() -> str:
    """The path of the ONNX Runtime library to load."""
    env = os.environ.get("REALFACE_ORT_LIB")
    if env:
        return env
    want = _realface.ORT_VERSION
    try:
        have = importlib.metadata.version("onnxruntime")
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeUnavailableError(
            f"the onnxruntime package is not installed (pip install onnxruntime=={want}), "
            "or set REALFACE_ORT_LIB"
        ) from None
    if have != want:
        raise RuntimeUnavailableError(
            f"onnxruntime {have} is installed; realface needs {want} "
            f"(pip install onnxruntime=={want}), or set REALFACE_ORT_LIB"
        )
    spec = importlib.util.find_spec("onnxruntime")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        lib = Path(loc) / "capi" / f"libonnxruntime.so.{want}"
        if lib.is_file():
            return str(lib)
    raise RuntimeUnavailableError(
        f"onnxruntime {have} is installed but holds no libonnxruntime.so.{want}"
    )
