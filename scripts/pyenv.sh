#!/usr/bin/env bash
# The Python side of tests/parity.rs: a venv in .venv-test/ (git-ignored)
# with onnxruntime 1.31.1, the version the library links, and numpy
# (tests/python/requirements.txt). On Python 3.11 the onnxruntime wheel is
# the one scripts/setup.sh fetched and checked by sha256; elsewhere pip
# fetches the same version from PyPI. Idempotent. Run by scripts/test.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
ORT_VERSION=1.31.1
venv=.venv-test
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
if "$py" -c "import onnxruntime, numpy, sys; sys.exit(onnxruntime.__version__ != '$ORT_VERSION')" 2>/dev/null; then
  exit 0
fi
"$py" -m pip install -q -r tests/python/requirements.txt
wheel=.runtime/downloads/onnxruntime-$ORT_VERSION-cp311-cp311-manylinux_2_28_x86_64.whl
if "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' && [ -f "$wheel" ]; then
  "$py" -m pip install -q --no-deps "$wheel"
else
  "$py" -m pip install -q --no-deps "onnxruntime==$ORT_VERSION"
fi
"$py" -c "import onnxruntime; print('pyenv: onnxruntime', onnxruntime.__version__, 'in $venv')"
