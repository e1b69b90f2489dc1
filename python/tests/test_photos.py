"""The photo pipeline decides as the CLI does, for every input form."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import realface
from conftest import run_cli

PAIRS = [("obama.jpg", "obama2.jpg", True), ("obama.jpg", "biden.jpg", False),
         ("obama2.jpg", "biden.jpg", False)]


def test_sample_photos_are_decided_as_the_cli_decides(engine: realface.Engine, samples: Path,
                                                      cli: Path) -> None:
    for a, b, same in PAIRS:
        m = engine.compare(samples / a, samples / b)
        want = run_cli(cli, ["compare", "--json", str(samples / a), str(samples / b)])
        assert abs(m.similarity - want["similarity"]) <= 1e-6, (a, b, m, want)
        assert m.same_person == want["same_person"] == same
        assert abs(m.threshold - want["threshold"]) <= 1e-6
        assert abs(m.score - want["score"]) <= 1e-4


def test_arrays_paths_bytes_and_bgr_give_the_same_embedding(engine: realface.Engine,
                                                            samples: Path) -> None:
    path = samples / "obama.jpg"
    rgb = engine.load(path)
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3
    by_path = engine.embed(path)
    by_str = engine.embed(str(path))
    by_array = engine.embed(rgb)
    by_bytes = engine.embed(path.read_bytes())
    by_bgr = engine.embed(np.ascontiguousarray(rgb[:, :, ::-1]), bgr=True)
    strided = engine.embed(rgb[:, :, ::-1], bgr=True)  # a view, not contiguous
    assert by_path.dtype == np.float32 and by_path.ndim == 1
    assert abs(float(np.linalg.norm(by_path)) - 1.0) < 1e-5
    for other in [by_str, by_array, by_bytes, by_bgr, strided]:
        assert np.allclose(by_path, other, atol=1e-6)
    # embeddings compare like their photos
    m = engine.compare(by_path, engine.embed(samples / "obama2.jpg"))
    assert m.same_person and abs(m.similarity - engine.compare(path, samples / "obama2.jpg").similarity) < 1e-6


def test_detect_and_quality(engine: realface.Engine, samples: Path) -> None:
    faces = engine.detect(samples / "biden.jpg")
    assert len(faces) == 1
    f = faces[0]
    assert 0.5 < f.score <= 1.0 and f.bbox[2] > 100 and len(f.keypoints) == 6
    assert f.to_dict()["bbox"]["w"] == f.bbox[2]
    q = engine.quality(samples / "biden.jpg")
    assert 0.0 <= q.score <= 100.0 and q.score > 50.0
    assert set(q.to_dict()) == {"score", "size", "sharpness", "exposure", "pose", "eyes"}


def test_the_matcher_and_far_are_chosen(samples: Path) -> None:
    e = realface.Engine(matcher="permissive", far=1e-3)
    assert e.matcher == "permissive" and e.far == 1e-3
    m = e.compare(samples / "obama.jpg", samples / "obama2.jpg")
    assert m.same_person and m.far_target == 1e-3
