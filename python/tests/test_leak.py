"""No leak: the resident set after 10k compare calls is within a few MB of
what it was after 1k."""

from __future__ import annotations

import os
from pathlib import Path

import realface


def rss_kb() -> int:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def test_ten_thousand_compares_do_not_grow_memory(engine: realface.Engine,
                                                  samples: Path) -> None:
    a = engine.embed(samples / "obama.jpg")
    b = engine.embed(samples / "biden.jpg")
    for _ in range(1_000):
        engine.compare(a, b)
    after_1k = rss_kb()
    for _ in range(9_000):
        engine.compare(a, b)
    after_10k = rss_kb()
    grew = after_10k - after_1k
    print(f"\nRSS after 1k compares {after_1k / 1024:.1f} MB, after 10k {after_10k / 1024:.1f} MB")
    assert grew < 4 * 1024, f"grew {grew} kB over 9k calls"


def test_repeated_photo_calls_do_not_grow_memory(engine: realface.Engine,
                                                 samples: Path) -> None:
    img = engine.load(samples / "obama2.jpg")
    for _ in range(30):
        engine.compare(img, img)
    before = rss_kb()
    for _ in range(200):
        engine.compare(img, img)
    grew = rss_kb() - before
    assert grew < 8 * 1024, f"grew {grew} kB over 200 photo compares"
