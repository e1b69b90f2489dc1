#!/usr/bin/env bash
# The Python package (python/), as a user gets it:
#   build: `pip wheel ./python`: maturin (pinned in python/pyproject.toml,
#          from PyPI) builds the abi3 wheel with the models bundled, into
#          target/wheels/ (the Rust build shares target/ci with the rest).
#   test:  a fresh venv (target/py-venv), `pip install` of that wheel with
#          its test extra (numpy and onnxruntime 1.31.1 from PyPI, pytest,
#          mypy), then pytest on python/tests and mypy --strict on the
#          package, its stubs and examples/python.
# Needs scripts/setup.sh first (the models the wheel bundles).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
case "${1:-}" in
  build)
    rm -rf target/wheels
    python3 -m pip wheel -q --no-deps ./python -w target/wheels
    ls -l target/wheels
    ;;
  test)
    wheel=$(ls target/wheels/realface-*.whl)
    venv=target/py-venv
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q "$wheel[test]"
    "$venv/bin/python" -m pytest -q -s python/tests
    "$venv/bin/python" -m mypy --strict python/realface examples/python
    ;;
  *)
    echo "usage: $0 build|test" >&2
    exit 2
    ;;
esac
