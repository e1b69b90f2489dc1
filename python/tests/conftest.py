"""Shared fixtures. The evaluation data is read from REALFACE_DATA or
../shared/data beside the repository; under CI (CI set) a missing data set
or CLI binary fails the tests instead of skipping them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Iterator, List

import pytest

import realface

ROOT = Path(__file__).resolve().parents[2]


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing (CI needs it)")
    pytest.skip(f"{what} is missing")


@pytest.fixture(scope="session")
def engine() -> Iterator[realface.Engine]:
    yield realface.Engine()


@pytest.fixture(scope="session")
def samples() -> Path:
    d = ROOT / ".samples"
    if not (d / "obama.jpg").is_file():
        _missing(f"{d} (scripts/setup.sh)")
    return d


@pytest.fixture(scope="session")
def data() -> Path:
    d = Path(os.environ.get("REALFACE_DATA", ROOT.parent / "shared" / "data"))
    if not (d / "faces" / "identities.csv").is_file():
        _missing(f"the evaluation data at {d}")
    return d


@pytest.fixture(scope="session")
def cli() -> Path:
    for c in [os.environ.get("REALFACE_CLI", ""), ROOT / "target/ci/realface",
              ROOT / "target/release/realface"]:
        if c and Path(c).is_file():
            return Path(c)
    _missing("the realface CLI (cargo build --profile ci)")
    raise AssertionError("unreachable")


def run_cli(cli: Path, args: List[str]) -> Any:
    """The CLI's JSON output."""
    import json

    out = subprocess.run([str(cli), *args], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)
