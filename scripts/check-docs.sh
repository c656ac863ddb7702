#!/usr/bin/env bash
# The documentation check: every relative link in README.md and the book (docs/src) must
# resolve (scripts/check-docs.py), then the book must build with mdBook.
#
#   scripts/check-docs.sh
#
# mdBook is installed on first use, pinned, into ${LAT_TOOLS_DIR:-~/.cache/lat/tools}/mdbook
# (`cargo install`, a few minutes on 2 cores; later runs reuse it). The HTML goes to a
# temporary directory and is thrown away: this checks the book, it does not publish it
# (`mdbook build docs` writes docs/book/, git-ignored). Without mdBook and without cargo
# to install it, the build step is skipped with a notice.
set -euo pipefail
cd "$(dirname "$0")/.."

MDBOOK_VERSION=0.5.4
tools=${LAT_TOOLS_DIR:-$HOME/.cache/lat/tools}/mdbook
mdbook=$tools/bin/mdbook

python3 scripts/check-docs.py

if [ ! -x "$mdbook" ] || ! "$mdbook" --version | grep -qF "v$MDBOOK_VERSION"; then
  if ! command -v cargo >/dev/null; then
    echo "check-docs: no mdbook at $mdbook and no cargo to install it: book build skipped" >&2
    exit 0
  fi
  echo "check-docs: installing mdbook $MDBOOK_VERSION into $tools" >&2
  # Only `mdbook build` is needed, so the serve and watch features (an HTTP stack and a
  # file watcher) are left out; search stays, as in a default build.
  cargo install --locked mdbook --version "$MDBOOK_VERSION" \
    --no-default-features --features search --root "$tools"
fi

out=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$out" "$log"' EXIT

if ! "$mdbook" build docs --dest-dir "$out" >"$log" 2>&1; then
  cat "$log" >&2
  echo "check-docs: mdbook build failed" >&2
  exit 1
fi
cat "$log"
if grep -q 'ERROR' "$log"; then
  echo "check-docs: mdbook reported errors" >&2
  exit 1
fi
echo "check-docs: the book builds ($(find "$out" -name '*.html' | wc -l) HTML pages)"
