"""eval.match / eval.pad give the CLI's figures on the same (small) sets."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, List

import realface
from conftest import run_cli


def close(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-6 (the CLI prints f32 figures in their shortest
    form, the package passes them through f64)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b))
    return bool(a == b)


def subset(src: Path, dst: Path, keep: int, key: str) -> Path:
    """The first rows of `keep` distinct `key` values of a labelled CSV."""
    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    seen: List[str] = []
    out = []
    for r in rows:
        if r[key] not in seen:
            if len(seen) == keep:
                continue
            seen.append(r[key])
        out.append(r)
    with open(dst, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(out)
    return dst


def test_match_report_equals_the_cli(data: Path, cli: Path, tmp_path: Path) -> None:
    faces = data / "faces"
    ids = subset(faces / "identities.csv", tmp_path / "ids.csv", 12, "identity")
    report = realface.eval.match(ids, root=faces, split="all", progress=False)
    want = run_cli(cli, ["eval", "match", "--identities", str(ids), "--root", str(faces),
                         "--split", "all", "--all-vs-all", "--out", str(tmp_path / "cli")])
    for k in ["n_images", "n_failed", "n_genuine", "n_impostor", "auc", "eer",
              "default_threshold", "false_accepts_at_default_threshold",
              "tar_at_default_threshold", "matcher", "mode"]:
        assert close(report[k], want[k]), k
    assert report["n_genuine"] > 0 and report["n_impostor"] > 0


def test_pad_report_equals_the_cli(data: Path, cli: Path, tmp_path: Path) -> None:
    spoof = data / "spoof"
    labels = tmp_path / "labels.csv"
    with open(spoof / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    by_label: dict = {}  # type: ignore[type-arg]
    for r in rows:
        by_label.setdefault(r["label"], []).append(r)
    picked = [r for rs in by_label.values() for r in rs[:6]]
    with open(labels, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(picked)
    report = realface.eval.pad(labels, root=spoof, detector="model", progress=False)
    want = run_cli(cli, ["eval", "pad", "--labels", str(labels), "--root", str(spoof),
                         "--detector", "model", "--out", str(tmp_path / "cli")])
    assert len(report["scores"]) == len(picked)
    for k in want:
        assert close(report[k], want[k]), (k, report[k], want[k])
