"""Compare realface with a peer face matcher on a folder of images.

    python examples/python/compare_peers.py FOLDER [--peer face_recognition] [--roc roc.png]

FOLDER holds one sub-folder per person (``FOLDER/<person>/<image>``). Every
pair of images is scored by realface and, if it is installed, by the peer
(``face_recognition``, dlib's ResNet). Prints a table (images embedded, TAR
at the FARs the pair count supports, EER) and, with matplotlib installed,
saves both ROC curves. Images either side cannot embed are left out of
both, so the two score the same pairs.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

import realface

Embedder = Callable[[Path], Optional[npt.NDArray[np.float32]]]
Scored = Tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]


def realface_embedder(engine: realface.Engine) -> Embedder:
    def embed(p: Path) -> Optional[npt.NDArray[np.float32]]:
        try:
            return engine.embed(p)
        except realface.Error:
            return None
    return embed


def face_recognition_embedder() -> Optional[Embedder]:
    if importlib.util.find_spec("face_recognition") is None:
        return None
    import face_recognition  # type: ignore[import-not-found, unused-ignore]

    def embed(p: Path) -> Optional[npt.NDArray[np.float32]]:
        img = face_recognition.load_image_file(str(p))
        codes = face_recognition.face_encodings(img)
        if len(codes) != 1:
            return None
        v = np.asarray(codes[0], dtype=np.float32)
        return v  # compared by distance (see score)
    return embed


def images(folder: Path) -> List[Tuple[Path, str]]:
    out = []
    for person in sorted(p for p in folder.iterdir() if p.is_dir()):
        for f in sorted(person.iterdir()):
            if f.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp", ".webp"}:
                out.append((f, person.name))
    return out


def score(vecs: Sequence[npt.NDArray[np.float32]], ids: Sequence[str], cosine: bool) -> Scored:
    s, same = [], []
    for i, j in itertools.combinations(range(len(vecs)), 2):
        a, b = vecs[i], vecs[j]
        s.append(float(a @ b) if cosine else -float(np.linalg.norm(a - b)))
        same.append(ids[i] == ids[j])
    return np.asarray(s, dtype=np.float64), np.asarray(same, dtype=bool)


def roc(scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_],
        ) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    order = np.argsort(-scores)
    s = same[order]
    tar = np.cumsum(s) / max(int(s.sum()), 1)
    far = np.cumsum(~s) / max(int((~s).sum()), 1)
    return far.astype(np.float64), tar.astype(np.float64)


def tar_at(far: npt.NDArray[np.float64], tar: npt.NDArray[np.float64], level: float) -> float:
    ok = far <= level
    return float(tar[ok].max()) if ok.any() else 0.0


def eer(far: npt.NDArray[np.float64], tar: npt.NDArray[np.float64]) -> float:
    frr = 1.0 - tar
    i = int(np.argmin(np.abs(far - frr)))
    return float((far[i] + frr[i]) / 2)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--matcher", default=None, help="realface matcher (default: the library's)")
    ap.add_argument("--roc", type=Path, default=Path("roc.png"))
    args = ap.parse_args(argv)
    items = images(args.folder)
    if len(items) < 2:
        print(f"{args.folder}: need at least two images in per-person sub-folders", file=sys.stderr)
        return 2
    engine = realface.Engine(matcher=args.matcher)
    embedders: Dict[str, Tuple[Embedder, bool]] = {
        f"realface ({engine.matcher})": (realface_embedder(engine), True)}
    peer = face_recognition_embedder()
    if peer is not None:
        embedders["face_recognition (dlib)"] = (peer, False)
    else:
        print("face_recognition is not installed: realface alone", file=sys.stderr)
    vecs = {name: [e(p) for p, _ in items] for name, (e, _) in embedders.items()}
    keep = [i for i in range(len(items)) if all(v[i] is not None for v in vecs.values())]
    ids = [items[i][1] for i in keep]
    levels = [1e-1, 1e-2, 1e-3, 1e-4]
    print(f"{len(items)} images, {len(keep)} embedded by every matcher, "
          f"{len(set(ids))} people")
    print(f"{'matcher':32} " + " ".join(f"TAR@{lv:g}".rjust(10) for lv in levels) + "      EER")
    curves = {}
    for name, (_, cosine) in embedders.items():
        kept = [v for v in (vecs[name][i] for i in keep) if v is not None]
        s, same = score(kept, ids, cosine)
        far, tar = roc(s, same)
        curves[name] = (far, tar)
        n_imp = int((~same).sum())
        cells = [f"{tar_at(far, tar, lv):10.3f}" if n_imp * lv >= 1 else f"{'-':>10}" for lv in levels]
        print(f"{name:32} " + " ".join(cells) + f" {eer(far, tar):8.3f}")
    if importlib.util.find_spec("matplotlib") is not None:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for name, (far, tar) in curves.items():
            ax.plot(np.maximum(far, 1e-6), tar, label=name)
        ax.set_xscale("log")
        ax.set_xlabel("false accept rate")
        ax.set_ylabel("true accept rate")
        ax.legend()
        fig.savefig(args.roc, dpi=120, bbox_inches="tight")
        print(f"ROC -> {args.roc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
