"""Inference releases the GIL: two threads on two cores do more than one.
The speed-up is measured and printed, never asserted (a shared machine is
noisy); what is asserted is that both threads get the same answers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

import realface


def test_two_threads_run_side_by_side(samples: Path) -> None:
    engine = realface.Engine(threads=2)
    img = engine.load(samples / "obama.jpg")
    want = engine.embed(img)
    n = 24

    def work(out: list) -> None:  # type: ignore[type-arg]
        for _ in range(n):
            out.append(engine.embed(img))

    one: list = []  # type: ignore[type-arg]
    t0 = time.perf_counter()
    work(one)
    single = time.perf_counter() - t0
    outs: list = [[], []]  # type: ignore[type-arg]
    threads = [threading.Thread(target=work, args=(o,)) for o in outs]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    double = time.perf_counter() - t0
    speedup = 2 * single / double
    print(f"\nGIL released: {n} embeds on 1 thread {single:.2f} s; {2 * n} on 2 threads "
          f"{double:.2f} s: {speedup:.2f}x the throughput (2 cores)")
    for o in [one, *outs]:
        assert len(o) == n and all(np.array_equal(e, want) for e in o)
