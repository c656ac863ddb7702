#!/usr/bin/env bash
# Validates openapi.yaml against the OpenAPI 3.0 specification (CI runs this). The
# validator comes from PyPI into a virtual environment outside the clone, made on the
# first run and reused after; nothing here is a runtime dependency of lat.
#
#   scripts/check-openapi.sh
#
# LAT_TOOLS_DIR moves the tool cache (default ~/.cache/lat/tools).
set -euo pipefail
cd "$(dirname "$0")/.."

validator_version=0.9.0
# A plain `pip install --target` (no venv: Debian's python3 may lack python3-venv).
tools="${LAT_TOOLS_DIR:-$HOME/.cache/lat/tools}/openapi-$validator_version"
python=${PYTHON:-python3}

if [ ! -f "$tools/.complete" ]; then
  echo "installing openapi-spec-validator $validator_version into $tools" >&2
  rm -rf "$tools"
  mkdir -p "$tools"
  PIP_ROOT_USER_ACTION=ignore "$python" -m pip install -q --disable-pip-version-check --no-warn-conflicts --target "$tools" \
    "openapi-spec-validator==$validator_version"
  touch "$tools/.complete"
fi

# Prints `openapi.yaml: OK`, or the validator's message and a non-zero status.
PYTHONPATH="$tools" "$python" -m openapi_spec_validator --schema 3.0 openapi.yaml
