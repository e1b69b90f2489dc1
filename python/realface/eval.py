"""The offline evaluation, as the CLI runs it (``realface eval match``,
``realface eval pad``), returning the same report as a dict. Images are
scored on all cores with the GIL released; a progress bar shows when tqdm is
installed (``progress=False`` turns it off)."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, Optional, Union

from . import _realface
from ._runtime import ort_library

PathLike = Union[str, "os.PathLike[str]"]


def _lines(path: PathLike) -> int:
    with open(path, encoding="utf-8") as f:
        return max(sum(1 for _ in f) - 1, 0)


def _bar(total: int, desc: str, progress: bool) -> "tuple[Optional[Callable[[], None]], Any]":
    if not progress:
        return None, None
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return None, None
    bar = tqdm(total=total, desc=desc)
    return (lambda: bar.update(1)), bar


def _opt(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else os.fspath(p)


def match(
    identities_csv: PathLike,
    root: Optional[PathLike] = None,
    pairs: Optional[PathLike] = None,
    split: str = "report",
    matcher: Optional[str] = None,
    flip: bool = False,
    threads: int = 0,
    models: Optional[PathLike] = None,
    progress: bool = True,
) -> Dict[str, Any]:
    """Face-match figures on a labelled set (``identities.csv``:
    ``path,identity``): TAR at each FAR, the EER, the ROC's area, FAR and TAR
    at the shipped threshold with a 95% bound. ``pairs``: a pairs CSV
    (``a,b,same``); otherwise all against all. ``split``: ``report`` (the
    held-out identities), ``calibration`` or ``all``."""
    tick, bar = _bar(_lines(identities_csv), "embedding", progress)
    try:
        text = _realface.eval_match(
            os.fspath(identities_csv), ort_library(), _opt(root), _opt(pairs), split, matcher,
            flip, threads, _opt(models), tick,
        )
    finally:
        if bar is not None:
            bar.close()
    out: Dict[str, Any] = json.loads(text)
    return out


def pad(
    labels_csv: PathLike,
    root: Optional[PathLike] = None,
    detector: str = "model",
    threads: int = 0,
    models: Optional[PathLike] = None,
    progress: bool = True,
) -> Dict[str, Any]:
    """ISO/IEC 30107-3 figures (APCER per species, BPCER, BPCER at APCER
    1%/5%, D-EER) of a passive detector (``model``, ``minifasnet``,
    ``both``, or an image cue) on a labelled set (``path,label``), with each
    image's score under ``scores``."""
    tick, bar = _bar(_lines(labels_csv), "scoring", progress)
    try:
        text = _realface.eval_pad(
            os.fspath(labels_csv), ort_library(), _opt(root), detector, threads, _opt(models), tick,
        )
    finally:
        if bar is not None:
            bar.close()
    out: Dict[str, Any] = json.loads(text)
    return out
